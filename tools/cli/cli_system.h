/* show system processes picsec and show chassis pic-status: the suite's own processes and
 * its PICs as picsec-healthd ("healthd") sees them (ServiceList). The words and the output
 * are made from the typed words and the decoded reply alone, so the unit tests check text
 * and JSON without a bus. */
#ifndef PICSEC_CLI_SYSTEM_H
#define PICSEC_CLI_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.pb-c.h"
#include "strbuf.h"

struct cli;

/* How much show system processes picsec says about each process. */
enum cli_proc_view {
	CLI_PROC_NORMAL,	/* one line each, the last cause included */
	CLI_PROC_BRIEF,		/* one line each, without the cause */
	CLI_PROC_DETAIL,	/* a block each, every field */
};

/* [brief | detail], abbreviated as far as they stay unique; the last one counts. 0, or -1
 * with what is wrong in err. */
int cli_proc_parse_args(char **args, int nargs, enum cli_proc_view *view, char *err,
    size_t errlen);

/* [PIC-NAME] ("ms-0/0/0"): *pic is args[0], or NULL when none is given. 0, or -1 with
 * what is wrong in err. */
int cli_pic_parse_args(char **args, int nargs, const char **pic, char *err, size_t errlen);

/* Junos' uptime: "03:04:05" under a day, "2d 03:04:05" from one on. */
void cli_uptime_text(char *buf, size_t len, uint64_t seconds);

/* The processes in the suite's start order (busd, configd, sadb, the PICs, iked, healthd,
 * metricsd, then the others by name), as text or a picsec-process-information JSON object;
 * now_ns (CLOCK_REALTIME) is what the uptimes are counted to. */
void cli_proc_format(struct strbuf *out, const Picsec__V1__ServiceList *list,
    enum cli_proc_view view, bool json, uint64_t now_ns);

/* The PICs (the processes named fwd.<PIC>), or only pic when not NULL, as text or a
 * pic-information JSON object. Returns how many were shown; with pic given and not known
 * nothing is written and 0 returned. */
size_t cli_pic_format(struct strbuf *out, const Picsec__V1__ServiceList *list,
    const char *pic, bool json, uint64_t now_ns);

/* cli_system.c: the commands, asked of picsec-healthd; 0 or -1 */
int cli_show_system_processes(struct cli *cli, char **args, int nargs);
int cli_show_chassis_pic_status(struct cli *cli, char **args, int nargs);

#endif
