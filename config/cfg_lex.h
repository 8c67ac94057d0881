/* Tokens of the Junos configuration language: words, "quoted strings", { } [ ] ;, and the
 * two kinds of comments. Positions are 1-based line and column, for file:line:col errors. */
#ifndef PICSEC_CFG_LEX_H
#define PICSEC_CFG_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum cfg_tok {
	TOK_EOF,
	TOK_WORD,
	TOK_STRING,   /* the text without quotes, escapes resolved */
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_SEMI,
	TOK_LBRACKET,
	TOK_RBRACKET,
	TOK_COMMENT,  /* a slash-star or '#' comment, its text trimmed */
	TOK_NEWLINE,  /* only when the lexer was asked for them (set form) */
	TOK_ERROR,    /* an unterminated string or comment; the message is in the lexer */
};

struct cfg_token {
	enum cfg_tok kind;
	const char *text; /* valid until the next token */
	unsigned line, col;
};

struct cfg_lexer {
	const char *src;
	size_t len, pos;
	unsigned line, col;
	bool newlines;
	char *buf;
	size_t buflen, bufcap;
	char error[160];
};

void cfg_lex_init(struct cfg_lexer *lx, const char *src, size_t len, bool newlines);
enum cfg_tok cfg_lex_next(struct cfg_lexer *lx, struct cfg_token *tok);
/* Wipes the text buffer (keys pass through it) and frees it. */
void cfg_lex_free(struct cfg_lexer *lx);

#endif
