/* retirectl-sim LMS and IDA endpoints (docs/lms-api.md §4-§6): OAuth2 token, JWT auth, the retirement API with
 * the exact status codes and bodies of the LMS, and the ecommerce/credentials/demographics/license
 * manager retirement endpoints under their path prefixes. */
#include "internal.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- tokens ---- */

/* mac = first 8 bytes of sha1(key || payload), hex. */
static void token_mac(const sim_server *s, const char *payload, size_t n, char out[17])
{
    unsigned char buf[128], d[20];
    memcpy(buf, s->token_key, 16);
    memcpy(buf + 16, payload, n);
    sim_sha1(buf, 16 + n, d);
    for (int i = 0; i < 8; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

char *lms_issue_token(sim_server *s, long lifetime, int64_t *expires_ms)
{
    static __thread uint64_t rs;
    if (!rs) rs = (uint64_t)clk_wall_us() ^ ((uint64_t)(uintptr_t)&rs << 16) ^ 0x9E3779B97F4A7C15ULL;
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    int64_t now_ms = clk_wall_us() / 1000;
    int64_t exp = now_ms + (int64_t)lifetime * 1000;
    char tok[64];
    snprintf(tok, sizeof tok, "%016llx%012llx%012llx", (unsigned long long)rs, (unsigned long long)now_ms & 0xffffffffffffULL,
             (unsigned long long)exp & 0xffffffffffffULL);
    token_mac(s, tok, 40, tok + 40);
    if (expires_ms) *expires_ms = exp;
    return xstrdup(tok);
}

/* A DOT-style opaque access token (30 alphanumerics), malloc'd. */
static char *opaque_token(void)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t x = (uint64_t)clk_wall_us() * 6364136223846793005ULL + (uint64_t)(uintptr_t)&x;
    char *t = xmalloc(31);
    for (int i = 0; i < 30; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t[i] = al[x % (sizeof al - 1)];
    }
    t[30] = '\0';
    return t;
}

/* 0 valid, 1 expired/revoked, 2 invalid. */
static int token_check(sim_server *s, const char *tok)
{
    if (strlen(tok) != 56) return 2;
    for (int i = 0; i < 56; i++)
        if (!isxdigit((unsigned char)tok[i])) return 2;
    char mac[17];
    token_mac(s, tok, 40, mac);
    if (strncmp(mac, tok + 40, 16)) return 2;
    char f[13];
    memcpy(f, tok + 16, 12);
    f[12] = 0;
    int64_t issued = (int64_t)strtoull(f, NULL, 16);
    memcpy(f, tok + 28, 12);
    int64_t exp = (int64_t)strtoull(f, NULL, 16);
    int64_t now_ms = clk_wall_us() / 1000;
    int64_t cutoff = __atomic_load_n(&s->token_cutoff_ms, __ATOMIC_RELAXED);
    if (issued < cutoff || now_ms >= exp) return 1;
    return 0;
}

static void respond_401(sim_response *resp, const char *detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "detail", detail);
    sim_respond_json(resp, 401, o);
    sim_response_add_header(resp, "WWW-Authenticate", "JWT realm=\"api\"");
}

int sim_check_jwt(sim_server *s, const sim_request *req, sim_response *resp)
{
    const char *a = req->authorization;
    if (!a || !*a) {
        respond_401(resp, "Authentication credentials were not provided.");
        return 0;
    }
    while (*a == ' ') a++;
    size_t sl = strcspn(a, " ");
    if (sl != 3 || strncasecmp(a, "JWT", 3)) {
        respond_401(resp, "Authentication credentials were not provided.");
        return 0;
    }
    const char *t = a + 3;
    while (*t == ' ') t++;
    if (!*t) {
        respond_401(resp, "Invalid Authorization header. No credentials provided.");
        return 0;
    }
    if (strchr(t, ' ')) {
        respond_401(resp, "Invalid Authorization header. Credentials string should not contain spaces.");
        return 0;
    }
    int rc = token_check(s, t);
    if (rc == 1) {
        respond_401(resp, "Signature has expired.");
        return 0;
    }
    if (rc == 2) {
        respond_401(resp, "Error decoding signature.");
        return 0;
    }
    return 1;
}

/* POST /oauth2/access_token (form body). */
static void h_token(sim_server *s, const sim_request *req, sim_response *resp)
{
    char *gt = sim_form_value(req->body, req->body_len, "grant_type");
    char *cid = sim_form_value(req->body, req->body_len, "client_id");
    char *cs = sim_form_value(req->body, req->body_len, "client_secret");
    char *tt = sim_form_value(req->body, req->body_len, "token_type");
    const char *xtt = sim_request_header(req, "X-Token-Type");
    int jwt = (tt && !strcasecmp(tt, "jwt")) || (xtt && !strcasecmp(xtt, "jwt"));
    pthread_mutex_lock(&s->mu);
    long lifetime = s->token_lifetime;
    int client_ok = cid && cs && !strcmp(cid, s->client_id) && !strcmp(cs, s->client_secret);
    pthread_mutex_unlock(&s->mu);
    cJSON *o = cJSON_CreateObject();
    if (!gt || strcmp(gt, "client_credentials")) {
        cJSON_AddStringToObject(o, "error", "unsupported_grant_type");
        sim_respond_json(resp, 400, o);
    } else if (!client_ok) {
        cJSON_AddStringToObject(o, "error", "invalid_client");
        sim_respond_json(resp, 401, o);
    } else {
        /* Without token_type=jwt DOT issues an opaque Bearer token, which the retirement
         * views (JwtAuthentication) reject. */
        char *tok = jwt ? lms_issue_token(s, lifetime, NULL) : opaque_token();
        cJSON_AddStringToObject(o, "access_token", tok);
        cJSON_AddNumberToObject(o, "expires_in", (double)lifetime);
        cJSON_AddStringToObject(o, "token_type", jwt ? "JWT" : "Bearer");
        cJSON_AddStringToObject(o, "scope", "read write email profile");
        free(tok);
        sim_respond_json(resp, 200, o);
    }
    sim_response_add_header(resp, "Cache-Control", "no-store");
    free(gt);
    free(cid);
    free(cs);
    free(tt);
}

/* ---- helpers ---- */

typedef struct ctx {
    sim_server *s;
    const sim_request *req;
    sim_response *resp;
    cJSON *data;     /* request.data: parsed JSON/form body, {} when empty; NULL when unparsable */
    char *parse_err; /* DRF ParseError detail when data is NULL */
    const char *arg; /* decoded path argument (username or id) */
} ctx;

/* DRF's 400 for an unparsable JSON body, or 415 for a content type no parser takes. */
static int need_data(ctx *c)
{
    if (c->data) return 1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "detail", c->parse_err ? c->parse_err : "JSON parse error");
    sim_respond_json(c->resp, c->parse_err && !strncmp(c->parse_err, "Unsupported media type", 22) ? 415 : 400, o);
    return 0;
}

/* request.data is a dict (QueryDict or JSON object). */
static int data_is_dict(const ctx *c) { return cJSON_IsObject(c->data); }

/* request.data.get(key) */
static const cJSON *data_get(const ctx *c, const char *key)
{
    return cJSON_IsObject(c->data) ? cJSON_GetObjectItemCaseSensitive(c->data, key) : NULL;
}

/* The username value of request.data as Django would compare it (str()), malloc'd; NULL if absent/None. */
static char *data_username(const ctx *c, const char *key)
{
    const cJSON *v = data_get(c, key);
    if (!v || cJSON_IsNull(v)) return NULL;
    strbuf b = {0};
    sim_py_str_json(&b, v);
    return sb_take(&b);
}

/* Python's TypeError text for data['key'] when request.data is not a dict. */
static const char *subscript_type_error(const cJSON *d)
{
    if (cJSON_IsArray(d)) return "list indices must be integers or slices, not str";
    if (cJSON_IsString(d)) return "string indices must be integers";
    if (cJSON_IsBool(d)) return "'bool' object is not subscriptable";
    if (cJSON_IsNull(d)) return "'NoneType' object is not subscriptable";
    if (cJSON_IsNumber(d) && d->valuedouble != (double)(long long)d->valuedouble) return "'float' object is not subscriptable";
    return "'int' object is not subscriptable";
}

/* @request_requires_username: 404 {"message": "The user was not specified."} when falsy. */
static int require_username(ctx *c)
{
    if (data_is_dict(c) && sim_py_truthy(data_get(c, "username"))) return 1;
    if (!data_is_dict(c)) {
        http_server_error(c->resp);
        return 0;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", "The user was not specified.");
    sim_respond_json(c->resp, 404, o);
    return 0;
}

/* str(UserRetirementStatus) */
static void row_str(const sim_server *s, const sim_learner *l, strbuf *b)
{
    char py[48];
    sim_fmt_py(l->modified_us, py);
    sb_addf(b, "User: %ld State: ", l->user_id);
    store_state_str(s, l->cur, b);
    sb_addf(b, " Last Updated: %s", py);
}

enum { RA_OK = 0, RA_DOES_NOT_EXIST = 1, RA_STATE_ERROR = 2 };

/* UserRetirementStatus.get_retirement_for_retirement_action(username) (docs/lms-api.md §3.3). */
static int retirement_action_locked(sim_server *s, const char *username, sim_learner **out, strbuf *msg)
{
    sim_learner *l = username ? store_find_orig_locked(s, username) : NULL;
    if (!l || !l->has_row) {
        if (username) sb_addf(msg, "%s does not have an exact match in UserRetirementStatus. 0 similar rows found.", username);
        return RA_DOES_NOT_EXIST;
    }
    const sim_state *st = &s->states[l->cur];
    size_t nl = strlen(st->name);
    if (st->required || (nl >= 9 && !strcmp(st->name + nl - 9, "_COMPLETE"))) {
        row_str(s, l, msg);
        sb_addf(msg, " is in %s, not a valid state to perform retirement actions on.", st->name);
        return RA_STATE_ERROR;
    }
    *out = l;
    return RA_OK;
}

static void respond_msg(sim_response *resp, int status, const char *key, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, key, msg);
    sim_respond_json(resp, status, o);
}

/* Creates the UserRetirementStatus row for a known user (deactivate_logout hook). */
static void start_retirement_locked(sim_server *s, sim_learner *l)
{
    l->has_row = 1;
    l->rid = s->next_rid++;
    l->cur = l->last = 0;
    l->created_us = l->modified_us = clk_wall_us();
    l->responses.len = 0;
    sb_add(&l->responses, "Created in state ");
    store_state_str(s, 0, &l->responses);
    sb_add(&l->responses, " by create_retirement");
    free(l->email);
    l->email = xstrdup(l->retired_email);
}

static int cmp_rid(const void *a, const void *b)
{
    const sim_learner *x = *(sim_learner *const *)a, *y = *(sim_learner *const *)b;
    return x->rid < y->rid ? -1 : x->rid > y->rid;
}

/* All values of a repeated query key, decoded, as a cJSON array of strings. */
static cJSON *query_all(const sim_request *req, const char *key)
{
    cJSON *a = cJSON_CreateArray();
    const char *s = req->query;
    size_t len = strlen(s), i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&') j++;
        size_t eq = i;
        while (eq < j && s[eq] != '=') eq++;
        char *k = sim_url_decode(s + i, eq - i, 1);
        if (!strcmp(k, key)) {
            char *v = eq < j ? sim_url_decode(s + eq + 1, j - eq - 1, 1) : xstrdup("");
            cJSON_AddItemToArray(a, cJSON_CreateString(v));
            free(v);
        }
        free(k);
        i = j + 1;
    }
    return a;
}

static void bad_request(sim_response *resp, const char *msg) { sim_respond_json_string(resp, 400, msg); }

/* ---- LMS endpoints ---- */

/* GET retirement_queue (docs/lms-api.md §5.1) */
static void h_queue(ctx *c)
{
    sim_server *s = c->s;
    char *cod = sim_request_query(c->req, "cool_off_days");
    char *limit = NULL;
    cJSON *states = NULL;
    strbuf msg = {0};
    long long days = 0, lim = -1;
    if (!cod) {
        bad_request(c->resp, "Missing required parameter: 'cool_off_days'");
        goto out;
    }
    if (sim_py_int(cod, &days)) {
        bad_request(c->resp, "Invalid cool_off_days, should be integer.");
        goto out;
    }
    if (days < 0) {
        bad_request(c->resp, "Invalid argument for cool_off_days, must be greater than 0.");
        goto out;
    }
    states = query_all(c->req, "states");
    int n = cJSON_GetArraySize(states);
    if (!n) {
        bad_request(c->resp, "Param \"states\" required with at least one state.");
        goto out;
    }
    pthread_mutex_lock(&s->mu);
    char *want = xcalloc((size_t)s->n_states, 1);
    int found = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, states) {
        int i = store_state_index(s, st->valuestring);
        if (i >= 0 && !want[i]) {
            want[i] = 1;
            found++;
        }
    }
    if (found != n) {
        sb_add(&msg, "Unknown state. Requested: ");
        sim_py_str_json(&msg, states);
        sb_add(&msg, " Found: [");
        int first = 1;
        for (int i = 0; i < s->n_states; i++)
            if (want[i]) {
                if (!first) sb_add(&msg, ", ");
                first = 0;
                sim_py_repr_str(&msg, s->states[i].name);
            }
        sb_add(&msg, "]");
        pthread_mutex_unlock(&s->mu);
        free(want);
        bad_request(c->resp, msg.data);
        goto out;
    }
    limit = sim_request_query(c->req, "limit");
    if (limit && *limit) {
        if (sim_py_int(limit, &lim)) {
            pthread_mutex_unlock(&s->mu);
            free(want);
            sb_addf(&msg, "Limit could not be parsed: %s, please ensure this is an integer", limit);
            bad_request(c->resp, msg.data);
            goto out;
        }
        if (lim < 0) {
            pthread_mutex_unlock(&s->mu);
            free(want);
            bad_request(c->resp, "Invalid cool_off_days, should be integer.");
            goto out;
        }
    }
    if (days > 700000) { /* datetime - timedelta overflows: an unhandled OverflowError in the LMS */
        pthread_mutex_unlock(&s->mu);
        free(want);
        http_server_error(c->resp);
        goto out;
    }
    int64_t earliest = clk_wall_us() - (int64_t)days * 86400 * 1000000;
    sim_learner **hits = xmalloc((s->n_learners + 1) * sizeof *hits);
    size_t nh = 0;
    for (size_t i = 0; i < s->n_learners; i++) {
        sim_learner *l = s->L[i];
        if (l->has_row && want[l->cur] && l->created_us < earliest) hits[nh++] = l;
    }
    qsort(hits, nh, sizeof *hits, cmp_rid);
    if (lim >= 0 && (size_t)lim < nh) nh = (size_t)lim;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < nh; i++) cJSON_AddItemToArray(a, store_status_json_locked(s, hits[i]));
    pthread_mutex_unlock(&s->mu);
    free(hits);
    free(want);
    sim_respond_json(c->resp, 200, a);
out:
    free(cod);
    free(limit);
    free(msg.data);
    cJSON_Delete(states);
}

/* GET retirements_by_status_and_date (docs/lms-api.md §5.2) */
static void h_by_status_and_date(ctx *c)
{
    sim_server *s = c->s;
    char *sd = sim_request_query(c->req, "start_date"), *ed = NULL, *state = NULL;
    char err[300];
    strbuf msg = {0};
    int64_t start, end;
    if (!sd) {
        bad_request(c->resp, "Missing required parameter: 'start_date'");
        goto out;
    }
    if (sim_py_strptime_ymd(sd, &start, err, sizeof err)) {
        sb_addf(&msg, "Invalid start or end date: %s", err);
        bad_request(c->resp, msg.data);
        goto out;
    }
    ed = sim_request_query(c->req, "end_date");
    if (!ed) {
        bad_request(c->resp, "Missing required parameter: 'end_date'");
        goto out;
    }
    if (sim_py_strptime_ymd(ed, &end, err, sizeof err)) {
        sb_addf(&msg, "Invalid start or end date: %s", err);
        bad_request(c->resp, msg.data);
        goto out;
    }
    int64_t now = clk_wall_us();
    if (start > now || end > now || start > end) {
        bad_request(c->resp, "Dates must be today or earlier, and start must be earlier than end.");
        goto out;
    }
    end += (int64_t)86400 * 1000000;
    state = sim_request_query(c->req, "state");
    if (!state) {
        bad_request(c->resp, "Missing required parameter: 'state'");
        goto out;
    }
    pthread_mutex_lock(&s->mu);
    int si = store_state_index(s, state);
    if (si < 0) {
        pthread_mutex_unlock(&s->mu);
        bad_request(c->resp, "Unknown retirement state.");
        goto out;
    }
    sim_learner **hits = xmalloc((s->n_learners + 1) * sizeof *hits);
    size_t nh = 0;
    for (size_t i = 0; i < s->n_learners; i++) {
        sim_learner *l = s->L[i];
        if (l->has_row && l->cur == si && l->created_us >= start && l->created_us < end) hits[nh++] = l;
    }
    qsort(hits, nh, sizeof *hits, cmp_rid);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < nh; i++) cJSON_AddItemToArray(a, store_status_json_locked(s, hits[i]));
    pthread_mutex_unlock(&s->mu);
    free(hits);
    sim_respond_json(c->resp, 200, a);
out:
    free(sd);
    free(ed);
    free(state);
    free(msg.data);
}

/* GET {username}/retirement_status (docs/lms-api.md §5.3) */
static void h_status(ctx *c)
{
    pthread_mutex_lock(&c->s->mu);
    sim_learner *l = store_find_any_locked(c->s, c->arg);
    if (l && l->has_row) sim_respond_json(c->resp, 200, store_status_json_locked(c->s, l));
    else sim_respond_empty(c->resp, 404);
    pthread_mutex_unlock(&c->s->mu);
}

/* PATCH update_retirement_status (docs/lms-api.md §3.2, §5.4) */
static void h_update(ctx *c)
{
    sim_server *s = c->s;
    if (!need_data(c) || !require_username(c)) return;
    char *username = data_username(c, "username");
    strbuf msg = {0};
    pthread_mutex_lock(&s->mu);
    sim_learner *l = store_find_orig_locked(s, username);
    if (!l || !l->has_row) {
        sim_respond_empty(c->resp, 404);
        goto out;
    }
    static const char *const req_keys[] = {"username", "new_state", "response"};
    for (int i = 0; i < 3; i++)
        if (!data_get(c, req_keys[i])) {
            sb_addf(&msg, "RetirementStatus: Required key %s missing from update", req_keys[i]);
            bad_request(c->resp, msg.data);
            goto out;
        }
    const cJSON *k;
    cJSON_ArrayForEach(k, c->data) {
        if (strcmp(k->string, "username") && strcmp(k->string, "new_state") && strcmp(k->string, "response") &&
            strcmp(k->string, "force")) {
            sb_addf(&msg, "RetirementStatus: Unknown key %s in update", k->string);
            bad_request(c->resp, msg.data);
            goto out;
        }
    }
    const cJSON *ns = data_get(c, "new_state");
    int force = sim_py_truthy(data_get(c, "force"));
    int ni = cJSON_IsString(ns) ? store_state_index(s, ns->valuestring) : -1;
    if (!force && (ni < 0 || ni <= l->cur)) {
        sim_py_str_json(&msg, ns);
        sb_add(&msg, " does not exist or is an eariler state than current state ");
        store_state_str(s, l->cur, &msg);
        bad_request(c->resp, msg.data);
        goto out;
    }
    if (ni < 0) {
        sim_respond_json_string(c->resp, 500, "RetirementState matching query does not exist.");
        goto out;
    }
    int old = l->cur;
    l->last = old;
    l->cur = ni;
    sb_add(&l->responses, "\n Moved from ");
    store_state_str(s, old, &l->responses);
    sb_add(&l->responses, " to ");
    store_state_str(s, ni, &l->responses);
    sb_add(&l->responses, ":\n");
    sim_py_str_json(&l->responses, data_get(c, "response"));
    sb_add(&l->responses, "\n");
    l->modified_us = clk_wall_us();
    sim_respond_empty(c->resp, 204);
out:
    pthread_mutex_unlock(&s->mu);
    free(username);
    free(msg.data);
}

/* POST deactivate_logout (docs/lms-api.md §5.5): 403 for the service user, or the test hook. */
static void h_deactivate(ctx *c)
{
    sim_server *s = c->s;
    pthread_mutex_lock(&s->mu);
    int done = 0;
    if (s->deactivate_hook && c->data) {
        char *u = data_username(c, "username");
        sim_learner *l = store_find_orig_locked(s, u);
        if (l && !l->has_row) {
            start_retirement_locked(s, l);
            done = 1;
        }
        free(u);
    }
    pthread_mutex_unlock(&s->mu);
    if (done) sim_respond_empty(c->resp, 204);
    else respond_msg(c->resp, 403, "detail", "You do not have permission to perform this action.");
}

/* The shape shared by forum / mailings / notes: request.data['username'] (KeyError -> HTML 500). */
static int username_key_or_500(ctx *c)
{
    if (!need_data(c)) return 0;
    if (!data_is_dict(c) || !data_get(c, "username")) {
        http_server_error(c->resp);
        return 0;
    }
    return 1;
}

/* POST api/discussion/v1/accounts/retire_forum (docs/lms-api.md §5.6) */
static void h_forum(ctx *c)
{
    if (!username_key_or_500(c)) return;
    char *u = data_username(c, "username");
    strbuf msg = {0};
    sim_learner *l = NULL;
    pthread_mutex_lock(&c->s->mu);
    int rc = retirement_action_locked(c->s, u, &l, &msg);
    if (rc == RA_DOES_NOT_EXIST) sim_respond_empty(c->resp, 404);
    else if (rc == RA_STATE_ERROR) sim_respond_json_string(c->resp, 500, msg.data);
    else if (!l->forum_known) sim_respond_empty(c->resp, 404);
    else {
        l->forum_retired++;
        sim_respond_empty(c->resp, 204);
    }
    pthread_mutex_unlock(&c->s->mu);
    free(u);
    free(msg.data);
}

/* POST retire_mailings, legacy LMS only (docs/lms-api.md §5.7) */
static void h_mailings(ctx *c)
{
    if (!username_key_or_500(c)) return;
    char *u = data_username(c, "username");
    strbuf msg = {0};
    sim_learner *l = NULL;
    pthread_mutex_lock(&c->s->mu);
    int rc = retirement_action_locked(c->s, u, &l, &msg);
    if (rc == RA_DOES_NOT_EXIST) sim_respond_empty(c->resp, 404);
    else if (rc == RA_STATE_ERROR) sim_respond_json_string(c->resp, 500, msg.data);
    else {
        l->mailings_retired++;
        sim_respond_empty(c->resp, 204);
    }
    pthread_mutex_unlock(&c->s->mu);
    free(u);
    free(msg.data);
}

/* POST api/enrollment/v1/unenroll (docs/lms-api.md §5.8) */
static void h_unenroll(ctx *c)
{
    if (!need_data(c)) return;
    if (!data_is_dict(c)) { /* TypeError inside the view's try: generic 500 with the text */
        sim_respond_json_string(c->resp, 500, subscript_type_error(c->data));
        return;
    }
    if (!data_get(c, "username")) { /* KeyError */
        sim_respond_json_string(c->resp, 404, "Username not specified.");
        return;
    }
    char *u = data_username(c, "username");
    strbuf msg = {0};
    sim_learner *l = NULL;
    pthread_mutex_lock(&c->s->mu);
    int rc = retirement_action_locked(c->s, u, &l, &msg);
    if (rc == RA_DOES_NOT_EXIST) sim_respond_json_string(c->resp, 404, "No retirement request status for username.");
    else if (rc == RA_STATE_ERROR) sim_respond_json_string(c->resp, 500, msg.data);
    else if (!l->enrollments_active || strcmp(l->username, u)) /* enrollments are found by current username */
        sim_respond_empty(c->resp, 204);
    else {
        l->enrollments_active = 0;
        sim_respond_json(c->resp, 200, cJSON_Duplicate(l->orgs, 1));
    }
    pthread_mutex_unlock(&c->s->mu);
    free(u);
    free(msg.data);
}

/* POST api/edxnotes/v1/retire_user (docs/lms-api.md §5.9) */
static void h_notes(ctx *c)
{
    if (!username_key_or_500(c)) return;
    char *u = data_username(c, "username");
    strbuf msg = {0};
    sim_learner *l = NULL;
    pthread_mutex_lock(&c->s->mu);
    int rc = retirement_action_locked(c->s, u, &l, &msg);
    if (rc == RA_DOES_NOT_EXIST) sim_respond_empty(c->resp, 404);
    else if (rc == RA_STATE_ERROR) sim_respond_json_string(c->resp, 405, msg.data);
    else if (!l->notes_ok) sim_respond_json_string(c->resp, 500, "EdxNotes Service is unavailable. Please try again in a few minutes.");
    else {
        l->notes_retired++;
        sim_respond_empty(c->resp, 204);
    }
    pthread_mutex_unlock(&c->s->mu);
    free(u);
    free(msg.data);
}

/* POST retire_misc (docs/lms-api.md §5.10) and retire (docs/lms-api.md §5.11). */
static void h_misc_or_retire(ctx *c, int final)
{
    if (!need_data(c) || !require_username(c)) return;
    char *u = data_username(c, "username");
    strbuf msg = {0};
    sim_learner *l = NULL;
    pthread_mutex_lock(&c->s->mu);
    int rc = retirement_action_locked(c->s, u, &l, &msg);
    if (rc == RA_DOES_NOT_EXIST) sim_respond_empty(c->resp, 404);
    else if (rc == RA_STATE_ERROR) sim_respond_json_string(c->resp, 400, msg.data);
    else if (!final) {
        l->misc_retired++;
        sim_respond_empty(c->resp, 204);
    } else {
        free(l->username);
        l->username = xstrdup(l->retired_username);
        free(l->email);
        l->email = xstrdup(l->retired_email);
        free(l->profile_name);
        l->profile_name = xstrdup("");
        l->is_active = 0;
        l->lms_retired++;
        sim_respond_empty(c->resp, 204);
    }
    pthread_mutex_unlock(&c->s->mu);
    free(u);
    free(msg.data);
}

static void h_misc(ctx *c) { h_misc_or_retire(c, 0); }
static void h_retire(ctx *c) { h_misc_or_retire(c, 1); }

/* PUT retirement_partner_report (docs/lms-api.md §5.12) / POST (docs/lms-api.md §5.13) */
static void h_partner(ctx *c)
{
    sim_server *s = c->s;
    if (!strcmp(c->req->method, "PUT")) {
        if (!need_data(c) || !require_username(c)) return;
        char *u = data_username(c, "username");
        strbuf msg = {0};
        sim_learner *l = NULL;
        pthread_mutex_lock(&s->mu);
        int rc = retirement_action_locked(s, u, &l, &msg);
        if (rc == RA_DOES_NOT_EXIST) sim_respond_empty(c->resp, 404);
        else if (rc == RA_STATE_ERROR) http_server_error(c->resp); /* not caught by the view */
        else {
            if (cJSON_GetArraySize(l->orgs) > 0 && !l->partner_row) {
                l->partner_row = 1;
                l->partner_processing = 0;
                l->partner_id = s->next_partner_id++;
                l->partner_created_us = clk_wall_us();
            }
            sim_respond_empty(c->resp, 204);
        }
        pthread_mutex_unlock(&s->mu);
        free(u);
        free(msg.data);
        return;
    }
    pthread_mutex_lock(&s->mu);
    sim_learner **rows = xmalloc((s->n_learners + 1) * sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; i < s->n_learners; i++)
        if (s->L[i]->partner_row && !s->L[i]->partner_processing) rows[n++] = s->L[i];
    for (size_t i = 1; i < n; i++) /* order by reporting-row id */
        for (size_t j = i; j > 0 && rows[j - 1]->partner_id > rows[j]->partner_id; j--) {
            sim_learner *t = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = t;
        }
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        sim_learner *l = rows[i];
        char ts[40];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "user_id", (double)l->user_id);
        cJSON_AddStringToObject(o, "original_username", l->orig_username);
        cJSON_AddStringToObject(o, "original_email", l->orig_email);
        cJSON_AddStringToObject(o, "original_name", l->orig_name);
        cJSON_AddItemToObject(o, "orgs", cJSON_Duplicate(l->orgs, 1));
        sim_fmt_iso(l->partner_created_us, ts);
        cJSON_AddStringToObject(o, "created", ts);
        cJSON_AddItemToArray(a, o);
        l->partner_processing = 1;
    }
    pthread_mutex_unlock(&s->mu);
    free(rows);
    sim_respond_json(c->resp, 200, a);
}

/* POST retirement_partner_report_cleanup (docs/lms-api.md §5.14): body is a bare list. */
static void h_partner_cleanup(ctx *c)
{
    sim_server *s = c->s;
    if (!need_data(c)) return;
    if (!cJSON_IsArray(c->data)) { /* iterating a dict yields str keys: TypeError */
        http_server_error(c->resp);
        return;
    }
    cJSON *names = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, c->data) {
        const cJSON *v = cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, "original_username") : NULL;
        if (!v) {
            cJSON_Delete(names);
            http_server_error(c->resp);
            return;
        }
        cJSON_AddItemToArray(names, cJSON_Duplicate(v, 1));
    }
    int n = cJSON_GetArraySize(names);
    if (!n) {
        cJSON_Delete(names);
        bad_request(c->resp, "No original_usernames given.");
        return;
    }
    pthread_mutex_lock(&s->mu);
    sim_learner **rows = xmalloc((s->n_learners + 1) * sizeof *rows);
    size_t m = 0;
    for (size_t i = 0; i < s->n_learners; i++) {
        sim_learner *l = s->L[i];
        if (!l->partner_row || !l->partner_processing) continue;
        const cJSON *nm;
        cJSON_ArrayForEach(nm, names) {
            if (cJSON_IsString(nm) && !strcmp(nm->valuestring, l->orig_username)) {
                rows[m++] = l;
                break;
            }
        }
    }
    if ((size_t)n != m) {
        strbuf msg = {0};
        sb_addf(&msg, "%d original_usernames given, %zu found!\nGiven usernames:\n", n, m);
        sim_py_str_json(&msg, names);
        sb_add(&msg, "\nFound UserRetirementReportingStatuses:\n");
        for (size_t i = 0; i < m; i++) sb_addf(&msg, "%s%s", i ? ", " : "", rows[i]->orig_username);
        pthread_mutex_unlock(&s->mu);
        bad_request(c->resp, msg.data);
        free(msg.data);
    } else {
        for (size_t i = 0; i < m; i++) rows[i]->partner_row = rows[i]->partner_processing = 0;
        pthread_mutex_unlock(&s->mu);
        sim_respond_empty(c->resp, 204);
    }
    free(rows);
    cJSON_Delete(names);
}

/* POST api/edx_proctoring/v1/retire_user/{id} (docs/lms-api.md §5.15) */
static void h_proctoring(ctx *c)
{
    pthread_mutex_lock(&c->s->mu);
    sim_learner *l = store_find_uid_locked(c->s, atol(c->arg));
    if (l) l->proctoring_retired++;
    pthread_mutex_unlock(&c->s->mu);
    sim_respond_empty(c->resp, 204);
}

/* POST api/edx_proctoring/v1/retire_backend_user/{id} (docs/lms-api.md §5.16) */
static void h_proctoring_backend(ctx *c)
{
    pthread_mutex_lock(&c->s->mu);
    sim_learner *l = store_find_uid_locked(c->s, atol(c->arg));
    cJSON *o = l && l->proctoring_backends ? cJSON_Duplicate(l->proctoring_backends, 1) : cJSON_CreateObject();
    pthread_mutex_unlock(&c->s->mu);
    int ok = 1;
    const cJSON *v;
    cJSON_ArrayForEach(v, o) ok &= sim_py_truthy(v);
    sim_respond_json(c->resp, ok ? 200 : 500, o);
}

/* POST retirement_cleanup (docs/lms-api.md §5.17) */
static void h_cleanup(ctx *c)
{
    sim_server *s = c->s;
    if (!need_data(c)) return;
    const cJSON *names = data_get(c, "usernames");
    if (!data_is_dict(c)) { /* request.data['usernames'] on a non-dict: TypeError, caught as a 400 */
        bad_request(c->resp, subscript_type_error(c->data));
        return;
    }
    if (!names) {
        sim_respond_json_string(c->resp, 500, "'usernames'");
        return;
    }
    if (!cJSON_IsArray(names)) {
        bad_request(c->resp, "Usernames should be an array.");
        return;
    }
    int n = cJSON_GetArraySize(names);
    pthread_mutex_lock(&s->mu);
    int complete = store_state_index(s, "COMPLETE");
    sim_learner **rows = xmalloc((s->n_learners + 1) * sizeof *rows);
    size_t m = 0;
    for (size_t i = 0; i < s->n_learners; i++) {
        sim_learner *l = s->L[i];
        if (!l->has_row || l->cur != complete) continue;
        const cJSON *nm;
        cJSON_ArrayForEach(nm, names) {
            if (cJSON_IsString(nm) && !strcmp(nm->valuestring, l->orig_username)) {
                rows[m++] = l;
                break;
            }
        }
    }
    if ((size_t)n != m) {
        pthread_mutex_unlock(&s->mu);
        bad_request(c->resp, "Not all usernames exist in the COMPLETE state.");
    } else {
        for (size_t i = 0; i < m; i++) rows[i]->has_row = 0; /* redacted, then deleted */
        pthread_mutex_unlock(&s->mu);
        sim_respond_empty(c->resp, 204);
    }
    free(rows);
}

/* POST cancel_retirement (docs/lms-api.md §5.19) */
static void h_cancel(ctx *c)
{
    sim_server *s = c->s;
    if (!need_data(c)) return;
    const cJSON *rid = data_get(c, "retirement_id");
    if (!sim_py_truthy(rid)) {
        respond_msg(c->resp, 400, "message", "retirement_id must be specified.");
        return;
    }
    long long id = -1;
    if (cJSON_IsNumber(rid)) id = (long long)rid->valuedouble;
    else if (cJSON_IsString(rid) && sim_py_int(rid->valuestring, &id)) id = -1;
    pthread_mutex_lock(&s->mu);
    sim_learner *l = NULL;
    for (size_t i = 0; i < s->n_learners && !l; i++)
        if (s->L[i]->has_row && s->L[i]->rid == id) l = s->L[i];
    if (!l) respond_msg(c->resp, 400, "message", "Retirement does not exist!");
    else if (l->cur != 0) {
        strbuf msg = {0};
        sb_addf(&msg,
                  "Retirement requests can only be cancelled for users in the PENDING state. Current request state "
                  "for '%s': %s",
                  l->orig_username, s->states[l->cur].name);
        respond_msg(c->resp, 400, "message", msg.data);
        free(msg.data);
    } else {
        l->has_row = 0;
        free(l->email);
        l->email = xstrdup(l->orig_email);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddTrueToObject(o, "success");
        sim_respond_json(c->resp, 200, o);
    }
    pthread_mutex_unlock(&s->mu);
}

/* POST replace_usernames (docs/lms-api.md §5.18): {"username_mappings": [{"current": "desired"}, ...]}. */
static void h_replace_usernames(ctx *c)
{
    sim_server *s = c->s;
    if (!need_data(c)) return;
    const cJSON *maps = data_get(c, "username_mappings");
    int valid = cJSON_IsArray(maps);
    const cJSON *m;
    if (valid)
        cJSON_ArrayForEach(m, maps) valid &= cJSON_IsObject(m) && cJSON_GetArraySize(m) == 1;
    if (!valid) {
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, cJSON_CreateString("Request data does not match schema"));
        sim_respond_json(c->resp, 400, a);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON *ok = cJSON_AddArrayToObject(out, "successful_replacements");
    cJSON_AddArrayToObject(out, "failed_replacements");
    pthread_mutex_lock(&s->mu);
    cJSON_ArrayForEach(m, maps) {
        const char *cur = m->child->string;
        strbuf desired = {0};
        sim_py_str_json(&desired, m->child);
        /* a taken desired name gets a random 4-hex suffix (SOCIAL_AUTH_UUID_LENGTH) */
        strbuf nu = {0};
        sb_add(&nu, desired.data);
        for (int tries = 0; tries < 100; tries++) {
            int taken = 0;
            for (size_t i = 0; i < s->n_learners && !taken; i++) taken = !strcmp(s->L[i]->username, nu.data);
            if (!taken) break;
            nu.len = 0;
            sb_addf(&nu, "%s%04x", desired.data, (unsigned)(((uint64_t)clk_wall_us() * 2654435761u + (uint64_t)tries) >> 7) & 0xffffu);
        }
        for (size_t i = 0; i < s->n_learners; i++) {
            sim_learner *l = s->L[i];
            if (!strcmp(l->username, cur)) {
                free(l->username);
                l->username = xstrdup(nu.data);
            }
            if (!strcmp(l->orig_username, cur)) { /* UserRetirementStatus + partner reporting rows */
                free(l->orig_username);
                l->orig_username = xstrdup(nu.data);
            }
        }
        cJSON *pair = cJSON_CreateObject();
        cJSON_AddStringToObject(pair, cur, nu.data);
        cJSON_AddItemToArray(ok, pair);
        free(desired.data);
        free(nu.data);
    }
    store_reindex_locked(s);
    s->renamed = 1;
    pthread_mutex_unlock(&s->mu);
    sim_respond_json(c->resp, 200, out);
}

/* ---- IDA endpoints (docs/lms-api.md §6) ---- */

static void ecommerce_ids(cJSON *o, const sim_learner *l)
{
    char tid[48];
    snprintf(tid, sizeof tid, "ecommerce-%ld", l->ecommerce_id);
    cJSON_AddNumberToObject(o, "id", (double)l->ecommerce_id);
    cJSON_AddStringToObject(o, "ecommerce_tracking_id", tid);
}

/* POST ecommerce api/v2/user/retire/ */
static void h_ecommerce_retire(ctx *c)
{
    if (!need_data(c)) return;
    char *u = data_username(c, "username");
    pthread_mutex_lock(&c->s->mu);
    sim_learner *l = u ? store_find_orig_locked(c->s, u) : NULL;
    if (!l || !l->ecommerce_known || l->ecommerce_retired) {
        respond_msg(c->resp, 404, "message", "User does not exist on ecommerce service.");
    } else {
        l->ecommerce_retired++;
        cJSON *o = cJSON_CreateObject();
        ecommerce_ids(o, l);
        sim_respond_json(c->resp, 200, o);
    }
    pthread_mutex_unlock(&c->s->mu);
    free(u);
}

/* GET ecommerce api/v2/retirement/tracking_id/{username}/ */
static void h_tracking_id(ctx *c)
{
    pthread_mutex_lock(&c->s->mu);
    sim_learner *l = store_find_orig_locked(c->s, c->arg);
    if (!l || !l->ecommerce_known || l->ecommerce_retired) {
        respond_msg(c->resp, 404, "message", "Invalid user.");
    } else {
        cJSON *o = cJSON_CreateObject();
        ecommerce_ids(o, l);
        sim_respond_json(c->resp, 200, o);
    }
    pthread_mutex_unlock(&c->s->mu);
}

/* A DRF-style {"field": ["This field is required."]} 400. */
static void field_required(sim_response *resp, const char *field)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, field);
    cJSON_AddItemToArray(a, cJSON_CreateString("This field is required."));
    sim_respond_json(resp, 400, o);
}

/* POST credentials user/retire/ */
static void h_credentials(ctx *c)
{
    if (!need_data(c)) return;
    if (!sim_py_truthy(data_get(c, "username"))) {
        field_required(c->resp, "username");
        return;
    }
    char *u = data_username(c, "username");
    pthread_mutex_lock(&c->s->mu);
    sim_learner *l = store_find_orig_locked(c->s, u);
    if (!l || !l->credentials_known) sim_respond_empty(c->resp, 404);
    else {
        l->credentials_retired++;
        sim_respond_empty(c->resp, 204);
    }
    pthread_mutex_unlock(&c->s->mu);
    free(u);
}

/* lms_user_id from the body as a number (JSON number or digit string), or -1. */
static long body_user_id(const ctx *c)
{
    const cJSON *v = data_get(c, "lms_user_id");
    if (cJSON_IsNumber(v)) return (long)v->valuedouble;
    long long n;
    if (cJSON_IsString(v) && !sim_py_int(v->valuestring, &n)) return (long)n;
    return -1;
}

/* POST demographics demographics/api/v1/retire_demographics/ */
static void h_demographics(ctx *c)
{
    if (!need_data(c)) return;
    if (!sim_py_truthy(data_get(c, "lms_user_id"))) {
        field_required(c->resp, "lms_user_id");
        return;
    }
    pthread_mutex_lock(&c->s->mu);
    sim_learner *l = store_find_uid_locked(c->s, body_user_id(c));
    if (!l || !l->demographics_known || l->demographics_retired) sim_respond_empty(c->resp, 404);
    else {
        l->demographics_retired++;
        sim_respond_empty(c->resp, 204);
    }
    pthread_mutex_unlock(&c->s->mu);
}

/* POST license-manager api/v1/retire_user/ */
static void h_license(ctx *c)
{
    if (!need_data(c)) return;
    static const char *const fields[] = {"lms_user_id", "original_username"};
    for (int i = 0; i < 2; i++)
        if (!sim_py_truthy(data_get(c, fields[i]))) {
            char msg[160];
            snprintf(msg, sizeof msg, "Required field \"%s\" missing or missing value in retirement request\"", fields[i]);
            respond_msg(c->resp, 400, "detail", msg);
            return;
        }
    char *u = data_username(c, "original_username");
    pthread_mutex_lock(&c->s->mu);
    sim_learner *l = store_find_orig_locked(c->s, u);
    if (!l || !l->license_known || l->license_retired) sim_respond_empty(c->resp, 404);
    else {
        l->license_retired++;
        sim_respond_empty(c->resp, 204);
    }
    pthread_mutex_unlock(&c->s->mu);
    free(u);
}

/* ---- routing ---- */

typedef void (*handler)(ctx *);

typedef struct route {
    const char *path;    /* exact path (no trailing slash), or prefix when arg_kind != 0 */
    const char *suffix;  /* for argument routes: text after the argument */
    int arg_kind;        /* 0 none, 1 username, 2 digits */
    const char *methods; /* space-separated */
    const char *name;    /* endpoint name for fault rules */
    handler fn;
} route;

#define ACC "/api/user/v1/accounts/"
static const route routes[] = {
    {ACC "retirement_queue", NULL, 0, "GET", "retirement_queue", h_queue},
    {ACC "retirements_by_status_and_date", NULL, 0, "GET", "retirements_by_status_and_date", h_by_status_and_date},
    {ACC "update_retirement_status", NULL, 0, "PATCH", "update_retirement_status", h_update},
    {ACC "deactivate_logout", NULL, 0, "POST", "deactivate_logout", h_deactivate},
    {ACC "retire_mailings", NULL, 0, "POST", "retire_mailings", h_mailings},
    {ACC "retire_misc", NULL, 0, "POST", "retire_misc", h_misc},
    {ACC "retire", NULL, 0, "POST", "retire", h_retire},
    {ACC "retirement_partner_report", NULL, 0, "PUT POST", "partner_report", h_partner},
    {ACC "retirement_partner_report_cleanup", NULL, 0, "POST", "partner_report_cleanup", h_partner_cleanup},
    {ACC "retirement_cleanup", NULL, 0, "POST", "retirement_cleanup", h_cleanup},
    {ACC "cancel_retirement", NULL, 0, "POST", "cancel_retirement", h_cancel},
    {ACC "replace_usernames", NULL, 0, "POST", "replace_usernames", h_replace_usernames},
    {ACC, "/retirement_status", 1, "GET", "retirement_status", h_status},
    {"/api/discussion/v1/accounts/retire_forum", NULL, 0, "POST", "retire_forum", h_forum},
    {"/api/enrollment/v1/unenroll", NULL, 0, "POST", "unenroll", h_unenroll},
    {"/api/edxnotes/v1/retire_user", NULL, 0, "POST", "retire_notes", h_notes},
    {"/api/edx_proctoring/v1/retire_user/", "", 2, "POST", "retire_proctoring", h_proctoring},
    {"/api/edx_proctoring/v1/retire_backend_user/", "", 2, "POST", "retire_proctoring_backend", h_proctoring_backend},
    {"/ecommerce/api/v2/user/retire", NULL, 0, "POST", "ecommerce_retire", h_ecommerce_retire},
    {"/ecommerce/api/v2/retirement/tracking_id/", "", 1, "GET", "ecommerce_tracking_id", h_tracking_id},
    {"/credentials/user/retire", NULL, 0, "POST", "credentials_retire", h_credentials},
    {"/demographics/demographics/api/v1/retire_demographics", NULL, 0, "POST", "demographics_retire", h_demographics},
    {"/license-manager/api/v1/retire_user", NULL, 0, "POST", "license_manager_retire", h_license},
};

/* Whether a decoded username matches the LMS USERNAME_PATTERN characters [\w .@_+-]. */
static int username_chars_ok(const char *u)
{
    if (!*u) return 0;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (!(isalnum(*p) || *p >= 0x80 || strchr(" .@_+-", *p))) return 0;
    return 1;
}

/* Matches norm (raw path without one trailing slash) against r; fills *arg (decoded, malloc'd). */
static int route_match(const route *r, const char *norm, char **arg)
{
    if (!r->arg_kind) return !strcmp(norm, r->path);
    size_t pl = strlen(r->path), nl = strlen(norm), sl = strlen(r->suffix);
    if (nl <= pl + sl || strncmp(norm, r->path, pl) || strcmp(norm + nl - sl, r->suffix)) return 0;
    const char *a = norm + pl;
    size_t al = nl - pl - sl;
    if (memchr(a, '/', al)) return 0;
    for (size_t i = 0; i + 2 < al; i++) /* an encoded NUL is not a username character */
        if (a[i] == '%' && a[i + 1] == '0' && a[i + 2] == '0') return 0;
    char *dec = sim_url_decode(a, al, 0);
    int ok = r->arg_kind == 1 ? username_chars_ok(dec) : 1;
    if (r->arg_kind == 2)
        for (const char *p = dec; *p; p++) ok &= isdigit((unsigned char)*p) != 0;
    if (!ok || !*dec) {
        free(dec);
        return 0;
    }
    *arg = dec;
    return 1;
}

/* Parses request.data as DRF does: no Content-Type or an empty body -> {}; JSON; a form body;
 * NULL + *err on a JSON parse error or an unsupported media type. */
static cJSON *parse_data(const sim_request *req, char **err)
{
    const char *b = req->body;
    size_t n = req->body_len, i = 0;
    while (i < n && isspace((unsigned char)b[i])) i++;
    const char *ct = req->content_type;
    while (ct && *ct == ' ') ct++;
    if (i == n || !ct || !*ct) return cJSON_CreateObject();
    size_t ctl = strcspn(ct, "; ");
    int is_json = (ctl == 16 && !strncasecmp(ct, "application/json", 16)) ||
                  (ctl > 5 && !strncasecmp(ct + ctl - 5, "+json", 5));
    int is_form = ctl == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33);
    if (!is_json && !is_form) {
        char msg[200];
        snprintf(msg, sizeof msg, "Unsupported media type \"%.*s\" in request.", (int)(ctl > 100 ? 100 : ctl), ct);
        *err = xstrdup(msg);
        return NULL;
    }
    if (is_form) {
        cJSON *o = cJSON_CreateObject();
        size_t k = 0;
        while (k < n) {
            size_t j = k;
            while (j < n && b[j] != '&') j++;
            size_t eq = k;
            while (eq < j && b[eq] != '=') eq++;
            char *key = sim_url_decode(b + k, eq - k, 1);
            char *val = eq < j ? sim_url_decode(b + eq + 1, j - eq - 1, 1) : xstrdup("");
            cJSON_DeleteItemFromObjectCaseSensitive(o, key);
            cJSON_AddStringToObject(o, key, val);
            free(key);
            free(val);
            k = j + 1;
        }
        return o;
    }
    cJSON *j = cJSON_ParseWithLength(b, n);
    if (!j) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= b && at <= b + n ? (size_t)(at - b) : 0;
        int line = 1, col = 1;
        for (size_t q = 0; q < off; q++) {
            if (b[q] == '\n') line++, col = 1;
            else col++;
        }
        char msg[160];
        snprintf(msg, sizeof msg, "JSON parse error - Expecting value: line %d column %d (char %zu)", line, col, off);
        *err = xstrdup(msg);
    }
    return j;
}

/* The username a fault rule may match: path argument, body username/original_username, or the
 * original username of the learner named by lms_user_id or a numeric path id. */
static char *fault_username(sim_server *s, const route *r, const char *arg, const cJSON *data)
{
    if (arg && r->arg_kind == 1) return xstrdup(arg);
    const char *keys[] = {"username", "original_username"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, keys[i]) : NULL;
        if (cJSON_IsString(v)) return xstrdup(v->valuestring);
    }
    long uid = -1;
    const cJSON *v = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "lms_user_id") : NULL;
    if (cJSON_IsNumber(v)) uid = (long)v->valuedouble;
    if (arg && r->arg_kind == 2) uid = atol(arg);
    if (uid < 0) return NULL;
    pthread_mutex_lock(&s->mu);
    sim_learner *l = store_find_uid_locked(s, uid);
    char *u = l ? xstrdup(l->orig_username) : NULL;
    pthread_mutex_unlock(&s->mu);
    return u;
}

/* Whether method is in the space-separated list. */
static int method_allowed(const char *methods, const char *m)
{
    if (!strcmp(m, "HEAD")) m = "GET"; /* Django answers HEAD like GET, without the body */
    size_t ml = strlen(m);
    for (const char *p = methods; *p;) {
        size_t l = strcspn(p, " ");
        if (l == ml && !strncmp(p, m, l)) return 1;
        p += l;
        while (*p == ' ') p++;
    }
    return 0;
}

int lms_route(sim_server *s, const sim_request *req, sim_response *resp)
{
    size_t rl = strlen(req->raw_path);
    char *norm = xstrdup(req->raw_path);
    if (rl > 1 && norm[rl - 1] == '/') norm[rl - 1] = '\0';

    if (!strcmp(norm, "/oauth2/access_token")) {
        free(norm);
        if (sim_fault_check(s, "token", req, NULL, resp)) return 1;
        if (strcmp(req->method, "POST")) {
            sim_respond_empty(resp, 405);
            sim_response_add_header(resp, "Allow", "POST, OPTIONS");
        } else {
            h_token(s, req, resp);
        }
        return 1;
    }
    const route *r = NULL;
    char *arg = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !r; i++)
        if (route_match(&routes[i], norm, &arg)) r = &routes[i];
    free(norm);
    if (!r) return 0;

    ctx c = {.s = s, .req = req, .resp = resp, .arg = arg};
    c.data = parse_data(req, &c.parse_err);
    char *fu = fault_username(s, r, arg, c.data);
    int faulted = sim_fault_check(s, r->name, req, fu, resp);
    free(fu);
    if (faulted) goto out;
    if (r->fn == h_mailings) {
        pthread_mutex_lock(&s->mu);
        int legacy = s->legacy_mailings;
        pthread_mutex_unlock(&s->mu);
        if (!legacy) { /* removed from the current LMS (DEPR-8): no such route */
            http_not_found(resp);
            goto out;
        }
    }
    if (!sim_check_jwt(s, req, resp)) goto out;
    if (!method_allowed(r->methods, req->method)) {
        char msg[96];
        snprintf(msg, sizeof msg, "Method \"%.20s\" not allowed.", req->method);
        respond_msg(resp, 405, "detail", msg);
        goto out;
    }
    r->fn(&c);
out:
    sim_fault_after(resp);
    cJSON_Delete(c.data);
    free(c.parse_err);
    free(arg);
    return 1;
}

/* ---- sim.h learner accessors ---- */

cJSON *sim_learner_status(sim_server *s, const char *username)
{
    pthread_mutex_lock(&s->mu);
    sim_learner *l = username ? store_find_any_locked(s, username) : NULL;
    cJSON *o = l ? store_status_json_locked(s, l) : NULL;
    pthread_mutex_unlock(&s->mu);
    return o;
}

cJSON *sim_learner_status_by_user_id(sim_server *s, long user_id)
{
    pthread_mutex_lock(&s->mu);
    sim_learner *l = store_find_uid_locked(s, user_id);
    cJSON *o = l ? store_status_json_locked(s, l) : NULL;
    pthread_mutex_unlock(&s->mu);
    return o;
}
