/* The interactive CLI: libedit for line editing and history, tab to complete a word, `?` to
 * list what may come next with its help, the Junos prompts. */
#include "cli.h"

#include <histedit.h>
#include <stdlib.h>
#include <string.h>

static struct cli *cli_current;

/* libedit shows one line of prompt; in configure mode Junos puts the [edit ...] banner on
 * the line above it, so that line is printed before each prompt (and after a help list). */
static void
cli_print_banner(void)
{
	char banner[1024];

	if (cli_current->session == 0)
		return;
	cli_level_banner(cli_current, banner, sizeof(banner));
	printf("\n%s\n", banner);
	fflush(stdout);
}

static char *
cli_prompt(EditLine *el)
{
	static char prompt[512];

	(void)el;
	snprintf(prompt, sizeof(prompt), "%s@%s%c ", cli_current->user, cli_current->host,
	    cli_current->session != 0 ? '#' : '>');
	return prompt;
}

/* The line up to the cursor, as a string. */
static void
cli_line_before_cursor(EditLine *el, char *out, size_t outlen)
{
	const LineInfo *li = el_line(el);
	size_t len = (size_t)(li->cursor - li->buffer);

	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, li->buffer, len);
	out[len] = '\0';
}

static unsigned char
cli_help_key(EditLine *el, int ch)
{
	struct cli_choice choices[128];
	char line[1024], hint[256];
	size_t n, i;

	(void)ch;
	cli_line_before_cursor(el, line, sizeof(line));
	n = cli_complete(cli_current, line, choices, 128, hint, sizeof(hint));
	printf("\nPossible completions:\n");
	/* The hint describes a value to type: "<256..16639>", "<PEER-ADDRESS>" (also when
	 * keywords may come instead); enumerated values are listed one by one instead. */
	if (hint[0] != '\0' && (n == 0 || hint[0] == '<'))
		printf("  %-32s\n", hint);
	for (i = 0; i < n; i++)
		printf("  %-32s %s\n", choices[i].word, choices[i].help != NULL ? choices[i].help :
		    "");
	if (n == 0 && hint[0] == '\0')
		printf("  <[Enter]>                        Execute this command\n");
	cli_print_banner();
	return CC_REDISPLAY;
}

static unsigned char
cli_tab_key(EditLine *el, int ch)
{
	struct cli_choice choices[128];
	char line[1024], hint[256];
	const char *partial;
	size_t n, len, common, i;

	(void)ch;
	cli_line_before_cursor(el, line, sizeof(line));
	n = cli_complete(cli_current, line, choices, 128, hint, sizeof(hint));
	if (n == 0)
		return CC_ERROR;
	partial = strrchr(line, ' ');
	partial = partial != NULL ? partial + 1 : line;
	len = strlen(partial);
	/* Complete as far as every choice agrees; a single choice gets its space too. */
	common = strlen(choices[0].word);
	for (i = 1; i < n; i++) {
		size_t j = 0;

		while (j < common && choices[i].word[j] == choices[0].word[j])
			j++;
		common = j;
	}
	if (common > len) {
		char add[128];

		snprintf(add, sizeof(add), "%.*s%s", (int)(common - len), choices[0].word + len,
		    n == 1 ? " " : "");
		el_insertstr(el, add);
		return CC_REFRESH;
	}
	return cli_help_key(el, ch);
}

int
cli_interactive(struct cli *cli)
{
	EditLine *el;
	History *hist;
	HistEvent ev;
	const char *line;
	int count, failed = 0;

	cli_current = cli;
	el = el_init("picsec", stdin, stdout, stderr);
	hist = history_init();
	if (el == NULL || hist == NULL) {
		fprintf(stderr, "error: cannot set up line editing\n");
		return 1;
	}
	history(hist, &ev, H_SETSIZE, 1000);
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_PROMPT, cli_prompt);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_ADDFN, "picsec-help", "List what may come next", cli_help_key);
	el_set(el, EL_ADDFN, "picsec-complete", "Complete the word", cli_tab_key);
	el_set(el, EL_BIND, "?", "picsec-help", NULL);
	el_set(el, EL_BIND, "^I", "picsec-complete", NULL);
	for (;;) {
		cli_print_banner();
		if (cli->quit || (line = el_gets(el, &count)) == NULL)
			break;
		if (count > 0 && strspn(line, " \t\n") != (size_t)count)
			history(hist, &ev, H_ENTER, line);
		failed |= cli_line(cli, line);
	}
	if (!cli->quit)
		printf("\n");
	history_end(hist);
	el_end(el);
	return failed;
}
