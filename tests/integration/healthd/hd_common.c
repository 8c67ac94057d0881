#include "hd_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "catalog.h"
#include "endpoints.h"
#include "testutil.h"

struct hd_env hd;
static int guard_fd = -1;

uint64_t
hd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
hd_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Whether /proc/PID/cmdline has an argument containing needle. */
static bool
cmdline_mentions(const char *pid, const char *needle)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
		if (strstr(p, needle) != NULL)
			return true;
	}
	return false;
}

static size_t
pids_mentioning(const char *needle, pid_t *out, size_t max)
{
	pid_t self = getpid();
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	long pid;
	char *end;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || (pid_t)pid == self || (pid_t)pid == hd.guardian)
			continue;
		if (cmdline_mentions(de->d_name, needle))
			out[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

bool
hd_alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL || p[1] == '\0')
		return false;
	return p[2] != 'Z' && p[2] != 'X';
}

size_t
hd_pids_under(pid_t *out, size_t max)
{
	pid_t all[256];
	size_t n = pids_mentioning(hd.dir, all, 256), k = 0;

	/* Zombies are gone already (their parent just has not reaped them yet). */
	for (size_t i = 0; i < n && k < max; i++) {
		if (hd_alive(all[i]))
			out[k++] = all[i];
	}
	return k;
}

pid_t
hd_pid_of(const char *comm)
{
	pid_t pids[256], found = 0;
	size_t n = hd_pids_under(pids, 256);
	char path[64], buf[64];
	FILE *f;

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pids[i]);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, comm) != 0)
			continue;
		cr_assert_eq(found, 0, "two %s under %s: %d and %d", comm, hd.dir, (int)found,
		    (int)pids[i]);
		found = pids[i];
	}
	return found;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Runs after the test process is gone (or at its teardown): whatever still runs under the
 * directory is killed by pid, the namespace deleted, the directory removed. */
static void __attribute__((noreturn))
guardian_main(int rfd)
{
	pid_t pids[256];
	size_t n;
	char c;
	int fd;

	setsid();
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	/* Nothing of the test's (Criterion's pipes, meson's) stays open here. */
	for (fd = 3; fd < 1024; fd++) {
		if (fd != rfd)
			close(fd);
	}
	while (read(rfd, &c, 1) == -1 && errno == EINTR)
		;
	for (int tries = 0; tries < 50; tries++) {
		if ((n = pids_mentioning(hd.dir, pids, 256)) == 0)
			break;
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		usleep(50000);
	}
	if (hd.netns[0] != '\0') {
		pid_t p = fork();

		if (p == 0) {
			execl(HD_IP, "ip", "netns", "del", hd.netns, (char *)NULL);
			_exit(127);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
	}
	nftw(hd.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	_exit(0);
}

void
hd_setup(const char *netns)
{
	int p[2];

	memset(&hd, 0, sizeof(hd));
	test_mkdtemp(hd.dir, sizeof(hd.dir));
	snprintf(hd.rundir, sizeof(hd.rundir), "%s/run", hd.dir);
	snprintf(hd.statedir, sizeof(hd.statedir), "%s/state", hd.dir);
	snprintf(hd.logdir, sizeof(hd.logdir), "%s/log", hd.dir);
	cr_assert_eq(mkdir(hd.rundir, 0700), 0);
	cr_assert_eq(mkdir(hd.statedir, 0700), 0);
	cr_assert_eq(mkdir(hd.logdir, 0700), 0);
	if (netns != NULL)
		snprintf(hd.netns, sizeof(hd.netns), "%s", netns);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	hd.guardian = fork();
	cr_assert_neq(hd.guardian, -1);
	if (hd.guardian == 0) {
		close(p[1]);
		guardian_main(p[0]);
	}
	close(p[0]);
	guard_fd = p[1];
	hd.loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(hd.loop);
}

void
hd_note(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	memcpy(line, "# ", 2);
	va_start(ap, fmt);
	n = vsnprintf(line + 2, sizeof(line) - 3, fmt, ap);
	va_end(ap);
	n = n < 0 ? 0 : n > (int)sizeof(line) - 4 ? (int)sizeof(line) - 4 : n;
	line[2 + n] = '\n';
	fflush(stderr);
	if (write(STDERR_FILENO, line, (size_t)n + 3) < 0)
		return;
}

void
hd_print_log(const char *log, size_t lines)
{
	char path[256], *text, *start;
	size_t len, seen = 0;

	snprintf(path, sizeof(path), "%s/%s", hd.dir, log);
	if ((text = test_read_file(path)) == NULL)
		return;
	len = strlen(text);
	start = text + len;
	while (start > text && seen <= lines) {
		start--;
		if (*start == '\n' && start + 1 < text + len)
			seen++;
	}
	if (seen > lines)
		start++;
	fprintf(stderr, "---- %s (last %zu lines) ----\n%s", log, lines, start);
	fflush(stderr);
	free(text);
}

void
hd_teardown(void)
{
	pid_t pids[256];
	size_t n;
	DIR *d;
	struct dirent *de;
	char name[300];

	if (hd.bus != NULL)
		bus_free(hd.bus);
	hd.bus = NULL;
	if (hd.loop != NULL)
		ev_loop_destroy(hd.loop);
	hd.loop = NULL;
	for (int tries = 0; tries < 50; tries++) {
		if ((n = hd_pids_under(pids, 256)) == 0)
			break;
		if (tries == 0) {
			for (size_t i = 0; i < n; i++)
				fprintf(stderr, "teardown: pid %d still runs: killed\n", (int)pids[i]);
		}
		for (size_t i = 0; i < n; i++) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, WNOHANG);
		}
		usleep(50000);
	}
	hd_print_log("healthd.log", 60);
	hd_print_log("healthd2.log", 60);
	if ((d = opendir(hd.logdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(name, sizeof(name), "log/%s", de->d_name);
			hd_print_log(name, 10);
		}
		closedir(d);
	}
	if (guard_fd >= 0) {
		close(guard_fd);
		guard_fd = -1;
		/* The guardian deletes the namespace and the directory. */
		if (test_wait(hd.guardian, 10000) == -1)
			fprintf(stderr, "teardown: the guardian did not finish in 10 s\n");
	}
}

static void
on_state(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ServiceState *st = (const Picsec__V1__ServiceState *)payload;
	struct hd_svc_ev *e;

	(void)m;
	(void)ctx;
	if (bus_msg_is_request(m) || hd.nsvc == HD_MAX_EVENTS)
		return;
	e = &hd.svc[hd.nsvc++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", st->name);
	e->state = st->state;
	e->previous = st->previous;
	e->incarnation = st->incarnation;
	e->pid = st->pid;
	e->restarts = st->restarts;
	snprintf(e->cause, sizeof(e->cause), "%s", st->cause);
	snprintf(e->hostname, sizeof(e->hostname), "%s", st->hostname);
	e->since_ns = st->since_ns;
	e->recv_ms = hd_now_ms();
	if (getenv("HD_TRACE") != NULL)
		fprintf(stderr, "%llu service %s %d <- %d pid %u inc %016llx restarts %u %s\n",
		    (unsigned long long)e->recv_ms, e->name, e->state, e->previous, e->pid,
		    (unsigned long long)e->incarnation, e->restarts, e->cause);
}

static void
on_iface(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__IfaceEvent *ev = (const Picsec__V1__IfaceEvent *)payload;
	struct hd_iface_ev *e;

	(void)ctx;
	if (bus_msg_is_request(m) || hd.nifc == HD_MAX_EVENTS)
		return;
	e = &hd.ifc[hd.nifc++];
	memset(e, 0, sizeof(*e));
	snprintf(e->topic, sizeof(e->topic), "%s", bus_msg_topic(m));
	snprintf(e->device, sizeof(e->device), "%s", ev->device);
	e->change = ev->change;
	e->usable = ev->usable;
	if (ev->address != NULL && ev->address->addr.len <= sizeof(e->addr)) {
		memcpy(e->addr, ev->address->addr.data, ev->address->addr.len);
		e->alen = ev->address->addr.len;
	}
	e->recv_ms = hd_now_ms();
}

static void
on_hello(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	(void)payload;
	(void)ctx;
	if (!bus_msg_is_request(m) && strcmp(bus_msg_topic(m), "hello.busd") == 0)
		hd.busd_hellos++;
}

static const struct bus_handler handlers[] = {
	[MT(SERVICE_HELLO)] = { on_hello },
	[MT(SERVICE_STATE)] = { on_state },
	[MT(IFACE_EVENT)] = { on_iface },
};

static bool
hello_seen(void *arg)
{
	return hd.busd_hellos > *(unsigned *)arg;
}

void
hd_connect(unsigned timeout_ms)
{
	struct bus_options opts = { .service = "hdtest", .anonymous = true };
	unsigned before = hd.busd_hellos;
	char err[256];

	opts.rundir = hd.rundir;
	hd.bus = bus_new(hd.loop, &opts, err, sizeof(err));
	cr_assert_not_null(hd.bus, "%s", err);
	bus_set_handlers(hd.bus, handlers, sizeof(handlers) / sizeof(handlers[0]), NULL);
	/* busd answers the last subscription with its hello: the others are in place then. */
	cr_assert_eq(bus_subscribe(hd.bus, "service."), 0);
	cr_assert_eq(bus_subscribe(hd.bus, "iface."), 0);
	cr_assert_eq(bus_subscribe(hd.bus, "hello.busd"), 0);
	cr_assert(test_run_until(hd.loop, hello_seen, &before, timeout_ms),
	    "busd's hello never came: not subscribed after %u ms", timeout_ms);
}

void
hd_run_for(unsigned ms)
{
	test_run_for(hd.loop, ms);
}

pid_t
hd_spawn(const char *log, const char *const argv[])
{
	const char *full[48];
	pid_t parent = getpid(), pid;
	char path[256];
	size_t n = 0;
	int fd;

	if (hd.netns[0] != '\0') {
		full[n++] = HD_IP;
		full[n++] = "netns";
		full[n++] = "exec";
		full[n++] = hd.netns;
	}
	for (size_t i = 0; argv[i] != NULL && n < 47; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	snprintf(path, sizeof(path), "%s/%s", hd.dir, log);
	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) == -1 ||
		    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(127);
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1)
			dup2(fd, 0);
		execv(full[0], (char *const *)(uintptr_t)full);
		_exit(127);
	}
	return pid;
}

pid_t
hd_busd(void)
{
	const char *argv[] = { test_program("PICSEC_BUSD"), "--rundir", hd.rundir, NULL };
	char sock[256];
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/%s", hd.rundir, BUS_SOCK_REQUESTS);
	unlink(sock);
	pid = hd_spawn("busd.log", argv);
	cr_assert(test_wait_path(sock, 5000), "picsec-busd did not create %s", sock);
	return pid;
}

pid_t
hd_healthd(const char *log, ...)
{
	const char *argv[40];
	const char *arg;
	size_t n = 0;
	va_list ap;

	argv[n++] = test_program("PICSEC_HEALTHD");
	argv[n++] = "--rundir";
	argv[n++] = hd.rundir;
	va_start(ap, log);
	while ((arg = va_arg(ap, const char *)) != NULL && n < 39)
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;
	return hd_spawn(log, argv);
}

pid_t
hd_sadb(void)
{
	const char *argv[] = { test_program("PICSEC_SADB"), "--rundir", hd.rundir, "--statedir",
		hd.statedir, NULL };

	return hd_spawn("sadb.log", argv);
}

int
hd_stop(pid_t *pid, int sig, unsigned timeout_ms)
{
	int status;

	if (*pid <= 0)
		return -1;
	kill(*pid, sig);
	if ((status = test_wait(*pid, timeout_ms)) == -1) {
		kill(*pid, SIGKILL);
		waitpid(*pid, &status, 0);
		status = -1;
	}
	*pid = 0;
	return status;
}

void
hd_stop_clean(pid_t *pid, const char *what)
{
	int status = hd_stop(pid, SIGTERM, 8000);

	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s did not exit cleanly on SIGTERM (status 0x%x)", what, status);
}

struct svc_wait {
	const char *name;
	int state;
	size_t from;
	int found;
};

static bool
svc_found(void *arg)
{
	struct svc_wait *w = arg;

	for (size_t i = w->from; i < hd.nsvc; i++) {
		if (strcmp(hd.svc[i].name, w->name) == 0 &&
		    (w->state < 0 || hd.svc[i].state == w->state)) {
			w->found = (int)i;
			return true;
		}
	}
	return false;
}

int
hd_wait_svc(const char *name, int state, size_t from, unsigned timeout_ms)
{
	struct svc_wait w = { name, state, from, -1 };

	test_run_until(hd.loop, svc_found, &w, timeout_ms);
	return w.found;
}

size_t
hd_count_svc(const char *name, int state, size_t from)
{
	size_t n = 0;

	for (size_t i = from; i < hd.nsvc; i++) {
		if ((name == NULL || strcmp(hd.svc[i].name, name) == 0) &&
		    (state < 0 || hd.svc[i].state == state))
			n++;
	}
	return n;
}

struct iface_wait {
	const uint8_t *addr;
	int change;
	size_t from;
	int found;
};

static bool
iface_found(void *arg)
{
	struct iface_wait *w = arg;

	for (size_t i = w->from; i < hd.nifc; i++) {
		if (hd.ifc[i].alen == 4 && memcmp(hd.ifc[i].addr, w->addr, 4) == 0 &&
		    hd.ifc[i].change == w->change) {
			w->found = (int)i;
			return true;
		}
	}
	return false;
}

int
hd_wait_iface(const uint8_t *addr, int change, size_t from, unsigned timeout_ms)
{
	struct iface_wait w = { addr, change, from, -1 };

	test_run_until(hd.loop, iface_found, &w, timeout_ms);
	return w.found;
}

struct bus_call_result *
hd_list(const Picsec__V1__ServiceList **out)
{
	Picsec__V1__ServiceGetList q = PICSEC__V1__SERVICE_GET_LIST__INIT;
	struct bus_call_result *r = NULL;
	const struct bus_result *res;

	for (int i = 0; i < 3; i++) {
		bus_call_result_free(r);
		if (bus_call(hd.bus, "healthd", MT(SERVICE_GET_LIST), &q.base, 3000, &r) == 0)
			break;
	}
	res = bus_call_get(r);
	cr_assert_eq(res->type, MT(SERVICE_LIST), "ServiceGetList: %s",
	    res->error_text != NULL ? res->error_text : "?");
	*out = (const Picsec__V1__ServiceList *)res->msg;
	return r;
}

const Picsec__V1__ServiceInfo *
hd_info(const Picsec__V1__ServiceList *l, const char *name)
{
	for (size_t i = 0; i < l->n_services; i++) {
		if (strcmp(l->services[i]->name, name) == 0)
			return l->services[i];
	}
	return NULL;
}

int
hd_cmd(bool may_fail, const char *const argv[])
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd != -1)
			dup2(fd, 0);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	if ((status = test_wait(pid, 10000)) == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	cr_assert_neq(status, -1, "%s %s did not finish", argv[0], argv[1]);
	if (!may_fail)
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s %s %s: status 0x%x",
		    argv[0], argv[1], argv[2] != NULL ? argv[2] : "",
		    argv[2] != NULL && argv[3] != NULL ? argv[3] : "", status);
	return status;
}
