/* The anti-replay window at its edges (RFC 4303 §3.4.3). */
#include <criterion/criterion.h>

#include "dp_replay.h"

static bool
take(struct dp_replay *r, uint64_t seq)
{
	if (!dp_replay_check(r, seq))
		return false;
	dp_replay_update(r, seq);
	return true;
}

Test(replay, the_first_packet_is_one_and_zero_never_comes)
{
	struct dp_replay r;

	dp_replay_init(&r, 64);
	cr_assert_not(take(&r, 0));
	cr_assert(take(&r, 1));
	cr_assert_not(take(&r, 1), "a duplicate of the first packet");
}

Test(replay, duplicates_are_refused_in_any_order)
{
	struct dp_replay r;
	uint64_t s;

	dp_replay_init(&r, 64);
	for (s = 1; s <= 10; s++)
		cr_assert(take(&r, s));
	for (s = 1; s <= 10; s++)
		cr_assert_not(take(&r, s), "seq %lu again", (unsigned long)s);
	cr_assert(take(&r, 20));
	cr_assert(take(&r, 15), "late but inside the window and new");
	cr_assert_not(take(&r, 15));
}

Test(replay, the_left_edge_exactly)
{
	struct dp_replay r;

	dp_replay_init(&r, 64);
	cr_assert(take(&r, 100));
	cr_assert(take(&r, 37), "top - 63 is the window's last place");
	cr_assert_not(take(&r, 36), "top - 64 is outside");
	cr_assert_not(take(&r, 37), "seen");
}

Test(replay, sliding_forgets_what_fell_off_and_only_that)
{
	struct dp_replay r;
	uint64_t s;

	dp_replay_init(&r, 64);
	for (s = 1; s <= 64; s++)
		cr_assert(take(&r, s));
	cr_assert(take(&r, 65));
	cr_assert_not(take(&r, 1), "slid out of the window");
	for (s = 2; s <= 65; s++)
		cr_assert_not(dp_replay_check(&r, s), "seq %lu is still seen", (unsigned long)s);
	/* One step ahead reuses exactly one bit. */
	cr_assert(take(&r, 66));
	cr_assert_not(dp_replay_check(&r, 3));
}

Test(replay, far_ahead_clears_the_window)
{
	struct dp_replay r;
	uint64_t s;

	dp_replay_init(&r, 128);
	for (s = 1; s <= 128; s++)
		cr_assert(take(&r, s));
	cr_assert(take(&r, 1000000));
	for (s = 1000000 - 127; s < 1000000; s++)
		cr_assert(dp_replay_check(&r, s), "seq %lu was never seen", (unsigned long)s);
	cr_assert_not(dp_replay_check(&r, 1000000 - 128));
	cr_assert_not(dp_replay_check(&r, 1000000));
}

Test(replay, sizes_round_up_to_whole_words_and_stop_at_4096)
{
	struct dp_replay r;

	dp_replay_init(&r, 100);
	cr_assert_eq(r.size, 128);
	dp_replay_init(&r, 64);
	cr_assert_eq(r.size, 64);
	dp_replay_init(&r, 4096);
	cr_assert_eq(r.size, 4096);
	cr_assert(take(&r, 5000));
	cr_assert(take(&r, 5000 - 4095));
	cr_assert_not(take(&r, 5000 - 4096));
}

Test(replay, off_takes_everything)
{
	struct dp_replay r;

	dp_replay_init(&r, 0);
	cr_assert(take(&r, 5));
	cr_assert(take(&r, 5));
	cr_assert(take(&r, 0), "a sender without anti-replay may cycle through 0");
	cr_assert(take(&r, 1));
}
