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

/* Whether each of keys (sorted) is held already, in turn: a walk along both lists. */
struct held_walk {
	const struct fwd_divert *cur;
	size_t j;
};

static bool
divert_held(struct held_walk *w, const struct tc_divert_key *k)
{
	while (w->j < w->cur->nkeys && fwd_divert_key_cmp(&w->cur->keys[w->j], k) < 0)
		w->j++;
	return w->j < w->cur->nkeys && fwd_divert_key_cmp(&w->cur->keys[w->j], k) == 0;
}

/* Too many keys: the ones held stay (a new one must not push a staying term's out), new
 * ones fill what is left. The count kept. */
static size_t
divert_cut(struct tc_divert_key *keys, size_t n, const struct fwd_divert *cur)
{
	struct held_walk w = { .cur = cur };
	size_t i, kept = 0, held = 0, room;

	for (i = 0; i < n; i++)
		held += divert_held(&w, &keys[i]);
	room = TC_DIVERT_PREFIXES - (held < TC_DIVERT_PREFIXES ? held : TC_DIVERT_PREFIXES);
	w.j = 0;
	for (i = 0; i < n && kept < TC_DIVERT_PREFIXES; i++) {
		if (divert_held(&w, &keys[i]))
			keys[kept++] = keys[i];
		else if (room > 0)
			keys[kept++] = keys[i], room--;
	}
	return kept;
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
		distinct = divert_cut(keys, distinct, cur);
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

/* Takes keys (sorted as d's) out of d: adds that failed. */
static void
divert_forget(struct fwd_divert *d, const struct tc_divert_key *keys, size_t n)
{
	d->nkeys = divert_minus(d->keys, d->nkeys, keys, n, d->keys);
}

/* Puts keys (sorted) back into d with their slots as held has them: deletes that failed,
 * so that the next change deletes them again and no new pair takes their slot. */
static int
divert_keep(struct fwd_divert *d, const struct fwd_divert *held,
    const struct tc_divert_key *keys, size_t n)
{
	struct tc_divert_key *merged;
	size_t i = 0, j = 0, m = 0;

	if (n == 0)
		return 0;
	if ((merged = calloc(d->nkeys + n, sizeof(*merged))) == NULL)
		return -ENOMEM;
	while (i < d->nkeys || j < n) {
		if (j == n || (i < d->nkeys && fwd_divert_key_cmp(&d->keys[i], &keys[j]) < 0))
			merged[m++] = d->keys[i++];
		else
			merged[m++] = keys[j++];
	}
	for (j = 0; j < n; j++) {
		if (!d->masks[keys[j].slot].used)
			d->masks[keys[j].slot] = held->masks[keys[j].slot];
	}
	free(d->keys);
	d->keys = merged;
	d->nkeys = m;
	return 0;
}

/* The slots next uses and held does not (adding), or held uses and next does not. */
static int
divert_masks(const struct fwd_divert_ops *ops, void *ctx, const struct fwd_divert *held,
    const struct fwd_divert *next, bool adding)
{
	uint32_t i;
	int rc;

	for (i = 0; i < TC_DIVERT_MASKS; i++) {
		if (held->masks[i].used == next->masks[i].used ||
		    (bool)next->masks[i].used != adding)
			continue;
		if ((rc = ops->mask(ctx, i, &next->masks[i])) != 0)
			return rc;
	}
	return 0;
}

static int
divert_conf(const struct fwd_divert_ops *ops, void *ctx, const struct fwd_divert *a,
    const struct fwd_divert *b)
{
	struct tc_divert_conf conf = { .ifindex = a->ifindex, .local = a->local,
		.nmasks = fwd_divert_nmasks(a, b) };

	return ops->conf(ctx, &conf);
}

static bool
divert_frees_a_slot(const struct fwd_divert *held, const struct fwd_divert *next)
{
	for (size_t i = 0; i < TC_DIVERT_MASKS; i++) {
		if (held->masks[i].used && !next->masks[i].used)
			return true;
	}
	return false;
}

static int
divert_apply_once(struct fwd_divert *held, const struct tc_divert_rule *rules, size_t n,
    const struct fwd_divert_ops *ops, void *ctx, size_t *cut, bool *freed)
{
	struct fwd_divert_change c;
	struct tc_divert_key *failed_add = NULL, *failed_del = NULL;
	size_t nfa = 0, nfd = 0, i, k;
	int rc, err = 0;

	if ((rc = fwd_divert_plan(held, rules, n, &c)) != 0)
		return rc;
	failed_add = calloc(c.nadd + 1, sizeof(*failed_add));
	failed_del = calloc(c.ndel + 1, sizeof(*failed_del));
	if (failed_add == NULL || failed_del == NULL)
		rc = -ENOMEM;
	/* New slots and keys first: a term in both lists is diverted throughout. */
	if (rc != 0 || (rc = divert_masks(ops, ctx, held, &c.next, true)) != 0 ||
	    (rc = divert_conf(ops, ctx, &c.next, held)) != 0) {
		fwd_divert_free(&c.next);
		goto out;
	}
	for (i = 0; i < c.nadd; i++) {
		if (ops->add(ctx, &c.add[i]) != 0)
			failed_add[nfa++] = c.add[i];
	}
	for (i = 0; i < c.ndel; i++) {
		if ((rc = ops->del(ctx, &c.del[i])) != 0 && rc != -ENOENT) {
			failed_del[nfd++] = c.del[i];
			err = rc;
		}
	}
	/* Adds refused for room (the old and the new list together past it) get the room the
	 * deletes made. */
	for (i = 0, k = 0; i < nfa; i++) {
		if ((rc = ops->add(ctx, &failed_add[i])) != 0) {
			failed_add[k++] = failed_add[i];
			err = rc;
		}
	}
	nfa = k;
	divert_forget(&c.next, failed_add, nfa);
	if ((rc = divert_keep(&c.next, held, failed_del, nfd)) == 0 &&
	    (rc = divert_masks(ops, ctx, held, &c.next, false)) == 0)
		rc = divert_conf(ops, ctx, &c.next, NULL);
	*cut = c.cut;
	*freed = divert_frees_a_slot(held, &c.next);
	fwd_divert_free(held);
	*held = c.next;
out:
	free(failed_add);
	free(failed_del);
	fwd_divert_change_free(&c);
	return rc != 0 ? rc : err;
}

int
fwd_divert_apply(struct fwd_divert *held, const struct tc_divert_rule *rules, size_t n,
    const struct fwd_divert_ops *ops, void *ctx)
{
	size_t cut = 0;
	bool freed = false;
	int rc;

	rc = divert_apply_once(held, rules, n, ops, ctx, &cut, &freed);
	/* A new pair finds no slot while an old one is still being freed: now it may. */
	if (rc == 0 && cut > 0 && freed)
		rc = divert_apply_once(held, rules, n, ops, ctx, &cut, &freed);
	return rc != 0 ? rc : cut > 0 ? -E2BIG : 0;
}
