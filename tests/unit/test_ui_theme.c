/* Console themes: the shipped files parse, set every role, keep the terminal background, and
 * bad lines are refused with the file and line named. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/theme.h"

static void load_file(const char *name, ui_theme *t)
{
    char path[4096], err[512];
    const char *src = getenv("RETIRECTL_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/themes/%s.theme", src ? src : RETIRECTL_SOURCE_DIR, name);
    memset(t, 0, sizeof *t);
    for (int r = 0; r < UR_COUNT; r++) t->roles[r] = (ui_style){-2, -2, 0}; /* -2: not set */
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s", path);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    if (ui_theme_parse(t, text, path, err, sizeof err) != 0) fail_msg("%s", err);
}

static void test_shipped_themes_complete(void **state)
{
    (void)state;
    const char *names[] = {"default", "light", "mono"};
    for (size_t i = 0; i < 3; i++) {
        ui_theme t;
        load_file(names[i], &t);
        for (int r = 0; r < UR_COUNT; r++) {
            if (t.roles[r].fg == -2) fail_msg("%s.theme does not set role %s", names[i], ui_theme_role_name((ui_role)r));
        }
        /* the terminal's background is kept for ordinary text */
        assert_int_equal(t.roles[UR_NORMAL].bg, -1);
        assert_int_equal(t.roles[UR_NORMAL].fg, -1);
    }
    ui_theme mono;
    load_file("mono", &mono);
    for (int r = 0; r < UR_COUNT; r++) {
        assert_int_equal(mono.roles[r].fg, -1); /* mono: attributes only */
        assert_int_equal(mono.roles[r].bg, -1);
    }
    assert_true(mono.roles[UR_SELECTION].attrs & UI_ATTR_REVERSE);
}

static void test_builtin_matches_files(void **state)
{
    (void)state;
    ui_theme file, built;
    char err[256];
    load_file("default", &file);
    assert_int_equal(ui_theme_load(&built, "default", NULL, err, sizeof err), 0);
    assert_memory_equal(file.roles, built.roles, sizeof file.roles);
    load_file("mono", &file);
    assert_int_equal(ui_theme_load(&built, "mono", NULL, err, sizeof err), 0);
    assert_memory_equal(file.roles, built.roles, sizeof file.roles);
}

static void test_bad_lines_named(void **state)
{
    (void)state;
    ui_theme t;
    char err[256];
    memset(&t, 0, sizeof t);
    assert_int_equal(ui_theme_parse(&t, "normal = default default\nrunnin = red default\n", "x.theme", err, sizeof err), -1);
    assert_non_null(strstr(err, "x.theme:2"));
    assert_non_null(strstr(err, "runnin"));
    assert_int_equal(ui_theme_parse(&t, "failed = crimson default\n", "y.theme", err, sizeof err), -1);
    assert_non_null(strstr(err, "y.theme:1"));
    assert_int_equal(ui_theme_parse(&t, "failed = red default blink\n", "z.theme", err, sizeof err), -1);
    assert_non_null(strstr(err, "blink"));
    assert_int_equal(ui_theme_parse(&t, "failed = red\n", "w.theme", err, sizeof err), -1);
    assert_int_equal(ui_theme_parse(&t, "# comment\n\n  done = bright-green 236 bold underline # ok\n", "v.theme", err, sizeof err), 0);
    assert_int_equal(t.roles[UR_DONE].fg, 10);
    assert_int_equal(t.roles[UR_DONE].bg, 236);
    assert_int_equal(t.roles[UR_DONE].attrs, UI_ATTR_BOLD | UI_ATTR_UNDERLINE);
    assert_int_equal(ui_theme_load(&t, "no-such-theme", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "no-such-theme"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_themes_complete), cmocka_unit_test(test_builtin_matches_files),
        cmocka_unit_test(test_bad_lines_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
