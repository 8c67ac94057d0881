/* ESP (RFC 4303): header, IV, encrypted payload and trailer, ICV. With CBC the ICV is an
 * HMAC over what precedes it; with GCM (RFC 4106) the cipher makes it, over the ESP header
 * as additional data. */
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

/* GCM's additional data (RFC 4106 §5): the SPI and the sequence number, all 64 bits of it
 * with ESN (high half first) though only the low half is sent. Returns its length. */
static size_t
esp_aad(const struct dp_sa *sa, uint32_t spi, uint64_t seq, uint8_t *aad)
{
	dp_put32(aad, spi);
	if (!sa->p.esn) {
		dp_put32(aad + 4, (uint32_t)seq);
		return 8;
	}
	dp_put32(aad + 4, (uint32_t)(seq >> 32));
	dp_put32(aad + 8, (uint32_t)seq);
	return 12;
}

/* Encrypts the body (payload and trailer) that follows the header h, and appends the ICV
 * when there is one. */
static int
esp_seal(struct dp_sa *sa, uint8_t *h, size_t body, uint64_t seq, size_t icv,
    const uint8_t *iv)
{
	size_t head = DP_ESP_HDR + sa->iv_len, aad_len;
	uint8_t aad[12];

	if (dp_sa_keyed(sa) == -1)
		return -1;
	if (sa->aead) {
		/* RFC 4106 §3.1: an IV must never repeat under a key. Neither does the
		 * sequence number (the SA refuses to wrap it, sadb's journal carries it
		 * across restarts), so the number is the IV, as in strongSwan and Linux. */
		dp_put32(h + DP_ESP_HDR, (uint32_t)(seq >> 32));
		dp_put32(h + DP_ESP_HDR + 4, (uint32_t)seq);
		aad_len = esp_aad(sa, dp_get32(h), seq, aad);
		return dp_aead_seal(sa->cipher, h + DP_ESP_HDR, aad, aad_len, h + head,
		    body, h + head + body);
	}
	/* CBC needs an unpredictable IV per packet (RFC 3602 §3). */
	if (iv != NULL)
		memcpy(h + DP_ESP_HDR, iv, sa->iv_len);
	else
		dp_random(h + DP_ESP_HDR, sa->iv_len);
	if (dp_cipher_run(sa->cipher, h + DP_ESP_HDR, h + head, body) == -1)
		return -1;
	return icv > 0 ? esp_icv(sa, h, head + body, seq, h + head + body) : 0;
}

enum dp_result
dp_esp_wrap(struct dp_sa *sa, struct dp_pkt *p, uint32_t spi, uint8_t next, uint64_t seq,
    bool with_icv, const uint8_t *iv)
{
	size_t align = esp_align(sa);
	size_t pad = (align - (p->len + 2) % align) % align;
	size_t icv = with_icv || sa->aead ? sa->icv_len : 0;
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
	dp_put32(h + 4, (uint32_t)seq); /* with ESN the high half is counted, not sent */
	if (esp_seal(sa, h, body, seq, icv, iv) == -1)
		return DP_DROP_INTERNAL;
	p->len = head + body + icv;
	return DP_OK;
}

/* Checks the ICV and decrypts the body (after the header h) in place, counting a failure:
 * GCM does both in one step, CBC checks the HMAC before it decrypts anything. */
static enum dp_result
esp_open(struct dp_sa *sa, uint8_t *h, size_t body, uint64_t seq, size_t icv)
{
	size_t head = DP_ESP_HDR + sa->iv_len, aad_len;
	uint8_t want[DP_MAX_ICV], aad[12], *ct = h + head;

	if (dp_sa_keyed(sa) == -1)
		return DP_DROP_INTERNAL;
	if (sa->aead) {
		/* A stream mode: any length opens, so there is no alignment to check. */
		aad_len = esp_aad(sa, dp_get32(h), seq, aad);
		if (dp_aead_open(sa->cipher, h + DP_ESP_HDR, aad, aad_len, ct, body,
		    ct + body) == -1) {
			sa->c.esp_auth_failures++;
			return DP_DROP_AUTH;
		}
		return DP_OK;
	}
	if (icv > 0) {
		if (esp_icv(sa, h, head + body, seq, want) == -1)
			return DP_DROP_INTERNAL;
		if (!dp_icv_equal(want, ct + body, icv)) {
			sa->c.esp_auth_failures++;
			return DP_DROP_AUTH;
		}
	}
	if (body % esp_align(sa) != 0 || dp_cipher_run(sa->cipher, h + DP_ESP_HDR, ct,
	    body) == -1) {
		sa->c.decrypt_failures++;
		return DP_DROP_DECRYPT;
	}
	return DP_OK;
}

enum dp_result
dp_esp_unwrap(struct dp_sa *sa, struct dp_pkt *p, bool with_icv, uint64_t *seq, uint8_t *next)
{
	size_t icv = with_icv || sa->aead ? sa->icv_len : 0, head = DP_ESP_HDR + sa->iv_len;
	size_t body, pad, i;
	uint8_t *h = dp_pkt_data(p), *ct = h + head;
	enum dp_result r;
	uint32_t lo;

	if (p->len < head + icv + 2) {
		sa->c.bad_headers++;
		return DP_DROP_HEADER;
	}
	body = p->len - head - icv;
	lo = dp_get32(h + 4);
	*seq = sa->p.esn ? (uint64_t)dp_esn_high(sa, lo) << 32 | lo : lo;
	/* The replay check is cheap and comes first; marking waits for the ICV. */
	if (!dp_replay_check(sa->replay, *seq)) {
		sa->c.replay_errors++;
		return DP_DROP_REPLAY;
	}
	if ((r = esp_open(sa, h, body, *seq, icv)) != DP_OK)
		return r;
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
