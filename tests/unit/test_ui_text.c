/* Console text: hostile text made inert, display width of UTF-8, fitting to cells. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "ui/text.h"

/* No byte of the result may be a C0 control, DEL, or start a C1 control (0xC2 0x80-0x9F). */
static void assert_inert(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        assert_false(*p < 0x20 || *p == 0x7F);
        if (*p == 0xC2) assert_false(p[1] >= 0x80 && p[1] <= 0x9F);
    }
}

static void test_escape_sequences_inert(void **state)
{
    (void)state;
    const char *hostile = "evil\x1b[2J\x1b]0;pwned\x07name\r\n\t\x7f";
    char *s = ui_text_sanitize(hostile, (size_t)-1);
    assert_string_equal(s, "evil\\x1b[2J\\x1b]0;pwned\\x07name\\x0d\\x0a\\x09\\x7f");
    assert_inert(s);
    free(s);
}

static void test_c1_and_bidi_controls(void **state)
{
    (void)state;
    /* U+009B is CSI in 8-bit terminals; U+202E reverses text; U+2066 isolates */
    char *s = ui_text_sanitize("a\xC2\x9B" "31mb\xE2\x80\xAE" "cba\xE2\x81\xA6", (size_t)-1);
    assert_string_equal(s, "a\\u{009B}31mb\\u{202E}cba\\u{2066}");
    assert_inert(s);
    free(s);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* truncated sequence, overlong '/', lone continuation byte, surrogate */
    char *s = ui_text_sanitize("x\xE2\x82" "y\xC0\xAF" "z\x80" "\xED\xA0\x80", (size_t)-1);
    assert_string_equal(s, "x\\xe2\\x82y\\xc0\\xafz\\x80\\xed\\xa0\\x80");
    free(s);
    /* embedded NUL with explicit length */
    s = ui_text_sanitize("a\0b", 3);
    assert_string_equal(s, "a\\x00b");
    free(s);
}

static void test_valid_utf8_kept(void **state)
{
    (void)state;
    const char *names = "José Ñúñez Müller 张伟 ok";
    char *s = ui_text_sanitize(names, (size_t)-1);
    assert_string_equal(s, names);
    free(s);
}

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(ui_text_width("abc"), 3);
    assert_int_equal(ui_text_width("José"), 4);          /* 5 bytes, 4 cells */
    assert_int_equal(ui_text_width("张伟"), 4);           /* wide: 2 cells each */
    assert_int_equal(ui_text_width("e\xCC\x81"), 1);      /* e + combining acute */
    assert_int_equal(ui_text_width(""), 0);
}

static void test_fit_cut_and_pad(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(ui_text_fit("abcdef", 4, 1, out, sizeof out), 4);
    assert_string_equal(out, "abc\xE2\x80\xA6"); /* abc… */
    assert_int_equal(ui_text_fit("ab", 4, 1, out, sizeof out), 4);
    assert_string_equal(out, "ab  ");
    assert_int_equal(ui_text_fit("ab", 4, 0, out, sizeof out), 2);
    assert_string_equal(out, "ab");
    /* a wide char never straddles the edge: 张伟x in 4 cells -> 张 + pad + … */
    assert_int_equal(ui_text_fit("张伟x", 4, 1, out, sizeof out), 4);
    assert_string_equal(out, "张 \xE2\x80\xA6");
    /* exactly fitting wide text is not cut */
    assert_int_equal(ui_text_fit("张伟", 4, 1, out, sizeof out), 4);
    assert_string_equal(out, "张伟");
    assert_int_equal(ui_text_fit("anything", 0, 1, out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_fit_unsanitized_input_stays_inert(void **state)
{
    (void)state;
    char out[64];
    ui_text_fit("a\x1b[31mb", 10, 1, out, sizeof out);
    assert_inert(out);
    assert_null(strchr(out, 0x1b));
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_sequences_inert), cmocka_unit_test(test_c1_and_bidi_controls),
        cmocka_unit_test(test_invalid_utf8),           cmocka_unit_test(test_valid_utf8_kept),
        cmocka_unit_test(test_width),                  cmocka_unit_test(test_fit_cut_and_pad),
        cmocka_unit_test(test_fit_unsanitized_input_stays_inert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
