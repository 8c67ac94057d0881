/* picsec-iked's IKE SA, private to the exchange files. */
#ifndef PICSEC_IKE_SA_IMPL_H
#define PICSEC_IKE_SA_IMPL_H

#include "ike_build.h"
#include "ike_dh.h"
#include "ike_keys.h"
#include "ike_sa.h"
#include "ike_sk.h"

enum { IKE_NONCE_LEN = 32, IKE_MAX_MSG = 8192, IKE_MAX_CHILDREN = 4 };

/* A Child SA of the IKE SA. */
struct ike_child_slot {
	struct ike_child c;
	bool used;
	bool announced;		/* child_up was told */
	bool exchange_initiator; /* we started the exchange that made it (key order) */
};

/* Our CREATE_CHILD_SA request in flight. */
struct ike_rekey {
	bool ike;			/* of the IKE SA; else of the Child SA old_spi_in */
	uint32_t old_spi_in, new_spi_in;
	uint64_t new_spi;		/* IKE: our SPI of the new IKE SA */
	struct ike_dh *dh;		/* PFS or the IKE rekey's exchange */
	uint8_t nonce[IKE_NONCE_LEN];
	struct ike_proposal offer[IKE_MAX_PROPOSALS];
	size_t noffer;
	uint8_t spi[8];			/* what offer's SPIs point at */
	bool collided;			/* the peer rekeyed the same Child SA meanwhile */
	uint8_t peer_min_nonce[256];	/* ... the lower nonce of its exchange */
	size_t peer_min_nonce_len;
};
struct ike_sa {
	const struct ike_peer_cfg *cfg;
	bool initiator;
	enum ike_sa_state state;
	char error[256];
	uint64_t spi_i, spi_r;
	uint32_t msgid;			/* until established: initiator: of the request in
					 * flight; responder: the next request expected */
	uint32_t req_msgid;		/* established: of our next (or outstanding) request */
	uint32_t peer_msgid;		/* established: of the peer's next request */
	bool awaiting;			/* our request req_msgid waits for its response */
	uint8_t req_exchange;		/* ... and its exchange type */
	bool req_deletes_ike;		/* ... and whether it deletes the IKE SA */
	struct ike_sa_events ev;
	struct ike_endpoints ep;
	bool have_ep;
	bool nat_local, nat_remote;	/* from IKE_SA_INIT's NAT detection */
	bool initial_contact;		/* we send INITIAL_CONTACT in IKE_AUTH */
	bool peer_initial_contact;	/* the authenticated peer sent it */
	uint8_t cookie[64];		/* initiator: the responder's COOKIE to send back */
	size_t cookie_len;

	uint16_t ke_group;		/* the group of our KE payload */
	struct ike_proposal chosen;
	enum ike_prf_id prf;
	struct ike_dh *dh;
	uint8_t ni[256], nr[256];
	size_t ni_len, nr_len;
	uint8_t *msg1, *msg2;		/* the IKE_SA_INIT request and response, as sent */
	size_t msg1_len, msg2_len;
	struct ike_keys *keys;
	struct ike_sk *sk_in, *sk_out;
	uint8_t child_spi[4];
	struct ike_proposal child_offer[IKE_MAX_PROPOSALS];
	size_t nchild_offer;
	struct ike_child_slot children[IKE_MAX_CHILDREN];
	bool rekeying;			/* rk is our outstanding request */
	struct ike_rekey rk;
	struct ike_sa *rekeyed;		/* the IKE SA that replaces this one, for the caller */
	uint8_t *last_in, *last_out;	/* the peer's last request and our answer */
	size_t last_in_len, last_out_len;
};

/* ike_sa.c */
void ike_sa_fail(struct ike_sa *sa, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ike_sa_keep(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len);
/* The IKE SA's keys and Encrypted payload contexts, from the DH secret. */
int ike_sa_derive(struct ike_sa *sa, const uint8_t *secret, size_t secret_len);
/* The same for an IKE SA made by a rekey: SKEYSEED = prf(SK_d (old), g^ir | Ni | Nr) with
 * the old SA's PRF for SKEYSEED and prf+ (as strongSwan does; §2.18). */
int ike_sa_derive_rekey(struct ike_sa *sa, enum ike_prf_id kdf_prf, const uint8_t *secret,
    size_t secret_len, const uint8_t *old_sk_d, size_t old_sk_d_len);
/* A whole message with one Encrypted payload around inner (a chain from ike_w_inner). */
int ike_sa_seal(struct ike_sa *sa, uint8_t exchange, bool response, uint32_t msgid,
    const uint8_t *inner, size_t inner_len, uint8_t first, uint8_t *out, size_t cap,
    size_t *outlen);
/* ike_child.c: the Child SA slots. */
struct ike_child_slot *ike_child_alloc(struct ike_sa *sa);
/* Keys for a Child SA from prf+(SK_d, [gir] | Ni | Nr); s->exchange_initiator set first. */
int ike_child_derive(struct ike_sa *sa, struct ike_child_slot *s,
    const struct ike_proposal *chosen, uint32_t spi_in, uint32_t spi_out, const uint8_t *gir,
    size_t gir_len, const struct ike_bytes *ni, const struct ike_bytes *nr);
void ike_child_announce(struct ike_sa *sa, struct ike_child_slot *s);
/* The event (when announced), then the slot is wiped. */
void ike_child_down(struct ike_sa *sa, struct ike_child_slot *s, const char *why);
void ike_child_down_all(struct ike_sa *sa, const char *why);
/* Wiped without events: they moved to a rekeyed IKE SA. */
void ike_child_forget_all(struct ike_sa *sa);
struct ike_child_slot *ike_child_by_in(struct ike_sa *sa, uint32_t spi_in);
struct ike_child_slot *ike_child_by_out(struct ike_sa *sa, uint8_t protocol, uint32_t spi_out);
/* Opens m's Encrypted payload and parses its contents into m. */
int ike_sa_open(struct ike_sa *sa, struct ike_msg *m, uint8_t *plain, size_t cap);

/* ike_x_init.c: IKE_SA_INIT. */
int ike_init_request(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen);
int ike_init_respond(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen);
int ike_init_response(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen);

/* ike_nat.c: NAT detection (§2.23). */
/* Our two NAT_DETECTION notifies, into a message being built (nothing without
 * endpoints or with NAT traversal off). */
void ike_nat_write(struct ike_sa *sa, struct ike_writer *w);
/* The peer's, checked against where the message came from: sets nat_local/nat_remote. */
void ike_nat_check(struct ike_sa *sa, const struct ike_msg *m);

/* ike_x_auth.c: IKE_AUTH. */
int ike_auth_request(struct ike_sa *sa, uint8_t *out, size_t cap, size_t *outlen);
int ike_auth_respond(struct ike_sa *sa, struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen);
int ike_auth_response(struct ike_sa *sa, struct ike_msg *m);
/* Whether every selector of got lies within one of allowed. */
bool ike_ts_within(const struct ike_ts_set *got, const struct ike_ts_set *allowed);
uint32_t ike_spi32(const struct ike_bytes *b);

/* ike_x_info.c: INFORMATIONAL. */
/* Our request: Delete of the IKE SA (ike), of the Child SA c, or nothing (liveness). */
int ike_info_request(struct ike_sa *sa, bool ike, const struct ike_child *c, uint8_t *out,
    size_t cap, size_t *outlen);
int ike_info_respond(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen);
int ike_info_response(struct ike_sa *sa, const struct ike_msg *m);
/* An encrypted answer that is one notify (NO_ADDITIONAL_SAS, INVALID_KE_PAYLOAD, ...). */
int ike_info_refuse(struct ike_sa *sa, const struct ike_msg *m, uint16_t type,
    const uint8_t *data, size_t len, uint8_t *out, size_t cap, size_t *outlen);

/* ike_x_child.c: CREATE_CHILD_SA (§1.3): rekeying a Child SA or the IKE SA. */
int ike_child_rekey_request(struct ike_sa *sa, bool ike, uint32_t old_spi_in,
    uint32_t new_spi_in, uint8_t *out, size_t cap, size_t *outlen);
int ike_child_respond(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen);
int ike_child_response(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen);
void ike_rekey_clear(struct ike_rekey *rk);

#endif
