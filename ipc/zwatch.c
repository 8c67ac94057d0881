#include "zwatch.h"

#include <stddef.h>
#include <stdlib.h>

#include <ev.h>
#include <zmq.h>

#include "log.h"

enum { ZWATCH_DEFAULT_BATCH = 512 };

struct zwatch {
	ev_io io;	  /* wakes the loop when ZMQ_FD changes; does no work itself */
	ev_prepare prepare;
	ev_check check;
	ev_idle idle;	  /* running only while a message waits: the poll must not block */
	struct ev_loop *loop;
	void *sock;
	zwatch_fn *fn;
	void *arg;
	unsigned batch;
	bool pending;	  /* the fd woke us, or prepare saw a message: drain in check */
	bool tracked;	  /* the owner reports its own calls on the socket (zwatch_touched) */
	bool dirty;	  /* a call on the socket since it was last seen empty */
	bool *destroyed;  /* set while fn runs: zwatch_free from inside it raises the flag */
};

bool
zsock_readable(void *sock)
{
	int events = 0;
	size_t len = sizeof(events);

	if (zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len) == -1)
		return false;
	return (events & ZMQ_POLLIN) != 0;
}

unsigned
zsock_drain_more(void *sock)
{
	zmq_msg_t part;
	unsigned n = 0;
	int more = 0;
	size_t len = sizeof(more);

	for (;;) {
		if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len) == -1 || !more)
			return n;
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&part);
			return n;
		}
		zmq_msg_close(&part);
		n++;
	}
}

size_t
zsock_recv_frames(void *sock, zmq_msg_t *frames, size_t max)
{
	size_t n;

	for (n = 0; n < max; n++)
		zmq_msg_init(&frames[n]);
	for (n = 0; n < max; n++) {
		if (zmq_msg_recv(&frames[n], sock, ZMQ_DONTWAIT) == -1)
			return n; /* 0: nothing; else a part missing, which ZeroMQ never does */
		if (!zmq_msg_more(&frames[n]))
			return n + 1;
	}
	zsock_drain_more(sock);
	return max + 1;
}

void
zsock_close_frames(zmq_msg_t *frames, size_t max)
{
	size_t n;

	for (n = 0; n < max; n++)
		zmq_msg_close(&frames[n]);
}

static void
zwatch_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct zwatch *zw = (struct zwatch *)w;

	(void)loop;
	(void)revents;
	zw->pending = true;
}

static void
zwatch_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void
zwatch_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct zwatch *zw = (struct zwatch *)((char *)w - offsetof(struct zwatch, prepare));

	(void)revents;
	/* Untouched since a receive found it empty, with its fd quiet: nothing can be waiting
	 * that the fd would not announce. Not asking saves two system calls per iteration. */
	if (zw->tracked && !zw->dirty && !zw->pending) {
		ev_idle_stop(loop, &zw->idle);
		return;
	}
	zw->dirty = false;
	if (zsock_readable(zw->sock)) {
		zw->pending = true;
		ev_idle_start(loop, &zw->idle);
	} else {
		ev_idle_stop(loop, &zw->idle);
	}
}

static void
zwatch_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct zwatch *zw = (struct zwatch *)((char *)w - offsetof(struct zwatch, check));
	bool destroyed = false, more;
	unsigned n;

	(void)revents;
	ev_idle_stop(loop, &zw->idle);
	/* A socket nothing woke stays as the last drain left it: empty. (What a send on it may
	 * have made readable since, the next prepare finds.) */
	if (!zw->pending)
		return;
	/* No ZMQ_EVENTS check per message: it costs two system calls in libzmq 4.3, and the
	 * reader's own non-blocking receive says when the socket is empty. */
	zw->destroyed = &destroyed;
	for (n = 0; n < zw->batch; n++) {
		more = zw->fn(zw->sock, zw->arg);
		if (destroyed)
			return;
		if (!more) {
			zw->pending = false;
			zw->dirty = false;
			break;
		}
	}
	zw->destroyed = NULL;
}

struct zwatch *
zwatch_new(struct ev_loop *loop, void *sock, zwatch_fn *fn, void *arg, unsigned batch)
{
	struct zwatch *zw;
	int fd;
	size_t len = sizeof(fd);

	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) == -1) {
		log_warnx("%s: ZMQ_FD: %s", __func__, zmq_strerror(zmq_errno()));
		return NULL;
	}
	zw = calloc(1, sizeof(*zw));
	if (zw == NULL)
		return NULL;
	zw->loop = loop;
	zw->sock = sock;
	zw->fn = fn;
	zw->arg = arg;
	zw->batch = batch > 0 ? batch : ZWATCH_DEFAULT_BATCH;
	zw->dirty = true;
	ev_io_init(&zw->io, zwatch_io_cb, fd, EV_READ);
	ev_prepare_init(&zw->prepare, zwatch_prepare_cb);
	ev_check_init(&zw->check, zwatch_check_cb);
	ev_idle_init(&zw->idle, zwatch_idle_cb);
	ev_io_start(loop, &zw->io);
	ev_prepare_start(loop, &zw->prepare);
	ev_check_start(loop, &zw->check);
	return zw;
}

void
zwatch_track(struct zwatch *zw)
{
	zw->tracked = true;
	zw->dirty = true;
}

void
zwatch_touched(struct zwatch *zw)
{
	if (zw != NULL)
		zw->dirty = true;
}

void
zwatch_free(struct zwatch *zw)
{
	if (zw == NULL)
		return;
	if (zw->destroyed != NULL)
		*zw->destroyed = true;
	ev_io_stop(zw->loop, &zw->io);
	ev_prepare_stop(zw->loop, &zw->prepare);
	ev_check_stop(zw->loop, &zw->check);
	ev_idle_stop(zw->loop, &zw->idle);
	free(zw);
}
