/* The ciphers and MACs of ESP and AH, on OpenSSL EVP: one context per SA and direction,
 * prepared when the SA's first packet needs it (dp_sa.c); per packet only the IV (CBC) or
 * the nonce (GCM) is set or the MAC state reset to the SA's key. Keys live in the contexts
 * and in wiped memory only. */
#ifndef PICSEC_DP_CRYPTO_H
#define PICSEC_DP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dp_enc {
	DP_ENC_NULL,	/* RFC 2410: ESP with integrity only */
	DP_ENC_DES_CBC, /* RFC 2405 */
	DP_ENC_3DES_CBC, /* RFC 2451 */
	DP_ENC_AES128_CBC, /* RFC 3602 */
	DP_ENC_AES192_CBC,
	DP_ENC_AES256_CBC,
	DP_ENC_AES128_GCM, /* RFC 4106, 16-octet ICV; the key ends in a 4-byte salt */
	DP_ENC_AES192_GCM,
	DP_ENC_AES256_GCM,
	DP_ENC_COUNT,
};

enum dp_auth {
	DP_AUTH_NONE,
	DP_AUTH_HMAC_MD5_96,	  /* RFC 2403 */
	DP_AUTH_HMAC_SHA1_96,	  /* RFC 2404 */
	DP_AUTH_HMAC_SHA256_128, /* RFC 4868 */
	DP_AUTH_HMAC_SHA256_96,  /* hmac-sha-256-96: the pre-RFC truncation some peers use */
	DP_AUTH_COUNT,
};

enum { DP_MAX_IV = 16, DP_MAX_ICV = 16, DP_MAX_BLOCK = 16, DP_GCM_SALT = 4, DP_GCM_IV = 8 };

/* Key and block sizes of an algorithm (bytes); 0 for NULL. A GCM key length counts the
 * salt (RFC 4106 §8.1: 20, 28, 36). */
size_t dp_enc_key_len(enum dp_enc enc);
size_t dp_enc_block(enum dp_enc enc); /* the padding unit: CBC's block; NULL and GCM: 1 */
size_t dp_enc_iv_len(enum dp_enc enc); /* CBC: one block; GCM: 8; NULL: 0 */
/* AEAD ciphers (GCM) carry their own ICV and take no separate integrity algorithm. */
bool dp_enc_is_aead(enum dp_enc enc);
size_t dp_enc_icv_len(enum dp_enc enc); /* an AEAD cipher's ICV; 0 for the others */
size_t dp_auth_key_len(enum dp_auth auth);
size_t dp_auth_icv_len(enum dp_auth auth);
const char *dp_enc_name(enum dp_enc enc);
const char *dp_auth_name(enum dp_auth auth);

/* DES lives in OpenSSL's legacy provider: loaded (with the default one) the first time a
 * DES SA is made, never otherwise. Returns 0 or -1. */
int dp_crypto_enable_des(void);

struct dp_cipher;
struct dp_mac;

/* Whether a context of that algorithm with a key of that length can be made (the checks of
 * dp_cipher_new and dp_mac_new, without a context): 0, or -1 with the reason in err. */
int dp_cipher_check(enum dp_enc enc, size_t key_len, char *err, size_t errlen);
int dp_mac_check(enum dp_auth auth, size_t key_len, char *err, size_t errlen);

/* A cipher context for one direction (encrypt or decrypt) with its key; NULL on a bad key
 * length or when OpenSSL refuses (the reason in err). DP_ENC_NULL gives a context that
 * leaves data as it is. */
struct dp_cipher *dp_cipher_new(enum dp_enc enc, bool encrypt, const uint8_t *key,
    size_t key_len, char *err, size_t errlen);
void dp_cipher_free(struct dp_cipher *c);
/* CBC over len bytes in place (len a multiple of the block) with this IV. 0 or -1; -1 for
 * an AEAD context too. */
int dp_cipher_run(struct dp_cipher *c, const uint8_t *iv, uint8_t *data, size_t len);
/* GCM: encrypts len bytes in place under the nonce salt || iv (DP_GCM_IV bytes), with aad
 * authenticated too, and writes the ICV (dp_enc_icv_len bytes). 0 or -1. */
int dp_aead_seal(struct dp_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
    uint8_t *data, size_t len, uint8_t *icv);
/* The other way: decrypts in place and checks icv. -1 when it does not match (data is then
 * garbage) or when OpenSSL failed: either way the packet cannot be trusted. */
int dp_aead_open(struct dp_cipher *c, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
    uint8_t *data, size_t len, const uint8_t *icv);

struct dp_mac *dp_mac_new(enum dp_auth auth, const uint8_t *key, size_t key_len, char *err,
    size_t errlen);
void dp_mac_free(struct dp_mac *m);
/* The MAC of the concatenation of up to n segments, truncated to the ICV length. */
struct dp_iov {
	const uint8_t *data;
	size_t len;
};
int dp_mac_run(struct dp_mac *m, const struct dp_iov *seg, size_t n, uint8_t *icv);
/* Compares an ICV in constant time. */
bool dp_icv_equal(const uint8_t *a, const uint8_t *b, size_t len);

/* Unpredictable bytes for IVs, from a per-thread pool refilled by libsodium, so a packet
 * costs no system call. */
void dp_random(uint8_t *out, size_t len);

#endif
