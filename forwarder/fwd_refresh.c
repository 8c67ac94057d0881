/* The service sets' SPDs as SAs come and go, and what follows from them: the veth MTU of a
 * next-hop set, the tc divert rules of an interface-style set.
 *
 * A snapshot or new service sets rebuild them whole (fwd_sets_refresh: every SA, sorted).
 * Between those, updates change them by parts: an outbound SA that comes waits in its
 * set's pending array, one that goes is buried (its keys gone at once, its SPD entry
 * skipped by the packet path) and freed at the next sync, which merges the pending SAs
 * into the sorted array and drops the buried ones, in one pass. A sync runs right after an
 * update unless one ran within FWD_SYNC_MS; then a timer runs it, so a burst of updates (a
 * Child SA each) costs a few passes, not one sort of every SA per update (bench/scale). */
#include "fwd_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "fwd_bpf.h"
#include "fwd_nl.h"
#include "log.h"
#include "timer.h"
#include "u64map.h"

static int
fwd_sa_order(const void *a, const void *b)
{
	const struct fwd_sa *x = *(const struct fwd_sa *const *)a;
	const struct fwd_sa *y = *(const struct fwd_sa *const *)b;

	/* One term's SAs during a rekey: the new one carries traffic at once (the old one
	 * goes when the peer's Delete comes; until then it still decrypts). */
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->arrival > y->arrival ? -1 : x->arrival < y->arrival;
}

/* The largest inner packet, from at most `from`, that the n SAs carry within limit bytes. */
static unsigned
fwd_mtu_of(struct fwd_sa *const *sas, size_t n, unsigned limit, unsigned from)
{
	unsigned mtu = from;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned l = limit;
		uint16_t tmtu;

		if (sas[i]->dp == NULL)
			continue;
		tmtu = dp_sa_params(sas[i]->dp)->tunnel_mtu;
		if (tmtu != 0 && tmtu < l)
			l = tmtu;
		while (mtu > 576 && mtu + dp_sa_overhead(sas[i]->dp, mtu) > l)
			mtu--;
	}
	return mtu;
}

/* After s's SPD changed: the veth MTU (next-hop style; grown sets only look at what came)
 * and the tc rules (interface style). */
static void
fwd_set_finish(struct fwd *f, struct fwd_set *s, bool only_added, struct fwd_sa *const *added,
    size_t nadded)
{
	struct tc_divert_rule *rules;
	unsigned limit = f->outside_mtu != 0 ? f->outside_mtu : 1500, mtu;
	size_t n, t;
	int rc;

	if (s->out == NULL || !s->ready)
		return;
	/* Next-hop style: the kernel fragments or answers "fragmentation needed" for what
	 * the route into the veth cannot take. Interface style: tc hands over packets sized
	 * for the outside device; the PIC does that work (fwd_mtu.c). */
	if (s->style == PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP) {
		s->mtu_want = only_added && s->mtu_want != 0 ?
		    fwd_mtu_of(added, nadded, limit, s->mtu_want) :
		    fwd_mtu_of(s->out, s->nout, limit, limit);
		mtu = s->mtu_want;
	} else {
		mtu = limit;
	}
	if (mtu != s->mtu && fwd_nl_link_setup(f->nl, s->inside_ifindex, true, mtu) == 0 &&
	    fwd_nl_link_setup(f->nl, s->pic_ifindex, true, mtu) == 0)
		s->mtu = mtu;
	if (s->ntcs == 0)
		return;
	if ((rules = calloc(s->nout + s->ndyn + 1, sizeof(*rules))) == NULL)
		return;
	n = fwd_divert_rules(s, rules);
	for (t = 0; t < s->ntcs; t++) {
		if ((rc = fwd_tc_set_rules(s->tcs[t], rules, n)) == -E2BIG)
			log_warnx("service set %s: %zu divert rules, more than the tc program holds "
			    "(%d mask pairs, %d prefix pairs): the rest of the traffic is not "
			    "diverted", s->name, n, TC_DIVERT_MASKS, TC_DIVERT_PREFIXES);
		else if (rc != 0)
			log_warnx("service set %s: tc rules not all set", s->name);
	}
	free(rules);
}

void
fwd_graveyard_free(struct fwd *f)
{
	struct fwd_sa *sa, *next;

	for (sa = f->graveyard; sa != NULL; sa = next) {
		next = sa->next_gone;
		fwd_sa_free(f, sa);
	}
	f->graveyard = NULL;
}

static void
fwd_spd_add(uint64_t id, void *value, void *arg)
{
	struct fwd_sa *sa = value;
	struct fwd_set *s;

	(void)arg;
	(void)id;
	if (!sa->outbound || sa->dp == NULL || (s = sa->set) == NULL || s->out == NULL)
		return;
	s->out[s->nout++] = sa;
}

void
fwd_sets_refresh(struct fwd *f)
{
	struct fwd_set *s;

	timers_cancel(f->timers, f->sync_timer);
	f->sync_timer = 0;
	f->sync_ms = monotonic_ms();
	fwd_sas_link(f);
	for (s = f->sets; s != NULL; s = s->next) {
		free(s->out);
		s->nout = 0;
		s->npending = 0;
		s->nburied = 0;
		s->dirty = false;
		s->out_cap = u64map_count(f->sas) + 1;
		if ((s->out = calloc(s->out_cap, sizeof(*s->out))) == NULL)
			s->out_cap = 0;
	}
	u64map_foreach(f->sas, fwd_spd_add, NULL);
	for (s = f->sets; s != NULL; s = s->next) {
		if (s->out != NULL)
			qsort(s->out, s->nout, sizeof(*s->out), fwd_sa_order);
		/* Always: the old one may point at SAs that are gone. */
		fwd_spd_build(s);
		fwd_set_finish(f, s, false, NULL, 0);
	}
	fwd_graveyard_free(f);
}

/* The first place in out[from, nout) that sa comes before (fwd_sa_order). */
static size_t
fwd_out_place(const struct fwd_set *s, size_t from, struct fwd_sa *sa)
{
	size_t lo = from, hi = s->nout, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (fwd_sa_order(&s->out[mid], &sa) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* s's out without its buried SAs, merged with its pending ones into the spare array, which
 * becomes out (kept and grown with room, not allocated anew each time: fresh pages are
 * page faults); its SPD anew. Without buried SAs, out is copied in runs between the places
 * of the pending ones, never read SA by SA. -1: out of memory (the whole rebuild then). */
static int
fwd_set_sync(struct fwd *f, struct fwd_set *s)
{
	struct fwd_sa **out, **p = s->pending;
	size_t i = 0, j = 0, n = 0, np = s->npending, need = s->nout + np + 1, cap, at;
	bool removed = s->nburied > 0;

	if (need > s->spare_cap) {
		cap = need + need / 2;
		free(s->spare);
		s->spare_cap = 0;
		if ((s->spare = malloc(cap * sizeof(*s->spare))) == NULL)
			return -1;
		s->spare_cap = cap;
	}
	out = s->spare;
	cap = s->spare_cap;
	qsort(p, np, sizeof(*p), fwd_sa_order);
	if (!removed) {
		for (; j < np; j++) {
			at = fwd_out_place(s, i, p[j]);
			if (at > i)
				memcpy(out + n, s->out + i, (at - i) * sizeof(*out));
			n += at - i;
			i = at;
			out[n++] = p[j];
		}
		if (s->nout > i)
			memcpy(out + n, s->out + i, (s->nout - i) * sizeof(*out));
		n += s->nout - i;
		i = s->nout;
	}
	while (i < s->nout || j < np) {
		if (i < s->nout && s->out[i]->dp == NULL) {
			i++;
		} else if (j < np && p[j]->dp == NULL) {
			j++;
		} else if (j == np || (i < s->nout && fwd_sa_order(&s->out[i], &p[j]) <= 0)) {
			out[n++] = s->out[i++];
		} else {
			out[n++] = p[j++];
		}
	}
	s->nburied = 0;
	s->spare = s->out;
	s->spare_cap = s->out != NULL ? s->out_cap : 0;
	s->out = out;
	s->out_cap = cap;
	s->nout = n;
	fwd_spd_build(s);
	fwd_set_finish(f, s, !removed, p, np);
	s->npending = 0;
	s->dirty = false;
	return 0;
}

static void
fwd_sets_sync_now(struct fwd *f)
{
	struct fwd_set *s;

	timers_cancel(f->timers, f->sync_timer);
	f->sync_timer = 0;
	f->sync_ms = monotonic_ms();
	for (s = f->sets; s != NULL; s = s->next) {
		if (s->dirty && fwd_set_sync(f, s) == -1) {
			log_warnx("out of memory syncing the SPDs: rebuilding them");
			fwd_sets_refresh(f);
			return;
		}
	}
	fwd_graveyard_free(f);
}

static void
fwd_sync_timer(void *ctx, uint64_t id)
{
	struct fwd *f = ctx;

	(void)id;
	f->sync_timer = 0;
	fwd_sets_sync_now(f);
}

void
fwd_sets_sync(struct fwd *f, bool now)
{
	uint64_t since = monotonic_ms() - f->sync_ms;

	if (now || since >= FWD_SYNC_MS) {
		fwd_sets_sync_now(f);
		return;
	}
	if (f->sync_timer == 0 && (f->sync_timer = timers_add(f->timers,
	    (double)(FWD_SYNC_MS - since) / 1000, fwd_sync_timer, 0)) == 0)
		fwd_sets_sync_now(f); /* no timer: no waiting either */
}

void
fwd_set_take(struct fwd *f, struct fwd_sa *sa)
{
	struct fwd_set *s = sa->set;
	struct fwd_sa **p;
	size_t cap;

	if (s->npending == s->pending_cap) {
		cap = s->pending_cap < 64 ? 64 : s->pending_cap * 2;
		if ((p = reallocarray(s->pending, cap, sizeof(*p))) == NULL) {
			/* The sync cannot take it: the whole rebuild will. */
			log_warnx("service set %s: out of memory: rebuilding its SPD", s->name);
			fwd_sets_refresh(f);
			return;
		}
		s->pending = p;
		s->pending_cap = cap;
	}
	s->pending[s->npending++] = sa;
	s->dirty = true;
}

void
fwd_sa_bury(struct fwd *f, struct fwd_sa *sa)
{
	if (sa == NULL)
		return;
	if (!sa->outbound || sa->dp == NULL || sa->set == NULL) {
		fwd_sa_free(f, sa); /* in no SPD */
		return;
	}
	/* Its keys go now; the SPD skips an SA without its dp. */
	dp_sa_free(sa->dp);
	sa->dp = NULL;
	sa->set->nburied++;
	sa->set->dirty = true;
	sa->next_gone = f->graveyard;
	f->graveyard = sa;
}
