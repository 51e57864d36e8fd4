/* lms (prefix lms_): the LMS retirement endpoints the scripts use (docs/lms-api.md §5), on top of http.
 * Every call returns 0 on a 2xx answer and -1 otherwise, filling an lms_error that names the
 * URL, the status and the server's message; the caller owns any cJSON it receives. */
#ifndef RETIRECTL_LMS_H
#define RETIRECTL_LMS_H

#include <cjson/cJSON.h>
#include "engine/http.h"

typedef struct lms_error {
    long status;        /* HTTP status, 0 when no answer. Every lms_* call initialises the whole
                           struct first, so it may be passed uninitialised; body is only set on
                           failure, and lms_error_clear is safe to call in every case. */
    char message[1024]; /* "GET http://.../retirement_status/ answered 404: ..." (secret-free) */
    char *body;         /* server body (malloc'd) or NULL; freed by lms_error_clear */
} lms_error;
void lms_error_clear(lms_error *e);

typedef struct lms_client lms_client;
/* base_url: the config's base_urls.lms. The http client must outlive it. */
lms_client *lms_new(http_client *http, const char *base_url);
void lms_free(lms_client *l);

/* GET api/user/v1/accounts/{username}/retirement_status/ -> one status object (docs/lms-api.md §2.5). */
int lms_get_status(lms_client *l, const char *username, cJSON **learner, lms_error *e);
/* PATCH api/user/v1/accounts/update_retirement_status/ {username,new_state,response[,force:true]}.
 * response goes through the outbound scrubber (cfg_redact: config secrets, the live token, plugins'
 * secret_values) and is cut to LMS_RESPONSE_MAX_BYTES with "… [N bytes cut]" only after that. */
#define LMS_RESPONSE_MAX_BYTES (64 * 1024)
int lms_update_state(lms_client *l, const char *username, const char *new_state, const char *response,
                     int force, lms_error *e);
/* GET retirement_queue/ with states (repeated), cool_off_days, limit (omitted when <= 0). */
int lms_queue(lms_client *l, const char *const *states, size_t n_states, long cool_off_days, long limit,
              cJSON **array, lms_error *e);
/* GET retirements_by_status_and_date/ (dates YYYY-MM-DD; state NULL: no state parameter). */
int lms_by_status_and_date(lms_client *l, const char *state, const char *start_date, const char *end_date,
                           cJSON **array, lms_error *e);
/* POST retirement_cleanup/ {"usernames": [...]}. */
int lms_cleanup(lms_client *l, const char *const *usernames, size_t n, lms_error *e);

/* ---- added by engine-a (additive) ---- */
/* POST api/user/v1/accounts/cancel_retirement/ {"retirement_id": id} (docs/lms-api.md §5.19; PENDING only). */
int lms_cancel_retirement(lms_client *l, long retirement_id, lms_error *e);
/* Any LMS API call: method, path relative to base_urls.lms (joined as upstream: trailing slash),
 * optional query string (without '?', already encoded) and JSON body (NULL: none), with the LMS
 * JWT and the upstream retry policy. *out (may be NULL) receives the parsed JSON answer (NULL for
 * an empty body / 204). Returns 0 on 2xx. */
int lms_call(lms_client *l, const char *method, const char *path, const char *query, const cJSON *body,
             cJSON **out, lms_error *e);
/* JSON text as Python's json.dumps renders it (", " and ": " separators, non-ASCII as \uXXXX),
 * which is what upstream's requests(json=...) sends. malloc'd. */
char *lms_json_dumps(const cJSON *value);
/* Number of HTTP attempts the last call of this client made (1 = no retry). */
int lms_last_attempts(const lms_client *l);

#endif
