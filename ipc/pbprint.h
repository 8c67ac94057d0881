/* Prints any protobuf-c message from its descriptor alone: no printing code per type.
 * Every Secret (and the bytes inside it) prints as <redacted> unless show_secrets is set.
 *
 * Two naming conventions make values readable without per-type code: a fixed64 field whose
 * name ends in "_ns" is a CLOCK_REALTIME timestamp (shown as UTC time except in JSON), and a
 * field whose name ends in "incarnation" is shown in hex. */
#ifndef PICSEC_PBPRINT_H
#define PICSEC_PBPRINT_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "strbuf.h"

enum pbprint_style {
	PBPRINT_LINE,	 /* field=value ... on one line; default values left out */
	PBPRINT_VERBOSE, /* protobuf text format, one field per line, every field */
	PBPRINT_JSON,	 /* one JSON object (proto3 mapping: 64-bit as strings, bytes base64) */
};

struct pbprint_opts {
	enum pbprint_style style;
	bool show_secrets;
	unsigned indent; /* VERBOSE: the starting indentation level */
};

void pbprint(struct strbuf *out, const ProtobufCMessage *msg, const struct pbprint_opts *opts);
/* Appends s as a JSON string literal (quoted, escaped, invalid UTF-8 replaced). */
void pbprint_json_string(struct strbuf *out, const char *s, size_t len);
/* Appends an ISO-8601 UTC time with microseconds for a CLOCK_REALTIME nanosecond value. */
void pbprint_time_ns(struct strbuf *out, unsigned long long ns);

#endif
