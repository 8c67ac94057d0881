/* IKEv2 key derivation (ike_kdf.h). */
#include "ike_kdf.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

static const char *
ike_prf_digest(enum ike_prf_id prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_MD5: return "MD5";
	case IKE_PRF_HMAC_SHA1: return "SHA1";
	case IKE_PRF_HMAC_SHA2_256: return "SHA2-256";
	case IKE_PRF_HMAC_SHA2_384: return "SHA2-384";
	case IKE_PRF_HMAC_SHA2_512: return "SHA2-512";
	}
	return NULL;
}

size_t
ike_prf_len(enum ike_prf_id prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_MD5: return 16;
	case IKE_PRF_HMAC_SHA1: return 20;
	case IKE_PRF_HMAC_SHA2_256: return 32;
	case IKE_PRF_HMAC_SHA2_384: return 48;
	case IKE_PRF_HMAC_SHA2_512: return 64;
	}
	return 0;
}

int
ike_prf(enum ike_prf_id prf, const uint8_t *key, size_t key_len,
    const struct ike_bytes *parts, size_t nparts, uint8_t *out)
{
	const char *digest = ike_prf_digest(prf);
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac = NULL;
	size_t i, len = 0;
	int rc = -1;

	if (digest == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, key_len, params) != 1)
		goto out;
	for (i = 0; i < nparts; i++) {
		if (parts[i].len > 0 && EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1)
			goto out;
	}
	if (EVP_MAC_final(ctx, out, &len, ike_prf_len(prf)) != 1 || len != ike_prf_len(prf))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	EVP_MAC_CTX_free(ctx); /* clears the keyed state */
	EVP_MAC_free(mac);
	return rc;
}

int
ike_prf_plus(enum ike_prf_id prf, const uint8_t *key, size_t key_len,
    const struct ike_bytes *parts, size_t nparts, uint8_t *out, size_t outlen)
{
	enum { MAX_PARTS = 8 };
	struct ike_bytes in[MAX_PARTS + 2];
	size_t plen = ike_prf_len(prf), done = 0, n;
	uint8_t t[IKE_PRF_MAX], counter;
	int rc = -1;

	/* T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n): the counter is one octet. */
	if (plen == 0 || nparts > MAX_PARTS || outlen > 255 * plen)
		return -1;
	memcpy(in + 1, parts, nparts * sizeof(*parts));
	for (counter = 1; done < outlen; counter++) {
		in[0] = (struct ike_bytes){ t, counter == 1 ? 0 : plen };
		in[nparts + 1] = (struct ike_bytes){ &counter, 1 };
		if (ike_prf(prf, key, key_len, in, nparts + 2, t) != 0)
			goto out;
		n = outlen - done < plen ? outlen - done : plen;
		memcpy(out + done, t, n);
		done += n;
	}
	rc = 0;
out:
	OPENSSL_cleanse(t, sizeof(t));
	return rc;
}

int
ike_skeyseed(enum ike_prf_id prf, const struct ike_bytes *ni, const struct ike_bytes *nr,
    const struct ike_bytes *gir, uint8_t *out)
{
	uint8_t key[2 * 256];
	int rc;

	/* The key is Ni | Nr, whole, for the HMAC PRFs (§2.14). */
	if (ni->len > 256 || nr->len > 256)
		return -1;
	memcpy(key, ni->data, ni->len);
	memcpy(key + ni->len, nr->data, nr->len);
	rc = ike_prf(prf, key, ni->len + nr->len, gir, 1, out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
ike_skeyseed_rekey(enum ike_prf_id prf, const uint8_t *sk_d, size_t sk_d_len,
    const struct ike_bytes *gir_new, const struct ike_bytes *ni, const struct ike_bytes *nr,
    uint8_t *out)
{
	struct ike_bytes parts[3] = { *gir_new, *ni, *nr };

	return ike_prf(prf, sk_d, sk_d_len, parts, 3, out);
}
