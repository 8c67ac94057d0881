/* A security association as the datapath holds it: its parameters, its crypto contexts
 * (made at its first packet), its sequence number or replay window, and its counters. Encapsulation and
 * decapsulation (dp_esp.c, dp_ah.c) work on one packet in place and count what they drop
 * in the SA's counters. */
#ifndef PICSEC_DP_SA_H
#define PICSEC_DP_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_crypto.h"
#include "dp_pkt.h"

enum dp_proto {
	DP_PROTO_ESP,
	DP_PROTO_AH,
	DP_PROTO_BUNDLE, /* AH authentication over ESP encryption: spi is AH, aux_spi ESP */
};

enum dp_mode { DP_MODE_TUNNEL, DP_MODE_TRANSPORT };
enum dp_dir { DP_DIR_IN, DP_DIR_OUT };

/* The outer header's DF bit: from the inner IPv4 header, always clear, always set. */
enum dp_df { DP_DF_COPY, DP_DF_CLEAR, DP_DF_SET };

struct dp_sa_params {
	enum dp_dir dir;
	enum dp_proto proto;
	enum dp_mode mode;
	uint32_t spi;	  /* ESP or AH; the AH SPI of a bundle */
	uint32_t aux_spi; /* the ESP SPI of a bundle */
	enum dp_enc enc;
	const uint8_t *enc_key;
	size_t enc_key_len;
	enum dp_auth auth;
	const uint8_t *auth_key;
	size_t auth_key_len;
	uint8_t local[4], remote[4]; /* tunnel endpoints (IPv4), network order */
	uint16_t encap_sport, encap_dport; /* ESP in UDP (RFC 3948); 0: plain ESP */
	uint32_t replay_window;	/* inbound: 64..4096 packets; 0 turns anti-replay off */
	bool esn;		/* 64-bit sequence numbers (dynamic SAs) */
	uint16_t tunnel_mtu;	/* outbound: the largest packet to send; 0: no limit here */
	enum dp_df df;
	uint8_t ttl;		/* outer TTL; 0: copied from the inner header */
	uint8_t tos;		/* outer TOS; 0: copied from the inner header */
	uint64_t seq_start;	/* outbound: the first packet gets seq_start + 1 */
};

/* What one SA counted (the Junos fields of show services ipsec-vpn ipsec statistics). */
struct dp_sa_counters {
	uint64_t esp_packets, esp_bytes; /* encrypted (outbound) or decrypted (inbound) */
	uint64_t ah_packets, ah_bytes;	 /* AH output or input */
	uint64_t esp_auth_failures, ah_auth_failures;
	uint64_t replay_errors;
	uint64_t decrypt_failures;
	uint64_t bad_headers, bad_trailers;
	uint64_t mtu_exceeded;
	uint64_t seq_exhausted; /* outbound packets refused: the sequence space is used up */
};

enum dp_result {
	DP_OK,
	DP_DROP_AUTH,	  /* ICV mismatch */
	DP_DROP_REPLAY,
	DP_DROP_DECRYPT,
	DP_DROP_HEADER,	  /* truncated or malformed outer or inner header, wrong SPI/proto */
	DP_DROP_TRAILER,  /* bad padding or next header */
	DP_DROP_MTU,	  /* larger than the tunnel MTU after encapsulation */
	DP_DROP_SEQ,	  /* no sequence number left under this key */
	DP_DROP_NOROOM,	  /* the frame has no room for the headers or trailer */
	DP_DROP_INTERNAL, /* the crypto library failed */
};

/* Words for a result, for logs and tests. */
const char *dp_result_name(enum dp_result r);

struct dp_sa;

/* Prepares the SA; NULL with the reason in err (bad key length, an algorithm OpenSSL does
 * not have). The keys are copied (into the crypto contexts, which the first packet makes:
 * until then into the SA, wiped when it goes); the caller wipes its own copy. */
struct dp_sa *dp_sa_new(const struct dp_sa_params *p, char *err, size_t errlen);
/* Frees the contexts (OpenSSL clears the keys). NULL is fine. */
void dp_sa_free(struct dp_sa *sa);

const struct dp_sa_params *dp_sa_params(const struct dp_sa *sa);
const struct dp_sa_counters *dp_sa_counters(const struct dp_sa *sa);
void dp_sa_clear_counters(struct dp_sa *sa);
/* The bytes the SA carried since it was made, clears of the counters notwithstanding
 * (what kilobyte lifetimes count). */
uint64_t dp_sa_lifetime_bytes(const struct dp_sa *sa);
/* sa replaces old under the same keys: it takes over old's anti-replay window (inbound)
 * and its byte count, so neither a replay nor a lifetime can restart by a replacement. */
void dp_sa_inherit(struct dp_sa *sa, const struct dp_sa *old);
/* Outbound: the last sequence number used (for high-water reports). */
uint64_t dp_sa_seq(const struct dp_sa *sa);
/* The bytes encapsulation adds to a packet of len bytes (tunnel mode: the inner packet;
 * transport mode: the payload after its IPv4 header). */
size_t dp_sa_overhead(const struct dp_sa *sa, size_t len);

/* Counts an outbound packet the caller refused as too large for the path (the PIC's own
 * MTU check, before encapsulation). */
void dp_sa_count_mtu_exceeded(struct dp_sa *sa);

/* Outbound: the inner IP packet in p becomes the outer packet (outer IPv4 header first),
 * in place. On a drop p is unchanged but for DP_DROP_MTU, which leaves it too. */
enum dp_result dp_sa_encap(struct dp_sa *sa, struct dp_pkt *p);
/* Inbound: the outer packet in p (from its IPv4 header; the caller found the SA by SPI)
 * becomes the inner IP packet. On a drop the contents of p are undefined. */
enum dp_result dp_sa_decap(struct dp_sa *sa, struct dp_pkt *p);

#endif
