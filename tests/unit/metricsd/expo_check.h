/* A checker of the Prometheus text exposition (format 0.0.4) for the tests: every line a
 * comment, a # HELP / # TYPE of a family, or a sample; # TYPE once per family and before its
 * samples; a family's lines together; label values with only the three escapes; values that
 * are numbers; no series twice. */
#ifndef PICSEC_EXPO_CHECK_H
#define PICSEC_EXPO_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* true, or false with the first problem (and its line) in why. */
bool expo_check(const char *text, char *why, size_t whylen);

/* The value of the series written exactly as `series` ("name{a=\"b\"}"), or -1 when absent. */
double expo_value(const char *text, const char *series);

/* How many samples of the family name there are. */
size_t expo_count(const char *text, const char *name);

#endif
