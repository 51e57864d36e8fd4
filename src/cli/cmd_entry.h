/* cmd_entry (prefixes cli_opt_, cli_args_, cli_entry_): each command declared once, as data.
 *
 * A command file defines one `const cli_cmd_entry cmd_NAME_entry` (name, aliases, positionals,
 * options, help prose, handler); main.c lists them. From that one declaration:
 *   - cli_args_parse reads the command line (every command parses the same way: long options
 *     with '-' and '_' alike, "--opt VALUE" and "--opt=VALUE", "-jN", "--" ends the options,
 *     choices and counts checked, one wording for every mistake);
 *   - cli_entry_help prints `retirectl NAME --help`;
 *   - cmdspec (completion and the man page's COMMANDS section) reads the options and positionals.
 * docs/architecture.md, "The command line", describes the layer. */
#ifndef RETIRECTL_CLI_CMD_ENTRY_H
#define RETIRECTL_CLI_CMD_ENTRY_H

#include <stddef.h>
#include <stdio.h>

#include "cli/cli.h"

enum {
    CLI_OPT_HIDDEN = 1, /* accepted but left out of --help, usage and completion (old spellings) */
    CLI_OPT_BOOL = 2,   /* a flag that may also be given a value: "--dry-run", "--dry-run true",
                           "--dry_run=False" (the upstream scripts' click booleans) */
    CLI_OPT_NO_USAGE = 4, /* listed under the options but not in the generated usage line */
    CLI_OPT_MANY = 16,    /* repeatable: every value is kept (cli_args_all) */
    CLI_OPT_STOP = 8      /* global options only: the line from here is the upstream scripts'
                             spelling of `retire` (`retirectl --username U --config_file F`) */
};

/* One option: how it is spelled, what it takes, what it is for. */
typedef struct cli_opt {
    const char *names; /* "--config_file|--config", "-j|--jobs": '|' between spellings; the first
                          is the option's key for cli_args_* and its name in messages */
    const char *meta;  /* the value's name ("FILE", "N"); choices as "table|json|jenkins" are
                          checked by the parser; NULL: a flag */
    const char *help;  /* the description in --help; '\n' starts a continuation line */
    unsigned flags;    /* CLI_OPT_* */
    const char *env;   /* the environment variable that gives the value when the line does not
                          (click's envvar: RETIREMENT_START_DATE), or NULL; help says so */
} cli_opt;

#define CLI_OPT_END {NULL, NULL, NULL, 0, NULL}

/* Non-zero when o appears in --help, the man page and completion (not hidden, not the global
 * options' upstream spellings of retire). */
static inline int cli_opt_shown(const cli_opt *o) { return !(o->flags & (CLI_OPT_HIDDEN | CLI_OPT_STOP)); }
#define CLI_MAX_OPTS 48
#define CLI_MAX_ARGS 16

typedef struct cli_cmd_entry cli_cmd_entry;

/* A parsed command line. Strings are borrowed from argv. */
typedef struct cli_args {
    const cli_cmd_entry *entry;
    const char *value[CLI_MAX_OPTS]; /* per option (opts, then shared_opts): the last value given */
    int count[CLI_MAX_OPTS];         /* how many times it was given */
    const char *arg[CLI_MAX_ARGS];   /* positionals, in order */
    size_t n_args;
    const char *many[CLI_MAX_ARGS];  /* the values of CLI_OPT_MANY options, in order */
    size_t many_slot[CLI_MAX_ARGS];  /* the option each belongs to */
    size_t n_many;
} cli_args;

struct cli_cmd_entry {
    const char *name;       /* "check-config"; a variant's is "retire --all" */
    const char *aliases;    /* further names, '|' between them, or NULL */
    const char *args;       /* positionals template: "USER", "[USER]", "USER DRIVER.METHOD",
                               "[NAME [DIR]]", "FILE...", "bash|zsh|man"; NULL: none. A lone
                               USER slot is a learner: a second one is refused as "one
                               learner at a time" */
    const char *summary;    /* one line for `retirectl --help` and the man page */
    const char *more_usage; /* further usage forms, one per line, each from "retirectl ", or NULL */
    const char *about;      /* --help paragraphs after the usage line(s) */
    const cli_opt *opts;    /* CLI_OPT_END-terminated, or NULL */
    const cli_opt *shared_opts; /* a second set several commands share (cli_operator_options) */
    const char *epilogue;   /* --help text after the options ("Exit status: ..."), or NULL */
    const char *args_hint;  /* appended to positional mistakes ("; retire --all runs the queue") */
    /* the form chosen by variant_flag anywhere on the line (`retire --all`): parsed, helped and
     * completed as its own entry, named "NAME VARIANT_FLAG" */
    const cli_cmd_entry *variant;
    const char *variant_flag;
    int (*exec)(const cli_args *a, const cli_globals *g);
};

/* Parses argv[1..argc) for e (argv[0] is the command name). Returns -1 when the command should
 * run with *a; otherwise the exit status to return now: 0 after --help (printed to stdout),
 * CLI_EXIT_USAGE after one line on stderr naming the mistake and `retirectl NAME --help`.
 * Picks e->variant when its flag is given; a->entry says which entry parsed. */
int cli_args_parse(const cli_cmd_entry *e, int argc, char **argv, cli_args *a);
/* Parses the global options at argv[1..) up to the command name (or a CLI_OPT_STOP option);
 * *next is the index of what follows. Returns as cli_args_parse does. */
int cli_args_parse_globals(int argc, char **argv, cli_args *a, int *next);
/* Runs entry e on argv: parse, then e->exec. Returns the exit status. */
int cli_entry_run(const cli_cmd_entry *e, int argc, char **argv, const cli_globals *g);

/* The option's last value, or NULL when not given (on the line, or by its env variable). key is
 * the option's first spelling; a key the entry does not declare is a programming error
 * (reported, then abort). */
const char *cli_args_get(const cli_args *a, const char *key);
/* How many times the option was given (0: not given). For CLI_OPT_BOOL: 1 when the last
 * spelling meant true, 0 when it meant false or was absent. */
int cli_args_has(const cli_args *a, const char *key);
/* A whole number >= 0 from the option: *out = fallback when absent. -1 (after one line on
 * stderr naming the option and the value) when it is not one. */
int cli_args_long(const cli_args *a, const char *key, long fallback, long *out);
/* Every value of a CLI_OPT_MANY option, in order, into out (at most max); returns how many. */
size_t cli_args_all(const cli_args *a, const char *key, const char **out, size_t max);
/* Positional i, or NULL. */
const char *cli_args_arg(const cli_args *a, size_t i);
/* 1 for a true word, 0 for a false one, -1 for anything else (click's boolean words, as a
 * CLI_OPT_BOOL value takes them; also for RETIREMENT_* variables of such options). */
int cli_bool_word(const char *v);

/* Prints `retirectl NAME --help` for e: usage line(s), about, options, epilogue. */
void cli_entry_help(const cli_cmd_entry *e, FILE *out);
/* Prints the usage line(s) only ("usage: retirectl NAME ..."), wrapped to 100 columns. */
void cli_entry_usage(const cli_cmd_entry *e, FILE *out);
/* The positionals template of e: *min required, *max allowed (CLI_MAX_ARGS after "NAME...");
 * the name of slot i (brackets and dots removed) into names[i] when names is not NULL. Returns
 * how many slots the template names (at most CLI_MAX_ARGS). */
size_t cli_entry_positionals(const cli_cmd_entry *e, size_t *min, size_t *max, char names[][48]);
/* Non-zero when name is e's name or one of its aliases. */
int cli_entry_named(const cli_cmd_entry *e, const char *name);
/* Calls fn(opt, ctx) for each option of e (opts, then shared_opts). */
void cli_entry_each_opt(const cli_cmd_entry *e, void (*fn)(const cli_opt *o, void *ctx), void *ctx);

/* Writes e for the man page's COMMANDS section (roff): name and positionals, summary, about, and
 * its options as an indented list; then its variant the same way. */
void cli_entry_man(const cli_cmd_entry *e, FILE *out);
/* Writes e's options as roff .TP paragraphs (the man page's GLOBAL OPTIONS). */
void cli_entry_man_options(const cli_cmd_entry *e, FILE *out);
/* Prints the options list of e (term, then description), nothing when it shows none. */
void cli_entry_options(const cli_cmd_entry *e, FILE *out);

/* The commands (one file each; main.c lists them in cli_commands). */
extern const cli_cmd_entry cmd_tui_entry, cmd_demo_entry, cmd_queue_entry, cmd_status_entry, cmd_plan_entry,
    cmd_retire_entry, cmd_retire_all_entry, cmd_resume_entry, cmd_rerun_entry, cmd_reset_entry, cmd_cleanup_entry,
    cmd_drivers_entry, cmd_check_config_entry, cmd_completion_entry, cmd_history_entry, cmd_driver_run_entry,
    cmd_new_driver_entry;

/* The global options (`retirectl [global options] COMMAND`), as an entry without a handler. */
extern const cli_cmd_entry cli_global_entry;

#endif
