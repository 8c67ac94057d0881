/* The sequence-number journal: per outbound SA, the highest number a PIC reported and a
 * fingerprint of the key it was under. A PIC that restarts (or a whole host) starts that
 * SA above the mark plus a margin, so no number is sent twice under one key. The file
 * holds no key material: ids, fingerprints, numbers. */
#include "sadb_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "u64map.h"

/* One mark per SA and key: going back to an earlier key (a rollback) finds that key's
 * mark again, not the newer key's. The marks of one SA are chained from marks_by_id, so
 * that an SA that goes takes its marks along in one look-up. */
struct sadb_mark {
	uint64_t id, fingerprint;
	uint64_t seq;
	struct sadb_mark *next;	/* of the same id */
};

static uint64_t
sadb_mark_key(uint64_t id, uint64_t fingerprint)
{
	uint64_t k = id ^ (fingerprint * 0x9e3779b97f4a7c15ULL);

	return k != 0 ? k : 1;
}

static const char journal_name[] = "sadb-seq";

static struct sadb_mark *
sadb_mark_get(struct sadb *sd, uint64_t id, uint64_t fingerprint)
{
	struct sadb_mark *m = u64map_get(sd->marks, sadb_mark_key(id, fingerprint));

	return m != NULL && m->id == id && m->fingerprint == fingerprint ? m : NULL;
}

/* Takes m out of its id's chain. */
static void
sadb_mark_unchain(struct sadb *sd, struct sadb_mark *m)
{
	struct sadb_mark *p = u64map_get(sd->marks_by_id, m->id);

	if (p == m) {
		/* Put right after a take never grows the map: it cannot fail. */
		u64map_take(sd->marks_by_id, m->id);
		if (m->next != NULL)
			u64map_put(sd->marks_by_id, m->id, m->next);
		return;
	}
	for (; p != NULL && p->next != m; p = p->next)
		;
	if (p != NULL)
		p->next = m->next;
}

static struct sadb_mark *
sadb_mark_put(struct sadb *sd, uint64_t id, uint64_t fingerprint, uint64_t seq)
{
	struct sadb_mark *m = sadb_mark_get(sd, id, fingerprint), *old;

	if (m == NULL) {
		if ((m = calloc(1, sizeof(*m))) == NULL)
			return NULL;
		/* (A key collision of two different marks would replace the older one.) */
		if ((old = u64map_take(sd->marks, sadb_mark_key(id, fingerprint))) != NULL) {
			sadb_mark_unchain(sd, old);
			free(old);
		}
		m->id = id;
		m->fingerprint = fingerprint;
		m->next = u64map_get(sd->marks_by_id, id);
		if (u64map_put(sd->marks_by_id, id, m) == -1) {
			free(m);
			return NULL;
		}
		if (u64map_put(sd->marks, sadb_mark_key(id, fingerprint), m) == -1) {
			sadb_mark_unchain(sd, m);
			free(m);
			return NULL;
		}
	}
	m->seq = seq;
	return m;
}

int
sadb_journal_load(struct sadb *sd, char *err, size_t errlen)
{
	char path[600], line[128];
	uint64_t id, fp, seq;
	unsigned n = 0, bad = 0;
	FILE *f;

	if ((sd->marks = u64map_new()) == NULL || (sd->marks_by_id = u64map_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sd->statedir[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/%s", sd->statedir, journal_name);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#')
			continue;
		/* scanf reads "-5" as a huge number: no sign is ours. */
		if (strchr(line, '-') != NULL || strchr(line, '+') != NULL ||
		    sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNu64, &id, &fp, &seq) != 3 ||
		    id == 0) {
			bad++;
			continue;
		}
		if (sadb_mark_put(sd, id, fp, seq) == NULL) {
			fclose(f);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		n++;
	}
	fclose(f);
	if (bad > 0)
		log_warnx("%s: %u unreadable lines skipped", path, bad);
	log_info("sequence journal: %u outbound SA%s", n, n == 1 ? "" : "s");
	return 0;
}

uint64_t
sadb_journal_start(struct sadb *sd, uint64_t id, uint64_t fingerprint)
{
	const struct sadb_mark *m = sadb_mark_get(sd, id, fingerprint);

	if (m == NULL || m->seq == 0)
		return 0;
	return m->seq > UINT64_MAX - SADB_SEQ_MARGIN ? UINT64_MAX : m->seq + SADB_SEQ_MARGIN;
}

void
sadb_journal_note(struct sadb *sd, uint64_t id, uint64_t fingerprint, uint64_t seq)
{
	struct sadb_mark *m = sadb_mark_get(sd, id, fingerprint);

	/* Nothing sent yet is nothing to remember (a fresh SA starts from 0 anyway). */
	if ((m != NULL && seq <= m->seq) || (m == NULL && seq == 0))
		return;
	if (sadb_mark_put(sd, id, fingerprint, seq) == NULL) {
		log_warnx("sequence journal: out of memory");
		return;
	}
	sd->marks_dirty = true;
}

struct journal_write {
	FILE *f;
	bool failed;
};

static void
sadb_journal_line(uint64_t key, void *value, void *arg)
{
	const struct sadb_mark *m = value;
	struct journal_write *w = arg;

	(void)key;
	if (fprintf(w->f, "%016" PRIx64 " %016" PRIx64 " %" PRIu64 "\n", m->id, m->fingerprint,
	    m->seq) < 0)
		w->failed = true;
}

void
sadb_journal_flush(struct sadb *sd)
{
	char path[600], tmp[620];
	struct journal_write w = { NULL, false };
	int fd, dfd;

	if (!sd->marks_dirty || sd->statedir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s", sd->statedir, journal_name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (w.f = fdopen(fd, "w")) == NULL) {
		log_warn("%s", tmp);
		if (fd != -1)
			close(fd);
		return;
	}
	fprintf(w.f, "# picsec-sadb: highest sequence number per outbound SA (id, key "
	    "fingerprint, number); no keys\n");
	u64map_foreach(sd->marks, sadb_journal_line, &w);
	if (w.failed || fflush(w.f) != 0 || fsync(fileno(w.f)) != 0) {
		log_warn("%s", tmp);
		fclose(w.f);
		unlink(tmp);
		return;
	}
	fclose(w.f);
	if (rename(tmp, path) == -1) {
		log_warn("%s", path);
		unlink(tmp);
		return;
	}
	if ((dfd = open(sd->statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	sd->marks_dirty = false;
}

static void
sadb_mark_free(uint64_t id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	free(value);
}

void
sadb_journal_forget(struct sadb *sd, uint64_t id)
{
	struct sadb_mark *m, *next;
	uint64_t key;

	if (sd->marks_by_id == NULL || (m = u64map_take(sd->marks_by_id, id)) == NULL)
		return;
	for (; m != NULL; m = next) {
		next = m->next;
		key = sadb_mark_key(m->id, m->fingerprint);
		if (u64map_get(sd->marks, key) == m)
			u64map_take(sd->marks, key);
		free(m);
	}
	sd->marks_dirty = true;
}

void
sadb_journal_free(struct sadb *sd)
{
	if (sd->marks != NULL)
		u64map_foreach(sd->marks, sadb_mark_free, NULL);
	u64map_free(sd->marks);
	u64map_free(sd->marks_by_id);
	sd->marks = NULL;
	sd->marks_by_id = NULL;
}
