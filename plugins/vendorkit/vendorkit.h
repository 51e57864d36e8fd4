/*
 * vendorkit: small header-only helpers shared by the five vendor plugins (braze, amplitude,
 * hubspot, salesforce, segment). Header only (no .c here, so plugins/CMakeLists.txt does not
 * build this folder as a plugin); every function is `static inline` so a plugin that does not
 * use one gets no warning. Needs only libc, cJSON and include/retirectl/driver.h.
 *
 * What is here:
 *   - vk_buf: a growable string (owner frees with vk_buf_free);
 *   - vk_dumps: cJSON -> text exactly as Python's json.dumps() writes it (", " and ": "
 *     separators, ensure_ascii), so request bodies match what the upstream scripts sent;
 *   - vk_pyrepr / vk_pybytes_repr: Python repr() of a JSON value / of a UTF-8 byte string,
 *     for the error messages upstream builds with str.format() over dicts and bytes;
 *   - upstream retry helpers: attempt counts from RETRY_*_MAX_ATTEMPTS environment variables,
 *     full-jitter exponential / constant waits (the `backoff` library's defaults) that stop
 *     early when the operator cancels;
 *   - response helpers: the HTTP reason phrase, a response header's value.
 */
#ifndef RETIRECTL_VENDORKIT_H
#define RETIRECTL_VENDORKIT_H

#include <ctype.h>
#include <errno.h>
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

/* ---- UTF-8 ------------------------------------------------------------------------ */

/* Decodes one UTF-8 code point at s (n bytes left); returns its length, or 0 if invalid. */
static inline size_t vk_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    if (n == 0) return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    unsigned c;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        c = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        c = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return len;
}

/* ---- Python json.dumps ------------------------------------------------------------ */

/* Appends s as a JSON string literal with ensure_ascii=True (Python's default). */
static inline void vk_dumps_string(vk_buf *b, const char *s)
{
    vk_buf_add(b, "\"");
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        unsigned cp = 0;
        size_t l = vk_utf8_decode(p, n, &cp);
        if (l == 0) { /* invalid byte: Python would not have it; emit U+FFFD */
            cp = 0xFFFD;
            l = 1;
        }
        switch (cp) {
        case '"': vk_buf_add(b, "\\\""); break;
        case '\\': vk_buf_add(b, "\\\\"); break;
        case '\n': vk_buf_add(b, "\\n"); break;
        case '\r': vk_buf_add(b, "\\r"); break;
        case '\t': vk_buf_add(b, "\\t"); break;
        case '\b': vk_buf_add(b, "\\b"); break;
        case '\f': vk_buf_add(b, "\\f"); break;
        default:
            if (cp < 0x20 || (cp >= 0x7F && cp < 0x10000)) {
                vk_buf_addf(b, "\\u%04x", cp);
            } else if (cp >= 0x10000) {
                unsigned v = cp - 0x10000;
                vk_buf_addf(b, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else {
                char c = (char)cp;
                vk_buf_addn(b, &c, 1);
            }
        }
        p += l;
        n -= l;
    }
    vk_buf_add(b, "\"");
}

/* Appends a number the way Python prints an int (or a float's repr when not integral). */
static inline void vk_number(vk_buf *b, double d)
{
    if (d > -1e17 && d < 1e17 && d == (double)(long long)d) { /* range first: casting inf is undefined */
        vk_buf_addf(b, "%lld", (long long)d);
    } else {
        vk_buf_addf(b, "%.17g", d);
    }
}

/* ---- Python repr ------------------------------------------------------------------ */

/* Appends Python's repr() of a str (text is UTF-8). */
static inline void vk_pyrepr_string(vk_buf *b, const char *s)
{
    char q = (strchr(s, '\'') && !strchr(s, '"')) ? '"' : '\'';
    vk_buf_addn(b, &q, 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        unsigned cp = 0;
        size_t l = vk_utf8_decode(p, n, &cp);
        if (l == 0) {
            vk_buf_addf(b, "\\udc%02x", *p);
            p++;
            n--;
            continue;
        }
        if (cp == (unsigned)q || cp == '\\') {
            vk_buf_addf(b, "\\%c", (char)cp);
        } else if (cp == '\n') {
            vk_buf_add(b, "\\n");
        } else if (cp == '\r') {
            vk_buf_add(b, "\\r");
        } else if (cp == '\t') {
            vk_buf_add(b, "\\t");
        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            vk_buf_addf(b, "\\x%02x", cp);
        } else {
            vk_buf_addn(b, (const char *)p, l);
        }
        p += l;
        n -= l;
    }
    vk_buf_addn(b, &q, 1);
}

/* How vk_render spells JSON values: json.dumps or Python repr. */
typedef struct vk_style {
    const char *null_text, *true_text, *false_text;
    void (*string)(vk_buf *b, const char *s);
} vk_style;

/* Appends v in style st: containers with ", " and ": " separators, leaves as st spells them. */
static inline void vk_render(vk_buf *b, const cJSON *v, const vk_style *st)
{
    if (!v || cJSON_IsNull(v)) {
        vk_buf_add(b, st->null_text);
    } else if (cJSON_IsTrue(v)) {
        vk_buf_add(b, st->true_text);
    } else if (cJSON_IsFalse(v)) {
        vk_buf_add(b, st->false_text);
    } else if (cJSON_IsNumber(v)) {
        vk_number(b, v->valuedouble);
    } else if (cJSON_IsString(v)) {
        st->string(b, v->valuestring);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        int is_object = cJSON_IsObject(v);
        vk_buf_add(b, is_object ? "{" : "[");
        const cJSON *c;
        int first = 1;
        cJSON_ArrayForEach(c, v) {
            if (!first) vk_buf_add(b, ", ");
            first = 0;
            if (is_object) {
                st->string(b, c->string ? c->string : "");
                vk_buf_add(b, ": ");
            }
            vk_render(b, c, st);
        }
        vk_buf_add(b, is_object ? "}" : "]");
    } else {
        vk_buf_add(b, st->null_text);
    }
}

/* Appends v serialised like Python json.dumps(v) (separators ", " and ": "). */
static inline void vk_dumps(vk_buf *b, const cJSON *v)
{
    static const vk_style json_style = {"null", "true", "false", vk_dumps_string};
    vk_render(b, v, &json_style);
}

/* Appends Python's repr() of the value json.loads() would give for v. */
static inline void vk_pyrepr(vk_buf *b, const cJSON *v)
{
    static const vk_style repr_style = {"None", "True", "False", vk_pyrepr_string};
    vk_render(b, v, &repr_style);
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
