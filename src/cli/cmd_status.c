/* `retirectl status USER`: one learner's retirement record and where it stands in the pipeline
 * (which steps are done, which is next, what `retire` would do). Read-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/history_view.h"
#include "cli/learner_args.h"
#include "engine/plan.h"
#include "common/json.h"
#include "common/strbuf.h"

/* A text field of the learner record made inert for the text view (server data: no raw line
 * breaks, controls or invalid UTF-8); "" when absent. */
static const char *shown_at(const cJSON *o, const char *a, const char *b)
{
    const char *v = json_str_at(o, a, b, NULL);
    return cli_inert_tmp(v ? v : "");
}

/* Builds the position object: per step status and what retire would do. */
static cJSON *position_of(const cfg *c, const char *state, const char *last_state)
{
    cJSON *pos = cJSON_CreateObject();
    cJSON_AddStringToObject(pos, "current_state", state ? state : "");
    plan p;
    plan_make(state, c->steps, c->n_steps, &p);
    int working = plan_step_of_working_state(state, c->steps, c->n_steps);
    int failed_at = -1;
    if (state && strcmp(state, PLAN_ERROR_STATE) == 0)
        failed_at = plan_step_of_working_state(last_state, c->steps, c->n_steps);
    int cur = p.current_index;
    cJSON *steps = cJSON_AddArrayToObject(pos, "steps");
    int next = -1;
    size_t done = 0;
    for (size_t i = 0; i < c->n_steps; i++) {
        const cfg_step *s = &c->steps[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", (double)i);
        cJSON_AddStringToObject(o, "start_state", s->start_state);
        cJSON_AddStringToObject(o, "end_state", s->end_state);
        cJSON_AddStringToObject(o, "driver", s->driver);
        cJSON_AddStringToObject(o, "method", s->method);
        const char *st;
        int idx = plan_state_index(s->start_state, c->steps, c->n_steps);
        if (state && strcmp(state, PLAN_COMPLETE_STATE) == 0) {
            st = "done";
        } else if ((int)i == failed_at) {
            st = "failed";
        } else if ((int)i == working) {
            st = "in_flight";
        } else if (cur >= 0 && idx < cur && !plan_is_end_state(state)) {
            st = "done";
        } else if (failed_at >= 0 && (int)i < failed_at) {
            st = "done";
        } else {
            st = "to_run";
            if (next < 0 && p.refusal == PLAN_OK) {
                next = (int)i;
                st = "next";
            }
        }
        if (!strcmp(st, "done")) done++;
        cJSON_AddStringToObject(o, "status", st);
        cJSON_AddItemToArray(steps, o);
    }
    cJSON_AddNumberToObject(pos, "steps_done", (double)done);
    cJSON_AddNumberToObject(pos, "steps_total", (double)c->n_steps);
    char what[768];
    switch (p.refusal) {
    case PLAN_OK:
        if (p.n_run)
            snprintf(what, sizeof what, "retire would run %zu step(s) from %s, skip %zu, then set COMPLETE", p.n_run,
                     next >= 0 ? c->steps[next].start_state : "?", p.n_skip);
        else
            snprintf(what, sizeof what, "retire would only set COMPLETE (every step is done)");
        break;
    case PLAN_END_STATE:
        snprintf(what, sizeof what, "%s; retire refuses (exit 254)%s", p.message,
                 failed_at >= 0 ? ". Fix the cause, then `retirectl resume` it" : "");
        break;
    case PLAN_WORKING_STATE:
        snprintf(what, sizeof what,
                 "%s; a run stopped inside this step. retire refuses (exit 253): use `retirectl resume` after "
                 "checking the service",
                 p.message);
        break;
    default:
        snprintf(what, sizeof what,
                 "state %s is not in this config's pipeline; retire refuses (exit 250): check the config", state);
        break;
    }
    cJSON_AddStringToObject(pos, "retire_would", what);
    cJSON_AddNumberToObject(pos, "retire_exit_status", p.refusal);
    plan_free(&p);
    return pos;
}

static int status_exec(const cli_args *args, const cli_globals *g)
{
    cli_learner_args a;
    int rc = cli_learner_of(args, g, 0, "pass USER", &a);
    if (rc >= 0) return rc;
    const char *username = a.username;
    cli_ctx ctx;
    rc = cli_open(&ctx, g, a.config_file, CLI_NEED_LMS);
    if (rc) return rc;
    cJSON *learner = NULL;
    lms_error e;
    memset(&e, 0, sizeof e);
    if (lms_get_status(ctx.lms, username, &learner, &e) != 0) {
        if (e.status == 404) {
            cli_error(ctx.config,
                      "Learner %s not found. Please check that the learner is present in UserRetirementStatus, is "
                      "not already retired, and is in an appropriate state to be acted upon.",
                      username);
            rc = CLI_EXIT_BAD_LEARNER;
        } else {
            cli_error(ctx.config, "Unexpected error fetching user state! %s", e.message);
            rc = CLI_EXIT_SETUP;
        }
        lms_error_clear(&e);
        cli_close(&ctx);
        return rc;
    }
    lms_error_clear(&e);
    const char *state = json_str_at(learner, "current_state", "state_name", NULL);
    const char *last = json_str_at(learner, "last_state", "state_name", NULL);
    cJSON *pos = position_of(ctx.config, state, last);
    /* the last failure from the history (a store that cannot be read is said, status goes on) */
    hist_job fail;
    memset(&fail, 0, sizeof fail);
    int have_fail = 0, hist_ok = 0;
    double uid = json_num_at(learner, "user", "id", NULL, -1);
    history *h = NULL;
    hist_settings hs;
    hist_settings_of(ctx.config, &hs);
    if (hs.enabled && uid >= 0 && cli_hist_open(ctx.config, &h) == 0) {
        int r = cli_hist_last_failure(h, (long long)uid, &fail);
        have_fail = r == 0;
        hist_ok = r >= 0;
        hist_close(h);
    }
    if (a.events) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddItemToObject(out, "learner", learner);
        cJSON_AddItemToObject(out, "position", pos);
        if (have_fail)
            cJSON_AddItemToObject(out, "last_failure", cli_hist_job_json(&fail));
        else
            cJSON_AddNullToObject(out, "last_failure");
        char *text = cJSON_Print(out);
        cli_print_scrubbed(ctx.config, text);
        fputc('\n', stdout);
        free(text);
        cJSON_Delete(out);
    } else {
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "Learner %s\n", cli_inert_tmp(username));
        sb_addf(&sb, "  retirement id     %.0f\n", json_num(learner, "id", -1));
        sb_addf(&sb, "  LMS user id       %.0f\n", json_num_at(learner, "user", "id", NULL, -1));
        sb_addf(&sb, "  username (now)    %s\n", shown_at(learner, "user", "username"));
        sb_addf(&sb, "  original username %s\n", shown_at(learner, "original_username", NULL));
        sb_addf(&sb, "  original email    %s\n", shown_at(learner, "original_email", NULL));
        sb_addf(&sb, "  original name     %s\n", shown_at(learner, "original_name", NULL));
        sb_addf(&sb, "  retired username  %s\n", shown_at(learner, "retired_username", NULL));
        sb_addf(&sb, "  retired email     %s\n", shown_at(learner, "retired_email", NULL));
        sb_addf(&sb, "  current state     %s\n", state ? cli_inert_tmp(state) : "(missing)");
        sb_addf(&sb, "  last state        %s\n", last ? cli_inert_tmp(last) : "(missing)");
        sb_addf(&sb, "  requested         %s\n", shown_at(learner, "created", NULL));
        sb_addf(&sb, "  last change       %s\n", shown_at(learner, "modified", NULL));
        const cJSON *steps = cJSON_GetObjectItemCaseSensitive(pos, "steps");
        sb_addf(&sb, "Pipeline (%.0f of %.0f steps done)\n", json_num(pos, "steps_done", -1),
                json_num(pos, "steps_total", -1));
        const cJSON *s;
        cJSON_ArrayForEach(s, steps)
        {
            char name[256];
            snprintf(name, sizeof name, "%s.%s", json_str(s, "driver"), json_str(s, "method"));
            sb_addf(&sb, "  %-22s %-42s %s\n", json_str(s, "start_state"), name, json_str(s, "status"));
        }
        sb_addf(&sb, "Now: %s\n", json_str(pos, "retire_would"));
        if (have_fail) {
            sb_add(&sb, "Last failure (history):\n");
            cli_hist_failure_text(&sb, &fail);
        } else if (hist_ok && state && strcmp(state, PLAN_ERROR_STATE) == 0) {
            sb_add(&sb, "Last failure: not in the history (the job ran before the history existed, or where "
                        "history.url names another store); the LMS record has the reason\n");
        }
        cli_print_scrubbed(ctx.config, sb_str(&sb));
        sb_free(&sb);
        cJSON_Delete(learner);
        cJSON_Delete(pos);
    }
    hist_job_clear(&fail);
    cli_close(&ctx);
    return 0;
}

static const cli_opt status_options[] = {
    CLI_OPT_ROW_CONFIG_FILE,
    CLI_OPT_ROW_JSON("{\"learner\": <the LMS record>, \"position\": {...}, \"last_failure\": {...}|null}"),
    {"--username", "USER", "the upstream spelling of USER", CLI_OPT_HIDDEN, NULL},
    CLI_OPT_END,
};

const cli_cmd_entry cmd_status_entry = {
    .name = "status",
    .args = "[USER]",
    .summary = "show one learner's record and pipeline position",
    .about = "Shows the learner's retirement record from the LMS (ids, original and retired username\n"
             "and email, name, current and last state, dates) and the pipeline position: each step\n"
             "done, next, to run, or in flight, and what `retirectl retire` would do now. Read-only.\n"
             "\n"
             "The learner's last failure, from the retirement history (docs/history.md), follows: when,\n"
             "who, where, the request, the HTTP status and what the server said.\n",
    .opts = status_options,
    .epilogue = "Exit status: 0, 251 learner not found, 255 LMS error, 249 bad config.\n",
    .exec = status_exec,
};

