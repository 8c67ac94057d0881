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

#endif
