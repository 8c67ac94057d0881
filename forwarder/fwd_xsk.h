/* One AF_XDP socket on queue 0 of a device, with its own UMEM: half the frames wait in the
 * fill ring for packets, half are free for transmission. Batches in and out; no
 * allocation after creation. */
#ifndef PICSEC_FWD_XSK_H
#define PICSEC_FWD_XSK_H

#include <stddef.h>
#include <stdint.h>

enum {
	FWD_XSK_FRAME = 4096, /* one chunk per frame (aligned mode) */
	FWD_XSK_BATCH = 64,
};

struct fwd_xsk;

/* A received frame: the packet at data (Ethernet first), and room around it. */
struct fwd_rx {
	uint64_t addr;	/* give it back with fwd_xsk_rx_release */
	uint8_t *data;
	uint32_t len;
	uint32_t headroom, tailroom;
};

struct fwd_xsk_counters {
	uint64_t rx, tx, tx_no_frame, tx_ring_full, kick_errors;
};

/* Binds to ifname queue 0 in copy mode and enters the socket in the XSKMAP xskmap_fd.
 * NULL with the reason in err. */
struct fwd_xsk *fwd_xsk_new(const char *ifname, int xskmap_fd, unsigned frames, char *err,
    size_t errlen);
void fwd_xsk_free(struct fwd_xsk *x);
int fwd_xsk_fd(const struct fwd_xsk *x);

/* Up to max received frames (max <= FWD_XSK_BATCH); release each when done. */
unsigned fwd_xsk_rx(struct fwd_xsk *x, struct fwd_rx *out, unsigned max);
/* Gives n frames back to the fill ring; call once per batch. */
void fwd_xsk_rx_release(struct fwd_xsk *x, const struct fwd_rx *frames, unsigned n);

/* A free frame to build a packet in: its bytes, cap FWD_XSK_FRAME; NULL when none is free
 * (transmission is slower than reception: the packet is dropped). */
uint8_t *fwd_xsk_tx_frame(struct fwd_xsk *x, uint64_t *addr);
/* Queues len bytes at addr + off of a frame from fwd_xsk_tx_frame. */
void fwd_xsk_tx_queue(struct fwd_xsk *x, uint64_t addr, uint32_t off, uint32_t len);
/* Drops a frame taken but not queued. */
void fwd_xsk_tx_abandon(struct fwd_xsk *x, uint64_t addr);
/* Hands what was queued to the kernel and reclaims finished frames. */
void fwd_xsk_tx_flush(struct fwd_xsk *x);

void fwd_xsk_counters(const struct fwd_xsk *x, struct fwd_xsk_counters *out);

#endif
