/* IKE's UDP sockets: one per local gateway address of a dynamic tunnel, bound to that
 * address (IP_FREEBIND: the address may come later, as gw-interface allows), so that what
 * arrives is known to be for that gateway and what leaves goes from it. */
#include "iked_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"

enum { IKED_RX_BATCH = 64, IKED_MAX_DATAGRAM = 65535 };

static void
iked_sock_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct iked_sock *s = w->data;
	static uint8_t buf[IKED_MAX_DATAGRAM];
	struct sockaddr_in from;
	socklen_t fromlen;
	uint8_t peer[4];
	ssize_t n;
	int i;

	(void)loop;
	(void)revents;
	/* A bounded batch: one busy peer does not starve the loop. */
	for (i = 0; i < IKED_RX_BATCH; i++) {
		fromlen = sizeof(from);
		n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
		    &fromlen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("IKE socket %u", s->port);
			return;
		}
		if (from.sin_family != AF_INET)
			continue;
		s->ik->stats.in_packets++;
		memcpy(peer, &from.sin_addr, 4);
		if (s->port != s->ik->opts.natt_port) {
			iked_sa_input(s->ik, s, peer, ntohs(from.sin_port), buf, (size_t)n);
			continue;
		}
		/* Port 4500 (RFC 3948 §2.2): a one-octet 0xff is a NAT keepalive; IKE comes
		 * after four zero octets (the non-ESP marker); anything else would be ESP,
		 * which the PIC takes before the kernel sees it. */
		if (n == 1 && buf[0] == 0xff)
			continue;
		if (n < 4 || buf[0] != 0 || buf[1] != 0 || buf[2] != 0 || buf[3] != 0) {
			s->ik->stats.dropped_malformed++;
			continue;
		}
		iked_sa_input(s->ik, s, peer, ntohs(from.sin_port), buf + 4, (size_t)n - 4);
	}
}

static struct iked_sock *
iked_sock_open(struct iked *ik, const uint8_t addr[4], uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct iked_sock *s = calloc(1, sizeof(*s));
	char text[INET_ADDRSTRLEN];
	int on = 1;

	if (s == NULL)
		return NULL;
	memcpy(&sin.sin_addr, addr, 4);
	inet_ntop(AF_INET, addr, text, sizeof(text));
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(s->fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof(on)) != 0 ||
	    bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		log_warn("IKE on %s port %u", text, port);
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return NULL;
	}
	s->ik = ik;
	memcpy(s->addr, addr, 4);
	s->port = port;
	ev_io_init(&s->w, iked_sock_read, s->fd, EV_READ);
	s->w.data = s;
	ev_io_start(ik->loop, &s->w);
	log_info("IKE on %s port %u", text, port);
	return s;
}

static void
iked_sock_close(struct iked *ik, struct iked_sock *s)
{
	ev_io_stop(ik->loop, &s->w);
	close(s->fd);
	free(s);
}

static bool
iked_addr_wanted(const struct iked *ik, const uint8_t addr[4])
{
	const struct iked_tunnel *t;

	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (memcmp(t->local, addr, 4) == 0)
			return true;
	}
	return false;
}

static struct iked_sock *
iked_sock_find(const struct iked *ik, const uint8_t addr[4], uint16_t port)
{
	struct iked_sock *s;

	for (s = ik->socks; s != NULL; s = s->next) {
		if (memcmp(s->addr, addr, 4) == 0 && s->port == port)
			return s;
	}
	return NULL;
}

int
iked_socks_sync(struct iked *ik)
{
	struct iked_sock **pp, *s;
	const struct iked_tunnel *t;
	int rc = 0;

	for (pp = &ik->socks; (s = *pp) != NULL;) {
		if (iked_addr_wanted(ik, s->addr)) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		iked_sock_close(ik, s);
	}
	for (t = ik->tunnels; t != NULL; t = t->next) {
		for (int i = 0; i < 2; i++) {
			uint16_t port = (uint16_t)(i == 0 ? ik->opts.port : ik->opts.natt_port);

			if (iked_sock_find(ik, t->local, port) != NULL)
				continue;
			if ((s = iked_sock_open(ik, t->local, port)) == NULL) {
				rc = -1;
				continue;
			}
			s->next = ik->socks;
			ik->socks = s;
		}
	}
	return rc;
}

void
iked_socks_free(struct iked *ik)
{
	struct iked_sock *s, *next;

	for (s = ik->socks; s != NULL; s = next) {
		next = s->next;
		iked_sock_close(ik, s);
	}
	ik->socks = NULL;
}

int
iked_send(struct iked *ik, const uint8_t local[4], uint16_t local_port, const uint8_t peer[4],
    uint16_t peer_port, const uint8_t *msg, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(peer_port) };
	struct iked_sock *s = iked_sock_find(ik, local, local_port);
	static const uint8_t marker[4];
	struct iovec iov[2] = { { (void *)(uintptr_t)marker, sizeof(marker) },
		{ (void *)(uintptr_t)msg, len } };
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to) };

	if (s == NULL)
		return -1;
	memcpy(&to.sin_addr, peer, 4);
	/* On 4500, IKE goes behind the non-ESP marker; a keepalive (one 0xff) does not. */
	mh.msg_iov = local_port == ik->opts.natt_port && !(len == 1 && msg[0] == 0xff) ?
	    iov : iov + 1;
	mh.msg_iovlen = mh.msg_iov == iov ? 2 : 1;
	if (sendmsg(s->fd, &mh, 0) < 0) {
		log_debug("IKE send: %s", strerror(errno));
		return -1;
	}
	ik->stats.out_packets++;
	return 0;
}
