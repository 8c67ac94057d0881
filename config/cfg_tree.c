#include "cfg_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_secret.h"
#include "secbuf.h"

char *
cfg_annotation_new(const char *text)
{
	size_t len = strlen(text), i, start = 0;
	char *a = strdup(text);

	if (a == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if ((unsigned char)a[i] < ' ' || a[i] == 0x7f)
			a[i] = ' ';
		/* A comment shown as slash-star text star-slash must not end early. */
		if (i > 0 && a[i - 1] == '*' && a[i] == '/')
			a[i] = '|';
	}
	while (len > 0 && a[len - 1] == ' ')
		a[--len] = '\0';
	while (a[start] == ' ')
		start++;
	memmove(a, a + start, len - start + 1);
	if (a[0] == '\0') {
		free(a);
		return NULL;
	}
	return a;
}

struct cfg_node *
cfg_tree_new(void)
{
	struct cfg_node *root = calloc(1, sizeof(*root));

	if (root != NULL)
		root->schema = &cfg_schema_root;
	return root;
}

static void
cfg_free_string(char **s, bool wipe)
{
	if (*s == NULL)
		return;
	if (wipe)
		secure_wipe(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

static void
cfg_node_unlink(struct cfg_node *n)
{
	struct cfg_node *p = n->parent;

	if (p == NULL)
		return;
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		p->first = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		p->last = n->prev;
	n->parent = n->prev = n->next = NULL;
}

void
cfg_node_free(struct cfg_node *n)
{
	if (n == NULL)
		return;
	cfg_node_unlink(n);
	while (n->first != NULL)
		cfg_node_free(n->first);
	/* The $9$ text decodes straight back to the key: it is wiped as well. */
	cfg_free_string(&n->value, (n->schema->flags & CFG_F_SECRET) != 0);
	cfg_free_string(&n->shown, true);
	cfg_free_string(&n->annotation, false);
	free(n);
}

/* The position of a schema node among its parent's children: siblings are kept in it. */
static ptrdiff_t
cfg_schema_rank(const struct cfg_node *parent, const struct cfg_schema *s)
{
	return s - parent->schema->children;
}

static void
cfg_node_link(struct cfg_node *parent, struct cfg_node *n)
{
	struct cfg_node *after = parent->last;
	ptrdiff_t rank = cfg_schema_rank(parent, n->schema);

	/* After the last sibling of the same or an earlier schema position. */
	while (after != NULL && cfg_schema_rank(parent, after->schema) > rank)
		after = after->prev;
	n->parent = parent;
	n->prev = after;
	n->next = after != NULL ? after->next : parent->first;
	if (n->next != NULL)
		n->next->prev = n;
	else
		parent->last = n;
	if (after != NULL)
		after->next = n;
	else
		parent->first = n;
}

struct cfg_node *
cfg_node_find(const struct cfg_node *parent, const struct cfg_schema *s, const char *value)
{
	struct cfg_node *c;
	bool keyed = s->kind == CFG_LIST || s->kind == CFG_LEAFLIST;

	for (c = parent->first; c != NULL; c = c->next) {
		if (c->schema != s)
			continue;
		if (!keyed || (value != NULL && c->value != NULL && strcmp(c->value, value) == 0))
			return c;
	}
	return NULL;
}

static int
cfg_set_value(struct cfg_node *n, const char *value, const char *shown)
{
	char enc[1024];
	char *v = NULL, *sh = NULL;
	bool secret = (n->schema->flags & CFG_F_SECRET) != 0;

	if (value != NULL && (v = strdup(value)) == NULL)
		return -1;
	if (secret && value != NULL) {
		if (shown == NULL) {
			if (cfg_secret_encode(value, strlen(value), enc, sizeof(enc), 0) < 0) {
				cfg_free_string(&v, true);
				return -1;
			}
			shown = enc;
		}
		sh = strdup(shown);
		secure_wipe(enc, sizeof(enc));
		if (sh == NULL) {
			cfg_free_string(&v, true);
			return -1;
		}
	}
	cfg_free_string(&n->value, secret);
	cfg_free_string(&n->shown, true);
	n->value = v;
	n->shown = sh;
	return 0;
}

/* Removes the other members of s's choice, when s replaces them. */
static void
cfg_choice_clear(struct cfg_node *parent, const struct cfg_schema *s)
{
	struct cfg_node *c, *next;

	if (s->choice == NULL || (s->flags & CFG_F_REPLACE) == 0)
		return;
	for (c = parent->first; c != NULL; c = next) {
		next = c->next;
		if (c->schema != s && c->schema->choice != NULL &&
		    strcmp(c->schema->choice, s->choice) == 0)
			cfg_node_free(c);
	}
}

struct cfg_node *
cfg_node_set(struct cfg_node *parent, const struct cfg_schema *s, const char *value,
    const char *shown)
{
	bool keyed = s->kind == CFG_LIST || s->kind == CFG_LEAFLIST;
	struct cfg_node *n = cfg_node_find(parent, s, keyed ? value : NULL);

	/* Whatever can fail comes first: a failed set leaves the choice as it was. */
	if (n != NULL) {
		if (s->kind == CFG_LEAF && cfg_set_value(n, value, shown) == -1)
			return NULL;
		cfg_choice_clear(parent, s);
		return n;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->schema = s;
	if (cfg_set_value(n, value, shown) == -1) {
		free(n);
		return NULL;
	}
	cfg_choice_clear(parent, s);
	cfg_node_link(parent, n);
	return n;
}

static int
cfg_copy_strings(struct cfg_node *dst, const struct cfg_node *src)
{
	if ((src->value != NULL && (dst->value = strdup(src->value)) == NULL) ||
	    (src->shown != NULL && (dst->shown = strdup(src->shown)) == NULL) ||
	    (src->annotation != NULL && (dst->annotation = strdup(src->annotation)) == NULL))
		return -1;
	return 0;
}

struct cfg_node *
cfg_node_copy(const struct cfg_node *n)
{
	struct cfg_node *c, *kid;
	const struct cfg_node *k;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->schema = n->schema;
	c->inactive = n->inactive;
	c->replace = n->replace;
	if (cfg_copy_strings(c, n) == -1)
		goto error;
	for (k = n->first; k != NULL; k = k->next) {
		kid = cfg_node_copy(k);
		if (kid == NULL)
			goto error;
		/* Appending keeps the source's order, which is already canonical. */
		kid->parent = c;
		kid->prev = c->last;
		if (c->last != NULL)
			c->last->next = kid;
		else
			c->first = kid;
		c->last = kid;
	}
	return c;
error:
	cfg_node_free(c);
	return NULL;
}

int
cfg_node_load(struct cfg_node *dst, const struct cfg_node *src, bool honour_replace)
{
	const struct cfg_node *k;
	struct cfg_node *d, *old;
	bool keyed;

	for (k = src->first; k != NULL; k = k->next) {
		/* "replace:" in a file loaded with load replace: that statement as given. A
		 * leaf-list's values all go (once, at its first value); any other statement is
		 * emptied where it stands, so a list entry keeps its place. */
		if (honour_replace && k->replace && k->schema->kind == CFG_LEAFLIST &&
		    (k->prev == NULL || k->prev->schema != k->schema)) {
			for (d = dst->first; d != NULL; d = old) {
				old = d->next;
				if (d->schema == k->schema)
					cfg_node_free(d);
			}
		} else if (honour_replace && k->replace && k->schema->kind != CFG_LEAFLIST) {
			keyed = k->schema->kind == CFG_LIST;
			if ((old = cfg_node_find(dst, k->schema, keyed ? k->value : NULL)) != NULL) {
				while (old->first != NULL)
					cfg_node_free(old->first);
				cfg_free_string(&old->annotation, false);
				old->inactive = false;
			}
		}
		d = cfg_node_set(dst, k->schema, k->value, k->shown);
		if (d == NULL)
			return -1;
		d->inactive = k->inactive;
		if (k->annotation != NULL) {
			free(d->annotation);
			if ((d->annotation = strdup(k->annotation)) == NULL)
				return -1;
		}
		if (cfg_node_load(d, k, honour_replace) == -1)
			return -1;
	}
	return 0;
}

int
cfg_node_merge(struct cfg_node *dst, const struct cfg_node *src)
{
	return cfg_node_load(dst, src, false);
}

static bool
cfg_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
cfg_node_equal(const struct cfg_node *a, const struct cfg_node *b)
{
	const struct cfg_node *x, *y;

	if (a->schema != b->schema || a->inactive != b->inactive ||
	    !cfg_str_equal(a->value, b->value) || !cfg_str_equal(a->annotation, b->annotation))
		return false;
	for (x = a->first, y = b->first; x != NULL && y != NULL; x = x->next, y = y->next) {
		if (!cfg_node_equal(x, y))
			return false;
	}
	return x == NULL && y == NULL;
}

static struct cfg_node *
cfg_active_from(struct cfg_node *c, const struct cfg_schema *s)
{
	for (; c != NULL; c = c->next) {
		if (c->schema == s && !c->inactive)
			return c;
	}
	return NULL;
}

struct cfg_node *
cfg_child(const struct cfg_node *n, const char *keyword)
{
	const struct cfg_schema *s;
	const struct cfg_schema *c;

	if (n == NULL)
		return NULL;
	s = cfg_schema_child(n->schema, keyword);
	if (s == NULL) {
		/* The keyless list (interfaces) is found by its schema keyword. */
		for (c = n->schema->children; c != NULL && c->keyword != NULL; c++) {
			if ((c->flags & CFG_F_KEYLESS) != 0 && strcmp(c->keyword, keyword) == 0)
				s = c;
		}
		if (s == NULL)
			return NULL;
	}
	return cfg_active_from(n->first, s);
}

struct cfg_node *
cfg_next(const struct cfg_node *n)
{
	return cfg_active_from(n->next, n->schema);
}

const char *
cfg_leaf(const struct cfg_node *n, const char *keyword)
{
	struct cfg_node *c = cfg_child(n, keyword);

	return c != NULL ? c->value : NULL;
}

bool
cfg_has(const struct cfg_node *n, const char *keyword)
{
	return cfg_child(n, keyword) != NULL;
}

bool
cfg_node_active(const struct cfg_node *n)
{
	for (; n != NULL; n = n->parent) {
		if (n->inactive)
			return false;
	}
	return true;
}

void
cfg_node_statement(const struct cfg_node *n, char *out, size_t outlen)
{
	if (n->schema->flags & CFG_F_KEYLESS)
		snprintf(out, outlen, "%s", n->value != NULL ? n->value : "");
	else if (n->value != NULL && (n->schema->flags & CFG_F_SECRET) == 0)
		snprintf(out, outlen, "%s %s", n->schema->keyword, n->value);
	else
		snprintf(out, outlen, "%s", n->schema->keyword);
}

void
cfg_node_path(const struct cfg_node *n, char *out, size_t outlen)
{
	const struct cfg_node *chain[64];
	char stmt[512];
	size_t depth = 0, len = 0;

	out[0] = '\0';
	for (; n != NULL && n->parent != NULL && depth < 64; n = n->parent)
		chain[depth++] = n;
	while (depth > 0 && len < outlen) {
		cfg_node_statement(chain[--depth], stmt, sizeof(stmt));
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", len > 0 ? " " : "", stmt);
	}
}

size_t
cfg_node_count(const struct cfg_node *n)
{
	const struct cfg_node *c;
	size_t count = 1;

	for (c = n->first; c != NULL; c = c->next)
		count += cfg_node_count(c);
	return count;
}
