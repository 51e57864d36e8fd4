/* job, the worker side: one process retires (plans, reruns) learners one after the other,
 * writing JSON-lines events to its supervisor. See job.h and job_internal.h. */
#include "engine/job_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/drv_common.h"
#include "drivers/pyrepr.h"
#include "engine/audit.h"
#include "engine/history.h"
#include "engine/host.h"
#include "engine/lease.h"
#include "engine/plan.h"
#include "engine/reason.h"
#include "common/xalloc.h"
#include "common/json.h"
#include "common/signals.h"

static volatile sig_atomic_t g_cancel; /* set by SIGINT/SIGTERM in the worker */

static void worker_on_signal(int sig)
{
    (void)sig;
    g_cancel = 1;
}

typedef struct worker {
    job_ctx *ctx;
    const job_spec *spec;    /* the learner in hand */
    char *phase;             /* shared with the supervisor (job_internal.h), may be NULL */
    ev_writer w;
    int step_index;          /* step in flight, -1 when none */
    const char *step_start, *step_end, *step_driver, *step_method;
    cJSON *learner;
    char *lms_base;
    int job_emitted;       /* the `job` event went out: log lines flow directly */
    int gate_refused;      /* the supervisor answered the job event with "stop" (job_ctx_set_gate) */
    cJSON *held;           /* log events held until then ([level, text] pairs) */
    cJSON *failure;        /* what the last failed request was and what the server said (reason.h) */
} worker;

/* Replaces the worker's failure record (takes f, may be NULL). */
static void set_failure(worker *wk, cJSON *f)
{
    cJSON_Delete(wk->failure);
    wk->failure = f;
}

/* Records the failure of the driver's last failed request, if it made one. */
static void note_driver_failure(worker *wk, const rd_host *host)
{
    const host_failure *hf = host_last_failure(host);
    if (!hf) return;
    set_failure(wk, reason_failure(wk->ctx->config, wk->learner, wk->spec->username, hf->method, hf->url, hf->status,
                                   hf->body, hf->body_len, hf->error, hf->attempts));
}

/* The text recorded as ERRORED for msg: upstream's text plus what the server said. malloc'd. */
static char *errored_text(worker *wk, const char *msg)
{
    return reason_errored_text(wk->ctx->config, msg, wk->failure);
}

static int finish(worker *wk, const char *outcome, int status, const char *message, const char *final_state);

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
    return xstrdup(e->message[0] ? e->message : "no answer from the LMS");
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
    /* bookkeeping is never cancelled: a cancel (or a lost supervisor) stops the pipeline after the
     * step in flight, but the PATCH that records where the learner is keeps its full retry policy */
    http_set_cancel_flag(wk->ctx->http, NULL);
    int rc = lms_update_state(wk->ctx->lms, wk->spec->username, state, response, force, &e);
    http_set_cancel_flag(wk->ctx->http, &g_cancel);
    if (rc != 0 && err_text) *err_text = lms_error_text(wk, &e, "api/user/v1/accounts/update_retirement_status");
    if (rc != 0) {
        char *url = http_url_join(wk->lms_base ? wk->lms_base : "", "api/user/v1/accounts/update_retirement_status");
        set_failure(wk, reason_failure(wk->ctx->config, wk->learner, wk->spec->username, "PATCH", url, e.status,
                                       e.body, e.body ? strlen(e.body) : 0, e.status ? NULL : e.message,
                                       lms_last_attempts(wk->ctx->lms)));
        free(url);
    }
    lms_error_clear(&e);
    return rc;
}

/* Python repr of the learner dict (for upstream messages). malloc'd. */
static char *learner_repr(const cJSON *learner)
{
    char *json = cJSON_PrintUnformatted(learner);
    char *r = json ? pyrepr_json(json, 0) : NULL;
    free(json);
    return r ? r : xstrdup("{}");
}

typedef struct loaded_driver {
    const char *name;
    const rd_driver *driver;
    void *instance;
    rd_host *host;
    char *error; /* instantiation error */
} loaded_driver;

typedef struct loaded_drivers {
    loaded_driver *slots;
    size_t n;
} loaded_drivers;

/* Returns the slot for name, instantiating on first use (in the worker only). */
static loaded_driver *loaded_driver_get(worker *wk, loaded_drivers *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->slots[i].name, name) == 0) return &c->slots[i];
    loaded_driver *ns = xrealloc(c->slots, (c->n + 1) * sizeof *ns);
    c->slots = ns;
    loaded_driver *s = &c->slots[c->n++];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->host = host_new(wk->ctx->config, wk->ctx->http, name, worker_driver_log, worker_driver_progress, wk, &g_cancel);
    char err[2048] = "";
    if (wk->phase) snprintf(wk->phase, JOB_PHASE_LEN, "loading the plugin of driver %s", name);
    (void)reg_load(wk->ctx->registry, name, err, sizeof err); /* the error, if any, comes again below */
    err[0] = '\0';
    if (wk->phase) snprintf(wk->phase, JOB_PHASE_LEN, "%s.get_instance", name);
    s->instance = reg_instantiate(wk->ctx->registry, name, host_config_root(s->host), s->host, &s->driver, err, sizeof err);
    if (wk->phase) wk->phase[0] = '\0';
    if (!s->instance) s->error = xstrdup(err[0] ? err : "the driver could not start");
    return s;
}

static void loaded_drivers_free(loaded_drivers *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->slots[i].instance && c->slots[i].driver && c->slots[i].driver->destroy)
            c->slots[i].driver->destroy(c->slots[i].instance);
        host_free(c->slots[i].host);
        free(c->slots[i].error);
    }
    free(c->slots);
}

/* Finds the method of a slot, or sets a message. step (may be NULL) is the pipeline row that
 * names the method: the message then names the config file, line and step, as check-config does. */
static const rd_method *slot_method(loaded_driver *s, const char *method, const cfg *c, const cfg_step *step, char *msg,
                                    size_t len)
{
    if (!s->instance) {
        snprintf(msg, len, "%s", s->error);
        return NULL;
    }
    const rd_method *m = reg_method(s->driver, method);
    if (m && m->run) return m;
    if (step && c) {
        size_t idx = (size_t)(step - c->steps) + 1;
        const char *path = c->path ? c->path : "config";
        char where[1024];
        if (step->line)
            snprintf(where, sizeof where, "%s:%d: ", path, step->line);
        else
            snprintf(where, sizeof where, "%s: ", path);
        snprintf(msg, len,
                 "%sretirement_pipeline step %zu [%s, %s, %s, %s]: driver %s has no method %s; fix the method "
                 "name in the pipeline (`retirectl drivers` lists the driver's methods)",
                 where, idx, step->start_state, step->end_state, step->driver, step->method, s->name, method);
    } else {
        snprintf(msg, len, "driver %s has no method %s; `retirectl drivers` lists the driver's methods", s->name,
                 method);
    }
    return NULL;
}

static const char *action_label(const job_spec *sp)
{
    if (sp->label) return sp->label;
    if (sp->action == JOB_RERUN) return "rerun";
    if (sp->action == JOB_PLAN || sp->dry_run) return "plan";
    return "retire";
}

/* The `job` event. plan_p may be NULL (refused / unknown). */
static void emit_job_event(worker *wk, const cJSON *learner, const char *state, const plan *p, const char *const *plan_override)
{
    const cfg *c = wk->ctx->config;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "action", action_label(wk->spec));
    cJSON_AddBoolToObject(o, "dry_run", wk->spec->action == JOB_PLAN || wk->spec->dry_run);
    if (state) cJSON_AddStringToObject(o, "current_state", state);
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(learner, "id");
    if (cJSON_IsNumber(rid)) cJSON_AddNumberToObject(o, "retirement_id", rid->valuedouble);
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(learner, "user"), "id");
    if (cJSON_IsNumber(uid)) cJSON_AddNumberToObject(o, "lms_user_id", uid->valuedouble);
    job_orphan_learner(wk->spec->username, action_label(wk->spec), cJSON_IsNumber(uid) ? (long)uid->valuedouble : -1,
                       cJSON_IsNumber(rid) ? (long)rid->valuedouble : -1);
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    if (wk->spec->action == JOB_RERUN) {
        int idx = wk->step_index >= 0 ? wk->step_index : 0;
        cJSON *s = ev_step_object(idx, wk->spec->bracket_start ? wk->spec->bracket_start : "",
                                  wk->spec->bracket_end ? wk->spec->bracket_end : "", wk->spec->driver,
                                  wk->spec->method);
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
    /* with a gate, the supervisor answers every job event before anything may change */
    int gfd = wk->ctx->child_gate_fd;
    wk->gate_refused = 0;
    if (gfd >= 0) {
        char answer = 0;
        ssize_t n;
        while ((n = read(gfd, &answer, 1)) < 0 && errno == EINTR) {
        }
        wk->gate_refused = n != 1 || answer != 'g';
    }
}

/* After the job event: stops the job when the supervisor said so (nothing changed yet). 0 to go
 * on, else the exit status. */
static int gate_stop(worker *wk, const char *state)
{
    if (!wk->gate_refused) return 0;
    const char *msg = "retirectl's supervisor stopped the job before any change (its audit log could not be "
                      "written, or it is gone); nothing was done";
    ev_emit_log(&wk->w, "error", "%s", msg);
    return finish(wk, "refused", 255, msg, state);
}

/* Ends the worker: result event and exit status. */
static int finish(worker *wk, const char *outcome, int status, const char *message, const char *final_state)
{
    if (!wk->job_emitted) flush_held(wk);
    /* the learner's lease goes with the supervisor's descriptor once this result is read */
    lease_close_inherited(NULL, NULL);
    job_orphan_record(outcome, status, message, final_state);
    cJSON *o = ev_result_object(outcome, status, message, final_state);
    /* what the history keeps: without the learner's username, email and name (the record's repr
     * in a refusal, a vendor's text) */
    char *kept = reason_scrub(wk->ctx->config, wk->learner, wk->spec->username, message, HIST_SERVER_TEXT_MAX);
    if (message && strcmp(kept, message) != 0) cJSON_AddStringToObject(o, "history_message", kept);
    free(kept);
    ev_emit(&wk->w, "result", o);
    return status;
}

/* The exception path of retire_one_learner.py: log, PATCH ERRORED, exit 252. */
static int fail_retiring(worker *wk, const char *start_state, const char *upstream_msg)
{
    char *msg = errored_text(wk, upstream_msg);
    if (job_orphaned()) {
        strbuf lost = STRBUF_INIT;
        sb_addf(&lost, "%s (retirectl's supervisor, pid %ld, was lost during this step)", msg,
                (long)job_orphan_supervisor());
        free(msg);
        msg = sb_take(&lost);
    }
    ev_emit_log(&wk->w, "error", "Error in retirement state %s: %s", start_state ? start_state : "None", msg);
    char *perr = NULL;
    const char *final = PLAN_ERROR_STATE;
    cJSON *kept = wk->failure; /* the step's failure, not the ERRORED PATCH's */
    wk->failure = NULL;
    if (worker_patch(wk, PLAN_ERROR_STATE, msg, 0, &perr) != 0) {
        ev_emit_log(&wk->w, "error", "Critical error attempting to change learner state to ERRORED: %s", perr);
        final = NULL;
    }
    set_failure(wk, kept);
    free(perr);
    ev_emit_log(&wk->w, "error", "Error encountered in state \"%s\"\n%s", start_state ? start_state : "None", msg);
    int rc = finish(wk, "errored", 252, msg, final);
    free(msg);
    return rc;
}

/* The supervisor is gone and the step in flight has ended with its end state recorded: nobody
 * will continue this learner, so record why it stopped (ERRORED, resumable) and stop. */
static int stop_orphaned(worker *wk, const char *start_state, const char *end_state)
{
    char msg[1024];
    snprintf(msg, sizeof msg,
             "retirectl's supervisor (pid %ld) was lost after %s completed (the learner was in %s); the worker "
             "stopped there: resume the learner to continue",
             (long)job_orphan_supervisor(), start_state, end_state);
    ev_emit_log(&wk->w, "error", "%s", msg);
    char *perr = NULL;
    const char *final = PLAN_ERROR_STATE;
    if (worker_patch(wk, PLAN_ERROR_STATE, msg, 0, &perr) != 0) {
        ev_emit_log(&wk->w, "error", "Critical error attempting to change learner state to ERRORED: %s", perr);
        final = end_state;
    }
    free(perr);
    return finish(wk, "errored", 252, msg, final);
}

/* Emits a step event with status and optional elapsed/message. A `failed` step carries the
 * worker's failure record and the ERRORED text (message plus what the server said). */
static void emit_step(worker *wk, int index, const cfg_step *s, const char *status, long elapsed_ms,
                      const char *message)
{
    cJSON *o = ev_step_object(index, s->start_state, s->end_state, s->driver, s->method);
    cJSON_AddStringToObject(o, "status", status);
    if (elapsed_ms >= 0) cJSON_AddNumberToObject(o, "elapsed_ms", (double)elapsed_ms);
    int failed = strcmp(status, "failed") == 0;
    if (message) {
        char *m = failed ? errored_text(wk, message) : NULL;
        cJSON_AddStringToObject(o, "message", m ? m : message);
        free(m);
    }
    if (failed && wk->failure) cJSON_AddItemToObject(o, "failure", cJSON_Duplicate(wk->failure, 1));
    ev_emit(&wk->w, "step", o);
}

/* Refuses a learner record the pipeline cannot start from: emits the closing events with
 * prefix + the record's repr, frees the record and returns status. */
static int refuse_record(worker *wk, cJSON *learner, int status, const char *prefix)
{
    char *r = learner_repr(learner);
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s%s", prefix, r);
    emit_job_event(wk, learner, NULL, NULL, NULL);
    ev_emit_log(&wk->w, "error", "%s", sb_str(&sb));
    wk->learner = learner; /* the history's copy of the message leaves out its personal data */
    int rc = finish(wk, "refused", status, sb_str(&sb), NULL);
    wk->learner = NULL;
    sb_free(&sb);
    free(r);
    cJSON_Delete(learner);
    return rc;
}

/* GET status and validate the record; returns 0 with *learner and *state, or an exit status
 * after emitting the closing events. */
static int fetch_learner(worker *wk, cJSON **learner_out, const char **state_out)
{
    lms_error e;
    memset(&e, 0, sizeof e);
    cJSON *learner = NULL;
    const char *u = wk->spec->username;
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
            char *seg = http_url_escape_pchar(u);
            strbuf path = STRBUF_INIT;
            sb_addf(&path, "api/user/v1/accounts/%s/retirement_status", seg);
            char *t = lms_error_text(wk, &e, sb_str(&path));
            sb_free(&path);
            free(seg);
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
    /* upstream: a null state name is simply not among the pipeline's states (250); a record
     * without one is a bad learner (251) */
    if (cJSON_IsObject(learner) && cJSON_IsNull(sn))
        return refuse_record(wk, learner, 250, "Unknown learner retirement state for learner: ");
    if (!cJSON_IsObject(learner) || !cJSON_IsString(sn))
        return refuse_record(wk, learner, 251, "Bad learner response missing current_state or state_name: ");
    const cJSON *ou = cJSON_GetObjectItemCaseSensitive(learner, "original_username");
    if (cJSON_IsString(ou) && job_has_control_chars(ou->valuestring))
        return refuse_record(wk, learner, 251,
                             "Bad learner record: original_username contains a control character (a NUL arrives as "
                             "U+0001); nothing was done, fix the record at the LMS: ");
    *learner_out = learner;
    *state_out = sn->valuestring;
    return 0;
}

/* fetch_ecommerce_segment_id: sets learner.ecommerce_segment_id; returns 0 or an exit status. */
static int fetch_segment_id(worker *wk, loaded_drivers *dc, cJSON *learner, int preview)
{
    loaded_driver *s = loaded_driver_get(wk, dc, "ECOMMERCE");
    char msg[4096];
    const rd_method *m = slot_method(s, "get_tracking_key", NULL, NULL, msg, sizeof msg);
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
        host_call_settle(&hc, wk->ctx->config);
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
    host_call_settle(&hc, wk->ctx->config);
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
        msg = xstrdup(p->message);
    }
    emit_job_event(wk, learner, state, NULL, NULL);
    ev_emit_log(&wk->w, "error", "%s", msg);
    int rc = finish(wk, "refused", (int)p->refusal, msg, state);
    free(msg);
    return rc;
}

/* Dry-run of the pipeline. */
static int worker_plan(worker *wk, loaded_drivers *dc, cJSON *learner, const char *state, const plan *p)
{
    const cfg *c = wk->ctx->config;
    const char **override = xcalloc(c->n_steps + 1, sizeof *override);
    char **fail_msg = xcalloc(c->n_steps + 1, sizeof *fail_msg);
    int failures = 0;
    for (size_t i = 0; i < c->n_steps; i++) {
        if (p->actions[i] != PLAN_RUN) continue;
        loaded_driver *s = loaded_driver_get(wk, dc, c->steps[i].driver);
        char msg[4096];
        if (!slot_method(s, c->steps[i].method, c, &c->steps[i], msg, sizeof msg)) {
            override[i] = "fail";
            fail_msg[i] = xstrdup(msg);
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
        loaded_driver *s = loaded_driver_get(wk, dc, st->driver);
        const rd_method *m = reg_method(s->driver, st->method);
        host_call hc;
        host_call_init(&hc, s->host, 1);
        char start_msg[512];
        snprintf(start_msg, sizeof start_msg, "Starting: %s", st->start_state);
        char *b1 = patch_body(wk->spec->username, st->start_state, start_msg, 0);
        host_describe(hc.requests, "PATCH", update_url, hdrs, b1);
        free(b1);
        if (m->preview) {
            /* names the preview if it crashes or hangs (the supervisor reads the phase) */
            if (wk->phase) snprintf(wk->phase, JOB_PHASE_LEN, "%s.%s preview", st->driver, st->method);
            m->preview(s->instance, learner, &hc.call);
            host_call_settle(&hc, wk->ctx->config);
            if (wk->phase) wk->phase[0] = '\0';
        } else {
            rd_call_message(&hc.call, "driver %s has no preview for %s: it would be called with the learner",
                            st->driver, st->method);
        }
        strbuf end_msg = STRBUF_INIT;
        sb_addf(&end_msg, "Ending: %s with response:\n<response>", st->end_state);
        char *b2 = patch_body(wk->spec->username, st->end_state, sb_str(&end_msg), 0);
        host_describe(hc.requests, "PATCH", update_url, hdrs, b2);
        free(b2);
        sb_free(&end_msg);
        cJSON_AddItemToObject(o, "requests", hc.requests);
        hc.requests = NULL;
        cJSON_AddStringToObject(o, "message", hc.call.message);
        host_call_done(&hc);
        ev_emit(&wk->w, "preview", o);
    }
    char *b3 = patch_body(wk->spec->username, PLAN_COMPLETE_STATE, "Learner retirement complete.", 0);
    ev_emit_log(&wk->w, "info", "Then: PATCH %s %s", update_url, b3);
    free(b3);
    free(update_url);
    for (size_t i = 0; i < c->n_steps; i++) free(fail_msg[i]);
    free(fail_msg);
    free(override);
    char summary[512];
    if (failures) {
        /* the steps that cannot run are among the planned ones: the three counts add up to the pipeline */
        size_t runnable = p->n_run >= (size_t)failures ? p->n_run - (size_t)failures : 0;
        snprintf(summary, sizeof summary, "Dry run: %zu of %zu steps would run, %zu would be skipped, %d cannot run; "
                 "nothing was changed", runnable, c->n_steps, p->n_skip, failures);
        return finish(wk, "planned", 255, summary, state);
    }
    snprintf(summary, sizeof summary, "Dry run: %zu steps would run, %zu would be skipped; nothing was changed",
             p->n_run, p->n_skip);
    return finish(wk, "planned", 0, summary, state);
}

/* retire_one_learner.py step loop. */
static int worker_retire(worker *wk, loaded_drivers *dc, cJSON *learner, const char *state, const plan *p)
{
    const cfg *c = wk->ctx->config;
    const char *u = wk->spec->username;
    /* Start every driver the run needs before changing any state (upstream builds all its API
     * clients at setup: a failure there is ERR_SETUP_FAILED with nothing changed). */
    for (size_t i = 0; i < c->n_steps; i++) {
        if (p->actions[i] != PLAN_RUN) continue;
        loaded_driver *s = loaded_driver_get(wk, dc, c->steps[i].driver);
        char msg[4096];
        if (!slot_method(s, c->steps[i].method, c, &c->steps[i], msg, sizeof msg)) {
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
    int gs = gate_stop(wk, state);
    if (gs) return gs;
    if (cfg_bool(c, "fetch_ecommerce_segment_id", 0)) {
        int rc = fetch_segment_id(wk, dc, learner, 0);
        if (rc) return rc;
    }
    const char *start_state = NULL, *last_state = state;
    const char *last_ran = NULL; /* start state of the last step this job completed */
    for (size_t i = 0; i < c->n_steps; i++) {
        const cfg_step *st = &c->steps[i];
        start_state = st->start_state;
        if (p->actions[i] == PLAN_SKIP) {
            ev_emit_log(&wk->w, "info", "State %s completed in previous run, skipping", st->start_state);
            emit_step(wk, (int)i, st, "skipped", -1, NULL);
            continue;
        }
        if (g_cancel && job_orphaned() && last_ran) return stop_orphaned(wk, last_ran, last_state);
        if (g_cancel) {
            char msg[1024];
            snprintf(msg, sizeof msg, "Retirement of %s cancelled %s before state %s; the learner stays in %s", u,
                     job_orphaned() ? "(retirectl's supervisor was lost)" : "by the operator", st->start_state,
                     last_state);
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
        loaded_driver *s = loaded_driver_get(wk, dc, st->driver);
        const rd_method *m = reg_method(s->driver, st->method);
        host_call hc;
        host_call_init(&hc, s->host, 0);
        host_failure_reset(s->host);
        set_failure(wk, NULL);
        double t0 = job_now();
        job_orphan_step_begin(st->driver, st->method, 1);
        rd_status rs = m->run(s->instance, learner, &hc.call);
        job_orphan_step_end();
        host_call_settle(&hc, wk->ctx->config);
        double secs = job_now() - t0;
        long ms = (long)(secs * 1000.0 + 0.5);
        wk->step_index = -1;
        if (rs != RD_OK && rs != RD_NOT_FOUND) {
            note_driver_failure(wk, s->host);
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
        last_ran = st->start_state;
        emit_step(wk, (int)i, st, "done", ms, sb_str(&end_msg));
        sb_free(&end_msg);
        ev_emit_log(&wk->w, "info", "Progressing to state %s", st->end_state);
        if (g_cancel && job_orphaned()) return stop_orphaned(wk, st->start_state, st->end_state);
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
static int worker_rerun(worker *wk, loaded_drivers *dc, cJSON *learner, const char *state)
{
    const job_spec *sp = wk->spec;
    const cfg *c = wk->ctx->config;
    cfg_step row = {(char *)(sp->bracket_start ? sp->bracket_start : ""),
                    (char *)(sp->bracket_end ? sp->bracket_end : ""), (char *)sp->driver, (char *)sp->method, 0};
    int index = 0;
    if (sp->bracket_start) {
        int k = plan_step_of_working_state(sp->bracket_start, c->steps, c->n_steps);
        if (k >= 0) index = k;
    }
    wk->step_index = -1;
    loaded_driver *s = loaded_driver_get(wk, dc, sp->driver);
    char msg[4096];
    const rd_method *m = slot_method(s, sp->method, NULL, NULL, msg, sizeof msg);
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
        host_call_settle(&hc, wk->ctx->config);
        cJSON *o = ev_step_object(index, row.start_state, row.end_state, row.driver, row.method);
        cJSON_AddStringToObject(o, "plan", "run");
        cJSON_AddItemToObject(o, "requests", hc.requests);
        hc.requests = NULL;
        cJSON_AddStringToObject(o, "message", hc.call.message);
        ev_emit(&wk->w, "preview", o);
        host_call_done(&hc);
        return finish(wk, "planned", 0, "Dry run: nothing was changed", state);
    }
    int gs = gate_stop(wk, state);
    if (gs) return gs;
    char *perr = NULL;
    const char *final = state;
    if (sp->bracket_start) {
        char start_msg[512];
        snprintf(start_msg, sizeof start_msg, "Starting: %s", sp->bracket_start);
        ev_emit_log(&wk->w, "info", "Starting state %s", sp->bracket_start);
        if (worker_patch(wk, sp->bracket_start, start_msg, 1, &perr) != 0) {
            emit_step(wk, index, &row, "failed", 0, perr);
            char *fm = errored_text(wk, perr);
            ev_emit_log(&wk->w, "error", "%s", fm);
            int rc = finish(wk, "errored", 252, fm, state);
            free(fm);
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
    host_failure_reset(s->host);
    set_failure(wk, NULL);
    double t0 = job_now();
    job_orphan_step_begin(sp->driver, sp->method, sp->bracket_start != NULL);
    rd_status rs = m->run(s->instance, learner, &hc.call);
    job_orphan_step_end();
    host_call_settle(&hc, wk->ctx->config);
    long ms = (long)((job_now() - t0) * 1000.0 + 0.5);
    wk->step_index = -1;
    if (rs != RD_OK && rs != RD_NOT_FOUND) {
        note_driver_failure(wk, s->host);
        char *fm = errored_text(wk, hc.call.message[0] ? hc.call.message : "the driver failed without a message");
        emit_step(wk, index, &row, "failed", ms, hc.call.message[0] ? hc.call.message : "the driver failed without a message");
        ev_emit_log(&wk->w, "error", "Error in %s.%s: %s", sp->driver, sp->method, fm);
        if (sp->bracket_start) {
            cJSON *kept = wk->failure;
            wk->failure = NULL;
            if (worker_patch(wk, PLAN_ERROR_STATE, fm, 1, &perr) != 0) {
                ev_emit_log(&wk->w, "error", "Critical error attempting to change learner state to ERRORED: %s", perr);
                free(perr);
            } else {
                final = PLAN_ERROR_STATE;
            }
            set_failure(wk, kept);
        }
        int rc = finish(wk, "errored", 252, fm, final);
        free(fm);
        host_call_done(&hc);
        return rc;
    }
    strbuf end_msg = STRBUF_INIT;
    if (sp->bracket_start && sp->bracket_end) {
        sb_addf(&end_msg, "Ending: %s with response:\n%s", sp->bracket_end, hc.call.message[0] ? hc.call.message : "None");
        if (worker_patch(wk, sp->bracket_end, sb_str(&end_msg), 1, &perr) != 0) {
            emit_step(wk, index, &row, "failed", ms, perr);
            char *fm = errored_text(wk, perr);
            int rc = finish(wk, "errored", 252, fm, final);
            free(fm);
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
    snprintf(done_msg, sizeof done_msg, "%s.%s done for learner %s", sp->driver, sp->method, wk->spec->username);
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

/* Reads the next spec line from the supervisor. 0 with *line (malloc'd), or -1 at EOF/cancel. */
static int read_command(int fd, char **line)
{
    strbuf sb = STRBUF_INIT;
    char c[4096];
    for (;;) {
        if (g_cancel) break;
        ssize_t n = read(fd, c, sizeof c);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        sb_addn(&sb, c, (size_t)n);
        if (memchr(c, '\n', (size_t)n)) {
            *line = sb_take(&sb);
            return 0;
        }
    }
    sb_free(&sb);
    return -1;
}

/* Retires (plans, reruns) one learner; returns the exit status. The driver cache lives on. */
static int worker_one(worker *wk, loaded_drivers *dc, int fd)
{
    const job_spec *sp = wk->spec;
    const cfg *c = wk->ctx->config;
    wk->step_index = -1;
    wk->job_emitted = 0;
    wk->held = NULL;
    ev_writer_init(&wk->w, fd, c, sp->username);
    int status;
    cJSON *learner = NULL;
    const char *state = NULL;
    status = fetch_learner(wk, &learner, &state);
    if (status == 0) {
        wk->learner = learner;
        if (sp->action == JOB_RERUN) {
            status = worker_rerun(wk, dc, learner, state);
        } else {
            plan p;
            if (plan_make(state, c->steps, c->n_steps, &p) != 0) {
                status = finish(wk, "refused", 255, "out of memory", state);
            } else if (p.refusal != PLAN_OK) {
                status = refuse(wk, learner, state, &p);
            } else if (sp->action == JOB_PLAN || sp->dry_run) {
                status = worker_plan(wk, dc, learner, state, &p);
            } else {
                status = worker_retire(wk, dc, learner, state, &p);
            }
            plan_free(&p);
        }
    }
    wk->learner = NULL;
    set_failure(wk, NULL);
    cJSON_Delete(learner);
    cJSON_Delete(wk->held);
    wk->held = NULL;
    ev_writer_done(&wk->w);
    return status;
}

void job_worker_main(job_ctx *ctx, const job_spec *spec, int fd, int cmd_fd, char *phase, const int *close_fds,
                     size_t n_close, pid_t supervisor)
{
    sig_catch_cancel(worker_on_signal, NULL, NULL);
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
    /* other workers' pipes: holding them would keep those workers from seeing EOF */
    for (size_t i = 0; i < n_close; i++)
        if (close_fds[i] >= 0 && close_fds[i] != fd && close_fds[i] != cmd_fd) close(close_fds[i]);
    /* the supervisor alone writes the audit log (an orphaned worker reopens it for its end line);
     * only this learner's lease stays held through the inherited descriptor */
    audit_close_inherited();
    lease_close_inherited(cfg_string(ctx->config, "base_urls.lms"), spec->username);
    job_orphan_arm(ctx, supervisor, &g_cancel);
    /* stdout belongs to the supervisor's event stream: a driver's printf goes to stderr */
    dup2(STDERR_FILENO, STDOUT_FILENO);
    neutralise_sockets(fd);

    worker wk;
    memset(&wk, 0, sizeof wk);
    wk.ctx = ctx;
    wk.spec = spec;
    wk.phase = phase;
    wk.step_index = -1;
    const char *base = cfg_string(ctx->config, "base_urls.lms");
    wk.lms_base = base ? xstrdup(base) : NULL;
    http_set_log(ctx->http, worker_http_log, &wk);
    http_set_cancel_flag(ctx->http, &g_cancel);

    loaded_drivers dc = {NULL, 0};
    int status = worker_one(&wk, &dc, fd);
    /* a reusable worker keeps its connection and drivers for the next learner the supervisor
     * hands it; it never takes one after a cancel */
    while (cmd_fd >= 0 && !g_cancel) {
        char *line = NULL;
        if (read_command(cmd_fd, &line) != 0) break;
        job_spec next;
        void *holder = NULL;
        if (job_spec_decode(line, &next, &holder) != 0) {
            free(line);
            status = 255;
            break;
        }
        free(line);
        wk.spec = &next;
        status = worker_one(&wk, &dc, fd);
        wk.spec = NULL;
        cJSON_Delete(holder);
    }
    loaded_drivers_free(&dc);
    free(wk.lms_base);
    fflush(NULL);
    close(fd);
    if (cmd_fd >= 0) close(cmd_fd);
    _exit(status & 0xff);
}

/* ------------------------------------------------------------------------------------------ */
/* the spec on the command pipe */

char *job_spec_encode(const job_spec *spec)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "username", spec->username);
    cJSON_AddNumberToObject(o, "action", (double)spec->action);
    cJSON_AddNumberToObject(o, "dry_run", spec->dry_run);
    if (spec->label) cJSON_AddStringToObject(o, "label", spec->label);
    if (spec->driver) cJSON_AddStringToObject(o, "driver", spec->driver);
    if (spec->method) cJSON_AddStringToObject(o, "method", spec->method);
    if (spec->bracket_start) cJSON_AddStringToObject(o, "bracket_start", spec->bracket_start);
    if (spec->bracket_end) cJSON_AddStringToObject(o, "bracket_end", spec->bracket_end);
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json) return NULL;
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, json);
    sb_add(&sb, "\n");
    free(json);
    return sb_take(&sb);
}

int job_spec_decode(const char *line, job_spec *out, void **holder)
{
    cJSON *o = cJSON_Parse(line);
    memset(out, 0, sizeof *out);
    *holder = o;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "action");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "dry_run");
    out->username = json_str(o, "username");
    if (!o || !out->username || !cJSON_IsNumber(a) || !cJSON_IsNumber(d)) {
        cJSON_Delete(o);
        *holder = NULL;
        return -1;
    }
    out->action = (job_action)a->valueint;
    out->dry_run = d->valueint;
    out->label = json_str(o, "label");
    out->driver = json_str(o, "driver");
    out->method = json_str(o, "method");
    out->bracket_start = json_str(o, "bracket_start");
    out->bracket_end = json_str(o, "bracket_end");
    return 0;
}
