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
#include <signal.h>
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

static volatile sig_atomic_t rerun_cancel;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: retirectl rerun USER DRIVER.METHOD [--advance] [--reason TEXT] [--yes] [--events] [--force]\n"
            "\n"
            "Run one driver method (e.g. LMS.retirement_retire_forum, BRAZE.delete_user) for one learner.\n"
            "If the method is a step of the configured retirement_pipeline, the learner is forced to the\n"
            "step's start state first, and after success forced back to the state it was in (after a\n"
            "failure it is left in ERRORED with the message), as the pipeline records a step. Other\n"
            "methods are simply called. USER is the original username.\n"
            "\n"
            "  --advance       only for the step an ERRORED learner failed at: on success leave it at the\n"
            "                  step's end state, so `retirectl retire USER` continues from the next step\n"
            "                  (this step is not called again)\n"
            "  --reason TEXT   why (audit log)\n"
            "  --yes           do not ask for confirmation (required when stdin is not a terminal)\n"
            "  --events        print the JSON-lines job events instead of human text (also --json)\n"
            "  --force         run even when the learner is in a working state changed less than\n"
            "                  step_timeout_seconds ago (it may be running on another host)\n"
            "\n"
            "One job per learner: refused with exit 253, naming the holder, while another retirectl on\n"
            "this host works on the learner.\n");
}

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

int cmd_rerun(int argc, char **argv, const cli_globals *g)
{
    const char *username = NULL, *target = NULL;
    cli_operator_opts o = {NULL, NULL, 0, 0, 0};
    int advance = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--advance")) {
            advance = 1;
            continue;
        }
        int r = cli_operator_opt(argc, argv, &i, "rerun", &o);
        if (r < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if (argv[i][0] == '-') {
            fprintf(stderr, "retirectl rerun: unknown option '%s' (see retirectl rerun --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!username) {
            username = argv[i];
        } else if (!target) {
            target = argv[i];
        } else {
            fprintf(stderr, "retirectl rerun: unexpected argument '%s': give USER and DRIVER.METHOD only (see retirectl rerun --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    const char *reason = o.reason, *config_file = o.config_file;
    int yes = o.yes, events = o.events || (g && g->json); /* --json means the events, as for retire */
    const char *dot = target ? strrchr(target, '.') : NULL;
    if (!username || !*username || !dot || dot == target || !dot[1]) {
        fprintf(stderr, "retirectl rerun: usage: retirectl rerun USER DRIVER.METHOD (e.g. LMS.retirement_retire_forum)\n");
        return CLI_EXIT_USAGE;
    }
    char driver[256], method[256];
    snprintf(driver, sizeof driver, "%.*s", (int)(dot - target), target);
    snprintf(method, sizeof method, "%s", dot + 1);

    cli_ctx ctx;
    int rc = cli_open(&ctx, g, config_file, CLI_NEED_LMS | CLI_NEED_REG);
    if (rc) return rc;
    char err[2048] = "";
    int status = 0;
    cJSON *learner = NULL;
    audit_log *audit = NULL;
    lease *held = NULL;
    cli_step_log steps;
    memset(&steps, 0, sizeof steps);
    steps.events = events;
    job_ctx *jc = NULL;

    /* the driver must exist before anything else happens; a built-in's method is checked here,
     * a plugin's in the worker (plugins are loaded only in worker processes, never here) */
    const reg_driver_info *info = NULL;
    for (size_t i = 0; i < reg_count(ctx.registry); i++) {
        const reg_driver_info *ri = reg_info(ctx.registry, i);
        if (ri && ri->name && !strcmp(ri->name, driver)) {
            info = ri;
            break;
        }
    }
    if (!info) {
        char list[1024] = "";
        for (size_t i = 0; i < reg_count(ctx.registry); i++) {
            const reg_driver_info *ri = reg_info(ctx.registry, i);
            size_t l = strlen(list);
            if (ri && ri->name) snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", ri->name);
        }
        cli_error(ctx.config, "cannot run %s.%s: no driver is called %s; the drivers are: %s (see `retirectl drivers`)",
                  driver, method, driver, list);
        status = CLI_EXIT_USAGE;
        goto out;
    }
    if (info->builtin && info->driver && !reg_method(info->driver, method)) {
        char list[1024] = "";
        const rd_method *m;
        for (size_t k = 0; (m = reg_method_at(info->driver, k)) != NULL; k++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", m->name);
        }
        cli_error(ctx.config, "driver %s has no method %s; its methods are: %s", driver, method, list);
        status = CLI_EXIT_USAGE;
        goto out;
    }

    if (!(jc = cli_job_ctx_open(&ctx))) {
        status = CLI_EXIT_SETUP;
        goto out;
    }
    if ((status = cli_take_lease(ctx.config, username, "retirectl rerun", events, &held)) != 0) goto out;
    if ((status = cli_fetch_learner(&ctx, username, &learner)) != 0) goto out;
    if ((status = cli_check_fresh(ctx.config, learner, username, o.force)) != 0) goto out;
    const char *current = cli_learner_state(learner, "current_state");
    if (!current) {
        cli_error(ctx.config, "Bad learner response missing current_state or state_name for %s", username);
        status = CLI_EXIT_BAD_LEARNER;
        goto out;
    }

    /* a pipeline step? */
    const cfg_step *row = NULL;
    for (size_t i = 0; i < ctx.config->n_steps; i++) {
        const cfg_step *s = &ctx.config->steps[i];
        if (s->driver && s->method && !strcmp(s->driver, driver) && !strcmp(s->method, method)) {
            row = s;
            break;
        }
    }
    if (row && plan_is_working_state(current, ctx.config->steps, ctx.config->n_steps)) {
        cli_error(ctx.config,
                  "%s is in the working state %s: a retirement may be running for it right now. If it is stuck, "
                  "use `retirectl resume %s` instead; nothing was done.",
                  username, current, username);
        status = CLI_EXIT_WORKING_STATE;
        goto out;
    }

    if (advance) {
        const char *last = cli_learner_state(learner, "last_state");
        if (!row || strcmp(current, PLAN_ERROR_STATE) != 0 || !last || strcmp(last, row->start_state) != 0) {
            cli_error(ctx.config,
                      "--advance continues the pipeline only after rerunning the step an ERRORED learner failed at; "
                      "%s is %s (last state %s) and %s.%s %s; nothing was done. Use `retirectl resume %s`, or rerun "
                      "without --advance.",
                      username, current, last && *last ? last : "-", driver, method,
                      row ? "is not the step it failed at" : "is not a pipeline step", username);
            status = CLI_EXIT_USAGE;
            goto out;
        }
    }
    const char *after = row && advance ? row->end_state : current; /* the state success leaves */

    char question[1024];
    if (row && advance)
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
    if (!cli_confirm(ctx.config, question, username, yes)) {
        status = CLI_EXIT_USAGE;
        goto out;
    }

    const char *pii[7];
    audit_entry ae;
    audit_entry_init(&ae, "rerun");
    ae.reason = reason;
    cli_audit_learner(&ae, learner, username, pii);
    ae.driver = driver;
    ae.method = method;
    ae.from_state = current;
    ae.to_state = row ? after : NULL;
    if ((status = cli_audit_start(&ctx, g, &ae, &audit)) != 0) goto out;

    cli_install_cancel_handlers(&rerun_cancel); /* SIGINT/SIGTERM cancel the job; SIGPIPE ignored */
    job_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.username = username;
    spec.action = JOB_RERUN;
    spec.label = "rerun";
    spec.reason = reason;
    spec.driver = driver;
    spec.method = method;
    if (row) {
        spec.bracket_start = row->start_state;
        spec.bracket_end = after;
    }
    job_ctx_set_audit(jc, g ? g->operator_name : NULL, reason);
    status = job_run(jc, &spec, on_event, &steps, &rerun_cancel, err, sizeof err);
    if (err[0] && status == CLI_EXIT_SETUP) cli_error(ctx.config, "%s", err);

    ae.steps = steps.steps.v;
    ae.n_steps = steps.steps.n;
    ae.exit_status = status;
    ae.to_state = row ? (status == 0 ? after : PLAN_ERROR_STATE) : NULL;
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
