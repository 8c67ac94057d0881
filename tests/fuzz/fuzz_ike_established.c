/* libFuzzer target for what an ESTABLISHED IKE SA does with authenticated input: two peers
 * (a initiator, b responder) negotiate IKE_SA_INIT and IKE_AUTH in memory, then the input is
 * sealed under the sender's keys, at the message ID the receiver expects, so that it passes
 * the ICV and reaches the INFORMATIONAL and CREATE_CHILD_SA code (fuzz_ike_sa cannot: a
 * forged message fails the ICV). The sender is a peer that authenticated but may send
 * anything; the receiver must stay sound.
 *
 * Input: byte 0 the control (below), byte 1 the first inner payload's type, the rest the
 * inner payload chain.
 *   bit 0     CREATE_CHILD_SA (36), else INFORMATIONAL (37)
 *   bit 1     a response (to a request of the receiver's), else a request
 *   bit 2     b sends to a, else a sends to b
 *   bits 3-5  the receiver's own request first:
 *             request: 1 liveness, 2 Child SA rekey, 3 IKE SA rekey, 4 Child SA Delete,
 *             5 IKE SA Delete, else none; it is in flight (the sender has not seen it),
 *             so the input crosses it (rekey collisions, requests while DELETING).
 *             response: the request the input answers, which the sender did receive
 *             (its real answer is thrown away): INFORMATIONAL: liveness, Child SA Delete,
 *             IKE SA Delete (by the value mod 3); CREATE_CHILD_SA: Child SA rekey, IKE SA
 *             rekey (mod 2).
 *   bit 6     the caller takes a rekeyed IKE SA after every message, as picsec-iked does;
 *             else only at the end (ike_sa.h does not ask for it sooner)
 *   bit 7     unused
 *
 * Afterwards: the receiver is ESTABLISHED, DELETING or DEAD; a dropped message changed
 * nothing (ike_sa.h); a request taken was answered and moved the window by one; an answer
 * parses, is one the sender can open (right keys), and is the response to the request or
 * the request that follows a response (a Delete after a rekey). Then the receiver's own
 * requests still outstanding, real ones, reach the sender and the real answers come back
 * (the request the input crossed arrives after all; a Delete after a rekey goes out). At
 * every step, each side's Child SAs (in its IKE SA, the one waiting in
 * ike_sa_take_rekeyed and the ones taken) are the ones its events announced up and not
 * down, no more than IKE_MAX_CHILDREN, none in an IKE SA DELETING or DEAD. And when the
 * receiver is still ESTABLISHED, a liveness check from the sender completes, and one from
 * the receiver when it has nothing outstanding: whatever it took did not break it.
 *
 * The harness sends in the sender's name without the sender knowing (only seal); when the
 * receiver takes such a request, the sender's next request ID is moved on (req_msgid), as
 * if it had sent it, so that the liveness check after is in its window.
 *
 * Fresh peers for every input, never reused: the IKE SA, its Child SAs, message IDs and
 * rekey state would leak between inputs otherwise. libsodium's random numbers (SPIs, nonces,
 * X25519 keys, IVs: all randomness with the proposals below) come from a generator reset
 * for each input, so an input replays exactly. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "ike_proposal.h"
#include "ike_sa_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	BUF = IKE_MAX_MSG,
	C_CREATE = 0x01,
	C_RESPONSE = 0x02,
	C_FROM_B = 0x04,
	C_TAKE = 0x40,
	MAX_TAKEN = 4,
	SPI_A = 0x1001,		/* a's inbound SPI of the first Child SA (b's outbound) */
	SPI_B = 0x1002,		/* b's */
	SPI_FRESH = 0x10000,	/* the events' fresh SPIs from here, per input */
};

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static struct ike_peer_cfg ca, cb;

/* The events of one peer: the Child SAs announced up and not down (by inbound SPI). The
 * IKE SAs a rekey makes have the same events, so this covers all of a peer's IKE SAs: its
 * own, the one waiting in ike_sa_take_rekeyed, and the ones taken already. */
struct side {
	uint32_t up[IKE_MAX_CHILDREN];
	size_t nup;
	struct ike_sa *taken[MAX_TAKEN];
	size_t ntaken;
};
static struct side sides[2];
static uint32_t next_spi;
static bool take_now;

static void
ev_up(void *ctx, struct ike_sa *sa, const struct ike_child *c)
{
	struct side *s = ctx;

	(void)sa;
	for (size_t i = 0; i < s->nup; i++)
		CHECK(s->up[i] != c->spi_in); /* up twice */
	CHECK(s->nup < IKE_MAX_CHILDREN);
	s->up[s->nup++] = c->spi_in;
}

static void
ev_down(void *ctx, struct ike_sa *sa, const struct ike_child *c, const char *why)
{
	struct side *s = ctx;
	size_t i;

	(void)sa;
	CHECK(why != NULL);
	for (i = 0; i < s->nup && s->up[i] != c->spi_in; i++)
		;
	CHECK(i < s->nup); /* down without up */
	s->up[i] = s->up[--s->nup];
}

static uint32_t
ev_spi(void *ctx, struct ike_sa *sa, uint8_t protocol)
{
	(void)ctx;
	(void)sa;
	(void)protocol;
	return next_spi++;
}

/* Deterministic randomness (splitmix64), reset for each input. */
static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static const char *
rng_name(void)
{
	return "fuzz-splitmix64";
}

static uint32_t
rng_random(void)
{
	return (uint32_t)rng_next();
}

static void
rng_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;
	uint64_t v = 0;

	for (size_t i = 0; i < size; i++) {
		if (i % 8 == 0)
			v = rng_next();
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static randombytes_implementation rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

static void
setup(void)
{
	static const uint8_t psk[] = "fuzz";
	static uint8_t zero[4];
	Picsec__V1__IkeProposal ip[2] = { PICSEC__V1__IKE_PROPOSAL__INIT,
		PICSEC__V1__IKE_PROPOSAL__INIT };
	Picsec__V1__IpsecProposal cp[2] = { PICSEC__V1__IPSEC_PROPOSAL__INIT,
		PICSEC__V1__IPSEC_PROPOSAL__INIT };
	char err[128];

	/* Before libsodium starts (ike_sa_new does that). */
	CHECK(randombytes_set_implementation(&rng) == 0);
	/* IKE: AES-CBC-128/SHA-256 (the one IKE_SA_INIT takes), AES-GCM-256/SHA-384 (a rekey
	 * may take it); both X25519, libsodium's (no OpenSSL randomness). Child: AES-CBC-128/
	 * HMAC-SHA1-96 without PFS (IKE_AUTH's), AES-GCM-128 with PFS (X25519). */
	for (int i = 0; i < 2; i++) {
		ip[i].name = cp[i].name = (char *)(uintptr_t)"f";
		ip[i].dh_group = PICSEC__V1__DH_GROUP__DH_GROUP_31;
		cp[i].protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	}
	ip[0].encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	ip[0].authentication_algorithm = PICSEC__V1__IKE_HASH__IKE_HASH_SHA256;
	ip[1].encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES256_GCM;
	ip[1].authentication_algorithm = PICSEC__V1__IKE_HASH__IKE_HASH_SHA384;
	cp[0].encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	cp[0].authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	cp[1].encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM;
	cp[1].authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_NONE;
	for (uint8_t i = 0; i < 2; i++) {
		CHECK(ike_proposal_from_ike(&ip[i], (uint8_t)(i + 1), &ca.ike[i], err,
		    sizeof(err)) == 0);
		CHECK(ike_proposal_from_ipsec(&cp[i], (uint8_t)(i + 1), i == 0 ?
		    PICSEC__V1__DH_GROUP__DH_GROUP_NONE : PICSEC__V1__DH_GROUP__DH_GROUP_31, zero,
		    &ca.child[i], err, sizeof(err)) == 0);
	}
	ca.nike = ca.nchild = 2;
	ca.psk = psk;
	ca.psk_len = 4;
	ca.local_ts.count = ca.remote_ts.count = 1;
	ca.local_ts.ts[0] = (struct ike_ts){ .type = 7, .end_port = 65535, .addr_len = 4,
		.start = { 198, 18, 1, 0 }, .end = { 198, 18, 1, 255 } };
	ca.remote_ts.ts[0] = ca.local_ts.ts[0];
	ca.remote_ts.ts[0].start[2] = ca.remote_ts.ts[0].end[2] = 2;
	cb = ca;
	cb.local_ts = ca.remote_ts;
	cb.remote_ts = ca.local_ts;
}

static uint8_t req[BUF], ans[BUF], none[BUF], msg[BUF], out[BUF], plain[BUF], pend[BUF];
static size_t pend_len;		/* the receiver's request outstanding, as sent */
static struct ike_msg parsed;

/* ike_sa_input, and the rekeyed IKE SA taken at once when the input says so. */
static int
input(struct ike_sa *sa, const uint8_t *m, size_t len, uint8_t *o, size_t *olen)
{
	int rc = ike_sa_input(sa, m, len, o, BUF, olen);
	struct side *s = sa->ev.ctx;
	struct ike_sa *n;

	if (take_now && (n = ike_sa_take_rekeyed(sa)) != NULL) {
		CHECK(s->ntaken < MAX_TAKEN);
		s->taken[s->ntaken++] = n;
	}
	return rc;
}

/* A request of from's (in req) to to, answered; the answer must be taken. */
static void
complete(struct ike_sa *from, struct ike_sa *to, size_t len)
{
	size_t la, ln;

	CHECK(input(to, req, len, ans, &la) == 0 && la > 0);
	CHECK(input(from, ans, la, none, &ln) == 0 && ln == 0);
	CHECK(!ike_sa_awaiting(from));
}

/* Both established, each with its first Child SA. */
static void
establish(struct ike_sa *a, struct ike_sa *b)
{
	size_t l1, l2, l3, l4;

	CHECK(ike_sa_start(a, req, BUF, &l1) == 0);
	CHECK(ike_sa_input(b, req, l1, ans, BUF, &l2) == 0 && l2 > 0);
	CHECK(ike_sa_input(a, ans, l2, req, BUF, &l3) == 0 && l3 > 0);
	CHECK(ike_sa_input(b, req, l3, ans, BUF, &l4) == 0 && l4 > 0);
	CHECK(ike_sa_input(a, ans, l4, none, BUF, &l1) == 0 && l1 == 0);
	CHECK(ike_sa_get_state(a) == IKE_SA_ESTABLISHED &&
	    ike_sa_get_state(b) == IKE_SA_ESTABLISHED);
	CHECK(ike_sa_child(a) != NULL && ike_sa_child(a)->spi_in == SPI_A &&
	    ike_sa_child(b) != NULL && ike_sa_child(b)->spi_in == SPI_B);
	CHECK(sides[0].nup == 1 && sides[1].nup == 1);
}

/* The receiver's own request first (see the top), into pend. */
static void
own_request(struct ike_sa *sa, int which)
{
	uint32_t spi_in = ike_sa_child(sa)->spi_in;
	int rc = -1;

	switch (which) {
	case 1: rc = ike_sa_liveness(sa, pend, BUF, &pend_len); break;
	case 2: rc = ike_sa_rekey_child(sa, spi_in, next_spi++, pend, BUF, &pend_len); break;
	case 3: rc = ike_sa_rekey(sa, pend, BUF, &pend_len); break;
	case 4: rc = ike_sa_delete_child(sa, spi_in, pend, BUF, &pend_len); break;
	case 5: rc = ike_sa_delete(sa, pend, BUF, &pend_len); break;
	default: return;
	}
	CHECK(rc == 0 && pend_len > 0 && ike_sa_awaiting(sa));
}

static size_t
used_children(const struct ike_sa *sa, const struct side *s)
{
	size_t n = 0, k;

	if (sa == NULL)
		return 0;
	for (size_t i = 0; i < IKE_MAX_CHILDREN; i++) {
		const struct ike_child_slot *c = &sa->children[i];

		if (!c->used)
			continue;
		CHECK(c->announced);
		for (k = 0; k < s->nup && s->up[k] != c->c.spi_in; k++)
			;
		CHECK(k < s->nup); /* held but never announced, or announced down */
		n++;
	}
	return n;
}

static void
check_rekeyed(const struct ike_sa *n)
{
	CHECK(n->state == IKE_SA_ESTABLISHED && n->rekeyed == NULL && !n->awaiting);
}

/* A peer's Child SAs are the ones its events told, in its IKE SA or the rekeyed ones. */
static void
check_children(const struct ike_sa *sa, const struct side *s)
{
	size_t n = used_children(sa, s) + used_children(sa->rekeyed, s);

	for (size_t i = 0; i < s->ntaken; i++) {
		check_rekeyed(s->taken[i]);
		n += used_children(s->taken[i], s);
	}

	CHECK(sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_DELETING ||
	    sa->state == IKE_SA_DEAD);
	CHECK(n == s->nup && n <= IKE_MAX_CHILDREN);
	if (sa->state == IKE_SA_DELETING || sa->state == IKE_SA_DEAD)
		CHECK(used_children(sa, s) == 0);
	if (sa->rekeyed != NULL)
		check_rekeyed(sa->rekeyed);
}

static void
liveness(struct ike_sa *from, struct ike_sa *to)
{
	size_t len;

	CHECK(ike_sa_liveness(from, req, BUF, &len) == 0);
	complete(from, to, len);
	CHECK(ike_sa_get_state(from) == IKE_SA_ESTABLISHED &&
	    ike_sa_get_state(to) == IKE_SA_ESTABLISHED);
}

/* An answer of the receiver's: well-formed, its SA's, and one the sender can open. */
static void
check_sent(struct ike_sa *rcv, struct ike_sa *snd, const uint8_t *m, size_t len)
{
	uint8_t bad;

	CHECK(ike_msg_parse(m, len, &parsed, &bad) == IKE_PARSE_OK);
	CHECK(parsed.hdr.spi_i == rcv->spi_i && parsed.hdr.spi_r == rcv->spi_r);
	CHECK(ike_sa_open(snd, &parsed, plain, BUF) == 0);
}

/* The receiver's requests outstanding, real ones, reach the sender and the real answers
 * come back (a request in flight arrives after all; a follow-up request, a Delete after a
 * rekey, goes out), while the sender can take them. A few rounds: rekey, Delete, done. */
static void
pump(struct ike_sa *rcv, struct ike_sa *snd, struct side *rs, struct side *ss)
{
	size_t la, lo;

	for (int round = 0; round < 4 && rcv->awaiting && snd->state == IKE_SA_ESTABLISHED &&
	    (rcv->state == IKE_SA_ESTABLISHED || rcv->state == IKE_SA_DELETING); round++) {
		CHECK(input(snd, pend, pend_len, ans, &la) == 0 && la > 0);
		check_sent(snd, rcv, ans, la);
		CHECK(input(rcv, ans, la, out, &lo) == 0);
		if (lo > 0) {
			check_sent(rcv, snd, out, lo);
			CHECK((parsed.hdr.flags & IKE_FLAG_RESPONSE) == 0 && rcv->awaiting &&
			    parsed.hdr.msgid == rcv->req_msgid);
			memcpy(pend, out, lo);
			pend_len = lo;
		} else {
			CHECK(!rcv->awaiting);
		}
		check_children(rcv, rs);
		check_children(snd, ss);
	}
}

static void
run(struct ike_sa *a, struct ike_sa *b, const uint8_t *data, size_t size)
{
	const uint8_t ctl = data[0];
	const bool create = (ctl & C_CREATE) != 0, response = (ctl & C_RESPONSE) != 0;
	const uint8_t exchange = create ? IKE_CREATE_CHILD_SA : IKE_INFORMATIONAL;
	const bool from_b = (ctl & C_FROM_B) != 0;
	struct ike_sa *snd = from_b ? b : a, *rcv = from_b ? a : b;
	struct side *ss = from_b ? &sides[1] : &sides[0], *rs = from_b ? &sides[0] : &sides[1];
	int which = (ctl >> 3) & 7, rc;
	enum ike_sa_state before;
	uint32_t msgid, req_before, peer_before;
	bool awaiting_before;
	size_t len, lo;

	pend_len = 0;
	if (response) {
		/* The request the input answers, and the sender took it (its answer is lost). */
		which = create ? (which % 2 == 0 ? 2 : 3) : (which % 3 == 0 ? 1 : which % 3 == 1 ?
		    4 : 5);
		own_request(rcv, which);
		CHECK(input(snd, pend, pend_len, ans, &lo) == 0 && lo > 0);
	} else {
		own_request(rcv, which); /* in flight: the input crosses it */
		/* The sender has sent nothing yet: its next request is the one expected. */
		CHECK(snd->req_msgid == rcv->peer_msgid && !snd->awaiting);
	}
	msgid = response ? rcv->req_msgid : rcv->peer_msgid;
	if (ike_sa_seal(snd, exchange, response, msgid, data + 2, size - 2, data[1], msg, BUF,
	    &len) != 0)
		return; /* too long */

	before = rcv->state;
	awaiting_before = rcv->awaiting;
	req_before = rcv->req_msgid;
	peer_before = rcv->peer_msgid;
	rc = input(rcv, msg, len, out, &lo);

	CHECK(rcv->state == IKE_SA_ESTABLISHED || rcv->state == IKE_SA_DELETING ||
	    rcv->state == IKE_SA_DEAD);
	if (rc != 0) {
		/* Dropped: the SA is as it was (ike_sa.h). */
		CHECK(lo == 0 && rcv->state == before && rcv->awaiting == awaiting_before &&
		    rcv->req_msgid == req_before && rcv->peer_msgid == peer_before);
	} else if (response) {
		/* Taken: the window moved; an answer is the request that follows (a Delete
		 * after a rekey, the rekey again with another group). */
		CHECK(rcv->req_msgid == msgid + 1);
		if (lo > 0) {
			check_sent(rcv, snd, out, lo);
			CHECK((parsed.hdr.flags & IKE_FLAG_RESPONSE) == 0 && rcv->awaiting &&
			    parsed.hdr.msgid == rcv->req_msgid);
			memcpy(pend, out, lo);
			pend_len = lo;
		}
	} else {
		/* Taken: answered, and the window moved by one. */
		CHECK(lo > 0 && rcv->peer_msgid == msgid + 1);
		check_sent(rcv, snd, out, lo);
		CHECK((parsed.hdr.flags & IKE_FLAG_RESPONSE) != 0 && parsed.hdr.msgid == msgid &&
		    parsed.hdr.exchange == exchange);
		/* The sender did send it (the harness made it in its name): its next request
		 * is the next ID. */
		snd->req_msgid = msgid + 1;
	}
	check_children(rcv, rs);
	check_children(snd, ss);

	pump(rcv, snd, rs, ss);
	if (rcv->state != IKE_SA_ESTABLISHED)
		return;
	/* Still established: it still works both ways. The sender only ever answered. */
	CHECK(snd->state == IKE_SA_ESTABLISHED && !snd->awaiting);
	liveness(snd, rcv);
	if (!rcv->awaiting)
		liveness(rcv, snd);
	check_children(rcv, rs);
	check_children(snd, ss);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct ike_sa_events ev = { .child_up = ev_up, .child_down = ev_down, .spi = ev_spi };
	struct ike_sa *a, *b;

	if (size < 2)
		return 0;
	if (!ready) {
		setup();
		ready = 1;
	}
	rng_state = 0x5eed;
	next_spi = SPI_FRESH;
	memset(sides, 0, sizeof(sides));
	take_now = (data[0] & C_TAKE) != 0;
	a = ike_sa_new(&ca, true, SPI_A);
	b = ike_sa_new(&cb, false, SPI_B);
	CHECK(a != NULL && b != NULL);
	ev.ctx = &sides[0];
	ike_sa_set_events(a, &ev);
	ev.ctx = &sides[1];
	ike_sa_set_events(b, &ev);
	establish(a, b);
	run(a, b, data, size);
	for (int i = 0; i < 2; i++) {
		for (size_t k = 0; k < sides[i].ntaken; k++)
			ike_sa_free(sides[i].taken[k]);
	}
	ike_sa_free(ike_sa_take_rekeyed(a));
	ike_sa_free(ike_sa_take_rekeyed(b));
	ike_sa_free(a);
	ike_sa_free(b);
	return 0;
}
