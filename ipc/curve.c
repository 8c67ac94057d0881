#include "curve.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "secbuf.h"

struct curve_allowlist {
	unsigned char (*keys)[CURVE_KEY_BYTES];
	size_t count;
};

/* Extracts the first Z85 key of a line into out; false if the line has none (blank or
 * comment), -1 through *bad when it has something that is not a key. */
static bool
curve_parse_line(const char *line, char out[CURVE_Z85_LEN + 1], bool *bad)
{
	const char *p = line;
	size_t n = 0;
	unsigned char raw[CURVE_KEY_BYTES];

	*bad = false;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return false;
	while (p[n] != '\0' && !isspace((unsigned char)p[n]))
		n++;
	if (n != CURVE_Z85_LEN) {
		*bad = true;
		return false;
	}
	memcpy(out, p, CURVE_Z85_LEN);
	out[CURVE_Z85_LEN] = '\0';
	if (zmq_z85_decode(raw, out) == NULL) {
		*bad = true;
		return false;
	}
	secure_wipe(raw, sizeof(raw));
	return true;
}

/* Reads the one key a key file holds. */
static int
curve_read_key_file(const char *path, char out[CURVE_Z85_LEN + 1], char *err, size_t errlen)
{
	char line[256];
	FILE *f;
	bool bad = false;
	int rc = -1;
	unsigned lineno = 0;

	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (curve_parse_line(line, out, &bad)) {
			rc = 0;
			break;
		}
		if (bad) {
			snprintf(err, errlen, "%s:%u: not a Z85 CURVE key (40 characters)", path,
			    lineno);
			break;
		}
	}
	if (rc == -1 && !bad)
		snprintf(err, errlen, "%s: no key in file", path);
	secure_wipe(line, sizeof(line));
	fclose(f);
	return rc;
}

int
curve_load_secret(const char *path, struct curve_keypair *kp, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: secret key file is readable by others (mode %04o); "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (curve_read_key_file(path, kp->secret_z85, err, errlen) == -1)
		return -1;
	if (zmq_curve_public(kp->public_z85, kp->secret_z85) == -1) {
		snprintf(err, errlen, "%s: cannot derive the public key: %s", path,
		    zmq_strerror(zmq_errno()));
		curve_keypair_wipe(kp);
		return -1;
	}
	return 0;
}

int
curve_load_public(const char *path, char out[CURVE_Z85_LEN + 1], char *err, size_t errlen)
{
	return curve_read_key_file(path, out, err, errlen);
}

static int
curve_write_file(const char *path, const char *key, mode_t mode, char *err, size_t errlen)
{
	int fd, rc = -1;
	size_t len = strlen(key);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) == -1 || write(fd, key, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	close(fd);
	return rc;
}

int
curve_generate(const char *prefix, char *err, size_t errlen)
{
	struct curve_keypair kp;
	char path[4096];
	int rc = -1;

	if (zmq_curve_keypair(kp.public_z85, kp.secret_z85) == -1) {
		snprintf(err, errlen, "zmq_curve_keypair: %s (libzmq without CURVE?)",
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	snprintf(path, sizeof(path), "%s.key", prefix);
	if (curve_write_file(path, kp.secret_z85, 0600, err, errlen) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s.pub", prefix);
	if (curve_write_file(path, kp.public_z85, 0644, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	curve_keypair_wipe(&kp);
	return rc;
}

int
curve_client_setup(void *sock, const char *server_key_file, const char *client_key_file,
    char *err, size_t errlen)
{
	struct curve_keypair kp;
	char server[CURVE_Z85_LEN + 1];
	int rc = -1;

	if (curve_load_public(server_key_file, server, err, errlen) == -1 ||
	    curve_load_secret(client_key_file, &kp, err, errlen) == -1)
		return -1;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, CURVE_Z85_LEN) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp.public_z85, CURVE_Z85_LEN) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp.secret_z85, CURVE_Z85_LEN) == -1)
		snprintf(err, errlen, "CURVE: %s", zmq_strerror(zmq_errno()));
	else
		rc = 0;
	curve_keypair_wipe(&kp);
	return rc;
}

void
curve_keypair_wipe(struct curve_keypair *kp)
{
	secure_wipe(kp->secret_z85, sizeof(kp->secret_z85));
}

struct curve_allowlist *
curve_allowlist_load(const char *path, char *err, size_t errlen)
{
	struct curve_allowlist *al;
	char line[256], z85[CURVE_Z85_LEN + 1];
	FILE *f;
	bool bad;
	unsigned lineno = 0;
	void *grown;

	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	al = calloc(1, sizeof(*al));
	if (al == NULL)
		goto error;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (!curve_parse_line(line, z85, &bad)) {
			if (!bad)
				continue;
			snprintf(err, errlen, "%s:%u: not a Z85 CURVE public key", path, lineno);
			goto error;
		}
		grown = realloc(al->keys, (al->count + 1) * sizeof(*al->keys));
		if (grown == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto error;
		}
		al->keys = grown;
		zmq_z85_decode(al->keys[al->count], z85);
		al->count++;
	}
	fclose(f);
	return al;
error:
	fclose(f);
	curve_allowlist_free(al);
	return NULL;
}

void
curve_allowlist_free(struct curve_allowlist *al)
{
	if (al == NULL)
		return;
	free(al->keys);
	free(al);
}

bool
curve_allowlist_has(const struct curve_allowlist *al, const unsigned char key[CURVE_KEY_BYTES])
{
	size_t i;

	for (i = 0; i < al->count; i++) {
		if (memcmp(al->keys[i], key, CURVE_KEY_BYTES) == 0)
			return true;
	}
	return false;
}

size_t
curve_allowlist_count(const struct curve_allowlist *al)
{
	return al->count;
}
