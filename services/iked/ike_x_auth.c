/* IKE_AUTH (RFC 7296 §1.2, §2.15, §2.17): identities, pre-shared-key AUTH over the
 * IKE_SA_INIT messages, the first Child SA (proposal, traffic selectors, keys), all in the
 * Encrypted payload. */
#include "ike_sa_impl.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "ike_build.h"
#include "ike_proposal.h"

enum { IKE_AUTH_PSK = 2 };

/* The ID payload body (type, 3 reserved octets, data): what AUTH covers. */
static size_t
ike_id_body(uint8_t type, const uint8_t *id, size_t len, uint8_t *out)
{
	out[0] = type;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, id, len);
	return 4 + len;
}

/* Our AUTH: over our own first message, the peer's nonce and our MACed ID. */
static int
ike_auth_ours(struct ike_sa *sa, const uint8_t *id_body, size_t id_len, uint8_t *out)
{
	struct ike_bytes msg = sa->initiator ? (struct ike_bytes){ sa->msg1, sa->msg1_len } :
	    (struct ike_bytes){ sa->msg2, sa->msg2_len };
	struct ike_bytes nonce = sa->initiator ? (struct ike_bytes){ sa->nr, sa->nr_len } :
	    (struct ike_bytes){ sa->ni, sa->ni_len };
	struct ike_bytes id = { id_body, id_len };

	return ike_auth_psk(sa->prf, sa->cfg->psk, sa->cfg->psk_len, &msg, &nonce,
	    sa->initiator ? sa->keys->sk_pi : sa->keys->sk_pr, sa->keys->len.prf, &id, out);
}

/* The peer's AUTH checked: its first message, our nonce, its MACed ID. */
static bool
ike_auth_check(struct ike_sa *sa, const struct ike_msg *m)
{
	struct ike_bytes msg = sa->initiator ? (struct ike_bytes){ sa->msg2, sa->msg2_len } :
	    (struct ike_bytes){ sa->msg1, sa->msg1_len };
	struct ike_bytes nonce = sa->initiator ? (struct ike_bytes){ sa->ni, sa->ni_len } :
	    (struct ike_bytes){ sa->nr, sa->nr_len };
	const struct ike_bytes *id = sa->initiator ? &m->idr_body : &m->idi_body;
	uint8_t want[IKE_PRF_MAX];
	bool ok;

	if (!m->has_auth || m->auth_method != IKE_AUTH_PSK || m->auth.len != sa->keys->len.prf)
		return false;
	ok = ike_auth_psk(sa->prf, sa->cfg->psk, sa->cfg->psk_len, &msg, &nonce,
	    sa->initiator ? sa->keys->sk_pr : sa->keys->sk_pi, sa->keys->len.prf, id, want) == 0 &&
	    CRYPTO_memcmp(want, m->auth.data, m->auth.len) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* Whether the peer's identity is the one configured (none configured: any). */
static bool
ike_id_expected(const struct ike_sa *sa, uint8_t type, const struct ike_bytes *id)
{
	const struct ike_peer_cfg *c = sa->cfg;

	return c->remote_id_type == 0 || (type == c->remote_id_type &&
	    id->len == c->remote_id_len && memcmp(id->data, c->remote_id, id->len) == 0);
}

/* Whether every selector of got lies within one of allowed (same family, protocol 0 or
 * equal, ports and addresses inside). */
bool
ike_ts_within(const struct ike_ts_set *got, const struct ike_ts_set *allowed)
{
	uint8_t i, j;

	for (i = 0; i < got->count; i++) {
		const struct ike_ts *g = &got->ts[i];
		bool fits = false;

		for (j = 0; j < allowed->count && !fits; j++) {
			const struct ike_ts *a = &allowed->ts[j];

			fits = g->type == a->type && (a->ip_protocol == 0 ||
			    a->ip_protocol == g->ip_protocol) && g->start_port >= a->start_port &&
			    g->end_port <= a->end_port &&
			    memcmp(g->start, a->start, a->addr_len) >= 0 &&
			    memcmp(g->end, a->end, a->addr_len) <= 0 &&
			    memcmp(g->start, g->end, g->addr_len) <= 0;
		}
		if (!fits)
			return false;
	}
	return got->count > 0;
}

/* The first Child SA, keyed from prf+(SK_d, Ni | Nr) (§2.17), with the traffic selectors
 * as this side sees them. */
static int
ike_first_child(struct ike_sa *sa, const struct ike_proposal *chosen, uint32_t spi_in,
    uint32_t spi_out, const struct ike_ts_set *local, const struct ike_ts_set *remote)
{
	struct ike_bytes ni = { sa->ni, sa->ni_len }, nr = { sa->nr, sa->nr_len };
	struct ike_child_slot *s = ike_child_alloc(sa);

	if (s == NULL)
		return -1;
	s->exchange_initiator = sa->initiator;
	if (ike_child_derive(sa, s, chosen, spi_in, spi_out, NULL, 0, &ni, &nr) != 0)
		return -1;
	s->c.ts_local = *local;
	s->c.ts_remote = *remote;
	return 0;
}

uint32_t
ike_spi32(const struct ike_bytes *b)
{
	return b->len == 4 ? (uint32_t)b->data[0] << 24 | (uint32_t)b->data[1] << 16 |
	    (uint32_t)b->data[2] << 8 | b->data[3] : 0;
}

static void
ike_offer_children(struct ike_sa *sa)
{
	struct ike_proposal *p;
	uint8_t t, k;
	size_t i;

	sa->nchild_offer = sa->cfg->nchild;
	for (i = 0; i < sa->nchild_offer; i++) {
		p = &sa->child_offer[i];
		*p = sa->cfg->child[i];
		p->spi = (struct ike_bytes){ sa->child_spi, 4 };
		/* The first Child SA takes its keys from the IKE SA's exchange: no DH transform
		 * in IKE_AUTH even with PFS (§1.2); PFS applies to CREATE_CHILD_SA. */
		for (t = k = 0; t < p->ntransforms; t++) {
			if (p->transforms[t].type != IKE_TF_DH)
				p->transforms[k++] = p->transforms[t];
		}
		p->ntransforms = k;
	}
}

int
ike_auth_request(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t inner[IKE_MAX_MSG / 2], id[4 + IKE_MAX_ID], auth[IKE_PRF_MAX];
	const struct ike_peer_cfg *c = sa->cfg;
	struct ike_writer w;
	size_t idlen, len;

	idlen = ike_id_body(c->local_id_type, c->local_id, c->local_id_len, id);
	if (ike_auth_ours(sa, id, idlen, auth) != 0) {
		ike_sa_fail(sa, "AUTH could not be computed");
		return 0;
	}
	ike_offer_children(sa);
	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_id(&w, true, c->local_id_type, c->local_id, c->local_id_len);
	ike_w_auth(&w, IKE_AUTH_PSK, auth, sa->keys->len.prf);
	/* We hold nothing else with this peer: it may forget what it holds of us (§2.4). */
	if (sa->initial_contact)
		ike_w_notify(&w, 0, IKE_N_INITIAL_CONTACT, NULL, 0, NULL, 0);
	ike_w_sa(&w, sa->child_offer, sa->nchild_offer);
	ike_w_ts(&w, true, &c->local_ts);
	ike_w_ts(&w, false, &c->remote_ts);
	sodium_memzero(auth, sizeof(auth));
	sa->msgid = 1;
	if ((len = ike_w_finish(&w)) == 0 ||
	    ike_sa_seal(sa, IKE_AUTH, false, sa->msgid, inner, len, w.first, out, cap, outlen) != 0) {
		ike_sa_fail(sa, "the IKE_AUTH request does not fit");
		return 0;
	}
	sa->state = IKE_SA_AUTH_SENT;
	return 0;
}

/* An encrypted error notify as the IKE_AUTH response; the IKE SA dies with reason. */
static int
ike_auth_refuse(struct ike_sa *sa, uint16_t type, const char *reason, uint8_t *out,
    size_t cap, size_t *outlen)
{
	uint8_t inner[64];
	struct ike_writer w;
	size_t len;

	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_notify(&w, 0, type, NULL, 0, NULL, 0);
	len = ike_w_finish(&w);
	if (ike_sa_seal(sa, IKE_AUTH, true, sa->msgid, inner, len, w.first, out, cap, outlen) != 0)
		*outlen = 0;
	sa->msgid = 2; /* so that a retransmission gets the same refusal */
	ike_sa_fail(sa, "%s", reason);
	return 0;
}

int
ike_auth_respond(struct ike_sa *sa, struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t inner[IKE_MAX_MSG / 2], id[4 + IKE_MAX_ID], auth[IKE_PRF_MAX];
	const struct ike_peer_cfg *c = sa->cfg;
	struct ike_proposal chosen;
	struct ike_writer w;
	size_t idlen, len;

	if (!m->has_idi || !m->has_auth)
		return ike_auth_refuse(sa, IKE_N_INVALID_SYNTAX, "IKE_AUTH without IDi or AUTH",
		    out, cap, outlen);
	if (!ike_id_expected(sa, m->idi_type, &m->idi) || !ike_auth_check(sa, m))
		return ike_auth_refuse(sa, IKE_N_AUTHENTICATION_FAILED,
		    "the initiator's identity or AUTH is wrong (pre-shared key?)", out, cap,
		    outlen);
	sa->peer_initial_contact = ike_msg_notify(m, IKE_N_INITIAL_CONTACT) != NULL;
	ike_offer_children(sa);
	if (!m->has_sa || !m->has_tsi || !m->has_tsr ||
	    !ike_proposal_select(sa->child_offer, sa->nchild_offer, m->proposals, m->nproposals,
	    &chosen))
		return ike_auth_refuse(sa, IKE_N_NO_PROPOSAL_CHOSEN,
		    "none of the initiator's Child SA proposals is ours", out, cap, outlen);
	if (chosen.spi.len != 4 || ike_spi32(&chosen.spi) < 256)
		return ike_auth_refuse(sa, IKE_N_INVALID_SYNTAX,
		    "the initiator's Child SA SPI is no ESP/AH SPI", out, cap, outlen);
	/* The initiator's TSi is its side, our remote; TSr ours. */
	if (!ike_ts_within(&m->tsi, &c->remote_ts) || !ike_ts_within(&m->tsr, &c->local_ts))
		return ike_auth_refuse(sa, IKE_N_TS_UNACCEPTABLE,
		    "the initiator's traffic selectors are not within ours", out, cap, outlen);
	if (ike_first_child(sa, &chosen, ike_spi32(&(struct ike_bytes){ sa->child_spi, 4 }),
	    ike_spi32(&chosen.spi), &m->tsr, &m->tsi) != 0) {
		ike_sa_fail(sa, "Child SA keys could not be derived");
		return 0;
	}
	idlen = ike_id_body(c->local_id_type, c->local_id, c->local_id_len, id);
	if (ike_auth_ours(sa, id, idlen, auth) != 0) {
		ike_sa_fail(sa, "AUTH could not be computed");
		return 0;
	}
	chosen.spi = (struct ike_bytes){ sa->child_spi, 4 };
	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_id(&w, false, c->local_id_type, c->local_id, c->local_id_len);
	ike_w_auth(&w, IKE_AUTH_PSK, auth, sa->keys->len.prf);
	ike_w_sa(&w, &chosen, 1);
	ike_w_ts(&w, true, &m->tsi);
	ike_w_ts(&w, false, &m->tsr);
	sodium_memzero(auth, sizeof(auth));
	if ((len = ike_w_finish(&w)) == 0 ||
	    ike_sa_seal(sa, IKE_AUTH, true, sa->msgid, inner, len, w.first, out, cap, outlen) != 0) {
		ike_sa_fail(sa, "the IKE_AUTH response does not fit");
		return 0;
	}
	sa->msgid = 2;
	sa->state = IKE_SA_ESTABLISHED;
	return 0;
}

int
ike_auth_response(struct ike_sa *sa, struct ike_msg *m)
{
	if (ike_msg_notify(m, IKE_N_AUTHENTICATION_FAILED) != NULL) {
		ike_sa_fail(sa, "the responder refused our AUTH (pre-shared key?)");
		return 0;
	}
	if (!m->has_idr || !ike_id_expected(sa, m->idr_type, &m->idr) ||
	    !ike_auth_check(sa, m)) {
		ike_sa_fail(sa, "the responder's identity or AUTH is wrong");
		return 0;
	}
	sa->state = IKE_SA_ESTABLISHED;
	sa->msgid = 2;
	if (ike_msg_notify(m, IKE_N_NO_PROPOSAL_CHOSEN) != NULL ||
	    ike_msg_notify(m, IKE_N_TS_UNACCEPTABLE) != NULL) {
		snprintf(sa->error, sizeof(sa->error), "IKE SA up, but the responder refused the "
		    "Child SA");
		return 0;
	}
	if (!m->has_sa || m->nproposals != 1 || !m->has_tsi || !m->has_tsr ||
	    !ike_proposal_accept(sa->child_offer, sa->nchild_offer, &m->proposals[0]) ||
	    m->proposals[0].spi.len != 4 || ike_spi32(&m->proposals[0].spi) < 256) {
		snprintf(sa->error, sizeof(sa->error), "the responder's Child SA is not one we "
		    "offered");
		return 0;
	}
	/* The responder may narrow what we asked for, never widen it (§2.9). */
	if (!ike_ts_within(&m->tsi, &sa->cfg->local_ts) ||
	    !ike_ts_within(&m->tsr, &sa->cfg->remote_ts)) {
		snprintf(sa->error, sizeof(sa->error), "the responder's traffic selectors are wider "
		    "than ours: Child SA refused");
		return 0;
	}
	if (ike_first_child(sa, &m->proposals[0], ike_spi32(&(struct ike_bytes){ sa->child_spi,
	    4 }), ike_spi32(&m->proposals[0].spi), &m->tsi, &m->tsr) != 0) {
		snprintf(sa->error, sizeof(sa->error), "Child SA keys could not be derived");
		return 0;
	}
	return 0;
}
