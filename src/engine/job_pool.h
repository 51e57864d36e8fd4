/* job_pool (prefix job_pool_): one scheduler for many jobs, modelled on curl's multi interface
 * (docs/architecture.md §3): add work, let the caller's event loop poll the descriptors the pool
 * exposes, perform, and read the finished results one by one.
 *
 * The pool schedules opaque items (void *): it keeps them in a FIFO queue, starts at most
 * max_running at a time by calling the caller's start callback, counts them (queued, running,
 * done, failed) and runs the circuit breakers that stop starting new items. What an item is
 * stays the caller's:
 *   - an engine job (retire --all): the start callback calls job_pool_run_job(), and the pool
 *     drives that job (its fd, timeouts, reaping, cancel) and frees it after its result was read;
 *     worker reuse and recycling are the job_ctx's (job_pool_opts.jc), set up by the pool;
 *   - anything else the caller runs (the console's child `retirectl ... --events` processes):
 *     the start callback starts it and returns 0, and the caller reports its end with
 *     job_pool_finish().
 * The pool never forks or reads a pipe itself except through engine/job.h.
 *
 *     job_pool *p = job_pool_new(&opts);
 *     for (...) job_pool_add(p, item);
 *     while (!job_pool_idle(p)) {
 *         int timeout = 250, n = job_pool_fds(p, pfd, cap, &timeout);
 *         poll(pfd, n, timeout);                          // (job_pool_wait does these two
 *         job_pool_perform(p, pfd, n);                    //  and this)
 *         while (job_pool_read(p, &r)) ...;               // results, in the order they ended
 *     }
 *     job_pool_free(p);
 *
 * Circuit breakers (both stop starting; items running go on to their end):
 *   - setup: opts.setup_failures started items in a row ended with opts.setup_status (they
 *     failed before any step: the LMS is down or refuses the credentials);
 *   - breaker: opts.breaker_failures started items in a row failed in the same step key
 *     ("DRIVER.method": a broken driver or service, not a bad learner). A success resets both;
 *     items the start callback refused count for neither. */
#ifndef RETIRECTL_JOB_POOL_H
#define RETIRECTL_JOB_POOL_H

#include <poll.h>
#include <stddef.h>

#include "engine/job.h"

typedef struct job_pool job_pool;

/* Starts *item. Returns 0 when it runs (an engine job attached with job_pool_run_job, or a
 * caller-run item the caller will end with job_pool_finish); *item may be replaced by the
 * handle the caller wants back in results. Any other value is the exit status of an item that
 * was not started (refused): why says why, and it is a failed result at once. */
typedef int (*job_pool_start_fn)(void *user, job_pool *p, void **item, char *why, size_t why_len);

typedef struct job_pool_opts {
    int max_running;          /* concurrency limit (>= 1) */
    job_pool_start_fn start;  /* required */
    void *user;               /* passed to start */
    int breaker_failures;     /* failures in a row in one step key that trip the breaker; 0: off */
    int setup_failures;       /* failures in a row ending with setup_status that stop it; 0: off */
    int setup_status;         /* the exit status of an item that failed before any step */
    /* engine jobs only (may be NULL): workers are reused, and recycled after recycle_learners
     * learners or past recycle_rss_bytes of resident memory (0: no limit) */
    job_ctx *jc;
    int reuse_workers;
    int recycle_learners;
    long long recycle_rss_bytes;
} job_pool_opts;

/* Why the pool stopped starting items (JOB_POOL_RUNNING while it still starts them). */
typedef enum job_pool_stop_kind {
    JOB_POOL_RUNNING = 0,
    JOB_POOL_STOP_SETUP,   /* the setup breaker */
    JOB_POOL_STOP_BREAKER, /* the step circuit breaker */
    JOB_POOL_STOP_CALLER   /* job_pool_stop or job_pool_cancel */
} job_pool_stop_kind;

/* One finished item. Pointers are valid until the next job_pool_read/perform/free. */
typedef struct job_pool_result {
    void *item;          /* the item (as the start callback left it) */
    int started;         /* 0: the start callback refused it */
    int exit_status;     /* 0 is success */
    job *j;              /* the engine job that ran it, or NULL */
    const char *why;     /* refused: the start callback's reason; else NULL */
    const char *message; /* the job's (or job_pool_finish's) message, or "" */
    const char *fail_key; /* "DRIVER.method" of the failed step, or NULL */
    int tripped_setup;    /* this result tripped the setup breaker */
    int tripped_breaker;  /* this result tripped the step circuit breaker */
} job_pool_result;

typedef struct job_pool_counts {
    size_t queued;  /* added and not started yet */
    size_t running; /* started, not ended */
    size_t done;    /* ended with exit status 0 */
    size_t failed;  /* ended otherwise, refused included */
} job_pool_counts;

/* The circuit breaker's last failure streak (valid while the pool lives). */
typedef struct job_pool_breaker {
    const char *key;     /* the step key of the streak, "" before any failure with a key */
    int streak;          /* failures in a row in key */
    const char *message; /* the last failure's message in that streak, "" if none */
} job_pool_breaker;

/* NULL on bad options (no start callback, max_running < 1); out of memory aborts (common/xalloc.h). */
job_pool *job_pool_new(const job_pool_opts *opts);
/* Kills the engine jobs still running (job_free) and frees the pool. Caller-run items are the
 * caller's. */
void job_pool_free(job_pool *p);
/* Queues item (FIFO). */
void job_pool_add(job_pool *p, void *item);
/* Counts a caller-run item started outside the queue as running (it takes a slot of the limit
 * until job_pool_finish). */
void job_pool_add_running(job_pool *p, void *item);
/* Drops a queued item that was not started. 1 when it was queued, else 0. */
int job_pool_remove_queued(job_pool *p, const void *item);
/* Inside the start callback only: starts an engine job for the item being started (job_start
 * with fn/fn_user) and lets the pool drive it. NULL with err when it cannot start. */
job *job_pool_run_job(job_pool *p, const job_spec *spec, job_event_fn fn, void *fn_user, char *err,
                      size_t err_len);
/* Ends a running caller-run item: exit status, the failed step's key (or NULL) and a message
 * (or NULL) for the breaker. 0, or -1 when item is not running in this pool. */
int job_pool_finish(job_pool *p, const void *item, int exit_status, const char *fail_key, const char *message);
/* The descriptors to poll (POLLIN) for the running engine jobs, at most cap, and *timeout_ms
 * lowered to when job_pool_perform must run next. Returns the number filled. */
int job_pool_fds(job_pool *p, struct pollfd *pfd, int cap, int *timeout_ms);
/* Starts queued items up to the limit, reads the readable jobs among pfd (as filled by
 * job_pool_fds, may be NULL/0) and ticks every running job (timeouts, reaping), moving ended
 * items to the results. */
void job_pool_perform(job_pool *p, const struct pollfd *pfd, int n);
/* Polls the pool's descriptors for at most max_ms (sleeps when there are none; does not wait
 * when a queued item can start) and performs. Returns the number of descriptors that were ready
 * (0: the wait timed out, -1: poll failed, errno set); *waited_ms (may be NULL) is the timeout
 * that was used. */
int job_pool_wait(job_pool *p, int max_ms, int *waited_ms);
/* Takes the next finished result (in the order items ended). 1, or 0 when none is waiting. */
int job_pool_read(job_pool *p, job_pool_result *r);
/* Stops starting items (queued ones stay queued, counted not started). */
void job_pool_stop(job_pool *p);
/* Stops starting items and asks every running engine job to stop after its step (job_cancel;
 * a second call kills them, see job.h). */
void job_pool_cancel(job_pool *p);
/* Why the pool no longer starts items, or JOB_POOL_RUNNING (the step breaker first, then the
 * setup breaker, then the caller). */
job_pool_stop_kind job_pool_stopped(const job_pool *p);
/* Starts queued items again after a breaker or job_pool_stop stopped the pool (the operator
 * fixed the cause); the failure streaks start from zero. */
void job_pool_restart(job_pool *p);
/* 1 when nothing runs and nothing more will start (queue empty or pool stopped), and every
 * result was read. */
int job_pool_idle(const job_pool *p);
job_pool_counts job_pool_get_counts(const job_pool *p);
job_pool_breaker job_pool_get_breaker(const job_pool *p);
/* The i-th queued item in start order (NULL past the end). */
void *job_pool_queued_item(const job_pool *p, size_t i);
/* The i-th running item in start order (NULL past the end). */
void *job_pool_running_item(const job_pool *p, size_t i);
/* Changes the concurrency limit (>= 1; items already running are not stopped). */
void job_pool_set_limit(job_pool *p, int max_running);

#endif
