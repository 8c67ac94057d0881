/* The message catalogue: which protobuf message each MsgType carries. busd, busmon and the
 * dispatcher all decode through this one table, so a new message is added in one place. */
#ifndef PICSEC_CATALOG_H
#define PICSEC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "envelope.pb-c.h"

/* MT(PING) reads better than PICSEC__V1__MSG_TYPE__MT_PING and greps to the same enum. */
#define MT(name) PICSEC__V1__MSG_TYPE__MT_##name
#define ERRC(name) PICSEC__V1__ERROR_CODE__E_##name

typedef Picsec__V1__MsgType msgtype_t;
typedef Picsec__V1__ErrorCode errcode_t;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The payload descriptor of a type, or NULL for MT_NONE and values not in the catalogue. */
const ProtobufCMessageDescriptor *catalog_descriptor(int type);
/* For a request type, the type of its typed answer; MT_NONE for anything that is not a
 * request (bus_request() refuses those). */
int catalog_reply_type(int type);
/* "ServiceHello" for MT_SERVICE_HELLO; "MsgType(<n>)"-style names are not returned: NULL. */
const char *catalog_type_name(int type);
/* The type whose message is named `name` (short "Ping", full "picsec.v1.Ping", or the enum
 * name "MT_PING"); MT_NONE when there is none. */
int catalog_type_by_name(const char *name);
/* Whether a message of this type can hold a Secret anywhere inside it (found by walking the
 * descriptors): only those are unpacked into memory that is wiped. Unknown types count as
 * secret: their bytes are not ours to judge. */
bool catalog_carries_secret(int type);
/* The same for any message descriptor. */
bool catalog_descriptor_holds_secret(const ProtobufCMessageDescriptor *desc);
/* One past the largest MsgType value: the size a handler table indexed by type needs. */
int catalog_type_limit(void);
/* "E_NOT_FOUND" and so on; "E_?" for values outside the enum. */
const char *errcode_name(int code);

#endif
