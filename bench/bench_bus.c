/* bench_bus: events/s and request round trips through picsec-busd, beside the same traffic
 * on a direct ZeroMQ connection, in one run. The parent starts busd and forks one process per
 * role (bench_events.c, bench_requests.c); it never opens a ZeroMQ context itself, so every
 * child starts clean. Benchmarks measure: the exit status says whether it ran, not whether
 * a goal was met. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "bench.h"
#include "catalog.h"
#include "endpoints.h"
#include "secbuf.h"

enum {
	BENCH_EVENTS_DEFAULT = 500000,
	BENCH_REQUESTS_DEFAULT = 20000,
	BENCH_TIMEOUT_DEFAULT_S = 60,
	BENCH_GOAL_EVENTS = 200000, /* events/s through busd */
	BENCH_GOAL_P99_FACTOR = 2,  /* busd's request p99 against the direct pair's */
};

/* Set by SIGINT/SIGTERM in the parent: stop waiting, clean up, report what there is. */
static volatile sig_atomic_t bench_interrupted;

bool
bench_expired(const struct bench *b)
{
	return bench_interrupted || monotonic_ns() >= b->deadline_ns;
}

int
bench_left_ms(const struct bench *b, int cap)
{
	uint64_t now = monotonic_ns(), left;

	if (now >= b->deadline_ns)
		return 0;
	left = (b->deadline_ns - now) / 1000000;
	return left < (uint64_t)cap ? (int)left : cap;
}

void
bench_endpoint(const struct bench *b, const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "ipc://%s/%s", b->dir, name);
}

static int
bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p% of the samples at or below it. */
static double
bench_percentile_us(const uint64_t *sorted, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	return (double)sorted[rank > 0 ? rank - 1 : 0] / 1000.0;
}

void
bench_latency_summary(uint64_t *ns, size_t n, struct bench_requests *out)
{
	double sum = 0;
	size_t i;

	if (n == 0)
		return;
	qsort(ns, n, sizeof(*ns), bench_cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)ns[i];
	out->mean_us = sum / (double)n / 1000.0;
	out->p50_us = bench_percentile_us(ns, n, 50);
	out->p99_us = bench_percentile_us(ns, n, 99);
	out->max_us = (double)ns[n - 1] / 1000.0;
}

static void
bench_wipe_free(void *data, void *hint)
{
	(void)hint;
	wiping_free(data);
}

int
bench_send_packed(void *sock, const char *first, void *env, size_t len)
{
	zmq_msg_t msg;

	/* The frame first: once the first part is queued the second must follow. */
	if (zmq_msg_init_data(&msg, env, len, bench_wipe_free, NULL) == -1) {
		wiping_free(env);
		return -1;
	}
	if ((first != NULL &&
	    zmq_send(sock, first, strlen(first), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) ||
	    zmq_msg_send(&msg, sock, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&msg);
		return -1;
	}
	return 0;
}

/* A child that must not outlive us, even if we are killed. */
static int
bench_fork_child(void)
{
	pid_t parent = getpid(), pid;

	fflush(NULL); /* or the child's exit would print our buffered output again */
	pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return 0;
}

int
bench_fork(const struct bench *b, bench_role_fn *fn, int fd, int close_fd, void *out)
{
	pid_t pid = bench_fork_child();

	if (pid != 0)
		return pid;
	if (close_fd != -1)
		close(close_fd);
	fn(b, fd, out);
	_exit(0);
}

/* Waits for pid until until_ns, then kills it: a stuck child cannot hold the report. */
void
bench_reap(int pid, uint64_t until_ns)
{
	struct timespec step = { 0, 10 * 1000 * 1000 };

	if (pid <= 0)
		return;
	while (monotonic_ns() < until_ns && !bench_interrupted) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		nanosleep(&step, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int
bench_busd_start(const struct bench *b)
{
	char path[PATH_MAX];
	struct stat st;
	pid_t pid;
	int fd, i;

	pid = bench_fork_child();
	if (pid == 0) {
		/* busd logs its start to stderr; keep the table readable unless asked. */
		if (!b->verbose && (fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execl(b->busd, b->busd, "--rundir", b->dir, (char *)NULL);
		_exit(127);
	}
	if (pid == -1)
		return -1;
	/* busd binds the tap last: once its socket file is there, all four are. */
	snprintf(path, sizeof(path), "%s/%s", b->dir, BUS_SOCK_TAP);
	for (i = 0; i < 500; i++) {
		if (stat(path, &st) == 0)
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(10000);
	}
	bench_reap(pid, 0);
	return -1;
}

/* The directory holds only sockets and busd's pid file: one level to remove. */
static void
bench_rmdir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	rmdir(dir);
}

/* The busd path: --busd or the argument, then $PICSEC_BUSD, then the build tree. */
static const char *
bench_find_busd(const char *given, char *buf, size_t buflen)
{
	char self[PATH_MAX];
	ssize_t n;

	if (given != NULL)
		return given;
	if ((given = getenv("PICSEC_BUSD")) != NULL && given[0] != '\0')
		return given;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	snprintf(buf, buflen, "%s/../services/busd/picsec-busd", dirname(self));
	return buf;
}

static void
bench_on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

static double
bench_events_rate(const struct bench_events *e)
{
	if (e->received < 2 || e->last_ns <= e->first_ns)
		return 0;
	return (double)(e->received - 1) * 1e9 / (double)(e->last_ns - e->first_ns);
}

static const char *
bench_verdict(bool have, bool met)
{
	return !have ? "goal NOT met (no data)" : met ? "goal met" : "goal NOT met";
}

/* One row of the table: "-" for a run that produced nothing, and a ratio only when both did.
 * The caller ends the line (with a goal, or not). */
static void
bench_row(const char *label, int prec, double x, bool hx, double y, bool hy, bool ratio)
{
	printf("%-22s", label);
	if (hx)
		printf(" %18.*f", prec, x);
	else
		printf(" %18s", "-");
	if (hy)
		printf(" %18.*f", prec, y);
	else
		printf(" %18s", "-");
	if (ratio && hx && hy && y > 0)
		printf(" %8.2f", x / y);
	else if (ratio)
		printf(" %8s", "-");
}

/* "123 (0.02%)": how many of the N measured events never arrived. */
static const char *
bench_loss(const struct bench *b, const struct bench_events *e, char *buf, size_t buflen)
{
	uint64_t lost = b->events > e->received ? b->events - e->received : 0;

	if (!e->synced)
		snprintf(buf, buflen, "-");
	else
		snprintf(buf, buflen, "%llu (%.2f%%)%s", (unsigned long long)lost,
		    100.0 * (double)lost / (double)b->events,
		    e->offered + e->send_failed < b->events ? " cut" : "");
	return buf;
}

static void
bench_report_events(const struct bench *b)
{
	const struct bench_events *eb = &b->res->ev_bus, *ed = &b->res->ev_direct;
	double xb = bench_events_rate(eb), xd = bench_events_rate(ed);
	char lb[48], ld[48];

	bench_row("events/s received", 0, xb, xb > 0, xd, xd > 0, true);
	printf("   %s: >= %d/s through busd\n", bench_verdict(xb > 0, xb >= BENCH_GOAL_EVENTS),
	    BENCH_GOAL_EVENTS);
	printf("%-22s %18s %18s   (of %llu)\n", "  events lost", bench_loss(b, eb, lb, sizeof(lb)),
	    bench_loss(b, ed, ld, sizeof(ld)), (unsigned long long)b->events);
	if (eb->busd_seen) {
		/* busd's own count splits the loss; a probe still in flight may count as one. */
		printf("%-22s %18llu\n", "    before busd", (unsigned long long)(b->events >
		    eb->busd_forwarded ? b->events - eb->busd_forwarded : 0));
		printf("%-22s %18llu\n", "    after busd", (unsigned long long)(eb->busd_forwarded >
		    eb->received ? eb->busd_forwarded - eb->received : 0));
	} else if (eb->synced) {
		printf("    (busd did not answer BusGetStats: no split of the loss)\n");
	}
	bench_row("  publisher offered/s", 0, eb->send_s > 0 ? (double)eb->offered / eb->send_s : 0,
	    eb->send_s > 0, ed->send_s > 0 ? (double)ed->offered / ed->send_s : 0, ed->send_s > 0,
	    false);
	printf("\n");
}

static void
bench_report_requests(const struct bench *b)
{
	const struct bench_requests *qb = &b->res->rq_bus, *qd = &b->res->rq_direct;
	bool hb = qb->done > 0, hd = qd->done > 0;

	bench_row("request p50 (us)", 1, qb->p50_us, hb, qd->p50_us, hd, true);
	printf("\n");
	bench_row("request p99 (us)", 1, qb->p99_us, hb, qd->p99_us, hd, true);
	printf("   %s: busd p99 <= %dx direct\n", bench_verdict(hb && hd,
	    qb->p99_us <= BENCH_GOAL_P99_FACTOR * qd->p99_us), BENCH_GOAL_P99_FACTOR);
	bench_row("  request mean (us)", 1, qb->mean_us, hb, qd->mean_us, hd, false);
	printf("\n");
	bench_row("  request max (us)", 1, qb->max_us, hb, qd->max_us, hd, false);
	printf("\n");
	printf("%-22s %18llu %18llu\n", "  round trips", (unsigned long long)qb->done,
	    (unsigned long long)qd->done);
	printf("%-22s %18llu %18llu\n", "  failed", (unsigned long long)qb->failed,
	    (unsigned long long)qd->failed);
}

static void
bench_report(const struct bench *b)
{
	const struct bench_results *r = b->res;
	const char *errors[] = { r->ev_bus.error, r->ev_direct.error, r->rq_bus.error,
	    r->rq_direct.error };
	const char *names[] = { "events busd", "events direct", "requests busd",
	    "requests direct" };
	size_t i;

	printf("\n%-22s %18s %18s %8s\n", "", "picsec-busd", "direct ZeroMQ", "ratio");
	bench_report_events(b);
	bench_report_requests(b);
	for (i = 0; i < ARRAY_SIZE(errors); i++) {
		if (errors[i][0] != '\0')
			printf("%s: %s\n", names[i], errors[i]);
	}
}

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: bench_bus [options] [BUSD]\n"
	    "  --events N      events per run (default %d)\n"
	    "  --requests M    measured round trips per run (default %d)\n"
	    "  --busd PATH     picsec-busd to start (default $PICSEC_BUSD, else the build tree)\n"
	    "  --timeout S     stop everything after S seconds and report (default %d)\n"
	    "  -v, --verbose   let busd log to stderr\n",
	    BENCH_EVENTS_DEFAULT, BENCH_REQUESTS_DEFAULT, BENCH_TIMEOUT_DEFAULT_S);
}

static uint64_t
bench_number(const char *arg, const char *what, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v == 0 || v > max) {
		fprintf(stderr, "bench_bus: %s: '%s' is not a number in 1..%llu\n", what, arg,
		    (unsigned long long)max);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "events", required_argument, NULL, 'e' },
		{ "requests", required_argument, NULL, 'r' },
		{ "busd", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b = { .events = BENCH_EVENTS_DEFAULT, .requests = BENCH_REQUESTS_DEFAULT };
	const char *busd = NULL;
	char busd_buf[PATH_MAX];
	uint64_t timeout_s = BENCH_TIMEOUT_DEFAULT_S;
	int c, busd_pid = -1, rc = 1, major, minor, patch;
	bool made = false;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': b.events = bench_number(optarg, "--events", 100000000); break;
		case 'r': b.requests = bench_number(optarg, "--requests", 10000000); break;
		case 'b': busd = optarg; break;
		case 't': timeout_s = bench_number(optarg, "--timeout", 3600); break;
		case 'v': b.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	if (busd == NULL && optind < argc)
		busd = argv[optind];
	b.busd = bench_find_busd(busd, busd_buf, sizeof(busd_buf));
	if (b.busd == NULL || access(b.busd, X_OK) == -1) {
		fprintf(stderr, "bench_bus: no picsec-busd at %s (use --busd PATH)\n",
		    b.busd != NULL ? b.busd : "?");
		return 1;
	}
	b.res = mmap(NULL, sizeof(*b.res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (b.res == MAP_FAILED) {
		perror("bench_bus: mmap");
		return 1;
	}
	snprintf(b.dir, sizeof(b.dir), "/tmp/picsec-bench-XXXXXX");
	if (mkdtemp(b.dir) == NULL) {
		perror("bench_bus: mkdtemp");
		goto out;
	}
	made = true;
	signal(SIGINT, bench_on_signal);
	signal(SIGTERM, bench_on_signal);
	signal(SIGPIPE, SIG_IGN); /* a role that died must not take the other with it */
	b.deadline_ns = monotonic_ns() + timeout_s * 1000000000ULL;

	zmq_version(&major, &minor, &patch);
	printf("bench_bus: %llu events, %llu requests (+%d warm-up), ZeroMQ %d.%d.%d, %ld CPUs, "
	    "timeout %llu s\n", (unsigned long long)b.events, (unsigned long long)b.requests,
	    BENCH_WARMUP, major, minor, patch, sysconf(_SC_NPROCESSORS_ONLN),
	    (unsigned long long)timeout_s);
	printf("busd: %s\nrundir: %s\n", b.busd, b.dir);
	busd_pid = bench_busd_start(&b);
	if (busd_pid == -1) {
		fprintf(stderr, "bench_bus: %s did not start (try -v)\n", b.busd);
		goto out;
	}
	/* Bus first, then direct, each run alone: on two cores any overlap would skew both. */
	if (!bench_expired(&b))
		bench_events_run(&b, false);
	if (!bench_expired(&b))
		bench_events_run(&b, true);
	if (!bench_expired(&b))
		bench_requests_run(&b, false);
	if (!bench_expired(&b))
		bench_requests_run(&b, true);
	if (bench_expired(&b))
		printf("stopped early (timeout or signal): the figures cover what ran before\n");
	kill(busd_pid, SIGTERM);
	bench_reap(busd_pid, monotonic_ns() + 2000000000ULL);
	bench_report(&b);
	rc = 0;
out:
	if (made)
		bench_rmdir(b.dir);
	munmap(b.res, sizeof(*b.res));
	return rc;
}
