/* The rd_host services of ABI 2.0 (src/engine/hostsvc.c, pyrepr_dumps / pyrepr_value):
 * json.dumps and repr byte for byte as CPython 3.11 prints them, SHA-256, HMAC-SHA256 (RFC 4231
 * style vectors), base64, the URL append without a trailing slash, and AWS Signature V4 against
 * the "get-vanilla" and "post-x-www-form-urlencoded" cases of AWS's SigV4 test suite. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "drivers/pyrepr.h"
#include "engine/host.h"
#include "engine/hostsvc.h"

/* Expected values printed by CPython 3.11: json.dumps(v), json.dumps(v, sort_keys=True), repr(v). */
#define SRC "{\"b\": [1, 2.5, 0.1, 1e-07, 1e22, true, null], \"a\": \"\\u00e9\\u2028\\ud83d\\ude00\\u007f\\\"q\\\\\", \"c\": {\"x\": \"it's\"}}"

static void test_json_dumps_and_repr(void **state)
{
    (void)state;
    cJSON *v = cJSON_Parse(SRC);
    assert_non_null(v);
    char *d = pyrepr_dumps(v, 0);
    assert_string_equal(d, "{\"b\": [1, 2.5, 0.1, 1e-07, 1e+22, true, null], \"a\": \"\\u00e9\\u2028\\ud83d\\ude00\\u007f\\\"q\\\\\", \"c\": {\"x\": \"it's\"}}");
    free(d);
    d = pyrepr_dumps(v, 1);
    assert_string_equal(d, "{\"a\": \"\\u00e9\\u2028\\ud83d\\ude00\\u007f\\\"q\\\\\", \"b\": [1, 2.5, 0.1, 1e-07, 1e+22, true, null], \"c\": {\"x\": \"it's\"}}");
    free(d);
    d = pyrepr_value(v);
    assert_string_equal(d, "{'b': [1, 2.5, 0.1, 1e-07, 1e+22, True, None], 'a': '\xc3\xa9\\u2028\xf0\x9f\x98\x80\\x7f\"q\\\\', 'c': {'x': \"it's\"}}");
    free(d);
    cJSON_Delete(v);
    /* through the host table, as a driver calls them */
    rd_host h;
    memset(&h, 0, sizeof h);
    host_set_services(&h);
    assert_int_equal(h.abi_version, RD_ABI_VERSION);
    assert_true(RD_HOST_HAS(&h, aws_sigv4));
    cJSON *s = cJSON_CreateString("it's");
    d = h.py_repr(&h, s);
    assert_string_equal(d, "\"it's\"");
    h.free(&h, d);
    cJSON_Delete(s);
}

static void test_hashes_and_base64(void **state)
{
    (void)state;
    unsigned char out[32];
    char hex[65];
    hsvc_sha256("abc", 3, out);
    rd_hex(out, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    hsvc_hmac_sha256("key", 3, fox, strlen(fox), out);
    rd_hex(out, 32, hex);
    assert_string_equal(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    /* RFC 4231 test case 2, and case 6 (a key longer than the block) */
    hsvc_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
    rd_hex(out, 32, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    unsigned char key[131];
    memset(key, 0xaa, sizeof key);
    const char *data = "Test Using Larger Than Block-Size Key - Hash Key First";
    hsvc_hmac_sha256(key, sizeof key, data, strlen(data), out);
    rd_hex(out, 32, hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    char *b = hsvc_base64("api:secret\0\xff", 12);
    assert_string_equal(b, "YXBpOnNlY3JldAD/");
    free(b);
}

static void test_url_append(void **state)
{
    (void)state;
    char *u = hsvc_url_append("https://x.example/api/", "/v1/learners/7");
    assert_string_equal(u, "https://x.example/api/v1/learners/7");
    free(u);
    u = hsvc_url_append("https://x.example", "v1/");
    assert_string_equal(u, "https://x.example/v1/"); /* a slash the caller wrote stays; none is added */
    free(u);
}

static void test_aws_sigv4_suite(void **state)
{
    (void)state;
    const char *hdrs[] = {"X-Amz-Date: 20150830T123600Z", NULL};
    rd_aws_sigv4 r;
    memset(&r, 0, sizeof r);
    r.struct_size = RD_SIZEOF(rd_aws_sigv4);
    r.method = "GET";
    r.url = "https://example.amazonaws.com/";
    r.headers = hdrs;
    r.access_key_id = "AKIDEXAMPLE";
    r.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    r.region = "us-east-1";
    r.service = "service";
    r.amz_date = "20150830T123600Z";
    char err[256];
    char *a = hsvc_aws_sigv4(&r, err, sizeof err);
    assert_non_null(a);
    assert_string_equal(a, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                           "SignedHeaders=host;x-amz-date, "
                           "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    free(a);
    /* post-x-www-form-urlencoded */
    const char *hdrs2[] = {"Content-Type: application/x-www-form-urlencoded", "X-Amz-Date: 20150830T123600Z", NULL};
    r.method = "POST";
    r.headers = hdrs2;
    r.body = "Param1=value1";
    a = hsvc_aws_sigv4(&r, err, sizeof err);
    assert_non_null(a);
    assert_string_equal(a, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                           "SignedHeaders=content-type;host;x-amz-date, "
                           "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
    free(a);
    r.amz_date = NULL;
    assert_null(hsvc_aws_sigv4(&r, err, sizeof err));
    assert_non_null(strstr(err, "amz_date"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_dumps_and_repr),
        cmocka_unit_test(test_hashes_and_base64),
        cmocka_unit_test(test_url_append),
        cmocka_unit_test(test_aws_sigv4_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
