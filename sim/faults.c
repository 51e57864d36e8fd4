/* retirectl-sim fault injection: rules from --faults FILE and POST /__sim/faults (format in docs/sim.md). */
#include "internal.h"
#include "common/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct fault_action {
    int status;        /* 0: no answer of its own */
    char *body;        /* NULL: default body for the status */
    char *content_type;
    int latency_ms;
    int drop, malformed, pass;
    int after; /* the LMS handles the request first; then this answer replaces its own (a lost answer) */
} fault_action;

struct fault_rule {
    long id;
    char *endpoint, *path, *username, *method;
    fault_action *actions;
    int n_actions, next, seq; /* seq: an "actions" list, consumed once in order */
    long times; /* single-action rules: remaining uses, -1 forever */
    long hits;
};

static long next_rule_id = 1;

static void rule_free(fault_rule *r)
{
    if (!r) return;
    free(r->endpoint);
    free(r->path);
    free(r->username);
    free(r->method);
    for (int i = 0; i < r->n_actions; i++) {
        free(r->actions[i].body);
        free(r->actions[i].content_type);
    }
    free(r->actions);
    free(r);
}

/* Parses one action (a number, a keyword string or an object). 0 ok, -1 with err. */
static int parse_action(const cJSON *j, fault_action *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (cJSON_IsNumber(j)) {
        a->status = (int)j->valuedouble;
        if (a->status == 0) a->pass = 1;
        else if (a->status < 100 || a->status > 599) {
            snprintf(err, errlen, "fault action status %d is not an HTTP status (100-599, or 0 for pass)", a->status);
            return -1;
        }
        return 0;
    }
    if (cJSON_IsString(j)) {
        const char *k = j->valuestring;
        if (!strcmp(k, "drop")) a->drop = 1;
        else if (!strcmp(k, "malformed")) a->malformed = 1;
        else if (!strcmp(k, "pass") || !strcmp(k, "ok")) a->pass = 1;
        else if (!strcmp(k, "timeout") || !strcmp(k, "504")) a->status = 504;
        else {
            snprintf(err, errlen, "unknown fault action \"%s\" (use a status number, \"drop\", \"malformed\", \"pass\" or an object)", k);
            return -1;
        }
        return 0;
    }
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "a fault action must be a status number, a keyword or an object");
        return -1;
    }
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "status"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 100 || v->valuedouble > 599) {
            char *txt = cJSON_PrintUnformatted(v);
            snprintf(err, errlen, "fault action status %s is not an HTTP status number (100-599)", txt ? txt : "?");
            free(txt);
            return -1;
        }
        a->status = (int)v->valuedouble;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "body")))
        a->body = cJSON_IsString(v) ? xstrdup(v->valuestring) : cJSON_PrintUnformatted(v);
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "content_type")) && cJSON_IsString(v))
        a->content_type = xstrdup(v->valuestring);
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "latency_ms"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 600000) {
            snprintf(err, errlen, "fault action \"latency_ms\" must be a number of milliseconds (0-600000)");
            return -1;
        }
        a->latency_ms = (int)v->valuedouble;
    }
    a->drop = sim_py_truthy(cJSON_GetObjectItemCaseSensitive(j, "drop"));
    a->malformed = sim_py_truthy(cJSON_GetObjectItemCaseSensitive(j, "malformed"));
    a->after = sim_py_truthy(cJSON_GetObjectItemCaseSensitive(j, "after"));
    if (a->after && !a->status && !a->drop && !a->malformed) {
        snprintf(err, errlen, "fault action \"after\" needs \"status\", \"drop\" or \"malformed\": the answer that replaces the LMS's");
        return -1;
    }
    if (!a->status && !a->drop && !a->malformed && !a->latency_ms) a->pass = 1;
    return 0;
}

static char *opt_strdup(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) && v->valuestring[0] ? xstrdup(v->valuestring) : NULL;
}

/* Parses one rule object. */
static fault_rule *parse_rule(const cJSON *j, char *err, size_t errlen)
{
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "a fault rule must be a JSON object");
        return NULL;
    }
    fault_rule *r = xcalloc(1, sizeof *r);
    r->endpoint = opt_strdup(j, "endpoint");
    r->path = opt_strdup(j, "path");
    r->username = opt_strdup(j, "username");
    r->method = opt_strdup(j, "method");
    r->times = -1;
    const cJSON *acts = cJSON_GetObjectItemCaseSensitive(j, "actions");
    if (!acts) acts = cJSON_GetObjectItemCaseSensitive(j, "sequence");
    if (acts) {
        if (!cJSON_IsArray(acts) || !cJSON_GetArraySize(acts)) {
            snprintf(err, errlen, "fault rule \"actions\" must be a non-empty list");
            rule_free(r);
            return NULL;
        }
        r->n_actions = cJSON_GetArraySize(acts);
        r->seq = 1;
        r->actions = xcalloc((size_t)r->n_actions, sizeof *r->actions);
        int i = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, acts) {
            if (parse_action(a, &r->actions[i++], err, errlen)) {
                r->n_actions = i;
                rule_free(r);
                return NULL;
            }
        }
    } else {
        r->n_actions = 1;
        r->actions = xcalloc(1, sizeof *r->actions);
        if (parse_action(j, &r->actions[0], err, errlen)) {
            rule_free(r);
            return NULL;
        }
        if (r->actions[0].pass) {
            snprintf(err, errlen, "fault rule has no action: give \"status\", \"latency_ms\", \"drop\", \"malformed\" or \"actions\"");
            rule_free(r);
            return NULL;
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "times");
        if (t) {
            if (!cJSON_IsNumber(t) || t->valuedouble < 1) {
                snprintf(err, errlen, "fault rule \"times\" must be a number >= 1 (leave it out for forever)");
                rule_free(r);
                return NULL;
            }
            r->times = (long)t->valuedouble;
        }
    }
    r->id = __atomic_fetch_add(&next_rule_id, 1, __ATOMIC_RELAXED);
    return r;
}

int faults_add_json(sim_server *s, const cJSON *json, char *err, size_t errlen)
{
    const cJSON *list = json;
    if (cJSON_IsObject(json) && cJSON_GetObjectItemCaseSensitive(json, "rules"))
        list = cJSON_GetObjectItemCaseSensitive(json, "rules");
    fault_rule *tmp[256];
    int n = 0;
    if (cJSON_IsArray(list)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, list) {
            if (n == 256) {
                snprintf(err, errlen, "at most 256 fault rules per request");
                goto fail;
            }
            char sub[300];
            fault_rule *r = parse_rule(c, sub, sizeof sub);
            if (!r) {
                snprintf(err, errlen, "fault rule %d: %s", n + 1, sub);
                goto fail;
            }
            tmp[n++] = r;
        }
    } else {
        fault_rule *r = parse_rule(list, err, errlen);
        if (!r) return -1;
        tmp[n++] = r;
    }
    pthread_mutex_lock(&s->fault_mu);
    fault_rule **nf = xrealloc(s->faults, (s->n_faults + (size_t)n) * sizeof *nf);
    s->faults = nf;
    for (int i = 0; i < n; i++) s->faults[s->n_faults++] = tmp[i];
    pthread_mutex_unlock(&s->fault_mu);
    return 0;
fail:
    for (int i = 0; i < n; i++) rule_free(tmp[i]);
    return -1;
}

int faults_load_file(sim_server *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open faults file %s: %s", path, strerror(errno));
        return -1;
    }
    strbuf b = {0};
    char buf[8192];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) sb_addn(&b, buf, r);
    fclose(f);
    cJSON *j = cJSON_Parse(b.data ? b.data : "");
    free(b.data);
    if (!j) {
        snprintf(err, errlen, "faults file %s is not valid JSON", path);
        return -1;
    }
    char sub[400];
    int rc = faults_add_json(s, j, sub, sizeof sub);
    if (rc) snprintf(err, errlen, "faults file %s: %s", path, sub);
    else {
        cJSON_Delete(s->fault_file);
        s->fault_file = j;
        return 0;
    }
    cJSON_Delete(j);
    return rc;
}

void faults_clear(sim_server *s)
{
    pthread_mutex_lock(&s->fault_mu);
    for (size_t i = 0; i < s->n_faults; i++) rule_free(s->faults[i]);
    free(s->faults);
    s->faults = NULL;
    s->n_faults = 0;
    pthread_mutex_unlock(&s->fault_mu);
}

/* Whether a rule has actions left. */
static int rule_active(const fault_rule *r)
{
    if (r->seq) return r->next < r->n_actions;
    return r->times != 0;
}

cJSON *faults_json(sim_server *s)
{
    cJSON *a = cJSON_CreateArray();
    pthread_mutex_lock(&s->fault_mu);
    for (size_t i = 0; i < s->n_faults; i++) {
        fault_rule *r = s->faults[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)r->id);
        if (r->endpoint) cJSON_AddStringToObject(o, "endpoint", r->endpoint);
        if (r->path) cJSON_AddStringToObject(o, "path", r->path);
        if (r->username) cJSON_AddStringToObject(o, "username", r->username);
        if (r->method) cJSON_AddStringToObject(o, "method", r->method);
        cJSON_AddNumberToObject(o, "hits", (double)r->hits);
        cJSON_AddBoolToObject(o, "active", rule_active(r));
        if (r->seq) cJSON_AddNumberToObject(o, "actions_left", r->n_actions - r->next);
        else cJSON_AddNumberToObject(o, "times_left", (double)r->times);
        cJSON_AddItemToArray(a, o);
    }
    pthread_mutex_unlock(&s->fault_mu);
    return a;
}

/* Whether rule r applies to this request. */
static int rule_matches(const fault_rule *r, const char *endpoint, const sim_request *req, const char *username)
{
    if (!rule_active(r)) return 0;
    if (r->endpoint && strcmp(r->endpoint, "*") && (!endpoint || strcmp(r->endpoint, endpoint))) return 0;
    if (r->path && !strstr(req->path, r->path) && !strstr(req->raw_path, r->path)) return 0;
    if (r->method && strcasecmp(r->method, req->method)) return 0;
    if (r->username && (!username || strcmp(r->username, username))) return 0;
    return 1;
}

/* Returns a copy of a fault's content type that lives as long as the process (a response keeps
 * only a pointer to it, and the rule may be deleted meanwhile). At most 64 distinct types are kept;
 * beyond that the JSON default is used. */
static const char *intern_content_type(const char *ct)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char *types[64];
    static size_t n_types;
    if (!ct) return NULL;
    const char *found = NULL;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < n_types && !found; i++)
        if (strcmp(types[i], ct) == 0) found = types[i];
    if (!found && n_types < sizeof types / sizeof types[0] && (types[n_types] = xstrdup(ct))) found = types[n_types++];
    pthread_mutex_unlock(&mu);
    return found;
}

/* Fills resp with the action's answer. Returns 1 when it produced one. */
static int apply_action(const fault_action *a, sim_response *resp)
{
    int handled = 1;
    if (a->drop) {
        sim_respond_empty(resp, 0);
        resp->drop_connection = 1;
    } else if (a->malformed) {
        sim_respond_text(resp, a->status ? a->status : 200, "application/json",
                         a->body ? a->body : "{\"malformed\": [1, 2, \"unterminated");
    } else if (a->status) {
        if (a->body) sim_respond_text(resp, a->status, intern_content_type(a->content_type), a->body);
        else if (a->status == 504)
            sim_respond_text(resp, 504, "text/html",
                             "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway "
                             "Time-out</h1></center></body></html>\n");
        else if (a->status == 204 || a->status == 304) sim_respond_empty(resp, a->status);
        else {
            char msg[64];
            snprintf(msg, sizeof msg, "Injected fault: HTTP %d", a->status);
            sim_respond_json_string(resp, a->status, msg);
        }
    } else {
        handled = 0;
    }
    return handled;
}

/* An "after" action waiting for its route to finish (requests are handled one per thread). */
static __thread fault_action *pending_after;

/* Forgets the pending "after" action. */
static void drop_pending(void)
{
    if (!pending_after) return;
    free(pending_after->body);
    free(pending_after->content_type);
    free(pending_after);
    pending_after = NULL;
}

int sim_fault_after(sim_response *resp)
{
    int handled = pending_after ? apply_action(pending_after, resp) : 0;
    drop_pending();
    return handled;
}

int sim_fault_check(sim_server *s, const char *endpoint, const sim_request *req, const char *username,
                    sim_response *resp)
{
    drop_pending(); /* one left by a route that never called sim_fault_after is not this request's */
    if (!__atomic_load_n(&s->n_faults, __ATOMIC_RELAXED)) return 0;
    fault_action act;
    int found = 0;
    pthread_mutex_lock(&s->fault_mu);
    for (size_t i = 0; i < s->n_faults && !found; i++) {
        fault_rule *r = s->faults[i];
        if (!rule_matches(r, endpoint, req, username)) continue;
        found = 1;
        r->hits++;
        if (r->seq) act = r->actions[r->next++];
        else {
            act = r->actions[0];
            if (r->times > 0) r->times--;
        }
        act.body = act.body ? xstrdup(act.body) : NULL;
        act.content_type = act.content_type ? xstrdup(act.content_type) : NULL;
    }
    pthread_mutex_unlock(&s->fault_mu);
    if (!found) return 0;
    /* sleep in 50 ms slices so that SIGTERM does not wait for a long injected latency */
    for (int left = act.latency_ms; left > 0 && !__atomic_load_n(&s->stopping, __ATOMIC_RELAXED); left -= 50) {
        int ms = left < 50 ? left : 50;
        struct timespec ts = {0, (long)ms * 1000000L};
        while (nanosleep(&ts, &ts) && errno == EINTR) {
        }
    }
    if (act.after) {
        pending_after = xmalloc(sizeof *pending_after);
        *pending_after = act; /* owns body and content_type now */
        return 0;
    }
    int handled = apply_action(&act, resp);
    free(act.body);
    free(act.content_type);
    return handled;
}
