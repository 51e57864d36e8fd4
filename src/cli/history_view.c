/* history_view: the CLI's views of the retirement history. See history_view.h. */
#include "cli/history_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"

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
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    for (size_t i = 0; i < j->n_steps; i++) {
        const hist_step *s = &j->steps[i];
        cJSON *so = cJSON_CreateObject();
        cJSON_AddNumberToObject(so, "index", s->index);
        add_opt_str(so, "start_state", s->start_state);
        add_opt_str(so, "end_state", s->end_state);
        add_opt_str(so, "driver", s->driver);
        add_opt_str(so, "method", s->method);
        add_opt_str(so, "status", s->status);
        add_opt_num(so, "duration_ms", s->duration_ms, s->duration_ms >= 0);
        add_opt_num(so, "attempts", s->attempts, s->attempts > 0);
        cJSON_AddItemToArray(steps, so);
    }
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
