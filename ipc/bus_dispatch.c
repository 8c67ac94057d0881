/* Incoming messages: frames are checked, the envelope is opened (validated, then parsed), and
 * the message goes to the handler table entry of its type. Every request ends in exactly one
 * reply; nothing that arrives from the bus can make this process abort. */
#include "bus_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "log.h"
#include "secbuf.h"
#include "zwatch.h"

/* Logs the 1st, 2nd, 4th, 8th... rejection: a flood of garbage cannot flood the log too. */
static void
bus_note_rejected(struct bus *bus, const char *from, const char *why)
{
	uint64_t n = ++bus->counters.rejected;

	if ((n & (n - 1)) == 0)
		log_warnx("bus: rejected a message from %s: %s (%llu rejected so far)", from, why,
		    (unsigned long long)n);
}

/* Receives [first][second] into f[0..2). Returns 1 with both, 0 when nothing was waiting,
 * -1 for a message of another shape (counted). */
static int
bus_recv_pair(struct bus *bus, void *sock, zmq_msg_t f[2])
{
	size_t n = zsock_recv_frames(sock, f, 2);

	if (n == 0)
		return 0;
	bus->counters.received++;
	if (n != 2) {
		bus_note_rejected(bus, "the bus", n < 2 ? "a one-frame message" :
		    "a message of more than two frames");
		return -1;
	}
	return 1;
}

static void
bus_copy_frame(char *dst, size_t dstlen, zmq_msg_t *frame)
{
	size_t len = zmq_msg_size(frame);
	const char *src = zmq_msg_data(frame);
	size_t i;

	if (len >= dstlen)
		len = dstlen - 1;
	for (i = 0; i < len; i++)
		dst[i] = (src[i] > ' ' && src[i] <= '~') ? src[i] : '?';
	dst[len] = '\0';
}

/* Opens the envelope frame, and wipes the received bytes when they may carry keys. */
static void
bus_open_frame(zmq_msg_t *frame, struct envelope_view *view)
{
	envelope_open(zmq_msg_data(frame), zmq_msg_size(frame), view);
	if (view->secret)
		secure_wipe(zmq_msg_data(frame), zmq_msg_size(frame));
}

static int
bus_send_error_to(struct bus *bus, const char *route, uint64_t refer_id, int refer_type,
    int code, const char *text)
{
	Picsec__V1__Error e = PICSEC__V1__ERROR__INIT;
	struct env_header hdr = { .type = MT(ERROR), .refer_id = refer_id };

	e.code = (Picsec__V1__ErrorCode)code;
	e.text = (char *)(uintptr_t)text;
	e.refer_type = (Picsec__V1__MsgType)refer_type;
	return bus_send_routed(bus, route, &hdr, &e.base);
}

static void
bus_builtin_ping(struct bus_msg *m, const ProtobufCMessage *payload)
{
	const Picsec__V1__Ping *ping = (const Picsec__V1__Ping *)payload;
	Picsec__V1__Pong pong = PICSEC__V1__PONG__INIT;

	pong.token = ping->token;
	pong.uptime_ms = monotonic_ms() - m->bus->started_ms;
	bus_reply(m, MT(PONG), &pong.base);
}

static bus_handler_fn *
bus_handler_for(const struct bus *bus, int type)
{
	if (type <= 0 || bus->handlers == NULL || (size_t)type >= bus->nhandlers)
		return NULL;
	return bus->handlers[type].fn;
}

static void
bus_dispatch_request(struct bus *bus, struct bus_msg *m)
{
	const Picsec__V1__Envelope *env = m->view.env;
	bus_handler_fn *fn;
	int type = (int)env->type;

	if (m->view.status != ENVELOPE_OK) {
		bus_note_rejected(bus, m->from, m->view.detail);
		bus_reply_error(m, m->view.status == ENVELOPE_UNKNOWN_TYPE ? ERRC(UNIMPLEMENTED) :
		    ERRC(INVALID_ARGUMENT), "%s: %s", bus_name(bus), m->view.detail);
		return;
	}
	fn = bus_handler_for(bus, type);
	if (fn != NULL)
		fn(m, m->view.payload, bus->handler_ctx);
	else if (type == MT(PING))
		bus_builtin_ping(m, m->view.payload);
	else {
		bus_note_rejected(bus, m->from, "no handler for this request");
		bus_reply_error(m, ERRC(UNIMPLEMENTED), "%s does not handle %s requests",
		    bus_name(bus), catalog_type_name(type));
	}
}

bool
bus_dealer_readable(void *sock, void *arg)
{
	struct bus *bus = arg;
	struct bus_msg m = { .bus = bus };
	zmq_msg_t f[2];
	int rc;

	rc = bus_recv_pair(bus, sock, f);
	if (rc == 1) {
		bus_copy_frame(m.from, sizeof(m.from), &f[0]);
		bus_open_frame(&f[1], &m.view);
	}
	zsock_close_frames(f, 2);
	if (rc != 1)
		return rc != 0;

	bus_enter(bus);
	if (m.view.env == NULL) {
		/* No envelope, so no request id to answer to; the caller's timer will fire. */
		bus_note_rejected(bus, m.from, m.view.detail);
		bus_send_error_to(bus, m.from, 0, MT(NONE), ERRC(INVALID_ARGUMENT), m.view.detail);
	} else if (m.view.env->refer_id != 0) {
		bus_request_complete(bus, m.from, &m.view);
	} else if (m.view.env->req_id != 0) {
		m.is_request = true;
		bus_dispatch_request(bus, &m);
		if (!m.taken && !m.replied)
			bus_reply_error(&m, ERRC(INTERNAL), "%s: the %s handler gave no reply",
			    bus_name(bus), catalog_type_name((int)m.view.env->type));
	} else {
		bus_note_rejected(bus, m.from, "neither a request nor a reply");
	}
	if (!m.taken)
		envelope_close(&m.view);
	return !bus_leave(bus);
}

bool
bus_sub_readable(void *sock, void *arg)
{
	struct bus *bus = arg;
	struct bus_msg m = { .bus = bus };
	bus_handler_fn *fn;
	zmq_msg_t f[2];
	int rc;

	rc = bus_recv_pair(bus, sock, f);
	if (rc == 1) {
		bus_copy_frame(m.from, sizeof(m.from), &f[0]);
		bus_open_frame(&f[1], &m.view);
	}
	zsock_close_frames(f, 2);
	if (rc != 1)
		return rc != 0;

	bus_enter(bus);
	if (m.view.status != ENVELOPE_OK)
		bus_note_rejected(bus, m.from, m.view.detail);
	else if ((fn = bus_handler_for(bus, (int)m.view.env->type)) != NULL)
		fn(&m, m.view.payload, bus->handler_ctx);
	if (!m.taken)
		envelope_close(&m.view);
	return !bus_leave(bus);
}

int
bus_msg_type(const struct bus_msg *m)
{
	return m->view.env != NULL ? (int)m->view.env->type : MT(NONE);
}

bool
bus_msg_is_request(const struct bus_msg *m)
{
	return m->is_request;
}

const char *
bus_msg_topic(const struct bus_msg *m)
{
	return m->from;
}

const Picsec__V1__Envelope *
bus_msg_envelope(const struct bus_msg *m)
{
	return m->view.env;
}

struct bus *
bus_msg_bus(const struct bus_msg *m)
{
	return m->bus;
}

static bool
bus_msg_answerable(const struct bus_msg *m)
{
	return m->is_request && !m->replied && !m->taken && m->bus != NULL && m->view.env != NULL;
}

int
bus_reply(struct bus_msg *m, int type, const ProtobufCMessage *msg)
{
	struct env_header hdr = { .type = type };

	if (!bus_msg_answerable(m)) {
		log_warnx("%s: %s to %s: not an unanswered request", __func__,
		    catalog_type_name(type) ? catalog_type_name(type) : "?", m->from);
		return -1;
	}
	/* A handler that answers with the wrong message still answers: with an Error that
	 * says so, rather than leaving the caller to its deadline. */
	if (msg == NULL || catalog_descriptor(type) == NULL ||
	    msg->descriptor != catalog_descriptor(type)) {
		log_warnx("%s: the %s handler answered with a payload that is not a %s", __func__,
		    catalog_type_name(bus_msg_type(m)), catalog_type_name(type) ?
		    catalog_type_name(type) : "known type");
		bus_reply_error(m, ERRC(INTERNAL), "%s: the %s handler gave a malformed answer",
		    bus_name(m->bus), catalog_type_name(bus_msg_type(m)));
		return -1;
	}
	hdr.refer_id = m->view.env->req_id;
	m->replied = true;
	errno = 0;
	if (bus_send_routed(m->bus, m->from, &hdr, msg) == 0)
		return 0;
	/* An answer too big for the bus (a snapshot, a list at scale) is still an answer: an
	 * Error that says so, rather than the caller's deadline. */
	if (errno == EMSGSIZE) {
		m->replied = false;
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "%s: the %s answer is more than the "
		    "bus carries (16 MiB)", bus_name(m->bus), catalog_type_name(type));
	}
	return -1;
}

int
bus_reply_error(struct bus_msg *m, int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!bus_msg_answerable(m))
		return -1;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	m->replied = true;
	return bus_send_error_to(m->bus, m->from, m->view.env->req_id, (int)m->view.env->type, code,
	    text);
}

struct bus_msg *
bus_msg_take(struct bus_msg *m)
{
	struct bus_msg *h;

	/* Taken once: the stack copy is dead from here on, answers included. */
	if (m->taken || m->bus == NULL)
		return NULL;
	h = malloc(sizeof(*h));
	if (h == NULL)
		return NULL;
	*h = *m;
	m->taken = true;
	h->taken = false;
	h->prev = NULL;
	h->next = m->bus->taken;
	if (h->next != NULL)
		h->next->prev = h;
	m->bus->taken = h;
	return h;
}

static void
bus_taken_unlink(struct bus_msg *h)
{
	if (h->bus == NULL)
		return;
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		h->bus->taken = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

void
bus_msg_free(struct bus_msg *h)
{
	if (h == NULL)
		return;
	if (h->is_request && !h->replied && h->bus != NULL)
		bus_reply_error(h, ERRC(INTERNAL), "%s dropped the %s request without a reply",
		    bus_name(h->bus), catalog_type_name(bus_msg_type(h)));
	bus_taken_unlink(h);
	envelope_close(&h->view);
	free(h);
}

void
bus_taken_fail_all(struct bus *bus)
{
	struct bus_msg *h;

	while ((h = bus->taken) != NULL) {
		if (h->is_request && !h->replied)
			bus_reply_error(h, ERRC(UNAVAILABLE), "%s is shutting down", bus_name(bus));
		bus_taken_unlink(h);
		h->bus = NULL; /* its owner frees it later, without the bus */
	}
}
