/* Unit tests of the retirement archive (src/engine/archive.c): upstream's line format and
 * timestamp transform, the hashed and ids field modes, gzip as Python writes it, and the
 * file name / object key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "engine/archive.h"

/* The example status object of docs/lms-api.md §2.5, with a non-ASCII name. */
static const char *LEARNER =
    "{\"id\": 46, \"user\": {\"id\": 5213599, \"username\": \"retired__user_88ad\", \"email\": \"r@retired.invalid\","
    " \"profile\": {\"id\": 2842382, \"name\": \"\"}},"
    " \"current_state\": {\"id\": 41, \"state_name\": \"COMPLETE\", \"state_execution_order\": 91},"
    " \"last_state\": {\"id\": 1, \"state_name\": \"PENDING\", \"state_execution_order\": 1},"
    " \"created\": \"2018-10-18T20:35:52.349757Z\", \"modified\": \"2018-10-18T20:35:52.350050Z\","
    " \"original_username\": \"retirement_test\", \"original_email\": \"orig@foo.invalid\","
    " \"original_name\": \"Ren\\u00e9e Test\", \"retired_username\": \"retired__user_88ad\","
    " \"retired_email\": \"retired__user_d089@retired.invalid\"}";

static cJSON *one_learner(void)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_Parse(LEARNER));
    return a;
}

static void test_full_line_is_upstreams(void **state)
{
    (void)state;
    cJSON *a = one_learner();
    char *out = NULL, err[256];
    size_t len = 0;
    assert_int_equal(archive_lines(a, ARCHIVE_FULL, NULL, &out, &len, err, sizeof err), 0);
    assert_string_equal(out, "{\"user_id\": 5213599, \"original_username\": \"retirement_test\", \"original_email\": "
                             "\"orig@foo.invalid\", \"original_name\": \"Ren\\u00e9e Test\", \"retired_username\": "
                             "\"retired__user_88ad\", \"retired_email\": \"retired__user_d089@retired.invalid\", "
                             "\"retirement_request_date\": \"2018-10-18 20:35:52.349757\", \"last_modified_date\": "
                             "\"2018-10-18 20:35:52.350050\"}\n");
    assert_int_equal(len, strlen(out));
    free(out);
    cJSON_Delete(a);
}

static void test_timestamp(void **state)
{
    (void)state;
    char *t = archive_timestamp("2018-10-18T20:08:03.724805");
    assert_string_equal(t, "2018-10-18 20:08:03.724805");
    free(t);
    t = archive_timestamp("2018-10-18T20:08:03ZZ"); /* rstrip('Z') removes every trailing Z */
    assert_string_equal(t, "2018-10-18 20:08:03");
    free(t);
}

static void test_hash_is_hmac_sha256(void **state)
{
    (void)state;
    char hex[65];
    /* RFC 4231 test case 2 */
    assert_int_equal(archive_hash("Jefe", "what do ya want for nothing?", hex), 0);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_hashed_mode(void **state)
{
    (void)state;
    cJSON *a = one_learner();
    char *out = NULL, err[256];
    size_t len = 0;
    assert_int_equal(archive_lines(a, ARCHIVE_HASHED, NULL, &out, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "hash_secret"));
    assert_int_equal(archive_lines(a, ARCHIVE_HASHED, "a-secret-of-16+chars", &out, &len, err, sizeof err), 0);
    assert_null(strstr(out, "retirement_test"));
    assert_null(strstr(out, "orig@foo.invalid"));
    assert_null(strstr(out, "Ren"));
    char hex[65];
    archive_hash("a-secret-of-16+chars", "orig@foo.invalid", hex);
    cJSON *rec = cJSON_Parse(out);
    assert_string_equal(cJSON_GetObjectItem(rec, "original_email")->valuestring, hex);
    archive_hash("a-secret-of-16+chars", "Ren\xc3\xa9" "e Test", hex); /* the UTF-8 text is hashed */
    assert_string_equal(cJSON_GetObjectItem(rec, "original_name")->valuestring, hex);
    assert_string_equal(cJSON_GetObjectItem(rec, "retired_email")->valuestring, "retired__user_d089@retired.invalid");
    assert_int_equal(cJSON_GetArraySize(rec), 8);
    cJSON_Delete(rec);
    free(out);
    cJSON_Delete(a);
}

static void test_ids_mode(void **state)
{
    (void)state;
    cJSON *a = one_learner();
    char *out = NULL, err[256];
    size_t len = 0;
    assert_int_equal(archive_lines(a, ARCHIVE_IDS, NULL, &out, &len, err, sizeof err), 0);
    assert_string_equal(out, "{\"user_id\": 5213599, \"retirement_request_date\": \"2018-10-18 20:35:52.349757\", "
                             "\"last_modified_date\": \"2018-10-18 20:35:52.350050\"}\n");
    free(out);
    cJSON_Delete(a);
}

static void test_missing_field_names_the_retirement(void **state)
{
    (void)state;
    cJSON *a = one_learner();
    cJSON_DeleteItemFromObject(cJSON_GetArrayItem(a, 0), "original_email");
    char *out = NULL, err[256];
    size_t len = 0;
    assert_int_equal(archive_lines(a, ARCHIVE_FULL, NULL, &out, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "retirement id 46"));
    assert_non_null(strstr(err, "original_email"));
    assert_null(out);
    /* ids mode does not need it */
    assert_int_equal(archive_lines(a, ARCHIVE_IDS, NULL, &out, &len, err, sizeof err), 0);
    free(out);
    cJSON_Delete(a);
}

static void test_fields_parse(void **state)
{
    (void)state;
    archive_fields f;
    assert_int_equal(archive_fields_parse(NULL, &f), 0);
    assert_int_equal(f, ARCHIVE_FULL);
    assert_int_equal(archive_fields_parse("hashed", &f), 0);
    assert_int_equal(f, ARCHIVE_HASHED);
    assert_int_equal(archive_fields_parse("ids", &f), 0);
    assert_int_equal(f, ARCHIVE_IDS);
    assert_int_equal(archive_fields_parse("Full", &f), -1);
    assert_string_equal(archive_fields_name(ARCHIVE_HASHED), "hashed");
}

static void test_gzip_as_python(void **state)
{
    (void)state;
    const char *text = "{\"user_id\": 1}\n{\"user_id\": 2}\n";
    unsigned char *gz = NULL;
    size_t gz_len = 0;
    char err[256];
    assert_int_equal(archive_gzip(text, strlen(text), "retirement_archive_x.json", 1600000000, &gz, &gz_len, err,
                                  sizeof err),
                     0);
    assert_int_equal(gz[0], 0x1f);
    assert_int_equal(gz[1], 0x8b);
    assert_int_equal(gz[3], 0x08);                                  /* FNAME */
    assert_int_equal(gz[4] | gz[5] << 8 | gz[6] << 16 | (uint32_t)gz[7] << 24, 1600000000u); /* mtime */
    assert_int_equal(gz[8], 2);                                     /* level 9 */
    assert_string_equal((const char *)gz + 10, "retirement_archive_x.json");
    char out[256];
    z_stream z;
    memset(&z, 0, sizeof z);
    inflateInit2(&z, 15 + 16);
    z.next_in = gz;
    z.avail_in = (uInt)gz_len;
    z.next_out = (Bytef *)out;
    z.avail_out = sizeof out - 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    out[z.total_out] = '\0';
    inflateEnd(&z);
    assert_string_equal(out, text);
    free(gz);
}

static void test_name_and_key(void **state)
{
    (void)state;
    char name[96], key[160];
    time_t t = 1612325106; /* 2021-02-03 04:05:06 UTC */
    archive_file_name(t, name, sizeof name);
    assert_string_equal(name, "retirement_archive_2021_03_02_04_05_06.json.gz"); /* day before month */
    archive_object_key(t, key, sizeof key);
    assert_string_equal(key, "raw/2021/02/retirement_archive_2021_03_02_04_05_06.json.gz");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_line_is_upstreams),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_hash_is_hmac_sha256),
        cmocka_unit_test(test_hashed_mode),
        cmocka_unit_test(test_ids_mode),
        cmocka_unit_test(test_missing_field_names_the_retirement),
        cmocka_unit_test(test_fields_parse),
        cmocka_unit_test(test_gzip_as_python),
        cmocka_unit_test(test_name_and_key),
    };
    return cmocka_run_group_tests_name("archive", tests, NULL, NULL);
}
