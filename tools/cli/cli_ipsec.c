/* show and clear services ipsec-vpn ipsec security-associations and statistics. The SAs come
 * from picsec-sadb ("sadb"), the counters from the forwarder of each PIC that holds one
 * ("fwd.<pic>"); cli_ipsec_format.c makes the text and JSON of them. */
#include "cli.h"
#include "cli_ipsec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "cli_words.h"
#include "envelope.h"

struct ipsec_opts {
	bool detail;
	const char *service_set;	/* "": all */
};

static const char *const show_keywords[] = { "brief", "detail", "service-set", NULL };
static const char *const clear_keywords[] = { "service-set", NULL };


/* The optional words, in any order: [brief | detail] [service-set NAME]. */
static int
ipsec_parse(char **args, int nargs, const char *const *keywords, struct ipsec_opts *o)
{
	const char *k;
	int i;

	o->detail = false;
	o->service_set = "";
	for (i = 0; i < nargs; i++) {
		if ((k = cli_keyword(args[i], keywords)) == NULL) {
			fprintf(stderr, "error: unexpected '%s' (expected %s)\n", args[i],
			    keywords == show_keywords ? "brief, detail or service-set NAME" :
			    "service-set NAME");
			return -1;
		}
		if (strcmp(k, "service-set") == 0) {
			if (i + 1 >= nargs) {
				fprintf(stderr, "error: service-set needs a name\n");
				return -1;
			}
			o->service_set = args[++i];
		} else {
			o->detail = strcmp(k, "detail") == 0;
		}
	}
	return 0;
}

/* The SAs as sadb has them; NULL when it did not answer (said). Free *r either way. */
static const Picsec__V1__SaList *
ipsec_sa_list(struct cli *cli, const char *service_set, struct bus_call_result **r)
{
	Picsec__V1__SaGetList req = PICSEC__V1__SA_GET_LIST__INIT;

	req.service_set = (char *)(uintptr_t)service_set;
	if (cli_ask(cli, "sadb", MT(SA_GET_LIST), &req.base, r) == -1)
		return NULL;
	return (const Picsec__V1__SaList *)bus_call_get(*r)->msg;
}

static int
ipsec_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The PICs that hold the SAs, by name, each once: the ones to ask for counters. The SA list
 * is all the CLI knows of which PICs there are, so a PIC holding none is not asked. */
static size_t
ipsec_pics(const Picsec__V1__SaList *list, const char ***pics)
{
	const char **p;
	size_t i, n = 0, m = 0;

	if ((*pics = p = calloc(list->n_sas + 1, sizeof(*p))) == NULL)
		return 0;
	for (i = 0; i < list->n_sas; i++) {
		if (list->sas[i]->pic[0] != '\0')
			p[n++] = list->sas[i]->pic;
	}
	qsort(p, n, sizeof(*p), ipsec_str_cmp);
	for (i = 0; i < n; i++) {
		if (m == 0 || strcmp(p[i], p[m - 1]) != 0)
			p[m++] = p[i];
	}
	return m;
}

/* Asks (or with clear, resets) the counters of every PIC that holds an SA of the list. A
 * PIC that does not answer is said and skipped so the others still show. res[] (free each)
 * and stats[] have room for one per SA; returns -1 when a PIC did not answer. */
static int
ipsec_ask_pics(struct cli *cli, const Picsec__V1__SaList *list, const char *service_set,
    bool clear, struct bus_call_result **res, const Picsec__V1__PicStats **stats,
    size_t *nstats)
{
	Picsec__V1__PicGetStats req = PICSEC__V1__PIC_GET_STATS__INIT;
	const struct bus_result *br;
	const char **pics;
	char dest[128];
	size_t i, npics;
	int rc = 0;

	*nstats = 0;
	npics = ipsec_pics(list, &pics);
	if (pics == NULL) {
		fprintf(stderr, "error: out of memory\n");
		return -1;
	}
	req.service_set = (char *)(uintptr_t)service_set;
	req.clear = clear;
	for (i = 0; i < npics; i++) {
		if ((size_t)snprintf(dest, sizeof(dest), "fwd.%s", pics[i]) >= sizeof(dest)) {
			fprintf(stderr, "error: PIC name too long: %s\n", pics[i]);
			rc = -1;
			continue;
		}
		if (bus_call(cli->bus, dest, MT(PIC_GET_STATS), &req.base, cli->timeout_ms,
		    &res[i]) == 0) {
			stats[(*nstats)++] =
			    (const Picsec__V1__PicStats *)bus_call_get(res[i])->msg;
			continue;
		}
		if (res[i] == NULL) {
			fprintf(stderr, "error: PIC %s did not answer (out of memory)\n", pics[i]);
		} else {
			br = bus_call_get(res[i]);
			fprintf(stderr, "error: PIC %s did not answer (%s, %s)\n", pics[i],
			    br->error_text, errcode_name(br->error_code));
		}
		rc = -1;
	}
	free(pics);
	return rc;
}

static void
ipsec_free_results(struct bus_call_result **res, size_t n)
{
	size_t i;

	for (i = 0; res != NULL && i < n; i++)
		bus_call_result_free(res[i]);
	free(res);
}

/* show services ipsec-vpn ipsec security-associations [brief|detail] [service-set NAME] */
int
cli_show_ipsec_sas(struct cli *cli, char **args, int nargs)
{
	const Picsec__V1__SaList *list;
	struct bus_call_result *r = NULL;
	struct ipsec_opts o;
	int rc = -1;

	if (ipsec_parse(args, nargs, show_keywords, &o) == -1)
		return -1;
	if ((list = ipsec_sa_list(cli, o.service_set, &r)) != NULL) {
		cli_ipsec_format_sas(cli->out, list, o.detail, cli->display == CLI_DISPLAY_JSON,
		    realtime_ns());
		rc = 0;
	}
	bus_call_result_free(r);
	return rc;
}

/* The statistics of every PIC holding one of the SAs: shown, or (clear) reset. What the
 * PICs that answered say is shown even when another did not. */
static int
ipsec_stats(struct cli *cli, char **args, int nargs, bool clear)
{
	const Picsec__V1__SaList *list;
	const Picsec__V1__PicStats **stats = NULL;
	struct bus_call_result *r = NULL, **res = NULL;
	struct ipsec_opts o;
	size_t nstats = 0;
	int rc = -1;

	if (ipsec_parse(args, nargs, clear ? clear_keywords : show_keywords, &o) == -1)
		return -1;
	if ((list = ipsec_sa_list(cli, o.service_set, &r)) == NULL)
		goto out;
	res = calloc(list->n_sas + 1, sizeof(*res));
	stats = calloc(list->n_sas + 1, sizeof(*stats));
	if (res == NULL || stats == NULL) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	rc = ipsec_ask_pics(cli, list, o.service_set, clear, res, stats, &nstats);
	if (!clear)
		cli_ipsec_format_stats(cli->out, list, stats, nstats, o.detail,
		    cli->display == CLI_DISPLAY_JSON);
out:
	ipsec_free_results(res, list != NULL ? list->n_sas + 1 : 0);
	free(stats);
	bus_call_result_free(r);
	return rc;
}

/* show services ipsec-vpn ipsec statistics [brief|detail] [service-set NAME] */
int
cli_show_ipsec_stats(struct cli *cli, char **args, int nargs)
{
	return ipsec_stats(cli, args, nargs, false);
}

/* clear services ipsec-vpn ipsec security-associations [service-set NAME]: like Junos it
 * prints nothing (JSON: the count sadb cleared). */
int
cli_clear_ipsec_sas(struct cli *cli, char **args, int nargs)
{
	Picsec__V1__SaClear req = PICSEC__V1__SA_CLEAR__INIT;
	struct bus_call_result *r = NULL;
	struct ipsec_opts o;
	int rc = -1;

	if (ipsec_parse(args, nargs, clear_keywords, &o) == -1)
		return -1;
	req.service_set = (char *)(uintptr_t)o.service_set;
	if (cli_ask(cli, "sadb", MT(SA_CLEAR), &req.base, &r) == 0) {
		if (cli->display == CLI_DISPLAY_JSON)
			cli_print_json(cli, bus_call_get(r)->msg);
		rc = 0;
	}
	bus_call_result_free(r);
	return rc;
}

/* clear services ipsec-vpn ipsec statistics [service-set NAME]: every PIC holding one of the
 * SAs resets its counters. Prints nothing. */
int
cli_clear_ipsec_stats(struct cli *cli, char **args, int nargs)
{
	return ipsec_stats(cli, args, nargs, true);
}
