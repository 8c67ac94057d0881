/* set, delete, activate, deactivate and annotate: a command's words walk the schema from a
 * node, creating (set) or finding (the others) what they name. The set-form loader and the
 * CLI both come through here. */
#include "config.h"

#include <stdarg.h>
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
cfg_apply_error(struct cfg_diags *d, const char *path, const char *stmt,
    const struct cfg_loc *loc, const char *msg)
{
	cfg_diag_at(d, CFG_ERROR, path, stmt, loc, "%s", msg);
}

static bool
cfg_text_blank(const char *t)
{
	for (; *t != '\0'; t++) {
		if ((unsigned char)*t > ' ' && *t != 0x7f)
			return false;
	}
	return true;
}

/* Finishes a delete/activate/deactivate/annotate on the node it found. -1: no memory. */
static int
cfg_apply_found(enum cfg_op op, struct cfg_node *target, const char *annotation)
{
	char *text;
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
		/* NULL from cfg_annotation_new is an empty comment, or no memory. */
		text = annotation != NULL ? cfg_annotation_new(annotation) : NULL;
		if (text == NULL && annotation != NULL && !cfg_text_blank(annotation))
			return -1;
		free(target->annotation);
		target->annotation = text;
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

enum walk_mode {
	WALK_FIND,  /* change nothing; report the node reached */
	WALK_CHECK, /* a set's words against the schema alone: nothing is touched */
	WALK_APPLY, /* do it */
};

struct walk {
	enum walk_mode mode;
	enum cfg_op op;
	char *const *words;
	int nwords;
	const char *annotation;
	bool abbrev;
	const struct cfg_loc *locs;
	struct cfg_diags *d;
	char path[2048];		  /* the words walked so far, for [edit ...] banners */
	struct cfg_node *found;		  /* WALK_FIND: where the words led */
	const struct cfg_schema *only;	  /* WALK_FIND: a trailing list keyword */
};

static void
walk_error(struct walk *w, const char *stmt, const struct cfg_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
walk_error(struct walk *w, const char *stmt, const struct cfg_loc *loc, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_apply_error(w->d, w->path, stmt, loc, msg);
}

/* Appends a statement's words to the path, as cfg_node_path would show them. */
static void
walk_descend(struct walk *w, const struct cfg_schema *s, const char *value)
{
	size_t len = strlen(w->path);
	bool keyless = (s->flags & CFG_F_KEYLESS) != 0;

	bool shown = value != NULL && !(s->flags & CFG_F_SECRET);

	snprintf(w->path + len, sizeof(w->path) - len, "%s%s%s%s", len > 0 ? " " : "",
	    keyless ? "" : s->keyword, shown && !keyless ? " " : "", shown ? value : "");
}

/* A leaf-list given as [ a b c ]: every value, then nothing after the ']'. */
static int
walk_values(struct walk *w, struct cfg_node *node, const struct cfg_schema *s, int i)
{
	struct cfg_node **added = NULL, **grown, *v;
	char canon[CFG_VALUE_MAX], err[512];
	int first = i, rc = -1, nadded = 0;

	for (; i < w->nwords && strcmp(w->words[i], "]") != 0; i++) {
		if (cfg_value_check(s, w->words[i], canon, sizeof(canon), err, sizeof(err)) == -1) {
			walk_error(w, s->keyword, cfg_word_loc(w->locs, w->nwords, i), "%s", err);
			goto out;
		}
		if (w->mode != WALK_APPLY || cfg_node_find(node, s, canon) != NULL)
			continue;
		grown = realloc(added, (size_t)(nadded + 1) * sizeof(*added));
		if (grown == NULL || (v = cfg_node_set(node, s, canon, NULL)) == NULL) {
			added = grown != NULL ? grown : added;
			walk_error(w, s->keyword, NULL, "out of memory");
			goto out;
		}
		added = grown;
		added[nadded++] = v;
	}
	if (i == w->nwords || i == first) {
		walk_error(w, s->keyword, cfg_word_loc(w->locs, w->nwords, i),
		    i == first ? "missing values before ']'" : "missing ']'");
		goto out;
	}
	if (i + 1 < w->nwords) {
		walk_error(w, w->words[i + 1], cfg_word_loc(w->locs, w->nwords, i + 1),
		    "syntax error: unexpected '%s' after ']'", w->words[i + 1]);
		goto out;
	}
	rc = 0;
out:
	/* Only out of memory fails here once the words were checked: undo what was added. */
	while (rc == -1 && nadded > 0)
		cfg_node_free(added[--nadded]);
	free(added);
	secure_wipe(canon, sizeof(canon));
	return rc;
}

/* The end of the words with a list or leaf-list named but no entry. */
static int
walk_unnamed(struct walk *w, struct cfg_node *node, const struct cfg_schema *s,
    const struct cfg_loc *loc)
{
	if (w->op == CFG_OP_SET) {
		walk_error(w, s->keyword, loc, "missing argument: %s needs a value", s->keyword);
		return -1;
	}
	if (w->mode == WALK_FIND) {
		w->found = node;
		w->only = s;
		return 0;
	}
	if (w->op == CFG_OP_DELETE) {
		/* "delete ... rule": every rule. */
		cfg_delete_all(node, s);
		return 0;
	}
	walk_error(w, s->keyword, loc, "name which one (a list entry or value)");
	return -1;
}

/* One pass over the words. node is NULL throughout a WALK_CHECK. */
static int
walk_run(struct walk *w, struct cfg_node *at)
{
	const struct cfg_loc *loc = cfg_word_loc(w->locs, w->nwords, 0);
	const struct cfg_schema *s, *schema = at->schema;
	struct cfg_node *node = w->mode == WALK_CHECK ? NULL : at, *child = NULL;
	char canon[CFG_VALUE_MAX], err[512], stmt[CFG_VALUE_MAX + 128];
	struct cfg_node *created = NULL; /* the first node this set made */
	const char *value, *shown, *word;
	bool keyless, ambiguous, keyed, fresh, secret = false;
	int i = 0, rc = -1;

	while (i < w->nwords) {
		loc = cfg_word_loc(w->locs, w->nwords, i);
		s = cfg_word_schema(schema, w->words[i], w->abbrev, &keyless, &ambiguous);
		if (s == NULL) {
			/* Under or after a key, the word may be (part of) the key. */
			word = cfg_schema_holds_secret(schema) ? "<secret>" : w->words[i];
			walk_error(w, word, loc, ambiguous ? "'%s' is ambiguous" :
			    "syntax error: '%s' is not a statement here%s", word,
			    cfg_schema_holds_secret(schema) ? " (a key with spaces goes in quotes)" :
			    "");
			goto out;
		}
		if (!keyless)
			i++;
		value = NULL;
		if (cfg_schema_has_value(s)) {
			if (i == w->nwords && (w->op == CFG_OP_SET || s->kind != CFG_LEAF)) {
				rc = walk_unnamed(w, node, s, loc);
				goto out;
			}
			if (i < w->nwords && s->kind == CFG_LEAFLIST && w->op == CFG_OP_SET &&
			    strcmp(w->words[i], "[") == 0) {
				rc = walk_values(w, node, s, i + 1);
				goto out;
			}
			if (i < w->nwords)
				value = w->words[i++];
		}
		shown = NULL;
		if (value != NULL) {
			if (!keyless)
				loc = cfg_word_loc(w->locs, w->nwords, i - 1);
			secret |= (s->flags & CFG_F_SECRET) != 0;
			if (cfg_value_check(s, value, canon, sizeof(canon), err, sizeof(err)) == -1) {
				snprintf(stmt, sizeof(stmt), "%s%s%s", keyless ? "" : s->keyword,
				    keyless ? "" : " ",
				    (s->flags & CFG_F_SECRET) ? "\"<secret>\"" : value);
				cfg_apply_error(w->d, w->path, stmt, loc, err);
				goto out;
			}
			if ((s->flags & CFG_F_SECRET) && cfg_secret_is_encoded(value))
				shown = value;
			value = canon;
		}
		if (s->kind == CFG_FLAG && i < w->nwords) {
			walk_error(w, s->keyword, cfg_word_loc(w->locs, w->nwords, i),
			    "%s takes no value: '%s'", s->keyword, w->words[i]);
			goto out;
		}
		if (w->mode == WALK_APPLY && w->op == CFG_OP_SET) {
			keyed = s->kind == CFG_LIST || s->kind == CFG_LEAFLIST;
			fresh = cfg_node_find(node, s, keyed ? value : NULL) == NULL;
			child = cfg_node_set(node, s, value, shown);
			if (child == NULL) {
				walk_error(w, s->keyword, loc, "out of memory");
				goto out;
			}
			if (fresh && created == NULL)
				created = child;
			if (loc != NULL)
				child->loc = *loc;
		} else if (w->mode != WALK_CHECK) {
			child = cfg_node_find(node, s, value);
			if (child == NULL) {
				snprintf(stmt, sizeof(stmt), "%s%s%s", keyless ? "" : s->keyword,
				    value != NULL && !keyless ? " " : "",
				    value != NULL && !(s->flags & CFG_F_SECRET) ? value : "");
				walk_error(w, stmt, loc, "statement not found");
				goto out;
			}
		}
		walk_descend(w, s, value);
		node = child;
		schema = s;
	}
	if (w->mode == WALK_FIND) {
		w->found = node;
		rc = 0;
	} else if (w->mode == WALK_CHECK || w->op == CFG_OP_SET) {
		rc = 0;
	} else if ((rc = cfg_apply_found(w->op, node, w->annotation)) == -1) {
		walk_error(w, NULL, loc, "out of memory");
	}
out:
	/* A set that was checked whole fails only for memory: what it created goes again. */
	if (rc == -1 && created != NULL)
		cfg_node_free(created);
	/* Only a secret's plaintext needs wiping; canon holds nothing else of value. */
	if (secret)
		secure_wipe(canon, sizeof(canon));
	return rc;
}

/* The walk behind cfg_apply and cfg_find. A set is checked whole before it changes
 * anything, so a command that fails leaves the configuration as it was. */
static int
cfg_walk(struct walk *w, struct cfg_node *at)
{
	const struct cfg_loc *loc = cfg_word_loc(w->locs, w->nwords, 0);

	cfg_node_path(at, w->path, sizeof(w->path));
	if (w->nwords == 0) {
		if (w->mode == WALK_FIND) {
			w->found = at;
			return 0;
		}
		if (w->op == CFG_OP_SET || at->parent == NULL) {
			cfg_apply_error(w->d, w->path, NULL, loc, w->op == CFG_OP_SET ?
			    "missing statement" : "cannot do that to the whole configuration");
			return -1;
		}
		return cfg_apply_found(w->op, at, w->annotation);
	}
	if (w->mode == WALK_APPLY && w->op == CFG_OP_SET) {
		w->mode = WALK_CHECK;
		if (walk_run(w, at) == -1)
			return -1;
		w->mode = WALK_APPLY;
		cfg_node_path(at, w->path, sizeof(w->path));
	}
	return walk_run(w, at);
}

int
cfg_apply(struct cfg_node *at, enum cfg_op op, char *const *words, int nwords,
    const char *annotation, bool abbrev, const struct cfg_loc *locs, struct cfg_diags *d)
{
	struct walk w = { .mode = WALK_APPLY, .op = op, .words = words, .nwords = nwords,
		.annotation = annotation, .abbrev = abbrev, .locs = locs, .d = d };

	return cfg_walk(&w, at);
}

struct cfg_node *
cfg_find(struct cfg_node *at, char *const *words, int nwords,
    const struct cfg_schema **only, struct cfg_diags *d)
{
	struct walk w = { .mode = WALK_FIND, .op = CFG_OP_ACTIVATE, .words = words,
		.nwords = nwords, .abbrev = true, .d = d };

	if (only != NULL)
		*only = NULL;
	if (cfg_walk(&w, at) == -1)
		return NULL;
	if (only != NULL)
		*only = w.only;
	return w.found;
}

int
cfg_secret_words(char *const *words, int nwords, int *count)
{
	const struct cfg_schema *schema = &cfg_schema_root, *s;
	bool keyless, ambiguous;
	int i = 1;

	*count = 0;
	while (i < nwords) {
		s = cfg_word_schema(schema, words[i], true, &keyless, &ambiguous);
		if (s == NULL) {
			/* Under a key's statement a word that is no keyword may be the key
			 * itself (pre-shared-key KEY): it and the rest are key material. */
			if (cfg_schema_holds_secret(schema)) {
				*count = nwords - i;
				return i;
			}
			return -1;
		}
		if (!keyless)
			i++;
		if (cfg_schema_has_value(s) && i < nwords) {
			if (s->flags & CFG_F_SECRET) {
				*count = nwords - i;
				return i;
			}
			if (s->kind == CFG_LEAFLIST)
				return -1;
			i++;
		}
		schema = s;
	}
	return -1;
}
