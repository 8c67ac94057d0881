/* CURVE keys for the bus over TCP: Z85 text files, one key per file (the secret key file may
 * be read only by its owner), and an allow-list of client public keys. */
#ifndef PICSEC_CURVE_H
#define PICSEC_CURVE_H

#include <stdbool.h>
#include <stddef.h>

enum { CURVE_Z85_LEN = 40, CURVE_KEY_BYTES = 32 };

struct curve_keypair {
	char public_z85[CURVE_Z85_LEN + 1];
	char secret_z85[CURVE_Z85_LEN + 1];
};

/* Reads a secret key file and derives its public key. 0, or -1 with a message. */
int curve_load_secret(const char *path, struct curve_keypair *kp, char *err, size_t errlen);
/* Reads a public key file. */
int curve_load_public(const char *path, char out[CURVE_Z85_LEN + 1], char *err, size_t errlen);
/* Writes PREFIX.key (secret, mode 0600) and PREFIX.pub. */
int curve_generate(const char *prefix, char *err, size_t errlen);
/* Makes sock a CURVE client of the server whose public key is in server_key_file, with the
 * secret key in client_key_file. Set before connecting. */
int curve_client_setup(void *sock, const char *server_key_file, const char *client_key_file,
    char *err, size_t errlen);
/* Wipes the secret half. */
void curve_keypair_wipe(struct curve_keypair *kp);

struct curve_allowlist;

/* One Z85 public key per line; blank lines and '#' comments are ignored. */
struct curve_allowlist *curve_allowlist_load(const char *path, char *err, size_t errlen);
void curve_allowlist_free(struct curve_allowlist *al);
bool curve_allowlist_has(const struct curve_allowlist *al, const unsigned char key[CURVE_KEY_BYTES]);
size_t curve_allowlist_count(const struct curve_allowlist *al);

#endif
