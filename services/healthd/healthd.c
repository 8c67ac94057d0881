/* picsec-healthd's bus side: hellos and heartbeats in, "service.*" states out, the list for
 * `show system processes picsec`, and busd itself, which is no client of its own bus: known
 * from its pid file and asked for its incarnation whenever we (re)connect. */
#include "healthd_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "log.h"
#include "picsec_build.h"
#include "sdnotify.h"
#include "timer.h"

enum { HEALTHD_CHECK_MS = 200 };

void
healthd_publish_state(struct healthd *hd, const struct hsvc *s, hstate previous)
{
	Picsec__V1__ServiceState ev = PICSEC__V1__SERVICE_STATE__INIT;
	char topic[HEALTHD_NAME_MAX + 16];

	ev.name = (char *)(uintptr_t)s->name;
	ev.state = s->state;
	ev.previous = previous;
	ev.incarnation = s->incarnation;
	ev.pid = s->pid > 0 ? (uint32_t)s->pid : 0;
	ev.cause = (char *)(uintptr_t)(s->state == HS(DOWN) || s->state == HS(UNRESPONSIVE) ?
	    s->cause : "");
	ev.restarts = s->restarts;
	ev.since_ns = s->since_ns;
	ev.hostname = (char *)(uintptr_t)s->hostname;
	snprintf(topic, sizeof(topic), "service.%s", s->name);
	if (bus_publish(hd->bus, topic, MT(SERVICE_STATE), &ev.base) == -1)
		log_warnx("%s: state %s not published (queue full)", s->name,
		    hsvc_state_name(s->state));
}

void
healthd_status(struct healthd *hd)
{
	struct hsvc *s;
	unsigned up = 0, all = 0;

	for (s = hd->svcs; s != NULL; s = s->next) {
		all++;
		up += s->state == HS(UP);
	}
	sdnotify_status("%u of %u processes up%s", up, all, hd->opts.supervise ?
	    " (supervising)" : "");
}

static void
healthd_check(void *ctx, uint64_t id)
{
	struct healthd *hd = ctx;

	(void)id;
	hsvc_check(hd);
	hd->check_timer = timers_add(hd->timers, HEALTHD_CHECK_MS / 1000.0, healthd_check, 0);
}

static void
healthd_adopted(void *ctx, uint64_t id)
{
	struct healthd *hd = ctx;

	(void)id;
	hd->adopting = false;
	healthd_kick(hd);
}

static void
healthd_hello_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ServiceHello *h = (const Picsec__V1__ServiceHello *)payload;
	const char *topic = bus_msg_topic(m);
	struct healthd *hd = ctx;
	struct hsvc *s;

	if (bus_msg_is_request(m) || strncmp(topic, "hello.", 6) != 0 || topic[6] == '\0' ||
	    strlen(topic + 6) >= HEALTHD_NAME_MAX)
		return;
	if ((s = hsvc_get(hd, topic + 6)) == NULL) {
		log_warnx("%s: out of memory", topic + 6);
		return;
	}
	hsvc_transition(hd, s, HSVC_HELLO, &(struct hsvc_input){ .hello = h });
}

static void
healthd_heartbeat_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__Envelope *env = bus_msg_envelope(m);
	const char *topic = bus_msg_topic(m);
	struct healthd *hd = ctx;
	struct hsvc *s;

	(void)payload;
	if (bus_msg_is_request(m) || strncmp(topic, "heartbeat.", 10) != 0 ||
	    (s = hsvc_find(hd, topic + 10)) == NULL || !s->known ||
	    env->incarnation != s->incarnation)
		return; /* its hello comes first (busd repeats hellos to new subscribers) */
	hsvc_transition(hd, s, HSVC_HEARTBEAT, NULL);
	/* Our own heartbeat through busd: busd works (again). */
	if (strcmp(s->name, "healthd") == 0 && (s = hsvc_find(hd, "busd")) != NULL &&
	    s->state == HS(UNRESPONSIVE))
		hsvc_transition(hd, s, HSVC_HEARTBEAT, NULL);
}

static void
healthd_info(const struct hsvc *s, Picsec__V1__ServiceInfo *i)
{
	uint64_t now = monotonic_ms();

	picsec__v1__service_info__init(i);
	i->name = (char *)(uintptr_t)s->name;
	i->state = s->state;
	i->pid = s->state != HS(DOWN) && s->pid > 0 ? (uint32_t)s->pid : 0;
	i->incarnation = s->incarnation;
	i->started_ns = s->started_ns;
	i->since_ns = s->since_ns;
	i->restarts = s->restarts;
	i->hostname = (char *)(uintptr_t)s->hostname;
	i->version = (char *)(uintptr_t)s->version;
	i->last_cause = (char *)(uintptr_t)s->cause;
	i->heartbeat_ms = s->heartbeat_ms;
	i->heartbeat_age_ms = s->last_heard_ms != 0 ? now - s->last_heard_ms : 0;
	i->supervised = s->spec != NULL;
	i->next_start_ms = s->next_start_ms > now ? s->next_start_ms - now : 0;
	i->local = s->local;
}

static void
healthd_get_list(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__ServiceList list = PICSEC__V1__SERVICE_LIST__INIT;
	Picsec__V1__ServiceInfo *infos = NULL, **ptrs = NULL;
	struct healthd *hd = ctx;
	struct hsvc *s;
	size_t n = 0;

	(void)payload;
	for (s = hd->svcs; s != NULL; s = s->next)
		n++;
	if ((infos = calloc(n + 1, sizeof(*infos))) == NULL ||
	    (ptrs = calloc(n + 1, sizeof(*ptrs))) == NULL) {
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "out of memory");
		goto out;
	}
	for (s = hd->svcs; s != NULL; s = s->next) {
		healthd_info(s, &infos[list.n_services]);
		ptrs[list.n_services] = &infos[list.n_services];
		list.n_services++;
	}
	list.services = ptrs;
	list.healthd_incarnation = bus_incarnation(hd->bus);
	list.supervising = hd->opts.supervise;
	list.healthd_started_ns = hd->started_ns;
	bus_reply(m, MT(SERVICE_LIST), &list.base);
out:
	free(infos);
	free(ptrs);
}

static void
healthd_iface_state(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__IfaceState st = PICSEC__V1__IFACE_STATE__INIT;
	struct healthd *hd = ctx;

	if (hd->nl == NULL) {
		bus_reply_error(m, ERRC(UNAVAILABLE), "healthd does not watch addresses (netlink "
		    "failed at start)");
		return;
	}
	healthd_nl_state(hd->nl, (const Picsec__V1__IfaceGetState *)payload, &st);
	bus_reply(m, MT(IFACE_STATE), &st.base);
	healthd_nl_state_free(&st);
}

static const struct bus_handler healthd_handlers[] = {
	[MT(SERVICE_HELLO)] = { healthd_hello_event },
	[MT(HEARTBEAT)] = { healthd_heartbeat_event },
	[MT(SERVICE_GET_LIST)] = { healthd_get_list },
	[MT(IFACE_GET_STATE)] = { healthd_iface_state },
};

/* busd's incarnation and age, as a hello of its own (it has no other). */
static void
healthd_busd_stats(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	Picsec__V1__ServiceHello h = PICSEC__V1__SERVICE_HELLO__INIT;
	const Picsec__V1__BusStats *st = (const Picsec__V1__BusStats *)res->msg;
	struct healthd *hd = ctx;
	struct hsvc *s;

	(void)bus;
	(void)cookie;
	if (res->type != MT(BUS_STATS) || (s = hsvc_get(hd, "busd")) == NULL)
		return;
	healthd_adopt_busd(hd);
	h.service = (char *)(uintptr_t)"busd";
	h.incarnation = st->incarnation;
	h.pid = s->pid > 0 ? (uint32_t)s->pid : 0;
	h.hostname = hd->hostname;
	h.version = (char *)(uintptr_t)PICSEC_VERSION;
	h.started_ns = realtime_ns() - st->uptime_ms * 1000000ULL;
	h.heartbeat_ms = 0;
	/* Watched by its pid (and by our connection), not by heartbeats. */
	hsvc_transition(hd, s, HSVC_HELLO, &(struct hsvc_input){ .hello = &h });
	s->incarnation = st->incarnation;
}

static void
healthd_on_state(struct bus *bus, enum bus_state state, void *ctx)
{
	Picsec__V1__BusGetStats q = PICSEC__V1__BUS_GET_STATS__INIT;
	struct healthd *hd = ctx;

	if (state != BUS_REGISTERED) {
		/* Off the bus (busd died or restarts): no heartbeat can reach us, so none is
		 * judged until we are registered again and the grace has passed. */
		hd->registered_ms = 0;
		return;
	}
	hd->registered_ms = monotonic_ms();
	/* Nobody's heartbeats reached us meanwhile: the silence starts now. */
	for (struct hsvc *s = hd->svcs; s != NULL; s = s->next)
		s->last_heard_ms = hd->registered_ms;
	if (bus_request(bus, "busd", MT(BUS_GET_STATS), &q.base, 0, healthd_busd_stats, hd, 0)
	    == 0)
		log_warnx("busd's incarnation not asked");
}

struct healthd *
healthd_new(struct ev_loop *loop, struct bus *bus, const struct healthd_options *opts,
    char *err, size_t errlen)
{
	struct healthd *hd;

	if ((hd = calloc(1, sizeof(*hd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	hd->loop = loop;
	hd->bus = bus;
	hd->opts = *opts;
	hd->started_ns = realtime_ns();
	if (gethostname(hd->hostname, sizeof(hd->hostname)) == -1)
		hd->hostname[0] = '\0';
	hd->hostname[sizeof(hd->hostname) - 1] = '\0';
	if ((hd->timers = timers_new(loop, hd)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (opts->supervise && healthd_specs_build(hd, err, errlen) == -1)
		goto fail;
	if ((hd->nl = healthd_nl_new(hd, err, errlen)) == NULL)
		log_warnx("addresses and links not watched: %s", err);
	bus_set_handlers(bus, healthd_handlers, ARRAY_SIZE(healthd_handlers), hd);
	bus_on_state(bus, healthd_on_state, hd);
	if (bus_subscribe(bus, "hello.") == -1 || bus_subscribe(bus, "heartbeat.") == -1) {
		snprintf(err, errlen, "cannot subscribe to hellos and heartbeats");
		goto fail;
	}
	hd->check_timer = timers_add(hd->timers, HEALTHD_CHECK_MS / 1000.0, healthd_check, 0);
	if (opts->supervise) {
		/* busd now (or adopt the running one); the rest once we heard who runs. */
		hd->adopting = true;
		healthd_adopt_busd(hd);
		healthd_kick(hd);
		hd->adopt_timer = timers_add(hd->timers, HEALTHD_ADOPT_MS / 1000.0,
		    healthd_adopted, 0);
	}
	return hd;
fail:
	healthd_nl_free(hd->nl);
	timers_free(hd->timers);
	hsvc_free_all(hd);
	free(hd->specs);
	free(hd);
	return NULL;
}

void
healthd_free(struct healthd *hd)
{
	if (hd == NULL)
		return;
	healthd_stop_suite(hd);
	healthd_nl_free(hd->nl);
	hsvc_free_all(hd);
	timers_free(hd->timers);
	free(hd->specs);
	free(hd);
}
