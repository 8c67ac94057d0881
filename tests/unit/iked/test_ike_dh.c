/* Diffie-Hellman for IKEv2: every group two key pairs agree, with the lengths IKEv2
 * sends; Curve25519 gives RFC 7748 §6.1's known answer; hostile public values are refused
 * (wrong length, 0, 1 and p - 1 for MODP, points off the curve, small-order Curve25519
 * points); unknown groups are refused with a reason. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>

#include "ike_dh.h"
#include "vectors.h"

static const uint16_t groups[] = { 1, 2, 5, 14, 15, 16, 19, 20, 24, 31 };

Test(ike_dh, every_group_agrees)
{
	uint8_t a_secret[IKE_DH_MAX_PUBLIC], b_secret[IKE_DH_MAX_PUBLIC];
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		uint16_t g = groups[i];
		struct ike_dh *a = ike_dh_new(g, err, sizeof(err));
		struct ike_dh *b = ike_dh_new(g, err, sizeof(err));
		size_t pl = ike_dh_public_len(g), sl = ike_dh_shared_len(g);

		cr_assert(a != NULL && b != NULL, "group %u: %s", g, err);
		cr_assert_neq(memcmp(ike_dh_public(a), ike_dh_public(b), pl), 0);
		cr_assert_eq(ike_dh_shared(a, ike_dh_public(b), pl, a_secret, err, sizeof(err)), 0,
		    "group %u: %s", g, err);
		cr_assert_eq(ike_dh_shared(b, ike_dh_public(a), pl, b_secret, err, sizeof(err)), 0,
		    "group %u: %s", g, err);
		cr_assert_eq(memcmp(a_secret, b_secret, sl), 0, "group %u: both sides agree", g);
		ike_dh_free(a);
		ike_dh_free(b);
	}
	cr_assert_eq(ike_dh_public_len(14), 256);
	cr_assert_eq(ike_dh_public_len(19), 64);
	cr_assert_eq(ike_dh_shared_len(19), 32, "ECP: the x coordinate (RFC 5903 §7)");
	cr_assert_eq(ike_dh_public_len(31), 32);
}

Test(ike_dh, curve25519_rfc7748)
{
	uint8_t alice[32], bob_pub[32], want[32], got[32];
	char err[128];
	struct ike_dh *dh;

	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", alice, 32);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", bob_pub, 32);
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want, 32);
	dh = ike_dh_new_x25519(alice);
	cr_assert_not_null(dh);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", got, 32);
	cr_assert_eq(memcmp(ike_dh_public(dh), got, 32), 0, "Alice's public key");
	cr_assert_eq(ike_dh_shared(dh, bob_pub, 32, got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(got, want, 32), 0, "the shared secret");
	ike_dh_free(dh);
}

Test(ike_dh, hostile_public_values_are_refused)
{
	uint8_t value[IKE_DH_MAX_PUBLIC], out[IKE_DH_MAX_PUBLIC];
	char err[256];
	struct ike_dh *dh;
	BIGNUM *p;

	dh = ike_dh_new(14, err, sizeof(err));
	cr_assert_not_null(dh, "%s", err);
	memset(value, 0, sizeof(value));
	cr_assert_eq(ike_dh_shared(dh, value, 255, out, err, sizeof(err)), -1, "short");
	cr_assert_eq(ike_dh_shared(dh, value, 256, out, err, sizeof(err)), -1, "zero");
	value[255] = 1;
	cr_assert_eq(ike_dh_shared(dh, value, 256, out, err, sizeof(err)), -1, "one");
	p = BN_get_rfc3526_prime_2048(NULL);
	cr_assert_not_null(p);
	cr_assert(BN_sub_word(p, 1));
	cr_assert_eq(BN_bn2binpad(p, value, 256), 256);
	cr_assert_eq(ike_dh_shared(dh, value, 256, out, err, sizeof(err)), -1, "p - 1");
	cr_assert(BN_add_word(p, 2));
	cr_assert_eq(BN_bn2binpad(p, value, 256), 256);
	cr_assert_eq(ike_dh_shared(dh, value, 256, out, err, sizeof(err)), -1, "p + 1");
	BN_free(p);
	ike_dh_free(dh);

	dh = ike_dh_new(19, err, sizeof(err));
	cr_assert_not_null(dh, "%s", err);
	memset(value, 0x5a, 64);
	cr_assert_eq(ike_dh_shared(dh, value, 64, out, err, sizeof(err)), -1,
	    "a point off P-256");
	memset(value, 0, 64);
	cr_assert_eq(ike_dh_shared(dh, value, 64, out, err, sizeof(err)), -1, "the zero point");
	ike_dh_free(dh);

	dh = ike_dh_new(31, err, sizeof(err));
	cr_assert_not_null(dh, "%s", err);
	memset(value, 0, 32);
	cr_assert_eq(ike_dh_shared(dh, value, 32, out, err, sizeof(err)), -1,
	    "a small-order Curve25519 point");
	cr_assert(strstr(err, "small order") != NULL, "%s", err);
	ike_dh_free(dh);
}

Test(ike_dh, unknown_groups_are_refused)
{
	char err[128] = "";

	cr_assert(!ike_dh_supported(3));
	cr_assert_null(ike_dh_new(3, err, sizeof(err)));
	cr_assert_str_eq(err, "DH group 3 is not supported");
	cr_assert_eq(ike_dh_public_len(18), 0);
}
