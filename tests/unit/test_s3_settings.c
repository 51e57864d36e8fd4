/* Unit tests of the S3 settings (src/engine/s3.c): where requests go (virtual-hosted or path
 * style, AWS or a custom endpoint), the AWS_* fallbacks, and the errors that name the file,
 * line and key. Uploads themselves are tested against s3rver (integration/test_cleanup). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/s3.h"

/* The object URL of key for a config whose s3_archive block is `block` (a dry-run client). */
static char *url_for(const char *block, const char *key)
{
    char text[2048], err[1024] = "";
    snprintf(text, sizeof text, "http:\n  allow_insecure_http: false\ns3_archive:\n%s", block);
    cfg *c = NULL;
    assert_int_equal(cfg_load_string(text, "t.yml", &c, err, sizeof err), 0);
    s3_client *s = NULL;
    if (s3_client_new(c, 0, &s, err, sizeof err) != 0) fail_msg("%s", err);
    char *url = s3_object_url(s, key);
    s3_client_free(s);
    cfg_free(c);
    return url;
}

/* The error s3_client_new gives for block (static buffer). */
static const char *error_for(const char *block, int need_credentials)
{
    static char err[1024];
    char text[2048];
    snprintf(text, sizeof text, "client_id: x\ns3_archive:\n%s", block);
    cfg *c = NULL;
    assert_int_equal(cfg_load_string(text, "t.yml", &c, err, sizeof err), 0);
    s3_client *s = NULL;
    err[0] = '\0';
    assert_int_equal(s3_client_new(c, need_credentials, &s, err, sizeof err), -1);
    assert_null(s);
    cfg_free(c);
    return err;
}

static void expect_url(const char *block, const char *want)
{
    char *u = url_for(block, "raw/2026/12/retirement_archive_2026_03_12_08_48_04.json.gz");
    assert_string_equal(u, want);
    free(u);
}

static void test_aws_virtual_hosted(void **state)
{
    (void)state;
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    expect_url("  bucket_name: edx-archive\n  region: eu-west-1\n",
               "https://edx-archive.s3.eu-west-1.amazonaws.com/raw/2026/12/retirement_archive_2026_03_12_08_48_04.json.gz");
    expect_url("  bucket_name: edx-archive\n",
               "https://edx-archive.s3.us-east-1.amazonaws.com/raw/2026/12/retirement_archive_2026_03_12_08_48_04.json.gz");
    setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
    setenv("AWS_REGION", "eu-central-1", 1); /* AWS_REGION wins */
    expect_url("  bucket_name: edx-archive\n",
               "https://edx-archive.s3.eu-central-1.amazonaws.com/raw/2026/12/retirement_archive_2026_03_12_08_48_04.json.gz");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    /* a dotted bucket would break the TLS name: path style */
    expect_url("  bucket_name: edx.archive\n  region: eu-west-1\n",
               "https://s3.eu-west-1.amazonaws.com/edx.archive/raw/2026/12/retirement_archive_2026_03_12_08_48_04.json.gz");
}

static void test_custom_endpoints(void **state)
{
    (void)state;
    expect_url("  bucket_name: archive\n  endpoint_url: http://127.0.0.1:9000/\n",
               "http://127.0.0.1:9000/archive/raw/2026/12/retirement_archive_2026_03_12_08_48_04.json.gz");
    expect_url("  bucket_name: archive\n  endpoint_url: https://minio.example.org\n  addressing_style: virtual\n",
               "https://archive.minio.example.org/raw/2026/12/retirement_archive_2026_03_12_08_48_04.json.gz");
    setenv("AWS_ENDPOINT_URL_S3", "https://s3.example.net", 1);
    expect_url("  bucket_name: archive\n",
               "https://s3.example.net/archive/raw/2026/12/retirement_archive_2026_03_12_08_48_04.json.gz");
    unsetenv("AWS_ENDPOINT_URL_S3");
    char *u = url_for("  bucket_name: archive\n  endpoint_url: http://127.0.0.1:9000\n", "odd key+name");
    assert_string_equal(u, "http://127.0.0.1:9000/archive/odd%20key%2Bname");
    free(u);
}

static void test_errors_name_file_line_and_key(void **state)
{
    (void)state;
    const char *e = error_for("  region: eu-west-1\n", 0);
    if (!strstr(e, "t.yml:2: s3_archive.bucket_name is missing")) fail_msg("%s", e);
    e = error_for("  bucket_name: archive\n  sse: rot13\n", 0);
    assert_non_null(strstr(e, "t.yml:4: s3_archive.sse is \"rot13\""));
    e = error_for("  bucket_name: archive\n  sse_kms_key_id: alias/x\n", 0);
    assert_non_null(strstr(e, "s3_archive.sse_kms_key_id is set but s3_archive.sse is not aws:kms"));
    e = error_for("  bucket_name: archive\n  addressing_style: sideways\n", 0);
    assert_non_null(strstr(e, "s3_archive.addressing_style"));
    e = error_for("  bucket_name: Archive_Bucket!\n", 0);
    assert_non_null(strstr(e, "not a valid bucket name"));
    e = error_for("  bucket_name: archive\n  endpoint_url: http://s3.example.org\n", 0);
    assert_non_null(strstr(e, "refusing plain http://"));
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    e = error_for("  bucket_name: archive\n", 1);
    assert_non_null(strstr(e, "no S3 credentials"));
    assert_non_null(strstr(e, "AWS_ACCESS_KEY_ID"));
    /* a key id in the config without its secret: the environment is not mixed in */
    setenv("AWS_SECRET_ACCESS_KEY", "from-env", 1);
    e = error_for("  bucket_name: archive\n  access_key_id: AKIDEXAMPLE\n", 1);
    assert_non_null(strstr(e, "s3_archive.secret_access_key"));
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_virtual_hosted),
        cmocka_unit_test(test_custom_endpoints),
        cmocka_unit_test(test_errors_name_file_line_and_key),
    };
    return cmocka_run_group_tests_name("s3_settings", tests, NULL, NULL);
}
