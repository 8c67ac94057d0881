/* picsec-iked: IKEv2 for the dynamic terms of the committed configuration. It follows
 * config.committed, negotiates with each term's remote gateway over UDP 500, installs the
 * Child SAs through sadb (never in a PIC directly) and answers the IKE show and clear
 * commands. */
#ifndef PICSEC_IKED_H
#define PICSEC_IKED_H

#include <stddef.h>

struct bus;
struct ev_loop;
struct iked;

struct iked_options {
	unsigned port;		/* IKE's UDP port (500); tests may move it */
	unsigned natt_port;	/* after NAT detection, IKE and ESP in UDP (4500) */
	const char *keylog;	/* a directory for Wireshark's key tables; NULL: none (root
				 * only: anyone who reads them decrypts everything) */
	unsigned cookie_threshold; /* half-open IKE SAs from which COOKIEs are asked (0: from
				    * the first; the default when not set: 64) */
	bool cookie_threshold_set;
	unsigned lifetime_divisor; /* tests: every configured lifetime divided by it (0, 1:
				    * as configured) */
};

struct iked *iked_new(struct ev_loop *loop, struct bus *bus, const struct iked_options *opts,
    char *err, size_t errlen);
void iked_free(struct iked *ik);

#endif
