/* Running-elsewhere checks (src/ui/elsewhere.h) against a made-up /proc tree: which processes
 * count (a retirectl retire/resume/rerun naming the learner, same config, not our own job), and
 * the LMS freshness rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "simproc.h"
#include "engine/lease.h"
#include "ui/elsewhere.h"

static char *root;

/* Writes root/rel with n bytes of data. */
static void put(const char *rel, const char *data, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(data, 1, n, f);
    fclose(f);
}

/* A process: pid, its pgrp, start ticks and NUL-separated argv (given with '|' separators). */
static void proc(long pid, long pgrp, unsigned long long start, const char *argv)
{
    char rel[64], stat[512], cmd[1024];
    size_t n = strlen(argv);
    memcpy(cmd, argv, n + 1);
    for (size_t i = 0; i < n; i++)
        if (cmd[i] == '|') cmd[i] = '\0';
    snprintf(rel, sizeof rel, "%ld/cmdline", pid);
    put(rel, cmd, n + 1);
    /* fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
       cutime cstime priority nice threads itrealvalue starttime */
    snprintf(stat, sizeof stat, "%ld (retire tl) S 1 %ld %ld 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n", pid, pgrp,
             pgrp, start);
    snprintf(rel, sizeof rel, "%ld/stat", pid);
    put(rel, stat, strlen(stat));
}

static int setup(void **state)
{
    (void)state;
    root = make_temp_dir();
    put("stat", "cpu 0\nbtime 1700000000\n", 23);
    return 0;
}

static void test_local_process(void **state)
{
    (void)state;
    ui_elsewhere w;
    /* nobody: not found (and not fresh) */
    ui_elsewhere_query q = {"kim", 1, 0, 900, NULL, 0, root, "/etc/retirectl.yml", NULL, NULL};
    assert_int_equal(ui_elsewhere_find(&q, 1800000000, &w), 0);
    /* a dry-run, a status and the sim do not count; nor another learner, nor another config */
    proc(100, 100, 500, "/usr/bin/retirectl|--config|/etc/retirectl.yml|retire|kim|--dry-run");
    proc(101, 101, 500, "/usr/bin/retirectl|status|kim");
    proc(102, 102, 500, "/usr/bin/retirectl-sim|retire|kim");
    proc(103, 103, 500, "/usr/bin/retirectl|retire|kimberly");
    proc(104, 104, 500, "/usr/bin/retirectl|--config|/etc/other.yml|retire|kim");
    assert_int_equal(ui_elsewhere_find(&q, 1800000000, &w), 0);
    /* a resume of kim with the same config: found, the oldest of its process group (the job, not
     * its worker) with host, pid and start time */
    proc(200, 200, 1000, "/usr/bin/retirectl|--config|/etc/retirectl.yml|resume|kim|--yes");
    proc(201, 200, 2000, "/usr/bin/retirectl|--config|/etc/retirectl.yml|resume|kim|--yes");
    assert_int_equal(ui_elsewhere_find(&q, 1800000000, &w), 1);
    assert_int_equal(w.pid, 200);
    assert_true(w.host[0] != '\0');
    assert_int_equal(w.since, 1700000000 + 1000 / sysconf(_SC_CLK_TCK));
    assert_string_equal(w.command, "/usr/bin/retirectl --config /etc/retirectl.yml resume kim --yes");
    char text[1024];
    ui_elsewhere_describe(&w, 1700000100, text, sizeof text);
    assert_non_null(strstr(text, "running elsewhere: host "));
    assert_non_null(strstr(text, ", pid 200, since "));
    /* our own job (its process group) does not count */
    pid_t own[1] = {200};
    q.own = own, q.n_own = 1;
    assert_int_equal(ui_elsewhere_find(&q, 1800000000, &w), 0);
}

static void test_fresh_working_state(void **state)
{
    (void)state;
    ui_elsewhere w;
    ui_elsewhere_query q = {"nobody_runs_this", 1, 1000, 900, NULL, 0, root, NULL, NULL, NULL};
    assert_int_equal(ui_elsewhere_find(&q, 1000 + 899, &w), 1); /* changed 899 s ago: maybe running */
    assert_int_equal(w.pid, 0);
    assert_int_equal(w.since, 1000);
    char text[1024];
    ui_elsewhere_describe(&w, 1000 + 899, text, sizeof text);
    assert_non_null(strstr(text, "within step_timeout_seconds"));
    assert_int_equal(ui_elsewhere_find(&q, 1000 + 900, &w), 0); /* older: stuck */
    q.working = 0;
    assert_int_equal(ui_elsewhere_find(&q, 1000 + 10, &w), 0); /* not a working state */
    assert_int_equal(ui_elsewhere_fresh(1, 0, 900, 5000), 0);    /* modified unknown */
}

/* The lease comes first: its holder's host, pid, command and since; a lease held by one of our
 * own jobs, or another LMS's lease of the same username, does not count. */
static void test_lease_holder(void **state)
{
    (void)state;
    char leases[1024], err[512];
    snprintf(leases, sizeof leases, "%s/state", root);
    lease *l = NULL;
    assert_int_equal(lease_acquire(leases, "http://lms.test/", "lee", "retirectl resume", &l, NULL, err, sizeof err), 0);
    ui_elsewhere w;
    /* not a working state, no process names lee: only the lease says it is running */
    ui_elsewhere_query q = {"lee", 0, 0, 900, NULL, 0, root, NULL, "http://lms.test", leases};
    assert_int_equal(ui_elsewhere_find(&q, time(NULL), &w), 1);
    assert_int_equal(w.pid, (long)getpid());
    assert_string_equal(w.command, "retirectl resume");
    char host[256] = "";
    gethostname(host, sizeof host);
    assert_string_equal(w.host, host);
    assert_true(w.since > 0 && w.since <= time(NULL));
    assert_int_equal(ui_elsewhere_lease(&q, &w), 1);
    char text[1024];
    ui_elsewhere_describe(&w, time(NULL), text, sizeof text);
    assert_non_null(strstr(text, "retirectl resume"));
    /* another LMS: another lease */
    q.lms = "http://other.test";
    assert_int_equal(ui_elsewhere_find(&q, time(NULL), &w), 0);
    /* our own job holds it */
    q.lms = "http://lms.test";
    pid_t own[1] = {getpid()};
    q.own = own, q.n_own = 1;
    assert_int_equal(ui_elsewhere_find(&q, time(NULL), &w), 0);
    q.own = NULL, q.n_own = 0;
    /* released: free again */
    lease_release(l);
    assert_int_equal(ui_elsewhere_find(&q, time(NULL), &w), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(root);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_local_process), cmocka_unit_test(test_fresh_working_state),
                                       cmocka_unit_test(test_lease_holder)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
