/* The printer busmon uses: any message from its descriptor, Secrets redacted. The messages
 * here (tests/proto/testmsg.proto) have no printing code anywhere. */
#include <string.h>

#include <criterion/criterion.h>

#include "pbprint.h"
#include "testmsg.pb-c.h"

static unsigned char key_bytes[] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02 };
static uint32_t spis[] = { 256, 16639 };

static void
build(Picsec__Test__Outer *outer, Picsec__Test__Inner *inner, Picsec__V1__Secret *secret)
{
	picsec__v1__secret__init(secret);
	secret->material.data = key_bytes;
	secret->material.len = sizeof(key_bytes);
	picsec__test__inner__init(inner);
	inner->name = (char *)(uintptr_t)"sa \"one\"\n";
	inner->key = secret;
	inner->n_spis = 2;
	inner->spis = spis;
	picsec__test__outer__init(outer);
	outer->inner = inner;
	outer->when_ns = 1795790096123456789ULL; /* 2026-11-27T14:34:56.123456Z */
	outer->incarnation = 0xabcdef0123456789ULL;
	outer->delta = -5;
	outer->flag = 1;
	outer->code = PICSEC__V1__ERROR_CODE__E_NOT_FOUND;
	outer->choice_case = PICSEC__TEST__OUTER__CHOICE_NUMBER;
	outer->number = 7;
}

static char *
render(const ProtobufCMessage *m, enum pbprint_style style, bool show)
{
	struct pbprint_opts o = { .style = style, .show_secrets = show };
	struct strbuf sb = STRBUF_INIT;

	pbprint(&sb, m, &o);
	cr_assert_not(strbuf_failed(&sb));
	return sb.buf;
}

Test(pbprint, one_line_with_defaults_left_out)
{
	Picsec__Test__Outer outer;
	Picsec__Test__Inner inner;
	Picsec__V1__Secret secret;
	char *s;

	build(&outer, &inner, &secret);
	s = render(&outer.base, PBPRINT_LINE, false);
	cr_assert_str_eq(s,
	    "{inner={name=\"sa \\\"one\\\"\\n\" key=<redacted> spis=[256, 16639]} "
	    "when_ns=2026-11-27T14:34:56.123456Z incarnation=abcdef0123456789 delta=-5 "
	    "flag=true code=E_NOT_FOUND number=7}");
	free(s);
}

Test(pbprint, json_is_proto3_mapping_and_redacts)
{
	Picsec__Test__Outer outer;
	Picsec__Test__Inner inner;
	Picsec__V1__Secret secret;
	char *s;

	build(&outer, &inner, &secret);
	s = render(&outer.base, PBPRINT_JSON, false);
	cr_assert_str_eq(s,
	    "{\"inner\":{\"name\":\"sa \\\"one\\\"\\n\",\"key\":\"<redacted>\",\"spis\":[256,16639]},"
	    "\"when_ns\":\"1795790096123456789\",\"incarnation\":\"abcdef0123456789\","
	    "\"delta\":\"-5\",\"flag\":true,\"code\":\"E_NOT_FOUND\",\"number\":7}");
	free(s);
}

Test(pbprint, secrets_show_only_when_asked)
{
	Picsec__Test__Outer outer;
	Picsec__Test__Inner inner;
	Picsec__V1__Secret secret;
	char *s;

	build(&outer, &inner, &secret);
	s = render(&outer.base, PBPRINT_LINE, true);
	cr_assert(strstr(s, "key={material=0xdeadbeef0102}") != NULL, "%s", s);
	free(s);
	s = render(&outer.base, PBPRINT_JSON, true);
	cr_assert(strstr(s, "\"key\":{\"material\":\"3q2+7wEC\"}") != NULL, "%s", s);
	free(s);
	/* A Secret printed on its own is redacted too, in every style. */
	s = render(&secret.base, PBPRINT_VERBOSE, false);
	cr_assert_str_eq(s, "<redacted>");
	free(s);
	s = render(&secret.base, PBPRINT_JSON, false);
	cr_assert_str_eq(s, "\"<redacted>\"");
	free(s);
}

Test(pbprint, verbose_prints_every_field)
{
	Picsec__Test__Outer outer;
	Picsec__Test__Inner inner;
	Picsec__V1__Secret secret;
	char *s;

	build(&outer, &inner, &secret);
	s = render(&outer.base, PBPRINT_VERBOSE, false);
	cr_assert(strstr(s, "\n  inner: {\n    name: \"sa \\\"one\\\"\\n\"\n    key: <redacted>\n") !=
	    NULL, "%s", s);
	cr_assert(strstr(s, "\n  ratio: 0\n") != NULL, "zero values are shown: %s", s);
	cr_assert(strstr(s, "\n  many: []\n") != NULL, "empty lists are shown: %s", s);
	cr_assert(strstr(s, "text:") == NULL, "the unset oneof member is not: %s", s);
	free(s);
}

Test(pbprint, bytes_and_strings_stay_readable)
{
	static const char bad_utf8[] = "ok \xc3\xa9 \xff\xfe end";
	unsigned char blob[40];
	Picsec__Test__Outer outer = PICSEC__TEST__OUTER__INIT;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)i;
	outer.blob.data = blob;
	outer.blob.len = sizeof(blob);
	outer.choice_case = PICSEC__TEST__OUTER__CHOICE_TEXT;
	outer.text = (char *)(uintptr_t)bad_utf8;
	s = render(&outer.base, PBPRINT_LINE, false);
	cr_assert(strstr(s, "blob=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "...(40 bytes)") != NULL, "%s", s);
	cr_assert(strstr(s, "text=\"ok \xc3\xa9 \\ufffd\\ufffd end\"") != NULL, "%s", s);
	free(s);
	s = render(&outer.base, PBPRINT_JSON, false);
	cr_assert(strstr(s, "\"blob\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJw==\"")
	    != NULL, "%s", s);
	free(s);
}

#include "catalog.h"

/* Which messages get wiped memory is decided from the descriptors, however deep the Secret. */
Test(pbprint, secret_holders_are_found_through_nesting)
{
	cr_assert(catalog_descriptor_holds_secret(&picsec__v1__secret__descriptor));
	cr_assert(catalog_descriptor_holds_secret(&picsec__test__inner__descriptor));
	cr_assert(catalog_descriptor_holds_secret(&picsec__test__outer__descriptor));
	cr_assert_not(catalog_descriptor_holds_secret(&picsec__v1__ping__descriptor));
	cr_assert_not(catalog_carries_secret(MT(HEARTBEAT)));
	cr_assert(catalog_carries_secret(4242), "an unknown type is treated as secret");
}
