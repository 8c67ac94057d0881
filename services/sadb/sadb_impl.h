/* picsec-sadb, private: the SAs every PIC must hold, built from the committed
 * configuration, streamed per PIC, confirmed by the PICs' status reports. */
#ifndef PICSEC_SADB_IMPL_H
#define PICSEC_SADB_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "config.pb-c.h"
#include "sa.pb-c.h"
#include "sadb.h"

struct bus;
struct bus_msg;
struct health_downs;
struct secbuf;
struct timers;
struct u64map;

enum {
	SADB_NAME_MAX = 64,
	SADB_PIC_SILENT_MS = 3000,    /* a PIC this quiet holds nothing installed */
	SADB_SEQ_MARGIN = 1u << 22,   /* sent since the last report, at most (4 s at 1 Mpps) */
	SADB_FLUSH_IDS = 4096,	      /* Child SA changes an update carries, at most */
	/* A PIC's snapshot is one bus message (16 MiB at most): its SAs may take this much of
	 * it, the rest is for the service sets and the envelope. About 105,000 SAs of 150
	 * bytes (bench/scale). */
	SADB_SNAPSHOT_SAS_MAX = 16 * 1024 * 1024 - 4096 - 512 * 1024,
};

/* One SA as sadb keeps it. msg is the wire form; its pointers lead into this struct. */
struct sadb_sa {
	struct sadb_sa *next;
	struct sadb_sa *prev;	  /* in its PIC's list (sadb_pic.c), to leave it at once */
	struct sadb_pic *pic;	  /* the PIC that holds it (PICs live as long as sadb) */
	uint64_t id;
	uint64_t key_fingerprint; /* BLAKE2b of the keys: the journal's "same key" */
	uint32_t snapshot_len;	  /* its part of its PIC's snapshot, as it joined (bytes) */
	char service_set[SADB_NAME_MAX], rule[SADB_NAME_MAX], term[SADB_NAME_MAX];
	struct secbuf *enc_key, *auth_key;
	uint8_t local[16], remote[16], src[16], dst[16];
	Picsec__V1__Sa msg;
	Picsec__V1__Secret enc_secret, auth_secret;
	Picsec__V1__IpAddress local_msg, remote_msg;
	Picsec__V1__IpPrefix src_msg, dst_msg;
	bool installed;
	bool withheld;		  /* kept here, not on the PIC: its gw-interface is down */
	uint64_t created_ns;
	uint64_t life_timer;	  /* the next lifetime's timer handle, 0: none */
	bool life_soft;		  /* that timer is for the soft lifetime (else the hard) */
	uint64_t bytes;			 /* from the PIC's reports, for kilobyte lifetimes */
	bool soft_expired;
};

struct sadb_prefix {
	uint8_t addr[16];
	Picsec__V1__IpPrefix msg;
};

/* A dynamic term, in wire form with its storage: the PIC acquires for it. */
struct sadb_dynterm {
	char rule[SADB_NAME_MAX], term[SADB_NAME_MAX];
	uint8_t src[16], dst[16];
	Picsec__V1__IpPrefix src_msg, dst_msg;
	Picsec__V1__DynamicTerm msg;
};

/* A service set anchored on a PIC, in wire form with its storage. */
struct sadb_set {
	struct sadb_set *next;
	char name[SADB_NAME_MAX], inside[SADB_NAME_MAX];
	char **applied;
	size_t napplied;
	uint8_t local[16];
	Picsec__V1__IpAddress local_msg;
	struct sadb_prefix *prefixes;	/* remote prefixes (next-hop routes) */
	Picsec__V1__IpPrefix **prefix_ptrs;
	size_t nprefixes;
	struct sadb_dynterm *dynterms;	/* in term order */
	Picsec__V1__DynamicTerm **dynterm_ptrs;
	size_t ndynterms;
	bool gw_interface;		/* local-gateway ... gw-interface */
	bool withheld;			/* its gateway or PIC is down: SAs Not Installed */
	Picsec__V1__PicServiceSet msg;
};

/* A PIC: its stream and what it reported last. */
struct sadb_pic {
	struct sadb_pic *next;
	char name[SADB_NAME_MAX];
	char topic[SADB_NAME_MAX + 8];
	uint64_t seq;
	struct sadb_sa *sas;
	struct sadb_sa *templates;  /* dynamic terms, per direction, without keys (not streamed) */
	struct sadb_set *sets;
	uint64_t last_status_ms;
	uint64_t applied_incarnation, applied_seq;
	size_t snapshot_len;	    /* what its SAs take of its snapshot (sadb_sa_snapshot_len) */
	uint64_t *dirty;	    /* ids a Child SA changed since the last update (sadb_pic.c) */
	size_t ndirty, dirty_cap;
};

struct sadb {
	struct ev_loop *loop;
	ev_prepare flush_watch;	   /* the PICs' waiting Child SA changes, once a loop turn */
	struct bus *bus;
	struct timers *timers;
	char statedir[512];
	uint64_t incarnation;	   /* of the streams: new at every start */
	uint64_t config_generation;
	bool have_config;
	struct sadb_pic *pics;
	struct u64map *sas_by_id;  /* id -> struct sadb_sa, over all PICs */
	struct u64map *spis;	   /* allocated SPIs not installed yet (sadb_spi.c) */
	struct u64map *spis_held;  /* the inbound SAs' SPIs (sadb_spi.c) */
	struct u64map *marks;	   /* journal: (id, key) -> struct sadb_mark */
	struct u64map *marks_by_id; /* journal: id -> its marks */
	bool marks_dirty;
	uint64_t status_timer;
	bool clear_ipsec_on_pic;   /* clear-ipsec-sas-on-pic-restart */
	struct health_downs *downs;	/* what healthd said is down (sadb_health.c) */
};

/* sadb_build.c: the PICs, service sets and SAs a snapshot asks for, as new structures in
 * *out (NULL: nothing anywhere). -1 with the reason in err. */
int sadb_build(struct sadb *sd, const Picsec__V1__ConfigSnapshot *snap, struct sadb_pic **out,
    char *err, size_t errlen);
void sadb_sa_free(struct sadb_sa *sa);
void sadb_set_free(struct sadb_set *set);
void sadb_pic_free(struct sadb_pic *pic);
/* Whether two SAs say the same to a PIC (keys included). */
bool sadb_sa_same(const struct sadb_sa *a, const struct sadb_sa *b);
/* Points sa->msg's pointers at sa's own storage (after a copy). */
void sadb_sa_point(struct sadb_sa *sa);
void sadb_addr(const Picsec__V1__IpAddress *a, uint8_t *storage, Picsec__V1__IpAddress *msg);
Picsec__V1__IpPrefix *sadb_prefix(const Picsec__V1__IpPrefix *p, uint8_t *storage,
    Picsec__V1__IpPrefix *msg);
/* A 64-bit BLAKE2b of NUL-separated words (an id), with keys: a key fingerprint. */
uint64_t sadb_hash(const char *const *words, size_t n, const struct secbuf *enc,
    const struct secbuf *auth);
struct secbuf *sadb_secret(const Picsec__V1__Secret *s);

/* sadb_dynamic.c: negotiated SAs (iked installs and removes them; commits keep them while
 * their term stays, completed from the term's new template). */
/* Moves the dynamic SAs of the current PICs whose term want still has into want; the ids
 * of the others go into *gone (free it), their count in *ngone. */
void sadb_dynamic_carry(struct sadb *sd, struct sadb_pic *want, uint64_t **gone,
    size_t *ngone);
/* Installs the SAs of one Child SA: ids[i] for sas[i]; -1 with the reason in err, -2 when
 * their PIC is full. */
int sadb_dynamic_install(struct sadb *sd, Picsec__V1__Sa *const *sas, size_t n, uint64_t *ids,
    char *err, size_t errlen);
/* Removes dynamic SAs by id; the ids removed go into removed (room for n), their count. */
size_t sadb_dynamic_remove(struct sadb *sd, const uint64_t *ids, size_t n, uint64_t *removed);
/* Tells iked that dynamic SAs went on sadb's own account (clear, commit). */
void sadb_dynamic_removed(struct sadb *sd, const uint64_t *ids, size_t n, const char *reason);

/* sadb.c */
/* Follows a committed configuration: builds, diffs, publishes. */
void sadb_config(struct sadb *sd, const Picsec__V1__ConfigSnapshot *snap);

/* sadb_pic.c: the streams. */
/* Makes want the PICs' new content: publishes what changed per PIC, frees want's spares. */
void sadb_apply(struct sadb *sd, struct sadb_pic *want);
struct sadb_pic *sadb_pic_find(struct sadb *sd, const char *name);
void sadb_reply_snapshot(struct sadb *sd, struct bus_msg *m, const char *pic);
void sadb_pic_status(struct sadb *sd, const Picsec__V1__PicStatus *st);
/* Marks SAs of PICs that went silent as not installed. */
void sadb_pics_check(struct sadb *sd);
/* Takes one SA out of its PIC and tells the PIC. */
void sadb_pic_remove(struct sadb *sd, struct sadb_sa *sa);
/* Takes every SA (of one service set, or all) out and tells the PICs; the count. */
unsigned sadb_clear(struct sadb *sd, const char *service_set);
/* Adds SAs to (or replaces same-id SAs of) pic and tells it (with the loop turn's other
 * Child SA changes: sadb_flush). */
void sadb_pic_add(struct sadb *sd, struct sadb_pic *pic, struct sadb_sa **sas, size_t n);
/* What sa takes of a snapshot: its packed size, with its field's tag and length (3 bytes)
 * and room for a seq_start the snapshot sets (6 bytes: below 2^35; the snapshot itself
 * checks the exact size). */
size_t sadb_sa_snapshot_len(const struct sadb_sa *sa);
/* Takes SAs out of their PICs quietly; the caller publishes. */
void sadb_pic_unlink(struct sadb *sd, struct sadb_sa *sa);
/* Publishes SAs of pic (in or changed): with the loop turn's Child SA changes (batch), or
 * at once, after them. */
void sadb_pic_publish_upserts(struct sadb *sd, struct sadb_pic *pic, Picsec__V1__Sa **sas,
    size_t n, bool batch);
/* Publishes the removal of ids from pic, the same way. */
void sadb_pic_publish_removes(struct sadb *sd, struct sadb_pic *pic, uint64_t *ids, size_t n,
    bool batch);
/* The Child SA changes (installs, removals, expiries) wait for the end of the
 * loop turn and go out as one update per PIC, of each changed id as it is then: 100,000
 * SAs installed a Child SA at a time are a few hundred updates, not 50,000. Sent at once
 * before any other update or snapshot of that PIC; a flush sends them now. */
void sadb_flush(struct sadb *sd);
void sadb_pic_flush(struct sadb *sd, struct sadb_pic *pic);

/* sadb_lifetime.c: soft and hard lifetimes, in seconds (timers) and kilobytes (reports). */
void sadb_lifetimes_arm(struct sadb *sd);
/* The timers of one SA (those not running yet). */
void sadb_lifetime_arm(struct sadb *sd, struct sadb_sa *sa);
void sadb_lifetime_bytes(struct sadb *sd, struct sadb_sa *sa, uint64_t bytes);

/* sadb_journal.c: the highest sequence number each outbound SA reached, on disk (no keys),
 * so that no number is sent twice under one key across restarts. */
int sadb_journal_load(struct sadb *sd, char *err, size_t errlen);
/* The first sequence number a (re)pushed outbound SA may use. */
uint64_t sadb_journal_start(struct sadb *sd, uint64_t id, uint64_t fingerprint);
void sadb_journal_note(struct sadb *sd, uint64_t id, uint64_t fingerprint, uint64_t seq);
/* A negotiated SA that is gone for good (its keys never come back): its marks go. */
void sadb_journal_forget(struct sadb *sd, uint64_t id);
/* Writes the journal if it changed (temp file, fsync, rename). */
void sadb_journal_flush(struct sadb *sd);
void sadb_journal_free(struct sadb *sd);

/* sadb_spi.c */
/* Whether an inbound SA to dst other than except_id holds the SPI for that protocol (the
 * PIC keeps one SA per SPI and gateway). */
bool sadb_spi_held(const struct sadb *sd, uint32_t protocol, uint32_t spi, const uint8_t *dst,
    size_t dstlen, uint64_t except_id);
/* A random SPI (256 and up) unused for this protocol and destination; 0 if none found. */
uint32_t sadb_spi_alloc(struct sadb *sd, uint32_t protocol, const uint8_t *dst, size_t dstlen);
/* An SA joins or leaves a PIC's list: the SPIs an inbound one holds are counted. */
void sadb_spi_hold(struct sadb *sd, const struct sadb_sa *sa);
void sadb_spi_release(struct sadb *sd, const struct sadb_sa *sa);
/* An allocated SPI is in an SA now: the SA holds it from here on. */
void sadb_spi_installed(struct sadb *sd, const struct sadb_sa *sa);
void sadb_spi_free(struct sadb *sd);

/* sadb_health.c: "Clearing Security Associations" (clear-ipsec-sas-on-pic-restart,
 * gw-interface), on healthd's events. */
/* Whether the set's SAs are to be kept off the PIC now. */
bool sadb_set_should_withhold(struct sadb *sd, const char *pic, const struct sadb_set *set);
struct sadb_set *sadb_set_find(struct sadb_pic *pic, const char *name);
void sadb_health_subscribe(struct sadb *sd);
void sadb_health_sync(struct sadb *sd);
void sadb_health_free(struct sadb *sd);
void sadb_service_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx);
void sadb_iface_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx);

/* sadb_handlers.c */
void sadb_handlers_install(struct sadb *sd);

#endif
