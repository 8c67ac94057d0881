/* picsec-iked: argument parsing and wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>

#include "bus.h"
#include "daemon.h"
#include "iked.h"
#include "log.h"
#include "picsec_build.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec-iked [options]\n"
	    "  --rundir DIR      the bus (default $PICSEC_RUNDIR, else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --port PORT       IKE's UDP port (default 500)\n"
	    "  --lifetime-divisor N  for tests: every configured lifetime divided by N\n"
	    "  --cookie-threshold N  half-open IKE SAs from which cookies are asked (default 64)\n"
	    "  --keylog DIR      write Wireshark's esp_sa and ikev2_decryption_table into DIR\n"
	    "                    (also $PICSEC_IKED_KEYLOG; root only; off by default)\n"
	    "  -v, --verbose     debug log output\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "port", required_argument, NULL, 'p' },
		{ "lifetime-divisor", required_argument, NULL, 'L' },
		{ "keylog", required_argument, NULL, 'K' },
		{ "cookie-threshold", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct iked_options opts = { .port = 500, .natt_port = 4500 };
	struct bus_options bo = { .service = "iked" };
	struct ev_loop *loop;
	struct iked *ik;
	struct bus *bus;
	char err[1024], *end;
	unsigned long port;
	int c, verbose = 0;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': bo.rundir = optarg; break;
		case 'p':
			port = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port == 0 || port > 65535) {
				fprintf(stderr, "picsec-iked: --port %s: not a UDP port\n", optarg);
				return 2;
			}
			opts.port = (unsigned)port;
			break;
		case 'L':
			port = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port == 0 || port > 3600) {
				fprintf(stderr, "picsec-iked: --lifetime-divisor %s: 1 to 3600\n",
				    optarg);
				return 2;
			}
			opts.lifetime_divisor = (unsigned)port;
			break;
		case 'K': opts.keylog = optarg; break;
		case 'C':
			port = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port > 1024) {
				fprintf(stderr, "picsec-iked: --cookie-threshold %s: 0 to 1024\n",
				    optarg);
				return 2;
			}
			opts.cookie_threshold = (unsigned)port;
			opts.cookie_threshold_set = true;
			break;
		case 'v': verbose++; break;
		case 'V': printf("picsec-iked %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (opts.keylog == NULL && getenv("PICSEC_IKED_KEYLOG") != NULL &&
	    getenv("PICSEC_IKED_KEYLOG")[0] != '\0')
		opts.keylog = getenv("PICSEC_IKED_KEYLOG");
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("picsec-iked", verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	loop = ev_default_loop(EVFLAG_AUTO);
	daemon_signals(loop);
	if ((bus = bus_new(loop, &bo, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((ik = iked_new(loop, bus, &opts, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	daemon_run(loop, "negotiating");
	iked_free(ik);
	bus_free(bus);
	ev_loop_destroy(loop);
	return 0;
}
