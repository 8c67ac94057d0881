/* picsec-sadb and its PICs: status reports (installed SAs, usage, silence), clearing, and
 * what the bus handlers answer (the list without keys, SPI requests, clear). */
#include <string.h>

#include <criterion/criterion.h>

#include "catalog.h"
#include "sadb_fixture.h"
#include "u64map.h"

/* ---------------------------------------------------------------------------------- */
TestSuite(status, .init = fx_setup, .fini = fx_teardown);

static void
report(const char *pic, const uint64_t *installed, size_t n)
{
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;

	st.pic = STR(pic);
	st.applied_incarnation = fx_sd->incarnation;
	st.applied_seq = 1;
	st.installed = (uint64_t *)(uintptr_t)installed;
	st.n_installed = n;
	sadb_pic_status(fx_sd, &st);
}

Test(status, the_ids_a_pic_reports_are_installed)
{
	struct sadb_sa *in, *out;
	uint64_t ids[2];

	sadb_config(fx_sd, CONF(0));
	in = fx_sa_of("t1", DIR_IN);
	out = fx_sa_of("t1", DIR_OUT);
	cr_assert_not(in->installed || out->installed);

	ids[0] = in->id;
	ids[1] = 0xdeadbeef; /* not one of ours: ignored */
	report("ms-0/0/0", ids, 2);
	cr_assert(in->installed);
	cr_assert_not(out->installed);
	cr_assert_neq(fx_pic0()->last_status_ms, 0);
	cr_assert_eq(fx_pic0()->applied_incarnation, fx_sd->incarnation);
	cr_assert_eq(fx_pic0()->applied_seq, 1);

	ids[1] = out->id;
	report("ms-0/0/0", ids, 2);
	cr_assert(in->installed && out->installed);

	/* An unchanged commit keeps what the PIC said. */
	sadb_config(fx_sd, CONF(0));
	cr_assert(fx_sa_of("t1", DIR_IN)->installed && fx_sa_of("t1", DIR_OUT)->installed);

	/* Another PIC's report changes nothing here. */
	report("ms-5/0/0", NULL, 0);
	cr_assert(fx_sa_of("t1", DIR_IN)->installed);

	report("ms-0/0/0", NULL, 0);
	cr_assert_not(fx_sa_of("t1", DIR_IN)->installed || fx_sa_of("t1", DIR_OUT)->installed);
}

Test(status, a_pic_silent_for_three_seconds_holds_nothing)
{
	struct sadb_sa *in, *out;
	uint64_t ids[2];

	sadb_config(fx_sd, CONF(0));
	in = fx_sa_of("t1", DIR_IN);
	out = fx_sa_of("t1", DIR_OUT);
	ids[0] = in->id;
	ids[1] = out->id;
	report("ms-0/0/0", ids, 2);
	sadb_pics_check(fx_sd);
	cr_assert(in->installed && out->installed, "it just reported");

	fx_pic0()->last_status_ms -= SADB_PIC_SILENT_MS - 1000;
	sadb_pics_check(fx_sd);
	cr_assert(in->installed && out->installed, "2 s of silence is not yet silent");

	fx_pic0()->last_status_ms -= 1001;
	sadb_pics_check(fx_sd);
	cr_assert_not(in->installed || out->installed);

	/* A PIC that never reported holds nothing either. */
	in->installed = true;
	fx_pic0()->last_status_ms = 0;
	sadb_pics_check(fx_sd);
	cr_assert_not(in->installed);
}

Test(status, outbound_usage_raises_the_journal_mark)
{
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;
	Picsec__V1__SaUsage u_out = PICSEC__V1__SA_USAGE__INIT, u_in = PICSEC__V1__SA_USAGE__INIT;
	Picsec__V1__SaUsage *usage[2] = { &u_out, &u_in };
	struct sadb_sa *in, *out;

	sadb_config(fx_sd, CONF(0));
	in = fx_sa_of("t1", DIR_IN);
	out = fx_sa_of("t1", DIR_OUT);
	u_out.id = out->id;
	u_out.seq = 7000;
	u_out.bytes = 100;
	u_in.id = in->id;
	u_in.seq = 9999; /* inbound numbers are the peer's */
	st.pic = STR("ms-0/0/0");
	st.usage = usage;
	st.n_usage = 2;
	sadb_pic_status(fx_sd, &st);
	cr_assert_eq(sadb_journal_start(fx_sd, out->id, out->key_fingerprint),
	    7000 + SADB_SEQ_MARGIN);
	cr_assert_eq(sadb_journal_start(fx_sd, in->id, in->key_fingerprint), 0);
	cr_assert_eq(out->bytes, 100);

	u_out.seq = 6000; /* an older report does not lower the mark */
	sadb_pic_status(fx_sd, &st);
	cr_assert_eq(sadb_journal_start(fx_sd, out->id, out->key_fingerprint),
	    7000 + SADB_SEQ_MARGIN);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(clear, .init = fx_setup, .fini = fx_teardown);

Test(clear, clearing_everything_pushes_the_manual_sas_again)
{
	const Picsec__V1__SaUpdate *gone, *again;
	struct sadb_sa *in, *out;
	uint64_t ids[2];

	sadb_config(fx_sd, CONF(0));
	in = fx_sa_of("t1", DIR_IN);
	out = fx_sa_of("t1", DIR_OUT);
	ids[0] = in->id;
	ids[1] = out->id;
	report("ms-0/0/0", ids, 2);
	sadb_journal_note(fx_sd, out->id, out->key_fingerprint, 1000);
	fx_pubs_clear();

	cr_assert_eq(sadb_clear(fx_sd, ""), 2);
	cr_assert_eq(fx_npubs(), 2);
	gone = fx_update(0, "ms-0/0/0");
	again = fx_update(1, "ms-0/0/0");
	cr_assert_eq(gone->seq, 2);
	cr_assert_eq(gone->n_upsert, 0);
	cr_assert_eq(gone->n_remove, 2);
	cr_assert(fx_removes(gone, ids[0]) && fx_removes(gone, ids[1]));
	cr_assert_eq(again->seq, 3);
	cr_assert_eq(again->n_remove, 0);
	cr_assert_eq(again->n_upsert, 2);
	cr_assert_not(again->service_sets_changed);
	cr_assert(fx_secret_is(fx_upsert(again, in->id)->enc_key, fx_key_in, sizeof(fx_key_in)));
	/* Same key: the outbound one continues above the journal's mark. */
	cr_assert_eq(fx_upsert(again, out->id)->seq_start, 1000 + SADB_SEQ_MARGIN);
	/* Still sadb's, not installed until the PIC says so. */
	cr_assert_eq(u64map_count(fx_sd->sas_by_id), 2);
	cr_assert_not(in->installed || out->installed);
}

Test(clear, clearing_one_service_set_leaves_the_others_alone)
{
	const Picsec__V1__SaUpdate *gone, *again;
	size_t i;

	sadb_config(fx_sd, CONF(.extra = fx_set_ss2));
	cr_assert_eq(fx_count_sas(fx_pic0()), 4);
	fx_pubs_clear();

	cr_assert_eq(sadb_clear(fx_sd, "ss2"), 2);
	cr_assert_eq(fx_npubs(), 2);
	gone = fx_update(0, "ms-0/0/0");
	again = fx_update(1, "ms-0/0/0");
	cr_assert_eq(gone->n_remove, 2);
	cr_assert(fx_removes(gone, fx_sa_of("u1", DIR_IN)->id));
	cr_assert(fx_removes(gone, fx_sa_of("u1", DIR_OUT)->id));
	cr_assert_eq(again->n_upsert, 2);
	for (i = 0; i < again->n_upsert; i++)
		cr_assert_str_eq(again->upsert[i]->service_set, "ss2");
	fx_pubs_clear();

	cr_assert_eq(sadb_clear(fx_sd, "no-such-set"), 0);
	cr_assert_eq(fx_npubs(), 0);
}

Test(clear, negotiated_sas_go_for_good)
{
	struct sadb_pic *want = fx_build(fx_sd, CONF(0));
	const Picsec__V1__SaUpdate *gone, *again;
	uint64_t in_id, out_id;

	fx_sa(want, "t1", DIR_OUT)->msg.origin = ORIGIN_DYNAMIC;
	fx_apply(fx_sd, want);
	in_id = fx_sa_of("t1", DIR_IN)->id;
	out_id = fx_sa_of("t1", DIR_OUT)->id;
	fx_pubs_clear();

	cr_assert_eq(sadb_clear(fx_sd, ""), 2);
	cr_assert_eq(fx_npubs(), 3);
	gone = fx_update(0, "ms-0/0/0");
	again = fx_update(1, "ms-0/0/0");
	cr_assert(fx_removes(gone, in_id) && fx_removes(gone, out_id));
	/* iked hears of it, to delete the Child SA at the peer. */
	cr_assert_str_eq(fx_pub(2)->topic, "sa.removed");
	cr_assert_eq(fx_pub(2)->type, MT(SA_REMOVED));
	cr_assert_eq(((const Picsec__V1__SaRemoved *)fx_pub(2)->msg)->n_ids, 1);
	cr_assert_eq(((const Picsec__V1__SaRemoved *)fx_pub(2)->msg)->ids[0], out_id);
	cr_assert_eq(again->n_upsert, 1);
	cr_assert_eq(again->upsert[0]->id, in_id);
	cr_assert_null(u64map_get(fx_sd->sas_by_id, out_id));
	cr_assert_null(fx_sa(fx_pic0(), "t1", DIR_OUT));
}

/* ---------------------------------------------------------------------------------- */
TestSuite(handlers, .init = fx_setup, .fini = fx_teardown);

Test(handlers, the_sa_list_never_shows_keys)
{
	Picsec__V1__SaGetList req = PICSEC__V1__SA_GET_LIST__INIT;
	const Picsec__V1__SaList *list;
	bus_handler_fn *fn = NULL;
	void *ctx;
	size_t i;

	sadb_config(fx_sd, CONF(0));
	fn = fx_handler(MT(SA_GET_LIST), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.type, MT(SA_LIST));
	list = (const Picsec__V1__SaList *)fx_reply.msg;
	cr_assert_eq(list->n_sas, 2);
	for (i = 0; i < list->n_sas; i++) {
		cr_assert_str_eq(list->sas[i]->pic, "ms-0/0/0");
		cr_assert_not_null(list->sas[i]->sa);
		cr_assert_null(list->sas[i]->sa->enc_key);
		cr_assert_null(list->sas[i]->sa->auth_key);
		cr_assert(list->sas[i]->sa->spi == 1000 || list->sas[i]->sa->spi == 1001);
	}
	/* What was left out of the copies is still in the SAs. */
	cr_assert(fx_secret_is(fx_sa_of("t1", DIR_IN)->msg.enc_key, fx_key_in, sizeof(fx_key_in)));

	req.service_set = STR("no-such-set");
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(((const Picsec__V1__SaList *)fx_reply.msg)->n_sas, 0);
}

Test(handlers, spi_requests_want_esp_or_ah_and_an_address)
{
	Picsec__V1__SaAllocSpi req = PICSEC__V1__SA_ALLOC_SPI__INIT;
	Picsec__V1__IpAddress dst = PICSEC__V1__IP_ADDRESS__INIT;
	uint8_t addr[4] = { 192, 0, 2, 1 };
	bus_handler_fn *fn;
	void *ctx;

	fn = fx_handler(MT(SA_ALLOC_SPI), &ctx);
	req.protocol = PROTO_BUNDLE;
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.code, ERRC(INVALID_ARGUMENT));

	req.protocol = PROTO_ESP;
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.code, ERRC(INVALID_ARGUMENT), "no destination");

	dst.addr.data = addr;
	dst.addr.len = 3;
	req.destination = &dst;
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.code, ERRC(INVALID_ARGUMENT), "3 bytes are no address");

	dst.addr.len = 4;
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.type, MT(SA_SPI));
	cr_assert_geq(((const Picsec__V1__SaSpi *)fx_reply.msg)->spi, 256);
}

Test(handlers, clear_answers_with_the_count)
{
	Picsec__V1__SaClear req = PICSEC__V1__SA_CLEAR__INIT;
	bus_handler_fn *fn;
	void *ctx;

	sadb_config(fx_sd, CONF(.extra = fx_set_ss2));
	fn = fx_handler(MT(SA_CLEAR), &ctx);
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(fx_reply.type, MT(SA_CLEARED));
	cr_assert_eq(((const Picsec__V1__SaCleared *)fx_reply.msg)->count, 4);
	req.service_set = STR("ss1");
	fn(fx_request(), &req.base, ctx);
	cr_assert_eq(((const Picsec__V1__SaCleared *)fx_reply.msg)->count, 2);
}
