/* The one-learner commands (plan, retire, status): `CMD [USER] [--username U] [--config_file F]
 * [--json | --events] ...`, declared with the option rows below and read with cli_learner_of. */
#ifndef RETIRECTL_CLI_LEARNER_ARGS_H
#define RETIRECTL_CLI_LEARNER_ARGS_H

#include "cli/cli.h"
#include "cli/cmd_entry.h"

/* Option rows several commands declare (one wording each). */
#define CLI_OPT_ROW_USERNAME                                                                                       \
    {"--username", "USER", "the learner's original username (the upstream spelling of USER)", 0, NULL}
#define CLI_OPT_ROW_CONFIG_FILE                                                                                    \
    {"--config_file|--config", "FILE", "the retirement config (else $RETIREMENT_CONFIG_FILE)", 0, NULL}
#define CLI_OPT_ROW_JSON(text) {"--json", NULL, text, 0, NULL}
#define CLI_OPT_ROW_EVENTS                                                                                         \
    {"--events", NULL, "JSON-lines job events (docs/events.md) on stdout instead of text", 0, NULL}
#define CLI_OPT_ROW_REASON {"--reason", "TEXT", "why (kept in the audit log)", 0, NULL}

enum {
    CLI_LA_EVENTS = 1,      /* the command declares --events (same as --json) */
    CLI_LA_DRY_RUN = 2,     /* it declares --dry-run */
    CLI_LA_REASON = 4,      /* it declares --reason */
    CLI_LA_ENV_USERNAME = 8 /* no USER given: $RETIREMENT_USERNAME */
};

/* What a one-learner command line says. Strings are borrowed from argv (or the environment). */
typedef struct cli_learner_args {
    const char *username;    /* never NULL or empty after a successful read */
    const char *config_file; /* --config_file / --config, or NULL */
    const char *reason;      /* --reason, or NULL */
    int events;              /* --json or --events given, or g->json */
    int dry_run;             /* --dry-run given */
} cli_learner_args;

/* Reads the learner and the shared options from a (whose entry declares [USER], --username,
 * --config_file and --json, plus what accept names). Returns -1 to go on, else CLI_EXIT_USAGE
 * after one line on stderr (two learners, or none: no_learner_hint says how to give one). */
int cli_learner_of(const cli_args *a, const cli_globals *g, unsigned accept, const char *no_learner_hint,
                   cli_learner_args *out);

#endif
