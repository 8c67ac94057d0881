/* picsec-configd: the candidate and the committed configuration, commit checks, the
 * rollback history on disk, and the ConfigSnapshot every other service reads. */
#ifndef PICSEC_CONFIGD_H
#define PICSEC_CONFIGD_H

#include <stddef.h>

struct bus;
struct ev_loop;
struct configd;

struct configd_options {
	const char *statedir;
	unsigned minute_ms;    /* 0: 60000; tests shorten commit confirmed with it */
	unsigned lock_idle_ms; /* 0: one hour */
};

/* Loads the newest committed configuration from the state directory (or starts empty). */
struct configd *configd_new(struct ev_loop *loop, struct bus *bus,
    const struct configd_options *opts, char *err, size_t errlen);
void configd_free(struct configd *cd);

/* The offline check (picsec-configd --check FILE): prints the verdict, returns the exit
 * status (0 when the configuration would commit). */
int configd_check_file(const char *path);

#endif
