/* Junos "$9$" secrets: a reversible obfuscation (not encryption) that keeps keys from being
 * read at a glance in a configuration file. Junos writes every key this way; picsec reads
 * plaintext or $9$ and always writes $9$. */
#ifndef PICSEC_CFG_SECRET_H
#define PICSEC_CFG_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s looks like "$9$..." at all (the prefix). */
bool cfg_secret_is_encoded(const char *s);
/* Decodes "$9$..." into out (NUL-terminated). Returns the plaintext length, or -1 when the
 * text is not a valid $9$ string or out is too small. */
int cfg_secret_decode(const char *enc, char *out, size_t outlen);
/* Encodes len bytes of plain into out ("$9$" + salt + ...). A random salt unless salt_seed
 * is nonzero (then it is derived from it: for reproducible test output). Returns the length
 * written, or -1 when out is too small. */
int cfg_secret_encode(const char *plain, size_t len, char *out, size_t outlen,
    unsigned salt_seed);

#endif
