/* Tests of plugins/vendorkit: the helpers the five vendor plugins share: Python-compatible
 * json.dumps and repr through the host (request bodies and error texts must match the upstream scripts), URL
 * quoting, status-line and header parsing. No network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>

#include "engine/host.h"
#include "../../plugins/vendorkit/vendorkit.h"

/* The plugins' helpers go through the host's json_dumps / py_repr (vk_use_host). */
static int use_host(void **state)
{
    (void)state;
    static rd_host h;
    host_set_services(&h);
    vk_use_host(&h);
    return 0;
}

static void test_json_dumps_like_python(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"external_ids\":[1234]}");
    vk_buf b = {0};
    vk_dumps(&b, o);
    assert_string_equal(vk_buf_str(&b), "{\"external_ids\": [1234]}");
    vk_buf_free(&b);
    cJSON_Delete(o);
    /* ensure_ascii, control characters, DEL, '/' kept, nested separators */
    o = cJSON_Parse("{\"a\":[1,\"x\"],\"\xc3\xa9\":\"\xc3\xbc\\n\\u007f/\",\"t\":true,\"n\":null,\"f\":2.5}");
    vk_dumps(&b, o);
    assert_string_equal(vk_buf_str(&b),
                        "{\"a\": [1, \"x\"], \"\\u00e9\": \"\\u00fc\\n\\u007f/\", \"t\": true, \"n\": null, \"f\": 2.5}");
    vk_buf_free(&b);
    cJSON_Delete(o);
    /* astral plane as a surrogate pair */
    o = cJSON_CreateString("\xf0\x9f\x98\x80");
    vk_dumps(&b, o);
    assert_string_equal(vk_buf_str(&b), "\"\\ud83d\\ude00\"");
    vk_buf_free(&b);
    cJSON_Delete(o);
}

static void test_python_repr(void **state)
{
    (void)state;
    cJSON *p = cJSON_Parse("{\"regulation_type\":\"Suppress_With_Delete\",\"attributes\":{\"name\":\"userId\","
                           "\"values\":[\"9009\",\"jos\xc3\xa9\",\"None\"]}}");
    vk_buf b = {0};
    vk_pyrepr(&b, p);
    assert_string_equal(vk_buf_str(&b), "{'regulation_type': 'Suppress_With_Delete', 'attributes': {'name': 'userId', "
                                        "'values': ['9009', 'jos\xc3\xa9', 'None']}}");
    vk_buf_free(&b);
    cJSON_Delete(p);
    /* str repr picks double quotes when only ' occurs; lists of dicts with True/None */
    p = cJSON_Parse("[{\"message\":\"it's\",\"ok\":true,\"x\":null}]");
    vk_pyrepr(&b, p);
    assert_string_equal(vk_buf_str(&b), "[{'message': \"it's\", 'ok': True, 'x': None}]");
    vk_buf_free(&b);
    cJSON_Delete(p);
    /* bytes repr (what str(Exception(b'...')) prints): both quotes present -> ' escaped */
    vk_pybytes_repr(&b, "Error was encountered for params: {'a': \"it's\"} \n\n Response: \xc3\xa9");
    assert_string_equal(vk_buf_str(&b),
                        "b'Error was encountered for params: {\\'a\\': \"it\\'s\"} \\n\\n Response: \\xc3\\xa9'");
    vk_buf_free(&b);
}

static void test_quoting(void **state)
{
    (void)state;
    vk_buf b = {0};
    vk_requote(&b, "a b+c@d.com\"<>");
    assert_string_equal(vk_buf_str(&b), "a%20b+c@d.com%22%3C%3E");
    vk_buf_free(&b);
    vk_quote_plus(&b, "SELECT Id FROM Lead WHERE Email = 'a\\'b@c.com'");
    assert_string_equal(vk_buf_str(&b), "SELECT+Id+FROM+Lead+WHERE+Email+%3D+%27a%5C%27b%40c.com%27");
    vk_buf_free(&b);
    vk_quote_aws(&b, "Alert: Hubspot Deletion");
    assert_string_equal(vk_buf_str(&b), "Alert%3A%20Hubspot%20Deletion");
    vk_buf_free(&b);
}

static void test_reason_and_headers(void **state)
{
    (void)state;
    char hdrs[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n"
                  "X-Regulation-RateLimit-Remaining:  0 \r\n\r\n";
    rd_http_response r;
    memset(&r, 0, sizeof r);
    r.headers = hdrs;
    char buf[128];
    assert_string_equal(vk_reason(&r, buf, sizeof buf), "Too Many Requests");
    assert_non_null(vk_header(&r, "retry-after", buf, sizeof buf));
    assert_string_equal(buf, "3");
    assert_non_null(vk_header(&r, "X-Regulation-RateLimit-Remaining", buf, sizeof buf));
    assert_string_equal(buf, "0");
    assert_null(vk_header(&r, "X-Absent", buf, sizeof buf));
    char bare[] = "HTTP/1.1 404\r\n\r\n";
    r.headers = bare;
    assert_string_equal(vk_reason(&r, buf, sizeof buf), "None");
    r.headers = NULL;
    assert_string_equal(vk_reason(&r, buf, sizeof buf), "None");
}

static void test_backoff_and_env(void **state)
{
    (void)state;
    setenv("RETRY_TEST_MAX_ATTEMPTS", "3", 1);
    assert_int_equal(vk_env_attempts("RETRY_TEST_MAX_ATTEMPTS", 5), 3);
    setenv("RETRY_TEST_MAX_ATTEMPTS", "x", 1);
    assert_int_equal(vk_env_attempts("RETRY_TEST_MAX_ATTEMPTS", 5), 5);
    unsetenv("RETRY_TEST_MAX_ATTEMPTS");
    assert_int_equal(vk_env_attempts("RETRY_TEST_MAX_ATTEMPTS", 5), 5);
    /* full jitter: within [0, base * 2^(n-1)) */
    for (int n = 1; n <= 4; n++) {
        for (int i = 0; i < 200; i++) {
            double w = vk_expo_wait(1.0, n);
            assert_true(w >= 0.0 && w < (double)(1 << (n - 1)));
        }
    }
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_dumps_like_python), cmocka_unit_test(test_python_repr),
        cmocka_unit_test(test_quoting),            cmocka_unit_test(test_reason_and_headers),
        cmocka_unit_test(test_backoff_and_env),
    };
    return cmocka_run_group_tests(tests, use_host, NULL);
}
