/* retirectl-sim: Amplitude User Privacy API v1 emulation (POST /vendor/amplitude/api/2/deletions/users).
 * Auth: HTTP Basic amplitude_api_key:amplitude_secret_key (options, defaults sim-amplitude-key /
 * sim-amplitude-secret), else 401 "Invalid API key". Body: user_ids and/or amplitude_ids (<= 100
 * in all), requester optional; else 400. Success: 200 with the job list
 * [{"day", "status": "staging", "user_ids", "amplitude_ids", "app"}]. Fault endpoint:
 * amplitude_delete (learner matched by user id). */
#include "vendor.h"
#include "common/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t amp_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *amp_jobs; /* array of accepted request bodies */

void vsim_amplitude_reset(void)
{
    pthread_mutex_lock(&amp_mu);
    cJSON_Delete(amp_jobs);
    amp_jobs = cJSON_CreateArray();
    pthread_mutex_unlock(&amp_mu);
}

cJSON *vsim_amplitude_dump(void)
{
    pthread_mutex_lock(&amp_mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "deletion_requests", amp_jobs ? cJSON_Duplicate(amp_jobs, 1) : cJSON_CreateArray());
    pthread_mutex_unlock(&amp_mu);
    return o;
}

/* Decodes standard base64 into a malloc'd NUL-terminated string, NULL when invalid. */
static char *amp_b64_decode(const char *in)
{
    size_t n = strlen(in);
    char *out = xmalloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        int d;
        if (c >= 'A' && c <= 'Z') d = c - 'A';
        else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
        else if (c >= '0' && c <= '9') d = c - '0' + 52;
        else if (c == '+') d = 62;
        else if (c == '/') d = 63;
        else if (c == '=') break;
        else {
            free(out);
            return NULL;
        }
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((v >> bits) & 0xFF);
        }
    }
    out[o] = '\0';
    return out;
}

int vsim_amplitude_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp)
{
    if (strcmp(sub, "/api/2/deletions/users") != 0) return 0;
    cJSON *body = sim_request_json(req);
    const cJSON *uids = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "user_ids") : NULL;
    char *user = vsim_username_for_id(s, cJSON_GetArrayItem(uids, 0));
    int faulted = sim_fault_check(s, "amplitude_delete", req, user, resp);
    free(user);
    if (faulted) {
        cJSON_Delete(body);
        return 1;
    }
    char *creds = NULL;
    if (req->authorization && strncmp(req->authorization, "Basic ", 6) == 0)
        creds = amp_b64_decode(req->authorization + 6);
    char want[512];
    snprintf(want, sizeof want, "%s:%s", vsim_opt(s, "amplitude_api_key", "sim-amplitude-key"),
             vsim_opt(s, "amplitude_secret_key", "sim-amplitude-secret"));
    int ok = creds && strcmp(creds, want) == 0;
    free(creds);
    if (!ok) {
        cJSON_Delete(body);
        sim_respond_text(resp, 401, "text/plain", "Invalid API key");
        return 1;
    }
    if (strcmp(req->method, "POST") != 0) {
        cJSON_Delete(body);
        sim_respond_text(resp, 405, "text/plain", "Method Not Allowed");
        return 1;
    }
    const cJSON *aids = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "amplitude_ids") : NULL;
    int n = (cJSON_IsArray(uids) ? cJSON_GetArraySize(uids) : 0) + (cJSON_IsArray(aids) ? cJSON_GetArraySize(aids) : 0);
    if (!cJSON_IsObject(body) || (uids && !cJSON_IsArray(uids)) || (aids && !cJSON_IsArray(aids)) || n < 1 ||
        n > 100) {
        cJSON_Delete(body);
        sim_respond_text(resp, 400, "text/plain",
                         "Invalid request: give user_ids and/or amplitude_ids (1 to 100 ids in all)");
        return 1;
    }
    pthread_mutex_lock(&amp_mu);
    if (!amp_jobs) amp_jobs = cJSON_CreateArray();
    cJSON_AddItemToArray(amp_jobs, cJSON_Duplicate(body, 1));
    pthread_mutex_unlock(&amp_mu);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char day[16];
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    cJSON *job = cJSON_CreateObject();
    cJSON_AddStringToObject(job, "day", day);
    cJSON_AddStringToObject(job, "status", "staging");
    cJSON_AddItemToObject(job, "amplitude_ids", aids ? cJSON_Duplicate(aids, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(job, "user_ids", uids ? cJSON_Duplicate(uids, 1) : cJSON_CreateArray());
    cJSON_AddNumberToObject(job, "app", 187520);
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, job);
    cJSON_Delete(body);
    sim_respond_json(resp, 200, arr);
    return 1;
}
