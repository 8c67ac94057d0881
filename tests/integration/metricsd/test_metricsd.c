/* picsec-metricsd on a real picsec-busd, with this process playing healthd, sadb, iked,
 * configd and the PIC fwd.ms-0/0/0 (real messages on the bus), scraped over plain HTTP from
 * non-blocking sockets on the same loop: the values; a source that never answers (written
 * as down within the deadline); 50 scrapes at once; malformed requests, a huge header,
 * other paths and methods (errors, and the daemon lives on); SIGTERM during a scrape. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "bus.h"
#include "catalog.h"
#include "config.pb-c.h"
#include "envelope.h"
#include "expo_check.h"
#include "health.pb-c.h"
#include "ike.pb-c.h"
#include "sa.pb-c.h"
#include "testutil.h"

#define S(s) ((char *)(uintptr_t)(s))
#define SADB_INCARNATION 0x8000000000000001ULL

static char rundir[64];
static pid_t busd, metricsd;
static struct ev_loop *loop;
static unsigned port;

enum { F_HEALTHD, F_SADB, F_IKED, F_CONFIGD, F_FWD, NFAKES };

static struct {
	struct bus *bus[NFAKES];
	unsigned asked[NFAKES];
	bool iked_silent;
	struct bus_msg *held[64];	/* iked's requests it never answers */
	size_t nheld;
} fk;

/* healthd: the suite, and a PIC it knows is down (not to be asked). */
static void
fake_services(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__ServiceInfo info[4], *infos[4];
	Picsec__V1__ServiceList list = PICSEC__V1__SERVICE_LIST__INIT;
	static const char *const names[4] = { "sadb", "fwd.ms-0/0/0", "fwd.ms-9/0/0", "iked" };
	int i;

	(void)payload;
	(void)ctx;
	fk.asked[F_HEALTHD]++;
	for (i = 0; i < 4; i++) {
		picsec__v1__service_info__init(&info[i]);
		info[i].name = S(names[i]);
		info[i].state = PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP;
		info[i].incarnation = SADB_INCARNATION + (uint64_t)i;
		info[i].started_ns = 1800000000000000001ULL;
		info[i].heartbeat_age_ms = 500;
		infos[i] = &info[i];
	}
	info[0].restarts = 3;
	info[2].state = PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN;
	list.services = infos;
	list.n_services = 4;
	bus_reply(m, MT(SERVICE_LIST), &list.base);
}

/* sadb: the two SAs of manual tunnel ss1 r1/t1 on ms-0/0/0. */
static void
fake_sas(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__Sa sa[2];
	Picsec__V1__SaInfo info[2], *infos[2];
	Picsec__V1__SaList list = PICSEC__V1__SA_LIST__INIT;
	int i;

	(void)payload;
	(void)ctx;
	fk.asked[F_SADB]++;
	for (i = 0; i < 2; i++) {
		picsec__v1__sa__init(&sa[i]);
		sa[i].id = 11 + (uint64_t)i;
		sa[i].service_set = S("ss1");
		sa[i].rule = S("r1");
		sa[i].term = S("t1");
		sa[i].direction = i == 0 ? PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND :
		    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND;
		sa[i].protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
		sa[i].spi = 300;
		picsec__v1__sa_info__init(&info[i]);
		info[i].sa = &sa[i];
		info[i].pic = S("ms-0/0/0");
		info[i].installed = true;
		infos[i] = &info[i];
	}
	list.sas = infos;
	list.n_sas = 2;
	bus_reply(m, MT(SA_LIST), &list.base);
}

/* iked: one IKE SA with 192.0.2.2, still negotiating (or no answer at all). */
static void
fake_ike(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	static const uint8_t peer[4] = { 192, 0, 2, 2 };
	Picsec__V1__IpAddress addr = PICSEC__V1__IP_ADDRESS__INIT;
	Picsec__V1__IkeSaInfo sa = PICSEC__V1__IKE_SA_INFO__INIT, *sas[1] = { &sa };
	Picsec__V1__IkeList list = PICSEC__V1__IKE_LIST__INIT;

	(void)payload;
	(void)ctx;
	fk.asked[F_IKED]++;
	if (fk.iked_silent) {
		if (fk.nheld < sizeof(fk.held) / sizeof(fk.held[0]))
			fk.held[fk.nheld++] = bus_msg_take(m);
		return;
	}
	addr.addr.data = (uint8_t *)(uintptr_t)peer;
	addr.addr.len = 4;
	sa.remote_address = &addr;
	sa.service_set = S("ss2");
	sa.rule = S("r2");
	sa.term = S("t1");
	list.sas = sas;
	list.n_sas = 1;
	bus_reply(m, MT(IKE_LIST), &list.base);
}

/* configd: ss1 with a manual tunnel, ss2 with a dynamic one. */
static void
fake_config(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__ManualSa manual = PICSEC__V1__MANUAL_SA__INIT;
	Picsec__V1__DynamicSa dynamic = PICSEC__V1__DYNAMIC_SA__INIT;
	Picsec__V1__Term t1 = PICSEC__V1__TERM__INIT, t2 = PICSEC__V1__TERM__INIT;
	Picsec__V1__Term *terms1[1] = { &t1 }, *terms2[1] = { &t2 };
	Picsec__V1__Rule r1 = PICSEC__V1__RULE__INIT, r2 = PICSEC__V1__RULE__INIT;
	Picsec__V1__Rule *rules[2] = { &r1, &r2 };
	Picsec__V1__IpsecVpn vpn = PICSEC__V1__IPSEC_VPN__INIT;
	Picsec__V1__ServiceSet ss1 = PICSEC__V1__SERVICE_SET__INIT;
	Picsec__V1__ServiceSet ss2 = PICSEC__V1__SERVICE_SET__INIT;
	Picsec__V1__ServiceSet *sets[2] = { &ss1, &ss2 };
	char *rules1[1] = { S("r1") }, *rules2[1] = { S("r2") };
	Picsec__V1__ConfigSnapshot snap = PICSEC__V1__CONFIG_SNAPSHOT__INIT;

	(void)payload;
	(void)ctx;
	fk.asked[F_CONFIGD]++;
	t1.name = S("t1");
	t1.manual = &manual;
	t2.name = S("t1");
	t2.dynamic = &dynamic;
	r1.name = S("r1");
	r1.terms = terms1;
	r1.n_terms = 1;
	r2.name = S("r2");
	r2.terms = terms2;
	r2.n_terms = 1;
	vpn.rules = rules;
	vpn.n_rules = 2;
	ss1.name = S("ss1");
	ss1.rules = rules1;
	ss1.n_rules = 1;
	ss2.name = S("ss2");
	ss2.rules = rules2;
	ss2.n_rules = 1;
	snap.generation = 42;
	snap.committed_ns = 1700000000000000000ULL;
	snap.ipsec_vpn = &vpn;
	snap.service_sets = sets;
	snap.n_service_sets = 2;
	bus_reply(m, MT(CONFIG_SNAPSHOT), &snap.base);
}

/* fwd.ms-0/0/0: the counters of the two SAs and of ss1. */
static void
fake_pic(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__SaCounters c[2], *cs[2] = { &c[0], &c[1] };
	Picsec__V1__ServiceSetCounters ssc = PICSEC__V1__SERVICE_SET_COUNTERS__INIT;
	Picsec__V1__ServiceSetCounters *sscs[1] = { &ssc };
	Picsec__V1__PicStats stats = PICSEC__V1__PIC_STATS__INIT;
	int i;

	(void)payload;
	(void)ctx;
	fk.asked[F_FWD]++;
	for (i = 0; i < 2; i++) {
		picsec__v1__sa_counters__init(&c[i]);
		c[i].id = 11 + (uint64_t)i;
		c[i].esp_packets = 100 + (uint64_t)i;
		c[i].esp_bytes = 150000 + (uint64_t)i;
	}
	c[0].replay_errors = 7;
	ssc.service_set = S("ss1");
	ssc.invalid_spi = 5;
	stats.pic = S("ms-0/0/0");
	stats.sas = cs;
	stats.n_sas = 2;
	stats.service_sets = sscs;
	stats.n_service_sets = 1;
	bus_reply(m, MT(PIC_STATS), &stats.base);
}

static struct bus_handler *tables[NFAKES];

static struct bus *
fake(int i, const char *service, const char *instance, int type, bus_handler_fn *fn)
{
	struct bus_options opts = {
		.service = service,
		.instance = instance,
		.rundir = rundir,
		.heartbeat_ms = 200,
	};
	struct bus_handler *table;
	char err[256];
	struct bus *b = bus_new(loop, &opts, err, sizeof(err));

	cr_assert_not_null(b, "bus_new: %s", err);
	/* Freed after the bus (teardown). */
	tables[i] = table = calloc((size_t)catalog_type_limit(), sizeof(*table));
	cr_assert_not_null(table);
	table[type].fn = fn;
	bus_set_handlers(b, table, (size_t)catalog_type_limit(), NULL);
	return b;
}

static unsigned
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_neq(fd, -1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
wait_for_metricsd(void)
{
	struct bus_options opts = { .service = "waiter", .anonymous = true, .rundir = rundir };
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct bus_call_result *r;
	char err[256];
	struct bus *b = bus_new(loop, &opts, err, sizeof(err));

	cr_assert_not_null(b, "%s", err);
	cr_assert_eq(bus_call(b, "metricsd", MT(PING), &ping.base, 5000, &r), 0,
	    "picsec-metricsd does not answer: %s", bus_call_get(r)->error_text);
	bus_call_result_free(r);
	bus_free(b);
}

static void
setup(void)
{
	static const struct {
		const char *service, *instance;
		int type;
		bus_handler_fn *fn;
	} fakes[NFAKES] = {
		[F_HEALTHD] = { "healthd", NULL, MT(SERVICE_GET_LIST), fake_services },
		[F_SADB] = { "sadb", NULL, MT(SA_GET_LIST), fake_sas },
		[F_IKED] = { "iked", NULL, MT(IKE_GET_LIST), fake_ike },
		[F_CONFIGD] = { "configd", NULL, MT(CONFIG_GET_SNAPSHOT), fake_config },
		[F_FWD] = { "fwd", "ms-0/0/0", MT(PIC_GET_STATS), fake_pic },
	};
	char listen[64];
	int i;

	memset(&fk, 0, sizeof(fk));
	signal(SIGPIPE, SIG_IGN);
	test_mkdtemp(rundir, sizeof(rundir));
	loop = ev_loop_new(EVFLAG_AUTO);
	busd = test_busd_start(rundir, NULL);
	for (i = 0; i < NFAKES; i++) {
		fk.bus[i] = fake(i, fakes[i].service, fakes[i].instance, fakes[i].type,
		    fakes[i].fn);
	}
	for (i = 0; i < NFAKES; i++)
		cr_assert_eq(bus_wait_ready(fk.bus[i], 5000), 0, "%s never registered",
		    fakes[i].service);
	port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	{
		const char *argv[] = { test_program("PICSEC_METRICSD"), "--rundir", rundir,
			"--listen", listen, NULL };

		metricsd = test_spawn(argv, NULL);
	}
	wait_for_metricsd();
}

static void
teardown(void)
{
	size_t i;

	for (i = 0; i < fk.nheld; i++)
		bus_msg_free(fk.held[i]);
	for (i = 0; i < NFAKES; i++) {
		bus_free(fk.bus[i]);
		free(tables[i]);
		tables[i] = NULL;
	}
	if (metricsd > 0)
		test_kill(metricsd, SIGKILL);
	if (busd > 0)
		test_kill(busd, SIGKILL);
	ev_loop_destroy(loop);
	test_rmdir(rundir);
}

/* SIGTERM is a clean stop (under the sanitizers: no leak either). */
static void
finish(void)
{
	int status = test_kill(metricsd, SIGTERM);

	metricsd = 0;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "picsec-metricsd exit status 0x%x", status);
	test_busd_finish(&busd);
}

/* An HTTP client on the loop: connect, send everything, read until the server closes. */
struct client {
	ev_io w;
	int fd;
	const char *req;
	size_t reqlen, sent;
	char *resp;
	size_t len, cap;
	bool done, reset;
	int status;
	const char *body;
};

static void
client_done(struct client *c)
{
	ev_io_stop(loop, &c->w);
	close(c->fd);
	c->done = true;
	if (c->len > 12 && strncmp(c->resp, "HTTP/1.", 7) == 0)
		c->status = atoi(c->resp + 9);
	c->body = c->resp != NULL ? strstr(c->resp, "\r\n\r\n") : NULL;
	if (c->body != NULL)
		c->body += 4;
}

static void
client_io(struct ev_loop *l, ev_io *w, int revents)
{
	struct client *c = w->data;
	ssize_t n;

	if (revents & EV_WRITE) {
		n = send(c->fd, c->req + c->sent, c->reqlen - c->sent, MSG_NOSIGNAL);
		if (n > 0)
			c->sent += (size_t)n;
		if ((n == -1 && errno != EAGAIN) || c->sent == c->reqlen) {
			ev_io_stop(l, w);
			ev_io_set(w, c->fd, EV_READ);
			ev_io_start(l, w);
		}
		return;
	}
	if (c->cap - c->len < 4096) {
		c->cap = c->cap ? c->cap * 2 : 65536;
		c->resp = realloc(c->resp, c->cap + 1);
		cr_assert_not_null(c->resp);
	}
	n = recv(c->fd, c->resp + c->len, c->cap - c->len, 0);
	if (n > 0) {
		c->len += (size_t)n;
		c->resp[c->len] = '\0';
		return;
	}
	if (n == -1 && errno == EAGAIN)
		return;
	c->reset = n == -1;
	client_done(c);
}

static void
client_start(struct client *c, const char *req, size_t reqlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	memset(c, 0, sizeof(*c));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->req = req;
	c->reqlen = reqlen;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_neq(c->fd, -1);
	cr_assert(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS, "connect: %s", strerror(errno));
	ev_io_init(&c->w, client_io, c->fd, EV_WRITE);
	c->w.data = c;
	ev_io_start(loop, &c->w);
}

struct clients {
	struct client *c;
	size_t n;
};

static bool
all_done(void *arg)
{
	struct clients *cs = arg;
	size_t i;

	for (i = 0; i < cs->n; i++) {
		if (!cs->c[i].done)
			return false;
	}
	return true;
}

static void
clients_wait(struct client *c, size_t n, unsigned timeout_ms)
{
	struct clients cs = { c, n };

	cr_assert(test_run_until(loop, all_done, &cs, timeout_ms), "no answer within %u ms",
	    timeout_ms);
}

static const char scrape_req[] =
    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One scrape; the client (free c->resp) with a checked 200 and valid exposition. */
static void
scrape(struct client *c)
{
	char why[512];

	client_start(c, scrape_req, strlen(scrape_req));
	clients_wait(c, 1, 5000);
	cr_assert_eq(c->status, 200, "status %d:\n%s", c->status, c->resp ? c->resp : "");
	cr_assert_not_null(strstr(c->resp, "\r\nContent-Type: text/plain; version=0.0.4"),
	    "%s", c->resp);
	cr_assert(expo_check(c->body, why, sizeof(why)), "%s\n%s", why, c->body);
}

static void
expect(const char *text, const char *series, double value)
{
	double v = expo_value(text, series);

	cr_assert(v == value, "%s: expected %.17g, got %.17g in:\n%s", series, value, v, text);
}

TestSuite(metricsd, .init = setup, .fini = teardown);

Test(metricsd, a_scrape_has_every_source)
{
	struct client c;
	const char *t;

	scrape(&c);
	t = c.body;
	expect(t, "picsec_scrape_source_up{source=\"healthd\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"sadb\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"iked\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"configd\"}", 1);
	expect(t, "picsec_scrape_source_up{source=\"fwd.ms-0/0/0\"}", 1);
	/* healthd says it is down: written as such without asking. */
	expect(t, "picsec_scrape_source_up{source=\"fwd.ms-9/0/0\"}", 0);
	cr_assert(expo_value(t, "picsec_scrape_duration_seconds") < 0.9);

	expect(t, "picsec_process_up{name=\"sadb\"}", 1);
	expect(t, "picsec_process_state{name=\"fwd.ms-9/0/0\",state=\"down\"}", 1);
	expect(t, "picsec_process_restarts_total{name=\"sadb\"}", 3);
	expect(t, "picsec_process_incarnation_info{name=\"sadb\",incarnation=\"8000000000000001\"}",
	    1);
	cr_assert_not_null(strstr(t, "picsec_process_start_time_seconds{name=\"sadb\"} "
	    "1800000000.000000001\n"));

	expect(t, "picsec_sa_state{pic=\"ms-0/0/0\",service_set=\"ss1\",rule=\"r1\",term=\"t1\","
	    "direction=\"inbound\",protocol=\"esp\",spi=\"300\",state=\"Installed\"}", 1);
	expect(t, "picsec_sa_bytes_total{pic=\"ms-0/0/0\",service_set=\"ss1\",rule=\"r1\","
	    "term=\"t1\",direction=\"outbound\",protocol=\"esp\",spi=\"300\"}", 150001);
	expect(t, "picsec_sa_packets_total{pic=\"ms-0/0/0\",service_set=\"ss1\",rule=\"r1\","
	    "term=\"t1\",direction=\"inbound\",protocol=\"esp\",spi=\"300\"}", 100);
	expect(t, "picsec_sa_errors_total{pic=\"ms-0/0/0\",service_set=\"ss1\",rule=\"r1\","
	    "term=\"t1\",direction=\"inbound\",protocol=\"esp\",spi=\"300\","
	    "reason=\"replay_errors\"}", 7);
	expect(t, "picsec_service_set_errors_total{pic=\"ms-0/0/0\",service_set=\"ss1\","
	    "reason=\"invalid_spi\"}", 5);

	expect(t, "picsec_ike_sas_negotiating{service_set=\"ss2\",peer=\"192.0.2.2\"}", 1);
	expect(t, "picsec_ike_sas_up{service_set=\"ss2\",peer=\"192.0.2.2\"}", 0);
	expect(t, "picsec_config_generation", 42);
	expect(t, "picsec_tunnels_configured{service_set=\"ss1\",kind=\"manual\"}", 1);
	expect(t, "picsec_tunnels_up{service_set=\"ss1\",kind=\"manual\"}", 1);
	expect(t, "picsec_tunnels_configured{service_set=\"ss2\",kind=\"dynamic\"}", 1);
	expect(t, "picsec_tunnels_up{service_set=\"ss2\",kind=\"dynamic\"}", 0);
	cr_assert_eq(fk.asked[F_FWD], 1, "the PIC asked once though healthd and sadb both name it");
	free(c.resp);
	finish();
}

Test(metricsd, a_source_that_never_answers_is_down_within_the_deadline)
{
	struct client c;
	double t0, took;

	fk.iked_silent = true;
	t0 = now();
	scrape(&c);
	took = now() - t0;
	cr_assert(took >= 0.9 && took < 1.8, "the scrape took %.3f s", took);
	expect(c.body, "picsec_scrape_source_up{source=\"iked\"}", 0);
	expect(c.body, "picsec_scrape_source_up{source=\"sadb\"}", 1);
	cr_assert_eq(expo_count(c.body, "picsec_ike_sas_up"), 0);
	expect(c.body, "picsec_tunnels_up{service_set=\"ss1\",kind=\"manual\"}", 1);
	cr_assert_null(strstr(c.body, "picsec_tunnels_up{service_set=\"ss2\",kind=\"dynamic\"}"));
	cr_assert_eq(fk.asked[F_IKED], 1);
	free(c.resp);
	/* And once iked answers again, so does the next scrape. */
	fk.iked_silent = false;
	scrape(&c);
	expect(c.body, "picsec_scrape_source_up{source=\"iked\"}", 1);
	free(c.resp);
	finish();
}

Test(metricsd, fifty_scrapes_at_once)
{
	enum { N = 50 };
	struct client *c = calloc(N, sizeof(*c));
	char why[512];
	size_t i;

	cr_assert_not_null(c);
	for (i = 0; i < N; i++)
		client_start(&c[i], scrape_req, strlen(scrape_req));
	clients_wait(c, N, 10000);
	for (i = 0; i < N; i++) {
		cr_assert_eq(c[i].status, 200, "scrape %zu: status %d", i, c[i].status);
		cr_assert(expo_check(c[i].body, why, sizeof(why)), "%s", why);
		expect(c[i].body, "picsec_scrape_source_up{source=\"fwd.ms-0/0/0\"}", 1);
		expect(c[i].body, "picsec_config_generation", 42);
		free(c[i].resp);
	}
	cr_assert_eq(fk.asked[F_HEALTHD], N);
	cr_assert_eq(fk.asked[F_FWD], N);
	free(c);
	finish();
}

/* Sends req, expects status (0: the connection closed without an answer is fine too). */
static int
http_status(const char *req, size_t len)
{
	struct client c;
	int status;

	client_start(&c, req, len);
	clients_wait(&c, 1, 5000);
	status = c.status;
	free(c.resp);
	return status;
}

Test(metricsd, bad_requests_get_errors_and_the_daemon_lives)
{
	static const char get_other[] =
	    "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static const char post[] =
	    "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc";
	static const char head[] =
	    "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static const char garbage[] = "\x01\x02 GARBAGE\r\n\r\n";
	static const char bad_version[] = "GET /metrics HTTP/7.0\r\nHost: x\r\n\r\n";
	enum { HUGE = 256 * 1024 };
	char *huge = malloc(HUGE + 128);
	struct client c;
	size_t n;

	cr_assert_eq(http_status(get_other, strlen(get_other)), 404);
	cr_assert_eq(http_status(post, strlen(post)), 405);
	cr_assert_eq(http_status(head, strlen(head)), 405);
	cr_assert_eq(http_status(garbage, strlen(garbage)), 400);
	cr_assert_eq(http_status(bad_version, strlen(bad_version)), 505);
	/* A header far over the connection's memory: an error (or, if the server closed on what
	 * it had not read yet, a reset), and nothing more. */
	cr_assert_not_null(huge);
	n = (size_t)snprintf(huge, 128, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Huge: ");
	memset(huge + n, 'a', HUGE);
	n += HUGE;
	memcpy(huge + n, "\r\n\r\n", 4);
	client_start(&c, huge, n + 4);
	clients_wait(&c, 1, 5000);
	cr_assert((c.status >= 400 && c.status < 500) || (c.status == 0 && c.reset),
	    "huge header: status %d, reset %d", c.status, c.reset);
	cr_log_info("huge header: status %d, reset %d", c.status, c.reset);
	free(c.resp);
	/* A half request left hanging does not hold anything up. */
	client_start(&c, "GET /metr", 9);
	test_run_for(loop, 100);
	{
		struct client ok;

		scrape(&ok);
		free(ok.resp);
	}
	ev_io_stop(loop, &c.w);
	close(c.fd);
	free(c.resp);
	free(huge);
	cr_assert_eq(waitpid(metricsd, NULL, WNOHANG), 0, "picsec-metricsd died");
	finish();
}

Test(metricsd, sigterm_during_a_scrape_stops_cleanly)
{
	struct client c;
	double t0;
	int status;

	fk.iked_silent = true;
	client_start(&c, scrape_req, strlen(scrape_req));
	test_run_for(loop, 200); /* the scrape is waiting for iked */
	cr_assert_not(c.done);
	t0 = now();
	kill(metricsd, SIGTERM);
	cr_assert(test_run_until(loop, all_done, &(struct clients){ &c, 1 }, 3000),
	    "the waiting scrape was not ended");
	status = test_wait(metricsd, 3000);
	cr_assert(now() - t0 < 2.0, "stopping took %.3f s", now() - t0);
	metricsd = 0;
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "picsec-metricsd exit status 0x%x", status);
	cr_assert(c.status == 503 || c.status == 0, "the waiting scrape got %d", c.status);
	free(c.resp);
	test_busd_finish(&busd);
}
