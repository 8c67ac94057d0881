/* Negotiated SAs (origin DYNAMIC): picsec-iked installs the two SAs of each Child SA and
 * removes them; sadb completes them from their term's template (the outer header, the
 * replay window, the SPD order are the configuration's, as for manual SAs) and streams
 * them to the PIC of their service set. A commit that keeps the term keeps them, rebuilt
 * from the new template; one that drops it drops them and says so on "sa.removed". */
#include "sadb_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "log.h"
#include "secbuf.h"
#include "u64map.h"

/* Whether p is a well-formed prefix inside outer (absent outer: anything of any family). */
static bool
sadb_prefix_within(const Picsec__V1__IpPrefix *p, const Picsec__V1__IpPrefix *outer)
{
	size_t bits, i;

	if ((p->addr.len != 4 && p->addr.len != 16) || p->length > p->addr.len * 8u)
		return false;
	if (outer == NULL)
		return true;
	if (outer->addr.len != p->addr.len || p->length < outer->length)
		return false;
	for (i = 0, bits = outer->length; bits > 0; i++, bits = bits > 8 ? bits - 8 : 0) {
		uint8_t mask = (uint8_t)(bits >= 8 ? 0xff : 0xff << (8 - bits));

		if ((p->addr.data[i] & mask) != (outer->addr.data[i] & mask))
			return false;
	}
	return true;
}

static const struct sadb_sa *
sadb_template(const struct sadb_pic *pics, const char *service_set, const char *rule,
    const char *term, Picsec__V1__SaDirection dir)
{
	const struct sadb_pic *pic;
	const struct sadb_sa *t;

	for (pic = pics; pic != NULL; pic = pic->next) {
		for (t = pic->templates; t != NULL; t = t->next) {
			if (t->msg.direction == dir && strcmp(t->service_set, service_set) == 0 &&
			    strcmp(t->rule, rule) == 0 && strcmp(t->term, term) == 0)
				return t;
		}
	}
	return NULL;
}

/* The template completed with what was negotiated in neg: protocol, SPI, algorithms, keys,
 * UDP encapsulation, ESN, lifetimes, and the traffic selectors when the peer narrowed
 * them. */
static struct sadb_sa *
sadb_negotiated(struct sadb *sd, const struct sadb_sa *tmpl, const Picsec__V1__Sa *neg,
    char *err, size_t errlen)
{
	struct sadb_sa *sa = malloc(sizeof(*sa));
	Picsec__V1__Sa *m;
	char spi[16], kind[24];
	const char *words[6];

	if (sa == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*sa = *tmpl;
	sa->next = sa->prev = NULL;
	sa->enc_key = sadb_secret(neg->enc_key);
	sa->auth_key = sadb_secret(neg->auth_key);
	if ((neg->enc_key != NULL && neg->enc_key->material.len > 0 && sa->enc_key == NULL) ||
	    (neg->auth_key != NULL && neg->auth_key->material.len > 0 && sa->auth_key == NULL)) {
		snprintf(err, errlen, "out of memory");
		sadb_sa_free(sa);
		return NULL;
	}
	m = &sa->msg;
	/* The peer may narrow the term's traffic, never widen it (RFC 7296 §2.9). */
	if ((neg->source != NULL && !sadb_prefix_within(neg->source, tmpl->msg.source)) ||
	    (neg->destination != NULL &&
	    !sadb_prefix_within(neg->destination, tmpl->msg.destination))) {
		snprintf(err, errlen, "a traffic selector that is no prefix within the term's");
		sadb_sa_free(sa);
		return NULL;
	}
	if (neg->source != NULL)
		m->source = sadb_prefix(neg->source, sa->src, &sa->src_msg);
	if (neg->destination != NULL)
		m->destination = sadb_prefix(neg->destination, sa->dst, &sa->dst_msg);
	sadb_sa_point(sa);
	m->protocol = neg->protocol;
	m->spi = neg->spi;
	m->enc_algorithm = neg->enc_algorithm;
	m->auth_algorithm = neg->auth_algorithm;
	m->encap_sport = neg->encap_sport;
	m->encap_dport = neg->encap_dport;
	m->esn = neg->esn;
	m->soft_lifetime_seconds = neg->soft_lifetime_seconds;
	m->hard_lifetime_seconds = neg->hard_lifetime_seconds;
	m->soft_lifetime_kbytes = neg->soft_lifetime_kbytes;
	m->hard_lifetime_kbytes = neg->hard_lifetime_kbytes;
	snprintf(spi, sizeof(spi), "%u", neg->spi);
	snprintf(kind, sizeof(kind), "%d/%d", (int)m->direction, (int)m->protocol);
	words[0] = "dynamic";
	words[1] = sa->service_set;
	words[2] = sa->rule;
	words[3] = sa->term;
	words[4] = kind;
	words[5] = spi;
	sa->id = m->id = sadb_hash(words, 6, NULL, NULL);
	sa->key_fingerprint = sadb_hash(words, 6, sa->enc_key, sa->auth_key);
	sa->installed = false;
	sa->life_timer = 0;
	sa->bytes = 0;
	sa->soft_expired = false;
	m->seq_start = m->direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND ?
	    sadb_journal_start(sd, sa->id, sa->key_fingerprint) : 0;
	return sa;
}

/* What iked may ask: the rest is sadb's to fill in. */
static int
sadb_negotiated_check(const Picsec__V1__Sa *s, char *err, size_t errlen)
{
	if (s->origin != PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC)
		snprintf(err, errlen, "only negotiated SAs are installed this way");
	else if (s->direction != PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND &&
	    s->direction != PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND)
		snprintf(err, errlen, "an SA is inbound or outbound");
	else if (s->protocol != PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP &&
	    s->protocol != PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH)
		snprintf(err, errlen, "a negotiated SA is ESP or AH");
	else if (s->spi < 256)
		snprintf(err, errlen, "SPI %u is reserved", s->spi);
	else if ((s->auth_key == NULL || s->auth_key->material.len == 0) &&
	    (s->enc_key == NULL || s->enc_key->material.len == 0))
		snprintf(err, errlen, "an SA without keys");
	else if (s->service_set[0] == '\0' || s->rule[0] == '\0' || s->term[0] == '\0')
		snprintf(err, errlen, "an SA names its service set, rule and term");
	else
		return 0;
	return -1;
}

int
sadb_dynamic_install(struct sadb *sd, Picsec__V1__Sa *const *sas, size_t n, uint64_t *ids,
    char *err, size_t errlen)
{
	struct sadb_sa **made = calloc(n + 1, sizeof(*made));
	struct sadb_sa **group = calloc(n + 1, sizeof(*group));
	const struct sadb_sa *tmpl;
	const struct sadb_set *set;
	size_t i, j, more = 0;
	int rc = -1;

	if (made == NULL || group == NULL) {
		free(made);
		free(group);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (sadb_negotiated_check(sas[i], err, errlen) == -1)
			goto out;
		tmpl = sadb_template(sd->pics, sas[i]->service_set, sas[i]->rule, sas[i]->term,
		    sas[i]->direction);
		if (tmpl == NULL) {
			snprintf(err, errlen, "service set %s has no dynamic term %s/%s",
			    sas[i]->service_set, sas[i]->rule, sas[i]->term);
			goto out;
		}
		set = sadb_set_find(tmpl->pic, sas[i]->service_set);
		if (set != NULL && set->withheld) {
			snprintf(err, errlen, "service set %s: its local gateway or PIC is down "
			    "(gw-interface)", sas[i]->service_set);
			goto out;
		}
		if ((made[i] = sadb_negotiated(sd, tmpl, sas[i], err, errlen)) == NULL)
			goto out;
		made[i]->pic = tmpl->pic;
		if (made[i]->msg.direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND &&
		    sadb_spi_held(sd, made[i]->msg.protocol, made[i]->msg.spi, made[i]->local,
		    made[i]->local_msg.addr.len, made[i]->id)) {
			snprintf(err, errlen, "SPI %u to this gateway is held by another SA",
			    made[i]->msg.spi);
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (made[j]->id == made[i]->id) {
				snprintf(err, errlen, "SPI %u twice", sas[i]->spi);
				goto out;
			}
		}
		/* A PIC's snapshot must stay one bus message (counting the request's SAs as if
		 * all went to this PIC: they nearly always do). */
		more += sadb_sa_snapshot_len(made[i]);
		if (made[i]->pic->snapshot_len + more > SADB_SNAPSHOT_SAS_MAX) {
			snprintf(err, errlen, "PIC %s is full: its SAs' snapshot would be more than "
			    "the bus carries", made[i]->pic->name);
			rc = -2;
			goto out;
		}
	}
	/* One update per PIC: the SAs of one Child SA arrive together. */
	for (i = 0; i < n; i++) {
		struct sadb_pic *pic;
		size_t k = 0;

		if (made[i] == NULL)
			continue;
		pic = made[i]->pic;
		for (j = i; j < n; j++) {
			if (made[j] != NULL && made[j]->pic == pic) {
				ids[j] = made[j]->id;
				group[k++] = made[j];
				made[j] = NULL;
			}
		}
		sadb_pic_add(sd, pic, group, k);
		/* Their own timers: the others' run already. */
		for (j = 0; j < k; j++) {
			sadb_spi_installed(sd, group[j]);
			sadb_lifetime_arm(sd, group[j]);
		}
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		sadb_sa_free(made[i]);
	free(made);
	free(group);
	return rc;
}

size_t
sadb_dynamic_remove(struct sadb *sd, const uint64_t *ids, size_t n, uint64_t *removed)
{
	struct sadb_pic *pic;
	struct sadb_sa *sa;
	uint64_t *mine;
	size_t i, k, total = 0;

	if ((mine = calloc(n + 1, sizeof(*mine))) == NULL)
		return 0;
	for (pic = sd->pics; pic != NULL; pic = pic->next) {
		for (i = k = 0; i < n; i++) {
			sa = u64map_get(sd->sas_by_id, ids[i]);
			if (sa == NULL || sa->pic != pic ||
			    sa->msg.origin != PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC)
				continue;
			sadb_pic_unlink(sd, sa);
			sadb_journal_forget(sd, ids[i]);
			mine[k++] = ids[i];
			removed[total++] = ids[i];
		}
		sadb_pic_publish_removes(sd, pic, mine, k, true);
	}
	free(mine);
	return total;
}

void
sadb_dynamic_carry(struct sadb *sd, struct sadb_pic *want, uint64_t **gone, size_t *ngone)
{
	const struct sadb_pic *cur;
	const struct sadb_sa *sa, *tmpl;
	struct sadb_sa *copy;
	struct sadb_pic *dst;
	size_t n = 0;
	char err[128];

	*gone = NULL;
	*ngone = 0;
	for (cur = sd->pics; cur != NULL; cur = cur->next) {
		for (sa = cur->sas; sa != NULL; sa = sa->next)
			n += sa->msg.origin == PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC;
	}
	if (n == 0 || (*gone = calloc(n, sizeof(**gone))) == NULL)
		return;
	for (cur = sd->pics; cur != NULL; cur = cur->next) {
		for (sa = cur->sas; sa != NULL; sa = sa->next) {
			if (sa->msg.origin != PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC)
				continue;
			tmpl = sadb_template(want, sa->service_set, sa->rule, sa->term,
			    sa->msg.direction);
			copy = tmpl != NULL ? sadb_negotiated(sd, tmpl, &sa->msg, err, sizeof(err)) :
			    NULL;
			if (copy == NULL) {
				(*gone)[(*ngone)++] = sa->id;
				continue;
			}
			/* The term's settings may have changed, the SA is the same one: it keeps
			 * its age (lifetimes) and its place in the journal. */
			copy->created_ns = sa->created_ns;
			for (dst = want; dst != NULL && dst != tmpl->pic; dst = dst->next)
				;
			if (dst == NULL) {
				sadb_sa_free(copy);
				(*gone)[(*ngone)++] = sa->id;
				continue;
			}
			copy->pic = dst;
			copy->next = dst->sas;
			dst->sas = copy;
		}
	}
}

void
sadb_dynamic_removed(struct sadb *sd, const uint64_t *ids, size_t n, const char *reason)
{
	Picsec__V1__SaRemoved ev = PICSEC__V1__SA_REMOVED__INIT;
	size_t i;

	/* Negotiated keys never come back: their journal marks go with them. */
	for (i = 0; i < n; i++)
		sadb_journal_forget(sd, ids[i]);
	ev.ids = (uint64_t *)(uintptr_t)ids;
	ev.n_ids = n;
	ev.reason = (char *)(uintptr_t)reason;
	if (bus_publish(sd->bus, "sa.removed", MT(SA_REMOVED), &ev.base) == -1)
		log_warnx("%zu negotiated SAs removed (%s): not published", n, reason);
	else
		log_info("%zu negotiated SA%s removed: %s", n, n == 1 ? "" : "s", reason);
}
