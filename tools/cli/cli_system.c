/* show system processes picsec and show chassis pic-status, asked of picsec-healthd
 * ("healthd") with ServiceGetList; cli_system_format.c reads the words and makes the text
 * and JSON. */
#include "cli.h"
#include "cli_system.h"

#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"

/* Asks healthd for the list. A failure is one line on stderr that names healthd: not
 * running (busd knows no such service), not answering, or its own error. */
static int
healthd_list(struct cli *cli, struct bus_call_result **r)
{
	Picsec__V1__ServiceGetList req = PICSEC__V1__SERVICE_GET_LIST__INIT;
	const struct bus_result *res;

	if (bus_call(cli->bus, "healthd", MT(SERVICE_GET_LIST), &req.base, cli->timeout_ms,
	    r) == 0)
		return 0;
	if (*r == NULL) {
		fprintf(stderr, "error: out of memory asking picsec-healthd\n");
		return -1;
	}
	res = bus_call_get(*r);
	if (res->error_code == ERRC(UNAVAILABLE) && strcmp(res->from, "busd") == 0)
		fprintf(stderr, "error: picsec-healthd is not running (%s)\n", res->error_text);
	else if (strcmp(res->from, "healthd") == 0)
		fprintf(stderr, "error: picsec-healthd: %s (%s)\n", res->error_text,
		    errcode_name(res->error_code));
	else
		fprintf(stderr, "error: picsec-healthd is not answering: %s (%s, from %s)\n",
		    res->error_text, errcode_name(res->error_code), res->from);
	return -1;
}

/* show system processes picsec [brief | detail] */
int
cli_show_system_processes(struct cli *cli, char **args, int nargs)
{
	struct bus_call_result *r = NULL;
	enum cli_proc_view view;
	char err[256];
	int rc = -1;

	if (cli_proc_parse_args(args, nargs, &view, err, sizeof(err)) == -1) {
		fprintf(stderr, "error: %s\n", err);
		return -1;
	}
	if (healthd_list(cli, &r) == 0) {
		cli_proc_format(cli->out, (const Picsec__V1__ServiceList *)bus_call_get(r)->msg,
		    view, cli->display == CLI_DISPLAY_JSON, realtime_ns());
		rc = 0;
	}
	bus_call_result_free(r);
	return rc;
}

/* show chassis pic-status [PIC-NAME] */
int
cli_show_chassis_pic_status(struct cli *cli, char **args, int nargs)
{
	struct bus_call_result *r = NULL;
	const char *pic;
	char err[256];
	int rc = -1;

	if (cli_pic_parse_args(args, nargs, &pic, err, sizeof(err)) == -1) {
		fprintf(stderr, "error: %s\n", err);
		return -1;
	}
	if (healthd_list(cli, &r) == -1)
		goto out;
	if (cli_pic_format(cli->out, (const Picsec__V1__ServiceList *)bus_call_get(r)->msg,
	    pic, cli->display == CLI_DISPLAY_JSON, realtime_ns()) == 0 && pic != NULL) {
		fprintf(stderr, "error: picsec-healthd knows no PIC %s\n", pic);
		goto out;
	}
	rc = 0;
out:
	bus_call_result_free(r);
	return rc;
}
