/* Unit tests for common/json.h: typed member reads that never fail on a missing object, a
 * missing member or a member of another type. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/json.h"

static void test_typed_members(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"s\":\"text\",\"n\":2.5,\"z\":0,\"b\":true,\"nul\":null,\"arr\":[1]}");
    assert_non_null(o);
    assert_string_equal(json_str(o, "s"), "text");
    assert_null(json_str(o, "n"));
    assert_null(json_str(o, "nul"));
    assert_null(json_str(o, "missing"));
    assert_null(json_str(NULL, "s"));
    assert_null(json_str(cJSON_GetObjectItemCaseSensitive(o, "arr"), "s"));
    assert_true(json_num(o, "n", -1) == 2.5);
    assert_true(json_num(o, "z", -1) == 0);
    assert_true(json_num(o, "s", -1) == -1);
    assert_true(json_num(o, "b", 7) == 7);
    assert_true(json_num(NULL, "n", 3) == 3);
    /* member names are case-sensitive */
    assert_null(json_str(o, "S"));
    cJSON_Delete(o);
}

/* json_at / json_str_at / json_num_at: nested members, fewer steps when later keys are NULL. */
static void test_nested_members(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"id\": 7, \"user\": {\"id\": 42, \"profile\": {\"name\": \"Jane\"}},"
                           " \"current_state\": {\"state_name\": \"PENDING\"}}");
    assert_non_null(o);
    assert_string_equal(json_str_at(o, "user", "profile", "name"), "Jane");
    assert_string_equal(json_str_at(o, "current_state", "state_name", NULL), "PENDING");
    assert_true(json_num_at(o, "user", "id", NULL, -1) == 42);
    assert_true(json_num_at(o, "id", NULL, NULL, -1) == 7);
    assert_null(json_str_at(o, "user", "id", NULL));            /* a number, not a string */
    assert_null(json_str_at(o, "user", "missing", "name"));     /* a step missing */
    assert_true(json_num_at(o, "user", "profile", "name", -1) == -1);
    assert_null(json_at(NULL, "user", NULL, NULL));
    assert_ptr_equal(json_at(o, "user", NULL, NULL), cJSON_GetObjectItem(o, "user"));
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_members),
        cmocka_unit_test(test_nested_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
