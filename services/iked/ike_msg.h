/* IKEv2 messages (RFC 7296 §3): the header and payloads of one datagram, validated first
 * (lengths, chain, critical bits: ike_pld_validate) and only then parsed into views that
 * point into the datagram (ike_pld_parse); and the reverse, building a message into a
 * buffer (ike_build.c). No allocation: a message has fixed room for what picsec accepts,
 * and a message with more than that is refused, not truncated. */
#ifndef PICSEC_IKE_MSG_H
#define PICSEC_IKE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	IKE_HDR_LEN = 28,
	IKE_GENERIC_LEN = 4,
	IKE_MAX_PAYLOADS = 48,
	IKE_MAX_PROPOSALS = 16,
	IKE_MAX_TRANSFORMS = 32,   /* per proposal */
	IKE_MAX_NOTIFIES = 16,
	IKE_MAX_TS = 16,
	IKE_MAX_DELETES = 8,
	IKE_VERSION = 0x20,	   /* major 2, minor 0 */
};

/* Exchange types (§3.1). */
enum ike_exchange {
	IKE_SA_INIT = 34,
	IKE_AUTH = 35,
	IKE_CREATE_CHILD_SA = 36,
	IKE_INFORMATIONAL = 37,
};

/* Header flags (§3.1). */
enum {
	IKE_FLAG_INITIATOR = 0x08,
	IKE_FLAG_VERSION = 0x10,
	IKE_FLAG_RESPONSE = 0x20,
};

/* Payload types (§3.2). */
enum ike_payload {
	IKE_PL_NONE = 0,
	IKE_PL_SA = 33,
	IKE_PL_KE = 34,
	IKE_PL_IDI = 35,
	IKE_PL_IDR = 36,
	IKE_PL_CERT = 37,
	IKE_PL_CERTREQ = 38,
	IKE_PL_AUTH = 39,
	IKE_PL_NONCE = 40,
	IKE_PL_NOTIFY = 41,
	IKE_PL_DELETE = 42,
	IKE_PL_VENDOR = 43,
	IKE_PL_TSI = 44,
	IKE_PL_TSR = 45,
	IKE_PL_SK = 46,
	IKE_PL_CP = 47,
	IKE_PL_EAP = 48,
	IKE_PL_SKF = 53,
};

/* Protocol ids in proposals, notifies and deletes (§3.3.1). */
enum { IKE_PROTO_IKE = 1, IKE_PROTO_AH = 2, IKE_PROTO_ESP = 3 };

/* Transform types (§3.3.2). */
enum { IKE_TF_ENCR = 1, IKE_TF_PRF = 2, IKE_TF_INTEG = 3, IKE_TF_DH = 4, IKE_TF_ESN = 5 };

/* Why a datagram is refused; the notify to answer with, where RFC 7296 says to answer. */
enum ike_parse_result {
	IKE_PARSE_OK,
	IKE_PARSE_SHORT,	/* shorter than a header, or than its length says */
	IKE_PARSE_VERSION,	/* major version not 2: INVALID_MAJOR_VERSION */
	IKE_PARSE_LENGTH,	/* a length that does not add up: INVALID_SYNTAX */
	IKE_PARSE_CRITICAL,	/* an unknown payload marked critical:
				 * UNSUPPORTED_CRITICAL_PAYLOAD */
	IKE_PARSE_SYNTAX,	/* a payload's body is malformed: INVALID_SYNTAX */
	IKE_PARSE_TOO_MANY,	/* more of something than picsec takes */
	IKE_PARSE_SK_NOT_LAST,	/* the Encrypted payload must end the chain (§3.14) */
};

const char *ike_parse_result_name(enum ike_parse_result r);

struct ike_header {
	uint64_t spi_i, spi_r;	/* host order */
	uint8_t next;		/* first payload */
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;
};

/* A byte range inside the datagram. */
struct ike_bytes {
	const uint8_t *data;
	size_t len;
};

struct ike_transform {
	uint8_t type;
	uint16_t id;
	uint16_t key_length;	/* the Key Length attribute (14), 0 when absent */
};

struct ike_proposal {
	uint8_t number, protocol;
	struct ike_bytes spi;	/* 0 (IKE SA in IKE_SA_INIT), 4 (ESP/AH) or 8 octets */
	uint8_t ntransforms;
	struct ike_transform transforms[IKE_MAX_TRANSFORMS];
};

struct ike_notify {
	uint8_t protocol;
	uint16_t type;
	struct ike_bytes spi;
	struct ike_bytes data;
};

struct ike_delete {
	uint8_t protocol, spi_size;
	uint16_t count;
	struct ike_bytes spis;	/* count * spi_size octets */
};

struct ike_ts {
	uint8_t type;		/* 7: IPv4 range, 8: IPv6 range */
	uint8_t ip_protocol;
	uint16_t start_port, end_port;
	uint8_t start[16], end[16];
	uint8_t addr_len;	/* 4 or 16 */
};

struct ike_ts_set {
	uint8_t count;
	struct ike_ts ts[IKE_MAX_TS];
};

/* One datagram, parsed. Absent payloads have present = false (or count 0). */
struct ike_msg {
	struct ike_header hdr;
	struct ike_bytes raw;	/* the whole datagram (for AUTH and retransmission checks) */

	bool has_sa;
	uint8_t nproposals;
	struct ike_proposal proposals[IKE_MAX_PROPOSALS];

	bool has_ke;
	uint16_t ke_group;
	struct ike_bytes ke_data;

	bool has_nonce;
	struct ike_bytes nonce;

	bool has_idi, has_idr;
	uint8_t idi_type, idr_type;
	struct ike_bytes idi, idr;	    /* the identification data */
	struct ike_bytes idi_body, idr_body; /* from the ID type on: what AUTH signs (§2.15) */

	bool has_auth;
	uint8_t auth_method;
	struct ike_bytes auth;

	uint8_t nnotifies;
	struct ike_notify notifies[IKE_MAX_NOTIFIES];

	uint8_t ndeletes;
	struct ike_delete deletes[IKE_MAX_DELETES];

	bool has_tsi, has_tsr;
	struct ike_ts_set tsi, tsr;

	bool has_sk;
	uint8_t sk_first;	     /* the first inner payload's type */
	struct ike_bytes sk;	     /* IV | ciphertext | ICV */
	struct ike_bytes sk_aad;     /* header + SK generic header: authenticated, not encrypted */

	uint8_t nvendor;	     /* vendor IDs seen (ignored) */
	uint8_t nskipped;	     /* unknown non-critical payloads skipped */
};

/* Checks the header and walks the payload chain of the datagram without reading any
 * payload's body: every length within bounds and adding up, no unknown critical payload,
 * SK last. *bad_payload names the payload at fault. */
enum ike_parse_result ike_pld_validate(const uint8_t *buf, size_t len, uint8_t *bad_payload);

/* Validates, then parses into m. inner: the decrypted contents of an SK payload (first
 * payload type given), parsed into the same m (its header stays the outer one). */
enum ike_parse_result ike_msg_parse(const uint8_t *buf, size_t len, struct ike_msg *m,
    uint8_t *bad_payload);
enum ike_parse_result ike_msg_parse_inner(const uint8_t *buf, size_t len, uint8_t first,
    struct ike_msg *m, uint8_t *bad_payload);

/* Network-order integers in and out of messages. */
static inline uint32_t
ike_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
ike_get64(const uint8_t *p)
{
	return (uint64_t)ike_get32(p) << 32 | ike_get32(p + 4);
}

static inline void
ike_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
ike_put64(uint8_t *p, uint64_t v)
{
	ike_put32(p, (uint32_t)(v >> 32));
	ike_put32(p + 4, (uint32_t)v);
}

/* The first notify of that type, or NULL. */
const struct ike_notify *ike_msg_notify(const struct ike_msg *m, uint16_t type);

#endif
