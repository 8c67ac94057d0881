/* The Junos configuration language of libpicsec-config, piece by piece: $9$ secrets, the
 * lexer, leaf-lists, the edit commands (set, delete, activate, deactivate, annotate, with
 * and without abbreviations), choices that replace each other, `show | compare`, and input
 * that is not a configuration at all. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cfg_lex.h"
#include "cfg_secret.h"
#include "config.h"

/* Helpers */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64: deterministic, so a failure reproduces */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static char *
report(const struct cfg_diags *d)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	cfg_diags_format(d, &sb, "load failed");
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

static char *
show(const struct cfg_node *tree)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	cfg_display(tree, &sb);
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

static char *
show_set(const struct cfg_node *tree)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	cfg_display_set(tree, &sb);
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

static char *
compare(const struct cfg_node *a, const struct cfg_node *b)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	cfg_compare(a, b, &sb);
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

/* Parses text that must be clean. */
static struct cfg_node *
parse_ok(const char *text)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct cfg_node *tree = cfg_parse("t.conf", text, strlen(text), CFG_FORMAT_AUTO, &d);

	cr_assert_not_null(tree);
	if (d.count > 0)
		cr_assert_fail("unexpected diagnostics:\n%s\nfor:\n%s", report(&d), text);
	cfg_diags_free(&d);
	return tree;
}

/* Parses text, returning the report in *out (NULL when clean). */
static struct cfg_node *
parse_report(const char *text, enum cfg_format fmt, char **out, size_t *errors)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct cfg_node *tree = cfg_parse("t.conf", text, strlen(text), fmt, &d);

	cr_assert_not_null(tree);
	*out = d.count > 0 ? report(&d) : NULL;
	*errors = d.errors;
	cfg_diags_free(&d);
	return tree;
}

/* Runs one command given as space-separated words. Returns cfg_apply's result; the report,
 * if any, goes to *out (when out is not NULL). */
static int
run(struct cfg_node *tree, enum cfg_op op, const char *line, const char *annotation,
    bool abbrev, char **out)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	char *copy = strdup(line), *save = NULL, *w;
	char *words[64];
	int n = 0, rc;

	for (w = strtok_r(copy, " ", &save); w != NULL && n < 64; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	rc = cfg_apply(tree, op, words, n, annotation, abbrev, NULL, &d);
	if (out != NULL)
		*out = d.count > 0 ? report(&d) : NULL;
	cfg_diags_free(&d);
	free(copy);
	return rc;
}

static void
set_ok(struct cfg_node *tree, const char *line)
{
	char *msg = NULL;

	if (run(tree, CFG_OP_SET, line, NULL, false, &msg) != 0)
		cr_assert_fail("set %s: %s", line, msg != NULL ? msg : "(no message)");
	cr_assert_null(msg, "set %s said:\n%s", line, msg);
}

/* The node a path of keywords and list names leads to, or NULL (active or not). A leaf is
 * named by its keyword alone. */
static struct cfg_node *
walk(struct cfg_node *tree, const char *line)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	char *copy = strdup(line), *save = NULL, *w;
	struct cfg_node *n = tree;

	for (w = strtok_r(copy, " ", &save); w != NULL && n != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		const struct cfg_schema *s = cfg_schema_child(n->schema, w);

		if (s == NULL) {
			n = NULL;
			break;
		}
		if (s->kind == CFG_LIST || s->kind == CFG_LEAFLIST) {
			w = strtok_r(NULL, " ", &save);
			n = w != NULL ? cfg_node_find(n, s, w) : NULL;
		} else {
			n = cfg_node_find(n, s, NULL);
		}
	}
	free(copy);
	cfg_diags_free(&d);
	return n;
}

static size_t
count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;
	const char *p = text;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static const char secret_alphabet[] =
    "QzF3n6/9CAtpu0OB1IREhcSyrleKvMW8LXx7N-dVbwsY2g4oaJZGUDjiHkq.mPf5T";

/* $9$ secrets */

Test(secret, decodes_the_public_vector)
{
	char out[16];

	cr_assert_eq(cfg_secret_decode("$9$LbHX-wg4Z", out, sizeof(out)), 2);
	cr_assert_str_eq(out, "lc");
	cr_assert(cfg_secret_is_encoded("$9$LbHX-wg4Z"));
	cr_assert_not(cfg_secret_is_encoded("LbHX-wg4Z"));
	cr_assert_not(cfg_secret_is_encoded("$8$abc"));
}

/* Written by an independent port of Crypt::Juniper's encrypt, each with a random salt. */
Test(secret, decodes_what_another_implementation_encoded)
{
	static const struct {
		const char *enc, *plain;
	} v[] = {
		{ "$9$nN7r6CuREyvWxO1LN-dwsz36A0IhSe8X-Ap", "hello world" },
		{ "$9$7HNwYgoJUik2gz369pu7-dsaZ.P5Qn/bsgJDjPfFn/CtOcSeKWLIR-VY2aJ69Ct1RlKM-bsx7P5Qz"
		  "CAuO1hclW87ws4hS", "0123456789abcdef0123456789abcdef" },
		{ "$9$dKw2oDi.z39iku1IRcSKMWLVw4oJZGDyrs4aZq.tuOBcl8LNws41IRhcl8LX7NbYoDjqmT3",
		  "Junos $9$ \"quoted\" \\ key" },
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(cfg_secret_decode(v[i].enc, out, sizeof(out)), (int)strlen(v[i].plain),
		    "%s", v[i].enc);
		cr_assert_str_eq(out, v[i].plain);
	}
}

/* Every length a key may have, every byte value, random and fixed salts: what is encoded
 * decodes to exactly the same bytes, and the text is $9$ and alphabet letters only. */
Test(secret, round_trips_every_length)
{
	unsigned char plain[255];
	char enc[2048], dec[512], enc2[2048];
	size_t len, i;
	int n, m;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (len = 1; len <= 255; len++) {
		for (i = 0; i < len; i++)
			plain[i] = (unsigned char)(rng() & 0xff);
		if (len == 255)
			for (i = 0; i < 255; i++)
				plain[i] = (unsigned char)(i + 1); /* every nonzero byte once */
		n = cfg_secret_encode((const char *)plain, len, enc, sizeof(enc),
		    len % 2 == 0 ? 0 : (unsigned)len);
		cr_assert_gt(n, 3, "length %zu: encode failed", len);
		cr_assert_eq((size_t)n, strlen(enc));
		cr_assert(strncmp(enc, "$9$", 3) == 0);
		cr_assert_eq(strspn(enc + 3, secret_alphabet), (size_t)n - 3,
		    "length %zu: %s has a letter outside the alphabet", len, enc);
		m = cfg_secret_decode(enc, dec, sizeof(dec));
		cr_assert_eq(m, (int)len, "length %zu: decoded %d bytes from %s", len, m, enc);
		cr_assert(memcmp(dec, plain, len) == 0, "length %zu: %s decodes to other bytes", len,
		    enc);
		/* Another salt, another text, the same key. */
		n = cfg_secret_encode((const char *)plain, len, enc2, sizeof(enc2), (unsigned)len + 7);
		cr_assert_gt(n, 3);
		cr_assert_eq(cfg_secret_decode(enc2, dec, sizeof(dec)), (int)len);
		cr_assert(memcmp(dec, plain, len) == 0);
	}
	/* A fixed seed is reproducible; different seeds give different texts. */
	cfg_secret_encode("abc", 3, enc, sizeof(enc), 42);
	cfg_secret_encode("abc", 3, enc2, sizeof(enc2), 42);
	cr_assert_str_eq(enc, enc2);
	cfg_secret_encode("abc", 3, enc2, sizeof(enc2), 43);
	cr_assert_str_neq(enc, enc2);
}

Test(secret, encode_refuses_a_short_buffer)
{
	char out[8];

	cr_assert_eq(cfg_secret_encode("a long enough key", 17, out, sizeof(out), 1), -1);
}

Test(secret, decode_refuses_what_is_not_9)
{
	char out[64];

	cr_assert_eq(cfg_secret_decode("LbHX-wg4Z", out, sizeof(out)), -1, "no prefix");
	cr_assert_eq(cfg_secret_decode("$9$LbHX-wg4", out, sizeof(out)), -1, "cut in a byte");
	cr_assert_eq(cfg_secret_decode("$9$LbHX-wg4!", out, sizeof(out)), -1, "a stray letter");
	cr_assert_eq(cfg_secret_decode("$9$L", out, sizeof(out)), -1, "salt without filler");
	cr_assert_eq(cfg_secret_decode("$9$LbHX-wg4Z", out, 2), -1, "no room for the NUL");
}

/* "$9$" and nothing else: the decoder must stop at the end of the string. Allocated to the
 * byte, so the sanitizer build sees any read past it. */
Test(secret, decode_stops_at_the_end_of_an_empty_secret)
{
	static const char *const cases[] = { "$9$", "$9$Q", "$9$Qz", "$9$i" };
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i]) + 1;
		char *heap = malloc(len);

		memcpy(heap, cases[i], len);
		cr_assert_leq(cfg_secret_decode(heap, out, sizeof(out)), 0, "%s", cases[i]);
		free(heap);
	}
}

/* A plaintext key goes in, a $9$ comes out; the tree keeps the plaintext for the daemons. */
Test(secret, plaintext_in_9_out)
{
	static const char text[] =
	    "services {\n    ipsec-vpn {\n        ike {\n            policy p {\n"
	    "                pre-shared-key ascii-text \"my plain psk\";\n"
	    "            }\n        }\n    }\n}\n";
	struct cfg_node *tree = parse_ok(text), *again, *psk, *psk2;
	char *shown, *shown2, *set_form, plain[64];
	const char *enc;

	psk = cfg_child(walk(tree, "services ipsec-vpn ike policy p pre-shared-key"), "ascii-text");
	cr_assert_not_null(psk);
	cr_assert_str_eq(psk->value, "my plain psk");
	cr_assert_not_null(psk->shown);
	cr_assert(cfg_secret_is_encoded(psk->shown));
	cr_assert_eq(cfg_secret_decode(psk->shown, plain, sizeof(plain)), 12);
	cr_assert_str_eq(plain, "my plain psk");

	shown = show(tree);
	cr_assert_null(strstr(shown, "my plain psk"), "plaintext displayed:\n%s", shown);
	enc = strstr(shown, "pre-shared-key ascii-text \"$9$");
	cr_assert_not_null(enc, "%s", shown);
	cr_assert_not_null(strstr(shown, "\"; ## SECRET-DATA\n"), "%s", shown);
	set_form = show_set(tree);
	cr_assert_null(strstr(set_form, "my plain psk"), "%s", set_form);
	cr_assert_not_null(strstr(set_form, psk->shown), "%s", set_form);

	/* Reading the display back keeps that very $9$ text, so the display never changes. */
	again = parse_ok(shown);
	psk2 = cfg_child(walk(again, "services ipsec-vpn ike policy p pre-shared-key"),
	    "ascii-text");
	cr_assert_str_eq(psk2->value, "my plain psk");
	cr_assert_str_eq(psk2->shown, psk->shown);
	shown2 = show(again);
	cr_assert_str_eq(shown2, shown);
	cfg_node_free(again);
	cfg_node_free(tree);
	free(shown);
	free(shown2);
	free(set_form);
}

Test(secret, plaintext_set_command_shows_9)
{
	struct cfg_node *tree = cfg_tree_new();
	struct cfg_node *key;
	char *shown;

	set_ok(tree, "services ipsec-vpn rule r1 term t1 then manual direction bidirectional "
	    "authentication key hexadecimal 00112233445566778899aabbccddeeff");
	key = walk(tree, "services ipsec-vpn rule r1 term t1 then manual direction bidirectional "
	    "authentication key");
	cr_assert_not_null(key);
	cr_assert_str_eq(cfg_child(key, "hexadecimal")->value, "00112233445566778899aabbccddeeff");
	shown = show_set(tree);
	cr_assert_null(strstr(shown, "00112233445566778899aabbccddeeff"), "%s", shown);
	cr_assert_not_null(strstr(shown, "key hexadecimal \"$9$"), "%s", shown);
	cfg_node_free(tree);
	free(shown);
}

/* Reports about keys never quote them. */
Test(secret, reports_do_not_show_key_material)
{
	char text[1024], *msg;
	struct cfg_node *tree;
	struct cfg_diags d = CFG_DIAGS_INIT;
	size_t errors;

	/* Too long for any key (1..255): refused at parse. */
	snprintf(text, sizeof(text),
	    "services { ipsec-vpn { ike { policy p { pre-shared-key ascii-text \"%0300d\"; } } } }",
	    7);
	tree = parse_report(text, CFG_FORMAT_BRACES, &msg, &errors);
	cr_assert_eq(errors, 1, "%s", msg != NULL ? msg : "");
	cr_assert_null(strstr(msg, "0000000007"), "%s", msg);
	free(msg);
	cfg_node_free(tree);

	/* A hexadecimal key with a letter that is no hex digit: refused by the check. */
	tree = parse_ok("security { ipsec { security-association sa { mode transport; manual {\n"
	    "direction bidirectional { protocol ah; spi 300; authentication {\n"
	    "algorithm hmac-md5-96; key hexadecimal \"secretsecretsecretsecretsecretzz\"; } } } } } }");
	cfg_check(tree, &d);
	msg = report(&d);
	cr_assert_gt(d.errors, 0, "%s", msg);
	cr_assert_null(strstr(msg, "secretsecret"), "%s", msg);
	free(msg);
	cfg_diags_free(&d);
	cfg_node_free(tree);
}

/* The lexer */

struct tok {
	enum cfg_tok kind;
	const char *text;
	unsigned line, col;
};

static void
expect_tokens(const char *src, bool newlines, const struct tok *want, size_t n)
{
	struct cfg_lexer lx;
	struct cfg_token t;
	size_t i;

	cfg_lex_init(&lx, src, strlen(src), newlines);
	for (i = 0; i < n; i++) {
		cfg_lex_next(&lx, &t);
		cr_assert_eq(t.kind, want[i].kind, "token %zu of %s: kind %d, want %d (\"%s\")", i,
		    src, t.kind, want[i].kind, t.text);
		if (want[i].text != NULL)
			cr_assert_str_eq(t.text, want[i].text, "token %zu of %s", i, src);
		if (want[i].line != 0) {
			cr_assert_eq(t.line, want[i].line, "token %zu line", i);
			cr_assert_eq(t.col, want[i].col, "token %zu col", i);
		}
	}
	cfg_lex_free(&lx);
}

Test(lexer, words_punctuation_and_positions)
{
	static const struct tok want[] = {
		{ TOK_WORD, "rule", 1, 1 },
		{ TOK_WORD, "r1", 1, 6 },
		{ TOK_LBRACE, NULL, 1, 9 },
		{ TOK_WORD, "proposals", 2, 5 },
		{ TOK_LBRACKET, NULL, 2, 15 },
		{ TOK_WORD, "a", 2, 17 },
		{ TOK_WORD, "b-2/0.1", 2, 19 },
		{ TOK_RBRACKET, NULL, 2, 27 },
		{ TOK_SEMI, NULL, 2, 28 },
		{ TOK_RBRACE, NULL, 3, 1 },
		{ TOK_EOF, NULL, 0, 0 },
		{ TOK_EOF, NULL, 0, 0 },
	};

	expect_tokens("rule r1 {\n    proposals [ a b-2/0.1 ];\n}", false, want,
	    sizeof(want) / sizeof(want[0]));
}

Test(lexer, comments_and_secret_data)
{
	static const struct tok want[] = {
		{ TOK_COMMENT, "two\n   lines", 1, 1 },
		{ TOK_WORD, "a", 2, 13 },
		{ TOK_SEMI, NULL, 2, 14 },
		{ TOK_COMMENT, "hash comment", 2, 16 },
		{ TOK_WORD, "key", 3, 1 },
		{ TOK_STRING, "$9$LbHX-wg4Z", 3, 5 },
		{ TOK_SEMI, NULL, 3, 19 },
		/* "## SECRET-DATA" is the system's: no token at all */
		{ TOK_WORD, "b", 4, 1 },
		{ TOK_EOF, NULL, 0, 0 },
	};

	expect_tokens("/*  two\n   lines */ a; #  hash comment  \nkey \"$9$LbHX-wg4Z\"; ## SECRET-DATA\n"
	    "b", false, want, sizeof(want) / sizeof(want[0]));
}

Test(lexer, quoted_strings_and_escapes)
{
	static const struct tok want[] = {
		{ TOK_STRING, "say \"hi\" \\ {not a brace};", 1, 1 },
		{ TOK_STRING, "", 1, 32 },
		{ TOK_WORD, "x", 1, 35 },
		{ TOK_EOF, NULL, 0, 0 },
	};

	expect_tokens("\"say \\\"hi\\\" \\\\ {not a brace};\" \"\" x", false, want,
	    sizeof(want) / sizeof(want[0]));
}

Test(lexer, inactive_is_a_word)
{
	static const struct tok want[] = {
		{ TOK_WORD, "inactive:", 1, 1 },
		{ TOK_WORD, "syslog", 1, 11 },
		{ TOK_SEMI, NULL, 1, 17 },
		{ TOK_EOF, NULL, 0, 0 },
	};

	expect_tokens("inactive: syslog;", false, want, sizeof(want) / sizeof(want[0]));
}

Test(lexer, newlines_only_when_asked)
{
	static const struct tok with[] = {
		{ TOK_WORD, "set", 1, 1 },
		{ TOK_WORD, "a", 1, 5 },
		{ TOK_NEWLINE, NULL, 1, 6 },
		{ TOK_NEWLINE, NULL, 2, 1 },
		{ TOK_WORD, "set", 3, 1 },
		{ TOK_EOF, NULL, 0, 0 },
	};
	static const struct tok without[] = {
		{ TOK_WORD, "set", 1, 1 },
		{ TOK_WORD, "a", 1, 5 },
		{ TOK_WORD, "set", 3, 1 },
		{ TOK_EOF, NULL, 0, 0 },
	};

	expect_tokens("set a\n\nset", true, with, sizeof(with) / sizeof(with[0]));
	expect_tokens("set a\n\nset", false, without, sizeof(without) / sizeof(without[0]));
}

Test(lexer, unterminated_string_and_comment_are_errors)
{
	struct cfg_lexer lx;
	struct cfg_token t;

	cfg_lex_init(&lx, "a \"open\nb;", 10, false);
	cr_assert_eq(cfg_lex_next(&lx, &t), TOK_WORD);
	cr_assert_eq(cfg_lex_next(&lx, &t), TOK_ERROR);
	cr_assert_str_eq(lx.error, "unterminated quoted string");
	cfg_lex_free(&lx);

	cfg_lex_init(&lx, "/* never closed", 15, false);
	cr_assert_eq(cfg_lex_next(&lx, &t), TOK_ERROR);
	cr_assert_str_eq(lx.error, "unterminated comment");
	cfg_lex_free(&lx);
}

/* The parser on what the lexer gives it */

Test(parser, annotations_inactive_and_secret_data)
{
	static const char text[] =
	    "services {\n"
	    "    ipsec-vpn {\n"
	    "        /* first rule */\n"
	    "        inactive: rule r1 {\n"
	    "            match-direction input;\n"
	    "        }\n"
	    "        ike {\n"
	    "            policy p {\n"
	    "                pre-shared-key ascii-text \"$9$LbHX-wg4Z\"; ## SECRET-DATA\n"
	    "            }\n"
	    "        }\n"
	    "        # hash comments annotate too\n"
	    "        establish-tunnels immediately;\n"
	    "    }\n"
	    "}\n";
	struct cfg_node *tree = parse_ok(text);
	struct cfg_node *rule = walk(tree, "services ipsec-vpn rule r1");
	struct cfg_node *est = walk(tree, "services ipsec-vpn establish-tunnels");
	char *shown;

	cr_assert_not_null(rule);
	cr_assert(rule->inactive);
	cr_assert_str_eq(rule->annotation, "first rule");
	cr_assert_null(cfg_child(walk(tree, "services ipsec-vpn"), "rule"),
	    "an inactive rule is not part of the active configuration");
	cr_assert_not_null(est);
	cr_assert_str_eq(est->annotation, "hash comments annotate too");
	cr_assert_str_eq(cfg_child(walk(tree, "services ipsec-vpn ike policy p pre-shared-key"),
	    "ascii-text")->value, "lc");
	shown = show(tree);
	cr_assert_not_null(strstr(shown, "        /* first rule */\n        inactive: rule r1 {\n"),
	    "%s", shown);
	cr_assert_not_null(strstr(shown, "        /* hash comments annotate too */\n"
	    "        establish-tunnels immediately;\n"), "%s", shown);
	cr_assert_not_null(strstr(shown,
	    "pre-shared-key ascii-text \"$9$LbHX-wg4Z\"; ## SECRET-DATA\n"), "%s", shown);
	cfg_node_free(tree);
	free(shown);
}

/* A statement that failed is reported and left out (config.h: "Statements that fail are
 * left out"), whichever part of it failed. */
Test(parser, a_failed_statement_is_left_out)
{
	static const char *const broken[] = {
		"syslog yes;",			 /* a flag with a value */
		"remote-gateway 192.0.2.1 extra;", /* a word after the value */
		"remote-gateway 192.0.2.1\n",	 /* no ';' (the next statement follows) */
		"no-anti-replay { }",		 /* a flag with a block */
	};
	char text[512], *msg;
	struct cfg_node *tree, *then;
	size_t i, errors;

	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		snprintf(text, sizeof(text), "services { ipsec-vpn { rule r1 { term t1 { then {\n"
		    "%s\ntunnel-mtu 1400;\n} } } } }\n", broken[i]);
		tree = parse_report(text, CFG_FORMAT_BRACES, &msg, &errors);
		cr_assert_eq(errors, 1, "%s: %s", broken[i], msg != NULL ? msg : "(clean)");
		then = walk(tree, "services ipsec-vpn rule r1 term t1 then");
		cr_assert_not_null(then);
		cr_assert_not(cfg_has(then, "syslog") || cfg_has(then, "remote-gateway") ||
		    cfg_has(then, "no-anti-replay"), "'%s' failed but is in the tree", broken[i]);
		free(msg);
		cfg_node_free(tree);
	}
}

/* The [edit ...] banner of a syntax error is where the statement is, not the statement. */
Test(parser, missing_semicolon_banner_is_the_parent)
{
	char *msg;
	size_t errors;
	struct cfg_node *tree = parse_report("services { ipsec-vpn { establish-tunnels immediately\n"
	    "clear-ike-sas-on-pic-restart; } }\n", CFG_FORMAT_BRACES, &msg, &errors);

	cr_assert_eq(errors, 1, "%s", msg);
	cr_assert_not_null(strstr(msg, "[edit services ipsec-vpn]\n"), "%s", msg);
	cr_assert_null(strstr(msg, "[edit services ipsec-vpn establish-tunnels"), "%s", msg);
	free(msg);
	cfg_node_free(tree);
}

/* One lexer error, one message (not one per enclosing block). */
Test(parser, one_error_for_an_unterminated_string)
{
	char *msg;
	size_t errors;
	struct cfg_node *tree = parse_report("services {\n ipsec-vpn {\n  ike {\n   policy p {\n"
	    "    description \"never closed;\n   }\n  }\n }\n}\n", CFG_FORMAT_BRACES, &msg, &errors);

	cr_assert_eq(errors, 1, "%s", msg);
	free(msg);
	cfg_node_free(tree);
}

/* A comment closing a block annotates nothing outside that block. */
Test(parser, a_trailing_comment_stays_in_its_block)
{
	struct cfg_node *tree = parse_ok("services {\n    ipsec-vpn {\n        ike {\n"
	    "            policy q {\n                version 2;\n                /* last */\n"
	    "            }\n            policy r {\n                version 2;\n"
	    "            }\n        }\n    }\n}\n");
	struct cfg_node *r = walk(tree, "services ipsec-vpn ike policy r");

	cr_assert_not_null(r);
	cr_assert_null(r->annotation, "policy r took the comment of policy q's block: \"%s\"",
	    r->annotation);
	cfg_node_free(tree);
}

/* Values longer than the parser's buffers are refused, not cut short and accepted. */
Test(parser, long_values_are_not_truncated)
{
	size_t len = 1500;
	char *text = malloc(len + 200), *msg;
	struct cfg_node *tree, *file;
	size_t errors;
	int n;

	n = sprintf(text, "services { ipsec-vpn { traceoptions { file ");
	memset(text + n, 'f', len);
	strcpy(text + n + len, "; } } }\n");
	tree = parse_report(text, CFG_FORMAT_BRACES, &msg, &errors);
	file = walk(tree, "services ipsec-vpn traceoptions");
	file = file != NULL ? cfg_child(file, "file") : NULL;
	cr_assert(errors > 0 || (file != NULL && strlen(file->value) == len),
	    "a %zu-character file name (the limit is 1024) was accepted as %zu characters", len,
	    file != NULL ? strlen(file->value) : 0);
	free(msg);
	cfg_node_free(tree);
	free(text);
}

/* Leaf-lists */

Test(leaflist, brackets_single_values_and_order)
{
	struct cfg_node *tree = parse_ok(
	    "services { ipsec-vpn { ike { policy p { proposals [ c a b ]; } policy q {\n"
	    "proposals [ only ]; } policy s { proposals x; proposals y; } } } }");
	struct cfg_node *p = walk(tree, "services ipsec-vpn ike policy p"), *v;
	const char *order[] = { "c", "a", "b" };
	size_t i = 0;
	char *shown;

	cfg_each(v, p, "proposals") {
		cr_assert_lt(i, 3);
		cr_assert_str_eq(v->value, order[i]);
		i++;
	}
	cr_assert_eq(i, 3);
	shown = show(tree);
	cr_assert_not_null(strstr(shown, "                proposals [ c a b ];\n"), "%s", shown);
	cr_assert_not_null(strstr(shown, "                proposals only;\n"), "%s", shown);
	cr_assert_not_null(strstr(shown, "                proposals [ x y ];\n"), "%s", shown);

	/* set appends (and a value given twice is there once), [ ] in set commands too */
	set_ok(tree, "services ipsec-vpn ike policy p proposals d");
	set_ok(tree, "services ipsec-vpn ike policy p proposals a");
	set_ok(tree, "services ipsec-vpn ike policy q proposals [ m n ]");
	free(shown);
	shown = show(tree);
	cr_assert_not_null(strstr(shown, "proposals [ c a b d ];\n"), "%s", shown);
	cr_assert_not_null(strstr(shown, "proposals [ only m n ];\n"), "%s", shown);
	free(shown);
	cfg_node_free(tree);
}

Test(leaflist, delete_one_value_or_all)
{
	struct cfg_node *tree = parse_ok(
	    "services { ipsec-vpn { ike { policy p { version 2; proposals [ a b c ]; } } } }");
	struct cfg_node *p = walk(tree, "services ipsec-vpn ike policy p");
	char *shown;

	cr_assert_eq(run(tree, CFG_OP_DELETE, "services ipsec-vpn ike policy p proposals b", NULL,
	    false, NULL), 0);
	shown = show(tree);
	cr_assert_not_null(strstr(shown, "proposals [ a c ];"), "%s", shown);
	free(shown);
	cr_assert_eq(run(tree, CFG_OP_DELETE, "services ipsec-vpn ike policy p proposals", NULL,
	    false, NULL), 0);
	cr_assert_not(cfg_has(p, "proposals"));
	cr_assert(cfg_has(p, "version"));
	cfg_node_free(tree);
}

/* inactive: before a leaf-list applies to it: the commit does not see the proposals. */
Test(leaflist, inactive_applies_to_a_leaflist)
{
	struct cfg_node *tree = parse_ok("services {\n    ipsec-vpn {\n        ike {\n"
	    "            policy p {\n                version 2;\n"
	    "                inactive: proposals [ a b ];\n            }\n        }\n    }\n}\n");
	struct cfg_node *p = walk(tree, "services ipsec-vpn ike policy p");

	cr_assert_not_null(p);
	cr_assert_not(cfg_has(p, "proposals"), "inactive: was lost on a leaf-list");
	cfg_node_free(tree);
}

/* A comment right above a leaf-list is its annotation, not the next statement's. */
Test(leaflist, annotation_stays_with_a_leaflist)
{
	struct cfg_node *tree = parse_ok("services {\n    ipsec-vpn {\n        ike {\n"
	    "            policy p {\n                /* the proposals */\n"
	    "                proposals [ a b ];\n                respond-bad-spi;\n"
	    "            }\n        }\n    }\n}\n");
	struct cfg_node *spi = walk(tree, "services ipsec-vpn ike policy p respond-bad-spi");
	struct cfg_node *a = walk(tree, "services ipsec-vpn ike policy p proposals a");

	cr_assert_not_null(spi);
	cr_assert_not_null(a);
	cr_assert_null(spi->annotation, "the leaf-list's comment moved to respond-bad-spi");
	cr_assert_str_eq(a->annotation != NULL ? a->annotation : "", "the proposals");
	cfg_node_free(tree);
}

/* set, delete, activate, deactivate, annotate */

Test(apply, set_creates_and_replaces_a_leaf)
{
	struct cfg_node *tree = cfg_tree_new();
	struct cfg_node *gw;

	set_ok(tree, "services ipsec-vpn rule r1 term t1 then remote-gateway 192.0.2.1");
	set_ok(tree, "services ipsec-vpn rule r1 term t1 then remote-gateway 192.0.2.2");
	gw = walk(tree, "services ipsec-vpn rule r1 term t1 then remote-gateway");
	cr_assert_not_null(gw);
	cr_assert_str_eq(gw->value, "192.0.2.2");
	cr_assert_eq(cfg_node_count(tree), 7, "one leaf, not two: %zu nodes",
	    cfg_node_count(tree));
	cfg_node_free(tree);
}

Test(apply, values_are_checked_and_made_canonical)
{
	struct cfg_node *tree = cfg_tree_new();
	char *msg = NULL;

	cr_assert_eq(run(tree, CFG_OP_SET, "services ipsec-vpn rule r1 term t1 then manual "
	    "direction inbound spi 17000", NULL, false, &msg), -1);
	cr_assert_not_null(msg);
	cr_assert_not_null(strstr(msg, "[edit services ipsec-vpn rule r1 term t1 then manual "
	    "direction inbound]\n  'spi 17000'\n    error: value 17000 is outside the range "
	    "256..16639\n"), "%s", msg);
	free(msg);
	set_ok(tree, "protocols ospf area 0 interface ge-0/0/0.0 passive");
	cr_assert_not_null(walk(tree, "protocols ospf area 0.0.0.0 interface ge-0/0/0.0"));
	set_ok(tree, "services ipsec-vpn rule r1 term t1 from source-address 10.1.0.0");
	cr_assert_str_eq(walk(tree, "services ipsec-vpn rule r1 term t1 from source-address")
	    ->value, "10.1.0.0/32");
	cfg_node_free(tree);
}

Test(apply, errors_say_what_and_where)
{
	struct cfg_node *tree = cfg_tree_new();
	char *msg = NULL;

	cr_assert_eq(run(tree, CFG_OP_SET, "services ipsec-vpn bogus", NULL, false, &msg), -1);
	cr_assert_not_null(strstr(msg, "syntax error: 'bogus' is not a statement here"), "%s",
	    msg);
	free(msg);
	cr_assert_eq(run(tree, CFG_OP_SET, "services ipsec-vpn rule", NULL, false, &msg), -1);
	cr_assert_not_null(strstr(msg, "rule needs a value"), "%s", msg);
	free(msg);
	cr_assert_eq(run(tree, CFG_OP_SET, "services ipsec-vpn disable-natt yes", NULL, false,
	    &msg), -1);
	cr_assert_not_null(strstr(msg, "takes no value"), "%s", msg);
	free(msg);
	cr_assert_eq(run(tree, CFG_OP_DELETE, "services ipsec-vpn rule r9", NULL, false, &msg),
	    -1);
	cr_assert_not_null(strstr(msg, "statement not found"), "%s", msg);
	free(msg);
	cr_assert_eq(run(tree, CFG_OP_DEACTIVATE, "", NULL, false, &msg), -1);
	cr_assert_not_null(strstr(msg, "cannot do that to the whole configuration"), "%s", msg);
	free(msg);
	cfg_node_free(tree);
}

/* A command that fails changes nothing: not the flag it named, not half a leaf-list, not
 * the empty containers on the way to the word that failed. */
Test(apply, a_failed_command_changes_nothing)
{
	static const char *const failing[] = {
		"services ipsec-vpn disable-natt yes",
		"services ipsec-vpn ike policy p proposals [ a b",
		"services ipsec-vpn rule r1 term t1 then bogus",
		"services service-set ss1 ipsec-vpn-options local-gateway 192.0.2.300",
	};
	struct cfg_node *tree = parse_ok("services {\n    ipsec-vpn {\n        "
	    "establish-tunnels immediately;\n    }\n}\n");
	struct cfg_node *before = cfg_node_copy(tree);
	char *msg, *shown;
	size_t i;

	for (i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
		cr_assert_eq(run(tree, CFG_OP_SET, failing[i], NULL, false, &msg), -1, "%s",
		    failing[i]);
		free(msg);
		shown = show(tree);
		cr_assert(cfg_node_equal(before, tree), "'set %s' failed but changed the "
		    "configuration to:\n%s", failing[i], shown);
		free(shown);
	}
	cfg_node_free(before);
	cfg_node_free(tree);
}

Test(apply, delete_a_whole_list_and_prune)
{
	struct cfg_node *tree = cfg_tree_new();
	char *shown;

	set_ok(tree, "services ipsec-vpn rule r1 match-direction input");
	set_ok(tree, "services ipsec-vpn rule r2 match-direction input");
	set_ok(tree, "services ipsec-vpn rule r3 match-direction output");
	set_ok(tree, "services service-set ss1 ipsec-vpn-rules r1");
	cr_assert_eq(run(tree, CFG_OP_DELETE, "services ipsec-vpn rule", NULL, false, NULL), 0);
	cr_assert_null(walk(tree, "services ipsec-vpn rule r1"));
	cr_assert_null(walk(tree, "services ipsec-vpn rule r3"));
	cr_assert_null(walk(tree, "services ipsec-vpn"), "the emptied container is pruned");
	cr_assert_not_null(walk(tree, "services service-set ss1"));
	/* the same through set-form lines */
	set_ok(tree, "services ipsec-vpn rule r4 match-direction input");
	set_ok(tree, "services ipsec-vpn establish-tunnels immediately");
	cr_assert_eq(cfg_run_set_lines(tree, "t.set", "delete services ipsec-vpn rule\n",
	    strlen("delete services ipsec-vpn rule\n"), &(struct cfg_diags)CFG_DIAGS_INIT), 0);
	shown = show(tree);
	cr_assert_str_eq(shown, "services {\n    ipsec-vpn {\n        establish-tunnels "
	    "immediately;\n    }\n    service-set ss1 {\n        ipsec-vpn-rules r1;\n    }\n}\n");
	free(shown);
	/* delete the rest: nothing at all is left */
	cr_assert_eq(run(tree, CFG_OP_DELETE, "services", NULL, false, NULL), 0);
	shown = show(tree);
	cr_assert_str_eq(shown, "");
	free(shown);
	cfg_node_free(tree);
}

Test(apply, deactivate_and_activate)
{
	struct cfg_node *tree = cfg_tree_new();
	struct cfg_diags d = CFG_DIAGS_INIT;
	char *shown, *set_form;

	/* a rule that fails every check: no match-direction, no SA */
	set_ok(tree, "services ipsec-vpn rule broken term t1 from source-address 10.0.0.0/8");
	cr_assert_eq(run(tree, CFG_OP_DEACTIVATE, "services ipsec-vpn rule broken", NULL, false,
	    NULL), 0);
	shown = show(tree);
	cr_assert_not_null(strstr(shown, "        inactive: rule broken {\n"), "%s", shown);
	set_form = show_set(tree);
	cr_assert_not_null(strstr(set_form, "deactivate services ipsec-vpn rule broken\n"), "%s",
	    set_form);
	cfg_check(tree, &d);
	cr_assert_eq(d.errors, 0, "the commit ignores what is inactive:\n%s", report(&d));
	cfg_diags_free(&d);
	cr_assert_eq(run(tree, CFG_OP_ACTIVATE, "services ipsec-vpn rule broken", NULL, false,
	    NULL), 0);
	cfg_check(tree, &d);
	cr_assert_gt(d.errors, 0, "active again, it fails again");
	cfg_diags_free(&d);
	free(shown);
	free(set_form);
	shown = show(tree);
	cr_assert_null(strstr(shown, "inactive:"), "%s", shown);
	free(shown);
	/* a leaf with its value named */
	set_ok(tree, "services ipsec-vpn establish-tunnels immediately");
	cr_assert_eq(run(tree, CFG_OP_DEACTIVATE, "services ipsec-vpn establish-tunnels immediately",
	    NULL, false, NULL), 0);
	cr_assert(walk(tree, "services ipsec-vpn establish-tunnels")->inactive);
	cfg_node_free(tree);
}

Test(apply, annotate_and_clear)
{
	struct cfg_node *tree = cfg_tree_new();
	char *shown;

	set_ok(tree, "services ipsec-vpn rule r1 match-direction input");
	cr_assert_eq(run(tree, CFG_OP_ANNOTATE, "services ipsec-vpn rule r1", "change 42", false,
	    NULL), 0);
	shown = show(tree);
	cr_assert_not_null(strstr(shown, "        /* change 42 */\n        rule r1 {\n"), "%s",
	    shown);
	free(shown);
	cr_assert_eq(run(tree, CFG_OP_ANNOTATE, "services ipsec-vpn rule r1", "change 43", false,
	    NULL), 0);
	cr_assert_str_eq(walk(tree, "services ipsec-vpn rule r1")->annotation, "change 43",
	    "a new annotation replaces the old");
	cr_assert_eq(run(tree, CFG_OP_ANNOTATE, "services ipsec-vpn rule r1", "", false, NULL), 0);
	cr_assert_null(walk(tree, "services ipsec-vpn rule r1")->annotation);
	cfg_node_free(tree);
}

Test(apply, abbreviations)
{
	struct cfg_node *tree = cfg_tree_new();
	char *msg = NULL;

	/* unique prefixes, as the CLI takes them */
	cr_assert_eq(run(tree, CFG_OP_SET, "serv ipsec-v rule r1 te t1 th remote-g 192.0.2.9", NULL,
	    true, &msg), 0, "%s", msg != NULL ? msg : "");
	cr_assert_not_null(walk(tree, "services ipsec-vpn rule r1 term t1 then remote-gateway"));
	/* an exact keyword wins over the longer ones it is a prefix of (rule, rule-set) */
	cr_assert_eq(run(tree, CFG_OP_SET, "serv ipsec-vpn rule r1 match-d input", NULL, true,
	    NULL), 0);
	cr_assert_str_eq(walk(tree, "services ipsec-vpn rule r1 match-direction")->value,
	    "input");
	/* ambiguous: ru (rule, rule-set), d (dynamic, dead-peer-detection) */
	cr_assert_eq(run(tree, CFG_OP_SET, "services ipsec-vpn ru r2", NULL, true, &msg), -1);
	cr_assert_not_null(strstr(msg, "'ru' is ambiguous"), "%s", msg);
	free(msg);
	cr_assert_eq(run(tree, CFG_OP_SET, "services ipsec-vpn rule r1 term t1 then d", NULL, true,
	    &msg), -1);
	cr_assert_not_null(strstr(msg, "'d' is ambiguous"), "%s", msg);
	free(msg);
	/* files spell keywords out */
	cr_assert_eq(run(tree, CFG_OP_SET, "serv ipsec-vpn disable-natt", NULL, false, &msg), -1);
	cr_assert_not_null(strstr(msg, "'serv' is not a statement here"), "%s", msg);
	free(msg);
	/* delete and deactivate take them too */
	cr_assert_eq(run(tree, CFG_OP_DEACTIVATE, "serv ipsec-v rule r1 te t1", NULL, true, NULL),
	    0);
	cr_assert(walk(tree, "services ipsec-vpn rule r1 term t1")->inactive);
	cr_assert_eq(run(tree, CFG_OP_DELETE, "serv ipsec-v rule r1 match-d", NULL, true, NULL), 0);
	cr_assert_null(walk(tree, "services ipsec-vpn rule r1 match-direction"));
	cfg_node_free(tree);
}

/* Choices marked replace: setting one member removes the others. */
Test(apply, a_replacing_choice_replaces)
{
	struct cfg_node *tree = cfg_tree_new();
	struct cfg_node *key, *then, *id;
	const char *base = "services ipsec-vpn rule r1 term t1 then manual direction inbound "
	    "encryption key ";
	char line[256];

	snprintf(line, sizeof(line), "%sascii-text 0123456789abcdef", base);
	set_ok(tree, line);
	snprintf(line, sizeof(line), "%shexadecimal 00112233445566778899aabbccddeeff", base);
	set_ok(tree, line);
	key = walk(tree, "services ipsec-vpn rule r1 term t1 then manual direction inbound "
	    "encryption key");
	cr_assert_null(cfg_child(key, "ascii-text"), "ascii-text is still there");
	cr_assert_not_null(cfg_child(key, "hexadecimal"));
	cr_assert_eq(cfg_node_count(key), 2);

	set_ok(tree, "services ipsec-vpn rule r1 term t1 then clear-dont-fragment-bit");
	set_ok(tree, "services ipsec-vpn rule r1 term t1 then copy-dont-fragment-bit");
	then = walk(tree, "services ipsec-vpn rule r1 term t1 then");
	cr_assert_not(cfg_has(then, "clear-dont-fragment-bit"));
	cr_assert(cfg_has(then, "copy-dont-fragment-bit"));

	set_ok(tree, "services ipsec-vpn ike policy p local-id ipv4_addr 192.0.2.1");
	set_ok(tree, "services ipsec-vpn ike policy p local-id fqdn vpn.example.net");
	id = walk(tree, "services ipsec-vpn ike policy p local-id");
	cr_assert_not(cfg_has(id, "ipv4_addr"));
	cr_assert_str_eq(cfg_leaf(id, "fqdn"), "vpn.example.net");

	/* The same through the braces parser: the later member wins. */
	cfg_node_free(tree);
	tree = parse_ok("services { ipsec-vpn { rule r1 { term t1 { then {\n"
	    "clear-dont-fragment-bit; set-dont-fragment-bit; } } } } }");
	then = walk(tree, "services ipsec-vpn rule r1 term t1 then");
	cr_assert_not(cfg_has(then, "clear-dont-fragment-bit"));
	cr_assert(cfg_has(then, "set-dont-fragment-bit"));
	cfg_node_free(tree);
}

/* Choices not marked replace (manual | dynamic) stay side by side for the check to refuse. */
Test(apply, a_plain_choice_is_left_to_the_check)
{
	struct cfg_node *tree = cfg_tree_new();
	struct cfg_diags d = CFG_DIAGS_INIT;
	char *msg;

	set_ok(tree, "services ipsec-vpn rule r1 term t1 then manual direction inbound protocol "
	    "esp");
	set_ok(tree, "services ipsec-vpn rule r1 term t1 then dynamic ipsec-policy p");
	cr_assert_not_null(walk(tree, "services ipsec-vpn rule r1 term t1 then manual"));
	cr_assert_not_null(walk(tree, "services ipsec-vpn rule r1 term t1 then dynamic"));
	cfg_check(tree, &d);
	msg = report(&d);
	cr_assert_not_null(strstr(msg, "'manual' and 'dynamic' cannot both be configured here"),
	    "%s", msg);
	free(msg);
	cfg_diags_free(&d);
	cfg_node_free(tree);
}

/* show | compare */

static const char compare_base[] =
    "services {\n"
    "    ipsec-vpn {\n"
    "        rule r1 {\n"
    "            match-direction input;\n"
    "            term t1 {\n"
    "                then {\n"
    "                    remote-gateway 198.51.100.2;\n"
    "                    tunnel-mtu 1400;\n"
    "                }\n"
    "            }\n"
    "        }\n"
    "        establish-tunnels immediately;\n"
    "    }\n"
    "}\n";

/* The output with the blanks after each sign squeezed to one: the lines and their order,
 * whatever the indentation. Also checks that every line is a banner or a signed line. */
static char *
squeeze(const char *out)
{
	char *s = malloc(strlen(out) + 1), *o = s;
	const char *line, *nl;

	for (line = out; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl, "the output ends without a newline: %s", out);
		if (line[0] == '[') {
			cr_assert(strncmp(line, "[edit", 5) == 0 && nl[-1] == ']', "%.*s",
			    (int)(nl - line), line);
			memcpy(o, line, (size_t)(nl - line) + 1);
			o += nl - line + 1;
			continue;
		}
		cr_assert(line[0] == '+' || line[0] == '-', "not a banner or a change: %.*s",
		    (int)(nl - line), line);
		cr_assert_eq(line[1], ' ', "%.*s", (int)(nl - line), line);
		*o++ = line[0];
		*o++ = ' ';
		line += 1 + strspn(line + 1, " ");
		memcpy(o, line, (size_t)(nl - line) + 1);
		o += nl - line + 1;
	}
	*o = '\0';
	return s;
}

Test(compare, equal_trees_say_nothing)
{
	struct cfg_node *a = parse_ok(compare_base), *b = parse_ok(compare_base);
	char *out = compare(a, b);

	cr_assert_str_eq(out, "");
	free(out);
	cfg_node_free(a);
	cfg_node_free(b);
}

Test(compare, a_changed_leaf)
{
	struct cfg_node *a = parse_ok(compare_base), *b = parse_ok(compare_base);
	char *out, *sq;

	set_ok(b, "services ipsec-vpn rule r1 term t1 then remote-gateway 198.51.100.3");
	out = compare(a, b);
	sq = squeeze(out);
	cr_assert_str_eq(sq, "[edit services ipsec-vpn rule r1 term t1 then]\n"
	    "- remote-gateway 198.51.100.2;\n"
	    "+ remote-gateway 198.51.100.3;\n", "%s", out);
	free(out);
	free(sq);
	cfg_node_free(a);
	cfg_node_free(b);
}

Test(compare, an_added_and_a_removed_rule)
{
	struct cfg_node *a = parse_ok(compare_base), *b = parse_ok(compare_base);
	char *out, *sq;

	set_ok(b, "services ipsec-vpn rule r2 match-direction output");
	set_ok(b, "services ipsec-vpn rule r2 term t9 then remote-gateway 203.0.113.9");
	out = compare(a, b);
	sq = squeeze(out);
	cr_assert_str_eq(sq, "[edit services ipsec-vpn]\n"
	    "+ rule r2 {\n"
	    "+ match-direction output;\n"
	    "+ term t9 {\n"
	    "+ then {\n"
	    "+ remote-gateway 203.0.113.9;\n"
	    "+ }\n"
	    "+ }\n"
	    "+ }\n", "%s", out);
	/* nested lines deeper than the rule, its closing brace level with it */
	{
		const char *l1 = strchr(out, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
		const char *last = out + strlen(out) - 1;
		size_t rule_indent = strspn(l1 + 1, " ");

		while (last > out && last[-1] != '\n')
			last--;
		cr_assert_gt(strspn(l2 + 1, " "), rule_indent, "%s", out);
		cr_assert_eq(strspn(last + 1, " "), rule_indent, "%s", out);
	}
	free(out);
	free(sq);

	/* and the other way: removed */
	out = compare(b, a);
	sq = squeeze(out);
	cr_assert_str_eq(sq, "[edit services ipsec-vpn]\n"
	    "- rule r2 {\n"
	    "- match-direction output;\n"
	    "- term t9 {\n"
	    "- then {\n"
	    "- remote-gateway 203.0.113.9;\n"
	    "- }\n"
	    "- }\n"
	    "- }\n", "%s", out);
	free(out);
	free(sq);
	cfg_node_free(a);
	cfg_node_free(b);
}

Test(compare, depth_first_in_schema_order)
{
	struct cfg_node *a = parse_ok(compare_base), *b = parse_ok(compare_base);
	char *out, *sq;

	cr_assert_eq(run(b, CFG_OP_DELETE, "services ipsec-vpn rule r1 term t1 then tunnel-mtu",
	    NULL, false, NULL), 0);
	set_ok(b, "services ipsec-vpn rule r1 term t1 then ttl 32");
	set_ok(b, "services ipsec-vpn establish-tunnels on-traffic");
	out = compare(a, b);
	sq = squeeze(out);
	/* Depth first in schema order: rule comes before establish-tunnels. */
	cr_assert_str_eq(sq, "[edit services ipsec-vpn rule r1 term t1 then]\n"
	    "- tunnel-mtu 1400;\n"
	    "+ ttl 32;\n"
	    "[edit services ipsec-vpn]\n"
	    "- establish-tunnels immediately;\n"
	    "+ establish-tunnels on-traffic;\n", "%s", out);
	cr_assert_eq(count_lines_with(out, "[edit"), 2);
	free(out);
	free(sq);
	cfg_node_free(a);
	cfg_node_free(b);
}

/* Junos marks a change of activation alone with '!', and does not repeat what did not
 * change: "!    inactive: rule r1 { ... }". */
Test(compare, deactivation_is_marked_not_repeated)
{
	struct cfg_node *a = parse_ok(compare_base), *b = parse_ok(compare_base);
	char *out;

	cr_assert_eq(run(b, CFG_OP_DEACTIVATE, "services ipsec-vpn rule r1", NULL, false, NULL),
	    0);
	out = compare(a, b);
	cr_assert(strncmp(out, "[edit services ipsec-vpn]\n!", 27) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "inactive: rule r1"), "%s", out);
	cr_assert_null(strstr(out, "remote-gateway"), "the unchanged rule is repeated:\n%s", out);
	free(out);
	cfg_node_free(a);
	cfg_node_free(b);
}

/* The exact layout: one level in, sign in the first column; a reordered leaf-list is one
 * statement out and in; an annotation alone is its comment lines over the statement's
 * head; activating again is '!    active:'. */
Test(compare, the_layout_of_marks_and_leaf_lists)
{
	static const char base[] =
	    "services {\n"
	    "    ipsec-vpn {\n"
	    "        inactive: rule r1 {\n"
	    "            match-direction input;\n"
	    "        }\n"
	    "        ike {\n"
	    "            policy p {\n"
	    "                proposals [ a b ];\n"
	    "            }\n"
	    "        }\n"
	    "    }\n"
	    "}\n";
	struct cfg_node *a = parse_ok(base), *b = parse_ok(base);
	char *out;

	cr_assert_eq(run(b, CFG_OP_ACTIVATE, "services ipsec-vpn rule r1", NULL, false, NULL), 0);
	cr_assert_eq(run(b, CFG_OP_ANNOTATE, "services ipsec-vpn ike policy p", "to the DC",
	    false, NULL), 0);
	cr_assert_eq(run(b, CFG_OP_DELETE, "services ipsec-vpn ike policy p proposals", NULL,
	    false, NULL), 0);
	set_ok(b, "services ipsec-vpn ike policy p proposals [ b a ]");
	out = compare(a, b);
	cr_assert_str_eq(out,
	    "[edit services ipsec-vpn]\n"
	    "!    active: rule r1 { ... }\n"
	    "[edit services ipsec-vpn ike]\n"
	    "+    /* to the DC */\n"
	    "     policy p { ... }\n"
	    "[edit services ipsec-vpn ike policy p]\n"
	    "-    proposals [ a b ];\n"
	    "+    proposals [ b a ];\n", "%s", out);
	free(out);
	cfg_node_free(a);
	cfg_node_free(b);
}

/* Input that is not a configuration */

/* Whatever the parser kept must display as text that reads back clean into the same tree. */
static void
assert_display_reads_back(const struct cfg_node *tree, const char *what)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct cfg_node *again;
	char *text = show(tree), *set_form = show_set(tree);

	again = cfg_parse("again", text, strlen(text), CFG_FORMAT_BRACES, &d);
	cr_assert_eq(d.errors, 0, "%s: the display of what was kept does not read back:\n%s\n%s",
	    what, text, report(&d));
	cr_assert(cfg_node_equal(tree, again), "%s: kept tree != its display reread", what);
	cfg_diags_free(&d);
	cfg_node_free(again);
	again = cfg_parse("again", set_form, strlen(set_form), CFG_FORMAT_SET, &d);
	cr_assert_eq(d.errors, 0, "%s: display_set does not read back:\n%s", what, set_form);
	cfg_diags_free(&d);
	cfg_node_free(again);
	free(text);
	free(set_form);
}

Test(garbage, random_bytes_never_crash_and_are_refused)
{
	static const char pieces[] = "{}[];\"#/*\n \tservices ipsec-vpn rule term then x!@\\";
	enum { ROUNDS = 3000 };
	char buf[2048];
	size_t round, len, i, refused = 0;
	struct cfg_diags d;
	struct cfg_node *tree;

	rng_state = 0xdeadbeefcafef00dULL;
	for (round = 0; round < ROUNDS; round++) {
		len = 1 + rng() % (sizeof(buf) - 1);
		for (i = 0; i < len; i++) {
			uint64_t r = rng();

			/* half raw bytes (NULs too), half the language's own characters */
			buf[i] = (r & 1) != 0 ? (char)(r >> 8) : pieces[(r >> 8) % (sizeof(pieces) - 1)];
		}
		memset(&d, 0, sizeof(d));
		tree = cfg_parse("garbage", buf, len, round % 3 == 0 ? CFG_FORMAT_SET :
		    CFG_FORMAT_AUTO, &d);
		cr_assert_not_null(tree);
		if (d.errors > 0)
			refused++;
		cfg_check(tree, &d);
		assert_display_reads_back(tree, "random bytes");
		cfg_diags_free(&d);
		cfg_node_free(tree);
	}
	cr_assert_geq(refused, ROUNDS * 95 / 100, "only %zu of %d random inputs refused",
	    refused, ROUNDS);
}

/* Mutated real configurations: parts of a valid text cut and swapped. */
Test(garbage, mutated_configurations_keep_a_readable_tree)
{
	enum { ROUNDS = 2000 };
	size_t base_len = strlen(compare_base), round, len, i;
	char buf[1024];
	struct cfg_diags d;
	struct cfg_node *tree;

	rng_state = 0x0123456789abcdefULL;
	for (round = 0; round < ROUNDS; round++) {
		memcpy(buf, compare_base, base_len);
		len = base_len;
		for (i = 0; i < 1 + rng() % 4; i++) {
			size_t at = rng() % len;

			switch (rng() % 3) {
			case 0: /* delete a byte */
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			case 1: /* overwrite one */
				buf[at] = "{};[]\" x9/*#\n"[rng() % 13];
				break;
			default: /* duplicate one */
				if (len + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, len - at);
					len++;
				}
				break;
			}
		}
		memset(&d, 0, sizeof(d));
		tree = cfg_parse("mutant", buf, len, CFG_FORMAT_BRACES, &d);
		cr_assert_not_null(tree);
		cfg_check(tree, &d);
		assert_display_reads_back(tree, "a mutated configuration");
		cfg_diags_free(&d);
		cfg_node_free(tree);
	}
}

Test(garbage, deep_nesting)
{
	enum { DEPTH = 100000 };
	char *buf = malloc(DEPTH * 12 + 16), *msg;
	struct cfg_node *tree;
	size_t errors, i, n = 0;

	/* bare braces */
	memset(buf, '{', DEPTH);
	buf[DEPTH] = '\0';
	tree = parse_report(buf, CFG_FORMAT_BRACES, &msg, &errors);
	cr_assert_gt(errors, 0);
	cr_assert_eq(cfg_node_count(tree), 1);
	free(msg);
	cfg_node_free(tree);
	/* closing braces: one error each would be 100000 messages; at least one, and no crash */
	memset(buf, '}', DEPTH);
	tree = parse_report(buf, CFG_FORMAT_BRACES, &msg, &errors);
	cr_assert_gt(errors, 0);
	free(msg);
	cfg_node_free(tree);
	/* keywords nested in themselves */
	for (i = 0; i < DEPTH / 10; i++)
		n += (size_t)sprintf(buf + n, "services { ");
	tree = parse_report(buf, CFG_FORMAT_BRACES, &msg, &errors);
	cr_assert_gt(errors, 0);
	free(msg);
	cfg_node_free(tree);
	/* brackets */
	n = (size_t)sprintf(buf, "services { ipsec-vpn { ike { policy p { proposals ");
	memset(buf + n, '[', DEPTH);
	buf[n + DEPTH] = '\0';
	tree = parse_report(buf, CFG_FORMAT_BRACES, &msg, &errors);
	cr_assert_gt(errors, 0);
	free(msg);
	cfg_node_free(tree);
	free(buf);
}

Test(garbage, a_100k_line)
{
	enum { LEN = 100 * 1024 };
	char *buf = malloc(LEN + 256), *msg;
	struct cfg_node *tree;
	size_t errors, n, i;

	/* one word */
	memset(buf, 'w', LEN);
	buf[LEN] = '\0';
	tree = parse_report(buf, CFG_FORMAT_AUTO, &msg, &errors);
	cr_assert_gt(errors, 0);
	free(msg);
	cfg_node_free(tree);
	/* a quoted value: refused, with its real length */
	n = (size_t)sprintf(buf, "services { ipsec-vpn { ike { policy p { description \"");
	memset(buf + n, 'd', LEN);
	strcpy(buf + n + LEN, "\"; } } } }");
	tree = parse_report(buf, CFG_FORMAT_BRACES, &msg, &errors);
	cr_assert_eq(errors, 1, "%s", msg);
	cr_assert_not_null(strstr(msg, "must be 1..80 characters long"), "%s", msg);
	cr_assert_not_null(strstr(msg, "(is 102400)"), "the length is not the real one: %.300s",
	    msg);
	cr_assert(strlen(msg) < 4096, "the report repeats the value: %zu bytes", strlen(msg));
	free(msg);
	cfg_node_free(tree);
	/* a set line of 100 kB: too many words */
	n = (size_t)sprintf(buf, "set services ipsec-vpn ike policy p proposals");
	for (i = 0; n + 3 < LEN; i++)
		n += (size_t)sprintf(buf + n, " p%zu", i % 10);
	tree = parse_report(buf, CFG_FORMAT_AUTO, &msg, &errors);
	cr_assert_gt(errors, 0);
	cr_assert_eq(cfg_node_count(tree), 1, "nothing of a refused line is kept");
	free(msg);
	cfg_node_free(tree);
	/* one 100 kB line of comment: fine, and nothing */
	buf[0] = '#';
	memset(buf + 1, 'c', LEN);
	buf[LEN] = '\0';
	tree = parse_report(buf, CFG_FORMAT_BRACES, &msg, &errors);
	cr_assert_eq(errors, 0);
	cr_assert_eq(cfg_node_count(tree), 1);
	free(msg);
	cfg_node_free(tree);
	free(buf);
}
