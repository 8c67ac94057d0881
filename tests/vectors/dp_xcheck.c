/* dp_xcheck: one SA of libpicsec-dp on the command line, packets in hex on standard input,
 * one per line; each line out is the packet wrapped (encap) or opened (decap), in hex, or
 * "DROP <reason>". scapy_xcheck.py drives it against scapy's SecurityAssociation.
 *
 *   dp_xcheck encap|decap --proto esp|ah|bundle [--transport] [--udp]
 *       --enc NAME --enc-key HEX --auth NAME --auth-key HEX --spi N [--aux-spi N]
 *       [--local A.B.C.D --remote A.B.C.D] [--window N] [--esn] [--seq-start N]
 *
 * --seq-start N: encap numbers the packets from N + 1; decap first accepts number N (from
 * an outbound twin of the SA), as if the traffic before had come, so that the receiver's
 * window is where ESN's high half is inferred from. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_sa.h"

static int
hex_in(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (s[0] != '\0' && s[0] != '\n' && s[1] != '\0') {
		if (n == cap || sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return (int)n;
}

static int
pick(const char *name, const char *const *names, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		if (strcmp(name, names[i]) == 0)
			return i;
	}
	fprintf(stderr, "dp_xcheck: unknown algorithm '%s'\n", name);
	exit(2);
}

/* The inbound sa accepts number p->seq_start, sent by an outbound twin. */
static int
prime(struct dp_sa *sa, const struct dp_sa_params *in)
{
	static const uint8_t udp[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 2,
		10, 198, 18, 1, 10 };
	struct dp_sa_params p = *in;
	uint8_t frame[1024], *d = frame + 512;
	struct dp_pkt pkt = { frame, sizeof(frame), 512, sizeof(udp) };
	char err[256];
	struct dp_sa *out;
	enum dp_result r;

	p.dir = DP_DIR_OUT;
	p.seq_start--;
	if ((out = dp_sa_new(&p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dp_xcheck: the twin: %s\n", err);
		return -1;
	}
	memcpy(d, udp, sizeof(udp));
	dp_put16(d + 10, dp_ipv4_checksum(d, 20));
	if ((r = dp_sa_encap(out, &pkt)) == DP_OK)
		r = dp_sa_decap(sa, &pkt);
	dp_sa_free(out);
	if (r != DP_OK) {
		fprintf(stderr, "dp_xcheck: number %llu: %s\n", (unsigned long long)in->seq_start,
		    dp_result_name(r));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const encs[] = { "null", "des-cbc", "3des-cbc", "aes-128-cbc",
		"aes-192-cbc", "aes-256-cbc", "aes-128-gcm", "aes-192-gcm", "aes-256-gcm" };
	static const char *const auths[] = { "none", "hmac-md5-96", "hmac-sha1-96",
		"hmac-sha-256-128", "hmac-sha-256-96" };
	static const struct option opts[] = {
		{ "proto", required_argument, NULL, 'p' },
		{ "transport", no_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{ "enc", required_argument, NULL, 'e' },
		{ "enc-key", required_argument, NULL, 'E' },
		{ "auth", required_argument, NULL, 'a' },
		{ "auth-key", required_argument, NULL, 'A' },
		{ "spi", required_argument, NULL, 's' },
		{ "aux-spi", required_argument, NULL, 'S' },
		{ "local", required_argument, NULL, 'l' },
		{ "remote", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "esn", no_argument, NULL, 'n' },
		{ "seq-start", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct dp_sa_params p = { .replay_window = 64 };
	uint8_t enc_key[64], auth_key[64], frame[8192];
	char line[16384], err[256];
	struct dp_sa *sa;
	int c, n;
	size_t i;

	if (argc < 2 || (strcmp(argv[1], "encap") != 0 && strcmp(argv[1], "decap") != 0)) {
		fprintf(stderr, "usage: dp_xcheck encap|decap OPTIONS < hex packets\n");
		return 2;
	}
	p.dir = strcmp(argv[1], "encap") == 0 ? DP_DIR_OUT : DP_DIR_IN;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			p.proto = strcmp(optarg, "ah") == 0 ? DP_PROTO_AH :
			    strcmp(optarg, "bundle") == 0 ? DP_PROTO_BUNDLE : DP_PROTO_ESP;
			break;
		case 't': p.mode = DP_MODE_TRANSPORT; break;
		case 'u': p.encap_sport = p.encap_dport = 4500; break;
		case 'e': p.enc = (enum dp_enc)pick(optarg, encs, DP_ENC_COUNT); break;
		case 'a': p.auth = (enum dp_auth)pick(optarg, auths, DP_AUTH_COUNT); break;
		case 'E':
			n = hex_in(optarg, enc_key, sizeof(enc_key));
			p.enc_key = enc_key;
			p.enc_key_len = n > 0 ? (size_t)n : 0;
			break;
		case 'A':
			n = hex_in(optarg, auth_key, sizeof(auth_key));
			p.auth_key = auth_key;
			p.auth_key_len = n > 0 ? (size_t)n : 0;
			break;
		case 's': p.spi = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'S': p.aux_spi = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l': inet_pton(AF_INET, optarg, p.local); break;
		case 'r': inet_pton(AF_INET, optarg, p.remote); break;
		case 'w': p.replay_window = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': p.esn = true; break;
		case 'q': p.seq_start = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if ((sa = dp_sa_new(&p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dp_xcheck: %s\n", err);
		return 1;
	}
	if (p.dir == DP_DIR_IN && p.seq_start != 0 && prime(sa, &p) == -1)
		return 1;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct dp_pkt pkt = { frame, sizeof(frame), 512, 0 };
		enum dp_result r;

		if ((n = hex_in(line, frame + 512, sizeof(frame) - 1024)) < 0) {
			printf("DROP bad hex\n");
			continue;
		}
		pkt.len = (size_t)n;
		r = p.dir == DP_DIR_OUT ? dp_sa_encap(sa, &pkt) : dp_sa_decap(sa, &pkt);
		if (r != DP_OK) {
			printf("DROP %s\n", dp_result_name(r));
		} else {
			for (i = 0; i < pkt.len; i++)
				printf("%02x", dp_pkt_data(&pkt)[i]);
			printf("\n");
		}
		fflush(stdout);
	}
	dp_sa_free(sa);
	return 0;
}
