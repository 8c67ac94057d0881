/* Showing a configuration: braces form (4 spaces a level, annotations as comments above
 * their statement, secrets as "$9$..." followed by ## SECRET-DATA), and set form. */
#include "config.h"

#include <string.h>

static bool
disp_needs_quotes(const char *v)
{
	if (v[0] == '\0')
		return true;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t' || strchr("{}[];\"#'\\", *v) != NULL)
			return true;
	}
	return false;
}

static void
disp_value(struct strbuf *out, const char *v, bool quote)
{
	if (!quote && !disp_needs_quotes(v)) {
		strbuf_adds(out, v);
		return;
	}
	strbuf_addc(out, '"');
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			strbuf_addc(out, '\\');
		strbuf_addc(out, *v);
	}
	strbuf_addc(out, '"');
}

static void
disp_indent(struct strbuf *out, int level)
{
	int i;

	for (i = 0; i < level; i++)
		strbuf_adds(out, "    ");
}

/* "keyword value", "name" for keyless lists, "keyword \"$9$...\"" for secrets. Returns
 * whether the statement holds a secret. */
static bool
disp_head(struct strbuf *out, const struct cfg_node *n)
{
	bool secret = (n->schema->flags & CFG_F_SECRET) != 0;

	if ((n->schema->flags & CFG_F_KEYLESS) == 0)
		strbuf_adds(out, n->schema->keyword);
	if (n->value == NULL)
		return false;
	if ((n->schema->flags & CFG_F_KEYLESS) == 0)
		strbuf_addc(out, ' ');
	if (secret)
		disp_value(out, n->shown != NULL ? n->shown : "", true);
	else
		disp_value(out, n->value, false);
	return secret;
}

static void disp_children(struct strbuf *out, const struct cfg_node *n, int level);

static void
disp_node(struct strbuf *out, const struct cfg_node *n, int level)
{
	const struct cfg_node *c;
	bool secret;

	if (n->annotation != NULL) {
		disp_indent(out, level);
		strbuf_addf(out, "/* %s */\n", n->annotation);
	}
	disp_indent(out, level);
	if (n->inactive)
		strbuf_adds(out, "inactive: ");
	secret = disp_head(out, n);
	if (n->schema->flags & CFG_F_INLINE) {
		for (c = n->first; c != NULL; c = c->next) {
			strbuf_addc(out, ' ');
			secret |= disp_head(out, c);
		}
		strbuf_adds(out, secret ? "; ## SECRET-DATA\n" : ";\n");
		return;
	}
	if (n->first == NULL) {
		strbuf_adds(out, secret ? "; ## SECRET-DATA\n" : ";\n");
		return;
	}
	strbuf_adds(out, " {\n");
	disp_children(out, n, level + 1);
	disp_indent(out, level);
	strbuf_adds(out, "}\n");
}

/* Values of one leaf-list in a row are one statement, keyword [ a b c ];, as long as they
 * share their inactive mark and only the first carries an annotation. */
static const struct cfg_node *
disp_leaflist(struct strbuf *out, const struct cfg_node *first, int level)
{
	const struct cfg_node *c = first, *end = first->next;
	size_t n = 1;

	while (end != NULL && end->schema == first->schema && end->inactive == first->inactive &&
	    end->annotation == NULL) {
		end = end->next;
		n++;
	}
	if (n == 1) {
		disp_node(out, first, level);
		return first->next;
	}
	if (first->annotation != NULL) {
		disp_indent(out, level);
		strbuf_addf(out, "/* %s */\n", first->annotation);
	}
	disp_indent(out, level);
	strbuf_addf(out, "%s%s [", first->inactive ? "inactive: " : "", first->schema->keyword);
	for (c = first; c != end; c = c->next) {
		strbuf_addc(out, ' ');
		disp_value(out, c->value, false);
	}
	strbuf_adds(out, " ];\n");
	return end;
}

/* Siblings from first up to (not including) end. */
static void
disp_run(struct strbuf *out, const struct cfg_node *first, const struct cfg_node *end,
    int level)
{
	const struct cfg_node *c = first;

	while (c != end) {
		if (c->schema->kind == CFG_LEAFLIST)
			c = disp_leaflist(out, c, level);
		else {
			disp_node(out, c, level);
			c = c->next;
		}
	}
}

static void
disp_children(struct strbuf *out, const struct cfg_node *n, int level)
{
	disp_run(out, n->first, NULL, level);
}

void
cfg_display_children(const struct cfg_node *n, struct strbuf *out)
{
	disp_children(out, n, 0);
}

void
cfg_display(const struct cfg_node *n, struct strbuf *out)
{
	if (n->parent == NULL)
		disp_children(out, n, 0);
	else
		disp_node(out, n, 0);
}

/* The words that lead to n, for set commands ("services ipsec-vpn rule r1"). */
static void
disp_set_path(struct strbuf *out, const struct cfg_node *n)
{
	if (n == NULL || n->parent == NULL)
		return;
	disp_set_path(out, n->parent);
	if (n->parent->parent != NULL)
		strbuf_addc(out, ' ');
	disp_head(out, n);
}

static void
disp_set_node(struct strbuf *out, const struct cfg_node *n)
{
	const struct cfg_node *c;

	if ((n->schema->flags & CFG_F_INLINE) && n->first != NULL) {
		for (c = n->first; c != NULL; c = c->next) {
			strbuf_adds(out, "set ");
			disp_set_path(out, n);
			strbuf_addc(out, ' ');
			disp_head(out, c);
			strbuf_addc(out, '\n');
		}
		return;
	}
	if (n->first == NULL) {
		strbuf_adds(out, "set ");
		disp_set_path(out, n);
		strbuf_addc(out, '\n');
		return;
	}
	/* A list entry or presence container with children needs no line of its own. */
	for (c = n->first; c != NULL; c = c->next)
		disp_set_node(out, c);
}

static void
disp_set_inactive(struct strbuf *out, const struct cfg_node *n)
{
	const struct cfg_node *c;

	for (c = n->first; c != NULL; c = c->next) {
		if (c->inactive) {
			strbuf_adds(out, "deactivate ");
			disp_set_path(out, c);
			strbuf_addc(out, '\n');
		}
		disp_set_inactive(out, c);
	}
}

void
cfg_display_set(const struct cfg_node *n, struct strbuf *out)
{
	const struct cfg_node *c;

	if (n->parent == NULL) {
		for (c = n->first; c != NULL; c = c->next)
			disp_set_node(out, c);
	} else {
		disp_set_node(out, n);
	}
	if (n->inactive) {
		strbuf_adds(out, "deactivate ");
		disp_set_path(out, n);
		strbuf_addc(out, '\n');
	}
	disp_set_inactive(out, n);
}

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

/* The entry of o's run (first..end) with n's name; hint is tried first, as most runs come
 * in the same order on both sides. */
static const struct cfg_node *
cmp_find(const struct cfg_node *first, const struct cfg_node *end, const struct cfg_node *hint,
    const struct cfg_node *n)
{
	const struct cfg_node *o;

	if (n->value == NULL)
		return first != end ? first : NULL;
	if (hint != NULL && hint != end && strcmp(hint->value, n->value) == 0)
		return hint;
	for (o = first; o != end; o = o->next) {
		if (strcmp(o->value, n->value) == 0)
			return o;
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

static void cmp_level(struct compare *c, const struct cfg_node *old_level,
    const struct cfg_node *new_level);

/* The statements of one schema node at one level: old ofirst..oend, new nfirst..nend. */
static void
cmp_run(struct compare *c, const struct cfg_node *new_level, const struct cfg_node *ofirst,
    const struct cfg_node *oend, const struct cfg_node *nfirst, const struct cfg_node *nend)
{
	const struct cfg_node *o, *n, *hint;

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
	for (o = ofirst, hint = nfirst; o != oend; o = o->next) {
		n = cmp_find(nfirst, nend, hint, o);
		if (n == NULL)
			cmp_lines(c, new_level, o, '-');
		hint = n != NULL ? n->next : hint;
	}
	for (n = nfirst, hint = ofirst; n != nend; n = n->next) {
		o = cmp_find(ofirst, oend, hint, n);
		hint = o != NULL ? o->next : hint;
		if (o == NULL) {
			cmp_lines(c, new_level, n, '+');
		} else if (cmp_line_differs(o, n)) {
			cmp_lines(c, new_level, o, '-');
			cmp_lines(c, new_level, n, '+');
		} else if (!cfg_node_equal(o, n)) {
			cmp_marks(c, new_level, o, n);
			cmp_level(c, o, n);
		}
	}
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

/* JSON in the shape Junos' `| display json` gives: containers as objects, list entries as
 * arrays of objects with "name", flags as [null], leaf-lists as arrays, marks under "@". */
static void disp_json_children(struct strbuf *out, const struct cfg_node *n);

static void
disp_json_string(struct strbuf *out, const char *s)
{
	strbuf_addc(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addc(out, '\\');
		if ((unsigned char)*s < ' ')
			strbuf_addf(out, "\\u%04x", (unsigned char)*s);
		else
			strbuf_addc(out, *s);
	}
	strbuf_addc(out, '"');
}

static void
disp_json_marks(struct strbuf *out, const struct cfg_node *n, bool *first)
{
	if (!n->inactive && n->annotation == NULL)
		return;
	strbuf_adds(out, *first ? "" : ",");
	*first = false;
	strbuf_adds(out, "\"@\":{");
	if (n->inactive)
		strbuf_adds(out, "\"inactive\":true");
	if (n->annotation != NULL) {
		strbuf_adds(out, n->inactive ? ",\"comment\":" : "\"comment\":");
		disp_json_string(out, n->annotation);
	}
	strbuf_addc(out, '}');
}

static void
disp_json_value(struct strbuf *out, const struct cfg_node *n)
{
	bool first = true;

	switch (n->schema->kind) {
	case CFG_FLAG:
		strbuf_adds(out, "[null]");
		return;
	case CFG_LEAF:
	case CFG_LEAFLIST:
		if (n->first == NULL) {
			disp_json_string(out, (n->schema->flags & CFG_F_SECRET) ? n->shown : n->value);
			return;
		}
		/* A leaf with options on its line (local-gateway 192.0.2.1 gw-interface ...). */
		strbuf_adds(out, "{\"name\":");
		disp_json_string(out, n->value);
		first = false;
		break;
	case CFG_LIST:
		strbuf_adds(out, "{\"name\":");
		disp_json_string(out, n->value);
		first = false;
		break;
	default:
		strbuf_addc(out, '{');
		break;
	}
	disp_json_marks(out, n, &first);
	if (n->first != NULL) {
		if (!first)
			strbuf_addc(out, ',');
		disp_json_children(out, n);
	}
	strbuf_addc(out, '}');
}

static void
disp_json_children(struct strbuf *out, const struct cfg_node *n)
{
	const struct cfg_node *c = n->first, *d;
	bool first = true, many;

	while (c != NULL) {
		strbuf_adds(out, first ? "" : ",");
		first = false;
		disp_json_string(out, (c->schema->flags & CFG_F_KEYLESS) ? "interface" :
		    c->schema->keyword);
		strbuf_addc(out, ':');
		many = c->schema->kind == CFG_LIST || c->schema->kind == CFG_LEAFLIST;
		if (!many) {
			disp_json_value(out, c);
			c = c->next;
			continue;
		}
		strbuf_addc(out, '[');
		for (d = c; d != NULL && d->schema == c->schema; d = d->next) {
			if (d != c)
				strbuf_addc(out, ',');
			disp_json_value(out, d);
		}
		strbuf_addc(out, ']');
		c = d;
	}
}

void
cfg_display_json(const struct cfg_node *n, struct strbuf *out)
{
	strbuf_adds(out, "{\"configuration\":{");
	if (n->parent == NULL) {
		disp_json_children(out, n);
	} else {
		disp_json_string(out, n->schema->keyword);
		strbuf_addc(out, ':');
		disp_json_value(out, n);
	}
	strbuf_adds(out, "}}\n");
}
