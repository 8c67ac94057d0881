/* The CLI tests' JSON checker (json_check.h). */
#include "json_check.h"

#include <ctype.h>
#include <string.h>

#include <criterion/criterion.h>

const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	int i;

	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;	/* control characters must be escaped */
		if (*p++ != '\\')
			continue;
		if (*p == 'u') {
			for (i = 1; i <= 4; i++) {
				if (!isxdigit((unsigned char)p[i]))
					return NULL;
			}
			p += 5;
		} else if (*p != '\0' && strchr("\"\\/bfnrt", *p) != NULL) {
			p++;
		} else {
			return NULL;
		}
	}
	return p + 1;
}

static const char *
json_members(const char *p, char close, int depth)
{
	p = json_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if ((p = json_string(json_ws(p))) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = json_value(p, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

const char *
json_value(const char *p, int depth)
{
	const char *start;

	if (depth > 32)
		return NULL;
	p = json_ws(p);
	if (*p == '{' || *p == '[')
		return json_members(p + 1, *p == '{' ? '}' : ']', depth);
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (*p == '-')
		p++;
	start = p;
	while (isdigit((unsigned char)*p))
		p++;
	return p > start ? p : NULL;
}

void
assert_json(const char *s)
{
	const char *end = json_value(s, 0);

	cr_assert_not_null(end, "not JSON:\n%s", s);
	cr_assert_str_eq(json_ws(end), "", "more after the JSON value:\n%s", s);
}
