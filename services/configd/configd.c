/* picsec-configd's state: the committed configuration (on disk and as a snapshot), the
 * candidate, and what a commit does once its checks have passed. */
#include "configd_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "bus.h"
#include "catalog.h"
#include "cfg_snapshot.h"
#include "config.h"
#include "configd_store.h"
#include "envelope.h"
#include "log.h"
#include "secbuf.h"
#include "timer.h"

enum { CONFIGD_DEFAULT_MINUTE_MS = 60000, CONFIGD_DEFAULT_LOCK_IDLE_MS = 3600 * 1000 };

static struct cfg_node *
configd_parse_stored(struct configd *cd, uint64_t g, struct store_meta *meta,
    struct strbuf *why)
{
	struct strbuf text = STRBUF_INIT;
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct cfg_node *tree = NULL;
	char err[512], name[64];

	if (store_read(cd->store, g, &text, meta, err, sizeof(err)) == -1) {
		strbuf_addf(why, "error: %s\n", err);
		goto out;
	}
	snprintf(name, sizeof(name), "config.%llu", (unsigned long long)g);
	tree = cfg_parse(name, strbuf_str(&text), strbuf_len(&text), CFG_FORMAT_BRACES, &d);
	if (tree != NULL && d.errors > 0) {
		cfg_diags_format(&d, why, "the stored configuration does not parse");
		cfg_node_free(tree);
		tree = NULL;
	}
	if (tree != NULL)
		cfg_tree_forget_locations(tree);
out:
	secure_wipe(text.buf, text.cap);
	strbuf_release(&text);
	cfg_diags_free(&d);
	return tree;
}

struct cfg_node *
configd_rollback_tree(struct configd *cd, unsigned n, struct strbuf *out)
{
	struct store_meta meta;

	if (n == 0)
		return cfg_node_copy(cd->committed);
	if (cd->generation <= n) {
		strbuf_addf(out, "error: rollback %u: there are only %llu earlier "
		    "configurations\n", n, (unsigned long long)(cd->generation > 0 ?
		    cd->generation - 1 : 0));
		return NULL;
	}
	return configd_parse_stored(cd, cd->generation - n, &meta, out);
}

void
configd_publish(struct configd *cd)
{
	if (cd->snapshot == NULL)
		return;
	bus_publish(cd->bus, "config.committed", MT(CONFIG_SNAPSHOT),
	    (const ProtobufCMessage *)cfg_snapshot_msg(cd->snapshot));
}

struct cfg_node *
configd_candidate(struct configd *cd)
{
	return cd->candidate != NULL ? cd->candidate : cd->committed;
}

struct cfg_node *
configd_candidate_edit(struct configd *cd, struct strbuf *out)
{
	if (cd->candidate == NULL && (cd->candidate = cfg_node_copy(cd->committed)) == NULL)
		strbuf_adds(out, "error: out of memory\n");
	return cd->candidate;
}

void
configd_candidate_set(struct configd *cd, struct cfg_node *tree)
{
	if (tree == cd->candidate)
		return;
	cfg_node_free(cd->candidate);
	cd->candidate = tree;
}

bool
configd_has_changes(struct configd *cd)
{
	return cd->candidate != NULL && !cfg_node_equal(cd->candidate, cd->committed);
}

int
configd_activate(struct configd *cd, struct cfg_node *tree, const char *user,
    const char *comment, struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	struct store_meta meta = { 0 };
	struct cfg_snapshot *snap;
	char err[512];
	int rc = -1;

	meta.generation = cd->generation + 1;
	meta.committed_ns = realtime_ns();
	snprintf(meta.user, sizeof(meta.user), "%s", user != NULL ? user : "?");
	snprintf(meta.comment, sizeof(meta.comment), "%s", comment != NULL ? comment : "");
	snap = cfg_snapshot_build(tree, meta.generation, meta.user, meta.comment,
	    meta.committed_ns);
	if (snap == NULL) {
		strbuf_adds(out, "error: out of memory building the snapshot\n");
		goto out;
	}
	cfg_display(tree, &text);
	/* On disk first: a commit that is not durable is not a commit. */
	if (store_write(cd->store, &meta, strbuf_str(&text), strbuf_len(&text), err,
	    sizeof(err)) == -1) {
		strbuf_addf(out, "error: commit failed: %s\n", err);
		cfg_snapshot_free(snap);
		goto out;
	}
	cfg_node_free(cd->committed);
	cd->committed = tree;
	cfg_snapshot_free(cd->snapshot);
	cd->snapshot = snap;
	cd->generation = meta.generation;
	cd->committed_ns = meta.committed_ns;
	snprintf(cd->committed_by, sizeof(cd->committed_by), "%s", meta.user);
	log_info("generation %llu committed by %s%s%s", (unsigned long long)cd->generation,
	    meta.user, meta.comment[0] != '\0' ? ": " : "", meta.comment);
	configd_publish(cd);
	rc = 0;
out:
	secure_wipe(text.buf, text.cap);
	strbuf_release(&text);
	return rc;
}

static int
configd_load_latest(struct configd *cd, char *err, size_t errlen)
{
	struct strbuf why = STRBUF_INIT;
	struct store_meta meta;
	struct cfg_node *tree;
	uint64_t g = store_latest(cd->store);

	if (g == 0) {
		cd->committed = cfg_tree_new();
		if (cd->committed == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		cd->snapshot = cfg_snapshot_build(cd->committed, 0, "", "", 0);
		return cd->snapshot != NULL ? 0 : -1;
	}
	tree = configd_parse_stored(cd, g, &meta, &why);
	if (tree == NULL) {
		/* Written by us, atomically: this is damage from outside, not a torn commit. */
		snprintf(err, errlen, "the committed configuration (generation %llu) cannot be "
		    "read:\n%s", (unsigned long long)g, strbuf_str(&why));
		strbuf_release(&why);
		return -1;
	}
	strbuf_release(&why);
	cd->committed = tree;
	cd->generation = g;
	cd->committed_ns = meta.committed_ns;
	snprintf(cd->committed_by, sizeof(cd->committed_by), "%s", meta.user);
	cd->snapshot = cfg_snapshot_build(tree, g, meta.user, meta.comment, meta.committed_ns);
	if (cd->snapshot == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	log_info("loaded generation %llu (committed by %s)", (unsigned long long)g, meta.user);
	return 0;
}

struct configd *
configd_new(struct ev_loop *loop, struct bus *bus, const struct configd_options *opts,
    char *err, size_t errlen)
{
	struct configd *cd;

	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cd->loop = loop;
	cd->bus = bus;
	cd->next_session = 1;
	cd->minute_ms = opts->minute_ms > 0 ? opts->minute_ms : CONFIGD_DEFAULT_MINUTE_MS;
	cd->lock_idle_ms = opts->lock_idle_ms > 0 ? opts->lock_idle_ms :
	    CONFIGD_DEFAULT_LOCK_IDLE_MS;
	cd->timers = timers_new(loop, cd);
	cd->store = store_open(opts->statedir, err, errlen);
	if (cd->timers == NULL || cd->store == NULL)
		goto error;
	if (configd_load_latest(cd, err, errlen) == -1)
		goto error;
	configd_handlers_install(cd);
	return cd;
error:
	configd_free(cd);
	return NULL;
}

void
configd_free(struct configd *cd)
{
	if (cd == NULL)
		return;
	configd_sessions_free(cd);
	timers_free(cd->timers);
	store_close(cd->store);
	cfg_node_free(cd->committed);
	cfg_node_free(cd->candidate);
	cfg_snapshot_free(cd->snapshot);
	free(cd);
}

int
configd_check_file(const char *path)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	struct cfg_node *tree = NULL;
	char buf[8192];
	size_t n;
	FILE *f;
	int rc = 1;

	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&text, buf, n);
	fclose(f);
	secure_wipe(buf, sizeof(buf));
	tree = cfg_parse(path, strbuf_str(&text), strbuf_len(&text), CFG_FORMAT_AUTO, &d);
	if (tree == NULL) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	/* Syntax errors first; the checks only make sense on what parsed. */
	if (d.errors == 0)
		cfg_check(tree, &d);
	cfg_diags_format(&d, &out, "configuration check-out failed");
	if (d.errors == 0) {
		strbuf_adds(&out, "configuration check succeeds\n");
		rc = 0;
	}
	/* The report is the output, errors included: for a terminal and for scripts alike. */
	fputs(strbuf_str(&out), stdout);
out:
	secure_wipe(text.buf, text.cap);
	strbuf_release(&text);
	strbuf_release(&out);
	cfg_diags_free(&d);
	cfg_node_free(tree);
	return rc;
}
