/* Packing and opening the Envelope of every bus frame. Opening validates before it parses:
 * the envelope, then the type against the catalogue, then the payload with that type's
 * descriptor. Everything is unpacked into memory that is wiped when closed. */
#ifndef PICSEC_ENVELOPE_H
#define PICSEC_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "envelope.pb-c.h"

struct env_source {
	const char *service;
	const char *instance; /* may be NULL */
	uint64_t incarnation;
};

struct env_header {
	int type;
	uint64_t seq;
	uint64_t req_id;
	uint64_t refer_id;
};

/* Packs payload (whose descriptor must be the catalogue's for hdr->type) into a fresh buffer
 * from wiping_alloc(). Returns the buffer and sets *len, or NULL with errno (EINVAL for a
 * payload that does not match the type). */
void *envelope_pack(const struct env_source *src, const struct env_header *hdr,
    const ProtobufCMessage *payload, size_t *len);

enum envelope_status {
	ENVELOPE_OK = 0,
	ENVELOPE_MALFORMED,	/* the bytes are not an Envelope */
	ENVELOPE_UNKNOWN_TYPE,	/* a type this build has no message for */
	ENVELOPE_BAD_PAYLOAD,	/* the payload does not decode as its type */
};

struct envelope_view {
	Picsec__V1__Envelope *env; /* NULL when MALFORMED */
	ProtobufCMessage *payload; /* NULL unless OK */
	enum envelope_status status;
	bool secret;		   /* may hold key material: wiped when closed */
	char detail[160];	   /* why it is not OK, for logs and Error replies */
};

/* Opens data into view; always returns view->status. envelope_close() after, whatever it
 * returned. The payload of a type that can carry a Secret (catalog_carries_secret) is
 * unpacked into memory that is wiped when freed; view->secret says so, and then the caller
 * wipes its copy of the bytes too. */
enum envelope_status envelope_open(const void *data, size_t len, struct envelope_view *view);
void envelope_close(struct envelope_view *view);

/* A deep copy of msg in wiped memory (free with protobuf_c_message_free_unpacked and
 * &wiping_allocator), or NULL. */
ProtobufCMessage *pb_message_dup(const ProtobufCMessage *msg);

/* Nanoseconds of CLOCK_REALTIME, for timestamps on the wire. */
uint64_t realtime_ns(void);
/* Milliseconds of CLOCK_MONOTONIC, for uptimes and deadlines. */
uint64_t monotonic_ms(void);
/* Nanoseconds of CLOCK_MONOTONIC, for measuring. */
uint64_t monotonic_ns(void);

#endif
