#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
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

#include "endpoints.h"

void
test_mkdtemp(char *out, size_t outlen)
{
	cr_assert(outlen >= 32);
	snprintf(out, outlen, "/tmp/picsec-test-XXXXXX");
	cr_assert_not_null(mkdtemp(out), "mkdtemp: %s", strerror(errno));
}

void
test_rmdir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

const char *
test_program(const char *env_name)
{
	const char *path = getenv(env_name);

	cr_assert_not_null(path, "%s is not set: run the tests with meson test", env_name);
	return path;
}

pid_t
test_spawn(const char *const argv[], const char *stdout_path)
{
	return test_spawn_as(argv, stdout_path, (uid_t)-1);
}

pid_t
test_spawn_as(const char *const argv[], const char *stdout_path, uid_t uid)
{
	pid_t parent = getpid(), pid;
	int fd, prog;

	/* Opened here, executed by descriptor: another uid may run the program even where it
	 * could not walk the path to it (a build tree in a private temporary directory). */
	prog = open(argv[0], O_RDONLY | O_CLOEXEC);
	cr_assert_neq(prog, -1, "%s: %s", argv[0], strerror(errno));
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* The child must not outlive a crashed or timed-out test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (stdout_path != NULL) {
			fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd == -1 || dup2(fd, STDOUT_FILENO) == -1)
				_exit(127);
			close(fd);
		}
		if (uid != (uid_t)-1 && (setgid((gid_t)uid) == -1 || setuid(uid) == -1))
			_exit(126);
		/* fexecve's prototype predates const; it does not change the strings. */
		fexecve(prog, (char *const *)(uintptr_t)argv, environ);
		_exit(127);
	}
	close(prog);
	return pid;
}

int
test_wait(pid_t pid, unsigned timeout_ms)
{
	struct timespec step = { 0, 5 * 1000 * 1000 };
	unsigned waited;
	int status;

	for (waited = 0; waited <= timeout_ms; waited += 5) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		nanosleep(&step, NULL);
	}
	return -1;
}

int
test_kill(pid_t pid, int sig)
{
	int status = 0;

	if (pid <= 0)
		return -1;
	kill(pid, sig);
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return status;
}

bool
test_wait_path(const char *path, unsigned timeout_ms)
{
	struct timespec step = { 0, 5 * 1000 * 1000 };
	struct stat st;
	unsigned waited;

	for (waited = 0; waited <= timeout_ms; waited += 5) {
		if (stat(path, &st) == 0)
			return true;
		nanosleep(&step, NULL);
	}
	return false;
}

pid_t
test_busd_start(const char *rundir, ...)
{
	const char *argv[32];
	char sock[4096];
	size_t n = 0;
	va_list ap;
	const char *arg;
	pid_t pid;

	argv[n++] = test_program("PICSEC_BUSD");
	argv[n++] = "--rundir";
	argv[n++] = rundir;
	va_start(ap, rundir);
	while ((arg = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;
	snprintf(sock, sizeof(sock), "%s/%s", rundir, BUS_SOCK_REQUESTS);
	unlink(sock);
	pid = test_spawn(argv, NULL);
	cr_assert(test_wait_path(sock, 5000), "picsec-busd did not create %s", sock);
	return pid;
}

void
test_busd_stop(pid_t pid)
{
	int status = test_kill(pid, SIGTERM);

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "picsec-busd did not exit cleanly on SIGTERM (status 0x%x)", status);
}

void
test_busd_finish(pid_t *pid)
{
	if (*pid > 0)
		test_busd_stop(*pid);
	*pid = 0;
}

struct test_until {
	test_cond_fn *cond;
	void *arg;
	bool expired;
};

static void
test_until_check(struct ev_loop *loop, ev_check *w, int revents)
{
	struct test_until *u = w->data;

	(void)revents;
	if (u->cond != NULL && u->cond(u->arg))
		ev_break(loop, EVBREAK_ONE);
}

static void
test_until_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct test_until *u = w->data;

	(void)revents;
	u->expired = true;
	ev_break(loop, EVBREAK_ONE);
}

bool
test_run_until(struct ev_loop *loop, test_cond_fn *cond, void *arg, unsigned timeout_ms)
{
	struct test_until u = { .cond = cond, .arg = arg };
	ev_check check;
	ev_timer deadline;

	if (cond != NULL && cond(arg))
		return true;
	ev_check_init(&check, test_until_check);
	check.data = &u;
	ev_timer_init(&deadline, test_until_timeout, timeout_ms / 1000.0, 0.);
	deadline.data = &u;
	ev_check_start(loop, &check);
	ev_timer_start(loop, &deadline);
	while (!u.expired && !(cond != NULL && cond(arg)))
		ev_run(loop, EVRUN_ONCE);
	ev_check_stop(loop, &check);
	ev_timer_stop(loop, &deadline);
	return cond != NULL && cond(arg);
}

void
test_run_for(struct ev_loop *loop, unsigned ms)
{
	test_run_until(loop, NULL, NULL, ms);
}

char *
test_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	if (buf != NULL && len > 0 && fread(buf, (size_t)len, 1, f) != 1) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}
