/* The bus client's connection: sockets, the monitor that tells us when busd (re)appears,
 * registration state, heartbeats and publishing. */
#include "bus_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <sodium.h>
#include <zmq.h>

#include "bus.pb-c.h"
#include "curve.h"
#include "endpoints.h"
#include "log.h"
#include "secbuf.h"
#include "timer.h"
#include "u64map.h"
#include "zwatch.h"

enum {
	BUS_EVENT_HWM = 100000,	   /* events are bursty (SA sets); stream gaps are re-synced */
	BUS_REQUEST_HWM = 10000,
	BUS_LINGER_MS = 250,	   /* lets a last reply or event out at exit, never longer */
	BUS_RECONNECT_MS = 100,
	BUS_RECONNECT_MAX_MS = 1000,
	BUS_ZMTP_HEARTBEAT_MS = 1000,
	BUS_ZMTP_TIMEOUT_MS = 3000,
	BUS_REFRESH_BEATS = 10,
	BUS_MAX_MESSAGE = 16 * 1024 * 1024,
};

static const char *const bus_state_names[] = {
	[BUS_DISCONNECTED] = "disconnected",
	[BUS_CONNECTED] = "connected",
	[BUS_REGISTERED] = "registered",
};

const char *
bus_state_name(enum bus_state state)
{
	if ((size_t)state >= ARRAY_SIZE(bus_state_names))
		return "?";
	return bus_state_names[state];
}

/* Ready to publish: our publisher is subscribed to by busd, and a named service is
 * registered (so its hello went first). */
static bool
bus_ready(const struct bus *bus)
{
	if (!bus->pub_subscribed)
		return false;
	return bus->name[0] == '\0' ? bus->state >= BUS_CONNECTED : bus->state == BUS_REGISTERED;
}

static void bus_queue_flush(struct bus *bus);

/* The one place the connection state changes. */
void
bus_set_state(struct bus *bus, enum bus_state state)
{
	enum bus_state old = bus->state;

	if (old == state)
		return;
	bus->state = state;
	log_debug("bus %s: %s -> %s", bus->name[0] != '\0' ? bus->name : bus->routing_id,
	    bus_state_name(old), bus_state_name(state));
	if (bus_ready(bus))
		bus_queue_flush(bus);
	if (bus->state_fn != NULL)
		bus->state_fn(bus, state, bus->state_ctx);
}

static int
bus_setopt_int(void *sock, int opt, int value)
{
	return zmq_setsockopt(sock, opt, &value, sizeof(value));
}

static int
bus_socket_setup(void *sock, int hwm)
{
	return bus_setopt_int(sock, ZMQ_LINGER, BUS_LINGER_MS) == -1 ||
	    bus_setopt_int(sock, ZMQ_SNDHWM, hwm) == -1 ||
	    bus_setopt_int(sock, ZMQ_RCVHWM, hwm) == -1 ||
	    bus_setopt_int(sock, ZMQ_RECONNECT_IVL, BUS_RECONNECT_MS) == -1 ||
	    bus_setopt_int(sock, ZMQ_RECONNECT_IVL_MAX, BUS_RECONNECT_MAX_MS) == -1 ||
	    bus_setopt_int(sock, ZMQ_HEARTBEAT_IVL, BUS_ZMTP_HEARTBEAT_MS) == -1 ||
	    bus_setopt_int(sock, ZMQ_HEARTBEAT_TIMEOUT, BUS_ZMTP_TIMEOUT_MS) == -1 ||
	    bus_setopt_int(sock, ZMQ_IPV6, 1) == -1 ||
	    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &(int64_t){ BUS_MAX_MESSAGE },
	    sizeof(int64_t)) == -1 ? -1 : 0;
}

/* Our publisher is an XPUB so that it hears busd's XSUB subscribe to everything: a PUB
 * socket drops what it sends before that subscription arrives, and there is no other way to
 * know when it has. The subscription stays with the connection's pipe across busd restarts. */
static bool
bus_pub_readable(void *sock, void *arg)
{
	struct bus *bus = arg;
	unsigned char sub[64];
	int n;

	n = zmq_recv(sock, sub, sizeof(sub), ZMQ_DONTWAIT);
	if (n == -1)
		return false;
	zsock_drain_more(sock);
	if (n >= 1 && sub[0] == 1 && !bus->pub_subscribed) {
		bus->pub_subscribed = true;
		if (bus_ready(bus)) {
			bus_enter(bus);
			bus_queue_flush(bus);
			if (bus_leave(bus))
				return false;
		}
	}
	return true;
}

/* The monitor of the request socket reports each (re)connection to busd: that is when a
 * named service registers, so a restarted busd learns our name again by itself. */
static bool
bus_monitor_readable(void *sock, void *arg)
{
	struct bus *bus = arg;
	unsigned char head[6];
	char addr[BUS_ENDPOINT_MAX];
	uint16_t event;
	uint32_t value;
	int n;

	n = zmq_recv(sock, head, sizeof(head), ZMQ_DONTWAIT);
	if (n == -1)
		return false;
	if (n < (int)sizeof(head)) {
		zsock_drain_more(sock);
		return true;
	}
	addr[0] = '\0';
	n = zmq_recv(sock, addr, sizeof(addr) - 1, ZMQ_DONTWAIT);
	if (n >= 0)
		addr[n < (int)sizeof(addr) - 1 ? n : (int)sizeof(addr) - 1] = '\0';
	zsock_drain_more(sock);
	memcpy(&event, head, sizeof(event));
	memcpy(&value, head + 2, sizeof(value));

	bus_enter(bus);
	switch (event) {
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		bus->refused[0] = '\0';
		bus_set_state(bus, BUS_CONNECTED);
		if (bus->name[0] != '\0')
			bus_register_send(bus);
		break;
	case ZMQ_EVENT_DISCONNECTED:
		log_debug("bus: lost %s", addr);
		bus_set_state(bus, BUS_DISCONNECTED);
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		snprintf(bus->refused, sizeof(bus->refused),
		    "busd at %s refused our key (CURVE status %u)", addr, (unsigned)value);
		log_warnx("bus: %s", bus->refused);
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		snprintf(bus->refused, sizeof(bus->refused),
		    "handshake with busd at %s failed (wrong server key or not a picsec bus?)",
		    addr);
		log_warnx("bus: %s", bus->refused);
		break;
	default:
		break;
	}
	return !bus_leave(bus);
}

static void
bus_heartbeat(void *ctx, uint64_t id)
{
	struct bus *bus = ctx;
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;
	char topic[BUS_NAME_MAX + 16];

	(void)id;
	bus->heartbeat_timer = timers_add(bus->timers, bus->heartbeat_ms / 1000.0, bus_heartbeat, 0);
	/* A registration lost with a restarting busd is retried here, and a standing one is
	 * refreshed now and then: busd drops names it has not heard from for a while. */
	bus->beats++;
	if ((bus->state == BUS_CONNECTED && bus->register_req == 0) ||
	    (bus->state == BUS_REGISTERED && bus->beats % BUS_REFRESH_BEATS == 0))
		bus_register_send(bus);
	if (bus->state != BUS_REGISTERED)
		return;
	hb.uptime_ms = monotonic_ms() - bus->started_ms;
	hb.sent = bus->counters.sent;
	hb.received = bus->counters.received;
	hb.rejected = bus->counters.rejected;
	snprintf(topic, sizeof(topic), "heartbeat.%s", bus->name);
	bus_publish(bus, topic, MT(HEARTBEAT), &hb.base);
}

static int
bus_copy_name(char *dst, size_t dstlen, const char *src, const char *what, char *err,
    size_t errlen)
{
	size_t i, len = strlen(src);

	if (len == 0 || len >= dstlen) {
		snprintf(err, errlen, "%s '%s' must be 1..%zu characters", what, src, dstlen - 1);
		return -1;
	}
	for (i = 0; i < len; i++) {
		/* Names become topics and routes: printable, no spaces, '@' reserved for routes. */
		if (src[i] <= ' ' || src[i] > '~' || src[i] == '@') {
			snprintf(err, errlen, "%s '%s' has a character that is not allowed", what,
			    src);
			return -1;
		}
	}
	memcpy(dst, src, len + 1);
	return 0;
}

static int
bus_identity(struct bus *bus, const struct bus_options *opts, char *err, size_t errlen)
{
	if (bus_copy_name(bus->service, sizeof(bus->service),
	    opts->service != NULL ? opts->service : "client", "service name", err, errlen) == -1)
		return -1;
	if (opts->instance != NULL && opts->instance[0] != '\0' &&
	    bus_copy_name(bus->instance, sizeof(bus->instance), opts->instance, "instance", err,
	    errlen) == -1)
		return -1;
	if (!opts->anonymous && strcmp(bus->service, "busd") == 0 && bus->instance[0] == '\0') {
		snprintf(err, errlen, "the service name 'busd' is picsec-busd's own");
		return -1;
	}
	if (!opts->anonymous) {
		if (bus->instance[0] != '\0')
			snprintf(bus->name, sizeof(bus->name), "%s.%s", bus->service, bus->instance);
		else
			snprintf(bus->name, sizeof(bus->name), "%s", bus->service);
	}
	randombytes_buf(&bus->incarnation, sizeof(bus->incarnation));
	/* Request ids start anywhere: a stray reply cannot guess them. */
	bus->next_req_id = 1 + randombytes_uniform(1U << 30);
	snprintf(bus->routing_id, sizeof(bus->routing_id), "@%s/%016llx",
	    bus->name[0] != '\0' ? bus->name : bus->service, (unsigned long long)bus->incarnation);
	bus->src.service = bus->service;
	bus->src.instance = bus->instance;
	bus->src.incarnation = bus->incarnation;
	return 0;
}

static int
bus_open_sockets(struct bus *bus, const struct bus_options *opts, char *err, size_t errlen)
{
	struct bus_endpoints ep;
	char monitor_addr[64];
	bool tcp = opts->endpoint != NULL && opts->endpoint[0] != '\0';
	void *socks[3];
	size_t i;

	if (tcp) {
		if (bus_endpoints_tcp(opts->endpoint, &ep, err, errlen) == -1)
			return -1;
		if (opts->server_key_file == NULL || opts->client_key_file == NULL) {
			snprintf(err, errlen, "%s: a TCP bus needs busd's public key and our secret "
			    "key (CURVE)", opts->endpoint);
			return -1;
		}
	} else if (bus_endpoints_ipc(bus_rundir(opts->rundir), &ep, err, errlen) == -1) {
		return -1;
	}

	bus->pub = socks[0] = zmq_socket(bus->zctx, ZMQ_XPUB);
	bus->sub = socks[1] = zmq_socket(bus->zctx, ZMQ_SUB);
	bus->dealer = socks[2] = zmq_socket(bus->zctx, ZMQ_DEALER);
	bus->monitor = zmq_socket(bus->zctx, ZMQ_PAIR);
	if (bus->pub == NULL || bus->sub == NULL || bus->dealer == NULL || bus->monitor == NULL)
		goto zerr;
	for (i = 0; i < ARRAY_SIZE(socks); i++) {
		if (bus_socket_setup(socks[i], i == 2 ? BUS_REQUEST_HWM : BUS_EVENT_HWM) == -1)
			goto zerr;
		if (tcp && curve_client_setup(socks[i], opts->server_key_file,
		    opts->client_key_file, err, errlen) == -1)
			return -1;
	}
	if (zmq_setsockopt(bus->dealer, ZMQ_ROUTING_ID, bus->routing_id,
	    strlen(bus->routing_id)) == -1 || bus_setopt_int(bus->pub, ZMQ_XPUB_VERBOSE, 1) == -1)
		goto zerr;
	snprintf(monitor_addr, sizeof(monitor_addr), "inproc://bus-monitor-%p", (void *)bus);
	if (zmq_socket_monitor(bus->dealer, monitor_addr, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
	    ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == -1 ||
	    zmq_connect(bus->monitor, monitor_addr) == -1)
		goto zerr;
	if (zmq_connect(bus->pub, ep.events_in) == -1 ||
	    zmq_connect(bus->sub, ep.events_out) == -1 ||
	    zmq_connect(bus->dealer, ep.requests) == -1) {
		snprintf(err, errlen, "connect to the bus at %s: %s", ep.requests,
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
zerr:
	snprintf(err, errlen, "bus sockets: %s", zmq_strerror(zmq_errno()));
	return -1;
}

struct bus *
bus_new(struct ev_loop *loop, const struct bus_options *opts, char *err, size_t errlen)
{
	struct bus *bus;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return NULL;
	}
	bus = calloc(1, sizeof(*bus));
	if (bus == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bus->loop = loop;
	bus->state = BUS_DISCONNECTED;
	bus->started_ms = monotonic_ms();
	bus->started_ns = realtime_ns();
	bus->heartbeat_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : BUS_DEFAULT_HEARTBEAT_MS;
	if (bus_identity(bus, opts, err, errlen) == -1)
		goto error;
	bus->zctx = zmq_ctx_new();
	bus->pending = u64map_new();
	bus->timers = timers_new(loop, bus);
	if (bus->zctx == NULL || bus->pending == NULL || bus->timers == NULL) {
		snprintf(err, errlen, "out of memory");
		goto error;
	}
	if (bus_open_sockets(bus, opts, err, errlen) == -1)
		goto error;
	bus->pub_watch = zwatch_new(loop, bus->pub, bus_pub_readable, bus, 0);
	bus->sub_watch = zwatch_new(loop, bus->sub, bus_sub_readable, bus, 0);
	bus->dealer_watch = zwatch_new(loop, bus->dealer, bus_dealer_readable, bus, 0);
	bus->monitor_watch = zwatch_new(loop, bus->monitor, bus_monitor_readable, bus, 0);
	if (bus->pub_watch == NULL || bus->sub_watch == NULL || bus->dealer_watch == NULL ||
	    bus->monitor_watch == NULL) {
		snprintf(err, errlen, "cannot watch the bus sockets");
		goto error;
	}
	/* Every call on these sockets goes through this library, which reports it. */
	zwatch_track(bus->pub_watch);
	zwatch_track(bus->sub_watch);
	zwatch_track(bus->dealer_watch);
	zwatch_track(bus->monitor_watch);
	if (bus->name[0] != '\0') {
		bus->heartbeat_timer = timers_add(bus->timers, bus->heartbeat_ms / 1000.0,
		    bus_heartbeat, 0);
		if (bus->heartbeat_timer == 0) {
			snprintf(err, errlen, "out of memory");
			goto error;
		}
	}
	return bus;
error:
	bus_free(bus);
	return NULL;
}

static void
bus_close_socket(void **sock)
{
	if (*sock != NULL)
		zmq_close(*sock);
	*sock = NULL;
}

static void
bus_queue_clear(struct bus *bus)
{
	struct queued_event *q;

	while ((q = bus->queue_head) != NULL) {
		bus->queue_head = q->next;
		wiping_free(q->env);
		free(q);
	}
	bus->queue_tail = NULL;
	bus->queued = 0;
}

static void
bus_destroy(struct bus *bus)
{
	int saved_errno = errno;

	/* Callbacks run from here (failed requests) may call back in: no new requests, and a
	 * second bus_free() is a no-op. */
	bus->closing = true;
	bus->depth++;
	bus_taken_fail_all(bus);
	if (bus->pending != NULL)
		bus_requests_fail_all(bus, ERRC(CANCELLED), "the bus client is shutting down");
	bus_queue_clear(bus);
	zwatch_free(bus->pub_watch);
	zwatch_free(bus->sub_watch);
	zwatch_free(bus->dealer_watch);
	zwatch_free(bus->monitor_watch);
	timers_free(bus->timers);
	if (bus->dealer != NULL)
		zmq_socket_monitor(bus->dealer, NULL, 0);
	bus_close_socket(&bus->monitor);
	bus_close_socket(&bus->pub);
	bus_close_socket(&bus->sub);
	bus_close_socket(&bus->dealer);
	if (bus->zctx != NULL)
		zmq_ctx_term(bus->zctx);
	u64map_free(bus->pending);
	free(bus);
	errno = saved_errno;
}

void
bus_free(struct bus *bus)
{
	if (bus == NULL || bus->closing)
		return;
	if (bus->depth > 0) {
		bus->free_pending = true;
		bus->closing = true;
		return;
	}
	bus_destroy(bus);
}

void
bus_enter(struct bus *bus)
{
	bus->depth++;
}

bool
bus_leave(struct bus *bus)
{
	if (--bus->depth > 0 || !bus->free_pending)
		return false;
	bus_destroy(bus);
	return true;
}

void
bus_set_handlers(struct bus *bus, const struct bus_handler *table, size_t count, void *ctx)
{
	bus->handlers = table;
	bus->nhandlers = count;
	bus->handler_ctx = ctx;
}

void
bus_on_state(struct bus *bus, bus_state_fn *fn, void *ctx)
{
	bus->state_fn = fn;
	bus->state_ctx = ctx;
}

int
bus_subscribe(struct bus *bus, const char *topic_prefix)
{
	int rc = zmq_setsockopt(bus->sub, ZMQ_SUBSCRIBE, topic_prefix, strlen(topic_prefix));

	zwatch_touched(bus->sub_watch);
	return rc;
}

int
bus_unsubscribe(struct bus *bus, const char *topic_prefix)
{
	int rc = zmq_setsockopt(bus->sub, ZMQ_UNSUBSCRIBE, topic_prefix, strlen(topic_prefix));

	zwatch_touched(bus->sub_watch);
	return rc;
}

static void
bus_zmsg_wipe_free(void *data, void *hint)
{
	(void)hint;
	wiping_free(data);
}

/* Sends two frames; the second takes ownership of env (a wiping_alloc() buffer). */
static int
bus_send_pair(struct bus *bus, void *sock, const char *first, size_t first_len, void *env,
    size_t len)
{
	zmq_msg_t msg;

	/* busd drops the connection of a peer whose frame passes the limit (ZMQ_MAXMSGSIZE),
	 * losing whatever else was on it: such a message is not sent at all. */
	if (len > BUS_MAX_MESSAGE) {
		log_warnx("a message of %zu bytes is more than the bus carries (%d): not sent",
		    len, BUS_MAX_MESSAGE);
		wiping_free(env);
		bus->counters.send_failed++;
		errno = EMSGSIZE;
		return -1;
	}
	/* ZeroMQ frees the frame when it is done with it: wipe it then, it may hold keys.
	 * Prepared before the first part goes: once that is queued, the rest must follow. */
	if (zmq_msg_init_data(&msg, env, len, bus_zmsg_wipe_free, NULL) == -1) {
		wiping_free(env);
		bus->counters.send_failed++;
		return -1;
	}
	if (zmq_send(sock, first, first_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    zmq_msg_send(&msg, sock, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&msg);
		bus->counters.send_failed++;
		zwatch_touched(sock == bus->pub ? bus->pub_watch : bus->dealer_watch);
		return -1;
	}
	bus->counters.sent++;
	zwatch_touched(sock == bus->pub ? bus->pub_watch : bus->dealer_watch);
	return 0;
}

int
bus_send_routed(struct bus *bus, const char *route, const struct env_header *hdr,
    const ProtobufCMessage *payload)
{
	struct env_header h = *hdr;
	void *env;
	size_t len;

	h.seq = ++bus->seq;
	env = envelope_pack(&bus->src, &h, payload, &len);
	if (env == NULL) {
		log_warnx("%s: cannot pack %s for %s", __func__,
		    catalog_type_name(hdr->type) ? catalog_type_name(hdr->type) : "?", route);
		return -1;
	}
	return bus_send_pair(bus, bus->dealer, route, strlen(route), env, len);
}

static void
bus_queue_flush(struct bus *bus)
{
	struct queued_event *q;

	while ((q = bus->queue_head) != NULL) {
		bus->queue_head = q->next;
		bus_send_pair(bus, bus->pub, q->topic, q->topic_len, q->env, q->len);
		free(q);
	}
	bus->queue_tail = NULL;
	bus->queued = 0;
}

int
bus_publish(struct bus *bus, const char *topic, int type, const ProtobufCMessage *msg)
{
	struct env_header hdr = { .type = type };
	struct queued_event *q;
	size_t topic_len = strlen(topic), len;
	void *env;

	hdr.seq = ++bus->seq;
	env = envelope_pack(&bus->src, &hdr, msg, &len);
	if (env == NULL) {
		log_warnx("%s: cannot pack %s for topic %s", __func__,
		    catalog_type_name(type) ? catalog_type_name(type) : "?", topic);
		return -1;
	}
	if (bus_ready(bus))
		return bus_send_pair(bus, bus->pub, topic, topic_len, env, len);
	/* Until busd has us, our publisher would drop the event: keep it, in order. */
	if (bus->queued >= BUS_QUEUE_MAX || (q = malloc(sizeof(*q) + topic_len + 1)) == NULL) {
		wiping_free(env);
		bus->counters.send_failed++;
		return -1;
	}
	q->next = NULL;
	q->topic_len = topic_len;
	q->env = env;
	q->len = len;
	memcpy(q->topic, topic, topic_len + 1);
	if (bus->queue_tail != NULL)
		bus->queue_tail->next = q;
	else
		bus->queue_head = q;
	bus->queue_tail = q;
	bus->queued++;
	return 0;
}

static void
bus_wait_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	*(bool *)w->data = true;
	ev_break(loop, EVBREAK_ONE);
}

int
bus_wait_ready(struct bus *bus, unsigned timeout_ms)
{
	ev_timer deadline;
	bool expired = false;

	ev_timer_init(&deadline, bus_wait_timeout, timeout_ms / 1000.0, 0.);
	deadline.data = &expired;
	ev_timer_start(bus->loop, &deadline);
	while (!bus_ready(bus) && !expired)
		ev_run(bus->loop, EVRUN_ONCE);
	ev_timer_stop(bus->loop, &deadline);
	if (bus_ready(bus))
		return 0;
	errno = ETIMEDOUT;
	return -1;
}

const char *
bus_name(const struct bus *bus)
{
	return bus->name[0] != '\0' ? bus->name : bus->routing_id;
}

uint64_t
bus_incarnation(const struct bus *bus)
{
	return bus->incarnation;
}

enum bus_state
bus_get_state(const struct bus *bus)
{
	return bus->state;
}

struct ev_loop *
bus_loop(const struct bus *bus)
{
	return bus->loop;
}

void
bus_get_counters(const struct bus *bus, struct bus_counters *out)
{
	*out = bus->counters;
}
