/* An IKE SA's keys and a Child SA's keying material (RFC 7296 §2.14, §2.17), split by the
 * negotiated transforms, and the pre-shared-key AUTH value (§2.15). Keys live in wiped
 * memory (sodium_malloc'd, freed with ike_keys_free). */
#ifndef PICSEC_IKE_KEYS_H
#define PICSEC_IKE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "ike_kdf.h"
#include "ike_msg.h"

/* The lengths the transforms ask for (encryption keys include a GCM salt). */
struct ike_key_lengths {
	size_t prf, integ, encr;
};

struct ike_keys {
	struct ike_key_lengths len;
	uint8_t *sk_d, *sk_ai, *sk_ar, *sk_ei, *sk_er, *sk_pi, *sk_pr; /* into mem */
	uint8_t *mem;
	size_t mem_len;
};

/* The key lengths of an IKE SA proposal's transforms; -1 for one picsec does not know. */
int ike_key_lengths(const struct ike_proposal *p, struct ike_key_lengths *out);

/* SKEYSEED (or the rekeyed one, when old_sk_d) and the seven keys. NULL on failure. */
struct ike_keys *ike_keys_derive(enum ike_prf_id prf, const struct ike_key_lengths *lens,
    const struct ike_bytes *ni, const struct ike_bytes *nr, const struct ike_bytes *gir,
    uint64_t spi_i, uint64_t spi_r, const uint8_t *old_sk_d, size_t old_sk_d_len);
void ike_keys_free(struct ike_keys *k);

/* AUTH for a pre-shared key: prf(prf(PSK, "Key Pad for IKEv2"), message | nonce |
 * prf(SK_p, ID body)). message: the sender's first message (IKE_SA_INIT) as sent; nonce:
 * the peer's; sk_p: SK_pi for the initiator, SK_pr for the responder; id_body: the ID
 * payload from its type on. out: ike_prf_len octets. 0 or -1. */
int ike_auth_psk(enum ike_prf_id prf, const uint8_t *psk, size_t psk_len,
    const struct ike_bytes *message, const struct ike_bytes *nonce, const uint8_t *sk_p,
    size_t sk_p_len, const struct ike_bytes *id_body, uint8_t *out);

#endif
