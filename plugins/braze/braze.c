/*
 * BRAZE driver: deletes the learner's Braze user (docs/vendors.md, "BRAZE").
 *
 * Pipeline method: delete_user. One POST {rest}/users/delete with
 * {"external_ids": [<user.id>]} and `Authorization: Bearer <braze_api_key>`.
 * < 400 is success; 429 and 5xx are retried with full-jitter exponential backoff up to
 * RETRY_BRAZE_MAX_ATTEMPTS (default 5) attempts in all; after a 429 the wait is until the rate
 * limit window ends (X-RateLimit-Reset, UTC epoch seconds; capped by
 * braze_max_rate_limit_wait_seconds, 90); any other status fails at once.
 * The message is the JSON body's "message" or the HTTP reason phrase:
 * "Braze user deletion failed due to <msg>".
 *
 * Config: braze_api_key (required), braze_instance (cluster, e.g. iad-01: URL
 * https://rest.<instance>.braze.com), braze_rest_url (optional, not upstream: full REST
 * endpoint base for EU clusters such as https://rest.fra-01.braze.eu, or the simulator),
 * braze_external_ids_as_strings (optional bool, not upstream: send ids as strings, the
 * documented type; default false = numbers as upstream).
 */
#include "../vendorkit/vendorkit.h"

typedef struct braze {
    const rd_host *host;
    char *api_key;       /* secret */
    char *url;           /* full POST URL */
    int ids_as_strings;
    int max_attempts;
    double retry_base;
    double max_wait; /* cap on a 429's wait for the rate-limit window */
} braze;

/* Frees an instance. */
static void braze_destroy(void *inst)
{
    braze *b = inst;
    if (!b) return;
    free(b->api_key);
    free(b->url);
    free(b);
}

/* Reads the settings into b (braze_api_key required); no network. */
static int braze_configure(void *inst, const rd_host *host, char *err, size_t err_len)
{
    braze *b = inst;
    b->host = host;
    b->api_key = vk_config_required(host, "BRAZE", "braze_api_key",
                                    "set it to a Braze REST API key with the users.delete permission", err, err_len);
    if (!b->api_key) return -1;
    char *rest = vk_config_url(host, "braze_rest_url", NULL);
    if (rest) {
        b->url = vk_url_join(rest, "/users/delete");
    } else {
        /* Upstream: instance may be missing, giving rest.None.braze.com. */
        char *cluster = vk_config_dup(host, "braze_instance");
        b->url = vk_strf("https://rest.%s.braze.com/users/delete", cluster ? cluster : "None");
        free(cluster);
    }
    if (!b->url) return vk_error(err, err_len, "BRAZE: out of memory");
    b->ids_as_strings = host->config_bool(host, "braze_external_ids_as_strings", 0);
    b->max_attempts = vk_env_attempts("RETRY_BRAZE_MAX_ATTEMPTS", 5);
    b->retry_base = vk_retry_base(host);
    b->max_wait = host->config_number(host, "braze_max_rate_limit_wait_seconds", 90);
    return 0;
}

/* Builds an instance (braze_configure reads the settings). */
static void *braze_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return vk_get_instance(host, sizeof(braze), "BRAZE", braze_configure, braze_destroy, err, err_len);
}

/* Builds the request body into out; returns 0, or -1 with the upstream KeyError text in call. */
static int braze_body(const braze *b, const cJSON *learner, vk_buf *out, rd_call *call)
{
    const cJSON *uid = vk_learner_user_id(learner, call);
    if (!uid) return -1;
    cJSON *body = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(body, "external_ids");
    if (b->ids_as_strings) {
        vk_buf s = {0};
        vk_pystr(&s, uid);
        cJSON_AddItemToArray(ids, cJSON_CreateString(vk_buf_str(&s)));
        vk_buf_free(&s);
    } else {
        cJSON_AddItemToArray(ids, cJSON_Duplicate(uid, 1));
    }
    vk_dumps(out, body);
    cJSON_Delete(body);
    return 0;
}

/* Error text of a failed response: JSON "message", else the reason phrase. */
static void braze_error_text(const rd_http_response *resp, char *buf, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(vk_body(resp), resp->body_len);
    const cJSON *m = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "message") : NULL;
    if (m && !cJSON_IsNull(m)) {
        vk_buf s = {0};
        vk_pystr(&s, m);
        snprintf(buf, len, "%s", vk_buf_str(&s));
        vk_buf_free(&s);
    } else {
        vk_reason(resp, buf, len);
    }
    cJSON_Delete(j);
}

/* Seconds until a 429's rate-limit window ends, or -1: Retry-After when sent, else Braze's
 * X-RateLimit-Reset (UTC epoch seconds; +1 s so the wait ends past it, whole seconds). */
static double braze_window_wait(const rd_http_response *resp)
{
    if (resp->status != 429) return -1;
    if (resp->retry_after_seconds >= 0) return resp->retry_after_seconds;
    char v[64];
    if (!vk_header(resp, "X-RateLimit-Reset", v, sizeof v)) return -1;
    char *end = NULL;
    double at = strtod(v, &end);
    if (end == v || *end || at < 0) return -1;
    double now = (double)time(NULL);
    return (at > now ? at - now : 0) + 1.0;
}

/* delete_user: POST /users/delete with upstream retry rules. */
static rd_status braze_delete_user(void *inst, const cJSON *learner, rd_call *call)
{
    braze *b = inst;
    const rd_host *host = b->host;
    vk_buf body = {0};
    if (braze_body(b, learner, &body, call) != 0) return RD_FAILED;
    const char *secrets[] = {b->api_key, NULL};
    vk_json_post post;
    vk_json_post_init(&post, b->url, "Bearer", b->api_key, &body, secrets);
    rd_status st = RD_RETRYABLE;
    for (int attempt = 1;; attempt++) {
        rd_http_response resp = rd_http_response_new();
        if (host->http(host, &post.req, &resp) != 0) {
            /* Upstream does not retry connection errors: the exception fails the step. */
            rd_call_message(call, "Braze user deletion failed: no response from %s: %s", b->url, resp.error);
            host->log(host, RD_LOG_ERROR, "%s", call->message);
            host->http_free(host, &resp);
            st = RD_RETRYABLE;
            break;
        }
        long code = resp.status;
        if (code < 400) {
            host->log(host, RD_LOG_INFO, "Braze user deletion succeeded");
            rd_call_message(call, "None");
            host->http_free(host, &resp);
            st = RD_OK;
            break;
        }
        char text[1024];
        braze_error_text(&resp, text, sizeof text);
        double window = braze_window_wait(&resp);
        host->http_free(host, &resp);
        rd_call_message(call, "Braze user deletion failed due to %s", text);
        host->log(host, RD_LOG_ERROR, "%s", call->message);
        int recoverable = code == 429 || (code >= 500 && code < 600);
        if (!recoverable) {
            st = RD_FAILED;
            break;
        }
        if (attempt >= b->max_attempts) {
            st = RD_RETRYABLE;
            break;
        }
        /* after a 429, wait for the rate-limit window to end instead of the backoff */
        double wait = window >= 0 ? (window > b->max_wait ? b->max_wait : window) : vk_expo_wait(b->retry_base, attempt);
        host->log(host, RD_LOG_INFO, "Backing off delete_user(...) for %.1fs (BrazeRecoverableException: %s)", wait,
                  call->message);
        if (vk_sleep(host, wait) != 0) {
            st = RD_RETRYABLE;
            break;
        }
    }
    vk_buf_free(&body);
    return st;
}

/* delete_user preview: the POST it would send, key masked. */
static rd_status braze_preview_delete_user(void *inst, const cJSON *learner, rd_call *call)
{
    braze *b = inst;
    vk_buf body = {0};
    if (braze_body(b, learner, &body, call) != 0) return RD_FAILED;
    vk_describe_json_post(call, b->url, "Bearer", &body);
    rd_call_message(call, "deletes Braze user %s (not undoable); retries 429/5xx up to %d attempts", vk_buf_str(&body),
                    b->max_attempts);
    vk_buf_free(&body);
    return RD_OK;
}

static const rd_method braze_methods[] = {
    RD_METHOD("delete_user", braze_delete_user, braze_preview_delete_user),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_braze =
    RD_DRIVER_INIT("BRAZE", "1.0.0", "Braze: POST /users/delete for the learner's LMS user id", braze_get_instance,
                   braze_destroy, braze_methods);
