/* The words and the text and JSON of show system processes picsec and show chassis
 * pic-status (cli_system.h). The PIC list takes the look of Junos' show chassis fpc
 * pic-status ("Slot 0   Online   MS-PIC"), one PIC a line. Nothing here talks to the bus. */
#include "cli_system.h"
#include "cli_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cli_words.h"

#define STATE(x) PICSEC__V1__SERVICE_STATE_KIND__SERVICE_##x

enum { NS_PER_S = 1000000000 };

static const char fwd_prefix[] = "fwd.";

/*
 * The words after the commands.
 */
static const char *const proc_keywords[] = { "brief", "detail", NULL };


int
cli_proc_parse_args(char **args, int nargs, enum cli_proc_view *view, char *err,
    size_t errlen)
{
	const char *k;
	int i;

	*view = CLI_PROC_NORMAL;
	for (i = 0; i < nargs; i++) {
		if ((k = cli_keyword(args[i], proc_keywords)) == NULL) {
			snprintf(err, errlen, "invalid argument '%s' (expected brief or detail)",
			    args[i]);
			return -1;
		}
		*view = strcmp(k, "brief") == 0 ? CLI_PROC_BRIEF : CLI_PROC_DETAIL;
	}
	return 0;
}

/* What picsec-fwd takes for --pic: lower-case letters, digits, '-' and '/'. */
static bool
pic_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-/") == n;
}

int
cli_pic_parse_args(char **args, int nargs, const char **pic, char *err, size_t errlen)
{
	*pic = NULL;
	if (nargs > 1) {
		snprintf(err, errlen, "one PIC name only, not '%s' and '%s'", args[0], args[1]);
		return -1;
	}
	if (nargs == 1 && !pic_name_valid(args[0])) {
		snprintf(err, errlen, "invalid PIC name '%s' (expected a name like ms-0/0/0)",
		    args[0]);
		return -1;
	}
	*pic = nargs == 1 ? args[0] : NULL;
	return 0;
}

/*
 * Times.
 */
void
cli_uptime_text(char *buf, size_t len, uint64_t seconds)
{
	uint64_t days = seconds / 86400, rest = seconds % 86400;

	if (days > 0)
		snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, days,
		    rest / 3600, rest / 60 % 60, rest % 60);
	else
		snprintf(buf, len, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, rest / 3600,
		    rest / 60 % 60, rest % 60);
}

/* The whole seconds from then to now; a clock that went back counts as none. */
static uint64_t
seconds_since(uint64_t now_ns, uint64_t then_ns)
{
	return now_ns > then_ns ? (now_ns - then_ns) / NS_PER_S : 0;
}

/* "2025-06-01 10:00:00 UTC", or "-" for 0 (never). */
static const char *
time_text(char *buf, size_t len, uint64_t ns)
{
	time_t t = (time_t)(ns / NS_PER_S);
	struct tm tm;

	if (ns == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return "-";
	return buf;
}

/*
 * One process.
 */
static const char *const proc_state_words[] = {
	[STATE(INIT)] = "Init",
	[STATE(UP)] = "Up",
	[STATE(UNRESPONSIVE)] = "Unresponsive",
	[STATE(DOWN)] = "Down",
};

/* Junos' show chassis fpc pic-status says Online or Offline. A PIC process that is alive
 * but silent, or started and not yet heard from, has no Junos word: those two are ours. */
static const char *const pic_state_words[] = {
	[STATE(INIT)] = "Starting",
	[STATE(UP)] = "Online",
	[STATE(UNRESPONSIVE)] = "Unresponsive",
	[STATE(DOWN)] = "Offline",
};

static const char *
state_word(const char *const *words, size_t n, Picsec__V1__ServiceStateKind state)
{
	return (size_t)state < n && words[state] != NULL ? words[state] : "Unknown";
}

static const char *
proc_state_word(const Picsec__V1__ServiceInfo *s)
{
	return state_word(proc_state_words, ARRAY_SIZE(proc_state_words), s->state);
}

static const char *
pic_state_word(const Picsec__V1__ServiceInfo *s)
{
	return state_word(pic_state_words, ARRAY_SIZE(pic_state_words), s->state);
}

static const char *
text_or(const char *s, const char *absent)
{
	return s != NULL && s[0] != '\0' ? s : absent;
}

/* The columns of a process's line: "-" where it has nothing (not running, never heard). */
struct proc_cols {
	char pid[16];
	char incarnation[20];
	char uptime[32];
	uint64_t up_seconds;
	bool running;		/* has an uptime: started, and not down */
};

static void
proc_cols(struct proc_cols *c, const Picsec__V1__ServiceInfo *s, uint64_t now_ns)
{
	if (s->pid != 0)
		snprintf(c->pid, sizeof(c->pid), "%" PRIu32, s->pid);
	else
		snprintf(c->pid, sizeof(c->pid), "-");
	if (s->incarnation != 0)
		snprintf(c->incarnation, sizeof(c->incarnation), "%016" PRIx64, s->incarnation);
	else
		snprintf(c->incarnation, sizeof(c->incarnation), "-");
	c->running = s->state != STATE(DOWN) && s->started_ns != 0;
	c->up_seconds = c->running ? seconds_since(now_ns, s->started_ns) : 0;
	if (c->running)
		cli_uptime_text(c->uptime, sizeof(c->uptime), c->up_seconds);
	else
		snprintf(c->uptime, sizeof(c->uptime), "-");
}

/*
 * The suite's start order.
 */
static const char *const start_order[] = { "busd", "configd", "sadb", fwd_prefix, "iked",
	"healthd", "metricsd" };

static size_t
start_rank(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(start_order); i++) {
		if (start_order[i] == fwd_prefix ?
		    strncmp(name, fwd_prefix, strlen(fwd_prefix)) == 0 :
		    strcmp(name, start_order[i]) == 0)
			return i;
	}
	return ARRAY_SIZE(start_order);
}

/* Names with their numbers compared as numbers: ms-0/0/2 before ms-0/0/10. */
static int
name_cmp(const char *a, const char *b)
{
	const char *pa = a, *pb = b;
	size_t la, lb;
	int c;

	while (*pa != '\0' && *pb != '\0') {
		if (*pa >= '0' && *pa <= '9' && *pb >= '0' && *pb <= '9') {
			while (*pa == '0' && pa[1] >= '0' && pa[1] <= '9')
				pa++;
			while (*pb == '0' && pb[1] >= '0' && pb[1] <= '9')
				pb++;
			la = strspn(pa, "0123456789");
			lb = strspn(pb, "0123456789");
			if (la != lb)
				return la < lb ? -1 : 1;
			if ((c = strncmp(pa, pb, la)) != 0)
				return c;
			pa += la;
			pb += lb;
			continue;
		}
		if (*pa != *pb)
			return (unsigned char)*pa < (unsigned char)*pb ? -1 : 1;
		pa++;
		pb++;
	}
	if (*pa != *pb)
		return *pa == '\0' ? -1 : 1;
	return strcmp(a, b);	/* only leading zeros told them apart */
}

static int
proc_cmp(const void *pa, const void *pb)
{
	const Picsec__V1__ServiceInfo *a = *(const Picsec__V1__ServiceInfo *const *)pa;
	const Picsec__V1__ServiceInfo *b = *(const Picsec__V1__ServiceInfo *const *)pb;
	size_t ra = start_rank(a->name), rb = start_rank(b->name);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return name_cmp(a->name, b->name);
}

static bool
is_pic(const Picsec__V1__ServiceInfo *s)
{
	return strncmp(s->name, fwd_prefix, strlen(fwd_prefix)) == 0;
}

static const char *
pic_name(const Picsec__V1__ServiceInfo *s)
{
	return s->name + strlen(fwd_prefix);
}

/* The processes to show (PICs only: those, and of them only pic when not NULL), sorted;
 * free the array. NULL for none; running out of memory fails out. */
static const Picsec__V1__ServiceInfo **
proc_sorted(struct strbuf *out, const Picsec__V1__ServiceList *list, bool pics,
    const char *pic, size_t *np)
{
	const Picsec__V1__ServiceInfo **v, *s;
	size_t i, n = 0;

	*np = 0;
	if (list == NULL || list->n_services == 0)
		return NULL;
	if ((v = calloc(list->n_services, sizeof(*v))) == NULL) {
		out->failed = true;
		return NULL;
	}
	for (i = 0; i < list->n_services; i++) {
		if ((s = list->services[i]) == NULL || s->name == NULL)
			continue;
		if (pics && (!is_pic(s) || (pic != NULL && strcmp(pic_name(s), pic) != 0)))
			continue;
		v[n++] = s;
	}
	qsort(v, n, sizeof(*v), proc_cmp);
	*np = n;
	return v;
}

/*
 * show system processes picsec
 */
static void
proc_lines_text(struct strbuf *out, const Picsec__V1__ServiceInfo *const *v, size_t n,
    bool cause, uint64_t now_ns)
{
	struct proc_cols c;
	size_t i, len, width = strlen("Name"), upw = strlen("00:00:00");

	for (i = 0; i < n; i++) {
		if ((len = strlen(v[i]->name)) > width)
			width = len;
		proc_cols(&c, v[i], now_ns);
		if ((len = strlen(c.uptime)) > upw)
			upw = len;
	}
	width += 2;
	upw += 2;
	strbuf_addf(out, "%-*s%-14s%-9s%-18s%-*s%8s%s\n", (int)width, "Name", "State", "PID",
	    "Incarnation", (int)upw, "Uptime", "Restarts", cause ? "  Last cause" : "");
	for (i = 0; i < n; i++) {
		proc_cols(&c, v[i], now_ns);
		strbuf_addf(out, "%-*s%-14s%-9s%-18s%-*s%8" PRIu32, (int)width, v[i]->name,
		    proc_state_word(v[i]), c.pid, c.incarnation, (int)upw, c.uptime,
		    v[i]->restarts);
		if (cause)
			strbuf_addf(out, "  %s", text_or(v[i]->last_cause, "-"));
		strbuf_addc(out, '\n');
	}
}

static void
proc_detail_text(struct strbuf *out, const Picsec__V1__ServiceInfo *s, uint64_t now_ns)
{
	struct proc_cols c;
	char t[64], span[32];

	proc_cols(&c, s, now_ns);
	strbuf_addf(out, "Process: %s\n", s->name);
	if (s->since_ns != 0) {
		cli_uptime_text(span, sizeof(span), seconds_since(now_ns, s->since_ns));
		strbuf_addf(out, "  State: %s, since %s (%s ago)\n", proc_state_word(s),
		    time_text(t, sizeof(t), s->since_ns), span);
	} else {
		strbuf_addf(out, "  State: %s\n", proc_state_word(s));
	}
	strbuf_addf(out, "  PID: %s, Incarnation: %s\n", c.pid, c.incarnation);
	strbuf_addf(out, "  Started: %s, Uptime: %s\n", time_text(t, sizeof(t), s->started_ns),
	    c.uptime);
	strbuf_addf(out, "  Host: %s (%s), Version: %s\n", text_or(s->hostname, "-"),
	    s->local ? "local" : "remote", text_or(s->version, "-"));
	strbuf_addf(out, "  Restarts: %" PRIu32 ", Last cause: %s\n", s->restarts,
	    text_or(s->last_cause, "-"));
	if (s->heartbeat_ms != 0)
		strbuf_addf(out, "  Heartbeat: every %" PRIu32 " ms, last %" PRIu64 " ms ago\n",
		    s->heartbeat_ms, s->heartbeat_age_ms);
	else
		strbuf_adds(out, "  Heartbeat: -\n");
	if (s->supervised && s->state == STATE(DOWN))
		strbuf_addf(out, "  Supervised: yes, next start in %" PRIu64 " ms\n",
		    s->next_start_ms);
	else
		strbuf_addf(out, "  Supervised: %s\n", s->supervised ? "yes" : "no");
}

static void
healthd_text(struct strbuf *out, const Picsec__V1__ServiceList *list, uint64_t now_ns)
{
	char up[32];

	if (list->healthd_started_ns != 0)
		cli_uptime_text(up, sizeof(up), seconds_since(now_ns, list->healthd_started_ns));
	else
		snprintf(up, sizeof(up), "-");
	strbuf_addf(out, "picsec-healthd: incarnation %016" PRIx64 ", up %s, %s\n",
	    list->healthd_incarnation, up,
	    list->supervising ? "supervising" : "watching only");
}

static void
proc_json(struct jw *j, const Picsec__V1__ServiceInfo *s, enum cli_proc_view view,
    uint64_t now_ns)
{
	struct proc_cols c;
	char t[64];

	proc_cols(&c, s, now_ns);
	jw_open(j, NULL, '{');
	jw_str(j, "process-name", s->name);
	jw_str(j, "process-state", proc_state_word(s));
	jw_u64(j, "pid", s->pid);
	jw_str(j, "incarnation", c.incarnation);
	jw_str(j, "up-time", c.uptime);
	jw_u64(j, "up-time-seconds", c.up_seconds);
	jw_u64(j, "restarts", s->restarts);
	if (view != CLI_PROC_BRIEF)
		jw_str(j, "last-cause", s->last_cause != NULL ? s->last_cause : "");
	if (view == CLI_PROC_DETAIL) {
		jw_str(j, "start-time", time_text(t, sizeof(t), s->started_ns));
		jw_str(j, "state-since", time_text(t, sizeof(t), s->since_ns));
		jw_str(j, "host-name", s->hostname != NULL ? s->hostname : "");
		jw_bool(j, "local", s->local);
		jw_str(j, "version", s->version != NULL ? s->version : "");
		jw_u64(j, "heartbeat-interval-ms", s->heartbeat_ms);
		jw_u64(j, "heartbeat-age-ms", s->heartbeat_age_ms);
		jw_bool(j, "supervised", s->supervised);
		jw_u64(j, "next-start-ms", s->next_start_ms);
	}
	jw_close(j, '}');
}

void
cli_proc_format(struct strbuf *out, const Picsec__V1__ServiceList *list,
    enum cli_proc_view view, bool json, uint64_t now_ns)
{
	Picsec__V1__ServiceList none = PICSEC__V1__SERVICE_LIST__INIT;
	const Picsec__V1__ServiceInfo **v;
	struct jw j = { .out = out };
	char t[64];
	size_t i, n;

	if (list == NULL)
		list = &none;
	v = proc_sorted(out, list, false, NULL, &n);
	if (json) {
		jw_open(&j, NULL, '{');
		jw_open(&j, "picsec-process-information", '{');
		snprintf(t, sizeof(t), "%016" PRIx64, list->healthd_incarnation);
		jw_str(&j, "healthd-incarnation", t);
		jw_str(&j, "healthd-start-time", time_text(t, sizeof(t), list->healthd_started_ns));
		jw_bool(&j, "supervising", list->supervising);
		jw_open(&j, "process", '[');
		for (i = 0; i < n; i++)
			proc_json(&j, v[i], view, now_ns);
		jw_close(&j, ']');
		jw_close(&j, '}');
		jw_close(&j, '}');
	} else if (n == 0) {
		strbuf_adds(out, "No processes\n");
	} else if (view != CLI_PROC_DETAIL) {
		proc_lines_text(out, v, n, view == CLI_PROC_NORMAL, now_ns);
	} else {
		healthd_text(out, list, now_ns);
		for (i = 0; i < n; i++) {
			strbuf_addc(out, '\n');
			proc_detail_text(out, v[i], now_ns);
		}
	}
	free(v);
}

/*
 * show chassis pic-status
 */
static void
pics_text(struct strbuf *out, const Picsec__V1__ServiceInfo *const *v, size_t n,
    uint64_t now_ns)
{
	struct proc_cols c;
	size_t i, len, width = 0, upw = strlen("00:00:00");

	for (i = 0; i < n; i++) {
		if ((len = strlen(pic_name(v[i]))) > width)
			width = len;
		proc_cols(&c, v[i], now_ns);
		if ((len = strlen(c.uptime)) > upw)
			upw = len;
	}
	width += 2;
	upw += 2;
	for (i = 0; i < n; i++) {
		proc_cols(&c, v[i], now_ns);
		strbuf_addf(out, "PIC %-*s%-14spid %-9suptime %-*srestarts %" PRIu32 "\n",
		    (int)width, pic_name(v[i]), pic_state_word(v[i]), c.pid, (int)upw, c.uptime,
		    v[i]->restarts);
		if (v[i]->state == STATE(DOWN) && v[i]->last_cause != NULL &&
		    v[i]->last_cause[0] != '\0')
			strbuf_addf(out, "  Reason: %s\n", v[i]->last_cause);
	}
}

static void
pic_json(struct jw *j, const Picsec__V1__ServiceInfo *s, uint64_t now_ns)
{
	struct proc_cols c;

	proc_cols(&c, s, now_ns);
	jw_open(j, NULL, '{');
	jw_str(j, "pic-name", pic_name(s));
	jw_str(j, "pic-state", pic_state_word(s));
	jw_u64(j, "pid", s->pid);
	jw_str(j, "incarnation", c.incarnation);
	jw_str(j, "up-time", c.uptime);
	jw_u64(j, "up-time-seconds", c.up_seconds);
	jw_u64(j, "restarts", s->restarts);
	jw_str(j, "last-cause", s->last_cause != NULL ? s->last_cause : "");
	jw_close(j, '}');
}

size_t
cli_pic_format(struct strbuf *out, const Picsec__V1__ServiceList *list, const char *pic,
    bool json, uint64_t now_ns)
{
	const Picsec__V1__ServiceInfo **v;
	struct jw j = { .out = out };
	size_t i, n;

	v = proc_sorted(out, list, true, pic, &n);
	if (pic != NULL && n == 0)
		goto out;
	if (json) {
		jw_open(&j, NULL, '{');
		jw_open(&j, "pic-information", '{');
		jw_open(&j, "pic", '[');
		for (i = 0; i < n; i++)
			pic_json(&j, v[i], now_ns);
		jw_close(&j, ']');
		jw_close(&j, '}');
		jw_close(&j, '}');
	} else if (n == 0) {
		strbuf_adds(out, "No PICs\n");
	} else {
		pics_text(out, v, n, now_ns);
	}
out:
	free(v);
	return n;
}
