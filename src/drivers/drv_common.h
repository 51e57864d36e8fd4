/* drv_common (prefix drv_): what the built-in drivers share, written against the driver ABI
 * only (plus pyrepr for the texts): an upstream-style API call through host->http with the
 * LMS JWT and the upstream retry policy, turning the answer into the rd_status and the text
 * the upstream scripts record (docs/lms-api.md §7.1, §7.2), request bodies encoded exactly as Python's
 * json.dumps (", " / ": " separators, ASCII-only), and previews. */
#ifndef RETIRECTL_DRV_COMMON_H
#define RETIRECTL_DRV_COMMON_H

#include <cjson/cJSON.h>

#include "common/strbuf.h"
#include "retirectl/driver.h"

/* A driver instance of the built-ins: the host and the service's base URL. */
typedef struct drv_instance {
    const rd_host *host;
    char *base_url;          /* owned */
    char *path;              /* generic driver: retirement_url_path (owned), else NULL */
} drv_instance;

/* Builds an instance whose base URL is the config string at base_key (e.g.
 * "base_urls.ecommerce"); NULL with a sentence naming the key on failure. */
drv_instance *drv_instance_new(const rd_host *host, const char *base_key, const char *driver_name, char *err,
                               size_t err_len);
void drv_instance_free(void *instance);

/* Appends s as Python's json.dumps encodes a str (with quotes, ensure_ascii). */
void drv_json_str(strbuf *sb, const char *s);

/* How a call treats a 404. */
typedef enum drv_404 { DRV_404_FAILS = 0, DRV_404_SUCCEEDS = 1 } drv_404;

/* Sends method to base_url joined with path (upstream join, trailing slash) with body (may be
 * NULL), and fills call->message with the upstream text: 204 -> "<Response [204]>", JSON ->
 * Python repr, swallowed 404 -> "True" (after logging log_404); an HTTP error -> requests'
 * HTTPError text. Returns RD_OK, RD_NOT_FOUND (swallowed 404), RD_FAILED (4xx / bad JSON),
 * RD_RETRYABLE (5xx or no answer after the host's retries). If json_out is set it receives
 * the parsed body of a 2xx answer (caller frees). */
rd_status drv_call(rd_call *call, const drv_instance *in, const char *method, const char *path, const char *body,
                   drv_404 on_404, const char *log_404, cJSON **json_out);
/* Describes the same request for a preview; note (may be NULL) is appended to the message. */
rd_status drv_preview(rd_call *call, const drv_instance *in, const char *method, const char *path,
                      const char *body, const char *note);

/* Reads learner["original_username"] (string) or learner["user"]["id"] (integer); on absence
 * sets the message Python's KeyError gives ("'original_username'") and returns NULL / -1. */
const char *drv_original_username(const cJSON *learner, rd_call *call);
int drv_lms_user_id(const cJSON *learner, rd_call *call, long long *out);

#endif
