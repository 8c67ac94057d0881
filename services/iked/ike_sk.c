/* The Encrypted payload (ike_sk.h): AES-CBC or 3DES with an HMAC, encrypt-then-MAC over
 * header | IV | ciphertext (RFC 7296 §3.14); or AES-GCM with a 16-octet ICV, the header as
 * additional data and salt | IV as nonce (RFC 5282 §3, §4). */
#include "ike_sk.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

enum { IKE_SK_MAX_ICV = 32, GCM_SALT = 4, GCM_IV = 8, GCM_ICV = 16 };

struct ike_sk {
	enum ike_encr encr;
	bool aead;
	size_t block, iv_len, icv_len;
	EVP_CIPHER_CTX *enc, *dec;
	EVP_MAC_CTX *mac;
	uint8_t salt[GCM_SALT];
};

static const struct {
	enum ike_integ id;
	const char *digest;
	size_t key_len, icv_len;
} ike_integs[] = {
	{ IKE_INTEG_HMAC_MD5_96, "MD5", 16, 12 },
	{ IKE_INTEG_HMAC_SHA1_96, "SHA1", 20, 12 },
	{ IKE_INTEG_HMAC_SHA2_256_128, "SHA2-256", 32, 16 },
	{ IKE_INTEG_HMAC_SHA2_384_192, "SHA2-384", 48, 24 },
	{ IKE_INTEG_HMAC_SHA2_512_256, "SHA2-512", 64, 32 },
};

size_t
ike_sk_integ_key_len(enum ike_integ integ)
{
	size_t i;

	for (i = 0; i < sizeof(ike_integs) / sizeof(ike_integs[0]); i++) {
		if (ike_integs[i].id == integ)
			return ike_integs[i].key_len;
	}
	return 0;
}

static const char *
ike_sk_cipher_name(enum ike_encr encr, size_t key_len)
{
	switch (encr) {
	case IKE_ENCR_3DES:
		return key_len == 24 ? "DES-EDE3-CBC" : NULL;
	case IKE_ENCR_AES_CBC:
		return key_len == 16 ? "AES-128-CBC" : key_len == 24 ? "AES-192-CBC" :
		    key_len == 32 ? "AES-256-CBC" : NULL;
	case IKE_ENCR_AES_GCM_16:
		return key_len == 16 + GCM_SALT ? "AES-128-GCM" : key_len == 24 + GCM_SALT ?
		    "AES-192-GCM" : key_len == 32 + GCM_SALT ? "AES-256-GCM" : NULL;
	}
	return NULL;
}

void
ike_sk_free(struct ike_sk *sk)
{
	if (sk == NULL)
		return;
	EVP_CIPHER_CTX_free(sk->enc); /* clears the key schedules */
	EVP_CIPHER_CTX_free(sk->dec);
	EVP_MAC_CTX_free(sk->mac);
	sodium_memzero(sk, sizeof(*sk));
	free(sk);
}

struct ike_sk *
ike_sk_new(enum ike_encr encr, const uint8_t *enc_key, size_t enc_key_len,
    enum ike_integ integ, const uint8_t *integ_key, size_t integ_key_len, char *err,
    size_t errlen)
{
	const char *name = ike_sk_cipher_name(encr, enc_key_len);
	struct ike_sk *sk = NULL;
	EVP_CIPHER *cipher = NULL;
	EVP_MAC *hmac = NULL;
	OSSL_PARAM params[2];
	size_t i;

	if (name == NULL) {
		snprintf(err, errlen, "encryption %d with a %zu-octet key is not supported",
		    (int)encr, enc_key_len);
		return NULL;
	}
	if ((sk = calloc(1, sizeof(*sk))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sk->encr = encr;
	sk->aead = encr == IKE_ENCR_AES_GCM_16;
	if ((cipher = EVP_CIPHER_fetch(NULL, name, NULL)) == NULL ||
	    (sk->enc = EVP_CIPHER_CTX_new()) == NULL || (sk->dec = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(sk->enc, cipher, enc_key, NULL, NULL) != 1 ||
	    EVP_DecryptInit_ex2(sk->dec, cipher, enc_key, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(sk->enc, 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(sk->dec, 0) != 1) {
		snprintf(err, errlen, "%s: OpenSSL refused the cipher", name);
		goto fail;
	}
	if (sk->aead) {
		if (integ != IKE_INTEG_NONE) {
			snprintf(err, errlen, "AES-GCM takes no integrity transform (RFC 5282 §8)");
			goto fail;
		}
		memcpy(sk->salt, enc_key + enc_key_len - GCM_SALT, GCM_SALT);
		sk->block = 1;
		sk->iv_len = GCM_IV;
		sk->icv_len = GCM_ICV;
		EVP_CIPHER_free(cipher);
		return sk;
	}
	sk->block = (size_t)EVP_CIPHER_get_block_size(cipher);
	sk->iv_len = sk->block;
	for (i = 0; i < sizeof(ike_integs) / sizeof(ike_integs[0]); i++) {
		if (ike_integs[i].id == integ)
			break;
	}
	if (i == sizeof(ike_integs) / sizeof(ike_integs[0]) ||
	    integ_key_len != ike_integs[i].key_len) {
		snprintf(err, errlen, "integrity %d with a %zu-octet key is not supported",
		    (int)integ, integ_key_len);
		goto fail;
	}
	sk->icv_len = ike_integs[i].icv_len;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)ike_integs[i].digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (sk->mac = EVP_MAC_CTX_new(hmac)) == NULL ||
	    EVP_MAC_init(sk->mac, integ_key, integ_key_len, params) != 1) {
		snprintf(err, errlen, "HMAC-%s: OpenSSL refused it", ike_integs[i].digest);
		goto fail;
	}
	EVP_MAC_free(hmac);
	EVP_CIPHER_free(cipher);
	return sk;
fail:
	ERR_clear_error();
	EVP_MAC_free(hmac);
	EVP_CIPHER_free(cipher);
	ike_sk_free(sk);
	return NULL;
}

size_t
ike_sk_sealed_len(const struct ike_sk *sk, size_t plain_len)
{
	size_t body = plain_len + 1; /* the pad length octet */

	body += (sk->block - body % sk->block) % sk->block;
	return sk->iv_len + body + sk->icv_len;
}

/* The ICV of aad | iv | ciphertext (CBC suites). */
static int
ike_sk_icv(struct ike_sk *sk, const uint8_t *aad, size_t aad_len, const uint8_t *body,
    size_t body_len, uint8_t *icv)
{
	uint8_t full[64];
	size_t len = 0;
	int rc = -1;

	if (EVP_MAC_init(sk->mac, NULL, 0, NULL) == 1 &&
	    EVP_MAC_update(sk->mac, aad, aad_len) == 1 &&
	    EVP_MAC_update(sk->mac, body, body_len) == 1 &&
	    EVP_MAC_final(sk->mac, full, &len, sizeof(full)) == 1 && len >= sk->icv_len) {
		memcpy(icv, full, sk->icv_len);
		rc = 0;
	}
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

static int
ike_sk_gcm(EVP_CIPHER_CTX *ctx, bool seal, const uint8_t *salt, const uint8_t *iv,
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t *tag)
{
	uint8_t nonce[GCM_SALT + GCM_IV];
	int n;
	int ok;

	memcpy(nonce, salt, GCM_SALT);
	memcpy(nonce + GCM_SALT, iv, GCM_IV);
	ok = EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, seal ? 1 : 0, NULL) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 && (size_t)n == len;
	if (ok && !seal)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_ICV, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + len, &n) == 1;
	if (ok && seal)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_ICV, tag) == 1;
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : -1;
}

int
ike_sk_seal(struct ike_sk *sk, const uint8_t *aad, size_t aad_len, const uint8_t *plain,
    size_t plain_len, uint8_t *out)
{
	size_t total = ike_sk_sealed_len(sk, plain_len);
	size_t body = total - sk->iv_len - sk->icv_len, pad = body - plain_len - 1;
	uint8_t *iv = out, *ct = out + sk->iv_len, *icv = out + total - sk->icv_len;
	int n;

	randombytes_buf(iv, sk->iv_len);
	/* Plaintext | padding (any value: zeros) | pad length, encrypted in place. */
	memmove(ct, plain, plain_len);
	memset(ct + plain_len, 0, pad);
	ct[body - 1] = (uint8_t)pad;
	if (sk->aead)
		return ike_sk_gcm(sk->enc, true, sk->salt, iv, aad, aad_len, ct, body, ct, icv);
	if (EVP_EncryptInit_ex2(sk->enc, NULL, NULL, iv, NULL) != 1 ||
	    EVP_EncryptUpdate(sk->enc, ct, &n, ct, (int)body) != 1 || (size_t)n != body) {
		ERR_clear_error();
		return -1;
	}
	return ike_sk_icv(sk, aad, aad_len, out, sk->iv_len + body, icv);
}

int
ike_sk_open(struct ike_sk *sk, const uint8_t *aad, size_t aad_len, const uint8_t *in,
    size_t in_len, uint8_t *plain, size_t *plain_len)
{
	uint8_t icv[IKE_SK_MAX_ICV], tag[GCM_ICV];
	size_t body;
	int n;

	if (in_len < sk->iv_len + sk->icv_len + 1)
		return -1;
	body = in_len - sk->iv_len - sk->icv_len;
	if (body % sk->block != 0)
		return -1;
	if (sk->aead) {
		memcpy(tag, in + in_len - GCM_ICV, GCM_ICV);
		if (ike_sk_gcm(sk->dec, false, sk->salt, in, aad, aad_len, in + sk->iv_len, body,
		    plain, tag) != 0)
			return -1;
	} else {
		/* Integrity first: nothing is decrypted that was not sent by the peer. */
		if (ike_sk_icv(sk, aad, aad_len, in, sk->iv_len + body, icv) != 0 ||
		    CRYPTO_memcmp(icv, in + in_len - sk->icv_len, sk->icv_len) != 0)
			return -1;
		if (EVP_DecryptInit_ex2(sk->dec, NULL, NULL, in, NULL) != 1 ||
		    EVP_DecryptUpdate(sk->dec, plain, &n, in + sk->iv_len, (int)body) != 1 ||
		    (size_t)n != body) {
			ERR_clear_error();
			return -1;
		}
	}
	if (plain[body - 1] >= body)
		return -1;
	*plain_len = body - 1 - plain[body - 1];
	return 0;
}
