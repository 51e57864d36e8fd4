/* The job pool (src/engine/job_pool.h) driving real engine jobs against retirectl-sim, as
 * `retire --all` does: worker reuse and recycling after a number of learners, the concurrency
 * limit, the step circuit breaker keyed by the failed DRIVER.method, and the counts. */
#include "retire_support.h"

#include "engine/config.h"
#include "engine/job.h"
#include "engine/job_pool.h"

typedef struct run_state {
    job_ctx *jc;
    const char **names;
    size_t n;
    pid_t pids[8];
    int status[8];
    int max_running;
    int refused;
} run_state;

/* Start callback: *item is an index into names, as an address past names. */
static int start(void *user, job_pool *p, void **item, char *why, size_t why_len)
{
    run_state *s = user;
    size_t k = (size_t)((const char **)*item - s->names);
    job_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.username = s->names[k];
    spec.action = JOB_RETIRE;
    job *j = job_pool_run_job(p, &spec, NULL, NULL, why, why_len);
    if (!j) return 255;
    s->pids[k] = job_pid(j);
    return 0;
}

/* Runs every name through a pool with opts (start/user filled here) to idle. */
static job_pool *run_pool(run_state *s, job_pool_opts *o)
{
    o->start = start;
    o->user = s;
    o->jc = s->jc;
    job_pool *p = job_pool_new(o);
    assert_non_null(p);
    for (size_t k = 0; k < s->n; k++) job_pool_add(p, &s->names[k]);
    while (!job_pool_idle(p)) {
        job_pool_wait(p, 250, NULL);
        job_pool_counts c = job_pool_get_counts(p);
        if ((int)c.running > s->max_running) s->max_running = (int)c.running;
        job_pool_result r;
        while (job_pool_read(p, &r)) {
            size_t k = (size_t)((const char **)r.item - s->names);
            assert_true(r.started);
            assert_non_null(r.j);
            assert_string_equal(job_username(r.j), s->names[k]);
            s->status[k] = r.exit_status;
        }
    }
    return p;
}

static job_ctx *new_ctx(rt_env *env, cfg **c)
{
    char err[2048];
    if (cfg_load(env->config, c, err, sizeof err) != 0) fail_msg("%s", err);
    job_ctx *jc = job_ctx_new(*c, NULL, err, sizeof err);
    assert_non_null(jc);
    assert_int_equal(job_ctx_prepare(jc, err, sizeof err), 0);
    return jc;
}

/* One worker at a time, recycled after 2 learners: r1 r2 by one worker, r3 r4 by the next,
 * r5 by a third; every learner COMPLETE, two recycles counted. */
static void test_recycling(void **state)
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
             flags, NULL, NULL);
    cfg *c = NULL;
    const char *names[] = {"r1", "r2", "r3", "r4", "r5"};
    run_state s = {.jc = new_ctx(&env, &c), .names = names, .n = 5};
    job_pool_opts o = {.max_running = 1, .reuse_workers = 1, .recycle_learners = 2};
    job_pool *p = run_pool(&s, &o);
    for (int k = 0; k < 5; k++) {
        assert_int_equal(s.status[k], 0);
        rt_assert_state(&env, names[k], "COMPLETE");
    }
    assert_int_equal(s.pids[1], s.pids[0]);
    assert_int_not_equal(s.pids[2], s.pids[1]);
    assert_int_equal(s.pids[3], s.pids[2]);
    assert_int_not_equal(s.pids[4], s.pids[3]);
    assert_int_equal(job_ctx_workers_recycled(s.jc), 2);
    assert_int_equal(s.max_running, 1);
    job_pool_counts cnt = job_pool_get_counts(p);
    assert_int_equal(cnt.done, 5);
    assert_int_equal(cnt.failed, 0);
    job_pool_free(p);
    job_ctx_free(s.jc);
    cfg_free(c);
    rt_stop(&env);
}

/* Two at a time; the forum refuses every learner: after 3 failures in a row in
 * LMS.retirement_retire_forum no new learner starts; the ones running end; the rest stay queued
 * and untouched (PENDING). */
static void test_breaker(void **state)
{
    (void)state;
    rt_env env;
    const char *flags[] = {"--legacy-mailings", NULL};
    rt_start(&env,
             "[{\"username\": \"b1\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"b2\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"b3\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"b4\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"b5\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"b6\", \"state\": \"PENDING\", \"days_ago\": 10},"
             " {\"username\": \"b7\", \"state\": \"PENDING\", \"days_ago\": 10}]",
             flags, NULL, NULL);
    rt_fault(&env, "{\"endpoint\": \"retire_forum\", \"status\": 403, \"body\": {\"detail\": \"forum says no\"}}");
    cfg *c = NULL;
    const char *names[] = {"b1", "b2", "b3", "b4", "b5", "b6", "b7"};
    run_state s = {.jc = new_ctx(&env, &c), .names = names, .n = 7};
    job_pool_opts o = {.max_running = 2, .breaker_failures = 3, .reuse_workers = 1};
    job_pool *p = run_pool(&s, &o);
    assert_int_equal(job_pool_stopped(p), JOB_POOL_STOP_BREAKER);
    job_pool_breaker b = job_pool_get_breaker(p);
    assert_string_equal(b.key, "LMS.retirement_retire_forum");
    assert_true(b.streak >= 3);
    assert_non_null(strstr(b.message, "forum says no"));
    assert_int_equal(s.max_running, 2);
    job_pool_counts cnt = job_pool_get_counts(p);
    /* the 3rd failure trips it; at most one more was running then */
    assert_true(cnt.failed == 3 || cnt.failed == 4);
    assert_int_equal(cnt.done, 0);
    assert_int_equal(cnt.queued, 7 - cnt.failed);
    assert_int_equal(b.streak, (int)cnt.failed);
    for (size_t k = 0; k < 7; k++) rt_assert_state(&env, names[k], k < cnt.failed ? "ERRORED" : "PENDING");
    job_pool_free(p);
    job_ctx_free(s.jc);
    cfg_free(c);
    rt_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_recycling, rt_teardown),
        cmocka_unit_test_teardown(test_breaker, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
