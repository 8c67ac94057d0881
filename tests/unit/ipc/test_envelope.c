#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bus.pb-c.h"
#include "catalog.h"
#include "envelope.h"
#include "secbuf.h"

static const struct env_source src = { "configd", "main", 0x0123456789abcdefULL };

Test(envelope, round_trip_keeps_every_field)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct env_header hdr = { .type = MT(PING), .seq = 7, .req_id = 99, .refer_id = 0 };
	struct envelope_view view;
	size_t len;
	void *buf;

	ping.token = 0xfeedULL;
	buf = envelope_pack(&src, &hdr, &ping.base, &len);
	cr_assert_not_null(buf);
	cr_assert_eq(envelope_open(buf, len, &view), ENVELOPE_OK, "%s", view.detail);
	cr_assert_eq(view.env->type, MT(PING));
	cr_assert_str_eq(view.env->service, "configd");
	cr_assert_str_eq(view.env->instance, "main");
	cr_assert_eq(view.env->incarnation, src.incarnation);
	cr_assert_eq(view.env->seq, 7);
	cr_assert_eq(view.env->req_id, 99);
	cr_assert_eq(view.env->refer_id, 0);
	cr_assert_gt(view.env->timestamp_ns, 1700000000ULL * 1000000000ULL);
	cr_assert_eq(view.payload->descriptor, &picsec__v1__ping__descriptor);
	cr_assert_eq(((Picsec__V1__Ping *)view.payload)->token, 0xfeedULL);
	envelope_close(&view);
	wiping_free(buf);
}

Test(envelope, pack_refuses_a_payload_of_another_type)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	struct env_header hdr = { .type = MT(PONG) };
	size_t len;

	errno = 0;
	cr_assert_null(envelope_pack(&src, &hdr, &ping.base, &len));
	cr_assert_eq(errno, EINVAL);
	hdr.type = 9999;
	cr_assert_null(envelope_pack(&src, &hdr, &ping.base, &len));
}

Test(envelope, garbage_is_malformed)
{
	static const unsigned char junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02 };
	struct envelope_view view;

	cr_assert_eq(envelope_open(junk, sizeof(junk), &view), ENVELOPE_MALFORMED);
	cr_assert_null(view.env);
	cr_assert(strstr(view.detail, "malformed envelope") != NULL);
	envelope_close(&view);
}

static size_t
pack_raw_envelope(int type, const void *payload, size_t payload_len, unsigned char *out)
{
	Picsec__V1__Envelope env = PICSEC__V1__ENVELOPE__INIT;

	env.type = (Picsec__V1__MsgType)type;
	env.req_id = 1;
	env.payload.data = (uint8_t *)(uintptr_t)payload;
	env.payload.len = payload_len;
	return picsec__v1__envelope__pack(&env, out);
}

Test(envelope, unknown_type_and_truncated_payload_are_told_apart)
{
	/* Field 1 (token), varint, but the value is cut off. */
	static const unsigned char truncated[] = { 0x08, 0xff };
	unsigned char buf[128];
	struct envelope_view view;
	size_t len;

	len = pack_raw_envelope(4242, "", 0, buf);
	cr_assert_eq(envelope_open(buf, len, &view), ENVELOPE_UNKNOWN_TYPE);
	cr_assert(strstr(view.detail, "unknown message type 4242") != NULL, "%s", view.detail);
	envelope_close(&view);

	len = pack_raw_envelope(MT(PING), truncated, sizeof(truncated), buf);
	cr_assert_eq(envelope_open(buf, len, &view), ENVELOPE_BAD_PAYLOAD);
	cr_assert(strstr(view.detail, "malformed Ping payload") != NULL, "%s", view.detail);
	envelope_close(&view);
}

/* Every value of MsgType has a message in the catalogue, named after it:
 * MT_SERVICE_HELLO carries ServiceHello. */
Test(catalog, every_type_has_its_message)
{
	const ProtobufCEnumDescriptor *ed = &picsec__v1__msg_type__descriptor;
	unsigned i;

	for (i = 0; i < ed->n_values; i++) {
		const ProtobufCEnumValue *v = &ed->values[i];
		const ProtobufCMessageDescriptor *d = catalog_descriptor(v->value);
		char camel[128];
		const char *p;
		size_t n = 0;
		bool upper = true;

		if (v->value == MT(NONE)) {
			cr_assert_null(d);
			continue;
		}
		cr_assert_not_null(d, "%s has no message in ipc/catalog.c", v->name);
		cr_assert_lt(v->value, catalog_type_limit());
		for (p = v->name + 3; *p != '\0' && n + 1 < sizeof(camel); p++) {
			if (*p == '_') {
				upper = true;
				continue;
			}
			camel[n++] = upper ? *p : (char)(*p - 'A' + 'a');
			upper = false;
		}
		camel[n] = '\0';
		cr_assert_str_eq(d->short_name, camel, "%s should carry %s", v->name, camel);
		cr_assert_eq(catalog_type_by_name(d->short_name), v->value);
		cr_assert_eq(catalog_type_by_name(d->name), v->value);
		cr_assert_eq(catalog_type_by_name(v->name), v->value);
		if (catalog_reply_type(v->value) != MT(NONE))
			cr_assert_not_null(catalog_descriptor(catalog_reply_type(v->value)),
			    "%s answers with a type the catalogue lacks", v->name);
	}
	cr_assert_eq(catalog_reply_type(MT(PING)), MT(PONG));
	cr_assert_eq(catalog_reply_type(MT(HEARTBEAT)), MT(NONE), "an event is no request");
	cr_assert_eq(catalog_type_by_name("NoSuchMessage"), MT(NONE));
	cr_assert_null(catalog_descriptor(-1));
	cr_assert_null(catalog_descriptor(catalog_type_limit()));
	cr_assert_str_eq(errcode_name(ERRC(NOT_FOUND)), "E_NOT_FOUND");
	cr_assert_str_eq(errcode_name(999), "E_?");
}
