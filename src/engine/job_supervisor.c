/* job, the supervisor side: the context, starting jobs on fresh or reusable workers, reading
 * their events, timeouts, crashes and cancellation. See job.h and job_internal.h. */
#include "engine/job_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/plan.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/xalloc.h"

static void pool_shutdown(job_ctx *ctx);

/* ------------------------------------------------------------------------------------------ */
/* context */

job_ctx *job_ctx_new_with(const cfg *config, http_client *http, lms_client *lms, reg *registry, char *err,
                          size_t err_len)
{
    job_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->config = config;
    ctx->child_gate_fd = -1;
    ctx->step_timeout = config->step_timeout_seconds > 0 ? config->step_timeout_seconds : 900;
    if (http) {
        ctx->http = http;
    } else {
        ctx->http = http_client_new(config, err, err_len);
        if (!ctx->http) {
            free(ctx);
            return NULL;
        }
        ctx->own_http = 1;
    }
    if (lms) {
        ctx->lms = lms;
    } else {
        const char *base = cfg_string(config, "base_urls.lms");
        if (!base) {
            snprintf(err, err_len, "%s: base_urls.lms is missing; add the LMS root URL under base_urls:",
                     config->path ? config->path : "config");
            job_ctx_free(ctx);
            return NULL;
        }
        ctx->lms = lms_new(ctx->http, base);
        ctx->own_lms = 1;
    }
    if (registry) {
        ctx->registry = registry;
    } else {
        ctx->registry = reg_new(config, NULL);
        ctx->own_reg = 1;
    }
    return ctx;
}

job_ctx *job_ctx_new(const cfg *config, const char *const *driver_paths, char *err, size_t err_len)
{
    reg *r = reg_new(config, driver_paths);
    job_ctx *ctx = job_ctx_new_with(config, NULL, NULL, r, err, err_len);
    if (!ctx) {
        reg_free(r);
        return NULL;
    }
    ctx->own_reg = 1;
    return ctx;
}

int job_ctx_prepare(job_ctx *ctx, char *err, size_t err_len)
{
    if (http_ensure_token(ctx->http, err, err_len) != 0) return -1;
    /* Opt-in trace parity: upstream builds one API client, and so fetches one token, per service. */
    if (ctx->config && cfg_bool(ctx->config, "http.upstream_token_requests", 0))
        return http_fetch_service_tokens(ctx->http, err, err_len);
    return 0;
}

void job_ctx_free(job_ctx *ctx)
{
    if (!ctx) return;
    pool_shutdown(ctx);
    job_history_ctx_free(ctx);
    if (ctx->own_lms && ctx->lms) lms_free(ctx->lms);
    if (ctx->own_http && ctx->http) http_client_free(ctx->http);
    if (ctx->own_reg && ctx->registry) reg_free(ctx->registry);
    free(ctx->audit_operator);
    free(ctx->audit_reason);
    free(ctx);
}

const cfg *job_ctx_config(const job_ctx *ctx) { return ctx->config; }
http_client *job_ctx_http(job_ctx *ctx) { return ctx->http; }
lms_client *job_ctx_lms(job_ctx *ctx) { return ctx->lms; }
reg *job_ctx_registry(job_ctx *ctx) { return ctx->registry; }

void job_ctx_set_step_timeout(job_ctx *ctx, double seconds)
{
    if (seconds > 0) ctx->step_timeout = seconds;
}

void job_ctx_set_http_log_level(job_ctx *ctx, int min_level)
{
    ctx->min_http_log_level = min_level;
}

void job_ctx_set_reuse_workers(job_ctx *ctx, int on)
{
    ctx->reuse = on ? 1 : 0;
}

void job_ctx_set_recycle(job_ctx *ctx, int max_learners, long long max_rss_bytes)
{
    ctx->recycle_learners = max_learners > 0 ? max_learners : 0;
    ctx->recycle_rss = max_rss_bytes > 0 ? max_rss_bytes : 0;
}

int job_ctx_workers_recycled(const job_ctx *ctx) { return ctx->recycled; }

void job_ctx_set_gate(job_ctx *ctx, job_gate_fn fn, void *user)
{
    ctx->gate_fn = fn;
    ctx->gate_user = user;
}

void job_ctx_set_audit(job_ctx *ctx, const char *operator_name, const char *reason)
{
    free(ctx->audit_operator);
    free(ctx->audit_reason);
    ctx->audit_operator = xstrdup_or_null(operator_name);
    ctx->audit_reason = xstrdup_or_null(reason);
    ctx->audit_on = 1;
}

int job_has_control_chars(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 1;
    return 0;
}

double job_now(void)
{
    return clk_mono_s();
}

/* ------------------------------------------------------------------------------------------ */
/* worker processes and the pool of idle reusable ones */

/* Adds p to the ctx's list of live workers. */
static void procs_add(job_ctx *ctx, job_proc *p)
{
    ctx->procs = xrealloc(ctx->procs, (ctx->n_procs + 1) * sizeof *ctx->procs);
    ctx->procs[ctx->n_procs++] = p;
}

/* Removes p from a list (no-op when absent). */
static void list_remove(job_proc **list, size_t *n, const job_proc *p)
{
    for (size_t i = 0; i < *n; i++) {
        if (list[i] != p) continue;
        list[i] = list[--*n];
        return;
    }
}

/* Closes p's pipes, forgets it and frees it. Its process must be reaped already (or is killed
 * and reaped here). */
static void proc_destroy(job_ctx *ctx, job_proc *p)
{
    if (!p) return;
    list_remove(ctx->procs, &ctx->n_procs, p);
    list_remove(ctx->idle, &ctx->n_idle, p);
    if (p->cmd_fd >= 0) close(p->cmd_fd);
    if (p->ev_fd >= 0) close(p->ev_fd);
    if (p->gate_fd >= 0) close(p->gate_fd);
    if (!p->reaped && p->pid > 0) {
        kill(p->pid, SIGKILL);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    if (p->phase) munmap(p->phase, JOB_PHASE_LEN);
    free(p);
}

/* Forks a worker for spec (reusable when the ctx says so). NULL with err. */
static job_proc *proc_fork(job_ctx *ctx, const job_spec *spec, char *err, size_t err_len)
{
    job_proc *p = xcalloc(1, sizeof *p);
    p->ev_fd = p->cmd_fd = p->gate_fd = -1;
    void *ph = mmap(NULL, JOB_PHASE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    p->phase = ph == MAP_FAILED ? NULL : ph;
    int ev[2] = {-1, -1}, cmd[2] = {-1, -1}, gate[2] = {-1, -1};
    if (pipe2(ev, O_CLOEXEC) != 0 || (ctx->reuse && pipe2(cmd, O_CLOEXEC) != 0) ||
        (ctx->gate_fn && pipe2(gate, O_CLOEXEC) != 0)) {
        snprintf(err, err_len, "cannot create a pipe for the job of %s: %s", spec->username, strerror(errno));
        for (int k = 0; k < 2; k++) {
            if (ev[k] >= 0) close(ev[k]);
            if (cmd[k] >= 0) close(cmd[k]);
        }
        if (p->phase) munmap(p->phase, JOB_PHASE_LEN);
        free(p);
        return NULL;
    }
    /* the other workers' pipes, which the child must not keep open */
    size_t n_close = 0;
    int *close_fds = xcalloc(3 * ctx->n_procs + 1, sizeof *close_fds);
    for (size_t i = 0; i < ctx->n_procs; i++) {
        close_fds[n_close++] = ctx->procs[i]->ev_fd;
        close_fds[n_close++] = ctx->procs[i]->cmd_fd;
        close_fds[n_close++] = ctx->procs[i]->gate_fd;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t supervisor = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "cannot start a worker for %s: %s", spec->username, strerror(errno));
        close(ev[0]);
        close(ev[1]);
        for (int k = 0; k < 2; k++) {
            if (cmd[k] >= 0) close(cmd[k]);
            if (gate[k] >= 0) close(gate[k]);
        }
        free(close_fds);
        if (p->phase) munmap(p->phase, JOB_PHASE_LEN);
        free(p);
        return NULL;
    }
    if (pid == 0) {
        close(ev[0]);
        if (cmd[1] >= 0) close(cmd[1]);
        if (gate[1] >= 0) close(gate[1]);
        ctx->child_gate_fd = gate[0]; /* this process's copy of the ctx only */
        job_worker_main(ctx, spec, ev[1], cmd[0], p->phase, close_fds, n_close, supervisor);
    }
    free(close_fds);
    close(ev[1]);
    if (cmd[0] >= 0) close(cmd[0]);
    if (gate[0] >= 0) close(gate[0]);
    p->gate_fd = gate[1];
    p->pid = pid;
    p->ev_fd = ev[0];
    p->cmd_fd = cmd[1];
    p->learners = 1;
    fcntl(p->ev_fd, F_SETFL, fcntl(p->ev_fd, F_GETFL) | O_NONBLOCK);
    procs_add(ctx, p);
    return p;
}

/* Writes all of line to fd without SIGPIPE. 0, or -1 (the worker is gone). */
static int write_all_nosigpipe(int fd, const char *line)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    size_t len = strlen(line), off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t n = write(fd, line + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = -1;
            break;
        }
        off += (size_t)n;
    }
    if (rc != 0) {
        /* consume the SIGPIPE raised by the failed write before unblocking */
        sigset_t pend;
        sigpending(&pend);
        if (sigismember(&pend, SIGPIPE)) {
            struct timespec zero = {0, 0};
            sigtimedwait(&block, NULL, &zero);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Hands spec to an idle reusable worker that is still alive. NULL when there is none. */
static job_proc *pool_take(job_ctx *ctx, const job_spec *spec)
{
    while (ctx->n_idle) {
        job_proc *p = ctx->idle[--ctx->n_idle];
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid || (r < 0 && errno == ECHILD)) {
            p->reaped = 1; /* died while idle: not handed anything */
            proc_destroy(ctx, p);
            continue;
        }
        char *line = job_spec_encode(spec);
        int ok = line && write_all_nosigpipe(p->cmd_fd, line) == 0;
        free(line);
        if (!ok) {
            proc_destroy(ctx, p); /* nothing was read by it: the learner goes to a fresh worker */
            continue;
        }
        if (p->phase) p->phase[0] = '\0';
        p->learners++;
        return p;
    }
    return NULL;
}

/* Resident memory of a process in bytes (from /proc/PID/statm), or -1. */
static long long proc_rss(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    long long size = 0, resident = -1;
    if (sscanf(buf, "%lld %lld", &size, &resident) != 2) return -1;
    return resident * sysconf(_SC_PAGESIZE);
}

/* Waits (polling) until p has exited or the monotonic time until; marks it reaped. */
static void reap_until(job_proc *p, double until)
{
    while (!p->reaped && job_now() < until) {
        pid_t r = waitpid(p->pid, &p->wait_status, WNOHANG);
        if (r == p->pid || (r < 0 && errno != EINTR)) {
            p->reaped = 1;
            break;
        }
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Ends a worker the gentle way without waiting for it: EOF on its command pipe (it frees its
 * drivers and exits); it stays in the list of live workers, marked retiring, until
 * reap_retiring (or pool_shutdown) collects it. */
static void proc_retire(job_proc *p)
{
    if (p->cmd_fd >= 0) close(p->cmd_fd);
    if (p->ev_fd >= 0) close(p->ev_fd);
    p->cmd_fd = p->ev_fd = -1;
    p->retiring = 1;
}

/* Collects retired workers that have exited (never blocks). */
static void reap_retiring(job_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_procs;) {
        job_proc *p = ctx->procs[i];
        if (p->retiring && !p->reaped) {
            pid_t r = waitpid(p->pid, &p->wait_status, WNOHANG);
            if (r == p->pid || (r < 0 && errno == ECHILD)) p->reaped = 1;
        }
        if (p->retiring && p->reaped) {
            proc_destroy(ctx, p); /* removes it from ctx->procs: look at index i again */
            continue;
        }
        i++;
    }
}

/* Returns a worker whose job ended with its result to the pool (or ends it). A worker that has
 * taken recycle_learners learners, or whose RSS passed recycle_rss, is replaced: the next
 * job_start forks a fresh one, so a leaking driver cannot grow without bound. */
static void pool_release(job_ctx *ctx, job_proc *p, int reusable)
{
    if (!reusable || !ctx->reuse || p->cmd_fd < 0 || p->ev_fd < 0) {
        proc_destroy(ctx, p);
        return;
    }
    long long rss = ctx->recycle_rss ? proc_rss(p->pid) : -1;
    if ((ctx->recycle_learners && p->learners >= ctx->recycle_learners) || (ctx->recycle_rss && rss > ctx->recycle_rss)) {
        ctx->recycled++;
        proc_retire(p);
        return;
    }
    ctx->idle = xrealloc(ctx->idle, (ctx->n_idle + 1) * sizeof *ctx->idle);
    ctx->idle[ctx->n_idle++] = p;
}

/* Ends every idle worker (EOF on its command pipe: it frees its drivers and exits; killed if it
 * does not within 2 s) and every worker still lent to a job. */
static void pool_shutdown(job_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_procs; i++) {
        job_proc *p = ctx->procs[i];
        if (p->cmd_fd >= 0) {
            close(p->cmd_fd);
            p->cmd_fd = -1;
        }
    }
    double until = job_now() + 2.0;
    while (ctx->n_procs) {
        job_proc *p = ctx->procs[ctx->n_procs - 1];
        reap_until(p, until);
        proc_destroy(ctx, p);
    }
    free(ctx->procs);
    free(ctx->idle);
    ctx->procs = ctx->idle = NULL;
    ctx->n_idle = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* jobs */

job *job_start(job_ctx *ctx, const job_spec *spec, job_event_fn fn, void *user, char *err, size_t err_len)
{
    if (!spec || !spec->username) {
        snprintf(err, err_len, "no learner given: pass the username to retire");
        return NULL;
    }
    if (spec->action == JOB_RERUN && (!spec->driver || !spec->method)) {
        snprintf(err, err_len, "rerun needs DRIVER.METHOD");
        return NULL;
    }
    job *j = xcalloc(1, sizeof *j);
    j->ctx = ctx;
    j->username = xstrdup(spec->username);
    j->spec = *spec;
    j->spec.username = j->username;
    j->label = xstrdup_or_null(spec->label);
    j->driver = xstrdup_or_null(spec->driver);
    j->method = xstrdup_or_null(spec->method);
    j->bracket_start = xstrdup_or_null(spec->bracket_start);
    j->bracket_end = xstrdup_or_null(spec->bracket_end);
    j->spec.label = j->label;
    j->spec.driver = j->driver;
    j->spec.method = j->method;
    j->spec.bracket_start = j->bracket_start;
    j->spec.bracket_end = j->bracket_end;
    j->fn = fn;
    j->user = user;
    j->fd = -1;
    j->step_index = -1;
    j->exit_status = -1;
    j->timeout_used = ctx->step_timeout;
    j->started = job_now();
    reap_retiring(ctx);
    /* an idle reusable worker if there is one (it keeps its connection and drivers), else a
     * fresh one; a learner is handed to exactly one worker */
    job_proc *p = ctx->reuse ? pool_take(ctx, &j->spec) : NULL;
    if (!p) p = proc_fork(ctx, &j->spec, err, err_len);
    if (!p) {
        job_free(j);
        return NULL;
    }
    j->proc = p;
    j->pid = p->pid;
    j->fd = p->ev_fd;
    job_history_begin(j, spec);
    return j;
}

/* What the worker is doing outside a step ("<DRIVER>.get_instance"), or "". */
static const char *job_phase(const job *j)
{
    return j->proc && j->proc->phase ? j->proc->phase : "";
}

int job_fd(const job *j) { return j->fd; }
int job_done(const job *j) { return j->done; }
int job_exit_status(const job *j) { return j->exit_status; }
const char *job_outcome(const job *j) { return j->outcome ? j->outcome : ""; }
const char *job_username(const job *j) { return j->username; }
pid_t job_pid(const job *j) { return j->pid; }
int job_steps_run(const job *j) { return j->steps_run; }
int job_steps_skipped(const job *j) { return j->steps_skipped; }
long job_lms_user_id(const job *j) { return j->lms_user_id; }
long job_retirement_id(const job *j) { return j->retirement_id; }
const char *job_message(const job *j) { return j->message ? j->message : ""; }

/* Updates tracking from one event and forwards it. */
static void dispatch_line(job *j, const char *line)
{
    ev_event ev;
    if (ev_parse(line, &ev) != 0) return; /* not an event: ignore */
    switch (ev.kind) {
    case EV_JOB: {
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive(ev.json, "lms_user_id");
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(ev.json, "retirement_id");
        if (cJSON_IsNumber(uid)) j->lms_user_id = (long)uid->valuedouble;
        if (cJSON_IsNumber(rid)) j->retirement_id = (long)rid->valuedouble;
        xstr_set(&j->job_state, ev.current_state);
        if (j->ctx->gate_fn && j->proc && j->proc->gate_fd >= 0) {
            /* the worker waits for this answer before it changes anything */
            int go = j->ctx->gate_fn(j->ctx->gate_user, j) == 0;
            if (write_all_nosigpipe(j->proc->gate_fd, go ? "g" : "x") != 0) {
                /* the worker is gone: its death is concluded as usual */
            }
        }
        break;
    }
    case EV_LOG:
        /* the worker logs "Starting state X" just before the PATCH that moves the learner there */
        if (ev.text && !strncmp(ev.text, "Starting state ", 15)) j->start_pending = 1;
        break;
    case EV_STEP:
        if (ev.status && strcmp(ev.status, "running") == 0) {
            j->start_pending = 0;
            if (!j->in_step || j->step_index != ev.index) {
                j->in_step = 1;
                j->seen_step = 1;
                j->step_index = ev.index;
                j->step_started = job_now();
                xstr_set(&j->step_start, ev.start_state);
                xstr_set(&j->step_end, ev.end_state);
                xstr_set(&j->step_driver, ev.driver);
                xstr_set(&j->step_method, ev.method);
            }
        } else if (ev.status && strcmp(ev.status, "retrying") == 0) {
            /* still in the step */
        } else if (ev.status) {
            if (strcmp(ev.status, "done") == 0 || strcmp(ev.status, "failed") == 0) {
                j->steps_run++;
                xstr_set(&j->last_ended, ev.start_state);
            }
            if (strcmp(ev.status, "skipped") == 0) j->steps_skipped++;
            j->in_step = 0;
        }
        break;
    case EV_RESULT:
        j->got_result = 1;
        j->exit_status = ev.exit_status;
        xstr_set(&j->outcome, ev.outcome);
        xstr_set(&j->message, ev.message);
        break;
    default:
        break;
    }
    job_history_event(j, &ev);
    if (j->fn) j->fn(j->user, j, &ev, line);
    ev_event_free(&ev);
}

/* Formats, tracks and forwards an event the supervisor writes itself. */
static void synth(job *j, const char *event, cJSON *obj)
{
    char *line = ev_format(j->ctx->config, event, j->username, obj);
    if (line) dispatch_line(j, line);
    free(line);
}

/* The job's worker takes further learners after this one. */
static int reusable(const job *j)
{
    return j->proc && j->proc->cmd_fd >= 0;
}

/* Closes the job's end of the event pipe. */
static void close_events(job *j)
{
    if (j->proc && j->proc->ev_fd == j->fd) j->proc->ev_fd = -1;
    if (j->fd >= 0) close(j->fd);
    j->fd = -1;
}

/* Splits buffered input into lines. */
static void drain_lines(job *j)
{
    char *data = j->buf.data;
    if (!data) return;
    size_t start = 0;
    for (size_t i = 0; i < j->buf.len; i++) {
        if (data[i] != '\n') continue;
        data[i] = '\0';
        char *line = xstrdup(data + start);
        data[i] = '\n';
        size_t n = strlen(line);
        char *with_nl = xmalloc(n + 2);
        memcpy(with_nl, line, n);
        with_nl[n] = '\n';
        with_nl[n + 1] = '\0';
        dispatch_line(j, with_nl);
        free(with_nl);
        free(line);
        start = i + 1;
        if (j->got_result && reusable(j)) break; /* the worker's next learner is none of ours */
    }
    if (start) {
        size_t rest = j->buf.len - start;
        memmove(data, data + start, rest);
        j->buf.len = rest;
        data[rest] = '\0';
    }
}

/* Short signal name: "SIGSEGV". */
static void signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "signal %d", sig);
}

/* Non-zero for a plan / dry run (nothing is changed at the LMS). */
static int is_dry_run(const job *j)
{
    return j->spec.action == JOB_PLAN || j->spec.dry_run;
}

/* Emits an error log line. */
static void synth_error_log(job *j, const char *text)
{
    cJSON *lo = cJSON_CreateObject();
    cJSON_AddStringToObject(lo, "level", "error");
    cJSON_AddStringToObject(lo, "text", text);
    synth(j, "log", lo);
}

/* The worker died outside a driver call (e.g. during a step's start-state PATCH): re-read the
 * learner and say truly where it is; a learner this job touched is recorded ERRORED with the
 * reason, since no one else will (never for a dry run or a non-pipeline rerun). */
static void conclude_outside_step(job *j, const char *why)
{
    strbuf msg = STRBUF_INIT;
    sb_addf(&msg, "the worker %s %s %s outside a driver call", is_dry_run(j) ? "planning" : "retiring",
            j->username, why);
    if (j->last_ended) sb_addf(&msg, " after %s", j->last_ended);
    cJSON *learner = NULL;
    lms_error e;
    memset(&e, 0, sizeof e);
    int status = 255;
    const char *final = NULL, *outcome = "errored";
    char *final_copy = NULL;
    if (lms_get_status(j->ctx->lms, j->username, &learner, &e) != 0) {
        sb_addf(&msg, "; its state could not be read back (%s): check `retirectl status %s`", e.message, j->username);
    } else {
        const char *now = json_str_at(learner, "current_state", "state_name", NULL);
        /* a PATCH the worker sent just before it died may still land: once the learner was touched,
         * ERRORED is recorded now (a later state change to an earlier state is then refused) */
        int touched = j->steps_run > 0 || j->start_pending || (now && j->job_state && strcmp(now, j->job_state));
        /* a dry run and a non-pipeline rerun never change the learner's state */
        int state_kept = (j->spec.action == JOB_RERUN && !j->spec.bracket_start) || j->spec.action == JOB_PLAN ||
                         j->spec.dry_run;
        if (now && !strcmp(now, PLAN_COMPLETE_STATE) && j->spec.action == JOB_RETIRE && !j->spec.dry_run && touched) {
            sb_addf(&msg, "; the learner is %s at the LMS", now);
            xstr_set(&final_copy, now);
            final = final_copy;
            status = 0;
            outcome = "complete";
        } else if (now && !state_kept && touched) {
            sb_addf(&msg, ", leaving the learner in %s%s", now,
                    j->start_pending ? " (the PATCH that starts the next step may have been in flight)" : "");
            lms_error pe;
            memset(&pe, 0, sizeof pe);
            if (lms_update_state(j->ctx->lms, j->username, PLAN_ERROR_STATE, sb_str(&msg), 0, &pe) == 0) {
                final = PLAN_ERROR_STATE;
                status = 252;
            } else {
                strbuf t = STRBUF_INIT;
                sb_addf(&t, "Critical error attempting to change learner state to ERRORED: %s", pe.message);
                synth_error_log(j, sb_str(&t));
                sb_free(&t);
                xstr_set(&final_copy, now);
                final = final_copy;
            }
            lms_error_clear(&pe);
        } else if (now && j->job_state && !strcmp(now, j->job_state) && j->steps_run == 0) {
            sb_addf(&msg, "; no state was changed by it (the learner is in %s)", now);
            xstr_set(&final_copy, now);
            final = final_copy;
        } else if (now) {
            sb_addf(&msg, "; the learner is in %s at the LMS (%d step%s ran)", now, j->steps_run,
                    j->steps_run == 1 ? "" : "s");
            xstr_set(&final_copy, now);
            final = final_copy;
        }
    }
    lms_error_clear(&e);
    cJSON_Delete(learner);
    synth_error_log(j, sb_str(&msg));
    cJSON *ro = cJSON_CreateObject();
    cJSON_AddStringToObject(ro, "outcome", outcome);
    cJSON_AddNumberToObject(ro, "exit_status", status);
    cJSON_AddStringToObject(ro, "message", sb_str(&msg));
    if (final) cJSON_AddStringToObject(ro, "final_state", final);
    synth(j, "result", ro);
    sb_free(&msg);
    free(final_copy);
}

/* The worker is gone without a result: record what happened. */
static void conclude_without_result(job *j)
{
    char why[256];
    if (j->killed_timeout) {
        snprintf(why, sizeof why, "timed out after %g s", j->timeout_used);
    } else if (j->cancel_count >= 2 && WIFSIGNALED(j->wait_status) && WTERMSIG(j->wait_status) == SIGKILL) {
        snprintf(why, sizeof why, "was stopped by the operator (worker killed)");
    } else if (WIFSIGNALED(j->wait_status)) {
        char sn[32];
        signal_name(WTERMSIG(j->wait_status), sn, sizeof sn);
        snprintf(why, sizeof why, "crashed (%s)", sn);
    } else {
        snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(j->wait_status));
    }
    if (j->in_step) {
        strbuf msg = STRBUF_INIT;
        sb_addf(&msg, "%s.%s %s", j->step_driver ? j->step_driver : "?", j->step_method ? j->step_method : "?", why);
        const char *final = PLAN_ERROR_STATE;
        lms_error e;
        memset(&e, 0, sizeof e);
        if (j->spec.action == JOB_RERUN && !j->spec.bracket_start) {
            /* not a pipeline step: the learner's state is never touched, not even now */
            sb_add(&msg, "; the learner's state was not changed (the method is not a pipeline step)");
            final = j->job_state;
        } else if (lms_update_state(j->ctx->lms, j->username, PLAN_ERROR_STATE, sb_str(&msg), 0, &e) != 0) {
            cJSON *lo = cJSON_CreateObject();
            cJSON_AddStringToObject(lo, "level", "error");
            strbuf t = STRBUF_INIT;
            sb_addf(&t, "Critical error attempting to change learner state to ERRORED: %s", e.message);
            cJSON_AddStringToObject(lo, "text", sb_str(&t));
            sb_free(&t);
            synth(j, "log", lo);
            final = NULL;
        }
        lms_error_clear(&e);
        cJSON *lo = cJSON_CreateObject();
        cJSON_AddStringToObject(lo, "level", "error");
        strbuf t = STRBUF_INIT;
        if (j->step_start && *j->step_start)
            sb_addf(&t, "Error in retirement state %s: %s", j->step_start, sb_str(&msg));
        else
            sb_addf(&t, "Error in %s.%s: %s", j->step_driver ? j->step_driver : "?",
                    j->step_method ? j->step_method : "?", sb_str(&msg));
        cJSON_AddStringToObject(lo, "text", sb_str(&t));
        sb_free(&t);
        synth(j, "log", lo);
        cJSON *so = ev_step_object(j->step_index, j->step_start, j->step_end, j->step_driver, j->step_method);
        cJSON_AddStringToObject(so, "status", "failed");
        cJSON_AddNumberToObject(so, "elapsed_ms", floor((job_now() - j->step_started) * 1000.0));
        cJSON_AddStringToObject(so, "message", sb_str(&msg));
        synth(j, "step", so);
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddStringToObject(ro, "outcome", "errored");
        cJSON_AddNumberToObject(ro, "exit_status", 252);
        cJSON_AddStringToObject(ro, "message", sb_str(&msg));
        if (final) cJSON_AddStringToObject(ro, "final_state", final);
        synth(j, "result", ro);
        sb_free(&msg);
    } else if (!j->seen_step && job_phase(j)[0]) {
        /* a driver's get_instance crashed or hung: set-up, before any state change */
        char phase[JOB_PHASE_LEN];
        snprintf(phase, sizeof phase, "%s", job_phase(j));
        strbuf msg = STRBUF_INIT;
        sb_addf(&msg, "%s %s", phase, why);
        cJSON *lo = cJSON_CreateObject();
        cJSON_AddStringToObject(lo, "level", "error");
        strbuf t = STRBUF_INIT;
        if (is_dry_run(j))
            sb_addf(&t, "Unexpected error occurred!\n%s during the dry run for %s; nothing was sent and the learner "
                        "is untouched: fix the driver (reproduce it with `retirectl driver-run DRIVER.METHOD "
                        "--learner FILE --dry-run`), then run the plan again",
                    sb_str(&msg), j->username);
        else
            sb_addf(&t, "Unexpected error occurred!\n%s while the drivers were being started for %s; the learner "
                        "is untouched (no state change happened): fix the driver, then run the retirement again",
                    sb_str(&msg), j->username);
        cJSON_AddStringToObject(lo, "text", sb_str(&t));
        sb_free(&t);
        synth(j, "log", lo);
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddStringToObject(ro, "outcome", "errored");
        cJSON_AddNumberToObject(ro, "exit_status", 255);
        sb_addf(&msg, "; the learner is untouched (no state change happened)");
        cJSON_AddStringToObject(ro, "message", sb_str(&msg));
        synth(j, "result", ro);
        sb_free(&msg);
    } else {
        conclude_outside_step(j, why);
    }
}

int job_on_readable(job *j)
{
    if (j->fd < 0) return job_tick(j, job_now());
    char buf[65536];
    while (!(j->got_result && reusable(j))) {
        ssize_t n = read(j->fd, buf, sizeof buf);
        if (n > 0) {
            sb_addn(&j->buf, buf, (size_t)n);
            drain_lines(j);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        /* EOF or error: the worker closed its end */
        close_events(j);
        break;
    }
    return job_tick(j, job_now());
}

/* Records that the worker process is gone. */
static void set_reaped(job *j, int wait_status)
{
    j->reaped = 1;
    j->wait_status = wait_status;
    if (j->proc) {
        j->proc->reaped = 1;
        j->proc->wait_status = wait_status;
    }
}

int job_tick(job *j, double now)
{
    if (j->done) return 1;
    if (j->got_result && reusable(j) && !j->reaped) {
        /* a reusable worker finished this learner: it goes back to the pool unless the operator
         * signalled it or it wrote anything after its result */
        int clean = j->cancel_count == 0 && !j->killed_timeout && j->buf.len == 0 && j->fd >= 0;
        job_proc *p = j->proc;
        j->proc = NULL;
        j->fd = -1;
        pool_release(j->ctx, p, clean);
        if (j->exit_status < 0) j->exit_status = 255;
        j->done = 1;
        return 1;
    }
    /* the timeout covers a step in flight, and the set-up from the worker's start to its first step
     * (a driver whose get_instance never returns) */
    double since = j->in_step ? j->step_started : (!j->seen_step && !j->got_result ? j->started : -1);
    if (since >= 0 && !j->killed_timeout && j->timeout_used > 0 && now - since > j->timeout_used && !j->reaped) {
        j->killed_timeout = 1;
        kill(j->pid, SIGKILL);
    }
    if (!j->reaped) {
        int st;
        pid_t r = waitpid(j->pid, &st, j->killed_timeout || j->cancel_count >= 2 ? 0 : WNOHANG);
        if (r == j->pid)
            set_reaped(j, st);
        else if (r < 0 && errno == ECHILD)
            set_reaped(j, 0);
    }
    if (j->reaped && j->fd >= 0) {
        /* read whatever is left (non-blocking: a grandchild may still hold the pipe open) */
        char buf[65536];
        ssize_t n;
        while ((n = read(j->fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0) sb_addn(&j->buf, buf, (size_t)n);
        drain_lines(j);
        close_events(j);
    }
    if (j->reaped && j->fd < 0) {
        if (!j->got_result) conclude_without_result(j);
        if (j->exit_status < 0) j->exit_status = 255;
        j->done = 1;
        job_proc *p = j->proc;
        j->proc = NULL;
        if (p) proc_destroy(j->ctx, p);
    }
    return j->done;
}

int job_poll_timeout_ms(const job *j)
{
    if (j->done) return 0;
    if (j->fd < 0) return 10;
    int ms = 250;
    double since = j->in_step ? j->step_started : (!j->seen_step && !j->got_result ? j->started : -1);
    if (since >= 0 && j->timeout_used > 0) {
        double left = j->timeout_used - (job_now() - since);
        int l = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
        if (l < ms) ms = l;
    }
    return ms;
}

void job_cancel(job *j)
{
    if (j->done || j->reaped) return;
    j->cancel_count++;
    kill(j->pid, j->cancel_count >= 2 ? SIGKILL : SIGTERM);
}

void job_free(job *j)
{
    if (!j) return;
    job_history_end(j);
    if (j->proc) {
        /* still lent: the job was abandoned mid-way; its worker is killed */
        if (j->proc->ev_fd != j->fd && j->fd >= 0) close(j->fd);
        proc_destroy(j->ctx, j->proc);
        j->proc = NULL;
    } else if (j->fd >= 0) {
        close(j->fd);
    }
    sb_free(&j->buf);
    free(j->username);
    free(j->label);
    free(j->driver);
    free(j->method);
    free(j->bracket_start);
    free(j->bracket_end);
    free(j->step_start);
    free(j->step_end);
    free(j->step_driver);
    free(j->step_method);
    free(j->outcome);
    free(j->message);
    free(j->job_state);
    free(j->last_ended);
    free(j);
}

int job_run(job_ctx *ctx, const job_spec *spec, job_event_fn fn, void *user, volatile sig_atomic_t *cancel_flag, char *err,
            size_t err_len)
{
    job *j = job_start(ctx, spec, fn, user, err, err_len);
    if (!j) return 255;
    int seen_cancel = 0;
    while (!job_done(j)) {
        if (cancel_flag && *cancel_flag > seen_cancel) {
            seen_cancel = *cancel_flag;
            job_cancel(j);
        }
        struct pollfd p = {job_fd(j), POLLIN, 0};
        int timeout = job_poll_timeout_ms(j);
        if (p.fd >= 0) {
            int r = poll(&p, 1, timeout);
            if (r > 0) {
                job_on_readable(j);
                continue;
            }
        } else {
            struct timespec ts = {0, (long)timeout * 1000000L};
            nanosleep(&ts, NULL);
        }
        job_tick(j, job_now());
    }
    int status = job_exit_status(j);
    job_free(j);
    return status;
}
