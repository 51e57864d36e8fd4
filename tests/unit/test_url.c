/* Unit tests of http_url_join (upstream's urljoin(base + "/", path.strip("/") + "/"), docs/lms-api.md §1.1;
 * expected values produced with CPython's urllib.parse.urljoin) and http_url_escape. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/http.h"

static const struct {
    const char *base, *path, *expect;
} joins[] = {
    {"http://lms:18000/", "api/user/v1/accounts/retirement_queue", "http://lms:18000/api/user/v1/accounts/retirement_queue/"},
    {"http://lms:18000", "api/user/v1/accounts/retirement_queue", "http://lms:18000/api/user/v1/accounts/retirement_queue/"},
    {"http://h/sub", "api/x", "http://h/sub/api/x/"},
    {"http://h/sub/", "/api/x/", "http://h/sub/api/x/"},
    {"http://h/sub//", "api/x", "http://h/sub/api/x/"},
    {"https://h:8443/a/b/?q=1#f", "api/x", "https://h:8443/a/b/api/x/"},
    {"http://h", "//evil/x", "http://h/evil/x/"},
    {"http://h/a/b", "../x", "http://h/a/x/"},
    {"http://h", "", "http://h/"},
    {"http://h/sub/", "./a/./b/", "http://h/sub/a/b/"},
    {"http://h", "a//b", "http://h/a/b/"},
    {"http://lms/", "api/user/v1/accounts/a%20b/retirement_status", "http://lms/api/user/v1/accounts/a%20b/retirement_status/"},
};

static void test_join_matches_python(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++) {
        char *got = http_url_join(joins[i].base, joins[i].path);
        if (strcmp(got, joins[i].expect))
            fail_msg("join(%s, %s) = %s, expected %s", joins[i].base, joins[i].path, got, joins[i].expect);
        free(got);
    }
}

static void test_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"foo_username", "foo_username"},
        {"a b", "a%20b"},
        {"a+b", "a%2Bb"},
        {"me@example.com", "me%40example.com"},
        {"jos\xc3\xa9", "jos%C3%A9"},
        {"a/b", "a%2Fb"},
        {"a?b", "a%3Fb"},
        {"a#b", "a%23b"},
        {"100%", "100%25"},
        {"..", "%2E%2E"},
        {".", "%2E"},
        {"a.b-c_d~e", "a.b-c_d~e"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = http_url_escape(cases[i].in);
        if (strcmp(got, cases[i].out)) fail_msg("escape(%s) = %s, expected %s", cases[i].in, got, cases[i].out);
        free(got);
    }
}

static void test_escape_pchar_like_requests(void **state)
{
    (void)state;
    /* expected values: requests.Request('GET', f'http://h/{name}/').prepare().url */
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a b+c@d", "a%20b+c@d"},
        {"jos\xc3\xa9", "jos%C3%A9"},
        {"o'neil!", "o'neil!"},
        {"a=b;c,d(e)*$", "a=b;c,d(e)*$"},
        {"a/b?c#d", "a%2Fb%3Fc%23d"},
        {"100%", "100%25"},
        {"..", "%2E%2E"},
        {"a..b", "a..b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = http_url_escape_pchar(cases[i].in);
        if (strcmp(got, cases[i].out)) fail_msg("escape_pchar(%s) = %s, expected %s", cases[i].in, got, cases[i].out);
        free(got);
    }
}

/* A username with '/', '?', '#' or ".." stays one path segment of the status URL. */
static void test_username_stays_one_segment(void **state)
{
    (void)state;
    const char *names[] = {"a/b", "x?y=1", "h#frag", "..", "a b+c@d", "../../admin"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *seg = http_url_escape(names[i]);
        size_t n = strlen("api/user/v1/accounts/") + strlen(seg) + strlen("/retirement_status") + 1;
        char *path = malloc(n);
        snprintf(path, n, "api/user/v1/accounts/%s/retirement_status", seg);
        char *url = http_url_join("https://lms.example.com/", path);
        const char *prefix = "https://lms.example.com/api/user/v1/accounts/";
        assert_memory_equal(url, prefix, strlen(prefix));
        const char *rest = url + strlen(prefix);
        /* exactly: <seg>/retirement_status/ */
        assert_int_equal(strncmp(rest, seg, strlen(seg)), 0);
        assert_string_equal(rest + strlen(seg), "/retirement_status/");
        assert_null(strchr(url, '?'));
        assert_null(strchr(url, '#'));
        free(url);
        free(path);
        free(seg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_matches_python),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_pchar_like_requests),
        cmocka_unit_test(test_username_stays_one_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
