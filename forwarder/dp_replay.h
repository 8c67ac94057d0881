/* The anti-replay window of an inbound SA (RFC 4303 §3.4.3, RFC 4302 §3.4.3): a bitmap of
 * the last `size` sequence numbers below the highest seen. A packet is checked before its
 * ICV is verified (cheap to drop) and marked only after (a forgery cannot move the window). */
#ifndef PICSEC_DP_REPLAY_H
#define PICSEC_DP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

enum { DP_REPLAY_MAX = 4096 };

/* Room for the largest window. The functions touch only the words of r's own window, so
 * an SA allocates dp_replay_bytes(size) of it (32 bytes for the default 128 packets, not
 * 528: 100,000 SAs in a PIC, bench/scale). */
struct dp_replay {
	uint64_t top;	/* the highest sequence number accepted; 0: none yet */
	uint32_t size;	/* window in packets, 64..4096; 0: anti-replay off */
	uint64_t bits[DP_REPLAY_MAX / 64]; /* bit (n % size) is sequence number n */
};

/* The bytes of a struct dp_replay that a window of size packets uses (as dp_replay_init
 * rounds it). */
size_t dp_replay_bytes(uint32_t size);
void dp_replay_init(struct dp_replay *r, uint32_t size);
/* Copies src's state to dst (its window's bytes only). */
void dp_replay_copy(struct dp_replay *dst, const struct dp_replay *src);
/* Whether seq may be accepted: not 0 (RFC 4303: the first packet is 1), not left of the
 * window, not seen. Anything goes when anti-replay is off. */
bool dp_replay_check(const struct dp_replay *r, uint64_t seq);
/* Marks seq as seen and slides the window when it is ahead. Call after dp_replay_check and
 * a good ICV. */
void dp_replay_update(struct dp_replay *r, uint64_t seq);

#endif
