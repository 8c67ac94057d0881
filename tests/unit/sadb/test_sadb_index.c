/* picsec-sadb's indexes, which keep an install one look-up at any number of SAs
 * (bench/scale): the SPIs the inbound SAs hold (counted per holder, a bundle's both SPIs
 * under both protocols), the allocated SPIs that an install takes over, and the journal's
 * marks by SA, which an SA that goes takes along. */
#include <string.h>

#include <criterion/criterion.h>

#include "sadb_fixture.h"
#include "u64map.h"

TestSuite(spi_index, .init = fx_setup, .fini = fx_teardown);
TestSuite(journal_index, .init = fx_setup, .fini = fx_teardown);

static const uint8_t gw[4] = { 192, 0, 2, 1 }, other_gw[4] = { 192, 0, 2, 9 };

/* An SA as the index sees it: id, direction, protocol, SPIs, local gateway. */
static struct sadb_sa *
sa_new(uint64_t id, Picsec__V1__SaDirection dir, Picsec__V1__IpsecProtocol proto,
    uint32_t spi, uint32_t aux)
{
	struct sadb_sa *sa = fx_keep(calloc(1, sizeof(*sa)));

	cr_assert_not_null(sa);
	sa->id = sa->msg.id = id;
	sa->msg.direction = dir;
	sa->msg.protocol = proto;
	sa->msg.spi = spi;
	sa->msg.auxiliary_spi = aux;
	memcpy(sa->local, gw, sizeof(gw));
	sa->local_msg.addr.len = sizeof(gw);
	return sa;
}

static bool
held(Picsec__V1__IpsecProtocol proto, uint32_t spi, uint64_t except)
{
	return sadb_spi_held(fx_sd, proto, spi, gw, sizeof(gw), except);
}

Test(spi_index, each_holder_counts_and_one_is_not_held_against_itself)
{
	struct sadb_sa *a = sa_new(1, DIR_IN, PROTO_ESP, 5000, 0);
	struct sadb_sa *b = sa_new(2, DIR_IN, PROTO_ESP, 5000, 0);

	cr_assert_not(held(PROTO_ESP, 5000, 0));
	sadb_spi_hold(fx_sd, a);
	cr_assert(held(PROTO_ESP, 5000, 0));
	cr_assert_not(held(PROTO_ESP, 5000, 1), "a does not hold it against itself");
	cr_assert(held(PROTO_ESP, 5000, 2));
	cr_assert_not(held(PROTO_AH, 5000, 0), "per protocol (RFC 4301 §4.1)");
	cr_assert_not(sadb_spi_held(fx_sd, PROTO_ESP, 5000, other_gw, sizeof(other_gw), 0),
	    "per destination");
	/* A second holder (a commit's manual SA over a negotiated one): held until both go. */
	sadb_spi_hold(fx_sd, b);
	cr_assert(held(PROTO_ESP, 5000, 1), "b holds it");
	cr_assert(held(PROTO_ESP, 5000, 2), "a holds it");
	sadb_spi_release(fx_sd, a);
	cr_assert(held(PROTO_ESP, 5000, 1));
	cr_assert_not(held(PROTO_ESP, 5000, 2), "b alone");
	sadb_spi_release(fx_sd, b);
	cr_assert_not(held(PROTO_ESP, 5000, 0));
	cr_assert_eq(u64map_count(fx_sd->spis_held), 0, "nothing left behind");
}

Test(spi_index, a_bundle_holds_both_spis_under_both_protocols_outbound_sas_none)
{
	struct sadb_sa *bundle = sa_new(3, DIR_IN, PROTO_BUNDLE, 100, 200);
	struct sadb_sa *out = sa_new(4, DIR_OUT, PROTO_ESP, 300, 0);

	sadb_spi_hold(fx_sd, bundle);
	sadb_spi_hold(fx_sd, out);
	cr_assert(held(PROTO_AH, 100, 0) && held(PROTO_ESP, 100, 0));
	cr_assert(held(PROTO_AH, 200, 0) && held(PROTO_ESP, 200, 0));
	cr_assert_not(held(PROTO_ESP, 300, 0), "the peer's SPI is the peer's to choose");
	sadb_spi_release(fx_sd, bundle);
	sadb_spi_release(fx_sd, out);
	cr_assert_not(held(PROTO_AH, 100, 0) || held(PROTO_ESP, 200, 0));
	cr_assert_eq(u64map_count(fx_sd->spis_held), 0);
}

Test(spi_index, an_installed_spi_leaves_the_allocation_map_for_the_index)
{
	static const uint32_t draw = 0x4242 - 256; /* randombytes_uniform(...) + 256 */
	struct sadb_sa *sa;
	uint32_t spi;

	fx_random_script(&draw, 1);
	spi = sadb_spi_alloc(fx_sd, PROTO_ESP, gw, sizeof(gw));
	cr_assert_eq(spi, 0x4242);
	cr_assert_eq(u64map_count(fx_sd->spis), 1);
	sa = sa_new(5, DIR_IN, PROTO_ESP, spi, 0);
	sadb_spi_hold(fx_sd, sa);
	sadb_spi_installed(fx_sd, sa);
	cr_assert_eq(u64map_count(fx_sd->spis), 0, "the map holds only what is still out");
	/* Still not handed out again: the SA holds it. */
	fx_random_script(&draw, 1);
	cr_assert_neq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw, sizeof(gw)), spi);
	sadb_spi_release(fx_sd, sa);
}

Test(journal_index, an_sa_that_goes_takes_all_its_marks_and_only_its_own)
{
	sadb_journal_note(fx_sd, 7, 1, 100);
	sadb_journal_note(fx_sd, 7, 2, 200); /* the same SA under another key */
	sadb_journal_note(fx_sd, 8, 1, 300);
	cr_assert_eq(sadb_journal_start(fx_sd, 7, 1), 100 + SADB_SEQ_MARGIN);
	cr_assert_eq(sadb_journal_start(fx_sd, 7, 2), 200 + SADB_SEQ_MARGIN);
	sadb_journal_forget(fx_sd, 7);
	cr_assert_eq(sadb_journal_start(fx_sd, 7, 1), 0);
	cr_assert_eq(sadb_journal_start(fx_sd, 7, 2), 0);
	cr_assert_eq(sadb_journal_start(fx_sd, 8, 1), 300 + SADB_SEQ_MARGIN);
	cr_assert_eq(u64map_count(fx_sd->marks), 1);
	sadb_journal_forget(fx_sd, 7); /* again: nothing */
	sadb_journal_forget(fx_sd, 8);
	cr_assert_eq(u64map_count(fx_sd->marks), 0);
	cr_assert_eq(u64map_count(fx_sd->marks_by_id), 0);
}

Test(journal_index, nothing_sent_is_nothing_to_remember)
{
	size_t before = u64map_count(fx_sd->marks);

	/* Every idle outbound SA reports 0: 50,000 of them are no 50,000 marks to write. */
	sadb_journal_note(fx_sd, 9, 1, 0);
	cr_assert_eq(u64map_count(fx_sd->marks), before);
	sadb_journal_note(fx_sd, 9, 1, 5);
	sadb_journal_note(fx_sd, 9, 1, 0); /* never backwards */
	cr_assert_eq(sadb_journal_start(fx_sd, 9, 1), 5 + SADB_SEQ_MARGIN);
}
