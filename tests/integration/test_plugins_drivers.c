/* `retirectl drivers [--json]` with the real binary, the build tree's plugins/retirement_driver.cfg
 * and the test plugins: built-ins, extra_services, plugins with their entry-point file:line and
 * .so, versions, ABI, methods with previews, load errors, entry-point problems, duplicates across
 * --driver-path and RETIRECTL_DRIVER_PATH, and the exit status (1 only when the pipeline's
 * drivers have a problem). No network is needed. */
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

#include <cjson/cJSON.h>

#include "retirectl/driver.h"
#include "simproc.h"

#ifndef RETIRECTL_TEST_PLUGIN_DIR
#error "RETIRECTL_TEST_PLUGIN_DIR must name <build>/tests/plugins"
#endif

#define CONFIG_HEAD                        \
    "client_id: retirectl-test-client\n"   \
    "client_secret: Sup3r-S3cret-drivers\n" \
    "base_urls:\n"                         \
    "  lms: http://127.0.0.1:9/\n"

static char *XDG; /* an empty config home, so no default config is found */

/* Writes an entry-point file (mode 0644); '@' in body stands for the test plugin folder. */
static char *write_ep(const char *name, const char *body)
{
    char text[4096] = "";
    size_t o = 0;
    for (const char *p = body; *p && o + 512 < sizeof text; p++) {
        if (*p == '@')
            o += (size_t)snprintf(text + o, sizeof text - o, "%s", RETIRECTL_TEST_PLUGIN_DIR);
        else
            text[o++] = *p;
    }
    text[o] = '\0';
    char *path = write_temp_file(name, text);
    assert_non_null(path);
    assert_int_equal(chmod(path, 0644), 0);
    return path;
}

/* Runs retirectl with up to 8 arguments (NULL-terminated) and an optional RETIRECTL_DRIVER_PATH. */
static void run(cmd_result *r, const char *driver_path_env, const char *const *args)
{
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[12] = {bin && *bin ? bin : RETIRECTL_BIN};
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 11; i++) argv[n++] = args[i];
    argv[n] = NULL;
    char xdg[1100], dp[4200];
    snprintf(xdg, sizeof xdg, "XDG_CONFIG_HOME=%s", XDG);
    snprintf(dp, sizeof dp, "RETIRECTL_DRIVER_PATH=%s", driver_path_env ? driver_path_env : "");
    const char *envv[] = {"LC_ALL=C.UTF-8", "RETIREMENT_CONFIG_FILE=", xdg, dp, NULL};
    assert_int_equal(run_command(r, argv, envv, NULL, 60), 0);
}

/* The driver object called name in a --json document, or NULL. */
static const cJSON *driver(const cJSON *doc, const char *name)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "drivers")) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring, name) == 0) return d;
    }
    return NULL;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_without_config_lists_builtins_and_shipped_plugins(void **state)
{
    (void)state;
    cmd_result r;
    const char *args[] = {"drivers", NULL};
    run(&r, NULL, args);
    if (r.status != 0) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "Config: none (the pipeline is not checked)"));
    assert_non_null(strstr(r.out, "LMS " RETIRECTL_VERSION " (built-in, ABI 2)"));
    assert_non_null(strstr(r.out, "retirement_retire_forum [preview]"));
    assert_non_null(strstr(r.out, "WEBHOOK 1.0.0 (plugin, ABI 2)"));
    char want[4200];
    snprintf(want, sizeof want, "file:    %s/plugins/example/example.so (symbol retirectl_driver_webhook)",
             RETIRECTL_BUILD_DIR);
    assert_non_null(strstr(r.out, want));
    snprintf(want, sizeof want, "%s/plugins/retirement_driver.cfg", RETIRECTL_BUILD_DIR);
    assert_non_null(strstr(r.out, want));
    assert_non_null(strstr(r.out, "notify [preview]"));
    cmd_result_free(&r);
}

static void test_json_with_broken_plugins_not_in_a_pipeline(void **state)
{
    (void)state;
    char *ep1 = write_ep("one.cfg", "[options.entry_points]\n"
                                    "retirement_driver =\n"
                                    "    GOOD = @/good.so:retirectl_driver_good\n"
                                    "    OLD = @/wrongabi.so:retirectl_driver_wrongabi\n"
                                    "    NOSYM = @/nosym.so:retirectl_driver_nosym\n"
                                    "    MISSING = @/missing.so:retirectl_driver_missing\n"
                                    "    not valid\n"
                                    "    GOOD2 = @/good.so:retirectl_driver_good\n");
    char *ep2 = write_ep("two.cfg", "[retirement_driver]\nGOOD = @/hang.so:retirectl_driver_hang\n"
                                    "LMS = @/good.so:retirectl_driver_good\n");
    cmd_result r;
    const char *args[] = {"--driver-path", ep1, "drivers", "--json", NULL};
    run(&r, ep2, args);
    if (r.status != 0) fail_msg("exit %d (nothing uses the broken drivers)\n%s\n%s", r.status, r.out, r.err);
    cJSON *doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "config")));
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(doc, "host_abi")->valuedouble, 2);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(doc, "host_abi_minor")->valuedouble, RD_ABI_MINOR);

    const cJSON *good2 = driver(doc, "GOOD2");
    assert_non_null(good2);
    assert_string_equal(str(good2, "kind"), "plugin");
    assert_string_equal(str(good2, "source"), ep1);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(good2, "line")->valuedouble, 8);
    assert_non_null(str(good2, "version"));
    assert_string_equal(str(good2, "version"), "1.2.3");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(good2, "abi")->valuedouble, 2);
    assert_string_equal(str(good2, "symbol"), "retirectl_driver_good");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(good2, "load_error")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(good2, "used_by_pipeline")));
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(good2, "methods");
    assert_int_equal(cJSON_GetArraySize(methods), 4);
    assert_string_equal(str(cJSON_GetArrayItem(methods, 0), "name"), "retire");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(methods, 0), "preview")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(methods, 1), "preview")));
    /* GOOD is defined again in RETIRECTL_DRIVER_PATH's file: an error naming both places, and
     * it is not loaded at all */
    const cJSON *good = driver(doc, "GOOD");
    assert_non_null(good);
    assert_string_equal(str(good, "source"), ep1);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(good, "version")));
    const char *ge = str(good, "load_error");
    assert_non_null(ge);
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s:3", ep1);
    snprintf(b, sizeof b, "%s:2", ep2);
    assert_non_null(strstr(ge, "driver GOOD is defined twice"));
    assert_non_null(strstr(ge, a));
    assert_non_null(strstr(ge, b));

    const cJSON *lms = driver(doc, "LMS");
    assert_string_equal(str(lms, "kind"), "built-in");
    assert_non_null(strstr(str(lms, "load_error"), "driver LMS is defined twice: built in and"));

    assert_non_null(driver(doc, "OLD"));
    assert_non_null(str(driver(doc, "OLD"), "load_error"));
    assert_non_null(strstr(str(driver(doc, "OLD"), "load_error"), "was built for driver ABI 99"));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(driver(doc, "OLD"), "version")));
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(driver(doc, "OLD"), "abi")->valuedouble, 99);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(driver(doc, "MISSING"), "abi")));
    assert_non_null(strstr(str(driver(doc, "NOSYM"), "load_error"), "does not export the symbol retirectl_driver_nosym"));
    assert_non_null(strstr(str(driver(doc, "MISSING"), "load_error"), "missing.so does not exist"));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(driver(doc, "WEBHOOK"), "load_error")));

    const cJSON *problems = cJSON_GetObjectItemCaseSensitive(doc, "problems");
    assert_int_equal(cJSON_GetArraySize(problems), 1);
    snprintf(a, sizeof a, "%s:7: 'not valid' is not NAME = file.so:symbol", ep1);
    assert_non_null(strstr(cJSON_GetArrayItem(problems, 0)->valuestring, a));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "pipeline_problems")), 0);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(doc, "entry_point_files");
    assert_int_equal(cJSON_GetArraySize(files), 3); /* build tree, --driver-path, RETIRECTL_DRIVER_PATH */
    assert_string_equal(cJSON_GetArrayItem(files, 1)->valuestring, ep1);
    assert_string_equal(cJSON_GetArrayItem(files, 2)->valuestring, ep2);
    cJSON_Delete(doc);
    cmd_result_free(&r);
    free(ep1);
    free(ep2);
}

static void test_pipeline_decides_exit_status(void **state)
{
    (void)state;
    char *ep = write_ep("drivers.cfg", "[retirement_driver]\nGOOD = @/good.so:retirectl_driver_good\n"
                                       "OLD = @/wrongabi.so:retirectl_driver_wrongabi\n");
    char cfgtext[4096];
    snprintf(cfgtext, sizeof cfgtext,
             CONFIG_HEAD
             "driver_entry_points: ['%s']\n"
             "extra_services:\n"
             "  - name: MOCK_SERVICE\n"
             "    base_url: http://127.0.0.1:9/mock\n"
             "    retirement_url_path: retire\n"
             "retirement_pipeline:\n"
             "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
             "  - ['RETIRING_GOOD', 'GOOD_COMPLETE', 'GOOD', 'retire']\n"
             "  - ['RETIRING_MOCK', 'MOCK_COMPLETE', 'MOCK_SERVICE', 'retire_learner']\n",
             ep);
    char *config = write_temp_file("config.yml", cfgtext);
    cmd_result r;
    const char *args[] = {"--config", config, "drivers", NULL};
    run(&r, NULL, args);
    if (r.status != 0) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "GOOD 1.2.3 (plugin, ABI 2)  [used by the pipeline]"));
    assert_non_null(strstr(r.out, "retire [preview, in pipeline]"));
    assert_non_null(strstr(r.out, "MOCK_SERVICE " RETIRECTL_VERSION " (extra_services, ABI 2)  [used by the pipeline]"));
    assert_non_null(strstr(r.out, "pipeline: every driver and method found"));
    assert_null(strstr(r.out, "Sup3r-S3cret-drivers"));
    cmd_result_free(&r);
    free(config);

    /* the same with a pipeline row on the wrong-ABI plugin and one with a typo in the method */
    size_t n = strlen(cfgtext);
    snprintf(cfgtext + n, sizeof cfgtext - n,
             "  - ['RETIRING_OLD', 'OLD_COMPLETE', 'OLD', 'retire']\n"
             "  - ['RETIRING_TYPO', 'TYPO_COMPLETE', 'GOOD', 'retyre']\n");
    config = write_temp_file("config.yml", cfgtext);
    const char *args2[] = {"--config", config, "drivers", NULL};
    run(&r, NULL, args2);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "The pipeline cannot run (2 problems)"));
    char want[4400];
    snprintf(want, sizeof want, "%s:14: retirement_pipeline step 4 [RETIRING_OLD, OLD_COMPLETE, OLD, retire]: driver OLD",
             config);
    if (!strstr(r.out, want)) fail_msg("'%s' missing in:\n%s", want, r.out);
    assert_non_null(strstr(r.out, "driver GOOD has no method retyre"));
    assert_non_null(strstr(r.out, "pipeline: PROBLEMS (see above)"));
    cmd_result_free(&r);
    free(config);
    free(ep);
}

static void test_unsafe_entry_point_and_missing_config(void **state)
{
    (void)state;
    char *ep = write_ep("loose.cfg", "[retirement_driver]\nGOOD = @/good.so:retirectl_driver_good\n");
    assert_int_equal(chmod(ep, 0666), 0);
    cmd_result r;
    const char *args[] = {"--driver-path", ep, "drivers", NULL};
    run(&r, NULL, args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "writable by everyone"));
    assert_non_null(strstr(r.out, "GOOD (plugin)"));
    assert_null(strstr(r.out, "GOOD 1.2.3"));      /* never loaded */
    cmd_result_free(&r);
    free(ep);

    const char *args2[] = {"--config", "/nonexistent/retirectl/config.yml", "drivers", NULL};
    run(&r, NULL, args2);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "/nonexistent/retirectl/config.yml"));
    assert_non_null(strstr(r.out, "LMS ")); /* still listed */
    cmd_result_free(&r);

    /* a file the config lists but that does not exist: named with the config's line */
    char *config = write_temp_file("config.yml", CONFIG_HEAD "driver_entry_points:\n  - nope/drivers.cfg\n");
    const char *args4[] = {"--config", config, "drivers", NULL};
    run(&r, NULL, args4);
    assert_int_equal(r.status, 0); /* no pipeline uses anything from it */
    char want[4200];
    snprintf(want, sizeof want, "%s:6: driver_entry_points names ", config);
    if (!strstr(r.out, want) || !strstr(r.out, "nope/drivers.cfg, which cannot be read"))
        fail_msg("'%s' missing in:\n%s", want, r.out);
    cmd_result_free(&r);
    free(config);

    const char *args3[] = {"drivers", "--bogus", NULL};
    run(&r, NULL, args3);
    assert_int_equal(r.status, 2);
    cmd_result_free(&r);
}

/* A file in $XDG_CONFIG_HOME/retirectl/drivers.d registers its drivers like an installed
 * package; a name it shares with a --driver-path file is still an error naming both. */
static void test_user_drop_in_directory(void **state)
{
    (void)state;
    char dir[1200], path[1300];
    snprintf(dir, sizeof dir, "%s/retirectl", XDG);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/retirectl/drivers.d", XDG);
    assert_int_equal(mkdir(dir, 0755), 0);
    char *src = write_ep("good.cfg", "[retirement_driver]\nDROPPED = @/good.so:retirectl_driver_good\n");
    snprintf(path, sizeof path, "%s/50-good.cfg", dir);
    assert_int_equal(rename(src, path), 0);
    free(src);
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/README"); /* not *.cfg: ignored */
    FILE *f = fopen(dir, "w");
    fputs("DROPPED_NOT = x.so:y\n", f);
    fclose(f);
    cmd_result r;
    const char *args[] = {"drivers", NULL};
    run(&r, NULL, args);
    if (r.status != 0) fail_msg("exit %d\n%s\n%s", r.status, r.out, r.err);
    char want[1400];
    snprintf(want, sizeof want, "source:  %s:2", path);
    if (!strstr(r.out, "DROPPED 1.2.3 (plugin, ABI 2)") || !strstr(r.out, want))
        fail_msg("the drop-in driver is not listed from %s:\n%s", path, r.out);
    assert_null(strstr(r.out, "DROPPED_NOT"));
    cmd_result_free(&r);
    char *other = write_ep("other.cfg", "[retirement_driver]\nDROPPED = @/good.so:retirectl_driver_good\n");
    const char *args2[] = {"--driver-path", other, "drivers", NULL};
    run(&r, NULL, args2);
    snprintf(want, sizeof want, "driver DROPPED is defined twice: %s:2", path);
    if (!strstr(r.out, want) || !strstr(r.out, other)) fail_msg("no duplicate error naming both:\n%s", r.out);
    cmd_result_free(&r);
    unlink(path);
    unlink(dir);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
    free(other);
}

int main(void)
{
    setenv("LC_ALL", "C.UTF-8", 1);
    XDG = make_temp_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_config_lists_builtins_and_shipped_plugins),
        cmocka_unit_test(test_json_with_broken_plugins_not_in_a_pipeline),
        cmocka_unit_test(test_pipeline_decides_exit_status),
        cmocka_unit_test(test_unsafe_entry_point_and_missing_config),
        cmocka_unit_test(test_user_drop_in_directory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(XDG);
    free(XDG);
    return rc;
}
