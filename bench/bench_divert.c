/* bench_divert: what interface style's tc egress program costs a packet as the service set
 * grows, beside the same program with nothing to divert (its floor: the mark, protocol and
 * conf checks every egress packet pays). The kernel runs it on a packet with
 * BPF_PROG_TEST_RUN (no device, no redirect done), many times, and says the mean; terms are
 * /32 destinations from one /24 source, planned and written as the PIC does (fwd_divert.c),
 * with the time that takes from none. A hit is the last term's packet, a miss one of no term.
 * Root (BPF; without it the benchmark is skipped, 77). Every loop is bounded by its count. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_objects.h"
#include "fwd_divert.h"
#include "fwd_divert_maps.h"

enum { REPEAT = 2000000 };

struct prog {
	struct bpf_object *obj;
	int prog_fd;
	struct fwd_divert_maps maps;
	struct fwd_divert held;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0, 77 (the benchmark's skip: no BPF for us), or -1. */
static int
prog_open(struct prog *p)
{
	struct bpf_program *prog;

	p->obj = bpf_object__open_mem(bpf_tc_divert, bpf_tc_divert_len, NULL);
	if (p->obj == NULL)
		return -1;
	if (bpf_object__load(p->obj) != 0) {
		fprintf(stderr, "bench_divert: the tc program does not load: %s\n",
		    strerror(errno));
		return errno == EPERM ? 77 : -1;
	}
	prog = bpf_object__find_program_by_name(p->obj, "tc_divert");
	p->prog_fd = prog != NULL ? bpf_program__fd(prog) : -1;
	return p->prog_fd < 0 || fwd_divert_maps_find(&p->maps, p->obj) != 0 ? -1 : 0;
}

/* As the PIC writes them (fwd_divert_apply), timed. */
static int
prog_set(struct prog *p, const struct tc_divert_rule *rules, size_t n, double *took)
{
	double t0 = now_s();
	int rc = fwd_divert_apply(&p->held, rules, n, &fwd_divert_map_ops, &p->maps);

	*took = now_s() - t0;
	if (rc != 0)
		fprintf(stderr, "bench_divert: %zu terms not written: %s\n", n, strerror(-rc));
	return rc;
}

/* Mean ns per run of the program on a packet from src to dst, and its verdict. */
static int
prog_run(struct prog *p, const char *src, const char *dst, double *ns, int *verdict)
{
	uint8_t pkt[ETH_HLEN + sizeof(struct iphdr) + 8];
	struct ethhdr *eth = (struct ethhdr *)pkt;
	struct iphdr *ip = (struct iphdr *)(pkt + ETH_HLEN);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
	    .repeat = REPEAT);

	memset(pkt, 0, sizeof(pkt));
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(struct iphdr) + 8);
	inet_pton(AF_INET, src, &ip->saddr);
	inet_pton(AF_INET, dst, &ip->daddr);
	if (bpf_prog_test_run_opts(p->prog_fd, &opts) != 0) {
		fprintf(stderr, "bench_divert: test run: %s\n", strerror(errno));
		return -1;
	}
	*ns = (double)opts.duration;
	*verdict = (int)opts.retval;
	return 0;
}

static struct tc_divert_rule
term(uint32_t i)
{
	return (struct tc_divert_rule){ .src = htonl(0xc6120100u), .src_mask = htonl(0xffffff00u),
		.dst = htonl(0xc6130000u + i), .dst_mask = 0xffffffffu, .ifindex = 1,
		.local = htonl(0xc0000201u) };
}

int
main(void)
{
	static const size_t sizes[] = { 1, 64, 1000, 10000, 65536 };
	struct tc_divert_rule *rules;
	struct prog p = { 0 };
	double floor_ns, hit, miss, took;
	int verdict, rc = 1;
	size_t i, k;
	char dst[INET_ADDRSTRLEN];
	struct in_addr a;

	if ((rules = calloc(65536 + 1, sizeof(*rules))) == NULL)
		goto out;
	if ((rc = prog_open(&p)) != 0) {
		rc = rc == 77 ? 77 : 1;
		goto out;
	}
	rc = 1;
	for (i = 0; i < 65536; i++)
		rules[i] = term((uint32_t)i);
	/* The floor: a packet read and checked, no mask pair to look under. */
	if (prog_set(&p, rules, 1, &took) != 0 || prog_set(&p, rules, 0, &took) != 0 ||
	    prog_run(&p, "198.18.1.5", "198.19.0.0", &floor_ns, &verdict) != 0)
		goto out;
	printf("tc divert, no terms (the floor: the packet read, nothing to look up): %.1f ns\n",
	    floor_ns);
	for (k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
		if (prog_set(&p, rules, 0, &took) != 0 || prog_set(&p, rules, sizes[k], &took) != 0)
			goto out;
		a.s_addr = rules[sizes[k] - 1].dst;
		inet_ntop(AF_INET, &a, dst, sizeof(dst));
		if (prog_run(&p, "198.18.1.5", dst, &hit, &verdict) != 0)
			goto out;
		if (verdict != 7 /* TC_ACT_REDIRECT */) {
			fprintf(stderr, "bench_divert: the last term's packet was not diverted (%d)\n",
			    verdict);
			goto out;
		}
		if (prog_run(&p, "198.18.1.5", "203.0.113.9", &miss, &verdict) != 0)
			goto out;
		printf("tc divert, %6zu terms: hit %.1f ns (%.2fx the floor), miss %.1f ns "
		    "(%.2fx); written from none in %.1f ms\n", sizes[k], hit, hit / floor_ns, miss,
		    miss / floor_ns, took * 1e3);
	}
	rc = 0;
out:
	fwd_divert_free(&p.held);
	bpf_object__close(p.obj);
	free(rules);
	return rc;
}
