/* The packet path: batches from the AF_XDP rings, no allocation, no protobuf.
 *   outbound: service veth -> SPD (term order) -> encapsulate -> outside device
 *             (or, a dynamic term without its SA: drop, acquire at most once a second)
 *   inbound:  outside device -> SA by SPI -> decapsulate -> selector check -> service veth
 * Every drop is counted where Junos counts it: in the SA, the service set or the PIC. */
#include "fwd_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "envelope.h"
#include "fwd_nl.h"
#include "fwd_xsk.h"
#include "u64map.h"

enum { ETH_HDR = 14, IPV4_MIN = 20 };

/* The IPv4 packet in an Ethernet frame, trimmed to its total length (frames are padded):
 * its length, or 0 when it is no IPv4 packet. */
static size_t
fwd_ipv4_len(const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + ETH_HDR;
	size_t total;

	if (len < ETH_HDR + IPV4_MIN || frame[12] != 0x08 || frame[13] != 0x00 ||
	    (ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)
		return 0;
	total = dp_get16(ip + 2);
	if (total < (size_t)(ip[0] & 0x0f) * 4 || total > len - ETH_HDR)
		return 0;
	return total;
}

static bool
fwd_in_prefix(uint32_t addr, const struct fwd_prefix *p)
{
	return (addr & p->mask) == p->addr;
}

static struct fwd_peer *
fwd_peer(struct fwd *f, uint32_t remote)
{
	struct fwd_peer *p;
	uint64_t now = monotonic_ms(), wait;
	uint8_t nexthop[4];
	int oif;
	size_t i, oldest = 0;

	for (i = 0; i < f->npeers && f->peers[i].remote != remote; i++) {
		if (f->peers[i].checked_ms < f->peers[oldest].checked_ms)
			oldest = i;
	}
	if (i == f->npeers) {
		/* Full: the peer asked about longest ago makes room (it is asked again when
		 * it comes back). */
		if (f->npeers < FWD_MAX_PEERS)
			f->npeers++;
		else
			i = oldest;
		memset(&f->peers[i], 0, sizeof(f->peers[i]));
		f->peers[i].remote = remote;
	}
	p = &f->peers[i];
	/* The kernel's tables are the truth; ask again now and then (a netlink round trip
	 * per peer per second), so a moved next hop or a new MAC is followed. A peer the
	 * kernel cannot resolve yet (or routes elsewhere) is asked at most every 100 ms:
	 * its packets take the slow path meanwhile, never a netlink call each. */
	wait = p->resolved ? FWD_NEIGH_REFRESH_MS : FWD_NEIGH_RETRY_MS;
	if (p->checked_ms == 0 || now - p->checked_ms >= wait) {
		p->checked_ms = now;
		p->resolved = fwd_nl_route_get(f->nl, (const uint8_t *)&remote, nexthop, &oif) == 0 &&
		    oif == f->outside_ifindex &&
		    fwd_nl_neigh_get(f->nl, oif, nexthop, p->mac) == 0;
	}
	return p;
}

/* Through the kernel, which resolves the next hop (and learns it for the next packets). */
static void
fwd_slow_path(struct fwd *f, const uint8_t *ip, size_t len, uint32_t remote)
{
	struct sockaddr_in to = { .sin_family = AF_INET };

	to.sin_addr.s_addr = remote;
	f->c.slow_path++;
	if (f->raw_fd < 0 || sendto(f->raw_fd, ip, len, MSG_DONTWAIT, (struct sockaddr *)&to,
	    sizeof(to)) < 0)
		f->c.tx_dropped++;
}

/* The first entry, in term order, that takes the packet: an SA, or a dynamic term that
 * waits for one; NULL when no term does. An SA gone since the last sync (no dp) is
 * passed over (fwd_refresh.c). */
static struct fwd_spd_entry *
fwd_spd(const struct fwd_set *s, uint32_t src, uint32_t dst)
{
	size_t i;

	for (i = 0; i < s->nspd; i++) {
		if (s->spd[i].sa != NULL && s->spd[i].sa->dp == NULL)
			continue;
		if (fwd_in_prefix(src, &s->spd[i].src) && fwd_in_prefix(dst, &s->spd[i].dst))
			return &s->spd[i];
	}
	return NULL;
}

/* Encapsulates the inner packet (or, chunk > 0, its fragment from at) into a frame of the
 * outside device and sends it. */
static void
fwd_send(struct fwd *f, struct fwd_sa *sa, const uint8_t *ip, size_t len, size_t at,
    size_t chunk)
{
	struct fwd_peer *peer;
	struct dp_pkt p;
	uint64_t addr;
	uint8_t *buf;

	if (len > FWD_XSK_FRAME - FWD_HEADROOM - 128 ||
	    (buf = fwd_xsk_tx_frame(f->outside_xsk, &addr)) == NULL) {
		f->c.tx_dropped++;
		return;
	}
	p.buf = buf;
	p.cap = FWD_XSK_FRAME;
	p.off = FWD_HEADROOM;
	if (chunk == 0) {
		memcpy(buf + FWD_HEADROOM, ip, len);
		p.len = len;
	} else {
		p.len = fwd_fragment(ip, len, at, chunk, buf + FWD_HEADROOM);
	}
	if (dp_sa_encap(sa->dp, &p) != DP_OK) {
		fwd_xsk_tx_abandon(f->outside_xsk, addr);
		return; /* counted in the SA */
	}
	peer = fwd_peer(f, sa->remote);
	if (!peer->resolved) {
		fwd_slow_path(f, dp_pkt_data(&p), p.len, sa->remote);
		fwd_xsk_tx_abandon(f->outside_xsk, addr);
		return;
	}
	p.off -= ETH_HDR;
	memcpy(buf + p.off, peer->mac, 6);
	memcpy(buf + p.off + 6, f->outside_mac, 6);
	buf[p.off + 12] = 0x08;
	buf[p.off + 13] = 0x00;
	fwd_xsk_tx_queue(f->outside_xsk, addr, (uint32_t)p.off, (uint32_t)(p.len + ETH_HDR));
}

static void
fwd_outbound(struct fwd *f, struct fwd_set *s, const uint8_t *frame, size_t flen)
{
	size_t len = fwd_ipv4_len(frame, flen), limit, inner, hlen, chunk, at;
	const uint8_t *ip = frame + ETH_HDR;
	struct fwd_spd_entry *e;
	uint32_t src, dst;
	struct fwd_sa *sa;

	if (len == 0) {
		f->c.bad_headers++;
		return;
	}
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	if ((e = fwd_spd(s, src, dst)) == NULL || (sa = e->sa) == NULL) {
		/* A dynamic term without its SA yet: ask for it (rate-limited), drop this. */
		if (e != NULL)
			fwd_acquire(f, s, e->dyn, src, dst);
		s->c.no_sa++;
		return;
	}
	limit = fwd_path_limit(f, sa);
	if (len + dp_sa_overhead(sa->dp, len) <= limit) {
		fwd_send(f, sa, ip, len, 0, 0);
		return;
	}
	inner = fwd_inner_mtu(sa, limit);
	dp_sa_count_mtu_exceeded(sa->dp);
	if (ip[6] & 0x40) {
		fwd_too_big(f, s, ip, len, inner);
		return;
	}
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	chunk = inner > hlen ? (inner - hlen) & ~(size_t)7 : 0;
	if (chunk == 0) {
		f->c.tx_dropped++;
		return;
	}
	for (at = hlen; at < len; at += chunk)
		fwd_send(f, sa, ip, len, at, chunk);
}

void
fwd_service_rx(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fwd_set *s = w->data;
	struct fwd *f = s->fwd;
	struct fwd_rx rx[FWD_XSK_BATCH];
	unsigned n, i, rounds;

	(void)loop;
	(void)revents;
	/* A few batches, then back to the loop: the other rings and the bus get their turn. */
	for (rounds = 0; rounds < 8; rounds++) {
		if ((n = fwd_xsk_rx(s->xsk, rx, FWD_XSK_BATCH)) == 0)
			break;
		for (i = 0; i < n; i++) {
			if (f->outside_xsk == NULL)
				f->c.tx_dropped++;
			else
				fwd_outbound(f, s, rx[i].data, rx[i].len);
		}
		fwd_xsk_rx_release(s->xsk, rx, n);
		if (f->outside_xsk != NULL)
			fwd_xsk_tx_flush(f->outside_xsk);
	}
}

/* The SA a packet from the outside names: ESP, AH, or ESP in UDP (the SPI after the UDP
 * header). NULL when it names none. */
static struct fwd_sa *
fwd_inbound_sa(struct fwd *f, const uint8_t *ip, size_t len)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4, at;
	uint32_t proto = ip[9], spi, daddr;

	if (proto == IPPROTO_UDP) {
		at = hlen + 8;
		proto = IPPROTO_ESP;
	} else {
		at = proto == IPPROTO_AH ? hlen + 4 : hlen;
	}
	if (len < at + 4)
		return NULL;
	spi = dp_get32(ip + at);
	memcpy(&daddr, ip + 16, 4);
	return u64map_get(fwd_inbound_map(f, (uint8_t)proto), fwd_inbound_key(daddr, spi));
}

static void
fwd_count_invalid_spi(struct fwd *f, uint32_t dst)
{
	struct fwd_set *s;

	for (s = f->sets; s != NULL; s = s->next) {
		if (s->local == dst) {
			s->c.invalid_spi++;
			return;
		}
	}
	f->c.invalid_spi++;
}

static struct fwd_set *
fwd_inbound(struct fwd *f, uint8_t *frame, size_t flen, uint32_t headroom, uint32_t tailroom)
{
	size_t len = fwd_ipv4_len(frame, flen);
	uint8_t *ip = frame + ETH_HDR, *buf;
	uint32_t saddr, daddr, isrc, idst;
	struct fwd_sa *sa;
	struct fwd_set *s;
	struct dp_pkt p;
	uint64_t addr;

	if (len == 0 || (ip[6] & 0x3f) != 0 || ip[7] != 0) {
		f->c.bad_headers++; /* not IPv4, or a fragment (no reassembly here) */
		return NULL;
	}
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	sa = fwd_inbound_sa(f, ip, len);
	if (sa == NULL || sa->local != daddr || sa->remote != saddr) {
		fwd_count_invalid_spi(f, daddr);
		return NULL;
	}
	if ((s = sa->set) == NULL || !s->ready) {
		fwd_count_invalid_spi(f, daddr);
		return NULL;
	}
	p.buf = frame - headroom;
	p.off = headroom + ETH_HDR;
	p.len = len;
	p.cap = headroom + flen + tailroom;
	if (dp_sa_decap(sa->dp, &p) != DP_OK)
		return NULL; /* counted in the SA */
	ip = dp_pkt_data(&p);
	if (p.len < IPV4_MIN || (ip[0] >> 4) != 4) {
		f->c.bad_headers++;
		return NULL;
	}
	/* The SA carries only its term's traffic (RFC 4301 §5.2, step 4). */
	memcpy(&isrc, ip + 12, 4);
	memcpy(&idst, ip + 16, 4);
	if (!fwd_in_prefix(isrc, &sa->src) || !fwd_in_prefix(idst, &sa->dst)) {
		f->c.bad_headers++;
		return NULL;
	}
	if ((buf = fwd_xsk_tx_frame(s->xsk, &addr)) == NULL) {
		f->c.tx_dropped++;
		return NULL;
	}
	memcpy(buf, s->inside_mac, 6);
	memcpy(buf + 6, s->pic_mac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	memcpy(buf + ETH_HDR, ip, p.len);
	fwd_xsk_tx_queue(s->xsk, addr, 0, (uint32_t)(p.len + ETH_HDR));
	return s;
}

void
fwd_outside_rx(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fwd *f = w->data;
	struct fwd_rx rx[FWD_XSK_BATCH];
	struct fwd_set *s, *one;
	unsigned n, i, rounds;
	bool many;

	(void)loop;
	(void)revents;
	for (rounds = 0; rounds < 8 && f->outside_xsk != NULL; rounds++) {
		if ((n = fwd_xsk_rx(f->outside_xsk, rx, FWD_XSK_BATCH)) == 0)
			break;
		one = NULL;
		many = false;
		for (i = 0; i < n; i++) {
			s = fwd_inbound(f, rx[i].data, rx[i].len, rx[i].headroom, rx[i].tailroom);
			if (s != NULL && one != NULL && s != one)
				many = true;
			if (s != NULL)
				one = s;
		}
		fwd_xsk_rx_release(f->outside_xsk, rx, n);
		/* One set (the usual case) or several: flush what received packets. */
		for (s = many ? f->sets : one; s != NULL; s = many ? s->next : NULL) {
			if (s->xsk != NULL)
				fwd_xsk_tx_flush(s->xsk);
		}
	}
}
