/* learner_job: helpers shared by rerun and resume. See learner_job.h. */
#include "cli/learner_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/common.h"
#include "cli/learner_args.h"
#include "engine/ev.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "engine/job.h"
#include "engine/lease.h"
#include "engine/lms.h"

int cli_step_log_note(cli_step_log *s, const ev_event *ev, const char *line, int with_skipped)
{
    if (s->events && line) {
        fputs(line, stdout);
        fflush(stdout);
    }
    if (ev->kind == EV_RESULT) {
        snprintf(s->result, sizeof s->result, "%s", ev->message ? ev->message : "");
        snprintf(s->outcome, sizeof s->outcome, "%s", ev->outcome ? ev->outcome : "");
        return 0;
    }
    return audit_steps_note(&s->steps, ev, with_skipped);
}

void cli_step_log_free(cli_step_log *s)
{
    audit_steps_free(&s->steps);
}

const cli_opt cli_operator_options[] = {
    {"--reason", "TEXT", "why (kept in the audit log; resume also records it at the LMS)", 0, NULL},
    CLI_OPT_ROW_CONFIG_FILE,
    {"--yes|-y", NULL, "do not ask for confirmation (required when stdin is not a\nterminal)", 0, NULL},
    CLI_OPT_ROW_EVENTS,
    CLI_OPT_ROW_JSON("the same as --events"),
    {"--force", NULL,
     "go ahead even when the learner is in a working state changed\n"
     "less than step_timeout_seconds ago (refused without it, 253:\n"
     "it may be running on another host); it never overrides the lease\n"
     "of a job on this host",
     0, NULL},
    CLI_OPT_END,
};

void cli_operator_of(const cli_args *a, const cli_globals *g, cli_operator_opts *o)
{
    memset(o, 0, sizeof *o);
    o->reason = cli_args_get(a, "--reason");
    o->config_file = cli_args_get(a, "--config_file");
    o->yes = cli_args_has(a, "--yes") > 0;
    o->events = (g && g->json) || cli_args_has(a, "--events") || cli_args_has(a, "--json");
    o->force = cli_args_has(a, "--force") > 0;
}

int cli_confirm(const cfg *config, const char *question, const char *username, int yes)
{
    if (yes) return 1;
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
        cli_error(config, "%s Not asked: stdin is not a terminal, so nothing was done; run again with --yes to "
                  "confirm.", question);
        return 0;
    }
    int production = config && config->environment && strcasecmp(config->environment, "production") == 0;
    char answer[512];
    if (production)
        fprintf(stderr, "%s\nThis is the PRODUCTION environment. Type the username to confirm: ", question);
    else
        fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    int ok = 0;
    if (fgets(answer, sizeof answer, stdin)) {
        answer[strcspn(answer, "\r\n")] = '\0';
        ok = production ? strcmp(answer, username) == 0 : (!strcasecmp(answer, "y") || !strcasecmp(answer, "yes"));
    }
    if (!ok) cli_error(config, "not confirmed; nothing was done.");
    return ok;
}

const char *cli_learner_state(const cJSON *learner, const char *key)
{
    return json_str_at(learner, key, "state_name", NULL);
}

struct job_ctx *cli_job_ctx_open(struct cli_ctx *ctx)
{
    char err[2048] = "";
    job_ctx *jc = job_ctx_new_with(ctx->config, ctx->http, ctx->lms, ctx->registry, err, sizeof err);
    if (!jc || job_ctx_prepare(jc, err, sizeof err) != 0) {
        cli_error(ctx->config, "Unexpected error occurred! %s", err);
        job_ctx_free(jc);
        return NULL;
    }
    return jc;
}

int cli_fetch_learner(struct cli_ctx *ctx, const char *username, cJSON **learner)
{
    lms_error le;
    memset(&le, 0, sizeof le);
    *learner = NULL;
    if (lms_get_status(ctx->lms, username, learner, &le) == 0) return 0;
    int status;
    if (le.status == 404) {
        cli_error(ctx->config,
                  "Learner %s not found. Please check that the learner is present in UserRetirementStatus, "
                  "is not already retired, and is in an appropriate state to be acted upon.",
                  username);
        status = CLI_EXIT_BAD_LEARNER;
    } else {
        cli_error(ctx->config, "Unexpected error fetching user state! %s", le.message);
        status = CLI_EXIT_SETUP;
    }
    lms_error_clear(&le);
    return status;
}

/* s, or "" for NULL. */
static const char *text_or_empty(const char *s)
{
    return s ? s : "";
}

void cli_audit_learner(audit_entry *ae, const cJSON *learner, const char *username, const char *pii[7])
{
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(learner, "user");
    pii[0] = username;
    /* "" for a missing value: a NULL would end the list early */
    pii[1] = text_or_empty(json_str(learner, "original_username"));
    pii[2] = text_or_empty(json_str(learner, "original_email"));
    pii[3] = text_or_empty(json_str(learner, "original_name"));
    pii[4] = text_or_empty(json_str(user, "email"));
    pii[5] = NULL;
    pii[6] = NULL;
    ae->user_id = (long long)json_num(user, "id", -1);
    ae->retirement_id = (long long)json_num(learner, "id", -1);
    ae->pii = pii;
}

int cli_audit_start(struct cli_ctx *ctx, const cli_globals *g, const audit_entry *ae, audit_log **audit)
{
    char err[2048] = "";
    if (audit_open(ctx->config, g ? g->operator_name : NULL, audit, err, sizeof err) != 0 ||
        audit_begin(*audit, ae, err, sizeof err) != 0) {
        cli_error(ctx->config, "%s", err);
        return CLI_EXIT_SETUP;
    }
    return 0;
}

int cli_run_learner_job(const cfg *config, const cli_globals *g, job_ctx *jc, job_spec *spec, const char *reason,
                        job_event_fn on_event, cli_step_log *steps)
{
    static volatile sig_atomic_t cancel;
    cancel = 0;
    cli_install_cancel_handlers(&cancel); /* SIGINT/SIGTERM cancel the job; SIGPIPE ignored */
    job_ctx_set_audit(jc, g ? g->operator_name : NULL, reason);
    spec->reason = reason;
    char err[2048] = "";
    int status = job_run(jc, spec, on_event, steps, &cancel, err, sizeof err);
    if (err[0] && status == CLI_EXIT_SETUP) cli_error(config, "%s", err);
    return status;
}

void cli_audit_job_end(const cfg *config, audit_log *audit, audit_entry *ae, const cli_step_log *steps, int status)
{
    char err[2048] = "";
    ae->steps = steps->steps.v;
    ae->n_steps = steps->steps.n;
    ae->exit_status = status;
    ae->outcome = steps->outcome[0] ? steps->outcome : "errored";
    ae->detail = status ? steps->result : NULL;
    if (audit_end(audit, ae, err, sizeof err) != 0) cli_error(config, "%s", err);
}

/* Says why username was refused (exit 253) on stderr and, with --events, as a `result` event. */
static void refuse_working(const cfg *config, const char *username, const char *message, int events)
{
    cli_error(config, "%s", message);
    if (!events) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "outcome", "refused");
    cJSON_AddNumberToObject(o, "exit_status", CLI_EXIT_WORKING_STATE);
    cJSON_AddStringToObject(o, "message", message);
    char *line = ev_format(config, "result", username, o);
    if (line) fputs(line, stdout);
    fflush(stdout);
    free(line);
}

int cli_take_lease(const cfg *config, const char *username, const char *command, int events, struct lease **out)
{
    char err[1024] = "";
    lease_holder h;
    int rc = lease_acquire(NULL, cfg_string(config, "base_urls.lms"), username, command, out, &h, err, sizeof err);
    if (rc < 0) {
        cli_error(config, "%s; nothing was done for %s", err, username);
        return CLI_EXIT_SETUP;
    }
    if (rc == 0) return 0;
    char who[640];
    lease_describe(&h, who, sizeof who);
    strbuf msg = STRBUF_INIT;
    sb_addf(&msg,
            "%s is being worked on by %s; one job per learner, so nothing was done. Wait for it to finish "
            "(`retirectl status %s` shows its progress)",
            username, who, username);
    refuse_working(config, username, sb_str(&msg), events);
    sb_free(&msg);
    return CLI_EXIT_WORKING_STATE;
}

int cli_check_fresh(const cfg *config, const cJSON *learner, const char *username, int force, int events)
{
    double age = 0;
    if (force || !lease_fresh_working_state(learner, config, &age)) return 0;
    strbuf msg = STRBUF_INIT;
    sb_addf(&msg,
            "%s is in the working state %s, changed %.0f s ago (less than step_timeout_seconds, %g s): a retirement "
            "may be running for it on another host. Nothing was done; check the other hosts, wait, or pass --force "
            "if you are sure nothing is running.",
            username, cli_learner_state(learner, "current_state"), age < 0 ? 0 : age,
            config->step_timeout_seconds > 0 ? config->step_timeout_seconds : 900);
    refuse_working(config, username, sb_str(&msg), events);
    sb_free(&msg);
    return CLI_EXIT_WORKING_STATE;
}

int cli_learner_run_open(cli_learner_run *r, const cli_globals *g, const cli_operator_opts *o, unsigned need)
{
    memset(r, 0, sizeof *r);
    r->steps.events = o->events;
    return cli_open(&r->ctx, g, o->config_file, need);
}

int cli_learner_hold(cli_learner_run *r, const char *username, const char *command, const cli_operator_opts *o)
{
    const cfg *config = r->ctx.config;
    int status;
    if ((status = cli_take_lease(config, username, command, o->events, &r->held)) != 0) return status;
    if ((status = cli_fetch_learner(&r->ctx, username, &r->learner)) != 0) return status;
    if ((status = cli_check_fresh(config, r->learner, username, o->force, o->events)) != 0) return status;
    r->current = cli_learner_state(r->learner, "current_state");
    if (!r->current) {
        cli_error(config, "Bad learner response missing current_state or state_name for %s", username);
        return CLI_EXIT_BAD_LEARNER;
    }
    return 0;
}

void cli_learner_run_close(cli_learner_run *r)
{
    lease_release(r->held);
    cli_step_log_free(&r->steps);
    audit_close(r->audit);
    cJSON_Delete(r->learner);
    job_ctx_free(r->jc);
    cli_close(&r->ctx);
    memset(r, 0, sizeof *r);
}
