/* AF_XDP sockets through libxdp's xsk API. The PIC loads and attaches its own XDP programs
 * (libxdp's dispatcher cannot load here), so socket creation inhibits libxdp's program
 * load and the socket goes into our XSKMAP by hand. Copy mode: veth has no zero-copy. */
#include "fwd_xsk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

struct fwd_xsk {
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint8_t *area;
	size_t area_len;
	uint64_t *free_frames; /* for transmission */
	unsigned nfree, frames;
	unsigned tx_pending;	/* reserved and written, not yet submitted */
	struct fwd_xsk_counters c;
};

static void
fwd_xsk_reclaim(struct fwd_xsk *x)
{
	uint32_t idx, n, i;

	n = xsk_ring_cons__peek(&x->comp, x->frames, &idx);
	for (i = 0; i < n; i++) {
		uint64_t a = *xsk_ring_cons__comp_addr(&x->comp, idx + i);

		x->free_frames[x->nfree++] = a & ~(uint64_t)(FWD_XSK_FRAME - 1);
	}
	if (n > 0)
		xsk_ring_cons__release(&x->comp, n);
}

struct fwd_xsk *
fwd_xsk_new(const char *ifname, int xskmap_fd, unsigned frames, char *err, size_t errlen)
{
	struct xsk_umem_config uc = {
		.fill_size = frames / 2,
		.comp_size = frames / 2,
		.frame_size = FWD_XSK_FRAME,
		.frame_headroom = 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = frames / 2,
		.tx_size = frames / 2,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	struct fwd_xsk *x = calloc(1, sizeof(*x));
	uint32_t idx, i;
	int rc;

	if (x == NULL || (x->free_frames = calloc(frames, sizeof(uint64_t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	x->frames = frames;
	x->area_len = (size_t)frames * FWD_XSK_FRAME;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_POPULATE, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		snprintf(err, errlen, "%s: UMEM of %zu bytes: %s", ifname, x->area_len,
		    strerror(errno));
		goto fail;
	}
	if ((rc = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &uc)) !=
	    0) {
		snprintf(err, errlen, "%s: UMEM: %s", ifname, strerror(-rc));
		goto fail;
	}
	if ((rc = xsk_socket__create(&x->sock, ifname, 0, x->umem, &x->rx, &x->tx, &sc)) != 0) {
		snprintf(err, errlen, "%s: AF_XDP socket on queue 0: %s", ifname, strerror(-rc));
		goto fail;
	}
	if ((rc = xsk_socket__update_xskmap(x->sock, xskmap_fd)) != 0) {
		snprintf(err, errlen, "%s: entering the socket in the XSKMAP: %s", ifname,
		    strerror(-rc));
		goto fail;
	}
	/* The first half waits for packets, the second half is for transmission. */
	if (xsk_ring_prod__reserve(&x->fill, frames / 2, &idx) != frames / 2) {
		snprintf(err, errlen, "%s: fill ring smaller than asked", ifname);
		goto fail;
	}
	for (i = 0; i < frames / 2; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * FWD_XSK_FRAME;
	xsk_ring_prod__submit(&x->fill, frames / 2);
	for (i = frames / 2; i < frames; i++)
		x->free_frames[x->nfree++] = (uint64_t)i * FWD_XSK_FRAME;
	return x;
fail:
	fwd_xsk_free(x);
	return NULL;
}

void
fwd_xsk_free(struct fwd_xsk *x)
{
	if (x == NULL)
		return;
	if (x->sock != NULL)
		xsk_socket__delete(x->sock);
	if (x->umem != NULL)
		xsk_umem__delete(x->umem);
	if (x->area != NULL)
		munmap(x->area, x->area_len);
	free(x->free_frames);
	free(x);
}

int
fwd_xsk_fd(const struct fwd_xsk *x)
{
	return xsk_socket__fd(x->sock);
}

unsigned
fwd_xsk_rx(struct fwd_xsk *x, struct fwd_rx *out, unsigned max)
{
	uint32_t idx, n, i;

	if (max > FWD_XSK_BATCH)
		max = FWD_XSK_BATCH;
	n = xsk_ring_cons__peek(&x->rx, max, &idx);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint64_t base = d->addr & ~(uint64_t)(FWD_XSK_FRAME - 1);
		uint64_t off = d->addr - base;

		out[i].addr = base;
		out[i].data = x->area + d->addr;
		out[i].len = d->len;
		out[i].headroom = (uint32_t)off;
		out[i].tailroom = (uint32_t)(FWD_XSK_FRAME - off - d->len);
		if (off + d->len > FWD_XSK_FRAME) /* the kernel never does this; stay safe */
			out[i].len = out[i].tailroom = 0;
	}
	if (n > 0)
		xsk_ring_cons__release(&x->rx, n);
	x->c.rx += n;
	return n;
}

void
fwd_xsk_rx_release(struct fwd_xsk *x, const struct fwd_rx *frames, unsigned n)
{
	uint32_t idx, i;

	/* The fill ring holds every RX frame, so there is always room for these. */
	if (n == 0 || xsk_ring_prod__reserve(&x->fill, n, &idx) != n)
		return;
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = frames[i].addr;
	xsk_ring_prod__submit(&x->fill, n);
	if (xsk_ring_prod__needs_wakeup(&x->fill))
		(void)recvfrom(xsk_socket__fd(x->sock), NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

uint8_t *
fwd_xsk_tx_frame(struct fwd_xsk *x, uint64_t *addr)
{
	if (x->nfree == 0)
		fwd_xsk_reclaim(x);
	if (x->nfree == 0) {
		x->c.tx_no_frame++;
		return NULL;
	}
	*addr = x->free_frames[--x->nfree];
	return x->area + *addr;
}

void
fwd_xsk_tx_abandon(struct fwd_xsk *x, uint64_t addr)
{
	x->free_frames[x->nfree++] = addr;
}

void
fwd_xsk_tx_queue(struct fwd_xsk *x, uint64_t addr, uint32_t off, uint32_t len)
{
	struct xdp_desc *d;
	uint32_t idx;

	if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
		x->c.tx_ring_full++;
		fwd_xsk_tx_abandon(x, addr);
		return;
	}
	d = xsk_ring_prod__tx_desc(&x->tx, idx);
	d->addr = addr + off;
	d->len = len;
	x->tx_pending++;
}

void
fwd_xsk_tx_flush(struct fwd_xsk *x)
{
	unsigned kicks;

	if (x->tx_pending > 0) {
		xsk_ring_prod__submit(&x->tx, x->tx_pending);
		x->c.tx += x->tx_pending;
		x->tx_pending = 0;
	}
	/* Copy mode transmits from the kick, at most 32 frames per call (the kernel's
	 * TX_BATCH_SIZE, then EAGAIN): kick until the ring is empty, boundedly. */
	for (kicks = 0; kicks < FWD_XSK_BATCH && xsk_ring_prod__needs_wakeup(&x->tx); kicks++) {
		if (sendto(xsk_socket__fd(x->sock), NULL, 0, MSG_DONTWAIT, NULL, 0) == 0)
			break;
		if (errno == EAGAIN || errno == EBUSY)
			continue;
		if (errno != ENOBUFS && errno != ENETDOWN)
			x->c.kick_errors++;
		break;
	}
	fwd_xsk_reclaim(x);
}

void
fwd_xsk_counters(const struct fwd_xsk *x, struct fwd_xsk_counters *out)
{
	*out = x->c;
}
