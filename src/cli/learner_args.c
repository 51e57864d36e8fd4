/* Command-line parsing of the one-learner commands; see learner_args.h. */
#include "cli/learner_args.h"

#include <stdlib.h>
#include <string.h>

#include "cli/common.h"

int cli_parse_learner_args(int argc, char **argv, const cli_globals *g, const cli_learner_cmd *cmd,
                           cli_learner_args *a)
{
    memset(a, 0, sizeof *a);
    a->events = g && g->json;
    int missing = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cmd->usage(stdout);
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--username", &missing))) {
            a->username = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--config_file", &missing)) ||
                   (v = cli_opt_value(argc, argv, &i, "--config", &missing))) {
            a->config_file = v;
        } else if ((cmd->accept & CLI_LA_REASON) && (v = cli_opt_value(argc, argv, &i, "--reason", &missing))) {
            a->reason = v;
        } else if ((cmd->accept & CLI_LA_DRY_RUN) && cli_opt_flag(argv[i], "--dry-run")) {
            a->dry_run = 1;
        } else if (((cmd->accept & CLI_LA_EVENTS) && cli_opt_flag(argv[i], "--events")) ||
                   cli_opt_flag(argv[i], "--json")) {
            a->events = 1;
        } else if (missing) {
            return CLI_EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "retirectl %s: unknown option '%s' (see retirectl %s --help)\n", cmd->name, argv[i],
                    cmd->name);
            return CLI_EXIT_USAGE;
        } else if (!a->username) {
            a->username = argv[i];
        } else {
            fprintf(stderr, "retirectl %s: one learner at a time ('%s' and '%s' given)%s\n", cmd->name, a->username,
                    argv[i], cmd->too_many_hint);
            return CLI_EXIT_USAGE;
        }
    }
    if (missing) return CLI_EXIT_USAGE;
    if (!a->username && (cmd->accept & CLI_LA_ENV_USERNAME)) {
        const char *env = getenv("RETIREMENT_USERNAME");
        if (env && *env) a->username = env;
    }
    if (!a->username || !*a->username) {
        fprintf(stderr, "retirectl %s: no learner given: %s\n", cmd->name, cmd->no_learner_hint);
        return CLI_EXIT_USAGE;
    }
    return -1;
}
