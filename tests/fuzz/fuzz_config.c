/* libFuzzer target for the configuration language: any bytes, either form. Whatever
 * parses must check, display in all three forms, and parse back from its own display into
 * the same tree (the display is the canonical form, so it must be a fixed point). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The set form has no place for annotations: compare without them. */
static void
drop_annotations(struct cfg_node *n)
{
	struct cfg_node *c;

	free(n->annotation);
	n->annotation = NULL;
	for (c = n->first; c != NULL; c = c->next)
		drop_annotations(c);
}

static void
round_trip(const struct cfg_node *tree, bool set_form)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct strbuf text = STRBUF_INIT;
	struct cfg_node *again, *want;

	want = cfg_node_copy(tree);
	if (want == NULL)
		return;
	if (set_form) {
		drop_annotations(want);
		cfg_display_set(tree, &text);
	} else {
		cfg_display(tree, &text);
	}
	again = cfg_parse("display", strbuf_str(&text), strbuf_len(&text),
	    set_form ? CFG_FORMAT_SET : CFG_FORMAT_BRACES, &d);
	if (again == NULL || d.errors != 0 || !cfg_node_equal(want, again))
		abort();
	cfg_node_free(want);
	cfg_node_free(again);
	cfg_diags_free(&d);
	strbuf_release(&text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct strbuf out = STRBUF_INIT;
	struct cfg_node *tree;

	tree = cfg_parse("fuzz", (const char *)data, size, CFG_FORMAT_AUTO, &d);
	if (tree == NULL)
		return 0;
	cfg_check(tree, &d);
	cfg_diags_format(&d, &out, "configuration check-out failed");
	cfg_display(tree, &out);
	cfg_display_set(tree, &out);
	cfg_display_json(tree, &out);
	/* Secrets are shown as their $9$ text and reparse to the same plaintext. */
	round_trip(tree, false);
	round_trip(tree, true);
	cfg_node_free(tree);
	cfg_diags_free(&d);
	strbuf_release(&out);
	return 0;
}
