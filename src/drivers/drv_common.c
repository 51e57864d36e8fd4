/* drv_common: shared code of the built-in drivers. See drv_common.h. */
#include "drivers/drv_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pycompat.h"
#include "drivers/pyrepr.h"
#include "common/http_reason.h"
#include "common/xalloc.h"

drv_instance *drv_instance_new(const rd_host *host, const char *base_key, const char *driver_name, char *err,
                               size_t err_len)
{
    const char *base = host->config_string(host, base_key);
    if (!base || !*base) {
        snprintf(err, err_len,
                 "%s needs %s in the config (the service's base URL); add it or remove the %s steps from "
                 "retirement_pipeline",
                 driver_name, base_key, driver_name);
        return NULL;
    }
    drv_instance *in = xcalloc(1, sizeof *in);
    if (!in) {
        snprintf(err, err_len, "%s: out of memory", driver_name);
        return NULL;
    }
    in->host = host;
    in->base_url = xstrdup(base);
    return in;
}

void drv_instance_free(void *instance)
{
    drv_instance *in = instance;
    if (!in) return;
    free(in->base_url);
    free(in->path);
    free(in);
}

void drv_json_str(strbuf *sb, const char *s)
{
    char *q = py_json_quote(s); /* common/pycompat.c */
    sb_add(sb, q);
    free(q);
}

rd_status drv_call(rd_call *call, const drv_instance *in, const char *method, const char *path, const char *body,
                   drv_404 on_404, const char *log_404, cJSON **json_out)
{
    const rd_host *h = in->host;
    if (json_out) *json_out = NULL;
    char *url = h->url_join(h, in->base_url, path);
    if (!url) {
        rd_call_message(call, "could not build the URL from %s and %s", in->base_url, path);
        return RD_CONFIG;
    }
    rd_http_request req = rd_http_request_new(NULL, NULL);
    req.method = method;
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.auth = RD_AUTH_LMS_JWT;
    req.retry = RD_RETRY_UPSTREAM;
    rd_http_response resp = rd_http_response_new();
    rd_status st;
    if (h->http(h, &req, &resp) != 0 || resp.status == 0) {
        rd_call_message(call, "%s %s: %s", method, url, resp.error[0] ? resp.error : "no answer");
        st = RD_RETRYABLE;
    } else if (resp.status >= 200 && resp.status < 300) {
        if (resp.status == 204) {
            rd_call_message(call, "<Response [204]>");
            st = RD_OK;
        } else {
            char *repr = pyrepr_json(resp.body ? resp.body : "", resp.body_len);
            if (!repr) {
                /* requests' response.json() raises JSONDecodeError: record its text */
                char *jerr = pyrepr_json_error(resp.body ? resp.body : "", resp.body ? resp.body_len : 0);
                if (jerr)
                    rd_call_message(call, "%s", jerr);
                else
                    rd_call_message(call, "%s %s answered %ld with a body that is not JSON", method, url,
                                    resp.status);
                free(jerr);
                st = RD_FAILED;
            } else {
                rd_call_message(call, "%s", repr); /* any length (ABI 2); cut, after scrubbing, only where it is recorded at the LMS (lms.h) */
                free(repr);
                if (json_out) *json_out = cJSON_ParseWithLength(resp.body, resp.body_len);
                st = RD_OK;
            }
        }
    } else if (resp.status == 404 && on_404 == DRV_404_SUCCEEDS) {
        if (log_404) h->log(h, RD_LOG_INFO, "%s", log_404);
        rd_call_message(call, "True");
        st = RD_NOT_FOUND;
    } else if (resp.status >= 400 && resp.status < 600) {
        char reason[128];
        http_reason_from_headers(resp.headers, resp.status, reason, sizeof reason);
        rd_call_message(call, "%ld %s Error: %s for url: %s", resp.status, resp.status >= 500 ? "Server" : "Client",
                        reason, url);
        st = resp.status >= 500 ? RD_RETRYABLE : RD_FAILED;
    } else {
        rd_call_message(call, "%s %s answered with unexpected status %ld", method, url, resp.status);
        st = RD_FAILED;
    }
    h->http_free(h, &resp);
    h->free(h, url);
    return st;
}

rd_status drv_preview(rd_call *call, const drv_instance *in, const char *method, const char *path,
                      const char *body, const char *note)
{
    const rd_host *h = in->host;
    char *url = h->url_join(h, in->base_url, path);
    static const char *const headers[] = {"Authorization: JWT ********", "Content-type: application/json", NULL};
    rd_call_describe(call, method, url ? url : path, headers, body);
    rd_call_message(call, "%s %s%s%s", method, url ? url : path, note ? "; " : "", note ? note : "");
    if (url) h->free(h, url);
    return RD_OK;
}

const char *drv_original_username(const cJSON *learner, rd_call *call)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(learner, "original_username");
    if (!v) {
        rd_call_message(call, "'original_username'");
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        rd_call_message(call, "original_username of the learner record is not a string");
        return NULL;
    }
    return v->valuestring;
}

int drv_lms_user_id(const cJSON *learner, rd_call *call, long long *out)
{
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(learner, "user");
    if (!user) {
        rd_call_message(call, "'user'");
        return -1;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(user, "id");
    if (!id) {
        rd_call_message(call, "'id'");
        return -1;
    }
    if (!cJSON_IsNumber(id)) {
        rd_call_message(call, "user.id of the learner record is not a number");
        return -1;
    }
    *out = (long long)id->valuedouble;
    return 0;
}
