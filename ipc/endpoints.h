/* Where the four sockets of picsec-busd live: in a runtime directory (ipc://, the default) or
 * at four consecutive TCP ports (for PICs on other hosts, always with CURVE). */
#ifndef PICSEC_ENDPOINTS_H
#define PICSEC_ENDPOINTS_H

#include <stddef.h>

enum { BUS_ENDPOINT_MAX = 160 };

struct bus_endpoints {
	char events_in[BUS_ENDPOINT_MAX];  /* XSUB: publishers connect here */
	char events_out[BUS_ENDPOINT_MAX]; /* XPUB: subscribers connect here */
	char requests[BUS_ENDPOINT_MAX];   /* ROUTER: every service's DEALER */
	char tap[BUS_ENDPOINT_MAX];	   /* PUB: a copy of every frame, for picsec-busmon */
};

/* The socket files' names inside a runtime directory. */
#define BUS_SOCK_EVENTS_IN "events-in.sock"
#define BUS_SOCK_EVENTS_OUT "events-out.sock"
#define BUS_SOCK_REQUESTS "requests.sock"
#define BUS_SOCK_TAP "tap.sock"

/* The runtime directory to use: dir if given, else $PICSEC_RUNDIR, else the build default. */
const char *bus_rundir(const char *dir);

/* 0, or -1 with a message in err (path too long for a Unix socket). */
int bus_endpoints_ipc(const char *rundir, struct bus_endpoints *ep, char *err, size_t errlen);
/* url is tcp://HOST:PORT; the sockets take PORT..PORT+3 in the order of the struct. */
int bus_endpoints_tcp(const char *url, struct bus_endpoints *ep, char *err, size_t errlen);

#endif
