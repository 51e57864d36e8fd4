/* drivertest: the mock host of include/retirectl/drivertest.h. The host is retirectl's own
 * (engine/host.c: services, config lookups, rd_call) with http replaced by canned answers. */
#include "retirectl/drivertest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/config.h"
#include "engine/host.h"
#include "engine/reg.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define RDT_API __attribute__((visibility("default")))

typedef struct canned {
    char *method, *url_contains, *body, *error;
    char **headers;
    long status;
    int times; /* uses left; 0 = unlimited */
    int used_up;
} canned;

typedef struct captured {
    rdt_request pub;
    char *method, *url, *body;
    char **headers;
} captured;

typedef struct made {
    const rd_driver *driver;
    void *instance;
} made;

struct rdt_host {
    cfg *config;
    rd_host *host;
    volatile int cancel;
    canned *canned;
    size_t n_canned;
    captured *reqs;
    size_t n_reqs;
    char **log;
    size_t n_log;
    char *message;
    cJSON *described;
    made *instances;
    size_t n_instances;
    cJSON **learners; /* built by rdt_learner, owned */
    size_t n_learners;
    int failures;
    int unanswered;
};

/* Appends p to a growable array of n items of size sz (aborts on OOM). */
static void *grow(void *arr, size_t n, size_t sz)
{
    void *p = xrealloc(arr, (n + 1) * sz);
    return p;
}

/* A NULL-terminated copy of a header list (extra appended when non-NULL). */
static char **dup_headers(const char *const *h, const char *extra)
{
    size_t n = 0;
    while (h && h[n]) n++;
    char **out = xcalloc(n + 2, sizeof *out);
    for (size_t i = 0; i < n; i++) out[i] = xstrdup(h[i]);
    if (extra) out[n] = xstrdup(extra);
    return out;
}

static void free_headers(char **h)
{
    for (size_t i = 0; h && h[i]; i++) free(h[i]);
    free(h);
}

static void on_log(void *user, rd_log_level level, const char *text)
{
    rdt_host *t = user;
    static const char *const names[] = {"debug", "info", "warning", "error"};
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s: %s", level <= RD_LOG_ERROR ? names[level] : "?", text);
    t->log = grow(t->log, t->n_log, sizeof *t->log);
    t->log[t->n_log++] = sb_take(&sb);
}

static void on_progress(void *user, const char *text)
{
    on_log(user, RD_LOG_DEBUG, text);
}

/* Records req; returns the captured copy. */
static captured *capture(rdt_host *t, const rd_http_request *req)
{
    t->reqs = grow(t->reqs, t->n_reqs, sizeof *t->reqs);
    captured *c = &t->reqs[t->n_reqs++];
    memset(c, 0, sizeof *c);
    c->method = xstrdup(req->method);
    c->url = xstrdup(req->url);
    size_t len = req->body ? (req->body_len ? req->body_len : strlen(req->body)) : 0;
    c->body = xmalloc(len + 1);
    if (len) memcpy(c->body, req->body, len);
    c->body[len] = '\0';
    c->headers = dup_headers(req->headers, req->auth == RD_AUTH_LMS_JWT ? "Authorization: JWT drivertest-token" : NULL);
    c->pub.method = c->method;
    c->pub.url = c->url;
    c->pub.body = c->body;
    c->pub.body_len = len;
    c->pub.headers = (const char *const *)c->headers;
    c->pub.auth = (int)req->auth;
    c->pub.retry = (int)req->retry;
    c->pub.timeout_seconds = req->timeout_seconds;
    return c;
}

/* rd_host.http of the mock: the first matching canned answer. */
static int mock_http(const rd_host *h, const rd_http_request *req, rd_http_response *resp)
{
    rdt_host *t = host_user(h);
    uint32_t size = resp->struct_size;
    memset(resp, 0, sizeof *resp);
    resp->struct_size = size;
    resp->retry_after_seconds = -1;
    if (size < RD_SIZEOF(rd_http_response) || req->struct_size < RD_SIZEOF(rd_http_request)) {
        snprintf(resp->error, sizeof resp->error,
                 "drivertest: the driver's %s has struct_size %u; start it from rd_http_%s_new()",
                 size < RD_SIZEOF(rd_http_response) ? "rd_http_response" : "rd_http_request",
                 (unsigned)(size < RD_SIZEOF(rd_http_response) ? size : req->struct_size),
                 size < RD_SIZEOF(rd_http_response) ? "response" : "request");
        t->failures++;
        fprintf(stderr, "%s\n", resp->error);
        return -1;
    }
    captured *c = capture(t, req);
    for (size_t i = 0; i < t->n_canned; i++) {
        canned *k = &t->canned[i];
        if (k->used_up || strcasecmp(k->method, c->method) != 0 || !strstr(c->url, k->url_contains)) continue;
        if (k->times > 0 && --k->times == 0) k->used_up = 1;
        resp->attempts = 1;
        if (k->error) {
            snprintf(resp->error, sizeof resp->error, "%s", k->error);
            return -1;
        }
        resp->status = k->status;
        resp->body = xstrdup(k->body);
        resp->body_len = strlen(resp->body);
        strbuf hb = STRBUF_INIT;
        sb_addf(&hb, "HTTP/1.1 %ld drivertest\r\n", k->status);
        for (size_t j = 0; k->headers && k->headers[j]; j++) sb_addf(&hb, "%s\r\n", k->headers[j]);
        sb_add(&hb, "\r\n");
        resp->headers = sb_take(&hb);
        return 0;
    }
    t->unanswered++;
    snprintf(resp->error, sizeof resp->error, "drivertest: no canned response for %s %s; add rdt_respond(t, \"%s\", ...)",
             c->method, c->url, c->method);
    fprintf(stderr, "%s\n", resp->error);
    return -1;
}

static void mock_http_free(const rd_host *h, rd_http_response *resp)
{
    (void)h;
    free(resp->body);
    free(resp->headers);
    resp->body = resp->headers = NULL;
    resp->body_len = 0;
}

RDT_API rdt_host *rdt_host_new(const char *driver_name, const char *config_text)
{
    rdt_host *t = xcalloc(1, sizeof *t);
    char err[2048];
    if (cfg_load_string(config_text && *config_text ? config_text : "{}\n", "drivertest config", &t->config, err,
                        sizeof err) != 0) {
        fprintf(stderr, "rdt_host_new: the config does not parse: %s\n", err);
        abort();
    }
    t->host = host_new(t->config, NULL, driver_name, on_log, on_progress, t, &t->cancel);
    if (!t->host) abort();
    t->host->http = mock_http;
    t->host->http_free = mock_http_free;
    t->message = xstrdup("");
    return t;
}

RDT_API const rd_host *rdt_rd_host(const rdt_host *t) { return t->host; }
RDT_API const cJSON *rdt_config(const rdt_host *t) { return t->config->root; }

RDT_API void *rdt_instance(rdt_host *t, const rd_driver *d)
{
    char err[4096] = "";
    void *inst = d->get_instance(t->config->root, t->host, err, sizeof err);
    free(t->message);
    t->message = xstrdup(err);
    if (inst) {
        t->instances = grow(t->instances, t->n_instances, sizeof *t->instances);
        t->instances[t->n_instances++] = (made){d, inst};
    }
    return inst;
}

RDT_API void rdt_respond_full(rdt_host *t, const char *method, const char *url_contains, long status, const char *body,
                              const char *const *headers, int times)
{
    t->canned = grow(t->canned, t->n_canned, sizeof *t->canned);
    canned *k = &t->canned[t->n_canned++];
    memset(k, 0, sizeof *k);
    k->method = xstrdup(method);
    k->url_contains = xstrdup(url_contains);
    k->body = xstrdup(body);
    k->headers = dup_headers(headers, NULL);
    k->status = status;
    k->times = times;
}

RDT_API void rdt_respond(rdt_host *t, const char *method, const char *url_contains, long status, const char *body)
{
    rdt_respond_full(t, method, url_contains, status, body, NULL, 1);
}

RDT_API void rdt_respond_no_answer(rdt_host *t, const char *method, const char *url_contains, const char *error)
{
    rdt_respond_full(t, method, url_contains, 0, "", NULL, 1);
    t->canned[t->n_canned - 1].error = xstrdup(error ? error : "drivertest: connection refused");
}

/* Calls run or preview of method with a fresh call context. */
static rd_status call_method(rdt_host *t, void *instance, const char *method, const cJSON *learner, int preview)
{
    const rd_driver *d = NULL;
    for (size_t i = 0; i < t->n_instances; i++)
        if (t->instances[i].instance == instance) d = t->instances[i].driver;
    const rd_method *m = reg_method(d, method);
    if (!m || (preview && !m->preview)) {
        fprintf(stderr, "drivertest: %s has no %s %s (make the instance with rdt_instance)\n",
                d ? d->name : "the instance", preview ? "preview for" : "method", method);
        t->failures++;
        return RD_FAILED;
    }
    host_call hc;
    host_call_init(&hc, t->host, preview);
    rd_status st = preview ? m->preview(instance, learner, &hc.call) : m->run(instance, learner, &hc.call);
    free(t->message);
    t->message = xstrdup(hc.call.message);
    cJSON_Delete(t->described);
    t->described = hc.requests;
    hc.requests = NULL;
    host_call_done(&hc);
    return st;
}

RDT_API rd_status rdt_run(rdt_host *t, void *instance, const char *method, const cJSON *learner)
{
    return call_method(t, instance, method, learner, 0);
}

RDT_API rd_status rdt_preview(rdt_host *t, void *instance, const char *method, const cJSON *learner)
{
    return call_method(t, instance, method, learner, 1);
}

RDT_API const char *rdt_message(const rdt_host *t) { return t->message; }
RDT_API size_t rdt_request_count(const rdt_host *t) { return t->n_reqs; }

RDT_API const rdt_request *rdt_request_at(const rdt_host *t, size_t i)
{
    return i < t->n_reqs ? &t->reqs[i].pub : NULL;
}

RDT_API const char *rdt_request_header(const rdt_request *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; r && r->headers && r->headers[i]; i++) {
        const char *h = r->headers[i];
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ') h++;
            return h;
        }
    }
    return NULL;
}

RDT_API const cJSON *rdt_described(const rdt_host *t) { return t->described; }
RDT_API size_t rdt_log_count(const rdt_host *t) { return t->n_log; }
RDT_API const char *rdt_log_at(const rdt_host *t, size_t i) { return i < t->n_log ? t->log[i] : NULL; }
RDT_API void rdt_set_cancelled(rdt_host *t, int on) { t->cancel = on; }

RDT_API cJSON *rdt_learner(rdt_host *t, long user_id, const char *username)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"id\": %ld, \"user\": {\"id\": %ld, \"username\": \"%s\", \"email\": \"%s@example.invalid\","
             " \"profile\": {\"id\": %ld, \"name\": \"Test Learner\"}},"
             " \"current_state\": {\"id\": 1, \"state_name\": \"PENDING\", \"state_execution_order\": 1},"
             " \"last_state\": {\"id\": 1, \"state_name\": \"PENDING\", \"state_execution_order\": 1},"
             " \"created\": \"2026-01-01T00:00:00.000000Z\", \"modified\": \"2026-01-01T00:00:00.000000Z\","
             " \"original_username\": \"%s\", \"original_email\": \"%s@example.invalid\","
             " \"original_name\": \"Test Learner\", \"retired_username\": \"retired__user_%ld\","
             " \"retired_email\": \"retired__user_%ld@retired.invalid\"}",
             user_id, user_id, username, username, user_id + 10000, username, username, user_id, user_id);
    cJSON *l = cJSON_Parse(text);
    if (!l) abort();
    t->learners = grow(t->learners, t->n_learners, sizeof *t->learners);
    t->learners[t->n_learners++] = l;
    return l;
}

/* Prints a failed expectation and counts it. */
static int fail(rdt_host *t, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(rdt_host *t, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    t->failures++;
    return 0;
}

static const char *status_text(rd_status s)
{
    static const char *const names[] = {"RD_OK", "RD_NOT_FOUND", "RD_RETRYABLE", "RD_FAILED", "RD_CONFIG"};
    return (unsigned)s <= RD_CONFIG ? names[s] : "an unknown rd_status";
}

RDT_API int rdt_expect_status(rdt_host *t, rd_status got, rd_status want, const char *file, int line)
{
    if (got == want) return 1;
    return fail(t, file, line, "expected %s, got %s (message: \"%s\")", status_text(want), status_text(got),
                t->message);
}

RDT_API int rdt_expect_message_contains(rdt_host *t, const char *text, const char *file, int line)
{
    if (strstr(t->message, text)) return 1;
    return fail(t, file, line, "the message \"%s\" does not contain \"%s\"", t->message, text);
}

RDT_API int rdt_expect_request(rdt_host *t, size_t i, const char *method, const char *url, const char *file, int line)
{
    const rdt_request *r = rdt_request_at(t, i);
    if (!r) return fail(t, file, line, "expected request %zu (%s %s), but only %zu were sent", i, method, url, t->n_reqs);
    if (strcmp(r->method, method) == 0 && strcmp(r->url, url) == 0) return 1;
    return fail(t, file, line, "request %zu is %s %s, expected %s %s", i, r->method, r->url, method, url);
}

RDT_API int rdt_expect_header(rdt_host *t, size_t i, const char *name, const char *value, const char *file, int line)
{
    const rdt_request *r = rdt_request_at(t, i);
    const char *v = r ? rdt_request_header(r, name) : NULL;
    if (v && strcmp(v, value) == 0) return 1;
    return fail(t, file, line, "request %zu: header %s is %s%s%s, expected \"%s\"", i, name, v ? "\"" : "",
                v ? v : "absent", v ? "\"" : "", value);
}

RDT_API int rdt_expect_body(rdt_host *t, size_t i, const char *body, const char *file, int line)
{
    const rdt_request *r = rdt_request_at(t, i);
    if (r && strcmp(r->body, body) == 0) return 1;
    return fail(t, file, line, "request %zu: body is \"%s\", expected \"%s\"", i, r ? r->body : "(no request)", body);
}

RDT_API void rdt_reset(rdt_host *t)
{
    for (size_t i = 0; i < t->n_reqs; i++) {
        free(t->reqs[i].method);
        free(t->reqs[i].url);
        free(t->reqs[i].body);
        free_headers(t->reqs[i].headers);
    }
    t->n_reqs = 0;
    for (size_t i = 0; i < t->n_log; i++) free(t->log[i]);
    t->n_log = 0;
    for (size_t i = 0; i < t->n_canned; i++) {
        canned *k = &t->canned[i];
        free(k->method);
        free(k->url_contains);
        free(k->body);
        free(k->error);
        free_headers(k->headers);
    }
    t->n_canned = 0;
    free(t->message);
    t->message = xstrdup("");
    cJSON_Delete(t->described);
    t->described = NULL;
}

RDT_API void rdt_host_free(rdt_host *t)
{
    if (!t) return;
    rdt_reset(t);
    for (size_t i = 0; i < t->n_instances; i++)
        if (t->instances[i].driver->destroy) t->instances[i].driver->destroy(t->instances[i].instance);
    for (size_t i = 0; i < t->n_learners; i++) cJSON_Delete(t->learners[i]);
    free(t->learners);
    free(t->instances);
    free(t->reqs);
    free(t->log);
    free(t->canned);
    free(t->message);
    host_free(t->host);
    cfg_free(t->config);
    free(t);
}

RDT_API int rdt_finish(rdt_host *t)
{
    int bad = t->failures || t->unanswered;
    if (t->unanswered)
        fprintf(stderr, "drivertest: %d request(s) had no canned response (see above)\n", t->unanswered);
    if (bad) fprintf(stderr, "drivertest: %d expectation(s) failed\n", t->failures);
    rdt_host_free(t);
    return bad ? 1 : 0;
}
