/* A growable string for building output. Allocation failure is sticky and reported by
 * strbuf_failed(), so callers append freely and check once. */
#ifndef PICSEC_STRBUF_H
#define PICSEC_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
};

#define STRBUF_INIT { NULL, 0, 0, false }

void strbuf_add(struct strbuf *sb, const char *s, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far, never NULL. */
const char *strbuf_str(const struct strbuf *sb);
size_t strbuf_len(const struct strbuf *sb);
bool strbuf_failed(const struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

#endif
