/* retirectl tui: opens the console (also the default command on a terminal). */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "engine/config.h"
#include "ui/keys.h"
#include "ui/ui.h"
#include "common/xalloc.h"

static const cli_opt tui_options[] = {
    {"--print-keys-man", NULL, "print the man page KEYS section generated from the key table", 0, NULL},
    CLI_OPT_END,
};

static int tui_exec(const cli_args *a, const cli_globals *g);

const cli_cmd_entry cmd_tui_entry = {
    .name = "tui",
    .aliases = "console",
    .summary = "open the console (the default on a terminal)",
    .more_usage = "retirectl [--config FILE] [--theme NAME] [--no-color] [--read-only] tui [--print-keys-man]",
    .about = "Opens the console: learners by tab (ready, pending, failed, stuck, complete), a learner's\n"
             "pipeline and job log, retire / resume / rerun / dry-run / reset / cancel, the drivers view.\n"
             "Press ? in the console for the keys.\n",
    .opts = tui_options,
    .epilogue = "Config additions read here: environment (production asks to type the username or user id),\n"
                "console.theme, console.refresh_seconds (10), console.background_refresh_seconds (60),\n"
                "console.idle_seconds (60), console.cool_off_days (7), console.workers (4), console.max_bulk (300),\n"
                "console.max_consecutive_failures (5),\n"
                "console.require_reason (true in production), console.history_days (30). See docs/console.md.\n",
    .exec = tui_exec,
};

static int tui_exec(const cli_args *a, const cli_globals *g)
{
    if (cli_args_has(a, "--print-keys-man")) {
        char *man = ui_keys_man_section();
        fputs(man, stdout);
        free(man);
        return 0;
    }
    setlocale(LC_ALL, "");
    char *path = g->config_path ? xstrdup(g->config_path) : cfg_default_path();
    if (!path) {
        fprintf(stderr, "retirectl: no configuration: pass --config FILE, set RETIREMENT_CONFIG_FILE, or create "
                        "$XDG_CONFIG_HOME/retirectl/config.yml (or try `retirectl demo`)\n");
        return 249;
    }
    cfg *c = NULL;
    char err[2048];
    if (cfg_load(path, &c, err, sizeof err) != 0) {
        fprintf(stderr, "retirectl: %s\n", err);
        free(path);
        return 249;
    }
    cli_config_warnings(c);
    if (cfg_validate(c, err, sizeof err) != 0) {
        fprintf(stderr, "retirectl: %s\n", err);
        cfg_free(c);
        free(path);
        return 249;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "retirectl: cannot find this program's path (/proc/self/exe) to start jobs\n");
        cfg_free(c);
        free(path);
        return 255;
    }
    exe[n] = '\0';
    char abs_config[PATH_MAX];
    const char *config_for_jobs = realpath(path, abs_config) ? abs_config : path;
    ui_options o;
    memset(&o, 0, sizeof o);
    o.config = c;
    o.config_path = config_for_jobs;
    o.driver_paths = g->driver_paths;
    o.exe = exe;
    o.theme = g->theme;
    o.operator_name = g->operator_name;
    o.read_only = g->read_only;
    o.no_color = g->no_color;
    int rc = ui_run(&o, err, sizeof err);
    if (rc < 0) fprintf(stderr, "retirectl: %s\n", err);
    cfg_free(c);
    free(path);
    return rc < 0 ? 255 : rc;
}

