/* The $9$ scheme, as public descriptions of it give it (Crypt::Juniper and its ports): four
 * families of alphabet letters, a salt letter whose family says how many filler letters
 * follow it, then each plaintext byte written as 2 to 4 "gaps" between consecutive letters
 * of the alphabet, weighted by a repeating encoding table. */
#include "cfg_secret.h"

#include <string.h>

#include <sodium.h>

static const char *const secret_families[] = {
	"QzF3n6/9CAtpu0O", "B1IREhcSyrleKvMW8LXx", "7N-dVbwsY2g4oaJZGUDj", "iHkq.mPf5T",
};

/* The alphabet is the four families in order. */
static const char secret_alphabet[] =
    "QzF3n6/9CAtpu0OB1IREhcSyrleKvMW8LXx7N-dVbwsY2g4oaJZGUDjiHkq.mPf5T";

enum { SECRET_ALPHA = sizeof(secret_alphabet) - 1, SECRET_TABLES = 7, SECRET_MAX_GAPS = 4 };

static const int secret_encoding[SECRET_TABLES][SECRET_MAX_GAPS] = {
	{ 1, 4, 32 }, { 1, 16, 32 }, { 1, 8, 32 }, { 1, 64 }, { 1, 32 }, { 1, 4, 16, 128 },
	{ 1, 32, 64 },
};
static const int secret_encoding_len[SECRET_TABLES] = { 3, 3, 3, 2, 2, 4, 3 };

/* The salt is obfuscation, not key material: a pool refilled now and then spares a system
 * call per letter when thousands of keys are encoded at once. */
static unsigned
secret_random(void)
{
	static unsigned char pool[256];
	static size_t left;

	if (left == 0) {
		randombytes_buf(pool, sizeof(pool));
		left = sizeof(pool);
	}
	return pool[--left] % SECRET_ALPHA;
}

static int
secret_index(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(secret_alphabet, c);
	return p != NULL ? (int)(p - secret_alphabet) : -1;
}

/* How many filler letters follow a salt letter: 3 for the first family ... 0 for the last. */
static int
secret_extra(char c)
{
	int i;

	/* strchr() finds the terminator too: "$9$" alone must not count as a salt. */
	if (c == '\0')
		return -1;
	for (i = 0; i < 4; i++) {
		if (strchr(secret_families[i], c) != NULL)
			return 3 - i;
	}
	return -1;
}

bool
cfg_secret_is_encoded(const char *s)
{
	return strncmp(s, "$9$", 3) == 0;
}

int
cfg_secret_decode(const char *enc, char *out, size_t outlen)
{
	const char *p;
	size_t n = 0;
	int prev, extra, t, i, idx, num;

	if (!cfg_secret_is_encoded(enc))
		return -1;
	p = enc + 3;
	extra = secret_extra(*p);
	if (extra < 0)
		return -1;
	prev = secret_index(*p++);
	for (i = 0; i < extra; i++) {
		if (secret_index(*p++) < 0)
			return -1;
	}
	while (*p != '\0') {
		t = (int)(n % SECRET_TABLES);
		num = 0;
		for (i = 0; i < secret_encoding_len[t]; i++) {
			idx = secret_index(p[i]);
			if (idx < 0)
				return -1;
			num += ((idx - prev + SECRET_ALPHA) % SECRET_ALPHA - 1) *
			    secret_encoding[t][i];
			prev = idx;
		}
		p += secret_encoding_len[t];
		if (n + 1 >= outlen)
			return -1;
		out[n++] = (char)(num % 256);
	}
	out[n] = '\0';
	return (int)n;
}

int
cfg_secret_encode(const char *plain, size_t len, char *out, size_t outlen, unsigned salt_seed)
{
	size_t n = 0, k;
	int salt, prev, t, i, value, extra;
	int gaps[SECRET_MAX_GAPS];

	if (outlen < 5)
		return -1;
	memcpy(out, "$9$", 3);
	n = 3;
	salt = salt_seed != 0 ? (int)(salt_seed % SECRET_ALPHA) : (int)secret_random();
	out[n++] = secret_alphabet[salt];
	extra = secret_extra(secret_alphabet[salt]);
	for (i = 0; i < extra; i++) {
		if (n + 1 >= outlen)
			return -1;
		out[n++] = secret_alphabet[salt_seed != 0 ? (salt_seed / 7 + (unsigned)i * 13) %
		    SECRET_ALPHA : secret_random()];
	}
	prev = salt;
	for (k = 0; k < len; k++) {
		t = (int)(k % SECRET_TABLES);
		value = (unsigned char)plain[k];
		/* The byte as weighted gaps, largest weight first. */
		for (i = secret_encoding_len[t] - 1; i >= 0; i--) {
			gaps[i] = value / secret_encoding[t][i];
			value %= secret_encoding[t][i];
		}
		for (i = 0; i < secret_encoding_len[t]; i++) {
			if (n + 1 >= outlen)
				return -1;
			prev = (prev + gaps[i] + 1) % SECRET_ALPHA;
			out[n++] = secret_alphabet[prev];
		}
	}
	out[n] = '\0';
	return (int)n;
}
