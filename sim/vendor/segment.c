/* retirectl-sim: Segment regulation APIs.
 * Config API (legacy, upstream) under /vendor/segment:
 *   POST /v1beta/workspaces/{slug}/regulations  {"regulation_type", "attributes": {"name": "userId",
 *        "values": [...]}} -> 200 {"regulate_id": "..."}; GET .../regulations/{id} -> the regulation.
 * Public API under /vendor/segment-public:
 *   POST /regulations {"regulationType", "subjectType": "USER_ID", "subjectIds": [...]} ->
 *        200 {"data": {"regulateId": "..."}} with X-Regulation-RateLimit-Remaining and
 *        X-Regulation-RateLimit-Quota-Reset (ISO 8601, 2026-12-03T08:12:44.000Z); over the quota
 *        429 with those headers and no Retry-After (Segment documents none).
 *   GET /regulations/{id} -> {"data": {"regulation": {...}}}.
 *   The Public API rate limit (every request): X-RateLimit-Consumed / -Remaining / -Reset
 *   (RFC 5322 date); over it 429 {"errors": [{"type": "RequestError", "message": "Too many
 *   requests", "data": {"remainingPoints", "msBeforeNext", "consumedPoints"}}]}.
 * Options (defaults): segment_auth_token (sim-segment-token), segment_workspace_slug
 * (sim-workspace), segment_public_quota (0 = unlimited: regulations allowed per window),
 * segment_public_window_seconds (2), segment_public_rate_limit (0 = off: requests per rate
 * window), segment_public_rate_window_seconds (60), segment_public_rate_body (full, or plain:
 * a 429 body without data, so only X-RateLimit-Reset tells the wait). Errors: Config API {"error", "code"}; Public API
 * {"errors": [{"type", "message"}]}. Fault endpoints: segment_regulate, segment_public_regulate,
 * segment_status (learner matched by the first value when it is a user id). */
#include "vendor.h"
#include "common/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t seg_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *seg_regs; /* array of {id, api, type, values} */
static vsim_window seg_rate;  /* Public API rate limit (every request) */
static vsim_window seg_quota; /* regulation quota (regulation requests) */

void vsim_segment_reset(void)
{
    pthread_mutex_lock(&seg_mu);
    cJSON_Delete(seg_regs);
    seg_regs = cJSON_CreateArray();
    pthread_mutex_unlock(&seg_mu);
    vsim_window_clear(&seg_rate);
    vsim_window_clear(&seg_quota);
}

cJSON *vsim_segment_dump(void)
{
    pthread_mutex_lock(&seg_mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "regulations", seg_regs ? cJSON_Duplicate(seg_regs, 1) : cJSON_CreateArray());
    pthread_mutex_unlock(&seg_mu);
    return o;
}

/* Config API error {"error": msg, "code": code}. */
static int seg_cfg_error(sim_response *resp, int status, int code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddNumberToObject(o, "code", code);
    sim_respond_json(resp, status, o);
    return 1;
}

/* Public API error {"errors": [{"type", "message"}]}. */
static int seg_pub_error(sim_response *resp, int status, const char *type, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *errs = cJSON_AddArrayToObject(o, "errors");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddItemToArray(errs, e);
    sim_respond_json(resp, status, o);
    return 1;
}

/* Records a regulation and returns its id (static buffer copy in out). */
static void seg_record(const char *api, const char *type, const cJSON *values, char out[40])
{
    pthread_mutex_lock(&seg_mu);
    if (!seg_regs) seg_regs = cJSON_CreateArray();
    snprintf(out, 40, "reg_sim_%04d", cJSON_GetArraySize(seg_regs) + 1);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", out);
    cJSON_AddStringToObject(r, "api", api);
    cJSON_AddStringToObject(r, "type", type);
    cJSON_AddItemToObject(r, "values", cJSON_Duplicate(values, 1));
    cJSON_AddItemToArray(seg_regs, r);
    pthread_mutex_unlock(&seg_mu);
}

/* The recorded regulation with this id (a copy), or NULL. */
static cJSON *seg_find(const char *id)
{
    cJSON *found = NULL;
    pthread_mutex_lock(&seg_mu);
    const cJSON *r;
    cJSON_ArrayForEach(r, seg_regs) {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
        if (cJSON_IsString(rid) && strcmp(rid->valuestring, id) == 0) found = cJSON_Duplicate(r, 1);
    }
    pthread_mutex_unlock(&seg_mu);
    return found;
}

/* Checks a values array: 1..4999 strings. */
static int seg_values_ok(const cJSON *v)
{
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    if (n < 1 || n >= 5000) return 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, v) if (!cJSON_IsString(c)) return 0;
    return 1;
}

int vsim_segment_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp)
{
    static const char prefix[] = "/v1beta/workspaces/";
    if (strncmp(sub, prefix, sizeof prefix - 1) != 0) return 0;
    const char *slug = sub + sizeof prefix - 1;
    const char *rest = strchr(slug, '/');
    if (!rest || strncmp(rest, "/regulations", 12) != 0) return 0;
    const char *reg_id = rest[12] == '/' ? rest + 13 : NULL;
    if (!reg_id && rest[12] != '\0') return 0;
    cJSON *body = reg_id ? NULL : sim_request_json(req);
    const cJSON *attrs = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "attributes") : NULL;
    const cJSON *values = cJSON_IsObject(attrs) ? cJSON_GetObjectItemCaseSensitive(attrs, "values") : NULL;
    char *user = vsim_username_for_id(s, cJSON_GetArrayItem(values, 0));
    int faulted = sim_fault_check(s, reg_id ? "segment_status" : "segment_regulate", req, user, resp);
    free(user);
    if (faulted) {
        cJSON_Delete(body);
        return 1;
    }
    int rc = 1;
    char want_token[512];
    snprintf(want_token, sizeof want_token, "%s", vsim_opt(s, "segment_auth_token", "sim-segment-token"));
    if (!vsim_auth_is(req, "Bearer", want_token)) {
        rc = seg_cfg_error(resp, 401, 16, "Unauthorized: the access token is not valid");
    } else if ((size_t)(rest - slug) != strlen(vsim_opt(s, "segment_workspace_slug", "sim-workspace")) ||
               strncmp(slug, vsim_opt(s, "segment_workspace_slug", "sim-workspace"), (size_t)(rest - slug)) != 0) {
        rc = seg_cfg_error(resp, 404, 5, "workspace not found");
    } else if (reg_id) {
        cJSON *r = seg_find(reg_id);
        if (!r) {
            rc = seg_cfg_error(resp, 404, 5, "regulation not found");
        } else {
            cJSON_AddStringToObject(r, "status", "RUNNING");
            sim_respond_json(resp, 200, r);
        }
    } else if (strcmp(req->method, "POST") != 0) {
        rc = seg_cfg_error(resp, 405, 12, "method not allowed");
    } else {
        const cJSON *type = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "regulation_type") : NULL;
        const cJSON *name = cJSON_IsObject(attrs) ? cJSON_GetObjectItemCaseSensitive(attrs, "name") : NULL;
        static const char *const types[] = {"Suppress_With_Delete", "Unsuppress", "Delete", "Suppress"};
        int type_ok = 0;
        for (size_t i = 0; i < 4; i++)
            if (cJSON_IsString(type) && strcmp(type->valuestring, types[i]) == 0) type_ok = 1;
        if (!type_ok) {
            rc = seg_cfg_error(resp, 400, 3, "regulation_type must be Suppress_With_Delete, Unsuppress, Delete or Suppress");
        } else if (!cJSON_IsString(name) || strcmp(name->valuestring, "userId") != 0) {
            rc = seg_cfg_error(resp, 400, 3, "attributes.name must be userId");
        } else if (!seg_values_ok(values)) {
            rc = seg_cfg_error(resp, 400, 3, "attributes.values must be 1 to 4999 strings");
        } else {
            char id[40];
            seg_record("config_api", type->valuestring, values, id);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "regulate_id", id);
            sim_respond_json(resp, 200, o);
        }
    }
    cJSON_Delete(body);
    return rc;
}

/* X-Regulation-RateLimit-Remaining and -Quota-Reset (ISO 8601 with milliseconds, as Segment
 * sends it, e.g. 2026-12-03T08:12:44.000Z). */
static void seg_quota_headers(sim_response *resp, long remaining, int64_t reset_ms)
{
    char v[64];
    snprintf(v, sizeof v, "%ld", remaining);
    sim_response_add_header(resp, "X-Regulation-RateLimit-Remaining", v);
    vsim_iso8601(reset_ms, v, sizeof v);
    sim_response_add_header(resp, "X-Regulation-RateLimit-Quota-Reset", v);
}

/* The Public API rate limit (option segment_public_rate_limit requests per
 * segment_public_rate_window_seconds, default 60; 0 = off). When on, every answer carries
 * X-RateLimit-Consumed / -Remaining / -Reset (RFC 5322 date); over the limit it answers here
 * with Segment's documented 429: {"errors": [{"type": "RequestError", "message": "Too many
 * requests", "data": {"remainingPoints", "msBeforeNext", "consumedPoints"}}]} (the body is
 * {"errors": [{"type", "message"}]} without data when segment_public_rate_body=plain). Returns 1
 * when it answered. */
static int seg_rate_limited(sim_server *s, sim_response *resp)
{
    long limit = atol(vsim_opt(s, "segment_public_rate_limit", "0"));
    if (limit <= 0) return 0;
    long remaining = 0;
    int64_t reset_ms = 0;
    int ok = vsim_window_take(&seg_rate, limit, 1000 * atol(vsim_opt(s, "segment_public_rate_window_seconds", "60")),
                              &remaining, &reset_ms);
    long consumed = ok ? limit - remaining : limit + 1;
    if (!ok) {
        if (vsim_opt_has(s, "segment_public_rate_body", "plain")) {
            seg_pub_error(resp, 429, "RequestError", "Too many requests");
        } else {
            int64_t wait = reset_ms - clk_wall_ms();
            cJSON *o = cJSON_CreateObject();
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "errors"), e);
            cJSON_AddStringToObject(e, "type", "RequestError");
            cJSON_AddStringToObject(e, "message", "Too many requests");
            cJSON *d = cJSON_AddObjectToObject(e, "data");
            cJSON_AddNumberToObject(d, "remainingPoints", 0);
            cJSON_AddNumberToObject(d, "msBeforeNext", (double)(wait > 0 ? wait : 0));
            cJSON_AddNumberToObject(d, "consumedPoints", (double)consumed);
            sim_respond_json(resp, 429, o);
        }
    }
    char v[64];
    snprintf(v, sizeof v, "%ld", consumed);
    sim_response_add_header(resp, "X-RateLimit-Consumed", v);
    snprintf(v, sizeof v, "%ld", remaining > 0 ? remaining : 0);
    sim_response_add_header(resp, "X-RateLimit-Remaining", v);
    /* RFC 5322 has whole seconds: round the reset up so a client never wakes before it */
    vsim_http_date(reset_ms + 999, v, sizeof v);
    sim_response_add_header(resp, "X-RateLimit-Reset", v);
    return !ok;
}

int vsim_segment_public_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp)
{
    if (strncmp(sub, "/regulations", 12) != 0) return 0;
    const char *reg_id = sub[12] == '/' ? sub + 13 : NULL;
    if (!reg_id && sub[12] != '\0') return 0;
    cJSON *body = reg_id ? NULL : sim_request_json(req);
    const cJSON *ids = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "subjectIds") : NULL;
    char *user = vsim_username_for_id(s, cJSON_GetArrayItem(ids, 0));
    int faulted = sim_fault_check(s, reg_id ? "segment_status" : "segment_public_regulate", req, user, resp);
    free(user);
    if (faulted) {
        cJSON_Delete(body);
        return 1;
    }
    int rc = 1;
    if (!vsim_auth_is(req, "Bearer", vsim_opt(s, "segment_auth_token", "sim-segment-token"))) {
        cJSON_Delete(body);
        return seg_pub_error(resp, 401, "unauthorized", "Unauthorized: the token is not valid for this workspace");
    }
    if (seg_rate_limited(s, resp)) { /* the Public API rate limit counts every request */
        cJSON_Delete(body);
        return 1;
    }
    if (reg_id) {
        cJSON *r = seg_find(reg_id);
        if (!r) return seg_pub_error(resp, 404, "not-found", "Regulation not found");
        cJSON *o = cJSON_CreateObject();
        cJSON *d = cJSON_AddObjectToObject(o, "data");
        cJSON_AddStringToObject(r, "overallStatus", "RUNNING");
        cJSON_AddItemToObject(d, "regulation", r);
        sim_respond_json(resp, 200, o);
        return 1;
    }
    /* the regulation quota */
    long quota = atol(vsim_opt(s, "segment_public_quota", "0"));
    long remaining = 0;
    int64_t quota_reset = 0;
    if (quota > 0 &&
        !vsim_window_take(&seg_quota, quota, 1000 * atol(vsim_opt(s, "segment_public_window_seconds", "2")),
                          &remaining, &quota_reset)) {
        cJSON_Delete(body);
        seg_pub_error(resp, 429, "RequestError", "Regulation quota exceeded: wait for the quota reset");
        seg_quota_headers(resp, 0, quota_reset);
        return 1;
    }
    const cJSON *type = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "regulationType") : NULL;
    const cJSON *stype = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "subjectType") : NULL;
    static const char *const types[] = {"SUPPRESS_WITH_DELETE", "UNSUPPRESS", "DELETE_ONLY", "SUPPRESS_ONLY",
                                        "DELETE_INTERNAL", "SUPPRESS_WITH_DELETE_INTERNAL", "DELETE_ARCHIVE_ONLY"};
    int type_ok = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cJSON_IsString(type) && strcmp(type->valuestring, types[i]) == 0) type_ok = 1;
    if (strcmp(req->method, "POST") != 0) {
        rc = seg_pub_error(resp, 405, "method-not-allowed", "POST only");
    } else if (!type_ok) {
        rc = seg_pub_error(resp, 422, "validation", "regulationType is not a known regulation type");
    } else if (!cJSON_IsString(stype) || strcmp(stype->valuestring, "USER_ID") != 0) {
        rc = seg_pub_error(resp, 422, "validation", "subjectType must be USER_ID");
    } else if (!seg_values_ok(ids)) {
        rc = seg_pub_error(resp, 422, "validation", "subjectIds must be 1 to 4999 strings");
    } else {
        char id[40];
        seg_record("public_api", type->valuestring, ids, id);
        cJSON *o = cJSON_CreateObject();
        cJSON *d = cJSON_AddObjectToObject(o, "data");
        cJSON_AddStringToObject(d, "regulateId", id);
        sim_respond_json(resp, 200, o);
        if (quota > 0) seg_quota_headers(resp, remaining, quota_reset);
    }
    cJSON_Delete(body);
    return rc;
}
