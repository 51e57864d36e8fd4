/* Integration tests of `retirectl reset` against retirectl-sim: the scenarios of
 * test_retirement_bulk_status_update.py (docs/lms-api.md §12.4) with the exit statuses, messages and
 * requests of retirement_bulk_status_update.py (docs/lms-api.md §9.3), plus --dry-run and bad dates. */
#include "test_ops_support.h"

#define RESET_MSG "Force updated via retirement_bulk_status_update script"

/* Three learners user1..3 in state, created in the test window, last_state given. */
static void add_three(const char *state, const char *last)
{
    char json[2048];
    snprintf(json, sizeof json,
             "[{\"username\": \"user1\", \"state\": \"%s\", \"last_state\": \"%s\", \"created\": \"2018-01-02T10:00:00Z\"},"
             " {\"username\": \"user2\", \"state\": \"%s\", \"last_state\": \"%s\", \"created\": \"2018-01-09T10:00:00Z\"},"
             " {\"username\": \"user3\", \"state\": \"%s\", \"last_state\": \"%s\", \"created\": \"2018-01-15T23:00:00Z\"},"
             " {\"username\": \"outside\", \"state\": \"%s\", \"last_state\": \"%s\", \"created\": \"2018-01-16T00:00:01Z\"}]",
             state, last, state, last, state, last, state, last);
    ops_add(json);
}

static int token_fetches(const cJSON *log)
{
    return ops_count(log, "POST", "/oauth2/access_token", NULL);
}

static void test_successful_update(void **state)
{
    (void)state;
    ops_reset();
    add_three("COMPLETE", "LMS_COMPLETE");
    cmd_result r = ops_run("reset", "--initial-state", "COMPLETE", "--new-state", "PENDING", "--start-date",
                           "2018-01-01", "--end-date", "2018-01-15", "--reason", "new vendor step");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Bulk update complete"));
    cJSON *log = ops_requests();
    assert_int_equal(token_fetches(log), 1);
    assert_int_equal(ops_count(log, "GET", "retirements_by_status_and_date", NULL), 1);
    assert_int_equal(ops_count(log, "PATCH", "update_retirement_status", NULL), 3);
    const char *users[] = {"user1", "user2", "user3"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ops_count_patch(log, users[i], "PENDING", 1), 1);
        assert_string_equal(ops_state(users[i], "current_state"), "PENDING");
        char *resp = ops_responses(users[i]);
        assert_non_null(strstr(resp, RESET_MSG));
        free(resp);
    }
    assert_int_equal(ops_count_patch(log, "outside", NULL, -1), 0);
    assert_string_equal(ops_state("outside", "current_state"), "COMPLETE");
    /* the query: state and the dates as given */
    const cJSON *e;
    cJSON_ArrayForEach(e, log)
    {
        if (!strstr(ops_str(e, "path"), "retirements_by_status_and_date")) continue;
        const char *q = ops_str(e, "query");
        assert_non_null(strstr(q, "start_date=2018-01-01"));
        assert_non_null(strstr(q, "end_date=2018-01-15"));
        assert_non_null(strstr(q, "state=COMPLETE"));
    }
    cJSON_Delete(log);
    /* audit: start, one item per learner (user ids, no usernames), end with counts */
    char *raw = NULL;
    cJSON *audit = ops_audit_lines(&raw);
    assert_int_equal(cJSON_GetArraySize(audit), 5);
    assert_string_equal(ops_str(cJSON_GetArrayItem(audit, 0), "phase"), "start");
    for (int i = 1; i <= 3; i++) {
        cJSON *it = cJSON_GetArrayItem(audit, i);
        assert_string_equal(ops_str(it, "phase"), "item");
        assert_string_equal(ops_str(it, "outcome"), "updated");
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(it, "user_id")));
        assert_string_equal(ops_str(it, "to_state"), "PENDING");
    }
    cJSON *end = cJSON_GetArrayItem(audit, 4);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(end, "counts"), "updated")->valueint, 3);
    assert_null(strstr(raw, "user1"));
    assert_null(strstr(raw, "user2"));
    free(raw);
    cJSON_Delete(audit);
    cmd_result_free(&r);
}

static void test_no_config(void **state)
{
    (void)state;
    ops_reset();
    char *empty = make_temp_dir();
    char xdg[1100];
    snprintf(xdg, sizeof xdg, "XDG_CONFIG_HOME=%s", empty);
    const char *env[] = {"RETIREMENT_CONFIG_FILE", xdg, NULL}; /* "NAME" alone unsets it */
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "reset", "--initial-state", "COMPLETE", "--new-state",
                          "PENDING", "--start-date", "2018-01-01", "--end-date", "2018-01-15", NULL};
    cmd_result r;
    assert_int_equal(run_command(&r, argv, env, NULL, 60), 0);
    if (r.status != 255) ops_show(&r);
    assert_int_equal(r.status, 255);
    assert_non_null(strstr(r.err, "No config file passed in."));
    /* upstream logs its first line before checking the config */
    assert_non_null(strstr(r.out, "Starting bulk update script: Config: None"));
    cmd_result_free(&r);
    free(empty);
}

static void test_bad_config(void **state)
{
    (void)state;
    ops_reset();
    char *bad = write_temp_file("broken.yml", "client_id: [unclosed\n  : :\n");
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "reset", "--config_file", bad, "--initial_state",
                          "COMPLETE", "--new_state", "PENDING", "--start_date", "2018-01-01", "--end_date",
                          "2018-01-15", NULL};
    cmd_result r;
    assert_int_equal(run_command(&r, argv, NULL, NULL, 60), 0);
    if (r.status != 254) ops_show(&r);
    assert_int_equal(r.status, 254);
    assert_non_null(strstr(r.err, bad));
    cmd_result_free(&r);
    free(bad);
}

static void test_successful_rewind(void **state)
{
    (void)state;
    ops_reset();
    add_three("ERRORED", "ENROLLMENTS_COMPLETE");
    cmd_result r = ops_run("reset", "--initial-state", "ERRORED", "--rewind-state", "--start-date", "2018-01-01",
                           "--end-date", "2018-01-15");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", "update_retirement_status", NULL), 3);
    assert_int_equal(ops_count_patch(log, "user2", "ENROLLMENTS_COMPLETE", 1), 1);
    cJSON_Delete(log);
    assert_string_equal(ops_state("user1", "current_state"), "ENROLLMENTS_COMPLETE");
    assert_string_equal(ops_state("user3", "current_state"), "ENROLLMENTS_COMPLETE");
    cmd_result_free(&r);
}

static void test_rewind_bad_args(void **state)
{
    (void)state;
    ops_reset();
    add_three("ERRORED", "ENROLLMENTS_COMPLETE");
    cmd_result r = ops_run("reset", "--initial-state", "ERRORED", "--rewind-state", "--new-state", "PENDING",
                           "--start-date", "2018-01-01", "--end-date", "2018-01-15");
    if (r.status != 254) ops_show(&r);
    assert_int_equal(r.status, 254);
    assert_non_null(strstr(r.err, "boolean rewind_state or a new state to set learners to"));
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "GET", "retirements_by_status_and_date", NULL), 1); /* fetched first */
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    cJSON_Delete(log);
    cmd_result_free(&r);
    /* neither: the same */
    r = ops_run("reset", "--initial-state", "ERRORED", "--start-date", "2018-01-01", "--end-date", "2018-01-15");
    assert_int_equal(r.status, 254);
    cmd_result_free(&r);
}

static void test_setup_failed(void **state)
{
    (void)state;
    ops_reset();
    char text[4096];
    snprintf(text, sizeof text,
             "client_id: %s\nclient_secret: wrong-secret\nbase_urls:\n  lms: %s/\nretirement_pipeline:\n" OPS_PIPELINE,
             SIM_CLIENT_ID, OPS.sim.base_url);
    char *config = write_temp_file("config.yml", text);
    const char *bin = getenv("RETIRECTL_BIN");
    char audit_env[1100];
    snprintf(audit_env, sizeof audit_env, "XDG_STATE_HOME=%s", OPS.dir);
    const char *env[] = {audit_env, NULL};
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "--config", config, "reset", "--initial-state",
                          "COMPLETE", "--new-state", "PENDING", "--start-date", "2018-01-01", "--end-date",
                          "2018-01-15", NULL};
    cmd_result r;
    assert_int_equal(run_command(&r, argv, env, NULL, 60), 0);
    if (r.status != 251) ops_show(&r);
    assert_int_equal(r.status, 251);
    assert_null(strstr(r.err, "wrong-secret"));
    cmd_result_free(&r);
    free(config);
}

static void test_bad_fetch(void **state)
{
    (void)state;
    ops_reset();
    add_three("COMPLETE", "LMS_COMPLETE");
    ops_fault("{\"path\": \"retirements_by_status_and_date\", \"status\": 400}");
    cmd_result r = ops_run("reset", "--initial-state", "COMPLETE", "--new-state", "PENDING", "--start-date",
                           "2018-01-01", "--end-date", "2018-01-15");
    if (r.status != 253) ops_show(&r);
    assert_int_equal(r.status, 253);
    assert_non_null(strstr(r.err, "Unexpected error occurred fetching users to update!"));
    cmd_result_free(&r);
}

static void test_bad_update(void **state)
{
    (void)state;
    ops_reset();
    add_three("COMPLETE", "LMS_COMPLETE");
    ops_fault("{\"path\": \"update_retirement_status\", \"username\": \"user2\", \"status\": 400}");
    cmd_result r = ops_run("reset", "--initial-state", "COMPLETE", "--new-state", "PENDING", "--start-date",
                           "2018-01-01", "--end-date", "2018-01-15");
    if (r.status != 252) ops_show(&r);
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.err, "Unexpected error occurred updating users!"));
    /* the first update stays, the run stopped at the second */
    assert_string_equal(ops_state("user1", "current_state"), "PENDING");
    assert_string_equal(ops_state("user3", "current_state"), "COMPLETE");
    cJSON *log = ops_requests();
    assert_int_equal(ops_count_patch(log, "user3", NULL, -1), 0);
    cJSON_Delete(log);
    cmd_result_free(&r);
}

static void test_bad_dates_and_dry_run(void **state)
{
    (void)state;
    ops_reset();
    add_three("COMPLETE", "LMS_COMPLETE");
    const char *bad[] = {"2999-01-01", "2018-13-01", "2018-02-30", "toast", "01/02/2018", NULL};
    for (int i = 0; bad[i]; i++) {
        cmd_result r = ops_run("reset", "--initial-state", "COMPLETE", "--new-state", "PENDING", "--start-date",
                               bad[i], "--end-date", "2018-01-15");
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "Dates need to be in the format of YYYY-MM-DD and today or earlier."));
        cmd_result_free(&r);
    }
    cJSON *log = ops_requests();
    assert_int_equal(cJSON_GetArraySize(log), 0); /* nothing sent for bad dates */
    cJSON_Delete(log);

    cmd_result r = ops_run("reset", "--initial-state", "COMPLETE", "--new-state", "PENDING", "--start-date",
                           "2018-1-1", "--end-date", "2018-01-15", "--dry-run");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "user1"));
    assert_non_null(strstr(r.out, "user3"));
    assert_null(strstr(r.out, "outside"));
    log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    assert_int_equal(ops_count(log, "GET", "retirements_by_status_and_date", NULL), 1);
    assert_non_null(strstr(ops_str(cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1), "query"),
                           "start_date=2018-01-01"));
    cJSON_Delete(log);
    assert_string_equal(ops_state("user1", "current_state"), "COMPLETE");
    cmd_result_free(&r);
}

/* Upstream parity for omitted options (docs/lms-api.md §9.3): a missing date crashes the click callback
 * (strptime(None) raises TypeError, uncaught: exit 1, nothing sent); a missing --initial_state
 * is sent as no `state` parameter at all (requests drops None), the LMS answers 400
 * "Missing required parameter: 'state'" and the script exits ERR_FETCHING (253). */
static void test_missing_options_as_upstream(void **state)
{
    (void)state;
    ops_reset();
    add_three("COMPLETE", "LMS_COMPLETE");
    cmd_result r = ops_run("reset", "--initial-state", "COMPLETE", "--new-state", "PENDING", "--start-date",
                           "2018-01-01");
    if (r.status != 1) ops_show(&r);
    assert_int_equal(r.status, 1);
    cmd_result_free(&r);
    r = ops_run("reset", "--initial-state", "COMPLETE", "--new-state", "PENDING", "--end-date", "2018-01-15");
    assert_int_equal(r.status, 1);
    cmd_result_free(&r);
    cJSON *log = ops_requests();
    assert_int_equal(cJSON_GetArraySize(log), 0);
    cJSON_Delete(log);

    r = ops_run("reset", "--new-state", "PENDING", "--start-date", "2018-01-01", "--end-date", "2018-01-15");
    if (r.status != 253) ops_show(&r);
    assert_int_equal(r.status, 253);
    assert_non_null(strstr(r.err, "Unexpected error occurred fetching users to update!"));
    log = ops_requests();
    assert_int_equal(ops_count(log, "GET", "retirements_by_status_and_date", NULL), 1);
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    const cJSON *e;
    cJSON_ArrayForEach(e, log)
    {
        if (!strstr(ops_str(e, "path"), "retirements_by_status_and_date")) continue;
        assert_string_equal(ops_str(e, "query"), "start_date=2018-01-01&end_date=2018-01-15");
        assert_int_equal(cJSON_GetObjectItem(e, "status")->valueint, 400);
    }
    cJSON_Delete(log);
    assert_string_equal(ops_state("user1", "current_state"), "COMPLETE");
    cmd_result_free(&r);

    /* rewinding logs the upstream line with Python's None for the new state */
    ops_reset();
    add_three("ERRORED", "RETIRING_FORUMS");
    r = ops_run("reset", "--initial-state", "ERRORED", "--rewind-state", "--start-date", "2018-01-01", "--end-date",
                "2018-01-15");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Updating 3 learners to None"));
    cmd_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_successful_update), cmocka_unit_test(test_no_config),
        cmocka_unit_test(test_bad_config),        cmocka_unit_test(test_successful_rewind),
        cmocka_unit_test(test_rewind_bad_args),   cmocka_unit_test(test_setup_failed),
        cmocka_unit_test(test_bad_fetch),         cmocka_unit_test(test_bad_update),
        cmocka_unit_test(test_bad_dates_and_dry_run), cmocka_unit_test(test_missing_options_as_upstream),
    };
    return cmocka_run_group_tests(tests, ops_setup, ops_teardown);
}
