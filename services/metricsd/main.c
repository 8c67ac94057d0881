/* picsec-metricsd: argument parsing and wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>

#include "bus.h"
#include "daemon.h"
#include "log.h"
#include "metricsd.h"
#include "picsec_build.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec-metricsd [options]\n"
	    "  --rundir DIR        the bus (default $PICSEC_RUNDIR, else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --listen ADDR:PORT  where to serve /metrics (default " METRICSD_DEFAULT_LISTEN ";\n"
	    "                      IPv6 as [ADDR]:PORT)\n"
	    "  -v, --verbose       debug log output\n"
	    "  --version           the version\n"
	    "  -h, --help          this text\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct metricsd_options opts = { .listen = METRICSD_DEFAULT_LISTEN };
	struct bus_options bo = { .service = "metricsd" };
	struct ev_loop *loop;
	struct metricsd *md;
	struct bus *bus;
	char err[1024];
	int c, verbose = 0;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': bo.rundir = optarg; break;
		case 'l': opts.listen = optarg; break;
		case 'v': verbose++; break;
		case 'V': printf("picsec-metricsd %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("picsec-metricsd", verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	loop = ev_default_loop(EVFLAG_AUTO);
	daemon_signals(loop);
	if ((bus = bus_new(loop, &bo, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((md = metricsd_new(loop, bus, &opts, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	daemon_run(loop, "serving metrics");
	metricsd_free(md);
	bus_free(bus);
	ev_loop_destroy(loop);
	return 0;
}
