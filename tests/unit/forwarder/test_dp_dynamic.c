/* What dynamic SAs bring to the datapath: AES-GCM (RFC 4106) and extended sequence numbers
 * (RFC 4303 §2.2.1 and Appendix A, RFC 4302 §2.5.1). GCM refuses what it cannot be (wrong
 * keying material, an integrity algorithm beside it, a bundle), its IV is the sequence
 * number, a forgery counts as an authentication failure and moves no window; the receiver
 * infers the high half of an ESN across 2^32, the high half is authenticated though never
 * sent, and the sequence space ends at 2^64 - 1. */
#include <string.h>

#include <criterion/criterion.h>

#include "dp_fixture.h"
#include "dp_sa.h"

enum { OFF = 256, LEN = 100 };

static const uint8_t key[36] = "gcm-key-gcm-key-gcm-key-gcm-key-salt";

struct kind {
	enum dp_proto proto;
	enum dp_enc enc;
	enum dp_auth auth;
};

static const struct kind gcm128 = { DP_PROTO_ESP, DP_ENC_AES128_GCM, DP_AUTH_NONE };
static const struct kind gcm256 = { DP_PROTO_ESP, DP_ENC_AES256_GCM, DP_AUTH_NONE };
static const struct kind cbc_sha1 = { DP_PROTO_ESP, DP_ENC_AES128_CBC,
	DP_AUTH_HMAC_SHA1_96 };
static const struct kind ah_sha256 = { DP_PROTO_AH, DP_ENC_NULL, DP_AUTH_HMAC_SHA256_128 };

static struct dp_sa_params
params(const struct kind *k, enum dp_dir dir, bool esn, uint64_t seq_start, uint32_t window)
{
	return (struct dp_sa_params){
		.dir = dir, .proto = k->proto, .spi = 0x1000, .enc = k->enc, .enc_key = key,
		.enc_key_len = dp_enc_key_len(k->enc), .auth = k->auth, .auth_key = key,
		.auth_key_len = dp_auth_key_len(k->auth), .replay_window = window,
		.seq_start = seq_start, .esn = esn, .local = { 192, 0, 2, 1 },
		.remote = { 192, 0, 2, 2 },
	};
}

static struct dp_sa *
sa_of(const struct kind *k, enum dp_dir dir, bool esn, uint64_t seq_start, uint32_t window)
{
	struct dp_sa_params p = params(k, dir, esn, seq_start, window);
	char err[256] = "";
	struct dp_sa *sa = dp_sa_new(&p, err, sizeof(err));

	cr_assert_not_null(sa, "%s/%s: %s", dp_enc_name(k->enc), dp_auth_name(k->auth),
	    err);
	return sa;
}

/* The packet an SA of kind k sends as its number seq, in frame at OFF. */
static struct dp_pkt
packet_at(const struct kind *k, bool esn, uint64_t seq, uint8_t *frame, size_t cap)
{
	struct dp_sa *out = sa_of(k, DP_DIR_OUT, esn, seq - 1, 0);
	struct dp_pkt p = { frame, cap, OFF, 0 };
	enum dp_result r;

	p.len = inner_packet(frame + OFF, LEN, 0, false);
	r = dp_sa_encap(out, &p);
	cr_assert_eq(r, DP_OK, "encap %llu: %s", (unsigned long long)seq,
	    dp_result_name(r));
	cr_assert_eq(dp_sa_seq(out), seq);
	dp_sa_free(out);
	return p;
}

/* The receiver's verdict on the packet numbered seq (a copy: p stays as it was). */
static enum dp_result
receive(struct dp_sa *in, const struct kind *k, bool esn, uint64_t seq)
{
	uint8_t frame[1024];
	struct dp_pkt p = packet_at(k, esn, seq, frame, sizeof(frame));

	return dp_sa_decap(in, &p);
}

static const char *
kind_name(const struct kind *k)
{
	return k->proto == DP_PROTO_AH ? "ah" : dp_enc_name(k->enc);
}

Test(dp_dynamic, gcm_refuses_wrong_keys_integrity_and_bundles)
{
	static const size_t wrong[][3] = { { 16, 21, 36 }, { 24, 20, 36 }, { 32, 20, 35 } };
	static const enum dp_enc gcms[] = { DP_ENC_AES128_GCM, DP_ENC_AES192_GCM,
		DP_ENC_AES256_GCM };
	struct dp_sa_params p;
	char err[256];
	size_t i, j;

	for (i = 0; i < 3; i++) {
		struct kind k = { DP_PROTO_ESP, gcms[i], DP_AUTH_NONE };

		for (j = 0; j < 3; j++) {
			p = params(&k, DP_DIR_IN, true, 0, 64);
			p.enc_key_len = wrong[i][j];
			err[0] = '\0';
			cr_assert_null(dp_sa_new(&p, err, sizeof(err)), "%s with %zu bytes",
			    dp_enc_name(k.enc), wrong[i][j]);
			cr_assert_not_null(strstr(err, "salt"), "say why: %s", err);
		}
		/* The right length: the key and its salt. */
		p = params(&k, DP_DIR_IN, true, 0, 64);
		cr_assert_eq(p.enc_key_len, 16 + 8 * i + 4);
		dp_sa_free(sa_of(&k, DP_DIR_IN, true, 0, 64));
	}
	p = params(&(struct kind){ DP_PROTO_ESP, DP_ENC_AES128_GCM, DP_AUTH_HMAC_SHA1_96 },
	    DP_DIR_OUT, true, 0, 0);
	cr_assert_null(dp_sa_new(&p, err, sizeof(err)), "GCM with an HMAC");
	cr_assert_not_null(strstr(err, "no authentication algorithm"), "%s", err);
	p = params(&(struct kind){ DP_PROTO_BUNDLE, DP_ENC_AES256_GCM,
	    DP_AUTH_HMAC_SHA1_96 }, DP_DIR_OUT, true, 0, 0);
	cr_assert_null(dp_sa_new(&p, err, sizeof(err)), "GCM as a bundle's ESP");
	cr_assert_not_null(strstr(err, "bundle"), "%s", err);
}

/* RFC 4106 §3.1: the IV never repeats under a key. It is the 64-bit sequence number: the
 * wire carries its low half in the header and all of it in the IV, nothing random. */
Test(dp_dynamic, the_gcm_iv_is_the_sequence_number)
{
	static const uint64_t seqs[] = { 1, 2, UINT32_MAX, UINT64_C(1) << 32,
		(UINT64_C(1) << 32) + 1, UINT64_MAX };
	uint8_t frame[1024], *esp;
	size_t i;

	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		struct dp_pkt p = packet_at(&gcm256, seqs[i] > UINT32_MAX, seqs[i], frame,
		    sizeof(frame));
		uint64_t iv = 0;
		int b;

		esp = dp_pkt_data(&p) + 20;
		for (b = 0; b < 8; b++)
			iv = iv << 8 | esp[8 + b];
		cr_assert_eq(iv, seqs[i], "IV %016llx for number %016llx",
		    (unsigned long long)iv, (unsigned long long)seqs[i]);
		cr_assert_eq(dp_get32(esp + 4), (uint32_t)seqs[i], "the header: the low half");
		/* Outer IPv4, SPI and number, IV, payload, 2 of padding, trailer, ICV. */
		cr_assert_eq(p.len, 20 + 8 + 8 + LEN + 2 + 2 + 16);
	}
}

/* Every octet from the sequence number to the end of the ICV is covered: a change to any
 * is an authentication failure, counted, and the window stays where it was. */
static void
forgeries_move_nothing(const struct kind *k, bool esn, uint64_t base)
{
	uint8_t frame[1024], copy[1024];
	struct dp_sa *in = sa_of(k, DP_DIR_IN, esn, 0, 64);
	struct dp_pkt p;
	size_t len, i;

	/* The receiver is at base: a genuine base + 100 would slide base - 10 out. */
	cr_assert_eq(receive(in, k, esn, base), DP_OK);
	p = packet_at(k, esn, base + 100, frame, sizeof(frame));
	len = p.len;
	memcpy(copy, dp_pkt_data(&p), len);
	for (i = 20 + 4; i < len; i++) {
		struct dp_pkt f = { frame, sizeof(frame), OFF, len };

		memcpy(frame + OFF, copy, len);
		frame[OFF + i] ^= 0x10;
		cr_assert_eq(dp_sa_decap(in, &f), DP_DROP_AUTH, "%s: octet %zu changed",
		    kind_name(k), i);
	}
	cr_assert_eq(dp_sa_counters(in)->esp_auth_failures, len - 24);
	cr_assert_eq(dp_sa_counters(in)->esp_packets, 1, "only the genuine packet counted");
	cr_assert_eq(receive(in, k, esn, base - 10), DP_OK, "%s: the window did not move",
	    kind_name(k));
	/* The genuine one moves it, once. Then base - 9 is left of the window (with ESN its
	 * low half reads as the next block's, and the ICV refuses it). */
	p = (struct dp_pkt){ frame, sizeof(frame), OFF, len };
	memcpy(frame + OFF, copy, len);
	cr_assert_eq(dp_sa_decap(in, &p), DP_OK);
	cr_assert_eq(receive(in, k, esn, base + 100), DP_DROP_REPLAY);
	cr_assert_eq(receive(in, k, esn, base - 9), esn ? DP_DROP_AUTH : DP_DROP_REPLAY,
	    "%s: left of the window now", kind_name(k));
	cr_assert_eq(dp_sa_counters(in)->replay_errors, esn ? 1 : 2);
	dp_sa_free(in);
}

Test(dp_dynamic, a_tampered_gcm_packet_fails_and_moves_no_window)
{
	forgeries_move_nothing(&gcm128, false, 1000);
	forgeries_move_nothing(&gcm256, true, 1000);
	/* The forgeries past 2^32: the AAD carries a high half the header does not. */
	forgeries_move_nothing(&gcm128, true, (UINT64_C(1) << 32) - 20);
}

/* RFC 4303 A2.1 through one receiver (window 64): within one 2^32 block, across into the
 * next, late packets from the block before, and what lies left of the window. */
static void
high_half_inference(const struct kind *k)
{
	const uint64_t b = UINT64_C(1) << 32;
	struct dp_sa *in = sa_of(k, DP_DIR_IN, true, 0, 64);
	const struct dp_sa_counters *c = dp_sa_counters(in);
	const char *n = kind_name(k);

	cr_assert_eq(receive(in, k, true, b - 10), DP_OK, "%s: the window in block 0", n);
	cr_assert_eq(receive(in, k, true, b + 5), DP_OK, "%s: into block 1", n);
	/* Now the window spans both blocks (case B). */
	cr_assert_eq(receive(in, k, true, b - 3), DP_OK, "%s: late, from block 0", n);
	cr_assert_eq(receive(in, k, true, b), DP_OK, "%s: low half 0 is a number too", n);
	cr_assert_eq(receive(in, k, true, b - 10), DP_DROP_REPLAY, "%s: seen, block 0", n);
	cr_assert_eq(receive(in, k, true, b + 5), DP_DROP_REPLAY, "%s: seen, block 1", n);
	/* Left of the window: its low half reads as block 1's, far ahead, and the ICV (over
	 * the wrong high half) refuses it without moving the window. */
	cr_assert_eq(receive(in, k, true, b - 70), DP_DROP_AUTH, "%s: 2^32 - 70", n);
	cr_assert_eq(receive(in, k, true, b - 2), DP_OK, "%s: the window did not move", n);
	/* Within block 1 now (case A): its last place is top - 63; below, a low half reads
	 * as the next block's, and fails the same way. */
	cr_assert_eq(receive(in, k, true, b + 70), DP_OK, "%s", n);
	cr_assert_eq(receive(in, k, true, b + 7), DP_OK, "%s: the window's last place", n);
	cr_assert_eq(receive(in, k, true, b + 6), DP_DROP_AUTH, "%s: left of it", n);
	cr_assert_eq(receive(in, k, true, b - 1), DP_DROP_AUTH, "%s: block 0 is gone", n);
	cr_assert_eq(receive(in, k, true, b + 7), DP_DROP_REPLAY, "%s", n);
	cr_assert_eq(c->esp_auth_failures + c->ah_auth_failures, 3);
	cr_assert_eq(c->replay_errors, 3);
	dp_sa_free(in);
}

Test(dp_dynamic, esn_high_half_is_inferred_across_2_32)
{
	high_half_inference(&gcm128);
	high_half_inference(&cbc_sha1);
	high_half_inference(&ah_sha256);
}

/* Without anti-replay there is no window to infer from but the top: half the space. */
Test(dp_dynamic, esn_without_anti_replay_infers_from_the_top)
{
	const uint64_t b = UINT64_C(1) << 32;
	struct dp_sa *in = sa_of(&gcm128, DP_DIR_IN, true, 0, 0);

	cr_assert_eq(receive(in, &gcm128, true, b - 5), DP_OK);
	cr_assert_eq(receive(in, &gcm128, true, b + 5), DP_OK);
	cr_assert_eq(receive(in, &gcm128, true, b - 4), DP_OK, "no window refuses it");
	cr_assert_eq(receive(in, &gcm128, true, b + 5), DP_OK, "nor a repeat");
	dp_sa_free(in);
}

/* RFC 4303 §2.2.1, RFC 4302 §2.5.1: the high half is in the ICV but not on the wire. A
 * packet numbered 2^32 + 3 is the size of one numbered 3, and a receiver that takes it for
 * 3 (a fresh window) fails to authenticate it. */
Test(dp_dynamic, the_high_half_is_authenticated_not_sent)
{
	const struct kind *kinds[] = { &gcm128, &cbc_sha1, &ah_sha256 };
	uint8_t frame[1024], low[1024];
	size_t i;

	for (i = 0; i < 3; i++) {
		const struct kind *k = kinds[i];
		struct dp_pkt lo = packet_at(k, true, 3, low, sizeof(low));
		struct dp_pkt hi = packet_at(k, true, (UINT64_C(1) << 32) + 3, frame,
		    sizeof(frame));
		struct dp_sa *fresh = sa_of(k, DP_DIR_IN, true, 0, 64);
		struct dp_sa *primed = sa_of(k, DP_DIR_IN, true, 0, 64);
		size_t at = k->proto == DP_PROTO_AH ? 20 + 8 : 20 + 4;

		cr_assert_eq(hi.len, lo.len, "%s: nothing more is sent", kind_name(k));
		cr_assert(memcmp(dp_pkt_data(&hi) + at, dp_pkt_data(&lo) + at, 4) == 0,
		    "%s: the same low half on the wire", kind_name(k));
		cr_assert_eq(dp_sa_decap(fresh, &hi), DP_DROP_AUTH, "%s", kind_name(k));
		cr_assert_eq(receive(primed, k, true, UINT32_MAX), DP_OK);
		hi = packet_at(k, true, (UINT64_C(1) << 32) + 3, frame, sizeof(frame));
		cr_assert_eq(dp_sa_decap(primed, &hi), DP_OK, "%s", kind_name(k));
		dp_sa_free(fresh);
		dp_sa_free(primed);
	}
}

Test(dp_dynamic, the_esn_space_ends_at_2_64_minus_1)
{
	uint8_t frame[1024];
	struct dp_sa *out = sa_of(&gcm128, DP_DIR_OUT, true, UINT64_MAX - 1, 0);
	struct dp_pkt p = { frame, sizeof(frame), OFF, 60 };

	inner_packet(frame + OFF, p.len, 0, false);
	cr_assert_eq(dp_sa_encap(out, &p), DP_OK);
	cr_assert_eq(dp_sa_seq(out), UINT64_MAX);
	p = (struct dp_pkt){ frame, sizeof(frame), OFF, 60 };
	inner_packet(frame + OFF, p.len, 0, false);
	cr_assert_eq(dp_sa_encap(out, &p), DP_DROP_SEQ, "no wrap: IVs would repeat");
	cr_assert_eq(dp_sa_counters(out)->seq_exhausted, 1);
	dp_sa_free(out);
	/* Without ESN the end is 2^32 - 1, for GCM as for the others. */
	out = sa_of(&gcm128, DP_DIR_OUT, false, UINT32_MAX, 0);
	p = (struct dp_pkt){ frame, sizeof(frame), OFF, 60 };
	inner_packet(frame + OFF, p.len, 0, false);
	cr_assert_eq(dp_sa_encap(out, &p), DP_DROP_SEQ);
	dp_sa_free(out);
}
