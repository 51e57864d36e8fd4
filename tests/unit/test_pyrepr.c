/* pyrepr: the texts the upstream scripts record (Python str() of JSON values, requests'
 * HTTPError text) and request bodies as Python's json.dumps writes them. Expected values were
 * produced with CPython 3 (json.loads + str, json.dumps). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "drivers/drv_common.h"
#include "drivers/pyrepr.h"
#include "common/http_reason.h"

static void expect(const char *json, const char *want)
{
    char *got = pyrepr_json(json, 0);
    if (!got) fail_msg("pyrepr_json(%s) failed", json);
    if (strcmp(got, want) != 0) fail_msg("pyrepr_json(%s) = %s, want %s", json, got, want);
    free(got);
}

static void test_containers(void **state)
{
    (void)state;
    expect("{\"id\": 1, \"ok\": true, \"x\": null}", "{'id': 1, 'ok': True, 'x': None}");
    expect("[\"edX\", \"MITx\"]", "['edX', 'MITx']");
    expect("{\"a\": {\"b\": [1, 2.5, false]}, \"c\": \"\"}", "{'a': {'b': [1, 2.5, False]}, 'c': ''}");
    expect("{\"a\":1,\"a\":2,\"b\":3}", "{'a': 2, 'b': 3}");
    expect("[]", "[]");
    expect("{}", "{}");
    expect(" {\"backend\" : true} ", "{'backend': True}");
}

static void test_strings(void **state)
{
    (void)state;
    /* top-level: str() of a str is the text */
    expect("\"it's\"", "it's");
    expect("\"Unknown retirement state.\"", "Unknown retirement state.");
    /* nested: repr with Python's quoting and escapes */
    expect("[\"it's\", \"say \\\"hi\\\" it's\", \"tab\\there\\n\"]", "[\"it's\", 'say \"hi\" it\\'s', 'tab\\there\\n']");
    expect("[\"j\\u00f6rg \\u00a0 \\u200b \\ud83d\\ude00 \\u0007 \\u00ad \\u2028\", \"\\\\\\\\\", \"\\ue000\"]",
           "['j\xc3\xb6rg \\xa0 \\u200b \xf0\x9f\x98\x80 \\x07 \\xad \\u2028', '\\\\\\\\', '\\ue000']");
    char *s = pyrepr_str("a'b");
    assert_string_equal(s, "\"a'b\"");
    free(s);
}

static void test_numbers(void **state)
{
    (void)state;
    expect("[1.0, 1e16, 1e-5, 0.0001, 100.0, 0.1]", "[1.0, 1e+16, 1e-05, 0.0001, 100.0, 0.1]");
    expect("[123456789012345678901234567890, -0, -0.0]", "[123456789012345678901234567890, 0, -0.0]");
    expect("[3.14159, 2.5e-7, 1e22, 12345678901234567.0]", "[3.14159, 2.5e-07, 1e+22, 1.2345678901234568e+16]");
}

static void test_invalid(void **state)
{
    (void)state;
    assert_null(pyrepr_json("", 0));
    assert_null(pyrepr_json("{\"a\": }", 0));
    assert_null(pyrepr_json("[1, 2", 0));
    assert_null(pyrepr_json("<html>", 0));
    assert_null(pyrepr_json("{} x", 0));
}

static void test_http_error_text(void **state)
{
    (void)state;
    char *t = pyrepr_http_error(404, "http://h/api/user/v1/accounts/retire_mailings/");
    assert_string_equal(t, "404 Client Error: Not Found for url: http://h/api/user/v1/accounts/retire_mailings/");
    free(t);
    t = pyrepr_http_error(500, "http://h/x/");
    assert_string_equal(t, "500 Server Error: Internal Server Error for url: http://h/x/");
    free(t);
    t = pyrepr_http_error(405, "u");
    assert_string_equal(t, "405 Client Error: Method Not Allowed for url: u");
    free(t);
    assert_string_equal(http_reason_phrase(504), "Gateway Timeout");
}

static void test_json_dumps_strings(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    drv_json_str(&sb, "j\xc3\xb6rg \xf0\x9f\x98\x80\"\x7f\\\n");
    assert_string_equal(sb_str(&sb), "\"j\\u00f6rg \\ud83d\\ude00\\\"\\u007f\\\\\\n\"");
    sb_free(&sb);
}

/* requests' response.json() error texts, as CPython 3.11's json.loads words them (expected
 * values produced with python3 -c 'json.loads(...)'). */
static void expect_json_error(const char *body, const char *want)
{
    char *got = pyrepr_json_error(body, strlen(body));
    if (!want) {
        if (got) fail_msg("pyrepr_json_error(%s) = %s, want NULL", body, got);
        return;
    }
    if (!got) fail_msg("pyrepr_json_error(%s) = NULL, want %s", body, want);
    if (strcmp(got, want) != 0) fail_msg("pyrepr_json_error(%s) = %s, want %s", body, got, want);
    free(got);
}

static void test_json_error_messages(void **state)
{
    (void)state;
    expect_json_error("", "Expecting value: line 1 column 1 (char 0)");
    expect_json_error("   ", "Expecting value: line 1 column 4 (char 3)");
    expect_json_error("ok", "Expecting value: line 1 column 1 (char 0)");
    expect_json_error("<html>\n<body>", "Expecting value: line 1 column 1 (char 0)");
    expect_json_error("{\"id\": 1, \"us", "Unterminated string starting at: line 1 column 11 (char 10)");
    expect_json_error("{\"a\":1,}", "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)");
    expect_json_error("[1,]", "Expecting value: line 1 column 4 (char 3)");
    expect_json_error("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)");
    expect_json_error("{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)");
    expect_json_error("{1:2}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)");
    expect_json_error("\"abc", "Unterminated string starting at: line 1 column 1 (char 0)");
    expect_json_error("\"a\tb\"", "Invalid control character at: line 1 column 3 (char 2)");
    expect_json_error("\"a\\qb\"", "Invalid \\escape: line 1 column 3 (char 2)");
    expect_json_error("\"\\u12G4\"", "Invalid \\uXXXX escape: line 1 column 3 (char 2)");
    expect_json_error("{\"a\":1} x", "Extra data: line 1 column 9 (char 8)");
    expect_json_error("1.", "Extra data: line 1 column 2 (char 1)");
    expect_json_error("-", "Expecting value: line 1 column 1 (char 0)");
    expect_json_error("01", "Extra data: line 1 column 2 (char 1)");
    expect_json_error("\n\n  \xc3\xa9\"x", "Expecting value: line 3 column 3 (char 4)");
    expect_json_error("[\n  \"\xc3\xa9\", tru]", "Expecting value: line 2 column 8 (char 9)");
    expect_json_error("{\"a\":[1,{\"b\":}]}", "Expecting value: line 1 column 14 (char 13)");
    expect_json_error("\"\xc3\xa9\\x\"", "Invalid \\escape: line 1 column 3 (char 2)");
    expect_json_error("[1,\n2,,3]", "Expecting value: line 2 column 3 (char 6)");
    expect_json_error("NaN", NULL);
    expect_json_error(" {\"a\": [1, 2.5e-3, -0, null, true, false, \"\\u00e9\"]} ", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_error_messages),
        cmocka_unit_test(test_containers),      cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),         cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_http_error_text), cmocka_unit_test(test_json_dumps_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
