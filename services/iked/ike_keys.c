/* IKE SA keys and PSK authentication (ike_keys.h). */
#include "ike_keys.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_sk.h"

int
ike_key_lengths(const struct ike_proposal *p, struct ike_key_lengths *out)
{
	uint8_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->ntransforms; i++) {
		const struct ike_transform *t = &p->transforms[i];

		switch (t->type) {
		case IKE_TF_PRF:
			if ((out->prf = ike_prf_len(t->id)) == 0)
				return -1;
			break;
		case IKE_TF_INTEG:
			if ((out->integ = ike_sk_integ_key_len(t->id)) == 0)
				return -1;
			break;
		case IKE_TF_ENCR:
			if (t->id == IKE_ENCR_3DES)
				out->encr = 24;
			else if ((t->id == IKE_ENCR_AES_CBC || t->id == IKE_ENCR_AES_GCM_16) &&
			    (t->key_length == 128 || t->key_length == 192 || t->key_length == 256))
				/* GCM: the key and a 4-octet salt (RFC 5282 §7.1). */
				out->encr = t->key_length / 8 + (t->id == IKE_ENCR_AES_GCM_16 ? 4 : 0);
			else
				return -1;
			break;
		default:
			break;
		}
	}
	return out->prf != 0 && out->encr != 0 ? 0 : -1;
}

void
ike_keys_free(struct ike_keys *k)
{
	if (k == NULL)
		return;
	if (k->mem != NULL)
		sodium_memzero(k->mem, k->mem_len);
	free(k->mem);
	sodium_memzero(k, sizeof(*k));
	free(k);
}

struct ike_keys *
ike_keys_derive(enum ike_prf_id prf, const struct ike_key_lengths *lens,
    const struct ike_bytes *ni, const struct ike_bytes *nr, const struct ike_bytes *gir,
    uint64_t spi_i, uint64_t spi_r, const uint8_t *old_sk_d, size_t old_sk_d_len)
{
	uint8_t skeyseed[IKE_PRF_MAX], spis[16], *p;
	struct ike_bytes seed[3];
	struct ike_keys *k;
	size_t i;
	int rc;

	/* Keys in ordinary memory wiped on free (not sodium_malloc: see ipc/secbuf.c). */
	/* A rekey's PRF is the old SA's; its keys have the new PRF's length. */
	if (sodium_init() < 0 || ike_prf_len(prf) == 0 ||
	    (old_sk_d == NULL && ike_prf_len(prf) != lens->prf) ||
	    (k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->len = *lens;
	k->mem_len = 3 * lens->prf + 2 * lens->integ + 2 * lens->encr;
	if ((k->mem = calloc(1, k->mem_len)) == NULL) {
		ike_keys_free(k);
		return NULL;
	}
	rc = old_sk_d != NULL ?
	    ike_skeyseed_rekey(prf, old_sk_d, old_sk_d_len, gir, ni, nr, skeyseed) :
	    ike_skeyseed(prf, ni, nr, gir, skeyseed);
	for (i = 0; i < 8; i++) {
		spis[i] = (uint8_t)(spi_i >> (56 - 8 * i));
		spis[8 + i] = (uint8_t)(spi_r >> (56 - 8 * i));
	}
	seed[0] = *ni;
	seed[1] = *nr;
	seed[2] = (struct ike_bytes){ spis, sizeof(spis) };
	if (rc != 0 ||
	    ike_prf_plus(prf, skeyseed, ike_prf_len(prf), seed, 3, k->mem, k->mem_len) != 0) {
		sodium_memzero(skeyseed, sizeof(skeyseed));
		ike_keys_free(k);
		return NULL;
	}
	sodium_memzero(skeyseed, sizeof(skeyseed));
	/* SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr, in that order. */
	p = k->mem;
	k->sk_d = p;
	p += lens->prf;
	k->sk_ai = p;
	p += lens->integ;
	k->sk_ar = p;
	p += lens->integ;
	k->sk_ei = p;
	p += lens->encr;
	k->sk_er = p;
	p += lens->encr;
	k->sk_pi = p;
	p += lens->prf;
	k->sk_pr = p;
	return k;
}

int
ike_auth_psk(enum ike_prf_id prf, const uint8_t *psk, size_t psk_len,
    const struct ike_bytes *message, const struct ike_bytes *nonce, const uint8_t *sk_p,
    size_t sk_p_len, const struct ike_bytes *id_body, uint8_t *out)
{
	static const uint8_t key_pad[] = "Key Pad for IKEv2";
	struct ike_bytes pad = { key_pad, sizeof(key_pad) - 1 }, signed_octets[3];
	uint8_t padded[IKE_PRF_MAX], maced_id[IKE_PRF_MAX];
	size_t len = ike_prf_len(prf);
	int rc = -1;

	if (len == 0)
		return -1;
	if (ike_prf(prf, psk, psk_len, &pad, 1, padded) != 0 ||
	    ike_prf(prf, sk_p, sk_p_len, id_body, 1, maced_id) != 0)
		goto out;
	signed_octets[0] = *message;
	signed_octets[1] = *nonce;
	signed_octets[2] = (struct ike_bytes){ maced_id, len };
	rc = ike_prf(prf, padded, len, signed_octets, 3, out);
out:
	sodium_memzero(padded, sizeof(padded));
	sodium_memzero(maced_id, sizeof(maced_id));
	return rc;
}
