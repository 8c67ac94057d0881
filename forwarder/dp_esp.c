/* ESP (RFC 4303): header, IV, encrypted payload and trailer, ICV. */
#include "dp_sa_impl.h"

#include <string.h>

/* The padding boundary: the cipher's block, and at least 4 bytes (RFC 4303 §2.4). */
static size_t
esp_align(const struct dp_sa *sa)
{
	return sa->block < 4 ? 4 : sa->block;
}

/* The ICV over the ESP header up to the end of the ciphertext, with the high half of an
 * extended sequence number appended (RFC 4303 §2.2.1: counted, not sent). */
static int
esp_icv(struct dp_sa *sa, const uint8_t *esp, size_t len, uint64_t seq, uint8_t *icv)
{
	uint8_t hi[4];
	struct dp_iov seg[2] = { { esp, len }, { hi, sizeof(hi) } };

	dp_put32(hi, (uint32_t)(seq >> 32));
	return dp_mac_run(sa->mac, seg, sa->p.esn ? 2 : 1, icv);
}

enum dp_result
dp_esp_wrap(struct dp_sa *sa, struct dp_pkt *p, uint32_t spi, uint8_t next, uint64_t seq,
    bool with_icv, const uint8_t *iv)
{
	size_t align = esp_align(sa);
	size_t pad = (align - (p->len + 2) % align) % align;
	size_t icv = with_icv ? sa->icv_len : 0;
	size_t head = DP_ESP_HDR + sa->iv_len, body;
	uint8_t *t, *h;
	size_t i;

	if (dp_pkt_headroom(p) < head || dp_pkt_tailroom(p) < pad + 2 + icv)
		return DP_DROP_NOROOM;
	/* Trailer: padding 1, 2, 3, ... (RFC 4303 §2.4), its length, the next header. */
	t = dp_pkt_data(p) + p->len;
	for (i = 0; i < pad; i++)
		t[i] = (uint8_t)(i + 1);
	t[pad] = (uint8_t)pad;
	t[pad + 1] = next;
	body = p->len + pad + 2;
	p->off -= head;
	h = dp_pkt_data(p);
	dp_put32(h, spi);
	dp_put32(h + 4, (uint32_t)seq);
	/* CBC needs an unpredictable IV per packet (RFC 3602 §3). */
	if (iv != NULL)
		memcpy(h + DP_ESP_HDR, iv, sa->iv_len);
	else
		dp_random(h + DP_ESP_HDR, sa->iv_len);
	if (dp_cipher_run(sa->cipher, h + DP_ESP_HDR, h + head, body) == -1)
		return DP_DROP_INTERNAL;
	p->len = head + body;
	if (icv > 0) {
		if (esp_icv(sa, h, p->len, seq, h + p->len) == -1)
			return DP_DROP_INTERNAL;
		p->len += icv;
	}
	return DP_OK;
}

enum dp_result
dp_esp_unwrap(struct dp_sa *sa, struct dp_pkt *p, bool with_icv, uint64_t *seq, uint8_t *next)
{
	size_t icv = with_icv ? sa->icv_len : 0, head = DP_ESP_HDR + sa->iv_len, body, pad, i;
	uint8_t *h = dp_pkt_data(p), *ct, want[DP_MAX_ICV];
	uint32_t lo;

	if (p->len < head + icv + 2) {
		sa->c.bad_headers++;
		return DP_DROP_HEADER;
	}
	body = p->len - head - icv;
	lo = dp_get32(h + 4);
	*seq = sa->p.esn ? (uint64_t)dp_esn_high(sa, lo) << 32 | lo : lo;
	/* The replay check is cheap and comes first; marking waits for the ICV. */
	if (!dp_replay_check(&sa->replay, *seq)) {
		sa->c.replay_errors++;
		return DP_DROP_REPLAY;
	}
	if (icv > 0) {
		if (esp_icv(sa, h, head + body, *seq, want) == -1)
			return DP_DROP_INTERNAL;
		if (!dp_icv_equal(want, h + head + body, icv)) {
			sa->c.esp_auth_failures++;
			return DP_DROP_AUTH;
		}
	}
	if (body % esp_align(sa) != 0) {
		sa->c.decrypt_failures++;
		return DP_DROP_DECRYPT;
	}
	ct = h + head;
	if (dp_cipher_run(sa->cipher, h + DP_ESP_HDR, ct, body) == -1) {
		sa->c.decrypt_failures++;
		return DP_DROP_DECRYPT;
	}
	pad = ct[body - 2];
	*next = ct[body - 1];
	if (pad + 2 > body) {
		sa->c.bad_trailers++;
		return DP_DROP_TRAILER;
	}
	for (i = 0; i < pad; i++) {
		if (ct[body - 2 - pad + i] != (uint8_t)(i + 1)) {
			sa->c.bad_trailers++;
			return DP_DROP_TRAILER;
		}
	}
	p->off += head;
	p->len = body - pad - 2;
	return DP_OK;
}
