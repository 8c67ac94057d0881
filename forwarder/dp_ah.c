/* AH (RFC 4302): the ICV over the IP header (mutable fields as zero), the AH header (ICV as
 * zero) and the payload. */
#include "dp_sa_impl.h"

#include <string.h>

size_t
dp_ah_len(const struct dp_sa *sa)
{
	return DP_AH_FIXED + (sa->icv_len + 3) / 4 * 4;
}

/* The ICV of the packet at the start of p as the receiver sees it: TOS, flags and
 * fragment offset, TTL and checksum count as zero (RFC 4302 §3.3.3.1.1.1). The ICV field
 * itself must already be zero. */
static int
ah_icv(struct dp_sa *sa, const struct dp_pkt *p, size_t ip_hlen, uint64_t seq, uint8_t *icv)
{
	uint8_t ip[DP_IPV4_HDR], hi[4];
	const uint8_t *d = dp_pkt_data(p);
	struct dp_iov seg[3] = {
		{ ip, sizeof(ip) },
		{ d + ip_hlen, p->len - ip_hlen },
		{ hi, sizeof(hi) },
	};

	if (dp_sa_keyed(sa) == -1)
		return -1;
	memcpy(ip, d, sizeof(ip));
	ip[1] = 0;
	ip[6] = ip[7] = 0;
	ip[8] = 0;
	ip[10] = ip[11] = 0;
	dp_put32(hi, (uint32_t)(seq >> 32));
	return dp_mac_run(sa->mac, seg, sa->p.esn ? 3 : 2, icv);
}

enum dp_result
dp_ah_sign(struct dp_sa *sa, struct dp_pkt *p, size_t ip_hlen, uint64_t seq)
{
	uint8_t *ah = dp_pkt_data(p) + ip_hlen;

	if (ip_hlen != DP_IPV4_HDR)
		return DP_DROP_HEADER; /* no IPv4 options: their mutability is not handled */
	memset(ah + DP_AH_FIXED, 0, dp_ah_len(sa) - DP_AH_FIXED);
	if (ah_icv(sa, p, ip_hlen, seq, ah + DP_AH_FIXED) == -1)
		return DP_DROP_INTERNAL;
	return DP_OK;
}

enum dp_result
dp_ah_verify(struct dp_sa *sa, struct dp_pkt *p, uint64_t *seq, uint8_t *next)
{
	uint8_t *d = dp_pkt_data(p), *ah, got[DP_MAX_ICV], want[DP_MAX_ICV];
	size_t hlen = (size_t)(d[0] & 0x0f) * 4, len = dp_ah_len(sa);
	uint32_t lo;

	if (hlen != DP_IPV4_HDR || p->len < hlen + len) {
		sa->c.bad_headers++;
		return DP_DROP_HEADER;
	}
	ah = d + hlen;
	if (ah[1] != len / 4 - 2 || dp_get32(ah + 4) != sa->p.spi) {
		sa->c.bad_headers++;
		return DP_DROP_HEADER;
	}
	lo = dp_get32(ah + 8);
	*seq = sa->p.esn ? (uint64_t)dp_esn_high(sa, lo) << 32 | lo : lo;
	if (!dp_replay_check(sa->replay, *seq)) {
		sa->c.replay_errors++;
		return DP_DROP_REPLAY;
	}
	memcpy(got, ah + DP_AH_FIXED, sa->icv_len);
	memset(ah + DP_AH_FIXED, 0, len - DP_AH_FIXED);
	if (ah_icv(sa, p, hlen, *seq, want) == -1)
		return DP_DROP_INTERNAL;
	if (!dp_icv_equal(got, want, sa->icv_len)) {
		sa->c.ah_auth_failures++;
		return DP_DROP_AUTH;
	}
	*next = ah[0];
	/* The IPv4 header moves up over the AH header and now carries the payload. */
	memmove(d + len, d, hlen);
	p->off += len;
	p->len -= len;
	d = dp_pkt_data(p);
	d[9] = *next;
	dp_put16(d + 2, (uint16_t)p->len);
	dp_ipv4_set_checksum(d, hlen);
	return DP_OK;
}
