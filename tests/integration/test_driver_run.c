/* `retirectl driver-run DRIVER.METHOD --learner FILE.json [--dry-run]` with the real binary,
 * retirectl-sim's webhook sink and real plugins: the request is sent with the host's HTTP, the
 * status, message and request lines are printed with the secret scrubbed, the LMS is never
 * contacted, --dry-run sends nothing, a crashing preview is reported with exit 255, and a bad
 * --timeout is refused before anything runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "simproc.h"

#define LEARNER                                                                                               \
    "{\"user\": {\"id\": 10001, \"username\": \"jane\", \"email\": \"jane@example.org\"},"                     \
    " \"original_username\": \"jane\", \"original_email\": \"jane@example.org\", \"original_name\": \"Jane\"," \
    " \"retired_username\": \"retired__user_abc\", \"retired_email\": \"retired__user_abc@retired.invalid\"}"

static sim_proc SIM;
static char *CONFIG, *EP, *LEARNER_FILE;

static int setup(void **state)
{
    (void)state;
    if (sim_start(&SIM, NULL) != 0) return -1;
    char text[1024];
    snprintf(text, sizeof text, "archive_cpp:\n  base_url: %s/vendor/webhook/archive\n  bearer_token: drv-Run-S3cret\n",
             SIM.base_url);
    CONFIG = write_temp_file("config.yml", text);
    chmod(CONFIG, 0600);
    snprintf(text, sizeof text,
             "[retirement_driver]\nARCHIVE_CPP = %s/plugins/example_cpp/example_cpp.so:retirectl_driver_archive_cpp\n"
             "PREVCRASH = %s/crash.so:retirectl_driver_prevcrash\n",
             RETIRECTL_BUILD_DIR, RETIRECTL_TEST_PLUGIN_DIR);
    EP = write_temp_file("drivers.cfg", text);
    chmod(EP, 0644);
    LEARNER_FILE = write_temp_file("learner.json", LEARNER);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_stop(&SIM);
    free(CONFIG);
    free(EP);
    free(LEARNER_FILE);
    return 0;
}

static void run(cmd_result *r, const char *target, const char *extra)
{
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "--config", CONFIG, "--driver-path", EP, "driver-run",
                          target, "--learner", LEARNER_FILE, extra, NULL};
    const char *envv[] = {"LC_ALL=C.UTF-8", "RETIRECTL_DRIVER_PATH=", "ASAN_OPTIONS=detect_leaks=0", NULL};
    assert_int_equal(run_command(r, argv, envv, NULL, 60), 0);
}

/* Number of requests the sim logged whose path contains filter. */
static int logged(const char *filter)
{
    char path[512], *body = NULL;
    snprintf(path, sizeof path, "/__sim/requests?path=%s", filter);
    assert_int_equal(sim_http(&SIM, "GET", path, NULL, NULL, &body), 200);
    int n = 0;
    for (const char *p = body; (p = strstr(p, "\"method\"")) != NULL; p++) n++;
    free(body);
    return n;
}

static void test_run_sends_and_prints(void **state)
{
    (void)state;
    cmd_result r;
    run(&r, "ARCHIVE_CPP.forget_learner", NULL);
    if (r.status != 0) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "request: POST "));
    assert_non_null(strstr(r.out, "/vendor/webhook/archive/learners/10001/forget -> 200 (attempt 1"));
    assert_non_null(strstr(r.out, "ARCHIVE_CPP.forget_learner: ok\n"));
    assert_non_null(strstr(r.out, "message: ARCHIVE_CPP: POST "));
    assert_null(strstr(r.out, "drv-Run-S3cret"));
    assert_null(strstr(r.err, "drv-Run-S3cret"));
    cmd_result_free(&r);
    assert_int_equal(logged("/vendor/webhook/archive/learners/10001/forget"), 1);
    assert_int_equal(logged("/api/user/"), 0);     /* no LMS call at all */
    assert_int_equal(logged("access_token"), 0); /* not even a token */
}

static void test_dry_run_sends_nothing(void **state)
{
    (void)state;
    int before = logged("/vendor/webhook/archive/");
    cmd_result r;
    run(&r, "ARCHIVE_CPP.forget_learner", "--dry-run");
    if (r.status != 0) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "would send: POST "));
    assert_non_null(strstr(r.out, "{\"retired_username\": \"retired__user_abc\"}"));
    assert_non_null(strstr(r.out, "Authorization: Bearer ********"));
    assert_non_null(strstr(r.out, "(dry run): ok"));
    cmd_result_free(&r);
    assert_int_equal(logged("/vendor/webhook/archive/"), before);
}

static void test_crash_and_unknown_method(void **state)
{
    (void)state;
    cmd_result r;
    run(&r, "PREVCRASH.retire", "--dry-run");
    assert_int_equal(r.status, 255);
    assert_non_null(strstr(r.out, "PREVCRASH.retire crashed (SIGSEGV)"));
    cmd_result_free(&r);
    run(&r, "ARCHIVE_CPP.nope", NULL);
    assert_int_equal(r.status, 255);
    assert_non_null(strstr(r.out, "driver ARCHIVE_CPP has no method nope; it has: forget_learner"));
    cmd_result_free(&r);
}

/* --timeout takes a whole number of seconds: anything else is a usage error that names it and
 * runs nothing (it used to fall back to step_timeout_seconds in silence). */
static void test_timeout_checked(void **state)
{
    (void)state;
    int before = logged("/vendor/webhook/archive/");
    cmd_result r;
    run(&r, "ARCHIVE_CPP.forget_learner", "--timeout=abc");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--timeout needs a whole number of 0 or more, not 'abc'"));
    cmd_result_free(&r);
    run(&r, "ARCHIVE_CPP.forget_learner", "--timeout=99999999");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--timeout is at most 604800 seconds"));
    cmd_result_free(&r);
    assert_int_equal(logged("/vendor/webhook/archive/"), before);
    run(&r, "ARCHIVE_CPP.forget_learner", "--timeout=30");
    if (r.status != 0) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    cmd_result_free(&r);
    assert_int_equal(logged("/vendor/webhook/archive/"), before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_sends_and_prints),
        cmocka_unit_test(test_dry_run_sends_nothing),
        cmocka_unit_test(test_crash_and_unknown_method),
        cmocka_unit_test(test_timeout_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
