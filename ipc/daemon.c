/* The daemons' common start and end (daemon.h). */
#include "daemon.h"

#include <signal.h>

#include <ev.h>

#include "log.h"
#include "sdnotify.h"

static ev_signal stop_int, stop_term;

static void
daemon_on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

void
daemon_signals(struct ev_loop *loop)
{
	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&stop_int, daemon_on_signal, SIGINT);
	ev_signal_init(&stop_term, daemon_on_signal, SIGTERM);
	ev_signal_start(loop, &stop_int);
	ev_signal_start(loop, &stop_term);
}

void
daemon_run(struct ev_loop *loop, const char *status)
{
	sdnotify_ready(loop, status);
	ev_run(loop, 0);
	sdnotify_stopping();
	ev_signal_stop(loop, &stop_int);
	ev_signal_stop(loop, &stop_term);
}
