/* A line of input: split it into words, take the pipes off (| match, | except, | count are
 * the CLI's own; | display and | compare go with the command), run it, filter the output. */
#include "cli.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

int
cli_split(const char *line, char **words, int max, char *err, size_t errlen)
{
	struct strbuf w = STRBUF_INIT;
	const char *p = line;
	int n = 0;
	bool quoted;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		if (n == max) {
			snprintf(err, errlen, "too many words (at most %d)", max);
			goto error;
		}
		strbuf_reset(&w);
		quoted = false;
		if (*p == '[' || *p == ']' || *p == '|') {
			strbuf_addc(&w, *p++);
		} else {
			while (*p != '\0' && (quoted || (*p != ' ' && *p != '\t' && *p != '\n' &&
			    *p != '\r' && *p != ']' && *p != '|'))) {
				if (*p == '"') {
					quoted = !quoted;
					p++;
					continue;
				}
				if (*p == '\\' && quoted && p[1] != '\0')
					p++;
				strbuf_addc(&w, *p++);
			}
			if (quoted) {
				snprintf(err, errlen, "unterminated quoted string");
				goto error;
			}
		}
		words[n] = strdup(strbuf_str(&w));
		if (words[n] == NULL) {
			snprintf(err, errlen, "out of memory");
			goto error;
		}
		n++;
	}
	strbuf_release(&w);
	return n;
error:
	strbuf_release(&w);
	cli_free_words(words, n);
	return -1;
}

void
cli_free_words(char **words, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(words[i]);
}

struct cli_filter {
	regex_t re;
	bool active;
	bool except;
	bool count;
};

/* Takes | match, | except and | count off the end; the other pipes stay with the words. */
static int
cli_take_filters(char **words, int *nwords, struct cli_filter *f, char *err, size_t errlen)
{
	int i, n = *nwords;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		if (strcmp(words[i], "|") != 0 || i + 1 >= n)
			continue;
		if (strcmp(words[i + 1], "count") == 0 && i + 2 == n) {
			f->count = true;
		} else if ((strcmp(words[i + 1], "match") == 0 || strcmp(words[i + 1], "except") ==
		    0) && i + 3 == n) {
			if (regcomp(&f->re, words[i + 2], REG_EXTENDED | REG_NOSUB) != 0) {
				snprintf(err, errlen, "'%s' is not a regular expression", words[i + 2]);
				return -1;
			}
			f->active = true;
			f->except = words[i + 1][0] == 'e';
		} else {
			continue;
		}
		*nwords = i;
		return 0;
	}
	return 0;
}

static void
cli_emit(const struct strbuf *out, struct cli_filter *f)
{
	const char *line = strbuf_str(out), *nl;
	size_t count = 0, len;
	char *copy;
	bool match;

	if (!f->active && !f->count) {
		fputs(line, stdout);
		return;
	}
	for (; *line != '\0'; line = nl != NULL ? nl + 1 : line + len) {
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		copy = strndup(line, len);
		if (copy == NULL)
			break;
		match = !f->active || (regexec(&f->re, copy, 0, NULL, 0) == 0) != f->except;
		if (match && f->count)
			count++;
		else if (match)
			printf("%s\n", copy);
		free(copy);
		if (nl == NULL)
			break;
	}
	if (f->count)
		printf("Count: %zu lines\n", count);
}

int
cli_line(struct cli *cli, const char *line)
{
	char *words[CLI_MAX_WORDS], err[256];
	struct strbuf out = STRBUF_INIT;
	struct cli_filter filter = { .active = false };
	int n, total, npipe, i, rc = 1;

	total = n = cli_split(line, words, CLI_MAX_WORDS, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	if (n == 0)
		return 0;
	if (cli_take_filters(words, &n, &filter, err, sizeof(err)) == -1) {
		fprintf(stderr, "error: %s\n", err);
		goto out;
	}
	cli->out = &out;
	cli->display = CLI_DISPLAY_TEXT;
	if (cli->session != 0) {
		for (npipe = 0, i = 0; i < n; i++) {
			if (strcmp(words[i], "|") == 0) {
				npipe = n - i;
				break;
			}
		}
		rc = cli_configure(cli, words, n - npipe, words + n - npipe, npipe);
	} else {
		rc = cli_operational(cli, words, n);
	}
	if (!cli->quiet)
		cli_emit(&out, &filter);
	fflush(stdout);
out:
	if (filter.active)
		regfree(&filter.re);
	cli->out = NULL;
	strbuf_release(&out);
	cli_free_words(words, total);
	return rc;
}
