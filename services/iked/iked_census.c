/* The Child SAs an earlier picsec-iked left in sadb. They stay while this iked starts
 * (traffic flows meanwhile) until a Child SA of ours for the same term is in; then they go,
 * and the peer deleted or will delete its side.
 *
 * One census per service set, when its tunnels are new to this iked (its start, or a
 * commit that adds or changes terms), notes them per tunnel: an install then costs
 * nothing more. (Asking sadb after every install for the whole set, as before, made
 * bringing n tunnels up cost n lists of the set.)
 *
 * sadb answers iked's requests in their order, so an install asked before the census has
 * its answer, and its ids, here first: the census never takes one of ours for an orphan. */
#include "iked_impl.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "log.h"
#include "sa.pb-c.h"
#include "u64map.h"

enum { IKED_CENSUS_TIMEOUT_MS = 5000 };

/* What our IKE SAs hold now: each Child SA's sadb ids, the tunnels with one in and those
 * with an install in flight; and the tunnels this census is for, by id. */
struct census_ours {
	struct u64map *ids;
	struct u64map *tunnels_up;
	struct u64map *installing;
	struct u64map *asked;
	bool nomem;
};

static void
census_ours_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *sa = value;
	struct census_ours *o = arg;
	size_t i, k;

	(void)key;
	for (i = 0; i < IKED_MAX_CHILDREN; i++) {
		if (!sa->children[i].used)
			continue;
		for (k = 0; k < 2; k++) {
			if (sa->children[i].ids[k] != 0 &&
			    u64map_put(o->ids, sa->children[i].ids[k], sa) == -1)
				o->nomem = true;
		}
		if (sa->tunnel == NULL)
			continue;
		if (sa->children[i].ids[0] != 0 &&
		    u64map_put(o->tunnels_up, sa->tunnel->id, sa->tunnel) == -1)
			o->nomem = true;
		if (sa->children[i].install_id != 0 &&
		    u64map_put(o->installing, sa->tunnel->id, sa->tunnel) == -1)
			o->nomem = true;
	}
}

static void
census_removed(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t n)
{
	(void)bus;
	(void)ctx;
	if (res->type != MT(SA_REMOVED))
		log_warnx("sadb did not remove %llu SAs an earlier picsec-iked left: %s",
		    (unsigned long long)n, res->error_text != NULL ? res->error_text : "?");
}

static void
census_remove(struct iked *ik, const struct iked_tunnel *t, uint64_t *ids, size_t n)
{
	Picsec__V1__SaRemove rm = PICSEC__V1__SA_REMOVE__INIT;

	if (n == 0)
		return;
	log_info("%s %s/%s: removing %zu SAs no IKE SA of ours holds (an earlier "
	    "picsec-iked's)", t->service_set, t->rule, t->term, n);
	rm.ids = ids;
	rm.n_ids = n;
	rm.reason = (char *)(uintptr_t)"superseded: no IKE SA holds it";
	bus_request(ik->bus, "sadb", MT(SA_REMOVE), &rm.base, IKED_CENSUS_TIMEOUT_MS,
	    census_removed, ik, n);
}

static int
census_note(struct iked_tunnel *t, uint64_t id)
{
	uint64_t *grown;

	grown = realloc(t->orphans, (t->n_orphans + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	t->orphans = grown;
	t->orphans[t->n_orphans++] = id;
	return 0;
}

static void
census_drop(struct iked_tunnel *t, enum iked_census to)
{
	free(t->orphans);
	t->orphans = NULL;
	t->n_orphans = 0;
	t->census = to;
}

/* The tunnels a census answers, back to `to` (wanted again, or done). */
static size_t
census_settle(struct iked *ik, uint64_t seq, enum iked_census to)
{
	struct iked_tunnel *t;
	size_t n = 0;

	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (t->census == IKED_CENSUS_ASKING && t->census_ask == seq) {
			t->census = to;
			n++;
		}
	}
	return n;
}

static void
census_take(struct iked *ik, uint64_t seq, const Picsec__V1__SaList *list)
{
	struct census_ours ours = { .ids = u64map_new(), .tunnels_up = u64map_new(),
		.installing = u64map_new(), .asked = u64map_new() };
	const Picsec__V1__Sa *s;
	struct iked_tunnel *t;
	bool ok = false;
	size_t i;

	if (ours.ids == NULL || ours.tunnels_up == NULL || ours.installing == NULL ||
	    ours.asked == NULL)
		goto out;
	u64map_foreach(ik->sas, census_ours_one, &ours);
	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (t->census != IKED_CENSUS_ASKING || t->census_ask != seq)
			continue;
		/* An install in flight is in the list without its ids known here (only if
		 * sadb ever answered out of order): this tunnel is asked again after it. */
		if (u64map_get(ours.installing, t->id) != NULL)
			t->census = IKED_CENSUS_WANTED;
		else if (u64map_put(ours.asked, t->id, t) == -1)
			ours.nomem = true;
	}
	if (ours.nomem)
		goto out;
	for (i = 0; i < list->n_sas; i++) {
		if ((s = list->sas[i]->sa) == NULL || s->id == 0 ||
		    s->origin != PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC ||
		    u64map_get(ours.ids, s->id) != NULL)
			continue;
		t = u64map_get(ours.asked, iked_tunnel_id(s->service_set, s->rule, s->term));
		if (t != NULL && census_note(t, s->id) == -1)
			goto out;
	}
	census_settle(ik, seq, IKED_CENSUS_DONE);
	/* A tunnel whose Child SA came up while the census was asked: its orphans go now. */
	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (t->n_orphans > 0 && u64map_get(ours.asked, t->id) != NULL &&
		    u64map_get(ours.tunnels_up, t->id) != NULL)
			iked_orphans_sweep(ik, t, NULL);
	}
	ok = true;
out:
	if (!ok) {
		log_warnx("out of memory taking the census of sadb's SAs: asked again later");
		for (t = ik->tunnels; t != NULL; t = t->next) {
			if (t->census == IKED_CENSUS_ASKING && t->census_ask == seq)
				census_drop(t, IKED_CENSUS_WANTED);
		}
	}
	u64map_free(ours.ids);
	u64map_free(ours.tunnels_up);
	u64map_free(ours.installing);
	u64map_free(ours.asked);
}

static void
census_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t seq)
{
	struct iked *ik = ctx;
	bool too_big;

	(void)bus;
	if (res->type == MT(SA_LIST)) {
		census_take(ik, seq, (const Picsec__V1__SaList *)res->msg);
		return;
	}
	/* A set too big for one answer stays too big: its earlier SAs then go by their
	 * lifetimes or the peer's Deletes. Anything else (no sadb yet) is asked again. */
	too_big = res->error_code == ERRC(RESOURCE_EXHAUSTED);
	if (census_settle(ik, seq, too_big ? IKED_CENSUS_DONE : IKED_CENSUS_WANTED) > 0)
		log_warnx("sadb gave no list of its SAs (%s): %s", res->error_text != NULL ?
		    res->error_text : "?", too_big ? "an earlier picsec-iked's SAs stay until "
		    "they expire" : "asked again at the next Child SA");
}

void
iked_census_ask(struct iked *ik)
{
	Picsec__V1__SaGetList req = PICSEC__V1__SA_GET_LIST__INIT;
	struct iked_tunnel *t, *u;

	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (t->census != IKED_CENSUS_WANTED)
			continue;
		ik->census_seq++;
		for (u = t; u != NULL; u = u->next) {
			if (u->census == IKED_CENSUS_WANTED &&
			    strcmp(u->service_set, t->service_set) == 0) {
				u->census = IKED_CENSUS_ASKING;
				u->census_ask = ik->census_seq;
			}
		}
		req.service_set = t->service_set;
		if (bus_request(ik->bus, "sadb", MT(SA_GET_LIST), &req.base,
		    IKED_CENSUS_TIMEOUT_MS, census_reply, ik, ik->census_seq) == 0) {
			census_settle(ik, ik->census_seq, IKED_CENSUS_WANTED);
			return; /* the bus is closing: nothing more goes out */
		}
	}
}

void
iked_orphans_sweep(struct iked *ik, struct iked_tunnel *t, struct iked_sa *installed)
{
	struct iked_sa *sa;
	size_t i, n = 0;

	if (t == NULL)
		return;
	if (t->census == IKED_CENSUS_WANTED)
		iked_census_ask(ik);
	/* An id is a hash of the term and the SPI: one of ours may have an earlier one's id
	 * (a peer that reuses its SPI). Only the tunnel's IKE SAs can hold such a one: the
	 * one carrying it and the one whose Child SA just came in. */
	sa = t->sa_key != 0 ? u64map_get(ik->sas, t->sa_key) : NULL;
	for (i = 0; i < t->n_orphans; i++) {
		if ((sa == NULL || iked_sa_child_by_id(sa, t->orphans[i]) == NULL) &&
		    (installed == NULL || iked_sa_child_by_id(installed, t->orphans[i]) == NULL))
			t->orphans[n++] = t->orphans[i];
	}
	census_remove(ik, t, t->orphans, n);
	census_drop(t, t->census);
}

void
iked_census_forget(struct iked *ik)
{
	struct iked_tunnel *t;

	/* DONE: an answer still coming is the old sadb's. */
	for (t = ik->tunnels; t != NULL; t = t->next)
		census_drop(t, IKED_CENSUS_DONE);
}
