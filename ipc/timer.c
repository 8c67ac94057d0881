#include "timer.h"

#include <errno.h>
#include <stdlib.h>

#include <ev.h>

#include "u64map.h"

struct timer_entry {
	ev_timer watcher; /* first: the libev callback gets this address */
	struct timers *set;
	uint64_t handle;
	uint64_t id;
	timer_fn *fn;
};

struct timers {
	struct ev_loop *loop;
	void *ctx;
	struct u64map *by_handle;
	uint64_t next_handle;
};

struct timers *
timers_new(struct ev_loop *loop, void *ctx)
{
	struct timers *ts;

	ts = calloc(1, sizeof(*ts));
	if (ts == NULL)
		return NULL;
	ts->by_handle = u64map_new();
	if (ts->by_handle == NULL) {
		free(ts);
		return NULL;
	}
	ts->loop = loop;
	ts->ctx = ctx;
	ts->next_handle = 1;
	return ts;
}

static void
timers_free_entry(uint64_t handle, void *value, void *arg)
{
	struct timer_entry *e = value;
	struct timers *ts = arg;

	(void)handle;
	ev_timer_stop(ts->loop, &e->watcher);
	free(e);
}

void
timers_free(struct timers *ts)
{
	if (ts == NULL)
		return;
	u64map_foreach(ts->by_handle, timers_free_entry, ts);
	u64map_free(ts->by_handle);
	free(ts);
}

static void
timers_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct timer_entry *e = (struct timer_entry *)w;
	struct timers *ts = e->set;
	timer_fn *fn = e->fn;
	uint64_t id = e->id;

	(void)loop;
	(void)revents;
	/* Remove before the call: the callback may add or cancel timers freely. */
	u64map_take(ts->by_handle, e->handle);
	free(e);
	fn(ts->ctx, id);
}

uint64_t
timers_add(struct timers *ts, double after, timer_fn *fn, uint64_t id)
{
	struct timer_entry *e;

	if (fn == NULL || after < 0) {
		errno = EINVAL;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return 0;
	e->set = ts;
	e->handle = ts->next_handle++;
	e->id = id;
	e->fn = fn;
	if (u64map_put(ts->by_handle, e->handle, e) == -1) {
		free(e);
		return 0;
	}
	/* libev counts from the loop's cached time; a callback that ran long would make every
	 * timer it arms fire early by as much. */
	ev_now_update(ts->loop);
	ev_timer_init(&e->watcher, timers_fire, after, 0.);
	ev_timer_start(ts->loop, &e->watcher);
	return e->handle;
}

bool
timers_cancel(struct timers *ts, uint64_t handle)
{
	struct timer_entry *e = u64map_take(ts->by_handle, handle);

	if (e == NULL)
		return false;
	ev_timer_stop(ts->loop, &e->watcher);
	free(e);
	return true;
}

bool
timers_pending(const struct timers *ts, uint64_t handle)
{
	return u64map_get(ts->by_handle, handle) != NULL;
}

int
timers_rearm(struct timers *ts, uint64_t *handle, double after, timer_fn *fn, uint64_t id)
{
	timers_cancel(ts, *handle);
	*handle = timers_add(ts, after, fn, id);
	return *handle == 0 ? -1 : 0;
}

size_t
timers_count(const struct timers *ts)
{
	return u64map_count(ts->by_handle);
}
