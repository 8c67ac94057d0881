/* picsec-iked's state: the tunnels of the committed configuration, kept across commits
 * when unchanged (their IKE SAs too), renegotiated when changed, closed when gone. */
#include "iked_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bus.h"
#include "health_follow.h"
#include "log.h"
#include "timer.h"
#include "u64map.h"

static const double iked_spi_wait = 0.2; /* seconds: sadb's SPIs are a round trip away */

/* A tunnel's next attempt (timers hold its id): after a wait for SPIs, or a failure. */
void
iked_start_timer(void *ctx, uint64_t id)
{
	struct iked *ik = ctx;
	struct iked_tunnel *t = iked_tunnel_by_id(ik, id);

	if (t != NULL) {
		t->start_timer = 0;
		iked_initiate(ik, t);
	}
}

void
iked_initiate(struct iked *ik, struct iked_tunnel *t)
{
	uint32_t spi;

	if (t->sa_key != 0 || t->held || timers_pending(ik->timers, t->start_timer) ||
	    t->establish == PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_RESPONDER_ONLY)
		return;
	if ((spi = iked_spi_take(ik, t->local, t->child_protocol)) == 0) {
		t->start_timer = timers_add(ik->timers, iked_spi_wait, iked_start_timer, t->id);
		return;
	}
	if (iked_sa_initiate(ik, t, spi) == NULL)
		t->start_timer = timers_add(ik->timers, 1.0, iked_start_timer, t->id);
}

/* The IKE SAs of a tunnel that goes or changes. */
struct close_walk {
	struct iked_tunnel *t;
	struct iked_sa *hits[256];
	size_t n;
};

static void
iked_close_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *sa = value;
	struct close_walk *w = arg;

	(void)key;
	if (sa->tunnel == w->t && w->n < sizeof(w->hits) / sizeof(w->hits[0]))
		w->hits[w->n++] = sa;
}

size_t
iked_tunnel_close(struct iked *ik, struct iked_tunnel *t, const char *why)
{
	struct close_walk w = { .t = t };
	size_t i;

	u64map_foreach(ik->sas, iked_close_one, &w);
	for (i = 0; i < w.n; i++)
		iked_sa_close(ik, w.hits[i], why);
	timers_cancel(ik->timers, t->start_timer);
	t->start_timer = 0;
	return w.n;
}

void
iked_config(struct iked *ik, const Picsec__V1__ConfigSnapshot *snap)
{
	struct iked_tunnel *want, *t, *old, *next, *keep = NULL;

	if (ik->have_config && snap->generation < ik->config_generation)
		return; /* a late reply to our request: a newer commit came first */
	ik->have_config = true;
	ik->config_generation = snap->generation;
	want = iked_tunnels_build(snap);
	if (ik->opts.lifetime_divisor > 1) {
		for (t = want; t != NULL; t = t->next) {
			t->ike_lifetime = t->ike_lifetime / ik->opts.lifetime_divisor + 1;
			t->child_lifetime = t->child_lifetime / ik->opts.lifetime_divisor + 1;
		}
	}
	/* Unchanged tunnels stay as they are, with their SAs; the rest go or come. */
	for (t = want; t != NULL; t = next) {
		next = t->next;
		old = iked_tunnel_by_id(ik, t->id);
		if (old != NULL && old->fingerprint == t->fingerprint) {
			/* What is not negotiated applies at once, without a new IKE SA. */
			old->establish = t->establish;
			old->dpd = t->dpd;
			old->dpd_interval = t->dpd_interval;
			old->dpd_threshold = t->dpd_threshold;
			old->clear_ike_on_pic = t->clear_ike_on_pic;
			old->clear_ipsec_on_pic = t->clear_ipsec_on_pic;
			old->gw_interface = t->gw_interface;
			old->next_hop = t->next_hop;
			memcpy(old->pic, t->pic, sizeof(old->pic));
			iked_tunnel_free(t);
			old->marked = true;
			continue;
		}
		t->next = keep;
		keep = t;
	}
	for (old = ik->tunnels, ik->tunnels = NULL; old != NULL; old = next) {
		next = old->next;
		if (old->marked) {
			old->marked = false;
			old->next = ik->tunnels;
			ik->tunnels = old;
			continue;
		}
		log_info("tunnel %s %s/%s: %s", old->service_set, old->rule, old->term,
		    iked_tunnel_by_term_list(keep, old->service_set, old->rule, old->term) != NULL ?
		    "changed: negotiating anew" : "no longer configured");
		iked_tunnel_close(ik, old, "its configuration changed");
		iked_tunnel_free(old);
	}
	for (t = keep; t != NULL; t = next) {
		next = t->next;
		t->next = ik->tunnels;
		ik->tunnels = t;
	}
	if (iked_socks_sync(ik) == -1)
		log_warnx("some local gateways have no IKE socket: their tunnels cannot come up");
	iked_health_apply(ik);
	iked_health_sync(ik);
	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (t->establish == PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_IMMEDIATELY)
			iked_initiate(ik, t);
		else
			iked_spi_prefill(ik, t->local, t->child_protocol); /* a responder
									     * answers at once */
	}
	iked_census_ask(ik);
	log_info("configuration %llu: %u dynamic tunnel%s", (unsigned long long)snap->generation,
	    (unsigned)iked_tunnel_count(ik), iked_tunnel_count(ik) == 1 ? "" : "s");
}

size_t
iked_tunnel_count(const struct iked *ik)
{
	const struct iked_tunnel *t;
	size_t n = 0;

	for (t = ik->tunnels; t != NULL; t = t->next)
		n++;
	return n;
}

struct iked *
iked_new(struct ev_loop *loop, struct bus *bus, const struct iked_options *opts, char *err,
    size_t errlen)
{
	struct iked *ik;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialise");
		return NULL;
	}
	if ((ik = calloc(1, sizeof(*ik))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ik->loop = loop;
	ik->bus = bus;
	ik->opts = *opts;
	if (iked_keylog_check(opts->keylog, err, errlen) == -1)
		goto fail;
	if (opts->keylog != NULL)
		log_warnx("key log on: %s holds every key negotiated; anyone who reads it decrypts "
		    "the tunnels", opts->keylog);
	if (ik->opts.port == 0)
		ik->opts.port = IKED_PORT;
	if (ik->opts.natt_port == 0)
		ik->opts.natt_port = IKED_NATT_PORT;
	if (!ik->opts.cookie_threshold_set)
		ik->opts.cookie_threshold = IKED_COOKIE_THRESHOLD;
	iked_cookie_init(ik);
	picsec__v1__ike_stats__init(&ik->stats);
	ik->timers = timers_new(loop, ik);
	ik->sas = u64map_new();
	ik->halfopen = u64map_new();
	ik->downs = health_downs_new();
	if (ik->timers == NULL || ik->sas == NULL || ik->halfopen == NULL || ik->downs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	iked_handlers_install(ik);
	if (bus_subscribe(bus, "config.committed") == -1 || bus_subscribe(bus, "sa.removed") == -1 ||
	    bus_subscribe(bus, "sa.expire") == -1 || bus_subscribe(bus, "sa.acquire") == -1) {
		snprintf(err, errlen, "cannot subscribe on the bus");
		goto fail;
	}
	iked_health_subscribe(ik);
	return ik;
fail:
	iked_free(ik);
	return NULL;
}

static void
iked_free_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *sa = value;

	(void)key;
	(void)arg;
	ike_sa_free(sa->ike);
	free(sa->pending);
	free(sa);
}

void
iked_free(struct iked *ik)
{
	struct iked_tunnel *t, *next;

	if (ik == NULL)
		return;
	iked_health_free(ik);
	/* Leaving: the peers learn of it from their own DPD or lifetimes; the Child SAs stay
	 * in sadb until then, so traffic flows while iked restarts. */
	if (ik->sas != NULL)
		u64map_foreach(ik->sas, iked_free_one, NULL);
	u64map_free(ik->sas);
	u64map_free(ik->halfopen);
	iked_socks_free(ik);
	iked_pools_free(ik);
	for (t = ik->tunnels; t != NULL; t = next) {
		next = t->next;
		iked_tunnel_free(t);
	}
	timers_free(ik->timers);
	free(ik);
}
