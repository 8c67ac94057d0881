/* picsec-healthd, private: the services it knows, their states, what it starts, and the
 * addresses and links it watches. */
#ifndef PICSEC_HEALTHD_IMPL_H
#define PICSEC_HEALTHD_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "bus.pb-c.h"
#include "health.pb-c.h"
#include "healthd.h"

struct bus;
struct timers;
struct healthd_nl;

enum {
	HEALTHD_NAME_MAX = 64,
	HEALTHD_SILENT_BEATS = 3,   /* heartbeats missed: unresponsive */
	HEALTHD_LOST_BEATS = 5,	    /* heartbeats missed by a process on another host: down */
	HEALTHD_GRACE_MS = 3000,    /* after our (re)registration: heartbeats are not judged */
	HEALTHD_ADOPT_MS = 1000,    /* --supervise: hellos of what runs already, before starts */
	HEALTHD_START_TICKS_HZ = 100,
};

typedef Picsec__V1__ServiceStateKind hstate;
#define HS(x) PICSEC__V1__SERVICE_STATE_KIND__SERVICE_##x

/* What can happen to a service: the inputs of its one transition function. */
enum hsvc_event {
	HSVC_SPAWNED,	/* we started it (pid) */
	HSVC_HELLO,	/* its hello (a new incarnation, or the same one again) */
	HSVC_HEARTBEAT,
	HSVC_EXITED,	/* its pid is gone (cause) */
	HSVC_SILENT,	/* no heartbeat for HEALTHD_SILENT_BEATS */
	HSVC_LOST,	/* on another host, no heartbeat for HEALTHD_LOST_BEATS */
};

struct hsvc_input {
	const Picsec__V1__ServiceHello *hello; /* HSVC_HELLO */
	pid_t pid;			       /* HSVC_SPAWNED */
	const char *cause;		       /* HSVC_EXITED, HSVC_SILENT, HSVC_LOST */
};

/* What --supervise starts: one per process of the suite, in start order. */
struct hspec {
	char name[HEALTHD_NAME_MAX];	/* its bus name: "sadb", "fwd.ms-0/0/0" */
	char path[512];
	char *argv[HEALTHD_MAX_ARGS * 2 + 8];
	size_t argc;
	char argbuf[2048];
	const char *deps[2];		/* names that must be up before it starts */
};

struct hsvc {
	struct hsvc *next;
	uint64_t id;			/* hash of the name: what timers hold */
	char name[HEALTHD_NAME_MAX];
	hstate state;
	bool known;			/* a hello was seen (or we started it) */
	pid_t pid;
	int pidfd;			/* a local process not ours: its death, at once */
	ev_io pidfd_w;
	ev_child child_w;		/* a process we started: its death and status */
	bool ours;
	uint64_t incarnation, started_ns, since_ns, last_heard_ms, up_ms;
	uint32_t restarts, heartbeat_ms;
	bool local;
	char hostname[64], version[32], cause[160];
	struct healthd *hd;
	/* --supervise */
	struct hspec *spec;
	uint64_t start_timer, kill_timer;
	double backoff;
	uint64_t next_start_ms;		/* monotonic: when the pending start is due */
};

struct healthd {
	struct ev_loop *loop;
	struct bus *bus;
	struct timers *timers;
	struct healthd_options opts;
	struct hsvc *svcs;		/* in start order (specs first), then as heard of */
	struct hspec *specs;
	size_t nspecs;
	uint64_t registered_ms;		/* our last (re)registration: the grace starts */
	uint64_t check_timer, adopt_timer;
	bool adopting;			/* --supervise: waiting for hellos before starts */
	bool stopping;
	uint64_t started_ns;
	char hostname[64];
	struct healthd_nl *nl;
};

/* healthd_svc.c: the table and the state machine. */
struct hsvc *hsvc_find(struct healthd *hd, const char *name);
struct hsvc *hsvc_get(struct healthd *hd, const char *name); /* created (INIT) if new */
struct hsvc *hsvc_by_id(struct healthd *hd, uint64_t id);
void hsvc_transition(struct healthd *hd, struct hsvc *s, enum hsvc_event ev,
    const struct hsvc_input *in);
/* Heartbeats judged: unresponsive, lost; hangs killed (--supervise). */
void hsvc_check(struct healthd *hd);
void hsvc_free_all(struct healthd *hd);
const char *hsvc_state_name(hstate s);
/* Watches a local pid we did not start (its pidfd); false if it is not there or is
 * another process than the hello's (started_ns), when started_ns is not 0. */
bool hsvc_watch_pid(struct hsvc *s, pid_t pid, uint64_t started_ns);
void hsvc_unwatch(struct hsvc *s);

/* healthd_spawn.c: --supervise. */
int healthd_specs_build(struct healthd *hd, char *err, size_t errlen);
/* Starts, now or after the back-off, whatever supervised is down and has its deps up. */
void healthd_kick(struct healthd *hd);
/* A supervised service went down: its restart, after the back-off. */
void healthd_schedule(struct healthd *hd, struct hsvc *s);
/* busd, if it runs already: adopted from its locked pid file. */
void healthd_adopt_busd(struct healthd *hd);
void healthd_stop_suite(struct healthd *hd);
void healthd_hang_kill(struct healthd *hd, struct hsvc *s);

/* healthd_nl.c: addresses and links, from rtnetlink. */
struct healthd_nl *healthd_nl_new(struct healthd *hd, char *err, size_t errlen);
void healthd_nl_free(struct healthd_nl *nl);
/* Fills st with one entry per address asked (free with healthd_nl_state_free). */
void healthd_nl_state(struct healthd_nl *nl, const Picsec__V1__IfaceGetState *q,
    Picsec__V1__IfaceState *st);
void healthd_nl_state_free(Picsec__V1__IfaceState *st);

/* healthd.c */
void healthd_publish_state(struct healthd *hd, const struct hsvc *s, hstate previous);
void healthd_status(struct healthd *hd);

#endif
