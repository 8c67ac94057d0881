/* Configure mode: the edit level (edit, up, top, exit) is the CLI's; everything else goes to
 * picsec-configd with the level put in front of the path. load reads its text here (a file
 * or the terminal) and sends it along. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "catalog.h"
#include "cfg_schema.h"
#include "config.h"
#include "config.pb-c.h"
#include "secbuf.h"

int
cli_configd(struct cli *cli, uint64_t session, char **words, int nwords, const char *input,
    size_t input_len, const char *input_name)
{
	Picsec__V1__ConfigCommand cmd = PICSEC__V1__CONFIG_COMMAND__INIT;
	Picsec__V1__Secret text = PICSEC__V1__SECRET__INIT, key = PICSEC__V1__SECRET__INIT;
	const Picsec__V1__ConfigResult *res;
	struct bus_call_result *r;
	const struct bus_result *br;
	char *key_word = NULL, empty[] = "";
	int rc = 1, k, nkey;

	cmd.session_id = session;
	cmd.words = words;
	cmd.n_words = (size_t)nwords;
	if (input != NULL) {
		text.material.data = (uint8_t *)(uintptr_t)input;
		text.material.len = input_len;
		cmd.input = &text;
	}
	cmd.input_name = (char *)(uintptr_t)(input_name != NULL ? input_name : "");
	/* A key typed in a set command goes as a Secret, so the bus never shows it. */
	if ((k = cfg_secret_words(words, nwords, &nkey)) >= 0 && nkey > 1) {
		fprintf(stderr, "error: a key with spaces goes in quotes "
		    "(ascii-text \"the whole key\")\n");
		return 1;
	}
	if (k >= 0) {
		key_word = words[k];
		key.material.data = (uint8_t *)key_word;
		key.material.len = strlen(key_word);
		cmd.secret = &key;
		cmd.secret_word = (uint32_t)k;
		words[k] = empty;
	}
	rc = bus_call(cli->bus, "configd", MT(CONFIG_COMMAND), &cmd.base, cli->timeout_ms, &r);
	if (key_word != NULL)
		words[k] = key_word;
	if (rc == -1) {
		rc = 1;
		br = bus_call_get(r);
		fprintf(stderr, "error: %s\n", br->error_text);
		goto out;
	}
	res = (const Picsec__V1__ConfigResult *)bus_call_get(r)->msg;
	strbuf_adds(cli->out, res->output);
	rc = res->ok ? 0 : 1;
out:
	bus_call_result_free(r);
	return rc;
}

int
cli_configure_enter(struct cli *cli, bool exclusive)
{
	Picsec__V1__ConfigSessionOpen req = PICSEC__V1__CONFIG_SESSION_OPEN__INIT;
	const Picsec__V1__ConfigSession *s;
	struct bus_call_result *r;

	if (cli->session != 0)
		return 0;
	req.user = cli->user;
	req.exclusive = exclusive;
	if (bus_call(cli->bus, "configd", MT(CONFIG_SESSION_OPEN), &req.base, cli->timeout_ms,
	    &r) == -1) {
		fprintf(stderr, "%s%s", bus_call_get(r)->error_text,
		    strchr(bus_call_get(r)->error_text, '\n') != NULL ? "" : "\n");
		bus_call_result_free(r);
		return 1;
	}
	s = (const Picsec__V1__ConfigSession *)bus_call_get(r)->msg;
	cli->session = s->session_id;
	strbuf_adds(cli->out, s->message);
	strbuf_adds(cli->out, "Entering configuration mode\n");
	bus_call_result_free(r);
	return 0;
}

static void
cli_level_clear(struct cli *cli)
{
	while (cli->nlevel > 0)
		free(cli->level[--cli->nlevel]);
}

void
cli_configure_leave(struct cli *cli)
{
	Picsec__V1__ConfigSessionClose req = PICSEC__V1__CONFIG_SESSION_CLOSE__INIT;
	struct bus_call_result *r;

	if (cli->session == 0)
		return;
	req.session_id = cli->session;
	if (bus_call(cli->bus, "configd", MT(CONFIG_SESSION_CLOSE), &req.base, cli->timeout_ms,
	    &r) == 0)
		strbuf_adds(cli->out, ((const Picsec__V1__ConfigResult *)bus_call_get(r)->msg)->
		    output);
	bus_call_result_free(r);
	cli->session = 0;
	cli_level_clear(cli);
	strbuf_adds(cli->out, "Exiting configuration mode\n");
}

void
cli_level_banner(const struct cli *cli, char *out, size_t outlen)
{
	size_t n;
	int i;

	n = (size_t)snprintf(out, outlen, "[edit");
	for (i = 0; i < cli->nlevel && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, " %s", cli->level[i]);
	if (n < outlen)
		snprintf(out + n, outlen - n, "]");
}

const struct cfg_schema *
cli_level_schema(const struct cli *cli)
{
	const struct cfg_schema *s = &cfg_schema_root, *c;
	bool ambiguous;
	int i = 0;

	while (i < cli->nlevel) {
		c = cfg_schema_resolve(s, cli->level[i], &ambiguous);
		if (c == NULL) {
			/* The name of an interface: the keyless list. */
			for (c = s->children; c != NULL && c->keyword != NULL; c++) {
				if (c->flags & CFG_F_KEYLESS)
					break;
			}
			if (c == NULL || c->keyword == NULL)
				return NULL;
			i++;
		} else {
			i += c->kind == CFG_LIST ? 2 : 1;
		}
		s = c;
	}
	return s;
}

/* edit PATH: spelled-out keywords appended to the level. Only containers and list entries
 * can be edited into. */
static int
cli_edit(struct cli *cli, char **words, int nwords)
{
	const struct cfg_schema *s = cli_level_schema(cli), *c;
	char *add[CLI_MAX_LEVEL];
	int n = 0, i = 0;
	bool ambiguous;

	while (i < nwords) {
		if (cli->nlevel + n + 2 > CLI_MAX_LEVEL)
			goto toolong;
		c = cfg_schema_resolve(s, words[i], &ambiguous);
		if (c == NULL && !ambiguous) {
			for (c = s->children; c != NULL && c->keyword != NULL; c++) {
				if (c->flags & CFG_F_KEYLESS)
					break;
			}
			if (c != NULL && c->keyword != NULL) {
				add[n++] = strdup(words[i++]);
				s = c;
				continue;
			}
			c = NULL;
		}
		if (c == NULL) {
			fprintf(stderr, "error: '%s' %s\n", words[i], ambiguous ? "is ambiguous" :
			    "is not a statement here");
			goto error;
		}
		if (c->kind == CFG_LEAF || c->kind == CFG_FLAG || c->kind == CFG_LEAFLIST) {
			fprintf(stderr, "error: %s is a statement, not a level to edit\n", c->keyword);
			goto error;
		}
		add[n++] = strdup(c->keyword);
		i++;
		if (c->kind == CFG_LIST) {
			if (i == nwords) {
				fprintf(stderr, "error: edit %s needs a name\n", c->keyword);
				goto error;
			}
			add[n++] = strdup(words[i++]);
		}
		s = c;
	}
	for (i = 0; i < n; i++)
		cli->level[cli->nlevel++] = add[i];
	return 0;
toolong:
	fprintf(stderr, "error: too deep\n");
error:
	while (n > 0)
		free(add[--n]);
	return 1;
}

/* Goes up one statement (a list entry is its keyword and name: two words). */
static void
cli_up(struct cli *cli)
{
	const struct cfg_schema *s;
	char *name;

	if (cli->nlevel == 0)
		return;
	name = cli->level[--cli->nlevel];
	s = cli_level_schema(cli);
	/* If what is left ends in a list keyword, the word we took was its entry's name. */
	if (s == NULL || (s->kind == CFG_LIST && (s->flags & CFG_F_KEYLESS) == 0 &&
	    cli->nlevel > 0 && strcmp(cli->level[cli->nlevel - 1], s->keyword) == 0)) {
		free(cli->level[--cli->nlevel]);
	}
	free(name);
}

/* Reads the text for load: a file, or the terminal until end of input. */
static char *
cli_read_input(struct cli *cli, const char *source, size_t *len)
{
	struct strbuf text = STRBUF_INIT;
	char buf[4096], *copy;
	size_t n;
	FILE *f;
	bool terminal = strcmp(source, "terminal") == 0;

	f = terminal ? stdin : fopen(source, "r");
	if (f == NULL) {
		fprintf(stderr, "error: %s: %s\n", source, strerror(errno));
		return NULL;
	}
	if (terminal && cli->interactive)
		printf("[Type ^D at a new line to end input]\n");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&text, buf, n);
	secure_wipe(buf, sizeof(buf));
	if (terminal)
		clearerr(stdin);
	else
		fclose(f);
	*len = strbuf_len(&text);
	copy = strbuf_failed(&text) ? NULL : text.buf;
	if (copy == NULL)
		strbuf_release(&text);
	return copy;
}

static int
cli_load(struct cli *cli, char **words, int nwords)
{
	char *input;
	size_t len = 0;
	int rc;

	if (nwords != 3) {
		fprintf(stderr, "error: load (merge | override | replace | set) (terminal | FILE)\n");
		return 1;
	}
	input = cli_read_input(cli, words[2], &len);
	if (input == NULL)
		return 1;
	rc = cli_configd(cli, cli->session, words, 3, input, len, words[2]);
	secure_wipe(input, len);
	free(input);
	return rc;
}

/* verb, then the level, then the rest (and its pipes). */
static int
cli_with_level(struct cli *cli, char **words, int nwords, char **pipes, int npipes)
{
	char *all[CLI_MAX_WORDS + CLI_MAX_LEVEL];
	int n = 0, i;

	all[n++] = words[0];
	for (i = 0; i < cli->nlevel; i++)
		all[n++] = cli->level[i];
	for (i = 1; i < nwords && n < CLI_MAX_WORDS; i++)
		all[n++] = words[i];
	for (i = 0; i < npipes && n < CLI_MAX_WORDS; i++)
		all[n++] = pipes[i];
	return cli_configd(cli, cli->session, all, n, NULL, 0, NULL);
}

int
cli_configure(struct cli *cli, char **words, int nwords, char **pipes, int npipes)
{
	static const char *const with_level[] = { "set", "delete", "activate", "deactivate",
		"annotate", "show" };
	size_t k;
	int rc;

	for (k = 0; k < sizeof(with_level) / sizeof(with_level[0]); k++) {
		if (strcmp(words[0], with_level[k]) == 0)
			return cli_with_level(cli, words, nwords, pipes, npipes);
	}
	if (npipes > 0) {
		fprintf(stderr, "error: '%s' takes no pipe\n", words[0]);
		return 1;
	}
	if (strcmp(words[0], "edit") == 0)
		return cli_edit(cli, words + 1, nwords - 1);
	if (strcmp(words[0], "top") == 0) {
		cli_level_clear(cli);
		return 0;
	}
	if (strcmp(words[0], "up") == 0) {
		for (k = nwords > 1 ? strtoul(words[1], NULL, 10) : 1; k > 0; k--)
			cli_up(cli);
		return 0;
	}
	if (strcmp(words[0], "exit") == 0 || strcmp(words[0], "quit") == 0) {
		if (cli->nlevel > 0 && nwords == 1 && strcmp(words[0], "exit") == 0)
			cli_up(cli);
		else
			cli_configure_leave(cli);
		return 0;
	}
	if (strcmp(words[0], "run") == 0 && nwords > 1)
		return cli_operational(cli, words + 1, nwords - 1);
	if (strcmp(words[0], "load") == 0)
		return cli_load(cli, words, nwords);
	if (strcmp(words[0], "help") == 0) {
		printf("configure mode: set, delete, activate, deactivate, annotate, show, edit, up, "
		    "top, exit, commit [check | confirmed N | comment TEXT | and-quit], rollback N, "
		    "load (merge | override | replace | set) (terminal | FILE), status, run "
		    "COMMAND\n");
		return 0;
	}
	rc = cli_configd(cli, cli->session, words, nwords, NULL, 0, NULL);
	if (rc == 0 && strcmp(words[0], "commit") == 0 && nwords > 1 &&
	    strcmp(words[nwords - 1], "and-quit") == 0)
		cli_configure_leave(cli);
	return rc;
}
