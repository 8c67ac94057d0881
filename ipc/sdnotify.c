#include "sdnotify.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>
#include <systemd/sd-daemon.h>

#include "log.h"

static ev_timer sdnotify_watchdog;
static struct ev_loop *sdnotify_loop;

static void
sdnotify_ping(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sd_notify(0, "WATCHDOG=1");
}

void
sdnotify_ready(struct ev_loop *loop, const char *status)
{
	uint64_t usec = 0;

	sd_notifyf(0, "READY=1\nSTATUS=%s", status != NULL ? status : "running");
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	/* Half the interval: one late ping must not get us killed. */
	sdnotify_loop = loop;
	ev_timer_init(&sdnotify_watchdog, sdnotify_ping, 0., (double)usec / 2e6);
	ev_timer_again(loop, &sdnotify_watchdog);
	/* The pings alone must not keep the loop running when everything else has stopped. */
	ev_unref(loop);
	log_debug("systemd watchdog every %.1f s", (double)usec / 2e6);
}

void
sdnotify_status(const char *fmt, ...)
{
	char status[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", status);
}

void
sdnotify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
	if (sdnotify_loop != NULL && ev_is_active(&sdnotify_watchdog)) {
		ev_ref(sdnotify_loop);
		ev_timer_stop(sdnotify_loop, &sdnotify_watchdog);
	}
}
