#include "configd_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pbprint.h"
#include "secbuf.h"

#define STORE_PREFIX "config."
#define STORE_TMP ".tmp."

struct store {
	char dir[4096];
	int dirfd;
	uint64_t latest;
};

/* "config.<generation>" and nothing else. */
static bool
store_parse_name(const char *name, uint64_t *g)
{
	const char *p = name + strlen(STORE_PREFIX);
	char *end;

	if (strncmp(name, STORE_PREFIX, strlen(STORE_PREFIX)) != 0 || *p < '1' || *p > '9')
		return false;
	errno = 0;
	*g = strtoull(p, &end, 10);
	return errno == 0 && *end == '\0';
}

static void
store_scan(struct store *st)
{
	struct dirent *de;
	uint64_t g;
	DIR *d = fdopendir(dup(st->dirfd));

	st->latest = 0;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, STORE_TMP, strlen(STORE_TMP)) == 0) {
			/* A write a crash cut short: never renamed into place, never committed. */
			unlinkat(st->dirfd, de->d_name, 0);
			continue;
		}
		if (store_parse_name(de->d_name, &g) && g > st->latest)
			st->latest = g;
	}
	closedir(d);
}

struct store *
store_open(const char *dir, char *err, size_t errlen)
{
	struct store *st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(st);
		return NULL;
	}
	store_scan(st);
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	close(st->dirfd);
	free(st);
}

uint64_t
store_latest(const struct store *st)
{
	return st->latest;
}

/* The header: lines the configuration lexer skips ("## ..."). */
static void
store_header(struct strbuf *out, const struct store_meta *meta)
{
	strbuf_adds(out, "## Last commit: ");
	pbprint_time_ns(out, meta->committed_ns);
	strbuf_addf(out, " by %s\n## generation %" PRIu64 " %" PRIu64 "\n",
	    meta->user[0] != '\0' ? meta->user : "?", meta->generation, meta->committed_ns);
	if (meta->comment[0] != '\0')
		strbuf_addf(out, "## comment: %s\n", meta->comment);
}

static void
store_parse_header(const char *text, struct store_meta *meta)
{
	const char *line, *nl;
	char user[64];

	for (line = text; strncmp(line, "## ", 3) == 0; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		if (sscanf(line, "## generation %" SCNu64 " %" SCNu64, &meta->generation,
		    &meta->committed_ns) == 2)
			continue;
		if (sscanf(line, "## Last commit: %*s by %63s", user) == 1)
			snprintf(meta->user, sizeof(meta->user), "%s", user);
		else if (strncmp(line, "## comment: ", 12) == 0)
			snprintf(meta->comment, sizeof(meta->comment), "%.*s",
			    (int)(nl - line - 12), line + 12);
	}
}

int
store_read(struct store *st, uint64_t g, struct strbuf *out, struct store_meta *meta,
    char *err, size_t errlen)
{
	char name[64], buf[8192];
	ssize_t n;
	int fd;

	memset(meta, 0, sizeof(*meta));
	snprintf(name, sizeof(name), STORE_PREFIX "%" PRIu64, g);
	fd = openat(st->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		snprintf(err, errlen, "%s/%s: %s", st->dir, name, strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(out, buf, (size_t)n);
	secure_wipe(buf, sizeof(buf));
	close(fd);
	if (n < 0 || strbuf_failed(out)) {
		snprintf(err, errlen, "%s/%s: %s", st->dir, name, n < 0 ? strerror(errno) :
		    "out of memory");
		return -1;
	}
	store_parse_header(strbuf_str(out), meta);
	meta->generation = g;
	return 0;
}

static int
store_write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
store_prune(struct store *st)
{
	uint64_t keep[STORE_KEEP + 64];
	size_t n = store_list(st, keep, sizeof(keep) / sizeof(keep[0])), i;
	char name[64];

	for (i = STORE_KEEP; i < n; i++) {
		snprintf(name, sizeof(name), STORE_PREFIX "%" PRIu64, keep[i]);
		unlinkat(st->dirfd, name, 0);
	}
}

int
store_write(struct store *st, const struct store_meta *meta, const char *text, size_t len,
    char *err, size_t errlen)
{
	struct strbuf head = STRBUF_INIT;
	char tmp[64], name[64];
	int fd, rc = -1;

	snprintf(tmp, sizeof(tmp), STORE_TMP "%" PRIu64, meta->generation);
	snprintf(name, sizeof(name), STORE_PREFIX "%" PRIu64, meta->generation);
	store_header(&head, meta);
	fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s/%s: %s", st->dir, tmp, strerror(errno));
		goto out;
	}
	/* The data, then its metadata, on disk before the name points at it... */
	if (fchmod(fd, 0600) == -1 || store_write_all(fd, strbuf_str(&head), strbuf_len(&head)) ==
	    -1 || store_write_all(fd, text, len) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "%s/%s: %s", st->dir, tmp, strerror(errno));
		close(fd);
		unlinkat(st->dirfd, tmp, 0);
		goto out;
	}
	close(fd);
	/* ...then the name, and the directory entry on disk too. */
	if (renameat(st->dirfd, tmp, st->dirfd, name) == -1 || fsync(st->dirfd) == -1) {
		snprintf(err, errlen, "%s/%s: %s", st->dir, name, strerror(errno));
		unlinkat(st->dirfd, tmp, 0);
		goto out;
	}
	st->latest = meta->generation;
	store_prune(st);
	rc = 0;
out:
	strbuf_release(&head);
	return rc;
}

static int
store_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x > y ? -1 : x < y;
}

size_t
store_list(struct store *st, uint64_t *out, size_t max)
{
	struct dirent *de;
	uint64_t g, *all = NULL, *grown;
	size_t n = 0, cap = 0;
	DIR *d = fdopendir(dup(st->dirfd));

	if (d == NULL)
		return 0;
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!store_parse_name(de->d_name, &g))
			continue;
		if (n == cap) {
			cap = cap > 0 ? cap * 2 : 64;
			grown = realloc(all, cap * sizeof(*all));
			if (grown == NULL)
				break;
			all = grown;
		}
		all[n++] = g;
	}
	closedir(d);
	if (n > 1) /* an empty directory leaves all NULL, which qsort may not take */
		qsort(all, n, sizeof(*all), store_desc);
	if (n > max)
		n = max;
	if (n > 0)
		memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}
