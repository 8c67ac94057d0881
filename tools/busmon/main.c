/* picsec-busmon: argument parsing and wiring; formatting is in busmon_format.c. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <zmq.h>

#include "busmon.h"
#include "catalog.h"
#include "curve.h"
#include "endpoints.h"
#include "envelope.h"
#include "log.h"
#include "picsec_build.h"
#include "secbuf.h"
#include "zwatch.h"

struct busmon {
	enum busmon_format format;
	struct busmon_filter filter;
	bool show_secrets;
	unsigned long count;   /* 0: no limit */
	unsigned long printed;
	struct busmon_recorder *recorder;
	struct strbuf line;
	struct ev_loop *loop;
	bool failed;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: picsec-busmon [options]\n"
	    "  --rundir DIR        the bus to watch (default $PICSEC_RUNDIR, else "
	    PICSEC_DEFAULT_RUNDIR ")\n"
	    "  --bus tcp://H:P     watch a bus over TCP (with --server-key and --client-key)\n"
	    "  --server-key FILE   busd's CURVE public key\n"
	    "  --client-key FILE   our CURVE secret key\n"
	    "  --json              one JSON object per line\n"
	    "  --verbose           the whole message, one field per line\n"
	    "  --topic PREFIX      only frames whose topic or route starts with PREFIX\n"
	    "  --service NAME      only messages sent by NAME (service or service.instance)\n"
	    "  --type NAME         only messages of type NAME (e.g. Heartbeat or MT_HEARTBEAT)\n"
	    "  --count N           exit after N messages\n"
	    "  --timeout SECONDS   exit after SECONDS (status 1 if --count was not reached)\n"
	    "  --record FILE       also write every frame to FILE (mode 0600, keys included)\n"
	    "  --replay FILE       print a recording instead of the live bus\n"
	    "  --show-secrets      print Secret contents (root only)\n");
}

static bool
busmon_handle(const struct tap_record *rec, void *arg)
{
	struct busmon *bm = arg;

	if (bm->recorder != NULL && busmon_recorder_write(bm->recorder, rec) == -1) {
		log_warn("--record");
		busmon_recorder_close(bm->recorder);
		bm->recorder = NULL;
		bm->failed = true;
	}
	strbuf_reset(&bm->line);
	if (!busmon_format(&bm->line, rec, &bm->filter, bm->format, bm->show_secrets))
		return true;
	strbuf_addc(&bm->line, '\n');
	fwrite(strbuf_str(&bm->line), 1, strbuf_len(&bm->line), stdout);
	secure_wipe(bm->line.buf, bm->line.cap);
	bm->printed++;
	return bm->count == 0 || bm->printed < bm->count;
}

static bool
busmon_tap_readable(void *sock, void *arg)
{
	struct busmon *bm = arg;
	zmq_msg_t frames[3];
	struct tap_record rec;
	bool go_on = true;
	size_t n;

	n = zsock_recv_frames(sock, frames, 3);
	if (n == 0) {
		zsock_close_frames(frames, 3);
		return false;
	}
	if (n == 3) {
		rec.received_ns = realtime_ns();
		rec.kind = zmq_msg_data(&frames[0]);
		rec.kind_len = zmq_msg_size(&frames[0]);
		rec.route = zmq_msg_data(&frames[1]);
		rec.route_len = zmq_msg_size(&frames[1]);
		rec.env = zmq_msg_data(&frames[2]);
		rec.env_len = zmq_msg_size(&frames[2]);
		go_on = busmon_handle(&rec, bm);
		secure_wipe(zmq_msg_data(&frames[2]), zmq_msg_size(&frames[2]));
	} else {
		log_warnx("a tap frame of %zu parts, not [kind][route][envelope]", n);
	}
	zsock_close_frames(frames, 3);
	if (!go_on)
		ev_break(bm->loop, EVBREAK_ALL);
	return go_on;
}

static void
busmon_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void
busmon_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int
busmon_live(struct busmon *bm, const char *rundir, const char *bus_url, const char *server_key,
    const char *client_key, double timeout)
{
	struct bus_endpoints ep;
	ev_signal sigint, sigterm;
	ev_timer deadline;
	struct zwatch *zw = NULL;
	void *zctx, *sub = NULL;
	char err[512];
	int linger = 0, rc = -1;

	if ((bus_url != NULL ? bus_endpoints_tcp(bus_url, &ep, err, sizeof(err)) :
	    bus_endpoints_ipc(bus_rundir(rundir), &ep, err, sizeof(err))) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	zctx = zmq_ctx_new();
	sub = zctx != NULL ? zmq_socket(zctx, ZMQ_SUB) : NULL;
	if (sub == NULL || zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof(linger)) == -1) {
		log_warnx("tap socket: %s", zmq_strerror(zmq_errno()));
		goto out;
	}
	if (bus_url != NULL && (server_key == NULL || client_key == NULL ||
	    curve_client_setup(sub, server_key, client_key, err, sizeof(err)) == -1)) {
		log_warnx("%s", server_key == NULL || client_key == NULL ?
		    "--bus tcp:// needs --server-key and --client-key" : err);
		goto out;
	}
	if (zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0) == -1 || zmq_connect(sub, ep.tap) == -1) {
		log_warnx("connect %s: %s", ep.tap, zmq_strerror(zmq_errno()));
		goto out;
	}
	bm->loop = ev_default_loop(EVFLAG_AUTO);
	zw = zwatch_new(bm->loop, sub, busmon_tap_readable, bm, 0);
	if (zw == NULL)
		goto out;
	ev_signal_init(&sigint, busmon_signal, SIGINT);
	ev_signal_init(&sigterm, busmon_signal, SIGTERM);
	ev_signal_start(bm->loop, &sigint);
	ev_signal_start(bm->loop, &sigterm);
	if (timeout > 0) {
		ev_timer_init(&deadline, busmon_timeout, timeout, 0.);
		ev_timer_start(bm->loop, &deadline);
	}
	ev_run(bm->loop, 0);
	rc = 0;
out:
	zwatch_free(zw);
	if (sub != NULL)
		zmq_close(sub);
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	return rc;
}

static unsigned long
parse_count(const char *arg)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v == 0 || arg[0] == '-')
		fatalx("--count: '%s' is not a positive number", arg);
	return v;
}

static double
parse_seconds(const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (*arg == '\0' || *end != '\0' || !isfinite(v) || v <= 0 || v > 86400 * 365)
		fatalx("--timeout: '%s' is not a number of seconds", arg);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "bus", required_argument, NULL, 'b' },
		{ "server-key", required_argument, NULL, 'S' },
		{ "client-key", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "topic", required_argument, NULL, 't' },
		{ "service", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 'T' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "record", required_argument, NULL, 'R' },
		{ "replay", required_argument, NULL, 'P' },
		{ "show-secrets", no_argument, NULL, 'X' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct busmon bm = { .format = BUSMON_LINE, .line = STRBUF_INIT };
	const char *rundir = NULL, *bus_url = NULL, *server_key = NULL, *client_key = NULL;
	const char *record = NULL, *replay = NULL;
	double timeout = 0;
	char err[512];
	int c, rc;

	log_init("picsec-busmon", LOG_LEVEL_INFO);
	bm.filter.type = MT(NONE);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': rundir = optarg; break;
		case 'b': bus_url = optarg; break;
		case 'S': server_key = optarg; break;
		case 'C': client_key = optarg; break;
		case 'j': bm.format = BUSMON_JSON; break;
		case 'v': bm.format = BUSMON_VERBOSE; break;
		case 't': bm.filter.topic = optarg; break;
		case 's': bm.filter.service = optarg; break;
		case 'T':
			bm.filter.type = catalog_type_by_name(optarg);
			if (bm.filter.type == MT(NONE))
				fatalx("--type: no message type '%s'", optarg);
			break;
		case 'n': bm.count = parse_count(optarg); break;
		case 'w': timeout = parse_seconds(optarg); break;
		case 'R': record = optarg; break;
		case 'P': replay = optarg; break;
		case 'X': bm.show_secrets = true; break;
		case 'V': printf("picsec-busmon %s\n", PICSEC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (bm.show_secrets && geteuid() != 0) {
		log_warnx("--show-secrets is refused: only root may see key material");
		return 2;
	}
	if (replay != NULL && (record != NULL || bus_url != NULL)) {
		log_warnx("--replay reads a recording: it does not go with --record or --bus");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (record != NULL && (bm.recorder = busmon_recorder_open(record, err, sizeof(err))) == NULL)
		fatalx("--record: %s", err);

	if (replay != NULL) {
		rc = busmon_replay(replay, busmon_handle, &bm, err, sizeof(err));
		if (rc == -1)
			log_warnx("--replay: %s", err);
	} else {
		rc = busmon_live(&bm, rundir, bus_url, server_key, client_key, timeout);
	}
	busmon_recorder_close(bm.recorder);
	strbuf_release(&bm.line);
	if (rc == 0 && bm.count > 0 && bm.printed < bm.count) {
		log_warnx("%s after %lu of %lu messages", replay != NULL ? "end of recording" :
		    "timeout", bm.printed, bm.count);
		rc = -1;
	}
	return rc == 0 && !bm.failed ? 0 : 1;
}
