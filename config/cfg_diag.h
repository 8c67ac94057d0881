/* Errors and warnings about a configuration, printed the way Junos prints them:
 *
 *   [edit services ipsec-vpn rule r1 term t1 then manual direction bidirectional]
 *     'spi 17000'
 *       site.conf:12:21: error: value 17000 is outside the range 256..16639
 *   error: configuration check-out failed
 */
#ifndef PICSEC_CFG_DIAG_H
#define PICSEC_CFG_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

struct cfg_loc;
struct cfg_node;

enum cfg_severity {
	CFG_WARNING,
	CFG_ERROR,
};

struct cfg_diag {
	enum cfg_severity severity;
	char *path;	 /* the [edit ...] banner's words, "" at the top */
	char *statement; /* the offending statement, or NULL */
	char *message;
	char *file;	 /* where it was read, or NULL */
	unsigned line, col;
};

struct cfg_diags {
	struct cfg_diag *items;
	size_t count, cap;
	size_t errors, warnings;
};

#define CFG_DIAGS_INIT { NULL, 0, 0, 0, 0 }

/* About node n: its parent's path is the banner, n's statement the quoted line. */
void cfg_diag_node(struct cfg_diags *d, enum cfg_severity sev, const struct cfg_node *n,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* About a statement that did not make it into a tree (a syntax error). */
void cfg_diag_at(struct cfg_diags *d, enum cfg_severity sev, const char *path,
    const char *statement, const struct cfg_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Appends the report; with footer and errors present, the last line says what failed
 * ("configuration check-out failed", "load failed"). */
void cfg_diags_format(const struct cfg_diags *d, struct strbuf *out, const char *footer);
void cfg_diags_free(struct cfg_diags *d);

#endif
