/* picsec: the Junos-style command line. Operational mode asks the services over the bus;
 * configure mode edits picsec-configd's candidate. The CLI keeps only the edit level and
 * its session; the configuration itself lives in configd. */
#ifndef PICSEC_CLI_H
#define PICSEC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "strbuf.h"

struct bus;
struct cfg_schema;

enum { CLI_MAX_WORDS = 256, CLI_MAX_LEVEL = 32 };

enum cli_display {
	CLI_DISPLAY_TEXT,
	CLI_DISPLAY_JSON, /* "| display json" */
};

struct cli {
	struct bus *bus;
	unsigned timeout_ms;
	char user[64];
	char host[64];
	bool interactive;
	bool quit;		 /* leave the CLI after this line */
	bool quiet;		 /* run lines without printing what they say (errors still show) */

	/* configure mode */
	uint64_t session;	 /* 0: operational mode */
	char *level[CLI_MAX_LEVEL]; /* the edit level, keywords spelled out */
	int nlevel;

	/* the line being run */
	enum cli_display display;
	struct strbuf *out;	 /* what the command prints, before the pipes filter it */
};

/* One line of input: words, pipes, then the command. Returns 0, or 1 when it failed. */
int cli_line(struct cli *cli, const char *line);

/* Splits a line into words: whitespace separates, "quotes" keep spaces, [ and ] stand
 * alone. Returns the number of words (each strdup'ed; free with cli_free_words), or -1
 * with a message for an unterminated quote. */
int cli_split(const char *line, char **words, int max, char *err, size_t errlen);
void cli_free_words(char **words, int n);

/* cli_commands.c: operational mode */
int cli_operational(struct cli *cli, char **words, int nwords);
void cli_list_commands(FILE *out);
/* Sends a request and waits for the answer (*out: free with bus_call_result_free); says the
 * error on stderr when there is one. 0 or -1. */
struct bus_call_result;
int cli_ask(struct cli *cli, const char *dest, int type, const ProtobufCMessage *msg,
    struct bus_call_result **out);
/* Appends a reply as JSON, for "| display json". */
void cli_print_json(struct cli *cli, const ProtobufCMessage *msg);

/* cli_ipsec.c: show and clear services ipsec-vpn ipsec ... (the optional words in args);
 * 0 or -1 */
int cli_show_ipsec_sas(struct cli *cli, char **args, int nargs);
int cli_show_ipsec_stats(struct cli *cli, char **args, int nargs);
int cli_clear_ipsec_sas(struct cli *cli, char **args, int nargs);
int cli_clear_ipsec_stats(struct cli *cli, char **args, int nargs);

/* cli_ike.c: show and clear services ipsec-vpn ike ..., asked of picsec-iked; 0 or -1 */
int cli_show_ike_sas(struct cli *cli, char **args, int nargs);
int cli_show_ike_stats(struct cli *cli, char **args, int nargs);
int cli_clear_ike_sas(struct cli *cli, char **args, int nargs);

/* cli_configure.c: configure mode */
int cli_configure_enter(struct cli *cli, bool exclusive);
int cli_configure(struct cli *cli, char **words, int nwords, char **pipes, int npipes);
void cli_configure_leave(struct cli *cli);
/* Sends one command to configd and prints its output; input for load. 0 or 1. */
int cli_configd(struct cli *cli, uint64_t session, char **words, int nwords,
    const char *input, size_t input_len, const char *input_name);
/* The schema node at the edit level. */
const struct cfg_schema *cli_level_schema(const struct cli *cli);
/* "[edit services ipsec-vpn]" for the prompt. */
void cli_level_banner(const struct cli *cli, char *out, size_t outlen);

/* cli_complete.c: what may come next, for tab and `?` */
struct cli_choice {
	char word[96];
	const char *help;
};
size_t cli_choice_add(struct cli_choice *out, size_t n, size_t max, const char *word,
    const char *help);
size_t cli_operational_choices(char **words, int n, const char *partial,
    struct cli_choice *out, size_t max, char *hint, size_t hintlen);
/* The choices for the last (partial) word of line; hint receives what a value looks like
 * when one is expected ("<256..16639>"). Returns the number of choices (up to max). */
size_t cli_complete(const struct cli *cli, const char *line, struct cli_choice *out,
    size_t max, char *hint, size_t hintlen);

/* cli_interactive.c */
int cli_interactive(struct cli *cli);

#endif
