/* s3 (prefix s3_): uploads one object to Amazon S3 or an S3-compatible store, the way
 * `retirectl cleanup` archives retirements before deleting them (docs/operators.md).
 *
 * Requests are signed with AWS Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4); the
 * payload's SHA-256 (x-amz-content-sha256) and MD5 (Content-Md5, checked by the store) come
 * from libcrypto. Settings, from the config's `s3_archive:` block (docs/configuration.md),
 * else the usual AWS environment variables:
 *   bucket_name (required), region (AWS_REGION, AWS_DEFAULT_REGION, else us-east-1),
 *   endpoint_url (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com),
 *   addressing_style path | virtual (default: path with an endpoint_url or a dotted bucket,
 *   virtual otherwise), access_key_id / secret_access_key / session_token (else
 *   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN), sse AES256 | aws:kms with
 *   sse_kms_key_id, max_retry_seconds (default 120: upstream's 2 minutes).
 * The config's http: timeouts, CA bundle and plain-http rule apply as to every other request.
 * A 5xx, a 429, a throttling or request-timeout error and a failed connection are retried with
 * exponential backoff and full jitter (1, 2, 4 ... s) until max_retry_seconds have passed; any
 * other answer is final. */
#ifndef RETIRECTL_S3_H
#define RETIRECTL_S3_H

#include <stddef.h>

#include "engine/config.h"

typedef struct s3_client s3_client;

/* Reads the settings. need_credentials 0 (a dry run) checks only what naming an object needs.
 * Returns 0 and *out (s3_client_free), or -1 with err naming the config file, line and key
 * (or the environment variable) and what to do. */
int s3_client_new(const cfg *c, int need_credentials, s3_client **out, char *err, size_t err_len);
void s3_client_free(s3_client *s);

/* Progress lines (each backoff: "Backing off 1.4 seconds after 1 tries uploading ..."). */
typedef void (*s3_log_fn)(void *user, const char *line);
void s3_set_log(s3_client *s, s3_log_fn fn, void *user);

const char *s3_bucket(const s3_client *s);
/* "s3://<bucket>/<key>" into out. */
void s3_object_uri(const s3_client *s, const char *key, char *out, size_t out_len);
/* The URL requests for key go to (path or virtual-hosted style, see above); malloc'd. */
char *s3_object_url(const s3_client *s, const char *key);

typedef struct s3_result {
    long status;        /* last HTTP status, 0 when no answer */
    int attempts;       /* PUT attempts made */
    char etag[128];     /* ETag the store answered, without quotes */
    char message[1024]; /* on failure: the request, the status, the store's error code and message */
} s3_result;

/* PUTs body under key (with the configured server-side encryption), then confirms with a HEAD
 * that the object is there with the same size. Returns 0 only when both succeeded. */
int s3_put_object(s3_client *s, const char *key, const void *body, size_t len, const char *content_type,
                  s3_result *r);

#endif
