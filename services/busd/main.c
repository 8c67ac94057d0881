/* picsec-busd: argument parsing and wiring only; the bus itself is in busd*.c. */
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "busd.h"
#include "daemon.h"
#include "curve.h"
#include "endpoints.h"
#include "log.h"
#include "picsec_build.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec-busd [options]\n"
	    "  --rundir DIR          runtime directory for the bus sockets (default $PICSEC_RUNDIR,\n"
	    "                        else " PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --group NAME          group owning the sockets (mode 0660)\n"
	    "  --listen tcp://H:P    also listen on TCP ports P..P+3, with CURVE\n"
	    "  --curve-secret FILE   busd's CURVE secret key (for --listen)\n"
	    "  --curve-allow FILE    client public keys allowed over TCP, one per line\n"
	    "  --gen-keypair PREFIX  write PREFIX.key and PREFIX.pub and exit\n"
	    "  --heartbeat MS        heartbeat interval (default 1000)\n"
	    "  --grace MS            after start, how long requests wait for their service to\n"
	    "                        re-register (default 3000)\n"
	    "  -v, --verbose         debug log output\n"
	    "  --version, --help\n");
}

static unsigned
parse_ms(const char *arg, const char *what)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v == 0 || v > 3600000)
		fatalx("%s: '%s' is not a number of milliseconds in 1..3600000", what, arg);
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "group", required_argument, NULL, 'g' },
		{ "listen", required_argument, NULL, 'l' },
		{ "curve-secret", required_argument, NULL, 's' },
		{ "curve-allow", required_argument, NULL, 'a' },
		{ "gen-keypair", required_argument, NULL, 'k' },
		{ "heartbeat", required_argument, NULL, 'H' },
		{ "grace", required_argument, NULL, 'G' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct busd_options opts = { .group = (gid_t)-1 };
	const char *rundir = NULL, *keypair = NULL;
	struct ev_loop *loop;
	struct busd *bd;
	struct group *gr;
	char err[512];
	int c, verbose = 0;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': rundir = optarg; break;
		case 'g':
			gr = getgrnam(optarg);
			if (gr == NULL)
				fatalx("--group: no group '%s'", optarg);
			opts.group = gr->gr_gid;
			break;
		case 'l': opts.listen = optarg; break;
		case 's': opts.secret_key = optarg; break;
		case 'a': opts.allow = optarg; break;
		case 'k': keypair = optarg; break;
		case 'H': opts.heartbeat_ms = parse_ms(optarg, "--heartbeat"); break;
		case 'G': opts.grace_ms = parse_ms(optarg, "--grace"); break;
		case 'v': verbose++; break;
		case 'V': printf("picsec-busd %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("picsec-busd", verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (keypair != NULL) {
		if (curve_generate(keypair, err, sizeof(err)) == -1)
			fatalx("%s", err);
		printf("wrote %s.key (secret) and %s.pub\n", keypair, keypair);
		return 0;
	}
	opts.rundir = bus_rundir(rundir);

	loop = ev_default_loop(EVFLAG_AUTO);
	daemon_signals(loop);
	bd = busd_new(loop, &opts, err, sizeof(err));
	if (bd == NULL)
		fatalx("%s", err);
	busd_start(bd);
	log_info("serving the bus in %s", opts.rundir);
	daemon_run(loop, "serving the bus");
	busd_free(bd);
	ev_loop_destroy(loop);
	return 0;
}
