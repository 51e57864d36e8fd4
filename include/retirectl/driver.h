/*
 * retirectl driver ABI: the only header a retirement driver plugin includes.
 *
 * A driver is a shared object that exports one `const rd_driver` descriptor under a
 * symbol named in a `retirement_driver` entry-point file:
 *
 *     [options.entry_points]
 *     retirement_driver =
 *         WEBHOOK = example/example.so:retirectl_driver_webhook
 *
 * The pipeline names the driver and one of its methods per step:
 *
 *     retirement_pipeline:
 *       - ['RETIRING_WEBHOOK', 'WEBHOOK_COMPLETE', 'WEBHOOK', 'notify']
 *
 * Life cycle (all calls happen in a child process of retirectl, never in the console or the
 * CLI process: job workers run get_instance and the methods; `retirectl drivers` and
 * `check-config` load and inspect plugins in a child too):
 *   1. the host dlopen()s the file, finds the symbol, checks the major `abi_version` exactly,
 *      `struct_size` (at least the size this header declares for that ABI) and
 *      `host_minor_required` (at most the host's RD_ABI_MINOR);
 *   2. `get_instance(config, host, err, err_len)` gets the WHOLE configuration (docs/architecture.md
 *      §5) and returns an instance, or NULL with a sentence in `err`;
 *   3. per pipeline step the host calls `method->run(instance, learner, call)`;
 *      for a dry-run it calls `method->preview` instead, which must not send anything;
 *   4. `destroy(instance)` before the worker exits.
 *
 * Memory: everything the host passes in (config, learner, call, host) is owned by the
 * host and valid only during the call. A plugin links against nothing of the host: it
 * gets HTTP, logging, progress, cancellation, config lookups, Python-exact json.dumps and
 * repr, SHA-256 / HMAC-SHA256 / AWS Signature V4, base64 and URL helpers through `rd_host`,
 * and needs only this header and cJSON (`pkg-config --cflags --libs retirectl-driver`).
 *
 * Versioning policy (docs/writing-a-driver.md, "ABI versions"):
 *   - RD_ABI_VERSION is the major version. The host refuses a descriptor of another major
 *     version with a message that says how to rebuild. It changes only when a field is
 *     removed, retyped or reordered, or when the meaning of a call changes.
 *   - RD_ABI_MINOR is the feature level. A minor revision only ADDS: new fields at the end of
 *     rd_host, rd_call, rd_driver, rd_method, rd_http_request, rd_http_response and
 *     rd_aws_sigv4 (every struct that may grow starts with `struct_size`), new enum values,
 *     new inline helpers. A plugin built against minor N runs on any host of the same major.
 *   - A plugin tests for a host feature with RD_HOST_HAS(host, field) before calling a field
 *     added after minor 0, or declares `host_minor_required` in its descriptor so an older
 *     host refuses it at load time with a clear message.
 *   - Changelog:
 *       1.0  first ABI: fixed 4 KiB message buffer, no struct_size on requests, responses
 *            and methods (plugins must be rebuilt for 2.0).
 *       2.0  struct_size first in rd_http_request, rd_http_response, rd_method; messages of
 *            any length through rd_call.vmessage; host services json_dumps, py_repr,
 *            url_append (no trailing slash), base64, sha256, hmac_sha256, aws_sigv4;
 *            RD_EXPORT includes extern "C" in C++; rd_driver.host_minor_required.
 *
 * Secrets: the config holds API keys. Never put them in a message, log line or
 * preview; the host also scrubs every secret value it knows from all text it records.
 */
#ifndef RETIRECTL_DRIVER_H
#define RETIRECTL_DRIVER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Major ABI version: bumped on any incompatible change; the host refuses a descriptor whose
 * major version differs. */
#define RD_ABI_VERSION 2u
/* Feature level within the major version: bumped when fields are added at the end of a struct. */
#define RD_ABI_MINOR 0u

/* sizeof as the uint32_t of the struct_size fields, without a C-style cast in C++. */
#ifdef __cplusplus
#define RD_SIZEOF(type_) static_cast<uint32_t>(sizeof(type_))
#else
#define RD_SIZEOF(type_) ((uint32_t)sizeof(type_))
#endif

/* Outcome of a driver method. */
typedef enum rd_status {
    RD_OK = 0,        /* step done */
    RD_NOT_FOUND = 1, /* nothing to delete at that service: counts as success */
    RD_RETRYABLE = 2, /* transient failure after the driver's own retries: learner ERRORED, safe to rerun */
    RD_FAILED = 3,    /* permanent failure: learner ERRORED with the message */
    RD_CONFIG = 4     /* the configuration is wrong for this driver: learner ERRORED, fix config */
} rd_status;

/* Log levels for rd_host.log. */
typedef enum rd_log_level { RD_LOG_DEBUG = 0, RD_LOG_INFO = 1, RD_LOG_WARN = 2, RD_LOG_ERROR = 3 } rd_log_level;

/* How the host authenticates an HTTP request. */
typedef enum rd_auth {
    RD_AUTH_NONE = 0,   /* send exactly the headers given */
    RD_AUTH_LMS_JWT = 1 /* add `Authorization: JWT <token>` with the host's shared LMS token */
} rd_auth;

/* Which retry policy the host applies to an HTTP request. */
typedef enum rd_retry {
    RD_RETRY_NONE = 0,     /* one attempt */
    RD_RETRY_UPSTREAM = 1  /* upstream LMS policy: 5xx (not 504) and connection errors with jittered
                              exponential backoff up to http.max_retry_seconds; 504 once after
                              http.gateway_timeout_wait_seconds; 4xx never; Retry-After honoured */
} rd_retry;

/* One HTTP request. Strings are borrowed for the duration of the call. Start from
 * rd_http_request_new(method, url) (or set struct_size = RD_SIZEOF(rd_http_request)). */
typedef struct rd_http_request {
    uint32_t struct_size;             /* RD_SIZEOF(rd_http_request): the host reads no field past it */
    const char *method;               /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *url;                  /* absolute URL; build it with host->url_append / url_escape */
    const char *const *headers;       /* NULL-terminated "Name: value" strings, or NULL */
    const char *body;                 /* request body, or NULL */
    size_t body_len;                  /* bytes of body (0 with a body means strlen(body)) */
    rd_auth auth;
    rd_retry retry;
    const char *const *secret_values; /* extra values to scrub from logs (e.g. a bearer token), NULL-terminated, or NULL */
    long timeout_seconds;             /* 0: the host's http.timeout_seconds */
} rd_http_request;

/* One HTTP response, filled by host->http; release with host->http_free. Start from
 * rd_http_response_new(): the host writes no field past struct_size. */
typedef struct rd_http_response {
    uint32_t struct_size;             /* RD_SIZEOF(rd_http_response) */
    long status;                      /* HTTP status, or 0 when no response was received */
    char *body;                       /* NUL-terminated body (may contain NULs before body_len) */
    size_t body_len;
    char *headers;                    /* raw response header block of the final attempt */
    int attempts;                     /* attempts made, 1 when the first one answered */
    double retry_after_seconds;       /* parsed Retry-After of the final response, or -1 */
    char error[512];                  /* transport error sentence when status == 0, else "" */
} rd_http_response;

/* A request to sign with AWS Signature Version 4 (host->aws_sigv4). */
typedef struct rd_aws_sigv4 {
    uint32_t struct_size;             /* RD_SIZEOF(rd_aws_sigv4) */
    const char *method;               /* "POST" */
    const char *url;                  /* the absolute URL sent: host, path and query are signed */
    const char *const *headers;       /* "Name: value" headers sent and signed (Host is added), NULL-terminated */
    const char *body;                 /* payload, or NULL */
    size_t body_len;                  /* 0 with a body means strlen(body) */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;        /* or NULL; when set, put X-Amz-Security-Token in headers */
    const char *region;               /* "us-east-1" */
    const char *service;              /* "ses" */
    const char *amz_date;             /* "YYYYMMDDTHHMMSSZ", the X-Amz-Date header's value (in headers) */
} rd_aws_sigv4;

/* json_dumps flags. */
#define RD_JSON_SORT_KEYS 1u          /* json.dumps(..., sort_keys=True) */

typedef struct rd_host rd_host;
typedef struct rd_call rd_call;

/* Services the host offers a driver. Every function pointer is always set. */
struct rd_host {
    uint32_t struct_size;             /* sizeof(rd_host) of the host; fields are added at the end: test
                                         a field added after minor 0 with RD_HOST_HAS(host, field) */
    uint32_t abi_version;             /* RD_ABI_VERSION of the host */
    uint32_t abi_minor;               /* RD_ABI_MINOR of the host */

    /* Sends a request with the host's timeouts, TLS settings, retries, auth and request log.
     * Returns 0 when an HTTP response arrived (any status, see resp->status) and -1 when none
     * did (resp->error says why). The caller frees resp with http_free. */
    int (*http)(const rd_host *host, const rd_http_request *req, rd_http_response *resp);
    void (*http_free)(const rd_host *host, rd_http_response *resp);

    /* Writes a line to the job log (shown in the console and the event stream). */
    void (*log)(const rd_host *host, rd_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* Sets the short progress text of the step in flight ("deleting 3 of 7 objects"). */
    void (*progress)(const rd_host *host, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    /* Non-zero once the operator cancelled the job: return RD_RETRYABLE soon. */
    int (*cancelled)(const rd_host *host);

    /* Config lookups by dotted path ("base_urls.lms"). `config_string` returns NULL when
     * absent or not a string; the returned pointer lives as long as the instance. */
    const char *(*config_string)(const rd_host *host, const char *path);
    int (*config_bool)(const rd_host *host, const char *path, int fallback);
    double (*config_number)(const rd_host *host, const char *path, double fallback);

    /* URL helpers with upstream semantics. Results are malloc'd; free with host->free. */
    /* Upstream (Django) join: base + "/" + path stripped of slashes + "/" (always a trailing slash). */
    char *(*url_join)(const rd_host *host, const char *base, const char *path);
    char *(*url_escape)(const rd_host *host, const char *segment);           /* percent-encode one path segment */
    void (*free)(const rd_host *host, void *ptr);

    const char *driver_name;          /* the name this instance was loaded under (entry-point or
                                         extra_services name); one descriptor may serve several */
    void *host_data;                  /* the host's own; drivers must not touch it */

    /* ---- ABI 2.0. Every result below is malloc'd (free with host->free) or NULL on failure. ---- */
    /* base + "/" + path with exactly one slash between them and NOTHING appended:
     * ("https://x/api/", "/v1/learners/7") -> "https://x/api/v1/learners/7". */
    char *(*url_append)(const rd_host *host, const char *base, const char *path);
    /* Python json.dumps(value) byte for byte (separators ", " and ": ", ensure_ascii, floats as
     * Python's repr); flags: RD_JSON_SORT_KEYS. */
    char *(*json_dumps)(const rd_host *host, const cJSON *value, unsigned flags);
    /* Python repr() of the value json.loads() gives: {'id': 1, 'ok': True, 'x': None}, 'text'. */
    char *(*py_repr)(const rd_host *host, const cJSON *value);
    /* Standard base64 (with '=' padding) of len bytes. */
    char *(*base64)(const rd_host *host, const void *data, size_t len);
    /* SHA-256 and HMAC-SHA256 (OpenSSL libcrypto) into out[32]; hex with rd_hex(). */
    void (*sha256)(const rd_host *host, const void *data, size_t len, unsigned char out[32]);
    void (*hmac_sha256)(const rd_host *host, const void *key, size_t key_len, const void *data, size_t len,
                        unsigned char out[32]);
    /* AWS Signature V4: returns the value of the Authorization header for req
     * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."), or NULL with a
     * sentence in err. Add it as "Authorization: <value>" beside req's headers. */
    char *(*aws_sigv4)(const rd_host *host, const rd_aws_sigv4 *req, char *err, size_t err_len);
};

/* Non-zero when the host provides `field` (a member of rd_host added in some minor revision). */
#define RD_HOST_HAS(host_, field_) \
    ((host_)->struct_size >= offsetof(rd_host, field_) + sizeof((host_)->field_) && (host_)->field_ != NULL)

/* The per-call context of one driver method call. */
struct rd_call {
    uint32_t struct_size;
    const rd_host *host;
    /* Text recorded at the LMS (on success after "Ending: <STATE> with response:\n", on failure as
     * the ERRORED reason): "" until set. Read it freely; set it with rd_call_message() (any
     * length: the host keeps the copy). */
    const char *message;
    /* Replaces the message with the printf-style text (what rd_call_message calls). */
    void (*vmessage)(rd_call *call, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
    /* Set by preview: each request the step would send is described with rd_call_describe(). */
    void (*describe)(rd_call *call, const char *method, const char *url, const char *const *headers,
                     const char *body);
    void *host_data;
};

/* Sets the call's message (printf-style, any length). */
static inline void rd_call_message(rd_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void rd_call_message(rd_call *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    call->vmessage(call, fmt, ap);
    va_end(ap);
}

/* A request with struct_size set and every other field zero (RD_AUTH_NONE, RD_RETRY_NONE). */
static inline rd_http_request rd_http_request_new(const char *method, const char *url)
{
    rd_http_request r;
    memset(&r, 0, sizeof r);
    r.struct_size = RD_SIZEOF(rd_http_request);
    r.method = method;
    r.url = url;
    return r;
}

/* An empty response with struct_size set, ready for host->http. */
static inline rd_http_response rd_http_response_new(void)
{
    rd_http_response r;
    memset(&r, 0, sizeof r);
    r.struct_size = RD_SIZEOF(rd_http_response);
    return r;
}

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
static inline void rd_hex(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Records, in a preview, one request the step would send (headers with secrets already masked). */
static inline void rd_call_describe(rd_call *call, const char *method, const char *url,
                                    const char *const *headers, const char *body)
{
    if (call->describe) call->describe(call, method, url, headers, body);
}

/* A driver method, called as one pipeline step with one learner. */
typedef rd_status (*rd_method_fn)(void *instance, const cJSON *learner, rd_call *call);

/* One entry of a driver's method table; write entries with RD_METHOD(...) and end the table
 * with RD_METHODS_END. The host steps through the table by the first entry's struct_size. */
typedef struct rd_method {
    uint32_t struct_size;  /* RD_SIZEOF(rd_method), the same in every entry */
    const char *name;      /* the pipeline's method_name */
    rd_method_fn run;      /* does the work */
    rd_method_fn preview;  /* optional (NULL): describes the requests run would send, sends nothing */
} rd_method;

#define RD_METHOD(name_, run_, preview_) { RD_SIZEOF(rd_method), name_, run_, preview_ }
#define RD_METHODS_END { RD_SIZEOF(rd_method), NULL, NULL, NULL }

/* The descriptor a plugin exports (one per driver). */
typedef struct rd_driver {
    uint32_t abi_version;  /* RD_ABI_VERSION: first in every ABI, so any host can read it */
    uint32_t struct_size;  /* sizeof(rd_driver) */
    const char *name;      /* default pipeline name, e.g. "WEBHOOK" (the entry-point name wins) */
    const char *version;   /* the driver's own version, e.g. "1.0.0" */
    const char *description;
    /* Builds an instance from the whole config; NULL with a sentence in err on failure. */
    void *(*get_instance)(const cJSON *config, const rd_host *host, char *err, size_t err_len);
    void (*destroy)(void *instance);
    const rd_method *methods; /* terminated by RD_METHODS_END (an entry whose name is NULL) */
    uint32_t host_minor_required; /* the lowest RD_ABI_MINOR of a host this driver runs on (0: any) */
} rd_driver;

/* Exports the descriptor with C linkage and default visibility, in C and in C++ (where a
 * namespace-scope const object would otherwise have internal linkage and export nothing),
 * also when the plugin is built with -fvisibility=hidden:
 *     RD_EXPORT const rd_driver retirectl_driver_x = RD_DRIVER_INIT(...); */
#ifdef __cplusplus
#define RD_EXPORT extern "C" __attribute__((visibility("default")))
#else
#define RD_EXPORT __attribute__((visibility("default")))
#endif

/* Declares the descriptor fields in order: RD_DRIVER_INIT("WEBHOOK", "1.0.0", "...", get, destroy, methods) */
#define RD_DRIVER_INIT(name_, version_, description_, get_instance_, destroy_, methods_) \
    { RD_ABI_VERSION, RD_SIZEOF(rd_driver), name_, version_, description_, get_instance_, destroy_, methods_, 0u }

#ifdef __cplusplus
}
#endif
#endif /* RETIRECTL_DRIVER_H */
