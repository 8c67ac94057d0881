/* The IKEv2 codec: messages built with the writer parse back to what went in (an
 * IKE_SA_INIT request, an IKE_AUTH inner chain, an SK-wrapped message), and every kind of
 * malformed datagram is refused with its reason: truncation at every length, a bad version,
 * lengths that do not add up, an unknown critical payload, SK not last, proposal and
 * transform structure, nonce size, traffic selector and delete forms, too many payloads. */
#include <criterion/criterion.h>
#include <string.h>

#include "ike_build.h"
#include "ike_msg.h"

enum { NAT_DETECTION_SOURCE_IP = 16388, NAT_DETECTION_DESTINATION_IP = 16389,
	INITIAL_CONTACT = 16384 };

static const struct ike_header init_hdr = {
	.spi_i = 0x0123456789abcdefULL, .exchange = IKE_SA_INIT, .flags = IKE_FLAG_INITIATOR,
};

static struct ike_proposal
proposal(uint8_t number, uint8_t protocol, uint16_t encr, uint16_t keylen, uint16_t integ,
    uint16_t prf, uint16_t dh)
{
	struct ike_proposal p;

	memset(&p, 0, sizeof(p));
	p.number = number;
	p.protocol = protocol;
	p.transforms[p.ntransforms++] = (struct ike_transform){ IKE_TF_ENCR, encr, keylen };
	if (prf != 0)
		p.transforms[p.ntransforms++] = (struct ike_transform){ IKE_TF_PRF, prf, 0 };
	if (integ != 0)
		p.transforms[p.ntransforms++] = (struct ike_transform){ IKE_TF_INTEG, integ, 0 };
	if (dh != 0)
		p.transforms[p.ntransforms++] = (struct ike_transform){ IKE_TF_DH, dh, 0 };
	return p;
}

/* An IKE_SA_INIT request: SA (two proposals), KE (group 31), Ni, two NAT notifies. */
static size_t
build_init(uint8_t *buf, size_t cap)
{
	struct ike_proposal p[2] = {
		proposal(1, IKE_PROTO_IKE, 12, 128, 12, 5, 31),	  /* aes128-sha256-x25519 */
		proposal(2, IKE_PROTO_IKE, 12, 256, 14, 7, 20),	  /* aes256-sha512-ecp384 */
	};
	uint8_t ke[32], nonce[32], hash[20];
	struct ike_writer w;

	memset(ke, 0x31, sizeof(ke));
	memset(nonce, 0x4e, sizeof(nonce));
	memset(hash, 0x5a, sizeof(hash));
	ike_w_message(&w, buf, cap, &init_hdr);
	ike_w_sa(&w, p, 2);
	ike_w_ke(&w, 31, ke, sizeof(ke));
	ike_w_nonce(&w, nonce, sizeof(nonce));
	ike_w_notify(&w, 0, NAT_DETECTION_SOURCE_IP, NULL, 0, hash, sizeof(hash));
	ike_w_notify(&w, 0, NAT_DETECTION_DESTINATION_IP, NULL, 0, hash, sizeof(hash));
	return ike_w_finish(&w);
}

Test(ike_msg, an_ike_sa_init_request_parses_back)
{
	uint8_t buf[1024], bad;
	struct ike_msg m;
	size_t len = build_init(buf, sizeof(buf));

	cr_assert_gt(len, IKE_HDR_LEN);
	cr_assert_eq(ike_msg_parse(buf, len, &m, &bad), IKE_PARSE_OK, "%s (payload %u)",
	    ike_parse_result_name(ike_msg_parse(buf, len, &m, &bad)), bad);
	cr_assert_eq(m.hdr.spi_i, init_hdr.spi_i);
	cr_assert_eq(m.hdr.spi_r, 0);
	cr_assert_eq(m.hdr.exchange, IKE_SA_INIT);
	cr_assert_eq(m.hdr.flags, IKE_FLAG_INITIATOR);
	cr_assert_eq(m.hdr.version, IKE_VERSION);
	cr_assert_eq(m.hdr.length, len);
	cr_assert(m.has_sa);
	cr_assert_eq(m.nproposals, 2);
	cr_assert_eq(m.proposals[0].ntransforms, 4);
	cr_assert_eq(m.proposals[0].transforms[0].type, IKE_TF_ENCR);
	cr_assert_eq(m.proposals[0].transforms[0].id, 12);
	cr_assert_eq(m.proposals[0].transforms[0].key_length, 128);
	cr_assert_eq(m.proposals[1].transforms[0].key_length, 256);
	cr_assert_eq(m.proposals[1].transforms[3].type, IKE_TF_DH);
	cr_assert_eq(m.proposals[1].transforms[3].id, 20);
	cr_assert_eq(m.proposals[0].spi.len, 0);
	cr_assert(m.has_ke);
	cr_assert_eq(m.ke_group, 31);
	cr_assert_eq(m.ke_data.len, 32);
	cr_assert_eq(m.ke_data.data[0], 0x31);
	cr_assert(m.has_nonce);
	cr_assert_eq(m.nonce.len, 32);
	cr_assert_eq(m.nnotifies, 2);
	cr_assert_not_null(ike_msg_notify(&m, NAT_DETECTION_DESTINATION_IP));
	cr_assert_eq(ike_msg_notify(&m, NAT_DETECTION_SOURCE_IP)->data.len, 20);
	cr_assert_null(ike_msg_notify(&m, INITIAL_CONTACT));
	cr_assert(!m.has_sk && !m.has_auth && !m.has_tsi);
}

Test(ike_msg, an_ike_auth_inner_chain_parses_back)
{
	struct ike_proposal esp = proposal(1, IKE_PROTO_ESP, 12, 128, 2, 0, 0);
	static const uint8_t spi[4] = { 0xc0, 0xff, 0xee, 0x01 }, id[] = "gw-a.example";
	struct ike_ts_set tsi = { 1, { { 7, 0, 0, 65535, { 198, 18, 1, 0 },
		{ 198, 18, 1, 255 }, 4 } } };
	struct ike_ts_set tsr = { 1, { { 7, 6, 443, 443, { 198, 18, 2, 0 },
		{ 198, 18, 2, 255 }, 4 } } };
	uint8_t buf[1024], auth[32], bad;
	struct ike_writer w;
	struct ike_msg m;
	size_t len;

	memset(auth, 0xa7, sizeof(auth));
	esp.transforms[esp.ntransforms++] = (struct ike_transform){ IKE_TF_ESN, 0, 0 };
	esp.spi.data = spi;
	esp.spi.len = 4;
	ike_w_inner(&w, buf, sizeof(buf));
	ike_w_id(&w, true, 2, id, sizeof(id) - 1);
	ike_w_auth(&w, 2, auth, sizeof(auth));
	ike_w_notify(&w, 0, INITIAL_CONTACT, NULL, 0, NULL, 0);
	ike_w_sa(&w, &esp, 1);
	ike_w_ts(&w, true, &tsi);
	ike_w_ts(&w, false, &tsr);
	len = ike_w_finish(&w);
	cr_assert_eq(w.first, IKE_PL_IDI);
	memset(&m, 0, sizeof(m));
	cr_assert_eq(ike_msg_parse_inner(buf, len, w.first, &m, &bad), IKE_PARSE_OK);
	cr_assert(m.has_idi && !m.has_idr);
	cr_assert_eq(m.idi_type, 2);
	cr_assert_eq(m.idi.len, sizeof(id) - 1);
	cr_assert_eq(memcmp(m.idi.data, id, m.idi.len), 0);
	cr_assert_eq(m.idi_body.len, m.idi.len + 4, "AUTH signs the ID payload from its type");
	cr_assert_eq(m.auth_method, 2);
	cr_assert_eq(m.auth.len, 32);
	cr_assert_not_null(ike_msg_notify(&m, INITIAL_CONTACT));
	cr_assert_eq(m.proposals[0].protocol, IKE_PROTO_ESP);
	cr_assert_eq(m.proposals[0].spi.len, 4);
	cr_assert_eq(memcmp(m.proposals[0].spi.data, spi, 4), 0);
	cr_assert_eq(m.proposals[0].transforms[2].type, IKE_TF_ESN);
	cr_assert(m.has_tsi && m.has_tsr);
	cr_assert_eq(m.tsi.ts[0].start[2], 1);
	cr_assert_eq(m.tsi.ts[0].end[3], 255);
	cr_assert_eq(m.tsr.ts[0].ip_protocol, 6);
	cr_assert_eq(m.tsr.ts[0].start_port, 443);
}

/* A header, one SK payload holding opaque bytes whose first inner payload is IDi. */
static size_t
build_sk(uint8_t *buf, size_t cap, size_t body)
{
	struct ike_header h = init_hdr;
	uint8_t blob[256];
	struct ike_writer w;
	size_t pl;

	h.exchange = IKE_AUTH;
	h.msgid = 1;
	h.spi_r = 0xfedcba9876543210ULL;
	memset(blob, 0xe5, sizeof(blob));
	ike_w_message(&w, buf, cap, &h);
	pl = ike_w_begin(&w, IKE_PL_SK, true);
	buf[pl] = IKE_PL_IDI;
	ike_w_bytes(&w, blob, body);
	ike_w_end(&w, pl);
	return ike_w_finish(&w);
}

Test(ike_msg, an_encrypted_payload_is_a_view_with_its_authenticated_header)
{
	uint8_t buf[512], bad;
	struct ike_msg m;
	size_t len = build_sk(buf, sizeof(buf), 80);

	cr_assert_eq(ike_msg_parse(buf, len, &m, &bad), IKE_PARSE_OK);
	cr_assert(m.has_sk);
	cr_assert_eq(m.sk_first, IKE_PL_IDI);
	cr_assert_eq(m.sk.len, 80);
	cr_assert_eq(m.sk_aad.len, IKE_HDR_LEN + 4);
	cr_assert_eq(m.sk_aad.data, buf);
	cr_assert_eq(m.hdr.spi_r, 0xfedcba9876543210ULL);
}

static enum ike_parse_result
parse(const uint8_t *buf, size_t len, uint8_t *bad)
{
	static struct ike_msg m;

	return ike_msg_parse(buf, len, &m, bad);
}

Test(ike_msg, every_truncation_is_refused)
{
	uint8_t buf[1024], bad;
	size_t len = build_init(buf, sizeof(buf)), cut;

	for (cut = 0; cut < len; cut++)
		cr_assert_neq(parse(buf, cut, &bad), IKE_PARSE_OK, "%zu of %zu octets", cut, len);
	/* The same with the length field telling the truth about the cut: the chain breaks. */
	for (cut = IKE_HDR_LEN + 1; cut < len; cut++) {
		uint8_t copy[1024];

		memcpy(copy, buf, cut);
		copy[24] = (uint8_t)(cut >> 24);
		copy[25] = (uint8_t)(cut >> 16);
		copy[26] = (uint8_t)(cut >> 8);
		copy[27] = (uint8_t)cut;
		cr_assert_neq(parse(copy, cut, &bad), IKE_PARSE_OK, "cut at %zu", cut);
	}
}

Test(ike_msg, the_header_is_checked)
{
	uint8_t buf[1024], bad;
	size_t len = build_init(buf, sizeof(buf));

	buf[17] = 0x10; /* IKEv1 */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_VERSION);
	buf[17] = 0x21; /* a newer minor version is fine (§2.5) */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_OK);
	buf[27]++;	/* longer than the datagram */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SHORT);
	buf[27] -= 2;	/* shorter than the datagram */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_LENGTH);
}

Test(ike_msg, payload_lengths_must_add_up)
{
	uint8_t buf[1024], bad;
	size_t len = build_init(buf, sizeof(buf));
	size_t sa_len = (size_t)buf[IKE_HDR_LEN + 2] << 8 | buf[IKE_HDR_LEN + 3];

	buf[IKE_HDR_LEN + 2] = 0;
	buf[IKE_HDR_LEN + 3] = 3; /* shorter than a generic header */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_LENGTH);
	cr_assert_eq(bad, IKE_PL_SA);
	buf[IKE_HDR_LEN + 2] = 0xff; /* past the end */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_LENGTH);
	buf[IKE_HDR_LEN + 2] = (uint8_t)(sa_len >> 8);
	buf[IKE_HDR_LEN + 3] = (uint8_t)(sa_len + 4); /* eats into the KE payload */
	cr_assert_neq(parse(buf, len, &bad), IKE_PARSE_OK);
}

Test(ike_msg, unknown_payloads_are_skipped_unless_critical)
{
	uint8_t buf[1024], bad;
	struct ike_writer w;
	struct ike_msg m;
	size_t pl, len;

	ike_w_message(&w, buf, sizeof(buf), &init_hdr);
	pl = ike_w_begin(&w, 200, false);
	ike_w_u32(&w, 0xdeadbeef);
	ike_w_end(&w, pl);
	len = ike_w_finish(&w);
	cr_assert_eq(ike_msg_parse(buf, len, &m, &bad), IKE_PARSE_OK);
	cr_assert_eq(m.nskipped, 1);
	buf[IKE_HDR_LEN + 1] = 0x80;
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_CRITICAL);
	cr_assert_eq(bad, 200, "the reply names the payload type");
}

Test(ike_msg, the_encrypted_payload_must_be_last)
{
	uint8_t buf[512], bad;
	size_t len = build_sk(buf, sizeof(buf), 64);

	/* Claim a shorter SK payload: octets follow it. */
	buf[IKE_HDR_LEN + 3] -= 8;
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SK_NOT_LAST);
}

Test(ike_msg, proposals_and_transforms_are_checked)
{
	uint8_t buf[1024], bad;
	size_t len = build_init(buf, sizeof(buf));
	size_t prop = IKE_HDR_LEN + 4;

	buf[prop] = 0; /* "last proposal" on the first of two */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX);
	buf[prop] = 2;
	buf[prop + 7] = 5; /* five transforms announced, four there */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX);
	buf[prop + 7] = 4;
	buf[prop + 8] = 0; /* the first transform says it is the last */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX);
	buf[prop + 8] = 3;
	buf[prop + 6] = 3; /* an SPI size that is no SPI size */
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX);
	buf[prop + 6] = 0;
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_OK);
}

static size_t
one_payload(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *body, size_t len)
{
	struct ike_writer w;
	size_t pl;

	ike_w_message(&w, buf, cap, &init_hdr);
	pl = ike_w_begin(&w, type, false);
	ike_w_bytes(&w, body, len);
	ike_w_end(&w, pl);
	return ike_w_finish(&w);
}

Test(ike_msg, bodies_are_checked)
{
	static const uint8_t ts_bad_type[] = { 1, 0, 0, 0, 9, 0, 0, 16, 0, 0, 255, 255,
		198, 18, 1, 0, 198, 18, 1, 255 };
	static const uint8_t ts_none[] = { 0, 0, 0, 0 };
	static const uint8_t del_esp8[] = { IKE_PROTO_ESP, 8, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t del_esp[] = { IKE_PROTO_ESP, 4, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t del_ike_spi[] = { IKE_PROTO_IKE, 4, 0, 1, 1, 2, 3, 4 };
	static const uint8_t notify_spi_long[] = { 3, 9, 0x40, 0x00, 1, 2, 3, 4 };
	uint8_t buf[512], nonce[300], bad;
	struct ike_msg m;
	size_t len;

	memset(nonce, 1, sizeof(nonce));
	len = one_payload(buf, sizeof(buf), IKE_PL_NONCE, nonce, 15);
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX, "a 15-octet nonce");
	len = one_payload(buf, sizeof(buf), IKE_PL_NONCE, nonce, 257);
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX, "a 257-octet nonce");
	len = one_payload(buf, sizeof(buf), IKE_PL_NONCE, nonce, 16);
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_OK, "a 16-octet nonce");
	len = one_payload(buf, sizeof(buf), IKE_PL_TSI, ts_bad_type, sizeof(ts_bad_type));
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX, "TS type 9");
	len = one_payload(buf, sizeof(buf), IKE_PL_TSR, ts_none, sizeof(ts_none));
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX, "no selectors");
	len = one_payload(buf, sizeof(buf), IKE_PL_DELETE, del_esp8, sizeof(del_esp8));
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX, "an 8-octet ESP SPI");
	len = one_payload(buf, sizeof(buf), IKE_PL_DELETE, del_ike_spi, sizeof(del_ike_spi));
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX, "an IKE delete with an SPI");
	len = one_payload(buf, sizeof(buf), IKE_PL_DELETE, del_esp, sizeof(del_esp));
	cr_assert_eq(ike_msg_parse(buf, len, &m, &bad), IKE_PARSE_OK);
	cr_assert_eq(m.deletes[0].count, 2);
	cr_assert_eq(m.deletes[0].spis.len, 8);
	len = one_payload(buf, sizeof(buf), IKE_PL_NOTIFY, notify_spi_long,
	    sizeof(notify_spi_long));
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX, "an SPI longer than the notify");
}

Test(ike_msg, repeated_singletons_and_floods_are_refused)
{
	uint8_t buf[4096], nonce[16], bad;
	struct ike_writer w;
	size_t len;
	int i;

	memset(nonce, 7, sizeof(nonce));
	ike_w_message(&w, buf, sizeof(buf), &init_hdr);
	ike_w_nonce(&w, nonce, sizeof(nonce));
	ike_w_nonce(&w, nonce, sizeof(nonce));
	len = ike_w_finish(&w);
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_SYNTAX, "two nonces");

	ike_w_message(&w, buf, sizeof(buf), &init_hdr);
	for (i = 0; i < IKE_MAX_PAYLOADS + 1; i++) {
		size_t pl = ike_w_begin(&w, IKE_PL_VENDOR, false);

		ike_w_end(&w, pl);
	}
	len = ike_w_finish(&w);
	cr_assert_eq(parse(buf, len, &bad), IKE_PARSE_TOO_MANY);
}

Test(ike_msg, the_writer_refuses_to_overflow)
{
	uint8_t buf[64];

	cr_assert_eq(build_init(buf, sizeof(buf)), 0, "nothing half-built");
}
