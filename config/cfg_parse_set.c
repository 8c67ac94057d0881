/* Reading the set form: one command per line (set, delete, activate, deactivate), each run
 * through cfg_apply, which changes nothing when a command fails. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg_lex.h"
#include "secbuf.h"

enum { PARSE_MAX_WORDS = 256 };

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
			if (words[n] == NULL) {
				struct cfg_loc at = { file, tok.line, tok.col };

				cfg_diag_at(d, CFG_ERROR, "", NULL, &at, "out of memory");
				failed++;
				break;
			}
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
		/* A brace or ';' spoils the whole line: nothing of it is run. */
		if (tok.kind != TOK_NEWLINE && tok.kind != TOK_EOF) {
			struct cfg_loc at = { file, tok.line, tok.col };

			cfg_diag_at(d, CFG_ERROR, "", tok.kind == TOK_LBRACE ? "{" :
			    tok.kind == TOK_RBRACE ? "}" : ";", &at,
			    "syntax error: braces and ';' do not belong in set commands");
			failed++;
			while (tok.kind != TOK_NEWLINE && tok.kind != TOK_EOF &&
			    tok.kind != TOK_ERROR)
				cfg_lex_next(&lx, &tok);
			parse_free_words(words, n);
			n = 0;
			too_long = false;
			if (tok.kind != TOK_NEWLINE)
				break;
			continue;
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
	}
	parse_free_words(words, n);
	cfg_lex_free(&lx);
	return failed;
}

