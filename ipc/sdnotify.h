/* systemd readiness and watchdog, a no-op when not started by systemd (no NOTIFY_SOCKET). */
#ifndef PICSEC_SDNOTIFY_H
#define PICSEC_SDNOTIFY_H

struct ev_loop;

/* Sends READY=1 with STATUS=status, and starts the WATCHDOG=1 pings at half the interval
 * systemd asked for (WatchdogSec=), on the loop. */
void sdnotify_ready(struct ev_loop *loop, const char *status);
/* Updates STATUS= (shown by systemctl status). */
void sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sends STOPPING=1 and stops the watchdog pings. */
void sdnotify_stopping(void);

#endif
