/* picsec-busd: the message bus. Event fan-out (XSUB -> XPUB), request routing by registered
 * name (ROUTER), and a tap (PUB) that copies every frame for picsec-busmon. It keeps no state
 * but who is registered, so it can be killed and restarted at any time. */
#ifndef PICSEC_BUSD_H
#define PICSEC_BUSD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ev_loop;
struct busd;

struct busd_options {
	const char *rundir;	  /* ipc:// sockets here */
	gid_t group;		  /* socket files' group, (gid_t)-1 to leave it */
	const char *listen;	  /* tcp://HOST:PORT: also listen there, with CURVE */
	const char *secret_key;	  /* our CURVE secret key file */
	const char *allow;	  /* client public keys allowed over TCP */
	unsigned heartbeat_ms;	  /* 0: the default */
	unsigned grace_ms;	  /* how long after start requests wait for their service */
};

/* Binds everything; NULL with a message in err. */
struct busd *busd_new(struct ev_loop *loop, const struct busd_options *opts, char *err,
    size_t errlen);
void busd_free(struct busd *bd);
/* Publishes busd's hello and starts its heartbeats. */
void busd_start(struct busd *bd);

#endif
