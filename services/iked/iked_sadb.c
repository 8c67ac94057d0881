/* What iked asks of sadb: inbound SPIs (a few at hand per local gateway, so that a
 * responder answers IKE_AUTH without a round trip), the two SAs of each negotiated Child
 * SA, and their removal. And what sadb tells iked: SAs it removed on its own. */
#include "iked_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "ike_proposal.h"
#include "ike_sk.h"
#include "log.h"
#include "sa.pb-c.h"
#include "u64map.h"

enum { IKED_SADB_TIMEOUT_MS = 3000 };

static struct iked_pool *
iked_pool(struct iked *ik, const uint8_t local[4], uint8_t protocol)
{
	struct iked_pool *p;

	for (p = ik->pools; p != NULL; p = p->next) {
		if (memcmp(p->addr, local, 4) == 0 && p->protocol == protocol)
			return p;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	memcpy(p->addr, local, 4);
	p->protocol = protocol;
	p->next = ik->pools;
	ik->pools = p;
	return p;
}

static void
iked_spi_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct iked *ik = ctx;
	const Picsec__V1__SaSpi *r = (const Picsec__V1__SaSpi *)res->msg;
	struct iked_pool *p;
	size_t i;

	(void)bus;
	for (p = ik->pools; p != NULL && (uint64_t)(uintptr_t)p != cookie; p = p->next)
		;
	if (p == NULL)
		return;
	p->asking = false;
	if (res->type != MT(SA_SPI)) {
		log_warnx("no SPIs from sadb: %s", res->error_text != NULL ? res->error_text : "?");
		return;
	}
	if (p->n < sizeof(p->spis) / sizeof(p->spis[0]) && r->spi >= 256)
		p->spis[p->n++] = r->spi;
	for (i = 0; i < r->n_more && p->n < sizeof(p->spis) / sizeof(p->spis[0]); i++) {
		if (r->more[i] >= 256)
			p->spis[p->n++] = r->more[i];
	}
}

static void
iked_pool_fill(struct iked *ik, struct iked_pool *p)
{
	Picsec__V1__SaAllocSpi req = PICSEC__V1__SA_ALLOC_SPI__INIT;
	Picsec__V1__IpAddress dst = PICSEC__V1__IP_ADDRESS__INIT;

	if (p->asking || p->n >= IKED_SPI_POOL / 2)
		return;
	req.protocol = p->protocol == IKE_PROTO_AH ? PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH :
	    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	dst.addr.data = p->addr;
	dst.addr.len = 4;
	req.destination = &dst;
	req.count = IKED_SPI_POOL;
	/* The pool lives as long as iked: its address is a safe cookie (it is looked up). */
	if (bus_request(ik->bus, "sadb", MT(SA_ALLOC_SPI), &req.base, IKED_SADB_TIMEOUT_MS,
	    iked_spi_reply, ik, (uint64_t)(uintptr_t)p) != 0)
		p->asking = true;
}

uint32_t
iked_spi_take(struct iked *ik, const uint8_t local[4], uint8_t protocol)
{
	struct iked_pool *p = iked_pool(ik, local, protocol);
	uint32_t spi = 0;

	if (p == NULL)
		return 0;
	if (p->n > 0)
		spi = p->spis[--p->n];
	iked_pool_fill(ik, p);
	return spi;
}

void
iked_spi_prefill(struct iked *ik, const uint8_t local[4], uint8_t protocol)
{
	struct iked_pool *p = iked_pool(ik, local, protocol);

	if (p != NULL)
		iked_pool_fill(ik, p);
}

void
iked_pools_free(struct iked *ik)
{
	struct iked_pool *p, *next;

	for (p = ik->pools; p != NULL; p = next) {
		next = p->next;
		free(p);
	}
	ik->pools = NULL;
}

/* The Junos algorithm of a negotiated transform. */
static Picsec__V1__EncAlgorithm
iked_enc_of(const struct ike_transform *e)
{
	if (e == NULL)
		return PICSEC__V1__ENC_ALGORITHM__ENC_NULL;
	switch (e->id) {
	case IKE_ENCR_3DES: return PICSEC__V1__ENC_ALGORITHM__ENC_3DES_CBC;
	case IKE_ENCR_AES_CBC:
		return e->key_length == 256 ? PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC :
		    e->key_length == 192 ? PICSEC__V1__ENC_ALGORITHM__ENC_AES192_CBC :
		    PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	case IKE_ENCR_AES_GCM_16:
		return e->key_length == 256 ? PICSEC__V1__ENC_ALGORITHM__ENC_AES256_GCM :
		    e->key_length == 192 ? PICSEC__V1__ENC_ALGORITHM__ENC_AES192_GCM :
		    PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM;
	default: return PICSEC__V1__ENC_ALGORITHM__ENC_NULL;
	}
}

static Picsec__V1__AuthAlgorithm
iked_auth_of(const struct ike_transform *i)
{
	if (i == NULL)
		return PICSEC__V1__AUTH_ALGORITHM__AUTH_NONE;
	switch (i->id) {
	case IKE_INTEG_HMAC_MD5_96: return PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_MD5_96;
	case IKE_INTEG_HMAC_SHA1_96: return PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	case IKE_INTEG_HMAC_SHA2_256_128: return PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128;
	default: return PICSEC__V1__AUTH_ALGORITHM__AUTH_NONE;
	}
}

static void
iked_remove_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t key)
{
	(void)bus;
	(void)ctx;
	if (res->type != MT(SA_REMOVED))
		log_warnx("IKE SA %016llx: sadb did not remove its Child SA: %s",
		    (unsigned long long)key, res->error_text != NULL ? res->error_text : "?");
}

/* The child whose SA_INSTALL carried that cookie, and its IKE SA. */
struct install_walk {
	uint64_t install_id;
	struct iked_sa *sa;
	struct iked_child *ch;
};

static void
iked_install_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *sa = value;
	struct install_walk *w = arg;
	size_t i;

	(void)key;
	for (i = 0; i < IKED_MAX_CHILDREN && w->ch == NULL; i++) {
		if (sa->children[i].used && sa->children[i].install_id == w->install_id) {
			w->sa = sa;
			w->ch = &sa->children[i];
		}
	}
}

static void
iked_install_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t install_id)
{
	Picsec__V1__SaRemove rm = PICSEC__V1__SA_REMOVE__INIT;
	struct iked *ik = ctx;
	struct install_walk w = { .install_id = install_id };
	const Picsec__V1__SaInstalled *r = (const Picsec__V1__SaInstalled *)res->msg;

	u64map_foreach(ik->sas, iked_install_one, &w);
	if (res->type != MT(SA_INSTALLED)) {
		log_warnx("a Child SA was not installed by sadb: %s",
		    res->error_text != NULL ? res->error_text : "?");
		if (w.sa != NULL) {
			w.ch->install_id = 0;
			iked_sa_close(ik, w.sa, "its Child SA could not be installed");
		}
		return;
	}
	if (w.ch != NULL && r->n_ids == 2) {
		w.ch->install_id = 0;
		w.ch->ids[0] = r->ids[0];
		w.ch->ids[1] = r->ids[1];
		ik->stats.child_sas_installed++;
		iked_orphans_sweep(ik, w.sa->tunnel, w.sa);
		return;
	}
	/* Gone while sadb installed it: take it out again. */
	rm.ids = r->ids;
	rm.n_ids = r->n_ids;
	rm.reason = (char *)(uintptr_t)"its IKE SA went while it was installed";
	bus_request(bus, "sadb", MT(SA_REMOVE), &rm.base, IKED_SADB_TIMEOUT_MS, iked_remove_reply,
	    ik, 0);
}

static void
iked_sa_fill(Picsec__V1__Sa *m, Picsec__V1__Secret *enc, Picsec__V1__Secret *auth,
    const struct iked_tunnel *t, const struct ike_child *c, bool inbound)
{
	const struct ike_transform *e = ike_proposal_get(&c->chosen, IKE_TF_ENCR);
	const struct ike_transform *i = ike_proposal_get(&c->chosen, IKE_TF_INTEG);

	picsec__v1__sa__init(m);
	m->origin = PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC;
	m->service_set = (char *)(uintptr_t)t->service_set;
	m->rule = (char *)(uintptr_t)t->rule;
	m->term = (char *)(uintptr_t)t->term;
	m->direction = inbound ? PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND :
	    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND;
	m->protocol = c->protocol == IKE_PROTO_AH ? PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH :
	    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	m->spi = inbound ? c->spi_in : c->spi_out;
	m->enc_algorithm = iked_enc_of(e);
	m->auth_algorithm = iked_auth_of(i);
	/* The hard lifetime ends the SA; until Child SAs are rekeyed in place, iked
	 * negotiates anew when it goes (sa.expire). */
	m->hard_lifetime_seconds = t->child_lifetime;
	if (c->encr_len > 0) {
		picsec__v1__secret__init(enc);
		enc->material.data = (uint8_t *)(uintptr_t)(inbound ? c->encr_in : c->encr_out);
		enc->material.len = c->encr_len;
		m->enc_key = enc;
	}
	if (c->integ_len > 0) {
		picsec__v1__secret__init(auth);
		auth->material.data = (uint8_t *)(uintptr_t)(inbound ? c->integ_in : c->integ_out);
		auth->material.len = c->integ_len;
		m->auth_key = auth;
	}
}

void
iked_sadb_install(struct iked *ik, struct iked_sa *sa, struct iked_child *ch,
    const struct ike_child *c)
{
	Picsec__V1__SaInstall req = PICSEC__V1__SA_INSTALL__INIT;
	Picsec__V1__Sa in, out, *both[2] = { &in, &out };
	Picsec__V1__Secret secrets[4];

	iked_sa_fill(&in, &secrets[0], &secrets[1], sa->tunnel, c, true);
	iked_sa_fill(&out, &secrets[2], &secrets[3], sa->tunnel, c, false);
	/* The initiator rekeys first; the responder's soft lifetime comes later (both at
	 * once would collide: §2.8.1 resolves it, but it costs an exchange). */
	in.soft_lifetime_seconds = out.soft_lifetime_seconds =
	    (uint64_t)((double)in.hard_lifetime_seconds * (sa->initiator ? 0.85 : 0.93));
	if (iked_sa_natt(ik, sa)) {
		/* ESP in UDP (RFC 3948) between the ports IKE uses now. */
		in.encap_sport = out.encap_sport = sa->local_port;
		in.encap_dport = out.encap_dport = sa->peer_port;
	}
	req.sas = both;
	req.n_sas = 2;
	ch->install_id = ++ik->next_install_id;
	if (bus_request(ik->bus, "sadb", MT(SA_INSTALL), &req.base, IKED_SADB_TIMEOUT_MS,
	    iked_install_reply, ik, ch->install_id) == 0)
		log_warnx("IKE SA %016llx: the Child SA could not be sent to sadb",
		    (unsigned long long)sa->key);
}

void
iked_sadb_remove(struct iked *ik, struct iked_child *ch, const char *why)
{
	Picsec__V1__SaRemove rm = PICSEC__V1__SA_REMOVE__INIT;

	if (ch->ids[0] == 0 && ch->ids[1] == 0)
		return; /* not installed yet: the install's answer takes it out */
	rm.ids = ch->ids;
	rm.n_ids = 2;
	rm.reason = (char *)(uintptr_t)why;
	if (bus_request(ik->bus, "sadb", MT(SA_REMOVE), &rm.base, IKED_SADB_TIMEOUT_MS,
	    iked_remove_reply, ik, 0) == 0)
		log_warnx("removal of a Child SA not sent to sadb");
	ch->ids[0] = ch->ids[1] = 0;
}

/* The IKE SAs holding any of these ids. */
struct gone_walk {
	const uint64_t *ids;
	size_t n;
	struct iked_sa *hits[64];
	size_t nhits;
};

static void
iked_gone_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *sa = value;
	struct gone_walk *g = arg;
	size_t i;

	(void)key;
	for (i = 0; i < g->n && g->nhits < sizeof(g->hits) / sizeof(g->hits[0]); i++) {
		if (iked_sa_child_by_id(sa, g->ids[i]) != NULL) {
			g->hits[g->nhits++] = sa;
			return;
		}
	}
}

/* Whether sa still has a Child SA that sadb holds. */
static bool
iked_sa_has_child(const struct iked_sa *sa)
{
	for (size_t i = 0; i < IKED_MAX_CHILDREN; i++) {
		if (sa->children[i].used && (sa->children[i].ids[0] != 0 ||
		    sa->children[i].ids[1] != 0 || sa->children[i].install_id != 0))
			return true;
	}
	return false;
}

/* sadb has these SAs of sa no more: their Child SAs are deleted at the peer; an IKE SA
 * left without any goes too (one Child SA per IKE SA: a childless IKE SA would carry
 * nothing until its lifetime) and the tunnel negotiates anew unless it is held. */
static void
iked_children_gone(struct iked *ik, struct iked_sa *sa, const uint64_t *ids, size_t n,
    const char *why)
{
	struct iked_tunnel *t = sa->tunnel;
	struct iked_child *ch;
	uint32_t spis[IKED_MAX_CHILDREN];
	size_t k, nspis = 0;
	uint8_t out[8192];
	size_t len;
	char reason[256];

	for (k = 0; k < n; k++) {
		if ((ch = iked_sa_child_by_id(sa, ids[k])) == NULL)
			continue;
		ch->ids[0] = ch->ids[1] = 0;
		if (nspis < IKED_MAX_CHILDREN)
			spis[nspis++] = ch->info.spi_in;
	}
	if (nspis == 0)
		return;
	if (!iked_sa_has_child(sa)) {
		snprintf(reason, sizeof(reason), "its Child SA %08x was removed by sadb (%s)",
		    spis[0], why);
		iked_sa_close(ik, sa, reason);
		if (t != NULL)
			iked_tunnel_restart(ik, t);
		return;
	}
	for (k = 0; k < nspis; k++) {
		log_info("IKE SA %016llx: Child SA %08x removed by sadb (%s): deleting it at the "
		    "peer", (unsigned long long)sa->key, spis[k], why);
		if (ike_sa_delete_child(sa->ike, spis[k], out, sizeof(out), &len) == 0) {
			ik->stats.delete_payloads_out++;
			iked_sa_send(ik, sa, out, len);
		} else if ((ch = iked_sa_child_by_spi(sa, spis[k])) != NULL) {
			/* The window is busy: the peer's side goes with its own lifetime. */
			memset(ch, 0, sizeof(*ch));
		}
	}
}

void
iked_sadb_gone(struct iked *ik, const uint64_t *ids, size_t n, const char *why)
{
	struct gone_walk g = { .ids = ids, .n = n };
	size_t i;

	u64map_foreach(ik->sas, iked_gone_one, &g);
	/* Each hit once: a closed IKE SA is not touched again. */
	for (i = 0; i < g.nhits; i++)
		iked_children_gone(ik, g.hits[i], ids, n, why);
}

void
iked_sadb_expired(struct iked *ik, uint64_t id, bool hard)
{
	struct gone_walk g = { .ids = &id, .n = 1 };
	struct iked_child *ch;

	u64map_foreach(ik->sas, iked_gone_one, &g);
	if (g.nhits == 0 || (ch = iked_sa_child_by_id(g.hits[0], id)) == NULL)
		return;
	if (hard) {
		iked_children_gone(ik, g.hits[0], &id, 1, "its hard lifetime");
		return;
	}
	/* Soft: a new Child SA, without a gap (the old one lives until it is deleted). */
	if (!ch->rekey_wanted)
		log_info("IKE SA %016llx: Child SA %08x reached its soft lifetime: rekeying",
		    (unsigned long long)g.hits[0]->key, ch->info.spi_in);
	ch->rekey_wanted = true;
	iked_sa_work_soon(ik, g.hits[0]);
}
