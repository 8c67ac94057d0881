/* Requests to "busd" itself, and the registry of named services. */
#include "busd_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "picsec_build.h"
#include "secbuf.h"

typedef void busd_handler_fn(struct busd_request *req, const ProtobufCMessage *payload);

struct busd_service *
busd_service_by_name(struct busd *bd, const char *name)
{
	size_t i;

	/* A linear scan: a gateway runs a dozen services, and this beats hashing at that size. */
	for (i = 0; i < bd->nservices; i++) {
		if (strcmp(bd->services[i].name, name) == 0)
			return &bd->services[i];
	}
	return NULL;
}

struct busd_service *
busd_service_by_rid(struct busd *bd, const char *rid)
{
	size_t i;

	for (i = 0; i < bd->nservices; i++) {
		if (strcmp(bd->services[i].rid, rid) == 0)
			return &bd->services[i];
	}
	return NULL;
}

void
busd_services_remove(struct busd *bd, struct busd_service *svc)
{
	size_t i = (size_t)(svc - bd->services);

	if (svc->hello != NULL)
		protobuf_c_message_free_unpacked(&svc->hello->base, &wiping_allocator);
	bd->nservices--;
	if (i < bd->nservices)
		bd->services[i] = bd->services[bd->nservices];
}

void
busd_services_free(struct busd *bd)
{
	while (bd->nservices > 0)
		busd_services_remove(bd, &bd->services[bd->nservices - 1]);
	free(bd->services);
	bd->services = NULL;
}

static bool
busd_valid_name_part(const char *s, size_t max)
{
	size_t i, len = strlen(s);

	if (len == 0 || len >= max)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '@')
			return false;
	}
	return true;
}

static uint64_t
busd_silence_limit_ms(const struct busd_service *svc)
{
	uint64_t beat = svc->hello != NULL && svc->hello->heartbeat_ms > 0 ?
	    svc->hello->heartbeat_ms : 1000;

	return beat * BUSD_SILENCE_BEATS > 3000 ? beat * BUSD_SILENCE_BEATS : 3000;
}

void
busd_heard(struct busd *bd, const char *topic, size_t topic_len)
{
	static const char prefix[] = "heartbeat.";
	size_t plen = sizeof(prefix) - 1, i;

	if (topic_len <= plen || memcmp(topic, prefix, plen) != 0)
		return;
	for (i = 0; i < bd->nservices; i++) {
		if (strlen(bd->services[i].name) == topic_len - plen &&
		    memcmp(bd->services[i].name, topic + plen, topic_len - plen) == 0) {
			bd->services[i].last_heard_ms = monotonic_ms();
			return;
		}
	}
}

/* A process that died closes its connection, but a ROUTER does not say whose: its silence
 * does. (A live one that only lost its heartbeats re-registers by itself.) */
void
busd_expire_silent(struct busd *bd)
{
	uint64_t now = monotonic_ms(), limit;
	size_t i = 0;

	while (i < bd->nservices) {
		struct busd_service *svc = &bd->services[i];

		limit = busd_silence_limit_ms(svc);
		if (now - svc->last_heard_ms <= limit) {
			i++;
			continue;
		}
		log_info("service '%s' silent for %llu ms (limit %llu): unregistered", svc->name,
		    (unsigned long long)(now - svc->last_heard_ms), (unsigned long long)limit);
		busd_services_remove(bd, svc);
	}
}

static void
busd_publish_hello(struct busd *bd, const struct busd_service *svc)
{
	struct env_source src = {
		.service = svc->hello->service,
		.instance = svc->hello->instance,
		.incarnation = svc->hello->incarnation,
	};
	char topic[BUSD_NAME_MAX + 8];

	snprintf(topic, sizeof(topic), "hello.%s", svc->name);
	busd_publish(bd, topic, &src, MT(SERVICE_HELLO), &svc->hello->base);
}

static void
busd_own_hello(struct busd *bd, Picsec__V1__ServiceHello *hello, char *host, size_t hostlen)
{
	if (gethostname(host, hostlen) == -1)
		snprintf(host, hostlen, "?");
	host[hostlen - 1] = '\0';
	hello->service = (char *)(uintptr_t)"busd";
	hello->instance = (char *)(uintptr_t)"";
	hello->incarnation = bd->incarnation;
	hello->pid = (uint32_t)getpid();
	hello->hostname = host;
	hello->version = (char *)(uintptr_t)PICSEC_VERSION;
	hello->started_ns = bd->started_ns;
	hello->heartbeat_ms = bd->heartbeat_ms;
}

void
busd_republish_hellos(struct busd *bd, const char *prefix, size_t prefix_len)
{
	Picsec__V1__ServiceHello own = PICSEC__V1__SERVICE_HELLO__INIT;
	char topic[BUSD_NAME_MAX + 8], host[256];
	size_t i;

	if (prefix_len <= strlen("hello.busd") && strncmp("hello.busd", prefix, prefix_len) == 0) {
		busd_own_hello(bd, &own, host, sizeof(host));
		busd_publish(bd, "hello.busd", NULL, MT(SERVICE_HELLO), &own.base);
	}
	for (i = 0; i < bd->nservices; i++) {
		snprintf(topic, sizeof(topic), "hello.%s", bd->services[i].name);
		if (prefix_len <= strlen(topic) && strncmp(topic, prefix, prefix_len) == 0)
			busd_publish_hello(bd, &bd->services[i]);
	}
}

static void
busd_handle_register(struct busd_request *req, const ProtobufCMessage *payload)
{
	const Picsec__V1__BusRegister *reg = (const Picsec__V1__BusRegister *)payload;
	Picsec__V1__BusRegistered ok = PICSEC__V1__BUS_REGISTERED__INIT;
	struct busd *bd = req->bd;
	struct busd_service *svc, *grown;
	char name[BUSD_NAME_MAX];
	const Picsec__V1__ServiceHello *h = reg->hello;

	if (h == NULL || !busd_valid_name_part(h->service, 64) ||
	    (h->instance[0] != '\0' && !busd_valid_name_part(h->instance, 64))) {
		busd_reply_error(req, ERRC(INVALID_ARGUMENT),
		    "BusRegister needs a hello with a service name (printable, no spaces or '@')");
		return;
	}
	if (h->instance[0] != '\0')
		snprintf(name, sizeof(name), "%s.%s", h->service, h->instance);
	else
		snprintf(name, sizeof(name), "%s", h->service);
	if (strcmp(name, "busd") == 0) {
		busd_reply_error(req, ERRC(PERMISSION_DENIED), "the name 'busd' is busd's own");
		return;
	}
	/* One name per connection: a re-registration under another name moves it. */
	svc = busd_service_by_rid(bd, req->sender);
	if (svc != NULL && strcmp(svc->name, name) != 0) {
		busd_services_remove(bd, svc);
		svc = NULL;
	}
	if (svc != NULL && svc->hello != NULL && svc->hello->incarnation == h->incarnation) {
		/* A refresh: the same process on the same connection. Nothing to tell anyone. */
		svc->last_heard_ms = monotonic_ms();
		ok.name = name;
		ok.busd_incarnation = bd->incarnation;
		busd_reply(req, MT(BUS_REGISTERED), &ok.base);
		return;
	}
	if (svc == NULL && (svc = busd_service_by_name(bd, name)) != NULL) {
		/* A restarted service takes its name over from its previous incarnation. */
		log_info("service '%s' re-registered from %s (was %s)", name, req->sender, svc->rid);
	}
	if (svc == NULL) {
		grown = realloc(bd->services, (bd->nservices + 1) * sizeof(*bd->services));
		if (grown == NULL) {
			busd_reply_error(req, ERRC(RESOURCE_EXHAUSTED), "busd: out of memory");
			return;
		}
		bd->services = grown;
		svc = &bd->services[bd->nservices++];
		memset(svc, 0, sizeof(*svc));
		log_info("service '%s' registered (pid %u, %s)", name, h->pid, req->sender);
	}
	if (svc->hello != NULL)
		protobuf_c_message_free_unpacked(&svc->hello->base, &wiping_allocator);
	svc->hello = (Picsec__V1__ServiceHello *)pb_message_dup(&h->base);
	if (svc->hello == NULL) {
		busd_services_remove(bd, svc);
		busd_reply_error(req, ERRC(RESOURCE_EXHAUSTED), "busd: out of memory");
		return;
	}
	snprintf(svc->name, sizeof(svc->name), "%s", name);
	snprintf(svc->rid, sizeof(svc->rid), "%s", req->sender);
	svc->registered_ns = realtime_ns();
	svc->last_heard_ms = monotonic_ms();

	ok.name = name;
	ok.busd_incarnation = bd->incarnation;
	busd_reply(req, MT(BUS_REGISTERED), &ok.base);
	busd_publish_hello(bd, svc);
	busd_release_parked(bd, name);
}

static void
busd_handle_list(struct busd_request *req, const ProtobufCMessage *payload)
{
	Picsec__V1__BusServiceList list = PICSEC__V1__BUS_SERVICE_LIST__INIT;
	Picsec__V1__BusService *entries = NULL, **ptrs = NULL;
	struct busd *bd = req->bd;
	size_t i, n = bd->nservices;

	(void)payload;
	if (n > 0) {
		entries = calloc(n, sizeof(*entries));
		ptrs = calloc(n, sizeof(*ptrs));
		if (entries == NULL || ptrs == NULL) {
			busd_reply_error(req, ERRC(RESOURCE_EXHAUSTED), "busd: out of memory");
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		picsec__v1__bus_service__init(&entries[i]);
		entries[i].name = bd->services[i].name;
		entries[i].hello = bd->services[i].hello;
		entries[i].registered_ns = bd->services[i].registered_ns;
		entries[i].requests_routed = bd->services[i].requests_routed;
		ptrs[i] = &entries[i];
	}
	list.n_services = n;
	list.services = ptrs;
	busd_reply(req, MT(BUS_SERVICE_LIST), &list.base);
out:
	free(entries);
	free(ptrs);
}

static void
busd_handle_stats(struct busd_request *req, const ProtobufCMessage *payload)
{
	Picsec__V1__BusStats st = PICSEC__V1__BUS_STATS__INIT;
	struct busd *bd = req->bd;

	(void)payload;
	st.incarnation = bd->incarnation;
	st.uptime_ms = monotonic_ms() - bd->started_ms;
	st.events_forwarded = bd->counters.events_forwarded;
	st.requests_routed = bd->counters.requests_routed;
	st.replies_routed = bd->counters.replies_routed;
	st.unroutable = bd->counters.unroutable;
	st.malformed = bd->counters.malformed;
	st.parked = bd->counters.parked;
	st.services = (uint32_t)bd->nservices;
	st.auth_refused = bd->counters.auth_refused;
	busd_reply(req, MT(BUS_STATS), &st.base);
}

static void
busd_handle_ping(struct busd_request *req, const ProtobufCMessage *payload)
{
	const Picsec__V1__Ping *ping = (const Picsec__V1__Ping *)payload;
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;

	pong.token = ping->token;
	pong.uptime_ms = monotonic_ms() - req->bd->started_ms;
	busd_reply(req, MT(PONG), &pong.base);
}

static busd_handler_fn *const busd_handlers[] = {
	[MT(PING)] = busd_handle_ping,
	[MT(BUS_REGISTER)] = busd_handle_register,
	[MT(BUS_LIST_SERVICES)] = busd_handle_list,
	[MT(BUS_GET_STATS)] = busd_handle_stats,
};

void
busd_handle_request(struct busd_request *req, const struct envelope_view *view)
{
	busd_handler_fn *fn = NULL;

	if (view->status != ENVELOPE_OK) {
		req->bd->counters.malformed++;
		busd_reply_error(req, view->status == ENVELOPE_UNKNOWN_TYPE ? ERRC(UNIMPLEMENTED) :
		    ERRC(INVALID_ARGUMENT), "busd: %s", view->detail);
		return;
	}
	if (req->type > 0 && (size_t)req->type < ARRAY_SIZE(busd_handlers))
		fn = busd_handlers[req->type];
	if (fn == NULL) {
		busd_reply_error(req, ERRC(UNIMPLEMENTED), "busd does not handle %s requests",
		    catalog_type_name(req->type));
		return;
	}
	fn(req, view->payload);
}
