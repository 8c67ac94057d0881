/* picsec-busmon against a real bus: decoding from descriptors, filters, count and timeout,
 * recording and replay, and who may see secrets. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "bus.h"
#include "bus.pb-c.h"
#include "catalog.h"
#include "testutil.h"

static char rundir[64];
static char out_path[128];
static pid_t busd;
static struct ev_loop *loop;

static void
setup(void)
{
	test_mkdtemp(rundir, sizeof(rundir));
	snprintf(out_path, sizeof(out_path), "%s/out", rundir);
	loop = ev_loop_new(EVFLAG_AUTO);
	busd = test_busd_start(rundir, NULL);
}

static void
teardown(void)
{
	if (busd > 0)
		test_kill(busd, SIGKILL);
	ev_loop_destroy(loop);
	test_rmdir(rundir);
}

/* Runs picsec-busmon --rundir RUNDIR ARGS... (NULL-terminated) with stdout to out_path. */
static pid_t
busmon(const char *arg, ...)
{
	const char *argv[16] = { test_program("PICSEC_BUSMON"), "--rundir", rundir };
	size_t n = 3;
	va_list ap;

	va_start(ap, arg);
	for (; arg != NULL && n < ARRAY_SIZE(argv) - 1; arg = va_arg(ap, const char *))
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;
	return test_spawn(argv, out_path);
}

static int
exit_code(int status)
{
	return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* The issue's acceptance check, as the issue states it. */
Test(busmon, three_decoded_messages_from_a_fresh_busd, .init = setup, .fini = teardown)
{
	char *out, *line;
	int status;

	status = test_wait(busmon("--json", "--count", "3", "--timeout", "10", NULL),
	    12000);
	cr_assert_eq(exit_code(status), 0);
	out = test_read_file(out_path);
	cr_assert_eq(count_lines(out), 3, "%s", out);
	for (line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		cr_assert(strstr(line, "\"source\":{\"service\":\"busd\"") != NULL, "%s", line);
		cr_assert(strstr(line, "\"type\":\"Heartbeat\",\"payload\":{\"uptime_ms\":\"") != NULL,
		    "%s", line);
	}
	free(out);
	test_busd_finish(&busd);
}

static bool
exited(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	int status;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return false;
	*(pid_t *)arg = 0;
	return true;
}

/* Keeps a service registered and asks busd for the service list until busmon has shown
 * what it was asked for (busmon joins the tap asynchronously). With restart, the service
 * is started afresh every round, so its hello crosses the bus again. */
static void
traffic_until_exit(pid_t mon, bool restart)
{
	Picsec__V1__BusListServices req = PICSEC__V1__BUS_LIST_SERVICES__INIT;
	struct bus_options so = { .service = "echo", .rundir = rundir };
	struct bus_options co = { .service = "cli", .anonymous = true, .rundir = rundir };
	struct bus_call_result *r;
	struct bus *svc, *cli;
	char err[256];
	int i;

	svc = bus_new(loop, &so, err, sizeof(err));
	cli = bus_new(loop, &co, err, sizeof(err));
	cr_assert(svc != NULL && cli != NULL, "%s", err);
	cr_assert_eq(bus_wait_ready(svc, 5000), 0);
	for (i = 0; i < 100 && mon != 0; i++) {
		if (restart) {
			bus_free(svc);
			svc = bus_new(loop, &so, err, sizeof(err));
			cr_assert_not_null(svc, "%s", err);
			cr_assert_eq(bus_wait_ready(svc, 5000), 0);
		}
		bus_call(cli, "busd", MT(BUS_LIST_SERVICES), &req.base, 1000, &r);
		bus_call_result_free(r);
		test_run_until(loop, exited, &mon, 100);
	}
	cr_assert_eq(mon, 0, "busmon did not finish");
	bus_free(cli);
	bus_free(svc);
}

Test(busmon, decodes_nested_messages_it_has_no_code_for, .init = setup, .fini = teardown)
{
	char *out;
	char pid[64];

	traffic_until_exit(busmon("--json", "--type", "BusServiceList", "--count", "1",
	    "--timeout", "20", NULL), false);
	out = test_read_file(out_path);
	cr_assert_eq(count_lines(out), 1, "%s", out);
	cr_assert(strstr(out, "\"kind\":\"reply\",\"route\":\"busd > @cli/") != NULL, "%s", out);
	cr_assert(strstr(out, "\"type\":\"BusServiceList\",\"payload\":{\"services\":[{\"name\":"
	    "\"echo\",\"hello\":{\"service\":\"echo\",\"incarnation\":\"") != NULL, "%s", out);
	snprintf(pid, sizeof(pid), "\"pid\":%d,", (int)getpid());
	cr_assert(strstr(out, pid) != NULL, "%s", out);
	free(out);
	test_busd_finish(&busd);
}

Test(busmon, filters_by_service_and_topic_in_one_line_form, .init = setup, .fini = teardown)
{
	char *out;

	traffic_until_exit(busmon("--service", "echo", "--topic", "hello.", "--count", "1",
	    "--timeout", "20", NULL), true);
	out = test_read_file(out_path);
	cr_assert_eq(count_lines(out), 1, "%s", out);
	cr_assert(strstr(out, " event   hello.echo from echo #") != NULL, "%s", out);
	cr_assert(strstr(out, " ServiceHello {service=\"echo\" incarnation=") != NULL, "%s", out);
	free(out);
	test_busd_finish(&busd);
}

Test(busmon, timeout_before_count_is_a_failure, .init = setup, .fini = teardown)
{
	int status = test_wait(busmon("--type", "BusStats", "--count", "1", "--timeout", "0.5",
	    NULL), 5000);

	cr_assert_eq(exit_code(status), 1);
	test_busd_finish(&busd);
}

Test(busmon, records_and_replays, .init = setup, .fini = teardown)
{
	char rec[128], *out;
	const char *argv[] = { test_program("PICSEC_BUSMON"), "--replay",
		rec, "--json", NULL, NULL };
	struct stat st;
	FILE *f;
	long size;

	snprintf(rec, sizeof(rec), "%s/rec", rundir);
	/* An existing, readable file: a recording holds keys, so it ends up 0600 anyway. */
	f = fopen(rec, "w");
	fclose(f);
	chmod(rec, 0644);
	cr_assert_eq(exit_code(test_wait(busmon("--record", rec, "--count", "2", "--timeout", "10",
	    NULL), 12000)), 0);
	cr_assert_eq(stat(rec, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %04o", (unsigned)(st.st_mode & 0777));
	cr_assert_eq(exit_code(test_wait(test_spawn(argv, out_path), 5000)), 0);
	out = test_read_file(out_path);
	cr_assert_eq(count_lines(out), 2, "%s", out);
	cr_assert(strstr(out, "\"type\":\"Heartbeat\"") != NULL, "%s", out);
	free(out);

	/* A recording cut short is read up to the damage, then reported. */
	f = fopen(rec, "r+");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	cr_assert_eq(ftruncate(fileno(f), size - 3), 0);
	fclose(f);
	cr_assert_eq(exit_code(test_wait(test_spawn(argv, out_path), 5000)), 1);
	out = test_read_file(out_path);
	cr_assert_eq(count_lines(out), 1, "the intact record is still shown: %s", out);
	free(out);
	test_busd_finish(&busd);
}

Test(busmon, only_root_may_show_secrets, .init = setup, .fini = teardown)
{
	const char *argv[] = { test_program("PICSEC_BUSMON"), "--rundir",
		rundir, "--show-secrets", "--count", "1", NULL };
	int status;

	status = test_wait(test_spawn_as(argv, out_path, 65534), 5000);
	cr_assert_eq(exit_code(status), 2, "nobody is refused");
	test_busd_finish(&busd);
}
