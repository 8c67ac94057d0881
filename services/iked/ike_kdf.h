/* IKEv2 key derivation (RFC 7296 §2.13, §2.14, §2.17, §2.18) on OpenSSL's HMAC:
 *   SKEYSEED = prf(Ni | Nr, g^ir)
 *   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni|Nr|SPIi|SPIr)
 *   KEYMAT (Child SA) = prf+(SK_d, [g^ir (new) |] Ni | Nr)
 *   SKEYSEED (IKE SA rekey) = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * The callers keep the outputs in wiped memory; the intermediate blocks here are wiped. */
#ifndef PICSEC_IKE_KDF_H
#define PICSEC_IKE_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "ike_msg.h"

/* IKEv2 PRF transform ids (IANA "Transform Type 2"). */
enum ike_prf_id {
	IKE_PRF_HMAC_MD5 = 1,
	IKE_PRF_HMAC_SHA1 = 2,
	IKE_PRF_HMAC_SHA2_256 = 5,
	IKE_PRF_HMAC_SHA2_384 = 6,
	IKE_PRF_HMAC_SHA2_512 = 7,
};

enum { IKE_PRF_MAX = 64 };

/* The PRF's output length (0: not supported). */
size_t ike_prf_len(enum ike_prf_id prf);

/* prf(key, parts[0] | parts[1] | ...) into out (ike_prf_len octets). 0 or -1. */
int ike_prf(enum ike_prf_id prf, const uint8_t *key, size_t key_len,
    const struct ike_bytes *parts, size_t nparts, uint8_t *out);

/* prf+(key, parts...) (§2.13): outlen octets, at most 255 PRF blocks. 0 or -1. */
int ike_prf_plus(enum ike_prf_id prf, const uint8_t *key, size_t key_len,
    const struct ike_bytes *parts, size_t nparts, uint8_t *out, size_t outlen);

/* SKEYSEED of a new IKE SA, and of a rekeyed one. out: ike_prf_len octets. */
int ike_skeyseed(enum ike_prf_id prf, const struct ike_bytes *ni, const struct ike_bytes *nr,
    const struct ike_bytes *gir, uint8_t *out);
int ike_skeyseed_rekey(enum ike_prf_id prf, const uint8_t *sk_d, size_t sk_d_len,
    const struct ike_bytes *gir_new, const struct ike_bytes *ni, const struct ike_bytes *nr,
    uint8_t *out);

#endif
