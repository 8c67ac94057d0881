/* Diffie-Hellman for IKEv2: every group two key pairs agree, with the lengths IKEv2
 * sends; Curve25519 gives RFC 7748 §6.1's known answer; hostile public values are refused
 * (wrong length, 0, 1 and p - 1 for MODP, points off the curve, small-order Curve25519
 * points); unknown groups are refused with a reason. Known answers for every other group
 * too, from given private values: RFC 5903 §8 (ECP 19, 20), RFC 5114 A.3 (MODP 24), and
 * for MODP 1, 2, 5, 14, 15, 16 (no published vectors) values computed apart, in Python;
 * private values that are none are refused. */
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

/* Known answers for every group, through ike_dh_new_private: both sides' public values
 * (ike_dh_public's form) and the shared secret both ways, each from a private value and the
 * other side's public value as published. */
struct dh_kat {
	uint16_t group;
	const char *source;
	const char *i, *gi, *r, *gr, *gir; /* gi, gr: x | y for ECP (RFC 5903 §7) */
};

static void
dh_kat_check(const struct dh_kat *k)
{
	uint8_t i[IKE_DH_MAX_PUBLIC], r[IKE_DH_MAX_PUBLIC], gi[IKE_DH_MAX_PUBLIC];
	uint8_t gr[IKE_DH_MAX_PUBLIC], gir[IKE_DH_MAX_PUBLIC], got[IKE_DH_MAX_PUBLIC];
	size_t pl = ike_dh_public_len(k->group), sl = ike_dh_shared_len(k->group), il, rl;
	char err[256] = "", what[128];
	struct ike_dh *a, *b;

	il = unhex(k->i, i, sizeof(i));
	rl = unhex(k->r, r, sizeof(r));
	cr_assert_eq(unhex(k->gi, gi, sizeof(gi)), pl, "group %u: g^i's length", k->group);
	cr_assert_eq(unhex(k->gr, gr, sizeof(gr)), pl, "group %u: g^r's length", k->group);
	cr_assert_eq(unhex(k->gir, gir, sizeof(gir)), sl, "group %u: g^ir's length", k->group);
	a = ike_dh_new_private(k->group, i, il, err, sizeof(err));
	cr_assert_not_null(a, "group %u: i: %s", k->group, err);
	b = ike_dh_new_private(k->group, r, rl, err, sizeof(err));
	cr_assert_not_null(b, "group %u: r: %s", k->group, err);
	cr_assert_eq(ike_dh_group(a), k->group);

	snprintf(what, sizeof(what), "group %u (%s): g^i from i", k->group, k->source);
	assert_bytes(ike_dh_public(a), gi, pl, what);
	snprintf(what, sizeof(what), "group %u (%s): g^r from r", k->group, k->source);
	assert_bytes(ike_dh_public(b), gr, pl, what);

	memset(got, 0xa5, sizeof(got));
	cr_assert_eq(ike_dh_shared(a, gr, pl, got, err, sizeof(err)), 0, "group %u: %s",
	    k->group, err);
	snprintf(what, sizeof(what), "group %u (%s): g^ir from i and g^r", k->group, k->source);
	assert_bytes(got, gir, sl, what);
	memset(got, 0xa5, sizeof(got));
	cr_assert_eq(ike_dh_shared(b, gi, pl, got, err, sizeof(err)), 0, "group %u: %s",
	    k->group, err);
	snprintf(what, sizeof(what), "group %u (%s): g^ir from r and g^i", k->group, k->source);
	assert_bytes(got, gir, sl, what);
	ike_dh_free(a);
	ike_dh_free(b);
}

/* RFC 5903 §8.1 and §8.2 (groups 19 and 20), copied from the RFC: i, g^i = (gix, giy), r,
 * g^r = (grx, gry), and girx, the shared secret (RFC 5903 §7: the x coordinate). */
static const char ecp19_i[] =
    "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433";
static const char ecp19_gi[] = /* gix, giy */
    "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180 "
    "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3";
static const char ecp19_r[] =
    "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53";
static const char ecp19_gr[] = /* grx, gry */
    "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63 "
    "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB";
static const char ecp19_gir[] = /* girx */
    "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE";
static const char ecp20_i[] =
    "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655 "
    "E35B5380 41E649EE 3FAEF896 783AB194";
static const char ecp20_gi[] = /* gix, giy */
    "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6 "
    "DE3AC808 ACB4BDB4 C88732AE E95F41AA "
    "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E "
    "EB9FCFF3 C2C947DA E69B4C63 4573A81C";
static const char ecp20_r[] =
    "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942 "
    "E0308312 916B8ED2 960E4BD5 5A7448FC";
static const char ecp20_gr[] = /* grx, gry */
    "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D "
    "0D1AC43A 0336DEF9 6FDA41D0 774A3571 "
    "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF "
    "F83FA401 42209DFF 5EAAD96D B9E6386C";
static const char ecp20_gir[] = /* girx */
    "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4 "
    "D6031355 69B9E9D0 9CF5D4A2 70F59746";

Test(ike_dh, ecp_rfc5903_known_answers)
{
	static const struct dh_kat kats[] = {
		{ 19, "RFC 5903 §8.1", ecp19_i, ecp19_gi, ecp19_r, ecp19_gr, ecp19_gir },
		{ 20, "RFC 5903 §8.2", ecp20_i, ecp20_gi, ecp20_r, ecp20_gr, ecp20_gir },
	};
	size_t n;

	for (n = 0; n < sizeof(kats) / sizeof(kats[0]); n++)
		dh_kat_check(&kats[n]);
}

/* RFC 5114 Appendix A.3 (group 24, RFC 5114 §2.3's 2048-bit MODP group with a 256-bit
 * prime order subgroup), copied from the RFC: xA, yA = g^xA, xB, yB = g^xB, Z = g^(xA xB). */
static const char modp24_xa[] =
    "0881382C DB87660C 6DC13E61 4938D5B9 C8B2F248 581CC5E3 1B354543 97FCE50E";
static const char modp24_ya[] =
    "2E9380C8 323AF975 45BC4941 DEB0EC37 42C62FE0 ECE824A6 ABDBE66C 59BEE024 "
    "2911BFB9 67235CEB A35AE13E 4EC752BE 630B92DC 4BDE2847 A9C62CB8 15274542 "
    "1FB7EB60 A63C0FE9 159FCCE7 26CE7CD8 523D7450 667EF840 E4919121 EB5F01C8 "
    "C9B0D3D6 48A93BFB 75689E82 44AC134A F544711C E79A02DC C3422668 4780DDDC "
    "B4985941 06C37F5B C7985648 7AF5AB02 2A2E5E42 F09897C1 A85A11EA 0212AF04 "
    "D9B4CEBC 937C3C1A 3E15A8A0 342E3376 15C84E7F E3B8B9B8 7FB1E73A 15AF12A3 "
    "0D746E06 DFC34F29 0D797CE5 1AA13AA7 85BF6658 AFF5E4B0 93003CBE AF665B3C "
    "2E113A3A 4E905269 341DC071 1426685F 4EF37E86 8A8126FF 3F2279B5 7CA67E29";
static const char modp24_xb[] =
    "7D62A7E3 EF36DE61 7B13D1AF B82C780D 83A23BD4 EE670564 5121F371 F546A53D";
static const char modp24_yb[] =
    "575F0351 BD2B1B81 7448BDF8 7A6C362C 1E289D39 03A30B98 32C5741F A250363E "
    "7ACBC7F7 7F3DACBC 1F131ADD 8E03367E FF8FBBB3 E1C57844 24809B25 AFE4D226 "
    "2A1A6FD2 FAB64105 CA30A674 E07F7809 85208863 2FC04923 3791AD4E DD083A97 "
    "8B883EE6 18BC5E0D D047415F 2D95E683 CF14826B 5FBE10D3 CE41C6C1 20C78AB2 "
    "0008C698 BF7F0BCA B9D7F407 BED0F43A FB2970F5 7F8D1204 3963E66D DD320D59 "
    "9AD9936C 8F44137C 08B180EC 5E985CEB E186F3D5 49677E80 607331EE 17AF3380 "
    "A725B078 2317D7DD 43F59D7A F9568A9B B63A84D3 65F92244 ED120988 219302F4 "
    "2924C7CA 90B89D24 F71B0AB6 97823D7D EB1AFF5B 0E8E4A45 D49F7F53 757E1913";
static const char modp24_z[] =
    "86C70BF8 D0BB81BB 01078A17 219CB7D2 7203DB2A 19C877F1 D1F19FD7 D77EF225 "
    "46A68F00 5AD52DC8 4553B78F C60330BE 51EA7C06 72CAC151 5E4B35C0 47B9A551 "
    "B88F39DC 26DA14A0 9EF74774 D47C762D D177F9ED 5BC2F11E 52C879BD 95098504 "
    "CD9EECD8 A8F9B3EF BD1F008A C5853097 D9D1837F 2B18F77C D7BE01AF 80A7C7B5 "
    "EA3CA54C C02D0C11 6FEE3F95 BB873993 85875D7E 86747E67 6E728938 ACBFF709 "
    "8E05BE4D CFB24052 B83AEFFB 14783F02 9ADBDE7F 53FAE920 84224090 E007CEE9 "
    "4D4BF2BA CE9FFD4B 57D2AF7C 724D0CAA 19BF0501 F6F17B4A A10F425E 3EA76080 "
    "B4B9D6B3 CEFEA115 B2CEB878 9BB8A3B0 EA87FEBE 63B6C8F8 46EC6DB0 C26C5D7C";

Test(ike_dh, modp_2048_256_rfc5114_known_answer)
{
	static const struct dh_kat kat = {
		24, "RFC 5114 A.3", modp24_xa, modp24_ya, modp24_xb, modp24_yb, modp24_z,
	};

	dh_kat_check(&kat);
}

/* MODP 1, 2, 5, 14, 15, 16 have no published vectors: these were computed apart from
 * OpenSSL, by Python's own pow() with 256-bit exponents and the primes by the RFCs' formula
 * (RFC 2409 §6.1-6.2, RFC 3526 §2-5), checked equal to the RFCs' hex as typed from their
 * text. Group 2's g^r and group 14's g^ir begin with a zero octet (the left padding). The
 * program (out[group] holds the values below):
 *
 * import hashlib
 *
 * def pi_bits(bits):  # floor(pi * 2^bits): Machin's formula in fixed point
 *     one = 1 << (bits + 64)
 *     def atan_inv(x):
 *         s, t, k, sign = 0, one // x, 1, 1
 *         while t:
 *             s, t, k, sign = s + sign * (t // k), t // (x * x), k + 2, -sign
 *         return s
 *     return (16 * atan_inv(5) - 4 * atan_inv(239)) >> 64
 *
 * def prime(n, c):  # RFC 2409 6.1-6.2, RFC 3526 2-5
 *     return 2**n - 2**(n - 64) - 1 + 2**64 * (pi_bits(n - 130) + c)
 *
 * def x(group, who, n=0):  # a 256-bit exponent
 *     label = b"picsec ike_dh KAT %d %s %d" % (group, who, n)
 *     return int.from_bytes(hashlib.sha256(label).digest(), "big")
 *
 * GROUPS = {1: (768, 149686), 2: (1024, 129093), 5: (1536, 741804),
 *           14: (2048, 124476), 15: (3072, 1690314), 16: (4096, 240904)}
 * out = {}
 * for group, (bits, c) in GROUPS.items():
 *     p, size, n = prime(bits, c), bits // 8, 0
 *     while True:  # group 2: g^r, group 14: g^ir with a leading zero octet
 *         xi, xr = x(group, b"i"), x(group, b"r", n)
 *         gi, gr = pow(2, xi, p), pow(2, xr, p)
 *         gir = pow(gr, xi, p)
 *         if ((group != 2 or gr >> (bits - 8) == 0) and
 *                 (group != 14 or gir >> (bits - 8) == 0)):
 *             break
 *         n += 1
 *     assert gir == pow(gi, xr, p) and 1 < gi < p - 1 and 1 < gr < p - 1
 *     out[group] = dict(n=n, p=p,
 *         xi=xi.to_bytes(32, "big").hex(), xr=xr.to_bytes(32, "big").hex(),
 *         gi=gi.to_bytes(size, "big").hex(), gr=gr.to_bytes(size, "big").hex(),
 *         gir=gir.to_bytes(size, "big").hex())
 */
static const char modp1_xi[] =
    "61cc55b6659c98794b8d1378a54d087fef2d4995dcfa2920300a5281cf9829b0";
static const char modp1_gi[] =
    "e753e25eb5c27b2c1b25f6b89a1aaef1bd0e4d77fcfa52511774f9924c52cb1044cd4c2f77c8b15f7dbcc566"
    "248bcbd7d59cc8b6386f5587f1904757db2a45cc71ddcbcffdb2d5921502e2bfa2b0508089dfafefd155cba5"
    "2cdc9df7e79112c3";
static const char modp1_xr[] =
    "e44475097c87ccfa860db7caac5995e6ff64d5c96870362de4b1d55cedd286a2";
static const char modp1_gr[] =
    "2ea60d434bc8942b1bbdb90d1d463ea67b0dd9f00ae46d31bdd5c5655d7a0cab403c1b53e0fca156187f77ff"
    "b5fc8120db4f190ea8a9f455b8a8a27648019eb1b10fdc8ab3c9b96de7402e162bf0dd49d894c14fdb1bb178"
    "19f83f6844e92927";
static const char modp1_gir[] =
    "4062cbd2e2e8ac30c4c64bc0f49eee203a0142b4f929b7e0f70a31d40322add5c78ed3447a2cd369d4563887"
    "e48d0974b72a144d433063f74dc87cf097ad5cd20a1e280a4bee8ac6620a35ea8103268c895a8075b53b9001"
    "ecd37376eb44e641";
static const char modp2_xi[] =
    "458423eb0232c259d6f56ac145cea7bf21d84942c16baca89749fb0190c64af4";
static const char modp2_gi[] =
    "477bc106bb1d95908169a7957edd0ce7dfdc95e8cce4dec51da4d627961ecbaaeb8187735b16198ad41e47af"
    "749338a93a2887c5fcbc62f978337371c4b575680da71eb5f9d90ccd021cea5f4697ce9dc9951b3324030e11"
    "614021f9217663009be27d4637cdbc0401639b6b47cd4025602e601c73b5d081d5b2e40166d32540";
static const char modp2_xr[] =
    "e2b74b0231f12ab2740b9af9ee1c547027e963b8da6868c87beb95773ca3060e";
static const char modp2_gr[] =
    "0009f214804cf20079fdc98ecb8f667b30aa751122e5cd3e911712ae4a8bbd3defb851aab069bfd5aecc1ad8"
    "dd468c079264517c33086664d23a393dd7ef394b6ee6cfead442d2757e987287948021d4756c63a7921b340d"
    "8dc45251fb819a3e762e7670b95dc096958850e7af86ac368a1f9d3d8b7f7c0dc91211ea2b4877d9";
static const char modp2_gir[] =
    "62e69b03caae3e5740f6d5da4bc55f15d7ce50d26a6bd82a5dbce8b520ff35cc90f506d05e49161593a6044d"
    "28af528493cc067bc5ade861eb4c81355e46d3186bc35be3c3c73c74d5bc70759c77549660be850be25f855f"
    "497ac398d69a15275db608bcc7e7ee84edbbad831a556698e7048285c31da127eff535a17f16ced9";
static const char modp5_xi[] =
    "72054e51a8926ad4aa3d55b20d356a7acb730074e719ee108e0585b439c1405c";
static const char modp5_gi[] =
    "05761d550028987b083942e25e7e8fa2ae92f6947aabe23bd418ecbcc8b836ac3047d260501ab5af87ca9cac"
    "5e06b6b594f6965b3fb89fdb72b27242c8227f95d5dbc1b4b6d818126e7f2dd3d858d6f6e7eaf292f06ed599"
    "bbb638037d83b2acc6307277cebfffeaaf76aa2060750d4cb1f0f2d4a0d1cb006053f9952ae6fec12418bd20"
    "4881fa2474bf879c2cc070f068f1c8e0716df3723f3b156066e89c2fadfd8beb93e293c8373d60d17c33b6d1"
    "bb6b84d9c95d42e2d4c7339873a38536";
static const char modp5_xr[] =
    "f94c6b188f6ec8720e5749afc65b77313cfe028d9d86b6bc02b97195b979aea2";
static const char modp5_gr[] =
    "e99b853b33f57e6689a017bc02a758c15165391abad9fbb5c82c19121af268dab9efe15cbcb43960457624c0"
    "e2e755a889a7a39d7961d4bb828adb78350b86f329dff85b438d653ea77f326b9c540c6f1469334d17f15ae8"
    "5075c6b802051726c618ff8b8fce68f3f8517eba480016ea5776ff3fa29b8d4e50b55c0d03f54fb28d682793"
    "6d611c4e19e3ffe33721778bfb5407334b30af8a4172d04d4bf664f57da051dfa34831904fc90b5283385161"
    "df98cc14416e97fe832373a9c37278f8";
static const char modp5_gir[] =
    "ec11f5edf26a3189502d5a73106c53104838210d8aedbdc37090306e23908f41ef385a0e4568d1acc6f5beee"
    "63d0a695d6d812a3b6eb5b22edd83958924de66984c38f7fd247a6de0ec7fb7d8c64721d56cdcda44fc05da8"
    "c03df3466865b257743930d201c0e74e933336a09a62d1f0497a83197515f73729d00117c897516a28114fb3"
    "10e7c899d684f4b12c6b757f5a27daa9c8808a909100f41b86cabd387ab28091e9700ef261e31f29a3cb0b15"
    "e21ebcdcc9589b57c2da36b3233e5339";
static const char modp14_xi[] =
    "920c93cbb1e445fa334dff0a0b4ee22d40883903510c51bb894c0a806f0cb9e4";
static const char modp14_gi[] =
    "77009806ccd375020b4af2f63c1206fe50aa6a9f8ca227ecca2c8823db5ef0f61be6546001c4653811eade95"
    "8f42794d36a9fb9234d1acf6aca3f07fb694e9e9f8a30e502f2b7d76784f421638e7c61454783da384a9fe1a"
    "d67e949ecb01b07b0e276118c3b7a4356e45bc3d1785ed3d46853ad53e89853a7feed12ef22670d08e855c29"
    "793379a2cab8db0b62f01c7ca95781fd2504514e7ccbf04bc7a80be597bc0f0e167db2b2ced5c0d2d8c43b91"
    "810390a8c07a44e2193956a99a18f16b93507433c25ec2219d6e3f10238d48f5d1ad80b2e2db7ccbeaefd272"
    "b91a8affb4c0063c3d469505b0f3741fe012b895dcb3e8de95eb0736241d18e69eabdb2a";
static const char modp14_xr[] =
    "725f4c509aea4330632c0661d9d6bdb19eb96d2685264bad5c1671f825279fe5";
static const char modp14_gr[] =
    "5b5c3650a87824efd8b208556760ba4732c8296e2fd5d01846c8ed134649ac68b81a7ef3e52cb3e5dc142167"
    "3d27b77c3c3ebcc9c1e1dabe8e84d64022b75b7844d19a7c74d7eea775dd8e3cc29c47472ea0bd540c106176"
    "ae986b09058c450708174f88b24559e371a26b120480b204af98d9a993cb0a79b1fc33f4a67e2cb27f76380f"
    "dc13eb4a99ce7bdcbe062b85099de1a5c5261d9202bec72714cba6b52d8a8d931a6b16cb643e0700be402a97"
    "b5a0a690eb3bd75ebd372bb8cb46f4a3c040b4b5294922438e51b765442fe783482505b8f7b75c9459dc3f7d"
    "b27278c18c26d38da4b150caf44803d780b577aac15a7126651ded941c914811da7e7d83";
static const char modp14_gir[] =
    "00d043451485ed0e4ea7d570aa4c5734d74f82f6633e256a58b1904f11cf65f40fa9937a3a5f2049ff384fd4"
    "1cb118a01306ed3a285cfc2eda1a5401926360a62ae4f1acc768cc5b0caeb48aba08c4c92f8fcef3d3f8f520"
    "54cf9dbad6842a430488aa114b55bc9a2604a51e79e1daf49f64b90a56bfd67d349b1628fa05ef00bbce1b3f"
    "895c12370ec9dce24e32eb48bea0d9f1d329831115da8aeaeda4530b459a62dba4cb08f4c0179867236ce780"
    "54fc3e7aa8d30c31f8086920a424893cddd8886bcd6d1b78dbe6ed2e4b42def65d2851b1f9f6acdc5229ebc2"
    "91d9fa6bb7497843dfc3c0445b8fd9849661e3e2026501c6c660dbea12e1d0dc10b6755e";
static const char modp15_xi[] =
    "cc6df5f5df155619abd38f91eec38693083d5fb187ca3b662f2f530d97d72e6f";
static const char modp15_gi[] =
    "02d86f86dc3a87a225514c99d0408569fcdb9128680bf4957750616892347d81ae4318b2288d33bfb19203ad"
    "29d77857dbe8a2ca444d8fbdf669b936b9618fdc1b4a754aeea5258d16d5140ced4f581da1c26a6704232577"
    "75e4bab692aba66149272573a97b7454b474c6a5547a251ef78444d96ec841e999b44fd98212204bb2a25310"
    "5422e544661e814cad205638ee08fa7dbbecf9cdfbf547cfb435b080240b62fb7d667d1e6aaff5ef9edc55f9"
    "e24bc921a1eb8b15d507e45eb6fb12a653967081a679908c87b837d7b87d2003559d38c088abcdd7e282e1d2"
    "264585a4a669c755daafc0d2cedf80efa33d55e9a5d628a35321ba8cf728cd764ba56fe3bf4f1291f1cf1da3"
    "2f6c2b33b9b51b6d9b60cc6dc4c9df22ebdeb40b38a61a6ad23641f6198cbf7ede34cde800a6844628e7f634"
    "59b8dcfe6c8a197688ebd94ca1b5dbb6fa2cb3a048847d61f8f84a2d70bbcebe89740504a1d322cb22c55f91"
    "504be5b32ccd6974dedf8af15006dd3496c43c05090731eb81a33310e5ceabe7";
static const char modp15_xr[] =
    "8b4c2f01cf0cbbbe5ca72cb75d8df84d84f10acda2d9ce9638203b053546c31b";
static const char modp15_gr[] =
    "12a32bd3fd2d615313aa6524552126e1002ab91e8b4e9314f6162a4a3b52553ddf1e3caa341ec8907d5ec765"
    "c81c0f262f6872a3aabfa4388517437a90827cc679e2f5d7e962f4e1e3ed09114d083f8ce390e1d93cdf774a"
    "4da22401411eee374e0e5fc863626d40a124d2e337876ed5ef45684f18031f0c42500fc7b3655e1c0208a437"
    "941a6266f7a2b14d0bbcfe8ea36c798dcd24468ebd0f1b19f46374c9614ae71ea0ffa9de9a1d96b84ee4d113"
    "aa3f3c7ffbae2a1407bc8848d2a650794ffbbdd40167ef7fec98ab4469f61bf8668cb20491bb8b029891b1bf"
    "388f5ab23765f66a1ee9d1e91a33d3a2779dff6f1fd211e561a974aca35128584e26e7c47d6afef100715ee6"
    "49718e69cc2c071f8e7a8dcbd8855dc64d352b56272fa951e64a0c071d3e907f730ed39aa658f2e4cf7718fe"
    "697b4bf42bf847fe9a8cc29a7144561f4c76fdf7dd8f567993b1f6416ef166864de5ccbc74690230ee14f6ec"
    "c5fdafb9a54b2daaf90ffbc581961d9b312819b1e2aeb9c70f65e25d30aa491d";
static const char modp15_gir[] =
    "f4599c7db0c601c939cd10deab7511571498dee1e89e7a420c9ab67ad16fcebacd3bfd6c7fe689d9114312c3"
    "693e105598f6b16f857453e0b1d85135ffef28da0104a41fd95ea5ab8dd48010fbc887e08b89b56b1ef027dc"
    "ed288b945d05ada7f0c88df068f4ee0088f9410f50888a0e0c65d0c6998147efb52b40ad8ca48be3fc5827de"
    "82c90b47f6aebfb58b99c5870b89b4652bad5dc0aa0a80b275813cb80e712594a9af07ab0563a7fbfa20e419"
    "9311e78b3db00e6b8cd6a089b4869909ddfe6e0af2180eeee0d5224d37455b2148405e34c2418d86957e7fb2"
    "49ef884e920774c33ecfac65e37879d8cbde79b492d16edc3f1fb2fb6da648efd1e0aec390d5c67b4eecc4d8"
    "8e95a49c728e0bf93f434ee2387fa57c01bfc564e2a1f2074422ca07359777c8c298517f7e466da38cbeae0e"
    "2bf0ba806156b17c35ec6d7016f80e79f8ce4c0151bdb601b97ec2e62751238470ac4dd3c9f0fb1943924d2c"
    "490c59b257ceb8ba6bfa3db56d0fa85469dee63750d3667e57f4277abbdd49e3";
static const char modp16_xi[] =
    "0f78cd746bc81e9b4c4b7962ee2aacb4fdeff3a1e7fd21660584d8905152291f";
static const char modp16_gi[] =
    "55839109f998ace3fc638ad05c635f23d35559f68a867e1ba6457d8c3a95b4d58f3c513217b438ad7d6e7c0f"
    "9adb5c35ae1398214c5e66ed16dc1baa939b903b8903c8dd19e590f03e37e94e3cb49ac2aeb817ed7d235a7e"
    "e471791e187856c4d95e5078813bc35efbfc37fc6e5eeb279e6c3e082288da75652e0856d137a7f2aa9df305"
    "ae76095d2754ae1858f4b66e63bfd53e9a174b078a88072a006eaa485cf1c832e7d0e7e8f8d4b8e7d60bf59f"
    "980fc00dbb53eb885d910299c9424acd03cc6e3c5f5de7acefb30bdf63ff7bda577d543d634350ffe8f88112"
    "86d3a15ec9214021f664e41808536d4ebcc07f2cdf73afc3c7305b61eee60b2f8ba8dc7af843cf9699a39b39"
    "17f8f9b62f6dc24493feb93ea4ae73802fab1eac481839417392430819b78a11e23e61fa4a43a26437bdd4a0"
    "a81076541ed186896eb9aeea9a505387e54b1ed96242a951b3c6c6765d792928a390a45bb1e45ed5f6e88856"
    "837fc32ad084530c4142b53a1e50a2682e94de9380b98771b80078e4fdf8119f13eb176e2c64bc3f94b23318"
    "6cfa59b83f7e0c846513fcfe07767ac941b26a5952107083146338cb704b5970c405d6715d18565d1e51f226"
    "74a500b42b6908fbec677ecadbc1bcd4ebf5997702096b948f29c74e18b8e990f753ee2e79465f169773bc94"
    "0f8cf1fcbd4192680c5abd5c5617f4ef04b4a151972d610afc0b8d92";
static const char modp16_xr[] =
    "07a1144ff23b5031dead3154650b0b601e9fcfc0eb3ef44c4bec9b5a895a0908";
static const char modp16_gr[] =
    "96c2e110ece80774fb72166ea3d97fcfb60c211ee8d942f37da00f46f3b0fe355bc6594f797d5dbc6337e76b"
    "9a4a25f63d21f5e0a1114b681bb9f156f687e7d7f3434d5a7560434fa9cd4a0d8ad1bed4f0b4eecd067ee476"
    "f9cf14a1f5af9f65cd4f77b8fe9668f4c0af348d935025e9e6e06fcd55a31028814998d589a8d12aa7deb23e"
    "c4a70f17a832cb0c3224cdce9f8af95af994cfdd7b2a7767eb4fef244efe656b5ff75c270cf29c2ea788cf61"
    "3e57313d29795d0597fa4010d2aec632907512f2669dba1ed6a2a13b081203df5677a93b501e530854d0f2f0"
    "521174bf48bbaa5b04fdb84da476e2fd7a09cc62bdc9ae6d94ce656ae2d9814d585fbd11e78a4eeef9dd7bf2"
    "64ab95fdee4c70efd78ca618e0c3a6ec70916727c8b5070e3bebf6b7d7a8faa993a5606bffc9d1dd381d224d"
    "82dc0f38cd0120ea6c0ee74f8af287c3faf8640c04903cd19678027f073271e1c17e146a7b5320f7012dce8f"
    "2beeceaa5da4da87960cca698949865c34a88b203dcd7092a055db36570167789b9ada0a6e88e415be19853e"
    "0bd420a4a7c526241ad2e49db4f02548ab4e8bcb9c345db949a0e03806136ab209757f41a5d08b228419bc5e"
    "049b0f7ad92ff40d5b077f1b9b16cb981ebae82652ab1c9a6fe8cbbb9580000bf88372517b065e65a70b5925"
    "ada312126cd79b1c853ab353887beb7399b2b5868980f99b83ff9187";
static const char modp16_gir[] =
    "6b59b69c3ce86b71cbf4b63dff65dcede3776f3a2edc40c679c03ca9efc6cba28c4a691654d79d42300d972f"
    "fe0b878aa1a439acac0534f29a57420a1b654ef00635a7cc8186c1d02a6dfb1e37f62dacadbee7ed95dc70b5"
    "01ecd973e1bbcf40592b544fb9f6369eb8fec853523830946faf0efe896699429d7c82369c74ee6a1dfc44be"
    "df58ed31a44dba9ae4c7f713362b6fb92720d4739c22203e06c1c441274d1164935f38b262c4faf9a56df388"
    "60b4d2ac7dbeaee2a1dffbd83ada5517be34cde0ec7b854f1266184cc16085a802604975a162a5e3c3cf3ff0"
    "5519905fc749a1cc71ef8415316c67ae4e21ec7ca9b2365720870d2e9a62ba36d3ad54cdde0d5bd0f1eca0e9"
    "7c4194930e5e9519641736e2741a15bde507b34089cb3055a9e072b9599ac9eea4ac4afce040358649a472a1"
    "e4f7fb258bfce236dc40758a91d29d03239ec5f4185eb1e42e5a34bfd1969835047b9c671153d599c2907a74"
    "e10a7c8638401a796430b0e655d545ee6c7f41c2c3be0f7f546100249f1881e9bc9a12f80d3c58f5041af71c"
    "a57c79887210af04f254670998020f5b5d4ec28d1a54ccb3b924b2cddc8ddd91cd8262f4b72574396ad9356c"
    "90ead7a41cfe5f4b3bb01eaca962c4ff83ebc076b29440501d6b5de0b4be703488262d833bd76aeb1597bf70"
    "a9974fa5501f7879fef051a3d9a54382ad6bb57d830ccf627b712866";

Test(ike_dh, modp_known_answers)
{
	static const struct dh_kat kats[] = {
		{ 1, "RFC 2409 §6.1", modp1_xi, modp1_gi, modp1_xr, modp1_gr, modp1_gir },
		{ 2, "RFC 2409 §6.2", modp2_xi, modp2_gi, modp2_xr, modp2_gr, modp2_gir },
		{ 5, "RFC 3526 §2", modp5_xi, modp5_gi, modp5_xr, modp5_gr, modp5_gir },
		{ 14, "RFC 3526 §3", modp14_xi, modp14_gi, modp14_xr, modp14_gr, modp14_gir },
		{ 15, "RFC 3526 §4", modp15_xi, modp15_gi, modp15_xr, modp15_gr, modp15_gir },
		{ 16, "RFC 3526 §5", modp16_xi, modp16_gi, modp16_xr, modp16_gr, modp16_gir },
	};
	size_t n;

	for (n = 0; n < sizeof(kats) / sizeof(kats[0]); n++)
		dh_kat_check(&kats[n]);
}

/* ike_dh_new_private refuses what is no private value: unknown groups, wrong lengths, MODP
 * exponents outside 1 < x < p - 1, ECP scalars outside 0 < d < n. It reads a big-endian
 * integer (leading zero octets change nothing) and hands X25519 to ike_dh_new_x25519. */
Test(ike_dh, private_values_are_checked)
{
	uint8_t value[IKE_DH_MAX_PUBLIC + 1], want[IKE_DH_MAX_PUBLIC];
	char err[256] = "";
	struct ike_dh *dh;
	BIGNUM *p;

	memset(value, 0, sizeof(value));
	value[0] = 2;
	cr_assert_null(ike_dh_new_private(3, value, 1, err, sizeof(err)));
	cr_assert_str_eq(err, "DH group 3 is not supported");
	cr_assert_null(ike_dh_new_private(14, value, 0, err, sizeof(err)), "empty");
	cr_assert_null(ike_dh_new_private(14, value, 257, err, sizeof(err)), "longer than p");
	cr_assert_null(ike_dh_new_private(19, value, 33, err, sizeof(err)), "longer than n");
	cr_assert_null(ike_dh_new_private(31, value, 31, err, sizeof(err)), "X25519: 32 octets");
	cr_assert(strstr(err, "31 octets") != NULL, "%s", err);

	/* MODP: x = 2 gives 4, however many leading zero octets; 0, 1, p - 1 and p are no
	 * exponents, p - 2 is one. */
	memset(want, 0, 256);
	want[255] = 4;
	dh = ike_dh_new_private(14, value, 1, err, sizeof(err));
	cr_assert_not_null(dh, "%s", err);
	assert_bytes(ike_dh_public(dh), want, 256, "2^2 mod p");
	ike_dh_free(dh);
	memset(value, 0, sizeof(value));
	value[255] = 2;
	dh = ike_dh_new_private(14, value, 256, err, sizeof(err));
	cr_assert_not_null(dh, "%s", err);
	assert_bytes(ike_dh_public(dh), want, 256, "2^2 mod p, 256 octets of exponent");
	ike_dh_free(dh);
	value[255] = 0;
	cr_assert_null(ike_dh_new_private(14, value, 256, err, sizeof(err)), "x = 0");
	value[255] = 1;
	cr_assert_null(ike_dh_new_private(14, value, 256, err, sizeof(err)), "x = 1");
	cr_assert(strstr(err, "between 1 and p - 1") != NULL, "%s", err);
	p = BN_get_rfc3526_prime_2048(NULL);
	cr_assert_not_null(p);
	cr_assert_eq(BN_bn2binpad(p, value, 256), 256);
	cr_assert_null(ike_dh_new_private(14, value, 256, err, sizeof(err)), "x = p");
	cr_assert(BN_sub_word(p, 1));
	cr_assert_eq(BN_bn2binpad(p, value, 256), 256);
	cr_assert_null(ike_dh_new_private(14, value, 256, err, sizeof(err)), "x = p - 1");
	cr_assert(BN_sub_word(p, 1));
	cr_assert_eq(BN_bn2binpad(p, value, 256), 256);
	dh = ike_dh_new_private(14, value, 256, err, sizeof(err));
	cr_assert_not_null(dh, "x = p - 2: %s", err);
	ike_dh_free(dh);
	BN_free(p);

	/* ECP (P-256, RFC 5114 §2.6): d = 1 gives G, d = n - 1 gives -G = (gx, p - gy); 0 and
	 * n are no scalars. */
	memset(value, 0, 32);
	value[31] = 1;
	unhex("6B17D1F2 E12C4247 F8BCE6E5 63A440F2 77037D81 2DEB33A0 F4A13945 D898C296 "
	    "4FE342E2 FE1A7F9B 8EE7EB4A 7C0F9E16 2BCE3357 6B315ECE CBB64068 37BF51F5", want, 64);
	dh = ike_dh_new_private(19, value, 32, err, sizeof(err));
	cr_assert_not_null(dh, "%s", err);
	assert_bytes(ike_dh_public(dh), want, 64, "1 * G");
	ike_dh_free(dh);
	unhex("FFFFFFFF 00000000 FFFFFFFF FFFFFFFF BCE6FAAD A7179E84 F3B9CAC2 FC632550", value,
	    32);
	unhex("B01CBD1C 01E58065 711814B5 83F061E9 D431CCA9 94CEA131 3449BF97 C840AE0A",
	    want + 32, 32);
	dh = ike_dh_new_private(19, value, 32, err, sizeof(err));
	cr_assert_not_null(dh, "%s", err);
	assert_bytes(ike_dh_public(dh), want, 64, "(n - 1) * G");
	ike_dh_free(dh);
	value[31] = 0x51;
	cr_assert_null(ike_dh_new_private(19, value, 32, err, sizeof(err)), "d = n");
	cr_assert(strstr(err, "order") != NULL, "%s", err);
	memset(value, 0, 32);
	cr_assert_null(ike_dh_new_private(19, value, 32, err, sizeof(err)), "d = 0");

	/* X25519: RFC 7748 §6.1's Alice, as through ike_dh_new_x25519. */
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", value, 32);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want, 32);
	dh = ike_dh_new_private(31, value, 32, err, sizeof(err));
	cr_assert_not_null(dh, "%s", err);
	cr_assert_eq(ike_dh_group(dh), 31);
	assert_bytes(ike_dh_public(dh), want, 32, "Alice's public key");
	ike_dh_free(dh);
}
