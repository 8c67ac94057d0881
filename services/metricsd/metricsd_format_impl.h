/* The formatter's private parts: writing families and samples, shared by the files that
 * write the families of each source. */
#ifndef PICSEC_METRICSD_FORMAT_IMPL_H
#define PICSEC_METRICSD_FORMAT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metricsd_format.h"

struct strbuf;
struct u64map;

enum {
	FMT_LABELS_MAX = 10,
	FMT_ADDR_MAX = 48,	/* an IPv6 address as text, with room */
	FMT_NUM_MAX = 24,	/* a uint64 in decimal, or 16 hex digits */
};

/* One sample's labels, in the order written. */
struct fmt_labels {
	const char *k[FMT_LABELS_MAX];
	const char *v[FMT_LABELS_MAX];
	size_t n;
};

/* One run of the formatter. */
struct fmt {
	struct strbuf *out;
	const struct metricsd_input *in;
	struct u64map *sa_by_id;	/* id -> const SaInfo *, when sadb answered */
};

/* Adds a label (k must be a constant; v is escaped when written). */
void fmt_label(struct fmt_labels *l, const char *k, const char *v);
/* # HELP and # TYPE of a family: once, before its samples. */
void fmt_family(struct fmt *f, const char *name, const char *type, const char *help);
void fmt_u64(struct fmt *f, const char *name, const struct fmt_labels *l, uint64_t v);
void fmt_f64(struct fmt *f, const char *name, const struct fmt_labels *l, double v);
/* Seconds from nanoseconds, exactly (a double would lose the nanoseconds). */
void fmt_seconds_ns(struct fmt *f, const char *name, const struct fmt_labels *l, uint64_t ns);

/* The address as text, "" when absent or of a length that is not an address. */
const char *fmt_addr(const Picsec__V1__IpAddress *a, char *buf, size_t len);
const char *fmt_direction(int direction);
const char *fmt_protocol(int protocol);

/* The families of each source (metricsd_format_sa.c, metricsd_format_tunnels.c). */
void fmt_sas(struct fmt *f);
void fmt_pics(struct fmt *f);
void fmt_ike(struct fmt *f);
void fmt_tunnels(struct fmt *f);

#endif
