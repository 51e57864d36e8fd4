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
 * Life cycle (all calls happen in a job worker process, never in the console):
 *   1. the host dlopen()s the file, finds the symbol, checks `abi_version` exactly and
 *      `struct_size` (at least the size this header declares for that ABI);
 *   2. `get_instance(config, host, err, err_len)` gets the WHOLE configuration (docs/architecture.md
 *      §5) and returns an instance, or NULL with a sentence in `err`;
 *   3. per pipeline step the host calls `method->run(instance, learner, call)`;
 *      for a dry-run it calls `method->preview` instead, which must not send anything;
 *   4. `destroy(instance)` before the worker exits.
 *
 * Memory: everything the host passes in (config, learner, call, host) is owned by the
 * host and valid only during the call. A plugin links against nothing of the host: it
 * gets HTTP, logging, progress, cancellation and config lookups through `rd_host`, and
 * needs only this header and cJSON (`pkg-config --cflags --libs libcjson`).
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

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change; the host refuses a descriptor whose version differs. */
#define RD_ABI_VERSION 1u

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

/* One HTTP request. Strings are borrowed for the duration of the call. */
typedef struct rd_http_request {
    const char *method;               /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *url;                  /* absolute URL; build it with host->url_join / url_escape */
    const char *const *headers;       /* NULL-terminated "Name: value" strings, or NULL */
    const char *body;                 /* request body, or NULL */
    size_t body_len;                  /* bytes of body (0 with a body means strlen(body)) */
    rd_auth auth;
    rd_retry retry;
    const char *const *secret_values; /* extra values to scrub from logs (e.g. a bearer token), NULL-terminated, or NULL */
    long timeout_seconds;             /* 0: the host's http.timeout_seconds */
} rd_http_request;

/* One HTTP response, filled by host->http; release with host->http_free. */
typedef struct rd_http_response {
    long status;                      /* HTTP status, or 0 when no response was received */
    char *body;                       /* NUL-terminated body (may contain NULs before body_len) */
    size_t body_len;
    char *headers;                    /* raw response header block of the final attempt */
    int attempts;                     /* attempts made, 1 when the first one answered */
    double retry_after_seconds;       /* parsed Retry-After of the final response, or -1 */
    char error[512];                  /* transport error sentence when status == 0, else "" */
} rd_http_response;

typedef struct rd_host rd_host;
typedef struct rd_call rd_call;

/* Services the host offers a driver. Every function pointer is always set. */
struct rd_host {
    uint32_t struct_size;             /* sizeof(rd_host) of the host; fields may be added at the end */
    uint32_t abi_version;

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
    char *(*url_join)(const rd_host *host, const char *base, const char *path); /* base + "/" + path stripped of slashes + "/" */
    char *(*url_escape)(const rd_host *host, const char *segment);           /* percent-encode one path segment */
    void (*free)(const rd_host *host, void *ptr);

    const char *driver_name;          /* the name this instance was loaded under (entry-point or
                                         extra_services name); one descriptor may serve several */
    void *host_data;                  /* the host's own; drivers must not touch it */
};

/* The per-call context of one driver method call. */
struct rd_call {
    uint32_t struct_size;
    const rd_host *host;
    /* Text recorded at the LMS (on success after "Ending: <STATE> with response:\n", on failure as
     * the ERRORED reason). Set it with rd_call_message(). */
    char message[4096];
    /* Set by preview: each request the step would send is described with rd_call_describe(). */
    void (*describe)(rd_call *call, const char *method, const char *url, const char *const *headers,
                     const char *body);
    void *host_data;
};

/* Sets the call's message (printf-style). */
static inline void rd_call_message(rd_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void rd_call_message(rd_call *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->message, sizeof call->message, fmt, ap);
    va_end(ap);
}

/* Records, in a preview, one request the step would send (headers with secrets already masked). */
static inline void rd_call_describe(rd_call *call, const char *method, const char *url,
                                    const char *const *headers, const char *body)
{
    if (call->describe) call->describe(call, method, url, headers, body);
}

/* A driver method, called as one pipeline step with one learner. */
typedef rd_status (*rd_method_fn)(void *instance, const cJSON *learner, rd_call *call);

typedef struct rd_method {
    const char *name;      /* the pipeline's method_name */
    rd_method_fn run;      /* does the work */
    rd_method_fn preview;  /* optional (NULL): describes the requests run would send, sends nothing */
} rd_method;

/* The descriptor a plugin exports (one per driver). */
typedef struct rd_driver {
    uint32_t abi_version;  /* RD_ABI_VERSION */
    uint32_t struct_size;  /* sizeof(rd_driver) */
    const char *name;      /* default pipeline name, e.g. "WEBHOOK" (the entry-point name wins) */
    const char *version;   /* the driver's own version, e.g. "1.0.0" */
    const char *description;
    /* Builds an instance from the whole config; NULL with a sentence in err on failure. */
    void *(*get_instance)(const cJSON *config, const rd_host *host, char *err, size_t err_len);
    void (*destroy)(void *instance);
    const rd_method *methods; /* terminated by an entry whose name is NULL */
} rd_driver;

/* Marks the exported descriptor visible even when the plugin is built with
 * -fvisibility=hidden (as plugins/<name>/ are):  RD_EXPORT const rd_driver retirectl_driver_x = ...; */
#define RD_EXPORT __attribute__((visibility("default")))

/* Declares the descriptor fields in order: RD_DRIVER_INIT("WEBHOOK", "1.0.0", "...", get, destroy, methods) */
#define RD_DRIVER_INIT(name_, version_, description_, get_instance_, destroy_, methods_) \
    { RD_ABI_VERSION, (uint32_t)sizeof(rd_driver), name_, version_, description_, get_instance_, destroy_, methods_ }

#ifdef __cplusplus
}
#endif
#endif /* RETIRECTL_DRIVER_H */
