/*
 * SEGMENT driver: queues a "suppress with delete" regulation for the learner's ids
 * (docs/vendors.md, "SEGMENT").
 *
 * Pipeline method: delete_and_suppress_learner. Values sent: str(user.id),
 * original_username, and str(ecommerce_segment_id) whenever that key is present (a null
 * becomes "None", as upstream; segment_skip_null_ecommerce_id: true leaves it out).
 *
 * Modes (config segment_api):
 *   config_api (default, upstream): POST {base_urls.segment}v1beta/workspaces/{slug}/regulations
 *     (plain concatenation: the base must end with '/'), Bearer segment_auth_token,
 *     {"regulation_type": "Suppress_With_Delete", "attributes": {"name": "userId",
 *     "values": [...]}}; success = 2xx with JSON "regulate_id".
 *   public_api: POST {segment_public_api_url, default https://api.segmentapis.com}/regulations,
 *     {"regulationType": "SUPPRESS_WITH_DELETE", "subjectType": "USER_ID", "subjectIds": [...]};
 *     success = 2xx with data.regulateId. The workspace slug is not used.
 * Retries (both modes): 429 and 5xx up to 4 attempts in all: full-jitter exponential backoff,
 * or the wait the server asks for: Retry-After, a 429's errors[0].data.msBeforeNext or
 * X-RateLimit-Reset (RFC 5322 date), X-Regulation-RateLimit-Quota-Reset (ISO 8601), capped by
 * segment_max_rate_limit_wait_seconds (300);
 * timeouts up to 4 attempts with a jittered 30 s wait; other statuses fail at once. Failure
 * message as upstream: b'Error was encountered for params: {...} \n\n Response: ...'.
 */
#include "../vendorkit/vendorkit.h"

#define SEGMENT_MAX_TRIES 4
#define SEGMENT_MAX_VALUES 5000
#define SEGMENT_PUBLIC_API "https://api.segmentapis.com"

typedef struct segment {
    const rd_host *host;
    char *token;       /* secret; NULL prints as "None" as upstream */
    char *slug;
    char *url;         /* full POST URL */
    int public_api;
    int skip_null_ecom;
    double retry_base;
    double max_wait;   /* cap on a server-requested wait */
} segment;

static void segment_destroy(void *inst)
{
    segment *s = inst;
    if (!s) return;
    free(s->token);
    free(s->slug);
    free(s->url);
    free(s);
}

/* Reads the settings into s (base_urls.segment or flat segment_base_url required); no network. */
static int segment_configure(void *inst, const rd_host *host, char *err, size_t err_len)
{
    segment *s = inst;
    s->host = host;
    s->token = vk_config_dup(host, "segment_auth_token");
    s->slug = vk_config_dup(host, "segment_workspace_slug");
    const char *mode = host->config_string(host, "segment_api");
    if (mode && strcmp(mode, "public_api") == 0) {
        s->public_api = 1;
    } else if (mode && strcmp(mode, "config_api") != 0) {
        return vk_error(err, err_len,
                        "SEGMENT: segment_api is '%s'; use config_api (the upstream v1beta Config API) or public_api "
                        "(the Segment Public API)",
                        mode);
    }
    if (s->public_api) {
        s->url = vk_url_join(vk_config_url(host, "segment_public_api_url", SEGMENT_PUBLIC_API), "/regulations");
    } else {
        char *base = vk_config_either(host, "base_urls.segment", "segment_base_url");
        if (!base)
            return vk_error(err, err_len,
                            "SEGMENT: base_urls.segment is not set in the config; set it to the Segment Config API "
                            "base ending in '/', e.g. https://platform.segmentapis.com/");
        s->url = vk_strf("%sv1beta/workspaces/%s/regulations", base, s->slug ? s->slug : "None");
        free(base);
    }
    if (!s->url) return vk_error(err, err_len, "SEGMENT: out of memory");
    s->skip_null_ecom = host->config_bool(host, "segment_skip_null_ecommerce_id", 0);
    s->retry_base = vk_retry_base(host);
    s->max_wait = host->config_number(host, "segment_max_rate_limit_wait_seconds", 300);
    return 0;
}

/* Builds an instance (segment_configure reads the settings). */
static void *segment_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return vk_get_instance(host, sizeof(segment), "SEGMENT", segment_configure, segment_destroy, err, err_len);
}

/* Builds the params (upstream dict order) for one learner; NULL with the KeyError text in call. */
static cJSON *segment_params(const segment *s, const cJSON *learner, rd_call *call)
{
    const cJSON *uid = vk_learner_user_id(learner, call);
    const cJSON *uname = uid ? vk_learner_field(learner, "original_username", call) : NULL;
    if (!uname) return NULL;
    cJSON *values = cJSON_CreateArray();
    vk_buf t = {0};
    vk_pystr(&t, uid);
    cJSON_AddItemToArray(values, cJSON_CreateString(vk_buf_str(&t)));
    vk_buf_free(&t);
    vk_pystr(&t, uname);
    cJSON_AddItemToArray(values, cJSON_CreateString(vk_buf_str(&t)));
    vk_buf_free(&t);
    const cJSON *ecom = cJSON_GetObjectItemCaseSensitive(learner, "ecommerce_segment_id");
    if (ecom && !(s->skip_null_ecom && cJSON_IsNull(ecom))) {
        vk_pystr(&t, ecom);
        cJSON_AddItemToArray(values, cJSON_CreateString(vk_buf_str(&t)));
        vk_buf_free(&t);
    }
    cJSON *p = cJSON_CreateObject();
    if (s->public_api) {
        cJSON_AddStringToObject(p, "regulationType", "SUPPRESS_WITH_DELETE");
        cJSON_AddStringToObject(p, "subjectType", "USER_ID");
        cJSON_AddItemToObject(p, "subjectIds", values);
    } else {
        cJSON_AddStringToObject(p, "regulation_type", "Suppress_With_Delete");
        cJSON *attr = cJSON_AddObjectToObject(p, "attributes");
        cJSON_AddStringToObject(attr, "name", "userId");
        cJSON_AddItemToObject(attr, "values", values);
    }
    return p;
}

/* The upstream failure text: bytes repr of "Error was encountered for params: ... Response: ...". */
static void segment_error_message(rd_call *call, const cJSON *params, const char *response_text)
{
    vk_buf text = {0};
    vk_buf_add(&text, "Error was encountered for params: ");
    vk_pyrepr(&text, params);
    vk_buf_add(&text, " \n\n Response: ");
    vk_buf_add(&text, response_text);
    vk_buf msg = {0};
    vk_pybytes_repr(&msg, vk_buf_str(&text));
    rd_call_message(call, "%s", vk_buf_str(&msg));
    vk_buf_free(&text);
    vk_buf_free(&msg);
}

/* Epoch seconds of an ISO 8601 UTC timestamp as Segment writes X-Regulation-RateLimit-Quota-Reset
 * ("2026-12-03T08:12:44.000Z"; fraction and a "+HH:MM" offset optional), or -1. */
static double segment_iso8601(const char *v)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return -1;
    double frac = 0;
    if (*p == '.') {
        char *end = NULL;
        frac = strtod(p, &end);
        p = end;
    }
    double t = (double)timegm(&tm) + frac;
    int oh = 0, om = 0;
    if (*p == 'Z' || *p == '\0') return t;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
        return *p == '+' ? t - (oh * 3600 + om * 60) : t + (oh * 3600 + om * 60);
    return -1;
}

/* Seconds from now until the quota resets, from X-Regulation-RateLimit-Quota-Reset, or -1.
 * Segment sends ISO 8601 with milliseconds; a plain number is read as seconds (or epoch
 * seconds / milliseconds when that large). */
static double segment_quota_reset_wait(const rd_http_response *resp)
{
    char v[128];
    if (!vk_header(resp, "X-Regulation-RateLimit-Quota-Reset", v, sizeof v)) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now = (double)ts.tv_sec + ts.tv_nsec / 1e9; /* the header has milliseconds */
    double at = segment_iso8601(v);
    if (at >= 0) return at > now ? at - now + 0.1 : 0.1; /* a little past the reset */
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || *end || d < 0) return -1;
    if (d > 1e12) d /= 1000.0;              /* epoch milliseconds */
    if (d > 1e9) d = d > now ? d - now : 0; /* epoch seconds */
    return d;
}

/* Epoch seconds of an RFC 5322 date as Segment writes X-RateLimit-Reset ("Thu, 03 Dec 2026
 * 08:12:44 GMT" or "... +0000"; the weekday optional), or -1. Month names are matched here, not
 * through the locale. */
static double segment_rfc5322(const char *v)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *comma = strchr(v, ',');
    const char *p = comma ? comma + 1 : v;
    char mon[4] = "", zone[16] = "GMT";
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(p, " %d %3s %d %d:%d:%d %15s", &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
               zone) < 6)
        return -1;
    const char *m = strlen(mon) == 3 ? strstr(months, mon) : NULL;
    if (!m || (m - months) % 3) return -1;
    tm.tm_mon = (int)(m - months) / 3;
    tm.tm_year -= 1900;
    double t = (double)timegm(&tm);
    if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 5) {
        int off = ((zone[1] - '0') * 10 + (zone[2] - '0')) * 3600 + ((zone[3] - '0') * 10 + (zone[4] - '0')) * 60;
        t += zone[0] == '+' ? -off : off;
    }
    return t;
}

/* Seconds to wait after a 429 of the Public API rate limit, or -1: the body's
 * errors[0].data.msBeforeNext, else the X-RateLimit-Reset date (docs.segmentapis.com, Rate Limits). */
static double segment_rate_limit_wait(const rd_http_response *resp)
{
    double wait = -1;
    cJSON *j = cJSON_ParseWithLength(vk_body(resp), resp->body_len);
    const cJSON *e0 = cJSON_GetArrayItem(cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "errors") : NULL, 0);
    const cJSON *data = cJSON_IsObject(e0) ? cJSON_GetObjectItemCaseSensitive(e0, "data") : NULL;
    const cJSON *ms = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "msBeforeNext") : NULL;
    if (cJSON_IsNumber(ms) && ms->valuedouble >= 0) wait = ms->valuedouble / 1000.0 + 0.1;
    cJSON_Delete(j);
    char v[128];
    if (wait < 0 && vk_header(resp, "X-RateLimit-Reset", v, sizeof v)) {
        double at = segment_rfc5322(v), now = (double)time(NULL);
        if (at >= 0) wait = (at > now ? at - now : 0) + 1.0; /* whole seconds: one more to be past it */
    }
    return wait;
}

/* Seconds the server asked us to wait, or -1: Retry-After, then (on a 429) the rate-limit wait,
 * then the regulation quota reset. */
static double segment_server_wait(const rd_http_response *resp)
{
    if (resp->retry_after_seconds >= 0) return resp->retry_after_seconds;
    double wait = resp->status == 429 ? segment_rate_limit_wait(resp) : -1;
    return wait >= 0 ? wait : segment_quota_reset_wait(resp);
}

static rd_status segment_send(segment *s, const cJSON *params, rd_call *call);

/* delete_and_suppress_learner: one regulation request with upstream retries. */
static rd_status segment_delete_and_suppress_learner(void *inst, const cJSON *learner, rd_call *call)
{
    segment *s = inst;
    const rd_host *host = s->host;
    cJSON *params = segment_params(s, learner, call);
    if (!params) return RD_FAILED;
    const cJSON *values = s->public_api ? cJSON_GetObjectItemCaseSensitive(params, "subjectIds")
                                        : cJSON_GetObjectItemCaseSensitive(
                                              cJSON_GetObjectItemCaseSensitive(params, "attributes"), "values");
    {
        const cJSON *uid = vk_user_id(learner);
        vk_buf t = {0};
        vk_pystr(&t, uid);
        const char *uname = cJSON_GetObjectItemCaseSensitive(learner, "original_username")->valuestring;
        host->log(host, RD_LOG_INFO,
                  "Attempting Segment deletion with start index 0, end index 0 for learners (%s, %s) through (%s, %s)",
                  vk_buf_str(&t), uname ? uname : "None", vk_buf_str(&t), uname ? uname : "None");
        vk_buf_free(&t);
    }
    if (cJSON_GetArraySize(values) >= SEGMENT_MAX_VALUES) { /* unreachable with one learner; kept for parity */
        host->log(host, RD_LOG_ERROR,
                  "Attempting to delete too many user values (%d) at once in bulk request - decrease chunk_size.",
                  cJSON_GetArraySize(values));
        cJSON_Delete(params);
        rd_call_message(call, "None");
        return RD_OK;
    }
    rd_status st = segment_send(s, params, call);
    cJSON_Delete(params);
    return st;
}

/* POSTs one regulation (params) with the upstream retries; the result and message in call. */
static rd_status segment_send(segment *s, const cJSON *params, rd_call *call)
{
    const rd_host *host = s->host;
    vk_buf body = {0};
    vk_dumps(&body, params);
    const char *secrets[] = {s->token, NULL};
    vk_json_post post;
    vk_json_post_init(&post, s->url, "Bearer", s->token ? s->token : "None", &body, s->token ? secrets : NULL);
    rd_status st = RD_RETRYABLE;
    for (int attempt = 1;; attempt++) {
        rd_http_response resp = rd_http_response_new();
        double wait = -1;
        if (host->http(host, &post.req, &resp) != 0) {
            int timeout = strstr(resp.error, "imed out") || strstr(resp.error, "imeout");
            if (!timeout || attempt >= SEGMENT_MAX_TRIES) {
                /* upstream: a ConnectionError is not caught; a Timeout after 4 tries propagates */
                rd_call_message(call, "Segment request failed: no response from %s: %s", s->url, resp.error);
                host->log(host, RD_LOG_ERROR, "%s", call->message);
                host->http_free(host, &resp);
                st = RD_RETRYABLE;
                break;
            }
            wait = vk_rand01() * 30.0 * s->retry_base;
            host->log(host, RD_LOG_ERROR, "Trying again in %.1f seconds after %d tries calling _call_segment_post (%s)",
                      wait, attempt, resp.error);
            host->http_free(host, &resp);
        } else if (resp.status >= 200 && resp.status < 300) {
            cJSON *j = cJSON_ParseWithLength(vk_body(&resp), resp.body_len);
            const cJSON *id = NULL;
            if (s->public_api) {
                const cJSON *data = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "data") : NULL;
                id = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "regulateId") : NULL;
            } else {
                id = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "regulate_id") : NULL;
            }
            char remaining[64];
            if (vk_header(&resp, "X-Regulation-RateLimit-Remaining", remaining, sizeof remaining))
                host->log(host, strcmp(remaining, "0") == 0 ? RD_LOG_WARN : RD_LOG_DEBUG,
                          "Segment regulation rate limit remaining: %s", remaining);
            if (id) {
                vk_buf t = {0};
                vk_pystr(&t, id);
                host->log(host, RD_LOG_INFO, "Bulk user regulation queued. Id: %s", vk_buf_str(&t));
                vk_buf_free(&t);
                rd_call_message(call, "None");
                st = RD_OK;
            } else {
                /* KeyError / TypeError: the response's str(); a non-JSON body: its text */
                vk_buf t = {0};
                if (j) {
                    vk_pystr(&t, j);
                } else {
                    vk_buf_add(&t, vk_body(&resp));
                }
                segment_error_message(call, params, vk_buf_str(&t));
                host->log(host, RD_LOG_ERROR, "%s", call->message);
                vk_buf_free(&t);
                st = RD_FAILED;
            }
            cJSON_Delete(j);
            host->http_free(host, &resp);
            break;
        } else {
            long code = resp.status;
            int retry = code == 429 || (code >= 500 && code < 600);
            if (!retry || attempt >= SEGMENT_MAX_TRIES) {
                host->log(host, RD_LOG_ERROR, "HTTPError code %ld: %s", code, vk_body(&resp));
                /* upstream: the HTTPError leaves the response text empty in the message */
                segment_error_message(call, params, "");
                host->log(host, RD_LOG_ERROR, "%s", call->message);
                host->http_free(host, &resp);
                st = retry ? RD_RETRYABLE : RD_FAILED;
                break;
            }
            double server = segment_server_wait(&resp);
            wait = server >= 0 ? (server > s->max_wait ? s->max_wait : server) : vk_expo_wait(s->retry_base, attempt);
            host->log(host, RD_LOG_ERROR, "Trying again in %.1f seconds after %d tries calling _call_segment_post", wait,
                      attempt);
            host->log(host, RD_LOG_ERROR, "HTTPError code %ld: %s", code, vk_body(&resp));
            host->http_free(host, &resp);
        }
        if (vk_sleep(host, wait) != 0) {
            rd_call_message(call, "Segment regulation request cancelled by the operator after %d attempts", attempt);
            st = RD_RETRYABLE;
            break;
        }
    }
    vk_buf_free(&body);
    return st;
}

/* delete_and_suppress_learner preview: the POST it would send, token masked. */
static rd_status segment_preview_delete_and_suppress_learner(void *inst, const cJSON *learner, rd_call *call)
{
    segment *s = inst;
    cJSON *params = segment_params(s, learner, call);
    if (!params) return RD_FAILED;
    vk_buf body = {0};
    vk_dumps(&body, params);
    vk_describe_json_post(call, s->url, "Bearer", &body);
    rd_call_message(call, "queues a Segment %s regulation (asynchronous); retries 429/5xx up to %d attempts",
                    s->public_api ? "SUPPRESS_WITH_DELETE (Public API)" : "Suppress_With_Delete (Config API)",
                    SEGMENT_MAX_TRIES);
    vk_buf_free(&body);
    cJSON_Delete(params);
    return RD_OK;
}

/* Params of an Unsuppress regulation for the learner's original_username (upstream
 * unsuppress_learners_by_key('original_username', ...)); NULL with the KeyError text. */
static cJSON *segment_unsuppress_params(const segment *s, const cJSON *learner, rd_call *call)
{
    const cJSON *uname = vk_learner_field(learner, "original_username", call);
    if (!uname) return NULL;
    cJSON *values = cJSON_CreateArray();
    vk_buf t = {0};
    vk_pystr(&t, uname);
    cJSON_AddItemToArray(values, cJSON_CreateString(vk_buf_str(&t)));
    vk_buf_free(&t);
    cJSON *p = cJSON_CreateObject();
    if (s->public_api) {
        cJSON_AddStringToObject(p, "regulationType", "UNSUPPRESS");
        cJSON_AddStringToObject(p, "subjectType", "USER_ID");
        cJSON_AddItemToObject(p, "subjectIds", values);
    } else {
        cJSON_AddStringToObject(p, "regulation_type", "Unsuppress");
        cJSON *attr = cJSON_AddObjectToObject(p, "attributes");
        cJSON_AddStringToObject(attr, "name", "userId");
        cJSON_AddItemToObject(attr, "values", values);
    }
    return p;
}

/* unsuppress_learner (not a pipeline step upstream; for `retirectl rerun USER
 * SEGMENT.unsuppress_learner` when a learner was suppressed by mistake): lifts the suppression
 * of the learner's original_username as Tubular's unsuppress script did. */
static rd_status segment_unsuppress_learner(void *inst, const cJSON *learner, rd_call *call)
{
    segment *s = inst;
    cJSON *params = segment_unsuppress_params(s, learner, call);
    if (!params) return RD_FAILED;
    rd_status st = segment_send(s, params, call);
    cJSON_Delete(params);
    return st;
}

/* unsuppress_learner preview. */
static rd_status segment_preview_unsuppress_learner(void *inst, const cJSON *learner, rd_call *call)
{
    segment *s = inst;
    cJSON *params = segment_unsuppress_params(s, learner, call);
    if (!params) return RD_FAILED;
    vk_buf body = {0};
    vk_dumps(&body, params);
    vk_describe_json_post(call, s->url, "Bearer", &body);
    rd_call_message(call, "queues a Segment Unsuppress regulation for the learner's original username");
    vk_buf_free(&body);
    cJSON_Delete(params);
    return RD_OK;
}

static const rd_method segment_methods[] = {
    RD_METHOD("delete_and_suppress_learner", segment_delete_and_suppress_learner, segment_preview_delete_and_suppress_learner),
    RD_METHOD("unsuppress_learner", segment_unsuppress_learner, segment_preview_unsuppress_learner),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_segment =
    RD_DRIVER_INIT("SEGMENT", "1.0.0", "Segment: Suppress_With_Delete regulation for the learner's ids",
                   segment_get_instance, segment_destroy, segment_methods);
