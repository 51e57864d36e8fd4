/* config, checks: cfg_validate (what every command needs before it starts) and the Python
 * repr of pipeline rows used in its messages; see config.h. */
#include "engine/config_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pycompat.h"
#include "common/strbuf.h"

/* Appends a Python repr made by common/pycompat.c (malloc'd) and frees it. */
static void add_py(strbuf *sb, char *repr)
{
    sb_add(sb, repr);
    free(repr);
}

char *cfg_step_repr(const cfg_step *s)
{
    strbuf sb = STRBUF_INIT;
    sb_addc(&sb, '[');
    const char *f[4] = {s->start_state, s->end_state, s->driver, s->method};
    for (int k = 0; k < 4; k++) {
        add_py(&sb, py_repr_str(f[k] ? f[k] : ""));
        if (k < 3) sb_add(&sb, ", ");
    }
    sb_addc(&sb, ']');
    return sb_take(&sb);
}

/* A required value is missing when absent, null or an empty string. */
static int value_missing(const cfg *c, const char *path)
{
    const cJSON *n = cfg_get(c, path);
    if (!n || cJSON_IsNull(n)) return 1;
    if (cJSON_IsString(n) && !*n->valuestring) return 1;
    return 0;
}

/* Config keys each built-in/vendor driver needs (docs/lms-api.md §8 table; LICENSE_MANAGER deliberately
 * added: upstream only fails at run time). */
static const struct {
    const char *driver;
    const char *keys[5];
} required_keys[] = {
    {"ECOMMERCE", {"base_urls.ecommerce"}},
    {"CREDENTIALS", {"base_urls.credentials"}},
    {"DEMOGRAPHICS", {"base_urls.demographics"}},
    {"LICENSE_MANAGER", {"base_urls.license_manager"}},
    {"BRAZE", {"braze_api_key", "braze_instance"}},
    {"AMPLITUDE", {"amplitude_api_key", "amplitude_secret_key"}},
    {"SEGMENT", {"base_urls.segment", "segment_auth_token", "segment_workspace_slug"}},
    {"HUBSPOT", {"hubspot_api_key", "hubspot_aws_region", "hubspot_from_address", "hubspot_alert_email"}},
    {"SALESFORCE", {"salesforce_user", "salesforce_password", "salesforce_token"}},
};

/* Non-upstream keys that stand in for a required upstream key when a plugin's modern-API mode
 * is used (docs/vendors.md): Braze EU REST URL, Salesforce OAuth client credentials, Segment
 * Public API (no workspace slug). Added by "vendors". */
static const struct {
    const char *key, *alt;
} key_alternatives[] = {
    {"braze_instance", "braze_rest_url"},
    {"salesforce_user", "salesforce_client_id"},
    {"salesforce_password", "salesforce_client_secret"},
    {"salesforce_token", "salesforce_client_secret"},
    {"segment_workspace_slug", "segment_api"},
};

/* The alternative of a required key, or NULL. */
static const char *key_alternative(const char *key)
{
    for (size_t i = 0; i < sizeof key_alternatives / sizeof key_alternatives[0]; i++)
        if (!strcmp(key_alternatives[i].key, key)) return key_alternatives[i].alt;
    return NULL;
}

/* Edit distance (insert, delete, substitute, swap of neighbours) between a and b, capped: any
 * distance above 3 is returned as 4. */
static int key_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > 3) return 4;
    int d[66][66];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb] > 3 ? 4 : d[la][lb];
}

/* When the dotted key path is missing, looks in its parent mapping for a key that looks like a
 * typo of it (edit distance 1-2; 1 for names under 5 characters) and appends " (<file>:<line> has <key>: a typo of <name>?)"
 * to sb. Nothing when there is none. */
static void add_typo_hint(const cfg *c, const char *path, strbuf *sb)
{
    const char *dot = strrchr(path, '.');
    const char *name = dot ? dot + 1 : path;
    const cJSON *parent = c->root;
    if (dot) {
        char parent_path[256];
        snprintf(parent_path, sizeof parent_path, "%.*s", (int)(dot - path), path);
        parent = cfg_get(c, parent_path);
    }
    if (!cJSON_IsObject(parent) || strlen(name) < 3) return;
    const cJSON *best = NULL;
    int best_d = strlen(name) < 5 ? 2 : 3; /* short names: one edit at most */
    for (const cJSON *k = parent->child; k; k = k->next) {
        if (!k->string || !strcmp(k->string, name)) continue;
        int dist = key_distance(k->string, name);
        if (dist < best_d) {
            best_d = dist;
            best = k;
        }
    }
    if (!best) return;
    char w[512];
    sb_addf(sb, " (%s has %s: a typo of %s?)", cfg_where(c, best, w, sizeof w), best->string, name);
}

/* A required text value; with allow_int an integer is accepted too (PyYAML gives an int for
 * `client_id: 12345` and upstream sends str() of it; http does the same). */
static int validate_text_key(const cfg *c, const char *path, int allow_int, const char *hint, char *err,
                             size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    char w[512];
    if (!n || cJSON_IsNull(n) || (cJSON_IsString(n) && !*n->valuestring)) {
        strbuf typo = STRBUF_INIT;
        if (!n) add_typo_hint(c, path, &typo);
        cfg_set_err(err, err_len, "%s: key %s is missing or empty%s; %s", n ? cfg_where(c, n, w, sizeof w) : c->path,
                    path, sb_str(&typo), hint);
        sb_free(&typo);
        return -1;
    }
    if (allow_int && cJSON_IsNumber(n) && n->valuedouble == floor(n->valuedouble) && fabs(n->valuedouble) < 1e15)
        return 0;
    if (!cJSON_IsString(n)) {
        cfg_set_err(err, err_len, "%s: key %s must be text; put the value in quotes.", cfg_where(c, n, w, sizeof w), path);
        return -1;
    }
    return 0;
}

/* Salesforce's OAuth 2.0 client-credentials flow is refused on login.salesforce.com and
 * test.salesforce.com: it needs the org's My Domain host (docs/vendors.md). With
 * salesforce_auth: client_credentials, salesforce_login_url or a My Domain salesforce_domain
 * ("<name>.my", or "<name>--<sandbox>.sandbox.my") is required. */
static int validate_salesforce_oauth(const cfg *c, const cfg_step *s, char *err, size_t err_len)
{
    const char *auth = cfg_string(c, "salesforce_auth");
    if (!auth || strcmp(auth, "client_credentials") || !value_missing(c, "salesforce_login_url")) return 0;
    const cJSON *d = cfg_get(c, "salesforce_domain");
    const char *domain = cJSON_IsString(d) ? d->valuestring : "";
    size_t n = strlen(domain);
    if (n > 3 && !strcmp(domain + n - 3, ".my")) return 0;
    char w[512];
    cfg_set_err(err, err_len,
                "%s: salesforce_auth is client_credentials, which Salesforce supports only on the org's My Domain "
                "(not on %s.salesforce.com); set salesforce_domain: <name>.my (for https://<name>.my.salesforce.com) "
                "or salesforce_login_url: https://<name>.my.salesforce.com (driver %s, pipeline row at line %d).",
                d ? cfg_where(c, d, w, sizeof w) : c->path, *domain ? domain : "login", s->driver, s->line);
    return -1;
}

/* Every row of retirement_pipeline (a list) is a list of 4 non-empty names. 0, or -1 with err. */
static int validate_rows(const cfg *c, const cJSON *pl, char *err, size_t err_len)
{
    char w[512];
    size_t idx = 0;
    for (const cJSON *row = pl->child; row; row = row->next, idx++) {
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 4) {
            char found[64];
            if (cJSON_IsArray(row)) snprintf(found, sizeof found, "a list of %d items", cJSON_GetArraySize(row));
            else snprintf(found, sizeof found, "a single value");
            cfg_set_err(err, err_len,
                    "%s: retirement_pipeline row %zu must be a list of 4 items [start_state, end_state, DRIVER, "
                    "method]; found %s.",
                    cfg_where(c, row, w, sizeof w), idx + 1, found);
            return -1;
        }
        int k = 0;
        for (const cJSON *e = row->child; e; e = e->next, k++) {
            if (!cJSON_IsString(e) || !*e->valuestring) {
                strbuf got = STRBUF_INIT;
                add_py(&got, py_repr_json(e));
                cfg_set_err(err, err_len,
                        "%s: retirement_pipeline row %zu item %d must be a non-empty name; got %s%s.",
                        cfg_where(c, e, w, sizeof w), idx + 1, k + 1, sb_str(&got),
                        cJSON_IsString(e) ? "" : " (YAML read it as a boolean, number or null: put it in quotes)");
                sb_free(&got);
                return -1;
            }
        }
    }
    return 0;
}

/* One pipeline row's needs: the keys its driver requires (with their alternatives), Salesforce's
 * OAuth settings, and http(s) base URLs. 0, or -1 with err. */
static int validate_step(const cfg *c, const cfg_step *s, char *err, size_t err_len)
{
    char w[512];
    const char *missing = NULL;
    for (size_t d = 0; d < sizeof required_keys / sizeof required_keys[0] && !missing; d++) {
        if (strcmp(required_keys[d].driver, s->driver)) continue;
        for (int k = 0; k < 5 && required_keys[d].keys[k] && !missing; k++)
            if (value_missing(c, required_keys[d].keys[k]) &&
                (!key_alternative(required_keys[d].keys[k]) ||
                 value_missing(c, key_alternative(required_keys[d].keys[k]))))
                missing = required_keys[d].keys[k];
    }
    char *repr = cfg_step_repr(s);
    if (missing) {
        cfg_set_err(err, err_len,
                "Service URL is not configured, but required for state %s (%s:%d: driver %s needs %s%s%s%s; add it "
                "to the config%s).",
                repr, c->path, s->line, s->driver, missing, key_alternative(missing) ? " (or " : "",
                key_alternative(missing) ? key_alternative(missing) : "", key_alternative(missing) ? ")" : "",
                !strcmp(s->driver, "LICENSE_MANAGER")
                    ? "; retirectl checks this before starting, upstream would fail at run time"
                    : "");
        free(repr);
        return -1;
    }
    free(repr);
    if (!strcmp(s->driver, "SALESFORCE") && validate_salesforce_oauth(c, s, err, err_len)) return -1;
    /* a base URL the step will use must be an http(s) URL (upstream fails at run time with
     * "Invalid URL ... No scheme supplied", after the learner was moved into the step) */
    for (size_t d = 0; d < sizeof required_keys / sizeof required_keys[0]; d++) {
        if (strcmp(required_keys[d].driver, s->driver)) continue;
        for (int k = 0; k < 5 && required_keys[d].keys[k]; k++) {
            const char *key = required_keys[d].keys[k];
            if (strncmp(key, "base_urls.", 10)) continue;
            const cJSON *u = cfg_get(c, key);
            if (!cJSON_IsString(u) || !strncmp(u->valuestring, "http://", 7) ||
                !strncmp(u->valuestring, "https://", 8))
                continue;
            cfg_set_err(err, err_len,
                    "%s: key %s must be an http:// or https:// URL (got \"%s\"); driver %s of the pipeline row at "
                    "line %d uses it.",
                    cfg_where(c, u, w, sizeof w), key, u->valuestring, s->driver, s->line);
            return -1;
        }
    }
    return 0;
}

/* Every extra service's base_url is an http(s) URL. 0, or -1 with err. */
static int validate_extra_services(const cfg *c, char *err, size_t err_len)
{
    char w[512];
    for (size_t i = 0; i < c->n_extra_services; i++) {
        const char *u = c->extra_services[i].base_url;
        if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
            char path[64];
            snprintf(path, sizeof path, "extra_services.%zu.base_url", i);
            const cJSON *n = cfg_get(c, path);
            if (!n) {
                snprintf(path, sizeof path, "extra_services.%zu.service_base_url", i);
                n = cfg_get(c, path);
            }
            cfg_set_err(err, err_len, "%s: extra_services[%zu] (%s): base_url must be an http:// or https:// URL (got \"%s\").",
                    cfg_where(c, n, w, sizeof w), i, c->extra_services[i].name, u);
            return -1;
        }
    }
    return 0;
}

int cfg_validate(const cfg *c, char *err, size_t err_len)
{
    char w[512];
    if (!c) {
        cfg_set_err(err, err_len, "no configuration loaded.");
        return -1;
    }
    if (validate_text_key(c, "client_id", 1, "add the OAuth client id of the retirement service user (client_id: ...).",
                          err, err_len) ||
        validate_text_key(c, "client_secret", 1,
                          "add the OAuth client secret of the retirement service user (client_secret: ${NAME} "
                          "reads it from the environment).",
                          err, err_len) ||
        validate_text_key(c, "base_urls.lms", 0, "add the LMS root URL under base_urls (lms: https://lms.example.com/).",
                          err, err_len))
        return -1;
    const char *lms = cfg_string(c, "base_urls.lms");
    if (strncmp(lms, "http://", 7) && strncmp(lms, "https://", 8)) {
        cfg_set_err(err, err_len, "%s: key base_urls.lms must be an http:// or https:// URL (got \"%s\").",
                cfg_where(c, cfg_get(c, "base_urls.lms"), w, sizeof w), lms);
        return -1;
    }
    const cJSON *pl = cfg_get(c, "retirement_pipeline");
    if (!pl) {
        /* Without a pipeline a run would PATCH the learner straight to COMPLETE with nothing deleted. */
        strbuf typo = STRBUF_INIT;
        add_typo_hint(c, "retirement_pipeline", &typo);
        cfg_set_err(err, err_len,
                "%s: key retirement_pipeline is missing%s: add the list of steps, each [start_state, end_state, "
                "DRIVER, method] (an explicit empty list `retirement_pipeline: []` is accepted as upstream does).",
                c->path, sb_str(&typo));
        sb_free(&typo);
        return -1;
    }
    if (!cJSON_IsArray(pl)) {
        cfg_set_err(err, err_len,
                "%s: key retirement_pipeline must be a list of rows [start_state, end_state, DRIVER, method].",
                cfg_where(c, pl, w, sizeof w));
        return -1;
    }
    if (validate_rows(c, pl, err, err_len)) return -1;
    for (size_t i = 0; i < c->n_steps; i++)
        if (validate_step(c, &c->steps[i], err, err_len)) return -1;
    if (validate_extra_services(c, err, err_len)) return -1;
    return 0;
}
