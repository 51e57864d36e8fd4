/* `retirectl rerun USER DRIVER.METHOD`: run one driver method for one learner. When the method
 * is a pipeline step it is bracketed as the pipeline would: forced to the step's start state,
 * run, then forced back to the state the learner was in (or ERRORED with the message on
 * failure), so the LMS record stays true. With --advance (only for the step an ERRORED learner
 * failed at) success leaves the learner at the step's end state instead, so `retire` continues
 * from the next step without calling this one again (docs/console.md). Otherwise the method is
 * just called.
 *
 * Exit statuses: 0 done, 252 the method failed (learner ERRORED when bracketed),
 * 251 learner not found, 253 the learner is in a working state (a retirement may be running),
 * 2 usage, unknown DRIVER.METHOD or no confirmation, 255 setup (token, status fetch, audit
 * log), 249 bad config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/learner_job.h"
#include "engine/audit.h"
#include "engine/job.h"
#include "engine/lease.h"
#include "engine/plan.h"

static void on_event(void *user, job *j, const ev_event *ev, const char *line)
{
    (void)j;
    cli_step_log *s = user;
    if (cli_step_log_note(s, ev, line, 0)) {
        if (!s->events) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", ev->message ? ev->message : "");
            for (char *c = msg; *c; c++)
                if (*c == '\n' || *c == '\r') *c = ' ';
            printf("  %s.%s %s%s%s (%.2f s)\n", ev->driver ? ev->driver : "", ev->method ? ev->method : "",
                   !strcmp(ev->status, "done") ? "done" : "FAILED", msg[0] ? ": " : "", cli_inert_tmp(msg),
                   ev->elapsed_ms / 1000.0);
        }
    } else if (!s->events && ev->kind == EV_STEP && ev->status && !strcmp(ev->status, "retrying")) {
        fprintf(stderr, "  retrying (attempt %d): %s\n", ev->attempt, cli_inert_tmp(ev->message));
    } else if (!s->events && ev->kind == EV_LOG && ev->level &&
               (!strcmp(ev->level, "warn") || !strcmp(ev->level, "error"))) {
        fprintf(stderr, "  %s: %s\n", ev->level, cli_inert_tmp(ev->text));
    } else if (ev->kind == EV_RESULT) {
        if (!s->events) printf("%s: %s\n", ev->outcome ? ev->outcome : "result", cli_inert_tmp(ev->message));
    }
    fflush(stdout);
}

/* The command line of `retirectl rerun`. */
typedef struct {
    const char *username;
    char driver[256], method[256];
    cli_operator_opts o;
    int advance;
} rerun_args;

/* Reads the parsed line into out. -1 to go on, else CLI_EXIT_USAGE after saying why. */
static int rerun_args_of(const cli_args *a, const cli_globals *g, rerun_args *out)
{
    memset(out, 0, sizeof *out);
    cli_operator_of(a, g, &out->o);
    out->advance = cli_args_has(a, "--advance") > 0;
    out->username = cli_args_arg(a, 0);
    const char *target = cli_args_arg(a, 1);
    const char *dot = target ? strrchr(target, '.') : NULL;
    if (!out->username || !*out->username || !dot || dot == target || !dot[1]) {
        fprintf(stderr, "retirectl rerun: usage: retirectl rerun USER DRIVER.METHOD (e.g. LMS.retirement_retire_forum)\n");
        return CLI_EXIT_USAGE;
    }
    snprintf(out->driver, sizeof out->driver, "%.*s", (int)(dot - target), target);
    snprintf(out->method, sizeof out->method, "%s", dot + 1);
    return -1;
}

/* The driver must exist before anything else happens; a built-in's method is checked here, a
 * plugin's in the worker (plugins are loaded only in worker processes, never here). 0, or the
 * exit status after naming the drivers or methods there are. */
static int check_driver(const cli_ctx *ctx, const char *driver, const char *method)
{
    const reg_driver_info *info = NULL;
    for (size_t i = 0; i < reg_count(ctx->registry); i++) {
        const reg_driver_info *ri = reg_info(ctx->registry, i);
        if (ri && ri->name && !strcmp(ri->name, driver)) {
            info = ri;
            break;
        }
    }
    char list[1024] = "";
    if (!info) {
        for (size_t i = 0; i < reg_count(ctx->registry); i++) {
            const reg_driver_info *ri = reg_info(ctx->registry, i);
            size_t l = strlen(list);
            if (ri && ri->name) snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", ri->name);
        }
        cli_error(ctx->config, "cannot run %s.%s: no driver is called %s; the drivers are: %s (see `retirectl drivers`)",
                  driver, method, driver, list);
        return CLI_EXIT_USAGE;
    }
    if (info->builtin && info->driver && !reg_method(info->driver, method)) {
        const rd_method *m;
        for (size_t k = 0; (m = reg_method_at(info->driver, k)) != NULL; k++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", m->name);
        }
        cli_error(ctx->config, "driver %s has no method %s; its methods are: %s", driver, method, list);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* The pipeline row that calls driver.method, or NULL. */
static const cfg_step *pipeline_row(const cfg *config, const char *driver, const char *method)
{
    for (size_t i = 0; i < config->n_steps; i++) {
        const cfg_step *s = &config->steps[i];
        if (s->driver && s->method && !strcmp(s->driver, driver) && !strcmp(s->method, method)) return s;
    }
    return NULL;
}

/* Refuses a pipeline step for a learner in a working state, and --advance for anything but the
 * step an ERRORED learner failed at. 0, or the exit status after saying why. */
static int check_state(const cli_ctx *ctx, const rerun_args *a, const cJSON *learner, const char *current,
                       const cfg_step *row)
{
    const char *username = a->username;
    if (row && plan_is_working_state(current, ctx->config->steps, ctx->config->n_steps)) {
        cli_error(ctx->config,
                  "%s is in the working state %s: a retirement may be running for it right now. If it is stuck, "
                  "use `retirectl resume %s` instead; nothing was done.",
                  username, current, username);
        return CLI_EXIT_WORKING_STATE;
    }
    if (!a->advance) return 0;
    const char *last = cli_learner_state(learner, "last_state");
    if (!row || strcmp(current, PLAN_ERROR_STATE) != 0 || !last || strcmp(last, row->start_state) != 0) {
        cli_error(ctx->config,
                  "--advance continues the pipeline only after rerunning the step an ERRORED learner failed at; "
                  "%s is %s (last state %s) and %s.%s %s; nothing was done. Use `retirectl resume %s`, or rerun "
                  "without --advance.",
                  username, current, last && *last ? last : "-", a->driver, a->method,
                  row ? "is not the step it failed at" : "is not a pipeline step", username);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* Asks the operator (or takes --yes) whether to go ahead, saying what will happen. */
static int confirm(const cli_ctx *ctx, const rerun_args *a, const char *current, const cfg_step *row,
                   const char *after)
{
    char question[1024];
    const char *driver = a->driver, *method = a->method, *username = a->username;
    if (row && a->advance)
        snprintf(question, sizeof question,
                 "Rerun %s.%s for %s: move %s -> %s, run it, then %s (ERRORED if it fails), ready to continue with "
                 "`retirectl retire %s`?", driver, method, username, current, row->start_state, after, username);
    else if (row)
        snprintf(question, sizeof question,
                 "Rerun %s.%s for %s: move %s -> %s, run it, then back to %s (ERRORED if it fails)?", driver, method,
                 username, current, row->start_state, current);
    else
        snprintf(question, sizeof question, "Run %s.%s for %s (no pipeline step: the state %s is left alone)?",
                 driver, method, username, current);
    return cli_confirm(ctx->config, question, username, a->o.yes);
}

/* Runs the method as a job (bracketed when row is set, after: the state success leaves) with
 * the audit begin and end lines around it. The exit status. */
static int run_rerun(cli_ctx *ctx, const cli_globals *g, job_ctx *jc, const rerun_args *a, const cJSON *learner,
                     const char *current, const cfg_step *row, const char *after, cli_step_log *steps,
                     audit_log **audit)
{
    const char *pii[7];
    audit_entry ae;
    audit_entry_init(&ae, "rerun");
    ae.reason = a->o.reason;
    cli_audit_learner(&ae, learner, a->username, pii);
    ae.driver = a->driver;
    ae.method = a->method;
    ae.from_state = current;
    ae.to_state = row ? after : NULL;
    int status = cli_audit_start(ctx, g, &ae, audit);
    if (status != 0) return status;

    job_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.username = a->username;
    spec.action = JOB_RERUN;
    spec.label = "rerun";
    spec.driver = a->driver;
    spec.method = a->method;
    if (row) {
        spec.bracket_start = row->start_state;
        spec.bracket_end = after;
    }
    status = cli_run_learner_job(ctx->config, g, jc, &spec, a->o.reason, on_event, steps);
    ae.to_state = row ? (status == 0 ? after : PLAN_ERROR_STATE) : NULL;
    cli_audit_job_end(ctx->config, *audit, &ae, steps, status);
    return status;
}

static int rerun_exec(const cli_args *args, const cli_globals *g)
{
    rerun_args a;
    int status = rerun_args_of(args, g, &a);
    if (status >= 0) return status;
    cli_learner_run r;
    if ((status = cli_learner_run_open(&r, g, &a.o, CLI_NEED_LMS | CLI_NEED_REG)) != 0) return status;
    if ((status = check_driver(&r.ctx, a.driver, a.method)) != 0) goto out;
    if (!(r.jc = cli_job_ctx_open(&r.ctx))) {
        status = CLI_EXIT_SETUP;
        goto out;
    }
    if ((status = cli_learner_hold(&r, a.username, "retirectl rerun", &a.o)) != 0) goto out;
    const char *current = r.current;
    const cfg_step *row = pipeline_row(r.ctx.config, a.driver, a.method); /* a pipeline step? */
    if ((status = check_state(&r.ctx, &a, r.learner, current, row)) != 0) goto out;
    const char *after = row && a.advance ? row->end_state : current; /* the state success leaves */
    if (!confirm(&r.ctx, &a, current, row, after)) {
        status = CLI_EXIT_USAGE;
        goto out;
    }
    status = run_rerun(&r.ctx, g, r.jc, &a, r.learner, current, row, after, &r.steps, &r.audit);

out:
    cli_learner_run_close(&r);
    return status;
}

static const cli_opt rerun_options[] = {
    {"--advance", NULL,
     "only for the step an ERRORED learner failed at: on success\n"
     "leave it at the step's end state, so `retirectl retire USER`\n"
     "continues from the next step (this step is not called again)",
     0, NULL},
    CLI_OPT_END,
};

const cli_cmd_entry cmd_rerun_entry = {
    .name = "rerun",
    .args = "USER DRIVER.METHOD",
    .summary = "run one driver method for one learner",
    .about = "Run one driver method (e.g. LMS.retirement_retire_forum, BRAZE.delete_user) for one learner.\n"
             "If the method is a step of the configured retirement_pipeline, the learner is forced to the\n"
             "step's start state first, and after success forced back to the state it was in (after a\n"
             "failure it is left in ERRORED with the message), as the pipeline records a step. Other\n"
             "methods are simply called. USER is the original username.\n",
    .opts = rerun_options,
    .shared_opts = cli_operator_options,
    .epilogue = "One job per learner: refused with exit 253, naming the holder, while another retirectl on\n"
                "this host works on the learner.\n"
                "Exit status: 0 done, 252 the method failed (learner ERRORED when bracketed), 251 learner\n"
                "not found, 253 a working state (a retirement may be running), 2 usage, unknown\n"
                "DRIVER.METHOD or no confirmation, 255 setup failed (token, status fetch, audit log),\n"
                "249 bad config.\n",
    .exec = rerun_exec,
};

