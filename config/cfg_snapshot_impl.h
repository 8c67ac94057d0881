/* Private to the snapshot builder (cfg_snapshot*.c). */
#ifndef PICSEC_CFG_SNAPSHOT_IMPL_H
#define PICSEC_CFG_SNAPSHOT_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg_check.h"
#include "cfg_snapshot.h"

struct snap_block;

struct cfg_snapshot {
	struct snap_block *blocks; /* everything the message points to */
	Picsec__V1__ConfigSnapshot *msg;
	bool failed;		   /* an allocation failed somewhere */
};

struct snap_enum {
	const char *name;
	int value;
};

/* Zeroed memory that lives as long as the snapshot. */
void *snap_alloc(struct cfg_snapshot *s, size_t size);
/* A message of this type, initialised (defaults in place). */
void *snap_new(struct cfg_snapshot *s, const ProtobufCMessageDescriptor *desc);
char *snap_str(struct cfg_snapshot *s, const char *v);
/* n messages of this type, initialised; NULL for n == 0 or no memory. */
void **snap_array(struct cfg_snapshot *s, size_t n, const ProtobufCMessageDescriptor *desc);
size_t snap_count(const struct cfg_node *parent, const char *keyword);
char **snap_names(struct cfg_snapshot *s, const struct cfg_node *parent, const char *keyword,
    size_t *count);
int snap_enum(const struct snap_enum *table, const char *name, int fallback);
unsigned snap_uint(const struct cfg_node *n, const char *keyword, unsigned def);
Picsec__V1__IpAddress *snap_address(struct cfg_snapshot *s, const char *v);
Picsec__V1__IpPrefix *snap_prefix(struct cfg_snapshot *s, const char *v);
Picsec__V1__Secret *snap_key(struct cfg_snapshot *s, const struct cfg_node *key);
/* The DF-bit choice configured directly under n. */
int snap_df(const struct cfg_node *n);

/* cfg_snapshot_vpn.c */
void snap_rules(struct cfg_snapshot *s, Picsec__V1__IpsecVpn *v, const struct cfg_node *vpn);
void snap_proposals(struct cfg_snapshot *s, Picsec__V1__IpsecVpn *v,
    const struct cfg_node *vpn);
Picsec__V1__ManualSa *snap_manual(struct cfg_snapshot *s, const struct cfg_node *manual);

#endif
