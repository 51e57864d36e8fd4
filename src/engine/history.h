/* history (prefix hist_): the retirement history (docs/history.md). One row per job that acted
 * on a learner (retire, resume, rerun, reset, each learner of `retire --all`, console actions)
 * with its steps and, for a failure, the request, the HTTP status, the server's (scrubbed) reason
 * text and the transport error. Keyed by LMS user id and retirement id: no username, email or
 * name is ever stored (callers scrub texts before they get here; see reason.h).
 *
 * Back ends, one interface: SQLite (default, $XDG_STATE_HOME/retirectl/history.db, mode 0600,
 * WAL) and PostgreSQL through libpq (`history: {url: "postgresql://..."}`), with the same
 * schema and versioned migrations applied when a store is opened. Times are UTC epoch
 * milliseconds. Every call returns 0, or -1 with a sentence in err naming the store (a
 * PostgreSQL password is never shown) and what to do. Not thread-safe; one per process. */
#ifndef RETIRECTL_HISTORY_H
#define RETIRECTL_HISTORY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "engine/config.h"

/* The schema version this build writes (docs/history.md lists the migrations). */
#define HIST_SCHEMA_VERSION 1
/* Longest server reason text kept, in bytes (after scrubbing). */
#define HIST_SERVER_TEXT_MAX 4096
/* Retention when the config says nothing (history_days). */
#define HIST_DEFAULT_DAYS 90

typedef struct history history;

/* One step of a job. Strings owned by the job (hist_job_clear). */
typedef struct hist_step {
    int index;
    char *start_state, *end_state, *driver, *method;
    char *status;          /* done | skipped | failed | running */
    long long duration_ms; /* -1 unknown */
    int attempts;          /* HTTP attempts of the failing request, or retries seen; 0 unknown */
} hist_step;

/* One job. Every string is owned (malloc'd) and may be NULL; ids are -1 when unknown. */
typedef struct hist_job {
    long long id;                       /* random positive 63-bit id (hist_job_init) */
    long long lms_user_id, retirement_id;
    char *action;                       /* retire, resume, rerun, reset, ... */
    char *command;                      /* the command line, without learner names */
    char *reason;                       /* the operator's --reason / ticket */
    char *operator_name, *host;
    long long pid;                      /* the supervising process */
    long long started_ms, ended_ms;     /* ended_ms 0 while the job runs */
    char *outcome;                      /* complete|errored|refused|cancelled|...; NULL while running */
    int exit_status;
    char *from_state, *final_state;
    char *message;                      /* the result message (scrubbed) */
    /* the failure, when one step failed */
    int fail_step;                      /* step index, -1 none */
    char *fail_driver, *fail_method;
    char *fail_request;                 /* "POST /api/discussion/v1/accounts/retire_forum/" (path only) */
    long fail_http_status;              /* 0: no answer / not an HTTP failure */
    char *fail_server_text;             /* the server's reason, scrubbed, <= HIST_SERVER_TEXT_MAX */
    char *fail_transport;               /* transport error when there was no answer */
    int fail_attempts;
    hist_step *steps;
    size_t n_steps;
    int stored;                         /* a row with this id is in the store (set by hist_save) */
    int queued, owned;                  /* the job recorder's bookkeeping (job_history.c) */
} hist_job;

/* Zeroes j, sets a fresh random id, ids -1, fail_step -1. */
void hist_job_init(hist_job *j);
void hist_job_clear(hist_job *j);
/* Returns the step with this index, adding it (in index order) when absent. */
hist_step *hist_job_step(hist_job *j, int index);
/* Replaces *dst by a copy of s (NULL allowed). */
void hist_set(char **dst, const char *s);

/* What the config asks for: enabled (history.enabled, default true), the store (history.url, a
 * postgresql:// URL or a file path; NULL: the default SQLite file) and the retention in days
 * (history_days, else history.days, default HIST_DEFAULT_DAYS; 0 keeps everything). */
typedef struct hist_settings {
    int enabled;
    const char *url;
    double days;
} hist_settings;
void hist_settings_of(const cfg *c, hist_settings *out);
/* Checks those keys and lms.errored_text ("upstream" or "append"): 0, or -1 with a sentence naming
 * the file, line and key. hist_open calls it. */
int hist_check_settings(const cfg *c, char *err, size_t err_len);

/* Opens the store the config names (c may be NULL: the default file), creating and migrating
 * the schema, then prunes rows older than the retention. */
int hist_open(const cfg *c, history **out, char *err, size_t err_len);
/* Opens a store by URL or path (NULL: the default file) and migrates it; no pruning. */
int hist_open_url(const char *url, history **out, char *err, size_t err_len);
void hist_close(history *h);
/* What to call the store in messages: the file path, or the URL with its password masked. */
const char *hist_where(const history *h);
/* "sqlite" or "postgresql". */
const char *hist_backend_name(const history *h);
/* The schema version found in the store. */
int hist_schema_version(history *h, int *version, char *err, size_t err_len);

/* Writes jobs in one transaction: a job already stored (stored=1) is replaced, others inserted;
 * then stored=1 on each. */
int hist_save(history *h, hist_job *const *jobs, size_t n, char *err, size_t err_len);
/* Deletes jobs (and their steps) that ended, or started, before before_ms; *removed may be NULL. */
int hist_prune(history *h, long long before_ms, long long *removed, char *err, size_t err_len);

/* A listing. Zero-initialise, then set what is wanted (ids -1 / 0 since / 0 limit: any). */
typedef struct hist_query {
    long long lms_user_id;   /* -1 any */
    long long retirement_id; /* -1 any */
    long long since_ms;      /* 0 any: jobs started at or after */
    int failed_only;         /* outcome errored */
    int current_failures;    /* only each learner's latest finished job, when it failed */
    int open_only;           /* jobs still running (no end) */
    size_t limit;            /* 0: no limit */
    int no_steps;            /* leave the jobs' steps out (faster for long lists) */
} hist_query;
void hist_query_init(hist_query *q);
/* Jobs matching q, newest first, with their steps. *jobs is malloc'd (hist_jobs_free). */
int hist_list(history *h, const hist_query *q, hist_job **jobs, size_t *n, char *err, size_t err_len);
void hist_jobs_free(hist_job *jobs, size_t n);

/* Current failures (as hist_query.current_failures) counted by failing driver.method and HTTP
 * status, most frequent first. */
typedef struct hist_group {
    char *driver, *method;
    long http_status;
    long long count;
} hist_group;
int hist_failure_groups(history *h, long long since_ms, hist_group **groups, size_t *n, char *err, size_t err_len);
void hist_groups_free(hist_group *g, size_t n);

/* The steps as a JSON array: [{"index", "start_state", "end_state", "driver", "method", "status",
 * "duration_ms", "attempts"}], members absent when unknown. Caller owns it. */
cJSON *hist_steps_json(const hist_job *j);

/* The writer process: it alone holds the store's connection, so a slow or unreachable store
 * never holds the process that supervises retirements. Started once (fork: call it before any
 * thread); records are sent without blocking and written in batches; a store that is down is
 * retried every 30 s while records wait (at most 20,000). Every problem comes back as a sentence
 * through hist_writer_poll / hist_writer_finish. */
typedef struct hist_writer hist_writer;
/* Forks the writer for the config's store (c must stay valid: the child uses its copy). NULL with
 * err when it cannot start. */
hist_writer *hist_writer_start(const cfg *c, char *err, size_t err_len);
/* Queues jobs for writing (serialised now; never blocks). 0, or -1 when the writer is gone. */
int hist_writer_send(hist_writer *w, hist_job *const *jobs, size_t n);
/* Sends what is queued and passes each problem the writer reported to fn. Never blocks. */
void hist_writer_poll(hist_writer *w, void (*fn)(void *user, const char *message), void *user);
/* Ends the writer: sends the rest, lets it write (waiting at most timeout_s), reports problems as
 * hist_writer_poll does, frees w. Returns how many records were not written (0 when all were),
 * -1 when that is unknown (the writer did not finish). */
long long hist_writer_finish(hist_writer *w, double timeout_s, void (*fn)(void *user, const char *message),
                             void *user);

/* One line saying why a job failed, into buf: "403 forum: permission denied" (status and server
 * text), "403 Client Error: ..." (status and message when the server said nothing), "no answer:
 * <transport error>", or the result message; "" when the job did not fail. Returns buf. */
char *hist_reason_short(const hist_job *j, char *buf, size_t len);

/* The current UTC time in epoch milliseconds. */
long long hist_now_ms(void);
/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC) into epoch ms: 0, or -1. */
int hist_parse_date(const char *text, long long *ms);
/* Formats epoch ms as "2026-12-03T10:00:00Z" into buf (>= 24 bytes); returns buf. */
char *hist_format_time(long long ms, char *buf, size_t len);

#endif
