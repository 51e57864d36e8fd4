/* Unit tests of src/cli/cmdspec.c: options, their value kinds and positionals read from --help
 * texts in the forms the commands use (usage lines with globals before the name, continuation
 * lines, alternatives in parentheses, "-j, --jobs N" and "USER, --username U" option lines). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cli/cmdspec.h"

static const cmdspec_arg *find_opt(const cmdspec *s, const char *name)
{
    for (size_t i = 0; i < s->n_opts; i++)
        if (strcmp(s->opts[i].name, name) == 0) return &s->opts[i];
    return NULL;
}

static void expect_opt(const cmdspec *s, const char *name, cmdspec_kind kind)
{
    const cmdspec_arg *a = find_opt(s, name);
    if (!a) fail_msg("option %s not found", name);
    if (a->kind != kind) fail_msg("option %s: kind %d, want %d", name, (int)a->kind, (int)kind);
}

static void test_usage_and_option_lines(void **state)
{
    (void)state;
    cmdspec s;
    memset(&s, 0, sizeof s);
    cmdspec_scan(&s, "queue",
                 "usage: retirectl queue [--cool-off-days N] [--states A,B] [--shard I/N]\n"
                 "                       [--format table|json|jenkins] [--output-dir D]\n"
                 "\n"
                 "Lists the learners (--not-an-option in prose).\n"
                 "\n"
                 "  --cool-off-days N               days a request waits\n"
                 "  --limit N                       ask the LMS for at most N\n"
                 "                                  (default 300; also --json)\n"
                 "Underscore spellings (--cool_off_days, --output_dir, ...) are accepted too.\n");
    expect_opt(&s, "--cool-off-days", CMDSPEC_VALUE);
    expect_opt(&s, "--states", CMDSPEC_VALUE);
    expect_opt(&s, "--output-dir", CMDSPEC_DIR);
    expect_opt(&s, "--limit", CMDSPEC_VALUE);
    expect_opt(&s, "--format", CMDSPEC_WORDS);
    assert_string_equal(find_opt(&s, "--format")->words, "table,json,jenkins");
    assert_null(find_opt(&s, "--not-an-option"));
    assert_null(find_opt(&s, "--json"));
    assert_null(find_opt(&s, "--cool_off_days"));
    assert_int_equal(s.n_opts, 6);
    assert_int_equal(s.n_pos, 0);
}

static void test_positionals_globals_and_forms(void **state)
{
    (void)state;
    cmdspec s;
    memset(&s, 0, sizeof s);
    cmdspec_scan(&s, "rerun", "usage: retirectl [--config FILE] rerun USER DRIVER.METHOD [--reason TEXT] [--yes]\n");
    assert_int_equal(s.n_pos, 2);
    assert_int_equal(s.pos[0].kind, CMDSPEC_VALUE);
    assert_int_equal(s.pos[1].kind, CMDSPEC_METHOD);
    assert_null(find_opt(&s, "--config")); /* a global option, before the command name */
    expect_opt(&s, "--reason", CMDSPEC_VALUE);
    expect_opt(&s, "--yes", CMDSPEC_FLAG);

    memset(&s, 0, sizeof s);
    cmdspec_scan(&s, "retire",
                 "usage: retirectl retire USER [--config_file FILE] [--dry-run]\n"
                 "       retirectl retire --all [-j N] ...   (see retirectl retire --all --help)\n"
                 "\n"
                 "  USER, --username U     the learner\n"
                 "  -j, --jobs N           workers\n");
    assert_int_equal(s.n_pos, 1);
    expect_opt(&s, "--config_file", CMDSPEC_CONFIG);
    expect_opt(&s, "--dry-run", CMDSPEC_FLAG);
    expect_opt(&s, "--all", CMDSPEC_FLAG);
    expect_opt(&s, "-j", CMDSPEC_VALUE);
    expect_opt(&s, "--jobs", CMDSPEC_VALUE);
    expect_opt(&s, "--username", CMDSPEC_VALUE);
    assert_null(find_opt(&s, "--help")); /* the "(see ...)" pointer is not an option */

    memset(&s, 0, sizeof s);
    cmdspec_scan(&s, "reset",
                 "usage: retirectl reset --initial-state STATE (--new-state STATE | --rewind-state)\n"
                 "                       --start-date YYYY-MM-DD [--theme NAME]\n");
    expect_opt(&s, "--new-state", CMDSPEC_VALUE);
    expect_opt(&s, "--rewind-state", CMDSPEC_FLAG);
    expect_opt(&s, "--start-date", CMDSPEC_VALUE);
    expect_opt(&s, "--theme", CMDSPEC_THEME);
    assert_int_equal(s.n_pos, 0);

    memset(&s, 0, sizeof s);
    cmdspec_scan(&s, "completion", "usage: retirectl completion bash|zsh\n");
    assert_int_equal(s.n_pos, 1);
    assert_int_equal(s.pos[0].kind, CMDSPEC_WORDS);
    assert_string_equal(s.pos[0].words, "bash,zsh");
}

static void test_global_options_and_kind_words(void **state)
{
    (void)state;
    cmdspec s;
    memset(&s, 0, sizeof s);
    cmdspec_scan(&s, NULL,
                 "usage: retirectl [global options] COMMAND [options]\n"
                 "\n"
                 "Global options:\n"
                 "  --config FILE       retirement config (else $RETIREMENT_CONFIG_FILE, then\n"
                 "                      $XDG_CONFIG_HOME/retirectl/config.yml)\n"
                 "  --driver-path FILE  extra entry-point file (repeatable)\n"
                 "  --json              machine-readable output\n"
                 "\n"
                 "Commands:\n"
                 "  retire        retire one learner, or --all\n");
    assert_int_equal(s.n_opts, 3);
    expect_opt(&s, "--config", CMDSPEC_CONFIG);
    expect_opt(&s, "--driver-path", CMDSPEC_FILE);
    expect_opt(&s, "--json", CMDSPEC_FLAG);
    char w[64];
    cmdspec_kind_word(find_opt(&s, "--config"), w, sizeof w);
    assert_string_equal(w, "config");
    cmdspec_arg words = {"--format", CMDSPEC_WORDS, "a,b"};
    cmdspec_kind_word(&words, w, sizeof w);
    assert_string_equal(w, "words:a,b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_and_option_lines),
        cmocka_unit_test(test_positionals_globals_and_forms),
        cmocka_unit_test(test_global_options_and_kind_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
