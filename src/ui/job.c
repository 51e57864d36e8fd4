/* Job records rebuilt from JSON-lines events (see job.h and docs/events.md). */
#include "ui/job.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "engine/ev.h"
#include "ui/text.h"
#include "common/json.h"

ui_job *ui_job_new(const char *learner, const char *action, const char *what)
{
    ui_job *j = xcalloc(1, sizeof *j);
    j->out_fd = j->err_fd = -1;
    j->learner = xstrdup(learner);
    snprintf(j->action, sizeof j->action, "%s", action ? action : "");
    j->what = xstrdup(what ? what : action);
    j->exit_status = -1;
    return j;
}

static void free_steps(ui_job *j)
{
    for (size_t i = 0; i < j->n_steps; i++) {
        ui_job_step *s = &j->steps[i];
        free(s->start_state), free(s->end_state), free(s->driver), free(s->method);
        free(s->message), free(s->progress);
        for (size_t k = 0; k < s->n_requests; k++) free(s->requests[k]);
        free(s->requests);
    }
    free(j->steps);
    j->steps = NULL;
    j->n_steps = 0;
}

void ui_job_free(ui_job *j)
{
    if (!j) return;
    free_steps(j);
    for (size_t i = 0; i < j->n_log; i++) free(j->log[(j->log_start + i) % UI_JOB_LOG_MAX]);
    free(j->log);
    free(j->learner), free(j->what), free(j->current_state), free(j->result_message), free(j->final_state);
    free(j->partial[0]), free(j->partial[1]);
    for (int i = 0; i < 4; i++) free(j->act_arg[i]);
    free(j);
}

static void log_one(ui_job *j, const char *level, const char *text);

void ui_job_log(ui_job *j, const char *level, const char *text)
{
    /* one kept line per text line, so a multi-line message stays readable */
    const char *p = text ? text : "";
    int first = 1;
    for (;;) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            if (*p || first) log_one(j, first ? level : "", p);
            return;
        }
        char *part = xstrndup(p, (size_t)(nl - p));
        size_t len = strlen(part);
        if (len && part[len - 1] == '\r') part[len - 1] = '\0';
        if (*part || first) {
            if (first) log_one(j, level, part);
            else {
                char *ind = xmalloc(strlen(part) + 3);
                sprintf(ind, "  %s", part);
                log_one(j, "", ind);
                free(ind);
            }
        }
        free(part);
        first = 0;
        p = nl + 1;
    }
}

static void log_one(ui_job *j, const char *level, const char *text)
{
    if (!j->log) {
        j->log = xcalloc(UI_JOB_LOG_MAX, sizeof *j->log);
    }
    strbuf sb = STRBUF_INIT;
    if (level && *level && strcmp(level, "info") != 0) sb_addf(&sb, "[%s] ", level);
    sb_add(&sb, text ? text : "");
    char *clean = ui_text_sanitize(sb_str(&sb), (size_t)-1);
    sb_free(&sb);
    if (j->n_log == UI_JOB_LOG_MAX) {
        free(j->log[j->log_start]);
        j->log[j->log_start] = clean;
        j->log_start = (j->log_start + 1) % UI_JOB_LOG_MAX;
    } else {
        j->log[(j->log_start + j->n_log) % UI_JOB_LOG_MAX] = clean;
        j->n_log++;
    }
    j->log_total++;
}

const char *ui_job_log_line(const ui_job *j, size_t i)
{
    if (i >= j->n_log) return "";
    return j->log[(j->log_start + i) % UI_JOB_LOG_MAX];
}

const char *ui_step_status_name(ui_step_status s)
{
    static const char *const names[] = {"pending", "running", "retrying", "done", "skipped", "failed"};
    return (s >= 0 && s <= UI_STEP_FAILED) ? names[s] : "?";
}

/* The console's status of a step event's status word. */
static ui_step_status status_of(ev_step_status st, ui_step_status unchanged)
{
    switch (st) {
    case EV_STATUS_RUNNING: return UI_STEP_RUNNING;
    case EV_STATUS_RETRYING: return UI_STEP_RETRYING;
    case EV_STATUS_DONE: return UI_STEP_DONE;
    case EV_STATUS_SKIPPED: return UI_STEP_SKIPPED;
    case EV_STATUS_FAILED: return UI_STEP_FAILED;
    default: return unchanged;
    }
}

/* Finds the step of an event by index (growing the list if the job event was missed). */
static ui_job_step *step_for(ui_job *j, const ev_event *ev)
{
    if (ev->index < 0 || ev->index > 10000) return NULL;
    size_t i = (size_t)ev->index;
    if (i >= j->n_steps) {
        ui_job_step *ns = xrealloc(j->steps, (i + 1) * sizeof *ns);
        memset(ns + j->n_steps, 0, (i + 1 - j->n_steps) * sizeof *ns);
        j->steps = ns;
        j->n_steps = i + 1;
    }
    ui_job_step *s = &j->steps[i];
    if (ev->start_state) xstr_set(&s->start_state, ev->start_state);
    if (ev->end_state) xstr_set(&s->end_state, ev->end_state);
    if (ev->driver) xstr_set(&s->driver, ev->driver);
    if (ev->method) xstr_set(&s->method, ev->method);
    return s;
}

static void on_job(ui_job *j, const ev_event *ev)
{
    if (ev->action) snprintf(j->action, sizeof j->action, "%s", ev->action);
    j->dry_run = ev->dry_run || strcmp(j->action, "plan") == 0;
    xstr_set(&j->current_state, ev->current_state);
    free_steps(j);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(ev->json, "steps"), *st;
    cJSON_ArrayForEach(st, steps) {
        ev_event row;
        ev_read_fields(st, &row);
        ui_job_step *s = step_for(j, &row);
        if (!s) continue;
        snprintf(s->plan, sizeof s->plan, "%s", row.plan ? row.plan : "");
        if (row.plan && strcmp(row.plan, "skip") == 0) s->status = UI_STEP_SKIPPED;
        if (row.message) xstr_set(&s->message, row.message);
    }
    ui_job_log(j, "info", j->dry_run ? "dry-run started: nothing will be changed" : "job started");
}

static void on_step(ui_job *j, const ev_event *ev, double now_ms)
{
    ui_job_step *s = step_for(j, ev);
    if (!s) return;
    const char *status = ev->status, *msg = ev->message;
    if (ev->progress) xstr_set(&s->progress, ev->progress);
    if (!status) return;
    ui_step_status ns = status_of(ev->step_status, s->status);
    if (ns != UI_STEP_RUNNING || s->status != UI_STEP_RUNNING) s->since_ms = now_ms;
    /* attempt 2 is a request's first retry: its retry budget (http.max_retry_seconds) starts about now */
    if (ns == UI_STEP_RETRYING && (ev->attempt <= 2 || !s->retry_first_ms)) s->retry_first_ms = now_ms;
    s->status = ns;
    /* absent numbers (-1 in ev_event) count as 0 */
    s->elapsed_ms = ev->elapsed_ms > 0 ? ev->elapsed_ms : 0;
    s->attempt = ev->attempt > 0 ? ev->attempt : 0;
    s->retry_in_ms = ev->retry_in_ms > 0 ? ev->retry_in_ms : 0;
    if (msg) xstr_set(&s->message, msg);
    if (ns != UI_STEP_RUNNING) free(s->progress), s->progress = NULL;
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "step %s %s.%s: %s", s->start_state ? s->start_state : "?", s->driver ? s->driver : "?",
            s->method ? s->method : "?", status);
    if (ns == UI_STEP_RETRYING) sb_addf(&sb, " (attempt %d, next in %.1f s)", s->attempt, s->retry_in_ms / 1000.0);
    if (ns == UI_STEP_DONE) sb_addf(&sb, " in %.1f s", s->elapsed_ms / 1000.0);
    if (msg && *msg && ns != UI_STEP_RUNNING) sb_addf(&sb, ": %s", msg);
    ui_job_log(j, ns == UI_STEP_FAILED ? "error" : ns == UI_STEP_RETRYING ? "warn" : "info", sb_str(&sb));
    sb_free(&sb);
}

static void on_preview(ui_job *j, const ev_event *ev)
{
    ui_job_step *s = step_for(j, ev);
    if (!s) return;
    const char *plan = ev->plan, *msg = ev->message;
    if (plan) snprintf(s->plan, sizeof s->plan, "%s", plan);
    if (msg) xstr_set(&s->message, msg);
    if (plan && strcmp(plan, "skip") == 0) s->status = UI_STEP_SKIPPED;
    const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(ev->json, "requests"), *r;
    cJSON_ArrayForEach(r, reqs) {
        strbuf sb = STRBUF_INIT;
        const char *m = json_str(r, "method"), *u = json_str(r, "url"), *b = json_str(r, "body");
        sb_addf(&sb, "%s %s", m ? m : "?", u ? u : "?");
        if (b && *b) sb_addf(&sb, " %s", b);
        char **nr = xrealloc(s->requests, (s->n_requests + 1) * sizeof *nr);
        s->requests = nr;
        s->requests[s->n_requests++] = ui_text_sanitize(sb_str(&sb), (size_t)-1);
        sb_free(&sb);
    }
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "plan %s %s.%s: %s", s->start_state ? s->start_state : "?", s->driver ? s->driver : "?",
            s->method ? s->method : "?", plan ? plan : "?");
    if (msg && *msg) sb_addf(&sb, " (%s)", msg);
    ui_job_log(j, "info", sb_str(&sb));
    for (size_t k = 0; k < s->n_requests; k++) {
        sb_reset(&sb);
        sb_addf(&sb, "  would send %s", s->requests[k]);
        ui_job_log(j, "info", sb_str(&sb));
    }
    sb_free(&sb);
}

static void on_result(ui_job *j, const ev_event *ev, double now_ms)
{
    snprintf(j->outcome, sizeof j->outcome, "%s", ev->outcome ? ev->outcome : "?");
    j->exit_status = ev->exit_status;
    xstr_set(&j->result_message, ev->message);
    xstr_set(&j->final_state, ev->final_state);
    j->finished = 1;
    j->ended_ms = now_ms;
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "result: %s (exit status %d)", j->outcome, j->exit_status);
    if (j->result_message) sb_addf(&sb, ": %s", j->result_message);
    ui_job_log(j, strcmp(j->outcome, "errored") == 0 ? "error" : "info", sb_str(&sb));
    sb_free(&sb);
    /* a running step when a job was cancelled or ended stays as it was reported */
}

void ui_job_line(ui_job *j, int stream, const char *line, double now_ms)
{
    if (!*line) return;
    if (stream == 1) { /* stderr: human diagnostics */
        ui_job_log(j, "stderr", line);
        return;
    }
    ev_event ev;
    if (line[0] != '{' || ev_parse(line, &ev) != 0) {
        ui_job_log(j, "", line); /* plain text output (e.g. reset) */
        return;
    }
    switch (ev.kind) {
    case EV_JOB: on_job(j, &ev); break;
    case EV_STEP: on_step(j, &ev, now_ms); break;
    case EV_PREVIEW: on_preview(j, &ev); break;
    case EV_RESULT: on_result(j, &ev, now_ms); break;
    case EV_LOG: ui_job_log(j, ev.level, ev.text); break;
    default: break; /* unknown events are ignored, as docs/events.md asks */
    }
    ev_event_free(&ev);
}

void ui_job_feed(ui_job *j, int stream, const char *data, size_t n, double now_ms)
{
    if (stream < 0 || stream > 1) return;
    strbuf sb = STRBUF_INIT;
    if (j->partial[stream]) sb_add(&sb, j->partial[stream]);
    free(j->partial[stream]);
    j->partial[stream] = NULL;
    sb_addn(&sb, data, n);
    size_t len = sb.len;
    char *buf = sb_take(&sb), *p = buf, *end = buf + len, *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) { /* one pass over the chunk */
        *nl = '\0';
        ui_job_line(j, stream, p, now_ms);
        p = nl + 1;
    }
    if (*p) {
        if ((size_t)(end - p) > (1u << 20)) { /* a line without end: log what we have */
            ui_job_line(j, stream, p, now_ms);
        } else {
            j->partial[stream] = xstrdup(p);
        }
    }
    free(buf);
}

void ui_job_exited(ui_job *j, int wait_status, double now_ms)
{
    j->exited = 1;
    j->wait_status = wait_status;
    for (int s = 0; s < 2; s++) {
        if (j->partial[s]) {
            char *p = j->partial[s];
            j->partial[s] = NULL;
            ui_job_line(j, s, p, now_ms);
            free(p);
        }
    }
    int status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
    if (!j->finished) {
        j->finished = 1;
        j->ended_ms = now_ms;
        j->exit_status = status;
        if (strcmp(j->action, "reset") == 0 || strcmp(j->action, "rerun") == 0)
            snprintf(j->outcome, sizeof j->outcome, "%s", status == 0 ? "complete" : "errored");
        else
            snprintf(j->outcome, sizeof j->outcome, "%s", j->cancel_sent ? "cancelled" : "errored");
        char msg[160];
        if (WIFSIGNALED(wait_status))
            snprintf(msg, sizeof msg, "the job process was killed by signal %d before it reported a result",
                     WTERMSIG(wait_status));
        else if (status == 0)
            snprintf(msg, sizeof msg, "the job process finished (exit status 0)");
        else
            snprintf(msg, sizeof msg, "the job process ended with exit status %d without a result event", status);
        xstr_set(&j->result_message, msg);
        ui_job_log(j, status == 0 ? "info" : "error", msg);
    }
}
