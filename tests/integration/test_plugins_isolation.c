/* Crash, abort, exit and hang isolation of driver plugins, against retirectl-sim with the real
 * retirectl binary and the real test plugins (tests/plugins/): in one `retire --all -j 1` run
 * the victim learner ends ERRORED at the LMS with "DRIVER.method crashed (SIGSEGV)" / "timed
 * out after N s" / "exited with status N", while the learners before and after it complete.
 * Also: get_instance failure (setup failure, learner untouched), a driver that does not load
 * (wrong ABI), and a method the driver lacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "simproc.h"

#ifndef RETIRECTL_TEST_PLUGIN_DIR
#error "RETIRECTL_TEST_PLUGIN_DIR must name <build>/tests/plugins"
#endif

/* The pipeline around the plugin step; %s is "DRIVER', 'method". */
#define PIPELINE_FMT                                                                    \
    "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"    \
    "  - ['RETIRING_PLUGIN', 'PLUGIN_COMPLETE', '%s']\n"                                \
    "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n"

typedef struct env {
    sim_proc sim;
    char *config;
    char *ep;
    int running; /* the sim is up: the teardown stops it even when an assertion failed */
} env;

static env *CURRENT;

static const char *retirectl_bin(void)
{
    const char *b = getenv("RETIRECTL_BIN");
    return b && *b ? b : RETIRECTL_BIN;
}

/* Starts a sim whose state table is the pipeline's, writes an entry-point file naming the given
 * plugin as driver `name`, and a config with step_timeout_seconds and testplugin_victims. */
static void env_start(env *e, const char *name, const char *so, const char *symbol, const char *method,
                      const char *extra_yaml)
{
    char drv[256], pipeline[1024];
    snprintf(drv, sizeof drv, "%s', '%s", name, method);
    snprintf(pipeline, sizeof pipeline, PIPELINE_FMT, drv);
    char pipe_doc[1200];
    snprintf(pipe_doc, sizeof pipe_doc, "retirement_pipeline:\n%s", pipeline);
    char *pipe_file = write_temp_file("pipeline.yml", pipe_doc);
    const char *args[] = {"--pipeline-config", pipe_file, NULL};
    memset(e, 0, sizeof *e);
    assert_int_equal(sim_start(&e->sim, args), 0);
    e->running = 1;
    CURRENT = e;
    free(pipe_file);

    char ep_text[2048];
    snprintf(ep_text, sizeof ep_text, "[retirement_driver]\n%s = %s/%s:%s\n", name, RETIRECTL_TEST_PLUGIN_DIR, so,
             symbol);
    e->ep = write_temp_file("drivers.cfg", ep_text);
    assert_int_equal(chmod(e->ep, 0644), 0);
    char extra[4096];
    snprintf(extra, sizeof extra,
             "driver_entry_points: ['%s']\n"
             "step_timeout_seconds: 2\n"
             "testplugin_victims: [victim]\n"
             "http:\n"
             "  max_retry_seconds: 1\n"
             "%s",
             e->ep, extra_yaml ? extra_yaml : "");
    e->config = sim_write_config(&e->sim, pipeline, extra);
    assert_non_null(e->config);
    assert_int_equal(chmod(e->config, 0600), 0);
    /* three learners, requested 10 days ago; the queue lists them in this order */
    long st = sim_http(&e->sim, "POST", "/__sim/learners", NULL,
                       "[{\"username\":\"alice\",\"days_ago\":12},"
                       "{\"username\":\"victim\",\"days_ago\":11},"
                       "{\"username\":\"zed\",\"days_ago\":10}]",
                       NULL);
    assert_true(st >= 200 && st < 300);
}

static void env_stop(env *e)
{
    if (e->running) sim_stop(&e->sim);
    e->running = 0;
    free(e->config);
    free(e->ep);
    e->config = e->ep = NULL;
    CURRENT = NULL;
}

/* Stops a sim a failed test left running (a running sim would keep ctest waiting on its output). */
static int teardown(void **state)
{
    (void)state;
    if (CURRENT && CURRENT->running) {
        sim_stop(&CURRENT->sim);
        CURRENT->running = 0;
    }
    CURRENT = NULL;
    return 0;
}

/* The learner's state name and last line of its responses (malloc'd into *last_line). */
static char *learner_state(env *e, const char *username, char **last_line)
{
    char path[256];
    snprintf(path, sizeof path, "/__sim/learners?username=%s", username);
    char *body = NULL;
    assert_int_equal(sim_http(&e->sim, "GET", path, NULL, NULL, &body), 200);
    cJSON *j = cJSON_Parse(body);
    assert_non_null(j);
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "current_state"),
                                                       "state_name");
    assert_true(cJSON_IsString(cs));
    char *state = strdup(cs->valuestring);
    if (last_line) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "responses");
        assert_true(cJSON_IsString(r));
        const char *s = r->valuestring;
        size_t n = strlen(s);
        while (n && s[n - 1] == '\n') n--;
        size_t b = n;
        while (b && s[b - 1] != '\n') b--;
        *last_line = strndup(s + b, n - b);
    }
    cJSON_Delete(j);
    free(body);
    return state;
}

/* Runs retirectl with the env's config and the given arguments. */
static void run(env *e, cmd_result *r, const char *a1, const char *a2, const char *a3, const char *a4,
                const char *a5, int timeout_s)
{
    const char *argv[] = {retirectl_bin(), "--config", e->config, a1, a2, a3, a4, a5, NULL};
    /* A plugin that calls exit() runs the atexit handlers of the worker; in the sanitizer build
     * LeakSanitizer would then replace the plugin's exit status with its own. */
    const char *envv[] = {"LC_ALL=C.UTF-8", "RETIRECTL_DRIVER_PATH=", "ASAN_OPTIONS=detect_leaks=0", NULL};
    assert_int_equal(run_command(r, argv, envv, NULL, timeout_s), 0);
}

/* One isolation case: the bulk run leaves victim ERRORED with `expect` and the others COMPLETE. */
static void isolation_case(const char *name, const char *so, const char *symbol, const char *method,
                           const char *expect)
{
    static env e; /* static: the teardown may need it after a failed assertion */
    env_start(&e, name, so, symbol, method, NULL);
    cmd_result r;
    /* A hang that the step timeout did not stop would hit run_command's 120 s kill (status 137). */
    run(&e, &r, "retire", "--all", "-j", "1", "--cool-off-days=0", 120);
    if (r.status != 252) fail_msg("retire --all exited %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);

    char *last = NULL;
    char *state = learner_state(&e, "victim", &last);
    assert_string_equal(state, "ERRORED");
    if (strcmp(last, expect) != 0) fail_msg("victim's ERRORED reason is '%s', expected '%s'", last, expect);
    free(state);
    free(last);
    const char *others[] = {"alice", "zed"};
    for (size_t i = 0; i < 2; i++) {
        state = learner_state(&e, others[i], &last);
        if (strcmp(state, "COMPLETE") != 0)
            fail_msg("%s is %s (last response '%s'), expected COMPLETE\nstdout:\n%s\nstderr:\n%s", others[i], state,
                     last, r.out, r.err);
        free(state);
        free(last);
    }
    /* the plugin step really ran for the others, through the plugin */
    char *body = NULL;
    assert_int_equal(sim_http(&e.sim, "GET", "/__sim/learners?username=zed", NULL, NULL, &body), 200);
    char ok[128];
    snprintf(ok, sizeof ok, "%s.%s ok for zed", name, method);
    assert_non_null(strstr(body, ok));
    free(body);
    cmd_result_free(&r);
    env_stop(&e);
}

static void test_segfault(void **state)
{
    (void)state;
    isolation_case("CRASHER", "crash.so", "retirectl_driver_crash", "retire", "CRASHER.retire crashed (SIGSEGV)");
}

static void test_abort(void **state)
{
    (void)state;
    isolation_case("ABORTER", "abort.so", "retirectl_driver_abort", "retire", "ABORTER.retire crashed (SIGABRT)");
}

static void test_exit_zero(void **state)
{
    (void)state;
    isolation_case("EXITER", "exit.so", "retirectl_driver_exit", "retire", "EXITER.retire exited with status 0");
}

static void test_exit_seven(void **state)
{
    (void)state;
    isolation_case("EXITER", "exit.so", "retirectl_driver_exit", "retire7", "EXITER.retire7 exited with status 7");
}

static void test_hang(void **state)
{
    (void)state;
    isolation_case("HANGER", "hang.so", "retirectl_driver_hang", "retire", "HANGER.retire timed out after 2 s");
}

static void test_hang_ignoring_sigterm(void **state)
{
    (void)state;
    isolation_case("HANGER", "hang.so", "retirectl_driver_hang", "retire_stubborn",
                   "HANGER.retire_stubborn timed out after 2 s");
}

/* get_instance fails: a setup failure (exit 255) before any state change, naming the driver,
 * its entry point and the plugin's reason. */
static void test_get_instance_failure(void **state)
{
    (void)state;
    static env e; /* static: the teardown may need it after a failed assertion */
    env_start(&e, "GIF", "getinstfail.so", "retirectl_driver_getinstfail", "retire", NULL);
    cmd_result r;
    run(&e, &r, "retire", "victim", NULL, NULL, NULL, 60);
    assert_int_equal(r.status, 255);
    char want[4200];
    snprintf(want, sizeof want, "driver GIF (%s:2, %s/getinstfail.so) could not start: getinstfail_setting is not "
                                "configured",
             e.ep, RETIRECTL_TEST_PLUGIN_DIR);
    if (!strstr(r.err, want) && !strstr(r.out, want))
        fail_msg("missing '%s'\nstdout:\n%s\nstderr:\n%s", want, r.out, r.err);
    char *st = learner_state(&e, "victim", NULL);
    assert_string_equal(st, "PENDING");
    free(st);
    cmd_result_free(&r);
    env_stop(&e);

    /* with the setting, the same plugin retires the learner */
    env_start(&e, "GIF", "getinstfail.so", "retirectl_driver_getinstfail", "retire", "getinstfail_setting: on\n");
    run(&e, &r, "retire", "victim", NULL, NULL, NULL, 60);
    if (r.status != 0) fail_msg("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    st = learner_state(&e, "victim", NULL);
    assert_string_equal(st, "COMPLETE");
    free(st);
    cmd_result_free(&r);
    env_stop(&e);
}

/* A set-up failure of the worker (get_instance crashing or never returning): `retire victim`
 * exits 255 (without the set-up timeout a hang would hit run_command's 60 s kill, status 137),
 * the result event and the human output both carry `expect` and say the learner is untouched,
 * and it is still PENDING at the LMS. */
static void setup_failure_case(const char *name, const char *so, const char *symbol, const char *expect)
{
    static env e; /* static: the teardown may need it after a failed assertion */
    env_start(&e, name, so, symbol, "retire", NULL);
    for (int human = 0; human <= 1; human++) {
        cmd_result r;
        run(&e, &r, "retire", "victim", human ? NULL : "--events", NULL, NULL, 60);
        if (r.status != 255) fail_msg("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
        const char *where = human ? r.err : strstr(r.out, "\"event\":\"result\"");
        if (!where || !strstr(where, expect) || !strstr(where, "untouched"))
            fail_msg("%s does not name '%s' and say the learner is untouched\nstdout:\n%s\nstderr:\n%s",
                     human ? "the human output" : "the result event", expect, r.out, r.err);
        if (!human && !strstr(where, "no state change happened")) fail_msg("result event: %s", where);
        char *st = learner_state(&e, "victim", NULL);
        assert_string_equal(st, "PENDING");
        free(st);
        cmd_result_free(&r);
    }
    env_stop(&e);
}

/* get_instance crashes: the worker dies before its first step. */
static void test_get_instance_crash(void **state)
{
    (void)state;
    setup_failure_case("GIC", "getinstcrash.so", "retirectl_driver_getinstcrash", "GIC.get_instance crashed (SIGSEGV)");
}

/* get_instance never returns: the step timeout (2 s here) applies from the worker's start. */
static void test_get_instance_hang(void **state)
{
    (void)state;
    setup_failure_case("HS", "hang.so", "retirectl_driver_hang_setup", "HS.get_instance timed out after 2 s");
}

/* rerun never loads a plugin in its own process: a plugin whose constructor crashes kills only
 * the worker, and rerun reports it (exit 255, learner untouched). */
static void test_rerun_plugin_crashing_on_load(void **state)
{
    (void)state;
    static env e; /* static: the teardown may need it after a failed assertion */
    env_start(&e, "CTOR", "ctorcrash.so", "retirectl_driver_ctorcrash", "retire", NULL);
    cmd_result r;
    run(&e, &r, "rerun", "victim", "CTOR.retire", "--yes", NULL, 60);
    if (r.status != 255)
        fail_msg("rerun exited %d (a crash in rerun itself is 139)\nstdout:\n%s\nstderr:\n%s", r.status, r.out,
                 r.err);
    if (!strstr(r.err, "plugin of driver CTOR crashed (SIGSEGV)"))
        fail_msg("rerun does not name the crash\nstdout:\n%s\nstderr:\n%s", r.out, r.err);
    char *st = learner_state(&e, "victim", NULL);
    assert_string_equal(st, "PENDING");
    free(st);
    cmd_result_free(&r);
    env_stop(&e);
}

/* A plugin that does not load (wrong ABI) or lacks the method: refused before any state change,
 * and check-config / drivers say why with file and line. */
static void test_unloadable_driver_and_missing_method(void **state)
{
    (void)state;
    static env e; /* static: the teardown may need it after a failed assertion */
    env_start(&e, "OLD", "wrongabi.so", "retirectl_driver_wrongabi", "retire", NULL);
    cmd_result r;
    run(&e, &r, "retire", "victim", NULL, NULL, NULL, 60);
    assert_true(r.status == 255 || r.status == 249);
    if (!strstr(r.err, "was built for driver ABI 99") && !strstr(r.out, "was built for driver ABI 99"))
        fail_msg("no ABI message\nstdout:\n%s\nstderr:\n%s", r.out, r.err);
    char *st = learner_state(&e, "victim", NULL);
    assert_string_equal(st, "PENDING");
    free(st);
    cmd_result_free(&r);

    run(&e, &r, "drivers", NULL, NULL, NULL, NULL, 60);
    assert_int_equal(r.status, 1);
    char want[4200];
    snprintf(want, sizeof want, "source:  %s:2", e.ep);
    assert_non_null(strstr(r.out, want));
    assert_non_null(strstr(r.out, "was built for driver ABI 99 but this retirectl uses ABI 2"));
    assert_non_null(strstr(r.out, "The pipeline cannot run (1 problem)"));
    cmd_result_free(&r);
    env_stop(&e);

    env_start(&e, "GOODIE", "good.so", "retirectl_driver_good", "no_such_method", NULL);
    run(&e, &r, "retire", "victim", NULL, NULL, NULL, 60);
    assert_true(r.status == 255 || r.status == 249);
    if (!strstr(r.err, "no_such_method") && !strstr(r.out, "no_such_method"))
        fail_msg("no message naming the method\nstdout:\n%s\nstderr:\n%s", r.out, r.err);
    st = learner_state(&e, "victim", NULL);
    assert_string_equal(st, "PENDING");
    free(st);
    cmd_result_free(&r);
    run(&e, &r, "drivers", NULL, NULL, NULL, NULL, 60);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "driver GOODIE has no method no_such_method (it has: retire notfound fail "
                                  "config_echo)"));
    cmd_result_free(&r);
    env_stop(&e);
}

int main(void)
{
    setenv("LC_ALL", "C.UTF-8", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_segfault, teardown),
        cmocka_unit_test_teardown(test_abort, teardown),
        cmocka_unit_test_teardown(test_exit_zero, teardown),
        cmocka_unit_test_teardown(test_exit_seven, teardown),
        cmocka_unit_test_teardown(test_hang, teardown),
        cmocka_unit_test_teardown(test_hang_ignoring_sigterm, teardown),
        cmocka_unit_test_teardown(test_get_instance_failure, teardown),
        cmocka_unit_test_teardown(test_get_instance_crash, teardown),
        cmocka_unit_test_teardown(test_get_instance_hang, teardown),
        cmocka_unit_test_teardown(test_rerun_plugin_crashing_on_load, teardown),
        cmocka_unit_test_teardown(test_unloadable_driver_and_missing_method, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
