/* picsec-sadb: SAs built from real configurations, the per-PIC streams and their diffs, and
 * the snapshot a PIC asks for. No busd: what sadb publishes is recorded by the wraps of
 * sadb_fixture.c. The PICs' reports, clearing and the handlers are in test_sadb_pic.c; the
 * journal, SPI allocation and lifetimes in test_sadb_state.c; negotiated SAs (dynamic terms,
 * SaInstall, SaRemove, SPI batches) in test_sadb_dynamic.c. */
#include <string.h>

#include <criterion/criterion.h>

#include "catalog.h"
#include "sadb_fixture.h"
#include "u64map.h"

/* Rule r1 reached through two rule sets of ss1 instead of ipsec-vpn-rules. */
static const char rule_twice[] =
    "delete services service-set ss1 ipsec-vpn-rules\n"
    "set services ipsec-vpn rule-set rs1 rule r1\n"
    "set services ipsec-vpn rule-set rs2 rule r1\n"
    "set services service-set ss1 ipsec-vpn-rule-sets rs1\n"
    "set services service-set ss1 ipsec-vpn-rule-sets rs2\n";

/* ---------------------------------------------------------------------------------- */
TestSuite(build, .init = fx_setup, .fini = fx_teardown);

static const uint8_t example_enc[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
static const uint8_t example_auth[20] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23,
	0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67,
};

static struct sadb_pic *
build_example(void)
{
	return fx_build(fx_sd, fx_snapshot_file("PICSEC_EXAMPLES",
	    "two-site-manual-esp-a.conf", 1));
}

Test(build, the_service_set_is_anchored_on_its_pic_with_its_veth)
{
	struct sadb_pic *want = build_example();
	const Picsec__V1__PicServiceSet *set;

	cr_assert_not_null(want);
	cr_assert_null(want->next, "one PIC");
	cr_assert_str_eq(want->name, "ms-0/0/0");
	cr_assert_str_eq(want->topic, "sa.ms-0/0/0");
	cr_assert_not_null(want->sets);
	cr_assert_null(want->sets->next, "one service set");
	set = &want->sets->msg;
	cr_assert_str_eq(set->name, "site-a");
	cr_assert_str_eq(set->inside_interface, "ms-0-0-0.1");
	cr_assert_eq(set->style, PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP);
	cr_assert(fx_addr_is(set->local_gateway, "192.0.2.1"));
	cr_assert_eq(set->n_remote_prefixes, 1);
	cr_assert(fx_prefix_is(set->remote_prefixes[0], "198.18.2.0", 24));
	cr_assert_eq(set->n_applied_interfaces, 0);
	cr_assert_eq(fx_count_sas(want), 2);
	fx_want_free(want);
}

Test(build, a_bidirectional_manual_sa_is_one_inbound_and_one_outbound)
{
	struct sadb_pic *want = build_example();
	struct sadb_sa *in = fx_sa(want, "t1", DIR_IN), *out = fx_sa(want, "t1", DIR_OUT);
	struct sadb_sa *both[2] = { in, out };
	size_t i;

	cr_assert_not_null(in);
	cr_assert_not_null(out);
	cr_assert_neq(in->id, out->id);
	for (i = 0; i < 2; i++) {
		const Picsec__V1__Sa *m = &both[i]->msg;

		cr_assert_neq(m->id, 0);
		cr_assert_eq(m->id, both[i]->id);
		cr_assert_eq(m->origin, ORIGIN_MANUAL);
		cr_assert_str_eq(m->service_set, "site-a");
		cr_assert_str_eq(m->rule, "to-site-b");
		cr_assert_str_eq(m->term, "t1");
		cr_assert_eq(m->order, 1);
		cr_assert_eq(m->protocol, PROTO_ESP);
		cr_assert_eq(m->mode, PICSEC__V1__SA_MODE__SA_MODE_TUNNEL);
		cr_assert_eq(m->spi, 16000);
		cr_assert_eq(m->auxiliary_spi, 0);
		cr_assert_eq(m->enc_algorithm, PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC);
		cr_assert_eq(m->auth_algorithm, PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96);
		cr_assert(fx_secret_is(m->enc_key, example_enc, sizeof(example_enc)));
		cr_assert(fx_secret_is(m->auth_key, example_auth, sizeof(example_auth)));
		cr_assert(fx_addr_is(m->local_gateway, "192.0.2.1"));
		cr_assert(fx_addr_is(m->remote_gateway, "192.0.2.2"));
		/* The outer header's settings belong to the outbound SA only. */
		cr_assert_eq(m->ttl, m == &out->msg ? 64u : 0u);
		cr_assert_eq(m->tunnel_mtu, 0);
		cr_assert_eq(m->hard_lifetime_seconds, 0, "manual SAs do not expire");
		cr_assert_eq(m->hard_lifetime_kbytes, 0);
	}
	cr_assert_eq(in->msg.direction, DIR_IN);
	cr_assert_eq(out->msg.direction, DIR_OUT);
	cr_assert_eq(out->msg.seq_start, 0, "nothing in the journal: from the start");
	fx_want_free(want);
}

Test(build, outbound_carries_the_terms_traffic_and_inbound_its_replies)
{
	struct sadb_pic *want = build_example();
	struct sadb_sa *in = fx_sa(want, "t1", DIR_IN), *out = fx_sa(want, "t1", DIR_OUT);

	cr_assert(fx_prefix_is(out->msg.source, "198.18.1.0", 24));
	cr_assert(fx_prefix_is(out->msg.destination, "198.18.2.0", 24));
	cr_assert(fx_prefix_is(in->msg.source, "198.18.2.0", 24));
	cr_assert(fx_prefix_is(in->msg.destination, "198.18.1.0", 24));
	fx_want_free(want);
}

Test(build, the_replay_window_is_128_by_default_and_inbound_only)
{
	struct sadb_pic *want = build_example();

	cr_assert_eq(fx_sa(want, "t1", DIR_IN)->msg.replay_window, 128);
	cr_assert_eq(fx_sa(want, "t1", DIR_OUT)->msg.replay_window, 0);
	fx_want_free(want);
}

/* The term's window over the service set's, and no-anti-replay over both. */
static uint32_t
window_of(const char *extra)
{
	struct sadb_pic *want = fx_build(fx_sd, CONF(.extra = extra));
	uint32_t w = fx_sa(want, "t1", DIR_IN)->msg.replay_window;

	cr_assert_eq(fx_sa(want, "t1", DIR_OUT)->msg.replay_window, 0);
	fx_want_free(want);
	return w;
}

Test(build, the_terms_window_overrides_the_service_sets)
{
	cr_assert_eq(window_of(
	    "set services service-set ss1 ipsec-vpn-options anti-replay-window-size 512\n"), 512);
	cr_assert_eq(window_of(
	    "set services service-set ss1 ipsec-vpn-options anti-replay-window-size 512\n"
	    "set services ipsec-vpn rule r1 term t1 then anti-replay-window-size 1024\n"), 1024);
	cr_assert_eq(window_of("set services ipsec-vpn rule r1 term t1 then no-anti-replay\n"),
	    0);
	cr_assert_eq(window_of("set services service-set ss1 ipsec-vpn-options no-anti-replay\n"),
	    0);
}

Test(build, a_bundle_has_its_spis_and_each_directions_own_keys)
{
	const Picsec__V1__ConfigSnapshot *snap = fx_snapshot_file("PICSEC_CORPUS",
	    "config/valid/manual-bundle.conf", 1);
	const Picsec__V1__ManualSa *manual = snap->ipsec_vpn->rules[0]->terms[0]->manual;
	struct sadb_pic *want = fx_build(fx_sd, snap);
	struct sadb_sa *in = fx_sa(want, "t1", DIR_IN), *out = fx_sa(want, "t1", DIR_OUT);
	size_t k;

	cr_assert_str_eq(want->name, "ms-7/0/0");
	cr_assert_str_eq(want->sets->inside, "ms-7-0-0.1");
	cr_assert_not_null(in);
	cr_assert_not_null(out);
	cr_assert_eq(fx_count_sas(want), 2);
	cr_assert_eq(in->msg.protocol, PROTO_BUNDLE);
	cr_assert_eq(in->msg.spi, 8000);
	cr_assert_eq(in->msg.auxiliary_spi, 8100);
	cr_assert_eq(out->msg.protocol, PROTO_BUNDLE);
	cr_assert_eq(out->msg.spi, 8001);
	cr_assert_eq(out->msg.auxiliary_spi, 8101);
	cr_assert_eq(in->msg.auth_algorithm, PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128);
	cr_assert_eq(in->msg.enc_algorithm, PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC);
	cr_assert_eq(out->msg.enc_algorithm, PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC);
	cr_assert_eq(in->msg.enc_key->material.len, 32);
	cr_assert_eq(out->msg.enc_key->material.len, 16);
	cr_assert_eq(in->msg.auth_key->material.len, 32);
	cr_assert(fx_addr_is(in->msg.local_gateway, "192.0.2.71"));
	cr_assert(fx_addr_is(in->msg.remote_gateway, "198.51.100.71"));
	/* The keys are the configuration's ($9$ decoded by the snapshot), per direction. */
	cr_assert_eq(manual->n_directions, 2);
	for (k = 0; k < manual->n_directions; k++) {
		const Picsec__V1__ManualSaDirection *d = manual->directions[k];
		struct sadb_sa *sa = d->direction == DIR_IN ? in : out;

		cr_assert(fx_secret_is(sa->msg.enc_key, d->enc_key->material.data,
		    d->enc_key->material.len));
		cr_assert(fx_secret_is(sa->msg.auth_key, d->auth_key->material.data,
		    d->auth_key->material.len));
	}
	fx_want_free(want);
}

Test(build, ids_are_stable_across_builds_and_distinct_per_sa)
{
	const Picsec__V1__ConfigSnapshot *a = CONF(.extra = fx_term_t2), *b = CONF(.extra = fx_term_t2);
	const Picsec__V1__ConfigSnapshot *rekeyed = CONF(.extra = fx_term_t2, .out_key = FX_KEY_NEW);
	struct sadb *other = fx_sadb_new(NULL);
	struct sadb_pic *wa = fx_build(fx_sd, a), *wb = fx_build(fx_sd, b);
	struct sadb_pic *wc = fx_build(other, a), *wk = fx_build(fx_sd, rekeyed);
	const char *terms[2] = { "t1", "t2" };
	Picsec__V1__SaDirection dirs[2] = { DIR_IN, DIR_OUT };
	uint64_t ids[4];
	size_t t, d, i, j;

	cr_assert_eq(fx_count_sas(wa), 4);
	for (t = 0; t < 2; t++) {
		for (d = 0; d < 2; d++) {
			struct sadb_sa *sa = fx_sa(wa, terms[t], dirs[d]);
			struct sadb_sa *key_changed = fx_sa(wk, terms[t], dirs[d]);

			cr_assert_not_null(sa);
			ids[t * 2 + d] = sa->id;
			cr_assert_eq(fx_sa(wb, terms[t], dirs[d])->id, sa->id, "same config");
			cr_assert_eq(fx_sa(wc, terms[t], dirs[d])->id, sa->id, "another sadb");
			cr_assert_eq(fx_sa(wb, terms[t], dirs[d])->key_fingerprint,
			    sa->key_fingerprint);
			/* A new key is the same SA (same id) under another fingerprint. */
			cr_assert_eq(key_changed->id, sa->id);
			if (t == 0 && dirs[d] == DIR_OUT)
				cr_assert_neq(key_changed->key_fingerprint, sa->key_fingerprint);
			else
				cr_assert_eq(key_changed->key_fingerprint, sa->key_fingerprint);
		}
	}
	for (i = 0; i < 4; i++) {
		for (j = i + 1; j < 4; j++)
			cr_assert_neq(ids[i], ids[j], "SAs %zu and %zu share an id", i, j);
	}
	cr_assert_eq(fx_sa(wa, "t2", DIR_IN)->msg.order, 2);
}

/* Two rule sets of a service set may both hold a rule (the commit check accepts it, and the
 * snapshot lists the rule twice): the rule is in effect once, and each SA of its terms must
 * be on the PIC once. */
Test(build, a_rule_in_two_rule_sets_of_a_service_set_gives_each_sa_once)
{
	const Picsec__V1__ConfigSnapshot *snap = CONF(.extra = rule_twice);
	struct sadb_pic *want = fx_build(fx_sd, snap);

	cr_assert_eq(snap->service_sets[0]->n_rules, 2, "the snapshot lists r1 twice");
	cr_assert_eq(fx_count_sas(want), 2, "%zu SAs for one bidirectional pair: an SA id is "
	    "on the PIC more than once", fx_count_sas(want));
	fx_want_free(want);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(stream, .init = fx_setup, .fini = fx_teardown);

Test(stream, the_first_configuration_is_one_update_with_both_sas_and_the_service_set)
{
	const Picsec__V1__SaUpdate *u;
	const Picsec__V1__Sa *up;
	struct sadb_sa *in, *out;

	sadb_config(fx_sd, CONF(0));
	cr_assert_eq(fx_npubs(), 1);
	u = fx_update(0, "ms-0/0/0");
	in = fx_sa_of("t1", DIR_IN);
	out = fx_sa_of("t1", DIR_OUT);
	cr_assert_eq(u->seq, 1);
	cr_assert_eq(u->incarnation, fx_sd->incarnation);
	cr_assert_neq(u->incarnation, 0);
	cr_assert_eq(u->n_upsert, 2);
	cr_assert_eq(u->n_remove, 0);
	cr_assert(u->service_sets_changed);
	cr_assert_eq(u->n_service_sets, 1);
	cr_assert_str_eq(u->service_sets[0]->name, "ss1");
	cr_assert_str_eq(u->service_sets[0]->inside_interface, "ms-0-0-0.1");
	cr_assert(fx_prefix_is(u->service_sets[0]->remote_prefixes[0], "10.2.0.0", 24));
	/* The PIC gets the keys: it is the one that uses them. */
	up = fx_upsert(u, in->id);
	cr_assert_not_null(up);
	cr_assert_eq(up->spi, 1000);
	cr_assert(fx_secret_is(up->enc_key, fx_key_in, sizeof(fx_key_in)));
	cr_assert(fx_secret_is(up->auth_key, FX_AUTH_KEY, strlen(FX_AUTH_KEY)));
	up = fx_upsert(u, out->id);
	cr_assert_not_null(up);
	cr_assert_eq(up->spi, 1001);
	cr_assert(fx_secret_is(up->enc_key, fx_key_out, sizeof(fx_key_out)));
	/* Indexed, and pointing back at their PIC. */
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 2);
	cr_assert_eq(u64map_get(fx_sd->sas_by_id, in->id), in);
	cr_assert_eq(u64map_get(fx_sd->sas_by_id, out->id), out);
	cr_assert_eq(in->pic, fx_pic0());
	cr_assert_eq(fx_pic0()->seq, 1);
}

Test(stream, the_same_configuration_again_publishes_nothing)
{
	sadb_config(fx_sd, CONF(.extra = fx_term_t2));
	cr_assert_eq(fx_npubs(), 1);
	fx_pubs_clear();
	sadb_config(fx_sd, CONF(.extra = fx_term_t2));
	sadb_config(fx_sd, CONF(.extra = fx_term_t2));
	cr_assert_eq(fx_npubs(), 0, "%zu updates for no change", fx_npubs());
	cr_assert_eq(fx_pic0()->seq, 1);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 4);
}

Test(stream, a_new_key_is_one_upsert_of_that_direction_under_the_same_id)
{
	const Picsec__V1__SaUpdate *u;
	uint64_t in_id, out_id;

	sadb_config(fx_sd, CONF(0));
	in_id = fx_sa_of("t1", DIR_IN)->id;
	out_id = fx_sa_of("t1", DIR_OUT)->id;
	fx_pubs_clear();

	sadb_config(fx_sd, CONF(.out_key = FX_KEY_NEW));
	cr_assert_eq(fx_npubs(), 1);
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->n_upsert, 1);
	cr_assert_eq(u->upsert[0]->id, out_id);
	cr_assert(fx_secret_is(u->upsert[0]->enc_key, fx_key_new, sizeof(fx_key_new)));
	cr_assert_eq(u->n_remove, 0);
	cr_assert_not(u->service_sets_changed);
	cr_assert_eq(u->n_service_sets, 0);
	cr_assert_eq(fx_sa_of("t1", DIR_OUT)->id, out_id);
	cr_assert(fx_secret_is(fx_sa_of("t1", DIR_OUT)->msg.enc_key, fx_key_new, sizeof(fx_key_new)));
	fx_pubs_clear();

	sadb_config(fx_sd, CONF(.in_key = FX_KEY_NEW, .out_key = FX_KEY_NEW));
	cr_assert_eq(fx_npubs(), 1);
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->seq, 3);
	cr_assert_eq(u->n_upsert, 1);
	cr_assert_eq(u->upsert[0]->id, in_id);
	cr_assert_eq(u->n_remove, 0);
}

Test(stream, a_removed_term_is_removed_from_the_pic)
{
	const Picsec__V1__SaUpdate *u;
	uint64_t t2_in, t2_out;

	sadb_config(fx_sd, CONF(.extra = fx_term_t2));
	t2_in = fx_sa_of("t2", DIR_IN)->id;
	t2_out = fx_sa_of("t2", DIR_OUT)->id;
	fx_pubs_clear();

	sadb_config(fx_sd, CONF(0));
	cr_assert_eq(fx_npubs(), 1);
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->n_upsert, 0);
	cr_assert_eq(u->n_remove, 2);
	cr_assert(fx_removes(u, t2_in));
	cr_assert(fx_removes(u, t2_out));
	/* t2's destination was a next-hop route into the service set: it goes too. */
	cr_assert(u->service_sets_changed);
	cr_assert_eq(u->n_service_sets, 1);
	cr_assert_eq(u->service_sets[0]->n_remote_prefixes, 1);
	cr_assert(fx_prefix_is(u->service_sets[0]->remote_prefixes[0], "10.2.0.0", 24));
	cr_assert_null(fx_sa(fx_pic0(), "t2", DIR_IN));
	cr_assert_null(u64map_get(fx_sd->sas_by_id, t2_in));
	cr_assert_null(u64map_get(fx_sd->sas_by_id, t2_out));
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 2);
}

Test(stream, seq_goes_up_by_one_per_update)
{
	size_t i;

	sadb_config(fx_sd, CONF(0));
	sadb_config(fx_sd, CONF(.extra = fx_term_t2));
	sadb_config(fx_sd, CONF(.extra = fx_term_t2));
	sadb_config(fx_sd, CONF(.extra = fx_term_t2, .out_key = FX_KEY_NEW));
	sadb_config(fx_sd, CONF(.extra = fx_set_ss2));
	sadb_config(fx_sd, CONF(0));
	cr_assert_eq(fx_npubs(), 5);
	for (i = 0; i < fx_npubs(); i++) {
		const Picsec__V1__SaUpdate *u = fx_update(i, "ms-0/0/0");

		cr_assert_eq(u->seq, i + 1);
		cr_assert_eq(u->incarnation, fx_sd->incarnation);
		cr_assert(u->n_upsert + u->n_remove > 0 || u->service_sets_changed);
	}
	cr_assert_eq(fx_pic0()->seq, 5);
}

Test(stream, a_pic_the_configuration_no_longer_uses_loses_everything)
{
	const Picsec__V1__SaUpdate *u;
	uint64_t in_id = 0, out_id = 0;

	sadb_config(fx_sd, CONF(0));
	in_id = fx_sa_of("t1", DIR_IN)->id;
	out_id = fx_sa_of("t1", DIR_OUT)->id;
	fx_pubs_clear();

	sadb_config(fx_sd, fx_snapshot("", fx_generation++));
	cr_assert_eq(fx_npubs(), 1);
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->n_upsert, 0);
	cr_assert_eq(u->n_remove, 2);
	cr_assert(fx_removes(u, in_id) && fx_removes(u, out_id));
	cr_assert(u->service_sets_changed);
	cr_assert_eq(u->n_service_sets, 0);
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 0);
	fx_pubs_clear();

	/* The stream goes on where it was when the PIC is used again. */
	sadb_config(fx_sd, CONF(0));
	cr_assert_eq(fx_npubs(), 1);
	u = fx_update(0, "ms-0/0/0");
	cr_assert_eq(u->seq, 3);
	cr_assert_eq(u->n_upsert, 2);
}

/* A service set moved to another PIC: its SAs (same ids) go from one stream to the other,
 * and sadb must still know them by id (the list, lifetimes, status all look them up). */
Test(stream, a_service_set_moved_to_another_pic_keeps_its_sas_indexed)
{
	const Picsec__V1__SaUpdate *to = NULL, *from = NULL;
	struct sadb_pic *pic1;
	struct sadb_sa *sa;
	size_t i;

	sadb_config(fx_sd, CONF(0));
	fx_pubs_clear();
	sadb_config(fx_sd, CONF(.pic = "ms-1/0/0"));
	cr_assert_eq(fx_npubs(), 2);
	for (i = 0; i < 2; i++) {
		if (strcmp(fx_pub(i)->topic, "sa.ms-1/0/0") == 0)
			to = fx_update(i, "ms-1/0/0");
		else
			from = fx_update(i, "ms-0/0/0");
	}
	cr_assert_not_null(to);
	cr_assert_not_null(from);
	cr_assert_eq(to->seq, 1);
	cr_assert_eq(to->n_upsert, 2);
	cr_assert_eq(from->seq, 2);
	cr_assert_eq(from->n_remove, 2);
	pic1 = sadb_pic_find(fx_sd, "ms-1/0/0");
	cr_assert_not_null(pic1);
	cr_assert_eq(fx_count_sas(pic1), 2);
	cr_assert_eq(fx_count_sas(fx_pic0()), 0);
	for (sa = pic1->sas; sa != NULL; sa = sa->next)
		cr_assert_eq(u64map_get(fx_sd->sas_by_id, sa->id), sa,
		    "SA %016llx of ms-1/0/0 is not in sas_by_id (%zu entries)",
		    (unsigned long long)sa->id, u64map_count(fx_sd->sas_by_id));
}

Test(stream, an_older_generation_is_ignored)
{
	sadb_config(fx_sd, fx_conf(&(struct fx_conf){ 0 }, 5));
	fx_pubs_clear();
	sadb_config(fx_sd, fx_conf(&(struct fx_conf){ .out_key = FX_KEY_NEW }, 4));
	cr_assert_eq(fx_npubs(), 0);
	cr_assert(fx_secret_is(fx_sa_of("t1", DIR_OUT)->msg.enc_key, fx_key_out, sizeof(fx_key_out)));
	cr_assert_eq(fx_sd->config_generation, 5);
	sadb_config(fx_sd, fx_conf(&(struct fx_conf){ .out_key = FX_KEY_NEW }, 6));
	cr_assert_eq(fx_npubs(), 1);
}

/* The same rule in two rule sets (see build::a_rule_in_two_rule_sets...): what the PIC is
 * sent, and that an unchanged commit sends nothing. */
Test(stream, a_rule_in_two_rule_sets_is_pushed_once_and_not_again)
{
	sadb_config(fx_sd, CONF(.extra = rule_twice));
	cr_assert_eq(fx_npubs(), 1);
	cr_expect_eq(fx_update(0, "ms-0/0/0")->n_upsert, 2, "%zu upserts of 2 SAs",
	    fx_update(0, "ms-0/0/0")->n_upsert);
	fx_pubs_clear();
	sadb_config(fx_sd, CONF(.extra = rule_twice));
	cr_assert_eq(fx_npubs(), 0, "an unchanged configuration pushed again (%zu upserts)",
	    fx_npubs() > 0 ? fx_update(0, "ms-0/0/0")->n_upsert : 0);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(snapshot, .init = fx_setup, .fini = fx_teardown);

Test(snapshot, before_any_configuration_the_answer_is_unavailable)
{
	Picsec__V1__SaGetSnapshot req = PICSEC__V1__SA_GET_SNAPSHOT__INIT;
	bus_handler_fn *fn;
	void *ctx;

	sadb_reply_snapshot(fx_sd, fx_request(), "ms-0/0/0");
	cr_assert_eq(fx_reply.count, 1);
	cr_assert_eq(fx_reply.type, MT(ERROR));
	cr_assert_eq(fx_reply.code, ERRC(UNAVAILABLE));
	/* The same through the bus handler. */
	fx_reply_clear();
	req.pic = STR("ms-0/0/0");
	fn = fx_handler(MT(SA_GET_SNAPSHOT), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.count, 1);
	cr_assert_eq(fx_reply.code, ERRC(UNAVAILABLE));
}

Test(snapshot, after_a_configuration_it_holds_the_sas_the_sets_and_the_seq)
{
	const Picsec__V1__SaSnapshot *s;
	struct sadb_sa *out;
	size_t i;

	sadb_config(fx_sd, CONF(.extra = fx_term_t2));
	sadb_config(fx_sd, CONF(.extra = fx_term_t2, .out_key = FX_KEY_NEW));
	out = fx_sa_of("t1", DIR_OUT);
	sadb_journal_note(fx_sd, out->id, out->key_fingerprint, 5000);
	sadb_reply_snapshot(fx_sd, fx_request(), "ms-0/0/0");
	cr_assert_eq(fx_reply.count, 1);
	cr_assert_eq(fx_reply.type, MT(SA_SNAPSHOT));
	s = (const Picsec__V1__SaSnapshot *)fx_reply.msg;
	cr_assert_str_eq(s->pic, "ms-0/0/0");
	cr_assert_eq(s->incarnation, fx_sd->incarnation);
	cr_assert_eq(s->seq, 2);
	cr_assert_eq(s->n_service_sets, 1);
	cr_assert_str_eq(s->service_sets[0]->name, "ss1");
	cr_assert_eq(s->service_sets[0]->n_remote_prefixes, 2);
	cr_assert_eq(s->n_sas, 4);
	for (i = 0; i < s->n_sas; i++) {
		const Picsec__V1__Sa *m = s->sas[i];
		const struct sadb_sa *sa = u64map_get(fx_sd->sas_by_id, m->id);

		cr_assert_not_null(sa, "SA %zu is not one of sadb's", i);
		cr_assert_eq(m->spi, sa->msg.spi);
		cr_assert_not_null(m->enc_key);
		cr_assert_not_null(m->auth_key);
		/* Outbound ones start above what the journal knows, and above the margin
		 * without a mark (a PIC may have died before its first report). */
		if (m->id == out->id) {
			cr_assert_eq(m->seq_start, 5000 + SADB_SEQ_MARGIN);
			cr_assert(fx_secret_is(m->enc_key, fx_key_new, sizeof(fx_key_new)));
		} else if (m->direction == DIR_OUT) {
			cr_assert_eq(m->seq_start, SADB_SEQ_MARGIN);
		} else {
			cr_assert_eq(m->seq_start, 0);
		}
	}
}

Test(snapshot, a_pic_without_sas_gets_an_empty_snapshot)
{
	const Picsec__V1__SaSnapshot *s;

	sadb_config(fx_sd, CONF(0));
	sadb_reply_snapshot(fx_sd, fx_request(), "ms-9/0/0");
	cr_assert_eq(fx_reply.type, MT(SA_SNAPSHOT));
	s = (const Picsec__V1__SaSnapshot *)fx_reply.msg;
	cr_assert_str_eq(s->pic, "ms-9/0/0");
	cr_assert_eq(s->seq, 0);
	cr_assert_eq(s->n_sas, 0);
	cr_assert_eq(s->n_service_sets, 0);
}
