/* `retirectl plan USER`: the dry-run of `retire` (what would run, skip or fail, with the
 * request each step would send); no state change and no driver call, only previews. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"

static void usage(FILE *out)
{
    fputs("usage: retirectl plan USER [--config_file FILE] [--events]\n"
          "\n"
          "Dry-run of `retirectl retire USER`: reads the learner's retirement status and shows, per\n"
          "pipeline step, whether it would run, be skipped (completed in a previous run) or fail\n"
          "(driver not loadable), with the requests it would send (secrets masked). Sends no PATCH,\n"
          "POST or PUT and calls no driver method (only their previews).\n"
          "\n"
          "  --config_file F   the retirement config (also --config, $RETIREMENT_CONFIG_FILE)\n"
          "  --events          JSON-lines events (docs/events.md) instead of text\n"
          "\n"
          "Exit status: 0 when the retirement would run, else what `retire` would exit with\n"
          "(254 end state, 253 working state, 251 not found, 250 unknown state, 249 bad config,\n"
          "255 setup failure or a step that cannot run).\n",
          out);
}

int cmd_plan(int argc, char **argv, const cli_globals *g)
{
    const char *username = NULL, *config_file = NULL;
    int events = g && g->json, missing = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--username", &missing))) {
            username = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--config_file", &missing)) ||
                   (v = cli_opt_value(argc, argv, &i, "--config", &missing))) {
            config_file = v;
        } else if (cli_opt_flag(argv[i], "--events") || cli_opt_flag(argv[i], "--json")) {
            events = 1;
        } else if (cli_opt_flag(argv[i], "--dry-run")) {
            /* implied */
        } else if (missing) {
            return CLI_EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "retirectl plan: unknown option '%s' (see retirectl plan --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!username) {
            username = argv[i];
        } else {
            fprintf(stderr, "retirectl plan: one learner at a time ('%s' and '%s' given)\n", username, argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (missing) return CLI_EXIT_USAGE;
    if (!username) {
        const char *env = getenv("RETIREMENT_USERNAME");
        if (env && *env) username = env;
    }
    if (!username || !*username) {
        fprintf(stderr, "retirectl plan: no learner given: pass USER (or set RETIREMENT_USERNAME)\n");
        return CLI_EXIT_USAGE;
    }
    return cli_retire_one(g, username, config_file, 1, events, NULL);
}
