/* lms: the LMS retirement endpoints (docs/lms-api.md §5) on top of http; see lms.h.
 * Every call uses the shared LMS JWT and the upstream retry policy (docs/lms-api.md §7.3: every LmsApi
 * retirement method is decorated with it). Request bodies are rendered as Python's json.dumps
 * does and query strings as requests' urlencode(doseq=True), so the wire matches upstream. */
#include "engine/lms.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pycompat.h"
#include "drivers/drv_common.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/http_reason.h"
#include "common/urlencode.h"

struct lms_client {
    http_client *http;
    char *base;
    int last_attempts;
};

void lms_error_clear(lms_error *e)
{
    if (!e) return;
    free(e->body);
    e->body = NULL;
    e->status = 0;
    e->message[0] = '\0';
}

static void error_init(lms_error *e)
{
    if (!e) return;
    e->status = 0;
    e->message[0] = '\0';
    e->body = NULL;
}

lms_client *lms_new(http_client *http, const char *base_url)
{
    if (!http || !base_url || !*base_url) return NULL;
    lms_client *l = xcalloc(1, sizeof *l);
    l->http = http;
    l->base = xstrdup(base_url);
    return l;
}

void lms_free(lms_client *l)
{
    if (!l) return;
    free(l->base);
    free(l);
}

int lms_last_attempts(const lms_client *l) { return l ? l->last_attempts : 0; }

/* ------------------------------------------------------------------ Python-style JSON */

char *lms_json_dumps(const cJSON *value)
{
    return py_json_dumps(value); /* Python's json.dumps, common/pycompat.c */
}

/* ------------------------------------------------------------------ query strings */

/* ------------------------------------------------------------------ calls */

/* Rewrites every JSON escape \u0000 in body to \u0001 in place: a NUL would end a C string
 * early and a username "victim\u0000_x" would become "victim", another learner. U+0001 keeps
 * the whole string, and the callers refuse control characters in usernames (bad record, 251). */
static void defuse_nul_escapes(char *body, size_t len)
{
    for (size_t i = 0; i + 5 < len; i++) {
        if (body[i] != '\\') continue;
        if (body[i + 1] == 'u' && !memcmp(body + i + 2, "0000", 4)) body[i + 5] = '1';
        i++; /* skip the escaped character (also the second of an escaped backslash) */
    }
}

/* The server's message in an error body: a JSON string literal, {"message"|"detail"|"error": ...},
 * other JSON compactly, or the text (HTML pages summarised). */
static void server_message(const char *body, size_t len, strbuf *out)
{
    if (!body || !len) {
        sb_add(out, "(empty body)");
        return;
    }
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (j) {
        const cJSON *m = NULL;
        if (cJSON_IsString(j)) m = j;
        else if (cJSON_IsObject(j)) {
            m = cJSON_GetObjectItemCaseSensitive(j, "message");
            if (!cJSON_IsString(m)) m = cJSON_GetObjectItemCaseSensitive(j, "detail");
            if (!cJSON_IsString(m)) m = cJSON_GetObjectItemCaseSensitive(j, "error");
            if (!cJSON_IsString(m)) m = NULL;
        }
        if (m) sb_add(out, m->valuestring);
        else {
            char *s = cJSON_PrintUnformatted(j);
            sb_add(out, s ? s : "");
            free(s);
        }
        cJSON_Delete(j);
        return;
    }
    const char *p = body;
    while (isspace((unsigned char)*p)) p++;
    if (*p == '<') {
        sb_add(out, "(an HTML error page)");
        return;
    }
    size_t n = len > 300 ? 300 : len;
    for (size_t i = 0; i < n; i++) sb_addc(out, (body[i] == '\n' || body[i] == '\r') ? ' ' : body[i]);
    if (len > n) sb_add(out, "...");
}

static void fill_error(lms_client *l, lms_error *e, const char *method, const char *url, const rd_http_response *r,
                       const char *extra)
{
    if (!e) return;
    strbuf sb = STRBUF_INIT;
    if (r->status == 0 && r->attempts == 0) {
        /* refused before sending (no access token, bad URL): the LMS was never asked */
        sb_addf(&sb, "%s %s: not sent: %s", method, url, r->error[0] ? r->error : "unknown error");
    } else if (r->status == 0) {
        sb_addf(&sb, "%s %s: no answer from the LMS: %s", method, url, r->error[0] ? r->error : "unknown error");
        if (r->attempts > 1) sb_addf(&sb, " (after %d attempts)", r->attempts);
    } else if (extra) {
        sb_addf(&sb, "%s %s answered %ld but %s", method, url, r->status, extra);
    } else {
        sb_addf(&sb, "%s %s answered %ld", method, url, r->status);
        const char *rs = http_reason_phrase(r->status);
        if (*rs) sb_addf(&sb, " %s", rs);
        sb_add(&sb, ": ");
        server_message(r->body, r->body_len, &sb);
        if (r->attempts > 1) sb_addf(&sb, " (after %d attempts)", r->attempts);
    }
    char *clean = cfg_redact(http_config(l->http), sb_str(&sb));
    snprintf(e->message, sizeof e->message, "%s", clean);
    free(clean);
    sb_free(&sb);
    e->status = r->status;
    free(e->body);
    e->body = NULL;
    if (r->body && r->body_len) {
        e->body = xmalloc(r->body_len + 1);
        memcpy(e->body, r->body, r->body_len);
        e->body[r->body_len] = '\0';
    }
}

int lms_call(lms_client *l, const char *method, const char *path, const char *query, const cJSON *body,
             cJSON **out, lms_error *e)
{
    error_init(e);
    if (out) *out = NULL;
    if (!l) {
        if (e) snprintf(e->message, sizeof e->message, "no LMS client (base_urls.lms missing?).");
        return -1;
    }
    char *url = http_url_join(l->base, path);
    if (query && *query) {
        strbuf sb = STRBUF_INIT;
        sb_add(&sb, url);
        sb_addc(&sb, '?');
        sb_add(&sb, query);
        free(url);
        url = sb_take(&sb);
    }
    char *json = body ? lms_json_dumps(body) : NULL;
    rd_http_request req = {.method = method, .url = url, .headers = NULL, .body = json,
                           .body_len = json ? strlen(json) : 0, .auth = RD_AUTH_LMS_JWT,
                           .retry = RD_RETRY_UPSTREAM, .secret_values = NULL, .timeout_seconds = 0};
    rd_http_response r;
    int rc = http_send(l->http, &req, &r);
    l->last_attempts = r.attempts;
    int result = -1;
    if (rc != 0 || r.status < 200 || r.status >= 300) {
        fill_error(l, e, method, url, &r, NULL);
    } else if (r.status == 204 || r.body_len == 0) {
        result = 0;
    } else {
        defuse_nul_escapes(r.body, r.body_len);
        cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
        if (!j) {
            fill_error(l, e, method, url, &r, "the body is not JSON; is base_urls.lms the LMS?");
        } else {
            if (out) *out = j;
            else cJSON_Delete(j);
            result = 0;
        }
    }
    http_response_free(&r);
    free(json);
    free(url);
    return result;
}

/* Like lms_call but requires a JSON value of the given kind (cJSON_Object / cJSON_Array). */
static int call_expect(lms_client *l, const char *method, const char *path, const char *query, int kind,
                       cJSON **out, lms_error *e)
{
    cJSON *j = NULL;
    if (lms_call(l, method, path, query, NULL, &j, e)) return -1;
    if (!j || !(j->type & kind)) {
        char *url = http_url_join(l->base, path);
        if (e) {
            e->status = 200;
            snprintf(e->message, sizeof e->message, "%s %s answered without the JSON %s it should return.", method,
                     url, kind == cJSON_Array ? "list" : "object");
        }
        free(url);
        cJSON_Delete(j);
        return -1;
    }
    *out = j;
    return 0;
}

int lms_get_status(lms_client *l, const char *username, cJSON **learner, lms_error *e)
{
    *learner = NULL;
    char *seg = http_url_escape_pchar(username ? username : "");
    strbuf path = STRBUF_INIT;
    sb_addf(&path, "api/user/v1/accounts/%s/retirement_status", seg);
    int rc = call_expect(l, "GET", sb_str(&path), NULL, cJSON_Object, learner, e);
    sb_free(&path);
    free(seg);
    return rc;
}

int lms_update_state(lms_client *l, const char *username, const char *new_state, const char *response, int force,
                     lms_error *e)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "username", username ? username : "");
    cJSON_AddStringToObject(body, "new_state", new_state ? new_state : "");
    /* the outbound scrubber: every text recorded at the LMS (step responses, ERRORED reasons,
     * rerun/resume/reset records) is scrubbed whole, then bounded with a visible cut marker */
    const cfg *c = http_config(l ? l->http : NULL);
    char *unsplit = cfg_redact_cut(c, response ? response : "", 0);
    char *clean = cfg_redact_bounded(c, unsplit, LMS_RESPONSE_MAX_BYTES);
    cJSON_AddStringToObject(body, "response", clean);
    free(unsplit);
    free(clean);
    if (force) cJSON_AddTrueToObject(body, "force");
    int rc = lms_call(l, "PATCH", "api/user/v1/accounts/update_retirement_status", NULL, body, NULL, e);
    cJSON_Delete(body);
    return rc;
}

int lms_queue(lms_client *l, const char *const *states, size_t n_states, long cool_off_days, long limit,
              cJSON **array, lms_error *e)
{
    *array = NULL;
    strbuf q = STRBUF_INIT;
    char num[32];
    snprintf(num, sizeof num, "%ld", cool_off_days);
    url_form_add(&q, "cool_off_days", num);
    for (size_t i = 0; i < n_states; i++) url_form_add(&q, "states", states[i]);
    if (limit > 0) {
        snprintf(num, sizeof num, "%ld", limit);
        url_form_add(&q, "limit", num);
    }
    int rc = call_expect(l, "GET", "api/user/v1/accounts/retirement_queue", sb_str(&q), cJSON_Array, array, e);
    sb_free(&q);
    return rc;
}

int lms_by_status_and_date(lms_client *l, const char *state, const char *start_date, const char *end_date,
                           cJSON **array, lms_error *e)
{
    *array = NULL;
    strbuf q = STRBUF_INIT;
    url_form_add(&q, "start_date", start_date ? start_date : "");
    url_form_add(&q, "end_date", end_date ? end_date : "");
    if (state) url_form_add(&q, "state", state); /* NULL: omitted, as requests drops a None param */
    int rc = call_expect(l, "GET", "api/user/v1/accounts/retirements_by_status_and_date", sb_str(&q), cJSON_Array,
                         array, e);
    sb_free(&q);
    return rc;
}

int lms_cleanup(lms_client *l, const char *const *usernames, size_t n, lms_error *e)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(body, "usernames");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(list, cJSON_CreateString(usernames[i]));
    int rc = lms_call(l, "POST", "api/user/v1/accounts/retirement_cleanup", NULL, body, NULL, e);
    cJSON_Delete(body);
    return rc;
}

int lms_cancel_retirement(lms_client *l, long retirement_id, lms_error *e)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "retirement_id", (double)retirement_id);
    int rc = lms_call(l, "POST", "api/user/v1/accounts/cancel_retirement", NULL, body, NULL, e);
    cJSON_Delete(body);
    return rc;
}
