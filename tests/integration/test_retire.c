/* `retirectl retire` against retirectl-sim: the retire_one_learner.py scenarios of docs/lms-api.md §12.2,
 * exit statuses, the exact texts written into the LMS state updates, step skipping, and the
 * upstream spellings (--username/--config_file, RETIREMENT_* environment variables). */
#include "retire_support.h"

#define PENDING_JANE \
    "[{\"username\": \"jane\", \"state\": \"PENDING\", \"days_ago\": 10, \"email\": \"jane@example.com\", " \
    "\"name\": \"Jane Doe\", \"orgs\": [\"edX\", \"MITx\"]}]"

/* successful_retirement: PENDING learner, fetch_ecommerce_segment_id on. */
static void test_successful_retirement(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env, PENDING_JANE, flags, NULL, "fetch_ecommerce_segment_id: true\n");
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "jane", NULL);
    rt_assert_status(&r, 0);
    rt_assert_no_secret(&r);
    assert_non_null(strstr(r.err, "Learner Retirement: Retirement complete for learner jane"));
    assert_non_null(strstr(r.err, "Learner Retirement: Starting state RETIRING_FORUMS"));
    assert_non_null(strstr(r.err, "Learner Retirement: Progressing to state LMS_COMPLETE"));
    /* one short line per step on stdout */
    assert_non_null(strstr(r.out, "RETIRING_FORUMS"));
    assert_non_null(strstr(r.out, "LMS.retirement_unenroll"));
    assert_non_null(strstr(r.out, "done"));
    rt_assert_state(&env, "jane", "COMPLETE");
    /* one token for the whole process tree; one status GET; 2 x 4 steps + 1 updates */
    assert_int_equal(rt_count(&env, "POST", "/oauth2/access_token"), 1);
    assert_int_equal(rt_count(&env, "GET", "/jane/retirement_status"), 1);
    assert_int_equal(rt_count(&env, "PATCH", "update_retirement_status"), 9);
    assert_int_equal(rt_count(&env, "POST", "retire_forum"), 1);
    assert_int_equal(rt_count(&env, "POST", "retire_mailings"), 1);
    assert_int_equal(rt_count(&env, "POST", "unenroll"), 1);
    assert_int_equal(rt_count(&env, "POST", "/api/user/v1/accounts/retire/"), 1);
    assert_int_equal(rt_count(&env, "GET", "tracking_id/jane"), 1);
    /* the texts recorded are Python's str() of the upstream return values */
    char *resp = rt_responses(&env, "jane");
    assert_non_null(strstr(resp, "Starting: RETIRING_FORUMS"));
    assert_non_null(strstr(resp, "Ending: FORUMS_COMPLETE with response:\n<Response [204]>"));
    assert_non_null(strstr(resp, "Ending: ENROLLMENTS_COMPLETE with response:\n['edX', 'MITx']"));
    assert_non_null(strstr(resp, "Learner retirement complete."));
    free(resp);
    /* the PATCH bodies are what requests(json=...) sends */
    char *bodies = rt_patch_bodies(&env);
    assert_non_null(strstr(bodies, "{\"username\": \"jane\", \"new_state\": \"RETIRING_FORUMS\", \"response\": "
                                   "\"Starting: RETIRING_FORUMS\"}"));
    assert_null(strstr(bodies, "force"));
    free(bodies);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* http.upstream_token_requests: the token POSTs upstream makes, one for the LMS and one per
 * configured IDA client (the test config sets ecommerce, credentials, demographics, license_manager). */
static void test_upstream_token_requests(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env, PENDING_JANE, flags, NULL, "  upstream_token_requests: true\n"); /* continues the http: block */
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "jane", NULL);
    rt_assert_status(&r, 0);
    assert_int_equal(rt_count(&env, "POST", "/oauth2/access_token"), 5);
    rt_assert_state(&env, "jane", "COMPLETE");
    cmd_result_free(&r);
    rt_stop(&env);
}

/* user_does_not_exist: the status GET fails (500 after retries) -> 255, no update. */
static void test_status_error_is_setup_failure(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, PENDING_JANE, NULL, NULL, NULL);
    rt_fault(&env, "{\"endpoint\": \"retirement_status\", \"status\": 500}");
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "jane", NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.err, "Unexpected error fetching user state!"));
    /* requests' error text names the learner's own URL */
    assert_non_null(strstr(r.err, "Server Error: Internal Server Error for url: "));
    assert_non_null(strstr(r.err, "/api/user/v1/accounts/jane/retirement_status/"));
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    rt_assert_state(&env, "jane", "PENDING");
    cmd_result_free(&r);
    rt_stop(&env);
}

/* bad_config: the config file is missing -> 249 naming the file. */
static void test_bad_config(void **state)
{
    (void)state;
    cmd_result r;
    const char *args[] = {"retire", "--username", "jane", "--config_file", "/nonexistent/retire-config.yml", NULL};
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 249);
    assert_non_null(strstr(r.err, "/nonexistent/retire-config.yml"));
    cmd_result_free(&r);
    /* no config anywhere */
    const char *args2[] = {"retire", "jane", NULL};
    const char *env2[] = {"XDG_CONFIG_HOME=/nonexistent", "HOME=/nonexistent", NULL};
    rt_run(&r, args2, env2);
    rt_assert_status(&r, 249);
    cmd_result_free(&r);
}

/* A record whose current_state.state_name is null: upstream finds no such state (250), no update. */
static void test_null_state_name(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, PENDING_JANE, NULL, NULL, NULL);
    rt_fault(&env, "{\"endpoint\": \"retirement_status\", \"status\": 200, \"body\": "
                   "\"{\\\"id\\\": 1, \\\"original_username\\\": \\\"jane\\\", \\\"current_state\\\": "
                   "{\\\"id\\\": 1, \\\"state_name\\\": null, \\\"state_execution_order\\\": 1}}\"}");
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "jane", NULL);
    rt_assert_status(&r, 250);
    assert_non_null(strstr(r.err, "Unknown learner retirement state for learner"));
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* A config without retirement_pipeline is refused before any request: a run would otherwise mark
 * the learner COMPLETE with nothing deleted. */
static void test_missing_pipeline_refused(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, PENDING_JANE, NULL, NULL, NULL);
    char text[1024];
    snprintf(text, sizeof text,
             "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n", SIM_CLIENT_ID, SIM_CLIENT_SECRET,
             env.sim.base_url);
    char *config = write_temp_file("no-pipeline.yml", text);
    cmd_result r;
    const char *args[] = {"retire", "--username", "jane", "--config_file", config, NULL};
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.err, "retirement_pipeline is missing"));
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    assert_int_equal(rt_count(&env, "GET", NULL), 0);
    rt_assert_state(&env, "jane", "PENDING");
    cmd_result_free(&r);
    free(config);
    rt_stop(&env);
}

/* bad_learner: 404 -> 251 with the upstream message, no update. */
static void test_bad_learner(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, PENDING_JANE, NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "nobody", NULL);
    rt_assert_status(&r, 251);
    assert_non_null(strstr(r.err, "Learner nobody not found. Please check that the learner is present in "
                                  "UserRetirementStatus"));
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* user_in_working_state -> 253; user_in_bad_state -> 250; each end state -> 254. */
static void test_refusals(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env,
             "[{\"username\": \"w\", \"state\": \"RETIRING_FORUMS\", \"days_ago\": 10},"
             " {\"username\": \"u\", \"state\": \"RETIRING_CREDENTIALS\", \"days_ago\": 10},"
             " {\"username\": \"e1\", \"state\": \"ERRORED\", \"days_ago\": 10},"
             " {\"username\": \"e2\", \"state\": \"ABORTED\", \"days_ago\": 10},"
             " {\"username\": \"e3\", \"state\": \"COMPLETE\", \"days_ago\": 10}]",
             NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "w", NULL);
    rt_assert_status(&r, 253);
    assert_non_null(strstr(r.err, "User is already in a working state! RETIRING_FORUMS"));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "retire", "u", NULL);
    rt_assert_status(&r, 250);
    assert_non_null(strstr(r.err, "Unknown learner retirement state for learner: {'id': "));
    assert_non_null(strstr(r.err, "RETIRING_CREDENTIALS"));
    cmd_result_free(&r);
    const char *ends[][2] = {{"e1", "ERRORED"}, {"e2", "ABORTED"}, {"e3", "COMPLETE"}};
    for (int i = 0; i < 3; i++) {
        rt_retirectl(&env, &r, "retire", ends[i][0], NULL);
        rt_assert_status(&r, 254);
        char want[128];
        snprintf(want, sizeof want, "User already in end state: %s", ends[i][1]);
        assert_non_null(strstr(r.err, want));
        cmd_result_free(&r);
    }
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    assert_int_equal(rt_count(&env, "POST", "/api/"), 0);
    rt_stop(&env);
}

/* skipping_states: from EMAIL_LISTS_COMPLETE only the last two steps run (5 updates). */
static void test_skipping_states(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, "[{\"username\": \"bob\", \"state\": \"EMAIL_LISTS_COMPLETE\", \"days_ago\": 10}]", NULL, NULL,
             NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "bob", NULL);
    rt_assert_status(&r, 0);
    const char *lines[] = {"State RETIRING_FORUMS completed in previous run, skipping",
                           "State RETIRING_EMAIL_LISTS completed in previous run, skipping",
                           "Starting state RETIRING_ENROLLMENTS",
                           "State RETIRING_ENROLLMENTS completed in ",
                           "Starting state RETIRING_LMS",
                           "State RETIRING_LMS completed in ",
                           "Retirement complete for learner bob"};
    const char *at = r.err;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const char *f = strstr(at, lines[i]);
        if (!f) fail_msg("missing (in order) '%s' in:\n%s", lines[i], r.err);
        at = f;
    }
    assert_int_equal(rt_count(&env, "PATCH", NULL), 5);
    assert_int_equal(rt_count(&env, "POST", "retire_forum"), 0);
    assert_int_equal(rt_count(&env, "POST", "retire_mailings"), 0);
    assert_int_equal(rt_count(&env, "POST", "unenroll"), 1);
    rt_assert_state(&env, "bob", "COMPLETE");
    cmd_result_free(&r);
    rt_stop(&env);
}

/* From LMS_COMPLETE (final update missed) only the COMPLETE update is made. */
static void test_only_final_update(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, "[{\"username\": \"z\", \"state\": \"LMS_COMPLETE\", \"days_ago\": 10}]", NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "z", NULL);
    rt_assert_status(&r, 0);
    assert_int_equal(rt_count(&env, "PATCH", NULL), 1);
    rt_assert_state(&env, "z", "COMPLETE");
    cmd_result_free(&r);
    rt_stop(&env);
}

/* get_segment_id_not_found: 404 from ecommerce -> None, the run continues. */
static void test_segment_id_not_found(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env, "[{\"username\": \"nosy\", \"state\": \"PENDING\", \"days_ago\": 10, \"ecommerce\": false}]", flags,
             NULL, "fetch_ecommerce_segment_id: true\n");
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "nosy", NULL);
    rt_assert_status(&r, 0);
    assert_non_null(strstr(r.err, "not found in Ecommerce. Setting Ecommerce Segment ID to None"));
    rt_assert_state(&env, "nosy", "COMPLETE");
    cmd_result_free(&r);
    rt_stop(&env);
}

/* get_segment_id_error: a non-404 error -> 255, no update. */
static void test_segment_id_error(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, PENDING_JANE, NULL, NULL, "fetch_ecommerce_segment_id: true\n");
    rt_fault(&env, "{\"endpoint\": \"ecommerce_tracking_id\", \"status\": 403}");
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "jane", NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.err, "Unexpected error fetching Ecommerce tracking id!"));
    assert_non_null(strstr(r.err, "403 Client Error: Forbidden for url: "));
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* Upstream spellings: `retirectl --username U --config_file F` and the environment. */
static void test_upstream_spellings(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env,
             "[{\"username\": \"a1\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"a2\", \"state\": \"PENDING\", \"days_ago\": 10}]",
             flags, NULL, NULL);
    cmd_result r;
    const char *args[] = {"--username", "a1", "--config_file", env.config, NULL};
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 0);
    rt_assert_state(&env, "a1", "COMPLETE");
    cmd_result_free(&r);
    char e1[1200];
    snprintf(e1, sizeof e1, "RETIREMENT_CONFIG_FILE=%s", env.config);
    const char *envs[] = {"RETIREMENT_USERNAME=a2", e1, NULL};
    const char *args2[] = {"retire", NULL};
    rt_run(&r, args2, envs);
    rt_assert_status(&r, 0);
    rt_assert_state(&env, "a2", "COMPLETE");
    cmd_result_free(&r);
    rt_stop(&env);
}

/* --events: JSON lines only on stdout, job first... result last, secrets absent. */
static void test_events_stream(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env, PENDING_JANE, flags, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "jane", "--events", NULL);
    rt_assert_status(&r, 0);
    rt_assert_no_secret(&r);
    int lines = 0, jobs = 0, done = 0;
    const char *last_event = NULL;
    char *copy = strdup(r.out);
    char *save = NULL;
    cJSON *last = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        if (!j) fail_msg("not JSON: %s", line);
        lines++;
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "event");
        assert_true(cJSON_IsString(ev));
        assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "time"));
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "learner")->valuestring, "jane");
        if (!strcmp(ev->valuestring, "job")) jobs++;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
        if (!strcmp(ev->valuestring, "step") && cJSON_IsString(st) && !strcmp(st->valuestring, "done")) done++;
        cJSON_Delete(last);
        last = j;
    }
    assert_true(lines > 10);
    assert_int_equal(jobs, 1);
    assert_int_equal(done, 4);
    last_event = cJSON_GetObjectItemCaseSensitive(last, "event")->valuestring;
    assert_string_equal(last_event, "result");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(last, "outcome")->valuestring, "complete");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(last, "exit_status")->valueint, 0);
    cJSON_Delete(last);
    free(copy);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* The audit log gets a start and an end line, without the username. */
static void test_audit_lines(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env, "[{\"username\": \"auditee\", \"state\": \"PENDING\", \"days_ago\": 10}]", flags, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "auditee", NULL);
    rt_assert_status(&r, 0);
    FILE *f = fopen(env.audit, "r");
    assert_non_null(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "\"phase\":\"start\""));
    assert_non_null(strstr(buf, "\"phase\":\"end\""));
    assert_non_null(strstr(buf, "\"retire\""));
    assert_null(strstr(buf, "auditee"));
    cmd_result_free(&r);
    rt_stop(&env);
}

/* retire --all records every step of a learner in its audit item, however long the pipeline:
 * 70 steps (the old per-learner collector kept 64 and dropped the rest). */
static void test_all_audit_item_keeps_every_step(void **state)
{
    (void)state;
    enum { N_STEPS = 70 };
    char states[4096] = "PENDING";
    char pipeline[8192] = "";
    for (int i = 0; i < N_STEPS; i++) {
        size_t sl = strlen(states), pl = strlen(pipeline);
        snprintf(states + sl, sizeof states - sl, ",RETIRING_S%02d,S%02d_COMPLETE", i, i);
        snprintf(pipeline + pl, sizeof pipeline - pl,
                 "  - ['RETIRING_S%02d', 'S%02d_COMPLETE', 'LMS', 'retirement_retire_forum']\n", i, i);
    }
    strcat(states, ",ERRORED,ABORTED,COMPLETE");
    rt_env env;
    const char *flags[] = {"--states", states, NULL};
    rt_start(&env, "[{\"username\": \"longpipe\", \"state\": \"PENDING\", \"days_ago\": 10}]", flags, pipeline,
             NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "--all", "--cool-off-days", "1", NULL);
    rt_assert_status(&r, 0);
    rt_assert_state(&env, "longpipe", "COMPLETE");
    FILE *f = fopen(env.audit, "r");
    assert_non_null(f);
    char line[65536];
    int items = 0;
    while (fgets(line, sizeof line, f)) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        const cJSON *phase = cJSON_GetObjectItem(j, "phase");
        if (cJSON_IsString(phase) && !strcmp(phase->valuestring, "item")) {
            items++;
            const cJSON *steps = cJSON_GetObjectItem(j, "steps");
            assert_int_equal(cJSON_GetArraySize(steps), N_STEPS);
            const cJSON *last = cJSON_GetArrayItem(steps, N_STEPS - 1);
            assert_string_equal(cJSON_GetObjectItem(last, "method")->valuestring, "retirement_retire_forum");
            assert_string_equal(cJSON_GetObjectItem(last, "status")->valuestring, "done");
        }
        cJSON_Delete(j);
    }
    fclose(f);
    assert_int_equal(items, 1);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* --help works without a config. */
static void test_help(void **state)
{
    (void)state;
    cmd_result r;
    const char *args[] = {"retire", "--help", NULL};
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 0);
    assert_non_null(strstr(r.out, "Exit status"));
    cmd_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_successful_retirement, rt_teardown),
        cmocka_unit_test_teardown(test_status_error_is_setup_failure, rt_teardown),
        cmocka_unit_test_teardown(test_bad_config, rt_teardown),
        cmocka_unit_test_teardown(test_upstream_token_requests, rt_teardown),
        cmocka_unit_test_teardown(test_null_state_name, rt_teardown),
        cmocka_unit_test_teardown(test_missing_pipeline_refused, rt_teardown),
        cmocka_unit_test_teardown(test_bad_learner, rt_teardown),
        cmocka_unit_test_teardown(test_refusals, rt_teardown),
        cmocka_unit_test_teardown(test_skipping_states, rt_teardown),
        cmocka_unit_test_teardown(test_only_final_update, rt_teardown),
        cmocka_unit_test_teardown(test_segment_id_not_found, rt_teardown),
        cmocka_unit_test_teardown(test_segment_id_error, rt_teardown),
        cmocka_unit_test_teardown(test_upstream_spellings, rt_teardown),
        cmocka_unit_test_teardown(test_events_stream, rt_teardown),
        cmocka_unit_test_teardown(test_audit_lines, rt_teardown),
        cmocka_unit_test_teardown(test_all_audit_item_keeps_every_step, rt_teardown),
        cmocka_unit_test_teardown(test_help, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
