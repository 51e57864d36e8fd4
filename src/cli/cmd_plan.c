/* `retirectl plan USER`: the dry-run of `retire` (what would run, skip or fail, with the
 * request each step would send); no state change and no driver call, only previews. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/learner_args.h"

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
    static const cli_learner_cmd cmd = {"plan", CLI_LA_EVENTS | CLI_LA_DRY_RUN | CLI_LA_ENV_USERNAME, usage, "",
                                        "pass USER (or set RETIREMENT_USERNAME)"};
    cli_learner_args a; /* --dry-run is accepted: it is implied */
    int rc = cli_parse_learner_args(argc, argv, g, &cmd, &a);
    if (rc >= 0) return rc;
    return cli_retire_one(g, a.username, a.config_file, 1, a.events, NULL);
}
