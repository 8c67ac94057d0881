/* The committed configuration as a typed ConfigSnapshot (proto/config.proto): what the
 * other services read instead of the configuration language. Built from a tree that passed
 * cfg_check; defaults are filled in, inactive statements left out, keys put in Secrets. */
#ifndef PICSEC_CFG_SNAPSHOT_H
#define PICSEC_CFG_SNAPSHOT_H

#include <stdint.h>

#include "config.pb-c.h"

struct cfg_node;
struct cfg_snapshot;

struct cfg_snapshot *cfg_snapshot_build(const struct cfg_node *root, uint64_t generation,
    const char *user, const char *comment, uint64_t committed_ns);
/* The message; valid until cfg_snapshot_free. */
const Picsec__V1__ConfigSnapshot *cfg_snapshot_msg(const struct cfg_snapshot *s);
/* Wipes (keys are inside) and frees. NULL is fine. */
void cfg_snapshot_free(struct cfg_snapshot *s);

#endif
