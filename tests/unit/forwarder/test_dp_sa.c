/* SAs end to end in one process: every protocol, cipher, MAC and mode the configuration
 * accepts, wrapped by an outbound SA and opened by its inbound twin; then what must be
 * dropped (forged, replayed, truncated, too big) and what each drop counts. */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "dp_fixture.h"
#include "dp_sa.h"

static const uint8_t gw_a[4] = { 192, 0, 2, 1 }, gw_b[4] = { 192, 0, 2, 2 };
static uint8_t enc_key[36], auth_key[32]; /* enc_key: AES-256 and a GCM salt */

struct combo {
	enum dp_proto proto;
	enum dp_mode mode;
	enum dp_enc enc;
	enum dp_auth auth;
	bool udp;
};

static struct dp_sa *
make_sa(const struct combo *c, enum dp_dir dir, uint32_t window, uint64_t seq_start,
    bool esn)
{
	struct dp_sa_params p = {
		.dir = dir, .proto = c->proto, .mode = c->mode, .spi = 0x1000, .aux_spi = 0x2000,
		.enc = c->enc, .enc_key = enc_key, .enc_key_len = dp_enc_key_len(c->enc),
		.auth = c->auth, .auth_key = auth_key, .auth_key_len = dp_auth_key_len(c->auth),
		.replay_window = window, .seq_start = seq_start, .esn = esn, .ttl = 32,
	};
	char err[256] = "";
	struct dp_sa *sa;

	memcpy(p.local, dir == DP_DIR_OUT ? gw_a : gw_b, 4);
	memcpy(p.remote, dir == DP_DIR_OUT ? gw_b : gw_a, 4);
	if (c->udp) {
		p.encap_sport = 4500;
		p.encap_dport = 4500;
	}
	sa = dp_sa_new(&p, err, sizeof(err));
	cr_assert_not_null(sa, "%s/%s/%s: %s", c->proto == DP_PROTO_ESP ? "esp" :
	    c->proto == DP_PROTO_AH ? "ah" : "bundle", dp_enc_name(c->enc),
	    dp_auth_name(c->auth), err);
	return sa;
}

static bool
valid_combo(const struct combo *c)
{
	if (c->proto != DP_PROTO_ESP && c->auth == DP_AUTH_NONE)
		return false;
	if (c->proto == DP_PROTO_ESP && c->enc == DP_ENC_NULL && c->auth == DP_AUTH_NONE)
		return false;
	if (c->proto == DP_PROTO_AH && c->enc != DP_ENC_NULL)
		return false; /* AH does not encrypt: one case is enough */
	if (c->proto == DP_PROTO_BUNDLE && (c->enc == DP_ENC_NULL || dp_enc_is_aead(c->enc)))
		return false;
	if (dp_enc_is_aead(c->enc) && c->auth != DP_AUTH_NONE)
		return false; /* GCM is its own integrity (test_dp_dynamic.c: refused) */
	return !(c->udp && c->proto != DP_PROTO_ESP);
}

/* Wraps an inner packet of len bytes and opens it again; checks the outer header. */
static void
round_trip(const struct combo *c, size_t len)
{
	uint8_t frame[4096], inner[2048];
	struct dp_sa *out = make_sa(c, DP_DIR_OUT, 0, 0, false);
	struct dp_sa *in = make_sa(c, DP_DIR_IN, 64, 0, false);
	struct dp_pkt p = { frame, sizeof(frame), 256, 0 };
	uint8_t want_proto = c->udp ? 17 : c->proto == DP_PROTO_ESP ? 50 : 51;
	enum dp_result r;
	int k;

	inner_packet(inner, len, 0xb8, true);
	for (k = 0; k < 3; k++) {
		memcpy(frame + p.off, inner, len);
		p.off = 256;
		p.len = len; /* transport mode keeps this header in front */
		r = dp_sa_encap(out, &p);
		cr_assert_eq(r, DP_OK, "encap: %s", dp_result_name(r));
		cr_assert_eq(dp_pkt_data(&p)[9], want_proto);
		if (c->mode == DP_MODE_TUNNEL) {
			cr_assert(memcmp(dp_pkt_data(&p) + 12, gw_a, 4) == 0);
			cr_assert(memcmp(dp_pkt_data(&p) + 16, gw_b, 4) == 0);
			cr_assert_eq(dp_pkt_data(&p)[8], 32, "the configured TTL");
			cr_assert_eq(dp_pkt_data(&p)[1], 0xb8, "TOS copied from the inner header");
			cr_assert_eq(dp_pkt_data(&p)[6] & 0x40, 0x40, "DF copied");
		}
		cr_assert_eq(p.len, len + dp_sa_overhead(out, c->mode == DP_MODE_TUNNEL ? len :
		    len - 20));
		r = dp_sa_decap(in, &p);
		cr_assert_eq(r, DP_OK, "decap: %s", dp_result_name(r));
		cr_assert_eq(p.len, len);
		cr_assert(memcmp(dp_pkt_data(&p), inner, len) == 0, "the inner packet changed");
	}
	cr_assert_eq(dp_sa_seq(out), 3);
	cr_assert_eq(dp_sa_counters(in)->esp_packets + dp_sa_counters(in)->ah_packets,
	    c->proto == DP_PROTO_BUNDLE ? 6 : 3);
	dp_sa_free(out);
	dp_sa_free(in);
}

Test(dp_sa, every_combination_round_trips)
{
	static const enum dp_proto protos[] = { DP_PROTO_ESP, DP_PROTO_AH, DP_PROTO_BUNDLE };
	static const size_t lens[] = { 20, 21, 64, 77, 1400 };
	struct combo c;
	unsigned pi, e, a, m, u, l, n = 0;

	memset(enc_key, 0x11, sizeof(enc_key));
	memset(auth_key, 0x22, sizeof(auth_key));
	for (pi = 0; pi < 3; pi++)
		for (e = 0; e < DP_ENC_COUNT; e++)
			for (a = 0; a < DP_AUTH_COUNT; a++)
				for (m = 0; m < 2; m++)
					for (u = 0; u < 2; u++) {
						c = (struct combo){ protos[pi], m ? DP_MODE_TRANSPORT :
						    DP_MODE_TUNNEL, e, a, u != 0 };
						if (!valid_combo(&c))
							continue;
						for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
							round_trip(&c, lens[l]);
						n++;
					}
	cr_assert_geq(n, 176, "only %u combinations", n);
}

static const struct combo esp_sha1 = { DP_PROTO_ESP, DP_MODE_TUNNEL, DP_ENC_AES128_CBC,
	DP_AUTH_HMAC_SHA1_96, false };

/* One wrapped packet in frame; returns its length (at off 256). */
static size_t
wrapped(struct dp_sa *out, uint8_t *frame, size_t cap, size_t len)
{
	struct dp_pkt p = { frame, cap, 256, 0 };

	p.len = inner_packet(frame + 256, len, 0, false);
	cr_assert_eq(dp_sa_encap(out, &p), DP_OK);
	cr_assert_eq(p.off, 256 - 20 - 8 - 16, "outer IPv4 + ESP header + IV in front");
	return p.len;
}

Test(dp_sa, a_flipped_bit_anywhere_fails_authentication)
{
	uint8_t frame[2048], copy[2048];
	struct dp_sa *out = make_sa(&esp_sha1, DP_DIR_OUT, 0, 0, false);
	struct dp_sa *in = make_sa(&esp_sha1, DP_DIR_IN, 64, 0, false);
	size_t len, i;

	memset(enc_key, 0x33, sizeof(enc_key));
	dp_sa_free(out);
	dp_sa_free(in);
	out = make_sa(&esp_sha1, DP_DIR_OUT, 0, 0, false);
	in = make_sa(&esp_sha1, DP_DIR_IN, 64, 0, false);
	len = wrapped(out, frame, sizeof(frame), 100);
	memcpy(copy, frame + 212, len);
	/* Past the outer header (whose damage is a bad header) every bit counts. */
	for (i = 20 + 8; i < len; i++) {
		struct dp_pkt p = { frame, sizeof(frame), 212, len };

		memcpy(frame + 212, copy, len);
		frame[212 + i] ^= 0x01;
		cr_assert_eq(dp_sa_decap(in, &p), DP_DROP_AUTH, "byte %zu", i);
	}
	cr_assert_eq(dp_sa_counters(in)->esp_auth_failures, len - 28);
	/* The original still opens: the forgeries did not move the window. */
	{
		struct dp_pkt p = { frame, sizeof(frame), 212, len };

		memcpy(frame + 212, copy, len);
		cr_assert_eq(dp_sa_decap(in, &p), DP_OK);
		p = (struct dp_pkt){ frame, sizeof(frame), 212, len };
		memcpy(frame + 212, copy, len);
		cr_assert_eq(dp_sa_decap(in, &p), DP_DROP_REPLAY, "the same packet twice");
		cr_assert_eq(dp_sa_counters(in)->replay_errors, 1);
	}
	dp_sa_free(out);
	dp_sa_free(in);
}

Test(dp_sa, every_truncation_is_dropped_and_counted)
{
	uint8_t frame[2048], copy[2048];
	struct dp_sa *out = make_sa(&esp_sha1, DP_DIR_OUT, 0, 0, false);
	struct dp_sa *in = make_sa(&esp_sha1, DP_DIR_IN, 64, 0, false);
	size_t len = wrapped(out, frame, sizeof(frame), 200), cut;
	enum dp_result r;

	memcpy(copy, frame + 212, len);
	for (cut = 0; cut < len; cut++) {
		/* The IPv4 total length is rewritten to match, or it alone would refuse. */
		struct dp_pkt p = { frame, 212 + cut, 212, cut };

		memcpy(frame + 212, copy, cut);
		if (cut >= 4) {
			frame[212 + 2] = (uint8_t)(cut >> 8);
			frame[212 + 3] = (uint8_t)cut;
		}
		r = dp_sa_decap(in, &p);
		cr_assert_neq(r, DP_OK, "%zu of %zu bytes opened", cut, len);
	}
	dp_sa_free(out);
	dp_sa_free(in);
}

Test(dp_sa, too_big_for_the_tunnel_mtu_is_left_as_it_was)
{
	struct dp_sa_params p = { .dir = DP_DIR_OUT, .proto = DP_PROTO_ESP, .spi = 0x1000,
		.enc = DP_ENC_AES128_CBC, .enc_key = enc_key, .enc_key_len = 16,
		.auth = DP_AUTH_HMAC_SHA1_96, .auth_key = auth_key, .auth_key_len = 20,
		.tunnel_mtu = 1400 };
	uint8_t frame[4096], inner[1500];
	struct dp_pkt pk = { frame, sizeof(frame), 256, 0 };
	char err[256];
	struct dp_sa *sa = dp_sa_new(&p, err, sizeof(err));

	cr_assert_not_null(sa, "%s", err);
	pk.len = inner_packet(inner, 1400, 0, true);
	memcpy(frame + 256, inner, pk.len);
	cr_assert_eq(dp_sa_encap(sa, &pk), DP_DROP_MTU);
	cr_assert_eq(pk.off, 256);
	cr_assert_eq(pk.len, 1400);
	cr_assert(memcmp(frame + 256, inner, 1400) == 0);
	cr_assert_eq(dp_sa_counters(sa)->mtu_exceeded, 1);
	cr_assert_eq(dp_sa_seq(sa), 0, "no sequence number spent on it");
	/* The largest that fits: 1400 - overhead. */
	pk.len = inner_packet(frame + 256, 1400 - 20 - 8 - 16 - 2 - 12 - 14, 0, true);
	cr_assert_eq(dp_sa_encap(sa, &pk), DP_OK, "%zu", pk.len);
	cr_assert_leq(pk.len, 1400);
	dp_sa_free(sa);
}

Test(dp_sa, the_sequence_space_ends_without_wrapping)
{
	uint8_t frame[1024];
	struct dp_sa *out = make_sa(&esp_sha1, DP_DIR_OUT, 0, UINT32_MAX - 1, false);
	struct dp_pkt p = { frame, sizeof(frame), 256, 0 };

	p.len = inner_packet(frame + 256, 60, 0, false);
	cr_assert_eq(dp_sa_encap(out, &p), DP_OK);
	cr_assert_eq(dp_sa_seq(out), UINT32_MAX);
	p = (struct dp_pkt){ frame, sizeof(frame), 256, inner_packet(frame + 256, 60, 0, false) };
	cr_assert_eq(dp_sa_encap(out, &p), DP_DROP_SEQ);
	cr_assert_eq(dp_sa_counters(out)->seq_exhausted, 1);
	dp_sa_free(out);
}

Test(dp_sa, extended_sequence_numbers_cross_the_32_bit_boundary)
{
	uint8_t frame[1024];
	uint64_t start = UINT32_MAX - 2;
	struct dp_sa *out = make_sa(&esp_sha1, DP_DIR_OUT, 0, start, true);
	struct dp_sa *in = make_sa(&esp_sha1, DP_DIR_IN, 64, 0, true);
	int i;

	/* The receiver has seen up to start (the window's top, as after earlier traffic). */
	{
		struct dp_sa *warm = make_sa(&esp_sha1, DP_DIR_OUT, 0, start - 1, true);
		struct dp_pkt p = { frame, sizeof(frame), 256, 0 };

		p.len = inner_packet(frame + 256, 60, 0, false);
		cr_assert_eq(dp_sa_encap(warm, &p), DP_OK);
		cr_assert_eq(dp_sa_decap(in, &p), DP_OK);
		dp_sa_free(warm);
	}
	for (i = 0; i < 6; i++) {
		struct dp_pkt p = { frame, sizeof(frame), 256, 0 };

		p.len = inner_packet(frame + 256, 60, 0, false);
		cr_assert_eq(dp_sa_encap(out, &p), DP_OK);
		cr_assert_eq(dp_sa_decap(in, &p), DP_OK, "packet %d (seq %llu)", i,
		    (unsigned long long)(start + 1 + (uint64_t)i));
	}
	cr_assert_gt(dp_sa_seq(out), UINT32_MAX);
	dp_sa_free(out);
	dp_sa_free(in);
}

Test(dp_sa, wrong_direction_protocol_or_spi_is_a_bad_header)
{
	uint8_t frame[2048];
	struct dp_sa *out = make_sa(&esp_sha1, DP_DIR_OUT, 0, 0, false);
	struct dp_sa *in = make_sa(&esp_sha1, DP_DIR_IN, 64, 0, false);
	size_t len = wrapped(out, frame, sizeof(frame), 100);
	struct dp_pkt p = { frame, sizeof(frame), 212, len };

	cr_assert_eq(dp_sa_decap(out, &p), DP_DROP_HEADER, "an outbound SA opens nothing");
	frame[212 + 20 + 3] ^= 1; /* the SPI */
	cr_assert_eq(dp_sa_decap(in, &p), DP_DROP_HEADER);
	cr_assert_eq(dp_sa_counters(in)->bad_headers, 1);
	dp_sa_free(out);
	dp_sa_free(in);
}

/* The outer TTL: the configured one, or the inner packet's with
 * copy-ttl-from-inner-ip-header (ttl 0). */
Test(dp_sa, the_outer_ttl_is_configured_or_copied)
{
	static const struct combo esp = { DP_PROTO_ESP, DP_MODE_TUNNEL, DP_ENC_AES128_CBC,
		DP_AUTH_HMAC_SHA1_96, false };
	struct dp_sa_params p;
	uint8_t frame[2048];
	struct dp_pkt pkt = { frame, sizeof(frame), 256, 0 };
	struct dp_sa *sa = make_sa(&esp, DP_DIR_OUT, 0, 0, false), *copy;
	char err[256];

	pkt.len = inner_packet(frame + 256, 100, 0, false);
	cr_assert_eq(dp_sa_encap(sa, &pkt), DP_OK);
	cr_assert_eq(dp_pkt_data(&pkt)[8], 32, "the configured TTL");
	p = *dp_sa_params(sa);
	p.ttl = 0;
	p.enc_key = enc_key;
	p.enc_key_len = dp_enc_key_len(esp.enc);
	p.auth_key = auth_key;
	p.auth_key_len = dp_auth_key_len(esp.auth);
	copy = dp_sa_new(&p, err, sizeof(err));
	cr_assert_not_null(copy, "%s", err);
	pkt.off = 256;
	pkt.len = inner_packet(frame + 256, 100, 0, false);
	cr_assert_eq(dp_sa_encap(copy, &pkt), DP_OK);
	cr_assert_eq(dp_pkt_data(&pkt)[8], 63, "copied from the inner header");
	dp_sa_free(sa);
	dp_sa_free(copy);
}

/* A replacement under the same keys takes the replay window over: what the old SA
 * accepted, the new one refuses. */
Test(dp_sa, a_replacement_keeps_the_replay_window)
{
	static const struct combo esp = { DP_PROTO_ESP, DP_MODE_TUNNEL, DP_ENC_AES128_CBC,
		DP_AUTH_HMAC_SHA1_96, false };
	struct dp_sa *out = make_sa(&esp, DP_DIR_OUT, 0, 0, false);
	struct dp_sa *in = make_sa(&esp, DP_DIR_IN, 64, 0, false);
	struct dp_sa *in2 = make_sa(&esp, DP_DIR_IN, 64, 0, false);
	struct dp_sa *in3 = make_sa(&esp, DP_DIR_IN, 128, 0, false);
	uint8_t frame[2048], saved[2048];
	struct dp_pkt pkt = { frame, sizeof(frame), 256, 0 };
	size_t len, off;

	pkt.len = inner_packet(frame + 256, 80, 0, false);
	cr_assert_eq(dp_sa_encap(out, &pkt), DP_OK);
	memcpy(saved, frame, sizeof(frame));
	len = pkt.len;
	off = pkt.off;
	cr_assert_eq(dp_sa_decap(in, &pkt), DP_OK);
	dp_sa_inherit(in2, in);
	dp_sa_inherit(in3, in);
	memcpy(frame, saved, sizeof(frame));
	pkt = (struct dp_pkt){ frame, sizeof(frame), off, len };
	cr_assert_eq(dp_sa_decap(in2, &pkt), DP_DROP_REPLAY, "same window size: the same state");
	memcpy(frame, saved, sizeof(frame));
	pkt = (struct dp_pkt){ frame, sizeof(frame), off, len };
	cr_assert_eq(dp_sa_decap(in3, &pkt), DP_DROP_REPLAY, "another size: all up to the top");
	cr_assert_eq(dp_sa_lifetime_bytes(in2), dp_sa_lifetime_bytes(in));
	dp_sa_clear_counters(in);
	cr_assert_eq(dp_sa_lifetime_bytes(in), dp_sa_lifetime_bytes(in2),
	    "clearing statistics does not restart a lifetime");
	dp_sa_free(out);
	dp_sa_free(in);
	dp_sa_free(in2);
	dp_sa_free(in3);
}
