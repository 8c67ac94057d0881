/* Helpers for picsec's Criterion tests: temporary runtime directories, child processes that
 * die with the test, and running a libev loop until a condition holds or time runs out. */
#ifndef PICSEC_TESTUTIL_H
#define PICSEC_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ev_loop;

/* A fresh directory under /tmp; removed (with its files) by test_rmdir. */
void test_mkdtemp(char *out, size_t outlen);
void test_rmdir(const char *dir);

/* The path of a built program from the environment (PICSEC_BUSD, PICSEC_BUSMON...). */
const char *test_program(const char *env_name);

/* Starts argv[0] with argv; the child is killed if the test process dies. stdout_path, when
 * not NULL, receives its standard output. */
pid_t test_spawn(const char *const argv[], const char *stdout_path);
/* The same, running as uid (for checks that only root may pass). */
pid_t test_spawn_as(const char *const argv[], const char *stdout_path, uid_t uid);
/* Sends sig and reaps; returns the wait status. */
int test_kill(pid_t pid, int sig);
/* Waits up to timeout_ms for the child to exit; -1 on timeout, else its wait status. */
int test_wait(pid_t pid, unsigned timeout_ms);

/* Starts picsec-busd on rundir (extra arguments may follow, NULL-terminated) and waits for
 * its request socket to appear. */
pid_t test_busd_start(const char *rundir, ...);

/* Stops it with SIGTERM and asserts a clean exit (status 0): under the sanitizers that is
 * also where busd's own leaks and errors would show. */
void test_busd_stop(pid_t pid);
/* The last step of a test that started busd: stops it as above if it runs and clears *pid.
 * (Criterion does not report assertions made in .fini, so this cannot wait for teardown.) */
void test_busd_finish(pid_t *pid);

bool test_wait_path(const char *path, unsigned timeout_ms);

/* Runs the loop until cond(arg) is true or timeout_ms passes; returns cond's last value. */
typedef bool test_cond_fn(void *arg);
bool test_run_until(struct ev_loop *loop, test_cond_fn *cond, void *arg, unsigned timeout_ms);
/* Runs the loop for ms milliseconds. */
void test_run_for(struct ev_loop *loop, unsigned ms);

/* Reads a whole file into a NUL-terminated buffer (free it); NULL if it cannot. */
char *test_read_file(const char *path);

#endif
