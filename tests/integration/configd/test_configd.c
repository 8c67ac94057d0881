/* picsec-configd and the CLI's configure mode against a real bus: commit, rollback, commit
 * confirmed, configure exclusive, the snapshot event, --check, and configd killed at random
 * instants during 200 commits. */
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static char dir[64], rundir[128], statedir[128], out_path[160];
static pid_t busd, configd;
static struct ev_loop *loop;

#define MINUTE_MS "200" /* a commit confirmed "minute" in these tests */

static const char manual_conf[] =
    "services {\n"
    "    ipsec-vpn {\n"
    "        rule r1 {\n"
    "            match-direction input;\n"
    "            term t1 {\n"
    "                from {\n"
    "                    source-address 10.1.0.0/24;\n"
    "                    destination-address 10.2.0.0/24;\n"
    "                }\n"
    "                then {\n"
    "                    remote-gateway 192.0.2.2;\n"
    "                    manual {\n"
    "                        direction bidirectional {\n"
    "                            protocol esp;\n"
    "                            spi %u;\n"
    "                            authentication {\n"
    "                                algorithm hmac-sha1-96;\n"
    "                                key ascii-text \"tomato-salad-1234567\";\n"
    "                            }\n"
    "                            encryption {\n"
    "                                algorithm aes-128-cbc;\n"
    "                                key hexadecimal 00112233445566778899aabbccddeeff;\n"
    "                            }\n"
    "                        }\n"
    "                    }\n"
    "                }\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "    service-set ss1 {\n"
    "        next-hop-service {\n"
    "            inside-service-interface ms-0/0/0.1;\n"
    "            outside-service-interface ms-0/0/0.2;\n"
    "        }\n"
    "        ipsec-vpn-rules r1;\n"
    "        ipsec-vpn-options {\n"
    "            local-gateway 192.0.2.1;\n"
    "        }\n"
    "    }\n"
    "}\n";

static void
write_conf(const char *path, unsigned spi)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, manual_conf, spi);
	fclose(f);
}

static pid_t
configd_start(void)
{
	const char *argv[] = { test_program("PICSEC_CONFIGD"), "--rundir", rundir, "--statedir",
		statedir, "--minute-ms", MINUTE_MS, NULL };

	return test_spawn(argv, NULL);
}

/* Until configd answers on the bus: from then on its signal handlers are in place, and a
 * SIGTERM is a clean exit. */
static void
wait_for_configd(void)
{
	struct bus_options opts = { .service = "waiter", .anonymous = true, .rundir = rundir };
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct bus_call_result *r;
	char err[512] = "";
	struct bus *b = bus_new(loop, &opts, err, sizeof(err));

	cr_assert_not_null(b, "%s", err);
	cr_assert_eq(bus_call(b, "configd", MT(PING), &ping.base, 5000, &r), 0,
	    "configd does not answer: %s", bus_call_get(r)->error_text);
	bus_call_result_free(r);
	bus_free(b);
}

static void
setup(void)
{
	test_mkdtemp(dir, sizeof(dir));
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	setenv("PICSEC_RUNDIR", rundir, 1);
	loop = ev_loop_new(EVFLAG_AUTO);
	busd = test_busd_start(rundir, NULL);
	configd = configd_start();
	wait_for_configd();
}

static void
teardown(void)
{
	if (configd > 0)
		test_kill(configd, SIGKILL);
	if (busd > 0)
		test_kill(busd, SIGKILL);
	ev_loop_destroy(loop);
	test_rmdir(statedir);
	test_rmdir(rundir);
	test_rmdir(dir);
}

static void
finish(void)
{
	int status = test_kill(configd, SIGTERM);

	configd = 0;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "configd exit 0x%x", status);
	test_busd_finish(&busd);
}

/* Runs picsec with the arguments (NULL-terminated); returns its exit status, output in
 * *out (free it). */
static int
picsec(char **out, const char *arg, ...)
{
	const char *argv[32] = { test_program("PICSEC_CLI"), "--timeout", "5000" };
	size_t n = 3;
	va_list ap;
	int status;

	va_start(ap, arg);
	for (; arg != NULL && n < 31; arg = va_arg(ap, const char *))
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;
	status = test_wait(test_spawn(argv, out_path), 20000);
	*out = test_read_file(out_path);
	cr_assert_not_null(*out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
expect(const char *out, const char *needle)
{
	cr_assert(strstr(out, needle) != NULL, "expected '%s' in:\n%s", needle, out);
}

Test(configd, commit_show_and_rollback, .init = setup, .fini = teardown)
{
	char conf[160], *out;

	snprintf(conf, sizeof(conf), "%s/a.conf", dir);
	write_conf(conf, 300);
	cr_assert_eq(picsec(&out, "configure", "-f", conf, NULL), 0, "%s", out);
	expect(out, "commit complete");
	free(out);
	write_conf(conf, 301);
	cr_assert_eq(picsec(&out, "configure", "-f", conf, NULL), 0, "%s", out);
	free(out);
	cr_assert_eq(picsec(&out, "show", "configuration", "services", "ipsec-vpn", "|", "display",
	    "set", NULL), 0);
	expect(out, "set services ipsec-vpn rule r1 term t1 then manual direction bidirectional "
	    "spi 301\n");
	free(out);
	/* rollback 1 is the first commit again; the diff says so before committing. */
	cr_assert_eq(picsec(&out, "-c", "configure; rollback 1; show | compare; commit", NULL), 0,
	    "%s", out);
	expect(out, "load complete");
	expect(out, "[edit services ipsec-vpn rule r1 term t1 then manual direction bidirectional]\n"
	    "-    spi 301;\n+    spi 300;\n");
	expect(out, "commit complete");
	free(out);
	cr_assert_eq(picsec(&out, "show", "system", "commit", NULL), 0);
	expect(out, "0   ");
	expect(out, "(generation 3)");
	expect(out, "2   ");
	free(out);
	cr_assert_eq(picsec(&out, "-c", "configure; rollback 50", NULL), 1);
	expect(out, "");
	free(out);
	finish();
}

Test(configd, a_failing_check_commits_nothing, .init = setup, .fini = teardown)
{
	char *out;

	cr_assert_eq(picsec(&out, "-c", "configure; set services ipsec-vpn rule r1 term t1 then "
	    "manual direction bidirectional protocol ah; set services ipsec-vpn rule r1 term t1 "
	    "then manual direction bidirectional encryption algorithm aes-128-cbc; commit", NULL),
	    1, "%s", out);
	expect(out, "[edit services ipsec-vpn rule r1 term t1 then manual direction "
	    "bidirectional]\n  'encryption'\n    error: encryption cannot be configured with "
	    "protocol ah: AH authenticates only\n");
	expect(out, "error: configuration check-out failed\n");
	cr_assert(strstr(out, "commit complete") == NULL);
	free(out);
	cr_assert_eq(picsec(&out, "show", "system", "commit", NULL), 0);
	cr_assert_eq(strlen(out), 0, "nothing was committed: %s", out);
	free(out);
	finish();
}

/* configure -f with a file that does not load: exit 1, the report, and no commit. */
Test(configd, a_file_that_does_not_load_commits_nothing, .init = setup, .fini = teardown)
{
	char conf[160], *out;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/broken.conf", dir);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "services {\n    ipsec-vpn {\n        establish-tunnels sometimes;\n"
	    "    }\n}\n");
	fclose(f);
	cr_assert_eq(picsec(&out, "configure", "-f", conf, NULL), 1, "%s", out);
	expect(out, "broken.conf:3:9: error: 'sometimes' is not one of");
	expect(out, "error: load failed (1 error): the candidate is unchanged\n");
	cr_assert_null(strstr(out, "commit complete"), "%s", out);
	free(out);
	cr_assert_eq(picsec(&out, "show", "system", "commit", NULL), 0);
	cr_assert_eq(strlen(out), 0, "nothing was committed: %s", out);
	free(out);
	finish();
}

/* A file that loads but fails the checks does not stay behind in the shared candidate; a
 * key of several unquoted words is refused before it leaves the CLI. */
Test(configd, a_failed_configure_file_leaves_no_candidate, .init = setup, .fini = teardown)
{
	char conf[160], *out;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/ah.set", dir);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "set services ipsec-vpn rule r1 term t1 then manual direction bidirectional "
	    "protocol ah\nset services ipsec-vpn rule r1 term t1 then manual direction "
	    "bidirectional encryption algorithm aes-128-cbc\n");
	fclose(f);
	cr_assert_eq(picsec(&out, "configure", "-f", conf, NULL), 1, "%s", out);
	expect(out, "error: configuration check-out failed\n");
	expect(out, "nothing committed: the candidate is the committed configuration again\n");
	free(out);
	cr_assert_eq(picsec(&out, "-c", "configure", NULL), 0, "%s", out);
	cr_assert_null(strstr(out, "changed but not committed"), "%s", out);
	free(out);

	cr_assert_eq(picsec(&out, "-c", "configure; set services ipsec-vpn ike policy p "
	    "pre-shared-key ascii-text correct horse; commit", NULL), 1, "%s", out);
	free(out);
	cr_assert_eq(picsec(&out, "show", "configuration", NULL), 0);
	cr_assert_null(strstr(out, "policy p"), "the refused set arrived: %s", out);
	free(out);
	finish();
}

static bool
spi_is(const char *want)
{
	char *out;
	bool is;

	picsec(&out, "show", "configuration", "services", "ipsec-vpn", "|", "display", "set",
	    NULL);
	is = strstr(out, want) != NULL;
	free(out);
	return is;
}

Test(configd, commit_confirmed_goes_back_unless_confirmed, .init = setup, .fini = teardown)
{
	char conf[160], *out;
	int i;

	snprintf(conf, sizeof(conf), "%s/a.conf", dir);
	write_conf(conf, 300);
	cr_assert_eq(picsec(&out, "configure", "-f", conf, NULL), 0, "%s", out);
	free(out);
	cr_assert_eq(picsec(&out, "-c", "configure; set services ipsec-vpn rule r1 term t1 then "
	    "manual direction bidirectional spi 400; commit confirmed 1", NULL), 0, "%s", out);
	expect(out, "commit confirmed will be automatically rolled back in 1 minute unless "
	    "confirmed\n");
	free(out);
	cr_assert(spi_is("spi 400"));
	/* A "minute" is 200 ms here: give it time, then it must be back. */
	for (i = 0; i < 50 && !spi_is("spi 300"); i++)
		usleep(100 * 1000);
	cr_assert(spi_is("spi 300"), "still not rolled back after 5 s");
	cr_assert_eq(picsec(&out, "show", "system", "commit", NULL), 0);
	expect(out, "by configd (generation 3)\n    commit confirmed was not confirmed: "
	    "rolled back");
	free(out);

	/* Confirmed in time, it stays. */
	cr_assert_eq(picsec(&out, "-c", "configure; set services ipsec-vpn rule r1 term t1 then "
	    "manual direction bidirectional spi 500; commit confirmed 5; commit", NULL), 0, "%s",
	    out);
	free(out);
	usleep(1500 * 1000);
	cr_assert(spi_is("spi 500"), "a confirmed commit must stay");
	finish();
}

static uint64_t
open_session(struct bus *b, bool exclusive, char *err, size_t errlen)
{
	Picsec__V1__ConfigSessionOpen req = PICSEC__V1__CONFIG_SESSION_OPEN__INIT;
	struct bus_call_result *r;
	uint64_t id = 0;

	req.user = (char *)(uintptr_t)"tester";
	req.exclusive = exclusive;
	if (bus_call(b, "configd", MT(CONFIG_SESSION_OPEN), &req.base, 5000, &r) == 0)
		id = ((const Picsec__V1__ConfigSession *)bus_call_get(r)->msg)->session_id;
	else
		snprintf(err, errlen, "%s", bus_call_get(r)->error_text);
	bus_call_result_free(r);
	return id;
}

Test(configd, configure_exclusive_locks_everyone_else_out, .init = setup, .fini = teardown)
{
	struct bus_options opts = { .service = "tester", .anonymous = true, .rundir = rundir };
	Picsec__V1__ConfigSessionClose close_req = PICSEC__V1__CONFIG_SESSION_CLOSE__INIT;
	struct bus_call_result *r;
	char err[512] = "", *out;
	struct bus *b;
	uint64_t id;

	b = bus_new(loop, &opts, err, sizeof(err));
	cr_assert_not_null(b, "%s", err);
	id = open_session(b, true, err, sizeof(err));
	cr_assert_neq(id, 0, "%s", err);

	cr_assert_eq(picsec(&out, "-c", "configure exclusive", NULL), 1);
	free(out);
	cr_assert_eq(picsec(&out, "-c", "configure; set services ipsec-vpn establish-tunnels "
	    "immediately", NULL), 1, "%s", out);
	expect(out, "error: configuration database locked by:\n  tester (session 1) exclusive");
	free(out);
	cr_assert_eq(open_session(b, true, err, sizeof(err)), 0);
	cr_assert(strstr(err, "configuration database locked by") != NULL, "%s", err);

	close_req.session_id = id;
	cr_assert_eq(bus_call(b, "configd", MT(CONFIG_SESSION_CLOSE), &close_req.base, 5000, &r),
	    0);
	bus_call_result_free(r);
	cr_assert_eq(picsec(&out, "-c", "configure; set services ipsec-vpn establish-tunnels "
	    "immediately; commit", NULL), 0, "%s", out);
	free(out);
	bus_free(b);
	finish();
}

struct seen {
	uint64_t generation;
	uint32_t spi;
	size_t key_len;
	unsigned char key0;
};

static void
on_snapshot(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ConfigSnapshot *s = (const Picsec__V1__ConfigSnapshot *)payload;
	const Picsec__V1__ManualSaDirection *d;
	struct seen *seen = ctx;

	(void)m;
	seen->generation = s->generation;
	if (s->ipsec_vpn == NULL || s->ipsec_vpn->n_rules == 0)
		return;
	d = s->ipsec_vpn->rules[0]->terms[0]->manual->directions[0];
	seen->spi = d->spi;
	seen->key_len = d->enc_key->material.len;
	seen->key0 = d->enc_key->material.data[0];
}

static bool
generation_one(void *arg)
{
	return ((struct seen *)arg)->generation >= 1;
}

Test(configd, every_commit_publishes_a_typed_snapshot, .init = setup, .fini = teardown)
{
	static const struct bus_handler handlers[] = { [MT(CONFIG_SNAPSHOT)] = { on_snapshot } };
	struct bus_options opts = { .service = "watcher", .anonymous = true, .rundir = rundir };
	Picsec__V1__ConfigGetSnapshot get = PICSEC__V1__CONFIG_GET_SNAPSHOT__INIT;
	struct bus_call_result *r;
	struct seen seen = { 0 };
	char conf[160], err[256], *out;
	struct bus *b;
	int i;

	b = bus_new(loop, &opts, err, sizeof(err));
	cr_assert_not_null(b, "%s", err);
	bus_set_handlers(b, handlers, ARRAY_SIZE(handlers), &seen);
	bus_subscribe(b, "config.committed");
	cr_assert_eq(bus_wait_ready(b, 5000), 0);
	/* configd announces what it has on (re)registration: wait until it has. */
	test_run_for(loop, 300);
	snprintf(conf, sizeof(conf), "%s/a.conf", dir);
	write_conf(conf, 777);
	cr_assert_eq(picsec(&out, "configure", "-f", conf, NULL), 0, "%s", out);
	free(out);
	for (i = 0; i < 50 && !generation_one(&seen); i++)
		test_run_for(loop, 100);
	cr_assert_eq(seen.generation, 1);
	cr_assert_eq(seen.spi, 777);
	cr_assert_eq(seen.key_len, 16, "the hexadecimal key arrives decoded");
	cr_assert_eq(seen.key0, 0x00);

	cr_assert_eq(bus_call(b, "configd", MT(CONFIG_GET_SNAPSHOT), &get.base, 5000, &r), 0);
	cr_assert_eq(((const Picsec__V1__ConfigSnapshot *)bus_call_get(r)->msg)->generation, 1);
	bus_call_result_free(r);
	bus_free(b);
	finish();
}

Test(configd, check_mode_gives_the_verdict, .init = setup, .fini = teardown)
{
	const char *argv[] = { test_program("PICSEC_CONFIGD"), "--check", NULL, NULL };
	char conf[160], *out;
	int status;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/a.conf", dir);
	write_conf(conf, 300);
	argv[2] = conf;
	status = test_wait(test_spawn(argv, out_path), 10000);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	out = test_read_file(out_path);
	cr_assert_str_eq(out, "configuration check succeeds\n");
	free(out);

	write_conf(conf, 17000);
	status = test_wait(test_spawn(argv, out_path), 10000);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	out = test_read_file(out_path);
	expect(out, "[edit services ipsec-vpn rule r1 term t1 then manual direction "
	    "bidirectional]\n  'spi 17000'\n");
	expect(out, "a.conf:15:29: error: value 17000 is outside the range 256..16639\n");
	expect(out, "error: configuration check-out failed\n");
	free(out);

	f = fopen(conf, "w");
	fprintf(f, "services {\n    ipsec-vpn {\n        bogus;\n    }\n}\n");
	fclose(f);
	status = test_wait(test_spawn(argv, out_path), 10000);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	out = test_read_file(out_path);
	expect(out, "[edit services ipsec-vpn]\n  'bogus'\n");
	expect(out, "a.conf:3:9: error: syntax error: 'bogus' is not a statement here\n");
	free(out);
	finish();
}

/* config/examples: each file says on a comment line what --check must answer
 * ("picsec-configd --check: configuration check succeeds", or an error's text). */
Test(configd, the_examples_get_the_verdicts_they_state, .init = setup, .fini = teardown)
{
	const char *argv[] = { test_program("PICSEC_CONFIGD"), "--check", NULL, NULL };
	const char *examples = getenv("PICSEC_EXAMPLES"), *mark = "picsec-configd --check: ";
	char path[512], want[256], *text, *out, *at;
	struct dirent *de;
	int status, checked = 0;
	size_t len;
	DIR *dd;

	cr_assert_not_null(examples, "PICSEC_EXAMPLES is not set (tests/meson.build sets it)");
	dd = opendir(examples);
	cr_assert_not_null(dd, "%s", examples);
	while ((de = readdir(dd)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", examples, de->d_name);
		text = test_read_file(path);
		cr_assert_not_null(text);
		at = strstr(text, mark);
		cr_assert_not_null(at, "%s: no '%s' line", path, mark);
		at += strlen(mark);
		len = strcspn(at, "\n");
		snprintf(want, sizeof(want), "%.*s", (int)len, at);
		if ((at = strstr(want, " */")) != NULL)
			*at = '\0';
		argv[2] = path;
		status = test_wait(test_spawn(argv, out_path), 10000);
		out = test_read_file(out_path);
		cr_assert(WIFEXITED(status), "%s: no exit", path);
		if (strcmp(want, "configuration check succeeds") == 0) {
			cr_assert_eq(WEXITSTATUS(status), 0, "%s:\n%s", path, out);
			cr_assert_str_eq(out, "configuration check succeeds\n", "%s", path);
		} else {
			cr_assert_eq(WEXITSTATUS(status), 1, "%s:\n%s", path, out);
			expect(out, want);
			expect(out, "error: configuration check-out failed\n");
		}
		free(out);
		free(text);
		checked++;
	}
	closedir(dd);
	cr_assert_geq(checked, 4, "only %d examples", checked);
	finish();
}

/* A key typed on the command line, a load that holds one, and the snapshot that carries it:
 * picsec-busmon shows every one of those frames, and none of the keys. */
Test(configd, keys_never_show_on_the_bus, .init = setup, .fini = teardown)
{
	const char *mon[] = { test_program("PICSEC_BUSMON"), "--rundir", rundir, "--verbose",
		"--timeout", "8", NULL };
	char conf[160], mon_path[192], *out, *seen;
	pid_t busmon;
	FILE *f;

	snprintf(mon_path, sizeof(mon_path), "%s/busmon.out", dir);
	busmon = test_spawn(mon, mon_path);
	test_run_for(loop, 700); /* its subscription reaches busd */

	snprintf(conf, sizeof(conf), "%s/psk.set", dir);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "set services ipsec-vpn ike policy p1 pre-shared-key ascii-text "
	    "\"LoadedKeyText-4711\"\n");
	fclose(f);
	cr_assert_eq(picsec(&out, "configure", "-f", conf, NULL), 0, "%s", out);
	free(out);
	cr_assert_eq(picsec(&out, "-c", "configure; set services ipsec-vpn ike policy p2 "
	    "pre-shared-key ascii-text TypedKeyText-4712; commit and-quit", NULL), 0, "%s", out);
	expect(out, "commit complete");
	free(out);
	/* The key did arrive: configd shows it as $9$ text, which reads back to it. */
	cr_assert_eq(picsec(&out, "show", "configuration", "services", "ipsec-vpn", "ike",
	    "policy", "p2", NULL), 0);
	expect(out, "pre-shared-key ascii-text \"$9$");
	cr_assert_null(strstr(out, "TypedKeyText"), "%s", out);
	free(out);

	test_wait(busmon, 15000);
	seen = test_read_file(mon_path);
	cr_assert_not_null(seen);
	expect(seen, "ConfigCommand");
	expect(seen, "ConfigSnapshot");
	expect(seen, "<redacted>");
	cr_assert_null(strstr(seen, "LoadedKeyText"), "the loaded key shows on the bus");
	cr_assert_null(strstr(seen, "TypedKeyText"), "the typed key shows on the bus");
	free(seen);
	finish();
}
