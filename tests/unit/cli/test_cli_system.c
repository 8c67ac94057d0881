/* What show system processes picsec and show chassis pic-status print, from a ServiceList
 * built by hand: every state, four PICs (one never up, one down), a process never up, a
 * long name, a remote process, uptimes at their boundaries; the normal, brief and detail
 * views and JSON. Also the words after the commands, their completion, and what the CLI says
 * when healthd does not answer (no bus at all here). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <ev.h>

#include "bus.h"
#include "cli.h"
#include "cli_system.h"
#include "json_check.h"
#include "testutil.h"

#define S(s) ((char *)(uintptr_t)(s))
#define STATE(x) PICSEC__V1__SERVICE_STATE_KIND__SERVICE_##x

/* 2025-06-15 15:06:40.5 UTC */
static const uint64_t NOW = 1750000000ULL * 1000000000ULL + 500000000ULL;
static const uint64_t SEC = 1000000000ULL;

enum { NPROC = 13 };

static struct {
	Picsec__V1__ServiceInfo svc[NPROC];
	Picsec__V1__ServiceInfo *list_of[NPROC];
	Picsec__V1__ServiceList list;
} fx;

/* One process, up and local unless the caller changes it. */
static Picsec__V1__ServiceInfo *
proc(int i, const char *name, Picsec__V1__ServiceStateKind state, uint32_t pid,
    uint64_t incarnation, uint64_t up_ns)
{
	Picsec__V1__ServiceInfo *s = &fx.svc[i];

	picsec__v1__service_info__init(s);
	s->name = S(name);
	s->state = state;
	s->pid = pid;
	s->incarnation = incarnation;
	s->started_ns = up_ns != 0 ? NOW - up_ns : 0;
	s->since_ns = s->started_ns;
	s->hostname = S("gw-a");
	s->version = S("0.6.0");
	s->heartbeat_ms = up_ns != 0 ? 1000 : 0;
	s->heartbeat_age_ms = up_ns != 0 ? 250 : 0;
	s->supervised = true;
	s->local = true;
	return s;
}

static void
setup(void)
{
	Picsec__V1__ServiceInfo *s;
	/* healthd lists them in no particular order */
	static const int order[NPROC] = { 9, 3, 12, 0, 7, 5, 11, 1, 4, 10, 8, 2, 6 };
	int i;

	memset(&fx, 0, sizeof(fx));
	proc(0, "busd", STATE(UP), 1201, 0x6a0e1b2c3d4e5f60ULL,
	    ((2 * 24 + 3) * 3600 + 4 * 60 + 5) * SEC);
	proc(1, "configd", STATE(UP), 1202, 0x1ULL, 86400 * SEC);
	/* 86399.999 s: not yet a day */
	s = proc(2, "sadb", STATE(UP), 1310, 0xfedcba9876543210ULL, 86400 * SEC - 1000000);
	s->restarts = 2;
	s->last_cause = S("killed by signal 9 (SIGKILL)");
	s->since_ns = NOW - 3 * SEC;
	proc(3, "fwd.ms-0/0/10", STATE(UP), 1400, 0x10ULL, 59 * SEC);
	s = proc(4, "fwd.ms-0/0/2", STATE(UNRESPONSIVE), 1402, 0x2ULL, 3600 * SEC);
	s->heartbeat_age_ms = 4500;
	s->since_ns = NOW - 2 * SEC;
	/* started by healthd, not heard from yet */
	s = proc(5, "fwd.ms-0/0/0", STATE(INIT), 1399, 0, 0);
	s->since_ns = NOW - 1 * SEC;
	s->hostname = S("");
	s->version = S("");
	/* dead, waiting for its next start */
	s = proc(6, "fwd.ms-1/0/0", STATE(DOWN), 0, 0xdeadULL, 0);
	s->restarts = 3;
	s->last_cause = S("exited with status 1");
	s->since_ns = NOW - 2 * SEC;
	s->heartbeat_ms = 1000;
	s->heartbeat_age_ms = 2200;
	s->next_start_ms = 1500;
	/* under a second */
	proc(7, "iked", STATE(UP), 1500, 0x7ULL, 400000000);
	proc(8, "healthd", STATE(UP), 1100, 0xaaULL, ((2 * 24 + 3) * 3600 + 4 * 60 + 6) * SEC);
	/* never up: it cannot be started */
	s = proc(9, "metricsd", STATE(DOWN), 0, 0, 0);
	s->last_cause = S("cannot start: No such file or directory");
	s->since_ns = NOW - 4 * SEC;
	s->next_start_ms = 4000;
	s->hostname = S("");
	s->version = S("");
	/* another host's, watched by heartbeats alone */
	s = proc(10, "a-process-with-a-rather-long-name", STATE(UP), 0, 0x123456789aULL,
	    400 * 86400 * SEC);
	s->hostname = S("gw-b");
	s->local = false;
	s->supervised = false;
	/* a clock that went back: no negative uptime */
	s = proc(11, "busmon", STATE(UP), 2000, 0xbbULL, 0);
	s->started_ns = NOW + 5 * SEC;
	s->since_ns = s->started_ns;
	s->supervised = false;
	/* a state this CLI does not know (a newer healthd) */
	s = proc(12, "zed", (Picsec__V1__ServiceStateKind)7, 2100, 0xccULL, 10 * SEC);
	s->supervised = false;
	for (i = 0; i < NPROC; i++)
		fx.list_of[i] = &fx.svc[order[i]];
	picsec__v1__service_list__init(&fx.list);
	fx.list.services = fx.list_of;
	fx.list.n_services = NPROC;
	fx.list.healthd_incarnation = 0xaaULL;
	fx.list.healthd_started_ns = fx.svc[8].started_ns;
	fx.list.supervising = true;
}

TestSuite(cli_system, .init = setup);

static char *
done(struct strbuf *sb)
{
	cr_assert_not(strbuf_failed(sb));
	cr_assert_not_null(sb->buf);
	return sb->buf;
}

static char *
procs(const Picsec__V1__ServiceList *list, enum cli_proc_view view, bool json)
{
	struct strbuf sb = STRBUF_INIT;

	cli_proc_format(&sb, list, view, json, NOW);
	return done(&sb);
}

static char *
pics(const Picsec__V1__ServiceList *list, const char *pic, bool json, size_t want)
{
	struct strbuf sb = STRBUF_INIT;

	cr_assert_eq(cli_pic_format(&sb, list, pic, json, NOW), want);
	if (sb.buf == NULL)
		return strdup("");
	return done(&sb);
}

static void
assert_has(const char *s, const char *what)
{
	cr_assert_not_null(strstr(s, what), "missing \"%s\" in:\n%s", what, s);
}

static size_t
count_of(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)) != NULL; s += strlen(what))
		n++;
	return n;
}

/*
 * show system processes picsec
 */
Test(cli_system, processes)
{
	char *s = procs(&fx.list, CLI_PROC_NORMAL, false);

	/* The suite's start order, the PICs by number; the name column as wide as the
	 * longest name; "-" where a process has nothing. */
	cr_assert_str_eq(s,
	    "Name                               State         PID      Incarnation       "
	    "Uptime         Restarts  Last cause\n"
	    "busd                               Up            1201     6a0e1b2c3d4e5f60  "
	    "2d 03:04:05           0  -\n"
	    "configd                            Up            1202     0000000000000001  "
	    "1d 00:00:00           0  -\n"
	    "sadb                               Up            1310     fedcba9876543210  "
	    "23:59:59              2  killed by signal 9 (SIGKILL)\n"
	    "fwd.ms-0/0/0                       Init          1399     -                 "
	    "-                     0  -\n"
	    "fwd.ms-0/0/2                       Unresponsive  1402     0000000000000002  "
	    "01:00:00              0  -\n"
	    "fwd.ms-0/0/10                      Up            1400     0000000000000010  "
	    "00:00:59              0  -\n"
	    "fwd.ms-1/0/0                       Down          -        000000000000dead  "
	    "-                     3  exited with status 1\n"
	    "iked                               Up            1500     0000000000000007  "
	    "00:00:00              0  -\n"
	    "healthd                            Up            1100     00000000000000aa  "
	    "2d 03:04:06           0  -\n"
	    "metricsd                           Down          -        -                 "
	    "-                     0  cannot start: No such file or directory\n"
	    "a-process-with-a-rather-long-name  Up            -        000000123456789a  "
	    "400d 00:00:00         0  -\n"
	    "busmon                             Up            2000     00000000000000bb  "
	    "00:00:00              0  -\n"
	    "zed                                Unknown       2100     00000000000000cc  "
	    "00:00:10              0  -\n");
	free(s);
}

Test(cli_system, processes_brief)
{
	char *s = procs(&fx.list, CLI_PROC_BRIEF, false);

	cr_assert_str_eq(s,
	    "Name                               State         PID      Incarnation       "
	    "Uptime         Restarts\n"
	    "busd                               Up            1201     6a0e1b2c3d4e5f60  "
	    "2d 03:04:05           0\n"
	    "configd                            Up            1202     0000000000000001  "
	    "1d 00:00:00           0\n"
	    "sadb                               Up            1310     fedcba9876543210  "
	    "23:59:59              2\n"
	    "fwd.ms-0/0/0                       Init          1399     -                 "
	    "-                     0\n"
	    "fwd.ms-0/0/2                       Unresponsive  1402     0000000000000002  "
	    "01:00:00              0\n"
	    "fwd.ms-0/0/10                      Up            1400     0000000000000010  "
	    "00:00:59              0\n"
	    "fwd.ms-1/0/0                       Down          -        000000000000dead  "
	    "-                     3\n"
	    "iked                               Up            1500     0000000000000007  "
	    "00:00:00              0\n"
	    "healthd                            Up            1100     00000000000000aa  "
	    "2d 03:04:06           0\n"
	    "metricsd                           Down          -        -                 "
	    "-                     0\n"
	    "a-process-with-a-rather-long-name  Up            -        000000123456789a  "
	    "400d 00:00:00         0\n"
	    "busmon                             Up            2000     00000000000000bb  "
	    "00:00:00              0\n"
	    "zed                                Unknown       2100     00000000000000cc  "
	    "00:00:10              0\n");
	free(s);
}

Test(cli_system, short_names_keep_the_columns_narrow)
{
	Picsec__V1__ServiceInfo *two[2] = { &fx.svc[7], &fx.svc[0] };
	char *s;

	fx.list.services = two;
	fx.list.n_services = 2;
	s = procs(&fx.list, CLI_PROC_BRIEF, false);
	cr_assert_str_eq(s,
	    "Name  State         PID      Incarnation       Uptime       Restarts\n"
	    "busd  Up            1201     6a0e1b2c3d4e5f60  2d 03:04:05         0\n"
	    "iked  Up            1500     0000000000000007  00:00:00            0\n");
	free(s);
}

Test(cli_system, processes_detail)
{
	/* up; started and never heard from; down and waiting; never up; another host's */
	Picsec__V1__ServiceInfo *some[5] = { &fx.svc[10], &fx.svc[9], &fx.svc[6], &fx.svc[5],
	    &fx.svc[0] };
	char *s;

	fx.list.services = some;
	fx.list.n_services = 5;
	fx.list.supervising = false;
	s = procs(&fx.list, CLI_PROC_DETAIL, false);
	cr_assert_str_eq(s,
	    "picsec-healthd: incarnation 00000000000000aa, up 2d 03:04:06, watching only\n"
	    "\n"
	    "Process: busd\n"
	    "  State: Up, since 2025-06-13 12:02:35 UTC (2d 03:04:05 ago)\n"
	    "  PID: 1201, Incarnation: 6a0e1b2c3d4e5f60\n"
	    "  Started: 2025-06-13 12:02:35 UTC, Uptime: 2d 03:04:05\n"
	    "  Host: gw-a (local), Version: 0.6.0\n"
	    "  Restarts: 0, Last cause: -\n"
	    "  Heartbeat: every 1000 ms, last 250 ms ago\n"
	    "  Supervised: yes\n"
	    "\n"
	    "Process: fwd.ms-0/0/0\n"
	    "  State: Init, since 2025-06-15 15:06:39 UTC (00:00:01 ago)\n"
	    "  PID: 1399, Incarnation: -\n"
	    "  Started: -, Uptime: -\n"
	    "  Host: - (local), Version: -\n"
	    "  Restarts: 0, Last cause: -\n"
	    "  Heartbeat: -\n"
	    "  Supervised: yes\n"
	    "\n"
	    "Process: fwd.ms-1/0/0\n"
	    "  State: Down, since 2025-06-15 15:06:38 UTC (00:00:02 ago)\n"
	    "  PID: -, Incarnation: 000000000000dead\n"
	    "  Started: -, Uptime: -\n"
	    "  Host: gw-a (local), Version: 0.6.0\n"
	    "  Restarts: 3, Last cause: exited with status 1\n"
	    "  Heartbeat: every 1000 ms, last 2200 ms ago\n"
	    "  Supervised: yes, next start in 1500 ms\n"
	    "\n"
	    "Process: metricsd\n"
	    "  State: Down, since 2025-06-15 15:06:36 UTC (00:00:04 ago)\n"
	    "  PID: -, Incarnation: -\n"
	    "  Started: -, Uptime: -\n"
	    "  Host: - (local), Version: -\n"
	    "  Restarts: 0, Last cause: cannot start: No such file or directory\n"
	    "  Heartbeat: -\n"
	    "  Supervised: yes, next start in 4000 ms\n"
	    "\n"
	    "Process: a-process-with-a-rather-long-name\n"
	    "  State: Up, since 2024-05-11 15:06:40 UTC (400d 00:00:00 ago)\n"
	    "  PID: -, Incarnation: 000000123456789a\n"
	    "  Started: 2024-05-11 15:06:40 UTC, Uptime: 400d 00:00:00\n"
	    "  Host: gw-b (remote), Version: 0.6.0\n"
	    "  Restarts: 0, Last cause: -\n"
	    "  Heartbeat: every 1000 ms, last 250 ms ago\n"
	    "  Supervised: no\n");
	free(s);
}

Test(cli_system, detail_has_a_block_for_every_process)
{
	char *s = procs(&fx.list, CLI_PROC_DETAIL, false);

	cr_assert_eq(count_of(s, "\nProcess: "), NPROC, "%s", s);
	assert_has(s, "Process: fwd.ms-0/0/2\n  State: Unresponsive, since 2025-06-15 "
	    "15:06:38 UTC (00:00:02 ago)\n");
	assert_has(s, "  Heartbeat: every 1000 ms, last 4500 ms ago\n");
	assert_has(s, "Process: zed\n  State: Unknown,");
	/* a state without a time of change */
	free(s);
	fx.svc[0].since_ns = 0;
	s = procs(&fx.list, CLI_PROC_DETAIL, false);
	assert_has(s, "Process: busd\n  State: Up\n  PID: 1201,");
	free(s);
	/* healthd that does not know when it started */
	fx.list.healthd_started_ns = 0;
	s = procs(&fx.list, CLI_PROC_DETAIL, false);
	assert_has(s, "picsec-healthd: incarnation 00000000000000aa, up -, supervising\n");
	free(s);
}

Test(cli_system, no_processes)
{
	Picsec__V1__ServiceList empty = PICSEC__V1__SERVICE_LIST__INIT;
	char *s;

	s = procs(&empty, CLI_PROC_NORMAL, false);
	cr_assert_str_eq(s, "No processes\n");
	free(s);
	s = procs(NULL, CLI_PROC_DETAIL, false);
	cr_assert_str_eq(s, "No processes\n");
	free(s);
	s = procs(NULL, CLI_PROC_DETAIL, true);
	assert_json(s);
	cr_assert_str_eq(s, "{\n  \"picsec-process-information\": {\n"
	    "    \"healthd-incarnation\": \"0000000000000000\",\n"
	    "    \"healthd-start-time\": \"-\",\n"
	    "    \"supervising\": false,\n"
	    "    \"process\": []\n  }\n}\n");
	free(s);
}

/*
 * Uptimes: Junos' "03:04:05", with days from one day on.
 */
static const struct {
	uint64_t seconds;
	const char *text;
} uptimes[] = {
	{ 0, "00:00:00" },
	{ 1, "00:00:01" },
	{ 59, "00:00:59" },
	{ 60, "00:01:00" },
	{ 3599, "00:59:59" },
	{ 3600, "01:00:00" },
	{ 86399, "23:59:59" },
	{ 86400, "1d 00:00:00" },
	{ 86401, "1d 00:00:01" },
	{ 7 * 86400 - 1, "6d 23:59:59" },
	{ 7 * 86400, "7d 00:00:00" },
	{ 1000 * 86400 + 45296, "1000d 12:34:56" },
	{ UINT64_MAX, "213503982334601d 07:00:15" },
};

Test(cli_system, uptime_boundaries)
{
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(uptimes) / sizeof(uptimes[0]); i++) {
		cli_uptime_text(buf, sizeof(buf), uptimes[i].seconds);
		cr_assert_str_eq(buf, uptimes[i].text, "%ju s", (uintmax_t)uptimes[i].seconds);
	}
}

Test(cli_system, uptimes_count_whole_seconds_to_now)
{
	Picsec__V1__ServiceInfo *one[1] = { &fx.svc[0] };
	static const struct {
		uint64_t ago_ns;
		const char *text;
	} t[] = {
		{ 1, "00:00:00" },
		{ 999999999, "00:00:00" },
		{ 1000000000, "00:00:01" },
		{ 86400000000000ULL - 1, "23:59:59" },
		{ 86400000000000ULL, "1d 00:00:00" },
	};
	char want[64], *s;
	size_t i;

	fx.list.services = one;
	fx.list.n_services = 1;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fx.svc[0].started_ns = NOW - t[i].ago_ns;
		s = procs(&fx.list, CLI_PROC_NORMAL, false);
		snprintf(want, sizeof(want), "6a0e1b2c3d4e5f60  %-10s", t[i].text);
		assert_has(s, want);
		free(s);
	}
	/* started in the future (the clock went back): none */
	fx.svc[0].started_ns = NOW + 1;
	s = procs(&fx.list, CLI_PROC_NORMAL, false);
	assert_has(s, "6a0e1b2c3d4e5f60  00:00:00 ");
	free(s);
	/* unresponsive counts as running; init with a start time too; down never does */
	fx.svc[0].started_ns = NOW - 5 * SEC;
	fx.svc[0].state = STATE(UNRESPONSIVE);
	s = procs(&fx.list, CLI_PROC_NORMAL, false);
	assert_has(s, "6a0e1b2c3d4e5f60  00:00:05 ");
	free(s);
	fx.svc[0].state = STATE(INIT);
	s = procs(&fx.list, CLI_PROC_NORMAL, false);
	assert_has(s, "6a0e1b2c3d4e5f60  00:00:05 ");
	free(s);
	fx.svc[0].state = STATE(DOWN);
	s = procs(&fx.list, CLI_PROC_NORMAL, false);
	assert_has(s, "6a0e1b2c3d4e5f60  -  ");
	free(s);
}

/*
 * JSON
 */
Test(cli_system, processes_json_brief)
{
	Picsec__V1__ServiceInfo *one[1] = { &fx.svc[0] };
	char *s;

	fx.list.services = one;
	fx.list.n_services = 1;
	s = procs(&fx.list, CLI_PROC_BRIEF, true);
	assert_json(s);
	cr_assert_str_eq(s,
	    "{\n"
	    "  \"picsec-process-information\": {\n"
	    "    \"healthd-incarnation\": \"00000000000000aa\",\n"
	    "    \"healthd-start-time\": \"2025-06-13 12:02:34 UTC\",\n"
	    "    \"supervising\": true,\n"
	    "    \"process\": [\n"
	    "      {\n"
	    "        \"process-name\": \"busd\",\n"
	    "        \"process-state\": \"Up\",\n"
	    "        \"pid\": 1201,\n"
	    "        \"incarnation\": \"6a0e1b2c3d4e5f60\",\n"
	    "        \"up-time\": \"2d 03:04:05\",\n"
	    "        \"up-time-seconds\": 183845,\n"
	    "        \"restarts\": 0\n"
	    "      }\n"
	    "    ]\n"
	    "  }\n"
	    "}\n");
	free(s);
}

Test(cli_system, processes_json)
{
	const char *a, *b, *c;
	char *s = procs(&fx.list, CLI_PROC_NORMAL, true);

	assert_json(s);
	cr_assert_eq(count_of(s, "\"process-name\""), NPROC, "%s", s);
	cr_assert_eq(count_of(s, "\"last-cause\""), NPROC, "%s", s);
	assert_has(s, "\"process-name\": \"sadb\",\n"
	    "        \"process-state\": \"Up\",\n"
	    "        \"pid\": 1310,\n"
	    "        \"incarnation\": \"fedcba9876543210\",\n"
	    "        \"up-time\": \"23:59:59\",\n"
	    "        \"up-time-seconds\": 86399,\n"
	    "        \"restarts\": 2,\n"
	    "        \"last-cause\": \"killed by signal 9 (SIGKILL)\"\n");
	assert_has(s, "\"process-name\": \"metricsd\",\n"
	    "        \"process-state\": \"Down\",\n"
	    "        \"pid\": 0,\n"
	    "        \"incarnation\": \"-\",\n"
	    "        \"up-time\": \"-\",\n"
	    "        \"up-time-seconds\": 0,\n");
	assert_has(s, "\"process-state\": \"Init\"");
	assert_has(s, "\"process-state\": \"Unresponsive\"");
	assert_has(s, "\"process-state\": \"Unknown\"");
	assert_has(s, "\"up-time-seconds\": 34560000,");
	/* in the table's order */
	a = strstr(s, "\"fwd.ms-0/0/2\"");
	b = strstr(s, "\"fwd.ms-0/0/10\"");
	c = strstr(s, "\"iked\"");
	cr_assert(a != NULL && b != NULL && c != NULL && a < b && b < c, "%s", s);
	cr_assert_null(strstr(s, "host-name"), "detail in the normal JSON:\n%s", s);
	free(s);
}

Test(cli_system, processes_json_detail)
{
	char *s = procs(&fx.list, CLI_PROC_DETAIL, true);

	assert_json(s);
	cr_assert_eq(count_of(s, "\"next-start-ms\""), NPROC, "%s", s);
	assert_has(s, "\"process-name\": \"fwd.ms-1/0/0\",\n"
	    "        \"process-state\": \"Down\",\n"
	    "        \"pid\": 0,\n"
	    "        \"incarnation\": \"000000000000dead\",\n"
	    "        \"up-time\": \"-\",\n"
	    "        \"up-time-seconds\": 0,\n"
	    "        \"restarts\": 3,\n"
	    "        \"last-cause\": \"exited with status 1\",\n"
	    "        \"start-time\": \"-\",\n"
	    "        \"state-since\": \"2025-06-15 15:06:38 UTC\",\n"
	    "        \"host-name\": \"gw-a\",\n"
	    "        \"local\": true,\n"
	    "        \"version\": \"0.6.0\",\n"
	    "        \"heartbeat-interval-ms\": 1000,\n"
	    "        \"heartbeat-age-ms\": 2200,\n"
	    "        \"supervised\": true,\n"
	    "        \"next-start-ms\": 1500\n"
	    "      },\n");
	assert_has(s, "\"host-name\": \"gw-b\",\n        \"local\": false,\n");
	assert_has(s, "\"start-time\": \"2024-05-11 15:06:40 UTC\"");
	free(s);
}

Test(cli_system, json_escapes_what_healthd_sends)
{
	char *s;

	fx.svc[2].last_cause = S("a\"b\\c\n\x01");
	fx.svc[0].hostname = S("gw\t1");
	s = procs(&fx.list, CLI_PROC_DETAIL, true);
	assert_json(s);
	assert_has(s, "\"last-cause\": \"a\\\"b\\\\c\\n\\u0001\"");
	assert_has(s, "\"host-name\": \"gw\\t1\"");
	free(s);
	fx.svc[6].last_cause = S("\"x\"");
	s = pics(&fx.list, NULL, true, 4);
	assert_json(s);
	assert_has(s, "\"last-cause\": \"\\\"x\\\"\"");
	free(s);
}

Test(cli_system, absent_strings_are_empty)
{
	char *s;

	/* protobuf-c gives "" for an unset string, but a hand-made message may hold NULL */
	fx.svc[0].last_cause = NULL;
	fx.svc[0].hostname = NULL;
	fx.svc[0].version = NULL;
	s = procs(&fx.list, CLI_PROC_DETAIL, true);
	assert_json(s);
	free(s);
	s = procs(&fx.list, CLI_PROC_DETAIL, false);
	assert_has(s, "Process: busd\n");
	assert_has(s, "  Host: - (local), Version: -\n  Restarts: 0, Last cause: -\n");
	free(s);
}

/*
 * show chassis pic-status
 */
Test(cli_system, pic_status)
{
	char *s = pics(&fx.list, NULL, false, 4);

	/* Junos' Online and Offline; Starting and Unresponsive are picsec's */
	cr_assert_str_eq(s,
	    "PIC ms-0/0/0   Starting      pid 1399     uptime -         restarts 0\n"
	    "PIC ms-0/0/2   Unresponsive  pid 1402     uptime 01:00:00  restarts 0\n"
	    "PIC ms-0/0/10  Online        pid 1400     uptime 00:00:59  restarts 0\n"
	    "PIC ms-1/0/0   Offline       pid -        uptime -         restarts 3\n"
	    "  Reason: exited with status 1\n");
	free(s);
}

Test(cli_system, pic_status_of_one_pic)
{
	char *s;

	s = pics(&fx.list, "ms-0/0/2", false, 1);
	cr_assert_str_eq(s,
	    "PIC ms-0/0/2  Unresponsive  pid 1402     uptime 01:00:00  restarts 0\n");
	free(s);
	s = pics(&fx.list, "ms-1/0/0", true, 1);
	assert_json(s);
	cr_assert_str_eq(s,
	    "{\n"
	    "  \"pic-information\": {\n"
	    "    \"pic\": [\n"
	    "      {\n"
	    "        \"pic-name\": \"ms-1/0/0\",\n"
	    "        \"pic-state\": \"Offline\",\n"
	    "        \"pid\": 0,\n"
	    "        \"incarnation\": \"000000000000dead\",\n"
	    "        \"up-time\": \"-\",\n"
	    "        \"up-time-seconds\": 0,\n"
	    "        \"restarts\": 3,\n"
	    "        \"last-cause\": \"exited with status 1\"\n"
	    "      }\n"
	    "    ]\n"
	    "  }\n"
	    "}\n");
	free(s);
	/* a name that is no PIC: nothing written, 0 returned (the command says the error) */
	s = pics(&fx.list, "ms-9/9/9", false, 0);
	cr_assert_str_eq(s, "");
	free(s);
	s = pics(&fx.list, "ms-0/0/1", true, 0);
	cr_assert_str_eq(s, "");
	free(s);
	/* a process that is not a PIC is not one by its own name either */
	s = pics(&fx.list, "iked", false, 0);
	cr_assert_str_eq(s, "");
	free(s);
}

Test(cli_system, pic_status_json)
{
	const char *a, *b;
	char *s = pics(&fx.list, NULL, true, 4);

	assert_json(s);
	cr_assert_eq(count_of(s, "\"pic-name\""), 4, "%s", s);
	assert_has(s, "\"pic-name\": \"ms-0/0/0\",\n        \"pic-state\": \"Starting\",\n"
	    "        \"pid\": 1399,\n        \"incarnation\": \"-\",\n");
	assert_has(s, "\"pic-state\": \"Unresponsive\"");
	assert_has(s, "\"pic-name\": \"ms-0/0/10\",\n        \"pic-state\": \"Online\",\n"
	    "        \"pid\": 1400,\n        \"incarnation\": \"0000000000000010\",\n"
	    "        \"up-time\": \"00:00:59\",\n        \"up-time-seconds\": 59,\n"
	    "        \"restarts\": 0,\n        \"last-cause\": \"\"\n");
	a = strstr(s, "\"ms-0/0/2\"");
	b = strstr(s, "\"ms-0/0/10\"");
	cr_assert(a != NULL && b != NULL && a < b, "%s", s);
	cr_assert_null(strstr(s, "iked"), "%s", s);
	free(s);
}

Test(cli_system, no_pics)
{
	Picsec__V1__ServiceInfo *two[2] = { &fx.svc[7], &fx.svc[0] };
	char *s;

	fx.list.services = two;
	fx.list.n_services = 2;
	s = pics(&fx.list, NULL, false, 0);
	cr_assert_str_eq(s, "No PICs\n");
	free(s);
	s = pics(NULL, NULL, false, 0);
	cr_assert_str_eq(s, "No PICs\n");
	free(s);
	s = pics(&fx.list, NULL, true, 0);
	assert_json(s);
	cr_assert_str_eq(s, "{\n  \"pic-information\": {\n    \"pic\": []\n  }\n}\n");
	free(s);
}

Test(cli_system, long_pic_names_widen_the_column)
{
	Picsec__V1__ServiceInfo *two[2] = { &fx.svc[3], &fx.svc[6] };
	char *s;

	fx.svc[3].name = S("fwd.ms-0/0/10-with-a-longer-name");
	fx.svc[6].last_cause = S("");	/* down without a cause: no reason line */
	fx.svc[3].started_ns = NOW - (12 * 86400 + 1) * SEC;
	fx.list.services = two;
	fx.list.n_services = 2;
	s = pics(&fx.list, NULL, false, 2);
	cr_assert_str_eq(s,
	    "PIC ms-0/0/10-with-a-longer-name  Online        pid 1400     "
	    "uptime 12d 00:00:01  restarts 0\n"
	    "PIC ms-1/0/0                      Offline       pid -        "
	    "uptime -             restarts 3\n");
	free(s);
}

Test(cli_system, unknown_states_are_said_so)
{
	char *s;

	fx.svc[3].state = (Picsec__V1__ServiceStateKind)99;
	s = pics(&fx.list, "ms-0/0/10", false, 1);
	cr_assert_str_eq(s,
	    "PIC ms-0/0/10  Unknown       pid 1400     uptime 00:00:59  restarts 0\n");
	free(s);
	fx.svc[3].state = (Picsec__V1__ServiceStateKind)-1;
	s = pics(&fx.list, "ms-0/0/10", false, 1);
	assert_has(s, "Unknown");
	free(s);
}

/*
 * The start order: busd, configd, sadb, the PICs by number, iked, healthd, metricsd, then
 * the others by name (their numbers as numbers too).
 */
Test(cli_system, start_order)
{
	static const char *const names[] = { "zz", "metricsd", "fwd.ms-0/1/0", "iked", "x10",
	    "fwd.ms-0/0/9", "x9", "healthd", "sadb", "fwd.ms-0/0/09", "configd", "busd",
	    "fwd.ms-10/0/0", "fwd.ms-2/0/0", "fwd" };
	static const char *const want[] = { "busd", "configd", "sadb", "fwd.ms-0/0/09",
	    "fwd.ms-0/0/9", "fwd.ms-0/1/0", "fwd.ms-2/0/0", "fwd.ms-10/0/0", "iked", "healthd",
	    "metricsd", "fwd", "x9", "x10", "zz" };
	enum { N = sizeof(names) / sizeof(names[0]) };
	Picsec__V1__ServiceInfo svc[N], *ptr[N];
	const char *p;
	char *s, line[64];
	size_t i;

	for (i = 0; i < N; i++) {
		picsec__v1__service_info__init(&svc[i]);
		svc[i].name = S(names[i]);
		ptr[i] = &svc[i];
	}
	fx.list.services = ptr;
	fx.list.n_services = N;
	s = procs(&fx.list, CLI_PROC_BRIEF, false);
	p = strchr(s, '\n') + 1;
	for (i = 0; i < N; i++) {
		snprintf(line, sizeof(line), "%-15sInit ", want[i]);
		cr_assert_eq(strncmp(p, line, strlen(line)), 0, "line %zu is not %s:\n%s", i + 1,
		    want[i], s);
		p = strchr(p, '\n') + 1;
	}
	cr_assert_eq(*p, '\0');
	free(s);
}

/*
 * The words after the commands.
 */
Test(cli_system, words_brief_and_detail)
{
	char *w[3], err[256];
	enum cli_proc_view v;

	cr_assert_eq(cli_proc_parse_args(w, 0, &v, err, sizeof(err)), 0);
	cr_assert_eq(v, CLI_PROC_NORMAL);
	w[0] = S("brief");
	cr_assert_eq(cli_proc_parse_args(w, 1, &v, err, sizeof(err)), 0);
	cr_assert_eq(v, CLI_PROC_BRIEF);
	w[0] = S("d");
	cr_assert_eq(cli_proc_parse_args(w, 1, &v, err, sizeof(err)), 0);
	cr_assert_eq(v, CLI_PROC_DETAIL);
	w[0] = S("detail");
	w[1] = S("b");
	cr_assert_eq(cli_proc_parse_args(w, 2, &v, err, sizeof(err)), 0);
	cr_assert_eq(v, CLI_PROC_BRIEF, "the last of brief and detail counts");
	w[2] = S("x");
	cr_assert_eq(cli_proc_parse_args(w, 3, &v, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "invalid argument 'x' (expected brief or detail)");
	w[0] = S("");
	cr_assert_eq(cli_proc_parse_args(w, 1, &v, err, sizeof(err)), -1);
	w[0] = S("details");
	cr_assert_eq(cli_proc_parse_args(w, 1, &v, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "invalid argument 'details' (expected brief or detail)");
}

Test(cli_system, words_a_pic_name)
{
	static const char *const bad[] = { "", "MS-0/0/0", "fwd.ms-0/0/0", "ms 0", "ms-0/0/0\n",
	    "ms_0", "ms-0/0/0-and-a-name-far-too-long" };
	const char *pic;
	char *w[2], err[256];
	size_t i;

	cr_assert_eq(cli_pic_parse_args(w, 0, &pic, err, sizeof(err)), 0);
	cr_assert_null(pic);
	w[0] = S("ms-0/0/0");
	cr_assert_eq(cli_pic_parse_args(w, 1, &pic, err, sizeof(err)), 0);
	cr_assert_str_eq(pic, "ms-0/0/0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w[0] = S(bad[i]);
		cr_assert_eq(cli_pic_parse_args(w, 1, &pic, err, sizeof(err)), -1, "'%s' taken",
		    bad[i]);
	}
	w[0] = S("MS-0/0/0");
	cr_assert_eq(cli_pic_parse_args(w, 1, &pic, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "invalid PIC name 'MS-0/0/0' (expected a name like ms-0/0/0)");
	w[0] = S("ms-0/0/0");
	w[1] = S("ms-0/0/1");
	cr_assert_eq(cli_pic_parse_args(w, 2, &pic, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "one PIC name only, not 'ms-0/0/0' and 'ms-0/0/1'");
}

/*
 * The command table: completion, help, and the commands run without healthd.
 */
static void
words_of(const char *line, char *buf, size_t len, char *hint, size_t hintlen)
{
	struct cli_choice c[32];
	struct cli cli;
	size_t n, i;

	memset(&cli, 0, sizeof(cli));
	n = cli_complete(&cli, line, c, 32, hint, hintlen);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(buf, c[i].word, len - strlen(buf) - 1);
		if (i + 1 < n)
			strncat(buf, " ", len - strlen(buf) - 1);
	}
}

#define ASSERT_COMPLETES(line, want, want_hint) do {				\
	char got_[512], hint_[64];						\
	words_of((line), got_, sizeof(got_), hint_, sizeof(hint_));		\
	cr_assert_str_eq(got_, (want), "'%s' completes to '%s'", (line), got_);	\
	cr_assert_str_eq(hint_, (want_hint), "'%s' hints '%s'", (line), hint_);	\
} while (0)

Test(cli_system, completion)
{
	ASSERT_COMPLETES("show ", "configuration system bus services chassis", "");
	ASSERT_COMPLETES("show ch", "chassis", "");
	ASSERT_COMPLETES("show chassis ", "pic-status", "");
	ASSERT_COMPLETES("sh ch p", "pic-status", "");
	ASSERT_COMPLETES("show chassis pic-status ", "", "<PIC-NAME>");
	ASSERT_COMPLETES("show system ", "commit processes", "");
	ASSERT_COMPLETES("show system p", "processes", "");
	ASSERT_COMPLETES("show system processes ", "picsec", "");
	ASSERT_COMPLETES("sh sys pro p", "picsec", "");
	ASSERT_COMPLETES("show system processes picsec ", "brief detail", "");
	ASSERT_COMPLETES("show system processes picsec b", "brief", "");
	ASSERT_COMPLETES("show system processes picsec detail ", "brief detail", "");
}

Test(cli_system, completion_help)
{
	struct cli_choice c[8];
	struct cli cli;
	char hint[64];

	memset(&cli, 0, sizeof(cli));
	cr_assert_eq(cli_complete(&cli, "show chassis p", c, 8, hint, sizeof(hint)), 1);
	cr_assert_str_eq(c[0].word, "pic-status");
	cr_assert_str_eq(c[0].help,
	    "the PICs: Online, Offline, Unresponsive or Starting [PIC-NAME]");
	cr_assert_eq(cli_complete(&cli, "show system processes p", c, 8, hint,
	    sizeof(hint)), 1);
	cr_assert_str_eq(c[0].word, "picsec");
	cr_assert_str_eq(c[0].help,
	    "picsec's processes as picsec-healthd sees them [brief | detail]");
}

Test(cli_system, listed_in_help)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cli_list_commands(f);
	fclose(f);
	assert_has(buf, "  show system processes picsec\n"
	    "      picsec's processes as picsec-healthd sees them [brief | detail]\n");
	assert_has(buf, "  show chassis pic-status\n"
	    "      the PICs: Online, Offline, Unresponsive or Starting [PIC-NAME]\n");
	free(buf);
}

/* A CLI with a bus that has no busd (so no healthd) behind it. */
static struct {
	char rundir[256];
	struct ev_loop *loop;
	struct cli cli;
} nb;

static void
nobus_setup(void)
{
	struct bus_options opts = { .service = "cli", .anonymous = true };
	char err[256];

	cr_redirect_stdout();
	cr_redirect_stderr();
	memset(&nb, 0, sizeof(nb));
	test_mkdtemp(nb.rundir, sizeof(nb.rundir));
	opts.rundir = nb.rundir;
	nb.loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(nb.loop);
	nb.cli.bus = bus_new(nb.loop, &opts, err, sizeof(err));
	cr_assert_not_null(nb.cli.bus, "%s", err);
	nb.cli.timeout_ms = 50;
}

static void
nobus_teardown(void)
{
	bus_free(nb.cli.bus);
	ev_loop_destroy(nb.loop);
	test_rmdir(nb.rundir);
}

static int
run(const char *line)
{
	int rc = cli_line(&nb.cli, line);

	fflush(stdout);
	fflush(stderr);
	return rc;
}

/* The lines on the redirected stderr so far, each checked to start with want[i]. */
static void
assert_stderr_lines(const char *const *want, size_t n)
{
	FILE *f = cr_get_redirected_stderr();
	char line[512];
	size_t i = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		cr_assert_lt(i, n, "one line too many: %s", line);
		cr_assert_eq(strncmp(line, want[i], strlen(want[i])), 0, "line %zu is '%s', not "
		    "'%s...'", i + 1, line, want[i]);
		cr_assert_eq(line[strlen(line) - 1], '\n');
		i++;
	}
	cr_assert_eq(i, n, "%zu lines on stderr, not %zu", i, n);
}

Test(cli_system, without_healthd_each_command_fails_with_one_line, .init = nobus_setup,
    .fini = nobus_teardown)
{
	/* What follows is the bus library's to say ("not connected to the bus ..."). */
	static const char *const want[] = {
		"error: picsec-healthd is not answering: no reply from 'healthd' to "
		    "ServiceGetList within 50 ms: ",
		"error: picsec-healthd is not answering: no reply from 'healthd' to "
		    "ServiceGetList within 50 ms: ",
		"error: picsec-healthd is not answering: no reply from 'healthd' to "
		    "ServiceGetList within 50 ms: ",
		"error: picsec-healthd is not answering: no reply from 'healthd' to "
		    "ServiceGetList within 50 ms: ",
	};

	cr_assert_eq(run("show system processes picsec"), 1);
	cr_assert_eq(run("show system processes picsec detail | display json"), 1);
	cr_assert_eq(run("show chassis pic-status"), 1);
	cr_assert_eq(run("sh chas pic-status ms-0/0/0 | display json"), 1);
	cr_assert_stdout_eq_str("");
	assert_stderr_lines(want, sizeof(want) / sizeof(want[0]));
}

Test(cli_system, bad_words_are_refused_before_asking, .init = nobus_setup,
    .fini = nobus_teardown)
{
	cr_assert_eq(run("show system processes picsec x"), 1);
	cr_assert_eq(run("show chassis pic-status MS-0/0/0"), 1);
	cr_assert_eq(run("show chassis pic-status ms-0/0/0 ms-0/0/1"), 1);
	cr_assert_eq(run("show system processes"), 1);
	cr_assert_stdout_eq_str("");
	cr_assert_stderr_eq_str(
	    "error: invalid argument 'x' (expected brief or detail)\n"
	    "error: invalid PIC name 'MS-0/0/0' (expected a name like ms-0/0/0)\n"
	    "error: one PIC name only, not 'ms-0/0/0' and 'ms-0/0/1'\n"
	    "error: unknown command: show system processes\n");
}
