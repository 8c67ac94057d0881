/* One IKE SA and its exchanges (RFC 7296 §1.2): IKE_SA_INIT, then IKE_AUTH with a
 * pre-shared key and the first Child SA, then INFORMATIONAL (Delete, liveness) either
 * way. Transport-free: a message goes in, at most one message comes out, and the caller
 * sends it (over UDP in picsec-iked, by function call in the two-peer tests); what
 * happens to Child SAs is told through events. One transition function (ike_sa.c) decides
 * what an input means in the SA's state; each exchange builds and checks its own messages
 * (ike_x_init.c, ike_x_auth.c, ike_x_info.c). Once established, each side has at most one
 * request of its own outstanding (a window of one, §2.3); the caller retransmits it. */
#ifndef PICSEC_IKE_SA_H
#define PICSEC_IKE_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_msg.h"

enum { IKE_ID_IPV4 = 1, IKE_ID_FQDN = 2, IKE_ID_KEY_ID = 11, IKE_MAX_ID = 256 };

/* Notify types used here (§3.10.1). */
enum {
	IKE_N_INVALID_SYNTAX = 7,
	IKE_N_NO_PROPOSAL_CHOSEN = 14,
	IKE_N_INVALID_KE_PAYLOAD = 17,
	IKE_N_AUTHENTICATION_FAILED = 24,
	IKE_N_NO_ADDITIONAL_SAS = 35,
	IKE_N_TEMPORARY_FAILURE = 43,
	IKE_N_CHILD_SA_NOT_FOUND = 44,
	IKE_N_TS_UNACCEPTABLE = 38,
	IKE_N_INITIAL_CONTACT = 16384,
	IKE_N_COOKIE = 16390,
	IKE_N_REKEY_SA = 16393,
	IKE_N_NAT_DETECTION_SOURCE_IP = 16388,
	IKE_N_NAT_DETECTION_DESTINATION_IP = 16389,
};

/* Where an IKE SA's messages come from and go to: NAT detection hashes them (§2.23). */
struct ike_endpoints {
	uint8_t local[4], remote[4];
	uint16_t local_port, remote_port;
};

/* What one side is configured with (from its Junos ike and ipsec policies). */
struct ike_peer_cfg {
	struct ike_proposal ike[IKE_MAX_PROPOSALS];
	size_t nike;
	struct ike_proposal child[IKE_MAX_PROPOSALS]; /* SPIs are set per SA */
	size_t nchild;
	const uint8_t *psk;
	size_t psk_len;
	uint8_t local_id_type, remote_id_type;	/* remote 0: any identity the PSK proves */
	uint8_t local_id[IKE_MAX_ID], remote_id[IKE_MAX_ID];
	size_t local_id_len, remote_id_len;
	struct ike_ts_set local_ts, remote_ts;	/* the traffic, as this side sees it */
	bool no_natt;				/* disable-natt: no NAT detection */
	bool force_encap;			/* udp-encapsulate: ESP in UDP anyway, by
						 * a NAT detection hash that cannot match */
};

enum ike_sa_state {
	IKE_SA_IDLE,		/* initiator: nothing sent yet; responder: nothing received */
	IKE_SA_INIT_SENT,	/* initiator: waits for the IKE_SA_INIT response */
	IKE_SA_AUTH_SENT,	/* initiator: waits for the IKE_AUTH response */
	IKE_SA_INIT_DONE,	/* responder: answered IKE_SA_INIT, waits for IKE_AUTH */
	IKE_SA_ESTABLISHED,
	IKE_SA_DELETING,	/* we sent the IKE SA's Delete; waits for the answer */
	IKE_SA_DEAD,		/* failed or deleted for good; the reason in ike_sa_error */
};

const char *ike_sa_state_name(enum ike_sa_state s);

/* The first Child SA's keys, per direction as seen by this side. */
struct ike_child {
	uint8_t protocol;		/* IKE_PROTO_ESP or IKE_PROTO_AH */
	uint32_t spi_in, spi_out;	/* what the peer sends to us, what we send with */
	struct ike_proposal chosen;
	size_t encr_len, integ_len;
	uint8_t *keymat;		/* wiped memory: in (encr, integ), then out (encr, integ) */
	const uint8_t *encr_in, *integ_in, *encr_out, *integ_out;
	struct ike_ts_set ts_local, ts_remote;
};

struct ike_sa;

/* What happened to Child SAs, as it happens (inside ike_sa_input and the request calls):
 * up: install it; down: remove it (why: "deleted by the peer", "IKE SA deleted", ...). */
struct ike_sa_events {
	void (*child_up)(void *ctx, struct ike_sa *sa, const struct ike_child *c);
	void (*child_down)(void *ctx, struct ike_sa *sa, const struct ike_child *c,
	    const char *why);
	/* A new inbound SPI of that protocol for a Child SA the peer rekeys; 0: none at
	 * hand (the request is refused with TEMPORARY_FAILURE and the peer tries later). */
	uint32_t (*spi)(void *ctx, struct ike_sa *sa, uint8_t protocol);
	void *ctx;
};

/* child_spi: our inbound SPI for the first Child SA (sadb allocates it). */
struct ike_sa *ike_sa_new(const struct ike_peer_cfg *cfg, bool initiator, uint32_t child_spi);
void ike_sa_free(struct ike_sa *sa);
void ike_sa_set_events(struct ike_sa *sa, const struct ike_sa_events *ev);

/* Initiator: the IKE_SA_INIT request. 0, or -1 with the reason in ike_sa_error. */
int ike_sa_start(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen);
/* A message from the peer. *outlen 0: nothing to send. Returns 0 when the message was
 * taken (or answered with an error notify), -1 when it was dropped (malformed, forged,
 * not for this state): the SA is unchanged by a dropped message. */
int ike_sa_input(struct ike_sa *sa, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
    size_t *outlen);

/* Established: requests of our own. Each returns 0 with the request in out, or -1 when
 * the SA cannot send one now (not established, or a request of ours is outstanding). */
/* Deletes the IKE SA and its Child SAs (down at once: we stop using them). */
int ike_sa_delete(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen);
/* Deletes the Child SA whose inbound SPI is spi_in (down at once). */
int ike_sa_delete_child(struct ike_sa *sa, uint32_t spi_in, uint8_t *out, size_t cap,
    size_t *outlen);
/* CREATE_CHILD_SA: a new Child SA (inbound SPI new_spi_in, fresh keys, a new DH exchange
 * when the policy has PFS) replaces the one whose inbound SPI is old_spi_in; when the
 * answer comes, the new one is up and the old one's Delete is the request that follows. */
int ike_sa_rekey_child(struct ike_sa *sa, uint32_t old_spi_in, uint32_t new_spi_in,
    uint8_t *out, size_t cap, size_t *outlen);
/* CREATE_CHILD_SA for the IKE SA itself (§2.18): when it completes (either side), a new
 * IKE SA with the Child SAs is waiting in ike_sa_take_rekeyed, and this one is deleted (by
 * a request that follows, on the side that rekeyed). */
int ike_sa_rekey(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen);
/* The IKE SA that replaced this one, once (the caller owns it; same events). */
struct ike_sa *ike_sa_take_rekeyed(struct ike_sa *sa);
/* An empty INFORMATIONAL: the peer's answer proves it alive (dead peer detection). */
int ike_sa_liveness(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen);
/* Whether a request of ours waits for its response (the caller retransmits it). */
bool ike_sa_awaiting(const struct ike_sa *sa);
/* Gives up on the outstanding request (the peer never answered): the SA is dead and its
 * Child SAs go down. */
void ike_sa_give_up(struct ike_sa *sa, const char *why);

/* Before IKE_SA_INIT goes out (initiator) or comes in (responder). */
void ike_sa_set_endpoints(struct ike_sa *sa, const struct ike_endpoints *ep);
/* Initiator, before IKE_AUTH: say INITIAL_CONTACT (we hold no other IKE SA with the peer,
 * RFC 7296 §2.4). Responder: whether the authenticated peer said it. */
void ike_sa_set_initial_contact(struct ike_sa *sa, bool on);
bool ike_sa_peer_initial_contact(const struct ike_sa *sa);
/* What IKE_SA_INIT's NAT detection found: a NAT before us (local) or before the peer
 * (remote). Either one moves IKE to port 4500 and puts ESP in UDP (RFC 3948). */
bool ike_sa_nat_local(const struct ike_sa *sa);
bool ike_sa_nat_remote(const struct ike_sa *sa);

enum ike_sa_state ike_sa_get_state(const struct ike_sa *sa);
/* Whether we are this IKE SA's (original) initiator. */
bool ike_sa_initiator(const struct ike_sa *sa);
const char *ike_sa_error(const struct ike_sa *sa);
uint64_t ike_sa_spi_i(const struct ike_sa *sa);
uint64_t ike_sa_spi_r(const struct ike_sa *sa);
const struct ike_child *ike_sa_child(const struct ike_sa *sa);
/* The IKE SA's keys (for the opt-in key log only), NULL before IKE_SA_INIT completed. */
struct ike_keys;
const struct ike_keys *ike_sa_keys(const struct ike_sa *sa);
/* The negotiated IKE SA proposal. */
const struct ike_proposal *ike_sa_proposal(const struct ike_sa *sa);

#endif
