/* history_view: the CLI's views of the retirement history. See history_view.h. */
#include "cli/history_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "engine/job.h"
#include "engine/lms.h"
#include "engine/reason.h"
#include "common/xalloc.h"

int cli_hist_open(const cfg *c, history **h)
{
    char err[2048] = "";
    hist_settings s;
    hist_settings_of(c, &s);
    if (!s.enabled) {
        cli_error(c, "the history is turned off in this config (history.enabled: false)");
        return -1;
    }
    if (hist_open(c, h, err, sizeof err) != 0) {
        cli_error(c, "%s", err);
        return -1;
    }
    return 0;
}

/* Adds key: s when s is set. */
static void add_opt_str(cJSON *o, const char *key, const char *s)
{
    if (s) cJSON_AddStringToObject(o, key, s);
    else cJSON_AddNullToObject(o, key);
}

/* Adds key: v when present, else null. */
static void add_opt_num(cJSON *o, const char *key, long long v, int present)
{
    if (present) cJSON_AddNumberToObject(o, key, (double)v);
    else cJSON_AddNullToObject(o, key);
}

cJSON *cli_hist_job_json(const hist_job *j)
{
    char t[40];
    cJSON *o = cJSON_CreateObject();
    add_opt_num(o, "lms_user_id", j->lms_user_id, j->lms_user_id >= 0);
    add_opt_num(o, "retirement_id", j->retirement_id, j->retirement_id >= 0);
    add_opt_str(o, "action", j->action);
    add_opt_str(o, "started", hist_format_time(j->started_ms, t, sizeof t));
    add_opt_str(o, "ended", j->ended_ms ? hist_format_time(j->ended_ms, t, sizeof t) : NULL);
    add_opt_str(o, "outcome", j->outcome);
    add_opt_num(o, "exit_status", j->exit_status, j->outcome != NULL);
    add_opt_str(o, "operator", j->operator_name);
    add_opt_str(o, "host", j->host);
    add_opt_num(o, "pid", j->pid, j->pid > 0);
    add_opt_str(o, "command", j->command);
    add_opt_str(o, "reason", j->reason);
    add_opt_str(o, "from_state", j->from_state);
    add_opt_str(o, "final_state", j->final_state);
    add_opt_str(o, "message", j->message);
    if (j->fail_step >= 0 || j->fail_request || j->fail_http_status) {
        cJSON *f = cJSON_AddObjectToObject(o, "failure");
        add_opt_num(f, "step", j->fail_step, j->fail_step >= 0);
        add_opt_str(f, "driver", j->fail_driver);
        add_opt_str(f, "method", j->fail_method);
        add_opt_str(f, "request", j->fail_request);
        add_opt_num(f, "http_status", j->fail_http_status, j->fail_http_status > 0);
        add_opt_str(f, "server_text", j->fail_server_text);
        add_opt_str(f, "transport_error", j->fail_transport);
        add_opt_num(f, "attempts", j->fail_attempts, j->fail_attempts > 0);
    } else {
        cJSON_AddNullToObject(o, "failure");
    }
    cJSON_AddItemToObject(o, "steps", hist_steps_json(j));
    return o;
}

void cli_hist_failure_text(strbuf *sb, const hist_job *j)
{
    char t[40];
    sb_addf(sb, "  when       %s", hist_format_time(j->started_ms, t, sizeof t));
    if (j->ended_ms) sb_addf(sb, " to %s", hist_format_time(j->ended_ms, t, sizeof t));
    sb_addf(sb, "\n  who        %s on %s (pid %lld)\n", j->operator_name ? j->operator_name : "?",
            j->host ? j->host : "?", j->pid);
    sb_addf(sb, "  job        %s: %s (exit status %d)\n", j->action ? j->action : "?",
            j->command ? j->command : "", j->exit_status);
    if (j->reason) sb_addf(sb, "  reason     %s\n", j->reason);
    if (j->fail_driver)
        sb_addf(sb, "  step       %d. %s.%s\n", j->fail_step + 1, j->fail_driver, j->fail_method ? j->fail_method : "?");
    if (j->fail_request) sb_addf(sb, "  request    %s\n", j->fail_request);
    if (j->fail_http_status > 0) sb_addf(sb, "  status     HTTP %ld\n", j->fail_http_status);
    if (j->fail_server_text) sb_addf(sb, "  server     %s\n", j->fail_server_text);
    if (j->fail_transport) sb_addf(sb, "  no answer  %s\n", j->fail_transport);
    if (j->fail_attempts > 0) sb_addf(sb, "  attempts   %d\n", j->fail_attempts);
    if (j->message) sb_addf(sb, "  recorded   %s\n", j->message);
    if (j->final_state) sb_addf(sb, "  left in    %s\n", j->final_state);
}

int cli_hist_last_failure(history *h, long long lms_user_id, hist_job *out)
{
    hist_query q;
    hist_query_init(&q);
    q.lms_user_id = lms_user_id;
    q.current_failures = 1;
    q.limit = 1;
    hist_job *jobs = NULL;
    size_t n = 0;
    char err[2048] = "";
    if (hist_list(h, &q, &jobs, &n, err, sizeof err) != 0) {
        cli_error(NULL, "%s", err);
        return -1;
    }
    if (!n) {
        hist_jobs_free(jobs, n);
        return 1;
    }
    *out = jobs[0];
    memset(&jobs[0], 0, sizeof jobs[0]);
    hist_jobs_free(jobs, n);
    return 0;
}

void cli_hist_reset_item(struct job_recorder *r, const cfg *c, const cJSON *learner, const char *from, const char *to,
                         const struct lms_error *le, const char *reason)
{
    if (!r) return;
    hist_job *hj = xcalloc(1, sizeof *hj);
    if (!hj) return;
    hist_job_init(hj);
    hist_set(&hj->action, "reset");
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(learner, "user"), "id");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(learner, "id");
    const cJSON *un = cJSON_GetObjectItemCaseSensitive(learner, "original_username");
    const char *username = cJSON_IsString(un) ? un->valuestring : NULL;
    if (cJSON_IsNumber(uid)) hj->lms_user_id = (long long)uid->valuedouble;
    if (cJSON_IsNumber(rid)) hj->retirement_id = (long long)rid->valuedouble;
    hist_set(&hj->from_state, from);
    hist_step *s = hist_job_step(hj, 0);
    hist_set(&s->start_state, from);
    hist_set(&s->end_state, to);
    hist_set(&s->driver, "LMS");
    hist_set(&s->method, "update_retirement_status");
    if (!le) {
        hist_set(&hj->outcome, "complete");
        hj->exit_status = 0;
        hist_set(&hj->final_state, to);
        hist_set(&s->status, "done");
    } else {
        hist_set(&hj->outcome, "errored");
        hj->exit_status = 1;
        hist_set(&hj->final_state, from);
        hist_set(&s->status, "failed");
        hj->fail_step = 0;
        hist_set(&hj->fail_driver, "LMS");
        hist_set(&hj->fail_method, "update_retirement_status");
        hj->message = reason_scrub(c, learner, username, le->message, HIST_SERVER_TEXT_MAX);
        const char *base = cfg_string(c, "base_urls.lms");
        char *url = http_url_join(base ? base : "", "api/user/v1/accounts/update_retirement_status");
        cJSON *f = reason_failure(c, learner, username, "PATCH", url, le->status, le->body,
                                  le->body ? strlen(le->body) : 0, le->status ? NULL : le->message, 0);
        free(url);
        const cJSON *v;
        if ((v = cJSON_GetObjectItemCaseSensitive(f, "request"))) hist_set(&hj->fail_request, v->valuestring);
        if ((v = cJSON_GetObjectItemCaseSensitive(f, "server_text"))) hist_set(&hj->fail_server_text, v->valuestring);
        if ((v = cJSON_GetObjectItemCaseSensitive(f, "transport_error"))) hist_set(&hj->fail_transport, v->valuestring);
        hj->fail_http_status = le->status;
        cJSON_Delete(f);
    }
    job_recorder_add(r, hj, username, reason);
}
