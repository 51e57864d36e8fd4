/* `retirectl retire USER`: retire one learner exactly as retire_one_learner.py (docs/lms-api.md §9.1),
 * in a supervised worker process; `--dry-run` is `plan`; `--all` is retire_all.c's cmd_retire_all_entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/learner_args.h"
#include "cli/learner_job.h"
#include "engine/audit.h"
#include "engine/job.h"
#include "engine/lease.h"
#include "common/xalloc.h"

static const cli_opt retire_options[] = {
    CLI_OPT_ROW_USERNAME,
    CLI_OPT_ROW_CONFIG_FILE,
    {"--dry-run", NULL, "show what would run, skip or fail and the requests; change nothing", 0, NULL},
    CLI_OPT_ROW_EVENTS,
    CLI_OPT_ROW_JSON("the same as --events"),
    CLI_OPT_ROW_REASON,
    {"--all", NULL, "retire the ready queue (see retirectl retire --all --help)", CLI_OPT_NO_USAGE, NULL},
    CLI_OPT_END,
};

static int retire_exec(const cli_args *a, const cli_globals *g);

const cli_cmd_entry cmd_retire_entry = {
    .name = "retire",
    .args = "[USER]",
    .summary = "retire one learner (retire_one_learner.py), or --all",
    .more_usage = "retirectl retire --username USER --config_file FILE\n"
                  "retirectl retire --all [-j N] ...   (see retirectl retire --all --help)",
    .about = "Retires one learner as retire_one_learner.py does: reads the learner's retirement status,\n"
             "runs every pipeline step not completed in a previous run (PATCH start state, call the\n"
             "driver, PATCH end state), then sets COMPLETE; on a failure sets ERRORED with the reason.\n"
             "USER is the learner's original username (also $RETIREMENT_USERNAME).\n",
    .opts = retire_options,
    .epilogue = "Output: one line per step on stdout; the upstream log lines on stderr, prefixed\n"
                "'Learner Retirement: '. Ctrl-C lets the step in flight finish, then stops.\n"
                "One job per learner: while another retirectl on this host works on the learner, nothing is\n"
                "done and the exit status is 253, naming its pid, command, host and start time.\n"
                "Exit status: 0 done, 255 setup failed, 254 learner in an end state, 253 in a working state,\n"
                "252 error while retiring (learner ERRORED), 251 learner not found or bad record,\n"
                "250 unknown state, 249 bad or missing config, 130 cancelled.\n",
    .args_hint = "; use retire --all for the queue",
    .variant = &cmd_retire_all_entry,
    .variant_flag = "--all",
    .exec = retire_exec,
};

/* What a retire keeps from its job's events for the audit end line besides the printer's steps. */
typedef struct retire_watch {
    cli_event_printer pr;
    long user_id, retirement_id;
    char outcome[32];
    char *message; /* the result message (secret-free) */
    /* the audit start line, written by the gate once the learner's ids are known */
    audit_log *audit;
    audit_entry *ae;
    const cfg *config;
    const char *username;
    int began;       /* the start line is written */
    int gate_failed; /* it could not be: the job was stopped before any change */
} retire_watch;

/* The gate (job_ctx_set_gate): the learner was read, nothing is changed yet; the audit start
 * line is written now, with user_id and retirement_id. -1 stops the job when it cannot be. */
static int retire_gate(void *user, job *j)
{
    retire_watch *w = user;
    if (w->began || !w->audit) return 0;
    w->ae->user_id = job_lms_user_id(j) > 0 ? job_lms_user_id(j) : -1;
    w->ae->retirement_id = job_retirement_id(j) > 0 ? job_retirement_id(j) : -1;
    char err[2048];
    if (audit_begin(w->audit, w->ae, err, sizeof err) != 0) {
        cli_error(w->config, "%s; nothing was done for %s", err, w->username);
        w->gate_failed = 1;
        return -1;
    }
    w->began = 1;
    return 0;
}

/* Prints like cli_print_event and keeps the learner ids, outcome and reason of the result. */
static void on_retire_event(void *user, job *j, const ev_event *ev, const char *line)
{
    retire_watch *w = user;
    cli_print_event(&w->pr, j, ev, line);
    if (ev->kind != EV_RESULT) return;
    w->user_id = job_lms_user_id(j);
    w->retirement_id = job_retirement_id(j);
    snprintf(w->outcome, sizeof w->outcome, "%s", job_outcome(j));
    free(w->message);
    w->message = xstrdup(job_message(j));
}

int cli_retire_one(const cli_globals *g, const char *username, const char *config_file, int dry_run, int events,
                   const char *reason)
{
    retire_watch watch;
    memset(&watch, 0, sizeof watch);
    cli_event_printer pr;
    memset(&pr, 0, sizeof pr);
    pr.events = events;
    pr.log_prefix = "Learner Retirement: ";
    pr.dry_run = dry_run;
    char *shown_path = cli_config_path(g, config_file);
    if (!events)
        fprintf(stderr, "Learner Retirement: Starting learner retirement for %s using config file %s\n",
                cli_inert_tmp(username), shown_path ? cli_inert_tmp(shown_path) : "None");
    free(shown_path);

    cli_ctx ctx;
    int rc = cli_open(&ctx, g, config_file, CLI_NEED_LMS | CLI_NEED_REG);
    if (rc) return rc;
    char err[4096] = "";
    /* upstream: a missing service URL and a failed client set-up are ERR_SETUP_FAILED */
    if (cfg_validate(ctx.config, err, sizeof err) != 0) {
        cli_error(ctx.config, "%s", err);
        cli_close(&ctx);
        return CLI_EXIT_SETUP;
    }
    audit_log *audit = NULL;
    audit_entry ae;
    const char *pii[] = {username, NULL};
    lease *held = NULL;
    if (!dry_run && (rc = cli_take_lease(ctx.config, username, "retirectl retire", events, &held)) != 0) {
        cli_close(&ctx);
        return rc;
    }
    if (!dry_run) {
        if (audit_open(ctx.config, g->operator_name, &audit, err, sizeof err) != 0) {
            cli_error(ctx.config, "%s; nothing was done for %s", err, username);
            lease_release(held);
            cli_close(&ctx);
            return CLI_EXIT_SETUP;
        }
        audit_entry_init(&ae, "retire");
        ae.reason = reason;
        ae.pii = pii;
        /* the start line is written by retire_gate, once the worker has read the learner */
        watch.audit = audit;
        watch.ae = &ae;
        watch.config = ctx.config;
        watch.username = username;
    }
    job_ctx *jc = job_ctx_new_with(ctx.config, ctx.http, ctx.lms, ctx.registry, err, sizeof err);
    int status;
    if (!jc) {
        cli_error(ctx.config, "Unexpected error occurred! %s", err);
        status = CLI_EXIT_SETUP;
    } else if (job_ctx_prepare(jc, err, sizeof err) != 0) {
        cli_error(ctx.config, "Unexpected error occurred!\n%s", err);
        status = CLI_EXIT_SETUP;
    } else {
        static volatile sig_atomic_t cancel;
        cancel = 0;
        cli_install_cancel_handlers(&cancel);
        job_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.username = username;
        spec.action = dry_run ? JOB_PLAN : JOB_RETIRE;
        spec.dry_run = dry_run;
        if (audit) {
            job_ctx_set_audit(jc, g ? g->operator_name : NULL, reason);
            job_ctx_set_gate(jc, retire_gate, &watch);
        }
        spec.reason = reason;
        watch.pr = pr;
        status = job_run(jc, &spec, on_retire_event, &watch, &cancel, err, sizeof err);
        pr = watch.pr;
        if (err[0] && status == 255 && !pr.final_state && !pr.current_state) cli_error(ctx.config, "%s", err);
    }
    if (audit && !watch.began && !watch.gate_failed && audit_begin(audit, &ae, err, sizeof err) == 0)
        watch.began = 1; /* the job ended before reading the learner (set-up): start and end still pair */
    if (audit && watch.began) {
        ae.steps = pr.steps.v;
        ae.n_steps = pr.steps.n;
        ae.from_state = pr.current_state;
        ae.to_state = pr.final_state;
        ae.exit_status = status;
        /* the job's own outcome word, as in the text output and the events */
        ae.outcome = watch.outcome[0] ? watch.outcome : "errored";
        ae.user_id = watch.user_id > 0 ? watch.user_id : -1;
        ae.retirement_id = watch.retirement_id > 0 ? watch.retirement_id : -1;
        ae.detail = status != 0 && watch.message && *watch.message ? watch.message : NULL;
        if (audit_end(audit, &ae, err, sizeof err) != 0) {
            /* the retirement happened; its status stays true, and the gap in the log is loud */
            cli_error(ctx.config,
                      "AUDIT LOG INCOMPLETE: %s. The retirement itself finished (%s, exit status %d) but its audit "
                      "end line is missing; record it by hand",
                      err, ae.outcome, status);
        }
    }
    audit_close(audit);
    lease_release(held);
    free(watch.message);
    job_ctx_free(jc);
    cli_event_printer_free(&pr);
    cli_close(&ctx);
    return status;
}

static int retire_exec(const cli_args *a, const cli_globals *g)
{
    cli_learner_args la;
    int rc = cli_learner_of(a, g, CLI_LA_EVENTS | CLI_LA_DRY_RUN | CLI_LA_REASON | CLI_LA_ENV_USERNAME,
                            "pass USER, --username USER or set RETIREMENT_USERNAME", &la);
    if (rc >= 0) return rc;
    return cli_retire_one(g, la.username, la.config_file, la.dry_run, la.events, la.reason);
}

