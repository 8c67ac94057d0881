/* The steps of one packet through an SA: which headers, in which order, and what is
 * checked before anything is changed. */
#include "dp_sa_impl.h"

#include <string.h>

/* The inner packet of a tunnel: its protocol for the next-header field, its TOS and DF,
 * its length (which may be less than len: RFC 4303 §2.4 allows padding for traffic flow
 * confidentiality after it). */
static int
inner_header(const uint8_t *d, size_t len, uint8_t *next, struct dp_inner *in, size_t *total)
{
	struct dp_ipv4 ip;

	if (len >= 1 && d[0] >> 4 == 4) {
		if (dp_ipv4_parse(d, len, &ip) == -1)
			return -1;
		*next = IPPROTO_IPIP_;
		in->tos = ip.tos;
		in->ttl = ip.ttl;
		in->df = ip.df;
		*total = ip.total;
		return 0;
	}
	if (len >= 40 && d[0] >> 4 == 6 && (size_t)dp_get16(d + 4) + 40 <= len) {
		*next = IPPROTO_IPV6_;
		in->tos = (uint8_t)(d[0] << 4 | d[1] >> 4);
		in->ttl = d[7]; /* the hop limit */
		in->df = false; /* IPv6 is never fragmented on the way: the outer header may be */
		*total = (size_t)dp_get16(d + 4) + 40;
		return 0;
	}
	return -1;
}

/* AH in front of the payload, then the IPv4 header (ip: the transport header to reuse,
 * NULL for a new outer one), then the ICV. */
static enum dp_result
encap_ah(struct dp_sa *sa, struct dp_pkt *p, uint8_t next, uint64_t seq, const uint8_t *ip,
    const struct dp_inner *in)
{
	size_t len = dp_ah_len(sa);
	enum dp_result r;
	uint8_t *ah, *h;

	p->off -= len;
	p->len += len;
	ah = dp_pkt_data(p);
	ah[0] = next;
	ah[1] = (uint8_t)(len / 4 - 2);
	ah[2] = ah[3] = 0;
	dp_put32(ah + 4, sa->p.spi);
	dp_put32(ah + 8, (uint32_t)seq);
	if (ip == NULL) {
		if ((r = dp_outer_ipv4(sa, p, IPPROTO_AH_, false, in)) != DP_OK)
			return r;
	} else {
		p->off -= DP_IPV4_HDR;
		p->len += DP_IPV4_HDR;
		h = dp_pkt_data(p);
		memcpy(h, ip, DP_IPV4_HDR);
		h[9] = IPPROTO_AH_;
		dp_put16(h + 2, (uint16_t)p->len);
	}
	if ((r = dp_ah_sign(sa, p, DP_IPV4_HDR, seq)) != DP_OK)
		return r;
	dp_ipv4_set_checksum(dp_pkt_data(p), DP_IPV4_HDR);
	return DP_OK;
}

/* Transport mode ESP: the packet's own header back in front (with the UDP header of
 * RFC 3948 in between when the SA says so). Room was checked. */
static void
encap_transport_esp(struct dp_sa *sa, struct dp_pkt *p, const uint8_t *ip)
{
	bool udp = sa->p.encap_dport != 0;
	size_t add = DP_IPV4_HDR + (udp ? DP_UDP_HDR : 0);
	uint8_t *d;

	p->off -= add;
	p->len += add;
	d = dp_pkt_data(p);
	memcpy(d, ip, DP_IPV4_HDR);
	d[9] = udp ? IPPROTO_UDP_ : IPPROTO_ESP_;
	dp_put16(d + 2, (uint16_t)p->len);
	dp_ipv4_set_checksum(d, DP_IPV4_HDR);
	if (udp) {
		dp_put16(d + 20, sa->p.encap_sport);
		dp_put16(d + 22, sa->p.encap_dport);
		dp_put16(d + 24, (uint16_t)(p->len - DP_IPV4_HDR));
		dp_put16(d + 26, 0);
	}
}

enum dp_result
dp_sa_encap(struct dp_sa *sa, struct dp_pkt *p)
{
	bool tunnel = sa->p.mode == DP_MODE_TUNNEL;
	struct dp_inner in = { 0, 0, false };
	uint8_t *d = dp_pkt_data(p), next, ip[DP_IPV4_HDR];
	size_t inner = p->len, head, tail, payload;
	struct dp_ipv4 hdr;
	enum dp_result r;
	uint64_t seq;

	if (sa->p.dir != DP_DIR_OUT)
		return DP_DROP_HEADER;
	if (tunnel) {
		if (inner_header(d, p->len, &next, &in, &payload) == -1 ||
		    payload != p->len) {
			sa->c.bad_headers++;
			return DP_DROP_HEADER;
		}
	} else {
		/* Transport mode: the packet's own header stays in front (no options). */
		if (dp_ipv4_parse(d, p->len, &hdr) == -1 || hdr.total != p->len ||
		    hdr.hlen != DP_IPV4_HDR || hdr.fragment) {
			sa->c.bad_headers++;
			return DP_DROP_HEADER;
		}
		next = hdr.proto;
		payload = p->len - DP_IPV4_HDR;
	}
	if ((!sa->p.esn && sa->seq >= UINT32_MAX) || sa->seq == UINT64_MAX) {
		sa->c.seq_exhausted++;
		return DP_DROP_SEQ;
	}
	dp_sa_room(sa, payload, &head, &tail);
	if (sa->p.tunnel_mtu != 0 && p->len + head + tail > sa->p.tunnel_mtu) {
		sa->c.mtu_exceeded++;
		return DP_DROP_MTU;
	}
	if (dp_pkt_headroom(p) < head || dp_pkt_tailroom(p) < tail)
		return DP_DROP_NOROOM;
	/* From here on nothing can fail for want of room: the number is used. */
	seq = ++sa->seq;
	if (!tunnel) {
		memcpy(ip, d, DP_IPV4_HDR);
		p->off += DP_IPV4_HDR;
		p->len -= DP_IPV4_HDR;
	}
	switch (sa->p.proto) {
	case DP_PROTO_ESP:
		if ((r = dp_esp_wrap(sa, p, sa->p.spi, next, seq, true, NULL)) != DP_OK)
			return r;
		if (tunnel) {
			r = dp_outer_ipv4(sa, p, IPPROTO_ESP_, sa->p.encap_dport != 0, &in);
			if (r != DP_OK)
				return r;
		} else {
			encap_transport_esp(sa, p, ip);
		}
		break;
	case DP_PROTO_AH:
		if ((r = encap_ah(sa, p, next, seq, tunnel ? NULL : ip, &in)) != DP_OK)
			return r;
		break;
	case DP_PROTO_BUNDLE:
		if ((r = dp_esp_wrap(sa, p, sa->p.aux_spi, next, seq, false, NULL)) != DP_OK ||
		    (r = encap_ah(sa, p, IPPROTO_ESP_, seq, tunnel ? NULL : ip, &in)) != DP_OK)
			return r;
		break;
	}
	if (sa->p.proto != DP_PROTO_AH) {
		sa->c.esp_packets++;
		sa->c.esp_bytes += inner;
	}
	if (sa->p.proto != DP_PROTO_ESP) {
		sa->c.ah_packets++;
		sa->c.ah_bytes += inner;
	}
	return DP_OK;
}

/* After the crypto: a tunnel's inner packet must be an IP packet of the kind the trailer
 * says, within what is left. */
static enum dp_result
decap_tunnel_inner(struct dp_sa *sa, struct dp_pkt *p, uint8_t next)
{
	struct dp_inner in;
	uint8_t proto;
	size_t total;

	if ((next != IPPROTO_IPIP_ && next != IPPROTO_IPV6_) ||
	    inner_header(dp_pkt_data(p), p->len, &proto, &in, &total) == -1 ||
	    proto != next) {
		sa->c.bad_trailers++;
		return DP_DROP_TRAILER;
	}
	p->len = total;
	return DP_OK;
}

/* Transport mode: the IPv4 header (hlen bytes at the start of the packet) goes back in
 * front of the payload now at p, carrying next. */
static void
decap_transport_rejoin(struct dp_pkt *p, const uint8_t *ip, uint8_t next)
{
	uint8_t *d;

	p->off -= DP_IPV4_HDR;
	p->len += DP_IPV4_HDR;
	d = dp_pkt_data(p);
	memmove(d, ip, DP_IPV4_HDR);
	d[9] = next;
	dp_put16(d + 2, (uint16_t)p->len);
	dp_ipv4_set_checksum(d, DP_IPV4_HDR);
}

/* The ESP part, with p at the outer (or transport) IPv4 header. */
static enum dp_result
decap_esp(struct dp_sa *sa, struct dp_pkt *p, uint32_t spi, bool with_icv, size_t skip,
    uint64_t *seq, uint8_t *next)
{
	uint8_t ip[DP_IPV4_HDR];
	enum dp_result r;

	memcpy(ip, dp_pkt_data(p), DP_IPV4_HDR);
	if (p->len < skip + DP_ESP_HDR || dp_get32(dp_pkt_data(p) + skip) != spi) {
		sa->c.bad_headers++;
		return DP_DROP_HEADER;
	}
	p->off += skip;
	p->len -= skip;
	if ((r = dp_esp_unwrap(sa, p, with_icv, seq, next)) != DP_OK)
		return r;
	if (sa->p.mode == DP_MODE_TRANSPORT)
		decap_transport_rejoin(p, ip, *next);
	return DP_OK;
}

enum dp_result
dp_sa_decap(struct dp_sa *sa, struct dp_pkt *p)
{
	struct dp_ipv4 ip;
	enum dp_result r;
	uint64_t seq = 0;
	size_t skip, inner;
	uint8_t next, *d = dp_pkt_data(p);

	if (sa->p.dir != DP_DIR_IN || dp_ipv4_parse(d, p->len, &ip) == -1 || ip.fragment ||
	    ip.hlen != DP_IPV4_HDR) {
		sa->c.bad_headers++;
		return DP_DROP_HEADER;
	}
	p->len = ip.total; /* what follows is link-layer padding */
	skip = ip.hlen;
	switch (sa->p.proto) {
	case DP_PROTO_ESP:
		if (ip.proto == IPPROTO_UDP_ && sa->p.encap_dport != 0)
			skip += DP_UDP_HDR; /* RFC 3948; the caller kept IKE (marker 0) away */
		else if (ip.proto != IPPROTO_ESP_) {
			sa->c.bad_headers++;
			return DP_DROP_HEADER;
		}
		/* A plain ESP SA carries its ICV (none without integrity: icv_len is 0). */
		r = decap_esp(sa, p, sa->p.spi, true, skip, &seq, &next);
		break;
	case DP_PROTO_AH:
	case DP_PROTO_BUNDLE:
		if (ip.proto != IPPROTO_AH_) {
			sa->c.bad_headers++;
			return DP_DROP_HEADER;
		}
		if ((r = dp_ah_verify(sa, p, &seq, &next)) != DP_OK)
			break;
		if (sa->p.proto == DP_PROTO_BUNDLE) {
			if (next != IPPROTO_ESP_) {
				sa->c.bad_headers++;
				return DP_DROP_HEADER;
			}
			/* The AH sequence number counts; the ESP one rides along. */
			r = decap_esp(sa, p, sa->p.aux_spi, false, skip, &(uint64_t){ 0 }, &next);
		} else if (sa->p.mode == DP_MODE_TUNNEL) {
			p->off += skip;
			p->len -= skip;
		}
		break;
	default:
		r = DP_DROP_HEADER;
		break;
	}
	if (r != DP_OK)
		return r;
	/* Authentic from here: the window moves even if what is inside is bad. */
	dp_replay_update(sa->replay, seq);
	if (sa->p.mode == DP_MODE_TUNNEL && (r = decap_tunnel_inner(sa, p, next)) != DP_OK)
		return r;
	inner = p->len;
	if (sa->p.proto != DP_PROTO_AH) {
		sa->c.esp_packets++;
		sa->c.esp_bytes += inner;
	}
	if (sa->p.proto != DP_PROTO_ESP) {
		sa->c.ah_packets++;
		sa->c.ah_bytes += inner;
	}
	return DP_OK;
}
