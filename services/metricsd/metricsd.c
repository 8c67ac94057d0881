/* picsec-metricsd's state: the listening address, the HTTP side and the scrapes. */
#include "metricsd_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timer.h"
#include "u64map.h"

static int
parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
metricsd_parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen,
    bool *loopback, char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs = text, *he;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		hs = text + 1;
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':')
			goto bad;
		colon = he + 1;
	} else {
		if ((colon = strrchr(text, ':')) == NULL)
			goto bad;
		he = colon;
		if (memchr(text, ':', (size_t)(colon - text)) != NULL) {
			snprintf(err, errlen, "'%s': an IPv6 address goes in brackets, "
			    "[ADDR]:PORT", text);
			return -1;
		}
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(host) || parse_port(colon + 1, &port) == -1)
		goto bad;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	if (text[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
		*loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (text[0] == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && sin6->sin6_addr.s6_addr[12] == 127);
		return 0;
	}
bad:
	snprintf(err, errlen, "'%s' is not a numeric ADDR:PORT (127.0.0.1:9547, [::1]:9547)",
	    text);
	return -1;
}

static void
prefix_error(char *err, size_t errlen, const char *listen)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", err);
	snprintf(err, errlen, "cannot serve HTTP on %s: %s", listen, why);
}

struct metricsd *
metricsd_new(struct ev_loop *loop, struct bus *bus, const struct metricsd_options *opts,
    char *err, size_t errlen)
{
	const char *listen = opts->listen != NULL ? opts->listen : METRICSD_DEFAULT_LISTEN;
	struct sockaddr_storage ss;
	struct metricsd *md;
	socklen_t sslen;
	bool loopback;

	if (metricsd_parse_listen(listen, &ss, &sslen, &loopback, err, errlen) == -1)
		return NULL;
	if ((md = calloc(1, sizeof(*md))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	md->loop = loop;
	md->bus = bus;
	md->deadline = (opts->deadline_ms > 0 ? opts->deadline_ms :
	    METRICSD_DEFAULT_DEADLINE_MS) / 1000.0;
	md->timers = timers_new(loop, md);
	md->scrapes = u64map_new();
	if (md->timers == NULL || md->scrapes == NULL) {
		snprintf(err, errlen, "out of memory");
		goto error;
	}
	md->http = metricsd_http_new(loop, (const struct sockaddr *)&ss, sslen, metricsd_scrape,
	    md, err, errlen);
	if (md->http == NULL) {
		prefix_error(err, errlen, listen);
		goto error;
	}
	if (!loopback)
		log_warnx("listening on %s, which is not a loopback address: anyone who can "
		    "reach it can read the metrics", listen);
	log_info("serving http://%s/metrics (port %u)", listen, metricsd_http_port(md->http));
	return md;
error:
	metricsd_free(md);
	return NULL;
}

void
metricsd_free(struct metricsd *md)
{
	if (md == NULL)
		return;
	metricsd_scrapes_free(md);
	metricsd_http_free(md->http);
	timers_free(md->timers);
	u64map_free(md->scrapes);
	free(md);
}
