/* The Encrypted payload (RFC 7296 §3.14, RFC 5282 for AES-GCM): one direction's keys,
 * prepared once per IKE SA, sealing and opening the inner payload chain. What is
 * authenticated but not encrypted (the IKE header and the SK payload's generic header) is
 * given as aad, exactly as it goes on the wire. */
#ifndef PICSEC_IKE_SK_H
#define PICSEC_IKE_SK_H

#include <stddef.h>
#include <stdint.h>

/* IKEv2 transform ids (IANA Transform Types 1 and 3). */
enum ike_encr {
	IKE_ENCR_3DES = 3,
	IKE_ENCR_AES_CBC = 12,
	IKE_ENCR_AES_GCM_16 = 20,
};

enum ike_integ {
	IKE_INTEG_NONE = 0,
	IKE_INTEG_HMAC_MD5_96 = 1,
	IKE_INTEG_HMAC_SHA1_96 = 2,
	IKE_INTEG_HMAC_SHA2_256_128 = 12,
	IKE_INTEG_HMAC_SHA2_384_192 = 13,
	IKE_INTEG_HMAC_SHA2_512_256 = 14,
};

struct ike_sk;

/* Key lengths: encryption (AES: 16, 24, 32; 3DES: 24; GCM: those plus the 4-octet salt)
 * and integrity (the HMAC's output length); 0 for what is unknown. */
size_t ike_sk_integ_key_len(enum ike_integ integ);

/* One direction's keys; NULL with the reason in err. GCM takes no integrity transform. */
struct ike_sk *ike_sk_new(enum ike_encr encr, const uint8_t *enc_key, size_t enc_key_len,
    enum ike_integ integ, const uint8_t *integ_key, size_t integ_key_len, char *err,
    size_t errlen);
void ike_sk_free(struct ike_sk *sk);

/* The SK payload's body length for plain_len octets of inner payloads: IV, ciphertext
 * with padding and its length octet, ICV. */
size_t ike_sk_sealed_len(const struct ike_sk *sk, size_t plain_len);

/* Seals plain into out (ike_sk_sealed_len octets): IV | ciphertext | ICV. 0 or -1. */
int ike_sk_seal(struct ike_sk *sk, const uint8_t *aad, size_t aad_len, const uint8_t *plain,
    size_t plain_len, uint8_t *out);
/* Checks and opens an SK body into plain (at most in_len octets); *plain_len gets the
 * inner payloads' length. -1 for anything wrong: length, ICV, padding. */
int ike_sk_open(struct ike_sk *sk, const uint8_t *aad, size_t aad_len, const uint8_t *in,
    size_t in_len, uint8_t *plain, size_t *plain_len);

#endif
