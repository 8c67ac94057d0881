/* What every picsec daemon's main.c does around its own set-up: SIGINT and SIGTERM stop
 * the loop (caught before the set-up, so that a stop during start-up is a clean stop),
 * SIGPIPE is ignored, and systemd hears READY, the status and STOPPING. */
#ifndef PICSEC_DAEMON_H
#define PICSEC_DAEMON_H

struct ev_loop;

/* Catches the stop signals on loop (one loop per process). Call right after creating it. */
void daemon_signals(struct ev_loop *loop);
/* READY=1 with status, the loop until a stop signal, STOPPING=1. */
void daemon_run(struct ev_loop *loop, const char *status);

#endif
