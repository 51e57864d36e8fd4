/* Integration tests of resume and rerun against retirectl-sim: ERRORED and stuck learners,
 * refusals, pipeline and non-pipeline methods, confirmation, the audit log (present,
 * complete, free of PII) and an unwritable audit log stopping the action before it starts. */
#include "test_ops_support.h"

/* Resume of an ERRORED learner: back to the previous step's end state, then retire from there. */
static void test_resume_errored(void **state)
{
    (void)state;
    ops_reset();
    ops_add("{\"username\": \"res_err\", \"email\": \"res.err@example.com\", \"name\": \"Res Errington\", "
            "\"state\": \"ERRORED\", \"last_state\": \"RETIRING_ENROLLMENTS\", \"user_id\": 4101, \"days_ago\": 20}");
    cmd_result r = ops_run("resume", "res_err", "--reason", "ticket 77 for res.err@example.com", "--yes");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_string_equal(ops_state("res_err", "current_state"), "COMPLETE");

    cJSON *log = ops_requests();
    /* the forced move to the step before the failed one, saying who and why */
    assert_int_equal(ops_count_patch(log, "res_err", "FORUMS_COMPLETE", 1), 1);
    /* the failed step and the rest ran, the step before did not */
    assert_int_equal(ops_count(log, "POST", "retire_forum", NULL), 0);
    assert_int_equal(ops_count(log, "POST", "/unenroll", "res_err"), 1);
    assert_int_equal(ops_count(log, "POST", "edxnotes", "res_err"), 1);
    assert_int_equal(ops_count(log, "POST", "accounts/retire/", "res_err"), 1);
    assert_int_equal(ops_count_patch(log, "res_err", "RETIRING_ENROLLMENTS", 0), 1);
    assert_int_equal(ops_count_patch(log, "res_err", "COMPLETE", 0), 1);
    cJSON_Delete(log);
    char *resp = ops_responses("res_err");
    assert_non_null(strstr(resp, "Resumed by ops-tester"));
    assert_non_null(strstr(resp, "RETIRING_ENROLLMENTS"));
    assert_non_null(strstr(resp, "ticket 77"));
    free(resp);

    /* audit: start and end lines, complete, without the username, email or name */
    char *raw = NULL;
    cJSON *audit = ops_audit_lines(&raw);
    assert_int_equal(cJSON_GetArraySize(audit), 2);
    cJSON *start = cJSON_GetArrayItem(audit, 0), *end = cJSON_GetArrayItem(audit, 1);
    assert_string_equal(ops_str(start, "phase"), "start");
    assert_string_equal(ops_str(start, "action"), "resume");
    assert_string_equal(ops_str(start, "operator"), "ops-tester");
    assert_int_equal(cJSON_GetObjectItem(start, "user_id")->valueint, 4101);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(start, "retirement_id")));
    assert_string_equal(ops_str(start, "from_state"), "ERRORED");
    assert_string_equal(ops_str(start, "to_state"), "FORUMS_COMPLETE");
    assert_non_null(strstr(ops_str(start, "reason"), "ticket 77"));
    assert_string_equal(ops_str(end, "phase"), "end");
    assert_string_equal(ops_str(end, "outcome"), "complete");
    assert_int_equal(cJSON_GetObjectItem(end, "exit_status")->valueint, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(end, "steps")), 4);
    assert_null(strstr(raw, "res_err"));
    assert_null(strstr(raw, "res.err@example.com"));
    assert_null(strstr(raw, "Errington"));
    assert_null(strstr(raw, SIM_CLIENT_SECRET));
    free(raw);
    cJSON_Delete(audit);
    cmd_result_free(&r);
}

/* Resume of a learner stuck in a working state (the first one): back to PENDING, all steps run. */
static void test_resume_stuck(void **state)
{
    (void)state;
    ops_reset();
    ops_add("{\"username\": \"res_stuck\", \"state\": \"RETIRING_FORUMS\", \"last_state\": \"PENDING\", "
            "\"user_id\": 4102, \"days_ago\": 20}");
    /* retire refuses it (253), resume fixes it */
    cmd_result r0 = ops_run("retire", "res_stuck");
    assert_int_equal(r0.status, 253);
    cmd_result_free(&r0);
    sim_http(&OPS.sim, "DELETE", "/__sim/requests", NULL, NULL, NULL);

    cmd_result r = ops_run("resume", "res_stuck", "--yes");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_string_equal(ops_state("res_stuck", "current_state"), "COMPLETE");
    cJSON *log = ops_requests();
    assert_int_equal(ops_count_patch(log, "res_stuck", "PENDING", 1), 1);
    assert_int_equal(ops_count(log, "POST", "retire_forum", "res_stuck"), 1);
    assert_int_equal(ops_count(log, "POST", "accounts/retire/", "res_stuck"), 1);
    cJSON_Delete(log);
    char *resp = ops_responses("res_stuck");
    assert_non_null(strstr(resp, "no reason given"));
    free(resp);
    cmd_result_free(&r);
}

/* Resume refuses learners for whom it makes no sense, and changes nothing. */
static void test_resume_refusals(void **state)
{
    (void)state;
    ops_reset();
    ops_add("[{\"username\": \"rf_complete\", \"state\": \"COMPLETE\"},"
            " {\"username\": \"rf_aborted\", \"state\": \"ABORTED\"},"
            " {\"username\": \"rf_pending\", \"state\": \"PENDING\"},"
            " {\"username\": \"rf_between\", \"state\": \"FORUMS_COMPLETE\"},"
            " {\"username\": \"rf_unknown\", \"state\": \"RETIRING_CREDENTIALS\"}]");
    struct {
        const char *user;
        int status;
        const char *says;
    } cases[] = {{"rf_complete", 254, "COMPLETE"},       {"rf_aborted", 254, "ABORTED"},
                 {"rf_pending", 1, "use `retirectl retire"}, {"rf_between", 1, "nothing to resume"},
                 {"rf_unknown", 250, "RETIRING_CREDENTIALS"}, {"rf_nobody", 251, "not found"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cmd_result r = ops_run("resume", cases[i].user, "--yes");
        if (r.status != cases[i].status || !strstr(r.err, cases[i].says)) ops_show(&r);
        assert_int_equal(r.status, cases[i].status);
        assert_non_null(strstr(r.err, cases[i].says));
        cmd_result_free(&r);
    }
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    assert_int_equal(ops_count(log, "POST", "/api/", NULL), 0);
    cJSON_Delete(log);
    /* refused before anything: nothing in the audit log */
    cJSON *audit = ops_audit_lines(NULL);
    assert_int_equal(cJSON_GetArraySize(audit), 0);
    cJSON_Delete(audit);
}

/* Rerun of a pipeline method: bracketed by forced updates, back to the state it was in. */
static void test_rerun_pipeline_method(void **state)
{
    (void)state;
    ops_reset();
    ops_add("{\"username\": \"rr_pipe\", \"state\": \"ENROLLMENTS_COMPLETE\", \"user_id\": 4201}");
    cmd_result r = ops_run("rerun", "rr_pipe", "LMS.retirement_retire_forum", "--reason", "forum lost it", "--yes");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_string_equal(ops_state("rr_pipe", "current_state"), "ENROLLMENTS_COMPLETE");
    cJSON *log = ops_requests();
    assert_int_equal(ops_count_patch(log, "rr_pipe", "RETIRING_FORUMS", 1), 1);
    assert_int_equal(ops_count(log, "POST", "retire_forum", "rr_pipe"), 1);
    assert_int_equal(ops_count_patch(log, "rr_pipe", "ENROLLMENTS_COMPLETE", 1), 1);
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 2);
    assert_int_equal(ops_count(log, "POST", "/unenroll", NULL), 0);
    cJSON_Delete(log);
    cJSON *audit = ops_audit_lines(NULL);
    assert_int_equal(cJSON_GetArraySize(audit), 2);
    cJSON *end = cJSON_GetArrayItem(audit, 1);
    assert_string_equal(ops_str(end, "action"), "rerun");
    assert_string_equal(ops_str(end, "driver"), "LMS");
    assert_string_equal(ops_str(end, "method"), "retirement_retire_forum");
    assert_string_equal(ops_str(end, "outcome"), "complete");
    assert_int_equal(cJSON_GetObjectItem(end, "user_id")->valueint, 4201);
    cJSON_Delete(audit);
    cmd_result_free(&r);

    /* the same method failing: the learner is left ERRORED with the message */
    ops_reset();
    ops_add("{\"username\": \"rr_fail\", \"state\": \"ENROLLMENTS_COMPLETE\"}");
    ops_fault("{\"path\": \"retire_forum\", \"username\": \"rr_fail\", \"status\": 400, "
              "\"body\": \"\\\"forum says no\\\"\"}");
    r = ops_run("rerun", "rr_fail", "LMS.retirement_retire_forum", "--yes");
    if (r.status != 252) ops_show(&r);
    assert_int_equal(r.status, 252);
    assert_string_equal(ops_state("rr_fail", "current_state"), "ERRORED");
    assert_string_equal(ops_state("rr_fail", "last_state"), "RETIRING_FORUMS");
    cmd_result_free(&r);
}

/* rerun --advance: only for the step an ERRORED learner failed at; success leaves the learner at
 * the step's end state, so retire continues from the next step without calling it again. */
static void test_rerun_advance(void **state)
{
    (void)state;
    ops_reset();
    ops_add("{\"username\": \"adv_fail\", \"state\": \"ERRORED\", \"last_state\": \"RETIRING_FORUMS\"}");
    /* not the failed step: refused, nothing sent */
    cmd_result r = ops_run("rerun", "adv_fail", "LMS.retirement_unenroll", "--advance", "--yes");
    if (r.status != 2) ops_show(&r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--advance continues the pipeline only after rerunning the step"));
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    cJSON_Delete(log);
    cmd_result_free(&r);
    /* the failed step: bracketed, and left at FORUMS_COMPLETE */
    r = ops_run("rerun", "adv_fail", "LMS.retirement_retire_forum", "--advance", "--yes");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_string_equal(ops_state("adv_fail", "current_state"), "FORUMS_COMPLETE");
    cmd_result_free(&r);
    /* retire goes on from step 2: the forum is not called again */
    r = ops_run("retire", "adv_fail");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_string_equal(ops_state("adv_fail", "current_state"), "COMPLETE");
    log = ops_requests();
    assert_int_equal(ops_count(log, "POST", "retire_forum", "adv_fail"), 1);
    cJSON_Delete(log);
    cmd_result_free(&r);
    /* a learner that is not ERRORED: refused */
    ops_add("{\"username\": \"adv_done\", \"state\": \"COMPLETE\", \"last_state\": \"LMS_COMPLETE\"}");
    r = ops_run("rerun", "adv_done", "LMS.retirement_retire_forum", "--advance", "--yes");
    assert_int_equal(r.status, 2);
    cmd_result_free(&r);
}

/* Rerun of a method that is not a pipeline step: just called, state untouched. */
static void test_rerun_non_pipeline_method(void **state)
{
    (void)state;
    ops_reset();
    ops_add("{\"username\": \"rr_other\", \"state\": \"COMPLETE\", \"user_id\": 4301}");
    cmd_result r = ops_run("rerun", "rr_other", "LMS.retirement_retire_proctoring_data", "--yes");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_string_equal(ops_state("rr_other", "current_state"), "COMPLETE");
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    assert_int_equal(ops_count(log, "POST", "edx_proctoring/v1/retire_user/4301", NULL), 1);
    cJSON_Delete(log);
    cmd_result_free(&r);

    /* not on a terminal and no --yes: refused, nothing sent */
    sim_http(&OPS.sim, "DELETE", "/__sim/requests", NULL, NULL, NULL);
    r = ops_run("rerun", "rr_other", "LMS.retirement_retire_proctoring_data");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--yes"));
    cmd_result_free(&r);
    /* unknown method: refused with the list of methods */
    r = ops_run("rerun", "rr_other", "LMS.no_such_method", "--yes");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "retirement_retire_forum"));
    cmd_result_free(&r);
    log = ops_requests();
    assert_int_equal(ops_count(log, "POST", "/api/", NULL), 0);
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    cJSON_Delete(log);
}

/* An audit log that cannot be written stops the action before anything is sent. */
static void test_audit_unwritable_stops_action(void **state)
{
    (void)state;
    ops_reset();
    ops_add("{\"username\": \"au_block\", \"state\": \"ERRORED\", \"last_state\": \"RETIRING_FORUMS\"}");
    char *blocker = write_temp_file("not-a-dir", "x");
    char extra[2048];
    snprintf(extra, sizeof extra, "audit_log: %s/sub/audit.jsonl\n", blocker);
    char *config = sim_write_config(&OPS.sim, OPS_PIPELINE, extra);
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "--config", config, "resume", "au_block", "--yes", NULL};
    cmd_result r;
    assert_int_equal(run_command(&r, argv, NULL, NULL, 60), 0);
    if (r.status != 255) ops_show(&r);
    assert_int_equal(r.status, 255);
    assert_non_null(strstr(r.err, blocker));
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    cJSON_Delete(log);
    assert_string_equal(ops_state("au_block", "current_state"), "ERRORED");
    cmd_result_free(&r);
    free(config);
    free(blocker);
}

/* Runs retirectl with a terminal (script(1) gives it a pty) and `answer` typed at the prompt. */
static cmd_result run_on_terminal(const char *config, const char *answer, const char *args)
{
    const char *bin = getenv("RETIRECTL_BIN");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --config %s --operator ops-tester %s", bin && *bin ? bin : RETIRECTL_BIN, config,
             args);
    const char *argv[] = {"/usr/bin/script", "-qec", cmd, "/dev/null", NULL};
    cmd_result r;
    if (run_command(&r, argv, NULL, answer, 60) != 0) fail_msg("cannot run script(1)");
    return r;
}

/* On a terminal, rerun and resume ask first; production asks for the username to be typed. */
static void test_confirmation_on_terminal(void **state)
{
    (void)state;
    ops_reset();
    ops_add("{\"username\": \"tty_user\", \"state\": \"COMPLETE\", \"user_id\": 4401}");
    cmd_result r = run_on_terminal(OPS.config, "n\n", "rerun tty_user LMS.retirement_retire_proctoring_data");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "[y/N]"));
    cmd_result_free(&r);
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "POST", "edx_proctoring", NULL), 0);
    cJSON_Delete(log);
    r = run_on_terminal(OPS.config, "y\n", "rerun tty_user LMS.retirement_retire_proctoring_data");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    log = ops_requests();
    assert_int_equal(ops_count(log, "POST", "edx_proctoring/v1/retire_user/4401", NULL), 1);
    cJSON_Delete(log);

    /* production: "y" is not enough, the username must be typed */
    char extra[2048];
    snprintf(extra, sizeof extra, "environment: production\naudit_log: %s\n", OPS.audit);
    char *prod = sim_write_config(&OPS.sim, OPS_PIPELINE, extra);
    sim_http(&OPS.sim, "DELETE", "/__sim/requests", NULL, NULL, NULL);
    r = run_on_terminal(prod, "y\n", "rerun tty_user LMS.retirement_retire_proctoring_data");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "PRODUCTION"));
    cmd_result_free(&r);
    r = run_on_terminal(prod, "tty_user\n", "rerun tty_user LMS.retirement_retire_proctoring_data");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    log = ops_requests();
    assert_int_equal(ops_count(log, "POST", "edx_proctoring", NULL), 1);
    cJSON_Delete(log);
    free(prod);
}

/* resume and rerun read their command line through the command table: the old spellings still
 * work (--username, --config-file=F, -y, --reason=TEXT, --json), and a mistake is one line
 * naming it, exit 2, with nothing done. */
static void test_command_line_spellings(void **state)
{
    (void)state;
    ops_reset();
    ops_add("[{\"username\": \"sp_err\", \"state\": \"ERRORED\", \"last_state\": \"RETIRING_FORUMS\", \"user_id\": 4301},"
            " {\"username\": \"sp_rr\", \"state\": \"ENROLLMENTS_COMPLETE\", \"user_id\": 4302}]");
    char config_arg[1100];
    snprintf(config_arg, sizeof config_arg, "--config-file=%s", OPS.config);
    const char *bad[][5] = {{"resume", "sp_err", "--yes", "--bogus", NULL},
                            {"resume", "sp_err", "--reason", NULL, NULL},
                            {"resume", "sp_err", "--username", "sp_rr", NULL},
                            {"rerun", "sp_rr", "LMS.retirement_retire_forum", "extra", NULL},
                            {"rerun", "sp_rr", "--yes", NULL, NULL},
                            {"rerun", "sp_rr", "LMS.retirement_retire_forum", "--force=yes", NULL}};
    const char *says[] = {"unknown option '--bogus'", "--reason needs a value", "one learner at a time",
                          "unexpected argument 'extra'", "DRIVER.METHOD missing", "--force takes no value"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cmd_result r = ops_run(bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
        if (r.status != 2 || !strstr(r.err, says[i])) ops_show(&r);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, says[i]));
        cmd_result_free(&r);
    }
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    cJSON_Delete(log);

    cmd_result r = ops_run("resume", "--username", "sp_err", config_arg, "-y", "--reason=ticket 88", "--json");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"event\"")); /* --json: the job events on stdout */
    assert_string_equal(ops_state("sp_err", "current_state"), "COMPLETE");
    char *resp = ops_responses("sp_err");
    assert_non_null(strstr(resp, "ticket 88"));
    free(resp);
    cmd_result_free(&r);

    r = ops_run("rerun", "sp_rr", "LMS.retirement_retire_forum", "--config_file", OPS.config, "--yes", "--events");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"event\""));
    assert_string_equal(ops_state("sp_rr", "current_state"), "ENROLLMENTS_COMPLETE");
    cmd_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_errored),
        cmocka_unit_test(test_resume_stuck),
        cmocka_unit_test(test_resume_refusals),
        cmocka_unit_test(test_rerun_pipeline_method),
        cmocka_unit_test(test_rerun_advance),
        cmocka_unit_test(test_rerun_non_pipeline_method),
        cmocka_unit_test(test_audit_unwritable_stops_action),
        cmocka_unit_test(test_confirmation_on_terminal),
        cmocka_unit_test(test_command_line_spellings),
    };
    return cmocka_run_group_tests(tests, ops_setup, ops_teardown);
}
