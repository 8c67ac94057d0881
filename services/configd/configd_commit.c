/* commit [check] [confirmed [MINUTES]] [comment "TEXT"] [and-quit]: the candidate passes
 * every check or nothing is committed. A commit confirmed goes back by itself unless another
 * commit confirms it in time. */
#include "configd_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "configd_store.h"
#include "log.h"
#include "timer.h"

enum { CONFIRM_DEFAULT_MINUTES = 10, CONFIRM_MAX_MINUTES = 65535 };

struct commit_args {
	bool check;
	bool confirmed;
	unsigned minutes;
	const char *comment;
};

static bool
commit_parse(char **words, int nwords, struct commit_args *a, struct strbuf *out)
{
	char *end;
	unsigned long v;
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < nwords; i++) {
		if (strcmp(words[i], "check") == 0) {
			a->check = true;
		} else if (strcmp(words[i], "confirmed") == 0) {
			a->confirmed = true;
			a->minutes = CONFIRM_DEFAULT_MINUTES;
			if (i + 1 < nwords && words[i + 1][0] >= '0' && words[i + 1][0] <= '9') {
				v = strtoul(words[++i], &end, 10);
				if (*end != '\0' || v < 1 || v > CONFIRM_MAX_MINUTES) {
					strbuf_addf(out, "error: commit confirmed takes 1..%d minutes\n",
					    CONFIRM_MAX_MINUTES);
					return false;
				}
				a->minutes = (unsigned)v;
			}
		} else if (strcmp(words[i], "comment") == 0 && i + 1 < nwords) {
			a->comment = words[++i];
		} else if (strcmp(words[i], "and-quit") == 0) {
			/* Leaving configuration mode is the CLI's part. */
		} else {
			strbuf_addf(out, "error: commit: unexpected '%s' (commit [check] [confirmed "
			    "[minutes]] [comment \"text\"] [and-quit])\n", words[i]);
			return false;
		}
	}
	if (a->check && a->confirmed) {
		strbuf_adds(out, "error: commit check commits nothing to confirm\n");
		return false;
	}
	return true;
}

void
configd_confirm_expired(void *ctx, uint64_t id)
{
	struct configd *cd = ctx;
	struct strbuf out = STRBUF_INIT;
	struct cfg_node *tree;
	uint64_t back = cd->confirm_generation;

	(void)id;
	cd->confirm_timer = 0;
	tree = back == 0 ? cfg_tree_new() :
	    configd_rollback_tree(cd, (unsigned)(cd->generation - back), &out);
	if (tree == NULL || configd_activate(cd, tree, "configd",
	    "commit confirmed was not confirmed: rolled back", &out) == -1) {
		log_warnx("commit confirmed expired, but going back to generation %" PRIu64
		    " failed: %s", back, strbuf_str(&out));
		cfg_node_free(tree);
		strbuf_release(&out);
		return;
	}
	log_warnx("commit confirmed was not confirmed in time: back to the configuration of "
	    "generation %" PRIu64 " (now generation %" PRIu64 ")", back, cd->generation);
	/* The candidate follows: what was not confirmed is not kept for editing either. */
	configd_candidate_set(cd, NULL);
	strbuf_release(&out);
}

bool
configd_commit(struct configd *cd, struct configd_session *s, char **words, int nwords,
    struct strbuf *out)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	const struct configd_session *holder;
	struct commit_args a;
	struct cfg_node *tree, *moved;
	uint64_t before = cd->generation;
	bool ok = false;

	if (s == NULL) {
		strbuf_adds(out, "error: enter configuration mode first (configure)\n");
		return false;
	}
	if (!commit_parse(words, nwords, &a, out))
		return false;
	if (!a.check && (holder = configd_locked_by(cd, s)) != NULL) {
		strbuf_addf(out, "error: configuration database locked by:\n  %s (session %" PRIu64
		    ") exclusive\n", holder->user, holder->id);
		return false;
	}
	cfg_check(configd_candidate(cd), &d);
	cfg_diags_format(&d, out, "configuration check-out failed");
	if (d.errors > 0)
		goto out;
	if (a.check) {
		strbuf_adds(out, "configuration check succeeds\n");
		ok = true;
		goto out;
	}
	/* The candidate itself becomes the committed tree; it is copied again only when
	 * someone changes it. */
	moved = cd->candidate;
	tree = moved != NULL ? moved : cfg_node_copy(cd->committed);
	if (tree == NULL) {
		strbuf_adds(out, "error: out of memory\n");
		goto out;
	}
	cd->candidate = NULL;
	if (configd_activate(cd, tree, s->user, a.comment, out) == -1) {
		/* Nothing was committed: the changes stay in the candidate. */
		if (moved != NULL)
			cd->candidate = moved;
		else
			cfg_node_free(tree);
		goto out;
	}
	if (cd->confirm_timer != 0 && !a.confirmed) {
		timers_cancel(cd->timers, cd->confirm_timer);
		cd->confirm_timer = 0;
		log_info("commit confirmed: confirmed by %s", s->user);
	}
	if (a.confirmed) {
		/* Going back means to what was committed before the first unconfirmed commit. */
		if (cd->confirm_timer == 0)
			cd->confirm_generation = before;
		timers_rearm(cd->timers, &cd->confirm_timer,
		    (double)a.minutes * cd->minute_ms / 1000.0, configd_confirm_expired, 0);
		strbuf_addf(out, "commit confirmed will be automatically rolled back in %u "
		    "minute%s unless confirmed\n", a.minutes, a.minutes == 1 ? "" : "s");
	}
	strbuf_adds(out, "commit complete\n");
	ok = true;
out:
	cfg_diags_free(&d);
	return ok;
}
