#include "expo_check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXPO_NAMES_MAX = 256 };

struct expo_state {
	char *names[EXPO_NAMES_MAX];	/* families seen, in order */
	bool typed[EXPO_NAMES_MAX];
	size_t n;
	char **series;			/* every sample's name and labels */
	size_t nseries, capseries;
	size_t current;			/* the family whose lines we are in */
};

static bool
fail(char *why, size_t whylen, const char *line, size_t linelen, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(why, whylen, "%s: '%.*s'", msg, (int)(linelen > 200 ? 200 : linelen), line);
	return false;
}

static bool
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
		    (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* The family index of name: found, or added. SIZE_MAX if a family ended and comes again. */
static size_t
family(struct expo_state *st, const char *name, size_t n, bool *reopened)
{
	size_t i;

	*reopened = false;
	for (i = 0; i < st->n; i++) {
		if (strlen(st->names[i]) == n && memcmp(st->names[i], name, n) == 0) {
			*reopened = i != st->current;
			return i;
		}
	}
	if (st->n >= EXPO_NAMES_MAX)
		return SIZE_MAX;
	st->names[st->n] = strndup(name, n);
	st->typed[st->n] = false;
	return st->n++;
}

static bool
labels_ok(const char *p, const char *end, const char **after)
{
	/* p is just past '{' */
	for (;;) {
		const char *k = p;

		if (p < end && *p == '}') {
			*after = p + 1;
			return true;
		}
		while (p < end && *p != '=')
			p++;
		if (p >= end || !name_ok(k, (size_t)(p - k)) || p + 1 >= end || p[1] != '"')
			return false;
		for (p += 2; p < end && *p != '"'; p++) {
			if (*p == '\n')
				return false;
			if (*p == '\\') {
				if (p + 1 >= end || (p[1] != '\\' && p[1] != '"' && p[1] != 'n'))
					return false;
				p++;
			}
		}
		if (p >= end)
			return false;
		p++;
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != '}')
			return false;
	}
}

static bool
line_check(struct expo_state *st, const char *line, size_t len, char *why, size_t whylen)
{
	const char *end = line + len, *p, *sp;
	char value[64], *vend;
	bool reopened;
	size_t f, i;

	if (len == 0)
		return fail(why, whylen, line, len, "empty line");
	if (line[0] == '#') {
		if (len > 7 && (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0)) {
			p = line + 7;
			sp = memchr(p, ' ', (size_t)(end - p));
			if (sp == NULL || !name_ok(p, (size_t)(sp - p)))
				return fail(why, whylen, line, len, "bad family name");
			f = family(st, p, (size_t)(sp - p), &reopened);
			if (f == SIZE_MAX || reopened)
				return fail(why, whylen, line, len, "family described twice");
			if (line[2] == 'T') {
				if (st->typed[f])
					return fail(why, whylen, line, len, "second # TYPE");
				if ((size_t)(end - sp - 1) != 5 && (size_t)(end - sp - 1) != 7)
					return fail(why, whylen, line, len, "unknown type");
				if (strncmp(sp + 1, "gauge", 5) != 0 && strncmp(sp + 1, "counter", 7) != 0)
					return fail(why, whylen, line, len, "unknown type");
				st->typed[f] = true;
			}
			st->current = f;
		}
		return true;
	}
	for (p = line; p < end && *p != '{' && *p != ' '; p++)
		;
	if (!name_ok(line, (size_t)(p - line)))
		return fail(why, whylen, line, len, "bad metric name");
	f = family(st, line, (size_t)(p - line), &reopened);
	if (f == SIZE_MAX || reopened)
		return fail(why, whylen, line, len, "family's lines not together");
	if (!st->typed[f])
		return fail(why, whylen, line, len, "sample before its # TYPE");
	st->current = f;
	if (p < end && *p == '{' && !labels_ok(p + 1, end, &p))
		return fail(why, whylen, line, len, "bad labels");
	if (p >= end || *p != ' ' || (size_t)(end - p - 1) >= sizeof(value) || end - p - 1 == 0)
		return fail(why, whylen, line, len, "no value");
	memcpy(value, p + 1, (size_t)(end - p - 1));
	value[end - p - 1] = '\0';
	strtod(value, &vend);
	if (*vend != '\0')
		return fail(why, whylen, line, len, "value is not a number");
	for (i = 0; i < st->nseries; i++) {
		if (strlen(st->series[i]) == (size_t)(p - line) &&
		    memcmp(st->series[i], line, (size_t)(p - line)) == 0)
			return fail(why, whylen, line, len, "series twice");
	}
	if (st->nseries == st->capseries) {
		st->capseries = st->capseries ? st->capseries * 2 : 64;
		st->series = realloc(st->series, st->capseries * sizeof(*st->series));
	}
	st->series[st->nseries++] = strndup(line, (size_t)(p - line));
	return true;
}

bool
expo_check(const char *text, char *why, size_t whylen)
{
	struct expo_state st = { .current = SIZE_MAX };
	const char *line = text, *nl;
	bool ok = true;
	size_t i;

	if (text[0] != '\0' && text[strlen(text) - 1] != '\n') {
		snprintf(why, whylen, "the text does not end in a newline");
		return false;
	}
	while (ok && *line != '\0') {
		nl = strchr(line, '\n');
		ok = line_check(&st, line, (size_t)(nl - line), why, whylen);
		line = nl + 1;
	}
	for (i = 0; i < st.n; i++)
		free(st.names[i]);
	for (i = 0; i < st.nseries; i++)
		free(st.series[i]);
	free(st.series);
	return ok;
}

double
expo_value(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

size_t
expo_count(const char *text, const char *name)
{
	size_t n = strlen(name), count = 0;
	const char *p = text;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '{' || p[n] == ' '))
			count++;
		p += n;
	}
	return count;
}
