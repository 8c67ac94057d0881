/* picsec-iked, private: the tunnels the committed configuration asks for, the IKE SAs
 * negotiating or carrying them, the UDP sockets, and what goes to and comes from sadb. */
#ifndef PICSEC_IKED_IMPL_H
#define PICSEC_IKED_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "config.pb-c.h"
#include "ike.pb-c.h"
#include "ike_sa.h"
#include "iked.h"

struct bus;
struct bus_msg;
struct health_downs;
struct secbuf;
struct timers;
struct u64map;

enum {
	IKED_NAME_MAX = 64,
	IKED_PORT = 500,
	IKED_NATT_PORT = 4500,
	IKED_RTX_TRIES = 6,	     /* the first send and five retransmissions */
	IKED_SPI_POOL = 64,	     /* inbound SPIs kept at hand per local gateway (sadb's
				      * largest batch): a burst of IKE_SA_INITs finds one */
	IKED_HALF_OPEN_MAX = 1024,   /* beyond it, new IKE_SA_INITs are dropped */
	IKED_COOKIE_THRESHOLD = 64,  /* half-open SAs from which cookies are asked */
	IKED_KEEPALIVE_SECONDS = 20, /* behind a NAT: RFC 3948 §4's keepalive */
	IKED_REKEY_RETRY_MS = 3000,  /* a refused rekey is asked again after this */
};

/* Whether the tunnel's service set was searched for an earlier iked's Child SAs. */
enum iked_census {
	IKED_CENSUS_WANTED,	/* new to this iked: not yet */
	IKED_CENSUS_ASKING,
	IKED_CENSUS_DONE,
};

/* One dynamic term of one service set: a peer to keep a tunnel with. */
struct iked_tunnel {
	struct iked_tunnel *next;
	uint64_t id;		/* hash of service set, rule, term: what timers hold */
	uint64_t fingerprint;	/* of everything negotiated from: a change renegotiates */
	char service_set[IKED_NAME_MAX], rule[IKED_NAME_MAX], term[IKED_NAME_MAX];
	uint8_t local[4], remote[4];
	struct ike_peer_cfg cfg;
	struct secbuf *psk;
	uint8_t child_protocol;	/* IKE_PROTO_ESP or IKE_PROTO_AH: which SPIs to take */
	uint32_t ike_lifetime, child_lifetime; /* seconds */
	Picsec__V1__EstablishTunnels establish;
	bool dpd;
	uint32_t dpd_interval, dpd_threshold;
	char pic[IKED_NAME_MAX];	/* the services PIC its service set is anchored on */
	bool gw_interface;	/* local-gateway ... gw-interface: cleaned up when it goes */
	bool next_hop;		/* next-hop style service set (else interface style) */
	bool clear_ike_on_pic, clear_ipsec_on_pic; /* clear-*-sas-on-pic-restart */
	bool held;		/* no IKE triggers: its PIC or local gateway is down */
	uint64_t sa_key;	/* the IKE SA carrying it (our SPI), 0: none */
	uint64_t start_timer;	/* the next attempt (initiator) */
	unsigned failures;	/* in a row: the back-off */
	bool marked;		/* scratch for the configuration diff */
	/* An earlier iked's Child SAs of this term in sadb (iked_census.c): they go when one
	 * of ours is in. */
	enum iked_census census;
	uint64_t census_ask;	/* the census asked for it */
	uint64_t *orphans;	/* their sadb ids */
	size_t n_orphans;
};

/* A Child SA of an IKE SA, as sadb holds it. */
struct iked_child {
	bool used;
	struct ike_child info;	/* a copy without keys, for show */
	uint64_t ids[2];	/* sadb's ids of its inbound and outbound SAs, 0: none yet */
	uint64_t install_id;	/* the SA_INSTALL in flight (its cookie), 0: none */
	uint64_t created_ms;
	bool rekey_wanted;	/* its soft lifetime came: rekey when the window is free */
	uint64_t rekey_sent_ms;	/* when we last asked (a refusal is retried after a while) */
};

enum { IKED_MAX_CHILDREN = 4 };

/* One IKE SA as the daemon keeps it around the engine's. */
struct iked_sa {
	uint64_t key;		/* our SPI: the map key, what timers hold */
	struct ike_sa *ike;
	struct iked_tunnel *tunnel;
	bool initiator;
	uint8_t peer[4];
	uint16_t peer_port, local_port;
	uint8_t *pending;	/* our outstanding request, for retransmission */
	size_t pending_len;
	unsigned tries;
	uint64_t rtx_timer, dpd_timer, lifetime_timer, keepalive_timer, work_timer;
	uint64_t created_ms, established_ms, last_heard_ms;
	uint64_t halfopen_key;	/* responder before IKE_AUTH: its entry in halfopen */
	struct iked_child children[IKED_MAX_CHILDREN];
	bool ike_rekey_wanted;	/* its lifetime came: rekey when the window is free */
	uint64_t ike_rekey_sent_ms;
	uint64_t in_bytes, out_bytes, in_packets, out_packets;
	uint32_t children_created, children_deleted, child_rekeys;
};

struct iked_sock {
	struct iked_sock *next;
	struct iked *ik;
	uint8_t addr[4];
	uint16_t port;
	int fd;
	ev_io w;
};

/* Inbound SPIs from sadb, per local gateway and protocol. */
struct iked_pool {
	struct iked_pool *next;
	uint8_t addr[4];
	uint8_t protocol;
	uint32_t spis[IKED_SPI_POOL * 2];
	size_t n;
	bool asking;
};

struct iked {
	struct ev_loop *loop;
	struct bus *bus;
	struct timers *timers;
	struct iked_options opts;
	uint64_t config_generation;
	bool have_config;
	struct iked_tunnel *tunnels;
	struct u64map *sas;	  /* our SPI -> struct iked_sa */
	struct u64map *halfopen;  /* hash(peer, SPIi) -> struct iked_sa (responder, not yet
				   * authenticated): a retransmitted IKE_SA_INIT finds it */
	struct iked_sock *socks;
	struct iked_pool *pools;
	uint64_t next_install_id;
	uint8_t cookie_secret[32];
	Picsec__V1__IkeStats stats;
	struct health_downs *downs;	/* what healthd said is down (iked_health.c) */
	uint64_t sadb_incarnation;	/* sadb's, as healthd last said it (iked_health.c) */
	uint64_t census_seq;		/* the last census asked (iked_census.c) */
};

/* iked_tunnel.c: the tunnels of a configuration. */
/* The tunnels snap asks for, as a new list (NULL: none); bad terms are logged and left
 * out. */
struct iked_tunnel *iked_tunnels_build(const Picsec__V1__ConfigSnapshot *snap);
void iked_tunnel_free(struct iked_tunnel *t);
struct iked_tunnel *iked_tunnel_by_peer(struct iked *ik, const uint8_t local[4],
    const uint8_t remote[4]);
struct iked_tunnel *iked_tunnel_by_id(struct iked *ik, uint64_t id);
/* A term's id: what iked_tunnel_by_id finds it by. */
uint64_t iked_tunnel_id(const char *service_set, const char *rule, const char *term);
size_t iked_tunnel_count(const struct iked *ik);
struct iked_tunnel *iked_tunnel_by_term_list(struct iked_tunnel *list,
    const char *service_set, const char *rule, const char *term);

/* iked_health.c: the cleanup rules (clear-*-sas-on-pic-restart, gw-interface). */
void iked_health_subscribe(struct iked *ik);
/* After every (re)registration and commit: the addresses' and PICs' state from healthd. */
void iked_health_sync(struct iked *ik);
/* Recomputes every tunnel's hold (after a commit). */
void iked_health_apply(struct iked *ik);
void iked_health_free(struct iked *ik);
void iked_service_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx);
void iked_iface_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx);
/* An IKE SA went with its last Child SA: renegotiated unless held or only responding. */
void iked_tunnel_restart(struct iked *ik, struct iked_tunnel *t);

/* iked.c */
/* Closes the tunnel's IKE SAs (a Delete to the peer each); how many. */
size_t iked_tunnel_close(struct iked *ik, struct iked_tunnel *t, const char *why);
void iked_config(struct iked *ik, const Picsec__V1__ConfigSnapshot *snap);
/* Starts negotiating the tunnel (initiator), now or when an SPI is at hand. */
void iked_start_timer(void *ctx, uint64_t tunnel_id);
void iked_initiate(struct iked *ik, struct iked_tunnel *t);

/* iked_net.c: the sockets. */
int iked_socks_sync(struct iked *ik);
void iked_socks_free(struct iked *ik);
int iked_send(struct iked *ik, const uint8_t local[4], uint16_t local_port,
    const uint8_t peer[4], uint16_t peer_port, const uint8_t *msg, size_t len);

/* iked_sa.c: the daemon's side of an IKE SA. */
struct iked_sa *iked_sa_initiate(struct iked *ik, struct iked_tunnel *t, uint32_t spi_in);
/* A datagram that is no IKE_SA_INIT of a new peer, or one that is. */
void iked_sa_input(struct iked *ik, struct iked_sock *s, const uint8_t peer[4],
    uint16_t peer_port, const uint8_t *msg, size_t len);
/* Deletes it at the peer (when it is up) and forgets it; why for the log. */
void iked_sa_close(struct iked *ik, struct iked_sa *sa, const char *why);
/* Forgets it now, without a word to the peer. */
void iked_sa_free(struct iked *ik, struct iked_sa *sa);
/* The daemon's SA made around a new engine SA (not yet in the maps). */
struct iked_sa *iked_sa_alloc(struct iked *ik, struct iked_tunnel *t, bool initiator,
    uint32_t spi_in, const uint8_t peer[4], uint16_t peer_port, uint16_t local_port);
/* After the engine took a message or made a request: what changed. May free sa. */
void iked_sa_after(struct iked *ik, struct iked_sa *sa, enum ike_sa_state before);
const char *iked_ip4(const uint8_t a[4], char *buf);
/* It failed or went: logged, forgotten, and an initiator's tunnel tried again later. */
void iked_sa_dead(struct iked *ik, struct iked_sa *sa);

/* iked_child.c: the engine's events, and the IKE SA a rekey made taking over. */
void iked_sa_events_up(void *ctx, struct ike_sa *ike, const struct ike_child *c);
void iked_sa_events_down(void *ctx, struct ike_sa *ike, const struct ike_child *c,
    const char *why);
uint32_t iked_sa_events_spi(void *ctx, struct ike_sa *ike, uint8_t protocol);
void iked_sa_adopt(struct iked *ik, struct iked_sa *sa, struct ike_sa *ike);

/* Whether the SA's traffic goes in UDP (NAT found, or the peer moved to port 4500). */
bool iked_sa_natt(const struct iked *ik, const struct iked_sa *sa);
/* What is left to do when the window is free (rekeys): soon. */
void iked_sa_work_soon(struct iked *ik, struct iked_sa *sa);
/* The child holding that sadb id, or NULL. */
struct iked_child *iked_sa_child_by_id(struct iked_sa *sa, uint64_t id);
struct iked_child *iked_sa_child_by_spi(struct iked_sa *sa, uint32_t spi_in);
/* Sends out and, when it is a request of ours, keeps it for retransmission. */
void iked_sa_send(struct iked *ik, struct iked_sa *sa, const uint8_t *out, size_t len);

/* iked_sadb.c: SPIs, installing and removing Child SAs. */
/* An inbound SPI for this local gateway and protocol, 0 when none is at hand (then more
 * are asked for). */
uint32_t iked_spi_take(struct iked *ik, const uint8_t local[4], uint8_t protocol);
void iked_spi_prefill(struct iked *ik, const uint8_t local[4], uint8_t protocol);
void iked_pools_free(struct iked *ik);
void iked_sadb_install(struct iked *ik, struct iked_sa *sa, struct iked_child *ch,
    const struct ike_child *c);
void iked_sadb_remove(struct iked *ik, struct iked_child *ch, const char *why);
/* sadb removed these on its own (clear, expiry, commit): delete them at the peer. */
void iked_sadb_gone(struct iked *ik, const uint64_t *ids, size_t n, const char *why);
/* iked_census.c: an earlier iked's Child SAs. */
/* Asks sadb for the SAs of every service set with tunnels new to this iked. */
void iked_census_ask(struct iked *ik);
/* A new sadb holds no earlier iked's SAs: nothing to look for or remove. */
void iked_census_forget(struct iked *ik);
/* A Child SA of ours for t is in (installed's, NULL: some): an earlier iked's of its term
 * go. */
void iked_orphans_sweep(struct iked *ik, struct iked_tunnel *t, struct iked_sa *installed);
/* An SA of a Child SA reached its soft lifetime (rekey it) or its hard one (sadb removed
 * it: delete it at the peer). */
void iked_sadb_expired(struct iked *ik, uint64_t id, bool hard);

/* iked_cookie.c: stateless cookies under load (§2.6). */
struct ike_msg;
void iked_cookie_init(struct iked *ik);
bool iked_cookie_needed(const struct iked *ik);
bool iked_cookie_valid(const struct iked *ik, const struct ike_msg *m, const uint8_t peer[4]);
void iked_cookie_send(struct iked *ik, const struct iked_sock *s, const uint8_t peer[4],
    uint16_t port, const struct ike_msg *m);

/* iked_keylog.c: the opt-in key log in Wireshark's format. */
int iked_keylog_check(const char *dir, char *err, size_t errlen);
void iked_keylog_ike(const struct iked *ik, const struct iked_sa *sa);
void iked_keylog_child(const struct iked *ik, const struct iked_sa *sa,
    const struct ike_child *c);

/* iked_show.c: the show and clear commands' answers. */
void iked_handlers_install(struct iked *ik);

#endif
