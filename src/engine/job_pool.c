/* The job pool: a FIFO queue of opaque items, a concurrency limit, the circuit breakers and
 * the counts; engine jobs it drives itself (job_pool.h, docs/architecture.md §3). */
#include "engine/job_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "engine/ev.h"

/* One running item. Allocated alone: an engine job's event callback holds its address. */
typedef struct pool_slot {
    job_pool *pool;
    void *item;
    job *j;              /* NULL: caller-run item */
    job_event_fn fn;     /* the caller's event callback of an engine job */
    void *fn_user;
    char *fail_key;      /* "DRIVER.method" of the last failed step seen */
} pool_slot;

/* One finished item, waiting to be read. */
typedef struct pool_done {
    job_pool_result r;
    char *why, *message, *fail_key; /* owned copies behind r's pointers */
} pool_done;

struct job_pool {
    job_pool_opts o;
    void **queue;         /* queued items, queue[q_head .. q_head+q_len) */
    size_t q_head, q_len, q_cap;
    pool_slot **run;      /* running items, in start order */
    size_t n_run, run_cap;
    pool_done *done;      /* finished, not read yet, done[d_head .. d_head+d_len) */
    size_t d_head, d_len, d_cap;
    pool_done last;       /* the result handed out by the last job_pool_read */
    int have_last;
    pool_slot *starting;  /* the slot being started (job_pool_run_job) */
    size_t n_done, n_failed;
    int setup_streak, setup_tripped;
    int fail_streak, breaker_tripped;
    char *fail_key, *fail_message;
    int caller_stopped;
};

/* Grows *arr (elements of size each) to hold at least need, doubling (xrealloc). */
static void grow(void *arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need) n *= 2;
    *(void **)arr = xrealloc(*(void **)arr, n * size);
    *cap = n;
}

job_pool *job_pool_new(const job_pool_opts *opts)
{
    if (!opts || !opts->start || opts->max_running < 1) return NULL;
    job_pool *p = xcalloc(1, sizeof *p);
    p->o = *opts;
    if (p->o.jc && p->o.reuse_workers) {
        /* a worker retires learner after learner (its connection and drivers stay); one that
         * crashes or times out fails only the learner in flight and a fresh one takes the rest */
        job_ctx_set_reuse_workers(p->o.jc, 1);
        /* ...and is replaced after a number of learners or past a memory size (a leaking driver) */
        job_ctx_set_recycle(p->o.jc, p->o.recycle_learners, p->o.recycle_rss_bytes);
    }
    return p;
}

static void done_clear(pool_done *d)
{
    free(d->why);
    free(d->message);
    free(d->fail_key);
    if (d->r.j) job_free(d->r.j);
    memset(d, 0, sizeof *d);
}

void job_pool_free(job_pool *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_run; i++) {
        if (p->run[i]->j) job_free(p->run[i]->j);
        free(p->run[i]->fail_key);
        free(p->run[i]);
    }
    for (size_t i = 0; i < p->d_len; i++) done_clear(&p->done[p->d_head + i]);
    if (p->have_last) done_clear(&p->last);
    free(p->run);
    free(p->done);
    free(p->queue);
    free(p->fail_key);
    free(p->fail_message);
    free(p);
}

void job_pool_add(job_pool *p, void *item)
{
    if (p->q_head + p->q_len == p->q_cap && p->q_head > 0) {
        memmove(p->queue, p->queue + p->q_head, p->q_len * sizeof *p->queue);
        p->q_head = 0;
    }
    grow(&p->queue, &p->q_cap, p->q_head + p->q_len + 1, sizeof *p->queue);
    p->queue[p->q_head + p->q_len++] = item;
}

/* A new running slot for item. */
static pool_slot *slot_add(job_pool *p, void *item)
{
    grow(&p->run, &p->run_cap, p->n_run + 1, sizeof *p->run);
    pool_slot *s = xcalloc(1, sizeof *s);
    s->pool = p;
    s->item = item;
    p->run[p->n_run++] = s;
    return s;
}

void job_pool_add_running(job_pool *p, void *item)
{
    slot_add(p, item);
}

int job_pool_remove_queued(job_pool *p, const void *item)
{
    for (size_t i = 0; i < p->q_len; i++) {
        if (p->queue[p->q_head + i] != item) continue;
        memmove(p->queue + p->q_head + i, p->queue + p->q_head + i + 1, (p->q_len - i - 1) * sizeof *p->queue);
        p->q_len--;
        return 1;
    }
    return 0;
}

void *job_pool_queued_item(const job_pool *p, size_t i)
{
    return i < p->q_len ? p->queue[p->q_head + i] : NULL;
}

void *job_pool_running_item(const job_pool *p, size_t i)
{
    return i < p->n_run ? p->run[i]->item : NULL;
}

void job_pool_set_limit(job_pool *p, int max_running)
{
    if (max_running >= 1) p->o.max_running = max_running;
}

/* The pool's event hook: remembers the failed step's DRIVER.method for the breaker, then
 * passes the event on to the caller. */
static void on_job_event(void *user, job *j, const ev_event *ev, const char *line)
{
    pool_slot *s = user;
    if (ev->kind == EV_STEP && ev->status && !strcmp(ev->status, "failed") && ev->driver && ev->method) {
        size_t n = strlen(ev->driver) + strlen(ev->method) + 2;
        char *key = xmalloc(n);
        snprintf(key, n, "%s.%s", ev->driver, ev->method);
        free(s->fail_key);
        s->fail_key = key;
    }
    if (s->fn) s->fn(s->fn_user, j, ev, line);
}

job *job_pool_run_job(job_pool *p, const job_spec *spec, job_event_fn fn, void *fn_user, char *err, size_t err_len)
{
    pool_slot *s = p->starting;
    if (!s || !p->o.jc) {
        snprintf(err, err_len, "job_pool_run_job outside a start callback, or the pool has no job_ctx");
        return NULL;
    }
    s->fn = fn;
    s->fn_user = fn_user;
    s->j = job_start(p->o.jc, spec, on_job_event, s, err, err_len);
    return s->j;
}

/* Appends a finished result (taking the strings), feeding the breakers for started items. */
static void push_done(job_pool *p, const pool_done *d0)
{
    pool_done d = *d0;
    d.r.why = d.why;
    d.r.message = d.message ? d.message : "";
    d.r.fail_key = d.fail_key;
    if (d.r.exit_status == 0) p->n_done++;
    else p->n_failed++;
    if (d.r.started) {
        if (p->o.setup_failures > 0 && d.r.exit_status == p->o.setup_status) {
            if (++p->setup_streak == p->o.setup_failures && !p->setup_tripped) d.r.tripped_setup = p->setup_tripped = 1;
        } else {
            p->setup_streak = 0;
        }
        if (d.r.exit_status == 0) {
            p->fail_streak = 0;
        } else if (d.fail_key) {
            p->fail_streak = p->fail_key && !strcmp(p->fail_key, d.fail_key) ? p->fail_streak + 1 : 1;
            free(p->fail_key);
            free(p->fail_message);
            p->fail_key = xstrdup(d.fail_key);
            p->fail_message = xstrdup(d.r.message);
            if (p->o.breaker_failures > 0 && p->fail_streak >= p->o.breaker_failures && !p->breaker_tripped)
                d.r.tripped_breaker = p->breaker_tripped = 1;
        }
    }
    if (p->d_head + p->d_len == p->d_cap && p->d_head > 0) {
        memmove(p->done, p->done + p->d_head, p->d_len * sizeof *p->done);
        p->d_head = 0;
    }
    grow(&p->done, &p->d_cap, p->d_head + p->d_len + 1, sizeof *p->done);
    p->done[p->d_head + p->d_len++] = d;
}

/* Removes running slot i, moving its item to the results. */
static void end_slot(job_pool *p, size_t i, int exit_status, const char *fail_key, const char *message)
{
    pool_slot *s = p->run[i];
    pool_done d;
    memset(&d, 0, sizeof d);
    d.r.item = s->item;
    d.r.started = 1;
    d.r.exit_status = exit_status;
    d.r.j = s->j;
    d.message = xstrdup_or_null(message);
    d.fail_key = fail_key ? xstrdup_or_null(fail_key) : s->fail_key;
    if (fail_key) free(s->fail_key);
    free(s);
    memmove(p->run + i, p->run + i + 1, (p->n_run - i - 1) * sizeof *p->run);
    p->n_run--;
    push_done(p, &d);
}

int job_pool_finish(job_pool *p, const void *item, int exit_status, const char *fail_key, const char *message)
{
    for (size_t i = 0; i < p->n_run; i++)
        if (p->run[i]->item == item && !p->run[i]->j) {
            end_slot(p, i, exit_status, fail_key, message);
            return 0;
        }
    return -1;
}

job_pool_stop_kind job_pool_stopped(const job_pool *p)
{
    return p->breaker_tripped ? JOB_POOL_STOP_BREAKER
           : p->setup_tripped ? JOB_POOL_STOP_SETUP
           : p->caller_stopped ? JOB_POOL_STOP_CALLER
                               : JOB_POOL_RUNNING;
}

/* Starts the next queued item (the pool has room and is not stopped). */
static void start_next(job_pool *p)
{
    void *item = p->queue[p->q_head++];
    p->q_len--;
    pool_slot *s = slot_add(p, item);
    char why[3000] = "";
    p->starting = s;
    int rc = p->o.start(p->o.user, p, &s->item, why, sizeof why);
    p->starting = NULL;
    if (rc == 0) return;
    /* refused: not started, a failed result at once */
    pool_done d;
    memset(&d, 0, sizeof d);
    d.r.item = s->item;
    d.r.exit_status = rc;
    d.why = xstrdup(why);
    if (s->j) job_free(s->j);
    free(s->fail_key);
    for (size_t i = p->n_run; i-- > 0;)
        if (p->run[i] == s) {
            memmove(p->run + i, p->run + i + 1, (p->n_run - i - 1) * sizeof *p->run);
            p->n_run--;
            break;
        }
    free(s);
    push_done(p, &d);
}

void job_pool_perform(job_pool *p, const struct pollfd *pfd, int n)
{
    while (p->q_len && p->n_run < (size_t)p->o.max_running && job_pool_stopped(p) == JOB_POOL_RUNNING) start_next(p);
    for (int k = 0; pfd && k < n; k++) {
        if (!pfd[k].revents) continue;
        for (size_t i = 0; i < p->n_run; i++)
            if (p->run[i]->j && job_fd(p->run[i]->j) == pfd[k].fd) {
                job_on_readable(p->run[i]->j);
                break;
            }
    }
    double now = job_now();
    for (size_t i = 0; i < p->n_run;) {
        job *j = p->run[i]->j;
        if (!j) {
            i++;
            continue;
        }
        job_tick(j, now);
        if (!job_done(j)) {
            i++;
            continue;
        }
        end_slot(p, i, job_exit_status(j), NULL, job_message(j));
    }
}

int job_pool_fds(job_pool *p, struct pollfd *pfd, int cap, int *timeout_ms)
{
    int n = 0;
    if (p->q_len && p->n_run < (size_t)p->o.max_running && job_pool_stopped(p) == JOB_POOL_RUNNING) *timeout_ms = 0;
    for (size_t i = 0; i < p->n_run; i++) {
        job *j = p->run[i]->j;
        if (!j) continue;
        int t = job_poll_timeout_ms(j);
        int fd = job_fd(j);
        if (fd < 0 && t > 1) t = 1; /* its worker is exiting: reap it (and refill the slot) soon */
        if (t >= 0 && t < *timeout_ms) *timeout_ms = t;
        if (fd >= 0 && n < cap) {
            pfd[n].fd = fd;
            pfd[n].events = POLLIN;
            pfd[n].revents = 0;
            n++;
        }
    }
    return n;
}

int job_pool_wait(job_pool *p, int max_ms, int *waited_ms)
{
    struct pollfd pfd[256];
    int timeout = max_ms;
    int n = job_pool_fds(p, pfd, (int)(sizeof pfd / sizeof pfd[0]), &timeout);
    int ready = n ? poll(pfd, (nfds_t)n, timeout) : 0;
    int saved = errno;
    if (!n && timeout > 0) usleep((useconds_t)timeout * 1000u);
    if (waited_ms) *waited_ms = timeout;
    job_pool_perform(p, pfd, ready > 0 ? n : 0);
    errno = saved;
    return ready;
}

int job_pool_read(job_pool *p, job_pool_result *r)
{
    if (p->have_last) done_clear(&p->last);
    p->have_last = 0;
    if (!p->d_len) return 0;
    p->last = p->done[p->d_head++];
    p->d_len--;
    p->have_last = 1;
    *r = p->last.r;
    return 1;
}

void job_pool_stop(job_pool *p)
{
    p->caller_stopped = 1;
}

void job_pool_cancel(job_pool *p)
{
    p->caller_stopped = 1;
    for (size_t i = 0; i < p->n_run; i++)
        if (p->run[i]->j) job_cancel(p->run[i]->j);
}

void job_pool_restart(job_pool *p)
{
    p->breaker_tripped = p->setup_tripped = p->caller_stopped = 0;
    p->fail_streak = p->setup_streak = 0;
}

int job_pool_idle(const job_pool *p)
{
    return !p->n_run && !p->d_len && (!p->q_len || job_pool_stopped(p) != JOB_POOL_RUNNING);
}

job_pool_counts job_pool_get_counts(const job_pool *p)
{
    job_pool_counts c = {p->q_len, p->n_run, p->n_done, p->n_failed};
    return c;
}

job_pool_breaker job_pool_get_breaker(const job_pool *p)
{
    job_pool_breaker b = {p->fail_key ? p->fail_key : "", p->fail_streak, p->fail_message ? p->fail_message : ""};
    return b;
}
