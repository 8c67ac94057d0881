/* bench_scale: SAs installed through picsec-sadb into one PIC at scale, and cleared when the
 * PIC dies (clear-ipsec-sas-on-pic-restart), with the PIC's memory; beside the raw cost of
 * the OpenSSL contexts those SAs need, measured in-process. */
#ifndef PICSEC_BENCH_SCALE_H
#define PICSEC_BENCH_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a process holds, from /proc (kB; -1: not read). */
struct scale_mem {
	long rss_kb, anon_kb;	 /* status: VmRSS, RssAnon */
	long pss_kb, dirty_kb;	 /* smaps_rollup: Pss, Private_Dirty */
};

enum { SCALE_CPU_MAX = 8 };

/* A process whose CPU time the run counts. */
struct scale_cpu {
	const char *name;
	pid_t pid;
	double install_s, clear_s; /* user + system during each phase */
};

struct scale_opts {
	const char *rundir;
	const char *pic, *set, *rule, *term;
	uint8_t local[4], remote[4];
	pid_t pic_pid, sadb_pid;
	unsigned count;		/* SAs (two per Child SA) */
	unsigned per_install;	/* Child SAs per SaInstall */
	unsigned window;	/* SaInstall requests in flight */
	unsigned timeout_s;	/* for each phase */
	bool gcm;		/* aes-128-gcm instead of aes-128-cbc + hmac-sha-256-128 */
	bool verbose;
	struct scale_cpu cpu[SCALE_CPU_MAX]; /* the suite's processes, and ourselves (pid 0) */
	size_t ncpu;
};

/* What one run measured; times in ns from the first request (install) or the kill (clear). */
struct scale_result {
	uint64_t sadb_ns;	/* the last SaInstalled */
	uint64_t pic_ns;	/* the first PicStatus with every SA installed */
	unsigned installed;	/* SAs sadb said it installed */
	unsigned pic_installed; /* the PIC's last count */
	unsigned requests, spi_requests, failures;
	unsigned status_reports; /* PicStatus events during the install */
	size_t status_max_bytes; /* the largest PicStatus payload seen */
	struct scale_mem pic_before, pic_after, sadb_before, sadb_after, sadb_cleared;
	uint64_t down_ns;	/* healthd's DOWN for the PIC */
	uint64_t cleanup_ns;	/* sadb's SaCleanup */
	uint64_t removed_ns;	/* the sa.removed that completed the count */
	unsigned cleanup_cleared;
	unsigned removed;
	char load[64];		/* the load average when the install began */
	size_t snapshot_bytes;	/* sadb's SaSnapshot of the PIC with every SA, 0: none */
	char snapshot_error[128]; /* or why there was none */
	double busy;		/* the machine's CPU busy during the install, 0..1 */
	char error[256];
};

/* The reference: the OpenSSL contexts of n SAs made, keyed and freed in this process. */
struct scale_ref {
	double make_s, free_s;
	double bytes_per_sa;	/* heap in use (mallinfo2) */
};

/* scale_run.c */
int scale_run(struct scale_opts *o, struct scale_result *r);

/* scale_ref.c */
int scale_ref_run(unsigned n, bool gcm, struct scale_ref *out);
int scale_mem_read(pid_t pid, struct scale_mem *m);
/* The CPU seconds (user + system) of pid so far; 0: this process. -1 if it is gone. */
double scale_cpu_read(pid_t pid);
/* The machine's busy and total CPU time so far (jiffies), and its load average. */
void scale_machine(uint64_t *busy, uint64_t *total);
void scale_loadavg(char *out, size_t len);

#endif
