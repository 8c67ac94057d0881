#include "cfg_lex.h"

#include <stdlib.h>
#include <string.h>

#include "secbuf.h"

void
cfg_lex_init(struct cfg_lexer *lx, const char *src, size_t len, bool newlines)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
	lx->newlines = newlines;
}

void
cfg_lex_free(struct cfg_lexer *lx)
{
	secure_wipe(lx->buf, lx->bufcap);
	free(lx->buf);
	lx->buf = NULL;
	lx->bufcap = 0;
}

static int
lex_peek(const struct cfg_lexer *lx, size_t ahead)
{
	return lx->pos + ahead < lx->len ? (unsigned char)lx->src[lx->pos + ahead] : -1;
}

static int
lex_get(struct cfg_lexer *lx)
{
	int c = lex_peek(lx, 0);

	if (c == -1)
		return -1;
	lx->pos++;
	if (c == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	return c;
}

static bool
lex_put(struct cfg_lexer *lx, int c)
{
	char *grown;
	size_t cap;

	if (lx->buflen + 2 > lx->bufcap) {
		cap = lx->bufcap > 0 ? lx->bufcap * 2 : 128;
		grown = malloc(cap);
		if (grown == NULL)
			return false;
		/* Not realloc: the old buffer may hold a key and must be wiped, not abandoned. */
		if (lx->buf != NULL) {
			memcpy(grown, lx->buf, lx->buflen);
			secure_wipe(lx->buf, lx->bufcap);
			free(lx->buf);
		}
		lx->buf = grown;
		lx->bufcap = cap;
	}
	lx->buf[lx->buflen++] = (char)c;
	lx->buf[lx->buflen] = '\0';
	return true;
}

static bool
lex_is_special(int c)
{
	return c == '{' || c == '}' || c == ';' || c == '[' || c == ']' || c == '"';
}

static bool
lex_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void
lex_trim(struct cfg_lexer *lx)
{
	size_t start = 0;

	while (lx->buflen > 0 && lex_is_space((unsigned char)lx->buf[lx->buflen - 1]))
		lx->buf[--lx->buflen] = '\0';
	while (start < lx->buflen && lex_is_space((unsigned char)lx->buf[start]))
		start++;
	memmove(lx->buf, lx->buf + start, lx->buflen - start + 1);
	lx->buflen -= start;
}

static enum cfg_tok
lex_error(struct cfg_lexer *lx, const char *what)
{
	strncpy(lx->error, what, sizeof(lx->error) - 1);
	return TOK_ERROR;
}

static enum cfg_tok
lex_block_comment(struct cfg_lexer *lx)
{
	int c;

	lex_get(lx);
	lex_get(lx);
	for (;;) {
		c = lex_get(lx);
		if (c == -1)
			return lex_error(lx, "unterminated comment");
		if (c == '*' && lex_peek(lx, 0) == '/') {
			lex_get(lx);
			break;
		}
		if (!lex_put(lx, c))
			return lex_error(lx, "out of memory");
	}
	lex_trim(lx);
	return TOK_COMMENT;
}

static enum cfg_tok
lex_string(struct cfg_lexer *lx)
{
	int c;

	lex_get(lx);
	for (;;) {
		c = lex_get(lx);
		if (c == -1 || c == '\n')
			return lex_error(lx, "unterminated quoted string");
		if (c == '"')
			break;
		if (c == '\\') {
			c = lex_get(lx);
			if (c == -1)
				return lex_error(lx, "unterminated quoted string");
		}
		if (!lex_put(lx, c))
			return lex_error(lx, "out of memory");
	}
	return TOK_STRING;
}

enum cfg_tok
cfg_lex_next(struct cfg_lexer *lx, struct cfg_token *tok)
{
	enum cfg_tok kind;
	int c;

	lx->buflen = 0;
	if (lx->buf != NULL)
		lx->buf[0] = '\0';
	for (;;) {
		c = lex_peek(lx, 0);
		if (c == '\n' && lx->newlines)
			break;
		if (c == -1 || !(lex_is_space(c) || c == '\n'))
			break;
		lex_get(lx);
	}
	tok->line = lx->line;
	tok->col = lx->col;
	tok->text = "";
	c = lex_peek(lx, 0);
	switch (c) {
	case -1:
		kind = TOK_EOF;
		break;
	case '\n':
		lex_get(lx);
		kind = TOK_NEWLINE;
		break;
	case '{': lex_get(lx); kind = TOK_LBRACE; break;
	case '}': lex_get(lx); kind = TOK_RBRACE; break;
	case ';': lex_get(lx); kind = TOK_SEMI; break;
	case '[': lex_get(lx); kind = TOK_LBRACKET; break;
	case ']': lex_get(lx); kind = TOK_RBRACKET; break;
	case '"':
		kind = lex_string(lx);
		break;
	case '#':
		lex_get(lx);
		/* "## ..." lines are the system's own (SECRET-DATA, last changed): no text. */
		if (lex_peek(lx, 0) == '#') {
			while ((c = lex_peek(lx, 0)) != -1 && c != '\n')
				lex_get(lx);
			return cfg_lex_next(lx, tok);
		}
		while ((c = lex_peek(lx, 0)) != -1 && c != '\n') {
			if (!lex_put(lx, lex_get(lx))) {
				kind = lex_error(lx, "out of memory");
				goto out;
			}
		}
		lex_trim(lx);
		kind = TOK_COMMENT;
		break;
	default:
		if (c == '/' && lex_peek(lx, 1) == '*') {
			kind = lex_block_comment(lx);
			break;
		}
		while ((c = lex_peek(lx, 0)) != -1 && !lex_is_space(c) && c != '\n' &&
		    !lex_is_special(c)) {
			if (!lex_put(lx, lex_get(lx))) {
				kind = lex_error(lx, "out of memory");
				goto out;
			}
		}
		kind = TOK_WORD;
		break;
	}
out:
	tok->kind = kind;
	if (lx->buf != NULL)
		tok->text = lx->buf;
	return kind;
}
