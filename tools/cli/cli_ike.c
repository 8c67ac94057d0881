/* show and clear services ipsec-vpn ike security-associations and statistics, asked of
 * picsec-iked ("iked"); cli_ike_format.c reads the words and makes the text and JSON. */
#include "cli.h"
#include "cli_ike.h"

#include <stdio.h>

#include "bus.h"
#include "catalog.h"

/* The words after the command; the peer they name goes into peer (absent: NULL). */
static int
ike_args(char **args, int nargs, bool keywords, struct cli_ike_args *a,
    Picsec__V1__IpAddress *peer, Picsec__V1__IpAddress **out)
{
	char err[256];

	if (cli_ike_parse_args(args, nargs, keywords, a, err, sizeof(err)) == -1) {
		fprintf(stderr, "error: %s\n", err);
		return -1;
	}
	picsec__v1__ip_address__init(peer);
	peer->addr.data = a->peer;
	peer->addr.len = sizeof(a->peer);
	*out = a->has_peer ? peer : NULL;
	return 0;
}

/* show services ipsec-vpn ike security-associations [brief|detail] [PEER-ADDRESS] */
int
cli_show_ike_sas(struct cli *cli, char **args, int nargs)
{
	Picsec__V1__IkeGetList req = PICSEC__V1__IKE_GET_LIST__INIT;
	Picsec__V1__IpAddress peer;
	struct bus_call_result *r = NULL;
	struct cli_ike_args a;
	int rc = -1;

	if (ike_args(args, nargs, true, &a, &peer, &req.peer) == -1)
		return -1;
	if (cli_ask(cli, "iked", MT(IKE_GET_LIST), &req.base, &r) == 0) {
		cli_ike_format_sas(cli->out, (const Picsec__V1__IkeList *)bus_call_get(r)->msg,
		    a.detail, cli->display == CLI_DISPLAY_JSON);
		rc = 0;
	}
	bus_call_result_free(r);
	return rc;
}

/* show services ipsec-vpn ike statistics [PEER-ADDRESS] */
int
cli_show_ike_stats(struct cli *cli, char **args, int nargs)
{
	Picsec__V1__IkeGetStats req = PICSEC__V1__IKE_GET_STATS__INIT;
	Picsec__V1__IpAddress peer;
	struct bus_call_result *r = NULL;
	struct cli_ike_args a;
	int rc = -1;

	if (ike_args(args, nargs, false, &a, &peer, &req.peer) == -1)
		return -1;
	if (cli_ask(cli, "iked", MT(IKE_GET_STATS), &req.base, &r) == 0) {
		cli_ike_format_stats(cli->out, (const Picsec__V1__IkeStats *)bus_call_get(r)->msg,
		    a.has_peer ? a.peer_text : NULL, cli->display == CLI_DISPLAY_JSON);
		rc = 0;
	}
	bus_call_result_free(r);
	return rc;
}

/* clear services ipsec-vpn ike security-associations [PEER-ADDRESS]: iked deletes them
 * (and their Child SAs) with a Delete to each peer; prints how many. */
int
cli_clear_ike_sas(struct cli *cli, char **args, int nargs)
{
	Picsec__V1__IkeClear req = PICSEC__V1__IKE_CLEAR__INIT;
	Picsec__V1__IpAddress peer;
	struct bus_call_result *r = NULL;
	struct cli_ike_args a;
	int rc = -1;

	if (ike_args(args, nargs, false, &a, &peer, &req.peer) == -1)
		return -1;
	if (cli_ask(cli, "iked", MT(IKE_CLEAR), &req.base, &r) == 0) {
		cli_ike_format_cleared(cli->out,
		    (const Picsec__V1__IkeCleared *)bus_call_get(r)->msg,
		    cli->display == CLI_DISPLAY_JSON);
		rc = 0;
	}
	bus_call_result_free(r);
	return rc;
}
