/* host (prefix host_): the rd_host services a driver gets (include/retirectl/driver.h),
 * implemented over the engine's http client and config: HTTP with the shared LMS token and
 * upstream retries, log lines and progress forwarded to callbacks (the job worker turns them
 * into `log` / `step` events), a cancellation flag, config lookups, URL helpers, the
 * driver's name, and rd_call set-up with a collector for previews (rd_call_describe). */
#ifndef RETIRECTL_HOST_H
#define RETIRECTL_HOST_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "engine/config.h"
#include "engine/http.h"
#include "common/strbuf.h"
#include "retirectl/driver.h"

/* Receives a driver's log line (formatted and scrubbed, at most 8 KiB with a cut marker). */
typedef void (*host_log_fn)(void *user, rd_log_level level, const char *text);
/* Receives a driver's progress text. */
typedef void (*host_progress_fn)(void *user, const char *text);

/* Builds a host for one driver instance. config and http must outlive it; driver_name is
 * copied; log/progress may be NULL (then dropped); cancel_flag may be NULL. Free with
 * host_free. */
rd_host *host_new(const cfg *config, http_client *http, const char *driver_name, host_log_fn log_fn,
                  host_progress_fn progress_fn, void *user, volatile sig_atomic_t *cancel_flag);
void host_free(rd_host *host);
/* The user pointer given to host_new (for a replacement http function, as the mock host of
 * retirectl/drivertest.h installs). */
void *host_user(const rd_host *host);
/* Sets struct_size, the ABI versions, free and the pure services of ABI 2.0 (url_append,
 * json_dumps, py_repr, base64, sha256, hmac_sha256, aws_sigv4) on h; host_new calls it, and so
 * does the mock host of retirectl/drivertest.h. */
void host_set_services(rd_host *h);

/* The last request of a host that failed (status 0 or >= 400) since host_failure_reset, kept so
 * the job worker can say what the server answered (reason.h). A later 2xx answer clears it.
 * Strings owned by the host; valid until the next request or reset. */
typedef struct host_failure {
    int set;
    char *method, *url;
    long status;     /* 0: no answer */
    char *body;      /* at most HOST_FAILURE_BODY_MAX bytes of the body, or NULL */
    size_t body_len;
    char *error;     /* transport error, or NULL */
    int attempts;
} host_failure;
#define HOST_FAILURE_BODY_MAX 65536
/* The failure, or NULL when none was seen. */
const host_failure *host_last_failure(const rd_host *host);
void host_failure_reset(rd_host *host);
/* The config to hand to the driver's get_instance: the whole config, or only the keys its
 * driver_config_scope entry lists (owned by the host; lives as long as it). */
const cJSON *host_config_root(const rd_host *host);

/* One call context; `requests` collects what a preview describes as a JSON array of
 * {"method","url","headers":[...],"body"} (secrets are scrubbed when events are written). */
typedef struct host_call {
    rd_call call;
    cJSON *requests; /* owned; NULL unless collect was set */
    strbuf message;  /* what call.message points into once the driver set one */
} host_call;
void host_call_init(host_call *hc, const rd_host *host, int collect);
void host_call_done(host_call *hc);
/* Call after the driver method returns: scrubs the message (of any length, ABI 2) in place;
 * text recorded at the LMS is cut later, after scrubbing, with a "… [N bytes cut]" marker. */
void host_call_settle(host_call *hc, const cfg *config);

/* Describes a request into a collector directly (used by the engine's own previews of the
 * PATCHes it would send). */
void host_describe(cJSON *requests, const char *method, const char *url, const char *const *headers,
                   const char *body);

#endif
