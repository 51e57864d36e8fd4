/* Unit tests of src/cli/cmd_args.c and cmd_help.c: the one command-line parser and the --help
 * writer, driven by cli_cmd_entry tables made up here (the real commands are tested through
 * retirectl in the integration tests). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd_entry.h"
#include "cli/common.h"

static int ran; /* what the exec of the test entry saw */

static int test_exec(const cli_args *a, const cli_globals *g)
{
    (void)g;
    ran = 1 + (int)a->n_args;
    return 7;
}

static const cli_opt opts[] = {
    {"--config_file|--config", "FILE", "the config", 0, NULL},
    {"-j|--jobs", "N", "workers\nsecond line", 0, NULL},
    {"--format", "table|json", "how", 0, NULL},
    {"--json", NULL, "machine output", 0, NULL},
    {"--dry-run", NULL, "change nothing", CLI_OPT_BOOL, NULL},
    {"--tag", "T", "repeatable", CLI_OPT_MANY, NULL},
    {"--old-spelling", NULL, "kept for scripts", CLI_OPT_HIDDEN, NULL},
    CLI_OPT_END,
};

static const cli_opt shared[] = {
    {"--reason", "TEXT", "why", 0, NULL},
    CLI_OPT_END,
};

static const cli_opt all_opts[] = {
    {"--all", NULL, "every one", CLI_OPT_NO_USAGE, NULL},
    {"--limit", "N", "at most N", 0, NULL},
    CLI_OPT_END,
};

static const cli_cmd_entry all_entry = {
    .name = "t --all",
    .summary = "the queue form",
    .opts = all_opts,
    .args_hint = ": --all takes no USER",
    .exec = test_exec,
};

static const cli_cmd_entry entry = {
    .name = "t",
    .aliases = "tee|tt",
    .args = "[USER]",
    .summary = "a test command",
    .about = "About the test command.\n",
    .opts = opts,
    .shared_opts = shared,
    .epilogue = "Exit status: 7.",
    .variant = &all_entry,
    .variant_flag = "--all",
    .exec = test_exec,
};

static const cli_cmd_entry two_args = {
    .name = "pair",
    .args = "NAME [DIR] [MORE...]",
    .summary = "positionals",
    .exec = test_exec,
};

static const cli_opt globals[] = {
    {"--username", "USER", "upstream spelling", CLI_OPT_STOP, NULL},
    {"--config", "FILE", "config", 0, NULL},
    {"--json", NULL, "json", 0, NULL},
    CLI_OPT_END,
};
const cli_cmd_entry cli_global_entry = {.name = "", .opts = globals};

/* What a call printed on one of stdout/stderr: the output of fn is captured in a temp file. */
typedef struct captured {
    int rc;
    char out[8192];
    char err[2048];
    cli_args a;
} captured;

/* Parses the NULL-terminated words with entry e, capturing stdout and stderr into c. */
static void parse_words(const cli_cmd_entry *e, captured *c, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, c);
    for (const char *w; (w = va_arg(ap, const char *));) argv[argc++] = (char *)w;
    va_end(ap);
    argv[argc] = NULL;
    memset(c, 0, sizeof *c);
    FILE *out = tmpfile(), *err = tmpfile();
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    c->rc = cli_args_parse(e, argc, argv, &c->a);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    rewind(out);
    rewind(err);
    c->out[fread(c->out, 1, sizeof c->out - 1, out)] = '\0';
    c->err[fread(c->err, 1, sizeof c->err - 1, err)] = '\0';
    fclose(out);
    fclose(err);
}

static void test_spellings(void **state)
{
    (void)state;
    captured c;
    parse_words(&entry, &c, "t", "bob", "--config", "a.yml", "-j4", "--format=json", "--json", "--reason", "why", NULL);
    assert_int_equal(c.rc, -1);
    assert_string_equal(c.err, "");
    assert_ptr_equal(c.a.entry, &entry);
    assert_string_equal(cli_args_get(&c.a, "--config_file"), "a.yml");
    assert_string_equal(cli_args_get(&c.a, "-j"), "4");
    assert_string_equal(cli_args_get(&c.a, "--format"), "json");
    assert_int_equal(cli_args_has(&c.a, "--json"), 1);
    assert_string_equal(cli_args_get(&c.a, "--reason"), "why");
    assert_string_equal(cli_args_arg(&c.a, 0), "bob");
    assert_null(cli_args_arg(&c.a, 1));
    long jobs = 0;
    assert_int_equal(cli_args_long(&c.a, "-j", 1, &jobs), 0);
    assert_int_equal(jobs, 4);
    /* '_' and '-' alike, --opt=VALUE, the long alias of a short option, the last value wins */
    parse_words(&entry, &c, "t", "--config-file=b.yml", "--jobs", "2", "--jobs=3", "--old_spelling", NULL);
    assert_int_equal(c.rc, -1);
    assert_string_equal(cli_args_get(&c.a, "--config_file"), "b.yml");
    assert_string_equal(cli_args_get(&c.a, "-j"), "3");
    assert_int_equal(cli_args_has(&c.a, "-j"), 2);
    assert_int_equal(cli_args_has(&c.a, "--old-spelling"), 1);
    assert_int_equal(cli_args_has(&c.a, "--json"), 0);
    assert_int_equal(cli_args_long(&c.a, "--format", 9, &jobs), 0); /* absent: the fallback */
    /* "--" ends the options: a learner whose name starts with '-' */
    parse_words(&entry, &c, "t", "--", "-odd-name", NULL);
    assert_int_equal(c.rc, -1);
    assert_string_equal(cli_args_arg(&c.a, 0), "-odd-name");
}

static void test_bool_and_many(void **state)
{
    (void)state;
    captured c;
    parse_words(&entry, &c, "t", "--dry-run", NULL);
    assert_int_equal(cli_args_has(&c.a, "--dry-run"), 1);
    parse_words(&entry, &c, "t", "--dry_run", "False", "bob", NULL);
    assert_int_equal(c.rc, -1);
    assert_int_equal(cli_args_has(&c.a, "--dry-run"), 0);
    assert_string_equal(cli_args_arg(&c.a, 0), "bob");
    parse_words(&entry, &c, "t", "--dry-run=yes", NULL);
    assert_int_equal(cli_args_has(&c.a, "--dry-run"), 1);
    parse_words(&entry, &c, "t", "--dry-run=maybe", NULL);
    assert_int_equal(c.rc, CLI_EXIT_USAGE);
    assert_string_equal(c.err, "retirectl t: --dry-run takes true or false, not 'maybe' (see retirectl t --help)\n");
    parse_words(&entry, &c, "t", "--tag", "a", "--tag=b", "--tag", "c", NULL);
    const char *tags[4];
    assert_int_equal(cli_args_all(&c.a, "--tag", tags, 4), 3);
    assert_string_equal(tags[0], "a");
    assert_string_equal(tags[2], "c");
    assert_int_equal(cli_args_all(&c.a, "--tag", tags, 2), 2);
}

static void test_mistakes_in_one_wording(void **state)
{
    (void)state;
    captured c;
    parse_words(&entry, &c, "t", "--no-such", NULL);
    assert_int_equal(c.rc, CLI_EXIT_USAGE);
    assert_string_equal(c.err, "retirectl t: unknown option '--no-such' (see retirectl t --help)\n");
    parse_words(&entry, &c, "t", "--config", NULL);
    assert_string_equal(c.err, "retirectl t: --config_file needs a value (see retirectl t --help)\n");
    parse_words(&entry, &c, "t", "--format", "xml", NULL);
    assert_int_equal(c.rc, CLI_EXIT_USAGE);
    assert_string_equal(c.err, "retirectl t: --format takes one of table,json, not 'xml' (see retirectl t --help)\n");
    parse_words(&entry, &c, "t", "--json=1", NULL);
    assert_string_equal(c.err, "retirectl t: --json takes no value ('1' given) (see retirectl t --help)\n");
    parse_words(&entry, &c, "t", "alice", "bob", NULL);
    assert_string_equal(c.err, "retirectl t: one learner at a time ('alice' and 'bob' given)\n");
    /* a terminal escape in the command line is made inert in the message */
    parse_words(&entry, &c, "t", "--x\033]0;owned\a", NULL);
    assert_null(strchr(c.err, '\033'));
    assert_null(strchr(c.err, '\a'));
    parse_words(&entry, &c, "t", "-j", "many", NULL);
    assert_int_equal(c.rc, -1);
    long jobs;
    FILE *err = tmpfile();
    int saved = dup(2);
    dup2(fileno(err), 2);
    int bad = cli_args_long(&c.a, "-j", 1, &jobs);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(bad, -1);
    fclose(err);
}

static void test_positionals(void **state)
{
    (void)state;
    captured c;
    parse_words(&two_args, &c, "pair", NULL);
    assert_int_equal(c.rc, CLI_EXIT_USAGE);
    assert_string_equal(c.err, "retirectl pair: NAME missing (see retirectl pair --help)\n");
    parse_words(&two_args, &c, "pair", "a", "b", "c", "d", "e", NULL);
    assert_int_equal(c.rc, -1);
    assert_int_equal(c.a.n_args, 5);
    parse_words(&two_args, &c, "pair", "--what", NULL);
    assert_string_equal(c.err, "retirectl pair: unknown option '--what' (see retirectl pair --help)\n");
}

static void test_variant(void **state)
{
    (void)state;
    captured c;
    parse_words(&entry, &c, "t", "--limit", "3", "--all", NULL);
    assert_int_equal(c.rc, -1);
    assert_ptr_equal(c.a.entry, &all_entry);
    assert_string_equal(cli_args_get(&c.a, "--limit"), "3");
    parse_words(&entry, &c, "t", "--all", "bob", NULL);
    assert_int_equal(c.rc, CLI_EXIT_USAGE);
    assert_string_equal(c.err, "retirectl t --all: unexpected argument 'bob': --all takes no USER (see retirectl t --all --help)\n");
    parse_words(&entry, &c, "t", "--all", "--json", NULL);
    assert_string_equal(c.err, "retirectl t --all: unknown option '--json' (see retirectl t --all --help)\n");
    /* and each form's own help */
    parse_words(&entry, &c, "t", "--all", "--help", NULL);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "usage: retirectl t --all [--limit N]\n"));
}

static void test_help_from_the_entry(void **state)
{
    (void)state;
    captured c;
    parse_words(&entry, &c, "t", "--no-such", "-h", NULL); /* --help wins wherever it is */
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.err, "");
    assert_true(strncmp(c.out, "usage: retirectl t [USER] [--config_file FILE] [-j N] [--format table|json] [--json]", 84) == 0);
    assert_non_null(strstr(c.out, "\nAbout the test command.\n"));
    assert_non_null(strstr(c.out, "\nOptions:\n  --config_file, --config FILE  the config\n"));
    assert_non_null(strstr(c.out, "  -j, --jobs N                  workers\n                                second line\n"));
    assert_non_null(strstr(c.out, "  --reason TEXT                 why\n")); /* the shared set */
    assert_null(strstr(c.out, "--old-spelling"));                       /* hidden */
    assert_non_null(strstr(c.out, "`retirectl t --all --help` describes the t --all form."));
    assert_non_null(strstr(c.out, "\nExit status: 7.\n"));
}

/* A command whose every option term is wider than the column still lists them (descriptions on
 * the next line); before, such a help printed no options at all. */
static void test_help_with_only_wide_options(void **state)
{
    (void)state;
    static const cli_opt wide_opts[] = {
        {"--a-very-long-option-name-for-the-test", "VALUE", "what it does", 0, NULL},
        CLI_OPT_END,
    };
    static const cli_cmd_entry wide = {.name = "w", .summary = "wide", .opts = wide_opts, .exec = test_exec};
    captured c;
    parse_words(&wide, &c, "w", "--help", NULL);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "\nOptions:\n  --a-very-long-option-name-for-the-test VALUE\n"));
    assert_non_null(strstr(c.out, "\n                                  what it does\n"));
}

/* An option's env variable gives its value when the line does not (click's envvar): a value as
 * is, a flag or boolean by its true/false word; the line always wins; help names the variable. */
static void test_env_variables(void **state)
{
    (void)state;
    static const cli_opt env_opts[] = {
        {"--start-date", "DATE", "first day", 0, "CMDARGS_TEST_START"},
        {"--rewind", NULL, "rewind", 0, "CMDARGS_TEST_REWIND"},
        {"--dry-run", NULL, "change nothing", CLI_OPT_BOOL, "CMDARGS_TEST_DRY_RUN"},
        CLI_OPT_END,
    };
    static const cli_cmd_entry env_entry = {.name = "e", .summary = "env", .opts = env_opts, .exec = test_exec};
    captured c;
    setenv("CMDARGS_TEST_START", "2020-01-01", 1);
    setenv("CMDARGS_TEST_REWIND", "yes", 1);
    setenv("CMDARGS_TEST_DRY_RUN", "True", 1);
    parse_words(&env_entry, &c, "e", NULL);
    assert_int_equal(c.rc, -1);
    assert_string_equal(cli_args_get(&c.a, "--start-date"), "2020-01-01");
    assert_int_equal(cli_args_has(&c.a, "--rewind"), 1);
    assert_int_equal(cli_args_has(&c.a, "--dry-run"), 1);
    /* the line wins, a false boolean included */
    parse_words(&env_entry, &c, "e", "--start-date", "2021-02-02", "--dry-run=false", NULL);
    assert_string_equal(cli_args_get(&c.a, "--start-date"), "2021-02-02");
    assert_int_equal(cli_args_has(&c.a, "--dry-run"), 0);
    /* a false word or an empty variable gives nothing */
    setenv("CMDARGS_TEST_REWIND", "0", 1);
    setenv("CMDARGS_TEST_START", "", 1);
    parse_words(&env_entry, &c, "e", NULL);
    assert_int_equal(cli_args_has(&c.a, "--rewind"), 0);
    assert_null(cli_args_get(&c.a, "--start-date"));
    parse_words(&env_entry, &c, "e", "--help", NULL);
    assert_non_null(strstr(c.out, "first day (else $CMDARGS_TEST_START)\n"));
    unsetenv("CMDARGS_TEST_START");
    unsetenv("CMDARGS_TEST_REWIND");
    unsetenv("CMDARGS_TEST_DRY_RUN");
}

static void test_run_and_names(void **state)
{
    (void)state;
    char *argv[] = {(char *)"t", (char *)"x", NULL};
    ran = 0;
    assert_int_equal(cli_entry_run(&entry, 2, argv, NULL), 7);
    assert_int_equal(ran, 2);
    assert_true(cli_entry_named(&entry, "t"));
    assert_true(cli_entry_named(&entry, "tee"));
    assert_true(cli_entry_named(&entry, "tt"));
    assert_false(cli_entry_named(&entry, "te"));
}

static void test_globals_stop_at_the_command(void **state)
{
    (void)state;
    char *argv[] = {(char *)"retirectl", (char *)"--config", (char *)"c.yml", (char *)"--json", (char *)"status",
                    (char *)"--config", (char *)"other", NULL};
    cli_args a;
    int next = 0;
    assert_int_equal(cli_args_parse_globals(7, argv, &a, &next), -1);
    assert_int_equal(next, 4);
    assert_string_equal(cli_args_get(&a, "--config"), "c.yml");
    assert_int_equal(cli_args_has(&a, "--json"), 1);
    /* the upstream spelling hands the rest of the line to retire */
    char *up[] = {(char *)"retirectl", (char *)"--json", (char *)"--username", (char *)"bob", NULL};
    assert_int_equal(cli_args_parse_globals(4, up, &a, &next), -1);
    assert_int_equal(next, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings),
        cmocka_unit_test(test_bool_and_many),
        cmocka_unit_test(test_mistakes_in_one_wording),
        cmocka_unit_test(test_positionals),
        cmocka_unit_test(test_variant),
        cmocka_unit_test(test_help_from_the_entry),
        cmocka_unit_test(test_help_with_only_wide_options),
        cmocka_unit_test(test_env_variables),
        cmocka_unit_test(test_run_and_names),
        cmocka_unit_test(test_globals_stop_at_the_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
