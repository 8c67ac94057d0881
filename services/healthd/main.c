/* picsec-healthd: argument parsing and wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "bus.h"
#include "daemon.h"
#include "healthd.h"
#include "log.h"
#include "picsec_build.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec-healthd [options]\n"
	    "  --rundir DIR          the bus (default $PICSEC_RUNDIR, else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --supervise           start the suite and restart what dies (without systemd)\n"
	    "  --pic NAME            with --supervise: a picsec-fwd for this PIC (repeatable)\n"
	    "  --statedir DIR        with --supervise: configd's and sadb's state\n"
	    "  --logdir DIR          with --supervise: DIR/picsec-NAME.log per process\n"
	    "  --bindir DIR          with --supervise: where picsec-* are (default the directory\n"
	    "                        of picsec-healthd; $PICSEC_BUSD, $PICSEC_SADB ... win)\n"
	    "  --args KIND=WORDS     with --supervise: more arguments for busd, configd, sadb,\n"
	    "                        fwd or iked (repeatable)\n"
	    "  --restart-delay MIN,MAX  back-off bounds in seconds (default 0.1,30)\n"
	    "  --stable-after S      a process that lived S seconds restarts after MIN (default 2)\n"
	    "  --hang-timeout S      with --supervise: unresponsive S seconds: killed (default 10)\n"
	    "  -v, --verbose         debug log output\n");
}

/* The directory of our own executable: the suite is installed side by side. */
static void
self_dir(char *out, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);
	char *slash;

	if (n <= 0) {
		snprintf(out, len, "/usr/sbin");
		return;
	}
	out[n] = '\0';
	if ((slash = strrchr(out, '/')) != NULL)
		*slash = '\0';
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "supervise", no_argument, NULL, 'S' },
		{ "pic", required_argument, NULL, 'p' },
		{ "statedir", required_argument, NULL, 's' },
		{ "logdir", required_argument, NULL, 'l' },
		{ "bindir", required_argument, NULL, 'b' },
		{ "args", required_argument, NULL, 'a' },
		{ "restart-delay", required_argument, NULL, 'd' },
		{ "stable-after", required_argument, NULL, 't' },
		{ "hang-timeout", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct healthd_options opts = {
		.restart_min = 0.1, .restart_max = 30, .stable_after = 2, .hang_timeout = 10,
	};
	struct bus_options bo = { .service = "healthd" };
	static char bindir[512];
	struct ev_loop *loop;
	struct healthd *hd;
	struct bus *bus;
	char err[1024], *end;
	int c, verbose = 0;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': bo.rundir = opts.rundir = optarg; break;
		case 'S': opts.supervise = true; break;
		case 'p':
			if (opts.npics == HEALTHD_MAX_PICS)
				fatalx("at most %d --pic", HEALTHD_MAX_PICS);
			opts.pics[opts.npics++] = optarg;
			break;
		case 's': opts.statedir = optarg; break;
		case 'l': opts.logdir = optarg; break;
		case 'b': opts.bindir = optarg; break;
		case 'a':
			if (opts.nextra == HEALTHD_MAX_ARGS || strchr(optarg, '=') == NULL)
				fatalx("--args KIND=WORDS (at most %d)", HEALTHD_MAX_ARGS);
			opts.extra[opts.nextra++] = optarg;
			break;
		case 'd':
			opts.restart_min = strtod(optarg, &end);
			if (*end != ',' || (opts.restart_max = strtod(end + 1, &end), *end != '\0') ||
			    !(opts.restart_min > 0) || opts.restart_max < opts.restart_min ||
			    opts.restart_max > 3600)
				fatalx("--restart-delay MIN,MAX: 0 < MIN <= MAX <= 3600 seconds");
			break;
		case 't':
			opts.stable_after = strtod(optarg, &end);
			if (*end != '\0' || !(opts.stable_after >= 0) || opts.stable_after > 3600)
				fatalx("--stable-after: 0 to 3600 seconds");
			break;
		case 'H':
			opts.hang_timeout = strtod(optarg, &end);
			if (*end != '\0' || !(opts.hang_timeout >= 1) || opts.hang_timeout > 3600)
				fatalx("--hang-timeout: 1 to 3600 seconds");
			break;
		case 'v': verbose++; break;
		case 'V': printf("picsec-healthd %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("picsec-healthd", verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (!opts.supervise && (opts.npics > 0 || opts.nextra > 0 || opts.logdir != NULL))
		fatalx("--pic, --args and --logdir go with --supervise");
	if (opts.bindir == NULL) {
		self_dir(bindir, sizeof(bindir));
		opts.bindir = bindir;
	}
	loop = ev_default_loop(EVFLAG_AUTO);
	daemon_signals(loop);
	if ((bus = bus_new(loop, &bo, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((hd = healthd_new(loop, bus, &opts, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	daemon_run(loop, opts.supervise ? "supervising the suite" : "watching the suite");
	healthd_free(hd);
	bus_free(bus);
	ev_loop_destroy(loop);
	return 0;
}
