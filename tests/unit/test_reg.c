/* Unit tests of the driver registry (src/engine/reg.c) with the real test plugins of
 * tests/plugins/ (dlopen()ed for real): lazy loading, ABI checks, missing symbols and files,
 * unsafe files, duplicates, shadowed built-ins, get_instance failures, pipeline checks and
 * the search order (config driver_entry_points, --driver-path, RETIRECTL_DRIVER_PATH). */
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

#include "engine/host.h"
#include "engine/reg.h"
#include "common/strbuf.h"
#include "simproc.h"

#ifndef RETIRECTL_TEST_PLUGIN_DIR
#error "RETIRECTL_TEST_PLUGIN_DIR must name <build>/tests/plugins"
#endif

/* Writes an entry-point file (mode 0644) whose drivers point at the test plugins by absolute path. */
static char *write_ep(const char *name, const char *body)
{
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, "[retirement_driver]\n");
    for (const char *p = body; *p; p++) {
        if (*p == '@') sb_add(&sb, RETIRECTL_TEST_PLUGIN_DIR);
        else sb_addc(&sb, *p);
    }
    char *path = write_temp_file(name, sb_str(&sb));
    sb_free(&sb);
    assert_non_null(path);
    assert_int_equal(chmod(path, 0644), 0);
    return path;
}

/* Non-zero when the shared object's path appears in this process's memory map. */
static int is_mapped(const char *so_name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, so_name)) found = 1;
    fclose(f);
    return found;
}

static void setup_env(void) { unsetenv("RETIRECTL_DRIVER_PATH"); }

static void test_lazy_load_and_methods(void **state)
{
    (void)state;
    setup_env();
    char *ep = write_ep("drivers.cfg", "GOOD = @/good.so:retirectl_driver_good\n");
    const char *files[] = {ep, NULL};
    reg *r = reg_new(NULL, files);
    const reg_driver_info *info = reg_find(r, "GOOD");
    assert_non_null(info);
    assert_string_equal(info->kind, "plugin");
    assert_false(info->builtin);
    assert_string_equal(info->source, ep);
    assert_int_equal(info->line, 2);
    assert_string_equal(info->symbol, "retirectl_driver_good");
    assert_null(info->driver);              /* not loaded yet ... */
    assert_false(is_mapped("/tests/plugins/good.so")); /* ... and not dlopen()ed */

    char err[4096];
    const rd_driver *d = reg_load(r, "GOOD", err, sizeof err);
    assert_non_null(d);
    assert_true(is_mapped("/tests/plugins/good.so"));
    assert_ptr_equal(reg_find(r, "GOOD")->driver, d);
    assert_string_equal(d->version, "1.2.3");
    const rd_method *m = reg_method(d, "retire");
    assert_non_null(m);
    assert_non_null(m->preview);
    assert_non_null(reg_method(d, "notfound"));
    assert_null(reg_method(d, "notfound")->preview);
    assert_null(reg_method(d, "nope"));
    assert_ptr_equal(reg_load(r, "GOOD", err, sizeof err), d); /* second load: same descriptor */
    reg_free(r);
    free(ep);
}

/* Loads name from a registry over one entry-point line and returns the error text (malloc'd). */
static char *load_error_of(const char *line, const char *name, char **ep_out)
{
    char *ep = write_ep("drivers.cfg", line);
    const char *files[] = {ep, NULL};
    reg *r = reg_new(NULL, files);
    char err[4096] = "";
    const rd_driver *d = reg_load(r, name, err, sizeof err);
    assert_null(d);
    assert_true(err[0] != '\0');
    const reg_driver_info *info = reg_find(r, name);
    assert_non_null(info);
    assert_non_null(info->load_error);
    assert_string_equal(info->load_error, err);
    reg_free(r);
    if (ep_out)
        *ep_out = ep;
    else
        free(ep);
    return strdup(err);
}

static void test_wrong_abi_and_small_struct(void **state)
{
    (void)state;
    setup_env();
    char *ep;
    char *e = load_error_of("WRONGABI = @/wrongabi.so:retirectl_driver_wrongabi\n", "WRONGABI", &ep);
    assert_non_null(strstr(e, "driver ABI 99"));
    assert_non_null(strstr(e, "uses ABI 2"));
    assert_non_null(strstr(e, ep));
    assert_non_null(strstr(e, ":2"));
    assert_non_null(strstr(e, "rebuild"));
    free(e);
    free(ep);
    /* a plugin built against ABI 1 is refused with how to rebuild */
    e = load_error_of("OLD = @/wrongabi.so:retirectl_driver_abi1\n", "OLD", NULL);
    assert_non_null(strstr(e, "was built for driver ABI 1 but this retirectl uses ABI 2, which loads no older plugin"));
    assert_non_null(strstr(e, "pkg-config --cflags retirectl-driver"));
    assert_non_null(strstr(e, "RD_METHOD(...)"));
    assert_non_null(strstr(e, "Moving from ABI 1"));
    free(e);
    /* a plugin needing a newer minor revision of ABI 2 */
    e = load_error_of("NEWER = @/wrongabi.so:retirectl_driver_newer\n", "NEWER", NULL);
    assert_non_null(strstr(e, "needs driver ABI 2.99 but this retirectl provides 2.0; upgrade retirectl"));
    free(e);
    e = load_error_of("SMALL = @/wrongabi.so:retirectl_driver_small\n", "SMALL", NULL);
    assert_non_null(strstr(e, "descriptor of 16 bytes"));
    free(e);
}

static void test_missing_symbol_and_file(void **state)
{
    (void)state;
    setup_env();
    char *ep;
    char *e = load_error_of("\nNOSYM = @/nosym.so:retirectl_driver_nosym\n", "NOSYM", &ep);
    assert_non_null(strstr(e, "does not export the symbol retirectl_driver_nosym"));
    assert_non_null(strstr(e, "nosym.so"));
    char where[4200];
    snprintf(where, sizeof where, "%s:3", ep);
    assert_non_null(strstr(e, where));
    free(e);
    free(ep);
    e = load_error_of("GONE = @/does-not-exist.so:sym\n", "GONE", NULL);
    assert_non_null(strstr(e, "does-not-exist.so does not exist"));
    free(e);
    /* relative paths resolve against the entry-point file's folder, not the working directory */
    e = load_error_of("REL = sub/rel.so:sym\n", "REL", &ep);
    char *slash = strrchr(ep, '/');
    *slash = '\0';
    snprintf(where, sizeof where, "%s/sub/rel.so does not exist", ep);
    assert_non_null(strstr(e, where));
    free(e);
    free(ep);
}

static void test_unsafe_plugin_file(void **state)
{
    (void)state;
    setup_env();
    char *dir = make_temp_dir();
    char copy[4096], cmd[8400];
    snprintf(copy, sizeof copy, "%s/good.so", dir);
    snprintf(cmd, sizeof cmd, "cp '%s/good.so' '%s'", RETIRECTL_TEST_PLUGIN_DIR, copy);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(copy, 0757), 0);
    char line[4200];
    snprintf(line, sizeof line, "LOOSE = %s:retirectl_driver_good\n", copy);
    char *e = load_error_of(line, "LOOSE", NULL);
    assert_non_null(strstr(e, "writable by everyone"));
    assert_non_null(strstr(e, "chmod go-w"));
    free(e);
    if (geteuid() == 0) { /* owned by another user (neither root nor us) */
        assert_int_equal(chmod(copy, 0755), 0);
        assert_int_equal(chown(copy, 65534, 65534), 0);
        e = load_error_of(line, "LOOSE", NULL);
        assert_non_null(strstr(e, "owned by another user (uid 65534"));
        free(e);
        assert_int_equal(chown(copy, 0, 0), 0);
    }
    assert_int_equal(chmod(copy, 0755), 0);
    char *ep = write_ep("drivers.cfg", line);
    const char *files[] = {ep, NULL};
    reg *r = reg_new(NULL, files);
    char err[4096];
    assert_non_null(reg_load(r, "LOOSE", err, sizeof err));
    reg_free(r);
    free(ep);
    unlink(copy);
    rmdir(dir);
    free(dir);
}

/* Loads name from one entry-point line: NULL when it loads, else the error (malloc'd). */
static char *try_load(const char *line, const char *name)
{
    char *ep = write_ep("drivers.cfg", line);
    const char *files[] = {ep, NULL};
    reg *r = reg_new(NULL, files);
    char err[4096] = "";
    const rd_driver *d = reg_load(r, name, err, sizeof err);
    reg_free(r);
    free(ep);
    return d ? NULL : strdup(err);
}

/* D7: the folders above a plugin (as named and with symlinks resolved) must not be writable by
 * group or others; a symlink in such a folder cannot redirect the load to another object. */
static void test_plugin_folder_trust(void **state)
{
    (void)state;
    setup_env();
    char *dir = make_temp_dir(); /* 0700, under the sticky /tmp: trusted */
    char ww[4200], good[4300], link[4300], trusted_link[4300], cmd[9000], line[4400];
    snprintf(ww, sizeof ww, "%s/ww", dir);
    assert_int_equal(mkdir(ww, 0755), 0);
    snprintf(good, sizeof good, "%s/good.so", ww);
    snprintf(cmd, sizeof cmd, "cp '%s/good.so' '%s'", RETIRECTL_TEST_PLUGIN_DIR, good);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(good, 0755), 0);
    snprintf(line, sizeof line, "G = %s:retirectl_driver_good\n", good);
    char *e = try_load(line, "G");
    if (e) fail_msg("a plugin in a private folder under /tmp did not load: %s", e);

    const mode_t bad[] = {0777, 01777, 0775};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(chmod(ww, bad[i]), 0);
        e = try_load(line, "G");
        assert_non_null(e);
        if (!strstr(e, "folder ") || !strstr(e, "/ww is writable by") || !strstr(e, "chmod go-w"))
            fail_msg("mode %04o: %s", (unsigned)bad[i], e);
        free(e);
    }
    /* a symlink (as another user would plant) in the world-writable folder, pointing at a
     * root-owned object elsewhere: refused, the object's constructor never runs */
    assert_int_equal(chmod(ww, 0777), 0);
    snprintf(link, sizeof link, "%s/bad.so", ww);
    char target[4200];
    snprintf(target, sizeof target, "%s/ctorcrash.so", RETIRECTL_TEST_PLUGIN_DIR);
    assert_int_equal(symlink(target, link), 0);
    snprintf(line, sizeof line, "B = %s:retirectl_driver_good\n", link);
    e = try_load(line, "B");
    assert_non_null(e);
    assert_non_null(strstr(e, "is writable by everyone"));
    assert_null(strstr(e, "crashed"));
    free(e);
    /* a symlink in a trusted folder to the plugin in the untrusted one: the resolved path is checked */
    snprintf(trusted_link, sizeof trusted_link, "%s/via.so", dir);
    assert_int_equal(symlink(good, trusted_link), 0);
    snprintf(line, sizeof line, "V = %s:retirectl_driver_good\n", trusted_link);
    e = try_load(line, "V");
    assert_non_null(e);
    assert_non_null(strstr(e, "/ww is writable by"));
    free(e);
    /* once the folder is fixed, the link loads */
    assert_int_equal(chmod(ww, 0755), 0);
    e = try_load(line, "V");
    if (e) fail_msg("a symlink between trusted folders did not load: %s", e);
    unlink(trusted_link);
    unlink(link);
    unlink(good);
    rmdir(ww);
    rmdir(dir);
    free(dir);
}

static void test_duplicates_fatal_only_when_used(void **state)
{
    (void)state;
    setup_env();
    char *ep1 = write_ep("one.cfg", "GOOD = @/good.so:retirectl_driver_good\nCRASH = @/crash.so:retirectl_driver_crash\n");
    char *ep2 = write_ep("two.cfg", "ABORT = @/abort.so:retirectl_driver_abort\n");
    char *ep3 = write_ep("three.cfg", "\n\nGOOD = @/hang.so:retirectl_driver_hang\n");
    /* ep2 through --driver-path, ep3 through RETIRECTL_DRIVER_PATH (with empty components) */
    char env[8400];
    snprintf(env, sizeof env, "::%s:", ep3);
    setenv("RETIRECTL_DRIVER_PATH", env, 1);
    const char *files[] = {ep1, ep2, ep1, NULL}; /* the same file twice is read once */
    reg *r = reg_new(NULL, files);
    unsetenv("RETIRECTL_DRIVER_PATH");
    char err[4096];
    assert_null(reg_load(r, "GOOD", err, sizeof err));
    assert_non_null(strstr(err, "driver GOOD is defined twice"));
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s:2", ep1);
    snprintf(b, sizeof b, "%s:4", ep3);
    assert_non_null(strstr(err, a));
    assert_non_null(strstr(err, b));
    /* the other drivers of the same files are fine */
    assert_non_null(reg_load(r, "CRASH", err, sizeof err));
    assert_non_null(reg_load(r, "ABORT", err, sizeof err));
    assert_int_equal(reg_searched_count(r) >= 3, 1);
    assert_int_equal(reg_problem_count(r), 0);
    reg_free(r);
    free(ep1);
    free(ep2);
    free(ep3);
}

static void test_unknown_driver_lists_searched_files(void **state)
{
    (void)state;
    setup_env();
    char *ep = write_ep("drivers.cfg", "GOOD = @/good.so:retirectl_driver_good\n");
    const char *files[] = {ep, NULL};
    reg *r = reg_new(NULL, files);
    char err[4096];
    assert_null(reg_load(r, "NOSUCH", err, sizeof err));
    assert_non_null(strstr(err, "no driver named NOSUCH"));
    char real[4096];
    assert_non_null(realpath(ep, real));
    assert_non_null(strstr(err, real));
    assert_null(reg_find(r, "NOSUCH"));
    reg_free(r);
    free(ep);
}

/* A minimal host for get_instance (the test plugins only keep the pointer). */
static const rd_host *fake_host(const char *name)
{
    static rd_host h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    h.abi_version = RD_ABI_VERSION;
    h.driver_name = name;
    return &h;
}

static void test_instantiate_reports_get_instance_failure(void **state)
{
    (void)state;
    setup_env();
    char *ep = write_ep("drivers.cfg", "GIF = @/getinstfail.so:retirectl_driver_getinstfail\n"
                                       "GOOD = @/good.so:retirectl_driver_good\n");
    const char *files[] = {ep, NULL};
    reg *r = reg_new(NULL, files);
    cJSON *config = cJSON_Parse("{\"client_id\":\"x\"}");
    char err[4096];
    const rd_driver *d = (const rd_driver *)1;
    assert_null(reg_instantiate(r, "GIF", config, fake_host("GIF"), &d, err, sizeof err));
    assert_null(d);
    assert_non_null(strstr(err, "driver GIF ("));
    assert_non_null(strstr(err, ":2, "));
    assert_non_null(strstr(err, "could not start: getinstfail_setting is not configured"));
    cJSON_AddStringToObject(config, "getinstfail_setting", "on");
    void *inst = reg_instantiate(r, "GIF", config, fake_host("GIF"), &d, err, sizeof err);
    assert_non_null(inst);
    assert_non_null(d);
    d->destroy(inst);
    /* and a run through the instance works */
    inst = reg_instantiate(r, "GOOD", config, fake_host("GOOD"), &d, err, sizeof err);
    assert_non_null(inst);
    host_call hc;
    host_call_init(&hc, fake_host("GOOD"), 0);
    cJSON *learner = cJSON_Parse("{\"original_username\":\"jane\"}");
    assert_int_equal(reg_method(d, "notfound")->run(inst, learner, &hc.call), RD_NOT_FOUND);
    assert_string_equal(hc.call.message, "nothing to delete for jane");
    host_call_done(&hc);
    d->destroy(inst);
    cJSON_Delete(learner);
    cJSON_Delete(config);
    reg_free(r);
    free(ep);
}

/* Builds a cfg by hand (no YAML) with the given pipeline rows "DRIVER.method". */
static cfg *make_cfg(const char *path, const char *const *rows, const char *root_json)
{
    cfg *c = calloc(1, sizeof *c);
    c->path = strdup(path);
    c->root = cJSON_Parse(root_json ? root_json : "{}");
    size_t n = 0;
    while (rows[n]) n++;
    c->steps = calloc(n, sizeof *c->steps);
    c->n_steps = n;
    for (size_t i = 0; i < n; i++) {
        char *dot = strchr(rows[i], '.');
        c->steps[i].driver = strndup(rows[i], (size_t)(dot - rows[i]));
        c->steps[i].method = strdup(dot + 1);
        char st[64];
        snprintf(st, sizeof st, "RETIRING_%zu", i);
        c->steps[i].start_state = strdup(st);
        snprintf(st, sizeof st, "STEP_%zu_COMPLETE", i);
        c->steps[i].end_state = strdup(st);
        c->steps[i].line = (int)(10 + i);
    }
    return c;
}

static void free_cfg(cfg *c)
{
    for (size_t i = 0; i < c->n_steps; i++) {
        free(c->steps[i].driver);
        free(c->steps[i].method);
        free(c->steps[i].start_state);
        free(c->steps[i].end_state);
    }
    for (size_t i = 0; i < c->n_extra_services; i++) free(c->extra_services[i].name);
    free(c->extra_services);
    free(c->steps);
    free(c->path);
    cJSON_Delete(c->root);
    free(c);
}

static void test_check_pipeline_and_config_entry_points(void **state)
{
    (void)state;
    setup_env();
    char *ep = write_ep("drivers.cfg", "GOOD = @/good.so:retirectl_driver_good\n"
                                       "WRONGABI = @/wrongabi.so:retirectl_driver_wrongabi\n"
                                       "NOSYM = @/nosym.so:retirectl_driver_nosym\n");
    /* the config names the entry-point file relative to itself */
    char *dir = strdup(ep);
    *strrchr(dir, '/') = '\0';
    char cfgpath[4200];
    snprintf(cfgpath, sizeof cfgpath, "%s/config.yml", dir);
    const char *rows[] = {"GOOD.retire", "GOOD.nope", "NOSUCH.x", "WRONGABI.retire", "WRONGABI.retire",
                          "GOOD.fail", NULL};
    cfg *c = make_cfg(cfgpath, rows, "{\"driver_entry_points\":[\"drivers.cfg\", 7]}");
    reg *r = reg_new(c, NULL);
    assert_non_null(reg_find(r, "GOOD"));
    assert_int_equal(reg_problem_count(r), 1); /* the non-string item */
    assert_non_null(strstr(reg_problem(r, 0), "driver_entry_points item 2 is not a file name"));
    assert_null(reg_find(r, "NOSYM")->driver); /* not used by the pipeline: never loaded */
    char err[16384];
    int n = reg_check_pipeline(r, c, err, sizeof err);
    assert_int_equal(n, 3);
    char want[4400];
    snprintf(want, sizeof want, "%s:11: retirement_pipeline step 2 [RETIRING_1, STEP_1_COMPLETE, GOOD, nope]: "
                                "driver GOOD has no method nope (it has: retire notfound fail config_echo)",
             cfgpath);
    assert_non_null(strstr(err, want));
    snprintf(want, sizeof want, "%s:12: retirement_pipeline step 3", cfgpath);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "no driver named NOSUCH"));
    assert_non_null(strstr(err, "driver ABI 99"));
    assert_null(strstr(strstr(err, "driver ABI 99") + 1, "driver ABI 99")); /* reported once */
    assert_null(reg_find(r, "NOSYM")->driver);
    assert_null(reg_find(r, "NOSYM")->load_error); /* still untried */
    reg_load_all(r);
    assert_non_null(reg_find(r, "NOSYM")->load_error);
    reg_free(r);
    free_cfg(c);
    free(dir);
    free(ep);
}

static void test_builtins_and_shadowing(void **state)
{
    (void)state;
    setup_env();
    char *ep = write_ep("drivers.cfg", "LMS = @/good.so:retirectl_driver_good\n"
                                       "MOCK_SERVICE = @/good.so:retirectl_driver_good\n");
    const char *rows[] = {"LMS.retirement_retire_forum", NULL};
    cfg *c = make_cfg("/nonexistent/config.yml", rows, NULL);
    c->extra_services = calloc(2, sizeof *c->extra_services);
    c->n_extra_services = 2;
    c->extra_services[0].name = strdup("MOCK_SERVICE");
    c->extra_services[1].name = strdup("OTHER_SERVICE");
    const char *files[] = {ep, NULL};
    reg *r = reg_new(c, files);
    const reg_driver_info *lms = reg_find(r, "LMS");
    assert_non_null(lms);
    assert_true(lms->builtin);
    assert_string_equal(lms->kind, "built-in");
    assert_string_equal(lms->source, "built-in");
    assert_non_null(lms->driver); /* built-ins are always "loaded" */
    assert_non_null(lms->load_error);
    assert_non_null(strstr(lms->load_error, "driver LMS is defined twice: built in and"));
    assert_non_null(strstr(lms->load_error, ep));
    char err[4096];
    assert_null(reg_load(r, "LMS", err, sizeof err)); /* fatal because used */
    const reg_driver_info *ms = reg_find(r, "MOCK_SERVICE");
    assert_string_equal(ms->kind, "extra_services");
    assert_non_null(strstr(ms->load_error, "extra_services of /nonexistent/config.yml"));
    const rd_driver *other = reg_load(r, "OTHER_SERVICE", err, sizeof err);
    assert_non_null(other);
    assert_non_null(reg_method(other, "retire_learner"));
    assert_non_null(reg_load(r, "ECOMMERCE", err, sizeof err));
    assert_int_equal(reg_check_pipeline(r, c, err, sizeof err), 1);
    reg_free(r);
    free_cfg(c);
    free(ep);
}

static void test_crashing_initialisation_is_a_load_error(void **state)
{
    (void)state;
    setup_env();
    char *ep = write_ep("drivers.cfg", "CTORCRASH = @/ctorcrash.so:retirectl_driver_ctorcrash\n"
                                       "GOOD = @/good.so:retirectl_driver_good\n");
    const char *files[] = {ep, NULL};
    reg *r = reg_new(NULL, files);
    reg_load_all(r); /* would kill this test process if the plugin were dlopen()ed here */
    const reg_driver_info *info = reg_find(r, "CTORCRASH");
    assert_non_null(info->load_error);
    assert_non_null(strstr(info->load_error, "crashed (SIGSEGV) in the plugin's initialisation code"));
    assert_non_null(strstr(info->load_error, "ctorcrash.so"));
    assert_null(info->driver);
    assert_false(is_mapped("/tests/plugins/ctorcrash.so"));
    assert_non_null(reg_find(r, "GOOD")->driver);
    char err[4096];
    assert_null(reg_load(r, "CTORCRASH", err, sizeof err));
    assert_string_equal(err, info->load_error);
    reg_free(r);

    /* the pipeline check probes too */
    const char *rows[] = {"CTORCRASH.retire", NULL};
    cfg *c = make_cfg("/nonexistent/config.yml", rows, NULL);
    r = reg_new(c, files);
    assert_int_equal(reg_check_pipeline(r, c, err, sizeof err), 1);
    assert_non_null(strstr(err, "/nonexistent/config.yml:10: retirement_pipeline step 1"));
    assert_non_null(strstr(err, "crashed (SIGSEGV)"));
    reg_free(r);
    free_cfg(c);
    free(ep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lazy_load_and_methods),
        cmocka_unit_test(test_wrong_abi_and_small_struct),
        cmocka_unit_test(test_missing_symbol_and_file),
        cmocka_unit_test(test_unsafe_plugin_file),
        cmocka_unit_test(test_plugin_folder_trust),
        cmocka_unit_test(test_duplicates_fatal_only_when_used),
        cmocka_unit_test(test_unknown_driver_lists_searched_files),
        cmocka_unit_test(test_instantiate_reports_get_instance_failure),
        cmocka_unit_test(test_check_pipeline_and_config_entry_points),
        cmocka_unit_test(test_builtins_and_shadowing),
        cmocka_unit_test(test_crashing_initialisation_is_a_load_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
