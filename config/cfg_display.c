/* Showing a configuration: braces form (4 spaces a level, annotations as comments above
 * their statement, secrets as "$9$..." followed by ## SECRET-DATA), and set form. */
#include "config.h"
#include "cfg_display.h"

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
bool
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
void
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
