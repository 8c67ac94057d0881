/* ESP packets from RFC 3602 §4, cases 5 to 8 (AES-128-CBC, no integrity): with the IV the
 * RFC gives, dp_esp_wrap must produce its packet to the byte, padding included, and
 * dp_esp_unwrap must give back its payload and next header. Then AES-GCM packets (RFC 4106,
 * with and without ESN) whose bytes Python's `cryptography` computed from the RFCs'
 * layouts, not from picsec's code. */
#include "dp_sa_impl.h"
#include "vectors.h"

struct esp_case {
	const char *key, *iv;
	uint32_t spi, seq;
	uint8_t next;
	const char *payload, *packet;
};

static const struct esp_case cases[] = {
	{ /* case 5: ICMP echo request, 64 bytes, transport */
		"90d382b410eeba7ad938c46cec1a82bf", "e96e8c08ab465763fd098d45dd3ff893",
		0x4321, 1, 1,
		"08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f3031323334353637",
		"0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849"
		"a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c"
		"538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6" },
	{ /* case 6: ICMP echo request, 28 bytes, transport */
		"90d382b410eeba7ad938c46cec1a82bf", "69d08df7d203329db093fc4924e5bd80",
		0x4321, 8, 1,
		"0800b5e8a80a0500a69c083d0b660e00777777777777777777777777",
		"000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109"
		"689bb379d2d750c0d915dca346a89f75" },
	{ /* case 7: an IPv4 packet, 84 bytes, tunnel */
		"0123456789abcdef0123456789abcdef", "f4e765244f6407adf13dc1380f673f37",
		0x8765, 2, 4,
		"45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b"
		"0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233"
		"34353637",
		"0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c"
		"237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b"
		"8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d" },
	{ /* case 8: an IPv4 packet, 68 bytes, tunnel */
		"0123456789abcdef0123456789abcdef", "85d47224b5f3dd5d2101d4ea8dffab22",
		0x8765, 5, 4,
		"45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffff"
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048f"
		"e45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de"
		"435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892" },
};

static struct dp_sa *
case_sa(const struct esp_case *c, enum dp_dir dir)
{
	struct dp_sa_params p = { .dir = dir, .proto = DP_PROTO_ESP, .spi = c->spi,
		.enc = DP_ENC_AES128_CBC, .auth = DP_AUTH_NONE, .replay_window = 64 };
	uint8_t key[16];
	char err[256] = "";
	struct dp_sa *sa;

	p.enc_key = key;
	p.enc_key_len = unhex(c->key, key, sizeof(key));
	sa = dp_sa_new(&p, err, sizeof(err));
	cr_assert_not_null(sa, "%s", err);
	return sa;
}

Test(vectors, esp_aes_cbc_packets_rfc3602)
{
	uint8_t frame[512], payload[256], packet[256], iv[16];
	size_t i, plen, klen;
	uint64_t seq;
	uint8_t next;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct esp_case *c = &cases[i];
		struct dp_sa *out = case_sa(c, DP_DIR_OUT), *in = case_sa(c, DP_DIR_IN);
		struct dp_pkt p = { frame, sizeof(frame), 128, 0 };

		plen = unhex(c->payload, payload, sizeof(payload));
		klen = unhex(c->packet, packet, sizeof(packet));
		unhex(c->iv, iv, sizeof(iv));
		memcpy(frame + p.off, payload, plen);
		p.len = plen;
		cr_assert_eq(dp_esp_wrap(out, &p, c->spi, c->next, c->seq, false, iv), DP_OK);
		cr_assert_eq(p.len, klen, "case %zu: %zu bytes, the RFC has %zu", i + 5, p.len,
		    klen);
		assert_bytes(dp_pkt_data(&p), packet, klen, "the ESP packet");

		memset(frame, 0, sizeof(frame));
		memcpy(frame + 64, packet, klen);
		p = (struct dp_pkt){ frame, sizeof(frame), 64, klen };
		cr_assert_eq(dp_esp_unwrap(in, &p, false, &seq, &next), DP_OK, "case %zu", i + 5);
		cr_assert_eq(seq, c->seq);
		cr_assert_eq(next, c->next);
		cr_assert_eq(p.len, plen);
		assert_bytes(dp_pkt_data(&p), payload, plen, "the payload");
		dp_sa_free(out);
		dp_sa_free(in);
	}
}

/* RFC 4106 publishes no packets. These come from python3-cryptography's AESGCM, with the
 * layout written from RFC 4303 §2 and RFC 4106 §3-5:
 *
 *   pad = -(len(payload) + 2) % 4
 *   body = payload + bytes(range(1, pad + 1)) + bytes([pad, nh])
 *   iv = seq.to_bytes(8, "big"); lo = (seq & 0xffffffff).to_bytes(4, "big")
 *   aad = spi.to_bytes(4, "big") + ((seq >> 32).to_bytes(4, "big") if esn else b"") + lo
 *   packet = spi.to_bytes(4, "big") + lo + iv + AESGCM(key).encrypt(salt + iv, body, aad)
 *
 * The IV is the 64-bit sequence number: what picsec sends, so the packet is fixed too. */
struct gcm_case {
	enum dp_enc enc;
	const char *key; /* the AES key, then the 4-byte salt */
	uint32_t spi;
	uint64_t seq;
	bool esn;
	uint8_t next;
	const char *payload, *packet;
};

static const struct gcm_case gcm_cases[] = {
	{ /* an IPv4 packet (RFC 3602's case 8), tunnel, the first number */
		DP_ENC_AES128_GCM, "000102030405060708090a0b0c0d0e0f ca11ab1e", 0x4321, 1, false, 4,
		"45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffff"
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"0000432100000001000000000000000118bc78f0befdac5f19ec6f21e3727586ace9c8302d235f10"
		"3440b71334c4fb303b2404b71e0a308640bc493e73aaed18629f7b4d1f5ec98f839973847166b7d8"
		"2fe6776f0ab301827682edcd35bd3811e74931a5411cb39a" },
	{ /* ICMP (RFC 3602's case 6), transport, the last numbers without ESN */
		DP_ENC_AES192_GCM, "8899aabbccddeeff0011223344556677fedcba9876543210 5a175a17",
		0xa5f8, 0xfffffffe, false, 1,
		"0800b5e8a80a0500a69c083d0b660e00777777777777777777777777",
		"0000a5f8fffffffe00000000fffffffecb48e232c853a1e806e6ff31ec1f01ebaefb3448cb780de0"
		"bd507c77c737801a889e17b5c950f117db92bbdec1630d74" },
	{ /* UDP with ESN past 2^32: 2 on the wire, 2^32 + 2 in the IV and the AAD */
		DP_ENC_AES256_GCM,
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308 decafbad",
		0x8765, UINT64_C(0x100000002), true, 17,
		"13881771001d000070696373656320455352206f766572203275333221",
		"00008765000000020000000100000002fa8e037b09fe546abc1662199d056a055a9bb355de581a8d"
		"1d7a6bf018545860ed791bf38112e70e4fa38de13d607433" },
};

static struct dp_sa *
gcm_sa(const struct gcm_case *c, enum dp_dir dir)
{
	struct dp_sa_params p = { .dir = dir, .proto = DP_PROTO_ESP, .spi = c->spi,
		.enc = c->enc, .auth = DP_AUTH_NONE, .replay_window = 64, .esn = c->esn };
	uint8_t key[36];
	char err[256] = "";
	struct dp_sa *sa;

	p.enc_key = key;
	p.enc_key_len = unhex(c->key, key, sizeof(key));
	sa = dp_sa_new(&p, err, sizeof(err));
	cr_assert_not_null(sa, "%s", err);
	return sa;
}

Test(vectors, esp_aes_gcm_packets_python_cryptography)
{
	uint8_t frame[512], payload[256], packet[256];
	size_t i, plen, klen;
	uint64_t seq;
	uint8_t next;

	for (i = 0; i < sizeof(gcm_cases) / sizeof(gcm_cases[0]); i++) {
		const struct gcm_case *c = &gcm_cases[i];
		struct dp_sa *out = gcm_sa(c, DP_DIR_OUT), *in = gcm_sa(c, DP_DIR_IN);
		struct dp_pkt p = { frame, sizeof(frame), 128, 0 };

		plen = unhex(c->payload, payload, sizeof(payload));
		klen = unhex(c->packet, packet, sizeof(packet));
		memcpy(frame + p.off, payload, plen);
		p.len = plen;
		cr_assert_eq(dp_esp_wrap(out, &p, c->spi, c->next, c->seq, true, NULL), DP_OK);
		cr_assert_eq(p.len, klen, "%s: %zu bytes, Python has %zu", dp_enc_name(c->enc),
		    p.len, klen);
		assert_bytes(dp_pkt_data(&p), packet, klen, dp_enc_name(c->enc));

		/* The receiver has seen the numbers up to just below this one (with ESN,
		 * that is where the high half it infers comes from). */
		dp_replay_update(in->replay, c->seq - 1);
		memset(frame, 0, sizeof(frame));
		memcpy(frame + 64, packet, klen);
		p = (struct dp_pkt){ frame, sizeof(frame), 64, klen };
		cr_assert_eq(dp_esp_unwrap(in, &p, true, &seq, &next), DP_OK, "%s",
		    dp_enc_name(c->enc));
		cr_assert_eq(seq, c->seq);
		cr_assert_eq(next, c->next);
		cr_assert_eq(p.len, plen);
		assert_bytes(dp_pkt_data(&p), payload, plen, "the payload");
		dp_sa_free(out);
		dp_sa_free(in);
	}
}
