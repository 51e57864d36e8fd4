/* The retirement history end to end (docs/history.md), against retirectl-sim: the server's reason
 * kept in the history and appended to the ERRORED text (or not, with lms.errored_text: upstream),
 * no username, email or name in the store, `status` printing the last failure, `history` listing
 * and grouping current failures after `retire --all` and a `resume`, on SQLite and on a real
 * PostgreSQL server; and a retirement that runs when the store is down, saying so loudly. */
#include <sys/stat.h>
#include <time.h>

#include "pgproc.h"
#include "retire_support.h"

#define KIM "{\"username\": \"kim_fail\", \"email\": \"kim.private@example.org\", \"name\": \"Kim Privatename\"," \
            " \"state\": \"PENDING\", \"days_ago\": 10, \"user_id\": 7001}"
/* 403 from the forum service, its body naming the learner as some servers do */
#define FORUM_403                                                                                                 \
    "{\"endpoint\": \"retire_forum\", \"username\": \"kim_fail\", \"status\": 403, \"body\": {\"detail\": "   \
    "\"forum: permission denied for service user (kim_fail, kim.private@example.org)\"}}"

static const char *LEGACY[] = {"--legacy-mailings", NULL};

/* Reads a whole file (malloc'd, may contain NULs: *len). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = '\0';
    fclose(f);
    return b;
}

/* Fails when needle occurs anywhere in the bytes of file path (and its WAL). */
static void assert_file_lacks(const char *path, const char *needle)
{
    const char *suffixes[] = {"", "-wal", NULL};
    for (int i = 0; suffixes[i]; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        size_t len = 0;
        char *b = slurp(p, &len);
        if (!b) continue;
        if (memmem(b, len, needle, strlen(needle))) fail_msg("%s contains '%s'", p, needle);
        free(b);
    }
}

/* A config extra giving the history store. */
static void history_yaml(char *buf, size_t len, const char *url, const char *more)
{
    snprintf(buf, len, "history:\n  url: \"%s\"\n%s", url, more ? more : "");
}

/* Starts a sim with learners (JSON array text) and a config whose history is a SQLite file in a
 * fresh folder (its path into db), plus more YAML (may be NULL). Returns the folder (malloc'd). */
static char *start_with_history(rt_env *env, const char *learners, const char *more, char *db, size_t db_len)
{
    char *dir = make_temp_dir();
    char yaml[2048];
    snprintf(db, db_len, "%s/history.db", dir);
    history_yaml(yaml, sizeof yaml, db, more);
    rt_start(env, learners, LEGACY, NULL, yaml);
    return dir;
}

static void test_reason_recorded_and_appended(void **state)
{
    (void)state;
    rt_env env;
    char db[1024];
    char *dir = start_with_history(&env, "[" KIM "]", NULL, db, sizeof db);
    rt_fault(&env, FORUM_403);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "kim_fail", "--reason", "GDPR-4711 from kim_fail", NULL);
    rt_assert_status(&r, 252);
    cmd_result_free(&r);
    /* the LMS record keeps upstream's text and what the server said, without the learner's data */
    char *resp = rt_responses(&env, "kim_fail");
    char want[1024];
    snprintf(want, sizeof want,
             "403 Client Error: Forbidden for url: %s/api/discussion/v1/accounts/retire_forum/; server said: forum: "
             "permission denied for service user ([redacted], [redacted])",
             env.sim.base_url);
    if (!strstr(resp, want)) fail_msg("ERRORED text missing '%s' in:\n%s", want, resp);
    free(resp);
    /* the history has the full failure record */
    rt_retirectl(&env, &r, "check-config", NULL);
    rt_assert_status(&r, 0);
    if (!strstr(r.out, "history") || !strstr(r.out, "sqlite ") || !strstr(r.out, "schema version 1"))
        fail_msg("check-config:\n%s", r.out);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "--user-id", "7001", "--json", NULL);
    rt_assert_status(&r, 0);
    cJSON *a = cJSON_Parse(r.out);
    assert_int_equal(cJSON_GetArraySize(a), 1);
    cJSON *j = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(j, "outcome")->valuestring, "errored");
    assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring, "GDPR-4711 from [redacted]");
    assert_string_equal(cJSON_GetObjectItem(j, "final_state")->valuestring, "ERRORED");
    cJSON *f = cJSON_GetObjectItem(j, "failure");
    assert_string_equal(cJSON_GetObjectItem(f, "request")->valuestring, "POST /api/discussion/v1/accounts/retire_forum/");
    assert_int_equal(cJSON_GetObjectItem(f, "http_status")->valueint, 403);
    assert_string_equal(cJSON_GetObjectItem(f, "server_text")->valuestring,
                        "forum: permission denied for service user ([redacted], [redacted])");
    assert_string_equal(cJSON_GetObjectItem(f, "method")->valuestring, "retirement_retire_forum");
    assert_int_equal(cJSON_GetObjectItem(f, "attempts")->valueint, 1);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "pid")));
    assert_non_null(strstr(cJSON_GetObjectItem(j, "command")->valuestring, "retirectl retire [redacted]"));
    cJSON_Delete(a);
    cmd_result_free(&r);
    /* status shows the last failure */
    rt_retirectl(&env, &r, "status", "kim_fail", NULL);
    rt_assert_status(&r, 0);
    assert_non_null(strstr(r.out, "Last failure (history):"));
    assert_non_null(strstr(r.out, "request    POST /api/discussion/v1/accounts/retire_forum/"));
    assert_non_null(strstr(r.out, "status     HTTP 403"));
    assert_non_null(strstr(r.out, "server     forum: permission denied for service user"));
    assert_non_null(strstr(r.out, "reason     GDPR-4711"));
    cmd_result_free(&r);
    /* history USER looks the id up at the LMS */
    rt_retirectl(&env, &r, "history", "kim_fail", NULL);
    rt_assert_status(&r, 0);
    assert_non_null(strstr(r.out, "LMS.retirement_retire_forum: 403 forum: permission denied"));
    assert_non_null(strstr(r.out, "Latest failure:"));
    cmd_result_free(&r);
    /* the store: private, and without the learner's username, email or name */
    struct stat st;
    assert_int_equal(stat(db, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_file_lacks(db, "kim_fail");
    assert_file_lacks(db, "kim.private");
    assert_file_lacks(db, "Privatename");
    rt_stop(&env);
    free(dir);
}

static void test_errored_text_upstream(void **state)
{
    (void)state;
    rt_env env;
    char db[1024];
    char *dir = start_with_history(&env, "[" KIM "]", "lms:\n  errored_text: upstream\n", db, sizeof db);
    rt_fault(&env, FORUM_403);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "kim_fail", NULL);
    rt_assert_status(&r, 252);
    cmd_result_free(&r);
    char *resp = rt_responses(&env, "kim_fail");
    char want[1024];
    snprintf(want, sizeof want, "403 Client Error: Forbidden for url: %s/api/discussion/v1/accounts/retire_forum/",
             env.sim.base_url);
    const char *at = strstr(resp, want);
    if (!at) fail_msg("ERRORED text missing '%s' in:\n%s", want, resp);
    assert_null(strstr(resp, "server said"));
    free(resp);
    /* the history still keeps what the server said */
    rt_retirectl(&env, &r, "history", "--failed", NULL);
    assert_non_null(strstr(r.out, "403 forum: permission denied"));
    cmd_result_free(&r);
    rt_stop(&env);
    free(dir);
}

static void test_store_down_retirement_runs(void **state)
{
    (void)state;
    char yaml[2048];
    /* nothing listens on port 1 */
    history_yaml(yaml, sizeof yaml, "postgresql://retirectl:pw-never-shown@127.0.0.1:1/h", NULL);
    rt_env env;
    rt_start(&env, "[{\"username\": \"ok_one\", \"state\": \"PENDING\", \"days_ago\": 10}]", LEGACY, NULL, yaml);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "ok_one", NULL);
    rt_assert_status(&r, 0);
    rt_assert_state(&env, "ok_one", "COMPLETE");
    assert_non_null(strstr(r.err, "WARNING: history"));
    assert_non_null(strstr(r.err, "NOT recorded"));
    assert_non_null(strstr(r.err, "audit log"));
    assert_null(strstr(r.err, "pw-never-shown"));
    cmd_result_free(&r);
    /* the audit log has it */
    size_t len = 0;
    char *audit = slurp(env.audit, &len);
    assert_non_null(audit);
    assert_non_null(strstr(audit, "\"outcome\":\"complete\""));
    free(audit);
    /* reading the history says why it cannot */
    rt_retirectl(&env, &r, "history", NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.err, "127.0.0.1:1"));
    assert_null(strstr(r.err, "pw-never-shown"));
    cmd_result_free(&r);
    rt_stop(&env);
}

/* The failure of a request that got no answer (transport error) and of a failed state PATCH are
 * recorded too. */
static void test_transport_and_patch_failures(void **state)
{
    (void)state;
    rt_env env;
    char db[1024];
    char *dir = start_with_history(&env, "[{\"username\": \"drop_me\", \"days_ago\": 10, \"user_id\": 8101},"
             " {\"username\": \"patch_me\", \"days_ago\": 10, \"user_id\": 8102}]", NULL, db, sizeof db);
    rt_fault(&env, "{\"endpoint\": \"retire_forum\", \"username\": \"drop_me\", \"drop\": true}");
    /* the end-state PATCH of the first step is refused */
    rt_fault(&env, "{\"endpoint\": \"update_retirement_status\", \"username\": \"patch_me\", \"actions\": [0, "
                   "{\"status\": 400, \"body\": {\"detail\": \"state change not allowed\"}}]}");
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "drop_me", NULL);
    rt_assert_status(&r, 252);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "retire", "patch_me", NULL);
    rt_assert_status(&r, 252);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "--user-id", "8101", "--json", NULL);
    cJSON *a = cJSON_Parse(r.out);
    cJSON *f = cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "failure");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(f, "http_status")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(f, "transport_error")));
    assert_true(cJSON_GetObjectItem(f, "attempts")->valueint >= 2); /* retried before giving up */
    assert_string_equal(cJSON_GetObjectItem(f, "request")->valuestring, "POST /api/discussion/v1/accounts/retire_forum/");
    cJSON_Delete(a);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "--user-id", "8102", "--json", NULL);
    a = cJSON_Parse(r.out);
    f = cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "failure");
    assert_string_equal(cJSON_GetObjectItem(f, "request")->valuestring,
                        "PATCH /api/user/v1/accounts/update_retirement_status/");
    assert_int_equal(cJSON_GetObjectItem(f, "http_status")->valueint, 400);
    assert_string_equal(cJSON_GetObjectItem(f, "server_text")->valuestring, "state change not allowed");
    cJSON_Delete(a);
    cmd_result_free(&r);
    rt_stop(&env);
    free(dir);
}

/* A refusal whose upstream message prints the learner's whole record keeps none of its personal
 * data in the history. */
static void test_refusal_record_scrubbed(void **state)
{
    (void)state;
    rt_env env;
    char db[1024];
    char *dir = start_with_history(&env, "[{\"username\": \"odd_state\", \"state\": \"RETIRING_CREDENTIALS\", \"name\": \"Odd Personname\","
             " \"email\": \"odd.private@example.org\", \"user_id\": 8201}]", NULL, db, sizeof db);
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "odd_state", NULL);
    rt_assert_status(&r, 250);
    assert_non_null(strstr(r.err, "Odd Personname")); /* upstream prints the record */
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "--user-id", "8201", "--json", NULL);
    cJSON *a = cJSON_Parse(r.out);
    cJSON *j = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(j, "outcome")->valuestring, "refused");
    const char *m = cJSON_GetObjectItem(j, "message")->valuestring;
    assert_non_null(strstr(m, "Unknown learner retirement state for learner: "));
    assert_null(strstr(m, "Personname"));
    assert_null(strstr(m, "odd.private"));
    assert_null(strstr(m, "odd_state"));
    cJSON_Delete(a);
    cmd_result_free(&r);
    assert_file_lacks(db, "Personname");
    assert_file_lacks(db, "odd.private");
    assert_file_lacks(db, "odd_state");
    rt_stop(&env);
    free(dir);
}

/* A history key of the wrong kind is named with its file and line, never silently replaced. */
static void test_bad_settings_named(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, "[{\"username\": \"ok_two\", \"state\": \"PENDING\", \"days_ago\": 10}]", LEGACY, NULL,
             "history:\n  url: 5\nlms:\n  errored_text: upstrem\n");
    cmd_result r;
    rt_retirectl(&env, &r, "history", NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.err, "key history.url must be a postgresql:// URL or a file path"));
    assert_non_null(strstr(r.err, ".yml:"));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "check-config", NULL);
    rt_assert_status(&r, 249);
    assert_non_null(strstr(r.out, "history.url must be"));
    cmd_result_free(&r);
    /* the retirement still runs; the problem is said loudly */
    rt_retirectl(&env, &r, "retire", "ok_two", NULL);
    rt_assert_status(&r, 0);
    assert_non_null(strstr(r.err, "WARNING: history"));
    assert_non_null(strstr(r.err, "history.url"));
    cmd_result_free(&r);
    rt_stop(&env);
}

/* retire --all with failures, the grouped view, then a resume that clears one. */
static void bulk_groups_on(const char *url)
{
    char yaml[2048];
    history_yaml(yaml, sizeof yaml, url, NULL);
    rt_env env;
    rt_start(&env,
             "[{\"username\": \"f1\", \"days_ago\": 10}, {\"username\": \"f2\", \"days_ago\": 10},"
             " {\"username\": \"f3\", \"days_ago\": 10}, {\"username\": \"u1\", \"days_ago\": 10},"
             " {\"username\": \"ok1\", \"days_ago\": 10}, {\"username\": \"ok2\", \"days_ago\": 10}]",
             LEGACY, NULL, yaml);
    for (int i = 1; i <= 3; i++) {
        char rule[256];
        snprintf(rule, sizeof rule,
                 "{\"endpoint\": \"retire_forum\", \"username\": \"f%d\", \"status\": 403, \"body\": "
                 "{\"detail\": \"forum: permission denied\"}}",
                 i);
        rt_fault(&env, rule);
    }
    rt_fault(&env, "{\"endpoint\": \"unenroll\", \"username\": \"u1\", \"status\": 400, \"body\": \"\\\"no such course\\\"\"}");
    cmd_result r;
    rt_retirectl(&env, &r, "retire", "--all", "-j", "4", "--cool-off-days", "1", "--reason", "weekly run", NULL);
    assert_int_not_equal(r.status, 0);
    assert_null(strstr(r.err, "WARNING: history"));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "--failed", "--group", NULL);
    rt_assert_status(&r, 0);
    const char *want_forum = "LMS.retirement_retire_forum 403 \u00d73\n";
    const char *want_unenroll = "LMS.retirement_unenroll 400 \u00d71\n";
    if (!strstr(r.out, want_forum) || !strstr(r.out, want_unenroll)) fail_msg("groups:\n%s", r.out);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "--limit", "0", "--json", NULL);
    cJSON *a = cJSON_Parse(r.out);
    assert_int_equal(cJSON_GetArraySize(a), 6);
    cJSON *it;
    int complete = 0;
    cJSON_ArrayForEach(it, a)
    {
        assert_string_equal(cJSON_GetObjectItem(it, "reason")->valuestring, "weekly run");
        assert_string_equal(cJSON_GetObjectItem(it, "command")->valuestring,
                            "retirectl retire --all -j 4 --cool-off-days 1 --reason weekly run");
        if (strcmp(cJSON_GetObjectItem(it, "outcome")->valuestring, "complete") == 0) {
            complete++;
            assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(it, "steps")), 4);
        }
    }
    assert_int_equal(complete, 2);
    cJSON_Delete(a);
    cmd_result_free(&r);
    /* fix f1's cause and resume it: it is no longer a current failure, and the resume is recorded */
    sim_http(&env.sim, "DELETE", "/__sim/faults", NULL, NULL, NULL);
    rt_retirectl(&env, &r, "resume", "f1", "--yes", "--reason", "forum fixed", NULL);
    rt_assert_status(&r, 0);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "--failed", "--group", NULL);
    if (!strstr(r.out, "LMS.retirement_retire_forum 403 \u00d72\n")) fail_msg("after resume:\n%s", r.out);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "f1", "--json", NULL);
    a = cJSON_Parse(r.out);
    assert_int_equal(cJSON_GetArraySize(a), 2);
    it = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(it, "action")->valuestring, "resume");
    assert_string_equal(cJSON_GetObjectItem(it, "outcome")->valuestring, "complete");
    assert_string_equal(cJSON_GetObjectItem(it, "reason")->valuestring, "forum fixed");
    cJSON_Delete(a);
    cmd_result_free(&r);
    /* a bulk reset of the rest back to PENDING is recorded per learner, with its operator */
    char today[16];
    time_t now = time(NULL);
    strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
    rt_retirectl(&env, &r, "--operator", "desk-7", "reset", "--initial-state", "ERRORED", "--new-state", "PENDING",
                 "--start-date", "2000-01-01", "--end-date", today, "--reason", "retry all", NULL);
    rt_assert_status(&r, 0);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "--failed", "--group", NULL);
    if (!strstr(r.out, "(no current failures recorded)")) fail_msg("after reset:\n%s", r.out);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "history", "u1", "--json", NULL);
    a = cJSON_Parse(r.out);
    it = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(it, "action")->valuestring, "reset");
    assert_string_equal(cJSON_GetObjectItem(it, "outcome")->valuestring, "complete");
    assert_string_equal(cJSON_GetObjectItem(it, "from_state")->valuestring, "ERRORED");
    assert_string_equal(cJSON_GetObjectItem(it, "final_state")->valuestring, "PENDING");
    assert_string_equal(cJSON_GetObjectItem(it, "operator")->valuestring, "desk-7");
    assert_string_equal(cJSON_GetObjectItem(it, "reason")->valuestring, "retry all");
    cJSON_Delete(a);
    cmd_result_free(&r);
    rt_stop(&env);
}

static void test_bulk_groups_sqlite(void **state)
{
    (void)state;
    char *dir = make_temp_dir();
    char db[1024];
    snprintf(db, sizeof db, "%s/history.db", dir);
    bulk_groups_on(db);
    free(dir);
}

static pg_proc pg; /* stopped by pg_teardown even when the test fails */

static int pg_teardown(void **state)
{
    if (pg.pid > 0 || pg.dir[0]) pg_stop(&pg);
    return rt_teardown(state);
}

static void test_bulk_groups_postgresql(void **state)
{
    (void)state;
    char why[2048] = "";
    int rc = pg_start(&pg, why, sizeof why);
    if (rc == 1) {
        print_message("SKIPPED (PostgreSQL): %s\n", why);
        skip();
    }
    if (rc != 0) fail_msg("could not start PostgreSQL: %s", why);
    bulk_groups_on(pg.url);
    pg_stop(&pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_reason_recorded_and_appended, rt_teardown),
        cmocka_unit_test_teardown(test_errored_text_upstream, rt_teardown),
        cmocka_unit_test_teardown(test_store_down_retirement_runs, rt_teardown),
        cmocka_unit_test_teardown(test_bad_settings_named, rt_teardown),
        cmocka_unit_test_teardown(test_refusal_record_scrubbed, rt_teardown),
        cmocka_unit_test_teardown(test_transport_and_patch_failures, rt_teardown),
        cmocka_unit_test_teardown(test_bulk_groups_sqlite, rt_teardown),
        cmocka_unit_test_teardown(test_bulk_groups_postgresql, pg_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
