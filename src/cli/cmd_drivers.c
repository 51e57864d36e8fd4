/* `retirectl drivers [--json]`: every driver the registry finds (built in, extra_services, or
 * from which entry-point file:line and .so), its version, ABI, methods (and which have a
 * preview), whether the config's pipeline uses it, and any load error. Exit 0, or 1 when a
 * driver the pipeline uses has a problem (or an explicitly named config cannot be read). The
 * config is optional: without one every driver is still listed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "cli/learner_args.h"
#include "engine/config.h"
#include "engine/isolate.h"
#include "engine/reg.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

/* Non-zero when the config's pipeline calls driver.method (method NULL: any method). */
static int pipeline_uses(const cfg *c, const char *driver, const char *method)
{
    for (size_t i = 0; c && i < c->n_steps; i++)
        if (strcmp(c->steps[i].driver, driver) == 0 && (!method || strcmp(c->steps[i].method, method) == 0))
            return 1;
    return 0;
}

/* Splits the newline-separated text into a JSON array of strings. */
static cJSON *lines_array(const char *text)
{
    cJSON *arr = cJSON_CreateArray();
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n) {
            char *line = xstrndup(p, n);
            cJSON_AddItemToArray(arr, cJSON_CreateString(line));
            free(line);
        }
        p = nl ? nl + 1 : NULL;
    }
    return arr;
}

/* The registry as a JSON document (caller frees). */
static cJSON *to_json(const reg *r, const cfg *c, const char *config_path, const char *pipeline_problems)
{
    cJSON *root = cJSON_CreateObject();
    if (config_path)
        cJSON_AddStringToObject(root, "config", config_path);
    else
        cJSON_AddNullToObject(root, "config");
    cJSON_AddNumberToObject(root, "host_abi", RD_ABI_VERSION);
    cJSON_AddNumberToObject(root, "host_abi_minor", RD_ABI_MINOR);
    cJSON *files = cJSON_AddArrayToObject(root, "entry_point_files");
    for (size_t i = 0; i < reg_searched_count(r); i++) cJSON_AddItemToArray(files, cJSON_CreateString(reg_searched(r, i)));
    cJSON *drivers = cJSON_AddArrayToObject(root, "drivers");
    for (size_t i = 0; i < reg_count(r); i++) {
        const reg_driver_info *d = reg_info(r, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", d->name);
        cJSON_AddStringToObject(o, "kind", d->kind);
        cJSON_AddBoolToObject(o, "builtin", d->builtin);
        const cJSON *scope = cfg_driver_scope(c, d->name); /* driver_config_scope; null: whole config */
        cJSON_AddItemToObject(o, "config_scope", scope ? cJSON_Duplicate(scope, 1) : cJSON_CreateNull());
        cJSON_AddStringToObject(o, "source", d->source);
        if (d->line)
            cJSON_AddNumberToObject(o, "line", d->line);
        else
            cJSON_AddNullToObject(o, "line");
        if (d->file) cJSON_AddStringToObject(o, "file", d->file); else cJSON_AddNullToObject(o, "file");
        if (d->symbol) cJSON_AddStringToObject(o, "symbol", d->symbol); else cJSON_AddNullToObject(o, "symbol");
        const rd_driver *drv = d->driver;
        if (drv && drv->version) cJSON_AddStringToObject(o, "version", drv->version); else cJSON_AddNullToObject(o, "version");
        if (d->abi_version) cJSON_AddNumberToObject(o, "abi", d->abi_version); else cJSON_AddNullToObject(o, "abi");
        if (drv && drv->description) cJSON_AddStringToObject(o, "description", drv->description);
        else cJSON_AddNullToObject(o, "description");
        cJSON *methods = cJSON_AddArrayToObject(o, "methods");
        const rd_method *dm;
        for (size_t k = 0; (dm = reg_method_at(drv, k)) != NULL; k++) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "name", dm->name);
            cJSON_AddBoolToObject(m, "preview", dm->preview != NULL);
            cJSON_AddBoolToObject(m, "used_by_pipeline", pipeline_uses(c, d->name, dm->name));
            cJSON_AddItemToArray(methods, m);
        }
        cJSON_AddBoolToObject(o, "used_by_pipeline", pipeline_uses(c, d->name, NULL));
        if (d->load_error) cJSON_AddStringToObject(o, "load_error", d->load_error); else cJSON_AddNullToObject(o, "load_error");
        cJSON_AddItemToArray(drivers, o);
    }
    cJSON *problems = cJSON_AddArrayToObject(root, "problems");
    for (size_t i = 0; i < reg_problem_count(r); i++) cJSON_AddItemToArray(problems, cJSON_CreateString(reg_problem(r, i)));
    cJSON_AddItemToObject(root, "pipeline_problems", lines_array(pipeline_problems));
    return root;
}

/* The registry as text for people. */
static void to_text(strbuf *sb, const reg *r, const cfg *c, const char *config_path, const char *pipeline_problems,
                    int n_pipeline_problems)
{
    sb_addf(sb, "Entry-point files read:");
    if (!reg_searched_count(r)) sb_add(sb, " none");
    sb_add(sb, "\n");
    for (size_t i = 0; i < reg_searched_count(r); i++) sb_addf(sb, "  %s\n", reg_searched(r, i));
    sb_addf(sb, "Config: %s\n\n", config_path ? config_path : "none (the pipeline is not checked)");
    size_t n_errors = 0;
    for (size_t i = 0; i < reg_count(r); i++) {
        const reg_driver_info *d = reg_info(r, i);
        const rd_driver *drv = d->driver;
        sb_addf(sb, "%s", d->name);
        if (drv && drv->version) sb_addf(sb, " %s", drv->version);
        sb_addf(sb, " (%s", d->kind);
        if (d->abi_version) sb_addf(sb, ", ABI %u", d->abi_version);
        sb_addf(sb, ")%s\n", pipeline_uses(c, d->name, NULL) ? "  [used by the pipeline]" : "");
        if (d->kind && strcmp(d->kind, "built-in") != 0) {
            if (d->line)
                sb_addf(sb, "  source:  %s:%d\n", d->source, d->line);
            else
                sb_addf(sb, "  source:  %s\n", d->source);
        }
        if (d->file) sb_addf(sb, "  file:    %s (symbol %s)\n", d->file, d->symbol ? d->symbol : "?");
        if (drv && drv->description && *drv->description) sb_addf(sb, "  about:   %s\n", drv->description);
        const rd_method *dm;
        if (c) {
            char *scope = cli_scope_text(c, d->name);
            sb_addf(sb, "  config:  %s\n", scope);
            free(scope);
        }
        if (drv && drv->methods) {
            for (size_t k = 0; (dm = reg_method_at(drv, k)) != NULL; k++) {
                sb_addf(sb, "  %s %s", k ? "        " : "methods:", dm->name);
                int prev = dm->preview != NULL, used = pipeline_uses(c, d->name, dm->name);
                if (prev || used)
                    sb_addf(sb, " [%s%s%s]", prev ? "preview" : "", prev && used ? ", " : "", used ? "in pipeline" : "");
                sb_add(sb, "\n");
            }
        }
        if (d->load_error) {
            sb_addf(sb, "  error:   %s\n", d->load_error);
            n_errors++;
        }
    }
    if (reg_problem_count(r)) {
        sb_add(sb, "\nProblems in entry-point files:\n");
        for (size_t i = 0; i < reg_problem_count(r); i++) sb_addf(sb, "  %s\n", reg_problem(r, i));
    }
    if (n_pipeline_problems) {
        sb_addf(sb, "\nThe pipeline cannot run (%d problem%s):\n", n_pipeline_problems,
                n_pipeline_problems == 1 ? "" : "s");
        const char *p = pipeline_problems;
        while (p && *p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            sb_addf(sb, "  %.*s\n", (int)n, p);
            p = nl ? nl + 1 : NULL;
        }
    }
    sb_addf(sb, "\n%zu driver%s, %zu with a load error", reg_count(r), reg_count(r) == 1 ? "" : "s", n_errors);
    if (c)
        sb_addf(sb, "; pipeline: %s\n", n_pipeline_problems ? "PROBLEMS (see above)" : "every driver and method found");
    else
        sb_add(sb, "\n");
}

/* What the inspecting child needs. */
typedef struct drivers_job {
    const cfg *config;
    const char *shown_path;
    const char *const *driver_paths;
    int json;
} drivers_job;

/* Runs in a child process (iso_run): loads every plugin and writes the listing, so no plugin
 * code, constructors included, ever runs in the CLI process. Returns 1 when the pipeline's
 * drivers have a problem. */
static int drivers_child(void *arg, strbuf *out)
{
    const drivers_job *jb = arg;
    reg *r = reg_new(jb->config, jb->driver_paths);
    reg_load_all(r);
    char pipeline_problems[16384] = "";
    int n_pp = jb->config ? reg_check_pipeline(r, jb->config, pipeline_problems, sizeof pipeline_problems) : 0;
    if (jb->json) {
        cJSON *doc = to_json(r, jb->config, jb->shown_path, pipeline_problems);
        char *text = cJSON_Print(doc);
        sb_addf(out, "%s\n", text);
        free(text);
        cJSON_Delete(doc);
    } else {
        to_text(out, r, jb->config, jb->shown_path, pipeline_problems, n_pp);
    }
    reg_free(r);
    return n_pp > 0 ? 1 : 0;
}

static int drivers_exec(const cli_args *a, const cli_globals *g)
{
    int json = g->json || cli_args_has(a, "--json");
    /* the config is optional; one named explicitly must load */
    int status = 0;
    const char *env = getenv("RETIREMENT_CONFIG_FILE");
    int explicit_config = (g->config_path && *g->config_path) || (env && *env);
    char *path = cli_config_path(g, NULL);
    cfg *config = NULL;
    if (path) {
        struct stat st;
        if (!explicit_config && stat(path, &st) != 0) {
            free(path); /* the default location is simply not used */
            path = NULL;
        } else {
            char err[2048];
            if (cfg_load(path, &config, err, sizeof err) != 0) {
                cli_error(NULL, "Failed to read config file %s: %s (drivers are listed without it)", path, err);
                config = NULL;
                status = 1;
            }
            cli_config_warnings(config);
        }
    }

    drivers_job job = {config, config ? path : NULL, g->driver_paths, json};
    strbuf text = STRBUF_INIT;
    iso_result res;
    if (iso_run(drivers_child, &job, 0, &text, &res) != 0 || !res.exited || res.status > 1) {
        cli_error(config,
                  "listing the drivers %s: a plugin broke the inspection outside the checks that catch this; "
                  "run `retirectl drivers` with fewer entry-point files to find it",
                  res.why[0] ? res.why : "failed");
        status = 1;
    } else if (res.status) {
        status = 1;
    }
    cli_print_scrubbed(config, sb_str(&text));
    sb_free(&text);
    if (config) cfg_free(config);
    free(path);
    return status;
}

static const cli_opt drivers_options[] = {
    CLI_OPT_ROW_JSON("the listing as one JSON document"),
    CLI_OPT_END,
};

const cli_cmd_entry cmd_drivers_entry = {
    .name = "drivers",
    .summary = "list drivers: source, ABI, methods, load errors",
    .more_usage = "retirectl [--config FILE] [--driver-path FILE]... drivers [--json]",
    .about = "Lists every retirement driver found: the built-ins, one per extra_services item, and the\n"
             "plugins of the retirement_driver entry-point files (the install's, driver_entry_points of\n"
             "the config, --driver-path, RETIRECTL_DRIVER_PATH), with the file and line each comes from,\n"
             "its .so, version, ABI, methods (\"preview\" marks a dry-run) and load error. Every plugin is\n"
             "loaded to find out, in a child process: no plugin code runs in this one.\n",
    .opts = drivers_options,
    .epilogue = "Exit status 1 when a driver the config's pipeline uses has a problem (or a config named\n"
                "with --config or RETIREMENT_CONFIG_FILE cannot be read), else 0.\n",
    .exec = drivers_exec,
};

