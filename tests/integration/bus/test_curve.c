/* The bus over TCP with CURVE: only keys on busd's allow-list get in. The test runs in a
 * network namespace of its own, on 192.0.2.1 (TEST-NET-1) on its loopback device. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <zmq.h>

#include "bus.h"
#include "bus.pb-c.h"
#include "catalog.h"
#include "curve.h"
#include "testutil.h"

#define LISTEN "tcp://192.0.2.1:7400"

static char dir[64];
static pid_t busd;
static struct ev_loop *loop;

static void
run_ip(const char *a, const char *b, const char *c, const char *d, const char *e,
    const char *f)
{
	const char *argv[] = { "/sbin/ip", a, b, c, d,
		e, f, NULL };
	int status;

	status = test_wait(test_spawn(argv, NULL), 5000);
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "ip %s %s %s %s failed", a, b, c, d);
}

static void
key(const char *name, char *path, size_t len, const char *ext)
{
	snprintf(path, len, "%s/%s.%s", dir, name, ext);
}

static void
setup(void)
{
	char err[256], prefix[128], pub[CURVE_Z85_LEN + 1], path[160];
	const char *names[] = { "server", "pic", "stranger" };
	size_t i;
	FILE *f;

	/* Criterion runs each test in its own process: this namespace is the test's alone. */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s (the tests run as root)",
	    strerror(errno));
	run_ip("link", "set", "lo", "up", NULL, NULL);
	run_ip("addr", "add", "192.0.2.1/32", "dev", "lo", NULL);
	test_mkdtemp(dir, sizeof(dir));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(prefix, sizeof(prefix), "%s/%s", dir, names[i]);
		cr_assert_eq(curve_generate(prefix, err, sizeof(err)), 0, "%s", err);
	}
	key("pic", path, sizeof(path), "pub");
	cr_assert_eq(curve_load_public(path, pub, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/allow", dir);
	f = fopen(path, "w");
	fprintf(f, "# the one remote PIC\n%s\n", pub);
	fclose(f);
	loop = ev_loop_new(EVFLAG_AUTO);
}

static void
teardown(void)
{
	if (busd > 0)
		test_kill(busd, SIGKILL);
	ev_loop_destroy(loop);
	test_rmdir(dir);
}

static struct bus *
tcp_client(const char *service, const char *instance, const char *who)
{
	char server[160], mine[160], err[256];
	struct bus_options opts = {
		.service = service,
		.instance = instance,
		.anonymous = instance == NULL,
		.endpoint = LISTEN,
		.server_key_file = server,
		.client_key_file = mine,
	};
	struct bus *b;

	key("server", server, sizeof(server), "pub");
	key(who, mine, sizeof(mine), "key");
	b = bus_new(loop, &opts, err, sizeof(err));
	cr_assert_not_null(b, "%s", err);
	return b;
}

static int
ping(struct bus *b, const char *dest, unsigned timeout_ms, char *why, size_t len)
{
	Picsec__V1__Ping p = PICSEC__V1__PING__INIT;
	struct bus_call_result *r;
	int rc;

	rc = bus_call(b, dest, MT(PING), &p.base, timeout_ms, &r);
	snprintf(why, len, "%s", bus_call_get(r)->error_text);
	rc = rc == 0 ? 0 : bus_call_get(r)->error_code;
	bus_call_result_free(r);
	return rc;
}

Test(curve, only_allowed_keys_reach_the_bus, .init = setup, .fini = teardown)
{
	char secret[160], allow[160], why[512], rundir[128];
	struct bus_options local_opts = { .service = "cli", .anonymous = true };
	Picsec__V1__BusGetStats get = PICSEC__V1__BUS_GET_STATS__INIT;
	struct bus *pic, *stranger, *local;
	struct bus_call_result *r;
	void *zctx, *plain;
	char reply[64];
	int timeout = 500;

	key("server", secret, sizeof(secret), "key");
	snprintf(allow, sizeof(allow), "%s/allow", dir);
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	busd = test_busd_start(rundir, "--listen", LISTEN, "--curve-secret", secret,
	    "--curve-allow", allow, NULL);

	/* A remote PIC with an allowed key registers over TCP... */
	pic = tcp_client("fwd", "ms-0/0/0", "pic");
	cr_assert_eq(bus_wait_ready(pic, 5000), 0, "the allowed PIC never registered");
	cr_assert_eq(ping(pic, "busd", 3000, why, sizeof(why)), 0, "%s", why);
	/* ...and local services reach it by name through the ipc:// side. */
	local_opts.rundir = rundir;
	local = bus_new(loop, &local_opts, why, sizeof(why));
	cr_assert_not_null(local, "%s", why);
	cr_assert_eq(ping(local, "fwd.ms-0/0/0", 3000, why, sizeof(why)), 0, "%s", why);

	/* A valid key that is not on the list is refused, and told why. */
	stranger = tcp_client("cli", NULL, "stranger");
	cr_assert_eq(ping(stranger, "busd", 1000, why, sizeof(why)), ERRC(DEADLINE_EXCEEDED));
	cr_assert(strstr(why, "refused our key") != NULL, "%s", why);

	/* A client without CURVE gets nothing at all. */
	zctx = zmq_ctx_new();
	plain = zmq_socket(zctx, ZMQ_DEALER);
	zmq_setsockopt(plain, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_connect(plain, "tcp://192.0.2.1:7402");
	zmq_send(plain, "busd", 4, ZMQ_SNDMORE);
	zmq_send(plain, "junk", 4, 0);
	cr_assert_eq(zmq_recv(plain, reply, sizeof(reply), 0), -1);
	cr_assert_eq(zmq_errno(), EAGAIN);
	timeout = 0;
	zmq_setsockopt(plain, ZMQ_LINGER, &timeout, sizeof(timeout));
	zmq_close(plain);
	zmq_ctx_term(zctx);

	cr_assert_eq(bus_call(local, "busd", MT(BUS_GET_STATS), &get.base, 3000, &r), 0);
	cr_assert_geq(((const Picsec__V1__BusStats *)bus_call_get(r)->msg)->auth_refused, 1);
	bus_call_result_free(r);
	bus_free(stranger);
	bus_free(local);
	bus_free(pic);
	test_busd_finish(&busd);
}

Test(curve, tcp_without_keys_is_refused_at_start, .init = setup, .fini = teardown)
{
	char rundir[128];
	const char *argv[] = { test_program("PICSEC_BUSD"), "--rundir",
		rundir, "--listen", LISTEN, NULL };
	int status;

	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	status = test_wait(test_spawn(argv, NULL), 5000);
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "busd must not listen on TCP without CURVE");
	test_busd_finish(&busd);
}
