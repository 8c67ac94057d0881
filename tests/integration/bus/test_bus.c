/* The bus end to end: a real picsec-busd process, bus clients in this process. */
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <zmq.h>

#include "bus.h"
#include "bus.pb-c.h"
#include "catalog.h"
#include "envelope.h"
#include "secbuf.h"
#include "testutil.h"

static char rundir[64];
static pid_t busd;
static struct ev_loop *loop;

static void
setup(void)
{
	test_mkdtemp(rundir, sizeof(rundir));
	loop = ev_loop_new(EVFLAG_AUTO);
	busd = 0;
}

static void
teardown(void)
{
	if (busd > 0)
		test_kill(busd, SIGKILL);
	ev_loop_destroy(loop);
	test_rmdir(rundir);
}

static struct bus *
client(const char *service, bool anonymous)
{
	struct bus_options opts = {
		.service = service,
		.anonymous = anonymous,
		.rundir = rundir,
		.heartbeat_ms = 200,
	};
	char err[256];
	struct bus *b = bus_new(loop, &opts, err, sizeof(err));

	cr_assert_not_null(b, "bus_new: %s", err);
	return b;
}

static int
ping(struct bus *b, const char *dest, unsigned timeout_ms, char *why, size_t whylen)
{
	Picsec__V1__Ping p = PICSEC__V1__PING__INIT;
	struct bus_call_result *r;
	const struct bus_result *res;
	int rc;

	p.token = 4242;
	rc = bus_call(b, dest, MT(PING), &p.base, timeout_ms, &r);
	res = bus_call_get(r);
	snprintf(why, whylen, "%s [%s from %s]", res->error_text, errcode_name(res->error_code),
	    res->from);
	if (rc == 0) {
		cr_assert_eq(res->type, MT(PONG));
		cr_assert_eq(((const Picsec__V1__Pong *)res->msg)->token, 4242);
	}
	rc = rc == 0 ? 0 : res->error_code;
	bus_call_result_free(r);
	return rc;
}

struct counter {
	unsigned long count;
	unsigned long probes;
	uint64_t last_seq;
	bool in_order;
};

static void
count_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	struct counter *c = ctx;
	uint64_t seq = bus_msg_envelope(m)->seq;

	(void)payload;
	if (strcmp(bus_msg_topic(m), "load.probe") == 0) {
		c->probes++;
		return;
	}
	if (c->count > 0 && seq != c->last_seq + 1)
		c->in_order = false;
	c->last_seq = seq;
	c->count++;
}

static bool
probed(void *arg)
{
	return ((struct counter *)arg)->probes > 0;
}

static bool
all_thousand(void *arg)
{
	return ((struct counter *)arg)->count >= 1000;
}

/* The edge-trigger trap: 1,000 events queued while the loop is not running must all arrive,
 * not just the first (ZMQ_FD signals an edge, not a level). */
/* A subscriber to "load." counting into c and a publisher, both on busd, the subscription
 * known to busd. */
static void
subscribed_pair(struct counter *c, struct bus **sub, struct bus **pub)
{
	static const struct bus_handler handlers[] = { [MT(HEARTBEAT)] = { count_event } };
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;
	unsigned i;

	*sub = client("sub", true);
	*pub = client("pub", true);
	bus_set_handlers(*sub, handlers, ARRAY_SIZE(handlers), c);
	cr_assert_eq(bus_subscribe(*sub, "load."), 0);
	cr_assert_eq(bus_wait_ready(*sub, 5000), 0);
	cr_assert_eq(bus_wait_ready(*pub, 5000), 0);
	/* Subscriptions travel asynchronously: probe until one comes through. */
	for (i = 0; i < 250 && c->probes == 0; i++) {
		bus_publish(*pub, "load.probe", MT(HEARTBEAT), &hb.base);
		test_run_until(loop, probed, c, 20);
	}
	cr_assert_gt(c->probes, 0, "the subscription never reached busd");
}

Test(bus, thousand_queued_events_all_reach_a_libev_subscriber, .init = setup, .fini = teardown)
{
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;
	struct counter c = { .in_order = true };
	struct bus *sub, *pub;
	unsigned i;

	busd = test_busd_start(rundir, NULL);
	subscribed_pair(&c, &sub, &pub);
	/* Now 1,000 events with the loop stopped: they pile up in the SUB socket. */
	for (i = 0; i < 1000; i++) {
		hb.uptime_ms = i;
		cr_assert_eq(bus_publish(pub, "load.data", MT(HEARTBEAT), &hb.base), 0);
	}
	usleep(200 * 1000);
	cr_assert(test_run_until(loop, all_thousand, &c, 10000), "received %lu of 1000", c.count);
	test_run_for(loop, 50);
	cr_assert_eq(c.count, 1000, "nothing extra either");
	cr_assert(c.in_order, "in publishing order");
	bus_free(pub);
	bus_free(sub);
	test_busd_finish(&busd);
}

static bool
ten_events(void *arg)
{
	return ((struct counter *)arg)->count >= 10;
}

/* A process that publishes right after it starts, before busd has even accepted its
 * connection, loses nothing: the library holds the events until busd subscribes to it. */
Test(bus, events_published_before_the_connection_are_not_lost, .init = setup, .fini = teardown)
{
	static const struct bus_handler handlers[] = { [MT(HEARTBEAT)] = { count_event } };
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;
	struct counter c = { .in_order = true };
	struct bus *sub, *prober, *early;
	unsigned i;

	busd = test_busd_start(rundir, NULL);
	sub = client("sub", true);
	prober = client("prober", true);
	bus_set_handlers(sub, handlers, ARRAY_SIZE(handlers), &c);
	cr_assert_eq(bus_subscribe(sub, "load."), 0);
	cr_assert_eq(bus_wait_ready(prober, 5000), 0);
	for (i = 0; i < 250 && c.probes == 0; i++) {
		bus_publish(prober, "load.probe", MT(HEARTBEAT), &hb.base);
		test_run_until(loop, probed, &c, 20);
	}
	cr_assert_gt(c.probes, 0, "the subscription never reached busd");
	/* A named service and its first events, sent before the loop has run once. */
	early = client("early", false);
	for (i = 0; i < 10; i++)
		cr_assert_eq(bus_publish(early, "load.early", MT(HEARTBEAT), &hb.base), 0);
	cr_assert(test_run_until(loop, ten_events, &c, 5000), "received %lu of 10", c.count);
	cr_assert(c.in_order);
	bus_free(early);
	bus_free(prober);
	bus_free(sub);
}

Test(bus, request_to_a_registered_service_gets_its_reply, .init = setup, .fini = teardown)
{
	Picsec__V1__BusListServices req = PICSEC__V1__BUS_LIST_SERVICES__INIT;
	const Picsec__V1__BusServiceList *list;
	struct bus_call_result *r;
	struct bus *svc, *cli;
	char why[512];
	size_t i;
	bool found = false;

	busd = test_busd_start(rundir, NULL);
	svc = client("echo", false);
	cli = client("cli", true);
	cr_assert_eq(bus_wait_ready(svc, 5000), 0, "echo never registered");
	cr_assert_eq(ping(cli, "echo", 3000, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(ping(cli, "busd", 3000, why, sizeof(why)), 0, "%s", why);

	cr_assert_eq(bus_call(cli, "busd", MT(BUS_LIST_SERVICES), &req.base, 3000, &r), 0);
	list = (const Picsec__V1__BusServiceList *)bus_call_get(r)->msg;
	for (i = 0; i < list->n_services; i++) {
		if (strcmp(list->services[i]->name, "echo") != 0)
			continue;
		found = true;
		cr_assert_eq(list->services[i]->hello->pid, (uint32_t)getpid());
		cr_assert_eq(list->services[i]->hello->incarnation, bus_incarnation(svc));
		cr_assert_eq(list->services[i]->requests_routed, 1);
	}
	cr_assert(found, "echo is listed");
	bus_call_result_free(r);
	bus_free(cli);
	bus_free(svc);
	test_busd_finish(&busd);
}

Test(bus, request_to_an_unregistered_service_fails_clearly, .init = setup, .fini = teardown)
{
	struct bus *cli;
	char why[512];

	/* During the start-up grace busd holds the request for a while, then says why. */
	busd = test_busd_start(rundir, "--grace", "300", NULL);
	cli = client("cli", true);
	cr_assert_eq(ping(cli, "nosuch", 3000, why, sizeof(why)), ERRC(UNAVAILABLE));
	cr_assert(strstr(why, "no service 'nosuch' registered on the bus within the start-up "
	    "grace period") != NULL, "%s", why);
	/* After it, the answer is immediate. */
	cr_assert_eq(ping(cli, "nosuch", 3000, why, sizeof(why)), ERRC(UNAVAILABLE));
	cr_assert(strstr(why, "no service 'nosuch' is registered on the bus [E_UNAVAILABLE from "
	    "busd]") != NULL, "%s", why);
	bus_free(cli);
	test_busd_finish(&busd);
}

Test(bus, request_without_a_bus_times_out_with_the_reason, .init = setup, .fini = teardown)
{
	struct bus *cli = client("cli", true);
	char why[512];

	cr_assert_eq(ping(cli, "configd", 300, why, sizeof(why)), ERRC(DEADLINE_EXCEEDED));
	cr_assert(strstr(why, "no reply from 'configd' to Ping within 300 ms: not connected to "
	    "the bus (is picsec-busd running?)") != NULL, "%s", why);
	bus_free(cli);
	test_busd_finish(&busd);
}

struct states {
	unsigned registered;
	unsigned disconnected;
};

static void
note_state(struct bus *b, enum bus_state state, void *ctx)
{
	struct states *s = ctx;

	(void)b;
	if (state == BUS_REGISTERED)
		s->registered++;
	else if (state == BUS_DISCONNECTED)
		s->disconnected++;
}

static bool
disconnected(void *arg)
{
	return ((struct states *)arg)->disconnected > 0;
}

Test(bus, busd_restart_is_survived_without_restarting_anything_else, .init = setup,
    .fini = teardown)
{
	struct states st = { 0 };
	struct bus_counters c;
	struct bus *svc, *cli;
	char why[512];

	busd = test_busd_start(rundir, NULL);
	svc = client("echo", false);
	cli = client("cli", true);
	bus_on_state(svc, note_state, &st);
	cr_assert_eq(bus_wait_ready(svc, 5000), 0);
	cr_assert_eq(ping(cli, "echo", 3000, why, sizeof(why)), 0, "%s", why);

	test_kill(busd, SIGKILL);
	busd = 0;
	cr_assert(test_run_until(loop, disconnected, &st, 5000), "the loss was noticed");
	busd = test_busd_start(rundir, NULL);
	/* The very next request succeeds: busd holds it until echo has re-registered. */
	cr_assert_eq(ping(cli, "echo", 5000, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(st.registered, 2, "registered again by itself");
	bus_get_counters(svc, &c);
	cr_assert_eq(c.registrations, 2);
	bus_free(cli);
	bus_free(svc);
	test_busd_finish(&busd);
}

/* Sends [busd][frame] from a DEALER of our own and returns the Error busd answers with. */
static int
raw_ask_busd(void *dealer, const void *frame, size_t len, uint64_t *refer_id)
{
	unsigned char reply[1024];
	char from[64];
	Picsec__V1__Envelope *env;
	Picsec__V1__Error *e;
	int n, code = -1;

	zmq_send(dealer, "busd", 4, ZMQ_SNDMORE);
	zmq_send(dealer, frame, len, 0);
	if (zmq_recv(dealer, from, sizeof(from), 0) == -1)
		return -1;
	n = zmq_recv(dealer, reply, sizeof(reply), 0);
	env = n > 0 ? picsec__v1__envelope__unpack(NULL, (size_t)n, reply) : NULL;
	if (env != NULL && env->type == MT(ERROR)) {
		e = picsec__v1__error__unpack(NULL, env->payload.len, env->payload.data);
		if (e != NULL)
			code = (int)e->code;
		*refer_id = env->refer_id;
		picsec__v1__error__free_unpacked(e, NULL);
	}
	picsec__v1__envelope__free_unpacked(env, NULL);
	return code;
}

static void
raw_requests_to_busd(void)
{
	Picsec__V1__Envelope env = PICSEC__V1__ENVELOPE__INIT;
	unsigned char buf[64], junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char ep[128];
	void *zctx = zmq_ctx_new(), *dealer = zmq_socket(zctx, ZMQ_DEALER);
	int timeout = 3000, zero = 0;
	uint64_t refer = 99;

	zmq_setsockopt(dealer, ZMQ_ROUTING_ID, "@raw/1", 6);
	zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
	snprintf(ep, sizeof(ep), "ipc://%s/requests.sock", rundir);
	cr_assert_eq(zmq_connect(dealer, ep), 0);
	env.type = MT(HEARTBEAT);
	env.req_id = 7;
	cr_assert_eq(raw_ask_busd(dealer, buf, picsec__v1__envelope__pack(&env, buf), &refer),
	    ERRC(UNIMPLEMENTED));
	cr_assert_eq(refer, 7);
	cr_assert_eq(raw_ask_busd(dealer, junk, sizeof(junk), &refer), ERRC(INVALID_ARGUMENT));
	cr_assert_eq(refer, 0, "garbage has no request id to refer to");
	/* A frame too few: dropped, not answered; the next request still is. */
	zmq_send(dealer, "busd", 4, 0);
	cr_assert_eq(raw_ask_busd(dealer, buf, picsec__v1__envelope__pack(&env, buf), &refer),
	    ERRC(UNIMPLEMENTED));
	zmq_close(dealer);
	zmq_ctx_term(zctx);
}

Test(bus, malformed_requests_to_busd_get_errors_and_busd_lives_on, .init = setup,
    .fini = teardown)
{
	Picsec__V1__BusRegister reg = PICSEC__V1__BUS_REGISTER__INIT;
	Picsec__V1__ServiceHello hello = PICSEC__V1__SERVICE_HELLO__INIT;
	struct bus_call_result *r;
	struct bus *cli;
	char why[512];

	busd = test_busd_start(rundir, NULL);
	cli = client("cli", true);
	/* A registration without a name, and one that takes busd's own name. */
	cr_assert_eq(bus_call(cli, "busd", MT(BUS_REGISTER), &reg.base, 3000, &r), -1);
	cr_assert_eq(bus_call_get(r)->error_code, ERRC(INVALID_ARGUMENT));
	bus_call_result_free(r);
	hello.service = (char *)(uintptr_t)"busd";
	reg.hello = &hello;
	cr_assert_eq(bus_call(cli, "busd", MT(BUS_REGISTER), &reg.base, 3000, &r), -1);
	cr_assert_eq(bus_call_get(r)->error_code, ERRC(PERMISSION_DENIED));
	bus_call_result_free(r);
	/* The library will not send an event type as a request... */
	cr_assert_eq(bus_call(cli, "busd", MT(HEARTBEAT), &(Picsec__V1__Heartbeat)
	    PICSEC__V1__HEARTBEAT__INIT.base, 3000, &r), -1);
	cr_assert_eq(bus_call_get(r)->error_code, ERRC(INVALID_ARGUMENT));
	bus_call_result_free(r);
	/* ...so busd gets what it does not serve, and garbage, from a raw socket. */
	raw_requests_to_busd();
	cr_assert_eq(ping(cli, "busd", 3000, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(waitpid(busd, NULL, WNOHANG), 0, "busd is still running");
	bus_free(cli);
	test_busd_finish(&busd);
}

struct tokens {
	uint64_t seen[16];
	size_t n;
};

static void
record_ping(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;
	struct tokens *t = ctx;

	if (t->n < 16)
		t->seen[t->n++] = ((const Picsec__V1__Ping *)payload)->token;
	bus_reply(m, MT(PONG), &pong.base);
}

static void
count_result(struct bus *b, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	(void)b;
	(void)cookie;
	if (res->type == MT(PONG))
		(*(unsigned *)ctx)++;
}

struct tally {
	unsigned total;
	unsigned pongs;
	int last_code;
};

static void
tally_result(struct bus *b, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct tally *t = ctx;

	(void)b;
	(void)cookie;
	t->total++;
	t->pongs += res->type == MT(PONG);
	t->last_code = res->error_code;
}

static bool
two_results(void *arg)
{
	return *(unsigned *)arg >= 2;
}

static bool
four_results(void *arg)
{
	return *(unsigned *)arg >= 4;
}

/* Requests busd holds for a service that has not registered yet go out in the order they
 * came in. */
Test(bus, requests_held_at_start_keep_their_order, .init = setup, .fini = teardown)
{
	static const struct bus_handler handlers[] = { [MT(PING)] = { record_ping } };
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct tokens t = { 0 };
	unsigned results = 0;
	struct bus *cli, *late;
	uint64_t i;

	busd = test_busd_start(rundir, "--grace", "5000", NULL);
	cli = client("cli", true);
	cr_assert_eq(bus_wait_ready(cli, 5000), 0);
	for (i = 1; i <= 4; i++) {
		ping.token = i;
		cr_assert_neq(bus_request(cli, "late", MT(PING), &ping.base, 5000, count_result,
		    &results, i), 0);
	}
	test_run_for(loop, 200);
	late = client("late", false);
	bus_set_handlers(late, handlers, ARRAY_SIZE(handlers), &t);
	cr_assert(test_run_until(loop, four_results, &results, 5000), "%u of 4", results);
	cr_assert_eq(t.n, 4);
	for (i = 0; i < 4; i++)
		cr_assert_eq(t.seen[i], i + 1, "request %llu arrived as number %llu",
		    (unsigned long long)t.seen[i], (unsigned long long)i + 1);
	bus_free(late);
	bus_free(cli);
	test_busd_finish(&busd);
}

/* A service that registers and is gone before busd can hand it the requests it held: busd
 * must neither lose its head over them nor keep them forever. */
Test(bus, held_requests_for_a_service_that_vanished_are_answered, .init = setup,
    .fini = teardown)
{
	Picsec__V1__BusRegister reg = PICSEC__V1__BUS_REGISTER__INIT;
	Picsec__V1__ServiceHello hello = PICSEC__V1__SERVICE_HELLO__INIT;
	struct env_source src = { "ghost", "", 1 };
	struct env_header hdr = { .type = MT(BUS_REGISTER), .req_id = 1 };
	Picsec__V1__Ping req = PICSEC__V1__PING__INIT;
	struct tally t = { 0 };
	char ep[128], why[512];
	struct bus *cli;
	void *zctx, *dealer;
	size_t len;
	void *env;
	int zero = 0;

	busd = test_busd_start(rundir, "--grace", "1500", NULL);
	cli = client("cli", true);
	cr_assert_eq(bus_wait_ready(cli, 5000), 0);
	bus_request(cli, "ghost", MT(PING), &req.base, 4000, tally_result, &t, 1);
	bus_request(cli, "ghost", MT(PING), &req.base, 4000, tally_result, &t, 2);
	test_run_for(loop, 200);

	/* A raw connection, up and greeted... */
	zctx = zmq_ctx_new();
	dealer = zmq_socket(zctx, ZMQ_DEALER);
	zmq_setsockopt(dealer, ZMQ_ROUTING_ID, "@ghost/1", 8);
	snprintf(ep, sizeof(ep), "ipc://%s/requests.sock", rundir);
	zmq_connect(dealer, ep);
	usleep(200 * 1000);
	/* ...then, with busd stopped, it registers and is gone before busd can route. */
	kill(busd, SIGSTOP);
	hello.service = (char *)(uintptr_t)"ghost";
	reg.hello = &hello;
	env = envelope_pack(&src, &hdr, &reg.base, &len);
	zmq_send(dealer, "busd", 4, ZMQ_SNDMORE);
	zmq_send(dealer, env, len, 0);
	wiping_free(env);
	usleep(100 * 1000);
	zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_close(dealer);
	zmq_ctx_term(zctx);
	usleep(100 * 1000);
	kill(busd, SIGCONT);

	/* busd answers again at once, and the held requests end with an error, not never:
	 * busd's UNAVAILABLE when it sees the connection gone before it routes them, or, when
	 * the registration wins that race (ZeroMQ takes them into the closing pipe), the
	 * requests' own deadline. */
	cr_assert_eq(ping(cli, "busd", 1000, why, sizeof(why)), 0, "%s", why);
	test_run_until(loop, two_results, &t.total, 4500);
	cr_assert_eq(t.total, 2, "both requests were answered (in %u)", t.total);
	cr_assert_eq(t.pongs, 0, "no Pong from a ghost");
	cr_assert(t.last_code == ERRC(UNAVAILABLE) || t.last_code == ERRC(DEADLINE_EXCEEDED),
	    "an error: %s", errcode_name(t.last_code));
	bus_free(cli);
	test_busd_finish(&busd);
}

static bool
unlisted(struct bus *cli)
{
	Picsec__V1__BusListServices req = PICSEC__V1__BUS_LIST_SERVICES__INIT;
	const Picsec__V1__BusServiceList *list;
	struct bus_call_result *r;
	bool found = false;
	size_t i;

	if (bus_call(cli, "busd", MT(BUS_LIST_SERVICES), &req.base, 1000, &r) == 0) {
		list = (const Picsec__V1__BusServiceList *)bus_call_get(r)->msg;
		for (i = 0; i < list->n_services; i++)
			found |= strcmp(list->services[i]->name, "mortal") == 0;
	}
	bus_call_result_free(r);
	return !found;
}

/* A service that dies is taken off the bus when busd stops hearing from it. */
Test(bus, a_dead_service_is_unregistered, .init = setup, .fini = teardown)
{
	struct bus *cli;
	pid_t pid;
	int status, i;

	busd = test_busd_start(rundir, NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ev_loop *own = ev_loop_new(EVFLAG_AUTO);
		struct bus_options opts = { .service = "mortal", .rundir = rundir };
		char err[128];
		struct bus *b = bus_new(own, &opts, err, sizeof(err));

		/* Registered, then gone without a word: no bus_free, no goodbye. */
		_exit(b != NULL && bus_wait_ready(b, 5000) == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child registered");
	cli = client("cli", true);
	cr_assert_not(unlisted(cli), "listed while busd still waits to hear from it");
	/* Not test_run_until: unlisted() runs the loop itself (bus_call). */
	for (i = 0; i < 40 && !unlisted(cli); i++)
		test_run_for(loop, 200);
	cr_assert_lt(i, 40, "still listed after 8 s");
	bus_free(cli);
	test_busd_finish(&busd);
}

/* A message past what busd accepts (16 MiB a frame) is refused by the sender: sent, it would
 * make busd drop the sender's connection and what else was on it. */
Test(bus, a_message_too_big_for_the_bus_is_not_sent_and_the_connection_lives,
    .init = setup, .fini = teardown)
{
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;
	Picsec__V1__Error big = PICSEC__V1__ERROR__INIT;
	struct counter c = { .in_order = true };
	struct bus *sub, *pub;
	char *text;
	unsigned i;

	busd = test_busd_start(rundir, NULL);
	subscribed_pair(&c, &sub, &pub);
	text = malloc(17 * 1024 * 1024);
	cr_assert_not_null(text);
	memset(text, 'x', 17 * 1024 * 1024 - 1);
	text[17 * 1024 * 1024 - 1] = '\0';
	big.text = text;
	cr_assert_eq(bus_publish(pub, "load.big", MT(ERROR), &big.base), -1);
	free(text);
	/* The same connection carries the next events, in order. */
	for (i = 0; i < 10; i++) {
		hb.uptime_ms = i;
		cr_assert_eq(bus_publish(pub, "load.data", MT(HEARTBEAT), &hb.base), 0);
	}
	cr_assert(test_run_until(loop, ten_events, &c, 5000), "received %lu of 10", c.count);
	cr_assert(c.in_order);
	bus_free(pub);
	bus_free(sub);
	test_busd_finish(&busd);
}

Test(bus, sockets_are_0660_with_the_configured_group, .init = setup, .fini = teardown)
{
	static const char *const names[] = { "events-in.sock", "events-out.sock", "requests.sock",
		"tap.sock" };
	struct group *gr = getgrnam("daemon");
	char path[128];
	struct stat st;
	unsigned tries;
	size_t i;

	cr_assert_not_null(gr, "the test needs the 'daemon' group of base-passwd");
	busd = test_busd_start(rundir, "--group", "daemon", NULL);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", rundir, names[i]);
		/* busd gives the group once all four are bound, a moment after requests.sock
		 * (what test_busd_start waits for) appears: wait for that, 2 s at most. */
		for (tries = 0; tries < 200 && (stat(path, &st) != 0 || st.st_gid != gr->gr_gid);
		    tries++)
			usleep(10 * 1000);
		cr_assert_eq(stat(path, &st), 0, "%s", path);
		cr_assert(S_ISSOCK(st.st_mode), "%s is a socket", path);
		cr_assert_eq(st.st_mode & 07777, 0660, "%s has mode %04o", path,
		    (unsigned)(st.st_mode & 07777));
		cr_assert_eq(st.st_gid, gr->gr_gid, "%s belongs to group daemon", path);
	}
	test_busd_finish(&busd);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", rundir, names[i]);
		cr_assert_neq(stat(path, &st), 0, "%s is removed at exit", path);
	}
}

Test(bus, a_second_busd_on_the_same_rundir_is_refused, .init = setup, .fini = teardown)
{
	const char *argv[] = { test_program("PICSEC_BUSD"), "--rundir",
		rundir, NULL };
	pid_t second;
	int status;

	busd = test_busd_start(rundir, NULL);
	second = test_spawn(argv, NULL);
	status = test_wait(second, 5000);
	cr_assert_neq(status, -1, "the second busd exits");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	cr_assert_eq(waitpid(busd, NULL, WNOHANG), 0, "the first one still runs");
	test_busd_finish(&busd);
}
