/* Rough edges found by walking the command line as support staff and Jenkins would, against
 * retirectl-sim: a pipeline method typo named by file, line and step in retire, plan and
 * retire --all; retire --all FAILED lines kept on one line. */
#include "retire_support.h"

#define TYPO_PIPELINE                                                                          \
    "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"           \
    "  - ['RETIRING_EMAIL_LISTS', 'EMAIL_LISTS_COMPLETE', 'LMS', 'retirement_retire_mailingz']\n"

/* The config line of the typo'd row: sim_write_config puts 8 lines before the pipeline rows. */
#define TYPO_LINE 11

static char *learners_json(int n)
{
    size_t cap = 64 + (size_t)n * 80, len = 0;
    char *out = malloc(cap);
    len += (size_t)snprintf(out + len, cap - len, "[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s{\"username\": \"typo%02d\", \"state\": \"PENDING\", \"days_ago\": 10}",
                                i ? ", " : "", i);
    snprintf(out + len, cap - len, "]");
    return out;
}

static void test_method_typo_named_everywhere(void **state)
{
    (void)state;
    char *learners = learners_json(12);
    rt_env env;
    rt_start(&env, learners, NULL, TYPO_PIPELINE, NULL);
    free(learners);
    char where[1200];
    snprintf(where, sizeof where, "%s:%d: retirement_pipeline step 2 [RETIRING_EMAIL_LISTS, EMAIL_LISTS_COMPLETE, LMS, retirement_retire_mailingz]: driver LMS has no method retirement_retire_mailingz",
             env.config, TYPO_LINE);

    cmd_result r;
    rt_retirectl(&env, &r, "retire", "typo00", NULL);
    rt_assert_status(&r, 255);
    if (!strstr(r.err, where)) fail_msg("'%s' missing in:\n%s", where, r.err);
    assert_non_null(strstr(r.err, "retirectl drivers"));
    rt_assert_no_secret(&r);
    cmd_result_free(&r);

    rt_retirectl(&env, &r, "plan", "typo00", NULL);
    rt_assert_status(&r, 255);
    if (!strstr(r.out, where)) fail_msg("'%s' missing in:\n%s", where, r.out);
    cmd_result_free(&r);

    /* retire --all --dry-run: lists the learners but says the pipeline cannot run (255), as plan */
    rt_retirectl(&env, &r, "retire", "--all", "--dry-run", NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.out, "typo00\n"));
    if (!strstr(r.err, where)) fail_msg("'%s' missing in:\n%s", where, r.err);
    assert_non_null(strstr(r.err, "the pipeline cannot run"));
    assert_null(strstr(r.err, "would be retired"));
    cmd_result_free(&r);

    /* retire --all: every learner refused before any change; each FAILED line is one line that
     * names the row; after 10 the breaker stops and points at check-config */
    rt_retirectl(&env, &r, "retire", "--all", NULL);
    rt_assert_status(&r, 252);
    rt_assert_no_secret(&r);
    int failed_lines = 0;
    char *save = NULL;
    char *err = strdup(r.err);
    for (char *line = strtok_r(err, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "FAILED ", 7) == 0) {
            failed_lines++;
            if (!strstr(line, where)) fail_msg("FAILED line does not name the row: %s", line);
        } else if (strncmp(line, "retirectl: ", 11) != 0) {
            fail_msg("stray line in retire --all stderr (a message split over lines?): '%s'\n%s", line, r.err);
        }
    }
    free(err);
    assert_true(failed_lines >= 10);
    assert_non_null(strstr(r.err, "in a row failed before any step"));
    assert_non_null(strstr(r.err, "check-config"));
    cmd_result_free(&r);
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    rt_assert_state(&env, "typo00", "PENDING");
    rt_assert_state(&env, "typo11", "PENDING");
    rt_stop(&env);
}

/* resume / rerun without --yes and without a terminal: one line that shows what would have been
 * asked and says to use --yes; nothing sent. */
static void test_confirm_without_terminal(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env,
             "[{\"username\": \"err\", \"state\": \"ERRORED\", \"last_state\": \"RETIRING_ENROLLMENTS\","
             " \"days_ago\": 10}]",
             NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "resume", "err", NULL);
    rt_assert_status(&r, 2);
    assert_non_null(strstr(r.err, "Resume err: ERRORED (failed in RETIRING_ENROLLMENTS) -> EMAIL_LISTS_COMPLETE"));
    assert_non_null(strstr(r.err, "run again with --yes"));
    assert_null(strstr(r.err, "not confirmed"));
    assert_int_equal(strchr(r.err, '\n') - r.err + 1, (long)strlen(r.err)); /* one line */
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "rerun", "err", "LMS.retirement_unenroll", NULL);
    rt_assert_status(&r, 2);
    assert_non_null(strstr(r.err, "Rerun LMS.retirement_unenroll for err"));
    assert_non_null(strstr(r.err, "run again with --yes"));
    assert_int_equal(strchr(r.err, '\n') - r.err + 1, (long)strlen(r.err));
    cmd_result_free(&r);
    assert_int_equal(rt_count(&env, "PATCH", NULL), 0);
    assert_int_equal(rt_count(&env, "POST", "unenroll"), 0);
    rt_assert_state(&env, "err", "ERRORED");
    rt_stop(&env);
}

/* Every command words an unknown option the same way and points at its own --help. */
static void test_unknown_option_wording(void **state)
{
    (void)state;
    const char *cmds[][3] = {{"retire", NULL, NULL},       {"retire", "--all", NULL}, {"plan", NULL, NULL},
                             {"status", NULL, NULL},       {"queue", NULL, NULL},     {"resume", NULL, NULL},
                             {"rerun", NULL, NULL},        {"reset", NULL, NULL},     {"drivers", NULL, NULL},
                             {"check-config", NULL, NULL}};
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
        const char *args[6];
        int n = 0;
        args[n++] = cmds[k][0];
        if (cmds[k][1]) args[n++] = cmds[k][1];
        args[n++] = "--no-such-opt";
        args[n] = NULL;
        cmd_result r;
        rt_run(&r, args, NULL);
        char want[256];
        snprintf(want, sizeof want, "retirectl %s%s%s: unknown option '--no-such-opt' (see retirectl %s%s%s --help)\n",
                 cmds[k][0], cmds[k][1] ? " " : "", cmds[k][1] ? cmds[k][1] : "", cmds[k][0], cmds[k][1] ? " " : "",
                 cmds[k][1] ? cmds[k][1] : "");
        if (r.status != 2 || strcmp(r.err, want) != 0)
            fail_msg("%s %s: exit %d, stderr '%s', want '%s'", cmds[k][0], cmds[k][1] ? cmds[k][1] : "", r.status,
                     r.err, want);
        cmd_result_free(&r);
    }
}

/* A misspelt required key: the error names the misspelling's file:line and the key it should be. */
static void test_typo_key_hint(void **state)
{
    (void)state;
    char *path = write_temp_file("config.yml",
                                 "client_id: x\n"
                                 "client_secert: not-printed-7731\n"
                                 "base_urls:\n"
                                 "  lsm: http://127.0.0.1:1/\n"
                                 "retirement_pipeline:\n"
                                 "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n");
    const char *args[] = {"--config", path, "check-config", NULL};
    cmd_result r;
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 249);
    char want[1200];
    snprintf(want, sizeof want, "key client_secret is missing or empty (%s:2:1 has client_secert: a typo of client_secret?)",
             path);
    if (!strstr(r.out, want)) fail_msg("'%s' missing in:\n%s", want, r.out);
    assert_null(strstr(r.out, "not-printed-7731"));
    assert_null(strstr(r.err, "not-printed-7731"));
    cmd_result_free(&r);
    /* fixed secret key: next the base_urls.lms typo (a swap in a short name) */
    FILE *f = fopen(path, "w");
    fputs("client_id: x\nclient_secret: long-enough-secret-1\nbase_urls:\n  lsm: http://127.0.0.1:1/\nretirement_pipeline: []\n", f);
    fclose(f);
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 249);
    snprintf(want, sizeof want, "key base_urls.lms is missing or empty (%s:4:3 has lsm: a typo of lms?)", path);
    if (!strstr(r.out, want)) fail_msg("'%s' missing in:\n%s", want, r.out);
    cmd_result_free(&r);
    /* nothing alike: no hint */
    f = fopen(path, "w");
    fputs("client_id: x\nclient_secret: long-enough-secret-1\nbase_urls:\n  ecommerce: http://127.0.0.1:1/\nretirement_pipeline: []\n", f);
    fclose(f);
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 249);
    assert_non_null(strstr(r.out, "key base_urls.lms is missing or empty;"));
    assert_null(strstr(r.out, "a typo of"));
    cmd_result_free(&r);
    free(path);
}

/* No raw control character from the LMS (or the operator) reaches the terminal. */
static void assert_inert(const cmd_result *r, const char *what)
{
    const char *bufs[2] = {r->out, r->err};
    for (int b = 0; b < 2; b++)
        for (const unsigned char *p = (const unsigned char *)bufs[b]; *p; p++) {
            /* our own "\r\033[K" progress sequences only appear on a terminal; the tests run without one */
            if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
                fail_msg("%s: raw control byte 0x%02x in %s:\n%s", what, *p, b ? "stderr" : "stdout", bufs[b]);
        }
}

static void test_hostile_username_inert(void **state)
{
    (void)state;
    /* ESC [2J (clear), OSC 2 (window title) with BEL, and the one-byte C1 CSI (U+009B) */
    rt_env env;
    rt_start(&env,
             "[{\"username\": \"evil\\u001b[2J\\u001b]2;pwned\\u0007x\\u009b31m\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"plain\", \"state\": \"PENDING\", \"days_ago\": 10, \"name\": \"N\\u001b[31mame\\u009b2J\"}]",
             NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "queue", NULL);
    rt_assert_status(&r, 0);
    assert_inert(&r, "queue");
    assert_non_null(strstr(r.out, "evil\\x1b[2J\\x1b]2;pwned\\x07x\\u009b31m"));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "status", "plain", NULL);
    rt_assert_status(&r, 0);
    assert_inert(&r, "status");
    assert_non_null(strstr(r.out, "N\\x1b[31mame\\u009b2J"));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "status", "plain", "--json", NULL);
    rt_assert_status(&r, 0);
    assert_inert(&r, "status --json");
    cJSON *j = cJSON_Parse(r.out);
    assert_non_null(j);
    cJSON_Delete(j);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "plan", "ghost\x1b[2J", NULL);
    rt_assert_status(&r, 251);
    assert_inert(&r, "plan unknown");
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "retire", "--all", "--cool-off-days", "1", NULL);
    assert_inert(&r, "retire --all");
    cmd_result_free(&r);
    rt_stop(&env);
}

/* Every stdout line is a JSON object (the events), and there is at least one. */
static void assert_json_lines(const cmd_result *r, const char *what)
{
    char *copy = strdup(r->out), *save = NULL;
    int n = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        if (!cJSON_IsObject(j)) fail_msg("%s: stdout line is not JSON: '%s'", what, line);
        cJSON_Delete(j);
        n++;
    }
    free(copy);
    if (n == 0) fail_msg("%s: no output", what);
}

/* The global --json gives the events for resume and rerun too, as for retire and plan. */
static void test_json_resume_rerun(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env,
             "[{\"username\": \"err\", \"state\": \"ERRORED\", \"last_state\": \"RETIRING_ENROLLMENTS\","
             " \"days_ago\": 10}, {\"username\": \"p1\", \"state\": \"PENDING\", \"days_ago\": 10}]",
             NULL, NULL, NULL);
    const char *a1[] = {"--config", env.config, "--json", "resume", "err", "--yes", NULL};
    cmd_result r;
    rt_run(&r, a1, NULL);
    rt_assert_status(&r, 0);
    assert_json_lines(&r, "--json resume");
    assert_non_null(strstr(r.out, "\"event\":\"result\""));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "rerun", "p1", "LMS.retirement_retire_forum", "--yes", "--json", NULL);
    rt_assert_status(&r, 0);
    assert_json_lines(&r, "rerun --json");
    cmd_result_free(&r);
    rt_assert_state(&env, "err", "COMPLETE");
    rt_stop(&env);
}

/* retire --all --json: a run that fails before any learner (token 401, bad config) still
 * prints the one summary object, with the exit status and the error, secrets scrubbed. */
static void test_json_all_setup_failure(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, "[{\"username\": \"p1\", \"state\": \"PENDING\", \"days_ago\": 10}]", NULL, NULL, NULL);
    char text[1024];
    snprintf(text, sizeof text,
             "client_id: retirectl-test-client\nclient_secret: wrong-secret-9911\nbase_urls:\n  lms: %s/\n"
             "retirement_pipeline:\n  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n",
             env.sim.base_url);
    char *wrong = write_temp_file("config.yml", text);
    const char *args[] = {"--config", wrong, "--json", "retire", "--all", NULL};
    cmd_result r;
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 255);
    assert_null(strstr(r.out, "wrong-secret-9911"));
    assert_null(strstr(r.err, "wrong-secret-9911"));
    cJSON *o = cJSON_Parse(r.out);
    if (!cJSON_IsObject(o)) fail_msg("not one JSON object on stdout: '%s'", r.out);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "exit_status")->valueint, 255);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "complete")->valueint, 0);
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(o, "error")->valuestring, "401"));
    cJSON_Delete(o);
    cmd_result_free(&r);
    const char *missing[] = {"--config", "/nonexistent/retirectl.yml", "--json", "retire", "--all", NULL};
    rt_run(&r, missing, NULL);
    rt_assert_status(&r, 249);
    o = cJSON_Parse(r.out);
    if (!cJSON_IsObject(o)) fail_msg("not one JSON object on stdout: '%s'", r.out);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "exit_status")->valueint, 249);
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(o, "error")->valuestring, "/nonexistent/retirectl.yml"));
    cJSON_Delete(o);
    cmd_result_free(&r);
    free(wrong);
    rt_assert_state(&env, "p1", "PENDING");
    rt_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_method_typo_named_everywhere, rt_teardown),
        cmocka_unit_test_teardown(test_confirm_without_terminal, rt_teardown),
        cmocka_unit_test(test_unknown_option_wording),
        cmocka_unit_test(test_typo_key_hint),
        cmocka_unit_test_teardown(test_hostile_username_inert, rt_teardown),
        cmocka_unit_test_teardown(test_json_resume_rerun, rt_teardown),
        cmocka_unit_test_teardown(test_json_all_setup_failure, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
