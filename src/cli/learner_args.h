/* Command-line parsing shared by the commands that act on one learner (plan, retire, status):
 * `CMD USER [--username U] [--config_file F | --config F] [--events | --json] ...`. */
#ifndef RETIRECTL_CLI_LEARNER_ARGS_H
#define RETIRECTL_CLI_LEARNER_ARGS_H

#include <stdio.h>

#include "cli/cli.h"

/* What a command accepts besides USER, --username, --config_file / --config and --json. */
enum {
    CLI_LA_EVENTS = 1,       /* --events (same as --json) */
    CLI_LA_DRY_RUN = 2,      /* --dry-run */
    CLI_LA_REASON = 4,       /* --reason TEXT */
    CLI_LA_ENV_USERNAME = 8  /* no USER given: $RETIREMENT_USERNAME */
};

/* How one command is parsed and named in its messages. */
typedef struct cli_learner_cmd {
    const char *name;            /* "plan": messages start "retirectl plan: " */
    unsigned accept;             /* CLI_LA_* */
    void (*usage)(FILE *out);    /* the command's --help text */
    const char *too_many_hint;   /* appended to "one learner at a time ('A' and 'B' given)" ("" for none) */
    const char *no_learner_hint; /* follows "no learner given: " */
} cli_learner_cmd;

/* The parsed command line. Strings are borrowed from argv (or the environment). */
typedef struct cli_learner_args {
    const char *username;    /* never NULL or empty after a successful parse */
    const char *config_file; /* --config_file / --config, or NULL */
    const char *reason;      /* --reason, or NULL */
    int events;              /* --json or --events given, or g->json */
    int dry_run;             /* --dry-run given */
} cli_learner_args;

/* Parses argv[1..argc) into *a. Returns -1 when the command should go on; otherwise the exit
 * status to return now: 0 after printing the usage for --help / -h, CLI_EXIT_USAGE after
 * printing the problem (unknown option, missing value, no or two learners) on stderr. */
int cli_parse_learner_args(int argc, char **argv, const cli_globals *g, const cli_learner_cmd *cmd,
                           cli_learner_args *a);

#endif
