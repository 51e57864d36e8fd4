/* bench/console_scale: the console with 100,000 learners in retirectl-sim, driven through a pty.
 * Prints: time to the first screenful and to the first complete frame (list loaded and drawn),
 * key-to-redraw times while scrolling and while filtering (median, p95, worst), peak memory of
 * the console and of its fetch child; then, with a second console left idle, LMS requests per
 * minute, token fetches per hour and learner rows transferred per minute (and what the console
 * did before: every learner every refresh_seconds with three token fetches each time).
 * Targets (not asserted): first screenful < 300 ms, first frame < 1 s, median key-to-redraw
 * < 16 ms, < 150 MB; idle: one token per token lifetime, >= 5x fewer rows per minute.
 * usage: console_scale [LEARNERS (default 100000) [IDLE_WINDOW_SECONDS (default 60) [FAILED (default 0)]]]:
 * FAILED more learners in ERRORED, each with a failed job in the console's retirement history
 * (SQLite under a temp XDG_STATE_HOME), so the first frame includes reading the history
 * (docs/history.md); the Failed tab (REASON column) is then timed too. CONSOLE_SCALE_EMPTY_HISTORY=1:
 * the same learners with an empty history, for comparison.
 * Key-to-redraw = from writing the key to the pty until the console finished writing the frame
 * (the console's RETIRECTL_UI_TRACE records each doupdate with CLOCK_MONOTONIC). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/history.h"
#include "simproc.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int pty_fd = -1;
static FILE *trace_in;

/* Reads and discards the console's output so it never blocks on a full pty. */
static void drain(int ms)
{
    char buf[65536];
    struct pollfd p = {pty_fd, POLLIN, 0};
    while (poll(&p, 1, ms) > 0) {
        if (read(pty_fd, buf, sizeof buf) <= 0) return;
        ms = 0;
    }
}

typedef struct frame {
    double t;
    int key, complete;
    long rows;
} frame;

/* Waits (up to timeout ms) for the next trace "frame" line matching want_key (or any when -1). */
static int next_frame(frame *f, int want_key, int want_complete, double timeout_ms)
{
    double end = now_ms() + timeout_ms;
    char line[512];
    while (now_ms() < end) {
        drain(0);
        if (fgets(line, sizeof line, trace_in)) {
            unsigned long seq;
            if (sscanf(line, "frame %lu %lf key %d complete %d rows %ld", &seq, &f->t, &f->key, &f->complete, &f->rows) == 5) {
                if ((want_key < 0 || f->key == want_key) &&
                    (!want_complete || (want_complete == 2 ? f->rows > 0 : f->complete && f->rows > 0)))
                    return 0;
            }
            continue;
        }
        clearerr(trace_in);
        drain(1);
    }
    return -1;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *v, int n)
{
    if (n <= 0) {
        printf("%-34s no samples\n", what);
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp);
    printf("%-34s n=%-4d median %7.2f ms   p95 %7.2f ms   worst %7.2f ms\n", what, n, v[n / 2], v[(n * 95) / 100],
           v[n - 1]);
}

/* Sends one key and returns ms until the frame that handled it was written, or -1. */
static double key_latency(const char *seq, int code)
{
    frame f;
    drain(0);
    double t0 = now_ms();
    if (write(pty_fd, seq, strlen(seq)) < 0) return -1;
    if (next_frame(&f, code, 0, 5000) != 0) return -1;
    return f.t - t0;
}

static long vm_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') v = atol(line + fl + 1);
    fclose(f);
    return v;
}

/* A seed file of n ERRORED learners (user ids from 900001); malloc'd path. */
static char *failed_seed(long n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(root, "learners");
    for (long i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "failed%06ld", i);
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "username", name);
        cJSON_AddStringToObject(l, "state", "ERRORED");
        cJSON_AddNumberToObject(l, "user_id", (double)(900001 + i));
        cJSON_AddItemToArray(list, l);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *path = write_temp_file("failed.json", text);
    free(text);
    return path;
}

/* Writes a failed job for each of those learners into the default store under state_dir. */
static int fill_history(const char *state_dir, long n)
{
    char path[1100], err[1024];
    snprintf(path, sizeof path, "%s/retirectl/history.db", state_dir);
    history *h = NULL;
    if (hist_open_url(path, &h, err, sizeof err) != 0) {
        fprintf(stderr, "console_scale: %s\n", err);
        return -1;
    }
    enum { B = 500 };
    hist_job jobs[B];
    hist_job *ptr[B];
    for (long done = 0; done < n;) {
        long k = n - done < B ? n - done : B;
        for (long i = 0; i < k; i++) {
            hist_job *j = &jobs[i];
            hist_job_init(j);
            j->lms_user_id = 900001 + done + i;
            hist_set(&j->action, "retire");
            hist_set(&j->outcome, "errored");
            j->started_ms = hist_now_ms() - 3600000;
            j->ended_ms = j->started_ms + 800;
            j->exit_status = 252;
            j->fail_step = 0;
            hist_set(&j->fail_driver, "LMS");
            hist_set(&j->fail_method, "retirement_retire_forum");
            j->fail_http_status = 403;
            hist_set(&j->fail_server_text, "forum: permission denied");
            ptr[i] = j;
        }
        int rc = hist_save(h, ptr, (size_t)k, err, sizeof err);
        for (long i = 0; i < k; i++) hist_job_clear(&jobs[i]);
        if (rc != 0) {
            fprintf(stderr, "console_scale: %s\n", err);
            hist_close(h);
            return -1;
        }
        done += k;
    }
    hist_close(h);
    return 0;
}

/* Entries in the sim's request log whose path contains part ("" all). */
static long sim_requests(const sim_proc *sim, const char *part)
{
    char path[256];
    snprintf(path, sizeof path, "/__sim/requests%s%s", *part ? "?path=" : "", part);
    char *body = NULL;
    if (sim_http(sim, "GET", path, NULL, NULL, &body) != 200 || !body) {
        free(body);
        return -1;
    }
    long n = 0;
    for (const char *p = body; (p = strstr(p, "\"seq\"")); p++) n++;
    free(body);
    return n;
}

/* An idle console (default refresh_seconds 10; idle after 10 s) for window seconds: what it
 * costs the LMS, from the sim's request log and the console's trace ("fetched T rows N"). */
static void idle_load(const sim_proc *sim, double window, const char *trace_path)
{
    char *idle_cfg = sim_write_config(sim, NULL, "console:\n  idle_seconds: 10\n");
    FILE *tf = fopen(trace_path, "w");
    if (tf) fclose(tf);
    trace_in = fopen(trace_path, "r");
    struct winsize ws = {40, 120, 0, 0};
    pid_t pid = forkpty(&pty_fd, NULL, NULL, &ws);
    if (pid == 0) {
        setenv("TERM", "xterm-256color", 1);
        setenv("LC_ALL", "C.UTF-8", 1);
        setenv("RETIRECTL_UI_TRACE", trace_path, 1);
        execl(RETIRECTL_BIN, RETIRECTL_BIN, "--config", idle_cfg, "tui", (char *)NULL);
        _exit(127);
    }
    frame f;
    if (pid < 0 || next_frame(&f, -1, 1, 60000) != 0) {
        fprintf(stderr, "console_scale: the idle console did not load\n");
        if (pid > 0) kill(pid, SIGTERM);
        return;
    }
    long listed = f.rows;
    double until = now_ms() + 12000; /* past console.idle_seconds */
    while (now_ms() < until) drain(100);
    sim_http(sim, "DELETE", "/__sim/requests", NULL, NULL, NULL);
    double t0 = now_ms();
    until = t0 + window * 1000;
    while (now_ms() < until) drain(100);
    long reqs = sim_requests(sim, ""), tokens = sim_requests(sim, "access_token");
    long rows = 0;
    char line[512];
    rewind(trace_in);
    while (fgets(line, sizeof line, trace_in)) {
        double t;
        long n;
        if (sscanf(line, "fetched %lf rows %ld", &t, &n) == 2 && t >= t0) rows += n;
    }
    char *conf = NULL;
    long lifetime = 0;
    if (sim_http(sim, "GET", "/__sim/config", NULL, NULL, &conf) == 200 && conf) {
        const char *p = strstr(conf, "\"token_lifetime\":");
        if (p) lifetime = atol(p + 17);
    }
    free(conf);
    double per_min = 60.0 / window;
    printf("idle console, %.0f s window (%ld learners listed, refresh_seconds 10, idle after 10 s):\n", window, listed);
    printf("  LMS requests per minute          %.1f\n", reqs * per_min);
    printf("  token fetches in the window      %ld (sim token lifetime %ld s: at most %.0f per hour)\n", tokens,
           lifetime, lifetime > 0 ? 3600.0 / lifetime + (3600 % lifetime ? 1 : 0) : 0.0);
    printf("  token fetches per hour           %.0f\n", tokens * 60 * per_min);
    printf("  learner rows transferred / min   %.0f\n", rows * per_min);
    printf("  before (every learner every 10 s, 3 tokens each): %ld rows/min, 1080 token fetches/hour;"
           " now %.1fx fewer rows\n", listed * 6, rows > 0 ? listed * 6 / (rows * per_min) : 0.0);
    if (write(pty_fd, "Q", 1) < 0) perror("write");
    int st = 0;
    for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++) drain(10);
    fclose(trace_in);
    unlink(idle_cfg);
    free(idle_cfg);
}

int main(int argc, char **argv)
{
    long learners = argc > 1 ? atol(argv[1]) : 100000;
    long failed = argc > 3 ? atol(argv[3]) : 0;
    char count[32];
    snprintf(count, sizeof count, "%ld", learners);
    char *seed = failed > 0 ? failed_seed(failed) : NULL;
    const char *args[] = {"--learners", count, seed ? "--seed" : NULL, seed, NULL};
    sim_proc sim;
    double ts = now_ms();
    if (sim_start(&sim, args) != 0) return 1;
    printf("retirectl-sim with %ld learners ready in %.0f ms\n", learners, now_ms() - ts);
    char *config = sim_write_config(&sim, NULL, "console:\n  refresh_seconds: 3600\n");
    char *dir = make_temp_dir();
    if (failed > 0 && !getenv("CONSOLE_SCALE_EMPTY_HISTORY") && fill_history(dir, failed) != 0) return 1;
    char trace_path[1024];
    snprintf(trace_path, sizeof trace_path, "%s/trace.txt", dir);
    FILE *tf = fopen(trace_path, "w");
    if (tf) fclose(tf);
    trace_in = fopen(trace_path, "r");

    struct winsize ws = {40, 120, 0, 0};
    double t_start = now_ms();
    pid_t pid = forkpty(&pty_fd, NULL, NULL, &ws);
    if (pid < 0) {
        perror("forkpty");
        return 1;
    }
    if (pid == 0) {
        setenv("TERM", "xterm-256color", 1);
        setenv("LC_ALL", "C.UTF-8", 1);
        setenv("RETIRECTL_UI_TRACE", trace_path, 1);
        setenv("XDG_STATE_HOME", dir, 1);
        unsetenv("NO_COLOR");
        execl(RETIRECTL_BIN, RETIRECTL_BIN, "--config", config, "tui", (char *)NULL);
        _exit(127);
    }
    frame f;
    if (next_frame(&f, -1, 2, 60000) != 0) {
        fprintf(stderr, "console_scale: no learner on screen within 60 s\n");
        kill(pid, SIGTERM);
        return 1;
    }
    printf("first screenful                    %.0f ms after start (%ld learners so far)\n", f.t - t_start, f.rows);
    if (next_frame(&f, -1, 1, 60000) != 0) {
        fprintf(stderr, "console_scale: no complete frame within 60 s\n");
        kill(pid, SIGTERM);
        return 1;
    }
    printf("first complete frame               %.0f ms after start (%ld learners listed%s)\n", f.t - t_start, f.rows,
           failed > 0 ? ", history read" : "");
    if (failed > 0) {
        double l = key_latency("3", '3');
        printf("Failed tab with REASON column      %.1f ms key-to-redraw (%ld failed learners with history)\n", l,
               failed);
        key_latency("1", '1');
    }

    enum { N = 200 };
    double v[N];
    int n = 0;
    for (int i = 0; i < N; i++) {
        double l = key_latency("j", 'j');
        if (l >= 0) v[n++] = l;
    }
    report("scroll down (j) key-to-redraw", v, n);
    n = 0;
    for (int i = 0; i < 50; i++) {
        double l = key_latency("\x1b[6~", 0522 /* KEY_NPAGE */);
        if (l >= 0) v[n++] = l;
    }
    report("page down key-to-redraw", v, n);
    n = 0;
    for (int i = 0; i < 20; i++) {
        double l = key_latency("G", 'G');
        if (l >= 0) v[n++] = l;
        l = key_latency("g", 'g');
        if (l >= 0) v[n++] = l;
    }
    report("end/home (G/g) key-to-redraw", v, n);
    n = 0;
    for (int round = 0; round < 5; round++) {
        key_latency("/", '/');
        const char *typed = "learner0123";
        for (const char *c = typed; *c; c++) {
            char s[2] = {*c, 0};
            double l = key_latency(s, *c);
            if (l >= 0) v[n++] = l;
        }
        for (size_t k = 0; k < strlen(typed); k++) {
            double l = key_latency("\x7f", 0407 /* KEY_BACKSPACE */);
            if (l < 0) l = -1;
            if (l >= 0 && n < N) v[n++] = l;
        }
        key_latency("\x1b", 27);
        drain(50);
    }
    report("filter typing per key", v, n);
    n = 0;
    for (int i = 0; i < 40; i++) {
        double l = key_latency(i % 2 ? "h" : "l", i % 2 ? 'h' : 'l');
        if (l >= 0) v[n++] = l;
    }
    report("tab switch key-to-redraw", v, n);

    /* scrolling while a background refresh of all learners arrives (Ctrl-R starts one) */
    n = 0;
    key_latency("\x12", 0x12);
    double until = now_ms() + 2500;
    while (now_ms() < until && n < N) {
        double l = key_latency(n % 2 ? "k" : "j", n % 2 ? 'k' : 'j');
        if (l >= 0) v[n++] = l;
        drain(5);
    }
    report("scroll during a background refresh", v, n);

    long hwm = vm_kb(pid, "VmHWM"), rss = vm_kb(pid, "VmRSS");
    printf("console peak memory (VmHWM)        %.1f MB (now %.1f MB)\n", hwm / 1024.0, rss / 1024.0);
    if (write(pty_fd, "q", 1) < 0) perror("write");
    int st = 0;
    for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++) drain(10);
    char line[512];
    rewind(trace_in);
    while (fgets(line, sizeof line, trace_in)) {
        long kb;
        double ms;
        if (sscanf(line, "child queue maxrss_kb %ld", &kb) == 1)
            printf("fetch child peak memory (maxrss)   %.1f MB\n", kb / 1024.0);
        if (strncmp(line, "slow", 4) == 0) fputs(line, stdout);
        if (sscanf(line, "swap %lf ms %ld", &ms, &kb) == 2)
            printf("list swap in the UI (classify, sort) %.1f ms for %ld learners\n", ms, kb);
    }
    fclose(trace_in);
    idle_load(&sim, argc > 2 ? atof(argv[2]) : 60.0, trace_path);
    printf("targets: first screenful < 300 ms, first frame < 1000 ms, median key-to-redraw < 16 ms, console < 150 MB;\n"
           "         idle: at most one token per token lifetime, >= 5x fewer rows per minute (not asserted)\n");
    unlink(trace_path);
    if (failed > 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "console_scale: could not remove %s\n", dir);
        free(seed);
    }
    rmdir(dir);
    unlink(config);
    free(config);
    free(dir);
    sim_stop(&sim);
    return 0;
}
