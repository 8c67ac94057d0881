/* picsec-healthd --supervise in a temporary directory (--statedir, --logdir there; the
 * programs from the build tree through PICSEC_BUSD, PICSEC_CONFIGD, PICSEC_SADB,
 * PICSEC_IKED): it starts busd first and configd, sadb and iked once busd is up (iked once
 * sadb is); a SIGKILLed sadb is back within 0.5 s as a new incarnation; killed again and
 * again young, it comes back after 0.1, 0.2, 0.4, 0.8 s and then the maximum, and after
 * --stable-after of life at 0.1 s again; a SIGKILLed busd is restarted and everyone
 * registers again without being restarted; a healthd SIGKILLed and started again adopts what
 * runs (the same pids, the same busd.pid, nothing started twice) and still restarts what
 * dies (sadb, busd); a stopped process is killed after --hang-timeout and restarted; SIGTERM
 * to healthd stops the whole suite, adopted processes too, within 3 s. Times are printed. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "bus.h"
#include "bus.pb-c.h"
#include "catalog.h"
#include "hd_common.h"
#include "testutil.h"

static const char *const suite[] = { "busd", "configd", "sadb", "iked" };
enum { NSUITE = 4 };

static pid_t healthd;
static char stable_after[16] = "2", restart_delay[16] = "0.1,30", hang_timeout[16] = "10";

static void
setup(void)
{
	hd_setup(NULL);
}

static void
teardown(void)
{
	hd_teardown();
}

TestSuite(healthd_supervise, .init = setup, .fini = teardown, .timeout = 120);

static pid_t
supervisor(const char *log)
{
	return hd_healthd(log, "--supervise", "--statedir", hd.statedir, "--logdir", hd.logdir,
	    "--restart-delay", restart_delay, "--stable-after", stable_after, "--hang-timeout",
	    hang_timeout, NULL);
}

/* The pids healthd lists for the suite, once all four are up (0 if not in time). */
static bool
all_up(pid_t pids[NSUITE], uint64_t incs[NSUITE], unsigned timeout_ms)
{
	uint64_t t0 = hd_now_ms();
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	bool ok;

	do {
		r = hd_list(&l);
		ok = l->supervising;
		for (size_t i = 0; i < NSUITE && ok; i++) {
			si = hd_info(l, suite[i]);
			ok = si != NULL && si->state == HSK(UP) && si->pid != 0;
			if (ok) {
				pids[i] = (pid_t)si->pid;
				incs[i] = si->incarnation;
			}
		}
		bus_call_result_free(r);
		if (!ok)
			hd_run_for(100);
	} while (!ok && hd_now_ms() - t0 < timeout_ms);
	return ok;
}

/* healthd --supervise, our client on its busd, and the suite up. */
static void
start(pid_t pids[NSUITE], uint64_t incs[NSUITE])
{
	uint64_t t0 = hd_now_ms();

	healthd = supervisor("healthd.log");
	hd_connect(8000);
	cr_assert(all_up(pids, incs, 10000), "the suite was not up 10 s after healthd started");
	hd_note("supervise: the suite up %llu ms after healthd started",
	    (unsigned long long)(hd_now_ms() - t0));
}

static pid_t
busd_pid_file(void)
{
	char path[256], *text;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/busd.pid", hd.rundir);
	/* 0 while there is none (a busd restarting). */
	if ((text = test_read_file(path)) == NULL)
		return 0;
	pid = (pid_t)atoi(text);
	free(text);
	return pid;
}

/* Where needle first is in the log (its offset), or -1. */
static long
log_at(const char *log, const char *needle)
{
	char *p = strstr(log, needle);

	return p != NULL ? p - log : -1;
}

/* SIGTERM to healthd: its suite gone within 3 s, healthd exits 0. */
static void
stop_all(void)
{
	uint64_t t0 = hd_now_ms(), dt = 0;
	pid_t pids[64], h = healthd;
	size_t n = 0;
	int status;

	kill(healthd, SIGTERM);
	while (hd_now_ms() - t0 < 6000) {
		n = hd_pids_under(pids, 64);
		/* healthd itself may still be finishing (its log, its frees). */
		if (n == 0 || (n == 1 && pids[0] == h))
			break;
		usleep(10000);
	}
	dt = hd_now_ms() - t0;
	hd_note("supervise: SIGTERM to healthd: the suite gone after %llu ms",
	    (unsigned long long)dt);
	cr_assert(n == 0 || (n == 1 && pids[0] == h), "%zu processes left 6 s after SIGTERM", n);
	cr_assert_leq(dt, 3000, "the suite took %llu ms to stop", (unsigned long long)dt);
	status = test_wait(healthd, 5000);
	healthd = 0;
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "healthd did not exit cleanly (status 0x%x)", status);
}

static void
sadb_killed_comes_back(const char *what, pid_t sadb, uint64_t inc, uint32_t restarts)
{
	uint64_t t0;
	int down, init, up;
	size_t mark = hd.nsvc;

	t0 = hd_now_ms();
	kill(sadb, SIGKILL);
	down = hd_wait_svc("sadb", HSK(DOWN), mark, 2000);
	cr_assert_geq(down, 0, "%s: no DOWN for sadb", what);
	up = hd_wait_svc("sadb", HSK(UP), (size_t)down + 1, 3000);
	cr_assert_geq(up, 0, "%s: sadb not back", what);
	init = hd_wait_svc("sadb", HSK(INIT), (size_t)down + 1, 0);
	hd_note("supervise: %s: SIGKILL sadb -> DOWN after %llu ms (\"%s\"), started again %.0f ms "
	    "after the DOWN, UP after %llu ms", what,
	    (unsigned long long)(hd.svc[down].recv_ms - t0), hd.svc[down].cause,
	    init >= 0 ? (double)(hd.svc[init].since_ns - hd.svc[down].since_ns) / 1e6 : -1.0,
	    (unsigned long long)(hd.svc[up].recv_ms - t0));
	cr_assert_eq(hd.svc[down].incarnation, inc);
	cr_assert_neq(hd.svc[up].incarnation, inc, "a new incarnation");
	cr_assert_neq(hd.svc[up].pid, (uint32_t)sadb, "a new process");
	cr_assert(hd_alive((pid_t)hd.svc[up].pid));
	cr_assert_eq(hd.svc[up].restarts, restarts);
	cr_assert_leq(hd.svc[up].recv_ms - t0, 500, "%s: sadb back after %llu ms", what,
	    (unsigned long long)(hd.svc[up].recv_ms - t0));
}

Test(healthd_supervise, starts_in_dependency_order_restarts_sadb_stops_on_sigterm)
{
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	pid_t pids[NSUITE];
	uint64_t incs[NSUITE];
	long busd_started, busd_up, started[NSUITE], sadb_up;
	char path[256], *log, needle[64];
	int down;

	start(pids, incs);

	/* The order, from healthd's log: busd started first; the rest after busd is up, iked
	 * after sadb is. */
	snprintf(path, sizeof(path), "%s/healthd.log", hd.dir);
	log = test_read_file(path);
	cr_assert_not_null(log);
	for (size_t i = 0; i < NSUITE; i++) {
		snprintf(needle, sizeof(needle), "%s: started ", suite[i]);
		started[i] = log_at(log, needle);
		cr_assert_geq(started[i], 0, "healthd's log does not say it started %s", suite[i]);
	}
	busd_started = started[0];
	busd_up = log_at(log, "busd: init -> up");
	sadb_up = log_at(log, "sadb: init -> up");
	cr_assert_geq(busd_up, 0);
	cr_assert_geq(sadb_up, 0);
	cr_assert(busd_started < busd_up);
	for (size_t i = 1; i < NSUITE; i++) {
		cr_assert_gt(started[i], busd_up, "%s started before busd was up", suite[i]);
		cr_assert_gt(started[i], busd_started);
	}
	cr_assert_gt(started[3], sadb_up, "iked started before sadb was up");
	free(log);

	/* The list: all supervised, local, the pids of the processes that run; started in that
	 * order; busd's pid file. */
	r = hd_list(&l);
	cr_assert(l->supervising);
	for (size_t i = 0; i < NSUITE; i++) {
		char comm[32];

		si = hd_info(l, suite[i]);
		snprintf(comm, sizeof(comm), "picsec-%s", suite[i]);
		cr_assert(si->supervised, "%s not supervised", suite[i]);
		cr_assert(si->local);
		cr_assert_eq(si->restarts, 0);
		cr_assert_eq(si->next_start_ms, 0);
		cr_assert_eq((pid_t)si->pid, hd_pid_of(comm), "%s: listed pid %u", suite[i],
		    si->pid);
		if (i > 0)
			cr_assert_gt(si->started_ns, hd_info(l, "busd")->started_ns,
			    "%s started before busd", suite[i]);
	}
	cr_assert_gt(hd_info(l, "iked")->started_ns, hd_info(l, "sadb")->started_ns);
	bus_call_result_free(r);
	cr_assert_eq(busd_pid_file(), pids[0]);

	sadb_killed_comes_back("first kill", pids[2], incs[2], 1);
	down = hd_wait_svc("sadb", HSK(DOWN), 0, 0);
	cr_assert_str_eq(hd.svc[down].cause, "killed by signal 9 (SIGKILL)");
	cr_assert_eq(hd_count_svc(NULL, HSK(UNRESPONSIVE), 0), 0);
	/* The others untouched. */
	cr_assert_eq(hd_pid_of("picsec-busd"), pids[0]);
	cr_assert_eq(hd_pid_of("picsec-configd"), pids[1]);
	cr_assert_eq(hd_pid_of("picsec-iked"), pids[3]);
	stop_all();
}

Test(healthd_supervise, dying_young_backs_off_doubling_to_the_max_a_stable_life_resets_it)
{
	/* --restart-delay 0.1,1: doubling up to 1 s. */
	static const double expect[] = { 0.1, 0.2, 0.4, 0.8, 1.0 };
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	pid_t pids[NSUITE];
	uint64_t incs[NSUITE];
	double delay[6];
	int up, down, init;
	char line[256] = "";
	size_t mark;

	snprintf(stable_after, sizeof(stable_after), "1.5");
	snprintf(restart_delay, sizeof(restart_delay), "0.1,1");
	start(pids, incs);
	/* Lived: the first restart is at the minimum. */
	hd_run_for(1600);
	mark = hd.nsvc;
	for (size_t k = 0; k < 6; k++) {
		uint32_t pid;

		if (k == 5) {
			/* Now live longer than --stable-after: the back-off starts again. */
			hd_run_for(1800);
		}
		pid = k == 0 ? (uint32_t)pids[2] : hd.svc[mark].pid;
		kill((pid_t)pid, SIGKILL);
		down = hd_wait_svc("sadb", HSK(DOWN), mark, 2000);
		cr_assert_geq(down, 0, "kill %zu: no DOWN", k);
		if (k == 2) {
			/* In the back-off: the list says how long is left. */
			r = hd_list(&l);
			si = hd_info(l, "sadb");
			cr_assert_eq(si->state, HSK(DOWN));
			cr_assert(si->next_start_ms > 0 && si->next_start_ms <= 400,
			    "next start in %llu ms", (unsigned long long)si->next_start_ms);
			bus_call_result_free(r);
		}
		init = hd_wait_svc("sadb", HSK(INIT), (size_t)down + 1, 4000);
		cr_assert_geq(init, 0, "kill %zu: sadb not started again", k);
		up = hd_wait_svc("sadb", HSK(UP), (size_t)init + 1, 3000);
		cr_assert_geq(up, 0, "kill %zu: sadb not up again", k);
		delay[k] = (double)(hd.svc[init].since_ns - hd.svc[down].since_ns) / 1e9;
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " %.3f", delay[k]);
		mark = (size_t)up;
	}
	hd_note("supervise: restart delays after SIGKILL (s):%s  (expected with --restart-delay "
	    "0.1,1: 0.1 0.2 0.4 0.8 1.0, then 0.1 after a stable life)", line);
	for (size_t k = 0; k < 5; k++)
		cr_assert(delay[k] >= expect[k] - 0.005 && delay[k] <= expect[k] + 0.15,
		    "restart %zu after %.3f s, expected %.1f", k, delay[k], expect[k]);
	cr_assert(delay[5] >= 0.095 && delay[5] <= 0.25, "after a stable life: %.3f s", delay[5]);
	cr_assert_eq(hd.svc[mark].restarts, 6);
	stop_all();
}

static bool
hellos_above(void *arg)
{
	return hd.busd_hellos > *(unsigned *)arg;
}

/* busd's list of registered names: each of suite[1..] with the incarnation expected. */
static bool
registered_again(const uint64_t incs[NSUITE], uint64_t healthd_inc)
{
	Picsec__V1__BusListServices q = PICSEC__V1__BUS_LIST_SERVICES__INIT;
	const Picsec__V1__BusServiceList *l;
	struct bus_call_result *r;
	size_t found = 0;

	if (bus_call(hd.bus, "busd", MT(BUS_LIST_SERVICES), &q.base, 2000, &r) != 0) {
		bus_call_result_free(r);
		return false;
	}
	l = (const Picsec__V1__BusServiceList *)bus_call_get(r)->msg;
	for (size_t i = 0; i < l->n_services; i++) {
		const Picsec__V1__BusService *s = l->services[i];

		for (size_t k = 1; k < NSUITE; k++)
			found += strcmp(s->name, suite[k]) == 0 && s->hello->incarnation == incs[k];
		found += strcmp(s->name, "healthd") == 0 && s->hello->incarnation == healthd_inc;
	}
	bus_call_result_free(r);
	return found == NSUITE;
}

Test(healthd_supervise, busd_killed_is_restarted_and_everyone_registers_again)
{
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	pid_t pids[NSUITE], nb = 0;
	uint64_t incs[NSUITE], healthd_inc, t0, t_new = 0, t_reg;
	unsigned hellos;
	char path[256], *log;
	bool reg = false;

	start(pids, incs);
	r = hd_list(&l);
	healthd_inc = l->healthd_incarnation;
	bus_call_result_free(r);
	hellos = hd.busd_hellos;

	t0 = hd_now_ms();
	kill(pids[0], SIGKILL);
	while (hd_now_ms() - t0 < 3000) {
		nb = hd_pid_of("picsec-busd");
		if (nb != 0 && nb != pids[0]) {
			t_new = hd_now_ms() - t0;
			break;
		}
		usleep(5000);
	}
	cr_assert(nb != 0 && nb != pids[0], "busd was not started again");
	cr_assert(test_run_until(hd.loop, hellos_above, &hellos, 5000),
	    "our client is not back on the new busd");
	while (!(reg = registered_again(incs, healthd_inc)) && hd_now_ms() - t0 < 6000)
		hd_run_for(50);
	t_reg = hd_now_ms() - t0;
	hd_note("supervise: SIGKILL busd -> a new busd after %llu ms, everyone registered again "
	    "(same incarnations) after %llu ms", (unsigned long long)t_new,
	    (unsigned long long)t_reg);
	cr_assert(reg, "configd, sadb, iked and healthd are not all registered again with busd");

	/* Past healthd's grace: nobody was restarted or judged for busd's absence. */
	hd_run_for(3500);
	cr_assert_eq(busd_pid_file(), nb);
	cr_assert_eq(hd_pid_of("picsec-configd"), pids[1]);
	cr_assert_eq(hd_pid_of("picsec-sadb"), pids[2]);
	cr_assert_eq(hd_pid_of("picsec-iked"), pids[3]);
	r = hd_list(&l);
	si = hd_info(l, "busd");
	cr_assert_eq(si->state, HSK(UP));
	cr_assert_eq((pid_t)si->pid, nb);
	cr_assert_eq(si->restarts, 1);
	cr_assert_neq(si->incarnation, incs[0]);
	cr_assert_str_eq(si->last_cause, "killed by signal 9 (SIGKILL)");
	for (size_t k = 1; k < NSUITE; k++) {
		si = hd_info(l, suite[k]);
		cr_assert_eq(si->state, HSK(UP), "%s: state %d", suite[k], si->state);
		cr_assert_eq(si->restarts, 0, "%s restarted", suite[k]);
		cr_assert_eq(si->incarnation, incs[k]);
	}
	bus_call_result_free(r);
	snprintf(path, sizeof(path), "%s/healthd.log", hd.dir);
	log = test_read_file(path);
	cr_assert_null(strstr(log, "-> unresponsive"), "someone was unresponsive");
	cr_assert_null(strstr(log, "sadb: up -> down"));
	cr_assert_null(strstr(log, "configd: up -> down"));
	cr_assert_null(strstr(log, "iked: up -> down"));
	free(log);
	stop_all();
}

Test(healthd_supervise, a_new_healthd_adopts_the_running_suite_and_still_restarts)
{
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	pid_t pids[NSUITE], again[NSUITE], h1;
	uint64_t incs[NSUITE], incs2[NSUITE], t0;
	char path[256], *log;
	int status;

	start(pids, incs);
	h1 = healthd;
	cr_assert_eq(busd_pid_file(), pids[0]);
	status = hd_stop(&healthd, SIGKILL, 2000);
	cr_assert(WIFSIGNALED(status));
	hd_run_for(300);
	for (size_t i = 0; i < NSUITE; i++)
		cr_assert(hd_alive(pids[i]), "%s died with healthd", suite[i]);

	t0 = hd_now_ms();
	healthd = supervisor("healthd2.log");
	cr_assert(all_up(again, incs2, 8000), "the new healthd does not see the suite up");
	hd_note("supervise: a new healthd listed the running suite up after %llu ms",
	    (unsigned long long)(hd_now_ms() - t0));
	/* Past its adoption window (1 s) and some: nothing started twice. */
	hd_run_for(2000);
	cr_assert_eq(busd_pid_file(), pids[0], "busd.pid changed");
	for (size_t i = 0; i < NSUITE; i++) {
		char comm[32];

		snprintf(comm, sizeof(comm), "picsec-%s", suite[i]);
		cr_assert_eq(again[i], pids[i], "%s: pid %d listed, %d before", suite[i],
		    (int)again[i], (int)pids[i]);
		cr_assert_eq(incs2[i], incs[i], "%s: another incarnation", suite[i]);
		cr_assert_eq(hd_pid_of(comm), pids[i], "%s runs as another process", suite[i]);
	}
	snprintf(path, sizeof(path), "%s/healthd2.log", hd.dir);
	log = test_read_file(path);
	cr_assert_not_null(log);
	cr_assert_null(strstr(log, ": started "), "the new healthd started something");
	free(log);
	r = hd_list(&l);
	cr_assert(l->supervising);
	cr_assert_neq((pid_t)hd_info(l, "healthd")->pid, h1);
	for (size_t i = 0; i < NSUITE; i++) {
		si = hd_info(l, suite[i]);
		cr_assert(si->supervised && si->local, "%s", suite[i]);
		cr_assert_eq(si->restarts, 0);
	}
	bus_call_result_free(r);

	/* Adopted, not our child: still restarted when it dies; busd too. */
	sadb_killed_comes_back("adopted", pids[2], incs[2], 1);
	t0 = hd_now_ms();
	kill(pids[0], SIGKILL);
	do {
		again[0] = hd_pid_of("picsec-busd");
		if (again[0] != 0 && again[0] != pids[0] && busd_pid_file() == again[0])
			break;
		usleep(5000);
	} while (hd_now_ms() - t0 < 3000);
	hd_note("supervise: adopted busd SIGKILLed: a new one after %llu ms",
	    (unsigned long long)(hd_now_ms() - t0));
	cr_assert(again[0] != 0 && again[0] != pids[0], "the adopted busd was not restarted");
	cr_assert_eq(busd_pid_file(), again[0]);
	stop_all();
}

Test(healthd_supervise, a_hung_process_is_killed_after_the_hang_timeout_and_restarted)
{
	pid_t pids[NSUITE];
	uint64_t incs[NSUITE], t0;
	int un, down, up;

	snprintf(hang_timeout, sizeof(hang_timeout), "1");
	start(pids, incs);
	t0 = hd_now_ms();
	kill(pids[2], SIGSTOP);
	un = hd_wait_svc("sadb", HSK(UNRESPONSIVE), 0, 6000);
	cr_assert_geq(un, 0, "a stopped sadb was never unresponsive");
	/* SIGABRT stays pending on a stopped process: SIGKILL 3 s later ends it. */
	down = hd_wait_svc("sadb", HSK(DOWN), (size_t)un + 1, 6000);
	cr_assert_geq(down, 0, "the hung sadb was never killed");
	up = hd_wait_svc("sadb", HSK(UP), (size_t)down + 1, 3000);
	cr_assert_geq(up, 0, "the hung sadb was not restarted");
	hd_note("supervise: SIGSTOP sadb (--hang-timeout 1): UNRESPONSIVE after %llu ms, DOWN "
	    "after %llu ms (\"%s\"), UP again after %llu ms",
	    (unsigned long long)(hd.svc[un].recv_ms - t0),
	    (unsigned long long)(hd.svc[down].recv_ms - t0), hd.svc[down].cause,
	    (unsigned long long)(hd.svc[up].recv_ms - t0));
	cr_assert_str_eq(hd.svc[down].cause, "killed by signal 9 (SIGKILL)");
	cr_assert_neq(hd.svc[up].incarnation, incs[2]);
	cr_assert_eq(hd.svc[up].restarts, 1);
	cr_assert_not(hd_alive(pids[2]));
	stop_all();
}
