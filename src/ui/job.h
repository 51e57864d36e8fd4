/* ui job (prefix ui_job_): one child `retirectl ... --events` process started by the console,
 * and the state rebuilt from its JSON-lines events (docs/events.md): plan, per-step status,
 * previews, log, result. Feeding bytes is pure (no curses, no I/O) so it is unit-tested. */
#ifndef RETIRECTL_UI_JOB_H
#define RETIRECTL_UI_JOB_H

#include <stddef.h>
#include <sys/types.h>

typedef enum ui_step_status {
    UI_STEP_PENDING = 0, UI_STEP_RUNNING, UI_STEP_RETRYING, UI_STEP_DONE, UI_STEP_SKIPPED, UI_STEP_FAILED
} ui_step_status;

typedef struct ui_job_step {
    char *start_state, *end_state, *driver, *method; /* raw (sanitize before drawing) */
    char plan[8];             /* "run", "skip", "fail" or "" */
    ui_step_status status;
    long elapsed_ms;          /* from the event */
    double since_ms;          /* monotonic time the status arrived (running: elapsed counts from here) */
    int attempt;
    long retry_in_ms;
    double retry_first_ms;    /* when the request being retried first failed (its budget counts from here) */
    char *message;            /* done/failed/retrying message, or plan message */
    char *progress;
    char **requests;          /* preview: "METHOD URL body" lines */
    size_t n_requests;
} ui_job_step;

typedef struct ui_job {
    pid_t pid;                /* child, 0 when not started or reaped */
    int out_fd, err_fd;       /* pipes from the child's stdout/stderr, -1 when closed */
    char *learner;            /* the username the job is for (owned) */
    char action[16];          /* retire, resume, rerun, plan, reset */
    char *what;               /* description shown to the operator, e.g. "rerun LMS.retirement_unenroll" */
    int dry_run;
    int offer_continue;       /* a rerun --advance of a failed step: offer to continue when it ends well */
    char *current_state;      /* from the job event */
    ui_job_step *steps;
    size_t n_steps;
    char **log;               /* last UI_JOB_LOG_MAX lines (sanitized) */
    size_t n_log, log_start;  /* ring buffer */
    size_t log_total;
    int finished;             /* result event seen, or the process ended */
    char outcome[16];         /* complete, errored, refused, planned, cancelled, or "" */
    int exit_status;          /* from result, else the process status (-1 unknown) */
    char *result_message;
    char *final_state;
    int cancel_sent;
    int exited;               /* waitpid collected the child */
    int wait_status;
    double started_ms, ended_ms;
    char *partial[2];         /* incomplete line per stream */
    int act;                  /* the console's act_kind, to start it again with --force */
    char *act_arg[4];         /* its arg, arg2, arg3 and reason (owned, NULL when none) */
    int forced;               /* started with --force */
} ui_job;

#define UI_JOB_LOG_MAX 2000

/* A new job record (not started). learner/action/what are copied. Caller frees with ui_job_free. */
ui_job *ui_job_new(const char *learner, const char *action, const char *what);
void ui_job_free(ui_job *j);
/* Feeds bytes read from stream 0 (stdout: events) or 1 (stderr: text) at monotonic time now_ms. */
void ui_job_feed(ui_job *j, int stream, const char *data, size_t n, double now_ms);
/* Handles one complete line of stream. */
void ui_job_line(ui_job *j, int stream, const char *line, double now_ms);
/* Records the process exit (status from waitpid); ends the job if no result event came. */
void ui_job_exited(ui_job *j, int wait_status, double now_ms);
/* Appends a log line (sanitized copy kept). */
void ui_job_log(ui_job *j, const char *level, const char *text);
/* The i-th log line from the oldest kept (0 <= i < n_log). */
const char *ui_job_log_line(const ui_job *j, size_t i);
/* "done", "running", ... */
const char *ui_step_status_name(ui_step_status s);

#endif
