/* Tests of plugins/vendorkit: the helpers the five vendor plugins (and the sim's SES
 * emulation) share: SHA-256 / HMAC / AWS SigV4 against published vectors, Python-compatible
 * json.dumps and repr (request bodies and error texts must match the upstream scripts), URL
 * quoting, status-line and header parsing. No network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>

#include "../../plugins/vendorkit/sha256.h"
#include "../../plugins/vendorkit/vendorkit.h"

static void hex_of(const char *data, char out[65])
{
    unsigned char d[32];
    vk_sha256_of(data, strlen(data), d);
    vk_hex(d, 32, out);
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[65];
    hex_of("", hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* two blocks (FIPS 180-2 example 2) */
    hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* streaming in odd pieces gives the same digest */
    vk_sha256 c;
    vk_sha256_init(&c);
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (size_t i = 0; i < strlen(msg); i += 7) vk_sha256_update(&c, msg + i, strlen(msg + i) < 7 ? strlen(msg + i) : 7);
    unsigned char d[32];
    vk_sha256_final(&c, d);
    vk_hex(d, 32, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hmac_and_sigv4(void **state)
{
    (void)state;
    unsigned char mac[32];
    char hex[65];
    /* RFC 4231 test case 2 */
    vk_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    vk_hex(mac, 32, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 4231 test case 6: a key longer than the block */
    unsigned char key[131];
    memset(key, 0xaa, sizeof key);
    const char *data = "Test Using Larger Than Block-Size Key - Hash Key First";
    vk_hmac_sha256(key, sizeof key, data, strlen(data), mac);
    vk_hex(mac, 32, hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* AWS SigV4 documentation example (IAM ListUsers, 2015-08-30) */
    char sig[65];
    vk_sigv4_signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam",
                       "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
                       "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
                       sig);
    assert_string_equal(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
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
        cmocka_unit_test(test_sha256_vectors),     cmocka_unit_test(test_hmac_and_sigv4),
        cmocka_unit_test(test_json_dumps_like_python), cmocka_unit_test(test_python_repr),
        cmocka_unit_test(test_quoting),            cmocka_unit_test(test_reason_and_headers),
        cmocka_unit_test(test_backoff_and_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
