#include "secbuf.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct secbuf {
	size_t len;
	/* Ordinary heap memory, wiped on free. Not sodium_malloc: its guard pages cost an
	 * mprotect and a TLB shootdown of every other CPU per allocation and release, which
	 * was most of the CPU per negotiated SA (docs/architecture.md §2.8). */
	unsigned char *data;
};

static int
secbuf_sodium_ready(void)
{
	/* sodium_init() is idempotent and thread-safe; 1 means "already initialised". */
	return sodium_init() < 0 ? -1 : 0;
}

struct secbuf *
secbuf_new(size_t len)
{
	struct secbuf *sb;

	if (secbuf_sodium_ready() == -1) {
		errno = ENOSYS;
		return NULL;
	}
	sb = calloc(1, sizeof(*sb));
	if (sb == NULL)
		return NULL;
	sb->data = malloc(len > 0 ? len : 1);
	if (sb->data == NULL) {
		free(sb);
		errno = ENOMEM;
		return NULL;
	}
	sodium_memzero(sb->data, len > 0 ? len : 1);
	sb->len = len;
	return sb;
}

struct secbuf *
secbuf_copy(const void *data, size_t len)
{
	struct secbuf *sb = secbuf_new(len);

	if (sb != NULL && len > 0)
		memcpy(sb->data, data, len);
	return sb;
}

unsigned char *
secbuf_data(struct secbuf *sb)
{
	return sb->data;
}

const unsigned char *
secbuf_cdata(const struct secbuf *sb)
{
	return sb->data;
}

size_t
secbuf_len(const struct secbuf *sb)
{
	return sb->len;
}

void
secbuf_free(struct secbuf *sb)
{
	int saved_errno = errno;

	if (sb == NULL)
		return;
	sodium_memzero(sb->data, sb->len > 0 ? sb->len : 1);
	free(sb->data);
	sodium_memzero(sb, sizeof(*sb));
	free(sb);
	errno = saved_errno;
}

void
secure_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		sodium_memzero(p, len);
}

/* Each block carries its length in a header aligned for any object protobuf-c places. */
union wiping_header {
	size_t len;
	max_align_t align;
};

void *
wiping_alloc(size_t len)
{
	union wiping_header *h;

	if (len > SIZE_MAX - sizeof(*h))
		return NULL;
	h = malloc(sizeof(*h) + len);
	if (h == NULL)
		return NULL;
	h->len = len;
	return h + 1;
}

void
wiping_free(void *p)
{
	union wiping_header *h;

	if (p == NULL)
		return;
	h = (union wiping_header *)p - 1;
	sodium_memzero(p, h->len);
	free(h);
}

static void *
wiping_pb_alloc(void *data, size_t len)
{
	(void)data;
	return wiping_alloc(len);
}

static void
wiping_pb_free(void *data, void *p)
{
	(void)data;
	wiping_free(p);
}

ProtobufCAllocator wiping_allocator = {
	.alloc = wiping_pb_alloc,
	.free = wiping_pb_free,
	.allocator_data = NULL,
};
