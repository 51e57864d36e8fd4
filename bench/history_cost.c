/* bench/history_cost: what the retirement history costs (docs/history.md).
 *
 * 1. Recording cost per job, in process: a job of 8 steps with a failure record is written as a
 *    lone CLI job writes it (its "running" row at the start, then the finished row replacing it:
 *    two transactions), median and 95th percentile over N jobs; and batched as `retire --all`
 *    writes (100 finished jobs per transaction), per job. SQLite, and PostgreSQL when its
 *    binaries are installed (a private server, tests/support/pgproc.c).
 * 2. `retirectl retire --all -j 8` against retirectl-sim (4-step LMS pipeline, LEARNERS PENDING
 *    learners) with the history off, on SQLite and on PostgreSQL, ROUNDS rounds interleaved
 *    (off, sqlite, postgresql, off, ...): the median learners/s of each, the median of the paired
 *    ratios to "off" (round by round), and CPU ms per learner of retirectl (getrusage of the
 *    children: supervisor, workers, history writer), of the sim and of the PostgreSQL server
 *    (/proc), which mean something on a loaded machine where wall time does not; and the paired
 *    ratio of CPU per learner (off / on), the throughput ratio when the cores are the limit.
 *    HISTORY_COST_PIN_PG=1: a remote-like server, pinned to CPU 1 while the rest runs on CPU 0.
 * Prints figures; asserts nothing about time.
 *
 * Usage: history_cost [LEARNERS (default 2000)] [ROUNDS (default 3)] [JOBS (default 2000)] */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/history.h"
#include "pgproc.h"
#include "simproc.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A finished 8-step job that failed at step 5, as the recorder builds it. */
static hist_job *sample_job(long long uid)
{
    hist_job *j = calloc(1, sizeof *j);
    hist_job_init(j);
    j->lms_user_id = uid;
    j->retirement_id = uid + 1;
    hist_set(&j->action, "retire");
    hist_set(&j->command, "retirectl retire --all -j 8 --reason weekly");
    hist_set(&j->reason, "weekly");
    hist_set(&j->operator_name, "jenkins");
    hist_set(&j->host, "agent-3");
    j->pid = 4242;
    j->started_ms = hist_now_ms();
    for (int i = 0; i < 8; i++) {
        hist_step *s = hist_job_step(j, i);
        hist_set(&s->start_state, "RETIRING_SOMETHING");
        hist_set(&s->end_state, "SOMETHING_COMPLETE");
        hist_set(&s->driver, "LMS");
        hist_set(&s->method, "retirement_retire_forum");
        hist_set(&s->status, i < 5 ? "done" : i == 5 ? "failed" : "pending");
        s->duration_ms = 12;
        s->attempts = 1;
    }
    return j;
}

/* Marks j finished with a failure. */
static void finish_job(hist_job *j)
{
    hist_set(&j->outcome, "errored");
    j->exit_status = 252;
    j->ended_ms = hist_now_ms();
    hist_set(&j->final_state, "ERRORED");
    hist_set(&j->message, "403 Client Error: Forbidden for url: http://lms/api/discussion/v1/accounts/retire_forum/; "
                          "server said: forum: permission denied");
    j->fail_step = 5;
    hist_set(&j->fail_driver, "LMS");
    hist_set(&j->fail_method, "retirement_retire_forum");
    hist_set(&j->fail_request, "POST /api/discussion/v1/accounts/retire_forum/");
    j->fail_http_status = 403;
    hist_set(&j->fail_server_text, "forum: permission denied");
    j->fail_attempts = 1;
}

/* Part 1 on one store. */
static void recording_cost(const char *label, const char *url, int n)
{
    history *h = NULL;
    char err[1024];
    if (hist_open_url(url, &h, err, sizeof err) != 0) {
        printf("%-11s cannot open: %s\n", label, err);
        return;
    }
    double *t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++) {
        hist_job *j = sample_job(1000000 + i);
        hist_job *list[] = {j};
        double t0 = now_s();
        int rc = hist_save(h, list, 1, err, sizeof err); /* the running row */
        finish_job(j);
        rc |= hist_save(h, list, 1, err, sizeof err); /* the finished row */
        t[i] = (now_s() - t0) * 1000.0;
        if (rc) printf("%-11s save failed: %s\n", label, err);
        hist_job_clear(j);
        free(j);
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    printf("%-11s lone job (2 transactions): median %.3f ms, p95 %.3f ms per job over %d jobs\n", label, t[n / 2],
           t[n * 95 / 100], n);
    /* batched: 100 finished jobs per transaction */
    enum { BATCH = 100 };
    hist_job *batch[BATCH];
    double total = 0;
    int done = 0;
    while (done < n) {
        int k = n - done < BATCH ? n - done : BATCH;
        for (int i = 0; i < k; i++) {
            batch[i] = sample_job(2000000 + done + i);
            finish_job(batch[i]);
        }
        double t0 = now_s();
        if (hist_save(h, batch, (size_t)k, err, sizeof err) != 0) printf("%-11s batch failed: %s\n", label, err);
        total += now_s() - t0;
        for (int i = 0; i < k; i++) {
            hist_job_clear(batch[i]);
            free(batch[i]);
        }
        done += k;
    }
    printf("%-11s batched (100 per transaction): %.3f ms per job\n", label, total * 1000.0 / n);
    free(t);
    hist_close(h);
}

/* Writes a seed of n PENDING learners created 30 days ago; malloc'd path. */
static char *seed_file(int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(root, "learners");
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "hist_bench_%05d", i);
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "username", name);
        cJSON_AddNumberToObject(l, "days_ago", 30);
        cJSON_AddItemToArray(list, l);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *path = write_temp_file("seed.json", text);
    free(text);
    return path;
}

/* CPU seconds (user + sys) of pid and of its children it has reaped, from /proc; 0 if gone. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long v[4] = {0, 0, 0, 0};
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3]) != 4)
        return 0;
    return (double)(v[0] + v[1] + v[2] + v[3]) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of pid's whole tree as it stands (live descendants, and what each has reaped). */
static double tree_cpu_s(pid_t pid)
{
    double total = proc_cpu_s(pid);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return total;
    int child;
    while (fscanf(f, "%d", &child) == 1) total += tree_cpu_s((pid_t)child);
    fclose(f);
    return total;
}

/* Pins pid's whole tree (and, through fork, what it starts later) to one CPU. */
static void pin_tree(pid_t pid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(pid, sizeof set, &set);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return;
    int child;
    while (fscanf(f, "%d", &child) == 1) pin_tree((pid_t)child, cpu);
    fclose(f);
}

/* user + sys seconds of the children this process has waited for */
static double children_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* What one run cost: learners per second (-1: failed), and CPU seconds of retirectl (the
 * supervisor, its workers and the history writer), of the sim and of the PostgreSQL server. */
typedef struct run_cost {
    double rate, cpu_retirectl, cpu_sim, cpu_pg;
} run_cost;

/* One `retire --all -j 8` run. */
static run_cost bulk_run(const sim_proc *sim, const pg_proc *pg, const char *config, int learners)
{
    run_cost c = {-1, 0, 0, 0};
    if (sim_http(sim, "POST", "/__sim/reset", NULL, "{}", NULL) / 100 != 2) return c;
    const char *bin = getenv("RETIRECTL_BIN");
    if (!bin || !*bin) bin = RETIRECTL_BIN;
    char maxl[16];
    snprintf(maxl, sizeof maxl, "%d", learners);
    const char *cmd[] = {bin, "--config", config, "retire", "--all", "-j", "8", "--cool-off-days", "0",
                         "--max-learners", maxl, NULL};
    cmd_result r;
    double cpu0 = children_cpu_s(), sim0 = proc_cpu_s(sim->pid), pg0 = pg ? tree_cpu_s(pg->pid) : 0;
    double t0 = now_s();
    if (run_command(&r, cmd, NULL, NULL, 3600) != 0) return c;
    double el = now_s() - t0;
    c.cpu_retirectl = children_cpu_s() - cpu0;
    c.cpu_sim = proc_cpu_s(sim->pid) - sim0;
    if (pg) {
        struct timespec ts = {0, 100000000L}; /* the server reaps the writer's backend */
        nanosleep(&ts, NULL);
        c.cpu_pg = tree_cpu_s(pg->pid) - pg0;
    }
    int ok = r.status == 0 && !strstr(r.err ? r.err : "", "WARNING: history");
    if (!ok) fprintf(stderr, "history_cost: retire --all exited %d:\n%s", r.status, r.err ? r.err : "");
    cmd_result_free(&r);
    c.rate = ok && el > 0 ? learners / el : -1;
    return c;
}

/* The median of n values (sorts them). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { MODES = 3 };
static const char *const mode_label[MODES] = {"off", "sqlite", "postgresql"};

/* Part 2: ROUNDS rounds of (off, sqlite, postgresql), each mode's figures and the median of the
 * paired ratios (round r's rate over round r's "off"), which a loaded machine skews less than a
 * ratio of medians. */
static void bulk_rounds(const sim_proc *sim, const pg_proc *pg, char *const *configs, int learners, int rounds)
{
    run_cost *runs[MODES];
    for (int k = 0; k < MODES; k++) runs[k] = calloc((size_t)rounds, sizeof(run_cost));
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < MODES; k++)
            if (configs[k]) runs[k][r] = bulk_run(sim, k == 2 ? pg : NULL, configs[k], learners);
    double *v = calloc((size_t)rounds, sizeof *v);
    for (int k = 0; k < MODES; k++) {
        if (!configs[k]) continue;
        printf("history %-10s", mode_label[k]);
        for (int r = 0; r < rounds; r++) v[r] = runs[k][r].rate;
        printf(" %7.1f learners/s (median; rounds:", median(v, rounds));
        for (int r = 0; r < rounds; r++) printf(" %.0f", runs[k][r].rate);
        printf(")\n");
        for (int r = 0; r < rounds; r++) v[r] = runs[k][r].cpu_retirectl * 1000.0 / learners;
        double ret = median(v, rounds);
        for (int r = 0; r < rounds; r++) v[r] = runs[k][r].cpu_sim * 1000.0 / learners;
        double simc = median(v, rounds);
        for (int r = 0; r < rounds; r++) v[r] = runs[k][r].cpu_pg * 1000.0 / learners;
        double pgc = median(v, rounds);
        printf("        CPU ms per learner (median): retirectl %.3f, sim %.3f", ret, simc);
        if (k == 2) printf(", PostgreSQL server %.3f", pgc);
        printf(", total %.3f\n", ret + simc + pgc);
        if (k == 0) continue;
        int n = 0;
        for (int r = 0; r < rounds; r++)
            if (runs[k][r].rate > 0 && runs[0][r].rate > 0) v[n++] = 100.0 * runs[k][r].rate / runs[0][r].rate;
        if (!n) continue;
        printf("        throughput vs off, paired rounds: median %.1f%% (target >= 90%%; rounds:", median(v, n));
        for (int r = 0; r < rounds; r++)
            if (runs[k][r].rate > 0 && runs[0][r].rate > 0)
                printf(" %.0f%%", 100.0 * runs[k][r].rate / runs[0][r].rate);
        printf(")\n");
        /* on a machine whose cores are busy, throughput follows the CPU each learner costs */
        n = 0;
        for (int r = 0; r < rounds; r++) {
            double off = runs[0][r].cpu_retirectl + runs[0][r].cpu_sim;
            double on = runs[k][r].cpu_retirectl + runs[k][r].cpu_sim + runs[k][r].cpu_pg;
            if (runs[k][r].rate > 0 && runs[0][r].rate > 0 && on > 0) v[n++] = 100.0 * off / on;
        }
        if (n)
            printf("        CPU of off / CPU of this (all processes on this machine), paired rounds: median %.1f%%\n",
                   median(v, n));
    }
    free(v);
    for (int k = 0; k < MODES; k++) free(runs[k]);
}

int main(int argc, char **argv)
{
    int learners = argc > 1 ? atoi(argv[1]) : 2000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    int jobs = argc > 3 ? atoi(argv[3]) : 2000;
    if (learners < 1) learners = 2000;
    if (rounds < 1) rounds = 3;
    if (jobs < 10) jobs = 2000;
    char *dir = make_temp_dir();
    pg_proc pg;
    char why[2048] = "";
    int have_pg = pg_start(&pg, why, sizeof why) == 0;
    if (!have_pg) printf("PostgreSQL not measured: %s\n", why);

    printf("1. recording cost (8-step job with a failure record)\n");
    char db[1024];
    snprintf(db, sizeof db, "%s/cost.db", dir);
    recording_cost("sqlite", db, jobs);
    if (have_pg) recording_cost("postgresql", pg.url, jobs);

    int pin = getenv("HISTORY_COST_PIN_PG") && *getenv("HISTORY_COST_PIN_PG") == '1';
    if (pin && have_pg) {
        /* remote-like: the server on CPU 1, the bench (so the sim and retirectl) on CPU 0 */
        pin_tree(pg.pid, 1);
        pin_tree(getpid(), 0);
    }
    printf("2. retire --all -j 8, %d learners, 4-step LMS pipeline, %d rounds of (off, sqlite, postgresql)%s\n",
           learners, rounds,
           pin && have_pg ? "; REMOTE-LIKE: PostgreSQL server pinned to CPU 1, retirectl and the sim to CPU 0"
                          : "");
    char *seed = seed_file(learners);
    const char *args[] = {"--seed", seed, "--legacy-mailings", NULL};
    sim_proc sim;
    if (sim_start(&sim, args) != 0) {
        fprintf(stderr, "history_cost: cannot start retirectl-sim\n");
        return 1;
    }
    char *configs[MODES] = {NULL, NULL, NULL};
    for (int k = 0; k < MODES; k++) {
        if (k == 2 && !have_pg) continue;
        char extra[2048];
        if (k == 0)
            snprintf(extra, sizeof extra, "audit_log: %s/audit%d.jsonl\nhistory:\n  enabled: false\n", dir, k);
        else
            snprintf(extra, sizeof extra, "audit_log: %s/audit%d.jsonl\nhistory:\n  url: \"%s%s\"\n", dir, k,
                     k == 1 ? dir : pg.url, k == 1 ? "/bulk.db" : "");
        configs[k] = sim_write_config(&sim, NULL, extra);
    }
    bulk_rounds(&sim, have_pg ? &pg : NULL, configs, learners, rounds);
    sim_stop(&sim);
    if (have_pg) pg_stop(&pg);
    for (int k = 0; k < MODES; k++) free(configs[k]);
    free(seed);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "history_cost: could not remove %s\n", dir);
    free(dir);
    return 0;
}
