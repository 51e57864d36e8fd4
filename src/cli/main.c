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

/* The command table: each command's entry (cmd_entry.h), in the order `retirectl --help` lists them. */
static const cli_cmd_entry *const commands[] = {
    &cmd_tui_entry,     &cmd_demo_entry,    &cmd_queue_entry,         &cmd_status_entry,     &cmd_plan_entry,
    &cmd_retire_entry,  &cmd_resume_entry,  &cmd_rerun_entry,         &cmd_reset_entry,      &cmd_cleanup_entry,
    &cmd_drivers_entry, &cmd_check_config_entry, &cmd_completion_entry, &cmd_history_entry, &cmd_driver_run_entry,
    &cmd_new_driver_entry,
};

const cli_cmd_entry *const *cli_commands(size_t *n)
{
    *n = sizeof commands / sizeof commands[0];
    return commands;
}

/* The entry named name (or one of its aliases), or NULL. */
static const cli_cmd_entry *find_command(const char *name)
{
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (cli_entry_named(commands[k], name)) return commands[k];
    return NULL;
}

static const cli_opt global_options[] = {
    {"--username", "USER", "the upstream spelling of `retire`", CLI_OPT_STOP, NULL},
    {"--config_file", "FILE", "the upstream spelling of `retire`", CLI_OPT_STOP, NULL},
    {"--config", "FILE", "the retirement config (else $RETIREMENT_CONFIG_FILE, then\n$XDG_CONFIG_HOME/retirectl/config.yml)", 0, NULL},
    {"--driver-path", "FILE", "an extra retirement_driver entry-point file (repeatable)", CLI_OPT_MANY, NULL},
    {"--json", NULL, "machine-readable output", 0, NULL},
    {"--no-color", NULL, "monochrome console (also when NO_COLOR is set and not empty)", 0, NULL},
    {"--theme", "NAME", "console theme: default, light, mono, or a path to a .theme file", 0, NULL},
    {"--read-only", NULL, "console without any action that changes a learner's state", 0, NULL},
    {"--operator", "NAME", "who is acting, for the audit log (default: the login name)", 0, NULL},
    {"--allow-core-dumps", NULL,
     "let a crash write a core file (debugging only: it would hold the\n"
     "config's secrets and the LMS token); without it retirectl and its\n"
     "workers set RLIMIT_CORE to 0 and are not dumpable", 0, NULL},
    {"--version", NULL, "print the version", 0, NULL},
    {"--help|-h", NULL, "this help; `retirectl COMMAND --help` for a command", 0, NULL},
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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const cli_cmd_entry *e = commands[i];
        fprintf(out, "  %-13s %s", e->name, e->summary);
        if (e->aliases) fprintf(out, " (also: %s)", e->aliases);
        fputc('\n', out);
    }
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

    const cli_cmd_entry *e = find_command(name);
    if (e) {
        /* the command line recorded with each job in the history (learner names are scrubbed there) */
        strbuf origin = STRBUF_INIT;
        sb_addf(&origin, "retirectl %s", name);
        for (int a = 1; a < cmd_argc; a++) sb_addf(&origin, " %s", cmd_argv[a]);
        job_history_set_origin(sb_str(&origin), g.operator_name);
        sb_free(&origin);
        rc = cli_entry_run(e, cmd_argc, cmd_argv, &g);
        if (name == retire_name) free(cmd_argv); /* the upstream-spelling copy */
        return rc;
    }
    fprintf(stderr, "retirectl: unknown command '%s' (see retirectl --help)\n", name);
    return 2;
}
