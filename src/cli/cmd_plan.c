/* `retirectl plan USER`: the dry-run of `retire` (what would run, skip or fail, with the
 * request each step would send); no state change and no driver call, only previews. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/learner_args.h"

static const cli_opt plan_options[] = {
    CLI_OPT_ROW_CONFIG_FILE,
    CLI_OPT_ROW_EVENTS,
    {"--json", NULL, "the same as --events", CLI_OPT_HIDDEN, NULL},
    {"--dry-run", NULL, "accepted: a plan is always a dry run", CLI_OPT_HIDDEN, NULL},
    {"--username", "USER", "the upstream spelling of USER", CLI_OPT_HIDDEN, NULL},
    CLI_OPT_END,
};

static int plan_exec(const cli_args *a, const cli_globals *g)
{
    cli_learner_args la; /* --dry-run is accepted: it is implied */
    int rc = cli_learner_of(a, g, CLI_LA_EVENTS | CLI_LA_DRY_RUN | CLI_LA_ENV_USERNAME,
                            "pass USER (or set RETIREMENT_USERNAME)", &la);
    if (rc >= 0) return rc;
    return cli_retire_one(g, la.username, la.config_file, 1, la.events, NULL);
}

const cli_cmd_entry cmd_plan_entry = {
    .name = "plan",
    .args = "[USER]",
    .summary = "dry-run: what retiring USER would run, skip or fail",
    .about = "Dry-run of `retirectl retire USER`: reads the learner's retirement status and shows, per\n"
             "pipeline step, whether it would run, be skipped (completed in a previous run) or fail\n"
             "(driver not loadable), with the requests it would send (secrets masked). Sends no PATCH,\n"
             "POST or PUT and calls no driver method (only their previews).\n",
    .opts = plan_options,
    .epilogue = "Exit status: 0 when the retirement would run, else what `retire` would exit with\n"
                "(254 end state, 253 working state, 251 not found, 250 unknown state, 249 bad config,\n"
                "255 setup failure or a step that cannot run).\n",
    .exec = plan_exec,
};

