/* A packet in a frame: the bytes at buf[off .. off+len), with room around them that
 * encapsulation grows into (headroom for outer headers, tailroom for the ESP trailer and
 * ICV). The datapath works in place: no copy, no allocation per packet. */
#ifndef PICSEC_DP_PKT_H
#define PICSEC_DP_PKT_H

#include <stddef.h>
#include <stdint.h>

struct dp_pkt {
	uint8_t *buf;
	size_t cap; /* bytes at buf */
	size_t off; /* where the packet starts */
	size_t len;
};

static inline uint8_t *
dp_pkt_data(const struct dp_pkt *p)
{
	return p->buf + p->off;
}

static inline size_t
dp_pkt_headroom(const struct dp_pkt *p)
{
	return p->off;
}

static inline size_t
dp_pkt_tailroom(const struct dp_pkt *p)
{
	return p->cap - p->off - p->len;
}

/* Network-order fields. */
static inline void
dp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
dp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
dp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t
dp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The Internet checksum (RFC 1071) of len bytes, ready to store: 0 over a header whose
 * checksum is right. */
uint16_t dp_ipv4_checksum(const uint8_t *hdr, size_t len);

#endif
