/* Unit tests of src/engine/paths.c: a program finds plugins, themes, config folder and simulator
 * from where it lies. The test copies itself into temporary layouts (an install prefix, a copy
 * moved elsewhere, an install below a build tree) and runs the copy, which prints what
 * paths_* return (`test_paths --print`). The built programs hold no source or build path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/paths.h"
#include "common/strbuf.h"

/* Child mode: prints every paths_* value as key=value ("-" for NULL). */
static int print_paths(void)
{
    struct {
        const char *key;
        char *(*fn)(void);
    } all[] = {{"exe", paths_exe_dir},       {"build", paths_build_root}, {"lib", paths_lib_dir},
               {"plugins", paths_plugin_dir}, {"themes", paths_theme_dir}, {"etc", paths_sysconf_dir},
               {"sim", paths_sim_bin}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char *v = all[i].fn();
        printf("%s=%s\n", all[i].key, v ? v : "-");
        free(v);
    }
    return 0;
}

/* Runs the program at exe with --print and an environment without RETIRECTL_SIM_BIN; returns
 * the value of key (malloc'd). */
static char *run_print(const char *exe, const char *key, const char *path_env)
{
    strbuf cmd = STRBUF_INIT;
    sb_addf(&cmd, "env -u RETIRECTL_SIM_BIN PATH='%s' '%s' --print", path_env, exe);
    FILE *p = popen(sb_str(&cmd), "r");
    sb_free(&cmd);
    assert_non_null(p);
    char line[PATH_MAX + 32];
    char *value = NULL;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (!value && strncmp(line, key, klen) == 0 && line[klen] == '=') value = strdup(line + klen + 1);
    }
    assert_int_equal(pclose(p), 0);
    if (!value) fail_msg("%s --print gave no %s", exe, key);
    return value;
}

static void run_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run_sh(const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    if (system(sb_str(&sb)) != 0) fail_msg("failed: %s", sb_str(&sb));
    sb_free(&sb);
}

/* Copies this test program into the folder bindir (created); returns the copy's path (malloc'd). */
static char *copy_self(const char *bindir)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/test_paths", bindir);
    run_sh("mkdir -p '%s' && cp '%s' '%s'", bindir, self, sb_str(&sb));
    return sb_take(&sb);
}

static void assert_str(const char *got, const char *want)
{
    if (strcmp(got, want) != 0) fail_msg("got '%s', want '%s'", got, want);
}

/* Runs exe --print with PATH=path_env and checks that key has the value want ("-" for NULL). */
static void expect_print(const char *exe, const char *key, const char *path_env, const char *want)
{
    char *v = run_print(exe, key, path_env);
    if (strcmp(v, want) != 0) fail_msg("%s: %s=%s, want %s", exe, key, v, want);
    free(v);
}

/* A make-temp folder under base (malloc'd). */
static char *temp_under(const char *base)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/paths-XXXXXX", base);
    char *dir = sb_take(&sb);
    assert_non_null(mkdtemp(dir));
    return dir;
}

/* Running from the build tree: the build's plugins and sim, the source's themes, no /etc. */
static void test_build_tree(void **state)
{
    (void)state;
    char *root = paths_build_root(), *plugins = paths_plugin_dir(), *themes = paths_theme_dir();
    char real_build[PATH_MAX], real_src[PATH_MAX];
    assert_non_null(realpath(RETIRECTL_BUILD_DIR, real_build));
    assert_non_null(realpath(RETIRECTL_SOURCE_DIR, real_src));
    assert_non_null(root);
    assert_str(root, real_build);
    strbuf want = STRBUF_INIT;
    sb_addf(&want, "%s/plugins", real_build);
    assert_str(plugins, sb_str(&want));
    sb_reset(&want);
    sb_addf(&want, "%s/themes", RETIRECTL_SOURCE_DIR);
    assert_str(themes, sb_str(&want));
    assert_null(paths_sysconf_dir());
    unsetenv("RETIRECTL_SIM_BIN");
    char *sim = paths_sim_bin();
    sb_reset(&want);
    sb_addf(&want, "%s/sim/retirectl-sim", real_build);
    assert_non_null(sim);
    assert_str(sim, sb_str(&want));
    sb_free(&want);
    free(root), free(plugins), free(themes), free(sim);
}

/* An install prefix: everything below <prefix>, found again after the prefix moves. */
static void test_install_moves(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char *base = temp_under(tmp && *tmp ? tmp : "/tmp");
    strbuf a = STRBUF_INIT, b = STRBUF_INIT, want = STRBUF_INIT;
    sb_addf(&a, "%s/a", base);
    sb_addf(&want, "%s/usr/bin", sb_str(&a));
    char *exe = copy_self(sb_str(&want));
    sb_reset(&want);
    char *lib = run_print(exe, "lib", "/nonexistent");
    sb_addf(&want, "%s/usr/", sb_str(&a));
    if (strncmp(lib, sb_str(&want), want.len) != 0) fail_msg("lib %s is not relative to %s", lib, sb_str(&want));
    /* the install layout: lib and share folders, a sim beside the program */
    char *themes = run_print(exe, "themes", "/nonexistent");
    run_sh("mkdir -p '%s/plugins' '%s' && printf '#!/bin/sh\\n' > '%s/usr/bin/retirectl-sim' && chmod 755 "
           "'%s/usr/bin/retirectl-sim'",
           lib, themes, sb_str(&a), sb_str(&a));
    free(lib), free(themes), free(exe);
    sb_addf(&b, "%s/moved/b", base);
    run_sh("mkdir -p '%s/moved' && mv '%s' '%s'", base, sb_str(&a), sb_str(&b));
    sb_reset(&want);
    sb_addf(&want, "%s/usr/bin/test_paths", sb_str(&b));
    exe = sb_take(&want);

    char real_b[PATH_MAX];
    assert_non_null(realpath(sb_str(&b), real_b));
    expect_print(exe, "build", "/nonexistent", "-");
    char *v;
    struct {
        const char *key, *rel; /* expected: <real b>/usr/bin/<rel>, normalised by realpath */
    } want_rel[] = {{"plugins", ""}, {"themes", ""}, {"sim", "retirectl-sim"}};
    for (size_t i = 0; i < sizeof want_rel / sizeof want_rel[0]; i++) {
        v = run_print(exe, want_rel[i].key, "/nonexistent");
        char real_v[PATH_MAX];
        if (!realpath(v, real_v)) fail_msg("%s=%s does not exist after the move", want_rel[i].key, v);
        if (strncmp(real_v, real_b, strlen(real_b)) != 0) fail_msg("%s=%s is outside %s", want_rel[i].key, real_v, real_b);
        free(v);
    }
    v = run_print(exe, "plugins", "/nonexistent");
    assert_non_null(strstr(v, "/retirectl/plugins"));
    free(v);
    v = run_print(exe, "themes", "/nonexistent");
    assert_non_null(strstr(v, "/share/retirectl/themes"));
    free(v);
    v = run_print(exe, "etc", "/nonexistent");
    assert_non_null(strstr(v, "etc/retirectl"));
    assert_true(strncmp(v, real_b, strlen(real_b)) == 0 || strncmp(v, sb_str(&b), b.len) == 0);
    free(v);

    /* no sim beside the program: the first retirectl-sim on $PATH */
    run_sh("mkdir -p '%s/pathbin' && mv '%s/usr/bin/retirectl-sim' '%s/pathbin/'", base, sb_str(&b), base);
    sb_reset(&want);
    sb_addf(&want, "/nonexistent:%s/pathbin", base);
    char *sim = sb_fmt("%s/pathbin/retirectl-sim", base);
    expect_print(exe, "sim", sb_str(&want), sim);
    free(sim);
    expect_print(exe, "sim", "/nonexistent", "-");

    run_sh("rm -rf '%s'", base);
    free(exe), free(base);
    sb_free(&a), sb_free(&b), sb_free(&want);
}

/* A copy below the build tree: the build tree is used until an install layout surrounds it
 * (`cmake --install build --prefix build/some/prefix` must not use the build's plugins). */
static void test_install_inside_build_tree(void **state)
{
    (void)state;
    char *base = temp_under(RETIRECTL_BUILD_DIR "/tests");
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/usr/bin", base);
    char *exe = copy_self(sb_str(&sb)); /* <build>/tests/paths-X/usr/bin: the marker is 4 levels up */
    sb_reset(&sb);
    expect_print(exe, "build", "/nonexistent", "-"); /* more than three levels up: not the build tree */
    free(exe);
    run_sh("rm -rf '%s'", base);
    free(base);

    base = temp_under(RETIRECTL_BUILD_DIR);
    sb_addf(&sb, "%s/bin", base);
    exe = copy_self(sb_str(&sb));
    sb_reset(&sb);
    char real_build[PATH_MAX];
    assert_non_null(realpath(RETIRECTL_BUILD_DIR, real_build));
    expect_print(exe, "build", "/nonexistent", real_build); /* <build>/paths-X/bin: a build-tree program */
    expect_print(exe, "lib", "/nonexistent", real_build);
    /* now give it an install layout: it stops using the build tree */
    sb_addf(&sb, "%s/share/retirectl/themes", base);
    run_sh("mkdir -p '%s'", sb_str(&sb));
    sb_free(&sb);
    expect_print(exe, "build", "/nonexistent", "-");
    char *v = run_print(exe, "etc", "/nonexistent");
    assert_string_not_equal(v, "-");
    free(v);
    run_sh("rm -rf '%s'", base);
    free(exe), free(base);
}

/* Non-zero when the file holds the bytes of needle. */
static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read %s", path);
    strbuf sb = STRBUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_addn(&sb, buf, n);
    fclose(f);
    int found = memmem(sb.data, sb.len, needle, strlen(needle)) != NULL;
    sb_free(&sb);
    return found;
}

/* The built programs carry no path of this machine outside their debug information (which the
 * packages strip): not the source tree, not the build tree. */
static void test_no_build_paths_in_programs(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan records each global's source file in the program; such builds are never installed */
#endif
    const char *tmp = getenv("TMPDIR");
    char *base = temp_under(tmp && *tmp ? tmp : "/tmp");
    const char *programs[] = {RETIRECTL_BIN, RETIRECTL_SIM_BIN};
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        char *copy = sb_fmt("%s/stripped-%zu", base, i);
        run_sh("strip --strip-debug -o '%s' '%s'", copy, programs[i]);
        if (file_contains(copy, RETIRECTL_SOURCE_DIR "/"))
            fail_msg("%s holds the source path %s/", programs[i], RETIRECTL_SOURCE_DIR);
        if (file_contains(copy, RETIRECTL_BUILD_DIR "/"))
            fail_msg("%s holds the build path %s/", programs[i], RETIRECTL_BUILD_DIR);
        free(copy);
    }
    run_sh("rm -rf '%s'", base);
    free(base);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--print") == 0) return print_paths();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_tree),
        cmocka_unit_test(test_install_moves),
        cmocka_unit_test(test_install_inside_build_tree),
        cmocka_unit_test(test_no_build_paths_in_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
