/* picsec-fwd against a hostile or broken SA stream, in a network namespace of its own: the
 * test is "sadb" on a real busd, answers the PIC's snapshot requests with what it likes and
 * publishes updates. Valid SAs are installed (AES-GCM with ESN too); SAs with wrong key
 * lengths (GCM's without its salt), unknown protocols or algorithms, GCM with an integrity
 * algorithm, IPv6 or missing gateways, or transport mode are refused one by one while the
 * rest work; service sets with impossible interface names are reported, not fatal; a
 * gap or a new incarnation makes the PIC ask again; traffic for a dynamic term without its
 * SA asks for one on "sa.acquire" (once a second at most, none once the SA is there), also
 * through an interface-style set's tc divert; and the PIC still answers and stops cleanly
 * (under the sanitizers: without leaks) after all of it. Needs root. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ev.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "sa.pb-c.h"
#include "testutil.h"

enum { MAX_SAS = 16, MAX_SETS = 4, MAX_DYN = 256 };

static char rundir[128];
static pid_t busd, fwd;
static struct ev_loop *loop;
static struct bus *sadb;

/* What "sadb" answers, and what the PIC said last. */
static Picsec__V1__Sa sas[MAX_SAS];
static Picsec__V1__Sa *sa_ptrs[MAX_SAS];
static size_t nsas;
static Picsec__V1__PicServiceSet sets[MAX_SETS];
static Picsec__V1__PicServiceSet *set_ptrs[MAX_SETS];
static size_t nsets;
static uint64_t incarnation = 0x5ad8;
static uint64_t seq = 1;
static unsigned snapshot_requests;
static unsigned statuses;
static uint64_t installed[MAX_SAS];
static size_t ninstalled;
static char status_error[512];
static uint64_t applied_incarnation, applied_seq;
static Picsec__V1__DynamicTerm dyns[MAX_DYN];
static Picsec__V1__DynamicTerm *dyn_ptrs[MAX_DYN];
static size_t ndyns;

/* The acquires the PIC published: how many, and the last one. */
static unsigned acquires;
static char acq_pic[64], acq_set[64], acq_rule[64], acq_term[64];
static char acq_src[INET_ADDRSTRLEN], acq_dst[INET_ADDRSTRLEN];

static uint8_t local_gw[4] = { 192, 0, 2, 1 }, remote_gw[4] = { 192, 0, 2, 2 };
static uint8_t site_a[4] = { 198, 18, 1, 0 }, site_b[4] = { 198, 18, 2, 0 };
static uint8_t enc_key[16] = "0123456789abcdef", auth_key[20] = "01234567890123456789";
static Picsec__V1__IpAddress local_msg, remote_msg;
static Picsec__V1__IpPrefix a_msg, b_msg;
static Picsec__V1__Secret enc_msg, auth_msg;

static void
on_snapshot(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	Picsec__V1__SaSnapshot snap = PICSEC__V1__SA_SNAPSHOT__INIT;

	(void)payload;
	(void)ctx;
	snapshot_requests++;
	snap.pic = (char *)(uintptr_t)"ms-0/0/0";
	snap.incarnation = incarnation;
	snap.seq = seq;
	snap.sas = sa_ptrs;
	snap.n_sas = nsas;
	snap.service_sets = set_ptrs;
	snap.n_service_sets = nsets;
	bus_reply(m, MT(SA_SNAPSHOT), &snap.base);
}

static void
on_status(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__PicStatus *st = (const Picsec__V1__PicStatus *)payload;
	size_t i;

	(void)m;
	(void)ctx;
	statuses++;
	ninstalled = st->n_installed < MAX_SAS ? st->n_installed : MAX_SAS;
	for (i = 0; i < ninstalled; i++)
		installed[i] = st->installed[i];
	snprintf(status_error, sizeof(status_error), "%s", st->error);
	applied_incarnation = st->applied_incarnation;
	applied_seq = st->applied_seq;
}

static void
addr_text(const Picsec__V1__IpAddress *a, char *out)
{
	snprintf(out, INET_ADDRSTRLEN, "?");
	if (a != NULL && a->addr.len == 4)
		inet_ntop(AF_INET, a->addr.data, out, INET_ADDRSTRLEN);
}

static void
on_acquire(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaAcquire *ev = (const Picsec__V1__SaAcquire *)payload;

	(void)m;
	(void)ctx;
	acquires++;
	snprintf(acq_pic, sizeof(acq_pic), "%s", ev->pic);
	snprintf(acq_set, sizeof(acq_set), "%s", ev->service_set);
	snprintf(acq_rule, sizeof(acq_rule), "%s", ev->rule);
	snprintf(acq_term, sizeof(acq_term), "%s", ev->term);
	addr_text(ev->source, acq_src);
	addr_text(ev->destination, acq_dst);
}

static const struct bus_handler handlers[] = {
	[MT(SA_GET_SNAPSHOT)] = { on_snapshot },
	[MT(PIC_STATUS)] = { on_status },
	[MT(SA_ACQUIRE)] = { on_acquire },
};

/* A valid SA: ESP aes-128-cbc + hmac-sha1-96 between the two gateways. */
static Picsec__V1__Sa *
add_sa(uint64_t id, bool outbound, uint32_t spi)
{
	Picsec__V1__Sa *sa = &sas[nsas];

	picsec__v1__sa__init(sa);
	sa->id = id;
	sa->service_set = (char *)(uintptr_t)"ss";
	sa->rule = (char *)(uintptr_t)"r";
	sa->term = (char *)(uintptr_t)"t";
	sa->order = 1;
	sa->direction = outbound ? PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND :
	    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND;
	sa->protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	sa->spi = spi;
	sa->enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	sa->enc_key = &enc_msg;
	sa->auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	sa->auth_key = &auth_msg;
	sa->local_gateway = &local_msg;
	sa->remote_gateway = &remote_msg;
	sa->source = outbound ? &a_msg : &b_msg;
	sa->destination = outbound ? &b_msg : &a_msg;
	sa->replay_window = outbound ? 0 : 64;
	sa_ptrs[nsas++] = sa;
	return sa;
}

/* A valid dynamic SA: ESP aes-128-gcm (key and salt) with extended sequence numbers. */
static Picsec__V1__Sa *
gcm_sa(uint64_t id, bool outbound, uint32_t spi)
{
	static uint8_t gcm_key[20] = "0123456789abcdefSALT";
	static Picsec__V1__Secret gcm_msg = PICSEC__V1__SECRET__INIT;
	Picsec__V1__Sa *sa = add_sa(id, outbound, spi);

	gcm_msg.material = (ProtobufCBinaryData){ sizeof(gcm_key), gcm_key };
	sa->origin = PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC;
	sa->enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM;
	sa->enc_key = &gcm_msg;
	sa->auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_NONE;
	sa->auth_key = NULL;
	sa->esn = true;
	return sa;
}

static Picsec__V1__PicServiceSet *
add_set(const char *name, const char *inside)
{
	static Picsec__V1__IpPrefix *prefixes[1] = { &b_msg };
	Picsec__V1__PicServiceSet *s = &sets[nsets];

	picsec__v1__pic_service_set__init(s);
	s->name = (char *)(uintptr_t)name;
	s->style = PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP;
	s->inside_interface = (char *)(uintptr_t)inside;
	s->local_gateway = &local_msg;
	s->remote_prefixes = prefixes;
	s->n_remote_prefixes = 1;
	set_ptrs[nsets++] = s;
	return s;
}

/* A dynamic term of the last set added; src or dst NULL: any. */
static Picsec__V1__DynamicTerm *
add_dyn(const char *term, uint32_t order, Picsec__V1__IpPrefix *src, Picsec__V1__IpPrefix *dst)
{
	Picsec__V1__PicServiceSet *s = &sets[nsets - 1];
	Picsec__V1__DynamicTerm *d = &dyns[ndyns];

	picsec__v1__dynamic_term__init(d);
	d->rule = (char *)(uintptr_t)"r";
	d->term = (char *)(uintptr_t)term;
	d->order = order;
	d->source = src;
	d->destination = dst;
	if (s->n_dynamic_terms == 0)
		s->dynamic_terms = &dyn_ptrs[ndyns];
	dyn_ptrs[ndyns++] = d;
	s->n_dynamic_terms++;
	return d;
}

static void
setup(void)
{
	struct bus_options bo = { .service = "sadb" };
	char err[256];

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "the test needs root (a network namespace)");
	cr_assert_eq(system("ip link set lo up && ip link add ps-out0 type veth peer name "
	    "ps-out1 && ip addr add 192.0.2.1/24 dev ps-out0 && ip link set ps-out0 up && "
	    "ip link set ps-out1 up"), 0);
	picsec__v1__ip_address__init(&local_msg);
	local_msg.addr = (ProtobufCBinaryData){ 4, local_gw };
	picsec__v1__ip_address__init(&remote_msg);
	remote_msg.addr = (ProtobufCBinaryData){ 4, remote_gw };
	picsec__v1__ip_prefix__init(&a_msg);
	a_msg.addr = (ProtobufCBinaryData){ 4, site_a };
	a_msg.length = 24;
	picsec__v1__ip_prefix__init(&b_msg);
	b_msg.addr = (ProtobufCBinaryData){ 4, site_b };
	b_msg.length = 24;
	picsec__v1__secret__init(&enc_msg);
	enc_msg.material = (ProtobufCBinaryData){ sizeof(enc_key), enc_key };
	picsec__v1__secret__init(&auth_msg);
	auth_msg.material = (ProtobufCBinaryData){ sizeof(auth_key), auth_key };
	test_mkdtemp(rundir, sizeof(rundir));
	busd = test_busd_start(rundir, NULL);
	loop = ev_loop_new(EVFLAG_AUTO);
	bo.rundir = rundir;
	sadb = bus_new(loop, &bo, err, sizeof(err));
	cr_assert_not_null(sadb, "%s", err);
	bus_set_handlers(sadb, handlers, ARRAY_SIZE(handlers), NULL);
	cr_assert_eq(bus_subscribe(sadb, "pic."), 0);
	cr_assert_eq(bus_subscribe(sadb, "sa.acquire"), 0);
	cr_assert_eq(bus_wait_ready(sadb, 5000), 0);
}

static void
teardown(void)
{
	if (fwd > 0)
		test_kill(fwd, SIGKILL);
	if (sadb != NULL)
		bus_free(sadb);
	if (loop != NULL)
		ev_loop_destroy(loop);
	if (busd > 0)
		test_kill(busd, SIGKILL);
	test_rmdir(rundir);
}

static void
start_fwd(void)
{
	const char *argv[] = { test_program("PICSEC_FWD"), "--rundir", rundir, "--pic",
		"ms-0/0/0", "--frames", "256", NULL };

	fwd = test_spawn(argv, NULL);
}

struct want {
	size_t installed;
	unsigned after;
};

static bool
installed_now(void *arg)
{
	const struct want *w = arg;

	return statuses > w->after && ninstalled == w->installed;
}

/* Waits for a status after the ones seen so far that reports n installed SAs. */
static bool
wait_installed(size_t n)
{
	struct want w = { n, statuses };

	return test_run_until(loop, installed_now, &w, 5000);
}

static bool
is_installed(uint64_t id)
{
	size_t i;

	for (i = 0; i < ninstalled; i++) {
		if (installed[i] == id)
			return true;
	}
	return false;
}

/* The PIC still answers a request, and stops cleanly (status 0) on SIGTERM. */
static void
pic_answers_and_stops(void)
{
	Picsec__V1__PicGetStats req = PICSEC__V1__PIC_GET_STATS__INIT;
	struct bus_call_result *r = NULL;
	int status;

	cr_assert_eq(kill(fwd, 0), 0, "the PIC lives");
	cr_assert_eq(bus_call(sadb, "fwd.ms-0/0/0", MT(PIC_GET_STATS), &req.base, 3000, &r), 0,
	    "the PIC answers: %s", bus_call_get(r)->error_text);
	bus_call_result_free(r);
	kill(fwd, SIGTERM);
	status = test_wait(fwd, 5000);
	fwd = 0;
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the PIC stops cleanly (status %#x)", status);
	cr_assert_eq(if_nametoindex("ms-0-0-0.1"), 0, "its service veth is gone");
}

static void
publish(Picsec__V1__SaUpdate *up)
{
	up->pic = (char *)(uintptr_t)"ms-0/0/0";
	cr_assert_eq(bus_publish(sadb, "sa.ms-0/0/0", MT(SA_UPDATE), &up->base), 0);
}

TestSuite(fwd_bus, .init = setup, .fini = teardown, .timeout = 60);

Test(fwd_bus, a_valid_snapshot_is_installed)
{
	add_set("ss", "ms-0-0-0.1");
	add_sa(101, false, 5000);
	add_sa(102, true, 5000);
	start_fwd();
	cr_assert(wait_installed(2), "both SAs installed (%zu, error '%s')", ninstalled,
	    status_error);
	cr_assert(is_installed(101) && is_installed(102));
	cr_assert_str_empty(status_error);
	cr_assert_neq(if_nametoindex("ms-0-0-0.1"), 0, "the service veth exists");
	cr_assert_eq(system("ip route show 198.18.2.0/24 | grep -q ms-0-0-0.1"), 0,
	    "the remote prefix is routed into it");
	pic_answers_and_stops();
}

Test(fwd_bus, hostile_sas_are_refused_one_by_one)
{
	static uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static uint8_t short_key[5] = "short";
	static Picsec__V1__Secret short_msg = PICSEC__V1__SECRET__INIT;
	static Picsec__V1__IpAddress v6_msg = PICSEC__V1__IP_ADDRESS__INIT;

	short_msg.material = (ProtobufCBinaryData){ sizeof(short_key), short_key };
	v6_msg.addr = (ProtobufCBinaryData){ sizeof(v6), v6 };
	add_set("ss", "ms-0-0-0.1");
	add_sa(101, false, 5000);
	add_sa(102, true, 5000);
	add_sa(201, false, 6001)->enc_key = &short_msg;
	add_sa(202, false, 6002)->protocol = 99;
	add_sa(203, false, 6003)->enc_algorithm = 77;
	add_sa(204, false, 6004)->remote_gateway = &v6_msg;
	add_sa(205, true, 6005)->local_gateway = NULL;
	add_sa(206, false, 6006)->mode = PICSEC__V1__SA_MODE__SA_MODE_TRANSPORT;
	add_sa(207, false, 6007)->auth_algorithm = 99;
	/* GCM takes the AES key and a 4-byte salt (20 bytes), and no integrity algorithm. */
	gcm_sa(208, false, 6008)->enc_key = &enc_msg;
	gcm_sa(209, false, 6009)->auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	gcm_sa(103, false, 5001);
	gcm_sa(104, true, 5001);
	start_fwd();
	cr_assert(wait_installed(4), "only the four valid SAs (%zu installed)", ninstalled);
	cr_assert(is_installed(101) && is_installed(102));
	cr_assert(is_installed(103) && is_installed(104), "the GCM SAs");
	pic_answers_and_stops();
}

Test(fwd_bus, impossible_service_sets_are_reported_not_fatal)
{
	add_set("ss", "ms-0-0-0.1");
	add_set("too-long", "an-interface-name-far-too-long");
	add_set("slash", "ms-0/0/0.2");
	add_set("empty", "");
	add_sa(101, false, 5000);
	add_sa(102, true, 5000);
	start_fwd();
	cr_assert(wait_installed(2), "the good set's SAs work (%zu)", ninstalled);
	cr_assert(strstr(status_error, "service set") != NULL, "the status says why: '%s'",
	    status_error);
	pic_answers_and_stops();
}

Test(fwd_bus, a_gap_or_a_new_incarnation_makes_the_pic_ask_again)
{
	Picsec__V1__SaUpdate up = PICSEC__V1__SA_UPDATE__INIT;
	uint64_t gone = 102;

	add_set("ss", "ms-0-0-0.1");
	add_sa(101, false, 5000);
	add_sa(102, true, 5000);
	start_fwd();
	cr_assert(wait_installed(2));
	cr_assert_eq(snapshot_requests, 1);

	/* The next update in order: applied as it is. */
	up.incarnation = incarnation;
	up.seq = ++seq;
	up.remove = &gone;
	up.n_remove = 1;
	nsas = 1; /* what a later snapshot will say */
	publish(&up);
	cr_assert(wait_installed(1), "the removal applied (%zu)", ninstalled);
	cr_assert_eq(snapshot_requests, 1, "no snapshot needed for an update in order");

	/* A gap (updates 3..7 lost): the PIC asks for the whole again. */
	seq += 5;
	up.seq = seq;
	up.n_remove = 0;
	publish(&up);
	test_run_for(loop, 1500);
	cr_assert_eq(snapshot_requests, 2, "a gap means a snapshot (%u)", snapshot_requests);

	/* A new incarnation of sadb (a restart): the same. */
	incarnation++;
	seq = 1;
	up.incarnation = incarnation;
	up.seq = seq;
	publish(&up);
	test_run_for(loop, 1500);
	cr_assert_eq(snapshot_requests, 3, "a new incarnation means a snapshot (%u)",
	    snapshot_requests);
	cr_assert(wait_installed(1));
	pic_answers_and_stops();
}

static bool
applied_now(void *arg)
{
	(void)arg;
	return applied_incarnation == incarnation && applied_seq == seq;
}

/* Waits for a status that says the PIC applied what "sadb" holds now. */
static bool
wait_applied(void)
{
	return test_run_until(loop, applied_now, NULL, 5000);
}

static bool
acquired(void *arg)
{
	return acquires >= *(const unsigned *)arg;
}

static bool
wait_acquires(unsigned n, unsigned ms)
{
	return test_run_until(loop, acquired, &n, ms);
}

/* n UDP packets src -> dst (port 9), sent from the test's namespace. */
static void
send_udp_from(const char *src, const char *dst, unsigned n)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned i;

	cr_assert_geq(fd, 0);
	inet_pton(AF_INET, src, &from.sin_addr);
	inet_pton(AF_INET, dst, &to.sin_addr);
	to.sin_port = htons(9);
	cr_assert_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	close(fd);
}

static void
send_udp(const char *dst, unsigned n)
{
	send_udp_from("198.18.1.1", dst, n);
}

/* Runs the loop until ms after since. */
static void
run_until_ms(uint64_t since, unsigned ms)
{
	uint64_t now = monotonic_ms();

	if (now < since + ms)
		test_run_for(loop, (unsigned)(since + ms - now));
}

/* The service set's no-SA drops, as the PIC counts them. */
static uint64_t
no_sa_of(const char *set)
{
	Picsec__V1__PicGetStats req = PICSEC__V1__PIC_GET_STATS__INIT;
	const Picsec__V1__PicStats *st;
	struct bus_call_result *r = NULL;
	uint64_t n = UINT64_MAX;
	size_t i;

	cr_assert_eq(bus_call(sadb, "fwd.ms-0/0/0", MT(PIC_GET_STATS), &req.base, 3000, &r), 0,
	    "the PIC answers: %s", bus_call_get(r)->error_text);
	st = (const Picsec__V1__PicStats *)bus_call_get(r)->msg;
	for (i = 0; i < st->n_service_sets; i++) {
		if (strcmp(st->service_sets[i]->service_set, set) == 0)
			n = st->service_sets[i]->no_sa;
	}
	bus_call_result_free(r);
	return n;
}

/* Publishes the next update: SA up added or, up NULL, the SA of id removed. */
static void
publish_sa(Picsec__V1__Sa *up, uint64_t remove)
{
	Picsec__V1__SaUpdate u = PICSEC__V1__SA_UPDATE__INIT;

	u.incarnation = incarnation;
	u.seq = ++seq;
	if (up != NULL) {
		u.upsert = &up;
		u.n_upsert = 1;
	} else {
		u.remove = &remove;
		u.n_remove = 1;
	}
	publish(&u);
}

Test(fwd_bus, traffic_for_a_dynamic_term_without_its_sa_acquires_once_a_second)
{
	static uint8_t site_c[4] = { 198, 18, 3, 0 };
	static Picsec__V1__IpPrefix c_msg = PICSEC__V1__IP_PREFIX__INIT;
	Picsec__V1__Sa *other, *mine;
	uint64_t first, last, drops;

	c_msg.addr = (ProtobufCBinaryData){ 4, site_c };
	c_msg.length = 24;
	cr_assert_eq(system("ip addr add 198.18.1.1/32 dev lo"), 0);
	add_set("ss", "ms-0-0-0.1");
	add_dyn("elsewhere", 1, NULL, &c_msg); /* first, but not this traffic */
	add_dyn("dyn", 2, &a_msg, &b_msg);
	start_fwd();
	cr_assert(wait_applied(), "the PIC took the set (error '%s')", status_error);

	/* One packet: one acquire, for the term that matches, with the packet's addresses. */
	send_udp("198.18.2.10", 1);
	cr_assert(wait_acquires(1, 2000), "the packet asked for the SA");
	first = monotonic_ms();
	cr_assert_str_eq(acq_pic, "ms-0/0/0");
	cr_assert_str_eq(acq_set, "ss");
	cr_assert_str_eq(acq_rule, "r");
	cr_assert_str_eq(acq_term, "dyn");
	cr_assert_str_eq(acq_src, "198.18.1.1");
	cr_assert_str_eq(acq_dst, "198.18.2.10");

	/* A burst within the second: dropped and counted, not one acquire more. */
	send_udp("198.18.2.11", 50);
	run_until_ms(first, 700);
	cr_assert_eq(acquires, 1, "%u acquires for a burst within a second", acquires);
	cr_assert_eq(no_sa_of("ss"), 51, "every packet reached the PIC and was dropped");

	/* The second over: the next packet asks again. */
	run_until_ms(first, 1100);
	send_udp("198.18.2.10", 1);
	cr_assert(wait_acquires(2, 2000), "another acquire after the second (%u)", acquires);
	last = monotonic_ms();

	/* A later term's SA for the same traffic does not count: dyn comes first. */
	other = add_sa(102, true, 5000);
	other->term = (char *)(uintptr_t)"later";
	other->order = 3;
	publish_sa(other, 0);
	cr_assert(wait_installed(1), "the other term's SA is in (%zu)", ninstalled);
	run_until_ms(last, 1100);
	send_udp("198.18.2.10", 1);
	cr_assert(wait_acquires(3, 2000), "dyn still asks, in term order (%u)", acquires);
	last = monotonic_ms();

	/* dyn's own SA: the traffic is its, nothing is asked for or dropped. */
	mine = add_sa(103, true, 5001);
	mine->term = (char *)(uintptr_t)"dyn";
	mine->order = 2;
	publish_sa(mine, 0);
	cr_assert(wait_installed(2), "dyn's SA is in (%zu)", ninstalled);
	drops = no_sa_of("ss");
	run_until_ms(last, 1100);
	send_udp("198.18.2.10", 20);
	test_run_for(loop, 1500);
	cr_assert_eq(acquires, 3, "no acquire while the SA is there (%u)", acquires);
	cr_assert_eq(no_sa_of("ss"), drops, "and no drop");

	/* The SA gone (an expiry): traffic asks again. */
	publish_sa(NULL, 103);
	cr_assert(wait_installed(1));
	send_udp("198.18.2.10", 1);
	cr_assert(wait_acquires(4, 2000), "asked again once the SA went (%u)", acquires);
	cr_assert_str_eq(acq_term, "dyn");
	pic_answers_and_stops();
}

/* Interface style: tc egress diverts only what an output rule's SA matches, unless the
 * dynamic terms' traffic is diverted too; without it no acquire could ever come. What the
 * local gateway sends itself (IKE) never is, or a term covering it could never come up. */
Test(fwd_bus, interface_style_diverts_a_dynamic_terms_traffic_to_the_pic)
{
	static char ifl[] = "ge-0/0/0.0";
	static char *applied[1] = { ifl };
	Picsec__V1__SaUpdate up = PICSEC__V1__SA_UPDATE__INIT;
	Picsec__V1__PicServiceSet *set;

	cr_assert_eq(system("ip addr add 198.18.1.1/32 dev lo && "
	    "ip link add ge-0-0-0 type veth peer name ge-peer && "
	    "ip link set ge-0-0-0 arp off up && ip link set ge-peer up && "
	    "ip route add 198.18.2.0/24 dev ge-0-0-0 && "
	    "ip route add 198.18.4.0/24 dev ge-0-0-0"), 0);
	set = add_set("ss", "ms-0-0-0.1");
	set->style = PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_INTERFACE;
	set->applied_interfaces = applied;
	set->n_applied_interfaces = 1;
	set->n_remote_prefixes = 0;
	add_dyn("dyn", 1, &a_msg, &b_msg);
	start_fwd();
	cr_assert(wait_applied(), "the PIC took the set (error '%s')", status_error);
	cr_assert_str_empty(status_error);

	send_udp("198.18.2.10", 1);
	cr_assert(wait_acquires(1, 2000), "the term's traffic was diverted into the PIC");
	cr_assert_str_eq(acq_set, "ss");
	cr_assert_str_eq(acq_term, "dyn");
	cr_assert_str_eq(acq_dst, "198.18.2.10");
	/* Other traffic out of the interface stays the kernel's. */
	send_udp("198.18.4.10", 5);
	test_run_for(loop, 300);
	cr_assert_eq(no_sa_of("ss"), 1, "only the term's packet reached the PIC");

	/* A commit adds a term for everything: all is diverted, but the local gateway's. */
	add_dyn("all", 2, NULL, NULL);
	up.incarnation = incarnation;
	up.seq = ++seq;
	up.service_sets_changed = true;
	up.service_sets = set_ptrs;
	up.n_service_sets = nsets;
	publish(&up);
	cr_assert(wait_applied(), "the PIC took the new set (error '%s')", status_error);
	send_udp_from("192.0.2.1", "198.18.4.10", 5);
	test_run_for(loop, 300);
	cr_assert_eq(no_sa_of("ss"), 0, "the gateway's own packets left in clear");
	send_udp("198.18.4.10", 1);
	cr_assert(wait_acquires(2, 2000), "the rest is the new term's (%u)", acquires);
	cr_assert_str_eq(acq_term, "all");
	cr_assert_eq(no_sa_of("ss"), 1);
	pic_answers_and_stops();
}

/* Interface style with more terms than a list in the program once held (64): the traffic
 * of every term is diverted, whatever its place, at a hash lookup per mask pair; a commit
 * that takes terms away stops diverting theirs and keeps the others'. */
Test(fwd_bus, interface_style_diverts_the_traffic_of_hundreds_of_terms)
{
	enum { TERMS = 200 };
	static char ifl[] = "ge-0/0/0.0";
	static char *applied[1] = { ifl };
	static Picsec__V1__IpPrefix dsts[TERMS];
	static uint8_t addrs[TERMS][4];
	static char names[TERMS][8];
	Picsec__V1__SaUpdate up = PICSEC__V1__SA_UPDATE__INIT;
	Picsec__V1__PicServiceSet *set;
	uint64_t drops;
	unsigned i;

	cr_assert_eq(system("ip addr add 198.18.1.1/32 dev lo && "
	    "ip link add ge-0-0-0 type veth peer name ge-peer && "
	    "ip link set ge-0-0-0 arp off up && ip link set ge-peer up && "
	    "ip route add 198.19.0.0/16 dev ge-0-0-0"), 0);
	set = add_set("ss", "ms-0-0-0.1");
	set->style = PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_INTERFACE;
	set->applied_interfaces = applied;
	set->n_applied_interfaces = 1;
	set->n_remote_prefixes = 0;
	for (i = 0; i < TERMS; i++) {
		addrs[i][0] = 198, addrs[i][1] = 19, addrs[i][2] = (uint8_t)(i / 100);
		addrs[i][3] = (uint8_t)(i % 100 + 1);
		picsec__v1__ip_prefix__init(&dsts[i]);
		dsts[i].addr = (ProtobufCBinaryData){ 4, addrs[i] };
		dsts[i].length = 32;
		snprintf(names[i], sizeof(names[i]), "t%u", i);
		add_dyn(names[i], i + 1, &a_msg, &dsts[i]);
	}
	start_fwd();
	cr_assert(wait_applied(), "the PIC took the set (error '%s')", status_error);
	cr_assert_str_empty(status_error);

	send_udp("198.19.1.100", 1);
	cr_assert(wait_acquires(1, 2000), "the last term's traffic was diverted into the PIC");
	cr_assert_str_eq(acq_term, "t199");
	send_udp("198.19.0.1", 1);
	cr_assert(wait_acquires(2, 2000), "and the first term's");
	cr_assert_str_eq(acq_term, "t0");
	send_udp("198.19.2.1", 5);
	test_run_for(loop, 300);
	cr_assert_eq(no_sa_of("ss"), 2, "no term's traffic stays the kernel's");

	/* A commit keeps the first 100 terms. */
	set->n_dynamic_terms = 100;
	up.incarnation = incarnation;
	up.seq = ++seq;
	up.service_sets_changed = true;
	up.service_sets = set_ptrs;
	up.n_service_sets = nsets;
	publish(&up);
	cr_assert(wait_applied(), "the PIC took the new set (error '%s')", status_error);
	drops = no_sa_of("ss");
	send_udp("198.19.1.100", 5);
	test_run_for(loop, 300);
	cr_assert_eq(no_sa_of("ss"), drops, "a term that went is no longer diverted");
	cr_assert_eq(acquires, 2);
	send_udp("198.19.0.50", 1);
	cr_assert(wait_acquires(3, 2000), "a term that stayed still is");
	cr_assert_str_eq(acq_term, "t49");
	pic_answers_and_stops();
}
