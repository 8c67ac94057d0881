/* IKEv2 key derivation against NIST's CAVP vectors for SP 800-135 §4.1.2 (the IKEv2 KDF:
 * HMAC-SHA-1, 64-bit nonces, a 1024-bit g^ir, 1056 bits of keying material): SKEYSEED,
 * the IKE SA's keying material, a Child SA's with and without a new DH share, and the
 * rekeyed SKEYSEED. Also the PRF's own answers (RFC 2202, RFC 4231) and prf+'s limit. */
#include <criterion/criterion.h>
#include <string.h>

#include "ike_kdf.h"
#include "vectors.h"

static void
assert_hex(const uint8_t *got, const char *want_hex, const char *what)
{
	uint8_t want[256];
	size_t n = unhex(want_hex, want, sizeof(want));

	cr_assert_eq(memcmp(got, want, n), 0, "%s differs", what);
}

/* CAVP 800-135 ikev2.rsp, [SHA-1] [Ni length = 64] [Nr length = 64] [g^ir length = 1024]
 * [DKM length = 1056], the first case. */
static const char ni_hex[] = "3651fef5c9c35e93", nr_hex[] = "c09a8b90a3f04d59";
static const char gir_hex[] =
    "d084a30166a50fb7325c3960874a839449ef9741c2f4f947d0201dd8c1269273d79509f37e3ca3eb4fa2fe2a"
    "28254e289cd3f34dad4eb4df1a07685a4b8a94fa61e2491f7598b3ce65547ff133b3f63d1ac4175eaa695033"
    "f3cedb026a6873a36455172a8540b8a5d23a0143bed0390ee49b168269d75fffee9fb62be965993c";
static const char gir_new_hex[] =
    "52f00ab174c25d5b7139ae5ff4e8e9eddee5992d2e36adf8a559ffd90dab1442e4fbe429d320c0f33552a17d"
    "1557fa41ea70e8fb916c4fa27ed52b5f8ebd8461afa78f1159159a64055ac5f6319e29c28eae58cbc6847770"
    "f32c3fed1d04750484f854790f95e9ec01bc5bc461f24966462e359511329305038e94deb6dd42c2";
static const char spii_hex[] = "8e5c3ae507221684", spir_hex[] = "b1f201bb155c3acd";

struct kat {
	uint8_t ni[8], nr[8], gir[128], gir_new[128], spii[8], spir[8];
	struct ike_bytes Ni, Nr, Gir, GirNew, SPIi, SPIr;
};

static void
kat_load(struct kat *k)
{
	unhex(ni_hex, k->ni, 8);
	unhex(nr_hex, k->nr, 8);
	unhex(gir_hex, k->gir, 128);
	unhex(gir_new_hex, k->gir_new, 128);
	unhex(spii_hex, k->spii, 8);
	unhex(spir_hex, k->spir, 8);
	k->Ni = (struct ike_bytes){ k->ni, 8 };
	k->Nr = (struct ike_bytes){ k->nr, 8 };
	k->Gir = (struct ike_bytes){ k->gir, 128 };
	k->GirNew = (struct ike_bytes){ k->gir_new, 128 };
	k->SPIi = (struct ike_bytes){ k->spii, 8 };
	k->SPIr = (struct ike_bytes){ k->spir, 8 };
}

Test(ike_kdf, cavp_skeyseed_and_the_ike_sa_keys)
{
	struct kat k;
	uint8_t skeyseed[20], dkm[132];
	struct ike_bytes seed[4];

	kat_load(&k);
	cr_assert_eq(ike_skeyseed(IKE_PRF_HMAC_SHA1, &k.Ni, &k.Nr, &k.Gir, skeyseed), 0);
	assert_hex(skeyseed, "cd2e8050137832245f1dbacc6e4f0a92f94d45d6", "SKEYSEED");
	seed[0] = k.Ni;
	seed[1] = k.Nr;
	seed[2] = k.SPIi;
	seed[3] = k.SPIr;
	cr_assert_eq(ike_prf_plus(IKE_PRF_HMAC_SHA1, skeyseed, 20, seed, 4, dkm, sizeof(dkm)),
	    0);
	assert_hex(dkm, "6f1b12cad3cbe097b35430356d869d54cddb0198ec859174d53ceb92dddedbe2436db6"
	    "9f60977c58fa63bbb667f8d36920b109baae8f6c61a9ac49feda01843225d080ec5539d5881a25521f"
	    "fb2a0a91874a9c0a27fcc2d717eb8963a9e3a89c7ab264757284c28cf8c3ca40576f4220b052b1fb8e"
	    "9ad60ba3c80557323331a8cbb89f20", "DKM");
}

Test(ike_kdf, cavp_child_sa_keys_and_the_rekeyed_skeyseed)
{
	struct kat k;
	/* SK_d: the first 20 octets of the IKE SA's keying material above. */
	uint8_t sk_d[20], dkm[132], skeyseed[20];
	struct ike_bytes seed[3];

	kat_load(&k);
	unhex("6f1b12cad3cbe097b35430356d869d54cddb0198", sk_d, sizeof(sk_d));
	seed[0] = k.Ni;
	seed[1] = k.Nr;
	cr_assert_eq(ike_prf_plus(IKE_PRF_HMAC_SHA1, sk_d, 20, seed, 2, dkm, sizeof(dkm)), 0);
	assert_hex(dkm, "4727dc0ef94eb326ce131cf282fb652faa638ad0ddae3786a11bcc0309876009f8c485"
	    "de011ad962c5b1ca8a41ff8145445749079c5686e26ffebbc342f06981f3da745e11ca0976424d1f8c"
	    "aec623d59dc7186deb20a27b411d1dcb70a365440bf7de905088b0692e8addc094e18d1939bdb67e89"
	    "798ca6b239e2ccb81c2409dac0106c", "Child SA DKM");
	seed[0] = k.GirNew;
	seed[1] = k.Ni;
	seed[2] = k.Nr;
	cr_assert_eq(ike_prf_plus(IKE_PRF_HMAC_SHA1, sk_d, 20, seed, 3, dkm, sizeof(dkm)), 0);
	assert_hex(dkm, "b109c21ad4c0797768c1cec9e63554681e48f224bca7f23c20c4ea7041983451e9aa1d"
	    "5408656c8a975ff1b9d9a12c75ffeb64bdecb30174664cccb4e14f1c377b7f6d1525af77c7092aac3e"
	    "47f917ebae8297fb5539d2008ce830823a09cc197361d4a289c72745f6ce9fefe812be5bf55b3200fb"
	    "b82e41a4a40877d3fe106db909707b", "Child SA DKM with a new DH share");
	cr_assert_eq(ike_skeyseed_rekey(IKE_PRF_HMAC_SHA1, sk_d, 20, &k.GirNew, &k.Ni, &k.Nr,
	    skeyseed), 0);
	assert_hex(skeyseed, "3b03bce748c96d5e8306918d2ff89b68f0648da3", "SKEYSEED (rekey)");
}

Test(ike_kdf, the_prfs_known_answers)
{
	static const uint8_t hi[] = "Hi There";
	uint8_t key[20], out[IKE_PRF_MAX];
	struct ike_bytes data = { hi, 8 };

	memset(key, 0x0b, sizeof(key));
	/* RFC 2202 case 1 (MD5: 16-octet key) and RFC 4231 case 1 (SHA-2: 20-octet key). */
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_MD5, key, 16, &data, 1, out), 0);
	assert_hex(out, "9294727a3638bb1c13f48ef8158bfc9d", "HMAC-MD5");
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA1, key, 20, &data, 1, out), 0);
	assert_hex(out, "b617318655057264e28bc0b6fb378c8ef146be00", "HMAC-SHA1");
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_256, key, 20, &data, 1, out), 0);
	assert_hex(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	    "HMAC-SHA-256");
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_384, key, 20, &data, 1, out), 0);
	assert_hex(out, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9"
	    "ea9076ede7f4af152e8b2fa9cb6", "HMAC-SHA-384");
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_512, key, 20, &data, 1, out), 0);
	assert_hex(out, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa83"
	    "3b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854", "HMAC-SHA-512");
}

Test(ike_kdf, prf_plus_stops_at_255_blocks)
{
	static uint8_t out[255 * 20 + 1];
	uint8_t key[20] = { 1 };
	struct ike_bytes s = { key, 4 };

	cr_assert_eq(ike_prf_plus(IKE_PRF_HMAC_SHA1, key, 20, &s, 1, out, 255 * 20), 0);
	cr_assert_eq(ike_prf_plus(IKE_PRF_HMAC_SHA1, key, 20, &s, 1, out, 255 * 20 + 1), -1,
	    "the counter is one octet");
	cr_assert_eq(ike_prf_len(99), 0);
	cr_assert_eq(ike_prf(99, key, 20, &s, 1, out), -1);
}
