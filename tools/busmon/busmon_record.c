/* The --record file: a header line, then one record per tap frame:
 *   u64 received_ns, u32 kind_len, u32 route_len, u32 env_len (little-endian), then the bytes.
 * Envelopes are stored as they were on the bus, keys included, so the file is mode 0600;
 * --replay redacts them as the live view does. */
#include "busmon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secbuf.h"

#define BUSMON_RECORD_MAGIC "PICSEC-BUSMON-RECORD 1\n"

/* What a record may hold; written and read with the same limits, so every recording that was
 * written can be replayed. */
enum {
	BUSMON_RECORD_KIND_MAX = 64,
	BUSMON_RECORD_ROUTE_MAX = 4096,
	BUSMON_RECORD_ENV_MAX = 16 * 1024 * 1024,
	BUSMON_RECORD_HEAD = 20,
};

struct busmon_recorder {
	FILE *f;
	char path[4096];
};

static void
busmon_put_le(unsigned char *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
busmon_get_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

struct busmon_recorder *
busmon_recorder_open(const char *path, char *err, size_t errlen)
{
	struct busmon_recorder *r;
	int fd;

	/* The mode of an existing file is not changed by open(): set it, keys go in here. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1 || fchmod(fd, 0600) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		free(r);
		return NULL;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (fputs(BUSMON_RECORD_MAGIC, r->f) == EOF) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		busmon_recorder_close(r);
		return NULL;
	}
	return r;
}

int
busmon_recorder_write(struct busmon_recorder *r, const struct tap_record *rec)
{
	unsigned char head[BUSMON_RECORD_HEAD];

	if (rec->kind_len > BUSMON_RECORD_KIND_MAX || rec->route_len > BUSMON_RECORD_ROUTE_MAX ||
	    rec->env_len > BUSMON_RECORD_ENV_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	busmon_put_le(head, rec->received_ns, 8);
	busmon_put_le(head + 8, rec->kind_len, 4);
	busmon_put_le(head + 12, rec->route_len, 4);
	busmon_put_le(head + 16, rec->env_len, 4);
	if (fwrite(head, sizeof(head), 1, r->f) != 1 ||
	    (rec->kind_len > 0 && fwrite(rec->kind, rec->kind_len, 1, r->f) != 1) ||
	    (rec->route_len > 0 && fwrite(rec->route, rec->route_len, 1, r->f) != 1) ||
	    (rec->env_len > 0 && fwrite(rec->env, rec->env_len, 1, r->f) != 1))
		return -1;
	/* A recording is most useful when the monitor was killed: keep it on disk as we go. */
	return fflush(r->f) == EOF ? -1 : 0;
}

void
busmon_recorder_close(struct busmon_recorder *r)
{
	if (r == NULL)
		return;
	if (r->f != NULL)
		fclose(r->f);
	free(r);
}

int
busmon_replay(const char *path, busmon_replay_fn *fn, void *arg, char *err, size_t errlen)
{
	unsigned char head[BUSMON_RECORD_HEAD];
	char magic[sizeof(BUSMON_RECORD_MAGIC)];
	struct tap_record rec;
	uint64_t lens[3], total;
	unsigned char *buf = NULL;
	long offset;
	size_t got;
	FILE *f;
	int rc = -1;

	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(magic, sizeof(magic) - 1, 1, f) != 1 ||
	    memcmp(magic, BUSMON_RECORD_MAGIC, sizeof(magic) - 1) != 0) {
		snprintf(err, errlen, "%s: not a picsec-busmon recording", path);
		goto out;
	}
	for (;;) {
		offset = ftell(f);
		got = fread(head, 1, sizeof(head), f);
		if (got == 0 && feof(f))
			break;
		if (got != sizeof(head)) {
			snprintf(err, errlen, "%s: truncated record header at byte %ld", path, offset);
			goto out;
		}
		lens[0] = busmon_get_le(head + 8, 4);
		lens[1] = busmon_get_le(head + 12, 4);
		lens[2] = busmon_get_le(head + 16, 4);
		if (lens[0] > BUSMON_RECORD_KIND_MAX || lens[1] > BUSMON_RECORD_ROUTE_MAX ||
		    lens[2] > BUSMON_RECORD_ENV_MAX) {
			snprintf(err, errlen, "%s: damaged record at byte %ld (implausible lengths)",
			    path, offset);
			goto out;
		}
		total = lens[0] + lens[1] + lens[2];
		buf = wiping_alloc(total > 0 ? total : 1);
		if (buf == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
		if (total > 0 && fread(buf, total, 1, f) != 1) {
			snprintf(err, errlen, "%s: truncated record at byte %ld", path, offset);
			goto out;
		}
		rec.received_ns = busmon_get_le(head, 8);
		rec.kind = (const char *)buf;
		rec.kind_len = lens[0];
		rec.route = (const char *)buf + lens[0];
		rec.route_len = lens[1];
		rec.env = buf + lens[0] + lens[1];
		rec.env_len = lens[2];
		if (!fn(&rec, arg)) {
			rc = 0;
			goto out;
		}
		wiping_free(buf);
		buf = NULL;
	}
	rc = 0;
out:
	wiping_free(buf);
	fclose(f);
	return rc;
}
