/* config (prefix cfg_): the operator's YAML configuration, loaded with libyaml into a cJSON
 * tree, with upstream keys unchanged (docs/lms-api.md §8) and retirectl's additions (docs/configuration.md).
 * Secret-looking keys (*secret*, *password*, *token*, *_key) are remembered so that their
 * values can be scrubbed from every text the engine prints, logs or records. */
#ifndef RETIRECTL_CONFIG_H
#define RETIRECTL_CONFIG_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* One pipeline row [start_state, end_state, DRIVER, method]. Strings owned by the cfg. */
typedef struct cfg_step {
    char *start_state;
    char *end_state;
    char *driver;
    char *method;
    int line; /* line of the row in the YAML file (1-based), 0 if unknown */
} cfg_step;

/* HTTP settings from the optional `http:` block, with defaults filled in. */
typedef struct cfg_http {
    double connect_timeout_seconds;       /* http.connect_timeout_seconds, default 10 */
    double timeout_seconds;               /* http.timeout_seconds (total per attempt), default 60 */
    double max_retry_seconds;             /* http.max_retry_seconds, default 600 */
    double gateway_timeout_wait_seconds;  /* http.gateway_timeout_wait_seconds, default 60 */
    char *ca_bundle;                      /* http.ca_bundle, NULL = system default */
    int allow_insecure_http;              /* http.allow_insecure_http: plain http to non-loopback hosts */
    double max_response_bytes;            /* http.max_response_bytes: cap on every response body, default 16 MiB */
    char *proxy;                          /* http.proxy, NULL = the http(s)_proxy environment variables */
} cfg_http;

/* An extra service of `extra_services:` served by the generic driver. */
typedef struct cfg_extra_service {
    char *name;
    char *base_url;
    char *retirement_url_path;
} cfg_extra_service;

typedef struct cfg {
    char *path;                 /* file it was read from ("<string>" for cfg_load_string) */
    cJSON *root;                /* the whole config as JSON (what drivers' get_instance receive) */
    cfg_step *steps;            /* retirement_pipeline rows, in order */
    size_t n_steps;
    cfg_http http;
    cfg_extra_service *extra_services;
    size_t n_extra_services;
    char *environment;          /* `environment:` label or NULL; "production" asks for typed confirmation */
    double step_timeout_seconds;/* `step_timeout_seconds:`, default 900 */
    char **secrets;             /* values of secret-looking keys (non-empty strings), for scrubbing */
    size_t n_secrets;
    /* Added by engine-a (additive): */
    char *dir;                  /* folder of the config file (absolute when the path was), "." for strings */
    char **driver_entry_points; /* `driver_entry_points:` files resolved against dir, in order */
    size_t n_driver_entry_points;
    char *audit_log;            /* `audit_log:` resolved against dir, or NULL */
    double history_days;        /* `history_days:`, default 0 (no limit) */
    char *console_theme;        /* `console.theme`, or NULL */
    double console_refresh_seconds; /* `console.refresh_seconds`, default 10 */
    char *file_warning;         /* set by cfg_load when the file is readable by others and holds secrets:
                                   every command prints it, check-config reports it as FAIL (or NULL) */
    struct cfg_priv *priv;      /* line/column side table; private to config.c */
} cfg;

/* Where the config comes from when --config is not given: $RETIREMENT_CONFIG_FILE, then
 * $XDG_CONFIG_HOME/retirectl/config.yml (or ~/.config/...). Returns a malloc'd path or NULL. */
char *cfg_default_path(void);

/* Loads and parses a YAML file. A file that holds secrets and is writable by group or others (or
 * readable by others with environment: production) is refused; see file_warning. On failure returns -1 and writes a sentence naming the file,
 * line, column and key into err. *out is owned by the caller (cfg_free). Expands ${NAME}
 * from the environment (an unset variable is an error naming it). Does not validate the
 * pipeline against drivers: see cfg_validate. */
int cfg_load(const char *path, cfg **out, char *err, size_t err_len);
/* Same, from text in memory; name is used in messages. */
int cfg_load_string(const char *text, const char *name, cfg **out, char *err, size_t err_len);
void cfg_free(cfg *c);

/* Checks what every command needs: client_id, client_secret, base_urls.lms, pipeline rows of
 * four strings, and for each step whose driver needs a base URL or key (docs/lms-api.md §8 setup
 * validation) that it is present: "Service URL is not configured, but required for state
 * [...]". Returns 0 or -1 with the first problem in err (file and line named). */
int cfg_validate(const cfg *c, char *err, size_t err_len);

/* Where a value sits in the file: line (1-based, 0 if unknown) of the node at a dotted path
 * (for a mapping value: the line of its key); *col (1-based) when col is not NULL. */
int cfg_line(const cfg *c, const char *path, int *col);
/* Same for a node of c->root (e.g. one found with cfg_get or while walking the tree). */
int cfg_node_line(const cfg *c, const cJSON *node, int *col);
/* Python's repr of a pipeline row, as upstream prints it: ['A', 'B', 'C', 'd'] (malloc'd). */
char *cfg_step_repr(const cfg_step *s);
/* A path from the config resolved against the config file's folder (absolute paths kept; malloc'd). */
char *cfg_resolve_path(const cfg *c, const char *path);

/* Lookups by dotted path ("base_urls.lms"; array items as "extra_services.0.name" or
 * "extra_services[0].name"); NULL / fallback when absent or of another type. cfg_bool and
 * cfg_number also accept strings (e.g. from ${NAME}) spelling a YAML 1.1 boolean / a number. */
const cJSON *cfg_get(const cfg *c, const char *path);
const char *cfg_string(const cfg *c, const char *path);
int cfg_bool(const cfg *c, const char *path, int fallback);
double cfg_number(const cfg *c, const char *path, double fallback);

/* driver_config_scope (docs/configuration.md): the top-level keys a driver may see, as a cJSON
 * array of strings owned by the cfg, or NULL when the driver is not scoped (it sees everything). */
const cJSON *cfg_driver_scope(const cfg *c, const char *driver);
/* The config a scoped driver gets: a deep copy of the root with only its listed top-level keys
 * (caller frees with cJSON_Delete); NULL when the driver is not scoped. */
cJSON *cfg_scoped_root(const cfg *c, const char *driver);
/* Non-zero when a dotted path ("braze_api_key", "base_urls.lms") is visible to the driver. */
int cfg_scope_allows(const cfg *c, const char *driver, const char *path);

/* Non-zero when a key name looks secret (*secret*, *password*, *token*, *_key, case-insensitive). */
int cfg_key_is_secret(const char *key);
/* The one scrubber (docs/configuration.md, "Secrets"): returns a malloc'd copy of text with every
 * known secret replaced by "********": the config's secret values (c may be NULL) and the values
 * this process learned at run time (cfg_secret_learn), each also in its URL-encoded and JSON
 * forms. Values shorter than CFG_MIN_SECRET_LEN are not masked (check-config warns about them). */
#define CFG_MIN_SECRET_LEN 4
char *cfg_redact(const cfg *c, const char *text);
/* Adds a value known only at run time (the live LMS token, a plugin request's secret_values) to
 * this process's secrets; cfg_redact masks it from then on, whatever cfg it is given. */
void cfg_secret_learn(const char *value);
/* Text that must be cut says so: "… [N bytes cut]". */
#define CFG_CUT_PREFIX "\xe2\x80\xa6 ["
/* Scrubs text, then cuts it to at most max bytes (whole UTF-8 characters) ending in
 * "… [N bytes cut]" when it is longer. Scrubbing first means no secret prefix survives a cut. */
char *cfg_redact_bounded(const cfg *c, const char *text, size_t max);
/* For text someone else already cut (was_cut, e.g. a driver's full message buffer) or that ends in
 * a cut marker: scrubs it and also masks a trailing beginning of a secret left by the cut. */
char *cfg_redact_cut(const cfg *c, const char *text, int was_cut);
/* Secret-looking keys whose values are too short to mask (1 to CFG_MIN_SECRET_LEN-1 characters:
 * masking "t" would turn every t of every text into ********), as "key (file:line), ..."; malloc'd,
 * NULL when there are none. check-config warns about them. */
char *cfg_short_secrets(const cfg *c);
/* Scrubs secrets in place (same length not kept; the string may shrink). Returns buf. */
char *cfg_redact_inplace(const cfg *c, char *buf, size_t buf_size);
/* A deep copy of the config with secret-looking keys' values replaced by "********" (caller frees). */
cJSON *cfg_redacted_json(const cfg *c);

#endif
