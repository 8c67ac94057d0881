/* The committed configurations on disk. Each commit is one file named by its generation,
 * written whole to a temporary name, synced, renamed into place and its directory synced:
 * a crash at any instant leaves the previous commit or the new one, never a torn one, and
 * never a gap in the history, because no file is ever renamed after it is in place. The
 * newest file is the committed configuration; rollback N is the one N generations older.
 * The 50 newest are kept (rollback 0..49), mode 0600. */
#ifndef PICSEC_CONFIGD_STORE_H
#define PICSEC_CONFIGD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum { STORE_KEEP = 50 };

struct store;

struct store_meta {
	uint64_t generation;
	uint64_t committed_ns;
	char user[64];
	char comment[256];
};

/* Opens (creating, mode 0700) the state directory; removes temporaries a crash left. */
struct store *store_open(const char *dir, char *err, size_t errlen);
void store_close(struct store *st);

/* The newest generation on disk, 0 when there is none. */
uint64_t store_latest(const struct store *st);
/* Reads generation g: its text (without the header) into out, and its header. 0 or -1. */
int store_read(struct store *st, uint64_t g, struct strbuf *out, struct store_meta *meta,
    char *err, size_t errlen);
/* Writes generation meta->generation atomically and durably, then forgets the ones older
 * than the newest STORE_KEEP. 0 or -1 with a message. */
int store_write(struct store *st, const struct store_meta *meta, const char *text, size_t len,
    char *err, size_t errlen);
/* The generations on disk, newest first (up to max). */
size_t store_list(struct store *st, uint64_t *out, size_t max);

#endif
