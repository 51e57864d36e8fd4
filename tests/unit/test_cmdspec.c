/* Unit tests of src/cli/cmdspec.c: options, their value kinds and positionals read from command
 * entries (cmd_entry.h) in the forms the commands use: several spellings, hidden and upstream
 * spellings, a variant form (retire --all), positionals with choices and DRIVER.METHOD. */
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

static const cli_opt queue_opts[] = {
    {"--cool-off-days", "N", "days", 0, NULL},
    {"--format", "table|json|jenkins", "how", 0, NULL},
    {"--output-dir", "D", "where", 0, NULL},
    {"--config_file|--config", "FILE", "config", 0, NULL},
    {"--theme", "NAME", "colours", 0, NULL},
    {"--json", NULL, "json", 0, NULL},
    {"--old-name", "N", "kept for scripts", CLI_OPT_HIDDEN, NULL},
    CLI_OPT_END,
};
static const cli_cmd_entry queue = {.name = "queue", .summary = "q", .opts = queue_opts};

static void test_options_and_kinds(void **state)
{
    (void)state;
    cmdspec s;
    memset(&s, 0, sizeof s);
    cmdspec_of_entry(&s, &queue);
    expect_opt(&s, "--cool-off-days", CMDSPEC_VALUE);
    expect_opt(&s, "--format", CMDSPEC_WORDS);
    assert_string_equal(find_opt(&s, "--format")->words, "table,json,jenkins");
    expect_opt(&s, "--output-dir", CMDSPEC_DIR);
    expect_opt(&s, "--config_file", CMDSPEC_CONFIG);
    expect_opt(&s, "--config", CMDSPEC_CONFIG); /* every spelling */
    expect_opt(&s, "--theme", CMDSPEC_THEME);
    expect_opt(&s, "--json", CMDSPEC_FLAG);
    assert_null(find_opt(&s, "--old-name")); /* hidden */
    assert_int_equal(s.n_opts, 7);
    assert_int_equal(s.n_pos, 0);
    /* adding again keeps one entry per option */
    cmdspec_of_entry(&s, &queue);
    assert_int_equal(s.n_opts, 7);
}

static const cli_opt all_opts[] = {{"--all", NULL, "all", 0, NULL}, {"-j|--jobs", "N", "workers", 0, NULL}, CLI_OPT_END};
static const cli_cmd_entry retire_all = {.name = "retire --all", .summary = "q", .opts = all_opts};
static const cli_opt retire_opts[] = {{"--username", "USER", "who", 0, NULL}, {"--dry-run", NULL, "no change", 0, NULL}, CLI_OPT_END};
static const cli_opt shared_opts[] = {{"--reason", "TEXT", "why", 0, NULL}, {"--yes|-y", NULL, "sure", 0, NULL}, CLI_OPT_END};
static const cli_cmd_entry retire = {.name = "retire",
                                     .args = "[USER]",
                                     .summary = "r",
                                     .opts = retire_opts,
                                     .shared_opts = shared_opts,
                                     .variant = &retire_all,
                                     .variant_flag = "--all"};
static const cli_cmd_entry rerun = {.name = "rerun", .args = "USER DRIVER.METHOD", .summary = "r"};
static const cli_cmd_entry completion = {.name = "completion", .args = "[bash|zsh|man]", .summary = "c"};

static void test_positionals_variants_and_shared(void **state)
{
    (void)state;
    cmdspec s;
    memset(&s, 0, sizeof s);
    cmdspec_of_entry(&s, &retire);
    assert_int_equal(s.n_pos, 1);
    assert_string_equal(s.pos[0].name, "USER");
    expect_opt(&s, "--username", CMDSPEC_VALUE);
    expect_opt(&s, "--dry-run", CMDSPEC_FLAG);
    expect_opt(&s, "--reason", CMDSPEC_VALUE);
    expect_opt(&s, "-y", CMDSPEC_FLAG);
    expect_opt(&s, "--all", CMDSPEC_FLAG); /* the --all form's options complete too */
    expect_opt(&s, "-j", CMDSPEC_VALUE);
    expect_opt(&s, "--jobs", CMDSPEC_VALUE);

    memset(&s, 0, sizeof s);
    cmdspec_of_entry(&s, &rerun);
    assert_int_equal(s.n_pos, 2);
    assert_int_equal(s.pos[0].kind, CMDSPEC_VALUE);
    assert_int_equal(s.pos[1].kind, CMDSPEC_METHOD);

    memset(&s, 0, sizeof s);
    cmdspec_of_entry(&s, &completion);
    assert_int_equal(s.n_pos, 1);
    assert_int_equal(s.pos[0].kind, CMDSPEC_WORDS);
    assert_string_equal(s.pos[0].words, "bash,zsh,man");
}

static const cli_opt global_opts[] = {
    {"--username", "USER", "upstream spelling", CLI_OPT_STOP, NULL},
    {"--config", "FILE", "config", 0, NULL},
    {"--driver-path", "FILE", "entry points", CLI_OPT_MANY, NULL},
    {"--json", NULL, "json", 0, NULL},
    CLI_OPT_END,
};
const cli_cmd_entry cli_global_entry = {.name = "", .opts = global_opts};

static void test_global_options_and_kind_words(void **state)
{
    (void)state;
    cmdspec s;
    memset(&s, 0, sizeof s);
    cmdspec_of_entry(&s, &cli_global_entry);
    assert_int_equal(s.n_opts, 3); /* not the upstream spelling that hands the line to retire */
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
        cmocka_unit_test(test_options_and_kinds),
        cmocka_unit_test(test_positionals_variants_and_shared),
        cmocka_unit_test(test_global_options_and_kind_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
