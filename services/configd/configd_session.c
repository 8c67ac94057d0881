/* Configuration sessions: every `configure` is one; `configure exclusive` holds a lock that
 * keeps everyone else's changes and commits out until it ends. A CLI that vanished without
 * closing its session cannot hold the lock forever: an idle exclusive session loses it. */
#include "configd_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "pbprint.h"
#include "timer.h"

struct configd_session *
configd_session_find(struct configd *cd, uint64_t id)
{
	struct configd_session *s;

	for (s = cd->sessions; s != NULL; s = s->next) {
		if (s->id == id) {
			s->last_used_ms = monotonic_ms();
			return s;
		}
	}
	return NULL;
}

static struct configd_session *
configd_exclusive_holder(struct configd *cd)
{
	struct configd_session *s;

	for (s = cd->sessions; s != NULL; s = s->next) {
		if (s->exclusive)
			return s;
	}
	return NULL;
}

const struct configd_session *
configd_locked_by(struct configd *cd, const struct configd_session *s)
{
	const struct configd_session *holder = configd_exclusive_holder(cd);

	return holder != NULL && holder != s ? holder : NULL;
}

static void
configd_lock_check(void *ctx, uint64_t id)
{
	struct configd *cd = ctx;
	struct configd_session *holder = configd_exclusive_holder(cd);

	(void)id;
	cd->lock_timer = 0;
	if (holder == NULL)
		return;
	if (monotonic_ms() - holder->last_used_ms >= cd->lock_idle_ms) {
		log_warnx("configure exclusive session %" PRIu64 " of %s idle for %u s: lock "
		    "released", holder->id, holder->user, cd->lock_idle_ms / 1000);
		holder->exclusive = false;
		return;
	}
	cd->lock_timer = timers_add(cd->timers, (double)cd->lock_idle_ms / 4000.0,
	    configd_lock_check, 0);
}

static void
configd_describe_others(struct configd *cd, const struct configd_session *me,
    struct strbuf *out)
{
	const struct configd_session *s;
	bool first = true;

	for (s = cd->sessions; s != NULL; s = s->next) {
		if (s == me)
			continue;
		if (first)
			strbuf_adds(out, "Users currently editing the configuration:\n");
		first = false;
		strbuf_addf(out, "  %s (session %" PRIu64 ")%s since ", s->user, s->id,
		    s->exclusive ? " exclusive" : "");
		pbprint_time_ns(out, s->opened_ns);
		strbuf_addc(out, '\n');
	}
}

struct configd_session *
configd_session_open(struct configd *cd, const char *user, bool exclusive, struct strbuf *out)
{
	const struct configd_session *holder = configd_exclusive_holder(cd);
	struct configd_session *s;

	if (exclusive && holder != NULL) {
		strbuf_addf(out, "error: configuration database locked by:\n  %s (session %"
		    PRIu64 ") exclusive\n", holder->user, holder->id);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		strbuf_adds(out, "error: out of memory\n");
		return NULL;
	}
	s->id = cd->next_session++;
	snprintf(s->user, sizeof(s->user), "%s", user[0] != '\0' ? user : "?");
	s->exclusive = exclusive;
	s->opened_ns = realtime_ns();
	s->last_used_ms = monotonic_ms();
	configd_describe_others(cd, s, out);
	if (holder != NULL)
		strbuf_addf(out, "The configuration is locked by %s (session %" PRIu64 "): you "
		    "can look but not change it\n", holder->user, holder->id);
	if (configd_has_changes(cd))
		strbuf_adds(out, "The configuration has been changed but not committed\n");
	s->next = cd->sessions;
	cd->sessions = s;
	if (exclusive && cd->lock_timer == 0)
		cd->lock_timer = timers_add(cd->timers, (double)cd->lock_idle_ms / 4000.0,
		    configd_lock_check, 0);
	log_info("%s entered configuration mode (session %" PRIu64 "%s)", s->user, s->id,
	    exclusive ? ", exclusive" : "");
	return s;
}

void
configd_session_close(struct configd *cd, struct configd_session *s, struct strbuf *out)
{
	struct configd_session **pp;

	for (pp = &cd->sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	/* An exclusive session's uncommitted changes go with it (Junos does the same). */
	if (s->exclusive && configd_has_changes(cd)) {
		configd_candidate_set(cd, NULL);
		strbuf_adds(out, "warning: uncommitted changes discarded on exit\n");
	}
	log_info("%s left configuration mode (session %" PRIu64 ")", s->user, s->id);
	free(s);
}

void
configd_sessions_free(struct configd *cd)
{
	struct configd_session *s;

	while ((s = cd->sessions) != NULL) {
		cd->sessions = s->next;
		free(s);
	}
}
