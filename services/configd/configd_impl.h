/* Private to picsec-configd. */
#ifndef PICSEC_CONFIGD_IMPL_H
#define PICSEC_CONFIGD_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "configd.h"
#include "strbuf.h"

struct bus;
struct cfg_node;
struct cfg_snapshot;
struct store;
struct timers;

enum { CONFIGD_USER_MAX = 64 };

struct configd_session {
	struct configd_session *next;
	uint64_t id;
	char user[CONFIGD_USER_MAX];
	bool exclusive;
	uint64_t opened_ns;
	uint64_t last_used_ms;
};

struct configd {
	struct ev_loop *loop;
	struct bus *bus;
	struct timers *timers;
	struct store *store;
	unsigned minute_ms;	       /* how long a "minute" of commit confirmed lasts */
	unsigned lock_idle_ms;	       /* an exclusive session idle this long loses its lock */

	struct cfg_node *committed;    /* the configuration in effect */
	/* What configure mode edits, shared by sessions. NULL while it is the committed
	 * configuration: the copy is made on the first change, not on every commit. */
	struct cfg_node *candidate;
	struct cfg_snapshot *snapshot; /* committed, as published */
	uint64_t generation;
	uint64_t committed_ns;
	char committed_by[CONFIGD_USER_MAX];

	struct configd_session *sessions;
	uint64_t next_session;

	/* commit confirmed: undone at the deadline unless a commit confirms it */
	uint64_t confirm_timer;
	uint64_t confirm_generation;   /* the generation to go back to */
	uint64_t lock_timer;
};

/* configd.c */
/* Makes tree the committed configuration as generation+1: writes it, publishes it. The
 * tree must have passed the checks. Returns 0, or -1 with the reason in out. */
int configd_activate(struct configd *cd, struct cfg_node *tree, const char *user,
    const char *comment, struct strbuf *out);
void configd_publish(struct configd *cd);
/* Reads rollback n (0 = committed) into a new tree; NULL with the reason in out. */
struct cfg_node *configd_rollback_tree(struct configd *cd, unsigned n, struct strbuf *out);

/* The candidate to read (the committed tree while there are no changes). */
struct cfg_node *configd_candidate(struct configd *cd);
/* The candidate to change: copied from the committed tree first if need be. NULL when out
 * of memory, with the reason in out. */
struct cfg_node *configd_candidate_edit(struct configd *cd, struct strbuf *out);
/* Replaces the candidate (NULL: back to the committed configuration). */
void configd_candidate_set(struct configd *cd, struct cfg_node *tree);
bool configd_has_changes(struct configd *cd);

/* configd_session.c */
struct configd_session *configd_session_find(struct configd *cd, uint64_t id);
struct configd_session *configd_session_open(struct configd *cd, const char *user,
    bool exclusive, struct strbuf *out);
void configd_session_close(struct configd *cd, struct configd_session *s, struct strbuf *out);
/* NULL when s may change the candidate; else the session that holds the lock. */
const struct configd_session *configd_locked_by(struct configd *cd,
    const struct configd_session *s);
void configd_sessions_free(struct configd *cd);

/* configd_commands.c */
/* Runs one configure-mode command for session s (NULL: read-only). Output and messages go
 * to out; returns true when it succeeded. */
bool configd_command(struct configd *cd, struct configd_session *s, char **words, int nwords,
    const char *input, size_t input_len, const char *input_name, struct strbuf *out);

/* configd_commit.c */
bool configd_commit(struct configd *cd, struct configd_session *s, char **words, int nwords,
    struct strbuf *out);
/* A commit confirmed that was not confirmed in time goes back. */
void configd_confirm_expired(void *ctx, uint64_t id);

/* configd_handlers.c */
void configd_handlers_install(struct configd *cd);

#endif
