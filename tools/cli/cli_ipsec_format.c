/* The text and JSON of the IPsec show commands (cli_ipsec.h). Layout and words follow Junos'
 * services ipsec-vpn (junos-features.md §10.3-10.5); the JSON uses Junos' XML element names.
 * Nothing here talks to the bus, so the unit tests see exactly what the CLI prints. */
#include "cli_ipsec.h"
#include "cli_json.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

#define SA_DIR(x) PICSEC__V1__SA_DIRECTION__SA_DIRECTION_##x
#define SA_PROTO(x) PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_##x
#define SA_AUTH(x) PICSEC__V1__AUTH_ALGORITHM__AUTH_##x
#define SA_ENC(x) PICSEC__V1__ENC_ALGORITHM__ENC_##x
#define SA_DF(x) PICSEC__V1__DF_BIT__DF_BIT_##x
#define SA_ORIGIN(x) PICSEC__V1__SA_ORIGIN__SA_ORIGIN_##x
#define SA_MODE(x) PICSEC__V1__SA_MODE__SA_MODE_##x

#define NS_PER_S 1000000000ULL

/*
 * Junos' words for the enums; "-" for a value this CLI does not know (a newer sadb).
 */
static const char *const dir_words[] = {
	[SA_DIR(INBOUND)] = "inbound",
	[SA_DIR(OUTBOUND)] = "outbound",
	[SA_DIR(BIDIRECTIONAL)] = "bidirectional",
};
static const char *const proto_words[] = {
	[SA_PROTO(AH)] = "AH",
	[SA_PROTO(ESP)] = "ESP",
	[SA_PROTO(BUNDLE)] = "AH/ESP",
};
static const char *const mode_words[] = {
	[SA_MODE(TUNNEL)] = "tunnel",
	[SA_MODE(TRANSPORT)] = "transport",
};
static const char *const type_words[] = {
	[SA_ORIGIN(MANUAL)] = "manual",
	[SA_ORIGIN(DYNAMIC)] = "dynamic",
	[SA_ORIGIN(SECURITY_IPSEC)] = "manual",
};
static const char *const auth_words[] = {
	[SA_AUTH(NONE)] = "none",
	[SA_AUTH(HMAC_MD5_96)] = "hmac-md5-96",
	[SA_AUTH(HMAC_SHA1_96)] = "hmac-sha1-96",
	[SA_AUTH(HMAC_SHA256_128)] = "hmac-sha-256-128",
	[SA_AUTH(HMAC_SHA256_96)] = "hmac-sha-256-96",
};
static const char *const enc_words[] = {
	[SA_ENC(NULL)] = "null",
	[SA_ENC(DES_CBC)] = "des-cbc",
	[SA_ENC(3DES_CBC)] = "3des-cbc",
	[SA_ENC(AES128_CBC)] = "aes-128-cbc",
	[SA_ENC(AES192_CBC)] = "aes-192-cbc",
	[SA_ENC(AES256_CBC)] = "aes-256-cbc",
	[SA_ENC(AES128_GCM)] = "aes-128-gcm",
	[SA_ENC(AES192_GCM)] = "aes-192-gcm",
	[SA_ENC(AES256_GCM)] = "aes-256-gcm",
};
/* Left unset at every level the datapath copies the inner header's DF (dp_df's default). */
static const char *const df_words[] = {
	[SA_DF(UNSET)] = "copy",
	[SA_DF(CLEAR)] = "clear",
	[SA_DF(COPY)] = "copy",
	[SA_DF(SET)] = "set",
};

static const char *
word_of(const char *const *words, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && words[v] != NULL ? words[v] : "-";
}

#define WORD(table, v) word_of(table, ARRAY_SIZE(table), (int)(v))

static const char *
sa_encryption(const Picsec__V1__Sa *sa)
{
	/* AH has no cipher; ENC_NULL is ESP's authentication-only "null". */
	return sa->protocol == SA_PROTO(AH) ? "none" : WORD(enc_words, sa->enc_algorithm);
}

static const char *
sa_replay(const Picsec__V1__Sa *sa)
{
	if (sa->direction != SA_DIR(INBOUND))
		return "not applicable";	/* only a receiver checks sequence numbers */
	return sa->replay_window > 0 ? "enabled" : "disabled";
}

static bool
sa_manual(const Picsec__V1__Sa *sa)
{
	return sa->origin != SA_ORIGIN(DYNAMIC);
}

/* "192.0.2.1", or "none" for a gateway the SA has not (security ipsec SAs). */
static const char *
addr_text(char *buf, size_t len, const Picsec__V1__IpAddress *a)
{
	if (a == NULL || (a->addr.len != 4 && a->addr.len != 16))
		return "none";
	if (inet_ntop(a->addr.len == 4 ? AF_INET : AF_INET6, a->addr.data, buf,
	    (socklen_t)len) == NULL)
		return "?";
	return buf;
}

/* Junos' identity: "ipv4_subnet(any:0,[0..7]=10.1.0.0/24)"; an absent prefix is any, of the
 * gateways' family. */
static void
identity_text(char *buf, size_t len, const Picsec__V1__IpPrefix *p,
    const Picsec__V1__IpAddress *gw)
{
	char a[INET6_ADDRSTRLEN];
	bool v6;
	unsigned plen = 0;

	if (p != NULL && (p->addr.len == 4 || p->addr.len == 16)) {
		v6 = p->addr.len == 16;
		if (inet_ntop(v6 ? AF_INET6 : AF_INET, p->addr.data, a, sizeof(a)) == NULL)
			snprintf(a, sizeof(a), "?");
		plen = p->length;
	} else {
		v6 = gw != NULL && gw->addr.len == 16;
		snprintf(a, sizeof(a), "%s", v6 ? "::" : "0.0.0.0");
	}
	snprintf(buf, len, "%s(any:0,[0..%u]=%s/%u)", v6 ? "ipv6_subnet" : "ipv4_subnet",
	    v6 ? 31 : 7, a, plen);
}

/* "Expires in 3540 seconds", what is left of a lifetime counted from the SA's creation. */
static void
lifetime_text(char *buf, size_t len, const Picsec__V1__SaInfo *info, uint64_t seconds,
    uint64_t kbytes, uint64_t now_ns)
{
	uint64_t end, left;
	int n = 0;

	if (seconds == 0 && kbytes == 0) {
		snprintf(buf, len, "%s", sa_manual(info->sa) ? "Manual SA: no lifetime" : "none");
		return;
	}
	buf[0] = '\0';
	if (seconds > 0 && info->created_ns == 0) {
		n = snprintf(buf, len, "%" PRIu64 " seconds, not started", seconds);
	} else if (seconds > 0) {
		end = seconds < (UINT64_MAX - info->created_ns) / NS_PER_S ?
		    info->created_ns + seconds * NS_PER_S : UINT64_MAX;
		left = end > now_ns ? (end - now_ns) / NS_PER_S : 0;
		n = snprintf(buf, len, "Expires in %" PRIu64 " seconds", left);
	}
	if (kbytes > 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s%" PRIu64 " kilobytes",
		    n > 0 ? " or after " : "Expires after ", kbytes);
}

/*
 * The SAs in display order: service sets by name, then tunnels (service set, rule, term,
 * remote gateway) in the order of their terms, inbound before outbound.
 */
struct sa_row {
	const Picsec__V1__SaInfo *info;
	const Picsec__V1__Sa *sa;
	unsigned tunnel;	/* Junos' Tunnel index: 1-based within the service set */
};

static int
addr_cmp(const Picsec__V1__IpAddress *a, const Picsec__V1__IpAddress *b)
{
	size_t la = a != NULL ? a->addr.len : 0, lb = b != NULL ? b->addr.len : 0;

	if (la != lb)
		return la < lb ? -1 : 1;
	return la == 0 ? 0 : memcmp(a->addr.data, b->addr.data, la);
}

static int
tunnel_cmp(const Picsec__V1__Sa *a, const Picsec__V1__Sa *b)
{
	int c;

	if ((c = strcmp(a->service_set, b->service_set)) != 0)
		return c;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	if ((c = strcmp(a->rule, b->rule)) != 0)
		return c;
	if ((c = strcmp(a->term, b->term)) != 0)
		return c;
	return addr_cmp(a->remote_gateway, b->remote_gateway);
}

static int
row_cmp(const void *pa, const void *pb)
{
	const Picsec__V1__Sa *a = ((const struct sa_row *)pa)->sa;
	const Picsec__V1__Sa *b = ((const struct sa_row *)pb)->sa;
	int c;

	if ((c = tunnel_cmp(a, b)) != 0)
		return c;
	if (a->direction != b->direction)
		return a->direction < b->direction ? -1 : 1;
	if (a->spi != b->spi)
		return a->spi < b->spi ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* The rows (free them), or NULL for none; running out of memory fails out. */
static struct sa_row *
sa_rows(struct strbuf *out, const Picsec__V1__SaList *list, size_t *np)
{
	struct sa_row *rows;
	size_t i, n = 0;
	unsigned tunnel = 0;

	*np = 0;
	if (list == NULL || list->n_sas == 0)
		return NULL;
	if ((rows = calloc(list->n_sas, sizeof(*rows))) == NULL) {
		out->failed = true;
		return NULL;
	}
	for (i = 0; i < list->n_sas; i++) {
		if (list->sas[i]->sa == NULL)
			continue;	/* nothing to show of it */
		rows[n].info = list->sas[i];
		rows[n++].sa = list->sas[i]->sa;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(rows[i].sa->service_set, rows[i - 1].sa->service_set) != 0)
			tunnel = 0;
		if (i == 0 || tunnel_cmp(rows[i].sa, rows[i - 1].sa) != 0)
			tunnel++;
		rows[i].tunnel = tunnel;
	}
	*np = n;
	return rows;
}

/* Where the service set (or with tunnel, the tunnel) that rows[i] is in ends. */
static size_t
rows_end(const struct sa_row *rows, size_t n, size_t i, bool tunnel)
{
	size_t k;

	for (k = i + 1; k < n; k++) {
		if (strcmp(rows[k].sa->service_set, rows[i].sa->service_set) != 0)
			break;
		if (tunnel && rows[k].tunnel != rows[i].tunnel)
			break;
	}
	return k;
}

/* The tunnel's identities, from its first SA: an outbound SA carries local to remote
 * traffic, an inbound one remote to local. */
static void
tunnel_identities(const Picsec__V1__Sa *sa, char *local, char *remote, size_t len)
{
	bool out = sa->direction == SA_DIR(OUTBOUND);

	identity_text(local, len, out ? sa->source : sa->destination, sa->local_gateway);
	identity_text(remote, len, out ? sa->destination : sa->source, sa->local_gateway);
}

static void
sa_detail_text(struct strbuf *out, const struct sa_row *r, uint64_t now_ns)
{
	const Picsec__V1__Sa *sa = r->sa;
	char soft[96], hard[96];

	lifetime_text(soft, sizeof(soft), r->info, sa->soft_lifetime_seconds,
	    sa->soft_lifetime_kbytes, now_ns);
	lifetime_text(hard, sizeof(hard), r->info, sa->hard_lifetime_seconds,
	    sa->hard_lifetime_kbytes, now_ns);
	strbuf_addf(out, "    Direction: %s, SPI: %" PRIu32 ", AUX-SPI: %" PRIu32 "\n",
	    WORD(dir_words, sa->direction), sa->spi, sa->auxiliary_spi);
	strbuf_addf(out, "    Mode: %s, Type: %s, State: %s\n", WORD(mode_words, sa->mode),
	    WORD(type_words, sa->origin), r->info->installed ? "Installed" : "Not Installed");
	strbuf_addf(out, "    Protocol: %s, Authentication: %s, Encryption: %s\n",
	    WORD(proto_words, sa->protocol), WORD(auth_words, sa->auth_algorithm),
	    sa_encryption(sa));
	strbuf_addf(out, "    Soft lifetime: %s\n    Hard lifetime: %s\n", soft, hard);
	strbuf_addf(out, "    Anti-replay service: %s", sa_replay(sa));
	if (sa->direction == SA_DIR(INBOUND) && sa->replay_window > 0)
		strbuf_addf(out, ", Replay window size: %" PRIu32, sa->replay_window);
	strbuf_addf(out, "\n    Extended sequence number: %s\n",
	    sa->esn ? "enabled" : "disabled");
	if (sa->tunnel_mtu > 0)
		strbuf_addf(out, "    Tunnel MTU: %" PRIu32, sa->tunnel_mtu);
	else
		strbuf_adds(out, "    Tunnel MTU: none");
	strbuf_addf(out, ", DF bit: %s\n", WORD(df_words, sa->df_bit));
	/* 0 is "copy from the inner header" for both. */
	if (sa->ttl == 0)
		strbuf_adds(out, "    Copy TTL from inner IP header: Enabled\n");
	else
		strbuf_addf(out, "    Copy TTL from inner IP header: Disabled, TTL value: %" PRIu32
		    "\n", sa->ttl);
	if (sa->tos == 0)
		strbuf_adds(out, "    Copy ToS from inner IP header: Enabled\n");
	else
		strbuf_addf(out, "    Copy ToS from inner IP header: Disabled, ToS value: %" PRIu32
		    "\n", sa->tos);
	strbuf_addf(out, "    UDP encapsulate: %s, UDP dst port: %" PRIu32 "\n",
	    sa->encap_dport != 0 ? "Enabled" : "Disabled", sa->encap_dport);
}

/* One tunnel, rows[t..end): its header, then a table row (brief) or a block per SA. */
static void
tunnel_text(struct strbuf *out, const struct sa_row *rows, size_t t, size_t end, bool detail,
    uint64_t now_ns)
{
	const Picsec__V1__Sa *sa = rows[t].sa;
	char lgw[INET6_ADDRSTRLEN], rgw[INET6_ADDRSTRLEN], lid[96], rid[96];
	size_t k;

	strbuf_addf(out, "\n  Rule: %s, Term: %s, Tunnel index: %u\n", sa->rule, sa->term,
	    rows[t].tunnel);
	strbuf_addf(out, "  Local gateway: %s, Remote gateway: %s\n",
	    addr_text(lgw, sizeof(lgw), sa->local_gateway),
	    addr_text(rgw, sizeof(rgw), sa->remote_gateway));
	if (detail) {
		tunnel_identities(sa, lid, rid, sizeof(lid));
		strbuf_addf(out, "  Local identity: %s\n  Remote identity: %s\n"
		    "  Anchored PIC: %s\n", lid, rid, rows[t].info->pic);
		for (k = t; k < end; k++) {
			strbuf_addc(out, '\n');
			sa_detail_text(out, &rows[k], now_ns);
		}
		return;
	}
	strbuf_addf(out, "\n    %-10s%-12s%-12s%-11s%-9s%s\n", "Direction", "SPI", "AUX-SPI",
	    "Mode", "Type", "Protocol");
	for (k = t; k < end; k++) {
		sa = rows[k].sa;
		strbuf_addf(out, "    %-10s%-12" PRIu32 "%-12" PRIu32 "%-11s%-9s%s\n",
		    WORD(dir_words, sa->direction), sa->spi, sa->auxiliary_spi,
		    WORD(mode_words, sa->mode), WORD(type_words, sa->origin),
		    WORD(proto_words, sa->protocol));
	}
}

static void
sas_text(struct strbuf *out, const struct sa_row *rows, size_t n, bool detail, uint64_t now_ns)
{
	size_t i, t, set_end, tun_end;

	for (i = 0; i < n; i = set_end) {
		set_end = rows_end(rows, n, i, false);
		/* picsec has no routing instances: IKE runs in the default one. */
		strbuf_addf(out, "%sService set: %s, IKE Routing-instance: default\n",
		    i > 0 ? "\n" : "", rows[i].sa->service_set);
		for (t = i; t < set_end; t = tun_end) {
			tun_end = rows_end(rows, n, t, true);
			tunnel_text(out, rows, t, tun_end, detail, now_ns);
		}
	}
}

static void
sa_json(struct jw *j, const struct sa_row *r, bool detail, uint64_t now_ns)
{
	const Picsec__V1__Sa *sa = r->sa;
	char buf[96];

	jw_open(j, NULL, '{');
	jw_str(j, "sa-direction", WORD(dir_words, sa->direction));
	jw_u64(j, "sa-spi", sa->spi);
	jw_u64(j, "sa-aux-spi", sa->auxiliary_spi);
	jw_str(j, "sa-mode", WORD(mode_words, sa->mode));
	jw_str(j, "sa-type", WORD(type_words, sa->origin));
	jw_str(j, "sa-state", r->info->installed ? "installed" : "Not Installed");
	jw_str(j, "sa-protocol", WORD(proto_words, sa->protocol));
	if (detail) {
		jw_str(j, "sa-authentication-algorithm", WORD(auth_words, sa->auth_algorithm));
		jw_str(j, "sa-encryption-algorithm", sa_encryption(sa));
		lifetime_text(buf, sizeof(buf), r->info, sa->soft_lifetime_seconds,
		    sa->soft_lifetime_kbytes, now_ns);
		jw_str(j, "sa-soft-lifetime", buf);
		lifetime_text(buf, sizeof(buf), r->info, sa->hard_lifetime_seconds,
		    sa->hard_lifetime_kbytes, now_ns);
		jw_str(j, "sa-hard-lifetime", buf);
		jw_str(j, "sa-anti-replay-service", sa_replay(sa));
		jw_u64(j, "sa-replay-window-size", sa->replay_window);
		jw_str(j, "sa-extended-seq-number", sa->esn ? "enabled" : "disabled");
		jw_u64(j, "sa-tunnel-mtu", sa->tunnel_mtu);
		jw_str(j, "sa-df-bit", WORD(df_words, sa->df_bit));
		jw_str(j, "sa-copy-ttl-from-inner-ip-header",
		    sa->ttl == 0 ? "enabled" : "disabled");
		jw_u64(j, "sa-ttl-value", sa->ttl);
		jw_str(j, "sa-copy-tos-from-inner-ip-header",
		    sa->tos == 0 ? "enabled" : "disabled");
		jw_u64(j, "sa-tos-value", sa->tos);
		jw_str(j, "sa-udp-encapsulate", sa->encap_dport != 0 ? "Enabled" : "Disabled");
		jw_u64(j, "sa-udp-dst-port", sa->encap_dport);
	}
	jw_close(j, '}');
}

static void
tunnel_json(struct jw *j, const struct sa_row *rows, size_t t, size_t end, bool detail,
    uint64_t now_ns)
{
	const Picsec__V1__Sa *sa = rows[t].sa;
	char buf[96], rid[96];
	size_t k;

	jw_open(j, NULL, '{');
	jw_str(j, "sa-rule-name", sa->rule);
	jw_str(j, "sa-term-name", sa->term);
	jw_u64(j, "sa-tunnel-index", rows[t].tunnel);
	jw_str(j, "sa-anchored-pic", rows[t].info->pic);
	jw_str(j, "sa-local-gateway", addr_text(buf, sizeof(buf), sa->local_gateway));
	jw_str(j, "sa-remote-gateway", addr_text(buf, sizeof(buf), sa->remote_gateway));
	if (detail) {
		tunnel_identities(sa, buf, rid, sizeof(buf));
		jw_str(j, "sa-local-identity", buf);
		jw_str(j, "sa-remote-identity", rid);
	}
	jw_open(j, "sa-information", '[');
	for (k = t; k < end; k++)
		sa_json(j, &rows[k], detail, now_ns);
	jw_close(j, ']');
	jw_close(j, '}');
}

static void
sas_json(struct strbuf *out, const struct sa_row *rows, size_t n, bool detail, uint64_t now_ns)
{
	struct jw j = { .out = out };
	size_t i, t, set_end, tun_end;

	jw_open(&j, NULL, '{');
	jw_open(&j, "services-security-associations-information", '[');
	for (i = 0; i < n; i = set_end) {
		set_end = rows_end(rows, n, i, false);
		jw_open(&j, NULL, '{');
		jw_str(&j, "svc-set-name", rows[i].sa->service_set);
		jw_str(&j, "sa-ike-routing-instance", "default");
		jw_open(&j, "sa-tunnel-information", '[');
		for (t = i; t < set_end; t = tun_end) {
			tun_end = rows_end(rows, n, t, true);
			tunnel_json(&j, rows, t, tun_end, detail, now_ns);
		}
		jw_close(&j, ']');
		jw_close(&j, '}');
	}
	jw_close(&j, ']');
	jw_close(&j, '}');
}

void
cli_ipsec_format_sas(struct strbuf *out, const Picsec__V1__SaList *list, bool detail,
    bool json, uint64_t now_ns)
{
	struct sa_row *rows;
	size_t n;

	rows = sa_rows(out, list, &n);
	if (json)
		sas_json(out, rows, n, detail, now_ns);
	else if (n == 0)
		strbuf_adds(out, "No IPsec SAs\n");
	else
		sas_text(out, rows, n, detail, now_ns);
	free(rows);
}

/*
 * Statistics: the PICs count per SA and per service set; the SA list says which service set,
 * tunnel and direction an SA id is.
 */
enum {
	C_ENC_BYTES, C_DEC_BYTES, C_ENC_PACKETS, C_DEC_PACKETS,
	C_AH_IN_BYTES, C_AH_OUT_BYTES, C_AH_IN_PACKETS, C_AH_OUT_PACKETS,
	C_AH_AUTH, C_REPLAY, C_ESP_AUTH, C_DECRYPT, C_BAD_HEADERS, C_BAD_TRAILERS,
	C_MTU, C_SEQ_EXHAUSTED,
	C_TUNNEL,		/* those above are sums over SAs, those below a service set's */
	C_INVALID_SPI = C_TUNNEL, C_NO_SA,
	C_COUNT
};

static const char *const ctr_json[C_COUNT] = {
	[C_ENC_BYTES] = "esp-encrypted-bytes",
	[C_DEC_BYTES] = "esp-decrypted-bytes",
	[C_ENC_PACKETS] = "esp-encrypted-packets",
	[C_DEC_PACKETS] = "esp-decrypted-packets",
	[C_AH_IN_BYTES] = "ah-input-bytes",
	[C_AH_OUT_BYTES] = "ah-output-bytes",
	[C_AH_IN_PACKETS] = "ah-input-packets",
	[C_AH_OUT_PACKETS] = "ah-output-packets",
	[C_AH_AUTH] = "ah-authentication-failures",
	[C_REPLAY] = "replay-errors",
	[C_ESP_AUTH] = "esp-authentication-failures",
	[C_DECRYPT] = "esp-decryption-failures",
	[C_BAD_HEADERS] = "bad-headers",
	[C_BAD_TRAILERS] = "bad-trailers",
	[C_MTU] = "exceeds-tunnel-mtu",
	[C_SEQ_EXHAUSTED] = "sequence-number-exhausted",
	[C_INVALID_SPI] = "invalid-spi-errors",
	[C_NO_SA] = "no-sa-errors",
};

struct ctrs {
	uint64_t v[C_COUNT];
};

static void
ctrs_add(struct ctrs *t, const Picsec__V1__Sa *sa, const Picsec__V1__SaCounters *c)
{
	bool out = sa->direction == SA_DIR(OUTBOUND);

	/* What an outbound SA protects was encrypted here, what an inbound one opens decrypted. */
	t->v[out ? C_ENC_BYTES : C_DEC_BYTES] += c->esp_bytes;
	t->v[out ? C_ENC_PACKETS : C_DEC_PACKETS] += c->esp_packets;
	t->v[out ? C_AH_OUT_BYTES : C_AH_IN_BYTES] += c->ah_bytes;
	t->v[out ? C_AH_OUT_PACKETS : C_AH_IN_PACKETS] += c->ah_packets;
	t->v[C_AH_AUTH] += c->ah_auth_failures;
	t->v[C_REPLAY] += c->replay_errors;
	t->v[C_ESP_AUTH] += c->esp_auth_failures;
	t->v[C_DECRYPT] += c->decrypt_failures;
	t->v[C_BAD_HEADERS] += c->bad_headers;
	t->v[C_BAD_TRAILERS] += c->bad_trailers;
	t->v[C_MTU] += c->mtu_exceeded;
	t->v[C_SEQ_EXHAUSTED] += c->seq_exhausted;
}

/* "  Encrypted bytes:              1234": the numbers right-aligned in one column. */
static void
ctr_line(struct strbuf *out, const char *ind, const char *label, uint64_t v)
{
	strbuf_addf(out, "%s  %s%*" PRIu64 "\n", ind, label, (int)(34 - strlen(label)), v);
}

/* One block of counters; set_wide adds the service set's own (they are no tunnel's). */
static void
ctrs_text(struct strbuf *out, const struct ctrs *c, const char *ind, bool set_wide)
{
	const uint64_t *v = c->v;

	strbuf_addf(out, "%sESP Statistics:\n", ind);
	ctr_line(out, ind, "Encrypted bytes:", v[C_ENC_BYTES]);
	ctr_line(out, ind, "Decrypted bytes:", v[C_DEC_BYTES]);
	ctr_line(out, ind, "Encrypted packets:", v[C_ENC_PACKETS]);
	ctr_line(out, ind, "Decrypted packets:", v[C_DEC_PACKETS]);
	strbuf_addf(out, "%sAH Statistics:\n", ind);
	ctr_line(out, ind, "Input bytes:", v[C_AH_IN_BYTES]);
	ctr_line(out, ind, "Output bytes:", v[C_AH_OUT_BYTES]);
	ctr_line(out, ind, "Input packets:", v[C_AH_IN_PACKETS]);
	ctr_line(out, ind, "Output packets:", v[C_AH_OUT_PACKETS]);
	strbuf_addf(out, "%sErrors:\n", ind);
	strbuf_addf(out, "%s  AH authentication failures: %" PRIu64 ", Replay errors: %" PRIu64
	    "\n", ind, v[C_AH_AUTH], v[C_REPLAY]);
	strbuf_addf(out, "%s  ESP authentication failures: %" PRIu64
	    ", ESP decryption failures: %" PRIu64 "\n", ind, v[C_ESP_AUTH], v[C_DECRYPT]);
	strbuf_addf(out, "%s  Bad headers: %" PRIu64 ", Bad trailers: %" PRIu64 "\n", ind,
	    v[C_BAD_HEADERS], v[C_BAD_TRAILERS]);
	if (set_wide)
		strbuf_addf(out, "%s  Invalid SPI: %" PRIu64 ", No SA: %" PRIu64
		    ", Exceeds tunnel MTU: %" PRIu64 "\n", ind, v[C_INVALID_SPI], v[C_NO_SA],
		    v[C_MTU]);
	else
		strbuf_addf(out, "%s  Exceeds tunnel MTU: %" PRIu64 "\n", ind, v[C_MTU]);
}

static void
ctrs_json(struct jw *j, const struct ctrs *c, size_t count)
{
	size_t k;

	for (k = 0; k < count; k++)
		jw_u64(j, ctr_json[k], c->v[k]);
}

struct stats_ctx {
	struct strbuf *out;
	struct jw jw;
	bool detail, json;
	const struct sa_row *rows;
	size_t nrows;
	const struct sa_row **by_id;		/* rows sorted by SA id */
	const Picsec__V1__SaCounters **rc;	/* per row, its counters on the PIC at hand */
	size_t shown;				/* service sets shown so far */
};

static int
row_id_cmp(const void *pa, const void *pb)
{
	uint64_t a = (*(const struct sa_row *const *)pa)->sa->id;
	uint64_t b = (*(const struct sa_row *const *)pb)->sa->id;

	return a < b ? -1 : a > b;
}

static const struct sa_row *
row_by_id(const struct stats_ctx *x, uint64_t id)
{
	size_t lo = 0, hi = x->nrows, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (x->by_id[mid]->sa->id == id)
			return x->by_id[mid];
		if (x->by_id[mid]->sa->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Whether rows[i] belongs to the PIC at hand: it counted it, or sadb put it there. */
static bool
row_on_pic(const struct stats_ctx *x, size_t i, const Picsec__V1__PicStats *ps)
{
	return x->rc[i] != NULL || strcmp(x->rows[i].info->pic, ps->pic) == 0;
}

static void
stats_tunnels(struct stats_ctx *x, const Picsec__V1__PicStats *ps, const char *name)
{
	const struct sa_row *rows = x->rows;
	char lgw[INET6_ADDRSTRLEN], rgw[INET6_ADDRSTRLEN];
	size_t i, k, end;

	for (i = 0; i < x->nrows; i = end) {
		struct ctrs t = { { 0 } };
		bool here = false;

		end = rows_end(rows, x->nrows, i, true);
		if (strcmp(rows[i].sa->service_set, name) != 0)
			continue;
		for (k = i; k < end; k++) {
			here |= row_on_pic(x, k, ps);
			if (x->rc[k] != NULL)
				ctrs_add(&t, rows[k].sa, x->rc[k]);
		}
		if (!here)
			continue;
		if (x->json) {
			jw_open(&x->jw, NULL, '{');
			jw_str(&x->jw, "sa-rule-name", rows[i].sa->rule);
			jw_str(&x->jw, "sa-term-name", rows[i].sa->term);
			jw_str(&x->jw, "local-gateway",
			    addr_text(lgw, sizeof(lgw), rows[i].sa->local_gateway));
			jw_str(&x->jw, "remote-gateway",
			    addr_text(rgw, sizeof(rgw), rows[i].sa->remote_gateway));
			jw_u64(&x->jw, "tunnel-index", rows[i].tunnel);
			ctrs_json(&x->jw, &t, C_TUNNEL);
			jw_close(&x->jw, '}');
			continue;
		}
		strbuf_addf(x->out, "  Rule: %s, Term: %s\n", rows[i].sa->rule, rows[i].sa->term);
		strbuf_addf(x->out, "  Local gateway: %s, Remote gateway: %s, Tunnel index: %u\n",
		    addr_text(lgw, sizeof(lgw), rows[i].sa->local_gateway),
		    addr_text(rgw, sizeof(rgw), rows[i].sa->remote_gateway), rows[i].tunnel);
		ctrs_text(x->out, &t, "  ", false);
		strbuf_addc(x->out, '\n');
	}
}

/* One PIC's service set: the sum over its SAs there, and in detail each tunnel's. */
static void
stats_set(struct stats_ctx *x, const Picsec__V1__PicStats *ps, const char *name)
{
	struct ctrs total = { { 0 } };
	size_t i;

	for (i = 0; i < ps->n_service_sets; i++) {
		const Picsec__V1__ServiceSetCounters *s = ps->service_sets[i];

		if (strcmp(s->service_set, name) == 0) {
			total.v[C_INVALID_SPI] += s->invalid_spi;
			total.v[C_NO_SA] += s->no_sa;
		}
	}
	for (i = 0; i < x->nrows; i++) {
		if (x->rc[i] != NULL && strcmp(x->rows[i].sa->service_set, name) == 0)
			ctrs_add(&total, x->rows[i].sa, x->rc[i]);
	}
	if (x->json) {
		jw_open(&x->jw, NULL, '{');
		jw_str(&x->jw, "pic-name", ps->pic);
		jw_str(&x->jw, "service-set-name", name);
		ctrs_json(&x->jw, &total, C_COUNT);
		if (x->detail) {
			jw_open(&x->jw, "ipsec-tunnel-statistics", '[');
			stats_tunnels(x, ps, name);
			jw_close(&x->jw, ']');
		}
		jw_close(&x->jw, '}');
	} else {
		strbuf_addf(x->out, "%sPIC: %s, Service set: %s\n\n", x->shown > 0 ? "\n" : "",
		    ps->pic, name);
		if (x->detail) {
			stats_tunnels(x, ps, name);
			strbuf_addf(x->out, "  Service set errors:\n    Invalid SPI: %" PRIu64
			    ", No SA: %" PRIu64 "\n", total.v[C_INVALID_SPI], total.v[C_NO_SA]);
		} else {
			ctrs_text(x->out, &total, "", true);
		}
	}
	x->shown++;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One PIC: the service sets it counted or sadb anchored on it, by name. */
static void
stats_pic(struct stats_ctx *x, const Picsec__V1__PicStats *ps)
{
	const char **names;
	size_t i, n = 0;

	/* Counters of an id sadb no longer lists (removed in between) belong to no service set
	 * we know of: they are left out. */
	memset(x->rc, 0, x->nrows * sizeof(*x->rc));
	for (i = 0; i < ps->n_sas; i++) {
		const struct sa_row *r = row_by_id(x, ps->sas[i]->id);

		if (r != NULL)
			x->rc[r - x->rows] = ps->sas[i];
	}
	if ((names = calloc(ps->n_service_sets + x->nrows + 1, sizeof(*names))) == NULL) {
		x->out->failed = true;
		return;
	}
	for (i = 0; i < ps->n_service_sets; i++)
		names[n++] = ps->service_sets[i]->service_set;
	for (i = 0; i < x->nrows; i++) {
		if (row_on_pic(x, i, ps))
			names[n++] = x->rows[i].sa->service_set;
	}
	qsort(names, n, sizeof(*names), str_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			stats_set(x, ps, names[i]);
	}
	free(names);
}

static int
pic_cmp(const void *a, const void *b)
{
	return strcmp((*(const Picsec__V1__PicStats *const *)a)->pic,
	    (*(const Picsec__V1__PicStats *const *)b)->pic);
}

void
cli_ipsec_format_stats(struct strbuf *out, const Picsec__V1__SaList *sas,
    const Picsec__V1__PicStats *const *stats, size_t nstats, bool detail, bool json)
{
	struct stats_ctx x = { .out = out, .jw = { .out = out }, .detail = detail,
	    .json = json };
	const Picsec__V1__PicStats **pics;
	struct sa_row *rows;
	size_t i;

	rows = sa_rows(out, sas, &x.nrows);
	x.rows = rows;
	x.by_id = calloc(x.nrows + 1, sizeof(*x.by_id));
	x.rc = calloc(x.nrows + 1, sizeof(*x.rc));
	pics = calloc(nstats + 1, sizeof(*pics));
	if (x.by_id == NULL || x.rc == NULL || pics == NULL) {
		out->failed = true;
		goto out;
	}
	for (i = 0; i < x.nrows; i++)
		x.by_id[i] = &rows[i];
	qsort(x.by_id, x.nrows, sizeof(*x.by_id), row_id_cmp);
	for (i = 0; i < nstats; i++)
		pics[i] = stats[i];
	qsort(pics, nstats, sizeof(*pics), pic_cmp);

	if (json) {
		jw_open(&x.jw, NULL, '{');
		jw_open(&x.jw, "ipsec-total-statistics-information", '[');
	}
	for (i = 0; i < nstats; i++)
		stats_pic(&x, pics[i]);
	if (json) {
		jw_close(&x.jw, ']');
		jw_close(&x.jw, '}');
	} else if (x.shown == 0) {
		strbuf_adds(out, "No IPsec statistics\n");
	}
out:
	free(pics);
	free(x.rc);
	free(x.by_id);
	free(rows);
}
