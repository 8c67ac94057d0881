/* The dispatcher's contract, with a fake busd in the same loop (a ROUTER and an XPUB bound
 * where picsec-busd would be): every registered type reaches its handler with the right
 * message, and whatever else arrives gets an Error or is counted, never a crash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <zmq.h>

#include "bus.h"
#include "bus.pb-c.h"
#include "catalog.h"
#include "sa.pb-c.h"
#include "endpoints.h"
#include "envelope.h"
#include "secbuf.h"
#include "testutil.h"
#include "zwatch.h"

struct reply {
	int type;
	uint64_t req_id;
	uint64_t refer_id;
	char to[64];
	int code;
	char text[256];
};

struct fake_busd {
	void *zctx, *router, *xpub;
	struct zwatch *router_watch, *xpub_watch;
	char client_rid[256];
	struct reply replies[256];
	size_t nreplies;
	unsigned registrations;
	unsigned subscriptions;
};

static struct ev_loop *loop;
static struct fake_busd fake;
static struct bus *client;
static char rundir[64];
static struct {
	int types[256];
	char topics[256][64];
	size_t n;
} handled;

static const struct env_source tester = { "tester", "", 1 };

static void
fake_send(const char *rid, const char *via, int type, uint64_t req_id, uint64_t refer_id,
    const ProtobufCMessage *msg)
{
	struct env_header hdr = { .type = type, .req_id = req_id, .refer_id = refer_id };
	size_t len;
	void *buf = envelope_pack(&tester, &hdr, msg, &len);

	cr_assert_not_null(buf);
	zmq_send(fake.router, rid, strlen(rid), ZMQ_SNDMORE);
	zmq_send(fake.router, via, strlen(via), ZMQ_SNDMORE);
	zmq_send(fake.router, buf, len, 0);
	wiping_free(buf);
}

static void
fake_send_raw(const void *env, size_t len)
{
	zmq_send(fake.router, fake.client_rid, strlen(fake.client_rid), ZMQ_SNDMORE);
	zmq_send(fake.router, "@tester", 7, ZMQ_SNDMORE);
	zmq_send(fake.router, env, len, 0);
}

static bool
fake_router_readable(void *sock, void *arg)
{
	Picsec__V1__BusRegistered ok = PICSEC__V1__BUS_REGISTERED__INIT;
	char rid[256] = "", to[256] = "";
	unsigned char env[4096];
	struct envelope_view view;
	struct reply *r;
	int n;

	(void)arg;
	n = zmq_recv(sock, rid, sizeof(rid) - 1, ZMQ_DONTWAIT);
	if (n == -1)
		return false;
	rid[n] = '\0';
	n = zmq_recv(sock, to, sizeof(to) - 1, 0);
	to[n > 0 ? n : 0] = '\0';
	n = zmq_recv(sock, env, sizeof(env), 0);
	cr_assert_gt(n, 0);
	envelope_open(env, (size_t)n, &view);
	if (strcmp(to, "busd") == 0) {
		cr_assert_eq(view.status, ENVELOPE_OK);
		cr_assert_eq(view.env->type, MT(BUS_REGISTER));
		snprintf(fake.client_rid, sizeof(fake.client_rid), "%s", rid);
		ok.name = (char *)(uintptr_t)"svc";
		fake_send(rid, "busd", MT(BUS_REGISTERED), 0, view.env->req_id, &ok.base);
		fake.registrations++;
	} else if (fake.nreplies < 256) {
		r = &fake.replies[fake.nreplies++];
		memset(r, 0, sizeof(*r));
		snprintf(r->to, sizeof(r->to), "%s", to);
		if (view.env != NULL) {
			r->type = (int)view.env->type;
			r->req_id = view.env->req_id;
			r->refer_id = view.env->refer_id;
		}
		if (view.status == ENVELOPE_OK && r->type == MT(ERROR)) {
			r->code = (int)((Picsec__V1__Error *)view.payload)->code;
			snprintf(r->text, sizeof(r->text), "%s",
			    ((Picsec__V1__Error *)view.payload)->text);
		}
	}
	envelope_close(&view);
	return true;
}

static bool
fake_xpub_readable(void *sock, void *arg)
{
	char sub[256];

	(void)arg;
	if (zmq_recv(sock, sub, sizeof(sub), ZMQ_DONTWAIT) == -1)
		return false;
	if (sub[0] == 1)
		fake.subscriptions++;
	return true;
}

static void
record_and_answer(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;
	int type = bus_msg_type(m);

	(void)ctx;
	cr_assert_eq(payload->descriptor, catalog_descriptor(type),
	    "handler for %s got a %s", catalog_type_name(type), payload->descriptor->name);
	if (handled.n < 256) {
		handled.types[handled.n] = type;
		snprintf(handled.topics[handled.n], sizeof(handled.topics[0]), "%s",
		    bus_msg_topic(m));
		handled.n++;
	}
	if (bus_msg_is_request(m)) {
		pong.token = (uint64_t)type;
		cr_assert_eq(bus_reply(m, MT(PONG), &pong.base), 0);
		cr_assert_eq(bus_reply(m, MT(PONG), &pong.base), -1, "a second reply is refused");
	} else {
		cr_assert_eq(bus_reply(m, MT(PONG), &pong.base), -1, "events cannot be answered");
	}
}

static struct bus_handler every_type[128];

static bool
registered(void *arg)
{
	(void)arg;
	return bus_get_state(client) == BUS_REGISTERED;
}

static void
setup(void)
{
	struct bus_options opts = { .service = "svc", .heartbeat_ms = 100 };
	struct bus_endpoints ep;
	char err[256];
	int i;

	memset(&fake, 0, sizeof(fake));
	memset(&handled, 0, sizeof(handled));
	loop = ev_loop_new(EVFLAG_AUTO);
	test_mkdtemp(rundir, sizeof(rundir));
	cr_assert_eq(bus_endpoints_ipc(rundir, &ep, err, sizeof(err)), 0);
	fake.zctx = zmq_ctx_new();
	fake.router = zmq_socket(fake.zctx, ZMQ_ROUTER);
	fake.xpub = zmq_socket(fake.zctx, ZMQ_XPUB);
	cr_assert_eq(zmq_bind(fake.router, ep.requests), 0);
	cr_assert_eq(zmq_bind(fake.xpub, ep.events_out), 0);
	fake.router_watch = zwatch_new(loop, fake.router, fake_router_readable, NULL, 0);
	fake.xpub_watch = zwatch_new(loop, fake.xpub, fake_xpub_readable, NULL, 0);

	cr_assert_lt(catalog_type_limit(), (int)ARRAY_SIZE(every_type));
	for (i = 1; i < catalog_type_limit(); i++)
		every_type[i].fn = catalog_descriptor(i) != NULL ? record_and_answer : NULL;
	opts.rundir = rundir;
	client = bus_new(loop, &opts, err, sizeof(err));
	cr_assert_not_null(client, "%s", err);
	bus_set_handlers(client, every_type, (size_t)catalog_type_limit(), NULL);
	cr_assert(test_run_until(loop, registered, NULL, 5000), "client never registered");
}

static void
teardown(void)
{
	int linger = 0;

	bus_free(client); /* NULL when a test freed it */
	zwatch_free(fake.router_watch);
	zwatch_free(fake.xpub_watch);
	zmq_setsockopt(fake.router, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(fake.xpub, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_close(fake.router);
	zmq_close(fake.xpub);
	zmq_ctx_term(fake.zctx);
	ev_loop_destroy(loop);
	test_rmdir(rundir);
}

static size_t want_replies;

static bool
enough_replies(void *arg)
{
	(void)arg;
	return fake.nreplies >= want_replies;
}

static void
expect_replies(size_t n)
{
	want_replies = n;
	cr_assert(test_run_until(loop, enough_replies, NULL, 5000), "got %zu of %zu replies",
	    fake.nreplies, n);
}

Test(dispatch, every_registered_type_reaches_its_handler, .init = setup, .fini = teardown)
{
	unsigned char mem[512] __attribute__((aligned(16)));
	size_t sent = 0, i;
	int t;

	for (t = 1; t < catalog_type_limit(); t++) {
		const ProtobufCMessageDescriptor *d = catalog_descriptor(t);

		if (d == NULL)
			continue;
		cr_assert_leq(d->sizeof_message, sizeof(mem));
		protobuf_c_message_init(d, mem);
		fake_send(fake.client_rid, "@tester", t, 1000 + (uint64_t)t, 0,
		    (ProtobufCMessage *)mem);
		sent++;
	}
	expect_replies(sent);
	cr_assert_eq(handled.n, sent);
	for (i = 0; i < fake.nreplies; i++) {
		cr_assert_eq(fake.replies[i].type, MT(PONG), "reply %zu: %s", i, fake.replies[i].text);
		cr_assert_eq(fake.replies[i].refer_id, 1000 + (uint64_t)handled.types[i]);
	}
}

Test(dispatch, unknown_type_gets_error_and_the_client_lives_on, .init = setup, .fini = teardown)
{
	Picsec__V1__Envelope env = PICSEC__V1__ENVELOPE__INIT;
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	unsigned char buf[64];
	struct bus_counters c;

	env.type = (Picsec__V1__MsgType)777;
	env.req_id = 5;
	fake_send_raw(buf, picsec__v1__envelope__pack(&env, buf));
	expect_replies(1);
	cr_assert_eq(fake.replies[0].type, MT(ERROR));
	cr_assert_eq(fake.replies[0].refer_id, 5);
	cr_assert_eq(fake.replies[0].code, ERRC(UNIMPLEMENTED));
	cr_assert(strstr(fake.replies[0].text, "unknown message type 777") != NULL, "%s",
	    fake.replies[0].text);

	fake_send(fake.client_rid, "@tester", MT(PING), 6, 0, &ping.base);
	expect_replies(2);
	cr_assert_eq(fake.replies[1].type, MT(PONG));
	bus_get_counters(client, &c);
	cr_assert_eq(c.rejected, 1);
}

Test(dispatch, truncated_payload_gets_error_and_the_client_lives_on, .init = setup,
    .fini = teardown)
{
	static const unsigned char cut[] = { 0x08, 0x80 }; /* a varint that never ends */
	Picsec__V1__Envelope env = PICSEC__V1__ENVELOPE__INIT;
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	unsigned char buf[64];

	env.type = MT(PING);
	env.req_id = 8;
	env.payload.data = (uint8_t *)(uintptr_t)cut;
	env.payload.len = sizeof(cut);
	fake_send_raw(buf, picsec__v1__envelope__pack(&env, buf));
	expect_replies(1);
	cr_assert_eq(fake.replies[0].type, MT(ERROR));
	cr_assert_eq(fake.replies[0].refer_id, 8);
	cr_assert_eq(fake.replies[0].code, ERRC(INVALID_ARGUMENT));
	cr_assert(strstr(fake.replies[0].text, "malformed Ping payload") != NULL, "%s",
	    fake.replies[0].text);
	cr_assert_eq(handled.n, 0, "the handler never saw it");

	fake_send(fake.client_rid, "@tester", MT(PING), 9, 0, &ping.base);
	expect_replies(2);
	cr_assert_eq(fake.replies[1].type, MT(PONG));
}

Test(dispatch, garbage_and_misshapen_frames_are_survived, .init = setup, .fini = teardown)
{
	static const unsigned char junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct bus_counters c;

	/* Not an envelope: answered with an Error that can refer to nothing. */
	fake_send_raw(junk, sizeof(junk));
	expect_replies(1);
	cr_assert_eq(fake.replies[0].type, MT(ERROR));
	cr_assert_eq(fake.replies[0].refer_id, 0);
	/* Three frames where two belong, and one frame alone: dropped and counted. */
	zmq_send(fake.router, fake.client_rid, strlen(fake.client_rid), ZMQ_SNDMORE);
	zmq_send(fake.router, "a", 1, ZMQ_SNDMORE);
	zmq_send(fake.router, "b", 1, ZMQ_SNDMORE);
	zmq_send(fake.router, "c", 1, 0);
	zmq_send(fake.router, fake.client_rid, strlen(fake.client_rid), ZMQ_SNDMORE);
	zmq_send(fake.router, "alone", 5, 0);
	fake_send(fake.client_rid, "@tester", MT(PING), 3, 0, &ping.base);
	expect_replies(2);
	cr_assert_eq(fake.replies[1].type, MT(PONG));
	cr_assert_eq(fake.replies[1].refer_id, 3);
	bus_get_counters(client, &c);
	cr_assert_eq(c.rejected, 3);
}

static void
forget_to_answer(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	(void)m;
	(void)payload;
	(void)ctx;
}

static struct bus_msg *kept;

static void
answer_later(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	(void)payload;
	(void)ctx;
	kept = bus_msg_take(m);
	cr_assert_not_null(kept);
}

Test(dispatch, exactly_one_reply_even_when_the_handler_forgets, .init = setup, .fini = teardown)
{
	static const struct bus_handler forgetful[] = {
		[MT(PING)] = { forget_to_answer },
		[MT(BUS_GET_STATS)] = { answer_later },
	};
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	Picsec__V1__BusGetStats get = PICSEC__V1__BUS_GET_STATS__INIT;
	Picsec__V1__BusListServices list = PICSEC__V1__BUS_LIST_SERVICES__INIT;
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;

	bus_set_handlers(client, forgetful, ARRAY_SIZE(forgetful), NULL);
	fake_send(fake.client_rid, "@tester", MT(PING), 1, 0, &ping.base);
	expect_replies(1);
	cr_assert_eq(fake.replies[0].code, ERRC(INTERNAL));
	cr_assert(strstr(fake.replies[0].text, "gave no reply") != NULL);

	/* Taken, answered later, freed: one reply, the handler's. */
	fake_send(fake.client_rid, "@tester", MT(BUS_GET_STATS), 2, 0, &get.base);
	test_run_for(loop, 50);
	cr_assert_eq(fake.nreplies, 1, "no reply before the owner answers");
	cr_assert_not_null(kept);
	cr_assert_eq(bus_reply(kept, MT(PONG), &pong.base), 0);
	bus_msg_free(kept);
	expect_replies(2);
	cr_assert_eq(fake.replies[1].type, MT(PONG));
	cr_assert_eq(fake.replies[1].refer_id, 2);

	/* Taken and dropped: the library answers for it. */
	fake_send(fake.client_rid, "@tester", MT(BUS_GET_STATS), 3, 0, &get.base);
	test_run_for(loop, 50);
	bus_msg_free(kept);
	expect_replies(3);
	cr_assert_eq(fake.replies[2].code, ERRC(INTERNAL));
	cr_assert(strstr(fake.replies[2].text, "without a reply") != NULL);

	/* A type the table does not cover. */
	fake_send(fake.client_rid, "@tester", MT(BUS_LIST_SERVICES), 4, 0, &list.base);
	expect_replies(4);
	cr_assert_eq(fake.replies[3].code, ERRC(UNIMPLEMENTED));
}

static bool
subscribed(void *arg)
{
	(void)arg;
	return fake.subscriptions > 0;
}

static bool
two_events(void *arg)
{
	(void)arg;
	return handled.n >= 2;
}

Test(dispatch, events_reach_handlers_by_type, .init = setup, .fini = teardown)
{
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;
	struct env_header hdr = { .type = MT(HEARTBEAT) };
	size_t len;
	void *buf;

	cr_assert_eq(bus_subscribe(client, "test."), 0);
	cr_assert(test_run_until(loop, subscribed, NULL, 5000));
	buf = envelope_pack(&tester, &hdr, &hb.base, &len);
	zmq_send(fake.xpub, "test.one", 8, ZMQ_SNDMORE);
	zmq_send(fake.xpub, buf, len, 0);
	zmq_send(fake.xpub, "other.topic", 11, ZMQ_SNDMORE); /* not subscribed */
	zmq_send(fake.xpub, buf, len, 0);
	zmq_send(fake.xpub, "test.bad", 8, ZMQ_SNDMORE);     /* dropped and counted */
	zmq_send(fake.xpub, "junk", 4, 0);
	zmq_send(fake.xpub, "test.two", 8, ZMQ_SNDMORE);
	zmq_send(fake.xpub, buf, len, 0);
	wiping_free(buf);
	cr_assert(test_run_until(loop, two_events, NULL, 5000));
	test_run_for(loop, 30);
	cr_assert_eq(handled.n, 2);
	cr_assert_str_eq(handled.topics[0], "test.one");
	cr_assert_str_eq(handled.topics[1], "test.two");
	cr_assert_eq(handled.types[0], MT(HEARTBEAT));
}

struct outcome {
	unsigned calls;
	int type;
	int code;
	char text[256];
	bool free_in_callback;
	bool ask_again;
	uint64_t again;
	int again_errno;
};

static void
note_outcome(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct outcome *o = ctx;

	(void)cookie;
	o->calls++;
	o->type = res->type;
	o->code = res->error_code;
	snprintf(o->text, sizeof(o->text), "%s", res->error_text != NULL ? res->error_text : "");
	if (o->ask_again) {
		errno = 0;
		o->again = bus_request(bus, "svc2", MT(PING), &ping.base, 100, note_outcome, o, 0);
		o->again_errno = errno;
	}
	if (o->free_in_callback) {
		bus_free(bus);
		client = NULL;
	}
}

static bool
answered(void *arg)
{
	return ((struct outcome *)arg)->calls > 0;
}

Test(dispatch, replies_count_only_from_whom_was_asked_and_of_the_right_type, .init = setup,
    .fini = teardown)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;
	Picsec__V1__BusStats stats = PICSEC__V1__BUS_STATS__INIT;
	struct outcome o = { 0 };
	uint64_t id;

	id = bus_request(client, "svc2", MT(PING), &ping.base, 2000, note_outcome, &o, 0);
	cr_assert_neq(id, 0);
	expect_replies(1);
	cr_assert_str_eq(fake.replies[0].to, "svc2");
	cr_assert_eq(fake.replies[0].req_id, id);
	/* Someone else answering is not an answer. */
	fake_send(fake.client_rid, "intruder", MT(PONG), 0, id, &pong.base);
	test_run_for(loop, 50);
	cr_assert_eq(o.calls, 0);
	/* The right one answering with the wrong type is data loss, not a Pong. */
	fake_send(fake.client_rid, "svc2", MT(BUS_STATS), 0, id, &stats.base);
	cr_assert(test_run_until(loop, answered, &o, 2000));
	cr_assert_eq(o.type, MT(ERROR));
	cr_assert_eq(o.code, ERRC(DATA_LOSS));
	cr_assert(strstr(o.text, "svc2 answered Ping with BusStats") != NULL, "%s", o.text);
	/* And a late answer after that changes nothing. */
	fake_send(fake.client_rid, "svc2", MT(PONG), 0, id, &pong.base);
	test_run_for(loop, 50);
	cr_assert_eq(o.calls, 1);
	/* Events cannot be sent as requests. */
	errno = 0;
	cr_assert_eq(bus_request(client, "svc2", MT(HEARTBEAT), &(Picsec__V1__Heartbeat)
	    PICSEC__V1__HEARTBEAT__INIT.base, 100, note_outcome, &o, 0), 0);
	cr_assert_eq(errno, EINVAL);
}

static void
answer_with_the_wrong_message(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__BusStats stats = PICSEC__V1__BUS_STATS__INIT;

	(void)payload;
	(void)ctx;
	cr_assert_eq(bus_reply(m, MT(PONG), &stats.base), -1);
}

static void
take_twice(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;

	(void)payload;
	(void)ctx;
	kept = bus_msg_take(m);
	cr_assert_not_null(kept);
	cr_assert_null(bus_msg_take(m), "a message is taken once");
	cr_assert_eq(bus_reply(m, MT(PONG), &pong.base), -1, "the taken-from copy is dead");
}

static void
answer_too_big(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__SaList list = PICSEC__V1__SA_LIST__INIT;
	Picsec__V1__SaInfo info = PICSEC__V1__SA_INFO__INIT, *infos[1] = { &info };
	enum { TOO_BIG = 17 * 1024 * 1024 };
	char *pic = malloc(TOO_BIG);

	(void)payload;
	(void)ctx;
	cr_assert_not_null(pic);
	memset(pic, 'p', TOO_BIG - 1);
	pic[TOO_BIG - 1] = '\0';
	info.pic = pic;
	list.sas = infos;
	list.n_sas = 1;
	cr_assert_eq(bus_reply(m, MT(SA_LIST), &list.base), -1);
	free(pic);
}

/* An answer past what busd accepts is not sent (busd would drop the connection) and still
 * answers: RESOURCE_EXHAUSTED, once. */
Test(dispatch, an_answer_too_big_for_the_bus_is_an_error_that_says_so, .init = setup,
    .fini = teardown)
{
	static const struct bus_handler table[] = { [MT(SA_GET_LIST)] = { answer_too_big } };
	Picsec__V1__SaGetList req = PICSEC__V1__SA_GET_LIST__INIT;

	bus_set_handlers(client, table, ARRAY_SIZE(table), NULL);
	fake_send(fake.client_rid, "@tester", MT(SA_GET_LIST), 1, 0, &req.base);
	expect_replies(1);
	test_run_for(loop, 50);
	cr_assert_eq(fake.nreplies, 1, "one answer");
	cr_assert_eq(fake.replies[0].type, MT(ERROR));
	cr_assert_eq(fake.replies[0].code, ERRC(RESOURCE_EXHAUSTED));
	cr_assert(strstr(fake.replies[0].text, "more than the bus carries") != NULL, "%s",
	    fake.replies[0].text);
}

Test(dispatch, a_wrong_answer_or_a_dead_copy_cannot_break_exactly_once, .init = setup,
    .fini = teardown)
{
	static const struct bus_handler table[] = {
		[MT(PING)] = { answer_with_the_wrong_message },
		[MT(BUS_GET_STATS)] = { take_twice },
	};
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	Picsec__V1__BusGetStats get = PICSEC__V1__BUS_GET_STATS__INIT;
	Picsec__V1__BusStats stats = PICSEC__V1__BUS_STATS__INIT;

	bus_set_handlers(client, table, ARRAY_SIZE(table), NULL);
	fake_send(fake.client_rid, "@tester", MT(PING), 1, 0, &ping.base);
	expect_replies(1);
	cr_assert_eq(fake.replies[0].code, ERRC(INTERNAL));
	cr_assert(strstr(fake.replies[0].text, "malformed answer") != NULL, "%s",
	    fake.replies[0].text);

	fake_send(fake.client_rid, "@tester", MT(BUS_GET_STATS), 2, 0, &get.base);
	test_run_for(loop, 50);
	cr_assert_eq(fake.nreplies, 1);
	cr_assert_eq(bus_reply(kept, MT(BUS_STATS), &stats.base), 0);
	bus_msg_free(kept);
	test_run_for(loop, 50);
	cr_assert_eq(fake.nreplies, 2, "one answer, not two");
	cr_assert_eq(fake.replies[1].type, MT(BUS_STATS));
}

Test(dispatch, freeing_the_bus_from_its_own_callback_is_safe, .init = setup, .fini = teardown)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;
	struct outcome o = { .free_in_callback = true };
	uint64_t id;

	id = bus_request(client, "svc2", MT(PING), &ping.base, 2000, note_outcome, &o, 0);
	expect_replies(1);
	fake_send(fake.client_rid, "svc2", MT(PONG), 0, id, &pong.base);
	/* A second message in the same batch: the freed bus must not be read for it. */
	fake_send(fake.client_rid, "svc2", MT(PONG), 0, id, &pong.base);
	cr_assert(test_run_until(loop, answered, &o, 2000));
	cr_assert_null(client, "freed by the callback");
	test_run_for(loop, 50);
	cr_assert_eq(o.calls, 1);
}

Test(dispatch, requests_made_while_closing_are_refused, .init = setup, .fini = teardown)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct outcome o = { .ask_again = true };

	cr_assert_neq(bus_request(client, "svc2", MT(PING), &ping.base, 2000, note_outcome, &o,
	    0), 0);
	bus_free(client);
	client = NULL;
	cr_assert_eq(o.calls, 1, "the pending request got its one result");
	cr_assert_eq(o.code, ERRC(CANCELLED));
	cr_assert_eq(o.again, 0, "a request from that callback is refused");
	cr_assert_eq(o.again_errno, ECANCELED);
}
