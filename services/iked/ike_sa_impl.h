/* picsec-iked's IKE SA, private to the exchange files. */
#ifndef PICSEC_IKE_SA_IMPL_H
#define PICSEC_IKE_SA_IMPL_H

#include "ike_build.h"
#include "ike_dh.h"
#include "ike_keys.h"
#include "ike_sa.h"
#include "ike_sk.h"

enum { IKE_NONCE_LEN = 32, IKE_MAX_MSG = 8192 };

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
	bool child_announced;		/* child_up was told of the first Child SA */
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
	struct ike_child child;
	bool have_child;
	uint8_t *last_in, *last_out;	/* responder: the last request and our answer */
	size_t last_in_len, last_out_len;
};

/* ike_sa.c */
void ike_sa_fail(struct ike_sa *sa, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ike_sa_keep(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len);
/* The IKE SA's keys and Encrypted payload contexts, from the DH secret. */
int ike_sa_derive(struct ike_sa *sa, const uint8_t *secret, size_t secret_len);
/* A whole message with one Encrypted payload around inner (a chain from ike_w_inner). */
int ike_sa_seal(struct ike_sa *sa, uint8_t exchange, bool response, uint32_t msgid,
    const uint8_t *inner, size_t inner_len, uint8_t first, uint8_t *out, size_t cap,
    size_t *outlen);
/* The Child SA goes down: the event, then it is forgotten (keys wiped). */
void ike_sa_child_down(struct ike_sa *sa, const char *why);
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

/* ike_x_info.c: INFORMATIONAL. */
/* Our request: Delete of the IKE SA (ike), of the Child SA with inbound SPI spi_in, or
 * nothing (liveness). */
int ike_info_request(struct ike_sa *sa, bool ike, const uint32_t *spi_in, uint8_t *out,
    size_t cap, size_t *outlen);
int ike_info_respond(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen);
int ike_info_response(struct ike_sa *sa, const struct ike_msg *m);
/* The answer to a request of an exchange we do not take: NO_ADDITIONAL_SAS. */
int ike_info_refuse(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen);

#endif
