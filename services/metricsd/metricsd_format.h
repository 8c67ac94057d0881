/* The Prometheus text exposition (format 0.0.4) of what the services answered to one scrape.
 * Made from the decoded replies alone, without a bus, so the unit tests check it directly.
 *
 * A source that did not answer is NULL: its picsec_scrape_source_up is 0 and the families
 * made from it are left out (not written as zeros, which would be a lie); everything the
 * other sources gave is still written. */
#ifndef PICSEC_METRICSD_FORMAT_H
#define PICSEC_METRICSD_FORMAT_H

#include <stddef.h>

#include "config.pb-c.h"
#include "health.pb-c.h"
#include "ike.pb-c.h"
#include "sa.pb-c.h"

struct strbuf;

/* One PIC asked for its counters. */
struct metricsd_pic {
	const char *name;			/* "ms-0/0/0" (its bus name is "fwd.<name>") */
	const Picsec__V1__PicStats *stats;	/* NULL: it did not answer */
};

/* Everything one scrape collected. */
struct metricsd_input {
	const Picsec__V1__ServiceList *services;	/* healthd */
	const Picsec__V1__SaList *sas;			/* sadb */
	const Picsec__V1__IkeList *ike;			/* iked */
	const Picsec__V1__ConfigSnapshot *config;	/* configd */
	const struct metricsd_pic *pics;
	size_t npics;
	double duration_seconds;			/* how long the collection took */
};

/* Appends the exposition of in to out; check strbuf_failed(out) once after. */
void metricsd_format(struct strbuf *out, const struct metricsd_input *in);

/* A label value as the format wants it: backslash, double quote and newline escaped. */
void metricsd_escape_label(struct strbuf *out, const char *value);

/* The Content-Type of what metricsd_format writes. */
#define METRICSD_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
