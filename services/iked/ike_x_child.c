/* CREATE_CHILD_SA (RFC 7296 §1.3): rekeying a Child SA (REKEY_SA names the old one; a new
 * DH exchange when the policy has PFS) and rekeying the IKE SA itself (§2.18: new SPIs, a
 * new DH exchange, SKEYSEED from the old SK_d; the Child SAs move to the new IKE SA). The
 * side that rekeyed deletes what was replaced in the request that follows; when both
 * sides rekeyed one Child SA at once, the new SA of the exchange with the lowest nonce is
 * the redundant one, deleted by its initiator (§2.8.1). */
#include "ike_sa_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_proposal.h"

void
ike_rekey_clear(struct ike_rekey *rk)
{
	ike_dh_free(rk->dh);
	sodium_memzero(rk, sizeof(*rk));
}

/* The DH group of the first offer that has one (0: no PFS). */
static uint16_t
ike_offer_group(const struct ike_proposal *offer, size_t n)
{
	const struct ike_transform *t;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((t = ike_proposal_get(&offer[i], IKE_TF_DH)) != NULL)
			return t->id;
	}
	return 0;
}

static bool
ike_offers_group(const struct ike_proposal *offer, size_t n, uint16_t group)
{
	const struct ike_transform *t;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((t = ike_proposal_get(&offer[i], IKE_TF_DH)) != NULL && t->id == group)
			return true;
	}
	return false;
}

/* The request from rk (made or remade after INVALID_KE_PAYLOAD with another group). */
static int
ike_child_request_write(struct ike_sa *sa, uint16_t group, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ike_rekey *rk = &sa->rk;
	struct ike_child_slot *old = rk->ike ? NULL : ike_child_by_in(sa, rk->old_spi_in);
	uint8_t inner[IKE_MAX_MSG / 2], spi[4];
	struct ike_writer w;
	char err[128];
	size_t len;

	ike_dh_free(rk->dh);
	rk->dh = NULL;
	if (group != 0 && (rk->dh = ike_dh_new(group, err, sizeof(err))) == NULL)
		return -1;
	if (!rk->ike && old == NULL)
		return -1;
	ike_w_inner(&w, inner, sizeof(inner));
	if (!rk->ike) {
		ike_put32(spi, rk->old_spi_in);
		ike_w_notify(&w, old->c.protocol, IKE_N_REKEY_SA, spi, 4, NULL, 0);
	}
	ike_w_sa(&w, rk->offer, rk->noffer);
	ike_w_nonce(&w, rk->nonce, sizeof(rk->nonce));
	if (rk->dh != NULL)
		ike_w_ke(&w, group, ike_dh_public(rk->dh), ike_dh_public_len(group));
	if (!rk->ike) {
		ike_w_ts(&w, true, &old->c.ts_local);
		ike_w_ts(&w, false, &old->c.ts_remote);
	}
	if ((len = ike_w_finish(&w)) == 0 ||
	    ike_sa_seal(sa, IKE_CREATE_CHILD_SA, false, sa->req_msgid, inner, len, w.first, out,
	    cap, outlen) != 0)
		return -1;
	sa->awaiting = true;
	sa->rekeying = true;
	sa->req_exchange = IKE_CREATE_CHILD_SA;
	sa->req_deletes_ike = false;
	return 0;
}

int
ike_child_rekey_request(struct ike_sa *sa, bool ike, uint32_t old_spi_in, uint32_t new_spi_in,
    uint8_t *out, size_t cap, size_t *outlen)
{
	struct ike_rekey *rk = &sa->rk;
	const struct ike_proposal *src = ike ? sa->cfg->ike : sa->cfg->child;
	size_t i, n = ike ? sa->cfg->nike : sa->cfg->nchild;
	uint16_t group;

	ike_rekey_clear(rk);
	rk->ike = ike;
	rk->old_spi_in = old_spi_in;
	rk->new_spi_in = new_spi_in;
	randombytes_buf(rk->nonce, sizeof(rk->nonce));
	if (ike) {
		do
			randombytes_buf(&rk->new_spi, sizeof(rk->new_spi));
		while (rk->new_spi == 0);
		ike_put64(rk->spi, rk->new_spi);
	} else {
		ike_put32(rk->spi, new_spi_in);
	}
	rk->noffer = n < IKE_MAX_PROPOSALS ? n : IKE_MAX_PROPOSALS;
	for (i = 0; i < rk->noffer; i++) {
		rk->offer[i] = src[i];
		rk->offer[i].spi = (struct ike_bytes){ rk->spi, ike ? 8 : 4 };
	}
	/* The IKE SA's group again if we offer it (the peer took it once); else the first. */
	group = ike && ike_offers_group(rk->offer, rk->noffer, sa->ke_group) ? sa->ke_group :
	    ike_offer_group(rk->offer, rk->noffer);
	if (ike_child_request_write(sa, group, out, cap, outlen) != 0) {
		ike_rekey_clear(rk);
		sa->rekeying = false;
		return -1;
	}
	return 0;
}

/* Whether a's bytes sort before b's (a shorter equal prefix first). */
static bool
ike_nonce_lower(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c < 0 || (c == 0 && alen < blen);
}

/* A new IKE SA from a completed IKE rekey: keys from the old SK_d, the Child SAs moved. */
static struct ike_sa *
ike_rekeyed_new(struct ike_sa *old, bool initiator, const struct ike_proposal *chosen,
    uint64_t spi_i, uint64_t spi_r, const struct ike_bytes *ni, const struct ike_bytes *nr,
    const uint8_t *gir, size_t gir_len)
{
	const struct ike_transform *prf = ike_proposal_get(chosen, IKE_TF_PRF);
	const struct ike_transform *dh = ike_proposal_get(chosen, IKE_TF_DH);
	struct ike_sa *n;

	if (prf == NULL || dh == NULL || ni->len > sizeof(old->ni) || nr->len > sizeof(old->nr) ||
	    (n = ike_sa_new(old->cfg, initiator, 0)) == NULL)
		return NULL;
	n->ev = old->ev;
	n->ep = old->ep;
	n->have_ep = old->have_ep;
	n->nat_local = old->nat_local;
	n->nat_remote = old->nat_remote;
	n->spi_i = spi_i;
	n->spi_r = spi_r;
	n->chosen = *chosen;
	n->chosen.spi.data = NULL;
	n->chosen.spi.len = 0;
	n->prf = prf->id;
	n->ke_group = dh->id;
	memcpy(n->ni, ni->data, ni->len);
	n->ni_len = ni->len;
	memcpy(n->nr, nr->data, nr->len);
	n->nr_len = nr->len;
	if (ike_sa_derive_rekey(n, old->prf, gir, gir_len, old->keys->sk_d,
	    old->keys->len.prf) != 0) {
		ike_sa_free(n);
		return NULL;
	}
	/* The Child SAs go with it, keys and all; the old IKE SA keeps none. */
	memcpy(n->children, old->children, sizeof(n->children));
	memset(old->children, 0, sizeof(old->children));
	n->state = IKE_SA_ESTABLISHED;
	n->req_msgid = n->peer_msgid = 0;
	return n;
}

/* The peer's KE against the chosen group: the shared secret, or the group it should use. */
static int
ike_child_dh(const struct ike_proposal *chosen, const struct ike_msg *m, struct ike_dh **mine,
    uint8_t *secret, size_t *secret_len, uint16_t *want_group)
{
	const struct ike_transform *dh = ike_proposal_get(chosen, IKE_TF_DH);
	char err[128];

	*mine = NULL;
	*secret_len = 0;
	*want_group = 0;
	if (dh == NULL || dh->id == 0)
		return 0;
	if (!m->has_ke || m->ke_group != dh->id) {
		*want_group = dh->id;
		return -1;
	}
	if ((*mine = ike_dh_new(dh->id, err, sizeof(err))) == NULL ||
	    ike_dh_shared(*mine, m->ke_data.data, m->ke_data.len, secret, err, sizeof(err)) != 0) {
		ike_dh_free(*mine);
		*mine = NULL;
		return -2;
	}
	*secret_len = ike_dh_shared_len(dh->id);
	return 0;
}

static int
ike_child_respond_ike(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t inner[IKE_MAX_MSG / 2], secret[IKE_DH_MAX_PUBLIC], nr[IKE_NONCE_LEN], spi[8];
	struct ike_bytes bni = m->nonce, bnr = { nr, sizeof(nr) };
	struct ike_proposal chosen, chosen_out;
	struct ike_dh *mine = NULL;
	struct ike_writer w;
	uint64_t spi_r;
	size_t slen, len;
	uint16_t want, group;
	uint8_t gbe[2];
	int rc;

	/* Both ends rekeying the IKE SA at once: ours goes on, theirs is asked to wait
	 * (§2.25); it tries again, and finds the new IKE SA. */
	if (sa->rekeying && sa->rk.ike)
		return ike_info_refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0, out, cap, outlen);
	if (!m->has_ke || sa->rekeyed != NULL ||
	    !ike_proposal_select(sa->cfg->ike, sa->cfg->nike, m->proposals, m->nproposals,
	    &chosen) || chosen.spi.len != 8 || ike_get64(chosen.spi.data) == 0)
		return ike_info_refuse(sa, m, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, out, cap, outlen);
	if ((rc = ike_child_dh(&chosen, m, &mine, secret, &slen, &want)) == -1) {
		gbe[0] = (uint8_t)(want >> 8);
		gbe[1] = (uint8_t)want;
		return ike_info_refuse(sa, m, IKE_N_INVALID_KE_PAYLOAD, gbe, 2, out, cap, outlen);
	}
	if (rc != 0 || mine == NULL)
		return ike_info_refuse(sa, m, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, out, cap, outlen);
	randombytes_buf(nr, sizeof(nr));
	do
		randombytes_buf(&spi_r, sizeof(spi_r));
	while (spi_r == 0);
	ike_put64(spi, spi_r);
	group = ike_dh_group(mine);
	chosen_out = chosen;
	chosen_out.spi = (struct ike_bytes){ spi, 8 };
	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_sa(&w, &chosen_out, 1);
	ike_w_nonce(&w, nr, sizeof(nr));
	ike_w_ke(&w, group, ike_dh_public(mine), ike_dh_public_len(group));
	ike_dh_free(mine);
	/* The answer first: when it cannot be made, nothing has changed. */
	if ((len = ike_w_finish(&w)) == 0 ||
	    ike_sa_seal(sa, IKE_CREATE_CHILD_SA, true, m->hdr.msgid, inner, len, w.first, out, cap,
	    outlen) != 0 ||
	    (sa->rekeyed = ike_rekeyed_new(sa, false, &chosen, ike_get64(chosen.spi.data), spi_r,
	    &bni, &bnr, secret, slen)) == NULL) {
		sodium_memzero(secret, sizeof(secret));
		*outlen = 0;
		return -1;
	}
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

static int
ike_child_respond_child(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	const struct ike_notify *rekey = ike_msg_notify(m, IKE_N_REKEY_SA);
	uint8_t inner[IKE_MAX_MSG / 2], secret[IKE_DH_MAX_PUBLIC], nr[IKE_NONCE_LEN], spi[4];
	struct ike_bytes bni = m->nonce, bnr = { nr, sizeof(nr) };
	struct ike_proposal offer[IKE_MAX_PROPOSALS], chosen;
	struct ike_child_slot *old, *s;
	struct ike_dh *mine = NULL;
	struct ike_writer w;
	uint32_t spi_in;
	size_t i, n, slen, len;
	uint16_t want;
	uint8_t gbe[2];
	int rc;

	/* Only rekeys: one tunnel, one Child SA (a new one would need a term to carry). */
	if (rekey == NULL || rekey->spi.len != 4)
		return ike_info_refuse(sa, m, IKE_N_NO_ADDITIONAL_SAS, NULL, 0, out, cap, outlen);
	if ((old = ike_child_by_out(sa, rekey->protocol, ike_spi32(&rekey->spi))) == NULL)
		return ike_info_refuse(sa, m, IKE_N_CHILD_SA_NOT_FOUND, NULL, 0, out, cap, outlen);
	if (!m->has_tsi || !m->has_tsr || !ike_ts_within(&m->tsi, &sa->cfg->remote_ts) ||
	    !ike_ts_within(&m->tsr, &sa->cfg->local_ts))
		return ike_info_refuse(sa, m, IKE_N_TS_UNACCEPTABLE, NULL, 0, out, cap, outlen);
	spi_in = sa->ev.spi != NULL ? sa->ev.spi(sa->ev.ctx, sa, old->c.protocol) : 0;
	if (spi_in < 256)
		return ike_info_refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0, out, cap, outlen);
	ike_put32(spi, spi_in);
	n = sa->cfg->nchild < IKE_MAX_PROPOSALS ? sa->cfg->nchild : IKE_MAX_PROPOSALS;
	for (i = 0; i < n; i++) {
		offer[i] = sa->cfg->child[i];
		offer[i].spi = (struct ike_bytes){ spi, 4 };
	}
	if (!ike_proposal_select(offer, n, m->proposals, m->nproposals, &chosen) ||
	    chosen.protocol != old->c.protocol || chosen.spi.len != 4 ||
	    ike_spi32(&chosen.spi) < 256)
		return ike_info_refuse(sa, m, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, out, cap, outlen);
	if ((rc = ike_child_dh(&chosen, m, &mine, secret, &slen, &want)) == -1) {
		gbe[0] = (uint8_t)(want >> 8);
		gbe[1] = (uint8_t)want;
		return ike_info_refuse(sa, m, IKE_N_INVALID_KE_PAYLOAD, gbe, 2, out, cap, outlen);
	}
	if (rc != 0 || (s = ike_child_alloc(sa)) == NULL) {
		ike_dh_free(mine);
		return ike_info_refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0, out, cap, outlen);
	}
	randombytes_buf(nr, sizeof(nr));
	s->exchange_initiator = false;
	rc = ike_child_derive(sa, s, &chosen, spi_in, ike_spi32(&chosen.spi),
	    mine != NULL ? secret : NULL, slen, &bni, &bnr);
	sodium_memzero(secret, sizeof(secret));
	if (rc != 0) {
		ike_dh_free(mine);
		return ike_info_refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0, out, cap, outlen);
	}
	s->c.ts_local = m->tsr;
	s->c.ts_remote = m->tsi;
	chosen.spi = (struct ike_bytes){ spi, 4 };
	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_sa(&w, &chosen, 1);
	ike_w_nonce(&w, nr, sizeof(nr));
	if (mine != NULL) {
		ike_w_ke(&w, m->ke_group, ike_dh_public(mine), ike_dh_public_len(m->ke_group));
		ike_dh_free(mine);
	}
	ike_w_ts(&w, true, &m->tsi);
	ike_w_ts(&w, false, &m->tsr);
	if ((len = ike_w_finish(&w)) == 0 ||
	    ike_sa_seal(sa, IKE_CREATE_CHILD_SA, true, m->hdr.msgid, inner, len, w.first, out, cap,
	    outlen) != 0) {
		ike_child_down(sa, s, "the answer could not be made"); /* never announced */
		*outlen = 0;
		return -1;
	}
	/* Both sides rekeying this Child SA: remember this exchange's lowest nonce (§2.8.1). */
	if (sa->rekeying && !sa->rk.ike && sa->rk.old_spi_in == old->c.spi_in) {
		sa->rk.collided = true;
		if (ike_nonce_lower(bni.data, bni.len, nr, sizeof(nr))) {
			memcpy(sa->rk.peer_min_nonce, bni.data, bni.len);
			sa->rk.peer_min_nonce_len = bni.len;
		} else {
			memcpy(sa->rk.peer_min_nonce, nr, sizeof(nr));
			sa->rk.peer_min_nonce_len = sizeof(nr);
		}
	}
	ike_child_announce(sa, s);
	return 0;
}

int
ike_child_respond(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	if (!m->has_sa || !m->has_nonce || m->nproposals == 0 || m->nonce.len < 16 ||
	    m->nonce.len > 256)
		return ike_info_refuse(sa, m, IKE_N_INVALID_SYNTAX, NULL, 0, out, cap, outlen);
	return m->proposals[0].protocol == IKE_PROTO_IKE ?
	    ike_child_respond_ike(sa, m, out, cap, outlen) :
	    ike_child_respond_child(sa, m, out, cap, outlen);
}

/* Our Child SA rekey answered: the new one up, then the Delete of the replaced one (or of
 * our new one, when a collision made it the redundant one). */
static int
ike_child_response_child(struct ike_sa *sa, const struct ike_msg *m, const uint8_t *secret,
    size_t slen, uint8_t *out, size_t cap, size_t *outlen)
{
	struct ike_rekey *rk = &sa->rk;
	struct ike_bytes ni = { rk->nonce, sizeof(rk->nonce) }, nr = m->nonce;
	struct ike_child_slot *s, *old, *victim;
	const uint8_t *ours_min;
	size_t ours_min_len;

	if (!m->has_tsi || !m->has_tsr || m->proposals[0].spi.len != 4 ||
	    ike_spi32(&m->proposals[0].spi) < 256 ||
	    (old = ike_child_by_in(sa, rk->old_spi_in)) == NULL ||
	    !ike_ts_within(&m->tsi, &old->c.ts_local) || !ike_ts_within(&m->tsr, &old->c.ts_remote) ||
	    (s = ike_child_alloc(sa)) == NULL) {
		snprintf(sa->error, sizeof(sa->error), "the Child SA rekey's answer is not usable");
		return 0;
	}
	s->exchange_initiator = true;
	if (ike_child_derive(sa, s, &m->proposals[0], rk->new_spi_in,
	    ike_spi32(&m->proposals[0].spi), secret, slen, &ni, &nr) != 0) {
		snprintf(sa->error, sizeof(sa->error), "the rekeyed Child SA's keys failed");
		return 0;
	}
	s->c.ts_local = m->tsi;
	s->c.ts_remote = m->tsr;
	ike_child_announce(sa, s);
	victim = old;
	if (rk->collided) {
		ours_min = ike_nonce_lower(ni.data, ni.len, nr.data, nr.len) ? ni.data : nr.data;
		ours_min_len = ours_min == ni.data ? ni.len : nr.len;
		/* Ours has the lowest nonce: ours is redundant, and ours to delete; the peer
		 * deletes the old one. Else the peer deletes its new one and we the old. */
		if (ike_nonce_lower(ours_min, ours_min_len, rk->peer_min_nonce,
		    rk->peer_min_nonce_len))
			victim = s;
	}
	if (ike_info_request(sa, false, &victim->c, out, cap, outlen) == 0)
		ike_child_down(sa, victim, victim == s ? "redundant (both sides rekeyed)" :
		    "rekeyed");
	return 0;
}

int
ike_child_response(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ike_rekey *rk = &sa->rk;
	uint8_t secret[IKE_DH_MAX_PUBLIC];
	const struct ike_notify *inv;
	const struct ike_transform *dh;
	struct ike_bytes ni, nr;
	size_t slen = 0;
	uint16_t group;
	char err[128];
	int rc = 0;

	if (!sa->rekeying)
		return 0;
	sa->rekeying = false;
	if ((inv = ike_msg_notify(m, IKE_N_INVALID_KE_PAYLOAD)) != NULL) {
		group = inv->data.len == 2 ? (uint16_t)(inv->data.data[0] << 8 | inv->data.data[1]) :
		    0;
		/* Again with the group the peer wants, once, if we offer it. */
		if (rk->dh != NULL && group != ike_dh_group(rk->dh) &&
		    ike_offers_group(rk->offer, rk->noffer, group) &&
		    ike_child_request_write(sa, group, out, cap, outlen) == 0)
			return 0;
	}
	if (inv != NULL || !m->has_sa || m->nproposals != 1 || !m->has_nonce ||
	    m->nonce.len < 16 || m->nonce.len > 256 ||
	    !ike_proposal_accept(rk->offer, rk->noffer, &m->proposals[0])) {
		snprintf(sa->error, sizeof(sa->error), "the peer refused our %s rekey",
		    rk->ike ? "IKE SA" : "Child SA");
		goto out;
	}
	dh = ike_proposal_get(&m->proposals[0], IKE_TF_DH);
	if (dh != NULL && dh->id != 0) {
		if (rk->dh == NULL || !m->has_ke || m->ke_group != dh->id ||
		    ike_dh_group(rk->dh) != dh->id ||
		    ike_dh_shared(rk->dh, m->ke_data.data, m->ke_data.len, secret, err,
		    sizeof(err)) != 0) {
			snprintf(sa->error, sizeof(sa->error), "the rekey's DH exchange failed");
			goto out;
		}
		slen = ike_dh_shared_len(dh->id);
	}
	if (!rk->ike) {
		rc = ike_child_response_child(sa, m, slen > 0 ? secret : NULL, slen, out, cap,
		    outlen);
		goto out;
	}
	ni = (struct ike_bytes){ rk->nonce, sizeof(rk->nonce) };
	nr = m->nonce;
	if (slen == 0 || sa->rekeyed != NULL || m->proposals[0].spi.len != 8 ||
	    ike_get64(m->proposals[0].spi.data) == 0 ||
	    (sa->rekeyed = ike_rekeyed_new(sa, true, &m->proposals[0], rk->new_spi,
	    ike_get64(m->proposals[0].spi.data), &ni, &nr, secret, slen)) == NULL) {
		snprintf(sa->error, sizeof(sa->error), "the IKE SA rekey's answer is not usable");
		goto out;
	}
	/* The new IKE SA carries everything now: this one goes. */
	if (ike_info_request(sa, true, NULL, out, cap, outlen) == 0)
		sa->state = IKE_SA_DELETING;
out:
	sodium_memzero(secret, sizeof(secret));
	ike_rekey_clear(rk);
	return rc;
}
