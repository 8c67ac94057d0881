/* Building IKEv2 messages: a writer over a caller's buffer that chains payloads (each new
 * payload's type goes into the previous one's next-payload field) and fills in lengths at
 * the end. Overflow is sticky: the result is 0 and nothing half-built is sent. */
#ifndef PICSEC_IKE_BUILD_H
#define PICSEC_IKE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_msg.h"

struct ike_writer {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
	size_t next_at;	  /* where the type of the next payload goes */
	uint8_t first;	  /* an inner chain's first payload type (for SK's next field) */
	bool inner;
};

/* A whole message: the header now, its length at ike_w_finish. */
void ike_w_message(struct ike_writer *w, uint8_t *buf, size_t cap, const struct ike_header *h);
/* A chain of payloads to encrypt (no header): its first type is in w->first afterwards. */
void ike_w_inner(struct ike_writer *w, uint8_t *buf, size_t cap);

/* Starts a payload of that type (critical: the C bit); returns where it starts. */
size_t ike_w_begin(struct ike_writer *w, uint8_t type, bool critical);
/* Ends the payload started at start: writes its length. */
void ike_w_end(struct ike_writer *w, size_t start);

void ike_w_u8(struct ike_writer *w, uint8_t v);
void ike_w_u16(struct ike_writer *w, uint16_t v);
void ike_w_u32(struct ike_writer *w, uint32_t v);
void ike_w_bytes(struct ike_writer *w, const void *p, size_t len);

/* Payloads. */
void ike_w_sa(struct ike_writer *w, const struct ike_proposal *proposals, size_t n);
void ike_w_ke(struct ike_writer *w, uint16_t group, const uint8_t *data, size_t len);
void ike_w_nonce(struct ike_writer *w, const uint8_t *nonce, size_t len);
void ike_w_id(struct ike_writer *w, bool initiator, uint8_t id_type, const uint8_t *data,
    size_t len);
void ike_w_auth(struct ike_writer *w, uint8_t method, const uint8_t *data, size_t len);
void ike_w_notify(struct ike_writer *w, uint8_t protocol, uint16_t type, const uint8_t *spi,
    size_t spi_len, const uint8_t *data, size_t len);
void ike_w_delete(struct ike_writer *w, uint8_t protocol, const uint8_t *spis, uint16_t count);
void ike_w_ts(struct ike_writer *w, bool initiator, const struct ike_ts_set *set);

/* The finished length (message: written into the header), or 0 on overflow. */
size_t ike_w_finish(struct ike_writer *w);

#endif
