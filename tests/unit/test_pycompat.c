/* The Python-compatible emitters against outputs recorded from CPython
 * (tests/fixtures/pycompat.tsv, written by scripts/gen-pycompat-fixture.py): repr() of floats
 * (shortest round trip, exponent form, binade edges), repr() of strings at every boundary of
 * str.isprintable() (unassigned code points escaped), json.dumps() as lms_json_dumps sends it,
 * and str() of json.loads() as pyrepr_json records it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "common/pycompat.h"
#include "drivers/pyrepr.h"
#include "engine/lms.h"

typedef struct counts {
    int checked, failed;
} counts;

/* Reports one mismatch (the first few are printed in full). */
static void mismatch(counts *c, int line, const char *kind, const char *input, const char *want, const char *got)
{
    if (c->failed++ < 10)
        fprintf(stderr, "pycompat.tsv:%d %s %s: Python prints %s, we print %s\n", line, kind, input, want,
                got ? got : "(NULL)");
}

/* The string a fixture field holds as a JSON string literal (malloc'd). */
static char *json_field(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    char *s = (j && cJSON_IsString(j)) ? strdup(j->valuestring) : NULL;
    cJSON_Delete(j);
    return s;
}

/* Runs every fixture line of kind `want_kind` through check(). */
static counts run_fixture(const char *want_kind, void (*check)(counts *, int, const char *, const char *))
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/pycompat.tsv", RETIRECTL_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    counts c = {0, 0};
    char *line = NULL;
    size_t cap = 0;
    int no = 0;
    while (getline(&line, &cap, f) > 0) {
        no++;
        line[strcspn(line, "\n")] = '\0';
        char *tab1 = strchr(line, '\t');
        char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (line[0] == '#' || !tab2) continue;
        *tab1 = *tab2 = '\0';
        if (strcmp(line, want_kind) != 0) continue;
        c.checked++;
        check(&c, no, tab1 + 1, tab2 + 1);
    }
    free(line);
    fclose(f);
    return c;
}

static void check_float(counts *c, int no, const char *in, const char *want)
{
    uint64_t bits = strtoull(in, NULL, 16);
    double v;
    memcpy(&v, &bits, sizeof v);
    char got[PY_FLOAT_REPR_MAX];
    py_float_repr(v, got);
    if (strcmp(got, want) != 0) mismatch(c, no, "float", in, want, got);
}

static void check_cp(counts *c, int no, const char *in, const char *want_json)
{
    uint32_t cp = (uint32_t)strtoul(in, NULL, 16);
    char *want = json_field(want_json);
    char *got = py_repr_codepoints(&cp, 1);
    if (!want || !got || strcmp(got, want) != 0) mismatch(c, no, "repr(chr(0x...))", in, want_json, got);
    free(want);
    free(got);
}

static void check_str(counts *c, int no, const char *in, const char *want_json)
{
    char *s = json_field(in), *want = json_field(want_json);
    char *got = s ? py_repr_str(s) : NULL;
    char *got2 = s ? pyrepr_str(s) : NULL; /* the drivers' entry point gives the same */
    if (!want || !got || strcmp(got, want) != 0) mismatch(c, no, "repr(str)", in, want_json, got);
    else if (!got2 || strcmp(got2, want) != 0) mismatch(c, no, "pyrepr_str", in, want_json, got2);
    free(s);
    free(want);
    free(got);
    free(got2);
}

static void check_dumps(counts *c, int no, const char *in, const char *want_json)
{
    cJSON *v = cJSON_Parse(in);
    char *want = json_field(want_json);
    char *got = v ? lms_json_dumps(v) : NULL;
    if (!want || !got || strcmp(got, want) != 0) mismatch(c, no, "json.dumps", in, want_json, got);
    cJSON_Delete(v);
    free(want);
    free(got);
}

static void check_str_json(counts *c, int no, const char *in, const char *want_json)
{
    char *want = json_field(want_json);
    char *got = pyrepr_json(in, 0);
    if (!want || !got || strcmp(got, want) != 0) mismatch(c, no, "str(json.loads)", in, want_json, got);
    free(want);
    free(got);
}

static void test_float_repr(void **state)
{
    (void)state;
    counts c = run_fixture("float", check_float);
    assert_true(c.checked >= 5000);
    assert_int_equal(c.failed, 0);
}

static void test_repr_codepoints(void **state)
{
    (void)state;
    counts c = run_fixture("cp", check_cp);
    assert_true(c.checked >= 2800); /* both sides of every isprintable() boundary */
    assert_int_equal(c.failed, 0);
}

static void test_repr_strings(void **state)
{
    (void)state;
    counts c = run_fixture("str", check_str);
    assert_true(c.checked >= 15);
    assert_int_equal(c.failed, 0);
}

static void test_json_dumps(void **state)
{
    (void)state;
    counts c = run_fixture("dumps", check_dumps);
    assert_true(c.checked >= 10);
    assert_int_equal(c.failed, 0);
}

static void test_str_of_json(void **state)
{
    (void)state;
    counts c = run_fixture("str_json", check_str_json);
    assert_true(c.checked >= 10);
    assert_int_equal(c.failed, 0);
}

/* The review's probe: {"a": 0.1} and an unassigned code point. */
static void test_review_probe(void **state)
{
    (void)state;
    cJSON *v = cJSON_Parse("{\"a\": 0.1}");
    char *d = lms_json_dumps(v);
    assert_string_equal(d, "{\"a\": 0.1}");
    char *r = py_repr_json(v);
    assert_string_equal(r, "{'a': 0.1}");
    char *u = pyrepr_json("\"a\\u0378b\"", 0);
    assert_string_equal(u, "a\xcd\xb8" "b"); /* str() of a top-level string is the text itself */
    char *q = pyrepr_json("[\"a\\u0378b\"]", 0);
    assert_string_equal(q, "['a\\u0378b']");
    free(d);
    free(r);
    free(u);
    free(q);
    cJSON_Delete(v);
}

/* The checked-in table is what scripts/gen-unicode-printable.py writes, when this machine's
 * python3 has the same Unicode version (skipped otherwise: the fixture tests still hold). */
static void test_table_is_generated(void **state)
{
    (void)state;
    char cmd[8192], version[64] = "";
    FILE *p = popen("python3 -c 'import unicodedata; print(unicodedata.unidata_version)' 2>/dev/null", "r");
    if (p) {
        if (!fgets(version, sizeof version, p)) version[0] = '\0';
        pclose(p);
    }
    version[strcspn(version, "\n")] = '\0';
    if (strcmp(version, py_unicode_version) != 0) skip();
    char tmp[] = "/tmp/retirectl-printable-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "python3 '%s/scripts/gen-unicode-printable.py' '%s' && cmp -s '%s' '%s/src/common/unicode_printable.c'",
             RETIRECTL_SOURCE_DIR, tmp, tmp, RETIRECTL_SOURCE_DIR);
    int rc = system(cmd);
    unlink(tmp);
    if (rc != 0) fail_msg("src/common/unicode_printable.c differs from what scripts/gen-unicode-printable.py writes; rerun it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_probe),   cmocka_unit_test(test_float_repr),
        cmocka_unit_test(test_repr_codepoints), cmocka_unit_test(test_repr_strings),
        cmocka_unit_test(test_json_dumps),     cmocka_unit_test(test_str_of_json),
        cmocka_unit_test(test_table_is_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
