#include "cfg_diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_tree.h"

static char *
cfg_diag_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
cfg_diag_push(struct cfg_diags *d, enum cfg_severity sev, const char *path,
    const char *statement, const struct cfg_loc *loc, const char *message)
{
	struct cfg_diag *grown, *it;

	/* Counted first: an error whose text cannot be kept still fails the check. */
	if (sev == CFG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->count == d->cap) {
		grown = realloc(d->items, (d->cap > 0 ? d->cap * 2 : 8) * sizeof(*grown));
		if (grown == NULL)
			return;
		d->items = grown;
		d->cap = d->cap > 0 ? d->cap * 2 : 8;
	}
	it = &d->items[d->count++];
	memset(it, 0, sizeof(*it));
	it->severity = sev;
	it->path = cfg_diag_strdup(path != NULL ? path : "");
	it->statement = cfg_diag_strdup(statement);
	it->message = cfg_diag_strdup(message);
	if (loc != NULL && loc->file != NULL) {
		it->file = cfg_diag_strdup(loc->file);
		it->line = loc->line;
		it->col = loc->col;
	}
}

void
cfg_diag_node(struct cfg_diags *d, enum cfg_severity sev, const struct cfg_node *n,
    const char *fmt, ...)
{
	char path[2048], stmt[512], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_node_path(n->parent, path, sizeof(path));
	cfg_node_statement(n, stmt, sizeof(stmt));
	cfg_diag_push(d, sev, path, stmt, &n->loc, msg);
}

void
cfg_diag_at(struct cfg_diags *d, enum cfg_severity sev, const char *path,
    const char *statement, const struct cfg_loc *loc, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_diag_push(d, sev, path, statement, loc, msg);
}

void
cfg_diags_format(const struct cfg_diags *d, struct strbuf *out, const char *footer)
{
	const struct cfg_diag *it, *prev = NULL;
	size_t i;

	for (i = 0; i < d->count; i++) {
		it = &d->items[i];
		/* One banner for a run of messages about the same place. */
		if (prev == NULL || strcmp(prev->path, it->path) != 0)
			strbuf_addf(out, "[edit%s%s]\n", it->path[0] != '\0' ? " " : "", it->path);
		if (it->statement != NULL && (prev == NULL || prev->statement == NULL ||
		    strcmp(prev->path, it->path) != 0 || strcmp(prev->statement, it->statement) != 0))
			strbuf_addf(out, "  '%s'\n", it->statement);
		strbuf_adds(out, "    ");
		if (it->file != NULL)
			strbuf_addf(out, "%s:%u:%u: ", it->file, it->line, it->col);
		strbuf_addf(out, "%s: %s\n", it->severity == CFG_ERROR ? "error" : "warning",
		    it->message);
		prev = it;
	}
	if (footer != NULL && d->errors > 0)
		strbuf_addf(out, "error: %s\n", footer);
}

void
cfg_diags_free(struct cfg_diags *d)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		free(d->items[i].path);
		free(d->items[i].statement);
		free(d->items[i].message);
		free(d->items[i].file);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}
