#include "pbprint.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

enum { PBPRINT_LINE_BYTES = 32, PBPRINT_MAX_DEPTH = 32 };

static const char pbprint_secret_type[] = "picsec.v1.Secret";

static void pbprint_message(struct strbuf *out, const ProtobufCMessage *msg,
    const struct pbprint_opts *o, unsigned depth);

static bool
pbprint_is_secret(const ProtobufCMessageDescriptor *desc)
{
	return desc != NULL && strcmp(desc->name, pbprint_secret_type) == 0;
}

static bool
pbprint_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static size_t
pbprint_elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* Whether a singular value equals its type's zero value (proto3 leaves those out). */
static bool
pbprint_is_default(const ProtobufCFieldDescriptor *fd, const void *v)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)v;

		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)v)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)v == NULL;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)v == 0.0f;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)v == 0.0;
	default:
		break;
	}
	switch (pbprint_elem_size(fd->type)) {
	case 4:
		return *(const uint32_t *)v == 0;
	case 8:
		return *(const uint64_t *)v == 0;
	default:
		return *(const protobuf_c_boolean *)v == 0;
	}
}

void
pbprint_time_ns(struct strbuf *out, unsigned long long ns)
{
	time_t secs = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char when[32];

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		strbuf_addf(out, "%llu", ns);
		return;
	}
	strbuf_addf(out, "%s.%06lluZ", when, (ns % 1000000000ULL) / 1000ULL);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t
pbprint_utf8_len(const unsigned char *s, size_t left)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
pbprint_json_string(struct strbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	strbuf_addc(out, '"');
	while (i < len) {
		if (p[i] == '"' || p[i] == '\\') {
			strbuf_addc(out, '\\');
			strbuf_addc(out, (char)p[i]);
			i++;
		} else if (p[i] == '\n') {
			strbuf_adds(out, "\\n");
			i++;
		} else if (p[i] == '\t') {
			strbuf_adds(out, "\\t");
			i++;
		} else if (p[i] == '\r') {
			strbuf_adds(out, "\\r");
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			strbuf_addf(out, "\\u%04x", p[i]);
			i++;
		} else if ((n = pbprint_utf8_len(p + i, len - i)) > 0) {
			strbuf_add(out, s + i, n);
			i += n;
		} else {
			strbuf_adds(out, "\\ufffd");
			i++;
		}
	}
	strbuf_addc(out, '"');
}

static void
pbprint_bytes(struct strbuf *out, const ProtobufCBinaryData *b, const struct pbprint_opts *o)
{
	size_t i, shown = b->len;
	char *b64;
	size_t b64len;

	if (o->style == PBPRINT_JSON) {
		b64len = sodium_base64_ENCODED_LEN(b->len, sodium_base64_VARIANT_ORIGINAL);
		b64 = malloc(b64len);
		if (b64 == NULL) {
			strbuf_adds(out, "\"\"");
			return;
		}
		sodium_bin2base64(b64, b64len, b->data, b->len, sodium_base64_VARIANT_ORIGINAL);
		strbuf_addf(out, "\"%s\"", b64);
		free(b64);
		return;
	}
	if (o->style == PBPRINT_LINE && shown > PBPRINT_LINE_BYTES)
		shown = PBPRINT_LINE_BYTES;
	strbuf_adds(out, "0x");
	for (i = 0; i < shown; i++)
		strbuf_addf(out, "%02x", b->data[i]);
	if (shown < b->len)
		strbuf_addf(out, "...(%zu bytes)", b->len);
}

static void
pbprint_scalar(struct strbuf *out, const ProtobufCFieldDescriptor *fd, const void *v,
    const struct pbprint_opts *o, unsigned depth)
{
	bool json = o->style == PBPRINT_JSON;
	const ProtobufCEnumValue *ev;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		strbuf_addf(out, "%" PRId32, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		strbuf_addf(out, "%" PRIu32, *(const uint32_t *)v);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		strbuf_addf(out, json ? "\"%" PRId64 "\"" : "%" PRId64, *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (pbprint_ends_with(fd->name, "incarnation"))
			strbuf_addf(out, json ? "\"%016" PRIx64 "\"" : "%016" PRIx64,
			    *(const uint64_t *)v);
		else if (!json && fd->type == PROTOBUF_C_TYPE_FIXED64 &&
		    pbprint_ends_with(fd->name, "_ns") && *(const uint64_t *)v != 0)
			pbprint_time_ns(out, *(const uint64_t *)v);
		else
			strbuf_addf(out, json ? "\"%" PRIu64 "\"" : "%" PRIu64,
			    *(const uint64_t *)v);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		strbuf_addf(out, "%g", (double)*(const float *)v);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		strbuf_addf(out, "%g", *(const double *)v);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		strbuf_adds(out, *(const protobuf_c_boolean *)v ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)v);
		if (ev != NULL)
			strbuf_addf(out, json ? "\"%s\"" : "%s", ev->name);
		else
			strbuf_addf(out, "%d", *(const int *)v);
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)v;

		if (s == NULL)
			s = "";
		pbprint_json_string(out, s, strlen(s));
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		pbprint_bytes(out, v, o);
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)v;

		if (m == NULL)
			strbuf_adds(out, json ? "null" : "{}");
		else if (pbprint_is_secret(m->descriptor) && !o->show_secrets)
			strbuf_adds(out, json ? "\"<redacted>\"" : "<redacted>");
		else
			pbprint_message(out, m, o, depth + 1);
		break;
	}
	}
}

/* Whether fd has a value to show in msg, and how many (1 for singular fields). */
static size_t
pbprint_field_count(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
    const struct pbprint_opts *o)
{
	const char *base = (const char *)msg;
	const void *v = base + fd->offset;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + fd->quantifier_offset);
	if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0)
		return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id ? 1 : 0;
	if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset != 0 &&
	    fd->type != PROTOBUF_C_TYPE_MESSAGE && fd->type != PROTOBUF_C_TYPE_STRING)
		return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) ? 1 : 0;
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage *const *)v == NULL)
		return 0;
	if (o->style != PBPRINT_VERBOSE && fd->label == PROTOBUF_C_LABEL_NONE &&
	    pbprint_is_default(fd, v))
		return 0;
	return 1;
}

static void
pbprint_indent(struct strbuf *out, unsigned level)
{
	unsigned i;

	for (i = 0; i < level; i++)
		strbuf_adds(out, "  ");
}

static void
pbprint_message(struct strbuf *out, const ProtobufCMessage *msg, const struct pbprint_opts *o,
    unsigned depth)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	const ProtobufCFieldDescriptor *fd;
	const char *base = (const char *)msg;
	const char *elems;
	unsigned level = o->indent + depth;
	bool first = true;
	size_t f, i, count;

	if (depth > PBPRINT_MAX_DEPTH) {
		strbuf_adds(out, o->style == PBPRINT_JSON ? "null" : "...");
		return;
	}
	if (pbprint_is_secret(desc) && !o->show_secrets) {
		strbuf_adds(out, o->style == PBPRINT_JSON ? "\"<redacted>\"" : "<redacted>");
		return;
	}
	strbuf_addc(out, '{');
	if (o->style == PBPRINT_VERBOSE)
		strbuf_addc(out, '\n');
	for (f = 0; f < desc->n_fields; f++) {
		fd = &desc->fields[f];
		count = pbprint_field_count(msg, fd, o);
		if (count == 0 && !(o->style == PBPRINT_VERBOSE &&
		    fd->label == PROTOBUF_C_LABEL_REPEATED))
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED)
			elems = *(const char *const *)(base + fd->offset);
		else
			elems = base + fd->offset;

		switch (o->style) {
		case PBPRINT_LINE:
			strbuf_addf(out, "%s%s=", first ? "" : " ", fd->name);
			break;
		case PBPRINT_JSON:
			strbuf_addf(out, "%s\"%s\":", first ? "" : ",", fd->name);
			break;
		case PBPRINT_VERBOSE:
			pbprint_indent(out, level + 1);
			strbuf_addf(out, "%s: ", fd->name);
			break;
		}
		first = false;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			strbuf_addc(out, '[');
			for (i = 0; i < count; i++) {
				if (i > 0)
					strbuf_adds(out, o->style == PBPRINT_JSON ? "," : ", ");
				pbprint_scalar(out, fd, elems + i * pbprint_elem_size(fd->type), o,
				    depth);
			}
			strbuf_addc(out, ']');
		} else {
			pbprint_scalar(out, fd, elems, o, depth);
		}
		if (o->style == PBPRINT_VERBOSE)
			strbuf_addc(out, '\n');
	}
	if (o->style == PBPRINT_VERBOSE)
		pbprint_indent(out, level);
	strbuf_addc(out, '}');
}

void
pbprint(struct strbuf *out, const ProtobufCMessage *msg, const struct pbprint_opts *opts)
{
	pbprint_message(out, msg, opts, 0);
}
