/* `retirectl queue` against retirectl-sim: get_learners_to_retire.py parity (docs/lms-api.md §9.2, §12.3):
 * the states asked for, cool-off, batch size and threshold, the Jenkins property files and the
 * exit statuses; plus the table/JSON formats and --shard. */
#include <dirent.h>
#include <sys/stat.h>

#include "retire_support.h"

#define QUEUE_LEARNERS                                                                                  \
    "[{\"username\": \"Alice\", \"state\": \"PENDING\", \"days_ago\": 10},"                             \
    " {\"username\": \"bob\", \"state\": \"FORUMS_COMPLETE\", \"days_ago\": 10},"                       \
    " {\"username\": \"fresh\", \"state\": \"PENDING\", \"days_ago\": 1},"                              \
    " {\"username\": \"busy\", \"state\": \"RETIRING_FORUMS\", \"days_ago\": 10},"                      \
    " {\"username\": \"failed\", \"state\": \"ERRORED\", \"days_ago\": 10},"                            \
    " {\"username\": \"done\", \"state\": \"COMPLETE\", \"days_ago\": 10}]"

/* Number of entries in a directory (-1 when it does not exist). */
static int dir_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* success: the ready learners as files; a stale file in the directory is removed. */
static void test_jenkins_success(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, QUEUE_LEARNERS, NULL, NULL, NULL);
    char out[1200], stale[1300];
    snprintf(out, sizeof out, "%s/props", env.dir);
    mkdir(out, 0755);
    snprintf(stale, sizeof stale, "%s/learner_retire_old", out);
    FILE *f = fopen(stale, "w");
    fputs("RETIREMENT_USERNAME=old\n", f);
    fclose(f);
    cmd_result r;
    rt_retirectl(&env, &r, "queue", "--format", "jenkins", "--output_dir", out, "--cool_off_days", "5", NULL);
    rt_assert_status(&r, 0);
    assert_int_equal(dir_entries(out), 2);
    char p[1400];
    snprintf(p, sizeof p, "%s/learner_retire_alice", out);
    char *c = slurp(p);
    assert_non_null(c);
    assert_string_equal(c, "RETIREMENT_USERNAME=Alice\n");
    free(c);
    snprintf(p, sizeof p, "%s/learner_retire_bob", out);
    c = slurp(p);
    assert_non_null(c);
    assert_string_equal(c, "RETIREMENT_USERNAME=bob\n");
    free(c);
    /* one token fetch, one queue call, with PENDING + every end state and the batch limit */
    assert_int_equal(rt_count(&env, "POST", "/oauth2/access_token"), 1);
    assert_int_equal(rt_count(&env, "GET", "retirement_queue"), 1);
    cJSON *reqs = rt_requests(&env);
    cJSON *it;
    const char *query = NULL;
    cJSON_ArrayForEach(it, reqs)
    {
        const cJSON *pth = cJSON_GetObjectItemCaseSensitive(it, "path");
        if (cJSON_IsString(pth) && strstr(pth->valuestring, "retirement_queue"))
            query = cJSON_GetObjectItemCaseSensitive(it, "query")->valuestring;
    }
    assert_non_null(query);
    assert_non_null(strstr(query, "cool_off_days=5"));
    assert_non_null(strstr(query, "states=PENDING"));
    assert_non_null(strstr(query, "states=FORUMS_COMPLETE"));
    assert_non_null(strstr(query, "states=EMAIL_LISTS_COMPLETE"));
    assert_non_null(strstr(query, "states=LMS_COMPLETE"));
    assert_non_null(strstr(query, "limit=200"));
    cJSON_Delete(reqs);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* lms_down: exit 1 and the output directory not created. */
static void test_jenkins_lms_down(void **state)
{
    (void)state;
    char *dir = make_temp_dir();
    char *cfgp = write_temp_file("config.yml",
                                 "client_id: x\nclient_secret: y\nbase_urls:\n  lms: http://127.0.0.1:9/\n"
                                 "http:\n  max_retry_seconds: 1\n"
                                 "retirement_pipeline:\n"
                                 "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n");
    char out[1200];
    snprintf(out, sizeof out, "%s/props", dir);
    const char *args[] = {"--config", cfgp, "queue", "--format", "jenkins", "--output-dir", out, NULL};
    cmd_result r;
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 1);
    assert_int_equal(dir_entries(out), -1);
    cmd_result_free(&r);
    free(cfgp);
    free(dir);
}

/* misconfigured: the LMS answers 400 (unknown state requested) -> exit 1, no dir. */
static void test_jenkins_misconfigured(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, QUEUE_LEARNERS, NULL,
             "  - ['RETIRING_FOO', 'FOO_COMPLETE', 'LMS', 'retirement_lms_retire']\n", NULL);
    char out[1200];
    snprintf(out, sizeof out, "%s/props", env.dir);
    cmd_result r;
    rt_retirectl(&env, &r, "queue", "--format", "jenkins", "--output-dir", out, NULL);
    rt_assert_status(&r, 1);
    assert_int_equal(dir_entries(out), -1);
    assert_non_null(strstr(r.err, "retirement_queue"));
    cmd_result_free(&r);
    rt_stop(&env);
}

/* too_many_users: threshold 1 with 2 learners -> 255 "Too many learners", no dir. */
static void test_jenkins_too_many(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, QUEUE_LEARNERS, NULL, NULL, NULL);
    char out[1200];
    snprintf(out, sizeof out, "%s/props", env.dir);
    cmd_result r;
    rt_retirectl(&env, &r, "queue", "--format", "jenkins", "--output-dir", out, "--cool-off-days", "5",
                 "--user_count_error_threshold", "1", NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.out, "Too many learners to retire! Expected 1 or fewer, got 2!"));
    assert_int_equal(dir_entries(out), -1);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* users_limit: max_user_batch_size 1 -> 1 file, exit 0. */
static void test_jenkins_batch_limit(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, QUEUE_LEARNERS, NULL, NULL, NULL);
    char out[1200];
    snprintf(out, sizeof out, "%s/props", env.dir);
    cmd_result r;
    rt_retirectl(&env, &r, "queue", "--format", "jenkins", "--output-dir", out, "--cool-off-days", "5",
                 "--max_user_batch_size", "1", NULL);
    rt_assert_status(&r, 0);
    assert_int_equal(dir_entries(out), 1);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* table and JSON, cool-off respected, no file written; shards partition the queue. */
static void test_formats_and_shards(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, QUEUE_LEARNERS, NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "queue", NULL);
    rt_assert_status(&r, 0);
    assert_non_null(strstr(r.out, "Alice"));
    assert_non_null(strstr(r.out, "bob"));
    assert_null(strstr(r.out, "fresh")); /* in cool-off (default 7 days) */
    assert_null(strstr(r.out, "busy"));
    assert_null(strstr(r.out, "failed"));
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "queue", "--cool-off-days", "0", "--json", NULL);
    rt_assert_status(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    assert_true(cJSON_IsArray(j));
    assert_int_equal(cJSON_GetArraySize(j), 3);
    cJSON_Delete(j);
    cmd_result_free(&r);
    int total = 0;
    for (int i = 0; i < 3; i++) {
        char shard[16];
        snprintf(shard, sizeof shard, "%d/3", i);
        rt_retirectl(&env, &r, "queue", "--cool-off-days", "0", "--json", "--shard", shard, NULL);
        rt_assert_status(&r, 0);
        j = cJSON_Parse(r.out);
        assert_true(cJSON_IsArray(j));
        total += cJSON_GetArraySize(j);
        cJSON_Delete(j);
        cmd_result_free(&r);
    }
    assert_int_equal(total, 3);
    rt_retirectl(&env, &r, "queue", "--shard", "3/3", NULL);
    rt_assert_status(&r, 2);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* No config at all: get_learners_to_retire's "A config file is required." and 255. */
static void test_no_config(void **state)
{
    (void)state;
    const char *args[] = {"queue", NULL};
    const char *envs[] = {"XDG_CONFIG_HOME=/nonexistent", "HOME=/nonexistent", NULL};
    cmd_result r;
    rt_run(&r, args, envs);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.err, "A config file is required."));
    cmd_result_free(&r);
}

/* A negative --cool_off_days is click's int, sent as is (docs/lms-api.md §9.2, §5.1): the LMS answers 400
 * "Invalid argument for cool_off_days, must be greater than 0." and the uncaught error exits 1
 * with no directory written. */
static void test_negative_cool_off_sent(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, QUEUE_LEARNERS, NULL, NULL, NULL);
    char out[1200];
    snprintf(out, sizeof out, "%s/props", env.dir);
    cmd_result r;
    rt_retirectl(&env, &r, "queue", "--cool_off_days", "-1", "--format", "jenkins", "--output-dir", out, NULL);
    rt_assert_status(&r, 1);
    assert_int_equal(dir_entries(out), -1);
    assert_non_null(strstr(r.err, "must be greater than 0"));
    cmd_result_free(&r);
    rt_stop(&env);
}

/* File names use Python's str.lower(), including its two special mappings: capital
 * dotted I (U+0130) becomes "i" + U+0307, and a capital sigma ending a word becomes the
 * final sigma, but not before a '.' followed by a letter (expected names computed with python3:
 * 'ΟΔΟΣ'.lower(), 'İz'.lower(), 'ΣΣ.X'.lower()). */
static void test_python_lower_file_names(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env,
             "[{\"username\": \"\xce\x9f\xce\x94\xce\x9f\xce\xa3\", \"days_ago\": 10},"
             " {\"username\": \"\xc4\xb0z\", \"days_ago\": 10},"
             " {\"username\": \"\xce\xa3\xce\xa3.X\", \"days_ago\": 10}]",
             NULL, NULL, NULL);
    char out[1200];
    snprintf(out, sizeof out, "%s/props", env.dir);
    cmd_result r;
    rt_retirectl(&env, &r, "queue", "--format", "jenkins", "--output_dir", out, NULL);
    rt_assert_status(&r, 0);
    assert_int_equal(dir_entries(out), 3);
    const char *names[] = {"learner_retire_\xce\xbf\xce\xb4\xce\xbf\xcf\x82", "learner_retire_i\xcc\x87z",
                           "learner_retire_\xcf\x83\xcf\x83.x"};
    for (int i = 0; i < 3; i++) {
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", out, names[i]);
        char *c = slurp(p);
        if (!c) fail_msg("no file %s", names[i]);
        free(c);
    }
    cmd_result_free(&r);
    rt_stop(&env);
}

/* A config without retirement_pipeline: upstream's config['retirement_pipeline'] raises
 * KeyError (exit 1) before asking the LMS; no directory is written. */
static void test_no_pipeline_key(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, QUEUE_LEARNERS, NULL, NULL, NULL);
    char *text = NULL;
    size_t n = strlen(env.sim.base_url) + 200;
    text = malloc(n);
    snprintf(text, n, "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n", SIM_CLIENT_ID,
             SIM_CLIENT_SECRET, env.sim.base_url);
    char *cfgp = write_temp_file("nopipe.yml", text);
    free(text);
    char out[1200];
    snprintf(out, sizeof out, "%s/props", env.dir);
    const char *args[] = {"--config", cfgp, "queue", "--format", "jenkins", "--output-dir", out, NULL};
    cmd_result r;
    rt_run(&r, args, NULL);
    rt_assert_status(&r, 1);
    assert_int_equal(dir_entries(out), -1);
    assert_non_null(strstr(r.err, "retirement_pipeline"));
    assert_int_equal(rt_count(&env, "GET", "retirement_queue"), 0);
    cmd_result_free(&r);
    unlink(cfgp);
    free(cfgp);
    rt_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_jenkins_success, rt_teardown),
        cmocka_unit_test_teardown(test_jenkins_lms_down, rt_teardown),
        cmocka_unit_test_teardown(test_jenkins_misconfigured, rt_teardown),
        cmocka_unit_test_teardown(test_jenkins_too_many, rt_teardown),
        cmocka_unit_test_teardown(test_jenkins_batch_limit, rt_teardown),
        cmocka_unit_test_teardown(test_formats_and_shards, rt_teardown),
        cmocka_unit_test_teardown(test_no_config, rt_teardown),
        cmocka_unit_test_teardown(test_negative_cool_off_sent, rt_teardown),
        cmocka_unit_test_teardown(test_python_lower_file_names, rt_teardown),
        cmocka_unit_test_teardown(test_no_pipeline_key, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
