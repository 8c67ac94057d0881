#include "envelope.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "secbuf.h"

uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t
monotonic_ms(void)
{
	return monotonic_ns() / 1000000ULL;
}

void *
envelope_pack(const struct env_source *src, const struct env_header *hdr,
    const ProtobufCMessage *payload, size_t *len)
{
	Picsec__V1__Envelope env = PICSEC__V1__ENVELOPE__INIT;
	const ProtobufCMessageDescriptor *desc = catalog_descriptor(hdr->type);
	uint8_t *body = NULL, *out = NULL;
	size_t body_len;

	if (desc == NULL || payload == NULL || payload->descriptor != desc) {
		errno = EINVAL;
		return NULL;
	}
	body_len = protobuf_c_message_get_packed_size(payload);
	body = wiping_alloc(body_len > 0 ? body_len : 1);
	if (body == NULL)
		goto out;
	protobuf_c_message_pack(payload, body);

	env.type = (Picsec__V1__MsgType)hdr->type;
	/* protobuf-c's string fields are char *; the packer only reads them. */
	env.service = (char *)(uintptr_t)(src->service != NULL ? src->service : "");
	env.instance = (char *)(uintptr_t)(src->instance != NULL ? src->instance : "");
	env.incarnation = src->incarnation;
	env.seq = hdr->seq;
	env.req_id = hdr->req_id;
	env.refer_id = hdr->refer_id;
	env.timestamp_ns = realtime_ns();
	env.payload.data = body;
	env.payload.len = body_len;

	*len = protobuf_c_message_get_packed_size(&env.base);
	out = wiping_alloc(*len > 0 ? *len : 1);
	if (out != NULL)
		protobuf_c_message_pack(&env.base, out);
out:
	if (body != NULL)
		wiping_free(body);
	return out;
}

static ProtobufCAllocator *
envelope_allocator(const struct envelope_view *view)
{
	/* NULL is protobuf-c's plain malloc/free. */
	return view->secret ? &wiping_allocator : NULL;
}

enum envelope_status
envelope_open(const void *data, size_t len, struct envelope_view *view)
{
	const ProtobufCMessageDescriptor *desc;
	Picsec__V1__Envelope *env;

	memset(view, 0, sizeof(*view));
	/* Until the type is known, assume the bytes are secret. */
	view->secret = true;
	env = picsec__v1__envelope__unpack(NULL, len, data);
	if (env == NULL) {
		view->status = ENVELOPE_MALFORMED;
		snprintf(view->detail, sizeof(view->detail),
		    "malformed envelope (%zu bytes do not decode)", len);
		return view->status;
	}
	view->env = env;
	view->secret = catalog_carries_secret((int)env->type);
	desc = catalog_descriptor((int)env->type);
	if (desc == NULL) {
		view->status = ENVELOPE_UNKNOWN_TYPE;
		snprintf(view->detail, sizeof(view->detail), "unknown message type %d",
		    (int)env->type);
		return view->status;
	}
	view->payload = protobuf_c_message_unpack(desc, envelope_allocator(view),
	    env->payload.len, env->payload.data);
	if (view->payload == NULL) {
		view->status = ENVELOPE_BAD_PAYLOAD;
		snprintf(view->detail, sizeof(view->detail),
		    "malformed %s payload (%zu bytes do not decode)", desc->short_name,
		    env->payload.len);
		return view->status;
	}
	view->status = ENVELOPE_OK;
	return view->status;
}

void
envelope_close(struct envelope_view *view)
{
	if (view->payload != NULL)
		protobuf_c_message_free_unpacked(view->payload, envelope_allocator(view));
	if (view->env != NULL) {
		if (view->secret)
			secure_wipe(view->env->payload.data, view->env->payload.len);
		picsec__v1__envelope__free_unpacked(view->env, NULL);
	}
	view->payload = NULL;
	view->env = NULL;
}

ProtobufCMessage *
pb_message_dup(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = wiping_alloc(len > 0 ? len : 1);
	ProtobufCMessage *copy;

	if (buf == NULL)
		return NULL;
	protobuf_c_message_pack(msg, buf);
	copy = protobuf_c_message_unpack(msg->descriptor, &wiping_allocator, len, buf);
	wiping_free(buf);
	return copy;
}
