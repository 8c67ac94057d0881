/* Configure-mode commands on the candidate: set, delete, activate, deactivate, annotate,
 * show (with | display set and | compare), load, rollback, status. commit is in
 * configd_commit.c. Paths arrive absolute; the CLI keeps the edit level. */
#include "configd_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "configd_store.h"
#include "pbprint.h"
#include "log.h"
#include "secbuf.h"

static bool
configd_may_change(struct configd *cd, struct configd_session *s, struct strbuf *out)
{
	const struct configd_session *holder;

	if (s == NULL) {
		strbuf_adds(out, "error: enter configuration mode first (configure)\n");
		return false;
	}
	if ((holder = configd_locked_by(cd, s)) != NULL) {
		strbuf_addf(out, "error: configuration database locked by:\n  %s (session %"
		    PRIu64 ") exclusive\n", holder->user, holder->id);
		return false;
	}
	return true;
}

static bool
configd_edit(struct configd *cd, struct configd_session *s, enum cfg_op op, char **words,
    int nwords, struct strbuf *out)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	const char *annotation = NULL;
	struct cfg_node *tree;
	bool ok;

	if (!configd_may_change(cd, s, out))
		return false;
	if (op == CFG_OP_ANNOTATE) {
		if (nwords < 2) {
			strbuf_adds(out, "error: annotate <statement> \"comment\"\n");
			return false;
		}
		annotation = words[--nwords];
	}
	if ((tree = configd_candidate_edit(cd, out)) == NULL)
		return false;
	ok = cfg_apply(tree, op, words, nwords, annotation, true, NULL, &d) == 0;
	cfg_diags_format(&d, out, NULL);
	cfg_diags_free(&d);
	return ok;
}

/* Splits "path... | pipe..." at the first "|". Returns the number of path words. */
static int
configd_split_pipe(char **words, int nwords, char ***pipe, int *npipe)
{
	int i;

	for (i = 0; i < nwords; i++) {
		if (strcmp(words[i], "|") == 0) {
			*pipe = words + i + 1;
			*npipe = nwords - i - 1;
			return i;
		}
	}
	*pipe = NULL;
	*npipe = 0;
	return nwords;
}

enum show_form { SHOW_BRACES, SHOW_SET, SHOW_JSON };

static void
configd_show_one(const struct cfg_node *n, enum show_form form, struct strbuf *out)
{
	switch (form) {
	case SHOW_BRACES:
		/* Junos shows what is inside a level, not the level's own statement. */
		if (n->first == NULL || (n->schema->flags & CFG_F_INLINE))
			cfg_display(n, out);
		else
			cfg_display_children(n, out);
		break;
	case SHOW_SET:
		cfg_display_set(n, out);
		break;
	case SHOW_JSON:
		cfg_display_json(n, out);
		break;
	}
}

static void
configd_show_node(const struct cfg_node *n, const struct cfg_schema *only,
    enum show_form form, struct strbuf *out)
{
	const struct cfg_node *c;

	if (only == NULL) {
		configd_show_one(n, form, out);
		return;
	}
	for (c = n->first; c != NULL; c = c->next) {
		if (c->schema == only)
			configd_show_one(c, form, out);
	}
}

static bool
configd_show(struct configd *cd, struct configd_session *s, char **words, int nwords,
    struct strbuf *out)
{
	struct cfg_node *tree = s != NULL ? configd_candidate(cd) : cd->committed, *old_tree = NULL;
	struct cfg_node *n, *o = NULL;
	struct cfg_diags d = CFG_DIAGS_INIT, d_old = CFG_DIAGS_INIT;
	const struct cfg_schema *only = NULL;
	char **pipe, *end;
	int npipe, npath;
	unsigned long r = 0;
	bool ok = false;

	npath = configd_split_pipe(words, nwords, &pipe, &npipe);
	if (npipe > 0 && strcmp(pipe[0], "compare") == 0) {
		if (npipe != 1 && (npipe != 3 || strcmp(pipe[1], "rollback") != 0)) {
			strbuf_adds(out, "error: | compare [rollback N]\n");
			goto out;
		}
		/* Against the committed configuration, or against rollback N. */
		if (npipe == 3) {
			r = strtoul(pipe[2], &end, 10);
			if (*end != '\0' || r > 49) {
				strbuf_adds(out, "error: rollback takes 0..49\n");
				goto out;
			}
		}
		old_tree = configd_rollback_tree(cd, (unsigned)r, out);
		if (old_tree == NULL)
			goto out;
		/* The statement may be in one of the two only: added, or deleted. */
		n = cfg_find(tree, words, npath, &only, &d);
		o = cfg_find(old_tree, words, npath, n != NULL ? NULL : &only, &d_old);
		if (n == NULL && o == NULL) {
			cfg_diags_format(&d, out, NULL);
			goto out;
		}
		cfg_compare_statement(o, n, only, out);
		ok = true;
		goto out;
	}
	n = cfg_find(tree, words, npath, &only, &d);
	if (n == NULL) {
		cfg_diags_format(&d, out, NULL);
		goto out;
	}
	if (npipe == 0) {
		configd_show_node(n, only, SHOW_BRACES, out);
	} else if (npipe == 2 && strcmp(pipe[0], "display") == 0 && strcmp(pipe[1], "set") == 0) {
		configd_show_node(n, only, SHOW_SET, out);
	} else if (npipe == 2 && strcmp(pipe[0], "display") == 0 &&
	    strcmp(pipe[1], "json") == 0) {
		configd_show_node(n, only, SHOW_JSON, out);
	} else {
		strbuf_adds(out, "error: the configuration pipes here are '| display set', "
		    "'| display json' and '| compare [rollback N]'\n");
		goto out;
	}
	ok = true;
out:
	cfg_node_free(old_tree);
	cfg_diags_free(&d);
	cfg_diags_free(&d_old);
	return ok;
}

/* load merge|override|replace|set terminal|FILE: the CLI sends the text, in either form.
 * All or nothing: a load with an error changes nothing. */
static bool
configd_load(struct configd *cd, struct configd_session *s, char **words, int nwords,
    const char *input, size_t input_len, const char *input_name, struct strbuf *out)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct cfg_node *loaded = NULL, *next = NULL;
	const char *how = nwords > 0 ? words[0] : "";
	const char *name = input_name != NULL && input_name[0] != '\0' ? input_name : "terminal";
	bool ok = false;

	if (!configd_may_change(cd, s, out))
		return false;
	if (nwords != 2 || (strcmp(how, "merge") != 0 && strcmp(how, "override") != 0 &&
	    strcmp(how, "replace") != 0 && strcmp(how, "set") != 0)) {
		strbuf_adds(out, "error: load (merge | override | replace | set) "
		    "(terminal | <file>)\n");
		return false;
	}
	/* Set commands given to override start from nothing; to merge or replace they run
	 * against the candidate, as load set does. */
	if (strcmp(how, "set") == 0 || cfg_looks_like_set(input, input_len)) {
		next = strcmp(how, "override") == 0 ? cfg_tree_new() :
		    cfg_node_copy(configd_candidate(cd));
		if (next != NULL)
			cfg_run_set_lines(next, name, input, input_len, &d);
	} else {
		loaded = cfg_parse(name, input, input_len, CFG_FORMAT_BRACES, &d);
		if (loaded != NULL && d.errors == 0) {
			if (strcmp(how, "override") == 0) {
				next = loaded;
				loaded = NULL;
			} else if ((next = cfg_node_copy(configd_candidate(cd))) != NULL &&
			    cfg_node_load(next, loaded, strcmp(how, "replace") == 0) == -1) {
				cfg_node_free(next);
				next = NULL;
			}
		}
	}
	cfg_diags_format(&d, out, NULL);
	if (next == NULL && d.errors == 0)
		strbuf_adds(out, "error: out of memory\n");
	if (next == NULL || d.errors > 0) {
		strbuf_addf(out, "error: load failed (%zu error%s): the candidate is unchanged\n",
		    d.errors, d.errors == 1 ? "" : "s");
		goto out;
	}
	cfg_tree_forget_locations(next);
	configd_candidate_set(cd, next);
	next = NULL;
	strbuf_adds(out, "load complete\n");
	ok = true;
out:
	cfg_node_free(loaded);
	cfg_node_free(next);
	cfg_diags_free(&d);
	return ok;
}

static bool
configd_rollback(struct configd *cd, struct configd_session *s, char **words, int nwords,
    struct strbuf *out)
{
	struct cfg_node *tree;
	unsigned long n = 0;
	char *end;

	if (!configd_may_change(cd, s, out))
		return false;
	if (nwords > 1 || (nwords == 1 && ((n = strtoul(words[0], &end, 10)) > 49 ||
	    *end != '\0' || words[0][0] == '\0'))) {
		strbuf_adds(out, "error: rollback takes one number, 0..49\n");
		return false;
	}
	tree = configd_rollback_tree(cd, (unsigned)n, out);
	if (tree == NULL)
		return false;
	configd_candidate_set(cd, tree);
	strbuf_adds(out, "load complete\n");
	return true;
}

/* show system commit: the stored commits, newest first, numbered as rollback takes them. */
static bool
configd_history(struct configd *cd, struct strbuf *out)
{
	uint64_t gens[STORE_KEEP];
	struct strbuf text = STRBUF_INIT;
	struct store_meta meta;
	size_t n, i;
	char err[256];

	n = store_list(cd->store, gens, STORE_KEEP);
	for (i = 0; i < n; i++) {
		strbuf_reset(&text);
		if (store_read(cd->store, gens[i], &text, &meta, err, sizeof(err)) == -1)
			continue;
		strbuf_addf(out, "%zu   ", (size_t)(cd->generation - gens[i]));
		pbprint_time_ns(out, meta.committed_ns);
		strbuf_addf(out, " by %s (generation %" PRIu64 ")%s%s\n", meta.user, gens[i],
		    meta.comment[0] != '\0' ? "\n    " : "", meta.comment);
	}
	secure_wipe(text.buf, text.cap);
	strbuf_release(&text);
	return true;
}

static bool
configd_status(struct configd *cd, struct strbuf *out)
{
	const struct configd_session *s;

	strbuf_addf(out, "Committed generation %" PRIu64 " by %s\n", cd->generation,
	    cd->committed_by[0] != '\0' ? cd->committed_by : "-");
	if (cd->confirm_timer != 0)
		strbuf_addf(out, "A commit confirmed waits for confirmation; unconfirmed it goes "
		    "back to generation %" PRIu64 "\n", cd->confirm_generation);
	if (configd_has_changes(cd))
		strbuf_adds(out, "The candidate has uncommitted changes\n");
	for (s = cd->sessions; s != NULL; s = s->next)
		strbuf_addf(out, "Session %" PRIu64 ": %s%s\n", s->id, s->user,
		    s->exclusive ? " (exclusive)" : "");
	return true;
}

bool
configd_command(struct configd *cd, struct configd_session *s, char **words, int nwords,
    const char *input, size_t input_len, const char *input_name, struct strbuf *out)
{
	static const struct {
		const char *verb;
		enum cfg_op op;
	} edits[] = {
		{ "set", CFG_OP_SET },
		{ "delete", CFG_OP_DELETE },
		{ "activate", CFG_OP_ACTIVATE },
		{ "deactivate", CFG_OP_DEACTIVATE },
		{ "annotate", CFG_OP_ANNOTATE },
	};
	size_t i;

	if (nwords == 0) {
		strbuf_adds(out, "error: empty command\n");
		return false;
	}
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		if (strcmp(words[0], edits[i].verb) == 0)
			return configd_edit(cd, s, edits[i].op, words + 1, nwords - 1, out);
	}
	if (strcmp(words[0], "show") == 0)
		return configd_show(cd, s, words + 1, nwords - 1, out);
	if (strcmp(words[0], "commit") == 0)
		return configd_commit(cd, s, words + 1, nwords - 1, out);
	if (strcmp(words[0], "load") == 0)
		return configd_load(cd, s, words + 1, nwords - 1, input, input_len, input_name, out);
	if (strcmp(words[0], "rollback") == 0)
		return configd_rollback(cd, s, words + 1, nwords - 1, out);
	if (strcmp(words[0], "status") == 0)
		return configd_status(cd, out);
	if (strcmp(words[0], "history") == 0)
		return configd_history(cd, out);
	strbuf_addf(out, "error: unknown command '%s'\n", words[0]);
	return false;
}
