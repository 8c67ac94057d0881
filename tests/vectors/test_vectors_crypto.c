/* Known answers for the MACs and ciphers, through dp_crypto as the SAs use it: HMAC-MD5
 * and HMAC-SHA1 from RFC 2202 (the cases whose keys have the IPsec key length), HMAC-SHA-256
 * from RFC 4868 §2.7.2.1 (AUTH256-1..4), AES-CBC from RFC 3602 §4 (cases 1 and 2), DES-CBC
 * from FIPS 81 (the CBC example), 3DES from SP 800-67 (its example key, block by block),
 * AES-GCM from McGrew and Viega's GCM specification (test cases 4, 10 and 16: a 96-bit IV
 * split as RFC 4106's salt and explicit IV, additional data, a partial last block). */
#include "dp_crypto.h"
#include "vectors.h"

static void
mac_case(enum dp_auth auth, const char *key_hex, const uint8_t *data, size_t len,
    const char *icv_hex)
{
	uint8_t key[64], want[DP_MAX_ICV], got[DP_MAX_ICV];
	size_t key_len = unhex(key_hex, key, sizeof(key)), icv_len;
	struct dp_iov one = { data, len };
	struct dp_iov split[3] = { { data, len / 3 }, { data + len / 3, 0 },
		{ data + len / 3, len - len / 3 } };
	char err[256] = "";
	struct dp_mac *m = dp_mac_new(auth, key, key_len, err, sizeof(err));

	cr_assert_not_null(m, "%s: %s", dp_auth_name(auth), err);
	icv_len = unhex(icv_hex, want, sizeof(want));
	cr_assert_eq(icv_len, dp_auth_icv_len(auth));
	cr_assert_eq(dp_mac_run(m, &one, 1, got), 0);
	assert_bytes(got, want, icv_len, dp_auth_name(auth));
	/* Again on the same context (the key survives), and over segments. */
	cr_assert_eq(dp_mac_run(m, split, 3, got), 0);
	assert_bytes(got, want, icv_len, "the same MAC over three segments");
	dp_mac_free(m);
}

static const uint8_t hi_there[] = "Hi There";
static const uint8_t truncation[] = "Test With Truncation";

Test(vectors, hmac_md5_96_rfc2202)
{
	uint8_t dd[50];

	memset(dd, 0xdd, sizeof(dd));
	mac_case(DP_AUTH_HMAC_MD5_96, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", hi_there, 8,
	    "9294727a3638bb1c13f48ef8");
	mac_case(DP_AUTH_HMAC_MD5_96, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", dd, sizeof(dd),
	    "56be34521d144c88dbb8c733");
	/* Test case 5 is the one RFC 2202 gives for the 96-bit truncation itself. */
	mac_case(DP_AUTH_HMAC_MD5_96, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", truncation, 20,
	    "56461ef2342edc00f9bab995");
}

Test(vectors, hmac_sha1_96_rfc2202)
{
	uint8_t dd[50];

	memset(dd, 0xdd, sizeof(dd));
	mac_case(DP_AUTH_HMAC_SHA1_96, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", hi_there, 8,
	    "b617318655057264e28bc0b6");
	mac_case(DP_AUTH_HMAC_SHA1_96, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", dd, sizeof(dd),
	    "125d7342b9ac11cd91a39af4");
	mac_case(DP_AUTH_HMAC_SHA1_96, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", truncation,
	    20, "4c1a03424b55e07fe7f27be1");
}

Test(vectors, hmac_sha256_128_rfc4868)
{
	static const uint8_t jefe[] = "what do ya want for nothing?";
	uint8_t dd[50], cd[50];

	memset(dd, 0xdd, sizeof(dd));
	memset(cd, 0xcd, sizeof(cd));
	mac_case(DP_AUTH_HMAC_SHA256_128,
	    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", hi_there, 8,
	    "198a607eb44bfbc69903a0f1cf2bbdc5");
	/* "JefeJefe..." (32 bytes) */
	mac_case(DP_AUTH_HMAC_SHA256_128,
	    "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665", jefe, 28,
	    "167f928588c5cc2eef8e3093caa0e87c");
	mac_case(DP_AUTH_HMAC_SHA256_128,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", dd, sizeof(dd),
	    "cdcb1220d1ecccea91e53aba3092f962");
	mac_case(DP_AUTH_HMAC_SHA256_128,
	    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", cd, sizeof(cd),
	    "372efcf9b40b35c2115b1346903d2ef4");
	/* The 96-bit truncation (hmac-sha-256-96) is the same MAC, shorter. */
	mac_case(DP_AUTH_HMAC_SHA256_96,
	    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", hi_there, 8,
	    "198a607eb44bfbc69903a0f1");
}

/* Encrypts pt with key and iv and compares with ct; then decrypts back. */
static void
cbc_case(enum dp_enc enc, const char *key_hex, const char *iv_hex, const uint8_t *pt,
    size_t len, const char *ct_hex)
{
	uint8_t key[32], iv[DP_MAX_IV], want[64], buf[64];
	size_t key_len = unhex(key_hex, key, sizeof(key));
	char err[256] = "";
	struct dp_cipher *e, *d;

	unhex(iv_hex, iv, sizeof(iv));
	cr_assert_eq(unhex(ct_hex, want, sizeof(want)), len);
	e = dp_cipher_new(enc, true, key, key_len, err, sizeof(err));
	d = dp_cipher_new(enc, false, key, key_len, err, sizeof(err));
	cr_assert(e != NULL && d != NULL, "%s: %s", dp_enc_name(enc), err);
	memcpy(buf, pt, len);
	cr_assert_eq(dp_cipher_run(e, iv, buf, len), 0);
	assert_bytes(buf, want, len, dp_enc_name(enc));
	cr_assert_eq(dp_cipher_run(d, iv, buf, len), 0);
	assert_bytes(buf, pt, len, "decrypted back");
	/* A length that is not whole blocks is refused, not half done. */
	cr_assert_eq(dp_cipher_run(e, iv, buf, len - 1), -1);
	dp_cipher_free(e);
	dp_cipher_free(d);
}

Test(vectors, aes_cbc_rfc3602)
{
	uint8_t seq[32];
	size_t i;

	for (i = 0; i < sizeof(seq); i++)
		seq[i] = (uint8_t)i;
	cbc_case(DP_ENC_AES128_CBC, "06a9214036b8a15b512e03d534120006",
	    "3dafba429d9eb430b422da802c9fac41", (const uint8_t *)"Single block msg", 16,
	    "e353779c1079aeb82708942dbe77181a");
	cbc_case(DP_ENC_AES128_CBC, "c286696d887c9aa0611bbb3e2025a45a",
	    "562e17996d093d28ddb3ba695a2e6f58", seq, 32,
	    "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
}

Test(vectors, des_cbc_fips81)
{
	cbc_case(DP_ENC_DES_CBC, "0123456789abcdef", "1234567890abcdef",
	    (const uint8_t *)"Now is the time for all ", 24,
	    "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6");
}

Test(vectors, tdes_sp800_67)
{
	/* SP 800-67's example in ECB; with a zero IV one CBC block is one ECB block. Its
	 * plaintext really is spelled "qufck". */
	static const char key[] = "0123456789abcdef23456789abcdef01456789abcdef0123";
	static const char zero[] = "0000000000000000";

	cbc_case(DP_ENC_3DES_CBC, key, zero, (const uint8_t *)"The qufc", 8, "a826fd8ce53b855f");
	cbc_case(DP_ENC_3DES_CBC, key, zero, (const uint8_t *)"k brown ", 8, "cce21c8112256fe6");
	cbc_case(DP_ENC_3DES_CBC, key, zero, (const uint8_t *)"fox jump", 8, "68d5c05dd9b6b900");
}

/* Seals pt under key || salt and the explicit iv with aad, compares with ct and the tag;
 * opens it back; a changed bit of the tag, the additional data or the ciphertext fails. */
static void
gcm_case(enum dp_enc enc, const char *key_hex, const char *salt_iv_hex, const char *aad_hex,
    const char *pt_hex, const char *ct_hex, const char *tag_hex)
{
	uint8_t key[40], nonce[12], aad[32], pt[64], want[64], tag[16], buf[64], icv[16];
	size_t key_len = unhex(key_hex, key, 32), aad_len, len;
	char err[256] = "";
	struct dp_cipher *e, *d;

	cr_assert_eq(unhex(salt_iv_hex, nonce, sizeof(nonce)), 12);
	memcpy(key + key_len, nonce, DP_GCM_SALT); /* the keying material ends in the salt */
	key_len += DP_GCM_SALT;
	aad_len = unhex(aad_hex, aad, sizeof(aad));
	len = unhex(pt_hex, pt, sizeof(pt));
	cr_assert_eq(unhex(ct_hex, want, sizeof(want)), len);
	cr_assert_eq(unhex(tag_hex, tag, sizeof(tag)), dp_enc_icv_len(enc));
	e = dp_cipher_new(enc, true, key, key_len, err, sizeof(err));
	d = dp_cipher_new(enc, false, key, key_len, err, sizeof(err));
	cr_assert(e != NULL && d != NULL, "%s: %s", dp_enc_name(enc), err);
	memcpy(buf, pt, len);
	cr_assert_eq(dp_aead_seal(e, nonce + DP_GCM_SALT, aad, aad_len, buf, len, icv), 0);
	assert_bytes(buf, want, len, dp_enc_name(enc));
	assert_bytes(icv, tag, sizeof(tag), "the tag");
	cr_assert_eq(dp_aead_open(d, nonce + DP_GCM_SALT, aad, aad_len, buf, len, icv), 0);
	assert_bytes(buf, pt, len, "decrypted back");
	/* Every input the tag covers, and the tag itself. */
	icv[15] ^= 0x80;
	memcpy(buf, want, len);
	cr_assert_eq(dp_aead_open(d, nonce + DP_GCM_SALT, aad, aad_len, buf, len, icv), -1);
	icv[15] ^= 0x80;
	aad[0] ^= 1;
	memcpy(buf, want, len);
	cr_assert_eq(dp_aead_open(d, nonce + DP_GCM_SALT, aad, aad_len, buf, len, icv), -1);
	aad[0] ^= 1;
	memcpy(buf, want, len);
	buf[len - 1] ^= 1;
	cr_assert_eq(dp_aead_open(d, nonce + DP_GCM_SALT, aad, aad_len, buf, len, icv), -1);
	/* The same context opens the good one again: a failure leaves nothing behind. */
	memcpy(buf, want, len);
	cr_assert_eq(dp_aead_open(d, nonce + DP_GCM_SALT, aad, aad_len, buf, len, icv), 0);
	cr_assert_eq(dp_cipher_run(e, nonce, buf, 16), -1, "GCM is not run as CBC");
	dp_cipher_free(e);
	dp_cipher_free(d);
}

Test(vectors, aes_gcm_mcgrew_viega)
{
	static const char salt_iv[] = "cafebabe facedbaddecaf888";
	static const char aad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
	static const char pt[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";

	gcm_case(DP_ENC_AES128_GCM, "feffe9928665731c6d6a8f9467308308", salt_iv, aad, pt,
	    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	    "5bc94fbc3221a5db94fae95ae7121a47");
	gcm_case(DP_ENC_AES192_GCM, "feffe9928665731c6d6a8f9467308308feffe9928665731c", salt_iv,
	    aad, pt,
	    "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
	    "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
	    "2519498e80f1478f37ba55bd6d27618c");
	gcm_case(DP_ENC_AES256_GCM,
	    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", salt_iv, aad, pt,
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	    "76fc6ece0f4e1768cddf8853bb2d551b");
}

Test(vectors, wrong_key_lengths_are_refused)
{
	uint8_t key[40] = { 0 };
	char err[256];

	cr_assert_null(dp_cipher_new(DP_ENC_AES128_CBC, true, key, 15, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "16 bytes"), "%s", err);
	cr_assert_null(dp_cipher_new(DP_ENC_3DES_CBC, true, key, 16, err, sizeof(err)));
	/* GCM: the AES key alone is not enough, the salt follows it (RFC 4106 §8.1). */
	cr_assert_null(dp_cipher_new(DP_ENC_AES128_GCM, true, key, 16, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "20 bytes"), "%s", err);
	cr_assert_not_null(strstr(err, "salt"), "%s", err);
	cr_assert_null(dp_cipher_new(DP_ENC_AES192_GCM, true, key, 24, err, sizeof(err)));
	cr_assert_null(dp_cipher_new(DP_ENC_AES256_GCM, true, key, 32, err, sizeof(err)));
	cr_assert_null(dp_cipher_new(DP_ENC_AES256_GCM, true, key, 40, err, sizeof(err)));
	cr_assert_null(dp_mac_new(DP_AUTH_HMAC_SHA1_96, key, 16, err, sizeof(err)));
	cr_assert_null(dp_mac_new(DP_AUTH_NONE, key, 0, err, sizeof(err)));
}
