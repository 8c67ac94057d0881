/* picsec-sadb: every SA, what each PIC must hold, SPI allocation, lifetimes. */
#ifndef PICSEC_SADB_H
#define PICSEC_SADB_H

#include <stddef.h>

struct bus;
struct ev_loop;
struct sadb;

struct sadb_options {
	const char *statedir; /* the sequence-number journal (no keys) */
};

struct sadb *sadb_new(struct ev_loop *loop, struct bus *bus, const struct sadb_options *opts,
    char *err, size_t errlen);
void sadb_free(struct sadb *sd);

#endif
