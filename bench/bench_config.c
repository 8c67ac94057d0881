/* bench_config: a generated configuration of N terms (default 10,000), parsed, checked and
 * committed, beside the time `cat` takes to read the same file, in one run. Two views:
 * the library in this process (parse, check, snapshot, display: the work of a commit), and
 * end to end through picsec-configd (picsec configure -f FILE: the bus, the checks, the
 * snapshot, the durable write), with configd's peak memory. Goal: under 1 s and 200 MiB. */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg_snapshot.h"
#include "config.h"
#include "envelope.h"

enum { GOAL_MS = 1000, GOAL_MIB = 200 };

static double
ms_since(uint64_t t0)
{
	return (double)(monotonic_ns() - t0) / 1e6;
}

static void
generate(const char *path, unsigned terms)
{
	unsigned rules = terms >= 100 ? 100 : 1, per = terms / rules, r, t, i;
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(f, "services {\n    ipsec-vpn {\n");
	for (r = 0; r < rules; r++) {
		fprintf(f, "        rule r%u {\n            match-direction input;\n", r);
		for (t = 0; t < per; t++) {
			i = r * per + t;
			fprintf(f,
			    "            term t%u {\n"
			    "                from {\n"
			    "                    source-address 10.%u.%u.0/24;\n"
			    "                    destination-address 172.16.%u.0/24;\n"
			    "                }\n"
			    "                then {\n"
			    "                    remote-gateway 198.51.100.%u;\n"
			    "                    manual {\n"
			    "                        direction bidirectional {\n"
			    "                            protocol esp;\n"
			    "                            spi %u;\n"
			    "                            authentication {\n"
			    "                                algorithm hmac-sha1-96;\n"
			    "                                key hexadecimal %040x;\n"
			    "                            }\n"
			    "                            encryption {\n"
			    "                                algorithm aes-128-cbc;\n"
			    "                                key hexadecimal %032x;\n"
			    "                            }\n"
			    "                        }\n"
			    "                    }\n"
			    "                }\n"
			    "            }\n", t, (i >> 8) & 255, i & 255, i & 255, i % 250 + 1,
			    256 + i, i + 1, i + 2);
		}
		fprintf(f, "        }\n");
	}
	fprintf(f, "    }\n    service-set ss1 {\n        next-hop-service {\n"
	    "            inside-service-interface ms-0/0/0.1;\n"
	    "            outside-service-interface ms-0/0/0.2;\n        }\n");
	for (r = 0; r < rules; r++)
		fprintf(f, "        ipsec-vpn-rules r%u;\n", r);
	fprintf(f, "        ipsec-vpn-options {\n            local-gateway 192.0.2.1;\n"
	    "        }\n    }\n}\n");
	fclose(f);
}

/* Runs argv with stdout to /dev/null (unless keep); returns its wall time in ms. */
static double
run(const char *const argv[], bool quiet, int *status)
{
	uint64_t t0 = monotonic_ns();
	pid_t pid = fork();
	int fd;

	if (pid == 0) {
		if (quiet && (fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		/* execv's prototype predates const; it does not change the strings. */
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	waitpid(pid, status, 0);
	return ms_since(t0);
}

static pid_t
spawn_quiet(const char *const argv[])
{
	pid_t pid = fork();
	int fd;

	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		/* execv's prototype predates const; it does not change the strings. */
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return pid;
}

/* VmHWM of a process, in MiB. */
static double
peak_mib(pid_t pid)
{
	char path[64], line[256];
	unsigned long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return (double)kb / 1024.0;
}

static char *
slurp(const char *path, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	*len = strbuf_len(&sb);
	return sb.buf;
}

static void
sibling(char *out, size_t outlen, const char *self, const char *rel)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", self);
	snprintf(out, outlen, "%s/%s", dirname(copy), rel);
}

static const char *
verdict(bool met)
{
	return met ? "goal met" : "goal NOT met";
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/picsec-bench-config-XXXXXX", conf[PATH_MAX], rundir[PATH_MAX];
	char statedir[PATH_MAX], busd[PATH_MAX], configd[PATH_MAX], cli[PATH_MAX];
	char sock[PATH_MAX + 32];
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct strbuf text = STRBUF_INIT;
	struct cfg_snapshot *snap;
	struct cfg_node *tree;
	struct rusage ru;
	struct stat st;
	unsigned terms = 10000;
	double t_cat, t_parse, t_check, t_snap, t_display, t_commit, mib_lib, mib_configd;
	uint64_t t0;
	pid_t busd_pid, configd_pid;
	char *input;
	size_t len = 0;
	int c, status, i;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c == 'n')
			terms = (unsigned)strtoul(optarg, NULL, 10);
	}
	if (terms == 0 || terms > 16000) {
		fprintf(stderr, "usage: bench_config [-n TERMS (1..16000: one SPI each)]\n");
		return 2;
	}
	sibling(busd, sizeof(busd), argv[0], "../services/busd/picsec-busd");
	sibling(configd, sizeof(configd), argv[0], "../services/configd/picsec-configd");
	sibling(cli, sizeof(cli), argv[0], "../tools/cli/picsec");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/big.conf", dir);
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	generate(conf, terms);
	stat(conf, &st);

	/* The reference: reading the file at all. */
	t_cat = run((const char *const[]){ "/bin/cat", conf, NULL }, true, &status);

	input = slurp(conf, &len);
	if (input == NULL) {
		perror(conf);
		return 1;
	}
	t0 = monotonic_ns();
	tree = cfg_parse(conf, input, len, CFG_FORMAT_BRACES, &d);
	t_parse = ms_since(t0);
	t0 = monotonic_ns();
	cfg_check(tree, &d);
	t_check = ms_since(t0);
	t0 = monotonic_ns();
	snap = cfg_snapshot_build(tree, 1, "bench", "", 0);
	t_snap = ms_since(t0);
	t0 = monotonic_ns();
	cfg_display(tree, &text);
	t_display = ms_since(t0);
	getrusage(RUSAGE_SELF, &ru);
	mib_lib = (double)ru.ru_maxrss / 1024.0;
	if (d.errors > 0) {
		fprintf(stderr, "bench_config: the generated configuration does not check\n");
		return 1;
	}

	/* End to end: busd, configd, and the CLI's configure -f. */
	busd_pid = spawn_quiet((const char *const[]){ busd, "--rundir", rundir, NULL });
	snprintf(sock, sizeof(sock), "%s/requests.sock", rundir);
	for (i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(10000);
	configd_pid = spawn_quiet((const char *const[]){ configd, "--rundir", rundir,
	    "--statedir", statedir, NULL });
	usleep(300000);
	setenv("PICSEC_RUNDIR", rundir, 1);
	t_commit = run((const char *const[]){ cli, "--timeout", "60000",
	    "configure", "-f", conf, NULL }, true, &status);
	mib_configd = peak_mib(configd_pid);
	kill(configd_pid, SIGTERM);
	kill(busd_pid, SIGTERM);
	waitpid(configd_pid, NULL, 0);
	waitpid(busd_pid, NULL, 0);

	printf("bench_config: %u terms, %.1f MiB of configuration\n\n", terms,
	    (double)st.st_size / 1048576.0);
	printf("%-44s %10s %10s\n", "", "ms", "x cat");
	printf("%-44s %10.1f %10.1f\n", "cat (read the file)", t_cat, 1.0);
	printf("%-44s %10.1f %10.1f\n", "parse", t_parse, t_parse / t_cat);
	printf("%-44s %10.1f %10.1f\n", "commit checks", t_check, t_check / t_cat);
	printf("%-44s %10.1f %10.1f\n", "snapshot (typed, keys decoded)", t_snap, t_snap / t_cat);
	printf("%-44s %10.1f %10.1f\n", "display (what is written to disk)", t_display,
	    t_display / t_cat);
	printf("%-44s %10.1f %10.1f   %s: < %d ms\n", "configure -f + commit via configd (end to end)",
	    t_commit, t_commit / t_cat, verdict(t_commit < GOAL_MS && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0), GOAL_MS);
	printf("\n%-44s %10.1f MiB\n", "peak memory, library in this process", mib_lib);
	printf("%-44s %10.1f MiB   %s: < %d MiB\n", "peak memory of picsec-configd", mib_configd,
	    verdict(mib_configd >= 0 && mib_configd < GOAL_MIB), GOAL_MIB);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("\nthe commit through configd FAILED (exit status %d)\n",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);

	cfg_snapshot_free(snap);
	cfg_node_free(tree);
	cfg_diags_free(&d);
	strbuf_release(&text);
	free(input);
	run((const char *const[]){ "/bin/rm", "-rf", dir, NULL }, true, &c);
	return 0;
}
