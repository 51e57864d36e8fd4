/* config: loading the operator's YAML configuration (config_yaml.c parses it), its typed
 * sections, freeing, and lookups by dotted path; see config.h. Checks are in config_validate.c,
 * secrets and redaction in config_secrets.c. */
#include "engine/config_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

void cfg_set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ typed sections */

static int want_number(cfg *c, const char *path, double fallback, double min, double *out, char *err, size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    *out = fallback;
    if (!n || cJSON_IsNull(n)) return 0;
    double v;
    if (cJSON_IsNumber(n)) {
        v = n->valuedouble;
    } else if (cJSON_IsString(n)) {
        char *end = NULL;
        errno = 0;
        v = strtod(n->valuestring, &end);
        if (errno || end == n->valuestring || *end) goto bad;
    } else {
        goto bad;
    }
    if (!(v >= min) || isinf(v)) goto bad;
    *out = v;
    return 0;
bad:;
    char w[512];
    cfg_set_err(err, err_len, "%s: key %s must be a number of at least %g; write a plain number such as %g.",
            cfg_where(c, n, w, sizeof w), path, min, fallback);
    return -1;
}

static int want_string(cfg *c, const char *path, char **out, int resolve, char *err, size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    *out = NULL;
    if (!n || cJSON_IsNull(n)) return 0;
    if (!cJSON_IsString(n)) {
        char w[512];
        cfg_set_err(err, err_len, "%s: key %s must be text; put the value in quotes.", cfg_where(c, n, w, sizeof w), path);
        return -1;
    }
    *out = resolve ? cfg_resolve_path(c, n->valuestring) : xstrdup(n->valuestring);
    return 0;
}

static int want_bool(cfg *c, const char *path, int *out, char *err, size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    *out = 0;
    if (!n || cJSON_IsNull(n)) return 0;
    if (cJSON_IsBool(n)) {
        *out = cJSON_IsTrue(n);
        return 0;
    }
    if (cJSON_IsString(n) && cfg_yaml_bool(n->valuestring, out)) return 0;
    char w[512];
    cfg_set_err(err, err_len, "%s: key %s must be true or false.", cfg_where(c, n, w, sizeof w), path);
    return -1;
}

static int want_mapping(cfg *c, const char *path, char *err, size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    if (!n || cJSON_IsNull(n) || cJSON_IsObject(n)) return 0;
    char w[512];
    cfg_set_err(err, err_len, "%s: key %s must be a mapping of keys (indented lines \"name: value\" under it).",
            cfg_where(c, n, w, sizeof w), path);
    return -1;
}

/* The scalar settings: http.*, environment, step_timeout_seconds, audit_log, history_days,
 * console.*. */
static int load_scalars(cfg *c, char *err, size_t err_len)
{
    if (want_mapping(c, "base_urls", err, err_len) || want_mapping(c, "http", err, err_len) ||
        want_mapping(c, "console", err, err_len))
        return -1;
    /* http */
    if (want_number(c, "http.connect_timeout_seconds", 10, 0.001, &c->http.connect_timeout_seconds, err, err_len) ||
        want_number(c, "http.timeout_seconds", 60, 0.001, &c->http.timeout_seconds, err, err_len) ||
        want_number(c, "http.max_retry_seconds", 600, 0, &c->http.max_retry_seconds, err, err_len) ||
        want_number(c, "http.gateway_timeout_wait_seconds", 60, 0, &c->http.gateway_timeout_wait_seconds, err,
                    err_len) ||
        want_string(c, "http.ca_bundle", &c->http.ca_bundle, 1, err, err_len) ||
        want_bool(c, "http.allow_insecure_http", &c->http.allow_insecure_http, err, err_len) ||
        want_number(c, "http.max_response_bytes", 16.0 * 1024 * 1024, 1024, &c->http.max_response_bytes, err,
                    err_len) ||
        want_string(c, "http.proxy", &c->http.proxy, 0, err, err_len))
        return -1;
    if (want_string(c, "environment", &c->environment, 0, err, err_len) ||
        want_number(c, "step_timeout_seconds", 900, 1, &c->step_timeout_seconds, err, err_len) ||
        want_string(c, "audit_log", &c->audit_log, 1, err, err_len) ||
        want_number(c, "history_days", 0, 0, &c->history_days, err, err_len) ||
        want_string(c, "console.theme", &c->console_theme, 0, err, err_len) ||
        want_number(c, "console.refresh_seconds", 10, 0.1, &c->console_refresh_seconds, err, err_len))
        return -1;

    return 0;
}

/* driver_config_scope: DRIVER: [top-level keys] */
static int load_scope(cfg *c, char *err, size_t err_len)
{
    char w[512];
    const cJSON *scope = cfg_get(c, "driver_config_scope");
    if (scope && !cJSON_IsNull(scope)) {
        if (!cJSON_IsObject(scope)) {
            cfg_set_err(err, err_len, "%s: key driver_config_scope must map driver names to lists of top-level keys, "
                        "e.g. BRAZE: [braze_api_key, braze_instance].", cfg_where(c, scope, w, sizeof w));
            return -1;
        }
        for (const cJSON *d = scope->child; d; d = d->next) {
            int ok = cJSON_IsArray(d);
            for (const cJSON *k = ok ? d->child : NULL; k; k = k->next)
                if (!cJSON_IsString(k)) ok = 0;
            if (!ok) {
                cfg_set_err(err, err_len, "%s: key driver_config_scope.%s must be a list of top-level key names, "
                            "e.g. [braze_api_key, braze_instance].", cfg_where(c, d, w, sizeof w), d->string);
                return -1;
            }
        }
    }

    return 0;
}

/* driver_entry_points: a list of files (a single string is accepted as a list of one) */
static int load_entry_points(cfg *c, char *err, size_t err_len)
{
    char w[512];
    const cJSON *ep = cfg_get(c, "driver_entry_points");
    if (ep && !cJSON_IsNull(ep)) {
        if (cJSON_IsString(ep)) {
            c->driver_entry_points = xcalloc(1, sizeof(char *));
            c->driver_entry_points[0] = cfg_resolve_path(c, ep->valuestring);
            c->n_driver_entry_points = 1;
        } else if (cJSON_IsArray(ep)) {
            size_t n = (size_t)cJSON_GetArraySize(ep);
            c->driver_entry_points = xcalloc(n ? n : 1, sizeof(char *));
            for (const cJSON *it = ep->child; it; it = it->next) {
                if (!cJSON_IsString(it) || !*it->valuestring) {
                    cfg_set_err(err, err_len,
                            "%s: key driver_entry_points: each item must be the path of an entry-point file "
                            "(text), relative to the config file's folder.",
                            cfg_where(c, it, w, sizeof w));
                    return -1;
                }
                c->driver_entry_points[c->n_driver_entry_points++] = cfg_resolve_path(c, it->valuestring);
            }
        } else {
            cfg_set_err(err, err_len,
                    "%s: key driver_entry_points must be a list of entry-point file paths (\"- plugins.cfg\" lines).",
                    cfg_where(c, ep, w, sizeof w));
            return -1;
        }
    }

    return 0;
}

/* Reads extra_services[idx] (name, base_url or service_base_url, retirement_url_path) into
 * vals (to free), checking the name is not used twice. 0, or -1 with err. */
static int extra_service_row(cfg *c, const cJSON *it, size_t idx, char *vals[3], char *err, size_t err_len)
{
    char w[512];
    static const char *const fields[] = {"name", "base_url", "retirement_url_path"};
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, fields[k]);
        if (!v && k == 1) v = cJSON_GetObjectItemCaseSensitive(it, "service_base_url");
        if (!cJSON_IsString(v) || !*v->valuestring) {
            cfg_set_err(err, err_len, "%s: extra_services[%zu] needs %s (text)%s; add it.",
                    cfg_where(c, v ? v : it, w, sizeof w), idx, fields[k],
                    k == 0 ? ", the name the pipeline uses as DRIVER" : "");
            for (int j = 0; j < k; j++) free(vals[j]);
            return -1;
        }
        vals[k] = xstrdup(v->valuestring);
    }
    for (size_t j = 0; j < c->n_extra_services; j++)
        if (!strcmp(c->extra_services[j].name, vals[0])) {
            cfg_set_err(err, err_len, "%s: extra_services[%zu]: the name %s is used twice; rename one.",
                    cfg_where(c, it, w, sizeof w), idx, vals[0]);
            for (int k = 0; k < 3; k++) free(vals[k]);
            return -1;
        }
    return 0;
}

/* extra_services: list of {name, base_url, retirement_url_path} */
static int load_extra_services(cfg *c, char *err, size_t err_len)
{
    char w[512];
    const cJSON *ex = cfg_get(c, "extra_services");
    if (ex && !cJSON_IsNull(ex)) {
        if (!cJSON_IsArray(ex)) {
            cfg_set_err(err, err_len,
                    "%s: key extra_services must be a list of mappings with name, base_url and "
                    "retirement_url_path.",
                    cfg_where(c, ex, w, sizeof w));
            return -1;
        }
        size_t n = (size_t)cJSON_GetArraySize(ex);
        c->extra_services = xcalloc(n ? n : 1, sizeof *c->extra_services);
        size_t idx = 0;
        for (const cJSON *it = ex->child; it; it = it->next, idx++) {
            if (!cJSON_IsObject(it)) {
                cfg_set_err(err, err_len,
                        "%s: extra_services[%zu] must be a mapping with name, base_url and retirement_url_path.",
                        cfg_where(c, it, w, sizeof w), idx);
                return -1;
            }
            char *vals[3] = {NULL, NULL, NULL};
            if (extra_service_row(c, it, idx, vals, err, err_len) != 0) return -1;
            c->extra_services[c->n_extra_services++] = (cfg_extra_service){vals[0], vals[1], vals[2]};
        }
    }

    return 0;
}

/* retirement_pipeline rows (checked by cfg_validate; here every row is recorded, with "" for
 * elements that are not text so that indices stay aligned with the file) */
static void load_pipeline(cfg *c)
{
    const cJSON *pl = cfg_get(c, "retirement_pipeline");
    if (cJSON_IsArray(pl)) {
        size_t n = (size_t)cJSON_GetArraySize(pl);
        c->steps = xcalloc(n ? n : 1, sizeof *c->steps);
        for (const cJSON *row = pl->child; row; row = row->next) {
            cfg_step *s = &c->steps[c->n_steps++];
            char **fields[4] = {&s->start_state, &s->end_state, &s->driver, &s->method};
            const cJSON *e = cJSON_IsArray(row) ? row->child : NULL;
            for (int k = 0; k < 4; k++) {
                *fields[k] = xstrdup(cJSON_IsString(e) ? e->valuestring : "");
                if (e) e = e->next;
            }
            s->line = cfg_node_line(c, row, NULL);
        }
    }
}

static int load_sections(cfg *c, char *err, size_t err_len)
{
    if (load_scalars(c, err, err_len) || load_scope(c, err, err_len) || load_entry_points(c, err, err_len) ||
        load_extra_services(c, err, err_len))
        return -1;
    load_pipeline(c);
    return 0;
}

/* ------------------------------------------------------------------ public API */

char *cfg_default_path(void)
{
    const char *env = getenv("RETIREMENT_CONFIG_FILE");
    if (env && *env) return xstrdup(env);
    strbuf sb = STRBUF_INIT;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        sb_addf(&sb, "%s/retirectl/config.yml", xdg);
    else if (home && *home)
        sb_addf(&sb, "%s/.config/retirectl/config.yml", home);
    else
        return NULL;
    return sb_take(&sb);
}

char *cfg_resolve_path(const cfg *c, const char *path)
{
    if (!path) return NULL;
    if (path[0] == '/' || !c || !c->dir || !strcmp(c->dir, ".")) return xstrdup(path);
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/%s", c->dir, path);
    return sb_take(&sb);
}

static cfg *cfg_alloc(const char *name)
{
    cfg *c = xcalloc(1, sizeof *c);
    c->priv = xcalloc(1, sizeof *c->priv);
    c->path = xstrdup(name);
    const char *slash = strrchr(name, '/');
    c->dir = slash ? xstrndup(name, (size_t)(slash - name) ? (size_t)(slash - name) : 1) : xstrdup(".");
    return c;
}

static int load_text(cfg *c, const char *text, size_t len, cfg **out, char *err, size_t err_len)
{
    if (cfg_parse_yaml(c, (const unsigned char *)text, len, err, err_len)) {
        cfg_free(c);
        return -1;
    }
    if (!c->root || cJSON_IsNull(c->root)) { /* empty document: no keys */
        cJSON_Delete(c->root);
        c->root = cJSON_CreateObject();
        cfg_add_mark(c, c->root, 1, 1);
    }
    if (!cJSON_IsObject(c->root)) {
        char w[512];
        cfg_set_err(err, err_len,
                "%s: the configuration must be a mapping of keys (client_id: ..., base_urls: ...), not a %s.",
                cfg_where(c, c->root, w, sizeof w), cJSON_IsArray(c->root) ? "list" : "single value");
        cfg_free(c);
        return -1;
    }
    cfg_collect_secrets(c, c->root, 0);
    if (load_sections(c, err, err_len)) {
        cfg_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int cfg_load_string(const char *text, const char *name, cfg **out, char *err, size_t err_len)
{
    *out = NULL;
    cfg *c = cfg_alloc(name ? name : "<string>");
    free(c->dir);
    c->dir = xstrdup(".");
    return load_text(c, text ? text : "", text ? strlen(text) : 0, out, err, err_len);
}

/* Permission rules for a config that holds (or names through ${NAME}) secrets, on the file that
 * was read (docs/configuration.md, "File permissions"): writable by group or others is refused
 * (whoever can write it can point base_urls.lms at their own host and receive the secrets);
 * readable by others is refused with `environment: production` and otherwise kept in
 * c->file_warning, which every command prints and check-config reports as FAIL. 0 or -1. */
static int check_file_mode(cfg *c, const struct stat *st, char *err, size_t err_len)
{
    if (!c->n_secrets || !S_ISREG(st->st_mode)) return 0;
    unsigned mode = (unsigned)st->st_mode & 07777;
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        cfg_set_err(err, err_len,
                "%s holds secrets but is writable by %s (mode %04o): whoever can write it can send the secrets "
                "to a host of their choosing; run: chmod 600 %s",
                c->path, (st->st_mode & S_IWOTH) ? "others" : "its group", mode, c->path);
        return -1;
    }
    if (st->st_mode & S_IROTH) {
        char text[1024];
        snprintf(text, sizeof text,
                 "%s holds secrets but is readable by every user of this machine (mode %04o); run: chmod o-r %s",
                 c->path, mode, c->path);
        if (c->environment && !strcmp(c->environment, "production")) {
            cfg_set_err(err, err_len, "%s (refused because environment is production).", text);
            return -1;
        }
        c->file_warning = xstrdup(text);
    }
    return 0;
}

int cfg_load(const char *path, cfg **out, char *err, size_t err_len)
{
    *out = NULL;
    if (!path || !*path) {
        cfg_set_err(err, err_len, "no config file given; pass --config FILE or set RETIREMENT_CONFIG_FILE.");
        return -1;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cfg_set_err(err, err_len, "cannot read config file %s: %s; check the path given with --config.", path,
                strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) memset(&st, 0, sizeof st);
    strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) sb_addn(&sb, buf, n);
    int rerr = ferror(fp);
    int saved = errno;
    fclose(fp);
    if (rerr) {
        cfg_set_err(err, err_len, "cannot read config file %s: %s.", path, strerror(saved));
        sb_free(&sb);
        return -1;
    }
    cfg *c = cfg_alloc(path);
    int rc = load_text(c, sb_str(&sb), sb.len, out, err, err_len);
    sb_free(&sb);
    if (rc == 0 && check_file_mode(*out, &st, err, err_len) != 0) {
        cfg_free(*out);
        *out = NULL;
        rc = -1;
    }
    return rc;
}

void cfg_free(cfg *c)
{
    if (!c) return;
    free(c->path);
    cJSON_Delete(c->root);
    for (size_t i = 0; i < c->n_steps; i++) {
        free(c->steps[i].start_state);
        free(c->steps[i].end_state);
        free(c->steps[i].driver);
        free(c->steps[i].method);
    }
    free(c->steps);
    free(c->http.ca_bundle);
    free(c->http.proxy);
    free(c->file_warning);
    for (size_t i = 0; i < c->n_extra_services; i++) {
        free(c->extra_services[i].name);
        free(c->extra_services[i].base_url);
        free(c->extra_services[i].retirement_url_path);
    }
    free(c->extra_services);
    free(c->environment);
    for (size_t i = 0; i < c->n_secrets; i++) free(c->secrets[i]);
    free(c->secrets);
    free(c->dir);
    for (size_t i = 0; i < c->n_driver_entry_points; i++) free(c->driver_entry_points[i]);
    free(c->driver_entry_points);
    free(c->audit_log);
    free(c->console_theme);
    if (c->priv) free(c->priv->marks);
    free(c->priv);
    free(c);
}

const cJSON *cfg_get(const cfg *c, const char *path)
{
    if (!c || !c->root || !path) return NULL;
    const cJSON *node = c->root;
    const char *p = path;
    while (*p && node) {
        size_t n = strcspn(p, ".[");
        if (n == 0 && *p == '[') { /* [index] */
            char *end = NULL;
            long idx = strtol(p + 1, &end, 10);
            if (!end || *end != ']' || !cJSON_IsArray(node)) return NULL;
            node = cJSON_GetArrayItem(node, (int)idx);
            p = end + 1;
        } else {
            char *part = xstrndup(p, n);
            if (cJSON_IsArray(node)) {
                char *end = NULL;
                long idx = strtol(part, &end, 10);
                node = (*part && end && !*end) ? cJSON_GetArrayItem(node, (int)idx) : NULL;
            } else if (cJSON_IsObject(node)) {
                node = cJSON_GetObjectItemCaseSensitive(node, part);
            } else {
                node = NULL;
            }
            free(part);
            p += n;
        }
        if (*p == '.') p++;
    }
    return node;
}

const char *cfg_string(const cfg *c, const char *path)
{
    const cJSON *n = cfg_get(c, path);
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

int cfg_bool(const cfg *c, const char *path, int fallback)
{
    const cJSON *n = cfg_get(c, path);
    if (cJSON_IsBool(n)) return cJSON_IsTrue(n);
    if (cJSON_IsNumber(n)) return n->valuedouble != 0;
    int v;
    if (cJSON_IsString(n) && cfg_yaml_bool(n->valuestring, &v)) return v;
    return fallback;
}

double cfg_number(const cfg *c, const char *path, double fallback)
{
    const cJSON *n = cfg_get(c, path);
    if (cJSON_IsNumber(n)) return n->valuedouble;
    if (cJSON_IsString(n) && *n->valuestring) {
        char *end = NULL;
        double v = strtod(n->valuestring, &end);
        if (end && !*end) return v;
    }
    return fallback;
}

const cJSON *cfg_driver_scope(const cfg *c, const char *driver)
{
    const cJSON *scope = c && driver ? cfg_get(c, "driver_config_scope") : NULL;
    const cJSON *list = cJSON_IsObject(scope) ? cJSON_GetObjectItemCaseSensitive(scope, driver) : NULL;
    return cJSON_IsArray(list) ? list : NULL;
}

/* Non-zero when key is in the scope list. */
static int scope_has(const cJSON *list, const char *key, size_t key_len)
{
    for (const cJSON *k = list->child; k; k = k->next)
        if (cJSON_IsString(k) && strlen(k->valuestring) == key_len && !strncmp(k->valuestring, key, key_len)) return 1;
    return 0;
}

cJSON *cfg_scoped_root(const cfg *c, const char *driver)
{
    const cJSON *list = cfg_driver_scope(c, driver);
    if (!list) return NULL;
    cJSON *out = cJSON_CreateObject();
    for (const cJSON *kv = c->root->child; kv; kv = kv->next)
        if (kv->string && scope_has(list, kv->string, strlen(kv->string)))
            cJSON_AddItemToObject(out, kv->string, cJSON_Duplicate(kv, 1));
    return out;
}

int cfg_scope_allows(const cfg *c, const char *driver, const char *path)
{
    const cJSON *list = cfg_driver_scope(c, driver);
    if (!list) return 1;
    if (!path) return 0;
    return scope_has(list, path, strcspn(path, ".["));
}
