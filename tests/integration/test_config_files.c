/* Config file rules of docs/configuration.md ("File permissions", "Secrets"), with the real
 * retirectl binary: a config holding secrets that group/others can write is refused (249, with the
 * chmod to run); readable by others warns on every run, FAILs check-config and is refused with
 * environment: production (D6); check-config warns about secrets too short to mask. */
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

#define CONFIG_TEXT "client_id: cid\nclient_secret: a-long-client-secret\nbase_urls:\n  lms: https://lms.invalid/\n" \
                    "retirement_pipeline: []\n"

static const char *bin(void)
{
    const char *b = getenv("RETIRECTL_BIN");
    return b && *b ? b : RETIRECTL_BIN;
}

static void run(cmd_result *r, const char *config, const char *command)
{
    const char *argv[] = {bin(), "--config", config, command, NULL};
    const char *envv[] = {"RETIRECTL_DRIVER_PATH=", NULL};
    assert_int_equal(run_command(r, argv, envv, NULL, 60), 0);
}

static char *config_with_mode(const char *text, mode_t mode)
{
    char *path = write_temp_file("config.yml", text);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_writable_config_refused(void **state)
{
    (void)state;
    const mode_t modes[] = {0666, 0620, 0602};
    for (size_t i = 0; i < 3; i++) {
        char *path = config_with_mode(CONFIG_TEXT, modes[i]);
        cmd_result r;
        run(&r, path, "check-config");
        assert_int_equal(r.status, 249);
        if (!strstr(r.out, "writable by") || !strstr(r.out, "chmod 600 ")) fail_msg("check-config said:\n%s", r.out);
        cmd_result_free(&r);
        run(&r, path, "drivers");
        if (!strstr(r.err, "writable by")) fail_msg("drivers said:\n%s", r.err);
        cmd_result_free(&r);
        free(path);
    }
}

static void test_readable_config_warns(void **state)
{
    (void)state;
    char *path = config_with_mode(CONFIG_TEXT, 0644);
    cmd_result r;
    run(&r, path, "drivers");
    if (!strstr(r.err, "warning: ") || !strstr(r.err, "readable by every user") || !strstr(r.err, "chmod o-r "))
        fail_msg("drivers printed no warning:\n%s", r.err);
    cmd_result_free(&r);
    run(&r, path, "check-config");
    assert_int_equal(r.status, 249);
    if (!strstr(r.out, "FAIL  config file permissions")) fail_msg("check-config said:\n%s", r.out);
    cmd_result_free(&r);
    free(path);
    /* 0600 and 0640: no warning */
    path = config_with_mode(CONFIG_TEXT, 0640);
    run(&r, path, "drivers");
    assert_null(strstr(r.err, "warning"));
    cmd_result_free(&r);
    free(path);
    /* production: refused */
    path = config_with_mode(CONFIG_TEXT "environment: production\n", 0644);
    run(&r, path, "drivers");
    if (!strstr(r.err, "refused because environment is production")) fail_msg("drivers said:\n%s", r.err);
    cmd_result_free(&r);
    run(&r, path, "check-config");
    assert_int_equal(r.status, 249);
    cmd_result_free(&r);
    free(path);
}

/* A 1-character secret would turn every "t" into ********: not masked, and check-config warns. */
static void test_short_secret_warning(void **state)
{
    (void)state;
    char *path = config_with_mode(CONFIG_TEXT "segment_auth_token: t\n", 0600);
    cmd_result r;
    run(&r, path, "check-config");
    if (!strstr(r.out, "WARN  secret values: segment_auth_token (") || !strstr(r.out, "too short to be masked"))
        fail_msg("check-config said:\n%s", r.out);
    assert_null(strstr(r.out, "********"));
    cmd_result_free(&r);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writable_config_refused),
        cmocka_unit_test(test_readable_config_warns),
        cmocka_unit_test(test_short_secret_warning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
