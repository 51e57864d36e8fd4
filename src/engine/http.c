/* http: the engine's libcurl client; see http.h.
 *
 * One CURL easy handle per client, reused (curl_easy_reset keeps the connection cache), so
 * consecutive requests to the LMS ride one keep-alive connection. A mutex serialises use of
 * the handle and of the token.
 *
 * Retry policy for RD_RETRY_UPSTREAM (docs/lms-api.md §7.3, upstream's two nested backoff layers):
 *   - a connection failure (refused, reset, DNS, dropped without an answer, connect timeout) or
 *     a 5xx other than 504: wait a full-jitter exponential delay (uniform in [0, 1], [0, 2],
 *     [0, 4] ... s) and try again, as long as the time since the first attempt is below
 *     http.max_retry_seconds; the wait is capped by the remaining budget;
 *   - 504: tried once more after a uniform wait in [0, http.gateway_timeout_wait_seconds];
 *     a second consecutive 504 gives up;
 *   - 4xx: never retried (a 401 on an LMS-authenticated request refreshes the token once and
 *     repeats the request once, whatever the policy);
 *   - a Retry-After header (seconds or HTTP date) on a retried answer is used as the wait,
 *     capped by the remaining budget;
 *   - deliberate differences from upstream: a timeout after the connection was made (upstream
 *     has no timeout at all; requests' ReadTimeout is not retried either) and TLS certificate
 *     failures (deterministic) are not retried.
 * Every wait is multiplied by the environment variable RETIRECTL_TEST_BACKOFF_SCALE when it is
 * set to a non-negative number (tests use 0.01 so that a 1 s backoff takes 10 ms); the budgets
 * themselves are not scaled. Waits are cut short when the cancel flag becomes non-zero. */
#include "engine/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "common/clock.h"
#include "common/http_reason.h"
#include "common/urlencode.h"
#include "engine/urlrule.h"
#include "common/xalloc.h"

#define TOKEN_PATH "/oauth2/access_token"
#define TOKEN_USER_AGENT "scripts.user_retirement"
#define TOKEN_CONNECT_MS 3050L /* requests' (3.05, 5) of edx-rest-api-client */
#define TOKEN_READ_S 5L

struct http_client {
    const cfg *config;
    CURL *curl;
    pthread_mutex_t lock;
    char *lms_base;
    char *client_id;
    char *client_secret;
    char *token;
    double token_expiry; /* monotonic seconds; 0 = does not expire */
    int token_fetches;
    http_log_fn log;
    void *log_user;
    volatile sig_atomic_t *cancel;
    double backoff_scale;
    unsigned long long rng;
    pid_t owner_pid; /* process that created curl; a forked child gets a fresh handle */
    int connections;  /* new connections opened (CURLINFO_NUM_CONNECTS summed) */
};

/* ------------------------------------------------------------------ helpers */

static void set_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static double rand01(http_client *h)
{
    /* xorshift64* */
    unsigned long long x = h->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    h->rng = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Replaces every secret in text: the one scrubber (cfg_redact), which knows the config's secrets,
 * the live token and every request's secret_values (learned by http_send). */
static char *scrub(const http_client *h, const rd_http_request *req, const char *text)
{
    (void)req;
    return cfg_redact(h->config, text ? text : "");
}

static void logf_(http_client *h, const rd_http_request *req, rd_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void logf_(http_client *h, const rd_http_request *req, rd_log_level level, const char *fmt, ...)
{
    if (!h->log) return;
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    char *clean = scrub(h, req, sb_str(&sb));
    h->log(h->log_user, level, clean);
    free(clean);
    sb_free(&sb);
}

/* Writes a scrubbed sentence into a fixed buffer. */
static void scrub_into(const http_client *h, const rd_http_request *req, char *dst, size_t n, const char *text)
{
    char *clean = scrub(h, req, text);
    snprintf(dst, n, "%s", clean);
    free(clean);
}

/* One path segment percent-encoded (unreserved characters and those in keep stay); "." and
 * ".." are encoded whole, since URL resolution would remove them as dot-segments. */
static char *escape_segment(const char *segment, const char *keep)
{
    strbuf sb = STRBUF_INIT;
    const char *s = segment ? segment : "";
    if (*s && strspn(s, ".") == strlen(s))
        for (const char *p = s; *p; p++) sb_add(&sb, "%2E");
    else
        url_encode_add(&sb, s, strlen(s), keep, 0);
    return sb_take(&sb);
}

char *http_url_escape(const char *segment) { return escape_segment(segment, ""); }

char *http_url_escape_pchar(const char *segment) { return escape_segment(segment, "!$&'()*+,;=:@"); }

/* Splits "scheme://netloc/path?query#frag" into a malloc'd "scheme://netloc" prefix and the path
 * (query and fragment dropped). Returns 0, or -1 when there is no "scheme://". */
static int split_url(const char *url, char **prefix, char **path)
{
    const char *sep = strstr(url, "://");
    if (!sep) return -1;
    for (const char *p = url; p < sep; p++)
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.') return -1;
    const char *netloc = sep + 3;
    size_t nl = strcspn(netloc, "/?#");
    *prefix = xstrndup(url, (size_t)(netloc + nl - url));
    const char *p = netloc + nl;
    size_t pl = strcspn(p, "?#");
    *path = xstrndup(p, pl);
    return 0;
}

/* Python's urljoin(base, ref) for a ref that is a relative or absolute path (no scheme,
 * no query): merges, drops empty inner segments and resolves "." and "..". */
static char *py_urljoin_path(const char *base, const char *ref)
{
    char *prefix = NULL, *bpath = NULL;
    if (split_url(base, &prefix, &bpath)) { /* not a URL: plain concatenation */
        strbuf sb = STRBUF_INIT;
        sb_add(&sb, base);
        sb_add(&sb, ref);
        return sb_take(&sb);
    }
    /* segments as Python's str.split('/') */
    size_t cap = 16, n = 0;
    char **seg = xmalloc(cap * sizeof *seg);
#define PUSH(s_, l_)                                                     \
    do {                                                                 \
        if (n == cap) {                                                  \
            cap *= 2;                                                    \
            seg = xrealloc(seg, cap * sizeof *seg);                  \
        }                                                                \
        seg[n] = xstrndup((s_), (l_));                               \
        n++;                                                             \
    } while (0)
    int absolute = ref[0] == '/';
    if (!absolute) {
        const char *p = bpath;
        for (;;) {
            const char *q = strchr(p, '/');
            if (!q) {
                PUSH(p, strlen(p));
                break;
            }
            PUSH(p, (size_t)(q - p));
            p = q + 1;
        }
        if (n && seg[n - 1][0] != '\0') { /* drop the last base segment */
            free(seg[--n]);
        }
    }
    size_t first_ref = n;
    {
        const char *p = ref;
        for (;;) {
            const char *q = strchr(p, '/');
            if (!q) {
                PUSH(p, strlen(p));
                break;
            }
            PUSH(p, (size_t)(q - p));
            p = q + 1;
        }
    }
#undef PUSH
    (void)first_ref;
    if (!absolute && n > 2) { /* segments[1:-1] = filter(None, segments[1:-1]) */
        size_t w = 1;
        for (size_t r = 1; r < n - 1; r++) {
            if (seg[r][0]) seg[w++] = seg[r];
            else free(seg[r]);
        }
        seg[w++] = seg[n - 1];
        n = w;
    }
    char **out = xcalloc(n + 1, sizeof *out);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(seg[i], "..")) {
            if (m) m--;
        } else if (!strcmp(seg[i], ".")) {
            continue;
        } else {
            out[m++] = seg[i];
        }
    }
    int add_empty = n && (!strcmp(seg[n - 1], ".") || !strcmp(seg[n - 1], ".."));
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, prefix);
    strbuf path = STRBUF_INIT;
    for (size_t i = 0; i < m; i++) {
        if (i) sb_addc(&path, '/');
        sb_add(&path, out[i]);
    }
    if (add_empty) sb_addc(&path, '/');
    if (!path.len) sb_add(&sb, "/");
    else {
        if (sb_str(&path)[0] != '/') sb_addc(&sb, '/'); /* netloc present: path must be absolute */
        sb_add(&sb, sb_str(&path));
    }
    sb_free(&path);
    for (size_t i = 0; i < n; i++) free(seg[i]);
    free(seg);
    free(out);
    free(prefix);
    free(bpath);
    return sb_take(&sb);
}

char *http_url_join(const char *base, const char *path)
{
    const char *b = base ? base : "";
    const char *p = path ? path : "";
    while (*p == '/') p++;
    size_t pl = strlen(p);
    while (pl && p[pl - 1] == '/') pl--;
    strbuf fullbase = STRBUF_INIT, ref = STRBUF_INIT;
    sb_add(&fullbase, b);
    sb_addc(&fullbase, '/');
    sb_addn(&ref, p, pl);
    sb_addc(&ref, '/');
    char *r = py_urljoin_path(sb_str(&fullbase), sb_str(&ref));
    sb_free(&fullbase);
    sb_free(&ref);
    return r;
}

/* "scheme://host[:port]" + "/oauth2/access_token": the absolute path drops any sub-path. */
static char *token_url(const char *lms)
{
    char *prefix = NULL, *path = NULL;
    strbuf sb = STRBUF_INIT;
    if (split_url(lms, &prefix, &path) == 0) {
        sb_add(&sb, prefix);
        free(prefix);
        free(path);
    } else {
        sb_add(&sb, lms);
    }
    sb_add(&sb, TOKEN_PATH);
    return sb_take(&sb);
}

const char *http_proxy_for(const cfg *config, const char *url, const char **from)
{
    if (config->http.proxy) {
        *from = "http.proxy";
        return config->http.proxy;
    }
    int https = !strncasecmp(url, "https://", 8);
    static const char *const http_vars[] = {"http_proxy", "all_proxy", "ALL_PROXY", NULL};
    static const char *const https_vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL};
    for (const char *const *v = https ? https_vars : http_vars; *v; v++) {
        const char *p = getenv(*v);
        if (p && *p) {
            *from = *v;
            return p;
        }
    }
    *from = "";
    return "";
}

/* ------------------------------------------------------------------ client */

/* Text of a config value that upstream would str(): a string, or an integer (`client_id: 12345`). */
static char *scalar_text(const cfg *c, const char *path)
{
    const cJSON *n = cfg_get(c, path);
    char num[64];
    if (cJSON_IsString(n)) return xstrdup(n->valuestring);
    if (cJSON_IsNumber(n) && n->valuedouble == floor(n->valuedouble) && fabs(n->valuedouble) < 1e15) {
        snprintf(num, sizeof num, "%.0f", n->valuedouble);
        return xstrdup(num);
    }
    return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* RETIRECTL_TOKEN_FD=N: a pipe from the parent (the console, docs/console.md) holding
 * "TOKEN\tSECONDS_LEFT\n", the LMS token it already holds. Read once per process (the fd is
 * then closed and the variable unset); every client of the process and of its forked workers
 * starts with that token, so a console's jobs do not fetch one while the console's is valid. */
static char *inherited_token;
static double inherited_expiry; /* monotonic seconds; 0: no expiry */
static pthread_once_t inherit_once = PTHREAD_ONCE_INIT;

static void read_inherited_token(void)
{
    const char *v = getenv("RETIRECTL_TOKEN_FD");
    if (!v || !*v) return;
    int fd = atoi(v);
    unsetenv("RETIRECTL_TOKEN_FD");
    if (fd < 3) return;
    char buf[8192];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n == sizeof buf - 1) break;
    }
    close(fd);
    buf[n] = '\0';
    char *tab = strchr(buf, '\t');
    if (tab && tab > buf) {
        *tab = '\0';
        double left = strtod(tab + 1, NULL);
        if (left < 0 || left > 30) { /* a token about to expire is not worth taking */
            inherited_token = xstrdup(buf);
            inherited_expiry = left < 0 ? 0 : clk_mono_s() + left;
        }
    }
    explicit_bzero(buf, sizeof buf);
}

/* Starts h with the token inherited from the parent, if any and still valid. */
static void inherit_token(http_client *h)
{
    pthread_once(&inherit_once, read_inherited_token);
    if (!inherited_token || (inherited_expiry && clk_mono_s() >= inherited_expiry)) return;
    h->token = xstrdup(inherited_token);
    h->token_expiry = inherited_expiry;
}

http_client *http_client_new(const cfg *config, char *err, size_t err_len)
{
    if (!config) {
        set_err(err, err_len, "no configuration loaded.");
        return NULL;
    }
    if (config->http.ca_bundle && access(config->http.ca_bundle, R_OK) != 0) {
        set_err(err, err_len, "%s: http.ca_bundle %s cannot be read (%s); fix the path (relative paths are taken "
                "from the config file's folder).", config->path, config->http.ca_bundle, strerror(errno));
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    http_client *h = xcalloc(1, sizeof *h);
    h->config = config;
    const char *lms = cfg_string(config, "base_urls.lms");
    h->lms_base = xstrdup_or_null(lms);
    h->client_id = scalar_text(config, "client_id");
    h->client_secret = scalar_text(config, "client_secret");
    cfg_secret_learn(h->client_secret); /* also when it is a number (not a string secret) */
    h->curl = curl_easy_init();
    if (!h->curl) {
        set_err(err, err_len, "cannot initialise libcurl (out of memory?).");
        http_client_free(h);
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    h->owner_pid = getpid();
    h->backoff_scale = 1.0;
    const char *scale = getenv("RETIRECTL_TEST_BACKOFF_SCALE");
    if (scale && *scale) {
        char *end = NULL;
        double v = strtod(scale, &end);
        if (end && !*end && v >= 0 && isfinite(v)) h->backoff_scale = v;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->rng = ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec ^
             ((unsigned long long)getpid() << 40) ^ (unsigned long long)(uintptr_t)h;
    if (!h->rng) h->rng = 88172645463325252ULL;
    inherit_token(h);
    return h;
}

void http_client_free(http_client *h)
{
    if (!h) return;
    if (h->curl) {
        if (h->owner_pid == getpid()) curl_easy_cleanup(h->curl); /* see perform() on fork */
        pthread_mutex_destroy(&h->lock);
    }
    free(h->lms_base);
    free(h->client_id);
    if (h->client_secret) explicit_bzero(h->client_secret, strlen(h->client_secret));
    free(h->client_secret);
    if (h->token) explicit_bzero(h->token, strlen(h->token));
    free(h->token);
    free(h);
}

void http_set_log(http_client *h, http_log_fn fn, void *user)
{
    h->log = fn;
    h->log_user = user;
}

void http_set_cancel_flag(http_client *h, volatile sig_atomic_t *flag) { h->cancel = flag; }

int http_token_fetches(const http_client *h) { return h ? h->token_fetches : 0; }

const cfg *http_config(const http_client *h) { return h ? h->config : NULL; }

int http_connections_opened(const http_client *h) { return h ? h->connections : 0; }

/* ------------------------------------------------------------------ one transfer */

typedef struct xfer {
    strbuf body;
    strbuf headers;
    size_t max_body; /* http.max_response_bytes */
    int too_big;     /* the body passed max_body: the transfer was stopped */
} xfer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    xfer *x = user;
    size_t n = size * nmemb;
    if (x->body.len + n > x->max_body) {
        x->too_big = 1;
        return 0; /* libcurl stops the transfer (CURLE_WRITE_ERROR) */
    }
    sb_addn(&x->body, ptr, n);
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *user)
{
    xfer *x = user;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) sb_reset(&x->headers); /* a new response block */
    sb_addn(&x->headers, ptr, n);
    return n;
}

/* Value of a header in a raw header block (malloc'd) or NULL. */
static char *header_value(const char *block, const char *name)
{
    size_t nl = strlen(name);
    for (const char *line = block; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            const char *end = line + len;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) end--;
            return xstrndup(v, (size_t)(end - v));
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

/* Retry-After as seconds from now (delta-seconds or HTTP-date), -1 when absent or unparsable. */
static double parse_retry_after(const char *headers)
{
    char *v = header_value(headers, "Retry-After");
    if (!v) return -1;
    double out = -1;
    char *end = NULL;
    double secs = strtod(v, &end);
    if (end != v && end && !*end && secs >= 0) {
        out = secs;
    } else {
        time_t t = curl_getdate(v, NULL);
        if (t != -1) {
            double d = difftime(t, time(NULL));
            out = d > 0 ? d : 0;
        }
    }
    free(v);
    return out;
}

typedef enum { OUT_ANSWER, OUT_CONNECT_FAIL, OUT_TIMEOUT, OUT_TLS, OUT_OTHER } outcome;

/* A forked child (job worker) must not use the parent's cached connections: both would talk on
 * one socket. The old handle is abandoned, not cleaned up, because cleanup could write (TLS
 * close_notify) on the socket the parent still uses. */
static void own_handle(http_client *h)
{
    if (getpid() == h->owner_pid) return;
    CURL *fresh = curl_easy_init();
    if (fresh) {
        h->curl = fresh;
        h->owner_pid = getpid();
    }
}

void http_set_transport_policy(CURL *c, const cfg_http *hc)
{
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (hc->ca_bundle) curl_easy_setopt(c, CURLOPT_CAINFO, hc->ca_bundle);
}

/* URL, proxy, TLS, body and header sinks, size cap and timeouts of one attempt. */
static void set_transfer(const http_client *h, CURL *c, const rd_http_request *req, int is_token, xfer *x)
{
    const cfg_http *hc = &h->config->http;
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    const char *proxy_from = NULL;
    curl_easy_setopt(c, CURLOPT_PROXY, http_proxy_for(h->config, req->url, &proxy_from)); /* checked by url_rule_check_proxy */
    http_set_transport_policy(c, hc);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)hc->max_response_bytes); /* by Content-Length */
    if (is_token) {
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, TOKEN_CONNECT_MS);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, TOKEN_READ_S);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TOKEN_CONNECT_MS + TOKEN_READ_S * 1000L);
    } else {
        double total = req->timeout_seconds > 0 ? (double)req->timeout_seconds : hc->timeout_seconds;
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(hc->connect_timeout_seconds * 1000.0));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(total * 1000.0));
    }
}

/* The method and body: POST fields for anything but GET, HEAD and a body-less DELETE. */
static void set_method(CURL *c, const char *method, const rd_http_request *req)
{
    size_t blen = req->body ? (req->body_len ? req->body_len : strlen(req->body)) : 0;
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (req->body || strcmp(method, "DELETE")) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        }
    }
}

/* The request's headers, with ours: auth_header replaces the caller's Authorization (and
 * implies a JSON Content-type), no implicit form type, our User-Agent, no Expect. */
static struct curl_slist *request_headers(const rd_http_request *req, const char *auth_header)
{
    struct curl_slist *hdrs = NULL;
    int has_ctype = 0, has_ua = 0;
    if (req->headers)
        for (const char *const *p = req->headers; *p; p++) {
            if (auth_header && !strncasecmp(*p, "Authorization:", 14)) continue;
            if (!strncasecmp(*p, "Content-Type:", 13)) has_ctype = 1;
            if (!strncasecmp(*p, "User-Agent:", 11)) has_ua = 1;
            hdrs = curl_slist_append(hdrs, *p);
        }
    if (auth_header) {
        hdrs = curl_slist_append(hdrs, auth_header);
        if (!has_ctype) hdrs = curl_slist_append(hdrs, "Content-type: application/json");
        has_ctype = 1;
    }
    if (!has_ctype) hdrs = curl_slist_append(hdrs, "Content-Type:"); /* no implicit form type */
    if (!has_ua) hdrs = curl_slist_append(hdrs, "User-Agent: retirectl/" RETIRECTL_VERSION);
    return curl_slist_append(hdrs, "Expect:");
}

/* The outcome class of a failed transfer, with a sentence (method, URL, what to do) in msg.
 * sent: bytes of request sent (0: the connection was never made). */
static outcome classify_failure(const http_client *h, const rd_http_request *req, const char *method, CURLcode rc,
                                const char *detail, long sent, int is_token, strbuf *msg)
{
    const cfg_http *hc = &h->config->http;
    switch (rc) {
    case CURLE_FILESIZE_EXCEEDED:
        sb_addf(msg,
                "%s %s: the answer is larger than http.max_response_bytes (%.0f bytes); the request failed and "
                "the rest of the answer was not read; raise http.max_response_bytes in %s if the service really "
                "sends answers this large",
                method, req->url, hc->max_response_bytes, h->config->path);
        return OUT_OTHER;
    case CURLE_OPERATION_TIMEDOUT:
        if (sent == 0) {
            sb_addf(msg, "%s %s: could not connect within %.2f s (%s)", method, req->url,
                    is_token ? TOKEN_CONNECT_MS / 1000.0 : hc->connect_timeout_seconds, detail);
            return OUT_CONNECT_FAIL;
        }
        sb_addf(msg,
                "%s %s: no complete answer within the time limit (%s); the server may still have acted on "
                "it; raise http.timeout_seconds if the service is slow",
                method, req->url, detail);
        return OUT_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        sb_addf(msg, "%s %s: connection failed (%s)", method, req->url, detail);
        return OUT_CONNECT_FAIL;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        sb_addf(msg, "%s %s: TLS failure (%s); check the server certificate or http.ca_bundle", method, req->url,
                detail);
        return OUT_TLS;
    default:
        sb_addf(msg, "%s %s: request failed (%s)", method, req->url, detail);
        return OUT_OTHER;
    }
}

/* Performs one attempt. Fills resp (status/body/headers/error). Returns the outcome class. */
static outcome perform(http_client *h, const rd_http_request *req, const char *auth_header, int is_token,
                       rd_http_response *resp)
{
    own_handle(h);
    CURL *c = h->curl;
    curl_easy_reset(c);
    xfer x = {STRBUF_INIT, STRBUF_INIT, (size_t)h->config->http.max_response_bytes, 0};
    set_transfer(h, c, req, is_token, &x);
    const char *method = req->method ? req->method : "GET";
    set_method(c, method, req);
    struct curl_slist *hdrs = request_headers(req, auth_header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    long opened = 0;
    if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK && opened > 0) h->connections += (int)opened;

    resp->status = 0;
    resp->error[0] = '\0';
    free(resp->body);
    free(resp->headers);
    resp->body_len = x.body.len;
    resp->body = sb_take(&x.body);
    resp->headers = sb_take(&x.headers);
    resp->retry_after_seconds = -1;

    if (rc == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        resp->status = code;
        resp->retry_after_seconds = parse_retry_after(resp->headers);
        return OUT_ANSWER;
    }
    long sent = 0; /* bytes of request sent: 0 means the connection was never made (a reused
                      keep-alive connection reports a connect time of 0, so that cannot tell) */
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent);
    if (x.too_big) rc = CURLE_FILESIZE_EXCEEDED;
    strbuf msg = STRBUF_INIT;
    outcome o = classify_failure(h, req, method, rc, ebuf[0] ? ebuf : curl_easy_strerror(rc), sent, is_token, &msg);
    scrub_into(h, req, resp->error, sizeof resp->error, sb_str(&msg));
    sb_free(&msg);
    return o;
}

/* Sleeps up to secs, in slices, stopping early on cancel. Returns -1 when cancelled. */
static int wait_seconds(http_client *h, double secs)
{
    double end = clk_mono_s() + secs;
    for (;;) {
        if (h->cancel && *h->cancel) return -1;
        double left = end - clk_mono_s();
        if (left <= 0) return 0;
        double slice = left < 0.05 ? left : 0.05;
        struct timespec ts = {(time_t)slice, (long)((slice - (double)(time_t)slice) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* ------------------------------------------------------------------ token */

/* Fetches a new token (lock held). */
static int fetch_token(http_client *h, char *err, size_t err_len)
{
    if (!h->lms_base || !*h->lms_base) {
        set_err(err, err_len, "base_urls.lms is not set in %s; the access token is fetched from the LMS.",
                h->config->path);
        return -1;
    }
    if (!h->client_id || !h->client_secret) {
        set_err(err, err_len, "client_id and client_secret must be set (as text) in %s to fetch an access token.",
                h->config->path);
        return -1;
    }
    char *url = token_url(h->lms_base);
    const char *proxy_from = NULL;
    const char *proxy = http_proxy_for(h->config, url, &proxy_from);
    if (url_rule_check(h->config, url, err, err_len) ||
        url_rule_check_proxy(h->config, url, proxy, proxy_from, err, err_len)) {
        free(url);
        return -1;
    }
    strbuf form = STRBUF_INIT;
    url_form_add(&form, "grant_type", "client_credentials");
    url_form_add(&form, "client_id", h->client_id);
    url_form_add(&form, "client_secret", h->client_secret);
    url_form_add(&form, "token_type", "jwt");
    const char *headers[] = {"User-Agent: " TOKEN_USER_AGENT, "Content-Type: application/x-www-form-urlencoded",
                             "Accept: */*", NULL};
    const char *secrets[] = {sb_str(&form), NULL};
    rd_http_request req = {.method = "POST", .url = url, .headers = headers, .body = sb_str(&form),
                           .body_len = form.len, .auth = RD_AUTH_NONE, .retry = RD_RETRY_NONE,
                           .secret_values = secrets};
    rd_http_response resp;
    memset(&resp, 0, sizeof resp);
    h->token_fetches++;
    double t0 = clk_mono_s();
    outcome o = perform(h, &req, NULL, 1, &resp);
    int rc = -1;
    if (o != OUT_ANSWER) {
        char *clean = scrub(h, &req, resp.error);
        set_err(err, err_len,
                "API Error: cannot reach the LMS to fetch an access token: %s; check base_urls.lms in %s "
                "(fetching access token: %s).",
                clean, h->config->path, h->client_id);
        free(clean);
        logf_(h, &req, RD_LOG_ERROR, "POST %s -> no answer (token fetch): %s", url, resp.error);
        goto out;
    }
    logf_(h, &req, RD_LOG_DEBUG, "POST %s -> %ld (token fetch, %.0f ms)", url, resp.status, (clk_mono_s() - t0) * 1e3);
    if (resp.status < 200 || resp.status >= 300) {
        char reason[128];
        http_reason_from_headers(resp.headers, resp.status, reason, sizeof reason);
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb,
                "API Error: %ld %s Error: %s for url: %s with status code: %ld fetching access token: %s; %s",
                resp.status, resp.status < 500 ? "Client" : "Server", reason, url, resp.status, h->client_id,
                resp.status == 401 || resp.status == 400
                    ? "check client_id and client_secret (the retirement service user's OAuth application)"
                    : "the LMS could not issue a token; try again later");
        if (resp.body && resp.body_len && resp.body_len < 300) sb_addf(&sb, " (server said: %s)", resp.body);
        sb_addc(&sb, '.');
        char *clean = scrub(h, &req, sb_str(&sb));
        set_err(err, err_len, "%s", clean);
        free(clean);
        sb_free(&sb);
        goto out;
    }
    cJSON *j = cJSON_ParseWithLength(resp.body, resp.body_len);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    if (!cJSON_IsString(tok) || !*tok->valuestring) {
        set_err(err, err_len,
                "Failed to get token. 'access_token' does not exist. (POST %s answered %ld without an access_token; "
                "is base_urls.lms the LMS?)",
                url, resp.status);
        cJSON_Delete(j);
        goto out;
    }
    if (h->token) explicit_bzero(h->token, strlen(h->token));
    free(h->token);
    h->token = xstrdup(tok->valuestring);
    cfg_secret_learn(h->token);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    h->token_expiry = 0;
    if (cJSON_IsNumber(exp) && exp->valuedouble > 0) {
        double margin = exp->valuedouble * 0.1;
        if (margin > 30) margin = 30;
        h->token_expiry = t0 + exp->valuedouble - margin;
    }
    cJSON_Delete(j);
    rc = 0;
out:
    http_response_free(&resp);
    explicit_bzero(form.data, form.len);
    sb_free(&form);
    free(url);
    return rc;
}

static int token_valid(const http_client *h)
{
    return h->token && (h->token_expiry == 0 || clk_mono_s() < h->token_expiry);
}

int http_ensure_token(http_client *h, char *err, size_t err_len)
{
    pthread_mutex_lock(&h->lock);
    int rc = token_valid(h) ? 0 : fetch_token(h, err, err_len);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int http_token_get(http_client *h, char *out, size_t out_len, double *seconds_left)
{
    pthread_mutex_lock(&h->lock);
    int rc = -1;
    if (token_valid(h) && strlen(h->token) < out_len) {
        memcpy(out, h->token, strlen(h->token) + 1);
        *seconds_left = h->token_expiry ? h->token_expiry - clk_mono_s() : -1;
        rc = 0;
    }
    pthread_mutex_unlock(&h->lock);
    return rc;
}

void http_token_set(http_client *h, const char *token, double seconds_left)
{
    if (!token || !*token) return;
    pthread_mutex_lock(&h->lock);
    if (h->token) explicit_bzero(h->token, strlen(h->token));
    free(h->token);
    h->token = xstrdup(token);
    h->token_expiry = seconds_left >= 0 ? clk_mono_s() + seconds_left : 0;
    pthread_mutex_unlock(&h->lock);
}

int http_fetch_service_tokens(http_client *h, char *err, size_t err_len)
{
    /* retire_one_learner's _setup_all_apis_or_exit: LmsApi, then one client (one token POST to
     * the LMS) for each of these base URLs that is set (non-empty), in this order. */
    static const char *const keys[] = {"base_urls.ecommerce", "base_urls.credentials", "base_urls.demographics",
                                       "base_urls.license_manager", NULL};
    int rc = 0;
    pthread_mutex_lock(&h->lock);
    for (int i = 0; keys[i] && rc == 0; i++) {
        const char *v = cfg_string(h->config, keys[i]);
        if (v && *v) rc = fetch_token(h, err, err_len);
    }
    pthread_mutex_unlock(&h->lock);
    return rc;
}

/* ------------------------------------------------------------------ send */

void http_response_free(rd_http_response *resp)
{
    if (!resp) return;
    free(resp->body);
    free(resp->headers);
    resp->body = NULL;
    resp->headers = NULL;
    resp->body_len = 0;
}

static int send_locked(http_client *h, const rd_http_request *req, rd_http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_seconds = -1;
    if (!req || !req->url || !*req->url) {
        snprintf(resp->error, sizeof resp->error, "no URL given for the request.");
        return -1;
    }
    const char *method = req->method ? req->method : "GET";
    char err[768];
    const char *proxy_from = NULL;
    const char *proxy = http_proxy_for(h->config, req->url, &proxy_from);
    if (url_rule_check(h->config, req->url, err, sizeof err) ||
        url_rule_check_proxy(h->config, req->url, proxy, proxy_from, err, sizeof err)) {
        scrub_into(h, req, resp->error, sizeof resp->error, err);
        logf_(h, req, RD_LOG_ERROR, "%s", err);
        return -1;
    }
    const int upstream = req->retry == RD_RETRY_UPSTREAM;
    const double budget = h->config->http.max_retry_seconds;
    const double gw_wait = h->config->http.gateway_timeout_wait_seconds;
    double start = clk_mono_s();
    int tries = 0, refreshed = 0, backoff_n = 0;
    long prev_status = -1;

    for (;;) {
        strbuf auth = STRBUF_INIT;
        if (req->auth == RD_AUTH_LMS_JWT) {
            if (!token_valid(h) && fetch_token(h, err, sizeof err)) {
                scrub_into(h, req, resp->error, sizeof resp->error, err);
                logf_(h, req, RD_LOG_ERROR, "%s %s: %s", method, req->url, err);
                resp->attempts = tries;
                return -1;
            }
            sb_addf(&auth, "Authorization: JWT %s", h->token);
        }
        double t0 = clk_mono_s();
        outcome o = perform(h, req, auth.len ? sb_str(&auth) : NULL, 0, resp);
        if (auth.data) explicit_bzero(auth.data, auth.len);
        sb_free(&auth);
        tries++;
        resp->attempts = tries;
        double ms = (clk_mono_s() - t0) * 1e3;
        if (o == OUT_ANSWER)
            logf_(h, req, RD_LOG_DEBUG, "%s %s -> %ld (attempt %d, %.0f ms)", method, req->url, resp->status, tries,
                  ms);
        else
            logf_(h, req, RD_LOG_WARN, "%s (attempt %d)", resp->error, tries);

        /* 401 with the LMS token: refresh once and repeat once */
        if (o == OUT_ANSWER && resp->status == 401 && req->auth == RD_AUTH_LMS_JWT && !refreshed) {
            refreshed = 1;
            logf_(h, req, RD_LOG_INFO, "%s %s answered 401: fetching a new access token and repeating the request",
                  method, req->url);
            if (fetch_token(h, err, sizeof err)) {
                logf_(h, req, RD_LOG_ERROR, "%s", err);
                return 0; /* the 401 answer stands */
            }
            continue;
        }
        if (!upstream) return o == OUT_ANSWER ? 0 : -1;

        double wait = -1;
        double elapsed = clk_mono_s() - start;
        char why[96];
        if (o == OUT_ANSWER && resp->status == 504) {
            if (prev_status == 504) { /* second consecutive 504: give up */
                logf_(h, req, RD_LOG_WARN, "giving up on %s %s after a second consecutive 504 (%d tries)", method,
                      req->url, tries);
                return 0;
            }
            wait = rand01(h) * gw_wait;
            snprintf(why, sizeof why, "answered 504");
        } else if ((o == OUT_ANSWER && resp->status >= 500 && resp->status <= 599) || o == OUT_CONNECT_FAIL) {
            if (elapsed >= budget) {
                logf_(h, req, RD_LOG_WARN, "giving up on %s %s after %d tries in %.1f s (http.max_retry_seconds %g)",
                      method, req->url, tries, elapsed, budget);
                return o == OUT_ANSWER ? 0 : -1;
            }
            double cap = ldexp(1.0, backoff_n < 30 ? backoff_n : 30);
            backoff_n++;
            wait = rand01(h) * cap;
            if (wait > budget - elapsed) wait = budget - elapsed;
            if (o == OUT_ANSWER) snprintf(why, sizeof why, "answered %ld", resp->status);
            else snprintf(why, sizeof why, "connection failed");
        } else {
            return o == OUT_ANSWER ? 0 : -1;
        }
        if (o == OUT_ANSWER && resp->retry_after_seconds >= 0) {
            /* the server's own hint, capped by the budget (5xx) or the 504 wait */
            wait = resp->retry_after_seconds;
            double cap = resp->status == 504 ? gw_wait : budget - elapsed;
            if (wait > cap) wait = cap;
            if (wait < 0) wait = 0;
        }
        prev_status = o == OUT_ANSWER ? resp->status : 0;
        double scaled = wait * h->backoff_scale;
        logf_(h, req, RD_LOG_WARN, "Trying again in %.1f seconds after %d tries calling %s %s (%s)", scaled, tries,
              method, req->url, why);
        if (wait_seconds(h, scaled)) {
            logf_(h, req, RD_LOG_WARN, "%s %s: retry cancelled after %d tries", method, req->url, tries);
            if (o != OUT_ANSWER) {
                size_t l = strlen(resp->error);
                if (l + 30 < sizeof resp->error)
                    memcpy(resp->error + l, "; cancelled before retrying", sizeof "; cancelled before retrying");
            }
            return o == OUT_ANSWER ? 0 : -1;
        }
    }
}

int http_send(http_client *h, const rd_http_request *req, rd_http_response *resp)
{
    /* a plugin's secret_values stay secret for the rest of the process: they are scrubbed from
     * everything printed and from every text later recorded at the LMS */
    if (req && req->secret_values)
        for (const char *const *p = req->secret_values; *p; p++) cfg_secret_learn(*p);
    pthread_mutex_lock(&h->lock);
    int rc = send_locked(h, req, resp);
    pthread_mutex_unlock(&h->lock);
    return rc;
}
