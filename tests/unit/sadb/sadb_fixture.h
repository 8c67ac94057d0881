/* picsec-sadb in one process, without busd: the test binary links with -Wl,--wrap for the
 * bus functions sadb calls (publish, subscribe, handlers, replies), so every message sadb
 * sends is recorded here, packed and unpacked as the bus would. randombytes_uniform is
 * wrapped too, so that a test can script the SPIs sadb draws. Configurations are real ones:
 * parsed, checked and snapshotted by libpicsec-config. */
#ifndef PICSEC_TEST_SADB_FIXTURE_H
#define PICSEC_TEST_SADB_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "sadb_impl.h"

#define DIR_IN PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND
#define DIR_OUT PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND
#define PROTO_ESP PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP
#define PROTO_AH PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH
#define PROTO_BUNDLE PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE
#define ORIGIN_MANUAL PICSEC__V1__SA_ORIGIN__SA_ORIGIN_MANUAL
#define ORIGIN_DYNAMIC PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC
/* For string fields of messages built in a test (protobuf-c's are not const). */
#define STR(s) ((char *)(uintptr_t)(s))

enum { FX_MAX_PUBS = 128, FX_MAX_SNAPS = 16, FX_MAX_KEPT = 16 };

/* One message sadb published: its topic, type, a copy of it and when (monotonic ms). */
struct fx_pub {
	char topic[96];
	int type;
	ProtobufCMessage *msg;
	uint64_t at_ms;
};

/* The last answer to a request: a typed reply (msg) or an error (code, text). */
struct fx_reply {
	unsigned count; /* answers since fx_reply_clear */
	int type;	/* MT(ERROR) for an error */
	int code;
	char text[256];
	ProtobufCMessage *msg;
};

extern struct ev_loop *fx_loop;
extern struct sadb *fx_sd; /* made by fx_setup, on the state directory fx_dir */
extern char fx_dir[64];
extern struct fx_reply fx_reply;

/* Criterion .init/.fini: a temporary state directory, a loop, fx_sd; everything freed. */
void fx_setup(void);
void fx_teardown(void);

/* Another sadb on the same loop (statedir NULL: no journal file); fx_teardown frees it. */
struct sadb *fx_sadb_new(const char *statedir);
/* Frees p at fx_teardown (so that a failed assertion leaks nothing); returns p. */
void *fx_keep(void *p);

/* A committed configuration from text (braces or set form); asserts it checks without
 * errors. Freed by fx_teardown. */
const Picsec__V1__ConfigSnapshot *fx_snapshot(const char *text, uint64_t generation);
/* The same from a file in the directory named by an environment variable
 * (PICSEC_EXAMPLES, PICSEC_CORPUS). */
const Picsec__V1__ConfigSnapshot *fx_snapshot_file(const char *env, const char *name,
    uint64_t generation);
/* The configuration most tests use, in set form: service set ss1 on the PIC pic (inside
 * pic.1, outside pic.2), local gateway 192.0.2.1, rule r1 with term t1 (10.1.0.0/24 ->
 * 10.2.0.0/24, remote gateway 192.0.2.2): inbound ESP SPI 1000 with the AES-128 key in_key,
 * outbound SPI 1001 with out_key, both HMAC-SHA1-96 with the ASCII key FX_AUTH_KEY. Then
 * the lines of extra (set or delete). NULL fields take the defaults: "ms-0/0/0", FX_KEY_IN,
 * FX_KEY_OUT, nothing. */
#define FX_AUTH_KEY "tomato-salad-1234567"
#define FX_KEY_IN "00112233445566778899aabbccddeeff"
#define FX_KEY_OUT "ffeeddccbbaa99887766554433221100"
struct fx_conf {
	const char *pic, *in_key, *out_key, *extra;
};
const Picsec__V1__ConfigSnapshot *fx_conf(const struct fx_conf *c, uint64_t generation);
/* fx_conf with the fields given, as the next commit (generation). */
#define CONF(...) fx_conf(&(struct fx_conf){ __VA_ARGS__ }, fx_generation++)
extern uint64_t fx_generation;
/* FX_KEY_IN, FX_KEY_OUT and FX_KEY_NEW as bytes. */
#define FX_KEY_NEW "0f0e0d0c0b0a09080706050403020100"
extern const uint8_t fx_key_in[16], fx_key_out[16], fx_key_new[16];
/* Extra lines for fx_conf. fx_term_t2: a second term t2 in rule r1, bidirectional ESP SPI
 * 2000, 10.3.0.0/24 -> 10.4.0.0/24. fx_set_ss2: a second service set ss2 on the same PIC
 * (inside ms-0/0/0.3), rule r2 with term u1, bidirectional ESP SPI 3000. */
extern const char fx_term_t2[], fx_set_ss2[];

/* sadb_build of snap into a want list, asserting success. fx_teardown frees it unless it
 * went to fx_want_free or to fx_apply (sadb_apply, which consumes it). */
struct sadb_pic *fx_build(struct sadb *sd, const Picsec__V1__ConfigSnapshot *snap);
void fx_want_free(struct sadb_pic *want);
void fx_apply(struct sadb *sd, struct sadb_pic *want);

/* What was published since the last fx_pubs_clear. */
size_t fx_npubs(void);
const struct fx_pub *fx_pub(size_t i);
void fx_pubs_clear(void);
/* The i-th publication, asserted to be an SaUpdate on "sa.<pic>" / an SaExpire on
 * "sa.expire". */
const Picsec__V1__SaUpdate *fx_update(size_t i, const char *pic);
const Picsec__V1__SaExpire *fx_expire(size_t i);
/* In an update: the upsert with this id (or NULL); whether it removes id. */
const Picsec__V1__Sa *fx_upsert(const Picsec__V1__SaUpdate *u, uint64_t id);
bool fx_removes(const Picsec__V1__SaUpdate *u, uint64_t id);

/* A stand-in for a request sadb answers (the answer lands in fx_reply). */
struct bus_msg *fx_request(void);
void fx_reply_clear(void);
/* sadb's handler for a message type, from the table it installed; ctx in *ctx. */
bus_handler_fn *fx_handler(int type, void **ctx);

/* The next n draws of randombytes_uniform return values[] (then real randomness again). */
void fx_random_script(const uint32_t *values, size_t n);

/* fx_sd's PIC ms-0/0/0 and one of its SAs, asserted to exist. */
struct sadb_pic *fx_pic0(void);
struct sadb_sa *fx_sa_of(const char *term, Picsec__V1__SaDirection dir);
/* The SA of pic for term and direction, or NULL. */
struct sadb_sa *fx_sa(const struct sadb_pic *pic, const char *term, Picsec__V1__SaDirection dir);
size_t fx_count_sas(const struct sadb_pic *pic);
/* bytes and len equal a Secret's material. */
bool fx_secret_is(const Picsec__V1__Secret *s, const void *bytes, size_t len);
/* Whether a is the IPv4 address, p the IPv4 prefix, written in dotted form. */
bool fx_addr_is(const Picsec__V1__IpAddress *a, const char *dotted);
bool fx_prefix_is(const Picsec__V1__IpPrefix *p, const char *dotted, uint32_t length);

/* The wrapped functions (the real ones are __real_NAME). */
int __wrap_bus_publish(struct bus *bus, const char *topic, int type, const ProtobufCMessage *msg);
int __wrap_bus_subscribe(struct bus *bus, const char *topic_prefix);
uint64_t __wrap_bus_request(struct bus *bus, const char *dest, int type,
    const ProtobufCMessage *msg, unsigned timeout_ms, bus_reply_fn *cb, void *ctx,
    uint64_t cookie);
void __wrap_bus_set_handlers(struct bus *bus, const struct bus_handler *table, size_t count,
    void *ctx);
void __wrap_bus_on_state(struct bus *bus, bus_state_fn *fn, void *ctx);
int __wrap_bus_reply(struct bus_msg *m, int type, const ProtobufCMessage *msg);
int __wrap_bus_reply_error(struct bus_msg *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint32_t __wrap_randombytes_uniform(uint32_t upper_bound);
uint32_t __real_randombytes_uniform(uint32_t upper_bound);

#endif
