/* picsec-configd killed with SIGKILL at random instants during 200 commits: after every
 * restart the committed configuration is the old one or the new one, never torn, and the
 * rollback history on disk is whole. */
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "bus.h"
#include "catalog.h"
#include "config.h"
#include "config.pb-c.h"
#include "testutil.h"

enum { COMMITS = 200, KILL_EVERY = 4 };

static char dir[64], rundir[128], statedir[128];
static pid_t busd, configd;
static struct ev_loop *loop;
static struct bus *bus;

static pid_t
configd_start(void)
{
	const char *argv[] = { test_program("PICSEC_CONFIGD"), "--rundir", rundir, "--statedir",
		statedir, NULL };

	return test_spawn(argv, NULL);
}

static void
setup(void)
{
	struct bus_options opts = { .service = "crasher", .anonymous = true };
	char err[256];

	test_mkdtemp(dir, sizeof(dir));
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	loop = ev_loop_new(EVFLAG_AUTO);
	busd = test_busd_start(rundir, NULL);
	configd = configd_start();
	opts.rundir = rundir;
	bus = bus_new(loop, &opts, err, sizeof(err));
	cr_assert_not_null(bus, "%s", err);
}

static void
teardown(void)
{
	bus_free(bus);
	if (configd > 0)
		test_kill(configd, SIGKILL);
	if (busd > 0)
		test_kill(busd, SIGKILL);
	ev_loop_destroy(loop);
	test_rmdir(statedir);
	test_rmdir(rundir);
	test_rmdir(dir);
}

/* A session, once configd answers (it may just have been restarted). */
static uint64_t
session(void)
{
	Picsec__V1__ConfigSessionOpen req = PICSEC__V1__CONFIG_SESSION_OPEN__INIT;
	struct bus_call_result *r;
	uint64_t id = 0;
	int i;

	req.user = (char *)(uintptr_t)"crasher";
	for (i = 0; i < 100 && id == 0; i++) {
		if (bus_call(bus, "configd", MT(CONFIG_SESSION_OPEN), &req.base, 1000, &r) == 0)
			id = ((const Picsec__V1__ConfigSession *)bus_call_get(r)->msg)->session_id;
		bus_call_result_free(r);
		if (id == 0)
			test_run_for(loop, 50);
	}
	cr_assert_neq(id, 0, "configd never answered");
	return id;
}

struct pending {
	int done;
	bool ok;
};

static void
on_result(struct bus *b, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct pending *p = ctx;

	(void)b;
	(void)cookie;
	p->ok = res->type == MT(CONFIG_RESULT) &&
	    strstr(((const Picsec__V1__ConfigResult *)res->msg)->output, "commit complete") != NULL;
	p->done = 1;
}

static uint64_t
send_words(uint64_t sid, char **words, size_t n, struct pending *p)
{
	Picsec__V1__ConfigCommand cmd = PICSEC__V1__CONFIG_COMMAND__INIT;

	cmd.session_id = sid;
	cmd.words = words;
	cmd.n_words = n;
	return bus_request(bus, "configd", MT(CONFIG_COMMAND), &cmd.base, 3000, on_result, p, 0);
}

static bool
pending_done(void *arg)
{
	return ((struct pending *)arg)->done != 0;
}

/* The generation files: every one parses completely, and their numbers have no gaps.
 * Returns the description in the newest one. */
static int
check_history(void)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct dirent *de;
	uint64_t lo = UINT64_MAX, hi = 0, g, count = 0;
	char path[512], *text, *desc;
	struct cfg_node *tree;
	int newest = -1;
	DIR *dd = opendir(statedir);

	cr_assert_not_null(dd);
	while ((de = readdir(dd)) != NULL) {
		if (sscanf(de->d_name, "config.%" SCNu64, &g) != 1)
			continue;
		count++;
		lo = g < lo ? g : lo;
		hi = g > hi ? g : hi;
		snprintf(path, sizeof(path), "%s/%s", statedir, de->d_name);
		text = test_read_file(path);
		cr_assert_not_null(text);
		tree = cfg_parse(path, text, strlen(text), CFG_FORMAT_BRACES, &d);
		cr_assert_eq(d.errors, 0, "%s does not parse: torn?", path);
		desc = strstr(text, "description gen-");
		if (g == hi && desc != NULL)
			newest = atoi(desc + strlen("description gen-"));
		cfg_node_free(tree);
		free(text);
	}
	closedir(dd);
	cfg_diags_free(&d);
	if (count > 0)
		cr_assert_eq(hi - lo + 1, count, "history has a gap: %" PRIu64 "..%" PRIu64
		    " in %" PRIu64 " files", lo, hi, count);
	return newest;
}

Test(configd_crash, sigkill_during_200_commits_never_tears, .init = setup, .fini = teardown,
    .timeout = 240)
{
	static char w_set[] = "set", w_services[] = "services", w_vpn[] = "ipsec-vpn",
	    w_ike[] = "ike", w_proposal[] = "proposal", w_p1[] = "p1",
	    w_description[] = "description", w_commit[] = "commit";
	char desc[32], *set_words[] = { w_set, w_services, w_vpn, w_ike, w_proposal, w_p1,
		w_description, desc };
	char *commit_words[] = { w_commit };
	struct pending ps, pc;
	uint64_t sid = session();
	int i, acked = -1, newest, kills = 0;
	unsigned seed = (unsigned)time(NULL);

	srand(seed);
	for (i = 0; i < COMMITS; i++) {
		snprintf(desc, sizeof(desc), "gen-%d", i);
		ps = (struct pending){ 0 };
		pc = (struct pending){ 0 };
		cr_assert_neq(send_words(sid, set_words, 8, &ps), 0);
		cr_assert_neq(send_words(sid, commit_words, 1, &pc), 0);
		if (i % KILL_EVERY == KILL_EVERY - 1) {
			/* Somewhere in the middle of that commit, or just before or after it. */
			test_run_for(loop, (unsigned)(rand() % 6));
			kill(configd, SIGKILL);
			waitpid(configd, NULL, 0);
			kills++;
			test_run_until(loop, pending_done, &pc, 4000);
			if (pc.ok)
				acked = i;
			newest = check_history();
			cr_assert(newest == acked || newest == i || (acked < 0 && newest == -1),
			    "seed %u, commit %d: the committed configuration says gen-%d; it must "
			    "be the last acknowledged (gen-%d) or the one in flight", seed, i, newest,
			    acked);
			acked = newest;
			configd = configd_start();
			sid = session();
			continue;
		}
		cr_assert(test_run_until(loop, pending_done, &pc, 5000), "commit %d: no answer", i);
		cr_assert(pc.ok, "commit %d failed", i);
		acked = i;
	}
	cr_assert_eq(check_history(), acked, "the newest commit survives");
	cr_assert_geq(kills, COMMITS / KILL_EVERY);
	test_kill(configd, SIGTERM);
	configd = 0;
	test_busd_finish(&busd);
}
