/* Helpers of the known-answer suites: hex in the test source, bytes in the test. */
#ifndef PICSEC_TEST_VECTORS_H
#define PICSEC_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

/* Decodes hex (spaces allowed) into out; returns the byte count. Fails the test on a bad
 * digit or when out is too small. */
static inline size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *hex != '\0'; hex++) {
		if (*hex == ' ')
			continue;
		v = *hex >= '0' && *hex <= '9' ? *hex - '0' :
		    *hex >= 'a' && *hex <= 'f' ? *hex - 'a' + 10 :
		    *hex >= 'A' && *hex <= 'F' ? *hex - 'A' + 10 : -1;
		cr_assert_neq(v, -1, "bad hex digit '%c'", *hex);
		if (hi < 0) {
			hi = v;
			continue;
		}
		cr_assert_lt(n, cap, "hex longer than %zu bytes", cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	cr_assert_eq(hi, -1, "odd number of hex digits");
	return n;
}

static inline void
assert_bytes(const uint8_t *got, const uint8_t *want, size_t len, const char *what)
{
	char g[2 * 512 + 1] = "", w[2 * 512 + 1] = "";
	size_t i;

	if (memcmp(got, want, len) == 0)
		return;
	for (i = 0; i < len && i < 512; i++) {
		snprintf(g + 2 * i, 3, "%02x", got[i]);
		snprintf(w + 2 * i, 3, "%02x", want[i]);
	}
	cr_assert_fail("%s:\n  got  %s\n  want %s", what, g, w);
}

#endif
