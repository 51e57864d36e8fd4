/* lms (prefix lms_): the LMS retirement endpoints the scripts use (spec §5), on top of http.
 * Every call returns 0 on a 2xx answer and -1 otherwise, filling an lms_error that names the
 * URL, the status and the server's message; the caller owns any cJSON it receives. */
#ifndef RETIRECTL_LMS_H
#define RETIRECTL_LMS_H

#include <cjson/cJSON.h>
#include "engine/http.h"

typedef struct lms_error {
    long status;        /* HTTP status, 0 when no answer */
    char message[1024]; /* "GET http://.../retirement_status/ answered 404: ..." (secret-free) */
    char *body;         /* server body (malloc'd) or NULL; freed by lms_error_clear */
} lms_error;
void lms_error_clear(lms_error *e);

typedef struct lms_client lms_client;
/* base_url: the config's base_urls.lms. The http client must outlive it. */
lms_client *lms_new(http_client *http, const char *base_url);
void lms_free(lms_client *l);

/* GET api/user/v1/accounts/{username}/retirement_status/ -> one status object (§2.5). */
int lms_get_status(lms_client *l, const char *username, cJSON **learner, lms_error *e);
/* PATCH api/user/v1/accounts/update_retirement_status/ {username,new_state,response[,force:true]}. */
int lms_update_state(lms_client *l, const char *username, const char *new_state, const char *response,
                     int force, lms_error *e);
/* GET retirement_queue/ with states (repeated), cool_off_days, limit (omitted when <= 0). */
int lms_queue(lms_client *l, const char *const *states, size_t n_states, long cool_off_days, long limit,
              cJSON **array, lms_error *e);
/* GET retirements_by_status_and_date/ (dates YYYY-MM-DD). */
int lms_by_status_and_date(lms_client *l, const char *state, const char *start_date, const char *end_date,
                           cJSON **array, lms_error *e);
/* POST retirement_cleanup/ {"usernames": [...]}. */
int lms_cleanup(lms_client *l, const char *const *usernames, size_t n, lms_error *e);

#endif
