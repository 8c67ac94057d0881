/* A service set's SPD: its outbound SAs and its dynamic terms, in term order. A dynamic
 * term without an outbound SA is an entry of its own: what it matches is dropped and asks
 * iked for the SA (SaAcquire on "sa.acquire", establish-tunnels on-traffic), at most once a
 * second per term. The term comes first even when a later term's SA would match: the term
 * order decides, not what happens to be up. And what tc diverts into an interface-style
 * set's veth: the same traffic, dynamic terms with or without their SAs. */
#include "fwd_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "fwd_bpf.h"
#include "log.h"

static int
fwd_dynterm_order(const void *a, const void *b)
{
	const struct fwd_dynterm *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

static bool
fwd_ipv4_or_absent(const Picsec__V1__IpPrefix *p)
{
	return p == NULL || p->addr.len == 4;
}

int
fwd_dynterms_set(struct fwd_set *s, const Picsec__V1__PicServiceSet *m)
{
	struct fwd_dynterm *d;
	size_t i;

	if ((s->dyn = calloc(m->n_dynamic_terms + 1, sizeof(*s->dyn))) == NULL)
		return -1;
	for (i = 0; i < m->n_dynamic_terms; i++) {
		const Picsec__V1__DynamicTerm *t = m->dynamic_terms[i];

		/* fwd_prefix_of reads anything but IPv4 as "any": such a term would take
		 * every packet. */
		if (!fwd_ipv4_or_absent(t->source) || !fwd_ipv4_or_absent(t->destination)) {
			log_warnx("service set %s: term %s/%s is not IPv4: no acquire for it",
			    s->name, t->rule, t->term);
			continue;
		}
		d = &s->dyn[s->ndyn++];
		snprintf(d->rule, sizeof(d->rule), "%s", t->rule);
		snprintf(d->term, sizeof(d->term), "%s", t->term);
		d->order = t->order;
		d->src = fwd_prefix_of(t->source);
		d->dst = fwd_prefix_of(t->destination);
	}
	/* sadb lists them in term order; the merge in fwd_spd_build relies on it. */
	qsort(s->dyn, s->ndyn, sizeof(*s->dyn), fwd_dynterm_order);
	return 0;
}

void
fwd_dynterms_inherit(struct fwd_set *s, const struct fwd_dynterm *old, size_t nold)
{
	size_t i, j;

	/* A set rebuilt by a commit is the same set to iked: the limit goes on. */
	for (i = 0; i < s->ndyn; i++) {
		for (j = 0; j < nold; j++) {
			if (strcmp(s->dyn[i].rule, old[j].rule) == 0 &&
			    strcmp(s->dyn[i].term, old[j].term) == 0)
				s->dyn[i].acquired_ms = old[j].acquired_ms;
		}
	}
}

static void
fwd_spd_put(struct fwd_set *s, struct fwd_prefix src, struct fwd_prefix dst,
    struct fwd_sa *sa, struct fwd_dynterm *dyn)
{
	struct fwd_spd_entry *e = &s->spd[s->nspd++];

	e->src = src;
	e->dst = dst;
	e->sa = sa;
	e->dyn = dyn;
}

void
fwd_spd_build(struct fwd_set *s)
{
	size_t i = 0, j = 0, need = s->nout + s->ndyn + 1;
	struct fwd_dynterm *d;

	s->nspd = 0;
	/* Rebuilt in place, grown with room to spare: a new array each time is fresh pages
	 * each time (bench/scale: 100,000 SAs). */
	if (need > s->spd_cap) {
		free(s->spd);
		s->spd_cap = 0;
		if ((s->spd = calloc(need + need / 2, sizeof(*s->spd))) == NULL)
			return;
		s->spd_cap = need + need / 2;
	}
	/* Both in term order (out with a term's newest SA first): merge. A term's SA is
	 * out[i] when the term comes up, so it is known there whether it has one. */
	while (i < s->nout || j < s->ndyn) {
		if (j < s->ndyn && (i == s->nout || s->dyn[j].order <= s->out[i]->order)) {
			d = &s->dyn[j++];
			if (i == s->nout || s->out[i]->order != d->order)
				fwd_spd_put(s, d->src, d->dst, NULL, d);
		} else {
			fwd_spd_put(s, s->out[i]->src, s->out[i]->dst, s->out[i], NULL);
			i++;
		}
	}
}

static size_t
fwd_divert_add(const struct fwd_set *s, struct tc_divert_rule *rules, size_t n,
    struct fwd_prefix src, struct fwd_prefix dst)
{
	/* Repeats (an output SA with its term's prefixes) are kept once by the tc program's
	 * hash (fwd_divert.c): no search here, which cost a walk per rule. */
	rules[n].src = src.addr;
	rules[n].src_mask = src.mask;
	rules[n].dst = dst.addr;
	rules[n].dst_mask = dst.mask;
	rules[n].ifindex = (uint32_t)s->inside_ifindex;
	rules[n].local = s->local;
	return n + 1;
}

size_t
fwd_divert_rules(const struct fwd_set *s, struct tc_divert_rule *rules)
{
	size_t i, n = 0;

	for (i = 0; i < s->nout; i++)
		n = fwd_divert_add(s, rules, n, s->out[i]->src, s->out[i]->dst);
	/* With or without their SAs: without, the PIC acquires; and traffic of a term whose
	 * SA went (rekey, expiry) never leaves in clear while the next one comes. */
	for (i = 0; i < s->ndyn; i++)
		n = fwd_divert_add(s, rules, n, s->dyn[i].src, s->dyn[i].dst);
	return n;
}

void
fwd_acquire(struct fwd *f, struct fwd_set *s, struct fwd_dynterm *d, uint32_t src,
    uint32_t dst)
{
	Picsec__V1__SaAcquire ev = PICSEC__V1__SA_ACQUIRE__INIT;
	Picsec__V1__IpAddress from = PICSEC__V1__IP_ADDRESS__INIT;
	Picsec__V1__IpAddress to = PICSEC__V1__IP_ADDRESS__INIT;
	uint64_t now = monotonic_ms();
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	/* Per term, whatever the packet rate: iked negotiates once anyway, and the bus is no
	 * place for a flood. */
	if (d->acquired_ms != 0 && now - d->acquired_ms < FWD_ACQUIRE_MS)
		return;
	d->acquired_ms = now;
	from.addr = (ProtobufCBinaryData){ 4, (uint8_t *)&src };
	to.addr = (ProtobufCBinaryData){ 4, (uint8_t *)&dst };
	ev.pic = f->pic;
	ev.service_set = s->name;
	ev.rule = d->rule;
	ev.term = d->term;
	ev.source = &from;
	ev.destination = &to;
	if (bus_publish(f->bus, "sa.acquire", MT(SA_ACQUIRE), &ev.base) != 0) {
		log_warnx("service set %s: acquire for %s/%s not sent (bus queue full)", s->name,
		    d->rule, d->term);
		return;
	}
	log_debug("service set %s: %s -> %s has no SA: acquire for %s/%s", s->name,
	    inet_ntop(AF_INET, &src, a, sizeof(a)), inet_ntop(AF_INET, &dst, b, sizeof(b)),
	    d->rule, d->term);
}
