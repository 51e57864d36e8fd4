/*
 * AMPLITUDE driver: asks Amplitude to delete the learner's data (docs/vendors.md, "AMPLITUDE").
 *
 * Pipeline method: delete_user. One POST {api}/api/2/deletions/users, HTTP Basic
 * api_key:secret_key, body {"user_ids": [<user.id>], "ignore_invalid_id": "true",
 * "requester": "user-retirement-pipeline"}. Only 200 is success (unknown users are a 200
 * thanks to ignore_invalid_id); 429 and 5xx are retried (full-jitter exponential backoff,
 * RETRY_MAX_ATTEMPTS attempts in all, default 5); anything else fails at once with
 * "Amplitude user deletion failed due to <reason phrase>" ("None" when the server sent none).
 *
 * Config: amplitude_api_key, amplitude_secret_key (both needed, as upstream: without the
 * secret the step fails with 'AMPLITUDE' like upstream's KeyError), amplitude_eu (optional
 * bool, not upstream: EU residency host https://analytics.eu.amplitude.com),
 * amplitude_api_url or amplitude_base_url (optional, not upstream: any base URL, e.g. the
 * simulator; wins over amplitude_eu).
 */
#include "../vendorkit/vendorkit.h"

#define AMPLITUDE_US "https://amplitude.com"
#define AMPLITUDE_EU "https://analytics.eu.amplitude.com"

typedef struct amplitude {
    const rd_host *host;
    char *api_key;    /* secret */
    char *secret_key; /* secret */
    char *basic;      /* base64(api_key:secret_key), secret */
    char *url;
    int configured;   /* upstream creates the object only when key and secret are truthy */
    int max_attempts;
    double retry_base;
} amplitude;

static void amplitude_destroy(void *inst)
{
    amplitude *a = inst;
    if (!a) return;
    free(a->api_key);
    free(a->secret_key);
    if (a->basic) a->host->free(a->host, a->basic); /* from host->base64 */
    free(a->url);
    free(a);
}

/* Reads the settings into a (amplitude_api_key required); no network. */
static int amplitude_configure(void *inst, const rd_host *host, char *err, size_t err_len)
{
    amplitude *a = inst;
    a->host = host;
    a->api_key = vk_config_dup(host, "amplitude_api_key");
    a->secret_key = vk_config_dup(host, "amplitude_secret_key");
    if (!a->api_key) /* an empty key is accepted here and fails the step, as upstream */
        return vk_error(err, err_len,
                        "AMPLITUDE: amplitude_api_key is not set in the config; set amplitude_api_key and "
                        "amplitude_secret_key to the project's API and secret keys");
    a->configured = vk_truthy(a->api_key) && vk_truthy(a->secret_key);
    if (a->configured) {
        char *pair = vk_strf("%s:%s", a->api_key, a->secret_key);
        if (pair) a->basic = host->base64(host, pair, strlen(pair));
        free(pair);
    }
    /* amplitude_base_url is the name the spec suggests, accepted too */
    char *api = vk_config_either(host, "amplitude_api_url", "amplitude_base_url");
    const char *base = api ? api : host->config_bool(host, "amplitude_eu", 0) ? AMPLITUDE_EU : AMPLITUDE_US;
    a->url = vk_url_join(vk_strip_slash(base), "/api/2/deletions/users");
    free(api);
    if (!a->url || (a->configured && !a->basic)) return vk_error(err, err_len, "AMPLITUDE: out of memory");
    a->max_attempts = vk_env_attempts("RETRY_MAX_ATTEMPTS", 5);
    a->retry_base = vk_retry_base(host);
    return 0;
}

/* Builds an instance (amplitude_configure reads the settings). */
static void *amplitude_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return vk_get_instance(host, sizeof(amplitude), "AMPLITUDE", amplitude_configure, amplitude_destroy, err, err_len);
}

/* Fails the step like upstream when the object was never created (key or secret empty). */
static int amplitude_unconfigured(const amplitude *a, rd_call *call)
{
    if (a->configured) return 0;
    a->host->log(a->host, RD_LOG_ERROR,
                 "AMPLITUDE is in the pipeline but amplitude_api_key and amplitude_secret_key are not both set "
                 "(upstream then fails the step with KeyError 'AMPLITUDE'); set both and resume the learner");
    rd_call_message(call, "'AMPLITUDE'");
    return 1;
}

/* The request body for a learner; -1 with the upstream KeyError text when user.id is missing. */
static int amplitude_body(const cJSON *learner, vk_buf *out, rd_call *call)
{
    const cJSON *uid = vk_learner_user_id(learner, call);
    if (!uid) return -1;
    cJSON *body = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(body, "user_ids");
    cJSON_AddItemToArray(ids, cJSON_Duplicate(uid, 1));
    cJSON_AddStringToObject(body, "ignore_invalid_id", "true");
    cJSON_AddStringToObject(body, "requester", "user-retirement-pipeline");
    vk_dumps(out, body);
    cJSON_Delete(body);
    return 0;
}

/* delete_user: POST /api/2/deletions/users with upstream retry rules. */
static rd_status amplitude_delete_user(void *inst, const cJSON *learner, rd_call *call)
{
    amplitude *a = inst;
    const rd_host *host = a->host;
    if (amplitude_unconfigured(a, call)) return RD_CONFIG;
    vk_buf body = {0};
    if (amplitude_body(learner, &body, call) != 0) return RD_FAILED;
    const char *secrets[] = {a->api_key, a->secret_key, a->basic, NULL};
    vk_json_post post;
    vk_json_post_init(&post, a->url, "Basic", a->basic, &body, secrets);
    rd_status st = RD_RETRYABLE;
    for (int attempt = 1;; attempt++) {
        rd_http_response resp = rd_http_response_new();
        if (host->http(host, &post.req, &resp) != 0) {
            rd_call_message(call, "Amplitude user deletion failed: no response from %s: %s", a->url, resp.error);
            host->log(host, RD_LOG_ERROR, "%s", call->message);
            host->http_free(host, &resp);
            st = RD_RETRYABLE;
            break;
        }
        long code = resp.status;
        if (code == 200) {
            host->log(host, RD_LOG_INFO, "Amplitude user deletion succeeded");
            rd_call_message(call, "None");
            host->http_free(host, &resp);
            st = RD_OK;
            break;
        }
        char reason[256];
        vk_reason(&resp, reason, sizeof reason);
        host->http_free(host, &resp);
        rd_call_message(call, "Amplitude user deletion failed due to %s", reason);
        host->log(host, RD_LOG_ERROR, "%s", call->message);
        if (!(code == 429 || (code >= 500 && code < 600))) {
            st = RD_FAILED;
            break;
        }
        if (attempt >= a->max_attempts) {
            st = RD_RETRYABLE;
            break;
        }
        double wait = vk_expo_wait(a->retry_base, attempt);
        host->log(host, RD_LOG_INFO, "Backing off delete_user(...) for %.1fs (AmplitudeRecoverableException: %s)",
                  wait, call->message);
        if (vk_sleep(host, wait) != 0) {
            st = RD_RETRYABLE;
            break;
        }
    }
    vk_buf_free(&body);
    return st;
}

/* delete_user preview: the POST it would send, credentials masked. */
static rd_status amplitude_preview_delete_user(void *inst, const cJSON *learner, rd_call *call)
{
    amplitude *a = inst;
    if (amplitude_unconfigured(a, call)) return RD_CONFIG;
    vk_buf body = {0};
    if (amplitude_body(learner, &body, call) != 0) return RD_FAILED;
    vk_describe_json_post(call, a->url, "Basic", &body);
    rd_call_message(call, "queues an Amplitude deletion job; only 200 counts as success; retries 429/5xx up to %d "
                          "attempts",
                    a->max_attempts);
    vk_buf_free(&body);
    return RD_OK;
}

static const rd_method amplitude_methods[] = {
    RD_METHOD("delete_user", amplitude_delete_user, amplitude_preview_delete_user),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_amplitude =
    RD_DRIVER_INIT("AMPLITUDE", "1.0.0", "Amplitude: POST /api/2/deletions/users for the learner's LMS user id",
                   amplitude_get_instance, amplitude_destroy, amplitude_methods);
