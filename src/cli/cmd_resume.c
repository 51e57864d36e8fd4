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
#include <signal.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/learner_job.h"
#include "engine/audit.h"
#include "engine/job.h"
#include "engine/lease.h"
#include "engine/plan.h"

#define RESUME_EXIT_NOTHING 1

static volatile sig_atomic_t resume_cancel;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: retirectl resume USER [--reason TEXT] [--yes] [--events] [--force]\n"
            "\n"
            "For a learner in ERRORED (whose last state is the working state that failed) or stuck in a\n"
            "working state (RETIRING_*): force the state back to the one just before that step (the\n"
            "previous pipeline row's end state, or PENDING), recording who resumed it and why, then\n"
            "retire it as usual from there. USER is the original username.\n"
            "\n"
            "  --reason TEXT   why (recorded at the LMS and in the audit log)\n"
            "  --yes           do not ask for confirmation (required when stdin is not a terminal)\n"
            "  --events        print the JSON-lines job events instead of human text (also --json)\n"
            "  --force         resume even a working state changed less than step_timeout_seconds ago\n"
            "                  (without it that is refused, 253: it may be running on another host)\n"
            "\n"
            "Refused: another retirectl on this host works on the learner, or a fresh working state\n"
            "(253, naming the holder), COMPLETE or ABORTED (254), a state the pipeline does not know\n"
            "(250), PENDING or a *_COMPLETE state (1: nothing to resume, use `retirectl retire`),\n"
            "unknown learner (251).\n"
            "Otherwise the exit status is that of `retire`.\n");
}

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

int cmd_resume(int argc, char **argv, const cli_globals *g)
{
    const char *username = NULL;
    cli_operator_opts o = {NULL, NULL, 0, 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--username", &missing))) {
            username = v;
            continue;
        } else if (missing) {
            fprintf(stderr, "Try 'retirectl resume --help'.\n");
            return CLI_EXIT_USAGE;
        }
        int r = cli_operator_opt(argc, argv, &i, "resume", &o);
        if (r < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if (argv[i][0] == '-') {
            fprintf(stderr, "retirectl resume: unknown option '%s' (see retirectl resume --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!username) {
            username = argv[i];
        } else {
            fprintf(stderr, "retirectl resume: one learner at a time (got '%s' and '%s')\n", username, argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    const char *reason = o.reason, *config_file = o.config_file;
    int yes = o.yes, events = o.events || (g && g->json); /* --json means the events, as for retire */
    if (!username || !*username) {
        fprintf(stderr, "retirectl resume: which learner? usage: retirectl resume USER [--reason TEXT] [--yes]\n");
        return CLI_EXIT_USAGE;
    }

    cli_ctx ctx;
    int rc = cli_open(&ctx, g, config_file, CLI_NEED_VALIDATE | CLI_NEED_LMS | CLI_NEED_REG);
    if (rc) return rc;
    char err[2048] = "";
    int status = 0;
    cJSON *learner = NULL;
    audit_log *audit = NULL;
    lease *held = NULL;
    cli_step_log steps;
    memset(&steps, 0, sizeof steps);
    steps.events = events;
    job_ctx *jc = cli_job_ctx_open(&ctx);
    if (!jc) {
        status = CLI_EXIT_SETUP;
        goto out;
    }

    if ((status = cli_take_lease(ctx.config, username, "retirectl resume", events, &held)) != 0) goto out;
    if ((status = cli_fetch_learner(&ctx, username, &learner)) != 0) goto out;
    if ((status = cli_check_fresh(ctx.config, learner, username, o.force)) != 0) goto out;
    const char *current = cli_learner_state(learner, "current_state");
    const char *last = cli_learner_state(learner, "last_state");
    const cfg_step *rows = ctx.config->steps;
    size_t n_rows = ctx.config->n_steps;
    if (!current) {
        cli_error(ctx.config, "Bad learner response missing current_state or state_name for %s", username);
        status = CLI_EXIT_BAD_LEARNER;
        goto out;
    }

    /* which step failed or is stuck */
    const char *failed_state = NULL;
    if (!strcmp(current, PLAN_ERROR_STATE)) {
        failed_state = last;
    } else if (plan_is_working_state(current, rows, n_rows)) {
        failed_state = current;
    } else if (!strcmp(current, PLAN_COMPLETE_STATE) || !strcmp(current, PLAN_ABORTED_STATE)) {
        cli_error(ctx.config, "%s is in %s: there is nothing to resume (an ended retirement is not restarted; "
                              "use `retirectl reset` to move it on purpose)", username, current);
        status = CLI_EXIT_END_STATE;
        goto out;
    } else if (plan_state_index(current, rows, n_rows) < 0) {
        cli_error(ctx.config, "%s is in %s, a state the configured retirement_pipeline does not know; check the "
                              "config's pipeline against the LMS", username, current);
        status = CLI_EXIT_UNKNOWN_STATE;
        goto out;
    } else {
        cli_error(ctx.config, "%s is in %s: nothing to resume; use `retirectl retire %s` to continue", username,
                  current, username);
        status = RESUME_EXIT_NOTHING;
        goto out;
    }

    /* the state to put the learner back to */
    const char *target = NULL;
    int k = plan_step_of_working_state(failed_state, rows, n_rows);
    if (k >= 0) {
        target = k == 0 ? PLAN_START_STATE : rows[k - 1].end_state;
    } else if (failed_state && (!strcmp(failed_state, PLAN_START_STATE) ||
                                (plan_state_index(failed_state, rows, n_rows) > 0 && !plan_is_end_state(failed_state)))) {
        /* ERRORED from PENDING or from a step's end state: go back to where it was */
        target = failed_state;
    } else {
        cli_error(ctx.config,
                  "%s is ERRORED and its previous state is %s, which is not a step of the configured "
                  "retirement_pipeline; cannot tell which step to retry. Use `retirectl reset --new-state` "
                  "to choose the state, then `retirectl retire`.",
                  username, failed_state ? failed_state : "(none)");
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
    if (!cli_confirm(ctx.config, question, username, yes)) {
        status = CLI_EXIT_USAGE;
        goto out;
    }

    /* the audit log first: if it cannot be written, nothing happens */
    const char *pii[7];
    audit_entry ae;
    audit_entry_init(&ae, "resume");
    ae.reason = reason;
    cli_audit_learner(&ae, learner, username, pii);
    ae.from_state = current;
    ae.to_state = target;
    if ((status = cli_audit_start(&ctx, g, &ae, &audit)) != 0) goto out;

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
    if (lms_update_state(ctx.lms, username, target, message, 1, &le) != 0) {
        cli_error(ctx.config, "could not move %s to %s: %s; the learner stays in %s", username, target, le.message,
                  current);
        ae.outcome = "failed";
        ae.detail = le.message;
        ae.exit_status = CLI_EXIT_SETUP;
        audit_end(audit, &ae, err, sizeof err);
        lms_error_clear(&le);
        status = CLI_EXIT_SETUP;
        goto out;
    }
    if (!events) printf("%s: moved %s -> %s; retiring from there\n", username, current, target);

    cli_install_cancel_handlers(&resume_cancel); /* SIGINT/SIGTERM cancel the job; SIGPIPE ignored */
    job_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.username = username;
    spec.action = JOB_RETIRE;
    spec.label = "resume";
    job_ctx_set_audit(jc, g ? g->operator_name : NULL, reason);
    spec.reason = reason;
    status = job_run(jc, &spec, on_event, &steps, &resume_cancel, err, sizeof err);
    if (err[0] && status == CLI_EXIT_SETUP) cli_error(ctx.config, "%s", err);

    ae.steps = steps.steps.v;
    ae.n_steps = steps.steps.n;
    ae.exit_status = status;
    ae.outcome = steps.outcome[0] ? steps.outcome : "errored"; /* the job's own word, as printed */
    ae.detail = status ? steps.result : NULL;
    if (audit_end(audit, &ae, err, sizeof err) != 0) cli_error(ctx.config, "%s", err);

out:
    lease_release(held);
    cli_step_log_free(&steps);
    audit_close(audit);
    cJSON_Delete(learner);
    if (jc) job_ctx_free(jc);
    cli_close(&ctx);
    return status;
}
