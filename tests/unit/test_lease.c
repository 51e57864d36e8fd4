/* Unit tests for lease: exclusive per-learner locks between processes, the holder record,
 * release on exit (even SIGKILL), inherited descriptors closed in a child, the state directory,
 * and the cross-host freshness rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/lease.h"

#define LMS "https://lms.example.invalid/"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/retirectl-lease-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

/* In a child: tries the lease of u and exits 0 (got it), 1 (held) or 2 (error). */
static int child_try(const char *u)
{
    pid_t p = fork();
    if (p == 0) {
        lease *l = NULL;
        lease_holder h;
        char err[256];
        int rc = lease_acquire(dir, LMS, u, "child", &l, &h, err, sizeof err);
        _exit(rc == 0 ? 0 : rc == 1 ? 1 : 2);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_exclusive_and_holder(void **state)
{
    (void)state;
    lease *l = NULL;
    lease_holder h;
    char err[256];
    assert_int_equal(lease_acquire(dir, LMS, "jane", "retirectl retire", &l, &h, err, sizeof err), 0);
    assert_non_null(l);
    assert_int_equal(child_try("jane"), 1); /* another process is refused */
    assert_int_equal(child_try("bob"), 0);  /* another learner is free */
    assert_int_equal(lease_peek(dir, LMS, "jane", &h, err, sizeof err), 1);
    assert_int_equal(h.pid, (long)getpid());
    assert_int_equal(h.alive, 1);
    assert_string_equal(h.command, "retirectl retire");
    assert_true(h.since[0] != '\0');
    char text[800];
    lease_describe(&h, text, sizeof text);
    assert_non_null(strstr(text, "(retirectl retire)"));
    lease_release(l);
    assert_int_equal(lease_peek(dir, LMS, "jane", &h, err, sizeof err), 0);
    assert_int_equal(child_try("jane"), 0);
    assert_int_equal(lease_peek(dir, LMS, "nobody-ever", &h, err, sizeof err), 0);
}

static void test_released_when_holder_killed(void **state)
{
    (void)state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t p = fork();
    if (p == 0) {
        lease *l = NULL;
        char err[256];
        if (lease_acquire(dir, LMS, "kim", "holder", &l, NULL, err, sizeof err) != 0) _exit(2);
        ssize_t w = write(ready[1], "x", 1);
        (void)w;
        for (;;) pause();
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    lease_holder h;
    char err[256];
    assert_int_equal(lease_peek(dir, LMS, "kim", &h, err, sizeof err), 1);
    assert_int_equal(h.pid, (long)p);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    assert_int_equal(lease_peek(dir, LMS, "kim", &h, err, sizeof err), 0); /* no stale lease */
    close(ready[0]);
    close(ready[1]);
}

static void test_child_closes_inherited(void **state)
{
    (void)state;
    lease *a = NULL, *b = NULL;
    char err[256];
    assert_int_equal(lease_acquire(dir, LMS, "ann", "x", &a, NULL, err, sizeof err), 0);
    assert_int_equal(lease_acquire(dir, LMS, "ben", "x", &b, NULL, err, sizeof err), 0);
    int go[2], done[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    pid_t p = fork();
    if (p == 0) {
        lease_close_inherited(LMS, "ann"); /* a worker for ann keeps only ann's */
        ssize_t w = write(done[1], "x", 1);
        char c;
        w = read(go[0], &c, 1);
        (void)w;
        _exit(0);
    }
    char c;
    assert_int_equal(read(done[0], &c, 1), 1);
    lease_release(a);
    lease_release(b);
    lease_holder h;
    assert_int_equal(lease_peek(dir, LMS, "ann", &h, err, sizeof err), 1); /* still held by the child */
    assert_int_equal(lease_peek(dir, LMS, "ben", &h, err, sizeof err), 0); /* closed in the child */
    assert_int_equal(write(go[1], "x", 1), 1);
    waitpid(p, NULL, 0);
    assert_int_equal(lease_peek(dir, LMS, "ann", &h, err, sizeof err), 0);
}

static void test_one_learner_per_lms(void **state)
{
    (void)state;
    lease *l = NULL, *m = NULL;
    char err[256];
    assert_int_equal(lease_acquire(dir, LMS, "sam", "x", &l, NULL, err, sizeof err), 0);
    /* the same LMS written without its trailing slash is the same learner */
    assert_int_equal(lease_acquire(dir, "https://lms.example.invalid", "sam", "x", &m, NULL, err, sizeof err), 1);
    /* the same username at another LMS is another learner */
    assert_int_equal(lease_acquire(dir, "https://other.example.invalid/", "sam", "x", &m, NULL, err, sizeof err), 0);
    lease_release(m);
    lease_release(l);
}

static void test_state_dir(void **state)
{
    (void)state;
    char err[256];
    setenv("XDG_STATE_HOME", "/srv/state", 1);
    char *d = lease_state_dir(err, sizeof err);
    assert_string_equal(d, "/srv/state/retirectl");
    free(d);
    setenv("XDG_STATE_HOME", "relative", 1); /* not absolute: ignored, as XDG says */
    setenv("HOME", "/home/op", 1);
    d = lease_state_dir(err, sizeof err);
    assert_string_equal(d, "/home/op/.local/state/retirectl");
    free(d);
}

/* A learner record in state, modified seconds_ago ago. */
static cJSON *record(const char *state_name, double seconds_ago)
{
    time_t t = time(NULL) - (time_t)seconds_ago;
    struct tm tm;
    gmtime_r(&t, &tm);
    char iso[64];
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S.123456Z", &tm);
    cJSON *o = cJSON_CreateObject();
    cJSON *cs = cJSON_AddObjectToObject(o, "current_state");
    cJSON_AddStringToObject(cs, "state_name", state_name);
    cJSON_AddStringToObject(o, "modified", iso);
    return o;
}

static void test_fresh_working_state(void **state)
{
    (void)state;
    cfg_step steps[] = {{"RETIRING_FORUMS", "FORUMS_COMPLETE", "LMS", "retirement_retire_forum", 0},
                        {"RETIRING_LMS", "LMS_COMPLETE", "LMS", "retirement_lms_retire", 0}};
    cfg c;
    memset(&c, 0, sizeof c);
    c.steps = steps;
    c.n_steps = 2;
    c.step_timeout_seconds = 900;
    double age = -1;
    cJSON *r = record("RETIRING_LMS", 30);
    assert_int_equal(lease_fresh_working_state(r, &c, &age), 1);
    assert_true(age > 20 && age < 100);
    cJSON_Delete(r);
    r = record("RETIRING_LMS", 2000); /* older than the window: stuck, not running */
    assert_int_equal(lease_fresh_working_state(r, &c, &age), 0);
    cJSON_Delete(r);
    r = record("FORUMS_COMPLETE", 5); /* not a working state */
    assert_int_equal(lease_fresh_working_state(r, &c, NULL), 0);
    cJSON_Delete(r);
    r = record("ERRORED", 5);
    assert_int_equal(lease_fresh_working_state(r, &c, NULL), 0);
    cJSON_Delete(r);
    c.step_timeout_seconds = 10; /* the window is the step timeout */
    r = record("RETIRING_FORUMS", 30);
    assert_int_equal(lease_fresh_working_state(r, &c, NULL), 0);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exclusive_and_holder),
        cmocka_unit_test(test_released_when_holder_killed),
        cmocka_unit_test(test_child_closes_inherited),
        cmocka_unit_test(test_one_learner_per_lms),
        cmocka_unit_test(test_state_dir),
        cmocka_unit_test(test_fresh_working_state),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
