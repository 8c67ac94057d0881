/* Events: N Heartbeats on "bench.x" from a publisher process to a subscriber process, once
 * through picsec-busd with two bus clients and once on a direct PUB -> SUB pair carrying the
 * same packed envelopes. The publisher probes until the subscriber has seen a probe (a PUB
 * drops whatever it sends before the subscription reaches it, and that is not loss), then
 * sends the N events as fast as it can. The subscriber times first to last received. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <zmq.h>

#include "bench.h"
#include "bus.h"
#include "bus.pb-c.h"
#include "endpoints.h"
#include "envelope.h"
#include "secbuf.h"

enum {
	EVENTS_PROBE_MS = 10,
	EVENTS_IDLE_NS = 1000000000, /* nothing for this long after the probe: the rest is lost */
	EVENTS_BATCH = 512,
};

/* On the pipe from subscriber to publisher. */
#define EVENTS_SYNCED 'r'
#define EVENTS_DONE 'd'

/* The same payload on both paths; the index makes each event distinct. */
static void
events_payload(Picsec__V1__Heartbeat *hb, uint64_t i)
{
	hb->uptime_ms = 86400000;
	hb->sent = i;
	hb->received = i;
}

/* -- the subscriber's side, for both paths */

struct events_sub {
	const struct bench *b;
	struct bench_events *out;
	int fd;		    /* to the publisher */
	uint64_t active_ns; /* when anything last arrived */
};

static bool
events_topic_is(const char *topic, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(topic, want, len) == 0;
}

/* Counts one received event; true when all N are in. */
static bool
events_note(struct events_sub *s, const char *topic, size_t len)
{
	char c = EVENTS_SYNCED;
	uint64_t now = monotonic_ns();

	s->active_ns = now;
	if (events_topic_is(topic, len, BENCH_TOPIC_PROBE)) {
		if (!s->out->synced && write(s->fd, &c, 1) == 1)
			s->out->synced = true;
		return false;
	}
	if (!events_topic_is(topic, len, BENCH_TOPIC_EVENT))
		return false;
	if (s->out->received++ == 0)
		s->out->first_ns = now;
	s->out->last_ns = now;
	return s->out->received == s->b->events;
}

/* True when the run is over without all N: timeout, or a silence after the flow began. */
static bool
events_idle(const struct events_sub *s)
{
	return bench_expired(s->b) ||
	    (s->out->synced && monotonic_ns() - s->active_ns > EVENTS_IDLE_NS);
}

static void
events_sub_done(struct events_sub *s)
{
	char c = EVENTS_DONE;

	if (write(s->fd, &c, 1) == -1)
		return; /* the publisher is gone; it has its own deadline */
}

static void
events_bus_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const char *topic = bus_msg_topic(m);

	(void)payload;
	if (events_note(ctx, topic, strlen(topic)))
		ev_break(bus_loop(bus_msg_bus(m)), EVBREAK_ONE);
}

static void
events_bus_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	if (events_idle(w->data))
		ev_break(loop, EVBREAK_ONE);
}

static void
events_bus_sub(const struct bench *b, int fd, void *arg)
{
	struct events_sub s = { .b = b, .out = arg, .fd = fd };
	struct bus_handler handlers[MT(HEARTBEAT) + 1] = {
		[MT(HEARTBEAT)] = { events_bus_event },
	};
	struct bus_options opts = { .service = "bench-sub", .anonymous = true, .rundir = b->dir };
	struct ev_loop *loop = ev_default_loop(0);
	struct bus *bus;
	ev_timer tick;

	bus = bus_new(loop, &opts, s.out->error, sizeof(s.out->error));
	if (bus == NULL)
		goto out;
	bus_set_handlers(bus, handlers, ARRAY_SIZE(handlers), &s);
	if (bus_subscribe(bus, BENCH_TOPIC_PREFIX) == -1) {
		snprintf(s.out->error, sizeof(s.out->error), "subscribe: %s",
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	ev_timer_init(&tick, events_bus_tick, 0.05, 0.05);
	tick.data = &s;
	ev_timer_start(loop, &tick);
	ev_run(loop, 0);
	ev_timer_stop(loop, &tick);
out:
	events_sub_done(&s);
	bus_free(bus);
}

static void
events_direct_sub(const struct bench *b, int fd, void *arg)
{
	struct events_sub s = { .b = b, .out = arg, .fd = fd };
	char ep[BUS_ENDPOINT_MAX];
	void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_SUB);
	int hwm = BENCH_EVENT_HWM, zero = 0, n;
	zmq_pollitem_t item = { .socket = sock, .events = ZMQ_POLLIN };
	zmq_msg_t topic, body;
	bool done = false;

	bench_endpoint(b, "direct-events.sock", ep, sizeof(ep));
	if (sock == NULL || zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) == -1 ||
	    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_setsockopt(sock, ZMQ_SUBSCRIBE, BENCH_TOPIC_PREFIX,
	    strlen(BENCH_TOPIC_PREFIX)) == -1 || zmq_bind(sock, ep) == -1) {
		snprintf(s.out->error, sizeof(s.out->error), "SUB: %s",
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	while (!done && !events_idle(&s)) {
		if (zmq_poll(&item, 1, 50) == -1 && zmq_errno() != EINTR)
			break;
		/* A batch at a time, so the idle and deadline checks still run in a flood. */
		for (n = 0; n < EVENTS_BATCH && !done; n++) {
			zmq_msg_init(&topic);
			zmq_msg_init(&body);
			if (zmq_msg_recv(&topic, sock, ZMQ_DONTWAIT) == -1) {
				zmq_msg_close(&topic);
				zmq_msg_close(&body);
				break;
			}
			if (zmq_msg_more(&topic) && zmq_msg_recv(&body, sock, 0) != -1)
				done = events_note(&s, zmq_msg_data(&topic), zmq_msg_size(&topic));
			zmq_msg_close(&topic);
			zmq_msg_close(&body);
		}
	}
out:
	events_sub_done(&s);
	if (sock != NULL)
		zmq_close(sock);
	zmq_ctx_term(ctx);
}

/* -- the publisher's side, for both paths */

typedef int events_send_fn(void *arg, const char *topic, uint64_t i);
/* Called before the first measured event and after the subscriber is done (may be NULL). */
typedef void events_mark_fn(void *arg, struct bench_events *out, bool done);

static void
events_publish(const struct bench *b, int fd, struct bench_events *out, events_send_fn *send,
    events_mark_fn *mark, void *arg)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t i, t0;
	char c = 0;

	for (i = 0; c != EVENTS_SYNCED; i++) {
		if (bench_expired(b)) {
			snprintf(out->error, sizeof(out->error), "no probe got through");
			return;
		}
		send(arg, BENCH_TOPIC_PROBE, i);
		if (poll(&pfd, 1, EVENTS_PROBE_MS) == 1 && read(fd, &c, 1) != 1)
			return; /* the subscriber is gone: its error says why */
	}
	if (mark != NULL)
		mark(arg, out, false);
	t0 = monotonic_ns();
	for (i = 0; i < b->events; i++) {
		if (send(arg, BENCH_TOPIC_EVENT, i) == 0)
			out->offered++;
		else
			out->send_failed++;
		if ((i & 4095) == 4095 && bench_expired(b))
			break;
	}
	out->send_s = (double)(monotonic_ns() - t0) / 1e9;
	/* Closing now would throw away what is still queued: wait for the subscriber. */
	while (c != EVENTS_DONE && poll(&pfd, 1, bench_left_ms(b, 1000)) >= 0 &&
	    !bench_expired(b)) {
		if ((pfd.revents & (POLLIN | POLLHUP)) != 0 && read(fd, &c, 1) != 1)
			break;
	}
	if (mark != NULL)
		mark(arg, out, true);
}

static int
events_bus_send(void *arg, const char *topic, uint64_t i)
{
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;

	events_payload(&hb, i);
	return bus_publish(arg, topic, MT(HEARTBEAT), &hb.base);
}

/* busd's count of events it forwarded, before and after: it splits the loss into what never
 * reached busd (dropped at the publisher's PUB) and what busd dropped towards the
 * subscriber (its XPUB) or the subscriber's queue did. */
static void
events_bus_mark(void *arg, struct bench_events *out, bool done)
{
	Picsec__V1__BusGetStats get = PICSEC__V1__BUS_GET_STATS__INIT;
	const struct bus_result *res;
	struct bus_call_result *r;
	uint64_t n;

	if (bus_call(arg, "busd", MT(BUS_GET_STATS), &get.base, 3000, &r) == -1 || r == NULL ||
	    (res = bus_call_get(r))->type != MT(BUS_STATS)) {
		out->busd_seen = false;
		bus_call_result_free(r);
		return;
	}
	n = ((const Picsec__V1__BusStats *)res->msg)->events_forwarded;
	bus_call_result_free(r);
	if (!done) {
		out->busd_forwarded = n;
		out->busd_seen = true;
	} else {
		out->busd_forwarded = n - out->busd_forwarded;
	}
}

static void
events_bus_pub(const struct bench *b, int fd, void *arg)
{
	struct bench_events *out = arg;
	struct bus_options opts = { .service = "bench-pub", .anonymous = true, .rundir = b->dir };
	struct ev_loop *loop = ev_default_loop(0);
	struct bus *bus;

	bus = bus_new(loop, &opts, out->error, sizeof(out->error));
	if (bus == NULL)
		goto out;
	if (bus_wait_ready(bus, (unsigned)bench_left_ms(b, 5000)) == -1) {
		snprintf(out->error, sizeof(out->error), "the publisher never connected to busd");
		goto out;
	}
	events_publish(b, fd, out, events_bus_send, events_bus_mark, bus);
out:
	bus_free(bus);
}

struct events_direct {
	void *sock;
	struct env_source src;
	uint64_t seq;
};

/* What bus_publish() does, minus the bus: pack the envelope, send [topic][envelope]. */
static int
events_direct_send(void *arg, const char *topic, uint64_t i)
{
	struct events_direct *d = arg;
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;
	struct env_header hdr = { .type = MT(HEARTBEAT), .seq = ++d->seq };
	size_t len;
	void *env;

	events_payload(&hb, i);
	env = envelope_pack(&d->src, &hdr, &hb.base, &len);
	if (env == NULL)
		return -1;
	return bench_send_packed(d->sock, topic, env, len);
}

static void
events_direct_pub(const struct bench *b, int fd, void *arg)
{
	struct bench_events *out = arg;
	/* Any non-zero incarnation packs to the same 9 bytes as the bus client's random one. */
	struct events_direct d = {
		.src = { .service = "bench-pub", .instance = "",
		    .incarnation = 0x5eed5eed5eed5eedULL },
	};
	char ep[BUS_ENDPOINT_MAX];
	void *ctx = zmq_ctx_new();
	int hwm = BENCH_EVENT_HWM, zero = 0;

	bench_endpoint(b, "direct-events.sock", ep, sizeof(ep));
	d.sock = zmq_socket(ctx, ZMQ_PUB);
	if (d.sock == NULL || zmq_setsockopt(d.sock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) == -1 ||
	    zmq_setsockopt(d.sock, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_connect(d.sock, ep) == -1) {
		snprintf(out->error, sizeof(out->error), "PUB: %s",
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	events_publish(b, fd, out, events_direct_send, NULL, &d);
out:
	if (d.sock != NULL)
		zmq_close(d.sock);
	zmq_ctx_term(ctx);
}

void
bench_events_run(const struct bench *b, bool direct)
{
	struct bench_events *out = direct ? &b->res->ev_direct : &b->res->ev_bus;
	uint64_t until = b->deadline_ns + 5000000000ULL;
	int p[2], sub, pub;

	if (pipe(p) == -1) {
		snprintf(out->error, sizeof(out->error), "pipe: %s", strerror(errno));
		return;
	}
	/* The subscriber writes p[1]; the publisher reads p[0] and sees EOF if it dies. */
	sub = bench_fork(b, direct ? events_direct_sub : events_bus_sub, p[1], p[0], out);
	pub = bench_fork(b, direct ? events_direct_pub : events_bus_pub, p[0], p[1], out);
	close(p[0]);
	close(p[1]);
	bench_reap(pub, until);
	bench_reap(sub, until);
}
