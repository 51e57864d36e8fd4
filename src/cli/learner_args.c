/* The one-learner commands' shared reading of their command line; see learner_args.h. */
#include "cli/learner_args.h"

#include <stdlib.h>
#include <string.h>

#include "cli/common.h"

int cli_learner_of(const cli_args *a, const cli_globals *g, unsigned accept, const char *no_learner_hint,
                   cli_learner_args *out)
{
    memset(out, 0, sizeof *out);
    const char *name = a->entry->name;
    const char *positional = cli_args_arg(a, 0), *option = cli_args_get(a, "--username");
    if (positional && option && strcmp(positional, option) != 0) {
        fprintf(stderr, "retirectl %s: one learner at a time ('%s' and '%s' given)%s\n", name, cli_inert_tmp(option),
                cli_inert_tmp(positional), a->entry->args_hint ? a->entry->args_hint : "");
        return CLI_EXIT_USAGE;
    }
    out->username = positional ? positional : option;
    out->config_file = cli_args_get(a, "--config_file");
    out->events = (g && g->json) || cli_args_has(a, "--json") || ((accept & CLI_LA_EVENTS) && cli_args_has(a, "--events"));
    out->dry_run = (accept & CLI_LA_DRY_RUN) && cli_args_has(a, "--dry-run");
    out->reason = (accept & CLI_LA_REASON) ? cli_args_get(a, "--reason") : NULL;
    if (!out->username && (accept & CLI_LA_ENV_USERNAME)) {
        const char *env = getenv("RETIREMENT_USERNAME");
        if (env && *env) out->username = env;
    }
    if (!out->username || !*out->username) {
        fprintf(stderr, "retirectl %s: no learner given: %s\n", name, no_learner_hint);
        return CLI_EXIT_USAGE;
    }
    return -1;
}
