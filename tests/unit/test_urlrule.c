/* The plain-http rule (src/engine/urlrule.h, docs/configuration.md http.allow_insecure_http) on
 * URLs whose host is easy to get wrong by hand. Each URL's expected verdict is the host libcurl
 * connects to: the hand parser this replaced refused the loopback spellings 127.1, 0x7f.0.0.1,
 * 2130706433, [0:0:0:0:0:0:0:1], [::ffff:127.0.0.1] and a percent-encoded 127.0.0.1/localhost,
 * and allowed 127.0.0.08 and 127.0.0.-0, which libcurl resolves as names (DNS), not loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/config.h"
#include "engine/urlrule.h"

/* A config without http.allow_insecure_http (insecure = 0) or with it. */
static cfg *load_config(int insecure)
{
    char text[256], err[512] = "";
    snprintf(text, sizeof text, "client_id: c\nclient_secret: s\nbase_urls:\n  lms: https://lms.example.com/\n%s",
             insecure ? "http:\n  allow_insecure_http: true\n" : "");
    cfg *c = NULL;
    if (cfg_load_string(text, "rule.yml", &c, err, sizeof err) != 0) fail_msg("config: %s", err);
    return c;
}

static const struct {
    const char *url;
    int allowed;
    const char *named; /* in the refusal: the host libcurl would reach, or the reason */
} urls[] = {
    {"http://127.0.0.1@evil.example/", 0, "to evil.example ("},  /* 127.0.0.1 is the user name */
    {"http://127.0.0.1:80@evil.example/", 0, "to evil.example ("},
    {"http://evil.example%2f@127.0.0.1/", 1, NULL},
    {"http://user@127.0.0.1@evil.example/", 0, "not a URL libcurl can use"},
    {"http://[::1]:8000/", 1, NULL},
    {"http://[::1%25lo]:8000/", 1, NULL},
    {"http://[0:0:0:0:0:0:0:1]/", 1, NULL},
    {"http://[::ffff:127.0.0.1]/", 1, NULL},
    {"http://[::2]/", 0, "to [::2] ("},
    {"http://localhost./", 1, NULL},
    {"http://LocalHost:8000/x", 1, NULL},
    {"http://localhost.evil.example/", 0, "to localhost.evil.example ("},
    {"HTTP://evil.example/", 0, "to evil.example ("},
    {"HTTP://127.0.0.1:9/", 1, NULL},
    {"hTtPs://evil.example/", 1, NULL},
    {"http://127.0.0.1.evil.example/", 0, "to 127.0.0.1.evil.example ("},
    {"http://127.0.0.1%2eevil.example/", 0, "to 127.0.0.1.evil.example ("},
    {"http://%31%32%37.0.0.1:8000/", 1, NULL},
    {"http://%6c%6f%63%61%6c%68%6f%73%74/", 1, NULL},
    {"http://127.1/", 1, NULL},
    {"http://0x7f.0.0.1/", 1, NULL},
    {"http://2130706433/", 1, NULL},
    {"http://127.255.255.254/", 1, NULL},
    {"http://128.0.0.1/", 0, "to 128.0.0.1 ("},
    {"http://127.0.0.08/", 0, "to 127.0.0.08 ("},  /* not an address: looked up by name */
    {"http://127.0.0.-0/", 0, "to 127.0.0.-0 ("},
    {"http://127.0.0.1./", 0, "to 127.0.0.1. ("},
    {"https://evil.example/", 1, NULL},
    {"ftp://127.0.0.1/", 0, "only http:// and https://"},
    {"file:///etc/passwd", 0, "only http:// and https://"},
    {"gopher-x://127.0.0.1/", 0, "only http:// and https://"},
    {"http:///x", 0, "to x ("}, /* libcurl reads the host after the third slash */
    {"http://:80/", 0, "has no host"},
    {"https://", 0, "has no host"},
};

static void test_plain_http_rule_parses_as_libcurl(void **state)
{
    (void)state;
    cfg *c = load_config(0);
    int wrong = 0;
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char err[1024] = "";
        int rc = url_rule_check(c, urls[i].url, err, sizeof err);
        if ((rc == 0) != urls[i].allowed || (urls[i].named && !strstr(err, urls[i].named))) {
            fprintf(stderr, "%s: expected %s%s%s, got %s%s\n", urls[i].url, urls[i].allowed ? "allowed" : "refused",
                    urls[i].named ? " naming " : "", urls[i].named ? urls[i].named : "", rc ? "refused: " : "allowed",
                    err);
            wrong++;
        }
        if (rc) assert_non_null(strstr(err, "rule.yml")); /* says which file to change */
    }
    assert_int_equal(wrong, 0);
    cfg_free(c);
}

static void test_allow_insecure_http_keeps_the_other_checks(void **state)
{
    (void)state;
    cfg *c = load_config(1);
    char err[1024] = "";
    assert_int_equal(url_rule_check(c, "http://127.0.0.1@evil.example/", err, sizeof err), 0);
    assert_int_equal(url_rule_check(c, "ftp://evil.example/", err, sizeof err), -1);
    assert_non_null(strstr(err, "only http:// and https://"));
    assert_int_equal(url_rule_check(c, "http://:80/", err, sizeof err), -1);
    assert_non_null(strstr(err, "has no host"));
    cfg_free(c);
}

static void test_proxy_rule(void **state)
{
    (void)state;
    cfg *c = load_config(0);
    static const struct {
        const char *url, *proxy;
        int allowed;
    } cases[] = {
        {"http://127.0.0.1/", "", 1},
        {"http://127.0.0.1/", "127.1:3128", 1},
        {"http://127.0.0.1/", "http://[::1]:3128", 1},
        {"http://127.0.0.1/", "https://proxy.example:3128", 1},
        {"http://127.0.0.1/", "proxy.example:3128", 0},
        {"http://127.0.0.1/", "socks5h://proxy.example:1080", 0},
        {"http://127.0.0.1/", "SOCKS5://127.0.0.1:1080", 1},
        {"http://127.0.0.1/", "http://127.0.0.1@proxy.example:3128", 0},
        {"http://127.0.0.1/", "http://127.0.0.08:3128", 0},
        {"https://lms.example/", "proxy.example:3128", 1}, /* tunnelled: the proxy sees host and port */
        {"HTTP://127.0.0.1/", "proxy.example:3128", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[1024] = "";
        int rc = url_rule_check_proxy(c, cases[i].url, cases[i].proxy, "http_proxy", err, sizeof err);
        if ((rc == 0) != cases[i].allowed)
            fail_msg("%s through %s: expected %s, got %s", cases[i].url, cases[i].proxy,
                     cases[i].allowed ? "allowed" : "refused", rc ? err : "allowed");
        if (rc) {
            assert_non_null(strstr(err, "http_proxy"));
            assert_null(strstr(err, "@")); /* a user name or password in the proxy URL is not repeated */
        }
    }
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_http_rule_parses_as_libcurl),
        cmocka_unit_test(test_allow_insecure_http_keeps_the_other_checks),
        cmocka_unit_test(test_proxy_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
