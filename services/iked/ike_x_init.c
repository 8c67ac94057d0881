/* IKE_SA_INIT (RFC 7296 §1.2): SA, KE and nonce each way; the responder chooses the
 * proposal, a KE of another group than the chosen one is answered with
 * INVALID_KE_PAYLOAD (§1.3) and the initiator tries again with that group. */
#include "ike_sa_impl.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ike_build.h"
#include "ike_proposal.h"

static uint64_t
ike_random_spi(void)
{
	uint64_t spi = 0;

	while (spi == 0)
		randombytes_buf(&spi, sizeof(spi));
	return spi;
}

/* The group of our first proposal that offers one. */
static uint16_t
ike_first_group(const struct ike_peer_cfg *cfg)
{
	const struct ike_transform *t;
	size_t i;

	for (i = 0; i < cfg->nike; i++) {
		if ((t = ike_proposal_get(&cfg->ike[i], IKE_TF_DH)) != NULL)
			return t->id;
	}
	return 0;
}

/* Whether one of our proposals offers that group. */
static bool
ike_offers_group(const struct ike_peer_cfg *cfg, uint16_t group)
{
	const struct ike_transform *t;
	size_t i;

	for (i = 0; i < cfg->nike; i++) {
		if ((t = ike_proposal_get(&cfg->ike[i], IKE_TF_DH)) != NULL && t->id == group)
			return true;
	}
	return false;
}

int
ike_init_request(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen)
{
	struct ike_header h = { .exchange = IKE_SA_INIT, .flags = IKE_FLAG_INITIATOR };
	struct ike_writer w;
	char err[256];

	if (sa->spi_i == 0)
		sa->spi_i = ike_random_spi();
	if (sa->ke_group == 0)
		sa->ke_group = ike_first_group(sa->cfg);
	/* Again with a cookie: everything else unchanged (§2.6); else a new KE and nonce. */
	if (sa->cookie_len == 0 || sa->dh == NULL || ike_dh_group(sa->dh) != sa->ke_group) {
		ike_dh_free(sa->dh);
		if ((sa->dh = ike_dh_new(sa->ke_group, err, sizeof(err))) == NULL) {
			ike_sa_fail(sa, "%s", err);
			return -1;
		}
		sa->ni_len = IKE_NONCE_LEN;
		randombytes_buf(sa->ni, sa->ni_len);
	}
	h.spi_i = sa->spi_i;
	ike_w_message(&w, out, cap, &h);
	if (sa->cookie_len > 0)
		ike_w_notify(&w, 0, IKE_N_COOKIE, NULL, 0, sa->cookie, sa->cookie_len);
	ike_w_sa(&w, sa->cfg->ike, sa->cfg->nike);
	ike_w_ke(&w, sa->ke_group, ike_dh_public(sa->dh), ike_dh_public_len(sa->ke_group));
	ike_w_nonce(&w, sa->ni, sa->ni_len);
	ike_nat_write(sa, &w);
	if ((*outlen = ike_w_finish(&w)) == 0 ||
	    ike_sa_keep(&sa->msg1, &sa->msg1_len, out, *outlen) != 0) {
		ike_sa_fail(sa, "the IKE_SA_INIT request does not fit");
		return -1;
	}
	sa->msgid = 0;
	sa->state = IKE_SA_INIT_SENT;
	return 0;
}

/* An unencrypted notify as the whole answer (no state is kept: §2.6's spirit). */
static int
ike_init_notify(const struct ike_msg *m, uint16_t type, const uint8_t *data, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	struct ike_header h = { .spi_i = m->hdr.spi_i, .exchange = IKE_SA_INIT,
		.flags = IKE_FLAG_RESPONSE };
	struct ike_writer w;

	ike_w_message(&w, out, cap, &h);
	ike_w_notify(&w, 0, type, NULL, 0, data, len);
	*outlen = ike_w_finish(&w);
	return *outlen > 0 ? 0 : -1;
}

int
ike_init_respond(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ike_header h = { .exchange = IKE_SA_INIT, .flags = IKE_FLAG_RESPONSE };
	uint8_t secret[IKE_DH_MAX_PUBLIC], group_be[2];
	const struct ike_transform *dh, *prf;
	struct ike_proposal chosen;
	struct ike_dh *mine;
	struct ike_writer w;
	char err[256];
	size_t slen;

	if (!m->has_sa || !m->has_ke || !m->has_nonce)
		return ike_init_notify(m, IKE_N_INVALID_SYNTAX, NULL, 0, out, cap, outlen);
	if (!ike_proposal_select(sa->cfg->ike, sa->cfg->nike, m->proposals, m->nproposals,
	    &chosen) || (dh = ike_proposal_get(&chosen, IKE_TF_DH)) == NULL ||
	    (prf = ike_proposal_get(&chosen, IKE_TF_PRF)) == NULL) {
		snprintf(sa->error, sizeof(sa->error), "none of the initiator's %u IKE proposals "
		    "matches one of our %zu", m->nproposals, sa->cfg->nike);
		return ike_init_notify(m, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, out, cap, outlen);
	}
	if (m->ke_group != dh->id) {
		group_be[0] = (uint8_t)(dh->id >> 8);
		group_be[1] = (uint8_t)dh->id;
		return ike_init_notify(m, IKE_N_INVALID_KE_PAYLOAD, group_be, 2, out, cap,
		    outlen);
	}
	if ((mine = ike_dh_new(dh->id, err, sizeof(err))) == NULL ||
	    ike_dh_shared(mine, m->ke_data.data, m->ke_data.len, secret, err, sizeof(err)) != 0) {
		/* A bad KE value: dropped, and the SA stays as it was. */
		ike_dh_free(mine);
		return -1;
	}
	sa->dh = mine;
	sa->chosen = chosen;
	sa->chosen.spi.data = NULL; /* IKE SA proposals in IKE_SA_INIT carry no SPI */
	sa->chosen.spi.len = 0;
	sa->prf = prf->id;
	sa->ke_group = dh->id;
	slen = ike_dh_shared_len(dh->id);
	sa->spi_i = m->hdr.spi_i;
	sa->spi_r = ike_random_spi();
	memcpy(sa->ni, m->nonce.data, m->nonce.len);
	sa->ni_len = m->nonce.len;
	sa->nr_len = IKE_NONCE_LEN;
	randombytes_buf(sa->nr, sa->nr_len);
	if (ike_sa_derive(sa, secret, slen) != 0) {
		sodium_memzero(secret, sizeof(secret));
		ike_sa_fail(sa, "%s", sa->error);
		return -1;
	}
	sodium_memzero(secret, sizeof(secret));
	h.spi_i = sa->spi_i;
	h.spi_r = sa->spi_r;
	ike_w_message(&w, out, cap, &h);
	ike_w_sa(&w, &sa->chosen, 1);
	ike_w_ke(&w, sa->ke_group, ike_dh_public(sa->dh), ike_dh_public_len(sa->ke_group));
	ike_w_nonce(&w, sa->nr, sa->nr_len);
	/* Answered in kind: only a peer that does NAT traversal hears of ours. */
	ike_nat_check(sa, m);
	if (ike_msg_notify(m, IKE_N_NAT_DETECTION_SOURCE_IP) != NULL)
		ike_nat_write(sa, &w);
	if ((*outlen = ike_w_finish(&w)) == 0 ||
	    ike_sa_keep(&sa->msg1, &sa->msg1_len, m->raw.data, m->raw.len) != 0 ||
	    ike_sa_keep(&sa->msg2, &sa->msg2_len, out, *outlen) != 0) {
		ike_sa_fail(sa, "out of room for the IKE_SA_INIT response");
		return -1;
	}
	sa->msgid = 1;
	sa->state = IKE_SA_INIT_DONE;
	return 0;
}

int
ike_init_response(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	const struct ike_notify *n;
	const struct ike_transform *dh, *prf;
	uint8_t secret[IKE_DH_MAX_PUBLIC];
	char err[256];
	uint16_t group;

	/* The responder is busy and wants proof we are at this address (§2.6): once more,
	 * with its cookie first. A second cookie request is not followed: a loop. */
	if ((n = ike_msg_notify(m, IKE_N_COOKIE)) != NULL && m->nproposals == 0) {
		if (n->data.len < 1 || n->data.len > sizeof(sa->cookie) || sa->cookie_len > 0)
			return -1;
		memcpy(sa->cookie, n->data.data, n->data.len);
		sa->cookie_len = n->data.len;
		return ike_init_request(sa, out, cap, outlen);
	}
	if ((n = ike_msg_notify(m, IKE_N_INVALID_KE_PAYLOAD)) != NULL) {
		group = n->data.len == 2 ? (uint16_t)(n->data.data[0] << 8 | n->data.data[1]) : 0;
		if (group == sa->ke_group || !ike_offers_group(sa->cfg, group)) {
			ike_sa_fail(sa, "the responder wants DH group %u, which we do not offer",
			    group);
			return 0;
		}
		sa->ke_group = group; /* and again, with the same SPI (§1.3) */
		sa->cookie_len = 0;   /* a new group is a new request: the cookie was for the old */
		return ike_init_request(sa, out, cap, outlen);
	}
	if (ike_msg_notify(m, IKE_N_NO_PROPOSAL_CHOSEN) != NULL) {
		/* Unauthenticated, so anyone could have sent it (§2.21): noted, and the request
		 * stays out; a real answer may still come, else this is why we gave up. */
		snprintf(sa->error, sizeof(sa->error), "the responder accepts none of our IKE "
		    "proposals");
		return -1;
	}
	if (!m->has_sa || m->nproposals != 1 || !m->has_ke || !m->has_nonce ||
	    m->hdr.spi_r == 0 || !ike_proposal_accept(sa->cfg->ike, sa->cfg->nike,
	    &m->proposals[0]) || (dh = ike_proposal_get(&m->proposals[0], IKE_TF_DH)) == NULL ||
	    dh->id != sa->ke_group || m->ke_group != sa->ke_group ||
	    (prf = ike_proposal_get(&m->proposals[0], IKE_TF_PRF)) == NULL)
		return -1; /* not an answer we can use: a forgery or a broken peer */
	if (ike_dh_shared(sa->dh, m->ke_data.data, m->ke_data.len, secret, err, sizeof(err)) != 0)
		return -1;
	sa->chosen = m->proposals[0];
	sa->chosen.spi.data = NULL; /* a view into the message, gone after this call */
	sa->prf = prf->id;
	sa->spi_r = m->hdr.spi_r;
	memcpy(sa->nr, m->nonce.data, m->nonce.len);
	sa->nr_len = m->nonce.len;
	if (ike_sa_derive(sa, secret, ike_dh_shared_len(sa->ke_group)) != 0 ||
	    ike_sa_keep(&sa->msg2, &sa->msg2_len, m->raw.data, m->raw.len) != 0) {
		sodium_memzero(secret, sizeof(secret));
		ike_sa_fail(sa, "%s", sa->error[0] != '\0' ? sa->error : "out of memory");
		return 0;
	}
	sodium_memzero(secret, sizeof(secret));
	ike_nat_check(sa, m);
	return ike_auth_request(sa, out, cap, outlen);
}
