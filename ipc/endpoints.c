#include "endpoints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "picsec_build.h"

const char *
bus_rundir(const char *dir)
{
	const char *env;

	if (dir != NULL && dir[0] != '\0')
		return dir;
	env = getenv("PICSEC_RUNDIR");
	if (env != NULL && env[0] != '\0')
		return env;
	return PICSEC_DEFAULT_RUNDIR;
}

int
bus_endpoints_ipc(const char *rundir, struct bus_endpoints *ep, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	size_t need = strlen(rundir) + 1 + sizeof(BUS_SOCK_EVENTS_OUT);

	if (need > sizeof(sun.sun_path)) {
		snprintf(err, errlen, "runtime directory '%s' is too long for a Unix socket path "
		    "(%zu > %zu bytes)", rundir, need, sizeof(sun.sun_path));
		return -1;
	}
	snprintf(ep->events_in, sizeof(ep->events_in), "ipc://%s/%s", rundir, BUS_SOCK_EVENTS_IN);
	snprintf(ep->events_out, sizeof(ep->events_out), "ipc://%s/%s", rundir,
	    BUS_SOCK_EVENTS_OUT);
	snprintf(ep->requests, sizeof(ep->requests), "ipc://%s/%s", rundir, BUS_SOCK_REQUESTS);
	snprintf(ep->tap, sizeof(ep->tap), "ipc://%s/%s", rundir, BUS_SOCK_TAP);
	return 0;
}

int
bus_endpoints_tcp(const char *url, struct bus_endpoints *ep, char *err, size_t errlen)
{
	const char *host, *colon;
	char *end;
	unsigned long port;
	int hostlen;

	if (strncmp(url, "tcp://", 6) != 0) {
		snprintf(err, errlen, "'%s': expected tcp://HOST:PORT", url);
		return -1;
	}
	host = url + 6;
	colon = strrchr(host, ':');
	if (colon == NULL || colon == host) {
		snprintf(err, errlen, "'%s': expected tcp://HOST:PORT", url);
		return -1;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || colon[1] == '\0' || port == 0 || port > 65535 - 3) {
		snprintf(err, errlen, "'%s': port must be 1..65532 (four consecutive ports are used)",
		    url);
		return -1;
	}
	hostlen = (int)(colon - host);
	if (hostlen > BUS_ENDPOINT_MAX - 20) {
		snprintf(err, errlen, "'%s': host name too long", url);
		return -1;
	}
	snprintf(ep->events_in, sizeof(ep->events_in), "tcp://%.*s:%lu", hostlen, host, port);
	snprintf(ep->events_out, sizeof(ep->events_out), "tcp://%.*s:%lu", hostlen, host,
	    port + 1);
	snprintf(ep->requests, sizeof(ep->requests), "tcp://%.*s:%lu", hostlen, host, port + 2);
	snprintf(ep->tap, sizeof(ep->tap), "tcp://%.*s:%lu", hostlen, host, port + 3);
	return 0;
}
