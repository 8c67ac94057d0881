/* The reference of bench/scale: what the SAs cost at least, the OpenSSL contexts a
 * datapath keeps per SA keyed once (AES-128-CBC + HMAC-SHA-256, or AES-128-GCM), made
 * and freed for n SAs in this process, timed, their heap counted by malloc itself. And
 * the memory of another process, from /proc. */
#include "scale.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "envelope.h"

struct ref_sa {
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
};

static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static int
scale_ref_here(unsigned n, bool gcm, struct scale_ref *out)
{
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, gcm ? "AES-128-GCM" : "AES-128-CBC", NULL);
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[2];
	struct ref_sa *sas = calloc(n + 1, sizeof(*sas));
	uint8_t key[48];
	size_t heap0, heap1;
	uint64_t t0, t1;
	unsigned i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (cipher == NULL || hmac == NULL || sas == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	memset(key, 0x5c, sizeof(key));
	heap0 = heap_in_use();
	t0 = monotonic_ns();
	for (i = 0; i < n; i++) {
		key[i % 16] ^= (uint8_t)i; /* a key of its own */
		if ((sas[i].cipher = EVP_CIPHER_CTX_new()) == NULL ||
		    EVP_CipherInit_ex2(sas[i].cipher, cipher, key, NULL, 1, NULL) != 1)
			goto out;
		if (gcm)
			continue;
		if ((sas[i].mac = EVP_MAC_CTX_new(hmac)) == NULL ||
		    EVP_MAC_init(sas[i].mac, key + 16, 32, params) != 1)
			goto out;
	}
	t1 = monotonic_ns();
	heap1 = heap_in_use();
	out->make_s = (double)(t1 - t0) / 1e9;
	out->bytes_per_sa = n > 0 ? (double)(heap1 - heap0) / n : 0;
	t0 = monotonic_ns();
	for (i = 0; i < n; i++) {
		EVP_CIPHER_CTX_free(sas[i].cipher);
		EVP_MAC_CTX_free(sas[i].mac);
		sas[i].cipher = NULL;
		sas[i].mac = NULL;
	}
	out->free_s = (double)(monotonic_ns() - t0) / 1e9;
	rc = 0;
out:
	for (i = 0; sas != NULL && i < n; i++) {
		EVP_CIPHER_CTX_free(sas[i].cipher);
		EVP_MAC_CTX_free(sas[i].mac);
	}
	free(sas);
	EVP_CIPHER_free(cipher);
	EVP_MAC_free(hmac);
	return rc;
}

int
scale_ref_run(unsigned n, bool gcm, struct scale_ref *out)
{
	struct scale_ref r;
	int fd[2], status;
	ssize_t got = 0;
	pid_t pid;

	/* In a child of its own: a heap that has grown already (the other reference, our
	 * run) would spare it the page faults the PIC pays. */
	if (pipe(fd) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(fd[0]);
		_exit(scale_ref_here(n, gcm, &r) == 0 && write(fd[1], &r, sizeof(r)) ==
		    (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fd[1]);
	got = read(fd[0], out, sizeof(*out));
	close(fd[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    got != (ssize_t)sizeof(*out))
		return -1;
	return 0;
}

/* The value of "key:   123 kB" lines of a /proc file. */
static void
mem_fields(const char *path, const char *const *keys, long *const *vals, size_t n)
{
	char line[256];
	size_t i, len;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		for (i = 0; i < n; i++) {
			len = strlen(keys[i]);
			if (strncmp(line, keys[i], len) == 0 && line[len] == ':')
				*vals[i] = strtol(line + len + 1, NULL, 10);
		}
	}
	fclose(f);
}

double
scale_cpu_read(pid_t pid)
{
	unsigned long long ut, st;
	struct rusage ru;
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	if (pid == 0) {
		getrusage(RUSAGE_SELF, &ru);
		return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command's closing parenthesis: state is field 3, utime and stime 14, 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

void
scale_machine(uint64_t *busy, uint64_t *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int i;

	*busy = *total = 0;
	if (f == NULL)
		return;
	/* user nice system idle iowait irq softirq steal */
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (i = 0; i < 8; i++)
			*total += v[i];
		*busy = *total - v[3] - v[4];
	}
	fclose(f);
}

void
scale_loadavg(char *out, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;

	if (f == NULL || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
		snprintf(out, len, "?");
	else
		snprintf(out, len, "%.2f %.2f %.2f", a, b, c);
	if (f != NULL)
		fclose(f);
}

int
scale_mem_read(pid_t pid, struct scale_mem *m)
{
	const char *const status_keys[] = { "VmRSS", "RssAnon" };
	const char *const rollup_keys[] = { "Pss", "Private_Dirty" };
	long *const status_vals[] = { &m->rss_kb, &m->anon_kb };
	long *const rollup_vals[] = { &m->pss_kb, &m->dirty_kb };
	char path[64];

	m->rss_kb = m->anon_kb = m->pss_kb = m->dirty_kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	mem_fields(path, status_keys, status_vals, 2);
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	mem_fields(path, rollup_keys, rollup_vals, 2);
	return m->rss_kb >= 0 ? 0 : -1;
}
