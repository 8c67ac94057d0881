/* libFuzzer target for the inbound path: the first byte picks one of the SAs below, the
 * rest is a packet from its outer IPv4 header on, as the PIC hands it to dp_sa_decap.
 * Whatever arrives, the SA drops it with a counted reason or opens it within the frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp_sa.h"

enum { FRAME = 4096, HEADROOM = 256 };

static const uint8_t enc_key[36] = "fuzz-fuzz-fuzz-fuzz-fuzz-fuzz-fuzz-f"; /* GCM: salt */
static const uint8_t auth_key[32] = "keyed-hash-keyed-hash-keyed-hash";

static const struct dp_sa_params templates[] = {
	{ .proto = DP_PROTO_ESP, .enc = DP_ENC_AES128_CBC, .auth = DP_AUTH_HMAC_SHA1_96 },
	{ .proto = DP_PROTO_ESP, .enc = DP_ENC_AES256_CBC, .auth = DP_AUTH_NONE },
	{ .proto = DP_PROTO_ESP, .enc = DP_ENC_NULL, .auth = DP_AUTH_HMAC_SHA256_128,
	  .encap_sport = 4500, .encap_dport = 4500 },
	{ .proto = DP_PROTO_ESP, .enc = DP_ENC_3DES_CBC, .auth = DP_AUTH_NONE,
	  .mode = DP_MODE_TRANSPORT },
	{ .proto = DP_PROTO_AH, .auth = DP_AUTH_HMAC_MD5_96 },
	{ .proto = DP_PROTO_AH, .auth = DP_AUTH_HMAC_SHA256_128, .mode = DP_MODE_TRANSPORT },
	{ .proto = DP_PROTO_BUNDLE, .enc = DP_ENC_AES128_CBC, .auth = DP_AUTH_HMAC_SHA1_96 },
	{ .proto = DP_PROTO_ESP, .enc = DP_ENC_AES128_CBC, .auth = DP_AUTH_NONE, .esn = true,
	  .replay_window = 4096 },
	{ .proto = DP_PROTO_ESP, .enc = DP_ENC_AES256_GCM, .auth = DP_AUTH_NONE, .esn = true,
	  .replay_window = 4096 },
	{ .proto = DP_PROTO_ESP, .enc = DP_ENC_AES128_GCM, .auth = DP_AUTH_NONE,
	  .encap_sport = 4500, .encap_dport = 4500, .mode = DP_MODE_TRANSPORT },
};
enum { NSAS = sizeof(templates) / sizeof(templates[0]) };

/* A fresh SA per input, so that a crash replays from its input alone (the replay window
 * would otherwise carry state from one input to the next). */
static struct dp_sa *
fuzz_sa(size_t i)
{
	struct dp_sa_params p = templates[i];
	char err[256];
	struct dp_sa *sa;

	p.dir = DP_DIR_IN;
	p.spi = 0x1000;
	p.aux_spi = 0x2000;
	p.enc_key = enc_key;
	p.enc_key_len = dp_enc_key_len(p.enc);
	p.auth_key = auth_key;
	p.auth_key_len = dp_auth_key_len(p.auth);
	if (p.replay_window == 0)
		p.replay_window = 64;
	if ((sa = dp_sa_new(&p, err, sizeof(err))) == NULL)
		abort();
	return sa;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FRAME];
	struct dp_pkt p = { frame, FRAME, HEADROOM, 0 };
	struct dp_sa *sa;
	enum dp_result r;

	if (size < 1 || size - 1 > FRAME - HEADROOM)
		return 0;
	sa = fuzz_sa(data[0] % NSAS);
	memset(frame, 0xa5, sizeof(frame));
	memcpy(frame + HEADROOM, data + 1, size - 1);
	p.len = size - 1;
	r = dp_sa_decap(sa, &p);
	dp_sa_free(sa);
	/* An opened packet lies within the frame. */
	if (r == DP_OK && (p.off > FRAME || p.len > FRAME - p.off))
		abort();
	return 0;
}
