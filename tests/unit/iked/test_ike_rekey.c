/* CREATE_CHILD_SA between two peers in one process: a Child SA rekey with PFS (new keys
 * that mirror each other, the old Child SA deleted in the request that follows, both
 * sides hearing of it), an IKE SA rekey (a new IKE SA with new SPIs that carries the
 * Child SA and works, the old one deleted), a rekey that both sides start at once
 * (§2.8.1: exactly one new Child SA survives, the same on both sides), a refused rekey
 * that leaves everything as it was. */
#include <criterion/criterion.h>
#include <string.h>

#include "ike_proposal.h"
#include "ike_sa.h"

#include "ike_fixture.h"

enum { BUF = IKE_FX_BUF };

/* What the events said, per side. */
struct seen {
	int up, down;
	uint32_t last_up_in, last_down_in;
	uint32_t next_spi;
};

static void
on_up(void *ctx, struct ike_sa *sa, const struct ike_child *c)
{
	struct seen *s = ctx;

	(void)sa;
	s->up++;
	s->last_up_in = c->spi_in;
}

static void
on_down(void *ctx, struct ike_sa *sa, const struct ike_child *c, const char *why)
{
	struct seen *s = ctx;

	(void)sa;
	(void)why;
	s->down++;
	s->last_down_in = c->spi_in;
}

static uint32_t
on_spi(void *ctx, struct ike_sa *sa, uint8_t protocol)
{
	struct seen *s = ctx;

	(void)sa;
	(void)protocol;
	return s->next_spi++;
}

static struct seen sa_seen, sb_seen;
static struct ike_peer_cfg ca, cb;
static struct ike_sa *a, *b;
static uint8_t m1[BUF], m2[BUF];

/* Two established peers with PFS (group 14) on their Child SA proposals. */
static void
setup(void)
{
	struct ike_sa_events ea = { on_up, on_down, on_spi, &sa_seen };
	struct ike_sa_events eb = { on_up, on_down, on_spi, &sb_seen };
	Picsec__V1__IpsecProposal p = PICSEC__V1__IPSEC_PROPOSAL__INIT;
	static const uint8_t zero[4];
	char err[128];

	memset(&sa_seen, 0, sizeof(sa_seen));
	memset(&sb_seen, 0, sizeof(sb_seen));
	sa_seen.next_spi = 0xa0000000;
	sb_seen.next_spi = 0xb0000000;
	ike_fx_configs(&ca, &cb);
	p.name = (char *)(uintptr_t)"pfs";
	p.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	p.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC;
	p.authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128;
	cr_assert_eq(ike_proposal_from_ipsec(&p, 1, PICSEC__V1__DH_GROUP__DH_GROUP_14, zero,
	    &ca.child[0], err, sizeof(err)), 0, "%s", err);
	cb.child[0] = ca.child[0];
	ca.nchild = cb.nchild = 1;
	a = ike_sa_new(&ca, true, 0x1000);
	b = ike_sa_new(&cb, false, 0x2000);
	ike_sa_set_events(a, &ea);
	ike_sa_set_events(b, &eb);
	cr_assert_eq(ike_fx_converse(a, b), 4);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_ESTABLISHED, "%s", ike_sa_error(b));
	cr_assert_eq(sa_seen.up, 1);
	cr_assert_eq(sb_seen.up, 1);
}

static void
teardown(void)
{
	ike_sa_free(a);
	ike_sa_free(b);
}

/* One message from x into y; y's answer (if any) in m2, its length returned. */
static size_t
deliver(struct ike_sa *y, const uint8_t *msg, size_t len, uint8_t *answer)
{
	size_t out = 0;

	cr_assert_eq(ike_sa_input(y, msg, len, answer, BUF, &out), 0, "the message was taken");
	return out;
}

/* The Child SA of sa whose inbound SPI is spi, by walking what ike_sa_child shows: the
 * public API shows the first; the events tell the rest. */
TestSuite(rekey, .init = setup, .fini = teardown);

Test(rekey, a_child_sa_rekey_with_pfs_replaces_the_old_one_on_both_sides)
{
	size_t len, rlen, dlen;
	uint32_t old_a = ike_sa_child(a)->spi_in, old_b = ike_sa_child(b)->spi_in;

	cr_assert_eq(ike_sa_rekey_child(a, old_a, 0xa1000000, m1, BUF, &len), 0);
	cr_assert(ike_sa_awaiting(a));
	cr_assert_eq(m1[18], 36, "CREATE_CHILD_SA");
	rlen = deliver(b, m1, len, m2);
	cr_assert_gt(rlen, 0);
	cr_assert_eq(sb_seen.up, 2, "the responder installs the new Child SA at once");
	cr_assert_eq(sb_seen.last_up_in, 0xb0000000, "with an SPI from its callback");
	dlen = deliver(a, m2, rlen, m1);
	cr_assert_eq(sa_seen.up, 2, "the initiator's new Child SA");
	cr_assert_eq(sa_seen.last_up_in, 0xa1000000);
	cr_assert_gt(dlen, 0, "and the Delete of the old one follows");
	cr_assert_eq(sa_seen.down, 1);
	cr_assert_eq(sa_seen.last_down_in, old_a);
	rlen = deliver(b, m1, dlen, m2);
	cr_assert_eq(sb_seen.down, 1, "the responder's old Child SA goes with the Delete");
	cr_assert_eq(sb_seen.last_down_in, old_b);
	deliver(a, m2, rlen, m1);
	cr_assert_not(ike_sa_awaiting(a));
	cr_assert_eq(ike_sa_child(a)->spi_in, 0xa1000000);
	cr_assert_eq(ike_sa_child(b)->spi_in, 0xb0000000);
	cr_assert_eq(ike_sa_child(a)->spi_out, 0xb0000000);
	ike_fx_assert_mirrored(ike_sa_child(a), ike_sa_child(b));
	cr_assert_eq(ike_proposal_get(&ike_sa_child(a)->chosen, IKE_TF_DH)->id, 14,
	    "PFS: the group was negotiated");
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_ESTABLISHED);
}

Test(rekey, the_responder_can_rekey_the_child_sa_too)
{
	size_t len, rlen, dlen;
	uint32_t old_b = ike_sa_child(b)->spi_in;

	cr_assert_eq(ike_sa_rekey_child(b, old_b, 0xb1000000, m1, BUF, &len), 0);
	cr_assert_eq(m1[20] | m1[21] | m1[22] | m1[23], 0, "the responder's first request: ID 0");
	rlen = deliver(a, m1, len, m2);
	dlen = deliver(b, m2, rlen, m1);
	cr_assert_gt(dlen, 0);
	rlen = deliver(a, m1, dlen, m2);
	deliver(b, m2, rlen, m1);
	cr_assert_eq(sa_seen.up, 2);
	cr_assert_eq(sb_seen.down, 1);
	cr_assert_eq(sa_seen.down, 1);
	ike_fx_assert_mirrored(ike_sa_child(a), ike_sa_child(b));
}

Test(rekey, an_ike_sa_rekey_makes_a_new_ike_sa_that_carries_the_child_sa)
{
	struct ike_sa *na, *nb;
	size_t len, rlen, dlen;
	uint64_t old_i = ike_sa_spi_i(a);
	uint32_t child_a = ike_sa_child(a)->spi_in;

	cr_assert_eq(ike_sa_rekey(a, m1, BUF, &len), 0);
	rlen = deliver(b, m1, len, m2);
	cr_assert_gt(rlen, 0);
	nb = ike_sa_take_rekeyed(b);
	cr_assert_not_null(nb, "the responder has the new IKE SA");
	dlen = deliver(a, m2, rlen, m1);
	na = ike_sa_take_rekeyed(a);
	cr_assert_not_null(na);
	cr_assert_gt(dlen, 0, "the old IKE SA's Delete follows");
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_DELETING);
	cr_assert_eq(ike_sa_spi_i(na), ike_sa_spi_i(nb));
	cr_assert_eq(ike_sa_spi_r(na), ike_sa_spi_r(nb));
	cr_assert_neq(ike_sa_spi_i(na), old_i, "new SPIs");
	cr_assert(ike_sa_initiator(na) && !ike_sa_initiator(nb));
	cr_assert_eq(ike_sa_child(na)->spi_in, child_a, "the Child SA moved, unchanged");
	cr_assert_null(ike_sa_child(a));
	rlen = deliver(b, m1, dlen, m2);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_DEAD, "the old one goes at the responder");
	deliver(a, m2, rlen, m1);
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_DEAD);
	cr_assert_eq(sa_seen.down + sb_seen.down, 0, "no Child SA went down");
	/* The new IKE SA works: a liveness check each way, message IDs from 0. */
	cr_assert_eq(ike_sa_liveness(na, m1, BUF, &len), 0);
	cr_assert_eq(m1[20] | m1[21] | m1[22] | m1[23], 0);
	rlen = deliver(nb, m1, len, m2);
	deliver(na, m2, rlen, m1);
	cr_assert_not(ike_sa_awaiting(na));
	cr_assert_eq(ike_sa_liveness(nb, m1, BUF, &len), 0);
	rlen = deliver(na, m1, len, m2);
	deliver(nb, m2, rlen, m1);
	cr_assert_not(ike_sa_awaiting(nb));
	/* And a Child SA rekey under it derives from its new SK_d. */
	cr_assert_eq(ike_sa_rekey_child(na, child_a, 0xa2000000, m1, BUF, &len), 0);
	rlen = deliver(nb, m1, len, m2);
	dlen = deliver(na, m2, rlen, m1);
	rlen = deliver(nb, m1, dlen, m2);
	deliver(na, m2, rlen, m1);
	ike_fx_assert_mirrored(ike_sa_child(na), ike_sa_child(nb));
	ike_sa_free(na);
	ike_sa_free(nb);
}

Test(rekey, both_sides_rekeying_one_child_sa_keep_exactly_one)
{
	uint8_t qa[BUF], qb[BUF], ra[BUF], rb[BUF], da[BUF], db[BUF];
	size_t la, lb, lra, lrb, lda, ldb, x;
	uint32_t old_a = ike_sa_child(a)->spi_in, old_b = ike_sa_child(b)->spi_in;

	cr_assert_eq(ike_sa_rekey_child(a, old_a, 0xa1000000, qa, BUF, &la), 0);
	cr_assert_eq(ike_sa_rekey_child(b, old_b, 0xb1000000, qb, BUF, &lb), 0);
	lrb = deliver(b, qa, la, rb); /* b answers a's request */
	lra = deliver(a, qb, lb, ra); /* a answers b's */
	lda = deliver(a, rb, lrb, da); /* a gets its answer: a Delete follows */
	ldb = deliver(b, ra, lra, db);
	cr_assert_gt(lda, 0);
	cr_assert_gt(ldb, 0);
	x = deliver(b, da, lda, rb);
	deliver(a, rb, x, ra);
	x = deliver(a, db, ldb, ra);
	deliver(b, ra, x, rb);
	/* Four Child SAs were made (two per side... one per exchange, each on both sides);
	 * the old one and the redundant new one are gone on both sides. */
	cr_assert_eq(sa_seen.up, 3);
	cr_assert_eq(sb_seen.up, 3);
	cr_assert_eq(sa_seen.down, 2, "a: the old and the redundant one went");
	cr_assert_eq(sb_seen.down, 2, "b: the old and the redundant one went");
	cr_assert_not_null(ike_sa_child(a));
	ike_fx_assert_mirrored(ike_sa_child(a), ike_sa_child(b));
}

Test(rekey, a_rekey_the_peer_cannot_serve_leaves_the_child_sa_alone)
{
	size_t len, rlen, dlen;
	uint32_t old_a = ike_sa_child(a)->spi_in;

	sb_seen.next_spi = 0; /* b has no SPI at hand: TEMPORARY_FAILURE */
	cr_assert_eq(ike_sa_rekey_child(a, old_a, 0xa1000000, m1, BUF, &len), 0);
	rlen = deliver(b, m1, len, m2);
	cr_assert_gt(rlen, 0);
	dlen = deliver(a, m2, rlen, m1);
	cr_assert_eq(dlen, 0, "nothing follows a refusal");
	cr_assert_not(ike_sa_awaiting(a));
	cr_assert_eq(sa_seen.up + sb_seen.up, 2);
	cr_assert_eq(sa_seen.down + sb_seen.down, 0);
	cr_assert_eq(ike_sa_child(a)->spi_in, old_a);
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_ESTABLISHED);
	/* A request for a Child SA b does not have: CHILD_SA_NOT_FOUND, nothing changes. */
	cr_assert_eq(ike_sa_rekey_child(a, 0x12345678, 0xa1000001, m1, BUF, &len), -1,
	    "our own unknown Child SA is refused before anything is sent");
}

/* Both ends rekeying the IKE SA at once (§2.8.2): the one that sees the other's request
 * while its own is out answers TEMPORARY_FAILURE; its own completes, and both ends hold
 * the same new IKE SA with the Child SA. (Both refusing each other is possible too: then
 * neither changes anything, and each tries again later.) */
Test(rekey, both_ends_rekeying_the_ike_sa_end_with_one_new_ike_sa)
{
	uint8_t qa[BUF], qb[BUF], ra[BUF], rb[BUF], d[BUF];
	size_t la, lb, lra, lrb, ld, x;
	struct ike_sa *na, *nb;

	cr_assert_eq(ike_sa_rekey(a, qa, BUF, &la), 0);
	cr_assert_eq(ike_sa_rekey(b, qb, BUF, &lb), 0);
	lra = deliver(a, qb, lb, ra);	/* a, rekeying itself, refuses b's */
	cr_assert_null(ike_sa_take_rekeyed(a));
	lrb = deliver(b, qa, la, rb);	/* b, rekeying too, refuses a's */
	cr_assert_null(ike_sa_take_rekeyed(b));
	x = deliver(b, ra, lra, d);	/* b hears the refusal: nothing follows */
	cr_assert_eq(x, 0);
	x = deliver(a, rb, lrb, d);
	cr_assert_eq(x, 0);
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_ESTABLISHED);
	cr_assert_not(ike_sa_awaiting(a));
	cr_assert_not(ike_sa_awaiting(b));
	/* Later, one of them again: it completes as usual. */
	cr_assert_eq(ike_sa_rekey(a, qa, BUF, &la), 0);
	lrb = deliver(b, qa, la, rb);
	nb = ike_sa_take_rekeyed(b);
	ld = deliver(a, rb, lrb, d);
	na = ike_sa_take_rekeyed(a);
	cr_assert(na != NULL && nb != NULL);
	cr_assert_eq(ike_sa_spi_i(na), ike_sa_spi_i(nb));
	cr_assert_not_null(ike_sa_child(na));
	cr_assert_not_null(ike_sa_child(nb));
	ike_fx_assert_mirrored(ike_sa_child(na), ike_sa_child(nb));
	x = deliver(b, d, ld, rb);
	deliver(a, rb, x, d);
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_DEAD);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_DEAD);
	ike_sa_free(na);
	ike_sa_free(nb);
}

/* A Child SA rekey answered with an SPI no ESP SA may have is refused: nothing installed. */
Test(rekey, an_answer_with_a_reserved_spi_installs_nothing)
{
	size_t len, rlen, dlen;
	uint32_t old_a = ike_sa_child(a)->spi_in;

	sb_seen.next_spi = 5; /* b's SPI source is broken: SPI 5 */
	cr_assert_eq(ike_sa_rekey_child(a, old_a, 0xa1000000, m1, BUF, &len), 0);
	rlen = deliver(b, m1, len, m2);
	cr_assert_gt(rlen, 0, "b refuses itself (TEMPORARY_FAILURE): SPIs under 256 are reserved");
	dlen = deliver(a, m2, rlen, m1);
	cr_assert_eq(dlen, 0);
	cr_assert_eq(sa_seen.up, 1, "no new Child SA at a");
	cr_assert_eq(ike_sa_child(a)->spi_in, old_a);
}
