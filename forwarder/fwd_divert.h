/* What an interface-style service set's tc divert program holds (bpf/tc_divert.h): mask
 * pairs in slots and the prefix pairs under them, and the change that takes it from one
 * rule list to the next without a moment in which a term's traffic leaves in clear. */
#ifndef PICSEC_FWD_DIVERT_H
#define PICSEC_FWD_DIVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/tc_divert.h"

struct fwd_divert {
	struct tc_divert_mask masks[TC_DIVERT_MASKS];
	struct tc_divert_key *keys; /* sorted (slot, src, dst), distinct */
	size_t nkeys;
	uint32_t ifindex, local;
};

struct fwd_divert_change {
	struct fwd_divert next;
	struct tc_divert_key *add, *del;
	size_t nadd, ndel;
	size_t cut; /* rules left out: more mask pairs or prefix pairs than the maps hold */
};

/* The map writes, each 0 or -errno (del: -ENOENT counts as done). bpf: fwd_divert_maps.c;
 * the unit tests: a model of the maps. */
struct fwd_divert_ops {
	int (*mask)(void *ctx, uint32_t slot, const struct tc_divert_mask *m);
	int (*conf)(void *ctx, const struct tc_divert_conf *c);
	int (*add)(void *ctx, const struct tc_divert_key *k);
	int (*del)(void *ctx, const struct tc_divert_key *k);
};

/* Takes the maps from held to rules, held becoming what they hold: the new slots' masks,
 * the conf with the slots of both lists, the adds, the deletes, again the adds refused
 * for room, the freed slots, the conf with the new slots. A term in both lists is diverted
 * throughout; one going may be until its delete. A rule that needed a slot this change
 * frees is planned once more after it. 0, -E2BIG when some rules did not fit (the rest are
 * in), or -errno (what could not be written is not in held: the next change tries it). */
int fwd_divert_apply(struct fwd_divert *held, const struct tc_divert_rule *rules, size_t n,
    const struct fwd_divert_ops *ops, void *ctx);

/* The plan alone. 0, or -ENOMEM (nothing changed). Past the maps' room, the keys held
 * already stay and new ones are cut. */
int fwd_divert_plan(const struct fwd_divert *cur, const struct tc_divert_rule *rules,
    size_t n, struct fwd_divert_change *c);
/* Slots [0, the result) cover every slot in use in a and, when b is not NULL, in b. */
uint32_t fwd_divert_nmasks(const struct fwd_divert *a, const struct fwd_divert *b);
/* Frees the change's lists; its next state is the caller's (fwd_divert_free). */
void fwd_divert_change_free(struct fwd_divert_change *c);
void fwd_divert_free(struct fwd_divert *d);
int fwd_divert_key_cmp(const struct tc_divert_key *a, const struct tc_divert_key *b);

#endif
