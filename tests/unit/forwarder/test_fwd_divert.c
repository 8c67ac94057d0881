/* The tc divert program's tuple space (fwd_divert.c): many terms under a few mask pairs, and
 * fwd_divert_apply's writes made on a model of the program's maps, checked after every
 * one: a term in both lists is diverted throughout, a key is only ever read under the
 * masks it was written for, one going is not diverted afterwards; and the maps' limits and
 * write failures. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd_divert.h"

enum { VETH = 7 };

struct model_s;
typedef void step_check(const struct model_s *m);

/* The maps as the program sees them; each key with the masks of its slot when written. */
struct model_s {
	struct tc_divert_conf conf;
	struct tc_divert_mask masks[TC_DIVERT_MASKS];
	struct tc_divert_key *keys;
	struct tc_divert_mask *key_masks;
	size_t nkeys, cap;	      /* cap: the hash's room (0: none) */
	step_check *check;	      /* after every write, or NULL */
	const struct tc_divert_key *fail_add, *fail_del; /* refused, or NULL */
	unsigned writes;
};
typedef struct model_s model;

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
		.local = ip("192.0.2.1") };
}

/* 198.19.0.0/16 host i (i < 65536) from 198.18.1.0/24. */
static struct tc_divert_rule
host_rule(uint32_t i)
{
	struct tc_divert_rule r = rule("198.18.1.0", 24, "198.19.0.0", 32);

	r.dst = htonl(0xc6130000u + i);
	return r;
}

static size_t
model_find(const model *m, const struct tc_divert_key *k)
{
	size_t i;

	for (i = 0; i < m->nkeys; i++) {
		if (fwd_divert_key_cmp(&m->keys[i], k) == 0)
			return i;
	}
	return SIZE_MAX;
}

/* What tc_divert.bpf.c does with a packet: true when it goes into the veth. */
static bool
diverts_ip(const model *m, uint32_t s, uint32_t d)
{
	uint32_t i;

	if (m->conf.ifindex == 0 || s == m->conf.local)
		return false;
	for (i = 0; i < TC_DIVERT_MASKS && i < m->conf.nmasks; i++) {
		struct tc_divert_key want;

		if (!m->masks[i].used)
			continue;
		want = (struct tc_divert_key){ .src = s & m->masks[i].src_mask,
			.dst = d & m->masks[i].dst_mask, .slot = i };
		if (model_find(m, &want) != SIZE_MAX)
			return true;
	}
	return false;
}

static bool
diverts(const model *m, const char *src, const char *dst)
{
	return diverts_ip(m, ip(src), ip(dst));
}

static void
after_write(model *m)
{
	size_t k;

	m->writes++;
	for (k = 0; k < m->nkeys; k++) {
		const struct tc_divert_mask *now = &m->masks[m->keys[k].slot];

		if (!now->used)
			continue; /* never read */
		cr_assert(now->src_mask == m->key_masks[k].src_mask &&
		    now->dst_mask == m->key_masks[k].dst_mask,
		    "a key is read under masks it was not written for (slot %u)", m->keys[k].slot);
	}
	if (m->check != NULL)
		m->check(m);
}

static int
m_mask(void *ctx, uint32_t slot, const struct tc_divert_mask *mk)
{
	model *m = ctx;

	cr_assert_lt(slot, TC_DIVERT_MASKS);
	m->masks[slot] = *mk;
	after_write(m);
	return 0;
}

static int
m_conf(void *ctx, const struct tc_divert_conf *c)
{
	model *m = ctx;

	m->conf = *c;
	after_write(m);
	return 0;
}

static int
m_add(void *ctx, const struct tc_divert_key *k)
{
	model *m = ctx;

	if (m->fail_add != NULL && fwd_divert_key_cmp(m->fail_add, k) == 0)
		return -ENOMEM;
	if (model_find(m, k) != SIZE_MAX) {
		after_write(m);
		return 0;
	}
	if (m->cap != 0 && m->nkeys >= m->cap)
		return -E2BIG;
	cr_assert(m->masks[k->slot].used, "a key written before its slot's masks");
	m->keys = realloc(m->keys, (m->nkeys + 1) * sizeof(*m->keys));
	m->key_masks = realloc(m->key_masks, (m->nkeys + 1) * sizeof(*m->key_masks));
	cr_assert(m->keys != NULL && m->key_masks != NULL);
	m->keys[m->nkeys] = *k;
	m->key_masks[m->nkeys++] = m->masks[k->slot];
	after_write(m);
	return 0;
}

static int
m_del(void *ctx, const struct tc_divert_key *k)
{
	model *m = ctx;
	size_t i;

	if (m->fail_del != NULL && fwd_divert_key_cmp(m->fail_del, k) == 0)
		return -EIO;
	if ((i = model_find(m, k)) == SIZE_MAX)
		return -ENOENT;
	m->keys[i] = m->keys[--m->nkeys];
	m->key_masks[i] = m->key_masks[m->nkeys];
	after_write(m);
	return 0;
}

static const struct fwd_divert_ops model_ops = { m_mask, m_conf, m_add, m_del };

static int
apply(model *m, struct fwd_divert *held, const struct tc_divert_rule *rules, size_t n)
{
	int rc = fwd_divert_apply(held, rules, n, &model_ops, m);

	cr_assert_eq(held->nkeys, m->nkeys, "the PIC's copy (%zu) is what the maps hold (%zu)",
	    held->nkeys, m->nkeys);
	return rc;
}

static void
model_free(model *m, struct fwd_divert *held)
{
	free(m->keys);
	free(m->key_masks);
	fwd_divert_free(held);
}

Test(fwd_divert, a_thousand_terms_under_one_mask_pair_take_one_slot)
{
	static struct tc_divert_rule rules[1000];
	struct fwd_divert held = { 0 };
	model m = { 0 };
	uint32_t i;

	for (i = 0; i < 1000; i++)
		rules[i] = host_rule(i);
	cr_assert_eq(apply(&m, &held, rules, 1000), 0);
	cr_assert_eq(m.conf.nmasks, 1, "one mask pair, one slot: %u", m.conf.nmasks);
	cr_assert_eq(m.conf.ifindex, VETH);
	cr_assert(diverts(&m, "198.18.1.5", "198.19.3.231"), "the last term's traffic");
	cr_assert(diverts(&m, "198.18.1.5", "198.19.0.0"), "the first term's");
	cr_assert_not(diverts(&m, "198.18.1.5", "198.19.3.232"), "no term's");
	cr_assert_not(diverts(&m, "198.18.2.5", "198.19.0.1"), "another source");
	cr_assert_not(diverts(&m, "192.0.2.1", "198.19.0.1"), "the local gateway's own");
	model_free(&m, &held);
}

Test(fwd_divert, mixed_masks_and_repeats_and_the_same_list_again_writes_nothing)
{
	struct tc_divert_rule rules[] = {
		rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 24, "198.18.2.0", 24), /* an output SA of the term above */
		rule("198.18.1.7", 32, "198.18.3.9", 32),
		rule("0.0.0.0", 0, "198.18.4.0", 22),
	};
	struct fwd_divert held = { 0 };
	model m = { 0 };

	cr_assert_eq(apply(&m, &held, rules, 4), 0);
	cr_assert_eq(held.nkeys, 3, "the repeat is kept once: %zu", held.nkeys);
	cr_assert_eq(m.conf.nmasks, 3);
	cr_assert(diverts(&m, "198.18.1.200", "198.18.2.1"));
	cr_assert(diverts(&m, "198.18.1.7", "198.18.3.9"));
	cr_assert_not(diverts(&m, "198.18.1.8", "198.18.3.9"));
	cr_assert(diverts(&m, "203.0.113.5", "198.18.7.255"), "any source, a /22");
	cr_assert_not(diverts(&m, "203.0.113.5", "198.18.8.0"));
	m.writes = 0;
	cr_assert_eq(apply(&m, &held, rules, 4), 0);
	cr_assert_eq(m.writes, 2, "only the conf, twice: %u writes", m.writes);
	model_free(&m, &held);
}

/* Terms 50..99 of /32s and the /16 stay; 0..49 and the /28 pair go; 100..149 and a /30
 * pair come. */
static void
stays_diverted(const model *m)
{
	uint32_t i;

	for (i = 50; i < 100; i++)
		cr_assert(diverts_ip(m, ip("198.18.1.1"), htonl(0xc6130000u + i)), "term %u", i);
	cr_assert(diverts(m, "198.18.5.1", "198.20.6.1"), "the /16 term");
}

Test(fwd_divert, a_change_never_lets_a_staying_terms_traffic_out)
{
	static struct tc_divert_rule a[102], b[102];
	struct fwd_divert held = { 0 };
	model m = { 0 };
	uint32_t i;

	for (i = 0; i < 100; i++) {
		a[i] = host_rule(i);
		b[i] = host_rule(i + 50);
	}
	a[100] = rule("198.18.5.0", 24, "198.20.0.0", 16);
	a[101] = rule("198.18.6.0", 24, "198.21.0.0", 28);
	b[100] = rule("198.18.7.0", 24, "198.22.0.0", 30);
	b[101] = rule("198.18.5.0", 24, "198.20.0.0", 16);
	cr_assert_eq(apply(&m, &held, a, 102), 0);
	stays_diverted(&m);
	m.check = stays_diverted;
	cr_assert_eq(apply(&m, &held, b, 102), 0);
	m.check = NULL;
	cr_assert_not(diverts(&m, "198.18.1.1", "198.19.0.10"), "a term that went");
	cr_assert_not(diverts(&m, "198.18.6.1", "198.21.0.1"), "the pair that went");
	cr_assert(diverts(&m, "198.18.1.1", "198.19.0.149"), "a term that came");
	cr_assert(diverts(&m, "198.18.7.1", "198.22.0.3"), "the pair that came");
	cr_assert(!m.masks[2].used && m.masks[3].used && m.masks[3].dst_mask == mask(30),
	    "the /28's slot freed, the /30 in a fourth (not the one being freed)");
	cr_assert_eq(m.conf.nmasks, 4);
	/* Everything goes: nothing is diverted. */
	cr_assert_eq(apply(&m, &held, NULL, 0), 0);
	cr_assert_eq(m.nkeys, 0);
	cr_assert_eq(m.conf.nmasks, 0);
	cr_assert_not(diverts(&m, "198.18.1.1", "198.19.0.60"));
	model_free(&m, &held);
}

/* A pair that goes frees its slot only after its keys: a pair that comes in the same
 * change takes another (the model checks every key against its slot's masks). */
Test(fwd_divert, a_freed_slot_is_taken_only_after_its_keys_went)
{
	struct tc_divert_rule a[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 24, "198.18.3.9", 32) };
	struct tc_divert_rule b[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 28, "198.18.9.0", 28) };
	struct tc_divert_rule c[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 28, "198.18.9.0", 28), rule("0.0.0.0", 0, "203.0.113.0", 25) };
	struct fwd_divert held = { 0 };
	model m = { 0 };

	cr_assert_eq(apply(&m, &held, a, 2), 0);
	cr_assert(held.masks[1].used && held.masks[1].dst_mask == mask(32));
	cr_assert_eq(apply(&m, &held, b, 2), 0);
	cr_assert_not(held.masks[1].used, "the /32 slot is free");
	cr_assert(held.masks[2].used && held.masks[2].dst_mask == mask(28),
	    "the /28 pair did not take the slot being freed");
	cr_assert_eq(apply(&m, &held, c, 3), 0);
	cr_assert(held.masks[1].used && held.masks[1].dst_mask == mask(25),
	    "the next change takes it");
	cr_assert(diverts(&m, "198.51.100.1", "203.0.113.127"));
	cr_assert_not(diverts(&m, "198.51.100.1", "203.0.113.128"));
	cr_assert(diverts(&m, "198.18.1.15", "198.18.9.3"));
	cr_assert_not(diverts(&m, "198.18.1.16", "198.18.9.3"));
	model_free(&m, &held);
}

Test(fwd_divert, past_the_mask_slots_the_rest_is_cut)
{
	struct tc_divert_rule rules[TC_DIVERT_MASKS + 3];
	struct fwd_divert held = { 0 };
	model m = { 0 };
	unsigned i;

	for (i = 0; i < TC_DIVERT_MASKS + 3; i++)
		rules[i] = rule("198.18.1.0", 24 + i / 33, "198.18.0.0", i % 33);
	cr_assert_eq(apply(&m, &held, rules, TC_DIVERT_MASKS + 3), -E2BIG);
	cr_assert_eq(m.conf.nmasks, TC_DIVERT_MASKS);
	cr_assert(diverts(&m, "198.18.1.1", "198.18.0.0"), "the first pairs are in");
	model_free(&m, &held);
}

/* All 32 slots held, one pair replaced by another: the new one has no slot until the old
 * one's is free, so the change is planned once more and it is in. */
Test(fwd_divert, a_pair_replacing_another_in_full_slots_is_in_after_the_change)
{
	struct tc_divert_rule a[TC_DIVERT_MASKS], b[TC_DIVERT_MASKS];
	struct fwd_divert held = { 0 };
	model m = { 0 };
	unsigned i;

	for (i = 0; i < TC_DIVERT_MASKS; i++)
		a[i] = b[i] = rule("198.18.1.0", 24, "198.18.0.0", i);
	b[5] = rule("198.18.1.0", 25, "198.18.0.0", 5);
	cr_assert_eq(apply(&m, &held, a, TC_DIVERT_MASKS), 0);
	cr_assert_eq(apply(&m, &held, b, TC_DIVERT_MASKS), 0, "nothing left cut");
	/* (Packets cannot tell: the /0 to /4 terms cover what the /5 ones do.) */
	for (i = 0; i < TC_DIVERT_MASKS; i++) {
		cr_assert(held.masks[i].used);
		cr_assert_not(held.masks[i].src_mask == mask(24) &&
		    held.masks[i].dst_mask == mask(5), "the old pair is gone");
	}
	cr_assert(held.masks[5].src_mask == mask(25) && held.masks[5].dst_mask == mask(5),
	    "the new pair took its slot");
	cr_assert_eq(m.conf.nmasks, TC_DIVERT_MASKS);
	model_free(&m, &held);
}

/* The old and the new list together past the hash's room: the adds it refused are made
 * once the deletes gave the room back. */
Test(fwd_divert, adds_refused_for_room_are_made_after_the_deletes)
{
	static struct tc_divert_rule a[80], b[80];
	struct fwd_divert held = { 0 };
	model m = { .cap = 100 };
	uint32_t i;

	for (i = 0; i < 80; i++) {
		a[i] = host_rule(i);
		b[i] = host_rule(i + 50); /* 30 stay, 50 come, 50 go: 130 at the peak */
	}
	cr_assert_eq(apply(&m, &held, a, 80), 0);
	cr_assert_eq(apply(&m, &held, b, 80), 0, "every add made in the end");
	for (i = 50; i < 130; i++)
		cr_assert(diverts_ip(&m, ip("198.18.1.1"), htonl(0xc6130000u + i)), "term %u", i);
	model_free(&m, &held);
}

/* Past the prefix pairs the maps hold, what is held stays and new keys are cut, even new
 * keys sorted before the held ones. */
Test(fwd_divert, past_the_prefix_pairs_held_keys_stay_and_new_ones_are_cut)
{
	size_t n = TC_DIVERT_PREFIXES + 10;
	struct tc_divert_rule *rules = calloc(n, sizeof(*rules));
	struct fwd_divert held = { 0 };
	struct fwd_divert_change c;
	uint32_t i;

	cr_assert_not_null(rules);
	for (i = 0; i < n; i++)
		rules[i] = host_rule(i); /* 198.19.0.0/16 and on into 198.20.0.0 */
	cr_assert_eq(fwd_divert_plan(&held, rules + 10, TC_DIVERT_PREFIXES, &c), 0);
	cr_assert_eq(c.cut, 0);
	fwd_divert_change_free(&c);
	held = c.next;
	cr_assert_eq(fwd_divert_plan(&held, rules, n, &c), 0);
	cr_assert_eq(c.cut, 10);
	cr_assert_eq(c.ndel, 0, "no held key was pushed out (%zu deletes)", c.ndel);
	cr_assert_eq(c.nadd, 0, "the 10 new keys are the ones cut (%zu adds)", c.nadd);
	fwd_divert_change_free(&c);
	fwd_divert_free(&c.next);
	fwd_divert_free(&held);
	free(rules);
}

/* A key the kernel would not take is not in the PIC's copy: the next change adds it. A key
 * it would not delete stays in the copy with its slot: the next change deletes it, and no
 * new pair takes that slot meanwhile. */
Test(fwd_divert, write_failures_are_tried_again_by_the_next_change)
{
	struct tc_divert_rule a[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 24, "198.18.3.0", 24), rule("198.18.1.0", 24, "198.18.9.9", 32) };
	struct tc_divert_rule b[] = { rule("198.18.1.0", 24, "198.18.2.0", 24),
		rule("198.18.1.0", 24, "198.18.3.0", 24), rule("198.18.1.0", 28, "198.18.8.0", 28) };
	struct tc_divert_key refuse_add = { .src = ip("198.18.1.0"), .dst = ip("198.18.3.0"),
		.slot = 0 };
	struct tc_divert_key refuse_del = { .src = ip("198.18.1.0"), .dst = ip("198.18.9.9"),
		.slot = 1 };
	struct fwd_divert held = { 0 };
	model m = { .fail_add = &refuse_add };

	cr_assert_eq(apply(&m, &held, a, 3), -ENOMEM);
	cr_assert_not(diverts(&m, "198.18.1.1", "198.18.3.1"));
	m.fail_add = NULL;
	m.fail_del = &refuse_del;
	cr_assert_eq(apply(&m, &held, b, 3), -EIO);
	cr_assert(diverts(&m, "198.18.1.1", "198.18.3.1"), "the refused add is made now");
	cr_assert(held.masks[1].used, "the slot of the key not deleted stays in use");
	cr_assert_eq(held.masks[2].dst_mask, mask(28), "the new pair took another slot");
	m.fail_del = NULL;
	cr_assert_eq(apply(&m, &held, b, 3), 0);
	cr_assert_not(diverts(&m, "198.18.1.1", "198.18.9.9"), "deleted by the next change");
	cr_assert_not(held.masks[1].used, "and its slot freed");
	cr_assert(diverts(&m, "198.18.1.3", "198.18.8.5"));
	model_free(&m, &held);
}
