/* IKE SA keys: the lengths the transforms ask for, and the seven keys cut from NIST's CAVP
 * IKEv2 keying material in RFC 7296 §2.14's order (the vector's 1056 bits are exactly
 * HMAC-SHA1 PRF, HMAC-SHA1-96 integrity and AES-128 encryption). PSK AUTH is checked
 * against Python's hmac in tests/vectors/test_ike_sk_xcheck.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "ike_keys.h"
#include "ike_sk.h"
#include "vectors.h"

static struct ike_proposal
proposal(uint16_t encr, uint16_t bits, uint16_t prf, uint16_t integ)
{
	struct ike_proposal p;

	memset(&p, 0, sizeof(p));
	p.protocol = IKE_PROTO_IKE;
	p.transforms[p.ntransforms++] = (struct ike_transform){ IKE_TF_ENCR, encr, bits };
	p.transforms[p.ntransforms++] = (struct ike_transform){ IKE_TF_PRF, prf, 0 };
	if (integ != 0)
		p.transforms[p.ntransforms++] = (struct ike_transform){ IKE_TF_INTEG, integ, 0 };
	p.transforms[p.ntransforms++] = (struct ike_transform){ IKE_TF_DH, 14, 0 };
	return p;
}

Test(ike_keys, the_transforms_set_the_lengths)
{
	struct ike_proposal p = proposal(IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
	    IKE_INTEG_HMAC_SHA2_256_128);
	struct ike_key_lengths l;

	cr_assert_eq(ike_key_lengths(&p, &l), 0);
	cr_assert(l.prf == 32 && l.integ == 32 && l.encr == 16);
	p = proposal(IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384, 0);
	cr_assert_eq(ike_key_lengths(&p, &l), 0);
	cr_assert(l.prf == 48 && l.integ == 0 && l.encr == 36, "GCM: key and salt");
	p = proposal(IKE_ENCR_3DES, 0, IKE_PRF_HMAC_MD5, IKE_INTEG_HMAC_MD5_96);
	cr_assert_eq(ike_key_lengths(&p, &l), 0);
	cr_assert(l.prf == 16 && l.integ == 16 && l.encr == 24);
	p = proposal(IKE_ENCR_AES_CBC, 100, IKE_PRF_HMAC_SHA1, IKE_INTEG_HMAC_SHA1_96);
	cr_assert_eq(ike_key_lengths(&p, &l), -1, "an AES key of 100 bits");
	p = proposal(IKE_ENCR_AES_CBC, 128, 99, IKE_INTEG_HMAC_SHA1_96);
	cr_assert_eq(ike_key_lengths(&p, &l), -1, "an unknown PRF");
}

Test(ike_keys, cavp_keying_material_is_cut_in_order)
{
	uint8_t ni[8], nr[8], gir[128];
	struct ike_key_lengths l = { 20, 20, 16 };
	struct ike_bytes Ni = { ni, 8 }, Nr = { nr, 8 }, Gir = { gir, 128 };
	struct ike_keys *k;
	uint8_t want[20];

	unhex("3651fef5c9c35e93", ni, 8);
	unhex("c09a8b90a3f04d59", nr, 8);
	unhex("d084a30166a50fb7325c3960874a839449ef9741c2f4f947d0201dd8c1269273d79509f37e3ca3eb"
	    "4fa2fe2a28254e289cd3f34dad4eb4df1a07685a4b8a94fa61e2491f7598b3ce65547ff133b3f63d1a"
	    "c4175eaa695033f3cedb026a6873a36455172a8540b8a5d23a0143bed0390ee49b168269d75fffee9f"
	    "b62be965993c", gir, 128);
	k = ike_keys_derive(IKE_PRF_HMAC_SHA1, &l, &Ni, &Nr, &Gir, 0x8e5c3ae507221684ULL,
	    0xb1f201bb155c3acdULL, NULL, 0);
	cr_assert_not_null(k);
	cr_assert_eq(k->mem_len, 132);
	unhex("6f1b12cad3cbe097b35430356d869d54cddb0198", want, 20);
	cr_assert_eq(memcmp(k->sk_d, want, 20), 0, "SK_d");
	/* SK_ai: octets 20..39 of the DKM. */
	unhex("ec859174d53ceb92dddedbe2436db69f60977c58", want, 20);
	cr_assert_eq(memcmp(k->sk_ai, want, 20), 0, "SK_ai");
	/* SK_ei: octets 60..75. */
	unhex("da01843225d080ec5539d5881a25521f", want, 16);
	cr_assert_eq(memcmp(k->sk_ei, want, 16), 0, "SK_ei");
	/* SK_pr: the last 20 octets (the end of T6, the start of T7). */
	unhex("b052b1fb8e9ad60ba3c80557323331a8cbb89f20", want, 20);
	cr_assert_eq(memcmp(k->sk_pr, want, 20), 0, "SK_pr");
	ike_keys_free(k);
}
