/* picsec-metricsd: the suite's state in the Prometheus text format, on HTTP. Each scrape of
 * /metrics asks the services over the bus (healthd, sadb, iked, configd and every PIC) and
 * answers with what came back within the deadline. */
#ifndef PICSEC_METRICSD_H
#define PICSEC_METRICSD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct bus;
struct ev_loop;
struct metricsd;

#define METRICSD_DEFAULT_LISTEN "127.0.0.1:9547"

enum {
	METRICSD_DEFAULT_DEADLINE_MS = 1000,	/* a scrape answers by then, whatever is missing */
};

struct metricsd_options {
	const char *listen;	/* "ADDR:PORT", "[ADDR6]:PORT"; NULL: METRICSD_DEFAULT_LISTEN */
	unsigned deadline_ms;	/* 0: METRICSD_DEFAULT_DEADLINE_MS */
};

struct metricsd *metricsd_new(struct ev_loop *loop, struct bus *bus,
    const struct metricsd_options *opts, char *err, size_t errlen);
void metricsd_free(struct metricsd *md);

/* Parses a numeric "ADDR:PORT" (IPv6 in brackets) into ss; *loopback says whether only this
 * host can reach it. 0, or -1 with the reason in err. */
int metricsd_parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen,
    bool *loopback, char *err, size_t errlen);

#endif
