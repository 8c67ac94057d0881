/* Regressions from the review of the statement-at-once parser, compare and key handling:
 * each test is one defect that was found, in the terms of what a user sees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "config.h"

static char *
report_of(struct cfg_diags *d)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	cfg_diags_format(d, &sb, "load failed");
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

static struct cfg_node *
parse(const char *text, char **report, size_t *errors)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct cfg_node *tree = cfg_parse("r.conf", text, strlen(text), CFG_FORMAT_AUTO, &d);

	cr_assert_not_null(tree);
	*report = report_of(&d);
	*errors = d.errors;
	cfg_diags_free(&d);
	return tree;
}

static char *
shown(const struct cfg_node *tree, bool set_form)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	if (set_form)
		cfg_display_set(tree, &sb);
	else
		cfg_display(tree, &sb);
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

static char *
compared(const struct cfg_node *a, const struct cfg_node *b)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	cfg_compare(a, b, &sb);
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

/* Splits a copy of line at spaces; free(*copy) when done. */
static int
split(const char *line, char **copy, char **words, int max)
{
	char *save = NULL, *w;
	int n = 0;

	*copy = strdup(line);
	cr_assert_not_null(*copy);
	for (w = strtok_r(*copy, " ", &save); w != NULL && n < max; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	return n;
}

/* cfg_secret_words on a line: the index, and the count in *count. */
static int
key_words(const char *line, int *count)
{
	char *copy, *words[32];
	int n = split(line, &copy, words, 32), k = cfg_secret_words(words, n, count);

	free(copy);
	return k;
}

/* A command of space-separated words against tree; the report in *report. */
static int
command(struct cfg_node *tree, enum cfg_op op, const char *line, char **report)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	char *copy, *words[64];
	int n = split(line, &copy, words, 64), rc;

	rc = cfg_apply(tree, op, words, n, NULL, true, NULL, &d);
	*report = report_of(&d);
	cfg_diags_free(&d);
	free(copy);
	return rc;
}

Test(review, moving_an_ordered_entry_shows_in_compare)
{
	char *ra, *rb, *out;
	size_t ea, eb;
	struct cfg_node *a = parse("services { ipsec-vpn { rule r1 { match-direction input; }\n"
	    "rule r2 { match-direction output; } } }\n", &ra, &ea);
	struct cfg_node *b = parse("services { ipsec-vpn { rule r2 { match-direction output; }\n"
	    "rule r1 { match-direction input; } } }\n", &rb, &eb);

	cr_assert_eq(ea + eb, 0);
	cr_assert_not(cfg_node_equal(a, b));
	out = compared(a, b);
	/* One of the two moved; it goes out at its old place and in at its new one. */
	cr_assert_not_null(strstr(out, "-    rule r"), "%s", out);
	cr_assert_not_null(strstr(out, "+    rule r"), "%s", out);
	free(out);
	out = compared(a, a);
	cr_assert_str_eq(out, "");
	free(out);
	cfg_node_free(a);
	cfg_node_free(b);
	free(ra);
	free(rb);
}

Test(review, a_forgotten_semicolon_before_a_comment_loses_nothing_else)
{
	char *report, *text;
	size_t errors;
	struct cfg_node *t = parse("services {\n    ipsec-vpn {\n"
	    "        establish-tunnels immediately\n"
	    "        /* the first rule */\n"
	    "        rule r1 {\n            match-direction sideways;\n        }\n"
	    "        disable-natt;\n    }\n}\n", &report, &errors);

	/* Both errors are reported: the ';' and the rule's own. */
	cr_assert_eq(errors, 2, "%s", report);
	cr_assert_not_null(strstr(report, "r.conf:3:27: error: syntax error: expected ';'"),
	    "%s", report);
	cr_assert_not_null(strstr(report, "'sideways' is not one of"), "%s", report);
	text = shown(t, true);
	cr_assert_not_null(strstr(text, "set services ipsec-vpn rule r1\n"), "%s", text);
	cr_assert_not_null(strstr(text, "set services ipsec-vpn disable-natt\n"), "%s", text);
	free(text);
	free(report);
	cfg_node_free(t);
}

Test(review, a_stray_block_is_skipped_whole)
{
	char *report, *text;
	size_t errors;
	struct cfg_node *t = parse("services {\n  ipsec-vpn {\n    { disable-natt; }\n    ]\n"
	    "    clear-ike-sas-on-pic-restart;\n  }\n}\n", &report, &errors);

	cr_assert_eq(errors, 2, "%s", report);
	cr_assert_not_null(strstr(report, "unexpected '{'"), "%s", report);
	cr_assert_not_null(strstr(report, "unexpected ']'"), "%s", report);
	text = shown(t, true);
	cr_assert_str_eq(text, "set services ipsec-vpn clear-ike-sas-on-pic-restart\n");
	free(text);
	free(report);
	cfg_node_free(t);
}

Test(review, keys_in_the_wrong_place_are_not_repeated)
{
	static const char *const bad[] = {
		"services { ipsec-vpn { ike { policy p { pre-shared-key TopSecret1; } } } }\n",
		"services { ipsec-vpn { ike { policy p { pre-shared-key ascii-text TopSecret2 "
		    "horse; } } } }\n",
		"services { ipsec-vpn { ike { policy p { pre-shared-key { TopSecret3; } } } } }\n",
	};
	char *report, *msg;
	size_t errors, i;
	struct cfg_node *t;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = parse(bad[i], &report, &errors);
		cr_assert_geq(errors, 1, "%s", bad[i]);
		cr_assert_null(strstr(report, "TopSecret"), "the key shows:\n%s", report);
		cr_assert_null(strstr(report, "horse"), "a word of the key shows:\n%s", report);
		free(report);
		cfg_node_free(t);
	}
	t = cfg_tree_new();
	cr_assert_eq(command(t, CFG_OP_SET, "services ipsec-vpn ike policy p pre-shared-key "
	    "TopSecret4", &msg), -1);
	cr_assert_null(strstr(msg, "TopSecret"), "%s", msg);
	free(msg);
	cr_assert_eq(command(t, CFG_OP_SET, "services ipsec-vpn ike policy p pre-shared-key "
	    "ascii-text TopSecret5 horse", &msg), -1);
	cr_assert_null(strstr(msg, "horse"), "%s", msg);
	cr_assert_null(strstr(msg, "ascii-text ]"), "a stray space in the path: %s", msg);
	free(msg);
	cr_assert_eq(cfg_node_count(t), 1, "a failed set changed the tree");
	cfg_node_free(t);
}

Test(review, every_word_of_an_unquoted_key_counts_as_key)
{
	int count;

	cr_assert_eq(key_words("set services ipsec-vpn ike policy p pre-shared-key ascii-text "
	    "correct horse", &count), 8);
	cr_assert_eq(count, 2);
	cr_assert_eq(key_words("set services ipsec-vpn ike policy p pre-shared-key TopSecret",
	    &count), 7);
	cr_assert_eq(count, 1);
	cr_assert_eq(key_words("set serv ipsec ike pol p pre hex abcdef", &count), 8);
	cr_assert_eq(count, 1);
	cr_assert_eq(key_words("set services service-set s ipsec-vpn-options local-gateway "
	    "192.0.2.1 gw-interface ge-0/0/0.0", &count), -1);
}

Test(review, load_replace_replaces_in_place)
{
	char *r1, *r2, *text;
	size_t e1, e2;
	struct cfg_node *dst = parse("services { ipsec-vpn { rule r1 { match-direction input; }\n"
	    "rule r2 { match-direction input; }\n"
	    "ike { policy p { proposals [ a b ]; } } } }\n", &r1, &e1);
	struct cfg_node *src = parse("services { ipsec-vpn { replace: rule r1 {\n"
	    "match-direction output; }\n"
	    "ike { policy p { replace: proposals [ c d ]; } } } }\n", &r2, &e2);

	cr_assert_eq(e1 + e2, 0, "%s%s", r1, r2);
	cr_assert_eq(cfg_node_load(dst, src, true), 0);
	text = shown(dst, true);
	cr_assert_str_eq(text,
	    "set services ipsec-vpn rule r1 match-direction output\n"
	    "set services ipsec-vpn rule r2 match-direction input\n"
	    "set services ipsec-vpn ike policy p proposals c\n"
	    "set services ipsec-vpn ike policy p proposals d\n");
	free(text);
	free(r1);
	free(r2);
	cfg_node_free(dst);
	cfg_node_free(src);
}

Test(review, sizes_are_kept_canonical)
{
	char big[1300], *msg, *text;
	struct cfg_node *t = cfg_tree_new();

	memset(big, '0', 1200);
	snprintf(big + 1200, sizeof(big) - 1200, "10K");
	{
		char *copy, *words[8];
		int n = split("services ipsec-vpn traceoptions file f size X", &copy, words, 8);
		struct cfg_diags d = CFG_DIAGS_INIT;

		words[n - 1] = big;
		cr_assert_eq(cfg_apply(t, CFG_OP_SET, words, n, NULL, false, NULL, &d), 0);
		cfg_diags_free(&d);
		free(copy);
	}
	text = shown(t, true);
	cr_assert_str_eq(text, "set services ipsec-vpn traceoptions file f size 10k\n");
	free(text);
	cr_assert_eq(command(t, CFG_OP_SET, "services ipsec-vpn traceoptions file f size 2M",
	    &msg), 0);
	free(msg);
	text = shown(t, true);
	cr_assert_str_eq(text, "set services ipsec-vpn traceoptions file f size 2m\n");
	free(text);
	cfg_node_free(t);
}

Test(review, a_set_line_with_braces_applies_nothing)
{
	char *report, *text;
	size_t errors;
	struct cfg_node *t = parse("set services ipsec-vpn rule r1 { match-direction input }\n"
	    "set services ipsec-vpn disable-natt\n", &report, &errors);

	cr_assert_eq(errors, 1, "%s", report);
	cr_assert_not_null(strstr(report, "'{'"), "%s", report);
	text = shown(t, true);
	cr_assert_str_eq(text, "set services ipsec-vpn disable-natt\n");
	free(text);
	free(report);
	cfg_node_free(t);
}

Test(review, a_statement_compares_with_itself_by_path)
{
	char *ra, *rb;
	size_t ea, eb;
	struct cfg_node *a = parse("services { ipsec-vpn { rule r1 { match-direction input; }\n"
	    "establish-tunnels immediately; } }\n", &ra, &ea);
	struct cfg_node *b = parse("services { ipsec-vpn { inactive: rule r1 {\n"
	    "match-direction input; } establish-tunnels on-traffic; } }\n", &rb, &eb);
	char *c_et, *c_rule, *w_et[4], *w_rule[4];
	int n_et = split("services ipsec-vpn establish-tunnels", &c_et, w_et, 4);
	int n_rule = split("services ipsec-vpn rule", &c_rule, w_rule, 4);
	struct cfg_diags d = CFG_DIAGS_INIT;
	const struct cfg_schema *only;
	struct strbuf sb = STRBUF_INIT;
	struct cfg_node *o, *n;

	cr_assert_eq(ea + eb, 0);
	o = cfg_find(a, w_et, n_et, NULL, &d);
	n = cfg_find(b, w_et, n_et, NULL, &d);
	cfg_compare_statement(o, n, NULL, &sb);
	cr_assert_str_eq(strbuf_str(&sb), "[edit services ipsec-vpn]\n"
	    "-    establish-tunnels immediately;\n+    establish-tunnels on-traffic;\n");
	strbuf_reset(&sb);
	o = cfg_find(a, w_rule, n_rule, &only, &d);
	n = cfg_find(b, w_rule, n_rule, &only, &d);
	cr_assert_not_null(only);
	cfg_compare_statement(o, n, only, &sb);
	cr_assert_str_eq(strbuf_str(&sb), "[edit services ipsec-vpn]\n"
	    "!    inactive: rule r1 { ... }\n");
	strbuf_release(&sb);
	cfg_diags_free(&d);
	free(c_et);
	free(c_rule);
	cfg_node_free(a);
	cfg_node_free(b);
	free(ra);
	free(rb);
}
