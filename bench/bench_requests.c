/* Requests: M sequential round trips, each timed with CLOCK_MONOTONIC from before the request
 * is packed to when its answer is in. Through busd: a bus client pings the service "echo"
 * (the library answers Ping by itself), the next request sent from the reply's callback.
 * Direct: a DEALER sends the same packed envelope to a ROUTER that opens it and answers with a
 * packed Pong, and the client opens that: the work at both ends is the library's, so the
 * difference is the broker (two more hops and busd's routing).
 * The first BENCH_WARMUP round trips of each are not counted (connections, caches). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <zmq.h>

#include "bench.h"
#include "bus.h"
#include "bus.pb-c.h"
#include "endpoints.h"
#include "envelope.h"
#include "secbuf.h"

enum { REQUESTS_TIMEOUT_MS = 2000 };

/* Keeps the first error: the later ones are usually its consequences. */
static void __attribute__((format(printf, 2, 3)))
requests_error(struct bench_requests *out, const char *fmt, ...)
{
	va_list ap;

	if (out->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
}

/* -- through busd */

static void
requests_stop(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* The service: a named bus client with no handlers; it runs until killed or the deadline. */
static void
requests_bus_echo(const struct bench *b, int fd, void *arg)
{
	struct bench_requests *out = arg;
	struct bus_options opts = { .service = "echo", .rundir = b->dir };
	struct ev_loop *loop = ev_default_loop(0);
	struct bus *bus;
	ev_timer stop;

	(void)fd;
	bus = bus_new(loop, &opts, out->error, sizeof(out->error));
	if (bus == NULL)
		return;
	ev_timer_init(&stop, requests_stop, bench_left_ms(b, 3600 * 1000) / 1000.0, 0.);
	ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	ev_timer_stop(loop, &stop);
	bus_free(bus);
}

struct requests_bus {
	const struct bench *b;
	struct bench_requests *out;
	struct bus *bus;
	uint64_t *ns;	/* the measured round trips */
	uint64_t next;	/* the next request's index, warm-up included */
	uint64_t total;
	uint64_t t0;
};

static void requests_bus_send(struct requests_bus *s);

static void
requests_bus_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct requests_bus *s = ctx;
	uint64_t rtt = monotonic_ns() - s->t0;

	if (res->type != MT(PONG)) {
		s->out->failed++;
		requests_error(s->out, "%s", res->error_text != NULL ? res->error_text : "?");
	} else if (cookie >= BENCH_WARMUP) {
		s->ns[s->out->done++] = rtt;
	}
	if (s->next < s->total && !bench_expired(s->b))
		requests_bus_send(s);
	else
		ev_break(bus_loop(bus), EVBREAK_ALL);
}

static void
requests_bus_send(struct requests_bus *s)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	uint64_t i = s->next++;

	ping.token = i;
	s->t0 = monotonic_ns();
	if (bus_request(s->bus, "echo", MT(PING), &ping.base, REQUESTS_TIMEOUT_MS,
	    requests_bus_reply, s, i) == 0) {
		s->out->failed++;
		requests_error(s->out, "bus_request: %s", strerror(errno));
		ev_break(bus_loop(s->bus), EVBREAK_ALL);
	}
}

/* Until "echo" answers: busd holds requests for a name not yet registered, for a while. */
static bool
requests_bus_wait_echo(struct requests_bus *s)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct timespec step = { 0, 50 * 1000 * 1000 };
	struct bus_call_result *r;
	int rc;

	while (!bench_expired(s->b)) {
		rc = bus_call(s->bus, "echo", MT(PING), &ping.base,
		    (unsigned)bench_left_ms(s->b, REQUESTS_TIMEOUT_MS) + 1, &r);
		if (rc == -1 && r != NULL)
			requests_error(s->out, "waiting for echo: %s", bus_call_get(r)->error_text);
		bus_call_result_free(r);
		if (rc == 0) {
			s->out->error[0] = '\0';
			return true;
		}
		nanosleep(&step, NULL);
	}
	return false;
}

static void
requests_bus_client(const struct bench *b, int fd, void *arg)
{
	struct requests_bus s = { .b = b, .out = arg, .total = BENCH_WARMUP + b->requests };
	struct bus_options opts = { .service = "bench-client", .anonymous = true,
	    .rundir = b->dir };
	struct ev_loop *loop = ev_default_loop(0);
	ev_timer stop;

	(void)fd;
	s.ns = calloc(b->requests, sizeof(*s.ns));
	if (s.ns == NULL) {
		requests_error(s.out, "%s", "out of memory");
		return;
	}
	s.bus = bus_new(loop, &opts, s.out->error, sizeof(s.out->error));
	if (s.bus == NULL || !requests_bus_wait_echo(&s))
		goto out;
	ev_timer_init(&stop, requests_stop, bench_left_ms(b, 3600 * 1000) / 1000.0, 0.);
	ev_timer_start(loop, &stop);
	requests_bus_send(&s);
	ev_run(loop, 0);
	ev_timer_stop(loop, &stop);
	bench_latency_summary(s.ns, s.out->done, s.out);
out:
	bus_free(s.bus);
	free(s.ns);
}

/* -- direct */

static void *
requests_socket(void *ctx, int type, const char *ep, bool bind, struct bench_requests *out)
{
	void *sock = zmq_socket(ctx, type);
	int zero = 0;

	if (sock == NULL || zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    (bind ? zmq_bind(sock, ep) : zmq_connect(sock, ep)) == -1) {
		requests_error(out, "%s", zmq_strerror(zmq_errno()));
		if (sock != NULL)
			zmq_close(sock);
		return NULL;
	}
	return sock;
}

/* Answers the Ping in body with a Pong, as a service's dispatcher does. */
static void
requests_direct_answer(void *sock, zmq_msg_t *id, zmq_msg_t *body)
{
	static const struct env_source src = { .service = "echo", .instance = "",
	    .incarnation = 0xec40ec40ec40ec40ULL };
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;
	struct env_header hdr = { .type = MT(PONG) };
	struct envelope_view view;
	size_t len;
	void *env;

	if (envelope_open(zmq_msg_data(body), zmq_msg_size(body), &view) == ENVELOPE_OK) {
		pong.token = ((const Picsec__V1__Ping *)view.payload)->token;
		hdr.refer_id = view.env->req_id;
		hdr.seq = view.env->req_id;
		env = envelope_pack(&src, &hdr, &pong.base, &len);
		if (env != NULL && zmq_msg_send(id, sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1)
			bench_send_packed(sock, NULL, env, len);
		else
			wiping_free(env);
	}
	envelope_close(&view);
}

/* The ROUTER: a service without the bus. */
static void
requests_direct_echo(const struct bench *b, int fd, void *arg)
{
	char ep[BUS_ENDPOINT_MAX];
	void *ctx = zmq_ctx_new(), *sock;
	zmq_pollitem_t item = { .events = ZMQ_POLLIN };
	zmq_msg_t id, body;

	(void)fd;
	bench_endpoint(b, "direct-requests.sock", ep, sizeof(ep));
	if ((sock = requests_socket(ctx, ZMQ_ROUTER, ep, true, arg)) == NULL)
		goto out;
	item.socket = sock;
	while (!bench_expired(b)) {
		if (zmq_poll(&item, 1, 100) <= 0)
			continue;
		zmq_msg_init(&id);
		zmq_msg_init(&body);
		if (zmq_msg_recv(&id, sock, ZMQ_DONTWAIT) != -1 && zmq_msg_more(&id) &&
		    zmq_msg_recv(&body, sock, 0) != -1)
			requests_direct_answer(sock, &id, &body);
		zmq_msg_close(&id);
		zmq_msg_close(&body);
	}
	zmq_close(sock);
out:
	zmq_ctx_term(ctx);
}

/* The DEALER: what bus_request() puts on the wire, sequentially, without the bus. */
static void
requests_direct_client(const struct bench *b, int fd, void *arg)
{
	struct bench_requests *out = arg;
	struct env_source src = { .service = "bench-client", .instance = "",
	    .incarnation = 0x5eed5eed5eed5eedULL };
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct env_header hdr = { .type = MT(PING) };
	char ep[BUS_ENDPOINT_MAX];
	void *ctx = zmq_ctx_new(), *sock;
	zmq_pollitem_t item = { .events = ZMQ_POLLIN };
	uint64_t i, t0, total = BENCH_WARMUP + b->requests, *ns;
	struct envelope_view view = { 0 };
	zmq_msg_t reply;
	size_t len;
	void *env;

	(void)fd;
	bench_endpoint(b, "direct-requests.sock", ep, sizeof(ep));
	ns = calloc(b->requests, sizeof(*ns));
	if (ns == NULL || (sock = requests_socket(ctx, ZMQ_DEALER, ep, false, out)) == NULL)
		goto out;
	item.socket = sock;
	for (i = 0; i < total && !bench_expired(b); i++) {
		ping.token = i;
		hdr.seq = hdr.req_id = i + 1;
		t0 = monotonic_ns();
		env = envelope_pack(&src, &hdr, &ping.base, &len);
		if (env == NULL || bench_send_packed(sock, NULL, env, len) == -1) {
			out->failed++;
			requests_error(out, "send: %s", zmq_strerror(zmq_errno()));
			break;
		}
		/* Sequential: a reply that comes after we gave up would pair with the next. */
		if (zmq_poll(&item, 1, bench_left_ms(b, REQUESTS_TIMEOUT_MS)) != 1) {
			out->failed++;
			requests_error(out, "%s", "no echo within the timeout");
			break;
		}
		zmq_msg_init(&reply);
		if (zmq_msg_recv(&reply, sock, ZMQ_DONTWAIT) == -1 ||
		    envelope_open(zmq_msg_data(&reply), zmq_msg_size(&reply), &view) != ENVELOPE_OK ||
		    view.env->type != MT(PONG) || view.env->refer_id != hdr.req_id) {
			out->failed++;
		} else if (i >= BENCH_WARMUP) {
			ns[out->done++] = monotonic_ns() - t0;
		}
		envelope_close(&view);
		zmq_msg_close(&reply);
	}
	bench_latency_summary(ns, out->done, out);
	zmq_close(sock);
out:
	free(ns);
	zmq_ctx_term(ctx);
}

void
bench_requests_run(const struct bench *b, bool direct)
{
	struct bench_requests *out = direct ? &b->res->rq_direct : &b->res->rq_bus;
	int server, client;

	server = bench_fork(b, direct ? requests_direct_echo : requests_bus_echo, -1, -1, out);
	client = bench_fork(b, direct ? requests_direct_client : requests_bus_client, -1, -1, out);
	bench_reap(client, b->deadline_ns + 5000000000ULL);
	/* The server has nothing left to do; it would stop by itself at the deadline. */
	if (server > 0)
		kill(server, SIGTERM);
	bench_reap(server, monotonic_ns() + 2000000000ULL);
}
