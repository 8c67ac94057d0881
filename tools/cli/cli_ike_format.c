/* The words and the text and JSON of the IKE show and clear commands (cli_ike.h). Layout
 * and words follow Junos' services ipsec-vpn ike (junos-features.md §10.1, §10.2, §10.5);
 * the JSON uses Junos' XML element names. Nothing here talks to the bus. */
#include "cli_ike.h"
#include "cli_json.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "pbprint.h"
#include "cli_words.h"

#define IKE_PROTO(x) PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_##x

static const char *const ike_keywords[] = { "brief", "detail", NULL };


int
cli_ike_parse_args(char **args, int nargs, bool keywords, struct cli_ike_args *a, char *err,
    size_t errlen)
{
	struct in_addr in;
	const char *k;
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < nargs; i++) {
		if (keywords && (k = cli_keyword(args[i], ike_keywords)) != NULL) {
			a->detail = strcmp(k, "detail") == 0;
			continue;
		}
		/* inet_pton takes exactly four decimal parts: no "10.1", no hex, no octal. */
		if (inet_pton(AF_INET, args[i], &in) != 1) {
			snprintf(err, errlen, "invalid peer address '%s' (expected %sa dotted IPv4 "
			    "address)", args[i], keywords ? "brief, detail or " : "");
			return -1;
		}
		if (a->has_peer) {
			snprintf(err, errlen, "one peer address only, not '%s' and '%s'",
			    a->peer_text, args[i]);
			return -1;
		}
		a->has_peer = true;
		memcpy(a->peer, &in.s_addr, sizeof(a->peer));
		if (inet_ntop(AF_INET, &in, a->peer_text, sizeof(a->peer_text)) == NULL)
			snprintf(a->peer_text, sizeof(a->peer_text), "?");
	}
	return 0;
}

/* "192.0.2.1", or "-" for an address the SA has not (yet). */
static const char *
addr_text(char *buf, size_t len, const Picsec__V1__IpAddress *a)
{
	if (a == NULL || (a->addr.len != 4 && a->addr.len != 16))
		return "-";
	if (inet_ntop(a->addr.len == 4 ? AF_INET : AF_INET6, a->addr.data, buf,
	    (socklen_t)len) == NULL)
		return "?";
	return buf;
}

static const char *const proto_words[] = {
	[IKE_PROTO(AH)] = "AH",
	[IKE_PROTO(ESP)] = "ESP",
	[IKE_PROTO(BUNDLE)] = "AH/ESP",
};

static const char *
proto_word(Picsec__V1__IpsecProtocol p)
{
	return (size_t)p < ARRAY_SIZE(proto_words) && proto_words[p] != NULL ? proto_words[p] :
	    "-";
}

/* name, or absent when iked sent none: an algorithm not negotiated (yet) is "-", no
 * integrity with an AEAD "none". */
static const char *
text_or(const char *name, const char *absent)
{
	return name != NULL && name[0] != '\0' ? name : absent;
}

/* Junos' keyword for a DH group: "group14"; 0 is absent. */
static const char *
group_text(char *buf, size_t len, uint32_t group, const char *absent)
{
	if (group == 0)
		return absent;
	snprintf(buf, len, "group%" PRIu32, group);
	return buf;
}

static const char *
lifetime_text(char *buf, size_t len, uint64_t seconds, const char *absent)
{
	if (seconds == 0)
		return absent;
	snprintf(buf, len, "Expires in %" PRIu64 " seconds", seconds);
	return buf;
}

static void
spi_text(char *buf, size_t len, uint64_t spi, int digits)
{
	snprintf(buf, len, "%0*" PRIx64, digits, spi);
}

/*
 * The SAs in display order: by remote address (IPv4 before IPv6), port, then cookies.
 */
static int
addr_cmp(const Picsec__V1__IpAddress *a, const Picsec__V1__IpAddress *b)
{
	size_t la = a != NULL ? a->addr.len : 0, lb = b != NULL ? b->addr.len : 0;

	if (la != lb)
		return la < lb ? -1 : 1;
	return la == 0 ? 0 : memcmp(a->addr.data, b->addr.data, la);
}

static int
sa_cmp(const void *pa, const void *pb)
{
	const Picsec__V1__IkeSaInfo *a = *(const Picsec__V1__IkeSaInfo *const *)pa;
	const Picsec__V1__IkeSaInfo *b = *(const Picsec__V1__IkeSaInfo *const *)pb;
	int c;

	if ((c = addr_cmp(a->remote_address, b->remote_address)) != 0)
		return c;
	if (a->remote_port != b->remote_port)
		return a->remote_port < b->remote_port ? -1 : 1;
	if (a->initiator_spi != b->initiator_spi)
		return a->initiator_spi < b->initiator_spi ? -1 : 1;
	return a->responder_spi < b->responder_spi ? -1 : a->responder_spi > b->responder_spi;
}

/* The SAs sorted (free the array), or NULL for none; running out of memory fails out. */
static const Picsec__V1__IkeSaInfo **
sa_sorted(struct strbuf *out, const Picsec__V1__IkeList *list, size_t *np)
{
	const Picsec__V1__IkeSaInfo **sas;
	size_t i, n = 0;

	*np = 0;
	if (list == NULL || list->n_sas == 0)
		return NULL;
	if ((sas = calloc(list->n_sas, sizeof(*sas))) == NULL) {
		out->failed = true;
		return NULL;
	}
	for (i = 0; i < list->n_sas; i++) {
		if (list->sas[i] != NULL)
			sas[n++] = list->sas[i];
	}
	qsort(sas, n, sizeof(*sas), sa_cmp);
	*np = n;
	return sas;
}

static const char *
state_word(const Picsec__V1__IkeSaInfo *sa)
{
	return sa->matured ? "Matured" : "Not matured";
}

static const char *
role_word(const Picsec__V1__IkeSaInfo *sa)
{
	return sa->initiator ? "Initiator" : "Responder";
}

/* Junos' brief table; the address column widens for an IPv6 peer. */
static void
sas_brief_text(struct strbuf *out, const Picsec__V1__IkeSaInfo *const *sas, size_t n)
{
	char addr[INET6_ADDRSTRLEN], icookie[17], rcookie[17];
	size_t i, len, width = strlen("Remote Address");

	for (i = 0; i < n; i++) {
		len = strlen(addr_text(addr, sizeof(addr), sas[i]->remote_address));
		if (len > width)
			width = len;
	}
	width += 2;
	strbuf_addf(out, "%-*s%-13s%-18s%-18s%s\n", (int)width, "Remote Address", "State",
	    "Initiator cookie", "Responder cookie", "Exchange type");
	for (i = 0; i < n; i++) {
		spi_text(icookie, sizeof(icookie), sas[i]->initiator_spi, 16);
		spi_text(rcookie, sizeof(rcookie), sas[i]->responder_spi, 16);
		strbuf_addf(out, "%-*s%-13s%-18s%-18s%s\n", (int)width,
		    addr_text(addr, sizeof(addr), sas[i]->remote_address), state_word(sas[i]),
		    icookie, rcookie, "IKEv2");
	}
}

static void
child_text(struct strbuf *out, const Picsec__V1__IkeChildInfo *c)
{
	char in[11], outb[11], grp[32], life[64];

	spi_text(in, sizeof(in), c->spi_in, 8);
	spi_text(outb, sizeof(outb), c->spi_out, 8);
	strbuf_addf(out, "  Child SA: %s, Inbound SPI: 0x%s, Outbound SPI: 0x%s\n",
	    proto_word(c->protocol), in, outb);
	strbuf_addf(out, "   Encryption: %s, Authentication: %s, PFS group: %s\n",
	    text_or(c->encryption, "-"), text_or(c->authentication, "none"),
	    group_text(grp, sizeof(grp), c->pfs_group, "none"));
	strbuf_addf(out, "   Lifetime: %s\n", lifetime_text(life, sizeof(life),
	    c->expires_seconds, "none"));
}

static void
sa_detail_text(struct strbuf *out, const Picsec__V1__IkeSaInfo *sa)
{
	char raddr[INET6_ADDRSTRLEN], laddr[INET6_ADDRSTRLEN], icookie[17], rcookie[17];
	char grp[32], life[64];
	size_t i;

	spi_text(icookie, sizeof(icookie), sa->initiator_spi, 16);
	spi_text(rcookie, sizeof(rcookie), sa->responder_spi, 16);
	strbuf_addf(out, "IKE peer %s\n", addr_text(raddr, sizeof(raddr), sa->remote_address));
	strbuf_addf(out, "  Role: %s, State: %s\n", role_word(sa), state_word(sa));
	strbuf_addf(out, "  Initiator cookie: %s, Responder cookie: %s\n", icookie, rcookie);
	strbuf_adds(out, "  Exchange type: IKEv2, Authentication method: Pre-shared-keys\n");
	strbuf_addf(out, "  Local: %s:%" PRIu32 ", Remote: %s:%" PRIu32 "\n",
	    addr_text(laddr, sizeof(laddr), sa->local_address), sa->local_port,
	    addr_text(raddr, sizeof(raddr), sa->remote_address), sa->remote_port);
	strbuf_addf(out, "  Lifetime: %s\n", lifetime_text(life, sizeof(life),
	    sa->expires_seconds, "Not established"));
	if (sa->service_set[0] != '\0')
		strbuf_addf(out, "  Service set: %s, Rule: %s, Term: %s\n", sa->service_set,
		    sa->rule, sa->term);
	if (sa->local_id[0] != '\0' || sa->remote_id[0] != '\0')
		strbuf_addf(out, "  Local identity: %s\n  Remote identity: %s\n",
		    text_or(sa->local_id, "-"), text_or(sa->remote_id, "-"));
	strbuf_addf(out, "  NAT traversal: %s\n", sa->nat_detected ?
	    "NAT detected, UDP port 4500" : "No NAT detected");
	if (sa->state[0] != '\0')
		strbuf_addf(out, "  Negotiation state: %s\n", sa->state);
	strbuf_addf(out, "  Algorithms:\n"
	    "   Authentication        : %s\n"
	    "   Encryption            : %s\n"
	    "   Pseudo random function: %s\n"
	    "   DH group              : %s\n",
	    text_or(sa->integrity, sa->encryption[0] != '\0' ? "none" : "-"),
	    text_or(sa->encryption, "-"), text_or(sa->prf, "-"),
	    group_text(grp, sizeof(grp), sa->dh_group, "-"));
	strbuf_addf(out, "  Traffic statistics:\n"
	    "   Input  bytes  : %20" PRIu64 "\n"
	    "   Output bytes  : %20" PRIu64 "\n"
	    "   Input  packets: %20" PRIu64 "\n"
	    "   Output packets: %20" PRIu64 "\n",
	    sa->input_bytes, sa->output_bytes, sa->input_packets, sa->output_packets);
	strbuf_addf(out, "  IPsec security associations: %" PRIu32 " created, %" PRIu32
	    " deleted\n  IPsec rekeys: %" PRIu32 "\n", sa->children_created,
	    sa->children_deleted, sa->child_rekeys);
	for (i = 0; i < sa->n_children; i++) {
		if (sa->children[i] != NULL)
			child_text(out, sa->children[i]);
	}
}

static void
child_json(struct jw *j, const Picsec__V1__IkeChildInfo *c)
{
	char spi[16], grp[32], life[64];

	jw_open(j, NULL, '{');
	jw_str(j, "sa-protocol", proto_word(c->protocol));
	snprintf(spi, sizeof(spi), "0x%08" PRIx32, c->spi_in);
	jw_str(j, "sa-inbound-spi", spi);
	snprintf(spi, sizeof(spi), "0x%08" PRIx32, c->spi_out);
	jw_str(j, "sa-outbound-spi", spi);
	jw_str(j, "sa-encryption-algorithm", text_or(c->encryption, "-"));
	jw_str(j, "sa-authentication-algorithm", text_or(c->authentication, "none"));
	jw_str(j, "sa-pfs-group", group_text(grp, sizeof(grp), c->pfs_group, "none"));
	jw_str(j, "sa-lifetime", lifetime_text(life, sizeof(life), c->expires_seconds, "none"));
	jw_close(j, '}');
}

static void
sa_json(struct jw *j, const Picsec__V1__IkeSaInfo *sa, bool detail)
{
	char buf[INET6_ADDRSTRLEN + 32];
	size_t i;

	jw_open(j, NULL, '{');
	jw_str(j, "ike-sa-remote-address", addr_text(buf, sizeof(buf), sa->remote_address));
	jw_str(j, "ike-sa-state", sa->matured ? "matured" : "not matured");
	spi_text(buf, sizeof(buf), sa->initiator_spi, 16);
	jw_str(j, "ike-sa-initiator-cookie", buf);
	spi_text(buf, sizeof(buf), sa->responder_spi, 16);
	jw_str(j, "ike-sa-responder-cookie", buf);
	jw_str(j, "ike-sa-exchange-type", "IKEv2");
	jw_str(j, "ike-sa-role", role_word(sa));
	if (detail) {
		jw_str(j, "ike-sa-authentication-method", "Pre-shared-keys");
		jw_str(j, "ike-sa-local-address", addr_text(buf, sizeof(buf), sa->local_address));
		jw_u64(j, "ike-sa-local-port", sa->local_port);
		jw_u64(j, "ike-sa-remote-port", sa->remote_port);
		jw_str(j, "ike-sa-lifetime", lifetime_text(buf, sizeof(buf), sa->expires_seconds,
		    "Not established"));
		jw_str(j, "ike-sa-negotiation-state", sa->state);
		jw_str(j, "ike-sa-service-set", sa->service_set);
		jw_str(j, "ike-sa-rule", sa->rule);
		jw_str(j, "ike-sa-term", sa->term);
		jw_str(j, "ike-sa-local-identity", sa->local_id);
		jw_str(j, "ike-sa-remote-identity", sa->remote_id);
		jw_bool(j, "ike-sa-nat-detected", sa->nat_detected);
		jw_str(j, "ike-sa-authentication-algorithm",
		    text_or(sa->integrity, sa->encryption[0] != '\0' ? "none" : "-"));
		jw_str(j, "ike-sa-encryption-algorithm", text_or(sa->encryption, "-"));
		jw_str(j, "ike-sa-prf-algorithm", text_or(sa->prf, "-"));
		jw_str(j, "ike-sa-dhgroup", group_text(buf, sizeof(buf), sa->dh_group, "-"));
		jw_u64(j, "ike-sa-input-bytes", sa->input_bytes);
		jw_u64(j, "ike-sa-output-bytes", sa->output_bytes);
		jw_u64(j, "ike-sa-input-packets", sa->input_packets);
		jw_u64(j, "ike-sa-output-packets", sa->output_packets);
		jw_u64(j, "ike-sa-ipsec-sa-created", sa->children_created);
		jw_u64(j, "ike-sa-ipsec-sa-deleted", sa->children_deleted);
		jw_u64(j, "ike-sa-ipsec-sa-rekeys", sa->child_rekeys);
		jw_open(j, "ipsec-security-associations", '[');
		for (i = 0; i < sa->n_children; i++) {
			if (sa->children[i] != NULL)
				child_json(j, sa->children[i]);
		}
		jw_close(j, ']');
	}
	jw_close(j, '}');
}

void
cli_ike_format_sas(struct strbuf *out, const Picsec__V1__IkeList *list, bool detail,
    bool json)
{
	const Picsec__V1__IkeSaInfo **sas;
	struct jw j = { .out = out };
	size_t i, n;

	sas = sa_sorted(out, list, &n);
	if (json) {
		jw_open(&j, NULL, '{');
		jw_open(&j, "ike-security-associations-information", '[');
		for (i = 0; i < n; i++)
			sa_json(&j, sas[i], detail);
		jw_close(&j, ']');
		jw_close(&j, '}');
	} else if (n == 0) {
		strbuf_adds(out, "No IKE SAs\n");
	} else if (!detail) {
		sas_brief_text(out, sas, n);
	} else {
		for (i = 0; i < n; i++) {
			if (i > 0)
				strbuf_addc(out, '\n');
			sa_detail_text(out, sas[i]);
		}
	}
	free(sas);
}

/*
 * Statistics: every IkeStats counter, in groups, under a label and a JSON name.
 */
#define STAT(field) offsetof(Picsec__V1__IkeStats, field)

static const struct ike_stat {
	const char *group;	/* a heading before this counter, or NULL */
	const char *label;
	const char *json;
	size_t offset;		/* of its uint64_t in IkeStats */
} ike_stats[] = {
	{ "Packets", "Input packets:", "input-packets", STAT(in_packets) },
	{ NULL, "Output packets:", "output-packets", STAT(out_packets) },
	{ NULL, "Retransmissions:", "retransmissions", STAT(retransmissions) },
	{ "Dropped packets", "Malformed:", "dropped-malformed", STAT(dropped_malformed) },
	{ NULL, "Unknown SPI:", "dropped-unknown-spi", STAT(dropped_unknown_spi) },
	{ NULL, "Other:", "dropped-other", STAT(dropped_other) },
	{ "IKE SA negotiations", "IKE_SA_INIT requests received:",
	    "ike-sa-init-requests-received", STAT(sa_init_requests_in) },
	{ NULL, "IKE_SA_INIT requests sent:", "ike-sa-init-requests-sent",
	    STAT(sa_init_requests_out) },
	{ NULL, "Established:", "ike-sa-established", STAT(established) },
	{ NULL, "Failed:", "ike-sa-failed", STAT(failed) },
	{ NULL, "No proposal chosen:", "no-proposal-chosen", STAT(no_proposal_chosen) },
	{ NULL, "Authentication failed:", "authentication-failed",
	    STAT(authentication_failed) },
	{ NULL, "Cookies sent:", "cookies-sent", STAT(cookies_sent) },
	{ NULL, "Invalid KE payloads sent:", "invalid-ke-sent", STAT(invalid_ke_sent) },
	{ NULL, "Invalid KE payloads received:", "invalid-ke-received",
	    STAT(invalid_ke_received) },
	{ "Rekeys", "IKE SA rekeys:", "ike-sa-rekeys", STAT(ike_sa_rekeys) },
	{ NULL, "IPsec SA rekeys:", "ipsec-sa-rekeys", STAT(child_sa_rekeys) },
	{ NULL, "IPsec SAs installed:", "ipsec-sa-installed", STAT(child_sas_installed) },
	{ "Delete payloads", "Received:", "delete-payloads-received", STAT(delete_payloads_in) },
	{ NULL, "Sent:", "delete-payloads-sent", STAT(delete_payloads_out) },
	{ "Invalid SPI notifications", "Received:", "invalid-spi-notifications-received",
	    STAT(invalid_spi_notifies_in) },
	{ NULL, "Sent:", "invalid-spi-notifications-sent", STAT(invalid_spi_notifies_out) },
	{ "Dead peer detection", "Requests sent:", "dpd-requests-sent", STAT(dpd_requests_out) },
	{ NULL, "Responses received:", "dpd-responses-received", STAT(dpd_responses_in) },
	{ NULL, "Requests received:", "dpd-requests-received", STAT(dpd_requests_in) },
	{ NULL, "Failures:", "dpd-failures", STAT(dpd_failures) },
};

static uint64_t
stat_value(const Picsec__V1__IkeStats *st, const struct ike_stat *s)
{
	uint64_t v;

	memcpy(&v, (const char *)st + s->offset, sizeof(v));
	return v;
}

void
cli_ike_format_stats(struct strbuf *out, const Picsec__V1__IkeStats *st, const char *peer,
    bool json)
{
	Picsec__V1__IkeStats none = PICSEC__V1__IKE_STATS__INIT;
	struct jw j = { .out = out };
	size_t i;

	if (st == NULL)
		st = &none;
	if (json) {
		jw_open(&j, NULL, '{');
		jw_open(&j, "ike-security-associations-statistics", '{');
		if (peer != NULL)
			jw_str(&j, "ike-sa-remote-address", peer);
		for (i = 0; i < ARRAY_SIZE(ike_stats); i++)
			jw_u64(&j, ike_stats[i].json, stat_value(st, &ike_stats[i]));
		jw_close(&j, '}');
		jw_close(&j, '}');
		return;
	}
	if (peer != NULL)
		strbuf_addf(out, "IKE statistics for peer %s:\n", peer);
	else
		strbuf_adds(out, "IKE statistics:\n");
	/* The numbers right-aligned in one column. */
	for (i = 0; i < ARRAY_SIZE(ike_stats); i++) {
		if (ike_stats[i].group != NULL)
			strbuf_addf(out, "  %s:\n", ike_stats[i].group);
		strbuf_addf(out, "    %s%*" PRIu64 "\n", ike_stats[i].label,
		    (int)(42 - strlen(ike_stats[i].label)), stat_value(st, &ike_stats[i]));
	}
}

void
cli_ike_format_cleared(struct strbuf *out, const Picsec__V1__IkeCleared *c, bool json)
{
	struct pbprint_opts po = { .style = PBPRINT_JSON };

	if (json) {
		pbprint(out, &c->base, &po);
		strbuf_addc(out, '\n');
		return;
	}
	strbuf_addf(out, "Cleared %" PRIu32 " IKE SA%s\n", c->count, c->count == 1 ? "" : "s");
}
