/* The HTTP side: libmicrohttpd without threads of its own, on the process's libev loop. MHD
 * polls its sockets with an epoll set of its own; the loop watches that set's fd, asks
 * MHD_get_timeout before it blocks (ev_prepare) and calls MHD_run when either fires. A
 * GET /metrics is suspended while the scrape side asks the bus, and resumed with the answer;
 * anything else is answered at once. Without threads MHD has no wake-up of its own for a
 * resumed connection (its epoll set does not fire), so resuming also makes the loop call
 * MHD_run once more. */
#include "metricsd_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <microhttpd.h>

#include "log.h"
#include "metricsd_format.h"
#include "strbuf.h"
#include "u64map.h"

struct http_req {
	uint64_t id;
	struct MHD_Connection *conn;
	bool suspended;
	bool answered;
	unsigned status;
	char *body;
	size_t len;
};

struct metricsd_http {
	struct ev_loop *loop;
	struct MHD_Daemon *mhd;
	ev_io io;
	ev_timer timer;
	ev_prepare prepare;
	ev_idle kick;		/* MHD_run soon: a connection was resumed */
	struct u64map *reqs;	/* id -> struct http_req, while MHD has the connection */
	uint64_t next_id;
	http_scrape_fn *fn;
	void *fn_ctx;
	unsigned port;
	char last_error[256];	/* MHD's last complaint, for a start that fails */
};

static const char not_found[] = "not found: the metrics are at /metrics\n";
static const char not_allowed[] = "method not allowed: GET /metrics\n";
static const char no_memory[] = "out of memory\n";

__attribute__((format(printf, 2, 0))) static void
http_log(void *cls, const char *fmt, va_list ap)
{
	struct metricsd_http *h = cls;
	size_t n;

	vsnprintf(h->last_error, sizeof(h->last_error), fmt, ap);
	n = strlen(h->last_error);
	while (n > 0 && (h->last_error[n - 1] == '\n' || h->last_error[n - 1] == '\r'))
		h->last_error[--n] = '\0';
	/* Every malformed request is a line here: debug only, so no client can fill the log. */
	log_debug("http: %s", h->last_error);
}

static enum MHD_Result
http_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp,
    const char *content_type)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO; /* MHD closes the connection */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
http_static(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return http_queue(conn, status, MHD_create_response_from_buffer(strlen(text),
	    (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT), "text/plain; charset=utf-8");
}

/* The scrape's answer; the body goes to MHD, which frees it. */
static enum MHD_Result
http_send(struct http_req *r)
{
	struct MHD_Response *resp;

	if (r->body == NULL)
		return http_static(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, no_memory);
	resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
	if (resp != NULL)
		r->body = NULL;
	return http_queue(r->conn, r->status, resp, r->status == MHD_HTTP_OK ?
	    METRICSD_CONTENT_TYPE : "text/plain; charset=utf-8");
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct metricsd_http *h = cls;
	struct http_req *r = *req_cls;

	(void)version;
	(void)upload_data;
	if (r != NULL) {
		/* A body nobody asked for is read and dropped; then the answer, if it is in. */
		if (*upload_data_size != 0) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		return r->answered ? http_send(r) : MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return http_static(conn, MHD_HTTP_NOT_FOUND, not_found);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return http_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return http_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, no_memory);
	r->id = ++h->next_id;
	r->conn = conn;
	if (u64map_put(h->reqs, r->id, r) == -1) {
		free(r);
		return http_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, no_memory);
	}
	*req_cls = r;
	h->fn(h->fn_ctx, r->id);
	if (r->answered)
		return http_send(r);
	MHD_suspend_connection(conn);
	r->suspended = true;
	return MHD_YES;
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct metricsd_http *h = cls;
	struct http_req *r = *req_cls;

	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	u64map_take(h->reqs, r->id);
	free(r->body);
	free(r);
	*req_cls = NULL;
}

void
metricsd_http_answer(struct metricsd_http *h, uint64_t req, unsigned status,
    struct strbuf *body)
{
	struct http_req *r = u64map_get(h->reqs, req);

	if (r == NULL || r->answered) {
		strbuf_release(body);
		return;
	}
	r->answered = true;
	r->status = status;
	if (!strbuf_failed(body)) {
		r->len = strbuf_len(body);
		r->body = body->buf != NULL ? body->buf : strdup("");
		*body = (struct strbuf)STRBUF_INIT;
	}
	strbuf_release(body);
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
		ev_idle_start(h->loop, &h->kick);
	}
}

static void
http_run(struct ev_loop *loop, struct metricsd_http *h)
{
	(void)loop;
	MHD_run(h->mhd);
}

static void
http_on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	http_run(loop, w->data);
}

static void
http_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	http_run(loop, w->data);
}

static void
http_on_kick(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(loop, w);
	http_run(loop, w->data);
}

/* Right before the loop blocks: MHD's own deadline (idle connections, a resumed one). */
static void
http_on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct metricsd_http *h = w->data;
	MHD_UNSIGNED_LONG_LONG ms;

	(void)revents;
	ev_timer_stop(loop, &h->timer);
	if (MHD_get_timeout(h->mhd, &ms) != MHD_YES)
		return;
	ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
	ev_timer_start(loop, &h->timer);
}

static void
http_answer_shutdown(uint64_t key, void *value, void *arg)
{
	struct http_req *r = value;
	struct strbuf sb = STRBUF_INIT;

	(void)key;
	strbuf_adds(&sb, "shutting down\n");
	metricsd_http_answer(arg, r->id, MHD_HTTP_SERVICE_UNAVAILABLE, &sb);
}

/* The listening socket, ours so that a failure says what it is about (MHD would say "port
 * 0": the port is in the address). */
static int
http_listen(const struct sockaddr *sa, socklen_t salen, char *err, size_t errlen)
{
	int fd, one = 1;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, sa, salen) == -1 || listen(fd, METRICSD_HTTP_BACKLOG) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct metricsd_http *
metricsd_http_new(struct ev_loop *loop, const struct sockaddr *sa, socklen_t salen,
    http_scrape_fn *fn, void *ctx, char *err, size_t errlen)
{
	struct metricsd_http *h;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	int fd = -1;

	if ((h = calloc(1, sizeof(*h))) == NULL || (h->reqs = u64map_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto error;
	}
	h->loop = loop;
	h->fn = fn;
	h->fn_ctx = ctx;
	if ((fd = http_listen(sa, salen, err, errlen)) == -1)
		goto error;
	if (sa->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* No MHD_USE_INTERNAL_POLLING_THREAD: MHD runs only when the loop calls it. */
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, http_access, h,
	    MHD_OPTION_EXTERNAL_LOGGER, http_log, h,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICSD_HTTP_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICSD_HTTP_IDLE_SECONDS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICSD_HTTP_MEMORY,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, errlen, "%s", h->last_error[0] != '\0' ? h->last_error :
		    "libmicrohttpd refused to start");
		goto error;
	}
	fd = -1; /* MHD's now: it closes it when it stops */
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || info->epoll_fd < 0) {
		snprintf(err, errlen, "libmicrohttpd has no epoll descriptor");
		goto error;
	}
	ev_io_init(&h->io, http_on_io, info->epoll_fd, EV_READ);
	h->io.data = h;
	ev_timer_init(&h->timer, http_on_timer, 0., 0.);
	h->timer.data = h;
	ev_prepare_init(&h->prepare, http_on_prepare);
	h->prepare.data = h;
	ev_idle_init(&h->kick, http_on_kick);
	h->kick.data = h;
	ev_io_start(loop, &h->io);
	ev_prepare_start(loop, &h->prepare);
	if ((info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT)) != NULL)
		h->port = info->port;
	return h;
error:
	/* A failed start may or may not have closed the socket given to it. */
	if (fd != -1 && fcntl(fd, F_GETFD) != -1)
		close(fd);
	metricsd_http_free(h);
	return NULL;
}

unsigned
metricsd_http_port(const struct metricsd_http *h)
{
	return h->port;
}

void
metricsd_http_free(struct metricsd_http *h)
{
	if (h == NULL)
		return;
	if (h->mhd != NULL) {
		ev_io_stop(h->loop, &h->io);
		ev_timer_stop(h->loop, &h->timer);
		ev_prepare_stop(h->loop, &h->prepare);
		ev_idle_stop(h->loop, &h->kick);
		/* Suspended connections are resumed with an answer before MHD closes them all. */
		u64map_foreach(h->reqs, http_answer_shutdown, h);
		MHD_run(h->mhd);
		MHD_stop_daemon(h->mhd);
	}
	u64map_free(h->reqs);
	free(h);
}
