/* bench_datapath: ESP encapsulation and decapsulation of one core, in packets/s and
 * Gbit/s, beside the raw OpenSSL EVP work on the same bytes in the same run: CBC over the
 * packet both ways and the HMAC twice, with nothing else; for GCM, what it cannot do
 * without per packet (a nonce, the 12 bytes of ESN additional data, the tag made and
 * checked) on contexts keyed once. The ratio is how much of the crypto's own speed the
 * datapath keeps. Goal: 70% at 1400 bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>

#include "dp_sa.h"
#include "envelope.h"

enum { GOAL_PERCENT = 70 };

struct suite {
	enum dp_enc enc;
	enum dp_auth auth;
	const char *openssl_cipher, *digest; /* digest NULL: AEAD */
};

static const struct suite suites[] = {
	{ DP_ENC_AES128_CBC, DP_AUTH_HMAC_SHA1_96, "AES-128-CBC", "SHA1" },
	{ DP_ENC_AES256_CBC, DP_AUTH_HMAC_SHA256_128, "AES-256-CBC", "SHA256" },
	{ DP_ENC_3DES_CBC, DP_AUTH_HMAC_SHA1_96, "DES-EDE3-CBC", "SHA1" },
	{ DP_ENC_AES128_GCM, DP_AUTH_NONE, "AES-128-GCM", NULL },
	{ DP_ENC_AES256_GCM, DP_AUTH_NONE, "AES-256-GCM", NULL },
};
static const size_t sizes[] = { 64, 512, 1400 };

static uint8_t key[36] = "bench-bench-bench-bench-bench-bench-"; /* GCM: + salt */

/* Runs fn until at least min_ns passed (and at least 64 times); returns calls per second. */
static double
rate(void (*fn)(void *), void *arg, uint64_t min_ns)
{
	uint64_t t0 = monotonic_ns(), n = 0, t;

	do {
		for (int i = 0; i < 64; i++)
			fn(arg);
		n += 64;
		t = monotonic_ns() - t0;
	} while (t < min_ns);
	return (double)n * 1e9 / (double)t;
}

struct dp_case {
	struct dp_sa *out, *in;
	uint8_t frame[4096], inner[2048];
	size_t len;
	int failures;
};

static void
dp_round(void *arg)
{
	struct dp_case *c = arg;
	struct dp_pkt p = { c->frame, sizeof(c->frame), 256, c->len };

	memcpy(c->frame + 256, c->inner, c->len);
	if (dp_sa_encap(c->out, &p) != DP_OK || dp_sa_decap(c->in, &p) != DP_OK)
		c->failures++;
}

struct raw_case {
	EVP_CIPHER_CTX *enc, *dec;
	EVP_MAC_CTX *mac;
	uint8_t buf[4096], icv[64], nonce[12], aad[12];
	size_t len; /* what the cipher and MAC run over: the ESP payload, padded */
	int failures;
};

static void
raw_round(void *arg)
{
	struct raw_case *c = arg;
	size_t out;
	int n;

	/* The chain continues across calls: no per-packet setup, the bound for the cipher. */
	EVP_EncryptUpdate(c->enc, c->buf, &n, c->buf, (int)c->len);
	EVP_MAC_init(c->mac, NULL, 0, NULL);
	EVP_MAC_update(c->mac, c->buf, c->len);
	EVP_MAC_final(c->mac, c->icv, &out, sizeof(c->icv));
	EVP_MAC_init(c->mac, NULL, 0, NULL);
	EVP_MAC_update(c->mac, c->buf, c->len);
	EVP_MAC_final(c->mac, c->icv, &out, sizeof(c->icv));
	EVP_DecryptUpdate(c->dec, c->buf, &n, c->buf, (int)c->len);
}

static void
raw_gcm_round(void *arg)
{
	struct raw_case *c = arg;
	uint8_t none[16];
	int n;

	c->nonce[11]++; /* a nonce is never used twice under a key, here too */
	EVP_EncryptInit_ex2(c->enc, NULL, NULL, c->nonce, NULL);
	EVP_EncryptUpdate(c->enc, NULL, &n, c->aad, sizeof(c->aad));
	EVP_EncryptUpdate(c->enc, c->buf, &n, c->buf, (int)c->len);
	EVP_EncryptFinal_ex(c->enc, none, &n);
	EVP_CIPHER_CTX_ctrl(c->enc, EVP_CTRL_AEAD_GET_TAG, 16, c->icv);
	EVP_DecryptInit_ex2(c->dec, NULL, NULL, c->nonce, NULL);
	EVP_DecryptUpdate(c->dec, NULL, &n, c->aad, sizeof(c->aad));
	EVP_DecryptUpdate(c->dec, c->buf, &n, c->buf, (int)c->len);
	EVP_CIPHER_CTX_ctrl(c->dec, EVP_CTRL_AEAD_SET_TAG, 16, c->icv);
	if (EVP_DecryptFinal_ex(c->dec, none, &n) != 1)
		c->failures++; /* the work was real: the tag checks */
}

/* An IPv4 packet of len bytes (198.18.1.10 > 198.18.2.10), checksum right. */
static void
inner_packet(uint8_t *d, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	memset(d, 0, len);
	d[0] = 0x45;
	d[2] = (uint8_t)(len >> 8);
	d[3] = (uint8_t)len;
	d[8] = 64;
	d[9] = 17;
	memcpy(d + 12, (const uint8_t[]){ 198, 18, 1, 10, 198, 18, 2, 10 }, 8);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	d[10] = (uint8_t)(~sum >> 8);
	d[11] = (uint8_t)~sum;
}

static struct dp_sa *
bench_sa(const struct suite *s, enum dp_dir dir)
{
	struct dp_sa_params p = { .dir = dir, .proto = DP_PROTO_ESP, .spi = 0x100,
		.enc = s->enc, .enc_key = key, .enc_key_len = dp_enc_key_len(s->enc),
		.auth = s->auth, .auth_key = key, .auth_key_len = dp_auth_key_len(s->auth),
		.local = { 192, 0, 2, 1 }, .remote = { 192, 0, 2, 2 }, .esn = true,
		.replay_window = 4096 };
	char err[256];
	struct dp_sa *sa = dp_sa_new(&p, err, sizeof(err));

	if (sa == NULL) {
		fprintf(stderr, "bench_datapath: %s\n", err);
		exit(1);
	}
	return sa;
}

int
main(int argc, char **argv)
{
	uint64_t min_ns = argc > 1 ? strtoull(argv[1], NULL, 10) * 1000000ULL : 400000000ULL;
	static struct dp_case dc;
	static struct raw_case rc;
	OSSL_PARAM params[2];
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	double dp_pps, raw_pps, ratio;
	size_t si, zi, block;
	char name[64];
	int worst = 100;

	printf("bench_datapath: ESP tunnel mode, encapsulation + decapsulation per packet, one "
	    "core\n\n");
	printf("%-32s %5s %12s %9s %12s %9s %7s\n", "suite", "bytes", "picsec pkt/s", "Gbit/s",
	    "raw EVP /s", "Gbit/s", "ratio");
	for (si = 0; si < sizeof(suites) / sizeof(suites[0]); si++) {
		const struct suite *s = &suites[si];
		EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, s->openssl_cipher, NULL);

		for (zi = 0; zi < sizeof(sizes) / sizeof(sizes[0]); zi++) {
			dc.out = bench_sa(s, DP_DIR_OUT);
			dc.in = bench_sa(s, DP_DIR_IN);
			dc.len = sizes[zi];
			dc.failures = 0;
			inner_packet(dc.inner, dc.len);
			dp_pps = rate(dp_round, &dc, min_ns);
			if (dc.failures != 0) {
				fprintf(stderr, "bench_datapath: %d packets failed\n", dc.failures);
				return 1;
			}
			/* The same bytes: the inner packet, padded and trailed as ESP has it. */
			block = dp_enc_block(s->enc) < 4 ? 4 : dp_enc_block(s->enc);
			rc.len = (dc.len + 2 + block - 1) / block * block;
			rc.enc = EVP_CIPHER_CTX_new();
			rc.dec = EVP_CIPHER_CTX_new();
			rc.failures = 0;
			EVP_EncryptInit_ex2(rc.enc, cipher, key, key, NULL);
			EVP_DecryptInit_ex2(rc.dec, cipher, key, key, NULL);
			EVP_CIPHER_CTX_set_padding(rc.enc, 0);
			EVP_CIPHER_CTX_set_padding(rc.dec, 0);
			rc.mac = NULL;
			if (s->digest != NULL) {
				params[0] = OSSL_PARAM_construct_utf8_string(
				    OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)s->digest, 0);
				params[1] = OSSL_PARAM_construct_end();
				rc.mac = EVP_MAC_CTX_new(hmac);
				EVP_MAC_init(rc.mac, key, dp_auth_key_len(s->auth), params);
			}
			raw_pps = rate(s->digest != NULL ? raw_round : raw_gcm_round, &rc,
			    min_ns);
			if (rc.failures != 0) {
				fprintf(stderr, "bench_datapath: raw GCM: %d tags failed\n",
				    rc.failures);
				return 1;
			}
			ratio = 100.0 * dp_pps / raw_pps;
			if (s->digest != NULL)
				snprintf(name, sizeof(name), "%s + %s", dp_enc_name(s->enc),
				    dp_auth_name(s->auth));
			else
				snprintf(name, sizeof(name), "%s (ESN)", dp_enc_name(s->enc));
			printf("%-32s %5zu %12.0f %9.2f %12.0f %9.2f %6.1f%%\n", name, dc.len, dp_pps, dp_pps * (double)dc.len * 8 / 1e9,
			    raw_pps, raw_pps * (double)dc.len * 8 / 1e9, ratio);
			if (dc.len == 1400 && ratio < worst)
				worst = (int)ratio;
			EVP_CIPHER_CTX_free(rc.enc);
			EVP_CIPHER_CTX_free(rc.dec);
			EVP_MAC_CTX_free(rc.mac);
			dp_sa_free(dc.out);
			dp_sa_free(dc.in);
		}
		EVP_CIPHER_free(cipher);
	}
	EVP_MAC_free(hmac);
	printf("\nat 1400 bytes picsec keeps at least %d%% of the raw EVP rate: goal %s (%d%%)\n",
	    worst, worst >= GOAL_PERCENT ? "met" : "NOT met", GOAL_PERCENT);
	return 0;
}
