/* The tc divert program's tuple space (fwd_divert.c): many terms under a few mask pairs, and
 * changes applied in fwd_bpf.c's order to a model of the program's maps, checked at every
 * step: a term in both lists is diverted throughout, one going is not afterwards. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd_divert.h"

enum { VETH = 7, LOCAL = 0x010200c0 /* 192.0.2.1 */ };

/* The maps as the program sees them. */
struct model {
	struct tc_divert_conf conf;
	struct tc_divert_mask masks[TC_DIVERT_MASKS];
	struct tc_divert_key *keys;
	size_t nkeys;
};

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
	return a.s_addr;
}

static uint32_t
mask(unsigned len)
{
	return len == 0 ? 0 : htonl(~0u << (32 - len));
}

static struct tc_divert_rule
rule(const char *src, unsigned slen, const char *dst, unsigned dlen)
{
	return (struct tc_divert_rule){ .src = ip(src) & mask(slen), .src_mask = mask(slen),
		.dst = ip(dst) & mask(dlen), .dst_mask = mask(dlen), .ifindex = VETH,
		.local = LOCAL };
}

/* What tc_divert.bpf.c does with a packet: true when it goes into the veth. */
static bool
diverts(const struct model *m, const char *src, const char *dst)
{
	uint32_t s = ip(src), d = ip(dst), i;
	size_t k;

	if (m->conf.ifindex == 0 || s == m->conf.local)
		return false;
	for (i = 0; i < TC_DIVERT_MASKS && i < m->conf.nmasks; i++) {
		struct tc_divert_key want;

		if (!m->masks[i].used)
			continue;
		want = (struct tc_divert_key){ .src = s & m->masks[i].src_mask,
			.dst = d & m->masks[i].dst_mask, .slot = i };
		for (k = 0; k < m->nkeys; k++) {
			if (fwd_divert_key_cmp(&m->keys[k], &want) == 0)
				return true;
		}
	}
	return false;
}

static void
model_add(struct model *m, const struct tc_divert_key *k)
{
	m->keys = realloc(m->keys, (m->nkeys + 1) * sizeof(*m->keys));
	cr_assert_not_null(m->keys);
	m->keys[m->nkeys++] = *k;
}

static void
model_del(struct model *m, const struct tc_divert_key *k)
{
	size_t i;

	for (i = 0; i < m->nkeys; i++) {
		if (fwd_divert_key_cmp(&m->keys[i], k) == 0) {
			m->keys[i] = m->keys[--m->nkeys];
			return;
		}
	}
	cr_assert_fail("deleting a key the maps do not hold");
}

typedef void step_check(const struct model *m, const char *step);

static void
masks_write(struct model *m, const struct fwd_divert *held, const struct fwd_divert *next,
    bool adding)
{
	size_t i;

	for (i = 0; i < TC_DIVERT_MASKS; i++) {
		if (held->masks[i].used != next->masks[i].used &&
		    (bool)next->masks[i].used == adding)
			m->masks[i] = next->masks[i];
	}
}

/* fwd_tc_set_rules' order, with check after every map write. */
static size_t
apply(struct model *m, struct fwd_divert *held, const struct tc_divert_rule *rules, size_t n,
    step_check *check)
{
	struct fwd_divert_change c;
	size_t i, cut;

	cr_assert_eq(fwd_divert_plan(held, rules, n, &c), 0);
	masks_write(m, held, &c.next, true);
	check(m, "new masks");
	m->conf = (struct tc_divert_conf){ .ifindex = c.next.ifindex, .local = c.next.local,
		.nmasks = fwd_divert_nmasks(&c.next, held) };
	check(m, "conf with both");
	for (i = 0; i < c.nadd; i++) {
		model_add(m, &c.add[i]);
		check(m, "an add");
	}
	for (i = 0; i < c.ndel; i++) {
		model_del(m, &c.del[i]);
		check(m, "a delete");
	}
	masks_write(m, held, &c.next, false);
	check(m, "masks freed");
	m->conf.nmasks = fwd_divert_nmasks(&c.next, NULL);
	check(m, "conf with the new");
	fwd_divert_free(held);
	*held = c.next;
	cut = c.cut;
	fwd_divert_change_free(&c);
	cr_assert_eq(held->nkeys, m->nkeys, "the PIC's copy (%zu) is what the maps hold (%zu)",
	    held->nkeys, m->nkeys);
	return cut;
}

static void
no_check(const struct model *m, const char *step)
{
	(void)m;
	(void)step;
}

static char addr[32];

static const char *
host(unsigned net, unsigned i)
{
	snprintf(addr, sizeof(addr), "198.18.%u.%u", net, i);
	return addr;
}

Test(fwd_divert, a_thousand_terms_under_one_mask_pair_take_one_slot)
{
	static struct tc_divert_rule rules[1000];
	struct fwd_divert held = { 0 };
	struct model m = { 0 };
	char dst[32];
	unsigned i;

	for (i = 0; i < 1000; i++) {
		snprintf(dst, sizeof(dst), "198.19.%u.%u", i / 250, i % 250 + 1);
		rules[i] = rule("198.18.1.0", 24, dst, 32);
	}
	cr_assert_eq(apply(&m, &held, rules, 1000, no_check), 0, "nothing cut");
	cr_assert_eq(m.conf.nmasks, 1, "one mask pair, one slot: %u", m.conf.nmasks);
	cr_assert_eq(held.nkeys, 1000);
	cr_assert(diverts(&m, "198.18.1.5", "198.19.3.250"), "the last term's traffic");
	cr_assert(diverts(&m, "198.18.1.5", "198.19.0.1"), "the first term's");
	cr_assert_not(diverts(&m, "198.18.1.5", "198.19.4.1"), "no term's");
	cr_assert_not(diverts(&m, "198.18.2.5", "198.19.0.1"), "another source");
	cr_assert_not(diverts(&m, "192.0.2.1", "198.19.0.1"), "the local gateway's own");
	fwd_divert_free(&held);
	free(m.keys);
}

Test(fwd_divert, mixed_masks_and_repeats)
{
	struct tc_divert_rule rules[] = {
		rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 24, "198.18.2.0", 24), /* an output SA of the term above */
		rule("198.18.1.7", 32, "198.18.3.9", 32),
		rule("0.0.0.0", 0, "198.18.4.0", 22),
	};
	struct fwd_divert held = { 0 };
	struct model m = { 0 };
	struct fwd_divert_change c;

	cr_assert_eq(apply(&m, &held, rules, 4, no_check), 0);
	cr_assert_eq(held.nkeys, 3, "the repeat is kept once: %zu", held.nkeys);
	cr_assert_eq(m.conf.nmasks, 3);
	cr_assert(diverts(&m, "198.18.1.200", "198.18.2.1"));
	cr_assert(diverts(&m, "198.18.1.7", "198.18.3.9"));
	cr_assert_not(diverts(&m, "198.18.1.8", "198.18.3.9"));
	cr_assert(diverts(&m, "203.0.113.5", "198.18.7.255"), "any source, a /22");
	cr_assert_not(diverts(&m, "203.0.113.5", "198.18.8.0"));
	/* The same list again changes nothing. */
	cr_assert_eq(fwd_divert_plan(&held, rules, 4, &c), 0);
	cr_assert_eq(c.nadd + c.ndel, 0, "%zu adds, %zu deletes", c.nadd, c.ndel);
	fwd_divert_change_free(&c);
	fwd_divert_free(&c.next);
	fwd_divert_free(&held);
	free(m.keys);
}

/* The terms that stay are diverted at every step of a change; the ones that go are not
 * after it, the ones that come are. */
static void
stays_diverted(const struct model *m, const char *step)
{
	unsigned i;

	for (i = 50; i < 100; i++)
		cr_assert(diverts(m, "198.18.1.1", host(2, i)), "term %u after %s", i, step);
	cr_assert(diverts(m, "198.18.5.1", "198.18.6.1"), "the /16 term after %s", step);
}

Test(fwd_divert, a_change_never_lets_a_staying_terms_traffic_out)
{
	static struct tc_divert_rule a[101], b[101];
	struct fwd_divert held = { 0 };
	struct model m = { 0 };
	unsigned i;

	for (i = 0; i < 100; i++) {
		a[i] = rule("198.18.1.0", 24, host(2, i), 32);	     /* terms 0..99 */
		b[i] = rule("198.18.1.0", 24, host(2, i + 50), 32); /* terms 50..149 */
	}
	a[100] = rule("198.18.5.0", 24, "198.18.0.0", 16);
	b[100] = rule("198.18.5.0", 24, "198.18.0.0", 16);
	apply(&m, &held, a, 101, no_check);
	stays_diverted(&m, "the first list");
	apply(&m, &held, b, 101, stays_diverted);
	cr_assert_not(diverts(&m, "198.18.1.1", host(2, 10)), "a term that went");
	cr_assert(diverts(&m, "198.18.1.1", host(2, 149)), "a term that came");
	/* Everything goes: nothing is diverted. */
	apply(&m, &held, NULL, 0, no_check);
	cr_assert_eq(m.nkeys, 0);
	cr_assert_eq(m.conf.nmasks, 0);
	cr_assert_not(diverts(&m, "198.18.1.1", host(2, 60)));
	fwd_divert_free(&held);
	free(m.keys);
}

/* A mask pair that goes frees its slot only after its keys: a pair that comes in the same
 * change takes another one, and the next change may take the freed one. */
static const struct model *watched;

static void
no_stale_key_under_new_masks(const struct model *m, const char *step)
{
	size_t k;

	for (k = 0; k < m->nkeys; k++) {
		const struct tc_divert_mask *mk = &m->masks[m->keys[k].slot];

		cr_assert(mk->used, "a key in an unused slot after %s", step);
		cr_assert_eq(m->keys[k].src & mk->src_mask, m->keys[k].src,
		    "a key read under other masks after %s", step);
		cr_assert_eq(m->keys[k].dst & mk->dst_mask, m->keys[k].dst,
		    "a key read under other masks after %s", step);
	}
	watched = m;
}

Test(fwd_divert, a_freed_slot_is_taken_only_by_a_later_change)
{
	struct tc_divert_rule a[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 24, "198.18.3.9", 32) };
	struct tc_divert_rule b[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 28, "198.18.9.0", 28) };
	struct tc_divert_rule c[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 28, "198.18.9.0", 28), rule("0.0.0.0", 0, "203.0.113.0", 25) };
	struct fwd_divert held = { 0 };
	struct model m = { 0 };

	apply(&m, &held, a, 2, no_stale_key_under_new_masks);
	cr_assert(held.masks[1].used && held.masks[1].dst_mask == mask(32));
	apply(&m, &held, b, 2, no_stale_key_under_new_masks);
	cr_assert_not(held.masks[1].used, "the /32 slot is free");
	cr_assert(held.masks[2].used && held.masks[2].dst_mask == mask(28),
	    "the /28 pair did not take the slot being freed");
	apply(&m, &held, c, 3, no_stale_key_under_new_masks);
	cr_assert(held.masks[1].used && held.masks[1].dst_mask == mask(25),
	    "the next change takes it");
	cr_assert(diverts(&m, "198.51.100.1", "203.0.113.127"));
	cr_assert_not(diverts(&m, "198.51.100.1", "203.0.113.128"));
	cr_assert(diverts(&m, "198.18.1.15", "198.18.9.3"));
	cr_assert_not(diverts(&m, "198.18.1.16", "198.18.9.3"));
	cr_assert_not_null(watched);
	fwd_divert_free(&held);
	free(m.keys);
}

Test(fwd_divert, past_the_mask_slots_the_rest_is_cut_and_counted)
{
	struct tc_divert_rule rules[TC_DIVERT_MASKS + 3];
	struct fwd_divert held = { 0 };
	struct model m = { 0 };
	unsigned i;

	for (i = 0; i < TC_DIVERT_MASKS + 3; i++)
		rules[i] = rule("198.18.1.0", 24 + i / 33, "198.18.0.0", i % 33);
	cr_assert_eq(apply(&m, &held, rules, TC_DIVERT_MASKS + 3, no_check), 3);
	cr_assert_eq(m.conf.nmasks, TC_DIVERT_MASKS);
	cr_assert(diverts(&m, "198.18.1.1", "198.18.0.0"), "the first pairs are in");
	fwd_divert_free(&held);
	free(m.keys);
}

Test(fwd_divert, past_the_prefix_pairs_the_rest_is_cut_and_counted)
{
	size_t n = TC_DIVERT_PREFIXES + 10, i;
	struct tc_divert_rule *rules = calloc(n, sizeof(*rules));
	struct fwd_divert held = { 0 };
	struct fwd_divert_change c;

	cr_assert_not_null(rules);
	for (i = 0; i < n; i++) {
		rules[i] = rule("198.18.1.0", 24, "198.18.0.0", 32);
		rules[i].dst = htonl(0xc6120000u + (uint32_t)i); /* 198.18.0.0/15 */
	}
	cr_assert_eq(fwd_divert_plan(&held, rules, n, &c), 0);
	cr_assert_eq(c.cut, 10);
	cr_assert_eq(c.nadd, TC_DIVERT_PREFIXES);
	fwd_divert_change_free(&c);
	fwd_divert_free(&c.next);
	free(rules);
}

Test(fwd_divert, keys_not_added_are_forgotten)
{
	struct tc_divert_rule rules[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 24, "198.18.3.0", 24), rule("198.18.1.0", 24, "198.18.4.0", 24) };
	struct fwd_divert held = { 0 };
	struct fwd_divert_change c;

	cr_assert_eq(fwd_divert_plan(&held, rules, 3, &c), 0);
	cr_assert_eq(c.nadd, 3);
	fwd_divert_forget(&c.next, &c.add[1], 1);
	cr_assert_eq(c.next.nkeys, 2);
	cr_assert_eq(fwd_divert_key_cmp(&c.next.keys[0], &c.add[0]), 0);
	cr_assert_eq(fwd_divert_key_cmp(&c.next.keys[1], &c.add[2]), 0);
	fwd_divert_change_free(&c);
	held = c.next;
	/* The next plan adds the forgotten one again. */
	cr_assert_eq(fwd_divert_plan(&held, rules, 3, &c), 0);
	cr_assert_eq(c.nadd, 1);
	cr_assert_eq(c.ndel, 0);
	fwd_divert_change_free(&c);
	fwd_divert_free(&c.next);
	fwd_divert_free(&held);
}
