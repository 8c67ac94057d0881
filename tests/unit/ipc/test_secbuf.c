#include <string.h>

#include <criterion/criterion.h>

#include "secbuf.h"

Test(secbuf, copy_holds_the_bytes)
{
	static const unsigned char key[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct secbuf *sb = secbuf_copy(key, sizeof(key));

	cr_assert_not_null(sb);
	cr_assert_eq(secbuf_len(sb), sizeof(key));
	cr_assert_arr_eq(secbuf_cdata(sb), key, sizeof(key));
	secbuf_free(sb);
	secbuf_free(NULL);
}

Test(secbuf, new_is_zeroed_and_empty_is_fine)
{
	struct secbuf *sb = secbuf_new(32), *empty = secbuf_new(0);
	size_t i;

	cr_assert_not_null(sb);
	cr_assert_not_null(empty);
	cr_assert_eq(secbuf_len(empty), 0);
	for (i = 0; i < 32; i++)
		cr_assert_eq(secbuf_data(sb)[i], 0);
	secbuf_free(sb);
	secbuf_free(empty);
}

Test(secbuf, wiping_allocator_round_trips_a_secret)
{
	/* What the dispatcher does with every payload: pack, unpack with the wiping
	 * allocator, free. The wipe itself is libsodium's; here we check the plumbing. */
	unsigned char *p = wiping_alloc(64);

	cr_assert_not_null(p);
	memset(p, 0xa5, 64);
	wiping_free(p);
	wiping_free(NULL);
}

/* The test binary links with -Wl,--wrap=free: this sees every block as it is freed, so we can
 * check that a watched secret was already wiped at that moment. */
void __real_free(void *p);
void __wrap_free(void *p);

static const unsigned char *watched;
static size_t watched_len;
/* volatile: the compiler assumes free() leaves globals alone and would fold the checks. */
static volatile int watched_seen_zero = -1;

void
__wrap_free(void *p)
{
	size_t i;

	if (watched != NULL && p != NULL && (const unsigned char *)p <= watched &&
	    watched - (const unsigned char *)p <= 64) {
		watched_seen_zero = 1;
		for (i = 0; i < watched_len; i++) {
			if (watched[i] != 0)
				watched_seen_zero = 0;
		}
		watched = NULL;
	}
	__real_free(p);
}

#include "envelope.pb-c.h"

Test(secbuf, unpacked_secret_is_wiped_before_it_is_freed)
{
	Picsec__V1__Secret in = PICSEC__V1__SECRET__INIT, *out;
	unsigned char key[24], packed[64];
	size_t len;

	memset(key, 0x5a, sizeof(key));
	in.material.data = key;
	in.material.len = sizeof(key);
	len = picsec__v1__secret__pack(&in, packed);
	out = picsec__v1__secret__unpack(&wiping_allocator, len, packed);
	cr_assert_not_null(out);
	cr_assert_eq(out->material.len, sizeof(key));
	cr_assert_arr_eq(out->material.data, key, sizeof(key));
	watched = out->material.data;
	watched_len = out->material.len;
	picsec__v1__secret__free_unpacked(out, &wiping_allocator);
	cr_assert_eq(watched_seen_zero, 1, "the key bytes were %s when freed",
	    watched_seen_zero == 0 ? "still there" : "never freed");
}

Test(secbuf, plain_free_would_not_wipe)
{
	/* The control for the test above: the same check catches an unwiped block. */
	unsigned char *p = malloc(16);
	volatile unsigned char *v = p;
	size_t i;

	/* volatile: a plain memset right before free() is a dead store the compiler removes. */
	for (i = 0; i < 16; i++)
		v[i] = 0x77;
	watched = p;
	watched_len = 16;
	watched_seen_zero = -1;
	free(p);
	cr_assert_eq(watched_seen_zero, 0, "seen %d", watched_seen_zero);
}
