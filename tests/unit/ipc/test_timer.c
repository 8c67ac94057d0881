#include <stdint.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "testutil.h"
#include "timer.h"

struct fired {
	uint64_t ids[16];
	size_t count;
};

static void
record_fire(void *ctx, uint64_t id)
{
	struct fired *f = ctx;

	if (f->count < 16)
		f->ids[f->count++] = id;
}

static bool
two_fired(void *arg)
{
	return ((struct fired *)arg)->count >= 2;
}

Test(timer, fires_with_the_object_id_in_order)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct fired f = { 0 };
	struct timers *ts = timers_new(loop, &f);

	cr_assert_neq(timers_add(ts, 0.02, record_fire, 42), 0);
	cr_assert_neq(timers_add(ts, 0.01, record_fire, 41), 0);
	cr_assert_eq(timers_count(ts), 2);
	cr_assert(test_run_until(loop, two_fired, &f, 2000));
	cr_assert_eq(f.ids[0], 41);
	cr_assert_eq(f.ids[1], 42);
	cr_assert_eq(timers_count(ts), 0, "fired timers leave the set");
	timers_free(ts);
	ev_loop_destroy(loop);
}

Test(timer, cancel_and_rearm)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct fired f = { 0 };
	struct timers *ts = timers_new(loop, &f);
	uint64_t h = 0, cancelled;

	cancelled = timers_add(ts, 0.01, record_fire, 1);
	cr_assert(timers_pending(ts, cancelled));
	cr_assert(timers_cancel(ts, cancelled));
	cr_assert_not(timers_cancel(ts, cancelled), "a second cancel finds nothing");
	cr_assert_not(timers_cancel(ts, 0));
	/* Re-arming replaces: only the last one fires. */
	cr_assert_eq(timers_rearm(ts, &h, 0.5, record_fire, 2), 0);
	cr_assert_eq(timers_rearm(ts, &h, 0.01, record_fire, 3), 0);
	cr_assert_eq(timers_count(ts), 1);
	test_run_for(loop, 100);
	cr_assert_eq(f.count, 1);
	cr_assert_eq(f.ids[0], 3);
	cr_assert_not(timers_pending(ts, h));
	timers_free(ts);
	ev_loop_destroy(loop);
}

Test(timer, free_cancels_pending_timers)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct fired f = { 0 };
	struct timers *ts = timers_new(loop, &f);

	timers_add(ts, 0.01, record_fire, 1);
	timers_add(ts, 0.02, record_fire, 2);
	timers_free(ts);
	test_run_for(loop, 60);
	cr_assert_eq(f.count, 0);
	ev_loop_destroy(loop);
}
