/* An SA: its contexts, and the order of the steps that wrap or open a packet. */
#include "dp_sa_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static const char *const dp_result_names[] = {
	[DP_OK] = "ok",
	[DP_DROP_AUTH] = "authentication failure",
	[DP_DROP_REPLAY] = "replay",
	[DP_DROP_DECRYPT] = "decryption failure",
	[DP_DROP_HEADER] = "bad header",
	[DP_DROP_TRAILER] = "bad trailer",
	[DP_DROP_MTU] = "exceeds tunnel MTU",
	[DP_DROP_SEQ] = "sequence numbers exhausted",
	[DP_DROP_NOROOM] = "no room in the frame",
	[DP_DROP_INTERNAL] = "crypto failure",
};

const char *
dp_result_name(enum dp_result r)
{
	return (size_t)r < sizeof(dp_result_names) / sizeof(dp_result_names[0]) ?
	    dp_result_names[r] : "?";
}

/* GCM is an SA's whole protection (RFC 4106 §2), so it stands alone: no integrity
 * algorithm beside it, and not as the ICV-less ESP of a bundle. -1 with the reason. */
static int
dp_sa_check_aead(const struct dp_sa_params *p, char *err, size_t errlen)
{
	if (p->proto == DP_PROTO_AH || !dp_enc_is_aead(p->enc))
		return 0;
	if (p->proto == DP_PROTO_BUNDLE) {
		snprintf(err, errlen, "%s cannot be the ESP of an AH bundle: that ESP "
		    "carries no ICV, and GCM's is part of the cipher", dp_enc_name(p->enc));
		return -1;
	}
	if (p->auth != DP_AUTH_NONE) {
		snprintf(err, errlen, "%s is an AEAD cipher (RFC 4106): it takes no "
		    "authentication algorithm, not %s", dp_enc_name(p->enc),
		    dp_auth_name(p->auth));
		return -1;
	}
	return 0;
}

struct dp_sa *
dp_sa_new(const struct dp_sa_params *p, char *err, size_t errlen)
{
	bool esp = p->proto != DP_PROTO_AH;
	bool mac = p->auth != DP_AUTH_NONE;
	struct dp_sa *sa = calloc(1, sizeof(*sa));

	if (sa == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sa->p = *p;
	sa->p.enc_key = sa->p.auth_key = NULL;
	sa->p.enc_key_len = esp ? p->enc_key_len : 0; /* AH encrypts nothing */
	sa->p.auth_key_len = mac ? p->auth_key_len : 0;
	if ((p->proto == DP_PROTO_AH || p->proto == DP_PROTO_BUNDLE) && !mac) {
		snprintf(err, errlen, "AH needs an authentication algorithm");
		goto error;
	}
	if (p->proto == DP_PROTO_ESP && p->enc == DP_ENC_NULL && !mac) {
		/* RFC 4303 §3.2: ESP must give confidentiality or integrity. */
		snprintf(err, errlen, "ESP with neither encryption nor authentication");
		goto error;
	}
	if (dp_sa_check_aead(p, err, errlen) == -1)
		goto error;
	/* Everything the contexts would refuse, refused now: they come with the first packet. */
	if ((esp && dp_cipher_check(p->enc, p->enc_key_len, err, errlen) == -1) ||
	    (mac && dp_mac_check(p->auth, p->auth_key_len, err, errlen) == -1))
		goto error;
	if (sa->p.enc_key_len + sa->p.auth_key_len > sizeof(sa->keys) ||
	    (sa->p.enc_key_len > 0 && p->enc_key == NULL) ||
	    (sa->p.auth_key_len > 0 && p->auth_key == NULL)) {
		snprintf(err, errlen, "keys missing or too long");
		goto error;
	}
	if (sa->p.enc_key_len > 0)
		memcpy(sa->keys, p->enc_key, sa->p.enc_key_len);
	if (sa->p.auth_key_len > 0)
		memcpy(sa->keys + sa->p.enc_key_len, p->auth_key, sa->p.auth_key_len);
	if (p->dir == DP_DIR_IN) {
		if ((sa->replay = malloc(dp_replay_bytes(p->replay_window))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto error;
		}
		dp_replay_init(sa->replay, p->replay_window);
	}
	sa->aead = esp && dp_enc_is_aead(p->enc);
	sa->iv_len = esp ? dp_enc_iv_len(p->enc) : 0;
	sa->block = esp ? dp_enc_block(p->enc) : 1;
	sa->icv_len = sa->aead ? dp_enc_icv_len(p->enc) : dp_auth_icv_len(p->auth);
	sa->seq = p->seq_start;
	dp_random((uint8_t *)&sa->ip_id, sizeof(sa->ip_id));
	return sa;
error:
	dp_sa_free(sa);
	return NULL;
}

int
dp_sa_key(struct dp_sa *sa)
{
	char err[256];

	if (sa->p.proto != DP_PROTO_AH && sa->cipher == NULL &&
	    (sa->cipher = dp_cipher_new(sa->p.enc, sa->p.dir == DP_DIR_OUT, sa->keys,
	    sa->p.enc_key_len, err, sizeof(err))) == NULL)
		return -1;
	if (sa->p.auth != DP_AUTH_NONE && sa->mac == NULL &&
	    (sa->mac = dp_mac_new(sa->p.auth, sa->keys + sa->p.enc_key_len,
	    sa->p.auth_key_len, err, sizeof(err))) == NULL)
		return -1;
	sodium_memzero(sa->keys, sizeof(sa->keys));
	sa->keyed = true;
	return 0;
}

void
dp_sa_free(struct dp_sa *sa)
{
	if (sa == NULL)
		return;
	dp_cipher_free(sa->cipher);
	dp_mac_free(sa->mac);
	free(sa->replay);
	sodium_memzero(sa->keys, sizeof(sa->keys));
	free(sa);
}

const struct dp_sa_params *
dp_sa_params(const struct dp_sa *sa)
{
	return &sa->p;
}

const struct dp_sa_counters *
dp_sa_counters(const struct dp_sa *sa)
{
	return &sa->c;
}

static uint64_t
dp_sa_bytes_now(const struct dp_sa *sa)
{
	return sa->c.esp_bytes > sa->c.ah_bytes ? sa->c.esp_bytes : sa->c.ah_bytes;
}

void
dp_sa_clear_counters(struct dp_sa *sa)
{
	sa->bytes_cleared += dp_sa_bytes_now(sa);
	memset(&sa->c, 0, sizeof(sa->c));
}

uint64_t
dp_sa_lifetime_bytes(const struct dp_sa *sa)
{
	return sa->bytes_cleared + dp_sa_bytes_now(sa);
}

void
dp_sa_inherit(struct dp_sa *sa, const struct dp_sa *old)
{
	sa->bytes_cleared = dp_sa_lifetime_bytes(old);
	if (sa->replay == NULL || old->replay == NULL)
		return;
	if (sa->replay->size == old->replay->size) {
		dp_replay_copy(sa->replay, old->replay);
		return;
	}
	/* Another window size: everything up to the old top counts as seen (a late packet
	 * in the window is dropped once; none is ever accepted twice). */
	sa->replay->top = old->replay->top;
	memset(sa->replay->bits, 0xff, sa->replay->size / 8);
}

uint64_t
dp_sa_seq(const struct dp_sa *sa)
{
	return sa->seq;
}

uint32_t
dp_esn_high(const struct dp_sa *sa, uint32_t lo)
{
	uint32_t top_lo = (uint32_t)sa->replay->top, top_hi = (uint32_t)(sa->replay->top >> 32);
	uint32_t w = sa->replay->size != 0 ? sa->replay->size : UINT32_C(1) << 31;

	/* RFC 4303 appendix A2.1: the window either lies within one 2^32 block or spans two. */
	if (top_lo >= w - 1)
		return lo >= top_lo - w + 1 ? top_hi : top_hi + 1;
	/* Below the first block there is nothing: a fresh SA's numbers start at 0. */
	return lo >= top_lo - w + 1 && top_hi > 0 ? top_hi - 1 : top_hi;
}

void
dp_sa_room(const struct dp_sa *sa, size_t len, size_t *head, size_t *tail)
{
	size_t align = sa->block < 4 ? 4 : sa->block;

	*head = sa->p.mode == DP_MODE_TUNNEL ? DP_IPV4_HDR : 0;
	*tail = 0;
	if (sa->p.proto != DP_PROTO_AH) {
		*head += DP_ESP_HDR + sa->iv_len;
		*tail += (align - (len + 2) % align) % align + 2;
		if (sa->p.proto == DP_PROTO_ESP) {
			*tail += sa->icv_len;
			if (sa->p.encap_dport != 0)
				*head += DP_UDP_HDR;
		}
	}
	if (sa->p.proto != DP_PROTO_ESP)
		*head += dp_ah_len(sa);
}

void
dp_sa_count_mtu_exceeded(struct dp_sa *sa)
{
	sa->c.mtu_exceeded++;
}

size_t
dp_sa_overhead(const struct dp_sa *sa, size_t len)
{
	size_t head, tail;

	dp_sa_room(sa, len, &head, &tail);
	return head + tail;
}
