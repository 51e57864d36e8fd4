/* job internals shared by job_supervisor.c (context, job_start, the poll side, the pool of
 * reusable workers) and job_worker.c (the worker process). Not a public interface: include
 * engine/job.h elsewhere. */
#ifndef RETIRECTL_JOB_INTERNAL_H
#define RETIRECTL_JOB_INTERNAL_H

#include <sys/types.h>

#include "engine/job.h"
#include "common/strbuf.h"

/* Size of the phase buffer a worker shares with its supervisor. */
#define JOB_PHASE_LEN 256

/* One worker process. Owned by the ctx's list of live workers; lent to one job at a time. */
typedef struct job_proc {
    pid_t pid;
    int ev_fd;   /* read end of the worker's event pipe (non-blocking), -1 once closed */
    int cmd_fd;  /* write end of the pipe that hands a reusable worker its next learner, or -1 */
    char *phase; /* shared mapping (JOB_PHASE_LEN): "<DRIVER>.get_instance" while the worker starts a
                    driver, "" otherwise; names what a set-up crash or hang was in. May be NULL. */
    int reaped;
    int wait_status;
    int learners; /* learners handed to it so far */
    int retiring; /* recycled: told to exit, not yet reaped (job_supervisor.c reap_retiring) */
    int gate_fd;  /* write end of the gate pipe (job_ctx_set_gate), or -1 */
} job_proc;

struct job_ctx {
    const cfg *config;
    http_client *http;
    lms_client *lms;
    reg *registry;
    int own_http, own_lms, own_reg;
    double step_timeout;
    int min_http_log_level; /* HTTP log lines below this level are not sent as `log` events */
    int reuse;              /* workers take further learners over cmd_fd (job_ctx_set_reuse_workers) */
    job_proc **procs;       /* every live worker (busy or idle) */
    size_t n_procs;
    job_proc **idle; /* workers waiting for their next learner */
    size_t n_idle;
    /* recycling (job_ctx_set_recycle): a reusable worker is replaced after this many learners
     * or when its resident memory passes this many bytes (0: no limit) */
    int recycle_learners;
    long long recycle_rss;
    int recycled; /* workers replaced so far */
    /* job_ctx_set_gate: answered for every `job` event before the worker may change anything */
    job_gate_fn gate_fn;
    void *gate_user;
    int child_gate_fd; /* in a worker only: read end of its gate pipe (-1: no gate) */
    /* job_ctx_set_audit: an orphaned worker appends its own audit end line */
    int audit_on;
    char *audit_operator, *audit_reason;
    struct job_recorder *recorder; /* the history recorder (job_history.c), NULL until a job acts */
    job_history_warn_fn history_warn;
    void *history_warn_user;
};

struct job {
    job_ctx *ctx;
    char *username;
    job_spec spec; /* strings below are owned copies */
    char *label, *driver, *method, *bracket_start, *bracket_end;
    job_event_fn fn;
    void *user;
    job_proc *proc; /* the worker running this job; NULL once released to the pool or freed */
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
    char *job_state;  /* the learner's state when the worker read it (job event) */
    char *last_ended; /* start state of the last step that ended (done / failed) */
    int start_pending;/* "Starting state X" seen, its step not running yet: a start PATCH may be in flight */
    /* supervisor actions */
    int killed_timeout;
    int cancel_count;
    double timeout_used;
    double started; /* when the learner was handed to the worker (the timeout covers set-up too) */
    int seen_step;  /* a step has started: the set-up phase is over */
    struct hist_job *hist; /* this job's history record while it runs (job_history.c), or NULL */
};

/* The history recorder (job_history.c), called by the supervisor: when a job starts (spec is
 * the caller's), for each of its events, when it is freed, and when the ctx is freed. */
void job_history_begin(job *j, const job_spec *spec);
void job_history_event(job *j, const ev_event *ev);
void job_history_end(job *j);
void job_history_ctx_free(job_ctx *ctx);

/* The worker process (job_worker.c): runs spec (then, when cmd_fd >= 0, each further spec read
 * from cmd_fd, until EOF) writing events to ev_fd, and _exit()s. close_fds (n_close entries)
 * are the supervisor's descriptors of other workers, closed first; supervisor is its pid (the
 * worker notices when it dies, job_orphan_arm). Never returns. */
__attribute__((noreturn)) void job_worker_main(job_ctx *ctx, const job_spec *spec, int ev_fd, int cmd_fd,
                                               char *phase, const int *close_fds, size_t n_close, pid_t supervisor);

/* job_orphan.c, in the worker: "no unsupervised worker". job_orphan_arm asks the kernel for a
 * signal when the supervisor dies (PR_SET_PDEATHSIG) which sets *cancel_flag and starts the
 * watchdog that enforces the step timeout; job_orphan_learner / _step_begin / _step_end tell
 * it what is in flight (job_orphan_step_end never returns when the watchdog took the step
 * over: it records ERRORED and ends the process); job_orphan_record appends the worker's own
 * audit end line when the supervisor is gone. */
void job_orphan_arm(job_ctx *ctx, pid_t supervisor, volatile sig_atomic_t *cancel_flag);
int job_orphaned(void);
pid_t job_orphan_supervisor(void);
void job_orphan_learner(const char *username, const char *label, long user_id, long retirement_id);
void job_orphan_step_begin(const char *driver, const char *method, int bracketed);
void job_orphan_step_end(void);
void job_orphan_record(const char *outcome, int status, const char *message, const char *to_state);

/* Encodes a spec as one line (JSON + "\n") for cmd_fd, and decodes it (strings of *out point
 * into *holder, which the caller frees with cJSON_Delete). malloc'd / 0 or -1. */
char *job_spec_encode(const job_spec *spec);
int job_spec_decode(const char *line, job_spec *out, void **holder);

#endif
