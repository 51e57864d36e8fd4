/* The job API (src/engine/job.h) used directly, as `retire --all` and the console use it: one
 * supervisor multiplexing several workers with poll(), one token for the process tree, events
 * in order (job first, result last), refusals, cancellation, and a timeout while other jobs
 * keep running. */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "retire_support.h"

#include "engine/config.h"
#include "engine/job.h"

typedef struct seen {
    int events;
    int first_is_job;
    int last_is_result;
    int done_steps;
    char outcome[32];
} seen;

typedef struct tracker {
    seen s[8];
    const char *names[8];
    int n;
} tracker;

static void on_event(void *user, job *j, const ev_event *ev, const char *line)
{
    tracker *t = user;
    assert_non_null(line);
    assert_int_equal(line[strlen(line) - 1], '\n');
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->names[i], job_username(j)) != 0) continue;
        seen *s = &t->s[i];
        if (s->events == 0) s->first_is_job = ev->kind == EV_JOB;
        s->events++;
        s->last_is_result = ev->kind == EV_RESULT;
        if (ev->kind == EV_STEP && ev->status && !strcmp(ev->status, "done")) s->done_steps++;
        if (ev->kind == EV_RESULT) snprintf(s->outcome, sizeof s->outcome, "%s", ev->outcome);
        assert_string_equal(ev->learner, job_username(j));
    }
}

/* Runs the jobs to completion with one poll() loop. */
static void run_all(job **jobs, int n)
{
    for (;;) {
        struct pollfd p[8];
        int map[8], np = 0, active = 0, timeout = 250;
        for (int i = 0; i < n; i++) {
            if (job_done(jobs[i])) continue;
            active++;
            int t = job_poll_timeout_ms(jobs[i]);
            if (t < timeout) timeout = t;
            if (job_fd(jobs[i]) >= 0) {
                p[np].fd = job_fd(jobs[i]);
                p[np].events = POLLIN;
                p[np].revents = 0;
                map[np++] = i;
            }
        }
        if (!active) break;
        int r = np ? poll(p, (nfds_t)np, timeout) : 0;
        for (int k = 0; r > 0 && k < np; k++)
            if (p[k].revents) job_on_readable(jobs[map[k]]);
        for (int i = 0; i < n; i++)
            if (!job_done(jobs[i])) job_tick(jobs[i], job_now());
    }
}

static void test_multiplexed_jobs(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env,
             "[{\"username\": \"m1\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"m2\", \"state\": \"FORUMS_COMPLETE\", \"days_ago\": 10},"
             " {\"username\": \"m3\", \"state\": \"COMPLETE\", \"days_ago\": 10},"
             " {\"username\": \"m4\", \"state\": \"PENDING\", \"days_ago\": 10}]",
             flags, NULL, "step_timeout_seconds: 1\n");
    /* m4's forum step hangs past the step timeout; the others must not wait for it */
    rt_fault(&env, "{\"endpoint\": \"retire_forum\", \"username\": \"m4\", \"latency_ms\": 6000}");
    cfg *c = NULL;
    char err[2048];
    if (cfg_load(env.config, &c, err, sizeof err) != 0) fail_msg("%s", err);
    job_ctx *ctx = job_ctx_new(c, NULL, err, sizeof err);
    assert_non_null(ctx);
    assert_int_equal(job_ctx_prepare(ctx, err, sizeof err), 0);
    tracker t;
    memset(&t, 0, sizeof t);
    const char *names[] = {"m1", "m2", "m3", "m4"};
    job *jobs[4];
    for (int i = 0; i < 4; i++) {
        t.names[t.n++] = names[i];
        job_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.username = names[i];
        spec.action = JOB_RETIRE;
        jobs[i] = job_start(ctx, &spec, on_event, &t, err, sizeof err);
        assert_non_null(jobs[i]);
    }
    double t0 = job_now();
    run_all(jobs, 4);
    assert_true(job_now() - t0 < 5.0);
    assert_int_equal(job_exit_status(jobs[0]), 0);
    assert_int_equal(job_exit_status(jobs[1]), 0);
    assert_int_equal(job_exit_status(jobs[2]), 254);
    assert_int_equal(job_exit_status(jobs[3]), 252);
    assert_string_equal(job_outcome(jobs[0]), "complete");
    assert_string_equal(job_outcome(jobs[2]), "refused");
    assert_string_equal(job_outcome(jobs[3]), "errored");
    assert_int_equal(job_steps_run(jobs[1]), 3);
    assert_int_equal(job_steps_skipped(jobs[1]), 1);
    assert_true(job_lms_user_id(jobs[0]) > 0);
    for (int i = 0; i < 4; i++) {
        assert_true(t.s[i].first_is_job);
        assert_true(t.s[i].last_is_result);
    }
    assert_int_equal(t.s[0].done_steps, 4);
    assert_non_null(strstr(job_message(jobs[3]), "LMS.retirement_retire_forum timed out after 1 s"));
    rt_assert_state(&env, "m1", "COMPLETE");
    rt_assert_state(&env, "m2", "COMPLETE");
    rt_assert_state(&env, "m3", "COMPLETE");
    rt_assert_state(&env, "m4", "ERRORED");
    /* one token for the supervisor and all its workers */
    assert_int_equal(rt_count(&env, "POST", "/oauth2/access_token"), 1);
    for (int i = 0; i < 4; i++) job_free(jobs[i]);
    job_ctx_free(ctx);
    cfg_free(c);
    rt_stop(&env);
}

/* job_cancel: the step in flight finishes, then the job stops as `cancelled`. */
static void test_cancel(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env, "[{\"username\": \"c\", \"state\": \"PENDING\", \"days_ago\": 10}]", flags, NULL, NULL);
    rt_fault(&env, "{\"endpoint\": \"retire_forum\", \"latency_ms\": 800, \"times\": 1}");
    cfg *c = NULL;
    char err[2048];
    if (cfg_load(env.config, &c, err, sizeof err) != 0) fail_msg("%s", err);
    job_ctx *ctx = job_ctx_new(c, NULL, err, sizeof err);
    assert_int_equal(job_ctx_prepare(ctx, err, sizeof err), 0);
    tracker t;
    memset(&t, 0, sizeof t);
    t.names[t.n++] = "c";
    job_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.username = "c";
    job *j = job_start(ctx, &spec, on_event, &t, err, sizeof err);
    assert_non_null(j);
    /* wait until the forum step runs, then cancel */
    double t0 = job_now();
    while (!job_done(j) && job_now() - t0 < 10 && t.s[0].events < 3) {
        struct pollfd p = {job_fd(j), POLLIN, 0};
        if (p.fd >= 0 && poll(&p, 1, 50) > 0) job_on_readable(j);
        job_tick(j, job_now());
    }
    usleep(200 * 1000);
    job_cancel(j);
    run_all(&j, 1);
    assert_int_equal(job_exit_status(j), JOB_EXIT_CANCELLED);
    assert_string_equal(job_outcome(j), "cancelled");
    rt_assert_state(&env, "c", "FORUMS_COMPLETE");
    job_free(j);
    job_ctx_free(ctx);
    cfg_free(c);
    rt_stop(&env);
}

/* Reusable workers (job_ctx_set_reuse_workers), one learner at a time as `retire --all -j 1`
 * runs them: one worker retires learner after learner; the one whose step times out fails only
 * its learner in flight (ERRORED with the reason), a fresh worker takes the rest, and every
 * learner is worked exactly once (one status GET, one COMPLETE/ERRORED). */
static void test_reused_workers(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env,
             "[{\"username\": \"r1\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"r2\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"r3\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"r4\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"r5\", \"state\": \"PENDING\", \"days_ago\": 10}]",
             flags, NULL, "step_timeout_seconds: 1\n");
    rt_fault(&env, "{\"endpoint\": \"retire_forum\", \"username\": \"r3\", \"latency_ms\": 6000}");
    cfg *c = NULL;
    char err[2048];
    if (cfg_load(env.config, &c, err, sizeof err) != 0) fail_msg("%s", err);
    job_ctx *ctx = job_ctx_new(c, NULL, err, sizeof err);
    assert_non_null(ctx);
    job_ctx_set_reuse_workers(ctx, 1);
    assert_int_equal(job_ctx_prepare(ctx, err, sizeof err), 0);
    tracker t;
    memset(&t, 0, sizeof t);
    const char *names[] = {"r1", "r2", "r3", "r4", "r5"};
    pid_t pids[5];
    int status[5];
    for (int i = 0; i < 5; i++) {
        t.names[t.n++] = names[i];
        job_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.username = names[i];
        spec.action = JOB_RETIRE;
        job *j = job_start(ctx, &spec, on_event, &t, err, sizeof err);
        if (!j) fail_msg("job_start %s: %s", names[i], err);
        pids[i] = job_pid(j);
        run_all(&j, 1);
        status[i] = job_exit_status(j);
        if (i == 2) assert_non_null(strstr(job_message(j), "LMS.retirement_retire_forum timed out after 1 s"));
        job_free(j);
    }
    assert_int_equal(status[0], 0);
    assert_int_equal(status[1], 0);
    assert_int_equal(status[2], 252);
    assert_int_equal(status[3], 0);
    assert_int_equal(status[4], 0);
    /* r1..r3 by one worker; the timed-out one is never reused: r4 and r5 by a fresh one */
    assert_int_equal(pids[1], pids[0]);
    assert_int_equal(pids[2], pids[0]);
    assert_int_not_equal(pids[3], pids[2]);
    assert_int_equal(pids[4], pids[3]);
    for (int i = 0; i < 5; i++) {
        assert_true(t.s[i].first_is_job);
        assert_true(t.s[i].last_is_result);
        char path[128];
        snprintf(path, sizeof path, "/accounts/%s/retirement_status", names[i]);
        if (rt_count(&env, "GET", path) != 1)
            fail_msg("%s was fetched %d times (each learner is worked once)", names[i], rt_count(&env, "GET", path));
        rt_assert_state(&env, names[i], i == 2 ? "ERRORED" : "COMPLETE");
    }
    char *resp = rt_responses(&env, "r3");
    assert_non_null(strstr(resp, "LMS.retirement_retire_forum timed out after 1 s"));
    free(resp);
    assert_int_equal(t.s[0].done_steps, 4);
    assert_int_equal(t.s[4].done_steps, 4);
    assert_int_equal(rt_count(&env, "POST", "/oauth2/access_token"), 1);
    job_ctx_free(ctx); /* ends the idle worker */
    assert_int_equal(kill(pids[4], 0) == 0 && waitpid(pids[4], NULL, WNOHANG) == 0, 0);
    cfg_free(c);
    rt_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_multiplexed_jobs, rt_teardown),
        cmocka_unit_test_teardown(test_cancel, rt_teardown),
        cmocka_unit_test_teardown(test_reused_workers, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
