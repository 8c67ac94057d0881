/* The exposition: the scrape's own families, healthd's processes and configd's generation,
 * and the writing of families and samples (metricsd_format.h). */
#include "metricsd_format_impl.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "strbuf.h"
#include "u64map.h"

void
metricsd_escape_label(struct strbuf *out, const char *value)
{
	const char *p;

	for (p = value; *p != '\0'; p++) {
		switch (*p) {
		case '\\':
			strbuf_adds(out, "\\\\");
			break;
		case '"':
			strbuf_adds(out, "\\\"");
			break;
		case '\n':
			strbuf_adds(out, "\\n");
			break;
		default:
			strbuf_addc(out, *p);
		}
	}
}

void
fmt_label(struct fmt_labels *l, const char *k, const char *v)
{
	if (l->n >= FMT_LABELS_MAX)
		return; /* a programming error the unit tests would show: the label is missing */
	l->k[l->n] = k;
	l->v[l->n] = v != NULL ? v : "";
	l->n++;
}

void
fmt_family(struct fmt *f, const char *name, const char *type, const char *help)
{
	strbuf_addf(f->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
fmt_name(struct fmt *f, const char *name, const struct fmt_labels *l)
{
	size_t i;

	strbuf_adds(f->out, name);
	if (l == NULL || l->n == 0) {
		strbuf_addc(f->out, ' ');
		return;
	}
	strbuf_addc(f->out, '{');
	for (i = 0; i < l->n; i++) {
		strbuf_addf(f->out, "%s%s=\"", i > 0 ? "," : "", l->k[i]);
		metricsd_escape_label(f->out, l->v[i]);
		strbuf_addc(f->out, '"');
	}
	strbuf_adds(f->out, "} ");
}

void
fmt_u64(struct fmt *f, const char *name, const struct fmt_labels *l, uint64_t v)
{
	fmt_name(f, name, l);
	strbuf_addf(f->out, "%" PRIu64 "\n", v);
}

void
fmt_f64(struct fmt *f, const char *name, const struct fmt_labels *l, double v)
{
	fmt_name(f, name, l);
	strbuf_addf(f->out, "%.6f\n", v);
}

void
fmt_seconds_ns(struct fmt *f, const char *name, const struct fmt_labels *l, uint64_t ns)
{
	fmt_name(f, name, l);
	strbuf_addf(f->out, "%" PRIu64 ".%09" PRIu64 "\n", ns / 1000000000u, ns % 1000000000u);
}

const char *
fmt_addr(const Picsec__V1__IpAddress *a, char *buf, size_t len)
{
	buf[0] = '\0';
	if (a == NULL || (a->addr.len != 4 && a->addr.len != 16))
		return buf;
	if (inet_ntop(a->addr.len == 4 ? AF_INET : AF_INET6, a->addr.data, buf,
	    (socklen_t)len) == NULL)
		buf[0] = '\0';
	return buf;
}

const char *
fmt_direction(int direction)
{
	switch (direction) {
	case PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND:
		return "inbound";
	case PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND:
		return "outbound";
	case PICSEC__V1__SA_DIRECTION__SA_DIRECTION_BIDIRECTIONAL:
		return "bidirectional";
	default:
		return "unspecified";
	}
}

const char *
fmt_protocol(int protocol)
{
	switch (protocol) {
	case PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH:
		return "ah";
	case PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP:
		return "esp";
	case PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE:
		return "bundle";
	default:
		return "unspecified";
	}
}

static void
fmt_source(struct fmt *f, const char *source, bool up)
{
	struct fmt_labels l = { .n = 0 };

	fmt_label(&l, "source", source);
	fmt_u64(f, "picsec_scrape_source_up", &l, up ? 1 : 0);
}

static void
fmt_scrape(struct fmt *f)
{
	const struct metricsd_input *in = f->in;
	char name[128];
	size_t i;

	fmt_family(f, "picsec_scrape_duration_seconds", "gauge",
	    "How long collecting this scrape from the services took.");
	fmt_f64(f, "picsec_scrape_duration_seconds", NULL, in->duration_seconds);
	fmt_family(f, "picsec_scrape_source_up", "gauge",
	    "Whether the service answered this scrape in time (1) or not (0).");
	fmt_source(f, "healthd", in->services != NULL);
	fmt_source(f, "sadb", in->sas != NULL);
	fmt_source(f, "iked", in->ike != NULL);
	fmt_source(f, "configd", in->config != NULL);
	for (i = 0; i < in->npics; i++) {
		snprintf(name, sizeof(name), "fwd.%s", in->pics[i].name);
		fmt_source(f, name, in->pics[i].stats != NULL);
	}
}

static const char *const state_names[] = {
	[PICSEC__V1__SERVICE_STATE_KIND__SERVICE_INIT] = "init",
	[PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP] = "up",
	[PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UNRESPONSIVE] = "unresponsive",
	[PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN] = "down",
};

/* A family with one sample per process; fn writes it (or not). */
typedef void fmt_process_fn(struct fmt *f, const char *family,
    const Picsec__V1__ServiceInfo *s, struct fmt_labels *l);

static void
fmt_process_family(struct fmt *f, const char *name, const char *type, const char *help,
    fmt_process_fn *fn)
{
	const Picsec__V1__ServiceList *list = f->in->services;
	struct fmt_labels l;
	size_t i;

	fmt_family(f, name, type, help);
	for (i = 0; i < list->n_services; i++) {
		l = (struct fmt_labels){ .n = 0 };
		fmt_label(&l, "name", list->services[i]->name);
		fn(f, name, list->services[i], &l);
	}
}

static void
fmt_process_up(struct fmt *f, const char *family, const Picsec__V1__ServiceInfo *s,
    struct fmt_labels *l)
{
	fmt_u64(f, family, l, s->state == PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP);
}

static void
fmt_process_state(struct fmt *f, const char *family, const Picsec__V1__ServiceInfo *s,
    struct fmt_labels *l)
{
	size_t k;

	fmt_label(l, "state", "");
	for (k = 0; k < sizeof(state_names) / sizeof(state_names[0]); k++) {
		l->v[l->n - 1] = state_names[k];
		fmt_u64(f, family, l, (size_t)s->state == k);
	}
}

static void
fmt_process_restarts(struct fmt *f, const char *family, const Picsec__V1__ServiceInfo *s,
    struct fmt_labels *l)
{
	fmt_u64(f, family, l, s->restarts);
}

static void
fmt_process_start(struct fmt *f, const char *family, const Picsec__V1__ServiceInfo *s,
    struct fmt_labels *l)
{
	if (s->started_ns != 0)
		fmt_seconds_ns(f, family, l, s->started_ns);
}

/* The incarnation is a random 64-bit number: as a sample value (a double) it would lose
 * its low bits, and as a label of every family it would start new series of every counter
 * at each restart. So it is the label of an info metric of its own, in hexadecimal as the
 * logs and busmon print it. */
static void
fmt_process_incarnation(struct fmt *f, const char *family, const Picsec__V1__ServiceInfo *s,
    struct fmt_labels *l)
{
	char hex[FMT_NUM_MAX];

	if (s->incarnation == 0)
		return;
	snprintf(hex, sizeof(hex), "%016" PRIx64, s->incarnation);
	fmt_label(l, "incarnation", hex);
	fmt_u64(f, family, l, 1);
}

static void
fmt_process_heartbeat(struct fmt *f, const char *family, const Picsec__V1__ServiceInfo *s,
    struct fmt_labels *l)
{
	if (s->state != PICSEC__V1__SERVICE_STATE_KIND__SERVICE_INIT)
		fmt_f64(f, family, l, (double)s->heartbeat_age_ms / 1000.0);
}

static void
fmt_processes(struct fmt *f)
{
	if (f->in->services == NULL)
		return;
	fmt_process_family(f, "picsec_process_up", "gauge",
	    "Whether the process is up (its hello and heartbeats arrive), as healthd sees it.",
	    fmt_process_up);
	fmt_process_family(f, "picsec_process_state", "gauge",
	    "The process's state as healthd sees it: 1 for the current one.",
	    fmt_process_state);
	fmt_process_family(f, "picsec_process_restarts_total", "counter",
	    "How often the process came back since healthd started.", fmt_process_restarts);
	fmt_process_family(f, "picsec_process_start_time_seconds", "gauge",
	    "When the process started, in seconds since the epoch.", fmt_process_start);
	fmt_process_family(f, "picsec_process_incarnation_info", "gauge",
	    "The random 64-bit incarnation of the running process (hexadecimal); a new one "
	    "means a restart.", fmt_process_incarnation);
	fmt_process_family(f, "picsec_process_heartbeat_age_seconds", "gauge",
	    "Time since healthd last heard from the process.", fmt_process_heartbeat);
}

static void
fmt_config(struct fmt *f)
{
	const Picsec__V1__ConfigSnapshot *c = f->in->config;

	if (c == NULL)
		return;
	fmt_family(f, "picsec_config_generation", "gauge",
	    "The generation of the committed configuration.");
	fmt_u64(f, "picsec_config_generation", NULL, c->generation);
	fmt_family(f, "picsec_config_last_commit_time_seconds", "gauge",
	    "When the committed configuration was committed, in seconds since the epoch.");
	fmt_seconds_ns(f, "picsec_config_last_commit_time_seconds", NULL, c->committed_ns);
}

static struct u64map *
fmt_index_sas(const Picsec__V1__SaList *list, struct strbuf *out)
{
	struct u64map *m;
	size_t i;

	if (list == NULL)
		return NULL;
	if ((m = u64map_new()) == NULL)
		goto oom;
	for (i = 0; i < list->n_sas; i++) {
		if (list->sas[i]->sa == NULL || list->sas[i]->sa->id == 0)
			continue;
		if (u64map_put(m, list->sas[i]->sa->id, list->sas[i]) == -1)
			goto oom;
	}
	return m;
oom:
	u64map_free(m);
	out->failed = true;
	return NULL;
}

void
metricsd_format(struct strbuf *out, const struct metricsd_input *in)
{
	struct fmt f = { .out = out, .in = in };

	f.sa_by_id = fmt_index_sas(in->sas, out);
	fmt_scrape(&f);
	fmt_processes(&f);
	fmt_sas(&f);
	fmt_pics(&f);
	fmt_ike(&f);
	fmt_config(&f);
	fmt_tunnels(&f);
	u64map_free(f.sa_by_id);
}
