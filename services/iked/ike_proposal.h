/* Proposals (RFC 7296 §3.3): the Junos `ike proposal` and `ipsec proposal` statements as
 * IKEv2 transforms, and the choice a responder makes: its own proposals in the order the
 * policy lists them, the first the peer also offers, with one transform of each type;
 * the initiator checks that what came back is one of its own. */
#ifndef PICSEC_IKE_PROPOSAL_H
#define PICSEC_IKE_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.pb-c.h"
#include "ike_msg.h"

/* The IKE SA transforms of a Junos ike proposal (ENCR, PRF, INTEG unless AEAD, DH). */
int ike_proposal_from_ike(const Picsec__V1__IkeProposal *p, uint8_t number,
    struct ike_proposal *out, char *err, size_t errlen);
/* The Child SA transforms of a Junos ipsec proposal (ESP: ENCR, INTEG unless AEAD; AH:
 * INTEG), with the PFS group when the policy asks for one, ESN off, and our inbound SPI. */
int ike_proposal_from_ipsec(const Picsec__V1__IpsecProposal *p, uint8_t number,
    Picsec__V1__DhGroup pfs, const uint8_t spi[4], struct ike_proposal *out, char *err,
    size_t errlen);

/* Responder: the first of ours (in our order) that one of theirs offers in full; *chosen
 * gets our transforms under their proposal number and SPI. false when none fits. */
bool ike_proposal_select(const struct ike_proposal *ours, size_t nours,
    const struct ike_proposal *theirs, size_t ntheirs, struct ike_proposal *chosen);
/* Initiator: whether the one proposal the responder chose is one we offered, with exactly
 * one transform of each type we offered. */
bool ike_proposal_accept(const struct ike_proposal *ours, size_t nours,
    const struct ike_proposal *reply);

/* The transform of that type in a chosen proposal, or NULL. */
const struct ike_transform *ike_proposal_get(const struct ike_proposal *p, uint8_t type);

#endif
