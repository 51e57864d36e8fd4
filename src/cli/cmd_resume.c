/* `retirectl resume USER`: put an ERRORED learner (its last_state is the working state that
 * failed) or one stuck in a working state back to the state just before that step (the
 * previous row's end state, or PENDING) with a forced update that says who resumed it and
 * why, then retire it as retire_one_learner.py would (docs/lms-api.md §11).
 *
 * Exit statuses: those of `retire` for the retirement itself (0, 252, ...); refusals:
 * 254 COMPLETE/ABORTED, 250 unknown state, 251 learner not found, 1 nothing to resume
 * (PENDING or a *_COMPLETE state: use `retire`), 2 usage or no confirmation,
 * 255 setup failed (token, status fetch, audit log, the forced update), 249 bad config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/learner_args.h"
#include "cli/learner_job.h"
#include "engine/audit.h"
#include "engine/job.h"
#include "engine/lease.h"
#include "engine/plan.h"

#define RESUME_EXIT_NOTHING 1

/* Prints a job's events (human or raw) and records finished steps. */
static void on_event(void *user, job *j, const ev_event *ev, const char *line)
{
    (void)j;
    cli_step_log *s = user;
    if (cli_step_log_note(s, ev, line, 1)) {
        if (!s->events) {
            if (!strcmp(ev->status, "skipped"))
                printf("  %-28s skipped (completed in a previous run)\n", ev->start_state ? ev->start_state : "");
            else if (!strcmp(ev->status, "done"))
                printf("  %-28s done   %s.%s  %.2f s\n", ev->start_state ? ev->start_state : "",
                       ev->driver ? ev->driver : "", ev->method ? ev->method : "", ev->elapsed_ms / 1000.0);
            else {
                char msg[512];
                snprintf(msg, sizeof msg, "%s", ev->message ? ev->message : "");
                for (char *c = msg; *c; c++)
                    if (*c == '\n' || *c == '\r') *c = ' ';
                printf("  %-28s FAILED %s.%s: %s\n", ev->start_state ? ev->start_state : "", ev->driver ? ev->driver : "",
                       ev->method ? ev->method : "", cli_inert_tmp(msg));
            }
            fflush(stdout);
        }
    } else if (!s->events && ev->kind == EV_STEP && ev->status && !strcmp(ev->status, "retrying")) {
        fprintf(stderr, "  %-28s retrying (attempt %d): %s\n", ev->start_state ? ev->start_state : "", ev->attempt,
                cli_inert_tmp(ev->message));
    } else if (!s->events && ev->kind == EV_LOG && ev->level &&
               (!strcmp(ev->level, "warn") || !strcmp(ev->level, "error"))) {
        fprintf(stderr, "  %s: %s\n", ev->level, cli_inert_tmp(ev->text));
    } else if (!s->events && ev->kind == EV_RESULT) {
        printf("%s: %s\n", ev->outcome ? ev->outcome : "result", cli_inert_tmp(ev->message));
        fflush(stdout);
    }
}

/* The command line of `retirectl resume`. */
typedef struct {
    const char *username;
    cli_operator_opts o;
} resume_args;

/* Which step failed or is stuck: *failed_state is the learner's last state when ERRORED, its
 * current state when stuck in a working state. 0, or the exit status after saying why there is
 * nothing to resume. */
static int find_failed_state(const cli_ctx *ctx, const char *username, const char *current, const char *last,
                             const char **failed_state)
{
    const cfg_step *rows = ctx->config->steps;
    size_t n_rows = ctx->config->n_steps;
    if (!strcmp(current, PLAN_ERROR_STATE)) {
        *failed_state = last;
        return 0;
    }
    if (plan_is_working_state(current, rows, n_rows)) {
        *failed_state = current;
        return 0;
    }
    if (!strcmp(current, PLAN_COMPLETE_STATE) || !strcmp(current, PLAN_ABORTED_STATE)) {
        cli_error(ctx->config, "%s is in %s: there is nothing to resume (an ended retirement is not restarted; "
                               "use `retirectl reset` to move it on purpose)", username, current);
        return CLI_EXIT_END_STATE;
    }
    if (plan_state_index(current, rows, n_rows) < 0) {
        cli_error(ctx->config, "%s is in %s, a state the configured retirement_pipeline does not know; check the "
                               "config's pipeline against the LMS", username, current);
        return CLI_EXIT_UNKNOWN_STATE;
    }
    cli_error(ctx->config, "%s is in %s: nothing to resume; use `retirectl retire %s` to continue", username,
              current, username);
    return RESUME_EXIT_NOTHING;
}

/* The state to put the learner back to, or NULL after saying the pipeline does not know
 * failed_state. */
static const char *resume_target(const cli_ctx *ctx, const char *username, const char *failed_state)
{
    const cfg_step *rows = ctx->config->steps;
    size_t n_rows = ctx->config->n_steps;
    int k = plan_step_of_working_state(failed_state, rows, n_rows);
    if (k >= 0) return k == 0 ? PLAN_START_STATE : rows[k - 1].end_state;
    if (failed_state && (!strcmp(failed_state, PLAN_START_STATE) ||
                         (plan_state_index(failed_state, rows, n_rows) > 0 && !plan_is_end_state(failed_state))))
        return failed_state; /* ERRORED from PENDING or from a step's end state: go back to where it was */
    cli_error(ctx->config,
              "%s is ERRORED and its previous state is %s, which is not a step of the configured "
              "retirement_pipeline; cannot tell which step to retry. Use `retirectl reset --new-state` "
              "to choose the state, then `retirectl retire`.",
              username, failed_state ? failed_state : "(none)");
    return NULL;
}

/* Moves the learner back to target (forced), with the operator and reason in the LMS's
 * response text. 0, or the exit status after the audit end line. */
static int move_back(const cli_ctx *ctx, audit_log *audit, audit_entry *ae, const resume_args *a,
                     const char *current, const char *failed_state, const char *target)
{
    const char *reason = a->o.reason;
    char message[1536];
    if (failed_state != current) {
        snprintf(message, sizeof message, "Resumed by %s with retirectl resume from %s (failed in %s): %s",
                 audit_operator(audit), current, failed_state, reason && *reason ? reason : "no reason given");
    } else {
        snprintf(message, sizeof message, "Resumed by %s with retirectl resume from %s: %s", audit_operator(audit),
                 current, reason && *reason ? reason : "no reason given");
    }
    lms_error le;
    memset(&le, 0, sizeof le);
    if (lms_update_state(ctx->lms, a->username, target, message, 1, &le) != 0) {
        cli_error(ctx->config, "could not move %s to %s: %s; the learner stays in %s", a->username, target,
                  le.message, current);
        ae->outcome = "failed";
        ae->detail = le.message;
        ae->exit_status = CLI_EXIT_SETUP;
        char err[2048] = "";
        audit_end(audit, ae, err, sizeof err);
        lms_error_clear(&le);
        return CLI_EXIT_SETUP;
    }
    if (!a->o.events) printf("%s: moved %s -> %s; retiring from there\n", a->username, current, target);
    return 0;
}

/* Retires the learner from where it now is, as a job, and writes the audit end line. The exit
 * status. */
static int run_retire(const cli_ctx *ctx, const cli_globals *g, job_ctx *jc, const resume_args *a,
                      audit_log *audit, audit_entry *ae, cli_step_log *steps)
{
    job_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.username = a->username;
    spec.action = JOB_RETIRE;
    spec.label = "resume";
    int status = cli_run_learner_job(ctx->config, g, jc, &spec, a->o.reason, on_event, steps);
    cli_audit_job_end(ctx->config, audit, ae, steps, status);
    return status;
}

static int resume_exec(const cli_args *args, const cli_globals *g)
{
    resume_args a;
    memset(&a, 0, sizeof a);
    cli_learner_args la;
    int status = cli_learner_of(args, g, CLI_LA_EVENTS, "pass USER (see retirectl resume --help)", &la);
    if (status >= 0) return status;
    a.username = la.username;
    cli_operator_of(args, g, &a.o);
    const char *username = a.username;

    cli_learner_run r;
    if ((status = cli_learner_run_open(&r, g, &a.o, CLI_NEED_VALIDATE | CLI_NEED_LMS | CLI_NEED_REG)) != 0)
        return status;
    const cli_ctx *ctx = &r.ctx;
    if (!(r.jc = cli_job_ctx_open(&r.ctx))) {
        status = CLI_EXIT_SETUP;
        goto out;
    }
    if ((status = cli_learner_hold(&r, username, "retirectl resume", &a.o)) != 0) goto out;
    const char *current = r.current, *last = cli_learner_state(r.learner, "last_state");
    const char *failed_state = NULL;
    if ((status = find_failed_state(ctx, username, current, last, &failed_state)) != 0) goto out;
    const char *target = resume_target(ctx, username, failed_state);
    if (!target) {
        status = CLI_EXIT_UNKNOWN_STATE;
        goto out;
    }

    char question[1024];
    if (failed_state != current) {
        snprintf(question, sizeof question, "Resume %s: %s (failed in %s) -> %s, then retire from there?", username,
                 current, failed_state, target);
    } else {
        snprintf(question, sizeof question, "Resume %s: stuck in %s -> %s, then retire from there?", username,
                 current, target);
    }
    if (!cli_confirm(ctx->config, question, username, a.o.yes)) {
        status = CLI_EXIT_USAGE;
        goto out;
    }

    /* the audit log first: if it cannot be written, nothing happens */
    const char *pii[7];
    audit_entry ae;
    audit_entry_init(&ae, "resume");
    ae.reason = a.o.reason;
    cli_audit_learner(&ae, r.learner, username, pii);
    ae.from_state = current;
    ae.to_state = target;
    if ((status = cli_audit_start(&r.ctx, g, &ae, &r.audit)) != 0) goto out;
    if ((status = move_back(ctx, r.audit, &ae, &a, current, failed_state, target)) != 0) goto out;
    status = run_retire(ctx, g, r.jc, &a, r.audit, &ae, &r.steps);

out:
    cli_learner_run_close(&r);
    return status;
}

static const cli_opt resume_options[] = {
    {"--username", "USER", "the upstream spelling of USER", CLI_OPT_HIDDEN, NULL},
    CLI_OPT_END,
};

const cli_cmd_entry cmd_resume_entry = {
    .name = "resume",
    .args = "[USER]",
    .summary = "put an ERRORED or stuck learner back before the failed step, then retire",
    .about = "For a learner in ERRORED (whose last state is the working state that failed) or stuck in a\n"
             "working state (RETIRING_*): force the state back to the one just before that step (the\n"
             "previous pipeline row's end state, or PENDING), recording who resumed it and why, then\n"
             "retire it as usual from there. USER is the original username.\n",
    .opts = resume_options,
    .shared_opts = cli_operator_options,
    .epilogue = "Refused: another retirectl on this host works on the learner, or a fresh working state\n"
                "(253, naming the holder), COMPLETE or ABORTED (254), a state the pipeline does not know\n"
                "(250), PENDING or a *_COMPLETE state (1: nothing to resume, use `retirectl retire`),\n"
                "unknown learner (251).\n"
                "Otherwise the exit status is that of `retire`.\n",
    .exec = resume_exec,
};

