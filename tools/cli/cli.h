/* picsec: the Junos-style command line. Operational commands are a table of word sequences;
 * each asks the service that owns the data over the bus and prints its answer. */
#ifndef PICSEC_CLI_H
#define PICSEC_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct bus;

enum cli_display {
	CLI_DISPLAY_TEXT,
	CLI_DISPLAY_JSON, /* "| display json" */
};

struct cli {
	struct bus *bus;
	unsigned timeout_ms;
	enum cli_display display;
	FILE *out;
};

/* Runs the command in words (after the pipe has been taken off); returns the exit status. */
int cli_run(struct cli *cli, int nwords, char **words);
/* Prints every command the table knows, for `help` and for a word nobody matched. */
void cli_list_commands(FILE *out);

#endif
