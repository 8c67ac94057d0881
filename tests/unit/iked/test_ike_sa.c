/* Two IKE peers in one process (strongSwan's way of testing exchanges): the initiator's
 * messages go straight into the responder and back. IKE_SA_INIT and IKE_AUTH establish an
 * IKE SA and a Child SA whose keys mirror each other; INVALID_KE_PAYLOAD brings a retry
 * with the responder's group; a wrong pre-shared key, no common proposal and unacceptable
 * traffic selectors end in the right notify and reason; a tampered message is dropped and
 * the real one still works; a retransmitted request gets the same answer. */
#include <criterion/criterion.h>
#include <string.h>

#include "ike_build.h"
#include "ike_proposal.h"
#include "ike_sa.h"

#include "ike_fixture.h"

enum { BUF = IKE_FX_BUF };

Test(ike_sa, ike_sa_init_and_ike_auth_establish_both_sas)
{
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;
	const struct ike_child *x, *y;

	ike_fx_configs(&ca, &cb);
	a = ike_sa_new(&ca, true, 0xc0000001);
	b = ike_sa_new(&cb, false, 0xc0000002);
	cr_assert_eq(ike_fx_converse(a, b), 4, "two exchanges, four messages");
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_ESTABLISHED, "%s", ike_sa_error(a));
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_ESTABLISHED, "%s", ike_sa_error(b));
	cr_assert_eq(ike_sa_spi_i(a), ike_sa_spi_i(b));
	cr_assert_eq(ike_sa_spi_r(a), ike_sa_spi_r(b));
	x = ike_sa_child(a);
	y = ike_sa_child(b);
	cr_assert(x != NULL && y != NULL);
	cr_assert_eq(x->spi_in, 0xc0000001);
	cr_assert_eq(y->spi_in, 0xc0000002);
	cr_assert_eq(x->encr_len, 16);
	cr_assert_eq(x->integ_len, 20);
	ike_fx_assert_mirrored(x, y);
	cr_assert_eq(x->ts_local.ts[0].start[2], 1, "the initiator's side is 198.18.1.0/24");
	cr_assert_eq(y->ts_local.ts[0].start[2], 2);
	ike_sa_free(a);
	ike_sa_free(b);
}

Test(ike_sa, aes_gcm_and_ecp384_establish_too)
{
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;

	ike_fx_configs(&ca, &cb);
	ca.nike = ca.nchild = 0;
	ike_fx_add_ike(&ca, PICSEC__V1__ENC_ALGORITHM__ENC_AES256_GCM,
	    PICSEC__V1__IKE_HASH__IKE_HASH_SHA384, PICSEC__V1__DH_GROUP__DH_GROUP_20);
	ike_fx_add_child(&ca, PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM,
	    PICSEC__V1__AUTH_ALGORITHM__AUTH_NONE);
	memcpy(cb.ike, ca.ike, sizeof(ca.ike));
	memcpy(cb.child, ca.child, sizeof(ca.child));
	cb.nike = cb.nchild = 1;
	a = ike_sa_new(&ca, true, 1000);
	b = ike_sa_new(&cb, false, 2000);
	cr_assert_eq(ike_fx_converse(a, b), 4);
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_ESTABLISHED, "%s", ike_sa_error(a));
	cr_assert_eq(ike_sa_child(a)->encr_len, 20, "AES-128-GCM key and salt");
	cr_assert_eq(ike_sa_child(a)->integ_len, 0);
	ike_fx_assert_mirrored(ike_sa_child(a), ike_sa_child(b));
	ike_sa_free(a);
	ike_sa_free(b);
}

Test(ike_sa, invalid_ke_payload_brings_a_retry_with_the_responders_group)
{
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;

	ike_fx_configs(&ca, &cb);
	/* A offers ECP-256 first, Curve25519 second; B takes only Curve25519. */
	ca.nike = 0;
	ike_fx_add_ike(&ca, PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC,
	    PICSEC__V1__IKE_HASH__IKE_HASH_SHA256, PICSEC__V1__DH_GROUP__DH_GROUP_19);
	ike_fx_add_ike(&ca, PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC,
	    PICSEC__V1__IKE_HASH__IKE_HASH_SHA256, PICSEC__V1__DH_GROUP__DH_GROUP_31);
	a = ike_sa_new(&ca, true, 0x1001);
	b = ike_sa_new(&cb, false, 0x1002);
	cr_assert_eq(ike_fx_converse(a, b), 6, "one more round trip");
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_ESTABLISHED, "%s", ike_sa_error(a));
	cr_assert_eq(ike_proposal_get(ike_sa_proposal(a), IKE_TF_DH)->id, 31);
	ike_sa_free(a);
	ike_sa_free(b);
}

Test(ike_sa, a_wrong_psk_fails_on_both_sides)
{
	static const uint8_t other[] = "not the same secret";
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;

	ike_fx_configs(&ca, &cb);
	cb.psk = other;
	cb.psk_len = sizeof(other) - 1;
	a = ike_sa_new(&ca, true, 0x1001);
	b = ike_sa_new(&cb, false, 0x1002);
	cr_assert_eq(ike_fx_converse(a, b), 4, "the refusal is an answer too");
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_DEAD);
	cr_assert(strstr(ike_sa_error(b), "AUTH") != NULL, "%s", ike_sa_error(b));
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_DEAD);
	cr_assert(strstr(ike_sa_error(a), "refused our AUTH") != NULL, "%s", ike_sa_error(a));
	cr_assert_null(ike_sa_child(a));
	ike_sa_free(a);
	ike_sa_free(b);
}

Test(ike_sa, no_common_proposal_is_said)
{
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;

	ike_fx_configs(&ca, &cb);
	cb.nike = 0;
	ike_fx_add_ike(&cb, PICSEC__V1__ENC_ALGORITHM__ENC_3DES_CBC, PICSEC__V1__IKE_HASH__IKE_HASH_MD5,
	    PICSEC__V1__DH_GROUP__DH_GROUP_2);
	static uint8_t m1[BUF], m2[BUF], m3[BUF];
	size_t len, rlen, olen;

	a = ike_sa_new(&ca, true, 0x1001);
	b = ike_sa_new(&cb, false, 0x1002);
	cr_assert_eq(ike_sa_start(a, m1, BUF, &len), 0);
	cr_assert_eq(ike_sa_input(b, m1, len, m2, BUF, &rlen), 0);
	cr_assert_gt(rlen, 0, "NO_PROPOSAL_CHOSEN");
	cr_assert(strstr(ike_sa_error(b), "none of the initiator's") != NULL, "%s",
	    ike_sa_error(b));
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_IDLE, "the responder kept no state");
	/* Unauthenticated: anyone could have sent it (§2.21). Noted, not believed yet: the
	 * initiator keeps waiting for a real answer until it gives up, with the reason. */
	cr_assert_eq(ike_sa_input(a, m2, rlen, m3, BUF, &olen), -1);
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_INIT_SENT);
	cr_assert(strstr(ike_sa_error(a), "none of our IKE proposals") != NULL, "%s",
	    ike_sa_error(a));
	ike_sa_give_up(a, ike_sa_error(a));
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_DEAD);
	cr_assert(strstr(ike_sa_error(a), "none of our IKE proposals") != NULL, "%s",
	    ike_sa_error(a));
	ike_sa_free(a);
	ike_sa_free(b);
}

Test(ike_sa, traffic_selectors_outside_the_responders_are_refused)
{
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;

	ike_fx_configs(&ca, &cb);
	ike_fx_ts(&ca.remote_ts, 3); /* A asks for 198.18.3.0/24 behind B */
	a = ike_sa_new(&ca, true, 0x1001);
	b = ike_sa_new(&cb, false, 0x1002);
	ike_fx_converse(a, b);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_DEAD);
	cr_assert(strstr(ike_sa_error(b), "traffic selectors") != NULL, "%s", ike_sa_error(b));
	cr_assert_null(ike_sa_child(a));
	ike_sa_free(a);
	ike_sa_free(b);
}

Test(ike_sa, tampering_is_dropped_and_retransmissions_answered_alike)
{
	static uint8_t m1[BUF], m2[BUF], m3[BUF], again[BUF], bad[BUF];
	size_t l1, l2, l3, la;
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;
	size_t i;

	ike_fx_configs(&ca, &cb);
	a = ike_sa_new(&ca, true, 0x1001);
	b = ike_sa_new(&cb, false, 0x1002);
	cr_assert_eq(ike_sa_start(a, m1, BUF, &l1), 0);
	cr_assert_eq(ike_sa_input(b, m1, l1, m2, BUF, &l2), 0);
	/* The same request again: the same response, byte for byte. */
	cr_assert_eq(ike_sa_input(b, m1, l1, again, BUF, &la), 0);
	cr_assert_eq(la, l2);
	cr_assert_eq(memcmp(again, m2, l2), 0);
	cr_assert_eq(ike_sa_input(a, m2, l2, m3, BUF, &l3), 0);
	/* Any changed octet of the IKE_AUTH request is dropped, and changes nothing. */
	for (i = 0; i < l3; i += 7) {
		memcpy(bad, m3, l3);
		bad[i] ^= 0x10;
		cr_assert_eq(ike_sa_input(b, bad, l3, again, BUF, &la), -1, "octet %zu", i);
		cr_assert_eq(la, 0);
		cr_assert_eq(ike_sa_get_state(b), IKE_SA_INIT_DONE);
	}
	cr_assert_eq(ike_sa_input(b, m3, l3, m2, BUF, &l2), 0);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_ESTABLISHED, "%s", ike_sa_error(b));
	cr_assert_eq(ike_sa_input(a, m2, l2, m1, BUF, &l1), 0);
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_ESTABLISHED, "%s", ike_sa_error(a));
	ike_sa_free(a);
	ike_sa_free(b);
}

Test(ike_sa, pfs_is_no_dh_transform_in_ike_auth)
{
	Picsec__V1__IpsecProposal p = PICSEC__V1__IPSEC_PROPOSAL__INIT;
	static const uint8_t zero[4];
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;
	char err[128];

	ike_fx_configs(&ca, &cb);
	p.name = (char *)(uintptr_t)"pfs";
	p.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	p.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	p.authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	cr_assert_eq(ike_proposal_from_ipsec(&p, 1, PICSEC__V1__DH_GROUP__DH_GROUP_14, zero,
	    &ca.child[0], err, sizeof(err)), 0);
	cb.child[0] = ca.child[0];
	cr_assert_not_null(ike_proposal_get(&ca.child[0], IKE_TF_DH), "PFS configured");
	a = ike_sa_new(&ca, true, 0x1001);
	b = ike_sa_new(&cb, false, 0x1002);
	cr_assert_eq(ike_fx_converse(a, b), 4);
	cr_assert_not_null(ike_sa_child(a), "%s", ike_sa_error(a));
	cr_assert_null(ike_proposal_get(&ike_sa_child(a)->chosen, IKE_TF_DH),
	    "the first Child SA's proposal carries no DH (RFC 7296 §1.2)");
	ike_sa_free(a);
	ike_sa_free(b);
}

/* A busy responder answers with a COOKIE (§2.6): the initiator sends IKE_SA_INIT again
 * with the cookie first and the rest unchanged (same SPI, nonce and KE), and a second
 * cookie request for the same attempt is not followed (it would be a loop). */
Test(ike_sa, a_cookie_request_is_answered_with_the_cookie_first_and_nothing_else_changed)
{
	static uint8_t m1[BUF], m1c[BUF], busy[256], m2[BUF];
	static const uint8_t cookie[] = "\x01" "0123456789abcdef";
	struct ike_peer_cfg ca, cb;
	struct ike_header h = { .exchange = IKE_SA_INIT, .flags = IKE_FLAG_RESPONSE };
	struct ike_writer w;
	struct ike_sa *a, *b;
	size_t len, clen, blen, rlen;

	ike_fx_configs(&ca, &cb);
	a = ike_sa_new(&ca, true, 0x3001);
	b = ike_sa_new(&cb, false, 0x3002);
	cr_assert_eq(ike_sa_start(a, m1, BUF, &len), 0);
	h.spi_i = ike_sa_spi_i(a);
	ike_w_message(&w, busy, sizeof(busy), &h);
	ike_w_notify(&w, 0, IKE_N_COOKIE, NULL, 0, cookie, sizeof(cookie) - 1);
	cr_assert_gt(blen = ike_w_finish(&w), 0);
	cr_assert_eq(ike_sa_input(a, busy, blen, m1c, BUF, &clen), 0);
	cr_assert_gt(clen, len, "the request again, longer by the cookie");
	cr_assert_eq(m1c[16], IKE_PL_NOTIFY, "the cookie comes first");
	cr_assert_eq(memcmp(m1c + IKE_HDR_LEN + 8, cookie, sizeof(cookie) - 1), 0);
	cr_assert_eq(memcmp(m1c + IKE_HDR_LEN + 8 + sizeof(cookie) - 1, m1 + IKE_HDR_LEN,
	    len - IKE_HDR_LEN), 0, "SA, KE and nonce unchanged");
	cr_assert_eq(ike_sa_input(a, busy, blen, m2, BUF, &rlen), -1,
	    "a second cookie request is dropped");
	/* The real responder takes the request with the cookie, and the SA comes up. */
	cr_assert_eq(ike_sa_input(b, m1c, clen, m2, BUF, &rlen), 0);
	cr_assert_eq(ike_sa_input(a, m2, rlen, m1, BUF, &len), 0);
	cr_assert_eq(ike_sa_input(b, m1, len, m2, BUF, &rlen), 0);
	cr_assert_eq(ike_sa_input(a, m2, rlen, m1, BUF, &len), 0);
	cr_assert_eq(ike_sa_get_state(a), IKE_SA_ESTABLISHED, "%s", ike_sa_error(a));
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_ESTABLISHED, "%s", ike_sa_error(b));
	ike_sa_free(a);
	ike_sa_free(b);
}

Test(ike_sa, initial_contact_reaches_the_responder_only_when_said)
{
	struct ike_peer_cfg ca, cb;
	struct ike_sa *a, *b;

	ike_fx_configs(&ca, &cb);
	a = ike_sa_new(&ca, true, 0x4001);
	b = ike_sa_new(&cb, false, 0x4002);
	ike_fx_converse(a, b);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_ESTABLISHED);
	cr_assert_not(ike_sa_peer_initial_contact(b));
	ike_sa_free(a);
	ike_sa_free(b);
	a = ike_sa_new(&ca, true, 0x4003);
	b = ike_sa_new(&cb, false, 0x4004);
	ike_sa_set_initial_contact(a, true);
	ike_fx_converse(a, b);
	cr_assert_eq(ike_sa_get_state(b), IKE_SA_ESTABLISHED);
	cr_assert(ike_sa_peer_initial_contact(b));
	ike_sa_free(a);
	ike_sa_free(b);
}
