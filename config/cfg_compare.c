/* `show | compare`: the differences between two configurations in Junos' layout. */
#include "config.h"
#include "cfg_display.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* `show | compare`, depth first in schema order as Junos prints it: each level's changes
 * under its [edit ...] banner (again after a deeper level's), statements shown one level in
 * with their sign in the first column: + added, - removed, ! activation changed. */
struct compare {
	struct strbuf *out;
	const struct cfg_node *banner; /* the level whose banner was printed last */
};

static void
cmp_banner(struct compare *c, const struct cfg_node *level)
{
	char path[4096];

	if (c->banner == level)
		return;
	cfg_node_path(level, path, sizeof(path));
	strbuf_addf(c->out, "[edit%s%s]\n", path[0] != '\0' ? " " : "", path);
	c->banner = level;
}

/* Prefixes every line of text with sign. */
static void
cmp_sign(struct compare *c, const struct strbuf *text, char sign)
{
	const char *line, *nl;

	for (line = strbuf_str(text); (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		strbuf_addc(c->out, sign);
		strbuf_add(c->out, line, (size_t)(nl - line) + 1);
	}
}

/* The statements from first up to end, as displayed, under sign. */
static void
cmp_run_lines(struct compare *c, const struct cfg_node *level, const struct cfg_node *first,
    const struct cfg_node *end, char sign)
{
	struct strbuf text = STRBUF_INIT;

	cmp_banner(c, level);
	disp_run(&text, first, end, 1);
	cmp_sign(c, &text, sign);
	strbuf_release(&text);
}

static void
cmp_lines(struct compare *c, const struct cfg_node *level, const struct cfg_node *n, char sign)
{
	cmp_run_lines(c, level, n, n->next, sign);
}

/* A statement's first line with its block elided: "rule r1 { ... }", "tunnel-mtu 1400;". */
static void
cmp_head(struct strbuf *out, const struct cfg_node *n)
{
	bool secret = disp_head(out, n);
	bool block = n->first != NULL && !(n->schema->flags & CFG_F_INLINE);

	strbuf_adds(out, block ? " { ... }\n" : secret ? "; ## SECRET-DATA\n" : ";\n");
}

/* Same statement, different mark or annotation: say so without repeating its contents. */
static void
cmp_marks(struct compare *c, const struct cfg_node *level, const struct cfg_node *o,
    const struct cfg_node *n)
{
	bool annotation_changed = (o->annotation == NULL) != (n->annotation == NULL) ||
	    (o->annotation != NULL && strcmp(o->annotation, n->annotation) != 0);

	if (!annotation_changed && o->inactive == n->inactive)
		return;
	cmp_banner(c, level);
	if (annotation_changed) {
		if (o->annotation != NULL)
			strbuf_addf(c->out, "-    /* %s */\n", o->annotation);
		if (n->annotation != NULL)
			strbuf_addf(c->out, "+    /* %s */\n", n->annotation);
	}
	strbuf_adds(c->out, o->inactive != n->inactive ? "!    " : "     ");
	if (o->inactive != n->inactive)
		strbuf_adds(c->out, n->inactive ? "inactive: " : "active: ");
	cmp_head(c->out, n);
}

/* Whether n's own line says something else in o: a leaf's value, or an inline option. */
static bool
cmp_line_differs(const struct cfg_node *o, const struct cfg_node *n)
{
	if (n->schema->kind == CFG_LEAF && strcmp(o->value, n->value) != 0)
		return true;
	return (n->schema->flags & CFG_F_INLINE) && !cfg_node_equal(o, n);
}

/* The entry of the run first..end with n's name, and its index in *at; hint (at index
 * hint_at) is tried first, as most runs come in the same order on both sides. */
static const struct cfg_node *
cmp_find(const struct cfg_node *first, const struct cfg_node *end, const struct cfg_node *hint,
    size_t hint_at, const struct cfg_node *n, size_t *at)
{
	const struct cfg_node *o;
	size_t i = 0;

	if (n->value == NULL) {
		*at = 0;
		return first != end ? first : NULL;
	}
	if (hint != NULL && hint != end && strcmp(hint->value, n->value) == 0) {
		*at = hint_at;
		return hint;
	}
	for (o = first; o != end; o = o->next, i++) {
		if (strcmp(o->value, n->value) == 0) {
			*at = i;
			return o;
		}
	}
	return NULL;
}

static bool
cmp_runs_equal(const struct cfg_node *o, const struct cfg_node *oend, const struct cfg_node *n,
    const struct cfg_node *nend)
{
	for (; o != oend && n != nend; o = o->next, n = n->next) {
		if (!cfg_node_equal(o, n))
			return false;
	}
	return o == oend && n == nend;
}

/* Which entries kept their order: the longest run of new entries whose old positions
 * increase (patience sorting) stays; the others moved. old_at[i] is entry i's old position
 * or SIZE_MAX when it is new. Fills stays[]; false when out of memory. */
static bool
cmp_order(const size_t *old_at, size_t n, bool *stays)
{
	size_t *tail = malloc((n + 1) * sizeof(*tail)), *prev = malloc(n * sizeof(*prev));
	size_t len = 0, lo, hi, mid, i, k;
	bool ok = tail != NULL && prev != NULL;

	for (i = 0; ok && i < n; i++) {
		stays[i] = false;
		if (old_at[i] == SIZE_MAX)
			continue;
		for (lo = 0, hi = len; lo < hi;) {
			mid = (lo + hi) / 2;
			if (old_at[tail[mid]] < old_at[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo > 0 ? tail[lo - 1] : SIZE_MAX;
		tail[lo] = i;
		if (lo == len)
			len++;
	}
	for (k = len > 0 ? tail[len - 1] : SIZE_MAX; ok && k != SIZE_MAX; k = prev[k])
		stays[k] = true;
	free(tail);
	free(prev);
	return ok;
}

static void cmp_level(struct compare *c, const struct cfg_node *old_level,
    const struct cfg_node *new_level);

/* The statements of one schema node at one level: old ofirst..oend, new nfirst..nend. */
static void
cmp_run(struct compare *c, const struct cfg_node *new_level, const struct cfg_node *ofirst,
    const struct cfg_node *oend, const struct cfg_node *nfirst, const struct cfg_node *nend)
{
	const struct cfg_node *o, *n, *hint;
	size_t count = 0, i, at, hint_at;
	size_t *old_at = NULL;
	bool *stays = NULL;

	if (cmp_runs_equal(ofirst, oend, nfirst, nend))
		return;
	/* A leaf-list is one statement: its values in their order. */
	if ((nfirst != nend ? nfirst : ofirst)->schema->kind == CFG_LEAFLIST) {
		if (ofirst != oend)
			cmp_run_lines(c, new_level, ofirst, oend, '-');
		if (nfirst != nend)
			cmp_run_lines(c, new_level, nfirst, nend, '+');
		return;
	}
	for (o = ofirst, hint = nfirst, hint_at = 0; o != oend; o = o->next) {
		n = cmp_find(nfirst, nend, hint, hint_at, o, &at);
		if (n == NULL)
			cmp_lines(c, new_level, o, '-');
		else
			hint = n->next, hint_at = at + 1;
	}
	for (n = nfirst; n != nend; n = n->next)
		count++;
	old_at = malloc(count * sizeof(*old_at) + 1);
	stays = malloc(count * sizeof(*stays) + 1);
	for (n = nfirst, hint = ofirst, hint_at = 0, i = 0; n != nend && old_at != NULL;
	    n = n->next, i++) {
		o = cmp_find(ofirst, oend, hint, hint_at, n, &at);
		old_at[i] = o != NULL ? at : SIZE_MAX;
		if (o != NULL)
			hint = o->next, hint_at = at + 1;
	}
	/* Without memory for the order, entries are taken as staying where they are. */
	if (old_at == NULL || stays == NULL || !cmp_order(old_at, count, stays)) {
		free(stays);
		stays = NULL;
	}
	for (n = nfirst, hint = ofirst, hint_at = 0, i = 0; n != nend; n = n->next, i++) {
		o = cmp_find(ofirst, oend, hint, hint_at, n, &at);
		if (o != NULL)
			hint = o->next, hint_at = at + 1;
		if (o == NULL) {
			cmp_lines(c, new_level, n, '+');
		} else if ((stays != NULL && !stays[i]) || cmp_line_differs(o, n)) {
			/* Moved in an ordered list, or its line changed: old out, new in. */
			cmp_lines(c, new_level, o, '-');
			cmp_lines(c, new_level, n, '+');
		} else if (!cfg_node_equal(o, n)) {
			cmp_marks(c, new_level, o, n);
			cmp_level(c, o, n);
		}
	}
	free(old_at);
	free(stays);
}

/* Children are in schema order on both sides, so the runs of each schema node line up. */
static void
cmp_level(struct compare *c, const struct cfg_node *old_level, const struct cfg_node *new_level)
{
	const struct cfg_node *o = old_level->first, *n = new_level->first, *ofirst, *nfirst;
	const struct cfg_schema *s;

	for (s = new_level->schema->children; s != NULL && s->keyword != NULL; s++) {
		for (ofirst = o; o != NULL && o->schema == s; o = o->next)
			;
		for (nfirst = n; n != NULL && n->schema == s; n = n->next)
			;
		if (ofirst != o || nfirst != n)
			cmp_run(c, new_level, ofirst, o, nfirst, n);
	}
}

void
cfg_compare(const struct cfg_node *old_tree, const struct cfg_node *new_tree,
    struct strbuf *out)
{
	struct compare c = { out, NULL };

	cmp_level(&c, old_tree, new_tree);
}


void
cfg_compare_statement(const struct cfg_node *old_node, const struct cfg_node *new_node,
    const struct cfg_schema *only, struct strbuf *out)
{
	struct compare c = { out, NULL };
	const struct cfg_node *any = new_node != NULL ? new_node : old_node;
	const struct cfg_node *ofirst = NULL, *oend = NULL, *nfirst = NULL, *nend = NULL;

	if (any == NULL)
		return;
	if (only != NULL) {
		/* The nodes are the parents; only the entries of that list. */
		for (ofirst = old_node != NULL ? old_node->first : NULL;
		    ofirst != NULL && ofirst->schema != only; ofirst = ofirst->next)
			;
		for (oend = ofirst; oend != NULL && oend->schema == only; oend = oend->next)
			;
		for (nfirst = new_node != NULL ? new_node->first : NULL;
		    nfirst != NULL && nfirst->schema != only; nfirst = nfirst->next)
			;
		for (nend = nfirst; nend != NULL && nend->schema == only; nend = nend->next)
			;
		if (ofirst != oend || nfirst != nend)
			cmp_run(&c, any, ofirst, oend, nfirst, nend);
		return;
	}
	if (any->parent == NULL) {
		struct cfg_node empty = { .schema = any->schema };

		cmp_level(&c, old_node != NULL ? old_node : &empty,
		    new_node != NULL ? new_node : &empty);
		return;
	}
	/* The statement itself, as a run of one under its parent's banner. */
	cmp_run(&c, any->parent, old_node, old_node != NULL ? old_node->next : NULL, new_node,
	    new_node != NULL ? new_node->next : NULL);
}
