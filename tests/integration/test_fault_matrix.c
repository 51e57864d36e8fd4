/* The fault matrix (docs/operators.md, "One job per learner" .. "The audit log"): every way a
 * retirement can be interrupted, run for real against retirectl-sim with the real retirectl
 * binary and the test plugins (tests/plugins/slow, hang, crash, leak). Each case checks, for
 * the learners it touches: the learner ends in the state expected (one the LMS knows), the
 * reason is recorded at the LMS, the audit log has a whole line for every change, and no
 * retirectl process of the case is left running. It prints one table row per case with those
 * counts and the closing `N passed, M failed` line; the exit status is 1 when a case failed.
 *
 * Cases: kill -9 of the supervisor in a step, in a hanging step and during a start PATCH;
 * kill -9 of the worker in a step and during a start PATCH (D8); two concurrent retires (D3);
 * resume while a local retire runs (B3) and of a fresh working state (cross-host rule, --force);
 * SIGTERM while the end-state PATCH is being retried (D14); crash and hang in a non-pipeline
 * rerun, crash in a bracketed rerun; a crashing driver in `retire --all -j 8` (circuit breaker);
 * a leaking driver (worker recycling); a full disk for the audit log and a torn last line (D9);
 * a NUL in a queue username (D19). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/lease.h"
#include "simproc.h"

#ifndef RETIRECTL_TEST_PLUGIN_DIR
#error "RETIRECTL_TEST_PLUGIN_DIR must name <build>/tests/plugins"
#endif

/* The sim's state table: every plugin step of the matrix (configs use subsets, in this order). */
#define ALL_PIPELINE                                                                \
    "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n" \
    "  - ['RETIRING_SLOW', 'SLOW_COMPLETE', 'SLOW', 'retire']\n"                      \
    "  - ['RETIRING_HANG', 'HANG_COMPLETE', 'HANG', 'retire']\n"                      \
    "  - ['RETIRING_CRASH', 'CRASH_COMPLETE', 'CRASH', 'retire']\n"                   \
    "  - ['RETIRING_LEAK', 'LEAK_COMPLETE', 'LEAK', 'retire']\n"                      \
    "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n"

#define STEP_FORUMS "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
#define STEP_LMS "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n"
#define STEP(X) "  - ['RETIRING_" #X "', '" #X "_COMPLETE', '" #X "', 'retire']\n"

static sim_proc SIM;
static char *DIR_;     /* temp dir of the run */
static char *EP;       /* entry-point file naming the test plugins */
static char STATE[1024]; /* XDG_STATE_HOME for every retirectl run (leases) */
static int case_no;
static int step_timeout = 3; /* step_timeout_seconds of the configs written next */

/* One case's counts (the table row). */
typedef struct row {
    const char *name;
    int learners;      /* learners the case touches */
    int known;         /* ... that end in the expected state (one the LMS knows) */
    int reason;        /* ... whose reason is recorded at the LMS */
    int changes;       /* audit lines expected for the changes */
    int audited;       /* whole audit lines found for them */
    int bad_lines;     /* audit lines that are not whole JSON objects */
    int left;          /* retirectl processes of the case still running at the end */
    int extra_ok;      /* case-specific checks (exit status, message, counts) passed */
    char note[160];
} row;

static row rows[32];
static int n_rows;
static int left_seen; /* most processes wait_gone found left (and killed) in the current case */

/* ------------------------------------------------------------------ helpers */

static const char *bin(void)
{
    const char *b = getenv("RETIRECTL_BIN");
    return b && *b ? b : RETIRECTL_BIN;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Writes a config for this case: pipeline rows (between FORUMS and LMS), its own audit log. */
static char *config_for(const char *middle, const char *audit, const char *extra)
{
    char pipeline[2048], more[4096];
    snprintf(pipeline, sizeof pipeline, STEP_FORUMS "%s" STEP_LMS, middle);
    snprintf(more, sizeof more,
             "driver_entry_points: ['%s']\n"
             "step_timeout_seconds: %d\n"
             "testplugin_sleep_seconds: 2\n"
             "testplugin_leak_mib: 40\n"
             "audit_log: %s\n"
             "http:\n"
             "  max_retry_seconds: 3\n"
             "  gateway_timeout_wait_seconds: 0\n"
             "%s",
             EP, step_timeout, audit, extra ? extra : "");
    char *path = sim_write_config(&SIM, pipeline, more);
    chmod(path, 0600);
    return path;
}

/* A fresh audit log path for case n. */
static void audit_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/audit-%02d.jsonl", DIR_, ++case_no);
}

static void add_learners(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* POST /__sim/learners with the JSON given. */
static void add_learners(const char *fmt, ...)
{
    char json[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(json, sizeof json, fmt, ap);
    va_end(ap);
    long st = sim_http(&SIM, "POST", "/__sim/learners", NULL, json, NULL);
    if (st != 201) fprintf(stderr, "fault matrix: adding learners %s -> %ld\n", json, st);
}

/* Adds n learners PREFIX00.. created days_ago days ago (each bulk case picks its own with
 * --cool-off-days, so learners another case left PENDING are not in its queue). */
static void add_bulk(const char *prefix, int n, int days_ago)
{
    char json[8192] = "[";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(json);
        snprintf(json + l, sizeof json - l, "%s{\"username\": \"%s%02d\", \"days_ago\": %d}", i ? ", " : "", prefix, i,
                 days_ago);
    }
    strcat(json, "]");
    add_learners("%s", json);
}

static void fault(const char *json)
{
    long st = sim_http(&SIM, "POST", "/__sim/faults", NULL, json, NULL);
    if (st != 201) fprintf(stderr, "fault matrix: fault %s -> %ld\n", json, st);
}

/* current_state name and responses of a learner (malloc'd copies, "" when unknown). */
static void learner(const char *u, char **state, char **responses)
{
    char path[512], *body = NULL;
    snprintf(path, sizeof path, "/__sim/learners?username=%s", u);
    sim_http(&SIM, "GET", path, NULL, NULL, &body);
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "current_state"), "state_name");
    const cJSON *r = cJSON_GetObjectItem(j, "responses");
    *state = strdup(cJSON_IsString(n) ? n->valuestring : "");
    if (responses) *responses = strdup(cJSON_IsString(r) ? r->valuestring : "");
    cJSON_Delete(j);
    free(body);
}

/* Counts learner u as known (in state want) and reasoned (its responses contain reason). */
static void check_learner(row *r, const char *u, const char *want, const char *reason)
{
    char *st, *resp;
    learner(u, &st, &resp);
    r->learners++;
    if (!strcmp(st, want)) r->known++;
    else snprintf(r->note, sizeof r->note, "%s is %s, not %s", u, st, want);
    if (!reason || strstr(resp, reason)) r->reason++;
    else snprintf(r->note, sizeof r->note, "%s: reason '%.60s' not at the LMS", u, reason);
    free(st);
    free(resp);
}

/* Counts the audit log's lines: whole JSON objects (and bad ones) and those matching
 * phase/outcome (NULL = any). Returns the matches. */
static int audit_count(row *r, const char *path, const char *phase, const char *outcome)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[65536];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        cJSON *o = l && line[l - 1] == '\n' ? cJSON_Parse(line) : NULL;
        if (!cJSON_IsObject(o)) {
            bad++;
            cJSON_Delete(o);
            continue;
        }
        const cJSON *p = cJSON_GetObjectItem(o, "phase"), *oc = cJSON_GetObjectItem(o, "outcome");
        if ((!phase || (cJSON_IsString(p) && !strcmp(p->valuestring, phase))) &&
            (!outcome || (cJSON_IsString(oc) && !strcmp(oc->valuestring, outcome))))
            n++;
        cJSON_Delete(o);
    }
    /* a last line without its newline is torn too */
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (size > 0) {
        fseek(f, size - 1, SEEK_SET);
        if (fgetc(f) != '\n') bad++;
    }
    fclose(f);
    if (r) r->bad_lines = bad;
    return n;
}

/* Lines of the audit log with this phase that carry both user_id and retirement_id (D10). */
static int audit_with_ids(const char *path, const char *phase)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[65536];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *p = cJSON_GetObjectItem(o, "phase");
        if (cJSON_IsString(p) && !strcmp(p->valuestring, phase) && cJSON_IsNumber(cJSON_GetObjectItem(o, "user_id")) &&
            cJSON_IsNumber(cJSON_GetObjectItem(o, "retirement_id")))
            n++;
        cJSON_Delete(o);
    }
    fclose(f);
    return n;
}

/* retirectl processes whose command line names conf (workers are forks: same command line);
 * kill_them: SIGKILL each. */
static int processes_of(const char *conf, int kill_them)
{
    DIR *d = opendir("/proc");
    if (!d) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0])) continue;
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0) continue;
        for (ssize_t i = 0; i < len; i++)
            if (!buf[i]) buf[i] = ' ';
        buf[len] = '\0';
        char stat_path[300], st[512] = "";
        snprintf(stat_path, sizeof stat_path, "/proc/%s/stat", de->d_name);
        FILE *sf = fopen(stat_path, "r");
        if (sf) {
            if (!fgets(st, sizeof st, sf)) st[0] = '\0';
            fclose(sf);
        }
        const char *paren = strrchr(st, ')');
        int zombie = paren && paren[1] == ' ' && paren[2] == 'Z';
        if (!zombie && strstr(buf, conf)) {
            n++;
            if (kill_them) kill((pid_t)atol(de->d_name), SIGKILL);
        }
    }
    closedir(d);
    return n;
}

/* Waits (up to secs) until no process of conf is left; returns how many were left (and kills
 * them, so a failing case leaves nothing behind). */
static int wait_gone(const char *conf, double secs)
{
    double until = now_s() + secs;
    int n;
    while ((n = processes_of(conf, 0)) > 0 && now_s() < until) sleep_s(0.1);
    if (n) processes_of(conf, 1);
    if (n > left_seen) left_seen = n;
    return n;
}

/* Starts retirectl (args after the binary, NULL-terminated) in the background with its output in
 * files of the run dir; returns the pid. */
static pid_t spawn(const char *tag, const char *const *args)
{
    char out[1200], err[1200];
    snprintf(out, sizeof out, "%s/%s.out", DIR_, tag);
    snprintf(err, sizeof err, "%s/%s.err", DIR_, tag);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        setenv("XDG_STATE_HOME", STATE, 1);
        setenv("RETIRECTL_TEST_BACKOFF_SCALE", "0.1", 1);
        const char *argv[40];
        int n = 0;
        argv[n++] = bin();
        for (int i = 0; args[i] && n < 39; i++) argv[n++] = args[i];
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits for pid (up to secs, then SIGKILL); returns its exit status (128+signal). */
static int reap(pid_t pid, double secs)
{
    double until = now_s() + secs;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (now_s() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        sleep_s(0.05);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs retirectl to the end; returns the exit status. */
static int run(const char *tag, const char *const *args)
{
    return reap(spawn(tag, args), 120);
}

/* The text a run printed on stdout or stderr (malloc'd). */
static char *output(const char *tag, const char *which)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.%s", DIR_, tag, which);
    FILE *f = fopen(path, "r");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = '\0';
    fclose(f);
    return s;
}

/* The first child of pid (the worker), waiting up to secs for it; 0 when none. */
static pid_t child_of(pid_t pid, double secs)
{
    double until = now_s() + secs;
    while (now_s() < until) {
        char path[128];
        snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)pid, (long)pid);
        FILE *f = fopen(path, "r");
        long c = 0;
        if (f) {
            if (fscanf(f, "%ld", &c) != 1) c = 0;
            fclose(f);
        }
        if (c > 0) return (pid_t)c;
        sleep_s(0.02);
    }
    return 0;
}

/* Waits until learner u is in state (up to secs). */
static void wait_state(const char *u, const char *state, double secs)
{
    double until = now_s() + secs;
    while (now_s() < until) {
        char *st;
        learner(u, &st, NULL);
        int hit = !strcmp(st, state);
        free(st);
        if (hit) return;
        sleep_s(0.05);
    }
}

static row *new_row(const char *name)
{
    row *r = &rows[n_rows++];
    memset(r, 0, sizeof *r);
    left_seen = 0;
    r->name = name;
    return r;
}

/* Starts a case: its row, a fresh audit log path and a config with the middle pipeline rows. */
static row *case_begin(const char *name, const char *middle, char *audit, size_t audit_len, char **conf)
{
    row *r = new_row(name);
    audit_path(audit, audit_len);
    *conf = config_for(middle, audit, NULL);
    return r;
}

/* Finishes the row: processes left, and its audit counts. */
static void finish_row(row *r, const char *conf, const char *audit, int changes, int audited)
{
    wait_gone(conf, 10);
    r->left = left_seen;
    r->changes = changes;
    r->audited = audited;
    audit_count(r, audit, NULL, NULL);
}

/* ------------------------------------------------------------------ cases */

/* kill -9 of the supervisor while a step runs: the worker finishes the step, records ERRORED with
 * "supervisor ... was lost after", appends its own audit end line. */
static void case_kill_supervisor_in_step(void)
{
    char audit[1024], *conf;
    row *r = case_begin("kill -9 supervisor, in a step", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_ks1\", \"days_ago\": 1}");
    const char *args[] = {"--config", conf, "retire", "fm_ks1", NULL};
    pid_t p = spawn("ks1", args);
    wait_state("fm_ks1", "RETIRING_SLOW", 10);
    kill(p, SIGKILL);
    reap(p, 5);
    wait_gone(conf, 15);
    check_learner(r, "fm_ks1", "ERRORED", "was lost after RETIRING_SLOW completed");
    r->extra_ok = audit_count(NULL, audit, "start", NULL) == 1;
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "errored"));
    free(conf);
}

/* kill -9 of `retire --all -j 4` while four learners are in a step: each worker finishes its
 * step, records ERRORED with the reason and its own audit end line; the rest stay PENDING. */
static void case_kill_retire_all(void)
{
    char audit[1024], *conf;
    row *r = case_begin("kill -9 retire --all -j 4", STEP(SLOW), audit, sizeof audit, &conf);
    add_bulk("fm_ka", 8, 6);
    const char *args[] = {"--config", conf, "retire", "--all", "-j", "4", "--cool-off-days", "5", NULL};
    pid_t p = spawn("kill_all", args);
    wait_state("fm_ka03", "RETIRING_SLOW", 10);
    wait_state("fm_ka00", "RETIRING_SLOW", 10);
    kill(p, SIGKILL);
    reap(p, 5);
    wait_gone(conf, 15);
    int errored = 0;
    for (int i = 0; i < 8; i++) {
        char u[32], *st;
        snprintf(u, sizeof u, "fm_ka%02d", i);
        learner(u, &st, NULL);
        int was_running = !strcmp(st, "ERRORED");
        errored += was_running;
        check_learner(r, u, was_running ? "ERRORED" : "PENDING", was_running ? "was lost after RETIRING_SLOW" : NULL);
        free(st);
    }
    r->extra_ok = errored >= 1 && errored <= 4; /* the learners in flight at the kill */
    snprintf(r->note, sizeof r->note, "%d in flight recorded ERRORED by their workers, %d untouched", errored, 8 - errored);
    finish_row(r, conf, audit, errored, audit_count(NULL, audit, "end", "errored"));
    free(conf);
}

/* kill -9 of the supervisor while a step hangs: the worker's watchdog stops it at
 * step_timeout_seconds and records ERRORED itself. */
static void case_kill_supervisor_hang(void)
{
    char audit[1024], *conf;
    row *r = case_begin("kill -9 supervisor, hanging step", STEP(HANG), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_ks2\", \"days_ago\": 1}");
    const char *args[] = {"--config", conf, "retire", "fm_ks2", NULL};
    pid_t p = spawn("ks2", args);
    wait_state("fm_ks2", "RETIRING_HANG", 10);
    kill(p, SIGKILL);
    reap(p, 5);
    double t0 = now_s();
    wait_gone(conf, 20);
    double took = now_s() - t0;
    check_learner(r, "fm_ks2", "ERRORED", "HANG.retire timed out after 3 s; retirectl's supervisor");
    r->extra_ok = 1; /* no time is asserted: a worker left running shows in the `left` column */
    snprintf(r->note, sizeof r->note, "orphan stopped %.1f s after the kill (timeout 3 s)", took);
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "errored"));
    free(conf);
}

/* kill -9 of the supervisor while the start PATCH of a step is delayed at the LMS. */
static void case_kill_supervisor_in_patch(void)
{
    char audit[1024], *conf;
    row *r = case_begin("kill -9 supervisor, in a PATCH", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_ks3\", \"days_ago\": 1}");
    fault("{\"endpoint\": \"update_retirement_status\", \"username\": \"fm_ks3\", \"actions\": [\"pass\", \"pass\", "
          "{\"latency_ms\": 1500}]}");
    const char *args[] = {"--config", conf, "retire", "fm_ks3", NULL};
    pid_t p = spawn("ks3", args);
    wait_state("fm_ks3", "FORUMS_COMPLETE", 10);
    sleep_s(0.3);
    kill(p, SIGKILL);
    reap(p, 5);
    wait_gone(conf, 15);
    check_learner(r, "fm_ks3", "ERRORED", "was lost after RETIRING_SLOW completed");
    r->extra_ok = 1;
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "errored"));
    free(conf);
}

/* Non-zero when process pid has a descriptor open on path (D24: workers never hold the audit log). */
static int has_fd_on(pid_t pid, const char *path)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int hit = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char link[400], target[1200];
        snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = '\0';
        if (!strcmp(target, path)) hit = 1;
    }
    closedir(d);
    return hit;
}

/* kill -9 of the worker in a step: the supervisor records "SLOW.retire crashed (SIGKILL)"; while
 * the step ran, the worker did not hold the audit log open (the supervisor did). */
static void case_kill_worker_in_step(void)
{
    char audit[1024], *conf;
    row *r = case_begin("kill -9 worker, in a step", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_kw1\", \"days_ago\": 1}");
    const char *args[] = {"--config", conf, "retire", "fm_kw1", NULL};
    pid_t p = spawn("kw1", args);
    pid_t w = child_of(p, 5);
    wait_state("fm_kw1", "RETIRING_SLOW", 10);
    int worker_holds = w ? has_fd_on(w, audit) : 1, supervisor_holds = has_fd_on(p, audit);
    if (w) kill(w, SIGKILL);
    int st = reap(p, 30);
    check_learner(r, "fm_kw1", "ERRORED", "SLOW.retire crashed (SIGKILL)");
    r->extra_ok = st == 252 && !worker_holds && supervisor_holds;
    snprintf(r->note, sizeof r->note, "audit log open in the worker: %s, in the supervisor: %s",
             worker_holds ? "yes" : "no", supervisor_holds ? "yes" : "no");
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "errored"));
    free(conf);
}

/* kill -9 of the worker while the start PATCH of the next step is delayed (D8): never "no state
 * was changed"; ERRORED with the reason (the late PATCH is then refused by the LMS). */
static void case_kill_worker_in_patch(void)
{
    char audit[1024], *conf;
    row *r = case_begin("kill -9 worker, in a PATCH (D8)", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_kw2\", \"days_ago\": 1}");
    fault("{\"endpoint\": \"update_retirement_status\", \"username\": \"fm_kw2\", \"actions\": [\"pass\", \"pass\", "
          "{\"latency_ms\": 1500}]}");
    const char *args[] = {"--config", conf, "retire", "fm_kw2", NULL};
    pid_t p = spawn("kw2", args);
    pid_t w = child_of(p, 5);
    wait_state("fm_kw2", "FORUMS_COMPLETE", 10);
    sleep_s(0.3);
    if (w) kill(w, SIGKILL);
    int st = reap(p, 30);
    sleep_s(1.5); /* the delayed PATCH lands (and is refused) */
    check_learner(r, "fm_kw2", "ERRORED", "crashed (SIGKILL) outside a driver call after RETIRING_FORUMS");
    char *out = output("kw2", "err");
    /* D12: the reason is printed in text mode too */
    r->extra_ok = st == 252 && !strstr(out, "no state was changed") && strstr(out, "outside a driver call");
    free(out);
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "errored"));
    free(conf);
}

/* Two retires of one learner (D3), as the review ran them: the first one's first PATCH is slow,
 * so the second reads PENDING too. The second is refused (253, naming the holder) before it
 * changes anything; the first completes. */
static void case_two_retires(void)
{
    char audit[1024], *conf;
    row *r = case_begin("two concurrent retires (D3)", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_two\", \"days_ago\": 1}");
    fault("{\"endpoint\": \"update_retirement_status\", \"username\": \"fm_two\", \"latency_ms\": 1500, \"times\": 1}");
    const char *args[] = {"--config", conf, "retire", "fm_two", NULL};
    pid_t a = spawn("two_a", args);
    /* until the first one holds the lease (a build without leases: 0.5 s, its PATCH still pending) */
    char state_dir[1100];
    snprintf(state_dir, sizeof state_dir, "%s/retirectl", STATE);
    char lms[128];
    snprintf(lms, sizeof lms, "%s/", SIM.base_url); /* as base_urls.lms in the config */
    double until = now_s() + 0.5;
    lease_holder h;
    char err[256];
    while (now_s() < until && lease_peek(state_dir, lms, "fm_two", &h, err, sizeof err) != 1) sleep_s(0.01);
    sleep_s(0.2);
    int sb = run("two_b", args);
    int sa = reap(a, 30);
    check_learner(r, "fm_two", "COMPLETE", "Learner retirement complete.");
    char *eb = output("two_b", "err");
    /* D10: the retire's start and end lines name the learner by its ids */
    r->extra_ok = sa == 0 && sb == 253 && strstr(eb, "is being worked on by pid") != NULL &&
                  audit_with_ids(audit, "start") == 1 && audit_with_ids(audit, "end") == 1;
    snprintf(r->note, sizeof r->note, "first exit %d, second exit %d", sa, sb);
    free(eb);
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "complete"));
    free(conf);
}

/* resume of a learner a local retire is working on (B3): refused 253; after it, the retire
 * completes untouched. */
static void case_resume_while_running(void)
{
    char audit[1024], *conf;
    row *r = case_begin("resume while a retire runs (B3)", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_b3\", \"days_ago\": 1}");
    const char *args[] = {"--config", conf, "retire", "fm_b3", NULL};
    pid_t a = spawn("b3_a", args);
    wait_state("fm_b3", "RETIRING_SLOW", 10);
    const char *rargs[] = {"--config", conf, "resume", "fm_b3", "--yes", "--force", NULL};
    int sb = run("b3_b", rargs);
    int sa = reap(a, 30);
    check_learner(r, "fm_b3", "COMPLETE", "Learner retirement complete.");
    r->extra_ok = sa == 0 && sb == 253;
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "complete"));
    free(conf);
}

/* The cross-host rule: a working state changed just now is refused without --force (253), and
 * resumed with it. */
static void case_fresh_working_state(void)
{
    char audit[1024], *conf;
    step_timeout = 60; /* the freshness window: wide enough for a slow machine */
    row *r = case_begin("resume of a fresh working state", STEP(SLOW), audit, sizeof audit, &conf);
    step_timeout = 3;
    add_learners("{\"username\": \"fm_fresh\", \"days_ago\": 1}");
    char *tok = sim_token(&SIM);
    sim_http(&SIM, "PATCH", "/api/user/v1/accounts/update_retirement_status/", tok,
             "{\"username\": \"fm_fresh\", \"new_state\": \"RETIRING_SLOW\", \"response\": \"elsewhere\", \"force\": true}",
             NULL);
    free(tok);
    const char *a1[] = {"--config", conf, "resume", "fm_fresh", "--yes", NULL};
    int s1 = run("fresh_1", a1);
    char *err = output("fresh_1", "err");
    int said = strstr(err, "may be running for it on another host") != NULL;
    free(err);
    /* with --events the refusal is also the job's `result` event, as the lease refusal is */
    const char *a1e[] = {"--config", conf, "resume", "fm_fresh", "--yes", "--events", NULL};
    int s1e = run("fresh_1e", a1e);
    char *out = output("fresh_1e", "out");
    int evented = strstr(out, "\"event\":\"result\"") && strstr(out, "\"outcome\":\"refused\"") &&
                  strstr(out, "\"exit_status\":253");
    free(out);
    const char *a2[] = {"--config", conf, "resume", "fm_fresh", "--yes", "--force", NULL};
    int s2 = run("fresh_2", a2);
    check_learner(r, "fm_fresh", "COMPLETE", "Resumed by");
    r->extra_ok = s1 == 253 && said && s1e == 253 && evented && s2 == 0;
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "complete"));
    free(conf);
}

/* SIGTERM while the step runs, then the end-state PATCH answers 503 twice (D14): the bookkeeping
 * keeps its retries, the step is done, the learner stays in its end state, exit 130. */
static void case_cancel_during_retry(void)
{
    char audit[1024], *conf;
    row *r = case_begin("SIGTERM, PATCH retried (D14)", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_cancel\", \"days_ago\": 1}");
    fault("{\"endpoint\": \"update_retirement_status\", \"username\": \"fm_cancel\", \"actions\": [\"pass\", \"pass\", "
          "\"pass\", 503, 503, \"pass\"]}");
    const char *args[] = {"--config", conf, "retire", "fm_cancel", NULL};
    pid_t p = spawn("cancel", args);
    wait_state("fm_cancel", "RETIRING_SLOW", 10);
    kill(p, SIGTERM);
    int st = reap(p, 30);
    check_learner(r, "fm_cancel", "SLOW_COMPLETE", "Ending: SLOW_COMPLETE with response");
    r->extra_ok = st == 130;
    finish_row(r, conf, audit, 1, audit_count(NULL, audit, "end", "cancelled"));
    free(conf);
}

/* rerun of a method that is not a pipeline step crashes / hangs: the state never changes; a
 * bracketed rerun that crashes records ERRORED with the reason. */
static void case_reruns(void)
{
    char audit[1024], *conf;
    row *r = case_begin("rerun crash/hang/bracketed", STEP(CRASH), audit, sizeof audit, &conf);
    add_learners("[{\"username\": \"fm_rr1\", \"days_ago\": 1}, {\"username\": \"fm_rr2\", \"days_ago\": 1}, {\"username\": \"fm_rr3\", \"days_ago\": 1, "
                 "\"state\": \"FORUMS_COMPLETE\"}]");
    /* CRASH.retire is a step of conf (bracketed) but not of conf_slow (just called) */
    char *conf_slow = config_for(STEP(SLOW), audit, NULL);
    const char *a1[] = {"--config", conf_slow, "rerun", "fm_rr1", "CRASH.retire", "--yes", NULL};
    const char *a2[] = {"--config", conf, "rerun", "fm_rr2", "HANG.retire", "--yes", NULL};
    const char *a3[] = {"--config", conf, "rerun", "fm_rr3", "CRASH.retire", "--yes", NULL};
    int s1 = run("rr1", a1);
    int s2 = run("rr2", a2);
    int s3 = run("rr3", a3);
    check_learner(r, "fm_rr1", "PENDING", NULL);
    check_learner(r, "fm_rr2", "PENDING", NULL);
    check_learner(r, "fm_rr3", "ERRORED", "CRASH.retire crashed (SIGSEGV)");
    r->extra_ok = s1 == 252 && s2 == 252 && s3 == 252;
    /* every rerun has its end line; only the bracketed one changed a state */
    finish_row(r, conf, audit, 3, audit_count(NULL, audit, "end", "errored"));
    r->left += wait_gone(conf_slow, 5);
    free(conf_slow);
    free(conf);
}

/* A crashing driver in `retire --all -j 8`: the circuit breaker stops starting learners after 5
 * failures in a row of CRASH.retire; every started learner is ERRORED with the reason and has an
 * audit item, the others stay PENDING. */
static void case_retire_all_crash(void)
{
    char audit[1024], *conf;
    row *r = case_begin("retire --all -j 8, crashing driver", STEP(CRASH), audit, sizeof audit, &conf);
    /* the queue is every PENDING learner of the sim: only this case's 30 learners are PENDING
     * with a cool-off passed (the others were created today) */
    add_bulk("fm_all", 30, 10);
    const char *args[] = {"--config", conf, "--json", "retire", "--all", "-j", "8", "--cool-off-days", "7", NULL};
    int st = run("all_crash", args);
    int errored = 0, pending = 0;
    for (int i = 0; i < 30; i++) {
        char u[32], *s, *resp;
        snprintf(u, sizeof u, "fm_all%02d", i);
        learner(u, &s, &resp);
        r->learners++;
        if (!strcmp(s, "ERRORED")) {
            errored++;
            r->known++;
            if (strstr(resp, "CRASH.retire crashed (SIGSEGV)")) r->reason++;
        } else if (!strcmp(s, "PENDING")) {
            pending++;
            r->known++;
            r->reason++; /* untouched: nothing to record */
        }
        free(s);
        free(resp);
    }
    char *out = output("all_crash", "out");
    cJSON *sum = cJSON_Parse(out);
    const cJSON *cb = cJSON_GetObjectItem(sum, "circuit_breaker");
    r->extra_ok = st == 248 && cJSON_IsObject(cb) && errored >= 5 && errored <= 5 + 8 && pending == 30 - errored;
    snprintf(r->note, sizeof r->note, "exit %d, %d ERRORED, %d not started", st, errored, pending);
    cJSON_Delete(sum);
    free(out);
    finish_row(r, conf, audit, errored, audit_count(NULL, audit, "item", "errored"));
    free(conf);
}

/* A leaking driver (40 MiB per learner) with --worker-max-rss-mib 150: workers are recycled, every
 * learner completes. */
static void case_retire_all_leak(void)
{
    char audit[1024], *conf;
    row *r = case_begin("retire --all -j 2, leaking driver", STEP(LEAK), audit, sizeof audit, &conf);
    add_bulk("fm_leak", 16, 10);
    const char *args[] = {"--config", conf, "--json", "retire", "--all", "-j", "2", "--cool-off-days", "7",
                          "--worker-max-rss-mib", "150", NULL};
    int st = run("all_leak", args);
    for (int i = 0; i < 16; i++) {
        char u[32];
        snprintf(u, sizeof u, "fm_leak%02d", i);
        check_learner(r, u, "COMPLETE", "Learner retirement complete.");
    }
    char *out = output("all_leak", "out");
    cJSON *sum = cJSON_Parse(out);
    const cJSON *rec = cJSON_GetObjectItem(sum, "workers_recycled");
    int recycled = cJSON_IsNumber(rec) ? rec->valueint : -1;
    r->extra_ok = st == 0 && recycled >= 2;
    snprintf(r->note, sizeof r->note, "%d workers recycled", recycled);
    cJSON_Delete(sum);
    free(out);
    finish_row(r, conf, audit, 16, audit_count(NULL, audit, "item", "complete"));
    free(conf);
}

/* The audit log's disk is full when the end line is written (a file size limit): the line is
 * cut back off, the retire keeps its true status and says so loudly; a torn last line left by
 * an earlier crash is repaired on the next open. */
static void case_audit_full(void)
{
    char audit[1024], *conf;
    row *r = case_begin("audit log: full disk, torn line", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("[{\"username\": \"fm_disk\", \"days_ago\": 1}, {\"username\": \"fm_torn\", \"days_ago\": 1}]");
    /* 3,774 bytes of whole lines under a 4,096-byte limit: the start line (about 150 bytes) fits,
     * the end line (about 400) does not */
    FILE *f = fopen(audit, "w");
    for (int i = 0; i < 37; i++) fprintf(f, "{\"phase\":\"item\",\"action\":\"x\",\"pad\":\"%063d\"}\n", i);
    fclose(f);
    chmod(audit, 0600);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "trap '' XFSZ; ulimit -f 8; exec '%s' --config '%s' retire fm_disk", bin(), conf);
    const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
    char out[1200], errp[1200];
    snprintf(out, sizeof out, "%s/disk.out", DIR_);
    snprintf(errp, sizeof errp, "%s/disk.err", DIR_);
    pid_t p = fork();
    if (p == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        setenv("XDG_STATE_HOME", STATE, 1);
        execv(sh[0], (char *const *)sh);
        _exit(127);
    }
    int st = reap(p, 60);
    char *err = output("disk", "err");
    int loud = strstr(err, "AUDIT LOG INCOMPLETE") != NULL;
    free(err);
    check_learner(r, "fm_disk", "COMPLETE", "Learner retirement complete.");
    int whole_after_full = audit_count(r, audit, NULL, NULL) > 0 && r->bad_lines == 0;
    /* a torn last line (no newline), then a retire: the log is whole again */
    f = fopen(audit, "a");
    fputs("{\"phase\":\"end\",\"action\":\"retire\",\"outc", f);
    fclose(f);
    const char *args[] = {"--config", conf, "retire", "fm_torn", NULL};
    int st2 = run("torn", args);
    check_learner(r, "fm_torn", "COMPLETE", "Learner retirement complete.");
    r->extra_ok = st == 0 && loud && whole_after_full && st2 == 0;
    snprintf(r->note, sizeof r->note, "exit %d (end line refused by the disk), loud=%d", st, loud);
    /* changes: two retirements; lines recorded for them: the torn one's start+end, the full one's
     * start (its end could not be written, and said so) */
    finish_row(r, conf, audit, 2, audit_count(NULL, audit, "end", "complete") + audit_count(NULL, audit, "start", NULL) - 1);
    free(conf);
}

/* reset of learners in a working state: one changed just now (it may be running elsewhere) is
 * skipped and named without --force (exit 253) while the stale one is moved; --force moves it. */
static void case_reset_fresh(void)
{
    char audit[1024], *conf;
    step_timeout = 60; /* the freshness window: wide enough for a slow machine */
    row *r = case_begin("reset of a fresh working state", STEP(SLOW), audit, sizeof audit, &conf);
    step_timeout = 3;
    add_learners("[{\"username\": \"fm_rs_old\", \"days_ago\": 1, \"state\": \"RETIRING_SLOW\"}, "
                 "{\"username\": \"fm_rs_new\", \"days_ago\": 1, \"state\": \"FORUMS_COMPLETE\"}]");
    char *tok = sim_token(&SIM);
    sim_http(&SIM, "PATCH", "/api/user/v1/accounts/update_retirement_status/", tok,
             "{\"username\": \"fm_rs_new\", \"new_state\": \"RETIRING_SLOW\", \"response\": \"elsewhere\", "
             "\"force\": true}",
             NULL);
    free(tok);
    char from[16], to[16];
    time_t now = time(NULL), before = now - 3 * 86400;
    struct tm tm;
    strftime(from, sizeof from, "%Y-%m-%d", gmtime_r(&before, &tm));
    strftime(to, sizeof to, "%Y-%m-%d", gmtime_r(&now, &tm));
    const char *a1[] = {"--config", conf, "reset", "--initial-state", "RETIRING_SLOW", "--new-state", "FORUMS_COMPLETE",
                        "--start-date", from, "--end-date", to, NULL};
    int s1 = run("reset_1", a1);
    char *st;
    learner("fm_rs_new", &st, NULL);
    int kept = !strcmp(st, "RETIRING_SLOW");
    free(st);
    char *err = output("reset_1", "err");
    int named = strstr(err, "skipped fm_rs_new") != NULL;
    free(err);
    const char *a2[] = {"--config", conf, "reset", "--initial-state", "RETIRING_SLOW", "--new-state", "FORUMS_COMPLETE",
                        "--start-date", from, "--end-date", to, "--force", NULL};
    int s2 = run("reset_2", a2);
    check_learner(r, "fm_rs_old", "FORUMS_COMPLETE", "Force updated via retirement_bulk_status_update script");
    check_learner(r, "fm_rs_new", "FORUMS_COMPLETE", "Force updated via retirement_bulk_status_update script");
    r->extra_ok = s1 == 253 && kept && named && s2 == 0;
    snprintf(r->note, sizeof r->note, "without --force exit %d (fresh one kept: %s), with it exit %d", s1,
             kept ? "yes" : "no", s2);
    finish_row(r, conf, audit, 2, audit_count(NULL, audit, "item", "updated"));
    free(conf);
}

/* A NUL in a queue username (D19): "fm_nul\u0000_other" is refused as a bad record (251), and
 * fm_nul (another learner) is never touched. */
static void case_nul_username(void)
{
    char audit[1024], *conf;
    row *r = case_begin("NUL in a queue username (D19)", STEP(SLOW), audit, sizeof audit, &conf);
    add_learners("{\"username\": \"fm_nul\", \"days_ago\": 1}");
    fault("{\"endpoint\": \"retirement_queue\", \"times\": 1, \"actions\": [{\"status\": 200, \"content_type\": "
          "\"application/json\", \"body\": \"[{\\\"original_username\\\": \\\"fm_nul\\\\u0000_other\\\"}]\"}]}");
    const char *args[] = {"--config", conf, "retire", "--all", "--cool-off-days", "0", NULL};
    int st = run("nul", args);
    check_learner(r, "fm_nul", "PENDING", NULL);
    int items = audit_count(NULL, audit, "item", "refused");
    r->extra_ok = st == 252 && items == 1;
    snprintf(r->note, sizeof r->note, "exit %d, %d refused item", st, items);
    finish_row(r, conf, audit, 1, items);
    free(conf);
}

/* ------------------------------------------------------------------ main */

static int row_passed(const row *r)
{
    return r->learners > 0 && r->known == r->learners && r->reason == r->learners && r->audited >= r->changes &&
           r->bad_lines == 0 && r->left == 0 && r->extra_ok;
}

int main(void)
{
    setenv("LC_ALL", "C.UTF-8", 1);
    signal(SIGPIPE, SIG_IGN);
    DIR_ = make_temp_dir();
    snprintf(STATE, sizeof STATE, "%s/state", DIR_);
    mkdir(STATE, 0700);
    char pipe_doc[2048];
    snprintf(pipe_doc, sizeof pipe_doc, "retirement_pipeline:\n%s", ALL_PIPELINE);
    char *pipe_file = write_temp_file("pipeline.yml", pipe_doc);
    const char *sim_args[] = {"--pipeline-config", pipe_file, NULL};
    if (sim_start(&SIM, sim_args) != 0) {
        fprintf(stderr, "fault matrix: cannot start retirectl-sim\n");
        return 1;
    }
    char ep[4096];
    snprintf(ep, sizeof ep,
             "[retirement_driver]\n"
             "SLOW = %s/slow.so:retirectl_driver_slow\n"
             "HANG = %s/hang.so:retirectl_driver_hang\n"
             "CRASH = %s/crash.so:retirectl_driver_crash\n"
             "LEAK = %s/leak.so:retirectl_driver_leak\n",
             RETIRECTL_TEST_PLUGIN_DIR, RETIRECTL_TEST_PLUGIN_DIR, RETIRECTL_TEST_PLUGIN_DIR, RETIRECTL_TEST_PLUGIN_DIR);
    EP = write_temp_file("drivers.conf", ep);
    chmod(EP, 0644);

    case_two_retires();
    case_resume_while_running();
    case_fresh_working_state();
    case_kill_supervisor_in_step();
    case_kill_supervisor_hang();
    case_kill_supervisor_in_patch();
    case_kill_retire_all();
    case_kill_worker_in_step();
    case_kill_worker_in_patch();
    case_cancel_during_retry();
    case_reruns();
    case_retire_all_leak();
    case_retire_all_crash();
    case_audit_full();
    case_nul_username();
    case_reset_fresh();

    printf("%-36s %8s %6s %6s %8s %5s %4s %5s  %s\n", "case", "learners", "known", "reason", "audited", "torn",
           "left", "result", "note");
    int passed = 0, failed = 0;
    for (int i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        int ok = row_passed(r);
        char aud[32];
        snprintf(aud, sizeof aud, "%d/%d", r->audited, r->changes);
        printf("%-36s %8d %6d %6d %8s %5d %4d %5s  %s\n", r->name, r->learners, r->known, r->reason, aud,
               r->bad_lines, r->left, ok ? "pass" : "FAIL", r->note);
        if (ok) passed++;
        else failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    sim_stop(&SIM);
    free(pipe_file);
    return failed ? 1 : 0;
}
