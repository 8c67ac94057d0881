/* picsec-sadb's negotiated SAs (origin DYNAMIC): the templates a `then dynamic` term gives,
 * what iked installs (SaInstall) and removes (SaRemove) through the bus handlers, their
 * lifetimes, what a commit or a clear does to them (kept, rebuilt, or gone with an event on
 * "sa.removed"), and the SPI batches iked draws its inbound SPIs from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "catalog.h"
#include "envelope.h"
#include "sadb_fixture.h"
#include "testutil.h"
#include "timer.h"
#include "u64map.h"

/* --- the configuration ------------------------------------------------------------- */

/* fx_conf's ss1 (manual term t1, local gateway 192.0.2.1 on ms-0/0/0) with:
 *   DYN_D1:  term d1 in rule r1 after t1: 10.7.0.0/24 -> 10.8.0.0/24, remote gateway
 *            192.0.2.7, dynamic (ike-pol, ipsec-pol), tunnel-mtu as given, DF set, TTL 100;
 *            ss1's anti-replay window 512 (the term has none of its own);
 *   DYN_SS2: fx_set_ss2 (ss2 on the same PIC, manual u1) and its dynamic term e1 in r2:
 *            10.9.0.0/24 -> 10.10.0.0/24, remote gateway 192.0.2.9, window 2048 (the term's);
 *   DYN_SS3: ss3 on another PIC, ms-1/0/0, local gateway 192.0.2.33, only the dynamic term
 *            f1 of rule r3: 10.11.0.0/24 -> 10.12.0.0/24, remote gateway 192.0.2.34;
 *   DYN_NO_T1: without the manual term t1 (ss1 is then dynamic only);
 *   DYN_D2:  term d2 in rule r1 after d1: any source -> 10.13.0.0/16, remote gateway
 *            192.0.2.8, dynamic. */
enum { DYN_D1 = 1, DYN_SS2 = 2, DYN_SS3 = 4, DYN_NO_T1 = 8, DYN_D2 = 16 };
enum { MTU = 1400 };

#define PROPOSALS \
	"set services ipsec-vpn ike proposal ike-prop authentication-method pre-shared-keys\n" \
	"set services ipsec-vpn ike proposal ike-prop dh-group group14\n" \
	"set services ipsec-vpn ike proposal ike-prop authentication-algorithm sha-256\n" \
	"set services ipsec-vpn ike proposal ike-prop encryption-algorithm aes-256-cbc\n" \
	"set services ipsec-vpn ike proposal ike-prop lifetime-seconds 3600\n" \
	"set services ipsec-vpn ike policy ike-pol version 2\n" \
	"set services ipsec-vpn ike policy ike-pol proposals ike-prop\n" \
	"set services ipsec-vpn ike policy ike-pol pre-shared-key ascii-text \"a test key\"\n" \
	"set services ipsec-vpn ipsec proposal esp-prop protocol esp\n" \
	"set services ipsec-vpn ipsec proposal esp-prop authentication-algorithm " \
	"hmac-sha-256-128\n" \
	"set services ipsec-vpn ipsec proposal esp-prop encryption-algorithm aes-256-cbc\n" \
	"set services ipsec-vpn ipsec proposal esp-prop lifetime-seconds 1800\n" \
	"set services ipsec-vpn ipsec policy ipsec-pol perfect-forward-secrecy keys group14\n" \
	"set services ipsec-vpn ipsec policy ipsec-pol proposals esp-prop\n"

#define D1 "set services ipsec-vpn rule r1 term d1 "
static const char d1_fmt[] =
    "set services service-set ss1 ipsec-vpn-options anti-replay-window-size 512\n"
    D1 "from source-address 10.7.0.0/24\n"
    D1 "from destination-address 10.8.0.0/24\n"
    D1 "then remote-gateway 192.0.2.7\n"
    D1 "then dynamic ike-policy ike-pol\n"
    D1 "then dynamic ipsec-policy ipsec-pol\n"
    D1 "then tunnel-mtu %u\n"
    D1 "then set-dont-fragment-bit\n"
    D1 "then ttl 100\n";

#define E1 "set services ipsec-vpn rule r2 term e1 "
static const char e1_lines[] =
    E1 "from source-address 10.9.0.0/24\n"
    E1 "from destination-address 10.10.0.0/24\n"
    E1 "then remote-gateway 192.0.2.9\n"
    E1 "then dynamic ike-policy ike-pol\n"
    E1 "then dynamic ipsec-policy ipsec-pol\n"
    E1 "then anti-replay-window-size 2048\n";

#define D2 "set services ipsec-vpn rule r1 term d2 "
static const char d2_lines[] =
    D2 "from destination-address 10.13.0.0/16\n"
    D2 "then remote-gateway 192.0.2.8\n"
    D2 "then dynamic ike-policy ike-pol\n"
    D2 "then dynamic ipsec-policy ipsec-pol\n";

#define SS3 "set services service-set ss3 "
#define F1 "set services ipsec-vpn rule r3 term f1 "
static const char ss3_lines[] =
    SS3 "next-hop-service inside-service-interface ms-1/0/0.1\n"
    SS3 "next-hop-service outside-service-interface ms-1/0/0.2\n"
    SS3 "ipsec-vpn-rules r3\n"
    SS3 "ipsec-vpn-options local-gateway 192.0.2.33\n"
    "set services ipsec-vpn rule r3 match-direction input\n"
    F1 "from source-address 10.11.0.0/24\n"
    F1 "from destination-address 10.12.0.0/24\n"
    F1 "then remote-gateway 192.0.2.34\n"
    F1 "then dynamic ike-policy ike-pol\n"
    F1 "then dynamic ipsec-policy ipsec-pol\n";

/* The next commit: fx_conf with the parts in what (DYN_*), d1's tunnel MTU mtu. */
static const Picsec__V1__ConfigSnapshot *
dyn_conf_on(const char *pic, unsigned what, unsigned mtu)
{
	char extra[8192];
	size_t n;

	n = (size_t)snprintf(extra, sizeof(extra), "%s", PROPOSALS);
	if (what & DYN_D1)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, d1_fmt, mtu);
	if (what & DYN_D2)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", d2_lines);
	if (what & DYN_SS2)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s%s", fx_set_ss2, e1_lines);
	if (what & DYN_SS3)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", ss3_lines);
	if (what & DYN_NO_T1)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n,
		    "delete services ipsec-vpn rule r1 term t1\n");
	cr_assert_lt(n, sizeof(extra));
	return CONF(.pic = pic, .extra = extra);
}

static const Picsec__V1__ConfigSnapshot *
dyn_conf(unsigned what, unsigned mtu)
{
	return dyn_conf_on(NULL, what, mtu);
}

/* Commits what to fx_sd and forgets the publications. */
static void
configure(unsigned what)
{
	sadb_config(fx_sd, dyn_conf(what, MTU));
	cr_assert(fx_sd->have_config);
	fx_pubs_clear();
}

/* --- negotiated SAs as iked sends them -------------------------------------------- */

#define ENC_AES256 PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC
#define AUTH_SHA256 PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128

struct neg {
	Picsec__V1__Sa sa;
	Picsec__V1__Secret enc, auth;
	uint8_t enc_key[32], auth_key[32];
};

static struct neg negs[48];
static size_t nnegs;

static void
dyn_setup(void)
{
	nnegs = 0;
	fx_setup();
}

/* The keys of a negotiated SA of this SPI: different for every SPI. */
static void
key_of(uint8_t *k, size_t len, uint32_t spi, uint8_t salt)
{
	size_t i;

	for (i = 0; i < len; i++)
		k[i] = (uint8_t)(spi * 31u + i * 7u + salt);
}

/* A negotiated ESP SA as iked would install it: AES-256-CBC, HMAC-SHA-256-128, UDP
 * encapsulation 4500 -> 4500, ESN, lifetimes far off (timers armed, not firing). */
static struct neg *
neg(const char *ss, const char *rule, const char *term, Picsec__V1__SaDirection dir,
    uint32_t spi)
{
	struct neg *n;

	cr_assert_lt(nnegs, sizeof(negs) / sizeof(negs[0]));
	n = &negs[nnegs++];
	memset(n, 0, sizeof(*n));
	picsec__v1__sa__init(&n->sa);
	picsec__v1__secret__init(&n->enc);
	picsec__v1__secret__init(&n->auth);
	key_of(n->enc_key, sizeof(n->enc_key), spi, 1);
	key_of(n->auth_key, sizeof(n->auth_key), spi, 2);
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
	n->sa.enc_algorithm = ENC_AES256;
	n->sa.enc_key = &n->enc;
	n->sa.auth_algorithm = AUTH_SHA256;
	n->sa.auth_key = &n->auth;
	n->sa.encap_sport = 4500;
	n->sa.encap_dport = 4500;
	n->sa.esn = true;
	n->sa.soft_lifetime_seconds = 3000;
	n->sa.hard_lifetime_seconds = 3600;
	n->sa.soft_lifetime_kbytes = 100000;
	n->sa.hard_lifetime_kbytes = 200000;
	return n;
}

/* The same on ss1's d1. */
static struct neg *
d1(Picsec__V1__SaDirection dir, uint32_t spi)
{
	return neg("ss1", "r1", "d1", dir, spi);
}

/* Sends SaInstall with these SAs to sadb's handler; the answer is in fx_reply. */
static void
install_list(struct neg *const *list, size_t n)
{
	Picsec__V1__SaInstall req = PICSEC__V1__SA_INSTALL__INIT;
	Picsec__V1__Sa *sas[64];
	bus_handler_fn *fn;
	void *ctx;
	size_t i;

	cr_assert_leq(n, sizeof(sas) / sizeof(sas[0]));
	for (i = 0; i < n; i++)
		sas[i] = &list[i]->sa;
	req.sas = sas;
	req.n_sas = n;
	fx_reply_clear();
	fn = fx_handler(MT(SA_INSTALL), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.count, 1, "%u answers to one request", fx_reply.count);
}

#define INSTALL(...) \
	install_list((struct neg *const[]){ __VA_ARGS__ }, \
	    sizeof((struct neg *const[]){ __VA_ARGS__ }) / sizeof(struct neg *))

/* The answer to the last install, asserted to be SaInstalled with n ids. */
static const Picsec__V1__SaInstalled *
installed(size_t n)
{
	const Picsec__V1__SaInstalled *r;

	cr_assert_eq(fx_reply.type, MT(SA_INSTALLED), "refused: %s", fx_reply.text);
	r = (const Picsec__V1__SaInstalled *)fx_reply.msg;
	cr_assert_eq(r->n_ids, n);
	return r;
}

/* Asserts the last install was refused (code, text containing what) with nothing
 * published and the SA index as it was (count). */
static void
refused(int code, const char *what, size_t count)
{
	cr_assert_eq(fx_reply.type, MT(ERROR), "accepted, expected a refusal (%s)", what);
	cr_assert_eq(fx_reply.code, code, "code %d for '%s'", fx_reply.code, fx_reply.text);
	cr_assert(strstr(fx_reply.text, what) != NULL, "the error '%s' does not say '%s'",
	    fx_reply.text, what);
	cr_assert_eq(fx_npubs(), 0, "a refused install published %zu messages", fx_npubs());
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), count);
}

/* Installs d1's pair (inbound in_spi, outbound out_spi); their ids in ids[0], ids[1]. */
static void
d1_pair(uint32_t in_spi, uint32_t out_spi, uint64_t *ids)
{
	const Picsec__V1__SaInstalled *r;

	INSTALL(d1(DIR_IN, in_spi), d1(DIR_OUT, out_spi));
	r = installed(2);
	ids[0] = r->ids[0];
	ids[1] = r->ids[1];
}

/* Sends SaRemove; the answer, asserted to be SaRemoved. */
static const Picsec__V1__SaRemoved *
remove_ids(const uint64_t *ids, size_t n, const char *reason)
{
	Picsec__V1__SaRemove req = PICSEC__V1__SA_REMOVE__INIT;
	bus_handler_fn *fn;
	void *ctx;

	req.ids = (uint64_t *)(uintptr_t)ids;
	req.n_ids = n;
	req.reason = STR(reason);
	fx_reply_clear();
	fn = fx_handler(MT(SA_REMOVE), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.count, 1);
	cr_assert_eq(fx_reply.type, MT(SA_REMOVED), "refused: %s", fx_reply.text);
	return (const Picsec__V1__SaRemoved *)fx_reply.msg;
}

/* Publication i, asserted to be SaRemoved on "sa.removed". */
static const Picsec__V1__SaRemoved *
removed_event(size_t i)
{
	const struct fx_pub *p = fx_pub(i);

	cr_assert_str_eq(p->topic, "sa.removed");
	cr_assert_eq(p->type, MT(SA_REMOVED));
	return (const Picsec__V1__SaRemoved *)p->msg;
}

static size_t
count_type(int type)
{
	size_t i, n = 0;

	for (i = 0; i < fx_npubs(); i++)
		n += fx_pub(i)->type == type;
	return n;
}

static bool
has_id(const uint64_t *ids, size_t n, uint64_t id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ids[i] == id)
			return true;
	}
	return false;
}

static const struct sadb_sa *
sa_by_id(uint64_t id)
{
	return u64map_get(fx_sd->sas_by_id, id);
}

/* The SA with this id, asserted to be there. */
static const struct sadb_sa *
live(uint64_t id)
{
	const struct sadb_sa *sa = sa_by_id(id);

	cr_assert_not_null(sa, "no SA %016llx", (unsigned long long)id);
	return sa;
}

static size_t
count_templates(const struct sadb_pic *pic)
{
	const struct sadb_sa *t;
	size_t n = 0;

	for (t = pic != NULL ? pic->templates : NULL; t != NULL; t = t->next)
		n++;
	return n;
}

/* pic's template for term and direction, or NULL. */
static const struct sadb_sa *
find_template(const struct sadb_pic *pic, const char *term, Picsec__V1__SaDirection dir)
{
	const struct sadb_sa *t;

	for (t = pic != NULL ? pic->templates : NULL; t != NULL; t = t->next) {
		if (strcmp(t->term, term) == 0 && t->msg.direction == dir)
			return t;
	}
	return NULL;
}

/* The same, asserted to exist. */
static const struct sadb_sa *
template_of(const struct sadb_pic *pic, const char *term, Picsec__V1__SaDirection dir)
{
	const struct sadb_sa *t = find_template(pic, term, dir);

	cr_assert_not_null(t, "no %s template for term %s", dir == DIR_IN ? "inbound" :
	    "outbound", term);
	return t;
}

/* The service set of pic, asserted to exist. */
static const Picsec__V1__PicServiceSet *
set_of(const struct sadb_pic *pic, const char *name)
{
	const struct sadb_set *set;

	for (set = pic != NULL ? pic->sets : NULL; set != NULL; set = set->next) {
		if (strcmp(set->name, name) == 0)
			return &set->msg;
	}
	cr_assert_fail("no service set %s", name);
	return NULL;
}

static bool
has_prefix(const Picsec__V1__PicServiceSet *set, const char *dotted, uint32_t length)
{
	size_t i;

	for (i = 0; i < set->n_remote_prefixes; i++) {
		if (fx_prefix_is(set->remote_prefixes[i], dotted, length))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------------------------- */
TestSuite(dyn_build, .init = dyn_setup, .fini = fx_teardown);

Test(dyn_build, a_dynamic_term_gives_two_keyless_templates_and_no_sas)
{
	struct sadb_pic *want = fx_build(fx_sd, dyn_conf(DYN_D1, MTU));
	const struct sadb_sa *in, *out, *sa;
	const Picsec__V1__PicServiceSet *set;

	cr_assert_not_null(want);
	cr_assert_null(want->next, "one PIC");
	cr_assert_eq(count_templates(want), 2);
	in = template_of(want, "d1", DIR_IN);
	out = template_of(want, "d1", DIR_OUT);
	/* Only t1's two manual SAs are streamed. */
	cr_assert_eq(fx_count_sas(want), 2);
	for (sa = want->sas; sa != NULL; sa = sa->next) {
		cr_assert_str_eq(sa->term, "t1");
		cr_assert_eq(sa->msg.origin, ORIGIN_MANUAL);
	}
	for (sa = want->templates; sa != NULL; sa = sa->next) {
		cr_assert_eq(sa->msg.origin, ORIGIN_DYNAMIC);
		cr_assert_str_eq(sa->service_set, "ss1");
		cr_assert_str_eq(sa->rule, "r1");
		cr_assert_null(sa->enc_key);
		cr_assert_null(sa->auth_key);
		cr_assert_null(sa->msg.enc_key);
		cr_assert_null(sa->msg.auth_key);
		cr_assert_eq(sa->msg.spi, 0);
		cr_assert_eq(sa->pic, want);
		cr_assert_eq(sa->msg.order, 2, "d1 is the second term of ss1");
		cr_assert(fx_addr_is(sa->msg.local_gateway, "192.0.2.1"));
		cr_assert(fx_addr_is(sa->msg.remote_gateway, "192.0.2.7"));
	}
	/* The outer header is the outbound's, the replay window the inbound's. */
	cr_assert_eq(in->msg.replay_window, 512, "the service set's window");
	cr_assert_eq(in->msg.tunnel_mtu, 0);
	cr_assert_eq(out->msg.replay_window, 0);
	cr_assert_eq(out->msg.tunnel_mtu, MTU);
	cr_assert_eq(out->msg.df_bit, PICSEC__V1__DF_BIT__DF_BIT_SET);
	cr_assert_eq(out->msg.ttl, 100);
	cr_assert(fx_prefix_is(out->msg.source, "10.7.0.0", 24));
	cr_assert(fx_prefix_is(out->msg.destination, "10.8.0.0", 24));
	cr_assert(fx_prefix_is(in->msg.source, "10.8.0.0", 24));
	cr_assert(fx_prefix_is(in->msg.destination, "10.7.0.0", 24));
	/* The PIC routes d1's destination into the service veth, as t1's. */
	set = set_of(want, "ss1");
	cr_assert_not_null(set);
	cr_assert_eq(set->style, PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP);
	cr_assert_eq(set->n_remote_prefixes, 2);
	cr_assert(has_prefix(set, "10.2.0.0", 24));
	cr_assert(has_prefix(set, "10.8.0.0", 24));
}

/* The PIC acquires for a dynamic term while it has no SA: each is listed with its service
 * set, in term order, with the term's traffic as written (no source: any), and streamed so
 * (the wire form's pointers survive the build's reallocations). */
Test(dyn_build, each_dynamic_term_is_listed_for_the_pic_in_term_order)
{
	const Picsec__V1__PicServiceSet *set;
	const Picsec__V1__DynamicTerm *d;
	const Picsec__V1__SaUpdate *u;
	size_t i;

	sadb_config(fx_sd, dyn_conf(DYN_D1 | DYN_D2 | DYN_SS2, MTU));
	cr_assert_eq(fx_npubs(), 1, "one update for the PIC");
	u = fx_update(0, "ms-0/0/0");
	cr_assert(u->service_sets_changed);
	cr_assert_eq(u->n_service_sets, 2);
	for (i = 0; i < u->n_service_sets; i++) {
		set = u->service_sets[i];
		if (strcmp(set->name, "ss1") == 0) {
			cr_assert_eq(set->n_dynamic_terms, 2, "d1 and d2, not the manual t1");
			d = set->dynamic_terms[0];
			cr_assert_str_eq(d->rule, "r1");
			cr_assert_str_eq(d->term, "d1");
			cr_assert_eq(d->order, 2, "after t1, as its SAs will say");
			cr_assert(fx_prefix_is(d->source, "10.7.0.0", 24));
			cr_assert(fx_prefix_is(d->destination, "10.8.0.0", 24));
			d = set->dynamic_terms[1];
			cr_assert_str_eq(d->rule, "r1");
			cr_assert_str_eq(d->term, "d2");
			cr_assert_eq(d->order, 3);
			cr_assert_null(d->source, "no source address: any");
			cr_assert(fx_prefix_is(d->destination, "10.13.0.0", 16));
		} else {
			cr_assert_str_eq(set->name, "ss2");
			cr_assert_eq(set->n_dynamic_terms, 1);
			d = set->dynamic_terms[0];
			cr_assert_str_eq(d->rule, "r2");
			cr_assert_str_eq(d->term, "e1");
			cr_assert_eq(d->order, 2, "ss2's own order: after u1");
			cr_assert(fx_prefix_is(d->source, "10.9.0.0", 24));
			cr_assert(fx_prefix_is(d->destination, "10.10.0.0", 24));
		}
	}
	/* The terms gone: the PIC hears that too. */
	fx_pubs_clear();
	sadb_config(fx_sd, dyn_conf(0, MTU));
	u = fx_update(0, "ms-0/0/0");
	cr_assert(u->service_sets_changed);
	cr_assert_eq(u->n_service_sets, 1);
	cr_assert_eq(u->service_sets[0]->n_dynamic_terms, 0);
}

Test(dyn_build, the_terms_window_wins_over_the_service_sets)
{
	struct sadb_pic *want = fx_build(fx_sd, dyn_conf(DYN_D1 | DYN_SS2, MTU));
	const struct sadb_sa *e1_in = template_of(want, "e1", DIR_IN);

	cr_assert_eq(count_templates(want), 4);
	cr_assert_not_null(e1_in);
	cr_assert_str_eq(e1_in->service_set, "ss2");
	cr_assert_eq(e1_in->msg.replay_window, 2048);
	cr_assert(fx_addr_is(e1_in->msg.remote_gateway, "192.0.2.9"));
	cr_assert(has_prefix(set_of(want, "ss2"), "10.10.0.0", 24));
	cr_assert_not(has_prefix(set_of(want, "ss2"), "10.8.0.0", 24), "d1 is ss1's");
}

Test(dyn_build, a_dynamic_only_service_set_streams_its_routes_and_no_sas)
{
	const Picsec__V1__SaUpdate *u;
	struct sadb_pic *pic;

	sadb_config(fx_sd, dyn_conf(DYN_D1 | DYN_NO_T1 | DYN_SS3, MTU));
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 0);
	cr_assert_eq(fx_npubs(), 2, "one update per PIC");
	pic = fx_pic0();
	cr_assert_eq(count_templates(pic), 2, "the templates were moved to the PIC");
	cr_assert_eq(template_of(pic, "d1", DIR_IN)->pic, pic);
	cr_assert_eq(fx_count_sas(pic), 0);
	pic = sadb_pic_find(fx_sd, "ms-1/0/0");
	cr_assert_not_null(pic);
	cr_assert_eq(count_templates(pic), 2);
	cr_assert_eq(template_of(pic, "f1", DIR_OUT)->pic, pic);
	cr_assert(fx_addr_is(template_of(pic, "f1", DIR_OUT)->msg.local_gateway, "192.0.2.33"));
	for (size_t i = 0; i < 2; i++) {
		const char *name = strcmp(fx_pub(i)->topic, "sa.ms-1/0/0") == 0 ? "ms-1/0/0" :
		    "ms-0/0/0";

		u = fx_update(i, name);
		cr_assert_eq(u->n_upsert, 0, "templates are not streamed");
		cr_assert_eq(u->n_remove, 0);
		cr_assert(u->service_sets_changed);
		cr_assert_eq(u->n_service_sets, 1);
		cr_assert_eq(u->service_sets[0]->n_remote_prefixes, 1);
		cr_assert(fx_prefix_is(u->service_sets[0]->remote_prefixes[0],
		    strcmp(name, "ms-0/0/0") == 0 ? "10.8.0.0" : "10.12.0.0", 24));
	}
	/* The same again: nothing new for the PICs. */
	fx_pubs_clear();
	sadb_config(fx_sd, dyn_conf(DYN_D1 | DYN_NO_T1 | DYN_SS3, MTU));
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(count_templates(fx_pic0()), 2);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(dyn_install, .init = dyn_setup, .fini = fx_teardown);

Test(dyn_install, a_pair_is_one_update_with_both_completed_from_the_template)
{
	struct neg *nin, *nout;
	const Picsec__V1__SaInstalled *r;
	const Picsec__V1__SaUpdate *u;
	const Picsec__V1__Sa *in, *out;
	uint64_t seq;

	configure(DYN_D1);
	seq = fx_pic0()->seq;
	nin = d1(DIR_IN, 0x10000);
	nout = d1(DIR_OUT, 0xc0ffee);
	nout->sa.esn = false;
	nout->sa.encap_dport = 14500;
	nout->sa.soft_lifetime_seconds = 2000;
	INSTALL(nin, nout);
	r = installed(2);
	cr_assert_neq(r->ids[0], r->ids[1]);
	cr_assert_eq(fx_npubs(), 1, "one update for the Child SA");
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->seq, seq + 1);
	cr_assert_eq(u->incarnation, fx_sd->incarnation);
	cr_assert_eq(u->n_upsert, 2);
	cr_assert_eq(u->n_remove, 0);
	cr_assert_not(u->service_sets_changed);
	/* The ids are in the order given. */
	in = fx_upsert(u, r->ids[0]);
	out = fx_upsert(u, r->ids[1]);
	cr_assert_not_null(in);
	cr_assert_not_null(out);
	cr_assert_eq(in->direction, DIR_IN);
	cr_assert_eq(out->direction, DIR_OUT);

	/* Negotiated. */
	cr_assert_eq(in->origin, ORIGIN_DYNAMIC);
	cr_assert_eq(out->origin, ORIGIN_DYNAMIC);
	cr_assert_eq(in->spi, 0x10000);
	cr_assert_eq(out->spi, 0xc0ffee);
	cr_assert_eq(in->protocol, PROTO_ESP);
	cr_assert_eq(in->enc_algorithm, ENC_AES256);
	cr_assert_eq(in->auth_algorithm, AUTH_SHA256);
	cr_assert_eq(out->enc_algorithm, ENC_AES256);
	cr_assert_eq(out->auth_algorithm, AUTH_SHA256);
	cr_assert(fx_secret_is(in->enc_key, nin->enc_key, sizeof(nin->enc_key)));
	cr_assert(fx_secret_is(in->auth_key, nin->auth_key, sizeof(nin->auth_key)));
	cr_assert(fx_secret_is(out->enc_key, nout->enc_key, sizeof(nout->enc_key)));
	cr_assert(fx_secret_is(out->auth_key, nout->auth_key, sizeof(nout->auth_key)));
	cr_assert_eq(in->encap_sport, 4500);
	cr_assert_eq(in->encap_dport, 4500);
	cr_assert_eq(out->encap_dport, 14500);
	cr_assert(in->esn);
	cr_assert_not(out->esn);
	cr_assert_eq(in->soft_lifetime_seconds, 3000);
	cr_assert_eq(out->soft_lifetime_seconds, 2000);
	cr_assert_eq(in->hard_lifetime_seconds, 3600);
	cr_assert_eq(in->soft_lifetime_kbytes, 100000);
	cr_assert_eq(in->hard_lifetime_kbytes, 200000);

	/* The configuration's. */
	cr_assert_str_eq(in->service_set, "ss1");
	cr_assert_str_eq(in->rule, "r1");
	cr_assert_str_eq(out->term, "d1");
	cr_assert_eq(in->order, 2);
	cr_assert_eq(in->mode, PICSEC__V1__SA_MODE__SA_MODE_TUNNEL);
	cr_assert(fx_addr_is(in->local_gateway, "192.0.2.1"));
	cr_assert(fx_addr_is(out->remote_gateway, "192.0.2.7"));
	cr_assert_eq(in->replay_window, 512);
	cr_assert_eq(out->replay_window, 0);
	cr_assert_eq(out->tunnel_mtu, MTU);
	cr_assert_eq(out->df_bit, PICSEC__V1__DF_BIT__DF_BIT_SET);
	cr_assert_eq(out->ttl, 100);
	cr_assert_eq(in->tunnel_mtu, 0);
	cr_assert(fx_prefix_is(out->source, "10.7.0.0", 24));
	cr_assert(fx_prefix_is(out->destination, "10.8.0.0", 24));
	cr_assert(fx_prefix_is(in->source, "10.8.0.0", 24));
	cr_assert(fx_prefix_is(in->destination, "10.7.0.0", 24));
	cr_assert_eq(out->seq_start, 0, "a new key starts at 1");

	/* sadb holds them now, beside t1's, on the PIC of ss1, not yet installed. */
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 4);
	cr_assert_eq(fx_count_sas(fx_pic0()), 4);
	cr_assert_eq(live(r->ids[0])->pic, fx_pic0());
	cr_assert_not(live(r->ids[0])->installed);
	cr_assert_eq(count_templates(fx_pic0()), 2, "the templates stay templates");
	cr_assert_null(template_of(fx_pic0(), "d1", DIR_IN)->enc_key);
}

Test(dyn_install, the_peer_may_narrow_the_traffic)
{
	Picsec__V1__IpPrefix src = PICSEC__V1__IP_PREFIX__INIT,
	    dst = PICSEC__V1__IP_PREFIX__INIT;
	uint8_t s[4] = { 10, 7, 0, 16 }, d[4] = { 10, 8, 0, 32 };
	struct neg *nout;
	const Picsec__V1__Sa *out;

	configure(DYN_D1);
	nout = d1(DIR_OUT, 0x3000);
	src.addr.data = s;
	src.addr.len = 4;
	src.length = 28;
	dst.addr.data = d;
	dst.addr.len = 4;
	dst.length = 27;
	nout->sa.source = &src;
	nout->sa.destination = &dst;
	INSTALL(nout);
	out = fx_upsert(fx_update(0, "ms-0/0/0"), installed(1)->ids[0]);
	cr_assert(fx_prefix_is(out->source, "10.7.0.16", 28));
	cr_assert(fx_prefix_is(out->destination, "10.8.0.32", 27));
	/* What iked sends beyond that is not taken: the template's outer header stays. */
	cr_assert_eq(out->tunnel_mtu, MTU);
}

Test(dyn_install, what_iked_sends_of_the_configurations_part_is_ignored)
{
	Picsec__V1__IpAddress gw = PICSEC__V1__IP_ADDRESS__INIT;
	uint8_t a[4] = { 203, 0, 113, 66 };
	struct neg *nin;
	const Picsec__V1__Sa *in;
	uint64_t id;

	configure(DYN_D1);
	nin = d1(DIR_IN, 0x4000);
	gw.addr.data = a;
	gw.addr.len = 4;
	nin->sa.id = 0x1234;
	nin->sa.order = 99;
	nin->sa.replay_window = 4;
	nin->sa.tunnel_mtu = 576;
	nin->sa.remote_gateway = &gw;
	nin->sa.local_gateway = &gw;
	nin->sa.mode = PICSEC__V1__SA_MODE__SA_MODE_TRANSPORT;
	nin->sa.seq_start = 1000;
	INSTALL(nin);
	id = installed(1)->ids[0];
	cr_assert_neq(id, 0x1234, "ids are sadb's");
	in = fx_upsert(fx_update(0, "ms-0/0/0"), id);
	cr_assert_eq(in->order, 2);
	cr_assert_eq(in->replay_window, 512);
	cr_assert_eq(in->tunnel_mtu, 0);
	cr_assert_eq(in->mode, PICSEC__V1__SA_MODE__SA_MODE_TUNNEL);
	cr_assert(fx_addr_is(in->remote_gateway, "192.0.2.7"));
	cr_assert(fx_addr_is(in->local_gateway, "192.0.2.1"));
	cr_assert_eq(in->seq_start, 0);
}

Test(dyn_install, ids_differ_per_spi_and_are_stable_for_the_same_sa)
{
	uint64_t a[2], b[2], again[2], in_same, ah, other;
	const Picsec__V1__SaUpdate *u;
	struct sadb *sd2;
	struct neg *n;
	uint64_t ids2[2];
	char err[256] = "";

	configure(DYN_D1 | DYN_SS2);
	d1_pair(0x1000, 0x2000, a);
	d1_pair(0x1001, 0x2001, b);
	cr_assert_neq(a[0], b[0]);
	cr_assert_neq(a[1], b[1]);
	cr_assert_neq(a[0], a[1]);
	cr_assert_neq(a[0], b[1]);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 4 + 4);

	/* The same SPI in the other direction or in AH, another term: other SAs. */
	INSTALL(d1(DIR_IN, 0x2000));
	in_same = installed(1)->ids[0];
	cr_assert_neq(in_same, a[1]);
	n = d1(DIR_IN, 0x1000);
	n->sa.protocol = PROTO_AH;
	n->sa.enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_NULL;
	n->sa.enc_key = NULL;
	INSTALL(n);
	ah = installed(1)->ids[0];
	cr_assert_neq(ah, a[0]);
	INSTALL(neg("ss2", "r2", "e1", DIR_IN, 0x1002));
	other = installed(1)->ids[0];
	cr_assert_neq(other, a[0]);
	cr_assert_neq(other, ah);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 4 + 4 + 3);

	/* Removed and installed again: the same ids. */
	remove_ids(a, 2, "test");
	cr_assert_null(sa_by_id(a[0]));
	d1_pair(0x1000, 0x2000, again);
	cr_assert_eq(again[0], a[0]);
	cr_assert_eq(again[1], a[1]);

	/* The same SA again (iked retried, new keys): replaced under its id, not added. */
	fx_pubs_clear();
	n = d1(DIR_OUT, 0x2000);
	n->enc_key[0] ^= 0xff;
	INSTALL(n);
	cr_assert_eq(installed(1)->ids[0], a[1]);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 4 + 4 + 3);
	cr_assert_eq(fx_count_sas(fx_pic0()), 4 + 4 + 3);
	cr_assert_eq(fx_npubs(), 1);
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->n_upsert, 1);
	cr_assert_eq(u->n_remove, 0);
	cr_assert(fx_secret_is(fx_upsert(u, a[1])->enc_key, n->enc_key, sizeof(n->enc_key)));
	cr_assert(fx_secret_is(live(a[1])->msg.enc_key, n->enc_key, sizeof(n->enc_key)));

	/* Another sadb (a restart) with the same configuration gives the same ids. */
	sd2 = fx_sadb_new(NULL);
	sadb_config(sd2, dyn_conf(DYN_D1 | DYN_SS2, MTU));
	cr_assert_eq(sadb_dynamic_install(sd2, (Picsec__V1__Sa *const[]){ &d1(DIR_IN, 0x1000)->sa,
	    &d1(DIR_OUT, 0x2000)->sa }, 2, ids2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ids2[0], a[0]);
	cr_assert_eq(ids2[1], a[1]);
}

Test(dyn_install, refusals_say_why_and_publish_nothing)
{
	struct neg *n, *many[17];
	size_t i;

	configure(DYN_D1 | DYN_SS2);

	n = d1(DIR_IN, 0x1000);
	n->sa.origin = ORIGIN_MANUAL;
	INSTALL(n);
	refused(ERRC(INVALID_ARGUMENT), "only negotiated SAs", 4);
	n->sa.origin = PICSEC__V1__SA_ORIGIN__SA_ORIGIN_SECURITY_IPSEC;
	INSTALL(n);
	refused(ERRC(INVALID_ARGUMENT), "only negotiated SAs", 4);

	INSTALL(neg("ss1", "r1", "no-such-term", DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "no dynamic term r1/no-such-term", 4);
	INSTALL(neg("ss1", "r1", "t1", DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "no dynamic term r1/t1", 4);
	INSTALL(neg("ss1", "no-such-rule", "d1", DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "no dynamic term", 4);
	INSTALL(neg("no-such-set", "r1", "d1", DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "service set no-such-set has no dynamic term", 4);
	/* e1 is a dynamic term, of ss2, not of ss1. */
	INSTALL(neg("ss1", "r2", "e1", DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "no dynamic term r2/e1", 4);
	INSTALL(neg("", "r1", "d1", DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "names its service set", 4);

	INSTALL(d1(DIR_IN, 255));
	refused(ERRC(INVALID_ARGUMENT), "SPI 255 is reserved", 4);
	INSTALL(d1(DIR_OUT, 0));
	refused(ERRC(INVALID_ARGUMENT), "SPI 0 is reserved", 4);

	n = d1(DIR_IN, 0x1000);
	n->sa.enc_key = NULL;
	n->sa.auth_key = NULL;
	INSTALL(n);
	refused(ERRC(INVALID_ARGUMENT), "without keys", 4);

	INSTALL(d1(PICSEC__V1__SA_DIRECTION__SA_DIRECTION_BIDIRECTIONAL, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "inbound or outbound", 4);
	INSTALL(d1(PICSEC__V1__SA_DIRECTION__SA_DIRECTION_UNSPECIFIED, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "inbound or outbound", 4);
	n = d1(DIR_IN, 0x1000);
	n->sa.protocol = PROTO_BUNDLE;
	INSTALL(n);
	refused(ERRC(INVALID_ARGUMENT), "ESP or AH", 4);

	/* The same SPI twice: refused as a whole. */
	INSTALL(d1(DIR_IN, 0x1000), d1(DIR_OUT, 0x2000), d1(DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "SPI 4096 twice", 4);

	/* One bad SA spoils the request: the good one before it is not installed either. */
	INSTALL(d1(DIR_IN, 0x1000), d1(DIR_OUT, 17));
	refused(ERRC(INVALID_ARGUMENT), "SPI 17 is reserved", 4);
	INSTALL(d1(DIR_IN, 0x1000), neg("ss1", "r1", "t1", DIR_OUT, 0x2000));
	refused(ERRC(INVALID_ARGUMENT), "no dynamic term r1/t1", 4);

	/* 1 to 16 at a time. */
	install_list(NULL, 0);
	refused(ERRC(INVALID_ARGUMENT), "1 to 16 SAs", 4);
	for (i = 0; i < 17; i++)
		many[i] = d1(i % 2 == 0 ? DIR_IN : DIR_OUT, 0x5000 + (uint32_t)i);
	install_list(many, 17);
	refused(ERRC(INVALID_ARGUMENT), "1 to 16 SAs", 4);
	cr_assert_eq(fx_count_sas(fx_pic0()), 4);

	/* The limits themselves are fine: SPI 256, 16 SAs, in one update. */
	install_list(many, 16);
	cr_assert_eq(installed(16)->n_ids, 16);
	cr_assert_eq(fx_npubs(), 1);
	cr_assert_eq(fx_update(0, "ms-0/0/0")->n_upsert, 16);
	INSTALL(d1(DIR_IN, 256));
	installed(1);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 4 + 17);
	cr_assert_eq(fx_npubs(), 2);
	cr_assert_eq(fx_update(1, "ms-0/0/0")->n_upsert, 1);
}

/* Child SA changes wait for the end of the loop turn and go out as one update per PIC,
 * of each id as it is then (bench/scale: 50,000 installs are not 50,000 updates). */
Test(dyn_install, a_loop_turns_changes_go_out_in_one_update_in_order)
{
	const Picsec__V1__SaUpdate *u;
	const Picsec__V1__SaSnapshot *snap;
	uint64_t ids[6], seq0;
	size_t i;

	configure(DYN_D1);
	fx_pubs_clear();
	seq0 = fx_pic0()->seq;
	for (i = 0; i < 3; i++) {
		INSTALL(d1(DIR_IN, 0x6000 + (uint32_t)i), d1(DIR_OUT, 0x7000 + (uint32_t)i));
		memcpy(ids + 2 * i, installed(2)->ids, 2 * sizeof(*ids));
	}
	remove_ids(ids + 4, 2, "test"); /* in and out within the turn */
	cr_assert_eq(fx_pic0()->seq, seq0, "nothing sent before the turn ends");
	cr_assert_eq(fx_pic0()->ndirty, 8);
	/* The turn ends (the prepare watcher): one update, each id once, as it is now. */
	ev_run(fx_loop, EVRUN_NOWAIT);
	cr_assert_eq(fx_pic0()->ndirty, 0);
	cr_assert_eq(count_type(MT(SA_UPDATE)), 1);
	for (i = 0; i < fx_npubs() && fx_pub(i)->type != MT(SA_UPDATE); i++)
		;
	u = fx_update(i, "ms-0/0/0");
	cr_assert_eq(u->seq, seq0 + 1);
	cr_assert_eq(u->n_upsert, 4);
	cr_assert_eq(u->n_remove, 2);
	for (i = 0; i < 4; i++)
		cr_assert_not_null(fx_upsert(u, ids[i]));
	cr_assert(fx_removes(u, ids[4]) && fx_removes(u, ids[5]));

	/* What waits goes before a commit's update, and before a snapshot is taken. */
	fx_pubs_clear();
	INSTALL(d1(DIR_IN, 0x6100), d1(DIR_OUT, 0x7100));
	memcpy(ids, installed(2)->ids, 2 * sizeof(*ids));
	sadb_config(fx_sd, dyn_conf(DYN_D1 | DYN_D2, MTU));
	cr_assert_eq(count_type(MT(SA_UPDATE)), 2);
	u = fx_update(0, "ms-0/0/0");
	cr_assert(fx_upsert(u, ids[0]) != NULL && fx_upsert(u, ids[1]) != NULL);
	cr_assert_not(u->service_sets_changed);
	cr_assert(fx_update(1, "ms-0/0/0")->seq == u->seq + 1);
	INSTALL(d1(DIR_IN, 0x6200), d1(DIR_OUT, 0x7200));
	memcpy(ids, installed(2)->ids, 2 * sizeof(*ids));
	fx_reply_clear();
	sadb_reply_snapshot(fx_sd, fx_request(), "ms-0/0/0");
	cr_assert_eq(fx_reply.type, MT(SA_SNAPSHOT));
	snap = (const Picsec__V1__SaSnapshot *)fx_reply.msg;
	cr_assert_eq(snap->seq, fx_pic0()->seq, "the snapshot is as new as the last update");
	cr_assert_eq(fx_pic0()->ndirty, 0);
	for (i = 0; i < snap->n_sas && snap->sas[i]->id != ids[0]; i++)
		;
	cr_assert_lt(i, snap->n_sas, "the install is in the snapshot");
}

/* sadb stopping (SIGTERM breaks the loop without another turn) still sends what waits. */
Test(dyn_install, what_waits_goes_out_when_sadb_stops)
{
	uint64_t ids[2];
	size_t i;

	configure(DYN_D1);
	INSTALL(d1(DIR_IN, 0x6000), d1(DIR_OUT, 0x7000));
	memcpy(ids, installed(2)->ids, sizeof(ids));
	cr_assert_eq(fx_pic0()->ndirty, 2);
	sadb_free(fx_sd);
	fx_sd = NULL;
	for (i = 0; i < fx_npubs() && fx_pub(i)->type != MT(SA_UPDATE); i++)
		;
	cr_assert_lt(i, fx_npubs(), "no update at exit");
	cr_assert_not_null(fx_upsert(fx_update(i, "ms-0/0/0"), ids[0]));
}

/* A PIC's snapshot is one bus message: sadb counts what its SAs take of it and refuses
 * installs past that, instead of a snapshot busd would drop the connection for. */
Test(dyn_install, a_pic_whose_snapshot_would_not_fit_the_bus_is_full)
{
	struct sadb_pic *pic;
	size_t before, pair, count;
	uint64_t ids[2];

	configure(DYN_D1);
	pic = fx_pic0();
	before = pic->snapshot_len;
	INSTALL(d1(DIR_IN, 0x6000), d1(DIR_OUT, 0x7000));
	memcpy(ids, installed(2)->ids, sizeof(ids));
	pair = pic->snapshot_len - before;
	cr_assert(pair > 2 * 100 && pair < 2 * 400, "a pair takes %zu bytes", pair);
	cr_assert_eq(pair, sadb_sa_snapshot_len(sa_by_id(ids[0])) +
	    sadb_sa_snapshot_len(sa_by_id(ids[1])));
	cr_assert_eq(remove_ids(ids, 2, "test")->n_ids, 2);
	cr_assert_eq(pic->snapshot_len, before, "what goes gives its part back");

	/* As full as the bus allows, but for less than a pair. */
	fx_pubs_clear();
	count = u64map_count(fx_sd->sas_by_id);
	pic->snapshot_len = SADB_SNAPSHOT_SAS_MAX - pair / 2;
	INSTALL(d1(DIR_IN, 0x6001), d1(DIR_OUT, 0x7001));
	refused(ERRC(RESOURCE_EXHAUSTED), "is full", count);
	pic->snapshot_len = before;
	INSTALL(d1(DIR_IN, 0x6001), d1(DIR_OUT, 0x7001));
	installed(2);
}

Test(dyn_install, before_any_configuration_the_answer_is_unavailable)
{
	INSTALL(d1(DIR_IN, 0x1000), d1(DIR_OUT, 0x2000));
	refused(ERRC(UNAVAILABLE), "no configuration", 0);
	cr_assert_null(fx_sd->pics);
}

Test(dyn_install, the_snapshot_has_them_with_keys_and_the_list_without)
{
	Picsec__V1__SaGetList req = PICSEC__V1__SA_GET_LIST__INIT;
	const Picsec__V1__SaSnapshot *s;
	const Picsec__V1__SaList *list;
	bus_handler_fn *fn;
	uint64_t ids[2];
	size_t i, ndyn = 0;
	void *ctx;

	configure(DYN_D1);
	d1_pair(0x1000, 0x2000, ids);
	fx_reply_clear();
	sadb_reply_snapshot(fx_sd, fx_request(), "ms-0/0/0");
	cr_assert_eq(fx_reply.type, MT(SA_SNAPSHOT));
	s = (const Picsec__V1__SaSnapshot *)fx_reply.msg;
	cr_assert_eq(s->n_sas, 4, "t1's pair and d1's, no templates");
	cr_assert_eq(s->seq, fx_pic0()->seq);
	for (i = 0; i < s->n_sas; i++) {
		cr_assert_neq(s->sas[i]->spi, 0, "a template in the snapshot");
		if (s->sas[i]->id == ids[0]) {
			ndyn++;
			cr_assert_eq(s->sas[i]->spi, 0x1000);
			cr_assert_eq(s->sas[i]->origin, ORIGIN_DYNAMIC);
			cr_assert_not_null(s->sas[i]->enc_key);
		}
		ndyn += s->sas[i]->id == ids[1];
	}
	cr_assert_eq(ndyn, 2);

	fn = fx_handler(MT(SA_GET_LIST), &ctx);
	fn(fx_request(), &req.base, ctx);
	list = (const Picsec__V1__SaList *)fx_reply.msg;
	cr_assert_eq(list->n_sas, 4);
	for (i = 0; i < list->n_sas; i++) {
		cr_assert_null(list->sas[i]->sa->enc_key);
		cr_assert_null(list->sas[i]->sa->auth_key);
		cr_assert_neq(list->sas[i]->created_ns, 0);
	}
}

/* ---------------------------------------------------------------------------------- */
TestSuite(dyn_lifetime, .init = dyn_setup, .fini = fx_teardown);

struct both {
	uint64_t ids[2];
};

static bool
both_gone(void *arg)
{
	const struct both *b = arg;

	return sa_by_id(b->ids[0]) == NULL && sa_by_id(b->ids[1]) == NULL;
}

/* The publication of the expiry (hard or soft) of id, or NULL. */
static const struct fx_pub *
expiry_of(uint64_t id, bool hard)
{
	size_t i;

	for (i = 0; i < fx_npubs(); i++) {
		const struct fx_pub *p = fx_pub(i);

		if (p->type == MT(SA_EXPIRE) && fx_expire(i)->id == id &&
		    fx_expire(i)->hard == hard)
			return p;
	}
	return NULL;
}

/* Installs d1's pair with these lifetimes in seconds. */
static struct both
pair_with_lifetimes(uint64_t soft, uint64_t hard)
{
	struct neg *nin = d1(DIR_IN, 0x1000), *nout = d1(DIR_OUT, 0x2000);
	const Picsec__V1__SaInstalled *r;
	struct both b;

	nin->sa.soft_lifetime_seconds = nout->sa.soft_lifetime_seconds = soft;
	nin->sa.hard_lifetime_seconds = nout->sa.hard_lifetime_seconds = hard;
	nin->sa.soft_lifetime_kbytes = nin->sa.hard_lifetime_kbytes = 0;
	nout->sa.soft_lifetime_kbytes = nout->sa.hard_lifetime_kbytes = 0;
	INSTALL(nin, nout);
	r = installed(2);
	b.ids[0] = r->ids[0];
	b.ids[1] = r->ids[1];
	return b;
}

Test(dyn_lifetime, soft_says_so_on_sa_expire_and_hard_removes)
{
	size_t before, i, removed;
	uint64_t t0;
	struct both b;

	configure(DYN_D1);
	before = timers_count(fx_sd->timers);
	t0 = monotonic_ms();
	b = pair_with_lifetimes(1, 2);
	cr_assert_eq(timers_count(fx_sd->timers), before + 2, "one an SA: its soft lifetime first");
	fx_pubs_clear();
	cr_assert(test_run_until(fx_loop, both_gone, &b, 4000), "no hard expiry in 4 s");
	test_run_for(fx_loop, 100);
	for (i = 0; i < 2; i++) {
		const struct fx_pub *soft = expiry_of(b.ids[i], false);
		const struct fx_pub *hard = expiry_of(b.ids[i], true);

		cr_assert_not_null(soft, "no soft expiry for SA %zu", i);
		cr_assert_not_null(hard, "no hard expiry for SA %zu", i);
		cr_assert_str_eq(((const Picsec__V1__SaExpire *)soft->msg)->reason, "seconds");
		cr_assert_str_eq(((const Picsec__V1__SaExpire *)hard->msg)->reason, "seconds");
		cr_assert_geq(soft->at_ms - t0, 900, "soft after %llu ms",
		    (unsigned long long)(soft->at_ms - t0));
		cr_assert_geq(hard->at_ms - t0, 1900, "hard after %llu ms",
		    (unsigned long long)(hard->at_ms - t0));
		cr_assert_lt(soft->at_ms, hard->at_ms);
	}
	cr_assert_eq(count_type(MT(SA_EXPIRE)), 4);
	/* Each hard expiry takes its SA out of the PIC (expiries of one loop turn in one
	 * update). */
	for (i = 0, removed = 0; i < fx_npubs(); i++) {
		const Picsec__V1__SaUpdate *u;
		size_t j;

		if (fx_pub(i)->type != MT(SA_UPDATE))
			continue;
		u = fx_update(i, "ms-0/0/0");
		cr_assert_eq(u->n_upsert, 0);
		for (j = 0; j < u->n_remove; j++) {
			cr_assert(u->remove[j] == b.ids[0] || u->remove[j] == b.ids[1]);
			removed++;
		}
	}
	cr_assert_eq(removed, 2);
	cr_assert_eq(fx_count_sas(fx_pic0()), 2, "t1's stay");
	cr_assert_eq(timers_count(fx_sd->timers), before);
	/* The term is still there: a new pair is welcome. */
	pair_with_lifetimes(0, 0);
}

Test(dyn_lifetime, removal_cancels_the_timers)
{
	size_t before;
	struct both b;

	configure(DYN_D1);
	before = timers_count(fx_sd->timers);
	b = pair_with_lifetimes(1, 2);
	cr_assert_eq(timers_count(fx_sd->timers), before + 2);
	cr_assert_eq(remove_ids(b.ids, 2, "rekeyed")->n_ids, 2);
	cr_assert_eq(timers_count(fx_sd->timers), before);
	fx_pubs_clear();
	test_run_for(fx_loop, 1300);
	cr_assert_eq(fx_npubs(), 0, "a removed SA expired");
}

Test(dyn_lifetime, a_commit_does_not_make_them_younger)
{
	const struct fx_pub *hard;
	uint64_t t0;
	struct both b;
	size_t i;

	configure(DYN_D1);
	t0 = monotonic_ms();
	b = pair_with_lifetimes(0, 2);
	test_run_for(fx_loop, 1000);
	live(b.ids[0]);
	/* A new MTU: the outbound SA is pushed again, it is the same SA. */
	sadb_config(fx_sd, dyn_conf(DYN_D1, 1300));
	cr_assert_eq(live(b.ids[1])->msg.tunnel_mtu, 1300);
	fx_pubs_clear();
	cr_assert(test_run_until(fx_loop, both_gone, &b, 3000), "no hard expiry");
	for (i = 0; i < 2; i++) {
		hard = expiry_of(b.ids[i], true);
		cr_assert_not_null(hard);
		cr_assert_lt(hard->at_ms - t0, 2900, "the commit restarted its lifetime (%llu ms)",
		    (unsigned long long)(hard->at_ms - t0));
		cr_assert_geq(hard->at_ms - t0, 1900, "the commit lost its age (%llu ms)",
		    (unsigned long long)(hard->at_ms - t0));
	}
}

Test(dyn_lifetime, kilobytes_from_the_pics_reports)
{
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;
	Picsec__V1__SaUsage usage = PICSEC__V1__SA_USAGE__INIT, *usages[1] = { &usage };
	struct neg *nout;
	uint64_t id;

	configure(DYN_D1);
	nout = d1(DIR_OUT, 0x2000);
	nout->sa.soft_lifetime_kbytes = 10;
	nout->sa.hard_lifetime_kbytes = 20;
	INSTALL(nout);
	id = installed(1)->ids[0];
	fx_pubs_clear();
	usage.id = id;
	usage.seq = 50;
	usage.bytes = 10 * 1024;
	st.pic = STR("ms-0/0/0");
	st.usage = usages;
	st.n_usage = 1;
	sadb_pic_status(fx_sd, &st);
	cr_assert_eq(fx_npubs(), 1);
	cr_assert_eq(fx_expire(0)->id, id);
	cr_assert_not(fx_expire(0)->hard);
	cr_assert_str_eq(fx_expire(0)->reason, "kilobytes");
	cr_assert_eq(sadb_journal_start(fx_sd, id, live(id)->key_fingerprint),
	    50 + SADB_SEQ_MARGIN, "the journal follows negotiated outbound SAs too");
	usage.bytes = 20 * 1024;
	sadb_pic_status(fx_sd, &st);
	cr_assert_eq(fx_npubs(), 3);
	cr_assert(fx_expire(1)->hard);
	cr_assert(fx_removes(fx_update(2, "ms-0/0/0"), id));
	cr_assert_null(sa_by_id(id));
}

/* ---------------------------------------------------------------------------------- */
TestSuite(dyn_remove, .init = dyn_setup, .fini = fx_teardown);

Test(dyn_remove, only_negotiated_sas_go_and_the_answer_lists_them)
{
	const Picsec__V1__SaRemoved *r;
	const Picsec__V1__SaUpdate *u;
	uint64_t a[2], b[2], manual, req[6];

	configure(DYN_D1);
	d1_pair(0x1000, 0x2000, a);
	d1_pair(0x1001, 0x2001, b);
	manual = fx_sa_of("t1", DIR_IN)->id;
	fx_pubs_clear();
	req[0] = a[1];
	req[1] = manual;        /* configured: not iked's to remove */
	req[2] = 0xdeadbeef;    /* unknown */
	req[3] = a[0];
	req[4] = a[1];          /* twice */
	req[5] = 0;
	r = remove_ids(req, 6, "deleted by the peer");
	cr_assert_eq(r->n_ids, 2);
	cr_assert_eq(r->ids[0], a[1], "in the order asked");
	cr_assert_eq(r->ids[1], a[0]);
	cr_assert_str_eq(r->reason, "deleted by the peer");
	cr_assert_eq(fx_npubs(), 1, "one update, and no sa.removed: iked asked");
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->n_upsert, 0);
	cr_assert_eq(u->n_remove, 2);
	cr_assert(fx_removes(u, a[0]) && fx_removes(u, a[1]));
	cr_assert_null(sa_by_id(a[0]));
	cr_assert_null(sa_by_id(a[1]));
	cr_assert_not_null(sa_by_id(manual));
	cr_assert_not_null(sa_by_id(b[0]));
	cr_assert_not_null(sa_by_id(b[1]));
	cr_assert_eq(fx_count_sas(fx_pic0()), 4);

	/* Nothing of ours: an empty answer and nothing for the PICs. */
	fx_pubs_clear();
	r = remove_ids(req, 3, "");
	cr_assert_eq(r->n_ids, 0);
	cr_assert_eq(fx_npubs(), 0);
	r = remove_ids(NULL, 0, "");
	cr_assert_eq(r->n_ids, 0);
	cr_assert_eq(fx_npubs(), 0);
}

Test(dyn_remove, one_update_per_pic)
{
	const Picsec__V1__SaRemoved *r;
	const Picsec__V1__SaUpdate *u0 = NULL, *u1 = NULL;
	const Picsec__V1__SaInstalled *in;
	uint64_t a[2], f[2], req[4];
	size_t i;

	configure(DYN_D1 | DYN_SS3);
	d1_pair(0x1000, 0x2000, a);
	INSTALL(neg("ss3", "r3", "f1", DIR_IN, 0x1000), neg("ss3", "r3", "f1", DIR_OUT, 0x2000));
	in = installed(2);
	f[0] = in->ids[0];
	f[1] = in->ids[1];
	cr_assert_eq(fx_npubs(), 2);
	cr_assert_eq(fx_update(1, "ms-1/0/0")->n_upsert, 2, "ss3's SAs go to its own PIC");
	cr_assert_eq(live(f[0])->pic, sadb_pic_find(fx_sd, "ms-1/0/0"));
	cr_assert(fx_addr_is(live(f[0])->msg.local_gateway, "192.0.2.33"));
	fx_pubs_clear();

	req[0] = a[0];
	req[1] = f[0];
	req[2] = a[1];
	req[3] = f[1];
	r = remove_ids(req, 4, "");
	cr_assert_eq(r->n_ids, 4);
	for (i = 0; i < 4; i++)
		cr_assert(has_id(r->ids, r->n_ids, req[i]));
	cr_assert_eq(fx_npubs(), 2);
	for (i = 0; i < 2; i++) {
		if (strcmp(fx_pub(i)->topic, "sa.ms-0/0/0") == 0)
			u0 = fx_update(i, "ms-0/0/0");
		else
			u1 = fx_update(i, "ms-1/0/0");
	}
	cr_assert_not_null(u0);
	cr_assert_not_null(u1);
	cr_assert_eq(u0->n_remove, 2);
	cr_assert(fx_removes(u0, a[0]) && fx_removes(u0, a[1]));
	cr_assert_eq(u1->n_remove, 2);
	cr_assert(fx_removes(u1, f[0]) && fx_removes(u1, f[1]));
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 2);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(dyn_commit, .init = dyn_setup, .fini = fx_teardown);

static void
report_installed(const uint64_t *ids, size_t n)
{
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;

	st.pic = STR("ms-0/0/0");
	st.applied_incarnation = fx_sd->incarnation;
	st.installed = (uint64_t *)(uintptr_t)ids;
	st.n_installed = n;
	sadb_pic_status(fx_sd, &st);
}

Test(dyn_commit, a_commit_that_keeps_the_term_keeps_the_sas)
{
	struct neg *nout;
	uint64_t ids[2];
	const struct sadb_sa *out;

	configure(DYN_D1);
	nout = d1(DIR_OUT, 0x2000);
	INSTALL(d1(DIR_IN, 0x1000), nout);
	ids[0] = installed(2)->ids[0];
	ids[1] = ((const Picsec__V1__SaInstalled *)fx_reply.msg)->ids[1];
	report_installed(ids, 2);
	fx_pubs_clear();

	sadb_config(fx_sd, dyn_conf(DYN_D1, MTU));
	cr_assert_eq(fx_npubs(), 0, "%zu publications for an unchanged term", fx_npubs());
	cr_assert_eq(fx_pic0()->seq, 2);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 4);
	out = sa_by_id(ids[1]);
	cr_assert_not_null(out);
	cr_assert_not_null(sa_by_id(ids[0]));
	cr_assert_eq(out->msg.origin, ORIGIN_DYNAMIC);
	cr_assert_eq(out->msg.spi, 0x2000);
	cr_assert(fx_secret_is(out->msg.enc_key, nout->enc_key, sizeof(nout->enc_key)));
	cr_assert(fx_secret_is(out->msg.auth_key, nout->auth_key, sizeof(nout->auth_key)));
	cr_assert_eq(out->msg.hard_lifetime_seconds, 3600);
	cr_assert(out->installed && live(ids[0])->installed, "what the PIC said stays");
	cr_assert_eq(out->pic, fx_pic0());

	/* Another part of the configuration changing does not touch them either. */
	sadb_config(fx_sd, dyn_conf(DYN_D1 | DYN_SS2, MTU));
	cr_assert_eq(fx_npubs(), 1);
	cr_assert_null(fx_upsert(fx_update(0, "ms-0/0/0"), ids[0]));
	cr_assert_null(fx_upsert(fx_update(0, "ms-0/0/0"), ids[1]));
	cr_assert_eq(count_type(MT(SA_REMOVED)), 0);
	cr_assert_not_null(sa_by_id(ids[1]));
}

Test(dyn_commit, a_new_tunnel_mtu_pushes_the_outbound_sa_again_under_its_id)
{
	const Picsec__V1__SaUpdate *u;
	const Picsec__V1__Sa *up;
	struct neg *nin, *nout;
	uint64_t ids[2], fp;

	configure(DYN_D1);
	nin = d1(DIR_IN, 0x1000);
	nout = d1(DIR_OUT, 0x2000);
	INSTALL(nin, nout);
	ids[0] = installed(2)->ids[0];
	ids[1] = ((const Picsec__V1__SaInstalled *)fx_reply.msg)->ids[1];
	fp = live(ids[1])->key_fingerprint;
	sadb_journal_note(fx_sd, ids[1], fp, 777);
	fx_pubs_clear();

	sadb_config(fx_sd, dyn_conf(DYN_D1, 1300));
	cr_assert_eq(fx_npubs(), 1);
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->n_remove, 0);
	cr_assert_eq(u->n_upsert, 1, "the inbound SA does not change with the MTU");
	up = fx_upsert(u, ids[1]);
	cr_assert_not_null(up);
	cr_assert_eq(up->tunnel_mtu, 1300);
	cr_assert_eq(up->spi, 0x2000);
	cr_assert_eq(up->origin, ORIGIN_DYNAMIC);
	cr_assert(fx_secret_is(up->enc_key, nout->enc_key, sizeof(nout->enc_key)));
	cr_assert(fx_secret_is(up->auth_key, nout->auth_key, sizeof(nout->auth_key)));
	cr_assert_eq(up->df_bit, PICSEC__V1__DF_BIT__DF_BIT_SET);
	cr_assert_eq(up->encap_sport, 4500);
	cr_assert(up->esn);
	cr_assert_eq(up->hard_lifetime_seconds, 3600);
	/* The same key: it continues above what was sent. */
	cr_assert_eq(up->seq_start, 777 + SADB_SEQ_MARGIN);
	cr_assert_eq(live(ids[1])->key_fingerprint, fp);
	cr_assert_eq(live(ids[0])->msg.replay_window, 512);
	cr_assert(fx_secret_is(live(ids[0])->msg.enc_key, nin->enc_key, sizeof(nin->enc_key)));
	cr_assert_eq(count_type(MT(SA_REMOVED)), 0);
	/* The template follows: the next Child SA gets the new MTU too. */
	cr_assert_eq(template_of(fx_pic0(), "d1", DIR_OUT)->msg.tunnel_mtu, 1300);
	fx_pubs_clear();
	INSTALL(d1(DIR_OUT, 0x2001));
	cr_assert_eq(fx_upsert(fx_update(0, "ms-0/0/0"), installed(1)->ids[0])->tunnel_mtu,
	    1300);
}

Test(dyn_commit, a_commit_without_the_term_removes_them_and_says_so)
{
	const Picsec__V1__SaRemoved *ev = NULL;
	const Picsec__V1__SaUpdate *u = NULL;
	uint64_t a[2], e[2];
	const Picsec__V1__SaInstalled *r;
	size_t i;

	configure(DYN_D1 | DYN_SS2);
	d1_pair(0x1000, 0x2000, a);
	INSTALL(neg("ss2", "r2", "e1", DIR_IN, 0x3000), neg("ss2", "r2", "e1", DIR_OUT, 0x4000));
	r = installed(2);
	e[0] = r->ids[0];
	e[1] = r->ids[1];
	fx_pubs_clear();

	sadb_config(fx_sd, dyn_conf(DYN_SS2, MTU));
	cr_assert_eq(fx_npubs(), 2, "the update, then the event");
	u = fx_update(0, "ms-0/0/0");
	ev = removed_event(1);
	cr_assert_eq(u->n_remove, 2);
	cr_assert(fx_removes(u, a[0]) && fx_removes(u, a[1]));
	cr_assert_not(fx_removes(u, e[0]) || fx_removes(u, e[1]), "ss2's e1 is still there");
	cr_assert(u->service_sets_changed, "10.8.0.0/24 is no longer routed into the PIC");
	for (i = 0; i < u->n_service_sets; i++) {
		if (strcmp(u->service_sets[i]->name, "ss1") == 0)
			cr_assert_not(has_prefix(u->service_sets[i], "10.8.0.0", 24));
	}
	cr_assert_eq(ev->n_ids, 2);
	cr_assert(has_id(ev->ids, ev->n_ids, a[0]) && has_id(ev->ids, ev->n_ids, a[1]));
	cr_assert_neq(ev->reason[0], '\0', "the event gives a reason");
	cr_assert_null(sa_by_id(a[0]));
	cr_assert_null(sa_by_id(a[1]));
	cr_assert_not_null(sa_by_id(e[0]));
	cr_assert_not_null(sa_by_id(e[1]));
	cr_assert_null(find_template(fx_pic0(), "d1", DIR_IN));
	template_of(fx_pic0(), "e1", DIR_IN);

	/* And iked cannot put them back. */
	fx_pubs_clear();
	INSTALL(d1(DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "no dynamic term r1/d1", 2 + 2 + 2);
}

Test(dyn_commit, a_service_set_gone_with_its_pic_takes_them_away)
{
	uint64_t f[2];
	const Picsec__V1__SaInstalled *r;

	configure(DYN_D1 | DYN_SS3);
	INSTALL(neg("ss3", "r3", "f1", DIR_IN, 0x1000), neg("ss3", "r3", "f1", DIR_OUT, 0x2000));
	r = installed(2);
	f[0] = r->ids[0];
	f[1] = r->ids[1];
	fx_pubs_clear();

	sadb_config(fx_sd, dyn_conf(DYN_D1, MTU));
	cr_assert_eq(fx_npubs(), 2);
	cr_assert(fx_removes(fx_update(0, "ms-1/0/0"), f[0]));
	cr_assert(fx_removes(fx_update(0, "ms-1/0/0"), f[1]));
	cr_assert_eq(removed_event(1)->n_ids, 2);
	cr_assert(has_id(removed_event(1)->ids, 2, f[0]) && has_id(removed_event(1)->ids, 2, f[1]));
	cr_assert_null(sa_by_id(f[0]));
	cr_assert_eq(count_templates(sadb_pic_find(fx_sd, "ms-1/0/0")), 0);
}

Test(dyn_commit, a_service_set_moved_to_another_pic_takes_its_sas_along)
{
	const Picsec__V1__SaUpdate *old = NULL, *moved = NULL;
	struct sadb_pic *pic;
	uint64_t a[2];
	size_t i;

	configure(DYN_D1);
	d1_pair(0x1000, 0x2000, a);
	fx_pubs_clear();

	sadb_config(fx_sd, dyn_conf_on("ms-2/0/0", DYN_D1, MTU));
	cr_assert_eq(count_type(MT(SA_REMOVED)), 0, "the SAs were not taken away");
	for (i = 0; i < fx_npubs(); i++) {
		if (strcmp(fx_pub(i)->topic, "sa.ms-0/0/0") == 0)
			old = fx_update(i, "ms-0/0/0");
		else if (strcmp(fx_pub(i)->topic, "sa.ms-2/0/0") == 0)
			moved = fx_update(i, "ms-2/0/0");
	}
	cr_assert_not_null(old);
	cr_assert_not_null(moved);
	cr_assert(fx_removes(old, a[0]) && fx_removes(old, a[1]));
	cr_assert_not_null(fx_upsert(moved, a[0]));
	cr_assert_not_null(fx_upsert(moved, a[1]));
	pic = sadb_pic_find(fx_sd, "ms-2/0/0");
	cr_assert_eq(live(a[0])->pic, pic);
	cr_assert_eq(live(a[1])->pic, pic);
	cr_assert_eq(fx_count_sas(pic), 4);
	cr_assert_eq(fx_count_sas(fx_pic0()), 0);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 4);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(dyn_clear, .init = dyn_setup, .fini = fx_teardown);

Test(dyn_clear, clearing_a_service_set_removes_its_negotiated_sas_and_says_so)
{
	const Picsec__V1__SaRemoved *ev = NULL;
	const Picsec__V1__SaUpdate *gone = NULL;
	uint64_t a[2], e[2];
	const Picsec__V1__SaInstalled *r;
	size_t i;

	configure(DYN_D1 | DYN_SS2);
	d1_pair(0x1000, 0x2000, a);
	INSTALL(neg("ss2", "r2", "e1", DIR_IN, 0x3000), neg("ss2", "r2", "e1", DIR_OUT, 0x4000));
	r = installed(2);
	e[0] = r->ids[0];
	e[1] = r->ids[1];
	fx_pubs_clear();

	cr_assert_eq(sadb_clear(fx_sd, "ss1"), 4, "t1's pair and d1's");
	cr_assert_eq(count_type(MT(SA_REMOVED)), 1);
	for (i = 0; i < fx_npubs(); i++) {
		if (fx_pub(i)->type == MT(SA_REMOVED))
			ev = removed_event(i);
		else if (gone == NULL)
			gone = fx_update(i, "ms-0/0/0");
	}
	cr_assert_eq(ev->n_ids, 2);
	cr_assert(has_id(ev->ids, 2, a[0]) && has_id(ev->ids, 2, a[1]));
	cr_assert_str_eq(ev->reason, "cleared");
	cr_assert(fx_removes(gone, a[0]) && fx_removes(gone, a[1]));
	cr_assert_not(fx_removes(gone, e[0]) || fx_removes(gone, e[1]));
	cr_assert_null(sa_by_id(a[0]));
	cr_assert_null(sa_by_id(a[1]));
	cr_assert_not_null(sa_by_id(e[0]));
	cr_assert_not_null(sa_by_id(e[1]));
	cr_assert_not_null(fx_sa(fx_pic0(), "t1", DIR_IN), "manual SAs are pushed again");
	/* The templates stay: iked negotiates again. */
	template_of(fx_pic0(), "d1", DIR_OUT);
	d1_pair(0x1000, 0x2000, a);
}

Test(dyn_clear, clearing_everything_through_the_handler)
{
	Picsec__V1__SaClear req = PICSEC__V1__SA_CLEAR__INIT;
	bus_handler_fn *fn;
	uint64_t a[2], f[2], all[4];
	const Picsec__V1__SaInstalled *r;
	size_t i, nev = 0;
	void *ctx;

	configure(DYN_D1 | DYN_SS3);
	d1_pair(0x1000, 0x2000, a);
	INSTALL(neg("ss3", "r3", "f1", DIR_IN, 0x1000), neg("ss3", "r3", "f1", DIR_OUT, 0x2000));
	r = installed(2);
	f[0] = r->ids[0];
	f[1] = r->ids[1];
	fx_pubs_clear();

	fn = fx_handler(MT(SA_CLEAR), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.type, MT(SA_CLEARED));
	cr_assert_eq(((const Picsec__V1__SaCleared *)fx_reply.msg)->count, 6);
	all[0] = a[0];
	all[1] = a[1];
	all[2] = f[0];
	all[3] = f[1];
	for (i = 0; i < fx_npubs(); i++) {
		const Picsec__V1__SaRemoved *ev;
		size_t k;

		if (fx_pub(i)->type != MT(SA_REMOVED))
			continue;
		ev = removed_event(i);
		for (k = 0; k < ev->n_ids; k++) {
			cr_assert(has_id(all, 4, ev->ids[k]));
			nev++;
		}
	}
	cr_assert_eq(nev, 4, "%zu of 4 negotiated SAs announced", nev);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 2, "t1's pair only");
}

/* ---------------------------------------------------------------------------------- */
TestSuite(dyn_spi, .init = dyn_setup, .fini = fx_teardown);

#define DRAW(spi) ((uint32_t)(spi) - 256)

static const uint8_t gw1[4] = { 192, 0, 2, 1 };

/* Asks SaAllocSpi for count ESP SPIs for 192.0.2.1; the answer is in fx_reply. */
static void
alloc_spis(uint32_t count)
{
	Picsec__V1__SaAllocSpi req = PICSEC__V1__SA_ALLOC_SPI__INIT;
	Picsec__V1__IpAddress dst = PICSEC__V1__IP_ADDRESS__INIT;
	bus_handler_fn *fn;
	void *ctx;

	dst.addr.data = (uint8_t *)(uintptr_t)gw1;
	dst.addr.len = sizeof(gw1);
	req.protocol = PROTO_ESP;
	req.destination = &dst;
	req.count = count;
	fx_reply_clear();
	fn = fx_handler(MT(SA_ALLOC_SPI), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.count, 1);
}

static const Picsec__V1__SaSpi *
spis(size_t nmore)
{
	const Picsec__V1__SaSpi *s;

	cr_assert_eq(fx_reply.type, MT(SA_SPI), "refused: %s", fx_reply.text);
	s = (const Picsec__V1__SaSpi *)fx_reply.msg;
	cr_assert_eq(s->n_more, nmore);
	return s;
}

/* The SPIs of the last answer, all distinct and from 256 up; their count. */
static size_t
all_spis(const Picsec__V1__SaSpi *s, uint32_t *out)
{
	size_t i, j, n = 0;

	out[n++] = s->spi;
	for (i = 0; i < s->n_more; i++)
		out[n++] = s->more[i];
	for (i = 0; i < n; i++) {
		cr_assert_geq(out[i], 256, "SPI %u", out[i]);
		for (j = 0; j < i; j++)
			cr_assert_neq(out[i], out[j], "SPI %u twice in a batch", out[i]);
	}
	return n;
}

Test(dyn_spi, a_batch_is_the_spi_and_the_rest_all_distinct)
{
	uint32_t got[64], first[64];
	size_t n, i, j;

	configure(DYN_D1);
	alloc_spis(5);
	n = all_spis(spis(4), first);
	cr_assert_eq(n, 5);
	alloc_spis(64);
	cr_assert_eq(all_spis(spis(63), got), 64);
	for (i = 0; i < 64; i++) {
		for (j = 0; j < 5; j++)
			cr_assert_neq(got[i], first[j], "SPI %u handed out again", got[i]);
	}
	alloc_spis(0);
	spis(0);
	alloc_spis(1);
	spis(0);
	cr_assert_eq(u64map_count(fx_sd->spis), 5 + 64 + 2);

	alloc_spis(65);
	cr_assert_eq(fx_reply.type, MT(ERROR));
	cr_assert_eq(fx_reply.code, ERRC(INVALID_ARGUMENT));
	cr_assert(strstr(fx_reply.text, "64") != NULL, "%s", fx_reply.text);
	cr_assert_eq(u64map_count(fx_sd->spis), 5 + 64 + 2, "a refused batch took SPIs");
}

Test(dyn_spi, a_batch_draws_again_on_a_collision)
{
	uint32_t got[8];

	fx_random_script((const uint32_t[]){ DRAW(700), DRAW(700), DRAW(800), DRAW(700),
	    DRAW(900) }, 5);
	alloc_spis(3);
	cr_assert_eq(all_spis(spis(2), got), 3);
	cr_assert_eq(got[0], 700);
	cr_assert_eq(got[1], 800);
	cr_assert_eq(got[2], 900);
}

Test(dyn_spi, an_installed_inbound_spi_is_not_handed_out_again)
{
	uint32_t got[8];

	configure(DYN_D1);
	/* Installed without being drawn here (sadb restarted since, say). */
	INSTALL(d1(DIR_IN, 5000), d1(DIR_OUT, 7000));
	installed(2);
	fx_random_script((const uint32_t[]){ DRAW(5000), DRAW(6000) }, 2);
	alloc_spis(1);
	cr_assert_eq(spis(0)->spi, 6000);

	/* In a batch too. */
	fx_random_script((const uint32_t[]){ DRAW(8000), DRAW(5000), DRAW(6000), DRAW(9000) },
	    4);
	alloc_spis(2);
	all_spis(spis(1), got);
	cr_assert_eq(got[0], 8000);
	cr_assert_eq(got[1], 9000);

	/* The outbound SA's SPI is the peer's: ours to hand out. */
	fx_random_script((const uint32_t[]){ DRAW(7000) }, 1);
	alloc_spis(1);
	cr_assert_eq(spis(0)->spi, 7000);
}

/* ---------------------------------------------------------------------------------- */
/* Gaps found while writing these tests (each failed on sadb as it stood, now fixed). */
TestSuite(dyn_hardening, .init = dyn_setup, .fini = fx_teardown);

/* A traffic selector iked sends that is no prefix (an empty IpPrefix, as an unset but
 * present field unpacks) becomes "any" instead of being refused or left the term's: the
 * inbound SA would deliver anyone's traffic (sadb_negotiated: sadb_prefix returns NULL). */
Test(dyn_hardening, a_malformed_selector_does_not_widen_the_sa_to_any)
{
	Picsec__V1__IpPrefix empty = PICSEC__V1__IP_PREFIX__INIT;
	struct neg *n;

	configure(DYN_D1);
	n = d1(DIR_IN, 0x1000);
	n->sa.source = &empty;
	INSTALL(n);
	if (fx_reply.type == MT(SA_INSTALLED))
		cr_assert(fx_prefix_is(live(installed(1)->ids[0])->msg.source, "10.8.0.0", 24),
		    "a malformed source selector made the inbound SA take any source");
}

/* A selector wider than the term's is taken as is ("when the peer narrowed them"). */
Test(dyn_hardening, a_selector_wider_than_the_terms_is_refused)
{
	Picsec__V1__IpPrefix any = PICSEC__V1__IP_PREFIX__INIT;
	uint8_t zero[4] = { 0, 0, 0, 0 };
	struct neg *n;

	configure(DYN_D1);
	n = d1(DIR_IN, 0x1000);
	any.addr.data = zero;
	any.addr.len = 4;
	n->sa.source = &any;
	INSTALL(n);
	refused(ERRC(INVALID_ARGUMENT), "", 2);
}

/* An inbound SA whose SPI another inbound SA to the same gateway holds (t1's manual 1000,
 * or another term's negotiated one) is installed: the PIC keeps one SA per SPI and gateway
 * ("the newer wins", fwd_stream.c), so the other SA silently stops receiving. */
Test(dyn_hardening, an_inbound_spi_held_by_another_sa_is_refused)
{
	configure(DYN_D1 | DYN_SS2);
	INSTALL(d1(DIR_IN, 1000));
	refused(ERRC(INVALID_ARGUMENT), "1000", 4);
	INSTALL(d1(DIR_IN, 0x1000));
	installed(1);
	fx_pubs_clear();
	INSTALL(neg("ss2", "r2", "e1", DIR_IN, 0x1000));
	refused(ERRC(INVALID_ARGUMENT), "4096", 5);
}

/* An empty Secret is no key, but passes the "SA without keys" check. */
Test(dyn_hardening, empty_keys_are_no_keys)
{
	Picsec__V1__Secret empty = PICSEC__V1__SECRET__INIT;
	struct neg *n;

	configure(DYN_D1);
	n = d1(DIR_IN, 0x1000);
	n->sa.enc_key = &empty;
	n->sa.auth_key = &empty;
	INSTALL(n);
	refused(ERRC(INVALID_ARGUMENT), "without keys", 2);
}

/* Every negotiated outbound SA the PIC reported on leaves a journal mark that nothing
 * removes: a negotiated key never comes back, so the journal (memory and sadb-seq, written
 * every second when it changed) grows by one line per rekey for as long as sadb runs. */
Test(dyn_hardening, the_journal_forgets_negotiated_sas_that_are_gone)
{
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;
	Picsec__V1__SaUsage usage = PICSEC__V1__SA_USAGE__INIT, *usages[1] = { &usage };
	uint32_t i;

	configure(DYN_D1);
	st.pic = STR("ms-0/0/0");
	st.usage = usages;
	st.n_usage = 1;
	for (i = 0; i < 20; i++) {
		uint64_t id;

		INSTALL(d1(DIR_OUT, 0x2000 + i));
		id = installed(1)->ids[0];
		usage.id = id;
		usage.seq = 100;
		sadb_pic_status(fx_sd, &st);
		remove_ids(&id, 1, "rekeyed");
	}
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 2);
	cr_assert_eq(u64map_count(fx_sd->marks), 0, "%zu marks of 20 negotiated SAs long gone",
	    u64map_count(fx_sd->marks));
}
