/* What may come next on a line, from the schema (configure mode) or the command list
 * (operational mode): tab completion and `?` help both ask here. */
#include "cli.h"

#include <string.h>

#include "cfg_schema.h"

static const struct {
	const char *verb;
	const char *help;
	bool path;
} cli_verbs[] = {
	{ "activate", "Remove the inactive tag from a statement", true },
	{ "annotate", "Annotate the statement with a comment", true },
	{ "commit", "Commit the current set of changes", false },
	{ "deactivate", "Add the inactive tag to a statement", true },
	{ "delete", "Delete a data element", true },
	{ "edit", "Edit a particular hierarchy level", true },
	{ "exit", "Exit from this level", false },
	{ "load", "Load configuration from a file or the terminal", false },
	{ "quit", "Quit from this level", false },
	{ "rollback", "Roll back to a previous committed configuration", false },
	{ "run", "Run an operational-mode command", false },
	{ "set", "Set a parameter", true },
	{ "show", "Show a parameter", true },
	{ "status", "Show users currently editing the configuration", false },
	{ "top", "Exit to the top level of configuration", false },
	{ "up", "Exit one level of configuration", false },
};

size_t
cli_choice_add(struct cli_choice *out, size_t n, size_t max, const char *word, const char *help)
{
	if (n < max) {
		snprintf(out[n].word, sizeof(out[n].word), "%s", word);
		out[n].help = help;
	}
	return n + 1;
}

/* The children of s (keywords) and, for an enum value, its values: the ones that start
 * with partial. */
static size_t
cli_schema_choices(const struct cfg_schema *s, const char *partial, struct cli_choice *out,
    size_t max, char *hint, size_t hintlen)
{
	const struct cfg_schema *c;
	size_t n = 0, len = strlen(partial);

	if (s->children == NULL)
		return 0;
	for (c = s->children; c->keyword != NULL; c++) {
		if (c->flags & CFG_F_KEYLESS) {
			snprintf(hint, hintlen, "<%s>", c->keyword);
			continue;
		}
		if (strncmp(c->keyword, partial, len) == 0)
			n = cli_choice_add(out, n, max, c->keyword, c->help);
	}
	return n;
}

/* Walks words[from..n) from schema s; on success returns what the next word completes. */
static size_t
cli_path_choices(const struct cfg_schema *s, char **words, int from, int n,
    const char *partial, struct cli_choice *out, size_t max, char *hint, size_t hintlen)
{
	const struct cfg_schema *c;
	size_t k = 0, len = strlen(partial);
	bool ambiguous;
	int i = from, e;

	while (i < n) {
		c = cfg_schema_resolve(s, words[i], &ambiguous);
		if (c == NULL && !ambiguous) {
			for (c = s->children; c != NULL && c->keyword != NULL; c++) {
				if (c->flags & CFG_F_KEYLESS)
					break;
			}
			if (c == NULL || c->keyword == NULL)
				return 0;
			s = c;
			i++;
			continue;
		}
		if (c == NULL)
			return 0;
		i++;
		if (cfg_schema_has_value(c)) {
			if (i == n) {
				/* The value (or name) comes next. */
				cfg_schema_value_hint(c, hint, hintlen);
				if (c->type == CFG_T_ENUM) {
					for (e = 0; c->enums[e] != NULL; e++) {
						if (strncmp(c->enums[e], partial, len) == 0)
							k = cli_choice_add(out, k, max, c->enums[e], NULL);
					}
				}
				return k;
			}
			i++;
		}
		if ((c->kind == CFG_LEAF && (c->flags & CFG_F_INLINE) == 0) ||
		    c->kind == CFG_FLAG || c->kind == CFG_LEAFLIST)
			return 0;
		s = c;
	}
	return cli_schema_choices(s, partial, out, max, hint, hintlen);
}

size_t
cli_complete(const struct cli *cli, const char *line, struct cli_choice *out, size_t max,
    char *hint, size_t hintlen)
{
	char *words[CLI_MAX_WORDS], err[64];
	const char *partial = "";
	size_t k = 0, v, len;
	int n, complete;

	hint[0] = '\0';
	n = cli_split(line, words, CLI_MAX_WORDS, err, sizeof(err));
	if (n < 0)
		return 0;
	complete = n;
	len = strlen(line);
	if (n > 0 && len > 0 && line[len - 1] != ' ' && line[len - 1] != '\t')
		partial = words[--complete];
	if (cli->session == 0) {
		if (complete >= 2 && strncmp("show", words[0], strlen(words[0])) == 0 &&
		    strncmp("configuration", words[1], strlen(words[1])) == 0)
			k = cli_path_choices(&cfg_schema_root, words, 2, complete, partial, out, max,
			    hint, hintlen);
		else
			k = cli_operational_choices(words, complete, partial, out, max, hint,
			    hintlen);
		goto out;
	}
	if (complete == 0) {
		for (v = 0; v < sizeof(cli_verbs) / sizeof(cli_verbs[0]); v++) {
			if (strncmp(cli_verbs[v].verb, partial, strlen(partial)) == 0)
				k = cli_choice_add(out, k, max, cli_verbs[v].verb, cli_verbs[v].help);
		}
		goto out;
	}
	for (v = 0; v < sizeof(cli_verbs) / sizeof(cli_verbs[0]); v++) {
		if (strcmp(cli_verbs[v].verb, words[0]) == 0 && cli_verbs[v].path) {
			k = cli_path_choices(cli_level_schema(cli), words, 1, complete, partial, out,
			    max, hint, hintlen);
			break;
		}
	}
out:
	cli_free_words(words, n);
	return k < max ? k : max;
}
