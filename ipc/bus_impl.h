/* Private to the bus client: shared by bus.c (connection), bus_request.c (outgoing requests)
 * and bus_dispatch.c (incoming messages). Nothing outside ipc/ includes this. */
#ifndef PICSEC_BUS_IMPL_H
#define PICSEC_BUS_IMPL_H

#include "bus.h"
#include "envelope.h"

struct timers;
struct u64map;
struct zwatch;

enum {
	BUS_NAME_MAX = 128,
	BUS_ROUTE_MAX = 256, /* ZeroMQ routing ids are at most 255 bytes */
};

/* An event published before busd had us subscribed; sent when we become ready. */
struct queued_event {
	struct queued_event *next;
	size_t topic_len;
	size_t len;
	void *env; /* from envelope_pack(): wiping_free() it */
	char topic[];
};

enum { BUS_QUEUE_MAX = 10000 };

struct bus_msg {
	struct bus *bus; /* NULL once the bus is gone (a taken message outliving it) */
	struct envelope_view view;
	char from[BUS_ROUTE_MAX]; /* events: the topic; requests: the caller's route */
	bool is_request;
	bool replied;
	bool taken;	 /* this copy gave its contents to a heap copy */
	struct bus_msg *prev, *next; /* the bus's list of taken messages */
};

struct bus {
	struct ev_loop *loop;
	void *zctx;
	void *pub, *sub, *dealer, *monitor;
	struct zwatch *pub_watch, *sub_watch, *dealer_watch, *monitor_watch;
	struct timers *timers;
	uint64_t heartbeat_timer;

	char service[64];
	char instance[64];
	char name[BUS_NAME_MAX];       /* the routable name, "" for anonymous clients */
	char routing_id[BUS_ROUTE_MAX]; /* "@name/incarnation": where replies come back */
	struct env_source src;
	uint64_t incarnation;
	uint64_t seq;
	uint64_t next_req_id;
	uint64_t started_ms;
	uint64_t started_ns;
	unsigned heartbeat_ms;
	uint64_t beats;

	enum bus_state state;
	bool pub_subscribed;   /* busd's XSUB has told our publisher to send it everything */
	uint64_t register_req; /* the pending BusRegister, 0 when none */
	char refused[160];     /* why busd refused our connection (CURVE), for error texts */

	const struct bus_handler *handlers;
	size_t nhandlers;
	void *handler_ctx;
	bus_state_fn *state_fn;
	void *state_ctx;

	struct queued_event *queue_head, *queue_tail; /* published before we were ready */
	size_t queued;
	unsigned depth;	   /* callbacks of ours on the stack: bus_free waits for them */
	bool free_pending; /* bus_free was called inside one of them */
	bool closing;	   /* being freed: no new requests */
	struct u64map *pending;	 /* req_id -> struct bus_pending */
	struct bus_msg *taken;	 /* requests kept past their handler */
	struct bus_counters counters;
};

/* bus.c */
void bus_set_state(struct bus *bus, enum bus_state state);
/* Around every entry from the loop that can reach user code: a bus_free() from inside is
 * carried out by the bus_leave() that ends the outermost one, which then returns true and
 * the caller must not touch the bus again. */
void bus_enter(struct bus *bus);
bool bus_leave(struct bus *bus);
/* Sends [route][envelope(type, payload)] on the DEALER. */
int bus_send_routed(struct bus *bus, const char *route, const struct env_header *hdr,
    const ProtobufCMessage *payload);

/* bus_request.c */
void bus_requests_fail_all(struct bus *bus, int code, const char *text);
void bus_request_complete(struct bus *bus, const char *from, struct envelope_view *view);
void bus_register_send(struct bus *bus);

/* bus_dispatch.c */
bool bus_dealer_readable(void *sock, void *arg);
bool bus_sub_readable(void *sock, void *arg);
void bus_taken_fail_all(struct bus *bus);

#endif
