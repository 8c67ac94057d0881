/* The words and the output of show and clear services ipsec-vpn ike security-associations
 * and statistics, from the typed words and the decoded replies alone: the CLI uses them, and
 * the unit tests check them without a bus. */
#ifndef PICSEC_CLI_IKE_H
#define PICSEC_CLI_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike.pb-c.h"
#include "strbuf.h"

/* What follows the command's own words. */
struct cli_ike_args {
	bool detail;
	bool has_peer;
	uint8_t peer[4];	/* the PEER-ADDRESS, network order: IpAddress.addr */
	char peer_text[16];	/* and as text, for headings */
};

/* [brief | detail] (keywords: the show security-associations command only; abbreviated as
 * far as they stay unique) and at most one PEER-ADDRESS, a dotted IPv4 address, in any
 * order. 0, or -1 with what is wrong in err. */
int cli_ike_parse_args(char **args, int nargs, bool keywords, struct cli_ike_args *a,
    char *err, size_t errlen);

/* The IKE SAs by remote address (brief: Junos' table; detail: a block per SA), or an
 * ike-security-associations-information JSON object. */
void cli_ike_format_sas(struct strbuf *out, const Picsec__V1__IkeList *list, bool detail,
    bool json);

/* iked's counters under Junos-style labels, or an ike-security-associations-statistics JSON
 * object; peer (NULL: the totals) names whose they are. */
void cli_ike_format_stats(struct strbuf *out, const Picsec__V1__IkeStats *st,
    const char *peer, bool json);

/* What clear services ipsec-vpn ike security-associations says: how many went. */
void cli_ike_format_cleared(struct strbuf *out, const Picsec__V1__IkeCleared *c, bool json);

#endif
