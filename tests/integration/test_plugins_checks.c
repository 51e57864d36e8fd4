/* What check-config, plan and drivers say about misbehaving plugins, with the real retirectl,
 * retirectl-sim and the test plugins (tests/plugins/):
 *   - check-config builds every pipeline driver's instance in a child process and reports a
 *     refusing or crashing get_instance with the entry-point file:line and .so;
 *   - check-config lists the entry-point file problems that `drivers` lists;
 *   - plan names the driver and the preview that crashed, and its summary adds up;
 *   - no plugin code (ELF constructors included) runs in the retirectl process itself;
 *   - the C++ example plugin exports its descriptor and retires a learner. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simproc.h"

#ifndef RETIRECTL_TEST_PLUGIN_DIR
#error "RETIRECTL_TEST_PLUGIN_DIR must name <build>/tests/plugins"
#endif

typedef struct env {
    sim_proc sim;
    int running;
    char *config;
    char *ep;
} env;

static env E; /* one at a time; the teardown stops a sim a failed test left running */

/* Starts a sim with the 3-step pipeline LMS / NAME.method / LMS, an entry-point file with the
 * given lines (NAME = so:symbol, so relative to the test plugin folder) and a config. */
static void env_start(const char *driver, const char *method, const char *ep_lines, const char *extra_yaml)
{
    char pipeline[1024];
    snprintf(pipeline, sizeof pipeline,
             "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
             "  - ['RETIRING_PLUGIN', 'PLUGIN_COMPLETE', '%s', '%s']\n"
             "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n",
             driver, method);
    char doc[1200];
    snprintf(doc, sizeof doc, "retirement_pipeline:\n%s", pipeline);
    char *pipe_file = write_temp_file("pipeline.yml", doc);
    const char *args[] = {"--pipeline-config", pipe_file, NULL};
    memset(&E, 0, sizeof E);
    assert_int_equal(sim_start(&E.sim, args), 0);
    E.running = 1;
    free(pipe_file);
    char ep[4096] = "[retirement_driver]\n";
    size_t o = strlen(ep);
    for (const char *p = ep_lines; *p && o + 600 < sizeof ep; p++) {
        if (*p == '@')
            o += (size_t)snprintf(ep + o, sizeof ep - o, "%s", RETIRECTL_TEST_PLUGIN_DIR);
        else
            ep[o++] = *p;
    }
    ep[o] = '\0';
    E.ep = write_temp_file("drivers.cfg", ep);
    assert_int_equal(chmod(E.ep, 0644), 0);
    char extra[4096];
    snprintf(extra, sizeof extra, "driver_entry_points: ['%s']\nstep_timeout_seconds: 5\n%s", E.ep,
             extra_yaml ? extra_yaml : "");
    E.config = sim_write_config(&E.sim, pipeline, extra);
    assert_non_null(E.config);
    assert_int_equal(chmod(E.config, 0600), 0);
    long st = sim_http(&E.sim, "POST", "/__sim/learners", NULL, "[{\"username\":\"dave\",\"days_ago\":12}]", NULL);
    assert_true(st >= 200 && st < 300);
}

static int teardown(void **state)
{
    (void)state;
    if (E.running) sim_stop(&E.sim);
    E.running = 0;
    free(E.config);
    free(E.ep);
    E.config = E.ep = NULL;
    return 0;
}

/* Runs retirectl --config CONFIG a1 a2 (a2 may be NULL) with an optional constructor log. */
static void run(cmd_result *r, const char *a1, const char *a2, const char *ctor_log)
{
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "--config", E.config, a1, a2, NULL};
    char log_env[4200];
    snprintf(log_env, sizeof log_env, "RETIRECTL_TEST_CTOR_LOG=%s", ctor_log ? ctor_log : "");
    const char *envv[] = {"LC_ALL=C.UTF-8", "RETIRECTL_DRIVER_PATH=", "ASAN_OPTIONS=detect_leaks=0", log_env, NULL};
    assert_int_equal(run_command(r, argv, envv, NULL, 120), 0);
}

static void test_check_config_builds_instances(void **state)
{
    (void)state;
    env_start("GETINSTFAIL", "retire", "GETINSTFAIL = @/getinstfail.so:retirectl_driver_getinstfail\n", NULL);
    cmd_result r;
    run(&r, "check-config", NULL, NULL);
    if (r.status != 249) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    char want[4200];
    snprintf(want, sizeof want, "FAIL  driver instances: driver GETINSTFAIL (%s:2, %s/getinstfail.so) could not start: "
             "getinstfail_setting is not configured", E.ep, RETIRECTL_TEST_PLUGIN_DIR);
    if (!strstr(r.out, want)) fail_msg("no instance failure line '%s' in:\n%s", want, r.out);
    assert_non_null(strstr(r.out, "ok    drivers: every driver the pipeline names loads"));
    cmd_result_free(&r);
    teardown(NULL);

    /* with the setting, every check passes */
    env_start("GETINSTFAIL", "retire", "GETINSTFAIL = @/getinstfail.so:retirectl_driver_getinstfail\n",
              "getinstfail_setting: on\n");
    run(&r, "check-config", NULL, NULL);
    if (r.status != 0) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "ok    driver instances: every pipeline driver that loads accepted the config"));
    cmd_result_free(&r);
    teardown(NULL);

    /* a get_instance that crashes is caught in its child and named */
    env_start("GETINSTCRASH", "retire", "GETINSTCRASH = @/getinstcrash.so:retirectl_driver_getinstcrash\n", NULL);
    run(&r, "check-config", NULL, NULL);
    if (r.status != 249) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    snprintf(want, sizeof want, "driver GETINSTCRASH (%s:2, %s/getinstcrash.so): get_instance crashed (SIGSEGV) "
             "while check-config built its instance", E.ep, RETIRECTL_TEST_PLUGIN_DIR);
    if (!strstr(r.out, want)) fail_msg("no crash line '%s' in:\n%s", want, r.out);
    assert_non_null(strstr(r.out, "check-config: FAILED"));
    cmd_result_free(&r);
}

static void test_check_config_lists_entry_point_problems(void **state)
{
    (void)state;
    env_start("GOOD", "retire",
              "GOOD = @/good.so:retirectl_driver_good\n"
              "this line is not valid\n"
              "OTHER = @/good.so:retirectl_driver_good\n"
              "OTHER = @/good.so:retirectl_driver_good\n",
              "getinstfail_setting: on\n");
    cmd_result d, r;
    run(&d, "drivers", NULL, NULL);
    run(&r, "check-config", NULL, NULL);
    if (r.status != 249) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "FAIL  entry-point files: "));
    /* every problem line `drivers` prints under "Problems in entry-point files" is in check-config's output */
    const char *sec = strstr(d.out, "Problems in entry-point files:\n");
    if (!sec) fail_msg("drivers lists no entry-point problem:\n%s", d.out);
    sec += strlen("Problems in entry-point files:\n");
    int n = 0;
    while (strncmp(sec, "  ", 2) == 0) {
        const char *nl = strchr(sec, '\n');
        char *line = strndup(sec + 2, (size_t)(nl - sec - 2));
        if (!strstr(r.out, line)) fail_msg("check-config does not list '%s':\n%s", line, r.out);
        free(line);
        n++;
        sec = nl + 1;
    }
    assert_true(n >= 1);
    assert_non_null(strstr(r.out, "driver OTHER is defined twice"));
    cmd_result_free(&d);
    cmd_result_free(&r);
}

static void test_plan_names_crashing_preview(void **state)
{
    (void)state;
    env_start("PREVCRASH", "retire", "PREVCRASH = @/crash.so:retirectl_driver_prevcrash\n", NULL);
    cmd_result r;
    run(&r, "plan", "dave", NULL);
    if (r.status != 255) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "PREVCRASH.retire preview crashed (SIGSEGV)"));
    assert_non_null(strstr(r.err, "PREVCRASH.retire preview crashed (SIGSEGV) during the dry run for dave; nothing was "
                                  "sent and the learner is untouched"));
    assert_null(strstr(r.out, "retiring dave"));
    cmd_result_free(&r);
    /* the learner is untouched */
    char *body = NULL;
    assert_int_equal(sim_http(&E.sim, "GET", "/__sim/learners?username=dave", NULL, NULL, &body), 200);
    assert_non_null(strstr(body, "\"PENDING\""));
    free(body);
}

static void test_plan_summary_adds_up(void **state)
{
    (void)state;
    env_start("GETINSTFAIL", "retire", "GETINSTFAIL = @/getinstfail.so:retirectl_driver_getinstfail\n", NULL);
    cmd_result r;
    run(&r, "plan", "dave", NULL);
    if (r.status != 255) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    if (!strstr(r.out, "Dry run: 2 of 3 steps would run, 0 would be skipped, 1 cannot run"))
        fail_msg("summary does not add up to the 3 steps:\n%s", r.out);
    cmd_result_free(&r);
}

/* Non-zero when a line "<pid> <ppid>" of the log has ppid == parent: code ran in a direct child
 * of this test, i.e. in the retirectl process itself. */
static int ran_in_retirectl(const char *log, long parent, int *lines)
{
    FILE *f = fopen(log, "r");
    *lines = 0;
    if (!f) return 0;
    long pid, ppid;
    int hit = 0;
    while (fscanf(f, "%ld %ld", &pid, &ppid) == 2) {
        (*lines)++;
        if (ppid == parent) hit = 1;
    }
    fclose(f);
    return hit;
}

static void test_no_plugin_code_in_the_cli_process(void **state)
{
    (void)state;
    env_start("CTORLOG", "retire", "CTORLOG = @/ctorlog.so:retirectl_driver_ctorlog\n", NULL);
    char *dir = make_temp_dir();
    char log[4200];
    snprintf(log, sizeof log, "%s/ctor.log", dir);
    const char *cmds[][2] = {{"drivers", NULL}, {"drivers", "--json"}, {"check-config", NULL}, {"plan", "dave"}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        unlink(log);
        cmd_result r;
        run(&r, cmds[i][0], cmds[i][1], log);
        int lines = 0;
        if (ran_in_retirectl(log, (long)getpid(), &lines))
            fail_msg("`retirectl %s %s` ran the plugin's constructor in its own process", cmds[i][0],
                     cmds[i][1] ? cmds[i][1] : "");
        if (lines == 0) fail_msg("`retirectl %s` never loaded the plugin (exit %d)\n%s\n%s", cmds[i][0], r.status, r.out, r.err);
        cmd_result_free(&r);
    }
    unlink(log);
    rmdir(dir);
    free(dir);
}

/* The C++ example (plugins/example_cpp, built with -fvisibility=hidden) exports its descriptor
 * through RD_EXPORT and retires a learner through a pipeline. */
static void test_cpp_example_in_a_pipeline(void **state)
{
    (void)state;
    char ep[4400], extra[1024];
    snprintf(ep, sizeof ep, "ARCHIVE_CPP = %s/plugins/example_cpp/example_cpp.so:retirectl_driver_archive_cpp\n",
             RETIRECTL_BUILD_DIR);
    env_start("ARCHIVE_CPP", "forget_learner", ep, NULL);
    snprintf(extra, sizeof extra, "archive_cpp:\n  base_url: %s/vendor/webhook/archive/\n  bearer_token: cpp-Tok3n-x\n",
             E.sim.base_url);
    FILE *f = fopen(E.config, "a");
    assert_non_null(f);
    fputs(extra, f);
    fclose(f);
    cmd_result r;
    run(&r, "retire", "dave", NULL);
    if (r.status != 0) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "ARCHIVE_CPP.forget_learner"));
    assert_null(strstr(r.out, "cpp-Tok3n-x"));
    cmd_result_free(&r);
    char *log = NULL;
    assert_int_equal(sim_http(&E.sim, "GET", "/__sim/requests?path=/vendor/webhook/archive/learners/", NULL, NULL, &log),
                     200);
    assert_non_null(strstr(log, "/forget"));
    assert_non_null(strstr(log, "Bearer cpp-Tok3n-x"));
    assert_null(strstr(log, "archive//learners")); /* url_append: exactly one slash */
    free(log);
    char *body = NULL;
    assert_int_equal(sim_http(&E.sim, "GET", "/__sim/learners?username=dave", NULL, NULL, &body), 200);
    assert_non_null(strstr(body, "\"COMPLETE\""));
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_check_config_builds_instances, teardown),
        cmocka_unit_test_teardown(test_check_config_lists_entry_point_problems, teardown),
        cmocka_unit_test_teardown(test_plan_names_crashing_preview, teardown),
        cmocka_unit_test_teardown(test_plan_summary_adds_up, teardown),
        cmocka_unit_test_teardown(test_no_plugin_code_in_the_cli_process, teardown),
        cmocka_unit_test_teardown(test_cpp_example_in_a_pipeline, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
