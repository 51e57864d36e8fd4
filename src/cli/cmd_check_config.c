/* `retirectl check-config`: loads the config, validates it, loads every driver the pipeline
 * uses, lists entry-point file problems, builds each pipeline driver's instance in a child
 * process and fetches a token, printing each check with ok/FAIL and what to do. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "cli/learner_args.h"
#include "engine/archive.h"
#include "engine/s3.h"
#include "engine/history.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

/* Where the check results go: text lines on stdout as they come, or (json) collected into
 * one document printed by checks_finish. */
typedef struct {
    int json;
    cJSON *checks; /* array, json mode only */
} checks_out;

/* ok value of a check that passes with a warning (printed WARN; "warning": true in json). */
#define CHECK_WARN 2

/* Prints (or, in json mode, records) one check with secrets scrubbed; trailing newlines of
 * the detail are dropped so a multi-line error does not leave a blank line. */
static void check_line(checks_out *out, const cfg *c, int ok, const char *what, const char *detail)
{
    char *d = xstrdup(detail ? detail : "");
    size_t n = strlen(d);
    while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == ' ')) d[--n] = '\0';
    char *clean = c ? cfg_redact(c, d) : NULL;
    const char *text = clean ? clean : d;
    if (out->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "check", what);
        cJSON_AddBoolToObject(o, "ok", ok);
        if (ok == CHECK_WARN) cJSON_AddBoolToObject(o, "warning", 1);
        cJSON_AddStringToObject(o, "detail", text);
        cJSON_AddItemToArray(out->checks, o);
    } else {
        printf("  %-4s  %s%s%s\n", ok == CHECK_WARN ? "WARN" : ok ? "ok" : "FAIL", what, *text ? ": " : "", cli_inert_tmp(text));
    }
    free(clean);
    free(d);
}

/* Prints the closing line (text) or the whole document (json) and frees what out holds. */
static void checks_finish(checks_out *out, const char *path, int failures)
{
    if (out->json) {
        cJSON *doc = cJSON_CreateObject();
        if (path)
            cJSON_AddStringToObject(doc, "config", path);
        else
            cJSON_AddNullToObject(doc, "config");
        cJSON_AddBoolToObject(doc, "ok", failures == 0);
        cJSON_AddItemToObject(doc, "checks", out->checks);
        out->checks = NULL;
        char *text = cJSON_Print(doc);
        if (text) printf("%s\n", text);
        free(text);
        cJSON_Delete(doc);
    } else {
        printf("%s\n", failures ? "check-config: FAILED" : "check-config: all checks passed");
    }
}

/* The retirement history store (docs/history.md) opens: 1 when it does not (said), else 0. */
static int check_history(checks_out *out, const cfg *c)
{
    hist_settings s;
    hist_settings_of(c, &s);
    if (!s.enabled) {
        check_line(out, c, 1, "history", "turned off (history.enabled: false): no job is recorded");
        return 0;
    }
    char err[2048] = "";
    history *h = NULL;
    int v = 0;
    if (hist_open(c, &h, err, sizeof err) != 0 || hist_schema_version(h, &v, err, sizeof err) != 0) {
        check_line(out, c, 0, "history", err);
        hist_close(h);
        return 1;
    }
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s %s, schema version %d, keeping %g days", hist_backend_name(h), hist_where(h), v, s.days);
    check_line(out, c, 1, "history", sb_str(&sb));
    sb_free(&sb);
    hist_close(h);
    return 0;
}

/* The file's permissions and cfg_validate (settings and pipeline). Failures. */
static int check_settings(checks_out *out, const cfg *c)
{
    int failures = 0;
    if (c->file_warning) {
        check_line(out, c, 0, "config file permissions", c->file_warning);
        failures++;
    }
    char err[8192] = "";
    if (cfg_validate(c, err, sizeof err) != 0) {
        check_line(out, c, 0, "settings and pipeline", err);
        failures++;
    } else {
        char d[128];
        snprintf(d, sizeof d, "%zu pipeline step(s), every service URL and key present", c->n_steps);
        check_line(out, c, 1, "settings and pipeline", d);
    }
    return failures;
}

/* What each scoped driver sees, and a warning for secrets too short to be masked (never failures). */
static void check_scope_and_secrets(checks_out *out, const cfg *c)
{
    const cJSON *scope = cfg_get(c, "driver_config_scope");
    if (cJSON_IsObject(scope)) {
        strbuf sb = STRBUF_INIT;
        for (const cJSON *d = scope->child; d; d = d->next) {
            char *t = cli_scope_text(c, d->string);
            sb_addf(&sb, "%s%s sees %s", sb.len ? "; " : "", d->string, t);
            free(t);
        }
        sb_add(&sb, sb.len ? "; every other driver sees the whole config" : "no driver is scoped");
        check_line(out, c, 1, "driver config scope", sb_str(&sb));
        sb_free(&sb);
    }
    char *short_keys = cfg_short_secrets(c);
    if (short_keys) {
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "%s: too short to be masked in output (under %d characters); use the real secret", short_keys,
                CFG_MIN_SECRET_LEN);
        check_line(out, c, CHECK_WARN, "secret values", sb_str(&sb));
        sb_free(&sb);
        free(short_keys);
    }
}

/* Every driver the pipeline names loads and has its method. Failures. */
static int check_drivers(checks_out *out, const cfg *c, const cli_globals *g)
{
    char err[8192] = "";
    if (cli_check_pipeline_drivers(c, g, err, sizeof err)) {
        check_line(out, c, 0, "drivers", err);
        return 1;
    }
    check_line(out, c, 1, "drivers", "every driver the pipeline names loads and has its method");
    return 0;
}

/* The entry-point files, and each pipeline driver's get_instance on the config. Failures. */
static int check_plugins(checks_out *out, const cfg *c, const cli_globals *g)
{
    int failures = 0;
    strbuf found = STRBUF_INIT;
    if (cli_entry_point_problems(c, g, &found)) {
        check_line(out, c, 0, "entry-point files", sb_str(&found));
        failures++;
    } else {
        check_line(out, c, 1, "entry-point files", "no syntax error and no name defined twice");
    }
    sb_reset(&found);
    if (cli_check_driver_instances(c, g, &found)) {
        check_line(out, c, 0, "driver instances", sb_str(&found));
        failures++;
    } else {
        check_line(out, c, 1, "driver instances",
                   "every pipeline driver that loads accepted the config (get_instance, in a child process)");
    }
    sb_free(&found);
    return failures;
}

/* s3_archive, when set (only `retirectl cleanup` needs it): fields, credentials and URL. Failures. */
static int check_archive(checks_out *out, const cfg *c)
{
    if (!cfg_get(c, "s3_archive")) return 0;
    archive_fields fields;
    const char *secret = NULL;
    s3_client *s3 = NULL;
    char err[8192] = "";
    int failures = 0;
    if (archive_settings(c, &fields, &secret, err, sizeof err) != 0 || s3_client_new(c, 1, &s3, err, sizeof err) != 0) {
        check_line(out, c, 0, "archive (s3_archive, for cleanup)", err);
        failures++;
    } else {
        char d[512];
        char *url = s3_object_url(s3, "raw/");
        snprintf(d, sizeof d, "%s, fields %s, encryption %s", url, archive_fields_name(fields),
                 cfg_string(c, "s3_archive.sse") ? cfg_string(c, "s3_archive.sse") : "the bucket's default");
        check_line(out, c, 1, "archive (s3_archive, for cleanup)", d);
        free(url);
    }
    s3_client_free(s3);
    return failures;
}

/* An LMS token fetched with the config's client id and secret. Failures. */
static int check_token(checks_out *out, const cfg *c)
{
    char err[8192] = "";
    http_client *h = http_client_new(c, err, sizeof err);
    if (!h) {
        check_line(out, c, 0, "LMS client", err);
        return 1;
    }
    int failures = 0;
    err[0] = '\0';
    if (http_ensure_token(h, err, sizeof err) != 0) {
        check_line(out, c, 0, "LMS token", err);
        failures++;
    } else {
        const char *lms = cfg_string(c, "base_urls.lms");
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "fetched from %s for client_id %s", lms ? lms : "?", cfg_string(c, "client_id") ? cfg_string(c, "client_id") : "?");
        check_line(out, c, 1, "LMS token", sb_str(&sb));
        sb_free(&sb);
    }
    http_client_free(h);
    return failures;
}

static int check_config_exec(const cli_args *a, const cli_globals *g)
{
    const char *config_file = cli_args_get(a, "--config_file");
    checks_out out = {(g && g->json) || cli_args_has(a, "--json"), NULL};
    if (out.json) out.checks = cJSON_CreateArray();
    char *path = cli_config_path(g, config_file);
    if (!path) {
        check_line(&out, NULL, 0, "config file",
                   "none given; pass --config FILE or set RETIREMENT_CONFIG_FILE");
        checks_finish(&out, NULL, 1);
        return CLI_EXIT_BAD_CONFIG;
    }
    char err[8192] = "";
    cfg *c = NULL;
    if (cfg_load(path, &c, err, sizeof err) != 0) {
        /* err already names the file (and line:column for YAML) and says what to fix. */
        check_line(&out, NULL, 0, "config file loads", err);
        checks_finish(&out, path, 1);
        free(path);
        return CLI_EXIT_BAD_CONFIG;
    }
    check_line(&out, c, 1, "config file loads", path);
    int failures = check_settings(&out, c);
    check_scope_and_secrets(&out, c);
    failures += check_drivers(&out, c, g);
    failures += check_archive(&out, c);
    failures += check_plugins(&out, c, g);
    failures += check_token(&out, c);
    failures += check_history(&out, c);
    checks_finish(&out, path, failures);
    cfg_free(c);
    free(path);
    return failures ? CLI_EXIT_BAD_CONFIG : 0;
}

static const cli_opt check_config_options[] = {
    CLI_OPT_ROW_CONFIG_FILE,
    CLI_OPT_ROW_JSON("one JSON document instead: {\"config\": FILE, \"ok\": true|false,\n"
                     "\"checks\": [{\"check\": NAME, \"ok\": true|false, \"detail\": TEXT}, ...]}"),
    CLI_OPT_END,
};

const cli_cmd_entry cmd_check_config_entry = {
    .name = "check-config",
    .summary = "validate config, pipeline, drivers and credentials",
    .about = "Checks, in order: the config file loads (YAML, ${NAME} variables), the keys every command\n"
             "needs and each pipeline step's service URL/keys (cfg validation), every driver the pipeline\n"
             "names loads and has the method, the entry-point files have no problem (syntax, a name\n"
             "defined twice), every pipeline driver builds its instance from this config (get_instance,\n"
             "each in its own child process, as a run would), and the LMS gives a token for\n"
             "client_id/client_secret.\n"
             "Prints one line per check (ok / FAIL with what to do). Secrets are never printed.\n",
    .opts = check_config_options,
    .epilogue = "Exit status: 0 when every check passes, else 249.\n",
    .exec = check_config_exec,
};

