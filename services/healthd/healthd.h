/* picsec-healthd: watches every process of the suite (hellos, pidfds, heartbeats), publishes
 * their states on "service.*" and the local addresses on "iface.*"; with --supervise it also
 * starts the suite and restarts what dies. */
#ifndef PICSEC_HEALTHD_H
#define PICSEC_HEALTHD_H

#include <stdbool.h>
#include <stddef.h>

struct bus;
struct ev_loop;
struct healthd;

enum { HEALTHD_MAX_PICS = 16, HEALTHD_MAX_ARGS = 16 };

struct healthd_options {
	const char *rundir;	   /* the bus's, passed on to what it starts */
	bool supervise;		   /* start the suite and restart what dies */
	const char *statedir;	   /* --supervise: configd's and sadb's */
	const char *logdir;	   /* --supervise: each process logs to LOGDIR/picsec-NAME.log */
	const char *bindir;	   /* --supervise: where picsec-* are (env PICSEC_BUSD ... win) */
	const char *pics[HEALTHD_MAX_PICS]; /* --supervise: one picsec-fwd each */
	size_t npics;
	const char *extra[HEALTHD_MAX_ARGS]; /* "iked=--lifetime-divisor 200" */
	size_t nextra;
	double restart_min, restart_max; /* back-off bounds, seconds */
	double stable_after;	   /* lived this long: the next restart is at restart_min */
	double hang_timeout;	   /* --supervise: unresponsive this long: killed */
};

struct healthd *healthd_new(struct ev_loop *loop, struct bus *bus,
    const struct healthd_options *opts, char *err, size_t errlen);
/* Stops what it supervises (SIGTERM, then SIGKILL after 3 s) and frees. */
void healthd_free(struct healthd *hd);

#endif
