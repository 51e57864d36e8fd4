/* host: rd_host services over the engine's http client and config. See host.h. */
#include "engine/host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/strbuf.h"

typedef struct host_impl {
    rd_host pub; /* first: rd_host* and host_impl* are the same address */
    const cfg *config;
    http_client *http;
    char *name;
    host_log_fn log_fn;
    host_progress_fn progress_fn;
    void *user;
    volatile sig_atomic_t *cancel_flag;
    host_failure failure;
} host_impl;

static host_impl *impl_of(const rd_host *h)
{
    return (host_impl *)h->host_data;
}

void host_failure_reset(rd_host *host)
{
    host_failure *f = &impl_of(host)->failure;
    free(f->method);
    free(f->url);
    free(f->body);
    free(f->error);
    memset(f, 0, sizeof *f);
}

const host_failure *host_last_failure(const rd_host *host)
{
    const host_failure *f = &impl_of(host)->failure;
    return f->set ? f : NULL;
}

/* Keeps what a failed request was and what came back (see host_failure). */
static void note_failure(rd_host *h, const rd_http_request *req, const rd_http_response *resp, int rc)
{
    int failed = rc != 0 || resp->status == 0 || resp->status >= 400;
    if (!failed && resp->status < 300) {
        host_failure_reset(h);
        return;
    }
    if (!failed) return;
    host_failure_reset(h);
    host_failure *f = &impl_of(h)->failure;
    f->set = 1;
    f->method = strdup(req->method ? req->method : "?");
    f->url = strdup(req->url ? req->url : "");
    f->status = resp->status;
    if (resp->body && resp->body_len) {
        f->body_len = resp->body_len < HOST_FAILURE_BODY_MAX ? resp->body_len : HOST_FAILURE_BODY_MAX;
        f->body = malloc(f->body_len + 1);
        if (f->body) {
            memcpy(f->body, resp->body, f->body_len);
            f->body[f->body_len] = '\0';
        } else {
            f->body_len = 0;
        }
    }
    if (resp->error[0]) f->error = strdup(resp->error);
    f->attempts = resp->attempts;
}

static int h_http(const rd_host *h, const rd_http_request *req, rd_http_response *resp)
{
    int rc = http_send(impl_of(h)->http, req, resp);
    note_failure((rd_host *)h, req, resp, rc);
    return rc;
}

static void h_http_free(const rd_host *h, rd_http_response *resp)
{
    (void)h;
    http_response_free(resp);
}

/* Formats a plugin's text whole, scrubs it, and only then bounds it (a secret is never cut in
 * two before it is masked); malloc'd. */
static char *host_text(const host_impl *hi, size_t max, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static char *host_text(const host_impl *hi, size_t max, const char *fmt, va_list ap)
{
    strbuf sb = STRBUF_INIT;
    sb_vaddf(&sb, fmt, ap);
    char *clean = cfg_redact_bounded(hi->config, sb_str(&sb), max);
    sb_free(&sb);
    return clean;
}

static void h_log(const rd_host *h, rd_log_level level, const char *fmt, ...)
{
    host_impl *hi = impl_of(h);
    if (!hi->log_fn) return;
    va_list ap;
    va_start(ap, fmt);
    char *text = host_text(hi, 8192, fmt, ap);
    va_end(ap);
    hi->log_fn(hi->user, level, text);
    free(text);
}

static void h_progress(const rd_host *h, const char *fmt, ...)
{
    host_impl *hi = impl_of(h);
    if (!hi->progress_fn) return;
    va_list ap;
    va_start(ap, fmt);
    char *text = host_text(hi, 1024, fmt, ap);
    va_end(ap);
    hi->progress_fn(hi->user, text);
    free(text);
}

static int h_cancelled(const rd_host *h)
{
    host_impl *hi = impl_of(h);
    return hi->cancel_flag ? *hi->cancel_flag != 0 : 0;
}

static const char *h_config_string(const rd_host *h, const char *path)
{
    return cfg_string(impl_of(h)->config, path);
}

static int h_config_bool(const rd_host *h, const char *path, int fallback)
{
    return cfg_bool(impl_of(h)->config, path, fallback);
}

static double h_config_number(const rd_host *h, const char *path, double fallback)
{
    return cfg_number(impl_of(h)->config, path, fallback);
}

static char *h_url_join(const rd_host *h, const char *base, const char *path)
{
    (void)h;
    return http_url_join(base, path);
}

static char *h_url_escape(const rd_host *h, const char *segment)
{
    (void)h;
    return http_url_escape(segment);
}

static void h_free(const rd_host *h, void *ptr)
{
    (void)h;
    free(ptr);
}

rd_host *host_new(const cfg *config, http_client *http, const char *driver_name, host_log_fn log_fn,
                  host_progress_fn progress_fn, void *user, volatile sig_atomic_t *cancel_flag)
{
    host_impl *hi = calloc(1, sizeof *hi);
    if (!hi) return NULL;
    hi->config = config;
    hi->http = http;
    hi->name = strdup(driver_name ? driver_name : "");
    hi->log_fn = log_fn;
    hi->progress_fn = progress_fn;
    hi->user = user;
    hi->cancel_flag = cancel_flag;
    rd_host *h = &hi->pub;
    h->struct_size = (uint32_t)sizeof(rd_host);
    h->abi_version = RD_ABI_VERSION;
    h->http = h_http;
    h->http_free = h_http_free;
    h->log = h_log;
    h->progress = h_progress;
    h->cancelled = h_cancelled;
    h->config_string = h_config_string;
    h->config_bool = h_config_bool;
    h->config_number = h_config_number;
    h->url_join = h_url_join;
    h->url_escape = h_url_escape;
    h->free = h_free;
    h->driver_name = hi->name;
    h->host_data = hi;
    return h;
}

void host_free(rd_host *host)
{
    if (!host) return;
    host_impl *hi = impl_of(host);
    host_failure_reset(host);
    free(hi->name);
    free(hi);
}

void host_describe(cJSON *requests, const char *method, const char *url, const char *const *headers,
                   const char *body)
{
    if (!requests) return;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "method", method ? method : "");
    cJSON_AddStringToObject(r, "url", url ? url : "");
    if (headers && headers[0]) {
        cJSON *hs = cJSON_AddArrayToObject(r, "headers");
        for (size_t i = 0; headers[i]; i++) cJSON_AddItemToArray(hs, cJSON_CreateString(headers[i]));
    }
    if (body) cJSON_AddStringToObject(r, "body", body);
    cJSON_AddItemToArray(requests, r);
}

/* rd_call.describe: appends to the call's collector. */
static void call_describe(rd_call *call, const char *method, const char *url, const char *const *headers,
                          const char *body)
{
    host_call *hc = (host_call *)call; /* rd_call is the first member */
    host_describe(hc->requests, method, url, headers, body);
}

void host_call_init(host_call *hc, const rd_host *host, int collect)
{
    memset(hc, 0, sizeof *hc);
    hc->call.struct_size = (uint32_t)sizeof(rd_call);
    hc->call.host = host;
    hc->call.describe = call_describe;
    hc->call.host_data = hc;
    if (collect) hc->requests = cJSON_CreateArray();
}

void host_call_done(host_call *hc)
{
    cJSON_Delete(hc->requests);
    hc->requests = NULL;
}

void host_call_settle(host_call *hc, const cfg *config)
{
    char *msg = hc->call.message;
    size_t cap = sizeof hc->call.message;
    int cut = strlen(msg) + 1 >= cap;
    char *clean = cfg_redact_cut(config, msg, cut);
    if (!cut) {
        snprintf(msg, cap, "%s", clean);
        free(clean);
        return;
    }
    char marker[96];
    snprintf(marker, sizeof marker, " " CFG_CUT_PREFIX "driver message full at %zu bytes; the rest was cut]", cap - 1);
    /* room for the marker and for one more mask at the new end (cutting scrubbed text is safe) */
    size_t keep = strlen(clean);
    size_t room = cap - 1 - strlen(marker) - strlen("********");
    if (keep > room) keep = room;
    while (keep > 0 && ((unsigned char)clean[keep] & 0xC0) == 0x80) keep--;
    clean[keep] = '\0';
    char *tail = cfg_redact_cut(config, clean, 1);
    snprintf(msg, cap, "%s%s", tail, marker);
    free(tail);
    free(clean);
}
