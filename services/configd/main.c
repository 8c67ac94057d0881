/* picsec-configd: argument parsing and wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>

#include "bus.h"
#include "daemon.h"
#include "configd.h"
#include "log.h"
#include "picsec_build.h"

#define CONFIGD_DEFAULT_STATEDIR "/var/lib/picsec"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec-configd [options]\n"
	    "       picsec-configd --check FILE\n"
	    "  --rundir DIR      the bus (default $PICSEC_RUNDIR, else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --statedir DIR    committed configurations (default " CONFIGD_DEFAULT_STATEDIR ")\n"
	    "  --check FILE      parse and check FILE, print the verdict, exit 0 or 1\n"
	    "  --minute-ms MS    length of a commit confirmed minute (for tests)\n"
	    "  --lock-idle S     seconds an idle configure exclusive keeps its lock (3600)\n"
	    "  -v, --verbose     debug log output\n");
}

static unsigned
parse_number(const char *arg, const char *what, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v == 0 || v > max)
		fatalx("%s: '%s' is not a number in 1..%lu", what, arg, max);
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "statedir", required_argument, NULL, 's' },
		{ "check", required_argument, NULL, 'c' },
		{ "minute-ms", required_argument, NULL, 'm' },
		{ "lock-idle", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct configd_options opts = { .statedir = CONFIGD_DEFAULT_STATEDIR };
	struct bus_options bo = { .service = "configd" };
	struct ev_loop *loop;
	struct configd *cd;
	struct bus *bus;
	char err[1024];
	int c, verbose = 0;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': bo.rundir = optarg; break;
		case 's': opts.statedir = optarg; break;
		case 'c': return configd_check_file(optarg);
		case 'm': opts.minute_ms = parse_number(optarg, "--minute-ms", 3600000); break;
		case 'l':
			opts.lock_idle_ms = parse_number(optarg, "--lock-idle", 86400) * 1000;
			break;
		case 'v': verbose++; break;
		case 'V': printf("picsec-configd %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("picsec-configd", verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	loop = ev_default_loop(EVFLAG_AUTO);
	daemon_signals(loop);
	bus = bus_new(loop, &bo, err, sizeof(err));
	if (bus == NULL)
		fatalx("%s", err);
	cd = configd_new(loop, bus, &opts, err, sizeof(err));
	if (cd == NULL)
		fatalx("%s", err);
	daemon_run(loop, "serving the configuration");
	configd_free(cd);
	bus_free(bus);
	ev_loop_destroy(loop);
	return 0;
}
