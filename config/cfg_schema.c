/* Walking the schema, and checking values against it. */
#include "cfg_schema.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_secret.h"

const struct cfg_schema *
cfg_schema_child(const struct cfg_schema *node, const char *keyword)
{
	const struct cfg_schema *c;

	if (node == NULL || node->children == NULL)
		return NULL;
	for (c = node->children; c->keyword != NULL; c++) {
		if ((c->flags & CFG_F_KEYLESS) == 0 && strcmp(c->keyword, keyword) == 0)
			return c;
	}
	return NULL;
}

size_t
cfg_schema_complete(const struct cfg_schema *node, const char *prefix,
    const struct cfg_schema **out, size_t max)
{
	const struct cfg_schema *c;
	size_t n = 0, len = strlen(prefix);

	if (node == NULL || node->children == NULL)
		return 0;
	for (c = node->children; c->keyword != NULL; c++) {
		if ((c->flags & CFG_F_KEYLESS) != 0 || strncmp(c->keyword, prefix, len) != 0)
			continue;
		if (n < max)
			out[n] = c;
		n++;
	}
	return n;
}

const struct cfg_schema *
cfg_schema_resolve(const struct cfg_schema *node, const char *word, bool *ambiguous)
{
	const struct cfg_schema *found[2];
	const struct cfg_schema *exact = cfg_schema_child(node, word);

	*ambiguous = false;
	if (exact != NULL)
		return exact;
	switch (cfg_schema_complete(node, word, found, 2)) {
	case 0:
		return NULL;
	case 1:
		return found[0];
	default:
		*ambiguous = true;
		return NULL;
	}
}

bool
cfg_schema_holds_secret(const struct cfg_schema *node)
{
	const struct cfg_schema *c;

	if (node->flags & CFG_F_SECRET)
		return true;
	for (c = node->children; c != NULL && c->keyword != NULL; c++) {
		if (c->flags & CFG_F_SECRET)
			return true;
	}
	return false;
}

bool
cfg_schema_has_value(const struct cfg_schema *node)
{
	return node->kind == CFG_LEAF || node->kind == CFG_LEAFLIST || node->kind == CFG_LIST;
}

void
cfg_schema_value_hint(const struct cfg_schema *node, char *out, size_t outlen)
{
	size_t n;
	int i;

	switch (node->type) {
	case CFG_T_UINT:
		snprintf(out, outlen, "<%u..%u>", node->min, node->max);
		break;
	case CFG_T_ENUM:
		n = (size_t)snprintf(out, outlen, "(");
		for (i = 0; node->enums[i] != NULL && n < outlen; i++)
			n += (size_t)snprintf(out + n, outlen - n, "%s%s", i > 0 ? " | " : "",
			    node->enums[i]);
		if (n < outlen)
			snprintf(out + n, outlen - n, ")");
		break;
	case CFG_T_IPV4:
		snprintf(out, outlen, "<IPv4 address>");
		break;
	case CFG_T_IPV6:
		snprintf(out, outlen, "<IPv6 address>");
		break;
	case CFG_T_IPADDR:
		snprintf(out, outlen, "<IP address>");
		break;
	case CFG_T_PREFIX:
		snprintf(out, outlen, "<IP prefix>");
		break;
	case CFG_T_IFNAME:
		snprintf(out, outlen, "<interface>");
		break;
	case CFG_T_SECRET:
		snprintf(out, outlen, "<key>");
		break;
	case CFG_T_AREA:
		snprintf(out, outlen, "<area-id>");
		break;
	case CFG_T_SIZE:
		snprintf(out, outlen, "<size>");
		break;
	case CFG_T_STRING:
		snprintf(out, outlen, "<text>");
		break;
	default:
		snprintf(out, outlen, "<name>");
		break;
	}
}

static int
check_length(const char *what, size_t len, const struct cfg_schema *node, char *err,
    size_t errlen)
{
	if (node->max > 0 && (len < node->min || len > node->max)) {
		snprintf(err, errlen, "%s must be %u..%u characters long (is %zu)", what, node->min,
		    node->max, len);
		return -1;
	}
	return 0;
}

static int
check_name(const char *v, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)v;

	if (!isalnum(p[0]) && p[0] != '_') {
		snprintf(err, errlen, "'%s': a name starts with a letter, digit or '_'", v);
		return -1;
	}
	for (; *p != '\0'; p++) {
		if (!isalnum(*p) && strchr("-_.:/@+", *p) == NULL) {
			snprintf(err, errlen, "'%s': '%c' is not allowed in a name", v, *p);
			return -1;
		}
	}
	return 0;
}

static int
check_uint(const struct cfg_schema *node, const char *v, char *out, size_t outlen, char *err,
    size_t errlen)
{
	unsigned long long x;
	char *end;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno != 0 ||
	    (v[0] == '0' && v[1] != '\0')) {
		snprintf(err, errlen, "'%s' is not a number", v);
		return -1;
	}
	if (x < node->min || x > node->max) {
		snprintf(err, errlen, "value %s is outside the range %u..%u", v, node->min,
		    node->max);
		return -1;
	}
	snprintf(out, outlen, "%llu", x);
	return 0;
}

static int
check_addr(int family, const char *v, char *out, size_t outlen)
{
	unsigned char buf[16];

	if (inet_pton(family, v, buf) != 1)
		return -1;
	return inet_ntop(family, buf, out, (socklen_t)outlen) != NULL ? 0 : -1;
}

static int
check_ipaddr(enum cfg_type type, const char *v, char *out, size_t outlen, char *err,
    size_t errlen)
{
	if ((type != CFG_T_IPV6 && check_addr(AF_INET, v, out, outlen) == 0) ||
	    (type != CFG_T_IPV4 && check_addr(AF_INET6, v, out, outlen) == 0))
		return 0;
	snprintf(err, errlen, "'%s' is not an %s address", v,
	    type == CFG_T_IPV4 ? "IPv4" : type == CFG_T_IPV6 ? "IPv6" : "IP");
	return -1;
}

static int
check_prefix(const char *v, char *out, size_t outlen, char *err, size_t errlen)
{
	char addr[64], canon[INET6_ADDRSTRLEN];
	const char *slash = strchr(v, '/');
	unsigned long len;
	int family, max;
	char *end;

	if (slash == NULL || (size_t)(slash - v) >= sizeof(addr))
		snprintf(addr, sizeof(addr), "%s", v);
	else
		snprintf(addr, sizeof(addr), "%.*s", (int)(slash - v), v);
	if (check_addr(AF_INET, addr, canon, sizeof(canon)) == 0)
		family = AF_INET;
	else if (check_addr(AF_INET6, addr, canon, sizeof(canon)) == 0)
		family = AF_INET6;
	else {
		snprintf(err, errlen, "'%s' is not an IP prefix", v);
		return -1;
	}
	max = family == AF_INET ? 32 : 128;
	len = (unsigned long)max;
	if (slash != NULL) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end != '\0' || errno != 0 ||
		    len > (unsigned long)max) {
			snprintf(err, errlen, "'%s': the prefix length must be 0..%d", v, max);
			return -1;
		}
	}
	snprintf(out, outlen, "%s/%lu", canon, len);
	return 0;
}

static int
check_ifname(const char *v, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)v;

	if (!isalpha(p[0])) {
		snprintf(err, errlen, "'%s' is not an interface name", v);
		return -1;
	}
	for (; *p != '\0'; p++) {
		/* A ':' separates a channel (xe-0/0/0:1); at the end it would read back as a
		 * mark such as replace: (interface names stand alone at the start of a line). */
		if ((!isalnum(*p) && strchr("-_/:.", *p) == NULL) || (*p == ':' && p[1] == '\0')) {
			snprintf(err, errlen, "'%s' is not an interface name", v);
			return -1;
		}
	}
	return 0;
}

static int
check_area(const char *v, char *out, size_t outlen, char *err, size_t errlen)
{
	struct in_addr a;
	unsigned long x;
	char *end;

	if (inet_pton(AF_INET, v, &a) == 1) {
		inet_ntop(AF_INET, &a, out, (socklen_t)outlen);
		return 0;
	}
	errno = 0;
	x = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno != 0 || x > 0xffffffffUL) {
		snprintf(err, errlen, "'%s' is not an area id (a.b.c.d or a number)", v);
		return -1;
	}
	snprintf(out, outlen, "%lu.%lu.%lu.%lu", x >> 24, (x >> 16) & 0xff, (x >> 8) & 0xff,
	    x & 0xff);
	return 0;
}

static int
check_size(const struct cfg_schema *node, const char *v, char *out, size_t outlen, char *err,
    size_t errlen)
{
	unsigned long long x, mult = 1;
	char *end;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (*end == 'k' || *end == 'K')
		mult = 1024;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024;
	else if (*end == 'g' || *end == 'G')
		mult = 1024 * 1024 * 1024;
	if (!isdigit((unsigned char)v[0]) || errno != 0 || (mult > 1 ? end[1] : end[0]) != '\0') {
		snprintf(err, errlen, "'%s' is not a size (a number, then k, m or g)", v);
		return -1;
	}
	if (x * mult < node->min || x * mult > node->max || x > node->max) {
		snprintf(err, errlen, "size %s is outside the range 10k..1g", v);
		return -1;
	}
	/* Canonical: no leading zeros, the unit as a lower-case letter. */
	snprintf(out, outlen, "%llu%s", x, mult == 1 ? "" : mult == 1024 ? "k" :
	    mult == 1024 * 1024 ? "m" : "g");
	return 0;
}

int
cfg_value_check(const struct cfg_schema *node, const char *value, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char plain[512];
	int i, n;

	switch (node->type) {
	case CFG_T_NONE:
		snprintf(err, errlen, "'%s' takes no value", node->keyword);
		return -1;
	case CFG_T_NAME:
		if (check_length("a name", strlen(value), node, err, errlen) == -1 ||
		    check_name(value, err, errlen) == -1)
			return -1;
		break;
	case CFG_T_STRING:
		if (check_length("the text", strlen(value), node, err, errlen) == -1)
			return -1;
		for (i = 0; value[i] != '\0'; i++) {
			if ((unsigned char)value[i] < ' ' || value[i] == '"' || value[i] == '\\') {
				snprintf(err, errlen, "control characters, '\"' and '\\' are not "
				    "allowed in text");
				return -1;
			}
		}
		break;
	case CFG_T_UINT:
		return check_uint(node, value, out, outlen, err, errlen);
	case CFG_T_ENUM:
		for (i = 0; node->enums[i] != NULL; i++) {
			if (strcmp(node->enums[i], value) == 0)
				break;
		}
		if (node->enums[i] == NULL) {
			char hint[512];

			cfg_schema_value_hint(node, hint, sizeof(hint));
			snprintf(err, errlen, "'%s' is not one of %s", value, hint);
			return -1;
		}
		break;
	case CFG_T_IPV4:
	case CFG_T_IPV6:
	case CFG_T_IPADDR:
		return check_ipaddr(node->type, value, out, outlen, err, errlen);
	case CFG_T_PREFIX:
		return check_prefix(value, out, outlen, err, errlen);
	case CFG_T_IFNAME:
		if (check_length("an interface name", strlen(value), node, err, errlen) == -1 ||
		    check_ifname(value, err, errlen) == -1)
			return -1;
		break;
	case CFG_T_SECRET:
		/* The value kept is the plaintext; the caller keeps the $9$ form to show. */
		if (cfg_secret_is_encoded(value)) {
			/* The message does not repeat the text: it is key material either way. */
			n = cfg_secret_decode(value, plain, sizeof(plain));
			if (n < 0 || (size_t)n + 1 > outlen || memchr(plain, '\0', (size_t)n)) {
				snprintf(err, errlen, "not a valid $9$ secret");
				n = -1;
			} else if (check_length("the key", (size_t)n, node, err, errlen) == -1) {
				n = -1;
			} else {
				memcpy(out, plain, (size_t)n + 1);
			}
			explicit_bzero(plain, sizeof(plain));
			return n < 0 ? -1 : 0;
		}
		if (check_length("the key", strlen(value), node, err, errlen) == -1)
			return -1;
		break;
	case CFG_T_AREA:
		return check_area(value, out, outlen, err, errlen);
	case CFG_T_SIZE:
		return check_size(node, value, out, outlen, err, errlen);
	}
	if (strlen(value) + 1 > outlen) {
		snprintf(err, errlen, "value too long");
		return -1;
	}
	memcpy(out, value, strlen(value) + 1);
	return 0;
}
