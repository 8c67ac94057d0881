/* Packets too large for the tunnel (RFC 4301 §8.2; RFC 4459 §3): the path MTU is the
 * smaller of the outside device's MTU and the SA's tunnel-mtu, less what encapsulation
 * adds. An inner packet with DF set gets ICMP "fragmentation needed" back to its source,
 * with the MTU it must use; one without DF is fragmented before encapsulation, so that
 * every fragment travels in its own ESP/AH packet and the peer needs no reassembly. */
#include "fwd_impl.h"

#include <stdbool.h>
#include <string.h>

#include "envelope.h"
#include "fwd_xsk.h"

enum { ETH_HDR = 14, ICMP_QUOTE = 8, IPV4_MIN_MTU = 68 };

size_t
fwd_path_limit(const struct fwd *f, const struct fwd_sa *sa)
{
	size_t limit = f->outside_mtu != 0 ? f->outside_mtu : 1500;
	uint16_t tmtu = dp_sa_params(sa->dp)->tunnel_mtu;

	return tmtu != 0 && tmtu < limit ? tmtu : limit;
}

size_t
fwd_inner_mtu(const struct fwd_sa *sa, size_t limit)
{
	size_t m = limit;

	/* The padding makes the overhead step with the length: walk down to the largest fit. */
	while (m > IPV4_MIN_MTU && m + dp_sa_overhead(sa->dp, m) > limit)
		m--;
	return m;
}

/* ICMP type 3 code 4 to the inner packet's source, sent into the service veth: the kernel
 * routes it to the host. From the local gateway address (accept_local on the veth). */
void
fwd_too_big(struct fwd *f, struct fwd_set *s, const uint8_t *ip, size_t len, size_t mtu)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4, quote = hlen + ICMP_QUOTE, total;
	uint8_t *buf, *o, *icmp;
	uint64_t addr, now = monotonic_ms();

	if (ip[9] == 1 && len > hlen && ip[hlen] != 8 && ip[hlen] != 0 && ip[hlen] != 13)
		return; /* never an error about an ICMP error (RFC 1122 §3.2.2) */
	if (((ip[6] & 0x1f) | ip[7]) != 0)
		return; /* nor about a fragment other than the first */
	/* At most FWD_ICMP_PER_SECOND a second per PIC (RFC 1812 §4.3.2.8). */
	if (now - f->icmp_window_ms >= 1000) {
		f->icmp_window_ms = now;
		f->icmp_sent = 0;
	}
	if (f->icmp_sent >= FWD_ICMP_PER_SECOND)
		return;
	f->icmp_sent++;
	if (quote > len)
		quote = len;
	total = 20 + 8 + quote;
	if ((buf = fwd_xsk_tx_frame(s->xsk, &addr)) == NULL) {
		f->c.tx_dropped++;
		return;
	}
	memcpy(buf, s->inside_mac, 6);
	memcpy(buf + 6, s->pic_mac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	o = buf + ETH_HDR;
	memset(o, 0, 28);
	o[0] = 0x45;
	dp_put16(o + 2, (uint16_t)total);
	o[8] = 64;
	o[9] = 1;
	memcpy(o + 12, &s->local, 4);
	memcpy(o + 16, ip + 12, 4);
	dp_put16(o + 10, dp_ipv4_checksum(o, 20));
	icmp = o + 20;
	icmp[0] = 3;
	icmp[1] = 4;
	dp_put16(icmp + 6, (uint16_t)mtu);
	memcpy(icmp + 8, ip, quote);
	dp_put16(icmp + 2, dp_ipv4_checksum(icmp, 8 + quote));
	fwd_xsk_tx_queue(s->xsk, addr, 0, (uint32_t)(ETH_HDR + total));
	fwd_xsk_tx_flush(s->xsk);
}

/* Fragment k of the inner packet into dst (a fresh frame at off): header, then up to
 * chunk bytes of payload from at. Its length. */
size_t
fwd_fragment(const uint8_t *ip, size_t len, size_t at, size_t chunk, uint8_t *dst)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4, n = len - at < chunk ? len - at : chunk;
	uint16_t frag = (uint16_t)((ip[6] << 8 | ip[7]) & 0x3fff);
	uint16_t off = (uint16_t)((frag & 0x1fff) + (at - hlen) / 8);
	bool more = at + n < len || (frag & 0x2000);

	memcpy(dst, ip, hlen);
	memcpy(dst + hlen, ip + at, n);
	dp_put16(dst + 2, (uint16_t)(hlen + n));
	dp_put16(dst + 6, (uint16_t)((more ? 0x2000 : 0) | off));
	dst[10] = dst[11] = 0;
	dp_put16(dst + 10, dp_ipv4_checksum(dst, hlen));
	return hlen + n;
}
