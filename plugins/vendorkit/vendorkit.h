/*
 * vendorkit: small header-only helpers shared by the five vendor plugins (braze, amplitude,
 * hubspot, salesforce, segment). Header only (no .c here, so plugins/CMakeLists.txt does not
 * build this folder as a plugin); every function is `static inline` so a plugin that does not
 * use one gets no warning. Needs only libc, cJSON and include/retirectl/driver.h.
 *
 * What is here:
 *   - vk_buf: a growable string (owner frees with vk_buf_free); vk_escape: table-driven escaping;
 *   - config: settings copied as text (vk_config_dup, vk_config_or, vk_config_either), base URLs
 *     with a default and no trailing '/' (vk_config_url, vk_url_join), required settings with the
 *     error that names the key and what to set it to (vk_config_required);
 *   - instances: the one get_instance (vk_get_instance: allocation, and clean-up on failure)
 *     around each plugin's configure function, whose errors vk_error writes;
 *   - vk_dumps / vk_pyrepr: cJSON -> text exactly as Python's json.dumps() / repr() write it,
 *     through the host's json_dumps / py_repr (driver.h), so request bodies and error texts
 *     match what the upstream scripts sent; vk_pybytes_repr: repr() of a UTF-8 byte string;
 *   - upstream retry helpers: attempt counts from RETRY_*_MAX_ATTEMPTS environment variables,
 *     full-jitter exponential / constant waits (the `backoff` library's defaults) that stop
 *     early when the operator cancels;
 *   - learner fields with upstream's KeyError texts (vk_learner_field, vk_learner_user_id);
 *   - requests: a JSON POST with an Authorization header (vk_json_post) and its masked preview;
 *   - response helpers: the HTTP reason phrase, a response header's value.
 */
#ifndef RETIRECTL_VENDORKIT_H
#define RETIRECTL_VENDORKIT_H

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "retirectl/driver.h"

/* ---- growable string ---------------------------------------------------------------- */

typedef struct vk_buf {
    char *s;    /* NUL-terminated, owned; NULL until something is appended */
    size_t len;
    size_t cap;
    int oom;    /* set when an allocation failed (the text is then truncated) */
} vk_buf;

/* Appends n bytes. */
static inline void vk_buf_addn(vk_buf *b, const char *p, size_t n)
{
    if (b->oom) return;
    if (n > ((size_t)-1) / 4) {
        b->oom = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static inline void vk_buf_add(vk_buf *b, const char *s) { vk_buf_addn(b, s, strlen(s)); }

static inline void vk_buf_addf(vk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void vk_buf_addf(vk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = NULL;
    int n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    vk_buf_addn(b, p, (size_t)n);
    free(p);
}

/* Returns the text ("" when nothing was appended); stays owned by b. */
static inline const char *vk_buf_str(const vk_buf *b) { return b->s ? b->s : ""; }

static inline void vk_buf_free(vk_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* A character and the text that stands for it (a table for vk_escape ends with {0, NULL}). */
typedef struct vk_subst {
    char c;
    const char *with;
} vk_subst;

/* Appends s (NULL: nothing) with each character that table lists replaced by its text. */
static inline void vk_escape(vk_buf *b, const char *s, const vk_subst *table)
{
    for (; s && *s; s++) {
        const vk_subst *t = table;
        while (t->with && t->c != *s) t++;
        if (t->with) {
            vk_buf_add(b, t->with);
        } else {
            vk_buf_addn(b, s, 1);
        }
    }
}

/* ---- Python json.dumps and repr, by the host ------------------------------------------ */

/* The host whose services (json_dumps, py_repr) the helpers below use. They are pure functions
 * of the host ABI, so any host of the process serves; each plugin's get_instance calls
 * vk_use_host(host) once. (A static in this header: one per plugin .so.) */
static const rd_host *vk_host_;
static inline void vk_use_host(const rd_host *host) { vk_host_ = host; }

/* Appends a malloc'd text from the host and frees it (or a marker when there is no host). */
static inline void vk_buf_take_host_text(vk_buf *b, char *text)
{
    if (!text) {
        vk_buf_add(b, "<no host: call vk_use_host(host) in get_instance>");
        return;
    }
    vk_buf_add(b, text);
    vk_host_->free(vk_host_, text);
}

/* Appends v serialised like Python json.dumps(v) (separators ", " and ": "). */
static inline void vk_dumps(vk_buf *b, const cJSON *v)
{
    vk_buf_take_host_text(b, vk_host_ ? vk_host_->json_dumps(vk_host_, v, 0) : NULL);
}

/* Appends Python's repr() of the value json.loads() would give for v. */
static inline void vk_pyrepr(vk_buf *b, const cJSON *v)
{
    vk_buf_take_host_text(b, vk_host_ ? vk_host_->py_repr(vk_host_, v) : NULL);
}

/* Appends Python's repr() of s.encode('utf-8') (a bytes object: b'...'). */
static inline void vk_pybytes_repr(vk_buf *b, const char *s)
{
    char q = (strchr(s, '\'') && !strchr(s, '"')) ? '"' : '\'';
    vk_buf_add(b, "b");
    vk_buf_addn(b, &q, 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        if (c == (unsigned)q || c == '\\') {
            vk_buf_addf(b, "\\%c", (char)c);
        } else if (c == '\n') {
            vk_buf_add(b, "\\n");
        } else if (c == '\r') {
            vk_buf_add(b, "\\r");
        } else if (c == '\t') {
            vk_buf_add(b, "\\t");
        } else if (c < 0x20 || c >= 0x7F) {
            vk_buf_addf(b, "\\x%02x", c);
        } else {
            char ch = (char)c;
            vk_buf_addn(b, &ch, 1);
        }
    }
    vk_buf_addn(b, &q, 1);
}

/* ---- learner fields --------------------------------------------------------------- */

/* learner["user"]["id"], or NULL. */
static inline const cJSON *vk_user_id(const cJSON *learner)
{
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(learner, "user");
    return cJSON_IsObject(user) ? cJSON_GetObjectItemCaseSensitive(user, "id") : NULL;
}

/* learner[key], or NULL with upstream's KeyError text ('key') in call. */
static inline const cJSON *vk_learner_field(const cJSON *learner, const char *key, rd_call *call)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(learner, key);
    if (!v) rd_call_message(call, "'%s'", key);
    return v;
}

/* learner["user"]["id"], or NULL with upstream's KeyError text ('user' or 'id') in call. */
static inline const cJSON *vk_learner_user_id(const cJSON *learner, rd_call *call)
{
    const cJSON *uid = vk_user_id(learner);
    if (!uid) rd_call_message(call, "'%s'", cJSON_GetObjectItemCaseSensitive(learner, "user") ? "id" : "user");
    return uid;
}

/* Appends str(v) as Python would print it (a string as itself, a number as an int, null as None). */
static inline void vk_pystr(vk_buf *b, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        vk_buf_add(b, v->valuestring);
    } else {
        vk_pyrepr(b, v);
    }
}

/* ---- config ----------------------------------------------------------------------- */

/* malloc'd copy of the string at a dotted config path, or NULL when absent / not a string.
 * A number is converted to text (YAML may type `braze_instance: 01` oddly). */
static inline char *vk_config_dup(const rd_host *host, const char *path)
{
    const char *s = host->config_string(host, path);
    if (s) return strdup(s);
    double d = host->config_number(host, path, -1e300);
    if (d != -1e300) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.15g", d);
        return strdup(tmp);
    }
    return NULL;
}

/* Non-zero when s is set and not empty (Python truthiness of a config string). */
static inline int vk_truthy(const char *s) { return s && *s; }

/* malloc'd copy of url without trailing slashes. */
static inline char *vk_strip_slash(const char *url)
{
    char *s = strdup(url ? url : "");
    if (!s) return NULL;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/') s[--n] = '\0';
    return s;
}

/* malloc'd first of the settings key1, key2 (may be NULL) that is set and not empty, or NULL. */
static inline char *vk_config_either(const rd_host *host, const char *key1, const char *key2)
{
    char *v = vk_config_dup(host, key1);
    if (!vk_truthy(v) && key2) {
        free(v);
        v = vk_config_dup(host, key2);
    }
    if (vk_truthy(v)) return v;
    free(v);
    return NULL;
}

/* malloc'd setting `key` when set and not empty, else a copy of def (NULL when def is NULL). */
static inline char *vk_config_or(const rd_host *host, const char *key, const char *def)
{
    char *v = vk_config_either(host, key, NULL);
    return v ? v : def ? strdup(def) : NULL;
}

/* vk_config_or for a base URL: the setting or def, without trailing slashes. */
static inline char *vk_config_url(const rd_host *host, const char *key, const char *def)
{
    char *v = vk_config_or(host, key, def);
    char *url = v ? vk_strip_slash(v) : NULL;
    free(v);
    return url;
}

/* malloc'd setting `key` (not empty), or NULL with "NAME: KEY is not set in the config; HOW" in err. */
static inline char *vk_config_required(const rd_host *host, const char *name, const char *key, const char *how,
                                       char *err, size_t err_len)
{
    char *v = vk_config_either(host, key, NULL);
    if (!v) snprintf(err, err_len, "%s: %s is not set in the config; %s", name, key, how);
    return v;
}

/* ---- instances ---------------------------------------------------------------------- */

/* Writes the reason a get_instance fails into err; returns -1 (for a configure function). */
static inline int vk_error(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int vk_error(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Reads a plugin's settings into a zeroed instance: 0, or -1 with the reason in err. */
typedef int (*vk_configure_fn)(void *inst, const rd_host *host, char *err, size_t err_len);

/* A vendor get_instance: vk_use_host, calloc ("NAME: out of memory"), configure; destroyed if it fails. */
static inline void *vk_get_instance(const rd_host *host, size_t size, const char *name, vk_configure_fn configure,
                                    void (*destroy)(void *), char *err, size_t err_len)
{
    vk_use_host(host); /* vk_dumps / vk_pyrepr use its json_dumps / py_repr */
    void *inst = calloc(1, size);
    if (!inst) {
        vk_error(err, err_len, "%s: out of memory", name);
        return NULL;
    }
    if (configure(inst, host, err, err_len) != 0) {
        destroy(inst);
        return NULL;
    }
    return inst;
}

/* malloc'd formatted text, or NULL when out of memory. */
static inline char *vk_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *vk_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

/* malloc'd base + path (e.g. "/users/delete"); frees base; NULL when base is NULL or out of memory. */
static inline char *vk_url_join(char *base, const char *path)
{
    char *url = base ? vk_strf("%s%s", base, path) : NULL;
    free(base);
    return url;
}

/* ---- retries ---------------------------------------------------------------------- */

/* int(os.environ.get(name, def)) with a floor of 1 (a non-number keeps the default). */
static inline int vk_env_attempts(const char *name, int def)
{
    const char *s = getenv(name);
    if (!s || !*s) return def;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || v < 1 || v > 1000) return def;
    return (int)v;
}

/* Uniform random in [0, 1). */
static inline double vk_rand01(void)
{
    static unsigned seed;
    if (seed == 0) seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^ 0x9e3779b9u;
    return (double)rand_r(&seed) / ((double)RAND_MAX + 1.0);
}

/* Sleeps `seconds`, waking every 100 ms to check cancellation. Returns -1 if cancelled. */
static inline int vk_sleep(const rd_host *host, double seconds)
{
    while (seconds > 0) {
        if (host->cancelled(host)) return -1;
        double step = seconds < 0.1 ? seconds : 0.1;
        struct timespec ts = {(time_t)step, (long)((step - (double)(time_t)step) * 1e9)};
        nanosleep(&ts, NULL);
        seconds -= step;
    }
    return host->cancelled(host) ? -1 : 0;
}

/* The `backoff.expo` wait before try n+1 after n failed tries (n >= 1): full jitter over
 * base * 2^(n-1) seconds. base is 1 upstream; config `vendor_retry_base_seconds` scales it. */
static inline double vk_expo_wait(double base, int tries_done)
{
    double nominal = base;
    for (int i = 1; i < tries_done; i++) nominal *= 2;
    return vk_rand01() * nominal;
}

/* The retry base in seconds: config vendor_retry_base_seconds (default 1, as upstream). */
static inline double vk_retry_base(const rd_host *host)
{
    double b = host->config_number(host, "vendor_retry_base_seconds", 1.0);
    return b < 0 ? 0 : b;
}

/* ---- responses -------------------------------------------------------------------- */

/* Copies the reason phrase of the last status line in resp->headers into buf, or "None"
 * (what Python prints for a missing reason) when there is none. Returns buf. */
static inline const char *vk_reason(const rd_http_response *resp, char *buf, size_t len)
{
    snprintf(buf, len, "None");
    const char *h = resp->headers;
    const char *last = NULL;
    while (h && *h) {
        if (strncmp(h, "HTTP/", 5) == 0) last = h;
        const char *nl = strchr(h, '\n');
        if (!nl) break;
        h = nl + 1;
    }
    if (!last) return buf;
    const char *sp = strchr(last, ' '); /* after version */
    if (!sp) return buf;
    sp = strchr(sp + 1, ' '); /* after status code */
    if (!sp) return buf;
    sp++;
    size_t n = strcspn(sp, "\r\n");
    if (n == 0) return buf;
    if (n >= len) n = len - 1;
    memcpy(buf, sp, n);
    buf[n] = '\0';
    return buf;
}

/* Copies the value of header `name` (case-insensitive) of the last response block into buf;
 * returns buf, or NULL when absent. */
static inline const char *vk_header(const rd_http_response *resp, const char *name, char *buf, size_t len)
{
    const char *h = resp->headers;
    const char *found = NULL;
    size_t nl_len = strlen(name);
    while (h && *h) {
        if (strncmp(h, "HTTP/", 5) == 0) found = NULL; /* a new block starts */
        if (strncasecmp(h, name, nl_len) == 0 && h[nl_len] == ':') found = h + nl_len + 1;
        const char *nl = strchr(h, '\n');
        if (!nl) break;
        h = nl + 1;
    }
    if (!found) return NULL;
    while (*found == ' ' || *found == '\t') found++;
    size_t n = strcspn(found, "\r\n");
    while (n > 0 && (found[n - 1] == ' ' || found[n - 1] == '\t')) n--;
    if (n >= len) n = len - 1;
    memcpy(buf, found, n);
    buf[n] = '\0';
    return buf;
}

/* The response body as a NUL-terminated string ("" when none). */
static inline const char *vk_body(const rd_http_response *resp) { return resp->body ? resp->body : ""; }

/* ---- JSON POST requests -------------------------------------------------------------- */

/* A JSON POST with "Authorization: <scheme> <credential>", no host retries; keep it while req is used. */
typedef struct vk_json_post {
    char auth[2048];
    const char *headers[3];
    rd_http_request req;
} vk_json_post;

/* Sets p up to POST body to url; secrets (NULL-terminated, or NULL) are scrubbed from logs. */
static inline void vk_json_post_init(vk_json_post *p, const char *url, const char *scheme, const char *credential,
                                     const vk_buf *body, const char *const *secrets)
{
    memset(p, 0, sizeof *p);
    snprintf(p->auth, sizeof p->auth, "Authorization: %s %s", scheme, credential);
    p->headers[0] = p->auth;
    p->headers[1] = "Content-Type: application/json";
    p->req.struct_size = RD_SIZEOF(rd_http_request);
    p->req.method = "POST";
    p->req.url = url;
    p->req.headers = p->headers;
    p->req.body = vk_buf_str(body);
    p->req.body_len = body->len;
    p->req.auth = RD_AUTH_NONE;
    p->req.retry = RD_RETRY_NONE;
    p->req.secret_values = secrets;
}

/* Describes (in a preview) the JSON POST of body to url, the credential masked. */
static inline void vk_describe_json_post(rd_call *call, const char *url, const char *scheme, const vk_buf *body)
{
    char auth[64];
    snprintf(auth, sizeof auth, "Authorization: %s ********", scheme);
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    rd_call_describe(call, "POST", url, headers, vk_buf_str(body));
}

/* ---- URL quoting -------------------------------------------------------------------- */

/* ASCII letter or digit (independent of the locale). */
static inline int vk_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Appends s percent-encoded like Python requests re-quotes a URL: unreserved characters,
 * reserved ones and '%' stay as they are, everything else (space, non-ASCII, '"', '<', ...)
 * becomes %XX. Used where upstream formats a raw value into the URL path. */
static inline void vk_requote(vk_buf *b, const char *s)
{
    static const char keep[] = "-._~!#$%&'()*+,/:;=?@[]";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (vk_alnum(*p) || (*p < 0x80 && strchr(keep, *p))) {
            char c = (char)*p;
            vk_buf_addn(b, &c, 1);
        } else {
            vk_buf_addf(b, "%%%02X", *p);
        }
    }
}

/* Appends s encoded like Python's urllib.parse.quote_plus (form / query values): letters,
 * digits and "_.-~" stay, space becomes '+', everything else %XX. */
static inline void vk_quote_plus(vk_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (vk_alnum(*p) || (*p && strchr("_.-~", *p))) {
            char c = (char)*p;
            vk_buf_addn(b, &c, 1);
        } else if (*p == ' ') {
            vk_buf_add(b, "+");
        } else {
            vk_buf_addf(b, "%%%02X", *p);
        }
    }
}

/* Appends s encoded per RFC 3986 for AWS SigV4 (unreserved stay, all else %XX upper-case). */
static inline void vk_quote_aws(vk_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (vk_alnum(*p) || (*p && strchr("-_.~", *p))) {
            char c = (char)*p;
            vk_buf_addn(b, &c, 1);
        } else {
            vk_buf_addf(b, "%%%02X", *p);
        }
    }
}

#endif /* RETIRECTL_VENDORKIT_H */
