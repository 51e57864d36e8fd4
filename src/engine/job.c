/* job: worker process per learner + supervisor. See job.h. */
#include "engine/job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/drv_common.h"
#include "drivers/pyrepr.h"
#include "engine/host.h"
#include "engine/plan.h"
#include "engine/strbuf.h"

struct job_ctx {
    const cfg *config;
    http_client *http;
    lms_client *lms;
    reg *registry;
    int own_http, own_lms, own_reg;
    double step_timeout;
    int min_http_log_level; /* HTTP log lines below this level are not sent as `log` events */
};

struct job {
    job_ctx *ctx;
    char *username;
    job_spec spec; /* strings below are owned copies */
    char *label, *driver, *method, *bracket_start, *bracket_end;
    job_event_fn fn;
    void *user;
    pid_t pid;
    int fd;
    strbuf buf;
    int reaped;
    int wait_status;
    int done;
    /* tracking from events */
    int in_step;
    int step_index;
    char *step_start, *step_end, *step_driver, *step_method;
    double step_started;
    int got_result;
    int exit_status;
    char *outcome;
    char *message;
    int steps_run, steps_skipped;
    long lms_user_id, retirement_id;
    /* supervisor actions */
    int killed_timeout;
    int cancel_count;
    double timeout_used;
    double started;   /* when the worker was started (the timeout applies until the first step too) */
    int seen_step;    /* a step has started: the set-up phase is over */
    char *phase;      /* shared with the worker (JOB_PHASE_LEN bytes): "<DRIVER>.get_instance" while
                         it starts a driver, "" otherwise; names what a set-up crash or hang was in */
};

#define JOB_PHASE_LEN 256

/* ------------------------------------------------------------------------------------------ */
/* context */

job_ctx *job_ctx_new_with(const cfg *config, http_client *http, lms_client *lms, reg *registry, char *err,
                          size_t err_len)
{
    job_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    ctx->config = config;
    ctx->step_timeout = config->step_timeout_seconds > 0 ? config->step_timeout_seconds : 900;
    if (http) {
        ctx->http = http;
    } else {
        ctx->http = http_client_new(config, err, err_len);
        if (!ctx->http) {
            free(ctx);
            return NULL;
        }
        ctx->own_http = 1;
    }
    if (lms) {
        ctx->lms = lms;
    } else {
        const char *base = cfg_string(config, "base_urls.lms");
        if (!base) {
            snprintf(err, err_len, "%s: base_urls.lms is missing; add the LMS root URL under base_urls:",
                     config->path ? config->path : "config");
            job_ctx_free(ctx);
            return NULL;
        }
        ctx->lms = lms_new(ctx->http, base);
        ctx->own_lms = 1;
    }
    if (registry) {
        ctx->registry = registry;
    } else {
        ctx->registry = reg_new(config, NULL);
        ctx->own_reg = 1;
    }
    return ctx;
}

job_ctx *job_ctx_new(const cfg *config, const char *const *driver_paths, char *err, size_t err_len)
{
    reg *r = reg_new(config, driver_paths);
    job_ctx *ctx = job_ctx_new_with(config, NULL, NULL, r, err, err_len);
    if (!ctx) {
        reg_free(r);
        return NULL;
    }
    ctx->own_reg = 1;
    return ctx;
}

int job_ctx_prepare(job_ctx *ctx, char *err, size_t err_len)
{
    return http_ensure_token(ctx->http, err, err_len);
}

void job_ctx_free(job_ctx *ctx)
{
    if (!ctx) return;
    if (ctx->own_lms && ctx->lms) lms_free(ctx->lms);
    if (ctx->own_http && ctx->http) http_client_free(ctx->http);
    if (ctx->own_reg && ctx->registry) reg_free(ctx->registry);
    free(ctx);
}

const cfg *job_ctx_config(const job_ctx *ctx) { return ctx->config; }
http_client *job_ctx_http(job_ctx *ctx) { return ctx->http; }
lms_client *job_ctx_lms(job_ctx *ctx) { return ctx->lms; }
reg *job_ctx_registry(job_ctx *ctx) { return ctx->registry; }

void job_ctx_set_step_timeout(job_ctx *ctx, double seconds)
{
    if (seconds > 0) ctx->step_timeout = seconds;
}

void job_ctx_set_http_log_level(job_ctx *ctx, int min_level)
{
    ctx->min_http_log_level = min_level;
}

double job_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------------------------ */
/* worker */

static volatile int g_cancel; /* set by SIGINT/SIGTERM in the worker */

static void worker_on_signal(int sig)
{
    (void)sig;
    g_cancel = 1;
}

typedef struct worker {
    job_ctx *ctx;
    const job *j;
    ev_writer w;
    int step_index;          /* step in flight, -1 when none */
    const char *step_start, *step_end, *step_driver, *step_method;
    cJSON *learner;
    char *lms_base;
    int job_emitted;       /* the `job` event went out: log lines flow directly */
    cJSON *held;           /* log events held until then ([level, text] pairs) */
} worker;

/* Writes a log event, or holds it until the job event (so `job` comes first). */
static void worker_log(worker *wk, const char *level, const char *text)
{
    if (wk->job_emitted) {
        ev_emit_log(&wk->w, level, "%s", text);
        return;
    }
    if (!wk->held) wk->held = cJSON_CreateArray();
    cJSON *pair = cJSON_CreateArray();
    cJSON_AddItemToArray(pair, cJSON_CreateString(level));
    cJSON_AddItemToArray(pair, cJSON_CreateString(text));
    cJSON_AddItemToArray(wk->held, pair);
}

/* Emits the held log lines (after the job event). */
static void flush_held(worker *wk)
{
    wk->job_emitted = 1;
    cJSON *p;
    cJSON_ArrayForEach(p, wk->held)
    {
        ev_emit_log(&wk->w, cJSON_GetArrayItem(p, 0)->valuestring, "%s", cJSON_GetArrayItem(p, 1)->valuestring);
    }
    cJSON_Delete(wk->held);
    wk->held = NULL;
}

/* Python's str() of a float, for "completed in N seconds". */
static void py_float(char *buf, size_t len, double v)
{
    char *s = NULL;
    char tmp[64];
    /* shortest round trip, Python style (via pyrepr of a JSON number with a fraction part) */
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    s = pyrepr_json(tmp, 0);
    snprintf(buf, len, "%s", s ? s : tmp);
    free(s);
}

/* Parses the first number following `key` in text, or -1. */
static double number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p) return -1;
    p += strlen(key);
    while (*p == ' ') p++;
    char *end;
    double v = strtod(p, &end);
    return end == p ? -1 : v;
}

/* http log callback: log event, plus a `retrying` step event while a step is in flight. */
static void worker_http_log(void *user, rd_log_level level, const char *line)
{
    worker *wk = user;
    if ((int)level >= wk->ctx->min_http_log_level) worker_log(wk, ev_level_name((int)level), line);
    if (wk->step_index >= 0 && (strstr(line, "Trying again") || strstr(line, "trying again"))) {
        cJSON *o = ev_step_object(wk->step_index, wk->step_start, wk->step_end, wk->step_driver, wk->step_method);
        cJSON_AddStringToObject(o, "status", "retrying");
        double wait = number_after(line, "again in");
        double tries = number_after(line, "after");
        if (tries < 0) tries = number_after(line, "attempt");
        if (tries >= 0) cJSON_AddNumberToObject(o, "attempt", tries + 1);
        if (wait >= 0) cJSON_AddNumberToObject(o, "retry_in_ms", floor(wait * 1000.0));
        cJSON_AddStringToObject(o, "message", line);
        ev_emit(&wk->w, "step", o);
    }
}

static void worker_driver_log(void *user, rd_log_level level, const char *text)
{
    worker *wk = user;
    worker_log(wk, ev_level_name((int)level), text);
}

static void worker_driver_progress(void *user, const char *text)
{
    worker *wk = user;
    if (wk->step_index < 0) return;
    cJSON *o = ev_step_object(wk->step_index, wk->step_start, wk->step_end, wk->step_driver, wk->step_method);
    cJSON_AddStringToObject(o, "status", "running");
    cJSON_AddStringToObject(o, "progress", text);
    ev_emit(&wk->w, "step", o);
}

/* Text of an LMS error the way the upstream script records it (requests' HTTPError text when
 * there was an HTTP answer). malloc'd. */
static char *lms_error_text(worker *wk, const lms_error *e, const char *path)
{
    if (e->status >= 400 && e->status < 600 && wk->lms_base) {
        char *url = http_url_join(wk->lms_base, path);
        char *t = pyrepr_http_error(e->status, url);
        free(url);
        return t;
    }
    return strdup(e->message[0] ? e->message : "no answer from the LMS");
}

/* Python json.dumps of {"username": u, "new_state": s, "response": r[, "force": true]}. */
static char *patch_body(const char *u, const char *s, const char *r, int force)
{
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, "{\"username\": ");
    drv_json_str(&sb, u);
    sb_add(&sb, ", \"new_state\": ");
    drv_json_str(&sb, s);
    sb_add(&sb, ", \"response\": ");
    drv_json_str(&sb, r);
    if (force) sb_add(&sb, ", \"force\": true");
    sb_add(&sb, "}");
    return sb_take(&sb);
}

/* PATCH update_retirement_status; on failure fills *err_text (malloc'd). */
static int worker_patch(worker *wk, const char *state, const char *response, int force, char **err_text)
{
    lms_error e;
    memset(&e, 0, sizeof e);
    int rc = lms_update_state(wk->ctx->lms, wk->j->username, state, response, force, &e);
    if (rc != 0 && err_text) *err_text = lms_error_text(wk, &e, "api/user/v1/accounts/update_retirement_status");
    lms_error_clear(&e);
    return rc;
}

/* Python repr of the learner dict (for upstream messages). malloc'd. */
static char *learner_repr(const cJSON *learner)
{
    char *json = cJSON_PrintUnformatted(learner);
    char *r = json ? pyrepr_json(json, 0) : NULL;
    free(json);
    return r ? r : strdup("{}");
}

typedef struct drv_slot {
    const char *name;
    const rd_driver *driver;
    void *instance;
    rd_host *host;
    char *error; /* instantiation error */
} drv_slot;

typedef struct drv_cache {
    drv_slot *slots;
    size_t n;
} drv_cache;

/* Returns the slot for name, instantiating on first use (in the worker only). */
static drv_slot *drv_get(worker *wk, drv_cache *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->slots[i].name, name) == 0) return &c->slots[i];
    drv_slot *ns = realloc(c->slots, (c->n + 1) * sizeof *ns);
    if (!ns) abort();
    c->slots = ns;
    drv_slot *s = &c->slots[c->n++];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->host = host_new(wk->ctx->config, wk->ctx->http, name, worker_driver_log, worker_driver_progress, wk, &g_cancel);
    char err[2048] = "";
    if (wk->j->phase) snprintf(wk->j->phase, JOB_PHASE_LEN, "loading the plugin of driver %s", name);
    (void)reg_load(wk->ctx->registry, name, err, sizeof err); /* the error, if any, comes again below */
    err[0] = '\0';
    if (wk->j->phase) snprintf(wk->j->phase, JOB_PHASE_LEN, "%s.get_instance", name);
    s->instance = reg_instantiate(wk->ctx->registry, name, wk->ctx->config->root, s->host, &s->driver, err, sizeof err);
    if (wk->j->phase) wk->j->phase[0] = '\0';
    if (!s->instance) s->error = strdup(err[0] ? err : "the driver could not start");
    return s;
}

static void drv_cache_free(drv_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->slots[i].instance && c->slots[i].driver && c->slots[i].driver->destroy)
            c->slots[i].driver->destroy(c->slots[i].instance);
        host_free(c->slots[i].host);
        free(c->slots[i].error);
    }
    free(c->slots);
}

/* Finds the method of a slot, or sets a message. */
static const rd_method *slot_method(drv_slot *s, const char *method, char *msg, size_t len)
{
    if (!s->instance) {
        snprintf(msg, len, "%s", s->error);
        return NULL;
    }
    const rd_method *m = reg_method(s->driver, method);
    if (!m || !m->run) snprintf(msg, len, "driver %s has no method %s; check the pipeline row", s->name, method);
    return m && m->run ? m : NULL;
}

static const char *action_label(const job *j)
{
    if (j->spec.label) return j->spec.label;
    if (j->spec.action == JOB_RERUN) return "rerun";
    if (j->spec.action == JOB_PLAN || j->spec.dry_run) return "plan";
    return "retire";
}

/* The `job` event. plan_p may be NULL (refused / unknown). */
static void emit_job_event(worker *wk, const cJSON *learner, const char *state, const plan *p, const char *const *plan_override)
{
    const cfg *c = wk->ctx->config;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "action", action_label(wk->j));
    cJSON_AddBoolToObject(o, "dry_run", wk->j->spec.action == JOB_PLAN || wk->j->spec.dry_run);
    if (state) cJSON_AddStringToObject(o, "current_state", state);
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(learner, "id");
    if (cJSON_IsNumber(rid)) cJSON_AddNumberToObject(o, "retirement_id", rid->valuedouble);
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(learner, "user"), "id");
    if (cJSON_IsNumber(uid)) cJSON_AddNumberToObject(o, "lms_user_id", uid->valuedouble);
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    if (wk->j->spec.action == JOB_RERUN) {
        int idx = wk->step_index >= 0 ? wk->step_index : 0;
        cJSON *s = ev_step_object(idx, wk->j->spec.bracket_start ? wk->j->spec.bracket_start : "",
                                  wk->j->spec.bracket_end ? wk->j->spec.bracket_end : "", wk->j->spec.driver,
                                  wk->j->spec.method);
        cJSON_AddStringToObject(s, "plan", "run");
        cJSON_AddItemToArray(steps, s);
    } else {
        for (size_t i = 0; i < c->n_steps; i++) {
            cJSON *s = ev_step_object((int)i, c->steps[i].start_state, c->steps[i].end_state, c->steps[i].driver,
                                      c->steps[i].method);
            const char *pl = NULL;
            if (plan_override && plan_override[i])
                pl = plan_override[i];
            else if (p && p->actions)
                pl = p->actions[i] == PLAN_SKIP ? "skip" : "run";
            if (pl) cJSON_AddStringToObject(s, "plan", pl);
            cJSON_AddItemToArray(steps, s);
        }
    }
    ev_emit(&wk->w, "job", o);
    flush_held(wk);
}

/* Ends the worker: result event and exit status. */
static int finish(worker *wk, const char *outcome, int status, const char *message, const char *final_state)
{
    if (!wk->job_emitted) flush_held(wk);
    ev_emit_result(&wk->w, outcome, status, message, final_state);
    return status;
}

/* The exception path of retire_one_learner.py: log, PATCH ERRORED, exit 252. */
static int fail_retiring(worker *wk, const char *start_state, const char *msg)
{
    ev_emit_log(&wk->w, "error", "Error in retirement state %s: %s", start_state ? start_state : "None", msg);
    char *perr = NULL;
    const char *final = PLAN_ERROR_STATE;
    if (worker_patch(wk, PLAN_ERROR_STATE, msg, 0, &perr) != 0) {
        ev_emit_log(&wk->w, "error", "Critical error attempting to change learner state to ERRORED: %s", perr);
        final = NULL;
    }
    free(perr);
    ev_emit_log(&wk->w, "error", "Error encountered in state \"%s\"\n%s", start_state ? start_state : "None", msg);
    return finish(wk, "errored", 252, msg, final);
}

/* Emits a step event with status and optional elapsed/message. */
static void emit_step(worker *wk, int index, const cfg_step *s, const char *status, long elapsed_ms,
                      const char *message)
{
    cJSON *o = ev_step_object(index, s->start_state, s->end_state, s->driver, s->method);
    cJSON_AddStringToObject(o, "status", status);
    if (elapsed_ms >= 0) cJSON_AddNumberToObject(o, "elapsed_ms", (double)elapsed_ms);
    if (message) cJSON_AddStringToObject(o, "message", message);
    ev_emit(&wk->w, "step", o);
}

/* GET status and validate the record; returns 0 with *learner and *state, or an exit status
 * after emitting the closing events. */
static int fetch_learner(worker *wk, cJSON **learner_out, const char **state_out)
{
    lms_error e;
    memset(&e, 0, sizeof e);
    cJSON *learner = NULL;
    const char *u = wk->j->username;
    if (lms_get_status(wk->ctx->lms, u, &learner, &e) != 0) {
        int rc;
        if (e.status == 404) {
            char msg[1024];
            snprintf(msg, sizeof msg,
                     "Learner %s not found. Please check that the learner is present in UserRetirementStatus, is "
                     "not already retired, and is in an appropriate state to be acted upon.",
                     u);
            emit_job_event(wk, NULL, NULL, NULL, NULL);
            ev_emit_log(&wk->w, "error", "%s", msg);
            rc = finish(wk, "refused", 251, msg, NULL);
        } else {
            char *t = lms_error_text(wk, &e, "api/user/v1/accounts/retirement_status");
            strbuf sb = STRBUF_INIT;
            sb_addf(&sb, "Unexpected error fetching user state!\n%s", t);
            emit_job_event(wk, NULL, NULL, NULL, NULL);
            ev_emit_log(&wk->w, "error", "%s", sb_str(&sb));
            rc = finish(wk, "refused", 255, sb_str(&sb), NULL);
            sb_free(&sb);
            free(t);
        }
        lms_error_clear(&e);
        return rc;
    }
    lms_error_clear(&e);
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(learner, "current_state");
    const cJSON *sn = cJSON_GetObjectItemCaseSensitive(cs, "state_name");
    if (!cJSON_IsObject(learner) || !cJSON_IsString(sn)) {
        char *r = learner_repr(learner);
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "Bad learner response missing current_state or state_name: %s", r);
        emit_job_event(wk, learner, NULL, NULL, NULL);
        ev_emit_log(&wk->w, "error", "%s", sb_str(&sb));
        int rc = finish(wk, "refused", 251, sb_str(&sb), NULL);
        sb_free(&sb);
        free(r);
        cJSON_Delete(learner);
        return rc;
    }
    *learner_out = learner;
    *state_out = sn->valuestring;
    return 0;
}

/* fetch_ecommerce_segment_id: sets learner.ecommerce_segment_id; returns 0 or an exit status. */
static int fetch_segment_id(worker *wk, drv_cache *dc, cJSON *learner, int preview)
{
    drv_slot *s = drv_get(wk, dc, "ECOMMERCE");
    char msg[4096];
    const rd_method *m = slot_method(s, "get_tracking_key", msg, sizeof msg);
    host_call hc;
    if (!m) {
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "Unexpected error fetching Ecommerce tracking id!\n%s", msg);
        ev_emit_log(&wk->w, "error", "%s", sb_str(&sb));
        int rc = finish(wk, "refused", 255, sb_str(&sb), NULL);
        sb_free(&sb);
        return rc;
    }
    if (preview) {
        host_call_init(&hc, s->host, 1);
        if (m->preview) m->preview(s->instance, learner, &hc.call);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", -1);
        cJSON_AddStringToObject(o, "driver", "ECOMMERCE");
        cJSON_AddStringToObject(o, "method", "get_tracking_key");
        cJSON_AddStringToObject(o, "plan", "run");
        cJSON_AddItemToObject(o, "requests", hc.requests);
        hc.requests = NULL;
        cJSON_AddStringToObject(o, "message", "fetch_ecommerce_segment_id: the tracking id is read before the steps");
        ev_emit(&wk->w, "preview", o);
        host_call_done(&hc);
        return 0;
    }
    host_call_init(&hc, s->host, 0);
    rd_status st = m->run(s->instance, learner, &hc.call);
    if (st == RD_OK) {
        cJSON *v = cJSON_Parse(hc.call.message);
        if (!v) v = cJSON_CreateString(hc.call.message);
        cJSON_DeleteItemFromObjectCaseSensitive(learner, "ecommerce_segment_id");
        cJSON_AddItemToObject(learner, "ecommerce_segment_id", v);
    } else if (st == RD_NOT_FOUND) {
        char *r = learner_repr(learner);
        ev_emit_log(&wk->w, "info", "Learner %s not found in Ecommerce. Setting Ecommerce Segment ID to None", r);
        free(r);
        cJSON_DeleteItemFromObjectCaseSensitive(learner, "ecommerce_segment_id");
        cJSON_AddNullToObject(learner, "ecommerce_segment_id");
    } else {
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "Unexpected error fetching Ecommerce tracking id!\n%s", hc.call.message);
        ev_emit_log(&wk->w, "error", "%s", sb_str(&sb));
        int rc = finish(wk, "refused", 255, sb_str(&sb), NULL);
        sb_free(&sb);
        host_call_done(&hc);
        return rc;
    }
    host_call_done(&hc);
    return 0;
}

/* Refusal of plan: emits events and returns the status. */
static int refuse(worker *wk, const cJSON *learner, const char *state, const plan *p)
{
    char *msg;
    if (p->refusal == PLAN_UNKNOWN_STATE) {
        char *r = learner_repr(learner);
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "Unknown learner retirement state for learner: %s", r);
        free(r);
        msg = sb_take(&sb);
    } else {
        msg = strdup(p->message);
    }
    emit_job_event(wk, learner, state, NULL, NULL);
    ev_emit_log(&wk->w, "error", "%s", msg);
    int rc = finish(wk, "refused", (int)p->refusal, msg, state);
    free(msg);
    return rc;
}

/* Dry-run of the pipeline. */
static int worker_plan(worker *wk, drv_cache *dc, cJSON *learner, const char *state, const plan *p)
{
    const cfg *c = wk->ctx->config;
    const char **override = calloc(c->n_steps + 1, sizeof *override);
    char **fail_msg = calloc(c->n_steps + 1, sizeof *fail_msg);
    int failures = 0;
    for (size_t i = 0; i < c->n_steps; i++) {
        if (p->actions[i] != PLAN_RUN) continue;
        drv_slot *s = drv_get(wk, dc, c->steps[i].driver);
        char msg[4096];
        if (!slot_method(s, c->steps[i].method, msg, sizeof msg)) {
            override[i] = "fail";
            fail_msg[i] = strdup(msg);
            failures++;
        }
    }
    emit_job_event(wk, learner, state, p, override);
    if (cfg_bool(c, "fetch_ecommerce_segment_id", 0)) {
        int rc = fetch_segment_id(wk, dc, learner, 1);
        if (rc) {
            free(override);
            for (size_t i = 0; i < c->n_steps; i++) free(fail_msg[i]);
            free(fail_msg);
            return rc;
        }
    }
    char *update_url = http_url_join(wk->lms_base ? wk->lms_base : "", "api/user/v1/accounts/update_retirement_status");
    static const char *const hdrs[] = {"Authorization: JWT ********", "Content-type: application/json", NULL};
    for (size_t i = 0; i < c->n_steps; i++) {
        const cfg_step *st = &c->steps[i];
        cJSON *o = ev_step_object((int)i, st->start_state, st->end_state, st->driver, st->method);
        if (p->actions[i] == PLAN_SKIP) {
            cJSON_AddStringToObject(o, "plan", "skip");
            cJSON_AddItemToObject(o, "requests", cJSON_CreateArray());
            char m[512];
            snprintf(m, sizeof m, "State %s completed in previous run, skipping", st->start_state);
            cJSON_AddStringToObject(o, "message", m);
            ev_emit(&wk->w, "preview", o);
            continue;
        }
        if (override[i]) {
            cJSON_AddStringToObject(o, "plan", "fail");
            cJSON_AddItemToObject(o, "requests", cJSON_CreateArray());
            cJSON_AddStringToObject(o, "message", fail_msg[i]);
            ev_emit(&wk->w, "preview", o);
            continue;
        }
        cJSON_AddStringToObject(o, "plan", "run");
        drv_slot *s = drv_get(wk, dc, st->driver);
        const rd_method *m = reg_method(s->driver, st->method);
        host_call hc;
        host_call_init(&hc, s->host, 1);
        char start_msg[512];
        snprintf(start_msg, sizeof start_msg, "Starting: %s", st->start_state);
        char *b1 = patch_body(wk->j->username, st->start_state, start_msg, 0);
        host_describe(hc.requests, "PATCH", update_url, hdrs, b1);
        free(b1);
        if (m->preview) {
            m->preview(s->instance, learner, &hc.call);
        } else {
            rd_call_message(&hc.call, "driver %s has no preview for %s: it would be called with the learner",
                            st->driver, st->method);
        }
        strbuf end_msg = STRBUF_INIT;
        sb_addf(&end_msg, "Ending: %s with response:\n<response>", st->end_state);
        char *b2 = patch_body(wk->j->username, st->end_state, sb_str(&end_msg), 0);
        host_describe(hc.requests, "PATCH", update_url, hdrs, b2);
        free(b2);
        sb_free(&end_msg);
        cJSON_AddItemToObject(o, "requests", hc.requests);
        hc.requests = NULL;
        cJSON_AddStringToObject(o, "message", hc.call.message);
        host_call_done(&hc);
        ev_emit(&wk->w, "preview", o);
    }
    char *b3 = patch_body(wk->j->username, PLAN_COMPLETE_STATE, "Learner retirement complete.", 0);
    ev_emit_log(&wk->w, "info", "Then: PATCH %s %s", update_url, b3);
    free(b3);
    free(update_url);
    for (size_t i = 0; i < c->n_steps; i++) free(fail_msg[i]);
    free(fail_msg);
    free(override);
    char summary[512];
    if (failures) {
        snprintf(summary, sizeof summary, "Dry run: %zu steps would run, %zu would be skipped, %d cannot run", p->n_run,
                 p->n_skip, failures);
        return finish(wk, "planned", 255, summary, state);
    }
    snprintf(summary, sizeof summary, "Dry run: %zu steps would run, %zu would be skipped; nothing was changed",
             p->n_run, p->n_skip);
    return finish(wk, "planned", 0, summary, state);
}

/* retire_one_learner.py step loop. */
static int worker_retire(worker *wk, drv_cache *dc, cJSON *learner, const char *state, const plan *p)
{
    const cfg *c = wk->ctx->config;
    const char *u = wk->j->username;
    /* Start every driver the run needs before changing any state (upstream builds all its API
     * clients at setup: a failure there is ERR_SETUP_FAILED with nothing changed). */
    for (size_t i = 0; i < c->n_steps; i++) {
        if (p->actions[i] != PLAN_RUN) continue;
        drv_slot *s = drv_get(wk, dc, c->steps[i].driver);
        char msg[4096];
        if (!slot_method(s, c->steps[i].method, msg, sizeof msg)) {
            emit_job_event(wk, learner, state, p, NULL);
            strbuf sb = STRBUF_INIT;
            sb_addf(&sb, "Unexpected error occurred!\n%s", msg);
            ev_emit_log(&wk->w, "error", "%s", sb_str(&sb));
            int rc = finish(wk, "refused", 255, sb_str(&sb), state);
            sb_free(&sb);
            return rc;
        }
    }
    emit_job_event(wk, learner, state, p, NULL);
    if (cfg_bool(c, "fetch_ecommerce_segment_id", 0)) {
        int rc = fetch_segment_id(wk, dc, learner, 0);
        if (rc) return rc;
    }
    const char *start_state = NULL, *last_state = state;
    for (size_t i = 0; i < c->n_steps; i++) {
        const cfg_step *st = &c->steps[i];
        start_state = st->start_state;
        if (p->actions[i] == PLAN_SKIP) {
            ev_emit_log(&wk->w, "info", "State %s completed in previous run, skipping", st->start_state);
            emit_step(wk, (int)i, st, "skipped", -1, NULL);
            continue;
        }
        if (g_cancel) {
            char msg[1024];
            snprintf(msg, sizeof msg,
                     "Retirement of %s cancelled by the operator before state %s; the learner stays in %s", u,
                     st->start_state, last_state);
            ev_emit_log(&wk->w, "warn", "%s", msg);
            return finish(wk, "cancelled", JOB_EXIT_CANCELLED, msg, last_state);
        }
        ev_emit_log(&wk->w, "info", "Starting state %s", st->start_state);
        char start_msg[512];
        snprintf(start_msg, sizeof start_msg, "Starting: %s", st->start_state);
        char *perr = NULL;
        if (worker_patch(wk, st->start_state, start_msg, 0, &perr) != 0) {
            emit_step(wk, (int)i, st, "failed", 0, perr);
            int rc = fail_retiring(wk, start_state, perr);
            free(perr);
            return rc;
        }
        last_state = st->start_state;
        wk->step_index = (int)i;
        wk->step_start = st->start_state;
        wk->step_end = st->end_state;
        wk->step_driver = st->driver;
        wk->step_method = st->method;
        emit_step(wk, (int)i, st, "running", 0, NULL);
        drv_slot *s = drv_get(wk, dc, st->driver);
        const rd_method *m = reg_method(s->driver, st->method);
        host_call hc;
        host_call_init(&hc, s->host, 0);
        double t0 = job_now();
        rd_status rs = m->run(s->instance, learner, &hc.call);
        double secs = job_now() - t0;
        long ms = (long)(secs * 1000.0 + 0.5);
        wk->step_index = -1;
        if (rs != RD_OK && rs != RD_NOT_FOUND) {
            const char *msg = hc.call.message[0] ? hc.call.message : "the driver failed without a message";
            emit_step(wk, (int)i, st, "failed", ms, msg);
            int rc = fail_retiring(wk, start_state, msg);
            host_call_done(&hc);
            return rc;
        }
        char fsecs[64];
        py_float(fsecs, sizeof fsecs, secs);
        ev_emit_log(&wk->w, "info", "State %s completed in %s seconds", st->start_state, fsecs);
        strbuf end_msg = STRBUF_INIT;
        sb_addf(&end_msg, "Ending: %s with response:\n%s", st->end_state, hc.call.message[0] ? hc.call.message : "None");
        host_call_done(&hc);
        if (worker_patch(wk, st->end_state, sb_str(&end_msg), 0, &perr) != 0) {
            emit_step(wk, (int)i, st, "failed", ms, perr);
            int rc = fail_retiring(wk, start_state, perr);
            free(perr);
            sb_free(&end_msg);
            return rc;
        }
        last_state = st->end_state;
        emit_step(wk, (int)i, st, "done", ms, sb_str(&end_msg));
        sb_free(&end_msg);
        ev_emit_log(&wk->w, "info", "Progressing to state %s", st->end_state);
        if (g_cancel) {
            char msg[1024];
            snprintf(msg, sizeof msg,
                     "Retirement of %s cancelled by the operator after state %s completed; the learner stays in %s",
                     u, st->start_state, st->end_state);
            ev_emit_log(&wk->w, "warn", "%s", msg);
            return finish(wk, "cancelled", JOB_EXIT_CANCELLED, msg, st->end_state);
        }
    }
    char *perr = NULL;
    if (worker_patch(wk, PLAN_COMPLETE_STATE, "Learner retirement complete.", 0, &perr) != 0) {
        int rc = fail_retiring(wk, start_state, perr);
        free(perr);
        return rc;
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "Retirement complete for learner %s", u);
    ev_emit_log(&wk->w, "info", "%s", msg);
    return finish(wk, "complete", 0, msg, PLAN_COMPLETE_STATE);
}

/* Runs one DRIVER.method, optionally bracketed by forced state changes. */
static int worker_rerun(worker *wk, drv_cache *dc, cJSON *learner, const char *state)
{
    const job_spec *sp = &wk->j->spec;
    const cfg *c = wk->ctx->config;
    cfg_step row = {(char *)(sp->bracket_start ? sp->bracket_start : ""),
                    (char *)(sp->bracket_end ? sp->bracket_end : ""), (char *)sp->driver, (char *)sp->method, 0};
    int index = 0;
    if (sp->bracket_start) {
        int k = plan_step_of_working_state(sp->bracket_start, c->steps, c->n_steps);
        if (k >= 0) index = k;
    }
    wk->step_index = -1;
    drv_slot *s = drv_get(wk, dc, sp->driver);
    char msg[4096];
    const rd_method *m = slot_method(s, sp->method, msg, sizeof msg);
    emit_job_event(wk, learner, state, NULL, NULL);
    if (!m) {
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "Unexpected error occurred!\n%s", msg);
        ev_emit_log(&wk->w, "error", "%s", sb_str(&sb));
        int rc = finish(wk, "refused", 255, sb_str(&sb), state);
        sb_free(&sb);
        return rc;
    }
    if (sp->dry_run) {
        host_call hc;
        host_call_init(&hc, s->host, 1);
        if (m->preview)
            m->preview(s->instance, learner, &hc.call);
        else
            rd_call_message(&hc.call, "driver %s has no preview for %s", sp->driver, sp->method);
        cJSON *o = ev_step_object(index, row.start_state, row.end_state, row.driver, row.method);
        cJSON_AddStringToObject(o, "plan", "run");
        cJSON_AddItemToObject(o, "requests", hc.requests);
        hc.requests = NULL;
        cJSON_AddStringToObject(o, "message", hc.call.message);
        ev_emit(&wk->w, "preview", o);
        host_call_done(&hc);
        return finish(wk, "planned", 0, "Dry run: nothing was changed", state);
    }
    char *perr = NULL;
    const char *final = state;
    if (sp->bracket_start) {
        char start_msg[512];
        snprintf(start_msg, sizeof start_msg, "Starting: %s", sp->bracket_start);
        ev_emit_log(&wk->w, "info", "Starting state %s", sp->bracket_start);
        if (worker_patch(wk, sp->bracket_start, start_msg, 1, &perr) != 0) {
            emit_step(wk, index, &row, "failed", 0, perr);
            ev_emit_log(&wk->w, "error", "%s", perr);
            int rc = finish(wk, "errored", 252, perr, state);
            free(perr);
            return rc;
        }
        final = sp->bracket_start;
    }
    wk->step_index = index;
    wk->step_start = row.start_state;
    wk->step_end = row.end_state;
    wk->step_driver = row.driver;
    wk->step_method = row.method;
    emit_step(wk, index, &row, "running", 0, NULL);
    host_call hc;
    host_call_init(&hc, s->host, 0);
    double t0 = job_now();
    rd_status rs = m->run(s->instance, learner, &hc.call);
    long ms = (long)((job_now() - t0) * 1000.0 + 0.5);
    wk->step_index = -1;
    if (rs != RD_OK && rs != RD_NOT_FOUND) {
        const char *fm = hc.call.message[0] ? hc.call.message : "the driver failed without a message";
        emit_step(wk, index, &row, "failed", ms, fm);
        ev_emit_log(&wk->w, "error", "Error in %s.%s: %s", sp->driver, sp->method, fm);
        if (sp->bracket_start) {
            if (worker_patch(wk, PLAN_ERROR_STATE, fm, 1, &perr) != 0) {
                ev_emit_log(&wk->w, "error", "Critical error attempting to change learner state to ERRORED: %s", perr);
                free(perr);
            } else {
                final = PLAN_ERROR_STATE;
            }
        }
        int rc = finish(wk, "errored", 252, fm, final);
        host_call_done(&hc);
        return rc;
    }
    strbuf end_msg = STRBUF_INIT;
    if (sp->bracket_start && sp->bracket_end) {
        sb_addf(&end_msg, "Ending: %s with response:\n%s", sp->bracket_end, hc.call.message[0] ? hc.call.message : "None");
        if (worker_patch(wk, sp->bracket_end, sb_str(&end_msg), 1, &perr) != 0) {
            emit_step(wk, index, &row, "failed", ms, perr);
            int rc = finish(wk, "errored", 252, perr, final);
            free(perr);
            sb_free(&end_msg);
            host_call_done(&hc);
            return rc;
        }
        final = sp->bracket_end;
    } else {
        sb_add(&end_msg, hc.call.message[0] ? hc.call.message : "None");
    }
    emit_step(wk, index, &row, "done", ms, sb_str(&end_msg));
    char done_msg[512];
    snprintf(done_msg, sizeof done_msg, "%s.%s done for learner %s", sp->driver, sp->method, wk->j->username);
    ev_emit_log(&wk->w, "info", "%s", done_msg);
    sb_free(&end_msg);
    host_call_done(&hc);
    return finish(wk, "complete", 0, done_msg, final);
}

/* Replaces inherited sockets with /dev/null so the worker never shares a keep-alive
 * connection with its parent (libcurl sees a dead connection and opens its own). */
static void neutralise_sockets(int keep_fd)
{
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return;
    int fds[4096];
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) && n < 4096) {
            if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
            fds[n++] = atoi(de->d_name);
        }
        closedir(d);
    } else {
        for (int fd = 3; fd < 1024; fd++) fds[n++] = fd;
    }
    for (int i = 0; i < n; i++) {
        int fd = fds[i];
        if (fd < 3 || fd == keep_fd || fd == devnull) continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) dup2(devnull, fd);
    }
    close(devnull);
}

/* The worker process: never returns. */
static void worker_main(job *j, int fd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = worker_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* a crash must kill the worker (the supervisor reports it), whatever the parent installed */
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGABRT, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    signal(SIGILL, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGWINCH, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    g_cancel = 0;
    /* stdout belongs to the supervisor's event stream: a driver's printf goes to stderr */
    dup2(STDERR_FILENO, STDOUT_FILENO);
    neutralise_sockets(fd);

    worker wk;
    memset(&wk, 0, sizeof wk);
    wk.ctx = j->ctx;
    wk.j = j;
    wk.step_index = -1;
    const char *base = cfg_string(j->ctx->config, "base_urls.lms");
    wk.lms_base = base ? strdup(base) : NULL;
    ev_writer_init(&wk.w, fd, j->ctx->config, j->username);
    http_set_log(j->ctx->http, worker_http_log, &wk);
    http_set_cancel_flag(j->ctx->http, &g_cancel);

    int status;
    cJSON *learner = NULL;
    const char *state = NULL;
    drv_cache dc = {NULL, 0};
    status = fetch_learner(&wk, &learner, &state);
    if (status == 0) {
        wk.learner = learner;
        if (j->spec.action == JOB_RERUN) {
            status = worker_rerun(&wk, &dc, learner, state);
        } else {
            plan p;
            if (plan_make(state, j->ctx->config->steps, j->ctx->config->n_steps, &p) != 0) {
                status = finish(&wk, "refused", 255, "out of memory", state);
            } else if (p.refusal != PLAN_OK) {
                status = refuse(&wk, learner, state, &p);
            } else if (j->spec.action == JOB_PLAN || j->spec.dry_run) {
                status = worker_plan(&wk, &dc, learner, state, &p);
            } else {
                status = worker_retire(&wk, &dc, learner, state, &p);
            }
            plan_free(&p);
        }
    }
    drv_cache_free(&dc);
    cJSON_Delete(learner);
    ev_writer_done(&wk.w);
    free(wk.lms_base);
    fflush(NULL);
    close(fd);
    _exit(status & 0xff);
}

/* ------------------------------------------------------------------------------------------ */
/* supervisor */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = dup_or_null(s);
}

job *job_start(job_ctx *ctx, const job_spec *spec, job_event_fn fn, void *user, char *err, size_t err_len)
{
    if (!spec || !spec->username) {
        snprintf(err, err_len, "no learner given: pass the username to retire");
        return NULL;
    }
    if (spec->action == JOB_RERUN && (!spec->driver || !spec->method)) {
        snprintf(err, err_len, "rerun needs DRIVER.METHOD");
        return NULL;
    }
    job *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    j->ctx = ctx;
    j->username = strdup(spec->username);
    j->spec = *spec;
    j->spec.username = j->username;
    j->label = dup_or_null(spec->label);
    j->driver = dup_or_null(spec->driver);
    j->method = dup_or_null(spec->method);
    j->bracket_start = dup_or_null(spec->bracket_start);
    j->bracket_end = dup_or_null(spec->bracket_end);
    j->spec.label = j->label;
    j->spec.driver = j->driver;
    j->spec.method = j->method;
    j->spec.bracket_start = j->bracket_start;
    j->spec.bracket_end = j->bracket_end;
    j->fn = fn;
    j->user = user;
    j->fd = -1;
    j->step_index = -1;
    j->exit_status = -1;
    j->timeout_used = ctx->step_timeout;
    j->started = job_now();
    void *ph = mmap(NULL, JOB_PHASE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    j->phase = ph == MAP_FAILED ? NULL : ph;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(err, err_len, "cannot create a pipe for the job of %s: %s", spec->username, strerror(errno));
        job_free(j);
        return NULL;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "cannot start a worker for %s: %s", spec->username, strerror(errno));
        close(p[0]);
        close(p[1]);
        job_free(j);
        return NULL;
    }
    if (pid == 0) {
        close(p[0]);
        worker_main(j, p[1]);
    }
    close(p[1]);
    j->pid = pid;
    j->fd = p[0];
    fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) | O_NONBLOCK);
    return j;
}

int job_fd(const job *j) { return j->fd; }
int job_done(const job *j) { return j->done; }
int job_exit_status(const job *j) { return j->exit_status; }
const char *job_outcome(const job *j) { return j->outcome ? j->outcome : ""; }
const char *job_username(const job *j) { return j->username; }
pid_t job_pid(const job *j) { return j->pid; }
int job_steps_run(const job *j) { return j->steps_run; }
int job_steps_skipped(const job *j) { return j->steps_skipped; }
long job_lms_user_id(const job *j) { return j->lms_user_id; }
long job_retirement_id(const job *j) { return j->retirement_id; }
const char *job_message(const job *j) { return j->message ? j->message : ""; }

/* Updates tracking from one event and forwards it. */
static void dispatch_line(job *j, const char *line)
{
    ev_event ev;
    if (ev_parse(line, &ev) != 0) return; /* not an event: ignore */
    switch (ev.kind) {
    case EV_JOB: {
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive(ev.json, "lms_user_id");
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(ev.json, "retirement_id");
        if (cJSON_IsNumber(uid)) j->lms_user_id = (long)uid->valuedouble;
        if (cJSON_IsNumber(rid)) j->retirement_id = (long)rid->valuedouble;
        break;
    }
    case EV_STEP:
        if (ev.status && strcmp(ev.status, "running") == 0) {
            if (!j->in_step || j->step_index != ev.index) {
                j->in_step = 1;
                j->seen_step = 1;
                j->step_index = ev.index;
                j->step_started = job_now();
                set_str(&j->step_start, ev.start_state);
                set_str(&j->step_end, ev.end_state);
                set_str(&j->step_driver, ev.driver);
                set_str(&j->step_method, ev.method);
            }
        } else if (ev.status && strcmp(ev.status, "retrying") == 0) {
            /* still in the step */
        } else if (ev.status) {
            if (strcmp(ev.status, "done") == 0 || strcmp(ev.status, "failed") == 0) j->steps_run++;
            if (strcmp(ev.status, "skipped") == 0) j->steps_skipped++;
            j->in_step = 0;
        }
        break;
    case EV_RESULT:
        j->got_result = 1;
        j->exit_status = ev.exit_status;
        set_str(&j->outcome, ev.outcome);
        set_str(&j->message, ev.message);
        break;
    default:
        break;
    }
    if (j->fn) j->fn(j->user, j, &ev, line);
    ev_event_free(&ev);
}

/* Formats, tracks and forwards an event the supervisor writes itself. */
static void synth(job *j, const char *event, cJSON *obj)
{
    char *line = ev_format(j->ctx->config, event, j->username, obj);
    if (line) dispatch_line(j, line);
    free(line);
}

/* Splits buffered input into lines. */
static void drain_lines(job *j)
{
    char *data = j->buf.data;
    if (!data) return;
    size_t start = 0;
    for (size_t i = 0; i < j->buf.len; i++) {
        if (data[i] != '\n') continue;
        data[i] = '\0';
        char *line = strdup(data + start);
        data[i] = '\n';
        size_t n = strlen(line);
        char *with_nl = malloc(n + 2);
        memcpy(with_nl, line, n);
        with_nl[n] = '\n';
        with_nl[n + 1] = '\0';
        dispatch_line(j, with_nl);
        free(with_nl);
        free(line);
        start = i + 1;
    }
    if (start) {
        size_t rest = j->buf.len - start;
        memmove(data, data + start, rest);
        j->buf.len = rest;
        data[rest] = '\0';
    }
}

/* Short signal name: "SIGSEGV". */
static void signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "signal %d", sig);
}

/* The worker is gone without a result: record what happened. */
static void conclude_without_result(job *j)
{
    char why[256];
    if (j->killed_timeout) {
        snprintf(why, sizeof why, "timed out after %g s", j->timeout_used);
    } else if (j->cancel_count >= 2 && WIFSIGNALED(j->wait_status) && WTERMSIG(j->wait_status) == SIGKILL) {
        snprintf(why, sizeof why, "was stopped by the operator (worker killed)");
    } else if (WIFSIGNALED(j->wait_status)) {
        char sn[32];
        signal_name(WTERMSIG(j->wait_status), sn, sizeof sn);
        snprintf(why, sizeof why, "crashed (%s)", sn);
    } else {
        snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(j->wait_status));
    }
    if (j->in_step) {
        strbuf msg = STRBUF_INIT;
        sb_addf(&msg, "%s.%s %s", j->step_driver ? j->step_driver : "?", j->step_method ? j->step_method : "?", why);
        const char *final = PLAN_ERROR_STATE;
        lms_error e;
        memset(&e, 0, sizeof e);
        if (lms_update_state(j->ctx->lms, j->username, PLAN_ERROR_STATE, sb_str(&msg), 0, &e) != 0) {
            cJSON *lo = cJSON_CreateObject();
            cJSON_AddStringToObject(lo, "level", "error");
            strbuf t = STRBUF_INIT;
            sb_addf(&t, "Critical error attempting to change learner state to ERRORED: %s", e.message);
            cJSON_AddStringToObject(lo, "text", sb_str(&t));
            sb_free(&t);
            synth(j, "log", lo);
            final = NULL;
        }
        lms_error_clear(&e);
        cJSON *lo = cJSON_CreateObject();
        cJSON_AddStringToObject(lo, "level", "error");
        strbuf t = STRBUF_INIT;
        sb_addf(&t, "Error in retirement state %s: %s", j->step_start ? j->step_start : "None", sb_str(&msg));
        cJSON_AddStringToObject(lo, "text", sb_str(&t));
        sb_free(&t);
        synth(j, "log", lo);
        cJSON *so = ev_step_object(j->step_index, j->step_start, j->step_end, j->step_driver, j->step_method);
        cJSON_AddStringToObject(so, "status", "failed");
        cJSON_AddNumberToObject(so, "elapsed_ms", floor((job_now() - j->step_started) * 1000.0));
        cJSON_AddStringToObject(so, "message", sb_str(&msg));
        synth(j, "step", so);
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddStringToObject(ro, "outcome", "errored");
        cJSON_AddNumberToObject(ro, "exit_status", 252);
        cJSON_AddStringToObject(ro, "message", sb_str(&msg));
        if (final) cJSON_AddStringToObject(ro, "final_state", final);
        synth(j, "result", ro);
        sb_free(&msg);
    } else if (!j->seen_step && j->phase && j->phase[0]) {
        /* a driver's get_instance crashed or hung: set-up, before any state change */
        char phase[JOB_PHASE_LEN];
        snprintf(phase, sizeof phase, "%s", j->phase);
        strbuf msg = STRBUF_INIT;
        sb_addf(&msg, "%s %s", phase, why);
        cJSON *lo = cJSON_CreateObject();
        cJSON_AddStringToObject(lo, "level", "error");
        strbuf t = STRBUF_INIT;
        sb_addf(&t, "Unexpected error occurred!\n%s while the drivers were being started for %s; the learner is "
                    "untouched (no state change happened): fix the driver, then run the retirement again",
                sb_str(&msg), j->username);
        cJSON_AddStringToObject(lo, "text", sb_str(&t));
        sb_free(&t);
        synth(j, "log", lo);
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddStringToObject(ro, "outcome", "errored");
        cJSON_AddNumberToObject(ro, "exit_status", 255);
        sb_addf(&msg, "; the learner is untouched (no state change happened)");
        cJSON_AddStringToObject(ro, "message", sb_str(&msg));
        synth(j, "result", ro);
        sb_free(&msg);
    } else {
        strbuf msg = STRBUF_INIT;
        sb_addf(&msg, "the worker retiring %s %s outside a step; no state was changed by it", j->username, why);
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddStringToObject(ro, "outcome", "errored");
        cJSON_AddNumberToObject(ro, "exit_status", 255);
        cJSON_AddStringToObject(ro, "message", sb_str(&msg));
        synth(j, "result", ro);
        sb_free(&msg);
    }
}

int job_on_readable(job *j)
{
    if (j->fd < 0) return job_tick(j, job_now());
    char buf[65536];
    for (;;) {
        ssize_t n = read(j->fd, buf, sizeof buf);
        if (n > 0) {
            sb_addn(&j->buf, buf, (size_t)n);
            drain_lines(j);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        /* EOF or error: the worker closed its end */
        close(j->fd);
        j->fd = -1;
        break;
    }
    return job_tick(j, job_now());
}

int job_tick(job *j, double now)
{
    if (j->done) return 1;
    /* the timeout covers a step in flight, and the set-up from the worker's start to its first step
     * (a driver whose get_instance never returns) */
    double since = j->in_step ? j->step_started : (!j->seen_step && !j->got_result ? j->started : -1);
    if (since >= 0 && !j->killed_timeout && j->timeout_used > 0 && now - since > j->timeout_used && !j->reaped) {
        j->killed_timeout = 1;
        kill(j->pid, SIGKILL);
    }
    if (!j->reaped) {
        int st;
        pid_t r = waitpid(j->pid, &st, j->killed_timeout || j->cancel_count >= 2 ? 0 : WNOHANG);
        if (r == j->pid) {
            j->reaped = 1;
            j->wait_status = st;
        } else if (r < 0 && errno == ECHILD) {
            j->reaped = 1;
            j->wait_status = 0;
        }
    }
    if (j->reaped && j->fd >= 0) {
        /* read whatever is left (non-blocking: a grandchild may still hold the pipe open) */
        char buf[65536];
        ssize_t n;
        while ((n = read(j->fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0) sb_addn(&j->buf, buf, (size_t)n);
        drain_lines(j);
        close(j->fd);
        j->fd = -1;
    }
    if (j->reaped && j->fd < 0) {
        if (!j->got_result) conclude_without_result(j);
        if (j->exit_status < 0) j->exit_status = 255;
        j->done = 1;
    }
    return j->done;
}

int job_poll_timeout_ms(const job *j)
{
    if (j->done) return 0;
    if (j->fd < 0) return 10;
    int ms = 250;
    double since = j->in_step ? j->step_started : (!j->seen_step && !j->got_result ? j->started : -1);
    if (since >= 0 && j->timeout_used > 0) {
        double left = j->timeout_used - (job_now() - since);
        int l = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
        if (l < ms) ms = l;
    }
    return ms;
}

void job_cancel(job *j)
{
    if (j->done || j->reaped) return;
    j->cancel_count++;
    kill(j->pid, j->cancel_count >= 2 ? SIGKILL : SIGTERM);
}

void job_free(job *j)
{
    if (!j) return;
    if (j->pid > 0 && !j->reaped) {
        kill(j->pid, SIGKILL);
        waitpid(j->pid, NULL, 0);
    }
    if (j->fd >= 0) close(j->fd);
    if (j->phase) munmap(j->phase, JOB_PHASE_LEN);
    sb_free(&j->buf);
    free(j->username);
    free(j->label);
    free(j->driver);
    free(j->method);
    free(j->bracket_start);
    free(j->bracket_end);
    free(j->step_start);
    free(j->step_end);
    free(j->step_driver);
    free(j->step_method);
    free(j->outcome);
    free(j->message);
    free(j);
}

int job_run(job_ctx *ctx, const job_spec *spec, job_event_fn fn, void *user, volatile int *cancel_flag, char *err,
            size_t err_len)
{
    job *j = job_start(ctx, spec, fn, user, err, err_len);
    if (!j) return 255;
    int seen_cancel = 0;
    while (!job_done(j)) {
        if (cancel_flag && *cancel_flag > seen_cancel) {
            seen_cancel = *cancel_flag;
            job_cancel(j);
        }
        struct pollfd p = {job_fd(j), POLLIN, 0};
        int timeout = job_poll_timeout_ms(j);
        if (p.fd >= 0) {
            int r = poll(&p, 1, timeout);
            if (r > 0) {
                job_on_readable(j);
                continue;
            }
        } else {
            struct timespec ts = {0, (long)timeout * 1000000L};
            nanosleep(&ts, NULL);
        }
        job_tick(j, job_now());
    }
    int status = job_exit_status(j);
    job_free(j);
    return status;
}
