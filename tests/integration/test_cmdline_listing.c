/* The command lines of queue, history, check-config and drivers, read by the one parser from
 * their command entries (src/cli/cmd_entry.h): --help keeps every option and note, each
 * spelling the commands always took still works (underscores, "--opt=VALUE", --config at the
 * command), and each value check exits 2 with one line naming the option and the value. */
#include "retire_support.h"

#define LEARNERS                                                                        \
    "[{\"username\": \"Alice\", \"state\": \"PENDING\", \"days_ago\": 10},"             \
    " {\"username\": \"bob\", \"state\": \"FORUMS_COMPLETE\", \"days_ago\": 10},"       \
    " {\"username\": \"fresh\", \"state\": \"PENDING\", \"days_ago\": 1}]"

/* Runs `retirectl args...` (no config, a private state folder); r holds the result. */
static void run_plain(cmd_result *r, const char *const *args)
{
    static char *state_dir;
    if (!state_dir) state_dir = make_temp_dir();
    char xdg[1100];
    snprintf(xdg, sizeof xdg, "XDG_STATE_HOME=%s", state_dir);
    const char *env[] = {xdg, "XDG_CONFIG_HOME=/nonexistent", "HOME=/nonexistent", NULL};
    rt_run(r, args, env);
}

/* Fails unless r exited 2 with exactly one stderr line holding every one of want (NULL-ended). */
static void assert_usage_line(const cmd_result *r, const char *what, const char *const *want)
{
    if (r->status != 2) fail_msg("%s: exit %d, want 2; stderr '%s'", what, r->status, r->err);
    const char *nl = strchr(r->err, '\n');
    if (!nl || nl[1]) fail_msg("%s: want one stderr line, got '%s'", what, r->err);
    for (size_t i = 0; want[i]; i++)
        if (!strstr(r->err, want[i])) fail_msg("%s: '%s' missing in '%s'", what, want[i], r->err);
}

/* Fails unless text is a JSON array of n items. */
static void assert_array_of(const char *text, int n)
{
    cJSON *j = cJSON_Parse(text);
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != n) fail_msg("want a JSON array of %d, got:\n%s", n, text);
    cJSON_Delete(j);
}

/* Each command's --help: the usage line, every option and the notes the old text had. */
static void test_help_keeps_everything(void **state)
{
    (void)state;
    static const char *const queue[] = {"usage: retirectl queue", "--cool-off-days N", "--states A,B", "--limit N",
                                        "--max-user-batch-size N", "--user-count-error-threshold N", "--shard I/N",
                                        "--format table|json|jenkins", "--output-dir D", "(also --json)",
                                        "RETIREMENT_USERNAME=<username>", "Underscore spellings",
                                        "Exit status (get_learners_to_retire.py)", NULL};
    static const char *const history[] = {"usage: retirectl history [USER]",
                                          "retirectl history --failed --group [--since DATE] [--json]",
                                          "--user-id N", "--retirement-id N", "--since DATE", "--failed",
                                          "--group", "counted by DRIVER.method and HTTP status", "--open",
                                          "--limit N", "--json", "never usernames",
                                          "Exit status: 0, 2 bad command line", NULL};
    static const char *const check[] = {"usage: retirectl check-config", "--config_file, --config FILE", "--json",
                                        "\"checks\": [{\"check\": NAME", "Secrets are never printed",
                                        "Exit status: 0 when every check passes, else 249.", NULL};
    static const char *const drivers[] = {"usage: retirectl drivers [--json]",
                                          "retirectl [--config FILE] [--driver-path FILE]... drivers [--json]",
                                          "no plugin code runs in this one", "Exit status 1", NULL};
    struct {
        const char *name;
        const char *const *want;
    } cmds[] = {{"queue", queue}, {"history", history}, {"check-config", check}, {"drivers", drivers}};
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
        const char *args[] = {cmds[k].name, "--help", NULL};
        cmd_result r;
        run_plain(&r, args);
        if (r.status != 0 || r.err[0]) fail_msg("%s --help: exit %d, stderr '%s'", cmds[k].name, r.status, r.err);
        for (size_t i = 0; cmds[k].want[i]; i++)
            if (!strstr(r.out, cmds[k].want[i]))
                fail_msg("%s --help lacks '%s':\n%s", cmds[k].name, cmds[k].want[i], r.out);
        cmd_result_free(&r);
    }
}

/* Mistakes on the line: exit 2, one line naming the option (or argument) and the value. */
static void test_mistakes_exit_2(void **state)
{
    (void)state;
    struct {
        const char *args[6];
        const char *want[3];
    } cases[] = {
        {{"queue", "--format", "xml", NULL}, {"--format", "'xml'", NULL}},
        {{"queue", "--cool-off-days", "soon", NULL}, {"--cool-off-days needs a whole number", "'soon'", NULL}},
        {{"queue", "--limit", "-1", NULL}, {"--limit", "'-1'", NULL}},
        {{"queue", "--max_user_batch_size=x", NULL}, {"--max-user-batch-size", "'x'", NULL}},
        {{"queue", "--shard", "3/2", NULL}, {"retirectl queue: ", "3/2", NULL}},
        {{"queue", "--output-dir", NULL}, {"--output-dir needs a value", NULL}},
        {{"history", "--no-such-opt", NULL},
         {"retirectl history: unknown option '--no-such-opt' (see retirectl history --help)", NULL}},
        {{"history", "--user-id", "x", NULL}, {"--user-id", "'x'", NULL}},
        {{"history", "--since", NULL}, {"--since needs a value", NULL}},
        {{"history", "--group", NULL}, {"--group counts failures: use it with --failed", NULL}},
        {{"history", "ann", "bob", NULL}, {"one learner at a time ('ann' and 'bob' given)", NULL}},
        {{"history", "ann", "--user-id", "3", NULL}, {"give USER or --user-id, not both", NULL}},
        {{"history", "--since", "yesterday", NULL}, {"'yesterday' is not a date", NULL}},
        {{"check-config", "--json=yes", NULL}, {"--json takes no value", NULL}},
        {{"check-config", "stray", NULL}, {"unexpected argument 'stray'", NULL}},
        {{"drivers", "stray", NULL}, {"unexpected argument 'stray'", NULL}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cmd_result r;
        run_plain(&r, cases[k].args);
        char what[200];
        snprintf(what, sizeof what, "%s %s %s", cases[k].args[0], cases[k].args[1] ? cases[k].args[1] : "",
                 cases[k].args[1] && cases[k].args[2] ? cases[k].args[2] : "");
        assert_usage_line(&r, what, cases[k].want);
        cmd_result_free(&r);
    }
}

/* queue: underscore and "=VALUE" spellings, --config_file at the command, --json, and a
 * --format given wins over --json. */
static void test_queue_spellings(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, LEARNERS, NULL, NULL, NULL);
    const char *args[] = {"queue", "--config_file", env.config, "--cool_off_days=0", "--format=json", NULL};
    cmd_result r;
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 0);
    assert_array_of(r.out, 3);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "queue", "--json", NULL);
    rt_assert_status(&r, 0);
    assert_array_of(r.out, 2); /* the default cool-off (7 days) */
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "queue", "--json", "--format", "table", "--user_count_error_threshold", "5", NULL);
    rt_assert_status(&r, 0);
    assert_non_null(strstr(r.out, "2 learner(s)"));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "queue", "--user-count-error-threshold=1", NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.out, "Expected 1 or fewer, got 2"));
    cmd_result_free(&r);
    rt_stop(&env);
}

/* history without a config (the default store), check-config and drivers with --config at the command. */
static void test_history_check_drivers_run(void **state)
{
    (void)state;
    const char *hist[] = {"history", "--user_id=7", "--limit", "3", "--json", NULL};
    cmd_result r;
    run_plain(&r, hist);
    rt_assert_status(&r, 0);
    assert_array_of(r.out, 0);
    cmd_result_free(&r);

    rt_env env;
    rt_start(&env, LEARNERS, NULL, NULL, NULL);
    const char *check[] = {"check-config", "--config", env.config, "--json", NULL};
    rt_run(&r, check, NULL);
    cJSON *j = cJSON_Parse(r.out);
    if (!cJSON_IsObject(j)) fail_msg("check-config --json printed no JSON object:\n%s\n%s", r.out, r.err);
    const cJSON *cfgname = cJSON_GetObjectItemCaseSensitive(j, "config");
    assert_true(cJSON_IsString(cfgname));
    assert_string_equal(cfgname->valuestring, env.config);
    assert_int_equal(r.status, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")) ? 0 : 249);
    cJSON_Delete(j);
    cmd_result_free(&r);

    rt_retirectl(&env, &r, "drivers", "--json", NULL);
    j = cJSON_Parse(r.out);
    if (!cJSON_IsObject(j)) fail_msg("drivers --json printed no JSON object:\n%s\n%s", r.out, r.err);
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "drivers")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "config")->valuestring, env.config);
    cJSON_Delete(j);
    cmd_result_free(&r);
    rt_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_keeps_everything),
        cmocka_unit_test(test_mistakes_exit_2),
        cmocka_unit_test_teardown(test_queue_spellings, rt_teardown),
        cmocka_unit_test_teardown(test_history_check_drivers_run, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
