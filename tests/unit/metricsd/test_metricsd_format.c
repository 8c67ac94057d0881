/* What picsec-metricsd writes, from messages built by hand: healthd's processes (one with a
 * name that needs every escape), sadb's SAs (a manual pair, a dynamic pair, one not
 * installed), iked's IKE SAs (one established with its Child SA, one negotiating), the
 * configuration (a manual and two dynamic tunnels) and one PIC's counters. Then each source
 * missing in turn, and the listen address parser. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "expo_check.h"
#include "metricsd.h"
#include "metricsd_format.h"
#include "strbuf.h"

#define S(s) ((char *)(uintptr_t)(s))
#define INCARNATION 0xfedcba9876543211ULL /* above 2^53: a double would round it */
#define STARTED_NS 1800000000123456789ULL

static const uint8_t peer_a[4] = { 192, 0, 2, 2 }, peer_b[4] = { 198, 51, 100, 7 };

enum { NPROC = 4, NSA = 5, NIKE = 2, NCTR = 3 };

static struct {
	Picsec__V1__ServiceInfo proc[NPROC];
	Picsec__V1__ServiceInfo *procs[NPROC];
	Picsec__V1__ServiceList services;

	Picsec__V1__Sa sa[NSA];
	Picsec__V1__SaInfo info[NSA];
	Picsec__V1__SaInfo *infos[NSA];
	Picsec__V1__SaList sas;

	Picsec__V1__IpAddress pa, pb;
	Picsec__V1__IkeChildInfo child;
	Picsec__V1__IkeChildInfo *children[1];
	Picsec__V1__IkeSaInfo ike[NIKE];
	Picsec__V1__IkeSaInfo *ikes[NIKE];
	Picsec__V1__IkeList ikelist;

	Picsec__V1__ManualSa manual;
	Picsec__V1__DynamicSa dynamic;
	Picsec__V1__Term term[3];
	Picsec__V1__Term *terms_r1[1], *terms_r2[2];
	Picsec__V1__Rule rule[2];
	Picsec__V1__Rule *rules[2];
	Picsec__V1__IpsecVpn vpn;
	Picsec__V1__ServiceSet set[2];
	Picsec__V1__ServiceSet *sets[2];
	char *set_rules0[1], *set_rules1[1];
	Picsec__V1__ConfigSnapshot config;

	Picsec__V1__SaCounters ctr[NCTR];
	Picsec__V1__SaCounters *ctrs[NCTR];
	Picsec__V1__ServiceSetCounters ssc;
	Picsec__V1__ServiceSetCounters *sscs[1];
	Picsec__V1__PicStats stats;
	struct metricsd_pic pics[2];

	struct metricsd_input in;
	struct strbuf out;
} fx;

static void
proc(int i, const char *name, Picsec__V1__ServiceStateKind state, uint32_t restarts)
{
	Picsec__V1__ServiceInfo *p = &fx.proc[i];

	picsec__v1__service_info__init(p);
	p->name = S(name);
	p->state = state;
	p->restarts = restarts;
	p->incarnation = INCARNATION + (uint64_t)i;
	p->started_ns = STARTED_NS;
	p->heartbeat_age_ms = 250;
	fx.procs[i] = p;
}

static void
sa(int i, uint64_t id, Picsec__V1__SaOrigin origin, const char *set, const char *rule,
    Picsec__V1__SaDirection dir, uint32_t spi, bool installed)
{
	Picsec__V1__Sa *s = &fx.sa[i];

	picsec__v1__sa__init(s);
	picsec__v1__sa_info__init(&fx.info[i]);
	s->id = id;
	s->origin = origin;
	s->service_set = S(set);
	s->rule = S(rule);
	s->term = S("t1");
	s->direction = dir;
	s->protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	s->spi = spi;
	fx.info[i].sa = s;
	fx.info[i].pic = S("ms-0/0/0");
	fx.info[i].installed = installed;
	fx.infos[i] = &fx.info[i];
}

static void
ip(Picsec__V1__IpAddress *a, const uint8_t *bytes)
{
	picsec__v1__ip_address__init(a);
	a->addr.data = (uint8_t *)(uintptr_t)bytes;
	a->addr.len = 4;
}

static void
setup_health(void)
{
	proc(0, "sadb", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP, 2);
	proc(1, "fwd.ms-0/0/0", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP, 0);
	proc(2, "we\"ird\\name\nx", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UNRESPONSIVE, 1);
	proc(3, "iked", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_INIT, 0);
	fx.proc[3].incarnation = 0;
	fx.proc[3].started_ns = 0;
	picsec__v1__service_list__init(&fx.services);
	fx.services.services = fx.procs;
	fx.services.n_services = NPROC;
}

static void
setup_sas(void)
{
	sa(0, 11, PICSEC__V1__SA_ORIGIN__SA_ORIGIN_MANUAL, "ss1", "r1",
	    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND, 300, true);
	sa(1, 12, PICSEC__V1__SA_ORIGIN__SA_ORIGIN_MANUAL, "ss1", "r1",
	    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND, 300, true);
	sa(2, 21, PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC, "ss2", "r2",
	    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND, 4097, true);
	sa(3, 22, PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC, "ss2", "r2",
	    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND, 0xc0ffee01, true);
	/* t2 of r2 has an SA sadb keeps but no PIC holds. */
	sa(4, 23, PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC, "ss2", "r2",
	    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND, 4098, false);
	fx.sa[4].term = S("t2");
	fx.sa[4].protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH;
	picsec__v1__sa_list__init(&fx.sas);
	fx.sas.sas = fx.infos;
	fx.sas.n_sas = NSA;
}

static void
setup_ike(void)
{
	ip(&fx.pa, peer_a);
	ip(&fx.pb, peer_b);
	picsec__v1__ike_child_info__init(&fx.child);
	fx.child.spi_in = 4097;
	fx.child.spi_out = 0xc0ffee01;
	fx.children[0] = &fx.child;
	picsec__v1__ike_sa_info__init(&fx.ike[0]);
	fx.ike[0].remote_address = &fx.pa;
	fx.ike[0].matured = true;
	fx.ike[0].service_set = S("ss2");
	fx.ike[0].rule = S("r2");
	fx.ike[0].term = S("t1");
	fx.ike[0].children = fx.children;
	fx.ike[0].n_children = 1;
	picsec__v1__ike_sa_info__init(&fx.ike[1]);
	fx.ike[1].remote_address = &fx.pb;
	fx.ike[1].service_set = S("ss2");
	fx.ike[1].rule = S("r2");
	fx.ike[1].term = S("t2");
	fx.ikes[0] = &fx.ike[0];
	fx.ikes[1] = &fx.ike[1];
	picsec__v1__ike_list__init(&fx.ikelist);
	fx.ikelist.sas = fx.ikes;
	fx.ikelist.n_sas = NIKE;
}

static void
setup_config(void)
{
	int i;

	picsec__v1__manual_sa__init(&fx.manual);
	picsec__v1__dynamic_sa__init(&fx.dynamic);
	for (i = 0; i < 3; i++)
		picsec__v1__term__init(&fx.term[i]);
	fx.term[0].name = S("t1");
	fx.term[0].manual = &fx.manual;
	fx.term[1].name = S("t1");
	fx.term[1].dynamic = &fx.dynamic;
	fx.term[2].name = S("t2");
	fx.term[2].dynamic = &fx.dynamic;
	fx.terms_r1[0] = &fx.term[0];
	fx.terms_r2[0] = &fx.term[1];
	fx.terms_r2[1] = &fx.term[2];
	picsec__v1__rule__init(&fx.rule[0]);
	fx.rule[0].name = S("r1");
	fx.rule[0].terms = fx.terms_r1;
	fx.rule[0].n_terms = 1;
	picsec__v1__rule__init(&fx.rule[1]);
	fx.rule[1].name = S("r2");
	fx.rule[1].terms = fx.terms_r2;
	fx.rule[1].n_terms = 2;
	fx.rules[0] = &fx.rule[0];
	fx.rules[1] = &fx.rule[1];
	picsec__v1__ipsec_vpn__init(&fx.vpn);
	fx.vpn.rules = fx.rules;
	fx.vpn.n_rules = 2;
	fx.set_rules0[0] = S("r1");
	fx.set_rules1[0] = S("r2");
	picsec__v1__service_set__init(&fx.set[0]);
	fx.set[0].name = S("ss1");
	fx.set[0].rules = fx.set_rules0;
	fx.set[0].n_rules = 1;
	picsec__v1__service_set__init(&fx.set[1]);
	fx.set[1].name = S("ss2");
	fx.set[1].rules = fx.set_rules1;
	fx.set[1].n_rules = 1;
	fx.sets[0] = &fx.set[0];
	fx.sets[1] = &fx.set[1];
	picsec__v1__config_snapshot__init(&fx.config);
	fx.config.generation = 7;
	fx.config.committed_ns = 1700000000500000000ULL;
	fx.config.ipsec_vpn = &fx.vpn;
	fx.config.service_sets = fx.sets;
	fx.config.n_service_sets = 2;
}

static void
setup_pic(void)
{
	int i;

	for (i = 0; i < NCTR; i++) {
		picsec__v1__sa_counters__init(&fx.ctr[i]);
		fx.ctrs[i] = &fx.ctr[i];
	}
	fx.ctr[0].id = 11;
	fx.ctr[0].esp_packets = 10;
	fx.ctr[0].esp_bytes = 1234;
	fx.ctr[0].replay_errors = 3;
	fx.ctr[0].esp_auth_failures = 2;
	fx.ctr[1].id = 12;
	fx.ctr[1].esp_packets = 11;
	fx.ctr[1].esp_bytes = 12345678901234ULL;
	fx.ctr[1].mtu_exceeded = 1;
	fx.ctr[2].id = 999; /* sadb does not know it: left out */
	fx.ctr[2].esp_packets = 5;
	picsec__v1__service_set_counters__init(&fx.ssc);
	fx.ssc.service_set = S("ss1");
	fx.ssc.invalid_spi = 4;
	fx.ssc.no_sa = 9;
	fx.sscs[0] = &fx.ssc;
	picsec__v1__pic_stats__init(&fx.stats);
	fx.stats.pic = S("ms-0/0/0");
	fx.stats.sas = fx.ctrs;
	fx.stats.n_sas = NCTR;
	fx.stats.service_sets = fx.sscs;
	fx.stats.n_service_sets = 1;
	fx.pics[0].name = "ms-0/0/0";
	fx.pics[0].stats = &fx.stats;
	fx.pics[1].name = "ms-1/0/0";
	fx.pics[1].stats = NULL; /* did not answer */
}

static void
setup(void)
{
	memset(&fx, 0, sizeof(fx));
	setup_health();
	setup_sas();
	setup_ike();
	setup_config();
	setup_pic();
	fx.in.services = &fx.services;
	fx.in.sas = &fx.sas;
	fx.in.ike = &fx.ikelist;
	fx.in.config = &fx.config;
	fx.in.pics = fx.pics;
	fx.in.npics = 2;
	fx.in.duration_seconds = 0.0125;
	fx.out = (struct strbuf)STRBUF_INIT;
}

static void
teardown(void)
{
	strbuf_release(&fx.out);
}

TestSuite(metricsd_format, .init = setup, .fini = teardown);

/* Formats fx.in, checks the whole text is valid exposition, returns it. */
static const char *
format(void)
{
	char why[512];

	strbuf_reset(&fx.out);
	metricsd_format(&fx.out, &fx.in);
	cr_assert_not(strbuf_failed(&fx.out));
	cr_assert(expo_check(strbuf_str(&fx.out), why, sizeof(why)), "%s\n%s", why,
	    strbuf_str(&fx.out));
	return strbuf_str(&fx.out);
}

static void
expect(const char *text, const char *series, double value)
{
	double v = expo_value(text, series);

	cr_assert(v == value, "%s: expected %.17g, got %.17g in:\n%s", series, value, v, text);
}

static void
expect_line(const char *text, const char *line)
{
	cr_assert_not_null(strstr(text, line), "expected '%s' in:\n%s", line, text);
}

static void
expect_absent(const char *text, const char *name)
{
	cr_assert_eq(expo_count(text, name), 0, "no %s expected in:\n%s", name, text);
	cr_assert_null(strstr(text, name), "no %s expected in:\n%s", name, text);
}

Test(metricsd_format, escaping_backslash_quote_and_newline)
{
	struct strbuf sb = STRBUF_INIT;

	metricsd_escape_label(&sb, "a\\b\"c\nd plain");
	cr_assert_str_eq(strbuf_str(&sb), "a\\\\b\\\"c\\nd plain");
	strbuf_reset(&sb);
	metricsd_escape_label(&sb, "");
	cr_assert_str_eq(strbuf_str(&sb), "");
	strbuf_release(&sb);
	/* In a label of a real family, and still valid exposition. */
	expect(format(), "picsec_process_up{name=\"we\\\"ird\\\\name\\nx\"}", 0);
}

Test(metricsd_format, the_checker_catches_mistakes)
{
	char why[256];

	cr_assert(expo_check("# TYPE a gauge\na 1\n", why, sizeof(why)), "%s", why);
	cr_assert_not(expo_check("a 1\n", why, sizeof(why)), "no TYPE");
	cr_assert_not(expo_check("# TYPE a gauge\na{x=\"\\t\"} 1\n", why, sizeof(why)));
	cr_assert_not(expo_check("# TYPE a gauge\na{x=\"1\"} one\n", why, sizeof(why)));
	cr_assert_not(expo_check("# TYPE a gauge\na 1\na 2\n", why, sizeof(why)), "twice");
	cr_assert_not(expo_check("# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"\"} 1\n", why,
	    sizeof(why)), "split");
	cr_assert_not(expo_check("# TYPE a gauge\na 1", why, sizeof(why)), "no newline");
}

Test(metricsd_format, scrape_families)
{
	const char *t = format();

	expect_line(t, "# HELP picsec_scrape_duration_seconds ");
	expect_line(t, "# TYPE picsec_scrape_duration_seconds gauge\n");
	expect(t, "picsec_scrape_duration_seconds", 0.0125);
	expect_line(t, "# TYPE picsec_scrape_source_up gauge\n");
	expect(t, "picsec_scrape_source_up{source=\"healthd\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"sadb\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"iked\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"configd\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"fwd.ms-0/0/0\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"fwd.ms-1/0/0\"}", 0);
}

Test(metricsd_format, process_families)
{
	const char *t = format();
	char series[128];

	expect(t, "picsec_process_up{name=\"sadb\"}", 1);
	expect(t, "picsec_process_up{name=\"iked\"}", 0);
	expect(t, "picsec_process_state{name=\"sadb\",state=\"up\"}", 1);
	expect(t, "picsec_process_state{name=\"sadb\",state=\"init\"}", 0);
	expect(t, "picsec_process_state{name=\"sadb\",state=\"unresponsive\"}", 0);
	expect(t, "picsec_process_state{name=\"sadb\",state=\"down\"}", 0);
	expect(t, "picsec_process_state{name=\"iked\",state=\"init\"}", 1);
	cr_assert_eq(expo_count(t, "picsec_process_state"), 4 * NPROC);
	expect_line(t, "# TYPE picsec_process_restarts_total counter\n");
	expect(t, "picsec_process_restarts_total{name=\"sadb\"}", 2);
	/* Seconds with the nanoseconds, exactly as text. */
	expect_line(t, "picsec_process_start_time_seconds{name=\"sadb\"} 1800000000.123456789\n");
	cr_assert_eq(expo_count(t, "picsec_process_start_time_seconds"), NPROC - 1,
	    "none for a process never heard from");
	/* Every bit of the 64-bit incarnation. */
	snprintf(series, sizeof(series),
	    "picsec_process_incarnation_info{name=\"sadb\",incarnation=\"%016" PRIx64 "\"}",
	    (uint64_t)INCARNATION);
	expect(t, series, 1);
	expect_line(t, "incarnation=\"fedcba9876543211\"");
	cr_assert_eq(expo_count(t, "picsec_process_incarnation_info"), NPROC - 1);
	expect(t, "picsec_process_heartbeat_age_seconds{name=\"sadb\"}", 0.25);
	cr_assert_eq(expo_count(t, "picsec_process_heartbeat_age_seconds"), NPROC - 1);
}

#define SA_IN "pic=\"ms-0/0/0\",service_set=\"ss1\",rule=\"r1\",term=\"t1\"," \
	"direction=\"inbound\",protocol=\"esp\",spi=\"300\""
#define SA_OUT "pic=\"ms-0/0/0\",service_set=\"ss1\",rule=\"r1\",term=\"t1\"," \
	"direction=\"outbound\",protocol=\"esp\",spi=\"300\""

Test(metricsd_format, sa_families)
{
	const char *t = format();

	expect(t, "picsec_sa_state{" SA_IN ",state=\"Installed\"}", 1);
	expect(t, "picsec_sa_state{" SA_IN ",state=\"Not Installed\"}", 0);
	expect(t, "picsec_sa_state{pic=\"ms-0/0/0\",service_set=\"ss2\",rule=\"r2\",term=\"t2\","
	    "direction=\"inbound\",protocol=\"ah\",spi=\"4098\",state=\"Not Installed\"}", 1);
	/* SPIs in decimal, as Junos shows them. */
	expect(t, "picsec_sa_state{pic=\"ms-0/0/0\",service_set=\"ss2\",rule=\"r2\",term=\"t1\","
	    "direction=\"outbound\",protocol=\"esp\",spi=\"3237998081\",state=\"Installed\"}", 1);
	cr_assert_eq(expo_count(t, "picsec_sa_state"), 2 * NSA);
	expect(t, "picsec_service_set_sas{service_set=\"ss1\",state=\"Installed\"}", 2);
	expect(t, "picsec_service_set_sas{service_set=\"ss1\",state=\"Not Installed\"}", 0);
	expect(t, "picsec_service_set_sas{service_set=\"ss2\",state=\"Installed\"}", 2);
	expect(t, "picsec_service_set_sas{service_set=\"ss2\",state=\"Not Installed\"}", 1);
}

Test(metricsd_format, pic_families)
{
	const char *t = format();

	expect_line(t, "# TYPE picsec_sa_bytes_total counter\n");
	expect(t, "picsec_sa_bytes_total{" SA_IN "}", 1234);
	expect_line(t, "picsec_sa_bytes_total{" SA_OUT "} 12345678901234\n");
	expect(t, "picsec_sa_packets_total{" SA_IN "}", 10);
	expect(t, "picsec_sa_packets_total{" SA_OUT "}", 11);
	cr_assert_eq(expo_count(t, "picsec_sa_bytes_total"), 2, "the unknown SA is left out");
	expect(t, "picsec_sa_errors_total{" SA_IN ",reason=\"replay_errors\"}", 3);
	expect(t, "picsec_sa_errors_total{" SA_IN ",reason=\"esp_authentication_failures\"}", 2);
	expect(t, "picsec_sa_errors_total{" SA_IN ",reason=\"ah_authentication_failures\"}", 0);
	expect(t, "picsec_sa_errors_total{" SA_IN ",reason=\"decryption_failures\"}", 0);
	expect(t, "picsec_sa_errors_total{" SA_IN ",reason=\"bad_headers\"}", 0);
	expect(t, "picsec_sa_errors_total{" SA_IN ",reason=\"bad_trailers\"}", 0);
	expect(t, "picsec_sa_errors_total{" SA_IN ",reason=\"sequence_exhausted\"}", 0);
	expect(t, "picsec_sa_errors_total{" SA_OUT ",reason=\"mtu_exceeded\"}", 1);
	cr_assert_eq(expo_count(t, "picsec_sa_errors_total"), 2 * 8);
	expect(t, "picsec_service_set_errors_total{pic=\"ms-0/0/0\",service_set=\"ss1\","
	    "reason=\"invalid_spi\"}", 4);
	expect(t, "picsec_service_set_errors_total{pic=\"ms-0/0/0\",service_set=\"ss1\","
	    "reason=\"no_sa\"}", 9);
}

Test(metricsd_format, ike_families)
{
	const char *t = format();

	expect(t, "picsec_ike_sas_up{service_set=\"ss2\",peer=\"192.0.2.2\"}", 1);
	expect(t, "picsec_ike_sas_negotiating{service_set=\"ss2\",peer=\"192.0.2.2\"}", 0);
	expect(t, "picsec_ike_sas_up{service_set=\"ss2\",peer=\"198.51.100.7\"}", 0);
	expect(t, "picsec_ike_sas_negotiating{service_set=\"ss2\",peer=\"198.51.100.7\"}", 1);
	expect(t, "picsec_ike_child_sas{service_set=\"ss2\",peer=\"192.0.2.2\"}", 1);
}

Test(metricsd_format, config_and_tunnel_families)
{
	const char *t = format();

	expect(t, "picsec_config_generation", 7);
	expect_line(t, "picsec_config_last_commit_time_seconds 1700000000.500000000\n");
	expect(t, "picsec_tunnels_configured{service_set=\"ss1\",kind=\"manual\"}", 1);
	expect(t, "picsec_tunnels_configured{service_set=\"ss1\",kind=\"dynamic\"}", 0);
	expect(t, "picsec_tunnels_configured{service_set=\"ss2\",kind=\"manual\"}", 0);
	expect(t, "picsec_tunnels_configured{service_set=\"ss2\",kind=\"dynamic\"}", 2);
	expect(t, "picsec_tunnels_up{service_set=\"ss1\",kind=\"manual\"}", 1);
	expect(t, "picsec_tunnels_up{service_set=\"ss2\",kind=\"dynamic\"}", 1);
	expect(t, "picsec_tunnels_up{service_set=\"ss2\",kind=\"manual\"}", 0);
}

Test(metricsd_format, a_manual_tunnel_with_one_sa_not_installed_is_down)
{
	const char *t;

	fx.info[1].installed = false;
	t = format();
	expect(t, "picsec_tunnels_up{service_set=\"ss1\",kind=\"manual\"}", 0);
}

Test(metricsd_format, a_dynamic_tunnel_needs_its_child_sa_installed)
{
	const char *t;

	fx.info[3].installed = false;
	t = format();
	expect(t, "picsec_tunnels_up{service_set=\"ss2\",kind=\"dynamic\"}", 0);
	/* An established IKE SA without the Child SA sadb has is not enough either. */
	fx.info[3].installed = true;
	fx.child.spi_out = 1;
	t = format();
	expect(t, "picsec_tunnels_up{service_set=\"ss2\",kind=\"dynamic\"}", 0);
}

Test(metricsd_format, without_sadb)
{
	const char *t;

	fx.in.sas = NULL;
	t = format();
	expect(t, "picsec_scrape_source_up{source=\"sadb\"}", 0);
	expect_absent(t, "picsec_sa_state");
	expect_absent(t, "picsec_service_set_sas");
	/* The PIC's counters cannot be named without sadb's list; its service sets can. */
	expect_absent(t, "picsec_sa_bytes_total");
	expect_absent(t, "picsec_sa_errors_total");
	expect(t, "picsec_service_set_errors_total{pic=\"ms-0/0/0\",service_set=\"ss1\","
	    "reason=\"no_sa\"}", 9);
	/* Configured tunnels are known; whether they are up is not. */
	expect(t, "picsec_tunnels_configured{service_set=\"ss1\",kind=\"manual\"}", 1);
	expect_absent(t, "picsec_tunnels_up");
	expect(t, "picsec_process_up{name=\"sadb\"}", 1);
	expect(t, "picsec_ike_sas_up{service_set=\"ss2\",peer=\"192.0.2.2\"}", 1);
}

Test(metricsd_format, without_iked)
{
	const char *t;

	fx.in.ike = NULL;
	t = format();
	expect(t, "picsec_scrape_source_up{source=\"iked\"}", 0);
	expect_absent(t, "picsec_ike_");
	expect(t, "picsec_tunnels_up{service_set=\"ss1\",kind=\"manual\"}", 1);
	cr_assert_null(strstr(t, "picsec_tunnels_up{service_set=\"ss2\",kind=\"dynamic\"}"),
	    "dynamic tunnels' state is unknown without iked");
	expect(t, "picsec_sa_bytes_total{" SA_IN "}", 1234);
}

Test(metricsd_format, without_healthd_or_configd)
{
	const char *t;

	fx.in.services = NULL;
	fx.in.config = NULL;
	t = format();
	expect(t, "picsec_scrape_source_up{source=\"healthd\"}", 0);
	expect(t, "picsec_scrape_source_up{source=\"configd\"}", 0);
	expect_absent(t, "picsec_process_");
	expect_absent(t, "picsec_config_");
	expect_absent(t, "picsec_tunnels_");
	expect(t, "picsec_sa_state{" SA_IN ",state=\"Installed\"}", 1);
}

Test(metricsd_format, without_any_pic)
{
	const char *t;

	fx.pics[0].stats = NULL;
	t = format();
	expect(t, "picsec_scrape_source_up{source=\"fwd.ms-0/0/0\"}", 0);
	expect_absent(t, "picsec_sa_bytes_total");
	expect_absent(t, "picsec_service_set_errors_total");
	expect(t, "picsec_sa_state{" SA_IN ",state=\"Installed\"}", 1);
}

Test(metricsd_format, with_nothing_at_all)
{
	const char *t;

	memset(&fx.in, 0, sizeof(fx.in));
	t = format();
	expect(t, "picsec_scrape_source_up{source=\"healthd\"}", 0);
	expect(t, "picsec_scrape_source_up{source=\"sadb\"}", 0);
	expect(t, "picsec_scrape_source_up{source=\"iked\"}", 0);
	expect(t, "picsec_scrape_source_up{source=\"configd\"}", 0);
	cr_assert_eq(expo_count(t, "picsec_scrape_source_up"), 4);
	expect(t, "picsec_scrape_duration_seconds", 0);
	expect_absent(t, "picsec_process_");
	expect_absent(t, "picsec_sa_");
}

Test(metricsd_format, empty_lists_give_families_without_samples)
{
	const char *t;

	fx.sas.n_sas = 0;
	fx.ikelist.n_sas = 0;
	fx.services.n_services = 0;
	fx.stats.n_sas = 0;
	fx.stats.n_service_sets = 0;
	t = format();
	cr_assert_eq(expo_count(t, "picsec_sa_state"), 0);
	cr_assert_eq(expo_count(t, "picsec_process_up"), 0);
	expect(t, "picsec_tunnels_up{service_set=\"ss1\",kind=\"manual\"}", 0);
	expect(t, "picsec_tunnels_up{service_set=\"ss2\",kind=\"dynamic\"}", 0);
}

/* The listen address: numeric, IPv6 in brackets, loopback told apart. */
Test(metricsd_format, listen_addresses)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool lo;
	char err[256];

	cr_assert_eq(metricsd_parse_listen("127.0.0.1:9547", &ss, &len, &lo, err, sizeof(err)), 0);
	cr_assert(lo);
	cr_assert_eq(ss.ss_family, AF_INET);
	cr_assert_eq(metricsd_parse_listen("127.3.2.1:1", &ss, &len, &lo, err, sizeof(err)), 0);
	cr_assert(lo);
	cr_assert_eq(metricsd_parse_listen("0.0.0.0:9547", &ss, &len, &lo, err, sizeof(err)), 0);
	cr_assert_not(lo);
	cr_assert_eq(metricsd_parse_listen("[::1]:9547", &ss, &len, &lo, err, sizeof(err)), 0);
	cr_assert(lo);
	cr_assert_eq(ss.ss_family, AF_INET6);
	cr_assert_eq(metricsd_parse_listen("[2001:db8::1]:80", &ss, &len, &lo, err, sizeof(err)),
	    0);
	cr_assert_not(lo);
	cr_assert_eq(metricsd_parse_listen("::1:9547", &ss, &len, &lo, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "brackets"), "%s", err);
	cr_assert_eq(metricsd_parse_listen("localhost:9547", &ss, &len, &lo, err, sizeof(err)),
	    -1);
	cr_assert_eq(metricsd_parse_listen("127.0.0.1", &ss, &len, &lo, err, sizeof(err)), -1);
	cr_assert_eq(metricsd_parse_listen("127.0.0.1:65536", &ss, &len, &lo, err, sizeof(err)),
	    -1);
	cr_assert_eq(metricsd_parse_listen("127.0.0.1:-1", &ss, &len, &lo, err, sizeof(err)), -1);
	cr_assert_eq(metricsd_parse_listen("127.0.0.1:", &ss, &len, &lo, err, sizeof(err)), -1);
	cr_assert_eq(metricsd_parse_listen(":9547", &ss, &len, &lo, err, sizeof(err)), -1);
	cr_assert_eq(metricsd_parse_listen("[::1]9547", &ss, &len, &lo, err, sizeof(err)), -1);
	cr_assert_eq(metricsd_parse_listen("[127.0.0.1]:9547", &ss, &len, &lo, err, sizeof(err)),
	    -1);
}
