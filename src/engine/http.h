/* http (prefix http_): the engine's libcurl client. Builds URLs as upstream does, fetches and
 * shares the LMS JWT (one per process, refreshed once on 401 or after expires_in), applies
 * the upstream retry policy (docs/lms-api.md §7.3) with configurable caps, timeouts on every request,
 * TLS verification, plain-http refusal for non-loopback hosts, secret scrubbing, and a request
 * log callback. The request/response types are the plugin ABI's (include/retirectl/driver.h).
 *
 * Environment: RETIRECTL_TEST_BACKOFF_SCALE=<float> multiplies every retry wait (backoff,
 * 504 wait, Retry-After) of clients created afterwards; tests set 0.01. Budgets
 * (http.max_retry_seconds) are not scaled. Not for production use.
 *
 * Fork: a client used in a forked child (a job worker) opens its own connections there and
 * never touches the parent's keep-alive sockets. One client is safe to share between threads
 * (requests are serialised). */
#ifndef RETIRECTL_HTTP_H
#define RETIRECTL_HTTP_H

#include <signal.h> /* sig_atomic_t: cancel flags set by signal handlers */
#include <stddef.h>
#include <curl/curl.h>
#include "engine/config.h"
#include "retirectl/driver.h"

typedef struct http_client http_client;

/* Called for every attempt and every retry decision, with a secret-free line such as
 * "POST http://h/api/.../retire/ -> 500 (attempt 2); trying again in 1.3 s". */
typedef void (*http_log_fn)(void *user, rd_log_level level, const char *line);

/* Creates a client for the config's LMS (base_urls.lms, client_id, client_secret) and http
 * settings. Does not contact the network. NULL with err on bad settings. The config must
 * outlive the client. In a process started with RETIRECTL_TOKEN_FD=N every client starts with
 * the token its parent wrote to that pipe ("TOKEN\tSECONDS_LEFT\n"; see http.c). */
http_client *http_client_new(const cfg *config, char *err, size_t err_len);
void http_client_free(http_client *h);
void http_set_log(http_client *h, http_log_fn fn, void *user);
/* A flag the caller sets to stop retry waits early (e.g. on SIGTERM or a cancel key). */
void http_set_cancel_flag(http_client *h, volatile sig_atomic_t *flag);


/* Fetches a token now if none is held or it has expired (POST {lms}/oauth2/access_token as
 * docs/lms-api.md §4). Returns 0, or -1 with a sentence (URL and status, never the secret) in err. */
int http_ensure_token(http_client *h, char *err, size_t err_len);
/* Upstream parity (docs/lms-api.md §9.1 step 1, §4): retire_one_learner.py builds one API client per IDA,
 * each fetching its own LMS token at construction, after the LMS client's. Call after
 * http_ensure_token to send those extra token POSTs: one per non-empty base_urls.ecommerce,
 * .credentials, .demographics, .license_manager (in that order). The last token fetched is the
 * one kept and shared. 0, or -1 with the same sentence as http_ensure_token (a failing IDA
 * token fetch is ERR_SETUP_FAILED upstream). Only retire (not queue/reset) does this. */
int http_fetch_service_tokens(http_client *h, char *err, size_t err_len);
/* The token held and its seconds of life left (-1: no expiry known), so a process tree can share
 * one token (the console hands the token its fetch children got to later children). 0, or -1
 * when none is held or out_len is too small. The token is a secret: never print or log it. */
int http_token_get(http_client *h, char *out, size_t out_len, double *seconds_left);
/* Adopts a token fetched by another process of the same tree (seconds_left < 0: no expiry). */
void http_token_set(http_client *h, const char *token, double seconds_left);
/* Number of token fetches this process made (for tests and the bench). */
int http_token_fetches(const http_client *h);

/* Sets on c the transport rules every request of retirectl follows, the LMS's and the IDAs', the
 * drivers' and the S3 archive's: http and https only, redirects never followed, TLS peer and
 * host verified (against http.ca_bundle when set), no signals from libcurl. */
void http_set_transport_policy(CURL *c, const cfg_http *hc);

/* The proxy a request to url goes through: http.proxy when set ("" = none), else libcurl's
 * variables (http_proxy for http://, https_proxy / HTTPS_PROXY for https://, then all_proxy /
 * ALL_PROXY); *from names the source. "" when none. Every client hands the result to libcurl
 * explicitly (CURLOPT_PROXY), so what url_rule_check_proxy checks is what is used. */
const char *http_proxy_for(const cfg *config, const char *url, const char **from);

/* Sends one request as rd_host.http does (see driver.h). 0 = a response arrived, -1 = none. */
int http_send(http_client *h, const rd_http_request *req, rd_http_response *resp);
void http_response_free(rd_http_response *resp);

/* Number of new connections this client opened (keep-alive reuse shows as 1 for many requests;
 * for tests and the bench; added by engine-a). */
int http_connections_opened(const http_client *h);
/* The config this client was made with (added by engine-a). */
const cfg *http_config(const http_client *h);

/* Upstream URL join: base + "/" + path with its leading/trailing '/' removed + "/". malloc'd. */
char *http_url_join(const char *base, const char *path);
/* Percent-encodes one path segment (everything but unreserved RFC 3986 characters). malloc'd.
 * A dot-only segment ("." / "..") is encoded too, so it cannot become a dot-segment. */
char *http_url_escape(const char *segment);
/* Added by engine-a: encodes one path segment as Python requests puts an f-string path on the
 * wire: RFC 3986 pchars (unreserved, sub-delims !$&'()*+,;= and ':' '@') stay raw, everything
 * else ('/', '?', '#', '%', space, non-ASCII) is encoded, dot-only segments too. Use it for
 * usernames in upstream paths to match upstream request traces byte for byte. malloc'd. */
char *http_url_escape_pchar(const char *segment);

#endif
