/* ike_load: an IKEv2 load initiator for bench/ike. It keeps a window of W IKE SAs in
 * flight against one responder, each a fresh initiator ike_sa of picsec-iked's engine
 * (ike_sa.h; its own SPIi), PSK, IKE aes128-sha256-x25519 and one Child SA (ESP
 * aes128-sha256, no PFS); it drives IKE_SA_INIT and IKE_AUTH through ike_sa_input,
 * retransmits on a timeout (bounded tries), counts completions (ESTABLISHED with the Child
 * SA), and stops after N SAs or T seconds. What the responder asks afterwards
 * (INFORMATIONAL: a Delete of an IKE SA it replaced, a liveness check) is answered through
 * ike_sa_input as long as the SA is among the last K completed; older ones are freed
 * (about 17 KB each). charon deletes a replaced IKE SA at once only when the new one came
 * from another port (else 10 s later, suspecting a reauthentication): hence --ports, new
 * IKE SAs on each port in turn (picsec-iked does not care).
 *
 * One UDP socket per port (default one, 192.0.2.1:5500); the responder answers to the
 * source port. When IKE_SA_INIT finds a NAT (strongSwan with kernel-libipsec fakes one, as
 * it needs ESP in UDP), IKE_AUTH and what follows go to the responder's port 4500 with the
 * non-ESP marker.
 *
 * The engine keeps keys in libsodium's guarded memory (sodium_malloc: an mmap, mprotect'd
 * guard pages and mlock per key; sodium_free: mprotect and munmap). Each mprotect and
 * munmap flushes TLBs on every CPU the process ran on, and in this VM those IPIs took
 * ~60% of the initiator's CPU: on a 2-vCPU machine, CPU the responder then does not get.
 * So ike_load replaces them with malloc'd memory wiped on free (below), unless
 * --guarded-keys (then about 9 mappings per IKE SA: K stays under vm.max_map_count / 10);
 * the responders are left as they are.
 *
 * Every loop ends: by the deadline (T + the linger time + 2 s), by the count of SAs, by
 * a cap on failures, and by a cap on iterations. The last lines are the results as
 * key=value pairs (bench/ike/run.sh reads them). */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ike_msg.h"
#include "ike_proposal.h"
#include "ike_sa.h"

enum {
	MSG_MAX = 8192,
	RECV_BATCH = 64,		/* datagrams taken per wake-up */
	WINDOW_MAX = 4096,
	KEEP_MAX = 65536,
	PORTS_MAX = 1024,
	NATT_PORT = 4500,
	ITERATIONS_MAX = 100000000,	/* of the main loop: a bound beside the deadline */
};

static const char default_psk[] = "picsec-bench-ike-psk-not-a-secret";

/* ------------------------------------------------------------------ key memory */

/* --guarded-keys: libsodium's own allocator (found behind ours), else malloc + wipe. */
static bool guarded_keys;
static void *(*real_sodium_malloc)(size_t);
static void (*real_sodium_free)(void *);

enum { KEYMEM_HDR = 16 };	/* the length, keeping malloc's alignment */

void *
sodium_malloc(const size_t size)
{
	uint8_t *p;

	if (guarded_keys)
		return real_sodium_malloc(size);
	if (size > SIZE_MAX - KEYMEM_HDR || (p = malloc(size + KEYMEM_HDR)) == NULL)
		return NULL;
	memcpy(p, &size, sizeof(size));
	return p + KEYMEM_HDR;
}

void
sodium_free(void *ptr)
{
	uint8_t *p = ptr;
	size_t size;

	if (guarded_keys) {
		real_sodium_free(ptr);
		return;
	}
	if (p == NULL)
		return;
	memcpy(&size, p - KEYMEM_HDR, sizeof(size));
	sodium_memzero(p, size);
	free(p - KEYMEM_HDR);
}

void *
sodium_allocarray(size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	return sodium_malloc(count * size);
}

static void
keymem_init(void)
{
	if (!guarded_keys)
		return;
	*(void **)&real_sodium_malloc = dlsym(RTLD_NEXT, "sodium_malloc");
	*(void **)&real_sodium_free = dlsym(RTLD_NEXT, "sodium_free");
	if (real_sodium_malloc == NULL || real_sodium_free == NULL) {
		fprintf(stderr, "ike_load: libsodium's sodium_malloc not found\n");
		exit(2);
	}
}

struct opts {
	struct in_addr local, peer;
	uint16_t port, peer_port;
	unsigned window, count, seconds, rtx_ms, tries, keep, linger_ms, max_failures, ports;
	const char *psk;
	bool verbose;
};

/* One IKE SA of ours: in flight (negotiating) or completed (kept to answer requests). */
struct slot {
	struct ike_sa *ike;
	uint64_t spi;		/* our SPIi: the key */
	uint64_t t_start;	/* ns, the first IKE_SA_INIT */
	uint64_t deadline;	/* ns, of the next retransmission (in flight) */
	uint8_t *req;		/* our outstanding request, as sent (without a marker) */
	size_t req_len;
	uint16_t peer_port;	/* 500, or 4500 once a NAT was found */
	uint32_t fl_pos;	/* its place in the in-flight list */
	uint16_t sock;		/* which of our sockets (ports) it uses */
	uint8_t tries;		/* sends of the outstanding request */
	bool used, inflight;
};

struct stats {
	uint64_t started, completed, failed_timeout, failed_refused, retransmissions;
	uint64_t init_retries;	/* IKE_SA_INIT again: COOKIE or INVALID_KE_PAYLOAD */
	uint64_t natt;		/* IKE SAs that moved to port 4500 */
	uint64_t requests_in, deletes_in, liveness_in; /* the responder's requests answered */
	uint64_t unknown_spi, dropped, evicted, abandoned, send_errors;
	uint64_t t0, t_last;	/* ns: the first send, the last completion */
	uint32_t *lat_us;	/* establishment latency of each completion */
	char last_error[160];
};

struct load {
	struct opts o;
	struct ike_peer_cfg cfg;
	int *fds;		/* one UDP socket per port: port, port + 1, ... */
	int ep;			/* epoll over them */
	unsigned next_sock;
	struct slot *slots;
	size_t nslots;
	uint32_t *free_list;
	size_t nfree;
	int32_t *table;		/* open addressing, SPI -> slot index, -1 empty */
	size_t table_mask;
	uint32_t *ring;		/* completed slots, oldest first */
	uint64_t *ring_spi;
	size_t ring_head, ring_len, ring_cap;
	uint32_t *fl;		/* the slots in flight (their number: inflight) */
	size_t inflight;
	uint32_t child_spi;
	struct stats st;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("ike_load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ------------------------------------------------------------------ SPI -> slot table */

static size_t
hash_spi(const struct load *l, uint64_t spi)
{
	spi ^= spi >> 33;
	spi *= 0xff51afd7ed558ccdull;
	spi ^= spi >> 33;
	return (size_t)spi & l->table_mask;
}

static struct slot *
table_get(const struct load *l, uint64_t spi)
{
	size_t i = hash_spi(l, spi);

	for (size_t n = 0; n <= l->table_mask; n++, i = (i + 1) & l->table_mask) {
		int32_t k = l->table[i];

		if (k < 0)
			return NULL;
		if (l->slots[k].spi == spi)
			return &l->slots[k];
	}
	return NULL;
}

static int
table_put(struct load *l, uint64_t spi, uint32_t k)
{
	size_t i = hash_spi(l, spi);

	for (size_t n = 0; n <= l->table_mask; n++, i = (i + 1) & l->table_mask) {
		if (l->table[i] < 0) {
			l->table[i] = (int32_t)k;
			return 0;
		}
		if (l->slots[l->table[i]].spi == spi)
			return -1;
	}
	return -1;
}

/* Linear probing's deletion: the entries after the hole that belong before it move up. */
static void
table_del(struct load *l, uint64_t spi)
{
	size_t i = hash_spi(l, spi), j, h;

	for (size_t n = 0; n <= l->table_mask; n++, i = (i + 1) & l->table_mask) {
		if (l->table[i] < 0)
			return;
		if (l->slots[l->table[i]].spi == spi)
			break;
	}
	if (l->table[i] < 0 || l->slots[l->table[i]].spi != spi)
		return;
	l->table[i] = -1;
	j = i;
	for (size_t n = 0; n <= l->table_mask; n++) {
		j = (j + 1) & l->table_mask;
		if (l->table[j] < 0)
			return;
		h = hash_spi(l, l->slots[l->table[j]].spi);
		/* Stays if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		l->table[i] = l->table[j];
		l->table[j] = -1;
		i = j;
	}
}

/* ------------------------------------------------------------------ slots */

static void
inflight_add(struct load *l, struct slot *s)
{
	s->inflight = true;
	s->fl_pos = (uint32_t)l->inflight;
	l->fl[l->inflight++] = (uint32_t)(s - l->slots);
}

static void
inflight_del(struct load *l, struct slot *s)
{
	uint32_t last = l->fl[--l->inflight];

	l->fl[s->fl_pos] = last;
	l->slots[last].fl_pos = s->fl_pos;
	s->inflight = false;
}

static void
slot_release(struct load *l, struct slot *s)
{
	if (!s->used)
		return;
	if (s->spi != 0)
		table_del(l, s->spi);
	if (s->inflight)
		inflight_del(l, s);
	ike_sa_free(s->ike);
	free(s->req);
	memset(s, 0, sizeof(*s));
	l->free_list[l->nfree++] = (uint32_t)(s - l->slots);
}

static int
send_msg(struct load *l, const struct slot *s, const uint8_t *msg, size_t len)
{
	static const uint8_t marker[4];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = l->o.peer,
		.sin_port = htons(s->peer_port) };
	struct iovec iov[2];
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = iov };
	int n = 0;

	/* Port 4500 carries IKE behind the non-ESP marker (RFC 3948 §2.2). */
	if (s->peer_port == NATT_PORT) {
		iov[n].iov_base = (void *)(uintptr_t)marker;
		iov[n++].iov_len = sizeof(marker);
	}
	iov[n].iov_base = (void *)(uintptr_t)msg;
	iov[n++].iov_len = len;
	mh.msg_iovlen = (size_t)n;
	for (int tries = 0; tries < 3; tries++) {
		if (sendmsg(l->fds[s->sock], &mh, 0) >= 0)
			return 0;
		if (errno != EINTR && errno != ENOBUFS && errno != EAGAIN)
			break;
	}
	l->st.send_errors++;
	return -1;
}

static uint64_t
rtx_wait_ns(const struct load *l, unsigned tries)
{
	/* The first wait, doubled after each send (at most 8x). */
	unsigned shift = tries > 1 ? tries - 1 : 0;

	return (uint64_t)l->o.rtx_ms * 1000000ull << (shift < 3 ? shift : 3);
}

/* Keeps msg as the outstanding request of s and sends it. */
static void
send_request(struct load *l, struct slot *s, const uint8_t *msg, size_t len, uint64_t now)
{
	uint8_t *copy = realloc(s->req, len);

	if (copy != NULL) {
		memcpy(copy, msg, len);
		s->req = copy;
		s->req_len = len;
	}
	s->tries = 1;
	s->deadline = now + rtx_wait_ns(l, 1);
	send_msg(l, s, msg, len);
}

static bool
start_one(struct load *l, uint64_t now)
{
	uint8_t out[MSG_MAX];
	struct ike_endpoints ep;
	struct slot *s;
	size_t len;
	uint32_t k;

	if (l->nfree == 0)
		return false;
	k = l->free_list[--l->nfree];
	s = &l->slots[k];
	memset(s, 0, sizeof(*s));
	s->used = true;
	if (++l->child_spi < 0x100)
		l->child_spi = 0x100;
	if ((s->ike = ike_sa_new(&l->cfg, true, l->child_spi)) == NULL)
		die("out of memory");
	/* Our ports in turn (see --ports). */
	s->sock = (uint16_t)(l->next_sock++ % l->o.ports);
	memcpy(ep.local, &l->o.local, 4);
	memcpy(ep.remote, &l->o.peer, 4);
	ep.local_port = (uint16_t)(l->o.port + s->sock);
	ep.remote_port = l->o.peer_port;
	ike_sa_set_endpoints(s->ike, &ep);
	if (ike_sa_start(s->ike, out, sizeof(out), &len) != 0 || len == 0)
		die("IKE_SA_INIT not made: %s", ike_sa_error(s->ike));
	s->spi = ike_sa_spi_i(s->ike);
	if (table_put(l, s->spi, k) != 0) {
		/* The same random SPI twice: try another time. */
		s->spi = 0;
		slot_release(l, s);
		return true;
	}
	inflight_add(l, s);
	s->peer_port = l->o.peer_port;
	s->t_start = now;
	l->st.started++;
	if (l->st.t0 == 0)
		l->st.t0 = now;
	send_request(l, s, out, len, now);
	return true;
}

/* Completed: kept to answer the responder's requests; the oldest beyond K goes. */
static void
keep_completed(struct load *l, struct slot *s)
{
	size_t tail;
	struct slot *old;

	inflight_del(l, s);
	free(s->req);
	s->req = NULL;
	s->req_len = 0;
	if (l->ring_len == l->ring_cap) {
		old = &l->slots[l->ring[l->ring_head]];
		if (old->used && !old->inflight && old->spi == l->ring_spi[l->ring_head]) {
			l->st.evicted++;
			slot_release(l, old);
		}
		l->ring_head = (l->ring_head + 1) % l->ring_cap;
		l->ring_len--;
	}
	tail = (l->ring_head + l->ring_len) % l->ring_cap;
	l->ring[tail] = (uint32_t)(s - l->slots);
	l->ring_spi[tail] = s->spi;
	l->ring_len++;
}

static void
note_error(struct load *l, const struct slot *s)
{
	snprintf(l->st.last_error, sizeof(l->st.last_error), "%s", ike_sa_error(s->ike));
}

/* One datagram from the responder (without the marker). */
static void
take(struct load *l, const uint8_t *msg, size_t len, uint64_t now)
{
	uint8_t out[MSG_MAX];
	enum ike_sa_state before, after;
	struct slot *s;
	size_t outlen = 0;
	bool request;

	if (len < IKE_HDR_LEN) {
		l->st.dropped++;
		return;
	}
	if ((s = table_get(l, be64(msg))) == NULL) {
		l->st.unknown_spi++;
		return;
	}
	request = (msg[19] & IKE_FLAG_RESPONSE) == 0;
	before = ike_sa_get_state(s->ike);
	if (ike_sa_input(s->ike, msg, len, out, sizeof(out), &outlen) != 0) {
		l->st.dropped++;
		if (ike_sa_error(s->ike)[0] != '\0')
			note_error(l, s);
		return;
	}
	after = ike_sa_get_state(s->ike);
	if (request) {
		l->st.requests_in++;
		if (after == IKE_SA_DEAD)
			l->st.deletes_in++;
		else if (msg[18] == IKE_INFORMATIONAL)
			l->st.liveness_in++;
	}
	/* NAT found in IKE_SA_INIT: IKE_AUTH and all after it on 4500 (§2.23). */
	if (before == IKE_SA_INIT_SENT && after == IKE_SA_AUTH_SENT &&
	    (ike_sa_nat_local(s->ike) || ike_sa_nat_remote(s->ike))) {
		s->peer_port = NATT_PORT;
		l->st.natt++;
	}
	if (before == IKE_SA_INIT_SENT && after == IKE_SA_INIT_SENT && outlen > 0)
		l->st.init_retries++;
	if (outlen > 0) {
		if ((out[19] & IKE_FLAG_RESPONSE) == 0)
			send_request(l, s, out, outlen, now);
		else
			send_msg(l, s, out, outlen);
	}
	if (s->inflight && after == IKE_SA_ESTABLISHED && ike_sa_child(s->ike) != NULL) {
		if (l->st.completed < l->o.count)
			l->st.lat_us[l->st.completed] = (uint32_t)((now - s->t_start) / 1000);
		l->st.completed++;
		l->st.t_last = now;
		keep_completed(l, s);
		return;
	}
	if (after == IKE_SA_DEAD) {
		if (s->inflight) {
			l->st.failed_refused++;
			note_error(l, s);
		}
		slot_release(l, s);
	}
}

static void
receive(struct load *l, int fd, uint64_t now)
{
	static uint8_t bufs[RECV_BATCH][MSG_MAX + 4];
	struct mmsghdr mm[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct sockaddr_in from[RECV_BATCH];
	int n;

	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < RECV_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &from[i];
		mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	n = recvmmsg(fd, mm, RECV_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		const uint8_t *p = bufs[i];
		size_t len = mm[i].msg_len;

		if (from[i].sin_addr.s_addr != l->o.peer.s_addr) {
			l->st.dropped++;
			continue;
		}
		if (ntohs(from[i].sin_port) == NATT_PORT) {
			/* A keepalive (0xff) or ESP (a non-zero SPI): not for us. */
			if (len < 4 || p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0) {
				l->st.dropped++;
				continue;
			}
			p += 4;
			len -= 4;
		}
		take(l, p, len, now);
	}
}

/* Retransmits what waited too long; gives up after the last try. Returns the next
 * deadline (ns), or 0 when nothing waits. */
static uint64_t
timeouts(struct load *l, uint64_t now)
{
	uint64_t next = 0;
	size_t i = 0;

	/* A release moves the last of the list into place i: i then stays. */
	for (size_t n = 0; n < l->nslots && i < l->inflight; n++) {
		struct slot *s = &l->slots[l->fl[i]];

		if (s->deadline <= now) {
			if (s->tries >= l->o.tries || s->req == NULL) {
				l->st.failed_timeout++;
				snprintf(l->st.last_error, sizeof(l->st.last_error),
				    "no answer to %s after %u sends",
				    ike_sa_get_state(s->ike) == IKE_SA_INIT_SENT ? "IKE_SA_INIT" :
				    "IKE_AUTH", s->tries);
				slot_release(l, s);
				continue;
			}
			send_msg(l, s, s->req, s->req_len);
			s->tries++;
			s->deadline = now + rtx_wait_ns(l, s->tries);
			l->st.retransmissions++;
		}
		if (next == 0 || s->deadline < next)
			next = s->deadline;
		i++;
	}
	return next;
}

/* ------------------------------------------------------------------ configuration */

static void
ts_set(struct ike_ts_set *set, uint8_t third)
{
	memset(set, 0, sizeof(*set));
	set->count = 1;
	set->ts[0] = (struct ike_ts){ .type = 7, .end_port = 65535, .addr_len = 4,
		.start = { 198, 18, third, 0 }, .end = { 198, 18, third, 255 } };
}

/* IKE aes-128-cbc + sha-256 + group31, ESP aes-128-cbc + hmac-sha-256-128 without PFS,
 * the PSK, the gateway addresses as identities; site A's traffic to site B's. */
static void
make_cfg(struct load *l)
{
	Picsec__V1__IkeProposal ip = PICSEC__V1__IKE_PROPOSAL__INIT;
	Picsec__V1__IpsecProposal cp = PICSEC__V1__IPSEC_PROPOSAL__INIT;
	static const uint8_t zero[4];
	struct ike_peer_cfg *c = &l->cfg;
	char err[160];

	memset(c, 0, sizeof(*c));
	ip.name = (char *)(uintptr_t)"bench-ike";
	ip.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	ip.authentication_algorithm = PICSEC__V1__IKE_HASH__IKE_HASH_SHA256;
	ip.dh_group = PICSEC__V1__DH_GROUP__DH_GROUP_31;
	if (ike_proposal_from_ike(&ip, 1, &c->ike[0], err, sizeof(err)) != 0)
		die("IKE proposal: %s", err);
	c->nike = 1;
	cp.name = (char *)(uintptr_t)"bench-esp";
	cp.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	cp.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	cp.authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128;
	if (ike_proposal_from_ipsec(&cp, 1, PICSEC__V1__DH_GROUP__DH_GROUP_NONE, zero,
	    &c->child[0], err, sizeof(err)) != 0)
		die("ESP proposal: %s", err);
	c->nchild = 1;
	c->psk = (const uint8_t *)l->o.psk;
	c->psk_len = strlen(l->o.psk);
	c->local_id_type = c->remote_id_type = IKE_ID_IPV4;
	memcpy(c->local_id, &l->o.local, 4);
	memcpy(c->remote_id, &l->o.peer, 4);
	c->local_id_len = c->remote_id_len = 4;
	ts_set(&c->local_ts, 1);
	ts_set(&c->remote_ts, 2);
}

static void
open_sockets(struct load *l)
{
	int buf = (l->o.ports > 16 ? 1 : 8) << 20, one = 1, fd;

	if (l->o.port + l->o.ports - 1 > 65535)
		die("--port %u with --ports %u goes beyond 65535", l->o.port, l->o.ports);
	if ((l->fds = calloc(l->o.ports, sizeof(*l->fds))) == NULL ||
	    (l->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll: %s", strerror(errno));
	for (unsigned i = 0; i < l->o.ports; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = l->o.local,
			.sin_port = htons((uint16_t)(l->o.port + i)) };
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
			die("socket: %s", strerror(errno));
		/* Room for bursts (root may go beyond rmem_max). */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) == -1)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) == -1)
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			die("bind %s:%u: %s", inet_ntoa(l->o.local), l->o.port + i,
			    strerror(errno));
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			die("epoll_ctl: %s", strerror(errno));
		l->fds[i] = fd;
	}
}

/* The kept IKE SAs' guarded key pages must fit in the process's mappings. */
static void
check_keep(struct load *l)
{
	FILE *f;
	unsigned long max = 0, cap;

	if (!guarded_keys || (f = fopen("/proc/sys/vm/max_map_count", "r")) == NULL)
		return;
	if (fscanf(f, "%lu", &max) != 1)
		max = 0;
	fclose(f);
	if (max == 0)
		return;
	cap = max / 10 > l->o.window ? max / 10 - l->o.window : 1;
	if (l->o.keep > cap) {
		fprintf(stderr, "ike_load: --keep %u lowered to %lu (vm.max_map_count %lu)\n",
		    l->o.keep, cap, max);
		l->o.keep = (unsigned)cap;
	}
}

static void
alloc_state(struct load *l)
{
	size_t tsize = 1;

	l->nslots = (size_t)l->o.window + l->o.keep;
	while (tsize < l->nslots * 2)
		tsize <<= 1;
	l->table_mask = tsize - 1;
	l->slots = calloc(l->nslots, sizeof(*l->slots));
	l->free_list = calloc(l->nslots, sizeof(*l->free_list));
	l->fl = calloc(l->nslots, sizeof(*l->fl));
	l->table = malloc(tsize * sizeof(*l->table));
	l->ring_cap = l->o.keep;
	l->ring = calloc(l->ring_cap, sizeof(*l->ring));
	l->ring_spi = calloc(l->ring_cap, sizeof(*l->ring_spi));
	l->st.lat_us = calloc(l->o.count, sizeof(*l->st.lat_us));
	if (l->slots == NULL || l->free_list == NULL || l->table == NULL || l->ring == NULL ||
	    l->ring_spi == NULL || l->st.lat_us == NULL || l->fl == NULL)
		die("out of memory");
	for (size_t i = 0; i < tsize; i++)
		l->table[i] = -1;
	for (size_t i = l->nslots; i > 0; i--)
		l->free_list[l->nfree++] = (uint32_t)(i - 1);
	randombytes_buf(&l->child_spi, sizeof(l->child_spi));
	l->child_spi = (l->child_spi & 0x3fffffff) | 0x1000;
}

/* ------------------------------------------------------------------ the run */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(struct load *l, uint64_t t_stop)
{
	struct stats *st = &l->st;
	uint64_t span = st->t_last > st->t0 ? st->t_last - st->t0 : 0;
	double secs = (double)span / 1e9, rate = secs > 0 ? (double)st->completed / secs : 0;
	size_t n = st->completed < l->o.count ? st->completed : l->o.count;
	double p50 = 0, p99 = 0, cpu = 0;
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	if (n > 0) {
		qsort(st->lat_us, n, sizeof(*st->lat_us), cmp_u32);
		p50 = st->lat_us[n / 2] / 1000.0;
		p99 = st->lat_us[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000.0;
	}
	printf("ike_load: %llu IKE SAs + Child SAs established in %.3f s: %.1f IKE SAs/s "
	    "(window %u, run %.3f s)\n", (unsigned long long)st->completed, secs, rate,
	    l->o.window, st->t0 != 0 ? (double)(t_stop - st->t0) / 1e9 : 0.0);
	printf("ike_load: started %llu, retransmissions %llu, failures %llu (%llu timed out, "
	    "%llu refused), abandoned at the stop %llu\n", (unsigned long long)st->started,
	    (unsigned long long)st->retransmissions,
	    (unsigned long long)(st->failed_timeout + st->failed_refused),
	    (unsigned long long)st->failed_timeout, (unsigned long long)st->failed_refused,
	    (unsigned long long)st->abandoned);
	printf("ike_load: setup latency p50 %.1f ms, p99 %.1f ms; IKE_SA_INIT again (COOKIE, "
	    "INVALID_KE) %llu; over port 4500 %llu\n", p50, p99,
	    (unsigned long long)st->init_retries, (unsigned long long)st->natt);
	printf("ike_load: the responder's requests answered %llu (IKE SA Deletes %llu, other "
	    "INFORMATIONAL %llu); for SAs no longer kept %llu; dropped %llu; send errors %llu\n",
	    (unsigned long long)st->requests_in, (unsigned long long)st->deletes_in,
	    (unsigned long long)st->liveness_in, (unsigned long long)st->unknown_spi,
	    (unsigned long long)st->dropped, (unsigned long long)st->send_errors);
	printf("ike_load: our own CPU time %.2f s\n", cpu);
	if (st->last_error[0] != '\0')
		printf("ike_load: last error: %s\n", st->last_error);
	printf("RESULT completed=%llu seconds=%.3f rate=%.1f retransmissions=%llu failures=%llu "
	    "timeouts=%llu refused=%llu started=%llu abandoned=%llu init_retries=%llu "
	    "natt=%llu deletes_in=%llu requests_in=%llu unknown_spi=%llu p50_ms=%.1f "
	    "p99_ms=%.1f window=%u cpu_s=%.2f\n",
	    (unsigned long long)st->completed, secs, rate,
	    (unsigned long long)st->retransmissions,
	    (unsigned long long)(st->failed_timeout + st->failed_refused),
	    (unsigned long long)st->failed_timeout, (unsigned long long)st->failed_refused,
	    (unsigned long long)st->started, (unsigned long long)st->abandoned,
	    (unsigned long long)st->init_retries, (unsigned long long)st->natt,
	    (unsigned long long)st->deletes_in, (unsigned long long)st->requests_in,
	    (unsigned long long)st->unknown_spi, p50, p99, l->o.window, cpu);
	fflush(stdout);
}

static int
run(struct load *l)
{
	uint64_t t_begin = now_ns(), t_end = t_begin + (uint64_t)l->o.seconds * 1000000000ull;
	uint64_t hard = t_end + ((uint64_t)l->o.linger_ms + 2000) * 1000000ull;
	uint64_t t_stop = 0, linger_end = 0, next_tick = t_begin + 1000000000ull, last_done = 0;
	struct epoll_event evs[64];
	bool stopping = false;

	for (unsigned long it = 0; it < ITERATIONS_MAX; it++) {
		uint64_t now = now_ns(), next, wait_ns;
		int ms;

		if (!stopping && (l->st.completed >= l->o.count || now >= t_end ||
		    l->st.failed_timeout + l->st.failed_refused >= l->o.max_failures)) {
			stopping = true;
			t_stop = now;
			linger_end = now + (uint64_t)l->o.linger_ms * 1000000ull;
			/* What is still negotiating is not counted: forgotten. */
			for (size_t n = 0; n < l->nslots && l->inflight > 0; n++) {
				l->st.abandoned++;
				slot_release(l, &l->slots[l->fl[l->inflight - 1]]);
			}
		}
		if (stopping && (now >= linger_end || now >= hard))
			break;
		/* Keep the window full (never more starts than the count left). */
		while (!stopping && l->inflight < l->o.window &&
		    l->st.completed + l->inflight < l->o.count && start_one(l, now))
			;
		if (l->o.verbose && now >= next_tick) {
			fprintf(stderr, "ike_load: %5.1f s: %llu established (+%llu), %zu in "
			    "flight, %llu retransmissions, %llu failures\n",
			    (double)(now - t_begin) / 1e9, (unsigned long long)l->st.completed,
			    (unsigned long long)(l->st.completed - last_done), l->inflight,
			    (unsigned long long)l->st.retransmissions,
			    (unsigned long long)(l->st.failed_timeout + l->st.failed_refused));
			last_done = l->st.completed;
			next_tick += 1000000000ull;
		}
		next = timeouts(l, now);
		if (next == 0 || next > (stopping ? linger_end : t_end))
			next = stopping ? linger_end : t_end;
		wait_ns = next > now ? next - now : 0;
		ms = (int)((wait_ns + 999999) / 1000000);
		if (ms > 100)
			ms = 100;
		int n = epoll_wait(l->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), ms);

		for (int i = 0; i < n; i++)
			receive(l, l->fds[evs[i].data.u32], now_ns());
	}
	report(l, t_stop != 0 ? t_stop : now_ns());
	return l->st.completed > 0 ? 0 : 1;
}

static unsigned
num(const char *name, const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		die("%s: %s is not a number in %u..%u", name, s, lo, hi);
	return (unsigned)v;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ike_load [options]\n"
	    "  --local ADDR       our address (default 192.0.2.1)\n"
	    "  --port N           our (first) UDP port (default 5500)\n"
	    "  --ports P          P sockets, ports N..N+P-1, new IKE SAs on each in turn "
	    "(default 1):\n"
	    "                     charon deletes the IKE SA a new one replaced at once only "
	    "when\n"
	    "                     the peer's port differs (else 10 s later, suspecting a "
	    "reauthentication)\n"
	    "  --peer ADDR        the responder (default 192.0.2.2)\n"
	    "  --peer-port N      its IKE port (default 500; NAT-T moves to 4500)\n"
	    "  --window W         IKE SAs in flight at once (default 64, 1..%d)\n"
	    "  --count N          stop after N established (default 5000, 1..1000000)\n"
	    "  --seconds T        or after T seconds (default 10, 1..600)\n"
	    "  --rtx-ms MS        first retransmission timeout, doubled per try up to 8x "
	    "(default 1000)\n"
	    "  --tries N          sends of a request before giving up (default 4)\n"
	    "  --keep K           completed IKE SAs kept to answer the responder (default "
	    "6000:\n"
	    "                     charon deletes a replaced one 10 s later; with "
	    "--guarded-keys\n"
	    "                     at most vm.max_map_count / 10: guard pages take mappings)\n"
	    "  --linger-ms MS     after the stop, only answer requests that long (default "
	    "1500)\n"
	    "  --max-failures N   stop after N failed IKE SAs (default 1000)\n"
	    "  --psk TEXT         the pre-shared key (default bench/ike's)\n"
	    "  --guarded-keys     keys in libsodium's guarded memory, as the engine has them\n"
	    "                     (default: malloc'd, wiped on free: much cheaper here)\n"
	    "  -v, --verbose      progress every second on stderr\n", WINDOW_MAX);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "ports", required_argument, NULL, 'o' },
		{ "peer", required_argument, NULL, 'r' },
		{ "peer-port", required_argument, NULL, 'P' },
		{ "window", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "rtx-ms", required_argument, NULL, 'x' },
		{ "tries", required_argument, NULL, 'y' },
		{ "keep", required_argument, NULL, 'k' },
		{ "linger-ms", required_argument, NULL, 'g' },
		{ "max-failures", required_argument, NULL, 'f' },
		{ "psk", required_argument, NULL, 's' },
		{ "guarded-keys", no_argument, NULL, 'G' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct load l;
	int c;

	l.o = (struct opts){ .port = 5500, .peer_port = 500, .window = 64, .count = 5000,
		.seconds = 10, .rtx_ms = 1000, .tries = 4, .keep = 6000, .linger_ms = 1500,
		.max_failures = 1000, .ports = 1, .psk = default_psk };
	inet_pton(AF_INET, "192.0.2.1", &l.o.local);
	inet_pton(AF_INET, "192.0.2.2", &l.o.peer);
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (inet_pton(AF_INET, optarg, &l.o.local) != 1)
				die("--local: %s is no IPv4 address", optarg);
			break;
		case 'r':
			if (inet_pton(AF_INET, optarg, &l.o.peer) != 1)
				die("--peer: %s is no IPv4 address", optarg);
			break;
		case 'p': l.o.port = (uint16_t)num("--port", optarg, 1, 65535); break;
		case 'o': l.o.ports = num("--ports", optarg, 1, PORTS_MAX); break;
		case 'P': l.o.peer_port = (uint16_t)num("--peer-port", optarg, 1, 65535); break;
		case 'w': l.o.window = num("--window", optarg, 1, WINDOW_MAX); break;
		case 'n': l.o.count = num("--count", optarg, 1, 1000000); break;
		case 't': l.o.seconds = num("--seconds", optarg, 1, 600); break;
		case 'x': l.o.rtx_ms = num("--rtx-ms", optarg, 10, 10000); break;
		case 'y': l.o.tries = num("--tries", optarg, 1, 10); break;
		case 'k': l.o.keep = num("--keep", optarg, 1, KEEP_MAX); break;
		case 'g': l.o.linger_ms = num("--linger-ms", optarg, 0, 30000); break;
		case 'f': l.o.max_failures = num("--max-failures", optarg, 1, 1000000); break;
		case 's':
			if (optarg[0] == '\0')
				die("--psk: empty");
			l.o.psk = optarg;
			break;
		case 'v': l.o.verbose = true; break;
		case 'G': guarded_keys = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	keymem_init();
	if (sodium_init() < 0)
		die("libsodium does not initialise");
	make_cfg(&l);
	check_keep(&l);
	alloc_state(&l);
	open_sockets(&l);
	return run(&l);
}
