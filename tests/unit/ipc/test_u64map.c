#include <stdint.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "u64map.h"

Test(u64map, put_get_take)
{
	struct u64map *m = u64map_new();
	int a = 1, b = 2;

	cr_assert_not_null(m);
	cr_assert_eq(u64map_put(m, 7, &a), 0);
	cr_assert_eq(u64map_put(m, 9, &b), 0);
	cr_assert_eq(u64map_get(m, 7), &a);
	cr_assert_eq(u64map_get(m, 9), &b);
	cr_assert_null(u64map_get(m, 8));
	cr_assert_eq(u64map_count(m), 2);
	cr_assert_eq(u64map_put(m, 7, &b), 0, "replacing keeps the count");
	cr_assert_eq(u64map_count(m), 2);
	cr_assert_eq(u64map_take(m, 7), &b);
	cr_assert_null(u64map_take(m, 7));
	cr_assert_eq(u64map_count(m), 1);
	u64map_free(m);
}

Test(u64map, key_zero_is_refused)
{
	struct u64map *m = u64map_new();
	int a;

	cr_assert_eq(u64map_put(m, 0, &a), -1);
	cr_assert_null(u64map_get(m, 0));
	cr_assert_null(u64map_take(m, 0));
	u64map_free(m);
}

/* Random inserts and deletes checked against a plain array: exercises growth and the
 * backward-shift deletion across wrapped probe runs. */
Test(u64map, matches_reference_under_random_operations)
{
	enum { KEYS = 3000, OPS = 200000 };
	static void *ref[KEYS];
	struct u64map *m = u64map_new();
	size_t present = 0, i;
	uint64_t x = 88172645463325252ULL;

	for (i = 0; i < OPS; i++) {
		uint64_t key;
		void *want;

		/* xorshift64: deterministic, so a failure reproduces */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		key = 1 + x % KEYS;
		want = (void *)(uintptr_t)(i + 1);
		if ((x >> 32) % 3 == 0) {
			cr_assert_eq(u64map_take(m, key), ref[key - 1]);
			if (ref[key - 1] != NULL)
				present--;
			ref[key - 1] = NULL;
		} else {
			cr_assert_eq(u64map_put(m, key, want), 0);
			if (ref[key - 1] == NULL)
				present++;
			ref[key - 1] = want;
		}
	}
	cr_assert_eq(u64map_count(m), present);
	for (i = 0; i < KEYS; i++)
		cr_assert_eq(u64map_get(m, i + 1), ref[i], "key %zu", i + 1);
	u64map_free(m);
}

static void
count_visit(uint64_t key, void *value, void *arg)
{
	(void)value;
	*(uint64_t *)arg += key;
}

Test(u64map, foreach_visits_every_entry_once)
{
	struct u64map *m = u64map_new();
	uint64_t sum = 0, i;
	int v;

	for (i = 1; i <= 100; i++)
		u64map_put(m, i, &v);
	u64map_foreach(m, count_visit, &sum);
	cr_assert_eq(sum, 5050);
	u64map_free(m);
}
