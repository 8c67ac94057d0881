/* The tc divert program's tuple space, planned in memory (no BPF here: the unit tests
 * drive it). A mask pair keeps its slot for as long as a rule uses it; a new pair takes a
 * slot that neither the old nor the new list uses, so a key of the old list is never read
 * under the new pair's masks. */
#include "fwd_divert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
fwd_divert_key_cmp(const struct tc_divert_key *a, const struct tc_divert_key *b)
{
	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	if (a->dst != b->dst)
		return a->dst < b->dst ? -1 : 1;
	return 0;
}

static int
key_qsort_cmp(const void *a, const void *b)
{
	return fwd_divert_key_cmp(a, b);
}

/* The slot of the rule's mask pair in next, given one if free; -1 when all are taken. */
static int
divert_slot(const struct fwd_divert *cur, struct fwd_divert *next, uint32_t src_mask,
    uint32_t dst_mask)
{
	int i, free_slot = -1;

	for (i = 0; i < TC_DIVERT_MASKS; i++) {
		const struct tc_divert_mask *m = &cur->masks[i];

		if (m->used && m->src_mask == src_mask && m->dst_mask == dst_mask) {
			next->masks[i] = *m;
			return i;
		}
	}
	for (i = 0; i < TC_DIVERT_MASKS; i++) {
		const struct tc_divert_mask *m = &next->masks[i];

		if (m->used && m->src_mask == src_mask && m->dst_mask == dst_mask)
			return i;
		if (free_slot == -1 && !m->used && !cur->masks[i].used)
			free_slot = i;
	}
	if (free_slot != -1) {
		next->masks[free_slot] = (struct tc_divert_mask){ .src_mask = src_mask,
			.dst_mask = dst_mask, .used = 1 };
	}
	return free_slot;
}

/* The keys of a and not of b (both sorted) into out; how many. */
static size_t
divert_minus(const struct tc_divert_key *a, size_t na, const struct tc_divert_key *b,
    size_t nb, struct tc_divert_key *out)
{
	size_t i = 0, j = 0, n = 0;
	int c;

	while (i < na) {
		c = j < nb ? fwd_divert_key_cmp(&a[i], &b[j]) : -1;
		if (c < 0)
			out[n++] = a[i++];
		else if (c > 0)
			j++;
		else
			i++, j++;
	}
	return n;
}

int
fwd_divert_plan(const struct fwd_divert *cur, const struct tc_divert_rule *rules, size_t n,
    struct fwd_divert_change *c)
{
	struct tc_divert_key *keys;
	size_t i, nkeys = 0, distinct = 0;
	int slot;

	memset(c, 0, sizeof(*c));
	c->next.ifindex = n > 0 ? rules[0].ifindex : cur->ifindex;
	c->next.local = n > 0 ? rules[0].local : cur->local;
	if ((keys = calloc(n + 1, sizeof(*keys))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if ((slot = divert_slot(cur, &c->next, rules[i].src_mask,
		    rules[i].dst_mask)) == -1) {
			c->cut++;
			continue;
		}
		keys[nkeys++] = (struct tc_divert_key){ .src = rules[i].src & rules[i].src_mask,
			.dst = rules[i].dst & rules[i].dst_mask, .slot = (uint32_t)slot };
	}
	qsort(keys, nkeys, sizeof(*keys), key_qsort_cmp);
	for (i = 0; i < nkeys; i++) {
		if (distinct == 0 || fwd_divert_key_cmp(&keys[distinct - 1], &keys[i]) != 0)
			keys[distinct++] = keys[i];
	}
	if (distinct > TC_DIVERT_PREFIXES) {
		c->cut += distinct - TC_DIVERT_PREFIXES;
		distinct = TC_DIVERT_PREFIXES;
	}
	c->next.keys = keys;
	c->next.nkeys = distinct;
	c->add = calloc(distinct + 1, sizeof(*c->add));
	c->del = calloc(cur->nkeys + 1, sizeof(*c->del));
	if (c->add == NULL || c->del == NULL) {
		fwd_divert_change_free(c);
		fwd_divert_free(&c->next);
		return -ENOMEM;
	}
	c->nadd = divert_minus(keys, distinct, cur->keys, cur->nkeys, c->add);
	c->ndel = divert_minus(cur->keys, cur->nkeys, keys, distinct, c->del);
	return 0;
}

uint32_t
fwd_divert_nmasks(const struct fwd_divert *a, const struct fwd_divert *b)
{
	uint32_t i, n = 0;

	for (i = 0; i < TC_DIVERT_MASKS; i++) {
		if (a->masks[i].used || (b != NULL && b->masks[i].used))
			n = i + 1;
	}
	return n;
}

void
fwd_divert_forget(struct fwd_divert *d, const struct tc_divert_key *keys, size_t n)
{
	d->nkeys = divert_minus(d->keys, d->nkeys, keys, n, d->keys);
}

void
fwd_divert_change_free(struct fwd_divert_change *c)
{
	free(c->add);
	free(c->del);
	c->add = c->del = NULL;
	c->nadd = c->ndel = 0;
}

void
fwd_divert_free(struct fwd_divert *d)
{
	free(d->keys);
	d->keys = NULL;
	d->nkeys = 0;
}
