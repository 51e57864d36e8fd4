/* job, the worker's side of "no unsupervised worker" (docs/operators.md, "When the supervisor
 * dies"): a worker whose supervisor dies (even by SIGKILL) is told at once by the kernel
 * (PR_SET_PDEATHSIG), lets the step in flight finish, records the end at the LMS itself and
 * appends its own audit end line. A watchdog thread enforces step_timeout_seconds, which the
 * dead supervisor no longer does: it takes the step over, records ERRORED and exits. */
#include "engine/job_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "engine/audit.h"
#include "engine/plan.h"
#include "common/strbuf.h"

#define ORPHAN_SIGNAL SIGUSR1

enum { STEP_NONE = 0, STEP_RUNNING = 1, STEP_TAKEN = 2 };

static volatile sig_atomic_t g_orphan;
static volatile sig_atomic_t *g_cancel_flag;
static int g_wake[2] = {-1, -1};
static pid_t g_supervisor;
static job_ctx *g_ctx;
static atomic_int g_step = STEP_NONE;
static _Atomic double g_step_started;
/* the step in flight and the learner, copied for the watchdog (written before g_step is set) */
static char g_user[512], g_label[32], g_driver[128], g_method[128];
static int g_bracketed; /* the step in flight moved the learner's state (not an unbracketed rerun) */
static long g_user_id = -1, g_retirement_id = -1;

static void on_orphan_signal(int sig)
{
    (void)sig;
    int saved = errno;
    g_orphan = 1;
    if (g_cancel_flag) *g_cancel_flag = 1;
    if (g_wake[1] >= 0) {
        ssize_t w = write(g_wake[1], "x", 1);
        (void)w;
    }
    errno = saved;
}

int job_orphaned(void)
{
    return g_orphan != 0;
}

pid_t job_orphan_supervisor(void)
{
    return g_supervisor;
}

/* Appends the worker's own audit "end" line (the supervisor that would have written it is gone). */
static void orphan_audit(const char *outcome, int status, const char *message, const char *to_state)
{
    if (!g_ctx || !g_ctx->audit_on) return;
    audit_log *a = NULL;
    char err[1024];
    if (audit_open(g_ctx->config, g_ctx->audit_operator, &a, err, sizeof err) != 0) {
        fprintf(stderr, "retirectl worker: %s\n", err);
        return;
    }
    audit_entry e;
    audit_entry_init(&e, g_label[0] ? g_label : "retire");
    const char *pii[] = {g_user, NULL};
    e.pii = pii;
    e.reason = g_ctx->audit_reason;
    e.user_id = g_user_id;
    e.retirement_id = g_retirement_id;
    e.to_state = to_state;
    e.outcome = outcome;
    e.exit_status = status;
    strbuf d = STRBUF_INIT;
    sb_addf(&d, "written by the worker (pid %ld): its supervisor (pid %ld) was lost. %s", (long)getpid(),
            (long)g_supervisor, message ? message : "");
    e.detail = sb_str(&d);
    if (audit_end(a, &e, err, sizeof err) != 0) fprintf(stderr, "retirectl worker: %s\n", err);
    sb_free(&d);
    audit_close(a);
}

/* The step outlived step_timeout_seconds with nobody supervising: record ERRORED, audit, exit. */
static void take_over(double timeout)
{
    strbuf msg = STRBUF_INIT;
    sb_addf(&msg, "%s.%s timed out after %g s; retirectl's supervisor (pid %ld) was lost, so the worker stopped "
                  "the step itself",
            g_driver, g_method, timeout, (long)g_supervisor);
    char err[2048] = "";
    const char *final = NULL;
    if (!g_bracketed) {
        /* a rerun of a method that is not a pipeline step never changes the learner's state */
        orphan_audit("errored", 252, sb_str(&msg), NULL);
        _exit(252);
    }
    http_client *h = http_client_new(g_ctx->config, err, sizeof err);
    const char *base = cfg_string(g_ctx->config, "base_urls.lms");
    lms_client *l = h && base ? lms_new(h, base) : NULL;
    if (l && http_ensure_token(h, err, sizeof err) == 0) {
        lms_error e;
        memset(&e, 0, sizeof e);
        if (lms_update_state(l, g_user, PLAN_ERROR_STATE, sb_str(&msg), 0, &e) == 0)
            final = PLAN_ERROR_STATE;
        else
            fprintf(stderr, "retirectl worker: Critical error attempting to change learner state to ERRORED: %s\n",
                    e.message);
        lms_error_clear(&e);
    } else {
        fprintf(stderr, "retirectl worker: cannot record ERRORED: %s\n", err);
    }
    orphan_audit("errored", 252, sb_str(&msg), final);
    sb_free(&msg);
    _exit(252);
}

/* The watchdog: sleeps until the supervisor is lost, then enforces the step timeout. */
static void *watchdog(void *arg)
{
    (void)arg;
    char c;
    for (;;) {
        ssize_t n = read(g_wake[0], &c, 1);
        if (n == 1) break;
        if (n < 0 && errno == EINTR) continue;
        return NULL;
    }
    double timeout = g_ctx->step_timeout > 0 ? g_ctx->step_timeout : 900;
    double lost = job_now();
    for (;;) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        double now = job_now();
        int expected = STEP_RUNNING;
        if (atomic_load(&g_step) == STEP_RUNNING && now - atomic_load(&g_step_started) > timeout &&
            atomic_compare_exchange_strong(&g_step, &expected, STEP_TAKEN))
            take_over(timeout);
        /* stuck outside a step (a driver's get_instance, a PATCH that never ends): nothing to record
         * beyond what the main thread already did; do not outlive the supervisor for long */
        if (atomic_load(&g_step) == STEP_NONE && now - lost > timeout + 60) _exit(255);
    }
    return NULL;
}

void job_orphan_arm(job_ctx *ctx, pid_t supervisor, volatile sig_atomic_t *cancel_flag)
{
    g_ctx = ctx;
    g_supervisor = supervisor;
    g_cancel_flag = cancel_flag;
    g_orphan = 0;
    if (pipe2(g_wake, O_CLOEXEC) != 0) g_wake[0] = g_wake[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_orphan_signal;
    sa.sa_flags = SA_RESTART; /* a driver's blocking read or write is not cut short by it */
    sigemptyset(&sa.sa_mask);
    sigaction(ORPHAN_SIGNAL, &sa, NULL);
    if (g_wake[0] >= 0) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 4 * 1024 * 1024); /* TLS and HTTP in take_over (more under ASan) */
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with the main thread */
        pthread_t t;
        if (pthread_create(&t, &at, watchdog, NULL) != 0)
            fprintf(stderr, "retirectl worker: cannot start the step watchdog; a supervisor loss is still noticed\n");
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&at);
    }
    prctl(PR_SET_PDEATHSIG, ORPHAN_SIGNAL);
    if (getppid() != supervisor) on_orphan_signal(ORPHAN_SIGNAL); /* it died before prctl */
}

void job_orphan_learner(const char *username, const char *label, long user_id, long retirement_id)
{
    snprintf(g_user, sizeof g_user, "%s", username ? username : "");
    snprintf(g_label, sizeof g_label, "%s", label ? label : "retire");
    g_user_id = user_id > 0 ? user_id : -1;
    g_retirement_id = retirement_id > 0 ? retirement_id : -1;
}

void job_orphan_step_begin(const char *driver, const char *method, int bracketed)
{
    snprintf(g_driver, sizeof g_driver, "%s", driver ? driver : "?");
    snprintf(g_method, sizeof g_method, "%s", method ? method : "?");
    g_bracketed = bracketed;
    atomic_store(&g_step_started, job_now());
    atomic_store(&g_step, STEP_RUNNING);
}

void job_orphan_step_end(void)
{
    int expected = STEP_RUNNING;
    if (atomic_compare_exchange_strong(&g_step, &expected, STEP_NONE)) return;
    if (expected == STEP_NONE) return;
    /* the watchdog took the step over: it records ERRORED and ends the process */
    for (;;) pause();
}

void job_orphan_record(const char *outcome, int status, const char *message, const char *to_state)
{
    if (g_orphan) orphan_audit(outcome, status, message, to_state);
}
