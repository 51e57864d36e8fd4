/* Helpers shared by the ops integration tests (test_ops_*.c): a sim with learners added
 * through its control API, the request log, learner dumps, running retirectl, and reading the
 * audit log. Header-only (static functions) so each test program stays one file. */
#ifndef RETIRECTL_TEST_OPS_SUPPORT_H
#define RETIRECTL_TEST_OPS_SUPPORT_H

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

/* The test pipeline: four LMS steps in the order of the sim's default state table
 * (retire_mailings is left out: the current LMS answers 404 to it). */
#define OPS_PIPELINE                                                                       \
    "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"       \
    "  - ['RETIRING_ENROLLMENTS', 'ENROLLMENTS_COMPLETE', 'LMS', 'retirement_unenroll']\n" \
    "  - ['RETIRING_NOTES', 'NOTES_COMPLETE', 'LMS', 'retirement_retire_notes']\n"         \
    "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n"

typedef struct ops_env {
    sim_proc sim;
    char *dir;        /* temp dir for the audit log */
    char audit[1024]; /* audit log path */
    char *config;     /* config file for the sim */
} ops_env;

static ops_env OPS;

/* Starts the sim (no learners) and writes the config with an audit log and short retries. */
static inline int ops_setup(void **state)
{
    (void)state;
    setenv("LC_ALL", "C.UTF-8", 1);
    if (sim_start(&OPS.sim, NULL) != 0) return -1;
    OPS.dir = make_temp_dir();
    snprintf(OPS.audit, sizeof OPS.audit, "%s/state/audit.jsonl", OPS.dir);
    char extra[2048];
    snprintf(extra, sizeof extra,
             "audit_log: %s\n"
             "http:\n"
             "  max_retry_seconds: 1\n"
             "  gateway_timeout_wait_seconds: 0\n",
             OPS.audit);
    OPS.config = sim_write_config(&OPS.sim, OPS_PIPELINE, extra);
    return 0;
}

static inline int ops_teardown(void **state)
{
    (void)state;
    sim_stop(&OPS.sim);
    free(OPS.config);
    free(OPS.dir);
    return 0;
}

/* Resets the sim (no learners, no faults, empty request log) and truncates the audit log. */
static inline void ops_reset(void)
{
    assert_int_equal(sim_http(&OPS.sim, "POST", "/__sim/reset", NULL, "{}", NULL), 204);
    sim_http(&OPS.sim, "DELETE", "/__sim/faults", NULL, NULL, NULL);
    sim_http(&OPS.sim, "DELETE", "/__sim/requests", NULL, NULL, NULL);
    FILE *f = fopen(OPS.audit, "r+");
    if (f) {
        if (ftruncate(fileno(f), 0) != 0) fail_msg("cannot truncate %s", OPS.audit);
        fclose(f);
    }
}

/* Adds learners: a JSON spec or list of specs (docs/sim.md). */
static inline void ops_add(const char *json)
{
    char *body = NULL;
    long st = sim_http(&OPS.sim, "POST", "/__sim/learners", NULL, json, &body);
    if (st != 201) fail_msg("POST /__sim/learners %s -> %ld %s", json, st, body ? body : "");
    free(body);
}

/* Adds a fault rule (JSON). */
static inline void ops_fault(const char *json)
{
    char *body = NULL;
    long st = sim_http(&OPS.sim, "POST", "/__sim/faults", NULL, json, &body);
    if (st != 201) fail_msg("POST /__sim/faults %s -> %ld %s", json, st, body ? body : "");
    free(body);
}

/* The sim's dump of one learner (caller frees), or NULL. */
static inline cJSON *ops_learner(const char *username)
{
    char path[512], *body = NULL;
    snprintf(path, sizeof path, "/__sim/learners?username=%s", username); /* test names are plain ASCII */
    long st = sim_http(&OPS.sim, "GET", path, NULL, NULL, &body);
    cJSON *j = st == 200 && body ? cJSON_Parse(body) : NULL;
    free(body);
    return j;
}

/* current_state / last_state name of a learner (static buffer; "" when unknown). */
static inline const char *ops_state(const char *username, const char *which)
{
    static char buf[64];
    buf[0] = '\0';
    cJSON *j = ops_learner(username);
    const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(j, which), "state_name");
    if (cJSON_IsString(n)) snprintf(buf, sizeof buf, "%s", n->valuestring);
    cJSON_Delete(j);
    return buf;
}

/* The `responses` log of a learner (malloc'd). */
static inline char *ops_responses(const char *username)
{
    cJSON *j = ops_learner(username);
    const cJSON *r = cJSON_GetObjectItem(j, "responses");
    char *s = strdup(cJSON_IsString(r) ? r->valuestring : "");
    cJSON_Delete(j);
    return s;
}

/* The request log since the last reset (caller frees). */
static inline cJSON *ops_requests(void)
{
    char *body = NULL;
    long st = sim_http(&OPS.sim, "GET", "/__sim/requests", NULL, NULL, &body);
    assert_int_equal(st, 200);
    cJSON *j = cJSON_Parse(body);
    free(body);
    assert_non_null(j);
    return j;
}

/* Counts logged requests with this method whose path contains path_part and whose body
 * contains body_part (NULL = any). */
static inline int ops_count(const cJSON *log, const char *method, const char *path_part, const char *body_part)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, log)
    {
        const char *m = cJSON_GetObjectItem(e, "method")->valuestring;
        const char *p = cJSON_GetObjectItem(e, "path")->valuestring;
        const cJSON *b = cJSON_GetObjectItem(e, "body");
        if (method && strcmp(m, method)) continue;
        if (path_part && !strstr(p, path_part)) continue;
        if (body_part && !(cJSON_IsString(b) && strstr(b->valuestring, body_part))) continue;
        n++;
    }
    return n;
}

/* Counts PATCHes of update_retirement_status for username to new_state (NULL = any), with
 * force (1), without (0) or either (-1). */
static inline int ops_count_patch(const cJSON *log, const char *username, const char *new_state, int force)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, log)
    {
        if (strcmp(cJSON_GetObjectItem(e, "method")->valuestring, "PATCH")) continue;
        if (!strstr(cJSON_GetObjectItem(e, "path")->valuestring, "update_retirement_status")) continue;
        cJSON *b = cJSON_Parse(cJSON_GetObjectItem(e, "body")->valuestring);
        const cJSON *u = cJSON_GetObjectItem(b, "username"), *s = cJSON_GetObjectItem(b, "new_state");
        int forced = cJSON_IsTrue(cJSON_GetObjectItem(b, "force"));
        if (cJSON_IsString(u) && !strcmp(u->valuestring, username) &&
            (!new_state || (cJSON_IsString(s) && !strcmp(s->valuestring, new_state))) && (force < 0 || force == forced))
            n++;
        cJSON_Delete(b);
    }
    return n;
}

/* Runs retirectl with --config and --operator, then the arguments (NULL-terminated). */
static inline cmd_result ops_run_env(const char *const *env, const char *stdin_text, const char *first, ...)
{
    const char *argv[64];
    int n = 0;
    const char *bin = getenv("RETIRECTL_BIN");
    argv[n++] = bin && *bin ? bin : RETIRECTL_BIN;
    argv[n++] = "--config";
    argv[n++] = OPS.config;
    argv[n++] = "--operator";
    argv[n++] = "ops-tester";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 63; a = va_arg(ap, const char *)) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    cmd_result r;
    if (run_command(&r, argv, env, stdin_text, 300) != 0) fail_msg("cannot run %s", argv[0]);
    return r;
}
#define ops_run(...) ops_run_env(NULL, NULL, __VA_ARGS__, (const char *)NULL)

/* Prints a command's output when a check fails (cmocka shows it above the failure). */
static inline void ops_show(const cmd_result *r)
{
    fprintf(stderr, "--- exit %d\n--- stdout:\n%s\n--- stderr:\n%s\n", r->status, r->out, r->err);
}

/* The audit log's lines as a JSON array (caller frees). */
static inline cJSON *ops_audit_lines(char **raw_out)
{
    FILE *f = fopen(OPS.audit, "rb");
    cJSON *a = cJSON_CreateArray();
    if (!f) {
        if (raw_out) *raw_out = strdup("");
        return a;
    }
    size_t cap = 1 << 16, len = 0;
    char *raw = malloc(cap);
    size_t r;
    while ((r = fread(raw + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len < 4096) raw = realloc(raw, cap *= 2);
    }
    fclose(f);
    raw[len] = '\0';
    char *save = NULL, *copy = strdup(raw);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        if (!j) fail_msg("audit line is not JSON: %s", line);
        cJSON_AddItemToArray(a, j);
    }
    free(copy);
    if (raw_out) *raw_out = raw;
    else free(raw);
    return a;
}

/* A string member or "". */
static inline const char *ops_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

#endif
