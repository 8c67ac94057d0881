/* IPv4 headers: parsing what arrives, building the outer header of a tunnel. */
#include "dp_sa_impl.h"

#include <string.h>

uint16_t
dp_ipv4_checksum(const uint8_t *hdr, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += dp_get16(hdr + i);
	if (len % 2 != 0)
		sum += (uint32_t)hdr[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void
dp_ipv4_set_checksum(uint8_t *hdr, size_t hlen)
{
	hdr[10] = hdr[11] = 0;
	dp_put16(hdr + 10, dp_ipv4_checksum(hdr, hlen));
}

int
dp_ipv4_parse(const uint8_t *data, size_t len, struct dp_ipv4 *ip)
{
	uint16_t frag;

	if (len < DP_IPV4_HDR || (data[0] >> 4) != 4)
		return -1;
	ip->hlen = (size_t)(data[0] & 0x0f) * 4;
	ip->total = dp_get16(data + 2);
	if (ip->hlen < DP_IPV4_HDR || ip->total < ip->hlen || ip->total > len ||
	    dp_ipv4_checksum(data, ip->hlen) != 0)
		return -1;
	frag = dp_get16(data + 6);
	ip->tos = data[1];
	ip->ttl = data[8];
	ip->proto = data[9];
	ip->df = (frag & 0x4000) != 0;
	ip->fragment = (frag & 0x2000) != 0 || (frag & 0x1fff) != 0;
	return 0;
}

enum dp_result
dp_outer_ipv4(struct dp_sa *sa, struct dp_pkt *p, uint8_t proto, bool udp,
    const struct dp_inner *in)
{
	size_t add = DP_IPV4_HDR + (udp ? DP_UDP_HDR : 0);
	size_t total = p->len + add;
	uint8_t *h;
	bool df;

	if (dp_pkt_headroom(p) < add || total > 0xffff)
		return DP_DROP_NOROOM;
	p->off -= add;
	p->len = total;
	h = dp_pkt_data(p);
	df = sa->p.df == DP_DF_SET || (sa->p.df == DP_DF_COPY && in->df);
	h[0] = 0x45;
	/* The configured TOS, else the inner one: DSCP and ECN travel with the packet. */
	h[1] = sa->p.tos != 0 ? sa->p.tos : in->tos;
	dp_put16(h + 2, (uint16_t)total);
	dp_put16(h + 4, sa->ip_id++);
	dp_put16(h + 6, df ? 0x4000 : 0);
	/* The configured TTL (Junos: 64 unless set), or copy-ttl-from-inner-ip-header; a
	 * transport-mode packet keeps its own header, never this one. */
	h[8] = sa->p.ttl != 0 ? sa->p.ttl : in->ttl != 0 ? in->ttl : 64;
	h[9] = udp ? IPPROTO_UDP_ : proto;
	memcpy(h + 12, sa->p.local, 4);
	memcpy(h + 16, sa->p.remote, 4);
	dp_ipv4_set_checksum(h, DP_IPV4_HDR);
	if (udp) {
		/* RFC 3948: the checksum of UDP-encapsulated ESP over IPv4 may be zero. */
		dp_put16(h + 20, sa->p.encap_sport);
		dp_put16(h + 22, sa->p.encap_dport);
		dp_put16(h + 24, (uint16_t)(total - DP_IPV4_HDR));
		dp_put16(h + 26, 0);
	}
	return DP_OK;
}
