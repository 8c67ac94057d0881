/* Outgoing requests: each gets exactly one result, its reply or an error, by its deadline.
 * Pending requests are kept by id; their deadline timers hold that id, not a pointer. */
#include "bus_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "bus.pb-c.h"
#include "log.h"
#include "picsec_build.h"
#include "secbuf.h"
#include "timer.h"
#include "u64map.h"

struct bus_pending {
	uint64_t req_id;
	int type;
	unsigned timeout_ms;
	uint64_t timer;
	bus_reply_fn *cb;
	void *ctx;
	uint64_t cookie;
	char dest[BUS_NAME_MAX];
};

static void
bus_pending_finish(struct bus *bus, struct bus_pending *p, const struct bus_result *res)
{
	bus_reply_fn *cb = p->cb;
	void *ctx = p->ctx;
	uint64_t cookie = p->cookie;

	timers_cancel(bus->timers, p->timer);
	free(p);
	cb(bus, res, ctx, cookie);
}

static void
bus_pending_fail(struct bus *bus, struct bus_pending *p, int code, const char *text)
{
	struct bus_result res = {
		.type = MT(ERROR),
		.error_code = code,
		.error_text = text,
		.from = "local",
	};

	bus_pending_finish(bus, p, &res);
}

static void
bus_request_timeout(void *ctx, uint64_t req_id)
{
	struct bus *bus = ctx;
	struct bus_pending *p = u64map_take(bus->pending, req_id);
	char text[512];

	if (p == NULL)
		return;
	p->timer = 0;
	bus->counters.timeouts++;
	bus_enter(bus);
	if (bus->refused[0] != '\0')
		snprintf(text, sizeof(text), "no reply from '%s' to %s within %u ms: %s", p->dest,
		    catalog_type_name(p->type), p->timeout_ms, bus->refused);
	else if (bus->state == BUS_DISCONNECTED)
		snprintf(text, sizeof(text), "no reply from '%s' to %s within %u ms: not connected "
		    "to the bus (is picsec-busd running?)", p->dest, catalog_type_name(p->type),
		    p->timeout_ms);
	else
		snprintf(text, sizeof(text), "no reply from '%s' to %s within %u ms", p->dest,
		    catalog_type_name(p->type), p->timeout_ms);
	bus_pending_fail(bus, p, ERRC(DEADLINE_EXCEEDED), text);
	bus_leave(bus);
}

uint64_t
bus_request(struct bus *bus, const char *dest, int type, const ProtobufCMessage *msg,
    unsigned timeout_ms, bus_reply_fn *cb, void *ctx, uint64_t cookie)
{
	struct env_header hdr = { .type = type };
	struct bus_pending *p;

	if (bus->closing) {
		errno = ECANCELED;
		return 0;
	}
	/* Only request types have an answer to wait for. */
	if (dest == NULL || dest[0] == '\0' || dest[0] == '@' || strlen(dest) >= BUS_NAME_MAX ||
	    cb == NULL || catalog_reply_type(type) == MT(NONE)) {
		errno = EINVAL;
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return 0;
	p->req_id = bus->next_req_id++;
	p->type = type;
	p->timeout_ms = timeout_ms > 0 ? timeout_ms : BUS_DEFAULT_TIMEOUT_MS;
	p->cb = cb;
	p->ctx = ctx;
	p->cookie = cookie;
	snprintf(p->dest, sizeof(p->dest), "%s", dest);
	hdr.req_id = p->req_id;
	p->timer = timers_add(bus->timers, p->timeout_ms / 1000.0, bus_request_timeout, p->req_id);
	if (p->timer == 0 || u64map_put(bus->pending, p->req_id, p) == -1)
		goto error;
	if (bus_send_routed(bus, dest, &hdr, msg) == -1) {
		u64map_take(bus->pending, p->req_id);
		goto error;
	}
	return p->req_id;
error:
	timers_cancel(bus->timers, p->timer);
	free(p);
	return 0;
}

bool
bus_cancel(struct bus *bus, uint64_t req_id)
{
	struct bus_pending *p = u64map_take(bus->pending, req_id);

	if (p == NULL)
		return false;
	timers_cancel(bus->timers, p->timer);
	free(p);
	return true;
}

void
bus_request_complete(struct bus *bus, const char *from, struct envelope_view *view)
{
	const Picsec__V1__Error *e;
	struct bus_pending *p;
	struct bus_result res = { .from = from };
	char text[256];

	p = u64map_get(bus->pending, view->env->refer_id);
	/* Only whom we asked (or busd, for it) may answer, and only with the request's reply
	 * type or an Error: callers cast the reply to the type they expect. */
	if (p == NULL || (strcmp(from, p->dest) != 0 && strcmp(from, "busd") != 0)) {
		/* Its caller gave up (timeout or cancel), or it is not ours to take. */
		log_debug("bus: late or unexpected reply %llu from %s",
		    (unsigned long long)view->env->refer_id, from);
		return;
	}
	u64map_take(bus->pending, p->req_id);
	if (view->status == ENVELOPE_OK && (int)view->env->type != MT(ERROR) &&
	    (int)view->env->type != catalog_reply_type(p->type)) {
		view->status = ENVELOPE_BAD_PAYLOAD;
		snprintf(view->detail, sizeof(view->detail), "%s answered %s with %s",
		    from, catalog_type_name(p->type), catalog_type_name((int)view->env->type));
	}
	if (view->status != ENVELOPE_OK) {
		snprintf(text, sizeof(text), "bad reply from '%s': %s", from, view->detail);
		bus->counters.rejected++;
		bus_pending_fail(bus, p, ERRC(DATA_LOSS), text);
		return;
	}
	res.type = (int)view->env->type;
	if (res.type == MT(ERROR)) {
		e = (const Picsec__V1__Error *)view->payload;
		res.error_code = e->code != ERRC(OK) ? (int)e->code : ERRC(UNKNOWN);
		res.error_text = e->text;
	} else {
		res.msg = view->payload;
		res.error_code = ERRC(OK);
	}
	bus_pending_finish(bus, p, &res);
}

struct bus_fail_batch {
	struct bus_pending **items;
	size_t count;
};

struct bus_collect {
	struct bus_fail_batch *batch;
	size_t max;
};

static void
bus_collect_pending(uint64_t key, void *value, void *arg)
{
	struct bus_collect *c = arg;

	(void)key;
	if (c->batch->count < c->max)
		c->batch->items[c->batch->count++] = value;
}

static void
bus_collect_upto(struct bus *bus, struct bus_fail_batch *batch, size_t max)
{
	struct bus_collect c = { batch, max };

	u64map_foreach(bus->pending, bus_collect_pending, &c);
}

void
bus_requests_fail_all(struct bus *bus, int code, const char *text)
{
	struct bus_pending *one[1];
	struct bus_fail_batch batch;
	size_t i, n;

	/* Callbacks may add requests while we fail these: go until none is left. */
	while ((n = u64map_count(bus->pending)) > 0) {
		batch.items = calloc(n, sizeof(*batch.items));
		batch.count = 0;
		if (batch.items == NULL) {
			/* Out of memory: one at a time, found by a visit that stops at once. */
			batch.items = one;
			n = 1;
		}
		bus_collect_upto(bus, &batch, n);
		for (i = 0; i < batch.count; i++)
			u64map_take(bus->pending, batch.items[i]->req_id);
		for (i = 0; i < batch.count; i++)
			bus_pending_fail(bus, batch.items[i], code, text);
		if (batch.items != one)
			free(batch.items);
	}
}

static void
bus_register_done(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	(void)ctx;
	(void)cookie;
	bus->register_req = 0;
	if (res->type == MT(BUS_REGISTERED)) {
		/* An answer that crossed a disconnect is from a busd that is gone. */
		if (bus->state == BUS_CONNECTED) {
			bus->counters.registrations++;
			bus_set_state(bus, BUS_REGISTERED);
		}
		return;
	}
	/* Still connected: the next heartbeat tick tries again. */
	log_warnx("bus: registration as '%s' failed: %s", bus->name,
	    res->error_text != NULL ? res->error_text : "unexpected reply");
}

void
bus_register_send(struct bus *bus)
{
	Picsec__V1__BusRegister reg = PICSEC__V1__BUS_REGISTER__INIT;
	Picsec__V1__ServiceHello hello = PICSEC__V1__SERVICE_HELLO__INIT;
	char host[256];

	if (bus->register_req != 0)
		bus_cancel(bus, bus->register_req);
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	hello.service = bus->service;
	hello.instance = bus->instance;
	hello.incarnation = bus->incarnation;
	hello.pid = (uint32_t)getpid();
	hello.hostname = host;
	hello.version = (char *)(uintptr_t)PICSEC_VERSION;
	hello.started_ns = bus->started_ns;
	hello.heartbeat_ms = bus->heartbeat_ms;
	reg.hello = &hello;
	bus->register_req = bus_request(bus, "busd", MT(BUS_REGISTER), &reg.base,
	    BUS_DEFAULT_TIMEOUT_MS, bus_register_done, NULL, 0);
}

/* bus_call: a request that runs the loop until its result is in. */
struct bus_call_result {
	struct bus_result res;
	ProtobufCMessage *msg; /* our copy of the reply */
	char *error_text;
	char *from;
	bool done;
};

static void
bus_call_done(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct bus_call_result *r = ctx;

	(void)bus;
	(void)cookie;
	r->res = *res;
	r->error_text = strdup(res->error_text != NULL ? res->error_text : "");
	r->from = strdup(res->from != NULL ? res->from : "local");
	if (res->msg != NULL) {
		r->msg = pb_message_dup(res->msg);
		if (r->msg == NULL) {
			r->res.type = MT(ERROR);
			r->res.error_code = ERRC(RESOURCE_EXHAUSTED);
			free(r->error_text);
			r->error_text = strdup("out of memory copying the reply");
		}
	}
	r->res.msg = r->msg;
	r->res.error_text = r->error_text != NULL ? r->error_text : "";
	r->res.from = r->from != NULL ? r->from : "local";
	r->done = true;
}

int
bus_call(struct bus *bus, const char *dest, int type, const ProtobufCMessage *msg,
    unsigned timeout_ms, struct bus_call_result **out)
{
	struct bus_call_result *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	if (bus_request(bus, dest, type, msg, timeout_ms, bus_call_done, r, 0) == 0) {
		struct bus_result failed = {
			.type = MT(ERROR),
			.error_code = errno == EINVAL ? ERRC(INVALID_ARGUMENT) :
			    ERRC(RESOURCE_EXHAUSTED),
			.error_text = errno == EINVAL ? "bad destination or message" :
			    "cannot send the request: the queue towards busd is full",
			.from = "local",
		};

		bus_call_done(bus, &failed, r, 0);
	}
	while (!r->done)
		ev_run(bus->loop, EVRUN_ONCE);
	*out = r;
	return r->res.type == MT(ERROR) ? -1 : 0;
}

const struct bus_result *
bus_call_get(const struct bus_call_result *r)
{
	return &r->res;
}

void
bus_call_result_free(struct bus_call_result *r)
{
	if (r == NULL)
		return;
	if (r->msg != NULL)
		protobuf_c_message_free_unpacked(r->msg, &wiping_allocator);
	free(r->error_text);
	free(r->from);
	free(r);
}
