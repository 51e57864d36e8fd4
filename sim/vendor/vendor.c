/* retirectl-sim vendor dispatcher: implements sim.h's weak vendor hooks (see vendor.h). */
#include "vendor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/pycompat.h"
#include "common/clock.h"
#include "common/xalloc.h"

const char *vsim_opt(sim_server *s, const char *name, const char *fallback)
{
    const char *v = sim_option(s, name);
    return v ? v : fallback;
}

int vsim_opt_has(sim_server *s, const char *name, const char *item)
{
    const char *v = sim_option(s, name);
    if (!v || !item) return 0;
    size_t n = strlen(item);
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, item, n) == 0) return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

int vsim_auth_is(const sim_request *req, const char *scheme, const char *token)
{
    const char *a = req->authorization;
    size_t n = strlen(scheme);
    return a && strncmp(a, scheme, n) == 0 && a[n] == ' ' && strcmp(a + n + 1, token) == 0;
}

char *vsim_username_for_id(sim_server *s, const cJSON *id)
{
    long uid = 0;
    if (cJSON_IsNumber(id)) {
        uid = (long)id->valuedouble;
    } else if (cJSON_IsString(id)) {
        char *end = NULL;
        uid = strtol(id->valuestring, &end, 10);
        if (!end || *end) return NULL;
    } else {
        return NULL;
    }
    cJSON *st = sim_learner_status_by_user_id(s, uid);
    if (!st) return NULL;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(st, "original_username");
    char *r = cJSON_IsString(u) ? xstrdup(u->valuestring) : NULL;
    cJSON_Delete(st);
    return r;
}

unsigned long vsim_hash(const char *text)
{
    unsigned long h = 1469598103934665603UL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 1099511628211UL;
    }
    return h & 0x7fffffffffffUL;
}

char *vsim_scalar_text(const cJSON *v)
{
    char tmp[64];
    if (cJSON_IsString(v)) return xstrdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == (double)(long long)v->valuedouble)
            snprintf(tmp, sizeof tmp, "%lld", (long long)v->valuedouble);
        else
            py_float_repr(v->valuedouble, tmp); /* Python's str(float) */
        return xstrdup(tmp);
    }
    if (cJSON_IsTrue(v)) return xstrdup("True");
    if (cJSON_IsFalse(v)) return xstrdup("False");
    return xstrdup("None");
}

static pthread_mutex_t window_mu = PTHREAD_MUTEX_INITIALIZER;

int vsim_window_take(vsim_window *w, long limit, int64_t window_ms, long *remaining, int64_t *reset_ms)
{
    int64_t now = clk_wall_ms();
    if (window_ms < 1) window_ms = 1;
    pthread_mutex_lock(&window_mu);
    if (now - w->start_ms >= window_ms) {
        w->start_ms = now;
        w->used = 0;
    }
    int allowed = w->used < limit;
    if (allowed) w->used++;
    *remaining = limit - w->used;
    *reset_ms = w->start_ms + window_ms;
    pthread_mutex_unlock(&window_mu);
    return allowed;
}

void vsim_window_clear(vsim_window *w)
{
    pthread_mutex_lock(&window_mu);
    w->start_ms = 0;
    w->used = 0;
    pthread_mutex_unlock(&window_mu);
}

void vsim_iso8601(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", day, (int)(ms % 1000));
}

void vsim_http_date(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Strips "/vendor/<name>" from path when it starts with it; returns the rest or NULL. */
static const char *vendor_sub(const char *path, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(path, "/vendor/", 8) != 0 || strncmp(path + 8, name, n) != 0) return NULL;
    const char *rest = path + 8 + n;
    return (*rest == '/' || *rest == '\0') ? rest : NULL;
}

/* sim/webhook_sink.c (owner "plugins"): the WEBHOOK example driver's receiver. */
int vsim_webhook_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);

int sim_vendor_route(sim_server *s, const sim_request *req, sim_response *resp)
{
    const char *sub;
    if ((sub = vendor_sub(req->path, "webhook"))) return vsim_webhook_route(s, req, sub, resp);
    /* segment-public before segment: both share the prefix */
    if ((sub = vendor_sub(req->path, "segment-public"))) return vsim_segment_public_route(s, req, sub, resp);
    if ((sub = vendor_sub(req->path, "segment"))) return vsim_segment_route(s, req, sub, resp);
    if ((sub = vendor_sub(req->path, "braze"))) return vsim_braze_route(s, req, sub, resp);
    if ((sub = vendor_sub(req->path, "amplitude"))) return vsim_amplitude_route(s, req, sub, resp);
    if ((sub = vendor_sub(req->path, "hubspot"))) return vsim_hubspot_route(s, req, sub, resp);
    if ((sub = vendor_sub(req->path, "ses"))) return vsim_ses_route(s, req, sub, resp);
    if ((sub = vendor_sub(req->path, "salesforce"))) return vsim_salesforce_route(s, req, sub, resp);
    return 0;
}

void sim_vendor_reset(sim_server *s)
{
    (void)s;
    vsim_braze_reset();
    vsim_amplitude_reset();
    vsim_hubspot_reset();
    vsim_ses_reset();
    vsim_salesforce_reset();
    vsim_segment_reset();
}

cJSON *sim_vendor_dump(sim_server *s)
{
    (void)s;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "braze", vsim_braze_dump());
    cJSON_AddItemToObject(o, "amplitude", vsim_amplitude_dump());
    cJSON_AddItemToObject(o, "hubspot", vsim_hubspot_dump());
    cJSON_AddItemToObject(o, "ses", vsim_ses_dump());
    cJSON_AddItemToObject(o, "salesforce", vsim_salesforce_dump());
    cJSON_AddItemToObject(o, "segment", vsim_segment_dump());
    return o;
}
