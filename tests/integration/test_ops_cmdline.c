/* The command lines of reset, cleanup, tui and demo as their cmd_entry tables declare them
 * (src/cli/cmd_entry.h), against retirectl-sim: the upstream scripts' spellings ('_', "=VALUE",
 * RETIREMENT_* variables) still select the same learners, every mistake is refused with the
 * parser's one wording before anything is sent, and each --help still says what it said. */
#include "test_ops_support.h"

/* Two learners in COMPLETE inside the 2018-01-01..2018-01-15 window, one outside it. */
static void add_learners(void)
{
    ops_add("[{\"username\": \"inside1\", \"state\": \"COMPLETE\", \"last_state\": \"LMS_COMPLETE\","
            " \"created\": \"2018-01-02T10:00:00Z\"},"
            " {\"username\": \"inside2\", \"state\": \"COMPLETE\", \"last_state\": \"LMS_COMPLETE\","
            " \"created\": \"2018-01-09T10:00:00Z\"},"
            " {\"username\": \"outside\", \"state\": \"COMPLETE\", \"last_state\": \"LMS_COMPLETE\","
            " \"created\": \"2018-02-01T10:00:00Z\"}]");
}

/* Asserts that r listed inside1 and inside2 (not outside) for a dry run and that nothing was changed. */
static void assert_dry_listing(const cmd_result *r)
{
    if (r->status != 0) ops_show(r);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "would move inside1"));
    assert_non_null(strstr(r->out, "would move inside2"));
    assert_null(strstr(r->out, "outside"));
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "GET", "retirements_by_status_and_date", NULL), 1);
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    cJSON_Delete(log);
}

/* retirement_bulk_status_update.py's spellings (--initial_state, --end_date=D, ...) parse as before. */
static void test_reset_upstream_spellings(void **state)
{
    (void)state;
    ops_reset();
    add_learners();
    cmd_result r = ops_run("reset", "--initial_state=COMPLETE", "--new_state", "PENDING", "--start_date", "2018-01-01",
                           "--end_date=2018-01-15", "--dry_run");
    assert_dry_listing(&r);
    assert_non_null(strstr(r.out, "Would update 2 learners to PENDING"));
    cmd_result_free(&r);

    /* the same line from the RETIREMENT_* variables, rewinding */
    ops_reset();
    add_learners();
    const char *env[] = {"RETIREMENT_INITIAL_STATE=COMPLETE", "RETIREMENT_REWIND_STATE=yes",
                         "RETIREMENT_START_DATE=2018-01-01", "RETIREMENT_END_DATE=2018-01-15", NULL};
    r = ops_run_env(env, NULL, "reset", "--dry-run", (const char *)NULL);
    assert_dry_listing(&r);
    assert_non_null(strstr(r.out, "to LMS_COMPLETE")); /* each learner's last_state */
    cmd_result_free(&r);
}

/* A missing value, a value where none is taken, a bad boolean, a stray word: exit 2, one line, nothing sent. */
static void test_mistakes_refused(void **state)
{
    (void)state;
    ops_reset();
    add_learners();
    static const char *const cases[][5] = {
        /* the command line (at most 4 words), then stderr */
        {"reset", "--start-date", "2018-01-01", "--initial-state",
         "retirectl reset: --initial-state needs a value (see retirectl reset --help)\n"},
        {"reset", "--dry-run=yes", NULL, NULL,
         "retirectl reset: --dry-run takes no value ('yes' given) (see retirectl reset --help)\n"},
        {"reset", "COMPLETE", NULL, NULL, "retirectl reset: unexpected argument 'COMPLETE' (see retirectl reset --help)\n"},
        {"cleanup", "--dry_run=maybe", NULL, NULL,
         "retirectl cleanup: --dry-run takes true or false, not 'maybe' (see retirectl cleanup --help)\n"},
        {"cleanup", "--batch-size", NULL, NULL,
         "retirectl cleanup: --batch-size needs a value (see retirectl cleanup --help)\n"},
        {"cleanup", "--batch-size", "ten", NULL, "retirectl: --batch-size needs a whole number of 0 or more, not 'ten'\n"},
        {"cleanup", "--no-such-opt", NULL, NULL,
         "retirectl cleanup: unknown option '--no-such-opt' (see retirectl cleanup --help)\n"},
        {"tui", "--no-such-opt", NULL, NULL, "retirectl tui: unknown option '--no-such-opt' (see retirectl tui --help)\n"},
        {"tui", "ready", NULL, NULL, "retirectl tui: unexpected argument 'ready' (see retirectl tui --help)\n"},
        {"demo", "--keep=yes", NULL, NULL,
         "retirectl demo: --keep takes no value ('yes' given) (see retirectl demo --help)\n"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *const *c = cases[k];
        cmd_result r = ops_run_env(NULL, NULL, c[0], c[1], c[2], c[3], (const char *)NULL);
        if (r.status != 2 || strcmp(r.err, c[4]) != 0)
            fail_msg("%s %s: exit %d, stderr '%s', want '%s'", c[0], c[1], r.status, r.err, c[4]);
        cmd_result_free(&r);
    }
    cJSON *log = ops_requests();
    assert_int_equal(cJSON_GetArraySize(log), 0);
    cJSON_Delete(log);
}

/* tui --print-keys-man and demo --keep still reach their commands. */
static void test_tui_and_demo_options(void **state)
{
    (void)state;
    cmd_result r = ops_run("tui", "--print-keys-man");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, ".SH KEYS"));
    cmd_result_free(&r);
    r = ops_run("demo", "--keep"); /* stdin is /dev/null: refused after --keep was read */
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "retirectl demo: the console needs a terminal on stdin and stdout\n");
    cmd_result_free(&r);
}

/* Each --help shows every option and what the hand-written help said (exit statuses, variables). */
static void test_help_says_everything(void **state)
{
    (void)state;
    static const char *const expect[][12] = {
        {"reset", "--initial-state STATE", "--new-state STATE", "--rewind-state", "--start-date YYYY-MM-DD",
         "--end-date YYYY-MM-DD", "--dry-run", "--reason TEXT", "--force", "$RETIREMENT_INITIAL_STATE",
         "Force updated via retirement_bulk_status_update script", "Exit status: 0 done, 2 bad option or date"},
        {"cleanup", "--cool-off-days N", "--batch-size N", "--batch-delay SECONDS", "--dry_run True",
         "retirectl cleanup --hash VALUE", "--hash VALUE", "--config_file", "RETIREMENT_COOL_OFF_DAYS",
         "250 dates outside the cool-off rule", NULL},
        {"tui", "usage: retirectl tui [--print-keys-man]", "[--read-only] tui", "--print-keys-man",
         "Press ? in the console", "console.history_days (30)", NULL},
        {"demo", "usage: retirectl demo [--keep]", "--keep", "print its path", "$RETIRECTL_SIM_BIN", NULL},
    };
    for (size_t k = 0; k < sizeof expect / sizeof expect[0]; k++) {
        cmd_result r = ops_run(expect[k][0], "--help");
        assert_int_equal(r.status, 0);
        for (size_t i = 1; i < 12 && expect[k][i]; i++)
            if (!strstr(r.out, expect[k][i])) fail_msg("%s --help lacks '%s':\n%s", expect[k][0], expect[k][i], r.out);
        cmd_result_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_upstream_spellings),
        cmocka_unit_test(test_mistakes_refused),
        cmocka_unit_test(test_tui_and_demo_options),
        cmocka_unit_test(test_help_says_everything),
    };
    return cmocka_run_group_tests(tests, ops_setup, ops_teardown);
}
