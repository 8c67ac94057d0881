/* picsec-sadb and "Clearing Security Associations" (configuring-security-associations.txt,
 * junos-features.md §7.2-7.3), on healthd's events as the bus hands them over:
 * - clear-ipsec-sas-on-pic-restart: a PIC that goes down loses the negotiated SAs of its
 *   service sets (sa.removed, cleanup.<set>); its configured ones start over; without the
 *   statement everything survives for the next incarnation's snapshot;
 * - gw-interface: while the local gateway address (iface.*) or the PIC (service.fwd.*) is
 *   down the set's SAs are off the PIC (Not Installed); next-hop sets lose their negotiated
 *   SAs at once, interface-style sets when the address comes back; configured SAs go back
 *   to the PIC from scratch;
 * - what is no business of these rules (other addresses, other sets, repeats, malformed
 *   events) changes nothing. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "catalog.h"
#include "envelope.h"
#include "health.pb-c.h"
#include "health_follow.h"
#include "sadb_fixture.h"
#include "secbuf.h"
#include "u64map.h"

/* --- the configuration ------------------------------------------------------------- */

/* fx_conf's ss1 (manual term t1, next-hop on ms-0/0/0, local gateway 192.0.2.1) with:
 *   H_DYN:   the dynamic term d1 of rule r1 (10.7.0.0/24 -> 10.8.0.0/24);
 *   H_GW:    local-gateway 192.0.2.1 gw-interface ge-0/0/0.0;
 *   H_IFSTYLE: ss1 interface-style (service-interface ms-0/0/0.1) instead of next-hop;
 *   H_CLEAR: clear-ipsec-sas-on-pic-restart;
 *   H_SS2:   fx_set_ss2 (ss2 on ms-0/0/0, manual u1, the same gateway, no gw-interface);
 *   H_SS3:   ss3 on ms-1/0/0, local gateway 192.0.2.33, dynamic term f1 only;
 *   H_NEW_KEY: t1's inbound key is FX_KEY_NEW. */
enum {
	H_DYN = 1, H_GW = 2, H_IFSTYLE = 4, H_CLEAR = 8, H_SS2 = 16, H_SS3 = 32, H_NEW_KEY = 64,
};

#define PIC0 "ms-0/0/0"
#define PIC1 "ms-1/0/0"
#define GW "192.0.2.1"

#define PROPOSALS \
	"set services ipsec-vpn ike proposal ike-prop authentication-method pre-shared-keys\n" \
	"set services ipsec-vpn ike proposal ike-prop dh-group group14\n" \
	"set services ipsec-vpn ike proposal ike-prop authentication-algorithm sha-256\n" \
	"set services ipsec-vpn ike proposal ike-prop encryption-algorithm aes-256-cbc\n" \
	"set services ipsec-vpn ike policy ike-pol version 2\n" \
	"set services ipsec-vpn ike policy ike-pol proposals ike-prop\n" \
	"set services ipsec-vpn ike policy ike-pol pre-shared-key ascii-text \"a test key\"\n" \
	"set services ipsec-vpn ipsec proposal esp-prop protocol esp\n" \
	"set services ipsec-vpn ipsec proposal esp-prop authentication-algorithm " \
	"hmac-sha-256-128\n" \
	"set services ipsec-vpn ipsec proposal esp-prop encryption-algorithm aes-256-cbc\n" \
	"set services ipsec-vpn ipsec policy ipsec-pol proposals esp-prop\n"

#define D1 "set services ipsec-vpn rule r1 term d1 "
static const char d1_lines[] =
    D1 "from source-address 10.7.0.0/24\n"
    D1 "from destination-address 10.8.0.0/24\n"
    D1 "then remote-gateway 192.0.2.7\n"
    D1 "then dynamic ike-policy ike-pol\n"
    D1 "then dynamic ipsec-policy ipsec-pol\n";

static const char gw_lines[] =
    "set services service-set ss1 ipsec-vpn-options local-gateway " GW
    " gw-interface ge-0/0/0.0\n";

static const char ifstyle_lines[] =
    "delete services service-set ss1 next-hop-service\n"
    "set services service-set ss1 interface-service service-interface " PIC0 ".1\n"
    "set interfaces ge-0/0/0 unit 0 family inet address " GW "/24\n"
    "set interfaces ge-0/0/0 unit 0 family inet service input service-set ss1\n"
    "set interfaces ge-0/0/0 unit 0 family inet service output service-set ss1\n"
    "set interfaces ms-0/0/0 unit 1 family inet\n";

#define SS3 "set services service-set ss3 "
#define F1 "set services ipsec-vpn rule r3 term f1 "
static const char ss3_lines[] =
    SS3 "next-hop-service inside-service-interface " PIC1 ".1\n"
    SS3 "next-hop-service outside-service-interface " PIC1 ".2\n"
    SS3 "ipsec-vpn-rules r3\n"
    SS3 "ipsec-vpn-options local-gateway 192.0.2.33\n"
    "set services ipsec-vpn rule r3 match-direction input\n"
    F1 "from source-address 10.11.0.0/24\n"
    F1 "from destination-address 10.12.0.0/24\n"
    F1 "then remote-gateway 192.0.2.34\n"
    F1 "then dynamic ike-policy ike-pol\n"
    F1 "then dynamic ipsec-policy ipsec-pol\n";

static const Picsec__V1__ConfigSnapshot *
conf(unsigned what)
{
	char extra[8192];
	size_t n;

	n = (size_t)snprintf(extra, sizeof(extra), "%s", PROPOSALS);
	if (what & H_DYN)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", d1_lines);
	if (what & H_GW)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", gw_lines);
	if (what & H_IFSTYLE)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", ifstyle_lines);
	if (what & H_CLEAR)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n,
		    "set services ipsec-vpn clear-ipsec-sas-on-pic-restart\n");
	if (what & H_SS2)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", fx_set_ss2);
	if (what & H_SS3)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", ss3_lines);
	cr_assert_lt(n, sizeof(extra));
	return CONF(.extra = extra, .in_key = (what & H_NEW_KEY) ? FX_KEY_NEW : NULL);
}

/* Commits what to fx_sd and forgets the publications. */
static void
configure(unsigned what)
{
	sadb_config(fx_sd, conf(what));
	cr_assert(fx_sd->have_config);
	fx_pubs_clear();
}

/* --- negotiated SAs as iked sends them -------------------------------------------- */

struct neg {
	Picsec__V1__Sa sa;
	Picsec__V1__Secret enc, auth;
	uint8_t enc_key[32], auth_key[32];
};

static struct neg negs[16];
static size_t nnegs;

static void
h_setup(void)
{
	nnegs = 0;
	fx_setup();
}

static struct neg *
neg(const char *ss, const char *rule, const char *term, Picsec__V1__SaDirection dir,
    uint32_t spi)
{
	struct neg *n;
	size_t i;

	cr_assert_lt(nnegs, sizeof(negs) / sizeof(negs[0]));
	n = &negs[nnegs++];
	memset(n, 0, sizeof(*n));
	picsec__v1__sa__init(&n->sa);
	picsec__v1__secret__init(&n->enc);
	picsec__v1__secret__init(&n->auth);
	for (i = 0; i < sizeof(n->enc_key); i++) {
		n->enc_key[i] = (uint8_t)(spi * 31u + i * 7u + 1);
		n->auth_key[i] = (uint8_t)(spi * 31u + i * 7u + 2);
	}
	n->enc.material.data = n->enc_key;
	n->enc.material.len = sizeof(n->enc_key);
	n->auth.material.data = n->auth_key;
	n->auth.material.len = sizeof(n->auth_key);
	n->sa.origin = ORIGIN_DYNAMIC;
	n->sa.service_set = STR(ss);
	n->sa.rule = STR(rule);
	n->sa.term = STR(term);
	n->sa.direction = dir;
	n->sa.protocol = PROTO_ESP;
	n->sa.spi = spi;
	n->sa.enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC;
	n->sa.enc_key = &n->enc;
	n->sa.auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128;
	n->sa.auth_key = &n->auth;
	n->sa.soft_lifetime_seconds = 3000;
	n->sa.hard_lifetime_seconds = 3600;
	return n;
}

/* Sends SaInstall with the pair (inbound, outbound) to sadb's handler; fx_reply has the
 * answer. */
static void
install_pair(struct neg *in, struct neg *out)
{
	Picsec__V1__SaInstall req = PICSEC__V1__SA_INSTALL__INIT;
	Picsec__V1__Sa *sas[2] = { &in->sa, &out->sa };
	bus_handler_fn *fn;
	void *ctx;

	req.sas = sas;
	req.n_sas = 2;
	fx_reply_clear();
	fn = fx_handler(MT(SA_INSTALL), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.count, 1);
}

/* Installs a pair of set/rule/term with these SPIs; the ids in ids[0] (in), ids[1] (out). */
static void
pair(const char *ss, const char *rule, const char *term, uint32_t spi, uint64_t *ids)
{
	const Picsec__V1__SaInstalled *r;

	install_pair(neg(ss, rule, term, DIR_IN, spi), neg(ss, rule, term, DIR_OUT, spi + 1));
	cr_assert_eq(fx_reply.type, MT(SA_INSTALLED), "refused: %s", fx_reply.text);
	r = (const Picsec__V1__SaInstalled *)fx_reply.msg;
	cr_assert_eq(r->n_ids, 2);
	ids[0] = r->ids[0];
	ids[1] = r->ids[1];
}

static void
d1_pair(uint32_t spi, uint64_t *ids)
{
	pair("ss1", "r1", "d1", spi, ids);
}

/* --- healthd's events -------------------------------------------------------------- */

/* msg as a subscriber gets it (packed and unpacked) to fn; freed after. */
static void
deliver(bus_handler_fn *fn, const ProtobufCMessage *msg)
{
	ProtobufCMessage *copy = pb_message_dup(msg);

	cr_assert_not_null(copy);
	fn(NULL, copy, fx_sd);
	protobuf_c_message_free_unpacked(copy, &wiping_allocator);
}

/* A ServiceState for name (as on "service.<name>"). */
static void
service(const char *name, Picsec__V1__ServiceStateKind state, const char *cause)
{
	Picsec__V1__ServiceState st = PICSEC__V1__SERVICE_STATE__INIT;

	st.name = STR(name);
	st.state = state;
	st.previous = state == PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN ?
	    PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP :
	    PICSEC__V1__SERVICE_STATE_KIND__SERVICE_INIT;
	st.incarnation = 0x1234;
	st.cause = STR(cause);
	st.since_ns = realtime_ns();
	st.hostname = STR("test");
	deliver(sadb_service_event, &st.base);
}

static void
pic_down(const char *pic, const char *cause)
{
	char name[128];

	snprintf(name, sizeof(name), "fwd.%s", pic);
	service(name, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, cause);
}

static void
pic_up(const char *pic)
{
	char name[128];

	snprintf(name, sizeof(name), "fwd.%s", pic);
	service(name, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP, "");
}

/* An IfaceEvent about addr (len bytes; NULL: none) on "iface.ge-0-0-0". */
static void
iface_raw(const uint8_t *addr, size_t len, bool usable)
{
	Picsec__V1__IfaceEvent ev = PICSEC__V1__IFACE_EVENT__INIT;
	Picsec__V1__IpAddress a = PICSEC__V1__IP_ADDRESS__INIT;

	ev.device = STR("ge-0-0-0");
	ev.change = usable ? PICSEC__V1__IFACE_CHANGE__IFACE_ADDRESS_ADDED :
	    PICSEC__V1__IFACE_CHANGE__IFACE_ADDRESS_REMOVED;
	ev.usable = usable;
	if (addr != NULL) {
		a.addr.data = (uint8_t *)(uintptr_t)addr;
		a.addr.len = len;
		ev.address = &a;
	}
	deliver(sadb_iface_event, &ev.base);
}

static void
iface(const char *dotted, bool usable)
{
	uint8_t a[4];

	cr_assert_eq(inet_pton(AF_INET, dotted, a), 1);
	iface_raw(a, sizeof(a), usable);
}

/* --- what sadb published ----------------------------------------------------------- */

static size_t
count_on(const char *topic)
{
	size_t i, n = 0;

	for (i = 0; i < fx_npubs(); i++)
		n += strcmp(fx_pub(i)->topic, topic) == 0;
	return n;
}

static size_t
count_type(int type)
{
	size_t i, n = 0;

	for (i = 0; i < fx_npubs(); i++)
		n += fx_pub(i)->type == type;
	return n;
}

/* The one SaCleanup on "cleanup.<set>", asserted to be from sadb about pic. */
static const Picsec__V1__SaCleanup *
cleanup_of(const char *set, const char *pic)
{
	const Picsec__V1__SaCleanup *c = NULL;
	char topic[96];
	size_t i;

	snprintf(topic, sizeof(topic), "cleanup.%s", set);
	cr_assert_eq(count_on(topic), 1, "%zu events on %s", count_on(topic), topic);
	for (i = 0; i < fx_npubs(); i++) {
		if (strcmp(fx_pub(i)->topic, topic) == 0) {
			cr_assert_eq(fx_pub(i)->type, MT(SA_CLEANUP));
			c = (const Picsec__V1__SaCleanup *)fx_pub(i)->msg;
		}
	}
	cr_assert_str_eq(c->service_set, set);
	cr_assert_str_eq(c->pic, pic);
	cr_assert_str_eq(c->by, "sadb");
	cr_assert_eq(c->ike_sas_cleared, 0);
	return c;
}

/* The one SaRemoved on "sa.removed". */
static const Picsec__V1__SaRemoved *
removed_event(void)
{
	size_t i;

	cr_assert_eq(count_on("sa.removed"), 1, "%zu events on sa.removed",
	    count_on("sa.removed"));
	for (i = 0; i < fx_npubs(); i++) {
		if (strcmp(fx_pub(i)->topic, "sa.removed") == 0) {
			cr_assert_eq(fx_pub(i)->type, MT(SA_REMOVED));
			return (const Picsec__V1__SaRemoved *)fx_pub(i)->msg;
		}
	}
	return NULL;
}

static bool
has_id(const uint64_t *ids, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == id)
			return true;
	}
	return false;
}

/* How many updates on "sa.<pic>" remove id / upsert it. */
static size_t
removals(const char *pic, uint64_t id)
{
	size_t i, n = 0;
	char topic[96];

	snprintf(topic, sizeof(topic), "sa.%s", pic);
	for (i = 0; i < fx_npubs(); i++) {
		if (strcmp(fx_pub(i)->topic, topic) == 0)
			n += fx_removes(fx_update(i, pic), id);
	}
	return n;
}

/* The upsert of id on "sa.<pic>", asserted to be there once. */
static const Picsec__V1__Sa *
upserted(const char *pic, uint64_t id)
{
	const Picsec__V1__Sa *found = NULL, *s;
	size_t i, n = 0;
	char topic[96];

	snprintf(topic, sizeof(topic), "sa.%s", pic);
	for (i = 0; i < fx_npubs(); i++) {
		if (strcmp(fx_pub(i)->topic, topic) == 0 &&
		    (s = fx_upsert(fx_update(i, pic), id)) != NULL) {
			found = s;
			n++;
		}
	}
	cr_assert_eq(n, 1, "SA %016llx upserted %zu times", (unsigned long long)id, n);
	return found;
}

static bool
is_upserted(const char *pic, uint64_t id)
{
	char topic[96];

	snprintf(topic, sizeof(topic), "sa.%s", pic);
	for (size_t i = 0; i < fx_npubs(); i++) {
		if (strcmp(fx_pub(i)->topic, topic) == 0 && fx_upsert(fx_update(i, pic), id))
			return true;
	}
	return false;
}

/* --- what sadb holds and answers --------------------------------------------------- */

static struct sadb_sa *
sa_by_id(uint64_t id)
{
	return u64map_get(fx_sd->sas_by_id, id);
}

static struct sadb_sa *
live(uint64_t id)
{
	struct sadb_sa *sa = sa_by_id(id);

	cr_assert_not_null(sa, "no SA %016llx", (unsigned long long)id);
	return sa;
}

static struct sadb_set *
set_named(const char *pic, const char *name)
{
	struct sadb_set *set = sadb_set_find(sadb_pic_find(fx_sd, pic), name);

	cr_assert_not_null(set, "no service set %s on %s", name, pic);
	return set;
}

/* The snapshot a PIC (or its next incarnation) gets. */
static const Picsec__V1__SaSnapshot *
snapshot(const char *pic)
{
	fx_reply_clear();
	sadb_reply_snapshot(fx_sd, fx_request(), pic);
	cr_assert_eq(fx_reply.type, MT(SA_SNAPSHOT), "%s", fx_reply.text);
	return (const Picsec__V1__SaSnapshot *)fx_reply.msg;
}

static bool
snapshot_has(const Picsec__V1__SaSnapshot *s, uint64_t id)
{
	for (size_t i = 0; i < s->n_sas; i++) {
		if (s->sas[i]->id == id)
			return true;
	}
	return false;
}

/* SaGetList (all service sets) through the handler. */
static const Picsec__V1__SaList *
list_all(void)
{
	Picsec__V1__SaGetList req = PICSEC__V1__SA_GET_LIST__INIT;
	bus_handler_fn *fn;
	void *ctx;

	fx_reply_clear();
	fn = fx_handler(MT(SA_GET_LIST), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.type, MT(SA_LIST), "%s", fx_reply.text);
	return (const Picsec__V1__SaList *)fx_reply.msg;
}

static const Picsec__V1__SaInfo *
listed(const Picsec__V1__SaList *l, uint64_t id)
{
	for (size_t i = 0; i < l->n_sas; i++) {
		if (l->sas[i]->sa->id == id)
			return l->sas[i];
	}
	cr_assert_fail("SA %016llx not listed", (unsigned long long)id);
	return NULL;
}

/* pic reports every SA it holds as installed, with usage: outbound ones at seq, bytes. */
static void
report_all(const char *pic_name, uint64_t seq, uint64_t bytes)
{
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;
	struct sadb_pic *pic = sadb_pic_find(fx_sd, pic_name);
	Picsec__V1__SaUsage use[16], *usep[16];
	uint64_t ids[16];
	struct sadb_sa *sa;
	size_t n = 0;

	cr_assert_not_null(pic);
	for (sa = pic->sas; sa != NULL; sa = sa->next) {
		cr_assert_lt(n, 16);
		picsec__v1__sa_usage__init(&use[n]);
		use[n].id = ids[n] = sa->id;
		use[n].seq = sa->msg.direction == DIR_OUT ? seq : 0;
		use[n].bytes = bytes;
		usep[n] = &use[n];
		n++;
	}
	st.pic = STR(pic_name);
	st.applied_incarnation = fx_sd->incarnation;
	st.applied_seq = pic->seq;
	st.installed = ids;
	st.n_installed = n;
	st.usage = usep;
	st.n_usage = n;
	sadb_pic_status(fx_sd, &st);
}

static size_t
count_downs(void)
{
	return health_downs_count(fx_sd->downs);
}

#define CAUSE(x) PICSEC__V1__CLEANUP_CAUSE__CLEANUP_##x

/* ---------------------------------------------------------------------------------- */
TestSuite(pic_restart, .init = h_setup, .fini = fx_teardown);

Test(pic_restart, the_handlers_are_sadbs_for_healthds_events)
{
	void *ctx;

	cr_assert_eq(fx_handler(MT(SERVICE_STATE), &ctx), sadb_service_event);
	cr_assert_eq(ctx, fx_sd);
	cr_assert_eq(fx_handler(MT(IFACE_EVENT), &ctx), sadb_iface_event);
	cr_assert_eq(ctx, fx_sd);
}

/* A PIC that restarts goes DOWN, INIT (started, not heard from yet), UP; an UNRESPONSIVE
 * one is alive. Only UP brings it back. */
Test(pic_restart, only_up_brings_a_pic_back)
{
	uint64_t t1in;

	configure(H_GW);
	t1in = fx_sa_of("t1", DIR_IN)->id;
	pic_down(PIC0, "killed");
	cr_assert(live(t1in)->withheld);
	fx_pubs_clear();
	service("fwd." PIC0, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_INIT, "");
	service("fwd." PIC0, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UNRESPONSIVE, "silent");
	cr_assert_eq(fx_npubs(), 0);
	cr_assert(live(t1in)->withheld);
	pic_up(PIC0);
	cr_assert_not(live(t1in)->withheld);
	upserted(PIC0, t1in);
	/* UNRESPONSIVE is no DOWN either. */
	fx_pubs_clear();
	service("fwd." PIC0, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UNRESPONSIVE, "silent");
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_not(live(t1in)->withheld);
}

Test(pic_restart, with_clear_the_negotiated_sas_go_and_the_configured_start_over)
{
	struct sadb_sa *t1in, *t1out;
	const Picsec__V1__SaCleanup *c;
	const Picsec__V1__SaRemoved *rm;
	const Picsec__V1__SaSnapshot *s;
	uint64_t d[2], f[2], t1[2], before;

	configure(H_DYN | H_CLEAR | H_SS2 | H_SS3);
	cr_assert(fx_sd->clear_ipsec_on_pic);
	d1_pair(0x1000, d);
	pair("ss3", "r3", "f1", 0x5000, f);
	t1in = fx_sa_of("t1", DIR_IN);
	t1out = fx_sa_of("t1", DIR_OUT);
	t1[0] = t1in->id;
	t1[1] = t1out->id;
	report_all(PIC0, 7000, 4096);
	report_all(PIC1, 9000, 8192);
	cr_assert(t1in->installed && t1out->installed);
	cr_assert_eq(t1out->bytes, 4096);
	t1in->created_ns = t1out->created_ns = 1; /* long ago */
	fx_pubs_clear();

	before = realtime_ns();
	pic_down(PIC0, "killed by signal 9 (SIGKILL)");

	/* The negotiated SAs: off the PIC's stream, gone from sadb, iked told why. */
	cr_assert_eq(removals(PIC0, d[0]), 1);
	cr_assert_eq(removals(PIC0, d[1]), 1);
	cr_assert_null(sa_by_id(d[0]));
	cr_assert_null(sa_by_id(d[1]));
	rm = removed_event();
	cr_assert_eq(rm->n_ids, 2);
	cr_assert(has_id(rm->ids, rm->n_ids, d[0]) && has_id(rm->ids, rm->n_ids, d[1]));
	cr_assert(strstr(rm->reason, "clear-ipsec-sas-on-pic-restart") != NULL, "%s",
	    rm->reason);
	cr_assert(strstr(rm->reason, "SIGKILL") != NULL, "the cause is not named: %s",
	    rm->reason);

	/* The cleanup event of ss1. */
	c = cleanup_of("ss1", PIC0);
	cr_assert_eq(c->cause, CAUSE(PIC_DOWN));
	cr_assert_eq(c->ipsec_sas_cleared, 4, "t1's pair and d1's: %u", c->ipsec_sas_cleared);
	cr_assert_eq(c->ipsec_sas_not_installed, 0);
	cr_assert_not(c->triggers_stopped);
	cr_assert(strstr(c->detail, "clear-ipsec-sas-on-pic-restart") != NULL, "%s", c->detail);
	cr_assert(strstr(c->detail, "SIGKILL") != NULL, "%s", c->detail);
	/* ss2, on the same PIC: its own event, its own SAs (u1's pair, started over). */
	c = cleanup_of("ss2", PIC0);
	cr_assert_eq(c->cause, CAUSE(PIC_DOWN));
	cr_assert_eq(c->ipsec_sas_cleared, 2, "u1's pair: %u", c->ipsec_sas_cleared);
	cr_assert_eq(fx_sa_of("u1", DIR_OUT)->bytes, 0);
	cr_assert_geq(fx_sa_of("u1", DIR_OUT)->created_ns, before);

	/* The configured SAs stay, from scratch: new creation time, no bytes, not installed. */
	cr_assert_eq(live(t1[0]), t1in);
	cr_assert_eq(live(t1[1]), t1out);
	cr_assert_eq(removals(PIC0, t1[0]) + removals(PIC0, t1[1]), 0);
	cr_assert_geq(t1in->created_ns, before);
	cr_assert_geq(t1out->created_ns, before);
	cr_assert_eq(t1in->bytes, 0);
	cr_assert_eq(t1out->bytes, 0);
	cr_assert_not(t1in->installed || t1out->installed);
	cr_assert_geq(t1out->msg.seq_start, 7000 + SADB_SEQ_MARGIN,
	    "the outbound SA starts above the journal's mark");
	cr_assert_not(t1in->withheld || t1out->withheld);

	/* The other PIC: untouched. */
	cr_assert_eq(count_on("sa." PIC1), 0);
	cr_assert_eq(count_on("cleanup.ss3"), 0);
	cr_assert(live(f[0])->installed && live(f[1])->installed);
	cr_assert_eq(live(f[1])->bytes, 8192);
	cr_assert_not(has_id(rm->ids, rm->n_ids, f[0]) || has_id(rm->ids, rm->n_ids, f[1]));
	cr_assert_eq(fx_npubs(), 4, "an update, sa.removed, cleanup.ss1 and .ss2: %zu",
	    fx_npubs());

	/* The next incarnation gets the configured SAs, not the negotiated ones. */
	s = snapshot(PIC0);
	cr_assert_eq(s->n_sas, 4, "t1's pair and u1's");
	cr_assert(snapshot_has(s, t1[0]) && snapshot_has(s, t1[1]));
	for (size_t i = 0; i < s->n_sas; i++) {
		if (s->sas[i]->id == t1[1])
			cr_assert_geq(s->sas[i]->seq_start, 7000 + SADB_SEQ_MARGIN);
	}

	/* The PIC back: nothing more to do here (it asks for the snapshot). */
	fx_pubs_clear();
	pic_up(PIC0);
	cr_assert_eq(fx_npubs(), 0, "%zu publications on the PIC's return", fx_npubs());
	/* And iked negotiates again. */
	d1_pair(0x1000, d);
}

Test(pic_restart, a_repeated_down_acts_once)
{
	uint64_t d[2];

	configure(H_DYN | H_CLEAR);
	d1_pair(0x1000, d);
	fx_pubs_clear();
	pic_down(PIC0, "no heartbeat for 3.0 s");
	cr_assert_eq(count_type(MT(SA_CLEANUP)), 1);
	fx_pubs_clear();
	pic_down(PIC0, "no heartbeat for 3.0 s");
	cr_assert_eq(fx_npubs(), 0, "a second DOWN published %zu messages", fx_npubs());

	/* Down, up, down again: a new restart clears again. */
	pic_up(PIC0);
	d1_pair(0x1100, d);
	fx_pubs_clear();
	pic_down(PIC0, "killed by signal 6 (SIGABRT)");
	cr_assert_eq(cleanup_of("ss1", PIC0)->ipsec_sas_cleared, 4);
	cr_assert_null(sa_by_id(d[0]));
}

Test(pic_restart, without_clear_everything_survives_for_the_next_incarnation)
{
	const Picsec__V1__SaSnapshot *s;
	struct sadb_sa *t1out;
	uint64_t d[2], created;

	configure(H_DYN);
	cr_assert_not(fx_sd->clear_ipsec_on_pic);
	d1_pair(0x1000, d);
	report_all(PIC0, 7000, 4096);
	t1out = fx_sa_of("t1", DIR_OUT);
	created = t1out->created_ns;
	fx_pubs_clear();

	pic_down(PIC0, "killed by signal 9 (SIGKILL)");
	cr_assert_eq(fx_npubs(), 0, "%zu publications", fx_npubs());
	cr_assert_eq(count_type(MT(SA_CLEANUP)), 0);
	cr_assert_eq(fx_count_sas(fx_pic0()), 4);
	live(d[0]);
	live(d[1]);
	cr_assert_eq(t1out->created_ns, created, "not restarted");
	cr_assert_eq(t1out->bytes, 4096);

	s = snapshot(PIC0);
	cr_assert_eq(s->n_sas, 4, "t1's pair and d1's");
	cr_assert(snapshot_has(s, d[0]) && snapshot_has(s, d[1]));
	cr_assert(snapshot_has(s, fx_sa_of("t1", DIR_IN)->id) && snapshot_has(s, t1out->id));

	fx_pubs_clear();
	pic_up(PIC0);
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(fx_count_sas(fx_pic0()), 4);
}

Test(pic_restart, a_pic_sadb_does_not_stream_to_changes_nothing)
{
	uint64_t d[2];

	configure(H_DYN | H_CLEAR);
	d1_pair(0x1000, d);
	fx_pubs_clear();
	pic_down("ms-7/0/0", "killed");
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(fx_count_sas(fx_pic0()), 4);
	pic_up("ms-7/0/0");
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(count_downs(), 0);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(gw_next_hop, .init = h_setup, .fini = fx_teardown);

Test(gw_next_hop, gateway_down_clears_negotiated_and_withholds_configured)
{
	const Picsec__V1__SaCleanup *c;
	const Picsec__V1__SaRemoved *rm;
	const Picsec__V1__SaSnapshot *s;
	const Picsec__V1__SaList *l;
	const Picsec__V1__Sa *up;
	struct sadb_sa *t1in, *t1out;
	uint64_t d[2], t1[2], before;

	configure(H_DYN | H_GW);
	cr_assert(set_named(PIC0, "ss1")->gw_interface);
	cr_assert_not(set_named(PIC0, "ss1")->withheld);
	d1_pair(0x1000, d);
	t1in = fx_sa_of("t1", DIR_IN);
	t1out = fx_sa_of("t1", DIR_OUT);
	t1[0] = t1in->id;
	t1[1] = t1out->id;
	report_all(PIC0, 7000, 4096);
	fx_pubs_clear();

	iface(GW, false);

	/* Every SA of ss1 leaves the PIC's stream. */
	cr_assert_eq(removals(PIC0, d[0]), 1);
	cr_assert_eq(removals(PIC0, d[1]), 1);
	cr_assert_eq(removals(PIC0, t1[0]), 1);
	cr_assert_eq(removals(PIC0, t1[1]), 1);
	cr_assert_eq(count_type(MT(SA_UPDATE)), 1, "one update");
	/* The negotiated ones are deleted and iked told. */
	cr_assert_null(sa_by_id(d[0]));
	cr_assert_null(sa_by_id(d[1]));
	rm = removed_event();
	cr_assert_eq(rm->n_ids, 2);
	cr_assert(has_id(rm->ids, 2, d[0]) && has_id(rm->ids, 2, d[1]));
	cr_assert(strstr(rm->reason, "gw-interface") != NULL, "%s", rm->reason);
	cr_assert(strstr(rm->reason, GW) != NULL, "%s", rm->reason);
	/* The configured ones are kept, Not Installed. */
	cr_assert_eq(live(t1[0]), t1in);
	cr_assert_eq(live(t1[1]), t1out);
	cr_assert(t1in->withheld && t1out->withheld);
	cr_assert_not(t1in->installed || t1out->installed);
	cr_assert(set_named(PIC0, "ss1")->withheld);

	c = cleanup_of("ss1", PIC0);
	cr_assert_eq(c->cause, CAUSE(GATEWAY_DOWN));
	cr_assert_eq(c->ipsec_sas_cleared, 2);
	cr_assert_eq(c->ipsec_sas_not_installed, 2);
	cr_assert(c->triggers_stopped);
	cr_assert(strstr(c->detail, GW) != NULL, "%s", c->detail);
	cr_assert_eq(fx_npubs(), 3, "%zu publications", fx_npubs());

	/* The list still shows them, not installed. */
	l = list_all();
	cr_assert_eq(l->n_sas, 2);
	cr_assert_not(listed(l, t1[0])->installed);
	cr_assert_not(listed(l, t1[1])->installed);
	cr_assert_str_eq(listed(l, t1[0])->pic, PIC0);

	/* A PIC asking for its snapshot does not get them; ss1 stays listed (its routes). */
	s = snapshot(PIC0);
	cr_assert_eq(s->n_sas, 0, "%zu SAs in the snapshot", s->n_sas);
	cr_assert_eq(s->n_service_sets, 1);

	/* iked is refused while the gateway is down. */
	fx_pubs_clear();
	install_pair(neg("ss1", "r1", "d1", DIR_IN, 0x1200), neg("ss1", "r1", "d1", DIR_OUT, 0x1201));
	cr_assert_eq(fx_reply.type, MT(ERROR), "installed while the gateway is down");
	cr_assert(strstr(fx_reply.text, "gw-interface") != NULL, "%s", fx_reply.text);
	cr_assert(strstr(fx_reply.text, "ss1") != NULL, "%s", fx_reply.text);
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 2);

	/* The gateway is back: the configured SAs go to the PIC again, from scratch. */
	fx_pubs_clear();
	before = realtime_ns();
	iface(GW, true);
	cr_assert_not(set_named(PIC0, "ss1")->withheld);
	cr_assert_not(t1in->withheld || t1out->withheld);
	cr_assert_eq(count_type(MT(SA_UPDATE)), 1);
	upserted(PIC0, t1[0]);
	up = upserted(PIC0, t1[1]);
	cr_assert_geq(up->seq_start, 7000 + SADB_SEQ_MARGIN, "seq_start %llu",
	    (unsigned long long)up->seq_start);
	cr_assert_not_null(up->enc_key, "the keys go with it");
	cr_assert_geq(t1in->created_ns, before);
	cr_assert_eq(t1out->bytes, 0);
	cr_assert_eq(count_on("sa.removed"), 0);
	c = cleanup_of("ss1", PIC0);
	cr_assert_eq(c->cause, CAUSE(GATEWAY_UP));
	cr_assert_eq(c->ipsec_sas_cleared, 0);
	cr_assert_eq(c->ipsec_sas_not_installed, 0);
	cr_assert_not(c->triggers_stopped);
	cr_assert_eq(fx_npubs(), 2);

	s = snapshot(PIC0);
	cr_assert_eq(s->n_sas, 2);
	/* And iked may install again. */
	d1_pair(0x1200, d);
}

Test(gw_next_hop, another_service_set_on_the_same_gateway_is_not_touched)
{
	struct sadb_sa *u1;

	configure(H_GW | H_SS2);
	u1 = fx_sa_of("u1", DIR_IN);
	fx_pubs_clear();
	iface(GW, false);
	cr_assert_eq(count_on("cleanup.ss2"), 0);
	cr_assert_eq(removals(PIC0, u1->id), 0);
	cr_assert_not(u1->withheld);
	cr_assert_not(set_named(PIC0, "ss2")->withheld);
	cr_assert(set_named(PIC0, "ss1")->withheld);
	cr_assert(snapshot_has(snapshot(PIC0), u1->id));
	cr_assert_not(snapshot_has(snapshot(PIC0), fx_sa_of("t1", DIR_IN)->id));
}

/* ---------------------------------------------------------------------------------- */
TestSuite(gw_interface_style, .init = h_setup, .fini = fx_teardown);

Test(gw_interface_style, down_withholds_all_up_deletes_the_negotiated)
{
	const Picsec__V1__SaCleanup *c;
	const Picsec__V1__SaRemoved *rm;
	const Picsec__V1__SaList *l;
	uint64_t d[2], t1[2];
	size_t i;

	configure(H_DYN | H_GW | H_IFSTYLE);
	cr_assert_eq(set_named(PIC0, "ss1")->msg.style,
	    PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_INTERFACE);
	d1_pair(0x1000, d);
	t1[0] = fx_sa_of("t1", DIR_IN)->id;
	t1[1] = fx_sa_of("t1", DIR_OUT)->id;
	report_all(PIC0, 7000, 4096);
	fx_pubs_clear();

	iface(GW, false);
	/* All four off the PIC, none deleted. */
	for (i = 0; i < 2; i++) {
		cr_assert_eq(removals(PIC0, d[i]), 1);
		cr_assert_eq(removals(PIC0, t1[i]), 1);
		cr_assert(live(d[i])->withheld && live(t1[i])->withheld);
		cr_assert_not(live(d[i])->installed || live(t1[i])->installed);
	}
	cr_assert_eq(count_on("sa.removed"), 0, "interface-style SAs are not cleared");
	c = cleanup_of("ss1", PIC0);
	cr_assert_eq(c->cause, CAUSE(GATEWAY_DOWN));
	cr_assert_eq(c->ipsec_sas_cleared, 0);
	cr_assert_eq(c->ipsec_sas_not_installed, 4);
	cr_assert(c->triggers_stopped);
	l = list_all();
	cr_assert_eq(l->n_sas, 4);
	for (i = 0; i < l->n_sas; i++)
		cr_assert_not(l->sas[i]->installed);
	cr_assert_eq(snapshot(PIC0)->n_sas, 0);

	/* The same event again: nothing more. */
	fx_pubs_clear();
	iface(GW, false);
	cr_assert_eq(fx_npubs(), 0, "a repeated down");

	/* Back: the Not Installed negotiated SAs are deleted, the configured ones pushed. */
	iface(GW, true);
	for (i = 0; i < 2; i++) {
		cr_assert_null(sa_by_id(d[i]));
		cr_assert_eq(removals(PIC0, d[i]), 0, "not on the PIC: no removal to send");
		cr_assert_not(live(t1[i])->withheld);
		upserted(PIC0, t1[i]);
	}
	cr_assert_geq(upserted(PIC0, t1[1])->seq_start, 7000 + SADB_SEQ_MARGIN);
	rm = removed_event();
	cr_assert_eq(rm->n_ids, 2);
	cr_assert(has_id(rm->ids, 2, d[0]) && has_id(rm->ids, 2, d[1]));
	cr_assert(strstr(rm->reason, "gw-interface") != NULL, "%s", rm->reason);
	c = cleanup_of("ss1", PIC0);
	cr_assert_eq(c->cause, CAUSE(GATEWAY_UP));
	cr_assert_eq(c->ipsec_sas_cleared, 2);
	cr_assert_eq(c->ipsec_sas_not_installed, 0);
	cr_assert_not(c->triggers_stopped);
	cr_assert_eq(snapshot(PIC0)->n_sas, 2);
	d1_pair(0x1200, d);
}

Test(gw_interface_style, a_commit_keeping_the_term_keeps_withheld_negotiated_sas_off)
{
	uint64_t d[2];

	configure(H_DYN | H_GW | H_IFSTYLE);
	d1_pair(0x1000, d);
	iface(GW, false);
	fx_pubs_clear();
	sadb_config(fx_sd, conf(H_DYN | H_GW | H_IFSTYLE | H_NEW_KEY));
	cr_assert(live(d[0])->withheld && live(d[1])->withheld);
	cr_assert_not(is_upserted(PIC0, d[0]) || is_upserted(PIC0, d[1]));
	cr_assert_not(is_upserted(PIC0, fx_sa_of("t1", DIR_IN)->id));
	cr_assert_eq(snapshot(PIC0)->n_sas, 0);
	fx_pubs_clear();
	iface(GW, true);
	cr_assert_null(sa_by_id(d[0]));
	cr_assert_eq(removed_event()->n_ids, 2);
	cr_assert(fx_secret_is(upserted(PIC0, fx_sa_of("t1", DIR_IN)->id)->enc_key, fx_key_new,
	    sizeof(fx_key_new)));
}

/* ---------------------------------------------------------------------------------- */
TestSuite(gw_pic, .init = h_setup, .fini = fx_teardown);

Test(gw_pic, the_pic_down_is_the_gateway_down)
{
	const Picsec__V1__SaCleanup *c;
	uint64_t d[2], t1[2];

	configure(H_DYN | H_GW);
	d1_pair(0x1000, d);
	t1[0] = fx_sa_of("t1", DIR_IN)->id;
	t1[1] = fx_sa_of("t1", DIR_OUT)->id;
	report_all(PIC0, 7000, 0);
	fx_pubs_clear();

	pic_down(PIC0, "killed by signal 9 (SIGKILL)");
	c = cleanup_of("ss1", PIC0);
	cr_assert_eq(c->cause, CAUSE(GATEWAY_PIC_DOWN));
	cr_assert_eq(c->ipsec_sas_cleared, 2);
	cr_assert_eq(c->ipsec_sas_not_installed, 2);
	cr_assert(c->triggers_stopped);
	cr_assert(strstr(c->detail, PIC0) != NULL, "%s", c->detail);
	cr_assert_null(sa_by_id(d[0]));
	cr_assert(live(t1[0])->withheld && live(t1[1])->withheld);
	cr_assert_eq(removed_event()->n_ids, 2);
	cr_assert_eq(snapshot(PIC0)->n_sas, 0);
	install_pair(neg("ss1", "r1", "d1", DIR_IN, 0x1200), neg("ss1", "r1", "d1", DIR_OUT, 0x1201));
	cr_assert_eq(fx_reply.type, MT(ERROR));
	cr_assert(strstr(fx_reply.text, "gw-interface") != NULL, "%s", fx_reply.text);

	fx_pubs_clear();
	pic_up(PIC0);
	c = cleanup_of("ss1", PIC0);
	cr_assert_eq(c->cause, CAUSE(GATEWAY_UP));
	cr_assert_not(c->triggers_stopped);
	cr_assert_not(live(t1[0])->withheld || live(t1[1])->withheld);
	upserted(PIC0, t1[0]);
	cr_assert_geq(upserted(PIC0, t1[1])->seq_start, 7000 + SADB_SEQ_MARGIN);
	cr_assert_eq(snapshot(PIC0)->n_sas, 2);
	d1_pair(0x1200, d);
}

Test(gw_pic, the_set_comes_back_when_both_are_up)
{
	uint64_t t1in;

	configure(H_GW);
	t1in = fx_sa_of("t1", DIR_IN)->id;
	iface(GW, false);
	fx_pubs_clear();
	pic_down(PIC0, "killed");
	cr_assert_eq(fx_npubs(), 0, "already withheld: nothing to do");
	pic_up(PIC0);
	cr_assert_eq(fx_npubs(), 0, "the gateway is still down");
	cr_assert(live(t1in)->withheld);

	pic_down(PIC0, "killed");
	iface(GW, true);
	cr_assert_eq(fx_npubs(), 0, "the PIC is still down");
	cr_assert(live(t1in)->withheld);
	pic_up(PIC0);
	cr_assert_eq(cleanup_of("ss1", PIC0)->cause, CAUSE(GATEWAY_UP));
	upserted(PIC0, t1in);
	cr_assert_not(live(t1in)->withheld);
	cr_assert_eq(count_downs(), 0);
}

Test(gw_pic, with_clear_both_rules_act)
{
	const Picsec__V1__SaCleanup *c[2] = { NULL, NULL };
	uint64_t d[2], t1in;
	size_t i, n = 0;

	configure(H_DYN | H_GW | H_CLEAR);
	d1_pair(0x1000, d);
	t1in = fx_sa_of("t1", DIR_IN)->id;
	fx_pubs_clear();
	pic_down(PIC0, "killed");
	for (i = 0; i < fx_npubs(); i++) {
		if (fx_pub(i)->type == MT(SA_CLEANUP)) {
			cr_assert_lt(n, 2);
			c[n++] = (const Picsec__V1__SaCleanup *)fx_pub(i)->msg;
		}
	}
	cr_assert_eq(n, 2);
	cr_assert_eq(c[0]->cause, CAUSE(PIC_DOWN));
	cr_assert_eq(c[0]->ipsec_sas_cleared, 4);
	cr_assert_eq(c[1]->cause, CAUSE(GATEWAY_PIC_DOWN));
	cr_assert_eq(c[1]->ipsec_sas_cleared, 0, "d1's pair went with the first rule");
	cr_assert_eq(c[1]->ipsec_sas_not_installed, 2);
	cr_assert_eq(removed_event()->n_ids, 2, "iked is told once");
	cr_assert_null(sa_by_id(d[0]));
	cr_assert(live(t1in)->withheld);
	fx_pubs_clear();
	pic_up(PIC0);
	upserted(PIC0, t1in);
	cr_assert_eq(cleanup_of("ss1", PIC0)->cause, CAUSE(GATEWAY_UP));
}

/* ---------------------------------------------------------------------------------- */
TestSuite(gw_ignored, .init = h_setup, .fini = fx_teardown);

Test(gw_ignored, a_set_without_gw_interface_ignores_its_address)
{
	uint64_t d[2];

	configure(H_DYN);
	d1_pair(0x1000, d);
	fx_pubs_clear();
	iface(GW, false);
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(count_downs(), 0, "an address no set watches is not remembered");
	cr_assert_eq(snapshot(PIC0)->n_sas, 4);
	d1_pair(0x1200, d);
	fx_pubs_clear();
	iface(GW, true);
	cr_assert_eq(fx_npubs(), 0);
}

Test(gw_ignored, other_addresses_are_ignored)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	configure(H_DYN | H_GW);
	iface("192.0.2.99", false);
	iface("192.0.2.2", false); /* the remote gateway */
	iface_raw(v6, sizeof(v6), false);
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(count_downs(), 0);
	cr_assert_not(set_named(PIC0, "ss1")->withheld);
	cr_assert_eq(snapshot(PIC0)->n_sas, 2);
}

Test(gw_ignored, repeats_act_once)
{
	uint64_t t1in;

	configure(H_DYN | H_GW);
	t1in = fx_sa_of("t1", DIR_IN)->id;
	iface(GW, true);
	cr_assert_eq(fx_npubs(), 0, "up while up");
	iface(GW, false);
	cr_assert_eq(count_type(MT(SA_CLEANUP)), 1);
	fx_pubs_clear();
	iface(GW, false);
	cr_assert_eq(fx_npubs(), 0, "down while down");
	cr_assert_eq(count_downs(), 1);
	iface(GW, true);
	cr_assert_eq(count_type(MT(SA_CLEANUP)), 1);
	upserted(PIC0, t1in);
	fx_pubs_clear();
	iface(GW, true);
	cr_assert_eq(fx_npubs(), 0, "up while up");
	cr_assert_eq(count_downs(), 0);
}

Test(gw_ignored, a_commit_while_withheld_keeps_it_withheld)
{
	struct sadb_set *set;
	uint64_t t1[2];

	configure(H_DYN | H_GW);
	t1[0] = fx_sa_of("t1", DIR_IN)->id;
	t1[1] = fx_sa_of("t1", DIR_OUT)->id;
	iface(GW, false);
	fx_pubs_clear();

	/* The same configuration again, then t1 with a new key: nothing goes to the PIC. */
	sadb_config(fx_sd, conf(H_DYN | H_GW));
	sadb_config(fx_sd, conf(H_DYN | H_GW | H_NEW_KEY));
	set = set_named(PIC0, "ss1");
	cr_assert(set->withheld);
	cr_assert_not(is_upserted(PIC0, t1[0]) || is_upserted(PIC0, t1[1]));
	cr_assert_eq(removals(PIC0, t1[0]) + removals(PIC0, t1[1]), 0, "already off the PIC");
	cr_assert(live(t1[0])->withheld && live(t1[1])->withheld);
	cr_assert_not(live(t1[0])->installed);
	cr_assert_eq(snapshot(PIC0)->n_sas, 0);
	cr_assert_eq(count_type(MT(SA_CLEANUP)), 0);
	install_pair(neg("ss1", "r1", "d1", DIR_IN, 0x1200), neg("ss1", "r1", "d1", DIR_OUT, 0x1201));
	cr_assert_eq(fx_reply.type, MT(ERROR), "the new set is withheld too");

	/* Up: the SAs go, with the new key. */
	fx_pubs_clear();
	iface(GW, true);
	cr_assert(fx_secret_is(upserted(PIC0, t1[0])->enc_key, fx_key_new, sizeof(fx_key_new)));
	upserted(PIC0, t1[1]);
	cr_assert_eq(cleanup_of("ss1", PIC0)->cause, CAUSE(GATEWAY_UP));
}

Test(gw_ignored, a_commit_dropping_gw_interface_puts_the_sas_back)
{
	uint64_t t1in;

	configure(H_DYN | H_GW);
	t1in = fx_sa_of("t1", DIR_IN)->id;
	iface(GW, false);
	fx_pubs_clear();
	sadb_config(fx_sd, conf(H_DYN));
	cr_assert_not(set_named(PIC0, "ss1")->withheld);
	cr_assert_not(live(t1in)->withheld);
	upserted(PIC0, t1in);
	cr_assert_eq(snapshot(PIC0)->n_sas, 2);
	/* The address coming back afterwards changes nothing and is forgotten. */
	fx_pubs_clear();
	iface(GW, true);
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(count_downs(), 0);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(hostile, .init = h_setup, .fini = fx_teardown);

Test(hostile, service_names_that_are_no_pic)
{
	configure(H_DYN | H_GW | H_CLEAR);
	service("fwd.", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, "killed");
	service("fwd", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, "killed");
	service("", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, "killed");
	service("sadb", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, "killed");
	service("iked", PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, "killed");
	service("xfwd." PIC0, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, "killed");
	/* States other than UP and DOWN say nothing about the SAs. */
	service("fwd." PIC0, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UNRESPONSIVE, "silent");
	service("fwd." PIC0, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_INIT, "");
	service("fwd." PIC0, (Picsec__V1__ServiceStateKind)77, "");
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(count_downs(), 0);
	cr_assert_eq(snapshot(PIC0)->n_sas, 2);
}

Test(hostile, a_pic_name_too_long_for_a_pic)
{
	char name[200];

	configure(H_DYN | H_GW | H_CLEAR);
	/* "fwd." and 150 characters: no PIC sadb knows; its DOWN and UP leave nothing behind
	 * (and neither does its repetition). */
	snprintf(name, sizeof(name), "fwd.%0150d", 0);
	service(name, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, "killed");
	service(name, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN, "killed");
	cr_assert_leq(count_downs(), 1, "%zu entries for one PIC", count_downs());
	service(name, PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP, "");
	cr_assert_eq(count_downs(), 0, "%zu entries left after UP", count_downs());
	cr_assert_eq(fx_npubs(), 0);
}

Test(hostile, iface_events_without_a_usable_address)
{
	static const uint8_t seven[7] = { 192, 0, 2, 1, 0, 0, 0 };
	static const uint8_t three[3] = { 192, 0, 2 };
	static const uint8_t gw17[17] = { 192, 0, 2, 1 };

	configure(H_DYN | H_GW);
	iface_raw(NULL, 0, false);
	iface_raw(seven, sizeof(seven), false);
	iface_raw(three, sizeof(three), false);
	iface_raw(gw17, sizeof(gw17), false);
	iface_raw(seven, 0, false);
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(count_downs(), 0);
	cr_assert_not(set_named(PIC0, "ss1")->withheld);
	cr_assert_eq(snapshot(PIC0)->n_sas, 2);
}

Test(hostile, events_before_any_configuration)
{
	pic_down(PIC0, "killed");
	iface(GW, false);
	iface_raw(NULL, 0, true);
	cr_assert_eq(fx_npubs(), 0);
	pic_up(PIC0);
	cr_assert_eq(count_downs(), 0);
	/* A PIC sadb does not stream to is not remembered (anyone may publish on service.*):
	 * after the commit sadb asks healthd for the PICs' states instead. Once the PIC is
	 * sadb's, its DOWN withholds the gw-interface set. */
	pic_down(PIC0, "killed");
	cr_assert_eq(count_downs(), 0);
	sadb_config(fx_sd, conf(H_GW));
	cr_assert_not(set_named(PIC0, "ss1")->withheld);
	pic_down(PIC0, "killed");
	cr_assert(set_named(PIC0, "ss1")->withheld);
	cr_assert_eq(snapshot(PIC0)->n_sas, 0);
	fx_pubs_clear();
	pic_up(PIC0);
	upserted(PIC0, fx_sa_of("t1", DIR_IN)->id);
}
