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
	[IKE_SA_DELETING] = "deleting",
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
	char text[sizeof(sa->error)];
	va_list ap;

	/* Through a copy: the reason may be the error it replaces. */
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memcpy(sa->error, text, sizeof(text));
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

void
ike_sa_set_events(struct ike_sa *sa, const struct ike_sa_events *ev)
{
	sa->ev = *ev;
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
	ike_child_forget_all(sa);
	ike_rekey_clear(&sa->rk);
	ike_sa_free(sa->rekeyed);
	free(sa->msg1);
	free(sa->msg2);
	free(sa->last_in);
	free(sa->last_out);
	sodium_memzero(sa, sizeof(*sa));
	free(sa);
}

enum ike_sa_state ike_sa_get_state(const struct ike_sa *sa) { return sa->state; }
bool ike_sa_initiator(const struct ike_sa *sa) { return sa->initiator; }
const struct ike_keys *ike_sa_keys(const struct ike_sa *sa) { return sa->keys; }
void ike_sa_set_initial_contact(struct ike_sa *sa, bool on) { sa->initial_contact = on; }
bool ike_sa_peer_initial_contact(const struct ike_sa *sa) { return sa->peer_initial_contact; }
const char *ike_sa_error(const struct ike_sa *sa) { return sa->error; }
uint64_t ike_sa_spi_i(const struct ike_sa *sa) { return sa->spi_i; }
uint64_t ike_sa_spi_r(const struct ike_sa *sa) { return sa->spi_r; }
const struct ike_proposal *ike_sa_proposal(const struct ike_sa *sa) { return &sa->chosen; }

const struct ike_child *
ike_sa_child(const struct ike_sa *sa)
{
	size_t i;

	for (i = 0; i < IKE_MAX_CHILDREN; i++) {
		if (sa->children[i].used)
			return &sa->children[i].c;
	}
	return NULL;
}

int
ike_sa_derive(struct ike_sa *sa, const uint8_t *secret, size_t secret_len)
{
	return ike_sa_derive_rekey(sa, sa->prf, secret, secret_len, NULL, 0);
}

int
ike_sa_derive_rekey(struct ike_sa *sa, enum ike_prf_id kdf_prf, const uint8_t *secret,
    size_t secret_len, const uint8_t *old_sk_d, size_t old_sk_d_len)
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
	sa->keys = ike_keys_derive(kdf_prf, &lens, &ni, &nr, &gir, sa->spi_i, sa->spi_r,
	    old_sk_d, old_sk_d_len);
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
ike_sa_seal(struct ike_sa *sa, uint8_t exchange, bool response, uint32_t msgid,
    const uint8_t *inner, size_t inner_len, uint8_t first, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ike_header h = {
		.spi_i = sa->spi_i, .spi_r = sa->spi_r, .exchange = exchange, .msgid = msgid,
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

/* After a transition: the Child SA is announced when the IKE SA comes up with it, and
 * goes down when the IKE SA dies; the message ID windows start at establishment. */
static void
ike_sa_entered(struct ike_sa *sa, enum ike_sa_state before)
{
	if (before != IKE_SA_ESTABLISHED && sa->state == IKE_SA_ESTABLISHED) {
		/* IKE_SA_INIT was 0 and IKE_AUTH 1, both the initiator's (§2.2). */
		sa->req_msgid = sa->initiator ? 2 : 0;
		sa->peer_msgid = sa->initiator ? 0 : 2;
		for (size_t i = 0; i < IKE_MAX_CHILDREN; i++)
			ike_child_announce(sa, &sa->children[i]);
	}
	if (sa->state == IKE_SA_DEAD)
		ike_child_down_all(sa, sa->error[0] != '\0' ? sa->error : "IKE SA gone");
}

/* Established: a request of the peer's (the next in its window) or the response to ours. */
static int
ike_sa_established_input(struct ike_sa *sa, struct ike_msg *m, bool response, uint8_t *plain,
    uint8_t *out, size_t cap, size_t *outlen)
{
	int rc;

	if (m->hdr.spi_r != sa->spi_r)
		return -1;
	if (response) {
		if (!sa->awaiting || m->hdr.msgid != sa->req_msgid ||
		    m->hdr.exchange != sa->req_exchange || ike_sa_open(sa, m, plain, IKE_MAX_MSG) != 0)
			return -1;
		sa->awaiting = false;
		sa->req_msgid++;
		return m->hdr.exchange == IKE_INFORMATIONAL ? ike_info_response(sa, m) :
		    ike_child_response(sa, m, out, cap, outlen);
	}
	/* Only the exchanges an established SA takes, only the next in the window; a request
	 * dropped or unanswerable leaves the window where it was (the peer retransmits). */
	if ((m->hdr.exchange != IKE_INFORMATIONAL && m->hdr.exchange != IKE_CREATE_CHILD_SA) ||
	    m->hdr.msgid != sa->peer_msgid || ike_sa_open(sa, m, plain, IKE_MAX_MSG) != 0)
		return -1;
	if (m->hdr.exchange == IKE_INFORMATIONAL)
		rc = ike_info_respond(sa, m, out, cap, outlen);
	else if (sa->state == IKE_SA_DELETING)
		/* While we delete the IKE SA, nothing new is made under it (§1.4.1). */
		rc = ike_info_refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0, out, cap, outlen);
	else
		rc = ike_child_respond(sa, m, out, cap, outlen);
	if (rc == 0)
		sa->peer_msgid++;
	return rc;
}

/* The transition function: what a message means in this state. */
int
ike_sa_input(struct ike_sa *sa, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	enum ike_sa_state before = sa->state;
	uint8_t bad, *plain = NULL;
	bool response, established;
	int rc = -1;

	*outlen = 0;
	if (m == NULL || ike_msg_parse(msg, len, m, &bad) != IKE_PARSE_OK)
		goto out;
	response = (m->hdr.flags & IKE_FLAG_RESPONSE) != 0;
	established = sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_DELETING;
	/* Only our SA, only the peer's role, only the message expected (§2.2, §3.1). Once
	 * established, either side asks; the I flag still names the original initiator. */
	if ((!established && response != sa->initiator) || m->hdr.spi_i == 0 ||
	    (sa->state != IKE_SA_IDLE && m->hdr.spi_i != sa->spi_i) ||
	    ((m->hdr.flags & IKE_FLAG_INITIATOR) != 0) == sa->initiator)
		goto out;
	if (!response && sa->state != IKE_SA_IDLE &&
	    m->hdr.msgid + 1 == (established ? sa->peer_msgid : sa->msgid) &&
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
	case IKE_SA_DELETING:
		rc = ike_sa_established_input(sa, m, response, plain, out, cap, outlen);
		break;
	case IKE_SA_DEAD:
		break;
	}
	if (rc == 0 && !response && *outlen > 0)
		ike_sa_remember(sa, msg, len, out, *outlen);
	ike_sa_entered(sa, before);
out:
	if (plain != NULL) {
		sodium_memzero(plain, IKE_MAX_MSG);
		free(plain);
	}
	free(m);
	return rc;
}

static int
ike_sa_request(struct ike_sa *sa, bool ike, const struct ike_child *c, uint8_t *out,
    size_t cap, size_t *outlen)
{
	*outlen = 0;
	if (sa->state != IKE_SA_ESTABLISHED || sa->awaiting)
		return -1;
	return ike_info_request(sa, ike, c, out, cap, outlen);
}

int
ike_sa_delete(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen)
{
	if (ike_sa_request(sa, true, NULL, out, cap, outlen) != 0)
		return -1;
	ike_child_down_all(sa, "IKE SA deleted");
	sa->state = IKE_SA_DELETING;
	return 0;
}

int
ike_sa_delete_child(struct ike_sa *sa, uint32_t spi_in, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ike_child_slot *s = ike_child_by_in(sa, spi_in);

	if (s == NULL || ike_sa_request(sa, false, &s->c, out, cap, outlen) != 0)
		return -1;
	ike_child_down(sa, s, "deleted");
	return 0;
}

int
ike_sa_rekey_child(struct ike_sa *sa, uint32_t old_spi_in, uint32_t new_spi_in, uint8_t *out,
    size_t cap, size_t *outlen)
{
	*outlen = 0;
	if (sa->state != IKE_SA_ESTABLISHED || sa->awaiting ||
	    ike_child_by_in(sa, old_spi_in) == NULL)
		return -1;
	return ike_child_rekey_request(sa, false, old_spi_in, new_spi_in, out, cap, outlen);
}

int
ike_sa_rekey(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen)
{
	*outlen = 0;
	if (sa->state != IKE_SA_ESTABLISHED || sa->awaiting)
		return -1;
	return ike_child_rekey_request(sa, true, 0, 0, out, cap, outlen);
}

struct ike_sa *
ike_sa_take_rekeyed(struct ike_sa *sa)
{
	struct ike_sa *n = sa->rekeyed;

	sa->rekeyed = NULL;
	return n;
}

int
ike_sa_liveness(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen)
{
	return ike_sa_request(sa, false, NULL, out, cap, outlen);
}

bool
ike_sa_awaiting(const struct ike_sa *sa)
{
	return sa->awaiting;
}

void
ike_sa_give_up(struct ike_sa *sa, const char *why)
{
	ike_child_down_all(sa, why);
	ike_sa_fail(sa, "%s", why);
}
