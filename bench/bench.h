/* bench_bus: the bus's throughput and latency beside the same traffic on a direct ZeroMQ
 * connection. Every role runs in a process of its own (fork); the parent only starts them,
 * waits, and prints what they left in a shared results page. */
#ifndef PICSEC_BENCH_H
#define PICSEC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

/* What one event run saw. Children update it live, so whatever they did before a deadline or
 * a crash is still there for the report. */
struct bench_events {
	uint64_t offered;     /* publish calls that returned success */
	uint64_t send_failed; /* publish calls that failed */
	double send_s;	      /* the publisher's time for all of them */
	uint64_t received;    /* measured events the subscriber got */
	uint64_t first_ns, last_ns;
	bool synced;	      /* the subscriber saw a probe: the path was up */
	bool busd_seen;	      /* busd_forwarded is valid */
	uint64_t busd_forwarded; /* events busd forwarded during the run */
	char error[160];
};

struct bench_requests {
	uint64_t done;	 /* measured round trips */
	uint64_t failed; /* errors and timeouts */
	double p50_us, p99_us, max_us, mean_us;
	char error[160];
};

struct bench_results {
	struct bench_events ev_bus, ev_direct;
	struct bench_requests rq_bus, rq_direct;
};

struct bench {
	const char *busd;
	char dir[64];	      /* the temporary runtime directory: every socket lives here */
	uint64_t events;
	uint64_t requests;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC: every loop in every process ends by then */
	bool verbose;
	struct bench_results *res; /* MAP_SHARED: written by the children */
};

/* The events every run offers (topic "bench.x") and the probes that come first. */
#define BENCH_TOPIC_PREFIX "bench."
#define BENCH_TOPIC_EVENT "bench.x"
#define BENCH_TOPIC_PROBE "bench.probe"
/* Our side of every socket matches the bus client's (ipc/bus.c), so both runs drop alike. */
enum { BENCH_EVENT_HWM = 100000, BENCH_WARMUP = 500 };

/* A role: runs in a child process with one end of a pipe (or -1) and its results. */
typedef void bench_role_fn(const struct bench *b, int fd, void *out);

/* bench_bus.c */
bool bench_expired(const struct bench *b);
/* Milliseconds left before the deadline, at least 0, at most cap. */
int bench_left_ms(const struct bench *b, int cap);
void bench_endpoint(const struct bench *b, const char *name, char *out, size_t outlen);
/* Sorts ns[0..n) and fills the percentiles of out. */
void bench_latency_summary(uint64_t *ns, size_t n, struct bench_requests *out);
/* Sends [first][env], or [env] when first is NULL, without waiting. Takes env (from
 * envelope_pack()) the way the bus client does: no copy, wiped when ZeroMQ is done. */
int bench_send_packed(void *sock, const char *first, void *env, size_t len);
int bench_fork(const struct bench *b, bench_role_fn *fn, int fd, int close_fd, void *out);
void bench_reap(int pid, uint64_t grace_ms);

/* bench_events.c: one events run, bus or direct; returns when both sides are done. */
void bench_events_run(const struct bench *b, bool direct);

/* bench_requests.c: one request run, bus or direct. */
void bench_requests_run(const struct bench *b, bool direct);

#endif
