/* ev (prefix ev_): the JSON-lines job events of docs/events.md. Writers build one object per
 * event and print it as one line with `event`, `time` and `learner` first and every string
 * scrubbed of the config's secrets (cfg_redact); readers parse a line back into an ev_event.
 * Used by the job worker (writer), the supervisor, ops and the console (readers). */
#ifndef RETIRECTL_EV_H
#define RETIRECTL_EV_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "engine/config.h"

typedef enum ev_kind { EV_UNKNOWN = 0, EV_JOB, EV_STEP, EV_PREVIEW, EV_LOG, EV_RESULT } ev_kind;
/* A step event's status word. */
typedef enum ev_step_status {
    EV_STATUS_NONE = 0, /* absent or not one of these */
    EV_STATUS_RUNNING,
    EV_STATUS_RETRYING,
    EV_STATUS_DONE,
    EV_STATUS_SKIPPED,
    EV_STATUS_FAILED
} ev_step_status;

/* A parsed event. Every string points into `json` (owned by the event; ev_event_free). Absent
 * fields are NULL / -1. */
typedef struct ev_event {
    ev_kind kind;
    cJSON *json;
    const char *event;       /* "job", "step", ... */
    const char *time;
    const char *learner;
    /* job */
    const char *action;
    const char *current_state;
    int dry_run;
    /* step, preview */
    int index;
    const char *start_state, *end_state, *driver, *method;
    const char *status;      /* step: running|retrying|done|skipped|failed */
    ev_step_status step_status; /* status as the enum */
    const char *plan;        /* preview: run|skip|fail */
    const char *message;     /* step, preview, result */
    const char *progress;
    long elapsed_ms;
    int attempt;
    long retry_in_ms;
    /* log */
    const char *level;       /* debug|info|warn|error */
    const char *text;
    /* result */
    const char *outcome;     /* complete|errored|refused|planned|cancelled */
    int exit_status;
    const char *final_state;
} ev_event;

/* Parses one line (trailing newline allowed). 0, or -1 when it is not a JSON object with a
 * string `event` (then *out is zeroed). Free with ev_event_free. */
int ev_parse(const char *line, ev_event *out);
void ev_event_free(ev_event *e);
/* Reads the event fields of object o (e.g. one entry of a job event's `steps`) into *out,
 * which borrows o's strings and owns nothing (out->json is NULL; do not ev_event_free). */
void ev_read_fields(const cJSON *o, ev_event *out);
/* Maps "step" etc. to the kind. */
ev_kind ev_kind_of(const char *event);
/* Maps "running" etc. to the step status (EV_STATUS_NONE for NULL or another word). */
ev_step_status ev_step_status_of(const char *status);

/* Current UTC time as "2026-11-28T10:00:00.000Z" into buf (>= 32 bytes); returns buf. */
char *ev_time_now(char *buf, size_t len);

/* Formats obj as one event line: a new object with event, time, learner, then obj's members
 * in order; every string value (recursively) is scrubbed with cfg_redact when config is set.
 * Takes ownership of obj (may be NULL). Returns a malloc'd line ending in "\n". */
char *ev_format(const cfg *config, const char *event, const char *learner, cJSON *obj);

/* A writer to a file descriptor: one write() per line. */
typedef struct ev_writer {
    int fd;
    const cfg *config;      /* for scrubbing; may be NULL */
    char *learner;          /* owned copy */
} ev_writer;
void ev_writer_init(ev_writer *w, int fd, const cfg *config, const char *learner);
void ev_writer_done(ev_writer *w);
/* Writes one event (takes ownership of obj). Returns 0 or -1 (errno from write). */
int ev_emit(ev_writer *w, const char *event, cJSON *obj);
/* `log` event with level "debug"|"info"|"warn"|"error". */
int ev_emit_log(ev_writer *w, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Builds the common step/preview fields: index, start_state, end_state, driver, method. */
cJSON *ev_step_object(int index, const char *start_state, const char *end_state, const char *driver,
                      const char *method);
/* The members of a `result` event (for a writer that adds more); caller owns it. */
cJSON *ev_result_object(const char *outcome, int exit_status, const char *message, const char *final_state);
/* `result` event. final_state may be NULL. */
int ev_emit_result(ev_writer *w, const char *outcome, int exit_status, const char *message,
                   const char *final_state);

/* Level name for rd_log_level values (0..3). */
const char *ev_level_name(int level);

#endif
