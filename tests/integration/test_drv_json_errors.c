/* A step answering 2xx with a body that is not JSON: upstream's response.json() raises
 * JSONDecodeError, the learner is set to ERRORED with that exception's text (docs/lms-api.md §7.1, §9.1
 * step 6), e.g. "Expecting value: line 1 column 1 (char 0)". retirectl must record the same
 * text, for an HTML/plain page and for a truncated JSON body. */
#include "retire_support.h"

static const char *LEGACY[] = {"--legacy-mailings", NULL};

static void run_case(const char *fault, const char *want)
{
    rt_env env;
    rt_start(&env, "[{\"username\": \"jane\", \"state\": \"PENDING\", \"days_ago\": 10}]", LEGACY, NULL, NULL);
    rt_fault(&env, fault);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "jane", NULL);
    rt_assert_status(&r, 252);
    rt_assert_state(&env, "jane", "ERRORED");
    char *bodies = rt_patch_bodies(&env);
    char needle[512];
    snprintf(needle, sizeof needle, "\"new_state\": \"ERRORED\", \"response\": \"%s\"", want);
    if (!strstr(bodies, needle)) fail_msg("ERRORED PATCH missing '%s' in:\n%s", needle, bodies);
    free(bodies);
    assert_int_equal(rt_count(&env, "POST", "unenroll"), 1); /* not retried */
    cmd_result_free(&r);
    rt_stop(&env);
}

static void test_plain_text_body(void **state)
{
    (void)state;
    run_case("{\"endpoint\": \"unenroll\", \"status\": 200, \"body\": \"ok\", \"content_type\": \"text/plain\"}",
             "Expecting value: line 1 column 1 (char 0)");
}

static void test_truncated_json_body(void **state)
{
    (void)state;
    run_case("{\"endpoint\": \"unenroll\", \"status\": 200, \"body\": \"[\\\"edX\\\", \\\"MIT\"}",
             "Unterminated string starting at: line 1 column 9 (char 8)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_plain_text_body, rt_teardown),
        cmocka_unit_test_teardown(test_truncated_json_body, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
