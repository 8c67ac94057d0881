/* See sadb_fixture.h: sadb without busd, its messages recorded through link-time wraps. */
#include "sadb_fixture.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "catalog.h"
#include "cfg_snapshot.h"
#include "config.h"
#include "envelope.h"
#include "secbuf.h"
#include "testutil.h"

struct ev_loop *fx_loop;
uint64_t fx_generation = 1;
struct sadb *fx_sd;
char fx_dir[64];
struct fx_reply fx_reply;

static struct fx_pub pubs[FX_MAX_PUBS];
static size_t npubs;

static struct {
	struct cfg_node *tree;
	struct cfg_snapshot *snap;
} snaps[FX_MAX_SNAPS];
static size_t nsnaps;

/* What fx_teardown frees: want lists, other sadbs, buffers. */
static struct sadb_pic *wants[FX_MAX_KEPT];
static struct sadb *sadbs[FX_MAX_KEPT];
static void *kept[FX_MAX_KEPT];

static const struct bus_handler *handlers;
static size_t nhandlers;
static void *handlers_ctx;

static uint32_t script[128];
static size_t script_len, script_pos;

static char request_stand_in;

static void want_free(struct sadb_pic *want);

/* --- the wraps --------------------------------------------------------------------- */

int
__wrap_bus_publish(struct bus *bus, const char *topic, int type, const ProtobufCMessage *msg)
{
	struct fx_pub *p;

	(void)bus;
	/* What bus_publish would refuse: a payload that is not the type's message. */
	cr_assert_eq(catalog_descriptor(type), msg->descriptor, "published %s as type %d",
	    msg->descriptor->name, type);
	cr_assert_lt(npubs, FX_MAX_PUBS, "too many publications");
	p = &pubs[npubs++];
	snprintf(p->topic, sizeof(p->topic), "%s", topic);
	p->type = type;
	p->msg = pb_message_dup(msg); /* packed and unpacked, as a subscriber gets it */
	p->at_ms = monotonic_ms();
	cr_assert_not_null(p->msg);
	return 0;
}

int
__wrap_bus_subscribe(struct bus *bus, const char *topic_prefix)
{
	(void)bus;
	(void)topic_prefix;
	return 0;
}

/* Requests to healthd: nobody answers in these tests (nothing is known to be down). */
uint64_t
__wrap_bus_request(struct bus *bus, const char *dest, int type, const ProtobufCMessage *msg,
    unsigned timeout_ms, bus_reply_fn *cb, void *ctx, uint64_t cookie)
{
	(void)bus;
	(void)dest;
	(void)type;
	(void)msg;
	(void)timeout_ms;
	(void)cb;
	(void)ctx;
	(void)cookie;
	return 0;
}

void
__wrap_bus_set_handlers(struct bus *bus, const struct bus_handler *table, size_t count,
    void *ctx)
{
	(void)bus;
	handlers = table;
	nhandlers = count;
	handlers_ctx = ctx;
}

void
__wrap_bus_on_state(struct bus *bus, bus_state_fn *fn, void *ctx)
{
	(void)bus;
	(void)fn;
	(void)ctx;
}

static void
reply_forget(void)
{
	if (fx_reply.msg != NULL)
		protobuf_c_message_free_unpacked(fx_reply.msg, &wiping_allocator);
	fx_reply.msg = NULL;
}

int
__wrap_bus_reply(struct bus_msg *m, int type, const ProtobufCMessage *msg)
{
	cr_assert_eq(m, fx_request());
	cr_assert_eq(catalog_descriptor(type), msg->descriptor, "replied %s as type %d",
	    msg->descriptor->name, type);
	reply_forget();
	fx_reply.count++;
	fx_reply.type = type;
	fx_reply.code = 0;
	fx_reply.text[0] = '\0';
	fx_reply.msg = pb_message_dup(msg);
	cr_assert_not_null(fx_reply.msg);
	return 0;
}

int
__wrap_bus_reply_error(struct bus_msg *m, int code, const char *fmt, ...)
{
	va_list ap;

	cr_assert_eq(m, fx_request());
	reply_forget();
	fx_reply.count++;
	fx_reply.type = MT(ERROR);
	fx_reply.code = code;
	va_start(ap, fmt);
	vsnprintf(fx_reply.text, sizeof(fx_reply.text), fmt, ap);
	va_end(ap);
	return 0;
}

uint32_t
__wrap_randombytes_uniform(uint32_t upper_bound)
{
	if (script_pos < script_len) {
		cr_assert_lt(script[script_pos], upper_bound);
		return script[script_pos++];
	}
	return __real_randombytes_uniform(upper_bound);
}

/* --- setup --------------------------------------------------------------------------- */

/* Puts p in the first free slot of a table of FX_MAX_KEPT. */
static void
keep_in(void **table, void *p)
{
	size_t i;

	for (i = 0; i < FX_MAX_KEPT && table[i] != NULL; i++)
		;
	cr_assert_lt(i, FX_MAX_KEPT, "too many kept objects");
	table[i] = p;
}

/* Takes p out of the table; asserts it was there. */
static void
unkeep(void **table, const void *p)
{
	size_t i;

	for (i = 0; i < FX_MAX_KEPT && table[i] != p; i++)
		;
	cr_assert_lt(i, FX_MAX_KEPT, "not a kept object");
	table[i] = NULL;
}

void *
fx_keep(void *p)
{
	keep_in(kept, p);
	return p;
}

static struct sadb *
sadb_start(const char *statedir)
{
	struct sadb_options opts = { .statedir = statedir };
	char err[256] = "";
	struct sadb *sd = sadb_new(fx_loop, NULL, &opts, err, sizeof(err));

	cr_assert_not_null(sd, "sadb_new: %s", err);
	return sd;
}

struct sadb *
fx_sadb_new(const char *statedir)
{
	struct sadb *sd = sadb_start(statedir);

	keep_in((void **)sadbs, sd);
	return sd;
}

void
fx_setup(void)
{
	test_mkdtemp(fx_dir, sizeof(fx_dir));
	fx_loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(fx_loop);
	fx_sd = sadb_start(fx_dir);
}

void
fx_teardown(void)
{
	size_t i;

	for (i = 0; i < FX_MAX_KEPT; i++) {
		want_free(wants[i]);
		sadb_free(sadbs[i]);
		free(kept[i]);
		wants[i] = NULL;
		sadbs[i] = NULL;
		kept[i] = NULL;
	}
	sadb_free(fx_sd);
	fx_sd = NULL;
	fx_pubs_clear();
	reply_forget();
	for (i = 0; i < nsnaps; i++) {
		cfg_snapshot_free(snaps[i].snap);
		cfg_node_free(snaps[i].tree);
	}
	nsnaps = 0;
	if (fx_loop != NULL)
		ev_loop_destroy(fx_loop);
	fx_loop = NULL;
	test_rmdir(fx_dir);
}

const Picsec__V1__ConfigSnapshot *
fx_snapshot(const char *text, uint64_t generation)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct strbuf report = STRBUF_INIT;
	struct cfg_node *tree;

	cr_assert_lt(nsnaps, FX_MAX_SNAPS);
	tree = cfg_parse("test.conf", text, strlen(text), CFG_FORMAT_AUTO, &d);
	cr_assert_not_null(tree);
	if (d.errors == 0)
		cfg_check(tree, &d);
	cfg_diags_format(&d, &report, "configuration check-out failed");
	cr_assert_eq(d.errors, 0, "%s\n%s", text, strbuf_str(&report));
	strbuf_release(&report);
	cfg_diags_free(&d);
	cfg_tree_forget_locations(tree);
	snaps[nsnaps].tree = tree;
	snaps[nsnaps].snap = cfg_snapshot_build(tree, generation, "test", "", 0);
	cr_assert_not_null(snaps[nsnaps].snap);
	return cfg_snapshot_msg(snaps[nsnaps++].snap);
}

const Picsec__V1__ConfigSnapshot *
fx_snapshot_file(const char *env, const char *name, uint64_t generation)
{
	const Picsec__V1__ConfigSnapshot *snap;
	char path[1024], *text;

	snprintf(path, sizeof(path), "%s/%s", test_program(env), name);
	text = test_read_file(path);
	cr_assert_not_null(text, "cannot read %s", path);
	snap = fx_snapshot(text, generation);
	free(text);
	return snap;
}

#define T1 "set services ipsec-vpn rule r1 term t1 "
#define T1_DIR(d, spi, key) \
    T1 "then manual direction " d " protocol esp\n" \
    T1 "then manual direction " d " spi " spi "\n" \
    T1 "then manual direction " d " authentication algorithm hmac-sha1-96\n" \
    T1 "then manual direction " d " authentication key ascii-text \"" FX_AUTH_KEY "\"\n" \
    T1 "then manual direction " d " encryption algorithm aes-128-cbc\n" \
    T1 "then manual direction " d " encryption key hexadecimal " key "\n"

static const char conf_fmt[] =
    "set services service-set ss1 next-hop-service inside-service-interface %s.1\n"
    "set services service-set ss1 next-hop-service outside-service-interface %s.2\n"
    "set services service-set ss1 ipsec-vpn-rules r1\n"
    "set services service-set ss1 ipsec-vpn-options local-gateway 192.0.2.1\n"
    "set services ipsec-vpn rule r1 match-direction input\n"
    T1 "from source-address 10.1.0.0/24\n"
    T1 "from destination-address 10.2.0.0/24\n"
    T1 "then remote-gateway 192.0.2.2\n"
    T1_DIR("inbound", "1000", "%s")
    T1_DIR("outbound", "1001", "%s")
    "%s";

const uint8_t fx_key_in[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
const uint8_t fx_key_out[16] = {
	0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
	0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
};
const uint8_t fx_key_new[16] = {
	0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08,
	0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00,
};

#define T2 "set services ipsec-vpn rule r1 term t2 "
#define T2_SA T2 "then manual direction bidirectional "
const char fx_term_t2[] =
    T2 "from source-address 10.3.0.0/24\n"
    T2 "from destination-address 10.4.0.0/24\n"
    T2 "then remote-gateway 192.0.2.3\n"
    T2_SA "protocol esp\n"
    T2_SA "spi 2000\n"
    T2_SA "authentication algorithm hmac-sha1-96\n"
    T2_SA "authentication key hexadecimal 0123456789abcdef0123456789abcdef01234567\n"
    T2_SA "encryption algorithm aes-128-cbc\n"
    T2_SA "encryption key hexadecimal " FX_KEY_IN "\n";

#define SS2 "set services service-set ss2 "
#define U1 "set services ipsec-vpn rule r2 term u1 "
#define U1_SA U1 "then manual direction bidirectional "
const char fx_set_ss2[] =
    SS2 "next-hop-service inside-service-interface ms-0/0/0.3\n"
    SS2 "next-hop-service outside-service-interface ms-0/0/0.4\n"
    SS2 "ipsec-vpn-rules r2\n"
    SS2 "ipsec-vpn-options local-gateway 192.0.2.1\n"
    "set services ipsec-vpn rule r2 match-direction input\n"
    U1 "from source-address 10.5.0.0/24\n"
    U1 "from destination-address 10.6.0.0/24\n"
    U1 "then remote-gateway 192.0.2.5\n"
    U1_SA "protocol esp\n"
    U1_SA "spi 3000\n"
    U1_SA "authentication algorithm hmac-sha1-96\n"
    U1_SA "authentication key hexadecimal 0123456789abcdef0123456789abcdef01234567\n"
    U1_SA "encryption algorithm aes-128-cbc\n"
    U1_SA "encryption key hexadecimal " FX_KEY_IN "\n";

#define OR(s, dflt) ((s) != NULL ? (s) : (dflt))

const Picsec__V1__ConfigSnapshot *
fx_conf(const struct fx_conf *c, uint64_t generation)
{
	const char *pic = OR(c->pic, "ms-0/0/0");
	char text[16384];
	int n;

	n = snprintf(text, sizeof(text), conf_fmt, pic, pic, OR(c->in_key, FX_KEY_IN),
	    OR(c->out_key, FX_KEY_OUT), OR(c->extra, ""));
	cr_assert(n > 0 && (size_t)n < sizeof(text));
	return fx_snapshot(text, generation);
}

struct sadb_pic *
fx_build(struct sadb *sd, const Picsec__V1__ConfigSnapshot *snap)
{
	struct sadb_pic *want = NULL;
	char err[256] = "";

	cr_assert_eq(sadb_build(sd, snap, &want, err, sizeof(err)), 0, "sadb_build: %s", err);
	if (want != NULL)
		keep_in((void **)wants, want);
	return want;
}

static void
want_free(struct sadb_pic *want)
{
	struct sadb_pic *next;

	for (; want != NULL; want = next) {
		next = want->next;
		sadb_pic_free(want);
	}
}

void
fx_want_free(struct sadb_pic *want)
{
	if (want == NULL)
		return;
	unkeep((void **)wants, want);
	want_free(want);
}

void
fx_apply(struct sadb *sd, struct sadb_pic *want)
{
	if (want != NULL)
		unkeep((void **)wants, want);
	sadb_apply(sd, want);
}

/* --- what was sent --------------------------------------------------------------------- */

/* What sadb holds back until the end of the loop turn (sadb_flush) counts as published:
 * the tests call the handlers without turning the loop. */
static void
fx_flush(void)
{
	size_t i;

	if (fx_sd != NULL)
		sadb_flush(fx_sd);
	for (i = 0; i < FX_MAX_KEPT; i++) {
		if (sadbs[i] != NULL)
			sadb_flush(sadbs[i]);
	}
}

size_t
fx_npubs(void)
{
	fx_flush();
	return npubs;
}

const struct fx_pub *
fx_pub(size_t i)
{
	fx_flush();
	cr_assert_lt(i, npubs, "publication %zu of %zu", i, npubs);
	return &pubs[i];
}

void
fx_pubs_clear(void)
{
	size_t i;

	fx_flush();
	for (i = 0; i < npubs; i++)
		protobuf_c_message_free_unpacked(pubs[i].msg, &wiping_allocator);
	npubs = 0;
}

const Picsec__V1__SaUpdate *
fx_update(size_t i, const char *pic)
{
	const struct fx_pub *p = fx_pub(i);
	char topic[96];

	snprintf(topic, sizeof(topic), "sa.%s", pic);
	cr_assert_eq(p->type, MT(SA_UPDATE), "publication %zu is type %d", i, p->type);
	cr_assert_str_eq(p->topic, topic);
	cr_assert_str_eq(((const Picsec__V1__SaUpdate *)p->msg)->pic, pic);
	return (const Picsec__V1__SaUpdate *)p->msg;
}

const Picsec__V1__SaExpire *
fx_expire(size_t i)
{
	const struct fx_pub *p = fx_pub(i);

	cr_assert_eq(p->type, MT(SA_EXPIRE), "publication %zu is type %d", i, p->type);
	cr_assert_str_eq(p->topic, "sa.expire");
	return (const Picsec__V1__SaExpire *)p->msg;
}

const Picsec__V1__Sa *
fx_upsert(const Picsec__V1__SaUpdate *u, uint64_t id)
{
	size_t i;

	for (i = 0; i < u->n_upsert; i++) {
		if (u->upsert[i]->id == id)
			return u->upsert[i];
	}
	return NULL;
}

bool
fx_removes(const Picsec__V1__SaUpdate *u, uint64_t id)
{
	size_t i;

	for (i = 0; i < u->n_remove; i++) {
		if (u->remove[i] == id)
			return true;
	}
	return false;
}

struct bus_msg *
fx_request(void)
{
	return (struct bus_msg *)(void *)&request_stand_in;
}

void
fx_reply_clear(void)
{
	reply_forget();
	memset(&fx_reply, 0, sizeof(fx_reply));
}

bus_handler_fn *
fx_handler(int type, void **ctx)
{
	cr_assert_not_null(handlers, "sadb installed no handlers");
	cr_assert(type >= 0 && (size_t)type < nhandlers && handlers[type].fn != NULL,
	    "no handler for type %d", type);
	*ctx = handlers_ctx;
	return handlers[type].fn;
}

void
fx_random_script(const uint32_t *values, size_t n)
{
	cr_assert_leq(n, sizeof(script) / sizeof(script[0]));
	memcpy(script, values, n * sizeof(*values));
	script_len = n;
	script_pos = 0;
}

/* --- looking at SAs -------------------------------------------------------------------- */

struct sadb_pic *
fx_pic0(void)
{
	struct sadb_pic *pic = sadb_pic_find(fx_sd, "ms-0/0/0");

	cr_assert_not_null(pic, "no PIC ms-0/0/0");
	return pic;
}

struct sadb_sa *
fx_sa_of(const char *term, Picsec__V1__SaDirection dir)
{
	struct sadb_sa *sa = fx_sa(fx_pic0(), term, dir);

	cr_assert_not_null(sa, "no %s SA for term %s", dir == DIR_IN ? "inbound" : "outbound",
	    term);
	return sa;
}

struct sadb_sa *
fx_sa(const struct sadb_pic *pic, const char *term, Picsec__V1__SaDirection dir)
{
	struct sadb_sa *sa;

	for (sa = pic != NULL ? pic->sas : NULL; sa != NULL; sa = sa->next) {
		if (strcmp(sa->term, term) == 0 && sa->msg.direction == dir)
			return sa;
	}
	return NULL;
}

size_t
fx_count_sas(const struct sadb_pic *pic)
{
	const struct sadb_sa *sa;
	size_t n = 0;

	for (sa = pic != NULL ? pic->sas : NULL; sa != NULL; sa = sa->next)
		n++;
	return n;
}

bool
fx_secret_is(const Picsec__V1__Secret *s, const void *bytes, size_t len)
{
	return s != NULL && s->material.len == len && memcmp(s->material.data, bytes, len) == 0;
}

bool
fx_addr_is(const Picsec__V1__IpAddress *a, const char *dotted)
{
	uint8_t want[4];

	cr_assert_eq(inet_pton(AF_INET, dotted, want), 1);
	return a != NULL && a->addr.len == 4 && memcmp(a->addr.data, want, 4) == 0;
}

bool
fx_prefix_is(const Picsec__V1__IpPrefix *p, const char *dotted, uint32_t length)
{
	uint8_t want[4];

	cr_assert_eq(inet_pton(AF_INET, dotted, want), 1);
	return p != NULL && p->addr.len == 4 && memcmp(p->addr.data, want, 4) == 0 &&
	    p->length == length;
}
