/* bench_scale: N SAs (default 100,000) installed through picsec-sadb into one PIC and
 * cleared when that PIC dies, with the time of both and the PIC's memory per SA, beside the
 * goals (installed in 2 s, cleared in 500 ms, 1 KiB per SA) and a reference: the OpenSSL
 * contexts of as many SAs made, keyed and freed in this process (the least a datapath that
 * keys its contexts once per SA pays). bench/scale/run.sh sets up the suite and the PIC
 * and runs it; the last line is the results as key=value pairs. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scale.h"

#define GOAL_INSTALL_S 2.0
#define GOAL_CLEAR_S 0.5
#define GOAL_BYTES_PER_SA 1024.0

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: bench_scale --rundir DIR --pic-pid PID [options]\n"
	    "  --rundir DIR       the bus of the suite under test\n"
	    "  --pic-pid PID      the picsec-fwd of the PIC (its memory; killed at the end)\n"
	    "  --sadb-pid PID     picsec-sadb (its memory, for the record)\n"
	    "  --pic NAME         the PIC (default ms-0/0/0)\n"
	    "  --set NAME --rule NAME --term NAME  the dynamic term (default scale scale t1)\n"
	    "  --local A --remote A  its gateways (default 192.0.2.1 192.0.2.2)\n"
	    "  --count N          SAs, two per Child SA (default 100000)\n"
	    "  --per-install K    Child SAs per SaInstall, 1..8 (default 1, as picsec-iked)\n"
	    "  --window W         SaInstall requests in flight (default 64)\n"
	    "  --timeout S        for each phase (default 120)\n"
	    "  --cpu NAME=PID     count the CPU time of that process too (repeatable)\n"
	    "  --gcm              aes-128-gcm SAs instead of aes-128-cbc + hmac-sha-256-128\n"
	    "  --reference-only   only the in-process reference\n"
	    "  -v                 progress every second\n");
}

static unsigned
num(const char *opt, const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "bench_scale: %s: '%s' is not in %u..%u\n", opt, s, lo, hi);
		exit(2);
	}
	return (unsigned)v;
}

static void
addr(const char *opt, const char *s, uint8_t out[4])
{
	if (inet_pton(AF_INET, s, out) != 1) {
		fprintf(stderr, "bench_scale: %s: '%s' is not an IPv4 address\n", opt, s);
		exit(2);
	}
}

/* --cpu NAME=PID */
static void
cpu_arg(struct scale_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || o->ncpu == SCALE_CPU_MAX - 1) {
		fprintf(stderr, "bench_scale: --cpu NAME=PID, at most %d\n", SCALE_CPU_MAX - 1);
		exit(2);
	}
	*eq = '\0';
	o->cpu[o->ncpu].name = arg;
	o->cpu[o->ncpu++].pid = (pid_t)num("--cpu", eq + 1, 1, 1u << 30);
}

static double
ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static const char *
verdict(double v, double goal)
{
	return v <= goal ? "met" : "NOT met";
}

static const char *
suite_name(bool gcm)
{
	return gcm ? "aes-128-gcm" : "aes-128-cbc + hmac-sha-256-128";
}

/* The table: picsec beside the goals and the reference. ref[0] is the SAs' own algorithms,
 * ref[1] the other ones. */
static void
report_table(const struct scale_opts *o, const struct scale_result *r,
    const struct scale_ref *ref)
{
	double install_s = (double)r->pic_ns / 1e9, sadb_s = (double)r->sadb_ns / 1e9;
	uint64_t last = r->cleanup_ns > r->removed_ns ? r->cleanup_ns : r->removed_ns;
	double clear_s = (double)last / 1e9;
	double per_sa = (double)(r->pic_after.rss_kb - r->pic_before.rss_kb) * 1024 / o->count;

	printf("bench/scale: %u SAs (%u Child SAs, %s) through picsec-sadb into PIC %s, %u Child "
	    "SA%s per SaInstall, %u in flight; load average %s, machine %.0f%% busy during the "
	    "install\n", o->count, o->count / 2, suite_name(o->gcm), o->pic, o->per_install,
	    o->per_install == 1 ? "" : "s", o->window, r->load, 100 * r->busy);
	printf("%-34s %10s %10s %10s %8s\n", "", "picsec", "goal", "reference", "ratio");
	printf("%-34s %8.3f s %10s %10s %8s\n", "installed (sadb's replies)", sadb_s, "", "", "");
	printf("%-34s %8.3f s %8s s %8.3f s %7.1fx  %s\n", "installed (the PIC's report)",
	    install_s, "<= 2", ref[0].make_s, ratio(install_s, ref[0].make_s),
	    verdict(install_s, GOAL_INSTALL_S));
	printf("%-34s %8.3f s %8s s %8.3f s %7.1fx  %s\n", "cleared after the PIC's SIGKILL",
	    clear_s, "<= 0.5", ref[0].free_s, ratio(clear_s, ref[0].free_s),
	    verdict(clear_s, GOAL_CLEAR_S));
	printf("%-34s %8.0f B %8s B %8.0f B %7.1fx  %s\n", "PIC memory per SA (RSS)", per_sa,
	    "<= 1024", ref[0].bytes_per_sa, ratio(per_sa, ref[0].bytes_per_sa),
	    verdict(per_sa, GOAL_BYTES_PER_SA));
	printf("reference: the OpenSSL contexts of %u SAs made and keyed, then freed, in one "
	    "process (%s: EVP_CIPHER_CTX%s), their heap as malloc counts it\n", o->count,
	    suite_name(o->gcm), o->gcm ? "" : " + EVP_MAC_CTX");
	printf("an SA's contexts are made at its first packet: one that carried traffic holds "
	    "%.0f B more (%s; %.0f B with %s)\n", ref[0].bytes_per_sa, suite_name(o->gcm),
	    ref[1].bytes_per_sa, suite_name(!o->gcm));
}

static void
report_details(const struct scale_opts *o, const struct scale_result *r,
    const struct scale_ref *ref)
{
	double anon_sa = (double)(r->pic_after.anon_kb - r->pic_before.anon_kb) * 1024 / o->count;
	double per_sa = (double)(r->pic_after.rss_kb - r->pic_before.rss_kb) * 1024 / o->count;
	uint64_t last = r->cleanup_ns > r->removed_ns ? r->cleanup_ns : r->removed_ns;
	size_t i;

	printf("clear: healthd's DOWN after %.1f ms, sadb's SaCleanup after %.1f ms (%u SAs "
	    "cleared), sa.removed complete after %.1f ms (%u ids)\n", (double)r->down_ns / 1e6,
	    (double)r->cleanup_ns / 1e6, r->cleanup_cleared, (double)r->removed_ns / 1e6,
	    r->removed);
	printf("PIC: VmRSS %.1f -> %.1f MB, RssAnon %.1f -> %.1f MB (%.0f B/SA), Pss %.1f -> "
	    "%.1f MB, Private_Dirty %.1f -> %.1f MB\n", r->pic_before.rss_kb / 1024.0,
	    r->pic_after.rss_kb / 1024.0, r->pic_before.anon_kb / 1024.0,
	    r->pic_after.anon_kb / 1024.0, anon_sa, r->pic_before.pss_kb / 1024.0,
	    r->pic_after.pss_kb / 1024.0, r->pic_before.dirty_kb / 1024.0,
	    r->pic_after.dirty_kb / 1024.0);
	if (o->sadb_pid > 0)
		printf("sadb: VmRSS %.1f MB before, %.1f MB installed (%.0f B/SA), %.1f MB "
		    "cleared\n", r->sadb_before.rss_kb / 1024.0, r->sadb_after.rss_kb / 1024.0,
		    (double)(r->sadb_after.rss_kb - r->sadb_before.rss_kb) * 1024 / o->count,
		    r->sadb_cleared.rss_kb / 1024.0);
	printf("requests: %u SaInstall, %u SaAllocSpi, %u failed; %u PicStatus reports during "
	    "the install, the largest %.1f kB\n", r->requests, r->spi_requests, r->failures,
	    r->status_reports, (double)r->status_max_bytes / 1024);
	if (r->snapshot_bytes > 0)
		printf("sadb's snapshot for a PIC starting now: %.1f MB (the bus carries 16 MiB a "
		    "message)\n", (double)r->snapshot_bytes / (1 << 20));
	else
		printf("sadb's snapshot for a PIC starting now: none: %s\n", r->snapshot_error);
	printf("CPU seconds, install / clear:");
	for (i = 0; i < o->ncpu; i++)
		printf(" %s %.2f / %.2f", o->cpu[i].name, o->cpu[i].install_s, o->cpu[i].clear_s);
	printf("\n");
	printf("RESULT count=%u per_install=%u window=%u sadb_s=%.3f install_s=%.3f clear_s=%.3f "
	    "down_ms=%.1f cleanup_ms=%.1f removed_ms=%.1f bytes_per_sa=%.0f anon_per_sa=%.0f "
	    "ref_make_s=%.3f ref_free_s=%.3f ref_bytes_per_sa=%.0f busy=%.2f failures=%u\n",
	    o->count, o->per_install, o->window, (double)r->sadb_ns / 1e9,
	    (double)r->pic_ns / 1e9, (double)last / 1e9, (double)r->down_ns / 1e6,
	    (double)r->cleanup_ns / 1e6, (double)r->removed_ns / 1e6, per_sa, anon_sa,
	    ref[0].make_s, ref[0].free_s, ref[0].bytes_per_sa, r->busy, r->failures);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "pic-pid", required_argument, NULL, 'P' },
		{ "sadb-pid", required_argument, NULL, 'S' },
		{ "pic", required_argument, NULL, 'p' },
		{ "set", required_argument, NULL, 's' },
		{ "rule", required_argument, NULL, 'R' },
		{ "term", required_argument, NULL, 't' },
		{ "local", required_argument, NULL, 'l' },
		{ "remote", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'n' },
		{ "per-install", required_argument, NULL, 'k' },
		{ "window", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "gcm", no_argument, NULL, 'g' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "reference-only", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scale_opts o = {
		.pic = "ms-0/0/0", .set = "scale", .rule = "scale", .term = "t1",
		.local = { 192, 0, 2, 1 }, .remote = { 192, 0, 2, 2 },
		.count = 100000, .per_install = 1, .window = 64, .timeout_s = 120,
	};
	struct scale_result r;
	struct scale_ref ref[2];
	bool ref_only = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': o.rundir = optarg; break;
		case 'P': o.pic_pid = (pid_t)num("--pic-pid", optarg, 1, 1u << 30); break;
		case 'S': o.sadb_pid = (pid_t)num("--sadb-pid", optarg, 1, 1u << 30); break;
		case 'p': o.pic = optarg; break;
		case 's': o.set = optarg; break;
		case 'R': o.rule = optarg; break;
		case 't': o.term = optarg; break;
		case 'l': addr("--local", optarg, o.local); break;
		case 'm': addr("--remote", optarg, o.remote); break;
		case 'n': o.count = num("--count", optarg, 2, 2000000) & ~1u; break;
		case 'k': o.per_install = num("--per-install", optarg, 1, 8); break;
		case 'w': o.window = num("--window", optarg, 1, 4096); break;
		case 'T': o.timeout_s = num("--timeout", optarg, 1, 3600); break;
		case 'g': o.gcm = true; break;
		case 'C': cpu_arg(&o, optarg); break;
		case 'F': ref_only = true; break;
		case 'v': o.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (!ref_only && (o.rundir == NULL || o.pic_pid == 0))) {
		usage(stderr);
		return 2;
	}
	o.cpu[o.ncpu].name = "bench";
	o.cpu[o.ncpu++].pid = 0;
	memset(&r, 0, sizeof(r));
	rc = ref_only ? 0 : scale_run(&o, &r);
	/* After the run: the reference's allocations must not share its time. */
	if (scale_ref_run(o.count, o.gcm, &ref[0]) == -1 ||
	    scale_ref_run(o.count, !o.gcm, &ref[1]) == -1) {
		fprintf(stderr, "bench_scale: the reference failed (OpenSSL)\n");
		return 1;
	}
	if (ref_only) {
		for (int i = 0; i < 2; i++)
			printf("reference: %u SAs, %s: made in %.3f s, freed in %.3f s, %.0f B each\n",
			    o.count, suite_name(i == 0 ? o.gcm : !o.gcm), ref[i].make_s,
			    ref[i].free_s, ref[i].bytes_per_sa);
		return 0;
	}
	if (rc == -1) {
		/* What it reached, not numbers of phases that never ended. */
		fprintf(stderr, "bench_scale: %s\n", r.error);
		printf("bench/scale: %u SAs, %u Child SA%s per SaInstall, %u in flight: FAILED: %s; "
		    "sadb installed %u SAs (%u requests, %u failed), the PIC reported %u; %u "
		    "PicStatus reports\n", o.count, o.per_install, o.per_install == 1 ? "" : "s",
		    o.window, r.error, r.installed, r.requests, r.failures, r.pic_installed,
		    r.status_reports);
		printf("RESULT count=%u per_install=%u window=%u install_s=0 clear_s=0 "
		    "bytes_per_sa=0 ref_make_s=%.3f ref_bytes_per_sa=%.0f busy=0 failures=%u\n",
		    o.count, o.per_install, o.window, ref[0].make_s, ref[0].bytes_per_sa,
		    r.failures > 0 ? r.failures : 1);
		return 1;
	}
	report_table(&o, &r, ref);
	report_details(&o, &r, ref);
	return 0;
}
