/* `retirectl history [USER | --user-id N] [--since DATE] [--failed [--group]] [--open] [--json]`:
 * the retirement history (docs/history.md). Read-only. A username is looked up at the LMS for
 * its user id: the history itself never stores usernames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "cli/history_view.h"
#include "cli/learner_args.h"
#include "engine/history.h"
#include "common/strbuf.h"

typedef struct opts {
    const char *username, *config_file, *since;
    long long user_id, retirement_id;
    long limit;
    int failed, group, open, json;
} opts;

/* Reads the parsed line into o; -1 to go on, else the exit status. */
static int read_options(const cli_args *a, const cli_globals *g, opts *o)
{
    memset(o, 0, sizeof *o);
    long user_id, retirement_id;
    if (cli_args_long(a, "--user-id", -1, &user_id) || cli_args_long(a, "--retirement-id", -1, &retirement_id) ||
        cli_args_long(a, "--limit", 50, &o->limit))
        return CLI_EXIT_USAGE;
    o->user_id = user_id;
    o->retirement_id = retirement_id;
    o->username = cli_args_arg(a, 0);
    o->since = cli_args_get(a, "--since");
    o->config_file = cli_args_get(a, "--config_file");
    o->failed = cli_args_has(a, "--failed");
    o->group = cli_args_has(a, "--group");
    o->open = cli_args_has(a, "--open");
    o->json = g->json || cli_args_has(a, "--json");
    if (o->group && !o->failed) {
        fprintf(stderr, "retirectl history: --group counts failures: use it with --failed\n");
        return CLI_EXIT_USAGE;
    }
    if (o->username && o->user_id >= 0) {
        fprintf(stderr, "retirectl history: give USER or --user-id, not both\n");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* The LMS user id of username (GET retirement_status): 0, or the exit status after saying why. */
static int user_id_of(cli_ctx *ctx, const char *username, long long *id)
{
    cJSON *learner = NULL;
    lms_error e;
    memset(&e, 0, sizeof e);
    if (lms_get_status(ctx->lms, username, &learner, &e) != 0) {
        int rc = e.status == 404 ? CLI_EXIT_BAD_LEARNER : CLI_EXIT_SETUP;
        if (e.status == 404)
            cli_error(ctx->config,
                      "learner %s not found at the LMS (its retirement record may be cleaned up already); the "
                      "history keeps no usernames: use --user-id N",
                      cli_inert_tmp(username));
        else
            cli_error(ctx->config, "cannot look up learner %s at the LMS: %s; or use --user-id N",
                      cli_inert_tmp(username), e.message);
        lms_error_clear(&e);
        return rc;
    }
    lms_error_clear(&e);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(learner, "user"), "id");
    int ok = cJSON_IsNumber(v);
    if (ok) *id = (long long)v->valuedouble;
    cJSON_Delete(learner);
    if (!ok) {
        cli_error(ctx->config, "the LMS record of %s has no user.id; use --user-id N", cli_inert_tmp(username));
        return CLI_EXIT_BAD_LEARNER;
    }
    return 0;
}

/* "2m", "3h", "4d": how long ago (or how long) ms is. */
static void age_text(long long ms, char *buf, size_t len)
{
    long long s = ms / 1000;
    if (s < 120)
        snprintf(buf, len, "%llds", s);
    else if (s < 7200)
        snprintf(buf, len, "%lldm", s / 60);
    else if (s < 172800)
        snprintf(buf, len, "%lldh", s / 3600);
    else
        snprintf(buf, len, "%lldd", s / 86400);
}

/* The table of jobs. */
static void print_table(const cfg *c, const hist_job *jobs, size_t n, int open)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%-20s %-8s %-8s %-8s %-9s %-24s %-6s %s\n", "STARTED", "USER ID", "RET ID", "ACTION", "OUTCOME",
            "BY", open ? "AGE" : "TOOK", open ? "COMMAND" : "FAILED STEP / REASON");
    long long now = hist_now_ms();
    for (size_t i = 0; i < n; i++) {
        const hist_job *j = &jobs[i];
        char t[40], uid[24], rid[24], by[300], took[32], why[600];
        hist_format_time(j->started_ms, t, sizeof t);
        snprintf(uid, sizeof uid, j->lms_user_id >= 0 ? "%lld" : "-", j->lms_user_id);
        snprintf(rid, sizeof rid, j->retirement_id >= 0 ? "%lld" : "-", j->retirement_id);
        snprintf(by, sizeof by, "%s@%s", j->operator_name ? j->operator_name : "?", j->host ? j->host : "?");
        if (!j->outcome)
            age_text(now - j->started_ms, took, sizeof took);
        else if (j->ended_ms >= j->started_ms)
            snprintf(took, sizeof took, "%.1fs", (double)(j->ended_ms - j->started_ms) / 1000.0);
        else
            snprintf(took, sizeof took, "-");
        hist_reason_short(j, why, sizeof why);
        strbuf detail = STRBUF_INIT;
        if (open)
            sb_addf(&detail, "pid %lld: %s", j->pid, j->command ? j->command : "");
        else if (j->fail_driver)
            sb_addf(&detail, "%s.%s: %s", j->fail_driver, j->fail_method ? j->fail_method : "?", why);
        else
            sb_add(&detail, why);
        sb_addf(&sb, "%-20s %-8s %-8s %-8s %-9s %-24s %-6s %s\n", t, uid, rid, j->action ? j->action : "?",
                j->outcome ? j->outcome : "running", by, took, cli_inert_tmp(sb_str(&detail)));
        sb_free(&detail);
    }
    if (!n) sb_add(&sb, open ? "(no job is running)\n" : "(no jobs recorded)\n");
    cli_print_scrubbed(c, sb_str(&sb));
    sb_free(&sb);
}

/* Prints a JSON value (secrets scrubbed) and frees it. */
static void print_json(const cfg *c, cJSON *v)
{
    char *text = cJSON_Print(v);
    cli_print_scrubbed(c, text);
    fputc('\n', stdout);
    free(text);
    cJSON_Delete(v);
}

/* --failed --group. */
static int print_groups(const cfg *c, history *h, long long since, int json)
{
    hist_group *g = NULL;
    size_t n = 0;
    char err[2048] = "";
    if (hist_failure_groups(h, since, &g, &n, err, sizeof err) != 0) {
        cli_error(c, "%s", err);
        return CLI_EXIT_SETUP;
    }
    if (json) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "driver", g[i].driver ? g[i].driver : "");
            cJSON_AddStringToObject(o, "method", g[i].method ? g[i].method : "");
            if (g[i].http_status > 0) cJSON_AddNumberToObject(o, "http_status", (double)g[i].http_status);
            else cJSON_AddNullToObject(o, "http_status");
            cJSON_AddNumberToObject(o, "count", (double)g[i].count);
            cJSON_AddItemToArray(a, o);
        }
        print_json(c, a);
    } else {
        strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < n; i++) {
            char status[24] = "-";
            if (g[i].http_status > 0) snprintf(status, sizeof status, "%ld", g[i].http_status);
            sb_addf(&sb, "%s.%s %s \u00d7%lld\n", g[i].driver ? g[i].driver : "?", g[i].method ? g[i].method : "?",
                    status, g[i].count);
        }
        if (!n) sb_add(&sb, "(no current failures recorded)\n");
        cli_print_scrubbed(c, sb_str(&sb));
        sb_free(&sb);
    }
    hist_groups_free(g, n);
    return 0;
}

static int history_exec(const cli_args *args, const cli_globals *g)
{
    opts o;
    int rc = read_options(args, g, &o);
    if (rc >= 0) return rc;
    rc = 0; /* the exit status from here (without a config nothing else sets it) */
    long long since = 0;
    if (o.since && hist_parse_date(o.since, &since) != 0) {
        fprintf(stderr, "retirectl history: --since '%s' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)\n",
                cli_inert_tmp(o.since));
        return CLI_EXIT_USAGE;
    }
    /* a config is optional (the default store); with USER it must name the LMS */
    char *path = cli_config_path(g, o.config_file);
    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    int have_ctx = 0;
    if (path || o.username) {
        rc = cli_open(&ctx, g, o.config_file, o.username ? CLI_NEED_LMS : 0);
        free(path);
        if (rc) return rc;
        have_ctx = 1;
    }
    if (o.username && (rc = user_id_of(&ctx, o.username, &o.user_id)) != 0) {
        cli_close(&ctx);
        return rc;
    }
    history *h = NULL;
    if (cli_hist_open(have_ctx ? ctx.config : NULL, &h) != 0) {
        if (have_ctx) cli_close(&ctx);
        return CLI_EXIT_SETUP;
    }
    const cfg *c = have_ctx ? ctx.config : NULL;
    if (o.group) {
        rc = print_groups(c, h, since, o.json);
    } else {
        hist_query q;
        hist_query_init(&q);
        q.lms_user_id = o.user_id;
        q.retirement_id = o.retirement_id;
        q.since_ms = since;
        q.failed_only = o.failed;
        q.open_only = o.open;
        q.limit = o.limit > 0 ? (size_t)o.limit : 0;
        hist_job *jobs = NULL;
        size_t n = 0;
        char err[2048] = "";
        if (hist_list(h, &q, &jobs, &n, err, sizeof err) != 0) {
            cli_error(c, "%s", err);
            rc = CLI_EXIT_SETUP;
        } else if (o.json) {
            cJSON *a = cJSON_CreateArray();
            for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cli_hist_job_json(&jobs[i]));
            print_json(c, a);
        } else {
            print_table(c, jobs, n, o.open);
            if (o.user_id >= 0 || o.retirement_id >= 0) {
                /* one learner: the latest failure in full */
                for (size_t i = 0; i < n; i++) {
                    if (!jobs[i].outcome || strcmp(jobs[i].outcome, "errored") != 0) continue;
                    strbuf sb = STRBUF_INIT;
                    sb_add(&sb, "Latest failure:\n");
                    cli_hist_failure_text(&sb, &jobs[i]);
                    cli_print_scrubbed(c, sb_str(&sb));
                    sb_free(&sb);
                    break;
                }
            }
        }
        hist_jobs_free(jobs, n);
    }
    hist_close(h);
    if (have_ctx) cli_close(&ctx);
    return rc;
}

static const cli_opt history_options[] = {
    {"--user-id", "N", "one learner by LMS user id (works after the LMS record is gone)", 0, NULL},
    {"--retirement-id", "N", "one learner by retirement id", 0, NULL},
    {"--since", "DATE", "jobs started on or after DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)", 0, NULL},
    {"--failed", NULL, "failed jobs only", 0, NULL},
    {"--group", NULL,
     "with --failed: current failures (each learner's latest finished job)\n"
     "counted by DRIVER.method and HTTP status: what is broken right now",
     CLI_OPT_NO_USAGE, NULL},
    {"--open", NULL, "jobs still running (or whose supervisor died): host, pid, age", 0, NULL},
    {"--limit", "N", "at most N jobs (default 50; 0: all)", 0, NULL},
    CLI_OPT_ROW_JSON("a JSON array on stdout (every field, steps included)"),
    CLI_OPT_ROW_CONFIG_FILE,
    CLI_OPT_END,
};

const cli_cmd_entry cmd_history_entry = {
    .name = "history",
    .args = "[USER]",
    .summary = "the retirement history: jobs, failures and their reasons",
    .more_usage = "retirectl history --failed --group [--since DATE] [--json]",
    .about = "Lists the jobs that acted on learners, newest first: when, the LMS user id, the action,\n"
             "the outcome, who ran it where, and why it failed (HTTP status and the server's text).\n"
             "The history keeps LMS user ids, never usernames: USER is looked up at the LMS.\n"
             "One learner: USER, --user-id N or --retirement-id N (USER and --user-id not both).\n",
    .opts = history_options,
    .epilogue = "Exit status: 0, 2 bad command line, 249 bad config, 251 USER not found, 255 store error.\n",
    .exec = history_exec,
};

