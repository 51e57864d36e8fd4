/* Unit tests for common/urlencode.h and common/http_reason.h: percent-encoding as Python's
 * urllib.parse.quote / quote_plus / urlencode write it (expected texts recorded from
 * Python 3.11), the engine's path-segment escapers built on it (dot-segments encoded whole),
 * and the reason phrase taken from the final status line or else from the standard table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/http_reason.h"
#include "common/urlencode.h"
#include "engine/http.h"

/* url_encode_add of s with keep/flags, as a malloc'd string. */
static char *enc(const char *s, const char *keep, int flags)
{
    strbuf sb = STRBUF_INIT;
    url_encode_add(&sb, s, strlen(s), keep, flags);
    return sb_take(&sb);
}

static void check(char *got, const char *want)
{
    assert_string_equal(got, want);
    free(got);
}

static void test_quote_like_python(void **state)
{
    (void)state;
    /* quote('a b/c~é', safe='') */
    check(enc("a b/c~\xc3\xa9", "", 0), "a%20b%2Fc~%C3%A9");
    /* quote('dir/a b', safe='/') */
    check(enc("dir/a b", "/", 0), "dir/a%20b");
    /* quote_plus('a b+&') */
    check(enc("a b+&", "", URL_SPACE_PLUS), "a+b%2B%26");
    /* every byte outside the unreserved set, upper-case hex; a NUL inside n is encoded too */
    check(enc("\x01\x7f\xff", "", 0), "%01%7F%FF");
    strbuf sb = STRBUF_INIT;
    url_encode_add(&sb, "a\0b", 3, "", 0);
    check(sb_take(&sb), "a%00b");
    check(enc("AZaz09-._~", "", 0), "AZaz09-._~");
}

static void test_form_like_urlencode(void **state)
{
    (void)state;
    /* urlencode([('grant_type', 'client_credentials'), ('client_id', 'a b+&')]) */
    strbuf sb = STRBUF_INIT;
    url_form_add(&sb, "grant_type", "client_credentials");
    url_form_add(&sb, "client_id", "a b+&");
    check(sb_take(&sb), "grant_type=client_credentials&client_id=a+b%2B%26");
}

static void test_segment_escapers(void **state)
{
    (void)state;
    check(http_url_escape(".."), "%2E%2E");
    check(http_url_escape("."), "%2E");
    check(http_url_escape("a.b"), "a.b");
    check(http_url_escape("us er/x@y"), "us%20er%2Fx%40y");
    check(http_url_escape(NULL), "");
    check(http_url_escape_pchar("user@x:1+2"), "user@x:1+2");
    check(http_url_escape_pchar("a/b?c"), "a%2Fb%3Fc");
    check(http_url_escape_pchar("..."), "%2E%2E%2E");
}

static void test_reason_phrases(void **state)
{
    (void)state;
    assert_string_equal(http_reason_phrase(200), "OK");
    assert_string_equal(http_reason_phrase(404), "Not Found");
    assert_string_equal(http_reason_phrase(413), "Request Entity Too Large");
    assert_string_equal(http_reason_phrase(504), "Gateway Timeout");
    assert_string_equal(http_reason_phrase(599), "");
    char out[64];
    /* the final block after "100 Continue" decides, with the server's own words */
    http_reason_from_headers("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Nope Here\r\nX-A: HTTP/9 1 no\r\n", 404, out,
                             sizeof out);
    assert_string_equal(out, "Nope Here");
    /* HTTP/2 sends no phrase: the standard one */
    http_reason_from_headers("HTTP/2 503\r\ncontent-type: text/plain\r\n", 503, out, sizeof out);
    assert_string_equal(out, "Service Unavailable");
    http_reason_from_headers(NULL, 429, out, sizeof out);
    assert_string_equal(out, "Too Many Requests");
    char small[5];
    http_reason_from_headers("HTTP/1.1 500 Internal Server Error\r\n", 500, small, sizeof small);
    assert_string_equal(small, "Inte");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_like_python),
        cmocka_unit_test(test_form_like_urlencode),
        cmocka_unit_test(test_segment_escapers),
        cmocka_unit_test(test_reason_phrases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
