/* The `retirectl ... --events` jobs the console starts (a batch queue of at most
 * console.workers, scheduled by the engine's job pool), and the learner states they know better
 * than the last fetched list. */
#include "ui/console_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/job_pool.h"
#include "ui/elsewhere.h"
#include "ui/fetch.h"

/* The pool that schedules the console's jobs, console.workers at a time (engine/job_pool.h).
 * Its items are caller-run: a queued action is its queued_action's pool_id (ui_con.queue keeps
 * the action itself, in the same order, for the views), a running one is its ui_job. Every job
 * the console starts counts against the limit, marked bulk or not. */
static job_pool *pool;
static unsigned long last_pool_id;
static char stopped_why[600]; /* why a breaker stopped the queue, "" while it runs */
static int stop_unsaid;       /* the stop is not on the message line yet (after the jobs' own lines) */

#define UI_SETUP_FAILURES 10 /* jobs in a row failing before any step (exit 255) stop the queue */

static int start_queued(void *user, job_pool *p, void **item, char *why, size_t why_len);

static void pool_free_at_exit(void)
{
    job_pool_free(pool);
    pool = NULL;
}

/* The pool, made at first use; its limit follows console.workers. */
static job_pool *jobs_pool(void)
{
    if (!pool) {
        /* the breakers of retire --all: a broken service stops the queue, not every learner in it */
        job_pool_opts o = {.max_running = ui_con.workers > 0 ? ui_con.workers : 1,
                           .start = start_queued,
                           .breaker_failures = ui_con.max_failures,
                           .setup_failures = UI_SETUP_FAILURES,
                           .setup_status = 255};
        pool = job_pool_new(&o);
        if (!pool) abort(); /* only for bad options: max_running is at least 1 here */
        atexit(pool_free_at_exit);
    }
    job_pool_set_limit(pool, ui_con.workers);
    return pool;
}

/* Ends job j in the pool if it runs there (its exit status, failed step and message count). */
static void pool_end(const ui_job *j)
{
    if (!pool) return;
    int st = j->exit_status >= 0 ? j->exit_status
             : (!strcmp(j->outcome, "complete") || !strcmp(j->outcome, "planned")) ? 0
                                                                                   : 1;
    char key[300] = "";
    for (size_t k = 0; k < j->n_steps; k++)
        if (j->steps[k].status == UI_STEP_FAILED && j->steps[k].driver && j->steps[k].method)
            snprintf(key, sizeof key, "%s.%s", j->steps[k].driver, j->steps[k].method);
    job_pool_finish(pool, j, st, key[0] ? key : NULL, j->result_message);
}

/* Reads the pool's results: each job was reported by ui_reap_jobs (a refusal by ui_refuse_busy);
 * a result that tripped a breaker says that the queue stopped, why, and how to go on. */
static void read_results(job_pool *p)
{
    job_pool_result r;
    while (job_pool_read(p, &r)) {
        if (!r.tripped_breaker && !r.tripped_setup) continue;
        job_pool_breaker b = job_pool_get_breaker(p);
        if (r.tripped_breaker)
            snprintf(stopped_why, sizeof stopped_why, "%d jobs in a row failed in %s (last: %.300s)", b.streak, b.key,
                     b.message);
        else
            snprintf(stopped_why, sizeof stopped_why,
                     "%d jobs in a row failed before any step (is the LMS up, are the credentials right?)",
                     UI_SETUP_FAILURES);
        stop_unsaid = 1;
    }
}

/* Says that the queue stopped, once the jobs that tripped the breaker have said how they ended
 * (their lines would otherwise push this one off the message line). */
static void say_stop(void)
{
    if (!stop_unsaid || !pool) return;
    for (size_t i = 0; i < ui_con.n_jobs; i++)
        if (ui_con.jobs[i]->finished && !ui_con.jobs[i]->exited && ui_con.jobs[i]->pid > 0) return;
    stop_unsaid = 0;
    if (!stopped_why[0]) return;
    ui_msg(UR_FAILED, "Queue stopped: %s. %zu queued action(s) not started: fix the cause, then press R in the jobs "
                      "view to start them, or take them out of the queue (c)",
           stopped_why, job_pool_get_counts(pool).queued);
}

/* Ends in the pool the jobs that finished (result event) or exited since the last call, and
 * drops its results (ui_reap_jobs reports each job). */
static void pool_sync(void)
{
    job_pool *p = jobs_pool();
    for (size_t i = 0;;) {
        const ui_job *j = job_pool_running_item(p, i);
        if (!j) break;
        if (j->finished || j->exited) pool_end(j);
        else i++;
    }
    read_results(p);
}

/* Drops from the pool the queued actions removed from ui_con.queue elsewhere (the jobs view's
 * cancel); both keep the same order. */
static void pool_reconcile(void)
{
    job_pool *p = jobs_pool();
    if (job_pool_get_counts(p).queued == ui_con.n_queue) return;
    size_t q = 0;
    for (size_t i = 0;;) {
        void *it = job_pool_queued_item(p, i);
        if (!it) break;
        if (q < ui_con.n_queue && ui_con.queue[q].pool_id == (uintptr_t)it) q++, i++;
        else job_pool_remove_queued(p, it);
    }
}

ui_learner *ui_find_learner(const char *name)
{
    return ui_con.have_store ? ui_store_find(&ui_con.store, name) : NULL;
}

/* A job for name that ended after the shown list was fetched knows its state better. */
static const ui_job *newer_job(const char *name)
{
    const ui_job *j = ui_learner_job(name, 0);
    if (!j || !j->finished || j->dry_run || !j->final_state || !*j->final_state) return NULL;
    return j->ended_ms > ui_con.store_from_ms ? j : NULL;
}

const char *ui_learner_state(const char *name)
{
    const ui_job *j = newer_job(name);
    if (j) return j->final_state;
    ui_learner *l = ui_find_learner(name);
    return l ? ui_store_state(&ui_con.store, l->state) : NULL;
}

const char *ui_learner_last_state(const char *name)
{
    const ui_job *j = newer_job(name);
    if (j) {
        /* the state before final_state: the failed step's start state, else the last step reached */
        const char *last = NULL;
        for (size_t i = 0; i < j->n_steps; i++) {
            const ui_job_step *st = &j->steps[i];
            if (st->status == UI_STEP_FAILED) return st->start_state;
            if (st->status == UI_STEP_DONE) last = st->end_state;
        }
        if (last) return last;
    }
    ui_learner *l = ui_find_learner(name);
    return l ? ui_store_state(&ui_con.store, l->last_state) : NULL;
}

/* The most recent job for learner (running ones first), or NULL. */
ui_job *ui_learner_job(const char *learner, int running_only)
{
    for (size_t i = ui_con.n_jobs; i-- > 0;)
        if (strcmp(ui_con.jobs[i]->learner, learner) == 0 && (!running_only || !ui_con.jobs[i]->finished)) return ui_con.jobs[i];
    return NULL;
}

/* Asks ui/elsewhere.h about learner name: lease_only skips the process scan and the LMS rule;
 * with_own also counts this console's own jobs. */
static int elsewhere(const char *name, int lease_only, int with_own, ui_elsewhere *w)
{
    const ui_learner *l = lease_only ? NULL : ui_find_learner(name);
    const char *state = lease_only ? NULL : ui_learner_state(name);
    pid_t own[256];
    size_t n_own = 0;
    for (size_t i = 0; !with_own && i < ui_con.n_jobs && n_own < 256; i++)
        if (ui_con.jobs[i]->pid > 0) own[n_own++] = ui_con.jobs[i]->pid;
    ui_elsewhere_query q = {name, state && ui_pipe_step_of_start(&ui_con.pipe, state) >= 0,
                            l ? l->modified : 0, ui_con.step_timeout_s, own, n_own, NULL,
                            ui_con.o->config_path, ui_con.lms, NULL};
    return lease_only ? ui_elsewhere_lease(&q, w) : ui_elsewhere_find(&q, time(NULL), w);
}

int ui_learner_elsewhere(const char *name, ui_elsewhere *w) { return elsewhere(name, 0, 0, w); }

int ui_learner_leased(const char *name)
{
    ui_elsewhere w;
    return elsewhere(name, 1, 0, &w);
}

int ui_learner_lease_holder(const char *name, ui_elsewhere *w) { return elsewhere(name, 1, 1, w); }

int ui_refuse_busy(const char *learner) { return ui_refuse_busy_ex(learner, 0); }

int ui_refuse_busy_ex(const char *learner, int allow_force)
{
    ui_job *j = ui_learner_job(learner, 1);
    if (j) {
        ui_msg(UR_WARNING, "a %s job for %s is already running in this console (pid %d); wait for it or cancel it (c)",
               j->what, learner, (int)j->pid);
        return 1;
    }
    ui_elsewhere w;
    if (ui_learner_elsewhere(learner, &w)) {
        if (allow_force && !w.pid) return 2; /* cross-host evidence only: the dialog offers --force */
        char d[700];
        ui_elsewhere_describe(&w, time(NULL), d, sizeof d);
        ui_msg(UR_FAILED, "%s is %s. Refused: nothing was done; wait for that job to end", learner, d);
        return 1;
    }
    return 0;
}

void ui_job_counts(size_t *running, size_t *queued, size_t *done, size_t *failed)
{
    pool_sync();
    job_pool_counts n = job_pool_get_counts(jobs_pool());
    *running = n.running, *queued = n.queued, *done = n.done, *failed = n.failed;
}

/* Jobs still working: no result event yet and the process not reaped (a job that reported its
 * result is only exiting): the pool's running count. */
size_t ui_running_jobs(void)
{
    pool_sync();
    return job_pool_get_counts(pool).running;
}

/* argv for a job: exe --config F [--driver-path X]... [--operator N] args... */
static pid_t spawn_job(ui_job *j, const char *const *args)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = ui_con.o->exe;
    if (ui_con.o->config_path) argv[n++] = "--config", argv[n++] = ui_con.o->config_path;
    for (size_t i = 0; ui_con.o->driver_paths && ui_con.o->driver_paths[i] && n < 40; i++)
        argv[n++] = "--driver-path", argv[n++] = ui_con.o->driver_paths[i];
    if (ui_con.o->operator_name) argv[n++] = "--operator", argv[n++] = ui_con.o->operator_name;
    for (size_t i = 0; args[i] && n < 62; i++) argv[n++] = args[i];
    argv[n] = NULL;
    int out[2], err[2];
    int token_fd = ui_fetch_token_pipe(); /* the job reuses the console's LMS token */
    if (pipe2(out, O_CLOEXEC) != 0) {
        if (token_fd >= 0) close(token_fd);
        return -1;
    }
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]), close(out[1]);
        if (token_fd >= 0) close(token_fd);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]), close(out[1]), close(err[0]), close(err[1]);
        if (token_fd >= 0) close(token_fd);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0); /* terminal Ctrl-C reaches the console, not the jobs; cancel is explicit */
        const int sigs[] = {SIGINT, SIGTERM, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGWINCH, SIGHUP, SIGQUIT};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        /* if the console goes away mid-job, writes fail with EPIPE instead of killing the job
           between a step's start and end PATCH */
        signal(SIGPIPE, SIG_IGN);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        unsetenv("COLUMNS");
        unsetenv("LINES");
        unsetenv("RETIRECTL_TOKEN_FD");
        if (token_fd >= 0 && fcntl(token_fd, F_SETFD, 0) == 0) {
            char v[16];
            snprintf(v, sizeof v, "%d", token_fd);
            setenv("RETIRECTL_TOKEN_FD", v, 1);
        }
        execv(argv[0], (char *const *)argv);
        const char text[] = "cannot start the retirectl binary for this job\n";
        ssize_t w = write(STDERR_FILENO, text, sizeof text - 1);
        (void)w;
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    if (token_fd >= 0) close(token_fd);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    j->pid = pid;
    j->out_fd = out[0];
    j->err_fd = err[0];
    j->started_ms = ui_now_ms();
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, "$ retirectl");
    for (int i = 1; i < n; i++) {
        if (i > 0 && strcmp(argv[i - 1], "--config") == 0) sb_add(&sb, " FILE");
        else sb_addf(&sb, " %s", argv[i]);
    }
    ui_job_log(j, "info", sb_str(&sb));
    sb_free(&sb);
    return pid;
}

/* Records a job; keeps the newest 200 records (never dropping a job not yet reaped). */
static void add_job(ui_job *j)
{
    ui_con.jobs = xrealloc(ui_con.jobs, (ui_con.n_jobs + 1) * sizeof *ui_con.jobs);
    ui_con.jobs[ui_con.n_jobs++] = j;
    /* keep the newest 200 job records */
    while (ui_con.n_jobs > 200) {
        size_t k;
        for (k = 0; k < ui_con.n_jobs && !ui_con.jobs[k]->exited; k++) {}
        if (k == ui_con.n_jobs) break;
        pool_end(ui_con.jobs[k]); /* (the pool never keeps a freed job) */
        ui_job_free(ui_con.jobs[k]);
        memmove(ui_con.jobs + k, ui_con.jobs + k + 1, (ui_con.n_jobs - k - 1) * sizeof *ui_con.jobs);
        ui_con.n_jobs--;
    }
}

/* The --reason text of a console action: the operator's words, else what happened. */
static const char *reason_text(const char *reason, const char *fallback, char *buf, size_t size)
{
    if (!reason || !*reason) return fallback;
    snprintf(buf, size, "%s (from the console)", reason);
    return buf;
}

/* Starts one job now and records it; NULL when kind is unknown. */
static ui_job *start_action(const char *learner, act_kind kind, const char *arg, const char *arg2, const char *arg3,
                            const char *reason, int force)
{
    char why[400];
    const char *args[24];
    int n = 0;
    const char *action = "retire";
    char what[300];
    switch (kind) {
    case ACT_RETIRE:
        args[n++] = "retire", args[n++] = learner, args[n++] = "--events";
        args[n++] = "--reason", args[n++] = reason_text(reason, "retired from the console after the operator confirmed",
                                                         why, sizeof why);
        snprintf(what, sizeof what, "retire");
        break;
    case ACT_RESUME:
        action = "resume";
        args[n++] = "resume", args[n++] = learner, args[n++] = "--yes", args[n++] = "--events";
        args[n++] = "--reason", args[n++] = reason_text(reason, "resumed from the console after the operator confirmed",
                                                         why, sizeof why);
        snprintf(what, sizeof what, "resume");
        break;
    case ACT_RERUN:
    case ACT_RERUN_STEP:
        action = "rerun";
        args[n++] = "rerun", args[n++] = learner, args[n++] = arg, args[n++] = "--yes", args[n++] = "--events";
        if (kind == ACT_RERUN_STEP) args[n++] = "--advance";
        args[n++] = "--reason", args[n++] = reason_text(reason, "rerun from the console after the operator confirmed",
                                                         why, sizeof why);
        snprintf(what, sizeof what, "rerun %s", arg);
        break;
    case ACT_PLAN:
        action = "plan";
        args[n++] = "plan", args[n++] = learner, args[n++] = "--events";
        snprintf(what, sizeof what, "dry-run");
        break;
    case ACT_RESET:
        action = "reset";
        args[n++] = "reset", args[n++] = "--initial-state", args[n++] = arg2, args[n++] = "--new-state";
        args[n++] = arg, args[n++] = "--start-date", args[n++] = arg3, args[n++] = "--end-date", args[n++] = arg3;
        args[n++] = "--reason", args[n++] = reason_text(reason, "reset from the console after the operator confirmed",
                                                         why, sizeof why);
        snprintf(what, sizeof what, "reset to %s", arg);
        break;
    default:
        return NULL;
    }
    if (force && kind != ACT_PLAN) args[n++] = "--force";
    args[n] = NULL;
    ui_job *j = ui_job_new(learner, action, what);
    j->act = (int)kind, j->forced = force && kind != ACT_PLAN;
    const char *keep[4] = {arg, arg2, arg3, reason};
    for (int i = 0; i < 4; i++) j->act_arg[i] = keep[i] ? xstrdup(keep[i]) : NULL;
    if (kind == ACT_PLAN) j->dry_run = 1;
    j->offer_continue = kind == ACT_RERUN_STEP;
    if (spawn_job(j, args) < 0) {
        ui_job_log(j, "error", "could not start the job process (fork/pipe failed)");
        j->finished = j->exited = 1;
        snprintf(j->outcome, sizeof j->outcome, "errored");
        ui_msg(UR_FAILED, "could not start %s for %s: %s", what, learner, strerror(errno));
    }
    add_job(j);
    ui_con.dirty = 1;
    return j;
}

void ui_start_action(const char *learner, act_kind kind, const char *arg, const char *arg2, const char *arg3,
                     const char *reason, int force)
{
    ui_job *j = start_action(learner, kind, arg, arg2, arg3, reason, force);
    if (j) job_pool_add_running(jobs_pool(), j);
}

/* Queues an action; the pool starts at most `workers` at a time. */
void ui_queue_action(const char *learner, act_kind kind, const char *arg, const char *reason)
{
    pool_reconcile();
    ui_con.queue = xrealloc(ui_con.queue, (ui_con.n_queue + 1) * sizeof *ui_con.queue);
    queued_action *a = &ui_con.queue[ui_con.n_queue];
    a->learner = xstrdup(learner);
    a->kind = kind;
    a->arg = xstrdup_or_null(arg);
    a->reason = reason && *reason ? xstrdup(reason) : NULL;
    a->pool_id = ++last_pool_id;
    ui_con.n_queue++;
    job_pool_add(jobs_pool(), (void *)(uintptr_t)a->pool_id);
}

/* The pool's start callback: *item is the pool_id of the queue's first action. It leaves the
 * queue; a learner busy elsewhere is refused (the message says why), else its job starts and
 * *item becomes the ui_job. */
static int start_queued(void *user, job_pool *p, void **item, char *why, size_t why_len)
{
    (void)user, (void)p;
    size_t k = 0;
    while (k < ui_con.n_queue && ui_con.queue[k].pool_id != (uintptr_t)*item) k++;
    if (k == ui_con.n_queue) return snprintf(why, why_len, "no longer queued"), 1;
    queued_action a = ui_con.queue[k];
    memmove(ui_con.queue + k, ui_con.queue + k + 1, (ui_con.n_queue - k - 1) * sizeof *ui_con.queue);
    ui_con.n_queue--;
    int rc = 0;
    ui_job *j = NULL;
    if (ui_refuse_busy(a.learner) || !(j = start_action(a.learner, a.kind, a.arg, NULL, NULL, a.reason, 0))) {
        snprintf(why, why_len, "busy: not started");
        rc = 253;
    } else {
        *item = j;
    }
    free(a.learner);
    free(a.arg);
    free(a.reason);
    return rc;
}

void ui_run_queue(void)
{
    pool_reconcile();
    pool_sync();
    job_pool *p = jobs_pool();
    job_pool_perform(p, NULL, 0);
    read_results(p);
}

const char *ui_queue_stopped(void)
{
    if (pool && job_pool_stopped(pool) == JOB_POOL_RUNNING) stopped_why[0] = '\0';
    return stopped_why;
}

void ui_restart_queue(void)
{
    job_pool *p = jobs_pool();
    if (job_pool_stopped(p) == JOB_POOL_RUNNING) {
        ui_msg(UR_WARNING, "the queue is running: nothing to start again");
        return;
    }
    size_t queued = job_pool_get_counts(p).queued;
    job_pool_restart(p);
    stopped_why[0] = '\0';
    stop_unsaid = 0;
    ui_msg(UR_NORMAL, "queue started again: %zu queued action(s)", queued);
    ui_run_queue();
}

void ui_on_job_readable(ui_job *j, int stream)
{
    int fd = stream ? j->err_fd : j->out_fd;
    char chunk[16384];
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            ui_job_feed(j, stream, chunk, (size_t)n, ui_now_ms());
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        close(fd);
        if (stream) j->err_fd = -1;
        else j->out_fd = -1;
        break;
    }
    ui_con.dirty = 1;
}

/* The CLI's refusal of a working state changed within step_timeout_seconds (exit 253: a job on
 * another host may run it; --force overrides), as its stderr said; NULL for any other ending. */
static const char *fresh_refusal(const ui_job *j)
{
    if (j->forced || j->exit_status != 253 || j->dry_run || (j->act != ACT_RESUME && j->act != ACT_RERUN &&
                                                              j->act != ACT_RERUN_STEP))
        return NULL; /* (reset moves a whole batch: --force there is for the CLI, docs/console.md) */
    for (size_t i = 0; i < j->n_log; i++) {
        const char *line = ui_job_log_line(j, i);
        if (line && strstr(line, "on another host") && strstr(line, "--force")) return line;
    }
    return NULL;
}

void ui_reap_jobs(void)
{
    for (size_t i = 0; i < ui_con.n_jobs; i++) {
        ui_job *j = ui_con.jobs[i];
        if (j->exited || j->pid <= 0 || j->out_fd >= 0 || j->err_fd >= 0) continue;
        int st;
        pid_t r = waitpid(j->pid, &st, WNOHANG);
        if (r == j->pid) {
            ui_job_exited(j, st, ui_now_ms());
            pool_end(j);
            ui_con.dirty = 1;
            const char *failed_at = NULL;
            for (size_t k = 0; k < j->n_steps && !j->dry_run; k++)
                if (j->steps[k].status == UI_STEP_FAILED) failed_at = j->steps[k].start_state;
            /* what happened and what to do first (the line is cut at the edge), then the reason */
            const char *fresh = fresh_refusal(j);
            if (fresh) {
                ui_msg(UR_FAILED, "%s %s refused (exit 253), nothing changed: %s", j->what, j->learner, fresh);
                ui_offer_force(j, fresh);
            } else if (strcmp(j->outcome, "errored") == 0 && failed_at)
                ui_msg(UR_FAILED, "%s %s failed at %s, now in Failed: Enter shows the step, u resumes. %s", j->what, j->learner,
                    failed_at, j->result_message ? j->result_message : "");
            else if (strcmp(j->outcome, "errored") == 0)
                ui_msg(UR_FAILED, "%s %s failed (Enter on the learner shows the job log): %s", j->what, j->learner,
                    j->result_message ? j->result_message : "no reason recorded");
            else if (strcmp(j->outcome, "refused") == 0)
                ui_msg(UR_FAILED, "%s %s refused, nothing changed: %s", j->what, j->learner,
                    j->result_message ? j->result_message : "no reason given");
            else
                ui_msg(strcmp(j->outcome, "planned") == 0 ? UR_DRY_RUN : UR_DONE, "%s %s: %s", j->what, j->learner,
                    j->outcome);
            /* states changed: refresh the list and the open record soon */
            if (!j->dry_run) {
                ui_con.next_refresh_ms = ui_now_ms();
                if (ui_con.fetch_pid > 0) ui_con.refetch = 1; /* that fetch may predate the job's last PATCH */
            }
            if (ui_con.detail && strcmp(ui_con.detail, j->learner) == 0) ui_start_status(ui_con.detail);
            /* a failed step that reran well: offer to go on from the next step */
            if (j->offer_continue && strcmp(j->outcome, "complete") == 0) {
                int step = -1;
                for (size_t k = 0; k < j->n_steps; k++)
                    if (j->steps[k].status == UI_STEP_DONE) step = (int)k;
                if (step >= 0) ui_offer_continue(j->learner, step);
            }
        }
    }
    say_stop();
}
