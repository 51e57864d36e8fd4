/* Shared helpers of the CLI commands (prefix cli_): option parsing, loading the config with
 * the upstream exit status, building the http/lms clients and the driver registry, and
 * printing secret-free errors. Used by every src/cli/cmd_*.c file. */
#ifndef RETIRECTL_CLI_COMMON_H
#define RETIRECTL_CLI_COMMON_H

#include <stdarg.h>
#include <signal.h> /* sig_atomic_t: cancel flags set by signal handlers */
#include <stddef.h>

#include "cli/cli.h"
#include "engine/audit.h"
#include "engine/config.h"
#include "engine/http.h"
#include "engine/lms.h"
#include "engine/reg.h"
#include "common/strbuf.h"

/* Exit statuses of retire_one_learner.py (docs/lms-api.md §9.1) as process exit statuses. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_SETUP 255         /* ERR_SETUP_FAILED (-1) */
#define CLI_EXIT_END_STATE 254     /* ERR_USER_AT_END_STATE (-2) */
#define CLI_EXIT_WORKING_STATE 253 /* ERR_USER_IN_WORKING_STATE (-3) */
#define CLI_EXIT_RETIRING 252      /* ERR_WHILE_RETIRING (-4) */
#define CLI_EXIT_BAD_LEARNER 251   /* ERR_BAD_LEARNER (-5) */
#define CLI_EXIT_UNKNOWN_STATE 250 /* ERR_UNKNOWN_STATE (-6) */
#define CLI_EXIT_BAD_CONFIG 249    /* ERR_BAD_CONFIG (-7) */
#define CLI_EXIT_USAGE 2           /* bad command line (like click) */

/* What cli_open builds besides the config. */
enum {
    CLI_NEED_VALIDATE = 1, /* run cfg_validate (failure: exit 249) */
    CLI_NEED_HTTP = 2,     /* http client (no network yet) */
    CLI_NEED_LMS = 4,      /* lms client (implies http) */
    CLI_NEED_REG = 8,      /* driver registry (no plugin loaded yet) */
    CLI_NEED_TOKEN = 16    /* fetch the LMS token now (implies http; failure: exit 255) */
};

/* Everything a command works with. All members owned by the ctx; cli_close frees them. */
typedef struct cli_ctx {
    const cli_globals *g;
    char *config_path; /* the file used (malloc'd) */
    cfg *config;
    http_client *http;
    lms_client *lms;
    reg *registry;
} cli_ctx;

/* Resolves the config file: explicit (a command's --config_file), then g->config_path
 * (--config), then $RETIREMENT_CONFIG_FILE / $XDG_CONFIG_HOME (cfg_default_path). Returns a
 * malloc'd path or NULL when none is given anywhere. */
char *cli_config_path(const cli_globals *g, const char *explicit_path);

/* Loads the config and builds what `need` asks for. Returns 0, or the exit status to return
 * (249 for a missing/unreadable/invalid config, 255 for a client or token failure) after
 * printing a sentence naming the file/line/URL and what to do on stderr. On failure the ctx
 * is already closed. */
int cli_open(cli_ctx *ctx, const cli_globals *g, const char *explicit_config, unsigned need);
void cli_close(cli_ctx *ctx);

/* Prints "retirectl: <message>\n" on stderr with the config's secrets scrubbed (config may
 * be NULL). */
void cli_error(const cfg *config, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message cli_error printed (secrets scrubbed, without "retirectl: "), "" if none. */
const char *cli_last_error(void);
void cli_verror(const cfg *config, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Parses a non-negative integer option value; prints an error naming the option on failure. */
int cli_parse_long(const char *opt, const char *value, long *out);
/* Parses a date as Python's strptime('%Y-%m-%d') accepts it (4-digit year, 1-2 digit month and
 * day, a real calendar day) into days since 1970-01-01. Returns 0, or -1. */
int cli_parse_ymd(const char *text, long *days);
/* days since 1970-01-01 -> "YYYY-MM-DD" (11 bytes). */
void cli_format_ymd(long days, char out[11]);

/* Loads every driver the config's pipeline names, in a child process (a plugin's constructor
 * may crash; plugins are never dlopen()ed in the main process), and checks each has its
 * method. Returns the number of problems (0: the pipeline can run), with one line per
 * problem (config file:line, step, what to do) in err. g may be NULL. */
int cli_check_pipeline_drivers(const cfg *c, const cli_globals *g, char *err, size_t err_len);

/* check_instances.c. Appends to out, one line each, every problem of the entry-point files
 * (syntax errors, duplicate names: what `retirectl drivers` lists) without loading any plugin;
 * returns how many. */
int cli_entry_point_problems(const cfg *c, const cli_globals *g, strbuf *out);
/* Builds an instance of every driver the pipeline names, as a run would (get_instance with the
 * whole config), each in its own child process; appends one line per refusal, crash or hang,
 * naming the driver's entry-point file:line and .so. Drivers that do not load are skipped
 * (cli_check_pipeline_drivers reports them). Returns the number of problems. */
int cli_check_driver_instances(const cfg *c, const cli_globals *g, strbuf *out);

/* A malloc'd copy of text safe to show on a terminal or in a log: line feed and carriage
 * return become \n and \r (a username or server text cannot start a forged line), other C0
 * control characters but tab become \xNN, DEL and C1 controls (U+0080-U+009F, e.g. the one-byte
 * CSI) become \u00NN, and bytes that are not valid UTF-8 become \xNN, so a hostile username or
 * server message cannot move the cursor, retitle the window or forge output. NULL for NULL. */
char *cli_inert(const char *text);
/* The same for a whole document retirectl built itself (a table, JSON): line feeds are kept;
 * values from outside must already have gone through cli_inert. */
char *cli_inert_doc(const char *text);

/* cli_inert into one of 4 rotating static buffers (8 KiB, longer text is cut): for printf
 * arguments in the single-threaded CLI. Never NULL ("" for NULL). */
const char *cli_inert_tmp(const char *text);

/* Writes `text` to stdout with secrets of config scrubbed and control characters made inert. */
void cli_print_scrubbed(const cfg *config, const char *text);
/* What part of the config a driver sees, for drivers and check-config: "only a, b
 * (driver_config_scope)" or "the whole config". malloc'd. */
char *cli_scope_text(const cfg *c, const char *driver);
/* Prints the config's load-time warning (file readable by others) to stderr, if any. */
void cli_config_warnings(const cfg *config);

/* How job events are shown (the callback of job_run / job_start for the CLI commands). */
typedef struct cli_event_printer {
    int events;            /* 1: print the JSON lines on stdout as they come (--events) */
    const char *log_prefix; /* prefix of log lines on stderr, e.g. "Learner Retirement: " */
    int show_debug;        /* also print debug log lines */
    int dry_run;           /* a plan: the result's message is printed even when it stopped early */
    /* collected for the audit log (steps run, in order) */
    audit_steps steps;
    char running[320];     /* the step-in-flight line shown on a terminal, or "" */
    char *current_state;   /* from the job event */
    char *final_state;     /* from the result event */
} cli_event_printer;

/* job_event_fn for the CLI: human lines (one per step on stdout, log lines on stderr with the
 * prefix, dry-run requests) or raw JSON lines. user is a cli_event_printer. */
struct ev_event;
struct job;
void cli_print_event(void *user, struct job *j, const struct ev_event *ev, const char *line);
void cli_event_printer_free(cli_event_printer *p);

/* Retires (or with dry_run plans) one learner in a supervised worker, printing events as
 * cli_print_event does, writing the audit log (not for a dry run); returns the exit status.
 * Defined in cmd_retire.c; used by `retire` and `plan`. */
int cli_retire_one(const cli_globals *g, const char *username, const char *config_file, int dry_run, int events,
                   const char *reason);

/* Installs SIGINT/SIGTERM handlers that increment *counter (for job_run's cancel flag). */
void cli_install_cancel_handlers(volatile sig_atomic_t *counter);

#endif
