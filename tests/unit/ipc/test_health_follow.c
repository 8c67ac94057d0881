/* What a client of healthd notes down and up (health_follow.c): news only once, PICs and
 * addresses apart, IPv4 and IPv6 apart, and nothing it cannot match again. */
#include <criterion/criterion.h>
#include <string.h>

#include "health_follow.h"

static const uint8_t v4[4] = { 192, 0, 2, 1 };
static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

Test(health_follow, a_pic_down_is_news_once_and_up_forgets_it)
{
	struct health_downs *d = health_downs_new();

	cr_assert_not_null(d);
	cr_assert_not(health_pic_is_down(d, "ms-0/0/0"));
	cr_assert(health_set_pic(d, "ms-0/0/0", true));
	cr_assert_not(health_set_pic(d, "ms-0/0/0", true), "the same DOWN again is no news");
	cr_assert(health_pic_is_down(d, "ms-0/0/0"));
	cr_assert_not(health_pic_is_down(d, "ms-0/0/1"));
	cr_assert_eq(health_downs_count(d), 1);
	cr_assert_not(health_set_pic(d, "ms-0/0/1", false), "UP of what was not down");
	cr_assert(health_set_pic(d, "ms-0/0/0", false));
	cr_assert_eq(health_downs_count(d), 0);
	health_downs_free(d);
}

Test(health_follow, addresses_are_matched_by_family_and_bytes)
{
	struct health_downs *d = health_downs_new();
	uint8_t v6_as_v4[16];

	memcpy(v6_as_v4, v4, 4);
	memset(v6_as_v4 + 4, 0, 12);
	cr_assert(health_set_addr(d, v4, 4, true));
	cr_assert(health_set_addr(d, v6, 16, true));
	cr_assert(health_addr_is_down(d, v4, 4));
	cr_assert(health_addr_is_down(d, v6, 16));
	cr_assert_not(health_addr_is_down(d, v6_as_v4, 16), "16 bytes are not the IPv4 one");
	cr_assert_not(health_pic_is_down(d, ""), "an address is no PIC");
	cr_assert(health_set_addr(d, v4, 4, false));
	cr_assert_not(health_addr_is_down(d, v4, 4));
	cr_assert(health_addr_is_down(d, v6, 16));
	health_downs_free(d);
}

Test(health_follow, what_could_never_match_again_is_not_noted)
{
	struct health_downs *d = health_downs_new();
	char name[HEALTH_NAME_MAX + 8];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cr_assert_not(health_set_pic(d, name, true), "a name too long would be kept truncated");
	cr_assert_not(health_set_pic(d, "", true));
	cr_assert_not(health_set_pic(d, NULL, true));
	cr_assert_not(health_set_addr(d, v4, 3, true));
	cr_assert_not(health_set_addr(d, NULL, 4, true));
	cr_assert_eq(health_downs_count(d), 0);
	health_downs_free(d);
	health_downs_free(NULL);
}
