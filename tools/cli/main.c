/* picsec: argument parsing and wiring; the commands are in cli_commands.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "bus.h"
#include "cli.h"
#include "log.h"
#include "picsec_build.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec [options] COMMAND... [| display json]\n"
	    "  --rundir DIR        the bus (default $PICSEC_RUNDIR, else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --bus tcp://H:P     a bus over TCP (with --server-key and --client-key)\n"
	    "  --server-key FILE   busd's CURVE public key\n"
	    "  --client-key FILE   our CURVE secret key\n"
	    "  --timeout MS        how long to wait for an answer (default 3000)\n"
	    "commands:\n");
	cli_list_commands(out);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "bus", required_argument, NULL, 'b' },
		{ "server-key", required_argument, NULL, 'S' },
		{ "client-key", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bus_options opts = { .service = "cli", .anonymous = true };
	struct cli cli = { .timeout_ms = BUS_DEFAULT_TIMEOUT_MS, .out = stdout };
	struct ev_loop *loop;
	char err[512], *end;
	int c, nwords, rc;
	char **words;

	log_init("picsec", LOG_LEVEL_WARN);
	/* "+": stop at the first command word, so commands may have dashes in them. */
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': opts.rundir = optarg; break;
		case 'b': opts.endpoint = optarg; break;
		case 'S': opts.server_key_file = optarg; break;
		case 'C': opts.client_key_file = optarg; break;
		case 't':
			cli.timeout_ms = (unsigned)strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || cli.timeout_ms == 0)
				fatalx("--timeout: '%s' is not a number of milliseconds", optarg);
			break;
		case 'V': printf("picsec %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	words = argv + optind;
	nwords = argc - optind;
	if (nwords == 0 || strcmp(words[0], "help") == 0) {
		usage(nwords == 0 ? stderr : stdout);
		return nwords == 0 ? 2 : 0;
	}
	if (nwords >= 3 && strcmp(words[nwords - 3], "|") == 0 &&
	    strcmp(words[nwords - 2], "display") == 0) {
		if (strcmp(words[nwords - 1], "json") != 0) {
			fprintf(stderr, "error: '| display %s': only '| display json' is supported\n",
			    words[nwords - 1]);
			return 2;
		}
		cli.display = CLI_DISPLAY_JSON;
		nwords -= 3;
	}
	signal(SIGPIPE, SIG_IGN);
	loop = ev_default_loop(EVFLAG_AUTO);
	cli.bus = bus_new(loop, &opts, err, sizeof(err));
	if (cli.bus == NULL)
		fatalx("%s", err);
	rc = cli_run(&cli, nwords, words);
	bus_free(cli.bus);
	ev_loop_destroy(loop);
	return rc;
}
