/* retirectl: parses global options and dispatches to the subcommand (one file per command). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
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

void cli_usage(FILE *out)
{
    fprintf(out,
            "usage: retirectl [global options] COMMAND [options]\n"
            "\n"
            "Retire Open edX learners (GDPR account deletion) across the LMS and every service\n"
            "that holds their data, with the upstream retirement scripts' config, calls and exit statuses.\n"
            "\n"
            "Global options:\n"
            "  --config FILE       retirement config (else $RETIREMENT_CONFIG_FILE, then\n"
            "                      $XDG_CONFIG_HOME/retirectl/config.yml)\n"
            "  --driver-path FILE  extra retirement_driver entry-point file (repeatable)\n"
            "  --json              machine-readable output\n"
            "  --no-color          monochrome console (also NO_COLOR)\n"
            "  --theme NAME        console theme (default, light, mono)\n"
            "  --read-only         console without any action that changes state\n"
            "  --operator NAME     who is acting, for the audit log (default: login name)\n"
            "  --allow-core-dumps  let a crash write a core file (debugging only: it would hold the\n"
            "                      config's secrets and the LMS token)\n"
            "  --version           print the version\n"
            "  --help              this help; `retirectl COMMAND --help` for a command\n"
            "\n"
            "Commands:\n");
    size_t n;
    const command *t = cli_commands(&n);
    for (size_t i = 0; i < n; i++) fprintf(out, "  %-13s %s\n", t[i].name, t[i].summary);
}

/* Returns the value of a global option given as "--opt VALUE" or "--opt=VALUE", advancing *i. */
static const char *option_value(int argc, char **argv, int *i, const char *opt)
{
    size_t len = strlen(opt);
    if (strncmp(argv[*i], opt, len) == 0 && argv[*i][len] == '=') return argv[*i] + len + 1;
    if (strcmp(argv[*i], opt) != 0) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "retirectl: %s needs a value\n", opt);
        exit(2);
    }
    return argv[++*i];
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
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("retirectl %s (driver ABI %u.%u)\n", RETIRECTL_VERSION, (unsigned)RD_ABI_VERSION, (unsigned)RD_ABI_MINOR);
            return 0;
        } else if ((v = option_value(argc, argv, &i, "--config"))) {
            g.config_path = v;
        } else if ((v = option_value(argc, argv, &i, "--driver-path"))) {
            if (g.n_driver_paths + 1 >= sizeof g.driver_paths / sizeof g.driver_paths[0]) {
                fprintf(stderr, "retirectl: too many --driver-path options (at most 15)\n");
                return 2;
            }
            g.driver_paths[g.n_driver_paths++] = v;
        } else if ((v = option_value(argc, argv, &i, "--theme"))) {
            g.theme = v;
        } else if ((v = option_value(argc, argv, &i, "--operator"))) {
            g.operator_name = v;
        } else if (strcmp(argv[i], "--json") == 0) {
            g.json = 1;
        } else if (strcmp(argv[i], "--no-color") == 0) {
            g.no_color = 1;
        } else if (strcmp(argv[i], "--read-only") == 0) {
            g.read_only = 1;
        } else if (strcmp(argv[i], "--allow-core-dumps") == 0) {
            allow_core_dumps = 1;
        } else if (strcmp(argv[i], "--username") == 0 || strcmp(argv[i], "--config_file") == 0 ||
                   strncmp(argv[i], "--username=", 11) == 0 || strncmp(argv[i], "--config_file=", 14) == 0) {
            break; /* upstream spelling `retirectl --username U --config_file F`: treated as retire */
        } else {
            fprintf(stderr, "retirectl: unknown option '%s' (see retirectl --help)\n", argv[i]);
            return 2;
        }
    }

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
        int rc = t[k].fn(cmd_argc, cmd_argv, &g);
        if (name == retire_name) free(cmd_argv); /* the upstream-spelling copy */
        return rc;
    }
    fprintf(stderr, "retirectl: unknown command '%s' (see retirectl --help)\n", name);
    return 2;
}
