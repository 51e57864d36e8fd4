/* Integration tests of `retirectl retire --all` against retirectl-sim: 200 learners with -j 8
 * where some fail (fault injection per username): failures ERRORED, the rest COMPLETE, no
 * learner touched twice (checked in the sim's request log); --shard I/N partitions the queue
 * exactly; the --max-learners safety valve; the audit lines of a bulk run. */
#include "test_ops_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "engine/shard.h"

#define BULK_N 200

/* Adds n PENDING learners prefix_000.. created 30 days ago (and one too recent for cool-off). */
static void add_bulk(const char *prefix, int n)
{
    size_t cap = (size_t)n * 96 + 256;
    char *json = malloc(cap);
    size_t len = (size_t)snprintf(json, cap, "[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(json + len, cap - len,
                                "%s{\"username\": \"%s_%03d\", \"email\": \"%s%03d@example.org\", \"days_ago\": 30}",
                                i ? "," : "", prefix, i, prefix, i);
    snprintf(json + len, cap - len, ",{\"username\": \"%s_fresh\", \"days_ago\": 0.1}]", prefix);
    ops_add(json);
    free(json);
}

static int failing(int i)
{
    return i % 23 == 5; /* 9 of 200 */
}

static void test_bulk_200_with_failures(void **state)
{
    (void)state;
    ops_reset();
    add_bulk("bulk", BULK_N);
    /* a few learners fail at the enrollments step (400: not retried) */
    int n_fail = 0;
    for (int i = 0; i < BULK_N; i++) {
        if (!failing(i)) continue;
        char rule[256];
        snprintf(rule, sizeof rule, "{\"path\": \"/unenroll\", \"username\": \"bulk_%03d\", \"status\": 400}", i);
        ops_fault(rule);
        n_fail++;
    }
    cmd_result r = ops_run("retire", "--all", "-j", "8", "--cool-off-days", "1");
    if (r.status != 252) ops_show(&r);
    assert_int_equal(r.status, 252);
    char expect[128];
    snprintf(expect, sizeof expect, "%d complete, %d failed", BULK_N - n_fail, n_fail);
    if (!strstr(r.out, expect)) ops_show(&r);
    assert_non_null(strstr(r.out, expect));

    cJSON *log = ops_requests();
    /* one token for the whole run, shared by every worker */
    assert_int_equal(ops_count(log, "POST", "/oauth2/access_token", NULL), 1);
    for (int i = 0; i < BULK_N; i++) {
        char user[32], status_path[96], body_user[48];
        snprintf(user, sizeof user, "bulk_%03d", i);
        snprintf(status_path, sizeof status_path, "/accounts/%s/retirement_status", user);
        snprintf(body_user, sizeof body_user, "\"%s\"", user);
        /* each learner worked once: one status read, one start of each step that ran */
        assert_int_equal(ops_count(log, "GET", status_path, NULL), 1);
        assert_int_equal(ops_count_patch(log, user, "RETIRING_FORUMS", -1), 1);
        assert_int_equal(ops_count(log, "POST", "retire_forum", body_user), 1);
        assert_int_equal(ops_count(log, "POST", "/unenroll", body_user), 1);
        if (failing(i)) {
            assert_string_equal(ops_state(user, "current_state"), "ERRORED");
            assert_string_equal(ops_state(user, "last_state"), "RETIRING_ENROLLMENTS");
            assert_int_equal(ops_count(log, "POST", "edxnotes", body_user), 0);
            assert_int_equal(ops_count_patch(log, user, "ERRORED", -1), 1);
            assert_non_null(strstr(r.out, user));
        } else {
            assert_string_equal(ops_state(user, "current_state"), "COMPLETE");
            assert_int_equal(ops_count(log, "POST", "accounts/retire/", body_user), 1);
            assert_int_equal(ops_count_patch(log, user, "COMPLETE", -1), 1);
        }
    }
    /* cool-off respected */
    assert_string_equal(ops_state("bulk_fresh", "current_state"), "PENDING");
    assert_int_equal(ops_count(log, "GET", "/accounts/bulk_fresh/", NULL), 0);
    cJSON_Delete(log);

    /* audit: start, one item per learner, end with counts; no usernames or emails */
    char *raw = NULL;
    cJSON *audit = ops_audit_lines(&raw);
    assert_int_equal(cJSON_GetArraySize(audit), BULK_N + 2);
    cJSON *start = cJSON_GetArrayItem(audit, 0), *end = cJSON_GetArrayItem(audit, BULK_N + 1);
    assert_string_equal(ops_str(start, "action"), "retire-all");
    assert_string_equal(ops_str(start, "phase"), "start");
    assert_string_equal(ops_str(end, "phase"), "end");
    assert_int_equal(cJSON_GetObjectItem(end, "exit_status")->valueint, 252);
    cJSON *counts = cJSON_GetObjectItem(end, "counts");
    assert_int_equal(cJSON_GetObjectItem(counts, "complete")->valueint, BULK_N - n_fail);
    assert_int_equal(cJSON_GetObjectItem(counts, "failed")->valueint, n_fail);
    int errored = 0, ids = 0;
    for (int i = 1; i <= BULK_N; i++) {
        cJSON *it = cJSON_GetArrayItem(audit, i);
        assert_string_equal(ops_str(it, "phase"), "item");
        if (!strcmp(ops_str(it, "outcome"), "errored")) errored++;
        if (cJSON_IsNumber(cJSON_GetObjectItem(it, "user_id"))) ids++;
        assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(it, "steps")) >= 2);
    }
    assert_int_equal(errored, n_fail);
    assert_int_equal(ids, BULK_N);
    assert_null(strstr(raw, "bulk_"));
    assert_null(strstr(raw, "@example.org"));
    free(raw);
    cJSON_Delete(audit);
    cmd_result_free(&r);
}

/* --shard I/N: the shards' learners are disjoint and cover the queue; running them all
 * retires everyone exactly once. */
static void test_shards_partition_queue(void **state)
{
    (void)state;
    ops_reset();
    add_bulk("shard", 60);
    enum { N = 3 };
    int owner[60];
    for (int i = 0; i < 60; i++) owner[i] = -1;
    for (int s = 0; s < N; s++) {
        char spec[16];
        snprintf(spec, sizeof spec, "%d/%d", s, N);
        cmd_result r = ops_run("retire", "--all", "--dry-run", "--shard", spec, "--cool-off-days", "1");
        if (r.status != 0) ops_show(&r);
        assert_int_equal(r.status, 0);
        char *save = NULL;
        for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            int i = -1;
            assert_int_equal(sscanf(line, "shard_%d", &i), 1);
            assert_true(i >= 0 && i < 60);
            assert_int_equal(owner[i], -1); /* no overlap */
            owner[i] = s;
            assert_int_equal(shard_of(line, N), s); /* the documented hash */
        }
        cmd_result_free(&r);
        /* `queue --shard` lists the same learners */
        r = ops_run("queue", "--format", "json", "--shard", spec, "--cool-off-days", "1", "--max-user-batch-size", "0");
        if (r.status != 0) ops_show(&r);
        assert_int_equal(r.status, 0);
        cJSON *q = cJSON_Parse(r.out);
        assert_true(cJSON_IsArray(q));
        int in_shard = 0;
        for (int i = 0; i < 60; i++) in_shard += owner[i] == s;
        assert_int_equal(cJSON_GetArraySize(q), in_shard);
        const cJSON *it;
        cJSON_ArrayForEach(it, q)
        {
            int i = -1;
            assert_int_equal(sscanf(ops_str(it, "original_username"), "shard_%d", &i), 1);
            assert_int_equal(owner[i], s);
        }
        cJSON_Delete(q);
        cmd_result_free(&r);
    }
    for (int i = 0; i < 60; i++) assert_true(owner[i] >= 0); /* no gap */
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0); /* dry-run changed nothing */
    cJSON_Delete(log);

    /* run the three shards for real, one after the other: everyone retired once */
    for (int s = 0; s < N; s++) {
        char spec[16];
        snprintf(spec, sizeof spec, "%d/%d", s, N);
        cmd_result r = ops_run("retire", "--all", "-j", "4", "--shard", spec, "--cool-off-days", "1");
        if (r.status != 0) ops_show(&r);
        assert_int_equal(r.status, 0);
        cmd_result_free(&r);
    }
    log = ops_requests();
    for (int i = 0; i < 60; i++) {
        char user[32], status_path[96];
        snprintf(user, sizeof user, "shard_%03d", i);
        snprintf(status_path, sizeof status_path, "/accounts/%s/retirement_status", user);
        assert_int_equal(ops_count(log, "GET", status_path, NULL), 1);
        assert_string_equal(ops_state(user, "current_state"), "COMPLETE");
    }
    cJSON_Delete(log);
    /* bad shard specs are usage errors */
    cmd_result r = ops_run("retire", "--all", "--shard", "3/3");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "0..2"));
    cmd_result_free(&r);
}

/* The safety valve: more learners than --max-learners and nothing is done. */
static void test_max_learners(void **state)
{
    (void)state;
    ops_reset();
    add_bulk("valve", 5);
    cmd_result r = ops_run("retire", "--all", "--max-learners", "3", "--cool-off-days", "1");
    if (r.status != 255) ops_show(&r);
    assert_int_equal(r.status, 255);
    assert_non_null(strstr(r.err, "Too many learners to retire! Expected 3 or fewer, got 5!"));
    cmd_result_free(&r);
    cJSON *log = ops_requests();
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    cJSON_Delete(log);
    r = ops_run("--json", "retire", "--all", "--max-learners", "3", "--force-large", "-j", "2", "--cool-off-days", "1");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_string_equal(ops_state("valve_004", "current_state"), "COMPLETE");
    /* --json: one summary object */
    cJSON *sum = cJSON_Parse(r.out);
    assert_non_null(sum);
    assert_int_equal(cJSON_GetObjectItem(sum, "queued")->valueint, 5);
    assert_int_equal(cJSON_GetObjectItem(sum, "complete")->valueint, 5);
    assert_int_equal(cJSON_GetObjectItem(sum, "failed")->valueint, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(sum, "failed_learners")), 0);
    assert_int_equal(cJSON_GetObjectItem(sum, "exit_status")->valueint, 0);
    cJSON_Delete(sum);
    cmd_result_free(&r);
    /* an empty queue is fine */
    r = ops_run("retire", "--all", "--cool-off-days", "1");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "No learners to retire"));
    cmd_result_free(&r);
}

/* SIGINT during a run: the steps in flight finish, no new learner starts, exit 130, and no
 * learner is left in a working state (each is where the LMS can pick it up again). */
static void test_interrupt_leaves_no_learner_mid_step(void **state)
{
    (void)state;
    ops_reset();
    add_bulk("intr", 40);
    /* slow steps so the signal lands mid-run */
    ops_fault("{\"path\": \"edxnotes\", \"latency_ms\": 150}");
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "--config", OPS.config, "retire", "--all", "-j", "4",
                          "--cool-off-days", "1", NULL};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    /* the signal lands once the run is under way: a first learner is COMPLETE (not after a fixed
     * time, which a loaded machine or a sanitizer build can outlast) */
    for (int tries = 0; tries < 400; tries++) {
        int any = 0;
        for (int i = 0; i < 8 && !any; i++) {
            char user[32];
            snprintf(user, sizeof user, "intr_%03d", i);
            any = !strcmp(ops_state(user, "current_state"), "COMPLETE");
        }
        if (any) break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGINT);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 130);
    int complete = 0, untouched = 0, other = 0;
    for (int i = 0; i < 40; i++) {
        char user[32];
        snprintf(user, sizeof user, "intr_%03d", i);
        const char *cur = ops_state(user, "current_state");
        /* never left in a working state */
        assert_null(strstr(cur, "RETIRING_"));
        if (!strcmp(cur, "COMPLETE")) complete++;
        else if (!strcmp(cur, "PENDING")) untouched++;
        else other++;
    }
    assert_true(complete >= 1);  /* it was running */
    assert_true(untouched >= 1); /* and it stopped starting new learners */
    /* the audit log says it was cancelled */
    cJSON *audit = ops_audit_lines(NULL);
    cJSON *end = cJSON_GetArrayItem(audit, cJSON_GetArraySize(audit) - 1);
    assert_string_equal(ops_str(end, "phase"), "end");
    assert_string_equal(ops_str(end, "outcome"), "cancelled");
    assert_int_equal(cJSON_GetObjectItem(end, "exit_status")->valueint, 130);
    cJSON_Delete(audit);
    (void)other;
}

/* An LMS that refuses every status read: the run stops starting learners after 10 in a row. */
static void test_breaker_stops_a_hopeless_run(void **state)
{
    (void)state;
    ops_reset();
    add_bulk("down", 40);
    ops_fault("{\"path\": \"/retirement_status\", \"method\": \"GET\", \"status\": 403}");
    cmd_result r = ops_run("retire", "--all", "-j", "2", "--cool-off-days", "1");
    if (r.status != 252) ops_show(&r);
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.err, "10 learners in a row failed before any step"));
    assert_non_null(strstr(r.out, "not started"));
    cJSON *log = ops_requests();
    int reads = ops_count(log, "GET", "/retirement_status", NULL);
    assert_true(reads >= 10 && reads <= 12); /* the ones in flight when it tripped finish */
    assert_int_equal(ops_count(log, "PATCH", NULL, NULL), 0);
    cJSON_Delete(log);
    assert_string_equal(ops_state("down_039", "current_state"), "PENDING");
    cmd_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bulk_200_with_failures),
        cmocka_unit_test(test_shards_partition_queue),
        cmocka_unit_test(test_max_learners),
        cmocka_unit_test(test_interrupt_leaves_no_learner_mid_step),
        cmocka_unit_test(test_breaker_stops_a_hopeless_run),
    };
    return cmocka_run_group_tests(tests, ops_setup, ops_teardown);
}
