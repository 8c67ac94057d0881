/* picsec-fwd: argument parsing and wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "bus.h"
#include "daemon.h"
#include "fwd.h"
#include "log.h"
#include "picsec_build.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec-fwd --pic NAME [options]\n"
	    "  --pic NAME        the services PIC this process is (\"ms-0/0/0\")\n"
	    "  --rundir DIR      the bus (default $PICSEC_RUNDIR, else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --frames N        UMEM frames per AF_XDP socket, a power of two in 64..65536 "
	    "(4096)\n"
	    "  -v, --verbose     debug log output\n");
}

static bool
pic_name_ok(const char *s)
{
	size_t n = strlen(s);

	/* ms-F/P/S: it names the bus instance and, with '/' as '-', devices. */
	return n > 0 && n < 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-/") == n;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pic", required_argument, NULL, 'p' },
		{ "rundir", required_argument, NULL, 'r' },
		{ "frames", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fwd_options opts = { .frames = 4096 };
	struct bus_options bo = { .service = "fwd" };
	struct ev_loop *loop;
	struct fwd *f;
	struct bus *bus;
	char err[1024], *end;
	unsigned long v;
	int c, verbose = 0;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': opts.pic = optarg; break;
		case 'r': bo.rundir = optarg; break;
		case 'f':
			v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 64 || v > 65536 || (v & (v - 1)))
				fatalx("--frames: '%s' is not a power of two in 64..65536", optarg);
			opts.frames = (unsigned)v;
			break;
		case 'v': verbose++; break;
		case 'V': printf("picsec-fwd %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || opts.pic == NULL) {
		usage(stderr);
		return 2;
	}
	if (!pic_name_ok(opts.pic))
		fatalx("--pic: '%s' is not a PIC name like ms-0/0/0", opts.pic);
	log_init("picsec-fwd", verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	bo.instance = opts.pic;
	loop = ev_default_loop(EVFLAG_AUTO);
	daemon_signals(loop);
	if ((bus = bus_new(loop, &bo, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((f = fwd_new(loop, bus, &opts, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	daemon_run(loop, "forwarding");
	fwd_free(f);
	bus_free(bus);
	ev_loop_destroy(loop);
	return 0;
}
