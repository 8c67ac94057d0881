/* The one schema table of the Junos configuration picsec understands. Every statement is a
 * node: its keyword, what follows the keyword, the type and range of its value, its default
 * and a line of help. The parser, the set/delete commands, the commit checks, the display,
 * tab completion and `?` help all walk this table. */
#ifndef PICSEC_CFG_SCHEMA_H
#define PICSEC_CFG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cfg_kind {
	CFG_CONTAINER, /* keyword { ... } */
	CFG_PRESENCE,  /* keyword;  or  keyword { ... }: it means something by itself */
	CFG_LIST,      /* keyword NAME { ... }  or  keyword NAME; entries keyed by NAME */
	CFG_LEAF,      /* keyword VALUE; */
	CFG_FLAG,      /* keyword; */
	CFG_LEAFLIST,  /* keyword VALUE;  or  keyword [ V1 V2 ... ]; values accumulate */
};

enum cfg_type {
	CFG_T_NONE,    /* containers, flags */
	CFG_T_NAME,    /* an identifier, min..max characters */
	CFG_T_STRING,  /* free text (description), min..max characters */
	CFG_T_UINT,    /* min..max */
	CFG_T_ENUM,    /* one of enums[] */
	CFG_T_IPV4,
	CFG_T_IPV6,
	CFG_T_IPADDR,  /* IPv4 or IPv6 */
	CFG_T_PREFIX,  /* IPv4 or IPv6 prefix; an address alone is a host prefix */
	CFG_T_IFNAME,  /* an interface, logical (ge-0/0/0.0, ms-0/0/0.1) or physical */
	CFG_T_SECRET,  /* key material: plaintext or $9$-encoded on input, $9$ on output */
	CFG_T_AREA,    /* OSPF area: dotted quad or a number */
	CFG_T_SIZE,    /* a size with an optional k/m/g suffix (trace files) */
};

/* Room for any canonical value: no statement takes more than 1024 characters, and an
 * address in canonical form is shorter than 64. */
enum { CFG_VALUE_MAX = 1100 };

/* Node flags. */
enum {
	CFG_F_ORDERED = 1 << 0,	 /* list entries keep the order the user gave (rules, terms) */
	CFG_F_INLINE = 1 << 1,	 /* children are written on the statement's own line */
	CFG_F_SECRET = 1 << 2,	 /* its value is key material */
	CFG_F_REPLACE = 1 << 3,	 /* choice: setting one member removes the others */
	CFG_F_KEYLESS = 1 << 4,	 /* a list whose entries are written by name alone
				    (interfaces ge-0/0/0 { ... }) */
};

struct cfg_schema {
	const char *keyword;
	enum cfg_kind kind;
	enum cfg_type type;	    /* of the value (LEAF, LEAFLIST) or the key (LIST) */
	uint32_t min, max;	    /* UINT range, or NAME/STRING/SECRET length */
	const char *const *enums;   /* ENUM values, NULL-terminated */
	const char *def;	    /* default, shown by help; NULL when none */
	const char *choice;	    /* members of one choice share this name */
	unsigned flags;
	const char *help;
	const struct cfg_schema *children; /* terminated by an entry with keyword NULL */
};

/* The root of the configuration: services, interfaces, protocols, security. */
extern const struct cfg_schema cfg_schema_root;

/* The child of node with this keyword, or NULL. Exact match only. */
const struct cfg_schema *cfg_schema_child(const struct cfg_schema *node, const char *keyword);
/* Completion: the children whose keyword starts with prefix. Fills out (up to max) and
 * returns how many match in all. */
size_t cfg_schema_complete(const struct cfg_schema *node, const char *prefix,
    const struct cfg_schema **out, size_t max);
/* Resolves a possibly abbreviated keyword the way Junos does: an exact match, else the one
 * child it is a unique prefix of. NULL when none or ambiguous (*ambiguous set). */
const struct cfg_schema *cfg_schema_resolve(const struct cfg_schema *node, const char *word,
    bool *ambiguous);

/* Whether this node takes a value (LEAF, LEAFLIST) or a name (LIST) after its keyword. */
bool cfg_schema_has_value(const struct cfg_schema *node);
/* Whether words at this node may be key material: it is a secret, or one of its children is
 * (pre-shared-key, key). Messages do not repeat such words. */
bool cfg_schema_holds_secret(const struct cfg_schema *node);
/* "<256..16639>", "(inbound | outbound | bidirectional)", "<name>" and so on, for help. */
void cfg_schema_value_hint(const struct cfg_schema *node, char *out, size_t outlen);

/* Checks (and normalises) a value of node's type. Returns 0, or -1 with a message like
 * "value 17000 is outside the range 256..16639" in err. out (outlen bytes) receives the
 * canonical text of the value, which may differ from the input ($9$ decoded, an IPv6
 * address compressed, an area as a dotted quad). */
int cfg_value_check(const struct cfg_schema *node, const char *value, char *out,
    size_t outlen, char *err, size_t errlen);

#endif
