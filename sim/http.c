/* retirectl-sim HTTP layer: libmicrohttpd glue, sim.h request/response helpers, the request log,
 * the /__sim/ control endpoints and the top-level dispatch (control, vendor hook, LMS/IDA routes). */
#include "internal.h"
#include "common/clock.h"
#include "common/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct MHD_Daemon *g_daemon;

/* ---- request helpers (sim.h) ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *sim_url_decode(const char *src, size_t len, int plus_is_space)
{
    char *o = xmalloc(len + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '%' && i + 2 < len && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
            o[k++] = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        } else if (plus_is_space && src[i] == '+') o[k++] = ' ';
        else o[k++] = src[i];
    }
    o[k] = '\0';
    return o;
}

/* Last value of key in a urlencoded string (Django QueryDict.get semantics), decoded; NULL if absent. */
static char *urlenc_last(const char *s, size_t len, const char *key)
{
    char *found = NULL;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&') j++;
        size_t eq = i;
        while (eq < j && s[eq] != '=') eq++;
        char *k = sim_url_decode(s + i, eq - i, 1);
        if (!strcmp(k, key)) {
            free(found);
            found = eq < j ? sim_url_decode(s + eq + 1, j - eq - 1, 1) : xstrdup("");
        }
        free(k);
        i = j + 1;
    }
    return found;
}

char *sim_request_query(const sim_request *req, const char *key)
{
    return urlenc_last(req->query, strlen(req->query), key);
}

char *sim_form_value(const char *body, size_t body_len, const char *key)
{
    return body ? urlenc_last(body, body_len, key) : NULL;
}

const char *sim_request_header(const sim_request *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name) : NULL;
}

cJSON *sim_request_json(const sim_request *req)
{
    if (!req->body_len) return NULL;
    return cJSON_ParseWithLength(req->body, req->body_len);
}

/* ---- response helpers (sim.h) ---- */

static void resp_clear_body(sim_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = NULL;
}

void sim_respond_json(sim_response *resp, int status, cJSON *json)
{
    resp_clear_body(resp);
    resp->status = status;
    if (json) {
        resp->body = cJSON_PrintUnformatted(json);
        resp->body_len = resp->body ? strlen(resp->body) : 0;
        resp->content_type = "application/json";
        cJSON_Delete(json);
    }
}

void sim_respond_json_string(sim_response *resp, int status, const char *text)
{
    sim_respond_json(resp, status, cJSON_CreateString(text));
}

void sim_respond_text(sim_response *resp, int status, const char *content_type, const char *body)
{
    resp_clear_body(resp);
    resp->status = status;
    resp->body = xstrdup(body ? body : "");
    resp->body_len = strlen(resp->body);
    resp->content_type = content_type ? content_type : "application/json";
}

void sim_respond_empty(sim_response *resp, int status)
{
    resp_clear_body(resp);
    resp->status = status;
}

void sim_response_add_header(sim_response *resp, const char *name, const char *value)
{
    if (resp->n_headers >= SIM_MAX_EXTRA_HEADERS) return;
    resp->header_name[resp->n_headers] = xstrdup(name);
    resp->header_value[resp->n_headers] = xstrdup(value);
    resp->n_headers++;
}

static void resp_free(sim_response *resp)
{
    free(resp->body);
    for (int i = 0; i < resp->n_headers; i++) {
        free(resp->header_name[i]);
        free(resp->header_value[i]);
    }
}

void http_not_found(sim_response *resp)
{
    sim_respond_text(resp, 404, "text/html",
                     "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  "
                     "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n");
}

void http_server_error(sim_response *resp)
{
    sim_respond_text(resp, 500, "text/html",
                     "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n"
                     "  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n");
}

/* ---- request log ---- */

struct log_entry {
    uint64_t seq;
    int64_t t_us;
    int status;
    char *block; /* one allocation holding the strings below */
    const char *method, *path, *raw_path, *query, *body, *auth, *ctype;
};

#define LOG_BODY_MAX 65536

void http_log_init(sim_server *s, size_t cap)
{
    s->log = xcalloc(cap, sizeof *s->log);
    s->log_cap = cap;
    s->log_next = 1;
}

/* Appends one request to the ring (overwriting the oldest when full). */
static void log_append(sim_server *s, const sim_request *req, int status)
{
    const char *parts[7] = {req->method, req->path, req->raw_path, req->query, req->body, req->authorization,
                            req->content_type};
    size_t lens[7], total = 0;
    for (int i = 0; i < 7; i++) {
        lens[i] = parts[i] ? strlen(parts[i]) : 0;
        if (i == 4 && lens[i] > LOG_BODY_MAX) lens[i] = LOG_BODY_MAX;
        total += lens[i] + 1;
    }
    char *block = xmalloc(total);
    const char *ptrs[7];
    char *w = block;
    for (int i = 0; i < 7; i++) {
        if (!parts[i]) {
            ptrs[i] = NULL;
            *w++ = '\0';
            continue;
        }
        memcpy(w, parts[i], lens[i]);
        w[lens[i]] = '\0';
        ptrs[i] = w;
        w += lens[i] + 1;
    }
    int64_t now = clk_wall_us();
    pthread_mutex_lock(&s->log_mu);
    log_entry *e = &s->log[(s->log_next - 1) % s->log_cap];
    char *old = e->block;
    e->seq = s->log_next++;
    e->t_us = now;
    e->status = status;
    e->block = block;
    e->method = ptrs[0];
    e->path = ptrs[1];
    e->raw_path = ptrs[2];
    e->query = ptrs[3];
    e->body = ptrs[4];
    e->auth = ptrs[5];
    e->ctype = ptrs[6];
    pthread_mutex_unlock(&s->log_mu);
    free(old);
}

/* GET /__sim/requests[?since=N][&path=SUBSTRING] */
static cJSON *log_json(sim_server *s, uint64_t since, const char *path_filter)
{
    cJSON *a = cJSON_CreateArray();
    pthread_mutex_lock(&s->log_mu);
    uint64_t first = s->log_next > s->log_cap ? s->log_next - s->log_cap : 1;
    if (first <= s->log_base) first = s->log_base + 1;
    if (first <= since) first = since + 1;
    for (uint64_t q = first; q < s->log_next; q++) {
        log_entry *e = &s->log[(q - 1) % s->log_cap];
        if (path_filter && !strstr(e->path, path_filter)) continue;
        char ts[40];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seq", (double)e->seq);
        sim_fmt_iso(e->t_us, ts);
        cJSON_AddStringToObject(o, "time", ts);
        cJSON_AddStringToObject(o, "method", e->method);
        cJSON_AddStringToObject(o, "path", e->path);
        cJSON_AddStringToObject(o, "raw_path", e->raw_path);
        cJSON_AddStringToObject(o, "query", e->query);
        cJSON_AddStringToObject(o, "body", e->body ? e->body : "");
        if (e->ctype) cJSON_AddStringToObject(o, "content_type", e->ctype);
        else cJSON_AddNullToObject(o, "content_type");
        cJSON_AddBoolToObject(o, "auth", e->auth != NULL);
        if (e->auth) {
            cJSON_AddStringToObject(o, "authorization", e->auth);
            const char *tok = !strncmp(e->auth, "JWT ", 4) ? e->auth + 4 : NULL;
            if (tok) cJSON_AddStringToObject(o, "token", tok);
            else cJSON_AddNullToObject(o, "token");
        } else {
            cJSON_AddNullToObject(o, "authorization");
            cJSON_AddNullToObject(o, "token");
        }
        cJSON_AddNumberToObject(o, "status", e->status);
        cJSON_AddItemToArray(a, o);
    }
    pthread_mutex_unlock(&s->log_mu);
    return a;
}

/* ---- control endpoints (/__sim/...) ---- */

static void respond_error(sim_response *resp, int status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    sim_respond_json(resp, status, o);
}

static cJSON *config_json_locked(sim_server *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "token_lifetime", (double)s->token_lifetime);
    cJSON_AddBoolToObject(o, "legacy_mailings", s->legacy_mailings);
    cJSON_AddBoolToObject(o, "deactivate_logout_hook", s->deactivate_hook);
    cJSON_AddStringToObject(o, "client_id", s->client_id);
    return o;
}

/* Adds learners from a spec, a list of specs, or {"learners": [...]}. */
static void control_add_learners(sim_server *s, const sim_request *req, sim_response *resp)
{
    cJSON *j = sim_request_json(req);
    if (!j) {
        respond_error(resp, 400, "POST /__sim/learners needs a JSON learner object, a list of them, or {\"learners\": [...]}");
        return;
    }
    cJSON *list = j;
    if (cJSON_IsObject(j) && cJSON_GetObjectItemCaseSensitive(j, "learners"))
        list = cJSON_GetObjectItemCaseSensitive(j, "learners");
    cJSON *out = cJSON_CreateArray();
    char err[512] = "";
    int failed = 0;
    pthread_mutex_lock(&s->mu);
    int64_t now = clk_wall_us();
    if (cJSON_IsArray(list)) {
        cJSON *c;
        int i = 0;
        cJSON_ArrayForEach(c, list) {
            char sub[400];
            i++;
            sim_learner *l = store_add_spec_locked(s, c, now, sub, sizeof sub);
            if (!l) {
                snprintf(err, sizeof err, "learner %d of the list: %s (the %d before it were added)", i, sub, i - 1);
                failed = 1;
                break;
            }
            cJSON_AddItemToArray(out, store_dump_json_locked(s, l));
        }
    } else {
        sim_learner *l = store_add_spec_locked(s, list, now, err, sizeof err);
        if (!l) failed = 1;
        else cJSON_AddItemToArray(out, store_dump_json_locked(s, l));
    }
    pthread_mutex_unlock(&s->mu);
    cJSON_Delete(j);
    if (failed) {
        cJSON_Delete(out);
        respond_error(resp, 400, err);
    } else {
        sim_respond_json(resp, 201, out);
    }
}

/* GET /__sim/health: ok, and the numbers of learners, states and requests. */
static void control_health(sim_server *s, sim_response *resp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    pthread_mutex_lock(&s->mu);
    cJSON_AddNumberToObject(o, "learners", (double)s->n_learners);
    cJSON_AddNumberToObject(o, "states", s->n_states);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->log_mu);
    cJSON_AddNumberToObject(o, "requests", (double)(s->log_next - 1));
    pthread_mutex_unlock(&s->log_mu);
    sim_respond_json(resp, 200, o);
}

/* GET /__sim/learners[?username=NAME]: one learner or all of them. */
static void control_learners_get(sim_server *s, const sim_request *req, sim_response *resp)
{
    char *u = sim_request_query(req, "username");
    pthread_mutex_lock(&s->mu);
    if (u) {
        sim_learner *l = store_find_any_locked(s, u);
        if (l) sim_respond_json(resp, 200, store_dump_json_locked(s, l));
        else respond_error(resp, 404, "no learner with that username");
    } else {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < s->n_learners; i++) cJSON_AddItemToArray(a, store_dump_json_locked(s, s->L[i]));
        sim_respond_json(resp, 200, a);
    }
    pthread_mutex_unlock(&s->mu);
    free(u);
}

/* PATCH /__sim/learners?username=NAME: changes fields of one learner. */
static void control_learners_patch(sim_server *s, const sim_request *req, sim_response *resp)
{
    char *u = sim_request_query(req, "username");
    cJSON *j = sim_request_json(req);
    char err[400];
    pthread_mutex_lock(&s->mu);
    sim_learner *l = u ? store_find_any_locked(s, u) : NULL;
    if (!u) respond_error(resp, 400, "PATCH /__sim/learners needs ?username=NAME");
    else if (!l) respond_error(resp, 404, "no learner with that username");
    else if (store_patch_locked(s, l, j, err, sizeof err)) respond_error(resp, 400, err);
    else sim_respond_json(resp, 200, store_dump_json_locked(s, l));
    pthread_mutex_unlock(&s->mu);
    cJSON_Delete(j);
    free(u);
}

/* Empties the request log (what GET /__sim/requests lists starts after this). */
static void clear_request_log(sim_server *s)
{
    pthread_mutex_lock(&s->log_mu);
    s->log_base = s->log_next - 1;
    pthread_mutex_unlock(&s->log_mu);
}

/* POST /__sim/reset: learners, settings, faults, request log and vendors as at startup. */
static void control_reset(sim_server *s, sim_response *resp)
{
    char err[512];
    pthread_mutex_lock(&s->mu);
    int rc = store_rebuild_locked(s, err, sizeof err);
    s->token_lifetime = s->startup_token_lifetime;
    s->legacy_mailings = s->startup_legacy_mailings;
    s->deactivate_hook = 0;
    pthread_mutex_unlock(&s->mu);
    faults_clear(s);
    if (s->fault_file) faults_add_json(s, s->fault_file, err, sizeof err);
    clear_request_log(s);
    if (sim_vendor_reset) sim_vendor_reset(s);
    if (rc) respond_error(resp, 500, err);
    else sim_respond_empty(resp, 204);
}

/* POST /__sim/faults: adds rules. */
static void control_faults_post(sim_server *s, const sim_request *req, sim_response *resp)
{
    cJSON *j = sim_request_json(req);
    char err[512];
    if (!j) respond_error(resp, 400, "POST /__sim/faults needs a JSON rule, a list of rules or {\"rules\": [...]}");
    else if (faults_add_json(s, j, err, sizeof err)) respond_error(resp, 400, err);
    else sim_respond_json(resp, 201, faults_json(s));
    cJSON_Delete(j);
}

/* GET or POST /__sim/config: the runtime settings, changed by a POSTed object. */
static void control_config(sim_server *s, const sim_request *req, sim_response *resp, int post)
{
    cJSON *j = post ? sim_request_json(req) : NULL;
    if (post && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        respond_error(resp, 400, "POST /__sim/config needs a JSON object, e.g. {\"token_lifetime\": 2, \"legacy_mailings\": true}");
        return;
    }
    pthread_mutex_lock(&s->mu);
    const cJSON *v;
    const char *bad = NULL;
    cJSON *c;
    cJSON_ArrayForEach(c, j) {
        if (strcmp(c->string, "token_lifetime") && strcmp(c->string, "legacy_mailings") &&
            strcmp(c->string, "deactivate_logout_hook"))
            bad = c->string;
    }
    if (!bad && (v = cJSON_GetObjectItemCaseSensitive(j, "token_lifetime"))) {
        if (cJSON_IsNumber(v) && v->valuedouble >= 0) s->token_lifetime = (long)v->valuedouble;
        else bad = "token_lifetime";
    }
    if (!bad && (v = cJSON_GetObjectItemCaseSensitive(j, "legacy_mailings"))) s->legacy_mailings = sim_py_truthy(v);
    if (!bad && (v = cJSON_GetObjectItemCaseSensitive(j, "deactivate_logout_hook"))) s->deactivate_hook = sim_py_truthy(v);
    cJSON *out = config_json_locked(s);
    pthread_mutex_unlock(&s->mu);
    char msg[300];
    if (bad)
        snprintf(msg, sizeof msg,
                 "config key %.64s is unknown or has a bad value (token_lifetime: seconds >= 0; "
                 "legacy_mailings, deactivate_logout_hook: bool)",
                 bad);
    cJSON_Delete(j);
    if (bad) {
        cJSON_Delete(out);
        respond_error(resp, 400, msg);
    } else {
        sim_respond_json(resp, 200, out);
    }
}

/* The /__sim/ control endpoints (docs/sim.md). */
static void control_route(sim_server *s, const sim_request *req, sim_response *resp)
{
    const char *p = req->path + strlen("/__sim/");
    size_t pl = strlen(p);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(pl && p[pl - 1] == '/' ? pl - 1 : pl), p);
    const char *m = req->method;
    int get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), del = !strcmp(m, "DELETE");

    if (!strcmp(name, "health") && get) {
        control_health(s, resp);
    } else if (!strcmp(name, "requests") && get) {
        char *since = sim_request_query(req, "since"), *pf = sim_request_query(req, "path");
        long long n = 0;
        if (since && sim_py_int(since, &n)) n = 0;
        sim_respond_json(resp, 200, log_json(s, n > 0 ? (uint64_t)n : 0, pf && *pf ? pf : NULL));
        free(since);
        free(pf);
    } else if (!strcmp(name, "requests") && del) {
        clear_request_log(s);
        sim_respond_empty(resp, 204);
    } else if (!strcmp(name, "learners") && get) {
        control_learners_get(s, req, resp);
    } else if (!strcmp(name, "learners") && post) {
        control_add_learners(s, req, resp);
    } else if (!strcmp(name, "learners") && !strcmp(m, "PATCH")) {
        control_learners_patch(s, req, resp);
    } else if (!strcmp(name, "states") && get) {
        pthread_mutex_lock(&s->mu);
        sim_respond_json(resp, 200, store_states_json_locked(s));
        pthread_mutex_unlock(&s->mu);
    } else if (!strcmp(name, "reset") && post) {
        control_reset(s, resp);
    } else if (!strcmp(name, "faults") && get) {
        sim_respond_json(resp, 200, faults_json(s));
    } else if (!strcmp(name, "faults") && post) {
        control_faults_post(s, req, resp);
    } else if (!strcmp(name, "faults") && del) {
        faults_clear(s);
        sim_respond_empty(resp, 204);
    } else if (!strcmp(name, "config") && (get || post)) {
        control_config(s, req, resp, post);
    } else if (!strcmp(name, "tokens/expire") && post) {
        pthread_mutex_lock(&s->mu);
        s->token_cutoff_ms = clk_wall_us() / 1000 + 1;
        pthread_mutex_unlock(&s->mu);
        sim_respond_empty(resp, 204);
    } else if (!strcmp(name, "vendor") && get) {
        sim_respond_json(resp, 200, sim_vendor_dump ? sim_vendor_dump(s) : cJSON_CreateObject());
    } else {
        respond_error(resp, 404, "unknown control endpoint or method; see docs/sim.md");
    }
}

/* ---- MHD glue ---- */

typedef struct req_ctx {
    char *raw_uri;
    strbuf body;
    int started;
} req_ctx;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    (void)con;
    req_ctx *c = xcalloc(1, sizeof *c);
    c->raw_uri = xstrdup(uri ? uri : "/");
    return c;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    req_ctx *c = *con_cls;
    if (!c) return;
    free(c->raw_uri);
    free(c->body.data);
    free(c);
    *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;
    (void)version;
    sim_server *s = cls;
    req_ctx *c = *con_cls;
    if (!c) return MHD_NO;
    if (!c->started) {
        c->started = 1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (c->body.len + *upload_data_size > 64u * 1024 * 1024) return MHD_NO;
        sb_addn(&c->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!c->body.data) sb_addn(&c->body, "", 0);

    const char *q = strchr(c->raw_uri, '?');
    size_t rawlen = q ? (size_t)(q - c->raw_uri) : strlen(c->raw_uri);
    char *raw_path = xstrndup(c->raw_uri, rawlen);
    char *path = sim_url_decode(raw_path, rawlen, 0);
    sim_request req = {
        .method = method,
        .path = path,
        .raw_path = raw_path,
        .query = q ? q + 1 : "",
        .body = c->body.data,
        .body_len = c->body.len,
        .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
        .content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
        .conn = conn,
    };
    sim_response resp;
    memset(&resp, 0, sizeof resp);
    int control = !strncmp(path, "/__sim/", 7);
    if (control) control_route(s, &req, &resp);
    else if (!strncmp(path, "/vendor/", 8)) {
        if (!(sim_vendor_route && sim_vendor_route(s, &req, &resp))) {
            resp_free(&resp);
            memset(&resp, 0, sizeof resp);
            http_not_found(&resp);
        }
    } else if (!lms_route(s, &req, &resp)) {
        http_not_found(&resp);
    }
    if (!control) log_append(s, &req, resp.drop_connection ? 0 : resp.status);

    if (!resp.drop_connection && resp.status == 0) /* a route that forgot to answer */
        sim_respond_json_string(&resp, 500, "retirectl-sim: the route gave no answer (a bug in the sim)");
    enum MHD_Result ret;
    if (resp.drop_connection) {
        ret = MHD_NO; /* closes the connection without an answer */
    } else {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(resp.body_len, resp.body, resp.body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        resp.body = NULL;
        if (resp.body_len || (resp.content_type && resp.status != 204))
            MHD_add_response_header(r, "Content-Type", resp.content_type ? resp.content_type : "application/json");
        for (int i = 0; i < resp.n_headers; i++) MHD_add_response_header(r, resp.header_name[i], resp.header_value[i]);
        ret = MHD_queue_response(conn, (unsigned)resp.status, r);
        MHD_destroy_response(r);
    }
    resp_free(&resp);
    free(path);
    free(raw_path);
    return ret;
}

int http_start(sim_server *s, int port, char *err, size_t errlen)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD, (uint16_t)port, NULL,
                                NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300, MHD_OPTION_LISTEN_BACKLOG_SIZE,
                                (unsigned int)1024, MHD_OPTION_END);
    if (!g_daemon) {
        snprintf(err, errlen, "cannot listen on 127.0.0.1:%d (%s); choose another --port or 0 for a free one", port,
                 errno ? strerror(errno) : "libmicrohttpd refused to start");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(g_daemon, MHD_DAEMON_INFO_BIND_PORT);
    int actual = info ? info->port : port;
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d", actual);
    return 0;
}

void http_stop(sim_server *s)
{
    (void)s;
    if (g_daemon) MHD_stop_daemon(g_daemon);
    g_daemon = NULL;
}

const char *sim_base_url(sim_server *s) { return s->base_url; }

const char *sim_option(sim_server *s, const char *name)
{
    for (int i = 0; i < s->n_opts; i++)
        if (!strcmp(s->opt_names[i], name)) return s->opt_values[i];
    return NULL;
}
