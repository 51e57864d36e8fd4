/* Shared helpers of the CLI commands: see common.h. */
#include "cli/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cli_config_path(const cli_globals *g, const char *explicit_path)
{
    if (explicit_path && *explicit_path) return strdup(explicit_path);
    if (g && g->config_path && *g->config_path) return strdup(g->config_path);
    return cfg_default_path();
}

void cli_verror(const cfg *config, const char *fmt, va_list ap)
{
    char buf[8192];
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (config) {
        char *clean = cfg_redact(config, buf);
        if (clean) {
            fprintf(stderr, "retirectl: %s\n", clean);
            free(clean);
            return;
        }
    }
    fprintf(stderr, "retirectl: %s\n", buf);
}

void cli_error(const cfg *config, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_verror(config, fmt, ap);
    va_end(ap);
}

void cli_close(cli_ctx *ctx)
{
    if (!ctx) return;
    if (ctx->lms) lms_free(ctx->lms);
    if (ctx->http) http_client_free(ctx->http);
    if (ctx->registry) reg_free(ctx->registry);
    if (ctx->config) cfg_free(ctx->config);
    free(ctx->config_path);
    memset(ctx, 0, sizeof *ctx);
}

int cli_open(cli_ctx *ctx, const cli_globals *g, const char *explicit_config, unsigned need)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->g = g;
    char err[2048] = "";
    ctx->config_path = cli_config_path(g, explicit_config);
    if (!ctx->config_path) {
        cli_error(NULL, "No config file passed in. Give --config FILE (or --config_file FILE), or set "
                        "RETIREMENT_CONFIG_FILE, or create $XDG_CONFIG_HOME/retirectl/config.yml.");
        cli_close(ctx);
        return CLI_EXIT_BAD_CONFIG;
    }
    if (cfg_load(ctx->config_path, &ctx->config, err, sizeof err) != 0) {
        cli_error(NULL, "Failed to read config file %s: %s", ctx->config_path, err);
        cli_close(ctx);
        return CLI_EXIT_BAD_CONFIG;
    }
    if ((need & CLI_NEED_VALIDATE) && cfg_validate(ctx->config, err, sizeof err) != 0) {
        cli_error(ctx->config, "%s", err);
        cli_close(ctx);
        return CLI_EXIT_BAD_CONFIG;
    }
    if (need & CLI_NEED_REG) {
        ctx->registry = reg_new(ctx->config, g ? g->driver_paths : NULL);
        if (!ctx->registry) {
            cli_error(ctx->config, "could not create the driver registry (out of memory?)");
            cli_close(ctx);
            return CLI_EXIT_SETUP;
        }
    }
    if (need & (CLI_NEED_HTTP | CLI_NEED_LMS | CLI_NEED_TOKEN)) {
        ctx->http = http_client_new(ctx->config, err, sizeof err);
        if (!ctx->http) {
            cli_error(ctx->config, "Unexpected error occurred! %s (config file %s)", err, ctx->config_path);
            cli_close(ctx);
            return CLI_EXIT_SETUP;
        }
    }
    if (need & CLI_NEED_LMS) {
        const char *base = cfg_string(ctx->config, "base_urls.lms");
        if (!base) {
            cli_error(ctx->config, "%s: base_urls.lms is missing; add the LMS root URL under base_urls:",
                      ctx->config_path);
            cli_close(ctx);
            return CLI_EXIT_BAD_CONFIG;
        }
        ctx->lms = lms_new(ctx->http, base);
    }
    if (need & CLI_NEED_TOKEN) {
        if (http_ensure_token(ctx->http, err, sizeof err) != 0) {
            cli_error(ctx->config, "Unexpected error occurred! %s", err);
            cli_close(ctx);
            return CLI_EXIT_SETUP;
        }
    }
    return 0;
}

/* Compares an option name with an argument prefix, treating '-' and '_' alike. */
static int name_matches(const char *arg, const char *name, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char a = arg[k], b = name[k];
        if (a == '_') a = '-';
        if (b == '_') b = '-';
        if (a != b) return 0;
    }
    return 1;
}

const char *cli_opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strlen(arg) < n || !name_matches(arg, name, n)) return NULL;
    if (arg[n] == '=') return arg + n + 1;
    if (arg[n] != '\0') return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "retirectl %s: %s needs a value\n", argv[0], name);
        if (missing) *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int cli_opt_flag(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strlen(arg) == n && name_matches(arg, name, n);
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

int cli_parse_long(const char *opt, const char *value, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || !end || end == value || *end || v < 0) {
        fprintf(stderr, "retirectl: %s needs a whole number of 0 or more, not '%s'\n", opt, value);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_print_scrubbed(const cfg *config, const char *text)
{
    if (config) {
        char *clean = cfg_redact(config, text);
        if (clean) {
            fputs(clean, stdout);
            free(clean);
            return;
        }
    }
    fputs(text, stdout);
}
