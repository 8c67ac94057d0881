/* picsec-sadb's state beyond the configuration: the sequence-number journal on disk, SPI
 * allocation, and lifetimes in seconds (real timers on the loop) and kilobytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include <criterion/criterion.h>

#include "catalog.h"
#include "envelope.h"
#include "sadb_fixture.h"
#include "testutil.h"
#include "timer.h"
#include "u64map.h"

static void
journal_path(char *out, size_t len)
{
	snprintf(out, len, "%s/sadb-seq", fx_dir);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* The whole file, binary or not; its length in *len. */
static uint8_t *
read_bytes(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;

	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert_not_null(f = fopen(path, "r"));
	buf = fx_keep(calloc(1, (size_t)st.st_size + 1));
	cr_assert_not_null(buf);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	cr_assert_eq(*len, (size_t)st.st_size);
	return buf;
}

/* ---------------------------------------------------------------------------------- */
TestSuite(journal, .init = fx_setup, .fini = fx_teardown);

Test(journal, a_mark_survives_a_restart)
{
	struct sadb *again;

	sadb_journal_note(fx_sd, 0x1234, 0xf00d, 777);
	cr_assert(fx_sd->marks_dirty);
	sadb_journal_flush(fx_sd);
	cr_assert_not(fx_sd->marks_dirty);

	again = fx_sadb_new(fx_dir);
	cr_assert_eq(sadb_journal_start(again, 0x1234, 0xf00d), 777 + SADB_SEQ_MARGIN);
	cr_assert_eq(sadb_journal_start(again, 0x1234, 0xbeef), 0, "a new key starts afresh");
	cr_assert_eq(sadb_journal_start(again, 0x4321, 0xf00d), 0, "an SA it never saw");
}

Test(journal, marks_only_go_up_under_one_key)
{
	sadb_journal_note(fx_sd, 1, 0xaa, 100);
	sadb_journal_note(fx_sd, 1, 0xaa, 50);
	cr_assert_eq(sadb_journal_start(fx_sd, 1, 0xaa), 100 + SADB_SEQ_MARGIN);
	/* A new key has its own mark; the old key's stays, so that rolling back to it
	 * continues above where it was (it must never send 1..100 again). */
	sadb_journal_note(fx_sd, 1, 0xbb, 10);
	cr_assert_eq(sadb_journal_start(fx_sd, 1, 0xbb), 10 + SADB_SEQ_MARGIN);
	cr_assert_eq(sadb_journal_start(fx_sd, 1, 0xaa), 100 + SADB_SEQ_MARGIN);
	cr_assert_eq(sadb_journal_start(fx_sd, 1, 0xcc), 0, "a key never used starts at 1");
	/* Nothing sent yet: nothing to stay above. */
	sadb_journal_note(fx_sd, 2, 0xaa, 0);
	cr_assert_eq(sadb_journal_start(fx_sd, 2, 0xaa), 0);
	/* Near the end of the space, the start saturates instead of wrapping. */
	sadb_journal_note(fx_sd, 3, 0xaa, UINT64_MAX - 5);
	cr_assert_eq(sadb_journal_start(fx_sd, 3, 0xaa), UINT64_MAX);
}

static bool
contains(const uint8_t *hay, size_t len, const void *needle, size_t nlen)
{
	return memmem(hay, len, needle, nlen) != NULL;
}

Test(journal, the_file_holds_no_key_material)
{
	char path[128], idtext[40];
	struct sadb_sa *sa;
	struct stat st;
	uint8_t *bytes;
	size_t len;

	sadb_config(fx_sd, CONF(0));
	for (sa = sadb_pic_find(fx_sd, "ms-0/0/0")->sas; sa != NULL; sa = sa->next)
		sadb_journal_note(fx_sd, sa->id, sa->key_fingerprint, 42);
	sadb_journal_flush(fx_sd);
	journal_path(path, sizeof(path));
	bytes = read_bytes(path, &len);
	cr_assert_gt(len, 0);
	sa = fx_sa(sadb_pic_find(fx_sd, "ms-0/0/0"), "t1", DIR_OUT);
	snprintf(idtext, sizeof(idtext), "%016llx", (unsigned long long)sa->id);
	cr_assert(contains(bytes, len, idtext, strlen(idtext)), "the mark is not in the file");
	cr_assert_not(contains(bytes, len, FX_AUTH_KEY, strlen(FX_AUTH_KEY)));
	cr_assert_not(contains(bytes, len, fx_key_in, sizeof(fx_key_in)));
	cr_assert_not(contains(bytes, len, fx_key_out, sizeof(fx_key_out)));
	cr_assert_not(contains(bytes, len, FX_KEY_IN, strlen(FX_KEY_IN)));
	cr_assert_not(contains(bytes, len, FX_KEY_OUT, strlen(FX_KEY_OUT)));
	cr_assert_not(contains(bytes, len, FX_KEY_IN, 8), "a piece of a key in hex");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
}

Test(journal, unreadable_lines_are_skipped_and_the_rest_kept)
{
	char path[128];
	struct sadb *again;

	journal_path(path, sizeof(path));
	write_file(path,
	    "# picsec-sadb: a comment\n"
	    "0000000000001234 000000000000f00d 777\n"
	    "this is not a journal line\n"
	    "0000000000000000 000000000000f00d 5\n" /* id 0 is no SA */
	    "00000000000000ab 00000000000000cd\n"   /* no number */
	    "\n"
	    "0000000000005678 000000000000beef 900\n"
	    "0000000000009999 0000000000000001 12"); /* the last line without its newline */
	again = fx_sadb_new(fx_dir);
	cr_assert_eq(u64map_count(again->marks), 3);
	cr_assert_eq(sadb_journal_start(again, 0x1234, 0xf00d), 777 + SADB_SEQ_MARGIN);
	cr_assert_eq(sadb_journal_start(again, 0x5678, 0xbeef), 900 + SADB_SEQ_MARGIN);
	cr_assert_eq(sadb_journal_start(again, 0x9999, 0x1), 12 + SADB_SEQ_MARGIN);
	cr_assert_eq(sadb_journal_start(again, 0xab, 0xcd), 0);
}

/* A journal sadb cannot read makes sadb_new fail, and must stay as it is: it holds the
 * numbers that keep a restarted PIC from sending a sequence number twice under the same
 * key. Unreadable for root too: a symbolic link to itself (ELOOP), which a flush would
 * replace with a regular file. */
Test(journal, a_journal_that_cannot_be_read_is_left_alone)
{
	char path[128], err[256];
	struct sadb_options opts = { .statedir = fx_dir };
	struct sadb *sd;
	struct stat st;

	journal_path(path, sizeof(path));
	cr_assert_eq(symlink(path, path), 0);
	sd = sadb_new(fx_loop, NULL, &opts, err, sizeof(err));
	cr_assert_null(sd, "sadb_new did not fail on an unreadable journal");
	cr_assert(strstr(err, path) != NULL, "the reason names the journal: %s", err);
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert(S_ISLNK(st.st_mode), "the unreadable journal was replaced (mode %o)",
	    (unsigned)st.st_mode);
	cr_assert_eq(unlink(path), 0);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(spi, .init = fx_setup, .fini = fx_teardown);

static const uint8_t gw1[4] = { 192, 0, 2, 1 }, gw9[4] = { 192, 0, 2, 9 };

/* randombytes_uniform's draw that sadb turns into spi. */
#define DRAW(spi) ((uint32_t)(spi) - 256)

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The example configures ESP SPI 16000 in both directions, local gateway 192.0.2.1. */
static void
configure_example(void)
{
	sadb_config(fx_sd, fx_snapshot_file("PICSEC_EXAMPLES", "two-site-manual-esp-a.conf",
	    fx_generation++));
	cr_assert_eq(fx_sa(sadb_pic_find(fx_sd, "ms-0/0/0"), "t1", DIR_IN)->msg.spi, 16000);
}

Test(spi, ten_thousand_are_unique_and_never_the_configured_one)
{
	enum { N = 10000 };
	uint32_t *spis = fx_keep(calloc(N, sizeof(*spis)));
	size_t i;

	cr_assert_not_null(spis);
	configure_example();
	for (i = 0; i < N; i++) {
		spis[i] = sadb_spi_alloc(fx_sd, PROTO_ESP, gw1, sizeof(gw1));
		cr_assert_geq(spis[i], 256, "SPI %u (allocation %zu)", spis[i], i);
		cr_assert_neq(spis[i], 16000);
	}
	qsort(spis, N, sizeof(*spis), cmp_u32);
	for (i = 1; i < N; i++)
		cr_assert_neq(spis[i - 1], spis[i], "SPI %u handed out twice", spis[i]);
	cr_assert_eq(u64map_count(fx_sd->spis), N);
}

Test(spi, a_configured_inbound_spi_is_skipped)
{
	configure_example();
	fx_random_script((const uint32_t[]){ DRAW(16000), DRAW(16000), DRAW(4000) }, 3);
	cr_assert_eq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw1, sizeof(gw1)), 4000);
	/* Only for the gateway the configured SA is on. */
	fx_random_script((const uint32_t[]){ DRAW(16000) }, 1);
	cr_assert_eq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw9, sizeof(gw9)), 16000);
}

Test(spi, esp_and_ah_are_separate_spaces)
{
	fx_random_script((const uint32_t[]){ DRAW(5000), DRAW(5000), DRAW(5000), DRAW(6000) },
	    4);
	cr_assert_eq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw1, sizeof(gw1)), 5000);
	cr_assert_eq(sadb_spi_alloc(fx_sd, PROTO_AH, gw1, sizeof(gw1)), 5000);
	cr_assert_eq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw1, sizeof(gw1)), 6000);
}

Test(spi, the_extremes_and_a_space_that_seems_full)
{
	uint32_t same[64];
	size_t i;

	fx_random_script((const uint32_t[]){ DRAW(256), DRAW(UINT32_MAX) }, 2);
	cr_assert_eq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw1, sizeof(gw1)), 256);
	cr_assert_eq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw1, sizeof(gw1)), UINT32_MAX);
	/* 64 draws of a taken SPI: sadb gives up rather than loop forever. */
	for (i = 0; i < 64; i++)
		same[i] = DRAW(256);
	fx_random_script(same, 64);
	cr_assert_eq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw1, sizeof(gw1)), 0);
	cr_assert_geq(sadb_spi_alloc(fx_sd, PROTO_ESP, gw1, sizeof(gw1)), 256);
}

/* ---------------------------------------------------------------------------------- */
TestSuite(lifetime, .init = fx_setup, .fini = fx_teardown);

/* The configuration's outbound SA, made a negotiated one with these lifetimes and applied
 * as a commit would (sadb_config applies, then arms). */
static struct sadb_sa *
with_lifetimes(uint64_t soft_s, uint64_t hard_s, uint64_t soft_kb, uint64_t hard_kb)
{
	struct sadb_pic *want = fx_build(fx_sd, CONF(0));
	struct sadb_sa *sa = fx_sa(want, "t1", DIR_OUT);

	sa->msg.origin = ORIGIN_DYNAMIC;
	sa->msg.soft_lifetime_seconds = soft_s;
	sa->msg.hard_lifetime_seconds = hard_s;
	sa->msg.soft_lifetime_kbytes = soft_kb;
	sa->msg.hard_lifetime_kbytes = hard_kb;
	fx_apply(fx_sd, want);
	sadb_lifetimes_arm(fx_sd);
	sa = fx_sa(sadb_pic_find(fx_sd, "ms-0/0/0"), "t1", DIR_OUT);
	cr_assert_not_null(sa);
	return sa;
}

static bool
sa_gone(void *arg)
{
	return u64map_get(fx_sd->sas_by_id, *(uint64_t *)arg) == NULL;
}

static size_t
count_expiries(void)
{
	size_t i, n = 0;

	for (i = 0; i < fx_npubs(); i++)
		n += fx_pub(i)->type == MT(SA_EXPIRE);
	return n;
}

static bool
one_expiry(void *arg)
{
	(void)arg;
	return count_expiries() > 0;
}

Test(lifetime, manual_sas_arm_no_timers)
{
	size_t before = timers_count(fx_sd->timers); /* sadb's own periodic check */

	sadb_config(fx_sd, CONF(0));
	cr_assert_eq(timers_count(fx_sd->timers), before);
}

Test(lifetime, seconds_soft_then_hard)
{
	struct sadb_sa *sa = with_lifetimes(1, 2, 0, 0);
	const Picsec__V1__SaExpire *soft, *hard;
	const Picsec__V1__SaUpdate *u;
	uint64_t id = sa->id, inbound = fx_sa(sa->pic, "t1", DIR_IN)->id, t0 = monotonic_ms();

	fx_pubs_clear(); /* the update that made it dynamic */
	cr_assert(test_run_until(fx_loop, sa_gone, &id, 4000), "no hard expiry in 4 s");
	test_run_for(fx_loop, 200);
	cr_assert_eq(fx_npubs(), 3);
	soft = fx_expire(0);
	hard = fx_expire(1);
	u = fx_update(2, "ms-0/0/0");
	cr_assert_eq(soft->id, id);
	cr_assert_not(soft->hard);
	cr_assert_str_eq(soft->reason, "seconds");
	cr_assert_eq(hard->id, id);
	cr_assert(hard->hard);
	cr_assert_str_eq(hard->reason, "seconds");
	cr_assert_geq(fx_pub(0)->at_ms - t0, 900, "soft after %llu ms",
	    (unsigned long long)(fx_pub(0)->at_ms - t0));
	cr_assert_geq(fx_pub(1)->at_ms - t0, 1900, "hard after %llu ms",
	    (unsigned long long)(fx_pub(1)->at_ms - t0));
	cr_assert_eq(u->n_upsert, 0);
	cr_assert_eq(u->n_remove, 1);
	cr_assert_eq(u->remove[0], id);
	cr_assert_null(fx_sa(sadb_pic_find(fx_sd, "ms-0/0/0"), "t1", DIR_OUT));
	cr_assert_not_null(u64map_get(fx_sd->sas_by_id, inbound), "the other SA stays");
}

Test(lifetime, kilobytes_soft_then_hard)
{
	struct sadb_sa *sa = with_lifetimes(0, 0, 10, 20);
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;
	Picsec__V1__SaUsage usage = PICSEC__V1__SA_USAGE__INIT, *usages[1] = { &usage };
	const Picsec__V1__SaExpire *ex;
	const Picsec__V1__SaUpdate *u;
	uint64_t id = sa->id;

	fx_pubs_clear();
	sadb_lifetime_bytes(fx_sd, sa, 10 * 1024 - 1);
	cr_assert_eq(fx_npubs(), 0);
	cr_assert_eq(sa->bytes, 10 * 1024 - 1);
	sadb_lifetime_bytes(fx_sd, sa, 10 * 1024);
	cr_assert_eq(fx_npubs(), 1);
	ex = fx_expire(0);
	cr_assert_eq(ex->id, id);
	cr_assert_not(ex->hard);
	cr_assert_str_eq(ex->reason, "kilobytes");
	cr_assert(sa->soft_expired);
	sadb_lifetime_bytes(fx_sd, sa, 15 * 1024);
	cr_assert_eq(fx_npubs(), 1, "the soft limit is announced once");

	/* The hard limit, as the PIC reports it. */
	usage.id = id;
	usage.seq = 10;
	usage.bytes = 20 * 1024;
	st.pic = STR("ms-0/0/0");
	st.usage = usages;
	st.n_usage = 1;
	sadb_pic_status(fx_sd, &st);
	cr_assert_eq(fx_npubs(), 3);
	ex = fx_expire(1);
	cr_assert_eq(ex->id, id);
	cr_assert(ex->hard);
	cr_assert_str_eq(ex->reason, "kilobytes");
	u = fx_update(2, "ms-0/0/0");
	cr_assert_eq(u->n_remove, 1);
	cr_assert_eq(u->remove[0], id);
	cr_assert_null(u64map_get(fx_sd->sas_by_id, id));
	cr_assert_null(fx_sa(sadb_pic_find(fx_sd, "ms-0/0/0"), "t1", DIR_OUT));
}

/* A commit re-applies every SA (sadb_config: sadb_apply, then sadb_lifetimes_arm). An SA
 * whose soft lifetime ran out before must not be announced as soft-expired again. */
Test(lifetime, a_soft_expiry_is_announced_once_across_commits)
{
	uint64_t id = with_lifetimes(1, 100, 0, 0)->id;

	fx_pubs_clear();
	cr_assert(test_run_until(fx_loop, one_expiry, NULL, 3000), "no soft expiry in 3 s");
	cr_assert_eq(fx_expire(0)->id, id);
	fx_pubs_clear();

	with_lifetimes(1, 100, 0, 0); /* the same SA again: no change, nothing published */
	cr_assert_eq(fx_npubs(), 0);
	test_run_for(fx_loop, 500);
	cr_assert_eq(count_expiries(), 0, "the soft expiry was announced again after a commit");
}
