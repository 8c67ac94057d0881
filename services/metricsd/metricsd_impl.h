/* picsec-metricsd, private: the HTTP side (metricsd_http.c) hands each GET /metrics to the
 * scrape side (metricsd_scrape.c), which asks the bus and answers through the HTTP side.
 * The two know each other's requests only by id. */
#ifndef PICSEC_METRICSD_IMPL_H
#define PICSEC_METRICSD_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "metricsd.h"

struct bus;
struct ev_loop;
struct metricsd_http;
struct strbuf;
struct timers;
struct u64map;

enum {
	METRICSD_SOURCES_FIXED = 4,	/* healthd, sadb, iked, configd; then the PICs */
	METRICSD_SCRAPES_MAX = 64,	/* scrapes in progress at once; more get 503 */
	METRICSD_PICS_MAX = 256,	/* PICs asked per scrape */
	METRICSD_HTTP_CONNECTIONS = 256,
	METRICSD_HTTP_BACKLOG = 128,
	METRICSD_HTTP_IDLE_SECONDS = 10,
	METRICSD_HTTP_MEMORY = 32 * 1024, /* per connection: the request head must fit */
};

struct metricsd {
	struct ev_loop *loop;
	struct bus *bus;
	struct timers *timers;		/* the scrapes' deadlines, by scrape id */
	struct u64map *scrapes;		/* scrape id (= HTTP request id) -> struct scrape */
	struct metricsd_http *http;
	double deadline;		/* seconds */
	bool source_down[METRICSD_SOURCES_FIXED]; /* at the last scrape: to log changes only */
};

/* metricsd_http.c: libmicrohttpd driven by the loop (its epoll fd and its timeout). */
typedef void http_scrape_fn(void *ctx, uint64_t req);
struct metricsd_http *metricsd_http_new(struct ev_loop *loop, const struct sockaddr *sa,
    socklen_t salen, http_scrape_fn *fn, void *ctx, char *err, size_t errlen);
/* Answers the requests still waiting with 503 and closes every connection. */
void metricsd_http_free(struct metricsd_http *h);
/* The answer to request req: status and body (taken: *body is empty after). A request that
 * is gone (its connection closed) is forgotten. */
void metricsd_http_answer(struct metricsd_http *h, uint64_t req, unsigned status,
    struct strbuf *body);
unsigned metricsd_http_port(const struct metricsd_http *h);

/* metricsd_scrape.c */
void metricsd_scrape(void *ctx, uint64_t req); /* an http_scrape_fn, ctx the metricsd */
void metricsd_scrapes_free(struct metricsd *md);

#endif
