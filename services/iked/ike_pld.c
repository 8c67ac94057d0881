/* IKEv2 payloads: validate the chain, then parse (OpenIKED's ikev2_pld.c order: nothing is
 * read from a payload before every length around it has been checked). All multi-octet
 * fields are network order; views point into the datagram. */
#include "ike_msg.h"

#include <string.h>

static const char *const parse_result_names[] = {
	[IKE_PARSE_OK] = "ok",
	[IKE_PARSE_SHORT] = "truncated",
	[IKE_PARSE_VERSION] = "not IKE version 2",
	[IKE_PARSE_LENGTH] = "lengths do not add up",
	[IKE_PARSE_CRITICAL] = "unsupported critical payload",
	[IKE_PARSE_SYNTAX] = "malformed payload",
	[IKE_PARSE_TOO_MANY] = "more payloads or proposals than accepted",
	[IKE_PARSE_SK_NOT_LAST] = "the Encrypted payload is not the last",
};

const char *
ike_parse_result_name(enum ike_parse_result r)
{
	return (unsigned)r < sizeof(parse_result_names) / sizeof(parse_result_names[0]) ?
	    parse_result_names[r] : "unknown";
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static bool
ike_payload_known(uint8_t t)
{
	return (t >= IKE_PL_SA && t <= IKE_PL_EAP) || t == IKE_PL_SKF;
}

/* Walks a chain of generic payload headers from p (len octets, first payload type first)
 * checking lengths and critical bits only. sk_allowed: an SK payload may end it. */
static enum ike_parse_result
ike_walk(const uint8_t *p, size_t len, uint8_t first, bool sk_allowed, uint8_t *bad)
{
	uint8_t type = first;
	size_t off = 0, plen;
	unsigned count = 0;

	while (type != IKE_PL_NONE) {
		*bad = type;
		if (++count > IKE_MAX_PAYLOADS)
			return IKE_PARSE_TOO_MANY;
		if (len - off < IKE_GENERIC_LEN)
			return IKE_PARSE_LENGTH;
		plen = get16(p + off + 2);
		if (plen < IKE_GENERIC_LEN || plen > len - off)
			return IKE_PARSE_LENGTH;
		if (!ike_payload_known(type) && (p[off + 1] & 0x80))
			return IKE_PARSE_CRITICAL;
		if (type == IKE_PL_SK || type == IKE_PL_SKF) {
			/* Its next-payload field names the first inner payload (§3.14). */
			if (!sk_allowed)
				return IKE_PARSE_SYNTAX;
			return off + plen == len ? IKE_PARSE_OK : IKE_PARSE_SK_NOT_LAST;
		}
		type = p[off];
		off += plen;
	}
	*bad = IKE_PL_NONE;
	return off == len ? IKE_PARSE_OK : IKE_PARSE_LENGTH;
}

enum ike_parse_result
ike_pld_validate(const uint8_t *buf, size_t len, uint8_t *bad_payload)
{
	uint32_t length;

	*bad_payload = IKE_PL_NONE;
	if (len < IKE_HDR_LEN)
		return IKE_PARSE_SHORT;
	if ((buf[17] >> 4) != 2)
		return IKE_PARSE_VERSION;
	length = get32(buf + 24);
	if (length > len)
		return IKE_PARSE_SHORT;
	if (length < IKE_HDR_LEN || length != len)
		return IKE_PARSE_LENGTH;
	return ike_walk(buf + IKE_HDR_LEN, len - IKE_HDR_LEN, buf[16], true, bad_payload);
}

/* Transforms of one proposal (§3.3.2). */
static enum ike_parse_result
ike_parse_transforms(const uint8_t *p, size_t len, unsigned n, struct ike_proposal *pr)
{
	size_t off = 0, tlen, a, alen;
	unsigned i;

	if (n > IKE_MAX_TRANSFORMS)
		return IKE_PARSE_TOO_MANY;
	for (i = 0; i < n; i++) {
		struct ike_transform *t = &pr->transforms[i];

		if (len - off < 8)
			return IKE_PARSE_SYNTAX;
		tlen = get16(p + off + 2);
		if (tlen < 8 || tlen > len - off)
			return IKE_PARSE_SYNTAX;
		/* "Last Substruc": 3 for more, 0 for the last (§3.3.2). */
		if (p[off] != (i + 1 == n ? 0 : 3))
			return IKE_PARSE_SYNTAX;
		t->type = p[off + 4];
		t->id = get16(p + off + 6);
		t->key_length = 0;
		for (a = off + 8; a < off + tlen; a += alen) {
			uint16_t at;

			if (off + tlen - a < 4)
				return IKE_PARSE_SYNTAX;
			at = get16(p + a);
			if (at & 0x8000) {	/* TV: the value is the length field */
				alen = 4;
				if ((at & 0x7fff) == 14)
					t->key_length = get16(p + a + 2);
			} else {		/* TLV: skipped; Key Length must be TV */
				alen = 4 + (size_t)get16(p + a + 2);
				if (alen > off + tlen - a || (at & 0x7fff) == 14)
					return IKE_PARSE_SYNTAX;
			}
		}
		off += tlen;
	}
	pr->ntransforms = (uint8_t)n;
	return off == len ? IKE_PARSE_OK : IKE_PARSE_SYNTAX;
}

/* The Security Association payload's proposals (§3.3.1). */
static enum ike_parse_result
ike_parse_sa(const uint8_t *p, size_t len, struct ike_msg *m)
{
	size_t off = 0, plen, spi;
	enum ike_parse_result r;

	if (m->has_sa)
		return IKE_PARSE_SYNTAX;
	m->has_sa = true;
	while (off < len) {
		struct ike_proposal *pr;

		if (m->nproposals == IKE_MAX_PROPOSALS)
			return IKE_PARSE_TOO_MANY;
		if (len - off < 8)
			return IKE_PARSE_SYNTAX;
		plen = get16(p + off + 2);
		spi = p[off + 6];
		if (plen < 8 + spi || plen > len - off)
			return IKE_PARSE_SYNTAX;
		/* 2 for more proposals, 0 for the last; it must agree with the lengths. */
		if (p[off] != (off + plen == len ? 0 : 2))
			return IKE_PARSE_SYNTAX;
		if (spi != 0 && spi != 4 && spi != 8)
			return IKE_PARSE_SYNTAX;
		pr = &m->proposals[m->nproposals];
		pr->number = p[off + 4];
		pr->protocol = p[off + 5];
		pr->spi.data = p + off + 8;
		pr->spi.len = spi;
		r = ike_parse_transforms(p + off + 8 + spi, plen - 8 - spi, p[off + 7], pr);
		if (r != IKE_PARSE_OK)
			return r;
		m->nproposals++;
		off += plen;
	}
	return m->nproposals > 0 ? IKE_PARSE_OK : IKE_PARSE_SYNTAX;
}

/* Traffic selectors (§3.13.1). */
static enum ike_parse_result
ike_parse_ts(const uint8_t *p, size_t len, struct ike_ts_set *set)
{
	size_t off = 4, tlen;
	unsigned i, n;

	if (len < 4)
		return IKE_PARSE_SYNTAX;
	n = p[0];
	if (n == 0)
		return IKE_PARSE_SYNTAX;
	if (n > IKE_MAX_TS)
		return IKE_PARSE_TOO_MANY;
	for (i = 0; i < n; i++) {
		struct ike_ts *ts = &set->ts[i];

		if (len - off < 8)
			return IKE_PARSE_SYNTAX;
		tlen = get16(p + off + 2);
		ts->type = p[off];
		ts->addr_len = ts->type == 7 ? 4 : ts->type == 8 ? 16 : 0;
		if (ts->addr_len == 0 || tlen != 8 + 2u * ts->addr_len || tlen > len - off)
			return IKE_PARSE_SYNTAX;
		ts->ip_protocol = p[off + 1];
		ts->start_port = get16(p + off + 4);
		ts->end_port = get16(p + off + 6);
		memset(ts->start, 0, sizeof(ts->start));
		memset(ts->end, 0, sizeof(ts->end));
		memcpy(ts->start, p + off + 8, ts->addr_len);
		memcpy(ts->end, p + off + 8 + ts->addr_len, ts->addr_len);
		off += tlen;
	}
	set->count = (uint8_t)n;
	return off == len ? IKE_PARSE_OK : IKE_PARSE_SYNTAX;
}

static enum ike_parse_result
ike_parse_notify(const uint8_t *p, size_t len, struct ike_msg *m)
{
	struct ike_notify *n;
	size_t spi;

	if (len < 4)
		return IKE_PARSE_SYNTAX;
	if (m->nnotifies == IKE_MAX_NOTIFIES)
		return IKE_PARSE_TOO_MANY;
	spi = p[1];
	if (spi > len - 4)
		return IKE_PARSE_SYNTAX;
	n = &m->notifies[m->nnotifies++];
	n->protocol = p[0];
	n->type = get16(p + 2);
	n->spi.data = p + 4;
	n->spi.len = spi;
	n->data.data = p + 4 + spi;
	n->data.len = len - 4 - spi;
	return IKE_PARSE_OK;
}

static enum ike_parse_result
ike_parse_delete(const uint8_t *p, size_t len, struct ike_msg *m)
{
	struct ike_delete *d;

	if (len < 4)
		return IKE_PARSE_SYNTAX;
	if (m->ndeletes == IKE_MAX_DELETES)
		return IKE_PARSE_TOO_MANY;
	d = &m->deletes[m->ndeletes];
	d->protocol = p[0];
	d->spi_size = p[1];
	d->count = get16(p + 2);
	/* IKE: no SPI (the header names the SA); ESP and AH: 4-octet SPIs (§3.11). */
	if ((d->protocol == IKE_PROTO_IKE && (d->spi_size != 0 || d->count != 0)) ||
	    ((d->protocol == IKE_PROTO_ESP || d->protocol == IKE_PROTO_AH) && d->spi_size != 4) ||
	    (d->protocol < IKE_PROTO_IKE || d->protocol > IKE_PROTO_ESP) ||
	    (size_t)d->count * d->spi_size != len - 4)
		return IKE_PARSE_SYNTAX;
	d->spis.data = p + 4;
	d->spis.len = len - 4;
	m->ndeletes++;
	return IKE_PARSE_OK;
}

/* One payload's body (after its 4-octet generic header). */
static enum ike_parse_result
ike_parse_body(uint8_t type, const uint8_t *p, size_t len, struct ike_msg *m)
{
	switch (type) {
	case IKE_PL_SA:
		return ike_parse_sa(p, len, m);
	case IKE_PL_KE:
		if (len < 4 || m->has_ke)
			return IKE_PARSE_SYNTAX;
		m->has_ke = true;
		m->ke_group = get16(p);
		m->ke_data = (struct ike_bytes){ p + 4, len - 4 };
		return IKE_PARSE_OK;
	case IKE_PL_NONCE:
		/* 16 to 256 octets (§3.9). */
		if (len < 16 || len > 256 || m->has_nonce)
			return IKE_PARSE_SYNTAX;
		m->has_nonce = true;
		m->nonce = (struct ike_bytes){ p, len };
		return IKE_PARSE_OK;
	case IKE_PL_IDI:
	case IKE_PL_IDR: {
		bool i = type == IKE_PL_IDI;

		if (len < 4 || (i ? m->has_idi : m->has_idr))
			return IKE_PARSE_SYNTAX;
		*(i ? &m->has_idi : &m->has_idr) = true;
		*(i ? &m->idi_type : &m->idr_type) = p[0];
		*(i ? &m->idi : &m->idr) = (struct ike_bytes){ p + 4, len - 4 };
		*(i ? &m->idi_body : &m->idr_body) = (struct ike_bytes){ p, len };
		return IKE_PARSE_OK;
	}
	case IKE_PL_AUTH:
		if (len < 4 || m->has_auth)
			return IKE_PARSE_SYNTAX;
		m->has_auth = true;
		m->auth_method = p[0];
		m->auth = (struct ike_bytes){ p + 4, len - 4 };
		return IKE_PARSE_OK;
	case IKE_PL_NOTIFY:
		return ike_parse_notify(p, len, m);
	case IKE_PL_DELETE:
		return ike_parse_delete(p, len, m);
	case IKE_PL_TSI:
	case IKE_PL_TSR:
		if (type == IKE_PL_TSI ? m->has_tsi : m->has_tsr)
			return IKE_PARSE_SYNTAX;
		*(type == IKE_PL_TSI ? &m->has_tsi : &m->has_tsr) = true;
		return ike_parse_ts(p, len, type == IKE_PL_TSI ? &m->tsi : &m->tsr);
	case IKE_PL_VENDOR:
		m->nvendor++;
		return IKE_PARSE_OK;
	default:
		/* Known but not used by picsec (CERT, CERTREQ, CP, EAP), or unknown and not
		 * critical: skipped (§2.5). */
		m->nskipped++;
		return IKE_PARSE_OK;
	}
}

/* Parses a validated chain. */
static enum ike_parse_result
ike_parse_chain(const uint8_t *p, size_t len, uint8_t first, struct ike_msg *m,
    const uint8_t *msg_start, uint8_t *bad)
{
	uint8_t type = first;
	size_t off = 0, plen;
	enum ike_parse_result r;

	while (type != IKE_PL_NONE) {
		*bad = type;
		if (len - off < IKE_GENERIC_LEN)
			return IKE_PARSE_LENGTH; /* validated already: never, but cheap to say */
		plen = get16(p + off + 2);
		if (type == IKE_PL_SK) {
			if (msg_start == NULL)
				return IKE_PARSE_SYNTAX;
			m->has_sk = true;
			m->sk_first = p[off];
			m->sk = (struct ike_bytes){ p + off + 4, plen - 4 };
			m->sk_aad = (struct ike_bytes){ msg_start, (size_t)(p + off + 4 - msg_start) };
			break;
		}
		if (type == IKE_PL_SKF)
			return IKE_PARSE_CRITICAL; /* fragmentation (RFC 7383) is not offered */
		if ((r = ike_parse_body(type, p + off + 4, plen - 4, m)) != IKE_PARSE_OK)
			return r;
		type = p[off];
		off += plen;
	}
	*bad = IKE_PL_NONE;
	return IKE_PARSE_OK;
}

enum ike_parse_result
ike_msg_parse(const uint8_t *buf, size_t len, struct ike_msg *m, uint8_t *bad_payload)
{
	enum ike_parse_result r;

	memset(m, 0, sizeof(*m));
	if ((r = ike_pld_validate(buf, len, bad_payload)) != IKE_PARSE_OK)
		return r;
	m->raw = (struct ike_bytes){ buf, len };
	m->hdr.spi_i = get64(buf);
	m->hdr.spi_r = get64(buf + 8);
	m->hdr.next = buf[16];
	m->hdr.version = buf[17];
	m->hdr.exchange = buf[18];
	m->hdr.flags = buf[19];
	m->hdr.msgid = get32(buf + 20);
	m->hdr.length = get32(buf + 24);
	return ike_parse_chain(buf + IKE_HDR_LEN, len - IKE_HDR_LEN, buf[16], m, buf,
	    bad_payload);
}

enum ike_parse_result
ike_msg_parse_inner(const uint8_t *buf, size_t len, uint8_t first, struct ike_msg *m,
    uint8_t *bad_payload)
{
	enum ike_parse_result r;

	*bad_payload = IKE_PL_NONE;
	if ((r = ike_walk(buf, len, first, false, bad_payload)) != IKE_PARSE_OK)
		return r;
	return ike_parse_chain(buf, len, first, m, NULL, bad_payload);
}

const struct ike_notify *
ike_msg_notify(const struct ike_msg *m, uint16_t type)
{
	unsigned i;

	for (i = 0; i < m->nnotifies; i++) {
		if (m->notifies[i].type == type)
			return &m->notifies[i];
	}
	return NULL;
}
