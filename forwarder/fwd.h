/* picsec-fwd: one services PIC. Holds the SAs sadb streams to it and runs them on an
 * AF_XDP datapath: cleartext from each service set's veth, ESP and AH on the outside
 * device. */
#ifndef PICSEC_FWD_H
#define PICSEC_FWD_H

#include <stddef.h>

struct bus;
struct ev_loop;
struct fwd;

struct fwd_options {
	const char *pic;      /* "ms-0/0/0" */
	unsigned frames;      /* UMEM frames per AF_XDP socket (power of two) */
};

struct fwd *fwd_new(struct ev_loop *loop, struct bus *bus, const struct fwd_options *opts,
    char *err, size_t errlen);
void fwd_free(struct fwd *f);

#endif
