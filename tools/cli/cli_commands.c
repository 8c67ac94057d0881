/* Operational mode: a table of commands (words, with <ARG> for an argument), matched with
 * Junos-style abbreviations: every word may be cut short as long as it stays unique. */
#include "cli.h"
#include "cli_system.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "bus.pb-c.h"
#include "catalog.h"
#include "envelope.h"
#include "pbprint.h"

typedef int cli_handler_fn(struct cli *cli, char **args, int nargs);

struct cli_command {
	const char *words[8];
	cli_handler_fn *fn;
	const char *help;
	bool rest;		/* takes any further words (a configuration path) */
	const char *const *options; /* the words that may follow, for completion */
	const char *value;	/* and the value that may follow them ("<PEER-ADDRESS>") */
};

static const char *const show_ipsec_options[] = { "brief", "detail", "service-set", NULL };
static const char *const clear_ipsec_options[] = { "service-set", NULL };
static const char *const show_ike_options[] = { "brief", "detail", NULL };
static const char *const show_processes_options[] = { "brief", "detail", NULL };
static const char *const no_options[] = { NULL };

/* Sends a request and prints the error when there is one. */
int
cli_ask(struct cli *cli, const char *dest, int type, const ProtobufCMessage *msg,
    struct bus_call_result **out)
{
	const struct bus_result *res;

	if (bus_call(cli->bus, dest, type, msg, cli->timeout_ms, out) == 0)
		return 0;
	if (*out == NULL) {
		fprintf(stderr, "error: out of memory asking %s\n", dest);
		return -1;
	}
	res = bus_call_get(*out);
	fprintf(stderr, "error: %s (%s, from %s)\n", res->error_text, errcode_name(res->error_code),
	    res->from);
	return -1;
}

void
cli_print_json(struct cli *cli, const ProtobufCMessage *msg)
{
	struct pbprint_opts po = { .style = PBPRINT_JSON };

	pbprint(cli->out, msg, &po);
	strbuf_addc(cli->out, '\n');
}

static void
cli_uptime(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;

	snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 86400,
	    s / 3600 % 24, s / 60 % 60, s % 60);
}

static int
cli_show_bus_services(struct cli *cli, char **args, int nargs)
{
	Picsec__V1__BusListServices req = PICSEC__V1__BUS_LIST_SERVICES__INIT;
	const Picsec__V1__BusServiceList *list;
	struct bus_call_result *r;
	uint64_t now = realtime_ns();
	char up[32];
	size_t i;
	int rc = 1;

	(void)args;
	(void)nargs;
	if (cli_ask(cli, "busd", MT(BUS_LIST_SERVICES), &req.base, &r) == -1)
		goto out;
	list = (const Picsec__V1__BusServiceList *)bus_call_get(r)->msg;
	rc = 0;
	if (cli->display == CLI_DISPLAY_JSON) {
		cli_print_json(cli, &list->base);
		goto out;
	}
	strbuf_addf(cli->out, "%-24s %-8s %-16s %-16s %-14s %s\n", "Service", "PID", "Host",
	    "Incarnation", "Up", "Requests");
	for (i = 0; i < list->n_services; i++) {
		const Picsec__V1__BusService *s = list->services[i];
		const Picsec__V1__ServiceHello *h = s->hello;

		cli_uptime(up, sizeof(up), h != NULL && now > h->started_ns ?
		    (now - h->started_ns) / 1000000 : 0);
		strbuf_addf(cli->out, "%-24s %-8u %-16s %016" PRIx64 " %-14s %" PRIu64 "\n",
		    s->name, h != NULL ? h->pid : 0, h != NULL ? h->hostname : "?",
		    h != NULL ? h->incarnation : 0, up, s->requests_routed);
	}
	if (list->n_services == 0)
		strbuf_adds(cli->out, "(no services registered)\n");
out:
	bus_call_result_free(r);
	return rc;
}

static int
cli_show_bus_statistics(struct cli *cli, char **args, int nargs)
{
	Picsec__V1__BusGetStats req = PICSEC__V1__BUS_GET_STATS__INIT;
	const Picsec__V1__BusStats *st;
	struct bus_call_result *r;
	char up[32];
	int rc = 1;

	(void)args;
	(void)nargs;
	if (cli_ask(cli, "busd", MT(BUS_GET_STATS), &req.base, &r) == -1)
		goto out;
	st = (const Picsec__V1__BusStats *)bus_call_get(r)->msg;
	rc = 0;
	if (cli->display == CLI_DISPLAY_JSON) {
		cli_print_json(cli, &st->base);
		goto out;
	}
	cli_uptime(up, sizeof(up), st->uptime_ms);
	strbuf_addf(cli->out,
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
cli_request_bus_ping(struct cli *cli, char **args, int nargs)
{
	Picsec__V1__Ping ping = PICSEC__V1__PING__INIT;
	const Picsec__V1__Pong *pong;
	struct bus_call_result *r;
	struct timespec t0, t1;
	int rc = 1;

	(void)nargs;
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
		strbuf_addf(cli->out, "%s answered in %.3f ms (up %" PRIu64 " ms)\n", args[0],
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		    pong->uptime_ms);
out:
	bus_call_result_free(r);
	return rc;
}

static int
cli_show_configuration(struct cli *cli, char **args, int nargs)
{
	char *words[CLI_MAX_WORDS];
	int i;

	words[0] = (char *)(uintptr_t)"show";
	for (i = 0; i < nargs && i + 1 < CLI_MAX_WORDS; i++)
		words[i + 1] = args[i];
	/* Without a session configd shows the committed configuration. */
	return cli_configd(cli, 0, words, i + 1, NULL, 0, NULL);
}

static int
cli_show_system_commit(struct cli *cli, char **args, int nargs)
{
	char *words[] = { (char *)(uintptr_t)"history" };

	(void)args;
	(void)nargs;
	return cli_configd(cli, 0, words, 1, NULL, 0, NULL);
}

static int
cli_configure_cmd(struct cli *cli, char **args, int nargs)
{
	(void)args;
	(void)nargs;
	return cli_configure_enter(cli, false);
}

static int
cli_configure_exclusive(struct cli *cli, char **args, int nargs)
{
	(void)args;
	(void)nargs;
	return cli_configure_enter(cli, true);
}

static int
cli_quit(struct cli *cli, char **args, int nargs)
{
	(void)args;
	(void)nargs;
	cli->quit = true;
	return 0;
}

static int
cli_help(struct cli *cli, char **args, int nargs)
{
	(void)args;
	(void)nargs;
	(void)cli;
	cli_list_commands(stdout);
	return 0;
}

static const struct cli_command cli_commands[] = {
	{ { "show", "configuration" }, cli_show_configuration,
	    "the committed configuration [path] [| display set | display json]", true, NULL, NULL },
	{ { "show", "system", "commit" }, cli_show_system_commit,
	    "the stored commits, numbered for rollback", false, NULL, NULL },
	{ { "show", "system", "processes", "picsec" }, cli_show_system_processes,
	    "picsec's processes as picsec-healthd sees them [brief | detail]", true,
	    show_processes_options, NULL },
	{ { "show", "bus", "services" }, cli_show_bus_services,
	    "who is registered on the bus", false, NULL, NULL },
	{ { "show", "bus", "statistics" }, cli_show_bus_statistics,
	    "picsec-busd's counters", false, NULL, NULL },
	{ { "show", "services", "ipsec-vpn", "ike", "security-associations" },
	    cli_show_ike_sas, "the IKE SAs [brief | detail] [PEER-ADDRESS]", true,
	    show_ike_options, "<PEER-ADDRESS>" },
	{ { "show", "services", "ipsec-vpn", "ike", "statistics" }, cli_show_ike_stats,
	    "picsec-iked's counters [PEER-ADDRESS]", true, no_options, "<PEER-ADDRESS>" },
	{ { "clear", "services", "ipsec-vpn", "ike", "security-associations" },
	    cli_clear_ike_sas, "delete the IKE SAs and their IPsec SAs [PEER-ADDRESS]", true,
	    no_options, "<PEER-ADDRESS>" },
	{ { "show", "services", "ipsec-vpn", "ipsec", "security-associations" },
	    cli_show_ipsec_sas, "the IPsec SAs [brief | detail] [service-set NAME]", true,
	    show_ipsec_options, NULL },
	{ { "show", "services", "ipsec-vpn", "ipsec", "statistics" }, cli_show_ipsec_stats,
	    "the PICs' IPsec counters [brief | detail] [service-set NAME]", true,
	    show_ipsec_options, NULL },
	{ { "clear", "services", "ipsec-vpn", "ipsec", "security-associations" },
	    cli_clear_ipsec_sas, "remove the IPsec SAs [service-set NAME]", true,
	    clear_ipsec_options, NULL },
	{ { "clear", "services", "ipsec-vpn", "ipsec", "statistics" }, cli_clear_ipsec_stats,
	    "reset the PICs' IPsec counters [service-set NAME]", true, clear_ipsec_options, NULL },
	{ { "show", "chassis", "pic-status" }, cli_show_chassis_pic_status,
	    "the PICs: Online, Offline, Unresponsive or Starting [PIC-NAME]", true, no_options,
	    "<PIC-NAME>" },
	{ { "request", "bus", "ping", "<SERVICE>" }, cli_request_bus_ping,
	    "ask a service for a liveness answer", false, NULL, NULL },
	{ { "configure" }, cli_configure_cmd, "enter configuration mode", false, NULL, NULL },
	{ { "configure", "exclusive" }, cli_configure_exclusive,
	    "enter configuration mode, locking out other users' changes", false, NULL, NULL },
	{ { "help" }, cli_help, "this list", false, NULL, NULL },
	{ { "exit" }, cli_quit, "leave the CLI", false, NULL, NULL },
	{ { "quit" }, cli_quit, "leave the CLI", false, NULL, NULL },
};

void
cli_list_commands(FILE *out)
{
	size_t i, w;

	for (i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++) {
		fprintf(out, " ");
		for (w = 0; cli_commands[i].words[w] != NULL; w++)
			fprintf(out, " %s", cli_commands[i].words[w]);
		fprintf(out, "\n      %s\n", cli_commands[i].help);
	}
}

/* Operational completion: the words that may come after words[0..n), starting with
 * partial, from the command table (abbreviations count as in cli_fit). */
size_t
cli_operational_choices(char **words, int n, const char *partial, struct cli_choice *out,
    size_t max, char *hint, size_t hintlen)
{
	size_t k = 0, c, j, plen = strlen(partial);
	int w, fixed;

	for (c = 0; c < sizeof(cli_commands) / sizeof(cli_commands[0]) && k < max; c++) {
		const struct cli_command *cmd = &cli_commands[c];
		const char *next = NULL, *help = "";
		bool seen = false;

		for (fixed = 0; cmd->words[fixed] != NULL; fixed++)
			;
		for (w = 0; w < n && w < fixed; w++) {
			if (cmd->words[w][0] != '<' &&
			    strncmp(cmd->words[w], words[w], strlen(words[w])) != 0)
				break;
		}
		if (w < n && w < fixed)
			continue;
		if (n < fixed) {
			next = cmd->words[n];
			help = n + 1 == fixed ? cmd->help : "";
			if (next[0] == '<') {
				snprintf(hint, hintlen, "%s", next);
				continue;
			}
		} else if (cmd->options != NULL) {
			/* After "service-set" comes its name. */
			if (n > fixed && strcmp(words[n - 1], "service-set") == 0) {
				snprintf(hint, hintlen, "<NAME>");
				continue;
			}
			if (cmd->value != NULL)
				snprintf(hint, hintlen, "%s", cmd->value);
			for (j = 0; cmd->options[j] != NULL && k < max; j++) {
				if (strncmp(cmd->options[j], partial, plen) == 0)
					k = cli_choice_add(out, k, max, cmd->options[j], cmd->help);
			}
			continue;
		}
		if (next == NULL || strncmp(next, partial, plen) != 0)
			continue;
		for (j = 0; j < k; j++)
			seen |= strcmp(out[j].word, next) == 0;
		if (!seen)
			k = cli_choice_add(out, k, max, next, help);
	}
	return k;
}

/* How well words fit command c: -1 not at all, else the number of words cut short.
 * *used gets how many words the command's own words took. */
static int
cli_fit(const struct cli_command *c, char **words, int nwords, int *used)
{
	int w, cut = 0;

	for (w = 0; c->words[w] != NULL; w++) {
		if (w >= nwords)
			return -1;
		if (c->words[w][0] == '<')
			continue;
		if (strncmp(c->words[w], words[w], strlen(words[w])) != 0)
			return -1;
		cut += strcmp(c->words[w], words[w]) != 0;
	}
	if (w < nwords && !c->rest && strcmp(words[w], "|") != 0)
		return -1;
	*used = w;
	return cut;
}

int
cli_operational(struct cli *cli, char **words, int nwords)
{
	const struct cli_command *best = NULL;
	char *args[CLI_MAX_WORDS];
	int nargs = 0, used = 0, fit, best_fit = -1, i, w, ties = 0;
	size_t k;

	/* | display json is for every command; the other pipes are for configurations. */
	if (nwords >= 3 && strcmp(words[nwords - 3], "|") == 0 &&
	    strcmp(words[nwords - 2], "display") == 0 && strcmp(words[nwords - 1], "json") == 0 &&
	    strncmp("configuration", nwords > 1 ? words[1] : "", 4) != 0) {
		cli->display = CLI_DISPLAY_JSON;
		nwords -= 3;
	}
	for (k = 0; k < sizeof(cli_commands) / sizeof(cli_commands[0]); k++) {
		fit = cli_fit(&cli_commands[k], words, nwords, &w);
		if (fit < 0)
			continue;
		/* The command whose own words were cut the least; longer commands win ties. */
		if (best == NULL || fit < best_fit || (fit == best_fit && w > used)) {
			best = &cli_commands[k];
			best_fit = fit;
			used = w;
			ties = 0;
		} else if (fit == best_fit && w == used) {
			ties++;
		}
	}
	if (best == NULL || ties > 0) {
		fprintf(stderr, "error: %s command:", best == NULL ? "unknown" : "ambiguous");
		for (i = 0; i < nwords; i++)
			fprintf(stderr, " %s", words[i]);
		fprintf(stderr, "\n");
		return 1;
	}
	for (i = 0; best->words[i] != NULL; i++) {
		if (best->words[i][0] == '<')
			args[nargs++] = words[i];
	}
	for (i = used; i < nwords; i++)
		args[nargs++] = words[i];
	return best->fn(cli, args, nargs) == 0 ? 0 : 1;
}
