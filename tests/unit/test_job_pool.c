/* The job pool (src/engine/job_pool.h) with caller-run items that are real child processes,
 * as the console runs its jobs: the concurrency limit, FIFO start order, removal from the
 * queue, refused items, the circuit breakers, stop, and the counts. Each child exits with the
 * status its item asks for; the test's loop reaps it and reports it with job_pool_finish. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/job_pool.h"

/* One work item: what its child exits with, and what the test saw. */
typedef struct item {
    int exit_status;     /* the child's exit status */
    const char *key;     /* the failed step key reported with a failure, or NULL */
    int refuse;          /* the start callback refuses it with this status (0: start) */
    pid_t pid;
    int order;           /* start order, from 1 */
} item;

typedef struct harness {
    job_pool *p;
    int started, max_seen;
    int next_order;
} harness;

/* Start callback: forks a child that sleeps a little and exits with the item's status. */
static int start_child(void *user, job_pool *p, void **it, char *why, size_t why_len)
{
    (void)p;
    harness *h = user;
    item *x = *it;
    if (x->refuse) {
        snprintf(why, why_len, "refused by the test");
        return x->refuse;
    }
    pid_t pid = fork();
    if (pid < 0) return snprintf(why, why_len, "fork failed"), 255;
    if (pid == 0) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        _exit(x->exit_status);
    }
    x->pid = pid;
    x->order = ++h->next_order;
    h->started++;
    return 0;
}

/* Reaps every child that exited and reports it to the pool. */
static void reap(harness *h, item *items, size_t n)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        for (size_t i = 0; i < n; i++)
            if (items[i].pid == pid) {
                int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                assert_int_equal(job_pool_finish(h->p, &items[i], code, code ? items[i].key : NULL, "child said no"), 0);
            }
}

/* Runs the pool to idle; returns the results (their strings no longer valid) and their items in
 * the order they were read. */
static size_t run(harness *h, item *items, size_t n, job_pool_result *out, item **out_items)
{
    size_t got = 0;
    while (!job_pool_idle(h->p)) {
        job_pool_perform(h->p, NULL, 0);
        job_pool_counts c = job_pool_get_counts(h->p);
        if ((int)c.running > h->max_seen) h->max_seen = (int)c.running;
        job_pool_result r;
        while (job_pool_read(h->p, &r)) {
            /* (r's strings live until the next read: checked here) */
            if (r.started && r.exit_status) assert_string_equal(r.message, "child said no");
            if (!r.started) assert_string_equal(r.why, "refused by the test");
            out[got] = r;
            out_items[got++] = r.item;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        reap(h, items, n);
    }
    return got;
}

static job_pool *new_pool(harness *h, int max_running, int breaker, int setup)
{
    job_pool_opts o = {.max_running = max_running, .start = start_child, .user = h, .breaker_failures = breaker,
                       .setup_failures = setup, .setup_status = 255};
    h->p = job_pool_new(&o);
    assert_non_null(h->p);
    return h->p;
}

/* At most max_running at once; items start in the order they were added; counts add up. */
static void test_limit_order_counts(void **state)
{
    (void)state;
    harness h = {0};
    item items[7] = {{0}};
    items[3].exit_status = 3;
    new_pool(&h, 2, 0, 0);
    for (size_t i = 0; i < 7; i++) job_pool_add(h.p, &items[i]);
    job_pool_counts c = job_pool_get_counts(h.p);
    assert_int_equal(c.queued, 7);
    assert_int_equal(c.running, 0);
    job_pool_result res[7];
    item *got[7];
    assert_int_equal(run(&h, items, 7, res, got), 7);
    assert_int_equal(h.max_seen, 2);
    assert_int_equal(h.started, 7);
    for (size_t i = 0; i < 7; i++) assert_int_equal(items[i].order, (int)i + 1);
    c = job_pool_get_counts(h.p);
    assert_int_equal(c.queued, 0);
    assert_int_equal(c.running, 0);
    assert_int_equal(c.done, 6);
    assert_int_equal(c.failed, 1);
    for (size_t i = 0; i < 7; i++) {
        assert_true(res[i].started);
        if (got[i] == &items[3]) {
            assert_int_equal(res[i].exit_status, 3);
        } else {
            assert_int_equal(res[i].exit_status, 0);
        }
    }
    assert_int_equal(job_pool_stopped(h.p), JOB_POOL_RUNNING);
    job_pool_free(h.p);
}

/* A removed queued item never starts; a refused one is a failed result that is not started. */
static void test_remove_and_refuse(void **state)
{
    (void)state;
    harness h = {0};
    item items[4] = {{0}};
    items[2].refuse = 253;
    new_pool(&h, 1, 0, 0);
    for (size_t i = 0; i < 4; i++) job_pool_add(h.p, &items[i]);
    assert_ptr_equal(job_pool_queued_item(h.p, 1), &items[1]);
    assert_int_equal(job_pool_remove_queued(h.p, &items[1]), 1);
    assert_int_equal(job_pool_remove_queued(h.p, &items[1]), 0);
    assert_ptr_equal(job_pool_queued_item(h.p, 1), &items[2]);
    job_pool_result res[4];
    item *got[4];
    assert_int_equal(run(&h, items, 4, res, got), 3);
    assert_int_equal(items[1].pid, 0);
    assert_int_equal(items[2].pid, 0);
    int refused = 0;
    for (size_t i = 0; i < 3; i++)
        if (got[i] == &items[2]) {
            refused++;
            assert_false(res[i].started);
            assert_int_equal(res[i].exit_status, 253);
        }
    assert_int_equal(refused, 1);
    job_pool_counts c = job_pool_get_counts(h.p);
    assert_int_equal(c.done, 2);
    assert_int_equal(c.failed, 1);
    job_pool_free(h.p);
}

/* The circuit breaker: 3 failures in a row in one step key stop starting; a failure in another
 * key, a success or a refusal in between does not count as a streak in that key. */
static void test_breaker(void **state)
{
    (void)state;
    harness h = {0};
    item items[10] = {{0}};
    const int fails[10] = {1, 1, 0, 1, 2, 1, 1, 1, 1, 0}; /* 0 ok, 1 key A, 2 key B */
    for (int i = 0; i < 10; i++) {
        items[i].exit_status = fails[i] ? 252 : 0;
        items[i].key = fails[i] == 1 ? "LMS.retirement_retire_forum" : fails[i] == 2 ? "EDXAPI.x" : NULL;
    }
    items[6].refuse = 253; /* between the 1st and 2nd A of the last streak: not counted */
    new_pool(&h, 1, 3, 0);
    for (size_t i = 0; i < 10; i++) job_pool_add(h.p, &items[i]);
    job_pool_result res[10];
    item *got[10];
    size_t n = run(&h, items, 10, res, got);
    /* A A ok A B A (refused) A A -> trips at the 9th item; the last one is never started */
    assert_int_equal(n, 9);
    assert_int_equal(job_pool_stopped(h.p), JOB_POOL_STOP_BREAKER);
    for (size_t i = 0; i < n; i++) assert_int_equal(res[i].tripped_breaker, got[i] == &items[8]);
    job_pool_breaker b = job_pool_get_breaker(h.p);
    assert_string_equal(b.key, "LMS.retirement_retire_forum");
    assert_int_equal(b.streak, 3);
    assert_string_equal(b.message, "child said no");
    job_pool_counts c = job_pool_get_counts(h.p);
    assert_int_equal(c.queued, 1);
    assert_int_equal(c.done, 1);
    assert_int_equal(c.failed, 8);
    assert_int_equal(items[9].pid, 0);
    job_pool_free(h.p);
}

/* The setup breaker: items ending with setup_status in a row stop the pool. */
static void test_setup_breaker(void **state)
{
    (void)state;
    harness h = {0};
    item items[6] = {{0}};
    for (int i = 0; i < 6; i++) items[i].exit_status = 255;
    new_pool(&h, 1, 0, 4);
    for (size_t i = 0; i < 6; i++) job_pool_add(h.p, &items[i]);
    job_pool_result res[6];
    item *got[6];
    size_t n = run(&h, items, 6, res, got);
    assert_int_equal(n, 4);
    assert_int_equal(job_pool_stopped(h.p), JOB_POOL_STOP_SETUP);
    assert_true(res[3].tripped_setup);
    assert_int_equal(job_pool_get_counts(h.p).queued, 2);
    job_pool_free(h.p);
}

/* job_pool_stop: items running end, queued ones stay queued; a caller-run item started outside
 * the queue takes a slot of the limit. */
static void test_stop_and_outside_items(void **state)
{
    (void)state;
    harness h = {0};
    item items[4] = {{0}};
    item outside = {0};
    new_pool(&h, 1, 0, 0);
    job_pool_add_running(h.p, &outside);
    for (size_t i = 0; i < 4; i++) job_pool_add(h.p, &items[i]);
    job_pool_perform(h.p, NULL, 0);
    assert_int_equal(h.started, 0); /* the outside item holds the only slot */
    assert_int_equal(job_pool_finish(h.p, &outside, 0, NULL, NULL), 0);
    assert_int_equal(job_pool_finish(h.p, &outside, 0, NULL, NULL), -1);
    job_pool_perform(h.p, NULL, 0);
    assert_int_equal(h.started, 1);
    job_pool_stop(h.p);
    job_pool_result res[5];
    item *got[5];
    size_t n = run(&h, items, 4, res, got);
    assert_int_equal(n, 2); /* the outside item and items[0] */
    assert_int_equal(job_pool_stopped(h.p), JOB_POOL_STOP_CALLER);
    job_pool_counts c = job_pool_get_counts(h.p);
    assert_int_equal(c.queued, 3);
    assert_int_equal(c.done, 2);
    assert_int_equal(items[1].pid, 0);
    job_pool_free(h.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_order_counts),
        cmocka_unit_test(test_remove_and_refuse),
        cmocka_unit_test(test_breaker),
        cmocka_unit_test(test_setup_breaker),
        cmocka_unit_test(test_stop_and_outside_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
