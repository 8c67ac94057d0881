/* The show commands' JSON writer (cli_json.h). */
#include "cli_json.h"

#include <inttypes.h>
#include <string.h>

#include "pbprint.h"

static void
jw_indent(struct jw *j)
{
	unsigned i;

	strbuf_addc(j->out, '\n');
	for (i = 0; i < j->depth; i++)
		strbuf_adds(j->out, "  ");
}

static void
jw_key(struct jw *j, const char *key)
{
	if (j->depth > 0) {
		if (!j->first)
			strbuf_addc(j->out, ',');
		jw_indent(j);
	}
	j->first = false;
	if (key != NULL) {
		pbprint_json_string(j->out, key, strlen(key));
		strbuf_adds(j->out, ": ");
	}
}

void
jw_open(struct jw *j, const char *key, char bracket)
{
	jw_key(j, key);
	strbuf_addc(j->out, bracket);
	j->depth++;
	j->first = true;
}

void
jw_close(struct jw *j, char bracket)
{
	j->depth--;
	if (!j->first)
		jw_indent(j);
	strbuf_addc(j->out, bracket);
	j->first = false;
	if (j->depth == 0)
		strbuf_addc(j->out, '\n');
}

void
jw_str(struct jw *j, const char *key, const char *s)
{
	jw_key(j, key);
	pbprint_json_string(j->out, s, strlen(s));
}

void
jw_u64(struct jw *j, const char *key, uint64_t v)
{
	jw_key(j, key);
	strbuf_addf(j->out, "%" PRIu64, v);
}

void
jw_bool(struct jw *j, const char *key, bool v)
{
	jw_key(j, key);
	strbuf_adds(j->out, v ? "true" : "false");
}
