/* IKEv2 Diffie-Hellman groups (RFC 7296 §3.4 and the Junos proposals' `dh-group`): MODP
 * 1, 2, 5, 14, 15, 16 (RFC 2409, RFC 3526) and 24 (RFC 5114 §2.3) and ECP 19, 20 (RFC 5903)
 * on OpenSSL; Curve25519 (group 31, RFC 8031) on libsodium. A key pair is made once per
 * exchange; the shared secret is written as IKEv2 wants it: MODP left-padded to the
 * prime's length, ECP the x coordinate, X25519 the 32 octets (all-zero refused). */
#ifndef PICSEC_IKE_DH_H
#define PICSEC_IKE_DH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	IKE_DH_MODP768 = 1,
	IKE_DH_MODP1024 = 2,
	IKE_DH_MODP1536 = 5,
	IKE_DH_MODP2048 = 14,
	IKE_DH_MODP3072 = 15,
	IKE_DH_MODP4096 = 16,
	IKE_DH_ECP256 = 19,
	IKE_DH_ECP384 = 20,
	IKE_DH_MODP2048_256 = 24,
	IKE_DH_CURVE25519 = 31,
	IKE_DH_MAX_PUBLIC = 512, /* MODP 4096 */
};

struct ike_dh;

bool ike_dh_supported(uint16_t group);
/* The Key Exchange data length of the group (and of a MODP shared secret). */
size_t ike_dh_public_len(uint16_t group);
size_t ike_dh_shared_len(uint16_t group);

/* A fresh key pair; NULL with the reason in err. */
struct ike_dh *ike_dh_new(uint16_t group, char *err, size_t errlen);
/* With a given private key (known-answer tests): X25519. */
struct ike_dh *ike_dh_new_x25519(const uint8_t priv[32]);
/* With a given private value, for known-answer tests only (an exchange draws its own with
 * ike_dh_new): MODP the exponent x as a big-endian integer of up to the prime's length,
 * 1 < x < p - 1; ECP the private scalar d, up to a coordinate's length, 0 < d < n; X25519
 * the 32 octets (ike_dh_new_x25519). Our public value is computed from it, in
 * ike_dh_public's form. NULL with the reason in err. */
struct ike_dh *ike_dh_new_private(uint16_t group, const uint8_t *priv, size_t len, char *err,
    size_t errlen);
void ike_dh_free(struct ike_dh *dh);
uint16_t ike_dh_group(const struct ike_dh *dh);

/* Our public value, ike_dh_public_len octets. */
const uint8_t *ike_dh_public(const struct ike_dh *dh);
/* The shared secret with the peer's public value (checked: length, on the curve, 1 < y <
 * p-1, not all-zero); ike_dh_shared_len octets into out. 0, or -1 with the reason. */
int ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *out,
    char *err, size_t errlen);

#endif
