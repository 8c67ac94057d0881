/* picsec-fwd, private. */
#ifndef PICSEC_FWD_IMPL_H
#define PICSEC_FWD_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "dp_sa.h"
#include "fwd.h"
#include "sa.pb-c.h"

struct fwd_nl;
struct fwd_tc;
struct fwd_xdp;
struct fwd_xsk;
struct tc_divert_rule;
struct timers;
struct u64map;

enum {
	FWD_NAME_MAX = 64,
	FWD_HEADROOM = 256,	  /* where a packet starts in a frame we build: room to grow */
	FWD_MAX_PEERS = 64,	  /* remote gateways with a cached next hop */
	FWD_NEIGH_REFRESH_MS = 1000,
	FWD_NEIGH_RETRY_MS = 100,   /* a peer the kernel has not resolved yet */
	FWD_ICMP_PER_SECOND = 100, /* "fragmentation needed" messages the PIC sends */
	FWD_ACQUIRE_MS = 1000,	    /* one SaAcquire per dynamic term at most this often */
	FWD_SYNC_MS = 50,	    /* SAs coming and going: the SPDs at most this often */
	FWD_STATUS_MS = 200,	    /* after updates: a PicStatus at most this often */
};

struct fwd_prefix {
	uint32_t addr, mask; /* network order; mask 0: any */
};

/* Counters of a service set that no single SA owns. */
struct fwd_set_counters {
	uint64_t invalid_spi, no_sa;
};

/* One SA the PIC holds. An outbound one with its dp and set is in that set's out (or
 * pending) array: taken away, it waits in the graveyard with dp NULL (the SPD skips it)
 * until the next sync of the SPDs. */
struct fwd_sa {
	uint64_t id;
	struct dp_sa *dp;	/* NULL: could not be prepared (logged), or gone */
	char service_set[FWD_NAME_MAX];
	struct fwd_set *set;	/* the set of that name, NULL when the PIC has none */
	uint32_t order;
	uint64_t arrival;	/* the how-manieth SA this PIC took: a rekey's new SA is newer */
	bool outbound;
	uint64_t lookup_key;	/* inbound: its key in its protocol's map, 0: none */
	uint8_t lookup_proto;	/* 50 or 51 */
	uint8_t key_hash[16];	/* of the keys: the same keys keep the replay window */
	uint8_t digest[16];	/* of the Sa as received, seq_start zeroed: the same SA */
	struct fwd_prefix src, dst;
	uint32_t local, remote;	/* network order */
	uint64_t reported;	/* packets + sequence number at the last PicStatus with its usage */
	struct fwd_sa *next_gone; /* in the graveyard */
};

/* A dynamic term of a service set (establish-tunnels on-traffic): while it has no outbound
 * SA, traffic it matches is dropped and asks iked for one. */
struct fwd_dynterm {
	char rule[FWD_NAME_MAX], term[FWD_NAME_MAX];
	uint32_t order;		/* as its SAs': the term's place in the set */
	struct fwd_prefix src, dst;
	uint64_t acquired_ms;	/* the last SaAcquire (monotonic), 0: none */
};

/* One entry of a set's SPD: an outbound SA, or a dynamic term that has none (acquire). */
struct fwd_spd_entry {
	struct fwd_prefix src, dst;
	struct fwd_sa *sa;	  /* NULL: dyn, which waits for its SA */
	struct fwd_dynterm *dyn;
};

/* A service set anchored on this PIC. */
struct fwd_set {
	struct fwd_set *next;
	struct fwd *fwd;
	char name[FWD_NAME_MAX];
	char inside[16], pic_end[16]; /* the service veth: the kernel's end, ours */
	int inside_ifindex, pic_ifindex;
	uint8_t inside_mac[6], pic_mac[6];
	unsigned mtu;
	Picsec__V1__ServiceStyle style;
	uint32_t local;		     /* the local gateway, network order */
	struct fwd_prefix *routes;   /* next-hop style: routed into the veth */
	size_t nroutes;
	struct fwd_tc **tcs;	     /* interface style: one per applied interface */
	size_t ntcs;
	struct fwd_xdp *xdp;
	struct fwd_xsk *xsk;
	ev_io io;
	struct fwd_sa **out;	     /* outbound SAs in term order */
	size_t nout, out_cap;
	struct fwd_sa **spare;	     /* what the next sync merges into (then out's) */
	size_t spare_cap;
	struct fwd_sa **pending;     /* outbound SAs that came since the last sync */
	size_t npending, pending_cap;
	size_t nburied;		     /* out's SAs gone since the last sync */
	bool dirty;		     /* out has gone SAs, or pending has new ones */
	unsigned mtu_want;	     /* next-hop style: what out allows (0: not known) */
	struct fwd_dynterm *dyn;     /* dynamic terms in term order */
	size_t ndyn;
	struct fwd_spd_entry *spd;   /* out and the dynamic terms without SAs, in term order */
	size_t nspd, spd_cap;
	struct fwd_set_counters c;
	uint8_t *packed;	     /* the PicServiceSet as received, to spot changes */
	size_t packed_len;
	bool ready;
	char error[320];
};

struct fwd_peer {
	uint32_t remote;
	uint8_t mac[6];
	bool resolved;
	uint64_t checked_ms;
};

/* Drops no SA or service set can be charged with. */
struct fwd_pic_counters {
	uint64_t bad_headers, invalid_spi, slow_path, tx_dropped;
};

struct fwd {
	uint64_t sa_arrivals;	/* SAs taken so far (fwd_sa.arrival) */
	struct ev_loop *loop;
	struct bus *bus;
	struct timers *timers;
	struct fwd_nl *nl;
	char pic[FWD_NAME_MAX];
	char sa_topic[FWD_NAME_MAX + 8], status_topic[FWD_NAME_MAX + 8];
	unsigned frames;
	uint64_t incarnation;

	/* the stream from sadb */
	uint64_t stream_incarnation, stream_seq;
	uint64_t seen_seq;	   /* the highest update seen while a snapshot was asked for */
	bool synced;
	uint64_t snapshot_req;	   /* the pending request, 0: none */
	uint64_t resync_timer, status_timer;
	uint64_t status_soon_timer, sync_timer;
	uint64_t status_ms, sync_ms; /* the last PicStatus, the last sync (monotonic) */
	bool status_full;	   /* the next PicStatus carries every SA's usage */
	unsigned status_ticks;	   /* periodic PicStatus reports so far */
	uint64_t *st_ids;	   /* the PicStatus's arrays, kept (fwd.c) */
	size_t st_ids_cap;
	Picsec__V1__SaUsage *st_usage;
	Picsec__V1__SaUsage **st_usage_ptrs;
	size_t st_usage_cap;
	struct fwd_sa *graveyard;  /* outbound SAs gone since the last sync */

	struct fwd_set *sets;
	struct u64map *sas;	   /* id -> struct fwd_sa */
	struct u64map *inbound;	   /* ESP: local gateway << 32 | spi -> struct fwd_sa */
	struct u64map *inbound_ah; /* AH (and bundles, by their AH SPI): the same */

	/* the outside device */
	char outside[16];
	int outside_ifindex;
	uint8_t outside_mac[6];
	unsigned outside_mtu;
	struct fwd_xdp *outside_xdp;
	struct fwd_xsk *outside_xsk;
	ev_io outside_io;
	int raw_fd;		   /* the slow path: the kernel resolves the neighbour */
	struct fwd_peer peers[FWD_MAX_PEERS];
	size_t npeers;
	struct fwd_pic_counters c;
	uint64_t icmp_window_ms;
	unsigned icmp_sent;
	char error[320];
};

/* fwd_stream.c: the SA set from sadb. */
void fwd_stream_start(struct fwd *f);
void fwd_stream_update(struct fwd *f, const Picsec__V1__SaUpdate *up);
void fwd_sa_free(struct fwd *f, struct fwd_sa *sa);

/* fwd.c */
void fwd_publish_status(struct fwd *f);
/* A PicStatus now, or within FWD_STATUS_MS of the last one (a burst of updates gets a
 * few, not one each: every one lists every SA). */
void fwd_status_soon(struct fwd *f);
/* An IPv4 prefix of a message as address and mask (any: 0/0). */
struct fwd_prefix fwd_prefix_of(const Picsec__V1__IpPrefix *p);

/* fwd_sets.c: service veths, XDP, routes, tc, the outside device. */
struct fwd_set *fwd_set_find(struct fwd *f, const char *name);
/* Makes the service sets those of the message; keeps the unchanged ones. */
void fwd_sets_apply(struct fwd *f, Picsec__V1__PicServiceSet *const *sets, size_t n);
/* Every SA's set pointer, after sets came or went. */
void fwd_sas_link(struct fwd *f);
void fwd_sets_free(struct fwd *f);
void fwd_outside_close(struct fwd *f);

/* fwd_refresh.c: the SPDs (and what follows from them: MTUs, tc rules) as SAs come and
 * go. A whole rebuild after a snapshot or new service sets; between them, SAs that come
 * are queued in their set (fwd_set_take) and SAs that go are buried (fwd_sa_bury), and a
 * sync merges both, at most every FWD_SYNC_MS: a PIC taking 100,000 SAs one Child SA at
 * a time does not sort them all for each. */
void fwd_sets_refresh(struct fwd *f);
/* A new outbound SA (with its dp and set) for its set's SPD. */
void fwd_set_take(struct fwd *f, struct fwd_sa *sa);
/* sa (out of the map already) goes: at once, or, while an SPD holds it, at the next sync
 * with its keys gone now. */
void fwd_sa_bury(struct fwd *f, struct fwd_sa *sa);
/* Frees the buried SAs (a sync, a rebuild, the end). */
void fwd_graveyard_free(struct fwd *f);
/* The sync: now when now or when the last one is FWD_SYNC_MS old, else then. */
void fwd_sets_sync(struct fwd *f, bool now);

/* fwd_spd.c: the SPD with the dynamic terms, what tc diverts, acquires. */
/* s's dynamic terms from m, in term order; -1: out of memory. */
int fwd_dynterms_set(struct fwd_set *s, const Picsec__V1__PicServiceSet *m);
/* The last acquire of each term of s that old (a set s replaces) had too. */
void fwd_dynterms_inherit(struct fwd_set *s, const struct fwd_dynterm *old, size_t nold);
/* s->spd from s->out (sorted) and s->dyn. */
void fwd_spd_build(struct fwd_set *s);
/* The tc rules of an interface-style set into rules (room for nout + ndyn); their count. */
size_t fwd_divert_rules(const struct fwd_set *s, struct tc_divert_rule *rules);
/* Traffic src -> dst for d, which has no SA: SaAcquire, unless one went within a second. */
void fwd_acquire(struct fwd *f, struct fwd_set *s, struct fwd_dynterm *d, uint32_t src,
    uint32_t dst);

/* fwd_path.c: packets. */
void fwd_service_rx(struct ev_loop *loop, ev_io *w, int revents);
void fwd_outside_rx(struct ev_loop *loop, ev_io *w, int revents);
uint64_t fwd_inbound_key(uint32_t local, uint32_t spi);
struct u64map *fwd_inbound_map(struct fwd *f, uint8_t protocol);

/* fwd_mtu.c: what does not fit the tunnel. */
size_t fwd_path_limit(const struct fwd *f, const struct fwd_sa *sa);
size_t fwd_inner_mtu(const struct fwd_sa *sa, size_t limit);
void fwd_too_big(struct fwd *f, struct fwd_set *s, const uint8_t *ip, size_t len, size_t mtu);
size_t fwd_fragment(const uint8_t *ip, size_t len, size_t at, size_t chunk, uint8_t *dst);

/* fwd_handlers.c */
void fwd_handlers_install(struct fwd *f);

#endif
