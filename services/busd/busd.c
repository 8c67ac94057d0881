/* picsec-busd: binding the sockets, event fan-out, the tap, and busd's own events. */
#include "busd_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>
#include <sodium.h>

#include "catalog.h"
#include "curve.h"
#include "endpoints.h"
#include "log.h"
#include "picsec_build.h"
#include "secbuf.h"
#include "timer.h"
#include "zwatch.h"

enum {
	BUSD_EVENT_HWM = 100000,
	BUSD_REQUEST_HWM = 10000,
	BUSD_DEFAULT_HEARTBEAT_MS = 1000,
	BUSD_ZMTP_HEARTBEAT_MS = 1000,
	BUSD_ZMTP_TIMEOUT_MS = 3000,
};

static const char *const busd_sock_names[] = {
	BUS_SOCK_EVENTS_IN, BUS_SOCK_EVENTS_OUT, BUS_SOCK_REQUESTS, BUS_SOCK_TAP,
};

void
busd_tap(struct busd *bd, const char *kind, const char *route, size_t route_len, zmq_msg_t *env)
{
	zmq_msg_t copy;

	/* A copy shares the frame's buffer (refcounted): the tap costs no payload copy. */
	zmq_msg_init(&copy);
	if (zmq_msg_copy(&copy, env) == -1) {
		zmq_msg_close(&copy);
		return;
	}
	if (zmq_send(bd->tap, kind, strlen(kind), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    zmq_send(bd->tap, route, route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    zmq_msg_send(&copy, bd->tap, ZMQ_DONTWAIT) == -1)
		zmq_msg_close(&copy);
}

static void
busd_zmsg_wipe_free(void *data, void *hint)
{
	(void)hint;
	wiping_free(data);
}

void
busd_publish(struct busd *bd, const char *topic, const struct env_source *src, int type,
    const ProtobufCMessage *msg)
{
	struct env_header hdr = { .type = type };
	zmq_msg_t env;
	size_t len, topic_len = strlen(topic);
	void *buf;
	int rc;

	hdr.seq = src == NULL ? ++bd->seq : 0;
	buf = envelope_pack(src != NULL ? src : &bd->src, &hdr, msg, &len);
	if (buf == NULL)
		return;
	if (zmq_msg_init_data(&env, buf, len, busd_zmsg_wipe_free, NULL) == -1) {
		wiping_free(buf);
		return;
	}
	busd_tap(bd, "event", topic, topic_len, &env);
	rc = zmq_send(bd->xpub, topic, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    zmq_msg_send(&env, bd->xpub, ZMQ_DONTWAIT) == -1 ? -1 : 0;
	zwatch_touched(bd->xpub_watch);
	if (rc == -1) {
		zmq_msg_close(&env);
		return;
	}
	bd->counters.sent++;
}

/* Events: [topic][envelope] from any publisher, out to every subscriber and to the tap. */
static bool
busd_xsub_readable(void *sock, void *arg)
{
	struct busd *bd = arg;
	zmq_msg_t f[2];
	size_t n;

	n = zsock_recv_frames(sock, f, 2);
	if (n == 0)
		goto out;
	if (n != 2) {
		bd->counters.malformed++;
		goto out;
	}
	busd_tap(bd, "event", zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), &f[1]);
	busd_heard(bd, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
	if (zmq_msg_send(&f[0], bd->xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1 &&
	    zmq_msg_send(&f[1], bd->xpub, ZMQ_DONTWAIT) != -1)
		bd->counters.events_forwarded++;
	zwatch_touched(bd->xpub_watch);
out:
	zsock_close_frames(f, 2);
	return n != 0;
}

/* Subscriptions arriving at XPUB: a new subscriber to "hello." gets every registered
 * service's hello again, so a restarted watcher learns who is there at once. */
static bool
busd_xpub_readable(void *sock, void *arg)
{
	struct busd *bd = arg;
	unsigned char buf[BUSD_NAME_MAX + 16];
	int n;

	n = zmq_recv(sock, buf, sizeof(buf), ZMQ_DONTWAIT);
	if (n == -1)
		return false;
	zsock_drain_more(sock);
	if (n > (int)sizeof(buf))
		n = (int)sizeof(buf);
	if (n >= 1 && buf[0] == 1)
		busd_republish_hellos(bd, (const char *)buf + 1, (size_t)n - 1);
	return true;
}

static void
busd_heartbeat(void *ctx, uint64_t id)
{
	struct busd *bd = ctx;
	Picsec__V1__Heartbeat hb = PICSEC__V1__HEARTBEAT__INIT;

	(void)id;
	bd->heartbeat_timer = timers_add(bd->timers, bd->heartbeat_ms / 1000.0, busd_heartbeat, 0);
	busd_expire_silent(bd);
	hb.uptime_ms = monotonic_ms() - bd->started_ms;
	hb.sent = bd->counters.sent;
	hb.received = bd->counters.events_forwarded + bd->counters.requests_routed +
	    bd->counters.replies_routed;
	hb.rejected = bd->counters.malformed + bd->counters.unroutable;
	busd_publish(bd, "heartbeat.busd", NULL, MT(HEARTBEAT), &hb.base);
}

void
busd_start(struct busd *bd)
{
	busd_republish_hellos(bd, "hello.busd", strlen("hello.busd"));
	bd->heartbeat_timer = timers_add(bd->timers, bd->heartbeat_ms / 1000.0, busd_heartbeat, 0);
}

static int
busd_setopt_int(void *sock, int opt, int value)
{
	return zmq_setsockopt(sock, opt, &value, sizeof(value));
}

/* One busd per runtime directory: a second would unlink the first one's sockets. */
static int
busd_lock_rundir(struct busd *bd, char *err, size_t errlen)
{
	char path[4200], pid[32];
	int n;

	if (mkdir(bd->rundir, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", bd->rundir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/busd.pid", bd->rundir);
	bd->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (bd->lock_fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(bd->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		n = (int)pread(bd->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "another picsec-busd (pid %s) serves %s", pid[0] ? pid : "?",
		    bd->rundir);
		close(bd->lock_fd);
		bd->lock_fd = -1;
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(bd->lock_fd, 0) == -1 || pwrite(bd->lock_fd, pid, (size_t)n, 0) != n)
		log_warn("%s", path);
	return 0;
}

static int
busd_bind_ipc(struct busd *bd, void *const socks[4], gid_t group, char *err, size_t errlen)
{
	struct bus_endpoints ep;
	const char *eps[4];
	char path[4200];
	mode_t old;
	size_t i;

	if (bus_endpoints_ipc(bd->rundir, &ep, err, errlen) == -1)
		return -1;
	eps[0] = ep.events_in;
	eps[1] = ep.events_out;
	eps[2] = ep.requests;
	eps[3] = ep.tap;
	/* Sockets are born 0660: no moment where another user could connect. */
	old = umask(0117);
	for (i = 0; i < 4; i++) {
		if (zmq_bind(socks[i], eps[i]) == -1) {
			snprintf(err, errlen, "bind %s: %s", eps[i], zmq_strerror(zmq_errno()));
			umask(old);
			return -1;
		}
	}
	umask(old);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", bd->rundir, busd_sock_names[i]);
		if (chmod(path, 0660) == -1 || (group != (gid_t)-1 && chown(path, (uid_t)-1, group)))
			log_warn("%s", path);
	}
	return 0;
}

static int
busd_bind_tcp(struct busd *bd, void *const socks[4], const struct busd_options *opts,
    char *err, size_t errlen)
{
	struct bus_endpoints ep;
	struct curve_keypair kp;
	const char *eps[4];
	int rc = -1;
	size_t i;

	if (opts->secret_key == NULL || opts->allow == NULL) {
		snprintf(err, errlen, "--listen %s needs --curve-secret and --curve-allow: the bus "
		    "never listens on TCP without CURVE", opts->listen);
		return -1;
	}
	if (bus_endpoints_tcp(opts->listen, &ep, err, errlen) == -1 ||
	    curve_load_secret(opts->secret_key, &kp, err, errlen) == -1)
		return -1;
	bd->allow = curve_allowlist_load(opts->allow, err, errlen);
	if (bd->allow == NULL || busd_auth_start(bd, err, errlen) == -1)
		goto out;
	eps[0] = ep.events_in;
	eps[1] = ep.events_out;
	eps[2] = ep.requests;
	eps[3] = ep.tap;
	/* Options apply to endpoints bound after they are set: the ipc:// ones stay plain. */
	for (i = 0; i < 4; i++) {
		if (busd_setopt_int(socks[i], ZMQ_CURVE_SERVER, 1) == -1 ||
		    zmq_setsockopt(socks[i], ZMQ_CURVE_SECRETKEY, kp.secret_z85,
		    CURVE_Z85_LEN) == -1 ||
		    zmq_bind(socks[i], eps[i]) == -1) {
			snprintf(err, errlen, "bind %s: %s", eps[i], zmq_strerror(zmq_errno()));
			goto out;
		}
	}
	log_info("listening on %s..%s with CURVE, %zu client key(s) allowed", ep.events_in,
	    ep.tap + strlen("tcp://"), curve_allowlist_count(bd->allow));
	rc = 0;
out:
	curve_keypair_wipe(&kp);
	return rc;
}

static int
busd_open_sockets(struct busd *bd, const struct busd_options *opts, char *err, size_t errlen)
{
	void *socks[4];
	size_t i;

	bd->xsub = zmq_socket(bd->zctx, ZMQ_XSUB);
	bd->xpub = zmq_socket(bd->zctx, ZMQ_XPUB);
	bd->router = zmq_socket(bd->zctx, ZMQ_ROUTER);
	bd->tap = zmq_socket(bd->zctx, ZMQ_PUB);
	socks[0] = bd->xsub;
	socks[1] = bd->xpub;
	socks[2] = bd->router;
	socks[3] = bd->tap;
	for (i = 0; i < 4; i++) {
		/* ZMTP heartbeats find peers that vanished without closing (a PIC host that lost
		 * power); the size limit keeps one bad frame from taking busd's memory. */
		if (socks[i] == NULL || busd_setopt_int(socks[i], ZMQ_LINGER, 0) == -1 ||
		    busd_setopt_int(socks[i], ZMQ_IPV6, 1) == -1 ||
		    busd_setopt_int(socks[i], ZMQ_HEARTBEAT_IVL, BUSD_ZMTP_HEARTBEAT_MS) == -1 ||
		    busd_setopt_int(socks[i], ZMQ_HEARTBEAT_TIMEOUT, BUSD_ZMTP_TIMEOUT_MS) == -1 ||
		    zmq_setsockopt(socks[i], ZMQ_MAXMSGSIZE, &(int64_t){ BUSD_MAX_MESSAGE },
		    sizeof(int64_t)) == -1)
			goto zerr;
	}
	if (busd_setopt_int(bd->xsub, ZMQ_RCVHWM, BUSD_EVENT_HWM) == -1 ||
	    busd_setopt_int(bd->xpub, ZMQ_SNDHWM, BUSD_EVENT_HWM) == -1 ||
	    busd_setopt_int(bd->xpub, ZMQ_XPUB_VERBOSE, 1) == -1 ||
	    busd_setopt_int(bd->tap, ZMQ_SNDHWM, BUSD_EVENT_HWM) == -1 ||
	    busd_setopt_int(bd->router, ZMQ_SNDHWM, BUSD_REQUEST_HWM) == -1 ||
	    busd_setopt_int(bd->router, ZMQ_RCVHWM, BUSD_REQUEST_HWM) == -1 ||
	    /* An unknown routing id is an error we answer, not a silent drop. */
	    busd_setopt_int(bd->router, ZMQ_ROUTER_MANDATORY, 1) == -1 ||
	    /* A service that reconnects with its id takes the route over from its old pipe. */
	    busd_setopt_int(bd->router, ZMQ_ROUTER_HANDOVER, 1) == -1)
		goto zerr;
	if (busd_bind_ipc(bd, socks, opts->group, err, errlen) == -1)
		return -1;
	if (opts->listen != NULL && busd_bind_tcp(bd, socks, opts, err, errlen) == -1)
		return -1;
	/* The XSUB takes every event from every publisher; filtering happens at the XPUB. */
	if (zmq_send(bd->xsub, "\x01", 1, 0) == -1)
		goto zerr;
	return 0;
zerr:
	snprintf(err, errlen, "bus sockets: %s", zmq_strerror(zmq_errno()));
	return -1;
}

struct busd *
busd_new(struct ev_loop *loop, const struct busd_options *opts, char *err, size_t errlen)
{
	struct busd *bd;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return NULL;
	}
	bd = calloc(1, sizeof(*bd));
	if (bd == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bd->loop = loop;
	bd->lock_fd = -1;
	bd->parked_tail = &bd->parked;
	bd->heartbeat_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : BUSD_DEFAULT_HEARTBEAT_MS;
	bd->started_ms = monotonic_ms();
	bd->started_ns = realtime_ns();
	randombytes_buf(&bd->incarnation, sizeof(bd->incarnation));
	bd->src.service = "busd";
	bd->src.instance = "";
	bd->src.incarnation = bd->incarnation;
	snprintf(bd->rundir, sizeof(bd->rundir), "%s", opts->rundir);

	if (busd_lock_rundir(bd, err, errlen) == -1)
		goto error;
	bd->zctx = zmq_ctx_new();
	bd->timers = timers_new(loop, bd);
	if (bd->zctx == NULL || bd->timers == NULL) {
		snprintf(err, errlen, "out of memory");
		goto error;
	}
	if (busd_open_sockets(bd, opts, err, errlen) == -1)
		goto error;
	bd->xsub_watch = zwatch_new(loop, bd->xsub, busd_xsub_readable, bd, 0);
	bd->xpub_watch = zwatch_new(loop, bd->xpub, busd_xpub_readable, bd, 0);
	bd->router_watch = zwatch_new(loop, bd->router, busd_router_readable, bd, 0);
	if (bd->xsub_watch == NULL || bd->xpub_watch == NULL || bd->router_watch == NULL ||
	    (bd->zap != NULL &&
	    (bd->zap_watch = zwatch_new(loop, bd->zap, busd_zap_readable, bd, 0)) == NULL)) {
		snprintf(err, errlen, "cannot watch the bus sockets");
		goto error;
	}
	/* busd reports each of its own calls on these sockets (zwatch_touched). */
	zwatch_track(bd->xsub_watch);
	zwatch_track(bd->xpub_watch);
	zwatch_track(bd->router_watch);
	bd->in_grace = true;
	bd->grace_timer = timers_add(bd->timers,
	    (opts->grace_ms > 0 ? opts->grace_ms : BUSD_DEFAULT_GRACE_MS) / 1000.0, busd_grace_end,
	    0);
	return bd;
error:
	busd_free(bd);
	return NULL;
}

static void
busd_close(void **sock)
{
	if (*sock != NULL)
		zmq_close(*sock);
	*sock = NULL;
}

void
busd_free(struct busd *bd)
{
	char path[4200];
	size_t i;

	if (bd == NULL)
		return;
	busd_parked_free_all(bd);
	busd_services_free(bd);
	zwatch_free(bd->xsub_watch);
	zwatch_free(bd->xpub_watch);
	zwatch_free(bd->router_watch);
	zwatch_free(bd->zap_watch);
	timers_free(bd->timers);
	busd_close(&bd->xsub);
	busd_close(&bd->xpub);
	busd_close(&bd->router);
	busd_close(&bd->tap);
	busd_close(&bd->zap);
	if (bd->zctx != NULL)
		zmq_ctx_term(bd->zctx);
	curve_allowlist_free(bd->allow);
	if (bd->lock_fd != -1) {
		/* Only the lock holder owns the socket files. */
		for (i = 0; i < ARRAY_SIZE(busd_sock_names); i++) {
			snprintf(path, sizeof(path), "%s/%s", bd->rundir, busd_sock_names[i]);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/busd.pid", bd->rundir);
		unlink(path);
		close(bd->lock_fd);
	}
	free(bd);
}
