/* Two IKE peers in one process once the IKE SA is up (the way of test_ike_sa.c): the
 * initiator's and the responder's messages go straight into the other. INFORMATIONAL
 * either way: liveness, Delete of the Child SA and of the IKE SA, their message IDs (each
 * side counts its own requests, §2.2), the window of one, retransmissions answered alike,
 * give-up, and the Child SA events; what a hostile peer or the network may send in the
 * established state is dropped and changes nothing; CREATE_CHILD_SA for an additional
 * Child SA is answered (NO_ADDITIONAL_SAS; TEMPORARY_FAILURE while deleting) and the IKE
 * SA stays. (Rekeys are test_ike_rekey.c's.)
 *
 * The tap: the test binary links with -Wl,--wrap=ike_keys_derive (tests/meson.build), and
 * the wrap keeps a copy of the IKE SA keys the two peers derive. With them the test reads
 * what the peers say (the Delete payloads in an answer) and seals messages the engine
 * never makes itself (a request ahead of the window, a response to nothing, a Delete of
 * SPIs it does not have, CREATE_CHILD_SA) as a peer holding the keys would. The engine is
 * driven through ike_sa.h only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_build.h"
#include "ike_keys.h"
#include "ike_proposal.h"
#include "ike_sa.h"
#include "ike_fixture.h"
#include "ike_sk.h"

enum { BUF = 8192 };

#define SPI_A 0xc0000001u /* the initiator's inbound SPI of the first Child SA */
#define SPI_B 0xc0000002u /* the responder's */

/* --- the tap: the IKE SA keys, kept as they are derived ------------------------------ */

struct ike_keys *__real_ike_keys_derive(enum ike_prf_id prf,
    const struct ike_key_lengths *lens, const struct ike_bytes *ni, const struct ike_bytes *nr,
    const struct ike_bytes *gir, uint64_t spi_i, uint64_t spi_r, const uint8_t *old_sk_d,
    size_t old_sk_d_len);
struct ike_keys *__wrap_ike_keys_derive(enum ike_prf_id prf,
    const struct ike_key_lengths *lens, const struct ike_bytes *ni, const struct ike_bytes *nr,
    const struct ike_bytes *gir, uint64_t spi_i, uint64_t spi_r, const uint8_t *old_sk_d,
    size_t old_sk_d_len);

static struct {
	unsigned derived;	/* how many times (each peer once per IKE SA) */
	bool differ;		/* the two peers' keys were not the same */
	size_t encr_len, integ_len;
	uint8_t ei[64], er[64], ai[64], ar[64];
} tap;

struct ike_keys *
__wrap_ike_keys_derive(enum ike_prf_id prf, const struct ike_key_lengths *lens,
    const struct ike_bytes *ni, const struct ike_bytes *nr, const struct ike_bytes *gir,
    uint64_t spi_i, uint64_t spi_r, const uint8_t *old_sk_d, size_t old_sk_d_len)
{
	struct ike_keys *k = __real_ike_keys_derive(prf, lens, ni, nr, gir, spi_i, spi_r,
	    old_sk_d, old_sk_d_len);

	if (k == NULL || k->len.encr > sizeof(tap.ei) || k->len.integ > sizeof(tap.ai))
		return k;
	if (tap.derived % 2 == 1)
		tap.differ = tap.differ || memcmp(tap.ei, k->sk_ei, k->len.encr) != 0 ||
		    memcmp(tap.er, k->sk_er, k->len.encr) != 0 ||
		    (k->len.integ > 0 && memcmp(tap.ai, k->sk_ai, k->len.integ) != 0) ||
		    (k->len.integ > 0 && memcmp(tap.ar, k->sk_ar, k->len.integ) != 0);
	tap.derived++;
	tap.encr_len = k->len.encr;
	tap.integ_len = k->len.integ;
	memcpy(tap.ei, k->sk_ei, k->len.encr);
	memcpy(tap.er, k->sk_er, k->len.encr);
	if (k->len.integ > 0) {
		memcpy(tap.ai, k->sk_ai, k->len.integ);
		memcpy(tap.ar, k->sk_ar, k->len.integ);
	}
	return k;
}

/* --- two peers and what they tell ---------------------------------------------------- */

struct ev_rec {
	struct ike_sa *sa;
	int up, down;
	bool wrong_sa, not_its_child;
	uint32_t up_in, up_out, down_in, down_out;
	size_t encr_len, integ_len;
	uint8_t encr_in[64], encr_out[64], integ_in[64], integ_out[64];
	char why[256];
};

static void
on_up(void *ctx, struct ike_sa *sa, const struct ike_child *c)
{
	struct ev_rec *r = ctx;

	r->up++;
	r->wrong_sa = r->wrong_sa || sa != r->sa;
	r->not_its_child = r->not_its_child || c != ike_sa_child(sa);
	r->up_in = c->spi_in;
	r->up_out = c->spi_out;
	cr_assert(c->encr_len <= sizeof(r->encr_in) && c->integ_len <= sizeof(r->integ_in));
	r->encr_len = c->encr_len;
	r->integ_len = c->integ_len;
	memcpy(r->encr_in, c->encr_in, c->encr_len);
	memcpy(r->encr_out, c->encr_out, c->encr_len);
	memcpy(r->integ_in, c->integ_in, c->integ_len);
	memcpy(r->integ_out, c->integ_out, c->integ_len);
}

static void
on_down(void *ctx, struct ike_sa *sa, const struct ike_child *c, const char *why)
{
	struct ev_rec *r = ctx;

	r->down++;
	r->wrong_sa = r->wrong_sa || sa != r->sa;
	r->down_in = c->spi_in;
	r->down_out = c->spi_out;
	snprintf(r->why, sizeof(r->why), "%s", why != NULL ? why : "(null)");
}

/* a: the initiator (site A), b: the responder; m[0..3]: IKE_SA_INIT and IKE_AUTH as sent. */
struct pair {
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;
	struct ev_rec ea, eb;
	uint8_t m[4][BUF];
	size_t mlen[4];
};

/* The pairs of the running test, freed by the teardown when an assertion ends it. */
static struct pair *live[4];

static struct pair *
pair_new(void)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct ike_sa_events ea = { .child_up = on_up, .child_down = on_down }, eb = ea;
	size_t i;

	cr_assert_not_null(p);
	for (i = 0; i < 4 && live[i] != NULL; i++)
		;
	cr_assert_lt(i, 4);
	live[i] = p;
	ike_fx_configs(&p->ca, &p->cb);
	p->a = ike_sa_new(&p->ca, true, SPI_A);
	p->b = ike_sa_new(&p->cb, false, SPI_B);
	cr_assert(p->a != NULL && p->b != NULL);
	p->ea.sa = p->a;
	p->eb.sa = p->b;
	ea.ctx = &p->ea;
	eb.ctx = &p->eb;
	ike_sa_set_events(p->a, &ea);
	ike_sa_set_events(p->b, &eb);
	return p;
}

/* A message the peer must take: what it answered. */
#define take(sa, msg, len, out) take_at(__LINE__, sa, msg, len, out)
static size_t
take_at(int line, struct ike_sa *sa, const uint8_t *msg, size_t len, uint8_t *out)
{
	size_t outlen = 12345;

	cr_assert_eq(ike_sa_input(sa, msg, len, out, BUF, &outlen), 0, "line %d: taken (%s%s%s)",
	    line, ike_sa_state_name(ike_sa_get_state(sa)), ike_sa_error(sa)[0] != '\0' ? ": " : "",
	    ike_sa_error(sa));
	cr_assert_neq(outlen, 12345);
	return outlen;
}

/* A message the peer must drop: -1 and nothing to send. */
static void
dropped(struct ike_sa *sa, const uint8_t *msg, size_t len, const char *what)
{
	static uint8_t out[BUF];
	size_t outlen = 12345;

	cr_assert_eq(ike_sa_input(sa, msg, len, out, BUF, &outlen), -1, "%s: dropped", what);
	cr_assert_eq(outlen, 0, "%s: nothing sent", what);
}

/* IKE_SA_INIT and IKE_AUTH, message by message. */
static struct pair *
established(void)
{
	struct pair *p = pair_new();

	memset(&tap, 0, sizeof(tap));
	cr_assert_eq(ike_sa_start(p->a, p->m[0], BUF, &p->mlen[0]), 0, "%s", ike_sa_error(p->a));
	cr_assert_eq(ike_sa_input(p->b, p->m[0], p->mlen[0], p->m[1], BUF, &p->mlen[1]), 0);
	cr_assert_eq(ike_sa_input(p->a, p->m[1], p->mlen[1], p->m[2], BUF, &p->mlen[2]), 0);
	cr_assert_eq(ike_sa_input(p->b, p->m[2], p->mlen[2], p->m[3], BUF, &p->mlen[3]), 0);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED, "%s", ike_sa_error(p->b));
	cr_assert_eq(take(p->a, p->m[3], p->mlen[3], p->m[0]), 0, "nothing to say to it");
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_ESTABLISHED, "%s", ike_sa_error(p->a));
	cr_assert_eq(tap.derived, 2, "each peer derived the IKE SA keys once");
	cr_assert_not(tap.differ, "both peers derived the same keys");
	return p;
}

static void
pair_free(struct pair *p)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		if (live[i] == p)
			live[i] = NULL;
	}
	ike_sa_free(p->a);
	ike_sa_free(p->b);
	free(p);
}

static void
teardown(void)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		if (live[i] != NULL)
			pair_free(live[i]);
	}
}

TestSuite(ike_info, .fini = teardown);

static struct ike_header
header(const uint8_t *msg, size_t len)
{
	static struct ike_msg m;
	uint8_t bad;

	memset(&m, 0, sizeof(m));
	cr_assert_eq(ike_msg_parse(msg, len, &m, &bad), IKE_PARSE_OK);
	cr_assert(m.has_sk, "the message is encrypted");
	return m.hdr;
}

static void
assert_header(const uint8_t *msg, size_t len, uint8_t exchange, uint32_t msgid,
    bool from_initiator, bool response)
{
	struct ike_header h = header(msg, len);

	cr_assert_eq(h.exchange, exchange);
	cr_assert_eq(h.msgid, msgid, "message ID %u, want %u", h.msgid, msgid);
	cr_assert_eq((h.flags & IKE_FLAG_INITIATOR) != 0, from_initiator, "the I flag");
	cr_assert_eq((h.flags & IKE_FLAG_RESPONSE) != 0, response, "the R flag");
}

/* The tap's keys of one direction (initiator to responder: SK_ei, SK_ai). */
static struct ike_sk *
tap_sk(const struct pair *p, bool from_initiator)
{
	const struct ike_transform *encr = ike_proposal_get(ike_sa_proposal(p->a), IKE_TF_ENCR);
	const struct ike_transform *integ = ike_proposal_get(ike_sa_proposal(p->a), IKE_TF_INTEG);
	struct ike_sk *sk;
	char err[128];

	cr_assert_not_null(encr);
	sk = ike_sk_new(encr->id, from_initiator ? tap.ei : tap.er, tap.encr_len,
	    integ != NULL ? integ->id : IKE_INTEG_NONE, from_initiator ? tap.ai : tap.ar,
	    tap.integ_len, err, sizeof(err));
	cr_assert_not_null(sk, "%s", err);
	return sk;
}

/* A message with that header as a peer with the keys would seal it. */
static size_t
tap_seal_header(const struct pair *p, bool from_initiator, const struct ike_header *h,
    const uint8_t *inner, size_t inner_len, uint8_t first, uint8_t *out)
{
	struct ike_sk *sk = tap_sk(p, from_initiator);
	size_t sealed = ike_sk_sealed_len(sk, inner_len), pl, len;
	struct ike_writer w;
	int rc;

	ike_w_message(&w, out, BUF, h);
	pl = ike_w_begin(&w, IKE_PL_SK, false);
	out[pl] = first;
	w.len += sealed;
	ike_w_end(&w, pl);
	len = ike_w_finish(&w);
	rc = len > 0 ? ike_sk_seal(sk, out, IKE_HDR_LEN + 4, inner, inner_len,
	    out + IKE_HDR_LEN + 4) : -1;
	ike_sk_free(sk);
	cr_assert_eq(rc, 0, "the tap seals it");
	return len;
}

/* The same, in this IKE SA, flags as given. */
static size_t
tap_seal(const struct pair *p, bool from_initiator, uint8_t exchange, uint8_t flags,
    uint32_t msgid, const uint8_t *inner, size_t inner_len, uint8_t first, uint8_t *out)
{
	struct ike_header h = { .spi_i = ike_sa_spi_i(p->a), .spi_r = ike_sa_spi_r(p->a),
		.exchange = exchange, .flags = flags, .msgid = msgid };

	return tap_seal_header(p, from_initiator, &h, inner, inner_len, first, out);
}

/* An INFORMATIONAL as one of the peers would send it, with an optional Delete. */
static size_t
tap_info(const struct pair *p, bool from_initiator, bool response, uint32_t msgid,
    uint8_t del_protocol, const uint32_t *spis, uint16_t nspis, uint8_t *out)
{
	uint8_t inner[256], spi[64];
	struct ike_writer w;
	size_t len;
	uint16_t i;

	cr_assert_leq(nspis, 16);
	ike_w_inner(&w, inner, sizeof(inner));
	for (i = 0; i < nspis; i++) {
		spi[4 * i] = (uint8_t)(spis[i] >> 24);
		spi[4 * i + 1] = (uint8_t)(spis[i] >> 16);
		spi[4 * i + 2] = (uint8_t)(spis[i] >> 8);
		spi[4 * i + 3] = (uint8_t)spis[i];
	}
	if (del_protocol != 0)
		ike_w_delete(&w, del_protocol, spi, nspis);
	len = ike_w_finish(&w);
	cr_assert(del_protocol == 0 || len > 0);
	return tap_seal(p, from_initiator, IKE_INFORMATIONAL,
	    (uint8_t)((from_initiator ? IKE_FLAG_INITIATOR : 0) |
	    (response ? IKE_FLAG_RESPONSE : 0)), msgid, inner, len, w.first, out);
}

/* What a peer said, opened with the tap's keys. */
struct opened {
	struct ike_msg m;
	uint8_t plain[BUF];
};

/* One at a time (static: nothing to free when an assertion ends the test). */
static struct opened *
tap_open(const struct pair *p, bool from_initiator, const uint8_t *msg, size_t len)
{
	static struct opened opened;
	struct opened *o = &opened;
	struct ike_sk *sk;
	size_t plen;
	uint8_t bad;
	int rc;

	memset(o, 0, sizeof(*o));
	cr_assert_eq(ike_msg_parse(msg, len, &o->m, &bad), IKE_PARSE_OK);
	cr_assert(o->m.has_sk);
	sk = tap_sk(p, from_initiator);
	rc = ike_sk_open(sk, o->m.sk_aad.data, o->m.sk_aad.len, o->m.sk.data, o->m.sk.len,
	    o->plain, &plen);
	ike_sk_free(sk);
	cr_assert_eq(rc, 0, "the tap opens it");
	cr_assert_eq(ike_msg_parse_inner(o->plain, plen, o->m.sk_first, &o->m, &bad),
	    IKE_PARSE_OK);
	return o;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An INFORMATIONAL with nothing in it (liveness, or the answer to one). */
static void
assert_empty(const struct pair *p, bool from_initiator, const uint8_t *msg, size_t len)
{
	struct opened *o = tap_open(p, from_initiator, msg, len);

	cr_assert_eq(o->m.ndeletes, 0, "no Delete");
	cr_assert_eq(o->m.nnotifies, 0, "no notify");
	cr_assert_not(o->m.has_sa || o->m.has_nonce || o->m.has_tsi);
}

/* An INFORMATIONAL with exactly one Delete of one ESP SPI. */
static void
assert_deletes_child(const struct pair *p, bool from_initiator, const uint8_t *msg,
    size_t len, uint32_t spi)
{
	struct opened *o = tap_open(p, from_initiator, msg, len);

	cr_assert_eq(o->m.ndeletes, 1, "one Delete");
	cr_assert_eq(o->m.deletes[0].protocol, IKE_PROTO_ESP);
	cr_assert_eq(o->m.deletes[0].spi_size, 4);
	cr_assert_eq(o->m.deletes[0].count, 1);
	cr_assert_eq(get32(o->m.deletes[0].spis.data), spi, "names %08x, want %08x",
	    get32(o->m.deletes[0].spis.data), spi);
}

/* One liveness round trip asked by from (its request ID given), answered by to. */
static void
liveness_works(const struct pair *p, struct ike_sa *from, struct ike_sa *to, uint32_t msgid)
{
	static uint8_t req[BUF], ans[BUF];
	bool init = from == p->a;
	size_t len = 0, alen;

	cr_assert_eq(ike_sa_liveness(from, req, BUF, &len), 0, "%s",
	    ike_sa_state_name(ike_sa_get_state(from)));
	assert_header(req, len, IKE_INFORMATIONAL, msgid, init, false);
	cr_assert(ike_sa_awaiting(from));
	alen = take(to, req, len, ans);
	cr_assert_gt(alen, 0, "answered");
	assert_header(ans, alen, IKE_INFORMATIONAL, msgid, !init, true);
	cr_assert_eq(take(from, ans, alen, req), 0, "nothing to say to an answer");
	cr_assert_not(ike_sa_awaiting(from));
}

/* What can be seen from outside, to compare before and after a dropped message. */
struct seen {
	enum ike_sa_state sa, sb;
	bool wa, wb;
	int ua, ub, da, db;
	uint32_t ca, cb;
};

static struct seen
seen(const struct pair *p)
{
	return (struct seen){
		.sa = ike_sa_get_state(p->a), .sb = ike_sa_get_state(p->b),
		.wa = ike_sa_awaiting(p->a), .wb = ike_sa_awaiting(p->b),
		.ua = p->ea.up, .ub = p->eb.up, .da = p->ea.down, .db = p->eb.down,
		.ca = ike_sa_child(p->a) != NULL ? ike_sa_child(p->a)->spi_in : 0,
		.cb = ike_sa_child(p->b) != NULL ? ike_sa_child(p->b)->spi_in : 0,
	};
}

static void
assert_seen(const struct pair *p, const struct seen *s, const char *what)
{
	struct seen now = seen(p);

	cr_assert(now.sa == s->sa && now.sb == s->sb && now.wa == s->wa && now.wb == s->wb &&
	    now.ua == s->ua && now.ub == s->ub && now.da == s->da && now.db == s->db &&
	    now.ca == s->ca && now.cb == s->cb, "%s: nothing changed (states %s/%s, "
	    "awaiting %d/%d, events %d+%d/%d+%d)", what, ike_sa_state_name(now.sa),
	    ike_sa_state_name(now.sb), now.wa, now.wb, now.ua, now.da, now.ub, now.db);
}

/* --- establishment ------------------------------------------------------------------- */

Test(ike_info, child_up_fires_once_on_each_side_with_mirrored_spis_and_keys)
{
	static uint8_t again[BUF];
	struct pair *p = established();

	cr_assert_eq(p->ea.up, 1);
	cr_assert_eq(p->eb.up, 1);
	cr_assert_eq(p->ea.down + p->eb.down, 0);
	cr_assert_not(p->ea.wrong_sa || p->eb.wrong_sa, "the event names its IKE SA");
	cr_assert_not(p->ea.not_its_child || p->eb.not_its_child, "and its Child SA");
	cr_assert_eq(p->ea.up_in, SPI_A);
	cr_assert_eq(p->eb.up_in, SPI_B);
	cr_assert_eq(p->ea.up_out, p->eb.up_in, "the initiator's out is the responder's in");
	cr_assert_eq(p->eb.up_out, p->ea.up_in);
	cr_assert_eq(p->ea.encr_len, 16);
	cr_assert_eq(p->ea.integ_len, 20);
	cr_assert_eq(p->eb.encr_len, 16);
	cr_assert_eq(memcmp(p->ea.encr_out, p->eb.encr_in, 16), 0);
	cr_assert_eq(memcmp(p->ea.integ_out, p->eb.integ_in, 20), 0);
	cr_assert_eq(memcmp(p->eb.encr_out, p->ea.encr_in, 16), 0);
	cr_assert_eq(memcmp(p->eb.integ_out, p->ea.integ_in, 20), 0);
	cr_assert_neq(memcmp(p->ea.encr_out, p->ea.encr_in, 16), 0, "each way its own key");
	/* The IKE_AUTH request again: the same answer, and no second child_up. */
	cr_assert_eq(take(p->b, p->m[2], p->mlen[2], again), p->mlen[3]);
	cr_assert_eq(memcmp(again, p->m[3], p->mlen[3]), 0);
	dropped(p->a, p->m[3], p->mlen[3], "the IKE_AUTH response again");
	cr_assert_eq(p->ea.up, 1);
	cr_assert_eq(p->eb.up, 1);
	pair_free(p);
}

Test(ike_info, no_request_before_the_ike_sa_is_established)
{
	struct pair *p = pair_new();
	static uint8_t out[BUF];
	size_t len = 12345;

	cr_assert_eq(ike_sa_liveness(p->a, out, BUF, &len), -1);
	cr_assert_eq(len, 0);
	cr_assert_eq(ike_sa_delete(p->a, out, BUF, &len), -1);
	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, out, BUF, &len), -1);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_IDLE);
	cr_assert_eq(ike_sa_start(p->a, p->m[0], BUF, &p->mlen[0]), 0);
	cr_assert_eq(ike_sa_liveness(p->a, out, BUF, &len), -1, "IKE_SA_INIT sent");
	cr_assert_eq(ike_sa_delete(p->a, out, BUF, &len), -1);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_INIT_SENT);
	cr_assert_eq(ike_sa_input(p->b, p->m[0], p->mlen[0], p->m[1], BUF, &p->mlen[1]), 0);
	cr_assert_eq(ike_sa_liveness(p->b, out, BUF, &len), -1, "IKE_SA_INIT answered");
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_INIT_DONE);
	pair_free(p);
}

/* --- liveness -------------------------------------------------------------------------- */

Test(ike_info, liveness_from_the_initiator)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen;

	cr_assert_not(ike_sa_awaiting(p->a));
	cr_assert_eq(ike_sa_liveness(p->a, req, BUF, &len), 0);
	assert_header(req, len, IKE_INFORMATIONAL, 2, true, false);
	assert_empty(p, true, req, len);
	cr_assert(ike_sa_awaiting(p->a));
	cr_assert_not(ike_sa_awaiting(p->b));
	alen = take(p->b, req, len, ans);
	cr_assert_gt(alen, 0);
	assert_header(ans, alen, IKE_INFORMATIONAL, 2, false, true);
	assert_empty(p, false, ans, alen);
	cr_assert(ike_sa_awaiting(p->a), "until the answer is in");
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	cr_assert_not(ike_sa_awaiting(p->a));
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_child(p->a)->spi_in, SPI_A, "the Child SA stays");
	cr_assert_eq(ike_sa_child(p->b)->spi_in, SPI_B);
	cr_assert_eq(p->ea.up + p->eb.up, 2, "no event");
	cr_assert_eq(p->ea.down + p->eb.down, 0);
	/* The next request is the next message ID; the responder's own still starts at 0. */
	liveness_works(p, p->a, p->b, 3);
	liveness_works(p, p->a, p->b, 4);
	liveness_works(p, p->b, p->a, 0);
	pair_free(p);
}

Test(ike_info, liveness_from_the_responder)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen;

	cr_assert_eq(ike_sa_liveness(p->b, req, BUF, &len), 0);
	assert_header(req, len, IKE_INFORMATIONAL, 0, false, false);
	assert_empty(p, false, req, len);
	cr_assert(ike_sa_awaiting(p->b));
	cr_assert_not(ike_sa_awaiting(p->a));
	alen = take(p->a, req, len, ans);
	cr_assert_gt(alen, 0);
	assert_header(ans, alen, IKE_INFORMATIONAL, 0, true, true);
	assert_empty(p, true, ans, alen);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	cr_assert_not(ike_sa_awaiting(p->b));
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED);
	cr_assert_eq(p->ea.up + p->eb.up, 2, "no event");
	cr_assert_eq(p->ea.down + p->eb.down, 0);
	liveness_works(p, p->b, p->a, 1);
	liveness_works(p, p->a, p->b, 2);
	liveness_works(p, p->b, p->a, 2);
	pair_free(p);
}

Test(ike_info, both_sides_ask_at_once_each_in_its_own_window)
{
	static uint8_t ra[BUF], rb[BUF], aa[BUF], ab[BUF], out[BUF];
	struct pair *p = established();
	size_t la, lb, laa, lab;

	cr_assert_eq(ike_sa_liveness(p->a, ra, BUF, &la), 0);
	cr_assert_eq(ike_sa_liveness(p->b, rb, BUF, &lb), 0);
	assert_header(ra, la, IKE_INFORMATIONAL, 2, true, false);
	assert_header(rb, lb, IKE_INFORMATIONAL, 0, false, false);
	/* Each takes the other's request while its own is outstanding. */
	lab = take(p->b, ra, la, ab);
	laa = take(p->a, rb, lb, aa);
	cr_assert(lab > 0 && laa > 0);
	assert_header(ab, lab, IKE_INFORMATIONAL, 2, false, true);
	assert_header(aa, laa, IKE_INFORMATIONAL, 0, true, true);
	cr_assert(ike_sa_awaiting(p->a) && ike_sa_awaiting(p->b));
	cr_assert_eq(take(p->a, ab, lab, out), 0);
	cr_assert_eq(take(p->b, aa, laa, out), 0);
	cr_assert_not(ike_sa_awaiting(p->a) || ike_sa_awaiting(p->b));
	liveness_works(p, p->a, p->b, 3);
	liveness_works(p, p->b, p->a, 1);
	pair_free(p);
}

/* --- the window of one ---------------------------------------------------------------- */

Test(ike_info, a_second_request_while_one_is_outstanding_is_refused)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen, olen;
	struct seen before;

	cr_assert_eq(ike_sa_liveness(p->a, req, BUF, &len), 0);
	before = seen(p);
	olen = 12345;
	cr_assert_eq(ike_sa_liveness(p->a, out, BUF, &olen), -1);
	cr_assert_eq(olen, 0, "nothing produced");
	olen = 12345;
	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, out, BUF, &olen), -1);
	cr_assert_eq(olen, 0);
	olen = 12345;
	cr_assert_eq(ike_sa_delete(p->a, out, BUF, &olen), -1);
	cr_assert_eq(olen, 0);
	assert_seen(p, &before, "refused requests");
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_ESTABLISHED, "not deleting");
	cr_assert_not_null(ike_sa_child(p->a), "the Child SA is not gone");
	/* The other side's window is its own. */
	liveness_works(p, p->b, p->a, 0);
	alen = take(p->b, req, len, ans);
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	/* The answer opens the window again: the next request is the next ID. */
	liveness_works(p, p->a, p->b, 3);
	/* The same from the responder's side. */
	cr_assert_eq(ike_sa_liveness(p->b, req, BUF, &len), 0);
	before = seen(p);
	olen = 12345;
	cr_assert_eq(ike_sa_liveness(p->b, out, BUF, &olen), -1);
	cr_assert_eq(olen, 0);
	cr_assert_eq(ike_sa_delete_child(p->b, SPI_B, out, BUF, &olen), -1);
	cr_assert_eq(ike_sa_delete(p->b, out, BUF, &olen), -1);
	cr_assert_eq(olen, 0);
	assert_seen(p, &before, "refused requests of the responder");
	alen = take(p->a, req, len, ans);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	liveness_works(p, p->b, p->a, 2);
	pair_free(p);
}

Test(ike_info, a_delete_of_a_child_sa_we_do_not_have_is_refused)
{
	static uint8_t out[BUF];
	struct pair *p = established();
	struct seen before = seen(p);
	size_t olen = 12345;

	cr_assert_eq(ike_sa_delete_child(p->a, SPI_B, out, BUF, &olen), -1, "the peer's SPI");
	cr_assert_eq(ike_sa_delete_child(p->a, 0, out, BUF, &olen), -1);
	cr_assert_eq(ike_sa_delete_child(p->b, SPI_A, out, BUF, &olen), -1);
	assert_seen(p, &before, "no such Child SA");
	liveness_works(p, p->a, p->b, 2);
	pair_free(p);
}

Test(ike_info, a_buffer_too_small_for_the_request_changes_nothing)
{
	static uint8_t out[BUF];
	struct pair *p = established();
	struct seen before = seen(p);
	size_t olen = 12345;

	cr_assert_eq(ike_sa_liveness(p->a, out, 40, &olen), -1);
	cr_assert_eq(olen, 0);
	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, out, 40, &olen), -1);
	cr_assert_eq(ike_sa_delete(p->a, out, 40, &olen), -1);
	assert_seen(p, &before, "no room");
	cr_assert_not_null(ike_sa_child(p->a));
	liveness_works(p, p->a, p->b, 2);
	pair_free(p);
}

/* --- retransmissions ------------------------------------------------------------------- */

Test(ike_info, a_retransmitted_request_gets_the_same_answer_and_a_second_answer_is_dropped)
{
	static uint8_t req[BUF], ans[BUF], again[BUF], del[BUF], dans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen, glen, dlen, dalen;

	cr_assert_eq(ike_sa_liveness(p->a, req, BUF, &len), 0);
	alen = take(p->b, req, len, ans);
	glen = take(p->b, req, len, again);
	cr_assert_eq(glen, alen, "the same answer");
	cr_assert_eq(memcmp(again, ans, alen), 0, "byte for byte");
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	dropped(p->a, again, glen, "an answer that came twice");
	cr_assert_not(ike_sa_awaiting(p->a));
	/* A Delete retransmitted: answered alike, the Child SA goes down once. */
	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, del, BUF, &dlen), 0);
	dalen = take(p->b, del, dlen, dans);
	cr_assert_eq(p->eb.down, 1);
	glen = take(p->b, del, dlen, again);
	cr_assert_eq(glen, dalen);
	cr_assert_eq(memcmp(again, dans, dalen), 0);
	cr_assert_eq(p->eb.down, 1, "no second child_down");
	cr_assert_eq(take(p->a, dans, dalen, out), 0);
	dropped(p->a, dans, dalen, "the Delete's answer again");
	cr_assert_eq(p->ea.down, 1);
	/* Only the last request is answered again: the one before is gone. */
	dropped(p->b, req, len, "the request before the last");
	liveness_works(p, p->a, p->b, 4);
	/* The responder's requests are answered again by the initiator alike. */
	cr_assert_eq(ike_sa_liveness(p->b, req, BUF, &len), 0);
	alen = take(p->a, req, len, ans);
	glen = take(p->a, req, len, again);
	cr_assert_eq(glen, alen);
	cr_assert_eq(memcmp(again, ans, alen), 0);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	dropped(p->b, ans, alen, "the initiator's answer again");
	liveness_works(p, p->b, p->a, 1);
	pair_free(p);
}

/* --- Delete of the Child SA ------------------------------------------------------------ */

Test(ike_info, the_initiator_deletes_the_child_sa)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen;

	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, req, BUF, &len), 0);
	/* Down at once on our side: we stop using it. */
	cr_assert_eq(p->ea.down, 1);
	cr_assert_eq(p->ea.down_in, SPI_A);
	cr_assert_eq(p->ea.down_out, SPI_B);
	cr_assert_str_eq(p->ea.why, "deleted");
	cr_assert_null(ike_sa_child(p->a));
	cr_assert(ike_sa_awaiting(p->a));
	assert_header(req, len, IKE_INFORMATIONAL, 2, true, false);
	assert_deletes_child(p, true, req, len, SPI_A);
	cr_assert_eq(p->eb.down, 0);
	alen = take(p->b, req, len, ans);
	cr_assert_gt(alen, 0);
	cr_assert_eq(p->eb.down, 1);
	cr_assert_eq(p->eb.down_in, SPI_B);
	cr_assert_eq(p->eb.down_out, SPI_A);
	cr_assert_str_eq(p->eb.why, "deleted by the peer");
	cr_assert_null(ike_sa_child(p->b));
	/* The answer deletes the other direction: the responder's own inbound SPI. */
	assert_header(ans, alen, IKE_INFORMATIONAL, 2, false, true);
	assert_deletes_child(p, false, ans, alen, SPI_B);
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	cr_assert_not(ike_sa_awaiting(p->a));
	cr_assert_eq(p->ea.down, 1, "once");
	cr_assert_eq(p->eb.down, 1);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, out, BUF, &len), -1, "gone");
	cr_assert_eq(ike_sa_delete_child(p->b, SPI_B, out, BUF, &len), -1, "gone there too");
	liveness_works(p, p->a, p->b, 3);
	liveness_works(p, p->b, p->a, 0);
	cr_assert_eq(p->ea.down + p->eb.down, 2);
	cr_assert_eq(p->ea.up + p->eb.up, 2);
	pair_free(p);
}

Test(ike_info, the_responder_deletes_the_child_sa)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen;

	cr_assert_eq(ike_sa_delete_child(p->b, SPI_B, req, BUF, &len), 0);
	cr_assert_eq(p->eb.down, 1);
	cr_assert_eq(p->eb.down_in, SPI_B);
	cr_assert_str_eq(p->eb.why, "deleted");
	cr_assert_null(ike_sa_child(p->b));
	assert_header(req, len, IKE_INFORMATIONAL, 0, false, false);
	assert_deletes_child(p, false, req, len, SPI_B);
	alen = take(p->a, req, len, ans);
	cr_assert_eq(p->ea.down, 1);
	cr_assert_eq(p->ea.down_in, SPI_A);
	cr_assert_str_eq(p->ea.why, "deleted by the peer");
	cr_assert_null(ike_sa_child(p->a));
	assert_header(ans, alen, IKE_INFORMATIONAL, 0, true, true);
	assert_deletes_child(p, true, ans, alen, SPI_A);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	cr_assert_eq(p->ea.down + p->eb.down, 2, "once each");
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED);
	liveness_works(p, p->b, p->a, 1);
	liveness_works(p, p->a, p->b, 2);
	pair_free(p);
}

Test(ike_info, child_sa_deletes_that_cross_are_answered_with_nothing_to_delete)
{
	static uint8_t ra[BUF], rb[BUF], aa[BUF], ab[BUF], out[BUF];
	struct pair *p = established();
	size_t la, lb, laa, lab;

	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, ra, BUF, &la), 0);
	cr_assert_eq(ike_sa_delete_child(p->b, SPI_B, rb, BUF, &lb), 0);
	lab = take(p->b, ra, la, ab);
	laa = take(p->a, rb, lb, aa);
	/* Each had deleted it already: nothing left to name (§1.4.1). */
	assert_empty(p, false, ab, lab);
	assert_empty(p, true, aa, laa);
	cr_assert_eq(take(p->a, ab, lab, out), 0);
	cr_assert_eq(take(p->b, aa, laa, out), 0);
	cr_assert_eq(p->ea.down, 1);
	cr_assert_eq(p->eb.down, 1);
	cr_assert_str_eq(p->ea.why, "deleted");
	cr_assert_str_eq(p->eb.why, "deleted");
	liveness_works(p, p->a, p->b, 3);
	liveness_works(p, p->b, p->a, 1);
	pair_free(p);
}

Test(ike_info, a_delete_naming_spis_we_do_not_have_deletes_nothing)
{
	static uint8_t req[BUF], ans[BUF];
	const uint32_t wrong[] = { SPI_B, 0xdeadbeef }; /* SPI_B: the receiver's own inbound */
	const uint32_t some[] = { 0xdeadbeef, SPI_A, SPI_A };
	struct pair *p = established();
	size_t len, alen;

	len = tap_info(p, true, false, 2, IKE_PROTO_ESP, wrong, 2, req);
	alen = take(p->b, req, len, ans);
	assert_empty(p, false, ans, alen);
	cr_assert_not_null(ike_sa_child(p->b));
	cr_assert_eq(p->eb.down, 0);
	/* Our SPI, but under AH: not our Child SA either. */
	len = tap_info(p, true, false, 3, IKE_PROTO_AH, &some[1], 1, req);
	alen = take(p->b, req, len, ans);
	assert_empty(p, false, ans, alen);
	cr_assert_eq(p->eb.down, 0);
	/* One of three SPIs is ours (named twice): it goes, and the answer names our
	 * inbound, once. */
	len = tap_info(p, true, false, 4, IKE_PROTO_ESP, some, 3, req);
	alen = take(p->b, req, len, ans);
	assert_deletes_child(p, false, ans, alen, SPI_B);
	cr_assert_eq(p->eb.down, 1);
	cr_assert_str_eq(p->eb.why, "deleted by the peer");
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED);
	liveness_works(p, p->b, p->a, 0);
	pair_free(p);
}

/* --- Delete of the IKE SA ------------------------------------------------------------- */

/* Neither takes anything more, nor asks. */
static void
assert_both_dead_for_good(const struct pair *p)
{
	static uint8_t msg[BUF], out[BUF];
	size_t len, olen = 12345;

	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD);
	cr_assert_null(ike_sa_child(p->a));
	cr_assert_null(ike_sa_child(p->b));
	cr_assert_eq(ike_sa_liveness(p->a, out, BUF, &olen), -1);
	cr_assert_eq(olen, 0);
	cr_assert_eq(ike_sa_liveness(p->b, out, BUF, &olen), -1);
	cr_assert_eq(ike_sa_delete(p->a, out, BUF, &olen), -1);
	cr_assert_eq(ike_sa_delete(p->b, out, BUF, &olen), -1);
	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, out, BUF, &olen), -1);
	cr_assert_eq(olen, 0);
	/* Well-keyed messages of every kind, in and beyond the old windows. */
	for (uint32_t id = 0; id < 6; id++) {
		len = tap_info(p, true, false, id, 0, NULL, 0, msg);
		dropped(p->b, msg, len, "a request to the dead responder");
		len = tap_info(p, false, true, id, 0, NULL, 0, msg);
		dropped(p->a, msg, len, "a response to the dead initiator");
		len = tap_info(p, false, false, id, 0, NULL, 0, msg);
		dropped(p->a, msg, len, "a request to the dead initiator");
		len = tap_info(p, true, true, id, 0, NULL, 0, msg);
		dropped(p->b, msg, len, "a response to the dead responder");
	}
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD);
	cr_assert_eq(p->ea.down, 1, "child_down once");
	cr_assert_eq(p->eb.down, 1);
}

Test(ike_info, the_initiator_deletes_the_ike_sa)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	struct opened *o;
	size_t len, alen;

	cr_assert_eq(ike_sa_delete(p->a, req, BUF, &len), 0);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DELETING);
	cr_assert(ike_sa_awaiting(p->a));
	cr_assert_eq(p->ea.down, 1, "its Child SA goes at once");
	cr_assert_eq(p->ea.down_in, SPI_A);
	cr_assert_str_eq(p->ea.why, "IKE SA deleted");
	cr_assert_null(ike_sa_child(p->a));
	assert_header(req, len, IKE_INFORMATIONAL, 2, true, false);
	o = tap_open(p, true, req, len);
	cr_assert_eq(o->m.ndeletes, 1);
	cr_assert_eq(o->m.deletes[0].protocol, IKE_PROTO_IKE);
	cr_assert_eq(o->m.deletes[0].spi_size, 0);
	cr_assert_eq(o->m.deletes[0].count, 0);
	cr_assert_eq(ike_sa_liveness(p->a, out, BUF, &alen), -1, "nothing more while deleting");
	alen = take(p->b, req, len, ans);
	cr_assert_gt(alen, 0, "the Delete is answered");
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD, "the peer is dead at once");
	cr_assert_str_eq(ike_sa_error(p->b), "deleted by the peer");
	cr_assert_eq(p->eb.down, 1);
	cr_assert_eq(p->eb.down_in, SPI_B);
	cr_assert_str_eq(p->eb.why, "IKE SA deleted by the peer");
	assert_header(ans, alen, IKE_INFORMATIONAL, 2, false, true);
	assert_empty(p, false, ans, alen);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DELETING, "until the answer");
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	cr_assert_str_eq(ike_sa_error(p->a), "deleted");
	cr_assert_not(ike_sa_awaiting(p->a));
	dropped(p->a, ans, alen, "the answer again");
	dropped(p->b, req, len, "the Delete again, to the dead responder");
	assert_both_dead_for_good(p);
	pair_free(p);
}

Test(ike_info, the_responder_deletes_the_ike_sa)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen;

	cr_assert_eq(ike_sa_delete(p->b, req, BUF, &len), 0);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DELETING);
	cr_assert_eq(p->eb.down, 1);
	cr_assert_str_eq(p->eb.why, "IKE SA deleted");
	assert_header(req, len, IKE_INFORMATIONAL, 0, false, false);
	alen = take(p->a, req, len, ans);
	cr_assert_gt(alen, 0);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	cr_assert_str_eq(ike_sa_error(p->a), "deleted by the peer");
	cr_assert_eq(p->ea.down, 1);
	cr_assert_eq(p->ea.down_in, SPI_A);
	cr_assert_str_eq(p->ea.why, "IKE SA deleted by the peer");
	assert_header(ans, alen, IKE_INFORMATIONAL, 0, true, true);
	assert_empty(p, true, ans, alen);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD);
	cr_assert_str_eq(ike_sa_error(p->b), "deleted");
	dropped(p->a, req, len, "the Delete again, to the dead initiator");
	assert_both_dead_for_good(p);
	pair_free(p);
}

Test(ike_info, a_delete_of_the_ike_sa_and_the_child_sa_at_once_is_answered_empty)
{
	static uint8_t req[BUF], ans[BUF];
	uint8_t inner[64], spi[4] = { 0xc0, 0x00, 0x00, 0x01 }; /* SPI_A */
	struct pair *p = established();
	struct ike_writer w;
	size_t len, alen, ilen;

	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_delete(&w, IKE_PROTO_ESP, spi, 1);
	ike_w_delete(&w, IKE_PROTO_IKE, NULL, 0);
	ilen = ike_w_finish(&w);
	cr_assert_gt(ilen, 0);
	len = tap_seal(p, true, IKE_INFORMATIONAL, IKE_FLAG_INITIATOR, 2, inner, ilen, w.first,
	    req);
	alen = take(p->b, req, len, ans);
	/* The IKE SA's Delete takes its Child SAs along: nothing else to say (§1.4.1). */
	assert_empty(p, false, ans, alen);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD);
	cr_assert_eq(p->eb.down, 1, "once");
	cr_assert_null(ike_sa_child(p->b));
	pair_free(p);
}

Test(ike_info, ike_sa_deletes_that_cross_end_both_sides_once)
{
	static uint8_t ra[BUF], rb[BUF], aa[BUF], ab[BUF];
	struct pair *p = established();
	size_t la, lb, laa, lab;

	cr_assert_eq(ike_sa_delete(p->a, ra, BUF, &la), 0);
	cr_assert_eq(ike_sa_delete(p->b, rb, BUF, &lb), 0);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DELETING);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DELETING);
	lab = take(p->b, ra, la, ab);
	laa = take(p->a, rb, lb, aa);
	cr_assert(lab > 0 && laa > 0, "each Delete answered");
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD);
	dropped(p->a, ab, lab, "the answer reaches a dead SA");
	dropped(p->b, aa, laa, "the answer reaches a dead SA");
	cr_assert_str_eq(p->ea.why, "IKE SA deleted");
	cr_assert_str_eq(p->eb.why, "IKE SA deleted");
	assert_both_dead_for_good(p);
	pair_free(p);
}

Test(ike_info, requests_of_the_peer_are_answered_while_we_delete)
{
	static uint8_t del[BUF], dans[BUF], req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t dlen, dalen, len, alen;

	cr_assert_eq(ike_sa_liveness(p->b, req, BUF, &len), 0);
	cr_assert_eq(ike_sa_delete(p->a, del, BUF, &dlen), 0);
	alen = take(p->a, req, len, ans);
	cr_assert_gt(alen, 0, "a deleting SA still answers");
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DELETING);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	cr_assert_not(ike_sa_awaiting(p->b));
	/* The peer's Delete of the Child SA that is gone here already: nothing to name. */
	cr_assert_eq(ike_sa_delete_child(p->b, SPI_B, req, BUF, &len), 0);
	alen = take(p->a, req, len, ans);
	assert_empty(p, true, ans, alen);
	cr_assert_eq(p->ea.down, 1);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	dalen = take(p->b, del, dlen, dans);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD);
	cr_assert_eq(take(p->a, dans, dalen, out), 0);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	cr_assert_eq(p->ea.down + p->eb.down, 2);
	pair_free(p);
}

/* --- giving up ----------------------------------------------------------------------- */

Test(ike_info, give_up_kills_the_sa_with_the_reason_and_takes_the_child_sa_down)
{
	static uint8_t req[BUF], ans[BUF];
	struct pair *p = established();
	size_t len, alen;

	cr_assert_eq(ike_sa_liveness(p->a, req, BUF, &len), 0);
	ike_sa_give_up(p->a, "dead peer: no answer to liveness checks");
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	cr_assert_str_eq(ike_sa_error(p->a), "dead peer: no answer to liveness checks");
	cr_assert_eq(p->ea.down, 1);
	cr_assert_eq(p->ea.down_in, SPI_A);
	cr_assert_str_eq(p->ea.why, "dead peer: no answer to liveness checks");
	cr_assert_null(ike_sa_child(p->a));
	cr_assert_eq(ike_sa_liveness(p->a, ans, BUF, &alen), -1);
	/* The answer comes late: dropped. The peer knows nothing of it. */
	alen = take(p->b, req, len, ans);
	dropped(p->a, ans, alen, "an answer after giving up");
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED);
	cr_assert_eq(p->eb.down, 0);
	cr_assert_eq(p->ea.down, 1, "once");
	pair_free(p);
}

Test(ike_info, giving_up_on_a_delete_tells_the_child_sa_down_once)
{
	static uint8_t req[BUF];
	struct pair *p = established();
	size_t len;

	cr_assert_eq(ike_sa_delete(p->b, req, BUF, &len), 0);
	cr_assert_eq(p->eb.down, 1);
	ike_sa_give_up(p->b, "no answer to the Delete");
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD);
	cr_assert_str_eq(ike_sa_error(p->b), "no answer to the Delete");
	cr_assert_eq(p->eb.down, 1, "the Child SA went with the Delete already");
	cr_assert_str_eq(p->eb.why, "IKE SA deleted");
	pair_free(p);
}

/* --- what a hostile peer or the network sends, established ----------------------------- */

Test(ike_info, a_request_ahead_of_the_window_is_dropped)
{
	static uint8_t msg[BUF];
	const uint32_t ours[] = { SPI_A };
	struct pair *p = established();
	struct seen before = seen(p);
	size_t len;

	/* Well keyed, but not the next message ID: 2 is expected of the initiator. */
	len = tap_info(p, true, false, 3, 0, NULL, 0, msg);
	dropped(p->b, msg, len, "ID 3");
	len = tap_info(p, true, false, 0xffffffff, 0, NULL, 0, msg);
	dropped(p->b, msg, len, "ID 2^32-1");
	len = tap_info(p, true, false, 1, IKE_PROTO_ESP, ours, 1, msg);
	dropped(p->b, msg, len, "ID 1 (IKE_AUTH's), a Delete");
	len = tap_info(p, true, false, 3, IKE_PROTO_IKE, NULL, 0, msg);
	dropped(p->b, msg, len, "ID 3, a Delete of the IKE SA");
	/* And 0 is expected of the responder. */
	len = tap_info(p, false, false, 1, 0, NULL, 0, msg);
	dropped(p->a, msg, len, "the responder's ID 1");
	len = tap_info(p, false, false, 2, IKE_PROTO_IKE, NULL, 0, msg);
	dropped(p->a, msg, len, "the responder's ID 2, a Delete of the IKE SA");
	assert_seen(p, &before, "requests ahead");
	liveness_works(p, p->a, p->b, 2);
	liveness_works(p, p->b, p->a, 0);
	pair_free(p);
}

Test(ike_info, a_response_to_nothing_is_dropped)
{
	static uint8_t req[BUF], ans[BUF], msg[BUF], out[BUF];
	struct pair *p = established();
	struct seen before = seen(p);
	size_t len, alen, mlen;
	uint8_t inner[8];

	for (uint32_t id = 0; id < 4; id++) {
		mlen = tap_info(p, false, true, id, 0, NULL, 0, msg);
		dropped(p->a, msg, mlen, "a response to the initiator, nothing asked");
		mlen = tap_info(p, true, true, id, 0, NULL, 0, msg);
		dropped(p->b, msg, mlen, "a response to the responder, nothing asked");
	}
	assert_seen(p, &before, "responses to nothing");
	/* Asked, but the response is not to our request. */
	cr_assert_eq(ike_sa_liveness(p->a, req, BUF, &len), 0);
	before = seen(p);
	mlen = tap_info(p, false, true, 3, 0, NULL, 0, msg);
	dropped(p->a, msg, mlen, "a response with the next ID");
	mlen = tap_info(p, false, true, 1, 0, NULL, 0, msg);
	dropped(p->a, msg, mlen, "a response with the ID before");
	mlen = tap_seal(p, false, IKE_CREATE_CHILD_SA, IKE_FLAG_RESPONSE, 2, inner, 0, 0, msg);
	dropped(p->a, msg, mlen, "a response of another exchange");
	mlen = tap_info(p, true, true, 2, 0, NULL, 0, msg);
	dropped(p->a, msg, mlen, "a response with the I flag (our own, reflected)");
	mlen = tap_seal(p, false, IKE_INFORMATIONAL, IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE, 2,
	    inner, 0, 0, msg);
	dropped(p->a, msg, mlen, "the responder's response with the I flag");
	assert_seen(p, &before, "wrong responses");
	cr_assert(ike_sa_awaiting(p->a));
	alen = take(p->b, req, len, ans);
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	cr_assert_not(ike_sa_awaiting(p->a));
	/* Answered: nothing is asked now, not even the ID of the next request. */
	before = seen(p);
	mlen = tap_info(p, false, true, 3, 0, NULL, 0, msg);
	dropped(p->a, msg, mlen, "a response with the ID of our next request");
	liveness_works(p, p->b, p->a, 0);
	mlen = tap_info(p, true, true, 1, 0, NULL, 0, msg);
	dropped(p->b, msg, mlen, "a response with the ID of the responder's next request");
	assert_seen(p, &before, "responses ahead");
	liveness_works(p, p->a, p->b, 3);
	liveness_works(p, p->b, p->a, 1);
	pair_free(p);
}

Test(ike_info, the_ike_sa_init_and_ike_auth_again_are_dropped_once_established)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	struct pair *q = pair_new();
	struct seen before;
	size_t len, alen;

	/* A request of ours first, so that the IKE_AUTH request is no retransmission. */
	liveness_works(p, p->a, p->b, 2);
	before = seen(p);
	dropped(p->b, p->m[0], p->mlen[0], "the peer's IKE_SA_INIT again");
	dropped(p->a, p->m[1], p->mlen[1], "the IKE_SA_INIT response again");
	dropped(p->b, p->m[2], p->mlen[2], "the IKE_AUTH request after an INFORMATIONAL");
	dropped(p->a, p->m[3], p->mlen[3], "the IKE_AUTH response again");
	/* Another initiator's IKE_SA_INIT (a new IKE SA is not this one's business). */
	cr_assert_eq(ike_sa_start(q->a, req, BUF, &len), 0);
	dropped(p->b, req, len, "a new IKE_SA_INIT");
	assert_seen(p, &before, "IKE_SA_INIT and IKE_AUTH again");
	/* While a request is outstanding, too. */
	cr_assert_eq(ike_sa_liveness(p->a, req, BUF, &len), 0);
	dropped(p->a, p->m[1], p->mlen[1], "the IKE_SA_INIT response, awaiting");
	dropped(p->a, p->m[3], p->mlen[3], "the IKE_AUTH response, awaiting");
	alen = take(p->b, req, len, ans);
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	liveness_works(p, p->b, p->a, 0);
	cr_assert_eq(p->ea.up + p->eb.up, 2);
	pair_free(q);
	pair_free(p);
}

Test(ike_info, our_own_request_reflected_is_dropped)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	struct seen before;
	size_t len, alen;

	cr_assert_eq(ike_sa_delete_child(p->a, SPI_A, req, BUF, &len), 0);
	before = seen(p);
	dropped(p->a, req, len, "the initiator's own Delete");
	assert_seen(p, &before, "reflected");
	alen = take(p->b, req, len, ans);
	dropped(p->b, ans, alen, "the responder's own answer");
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	cr_assert_eq(ike_sa_liveness(p->b, req, BUF, &len), 0);
	before = seen(p);
	dropped(p->b, req, len, "the responder's own request");
	assert_seen(p, &before, "reflected");
	alen = take(p->a, req, len, ans);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	pair_free(p);
}

/* Every octet of msg changed in turn, then msg cut short: to is left as it was. */
static void
assert_tampering_dropped(struct pair *p, struct ike_sa *to, const uint8_t *msg, size_t len)
{
	static uint8_t bad[BUF];
	struct seen before = seen(p);
	static const uint8_t flips[] = { 0x01, 0x80, 0xff };
	size_t i, f, cut;
	char what[64];

	for (i = 0; i < len; i++) {
		for (f = 0; f < sizeof(flips); f++) {
			memcpy(bad, msg, len);
			bad[i] ^= flips[f];
			snprintf(what, sizeof(what), "octet %zu ^ %02x", i, flips[f]);
			dropped(to, bad, len, what);
		}
	}
	for (cut = 0; cut < len; cut++) {
		snprintf(what, sizeof(what), "cut to %zu", cut);
		dropped(to, msg, cut, what);
	}
	/* Cut short with the lengths made to agree: the ICV is what fails. */
	for (cut = 1; cut <= 16 && IKE_HDR_LEN + 4 + cut < len; cut++) {
		size_t n = len - cut, sk = n - IKE_HDR_LEN;

		memcpy(bad, msg, n);
		bad[24] = (uint8_t)(n >> 24);
		bad[25] = (uint8_t)(n >> 16);
		bad[26] = (uint8_t)(n >> 8);
		bad[27] = (uint8_t)n;
		bad[IKE_HDR_LEN + 2] = (uint8_t)(sk >> 8);
		bad[IKE_HDR_LEN + 3] = (uint8_t)sk;
		snprintf(what, sizeof(what), "%zu octets short, lengths fixed", cut);
		dropped(to, bad, n, what);
	}
	/* Longer: an octet more in the SK payload. */
	memcpy(bad, msg, len);
	bad[len] = 0;
	bad[27] = (uint8_t)(bad[27] + 1);
	bad[IKE_HDR_LEN + 3] = (uint8_t)(bad[IKE_HDR_LEN + 3] + 1);
	dropped(to, bad, len + 1, "an octet longer");
	assert_seen(p, &before, "tampered");
}

Test(ike_info, tampered_or_truncated_requests_and_answers_are_dropped)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen;

	/* A liveness request to the responder. */
	cr_assert_eq(ike_sa_liveness(p->a, req, BUF, &len), 0);
	assert_tampering_dropped(p, p->b, req, len);
	alen = take(p->b, req, len, ans);
	/* Its answer to the initiator. */
	assert_tampering_dropped(p, p->a, ans, alen);
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	/* A Delete of the Child SA, the responder's, and its answer. */
	cr_assert_eq(ike_sa_delete_child(p->b, SPI_B, req, BUF, &len), 0);
	assert_tampering_dropped(p, p->a, req, len);
	cr_assert_not_null(ike_sa_child(p->a), "a tampered Delete deletes nothing");
	alen = take(p->a, req, len, ans);
	cr_assert_null(ike_sa_child(p->a));
	assert_tampering_dropped(p, p->b, ans, alen);
	cr_assert_eq(take(p->b, ans, alen, out), 0);
	/* A Delete of the IKE SA. */
	cr_assert_eq(ike_sa_delete(p->a, req, BUF, &len), 0);
	assert_tampering_dropped(p, p->b, req, len);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED);
	alen = take(p->b, req, len, ans);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_DEAD);
	assert_tampering_dropped(p, p->a, ans, alen);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DELETING);
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	pair_free(p);
}

Test(ike_info, a_request_sealed_with_the_wrong_direction_keys_is_dropped)
{
	static uint8_t msg[BUF];
	struct pair *p = established();
	struct seen before = seen(p);
	uint8_t inner[8];
	size_t len;

	/* The initiator's header, the responder's keys (a reflection re-sealed). */
	len = tap_seal(p, false, IKE_INFORMATIONAL, IKE_FLAG_INITIATOR, 2, inner, 0, 0, msg);
	dropped(p->b, msg, len, "SK_er for an initiator's request");
	len = tap_seal(p, true, IKE_INFORMATIONAL, 0, 0, inner, 0, 0, msg);
	dropped(p->a, msg, len, "SK_ei for a responder's request");
	assert_seen(p, &before, "wrong keys");
	/* The right keys, the wrong I flag: the flag names who set up the IKE SA (§3.1). */
	len = tap_seal(p, false, IKE_INFORMATIONAL, IKE_FLAG_INITIATOR, 0, inner, 0, 0, msg);
	dropped(p->a, msg, len, "a request of the responder's with the I flag");
	len = tap_seal(p, true, IKE_INFORMATIONAL, 0, 2, inner, 0, 0, msg);
	dropped(p->b, msg, len, "a request of the initiator's without the I flag");
	assert_seen(p, &before, "wrong I flag");
	liveness_works(p, p->a, p->b, 2);
	liveness_works(p, p->b, p->a, 0);
	pair_free(p);
}

/* An exchange picsec does not take once established (IKE_SA_INIT, IKE_AUTH, one it does
 * not know): dropped, and dropped means the SA is as it was (ike_sa.h), its window too:
 * the peer's real next request is still taken. */
Test(ike_info, a_well_keyed_request_of_an_exchange_we_do_not_take_changes_nothing)
{
	static const uint8_t exchanges[] = { IKE_SA_INIT, IKE_AUTH, 43, 99 };
	static uint8_t msg[BUF];
	struct pair *p = established();
	struct seen before = seen(p);
	uint8_t inner[8];
	size_t i, len;

	for (i = 0; i < sizeof(exchanges); i++) {
		len = tap_seal(p, true, exchanges[i], IKE_FLAG_INITIATOR, 2, inner, 0, 0, msg);
		dropped(p->b, msg, len, "the initiator's request of another exchange");
		len = tap_seal(p, false, exchanges[i], 0, 0, inner, 0, 0, msg);
		dropped(p->a, msg, len, "the responder's request of another exchange");
	}
	assert_seen(p, &before, "other exchanges");
	liveness_works(p, p->a, p->b, 2);
	liveness_works(p, p->b, p->a, 0);
	pair_free(p);
}

Test(ike_info, a_well_keyed_message_of_another_ike_sa_is_dropped)
{
	static uint8_t msg[BUF];
	struct pair *p = established();
	struct seen before = seen(p);
	struct ike_header h = { .spi_i = ike_sa_spi_i(p->a), .spi_r = ike_sa_spi_r(p->a),
		.exchange = IKE_INFORMATIONAL, .flags = IKE_FLAG_INITIATOR, .msgid = 2 };
	uint8_t inner[8];
	size_t len;

	h.spi_r ^= 1;
	len = tap_seal_header(p, true, &h, inner, 0, 0, msg);
	dropped(p->b, msg, len, "another responder's SPI");
	h.spi_r = 0;
	len = tap_seal_header(p, true, &h, inner, 0, 0, msg);
	dropped(p->b, msg, len, "no responder's SPI");
	h.spi_r = ike_sa_spi_r(p->a);
	h.spi_i ^= 1;
	len = tap_seal_header(p, true, &h, inner, 0, 0, msg);
	dropped(p->b, msg, len, "another initiator's SPI");
	h = (struct ike_header){ .spi_i = ike_sa_spi_i(p->a), .spi_r = ike_sa_spi_r(p->a) ^ 1,
		.exchange = IKE_INFORMATIONAL, .msgid = 0 };
	len = tap_seal_header(p, false, &h, inner, 0, 0, msg);
	dropped(p->a, msg, len, "the responder's request, another responder's SPI");
	assert_seen(p, &before, "another IKE SA");
	liveness_works(p, p->a, p->b, 2);
	liveness_works(p, p->b, p->a, 0);
	pair_free(p);
}

/* --- CREATE_CHILD_SA ------------------------------------------------------------------- */

/* A CREATE_CHILD_SA request for a second Child SA (§1.3.1: SA, Ni, TSi, TSr), sealed as
 * the initiator (from_initiator) or the responder of the IKE SA would. */
static size_t
tap_create_child(const struct pair *p, bool from_initiator, uint32_t msgid, uint8_t *out)
{
	const struct ike_peer_cfg *cfg = from_initiator ? &p->ca : &p->cb;
	static const uint8_t spi[4] = { 0xc0, 0x00, 0x00, 0x33 };
	uint8_t inner[1024], nonce[32];
	struct ike_proposal offer = cfg->child[0];
	struct ike_writer w;
	size_t len;

	memset(nonce, 0x5a, sizeof(nonce));
	offer.spi = (struct ike_bytes){ spi, sizeof(spi) };
	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_sa(&w, &offer, 1);
	ike_w_nonce(&w, nonce, sizeof(nonce));
	ike_w_ts(&w, true, &cfg->local_ts);
	ike_w_ts(&w, false, &cfg->remote_ts);
	len = ike_w_finish(&w);
	cr_assert_gt(len, 0);
	return tap_seal(p, from_initiator, IKE_CREATE_CHILD_SA,
	    from_initiator ? IKE_FLAG_INITIATOR : 0, msgid, inner, len, w.first, out);
}

Test(ike_info, create_child_sa_is_answered_and_the_ike_sa_stays)
{
	static uint8_t req[BUF], ans[BUF], again[BUF];
	struct pair *p = established();
	struct seen before = seen(p);
	size_t len, alen, glen;

	len = tap_create_child(p, true, 2, req);
	alen = take(p->b, req, len, ans);
	cr_assert_gt(alen, 0, "answered");
	assert_header(ans, alen, IKE_CREATE_CHILD_SA, 2, false, true);
	(void)tap_open(p, false, ans, alen);
	cr_assert_eq(ike_sa_get_state(p->b), IKE_SA_ESTABLISHED);
	cr_assert_not_null(ike_sa_child(p->b), "the first Child SA stays");
	cr_assert_eq(ike_sa_child(p->b)->spi_in, SPI_B);
	assert_seen(p, &before, "CREATE_CHILD_SA");
	/* Retransmitted: the same answer. */
	glen = take(p->b, req, len, again);
	cr_assert_eq(glen, alen);
	cr_assert_eq(memcmp(again, ans, alen), 0);
	/* The window moved on: the initiator's next is 3 (sealed here: the engine's own
	 * initiator did not send 2), and the responder's own requests go on. */
	len = tap_info(p, true, false, 3, 0, NULL, 0, req);
	alen = take(p->b, req, len, ans);
	assert_header(ans, alen, IKE_INFORMATIONAL, 3, false, true);
	liveness_works(p, p->b, p->a, 0);
	/* The other way: the responder of the IKE SA asks the initiator. */
	len = tap_create_child(p, false, 1, req);
	alen = take(p->a, req, len, ans);
	cr_assert_gt(alen, 0);
	assert_header(ans, alen, IKE_CREATE_CHILD_SA, 1, true, true);
	(void)tap_open(p, true, ans, alen);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_child(p->a)->spi_in, SPI_A);
	len = tap_info(p, false, false, 2, 0, NULL, 0, req);
	alen = take(p->a, req, len, ans);
	assert_header(ans, alen, IKE_INFORMATIONAL, 2, true, true);
	pair_free(p);
}

/* picsec rekeys Child SAs but makes no additional ones (one term, one Child SA): a request
 * without REKEY_SA gets NO_ADDITIONAL_SAS (§1.3), and nothing else changes. */
Test(ike_info, create_child_sa_for_an_additional_child_sa_is_refused_no_additional_sas)
{
	static uint8_t req[BUF], ans[BUF];
	struct pair *p = established();
	struct opened *o;
	size_t len, alen;

	len = tap_create_child(p, true, 2, req);
	alen = take(p->b, req, len, ans);
	o = tap_open(p, false, ans, alen);
	cr_assert_not_null(ike_msg_notify(&o->m, IKE_N_NO_ADDITIONAL_SAS));
	cr_assert_not(o->m.has_sa, "no Child SA offered back");
	cr_assert_eq(p->eb.up, 1, "no new Child SA");
	cr_assert_eq(p->eb.down, 0);
	pair_free(p);
}

Test(ike_info, create_child_sa_while_we_delete_is_refused_temporary_failure)
{
	static uint8_t del[BUF], dans[BUF], req[BUF], ans[BUF];
	struct pair *p = established();
	struct opened *o;
	size_t dlen, dalen, len, alen;

	cr_assert_eq(ike_sa_delete(p->a, del, BUF, &dlen), 0);
	len = tap_create_child(p, false, 0, req);
	alen = take(p->a, req, len, ans);
	cr_assert_gt(alen, 0, "answered");
	assert_header(ans, alen, IKE_CREATE_CHILD_SA, 0, true, true);
	o = tap_open(p, true, ans, alen);
	cr_assert_not_null(ike_msg_notify(&o->m, IKE_N_TEMPORARY_FAILURE),
	    "nothing new under an IKE SA being deleted (§1.4.1)");
	cr_assert_not(o->m.has_sa);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DELETING);
	cr_assert_eq(p->ea.up, 1);
	dalen = take(p->b, del, dlen, dans);
	cr_assert_eq(take(p->a, dans, dalen, ans), 0);
	cr_assert_eq(ike_sa_get_state(p->a), IKE_SA_DEAD);
	pair_free(p);
}

/* No room for the answer: the request must not be used up (its window stays, no Delete is
 * carried out), so that the peer's retransmission is answered; else the peer never hears
 * back and its DPD ends the IKE SA. (It was used up; found by this test.) */
Test(ike_info, no_room_for_the_answer_leaves_the_request_answerable)
{
	static uint8_t req[BUF], ans[BUF], out[BUF];
	struct pair *p = established();
	size_t len, alen = 12345;

	cr_assert_eq(ike_sa_liveness(p->a, req, BUF, &len), 0);
	(void)ike_sa_input(p->b, req, len, ans, 40, &alen);
	cr_assert_eq(alen, 0, "no answer fits");
	alen = take(p->b, req, len, ans);
	cr_assert_gt(alen, 0, "the retransmission is answered");
	cr_assert_eq(take(p->a, ans, alen, out), 0);
	liveness_works(p, p->a, p->b, 3);
	pair_free(p);
}
