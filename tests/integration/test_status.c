/* `retirectl status` and `retirectl check-config` against retirectl-sim. */
#include "retire_support.h"

static void test_status_errored_learner(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env,
             "[{\"username\": \"err\", \"state\": \"ERRORED\", \"last_state\": \"RETIRING_ENROLLMENTS\","
             " \"days_ago\": 10, \"email\": \"err@example.com\", \"name\": \"Erin Rror\"},"
             " {\"username\": \"mid\", \"state\": \"EMAIL_LISTS_COMPLETE\", \"days_ago\": 3}]",
             NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "status", "err", NULL);
    rt_assert_status(&r, 0);
    rt_assert_no_secret(&r);
    assert_non_null(strstr(r.out, "ERRORED"));
    assert_non_null(strstr(r.out, "err@example.com"));
    assert_non_null(strstr(r.out, "RETIRING_ENROLLMENTS"));
    assert_non_null(strstr(r.out, "failed"));
    assert_non_null(strstr(r.out, "resume"));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "status", "mid", "--json", NULL);
    rt_assert_status(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    assert_non_null(j);
    cJSON *pos = cJSON_GetObjectItemCaseSensitive(j, "position");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(pos, "steps_done")->valueint, 2);
    cJSON *steps = cJSON_GetObjectItemCaseSensitive(pos, "steps");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(steps, 2), "status")->valuestring, "next");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "learner"), "original_username")->valuestring,
        "mid");
    cJSON_Delete(j);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "status", "ghost", NULL);
    rt_assert_status(&r, 251);
    cmd_result_free(&r);
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    rt_stop(&env);
}

static void test_check_config(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, NULL, NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "check-config", NULL);
    rt_assert_status(&r, 0);
    assert_non_null(strstr(r.out, "ok    LMS token"));
    rt_assert_no_secret(&r);
    cmd_result_free(&r);
    rt_stop(&env);
    /* a wrong secret: FAIL with what to do, 249, the secret never printed */
    rt_start(&env, NULL, NULL, NULL, NULL);
    char *wrong = write_temp_file("config.yml", "");
    FILE *f = fopen(wrong, "w");
    fprintf(f,
            "client_id: retirectl-test-client\nclient_secret: not-the-right-one-77\n"
            "base_urls:\n  lms: %s/\nretirement_pipeline:\n"
            "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n"
            "  - ['RETIRING_X', 'X_COMPLETE', 'NOPE', 'retire_learner']\n",
            env.sim.base_url);
    fclose(f);
    const char *args[] = {"--config", wrong, "check-config", NULL};
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 249);
    assert_non_null(strstr(r.out, "FAIL  LMS token"));
    assert_non_null(strstr(r.out, "FAIL  drivers"));
    assert_null(strstr(r.out, "not-the-right-one-77"));
    assert_null(strstr(r.err, "not-the-right-one-77"));
    cmd_result_free(&r);
    free(wrong);
    rt_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_status_errored_learner, rt_teardown),
        cmocka_unit_test_teardown(test_check_config, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
