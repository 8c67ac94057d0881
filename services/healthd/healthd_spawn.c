/* --supervise: healthd starts the suite in dependency order (busd, then configd and sadb,
 * the PICs, iked) and restarts what dies, after a back-off that doubles for a process that
 * dies young (FRR's watchfrr) and starts again at the minimum for one that lived. What runs
 * already (a healthd restarted) is adopted from its hello, not started twice. */
#include "healthd_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "endpoints.h"
#include "envelope.h"
#include "log.h"
#include "timer.h"

extern char **environ;

struct hspec_kind {
	const char *name;	/* bus name, or its prefix for PICs */
	const char *binary;
	const char *env;	/* overrides bindir/binary (the tests' build tree) */
	bool statedir;
	const char *deps[2];
};

static const struct hspec_kind hspec_kinds[] = {
	{ "busd", "picsec-busd", "PICSEC_BUSD", false, { NULL, NULL } },
	{ "configd", "picsec-configd", "PICSEC_CONFIGD", true, { "busd", NULL } },
	{ "sadb", "picsec-sadb", "PICSEC_SADB", true, { "busd", NULL } },
	{ "fwd", "picsec-fwd", "PICSEC_FWD", false, { "busd", "sadb" } },
	{ "iked", "picsec-iked", "PICSEC_IKED", false, { "busd", "sadb" } },
};

static int
hspec_arg(struct hspec *sp, size_t *used, const char *arg)
{
	size_t len = strlen(arg) + 1;

	if (sp->argc + 2 > sizeof(sp->argv) / sizeof(sp->argv[0]) ||
	    *used + len > sizeof(sp->argbuf))
		return -1;
	memcpy(sp->argbuf + *used, arg, len);
	sp->argv[sp->argc++] = sp->argbuf + *used;
	sp->argv[sp->argc] = NULL;
	*used += len;
	return 0;
}

/* The words of --args KIND=WORDS for this kind (split on blanks). */
static int
hspec_extra(struct healthd *hd, struct hspec *sp, size_t *used, const char *kind)
{
	char words[1024], *w, *save = NULL;
	size_t klen = strlen(kind), i;

	for (i = 0; i < hd->opts.nextra; i++) {
		if (strncmp(hd->opts.extra[i], kind, klen) != 0 || hd->opts.extra[i][klen] != '=')
			continue;
		snprintf(words, sizeof(words), "%s", hd->opts.extra[i] + klen + 1);
		for (w = strtok_r(words, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
			if (hspec_arg(sp, used, w) == -1)
				return -1;
		}
	}
	return 0;
}

static int
hspec_make(struct healthd *hd, struct hspec *sp, const struct hspec_kind *k, const char *pic,
    char *err, size_t errlen)
{
	const char *env = getenv(k->env);
	size_t used = 0;

	if (pic != NULL)
		snprintf(sp->name, sizeof(sp->name), "%s.%s", k->name, pic);
	else
		snprintf(sp->name, sizeof(sp->name), "%s", k->name);
	if (env != NULL && env[0] != '\0')
		snprintf(sp->path, sizeof(sp->path), "%s", env);
	else
		snprintf(sp->path, sizeof(sp->path), "%s/%s", hd->opts.bindir, k->binary);
	if (access(sp->path, X_OK) != 0) {
		snprintf(err, errlen, "%s: %s (set --bindir or %s)", sp->path, strerror(errno),
		    k->env);
		return -1;
	}
	sp->deps[0] = k->deps[0];
	sp->deps[1] = k->deps[1];
	if (hspec_arg(sp, &used, k->binary) == -1 ||
	    (hd->opts.rundir != NULL && (hspec_arg(sp, &used, "--rundir") == -1 ||
	    hspec_arg(sp, &used, hd->opts.rundir) == -1)) ||
	    (k->statedir && hd->opts.statedir != NULL &&
	    (hspec_arg(sp, &used, "--statedir") == -1 ||
	    hspec_arg(sp, &used, hd->opts.statedir) == -1)) ||
	    (pic != NULL && (hspec_arg(sp, &used, "--pic") == -1 ||
	    hspec_arg(sp, &used, pic) == -1)) ||
	    hspec_extra(hd, sp, &used, k->name) == -1) {
		snprintf(err, errlen, "%s: too many arguments", sp->name);
		return -1;
	}
	return 0;
}

int
healthd_specs_build(struct healthd *hd, char *err, size_t errlen)
{
	size_t n = sizeof(hspec_kinds) / sizeof(hspec_kinds[0]) - 1 + hd->opts.npics, i, k;
	struct hsvc *s;

	if ((hd->specs = calloc(n, sizeof(*hd->specs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (k = 0; k < sizeof(hspec_kinds) / sizeof(hspec_kinds[0]); k++) {
		if (strcmp(hspec_kinds[k].name, "fwd") != 0) {
			if (hspec_make(hd, &hd->specs[hd->nspecs++], &hspec_kinds[k], NULL, err,
			    errlen) == -1)
				return -1;
			continue;
		}
		for (i = 0; i < hd->opts.npics; i++) {
			if (hspec_make(hd, &hd->specs[hd->nspecs++], &hspec_kinds[k],
			    hd->opts.pics[i], err, errlen) == -1)
				return -1;
		}
	}
	for (i = 0; i < hd->nspecs; i++) {
		if ((s = hsvc_get(hd, hd->specs[i].name)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		s->spec = &hd->specs[i];
		s->backoff = hd->opts.restart_min;
		s->state = HS(DOWN);
	}
	return 0;
}

static const char *
hspec_signame(int sig)
{
	const char *n = sigabbrev_np(sig);

	return n != NULL ? n : "?";
}

static void
healthd_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct hsvc *s = w->data;
	char cause[96];
	int st = w->rstatus;

	(void)revents;
	ev_child_stop(loop, w);
	s->ours = false;
	if (WIFSIGNALED(st))
		snprintf(cause, sizeof(cause), "killed by signal %d (SIG%s)%s", WTERMSIG(st),
		    hspec_signame(WTERMSIG(st)), WCOREDUMP(st) ? ", core dumped" : "");
	else
		snprintf(cause, sizeof(cause), "exited with status %d", WEXITSTATUS(st));
	if (s->hd->stopping)
		return;
	hsvc_transition(s->hd, s, HSVC_EXITED, &(struct hsvc_input){ .cause = cause });
}

/* sadb and the PICs hold a table per SA, busd's buffers come and go with every message:
 * their heaps in transparent huge pages take far fewer page faults under a burst
 * (bench/scale: 100,000 SAs installed about a fifth faster), as their systemd units have
 * it. Not over what the operator set. NULL: environ as it is (or out of memory: the child
 * runs all the same); else an array to free. */
static char **
healthd_spawn_env(const struct hsvc *s)
{
	static char thp[] = "GLIBC_TUNABLES=glibc.malloc.hugetlb=1";
	char **env;
	size_t n = 0;

	if ((strcmp(s->name, "busd") != 0 && strcmp(s->name, "sadb") != 0 &&
	    strncmp(s->name, "fwd.", 4) != 0) ||
	    getenv("GLIBC_TUNABLES") != NULL)
		return NULL;
	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	memcpy(env, environ, n * sizeof(*env));
	env[n] = thp;
	return env;
}

static int
healthd_spawn(struct healthd *hd, struct hsvc *s)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char log[1024], **env;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (hd->opts.logdir != NULL) {
		/* fwd.ms-0/0/0 logs to picsec-fwd-ms-0-0-0.log */
		snprintf(log, sizeof(log), "%s/picsec-%s", hd->opts.logdir, s->name);
		for (char *p = log + strlen(hd->opts.logdir) + 1; *p != '\0'; p++) {
			if (*p == '/' || *p == '.')
				*p = '-';
		}
		strncat(log, ".log", sizeof(log) - strlen(log) - 1);
		posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND,
		    0640);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	/* libev blocks and catches signals in us; the child starts with none of that. */
	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSID);
	env = healthd_spawn_env(s);
	rc = posix_spawn(&pid, s->spec->path, &fa, &attr, s->spec->argv,
	    env != NULL ? env : environ);
	free(env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		log_warnx("%s: cannot start %s: %s", s->name, s->spec->path, strerror(rc));
		return -1;
	}
	hsvc_unwatch(s);
	s->ours = true;
	s->child_w.data = s;
	ev_child_init(&s->child_w, healthd_child_cb, pid, 0);
	ev_child_start(hd->loop, &s->child_w);
	log_info("%s: started %s (pid %d)", s->name, s->spec->path, (int)pid);
	hsvc_transition(hd, s, HSVC_SPAWNED, &(struct hsvc_input){ .pid = pid });
	return 0;
}

static bool
healthd_deps_up(struct healthd *hd, const struct hspec *sp)
{
	struct hsvc *d;
	size_t i;

	for (i = 0; i < 2 && sp->deps[i] != NULL; i++) {
		if ((d = hsvc_find(hd, sp->deps[i])) == NULL || d->state != HS(UP))
			return false;
	}
	return true;
}

static void
healthd_start_timer(void *ctx, uint64_t id)
{
	struct healthd *hd = ctx;
	struct hsvc *s = hsvc_by_id(hd, id);

	if (s != NULL) {
		s->next_start_ms = 0;
		healthd_kick(hd);
	}
}

void
healthd_kick(struct healthd *hd)
{
	struct hsvc *s;

	if (!hd->opts.supervise || hd->stopping)
		return;
	for (s = hd->svcs; s != NULL; s = s->next) {
		if (s->spec == NULL || s->state != HS(DOWN) ||
		    timers_pending(hd->timers, s->start_timer))
			continue;
		/* Right after our start, what runs already has a moment to say hello. */
		if (hd->adopting && s->spec->deps[0] != NULL)
			continue;
		/* busd first, always: the others reach us only through it. */
		if (!healthd_deps_up(hd, s->spec))
			continue;
		if (healthd_spawn(hd, s) == -1)
			healthd_schedule(hd, s);
	}
}

void
healthd_schedule(struct healthd *hd, struct hsvc *s)
{
	double delay;

	if (hd->stopping || s->spec == NULL)
		return;
	/* A process that lived comes back at once; one dying young backs off. */
	if (s->up_ms != 0 && (double)(monotonic_ms() - s->up_ms) / 1000.0 >= hd->opts.stable_after)
		s->backoff = hd->opts.restart_min;
	delay = s->backoff;
	s->backoff = s->backoff * 2 > hd->opts.restart_max ? hd->opts.restart_max : s->backoff * 2;
	s->up_ms = 0;
	s->next_start_ms = monotonic_ms() + (uint64_t)(delay * 1000.0);
	timers_rearm(hd->timers, &s->start_timer, delay, healthd_start_timer, s->id);
	log_info("%s: restart in %.1f s", s->name, delay);
}

/* The pid in busd's locked pid file, if that process is a picsec-busd. */
static pid_t
healthd_busd_pid(struct healthd *hd)
{
	char path[600], buf[32], comm[64];
	ssize_t n;
	FILE *f;
	int fd;
	long pid;

	snprintf(path, sizeof(path), "%s/busd.pid", bus_rundir(hd->opts.rundir));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((pid = strtol(buf, NULL, 10)) <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "picsec-busd") == 0 ? (pid_t)pid : 0;
}

void
healthd_adopt_busd(struct healthd *hd)
{
	struct hsvc *s = hsvc_get(hd, "busd");
	pid_t pid = healthd_busd_pid(hd);

	if (s == NULL || pid == 0 || s->pid == pid)
		return;
	if (hsvc_watch_pid(s, pid, 0)) {
		log_info("busd: pid %d is running: watched", (int)pid);
		if (s->state == HS(DOWN))
			hsvc_transition(hd, s, HSVC_SPAWNED, &(struct hsvc_input){ .pid = pid });
	}
}

static void
healthd_kill_timer(void *ctx, uint64_t id)
{
	struct healthd *hd = ctx;
	struct hsvc *s = hsvc_by_id(hd, id);

	if (s != NULL && s->pid > 0 && s->state == HS(UNRESPONSIVE))
		kill(s->pid, SIGKILL);
}

void
healthd_hang_kill(struct healthd *hd, struct hsvc *s)
{
	if (timers_pending(hd->timers, s->kill_timer) || s->pid <= 0)
		return;
	log_warnx("%s: unresponsive for %.0f s: stopping pid %d", s->name, hd->opts.hang_timeout,
	    (int)s->pid);
	/* SIGABRT first (a core to read, as watchfrr -c), SIGKILL if that did not end it. */
	kill(s->pid, SIGABRT);
	s->kill_timer = timers_add(hd->timers, 3.0, healthd_kill_timer, s->id);
}

void
healthd_stop_suite(struct healthd *hd)
{
	struct hsvc *s;
	pid_t pids[64];
	size_t n = 0, i;
	int tries, st;

	hd->stopping = true;
	if (!hd->opts.supervise)
		return;
	/* iked before the PICs before sadb ... : the reverse of the start order. */
	for (i = hd->nspecs; i-- > 0;) {
		if ((s = hsvc_find(hd, hd->specs[i].name)) == NULL || s->pid <= 0 ||
		    s->state == HS(DOWN))
			continue;
		if (kill(s->pid, SIGTERM) == 0 && n < sizeof(pids) / sizeof(pids[0]))
			pids[n++] = s->pid;
	}
	for (tries = 0; tries < 30 && n > 0; tries++) {
		for (i = 0; i < n;) {
			/* Ours are reaped here; adopted ones just vanish. */
			if (waitpid(pids[i], &st, WNOHANG) == pids[i] ||
			    (kill(pids[i], 0) == -1 && errno == ESRCH))
				pids[i] = pids[--n];
			else
				i++;
		}
		if (n > 0)
			usleep(100000);
	}
	for (i = 0; i < n; i++) {
		log_warnx("pid %d did not stop in 3 s: killed", (int)pids[i]);
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &st, 0);
	}
}
