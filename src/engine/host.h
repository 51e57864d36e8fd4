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

/* One call context; `requests` collects what a preview describes as a JSON array of
 * {"method","url","headers":[...],"body"} (secrets are scrubbed when events are written). */
typedef struct host_call {
    rd_call call;
    cJSON *requests; /* owned; NULL unless collect was set */
} host_call;
void host_call_init(host_call *hc, const rd_host *host, int collect);
void host_call_done(host_call *hc);
/* Call after the driver method returns: scrubs the message in place. A message that fills the
 * fixed buffer was cut by the driver: a secret's beginning left at the cut is masked too, and
 * the text ends in a "… [driver message full at N bytes; the rest was cut]" marker. */
void host_call_settle(host_call *hc, const cfg *config);

/* Describes a request into a collector directly (used by the engine's own previews of the
 * PATCHes it would send). */
void host_describe(cJSON *requests, const char *method, const char *url, const char *const *headers,
                   const char *body);

#endif
