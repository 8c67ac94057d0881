/* picsec-healthd watching (no --supervise) a real busd and picsec-sadb in a temporary
 * rundir: sadb is listed up with its pid and incarnation; SIGKILL shows as DOWN on
 * "service.sadb" at once (its pidfd; the time is printed) and a new sadb as UP with one
 * restart; SIGSTOP makes it UNRESPONSIVE after three missed heartbeats and SIGCONT UP
 * again; busd away for longer than three heartbeats makes nobody unresponsive (the grace);
 * and bad input: a list asked before healthd heard of anyone, address queries that match
 * nothing, heartbeats of names it does not know or of another incarnation, hellos of a
 * process on another host or in another pid namespace (watched by heartbeats only: DOWN
 * after five silent heartbeats). */
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

static pid_t busd, healthd, sadb;

static void
setup(void)
{
	hd_setup(NULL);
	busd = hd_busd();
	hd_connect(5000);
}

/* healthd, once it says it is up itself (subscribed to hellos and heartbeats by then). */
static void
healthd_up(void)
{
	healthd = hd_healthd("healthd.log", NULL);
	cr_assert_geq(hd_wait_svc("healthd", HSK(UP), 0, 5000), 0, "healthd never said it is up");
}

static void
teardown(void)
{
	hd_teardown();
}

TestSuite(healthd_watch, .init = setup, .fini = teardown, .timeout = 90);

/* sadb up and known to healthd: the index of its UP. */
static int
sadb_up(size_t from)
{
	int up;

	sadb = hd_sadb();
	up = hd_wait_svc("sadb", HSK(UP), from, 5000);
	cr_assert_geq(up, 0, "healthd never said sadb (pid %d) is up", (int)sadb);
	cr_assert_eq(hd.svc[up].pid, (uint32_t)sadb, "UP for pid %u, sadb is %d", hd.svc[up].pid,
	    (int)sadb);
	return up;
}

static void
finish(void)
{
	hd_stop(&sadb, SIGTERM, 5000);
	hd_stop_clean(&healthd, "picsec-healthd");
	hd_stop_clean(&busd, "picsec-busd");
}

Test(healthd_watch, listed_up_then_down_at_once_on_sigkill_then_a_restart)
{
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	char host[256] = "";
	uint64_t t0, t0_ns, inc1, now_ns = hd_realtime_ns();
	int up, down, up2, status;
	pid_t old;

	gethostname(host, sizeof(host) - 1);
	healthd_up();
	up = sadb_up(0);
	inc1 = hd.svc[up].incarnation;
	cr_assert_neq(inc1, 0);
	cr_assert_eq(hd.svc[up].restarts, 0);
	cr_assert_str_eq(hd.svc[up].hostname, host);

	r = hd_list(&l);
	cr_assert_not(l->supervising);
	cr_assert_neq(l->healthd_incarnation, 0);
	si = hd_info(l, "sadb");
	cr_assert_not_null(si, "sadb is not in ServiceGetList");
	cr_assert_eq(si->state, HSK(UP));
	cr_assert_eq(si->pid, (uint32_t)sadb);
	cr_assert_eq(si->incarnation, inc1);
	cr_assert(si->local, "sadb runs here: local");
	cr_assert_not(si->supervised);
	cr_assert_eq(si->heartbeat_ms, 1000);
	cr_assert_lt(si->heartbeat_age_ms, 2500);
	cr_assert_str_eq(si->hostname, host);
	cr_assert_eq(si->restarts, 0);
	cr_assert_str_empty(si->last_cause);
	cr_assert(si->started_ns + 10000000000ULL > now_ns && si->started_ns < hd_realtime_ns() +
	    1000000000ULL, "sadb's started_ns is not about now");
	si = hd_info(l, "busd");
	cr_assert_not_null(si, "busd is not in ServiceGetList");
	cr_assert_eq(si->state, HSK(UP));
	cr_assert_eq(si->pid, (uint32_t)busd);
	si = hd_info(l, "healthd");
	cr_assert_not_null(si, "healthd is not in its own list");
	cr_assert_eq(si->state, HSK(UP));
	cr_assert_eq(si->pid, (uint32_t)healthd);
	cr_assert_eq(si->incarnation, l->healthd_incarnation);
	bus_call_result_free(r);

	/* Its death: the pidfd, no waiting for heartbeats. */
	old = sadb;
	t0_ns = hd_realtime_ns();
	t0 = hd_now_ms();
	kill(sadb, SIGKILL);
	down = hd_wait_svc("sadb", HSK(DOWN), (size_t)up + 1, 3000);
	cr_assert_geq(down, 0, "no DOWN for sadb 3 s after SIGKILL");
	hd_note("watch: SIGKILL -> DOWN on service.sadb received after %llu ms (healthd noted it "
	    "%.1f ms after the kill): \"%s\"", (unsigned long long)(hd.svc[down].recv_ms - t0),
	    (double)(hd.svc[down].since_ns - t0_ns) / 1e6, hd.svc[down].cause);
	cr_assert_leq(hd.svc[down].recv_ms - t0, 200, "DOWN took %llu ms",
	    (unsigned long long)(hd.svc[down].recv_ms - t0));
	cr_assert_eq(hd.svc[down].previous, HSK(UP));
	cr_assert_eq(hd.svc[down].incarnation, inc1, "DOWN is about the incarnation that went");
	cr_assert_eq(hd.svc[down].pid, (uint32_t)old);
	cr_assert(strstr(hd.svc[down].cause, "exited") != NULL ||
	    strstr(hd.svc[down].cause, "signal") != NULL, "cause \"%s\" names no exit or signal",
	    hd.svc[down].cause);
	status = test_wait(sadb, 2000);
	cr_assert(status != -1 && WIFSIGNALED(status));
	sadb = 0;

	r = hd_list(&l);
	si = hd_info(l, "sadb");
	cr_assert_not_null(si);
	cr_assert_eq(si->state, HSK(DOWN));
	cr_assert_eq(si->pid, 0, "a dead sadb has no pid");
	cr_assert_str_eq(si->last_cause, hd.svc[down].cause);
	bus_call_result_free(r);

	/* Another process of the same name: a restart. */
	up2 = sadb_up((size_t)down + 1);
	cr_assert_eq(hd.svc[up2].previous, HSK(DOWN));
	cr_assert_eq(hd.svc[up2].restarts, 1);
	cr_assert_neq(hd.svc[up2].incarnation, inc1);
	r = hd_list(&l);
	si = hd_info(l, "sadb");
	cr_assert_eq(si->state, HSK(UP));
	cr_assert_eq(si->pid, (uint32_t)sadb);
	cr_assert_eq(si->restarts, 1);
	cr_assert_eq(si->incarnation, hd.svc[up2].incarnation);
	cr_assert_str_eq(si->last_cause, hd.svc[down].cause, "the last cause stays");
	bus_call_result_free(r);
	cr_assert_eq(hd_count_svc("sadb", HSK(UNRESPONSIVE), 0), 0);
	finish();
}

Test(healthd_watch, sigstop_is_unresponsive_after_three_heartbeats_sigcont_up)
{
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	uint64_t t0, t1, dt;
	int up, un, back;

	healthd_up();
	up = sadb_up(0);
	/* Right after a heartbeat would be best; anywhere in the interval will do. */
	hd_run_for(300);
	t0 = hd_now_ms();
	kill(sadb, SIGSTOP);
	un = hd_wait_svc("sadb", HSK(UNRESPONSIVE), (size_t)up + 1, 8000);
	cr_assert_geq(un, 0, "a stopped sadb was never unresponsive");
	dt = hd.svc[un].recv_ms - t0;
	hd_note("watch: SIGSTOP -> UNRESPONSIVE after %llu ms: \"%s\"", (unsigned long long)dt,
	    hd.svc[un].cause);
	/* Three heartbeats of 1 s missed, the last one up to 1 s before the stop, checked
	 * every 200 ms. */
	cr_assert(dt >= 1900 && dt <= 4500, "UNRESPONSIVE %llu ms after SIGSTOP",
	    (unsigned long long)dt);
	cr_assert(strncmp(hd.svc[un].cause, "no heartbeat", 12) == 0, "cause \"%s\"",
	    hd.svc[un].cause);
	cr_assert_eq(hd.svc[un].pid, (uint32_t)sadb);
	cr_assert_eq(hd.svc[un].incarnation, hd.svc[up].incarnation);

	r = hd_list(&l);
	si = hd_info(l, "sadb");
	cr_assert_eq(si->state, HSK(UNRESPONSIVE));
	cr_assert_eq(si->pid, (uint32_t)sadb, "alive: its pid stays");
	cr_assert_geq(si->heartbeat_age_ms, 3000);
	bus_call_result_free(r);

	t1 = hd_now_ms();
	kill(sadb, SIGCONT);
	back = hd_wait_svc("sadb", HSK(UP), (size_t)un + 1, 3000);
	cr_assert_geq(back, 0, "sadb continued but never UP again");
	hd_note("watch: SIGCONT -> UP after %llu ms", (unsigned long long)(hd.svc[back].recv_ms -
	    t1));
	cr_assert_eq(hd.svc[back].previous, HSK(UNRESPONSIVE));
	cr_assert_eq(hd.svc[back].incarnation, hd.svc[up].incarnation, "the same process");
	cr_assert_eq(hd.svc[back].restarts, 0, "not a restart");
	cr_assert_eq(hd_count_svc("sadb", HSK(DOWN), 0), 0, "never down: it was alive");
	finish();
}

static bool
busd_hello_again(void *arg)
{
	return hd.busd_hellos > *(unsigned *)arg;
}

Test(healthd_watch, busd_away_longer_than_three_heartbeats_makes_nobody_unresponsive)
{
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	uint64_t sadb_since, healthd_since, busd_inc;
	unsigned hellos;
	pid_t old_busd;
	char path[256], *log;
	int up;

	healthd_up();
	up = sadb_up(0);
	hd_run_for(500);
	r = hd_list(&l);
	sadb_since = hd_info(l, "sadb")->since_ns;
	healthd_since = hd_info(l, "healthd")->since_ns;
	busd_inc = hd_info(l, "busd")->incarnation;
	bus_call_result_free(r);

	old_busd = busd;
	hellos = hd.busd_hellos;
	hd_stop(&busd, SIGKILL, 2000);
	/* 4.5 s: well over three heartbeats of silence from everyone. */
	hd_run_for(4500);
	busd = hd_busd();
	cr_assert(test_run_until(hd.loop, busd_hello_again, &hellos, 5000),
	    "not back on the restarted busd");
	/* Past healthd's grace after its re-registration, and some. */
	hd_run_for(4000);

	cr_assert_eq(hd_count_svc(NULL, HSK(UNRESPONSIVE), 0), 0,
	    "something was declared unresponsive because busd was away");
	cr_assert_eq(hd_count_svc("sadb", -1, (size_t)up + 1), 0, "sadb changed state");
	r = hd_list(&l);
	si = hd_info(l, "sadb");
	cr_assert_eq(si->state, HSK(UP));
	cr_assert_eq(si->since_ns, sadb_since, "sadb left UP meanwhile (its since_ns changed)");
	cr_assert_eq(si->pid, (uint32_t)sadb);
	si = hd_info(l, "healthd");
	cr_assert_eq(si->state, HSK(UP));
	cr_assert_eq(si->since_ns, healthd_since);
	si = hd_info(l, "busd");
	cr_assert_eq(si->state, HSK(UP));
	cr_assert_eq(si->pid, (uint32_t)busd, "busd's new pid %u, started %d (was %d)", si->pid,
	    (int)busd, (int)old_busd);
	cr_assert_neq(si->incarnation, busd_inc);
	cr_assert_eq(si->restarts, 1);
	bus_call_result_free(r);
	snprintf(path, sizeof(path), "%s/healthd.log", hd.dir);
	log = test_read_file(path);
	cr_assert_not_null(log);
	cr_assert_null(strstr(log, "-> unresponsive"), "healthd's log has an unresponsive");
	free(log);
	finish();
}

/* Bad input. */

/* What a ServiceGetList sent without bus_call said. */
struct list_wait {
	bool done;
	int type;
	char error[160];
	size_t n;
	uint64_t healthd_incarnation;
	bool supervising;
	struct {
		char name[64];
		int state;
		uint32_t pid;
		bool supervised;
	} s[16];
};

static void
on_list(struct bus *b, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	const Picsec__V1__ServiceList *l = (const Picsec__V1__ServiceList *)res->msg;
	struct list_wait *w = ctx;

	(void)b;
	(void)cookie;
	w->done = true;
	w->type = res->type;
	snprintf(w->error, sizeof(w->error), "%s", res->error_text != NULL ? res->error_text : "");
	if (res->type != MT(SERVICE_LIST))
		return;
	w->n = l->n_services;
	w->healthd_incarnation = l->healthd_incarnation;
	w->supervising = l->supervising;
	for (size_t i = 0; i < l->n_services && i < 16; i++) {
		snprintf(w->s[i].name, sizeof(w->s[i].name), "%s", l->services[i]->name);
		w->s[i].state = l->services[i]->state;
		w->s[i].pid = l->services[i]->pid;
		w->s[i].supervised = l->services[i]->supervised;
	}
}

static bool
list_done(void *arg)
{
	return ((struct list_wait *)arg)->done;
}

Test(healthd_watch, a_list_before_healthd_heard_of_anyone)
{
	Picsec__V1__ServiceGetList q = PICSEC__V1__SERVICE_GET_LIST__INIT;
	struct list_wait w = { 0 };

	/* Asked before healthd runs: busd holds it (busd's grace) and delivers it the moment
	 * healthd registers, before healthd can have heard many hellos. */
	cr_assert_neq(bus_request(hd.bus, "healthd", MT(SERVICE_GET_LIST), &q.base, 5000,
	    on_list, &w, 0), 0);
	healthd = hd_healthd("healthd.log", NULL);
	cr_assert(test_run_until(hd.loop, list_done, &w, 6000), "no answer");
	cr_assert_eq(w.type, MT(SERVICE_LIST), "no list: %s", w.error);
	hd_note("watch: a list asked before healthd started has %zu services", w.n);
	cr_assert_neq(w.healthd_incarnation, 0);
	cr_assert_not(w.supervising);
	for (size_t i = 0; i < w.n && i < 16; i++) {
		hd_note("  %s state %d pid %u", w.s[i].name, w.s[i].state, w.s[i].pid);
		cr_assert(w.s[i].name[0] != '\0');
		cr_assert(w.s[i].state == HSK(INIT) || w.s[i].state == HSK(UP), "%s: state %d",
		    w.s[i].name, w.s[i].state);
		cr_assert_not(w.s[i].supervised);
	}
	/* And it goes on to work. */
	cr_assert_geq(hd_wait_svc("healthd", HSK(UP), 0, 5000), 0);
	finish();
}

Test(healthd_watch, address_queries_that_match_nothing)
{
	Picsec__V1__IfaceGetState q = PICSEC__V1__IFACE_GET_STATE__INIT;
	Picsec__V1__IpAddress a[4], *ap[4];
	static uint8_t odd[3] = { 192, 0, 2 }, absent[4] = { 203, 0, 113, 254 },
	    absent6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x77 };
	const Picsec__V1__IfaceState *st;
	struct bus_call_result *r;

	healthd_up();
	/* None at all. */
	cr_assert_eq(bus_call(hd.bus, "healthd", MT(IFACE_GET_STATE), &q.base, 3000, &r), 0,
	    "%s", bus_call_get(r)->error_text);
	st = (const Picsec__V1__IfaceState *)bus_call_get(r)->msg;
	cr_assert_eq(st->n_addresses, 0);
	bus_call_result_free(r);

	/* An empty one, a 3-byte one, addresses nobody has. */
	for (int i = 0; i < 4; i++) {
		picsec__v1__ip_address__init(&a[i]);
		ap[i] = &a[i];
	}
	a[1].addr.data = odd;
	a[1].addr.len = sizeof(odd);
	a[2].addr.data = absent;
	a[2].addr.len = sizeof(absent);
	a[3].addr.data = absent6;
	a[3].addr.len = sizeof(absent6);
	q.addresses = ap;
	q.n_addresses = 4;
	cr_assert_eq(bus_call(hd.bus, "healthd", MT(IFACE_GET_STATE), &q.base, 3000, &r), 0,
	    "%s", bus_call_get(r)->error_text);
	st = (const Picsec__V1__IfaceState *)bus_call_get(r)->msg;
	cr_assert_eq(st->n_addresses, 4, "one answer per address asked");
	for (size_t i = 0; i < 4; i++) {
		cr_assert_not(st->addresses[i]->usable, "address %zu usable", i);
		cr_assert_eq(st->addresses[i]->change, HIC(ADDRESS_REMOVED), "address %zu", i);
		cr_assert_not_null(st->addresses[i]->address);
		cr_assert_eq(st->addresses[i]->address->addr.len, a[i].addr.len,
		    "the address asked is echoed");
	}
	bus_call_result_free(r);
	finish();
}

/* A process healthd can only hear: its hello goes to busd in a BusRegister that the test
 * writes, from an anonymous client of its own whose incarnation the hello carries (so that
 * the heartbeats it publishes count). */
struct fake {
	struct bus *bus;
	char name[64];
};

static void
fake_client(struct fake *f)
{
	struct bus_options opts = { .service = "hdfake", .anonymous = true };
	char err[256];

	opts.rundir = hd.rundir;
	f->bus = bus_new(hd.loop, &opts, err, sizeof(err));
	cr_assert_not_null(f->bus, "%s", err);
	cr_assert_eq(bus_wait_ready(f->bus, 5000), 0);
}

static void
fake_register(struct fake *f, const char *instance, const char *hostname, uint32_t pid)
{
	Picsec__V1__BusRegister reg = PICSEC__V1__BUS_REGISTER__INIT;
	Picsec__V1__ServiceHello h = PICSEC__V1__SERVICE_HELLO__INIT;
	struct bus_call_result *r;

	fake_client(f);
	h.service = (char *)(uintptr_t)"fwd";
	h.instance = (char *)(uintptr_t)instance;
	h.incarnation = bus_incarnation(f->bus);
	h.pid = pid;
	h.hostname = (char *)(uintptr_t)hostname;
	h.version = (char *)(uintptr_t)"test";
	h.started_ns = hd_realtime_ns();
	h.heartbeat_ms = 1000;
	reg.hello = &h;
	cr_assert_eq(bus_call(f->bus, "busd", MT(BUS_REGISTER), &reg.base, 3000, &r), 0,
	    "BusRegister: %s", bus_call_get(r)->error_text);
	bus_call_result_free(r);
	snprintf(f->name, sizeof(f->name), "fwd.%s", instance);
}

static void
fake_beat(struct fake *f, const char *name)
{
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;
	char topic[96];

	snprintf(topic, sizeof(topic), "heartbeat.%s", name);
	cr_assert_eq(bus_publish(f->bus, topic, MT(HEARTBEAT), &hb.base), 0);
}

/* A pid nobody has here. */
static uint32_t
unused_pid(void)
{
	for (uint32_t pid = 4000000; pid > 3000000; pid -= 7919) {
		if (kill((pid_t)pid, 0) == -1)
			return pid;
	}
	return 0;
}

Test(healthd_watch, other_hosts_and_pid_namespaces_are_watched_by_heartbeats_only,
    .timeout = 90)
{
	struct fake remote, hidden, liar;
	const Picsec__V1__ServiceList *l;
	const Picsec__V1__ServiceInfo *si;
	struct bus_call_result *r;
	uint32_t hidden_pid = unused_pid();
	int up_r, up_h, un, down_r, down_h;
	uint64_t t0;
	size_t mark;

	char host[256] = "";

	cr_assert_neq(hidden_pid, 0);
	gethostname(host, sizeof(host) - 1);
	healthd_up();
	/* Another host (its pid happens to be ours: it must not be watched by a pidfd), and
	 * this host but a pid this pid namespace does not have. */
	fake_register(&remote, "ms-9/9/9", "picsec-test-elsewhere", (uint32_t)getpid());
	fake_register(&hidden, "ms-8/8/8", host, hidden_pid);
	up_r = hd_wait_svc("fwd.ms-9/9/9", HSK(UP), 0, 3000);
	up_h = hd_wait_svc("fwd.ms-8/8/8", HSK(UP), 0, 3000);
	cr_assert_geq(up_r, 0, "no UP for the remote PIC");
	cr_assert_geq(up_h, 0, "no UP for the hidden PIC");

	/* Heartbeats for names healthd does not know, and unknown topics: nothing. */
	fake_beat(&remote, "nobody");
	fake_beat(&remote, "fwd.ms-7/7/7");

	r = hd_list(&l);
	si = hd_info(l, "fwd.ms-9/9/9");
	cr_assert_not_null(si);
	cr_assert_not(si->local, "another host's process is not local");
	cr_assert_str_eq(si->hostname, "picsec-test-elsewhere");
	cr_assert_eq(si->heartbeat_ms, 1000);
	si = hd_info(l, "fwd.ms-8/8/8");
	cr_assert_not_null(si);
	cr_assert_not(si->local, "a pid not in our namespace is not watched by a pidfd");
	cr_assert_null(hd_info(l, "nobody"));
	cr_assert_null(hd_info(l, "fwd.ms-7/7/7"));
	bus_call_result_free(r);

	/* Alive for 4 s by heartbeats alone (over three intervals): no UNRESPONSIVE. */
	for (int i = 0; i < 8; i++) {
		fake_beat(&remote, remote.name);
		fake_beat(&hidden, hidden.name);
		hd_run_for(500);
	}
	cr_assert_eq(hd_count_svc("fwd.ms-9/9/9", -1, (size_t)up_r + 1), 0);
	cr_assert_eq(hd_count_svc("fwd.ms-8/8/8", -1, (size_t)up_h + 1), 0);

	/* Silence. Heartbeats of those names from another incarnation (another client) do not
	 * count. */
	fake_client(&liar);
	mark = hd.nsvc;
	t0 = hd_now_ms();
	while (hd_now_ms() - t0 < 8000) {
		fake_beat(&liar, remote.name);
		fake_beat(&liar, hidden.name);
		hd_run_for(250);
		if (hd_count_svc("fwd.ms-9/9/9", HSK(DOWN), mark) > 0 &&
		    hd_count_svc("fwd.ms-8/8/8", HSK(DOWN), mark) > 0)
			break;
	}
	un = hd_wait_svc("fwd.ms-9/9/9", HSK(UNRESPONSIVE), mark, 0);
	down_r = hd_wait_svc("fwd.ms-9/9/9", HSK(DOWN), mark, 0);
	down_h = hd_wait_svc("fwd.ms-8/8/8", HSK(DOWN), mark, 0);
	cr_assert_geq(un, 0, "the silent remote PIC was never unresponsive");
	cr_assert_geq(down_r, 0, "the silent remote PIC never went down");
	cr_assert_geq(down_h, 0, "the silent hidden PIC never went down");
	hd_note("watch: remote PIC silent: UNRESPONSIVE after %llu ms (\"%s\"), DOWN after %llu ms "
	    "(\"%s\"); the hidden one DOWN after %llu ms", (unsigned long long)(hd.svc[un].recv_ms -
	    t0), hd.svc[un].cause, (unsigned long long)(hd.svc[down_r].recv_ms - t0),
	    hd.svc[down_r].cause, (unsigned long long)(hd.svc[down_h].recv_ms - t0));
	cr_assert(hd.svc[un].recv_ms - t0 >= 2000 && hd.svc[un].recv_ms - t0 <= 4500);
	cr_assert(hd.svc[down_r].recv_ms - t0 >= 4000 && hd.svc[down_r].recv_ms - t0 <= 6500,
	    "DOWN %llu ms after the last heartbeat",
	    (unsigned long long)(hd.svc[down_r].recv_ms - t0));
	cr_assert(strncmp(hd.svc[down_r].cause, "no heartbeat", 12) == 0, "cause \"%s\"",
	    hd.svc[down_r].cause);
	cr_assert(strncmp(hd.svc[down_h].cause, "no heartbeat", 12) == 0, "cause \"%s\"",
	    hd.svc[down_h].cause);
	cr_assert_eq(hd.svc[down_r].incarnation, bus_incarnation(remote.bus));

	bus_free(liar.bus);
	bus_free(remote.bus);
	bus_free(hidden.bus);
	finish();
}
