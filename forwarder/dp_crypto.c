#include "dp_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <sodium.h>


struct dp_cipher {
	enum dp_enc enc;
	EVP_CIPHER_CTX *ctx; /* NULL for DP_ENC_NULL */
	uint8_t salt[DP_GCM_SALT]; /* GCM: the nonce's fixed part (RFC 4106 §4) */
};

struct dp_mac {
	enum dp_auth auth;
	EVP_MAC_CTX *ctx;
	size_t icv_len;
};

static const struct {
	const char *name;    /* as Junos spells it */
	const char *openssl; /* EVP name, NULL for the null cipher */
	size_t key_len, block, iv_len, icv_len; /* icv_len: AEAD only */
} dp_encs[DP_ENC_COUNT] = {
	[DP_ENC_NULL] = { "null", NULL, 0, 1, 0, 0 },
	[DP_ENC_DES_CBC] = { "des-cbc", "DES-CBC", 8, 8, 8, 0 },
	[DP_ENC_3DES_CBC] = { "3des-cbc", "DES-EDE3-CBC", 24, 8, 8, 0 },
	[DP_ENC_AES128_CBC] = { "aes-128-cbc", "AES-128-CBC", 16, 16, 16, 0 },
	[DP_ENC_AES192_CBC] = { "aes-192-cbc", "AES-192-CBC", 24, 16, 16, 0 },
	[DP_ENC_AES256_CBC] = { "aes-256-cbc", "AES-256-CBC", 32, 16, 16, 0 },
	/* A stream mode: no block to pad to (ESP still aligns to 4, RFC 4106 §3.2). The
	 * keys count the salt. */
	[DP_ENC_AES128_GCM] = { "aes-128-gcm", "AES-128-GCM", 20, 1, DP_GCM_IV, 16 },
	[DP_ENC_AES192_GCM] = { "aes-192-gcm", "AES-192-GCM", 28, 1, DP_GCM_IV, 16 },
	[DP_ENC_AES256_GCM] = { "aes-256-gcm", "AES-256-GCM", 36, 1, DP_GCM_IV, 16 },
};

static const struct {
	const char *name;
	const char *digest;
	size_t key_len, icv_len;
} dp_auths[DP_AUTH_COUNT] = {
	[DP_AUTH_NONE] = { "none", NULL, 0, 0 },
	[DP_AUTH_HMAC_MD5_96] = { "hmac-md5-96", "MD5", 16, 12 },
	[DP_AUTH_HMAC_SHA1_96] = { "hmac-sha1-96", "SHA1", 20, 12 },
	[DP_AUTH_HMAC_SHA256_128] = { "hmac-sha-256-128", "SHA256", 32, 16 },
	[DP_AUTH_HMAC_SHA256_96] = { "hmac-sha-256-96", "SHA256", 32, 12 },
};

/* Fetched once: fetching per SA would walk the provider tables each time. */
static EVP_CIPHER *dp_cipher_algs[DP_ENC_COUNT];
static EVP_MAC *dp_hmac;

size_t
dp_enc_key_len(enum dp_enc enc)
{
	return enc < DP_ENC_COUNT ? dp_encs[enc].key_len : 0;
}

size_t
dp_enc_block(enum dp_enc enc)
{
	return enc < DP_ENC_COUNT ? dp_encs[enc].block : 1;
}

size_t
dp_enc_iv_len(enum dp_enc enc)
{
	return enc < DP_ENC_COUNT ? dp_encs[enc].iv_len : 0;
}

bool
dp_enc_is_aead(enum dp_enc enc)
{
	return dp_enc_icv_len(enc) > 0;
}

size_t
dp_enc_icv_len(enum dp_enc enc)
{
	return enc < DP_ENC_COUNT ? dp_encs[enc].icv_len : 0;
}

size_t
dp_auth_key_len(enum dp_auth auth)
{
	return auth < DP_AUTH_COUNT ? dp_auths[auth].key_len : 0;
}

size_t
dp_auth_icv_len(enum dp_auth auth)
{
	return auth < DP_AUTH_COUNT ? dp_auths[auth].icv_len : 0;
}

const char *
dp_enc_name(enum dp_enc enc)
{
	return enc < DP_ENC_COUNT ? dp_encs[enc].name : "?";
}

const char *
dp_auth_name(enum dp_auth auth)
{
	return auth < DP_AUTH_COUNT ? dp_auths[auth].name : "?";
}

static void
dp_openssl_error(char *err, size_t errlen, const char *what)
{
	char reason[256] = "";
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s", what, reason[0] != '\0' ? ": " : "", reason);
}

int
dp_crypto_enable_des(void)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */

	/* Loading legacy alone would switch the implicit default provider off. */
	if (state == 0)
		state = OSSL_PROVIDER_load(NULL, "legacy") != NULL &&
		    OSSL_PROVIDER_load(NULL, "default") != NULL ? 1 : -1;
	return state == 1 ? 0 : -1;
}

int
dp_cipher_check(enum dp_enc enc, size_t key_len, char *err, size_t errlen)
{
	if (enc >= DP_ENC_COUNT || key_len != dp_encs[enc].key_len) {
		snprintf(err, errlen, "%s takes a key of %zu bytes, not %zu%s",
		    dp_enc_name(enc), dp_enc_key_len(enc), key_len, dp_enc_is_aead(enc) ?
		    " (the AES key, then a 4-byte salt: RFC 4106 §8.1)" : "");
		return -1;
	}
	if (enc == DP_ENC_NULL)
		return 0;
	if (enc == DP_ENC_DES_CBC && dp_crypto_enable_des() == -1) {
		dp_openssl_error(err, errlen, "cannot load OpenSSL's legacy provider for DES");
		return -1;
	}
	if (dp_cipher_algs[enc] == NULL &&
	    (dp_cipher_algs[enc] = EVP_CIPHER_fetch(NULL, dp_encs[enc].openssl, NULL)) == NULL) {
		dp_openssl_error(err, errlen, dp_encs[enc].openssl);
		return -1;
	}
	return 0;
}

struct dp_cipher *
dp_cipher_new(enum dp_enc enc, bool encrypt, const uint8_t *key, size_t key_len, char *err,
    size_t errlen)
{
	struct dp_cipher *c;

	if (dp_cipher_check(enc, key_len, err, errlen) == -1)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->enc = enc;
	if (enc == DP_ENC_NULL)
		return c;
	if (dp_enc_is_aead(enc)) {
		/* The salt is the keying material's last 4 bytes, not part of the key. */
		key_len -= DP_GCM_SALT;
		memcpy(c->salt, key + key_len, DP_GCM_SALT);
	}
	if ((c->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex2(c->ctx, dp_cipher_algs[enc], key, NULL, encrypt ? 1 : 0,
	    NULL) != 1 || EVP_CIPHER_CTX_set_padding(c->ctx, 0) != 1) {
		dp_openssl_error(err, errlen, dp_encs[enc].openssl);
		goto error;
	}
	return c;
error:
	dp_cipher_free(c);
	return NULL;
}

void
dp_cipher_free(struct dp_cipher *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->ctx); /* clears the key schedule */
	OPENSSL_cleanse(c->salt, sizeof(c->salt));
	free(c);
}

int
dp_cipher_run(struct dp_cipher *c, const uint8_t *iv, uint8_t *data, size_t len)
{
	int out;

	if (c->ctx == NULL)
		return 0;
	if (dp_enc_is_aead(c->enc) || len % dp_encs[c->enc].block != 0 ||
	    len > (size_t)INT32_MAX)
		return -1;
	/* Only the IV changes: the key schedule stays from dp_cipher_new. */
	if (EVP_CipherInit_ex2(c->ctx, NULL, NULL, iv, -1, NULL) != 1 ||
	    EVP_CipherUpdate(c->ctx, data, &out, data, (int)len) != 1 || (size_t)out != len) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* The per-packet part of GCM, shared by both directions: the nonce (the key schedule and
 * GHASH key stay from dp_cipher_new), the additional data, the payload in place. */
static int
dp_gcm_start(struct dp_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
    uint8_t *data, size_t len)
{
	uint8_t nonce[DP_GCM_SALT + DP_GCM_IV];
	int out;

	if (c->ctx == NULL || !dp_enc_is_aead(c->enc) || len > (size_t)INT32_MAX ||
	    aad_len > (size_t)INT32_MAX)
		return -1;
	memcpy(nonce, c->salt, DP_GCM_SALT);
	memcpy(nonce + DP_GCM_SALT, iv, DP_GCM_IV);
	if (EVP_CipherInit_ex2(c->ctx, NULL, NULL, nonce, -1, NULL) != 1 ||
	    EVP_CipherUpdate(c->ctx, NULL, &out, aad, (int)aad_len) != 1 ||
	    EVP_CipherUpdate(c->ctx, data, &out, data, (int)len) != 1 || (size_t)out != len)
		return -1;
	return 0;
}

int
dp_aead_seal(struct dp_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
    uint8_t *data, size_t len, uint8_t *icv)
{
	uint8_t none[DP_MAX_BLOCK];
	int out;

	if (dp_gcm_start(c, iv, aad, aad_len, data, len) == -1 ||
	    EVP_CipherFinal_ex(c->ctx, none, &out) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_GET_TAG, (int)dp_encs[c->enc].icv_len,
	    icv) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int
dp_aead_open(struct dp_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
    uint8_t *data, size_t len, const uint8_t *icv)
{
	uint8_t none[DP_MAX_BLOCK];
	int out;

	/* OpenSSL compares the tag in constant time at the final step. */
	if (dp_gcm_start(c, iv, aad, aad_len, data, len) == -1 ||
	    EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, (int)dp_encs[c->enc].icv_len,
	    (void *)(uintptr_t)icv) != 1 ||
	    EVP_CipherFinal_ex(c->ctx, none, &out) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int
dp_mac_check(enum dp_auth auth, size_t key_len, char *err, size_t errlen)
{
	if (auth == DP_AUTH_NONE || auth >= DP_AUTH_COUNT ||
	    key_len != dp_auths[auth].key_len) {
		snprintf(err, errlen, "%s takes a key of %zu bytes, not %zu", dp_auth_name(auth),
		    dp_auth_key_len(auth), key_len);
		return -1;
	}
	if (dp_hmac == NULL && (dp_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
		dp_openssl_error(err, errlen, "HMAC");
		return -1;
	}
	return 0;
}

struct dp_mac *
dp_mac_new(enum dp_auth auth, const uint8_t *key, size_t key_len, char *err, size_t errlen)
{
	OSSL_PARAM params[2];
	struct dp_mac *m;

	if (dp_mac_check(auth, key_len, err, errlen) == -1)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->auth = auth;
	m->icv_len = dp_auths[auth].icv_len;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)dp_auths[auth].digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((m->ctx = EVP_MAC_CTX_new(dp_hmac)) == NULL ||
	    EVP_MAC_init(m->ctx, key, key_len, params) != 1) {
		dp_openssl_error(err, errlen, dp_auths[auth].digest);
		goto error;
	}
	return m;
error:
	dp_mac_free(m);
	return NULL;
}

void
dp_mac_free(struct dp_mac *m)
{
	if (m == NULL)
		return;
	EVP_MAC_CTX_free(m->ctx);
	free(m);
}

int
dp_mac_run(struct dp_mac *m, const struct dp_iov *seg, size_t n, uint8_t *icv)
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t i, len = 0;

	/* A NULL key re-initialises with the key given at dp_mac_new. */
	if (EVP_MAC_init(m->ctx, NULL, 0, NULL) != 1)
		goto error;
	for (i = 0; i < n; i++) {
		if (seg[i].len > 0 && EVP_MAC_update(m->ctx, seg[i].data, seg[i].len) != 1)
			goto error;
	}
	if (EVP_MAC_final(m->ctx, full, &len, sizeof(full)) != 1 || len < m->icv_len)
		goto error;
	memcpy(icv, full, m->icv_len);
	return 0;
error:
	ERR_clear_error();
	return -1;
}

bool
dp_icv_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void
dp_random(uint8_t *out, size_t len)
{
	static _Thread_local uint8_t pool[16384];
	static _Thread_local size_t left;
	uint8_t seed[randombytes_SEEDBYTES];

	if (len > sizeof(pool)) {
		randombytes_buf(out, len);
		return;
	}
	if (left < len) {
		/* One system call per refill: the kernel's randomness seeds libsodium's ChaCha20
		 * stream (the kernel's own reads come in 256-byte pieces, 64 calls here). */
		randombytes_buf(seed, sizeof(seed));
		randombytes_buf_deterministic(pool, sizeof(pool), seed);
		sodium_memzero(seed, sizeof(seed));
		left = sizeof(pool);
	}
	/* IVs go out in the clear: the pool needs unpredictability, not secrecy. */
	memcpy(out, pool + sizeof(pool) - left, len);
	left -= len;
}
