/* The bus client every picsec process uses.
 *
 * A process connects three sockets to picsec-busd: a PUB for the events it publishes, a SUB
 * for the topics it subscribes to, and a DEALER for requests and replies. A named service
 * registers on every (re)connect, sending its ServiceHello, and publishes heartbeats; busd can
 * restart at any time and the client re-registers by itself.
 *
 * Incoming requests and events are dispatched through a handler table indexed by message type
 * (bounds-checked). The dispatcher owns the unpacked message and frees it when the handler
 * returns; a request handler must answer with exactly one bus_reply() or bus_reply_error(), or
 * take the message with bus_msg_take() to answer later. A request nobody answers gets an Error
 * from the dispatcher; a malformed or unknown one gets an Error and is counted. */
#ifndef PICSEC_BUS_H
#define PICSEC_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "catalog.h"
#include "envelope.pb-c.h"

struct ev_loop;
struct bus;
struct bus_msg;

struct bus_options {
	const char *service;	     /* who we are in every envelope: "configd", "cli" */
	const char *instance;	     /* e.g. "ms-0/0/0"; the routable name is "service.instance" */
	bool anonymous;		     /* CLI, busmon: no registration, hello or heartbeats */
	const char *rundir;	     /* ipc:// sockets here (default: bus_rundir(NULL)) */
	const char *endpoint;	     /* tcp://HOST:PORT instead of the rundir (needs the keys) */
	const char *server_key_file; /* busd's public key, for tcp:// */
	const char *client_key_file; /* our secret key, for tcp:// */
	unsigned heartbeat_ms;	     /* 0: BUS_DEFAULT_HEARTBEAT_MS */
};

enum { BUS_DEFAULT_HEARTBEAT_MS = 1000, BUS_DEFAULT_TIMEOUT_MS = 3000 };

/* One handler for one message type: called for requests and for events of that type. */
typedef void bus_handler_fn(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx);
struct bus_handler {
	bus_handler_fn *fn;
};

/* The outcome of a request: a typed reply, or an error (from the service, from busd, or made
 * locally on timeout). */
struct bus_result {
	int type;		     /* MT_ERROR on any failure */
	const ProtobufCMessage *msg; /* the reply, NULL on error */
	int error_code;		     /* E_OK unless type is MT_ERROR */
	const char *error_text;
	const char *from;	     /* the name of who answered: a service, "busd", or "local" */
};

/* ctx: the long-lived context given with the request; cookie: the caller's id for what the
 * request is about (look it up, it may be gone). */
typedef void bus_reply_fn(struct bus *bus, const struct bus_result *res, void *ctx,
    uint64_t cookie);

enum bus_state {
	BUS_DISCONNECTED,
	BUS_CONNECTED,	/* the request socket is up; a named service is not yet registered */
	BUS_REGISTERED, /* busd routes our name to us; re-sync state streams now */
};
typedef void bus_state_fn(struct bus *bus, enum bus_state state, void *ctx);

/* Connects (asynchronously: busd need not be up yet). NULL with a message in err. */
struct bus *bus_new(struct ev_loop *loop, const struct bus_options *opts, char *err,
    size_t errlen);
/* Answers requests still taken with E_UNAVAILABLE, fails pending requests (E_CANCELLED),
 * closes. Safe from inside any callback of this bus: then it happens when that returns. */
void bus_free(struct bus *bus);

/* The handler table (indexed by MsgType) and its context. Types with no entry: requests get
 * E_UNIMPLEMENTED, events are ignored. MT_PING is answered by the library unless
 * the table handles it. */
void bus_set_handlers(struct bus *bus, const struct bus_handler *table, size_t count, void *ctx);
void bus_on_state(struct bus *bus, bus_state_fn *fn, void *ctx);

int bus_subscribe(struct bus *bus, const char *topic_prefix);
int bus_unsubscribe(struct bus *bus, const char *topic_prefix);
/* 0, or -1 (payload does not match type, or the queue towards busd is full). */
int bus_publish(struct bus *bus, const char *topic, int type, const ProtobufCMessage *msg);

/* Sends a request to the service registered as dest; cb gets exactly one result, the reply or
 * an error, at the latest after timeout_ms (0: BUS_DEFAULT_TIMEOUT_MS). A reply counts only
 * from dest (or busd) and only of the request's reply type (catalog_reply_type) or Error;
 * anything else ends the request with E_DATA_LOSS. Returns the request id (for bus_cancel),
 * or 0 when nothing was sent (errno EINVAL: not a request type or a bad name; ECANCELED: the
 * bus is closing): then cb has not been and will not be called. */
uint64_t bus_request(struct bus *bus, const char *dest, int type, const ProtobufCMessage *msg,
    unsigned timeout_ms, bus_reply_fn *cb, void *ctx, uint64_t cookie);
/* Forgets a pending request: its callback will not run. */
bool bus_cancel(struct bus *bus, uint64_t req_id);

/* A request that runs the loop until its result arrives: for command-line tools and tests.
 * Returns 0 for a typed reply, -1 for an error; *out (free with bus_result_free) has both. */
struct bus_call_result;
int bus_call(struct bus *bus, const char *dest, int type, const ProtobufCMessage *msg,
    unsigned timeout_ms, struct bus_call_result **out);
const struct bus_result *bus_call_get(const struct bus_call_result *r);
void bus_call_result_free(struct bus_call_result *r);

/* Runs the loop until the bus is registered (named) or connected (anonymous), or timeout. */
int bus_wait_ready(struct bus *bus, unsigned timeout_ms);

/* About a received message, inside a handler. */
int bus_msg_type(const struct bus_msg *m);
bool bus_msg_is_request(const struct bus_msg *m);
const char *bus_msg_topic(const struct bus_msg *m); /* the event's topic, or the sender */
const Picsec__V1__Envelope *bus_msg_envelope(const struct bus_msg *m);
struct bus *bus_msg_bus(const struct bus_msg *m);

/* Answers a request; -1 if m is an event or was answered already. */
int bus_reply(struct bus_msg *m, int type, const ProtobufCMessage *msg);
int bus_reply_error(struct bus_msg *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Keeps m (and its payload) past the handler's return; answer it later through the returned
 * copy, then bus_msg_free it. m itself is dead from here on. A taken request freed without an
 * answer is answered with an Error. NULL if m was taken already (or out of memory). */
struct bus_msg *bus_msg_take(struct bus_msg *m);
void bus_msg_free(struct bus_msg *m);

/* Identity and counters. */
const char *bus_name(const struct bus *bus); /* routable name, or the anonymous routing id */
uint64_t bus_incarnation(const struct bus *bus);
enum bus_state bus_get_state(const struct bus *bus);
struct ev_loop *bus_loop(const struct bus *bus);

struct bus_counters {
	uint64_t sent;
	uint64_t received;
	uint64_t rejected;	/* malformed or unknown messages answered with Error or dropped */
	uint64_t send_failed;	/* queue towards busd full */
	uint64_t timeouts;
	uint64_t registrations;
};
void bus_get_counters(const struct bus *bus, struct bus_counters *out);

const char *bus_state_name(enum bus_state state);

#endif
