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

/* In this order: the new slots' masks, the conf with every slot of both in use, adds,
 * deletes, the freed slots, the conf with only the new ones (fwd_bpf.c). Meanwhile a
 * packet of a term in both lists is always diverted; one of a term going may still be. */
struct fwd_divert_change {
	struct fwd_divert next;
	struct tc_divert_key *add, *del;
	size_t nadd, ndel;
	size_t cut; /* rules left out: more mask pairs or prefix pairs than the maps hold */
};

/* 0, or -ENOMEM (nothing changed). */
int fwd_divert_plan(const struct fwd_divert *cur, const struct tc_divert_rule *rules,
    size_t n, struct fwd_divert_change *c);
/* Slots [0, the result) cover every slot in use in a and, when b is not NULL, in b. */
uint32_t fwd_divert_nmasks(const struct fwd_divert *a, const struct fwd_divert *b);
/* Takes keys (sorted as d's) out of d: what could not be added after all. */
void fwd_divert_forget(struct fwd_divert *d, const struct tc_divert_key *keys, size_t n);
/* Frees the change's lists; its next state is the caller's (fwd_divert_free). */
void fwd_divert_change_free(struct fwd_divert_change *c);
void fwd_divert_free(struct fwd_divert *d);
int fwd_divert_key_cmp(const struct tc_divert_key *a, const struct tc_divert_key *b);

#endif
