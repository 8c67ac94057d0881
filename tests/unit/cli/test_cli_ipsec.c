/* What show services ipsec-vpn ipsec security-associations and statistics print, from SaList
 * and PicStats messages built by hand: two service sets on two PICs, a bidirectional ESP
 * pair, an AH SA that is not installed, a dynamic AH/ESP bundle; text, detail and JSON. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cli_ipsec.h"
#include "json_check.h"

#define S(s) ((char *)(uintptr_t)(s))
#define NOW_NS 1800000000000000000ULL
#define SEC 1000000000ULL

static const uint8_t gw_a[4] = { 192, 0, 2, 1 }, gw_b[4] = { 192, 0, 2, 2 };
static const uint8_t gw_c[4] = { 198, 51, 100, 1 }, gw_d[4] = { 198, 51, 100, 2 };
static const uint8_t net_a[4] = { 10, 1, 0, 0 }, net_b[4] = { 10, 2, 0, 0 };
static const uint8_t secret[] = "topsecret";

enum { NSA = 5 };

static struct {
	Picsec__V1__IpAddress a, b, c, d;
	Picsec__V1__IpPrefix pa, pb;
	Picsec__V1__Secret key;
	Picsec__V1__Sa sa[NSA];
	Picsec__V1__SaInfo info[NSA];
	Picsec__V1__SaInfo *infos[NSA];
	Picsec__V1__SaList list;

	Picsec__V1__SaCounters ctr[5];
	Picsec__V1__SaCounters *ctrs0[3], *ctrs1[2];
	Picsec__V1__ServiceSetCounters ssc[2];
	Picsec__V1__ServiceSetCounters *sscs0[1], *sscs1[1];
	Picsec__V1__PicStats pic[2];
	const Picsec__V1__PicStats *pics[2];
} fx;

static void
ip4(Picsec__V1__IpAddress *a, const uint8_t *bytes)
{
	picsec__v1__ip_address__init(a);
	a->addr.data = (uint8_t *)(uintptr_t)bytes;
	a->addr.len = 4;
}

static void
prefix4(Picsec__V1__IpPrefix *p, const uint8_t *bytes, uint32_t len)
{
	picsec__v1__ip_prefix__init(p);
	p->addr.data = (uint8_t *)(uintptr_t)bytes;
	p->addr.len = 4;
	p->length = len;
}

/* One SA of the fixture: index i, with what the tests vary. */
static Picsec__V1__Sa *
sa(int i, uint64_t id, const char *set, const char *rule, const char *term, uint32_t order,
    Picsec__V1__SaDirection dir, Picsec__V1__IpsecProtocol proto, uint32_t spi,
    const char *pic, bool installed)
{
	Picsec__V1__Sa *s = &fx.sa[i];
	Picsec__V1__SaInfo *info = &fx.info[i];

	picsec__v1__sa__init(s);
	s->id = id;
	s->service_set = S(set);
	s->rule = S(rule);
	s->term = S(term);
	s->order = order;
	s->direction = dir;
	s->protocol = proto;
	s->spi = spi;
	s->enc_key = &fx.key;	/* sadb leaves them out; should one come, it must not show */
	s->auth_key = &fx.key;
	s->ttl = 64;
	s->df_bit = PICSEC__V1__DF_BIT__DF_BIT_CLEAR;
	picsec__v1__sa_info__init(info);
	info->sa = s;
	info->pic = S(pic);
	info->installed = installed;
	info->created_ns = NOW_NS - 100 * SEC;
	return s;
}

static void
setup(void)
{
	Picsec__V1__Sa *s;
	int i;

	memset(&fx, 0, sizeof(fx));
	ip4(&fx.a, gw_a);
	ip4(&fx.b, gw_b);
	ip4(&fx.c, gw_c);
	ip4(&fx.d, gw_d);
	prefix4(&fx.pa, net_a, 24);
	prefix4(&fx.pb, net_b, 24);
	picsec__v1__secret__init(&fx.key);
	fx.key.material.data = (uint8_t *)(uintptr_t)secret;
	fx.key.material.len = sizeof(secret) - 1;

	/* branch, tunnel 1: a manual ESP pair on ms-0/0/0. */
	s = sa(0, 1, "branch", "to-hq", "t1", 1, PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND,
	    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP, 16000, "ms-0/0/0", true);
	s->enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	s->auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	s->replay_window = 128;
	s->source = &fx.pb;
	s->destination = &fx.pa;
	s = sa(1, 2, "branch", "to-hq", "t1", 1, PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND,
	    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP, 16001, "ms-0/0/0", true);
	s->enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	s->auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	s->tunnel_mtu = 1400;
	s->source = &fx.pa;
	s->destination = &fx.pb;
	/* branch, tunnel 2: one outbound AH SA the PIC has not installed. */
	s = sa(2, 3, "branch", "to-hq", "t2", 2, PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND,
	    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH, 300, "ms-0/0/0", false);
	s->auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_MD5_96;
	s->ttl = 0;
	s->tos = 16;
	/* hq: a dynamic AH/ESP bundle in UDP on ms-1/0/0. */
	for (i = 3; i < 5; i++) {
		s = sa(i, (uint64_t)i + 1, "hq", "from-branch", "t1", 1, i == 3 ?
		    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND :
		    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND,
		    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE, 500 + (uint32_t)i - 3,
		    "ms-1/0/0", true);
		s->origin = PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC;
		s->auxiliary_spi = 600 + (uint32_t)i - 3;
		s->enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_3DES_CBC;
		s->auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128;
		s->esn = true;
		s->encap_sport = 4500;
		s->encap_dport = 4500;
		s->soft_lifetime_seconds = 3600;
		s->hard_lifetime_seconds = 3700;
		s->hard_lifetime_kbytes = 1000;
		s->replay_window = 64;
		s->df_bit = PICSEC__V1__DF_BIT__DF_BIT_SET;
	}
	for (i = 0; i < NSA; i++) {
		fx.sa[i].local_gateway = i < 3 ? &fx.a : &fx.c;
		fx.sa[i].remote_gateway = i < 3 ? &fx.b : &fx.d;
	}
	/* sadb lists them in no particular order. */
	fx.infos[0] = &fx.info[4];
	fx.infos[1] = &fx.info[2];
	fx.infos[2] = &fx.info[1];
	fx.infos[3] = &fx.info[3];
	fx.infos[4] = &fx.info[0];
	picsec__v1__sa_list__init(&fx.list);
	fx.list.sas = fx.infos;
	fx.list.n_sas = NSA;

	for (i = 0; i < 5; i++)
		picsec__v1__sa_counters__init(&fx.ctr[i]);
	fx.ctr[0].id = 1;	/* inbound ESP */
	fx.ctr[0].esp_packets = 10;
	fx.ctr[0].esp_bytes = 1234;
	fx.ctr[0].replay_errors = 2;
	fx.ctr[1].id = 2;	/* outbound ESP */
	fx.ctr[1].esp_packets = 11;
	fx.ctr[1].esp_bytes = 1300;
	fx.ctr[1].mtu_exceeded = 1;
	fx.ctr[2].id = 99;	/* an SA sadb no longer lists */
	fx.ctr[2].esp_bytes = 987654321;
	fx.ctr[3].id = 4;	/* inbound bundle */
	fx.ctr[3].esp_packets = 5;
	fx.ctr[3].esp_bytes = 500;
	fx.ctr[3].ah_packets = 5;
	fx.ctr[3].ah_bytes = 600;
	fx.ctr[3].ah_auth_failures = 1;
	fx.ctr[4].id = 5;	/* outbound bundle */
	fx.ctr[4].esp_packets = 6;
	fx.ctr[4].esp_bytes = 700;
	fx.ctr[4].ah_packets = 6;
	fx.ctr[4].ah_bytes = 800;
	for (i = 0; i < 3; i++)
		fx.ctrs0[i] = &fx.ctr[i];
	fx.ctrs1[0] = &fx.ctr[3];
	fx.ctrs1[1] = &fx.ctr[4];
	for (i = 0; i < 2; i++) {
		picsec__v1__service_set_counters__init(&fx.ssc[i]);
		picsec__v1__pic_stats__init(&fx.pic[i]);
	}
	fx.ssc[0].service_set = S("branch");
	fx.ssc[0].invalid_spi = 3;
	fx.ssc[0].no_sa = 1;
	fx.ssc[1].service_set = S("hq");
	fx.sscs0[0] = &fx.ssc[0];
	fx.sscs1[0] = &fx.ssc[1];
	fx.pic[0].pic = S("ms-0/0/0");
	fx.pic[0].sas = fx.ctrs0;
	fx.pic[0].n_sas = 3;
	fx.pic[0].service_sets = fx.sscs0;
	fx.pic[0].n_service_sets = 1;
	fx.pic[1].pic = S("ms-1/0/0");
	fx.pic[1].sas = fx.ctrs1;
	fx.pic[1].n_sas = 2;
	fx.pic[1].service_sets = fx.sscs1;
	fx.pic[1].n_service_sets = 1;
	/* in the order the PICs answered, not by name */
	fx.pics[0] = &fx.pic[1];
	fx.pics[1] = &fx.pic[0];
}

TestSuite(cli_ipsec, .init = setup);

static char *
done(struct strbuf *sb)
{
	cr_assert_not(strbuf_failed(sb));
	cr_assert_not_null(sb->buf);
	cr_assert_null(strstr(sb->buf, "topsecret"), "a key was printed");
	return sb->buf;
}

static char *
sas(const Picsec__V1__SaList *list, bool detail, bool json)
{
	struct strbuf sb = STRBUF_INIT;

	cli_ipsec_format_sas(&sb, list, detail, json, NOW_NS);
	return done(&sb);
}

static char *
stats(const Picsec__V1__PicStats *const *pics, size_t n, bool detail, bool json)
{
	struct strbuf sb = STRBUF_INIT;

	cli_ipsec_format_stats(&sb, &fx.list, pics, n, detail, json);
	return done(&sb);
}

Test(cli_ipsec, json_checker_catches_mistakes)
{
	assert_json("{\"a\": [1, \"x\\\"\", {}], \"b\": true}");
	cr_assert_null(json_value("{\"a\": [1, 2}", 0));
	cr_assert_null(json_value("{\"a\" 1}", 0));
	cr_assert_null(json_value("[\"a\nb\"]", 0));
	cr_assert_null(json_value("[1,]", 0));
	cr_assert_null(json_value("[-]", 0));
}

Test(cli_ipsec, sas_brief)
{
	char *s = sas(&fx.list, false, false);

	cr_assert_str_eq(s,
	    "Service set: branch, IKE Routing-instance: default\n"
	    "\n"
	    "  Rule: to-hq, Term: t1, Tunnel index: 1\n"
	    "  Local gateway: 192.0.2.1, Remote gateway: 192.0.2.2\n"
	    "\n"
	    "    Direction SPI         AUX-SPI     Mode       Type     Protocol\n"
	    "    inbound   16000       0           tunnel     manual   ESP\n"
	    "    outbound  16001       0           tunnel     manual   ESP\n"
	    "\n"
	    "  Rule: to-hq, Term: t2, Tunnel index: 2\n"
	    "  Local gateway: 192.0.2.1, Remote gateway: 192.0.2.2\n"
	    "\n"
	    "    Direction SPI         AUX-SPI     Mode       Type     Protocol\n"
	    "    outbound  300         0           tunnel     manual   AH\n"
	    "\n"
	    "Service set: hq, IKE Routing-instance: default\n"
	    "\n"
	    "  Rule: from-branch, Term: t1, Tunnel index: 1\n"
	    "  Local gateway: 198.51.100.1, Remote gateway: 198.51.100.2\n"
	    "\n"
	    "    Direction SPI         AUX-SPI     Mode       Type     Protocol\n"
	    "    inbound   500         600         tunnel     dynamic  AH/ESP\n"
	    "    outbound  501         601         tunnel     dynamic  AH/ESP\n");
	free(s);
}

static void
assert_has(const char *s, const char *what)
{
	cr_assert_not_null(strstr(s, what), "missing \"%s\" in:\n%s", what, s);
}

Test(cli_ipsec, sas_detail)
{
	char *s = sas(&fx.list, true, false);
	const char *in, *out;

	assert_has(s, "  Rule: to-hq, Term: t1, Tunnel index: 1\n"
	    "  Local gateway: 192.0.2.1, Remote gateway: 192.0.2.2\n"
	    "  Local identity: ipv4_subnet(any:0,[0..7]=10.1.0.0/24)\n"
	    "  Remote identity: ipv4_subnet(any:0,[0..7]=10.2.0.0/24)\n"
	    "  Anchored PIC: ms-0/0/0\n"
	    "\n"
	    "    Direction: inbound, SPI: 16000, AUX-SPI: 0\n"
	    "    Mode: tunnel, Type: manual, State: Installed\n"
	    "    Protocol: ESP, Authentication: hmac-sha1-96, Encryption: aes-128-cbc\n"
	    "    Soft lifetime: Manual SA: no lifetime\n"
	    "    Hard lifetime: Manual SA: no lifetime\n"
	    "    Anti-replay service: enabled, Replay window size: 128\n"
	    "    Extended sequence number: disabled\n"
	    "    Tunnel MTU: none, DF bit: clear\n"
	    "    Copy TTL from inner IP header: Disabled, TTL value: 64\n"
	    "    Copy ToS from inner IP header: Enabled\n"
	    "    UDP encapsulate: Disabled, UDP dst port: 0\n"
	    "\n"
	    "    Direction: outbound, SPI: 16001, AUX-SPI: 0\n");
	in = strstr(s, "Direction: inbound, SPI: 16000");
	out = strstr(s, "Direction: outbound, SPI: 16001");
	cr_assert(in != NULL && out != NULL && in < out);
	assert_has(s, "    Anti-replay service: not applicable\n");
	assert_has(s, "    Tunnel MTU: 1400, DF bit: clear\n");
	/* the AH SA */
	assert_has(s, "    Mode: tunnel, Type: manual, State: Not Installed\n"
	    "    Protocol: AH, Authentication: hmac-md5-96, Encryption: none\n");
	assert_has(s, "    Copy TTL from inner IP header: Enabled\n"
	    "    Copy ToS from inner IP header: Disabled, ToS value: 16\n");
	/* the bundle: 100 s into its lifetimes */
	assert_has(s,
	    "    Protocol: AH/ESP, Authentication: hmac-sha-256-128, Encryption: 3des-cbc\n"
	    "    Soft lifetime: Expires in 3500 seconds\n"
	    "    Hard lifetime: Expires in 3600 seconds or after 1000 kilobytes\n"
	    "    Anti-replay service: enabled, Replay window size: 64\n"
	    "    Extended sequence number: enabled\n"
	    "    Tunnel MTU: none, DF bit: set\n");
	assert_has(s, "    UDP encapsulate: Enabled, UDP dst port: 4500\n");
	assert_has(s, "\nService set: hq, IKE Routing-instance: default\n");
	free(s);
}

Test(cli_ipsec, no_sas)
{
	Picsec__V1__SaList empty = PICSEC__V1__SA_LIST__INIT;
	char *s;

	s = sas(&empty, false, false);
	cr_assert_str_eq(s, "No IPsec SAs\n");
	free(s);
	s = sas(NULL, true, false);
	cr_assert_str_eq(s, "No IPsec SAs\n");
	free(s);
	s = sas(&empty, false, true);
	assert_json(s);
	assert_has(s, "\"services-security-associations-information\": []");
	free(s);
}

Test(cli_ipsec, sas_json)
{
	char *s = sas(&fx.list, false, true);

	assert_json(s);
	cr_assert_eq(strncmp(s, "{\n  \"services-security-associations-information\": [\n", 52),
	    0, "%s", s);
	assert_has(s, "\"svc-set-name\": \"branch\"");
	assert_has(s, "\"svc-set-name\": \"hq\"");
	assert_has(s, "\"sa-rule-name\": \"to-hq\"");
	assert_has(s, "\"sa-term-name\": \"t2\"");
	assert_has(s, "\"sa-tunnel-index\": 2");
	assert_has(s, "\"sa-anchored-pic\": \"ms-1/0/0\"");
	assert_has(s, "\"sa-remote-gateway\": \"198.51.100.2\"");
	assert_has(s, "\"sa-spi\": 16000");
	assert_has(s, "\"sa-aux-spi\": 601");
	assert_has(s, "\"sa-state\": \"installed\"");
	assert_has(s, "\"sa-state\": \"Not Installed\"");
	assert_has(s, "\"sa-protocol\": \"AH/ESP\"");
	assert_has(s, "\"sa-type\": \"dynamic\"");
	cr_assert_null(strstr(s, "sa-authentication-algorithm"), "detail in brief JSON");
	free(s);

	s = sas(&fx.list, true, true);
	assert_json(s);
	assert_has(s, "\"sa-authentication-algorithm\": \"hmac-sha1-96\"");
	assert_has(s, "\"sa-encryption-algorithm\": \"none\"");
	assert_has(s, "\"sa-soft-lifetime\": \"Expires in 3500 seconds\"");
	assert_has(s, "\"sa-anti-replay-service\": \"enabled\"");
	assert_has(s, "\"sa-replay-window-size\": 128");
	assert_has(s, "\"sa-tunnel-mtu\": 1400");
	assert_has(s, "\"sa-udp-dst-port\": 4500");
	assert_has(s, "\"sa-local-identity\": \"ipv4_subnet(any:0,[0..7]=10.1.0.0/24)\"");
	free(s);
}

Test(cli_ipsec, json_escapes_configured_names)
{
	char *s;

	fx.sa[0].service_set = S("a\"b\\c\n\x01");
	fx.sa[0].rule = S("r\tule");
	s = sas(&fx.list, true, true);
	assert_json(s);
	assert_has(s, "\"svc-set-name\": \"a\\\"b\\\\c\\n\\u0001\"");
	assert_has(s, "\"sa-rule-name\": \"r\\tule\"");
	free(s);
	s = stats(fx.pics, 2, true, true);
	assert_json(s);
	assert_has(s, "\"service-set-name\": \"a\\\"b\\\\c\\n\\u0001\"");
	free(s);
}

Test(cli_ipsec, stats_brief)
{
	char *s = stats(fx.pics, 2, false, false);

	cr_assert_str_eq(s,
	    "PIC: ms-0/0/0, Service set: branch\n"
	    "\n"
	    "ESP Statistics:\n"
	    "  Encrypted bytes:              1300\n"
	    "  Decrypted bytes:              1234\n"
	    "  Encrypted packets:              11\n"
	    "  Decrypted packets:              10\n"
	    "AH Statistics:\n"
	    "  Input bytes:                     0\n"
	    "  Output bytes:                    0\n"
	    "  Input packets:                   0\n"
	    "  Output packets:                  0\n"
	    "Errors:\n"
	    "  AH authentication failures: 0, Replay errors: 2\n"
	    "  ESP authentication failures: 0, ESP decryption failures: 0\n"
	    "  Bad headers: 0, Bad trailers: 0\n"
	    "  Invalid SPI: 3, No SA: 1, Exceeds tunnel MTU: 1\n"
	    "\n"
	    "PIC: ms-1/0/0, Service set: hq\n"
	    "\n"
	    "ESP Statistics:\n"
	    "  Encrypted bytes:               700\n"
	    "  Decrypted bytes:               500\n"
	    "  Encrypted packets:               6\n"
	    "  Decrypted packets:               5\n"
	    "AH Statistics:\n"
	    "  Input bytes:                   600\n"
	    "  Output bytes:                  800\n"
	    "  Input packets:                   5\n"
	    "  Output packets:                  6\n"
	    "Errors:\n"
	    "  AH authentication failures: 1, Replay errors: 0\n"
	    "  ESP authentication failures: 0, ESP decryption failures: 0\n"
	    "  Bad headers: 0, Bad trailers: 0\n"
	    "  Invalid SPI: 0, No SA: 0, Exceeds tunnel MTU: 0\n");
	free(s);
}

Test(cli_ipsec, stats_detail)
{
	char *s = stats(fx.pics, 2, true, false);

	assert_has(s, "PIC: ms-0/0/0, Service set: branch\n"
	    "\n"
	    "  Rule: to-hq, Term: t1\n"
	    "  Local gateway: 192.0.2.1, Remote gateway: 192.0.2.2, Tunnel index: 1\n"
	    "  ESP Statistics:\n"
	    "    Encrypted bytes:              1300\n"
	    "    Decrypted bytes:              1234\n");
	assert_has(s, "    AH authentication failures: 0, Replay errors: 2\n");
	assert_has(s, "    Exceeds tunnel MTU: 1\n"
	    "\n"
	    "  Rule: to-hq, Term: t2\n"
	    "  Local gateway: 192.0.2.1, Remote gateway: 192.0.2.2, Tunnel index: 2\n"
	    "  ESP Statistics:\n"
	    "    Encrypted bytes:                 0\n");
	assert_has(s, "  Service set errors:\n"
	    "    Invalid SPI: 3, No SA: 1\n"
	    "\n"
	    "PIC: ms-1/0/0, Service set: hq\n");
	assert_has(s, "  Local gateway: 198.51.100.1, Remote gateway: 198.51.100.2, "
	    "Tunnel index: 1\n");
	cr_assert_null(strstr(s, "987654321"), "counters of an unknown SA were counted");
	free(s);
}

Test(cli_ipsec, stats_json)
{
	char *s = stats(fx.pics, 2, false, true);

	assert_json(s);
	assert_has(s, "\"ipsec-total-statistics-information\": [");
	assert_has(s, "\"pic-name\": \"ms-0/0/0\",\n      \"service-set-name\": \"branch\"");
	assert_has(s, "\"esp-encrypted-bytes\": 1300");
	assert_has(s, "\"ah-input-bytes\": 600");
	assert_has(s, "\"invalid-spi-errors\": 3");
	assert_has(s, "\"no-sa-errors\": 1");
	cr_assert_null(strstr(s, "ipsec-tunnel-statistics"));
	free(s);

	s = stats(fx.pics, 2, true, true);
	assert_json(s);
	assert_has(s, "\"ipsec-tunnel-statistics\": [");
	assert_has(s, "\"tunnel-index\": 2");
	assert_has(s, "\"remote-gateway\": \"198.51.100.2\"");
	free(s);
}

Test(cli_ipsec, no_stats)
{
	Picsec__V1__SaList empty = PICSEC__V1__SA_LIST__INIT;
	struct strbuf sb = STRBUF_INIT;
	char *s;

	s = stats(NULL, 0, false, false);
	cr_assert_str_eq(s, "No IPsec statistics\n");
	free(s);
	cli_ipsec_format_stats(&sb, &empty, NULL, 0, true, false);
	cr_assert_str_eq(done(&sb), "No IPsec statistics\n");
	strbuf_release(&sb);
	s = stats(NULL, 0, false, true);
	assert_json(s);
	assert_has(s, "\"ipsec-total-statistics-information\": []");
	free(s);
}

Test(cli_ipsec, pic_with_only_service_set_counters)
{
	Picsec__V1__PicStats lone = PICSEC__V1__PIC_STATS__INIT;
	const Picsec__V1__PicStats *pics[1] = { &lone };
	char *s;

	/* A PIC whose SAs are gone still has its service set's errors to show. */
	lone.pic = S("ms-2/0/0");
	lone.service_sets = fx.sscs0;
	lone.n_service_sets = 1;
	s = stats(pics, 1, false, false);
	assert_has(s, "PIC: ms-2/0/0, Service set: branch\n");
	assert_has(s, "  Encrypted bytes:                 0\n");
	assert_has(s, "  Invalid SPI: 3, No SA: 1, Exceeds tunnel MTU: 0\n");
	free(s);
}
