/* The history store (engine/history.h): one test suite run against both back ends, SQLite in a
 * temp file and a real PostgreSQL server started for the test (tests/support/pgproc.c):
 * migrations, saving and replacing jobs, listing and filters, current failures and their groups,
 * pruning, large batches; plus the SQLite file's mode and journal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/history.h"
#include "pgproc.h"
#include "simproc.h"

static pg_proc g_pg;
static int g_pg_state = -2; /* -2 not tried, 0 running, 1 binaries absent, -1 failed */
static char g_pg_why[2048];

typedef struct fixture {
    int pg;          /* back end under test */
    char url[512];   /* store to open */
    char *dir;       /* sqlite: temp folder */
    history *h;
} fixture;

/* Drops the tables of the shared PostgreSQL database so each test starts empty. */
static void pg_reset_db(void)
{
    PGconn *c = PQconnectdb(g_pg.url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "DROP TABLE IF EXISTS retirectl_jobs, retirectl_steps, retirectl_schema");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

static int setup_store(void **state, int pg)
{
    fixture *f = calloc(1, sizeof *f);
    f->pg = pg;
    if (pg) {
        if (g_pg_state != 0) {
            free(f);
            return -1; /* the test skips itself (see store_or_skip) */
        }
        pg_reset_db();
        snprintf(f->url, sizeof f->url, "%s", g_pg.url);
    } else {
        f->dir = make_temp_dir();
        snprintf(f->url, sizeof f->url, "%s/state/retirectl/history.db", f->dir);
    }
    char err[1024] = "";
    int rc = hist_open_url(f->url, &f->h, err, sizeof err);
    if (rc != 0) fprintf(stderr, "open %s: %s\n", f->url, err);
    assert_int_equal(rc, 0);
    *state = f;
    return 0;
}

static int setup_sqlite(void **state) { return setup_store(state, 0); }
static int setup_pg(void **state)
{
    if (g_pg_state == 1) {
        *state = NULL;
        return 0;
    }
    return setup_store(state, 1);
}

static int teardown_store(void **state)
{
    fixture *f = *state;
    if (!f) return 0;
    hist_close(f->h);
    if (f->dir) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
        free(f->dir);
    }
    free(f);
    return 0;
}

/* The fixture, or skips the test when PostgreSQL is not installed. */
static fixture *store_or_skip(void **state)
{
    if (!*state) {
        print_message("SKIPPED (PostgreSQL): %s\n", g_pg_why);
        skip();
    }
    return *state;
}

/* A finished job for learner uid that failed (or not: fail_method NULL) at step 0. */
static hist_job *make_job(long long uid, long long started, const char *outcome, const char *fail_method,
                          long status)
{
    hist_job *j = calloc(1, sizeof *j);
    hist_job_init(j);
    j->lms_user_id = uid;
    j->retirement_id = uid + 1000;
    hist_set(&j->action, "retire");
    hist_set(&j->command, "retirectl retire --all -j 8");
    hist_set(&j->reason, "TICKET-12");
    hist_set(&j->operator_name, "support1");
    hist_set(&j->host, "jenkins-7");
    j->pid = 4242;
    j->started_ms = started;
    j->ended_ms = started + 1500;
    hist_set(&j->outcome, outcome);
    j->exit_status = strcmp(outcome, "complete") == 0 ? 0 : 252;
    hist_set(&j->from_state, "PENDING");
    hist_set(&j->final_state, strcmp(outcome, "errored") == 0 ? "ERRORED" : "COMPLETE");
    hist_set(&j->message, "done");
    hist_step *s = hist_job_step(j, 0);
    hist_set(&s->start_state, "RETIRING_FORUMS");
    hist_set(&s->end_state, "FORUMS_COMPLETE");
    hist_set(&s->driver, "LMS");
    hist_set(&s->method, fail_method ? fail_method : "retirement_retire_forum");
    hist_set(&s->status, fail_method ? "failed" : "done");
    s->duration_ms = 120;
    s->attempts = fail_method ? 3 : 1;
    if (fail_method) {
        j->fail_step = 0;
        hist_set(&j->fail_driver, "LMS");
        hist_set(&j->fail_method, fail_method);
        hist_set(&j->fail_request, "POST /api/discussion/v1/accounts/retire_forum/");
        j->fail_http_status = status;
        hist_set(&j->fail_server_text, "forum: permission denied for service user");
        j->fail_attempts = 3;
    }
    return j;
}

static void save1(fixture *f, hist_job *j)
{
    char err[1024] = "";
    hist_job *list[] = {j};
    int rc = hist_save(f->h, list, 1, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
}

static void free_job(hist_job *j)
{
    hist_job_clear(j);
    free(j);
}

static void test_schema_migrated_once(void **state)
{
    fixture *f = store_or_skip(state);
    char err[1024] = "";
    int v = -1;
    assert_int_equal(hist_schema_version(f->h, &v, err, sizeof err), 0);
    assert_int_equal(v, HIST_SCHEMA_VERSION);
    /* reopening an up-to-date store changes nothing */
    history *again = NULL;
    assert_int_equal(hist_open_url(f->url, &again, err, sizeof err), 0);
    assert_int_equal(hist_schema_version(again, &v, err, sizeof err), 0);
    assert_int_equal(v, HIST_SCHEMA_VERSION);
    hist_close(again);
    assert_string_equal(hist_backend_name(f->h), f->pg ? "postgresql" : "sqlite");
}

static void test_newer_schema_refused(void **state)
{
    fixture *f = store_or_skip(state);
    char err[1024] = "";
    /* a later retirectl migrated the store: this one must not write to it */
    hist_job *j = make_job(1, 1000, "complete", NULL, 0);
    save1(f, j);
    free_job(j);
    hist_close(f->h);
    f->h = NULL;
    if (f->pg) {
        PGconn *c = PQconnectdb(g_pg.url);
        PQclear(PQexec(c, "INSERT INTO retirectl_schema VALUES (99)"));
        PQfinish(c);
    } else {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(f->url, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "INSERT INTO retirectl_schema VALUES (99)", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }
    assert_int_equal(hist_open_url(f->url, &f->h, err, sizeof err), -1);
    assert_non_null(strstr(err, "schema version 99"));
    assert_non_null(strstr(err, "upgrade retirectl"));
    assert_null(f->h);
}

static void test_roundtrip_every_field(void **state)
{
    fixture *f = store_or_skip(state);
    hist_job *j = make_job(7001, 1764756000000LL, "errored", "retirement_retire_forum", 403);
    hist_set(&j->fail_transport, "Connection refused");
    hist_step *s1 = hist_job_step(j, 1);
    hist_set(&s1->status, "skipped");
    save1(f, j);
    hist_query q;
    hist_query_init(&q);
    q.lms_user_id = 7001;
    hist_job *got = NULL;
    size_t n = 0;
    char err[1024] = "";
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_true(got[0].id == j->id);
    assert_int_equal(got[0].retirement_id, 8001);
    assert_string_equal(got[0].action, "retire");
    assert_string_equal(got[0].command, "retirectl retire --all -j 8");
    assert_string_equal(got[0].reason, "TICKET-12");
    assert_string_equal(got[0].operator_name, "support1");
    assert_string_equal(got[0].host, "jenkins-7");
    assert_int_equal(got[0].pid, 4242);
    assert_true(got[0].started_ms == 1764756000000LL);
    assert_true(got[0].ended_ms == 1764756001500LL);
    assert_string_equal(got[0].outcome, "errored");
    assert_int_equal(got[0].exit_status, 252);
    assert_string_equal(got[0].final_state, "ERRORED");
    assert_int_equal(got[0].fail_step, 0);
    assert_string_equal(got[0].fail_driver, "LMS");
    assert_string_equal(got[0].fail_method, "retirement_retire_forum");
    assert_string_equal(got[0].fail_request, "POST /api/discussion/v1/accounts/retire_forum/");
    assert_int_equal(got[0].fail_http_status, 403);
    assert_string_equal(got[0].fail_server_text, "forum: permission denied for service user");
    assert_string_equal(got[0].fail_transport, "Connection refused");
    assert_int_equal(got[0].fail_attempts, 3);
    assert_int_equal(got[0].n_steps, 2);
    assert_int_equal(got[0].steps[0].index, 0);
    assert_string_equal(got[0].steps[0].status, "failed");
    assert_int_equal(got[0].steps[0].duration_ms, 120);
    assert_int_equal(got[0].steps[0].attempts, 3);
    assert_string_equal(got[0].steps[0].start_state, "RETIRING_FORUMS");
    assert_string_equal(got[0].steps[1].status, "skipped");
    assert_null(got[0].steps[1].driver);
    hist_jobs_free(got, n);
    free_job(j);
}

static void test_open_job_replaced_when_it_ends(void **state)
{
    fixture *f = store_or_skip(state);
    hist_job *j = calloc(1, sizeof *j);
    hist_job_init(j);
    j->lms_user_id = 5;
    hist_set(&j->action, "resume");
    hist_set(&j->host, "console-host");
    j->pid = 99;
    j->started_ms = hist_now_ms();
    save1(f, j); /* the "running" row */
    hist_query q;
    hist_query_init(&q);
    q.open_only = 1;
    hist_job *got = NULL;
    size_t n = 0;
    char err[1024] = "";
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_null(got[0].outcome);
    assert_string_equal(got[0].host, "console-host");
    hist_jobs_free(got, n);
    /* the job ends with a step: one row, no longer open */
    hist_set(&j->outcome, "complete");
    j->ended_ms = j->started_ms + 10;
    hist_step *s = hist_job_step(j, 2);
    hist_set(&s->status, "done");
    save1(f, j);
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    hist_jobs_free(got, n);
    hist_query_init(&q);
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].outcome, "complete");
    assert_int_equal(got[0].n_steps, 1);
    hist_jobs_free(got, n);
    free_job(j);
}

static void test_current_failures_and_groups(void **state)
{
    fixture *f = store_or_skip(state);
    long long t = 1764756000000LL;
    hist_job *jobs[] = {
        make_job(1, t, "errored", "retirement_retire_forum", 403),     /* learner 1 failed, */
        make_job(1, t + 10, "complete", NULL, 0),                      /* then completed */
        make_job(2, t + 20, "errored", "retirement_retire_forum", 403), /* learner 2 failed */
        make_job(3, t + 30, "errored", "retirement_retire_forum", 403), /* learner 3 failed, */
        make_job(3, t + 40, "refused", NULL, 0),                       /* a refused retry changed nothing */
        make_job(4, t + 50, "errored", "retirement_unenroll", 500),    /* learner 4 another step */
    };
    size_t nj = sizeof jobs / sizeof jobs[0];
    char err[1024] = "";
    assert_int_equal(hist_save(f->h, jobs, nj, err, sizeof err), 0);
    hist_query q;
    hist_query_init(&q);
    q.current_failures = 1;
    hist_job *got = NULL;
    size_t n = 0;
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(got[0].lms_user_id, 4); /* newest first */
    assert_int_equal(got[1].lms_user_id, 3);
    assert_int_equal(got[2].lms_user_id, 2);
    hist_jobs_free(got, n);
    /* every failed job, current or not */
    hist_query_init(&q);
    q.failed_only = 1;
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    hist_jobs_free(got, n);
    hist_group *g = NULL;
    assert_int_equal(hist_failure_groups(f->h, 0, &g, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(g[0].method, "retirement_retire_forum");
    assert_int_equal(g[0].http_status, 403);
    assert_int_equal(g[0].count, 2);
    assert_string_equal(g[1].method, "retirement_unenroll");
    assert_int_equal(g[1].count, 1);
    hist_groups_free(g, n);
    /* since: only what started from then on */
    hist_query_init(&q);
    q.since_ms = t + 30;
    q.limit = 2;
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_true(got[0].started_ms == t + 50);
    assert_true(got[1].started_ms == t + 40);
    hist_jobs_free(got, n);
    for (size_t i = 0; i < nj; i++) free_job(jobs[i]);
}

static void test_prune(void **state)
{
    fixture *f = store_or_skip(state);
    long long now = hist_now_ms();
    hist_job *old = make_job(10, now - 100LL * 86400000LL, "errored", "retirement_retire_forum", 403);
    hist_job *recent = make_job(11, now - 5LL * 86400000LL, "complete", NULL, 0);
    hist_job *both[] = {old, recent};
    char err[1024] = "";
    assert_int_equal(hist_save(f->h, both, 2, err, sizeof err), 0);
    long long removed = -1;
    assert_int_equal(hist_prune(f->h, now - 90LL * 86400000LL, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 1);
    hist_query q;
    hist_query_init(&q);
    hist_job *got = NULL;
    size_t n = 0;
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].lms_user_id, 11);
    hist_jobs_free(got, n);
    free_job(old);
    free_job(recent);
}

static void test_prune_by_config_days(void **state)
{
    fixture *f = store_or_skip(state);
    long long now = hist_now_ms();
    hist_job *a = make_job(20, now - 10LL * 86400000LL, "complete", NULL, 0);
    hist_job *b = make_job(21, now - 1LL * 86400000LL, "complete", NULL, 0);
    hist_job *both[] = {a, b};
    char err[1024] = "";
    assert_int_equal(hist_save(f->h, both, 2, err, sizeof err), 0);
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "history_days: 3\nhistory:\n  url: \"%s\"\n", f->url);
    cfg *c = NULL;
    assert_int_equal(cfg_load_string(yaml, "days.yml", &c, err, sizeof err), 0);
    history *h2 = NULL;
    assert_int_equal(hist_open(c, &h2, err, sizeof err), 0);
    hist_query q;
    hist_query_init(&q);
    hist_job *got = NULL;
    size_t n = 0;
    assert_int_equal(hist_list(h2, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].lms_user_id, 21);
    hist_jobs_free(got, n);
    hist_close(h2);
    cfg_free(c);
    free_job(a);
    free_job(b);
}

static void test_large_batch(void **state)
{
    fixture *f = store_or_skip(state);
    enum { N = 1234 };
    hist_job **jobs = calloc(N, sizeof *jobs);
    for (int i = 0; i < N; i++) jobs[i] = make_job(100000 + i, 1764756000000LL + i, "errored", "retirement_retire_forum", 403);
    char err[1024] = "";
    assert_int_equal(hist_save(f->h, jobs, N, err, sizeof err), 0);
    /* saving them again replaces, never duplicates */
    assert_int_equal(hist_save(f->h, jobs, N, err, sizeof err), 0);
    hist_query q;
    hist_query_init(&q);
    q.current_failures = 1;
    hist_job *got = NULL;
    size_t n = 0;
    assert_int_equal(hist_list(f->h, &q, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, N);
    for (size_t i = 0; i < n; i++) assert_int_equal(got[i].n_steps, 1);
    hist_jobs_free(got, n);
    for (int i = 0; i < N; i++) free_job(jobs[i]);
    free(jobs);
}

/* SQLite only: the file is private and in WAL mode, and a readable one is refused. */
static void test_sqlite_file_mode_and_wal(void **state)
{
    fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(f->url, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/state/retirectl", f->dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    hist_job *j = make_job(1, 1000, "complete", NULL, 0);
    save1(f, j);
    free_job(j);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", f->url);
    assert_int_equal(access(wal, F_OK), 0);
    hist_close(f->h);
    f->h = NULL;
    assert_int_equal(chmod(f->url, 0644), 0);
    char err[1024] = "";
    assert_int_equal(hist_open_url(f->url, &f->h, err, sizeof err), -1);
    assert_non_null(strstr(err, "chmod 600"));
}

/* The PostgreSQL URL's password never appears in a message. */
static void test_pg_password_masked(void **state)
{
    (void)state;
    char err[1024] = "";
    history *h = NULL;
    assert_int_equal(hist_open_url("postgresql://bob:hunter2pw@127.0.0.1:1/x", &h, err, sizeof err), -1);
    assert_null(strstr(err, "hunter2pw"));
    assert_non_null(strstr(err, "postgresql://bob:********@127.0.0.1:1/x"));
    assert_non_null(strstr(err, "history.url"));
}

static int group_setup(void **state)
{
    (void)state;
    g_pg_state = pg_start(&g_pg, g_pg_why, sizeof g_pg_why);
    if (g_pg_state == 1) fprintf(stderr, "test_history: PostgreSQL tests SKIPPED: %s\n", g_pg_why);
    if (g_pg_state < 0) {
        fprintf(stderr, "test_history: could not start PostgreSQL: %s\n", g_pg_why);
        return -1; /* installed but broken: a failure, not a skip */
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_pg_state == 0) pg_stop(&g_pg);
    return 0;
}

#define BOTH(fn)                                                                                                  \
    {"sqlite: " #fn, fn, setup_sqlite, teardown_store, NULL}, {"postgresql: " #fn, fn, setup_pg, teardown_store, NULL}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_schema_migrated_once),
        BOTH(test_newer_schema_refused),
        BOTH(test_roundtrip_every_field),
        BOTH(test_open_job_replaced_when_it_ends),
        BOTH(test_current_failures_and_groups),
        BOTH(test_prune),
        BOTH(test_prune_by_config_days),
        BOTH(test_large_batch),
        cmocka_unit_test_setup_teardown(test_sqlite_file_mode_and_wal, setup_sqlite, teardown_store),
        cmocka_unit_test(test_pg_password_masked),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
