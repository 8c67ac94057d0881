/* set, delete, activate, deactivate and annotate: a command's words walk the schema from a
 * node, creating (set) or finding (the others) what they name. The set-form loader and the
 * CLI both come through here. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_diag.h"
#include "cfg_secret.h"
#include "cfg_tree.h"
#include "secbuf.h"

static const char *const cfg_op_names[] = {
	[CFG_OP_SET] = "set",
	[CFG_OP_DELETE] = "delete",
	[CFG_OP_ACTIVATE] = "activate",
	[CFG_OP_DEACTIVATE] = "deactivate",
	[CFG_OP_ANNOTATE] = "annotate",
};

const char *
cfg_op_name(enum cfg_op op)
{
	return cfg_op_names[op];
}

/* Resolves a word among the children of schema: a keyword (abbreviated if allowed), else
 * the name of a keyless list entry. */
static const struct cfg_schema *
cfg_word_schema(const struct cfg_schema *schema, const char *word, bool abbrev,
    bool *keyless, bool *ambiguous)
{
	const struct cfg_schema *s, *c;

	*keyless = false;
	*ambiguous = false;
	s = abbrev ? cfg_schema_resolve(schema, word, ambiguous) : cfg_schema_child(schema, word);
	if (s != NULL || *ambiguous)
		return s;
	for (c = schema->children; c != NULL && c->keyword != NULL; c++) {
		if ((c->flags & CFG_F_KEYLESS) != 0) {
			*keyless = true;
			return c;
		}
	}
	return NULL;
}

/* Drops containers left empty by a delete, up to (not including) a list entry or presence
 * container, which mean something even when empty. */
static void
cfg_prune(struct cfg_node *n)
{
	struct cfg_node *parent;

	while (n != NULL && n->parent != NULL && n->first == NULL &&
	    n->schema->kind == CFG_CONTAINER && n->annotation == NULL && !n->inactive) {
		parent = n->parent;
		cfg_node_free(n);
		n = parent;
	}
}

static void
cfg_apply_error(struct cfg_diags *d, const struct cfg_node *at, const char *stmt,
    const struct cfg_loc *loc, const char *msg)
{
	char path[2048];

	cfg_node_path(at, path, sizeof(path));
	cfg_diag_at(d, CFG_ERROR, path, stmt, loc, "%s", msg);
}

/* Finishes a delete/activate/deactivate/annotate on the node it found. */
static int
cfg_apply_found(enum cfg_op op, struct cfg_node *target, const char *annotation)
{
	struct cfg_node *parent = target->parent;

	switch (op) {
	case CFG_OP_DELETE:
		cfg_node_free(target);
		cfg_prune(parent);
		return 0;
	case CFG_OP_ACTIVATE:
		target->inactive = false;
		return 0;
	case CFG_OP_DEACTIVATE:
		target->inactive = true;
		return 0;
	case CFG_OP_ANNOTATE:
		free(target->annotation);
		target->annotation = annotation != NULL && annotation[0] != '\0' ?
		    strdup(annotation) : NULL;
		return 0;
	case CFG_OP_SET:
		break;
	}
	return 0;
}

/* Deletes every instance of a list or leaf-list named without a value. */
static void
cfg_delete_all(struct cfg_node *parent, const struct cfg_schema *s)
{
	struct cfg_node *c, *next;

	for (c = parent->first; c != NULL; c = next) {
		next = c->next;
		if (c->schema == s)
			cfg_node_free(c);
	}
	cfg_prune(parent);
}

/* The location of word i, when the caller knows where its words came from. */
static const struct cfg_loc *
cfg_word_loc(const struct cfg_loc *locs, int nwords, int i)
{
	if (locs == NULL || nwords == 0)
		return NULL;
	return &locs[i < nwords ? i : nwords - 1];
}

/* The walk behind cfg_apply and cfg_find. With find set it changes nothing and leaves the
 * node it reached in *found (and a trailing list keyword in *only). */
static int
cfg_walk(struct cfg_node *at, enum cfg_op op, char *const *words, int nwords,
    const char *annotation, bool abbrev, const struct cfg_loc *locs, struct cfg_diags *d,
    bool find, struct cfg_node **found, const struct cfg_schema **only)
{
	const struct cfg_loc *loc = cfg_word_loc(locs, nwords, 0);
	const struct cfg_schema *s;
	struct cfg_node *node = at, *child;
	char canon[1024], err[512], stmt[1100];
	const char *value, *shown;
	bool keyless, ambiguous;
	int i = 0;
	int rc = -1;

	if (nwords == 0) {
		if (find) {
			*found = node;
			rc = 0;
			goto out;
		}
		if (op == CFG_OP_SET || node->parent == NULL) {
			cfg_apply_error(d, node, NULL, loc, op == CFG_OP_SET ?
			    "missing statement" : "cannot do that to the whole configuration");
			goto out;
		}
		rc = cfg_apply_found(op, node, annotation);
		goto out;
	}
	while (i < nwords) {
		loc = cfg_word_loc(locs, nwords, i);
		s = cfg_word_schema(node->schema, words[i], abbrev, &keyless, &ambiguous);
		if (s == NULL) {
			snprintf(err, sizeof(err), ambiguous ? "'%s' is ambiguous" :
			    "syntax error: '%s' is not a statement here", words[i]);
			cfg_apply_error(d, node, words[i], loc, err);
			goto out;
		}
		if (!keyless)
			i++;
		value = NULL;
		if (cfg_schema_has_value(s)) {
			if (i == nwords && op != CFG_OP_SET && s->kind != CFG_LEAF) {
				/* "delete ... rule": every rule. */
				if (find) {
					*found = node;
					if (only != NULL)
						*only = s;
					rc = 0;
				} else if (op == CFG_OP_DELETE) {
					cfg_delete_all(node, s);
					rc = 0;
				} else {
					cfg_apply_error(d, node, s->keyword, loc,
					    "name which one (a list entry or value)");
				}
				goto out;
			}
			if (i == nwords && op == CFG_OP_SET) {
				snprintf(err, sizeof(err), "missing argument: %s needs a value",
				    s->keyword);
				cfg_apply_error(d, node, s->keyword, loc, err);
				goto out;
			}
			if (i < nwords) {
				/* A leaf-list given as [ a b c ]: every value in one go. */
				if (s->kind == CFG_LEAFLIST && strcmp(words[i], "[") == 0 &&
				    op == CFG_OP_SET) {
					for (i++; i < nwords && strcmp(words[i], "]") != 0; i++) {
						const struct cfg_loc *vl = cfg_word_loc(locs, nwords, i);
						struct cfg_loc pair[2];

						if (vl != NULL) {
							pair[0] = *vl;
							pair[1] = *vl;
						}
						if (cfg_apply(node, op, (char *const[]){
						    (char *)(uintptr_t)s->keyword, words[i] }, 2,
						    annotation, false, vl != NULL ? pair : NULL, d) == -1)
							goto out;
					}
					rc = i < nwords ? 0 : -1;
					if (rc == -1)
						cfg_apply_error(d, node, s->keyword, loc,
						    "missing ']'");
					goto out;
				}
				value = words[i++];
			}
		}
		shown = NULL;
		if (value != NULL) {
			if (!keyless)
				loc = cfg_word_loc(locs, nwords, i - 1);
			if (cfg_value_check(s, value, canon, sizeof(canon), err, sizeof(err)) == -1) {
				snprintf(stmt, sizeof(stmt), "%s %s", keyless ? "" : s->keyword,
				    (s->flags & CFG_F_SECRET) ? "\"<secret>\"" : value);
				cfg_apply_error(d, node, stmt[0] == ' ' ? stmt + 1 : stmt, loc, err);
				goto out;
			}
			if ((s->flags & CFG_F_SECRET) && cfg_secret_is_encoded(value))
				shown = value;
			value = canon;
		}
		if (op == CFG_OP_SET && !find) {
			child = cfg_node_set(node, s, value, shown);
			if (child == NULL) {
				cfg_apply_error(d, node, s->keyword, loc, "out of memory");
				goto out;
			}
		} else {
			child = cfg_node_find(node, s, value);
			if (child == NULL) {
				snprintf(stmt, sizeof(stmt), "%s%s%s", keyless ? "" : s->keyword,
				    value != NULL && !keyless ? " " : "",
				    value != NULL && !(s->flags & CFG_F_SECRET) ? value : "");
				snprintf(err, sizeof(err), "statement not found");
				cfg_apply_error(d, node, stmt, loc, err);
				goto out;
			}
		}
		if (s->kind == CFG_FLAG && i < nwords) {
			snprintf(err, sizeof(err), "%s takes no value: '%s'", s->keyword, words[i]);
			cfg_apply_error(d, node, s->keyword, loc, err);
			goto out;
		}
		if (loc != NULL && op == CFG_OP_SET && !find)
			child->loc = *loc;
		node = child;
	}
	if (find) {
		*found = node;
		rc = 0;
	} else {
		rc = op == CFG_OP_SET ? 0 : cfg_apply_found(op, node, annotation);
	}
out:
	secure_wipe(canon, sizeof(canon));
	return rc;
}

int
cfg_apply(struct cfg_node *at, enum cfg_op op, char *const *words, int nwords,
    const char *annotation, bool abbrev, const struct cfg_loc *locs, struct cfg_diags *d)
{
	return cfg_walk(at, op, words, nwords, annotation, abbrev, locs, d, false, NULL, NULL);
}

struct cfg_node *
cfg_find(struct cfg_node *at, char *const *words, int nwords,
    const struct cfg_schema **only, struct cfg_diags *d)
{
	struct cfg_node *found = NULL;

	if (only != NULL)
		*only = NULL;
	if (cfg_walk(at, CFG_OP_ACTIVATE, words, nwords, NULL, true, NULL, d, true, &found,
	    only) == -1)
		return NULL;
	return found;
}
