/* Is a learner worked on elsewhere? (see elsewhere.h) */
#include "ui/elsewhere.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/lease.h"
#include "ui/model.h"

int ui_elsewhere_fresh(int working, int64_t modified, double step_timeout_s, time_t now)
{
    if (!working || modified <= 0) return 0;
    if (step_timeout_s <= 0) step_timeout_s = 900;
    return (double)((int64_t)now - modified) < step_timeout_s;
}

/* Reads a whole small file into buf (NUL-terminated); returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Boot time in epoch seconds (btime of /proc/stat), 0 if unknown. */
static int64_t boot_time(const char *root)
{
    char path[300], buf[8192];
    snprintf(path, sizeof path, "%s/stat", root);
    if (slurp(path, buf, sizeof buf) < 0) return 0;
    const char *b = strstr(buf, "\nbtime ");
    return b ? strtoll(b + 7, NULL, 10) : 0;
}

/* Process group and start time (clock ticks since boot) from /proc/PID/stat. */
static int proc_stat(const char *root, long pid, long *pgid, unsigned long long *start)
{
    char path[300], buf[2048];
    snprintf(path, sizeof path, "%s/%ld/stat", root, pid);
    if (slurp(path, buf, sizeof buf) < 0) return -1;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p) return -1;
    /* after ")": field 3 state, 4 ppid, 5 pgrp, ... 22 starttime */
    char *save = NULL, *tok = strtok_r(p + 1, " ", &save);
    for (int field = 3; tok; field++, tok = strtok_r(NULL, " ", &save)) {
        if (field == 5) *pgid = strtol(tok, NULL, 10);
        if (field == 22) {
            *start = strtoull(tok, NULL, 10);
            return 0;
        }
    }
    return -1;
}

/* A retirectl command line (argv separated by NULs, n bytes) that acts on username? */
static int names_learner(const char *argv, size_t n, const char *username)
{
    if (!n) return 0;
    const char *base = strrchr(argv, '/');
    base = base ? base + 1 : argv;
    if (strncmp(base, "retirectl", 9) != 0 || strncmp(base, "retirectl-sim", 13) == 0) return 0;
    int acts = 0, named = 0, dry = 0;
    for (const char *a = argv + strlen(argv) + 1; a < argv + n; a += strlen(a) + 1) {
        if (!strcmp(a, "retire") || !strcmp(a, "resume") || !strcmp(a, "rerun")) acts = 1;
        else if (!strcmp(a, username)) named = 1;
        else if (!strncmp(a, "--username=", 11) && !strcmp(a + 11, username)) named = acts = 1;
        else if (!strcmp(a, "--dry-run")) dry = 1;
    }
    return acts && named && !dry;
}

/* The config file a retirectl command line names (--config F, --config=F, --config_file F,
 * --config-file F), else its RETIREMENT_CONFIG_FILE; "" when neither (the default config). */
static void config_of(const char *root, long pid, const char *argv, size_t n, char *out, size_t size)
{
    out[0] = '\0';
    for (const char *a = argv; a < argv + n; a += strlen(a) + 1) {
        const char *next = a + strlen(a) + 1;
        if (!strncmp(a, "--config=", 9)) snprintf(out, size, "%s", a + 9);
        else if ((!strcmp(a, "--config") || !strcmp(a, "--config_file") || !strcmp(a, "--config-file")) && next < argv + n)
            snprintf(out, size, "%s", next);
        if (out[0]) break;
    }
    if (out[0] && out[0] != '/') { /* relative to that process's working directory */
        char rel[2048];
        snprintf(rel, sizeof rel, "%s", out);
        snprintf(out, size, "%.200s/%ld/cwd/%.2000s", root, pid, rel);
    }
    if (out[0]) return;
    char path[300], env[16384];
    snprintf(path, sizeof path, "%s/%ld/environ", root, pid);
    ssize_t len = slurp(path, env, sizeof env);
    for (const char *e = env; len > 0 && e < env + len; e += strlen(e) + 1)
        if (!strncmp(e, "RETIREMENT_CONFIG_FILE=", 23)) snprintf(out, size, "%s", e + 23);
}

/* Same file? (both resolved; an unresolvable path compares as text) */
static int same_file(const char *a, const char *b)
{
    char ra[4096], rb[4096];
    const char *x = realpath(a, ra) ? ra : a, *y = realpath(b, rb) ? rb : b;
    return strcmp(x, y) == 0;
}

/* Looks for a live retirectl process on this host acting on the learner (not ours). */
static int find_local(const ui_elsewhere_query *q, ui_elsewhere *out)
{
    const char *root = q->proc_root ? q->proc_root : "/proc";
    DIR *d = opendir(root);
    if (!d) return 0;
    long self = (long)getpid(), best_pid = 0;
    unsigned long long best_start = 0;
    struct dirent *e;
    char path[300], cmd[4096];
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self) continue;
        snprintf(path, sizeof path, "%s/%ld/cmdline", root, pid);
        ssize_t n = slurp(path, cmd, sizeof cmd);
        if (n <= 0 || !names_learner(cmd, (size_t)n, q->username)) continue;
        char conf[4096];
        config_of(root, pid, cmd, (size_t)n, conf, sizeof conf);
        if (q->config_path && conf[0] && !same_file(conf, q->config_path)) continue;
        long pgid = 0;
        unsigned long long start = 0;
        if (proc_stat(root, pid, &pgid, &start) != 0) continue;
        int ours = 0;
        for (size_t i = 0; i < q->n_own; i++) ours |= (long)q->own[i] == pgid || (long)q->own[i] == pid;
        if (ours) continue;
        if (!best_pid || start < best_start) { /* the oldest: the job, not its worker */
            best_pid = pid, best_start = start;
            size_t k = 0;
            for (ssize_t i = 0; i < n && k + 1 < sizeof out->command; i++) out->command[k++] = cmd[i] ? cmd[i] : ' ';
            while (k && out->command[k - 1] == ' ') k--;
            out->command[k] = '\0';
        }
    }
    closedir(d);
    if (!best_pid) return 0;
    out->pid = best_pid;
    long hz = sysconf(_SC_CLK_TCK);
    int64_t bt = boot_time(root);
    out->since = bt && hz > 0 ? bt + (int64_t)(best_start / (unsigned long long)hz) : 0;
    if (gethostname(out->host, sizeof out->host) != 0) snprintf(out->host, sizeof out->host, "this host");
    out->host[sizeof out->host - 1] = '\0';
    return 1;
}

/* Is pid (or its process group) one of this console's jobs? */
static int is_own(const ui_elsewhere_query *q, const char *root, long pid)
{
    long pgid = 0;
    unsigned long long start = 0;
    if (proc_stat(root, pid, &pgid, &start) != 0) pgid = 0;
    for (size_t i = 0; i < q->n_own; i++)
        if ((long)q->own[i] == pid || (pgid > 0 && (long)q->own[i] == pgid)) return 1;
    return 0;
}

int ui_elsewhere_lease(const ui_elsewhere_query *q, ui_elsewhere *out)
{
    memset(out, 0, sizeof *out);
    if (!q->username || !*q->username || !q->lms || !*q->lms) return 0;
    lease_holder h;
    char err[512];
    if (lease_peek(q->state_dir, q->lms, q->username, &h, err, sizeof err) != 1) return 0;
    if (h.pid > 0 && is_own(q, q->proc_root ? q->proc_root : "/proc", h.pid)) return 0;
    out->pid = h.pid;
    snprintf(out->host, sizeof out->host, "%.127s", h.host[0] ? h.host : "this host");
    snprintf(out->command, sizeof out->command, "%s%s", h.command[0] ? h.command : "unknown command",
             h.pid > 0 && !h.alive ? " (that process has ended; its worker is finishing the step in flight)" : "");
    out->since = h.since_epoch;
    out->ended = h.pid > 0 && !h.alive;
    return out->found = 1;
}

int ui_elsewhere_find(const ui_elsewhere_query *q, time_t now, ui_elsewhere *out)
{
    memset(out, 0, sizeof *out);
    if (!q->username || !*q->username) return 0;
    if (ui_elsewhere_lease(q, out)) return out->found = 1;
    if (find_local(q, out)) return out->found = 1;
    if (ui_elsewhere_fresh(q->working, q->modified, q->step_timeout_s, now)) {
        out->since = q->modified;
        return out->found = 1;
    }
    return 0;
}

void ui_elsewhere_describe(const ui_elsewhere *w, time_t now, char *out, size_t out_size)
{
    char when[32] = "?", age[16] = "?";
    if (w->since > 0) {
        time_t t = (time_t)w->since;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
        ui_format_age((int64_t)now - w->since, age, sizeof age);
    }
    if (w->pid)
        snprintf(out, out_size, "running elsewhere: host %s, pid %ld, since %s (%s ago): %s", w->host, w->pid, when, age,
                 w->command);
    else
        snprintf(out, out_size, "running elsewhere: its working state changed at %s (%s ago), within "
                 "step_timeout_seconds: a job on another host (pid unknown) may hold it", when, age);
}
