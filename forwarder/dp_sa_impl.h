/* Private to the SA code (dp_sa.c, dp_esp.c, dp_ah.c, dp_ipv4.c). */
#ifndef PICSEC_DP_SA_IMPL_H
#define PICSEC_DP_SA_IMPL_H

#include "dp_replay.h"
#include "dp_sa.h"

enum {
	DP_IPV4_HDR = 20,
	DP_UDP_HDR = 8,
	DP_ESP_HDR = 8,	 /* SPI, sequence number */
	DP_AH_FIXED = 12, /* next header, length, reserved, SPI, sequence number */
	IPPROTO_ESP_ = 50,
	IPPROTO_AH_ = 51,
	IPPROTO_UDP_ = 17,
	IPPROTO_IPIP_ = 4,
	IPPROTO_IPV6_ = 41,
	DP_KEYS_MAX = 72,	  /* the longest encryption key (GCM's salt too) + integrity key */
};

/* An SA's OpenSSL contexts (about 1.6 kB with CBC + HMAC, 1.2 kB with GCM) are made when
 * its first packet needs them, not when it is installed: a PIC holding 100,000 SAs that
 * mostly idle holds their keys, not their contexts (bench/scale). Until then the keys wait
 * in keys[], wiped once the contexts have them. */
struct dp_sa {
	struct dp_sa_params p; /* key pointers cleared: the keys live in keys[], then contexts */
	struct dp_cipher *cipher; /* ESP (and the ESP part of a bundle) */
	struct dp_mac *mac;	  /* ESP integrity, or AH */
	struct dp_replay *replay; /* inbound: its window (or, anti-replay off, the top seen) */
	bool aead;		  /* ESP with GCM: the cipher makes the ICV, no mac */
	bool keyed;		  /* the contexts are made */
	size_t iv_len, block, icv_len;
	uint64_t seq;		  /* outbound: the last sequence number sent */
	uint16_t ip_id;
	struct dp_sa_counters c;
	uint64_t bytes_cleared;	  /* counted before the last clear: lifetimes count on */
	uint8_t keys[DP_KEYS_MAX]; /* until keyed: the encryption key, then the integrity key */
};

/* dp_sa.c: makes the contexts from keys[] (the first packet); 0 or -1 (out of memory: the
 * packet is dropped, the next one tries again). */
int dp_sa_key(struct dp_sa *sa);

static inline int
dp_sa_keyed(struct dp_sa *sa)
{
	return sa->keyed ? 0 : dp_sa_key(sa);
}

/* A parsed IPv4 header. */
struct dp_ipv4 {
	size_t hlen, total;
	uint8_t tos, ttl, proto;
	bool df, fragment; /* fragment: MF set or a non-zero offset */
};

/* Parses the IPv4 header at data (len bytes available): version, header length, total
 * length within len, header checksum. -1 when it is not a valid IPv4 header. */
int dp_ipv4_parse(const uint8_t *data, size_t len, struct dp_ipv4 *ip);
/* Writes the checksum of the header at hdr (hlen bytes). */
void dp_ipv4_set_checksum(uint8_t *hdr, size_t hlen);
/* What the outer header may take from the inner one. */
struct dp_inner {
	uint8_t tos, ttl;
	bool df;
};

/* Prepends the SA's outer IPv4 header (and the UDP header of ESP in UDP when udp) around
 * the payload in p: protocol proto, TOS, TTL and DF derived from the inner header's. */
enum dp_result dp_outer_ipv4(struct dp_sa *sa, struct dp_pkt *p, uint8_t proto, bool udp,
    const struct dp_inner *in);


/* dp_esp.c: the ESP header, IV, encrypted payload, trailer and ICV around the payload in
 * p (next: the protocol of that payload); with_icv false for the ESP of a bundle. iv is
 * NULL but in the known-answer tests, which need a given one (CBC only: GCM's IV is always
 * the sequence number). */
enum dp_result dp_esp_wrap(struct dp_sa *sa, struct dp_pkt *p, uint32_t spi, uint8_t next,
    uint64_t seq, bool with_icv, const uint8_t *iv);
/* Opens the ESP packet at the start of p (checked already for length by the caller's
 * parse); on success p holds the payload and *next its protocol. */
enum dp_result dp_esp_unwrap(struct dp_sa *sa, struct dp_pkt *p, bool with_icv,
    uint64_t *seq, uint8_t *next);

/* dp_ah.c: with the outer IPv4 header at the start of p and the AH header right after it
 * (ICV zero), computes and writes the ICV. */
enum dp_result dp_ah_sign(struct dp_sa *sa, struct dp_pkt *p, size_t ip_hlen, uint64_t seq);
/* Verifies the AH header after the IPv4 header at the start of p; on success the AH
 * header is removed (the IPv4 header moves up to the payload) and *next is its payload's
 * protocol. */
enum dp_result dp_ah_verify(struct dp_sa *sa, struct dp_pkt *p, uint64_t *seq, uint8_t *next);
/* Bytes of an AH header with this SA's ICV (padded to 32 bits). */
size_t dp_ah_len(const struct dp_sa *sa);
/* dp_sa.c: headroom and tailroom that encapsulation needs around len bytes. */
void dp_sa_room(const struct dp_sa *sa, size_t len, size_t *head, size_t *tail);

/* The high half of an inbound ESN sequence number whose low half is lo (RFC 4303 A.2). */
uint32_t dp_esn_high(const struct dp_sa *sa, uint32_t lo);

#endif
