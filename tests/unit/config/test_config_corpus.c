/* The configuration corpora (tests/corpus/config):
 *
 * valid/NAME.conf    a configuration in canonical braces form: it parses without a word, passes
 *                    the commit checks (warnings only where the file means to use a deprecated
 *                    algorithm, see expected_warnings), and displays back byte for byte.
 * valid/NAME.set     the same configuration as set commands: it loads into the same tree.
 * invalid/NAME.conf  breaks one commit rule (or the syntax) once.
 * invalid/NAME.expect the lines the report must hold: banner, quoted statement, the
 *                    file:line:col error, and the "check-out failed" footer.
 *
 * The corpus directory comes from PICSEC_CORPUS (tests/meson.build). Every file is one
 * parameterized test, so a failure names its file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "cfg_snapshot.h"
#include "config.h"
#include "testutil.h"

#define FOOTER "configuration check-out failed"

struct corpus_file {
	char name[128]; /* without the extension */
};

/* Files of valid/ whose checks warn on purpose (deprecated algorithms, RFC 8221/8247), and
 * how many warnings each must give: no more, no fewer. Every other valid file: none. */
static const struct {
	const char *name;
	size_t warnings;
} expected_warnings[] = {
	{ "manual-esp-3des-sha1", 2 },		  /* 3des-cbc in both directions */
	{ "manual-esp-des-md5-bidirectional", 4 }, /* des-cbc and hmac-md5-96, two terms */
};

static size_t
warnings_for(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(expected_warnings) / sizeof(expected_warnings[0]); i++) {
		if (strcmp(expected_warnings[i].name, name) == 0)
			return expected_warnings[i].warnings;
	}
	return 0;
}

static const char *
corpus_root(void)
{
	const char *root = getenv("PICSEC_CORPUS");

	return root != NULL && root[0] != '\0' ? root : NULL;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct corpus_file *)a)->name, ((const struct corpus_file *)b)->name);
}

/* The names (without suffix) of sub/ *suffix, sorted; allocated with alloc (cr_malloc for
 * parameters, which must outlive the runner's fork). */
static struct corpus_file *
corpus_list(const char *sub, const char *suffix, size_t *count, void *(*alloc)(size_t))
{
	char dir[4096];
	struct corpus_file *files = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	*count = 0;
	if (corpus_root() == NULL)
		return NULL;
	snprintf(dir, sizeof(dir), "%s/config/%s", corpus_root(), sub);
	d = opendir(dir);
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (!has_suffix(e->d_name, suffix) ||
		    strlen(e->d_name) - strlen(suffix) >= sizeof(files->name))
			continue;
		if (n == cap) {
			cap = cap > 0 ? cap * 2 : 64;
			grown = realloc(files, cap * sizeof(*files));
			if (grown == NULL)
				break;
			files = grown;
		}
		snprintf(files[n].name, sizeof(files[n].name), "%.*s",
		    (int)(strlen(e->d_name) - strlen(suffix)), e->d_name);
		n++;
	}
	closedir(d);
	if (n == 0) {
		free(files);
		return NULL;
	}
	qsort(files, n, sizeof(*files), cmp_names);
	if (alloc != malloc) {
		struct corpus_file *shared = alloc(n * sizeof(*files));

		if (shared != NULL)
			memcpy(shared, files, n * sizeof(*files));
		free(files);
		files = shared;
		if (files == NULL)
			return NULL;
	}
	*count = n;
	return files;
}

static void
free_params(struct criterion_test_params *ctp)
{
	cr_free(ctp->params);
}

static void *
shared_alloc(size_t n)
{
	return cr_malloc(n);
}

/* Reads sub/name+suffix; fails the test when it cannot. */
static char *
corpus_read(const char *sub, const char *name, const char *suffix)
{
	char path[4096];
	char *text;

	snprintf(path, sizeof(path), "%s/config/%s/%s%s", corpus_root(), sub, name, suffix);
	text = test_read_file(path);
	cr_assert_not_null(text, "cannot read %s", path);
	return text;
}

static char *
diags_text(const struct cfg_diags *d)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	cfg_diags_format(d, &sb, FOOTER);
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

/* The first line where two texts differ, for a readable failure. */
static void
first_difference(const char *want, const char *got, char *out, size_t outlen)
{
	unsigned line = 1;
	const char *w = want, *g = got;
	int wl, gl;

	while (*w != '\0' && *w == *g) {
		if (*w == '\n') {
			line++;
			want = w + 1;
			got = g + 1;
		}
		w++;
		g++;
	}
	wl = (int)strcspn(want, "\n");
	gl = (int)strcspn(got, "\n");
	snprintf(out, outlen, "line %u: want \"%.*s\", got \"%.*s\"", line, wl, want, gl, got);
}

static void
assert_same_text(const char *what, const char *file, const char *want, const char *got)
{
	char where[1024];

	if (strcmp(want, got) == 0)
		return;
	first_difference(want, got, where, sizeof(where));
	cr_assert_fail("%s: %s differs from the file: %s", file, what, where);
}

/* A configuration as the set form can carry it: annotations are not part of set commands
 * (Junos `show | display set` drops them too). */
static void
strip_annotations(struct cfg_node *n)
{
	struct cfg_node *c;

	free(n->annotation);
	n->annotation = NULL;
	for (c = n->first; c != NULL; c = c->next)
		strip_annotations(c);
}

/* The braces text without its annotation lines. */
static char *
text_without_annotations(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	const char *line, *nl, *start;

	cr_assert_not_null(out);
	for (line = text; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line) - 1;
		start = line + strspn(line, " ");
		if (strncmp(start, "/* ", 3) == 0 && nl - line >= 3 && strncmp(nl - 3, " */", 3) == 0)
			continue;
		memcpy(o, line, (size_t)(nl - line) + 1);
		o += nl - line + 1;
	}
	*o = '\0';
	return out;
}

static char *
display(const struct cfg_node *tree, bool set_form)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	if (set_form)
		cfg_display_set(tree, &sb);
	else
		cfg_display(tree, &sb);
	cr_assert(!strbuf_failed(&sb));
	s = strdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return s;
}

/* Parses text, asserting that the parse says nothing at all. */
static struct cfg_node *
parse_clean(const char *file, const char *text, enum cfg_format fmt)
{
	struct cfg_diags d = CFG_DIAGS_INIT;
	struct cfg_node *tree = cfg_parse(file, text, strlen(text), fmt, &d);
	char *report;

	cr_assert_not_null(tree, "%s: out of memory", file);
	if (d.count > 0) {
		report = diags_text(&d);
		cr_assert_fail("%s: parsing reported:\n%s", file, report);
	}
	cfg_diags_free(&d);
	return tree;
}

Test(config_corpus, corpus_is_there_and_complete)
{
	struct corpus_file *valid, *sets, *invalid, *expects;
	size_t nvalid, nsets, ninvalid, nexpects, i;

	cr_assert_not_null(corpus_root(), "PICSEC_CORPUS is not set (tests/meson.build sets it)");
	valid = corpus_list("valid", ".conf", &nvalid, malloc);
	sets = corpus_list("valid", ".set", &nsets, malloc);
	invalid = corpus_list("invalid", ".conf", &ninvalid, malloc);
	expects = corpus_list("invalid", ".expect", &nexpects, malloc);
	cr_assert_geq(nvalid, 10, "only %zu valid configurations in %s/config/valid", nvalid,
	    corpus_root());
	cr_assert_geq(ninvalid, 40, "only %zu invalid configurations in %s/config/invalid",
	    ninvalid, corpus_root());
	/* Every .conf has its twin, and nothing is left over. */
	cr_assert_eq(nsets, nvalid, "%zu .set twins for %zu valid .conf files", nsets, nvalid);
	for (i = 0; i < nvalid; i++)
		cr_assert_str_eq(sets[i].name, valid[i].name, "valid/%s.conf: no twin",
		    valid[i].name);
	cr_assert_eq(nexpects, ninvalid, "%zu .expect files for %zu invalid .conf files",
	    nexpects, ninvalid);
	for (i = 0; i < ninvalid; i++)
		cr_assert_str_eq(expects[i].name, invalid[i].name, "invalid/%s.conf: no .expect",
		    invalid[i].name);
	/* The list of deliberate warnings names real files. */
	for (i = 0; i < sizeof(expected_warnings) / sizeof(expected_warnings[0]); i++) {
		size_t j;
		bool found = false;

		for (j = 0; j < nvalid; j++)
			found = found || strcmp(valid[j].name, expected_warnings[i].name) == 0;
		cr_assert(found, "expected_warnings names %s, which is not in valid/",
		    expected_warnings[i].name);
	}
	free(valid);
	free(sets);
	free(invalid);
	free(expects);
}

ParameterizedTestParameters(config_corpus, valid)
{
	size_t n;
	struct corpus_file *files = corpus_list("valid", ".conf", &n, shared_alloc);

	return cr_make_param_array(struct corpus_file, files, n, free_params);
}

/* The snapshots of two trees, packed: equal bytes, and something in them. */
static void
assert_same_snapshot(const char *name, const struct cfg_node *a, const struct cfg_node *b)
{
	struct cfg_snapshot *sa = cfg_snapshot_build(a, 7, "corpus", "", 1);
	struct cfg_snapshot *sb = cfg_snapshot_build(b, 7, "corpus", "", 1);
	const ProtobufCMessage *ma, *mb;
	uint8_t *pa, *pb;
	size_t la, lb;

	cr_assert(sa != NULL && sb != NULL, "%s: no snapshot", name);
	ma = &cfg_snapshot_msg(sa)->base;
	mb = &cfg_snapshot_msg(sb)->base;
	la = protobuf_c_message_get_packed_size(ma);
	lb = protobuf_c_message_get_packed_size(mb);
	cr_assert_gt(la, 64, "%s: the snapshot is (nearly) empty", name);
	cr_assert_eq(la, lb, "%s: snapshots of %zu and %zu bytes", name, la, lb);
	pa = malloc(la);
	pb = malloc(lb);
	cr_assert(pa != NULL && pb != NULL);
	protobuf_c_message_pack(ma, pa);
	protobuf_c_message_pack(mb, pb);
	cr_assert(memcmp(pa, pb, la) == 0, "%s: the two forms give different snapshots", name);
	free(pa);
	free(pb);
	cfg_snapshot_free(sa);
	cfg_snapshot_free(sb);
}

ParameterizedTest(struct corpus_file *f, config_corpus, valid)
{
	char conf_name[160], set_name[160];
	char *text, *set_text, *shown, *plain, *set_lines, *report;
	struct cfg_node *tree, *stripped, *twin, *again;
	struct cfg_diags d = CFG_DIAGS_INIT;
	size_t want_warnings = warnings_for(f->name);

	snprintf(conf_name, sizeof(conf_name), "%s.conf", f->name);
	snprintf(set_name, sizeof(set_name), "%s.set", f->name);
	text = corpus_read("valid", f->name, ".conf");
	set_text = corpus_read("valid", f->name, ".set");

	/* Braces form: no word from the parser, no error from the checks. */
	tree = parse_clean(conf_name, text, CFG_FORMAT_AUTO);
	cr_assert_gt(cfg_node_count(tree), 10, "%s: the tree is (nearly) empty", conf_name);
	cfg_check(tree, &d);
	report = diags_text(&d);
	cr_assert_eq(d.errors, 0, "%s: the commit checks failed:\n%s", conf_name, report);
	cr_assert_eq(d.warnings, want_warnings, "%s: %zu warnings, want %zu:\n%s", conf_name,
	    d.warnings, want_warnings, report);
	free(report);
	cfg_diags_free(&d);

	/* Canonical: it displays back as it is written. */
	shown = display(tree, false);
	assert_same_text("cfg_display", conf_name, text, shown);
	free(shown);

	/* The set twin loads into the same tree (annotations aside: set commands cannot carry
	 * them) and shows the same. */
	stripped = cfg_node_copy(tree);
	cr_assert_not_null(stripped);
	strip_annotations(stripped);
	twin = parse_clean(set_name, set_text, CFG_FORMAT_AUTO);
	cr_assert(cfg_node_equal(stripped, twin), "%s: the tree of %s differs", set_name,
	    conf_name);
	plain = text_without_annotations(text);
	shown = display(twin, false);
	assert_same_text("cfg_display of the set twin", set_name, plain, shown);
	free(shown);

	/* cfg_display_set, read back, is the same configuration again. */
	set_lines = display(tree, true);
	cr_assert(strncmp(set_lines, "set ", 4) == 0, "%s: display_set starts with \"%.20s\"",
	    conf_name, set_lines);
	again = parse_clean("display-set", set_lines, CFG_FORMAT_SET);
	cr_assert(cfg_node_equal(stripped, again),
	    "%s: cfg_display_set does not read back as the same tree:\n%s", conf_name, set_lines);
	shown = display(again, true);
	assert_same_text("cfg_display_set of the reread tree", conf_name, set_lines, shown);
	free(shown);
	/* And the twin's own set display is the same as the file's. */
	shown = display(twin, true);
	assert_same_text("cfg_display_set of the set twin", set_name, set_lines, shown);
	free(shown);

	/* The twin passes the checks the same way. */
	cfg_check(twin, &d);
	cr_assert_eq(d.errors, 0, "%s: errors in the set twin", set_name);
	cr_assert_eq(d.warnings, want_warnings, "%s: %zu warnings, want %zu", set_name,
	    d.warnings, want_warnings);
	cfg_diags_free(&d);

	/* What the services get: both forms give the same snapshot, to the byte. */
	assert_same_snapshot(f->name, tree, twin);

	cfg_node_free(again);
	cfg_node_free(twin);
	cfg_node_free(stripped);
	cfg_node_free(tree);
	free(set_lines);
	free(plain);
	free(set_text);
	free(text);
}

/* Lines of the report that are errors (not warnings), the footer left out. */
static size_t
count_error_lines(const char *text)
{
	const char *line, *nl;
	size_t n = 0;

	for (line = text; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if (strncmp(line, "    ", 4) == 0) {
			const char *e = strstr(line, "error: ");

			if (e != NULL && e < nl)
				n++;
		}
		if (*nl == '\0')
			break;
	}
	return n;
}

static bool
has_line(const char *text, const char *line, size_t len)
{
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			return true;
		p++;
	}
	return false;
}

ParameterizedTestParameters(config_corpus, invalid)
{
	size_t n;
	struct corpus_file *files = corpus_list("invalid", ".conf", &n, shared_alloc);

	return cr_make_param_array(struct corpus_file, files, n, free_params);
}

ParameterizedTest(struct corpus_file *f, config_corpus, invalid)
{
	char conf_name[160], wanted[2048];
	char *text, *expect, *report;
	const char *line, *nl;
	struct cfg_diags d = CFG_DIAGS_INIT, ignored = CFG_DIAGS_INIT;
	struct cfg_node *tree;
	size_t lines = 0;

	snprintf(conf_name, sizeof(conf_name), "%s.conf", f->name);
	text = corpus_read("invalid", f->name, ".conf");
	expect = corpus_read("invalid", f->name, ".expect");

	tree = cfg_parse(conf_name, text, strlen(text), CFG_FORMAT_AUTO, &d);
	cr_assert_not_null(tree);
	/* What does not load is not checked (the checks would only repeat the damage), but the
	 * checks must survive whatever the parser left. */
	cfg_check(tree, d.errors == 0 ? &d : &ignored);
	cfg_diags_free(&ignored);
	report = diags_text(&d);
	cr_assert_gt(d.errors, 0, "%s: accepted, but it should fail:\n%s", conf_name, report);

	for (line = expect; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if (nl > line) {
			snprintf(wanted, sizeof(wanted), "%.*s", (int)(nl - line), line);
			cr_expect(has_line(report, wanted, strlen(wanted)),
			    "%s: the report lacks the line\n%s\nReport:\n%s", conf_name, wanted, report);
			lines++;
		}
		if (*nl == '\0')
			break;
	}
	cr_assert_geq(lines, 2, "%s.expect says too little", f->name);
	cr_assert(has_line(report, "error: " FOOTER, strlen("error: " FOOTER)));
	/* One broken rule, one error: no cascade of follow-on messages. */
	cr_expect_eq(count_error_lines(report), count_error_lines(expect),
	    "%s: %zu errors reported, %zu expected:\n%s", conf_name, count_error_lines(report),
	    count_error_lines(expect), report);

	cfg_node_free(tree);
	cfg_diags_free(&d);
	free(report);
	free(expect);
	free(text);
}
