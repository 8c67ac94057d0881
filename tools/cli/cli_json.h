/* A JSON writer just big enough for the show commands' objects: two-space indentation,
 * strings escaped by pbprint (service set, rule and term names come from the
 * configuration). Keys in Junos' XML element names are the callers' business. */
#ifndef PICSEC_CLI_JSON_H
#define PICSEC_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "strbuf.h"

struct jw {
	struct strbuf *out;
	unsigned depth;
	bool first;		/* nothing in the current object or array yet */
};

/* Opens an object ('{') or array ('['), under key (NULL inside an array or at the top). */
void jw_open(struct jw *j, const char *key, char bracket);
/* Closes it ('}' or ']'); the outermost one ends with a newline. */
void jw_close(struct jw *j, char bracket);
void jw_str(struct jw *j, const char *key, const char *s);
void jw_u64(struct jw *j, const char *key, uint64_t v);
void jw_bool(struct jw *j, const char *key, bool v);

#endif
