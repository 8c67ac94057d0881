/* libpicsec-config: the Junos configuration language of picsec. Parse (both forms), edit
 * (set, delete, activate, deactivate, annotate), display (both forms), compare, check. */
#ifndef PICSEC_CONFIG_H
#define PICSEC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg_diag.h"
#include "cfg_schema.h"
#include "cfg_tree.h"
#include "strbuf.h"

enum cfg_op {
	CFG_OP_SET,
	CFG_OP_DELETE,
	CFG_OP_ACTIVATE,
	CFG_OP_DEACTIVATE,
	CFG_OP_ANNOTATE,
};

const char *cfg_op_name(enum cfg_op op);

/* Applies one command to the tree below at: words walk the schema from there ("services
 * ipsec-vpn rule r1 term t1 then remote-gateway 192.0.2.2"). abbrev accepts unique keyword
 * prefixes (the CLI); files spell keywords out. locs, when not NULL, gives each word's place
 * for messages. Returns 0, or -1 with the reason in d. */
int cfg_apply(struct cfg_node *at, enum cfg_op op, char *const *words, int nwords,
    const char *annotation, bool abbrev, const struct cfg_loc *locs, struct cfg_diags *d);

/* Finds the statement the words name, without changing anything (abbreviations allowed).
 * Words that end with a list keyword and no name ("services ipsec-vpn rule") find the
 * parent, and *only (if not NULL) is set to that list's schema; otherwise *only is NULL.
 * NULL with the reason in d when there is no such statement. */
struct cfg_node *cfg_find(struct cfg_node *at, char *const *words, int nwords,
    const struct cfg_schema **only, struct cfg_diags *d);

/* In a command (a verb, then words from the top: "set services ipsec-vpn ike policy p
 * pre-shared-key ascii-text KEY"), the index of the first word that is key material and in
 * *count how many words from there are (all the rest: an unquoted key may have spaces), or
 * -1. */
int cfg_secret_words(char *const *words, int nwords, int *count);

enum cfg_format {
	CFG_FORMAT_AUTO,   /* set form if the first statement is a set/delete command */
	CFG_FORMAT_BRACES,
	CFG_FORMAT_SET,
};

/* Parses text into a new tree. Errors go to d with file:line:col (file is borrowed: it must
 * outlive the tree's use of locations, see cfg_tree_forget_locations). Statements that fail
 * are left out and parsing goes on, so one pass reports every error. NULL only when out of
 * memory. */
struct cfg_node *cfg_parse(const char *file, const char *text, size_t len, enum cfg_format fmt,
    struct cfg_diags *d);
/* Whether text is in set form: its first word (after comments) is set, delete, activate or
 * deactivate. */
bool cfg_looks_like_set(const char *text, size_t len);
/* Runs set-form lines (set, delete, activate, deactivate) against an existing tree. Returns
 * the number of lines that failed. */
int cfg_run_set_lines(struct cfg_node *tree, const char *file, const char *text, size_t len,
    struct cfg_diags *d);
/* Drops every node's file location (before the file name it points to goes away). */
void cfg_tree_forget_locations(struct cfg_node *tree);

/* The statements below n in braces form (n itself when it is not the root). */
void cfg_display(const struct cfg_node *n, struct strbuf *out);
/* What is inside n (what Junos' show prints at an edit level). */
void cfg_display_children(const struct cfg_node *n, struct strbuf *out);
/* The same as set commands, then deactivate commands for what is inactive. */
void cfg_display_set(const struct cfg_node *n, struct strbuf *out);
/* The same as one JSON object, in the shape of Junos' `| display json`. */
void cfg_display_json(const struct cfg_node *n, struct strbuf *out);
/* Junos `show | compare`: [edit ...] banners, then - and + lines. Empty when equal. */
void cfg_compare(const struct cfg_node *old_tree, const struct cfg_node *new_tree,
    struct strbuf *out);
/* The same for the statement a path names (show PATH | compare): old_node and new_node are
 * that statement in each configuration, NULL where it is not there. With only (a path that
 * ends in a list's keyword), they are the parents and only that list's entries count. */
void cfg_compare_statement(const struct cfg_node *old_node, const struct cfg_node *new_node,
    const struct cfg_schema *only, struct strbuf *out);

/* Every commit check of the configuration below root: errors and warnings go to d. */
void cfg_check(const struct cfg_node *root, struct cfg_diags *d);

#endif
