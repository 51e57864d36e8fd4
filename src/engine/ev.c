/* ev: JSON-lines job events (docs/events.md). See ev.h. */
#include "engine/ev.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

ev_kind ev_kind_of(const char *event)
{
    if (!event) return EV_UNKNOWN;
    if (strcmp(event, "job") == 0) return EV_JOB;
    if (strcmp(event, "step") == 0) return EV_STEP;
    if (strcmp(event, "preview") == 0) return EV_PREVIEW;
    if (strcmp(event, "log") == 0) return EV_LOG;
    if (strcmp(event, "result") == 0) return EV_RESULT;
    return EV_UNKNOWN;
}

const char *ev_level_name(int level)
{
    switch (level) {
    case 0: return "debug";
    case 1: return "info";
    case 2: return "warn";
    default: return "error";
    }
}

char *ev_time_now(char *buf, size_t len)
{
    return clk_iso_now(buf, len);
}

/* The numeric member as an int, -1 when absent or out of range. */
static int int_of(const cJSON *o, const char *key)
{
    double d = json_num(o, key, -1);
    return d >= INT_MIN && d <= INT_MAX ? (int)d : -1;
}

/* The numeric member as a long, -1 when absent or out of range. */
static long long_of(const cJSON *o, const char *key)
{
    double d = json_num(o, key, -1);
    return d >= (double)LONG_MIN && d < (double)LONG_MAX ? (long)d : -1;
}

ev_step_status ev_step_status_of(const char *status)
{
    static const char *const words[] = {"running", "retrying", "done", "skipped", "failed"};
    for (size_t i = 0; status && i < sizeof words / sizeof words[0]; i++)
        if (strcmp(status, words[i]) == 0) return (ev_step_status)(EV_STATUS_RUNNING + i);
    return EV_STATUS_NONE;
}

void ev_read_fields(const cJSON *j, ev_event *e)
{
    memset(e, 0, sizeof *e);
    e->event = json_str(j, "event");
    e->kind = ev_kind_of(e->event);
    e->time = json_str(j, "time");
    e->learner = json_str(j, "learner");
    e->action = json_str(j, "action");
    e->current_state = json_str(j, "current_state");
    e->dry_run = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "dry_run"));
    e->index = int_of(j, "index");
    e->start_state = json_str(j, "start_state");
    e->end_state = json_str(j, "end_state");
    e->driver = json_str(j, "driver");
    e->method = json_str(j, "method");
    e->status = json_str(j, "status");
    e->step_status = ev_step_status_of(e->status);
    e->plan = json_str(j, "plan");
    e->message = json_str(j, "message");
    e->progress = json_str(j, "progress");
    e->elapsed_ms = long_of(j, "elapsed_ms");
    e->attempt = int_of(j, "attempt");
    e->retry_in_ms = long_of(j, "retry_in_ms");
    e->level = json_str(j, "level");
    e->text = json_str(j, "text");
    e->outcome = json_str(j, "outcome");
    e->exit_status = int_of(j, "exit_status");
    e->final_state = json_str(j, "final_state");
}

int ev_parse(const char *line, ev_event *e)
{
    memset(e, 0, sizeof *e);
    cJSON *j = cJSON_Parse(line);
    if (!cJSON_IsObject(j) || !json_str(j, "event")) {
        cJSON_Delete(j);
        return -1;
    }
    ev_read_fields(j, e);
    e->json = j;
    return 0;
}

void ev_event_free(ev_event *e)
{
    if (!e) return;
    cJSON_Delete(e->json);
    memset(e, 0, sizeof *e);
}

/* Replaces every string value under node (recursively) by its scrubbed copy. */
static void scrub(const cfg *config, cJSON *node)
{
    for (cJSON *c = node; c; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring) {
            char *clean = cfg_redact(config, c->valuestring);
            if (clean) {
                if (strcmp(clean, c->valuestring) != 0) cJSON_SetValuestring(c, clean);
                free(clean);
            }
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            scrub(config, c->child);
        }
    }
}

char *ev_format(const cfg *config, const char *event, const char *learner, cJSON *obj)
{
    char now[40];
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "event", event);
    cJSON_AddStringToObject(out, "time", ev_time_now(now, sizeof now));
    cJSON_AddStringToObject(out, "learner", learner ? learner : "");
    if (obj) {
        /* move obj's members after the header, in order */
        cJSON *c = obj->child;
        while (c) {
            cJSON *next = c->next;
            cJSON *item = cJSON_DetachItemViaPointer(obj, c);
            if (item->string && (strcmp(item->string, "event") == 0 || strcmp(item->string, "time") == 0 ||
                                 strcmp(item->string, "learner") == 0))
                cJSON_Delete(item);
            else
                cJSON_AddItemToObject(out, item->string, item); /* cJSON keeps item->string */
            c = next;
        }
        cJSON_Delete(obj);
    }
    if (config) scrub(config, out->child);
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    if (!text) return NULL;
    size_t n = strlen(text);
    char *line = xrealloc(text, n + 2);
    if (!line) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

void ev_writer_init(ev_writer *w, int fd, const cfg *config, const char *learner)
{
    w->fd = fd;
    w->config = config;
    w->learner = xstrdup(learner ? learner : "");
}

void ev_writer_done(ev_writer *w)
{
    free(w->learner);
    w->learner = NULL;
}

int ev_emit(ev_writer *w, const char *event, cJSON *obj)
{
    char *line = ev_format(w->config, event, w->learner, obj);
    if (!line) return -1;
    size_t len = strlen(line), off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t n = write(w->fd, line + off, len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            rc = -1;
            break;
        }
        off += (size_t)n;
    }
    free(line);
    return rc;
}

int ev_emit_log(ev_writer *w, const char *level, const char *fmt, ...)
{
    char buf[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "level", level);
    cJSON_AddStringToObject(o, "text", buf);
    return ev_emit(w, "log", o);
}

cJSON *ev_step_object(int index, const char *start_state, const char *end_state, const char *driver,
                      const char *method)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddStringToObject(o, "start_state", start_state ? start_state : "");
    cJSON_AddStringToObject(o, "end_state", end_state ? end_state : "");
    cJSON_AddStringToObject(o, "driver", driver ? driver : "");
    cJSON_AddStringToObject(o, "method", method ? method : "");
    return o;
}

cJSON *ev_result_object(const char *outcome, int exit_status, const char *message, const char *final_state)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "outcome", outcome);
    cJSON_AddNumberToObject(o, "exit_status", exit_status);
    cJSON_AddStringToObject(o, "message", message ? message : "");
    if (final_state) cJSON_AddStringToObject(o, "final_state", final_state);
    return o;
}

int ev_emit_result(ev_writer *w, const char *outcome, int exit_status, const char *message,
                   const char *final_state)
{
    return ev_emit(w, "result", ev_result_object(outcome, exit_status, message, final_state));
}
