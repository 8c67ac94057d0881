/* The operational command table. A command is its words, a handler, and a line of help;
 * words written <LIKE-THIS> take an argument. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "bus.pb-c.h"
#include "catalog.h"
#include "envelope.h"
#include "pbprint.h"

typedef int cli_handler_fn(struct cli *cli, char **args);

struct cli_command {
	const char *words[8];
	cli_handler_fn *fn;
	const char *help;
};

/* Sends a request and prints the error when there is one. */
static int
cli_ask(struct cli *cli, const char *dest, int type, const ProtobufCMessage *msg,
    struct bus_call_result **out)
{
	const struct bus_result *res;

	if (bus_call(cli->bus, dest, type, msg, cli->timeout_ms, out) == 0)
		return 0;
	res = bus_call_get(*out);
	fprintf(stderr, "error: %s (%s, from %s)\n", res->error_text, errcode_name(res->error_code),
	    res->from);
	return -1;
}

static void
cli_print_json(struct cli *cli, const ProtobufCMessage *msg)
{
	struct pbprint_opts po = { .style = PBPRINT_JSON };
	struct strbuf sb = STRBUF_INIT;

	pbprint(&sb, msg, &po);
	fprintf(cli->out, "%s\n", strbuf_str(&sb));
	strbuf_release(&sb);
}

static void
cli_uptime(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;

	snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 86400,
	    s / 3600 % 24, s / 60 % 60, s % 60);
}

static int
cli_show_bus_services(struct cli *cli, char **args)
{
	Picsec__V1__BusListServices req = PICSEC__V1__BUS_LIST_SERVICES__INIT;
	const Picsec__V1__BusServiceList *list;
	struct bus_call_result *r;
	char up[32];
	size_t i;
	int rc = 1;

	(void)args;
	if (cli_ask(cli, "busd", MT(BUS_LIST_SERVICES), &req.base, &r) == -1)
		goto out;
	list = (const Picsec__V1__BusServiceList *)bus_call_get(r)->msg;
	rc = 0;
	if (cli->display == CLI_DISPLAY_JSON) {
		cli_print_json(cli, &list->base);
		goto out;
	}
	fprintf(cli->out, "%-24s %-8s %-16s %-16s %-14s %s\n", "Service", "PID", "Host",
	    "Incarnation", "Up", "Requests");
	for (i = 0; i < list->n_services; i++) {
		const Picsec__V1__BusService *s = list->services[i];
		const Picsec__V1__ServiceHello *h = s->hello;
		uint64_t now = realtime_ns();

		cli_uptime(up, sizeof(up), h != NULL && now > h->started_ns ?
		    (now - h->started_ns) / 1000000 : 0);
		fprintf(cli->out, "%-24s %-8u %-16s %016" PRIx64 " %-14s %" PRIu64 "\n", s->name,
		    h != NULL ? h->pid : 0, h != NULL ? h->hostname : "?",
		    h != NULL ? h->incarnation : 0, up, s->requests_routed);
	}
	if (list->n_services == 0)
		fprintf(cli->out, "(no services registered)\n");
out:
	bus_call_result_free(r);
	return rc;
}

static int
cli_show_bus_statistics(struct cli *cli, char **args)
{
	Picsec__V1__BusGetStats req = PICSEC__V1__BUS_GET_STATS__INIT;
	const Picsec__V1__BusStats *st;
	struct bus_call_result *r;
	char up[32];
	int rc = 1;

	(void)args;
	if (cli_ask(cli, "busd", MT(BUS_GET_STATS), &req.base, &r) == -1)
		goto out;
	st = (const Picsec__V1__BusStats *)bus_call_get(r)->msg;
	rc = 0;
	if (cli->display == CLI_DISPLAY_JSON) {
		cli_print_json(cli, &st->base);
		goto out;
	}
	cli_uptime(up, sizeof(up), st->uptime_ms);
	fprintf(cli->out,
	    "Bus statistics:\n"
	    "  busd incarnation         %016" PRIx64 "\n"
	    "  Up                       %s\n"
	    "  Services registered      %u\n"
	    "  Events forwarded         %" PRIu64 "\n"
	    "  Requests routed          %" PRIu64 "\n"
	    "  Replies routed           %" PRIu64 "\n"
	    "  Unroutable               %" PRIu64 "\n"
	    "  Malformed frames         %" PRIu64 "\n"
	    "  Parked at start          %" PRIu64 "\n"
	    "  CURVE clients refused    %" PRIu64 "\n",
	    st->incarnation, up, st->services, st->events_forwarded, st->requests_routed,
	    st->replies_routed, st->unroutable, st->malformed, st->parked, st->auth_refused);
out:
	bus_call_result_free(r);
	return rc;
}

static int
cli_request_bus_ping(struct cli *cli, char **args)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	const Picsec__V1__Pong *pong;
	struct bus_call_result *r;
	struct timespec t0, t1;
	int rc = 1;

	ping.token = (uint64_t)time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (cli_ask(cli, args[0], MT(PING), &ping.base, &r) == -1)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pong = (const Picsec__V1__Pong *)bus_call_get(r)->msg;
	if (pong->token != ping.token) {
		fprintf(stderr, "error: %s answered with the wrong token\n", args[0]);
		goto out;
	}
	rc = 0;
	if (cli->display == CLI_DISPLAY_JSON)
		cli_print_json(cli, &pong->base);
	else
		fprintf(cli->out, "%s answered in %.3f ms (up %" PRIu64 " ms)\n", args[0],
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		    pong->uptime_ms);
out:
	bus_call_result_free(r);
	return rc;
}

static const struct cli_command cli_commands[] = {
	{ { "show", "bus", "services" }, cli_show_bus_services,
	    "who is registered on the bus" },
	{ { "show", "bus", "statistics" }, cli_show_bus_statistics,
	    "picsec-busd's counters" },
	{ { "request", "bus", "ping", "<SERVICE>" }, cli_request_bus_ping,
	    "ask a service for a liveness answer" },
};

void
cli_list_commands(FILE *out)
{
	size_t i, w;

	for (i = 0; i < ARRAY_SIZE(cli_commands); i++) {
		fprintf(out, " ");
		for (w = 0; cli_commands[i].words[w] != NULL; w++)
			fprintf(out, " %s", cli_commands[i].words[w]);
		fprintf(out, "\n      %s\n", cli_commands[i].help);
	}
}

int
cli_run(struct cli *cli, int nwords, char **words)
{
	char *args[8];
	size_t i, w, nargs;

	for (i = 0; i < ARRAY_SIZE(cli_commands); i++) {
		const struct cli_command *c = &cli_commands[i];

		nargs = 0;
		for (w = 0; c->words[w] != NULL && (int)w < nwords; w++) {
			if (c->words[w][0] == '<')
				args[nargs++] = words[w];
			else if (strcmp(c->words[w], words[w]) != 0)
				break;
		}
		if (c->words[w] == NULL && (int)w == nwords)
			return c->fn(cli, args);
	}
	fprintf(stderr, "error: unknown command:");
	for (w = 0; (int)w < nwords; w++)
		fprintf(stderr, " %s", words[w]);
	fprintf(stderr, "\npossible completions:\n");
	cli_list_commands(stderr);
	return 2;
}
