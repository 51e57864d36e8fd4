/* job (prefix job_): retire (or dry-run, or rerun one method for) one learner in a worker
 * process, supervised from the calling process (docs/architecture.md §3).
 *
 * The supervisor (the CLI, `retire --all -j N`, the console) owns a job_ctx: config, one
 * http client whose LMS token is fetched BEFORE any worker is forked (every worker inherits
 * it: one token per process tree), the driver registry (plugins are dlopen()ed only in
 * workers) and an lms client it uses to record ERRORED itself when a worker dies.
 *
 * job_start() forks a worker that runs the steps exactly as retire_one_learner.py (docs/lms-api.md §9.1)
 * and writes JSON-lines events (docs/events.md) to a pipe. The supervisor multiplexes any
 * number of jobs with poll():
 *
 *     job_ctx *ctx = job_ctx_new(config, driver_paths, err, sizeof err);
 *     if (job_ctx_prepare(ctx, err, sizeof err) != 0) ...          // token fetch, exit 255
 *     job *j = job_start(ctx, &spec, on_event, user, err, sizeof err);
 *     while (!job_done(j)) {
 *         struct pollfd p = {job_fd(j), POLLIN, 0};
 *         poll(&p, 1, job_poll_timeout_ms(j));                      // -1 fd once the pipe closed
 *         if (p.revents) job_on_readable(j);
 *         job_tick(j, job_now());                                   // timeouts, reaping
 *     }
 *     int status = job_exit_status(j); job_free(j);
 *
 * (job_run() does exactly that loop for one job.) Every event is passed to the callback as
 * a parsed ev_event plus its JSON line; the last one is always `result`. When the worker
 * dies or exceeds step_timeout_seconds in a step, the supervisor kills it, PATCHes ERRORED at
 * the LMS with "<DRIVER>.<method> crashed (SIGSEGV)" / "<DRIVER>.<method> timed out after N s"
 * / "<DRIVER>.<method> exited with status N" and emits the step `failed` and `result` events
 * itself.
 *
 * Cancellation (job_cancel, e.g. on SIGINT/SIGTERM of the CLI): the worker lets the step in
 * flight finish (its end state is recorded), logs that it was cancelled and stops with outcome
 * `cancelled` and exit status JOB_EXIT_CANCELLED. The PATCHes that record the learner's state
 * keep their full retry policy; only a driver's own retry waits are cut short (that step fails:
 * ERRORED). A second job_cancel kills the worker and records ERRORED if a step was in flight.
 *
 * Supervisor death (docs/operators.md): a worker notices at once (PR_SET_PDEATHSIG, job_orphan.c),
 * finishes the step in flight, records ERRORED with "supervisor ... was lost after STEP" (or, for
 * a hanging step, stops it at step_timeout_seconds itself), appends its own audit end line when
 * job_ctx_set_audit was called, and exits. A worker death outside a driver call is concluded by
 * the supervisor from the learner's state read back from the LMS.
 *
 * Workers are forked, not exec'd: no threads may be running in the supervisor when job_start
 * is called (curses and poll loops are fine). The worker closes no descriptors of the
 * supervisor except inherited sockets, which it neutralises so it never shares a
 * keep-alive connection with its parent. */
#ifndef RETIRECTL_JOB_H
#define RETIRECTL_JOB_H

#include <signal.h> /* sig_atomic_t: cancel flags set by signal handlers */
#include <stddef.h>
#include <sys/types.h>

#include "engine/config.h"
#include "engine/ev.h"
#include "engine/http.h"
#include "engine/lms.h"
#include "engine/reg.h"

/* Exit status of a job stopped by the operator (not an upstream status). */
#define JOB_EXIT_CANCELLED 130

typedef enum job_action {
    JOB_RETIRE = 0, /* retire_one_learner.py: the whole pipeline from the learner's state */
    JOB_PLAN = 1,   /* dry-run: GET status, plan, preview every step; no PATCH, no driver call */
    JOB_RERUN = 2   /* run one DRIVER.method for the learner, optionally bracketed by states */
} job_action;

/* What to do. Strings are copied by job_start. */
typedef struct job_spec {
    const char *username;      /* the username given by the operator (PATCHes use it as given) */
    job_action action;
    const char *label;         /* `action` of the job event ("retire", "resume", "rerun", "plan");
                                  NULL: derived from action */
    int dry_run;               /* with JOB_RETIRE: same as JOB_PLAN */
    /* JOB_RERUN only: */
    const char *driver;        /* e.g. "LMS" */
    const char *method;        /* e.g. "retirement_retire_forum" */
    const char *bracket_start; /* if set: forced PATCH to this state ("Starting: <state>") before the
                                  call, ERRORED with the message on failure */
    const char *bracket_end;   /* if set (with bracket_start): forced PATCH to this state after
                                  success ("Ending: <state> with response:\n<text>") */
    const char *reason;        /* the operator's --reason / ticket, for the history (may be NULL) */
} job_spec;

typedef struct job_ctx job_ctx;
typedef struct job job;

/* Called for every event of a job, in order; line is the JSON line (with "\n"), ev its parse.
 * Both are valid only during the call. */
typedef void (*job_event_fn)(void *user, job *j, const ev_event *ev, const char *line);

/* A supervisor context over config (which must outlive it). driver_paths: extra entry-point
 * files (--driver-path), NULL-terminated, may be NULL. NULL with err on failure. */
job_ctx *job_ctx_new(const cfg *config, const char *const *driver_paths, char *err, size_t err_len);
/* Same, reusing clients the caller already built (borrowed: they must outlive the ctx;
 * registry may be NULL to build one). */
job_ctx *job_ctx_new_with(const cfg *config, http_client *http, lms_client *lms, reg *registry, char *err,
                          size_t err_len);
/* Fetches the shared LMS token now (before any worker is forked). 0, or -1 with a sentence in
 * err (the caller exits 255 "Unexpected error occurred!"). */
int job_ctx_prepare(job_ctx *ctx, char *err, size_t err_len);
void job_ctx_free(job_ctx *ctx);
const cfg *job_ctx_config(const job_ctx *ctx);
http_client *job_ctx_http(job_ctx *ctx);
lms_client *job_ctx_lms(job_ctx *ctx);
reg *job_ctx_registry(job_ctx *ctx);
/* Overrides the config's step_timeout_seconds (seconds; <= 0 keeps the config's). */
void job_ctx_set_step_timeout(job_ctx *ctx, double seconds);
/* Sends the workers' per-request HTTP log lines as `log` events only from this rd_log_level
 * up (default RD_LOG_DEBUG: all). `retire --all` without --events uses RD_LOG_INFO: one
 * debug event per request is most of a bulk run's event traffic. Retry events are kept. */
void job_ctx_set_http_log_level(job_ctx *ctx, int min_level);
/* on != 0: a worker that finished a learner with its `result` is kept and handed the next
 * learner of a later job_start over a pipe (it keeps its LMS connection and started drivers)
 * instead of a fresh fork per learner. Isolation is unchanged: a worker that crashes, times out
 * or is cancelled fails only the learner in flight and is never reused; the next job_start
 * forks a fresh one. A learner is handed to exactly one worker. Off by default; job_ctx_free
 * ends the idle workers. */
void job_ctx_set_reuse_workers(job_ctx *ctx, int on);
/* Worker recycling (with job_ctx_set_reuse_workers): a worker is replaced by a fresh one after
 * max_learners learners, or after a learner that leaves its resident memory above max_rss_bytes
 * (0: no limit for either). job_ctx_workers_recycled counts the replacements. */
void job_ctx_set_recycle(job_ctx *ctx, int max_learners, long long max_rss_bytes);
int job_ctx_workers_recycled(const job_ctx *ctx);
/* Tells the workers that an audit log is kept (operator name for its lines, NULL = login name;
 * the operator's reason, may be NULL): a worker whose supervisor dies appends its own audit "end"
 * line for the learner in hand (docs/operators.md). Workers never hold the log open otherwise. */
void job_ctx_set_audit(job_ctx *ctx, const char *operator_name, const char *reason);

/* The gate: fn is called in the supervisor when a job's `job` event arrives (the learner was
 * read, ids known: job_lms_user_id), before the worker changes anything; the worker waits for
 * the answer. 0 lets it go on; -1 stops it: the job ends `refused`, exit 255, nothing changed
 * (e.g. the audit start line could not be written). Set before the first job_start. */
typedef int (*job_gate_fn)(void *user, job *j);
void job_ctx_set_gate(job_ctx *ctx, job_gate_fn fn, void *user);

/* Non-zero when s holds a control character (bytes 1..31 or 127): such a username from the LMS
 * is a bad record (exit 251), never retired (a NUL arrives as U+0001, see lms.c). */
int job_has_control_chars(const char *s);

/* Forks the worker (or, with job_ctx_set_reuse_workers, hands the learner to an idle worker
 * that is still alive). NULL with err when it cannot (pipe/fork failure). The job is owned by
 * the caller (job_free). user is passed to fn. The step timeout applies from here until the
 * first step too (a driver's get_instance that never returns is killed and reported as
 * "<DRIVER>.get_instance timed out after N s"; one that crashes as "... crashed (SIGSEGV)";
 * both leave the learner untouched, exit status 255). */
job *job_start(job_ctx *ctx, const job_spec *spec, job_event_fn fn, void *user, char *err, size_t err_len);
/* The pipe to poll for POLLIN, or -1 once it is closed (then only job_tick is needed). */
int job_fd(const job *j);
/* Reads what is available and dispatches complete lines. Returns 1 when the job is done. */
int job_on_readable(job *j);
/* Monotonic seconds, the clock job_tick expects. */
double job_now(void);
/* Enforces the step timeout, reaps the worker and, if it died without a result, records
 * ERRORED and emits the closing events. Returns 1 when the job is done. */
int job_tick(job *j, double now);
/* Milliseconds until job_tick must run next (for poll), at most 250. */
int job_poll_timeout_ms(const job *j);
/* Asks the worker to stop after the step in flight (see above). */
void job_cancel(job *j);
int job_done(const job *j);
/* After done: the exit status (0, 249..255, JOB_EXIT_CANCELLED) and outcome ("complete",
 * "errored", "refused", "planned", "cancelled"). */
int job_exit_status(const job *j);
const char *job_outcome(const job *j);
const char *job_username(const job *j);
pid_t job_pid(const job *j);
/* Steps run / skipped / failed so far (for summaries and the audit log). */
int job_steps_run(const job *j);
int job_steps_skipped(const job *j);
/* LMS ids seen in the job event (0 when unknown), for the audit log. */
long job_lms_user_id(const job *j);
long job_retirement_id(const job *j);
/* The result message (secret-free), or "". */
const char *job_message(const job *j);
/* Kills a still-running worker (SIGKILL) and frees. */
void job_free(job *j);

/* History (docs/history.md). Every job that acts on a learner (not a plan or dry run) is
 * recorded by its supervisor in the retirement history the config names (engine/history.h),
 * unless `history: {enabled: false}`: opened at the first such job, written in batches (a lone
 * job at its start and end), flushed by job_ctx_free. If the store cannot be opened or written
 * the jobs still run; the problem is reported loudly through the warn callback (default: a
 * "retirectl: WARNING: history: ..." line on stderr), retried every 30 s, and the number of
 * jobs not recorded is reported when the ctx is freed.
 * The command line and operator recorded with each job are process-wide (set once by main);
 * learner names are scrubbed from them. */
typedef void (*job_history_warn_fn)(void *user, const char *message);
void job_history_set_origin(const char *command, const char *operator_name);
void job_ctx_set_history_warn(job_ctx *ctx, job_history_warn_fn fn, void *user);
/* Writes what is pending now: 0, or -1 when something could not be written (already reported). */
int job_ctx_history_flush(job_ctx *ctx);
/* The same recorder for actions that are not jobs (reset's forced state changes). NULL when the
 * config turns the history off (job_recorder_add then just frees). fn/user as for
 * job_ctx_set_history_warn (NULL: stderr). */
struct hist_job;
typedef struct job_recorder job_recorder;
job_recorder *job_recorder_new(const cfg *config, job_history_warn_fn fn, void *user);
/* Takes hj (engine/history.h, already filled with the learner's ids, states, outcome and any
 * failure); adds who/where/command, scrubbing username from them and from reason. */
void job_recorder_add(job_recorder *r, struct hist_job *hj, const char *username, const char *reason);
/* Writes what is pending and reports loudly what could not be written. */
void job_recorder_free(job_recorder *r);

/* Starts one job and runs the poll loop until it is done, honouring *cancel_flag (set by a
 * signal handler; may be NULL): the first time it becomes non-zero job_cancel is called,
 * and again when it exceeds 1. Returns the exit status, or 255 with err when it cannot start. */
int job_run(job_ctx *ctx, const job_spec *spec, job_event_fn fn, void *user, volatile sig_atomic_t *cancel_flag, char *err,
            size_t err_len);

#endif
