/* The SA families: sadb's SAs and their states, and the PICs' Junos counters per SA (named
 * by sadb's list) and per service set. */
#include "metricsd_format_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "u64map.h"

#define SA_CTR(field) offsetof(Picsec__V1__SaCounters, field)

/* The per-SA error counters of show services ipsec-vpn ipsec statistics. */
static const struct {
	const char *reason;
	size_t offset;
} sa_errors[] = {
	{ "esp_authentication_failures", SA_CTR(esp_auth_failures) },
	{ "ah_authentication_failures", SA_CTR(ah_auth_failures) },
	{ "replay_errors", SA_CTR(replay_errors) },
	{ "decryption_failures", SA_CTR(decrypt_failures) },
	{ "bad_headers", SA_CTR(bad_headers) },
	{ "bad_trailers", SA_CTR(bad_trailers) },
	{ "mtu_exceeded", SA_CTR(mtu_exceeded) },
	{ "sequence_exhausted", SA_CTR(seq_exhausted) },
};

static uint64_t
sa_counter(const Picsec__V1__SaCounters *c, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)c + offset, sizeof(v));
	return v;
}

/* The labels that name an SA; spi is the caller's buffer for the number. */
static void
sa_labels(struct fmt_labels *l, const char *pic, const Picsec__V1__Sa *sa, char *spi,
    size_t spilen)
{
	snprintf(spi, spilen, "%" PRIu32, sa->spi);
	*l = (struct fmt_labels){ .n = 0 };
	fmt_label(l, "pic", pic);
	fmt_label(l, "service_set", sa->service_set);
	fmt_label(l, "rule", sa->rule);
	fmt_label(l, "term", sa->term);
	fmt_label(l, "direction", fmt_direction(sa->direction));
	fmt_label(l, "protocol", fmt_protocol(sa->protocol));
	fmt_label(l, "spi", spi);
}

static const char *
sa_state_name(bool installed)
{
	return installed ? "Installed" : "Not Installed";
}

/* Installed and not installed SAs per service set, in order of first appearance. */
struct set_count {
	const char *name;
	uint64_t installed, not_installed;
};

static void
fmt_set_counts(struct fmt *f, const Picsec__V1__SaList *list)
{
	struct set_count *sets;
	struct fmt_labels l;
	size_t i, k, n = 0;
	const Picsec__V1__SaInfo *si;

	fmt_family(f, "picsec_service_set_sas", "gauge",
	    "The service set's SAs in each state (Installed: a PIC holds and uses it).");
	if ((sets = calloc(list->n_sas + 1, sizeof(*sets))) == NULL) {
		f->out->failed = true;
		return;
	}
	for (i = 0; i < list->n_sas; i++) {
		si = list->sas[i];
		if (si->sa == NULL)
			continue;
		for (k = 0; k < n && strcmp(sets[k].name, si->sa->service_set) != 0; k++)
			;
		if (k == n)
			sets[n++].name = si->sa->service_set;
		if (si->installed)
			sets[k].installed++;
		else
			sets[k].not_installed++;
	}
	for (k = 0; k < n; k++) {
		l = (struct fmt_labels){ .n = 0 };
		fmt_label(&l, "service_set", sets[k].name);
		fmt_label(&l, "state", sa_state_name(true));
		fmt_u64(f, "picsec_service_set_sas", &l, sets[k].installed);
		l.v[l.n - 1] = sa_state_name(false);
		fmt_u64(f, "picsec_service_set_sas", &l, sets[k].not_installed);
	}
	free(sets);
}

void
fmt_sas(struct fmt *f)
{
	const Picsec__V1__SaList *list = f->in->sas;
	const Picsec__V1__SaInfo *si;
	struct fmt_labels l;
	char spi[FMT_NUM_MAX];
	size_t i;

	if (list == NULL)
		return;
	fmt_family(f, "picsec_sa_state", "gauge",
	    "The SA's state as sadb has it: 1 for the current one.");
	for (i = 0; i < list->n_sas; i++) {
		if ((si = list->sas[i])->sa == NULL)
			continue;
		sa_labels(&l, si->pic, si->sa, spi, sizeof(spi));
		fmt_label(&l, "state", sa_state_name(true));
		fmt_u64(f, "picsec_sa_state", &l, si->installed);
		l.v[l.n - 1] = sa_state_name(false);
		fmt_u64(f, "picsec_sa_state", &l, !si->installed);
	}
	fmt_set_counts(f, list);
}

/* What the SA carried: AH counts for AH, ESP for ESP and bundles (whose AH counts the same
 * packets again). Bytes are the inner packets' (Junos' encrypted and decrypted bytes). */
static uint64_t
sa_bytes(const Picsec__V1__Sa *sa, const Picsec__V1__SaCounters *c)
{
	return sa->protocol == PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH ? c->ah_bytes :
	    c->esp_bytes;
}

static uint64_t
sa_packets(const Picsec__V1__Sa *sa, const Picsec__V1__SaCounters *c)
{
	return sa->protocol == PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH ? c->ah_packets :
	    c->esp_packets;
}

enum sa_family { SA_BYTES, SA_PACKETS, SA_ERRORS };

/* One family of per-SA counters over every PIC that answered. An SA sadb did not list
 * (sadb did not answer, or it went between the two answers) has no names and is left out. */
static void
fmt_sa_counters(struct fmt *f, const char *name, const char *help, enum sa_family which)
{
	const Picsec__V1__PicStats *ps;
	const Picsec__V1__SaCounters *c;
	const Picsec__V1__SaInfo *si;
	struct fmt_labels l;
	char spi[FMT_NUM_MAX];
	size_t p, i, k;

	fmt_family(f, name, "counter", help);
	for (p = 0; p < f->in->npics; p++) {
		if ((ps = f->in->pics[p].stats) == NULL)
			continue;
		for (i = 0; i < ps->n_sas; i++) {
			c = ps->sas[i];
			if (c->id == 0 || (si = u64map_get(f->sa_by_id, c->id)) == NULL)
				continue;
			sa_labels(&l, f->in->pics[p].name, si->sa, spi, sizeof(spi));
			if (which == SA_BYTES) {
				fmt_u64(f, name, &l, sa_bytes(si->sa, c));
				continue;
			}
			if (which == SA_PACKETS) {
				fmt_u64(f, name, &l, sa_packets(si->sa, c));
				continue;
			}
			fmt_label(&l, "reason", "");
			for (k = 0; k < sizeof(sa_errors) / sizeof(sa_errors[0]); k++) {
				l.v[l.n - 1] = sa_errors[k].reason;
				fmt_u64(f, name, &l, sa_counter(c, sa_errors[k].offset));
			}
		}
	}
}

static void
fmt_set_errors(struct fmt *f)
{
	const Picsec__V1__PicStats *ps;
	const Picsec__V1__ServiceSetCounters *c;
	struct fmt_labels l;
	size_t p, i;

	fmt_family(f, "picsec_service_set_errors_total", "counter",
	    "Packets of the service set a PIC dropped: invalid_spi (inbound ESP or AH whose SPI "
	    "no SA has), no_sa (outbound traffic a rule matched without an SA to use).");
	for (p = 0; p < f->in->npics; p++) {
		if ((ps = f->in->pics[p].stats) == NULL)
			continue;
		for (i = 0; i < ps->n_service_sets; i++) {
			c = ps->service_sets[i];
			l = (struct fmt_labels){ .n = 0 };
			fmt_label(&l, "pic", f->in->pics[p].name);
			fmt_label(&l, "service_set", c->service_set);
			fmt_label(&l, "reason", "invalid_spi");
			fmt_u64(f, "picsec_service_set_errors_total", &l, c->invalid_spi);
			l.v[l.n - 1] = "no_sa";
			fmt_u64(f, "picsec_service_set_errors_total", &l, c->no_sa);
		}
	}
}

void
fmt_pics(struct fmt *f)
{
	size_t p;
	bool any = false;

	for (p = 0; p < f->in->npics; p++)
		any = any || f->in->pics[p].stats != NULL;
	if (!any)
		return;
	if (f->sa_by_id != NULL) {
		fmt_sa_counters(f, "picsec_sa_bytes_total",
		    "Bytes of the inner packets the SA carried: encrypted (outbound) or "
		    "decrypted (inbound).", SA_BYTES);
		fmt_sa_counters(f, "picsec_sa_packets_total",
		    "Packets the SA carried: encrypted (outbound) or decrypted (inbound).",
		    SA_PACKETS);
		fmt_sa_counters(f, "picsec_sa_errors_total",
		    "Packets of the SA the PIC dropped, by reason.", SA_ERRORS);
	}
	fmt_set_errors(f);
}
