/* The ncurses console (see ui.h). One thread; the loop poll()s the terminal, the fetch
 * children's pipes, the job pipes and a timer, and redraws only when something changed. */
#include "ui/ui.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/strbuf.h"
#include "ui/fetch.h"
#include "ui/job.h"
#include "ui/keys.h"
#include "ui/layout.h"
#include "ui/model.h"
#include "ui/text.h"
#include "ui/theme.h"

typedef enum view_t { V_LIST, V_DETAIL, V_DRIVERS } view_t;
typedef enum act_kind { ACT_RETIRE, ACT_RESUME, ACT_RERUN, ACT_PLAN, ACT_RESET, ACT_CANCEL, ACT_QUIT } act_kind;

typedef struct driver_row {
    char *name, *source, *version, *error, *method; /* method NULL: the driver's own row */
    int line, builtin;
} driver_row;

typedef struct queued_action {
    char *learner;
    act_kind kind;
    char *arg;
} queued_action;

typedef struct dialog {
    int active;
    act_kind kind;
    char title[160];
    char **lines;            /* sanitized */
    size_t n_lines;
    int typed;               /* production: type expect */
    char expect[256];
    char input[256];
    char **learners;         /* raw usernames */
    size_t n_learners;
    char *arg;               /* rerun: DRIVER.METHOD; reset: new state */
    char *arg2;              /* reset: initial state */
    char *arg3;              /* reset: date */
    pid_t cancel_pid;
    int scroll;
} dialog;

typedef struct picker {
    int active;
    char title[160];
    char **labels;           /* sanitized */
    char **values;
    size_t n, sel;
    char *learner;
} picker;

typedef struct field {
    char *key, *value;       /* sanitized */
} field;

static struct console {
    const ui_options *o;
    ui_theme theme;
    int mono;
    attr_t attr[UR_COUNT];
    ui_pipeline pipe;
    const char **queue_states;
    size_t n_queue_states;
    long cool_off_days;
    long history_days;       /* Complete tab: changed in that many days (0: all) */
    double refresh_s;
    int workers;
    int production;
    char env[64];
    char host[256];

    ui_store store, next;
    int have_store;
    pid_t fetch_pid;
    int fetch_fd;
    strbuf fetch_buf;
    double next_refresh_ms;
    time_t last_refresh_wall;
    char fetch_error[512];

    pid_t status_pid;
    int status_fd;
    strbuf status_buf;
    char *status_for;
    field *fields, *fields_next;
    size_t n_fields, n_fields_next;
    char status_error[512];

    pid_t drivers_pid;
    int drivers_fd;
    strbuf drivers_buf;
    driver_row *drivers;
    size_t n_drivers;
    char **problems;
    size_t n_problems;
    int drivers_loaded;
    char *drivers_for;       /* learner a rerun from the drivers view applies to */

    ui_job **jobs;
    size_t n_jobs;
    queued_action *queue;
    size_t n_queue;

    view_t view;
    view_t drivers_back;
    ui_tab tab;
    size_t sel[UI_TAB_COUNT], top[UI_TAB_COUNT];
    char filter[256];
    int filter_editing;
    char *detail;
    int detail_sel;
    int log_scroll;          /* lines up from the bottom */
    size_t drv_sel, drv_top;
    int help;
    int help_scroll;
    dialog dlg;
    picker pk;
    char message[512];
    ui_role message_role;
    double message_until;
    int dirty;
    int quit;
    unsigned spin;
    FILE *trace;
    unsigned long frame_seq;
    int last_key;
    int traced_complete;
    int refetch;             /* a job ended while a fetch was running: fetch again right after */
    double fetch_started_ms; /* when the fetch now running started */
    double store_from_ms;    /* when the fetch that produced the shown list started */
} C;

static volatile sig_atomic_t g_quit_signal;
static int g_curses_on;

/* ---------- small helpers ---------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

static void msg(ui_role role, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg(ui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char raw[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    char *clean = ui_text_sanitize(raw, (size_t)-1);
    snprintf(C.message, sizeof C.message, "%s", clean);
    free(clean);
    C.message_role = role;
    C.message_until = now_ms() + 8000;
    C.dirty = 1;
}

/* Draws sanitized-or-raw text at y,x fitted to width cells (sanitizing it first). */
static void put(int y, int x, int width, ui_role role, const char *text, int pad)
{
    if (width <= 0 || y < 0 || x < 0 || y >= LINES || x >= COLS) return;
    if (x + width > COLS) width = COLS - x;
    char *clean = ui_text_sanitize(text ? text : "", (size_t)-1);
    char buf[4096];
    ui_text_fit(clean, width, pad, buf, sizeof buf);
    free(clean);
    attrset(C.attr[role]);
    mvaddstr(y, x, buf);
    attrset(C.attr[UR_NORMAL]);
}

static void fill_row(int y, ui_role role)
{
    if (y < 0 || y >= LINES) return;
    attrset(C.attr[role]);
    mvhline(y, 0, ' ', COLS);
    attrset(C.attr[UR_NORMAL]);
}

/* ---------- terminal restore on every exit path ---------- */

static void restore_terminal(void)
{
    if (g_curses_on) {
        g_curses_on = 0;
        endwin();
    }
}

static void crash_handler(int sig)
{
    /* endwin is not async-signal-safe, but the process is dying and a usable terminal matters more */
    if (g_curses_on) {
        g_curses_on = 0;
        endwin();
    }
    static const char text[] = "\nretirectl: the console crashed; the terminal was restored. Jobs it started keep running.\n";
    ssize_t w = write(STDERR_FILENO, text, sizeof text - 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void quit_handler(int sig)
{
    g_quit_signal = sig;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = crash_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    const int crash[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++) sigaction(crash[i], &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = quit_handler;
    sigemptyset(&sa.sa_mask);
    const int quit[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof quit / sizeof quit[0]; i++) sigaction(quit[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    atexit(restore_terminal);
}

/* ---------- theme ---------- */

static attr_t style_attrs(const ui_style *s)
{
    attr_t a = A_NORMAL;
    if (s->attrs & UI_ATTR_BOLD) a |= A_BOLD;
    if (s->attrs & UI_ATTR_DIM) a |= A_DIM;
    if (s->attrs & UI_ATTR_UNDERLINE) a |= A_UNDERLINE;
    if (s->attrs & UI_ATTR_REVERSE) a |= A_REVERSE;
    if (s->attrs & UI_ATTR_STANDOUT) a |= A_STANDOUT;
    return a;
}

static void apply_theme(void)
{
    int colour = !C.mono && has_colors();
    if (colour) {
        start_color();
        use_default_colors();
    }
    for (int r = 0; r < UR_COUNT; r++) {
        const ui_style *s = &C.theme.roles[r];
        C.attr[r] = style_attrs(s);
        if (colour && (s->fg >= 0 || s->bg >= 0)) {
            short fg = s->fg < COLORS ? s->fg : (short)(s->fg % 8);
            short bg = s->bg < COLORS ? s->bg : (short)(s->bg % 8);
            if (init_pair((short)(r + 1), fg, bg) == OK) C.attr[r] |= COLOR_PAIR(r + 1);
        }
    }
}

/* ---------- pipeline / learners ---------- */

static ui_learner *find_learner(const char *name)
{
    return C.have_store ? ui_store_find(&C.store, name) : NULL;
}

static ui_job *job_for(const char *learner, int running_only);

/* A job for name that ended after the shown list was fetched knows its state better. */
static const ui_job *newer_job(const char *name)
{
    const ui_job *j = job_for(name, 0);
    if (!j || !j->finished || j->dry_run || !j->final_state || !*j->final_state) return NULL;
    return j->ended_ms > C.store_from_ms ? j : NULL;
}

static const char *learner_state(const char *name)
{
    const ui_job *j = newer_job(name);
    if (j) return j->final_state;
    ui_learner *l = find_learner(name);
    return l ? ui_store_state(&C.store, l->state) : NULL;
}

static const char *learner_last_state(const char *name)
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
    ui_learner *l = find_learner(name);
    return l ? ui_store_state(&C.store, l->last_state) : NULL;
}

/* The selected learner of the list, or NULL. */
static const ui_learner *selected_learner(void)
{
    if (!C.have_store) return NULL;
    size_t n = C.store.n_rows[C.tab];
    if (!n) return NULL;
    if (C.sel[C.tab] >= n) C.sel[C.tab] = n - 1;
    return &C.store.v[C.store.rows[C.tab][C.sel[C.tab]]];
}

static const char *selected_name(void)
{
    if (C.view == V_DETAIL && C.detail) return C.detail;
    if (C.view == V_DRIVERS && C.drivers_for) return C.drivers_for;
    const ui_learner *l = selected_learner();
    return l ? ui_store_name(&C.store, l) : NULL;
}

/* The most recent job for learner (running ones first), or NULL. */
static ui_job *job_for(const char *learner, int running_only)
{
    for (size_t i = C.n_jobs; i-- > 0;)
        if (strcmp(C.jobs[i]->learner, learner) == 0 && (!running_only || !C.jobs[i]->finished)) return C.jobs[i];
    return NULL;
}

/* Jobs still working: no result event yet and the process not reaped (a job that reported its
 * result is only exiting). */
static size_t running_jobs(void)
{
    size_t n = 0;
    for (size_t i = 0; i < C.n_jobs; i++) n += !C.jobs[i]->exited && !C.jobs[i]->finished;
    return n;
}

static void redescribe_dialog(void);
static size_t wrap_text(const char *s, int width, char ***out);
static void tlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------- fetch children ---------- */

static void start_fetch(void)
{
    if (C.fetch_pid > 0) return;
    char err[512];
    int fd;
    pid_t pid = ui_fetch_queue(C.o->config, C.queue_states, C.n_queue_states, &fd, err, sizeof err);
    if (pid < 0) {
        snprintf(C.fetch_error, sizeof C.fetch_error, "%s", err);
        C.next_refresh_ms = now_ms() + C.refresh_s * 1000;
        return;
    }
    C.fetch_pid = pid;
    C.fetch_fd = fd;
    C.fetch_started_ms = now_ms();
    sb_reset(&C.fetch_buf);
    ui_store_free(&C.next);
    ui_store_init(&C.next);
    C.dirty = 1;
}

static void reap(pid_t *pid, const char *what);

static void start_status(const char *name)
{
    if (C.status_pid > 0) {
        if (C.status_for && strcmp(C.status_for, name) == 0) return; /* already on its way */
        /* another learner's record is loading: drop it, this one is wanted now */
        kill(C.status_pid, SIGTERM);
        close(C.status_fd);
        C.status_fd = -1;
        reap(&C.status_pid, "status");
    }
    char err[512];
    int fd;
    pid_t pid = ui_fetch_status(C.o->config, name, &fd, err, sizeof err);
    if (pid < 0) {
        snprintf(C.status_error, sizeof C.status_error, "%s", err);
        return;
    }
    C.status_pid = pid;
    C.status_fd = fd;
    free(C.status_for);
    C.status_for = xstrdup(name);
    sb_reset(&C.status_buf);
    for (size_t i = 0; i < C.n_fields_next; i++) free(C.fields_next[i].key), free(C.fields_next[i].value);
    C.n_fields_next = 0;
    C.status_error[0] = '\0';
}

static void start_drivers(void)
{
    if (C.drivers_pid > 0) return;
    char err[512];
    int fd;
    pid_t pid = ui_fetch_drivers(C.o->config, C.o->driver_paths, &fd, err, sizeof err);
    if (pid < 0) {
        msg(UR_FAILED, "%s", err);
        return;
    }
    C.drivers_pid = pid;
    C.drivers_fd = fd;
    sb_reset(&C.drivers_buf);
    for (size_t i = 0; i < C.n_drivers; i++) {
        driver_row *d = &C.drivers[i];
        free(d->name), free(d->source), free(d->version), free(d->error), free(d->method);
    }
    C.n_drivers = 0;
    for (size_t i = 0; i < C.n_problems; i++) free(C.problems[i]);
    C.n_problems = 0;
}

/* Splits tab fields in place (unescaped). */
static int fields_of(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = '\0';
        p = t + 1;
    }
    for (int i = 0; i < n; i++) ui_proto_unescape(f[i]);
    return n;
}

static void on_queue_done_impl(void);
/* Swaps in the new list (timed for bench/console_scale). */
static void on_queue_done(void)
{
    double t0 = now_ms();
    on_queue_done_impl();
    tlog("swap %.3f ms %zu learners\n", now_ms() - t0, C.store.n);
}

static void on_queue_done_impl(void)
{
    /* keep the selection on the same learner across refreshes */
    char *keep[UI_TAB_COUNT] = {0};
    if (C.have_store)
        for (int t = 0; t < UI_TAB_COUNT; t++)
            if (C.store.n_rows[t] && C.sel[t] < C.store.n_rows[t])
                keep[t] = xstrdup(ui_store_name(&C.store, &C.store.v[C.store.rows[t][C.sel[t]]]));
    if (C.next.error[0] && C.next.n == 0 && C.have_store) {
        /* a failed refresh keeps the last good list */
        snprintf(C.fetch_error, sizeof C.fetch_error, "%s", C.next.error);
        ui_store_free(&C.next);
    } else {
        snprintf(C.fetch_error, sizeof C.fetch_error, "%s", C.next.error);
        ui_store_classify(&C.next, &C.pipe, C.cool_off_days, C.history_days, time(NULL));
        if (C.have_store) ui_store_copy_marks(&C.next, &C.store);
        ui_store_free(&C.store);
        C.store = C.next;
        ui_store_init(&C.next);
        C.have_store = 1;
        C.store_from_ms = C.fetch_started_ms;
        ui_store_filter(&C.store, C.filter);
        for (int t = 0; t < UI_TAB_COUNT; t++) {
            if (!keep[t]) continue;
            for (size_t i = 0; i < C.store.n_rows[t]; i++)
                if (strcmp(ui_store_name(&C.store, &C.store.v[C.store.rows[t][i]]), keep[t]) == 0) {
                    C.sel[t] = i;
                    break;
                }
        }
        C.last_refresh_wall = time(NULL);
    }
    for (int t = 0; t < UI_TAB_COUNT; t++) free(keep[t]);
    C.next_refresh_ms = C.refetch ? now_ms() : now_ms() + C.refresh_s * 1000;
    C.refetch = 0;
    C.dirty = 1;
    redescribe_dialog();
}

/* Processes complete lines in buf with fn; leaves the partial tail. */
static void drain_lines(strbuf *buf, void (*fn)(char *line))
{
    if (!buf->len) return;
    char *start = buf->data, *nl;
    size_t consumed = 0;
    while ((nl = memchr(start, '\n', buf->len - consumed))) {
        *nl = '\0';
        fn(start);
        consumed += (size_t)(nl - start) + 1;
        start = nl + 1;
    }
    if (consumed) {
        memmove(buf->data, buf->data + consumed, buf->len - consumed + 1);
        buf->len -= consumed;
    }
}

static void queue_line(char *line)
{
    ui_store_feed_line(&C.next, line);
}

static void status_line(char *line)
{
    if (line[0] == 'F' && line[1] == '\t') {
        char *f[2];
        if (fields_of(line + 2, f, 2) != 2) return;
        field *nf = realloc(C.fields_next, (C.n_fields_next + 1) * sizeof *nf);
        if (!nf) abort();
        C.fields_next = nf;
        C.fields_next[C.n_fields_next].key = ui_text_sanitize(f[0], (size_t)-1);
        C.fields_next[C.n_fields_next].value = ui_text_sanitize(f[1], (size_t)-1);
        C.n_fields_next++;
    } else if (line[0] == 'E' && line[1] == '\t') {
        ui_proto_unescape(line + 2);
        snprintf(C.status_error, sizeof C.status_error, "%s", line + 2);
    }
}

static void drivers_line(char *line)
{
    char *f[7];
    if (line[0] == 'V' && line[1] == '\t') {
        if (fields_of(line + 2, f, 7) != 7) return;
        size_t nm = 0;
        for (char *p = f[5]; *p; p++) nm += *p == ',';
        nm += *f[5] ? 1 : 0;
        driver_row *nd = realloc(C.drivers, (C.n_drivers + 1 + nm) * sizeof *nd);
        if (!nd) abort();
        C.drivers = nd;
        driver_row *d = &C.drivers[C.n_drivers++];
        d->name = xstrdup(f[0]);
        d->source = xstrdup(f[1]);
        d->line = atoi(f[2]);
        d->version = xstrdup(f[3]);
        d->builtin = atoi(f[4]);
        d->error = *f[6] ? xstrdup(f[6]) : NULL;
        d->method = NULL;
        char *save = NULL;
        for (char *m = strtok_r(f[5], ",", &save); m; m = strtok_r(NULL, ",", &save)) {
            driver_row *r = &C.drivers[C.n_drivers++];
            memset(r, 0, sizeof *r);
            r->name = xstrdup(f[0]);
            r->method = xstrdup(m);
        }
    } else if ((line[0] == 'P' || line[0] == 'E') && line[1] == '\t') {
        ui_proto_unescape(line + 2);
        char **np = realloc(C.problems, (C.n_problems + 1) * sizeof *np);
        if (!np) abort();
        C.problems = np;
        C.problems[C.n_problems++] = xstrdup(line + 2);
    }
}

/* Reads what is available on a fetch pipe; returns 1 at end of file. */
static int read_pipe(int fd, strbuf *buf)
{
    char chunk[65536];
    /* at most 256 KB per loop turn, so keys are never kept waiting behind a big list */
    for (int rounds = 0; rounds < 4; rounds++) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            sb_addn(buf, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        return 1;
    }
    return 0;
}

static void tlog(const char *fmt, ...)
{
    if (!C.trace) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(C.trace, fmt, ap);
    va_end(ap);
    fflush(C.trace);
}

/* Reaps a fetch child; traces its peak memory. */
static void reap(pid_t *pid, const char *what)
{
    if (*pid <= 0) return;
    int st;
    struct rusage ru;
    if (wait4(*pid, &st, 0, &ru) > 0) tlog("child %s maxrss_kb %ld\n", what, ru.ru_maxrss);
    *pid = 0;
}

static void on_fetch_readable(void)
{
    int eof = read_pipe(C.fetch_fd, &C.fetch_buf);
    drain_lines(&C.fetch_buf, queue_line);
    if (eof) {
        close(C.fetch_fd);
        C.fetch_fd = -1;
        reap(&C.fetch_pid, "queue");
        if (!C.next.complete && !C.next.error[0])
            snprintf(C.next.error, sizeof C.next.error, "the learner list fetch ended early (see retirectl queue)");
        on_queue_done();
    }
}

static void on_status_readable(void)
{
    int eof = read_pipe(C.status_fd, &C.status_buf);
    drain_lines(&C.status_buf, status_line);
    if (eof) {
        close(C.status_fd);
        C.status_fd = -1;
        reap(&C.status_pid, "status");
        if (C.detail && C.status_for && strcmp(C.detail, C.status_for) == 0) {
            for (size_t i = 0; i < C.n_fields; i++) free(C.fields[i].key), free(C.fields[i].value);
            free(C.fields);
            C.fields = C.fields_next;
            C.n_fields = C.n_fields_next;
            C.fields_next = NULL;
            C.n_fields_next = 0;
        }
        C.dirty = 1;
    }
}

static void on_drivers_readable(void)
{
    int eof = read_pipe(C.drivers_fd, &C.drivers_buf);
    drain_lines(&C.drivers_buf, drivers_line);
    if (eof) {
        close(C.drivers_fd);
        C.drivers_fd = -1;
        reap(&C.drivers_pid, "drivers");
        C.drivers_loaded = 1;
        C.dirty = 1;
    }
}

/* ---------- jobs ---------- */

/* argv for a job: exe --config F [--driver-path X]... [--operator N] args... */
static pid_t spawn_job(ui_job *j, const char *const *args)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = C.o->exe;
    if (C.o->config_path) argv[n++] = "--config", argv[n++] = C.o->config_path;
    for (size_t i = 0; C.o->driver_paths && C.o->driver_paths[i] && n < 40; i++)
        argv[n++] = "--driver-path", argv[n++] = C.o->driver_paths[i];
    if (C.o->operator_name) argv[n++] = "--operator", argv[n++] = C.o->operator_name;
    for (size_t i = 0; args[i] && n < 62; i++) argv[n++] = args[i];
    argv[n] = NULL;
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return -1;
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]), close(out[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]), close(out[1]), close(err[0]), close(err[1]);
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
        execv(argv[0], (char *const *)argv);
        const char text[] = "cannot start the retirectl binary for this job\n";
        ssize_t w = write(STDERR_FILENO, text, sizeof text - 1);
        (void)w;
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    j->pid = pid;
    j->out_fd = out[0];
    j->err_fd = err[0];
    j->started_ms = now_ms();
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

static void add_job(ui_job *j)
{
    ui_job **nj = realloc(C.jobs, (C.n_jobs + 1) * sizeof *nj);
    if (!nj) abort();
    C.jobs = nj;
    C.jobs[C.n_jobs++] = j;
    /* keep the newest 200 job records */
    while (C.n_jobs > 200) {
        size_t k;
        for (k = 0; k < C.n_jobs && !C.jobs[k]->exited; k++) {}
        if (k == C.n_jobs) break;
        ui_job_free(C.jobs[k]);
        memmove(C.jobs + k, C.jobs + k + 1, (C.n_jobs - k - 1) * sizeof *C.jobs);
        C.n_jobs--;
    }
}

/* Starts one job now. */
static void start_action(const char *learner, act_kind kind, const char *arg, const char *arg2, const char *arg3)
{
    const char *args[24];
    int n = 0;
    const char *action = "retire";
    char what[300];
    switch (kind) {
    case ACT_RETIRE:
        args[n++] = "retire", args[n++] = learner, args[n++] = "--events";
        snprintf(what, sizeof what, "retire");
        break;
    case ACT_RESUME:
        action = "resume";
        args[n++] = "resume", args[n++] = learner, args[n++] = "--yes", args[n++] = "--events";
        args[n++] = "--reason", args[n++] = "resumed from the console after the operator confirmed";
        snprintf(what, sizeof what, "resume");
        break;
    case ACT_RERUN:
        action = "rerun";
        args[n++] = "rerun", args[n++] = learner, args[n++] = arg, args[n++] = "--yes", args[n++] = "--events";
        args[n++] = "--reason", args[n++] = "rerun from the console after the operator confirmed";
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
        args[n++] = "--reason", args[n++] = "reset from the console after the operator confirmed";
        snprintf(what, sizeof what, "reset to %s", arg);
        break;
    default:
        return;
    }
    args[n] = NULL;
    ui_job *j = ui_job_new(learner, action, what);
    if (kind == ACT_PLAN) j->dry_run = 1;
    if (spawn_job(j, args) < 0) {
        ui_job_log(j, "error", "could not start the job process (fork/pipe failed)");
        j->finished = j->exited = 1;
        snprintf(j->outcome, sizeof j->outcome, "errored");
        msg(UR_FAILED, "could not start %s for %s: %s", what, learner, strerror(errno));
    }
    add_job(j);
    C.dirty = 1;
}

/* Queues an action; the batch runner starts at most `workers` at a time. */
static void queue_action(const char *learner, act_kind kind, const char *arg)
{
    queued_action *nq = realloc(C.queue, (C.n_queue + 1) * sizeof *nq);
    if (!nq) abort();
    C.queue = nq;
    C.queue[C.n_queue].learner = xstrdup(learner);
    C.queue[C.n_queue].kind = kind;
    C.queue[C.n_queue].arg = arg ? xstrdup(arg) : NULL;
    C.n_queue++;
}

static void run_queue(void)
{
    size_t running = running_jobs();
    while (C.n_queue && running < (size_t)C.workers) {
        queued_action a = C.queue[0];
        memmove(C.queue, C.queue + 1, (C.n_queue - 1) * sizeof *C.queue);
        C.n_queue--;
        if (job_for(a.learner, 1)) {
            msg(UR_WARNING, "skipped %s: a job for this learner is already running", a.learner);
        } else {
            start_action(a.learner, a.kind, a.arg, NULL, NULL);
            running++;
        }
        free(a.learner);
        free(a.arg);
    }
}

static void on_job_readable(ui_job *j, int stream)
{
    int fd = stream ? j->err_fd : j->out_fd;
    char chunk[16384];
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            ui_job_feed(j, stream, chunk, (size_t)n, now_ms());
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        close(fd);
        if (stream) j->err_fd = -1;
        else j->out_fd = -1;
        break;
    }
    C.dirty = 1;
}

static void reap_jobs(void)
{
    for (size_t i = 0; i < C.n_jobs; i++) {
        ui_job *j = C.jobs[i];
        if (j->exited || j->pid <= 0 || j->out_fd >= 0 || j->err_fd >= 0) continue;
        int st;
        pid_t r = waitpid(j->pid, &st, WNOHANG);
        if (r == j->pid) {
            ui_job_exited(j, st, now_ms());
            C.dirty = 1;
            if (strcmp(j->outcome, "errored") == 0 || strcmp(j->outcome, "refused") == 0)
                msg(UR_FAILED, "%s %s: %s", j->what, j->learner, j->result_message ? j->result_message : j->outcome);
            else
                msg(strcmp(j->outcome, "planned") == 0 ? UR_DRY_RUN : UR_DONE, "%s %s: %s", j->what, j->learner,
                    j->outcome);
            /* states changed: refresh the list and the open record soon */
            if (!j->dry_run) {
                C.next_refresh_ms = now_ms();
                if (C.fetch_pid > 0) C.refetch = 1; /* that fetch may predate the job's last PATCH */
            }
            if (C.detail && strcmp(C.detail, j->learner) == 0) start_status(C.detail);
        }
    }
}

/* ---------- dialogs ---------- */

static void dialog_clear(void)
{
    for (size_t i = 0; i < C.dlg.n_lines; i++) free(C.dlg.lines[i]);
    free(C.dlg.lines);
    for (size_t i = 0; i < C.dlg.n_learners; i++) free(C.dlg.learners[i]);
    free(C.dlg.learners);
    free(C.dlg.arg), free(C.dlg.arg2), free(C.dlg.arg3);
    memset(&C.dlg, 0, sizeof C.dlg);
    C.dirty = 1;
}

static void dlg_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void dlg_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf sb = STRBUF_INIT;
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    char **nl = realloc(C.dlg.lines, (C.dlg.n_lines + 1) * sizeof *nl);
    if (!nl) abort();
    C.dlg.lines = nl;
    C.dlg.lines[C.dlg.n_lines++] = ui_text_sanitize(sb_str(&sb), (size_t)-1);
    sb_free(&sb);
}

static void dlg_add_learner(const char *name)
{
    char **nl = realloc(C.dlg.learners, (C.dlg.n_learners + 1) * sizeof *nl);
    if (!nl) abort();
    C.dlg.learners = nl;
    C.dlg.learners[C.dlg.n_learners++] = xstrdup(name);
}

/* Why retire (or resume) would refuse a learner in state, or NULL when it would run. */
static const char *refusal(const char *state, int resume)
{
    if (!state) return NULL;
    int end = !strcmp(state, "COMPLETE") || !strcmp(state, "ABORTED") || !strcmp(state, "ERRORED");
    int working = ui_pipe_step_of_start(&C.pipe, state) >= 0;
    int queued = !strcmp(state, "PENDING") || ui_pipe_step_of_end(&C.pipe, state) >= 0;
    if (!resume) {
        if (!strcmp(state, "ERRORED")) return "is ERRORED: retire refuses end states (exit 254); resume (u) puts it back before the failed step";
        if (end) return "is in an end state: retire refuses it (exit 254)";
        if (working) return "is in a working state: retire refuses it (exit 253); resume (u) if it is stuck";
        if (!queued) return "is in a state the pipeline does not know: retire refuses it (exit 250)";
        return NULL;
    }
    if (!strcmp(state, "COMPLETE") || !strcmp(state, "ABORTED")) return "is COMPLETE or ABORTED: resume refuses it (exit 254)";
    if (queued) return "has nothing to resume (PENDING or a completed step): use retire (r)";
    if (!end && !working) return "is in a state the pipeline does not know: resume refuses it (exit 250)";
    return NULL;
}

/* Describes what retiring/resuming name will do, step by step, from its current state. */
static void describe_retire(const char *name, int resume)
{
    const char *state = learner_state(name), *last = learner_last_state(name);
    if (!state) {
        dlg_line("  %s: not in the current list; the engine reads its state first", name);
        return;
    }
    const char *no = refusal(state, resume);
    if (no) {
        dlg_line("  %s %s; nothing is done for it.", name, no);
        return;
    }
    int from = 0; /* first step that runs */
    int k;
    if (resume) {
        if (strcmp(state, "ERRORED") == 0 || strcmp(state, "ABORTED") == 0) {
            if ((k = ui_pipe_step_of_start(&C.pipe, last)) >= 0) from = k;
            else if ((k = ui_pipe_step_of_end(&C.pipe, last)) >= 0) from = k + 1;
        } else if ((k = ui_pipe_step_of_start(&C.pipe, state)) >= 0) {
            from = k;
        } else if ((k = ui_pipe_step_of_end(&C.pipe, state)) >= 0) {
            from = k + 1;
        }
        const char *back = from == 0 ? "PENDING" : C.pipe.end[from - 1];
        dlg_line("  %s: now %s (last %s); forced back to %s (PATCH force), then retired from step %d", name, state,
                 last && *last ? last : "-", back, from + 1);
    } else {
        if ((k = ui_pipe_step_of_end(&C.pipe, state)) >= 0) from = k + 1;
        dlg_line("  %s: now %s", name, state);
    }
    for (size_t i = 0; i < C.pipe.n; i++) {
        if ((int)i < from)
            dlg_line("    %zu. skip  %s -> %s  %s.%s (completed in a previous run)", i + 1, C.pipe.start[i],
                     C.pipe.end[i], C.pipe.driver[i], C.pipe.method[i]);
        else
            dlg_line("    %zu. run   PATCH %s, call %s.%s, PATCH %s", i + 1, C.pipe.start[i], C.pipe.driver[i],
                     C.pipe.method[i], C.pipe.end[i]);
    }
    dlg_line("    then PATCH COMPLETE; on any failure PATCH ERRORED with the reason");
}

static void open_dialog(act_kind kind, const char *title)
{
    C.dlg.active = 1;
    C.dlg.kind = kind;
    snprintf(C.dlg.title, sizeof C.dlg.title, "%s", title);
    C.dlg.typed = C.production && kind != ACT_CANCEL && kind != ACT_QUIT;
    if (C.dlg.typed) {
        if (C.dlg.n_learners == 1) snprintf(C.dlg.expect, sizeof C.dlg.expect, "%s", C.dlg.learners[0]);
        else snprintf(C.dlg.expect, sizeof C.dlg.expect, "%zu", C.dlg.n_learners);
    }
    C.dlg.input[0] = '\0';
    C.dirty = 1;
}

/* Targets of an action: the marked learners in the list (if any), else the selected one. */
static size_t collect_targets(void)
{
    if (C.view == V_LIST && C.have_store && ui_store_marked(&C.store) > 0) {
        for (size_t i = 0; i < C.store.n; i++)
            if (C.store.v[i].marked) dlg_add_learner(ui_store_name(&C.store, &C.store.v[i]));
    } else {
        const char *n = selected_name();
        if (n) dlg_add_learner(n);
    }
    return C.dlg.n_learners;
}

/* (Re)builds the lines of a retire/resume dialog from the learners' current states. */
static void describe_retire_dialog(int resume)
{
    size_t n = C.dlg.n_learners;
    for (size_t i = 0; i < n && i < 20; i++) describe_retire(C.dlg.learners[i], resume);
    if (n > 20) dlg_line("  ... and %zu more learners", n - 20);
    if (n > 1) dlg_line("Runs `retirectl %s USER --events` for each, %d at a time (console.workers).",
                        resume ? "resume" : "retire", C.workers);
    else dlg_line("Runs `retirectl %s %s%s --events`.", resume ? "resume" : "retire", C.dlg.learners[0],
                  resume ? " --yes" : "");
    dlg_line("Personal data at every service in the pipeline is deleted; this cannot be undone.");
}

static void ask_retire(int resume)
{
    dialog_clear();
    if (!collect_targets()) {
        msg(UR_WARNING, "no learner selected");
        return;
    }
    size_t n = C.dlg.n_learners;
    const char *no = n == 1 ? refusal(learner_state(C.dlg.learners[0]), resume) : NULL;
    if (no) {
        msg(UR_WARNING, "%s %s", C.dlg.learners[0], no);
        dialog_clear();
        return;
    }
    char title[160];
    snprintf(title, sizeof title, "%s %zu learner%s?", resume ? "Resume" : "Retire", n, n == 1 ? "" : "s");
    describe_retire_dialog(resume);
    open_dialog(resume ? ACT_RESUME : ACT_RETIRE, title);
}

/* After a refresh, an open retire/resume dialog describes the new states (what will happen now). */
static void redescribe_dialog(void)
{
    if (!C.dlg.active || (C.dlg.kind != ACT_RETIRE && C.dlg.kind != ACT_RESUME)) return;
    for (size_t i = 0; i < C.dlg.n_lines; i++) free(C.dlg.lines[i]);
    C.dlg.n_lines = 0;
    describe_retire_dialog(C.dlg.kind == ACT_RESUME);
    C.dirty = 1;
}

static void ask_rerun(const char *learner, const char *driver, const char *method)
{
    dialog_clear();
    if (!learner) {
        msg(UR_WARNING, "open a learner first (Enter), then pick the step or driver method to rerun");
        return;
    }
    dlg_add_learner(learner);
    char dm[256];
    snprintf(dm, sizeof dm, "%s.%s", driver, method);
    C.dlg.arg = xstrdup(dm);
    int step = -1;
    for (size_t i = 0; i < C.pipe.n; i++)
        if (strcmp(C.pipe.driver[i], driver) == 0 && strcmp(C.pipe.method[i], method) == 0) step = (int)i;
    const char *state = learner_state(learner);
    dlg_line("Learner %s, now %s.", learner, state ? state : "(not in the current list)");
    if (step >= 0)
        dlg_line("Step %d: PATCH %s, call %s, then PATCH %s on success or ERRORED with the reason on failure.",
                 step + 1, C.pipe.start[step], dm, C.pipe.end[step]);
    else
        dlg_line("Calls %s once for this learner (not a pipeline step: the state is not changed).", dm);
    dlg_line("Runs `retirectl rerun %s %s --yes --events`.", learner, dm);
    char title[300];
    snprintf(title, sizeof title, "Rerun %s for %s?", dm, learner);
    open_dialog(ACT_RERUN, title);
}

static void ask_cancel(void)
{
    dialog_clear();
    const char *name = selected_name();
    ui_job *j = name ? job_for(name, 1) : NULL;
    if (!j || j->exited) {
        /* not started yet (waiting for a worker): just take it out of the queue */
        for (size_t i = 0; name && i < C.n_queue; i++) {
            if (strcmp(C.queue[i].learner, name) != 0) continue;
            free(C.queue[i].learner);
            free(C.queue[i].arg);
            memmove(C.queue + i, C.queue + i + 1, (C.n_queue - i - 1) * sizeof *C.queue);
            C.n_queue--;
            msg(UR_WARNING, "%s taken out of the queue: nothing was started for it", name);
            return;
        }
        msg(UR_WARNING, "no running job for %s", name ? name : "the selection");
        return;
    }
    dlg_add_learner(name);
    C.dlg.cancel_pid = j->pid;
    const char *step = "?";
    for (size_t i = 0; i < j->n_steps; i++)
        if (j->steps[i].status == UI_STEP_RUNNING || j->steps[i].status == UI_STEP_RETRYING)
            step = j->steps[i].start_state ? j->steps[i].start_state : "?";
    dlg_line("Sends SIGINT to the %s job (pid %d) for %s.", j->what, (int)j->pid, name);
    dlg_line("The engine finishes the step in flight (%s), records its end state, then stops.", step);
    dlg_line("The learner stays in that state; resume (u) continues later.");
    char title[300];
    snprintf(title, sizeof title, "Cancel the %s job for %s?", j->what, name);
    open_dialog(ACT_CANCEL, title);
}

static void ask_reset_pick(void)
{
    const char *name = selected_name();
    if (!name) {
        msg(UR_WARNING, "no learner selected");
        return;
    }
    const char *state = learner_state(name), *last = learner_last_state(name);
    if (!state) {
        msg(UR_WARNING, "%s is not in the current list; refresh first", name);
        return;
    }
    for (size_t i = 0; i < C.pk.n; i++) free(C.pk.labels[i]), free(C.pk.values[i]);
    free(C.pk.labels), free(C.pk.values), free(C.pk.learner);
    memset(&C.pk, 0, sizeof C.pk);
    size_t cap = C.pipe.n + 4;
    C.pk.labels = calloc(cap, sizeof(char *));
    C.pk.values = calloc(cap, sizeof(char *));
    if (!C.pk.labels || !C.pk.values) abort();
    char label[300];
#define PICK(value, ...)                                                                                     \
    do {                                                                                                     \
        int seen_ = 0;                                                                                       \
        for (size_t q_ = 0; q_ < C.pk.n; q_++) seen_ |= strcmp(C.pk.values[q_], value) == 0;                \
        if (seen_ || strcmp(value, state) == 0) break;                                                       \
        snprintf(label, sizeof label, __VA_ARGS__);                                                          \
        C.pk.labels[C.pk.n] = ui_text_sanitize(label, (size_t)-1);                                           \
        C.pk.values[C.pk.n] = xstrdup(value);                                                                \
        C.pk.n++;                                                                                            \
    } while (0)
    if (last && *last && strcmp(last, state) != 0) PICK(last, "%s  (rewind to the last state)", last);
    PICK("PENDING", "PENDING  (start over: every step runs again)");
    for (size_t i = 0; i < C.pipe.n && C.pk.n < cap - 1; i++)
        if (strcmp(C.pipe.end[i], state) != 0)
            PICK(C.pipe.end[i], "%s  (before step %zu, %s.%s)", C.pipe.end[i], i + 2 <= C.pipe.n ? i + 2 : i + 1,
                 i + 1 < C.pipe.n ? C.pipe.driver[i + 1] : "COMPLETE", i + 1 < C.pipe.n ? C.pipe.method[i + 1] : "");
    PICK("ABORTED", "ABORTED  (give up on this learner)");
    if (!C.pk.n) {
        msg(UR_WARNING, "no other state to reset %s to", name);
        return;
    }
#undef PICK
    C.pk.learner = xstrdup(name);
    C.pk.active = 1;
    snprintf(C.pk.title, sizeof C.pk.title, "Reset the state of the learner (now %.60s) to:", state);
    C.dirty = 1;
}

static void ask_reset(const char *learner, const char *new_state)
{
    dialog_clear();
    ui_learner *l = find_learner(learner);
    if (!l) {
        msg(UR_WARNING, "%s is not in the current list; refresh first", learner);
        return;
    }
    const char *state = ui_store_state(&C.store, l->state);
    char date[16];
    time_t created = (time_t)l->created;
    struct tm tm;
    gmtime_r(&created, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    dlg_add_learner(learner);
    C.dlg.arg = xstrdup(new_state);
    C.dlg.arg2 = xstrdup(state);
    C.dlg.arg3 = xstrdup(date);
    dlg_line("Forced state update of %s: %s -> %s.", learner, state, new_state);
    dlg_line("Runs `retirectl reset --initial-state %s --new-state %s --start-date %s --end-date %s`,", state, new_state,
             date, date);
    dlg_line("which moves EVERY learner in %s whose request was created on %s:", state, date);
    size_t others = 0;
    for (size_t i = 0; i < C.store.n; i++) {
        const ui_learner *o = &C.store.v[i];
        if (o == l || o->state != l->state) continue;
        time_t oc = (time_t)o->created;
        struct tm otm;
        gmtime_r(&oc, &otm);
        if (otm.tm_year == tm.tm_year && otm.tm_yday == tm.tm_yday) {
            if (others < 10) dlg_line("  also %s", ui_store_name(&C.store, o));
            others++;
        }
    }
    if (others > 10) dlg_line("  ... and %zu more", others - 10);
    dlg_line(others ? "%zu other learner%s will move too (as listed now)." : "No other learner in the list matches.",
             others, others == 1 ? "" : "s");
    char title[300];
    snprintf(title, sizeof title, "Reset %s to %s?", learner, new_state);
    open_dialog(ACT_RESET, title);
}

static void confirm_dialog(void)
{
    dialog d = C.dlg;
    memset(&C.dlg, 0, sizeof C.dlg);
    switch (d.kind) {
    case ACT_RETIRE:
    case ACT_RESUME:
        for (size_t i = 0; i < d.n_learners; i++) queue_action(d.learners[i], d.kind, NULL);
        if (C.have_store)
            for (size_t i = 0; i < C.store.n; i++) C.store.v[i].marked = 0;
        run_queue();
        msg(UR_RUNNING, "%s started for %zu learner%s", d.kind == ACT_RETIRE ? "retire" : "resume", d.n_learners,
            d.n_learners == 1 ? "" : "s");
        break;
    case ACT_RERUN:
        start_action(d.learners[0], ACT_RERUN, d.arg, NULL, NULL);
        break;
    case ACT_RESET:
        start_action(d.learners[0], ACT_RESET, d.arg, d.arg2, d.arg3);
        break;
    case ACT_CANCEL:
        for (size_t i = 0; i < C.n_jobs; i++)
            if (C.jobs[i]->pid == d.cancel_pid && !C.jobs[i]->exited) {
                kill(d.cancel_pid, SIGINT);
                C.jobs[i]->cancel_sent = 1;
                ui_job_log(C.jobs[i], "warn", "cancel requested (SIGINT): stopping after the step in flight");
                msg(UR_WARNING, "cancel sent to the %s job for %s", C.jobs[i]->what, C.jobs[i]->learner);
            }
        break;
    case ACT_QUIT:
        C.quit = 1;
        break;
    default:
        break;
    }
    C.dlg = d;
    dialog_clear();
}

static void decline_dialog(void)
{
    act_kind k = C.dlg.kind;
    dialog_clear();
    if (k != ACT_QUIT) msg(UR_MUTED, "cancelled: nothing was changed");
}

/* ---------- views: opening ---------- */

static void open_detail(const char *name)
{
    free(C.detail);
    C.detail = xstrdup(name);
    C.view = V_DETAIL;
    C.detail_sel = 0;
    C.log_scroll = 0;
    for (size_t i = 0; i < C.n_fields; i++) free(C.fields[i].key), free(C.fields[i].value);
    C.n_fields = 0;
    C.status_error[0] = '\0';
    start_status(name);
    const char *state = learner_state(name);
    int k = state ? ui_pipe_step_of_start(&C.pipe, state) : -1;
    if (k < 0 && state) k = ui_pipe_step_of_start(&C.pipe, learner_last_state(name));
    if (k >= 0) C.detail_sel = k;
    C.dirty = 1;
}

static void open_drivers(void)
{
    C.drivers_back = C.view;
    free(C.drivers_for);
    const char *n = selected_name();
    C.drivers_for = n ? xstrdup(n) : NULL;
    C.view = V_DRIVERS;
    C.drv_sel = C.drv_top = 0;
    start_drivers();
    C.dirty = 1;
}

/* ---------- drawing ---------- */

static void draw_tabs(const ui_screen_layout *L)
{
    fill_row(L->tabs_row, UR_TAB);
    int x = 0;
    for (int t = 0; t < UI_TAB_COUNT && x < COLS; t++) {
        char label[64];
        size_t count = C.have_store ? C.store.n_rows[t] : 0, total = C.have_store ? C.store.total[t] : 0;
        if (C.filter[0] && count != total) snprintf(label, sizeof label, " %d %s %zu/%zu ", t + 1, ui_tab_title(t), count, total);
        else snprintf(label, sizeof label, " %d %s (%zu) ", t + 1, ui_tab_title(t), total);
        if (COLS < 70) snprintf(label, sizeof label, " %d%.4s %zu ", t + 1, ui_tab_title(t), C.filter[0] ? count : total);
        int w = ui_text_width(label);
        put(L->tabs_row, x, w, t == (int)C.tab ? UR_TAB_ACTIVE : (t == UI_TAB_FAILED && total ? UR_FAILED : UR_TAB),
            label, 0);
        x += w + 1;
    }
}

static int max_state_width(void)
{
    int w = 5;
    for (size_t i = 0; C.have_store && i < C.store.n_states; i++) {
        int sw = ui_text_width(C.store.states[i]);
        if (sw > w) w = sw;
    }
    return w;
}

static ui_role state_role(const char *state, ui_tab tab)
{
    if (tab == UI_TAB_FAILED) return UR_FAILED;
    if (tab == UI_TAB_STUCK) return UR_RETRYING;
    if (tab == UI_TAB_COMPLETE) return strcmp(state, "ABORTED") == 0 ? UR_MUTED : UR_DONE;
    if (tab == UI_TAB_PENDING) return UR_PENDING;
    return UR_QUEUED;
}

static void draw_list(const ui_screen_layout *L)
{
    ui_column cols[UI_COL_COUNT];
    int nc = ui_layout_columns(COLS, max_state_width(), cols);
    fill_row(L->header_row, UR_HEADER);
    for (int c = 0; c < nc; c++) put(L->header_row, cols[c].x, cols[c].width, UR_HEADER, cols[c].title, 1);
    size_t n = C.have_store ? C.store.n_rows[C.tab] : 0;
    if (!C.have_store || n == 0) {
        const char *t = !C.have_store ? (C.fetch_error[0] ? C.fetch_error : "loading learners...")
                        : C.filter[0] ? "no learner matches the filter" : "no learners in this tab";
        put(L->list_top + 1, 2, COLS - 4, C.fetch_error[0] && !C.have_store ? UR_FAILED : UR_MUTED, t, 0);
        return;
    }
    size_t *sel = &C.sel[C.tab], *top = &C.top[C.tab];
    if (*sel >= n) *sel = n - 1;
    size_t rows = (size_t)L->list_rows;
    if (*sel < *top) *top = *sel;
    if (*sel >= *top + rows) *top = *sel - rows + 1;
    if (*top + rows > n) *top = n > rows ? n - rows : 0;
    time_t now = time(NULL);
    for (size_t r = 0; r < rows && *top + r < n; r++) {
        const ui_learner *l = &C.store.v[C.store.rows[C.tab][*top + r]];
        int y = L->list_top + (int)r;
        int is_sel = *top + r == *sel;
        const char *name = ui_store_name(&C.store, l), *state = ui_store_state(&C.store, l->state);
        ui_job *j = job_for(name, 1);
        if (is_sel) fill_row(y, UR_SELECTION);
        for (int c = 0; c < nc; c++) {
            char buf[64];
            const char *text = buf;
            ui_role role = is_sel ? UR_SELECTION : UR_NORMAL;
            switch (cols[c].id) {
            case UI_COL_MARK:
                text = l->marked ? "* " : j ? "> " : "  ";
                if (!is_sel && l->marked) role = UR_MARKED;
                else if (!is_sel && j) role = UR_RUNNING;
                break;
            case UI_COL_USERNAME:
                text = name;
                break;
            case UI_COL_STATE:
                text = state;
                if (!is_sel) role = state_role(state, (ui_tab)l->tab);
                break;
            case UI_COL_STEP: {
                int a, b;
                ui_pipe_position(&C.pipe, state, ui_store_state(&C.store, l->last_state), &a, &b);
                snprintf(buf, sizeof buf, "%d/%d", a, b);
                break;
            }
            case UI_COL_AGE:
                if (l->created) ui_format_age(now - l->created, buf, sizeof buf);
                else snprintf(buf, sizeof buf, "-");
                break;
            case UI_COL_CHANGED: {
                char a[16];
                if (l->modified) ui_format_age(now - l->modified, a, sizeof a), snprintf(buf, sizeof buf, "%s ago", a);
                else snprintf(buf, sizeof buf, "-");
                break;
            }
            default:
                buf[0] = '\0';
            }
            put(y, cols[c].x, cols[c].width, role, text, 1);
        }
    }
}

/* Status of pipeline step i for the open learner: from its job if one ran, else from its state. */
static ui_step_status derived_status(size_t i, const char *state, const char *last, const char **note)
{
    *note = "";
    if (!state) return UI_STEP_PENDING;
    if (strcmp(state, "COMPLETE") == 0) return UI_STEP_DONE;
    int k;
    if ((k = ui_pipe_step_of_end(&C.pipe, state)) >= 0) return (int)i <= k ? UI_STEP_DONE : UI_STEP_PENDING;
    if ((k = ui_pipe_step_of_start(&C.pipe, state)) >= 0) {
        if ((int)i < k) return UI_STEP_DONE;
        if ((int)i == k) return *note = "in this working state, no job here: stuck?", UI_STEP_RUNNING;
        return UI_STEP_PENDING;
    }
    if (strcmp(state, "ERRORED") == 0 || strcmp(state, "ABORTED") == 0) {
        int f = ui_pipe_step_of_start(&C.pipe, last);
        if (f < 0 && (f = ui_pipe_step_of_end(&C.pipe, last)) >= 0) f++;
        if (f < 0) return UI_STEP_PENDING;
        if ((int)i < f) return UI_STEP_DONE;
        if ((int)i == f)
            return *note = strcmp(state, "ABORTED") == 0 ? "aborted here" : "failed here; the reason is in the LMS "
                                                                              "record's responses (resume with u)",
                   UI_STEP_FAILED;
    }
    return UI_STEP_PENDING;
}

static ui_role status_role(ui_step_status s)
{
    switch (s) {
    case UI_STEP_RUNNING: return UR_RUNNING;
    case UI_STEP_RETRYING: return UR_RETRYING;
    case UI_STEP_DONE: return UR_DONE;
    case UI_STEP_SKIPPED: return UR_SKIPPED;
    case UI_STEP_FAILED: return UR_FAILED;
    default: return UR_QUEUED;
    }
}

static const char *status_icon(ui_step_status s)
{
    static const char *const icons[] = {"[ ]", "[>]", "[~]", "[x]", "[-]", "[!]"};
    return (s >= 0 && s <= UI_STEP_FAILED) ? icons[s] : "[?]";
}

static void draw_detail(const ui_screen_layout *L)
{
    const char *name = C.detail;
    const ui_learner *l = find_learner(name);
    const char *state = learner_state(name);
    const char *last = learner_last_state(name);
    ui_job *j = job_for(name, 0);
    int area_rows = L->list_rows + 1; /* header row + list rows */
    int top = L->header_row;
    ui_detail_layout D = ui_layout_detail(area_rows, COLS, (int)C.pipe.n, (int)C.n_fields);
    /* header */
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "Learner %s", name);
    fill_row(top, UR_HEADER);
    put(top, 0, COLS, UR_HEADER, sb_str(&sb), 0);
    sb_reset(&sb);
    if (D.header_rows > 1) {
        if (l) {
            int a, b;
            ui_pipe_position(&C.pipe, state, last, &a, &b);
            char age[16];
            ui_format_age(time(NULL) - l->created, age, sizeof age);
            sb_addf(&sb, "state %s (last %s)  step %d/%d  retirement id %u  user id %u  requested %s ago", state,
                    last && *last ? last : "-", a, b, l->retirement_id, l->user_id, age);
        } else {
            sb_add(&sb, "not in the current list (it may have moved; refreshing)");
        }
        put(top + 1, 0, COLS, UR_NORMAL, sb_str(&sb), 1);
    }
    sb_free(&sb);
    /* pipeline */
    int use_job = j && j->n_steps > 0 && (strcmp(j->action, "retire") == 0 || strcmp(j->action, "resume") == 0 ||
                                          strcmp(j->action, "plan") == 0);
    int pw = D.fields_width ? D.fields_x - 1 : COLS;
    int py = top + D.pipe_top;
    char title[200];
    if (use_job)
        snprintf(title, sizeof title, "Pipeline: %s job %s%s", j->what,
                 j->finished ? j->outcome : "running", j->dry_run ? "  [DRY-RUN: nothing is changed]" : "");
    else
        snprintf(title, sizeof title, "Pipeline (from the learner's state)");
    put(py, 0, pw, use_job && j->dry_run ? UR_DRY_RUN : UR_HEADER, title, 1);
    int steps_rows = D.pipe_rows - 1;
    if (C.detail_sel >= (int)C.pipe.n) C.detail_sel = C.pipe.n ? (int)C.pipe.n - 1 : 0;
    int first = 0;
    if (steps_rows > 0 && C.detail_sel >= steps_rows) first = C.detail_sel - steps_rows + 1;
    double t = now_ms();
    int label_w = 0;
    for (size_t i = 0; i < C.pipe.n; i++) {
        char line[900];
        if (pw >= 150)
            snprintf(line, sizeof line, "[ ] %zu. %s -> %s  %s.%s", i + 1, C.pipe.start[i], C.pipe.end[i],
                     C.pipe.driver[i], C.pipe.method[i]);
        else
            snprintf(line, sizeof line, "[ ] %zu. %s  %s.%s", i + 1, C.pipe.start[i], C.pipe.driver[i], C.pipe.method[i]);
        int w = ui_text_width(line) + 2;
        if (w > label_w) label_w = w;
    }
    if (label_w > pw * 3 / 5) label_w = pw * 3 / 5;
    for (int r = 0; r < steps_rows && first + r < (int)C.pipe.n; r++) {
        size_t i = (size_t)(first + r);
        const char *note = "";
        ui_step_status st;
        const ui_job_step *js = use_job && i < j->n_steps ? &j->steps[i] : NULL;
        char extra[600] = "";
        if (js) {
            st = js->status;
            if (j->dry_run) {
                snprintf(extra, sizeof extra, "plan: %s%s%s", js->plan[0] ? js->plan : "?",
                         js->message ? " - " : "", js->message ? js->message : "");
                if (js->n_requests) {
                    size_t el = strlen(extra);
                    snprintf(extra + el, sizeof extra - el, "  => %s%s", js->requests[0],
                             js->n_requests > 1 ? " ..." : "");
                }
                st = strcmp(js->plan, "fail") == 0 ? UI_STEP_FAILED
                     : strcmp(js->plan, "skip") == 0 ? UI_STEP_SKIPPED : UI_STEP_PENDING;
            } else if (st == UI_STEP_RUNNING) {
                snprintf(extra, sizeof extra, "running %.1f s%s%s", (t - js->since_ms) / 1000.0,
                         js->progress ? ": " : "", js->progress ? js->progress : "");
            } else if (st == UI_STEP_RETRYING) {
                double left = (js->retry_in_ms - (t - js->since_ms)) / 1000.0;
                snprintf(extra, sizeof extra, "retrying: attempt %d, next in %.1f s: %s", js->attempt,
                         left > 0 ? left : 0, js->message ? js->message : "");
            } else if (st == UI_STEP_DONE) {
                snprintf(extra, sizeof extra, "done in %.1f s%s%s", js->elapsed_ms / 1000.0,
                         js->message && *js->message ? ": " : "", js->message ? js->message : "");
            } else if (st == UI_STEP_FAILED) {
                snprintf(extra, sizeof extra, "FAILED: %s", js->message ? js->message : "(no message)");
            } else if (st == UI_STEP_SKIPPED) {
                snprintf(extra, sizeof extra, "skipped (completed in a previous run)");
            } else {
                snprintf(extra, sizeof extra, "pending");
            }
        } else {
            st = derived_status(i, state, last, &note);
            snprintf(extra, sizeof extra, "%s%s%s", ui_step_status_name(st), *note ? ": " : "", note);
            if (st == UI_STEP_RUNNING) st = UI_STEP_RUNNING;
        }
        char line[900];
        if (pw >= 150)
            snprintf(line, sizeof line, "%s %zu. %s -> %s  %s.%s", status_icon(st), i + 1, C.pipe.start[i],
                     C.pipe.end[i], C.pipe.driver[i], C.pipe.method[i]);
        else
            snprintf(line, sizeof line, "%s %zu. %s  %s.%s", status_icon(st), i + 1, C.pipe.start[i],
                     C.pipe.driver[i], C.pipe.method[i]);
        int y = py + 1 + r;
        int is_sel = (int)i == C.detail_sel;
        int lw = label_w;
        put(y, 0, lw - 1, is_sel ? UR_SELECTION : status_role(st), line, 1);
        put(y, lw - 1, 1, is_sel ? UR_SELECTION : UR_NORMAL, " ", 1);
        put(y, lw, pw - lw, is_sel ? UR_SELECTION : status_role(st), extra, 1);
    }
    /* record fields */
    if (D.fields_rows > 0) {
        int fx = D.fields_width ? D.fields_x : 0, fw = D.fields_width ? D.fields_width : COLS;
        int fy = top + D.fields_top;
        put(fy, fx, fw, UR_HEADER, C.status_pid > 0 ? "Record (loading...)" : "Record", 1);
        if (C.status_error[0]) put(fy + 1, fx, fw, UR_FAILED, C.status_error, 1);
        int k = 0;
        for (int r = C.status_error[0] ? 2 : 1; r < D.fields_rows && k < (int)C.n_fields; r++, k++) {
            char line[1200];
            snprintf(line, sizeof line, "%s: %s", C.fields[k].key, C.fields[k].value);
            put(fy + r, fx, fw, UR_NORMAL, line, 1);
        }
    }
    /* job log */
    if (D.log_rows > 0) {
        int ly = top + D.log_top;
        int lw = D.fields_width ? D.fields_x - 1 : COLS;
        char lt[200];
        if (j) snprintf(lt, sizeof lt, "Job log: %s (%s)%s", j->what, j->finished ? j->outcome : "running",
                        C.log_scroll ? "  [scrolled: End returns]" : "");
        else snprintf(lt, sizeof lt, "Job log: no job for this learner in this session");
        put(ly, 0, lw, UR_HEADER, lt, 1);
        if (j) {
            /* the newest entries that fit, long ones wrapped (debug lines stay one row) */
            int lines = D.log_rows - 1;
            size_t n = j->n_log;
            if (C.log_scroll > (int)n) C.log_scroll = (int)n;
            size_t end = n - (size_t)C.log_scroll;
            char **rows = calloc((size_t)(lines > 0 ? lines : 1), sizeof *rows);
            ui_role *roles = calloc((size_t)(lines > 0 ? lines : 1), sizeof *roles);
            if (!rows || !roles) abort();
            int fill = lines; /* rows[fill..lines) are used, filled from the bottom */
            for (size_t i = end; i-- > 0 && fill > 0;) {
                const char *line = ui_job_log_line(j, i);
                ui_role role = strncmp(line, "[error]", 7) == 0 ? UR_FAILED
                               : strncmp(line, "[warn]", 6) == 0 ? UR_RETRYING
                               : strncmp(line, "[stderr]", 8) == 0 || strncmp(line, "[debug]", 7) == 0 ? UR_MUTED
                                                                                                   : UR_NORMAL;
                char **pieces;
                size_t np;
                if (role == UR_MUTED) {
                    pieces = malloc(sizeof *pieces);
                    if (!pieces) abort();
                    pieces[0] = xstrdup(line);
                    np = 1;
                } else {
                    np = wrap_text(line, lw, &pieces);
                }
                for (size_t k = np; k-- > 0;) {
                    if (fill > 0) {
                        rows[--fill] = pieces[k];
                        roles[fill] = role;
                    } else {
                        free(pieces[k]);
                    }
                }
                free(pieces);
            }
            for (int r = fill; r < lines; r++) {
                put(ly + 1 + (r - fill), 0, lw, roles[r], rows[r], 1);
                free(rows[r]);
            }
            free(rows);
            free(roles);
        }
    }
}

static void draw_drivers(const ui_screen_layout *L)
{
    int top = L->header_row;
    char title[300];
    snprintf(title, sizeof title, "Drivers%s%s  (x on a method reruns it for %s)", C.drivers_pid > 0 ? " (loading...)" : "",
             C.n_problems ? "  problems below" : "", C.drivers_for ? C.drivers_for : "the selected learner");
    fill_row(top, UR_HEADER);
    put(top, 0, COLS, UR_HEADER, title, 0);
    int rows = L->list_rows;
    size_t total = C.n_drivers + C.n_problems;
    if (C.drv_sel >= total && total) C.drv_sel = total - 1;
    if (C.drv_sel < C.drv_top) C.drv_top = C.drv_sel;
    if (C.drv_sel >= C.drv_top + (size_t)rows) C.drv_top = C.drv_sel - (size_t)rows + 1;
    for (int r = 0; r < rows && C.drv_top + (size_t)r < total; r++) {
        size_t i = C.drv_top + (size_t)r;
        int y = top + 1 + r;
        int sel = i == C.drv_sel;
        char line[1400];
        ui_role role = UR_NORMAL;
        if (i < C.n_drivers) {
            const driver_row *d = &C.drivers[i];
            if (d->method) {
                snprintf(line, sizeof line, "      %s.%s", d->name, d->method);
            } else {
                if (d->builtin) snprintf(line, sizeof line, "  %s %s  built-in", d->name, d->version);
                else snprintf(line, sizeof line, "  %s %s  %s:%d", d->name, d->version, d->source, d->line);
                role = d->error ? UR_FAILED : UR_HEADER;
                if (d->error) {
                    size_t l = strlen(line);
                    snprintf(line + l, sizeof line - l, "  LOAD ERROR: %s", d->error);
                }
            }
        } else {
            snprintf(line, sizeof line, "  problem: %s", C.problems[i - C.n_drivers]);
            role = UR_WARNING;
        }
        put(y, 0, COLS, sel ? UR_SELECTION : role, line, 1);
    }
    if (!total && C.drivers_pid <= 0) put(top + 2, 2, COLS - 4, UR_MUTED, "no drivers found", 0);
}

static void draw_status(const ui_screen_layout *L)
{
    fill_row(L->status_row, UR_STATUS);
    int x = 0;
    char buf[400];
    snprintf(buf, sizeof buf, " %s ", C.env[0] ? C.env : "no environment");
    int w = ui_text_width(buf);
    put(L->status_row, x, w, C.production ? UR_PRODUCTION : UR_STATUS, buf, 0);
    x += w;
    size_t run = running_jobs();
    char when[32] = "never";
    if (C.last_refresh_wall) {
        struct tm tm;
        localtime_r(&C.last_refresh_wall, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    }
    int plans = 0;
    for (size_t i = 0; i < C.n_jobs; i++) plans += C.jobs[i]->dry_run && !C.jobs[i]->exited;
    if (COLS >= 70)
        snprintf(buf, sizeof buf, " %s | jobs %zu%s | refreshed %s ", C.host, run,
                 C.n_queue ? " +queued" : "", when);
    else
        snprintf(buf, sizeof buf, " jobs %zu | %s ", run, when);
    w = ui_text_width(buf);
    put(L->status_row, x, COLS - x, UR_STATUS, buf, 0);
    x += w;
    if (C.o->read_only && x < COLS) {
        put(L->status_row, x, COLS - x, UR_WARNING, " READ-ONLY ", 0);
        x += 11;
    }
    if (plans && x < COLS) {
        put(L->status_row, x, COLS - x, UR_DRY_RUN, " DRY-RUN ", 0);
        x += 9;
    }
    if (C.fetch_error[0] && x < COLS) {
        put(L->status_row, x, COLS - x, UR_FAILED, " LMS ERROR ", 0);
        x += 11;
    }
    int busy = C.fetch_pid > 0 || C.status_pid > 0 || C.drivers_pid > 0 || run > 0;
    if (busy && COLS > 2) {
        static const char spin[] = "|/-\\";
        char b[4] = {spin[C.spin % 4], 0};
        put(L->status_row, COLS - 2, 1, UR_BUSY, b, 0);
    }
}

static void draw_message(const ui_screen_layout *L)
{
    int y = L->message_row;
    move(y, 0);
    clrtoeol();
    if (C.filter_editing) {
        char buf[300];
        snprintf(buf, sizeof buf, "/%s", C.filter);
        put(y, 0, COLS - 1, UR_DIALOG, buf, 0);
        return;
    }
    if (C.message[0] && now_ms() < C.message_until) {
        put(y, 0, COLS, C.message_role, C.message, 0);
        return;
    }
    if (C.fetch_error[0]) {
        put(y, 0, COLS, UR_FAILED, C.fetch_error, 0);
        return;
    }
    const char *hint;
    if (C.view == V_LIST)
        hint = C.o->read_only ? "? help  Enter open  / filter  p dry-run  d drivers  q quit"
                              : "? help  Enter open  r retire  u resume  p dry-run  Space mark  S reset  / filter  q quit";
    else if (C.view == V_DETAIL)
        hint = C.o->read_only ? "? help  Esc back  p dry-run  d drivers" :
                                "? help  Esc back  r retire  u resume  x rerun step  p dry-run  c cancel  S reset";
    else
        hint = C.o->read_only ? "? help  Esc back" : "? help  Esc back  x rerun method";
    char buf[512];
    if (C.filter[0]) snprintf(buf, sizeof buf, "[filter: %s]  %s", C.filter, hint);
    else snprintf(buf, sizeof buf, "%s", hint);
    put(y, 0, COLS, UR_MUTED, buf, 0);
}

/* A centered box; returns its geometry. */
static void draw_box(int h, int w, int *y0, int *x0, ui_role role)
{
    if (w > COLS) w = COLS;
    if (h > LINES) h = LINES;
    *y0 = (LINES - h) / 2;
    *x0 = (COLS - w) / 2;
    attrset(C.attr[role]);
    for (int r = 0; r < h; r++) mvhline(*y0 + r, *x0, ' ', w);
    if (w >= 2 && h >= 2) {
        mvhline(*y0, *x0, ACS_HLINE, w);
        mvhline(*y0 + h - 1, *x0, ACS_HLINE, w);
        mvvline(*y0, *x0, ACS_VLINE, h);
        mvvline(*y0, *x0 + w - 1, ACS_VLINE, h);
        mvaddch(*y0, *x0, ACS_ULCORNER);
        mvaddch(*y0, *x0 + w - 1, ACS_URCORNER);
        mvaddch(*y0 + h - 1, *x0, ACS_LLCORNER);
        mvaddch(*y0 + h - 1, *x0 + w - 1, ACS_LRCORNER);
    }
    attrset(C.attr[UR_NORMAL]);
}

/* Splits sanitized text into pieces of at most width cells, breaking at a space when one is near;
 * continuation pieces start with two spaces. Returns the count; pieces are malloc'd into out. */
static size_t wrap_text(const char *s, int width, char ***out)
{
    size_t n = 0;
    *out = NULL;
    const char *p = s;
    int first = 1;
    if (width < 8) width = 8;
    do {
        const char *indent = first ? "" : "  ";
        int avail = width - (first ? 0 : 2);
        int w = 0;
        const char *q = p, *space = NULL;
        while (*q) {
            unsigned cp;
            int len = ui_text_decode((const unsigned char *)q, strlen(q), &cp);
            if (len <= 0) len = 1;
            char tmp[8] = {0};
            memcpy(tmp, q, (size_t)len);
            int cw = ui_text_width(tmp);
            if (w + cw > avail) break;
            if (*q == ' ') space = q;
            w += cw;
            q += len;
        }
        const char *cut = q;
        if (*q && space && space > p + avail / 2) cut = space;
        char **grown = realloc(*out, (n + 1) * sizeof **out);
        if (!grown) abort();
        *out = grown;
        size_t len = (size_t)(cut - p);
        char *piece = malloc(len + 3);
        if (!piece) abort();
        snprintf(piece, len + 3, "%s%.*s", indent, (int)len, p);
        (*out)[n++] = piece;
        p = cut;
        while (*p == ' ' && !first) p++;
        if (*p == ' ') p++;
        first = 0;
    } while (*p);
    return n;
}

static void draw_dialog(void)
{
    int w = COLS - 4 > 110 ? 110 : COLS - 4;
    if (w < 10) w = COLS;
    /* wrap every line to the box */
    char **wrapped = NULL;
    size_t nw = 0;
    for (size_t i = 0; i < C.dlg.n_lines; i++) {
        char **pieces;
        size_t np = wrap_text(C.dlg.lines[i], w - 2, &pieces);
        char **grown = realloc(wrapped, (nw + np) * sizeof *wrapped);
        if (!grown) abort();
        wrapped = grown;
        memcpy(wrapped + nw, pieces, np * sizeof *pieces);
        nw += np;
        free(pieces);
    }
    int body = (int)nw;
    int h = body + 5;
    if (h > LINES) h = LINES;
    int y0, x0;
    draw_box(h, w, &y0, &x0, C.production ? UR_PRODUCTION : UR_DIALOG);
    put(y0, x0 + 2, w - 4, C.production ? UR_PRODUCTION : UR_DIALOG, C.dlg.title, 0);
    int avail = h - 4;
    if (avail < 0) avail = 0;
    if (C.dlg.scroll > body - avail) C.dlg.scroll = body - avail > 0 ? body - avail : 0;
    for (int r = 0; r < avail && C.dlg.scroll + r < body; r++)
        put(y0 + 1 + r, x0 + 1, w - 2, UR_NORMAL, wrapped[C.dlg.scroll + r], 1);
    for (size_t i = 0; i < nw; i++) free(wrapped[i]);
    free(wrapped);
    char prompt[600];
    if (C.dlg.typed)
        snprintf(prompt, sizeof prompt, "PRODUCTION: type %s to confirm, Esc to decline: %s",
                 C.dlg.n_learners == 1 ? "the username" : "the number of learners", C.dlg.input);
    else
        snprintf(prompt, sizeof prompt, "Confirm? y = yes, n or Esc = no%s", body > avail ? "  (Up/Down scroll)" : "");
    if (h >= 3) put(y0 + h - 2, x0 + 1, w - 2, C.dlg.typed ? UR_WARNING : UR_DIALOG, prompt, 1);
}

static void draw_picker(void)
{
    int w = COLS - 4 > 90 ? 90 : COLS - 4;
    if (w < 10) w = COLS;
    int h = (int)C.pk.n + 4;
    if (h > LINES) h = LINES;
    int y0, x0;
    draw_box(h, w, &y0, &x0, UR_DIALOG);
    put(y0, x0 + 2, w - 4, UR_DIALOG, C.pk.title, 0);
    int avail = h - 3;
    size_t first = C.pk.sel >= (size_t)avail && avail > 0 ? C.pk.sel - (size_t)avail + 1 : 0;
    for (int r = 0; r < avail && first + (size_t)r < C.pk.n; r++) {
        size_t i = first + (size_t)r;
        put(y0 + 1 + r, x0 + 1, w - 2, i == C.pk.sel ? UR_SELECTION : UR_NORMAL, C.pk.labels[i], 1);
    }
    if (h >= 3) put(y0 + h - 2, x0 + 1, w - 2, UR_MUTED, "Enter choose, Esc back", 1);
}

static void draw_help(void)
{
    size_t n;
    const ui_key *keys = ui_keys(&n);
    unsigned view = C.view == V_LIST ? UI_VIEW_LIST : C.view == V_DETAIL ? UI_VIEW_DETAIL : UI_VIEW_DRIVERS;
    erase();
    put(0, 0, COLS, UR_HEADER, "retirectl console keys (this view) - any key closes, Up/Down scroll", 1);
    int row = 0, y = 1;
    for (size_t i = 0; i < n; i++) {
        if (!(keys[i].views & view)) continue;
        if (C.o->read_only && keys[i].changes_state) continue;
        if (row++ < C.help_scroll) continue;
        if (y >= LINES) break;
        int kw = COLS > 60 ? 20 : 12;
        put(y, 1, kw, UR_HEADER, keys[i].names, 1);
        put(y, kw + 2, COLS - kw - 2, UR_NORMAL, keys[i].help, 1);
        y++;
    }
    if (C.o->read_only && y < LINES) put(y, 1, COLS - 2, UR_WARNING, "read-only: actions that change state are hidden", 0);
}

static void draw(void)
{
    ui_screen_layout L = ui_layout_screen(LINES, COLS);
    erase();
    if (L.too_small) {
        put(0, 0, COLS, UR_WARNING, "too small: resize", 0);
        if (LINES > 1) put(1, 0, COLS, UR_NORMAL, "(q quits)", 0);
    } else if (C.help) {
        draw_help();
    } else {
        if (C.view == V_LIST) {
            draw_tabs(&L);
            draw_list(&L);
        } else {
            fill_row(L.tabs_row, UR_TAB);
            char crumb[300];
            snprintf(crumb, sizeof crumb, " %s > %s", ui_tab_title(C.tab),
                     C.view == V_DETAIL ? "learner" : "drivers");
            put(L.tabs_row, 0, COLS, UR_TAB, crumb, 0);
            if (C.view == V_DETAIL) draw_detail(&L);
            else draw_drivers(&L);
        }
        draw_message(&L);
        draw_status(&L);
        if (C.pk.active) draw_picker();
        if (C.dlg.active) draw_dialog();
    }
    if (C.filter_editing && !L.too_small) {
        curs_set(1);
        move(L.message_row, 1 + ui_text_width(C.filter) < COLS ? 1 + ui_text_width(C.filter) : COLS - 1);
    } else {
        curs_set(0);
    }
    wnoutrefresh(stdscr);
    doupdate();
    C.frame_seq++;
    if (C.trace) {
        int complete = C.have_store && !C.next.n;
        tlog("frame %lu %.3f key %d complete %d rows %zu\n", C.frame_seq, now_ms(), C.last_key, complete,
              C.have_store ? C.store.n : (size_t)0);
        C.last_key = 0;
        if (complete && !C.traced_complete) C.traced_complete = 1;
    }
    C.dirty = 0;
}

/* ---------- keys ---------- */

static void move_sel(long delta)
{
    if (C.view == V_LIST) {
        size_t n = C.have_store ? C.store.n_rows[C.tab] : 0;
        if (!n) return;
        long s = (long)C.sel[C.tab] + delta;
        if (s < 0) s = 0;
        if (s >= (long)n) s = (long)n - 1;
        C.sel[C.tab] = (size_t)s;
    } else if (C.view == V_DETAIL) {
        long s = C.detail_sel + delta;
        if (s < 0) s = 0;
        if (s >= (long)C.pipe.n) s = (long)C.pipe.n - 1;
        C.detail_sel = (int)(s < 0 ? 0 : s);
    } else {
        size_t n = C.n_drivers + C.n_problems;
        if (!n) return;
        long s = (long)C.drv_sel + delta;
        if (s < 0) s = 0;
        if (s >= (long)n) s = (long)n - 1;
        C.drv_sel = (size_t)s;
    }
}

static void apply_filter(void)
{
    if (!C.have_store) return;
    ui_store_filter(&C.store, C.filter);
    for (int t = 0; t < UI_TAB_COUNT; t++) C.sel[t] = C.top[t] = 0;
}

static void handle_dialog_key(int ch)
{
    if (ch == 27) {
        decline_dialog();
        return;
    }
    if (ch == KEY_UP) C.dlg.scroll = C.dlg.scroll > 0 ? C.dlg.scroll - 1 : 0;
    else if (ch == KEY_DOWN) C.dlg.scroll++;
    else if (C.dlg.typed) {
        size_t len = strlen(C.dlg.input);
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            if (strcmp(C.dlg.input, C.dlg.expect) == 0) confirm_dialog();
            else {
                C.dlg.input[0] = '\0';
                msg(UR_WARNING, "that does not match: type it exactly, or Esc to decline");
            }
        } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
            if (len) {
                do len--; while (len && ((unsigned char)C.dlg.input[len] & 0xC0) == 0x80);
                C.dlg.input[len] = '\0';
            }
        } else if (ch >= 32 && ch < 256 && ch != 127 && len + 1 < sizeof C.dlg.input) {
            C.dlg.input[len] = (char)ch;
            C.dlg.input[len + 1] = '\0';
        }
    } else if (ch == 'y' || ch == 'Y') {
        confirm_dialog();
    } else if (ch == 'n' || ch == 'N' || ch == 'q') {
        decline_dialog();
    }
    C.dirty = 1;
}

static void handle_picker_key(int ch)
{
    if (ch == 27 || ch == 'q') {
        C.pk.active = 0;
    } else if (ch == KEY_UP || ch == 'k') {
        if (C.pk.sel) C.pk.sel--;
    } else if (ch == KEY_DOWN || ch == 'j') {
        if (C.pk.sel + 1 < C.pk.n) C.pk.sel++;
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        C.pk.active = 0;
        ask_reset(C.pk.learner, C.pk.values[C.pk.sel]);
    }
    C.dirty = 1;
}

static void handle_filter_key(int ch)
{
    size_t len = strlen(C.filter);
    if (ch == 27) {
        C.filter[0] = '\0';
        C.filter_editing = 0;
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        C.filter_editing = 0;
        return;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (len) {
            do len--; while (len && ((unsigned char)C.filter[len] & 0xC0) == 0x80);
            C.filter[len] = '\0';
        }
    } else if (ch == KEY_UP || ch == KEY_DOWN) {
        move_sel(ch == KEY_UP ? -1 : 1);
        return;
    } else if (ch >= 32 && ch < 256 && ch != 127 && len + 1 < sizeof C.filter) {
        C.filter[len] = (char)ch;
        C.filter[len + 1] = '\0';
    } else {
        return;
    }
    apply_filter();
}

static void do_action(ui_action a)
{
    ui_screen_layout L = ui_layout_screen(LINES, COLS);
    long page = L.list_rows > 1 ? L.list_rows - 1 : 1;
    switch (a) {
    case UA_QUIT:
        if (running_jobs() || C.n_queue) {
            dialog_clear();
            if (running_jobs()) {
                dlg_line("%zu job%s still running. They are not stopped: each finishes in the background",
                         running_jobs(), running_jobs() == 1 ? " is" : "s are");
                dlg_line("and records its result at the LMS; its output is no longer shown.");
            }
            if (C.n_queue)
                dlg_line("%zu queued action%s (waiting for a worker) will NOT start.", C.n_queue,
                         C.n_queue == 1 ? "" : "s");
            open_dialog(ACT_QUIT, "Quit the console?");
        } else {
            C.quit = 1;
        }
        break;
    case UA_HELP:
        C.help = 1;
        C.help_scroll = 0;
        break;
    case UA_BACK:
        if (C.view == V_DRIVERS) C.view = C.drivers_back;
        else if (C.view == V_DETAIL) C.view = V_LIST;
        else if (C.filter[0]) C.filter[0] = '\0', apply_filter();
        break;
    case UA_REDRAW:
        clearok(curscr, TRUE);
        break;
    case UA_REFRESH:
        start_fetch();
        if (C.view == V_DETAIL && C.detail) start_status(C.detail);
        if (C.view == V_DRIVERS) start_drivers();
        break;
    case UA_UP: move_sel(-1); break;
    case UA_DOWN: move_sel(1); break;
    case UA_PAGE_UP:
        if (C.view == V_DETAIL) C.log_scroll += (int)page;
        else move_sel(-page);
        break;
    case UA_PAGE_DOWN:
        if (C.view == V_DETAIL) C.log_scroll = C.log_scroll > page ? C.log_scroll - (int)page : 0;
        else move_sel(page);
        break;
    case UA_HOME:
        if (C.view == V_DETAIL) C.log_scroll = 1 << 30;
        else move_sel(-(1L << 40));
        break;
    case UA_END:
        if (C.view == V_DETAIL) C.log_scroll = 0;
        else move_sel(1L << 40);
        break;
    case UA_NEXT_TAB: C.tab = (ui_tab)((C.tab + 1) % UI_TAB_COUNT); break;
    case UA_PREV_TAB: C.tab = (ui_tab)((C.tab + UI_TAB_COUNT - 1) % UI_TAB_COUNT); break;
    case UA_TAB1: case UA_TAB2: case UA_TAB3: case UA_TAB4: case UA_TAB5:
        C.tab = (ui_tab)(a - UA_TAB1);
        break;
    case UA_FILTER:
        C.filter_editing = 1;
        break;
    case UA_OPEN: {
        const ui_learner *l = selected_learner();
        if (l) open_detail(ui_store_name(&C.store, l));
        break;
    }
    case UA_DRIVERS: open_drivers(); break;
    case UA_MARK: {
        const ui_learner *l = selected_learner();
        if (l) {
            ui_learner *m = &C.store.v[l - C.store.v];
            m->marked = !m->marked;
            move_sel(1);
        }
        break;
    }
    case UA_MARK_ALL: {
        if (!C.have_store) break;
        if (ui_store_marked(&C.store)) {
            for (size_t i = 0; i < C.store.n; i++) C.store.v[i].marked = 0;
        } else {
            for (size_t i = 0; i < C.store.n_rows[C.tab]; i++) C.store.v[C.store.rows[C.tab][i]].marked = 1;
        }
        msg(UR_MARKED, "%zu learners marked", ui_store_marked(&C.store));
        break;
    }
    case UA_PLAN: {
        const char *n = selected_name();
        if (!n) { msg(UR_WARNING, "no learner selected"); break; }
        if (job_for(n, 1)) { msg(UR_WARNING, "a job for %s is running; wait or cancel it (c)", n); break; }
        char *name = xstrdup(n);
        start_action(name, ACT_PLAN, NULL, NULL, NULL);
        if (C.view != V_DETAIL) open_detail(name);
        C.log_scroll = 0;
        free(name);
        break;
    }
    case UA_RETIRE:
    case UA_RESUME: {
        const char *n = selected_name();
        if (n && !(C.view == V_LIST && C.have_store && ui_store_marked(&C.store)) && job_for(n, 1)) {
            msg(UR_WARNING, "a job for %s is already running", n);
            break;
        }
        ask_retire(a == UA_RESUME);
        break;
    }
    case UA_RERUN:
        if (C.view == V_DETAIL) {
            if (C.detail_sel < (int)C.pipe.n)
                ask_rerun(C.detail, C.pipe.driver[C.detail_sel], C.pipe.method[C.detail_sel]);
        } else if (C.view == V_DRIVERS) {
            if (C.drv_sel < C.n_drivers && C.drivers[C.drv_sel].method)
                ask_rerun(C.drivers_for, C.drivers[C.drv_sel].name, C.drivers[C.drv_sel].method);
            else msg(UR_WARNING, "pick a method line (indented) to rerun");
        }
        break;
    case UA_CANCEL: ask_cancel(); break;
    case UA_RESET: ask_reset_pick(); break;
    default: break;
    }
    C.dirty = 1;
}

static void handle_key(int ch)
{
    C.last_key = ch;
    if (ch == KEY_RESIZE) {
        C.dirty = 1;
        return;
    }
    if (C.help) {
        if (ch == KEY_DOWN || ch == 'j') C.help_scroll++;
        else if (ch == KEY_UP || ch == 'k') C.help_scroll = C.help_scroll ? C.help_scroll - 1 : 0;
        else C.help = 0;
        C.dirty = 1;
        return;
    }
    if (C.dlg.active) {
        handle_dialog_key(ch);
        return;
    }
    if (C.pk.active) {
        handle_picker_key(ch);
        return;
    }
    if (C.filter_editing) {
        handle_filter_key(ch);
        C.dirty = 1;
        return;
    }
    unsigned view = C.view == V_LIST ? UI_VIEW_LIST : C.view == V_DETAIL ? UI_VIEW_DETAIL : UI_VIEW_DRIVERS;
    ui_action a = ui_key_lookup(ch, view, C.o->read_only);
    if (a == UA_NONE) {
        if (C.o->read_only && ui_key_lookup(ch, view, 0) != UA_NONE)
            msg(UR_WARNING, "read-only console: actions that change state are disabled");
        return;
    }
    do_action(a);
}

/* ---------- setup and loop ---------- */

static void setup_config(void)
{
    const cfg *c = C.o->config;
    C.pipe.n = c->n_steps;
    C.pipe.start = calloc(c->n_steps + 1, sizeof(char *));
    C.pipe.end = calloc(c->n_steps + 1, sizeof(char *));
    C.pipe.driver = calloc(c->n_steps + 1, sizeof(char *));
    C.pipe.method = calloc(c->n_steps + 1, sizeof(char *));
    const cJSON *extra = cfg_get(c, "console.states");
    size_t n_extra = cJSON_IsArray(extra) ? (size_t)cJSON_GetArraySize(extra) : 0;
    C.queue_states = calloc(2 * c->n_steps + 5 + n_extra, sizeof(char *));
    if (!C.pipe.start || !C.pipe.end || !C.pipe.driver || !C.pipe.method || !C.queue_states) abort();
    for (size_t i = 0; i < c->n_steps; i++) {
        C.pipe.start[i] = c->steps[i].start_state;
        C.pipe.end[i] = c->steps[i].end_state;
        C.pipe.driver[i] = c->steps[i].driver;
        C.pipe.method[i] = c->steps[i].method;
    }
    /* every state the console shows: PENDING, the pipeline's, and the dead ends */
    const char *add[] = {"PENDING"};
    C.queue_states[C.n_queue_states++] = add[0];
    for (size_t i = 0; i < c->n_steps; i++) {
        const char *two[2] = {c->steps[i].start_state, c->steps[i].end_state};
        for (int k = 0; k < 2; k++) {
            int dup = 0;
            for (size_t q = 0; q < C.n_queue_states; q++) dup |= strcmp(C.queue_states[q], two[k]) == 0;
            if (!dup) C.queue_states[C.n_queue_states++] = two[k];
        }
    }
    /* console.states: more states to list (e.g. LOCKING_ACCOUNT, a state of another pipeline) */
    const cJSON *it;
    cJSON_ArrayForEach(it, extra) {
        if (!cJSON_IsString(it) || !*it->valuestring) continue;
        int dup = 0;
        for (size_t q = 0; q < C.n_queue_states; q++) dup |= strcmp(C.queue_states[q], it->valuestring) == 0;
        if (!dup) C.queue_states[C.n_queue_states++] = it->valuestring;
    }
    C.queue_states[C.n_queue_states++] = "ERRORED";
    C.queue_states[C.n_queue_states++] = "ABORTED";
    C.queue_states[C.n_queue_states++] = "COMPLETE";
    C.refresh_s = cfg_number(c, "console.refresh_seconds", 10);
    if (C.refresh_s < 1) C.refresh_s = 1;
    C.cool_off_days = (long)cfg_number(c, "console.cool_off_days", cfg_number(c, "cool_off_days", 7));
    C.history_days = (long)cfg_number(c, "console.history_days", cfg_number(c, "history_days", 0));
    C.workers = (int)cfg_number(c, "console.workers", cfg_number(c, "workers", 4));
    if (C.workers < 1) C.workers = 1;
    if (C.workers > 64) C.workers = 64;
    snprintf(C.env, sizeof C.env, "%s", c->environment ? c->environment : "");
    C.production = c->environment && strcasecmp(c->environment, "production") == 0;
    const char *lms = cfg_string(c, "base_urls.lms");
    const char *h = lms ? strstr(lms, "://") : NULL;
    h = h ? h + 3 : lms ? lms : "no LMS";
    snprintf(C.host, sizeof C.host, "%s", h);
    char *slash = strchr(C.host, '/');
    if (slash) *slash = '\0';
}

int ui_run(const ui_options *o, char *err, size_t err_len)
{
    memset(&C, 0, sizeof C);
    C.o = o;
    C.fetch_fd = C.status_fd = C.drivers_fd = -1;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, err_len, "the console needs a terminal on stdin and stdout (for scripts use retirectl queue, "
                               "status or retire)");
        return -1;
    }
    const char *tname = o->theme;
    if (!tname || !*tname) tname = cfg_string(o->config, "console.theme");
    C.mono = o->no_color;
    char exe_dir[1024] = "";
    if (o->exe) {
        snprintf(exe_dir, sizeof exe_dir, "%s", o->exe);
        char *s = strrchr(exe_dir, '/');
        if (s) *s = '\0';
    }
    if (ui_theme_load(&C.theme, C.mono ? "mono" : tname, exe_dir, err, err_len)) return -1;
    setup_config();
    const char *tr = getenv("RETIRECTL_UI_TRACE");
    if (tr && *tr) C.trace = fopen(tr, "a");
    tlog("start %.3f\n", now_ms());

    setlocale(LC_ALL, "");
    set_escdelay(25);
    install_signals();
    if (!initscr()) {
        snprintf(err, err_len, "cannot initialise the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "unset");
        return -1;
    }
    g_curses_on = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    apply_theme();
    bkgdset(C.attr[UR_NORMAL] | ' ');

    start_fetch();
    C.dirty = 1;
    double next_tick = now_ms();
    while (!C.quit && !g_quit_signal) {
        /* keys first (also picks up KEY_RESIZE after SIGWINCH) */
        int ch, got = 0;
        while ((ch = getch()) != ERR && got < 256) {
            handle_key(ch);
            got++;
            if (C.quit) break;
        }
        if (C.quit) break;
        double t = now_ms();
        if (C.fetch_pid <= 0 && t >= C.next_refresh_ms) {
            start_fetch();
            if (C.view == V_DETAIL && C.detail) start_status(C.detail);
        }
        run_queue();
        reap_jobs();
        int animate = running_jobs() || C.fetch_pid > 0 || C.status_pid > 0 || C.drivers_pid > 0;
        if (animate && t >= next_tick) {
            C.spin++;
            C.dirty = 1;
            next_tick = t + 250;
        }
        if (C.message[0] && t >= C.message_until && C.message_until > 0) {
            C.message_until = 0;
            C.dirty = 1;
        }
        if (C.dirty) draw();

        struct pollfd fds[3 + 2 * 256 + 1];
        ui_job *owner[3 + 2 * 256 + 1];
        int stream[3 + 2 * 256 + 1];
        nfds_t n = 0;
        fds[n] = (struct pollfd){STDIN_FILENO, POLLIN, 0}, owner[n] = NULL, stream[n++] = -1;
        if (C.fetch_fd >= 0) fds[n] = (struct pollfd){C.fetch_fd, POLLIN, 0}, owner[n] = NULL, stream[n++] = -2;
        if (C.status_fd >= 0) fds[n] = (struct pollfd){C.status_fd, POLLIN, 0}, owner[n] = NULL, stream[n++] = -3;
        if (C.drivers_fd >= 0) fds[n] = (struct pollfd){C.drivers_fd, POLLIN, 0}, owner[n] = NULL, stream[n++] = -4;
        for (size_t i = 0; i < C.n_jobs && n + 2 < sizeof fds / sizeof fds[0]; i++) {
            ui_job *j = C.jobs[i];
            if (j->out_fd >= 0) fds[n] = (struct pollfd){j->out_fd, POLLIN, 0}, owner[n] = j, stream[n++] = 0;
            if (j->err_fd >= 0) fds[n] = (struct pollfd){j->err_fd, POLLIN, 0}, owner[n] = j, stream[n++] = 1;
        }
        double wait = C.fetch_pid > 0 ? 1000 : C.next_refresh_ms - now_ms();
        if (animate) wait = next_tick - now_ms();
        if (C.message_until > 0 && C.message_until - now_ms() < wait) wait = C.message_until - now_ms();
        if (wait < 0) wait = 0;
        if (wait > 1000) wait = 1000;
        int pr = poll(fds, n, (int)wait);
        if (pr < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (nfds_t i = 1; i < n; i++) {
            if (!fds[i].revents) continue;
            if (stream[i] == -2) on_fetch_readable();
            else if (stream[i] == -3) on_status_readable();
            else if (stream[i] == -4) on_drivers_readable();
            else on_job_readable(owner[i], stream[i]);
        }
    }
    restore_terminal();
    if (g_quit_signal) {
        /* jobs are in their own process group and keep running; say so */
        fprintf(stderr, "retirectl: console stopped by signal %d\n", (int)g_quit_signal);
    }
    size_t still = running_jobs();
    if (still) fprintf(stderr, "retirectl: %zu job%s still running in the background; see `retirectl status USER`\n",
                       still, still == 1 ? " is" : "s are");
    if (C.fetch_pid > 0) kill(C.fetch_pid, SIGTERM), reap(&C.fetch_pid, "queue");
    if (C.status_pid > 0) kill(C.status_pid, SIGTERM), reap(&C.status_pid, "status");
    if (C.drivers_pid > 0) kill(C.drivers_pid, SIGTERM), reap(&C.drivers_pid, "drivers");
    tlog("exit %.3f\n", now_ms());
    if (C.trace) fclose(C.trace);
    ui_store_free(&C.store);
    ui_store_free(&C.next);
    return g_quit_signal ? 128 + (int)g_quit_signal : 0;
}
