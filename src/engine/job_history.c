/* job, the history recorder: the supervisor turns each job's events (docs/events.md) into one
 * history record (engine/history.h) and hands the records, in batches, to the history's writer
 * process, the one process that talks to the store (a slow or unreachable store never holds the
 * supervisor). See job.h ("History") and docs/history.md. Workers never see the store. */
#include "engine/job_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/history.h"
#include "engine/pii.h"
#include "engine/reason.h"
#include "common/json.h"
#include "common/xalloc.h"

/* Seconds between batches while jobs run; a lone job is sent at its start and end. */
#define FLUSH_EVERY_S 0.25
/* How long the end of a command waits for the writer to write what it has. */
#define FINISH_TIMEOUT_S 30.0

/* A running job's row is written once it has run this long (a lone job's at once): most jobs of
 * a bulk run end sooner and are written once, finished. */
#define RUNNING_ROW_AFTER_MS 1000

struct job_recorder {
    const cfg *config;
    hist_settings settings;
    hist_writer *writer;
    int writer_failed; /* it could not be started: records are dropped (and counted) */
    hist_job **pending; /* queued records (hj->queued); hj->owned: the job ended, freed once written */
    size_t n_pending;
    char *command, *operator_name, host[256]; /* the origin, scrubbed once */
    double last_flush;
    int running;       /* jobs begun and not ended */
    long long dropped; /* records lost (store down too long, or at exit) */
    long long written;
    char last_error[1024];
    job_history_warn_fn warn;
    void *warn_user;
};

static char *g_command, *g_operator;

void job_history_set_origin(const char *command, const char *operator_name)
{
    hist_set(&g_command, command);
    hist_set(&g_operator, operator_name && *operator_name ? operator_name : NULL);
}

void job_ctx_set_history_warn(job_ctx *ctx, job_history_warn_fn fn, void *user)
{
    ctx->history_warn = fn;
    ctx->history_warn_user = user;
    if (ctx->recorder) {
        ctx->recorder->warn = fn;
        ctx->recorder->warn_user = user;
    }
}

/* Says something about the history loudly: to the front end's callback, else on stderr. */
static void warn(job_recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(job_recorder *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (r->warn)
        r->warn(r->warn_user, buf);
    else
        fprintf(stderr, "retirectl: WARNING: %s\n", buf);
}

job_recorder *job_recorder_new(const cfg *config, job_history_warn_fn fn, void *user)
{
    hist_settings s;
    hist_settings_of(config, &s);
    if (!s.enabled) return NULL;
    job_recorder *r = xcalloc(1, sizeof *r);
    if (!r) return NULL;
    r->config = config;
    r->settings = s;
    r->warn = fn;
    r->warn_user = user;
    return r;
}

/* The ctx's recorder, created on first use; NULL when the config turns the history off. */
static job_recorder *recorder_of(job_ctx *ctx)
{
    if (!ctx->recorder) ctx->recorder = job_recorder_new(ctx->config, ctx->history_warn, ctx->history_warn_user);
    return ctx->recorder;
}

/* A problem the writer reported (a store it cannot open or write). */
static void writer_problem(void *user, const char *message)
{
    job_recorder *r = user;
    snprintf(r->last_error, sizeof r->last_error, "%s", message);
    warn(r, "%s%s; retirements go on and the audit log records them, but they are NOT in the history until it "
            "can be written (tried again every 30 s)",
         strncmp(message, "history", 7) == 0 ? "" : "history: ", message);
}

/* Starts the writer on first use. 0 when there is one. */
static int ensure_writer(job_recorder *r)
{
    if (r->writer) return 0;
    if (r->writer_failed) return -1;
    char err[1024] = "";
    r->writer = hist_writer_start(r->config, err, sizeof err);
    if (!r->writer) {
        r->writer_failed = 1;
        snprintf(r->last_error, sizeof r->last_error, "%s", err);
        warn(r, "%s; retirements go on and the audit log records them, but they are NOT in the history", err);
        return -1;
    }
    return 0;
}

/* Frees a record the recorder owns. */
static void drop(hist_job *hj)
{
    hist_job_clear(hj);
    free(hj);
}

/* Hands the writer the pending records: every finished one, and running ones that have run
 * RUNNING_ROW_AFTER_MS (all of them when all_running); then reads what it reported. */
static void flush_some(job_recorder *r, double now, int all_running)
{
    r->last_flush = now;
    if (r->writer) hist_writer_poll(r->writer, writer_problem, r);
    if (!r->n_pending) return;
    int ok = ensure_writer(r) == 0;
    hist_job **list = xmalloc(r->n_pending * sizeof *list);
    if (!list) return;
    size_t n = 0, keep = 0;
    long long old = hist_now_ms() - RUNNING_ROW_AFTER_MS;
    for (size_t i = 0; i < r->n_pending; i++) {
        hist_job *hj = r->pending[i];
        if (hj->owned || all_running || hj->started_ms <= old) list[n++] = hj;
        else r->pending[keep++] = hj; /* not yet: stays queued */
    }
    r->n_pending = keep;
    if (n && ok) hist_writer_send(r->writer, list, n);
    for (size_t i = 0; i < n; i++) {
        list[i]->queued = 0;
        if (!list[i]->owned) {
            list[i]->stored = 1; /* its running row exists (or is on its way): the end replaces it */
            continue;
        }
        if (!ok) r->dropped++;
        drop(list[i]);
    }
    free(list);
}

static void flush(job_recorder *r, double now)
{
    flush_some(r, now, 0);
}

/* Queues hj (once); owned: the recorder now owns it. */
static void enqueue(job_recorder *r, hist_job *hj, int owned)
{
    hj->owned |= owned;
    if (hj->queued) return;
    hist_job **n = xrealloc(r->pending, (r->n_pending + 1) * sizeof *n);
    if (!n) return;
    r->pending = n;
    r->pending[r->n_pending++] = hj;
    hj->queued = 1;
}

/* text without the learner's username (and email-shaped text), malloc'd; NULL for NULL. */
static char *scrubbed(const job *j, const char *text, size_t max)
{
    return text ? reason_scrub(j->ctx->config, NULL, j->username, text, max) : NULL;
}

/* text with the learner's username (when it occurs) scrubbed; base is already free of secrets and
 * email-shaped text. malloc'd. */
static char *without_user(const job_recorder *r, const char *base, const char *username)
{
    if (username && *username && strcasestr(base, username))
        return reason_scrub(r->config, NULL, username, base, 1024);
    return xstrdup(base);
}

/* Fills who, where and with which command line (learner data scrubbed) a record was made. */
static void set_origin(job_recorder *r, hist_job *hj, const char *username, const char *reason)
{
    if (!r->command) {
        /* once per recorder: the login name reads utmp, and a bulk run has thousands of jobs */
        r->command = reason_scrub(r->config, NULL, NULL, g_command ? g_command : hj->action ? hj->action : "", 1024);
        r->operator_name = g_operator ? xstrdup(g_operator) : pii_login_name();
        gethostname(r->host, sizeof r->host - 1);
    }
    free(hj->command);
    hj->command = without_user(r, r->command, username);
    free(hj->reason);
    hj->reason = reason && *reason ? reason_scrub(r->config, NULL, username, reason, 1024) : NULL;
    hist_set(&hj->operator_name, r->operator_name);
    hist_set(&hj->host, r->host);
    hj->pid = (long long)getpid();
    if (!hj->started_ms) hj->started_ms = hist_now_ms();
}

void job_recorder_add(job_recorder *r, hist_job *hj, const char *username, const char *reason)
{
    if (!r) {
        hist_job_clear(hj);
        free(hj);
        return;
    }
    set_origin(r, hj, username, reason);
    if (!hj->ended_ms) hj->ended_ms = hist_now_ms();
    enqueue(r, hj, 1);
    double now = job_now();
    if (now - r->last_flush >= FLUSH_EVERY_S || r->n_pending >= 500) flush(r, now);
}

void job_history_begin(job *j, const job_spec *spec)
{
    if (spec->action == JOB_PLAN || spec->dry_run) return;
    job_recorder *r = recorder_of(j->ctx);
    if (!r) return;
    hist_job *hj = xcalloc(1, sizeof *hj);
    if (!hj) return;
    hist_job_init(hj);
    hist_set(&hj->action, spec->label ? spec->label : spec->action == JOB_RERUN ? "rerun" : "retire");
    set_origin(r, hj, j->username, spec->reason);
    j->hist = hj;
    r->running++;
    /* its "running" row is written once the job event names the learner */
}

/* A failed step: what failed, and the failure object the worker attached (reason.h). */
static void note_failed_step(hist_job *hj, const ev_event *ev)
{
    hj->fail_step = ev->index;
    hist_set(&hj->fail_driver, ev->driver);
    hist_set(&hj->fail_method, ev->method);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(ev->json, "failure");
    if (!cJSON_IsObject(f)) return;
    hist_set(&hj->fail_request, json_str(f, "request"));
    hist_set(&hj->fail_server_text, json_str(f, "server_text"));
    hist_set(&hj->fail_transport, json_str(f, "transport_error"));
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(f, "http_status");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(f, "attempts");
    if (cJSON_IsNumber(st)) hj->fail_http_status = (long)st->valuedouble;
    if (cJSON_IsNumber(at)) hj->fail_attempts = at->valueint;
}

/* The job ended (result, or abandoned): the record goes to the recorder. */
static void end_record(job *j, job_recorder *r)
{
    hist_job *hj = j->hist;
    j->hist = NULL;
    if (!hj->ended_ms) hj->ended_ms = hist_now_ms();
    if (!hj->outcome) {
        hist_set(&hj->outcome, "abandoned");
        hist_set(&hj->message, "the supervising process stopped following the job before its result");
    }
    enqueue(r, hj, 1);
    if (r->running > 0) r->running--;
    double now = job_now();
    if (r->running == 0 || now - r->last_flush >= FLUSH_EVERY_S) flush(r, now);
}

void job_history_event(job *j, const ev_event *ev)
{
    hist_job *hj = j->hist;
    job_recorder *r = j->ctx->recorder;
    if (!hj || !r) return;
    switch (ev->kind) {
    case EV_JOB: {
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive(ev->json, "lms_user_id");
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(ev->json, "retirement_id");
        if (cJSON_IsNumber(uid)) hj->lms_user_id = (long long)uid->valuedouble;
        if (cJSON_IsNumber(rid)) hj->retirement_id = (long long)rid->valuedouble;
        hist_set(&hj->from_state, ev->current_state);
        enqueue(r, hj, 0);
        if (r->running == 1) { /* a lone job: its running row now (bulk runs: the next batches) */
            flush_some(r, job_now(), 1);
            return;
        }
        break;
    }
    case EV_STEP: {
        if (ev->index < 0 || !ev->status) break;
        hist_step *s = hist_job_step(hj, ev->index);
        if (!s->driver) {
            hist_set(&s->start_state, ev->start_state);
            hist_set(&s->end_state, ev->end_state);
            hist_set(&s->driver, ev->driver);
            hist_set(&s->method, ev->method);
        }
        if (strcmp(ev->status, "retrying") == 0) {
            if (ev->attempt > s->attempts) s->attempts = ev->attempt;
            break;
        }
        hist_set(&s->status, ev->status);
        if (ev->elapsed_ms >= 0 && strcmp(ev->status, "running") != 0) s->duration_ms = ev->elapsed_ms;
        if (strcmp(ev->status, "failed") == 0) {
            note_failed_step(hj, ev);
            if (hj->fail_attempts > s->attempts) s->attempts = hj->fail_attempts;
        }
        break;
    }
    case EV_RESULT:
        hist_set(&hj->outcome, ev->outcome ? ev->outcome : "errored");
        hj->exit_status = ev->exit_status;
        hist_set(&hj->final_state, ev->final_state);
        free(hj->message);
        /* the worker's copy without the learner's data when it differs; scrubbed again here */
        hj->message = scrubbed(j, json_str(ev->json, "history_message") ? json_str(ev->json, "history_message")
                                                                        : ev->message,
                               HIST_SERVER_TEXT_MAX);
        hj->ended_ms = hist_now_ms();
        end_record(j, r);
        return;
    default:
        break;
    }
    double now = job_now();
    if (r->n_pending && now - r->last_flush >= FLUSH_EVERY_S) flush(r, now);
}

void job_history_end(job *j)
{
    if (!j->hist) return;
    job_recorder *r = j->ctx->recorder;
    if (!r) return;
    end_record(j, r);
}

int job_ctx_history_flush(job_ctx *ctx)
{
    job_recorder *r = ctx->recorder;
    if (!r) return 0;
    flush(r, job_now());
    return r->writer_failed ? -1 : 0;
}

void job_history_ctx_free(job_ctx *ctx)
{
    job_recorder_free(ctx->recorder);
    ctx->recorder = NULL;
}

void job_recorder_free(job_recorder *r)
{
    if (!r) return;
    flush(r, job_now());
    long long lost = r->dropped;
    for (size_t i = 0; i < r->n_pending; i++) {
        r->pending[i]->queued = 0;
        if (!r->pending[i]->owned) continue; /* still owned by a live job */
        lost++;
        drop(r->pending[i]);
    }
    long long unwritten = r->writer ? hist_writer_finish(r->writer, FINISH_TIMEOUT_S, writer_problem, r) : 0;
    if (unwritten < 0 || lost + unwritten > 0) {
        char count[64];
        if (unwritten < 0)
            snprintf(count, sizeof count, "some jobs");
        else
            snprintf(count, sizeof count, "%lld job(s)", lost + unwritten);
        warn(r, "history: %s were NOT recorded in the history (%s); the retirements themselves ran and the audit "
                "log has them",
             count, r->last_error[0] ? r->last_error : "the store could not be written");
    }
    free(r->pending);
    free(r->command);
    free(r->operator_name);
    free(r);
}
