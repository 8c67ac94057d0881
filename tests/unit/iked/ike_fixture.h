/* The IKE engine tests' shared set-up (ike_fixture.c). */
#ifndef PICSEC_TEST_IKE_FIXTURE_H
#define PICSEC_TEST_IKE_FIXTURE_H

#include <stdint.h>

#include "config.pb-c.h"
#include "ike_sa.h"

enum { IKE_FX_BUF = 8192 };

/* 198.18.THIRD.0/24 as the one traffic selector of set. */
void ike_fx_ts(struct ike_ts_set *set, uint8_t third);
void ike_fx_add_ike(struct ike_peer_cfg *c, Picsec__V1__EncAlgorithm enc,
    Picsec__V1__IkeHash hash, Picsec__V1__DhGroup dh);
void ike_fx_add_child(struct ike_peer_cfg *c, Picsec__V1__EncAlgorithm enc,
    Picsec__V1__AuthAlgorithm auth);
/* Site A (198.18.1.0/24) and site B (198.18.2.0/24), one PSK, aes128-sha256-x25519 and
 * ESP aes128-sha1. */
void ike_fx_configs(struct ike_peer_cfg *a, struct ike_peer_cfg *b);
/* Runs the exchange from a's start until neither side has anything to send; returns the
 * messages sent. */
int ike_fx_converse(struct ike_sa *a, struct ike_sa *b);
/* x's outbound keys are y's inbound ones and the other way. */
void ike_fx_assert_mirrored(const struct ike_child *x, const struct ike_child *y);

#endif
