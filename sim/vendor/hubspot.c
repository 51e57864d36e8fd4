/* retirectl-sim: HubSpot contacts API emulation under /vendor/hubspot.
 *   GET    /contacts/v1/contact/email/{email}/profile  200 {"vid", "properties"...} | 404
 *   DELETE /contacts/v1/contact/vid/{vid}               200 {"vid", "deleted": true, "reason": "OK"} | 404
 *   POST   /crm/v3/objects/contacts/gdpr-delete         204 (an unknown e-mail is blocklisted);
 *          with no idProperty, objectId is a contact id: 404 OBJECT_NOT_FOUND when unknown
 * Every e-mail is a contact (vid derived from it) unless listed in option hubspot_absent
 * (comma-separated) or already deleted. Burst limit: options hubspot_rate_limit (0 = off) per
 * hubspot_rate_window_seconds (10): 429 RATE_LIMIT with Retry-After. Auth: "Bearer <hubspot_api_key>" (default
 * sim-hubspot-token), else 401 with HubSpot's error shape. Fault endpoints: hubspot_lookup,
 * hubspot_delete, hubspot_gdpr_delete. */
#include "vendor.h"
#include "common/clock.h"
#include "common/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t hs_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *hs_known;       /* object: email -> vid, for every e-mail looked up */
static cJSON *hs_deleted;     /* object: email -> vid (deleted through v1) */
static cJSON *hs_gdpr;        /* array of e-mails GDPR-deleted (v3) */
static cJSON *hs_blocklisted; /* array of unknown e-mails blocklisted by v3 */
static long hs_lookups;
static vsim_window hs_window; /* the portal's burst limit */

void vsim_hubspot_reset(void)
{
    pthread_mutex_lock(&hs_mu);
    cJSON_Delete(hs_known);
    cJSON_Delete(hs_deleted);
    cJSON_Delete(hs_gdpr);
    cJSON_Delete(hs_blocklisted);
    hs_known = cJSON_CreateObject();
    hs_deleted = cJSON_CreateObject();
    hs_gdpr = cJSON_CreateArray();
    hs_blocklisted = cJSON_CreateArray();
    hs_lookups = 0;
    pthread_mutex_unlock(&hs_mu);
    vsim_window_clear(&hs_window);
}

cJSON *vsim_hubspot_dump(void)
{
    pthread_mutex_lock(&hs_mu);
    cJSON *o = cJSON_CreateObject();
    cJSON *del = cJSON_CreateArray();
    const cJSON *c;
    if (hs_deleted)
        cJSON_ArrayForEach(c, hs_deleted) cJSON_AddItemToArray(del, cJSON_CreateNumber(c->valuedouble));
    cJSON_AddItemToObject(o, "deleted_vids", del);
    cJSON_AddItemToObject(o, "gdpr_deleted", hs_gdpr ? cJSON_Duplicate(hs_gdpr, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(o, "blocklisted", hs_blocklisted ? cJSON_Duplicate(hs_blocklisted, 1) : cJSON_CreateArray());
    cJSON_AddNumberToObject(o, "lookups", (double)hs_lookups);
    pthread_mutex_unlock(&hs_mu);
    return o;
}

/* The vid HubSpot would have for an e-mail. */
static long hs_vid(const char *email) { return 1000 + (long)(vsim_hash(email) % 9000000UL); }

/* Whether email is a live contact (locks hs_mu). */
static int hs_exists(sim_server *s, const char *email)
{
    if (vsim_opt_has(s, "hubspot_absent", email)) return 0;
    pthread_mutex_lock(&hs_mu);
    int gone = (hs_deleted && cJSON_GetObjectItemCaseSensitive(hs_deleted, email)) || 0;
    const cJSON *c;
    if (hs_gdpr)
        cJSON_ArrayForEach(c, hs_gdpr) if (cJSON_IsString(c) && strcmp(c->valuestring, email) == 0) gone = 1;
    pthread_mutex_unlock(&hs_mu);
    return !gone;
}

/* HubSpot's error body. */
static void hs_error(sim_response *resp, int status, const char *category, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "error");
    cJSON_AddStringToObject(o, "message", msg);
    cJSON_AddStringToObject(o, "correlationId", "5f1c0c1e-0000-4000-8000-00000000sim0");
    cJSON_AddStringToObject(o, "category", category);
    sim_respond_json(resp, status, o);
}

/* The portal's burst limit (option hubspot_rate_limit requests per hubspot_rate_window_seconds,
 * default 10; 0 = off): every answer carries X-HubSpot-RateLimit-Max / -Remaining /
 * -Interval-Milliseconds; over it, HubSpot's 429 {"status": "error", "errorType": "RATE_LIMIT",
 * "policyName": "TEN_SECONDLY_ROLLING", ...} with Retry-After (seconds to the window's end).
 * Returns 1 when it answered. */
static int hs_rate_limited(sim_server *s, sim_response *resp)
{
    long limit = atol(vsim_opt(s, "hubspot_rate_limit", "0"));
    if (limit <= 0) return 0;
    long window_ms = 1000 * atol(vsim_opt(s, "hubspot_rate_window_seconds", "10"));
    long remaining = 0;
    int64_t reset_ms = 0;
    int ok = vsim_window_take(&hs_window, limit, window_ms, &remaining, &reset_ms);
    char v[32];
    snprintf(v, sizeof v, "%ld", window_ms);
    sim_response_add_header(resp, "X-HubSpot-RateLimit-Interval-Milliseconds", v);
    snprintf(v, sizeof v, "%ld", limit);
    sim_response_add_header(resp, "X-HubSpot-RateLimit-Max", v);
    snprintf(v, sizeof v, "%ld", remaining > 0 ? remaining : 0);
    sim_response_add_header(resp, "X-HubSpot-RateLimit-Remaining", v);
    if (ok) return 0;
    int64_t wait_ms = reset_ms - clk_wall_ms();
    snprintf(v, sizeof v, "%ld", (long)((wait_ms > 0 ? wait_ms : 0) + 999) / 1000);
    sim_response_add_header(resp, "Retry-After", v);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "error");
    cJSON_AddStringToObject(o, "message", "You have reached your ten_secondly_rolling limit.");
    cJSON_AddStringToObject(o, "errorType", "RATE_LIMIT");
    cJSON_AddStringToObject(o, "correlationId", "5f1c0c1e-0000-4000-8000-00000000sim1");
    cJSON_AddStringToObject(o, "policyName", "TEN_SECONDLY_ROLLING");
    sim_respond_json(resp, 429, o);
    return 1;
}

int vsim_hubspot_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp)
{
    static const char lookup_prefix[] = "/contacts/v1/contact/email/";
    static const char delete_prefix[] = "/contacts/v1/contact/vid/";
    const char *endpoint = NULL;
    if (strncmp(sub, lookup_prefix, sizeof lookup_prefix - 1) == 0) endpoint = "hubspot_lookup";
    else if (strncmp(sub, delete_prefix, sizeof delete_prefix - 1) == 0) endpoint = "hubspot_delete";
    else if (strcmp(sub, "/crm/v3/objects/contacts/gdpr-delete") == 0) endpoint = "hubspot_gdpr_delete";
    else return 0;
    if (sim_fault_check(s, endpoint, req, NULL, resp)) return 1;
    if (!vsim_auth_is(req, "Bearer", vsim_opt(s, "hubspot_api_key", "sim-hubspot-token"))) {
        hs_error(resp, 401, "INVALID_AUTHENTICATION",
                 "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
                 "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview");
        return 1;
    }
    if (hs_rate_limited(s, resp)) return 1;
    if (strcmp(endpoint, "hubspot_lookup") == 0) {
        const char *e = sub + sizeof lookup_prefix - 1;
        const char *slash = strstr(e, "/profile");
        if (!slash || strcmp(req->method, "GET") != 0) {
            hs_error(resp, 404, "OBJECT_NOT_FOUND", "resource not found");
            return 1;
        }
        char email[512];
        snprintf(email, sizeof email, "%.*s", (int)(slash - e), e);
        pthread_mutex_lock(&hs_mu);
        hs_lookups++;
        pthread_mutex_unlock(&hs_mu);
        if (!hs_exists(s, email)) {
            hs_error(resp, 404, "OBJECT_NOT_FOUND", "contact does not exist");
            return 1;
        }
        pthread_mutex_lock(&hs_mu);
        if (!cJSON_GetObjectItemCaseSensitive(hs_known, email))
            cJSON_AddNumberToObject(hs_known, email, (double)hs_vid(email));
        pthread_mutex_unlock(&hs_mu);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "vid", (double)hs_vid(email));
        cJSON_AddNumberToObject(o, "canonical-vid", (double)hs_vid(email));
        cJSON *props = cJSON_AddObjectToObject(o, "properties");
        cJSON *em = cJSON_AddObjectToObject(props, "email");
        cJSON_AddStringToObject(em, "value", email);
        cJSON_AddBoolToObject(o, "is-contact", 1);
        sim_respond_json(resp, 200, o);
        return 1;
    }
    if (strcmp(endpoint, "hubspot_delete") == 0) {
        if (strcmp(req->method, "DELETE") != 0) {
            hs_error(resp, 405, "VALIDATION_ERROR", "method not allowed");
            return 1;
        }
        long vid = strtol(sub + sizeof delete_prefix - 1, NULL, 10);
        /* the contact is the looked-up e-mail with this vid that is not deleted yet */
        pthread_mutex_lock(&hs_mu);
        const char *email = NULL;
        const cJSON *c;
        cJSON_ArrayForEach(c, hs_known) if ((long)c->valuedouble == vid) email = c->string;
        int found = email && !cJSON_GetObjectItemCaseSensitive(hs_deleted, email);
        if (found) cJSON_AddNumberToObject(hs_deleted, email, (double)vid);
        pthread_mutex_unlock(&hs_mu);
        if (!found) {
            hs_error(resp, 404, "OBJECT_NOT_FOUND", "contact does not exist");
            return 1;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "vid", (double)vid);
        cJSON_AddBoolToObject(o, "deleted", 1);
        cJSON_AddStringToObject(o, "reason", "OK");
        sim_respond_json(resp, 200, o);
        return 1;
    }
    /* v3 GDPR delete */
    if (strcmp(req->method, "POST") != 0) {
        hs_error(resp, 405, "VALIDATION_ERROR", "method not allowed");
        return 1;
    }
    cJSON *body = sim_request_json(req);
    const cJSON *id = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "objectId") : NULL;
    const cJSON *prop = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "idProperty") : NULL;
    if (!cJSON_IsString(id) || (prop && (!cJSON_IsString(prop) || strcmp(prop->valuestring, "email") != 0))) {
        cJSON_Delete(body);
        hs_error(resp, 400, "VALIDATION_ERROR", "Invalid input JSON: objectId (string) is required; idProperty "
                                                "must be \"email\" when given");
        return 1;
    }
    if (!prop) { /* objectId is a contact id: a known, live contact or 404 */
        pthread_mutex_lock(&hs_mu);
        const char *email = NULL;
        const cJSON *c;
        cJSON_ArrayForEach(c, hs_known) if ((long)c->valuedouble == strtol(id->valuestring, NULL, 10)) email = c->string;
        char *e = email ? xstrdup(email) : NULL;
        pthread_mutex_unlock(&hs_mu);
        if (!e || !hs_exists(s, e)) {
            free(e);
            cJSON_Delete(body);
            hs_error(resp, 404, "OBJECT_NOT_FOUND", "Object not found. objectId are usually numeric.");
            return 1;
        }
        pthread_mutex_lock(&hs_mu);
        cJSON_AddItemToArray(hs_gdpr, cJSON_CreateString(e));
        pthread_mutex_unlock(&hs_mu);
        free(e);
        cJSON_Delete(body);
        sim_respond_empty(resp, 204);
        return 1;
    }
    int exists = hs_exists(s, id->valuestring);
    pthread_mutex_lock(&hs_mu);
    cJSON_AddItemToArray(exists ? hs_gdpr : hs_blocklisted, cJSON_CreateString(id->valuestring));
    pthread_mutex_unlock(&hs_mu);
    cJSON_Delete(body);
    sim_respond_empty(resp, 204);
    return 1;
}
