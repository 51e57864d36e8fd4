/* s3: one signed PUT (+ confirming HEAD) to S3 through libcurl's SigV4 (see s3.h). */
#include "engine/s3.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "engine/http.h"
#include "common/strbuf.h"
#include "common/clock.h"
#include "common/urlencode.h"
#include "common/xalloc.h"
#include "engine/urlrule.h"

struct s3_client {
    const cfg *config;
    char *bucket, *region, *endpoint, *access_key, *secret_key, *session_token, *sse, *kms_key_id;
    int path_style;
    double max_retry_seconds;
    double backoff_scale; /* RETIRECTL_TEST_BACKOFF_SCALE, as the LMS client (tests only) */
    CURL *curl;
    s3_log_fn log;
    void *log_user;
};

/* A string setting: s3_archive.<key>, else the first set environment variable of envs. */
static char *setting(const cfg *c, const char *key, const char *const *envs)
{
    char path[96];
    snprintf(path, sizeof path, "s3_archive.%s", key);
    const char *v = cfg_string(c, path);
    if (v && *v) return xstrdup(v);
    for (; envs && *envs; envs++) {
        const char *e = getenv(*envs);
        if (e && *e) return xstrdup(e);
    }
    return NULL;
}

/* "<file>:<line>: s3_archive.<key>" (or "<file>: s3_archive" when the key is absent). */
static void where(const cfg *c, const char *key, char *out, size_t n)
{
    char path[96];
    snprintf(path, sizeof path, "s3_archive.%s", key);
    int line = cfg_line(c, path, NULL);
    if (!line) line = cfg_line(c, "s3_archive", NULL);
    if (line) snprintf(out, n, "%s:%d: %s", c->path, line, path);
    else snprintf(out, n, "%s: %s", c->path, path);
}

void s3_client_free(s3_client *s)
{
    if (!s) return;
    char **strs[] = {&s->bucket, &s->region, &s->endpoint, &s->access_key, &s->secret_key,
                     &s->session_token, &s->sse, &s->kms_key_id};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
    if (s->curl) curl_easy_cleanup(s->curl);
    free(s);
}

/* Checks the settings that do not need credentials; 0 or -1 with err. */
static int check_settings(s3_client *s, const cfg *c, char *err, size_t n)
{
    char w[512];
    if (!s->bucket) {
        where(c, "bucket_name", w, sizeof w);
        snprintf(err, n, "%s is missing: name the S3 bucket the retirement archives go to", w);
        return -1;
    }
    for (const char *p = s->bucket; *p; p++) {
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_')) {
            where(c, "bucket_name", w, sizeof w);
            snprintf(err, n, "%s \"%s\" is not a valid bucket name (lowercase letters, digits, '-', '.')", w,
                     s->bucket);
            return -1;
        }
    }
    if (s->sse && strcmp(s->sse, "AES256") != 0 && strcmp(s->sse, "aws:kms") != 0) {
        where(c, "sse", w, sizeof w);
        snprintf(err, n, "%s is \"%s\": use AES256 or aws:kms (with sse_kms_key_id), or leave it out", w, s->sse);
        return -1;
    }
    if (s->kms_key_id && !(s->sse && strcmp(s->sse, "aws:kms") == 0)) {
        where(c, "sse_kms_key_id", w, sizeof w);
        snprintf(err, n, "%s is set but s3_archive.sse is not aws:kms; set sse: aws:kms or remove the key id", w);
        return -1;
    }
    const char *style = cfg_string(c, "s3_archive.addressing_style");
    if (style && strcmp(style, "path") != 0 && strcmp(style, "virtual") != 0) {
        where(c, "addressing_style", w, sizeof w);
        snprintf(err, n, "%s is \"%s\": use path or virtual", w, style);
        return -1;
    }
    s->path_style = style ? strcmp(style, "path") == 0 : (cfg_string(c, "s3_archive.endpoint_url") != NULL ||
                                                          getenv("AWS_ENDPOINT_URL_S3") || getenv("AWS_ENDPOINT_URL") ||
                                                          strchr(s->bucket, '.') != NULL);
    if (s->endpoint) {
        size_t len = strlen(s->endpoint);
        while (len && s->endpoint[len - 1] == '/') s->endpoint[--len] = '\0';
        const char *from = NULL, *proxy = http_proxy_for(c, s->endpoint, &from);
        if (url_rule_check(c, s->endpoint, err, n) != 0 ||
            url_rule_check_proxy(c, s->endpoint, proxy, from, err, n) != 0)
            return -1;
    }
    s->max_retry_seconds = cfg_number(c, "s3_archive.max_retry_seconds", 120);
    if (!(s->max_retry_seconds >= 0)) {
        where(c, "max_retry_seconds", w, sizeof w);
        snprintf(err, n, "%s must be a number of seconds, 0 or more", w);
        return -1;
    }
    return 0;
}

int s3_client_new(const cfg *c, int need_credentials, s3_client **out, char *err, size_t err_len)
{
    *out = NULL;
    s3_client *s = xcalloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    s->config = c;
    static const char *const region_env[] = {"AWS_REGION", "AWS_DEFAULT_REGION", NULL};
    static const char *const endpoint_env[] = {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", NULL};
    static const char *const key_env[] = {"AWS_ACCESS_KEY_ID", NULL};
    static const char *const secret_env[] = {"AWS_SECRET_ACCESS_KEY", NULL};
    static const char *const token_env[] = {"AWS_SESSION_TOKEN", NULL};
    s->bucket = setting(c, "bucket_name", NULL);
    s->region = setting(c, "region", region_env);
    if (!s->region) s->region = xstrdup("us-east-1");
    s->endpoint = setting(c, "endpoint_url", endpoint_env);
    s->sse = setting(c, "sse", NULL);
    s->kms_key_id = setting(c, "sse_kms_key_id", NULL);
    const char *scale = getenv("RETIRECTL_TEST_BACKOFF_SCALE");
    s->backoff_scale = scale && *scale ? atof(scale) : 1.0;
    if (check_settings(s, c, err, err_len) != 0) {
        s3_client_free(s);
        return -1;
    }
    if (need_credentials) {
        /* config first; the environment only when the config names no access key at all */
        s->access_key = setting(c, "access_key_id", NULL);
        if (s->access_key) {
            s->secret_key = setting(c, "secret_access_key", NULL);
            s->session_token = setting(c, "session_token", NULL);
        } else {
            s->access_key = setting(c, "access_key_id", key_env);
            s->secret_key = setting(c, "secret_access_key", secret_env);
            s->session_token = setting(c, "session_token", token_env);
        }
        if (!s->access_key || !s->secret_key) {
            char w[512];
            where(c, s->access_key ? "secret_access_key" : "access_key_id", w, sizeof w);
            snprintf(err, err_len,
                     "no S3 credentials: set %s (and its partner key), or export AWS_ACCESS_KEY_ID and "
                     "AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary ones, e.g. from `aws configure "
                     "export-credentials --format env`); ~/.aws files and instance roles are not read",
                     w);
            s3_client_free(s);
            return -1;
        }
        s->curl = curl_easy_init();
        if (!s->curl) {
            snprintf(err, err_len, "libcurl could not start");
            s3_client_free(s);
            return -1;
        }
    }
    *out = s;
    return 0;
}

void s3_set_log(s3_client *s, s3_log_fn fn, void *user)
{
    s->log = fn;
    s->log_user = user;
}

const char *s3_bucket(const s3_client *s)
{
    return s->bucket;
}

void s3_object_uri(const s3_client *s, const char *key, char *out, size_t out_len)
{
    snprintf(out, out_len, "s3://%s/%s", s->bucket, key);
}

char *s3_object_url(const s3_client *s, const char *key)
{
    strbuf sb = STRBUF_INIT;
    if (s->path_style) {
        if (s->endpoint) sb_addf(&sb, "%s/%s/", s->endpoint, s->bucket);
        else sb_addf(&sb, "https://s3.%s.amazonaws.com/%s/", s->region, s->bucket);
    } else if (s->endpoint) {
        /* virtual style against a custom endpoint: the bucket becomes the first host label */
        const char *sep = strstr(s->endpoint, "://");
        size_t scheme = sep ? (size_t)(sep - s->endpoint) + 3 : 0;
        sb_addn(&sb, s->endpoint, scheme);
        sb_addf(&sb, "%s.%s/", s->bucket, s->endpoint + scheme);
    } else {
        sb_addf(&sb, "https://%s.s3.%s.amazonaws.com/", s->bucket, s->region);
    }
    /* keys are ours (raw/YYYY/MM/retirement_archive_....json.gz); escape anything else anyway */
    url_encode_add(&sb, key, strlen(key), "/", 0);
    return sb_take(&sb);
}

/* Hex SHA-256 (65 bytes) and base64 MD5 (25 bytes) of data, with libcrypto. */
static int digests(const void *data, size_t len, char sha_hex[65], char md5_b64[25])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32) return -1;
    for (unsigned i = 0; i < n; i++) snprintf(sha_hex + 2 * i, 3, "%02x", md[i]);
    if (md5_b64) {
        if (!EVP_Digest(data, len, md, &n, EVP_md5(), NULL) || n != 16) return -1;
        EVP_EncodeBlock((unsigned char *)md5_b64, md, 16);
    }
    return 0;
}

typedef struct answer {
    strbuf body;
    char etag[128];
    long long content_length;
} answer;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    answer *a = user;
    if (a->body.len < 65536) sb_addn(&a->body, p, size * n);
    return size * n;
}

/* Picks ETag and Content-Length out of the response headers. */
static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    answer *a = user;
    size_t len = size * n;
    char line[512];
    size_t m = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, p, m);
    line[m] = '\0';
    while (m && (line[m - 1] == '\r' || line[m - 1] == '\n' || line[m - 1] == ' ')) line[--m] = '\0';
    if (!strncasecmp(line, "HTTP/", 5)) {
        a->etag[0] = '\0';
        a->content_length = -1;
    } else if (!strncasecmp(line, "etag:", 5)) {
        const char *v = line + 5;
        while (*v == ' ' || *v == '"') v++;
        snprintf(a->etag, sizeof a->etag, "%.127s", v);
        size_t e = strlen(a->etag);
        if (e && a->etag[e - 1] == '"') a->etag[e - 1] = '\0';
    } else if (!strncasecmp(line, "content-length:", 15)) {
        a->content_length = atoll(line + 15);
    }
    return len;
}

/* The text between <tag> and </tag> in an S3 XML error, or "". */
static void xml_value(const char *xml, const char *tag, char *out, size_t n)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = xml ? strstr(xml, open) : NULL;
    const char *b = a ? strstr(a, close) : NULL;
    out[0] = '\0';
    if (!a || !b) return;
    a += strlen(open);
    size_t len = (size_t)(b - a) < n - 1 ? (size_t)(b - a) : n - 1;
    memcpy(out, a, len);
    out[len] = '\0';
}

/* One signed request. Returns the curl code; *status the HTTP status (0 when none). */
static CURLcode request(s3_client *s, const char *method, const char *url, const void *body, size_t len,
                        const char *content_type, answer *a, long *status)
{
    CURL *c = s->curl;
    curl_easy_reset(c);
    const cfg_http *hc = &s->config->http;
    char sigv4[160];
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", s->region);
    curl_easy_setopt(c, CURLOPT_URL, url);
    const char *proxy_from = NULL;
    curl_easy_setopt(c, CURLOPT_PROXY, http_proxy_for(s->config, url, &proxy_from)); /* as the LMS's requests */
    http_set_transport_policy(c, hc);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(hc->connect_timeout_seconds * 1000.0));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(hc->timeout_seconds * 1000.0));
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(c, CURLOPT_USERNAME, s->access_key);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret_key);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);

    char sha[65], md5[25], line[512];
    struct curl_slist *h = NULL;
    if (digests(body ? body : "", body ? len : 0, sha, body ? md5 : NULL) != 0) return CURLE_OUT_OF_MEMORY;
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", sha);
    h = curl_slist_append(h, line);
    if (s->session_token) {
        strbuf tok = STRBUF_INIT; /* tokens are long: build the header without a fixed buffer */
        sb_addf(&tok, "x-amz-security-token: %s", s->session_token);
        h = curl_slist_append(h, sb_str(&tok));
        sb_free(&tok);
    }
    if (!strcmp(method, "PUT")) {
        snprintf(line, sizeof line, "Content-Md5: %s", md5);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof line, "Content-Type: %s", content_type ? content_type : "application/octet-stream");
        h = curl_slist_append(h, line);
        if (s->sse) {
            snprintf(line, sizeof line, "x-amz-server-side-encryption: %s", s->sse);
            h = curl_slist_append(h, line);
        }
        if (s->kms_key_id) {
            snprintf(line, sizeof line, "x-amz-server-side-encryption-aws-kms-key-id: %s", s->kms_key_id);
            h = curl_slist_append(h, line);
        }
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(h);
    return rc;
}

/* Worth another try: no answer, 5xx, 429, or a throttling / request-timeout error code. */
static int retryable(CURLcode rc, long status, const char *code)
{
    if (rc != CURLE_OK) return rc != CURLE_SSL_CACERT_BADFILE && rc != CURLE_PEER_FAILED_VERIFICATION &&
                               rc != CURLE_URL_MALFORMAT && rc != CURLE_UNSUPPORTED_PROTOCOL;
    if (status >= 500 || status == 429) return 1;
    static const char *const codes[] = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
                                        "RequestThrottled", "TooManyRequestsException", NULL};
    for (int i = 0; codes[i]; i++)
        if (!strcmp(code, codes[i])) return 1;
    return 0;
}

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Runs method on url with the retry policy, sharing the time budget that started at t0. Fills
 * a (reset first) and r->status / r->message. Returns 0 on a 2xx. */
static int with_retries(s3_client *s, const char *method, const char *url, const char *uri, const void *body,
                        size_t len, const char *content_type, double t0, answer *a, s3_result *r, int *tries)
{
    for (;;) {
        sb_free(&a->body);
        a->etag[0] = '\0';
        a->content_length = -1;
        long status = 0;
        CURLcode rc = request(s, method, url, body, len, content_type, a, &status);
        (*tries)++;
        r->status = status;
        if (rc == CURLE_OK && status >= 200 && status < 300) return 0;
        char code[128] = "", msg[512] = "";
        if (rc == CURLE_OK) {
            xml_value(sb_str(&a->body), "Code", code, sizeof code);
            xml_value(sb_str(&a->body), "Message", msg, sizeof msg);
            snprintf(r->message, sizeof r->message, "%s %s (%s) answered %ld%s%s%s%s", method, uri, url, status,
                     *code ? " " : "", code, *msg ? ": " : "", msg);
        } else {
            snprintf(r->message, sizeof r->message, "%s %s (%s) failed: %s", method, uri, url, curl_easy_strerror(rc));
        }
        double elapsed = clk_mono_s() - t0;
        if (!retryable(rc, status, code) || elapsed >= s->max_retry_seconds) return -1;
        /* exponential backoff with full jitter, as the backoff library's expo + full_jitter */
        double cap = pow(2.0, (double)(*tries - 1));
        double wait = cap * ((double)rand() / ((double)RAND_MAX + 1.0));
        if (wait > s->max_retry_seconds - elapsed) wait = s->max_retry_seconds - elapsed;
        if (s->log) {
            char line[1200];
            snprintf(line, sizeof line, "Backing off %.1f seconds after %d tries: %s", wait, *tries, r->message);
            s->log(s->log_user, line);
        }
        sleep_s(wait * s->backoff_scale);
    }
}

int s3_put_object(s3_client *s, const char *key, const void *body, size_t len, const char *content_type,
                  s3_result *r)
{
    memset(r, 0, sizeof *r);
    if (!s->curl) {
        snprintf(r->message, sizeof r->message, "the S3 client was set up without credentials (a dry run)");
        return -1;
    }
    char uri[1024];
    s3_object_uri(s, key, uri, sizeof uri);
    char *url = s3_object_url(s, key);
    answer a = {STRBUF_INIT, "", -1};
    double t0 = clk_mono_s();
    int tries = 0, rc = with_retries(s, "PUT", url, uri, body, len, content_type, t0, &a, r, &tries);
    r->attempts = tries;
    if (rc == 0) {
        snprintf(r->etag, sizeof r->etag, "%s", a.etag);
        /* confirm: the store lists the object with the size we sent */
        int head_tries = 0;
        rc = with_retries(s, "HEAD", url, uri, NULL, 0, NULL, t0, &a, r, &head_tries);
        if (rc == 0 && a.content_length != (long long)len) {
            snprintf(r->message, sizeof r->message,
                     "HEAD %.900s after the upload shows %lld bytes, but %zu were sent; the upload is not confirmed", uri,
                     a.content_length, len);
            rc = -1;
        } else if (rc != 0) {
            char first[sizeof r->message];
            memcpy(first, r->message, sizeof first);
            snprintf(r->message, sizeof r->message, "the upload could not be confirmed: %.980s", first);
        }
    }
    sb_free(&a.body);
    free(url);
    return rc;
}
