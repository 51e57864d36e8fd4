/* Helpers shared by engine-b's integration tests (test_retire*.c, test_queue*.c,
 * test_plan_cli.c, test_status.c): a fresh retirectl-sim per test with seeded learners, the
 * request log and learner dump of the sim, and running retirectl. Header-only. */
#ifndef RETIRECTL_TEST_RETIRE_SUPPORT_H
#define RETIRECTL_TEST_RETIRE_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "simproc.h"

#ifndef RETIRECTL_BIN
#define RETIRECTL_BIN "retirectl"
#endif

typedef struct rt_env {
    sim_proc sim;
    char *dir;     /* temp dir: audit log, outputs */
    char *config;  /* config path */
    char audit[1024];
} rt_env;

/* The env of the running test, stopped by rt_teardown even when the test fails. */
static rt_env *rt_current;

/* Path of the retirectl binary ($RETIRECTL_BIN or the compiled-in one). */
static __attribute__((unused)) const char *rt_bin(void)
{
    const char *e = getenv("RETIRECTL_BIN");
    return e && *e ? e : RETIRECTL_BIN;
}

/* Writes a seed file of learners (a JSON array text) and returns its path. */
static __attribute__((unused)) char *rt_seed_file(const char *learners_json)
{
    char *text = malloc(strlen(learners_json) + 32);
    sprintf(text, "{\"learners\": %s}", learners_json);
    char *p = write_temp_file("seed.json", text);
    free(text);
    return p;
}

/* Starts a sim with the learners (JSON array text, may be NULL) and extra sim flags
 * (NULL-terminated, may be NULL); writes a config with pipeline (NULL: the 4-step test
 * pipeline) and extra YAML plus an audit log and fast retries. */
static __attribute__((unused)) void rt_start(rt_env *env, const char *learners_json, const char *const *sim_flags, const char *pipeline,
                     const char *extra_yaml)
{
    memset(env, 0, sizeof *env);
    setenv("LC_ALL", "C.UTF-8", 1);
    const char *args[32];
    int n = 0;
    char *seed = NULL;
    if (learners_json) {
        seed = rt_seed_file(learners_json);
        args[n++] = "--seed";
        args[n++] = seed;
    }
    for (int i = 0; sim_flags && sim_flags[i] && n < 30; i++) args[n++] = sim_flags[i];
    args[n] = NULL;
    assert_int_equal(sim_start(&env->sim, args), 0);
    free(seed);
    env->dir = make_temp_dir();
    snprintf(env->audit, sizeof env->audit, "%s/audit.jsonl", env->dir);
    char extra[8192];
    snprintf(extra, sizeof extra,
             "audit_log: %s\n"
             "http:\n"
             "  max_retry_seconds: 2\n"
             "  gateway_timeout_wait_seconds: 0.2\n"
             "%s",
             env->audit, extra_yaml ? extra_yaml : "");
    env->config = sim_write_config(&env->sim, pipeline, extra);
    rt_current = env;
}

static __attribute__((unused)) void rt_stop(rt_env *env)
{
    if (env->sim.pid > 0) sim_stop(&env->sim);
    free(env->config);
    free(env->dir);
    memset(env, 0, sizeof *env);
    if (rt_current == env) rt_current = NULL;
}

/* cmocka teardown: stops the sim of a test that failed before rt_stop. */
static __attribute__((unused)) int rt_teardown(void **state)
{
    (void)state;
    if (rt_current) rt_stop(rt_current);
    return 0;
}

/* Runs retirectl with args (NULL-terminated, after the binary) and extra env (may be NULL). */
static __attribute__((unused)) void rt_run(cmd_result *r, const char *const *args, const char *const *extra_env)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = rt_bin();
    for (int i = 0; args[i] && n < 63; i++) argv[n++] = args[i];
    argv[n] = NULL;
    const char *env[32];
    int m = 0;
    env[m++] = "LC_ALL=C.UTF-8";
    env[m++] = "RETIRECTL_TEST_BACKOFF_SCALE=0.01";
    env[m++] = "RETIREMENT_USERNAME=";
    env[m++] = "RETIREMENT_CONFIG_FILE=";
    for (int i = 0; extra_env && extra_env[i] && m < 31; i++) env[m++] = extra_env[i];
    env[m] = NULL;
    assert_int_equal(run_command(r, argv, env, NULL, 120), 0);
}

/* Runs `retirectl --config CONFIG <args...>`. */
static __attribute__((unused)) void rt_retirectl(rt_env *env, cmd_result *r, ...)
{
    const char *args[48];
    int n = 0;
    args[n++] = "--config";
    args[n++] = env->config;
    va_list ap;
    va_start(ap, r);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 47) args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    rt_run(r, args, NULL);
}

/* The sim's learner record (from GET /__sim/learners) whose original_username is u; caller
 * frees with cJSON_Delete. NULL when absent. */
static __attribute__((unused)) cJSON *rt_learner(rt_env *env, const char *u)
{
    char *body = NULL;
    long st = sim_http(&env->sim, "GET", "/__sim/learners", NULL, NULL, &body);
    assert_int_equal(st, 200);
    cJSON *all = cJSON_Parse(body);
    free(body);
    cJSON *list = cJSON_IsArray(all) ? all : cJSON_GetObjectItemCaseSensitive(all, "learners");
    cJSON *found = NULL;
    cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(it, "original_username");
        if (cJSON_IsString(o) && strcmp(o->valuestring, u) == 0) {
            found = cJSON_Duplicate(it, 1);
            break;
        }
    }
    cJSON_Delete(all);
    return found;
}

/* Current state name of learner u (malloc'd). */
static __attribute__((unused)) char *rt_state(rt_env *env, const char *u)
{
    cJSON *l = rt_learner(env, u);
    assert_non_null(l);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "current_state"), "state_name");
    char *r = strdup(cJSON_IsString(s) ? s->valuestring : "");
    cJSON_Delete(l);
    return r;
}

/* The responses log of learner u (malloc'd). */
static __attribute__((unused)) char *rt_responses(rt_env *env, const char *u)
{
    cJSON *l = rt_learner(env, u);
    assert_non_null(l);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(l, "responses");
    char *r = strdup(cJSON_IsString(s) ? s->valuestring : "");
    cJSON_Delete(l);
    return r;
}

static __attribute__((unused)) void rt_assert_state(rt_env *env, const char *u, const char *expected)
{
    char *s = rt_state(env, u);
    if (strcmp(s, expected) != 0) fail_msg("learner %s is in %s, expected %s", u, s, expected);
    free(s);
}

/* The request log as a cJSON array (caller frees). */
static __attribute__((unused)) cJSON *rt_requests(rt_env *env)
{
    char *body = NULL;
    long st = sim_http(&env->sim, "GET", "/__sim/requests", NULL, NULL, &body);
    assert_int_equal(st, 200);
    cJSON *j = cJSON_Parse(body);
    free(body);
    if (cJSON_IsObject(j)) {
        cJSON *arr = cJSON_DetachItemFromObjectCaseSensitive(j, "requests");
        cJSON_Delete(j);
        j = arr;
    }
    assert_true(cJSON_IsArray(j));
    return j;
}

/* Number of logged requests with method (NULL: any) whose field ("path": percent-decoded,
 * "raw_path": as sent) contains part (NULL: any). */
static __attribute__((unused)) int rt_count_in(rt_env *env, const char *field, const char *method, const char *path_part)
{
    cJSON *reqs = rt_requests(env);
    int n = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, reqs)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "method");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, field);
        if (method && (!cJSON_IsString(m) || strcmp(m->valuestring, method) != 0)) continue;
        if (path_part && (!cJSON_IsString(p) || !strstr(p->valuestring, path_part))) continue;
        n++;
    }
    cJSON_Delete(reqs);
    return n;
}

/* Number of logged requests with method (NULL: any) whose decoded path contains path_part. */
static __attribute__((unused)) int rt_count(rt_env *env, const char *method, const char *path_part)
{
    return rt_count_in(env, "path", method, path_part);
}

/* Bodies of the PATCH update requests, joined with "\n--\n" (malloc'd). */
static __attribute__((unused)) char *rt_patch_bodies(rt_env *env)
{
    cJSON *reqs = rt_requests(env);
    size_t cap = 1, len = 0;
    char *out = calloc(1, 1);
    cJSON *it;
    cJSON_ArrayForEach(it, reqs)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "method");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, "body");
        if (!cJSON_IsString(m) || strcmp(m->valuestring, "PATCH") || !cJSON_IsString(b)) continue;
        size_t add = strlen(b->valuestring) + 5;
        cap = len + add + 1;
        out = realloc(out, cap);
        len += (size_t)sprintf(out + len, "%s\n--\n", b->valuestring);
    }
    cJSON_Delete(reqs);
    return out;
}

/* Adds a fault rule (JSON object text) to the sim. */
static __attribute__((unused)) void rt_fault(rt_env *env, const char *rule_json)
{
    char *body = NULL;
    long st = sim_http(&env->sim, "POST", "/__sim/faults", NULL, rule_json, &body);
    if (st != 200 && st != 201 && st != 204) fail_msg("sim refused fault %s: %ld %s", rule_json, st, body ? body : "");
    free(body);
}

/* Fails when the client secret appears in r's output. */
static __attribute__((unused)) void rt_assert_no_secret(const cmd_result *r)
{
    assert_null(strstr(r->out, SIM_CLIENT_SECRET));
    assert_null(strstr(r->err, SIM_CLIENT_SECRET));
}

/* Fails with both outputs shown when status differs. */
static __attribute__((unused)) void rt_assert_status(const cmd_result *r, int expected)
{
    if (r->status != expected)
        fail_msg("exit status %d, expected %d\n--- stdout:\n%s\n--- stderr:\n%s", r->status, expected, r->out, r->err);
}

#endif
