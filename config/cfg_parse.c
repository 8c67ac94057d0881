/* Reading configuration text: the curly-brace form (statements, annotations, inactive:) and
 * the set form (one command per line). Every statement is checked against the schema as it
 * is read; one that fails is reported and skipped, and reading goes on. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_lex.h"
#include "cfg_secret.h"
#include "secbuf.h"

enum { PARSE_MAX_WORDS = 256 };

struct parser {
	struct cfg_lexer lx;
	struct cfg_token tok; /* the current token */
	const char *file;
	struct cfg_diags *d;
	char *comment;	      /* a comment waiting to annotate the next statement */
	char word[1024];      /* a copy of the token being worked on */
};

static void
parse_advance(struct parser *p)
{
	cfg_lex_next(&p->lx, &p->tok);
}

static struct cfg_loc
parse_loc(const struct parser *p)
{
	struct cfg_loc loc = { p->file, p->tok.line, p->tok.col };

	return loc;
}

static void __attribute__((format(printf, 4, 5)))
parse_error(struct parser *p, const struct cfg_node *at, const char *stmt, const char *fmt,
    ...)
{
	struct cfg_loc loc = parse_loc(p);
	char path[2048], msg[1024];
	va_list ap;

	cfg_node_path(at, path, sizeof(path));
	if (p->tok.kind == TOK_ERROR) {
		cfg_diag_at(p->d, CFG_ERROR, path, stmt, &loc, "syntax error: %s", p->lx.error);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_diag_at(p->d, CFG_ERROR, path, stmt, &loc, "%s", msg);
}

/* Skips the rest of a statement that failed: up to its ';', or over its { } block. */
static void
parse_skip(struct parser *p)
{
	unsigned depth = 0;

	for (;;) {
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

static bool
parse_is_value(const struct parser *p)
{
	return p->tok.kind == TOK_WORD || p->tok.kind == TOK_STRING;
}

/* Creates node s under parent with the current token as its value (if it takes one). */
static struct cfg_node *
parse_make(struct parser *p, struct cfg_node *parent, const struct cfg_schema *s,
    const char *value, struct cfg_loc loc)
{
	char canon[1024], err[512], stmt[1100];
	const char *shown = NULL;
	struct cfg_node *n;

	if (value != NULL) {
		if (cfg_value_check(s, value, canon, sizeof(canon), err, sizeof(err)) == -1) {
			char path[2048];

			cfg_node_path(parent, path, sizeof(path));
			snprintf(stmt, sizeof(stmt), "%s%s%s",
			    (s->flags & CFG_F_KEYLESS) ? "" : s->keyword,
			    (s->flags & CFG_F_KEYLESS) ? "" : " ",
			    (s->flags & CFG_F_SECRET) ? "\"<secret>\"" : value);
			cfg_diag_at(p->d, CFG_ERROR, path, stmt, &loc, "%s", err);
			return NULL;
		}
		if ((s->flags & CFG_F_SECRET) && cfg_secret_is_encoded(value))
			shown = value;
		value = canon;
	}
	n = cfg_node_set(parent, s, value, shown);
	secure_wipe(canon, sizeof(canon));
	if (n == NULL) {
		parse_error(p, parent, s->keyword, "out of memory");
		return NULL;
	}
	n->loc = loc;
	return n;
}

static void parse_block(struct parser *p, struct cfg_node *node, bool braced);

/* After a statement's own words: more statements on the same line (INLINE), then ';' or a
 * block. Returns false after reporting an error. */
static bool
parse_tail(struct parser *p, struct cfg_node *n)
{
	const struct cfg_schema *c;
	struct cfg_node *kid;
	struct cfg_loc loc;

	while ((n->schema->flags & CFG_F_INLINE) && p->tok.kind == TOK_WORD) {
		c = cfg_schema_child(n->schema, p->tok.text);
		if (c == NULL) {
			parse_error(p, n, p->tok.text, "syntax error: '%s' is not a statement here",
			    p->tok.text);
			return false;
		}
		loc = parse_loc(p);
		parse_advance(p);
		if (cfg_schema_has_value(c)) {
			if (!parse_is_value(p)) {
				parse_error(p, n, c->keyword, "syntax error: %s needs a value",
				    c->keyword);
				return false;
			}
			snprintf(p->word, sizeof(p->word), "%s", p->tok.text);
			kid = parse_make(p, n, c, p->word, loc);
			parse_advance(p);
		} else {
			kid = parse_make(p, n, c, NULL, loc);
		}
		if (kid == NULL)
			return false;
	}
	if (p->tok.kind == TOK_SEMI) {
		parse_advance(p);
		return true;
	}
	if (p->tok.kind == TOK_LBRACE && n->schema->children != NULL) {
		parse_advance(p);
		parse_block(p, n, true);
		return true;
	}
	parse_error(p, n, n->schema->keyword, "syntax error: expected ';'%s",
	    n->schema->children != NULL ? " or '{'" : "");
	return false;
}

static bool
parse_leaflist(struct parser *p, struct cfg_node *parent, const struct cfg_schema *s)
{
	struct cfg_loc loc;
	bool ok = true;

	if (p->tok.kind != TOK_LBRACKET) {
		snprintf(p->word, sizeof(p->word), "%s", p->tok.text);
		loc = parse_loc(p);
		ok = parse_make(p, parent, s, p->word, loc) != NULL;
		parse_advance(p);
	} else {
		for (parse_advance(p); parse_is_value(p); parse_advance(p)) {
			snprintf(p->word, sizeof(p->word), "%s", p->tok.text);
			loc = parse_loc(p);
			ok = parse_make(p, parent, s, p->word, loc) != NULL && ok;
		}
		if (p->tok.kind != TOK_RBRACKET) {
			parse_error(p, parent, s->keyword, "syntax error: expected ']'");
			return false;
		}
		parse_advance(p);
	}
	if (p->tok.kind != TOK_SEMI) {
		parse_error(p, parent, s->keyword, "syntax error: expected ';'");
		return false;
	}
	parse_advance(p);
	return ok;
}

static void
parse_statement(struct parser *p, struct cfg_node *parent, bool inactive, bool replace)
{
	const struct cfg_schema *s, *c;
	struct cfg_node *n;
	struct cfg_loc loc = parse_loc(p);
	bool keyless = false;

	s = cfg_schema_child(parent->schema, p->tok.text);
	if (s == NULL) {
		for (c = parent->schema->children; c != NULL && c->keyword != NULL; c++) {
			if (c->flags & CFG_F_KEYLESS)
				s = c;
		}
		keyless = s != NULL;
	}
	if (s == NULL) {
		parse_error(p, parent, p->tok.text, "syntax error: '%s' is not a statement here",
		    p->tok.text);
		goto skip;
	}
	if (!keyless)
		parse_advance(p);
	if (s->kind == CFG_LEAFLIST) {
		if (!parse_is_value(p) && p->tok.kind != TOK_LBRACKET) {
			parse_error(p, parent, s->keyword, "syntax error: %s needs a value",
			    s->keyword);
			goto skip;
		}
		if (!parse_leaflist(p, parent, s))
			goto skip;
		return;
	}
	if (cfg_schema_has_value(s)) {
		if (!parse_is_value(p)) {
			parse_error(p, parent, s->keyword, "syntax error: %s needs a value",
			    s->keyword);
			goto skip;
		}
		snprintf(p->word, sizeof(p->word), "%s", p->tok.text);
		parse_advance(p);
		n = parse_make(p, parent, s, p->word, loc);
	} else {
		n = parse_make(p, parent, s, NULL, loc);
	}
	secure_wipe(p->word, sizeof(p->word));
	if (n == NULL)
		goto skip;
	n->inactive = inactive;
	n->replace = replace;
	if (p->comment != NULL) {
		free(n->annotation);
		n->annotation = p->comment;
		p->comment = NULL;
	}
	if (s->kind == CFG_FLAG && p->tok.kind != TOK_SEMI) {
		parse_error(p, parent, s->keyword, "syntax error: %s takes no value", s->keyword);
		goto skip;
	}
	if (!parse_tail(p, n))
		goto skip;
	return;
skip:
	free(p->comment);
	p->comment = NULL;
	parse_skip(p);
}

static void
parse_block(struct parser *p, struct cfg_node *node, bool braced)
{
	bool inactive = false, replace = false;

	for (;;) {
		switch (p->tok.kind) {
		case TOK_EOF:
			if (braced)
				parse_error(p, node, NULL, "syntax error: missing '}'");
			return;
		case TOK_ERROR:
			parse_error(p, node, NULL, "syntax error");
			return;
		case TOK_RBRACE:
			if (braced) {
				parse_advance(p);
				return;
			}
			parse_error(p, node, "}", "syntax error: unbalanced '}'");
			parse_advance(p);
			break;
		case TOK_COMMENT:
			/* The comment right before a statement is its annotation. */
			free(p->comment);
			p->comment = strdup(p->tok.text);
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
			parse_error(p, node, p->tok.text, "syntax error: unexpected '%s'",
			    p->tok.text);
			parse_skip(p);
			break;
		}
	}
}

static const char *const parse_verbs[] = {
	[CFG_OP_SET] = "set",
	[CFG_OP_DELETE] = "delete",
	[CFG_OP_ACTIVATE] = "activate",
	[CFG_OP_DEACTIVATE] = "deactivate",
	[CFG_OP_ANNOTATE] = NULL,
};

/* One set-form line, already split into words. */
static int
parse_set_line(struct cfg_node *tree, char **words, struct cfg_loc *locs, int n,
    struct cfg_diags *d)
{
	size_t op;

	for (op = 0; op < sizeof(parse_verbs) / sizeof(parse_verbs[0]); op++) {
		if (parse_verbs[op] != NULL && strcmp(words[0], parse_verbs[op]) == 0)
			return cfg_apply(tree, (enum cfg_op)op, words + 1, n - 1, NULL, false,
			    locs + 1, d);
	}
	cfg_diag_at(d, CFG_ERROR, "", words[0], &locs[0],
	    "syntax error: a line starts with set, delete, activate or deactivate");
	return -1;
}

static void
parse_free_words(char **words, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		secure_wipe(words[i], strlen(words[i]));
		free(words[i]);
	}
}

int
cfg_run_set_lines(struct cfg_node *tree, const char *file, const char *text, size_t len,
    struct cfg_diags *d)
{
	struct cfg_lexer lx;
	struct cfg_token tok;
	struct cfg_loc locs[PARSE_MAX_WORDS];
	char *words[PARSE_MAX_WORDS];
	int n = 0, failed = 0;
	bool too_long = false;

	cfg_lex_init(&lx, text, len, true);
	for (;;) {
		cfg_lex_next(&lx, &tok);
		if (tok.kind == TOK_WORD || tok.kind == TOK_STRING || tok.kind == TOK_LBRACKET ||
		    tok.kind == TOK_RBRACKET) {
			if (n == PARSE_MAX_WORDS) {
				too_long = true;
				continue;
			}
			words[n] = strdup(tok.kind == TOK_LBRACKET ? "[" :
			    tok.kind == TOK_RBRACKET ? "]" : tok.text);
			if (words[n] == NULL)
				break;
			locs[n] = (struct cfg_loc){ file, tok.line, tok.col };
			n++;
			continue;
		}
		if (tok.kind == TOK_COMMENT)
			continue;
		if (tok.kind == TOK_ERROR) {
			struct cfg_loc at = { file, tok.line, tok.col };

			cfg_diag_at(d, CFG_ERROR, "", NULL, &at, "syntax error: %s", lx.error);
			failed++;
			break;
		}
		/* End of a line (or of the text): run what it said. */
		if (too_long) {
			cfg_diag_at(d, CFG_ERROR, "", NULL, &locs[0], "line too long");
			failed++;
		} else if (n > 0 && parse_set_line(tree, words, locs, n, d) == -1) {
			failed++;
		}
		parse_free_words(words, n);
		n = 0;
		too_long = false;
		if (tok.kind == TOK_EOF)
			break;
		if (tok.kind != TOK_NEWLINE) {
			struct cfg_loc at = { file, tok.line, tok.col };

			cfg_diag_at(d, CFG_ERROR, "", tok.text, &at,
			    "syntax error: braces and ';' do not belong in set commands");
			failed++;
			/* Skip the rest of that line. */
			while (tok.kind != TOK_NEWLINE && tok.kind != TOK_EOF &&
			    tok.kind != TOK_ERROR)
				cfg_lex_next(&lx, &tok);
			if (tok.kind != TOK_NEWLINE)
				break;
		}
	}
	parse_free_words(words, n);
	cfg_lex_free(&lx);
	return failed;
}

/* Set form when the first word of the text is a set-form verb. */
static bool
parse_looks_like_set(const char *text, size_t len)
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
	if (fmt == CFG_FORMAT_SET || (fmt == CFG_FORMAT_AUTO && parse_looks_like_set(text, len))) {
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
