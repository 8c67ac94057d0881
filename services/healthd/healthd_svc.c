/* The services healthd knows and their one state machine (watchfrr's states): a hello makes
 * a service up, its pid's end (a pidfd, or ev_child for what we started) makes it down at
 * once, missed heartbeats make it unresponsive, and on another host, down. */
#include "healthd_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "log.h"
#include "timer.h"

const char *
hsvc_state_name(hstate s)
{
	switch (s) {
	case HS(INIT): return "init";
	case HS(UP): return "up";
	case HS(UNRESPONSIVE): return "unresponsive";
	case HS(DOWN): return "down";
	default: return "?";
	}
}

static uint64_t
hsvc_hash(const char *name)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a: an id for timers, not a secret */

	for (; *name != '\0'; name++)
		h = (h ^ (uint8_t)*name) * 1099511628211ULL;
	return h != 0 ? h : 1;
}

struct hsvc *
hsvc_find(struct healthd *hd, const char *name)
{
	struct hsvc *s;

	for (s = hd->svcs; s != NULL; s = s->next) {
		if (strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

struct hsvc *
hsvc_by_id(struct healthd *hd, uint64_t id)
{
	struct hsvc *s;

	for (s = hd->svcs; s != NULL; s = s->next) {
		if (s->id == id)
			return s;
	}
	return NULL;
}

struct hsvc *
hsvc_get(struct healthd *hd, const char *name)
{
	struct hsvc *s, **pp;

	if ((s = hsvc_find(hd, name)) != NULL)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->id = hsvc_hash(name);
	s->state = HS(INIT);
	s->pidfd = -1;
	s->hd = hd;
	s->since_ns = realtime_ns();
	for (pp = &hd->svcs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = s;
	return s;
}

void
hsvc_unwatch(struct hsvc *s)
{
	if (s->pidfd >= 0) {
		ev_io_stop(s->hd->loop, &s->pidfd_w);
		close(s->pidfd);
		s->pidfd = -1;
	}
	if (s->ours)
		ev_child_stop(s->hd->loop, &s->child_w);
	s->ours = false;
}

static void
hsvc_pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hsvc *s = w->data;
	char cause[96];

	(void)loop;
	(void)revents;
	snprintf(cause, sizeof(cause), "pid %d exited (not started by this healthd: status "
	    "unknown)", (int)s->pid);
	hsvc_unwatch(s);
	hsvc_transition(s->hd, s, HSVC_EXITED, &(struct hsvc_input){ .cause = cause });
}

/* When pid started, as CLOCK_REALTIME ns: /proc's start time is in ticks of the boot
 * clock. 0 if unknown. */
static uint64_t
hsvc_pid_started_ns(pid_t pid)
{
	struct timespec rt, bt;
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* The command may hold spaces and parentheses: fields count from the last ')'. */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 0;
	for (i = 0; i < 20 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &ticks) != 1 || hz <= 0 ||
	    clock_gettime(CLOCK_REALTIME, &rt) != 0 || clock_gettime(CLOCK_BOOTTIME, &bt) != 0)
		return 0;
	return (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec -
	    ((uint64_t)bt.tv_sec * 1000000000ULL + (uint64_t)bt.tv_nsec) +
	    ticks * (1000000000ULL / (uint64_t)hz);
}

bool
hsvc_watch_pid(struct hsvc *s, pid_t pid, uint64_t started_ns)
{
	uint64_t at;
	int fd;

	if (pid <= 0)
		return false;
	if (s->ours && s->pid == pid)
		return true; /* our child already: ev_child has it */
	hsvc_unwatch(s);
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return false;
	/* The same pid in another pid namespace, or a pid reused: not the hello's process. The
	 * hello's start time is taken when its bus starts, a moment after the exec. */
	if (started_ns != 0 && ((at = hsvc_pid_started_ns(pid)) == 0 ||
	    (at > started_ns ? at - started_ns : started_ns - at) > 5000000000ULL)) {
		close(fd);
		return false;
	}
	s->pidfd = fd;
	s->pid = pid;
	s->pidfd_w.data = s;
	ev_io_init(&s->pidfd_w, hsvc_pidfd_cb, fd, EV_READ);
	ev_io_start(s->hd->loop, &s->pidfd_w);
	return true;
}

static void
hsvc_set_cause(struct hsvc *s, const char *cause)
{
	snprintf(s->cause, sizeof(s->cause), "%s", cause != NULL ? cause : "");
}

/* Takes the hello's process as the service's. */
static void
hsvc_take_hello(struct healthd *hd, struct hsvc *s, const Picsec__V1__ServiceHello *h)
{
	bool same_host = h->hostname != NULL && strcmp(h->hostname, hd->hostname) == 0;

	s->incarnation = h->incarnation;
	s->started_ns = h->started_ns;
	s->heartbeat_ms = h->heartbeat_ms; /* 0: none (busd), watched by its pid only */
	snprintf(s->hostname, sizeof(s->hostname), "%s", h->hostname != NULL ? h->hostname : "");
	snprintf(s->version, sizeof(s->version), "%s", h->version != NULL ? h->version : "");
	s->known = true;
	s->local = same_host && hsvc_watch_pid(s, (pid_t)h->pid, h->started_ns);
	s->pid = (pid_t)h->pid;
	if (same_host && !s->local)
		log_info("%s: pid %u is not visible here (another pid namespace?): watched by its "
		    "heartbeats", s->name, h->pid);
}

static void
hsvc_enter(struct healthd *hd, struct hsvc *s, hstate to, const char *cause)
{
	hstate from = s->state;

	if (from == to)
		return;
	s->state = to;
	s->since_ns = realtime_ns();
	if (to == HS(DOWN) || to == HS(UNRESPONSIVE))
		hsvc_set_cause(s, cause);
	if (to == HS(UP))
		s->up_ms = monotonic_ms();
	log_info("%s: %s -> %s%s%s", s->name, hsvc_state_name(from), hsvc_state_name(to),
	    cause != NULL ? ": " : "", cause != NULL ? cause : "");
	healthd_publish_state(hd, s, from);
	if (to == HS(DOWN) && s->spec != NULL)
		healthd_schedule(hd, s);
	if (to == HS(UP))
		healthd_kick(hd);
	healthd_status(hd);
}

void
hsvc_transition(struct healthd *hd, struct hsvc *s, enum hsvc_event ev,
    const struct hsvc_input *in)
{
	const Picsec__V1__ServiceHello *h = in != NULL ? in->hello : NULL;
	char cause[160];

	switch (ev) {
	case HSVC_SPAWNED:
		/* The old incarnation stays until the hello: the new one is then a restart. */
		s->pid = in->pid;
		s->local = true;
		s->last_heard_ms = monotonic_ms();
		hsvc_enter(hd, s, HS(INIT), NULL);
		break;
	case HSVC_HELLO:
		s->last_heard_ms = monotonic_ms();
		if (s->known && h->incarnation == s->incarnation) {
			/* The same process registering again (busd restarted). */
			if (s->state != HS(UP))
				hsvc_enter(hd, s, HS(UP), "heard again");
			break;
		}
		if (s->known && s->state != HS(DOWN) && s->state != HS(INIT)) {
			/* A new incarnation while we thought the old one alive: it restarted
			 * unseen (we were away, or it is on another host). */
			snprintf(cause, sizeof(cause), "replaced by a new incarnation %016" PRIx64
			    " (pid %u)", h->incarnation, h->pid);
			hsvc_unwatch(s);
			hsvc_enter(hd, s, HS(DOWN), cause);
		}
		if (s->known && s->incarnation != 0 && s->incarnation != h->incarnation)
			s->restarts++;
		hsvc_take_hello(hd, s, h);
		hsvc_enter(hd, s, HS(UP), NULL);
		break;
	case HSVC_HEARTBEAT:
		s->last_heard_ms = monotonic_ms();
		if (s->state == HS(UNRESPONSIVE))
			hsvc_enter(hd, s, HS(UP), "heartbeats again");
		break;
	case HSVC_EXITED:
		hsvc_unwatch(s);
		hsvc_enter(hd, s, HS(DOWN), in->cause);
		s->pid = 0;
		break;
	case HSVC_SILENT:
		if (s->state == HS(UP))
			hsvc_enter(hd, s, HS(UNRESPONSIVE), in->cause);
		break;
	case HSVC_LOST:
		if (s->state == HS(UP) || s->state == HS(UNRESPONSIVE))
			hsvc_enter(hd, s, HS(DOWN), in->cause);
		break;
	}
}

void
hsvc_check(struct healthd *hd)
{
	uint64_t now = monotonic_ms(), quiet, beat;
	struct hsvc *s, *next;
	char cause[96];

	/* Without our bus, or just back on it, nobody's heartbeats could reach us. */
	if (hd->registered_ms == 0 || now - hd->registered_ms < HEALTHD_GRACE_MS)
		return;
	/* Our own heartbeats come back through busd: when they do not, busd is stuck (a
	 * hang, SIGSTOP), not everyone else. */
	if ((s = hsvc_find(hd, "healthd")) != NULL && s->known && s->heartbeat_ms != 0 &&
	    now - s->last_heard_ms > HEALTHD_SILENT_BEATS * s->heartbeat_ms) {
		if ((next = hsvc_find(hd, "busd")) != NULL && next->state == HS(UP)) {
			snprintf(cause, sizeof(cause), "our own heartbeats have not come back "
			    "through it for %.1f s", (double)(now - s->last_heard_ms) / 1000.0);
			hsvc_transition(hd, next, HSVC_SILENT, &(struct hsvc_input){
			    .cause = cause });
		}
		if (next != NULL && next->spec != NULL && next->state == HS(UNRESPONSIVE) &&
		    (double)(now - s->last_heard_ms) / 1000.0 > hd->opts.hang_timeout)
			healthd_hang_kill(hd, next);
		return;
	}
	for (s = hd->svcs; s != NULL; s = next) {
		next = s->next;
		if (!s->known || s->heartbeat_ms == 0 || strcmp(s->name, "healthd") == 0)
			continue;
		beat = s->heartbeat_ms;
		quiet = now - s->last_heard_ms;
		snprintf(cause, sizeof(cause), "no heartbeat for %.1f s", (double)quiet / 1000.0);
		if (quiet > HEALTHD_SILENT_BEATS * beat)
			hsvc_transition(hd, s, HSVC_SILENT, &(struct hsvc_input){ .cause = cause });
		if (!s->local && quiet > HEALTHD_LOST_BEATS * beat)
			hsvc_transition(hd, s, HSVC_LOST, &(struct hsvc_input){ .cause = cause });
		if (s->local && s->spec != NULL && s->state == HS(UNRESPONSIVE) &&
		    (double)quiet / 1000.0 > hd->opts.hang_timeout)
			healthd_hang_kill(hd, s);
	}
}

void
hsvc_free_all(struct healthd *hd)
{
	struct hsvc *s, *next;

	for (s = hd->svcs; s != NULL; s = next) {
		next = s->next;
		hsvc_unwatch(s);
		timers_cancel(hd->timers, s->start_timer);
		timers_cancel(hd->timers, s->kill_timer);
		free(s);
	}
	hd->svcs = NULL;
}
