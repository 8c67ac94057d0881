/* The IKE SA (ike_sa.h): its life, the one transition function, and what the exchanges
 * share: keys, sealing and opening. */
#include "ike_sa_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_build.h"
#include "ike_proposal.h"

static const char *const state_names[] = {
	[IKE_SA_IDLE] = "idle",
	[IKE_SA_INIT_SENT] = "IKE_SA_INIT sent",
	[IKE_SA_AUTH_SENT] = "IKE_AUTH sent",
	[IKE_SA_INIT_DONE] = "IKE_SA_INIT answered",
	[IKE_SA_ESTABLISHED] = "established",
	[IKE_SA_DEAD] = "dead",
};

const char *
ike_sa_state_name(enum ike_sa_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] :
	    "unknown";
}

void
ike_sa_fail(struct ike_sa *sa, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sa->error, sizeof(sa->error), fmt, ap);
	va_end(ap);
	sa->state = IKE_SA_DEAD;
}

int
ike_sa_keep(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		return -1;
	memcpy(copy, src, len);
	free(*dst);
	*dst = copy;
	*dst_len = len;
	return 0;
}

struct ike_sa *
ike_sa_new(const struct ike_peer_cfg *cfg, bool initiator, uint32_t child_spi)
{
	struct ike_sa *sa;

	if (sodium_init() < 0 || (sa = calloc(1, sizeof(*sa))) == NULL)
		return NULL;
	sa->cfg = cfg;
	sa->initiator = initiator;
	sa->child_spi[0] = (uint8_t)(child_spi >> 24);
	sa->child_spi[1] = (uint8_t)(child_spi >> 16);
	sa->child_spi[2] = (uint8_t)(child_spi >> 8);
	sa->child_spi[3] = (uint8_t)child_spi;
	return sa;
}

static void
ike_child_clear(struct ike_child *c)
{
	if (c->keymat != NULL)
		sodium_free(c->keymat);
	memset(c, 0, sizeof(*c));
}

void
ike_sa_free(struct ike_sa *sa)
{
	if (sa == NULL)
		return;
	ike_dh_free(sa->dh);
	ike_keys_free(sa->keys);
	ike_sk_free(sa->sk_in);
	ike_sk_free(sa->sk_out);
	ike_child_clear(&sa->child);
	free(sa->msg1);
	free(sa->msg2);
	free(sa->last_in);
	free(sa->last_out);
	sodium_memzero(sa, sizeof(*sa));
	free(sa);
}

enum ike_sa_state ike_sa_get_state(const struct ike_sa *sa) { return sa->state; }
const char *ike_sa_error(const struct ike_sa *sa) { return sa->error; }
uint64_t ike_sa_spi_i(const struct ike_sa *sa) { return sa->spi_i; }
uint64_t ike_sa_spi_r(const struct ike_sa *sa) { return sa->spi_r; }
const struct ike_proposal *ike_sa_proposal(const struct ike_sa *sa) { return &sa->chosen; }

const struct ike_child *
ike_sa_child(const struct ike_sa *sa)
{
	return sa->have_child ? &sa->child : NULL;
}

int
ike_sa_derive(struct ike_sa *sa, const uint8_t *secret, size_t secret_len)
{
	struct ike_bytes ni = { sa->ni, sa->ni_len }, nr = { sa->nr, sa->nr_len },
	    gir = { secret, secret_len };
	const struct ike_transform *encr = ike_proposal_get(&sa->chosen, IKE_TF_ENCR);
	const struct ike_transform *integ = ike_proposal_get(&sa->chosen, IKE_TF_INTEG);
	struct ike_key_lengths lens;
	char err[256];
	const uint8_t *ei, *er, *ai, *ar;

	if (ike_key_lengths(&sa->chosen, &lens) != 0 || encr == NULL) {
		snprintf(sa->error, sizeof(sa->error), "the chosen proposal has unknown keys");
		return -1;
	}
	sa->keys = ike_keys_derive(sa->prf, &lens, &ni, &nr, &gir, sa->spi_i, sa->spi_r, NULL, 0);
	if (sa->keys == NULL) {
		snprintf(sa->error, sizeof(sa->error), "key derivation failed");
		return -1;
	}
	ei = sa->keys->sk_ei;
	er = sa->keys->sk_er;
	ai = sa->keys->sk_ai;
	ar = sa->keys->sk_ar;
	/* Initiator to responder: SK_ei and SK_ai; the other way SK_er and SK_ar. */
	sa->sk_out = ike_sk_new(encr->id, sa->initiator ? ei : er, lens.encr,
	    integ != NULL ? integ->id : IKE_INTEG_NONE, sa->initiator ? ai : ar, lens.integ, err,
	    sizeof(err));
	sa->sk_in = ike_sk_new(encr->id, sa->initiator ? er : ei, lens.encr,
	    integ != NULL ? integ->id : IKE_INTEG_NONE, sa->initiator ? ar : ai, lens.integ, err,
	    sizeof(err));
	if (sa->sk_out == NULL || sa->sk_in == NULL) {
		snprintf(sa->error, sizeof(sa->error), "%s", err);
		return -1;
	}
	return 0;
}

int
ike_sa_seal(struct ike_sa *sa, uint8_t exchange, bool response, const uint8_t *inner,
    size_t inner_len, uint8_t first, uint8_t *out, size_t cap, size_t *outlen)
{
	struct ike_header h = {
		.spi_i = sa->spi_i, .spi_r = sa->spi_r, .exchange = exchange, .msgid = sa->msgid,
		.flags = (uint8_t)((sa->initiator ? IKE_FLAG_INITIATOR : 0) |
		    (response ? IKE_FLAG_RESPONSE : 0)),
	};
	size_t sealed = ike_sk_sealed_len(sa->sk_out, inner_len), pl;
	struct ike_writer w;

	if (IKE_HDR_LEN + 4 + sealed > cap)
		return -1;
	ike_w_message(&w, out, cap, &h);
	pl = ike_w_begin(&w, IKE_PL_SK, false);
	out[pl] = first;
	/* The lengths first: they are authenticated with the header. */
	w.len += sealed;
	ike_w_end(&w, pl);
	if ((*outlen = ike_w_finish(&w)) == 0)
		return -1;
	return ike_sk_seal(sa->sk_out, out, IKE_HDR_LEN + 4, inner, inner_len,
	    out + IKE_HDR_LEN + 4);
}

int
ike_sa_open(struct ike_sa *sa, struct ike_msg *m, uint8_t *plain, size_t cap)
{
	size_t len;
	uint8_t bad;

	if (!m->has_sk || m->sk.len > cap ||
	    ike_sk_open(sa->sk_in, m->sk_aad.data, m->sk_aad.len, m->sk.data, m->sk.len, plain,
	    &len) != 0)
		return -1;
	return ike_msg_parse_inner(plain, len, m->sk_first, m, &bad) == IKE_PARSE_OK ? 0 : -1;
}

/* The responder's answer to a retransmitted request: the same bytes again (§2.1). */
static bool
ike_sa_retransmitted(struct ike_sa *sa, const uint8_t *msg, size_t len, uint8_t *out,
    size_t cap, size_t *outlen)
{
	if (sa->last_in == NULL || len != sa->last_in_len || memcmp(msg, sa->last_in, len) != 0 ||
	    sa->last_out_len > cap)
		return false;
	memcpy(out, sa->last_out, sa->last_out_len);
	*outlen = sa->last_out_len;
	return true;
}

static void
ike_sa_remember(struct ike_sa *sa, const uint8_t *in, size_t in_len, const uint8_t *out,
    size_t out_len)
{
	if (ike_sa_keep(&sa->last_in, &sa->last_in_len, in, in_len) != 0 ||
	    ike_sa_keep(&sa->last_out, &sa->last_out_len, out, out_len) != 0) {
		free(sa->last_in);
		sa->last_in = NULL; /* a retransmission is then answered as new: harmless */
	}
}

int
ike_sa_start(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen)
{
	*outlen = 0;
	if (!sa->initiator || sa->state != IKE_SA_IDLE)
		return -1;
	return ike_init_request(sa, out, cap, outlen);
}

/* The transition function: what a message means in this state. */
int
ike_sa_input(struct ike_sa *sa, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t bad, *plain = NULL;
	bool response;
	int rc = -1;

	*outlen = 0;
	if (m == NULL || ike_msg_parse(msg, len, m, &bad) != IKE_PARSE_OK)
		goto out;
	response = (m->hdr.flags & IKE_FLAG_RESPONSE) != 0;
	/* Only our SA, only the peer's role, only the message expected (§2.2, §3.1). */
	if (response != sa->initiator || m->hdr.spi_i == 0 ||
	    (sa->state != IKE_SA_IDLE && m->hdr.spi_i != sa->spi_i) ||
	    ((m->hdr.flags & IKE_FLAG_INITIATOR) != 0) == sa->initiator)
		goto out;
	if (!sa->initiator && sa->state != IKE_SA_IDLE && m->hdr.msgid + 1 == sa->msgid &&
	    ike_sa_retransmitted(sa, msg, len, out, cap, outlen)) {
		rc = 0;
		goto out;
	}
	if ((plain = malloc(IKE_MAX_MSG)) == NULL)
		goto out;
	switch (sa->state) {
	case IKE_SA_IDLE:
		if (sa->initiator || m->hdr.exchange != IKE_SA_INIT || m->hdr.msgid != 0 ||
		    m->hdr.spi_r != 0)
			break;
		rc = ike_init_respond(sa, m, out, cap, outlen);
		break;
	case IKE_SA_INIT_SENT:
		if (m->hdr.exchange != IKE_SA_INIT || m->hdr.msgid != 0)
			break;
		rc = ike_init_response(sa, m, out, cap, outlen);
		break;
	case IKE_SA_INIT_DONE:
		if (m->hdr.exchange != IKE_AUTH || m->hdr.msgid != 1 ||
		    m->hdr.spi_r != sa->spi_r || ike_sa_open(sa, m, plain, IKE_MAX_MSG) != 0)
			break;
		rc = ike_auth_respond(sa, m, out, cap, outlen);
		break;
	case IKE_SA_AUTH_SENT:
		if (m->hdr.exchange != IKE_AUTH || m->hdr.msgid != 1 ||
		    m->hdr.spi_r != sa->spi_r || ike_sa_open(sa, m, plain, IKE_MAX_MSG) != 0)
			break;
		rc = ike_auth_response(sa, m);
		break;
	case IKE_SA_ESTABLISHED:
	case IKE_SA_DEAD:
		break; /* INFORMATIONAL and CREATE_CHILD_SA come with the next steps */
	}
	if (rc == 0 && !sa->initiator && *outlen > 0)
		ike_sa_remember(sa, msg, len, out, *outlen);
out:
	if (plain != NULL) {
		sodium_memzero(plain, IKE_MAX_MSG);
		free(plain);
	}
	free(m);
	return rc;
}
