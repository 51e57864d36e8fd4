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
    /* a multi-line driver problem leaves no blank line in the list */
    assert_null(strstr(r.out, "\n\n"));
    cmd_result_free(&r);
    /* --json: one document, each check with ok and detail, the secret never in it */
    const char *jargs[] = {"--json", "--config", wrong, "check-config", NULL};
    rt_run(&r, jargs, NULL);
    rt_assert_status(&r, 249);
    assert_null(strstr(r.out, "not-the-right-one-77"));
    cJSON *doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "ok")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "config")->valuestring, wrong);
    cJSON *checks = cJSON_GetObjectItemCaseSensitive(doc, "checks");
    /* config, settings, drivers, entry-point files, driver instances, LMS token, history store */
    assert_int_equal(cJSON_GetArraySize(checks), 7);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(checks, 6), "check")->valuestring,
                        "history");
    cJSON *tok = cJSON_GetArrayItem(checks, 5);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(tok, "check")->valuestring, "LMS token");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(tok, "ok")));
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(tok, "detail")->valuestring, "401"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(checks, 0), "ok")));
    cJSON_Delete(doc);
    cmd_result_free(&r);
    /* status with the wrong secret: the status request was never sent, and the error says so */
    const char *sargs[] = {"--config", wrong, "status", "lms_user", NULL};
    rt_run(&r, sargs, NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.err, "not sent"));
    assert_null(strstr(r.err, "no answer from the LMS"));
    assert_non_null(strstr(r.err, "check client_id and client_secret"));
    assert_null(strstr(r.err, "not-the-right-one-77"));
    cmd_result_free(&r);
    free(wrong);
    rt_stop(&env);
    /* a YAML syntax error: one FAIL naming file:line:column, in text and in --json */
    char *broken = write_temp_file("config.yml", "client_id: x\nbase_urls: [\n  lms: http://127.0.0.1:1/\n");
    const char *bargs[] = {"--config", broken, "check-config", NULL};
    rt_run(&r, bargs, NULL);
    rt_assert_status(&r, 249);
    char want[1200];
    snprintf(want, sizeof want, "FAIL  config file loads: %s:", broken);
    assert_non_null(strstr(r.out, want));
    assert_non_null(strstr(r.out, "YAML syntax error"));
    cmd_result_free(&r);
    const char *bjargs[] = {"--config", broken, "check-config", "--json", NULL};
    rt_run(&r, bjargs, NULL);
    rt_assert_status(&r, 249);
    doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "checks")), 1);
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "checks"), 0), "detail")->valuestring, "YAML syntax error"));
    cJSON_Delete(doc);
    cmd_result_free(&r);
    free(broken);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_status_errored_learner, rt_teardown),
        cmocka_unit_test_teardown(test_check_config, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
