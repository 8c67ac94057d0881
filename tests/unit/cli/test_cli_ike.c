/* What show and clear services ipsec-vpn ike security-associations and statistics print,
 * from IkeList, IkeStats and IkeCleared messages built by hand: a matured SA with two Child
 * SAs, two negotiating ones; brief, detail and JSON. Also the words after the commands
 * (brief, detail, PEER-ADDRESS), their completion, and what the CLI says when iked does not
 * answer (no bus at all here). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <ev.h>

#include "bus.h"
#include "cli.h"
#include "cli_ike.h"
#include "json_check.h"
#include "testutil.h"

#define S(s) ((char *)(uintptr_t)(s))

static const uint8_t peer_a[4] = { 192, 0, 2, 2 }, local_a[4] = { 192, 0, 2, 1 };
static const uint8_t peer_b[4] = { 198, 51, 100, 7 }, local_b[4] = { 198, 51, 100, 1 };
static const uint8_t peer_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x42 };

enum { NSA = 3 };

static struct {
	Picsec__V1__IpAddress pa, la, pb, lb;
	Picsec__V1__IkeChildInfo child[2];
	Picsec__V1__IkeChildInfo *children[2];
	Picsec__V1__IkeSaInfo sa[NSA];
	Picsec__V1__IkeSaInfo *sas[NSA];
	Picsec__V1__IkeList list;
} fx;

static void
ip(Picsec__V1__IpAddress *a, const uint8_t *bytes, size_t len)
{
	picsec__v1__ip_address__init(a);
	a->addr.data = (uint8_t *)(uintptr_t)bytes;
	a->addr.len = len;
}

static void
setup(void)
{
	Picsec__V1__IkeSaInfo *sa;
	Picsec__V1__IkeChildInfo *c;
	int i;

	memset(&fx, 0, sizeof(fx));
	ip(&fx.pa, peer_a, 4);
	ip(&fx.la, local_a, 4);
	ip(&fx.pb, peer_b, 4);
	ip(&fx.lb, local_b, 4);
	for (i = 0; i < NSA; i++)
		picsec__v1__ike_sa_info__init(&fx.sa[i]);

	/* 0: established with 192.0.2.2 behind a NAT, we started it; two Child SAs. */
	sa = &fx.sa[0];
	sa->remote_address = &fx.pa;
	sa->remote_port = 4500;
	sa->local_address = &fx.la;
	sa->local_port = 4500;
	sa->matured = true;
	sa->initiator = true;
	sa->initiator_spi = 0x16ac5f588b934e91ULL;
	sa->responder_spi = 0x0d39ea0c7b4f2a11ULL;
	sa->state = S("established");
	sa->service_set = S("branch");
	sa->rule = S("to-hq");
	sa->term = S("t1");
	sa->encryption = S("aes-128-cbc");
	sa->integrity = S("hmac-sha-256-128");
	sa->prf = S("hmac-sha-256");
	sa->dh_group = 14;
	sa->local_id = S("192.0.2.1");
	sa->remote_id = S("fqdn gw-b.example.net");
	sa->expires_seconds = 28413;
	sa->nat_detected = true;
	sa->input_bytes = 1234;
	sa->output_bytes = 5678;
	sa->input_packets = 4;
	sa->output_packets = 5;
	sa->children_created = 3;
	sa->children_deleted = 1;
	sa->child_rekeys = 1;
	for (i = 0; i < 2; i++) {
		picsec__v1__ike_child_info__init(&fx.child[i]);
		fx.children[i] = &fx.child[i];
	}
	c = &fx.child[0];
	c->protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	c->spi_in = 0xc0010203;
	c->spi_out = 0xabc;
	c->encryption = S("aes-128-cbc");
	c->authentication = S("hmac-sha-256-128");
	c->expires_seconds = 3500;
	c = &fx.child[1];
	c->protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	c->spi_in = 0x100;
	c->spi_out = 0xffffffff;
	c->encryption = S("aes-128-gcm");
	c->authentication = S("");	/* AEAD */
	c->pfs_group = 19;
	c->expires_seconds = 120;
	sa->children = fx.children;
	sa->n_children = 2;

	/* 1: 198.51.100.7 asked us; its IKE_SA_INIT is answered, nothing more. */
	sa = &fx.sa[1];
	sa->remote_address = &fx.pb;
	sa->remote_port = 500;
	sa->local_address = &fx.lb;
	sa->local_port = 500;
	sa->initiator_spi = 0xa1;
	sa->state = S("IKE_SA_INIT answered");
	sa->encryption = S("aes-128-gcm");	/* AEAD: no integrity */
	sa->prf = S("hmac-sha-256");
	sa->dh_group = 19;
	sa->input_packets = 1;
	sa->output_packets = 1;

	/* 2: a second one to 192.0.2.2, just sent: nothing chosen yet. */
	sa = &fx.sa[2];
	sa->remote_address = &fx.pa;
	sa->remote_port = 500;
	sa->local_address = &fx.la;
	sa->local_port = 500;
	sa->initiator = true;
	sa->initiator_spi = 1;

	/* iked lists them in no particular order. */
	fx.sas[0] = &fx.sa[1];
	fx.sas[1] = &fx.sa[0];
	fx.sas[2] = &fx.sa[2];
	picsec__v1__ike_list__init(&fx.list);
	fx.list.sas = fx.sas;
	fx.list.n_sas = NSA;
}

TestSuite(cli_ike, .init = setup);

static char *
done(struct strbuf *sb)
{
	cr_assert_not(strbuf_failed(sb));
	cr_assert_not_null(sb->buf);
	return sb->buf;
}

static char *
sas(const Picsec__V1__IkeList *list, bool detail, bool json)
{
	struct strbuf sb = STRBUF_INIT;

	cli_ike_format_sas(&sb, list, detail, json);
	return done(&sb);
}

static void
assert_has(const char *s, const char *what)
{
	cr_assert_not_null(strstr(s, what), "missing \"%s\" in:\n%s", what, s);
}

static void
assert_starts(const char *s, const char *prefix)
{
	cr_assert_eq(strncmp(s, prefix, strlen(prefix)), 0, "not starting with \"%s\":\n%s",
	    prefix, s);
}

static size_t
count_of(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)) != NULL; s += strlen(what))
		n++;
	return n;
}

Test(cli_ike, sas_brief)
{
	char *s = sas(&fx.list, false, false);

	cr_assert_str_eq(s,
	    "Remote Address  State        Initiator cookie  Responder cookie  Exchange type\n"
	    "192.0.2.2       Not matured  0000000000000001  0000000000000000  IKEv2\n"
	    "192.0.2.2       Matured      16ac5f588b934e91  0d39ea0c7b4f2a11  IKEv2\n"
	    "198.51.100.7    Not matured  00000000000000a1  0000000000000000  IKEv2\n");
	free(s);
}

Test(cli_ike, brief_widens_for_an_ipv6_peer)
{
	Picsec__V1__IpAddress v6;
	char *s;

	ip(&v6, peer_v6, 16);
	fx.sa[1].remote_address = &v6;
	s = sas(&fx.list, false, false);
	cr_assert_str_eq(s,
	    "Remote Address  State        Initiator cookie  Responder cookie  Exchange type\n"
	    "192.0.2.2       Not matured  0000000000000001  0000000000000000  IKEv2\n"
	    "192.0.2.2       Matured      16ac5f588b934e91  0d39ea0c7b4f2a11  IKEv2\n"
	    "2001:db8::42    Not matured  00000000000000a1  0000000000000000  IKEv2\n");
	free(s);
	v6.addr.len = 16;
	fx.sa[2].remote_address = NULL;		/* not known (yet): listed first, as "-" */
	v6.addr.data = (uint8_t *)(uintptr_t)(const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0,
	    0x01, 0, 0x02, 0, 0x03, 0, 0x04, 0, 0x05, 0, 0x06 };
	s = sas(&fx.list, false, false);
	cr_assert_str_eq(s,
	    "Remote Address        State        Initiator cookie  Responder cookie  "
	    "Exchange type\n"
	    "-                     Not matured  0000000000000001  0000000000000000  IKEv2\n"
	    "192.0.2.2             Matured      16ac5f588b934e91  0d39ea0c7b4f2a11  IKEv2\n"
	    "2001:db8:1:2:3:4:5:6  Not matured  00000000000000a1  0000000000000000  IKEv2\n");
	free(s);
}

Test(cli_ike, sas_detail)
{
	char *s = sas(&fx.list, true, false);

	cr_assert_str_eq(s,
	    "IKE peer 192.0.2.2\n"
	    "  Role: Initiator, State: Not matured\n"
	    "  Initiator cookie: 0000000000000001, Responder cookie: 0000000000000000\n"
	    "  Exchange type: IKEv2, Authentication method: Pre-shared-keys\n"
	    "  Local: 192.0.2.1:500, Remote: 192.0.2.2:500\n"
	    "  Lifetime: Not established\n"
	    "  NAT traversal: No NAT detected\n"
	    "  Algorithms:\n"
	    "   Authentication        : -\n"
	    "   Encryption            : -\n"
	    "   Pseudo random function: -\n"
	    "   DH group              : -\n"
	    "  Traffic statistics:\n"
	    "   Input  bytes  :                    0\n"
	    "   Output bytes  :                    0\n"
	    "   Input  packets:                    0\n"
	    "   Output packets:                    0\n"
	    "  IPsec security associations: 0 created, 0 deleted\n"
	    "  IPsec rekeys: 0\n"
	    "\n"
	    "IKE peer 192.0.2.2\n"
	    "  Role: Initiator, State: Matured\n"
	    "  Initiator cookie: 16ac5f588b934e91, Responder cookie: 0d39ea0c7b4f2a11\n"
	    "  Exchange type: IKEv2, Authentication method: Pre-shared-keys\n"
	    "  Local: 192.0.2.1:4500, Remote: 192.0.2.2:4500\n"
	    "  Lifetime: Expires in 28413 seconds\n"
	    "  Service set: branch, Rule: to-hq, Term: t1\n"
	    "  Local identity: 192.0.2.1\n"
	    "  Remote identity: fqdn gw-b.example.net\n"
	    "  NAT traversal: NAT detected, UDP port 4500\n"
	    "  Negotiation state: established\n"
	    "  Algorithms:\n"
	    "   Authentication        : hmac-sha-256-128\n"
	    "   Encryption            : aes-128-cbc\n"
	    "   Pseudo random function: hmac-sha-256\n"
	    "   DH group              : group14\n"
	    "  Traffic statistics:\n"
	    "   Input  bytes  :                 1234\n"
	    "   Output bytes  :                 5678\n"
	    "   Input  packets:                    4\n"
	    "   Output packets:                    5\n"
	    "  IPsec security associations: 3 created, 1 deleted\n"
	    "  IPsec rekeys: 1\n"
	    "  Child SA: ESP, Inbound SPI: 0xc0010203, Outbound SPI: 0x00000abc\n"
	    "   Encryption: aes-128-cbc, Authentication: hmac-sha-256-128, PFS group: none\n"
	    "   Lifetime: Expires in 3500 seconds\n"
	    "  Child SA: ESP, Inbound SPI: 0x00000100, Outbound SPI: 0xffffffff\n"
	    "   Encryption: aes-128-gcm, Authentication: none, PFS group: group19\n"
	    "   Lifetime: Expires in 120 seconds\n"
	    "\n"
	    "IKE peer 198.51.100.7\n"
	    "  Role: Responder, State: Not matured\n"
	    "  Initiator cookie: 00000000000000a1, Responder cookie: 0000000000000000\n"
	    "  Exchange type: IKEv2, Authentication method: Pre-shared-keys\n"
	    "  Local: 198.51.100.1:500, Remote: 198.51.100.7:500\n"
	    "  Lifetime: Not established\n"
	    "  NAT traversal: No NAT detected\n"
	    "  Negotiation state: IKE_SA_INIT answered\n"
	    "  Algorithms:\n"
	    "   Authentication        : none\n"
	    "   Encryption            : aes-128-gcm\n"
	    "   Pseudo random function: hmac-sha-256\n"
	    "   DH group              : group19\n"
	    "  Traffic statistics:\n"
	    "   Input  bytes  :                    0\n"
	    "   Output bytes  :                    0\n"
	    "   Input  packets:                    1\n"
	    "   Output packets:                    1\n"
	    "  IPsec security associations: 0 created, 0 deleted\n"
	    "  IPsec rekeys: 0\n");
	free(s);
}

Test(cli_ike, no_sas)
{
	Picsec__V1__IkeList empty = PICSEC__V1__IKE_LIST__INIT;
	char *s;

	/* Worded as the IPsec command's "No IPsec SAs". */
	s = sas(&empty, false, false);
	cr_assert_str_eq(s, "No IKE SAs\n");
	free(s);
	s = sas(NULL, true, false);
	cr_assert_str_eq(s, "No IKE SAs\n");
	free(s);
	s = sas(&empty, true, true);
	assert_json(s);
	cr_assert_str_eq(s, "{\n  \"ike-security-associations-information\": []\n}\n");
	free(s);
}

Test(cli_ike, sas_json_brief)
{
	char *s = sas(&fx.list, false, true);
	const char *a, *b, *c;

	assert_json(s);
	assert_starts(s, "{\n  \"ike-security-associations-information\": [\n    {\n"
	    "      \"ike-sa-remote-address\": \"192.0.2.2\",\n");
	cr_assert_eq(count_of(s, "\"ike-sa-remote-address\""), NSA, "%s", s);
	assert_has(s, "\"ike-sa-state\": \"matured\"");
	cr_assert_eq(count_of(s, "\"ike-sa-state\": \"not matured\""), 2, "%s", s);
	assert_has(s, "\"ike-sa-initiator-cookie\": \"16ac5f588b934e91\"");
	assert_has(s, "\"ike-sa-responder-cookie\": \"0d39ea0c7b4f2a11\"");
	assert_has(s, "\"ike-sa-initiator-cookie\": \"00000000000000a1\"");
	cr_assert_eq(count_of(s, "\"ike-sa-exchange-type\": \"IKEv2\""), NSA, "%s", s);
	assert_has(s, "\"ike-sa-role\": \"Responder\"");
	/* in the table's order */
	a = strstr(s, "\"0000000000000001\"");
	b = strstr(s, "\"16ac5f588b934e91\"");
	c = strstr(s, "\"198.51.100.7\"");
	cr_assert(a != NULL && b != NULL && c != NULL && a < b && b < c, "%s", s);
	cr_assert_null(strstr(s, "ike-sa-dhgroup"), "detail in brief JSON:\n%s", s);
	cr_assert_null(strstr(s, "ipsec-security-associations"), "detail in brief JSON");
	free(s);
}

Test(cli_ike, sas_json_detail)
{
	char *s = sas(&fx.list, true, true);

	assert_json(s);
	assert_has(s, "\"ike-sa-authentication-method\": \"Pre-shared-keys\"");
	assert_has(s, "\"ike-sa-local-address\": \"192.0.2.1\",\n"
	    "      \"ike-sa-local-port\": 4500,\n"
	    "      \"ike-sa-remote-port\": 4500,\n"
	    "      \"ike-sa-lifetime\": \"Expires in 28413 seconds\"");
	assert_has(s, "\"ike-sa-lifetime\": \"Not established\"");
	assert_has(s, "\"ike-sa-negotiation-state\": \"IKE_SA_INIT answered\"");
	assert_has(s, "\"ike-sa-service-set\": \"branch\"");
	assert_has(s, "\"ike-sa-remote-identity\": \"fqdn gw-b.example.net\"");
	assert_has(s, "\"ike-sa-nat-detected\": true");
	assert_has(s, "\"ike-sa-nat-detected\": false");
	assert_has(s, "\"ike-sa-authentication-algorithm\": \"hmac-sha-256-128\",\n"
	    "      \"ike-sa-encryption-algorithm\": \"aes-128-cbc\",\n"
	    "      \"ike-sa-prf-algorithm\": \"hmac-sha-256\",\n"
	    "      \"ike-sa-dhgroup\": \"group14\",\n"
	    "      \"ike-sa-input-bytes\": 1234,\n"
	    "      \"ike-sa-output-bytes\": 5678,\n"
	    "      \"ike-sa-input-packets\": 4,\n"
	    "      \"ike-sa-output-packets\": 5,\n"
	    "      \"ike-sa-ipsec-sa-created\": 3,\n"
	    "      \"ike-sa-ipsec-sa-deleted\": 1,\n"
	    "      \"ike-sa-ipsec-sa-rekeys\": 1,\n");
	assert_has(s, "\"ike-sa-authentication-algorithm\": \"none\"");
	assert_has(s, "\"ipsec-security-associations\": [\n        {\n"
	    "          \"sa-protocol\": \"ESP\",\n"
	    "          \"sa-inbound-spi\": \"0xc0010203\",\n"
	    "          \"sa-outbound-spi\": \"0x00000abc\",\n"
	    "          \"sa-encryption-algorithm\": \"aes-128-cbc\",\n"
	    "          \"sa-authentication-algorithm\": \"hmac-sha-256-128\",\n"
	    "          \"sa-pfs-group\": \"none\",\n"
	    "          \"sa-lifetime\": \"Expires in 3500 seconds\"\n"
	    "        },\n");
	assert_has(s, "\"sa-pfs-group\": \"group19\"");
	cr_assert_eq(count_of(s, "\"ipsec-security-associations\": []"), 2, "%s", s);
	free(s);
}

Test(cli_ike, json_escapes_what_iked_sends)
{
	char *s;

	fx.sa[0].service_set = S("a\"b\\c\n\x01");
	fx.sa[0].remote_id = S("fqdn \tx");
	s = sas(&fx.list, true, true);
	assert_json(s);
	assert_has(s, "\"ike-sa-service-set\": \"a\\\"b\\\\c\\n\\u0001\"");
	assert_has(s, "\"ike-sa-remote-identity\": \"fqdn \\tx\"");
	free(s);
}

/*
 * Statistics: every IkeStats field is a uint64 counter; each gets a distinct value so the
 * output shows which label carries which.
 */
static void
stats_fill(Picsec__V1__IkeStats *st)
{
	const ProtobufCMessageDescriptor *d = &picsec__v1__ike_stats__descriptor;
	uint64_t v;
	unsigned i;

	picsec__v1__ike_stats__init(st);
	for (i = 0; i < d->n_fields; i++) {
		cr_assert_eq(d->fields[i].type, PROTOBUF_C_TYPE_UINT64, "%s", d->fields[i].name);
		cr_assert_eq(d->fields[i].label, PROTOBUF_C_LABEL_NONE, "%s", d->fields[i].name);
		v = 100000 + d->fields[i].id;
		memcpy((char *)st + d->fields[i].offset, &v, sizeof(v));
	}
}

static char *
stats(const Picsec__V1__IkeStats *st, const char *peer, bool json)
{
	struct strbuf sb = STRBUF_INIT;

	cli_ike_format_stats(&sb, st, peer, json);
	return done(&sb);
}

Test(cli_ike, stats_text)
{
	Picsec__V1__IkeStats st;
	char *s;

	stats_fill(&st);
	s = stats(&st, NULL, false);
	/* The field numbers of ike.proto, plus 100000. */
	cr_assert_str_eq(s,
	    "IKE statistics:\n"
	    "  Packets:\n"
	    "    Input packets:                      100001\n"
	    "    Output packets:                     100002\n"
	    "    Retransmissions:                    100015\n"
	    "  Dropped packets:\n"
	    "    Malformed:                          100003\n"
	    "    Unknown SPI:                        100004\n"
	    "    Other:                              100005\n"
	    "  IKE SA negotiations:\n"
	    "    IKE_SA_INIT requests received:      100006\n"
	    "    IKE_SA_INIT requests sent:          100007\n"
	    "    Established:                        100008\n"
	    "    Failed:                             100009\n"
	    "    No proposal chosen:                 100010\n"
	    "    Authentication failed:              100011\n"
	    "    Cookies sent:                       100012\n"
	    "    Invalid KE payloads sent:           100013\n"
	    "    Invalid KE payloads received:       100014\n"
	    "  Rekeys:\n"
	    "    IKE SA rekeys:                      100023\n"
	    "    IPsec SA rekeys:                    100022\n"
	    "    IPsec SAs installed:                100024\n"
	    "  Delete payloads:\n"
	    "    Received:                           100016\n"
	    "    Sent:                               100017\n"
	    "  Invalid SPI notifications:\n"
	    "    Received:                           100025\n"
	    "    Sent:                               100026\n"
	    "  Dead peer detection:\n"
	    "    Requests sent:                      100018\n"
	    "    Responses received:                 100019\n"
	    "    Requests received:                  100020\n"
	    "    Failures:                           100021\n");
	free(s);
}

Test(cli_ike, stats_show_every_counter)
{
	const ProtobufCMessageDescriptor *d = &picsec__v1__ike_stats__descriptor;
	Picsec__V1__IkeStats st;
	char *text, *json, want[32];
	unsigned i;

	/* A counter added to IkeStats must get a label here too. */
	stats_fill(&st);
	text = stats(&st, NULL, false);
	json = stats(&st, NULL, true);
	for (i = 0; i < d->n_fields; i++) {
		snprintf(want, sizeof(want), " %u\n", 100000 + d->fields[i].id);
		cr_assert_eq(count_of(text, want), 1, "%s (%s) in:\n%s", d->fields[i].name, want,
		    text);
		snprintf(want, sizeof(want), ": %u", 100000 + d->fields[i].id);
		cr_assert_eq(count_of(json, want), 1, "%s (%s) in:\n%s", d->fields[i].name, want,
		    json);
	}
	cr_assert_eq(count_of(json, ": 1000"), d->n_fields, "%s", json);
	free(text);
	free(json);
}

Test(cli_ike, stats_json)
{
	Picsec__V1__IkeStats st;
	char *s;

	stats_fill(&st);
	s = stats(&st, NULL, true);
	assert_json(s);
	assert_starts(s, "{\n  \"ike-security-associations-statistics\": {\n"
	    "    \"input-packets\": 100001,\n    \"output-packets\": 100002,\n");
	assert_has(s, "\"dropped-unknown-spi\": 100004");
	assert_has(s, "\"ike-sa-init-requests-received\": 100006");
	assert_has(s, "\"ike-sa-established\": 100008");
	assert_has(s, "\"ipsec-sa-rekeys\": 100022");
	assert_has(s, "\"ike-sa-rekeys\": 100023");
	assert_has(s, "\"delete-payloads-sent\": 100017");
	assert_has(s, "\"invalid-spi-notifications-sent\": 100026");
	assert_has(s, "\"dpd-failures\": 100021\n  }\n}\n");
	cr_assert_null(strstr(s, "ike-sa-remote-address"), "a peer for the totals:\n%s", s);
	free(s);
}

Test(cli_ike, stats_of_one_peer)
{
	Picsec__V1__IkeStats st = PICSEC__V1__IKE_STATS__INIT;
	char *s;

	st.established = 2;
	s = stats(&st, "192.0.2.2", false);
	assert_starts(s, "IKE statistics for peer 192.0.2.2:\n  Packets:\n"
	    "    Input packets:                           0\n");
	assert_has(s, "    Established:                             2\n");
	free(s);
	s = stats(&st, "192.0.2.2", true);
	assert_json(s);
	assert_has(s, "{\n    \"ike-sa-remote-address\": \"192.0.2.2\",\n"
	    "    \"input-packets\": 0,");
	assert_has(s, "\"ike-sa-established\": 2,");
	free(s);
	/* No reply to show is all zeros, not a crash. */
	s = stats(NULL, NULL, false);
	assert_has(s, "    Failures:                                0\n");
	free(s);
}

Test(cli_ike, cleared)
{
	Picsec__V1__IkeCleared c = PICSEC__V1__IKE_CLEARED__INIT;
	struct strbuf sb = STRBUF_INIT;

	cli_ike_format_cleared(&sb, &c, false);
	cr_assert_str_eq(done(&sb), "Cleared 0 IKE SAs\n");
	strbuf_reset(&sb);
	c.count = 1;
	cli_ike_format_cleared(&sb, &c, false);
	cr_assert_str_eq(done(&sb), "Cleared 1 IKE SA\n");
	strbuf_reset(&sb);
	c.count = 3;
	cli_ike_format_cleared(&sb, &c, false);
	cr_assert_str_eq(done(&sb), "Cleared 3 IKE SAs\n");
	strbuf_reset(&sb);
	cli_ike_format_cleared(&sb, &c, true);
	assert_json(done(&sb));
	assert_has(sb.buf, "\"count\":3");
	strbuf_release(&sb);
}

/*
 * The words after the commands.
 */
static int
parse(bool keywords, struct cli_ike_args *a, char *err, size_t errlen, int n, ...)
{
	char *words[8];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		words[i] = va_arg(ap, char *);
	va_end(ap);
	err[0] = '\0';
	return cli_ike_parse_args(words, n, keywords, a, err, errlen);
}

Test(cli_ike, words_brief_detail_and_a_peer)
{
	static const uint8_t want[4] = { 192, 0, 2, 2 };
	struct cli_ike_args a;
	char err[256];

	cr_assert_eq(parse(true, &a, err, sizeof(err), 0), 0);
	cr_assert_not(a.detail);
	cr_assert_not(a.has_peer);
	cr_assert_eq(parse(true, &a, err, sizeof(err), 1, "detail"), 0);
	cr_assert(a.detail);
	cr_assert_eq(parse(true, &a, err, sizeof(err), 1, "d"), 0);
	cr_assert(a.detail);
	cr_assert_eq(parse(true, &a, err, sizeof(err), 2, "detail", "br"), 0);
	cr_assert_not(a.detail, "the last of brief and detail counts");
	cr_assert_eq(parse(true, &a, err, sizeof(err), 2, "192.0.2.2", "det"), 0, "%s", err);
	cr_assert(a.detail);
	cr_assert(a.has_peer);
	cr_assert_arr_eq(a.peer, want, 4);
	cr_assert_str_eq(a.peer_text, "192.0.2.2");
	cr_assert_eq(parse(false, &a, err, sizeof(err), 1, "192.0.2.2"), 0, "%s", err);
	cr_assert(a.has_peer);
	cr_assert_arr_eq(a.peer, want, 4);
	cr_assert_eq(parse(false, &a, err, sizeof(err), 1, "255.255.255.255"), 0, "%s", err);
	cr_assert_str_eq(a.peer_text, "255.255.255.255");
}

#define ASSERT_REFUSED(keywords, word, msg) do {					\
	struct cli_ike_args a_;								\
	char err_[256];									\
	cr_assert_eq(parse((keywords), &a_, err_, sizeof(err_), 1, (word)), -1,	\
	    "'%s' was taken", (word));							\
	cr_assert_str_eq(err_, (msg));							\
} while (0)

Test(cli_ike, words_that_are_no_peer_address)
{
	struct cli_ike_args a;
	char err[256];
	const char *bad[] = { "x", "", "192.0.2", "192.0.2.256", "192.0.2.2.1", "0x1.2.3.4",
	    "192.0.2.2 ", " 192.0.2.2", "192.0.2.-1", "2001:db8::1", "::ffff:192.0.2.2",
	    "192.0.2.2/32", "1.2.3.04", "192.0.2.2:500" };
	size_t i;

	ASSERT_REFUSED(true, "x",
	    "invalid peer address 'x' (expected brief, detail or a dotted IPv4 address)");
	ASSERT_REFUSED(false, "x", "invalid peer address 'x' (expected a dotted IPv4 address)");
	/* statistics and clear take no keywords */
	ASSERT_REFUSED(false, "detail",
	    "invalid peer address 'detail' (expected a dotted IPv4 address)");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(true, &a, err, sizeof(err), 1, bad[i]), -1, "'%s' was taken",
		    bad[i]);
		cr_assert_not_null(strstr(err, "invalid peer address '"), "%s", err);
	}
	cr_assert_eq(parse(false, &a, err, sizeof(err), 2, "192.0.2.2", "192.0.2.3"), -1);
	cr_assert_str_eq(err, "one peer address only, not '192.0.2.2' and '192.0.2.3'");
}

/*
 * The command table: completion, help, and the commands run without iked.
 */
static void
words_of(const char *line, char *buf, size_t len, char *hint, size_t hintlen)
{
	struct cli_choice c[32];
	struct cli cli;
	size_t n, i;

	memset(&cli, 0, sizeof(cli));
	n = cli_complete(&cli, line, c, 32, hint, hintlen);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(buf, c[i].word, len - strlen(buf) - 1);
		if (i + 1 < n)
			strncat(buf, " ", len - strlen(buf) - 1);
	}
}

#define ASSERT_COMPLETES(line, want, want_hint) do {				\
	char got_[512], hint_[64];						\
	words_of((line), got_, sizeof(got_), hint_, sizeof(hint_));		\
	cr_assert_str_eq(got_, (want), "'%s' completes to '%s'", (line), got_);	\
	cr_assert_str_eq(hint_, (want_hint), "'%s' hints '%s'", (line), hint_);	\
} while (0)

Test(cli_ike, completion)
{
	ASSERT_COMPLETES("show services ipsec-vpn ", "ike ipsec", "");
	ASSERT_COMPLETES("show services ipsec-vpn ik", "ike", "");
	ASSERT_COMPLETES("show services ipsec-vpn ike ", "security-associations statistics", "");
	ASSERT_COMPLETES("sh ser ipsec-vpn ike st", "statistics", "");
	ASSERT_COMPLETES("clear services ipsec-vpn ", "ike ipsec", "");
	ASSERT_COMPLETES("clear services ipsec-vpn ike ", "security-associations", "");
	ASSERT_COMPLETES("show services ipsec-vpn ike security-associations ", "brief detail",
	    "<PEER-ADDRESS>");
	ASSERT_COMPLETES("show services ipsec-vpn ike security-associations de", "detail",
	    "<PEER-ADDRESS>");
	ASSERT_COMPLETES("show services ipsec-vpn ike security-associations 192.0.2.2 ",
	    "brief detail", "<PEER-ADDRESS>");
	ASSERT_COMPLETES("show services ipsec-vpn ike statistics ", "", "<PEER-ADDRESS>");
	ASSERT_COMPLETES("clear services ipsec-vpn ike security-associations ", "",
	    "<PEER-ADDRESS>");
	/* the IPsec commands keep theirs */
	ASSERT_COMPLETES("show services ipsec-vpn ipsec security-associations ",
	    "brief detail service-set", "");
}

Test(cli_ike, completion_help)
{
	struct cli_choice c[8];
	struct cli cli;
	char hint[64];

	memset(&cli, 0, sizeof(cli));
	cr_assert_eq(cli_complete(&cli, "show services ipsec-vpn ike s", c, 8, hint,
	    sizeof(hint)), 2);
	cr_assert_str_eq(c[0].word, "security-associations");
	cr_assert_str_eq(c[0].help, "the IKE SAs [brief | detail] [PEER-ADDRESS]");
	cr_assert_str_eq(c[1].word, "statistics");
	cr_assert_str_eq(c[1].help, "picsec-iked's counters [PEER-ADDRESS]");
	cr_assert_eq(cli_complete(&cli, "clear services ipsec-vpn ike s", c, 8, hint,
	    sizeof(hint)), 1);
	cr_assert_str_eq(c[0].help, "delete the IKE SAs and their IPsec SAs [PEER-ADDRESS]");
}

Test(cli_ike, listed_in_help)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cli_list_commands(f);
	fclose(f);
	assert_has(buf, "  show services ipsec-vpn ike security-associations\n"
	    "      the IKE SAs [brief | detail] [PEER-ADDRESS]\n");
	assert_has(buf, "  show services ipsec-vpn ike statistics\n");
	assert_has(buf, "  clear services ipsec-vpn ike security-associations\n");
	free(buf);
}

/* A CLI with a bus that has no busd (so no iked) behind it. */
static struct {
	char rundir[256];
	struct ev_loop *loop;
	struct cli cli;
} nb;

static void
nobus_setup(void)
{
	struct bus_options opts = { .service = "cli", .anonymous = true };
	char err[256];

	cr_redirect_stdout();
	cr_redirect_stderr();
	memset(&nb, 0, sizeof(nb));
	test_mkdtemp(nb.rundir, sizeof(nb.rundir));
	opts.rundir = nb.rundir;
	nb.loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(nb.loop);
	nb.cli.bus = bus_new(nb.loop, &opts, err, sizeof(err));
	cr_assert_not_null(nb.cli.bus, "%s", err);
	nb.cli.timeout_ms = 50;
}

static void
nobus_teardown(void)
{
	bus_free(nb.cli.bus);
	ev_loop_destroy(nb.loop);
	test_rmdir(nb.rundir);
}

/* Runs line; returns its status. Its output goes to the redirected stdout and stderr. */
static int
run(const char *line)
{
	int rc = cli_line(&nb.cli, line);

	fflush(stdout);
	fflush(stderr);
	return rc;
}

/* The lines on the redirected stderr so far, each checked to start with want[i]. */
static void
assert_stderr_lines(const char *const *want, size_t n)
{
	FILE *f = cr_get_redirected_stderr();
	char line[512];
	size_t i = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		cr_assert_lt(i, n, "one line too many: %s", line);
		cr_assert_eq(strncmp(line, want[i], strlen(want[i])), 0, "line %zu is '%s', not "
		    "'%s...'", i + 1, line, want[i]);
		cr_assert_eq(line[strlen(line) - 1], '\n');
		i++;
	}
	cr_assert_eq(i, n, "%zu lines on stderr, not %zu", i, n);
}

Test(cli_ike, without_iked_each_command_fails_with_one_line, .init = nobus_setup,
    .fini = nobus_teardown)
{
	/* What follows is the bus library's to say ("not connected to the bus ..."). */
	static const char *const want[] = {
		"error: no reply from 'iked' to IkeGetList within 50 ms: ",
		"error: no reply from 'iked' to IkeGetList within 50 ms: ",
		"error: no reply from 'iked' to IkeGetStats within 50 ms: ",
		"error: no reply from 'iked' to IkeClear within 50 ms: ",
	};

	cr_assert_eq(run("show services ipsec-vpn ike security-associations"), 1);
	cr_assert_eq(run("show services ipsec-vpn ike security-associations detail 192.0.2.2 "
	    "| display json"), 1);
	cr_assert_eq(run("show services ipsec-vpn ike statistics"), 1);
	cr_assert_eq(run("clear services ipsec-vpn ike security-associations 192.0.2.2"), 1);
	cr_assert_stdout_eq_str("");
	assert_stderr_lines(want, sizeof(want) / sizeof(want[0]));
}

Test(cli_ike, a_bad_peer_is_refused_before_asking, .init = nobus_setup,
    .fini = nobus_teardown)
{
	cr_assert_eq(run("show services ipsec-vpn ike security-associations x"), 1);
	cr_assert_eq(run("show services ipsec-vpn ike statistics brief"), 1);
	cr_assert_eq(run("clear services ipsec-vpn ike security-associations 10.1"), 1);
	cr_assert_eq(run("sh ser ipsec-vpn i security-associations"), 1);
	cr_assert_stdout_eq_str("");
	cr_assert_stderr_eq_str(
	    "error: invalid peer address 'x' (expected brief, detail or a dotted IPv4 "
	    "address)\n"
	    "error: invalid peer address 'brief' (expected a dotted IPv4 address)\n"
	    "error: invalid peer address '10.1' (expected a dotted IPv4 address)\n"
	    "error: ambiguous command: sh ser ipsec-vpn i security-associations\n");
}
