/* picsec: argument parsing and wiring; the commands are in cli_*.c. */
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "bus.h"
#include "cli.h"
#include "log.h"
#include "picsec_build.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec [options]                      the interactive CLI\n"
	    "       picsec [options] COMMAND...           one operational command\n"
	    "       picsec [options] -c \"CMD; CMD...\"     commands, configure mode included\n"
	    "       picsec [options] configure -f FILE [--merge]\n"
	    "                                             load FILE (override or merge), commit\n"
	    "  --rundir DIR        the bus (default $PICSEC_RUNDIR, else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --bus tcp://H:P     a bus over TCP (with --server-key and --client-key)\n"
	    "  --server-key FILE   busd's CURVE public key\n"
	    "  --client-key FILE   our CURVE secret key\n"
	    "  --timeout MS        how long to wait for an answer (default 10000)\n"
	    "commands:\n");
	cli_list_commands(out);
}

/* Runs "CMD; CMD; ..." (semicolons inside quotes do not split). */
static int
run_commands(struct cli *cli, const char *text)
{
	struct strbuf one = STRBUF_INIT;
	bool quoted = false;
	int failed = 0;

	for (;; text++) {
		if (*text == '"')
			quoted = !quoted;
		if ((*text == ';' && !quoted) || *text == '\0') {
			failed |= cli_line(cli, strbuf_str(&one));
			strbuf_reset(&one);
			if (*text == '\0' || cli->quit)
				break;
			continue;
		}
		strbuf_addc(&one, *text);
	}
	strbuf_release(&one);
	return failed;
}

/* picsec configure -f FILE: everything or nothing, with the result and an exit status. The
 * steps stop at the first that fails: a load with errors commits nothing. */
static int
configure_file(struct cli *cli, const char *file, bool merge)
{
	struct strbuf load = STRBUF_INIT;
	int rc;

	strbuf_addf(&load, "load %s \"%s\"", merge ? "merge" : "override", file);
	rc = cli_line(cli, "configure");
	if (rc == 0)
		rc = cli_line(cli, strbuf_str(&load));
	/* A file that loads but fails the checks does not stay in the shared candidate
	 * for someone else's commit. */
	if (rc == 0 && (rc = cli_line(cli, "commit and-quit")) != 0 && cli->session != 0) {
		cli->quiet = true;
		if (cli_line(cli, "rollback 0") == 0)
			printf("nothing committed: the candidate is the committed configuration "
			    "again\n");
		cli->quiet = false;
	}
	if (cli->session != 0)
		cli_line(cli, "exit configuration-mode");
	strbuf_release(&load);
	return rc;
}

static int
batch(struct cli *cli)
{
	char *line = NULL;
	size_t cap = 0;
	int failed = 0;

	while (!cli->quit && getline(&line, &cap, stdin) != -1)
		failed |= cli_line(cli, line);
	free(line);
	return failed;
}

static void
identity(struct cli *cli)
{
	struct passwd *pw = getpwuid(geteuid());
	char *dot;

	snprintf(cli->user, sizeof(cli->user), "%s", pw != NULL ? pw->pw_name : "user");
	if (gethostname(cli->host, sizeof(cli->host)) == -1)
		snprintf(cli->host, sizeof(cli->host), "picsec");
	cli->host[sizeof(cli->host) - 1] = '\0';
	if ((dot = strchr(cli->host, '.')) != NULL)
		*dot = '\0';
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
	struct cli cli = { .timeout_ms = 10000 };
	const char *commands = NULL;
	struct ev_loop *loop;
	char err[512], *end;
	int c, rc;
	struct strbuf line = STRBUF_INIT;

	log_init("picsec", LOG_LEVEL_WARN);
	/* "+": stop at the first command word, so commands may have dashes in them. */
	while ((c = getopt_long(argc, argv, "+hc:", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': opts.rundir = optarg; break;
		case 'b': opts.endpoint = optarg; break;
		case 'S': opts.server_key_file = optarg; break;
		case 'C': opts.client_key_file = optarg; break;
		case 'c': commands = optarg; break;
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
	identity(&cli);
	signal(SIGPIPE, SIG_IGN);
	loop = ev_default_loop(EVFLAG_AUTO);
	cli.bus = bus_new(loop, &opts, err, sizeof(err));
	if (cli.bus == NULL)
		fatalx("%s", err);
	if (commands != NULL) {
		rc = run_commands(&cli, commands);
	} else if (optind + 2 < argc + 1 && optind < argc && strcmp(argv[optind], "configure") ==
	    0 && optind + 2 < argc && strcmp(argv[optind + 1], "-f") == 0) {
		rc = configure_file(&cli, argv[optind + 2], optind + 3 < argc &&
		    strcmp(argv[optind + 3], "--merge") == 0);
	} else if (optind < argc) {
		for (c = optind; c < argc; c++) {
			/* Words back into a line, quoting those with spaces. */
			if (strchr(argv[c], ' ') != NULL)
				strbuf_addf(&line, "\"%s\" ", argv[c]);
			else
				strbuf_addf(&line, "%s ", argv[c]);
		}
		rc = cli_line(&cli, strbuf_str(&line));
	} else if (isatty(STDIN_FILENO)) {
		cli.interactive = true;
		rc = cli_interactive(&cli);
	} else {
		rc = batch(&cli);
	}
	/* A configure session left open by the input is closed, not abandoned. */
	if (cli.session != 0) {
		struct strbuf out = STRBUF_INIT;

		cli.out = &out;
		cli_configure_leave(&cli);
		fputs(strbuf_str(&out), stdout);
		strbuf_release(&out);
	}
	strbuf_release(&line);
	bus_free(cli.bus);
	ev_loop_destroy(loop);
	return rc;
}
