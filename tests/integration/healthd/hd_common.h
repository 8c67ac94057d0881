/* What the picsec-healthd integration tests share: a temporary directory with a guardian
 * that stops everything started under it even if the test dies (the processes healthd
 * --supervise starts are in sessions of their own and outlive a killed test otherwise),
 * daemons logging into that directory (optionally inside a network namespace), and an
 * anonymous bus client recording healthd's "service.*" and "iface.*" events. */
#ifndef PICSEC_HD_COMMON_H
#define PICSEC_HD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus.h"
#include "health.pb-c.h"

enum { HD_MAX_EVENTS = 1024 };

#define HD_IP "/usr/sbin/ip"

#define HSK(x) PICSEC__V1__SERVICE_STATE_KIND__SERVICE_##x
#define HIC(x) PICSEC__V1__IFACE_CHANGE__IFACE_##x

/* One ServiceState event as received. */
struct hd_svc_ev {
	char name[64];
	int state, previous;
	uint64_t incarnation;
	uint32_t pid, restarts;
	char cause[160];
	char hostname[64];
	uint64_t since_ns;	/* healthd's CLOCK_REALTIME of the change */
	uint64_t recv_ms;	/* our CLOCK_MONOTONIC when it arrived */
};

/* One IfaceEvent as received. */
struct hd_iface_ev {
	char topic[64];
	char device[32];
	int change;
	uint8_t addr[16];
	size_t alen;
	bool usable;
	uint64_t recv_ms;
};

struct hd_env {
	char dir[64], rundir[128], statedir[128], logdir[128];
	char netns[48];		/* daemons run in it when set */
	struct ev_loop *loop;
	struct bus *bus;	/* anonymous: the events */
	struct hd_svc_ev svc[HD_MAX_EVENTS];
	size_t nsvc;
	struct hd_iface_ev ifc[HD_MAX_EVENTS];
	size_t nifc;
	unsigned busd_hellos;	/* hello.busd: our subscriptions are in place (again) */
	pid_t guardian;
};
extern struct hd_env hd;

/* Temporary directory (run/, state/, log/ under it), the guardian, the loop. With netns,
 * the guardian also deletes that namespace. */
void hd_setup(const char *netns);
/* Stops whatever still runs under the directory (by pid), removes it; prints the ends of
 * the logs to stderr (meson shows them when the test fails). */
void hd_teardown(void);

/* The anonymous client: subscribed to service., iface. and hello.busd; waits for busd's
 * hello (up to timeout_ms) so that the subscriptions are known to be in place. */
void hd_connect(unsigned timeout_ms);

uint64_t hd_now_ms(void);
uint64_t hd_realtime_ns(void);
void hd_run_for(unsigned ms);

/* argv[0] is the program; stdout and stderr go to DIR/log (appended). In hd.netns when
 * set. The process is killed when the test process dies. */
pid_t hd_spawn(const char *log, const char *const argv[]);
/* picsec-busd on hd.rundir; waits for its request socket. */
pid_t hd_busd(void);
/* picsec-healthd on hd.rundir, watch mode; args: more arguments, NULL-terminated. */
pid_t hd_healthd(const char *log, ...);
/* picsec-sadb on hd.rundir with hd.statedir. */
pid_t hd_sadb(void);
/* Sends sig; waits up to timeout_ms for the exit, then SIGKILL. The wait status; *pid = 0. */
int hd_stop(pid_t *pid, int sig, unsigned timeout_ms);
/* As hd_stop with SIGTERM, and asserts exit status 0 (under the sanitizers: no errors and
 * no leaks). */
void hd_stop_clean(pid_t *pid, const char *what);

/* The pid's process exists and is not a zombie. */
bool hd_alive(pid_t pid);
/* Processes whose command line mentions hd.dir (not us nor the guardian). */
size_t hd_pids_under(pid_t *out, size_t max);
/* The one process under hd.dir whose comm is comm ("picsec-sadb"); 0 if none; asserts it
 * is not more than one. */
pid_t hd_pid_of(const char *comm);

/* The index of the first ServiceState of name with state at or after from, waiting up to
 * timeout_ms; -1 if none came. state -1: any state. */
int hd_wait_svc(const char *name, int state, size_t from, unsigned timeout_ms);
/* Counts ServiceState events of name (NULL: any) in state since from. */
size_t hd_count_svc(const char *name, int state, size_t from);
/* The index of the first IfaceEvent about addr (len 4) with change, at or after from. */
int hd_wait_iface(const uint8_t *addr, int change, size_t from, unsigned timeout_ms);

/* ServiceGetList; asserts an answer. Free with bus_call_result_free. */
struct bus_call_result *hd_list(const Picsec__V1__ServiceList **out);
const Picsec__V1__ServiceInfo *hd_info(const Picsec__V1__ServiceList *l, const char *name);

/* Runs a command (argv[0] a path), waits, asserts status 0 unless may_fail. */
int hd_cmd(bool may_fail, const char *const argv[]);

/* A measurement, one line "# ..." on stderr, written at once. (Criterion silences a test's
 * output when its TAP goes to "-": these tests write their TAP to /dev/stdout instead.) */
void hd_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last lines of DIR/log to stderr. */
void hd_print_log(const char *log, size_t lines);

#endif
