/* Reading the curly-brace form: statements, blocks, annotations, inactive: and replace:.
 *
 * A statement's words are read and checked against the schema before anything goes into the
 * tree, so one that fails is reported and left out, whole, and reading goes on with the next
 * one: one pass reports every error. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_lex.h"
#include "cfg_secret.h"
#include "secbuf.h"

/* The most options one line may carry (local-gateway 192.0.2.1 gw-interface ge-0/0/0). */
enum { PARSE_MAX_INLINE = 8 };

struct parser {
	struct cfg_lexer lx;
	struct cfg_token tok;	 /* the current token */
	struct cfg_loc last;	 /* where the statement's last word was */
	const char *file;
	struct cfg_diags *d;
	char *comment;		 /* a comment waiting to annotate the next statement */
	bool stopped;		 /* the text cannot be read further; the reason was given */
};

/* One word of a statement, checked, not yet in the tree. */
struct parse_item {
	const struct cfg_schema *s;
	char *value; /* canonical (cfg_value_check); NULL for flags and containers */
	char *shown; /* a secret's $9$ text as written, or NULL */
	struct cfg_loc loc;
};

/* A statement: its keyword and value, then inline options or a leaf-list's values. */
struct parse_stmt {
	struct parse_item head;
	struct parse_item *items;
	size_t count, cap;
	bool inactive, replace;
};

static void
parse_advance(struct parser *p)
{
	p->last = (struct cfg_loc){ p->file, p->tok.line, p->tok.col };
	cfg_lex_next(&p->lx, &p->tok);
}

static struct cfg_loc
parse_loc(const struct parser *p)
{
	struct cfg_loc loc = { p->file, p->tok.line, p->tok.col };

	return loc;
}

/* Reports against the statement stmt in block at, or in the statement within at when within
 * is not NULL (an option on the line of "pre-shared-key"). The first lexical error stops
 * the reading and is reported once, however many blocks enclose it. */
static void __attribute__((format(printf, 6, 0)))
parse_verror(struct parser *p, const struct cfg_node *at, const char *within,
    const char *stmt, const struct cfg_loc *where, const char *fmt, va_list ap)
{
	struct cfg_loc loc = where != NULL ? *where : parse_loc(p);
	char path[2048], msg[1024];
	size_t len;

	if (p->stopped)
		return;
	cfg_node_path(at, path, sizeof(path));
	if (within != NULL) {
		len = strlen(path);
		snprintf(path + len, sizeof(path) - len, "%s%s", len > 0 ? " " : "", within);
	}
	if (p->tok.kind == TOK_ERROR) {
		p->stopped = true;
		loc = parse_loc(p);
		cfg_diag_at(p->d, CFG_ERROR, path, stmt, &loc, "syntax error: %s", p->lx.error);
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	cfg_diag_at(p->d, CFG_ERROR, path, stmt, &loc, "%s", msg);
}

static void __attribute__((format(printf, 5, 6)))
parse_error(struct parser *p, const struct cfg_node *at, const char *stmt,
    const struct cfg_loc *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parse_verror(p, at, NULL, stmt, where, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 6, 7)))
parse_error_within(struct parser *p, const struct cfg_node *at, const char *within,
    const char *stmt, const struct cfg_loc *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parse_verror(p, at, within, stmt, where, fmt, ap);
	va_end(ap);
}

/* Skips the rest of a statement that failed: up to its ';', or over its { } block, but
 * not past the end of line `line` outside a block: what starts a later line (a statement,
 * a comment, a '}') is read normally, so a forgotten ';' costs one statement only. */
static void
parse_skip(struct parser *p, unsigned line)
{
	unsigned depth = 0;

	for (;;) {
		if (depth == 0 && p->tok.line > line && p->tok.kind != TOK_EOF)
			return;
		switch (p->tok.kind) {
		case TOK_EOF:
		case TOK_ERROR:
			return;
		case TOK_SEMI:
			if (depth == 0) {
				parse_advance(p);
				return;
			}
			break;
		case TOK_LBRACE:
			depth++;
			break;
		case TOK_RBRACE:
			if (depth == 0)
				return;
			if (--depth == 0) {
				parse_advance(p);
				return;
			}
			break;
		default:
			break;
		}
		parse_advance(p);
	}
}

/* A token as messages quote it: punctuation has no text of its own. */
static const char *
parse_token_text(const struct cfg_token *tok)
{
	switch (tok->kind) {
	case TOK_LBRACE: return "{";
	case TOK_RBRACE: return "}";
	case TOK_SEMI: return ";";
	case TOK_LBRACKET: return "[";
	case TOK_RBRACKET: return "]";
	case TOK_EOF: return "end of file";
	default: return tok->text;
	}
}

static bool
parse_is_value(const struct parser *p)
{
	return p->tok.kind == TOK_WORD || p->tok.kind == TOK_STRING;
}

static void
parse_item_clear(struct parse_item *it)
{
	if (it->value != NULL && (it->s->flags & CFG_F_SECRET))
		secure_wipe(it->value, strlen(it->value));
	if (it->shown != NULL)
		secure_wipe(it->shown, strlen(it->shown));
	free(it->value);
	free(it->shown);
	it->value = it->shown = NULL;
}

static void
parse_stmt_clear(struct parse_stmt *st)
{
	size_t i;

	parse_item_clear(&st->head);
	for (i = 0; i < st->count; i++)
		parse_item_clear(&st->items[i]);
	free(st->items);
	st->items = NULL;
	st->count = st->cap = 0;
}

/* "keyword value" as the statement line of a message; secrets are not repeated. */
static void
parse_stmt_text(const struct cfg_schema *s, const char *value, char *out, size_t outlen)
{
	bool keyless = (s->flags & CFG_F_KEYLESS) != 0;

	if (value == NULL)
		snprintf(out, outlen, "%s", s->keyword);
	else
		snprintf(out, outlen, "%s%s%s", keyless ? "" : s->keyword, keyless ? "" : " ",
		    (s->flags & CFG_F_SECRET) ? "\"<secret>\"" : value);
}

/* Checks the current token as the value of s and fills it in: the item takes the canonical
 * value (and a secret's $9$ text). loc is the statement's place, for the node and for
 * messages. Consumes the token either way. */
static bool
parse_value(struct parser *p, const struct cfg_node *parent, const char *within,
    const struct cfg_schema *s, struct cfg_loc loc, struct parse_item *it)
{
	char canon[CFG_VALUE_MAX], err[512], stmt[256];
	const char *text = p->tok.text;
	bool ok = false;

	it->s = s;
	it->loc = loc;
	if (cfg_value_check(s, text, canon, sizeof(canon), err, sizeof(err)) == -1) {
		parse_stmt_text(s, text, stmt, sizeof(stmt));
		parse_error_within(p, parent, within, stmt, &it->loc, "%s", err);
		goto out;
	}
	it->value = strdup(canon);
	if ((s->flags & CFG_F_SECRET) && cfg_secret_is_encoded(text))
		it->shown = strdup(text);
	if (it->value == NULL || ((s->flags & CFG_F_SECRET) && cfg_secret_is_encoded(text) &&
	    it->shown == NULL)) {
		parse_error_within(p, parent, within, s->keyword, &it->loc, "out of memory");
		goto out;
	}
	ok = true;
out:
	if (s->flags & CFG_F_SECRET) {
		secure_wipe(canon, sizeof(canon));
		secure_wipe(p->lx.buf, p->lx.bufcap);
	}
	parse_advance(p);
	return ok;
}

static struct parse_item *
parse_stmt_add(struct parse_stmt *st)
{
	struct parse_item *grown;
	size_t cap;

	if (st->count == st->cap) {
		cap = st->cap > 0 ? st->cap * 2 : 4;
		grown = realloc(st->items, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		st->items = grown;
		st->cap = cap;
	}
	memset(&st->items[st->count], 0, sizeof(st->items[0]));
	return &st->items[st->count++];
}

/* A leaf-list's value, or its values in [ ]. */
static bool
parse_leaflist_values(struct parser *p, const struct cfg_node *parent, struct parse_stmt *st)
{
	const struct cfg_schema *s = st->head.s;
	struct parse_item *it;
	bool ok = true, bracketed = p->tok.kind == TOK_LBRACKET;

	if (bracketed)
		parse_advance(p);
	do {
		if (!parse_is_value(p)) {
			if (bracketed && p->tok.kind == TOK_RBRACKET && st->count > 0)
				break;
			parse_error(p, parent, s->keyword, NULL, bracketed ?
			    "syntax error: expected a value or ']'" :
			    "syntax error: %s needs a value", s->keyword);
			return false;
		}
		if ((it = parse_stmt_add(st)) == NULL) {
			parse_error(p, parent, s->keyword, NULL, "out of memory");
			return false;
		}
		ok = parse_value(p, parent, NULL, s, parse_loc(p), it) && ok;
	} while (bracketed);
	if (bracketed)
		parse_advance(p);
	return ok;
}

/* Options that share the line of an INLINE statement. */
static bool
parse_inline(struct parser *p, const struct cfg_node *parent, struct parse_stmt *st)
{
	const struct cfg_schema *s = st->head.s, *c;
	struct parse_item *it;
	struct cfg_loc loc;
	char within[256];

	parse_stmt_text(s, st->head.value, within, sizeof(within));
	while (p->tok.kind == TOK_WORD && (c = cfg_schema_child(s, p->tok.text)) != NULL) {
		loc = parse_loc(p);
		if (st->count == PARSE_MAX_INLINE || (it = parse_stmt_add(st)) == NULL) {
			parse_error_within(p, parent, within, c->keyword, NULL,
			    "syntax error: too many options");
			return false;
		}
		parse_advance(p);
		if (!cfg_schema_has_value(c)) {
			*it = (struct parse_item){ .s = c, .loc = loc };
			continue;
		}
		if (!parse_is_value(p)) {
			parse_error_within(p, parent, within, c->keyword, NULL,
			    "syntax error: %s needs a value", c->keyword);
			return false;
		}
		if (!parse_value(p, parent, within, c, loc, it))
			return false;
	}
	return true;
}

/* Puts a checked statement into the tree. NULL when out of memory. */
static struct cfg_node *
parse_commit(struct parser *p, struct cfg_node *parent, struct parse_stmt *st)
{
	struct cfg_node *n = NULL, *kid;
	size_t i;

	if (st->head.s->kind == CFG_LEAFLIST) {
		for (i = 0; i < st->count; i++) {
			n = cfg_node_set(parent, st->head.s, st->items[i].value, st->items[i].shown);
			if (n == NULL)
				goto oom;
			n->loc = st->items[i].loc;
			n->inactive = st->inactive;
			n->replace = st->replace;
			/* One annotation for the statement: it goes above its first value. */
			if (i == 0 && p->comment != NULL) {
				free(n->annotation);
				n->annotation = p->comment;
				p->comment = NULL;
			}
		}
		return n;
	}
	n = cfg_node_set(parent, st->head.s, st->head.value, st->head.shown);
	if (n == NULL)
		goto oom;
	n->loc = st->head.loc;
	n->inactive = st->inactive;
	n->replace = st->replace;
	if (p->comment != NULL) {
		free(n->annotation);
		n->annotation = p->comment;
		p->comment = NULL;
	}
	for (i = 0; i < st->count; i++) {
		kid = cfg_node_set(n, st->items[i].s, st->items[i].value, st->items[i].shown);
		if (kid == NULL)
			goto oom;
		kid->loc = st->items[i].loc;
	}
	return n;
oom:
	parse_error(p, parent, st->head.s->keyword, &st->head.loc, "out of memory");
	return NULL;
}

static void parse_block(struct parser *p, struct cfg_node *node, bool braced);

/* After the words: ';', or a block for statements that have one. On anything else the
 * statement is reported against its parent. When the offending token starts a later line,
 * the ';' was simply forgotten and reading goes on from that token; otherwise the rest of
 * the statement is skipped. */
static void
parse_end(struct parser *p, struct cfg_node *parent, struct parse_stmt *st)
{
	const struct cfg_schema *s = st->head.s;
	bool block = s->children != NULL && s->kind != CFG_LEAFLIST;
	struct cfg_loc at = p->last;
	struct cfg_node *n;
	const char *word;
	char stmt[256];

	if (p->tok.kind == TOK_SEMI || (block && p->tok.kind == TOK_LBRACE)) {
		n = parse_commit(p, parent, st);
		if (n == NULL) {
			/* Out of memory: step over the rest, reporting nothing more. */
			p->stopped = true;
			parse_skip(p, p->tok.line);
		} else if (p->tok.kind == TOK_SEMI) {
			parse_advance(p);
		} else {
			parse_advance(p);
			parse_block(p, n, true);
		}
		return;
	}
	parse_stmt_text(s, s->kind == CFG_LEAFLIST ? NULL : st->head.value, stmt, sizeof(stmt));
	/* After a key (or where one goes), a stray word may be part of it: not repeated. */
	word = cfg_schema_holds_secret(s) ? "<secret>" : parse_token_text(&p->tok);
	if (s->kind == CFG_FLAG && parse_is_value(p) && p->tok.line == at.line)
		parse_error(p, parent, stmt, NULL, "syntax error: %s takes no value",
		    s->keyword);
	else if ((s->flags & CFG_F_INLINE) && parse_is_value(p) && p->tok.line == at.line)
		parse_error(p, parent, stmt, NULL, "syntax error: '%s' is not an option of %s%s",
		    word, s->keyword, cfg_schema_holds_secret(s) ?
		    " (a key with spaces goes in quotes)" : "");
	else if (parse_is_value(p) && p->tok.line == at.line)
		parse_error(p, parent, stmt, NULL, "syntax error: unexpected '%s' (expected ';'%s)",
		    word, block ? " or '{'" : "");
	else
		parse_error(p, parent, stmt, &at, "syntax error: expected ';'%s after this",
		    block ? " or '{'" : "");
	free(p->comment);
	p->comment = NULL;
	parse_skip(p, at.line);
}

static void
parse_statement(struct parser *p, struct cfg_node *parent, bool inactive, bool replace)
{
	struct parse_stmt st = { .inactive = inactive, .replace = replace };
	const struct cfg_schema *s, *c;
	const char *word;
	bool keyless = false, ok;

	st.head.loc = parse_loc(p);
	s = cfg_schema_child(parent->schema, p->tok.text);
	if (s == NULL) {
		for (c = parent->schema->children; c != NULL && c->keyword != NULL; c++) {
			if (c->flags & CFG_F_KEYLESS)
				s = c;
		}
		keyless = s != NULL;
	}
	if (s == NULL) {
		word = cfg_schema_holds_secret(parent->schema) ? "<secret>" : p->tok.text;
		parse_error(p, parent, word, NULL, "syntax error: '%s' is not a statement here",
		    word);
		parse_advance(p);
		goto skip;
	}
	st.head.s = s;
	if (!keyless)
		parse_advance(p);
	if (s->kind == CFG_LEAFLIST) {
		ok = parse_leaflist_values(p, parent, &st);
	} else if (cfg_schema_has_value(s)) {
		if (!parse_is_value(p)) {
			parse_error(p, parent, s->keyword, NULL, "syntax error: %s needs a value",
			    s->keyword);
			goto skip;
		}
		ok = parse_value(p, parent, NULL, s, st.head.loc, &st.head);
	} else {
		ok = true;
	}
	if (ok && (s->flags & CFG_F_INLINE))
		ok = parse_inline(p, parent, &st);
	if (!ok)
		goto skip;
	parse_end(p, parent, &st);
	parse_stmt_clear(&st);
	return;
skip:
	parse_stmt_clear(&st);
	free(p->comment);
	p->comment = NULL;
	parse_skip(p, st.head.loc.line);
}

static void
parse_block(struct parser *p, struct cfg_node *node, bool braced)
{
	bool inactive = false, replace = false;
	unsigned line;

	for (;;) {
		switch (p->tok.kind) {
		case TOK_EOF:
			if (braced)
				parse_error(p, node, NULL, NULL, "syntax error: missing '}'");
			/* Enclosing blocks are missing theirs too; once is enough. */
			p->stopped = true;
			goto end;
		case TOK_ERROR:
			parse_error(p, node, NULL, NULL, "syntax error");
			goto end;
		case TOK_RBRACE:
			if (braced) {
				parse_advance(p);
				goto end;
			}
			parse_error(p, node, "}", NULL, "syntax error: unbalanced '}'");
			parse_advance(p);
			break;
		case TOK_COMMENT:
			/* The comment right before a statement is its annotation. */
			free(p->comment);
			p->comment = cfg_annotation_new(p->tok.text);
			parse_advance(p);
			break;
		case TOK_WORD:
			if (strcmp(p->tok.text, "inactive:") == 0) {
				inactive = true;
				parse_advance(p);
				break;
			}
			if (strcmp(p->tok.text, "replace:") == 0) {
				replace = true;
				parse_advance(p);
				break;
			}
			parse_statement(p, node, inactive, replace);
			inactive = replace = false;
			break;
		case TOK_SEMI:
			parse_advance(p);
			break;
		default:
			line = p->tok.line;
			parse_error(p, node, parse_token_text(&p->tok), NULL,
			    "syntax error: unexpected '%s'", parse_token_text(&p->tok));
			/* A stray block is skipped whole; anything else, with its line. */
			if (p->tok.kind != TOK_LBRACE)
				parse_advance(p);
			parse_skip(p, line);
			break;
		}
	}
end:
	/* A comment last in a block annotates nothing. */
	free(p->comment);
	p->comment = NULL;
}

bool
cfg_looks_like_set(const char *text, size_t len)
{
	struct cfg_lexer lx;
	struct cfg_token tok;
	bool set = false;

	cfg_lex_init(&lx, text, len, false);
	while (cfg_lex_next(&lx, &tok) == TOK_COMMENT)
		;
	if (tok.kind == TOK_WORD)
		set = strcmp(tok.text, "set") == 0 || strcmp(tok.text, "delete") == 0 ||
		    strcmp(tok.text, "deactivate") == 0 || strcmp(tok.text, "activate") == 0;
	cfg_lex_free(&lx);
	return set;
}

struct cfg_node *
cfg_parse(const char *file, const char *text, size_t len, enum cfg_format fmt,
    struct cfg_diags *d)
{
	struct parser p;
	struct cfg_node *tree = cfg_tree_new();

	if (tree == NULL)
		return NULL;
	if (fmt == CFG_FORMAT_SET || (fmt == CFG_FORMAT_AUTO && cfg_looks_like_set(text, len))) {
		cfg_run_set_lines(tree, file, text, len, d);
		return tree;
	}
	memset(&p, 0, sizeof(p));
	p.file = file;
	p.d = d;
	cfg_lex_init(&p.lx, text, len, false);
	parse_advance(&p);
	parse_block(&p, tree, false);
	free(p.comment);
	cfg_lex_free(&p.lx);
	return tree;
}

void
cfg_tree_forget_locations(struct cfg_node *tree)
{
	struct cfg_node *c;

	tree->loc.file = NULL;
	for (c = tree->first; c != NULL; c = c->next)
		cfg_tree_forget_locations(c);
}
