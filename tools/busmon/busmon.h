/* picsec-busmon: a live, decoded view of every frame on the bus (busd's tap). */
#ifndef PICSEC_BUSMON_H
#define PICSEC_BUSMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbprint.h"
#include "strbuf.h"

/* One frame of the tap: [kind][route][envelope]. The pointers borrow the frames' memory. */
struct tap_record {
	uint64_t received_ns;
	const char *kind;
	size_t kind_len;
	const char *route;
	size_t route_len;
	const void *env;
	size_t env_len;
};

enum busmon_format {
	BUSMON_LINE,
	BUSMON_JSON,
	BUSMON_VERBOSE,
};

struct busmon_filter {
	const char *topic;   /* route prefix */
	const char *service; /* source service, or service.instance */
	int type;	     /* MsgType, MT_NONE for any */
};

/* busmon_format.c: formats rec into out when it passes the filter; false when filtered. */
bool busmon_format(struct strbuf *out, const struct tap_record *rec,
    const struct busmon_filter *filter, enum busmon_format format, bool show_secrets);

/* busmon_record.c: the --record file, and reading it back for --replay. */
struct busmon_recorder;
struct busmon_recorder *busmon_recorder_open(const char *path, char *err, size_t errlen);
int busmon_recorder_write(struct busmon_recorder *r, const struct tap_record *rec);
void busmon_recorder_close(struct busmon_recorder *r);

/* Calls fn for every record of the file, in order; stops early when fn returns false.
 * 0 at a clean end, -1 with a message for an unreadable or damaged file. */
typedef bool busmon_replay_fn(const struct tap_record *rec, void *arg);
int busmon_replay(const char *path, busmon_replay_fn *fn, void *arg, char *err, size_t errlen);

#endif
