/* Unit tests of src/common/utf8.c, the one UTF-8 decoder: well-formed sequences (Unicode table
 * 3-7) and, for ill-formed input, the U+FFFD count Python's bytes.decode('utf-8', 'replace')
 * gives (recorded with Python 3.11 for each case below). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "common/utf8.h"

/* Decodes all of bytes as errors='replace' does into out; returns the number of code points. */
static size_t decode_replacing(const char *bytes, size_t n, uint32_t *out)
{
    const unsigned char *p = (const unsigned char *)bytes, *end = p + n;
    size_t k = 0;
    while (p < end) out[k++] = utf8_next_replacing(&p, end);
    return k;
}

static void test_well_formed(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(utf8_decode((const unsigned char *)"A", 1, &cp, NULL), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp, NULL), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x82\xac", 3, &cp, NULL), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp, NULL), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp, NULL), 4);
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(utf8_decode((const unsigned char *)"\xed\x9f\xbf", 3, &cp, NULL), 3); /* U+D7FF */
    assert_int_equal(cp, 0xD7FF);
    /* never reads past n */
    size_t bad = 0;
    assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x82\xac", 2, &cp, &bad), 0);
    assert_int_equal(bad, 2);
    assert_int_equal(utf8_decode((const unsigned char *)"", 0, &cp, &bad), 0);
}

static void test_ill_formed_as_python_replaces(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t n;
        uint32_t want[8];
        size_t n_want;
    } cases[] = {
        /* b'\xc0\x80abc'.decode('utf-8', 'replace') == '\ufffd\ufffdabc' (overlong NUL) */
        {"\xc0\x80" "abc", 5, {0xFFFD, 0xFFFD, 'a', 'b', 'c'}, 5},
        {"\xe0\x80\x80", 3, {0xFFFD, 0xFFFD, 0xFFFD}, 3},              /* overlong */
        {"\xed\xa0\x80x", 4, {0xFFFD, 0xFFFD, 0xFFFD, 'x'}, 4},        /* a surrogate */
        {"\xf0\x80\x80\x80", 4, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}, 4},  /* overlong */
        {"\xe2\x82" "A", 3, {0xFFFD, 'A'}, 2},                         /* cut: one U+FFFD */
        {"\xf4\x90\x80\x80", 4, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}, 4},  /* past U+10FFFF */
        {"\xf8\x88\x80\x80\x80", 5, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}, 5},
        {"\xe2\x82", 2, {0xFFFD}, 1},                                  /* cut at the end */
        {"\xc2", 1, {0xFFFD}, 1},
        {"\xf1\x80\x80", 3, {0xFFFD}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got[16];
        size_t n = decode_replacing(cases[i].bytes, cases[i].n, got);
        if (n != cases[i].n_want) fail_msg("case %zu: %zu code points, Python has %zu", i, n, cases[i].n_want);
        for (size_t k = 0; k < n; k++)
            if (got[k] != cases[i].want[k]) fail_msg("case %zu: code point %zu is U+%04X", i, k, (unsigned)got[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed),
        cmocka_unit_test(test_ill_formed_as_python_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
