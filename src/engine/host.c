/* host: rd_host services over the engine's http client and config. See host.h. */
#include "engine/host.h"
#include "engine/hostsvc.h"
#include "drivers/pyrepr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

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
    cJSON *scoped_root; /* driver_config_scope: the part of the config this driver sees, or NULL */
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
    f->method = xstrdup(req->method ? req->method : "?");
    f->url = xstrdup(req->url ? req->url : "");
    f->status = resp->status;
    if (resp->body && resp->body_len) {
        f->body_len = resp->body_len < HOST_FAILURE_BODY_MAX ? resp->body_len : HOST_FAILURE_BODY_MAX;
        f->body = xmalloc(f->body_len + 1);
        if (f->body) {
            memcpy(f->body, resp->body, f->body_len);
            f->body[f->body_len] = '\0';
        } else {
            f->body_len = 0;
        }
    }
    if (resp->error[0]) f->error = xstrdup(resp->error);
    f->attempts = resp->attempts;
}

/* The prefix of an ABI-2.0 rd_http_request / rd_http_response: the host needs at least this. */
#define REQUEST_V2_SIZE (offsetof(rd_http_request, timeout_seconds) + sizeof(long))
#define RESPONSE_V2_SIZE (offsetof(rd_http_response, error) + 512)

static int h_http(const rd_host *h, const rd_http_request *req, rd_http_response *resp)
{
    if (resp->struct_size < RESPONSE_V2_SIZE || req->struct_size < REQUEST_V2_SIZE) {
        /* a plugin of this ABI has the whole 2.0 struct: the 2.0 prefix may be written */
        uint32_t given = resp->struct_size < RESPONSE_V2_SIZE ? resp->struct_size : req->struct_size;
        const char *which = resp->struct_size < RESPONSE_V2_SIZE ? "rd_http_response" : "rd_http_request";
        memset(resp, 0, RESPONSE_V2_SIZE);
        resp->struct_size = (uint32_t)RESPONSE_V2_SIZE;
        snprintf(resp->error, sizeof resp->error,
                 "driver %s sent no request: its %s has struct_size %u; start it from %s_new() (driver.h)",
                 h->driver_name, which, (unsigned)given, which);
        return -1;
    }
    uint32_t size = resp->struct_size;
    int rc = http_send(impl_of(h)->http, req, resp);
    resp->struct_size = size;
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

static void h_log(const rd_host *h, rd_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
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

static void h_progress(const rd_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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

/* Non-zero when the driver may see the config key at path (driver_config_scope). */
static int visible(const host_impl *hi, const char *path)
{
    return cfg_scope_allows(hi->config, hi->name, path);
}

static const char *h_config_string(const rd_host *h, const char *path)
{
    const host_impl *hi = impl_of(h);
    return visible(hi, path) ? cfg_string(hi->config, path) : NULL;
}

static int h_config_bool(const rd_host *h, const char *path, int fallback)
{
    const host_impl *hi = impl_of(h);
    return visible(hi, path) ? cfg_bool(hi->config, path, fallback) : fallback;
}

static double h_config_number(const rd_host *h, const char *path, double fallback)
{
    const host_impl *hi = impl_of(h);
    return visible(hi, path) ? cfg_number(hi->config, path, fallback) : fallback;
}

const cJSON *host_config_root(const rd_host *host)
{
    const host_impl *hi = impl_of(host);
    return hi->scoped_root ? hi->scoped_root : hi->config->root;
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

static char *h_url_append(const rd_host *h, const char *base, const char *path)
{
    (void)h;
    return hsvc_url_append(base, path);
}

static char *h_json_dumps(const rd_host *h, const cJSON *value, unsigned flags)
{
    (void)h;
    return pyrepr_dumps(value, (flags & RD_JSON_SORT_KEYS) != 0);
}

static char *h_py_repr(const rd_host *h, const cJSON *value)
{
    (void)h;
    return pyrepr_value(value);
}

static char *h_base64(const rd_host *h, const void *data, size_t len)
{
    (void)h;
    return hsvc_base64(data, len);
}

static void h_sha256(const rd_host *h, const void *data, size_t len, unsigned char out[32])
{
    (void)h;
    hsvc_sha256(data, len, out);
}

static void h_hmac_sha256(const rd_host *h, const void *key, size_t key_len, const void *data, size_t len,
                          unsigned char out[32])
{
    (void)h;
    hsvc_hmac_sha256(key, key_len, data, len, out);
}

static char *h_aws_sigv4(const rd_host *h, const rd_aws_sigv4 *req, char *err, size_t err_len)
{
    (void)h;
    return hsvc_aws_sigv4(req, err, err_len);
}

void host_set_services(rd_host *h)
{
    h->struct_size = (uint32_t)sizeof(rd_host);
    h->abi_version = RD_ABI_VERSION;
    h->abi_minor = RD_ABI_MINOR;
    h->free = h_free;
    h->url_append = h_url_append;
    h->json_dumps = h_json_dumps;
    h->py_repr = h_py_repr;
    h->base64 = h_base64;
    h->sha256 = h_sha256;
    h->hmac_sha256 = h_hmac_sha256;
    h->aws_sigv4 = h_aws_sigv4;
}

rd_host *host_new(const cfg *config, http_client *http, const char *driver_name, host_log_fn log_fn,
                  host_progress_fn progress_fn, void *user, volatile sig_atomic_t *cancel_flag)
{
    host_impl *hi = xcalloc(1, sizeof *hi);
    if (!hi) return NULL;
    hi->config = config;
    hi->http = http;
    hi->name = xstrdup(driver_name ? driver_name : "");
    hi->log_fn = log_fn;
    hi->progress_fn = progress_fn;
    hi->user = user;
    hi->cancel_flag = cancel_flag;
    hi->scoped_root = cfg_scoped_root(config, hi->name);
    rd_host *h = &hi->pub;
    host_set_services(h);
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
    h->driver_name = hi->name;
    h->host_data = hi;
    return h;
}

void *host_user(const rd_host *host)
{
    return impl_of(host)->user;
}

void host_free(rd_host *host)
{
    if (!host) return;
    host_impl *hi = impl_of(host);
    host_failure_reset(host);
    cJSON_Delete(hi->scoped_root);
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

/* rd_call.vmessage: formats into the call's own buffer (any length). */
__attribute__((format(printf, 2, 0))) static void call_vmessage(rd_call *call, const char *fmt, va_list ap)
{
    host_call *hc = (host_call *)call;
    strbuf sb = STRBUF_INIT;
    sb_vaddf(&sb, fmt, ap);
    sb_free(&hc->message);
    hc->message = sb;
    call->message = sb_str(&hc->message);
}

void host_call_init(host_call *hc, const rd_host *host, int collect)
{
    memset(hc, 0, sizeof *hc);
    hc->call.struct_size = (uint32_t)sizeof(rd_call);
    hc->call.host = host;
    hc->call.message = "";
    hc->call.vmessage = call_vmessage;
    hc->call.describe = call_describe;
    hc->call.host_data = hc;
    if (collect) hc->requests = cJSON_CreateArray();
}

void host_call_done(host_call *hc)
{
    cJSON_Delete(hc->requests);
    hc->requests = NULL;
    sb_free(&hc->message);
    hc->call.message = "";
}

void host_call_settle(host_call *hc, const cfg *config)
{
    if (!hc->message.len) return; /* no message set: call.message is the static "" */
    char *clean = cfg_redact(config, sb_str(&hc->message));
    sb_reset(&hc->message);
    sb_add(&hc->message, clean);
    free(clean);
    hc->call.message = sb_str(&hc->message);
}
