/* `retirectl driver-run DRIVER.METHOD --learner FILE.json [--dry-run] [--json]`: calls one
 * driver method on a learner object with the real host (HTTP with its timeouts, retries, TLS
 * settings and secret scrubbing; the LMS token only if the driver asks for it) but without any
 * LMS state change, and prints the status, the message, the log lines and every request made
 * (or, with --dry-run, every request the preview describes). The driver runs in a child
 * process: a crash or hang is reported, not suffered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "engine/host.h"
#include "engine/http.h"
#include "engine/isolate.h"
#include "engine/reg.h"
#include "common/xalloc.h"

#define DRIVER_RUN_MAX_TIMEOUT (7 * 24 * 3600) /* --timeout's milliseconds fit an int */

typedef struct run_job {
    const cfg *config;
    const cli_globals *g;
    const char *driver, *method;
    const cJSON *learner;
    int dry_run;
} run_job;

/* Collects what the host reports while the driver runs. */
typedef struct collected {
    cJSON *log;      /* array of {"level", "text"} */
    cJSON *requests; /* array of strings (HTTP log lines) */
} collected;

static const char *level_name(rd_log_level l)
{
    return l == RD_LOG_DEBUG ? "debug" : l == RD_LOG_INFO ? "info" : l == RD_LOG_WARN ? "warning" : "error";
}

static void on_log(void *user, rd_log_level level, const char *text)
{
    collected *c = user;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "level", level_name(level));
    cJSON_AddStringToObject(o, "text", text);
    cJSON_AddItemToArray(c->log, o);
}

static void on_progress(void *user, const char *text)
{
    on_log(user, RD_LOG_DEBUG, text);
}

static void on_http(void *user, rd_log_level level, const char *line)
{
    (void)level;
    collected *c = user;
    cJSON_AddItemToArray(c->requests, cJSON_CreateString(line));
}

static const char *status_name(rd_status st)
{
    switch (st) {
    case RD_OK: return "ok";
    case RD_NOT_FOUND: return "not_found";
    case RD_RETRYABLE: return "retryable";
    case RD_FAILED: return "failed";
    case RD_CONFIG: return "config";
    default: return "failed";
    }
}

/* Runs in a child: loads, instantiates and calls; writes one JSON document to out.
 * Exit 0 (method returned), 3 (could not start). */
static int run_child(void *arg, strbuf *out)
{
    const run_job *jb = arg;
    cJSON *doc = cJSON_CreateObject();
    collected c = {cJSON_AddArrayToObject(doc, "log"), cJSON_AddArrayToObject(doc, "requests")};
    char err[4096] = "";
    reg *r = reg_new(jb->config, jb->g ? jb->g->driver_paths : NULL);
    http_client *http = http_client_new(jb->config, err, sizeof err);
    int rc = 3;
    if (!http) {
        cJSON_AddStringToObject(doc, "error", err);
    } else {
        http_set_log(http, on_http, &c);
        rd_host *host = host_new(jb->config, http, jb->driver, on_log, on_progress, &c, NULL);
        const rd_driver *d = NULL;
        void *inst = reg_instantiate(r, jb->driver, jb->config->root, host, &d, err, sizeof err);
        const rd_method *m = inst ? reg_method(d, jb->method) : NULL;
        if (!inst) {
            cJSON_AddStringToObject(doc, "error", err);
        } else if (!m) {
            strbuf sb = STRBUF_INIT;
            sb_addf(&sb, "driver %s has no method %s; it has:", jb->driver, jb->method);
            const rd_method *k;
            for (size_t i = 0; (k = reg_method_at(d, i)) != NULL; i++) sb_addf(&sb, " %s", k->name);
            cJSON_AddStringToObject(doc, "error", sb_str(&sb));
            sb_free(&sb);
        } else {
            host_call hc;
            host_call_init(&hc, host, jb->dry_run);
            rd_status st = RD_OK;
            if (jb->dry_run && m->preview)
                st = m->preview(inst, jb->learner, &hc.call);
            else if (jb->dry_run)
                rd_call_message(&hc.call, "driver %s has no preview for %s: it would be called with the learner",
                                jb->driver, jb->method);
            else
                st = m->run(inst, jb->learner, &hc.call);
            cJSON_AddStringToObject(doc, "status", status_name(st));
            cJSON_AddStringToObject(doc, "message", hc.call.message);
            if (hc.requests) {
                cJSON_AddItemToObject(doc, "described", hc.requests);
                hc.requests = NULL;
            }
            host_call_done(&hc);
            rc = 0;
        }
        if (inst && d->destroy) d->destroy(inst);
        host_free(host);
        http_client_free(http);
    }
    char *text = cJSON_PrintUnformatted(doc);
    sb_add(out, text);
    free(text);
    cJSON_Delete(doc);
    reg_free(r);
    return rc;
}

/* Prints the child's document for people. */
static void print_text(strbuf *sb, const run_job *jb, const cJSON *doc)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "log"))
    {
        sb_addf(sb, "log %s: %s\n", cJSON_GetObjectItemCaseSensitive(it, "level")->valuestring,
                cJSON_GetObjectItemCaseSensitive(it, "text")->valuestring);
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "requests")) sb_addf(sb, "request: %s\n", it->valuestring);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "described"))
    {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, "body");
        sb_addf(sb, "would send: %s %s%s%s\n", cJSON_GetObjectItemCaseSensitive(it, "method")->valuestring,
                cJSON_GetObjectItemCaseSensitive(it, "url")->valuestring, cJSON_IsString(b) ? " " : "",
                cJSON_IsString(b) ? b->valuestring : "");
        const cJSON *h;
        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(it, "headers")) sb_addf(sb, "    %s\n", h->valuestring);
    }
    if (cJSON_IsString(e)) {
        sb_addf(sb, "%s.%s: could not run: %s\n", jb->driver, jb->method, e->valuestring);
        return;
    }
    sb_addf(sb, "%s.%s%s: %s\n", jb->driver, jb->method, jb->dry_run ? " (dry run)" : "",
            cJSON_GetObjectItemCaseSensitive(doc, "status")->valuestring);
    sb_addf(sb, "message: %s\n", cJSON_GetObjectItemCaseSensitive(doc, "message")->valuestring);
}

/* Reads and parses the learner file; NULL with a sentence on stderr. */
static cJSON *read_learner(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error(NULL, "driver-run: cannot read the learner file %s; give a JSON object (see docs/writing-a-driver.md, "
                        "\"The learner object\")",
                  path);
        return NULL;
    }
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_addn(&sb, buf, n);
    fclose(f);
    cJSON *j = cJSON_Parse(sb_str(&sb));
    sb_free(&sb);
    if (!cJSON_IsObject(j)) {
        cli_error(NULL, "driver-run: %s is not a JSON object; write the learner as {\"user\": {\"id\": 7, ...}, ...}",
                  path);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int driver_run_exec(const cli_args *a, const cli_globals *g)
{
    const char *target = cli_args_arg(a, 0), *learner_path = cli_args_get(a, "--learner");
    int dry_run = cli_args_has(a, "--dry-run") > 0, json = g->json || cli_args_has(a, "--json");
    long timeout = 0;
    if (cli_args_long(a, "--timeout", 0, &timeout) != 0) return CLI_EXIT_USAGE;
    if (timeout > DRIVER_RUN_MAX_TIMEOUT) {
        fprintf(stderr, "retirectl driver-run: --timeout is at most %d seconds (a week), not %ld\n",
                DRIVER_RUN_MAX_TIMEOUT, timeout);
        return CLI_EXIT_USAGE;
    }
    const char *dot = target ? strchr(target, '.') : NULL;
    if (!dot || dot == target || !dot[1] || !learner_path) {
        fprintf(stderr, "retirectl driver-run: give DRIVER.METHOD and --learner FILE.json (see retirectl "
                        "driver-run --help)\n");
        return CLI_EXIT_USAGE;
    }
    cfg *config = NULL;
    char err[4096];
    char *path = cli_config_path(g, NULL);
    if (path ? cfg_load(path, &config, err, sizeof err) != 0
             : cfg_load_string("{}\n", "(no config)", &config, err, sizeof err) != 0) {
        cli_error(NULL, "driver-run: %s", err);
        free(path);
        return 255;
    }
    cJSON *learner = read_learner(learner_path);
    if (!learner) {
        cfg_free(config);
        free(path);
        return CLI_EXIT_USAGE;
    }
    char *driver = xstrndup(target, (size_t)(dot - target));
    run_job jb = {config, g, driver, dot + 1, learner, dry_run};
    strbuf text = STRBUF_INIT;
    iso_result res;
    int limit = timeout > 0 ? (int)timeout : (int)cfg_number(config, "step_timeout_seconds", 900);
    iso_run(run_child, &jb, limit * 1000, &text, &res);
    cJSON *doc = res.exited ? cJSON_Parse(sb_str(&text)) : NULL;
    int status;
    strbuf shown = STRBUF_INIT;
    if (!doc) {
        sb_addf(&shown, "%s.%s %s; no state was changed anywhere but at the service the driver talks to\n", driver,
                dot + 1, res.why[0] ? res.why : "ended without a result");
        status = 255;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "error", sb_str(&shown));
            char *t = cJSON_Print(o);
            sb_reset(&shown);
            sb_addf(&shown, "%s\n", t);
            free(t);
            cJSON_Delete(o);
        }
    } else {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
        status = !cJSON_IsString(st) ? 255
                 : (strcmp(st->valuestring, "ok") == 0 || strcmp(st->valuestring, "not_found") == 0) ? 0
                                                                                                      : 1;
        if (json) {
            cJSON_AddStringToObject(doc, "driver", driver);
            cJSON_AddStringToObject(doc, "method", dot + 1);
            cJSON_AddBoolToObject(doc, "dry_run", dry_run);
            char *t = cJSON_Print(doc);
            sb_addf(&shown, "%s\n", t);
            free(t);
        } else {
            print_text(&shown, &jb, doc);
        }
        cJSON_Delete(doc);
    }
    cli_print_scrubbed(config, sb_str(&shown));
    sb_free(&shown);
    sb_free(&text);
    free(driver);
    cJSON_Delete(learner);
    cfg_free(config);
    free(path);
    return status;
}

static const cli_opt driver_run_options[] = {
    {"--learner", "FILE", "the learner object, a JSON file (required; docs/writing-a-driver.md,\n\"The learner object\")", 0, NULL},
    {"--dry-run", NULL, "call the method's preview instead: print the requests it would send", 0, NULL},
    {"--json", NULL, "one JSON document: status, message, log, requests (also the global --json)", 0, NULL},
    {"--timeout", "SECONDS", "stop the driver after this long (default: step_timeout_seconds, else 900)", 0, NULL},
    CLI_OPT_END,
};

const cli_cmd_entry cmd_driver_run_entry = {
    .name = "driver-run",
    .args = "DRIVER.METHOD",
    .summary = "call one driver method on a learner file, without the LMS",
    .more_usage = "retirectl [--config FILE] [--driver-path FILE]... driver-run DRIVER.METHOD --learner FILE.json",
    .about = "Calls one method of a driver on the learner object in FILE.json (the dict the pipeline passes:\n"
             "see docs/writing-a-driver.md, \"The learner object\") with the real host: HTTP with its timeouts,\n"
             "retries, TLS settings and secret scrubbing. No LMS state is read or changed. Prints the status,\n"
             "the message the LMS would record, the driver's log lines and every request made. --dry-run\n"
             "calls the method's preview instead and prints the requests it would send. The driver runs in\n"
             "a child process. The config is optional (get_instance then gets an empty one).\n",
    .opts = driver_run_options,
    .epilogue = "Exit status: 0 OK or NOT_FOUND, 1 RETRYABLE, FAILED or CONFIG, 2 usage, 255 the driver did not\n"
                "load, refused to start, crashed or hung.\n",
    .exec = driver_run_exec,
};

