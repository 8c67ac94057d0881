/* The Encrypted payload: every suite seals and opens back for inner chains of many lengths,
 * with CBC's block alignment and GCM's none; a change to any octet of the header, IV,
 * ciphertext or ICV is refused; keys of the wrong length and GCM with an integrity
 * transform are refused. (tests/vectors/test_ike_sk_xcheck.c checks the format against
 * another implementation.) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sk.h"

static const uint8_t key32[36] = "0123456789abcdef0123456789abcdefSALT";
static const uint8_t key64[64] = "integrity-key-integrity-key-integrity-key-integrity-key-integri";

struct suite {
	const char *name;
	enum ike_encr encr;
	size_t enc_len;
	enum ike_integ integ;
	size_t block, icv;
};

static const struct suite suites[] = {
	{ "3des-sha1", IKE_ENCR_3DES, 24, IKE_INTEG_HMAC_SHA1_96, 8, 12 },
	{ "aes128-md5", IKE_ENCR_AES_CBC, 16, IKE_INTEG_HMAC_MD5_96, 16, 12 },
	{ "aes128-sha256", IKE_ENCR_AES_CBC, 16, IKE_INTEG_HMAC_SHA2_256_128, 16, 16 },
	{ "aes192-sha384", IKE_ENCR_AES_CBC, 24, IKE_INTEG_HMAC_SHA2_384_192, 16, 24 },
	{ "aes256-sha512", IKE_ENCR_AES_CBC, 32, IKE_INTEG_HMAC_SHA2_512_256, 16, 32 },
	{ "aes128gcm16", IKE_ENCR_AES_GCM_16, 20, IKE_INTEG_NONE, 1, 16 },
	{ "aes256gcm16", IKE_ENCR_AES_GCM_16, 36, IKE_INTEG_NONE, 1, 16 },
};

static struct ike_sk *
make(const struct suite *s)
{
	char err[256];
	struct ike_sk *sk;
	uint8_t ek[36];

	/* GCM: the key, then the 4-octet salt (RFC 5282 §7.1). */
	memcpy(ek, key32, s->enc_len);
	if (s->encr == IKE_ENCR_AES_GCM_16)
		memcpy(ek + s->enc_len - 4, "SALT", 4);
	sk = ike_sk_new(s->encr, ek, s->enc_len, s->integ, key64, ike_sk_integ_key_len(s->integ),
	    err, sizeof(err));
	cr_assert_not_null(sk, "%s: %s", s->name, err);
	return sk;
}

Test(ike_sk, every_suite_seals_and_opens_every_length)
{
	static const size_t lens[] = { 0, 1, 7, 15, 16, 17, 100, 1000 };
	uint8_t aad[32], plain[1100], sealed[1200], opened[1200];
	size_t i, j, len, got, iv;

	memset(aad, 0xa5, sizeof(aad));
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		struct ike_sk *sk = make(&suites[i]);

		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			len = ike_sk_sealed_len(sk, lens[j]);
			cr_assert_leq(len, sizeof(sealed));
			cr_assert_eq(ike_sk_seal(sk, aad, sizeof(aad), plain, lens[j], sealed), 0);
			cr_assert_eq(ike_sk_open(sk, aad, sizeof(aad), sealed, len, opened, &got), 0,
			    "%s: %zu octets", suites[i].name, lens[j]);
			cr_assert_eq(got, lens[j]);
			cr_assert_eq(memcmp(opened, plain, got), 0);
			/* CBC: whole blocks between IV and ICV; GCM: plain, pad length, no more. */
			iv = suites[i].block > 1 ? suites[i].block : 8;
			if (suites[i].block > 1)
				cr_assert_eq((len - iv - suites[i].icv) % suites[i].block, 0);
			else
				cr_assert_eq(len, iv + lens[j] + 1 + suites[i].icv);
		}
		ike_sk_free(sk);
	}
}

Test(ike_sk, any_changed_octet_is_refused)
{
	uint8_t aad[32], plain[40], sealed[200], opened[200];
	size_t i, j, len, got;

	memset(aad, 0x3c, sizeof(aad));
	memset(plain, 0x11, sizeof(plain));
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		struct ike_sk *sk = make(&suites[i]);

		len = ike_sk_sealed_len(sk, sizeof(plain));
		cr_assert_eq(ike_sk_seal(sk, aad, sizeof(aad), plain, sizeof(plain), sealed), 0);
		for (j = 0; j < len; j++) {
			sealed[j] ^= 0x01;
			cr_assert_eq(ike_sk_open(sk, aad, sizeof(aad), sealed, len, opened, &got), -1,
			    "%s: octet %zu of the body", suites[i].name, j);
			sealed[j] ^= 0x01;
		}
		for (j = 0; j < sizeof(aad); j++) {
			aad[j] ^= 0x80;
			cr_assert_eq(ike_sk_open(sk, aad, sizeof(aad), sealed, len, opened, &got), -1,
			    "%s: octet %zu of the header", suites[i].name, j);
			aad[j] ^= 0x80;
		}
		cr_assert_eq(ike_sk_open(sk, aad, sizeof(aad), sealed, len - 1, opened, &got), -1);
		cr_assert_eq(ike_sk_open(sk, aad, sizeof(aad), sealed, 3, opened, &got), -1);
		cr_assert_eq(ike_sk_open(sk, aad, sizeof(aad), sealed, len, opened, &got), 0);
		ike_sk_free(sk);
	}
}

Test(ike_sk, wrong_keys_are_refused)
{
	char err[256];

	cr_assert_null(ike_sk_new(IKE_ENCR_AES_CBC, key32, 17, IKE_INTEG_HMAC_SHA1_96, key64,
	    20, err, sizeof(err)));
	cr_assert_null(ike_sk_new(IKE_ENCR_AES_CBC, key32, 16, IKE_INTEG_HMAC_SHA1_96, key64,
	    19, err, sizeof(err)));
	cr_assert_null(ike_sk_new(IKE_ENCR_AES_GCM_16, key32, 20, IKE_INTEG_HMAC_SHA1_96, key64,
	    20, err, sizeof(err)));
	cr_assert(strstr(err, "RFC 5282") != NULL, "%s", err);
	cr_assert_null(ike_sk_new(99, key32, 16, IKE_INTEG_NONE, NULL, 0, err, sizeof(err)));
}
