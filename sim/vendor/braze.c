/* retirectl-sim: Braze REST API emulation (POST /vendor/braze/users/delete).
 * Auth: "Authorization: Bearer <braze_api_key>" (option braze_api_key, default sim-braze-key),
 * else 401 {"message": "Invalid API key"}. Body: exactly one identifier type; external_ids is an
 * array of 1..50 strings or numbers, else 400 {"message": ...}. Success: 201
 * {"deleted": n, "message": "success"}. Rate limit: options braze_rate_limit (0 = off) per
 * braze_rate_window_seconds (60), X-RateLimit-* headers, 429 over it. Fault endpoint: braze_delete
 * (learner matched by user id). */
#include "vendor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t braze_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *braze_deleted; /* array of the external ids deleted, as sent */
static long braze_calls;
static vsim_window braze_window; /* the per-minute rate limit of /users/delete */

void vsim_braze_reset(void)
{
    pthread_mutex_lock(&braze_mu);
    cJSON_Delete(braze_deleted);
    braze_deleted = cJSON_CreateArray();
    braze_calls = 0;
    pthread_mutex_unlock(&braze_mu);
    vsim_window_clear(&braze_window);
}

cJSON *vsim_braze_dump(void)
{
    pthread_mutex_lock(&braze_mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "deleted_external_ids",
                          braze_deleted ? cJSON_Duplicate(braze_deleted, 1) : cJSON_CreateArray());
    cJSON_AddNumberToObject(o, "delete_calls", (double)braze_calls);
    pthread_mutex_unlock(&braze_mu);
    return o;
}

/* 400 with Braze's error shape. */
static int braze_bad(sim_response *resp, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", msg);
    sim_respond_json(resp, 400, o);
    return 1;
}

/* Braze's rate limit (option braze_rate_limit requests per braze_rate_window_seconds, default 60;
 * 0 = off): every answer carries X-RateLimit-Limit / -Remaining / -Reset (UTC epoch seconds of
 * the window's end, as Braze documents); over it, 429 {"message": ...}. 1 when it answered. */
static int braze_rate_limited(sim_server *s, sim_response *resp)
{
    long limit = atol(vsim_opt(s, "braze_rate_limit", "0"));
    if (limit <= 0) return 0;
    long remaining = 0;
    int64_t reset_ms = 0;
    int ok = vsim_window_take(&braze_window, limit, 1000 * atol(vsim_opt(s, "braze_rate_window_seconds", "60")),
                              &remaining, &reset_ms);
    char v[32];
    snprintf(v, sizeof v, "%ld", limit);
    sim_response_add_header(resp, "X-RateLimit-Limit", v);
    snprintf(v, sizeof v, "%ld", remaining > 0 ? remaining : 0);
    sim_response_add_header(resp, "X-RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%lld", (long long)((reset_ms + 999) / 1000)); /* whole seconds, never early */
    sim_response_add_header(resp, "X-RateLimit-Reset", v);
    if (ok) return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", "API rate limit exceeded");
    sim_respond_json(resp, 429, o);
    return 1;
}

int vsim_braze_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp)
{
    if (strcmp(sub, "/users/delete") != 0) return 0;
    cJSON *body = sim_request_json(req);
    const cJSON *ids = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "external_ids") : NULL;
    char *user = vsim_username_for_id(s, cJSON_GetArrayItem(ids, 0));
    int faulted = sim_fault_check(s, "braze_delete", req, user, resp);
    free(user);
    if (faulted) {
        cJSON_Delete(body);
        return 1;
    }
    if (strcmp(req->method, "POST") != 0) {
        cJSON_Delete(body);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "message", "Method Not Allowed");
        sim_respond_json(resp, 405, o);
        return 1;
    }
    if (!vsim_auth_is(req, "Bearer", vsim_opt(s, "braze_api_key", "sim-braze-key"))) {
        cJSON_Delete(body);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "message", "Invalid API key");
        sim_respond_json(resp, 401, o);
        return 1;
    }
    if (braze_rate_limited(s, resp)) {
        cJSON_Delete(body);
        return 1;
    }
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return braze_bad(resp, "Invalid JSON request body");
    }
    int kinds = 0;
    static const char *const kinds_names[] = {"external_ids", "user_aliases", "braze_ids", "email_addresses",
                                              "phone_numbers"};
    for (size_t i = 0; i < sizeof kinds_names / sizeof kinds_names[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(body, kinds_names[i])) kinds++;
    if (kinds != 1 || !ids) {
        cJSON_Delete(body);
        return braze_bad(resp, "Exactly one of external_ids, user_aliases, braze_ids, email_addresses or "
                               "phone_numbers must be provided");
    }
    int n = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : -1;
    if (n < 1 || n > 50) {
        cJSON_Delete(body);
        return braze_bad(resp, "external_ids must be an array of 1 to 50 ids");
    }
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        if (!cJSON_IsString(id) && !cJSON_IsNumber(id)) {
            cJSON_Delete(body);
            return braze_bad(resp, "external_ids must contain strings");
        }
    }
    pthread_mutex_lock(&braze_mu);
    if (!braze_deleted) braze_deleted = cJSON_CreateArray();
    cJSON_ArrayForEach(id, ids) cJSON_AddItemToArray(braze_deleted, cJSON_Duplicate(id, 1));
    braze_calls++;
    pthread_mutex_unlock(&braze_mu);
    cJSON_Delete(body);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "deleted", n);
    cJSON_AddStringToObject(o, "message", "success");
    sim_respond_json(resp, 201, o);
    return 1;
}
