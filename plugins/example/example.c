/* WEBHOOK: the example retirement driver. POSTs a JSON document built from a configured
 * template to a configured URL, with a bearer token, through the host's HTTP service.
 *
 * Config (the section is the driver's entry-point name in lower case, "webhook" for WEBHOOK;
 * a second entry WEBHOOK_CRM = example/example.so:retirectl_driver_webhook reads webhook_crm:):
 *
 *   webhook:
 *     url: https://hooks.example.org/retired       # required, http:// or https://
 *     bearer_token: ${WEBHOOK_TOKEN}                # optional; sent as Authorization: Bearer
 *     template: {"user_id": "{{lms_user_id}}", "username": "{{retired_username}}"}
 *     retry: true                                   # optional; host retry policy for 5xx
 *     timeout_seconds: 30                           # optional
 *
 * Placeholders: {{lms_user_id}} (the learner's LMS user id, a number) and {{retired_username}}.
 * Nothing else is offered on purpose: the original username and email are the personal data
 * the retirement deletes, so they must not be copied to another system.
 *
 * Method: notify (with a preview). 2xx -> OK; 404 -> NOT_FOUND (nothing to do: success);
 * 5xx or no answer -> RETRYABLE; any other status -> FAILED; bad settings -> CONFIG. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "retirectl/driver.h"

#define WEBHOOK_DEFAULT_TEMPLATE "{\"lms_user_id\": {{lms_user_id}}, \"retired_username\": \"{{retired_username}}\"}"

typedef struct webhook {
    const rd_host *host;
    char *section;      /* config section name, e.g. "webhook" */
    char *url;
    char *token;        /* NULL when no bearer token is configured */
    char *auth_header;  /* "Authorization: Bearer <token>" or NULL */
    char *template;     /* JSON text with placeholders */
    int retry;
    long timeout_seconds;
} webhook;

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static void webhook_destroy(void *inst)
{
    webhook *w = inst;
    if (!w) return;
    if (w->auth_header) memset(w->auth_header, 0, strlen(w->auth_header));
    if (w->token) memset(w->token, 0, strlen(w->token));
    free(w->section);
    free(w->url);
    free(w->token);
    free(w->auth_header);
    free(w->template);
    free(w);
}

/* Checks that every {{...}} in the template is a known placeholder; 0 or -1 with err set. */
static int check_placeholders(const char *section, const char *tpl, char *err, size_t err_len)
{
    for (const char *p = strstr(tpl, "{{"); p; p = strstr(p + 2, "{{")) {
        const char *end = strstr(p, "}}");
        if (!end) {
            snprintf(err, err_len, "%s.template has a '{{' without '}}'; placeholders are {{lms_user_id}} and "
                                   "{{retired_username}}",
                     section);
            return -1;
        }
        size_t n = (size_t)(end - p - 2);
        if ((n == 11 && strncmp(p + 2, "lms_user_id", n) == 0) ||
            (n == 16 && strncmp(p + 2, "retired_username", n) == 0)) {
            p = end;
            continue;
        }
        snprintf(err, err_len,
                 "%s.template uses the placeholder {{%.*s}}, which the webhook does not offer: only {{lms_user_id}} "
                 "and {{retired_username}} may leave the LMS (the original username and email are the personal "
                 "data being deleted)",
                 section, (int)(n > 60 ? 60 : n), p + 2);
        return -1;
    }
    return 0;
}

/* Returns a malloc'd copy of s with every occurrence of `from` replaced by `to`. */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), count = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + fl, from)) count++;
    size_t n = strlen(s) + count * tl + 1;
    char *out = malloc(n), *o = out;
    if (!out) return NULL;
    const char *p = s, *q;
    while ((q = strstr(p, from))) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        p = q + fl;
    }
    strcpy(o, p);
    return out;
}

/* Non-zero when url is plain http:// to a host other than loopback (the host refuses those
 * unless http.allow_insecure_http is set: better to say so before any learner is touched). */
static int insecure_remote(const char *url)
{
    if (strncmp(url, "http://", 7) != 0) return 0;
    const char *h = url + 7;
    const char *at = strchr(h, '@'), *slash = strchr(h, '/');
    if (at && (!slash || at < slash)) h = at + 1;
    if (*h == '[') return strncmp(h, "[::1]", 5) != 0;
    size_t n = strcspn(h, ":/?#");
    if ((n == 9 && strncasecmp(h, "localhost", 9) == 0) || (n == 10 && strncasecmp(h, "localhost.", 10) == 0))
        return 0;
    return !(n >= 4 && strncmp(h, "127.", 4) == 0);
}

static void *webhook_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    char section[128];
    const char *name = host && host->driver_name ? host->driver_name : "WEBHOOK";
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof section; i++) section[i] = (char)tolower((unsigned char)name[i]);
    section[i] = '\0';

    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(config, section);
    if (!cJSON_IsObject(sec)) {
        snprintf(err, err_len,
                 "the %s driver needs a '%s:' section with at least url (see plugins/example/README.md)", name,
                 section);
        return NULL;
    }
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(sec, "url");
    if (!cJSON_IsString(url) || (strncmp(url->valuestring, "https://", 8) != 0 &&
                                 strncmp(url->valuestring, "http://", 7) != 0)) {
        snprintf(err, err_len, "%s.url must be an http:// or https:// URL; set it to the webhook's address",
                 section);
        return NULL;
    }
    const cJSON *insecure_ok = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "http"),
                                                                "allow_insecure_http");
    if (insecure_remote(url->valuestring) && !cJSON_IsTrue(insecure_ok)) {
        snprintf(err, err_len,
                 "%s.url is plain http:// to a host that is not this machine, so the token and learner ids would "
                 "travel unencrypted; use https:// (or set http.allow_insecure_http: true on a trusted network)",
                 section);
        return NULL;
    }
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(sec, "bearer_token");
    if (token && !cJSON_IsNull(token) && (!cJSON_IsString(token) || !*token->valuestring)) {
        snprintf(err, err_len, "%s.bearer_token must be a non-empty string (or left out)", section);
        return NULL;
    }
    if (cJSON_IsString(token) && strpbrk(token->valuestring, "\r\n")) {
        snprintf(err, err_len, "%s.bearer_token contains a line break; copy the token again", section);
        return NULL;
    }
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(sec, "template");
    char *tpl_text = NULL;
    if (!tpl || cJSON_IsNull(tpl))
        tpl_text = dup_str(WEBHOOK_DEFAULT_TEMPLATE);
    else if (cJSON_IsString(tpl))
        tpl_text = dup_str(tpl->valuestring);
    else if (cJSON_IsObject(tpl) || cJSON_IsArray(tpl))
        tpl_text = cJSON_PrintUnformatted(tpl);
    else {
        snprintf(err, err_len, "%s.template must be a JSON text or a mapping", section);
        return NULL;
    }
    if (!tpl_text || check_placeholders(section, tpl_text, err, err_len) != 0) {
        free(tpl_text);
        return NULL;
    }
    /* the template must be JSON once filled in: try it with sample values */
    char *a = replace_all(tpl_text, "\"{{lms_user_id}}\"", "1");
    char *b = a ? replace_all(a, "{{lms_user_id}}", "1") : NULL;
    char *c = b ? replace_all(b, "{{retired_username}}", "retired__user_x") : NULL;
    cJSON *probe = c ? cJSON_Parse(c) : NULL;
    free(a);
    free(b);
    free(c);
    if (!probe) {
        snprintf(err, err_len,
                 "%s.template is not valid JSON once filled in; write it as JSON, e.g. %s", section,
                 WEBHOOK_DEFAULT_TEMPLATE);
        free(tpl_text);
        return NULL;
    }
    cJSON_Delete(probe);

    webhook *w = calloc(1, sizeof *w);
    if (!w) {
        free(tpl_text);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    w->host = host;
    w->section = dup_str(section);
    w->url = dup_str(url->valuestring);
    w->template = tpl_text;
    if (cJSON_IsString(token)) {
        w->token = dup_str(token->valuestring);
        size_t n = strlen(w->token) + 32;
        w->auth_header = malloc(n);
        if (w->auth_header) snprintf(w->auth_header, n, "Authorization: Bearer %s", w->token);
    }
    const cJSON *retry = cJSON_GetObjectItemCaseSensitive(sec, "retry");
    w->retry = retry ? cJSON_IsTrue(retry) : 1;
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(sec, "timeout_seconds");
    w->timeout_seconds = cJSON_IsNumber(to) && to->valuedouble > 0 ? (long)to->valuedouble : 0;
    if (!w->section || !w->url || (w->token && !w->auth_header)) {
        webhook_destroy(w);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    return w;
}

/* Builds the request body for learner (malloc'd), or NULL with the reason in call's message. */
static char *build_body(const webhook *w, const cJSON *learner, rd_call *call)
{
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(learner, "user");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(user, "id");
    const cJSON *retired = cJSON_GetObjectItemCaseSensitive(learner, "retired_username");
    if (!cJSON_IsNumber(id)) {
        rd_call_message(call, "%s: the learner record has no user.id (LMS user id); cannot fill the template",
                        w->host->driver_name);
        return NULL;
    }
    if (!cJSON_IsString(retired) || !*retired->valuestring) {
        rd_call_message(call, "%s: the learner record has no retired_username; cannot fill the template",
                        w->host->driver_name);
        return NULL;
    }
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%.0f", id->valuedouble);
    /* the host writes the JSON string (json.dumps); the template has the quotes around it */
    char *quoted = w->host->json_dumps(w->host, retired, 0);
    size_t ql = quoted ? strlen(quoted) : 0;
    if (ql >= 2) quoted[ql - 1] = '\0';
    char *a = replace_all(w->template, "\"{{lms_user_id}}\"", idtext);
    char *b = a ? replace_all(a, "{{lms_user_id}}", idtext) : NULL;
    char *c = b && ql >= 2 ? replace_all(b, "{{retired_username}}", quoted + 1) : NULL;
    free(a);
    free(b);
    if (quoted) w->host->free(w->host, quoted);
    if (!c) rd_call_message(call, "%s: out of memory building the request", w->host->driver_name);
    return c;
}

static rd_status webhook_notify(void *inst, const cJSON *learner, rd_call *call)
{
    webhook *w = inst;
    const rd_host *h = w->host;
    char *body = build_body(w, learner, call);
    if (!body) return RD_FAILED;
    if (h->cancelled(h)) {
        free(body);
        rd_call_message(call, "%s: cancelled before calling %s", h->driver_name, w->url);
        return RD_RETRYABLE;
    }
    const char *headers[3] = {"Content-Type: application/json", w->auth_header, NULL};
    const char *secrets[2] = {w->token, NULL};
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request),
                           .method = "POST",
        .url = w->url,
        .headers = headers,
        .body = body,
        .body_len = strlen(body),
        .auth = RD_AUTH_NONE,
        .retry = w->retry ? RD_RETRY_UPSTREAM : RD_RETRY_NONE,
        .secret_values = w->token ? secrets : NULL,
        .timeout_seconds = w->timeout_seconds,
    };
    h->progress(h, "POST %s", w->url);
    rd_http_response resp = rd_http_response_new();
    int rc = h->http(h, &req, &resp);
    free(body);
    rd_status st;
    if (rc != 0 || resp.status == 0) {
        rd_call_message(call, "%s: POST %s got no answer: %s; safe to rerun", h->driver_name, w->url,
                        resp.error[0] ? resp.error : "transport error");
        st = RD_RETRYABLE;
    } else if (resp.status >= 200 && resp.status < 300) {
        rd_call_message(call, "%s: POST %s answered %ld", h->driver_name, w->url, resp.status);
        st = RD_OK;
    } else if (resp.status == 404) {
        rd_call_message(call, "%s: POST %s answered 404: the receiver knows nothing of this learner (counts as "
                              "success)",
                        h->driver_name, w->url);
        st = RD_NOT_FOUND;
    } else if (resp.status >= 500) {
        rd_call_message(call, "%s: POST %s answered %ld after %d attempt%s; the receiver failed, safe to rerun",
                        h->driver_name, w->url, resp.status, resp.attempts, resp.attempts == 1 ? "" : "s");
        st = RD_RETRYABLE;
    } else {
        rd_call_message(call, "%s: POST %s answered %ld: %.200s; check %s.url, %s.bearer_token and %s.template",
                        h->driver_name, w->url, resp.status, resp.body ? resp.body : "", w->section, w->section,
                        w->section);
        st = RD_FAILED;
    }
    h->http_free(h, &resp);
    return st;
}

static rd_status webhook_notify_preview(void *inst, const cJSON *learner, rd_call *call)
{
    webhook *w = inst;
    char *body = build_body(w, learner, call);
    if (!body) return RD_FAILED;
    const char *headers[3] = {"Content-Type: application/json", w->auth_header ? "Authorization: Bearer ********" : NULL,
                              NULL};
    rd_call_describe(call, "POST", w->url, headers, body);
    rd_call_message(call, "%s would POST to %s; 2xx or 404 counts as done", w->host->driver_name, w->url);
    free(body);
    return RD_OK;
}

static const rd_method webhook_methods[] = {
    RD_METHOD("notify", webhook_notify, webhook_notify_preview),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_webhook =
    RD_DRIVER_INIT("WEBHOOK", "1.0.0", "POSTs a JSON template (LMS user id, retired username) to a URL",
                   webhook_get_instance, webhook_destroy, webhook_methods);
