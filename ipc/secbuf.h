/* Buffers for key material: guarded, locked where the system allows, wiped when freed.
 * Also the protobuf-c allocator that wipes every unpacked message on free, so keys that
 * arrive in a Secret never linger in freed heap. */
#ifndef PICSEC_SECBUF_H
#define PICSEC_SECBUF_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct secbuf;

/* A zero-filled secret of len bytes (len may be 0); NULL with errno ENOMEM. */
struct secbuf *secbuf_new(size_t len);
/* A secret holding a copy of len bytes at data. */
struct secbuf *secbuf_copy(const void *data, size_t len);
unsigned char *secbuf_data(struct secbuf *sb);
const unsigned char *secbuf_cdata(const struct secbuf *sb);
size_t secbuf_len(const struct secbuf *sb);
/* Wipes and frees; NULL is fine. */
void secbuf_free(struct secbuf *sb);

/* Wipes len bytes at p in a way the compiler cannot elide. */
void secure_wipe(void *p, size_t len);

/* malloc/free for protobuf-c that remembers each block's size and wipes it on free. */
extern ProtobufCAllocator wiping_allocator;

/* Allocates len bytes that wiping_free() wipes before freeing (for packed messages). */
void *wiping_alloc(size_t len);
void wiping_free(void *p);

#endif
