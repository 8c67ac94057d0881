#include "dp_replay.h"

#include <string.h>

/* Whole words only: the window is a ring of 64-bit words. */
static uint32_t
dp_replay_round(uint32_t size)
{
	return size == 0 ? 0 : size > DP_REPLAY_MAX ? DP_REPLAY_MAX : (size + 63) / 64 * 64;
}

size_t
dp_replay_bytes(uint32_t size)
{
	return offsetof(struct dp_replay, bits) + dp_replay_round(size) / 8;
}

void
dp_replay_init(struct dp_replay *r, uint32_t size)
{
	memset(r, 0, dp_replay_bytes(size));
	r->size = dp_replay_round(size);
}

void
dp_replay_copy(struct dp_replay *dst, const struct dp_replay *src)
{
	memcpy(dst, src, dp_replay_bytes(src->size));
}

static bool
dp_replay_bit(const struct dp_replay *r, uint64_t seq)
{
	uint64_t i = seq % r->size;

	return (r->bits[i / 64] >> (i % 64)) & 1;
}

bool
dp_replay_check(const struct dp_replay *r, uint64_t seq)
{
	/* Without anti-replay a sender may let its counter cycle through 0 (RFC 4303 §3.3.3). */
	if (r->size == 0)
		return true;
	if (seq == 0)
		return false;
	if (seq > r->top)
		return true;
	if (r->top - seq >= r->size)
		return false; /* left of the window */
	return !dp_replay_bit(r, seq);
}

void
dp_replay_update(struct dp_replay *r, uint64_t seq)
{
	uint64_t i, n;

	if (r->size == 0) {
		if (seq > r->top)
			r->top = seq;
		return;
	}
	if (seq > r->top) {
		/* Clear the bits of the numbers the window slides over (at most all of it). */
		n = seq - r->top;
		if (n >= r->size) {
			memset(r->bits, 0, r->size / 8);
		} else {
			for (i = r->top + 1; i <= seq; i++) {
				uint64_t b = i % r->size;

				r->bits[b / 64] &= ~(UINT64_C(1) << (b % 64));
			}
		}
		r->top = seq;
	}
	i = seq % r->size;
	r->bits[i / 64] |= UINT64_C(1) << (i % 64);
}
