/* Request routing. A DEALER sends [to][envelope]; the ROUTER sees [sender][to][envelope].
 *  - to "busd": a request to busd itself;
 *  - to "@...": a reply, routed to that routing id;
 *  - any other name: a request, routed to the service registered under it.
 * Only failures make busd look inside the envelope (for the request id to answer). */
#include "busd_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "log.h"
#include "secbuf.h"
#include "timer.h"
#include "zwatch.h"

static void
busd_frame_string(char *dst, size_t dstlen, zmq_msg_t *frame)
{
	size_t len = zmq_msg_size(frame);

	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, zmq_msg_data(frame), len);
	dst[len] = '\0';
}

static bool
busd_route_ok(zmq_msg_t *frame)
{
	const unsigned char *p = zmq_msg_data(frame);
	size_t i, len = zmq_msg_size(frame);

	if (len < 2 || len >= BUSD_ROUTE_MAX || p[0] != '@')
		return false;
	for (i = 1; i < len; i++) {
		if (p[i] <= ' ' || p[i] > '~')
			return false;
	}
	return true;
}

/* Who a routing id is, for the tap and for replies: its registered name if it has one. */
static const char *
busd_route_name(struct busd *bd, const char *rid)
{
	struct busd_service *svc = busd_service_by_rid(bd, rid);

	return svc != NULL ? svc->name : rid;
}

/* The same for a sender, which is alive: it just sent something. */
static const char *
busd_sender_name(struct busd *bd, const char *rid)
{
	struct busd_service *svc = busd_service_by_rid(bd, rid);

	if (svc == NULL)
		return rid;
	svc->last_heard_ms = monotonic_ms();
	return svc->name;
}

static void
busd_zmsg_wipe_free(void *data, void *hint)
{
	(void)hint;
	wiping_free(data);
}

/* Sends busd's own envelope to a routing id as [rid]["busd"][env], and taps it. */
static void
busd_send_own(struct busd *bd, const char *rid, uint64_t refer_id, int type,
    const ProtobufCMessage *msg)
{
	struct env_header hdr = { .type = type, .refer_id = refer_id };
	char route[2 * BUSD_ROUTE_MAX];
	zmq_msg_t env;
	size_t len;
	void *buf;
	int n, rc;

	hdr.seq = ++bd->seq;
	buf = envelope_pack(&bd->src, &hdr, msg, &len);
	if (buf == NULL)
		return;
	if (zmq_msg_init_data(&env, buf, len, busd_zmsg_wipe_free, NULL) == -1) {
		wiping_free(buf);
		return;
	}
	n = snprintf(route, sizeof(route), "busd > %s", busd_route_name(bd, rid));
	busd_tap(bd, "reply", route, (size_t)n < sizeof(route) ? (size_t)n : sizeof(route) - 1,
	    &env);
	rc = zmq_send(bd->router, rid, strlen(rid), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    zmq_send(bd->router, "busd", 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    zmq_msg_send(&env, bd->router, ZMQ_DONTWAIT) == -1 ? -1 : 0;
	zwatch_touched(bd->router_watch);
	if (rc == -1) {
		zmq_msg_close(&env);
		bd->counters.unroutable++;
		return;
	}
	bd->counters.sent++;
}

/* Answers the request in env with an Error from busd. */
static void
busd_error_to(struct busd *bd, const char *rid, zmq_msg_t *env, int code, const char *fmt,
    ...)
{
	Picsec__V1__Error e = PICSEC__V1__ERROR__INIT;
	struct envelope_view view;
	uint64_t req_id = 0;
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	envelope_open(zmq_msg_data(env), zmq_msg_size(env), &view);
	if (view.env != NULL) {
		req_id = view.env->req_id;
		e.refer_type = view.env->type;
		/* Never answer a reply or an error: two confused peers must not ping-pong. */
		if (view.env->refer_id != 0 || req_id == 0) {
			envelope_close(&view);
			return;
		}
	}
	envelope_close(&view);
	e.code = (Picsec__V1__ErrorCode)code;
	e.text = text;
	busd_send_own(bd, rid, req_id, MT(ERROR), &e.base);
}

void
busd_reply(struct busd_request *req, int type, const ProtobufCMessage *msg)
{
	if (req->replied)
		return;
	req->replied = true;
	busd_send_own(req->bd, req->sender, req->req_id, type, msg);
}

void
busd_reply_error(struct busd_request *req, int code, const char *fmt, ...)
{
	Picsec__V1__Error e = PICSEC__V1__ERROR__INIT;
	char text[512];
	va_list ap;

	if (req->replied)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e.code = (Picsec__V1__ErrorCode)code;
	e.text = text;
	e.refer_type = (Picsec__V1__MsgType)req->type;
	req->replied = true;
	busd_send_own(req->bd, req->sender, req->req_id, MT(ERROR), &e.base);
}

/* Sends [dest][via][env] on the ROUTER, with a tap copy. env is consumed on success. */
static int
busd_forward(struct busd *bd, const char *dest, const char *via, zmq_msg_t *env,
    const char *kind, const char *route)
{
	busd_tap(bd, kind, route, strlen(route), env);
	zwatch_touched(bd->router_watch);
	if (zmq_send(bd->router, dest, strlen(dest), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
		return -1;
	/* Past the first frame ZeroMQ takes the whole message. */
	if (zmq_send(bd->router, via, strlen(via), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    zmq_msg_send(env, bd->router, ZMQ_DONTWAIT) == -1)
		return -1;
	bd->counters.sent++;
	return 0;
}

static void
busd_park(struct busd *bd, const char *sender, const char *to, zmq_msg_t *env)
{
	struct busd_parked *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		busd_error_to(bd, sender, env, ERRC(RESOURCE_EXHAUSTED), "busd: out of memory");
		return;
	}
	snprintf(p->to, sizeof(p->to), "%s", to);
	if (zmq_msg_init_size(&p->sender, strlen(sender)) == -1) {
		free(p);
		busd_error_to(bd, sender, env, ERRC(RESOURCE_EXHAUSTED), "busd: out of memory");
		return;
	}
	memcpy(zmq_msg_data(&p->sender), sender, strlen(sender));
	zmq_msg_init(&p->env);
	zmq_msg_move(&p->env, env);
	/* Appended: a caller's requests are delivered in the order it sent them. */
	p->next = NULL;
	*bd->parked_tail = p;
	bd->parked_tail = &p->next;
	bd->nparked++;
	bd->counters.parked++;
	log_debug("parked a request from %s for '%s' until it registers", sender, to);
}

static void
busd_route_request(struct busd *bd, const char *sender, const char *to, zmq_msg_t *env)
{
	struct busd_service *svc = busd_service_by_name(bd, to);
	char route[2 * BUSD_ROUTE_MAX + 4];
	zmq_msg_t copy;
	int err;

	if (svc == NULL) {
		/* Right after busd starts the services are still re-registering: wait for them. */
		if (bd->in_grace && bd->nparked < BUSD_PARK_MAX) {
			busd_park(bd, sender, to, env);
			return;
		}
		bd->counters.unroutable++;
		busd_error_to(bd, sender, env, ERRC(UNAVAILABLE),
		    "no service '%s' is registered on the bus", to);
		return;
	}
	snprintf(route, sizeof(route), "%s > %s", busd_sender_name(bd, sender), svc->name);
	/* Keep a reference in case the forward fails and the caller needs an answer. */
	zmq_msg_init(&copy);
	zmq_msg_copy(&copy, env);
	if (busd_forward(bd, svc->rid, sender, env, "request", route) == 0) {
		bd->counters.requests_routed++;
		svc->requests_routed++;
		zmq_msg_close(&copy);
		return;
	}
	err = zmq_errno();
	bd->counters.unroutable++;
	if (err == EHOSTUNREACH) {
		log_info("service '%s' is gone (its connection closed); unregistered", svc->name);
		busd_error_to(bd, sender, &copy, ERRC(UNAVAILABLE),
		    "service '%s' went away", to);
		busd_services_remove(bd, svc);
	} else {
		busd_error_to(bd, sender, &copy, ERRC(RESOURCE_EXHAUSTED),
		    "service '%s' is not keeping up (its queue is full)", to);
	}
	zmq_msg_close(&copy);
}

static void
busd_route_reply(struct busd *bd, const char *sender, const char *to, zmq_msg_t *env)
{
	const char *from = busd_sender_name(bd, sender);
	char route[2 * BUSD_ROUTE_MAX + 4];

	snprintf(route, sizeof(route), "%s > %s", from, to);
	if (busd_forward(bd, to, from, env, "reply", route) == -1) {
		/* The caller is gone (or stuck); it has its own timeout. */
		bd->counters.unroutable++;
		log_debug("reply from %s to %s undeliverable: %s", from, to,
		    zmq_strerror(zmq_errno()));
		return;
	}
	bd->counters.replies_routed++;
}

static void
busd_route_local(struct busd *bd, const char *sender, zmq_msg_t *env)
{
	struct busd_request req = { .bd = bd, .sender = sender };
	struct envelope_view view;
	char route[2 * BUSD_ROUTE_MAX + 4];

	snprintf(route, sizeof(route), "%s > busd", busd_sender_name(bd, sender));
	busd_tap(bd, "request", route, strlen(route), env);
	envelope_open(zmq_msg_data(env), zmq_msg_size(env), &view);
	if (view.env == NULL || view.env->refer_id != 0 || view.env->req_id == 0) {
		bd->counters.malformed++;
		if (view.env == NULL)
			busd_error_to(bd, sender, env, ERRC(INVALID_ARGUMENT), "busd: %s",
			    view.detail);
		envelope_close(&view);
		return;
	}
	req.req_id = view.env->req_id;
	req.type = (int)view.env->type;
	busd_handle_request(&req, &view);
	if (!req.replied)
		busd_reply_error(&req, ERRC(INTERNAL), "busd gave no reply to %s",
		    catalog_type_name(req.type));
	/* Not wiped here: the tap's copy of the frame shares these bytes. */
	envelope_close(&view);
}

bool
busd_router_readable(void *sock, void *arg)
{
	struct busd *bd = arg;
	char sender[BUSD_ROUTE_MAX], to[BUSD_ROUTE_MAX];
	zmq_msg_t f[3]; /* [sender][to][envelope] */
	size_t n;

	n = zsock_recv_frames(sock, f, 3);
	if (n == 0) {
		zsock_close_frames(f, 3);
		return false;
	}
	busd_frame_string(sender, sizeof(sender), &f[0]);
	busd_frame_string(to, sizeof(to), &f[1]);
	if (n != 3 || zmq_msg_size(&f[1]) == 0 || zmq_msg_size(&f[1]) >= BUSD_ROUTE_MAX ||
	    memchr(zmq_msg_data(&f[1]), '\0', zmq_msg_size(&f[1])) != NULL) {
		bd->counters.malformed++;
		log_debug("malformed request frames from %s", sender);
	} else if (!busd_route_ok(&f[0])) {
		/* Replies go back by the sender's routing id: only ids a bus client sets
		 * ("@name/...", printable) are accepted, never libzmq's generated ones. */
		bd->counters.malformed++;
		log_debug("request from a connection without a picsec routing id: dropped");
	} else if (strcmp(to, "busd") == 0) {
		busd_route_local(bd, sender, &f[2]);
	} else if (to[0] == '@') {
		busd_route_reply(bd, sender, to, &f[2]);
	} else {
		busd_route_request(bd, sender, to, &f[2]);
	}
	zsock_close_frames(f, 3);
	return true;
}

/* Takes every parked request off the list (those for name only, unless name is NULL),
 * keeping their order. */
static struct busd_parked *
busd_unpark(struct busd *bd, const char *name)
{
	struct busd_parked **pp = &bd->parked, *p, *out = NULL, **out_tail = &out;

	while ((p = *pp) != NULL) {
		if (name != NULL && strcmp(p->to, name) != 0) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		bd->nparked--;
		p->next = NULL;
		*out_tail = p;
		out_tail = &p->next;
	}
	bd->parked_tail = pp;
	return out;
}

static void
busd_parked_free(struct busd_parked *p)
{
	zmq_msg_close(&p->sender);
	zmq_msg_close(&p->env);
	free(p);
}

void
busd_release_parked(struct busd *bd, const char *name)
{
	struct busd_parked *list, *p;
	char sender[BUSD_ROUTE_MAX];

	/* Detached first: routing one may park it again (its service vanished at once), and
	 * that must go back on the list, not into this walk. */
	list = busd_unpark(bd, name);
	while ((p = list) != NULL) {
		list = p->next;
		busd_frame_string(sender, sizeof(sender), &p->sender);
		busd_route_request(bd, sender, p->to, &p->env);
		busd_parked_free(p);
	}
}

void
busd_grace_end(void *ctx, uint64_t id)
{
	struct busd *bd = ctx;
	struct busd_parked *list, *p;
	char sender[BUSD_ROUTE_MAX];

	(void)id;
	bd->in_grace = false;
	bd->grace_timer = 0;
	list = busd_unpark(bd, NULL);
	while ((p = list) != NULL) {
		list = p->next;
		busd_frame_string(sender, sizeof(sender), &p->sender);
		bd->counters.unroutable++;
		busd_error_to(bd, sender, &p->env, ERRC(UNAVAILABLE),
		    "no service '%s' registered on the bus within the start-up grace period",
		    p->to);
		busd_parked_free(p);
	}
}

void
busd_parked_free_all(struct busd *bd)
{
	struct busd_parked *list = busd_unpark(bd, NULL), *p;

	while ((p = list) != NULL) {
		list = p->next;
		busd_parked_free(p);
	}
}
