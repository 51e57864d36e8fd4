/* retirectl: parses global options and dispatches to the subcommand (one file per command). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "engine/job.h"
#include "common/strbuf.h"
#include "engine/coredump.h"
#include "retirectl/driver.h"
#include "common/xalloc.h"

/* Commands are weak so a build lacking one still links and says so clearly. */
#pragma weak cmd_tui
#pragma weak cmd_demo
#pragma weak cmd_queue
#pragma weak cmd_status
#pragma weak cmd_plan
#pragma weak cmd_retire
#pragma weak cmd_resume
#pragma weak cmd_rerun
#pragma weak cmd_reset
#pragma weak cmd_cleanup
#pragma weak cmd_drivers
#pragma weak cmd_check_config
#pragma weak cmd_completion
#pragma weak cmd_history
#pragma weak cmd_driver_run
#pragma weak cmd_new_driver

typedef cli_command command;

/* Returns the command table (built at run time because weak symbols are not constants). */
const cli_command *cli_commands(size_t *n)
{
    static command table[24];
    static size_t count;
    if (!count) {
        const command all[] = {
            {"tui", cmd_tui, "open the console (the default on a terminal)"},
            {"demo", cmd_demo, "start retirectl-sim with demo learners and open the console on it"},
            {"queue", cmd_queue, "list learners waiting for retirement (get_learners_to_retire.py)"},
            {"status", cmd_status, "show one learner's record and pipeline position"},
            {"plan", cmd_plan, "dry-run: what retiring USER would run, skip or fail"},
            {"retire", cmd_retire, "retire one learner (retire_one_learner.py), or --all"},
            {"resume", cmd_resume, "put an ERRORED or stuck learner back before the failed step, then retire"},
            {"rerun", cmd_rerun, "run one driver method for one learner"},
            {"reset", cmd_reset, "bulk forced state update (retirement_bulk_status_update.py)"},
            {"cleanup", cmd_cleanup, "archive COMPLETE retirements to S3, then delete them (retirement_archive_and_cleanup.py)"},
            {"drivers", cmd_drivers, "list drivers: source, ABI, methods, load errors"},
            {"check-config", cmd_check_config, "validate config, pipeline, drivers and credentials"},
            {"completion", cmd_completion, "print the bash or zsh completion script, or the COMMANDS section of the man page (built from this table)"},
            {"history", cmd_history, "the retirement history: jobs, failures and their reasons"},
            {"driver-run", cmd_driver_run, "call one driver method on a learner file, without the LMS"},
            {"new-driver", cmd_new_driver, "write a driver project (source, CMake, entry point, test, README)"},
        };
        _Static_assert(sizeof all / sizeof all[0] <= sizeof table / sizeof table[0], "grow the command table");
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) table[count++] = all[i];
    }
    *n = count;
    return table;
}

static const cli_opt global_options[] = {
    {"--username", "USER", "the upstream spelling of `retire`", CLI_OPT_STOP},
    {"--config_file", "FILE", "the upstream spelling of `retire`", CLI_OPT_STOP},
    {"--config", "FILE", "retirement config (else $RETIREMENT_CONFIG_FILE, then\n$XDG_CONFIG_HOME/retirectl/config.yml)", 0},
    {"--driver-path", "FILE", "extra retirement_driver entry-point file (repeatable)", CLI_OPT_MANY},
    {"--json", NULL, "machine-readable output", 0},
    {"--no-color", NULL, "monochrome console (also NO_COLOR)", 0},
    {"--theme", "NAME", "console theme (default, light, mono)", 0},
    {"--read-only", NULL, "console without any action that changes state", 0},
    {"--operator", "NAME", "who is acting, for the audit log (default: login name)", 0},
    {"--allow-core-dumps", NULL,
     "let a crash write a core file (debugging only: it would hold the\nconfig's secrets and the LMS token)", 0},
    {"--version", NULL, "print the version", 0},
    {"--help|-h", NULL, "this help; `retirectl COMMAND --help` for a command", 0},
    CLI_OPT_END,
};

const cli_cmd_entry cli_global_entry = {
    .name = "",
    .opts = global_options,
};

void cli_usage(FILE *out)
{
    fputs("usage: retirectl [global options] COMMAND [options]\n"
          "\n"
          "Retire Open edX learners (GDPR account deletion) across the LMS and every service\n"
          "that holds their data, with the upstream retirement scripts' config, calls and exit statuses.\n"
          "\n"
          "Global options:\n",
          out);
    cli_entry_options(&cli_global_entry, out);
    fputs("\nCommands:\n", out);
    size_t n;
    const command *t = cli_commands(&n);
    for (size_t i = 0; i < n; i++) fprintf(out, "  %-13s %s\n", t[i].name, t[i].summary);
}

/* Reads the global options into g. -1 to go on with the command at argv[*next], else the exit
 * status (0 after --help or --version). */
static int read_globals(int argc, char **argv, cli_globals *g, int *allow_core_dumps, int *next)
{
    cli_args a;
    int rc = cli_args_parse_globals(argc, argv, &a, next);
    if (rc >= 0) return rc;
    if (cli_args_has(&a, "--help")) {
        cli_usage(stdout);
        return 0;
    }
    if (cli_args_has(&a, "--version")) {
        printf("retirectl %s (driver ABI %u.%u)\n", RETIRECTL_VERSION, (unsigned)RD_ABI_VERSION, (unsigned)RD_ABI_MINOR);
        return 0;
    }
    const size_t max_paths = sizeof g->driver_paths / sizeof g->driver_paths[0] - 1;
    const char *paths[CLI_MAX_ARGS];
    size_t n_paths = cli_args_all(&a, "--driver-path", paths, CLI_MAX_ARGS);
    if (n_paths > max_paths) {
        fprintf(stderr, "retirectl: too many --driver-path options (at most %zu)\n", max_paths);
        return CLI_EXIT_USAGE;
    }
    for (size_t k = 0; k < n_paths; k++) g->driver_paths[g->n_driver_paths++] = paths[k];
    if (cli_args_get(&a, "--config")) g->config_path = cli_args_get(&a, "--config");
    g->theme = cli_args_get(&a, "--theme");
    g->operator_name = cli_args_get(&a, "--operator");
    g->json = cli_args_has(&a, "--json");
    g->no_color = g->no_color || cli_args_has(&a, "--no-color");
    g->read_only = cli_args_has(&a, "--read-only");
    *allow_core_dumps = cli_args_has(&a, "--allow-core-dumps");
    return -1;
}

int main(int argc, char **argv)
{
    cli_globals g;
    memset(&g, 0, sizeof g);
    g.argv0 = argv[0];
    int allow_core_dumps = 0;
    const char *nc = getenv("NO_COLOR");
    g.no_color = nc && *nc;
    int i = 1;
    int rc = read_globals(argc, argv, &g, &allow_core_dumps, &i);
    if (rc >= 0) return rc;

    /* secrets live in this process and in every worker forked from it: no core files */
    if (!allow_core_dumps && coredump_disable() != 0)
        fprintf(stderr, "retirectl: warning: could not disable core dumps: %s\n", strerror(errno));

    const char *name;
    char **cmd_argv;
    int cmd_argc;
    static char retire_name[] = "retire";
    if (i >= argc) {
        if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
            cli_usage(stderr);
            return 2;
        }
        name = "tui";
        static char tui_name[] = "tui";
        static char *tui_argv[] = {tui_name, NULL};
        cmd_argv = tui_argv;
        cmd_argc = 1;
    } else if (argv[i][0] == '-') {
        /* upstream spelling: every remaining argument belongs to `retire` */
        name = retire_name;
        cmd_argc = argc - i + 1;
        cmd_argv = xcalloc((size_t)cmd_argc + 1, sizeof *cmd_argv);
        cmd_argv[0] = retire_name;
        for (int k = i; k < argc; k++) cmd_argv[k - i + 1] = argv[k];
    } else {
        name = argv[i];
        cmd_argv = argv + i;
        cmd_argc = argc - i;
    }

    size_t n;
    const command *t = cli_commands(&n);
    for (size_t k = 0; k < n; k++) {
        if (strcmp(t[k].name, name) != 0) continue;
        if (!t[k].fn) {
            fprintf(stderr, "retirectl: the '%s' command is not part of this build\n", name);
            return 2;
        }
        /* the command line recorded with each job in the history (learner names are scrubbed there) */
        strbuf origin = STRBUF_INIT;
        sb_addf(&origin, "retirectl %s", name);
        for (int a = 1; a < cmd_argc; a++) sb_addf(&origin, " %s", cmd_argv[a]);
        job_history_set_origin(sb_str(&origin), g.operator_name);
        sb_free(&origin);
        rc = t[k].fn(cmd_argc, cmd_argv, &g);
        if (name == retire_name) free(cmd_argv); /* the upstream-spelling copy */
        return rc;
    }
    fprintf(stderr, "retirectl: unknown command '%s' (see retirectl --help)\n", name);
    return 2;
}
