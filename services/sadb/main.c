/* picsec-sadb: argument parsing and wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>

#include "bus.h"
#include "daemon.h"
#include "log.h"
#include "picsec_build.h"
#include "sadb.h"

#define SADB_DEFAULT_STATEDIR "/var/lib/picsec"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec-sadb [options]\n"
	    "  --rundir DIR      the bus (default $PICSEC_RUNDIR, else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --statedir DIR    the sequence-number journal (default " SADB_DEFAULT_STATEDIR ")\n"
	    "  -v, --verbose     debug log output\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "statedir", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sadb_options opts = { .statedir = SADB_DEFAULT_STATEDIR };
	struct bus_options bo = { .service = "sadb" };
	struct ev_loop *loop;
	struct sadb *sd;
	struct bus *bus;
	char err[1024];
	int c, verbose = 0;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': bo.rundir = optarg; break;
		case 's': opts.statedir = optarg; break;
		case 'v': verbose++; break;
		case 'V': printf("picsec-sadb %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("picsec-sadb", verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	loop = ev_default_loop(EVFLAG_AUTO);
	daemon_signals(loop);
	if ((bus = bus_new(loop, &bo, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((sd = sadb_new(loop, bus, &opts, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	daemon_run(loop, "serving SAs");
	sadb_free(sd);
	bus_free(bus);
	ev_loop_destroy(loop);
	return 0;
}
