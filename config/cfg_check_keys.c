/* Manual keys: the length each algorithm takes, hexadecimal digits, DES weak and semi-weak
 * keys (RFC 2409 appendix A) and 3DES keys that collapse to single DES (RFC 2451 §2.3). */
#include "cfg_check.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "secbuf.h"

struct key_size {
	const char *algorithm;
	unsigned bytes;
};

static const struct key_size key_sizes[] = {
	{ "hmac-md5-96", 16 },		/* RFC 2403 */
	{ "hmac-sha1-96", 20 },		/* RFC 2404 */
	{ "hmac-sha-256-128", 32 },	/* RFC 4868 §2.1.1 */
	{ "hmac-sha2-256", 32 },
	{ "des-cbc", 8 },		/* RFC 2405 */
	{ "3des-cbc", 24 },		/* RFC 2451 */
	{ "aes-128-cbc", 16 },		/* RFC 3602 */
	{ "aes-192-cbc", 24 },
	{ "aes-256-cbc", 32 },
};

/* RFC 2409 appendix A, parity bits as written there. */
static const unsigned char des_weak_keys[16][8] = {
	{ 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01 },
	{ 0x1f, 0x1f, 0x1f, 0x1f, 0x0e, 0x0e, 0x0e, 0x0e },
	{ 0xe0, 0xe0, 0xe0, 0xe0, 0xf1, 0xf1, 0xf1, 0xf1 },
	{ 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe },
	{ 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe },
	{ 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01 },
	{ 0x1f, 0xe0, 0x1f, 0xe0, 0x0e, 0xf1, 0x0e, 0xf1 },
	{ 0xe0, 0x1f, 0xe0, 0x1f, 0xf1, 0x0e, 0xf1, 0x0e },
	{ 0x01, 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1 },
	{ 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1, 0x01 },
	{ 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e, 0xfe },
	{ 0xfe, 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e },
	{ 0x01, 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e },
	{ 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e, 0x01 },
	{ 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1, 0xfe },
	{ 0xfe, 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1 },
};

/* DES ignores the low bit of every byte (parity): compare without it. */
static bool
des_same(const unsigned char *a, const unsigned char *b)
{
	int i;

	for (i = 0; i < 8; i++) {
		if ((a[i] & 0xfe) != (b[i] & 0xfe))
			return false;
	}
	return true;
}

/* 0 for none, 1 for a weak key, 2 for a semi-weak one. */
static int
des_weakness(const unsigned char *k)
{
	size_t i;

	for (i = 0; i < 16; i++) {
		if (des_same(k, des_weak_keys[i]))
			return i < 4 ? 1 : 2;
	}
	return 0;
}

int
cfg_key_size(const char *algorithm)
{
	size_t i;

	for (i = 0; i < sizeof(key_sizes) / sizeof(key_sizes[0]); i++) {
		if (strcmp(key_sizes[i].algorithm, algorithm) == 0)
			return (int)key_sizes[i].bytes;
	}
	return -1;
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
cfg_key_bytes(const struct cfg_node *key, unsigned char *out, size_t outlen)
{
	const struct cfg_node *k;
	size_t len, i;
	int hi, lo;

	if ((k = cfg_child(key, "ascii-text")) != NULL) {
		len = strlen(k->value);
		if (len > outlen)
			return -1;
		memcpy(out, k->value, len);
		return (int)len;
	}
	if ((k = cfg_child(key, "hexadecimal")) == NULL)
		return -1;
	len = strlen(k->value);
	if (len % 2 != 0 || len / 2 > outlen)
		return -1;
	for (i = 0; i < len; i += 2) {
		hi = hex_nibble(k->value[i]);
		lo = hex_nibble(k->value[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

bool
cfg_check_hex(struct check_ctx *c, const struct cfg_node *hex)
{
	size_t i, len = strlen(hex->value);

	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)hex->value[i])) {
			cfg_diag_node(c->d, CFG_ERROR, hex,
			    "a hexadecimal key takes only the digits 0-9 and a-f");
			return false;
		}
	}
	if (len % 2 != 0) {
		cfg_diag_node(c->d, CFG_ERROR, hex,
		    "a hexadecimal key has an even number of digits (%zu is odd)", len);
		return false;
	}
	return true;
}

static void
check_des(struct check_ctx *c, const struct cfg_node *keynode, const unsigned char *k,
    const char *which)
{
	int weak = des_weakness(k);

	if (weak != 0)
		cfg_diag_node(c->d, CFG_ERROR, keynode,
		    "%s %s a DES %s key (RFC 2409 appendix A): encryption with it is trivially "
		    "undone, choose another", which, strcmp(which, "the key") == 0 ? "is" : "are",
		    weak == 1 ? "weak" : "semi-weak");
}

void
cfg_check_manual_key(struct check_ctx *c, const struct cfg_node *parent, const char *algorithm)
{
	const struct cfg_node *key = cfg_child(parent, "key"), *form;
	unsigned char bytes[256];
	int want, have;
	bool hex;

	if (key == NULL || (form = key->first) == NULL) {
		cfg_diag_node(c->d, CFG_ERROR, parent, "key is required");
		return;
	}
	hex = strcmp(form->schema->keyword, "hexadecimal") == 0;
	if (hex && !cfg_check_hex(c, form))
		return;
	want = cfg_key_size(algorithm);
	have = cfg_key_bytes(key, bytes, sizeof(bytes));
	if (want < 0 || have < 0)
		goto out;
	if (have != want) {
		cfg_diag_node(c->d, CFG_ERROR, form,
		    "%s takes a key of %d bytes: %d ASCII characters or %d hexadecimal digits "
		    "(this one is %d %s)", algorithm, want, want, 2 * want, hex ? 2 * have : have,
		    hex ? "digits" : "characters");
		goto out;
	}
	if (strcmp(algorithm, "des-cbc") == 0)
		check_des(c, form, bytes, "the key");
	if (strcmp(algorithm, "3des-cbc") == 0) {
		if (des_same(bytes, bytes + 8) || des_same(bytes + 8, bytes + 16)) {
			cfg_diag_node(c->d, CFG_ERROR, form,
			    "3des-cbc: the %s 8 bytes of the key equal the second, which makes it "
			    "single DES; RFC 2451 §2.3 says to reject such keys (the advice to make "
			    "the second and third equal is wrong for the same reason)",
			    des_same(bytes, bytes + 8) ? "first" : "third");
		} else {
			check_des(c, form, bytes, "the first 8 bytes of the key");
			check_des(c, form, bytes + 8, "the second 8 bytes of the key");
			check_des(c, form, bytes + 16, "the third 8 bytes of the key");
		}
	}
out:
	secure_wipe(bytes, sizeof(bytes));
}
