/* The output of show services ipsec-vpn ipsec security-associations and statistics, made from
 * the decoded replies alone: the CLI prints it, and the unit tests check it without a bus. */
#ifndef PICSEC_CLI_IPSEC_H
#define PICSEC_CLI_IPSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sa.pb-c.h"
#include "strbuf.h"

/* The SAs by service set and tunnel (brief: a table; detail: a block per SA), or a
 * services-security-associations-information JSON object. now_ns (CLOCK_REALTIME) is for
 * the lifetimes left. */
void cli_ipsec_format_sas(struct strbuf *out, const Picsec__V1__SaList *list, bool detail,
    bool json, uint64_t now_ns);

/* The PICs' counters joined to the SAs by id, per PIC and service set (detail: per tunnel
 * too), or an ipsec-total-statistics-information JSON object. */
void cli_ipsec_format_stats(struct strbuf *out, const Picsec__V1__SaList *sas,
    const Picsec__V1__PicStats *const *stats, size_t nstats, bool detail, bool json);

#endif
