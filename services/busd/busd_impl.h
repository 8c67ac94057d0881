/* Private to picsec-busd. */
#ifndef PICSEC_BUSD_IMPL_H
#define PICSEC_BUSD_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <zmq.h>

#include "bus.pb-c.h"
#include "busd.h"
#include "envelope.h"

struct curve_allowlist;
struct timers;
struct zwatch;

enum {
	BUSD_NAME_MAX = 128,
	BUSD_ROUTE_MAX = 256,
	BUSD_PARK_MAX = 1024,
	BUSD_DEFAULT_GRACE_MS = 3000,
	BUSD_MAX_MESSAGE = 16 * 1024 * 1024, /* no frame may make busd allocate more */
	BUSD_SILENCE_BEATS = 5,		      /* missed heartbeats before a name is dropped */
};

struct busd_service {
	char name[BUSD_NAME_MAX];
	char rid[BUSD_ROUTE_MAX]; /* the routing id of its DEALER */
	Picsec__V1__ServiceHello *hello;
	uint64_t registered_ns;
	uint64_t requests_routed;
	uint64_t last_heard_ms; /* registration or heartbeat: silence past a limit unregisters */
};

/* A request that arrived, during the start-up grace period, for a name not registered yet. */
struct busd_parked {
	struct busd_parked *next;
	char to[BUSD_NAME_MAX];
	zmq_msg_t sender;
	zmq_msg_t env;
};

struct busd_counters {
	uint64_t events_forwarded;
	uint64_t requests_routed;
	uint64_t replies_routed;
	uint64_t unroutable;
	uint64_t malformed;
	uint64_t parked;
	uint64_t auth_refused;
	uint64_t sent;
};

struct busd {
	struct ev_loop *loop;
	void *zctx;
	void *xsub, *xpub, *router, *tap, *zap;
	struct zwatch *xsub_watch, *xpub_watch, *router_watch, *zap_watch;
	struct timers *timers;
	uint64_t heartbeat_timer;
	uint64_t grace_timer;
	bool in_grace;

	char rundir[4096];
	int lock_fd;
	unsigned heartbeat_ms;
	struct curve_allowlist *allow;

	struct env_source src;
	uint64_t incarnation;
	uint64_t seq;
	uint64_t started_ms;
	uint64_t started_ns;

	struct busd_service *services;
	size_t nservices;
	struct busd_parked *parked, **parked_tail; /* in arrival order */
	size_t nparked;
	struct busd_counters counters;
};

/* A request addressed to "busd" itself, being answered. */
struct busd_request {
	struct busd *bd;
	const char *sender; /* routing id */
	uint64_t req_id;
	int type;
	bool replied;
};

/* busd.c */
void busd_tap(struct busd *bd, const char *kind, const char *route, size_t route_len,
    zmq_msg_t *env);
/* Publishes an event of busd's own (or, with src, on behalf of a service). */
void busd_publish(struct busd *bd, const char *topic, const struct env_source *src, int type,
    const ProtobufCMessage *msg);

/* busd_router.c */
bool busd_router_readable(void *sock, void *arg);
void busd_reply(struct busd_request *req, int type, const ProtobufCMessage *msg);
void busd_reply_error(struct busd_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct busd_service *busd_service_by_name(struct busd *bd, const char *name);
struct busd_service *busd_service_by_rid(struct busd *bd, const char *rid);
void busd_release_parked(struct busd *bd, const char *name);
void busd_grace_end(void *ctx, uint64_t id);
void busd_parked_free_all(struct busd *bd);

/* busd_handlers.c */
void busd_handle_request(struct busd_request *req, const struct envelope_view *view);
void busd_services_free(struct busd *bd);
void busd_services_remove(struct busd *bd, struct busd_service *svc);
void busd_republish_hellos(struct busd *bd, const char *prefix, size_t prefix_len);
/* A heartbeat event went by: its sender is alive. */
void busd_heard(struct busd *bd, const char *topic, size_t topic_len);
/* Unregisters services that have been silent too long. */
void busd_expire_silent(struct busd *bd);

/* busd_auth.c */
int busd_auth_start(struct busd *bd, char *err, size_t errlen);
bool busd_zap_readable(void *sock, void *arg);

#endif
