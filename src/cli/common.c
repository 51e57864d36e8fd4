/* Shared helpers of the CLI commands: see common.h. */
#include "cli/common.h"
#include "engine/isolate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/signals.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/xalloc.h"

char *cli_config_path(const cli_globals *g, const char *explicit_path)
{
    if (explicit_path && *explicit_path) return xstrdup(explicit_path);
    if (g && g->config_path && *g->config_path) return xstrdup(g->config_path);
    const char *env = getenv("RETIREMENT_CONFIG_FILE");
    if (env && *env) return xstrdup(env);
    /* the XDG default counts only when the file is there */
    char *p = cfg_default_path();
    if (p && access(p, F_OK) != 0) {
        free(p);
        p = NULL;
    }
    return p;
}

/* cli_inert / cli_inert_doc. */
static char *inert(const char *text, int keep_lf)
{
    if (!text) return NULL;
    size_t n = strlen(text);
    char *out = xmalloc(n * 6 + 1);
    if (!out) return NULL;
    size_t o = 0;
    const unsigned char *t = (const unsigned char *)text;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = t[i];
        if (ch == '\n' && keep_lf) {
            out[o++] = '\n';
        } else if (ch == '\n' || ch == '\r') {
            out[o++] = '\\';
            out[o++] = ch == '\n' ? 'n' : 'r';
        } else if (ch < 0x20 && ch != '\t') {
            o += (size_t)sprintf(out + o, "\\x%02x", ch);
        } else if (ch == 0x7f) {
            o += (size_t)sprintf(out + o, "\\u007f");
        } else if (ch < 0x80) {
            out[o++] = (char)ch;
        } else {
            uint32_t cp;
            size_t len = utf8_decode(t + i, n - i, &cp, NULL);
            if (!len) {
                o += (size_t)sprintf(out + o, "\\x%02x", ch);
            } else if (cp <= 0x9f) {
                o += (size_t)sprintf(out + o, "\\u%04x", (unsigned)cp); /* C1 control */
                i++;
            } else {
                memcpy(out + o, t + i, len);
                o += len;
                i += len - 1;
            }
        }
    }
    out[o] = '\0';
    return out;
}

char *cli_inert(const char *text)
{
    return inert(text, 0);
}

char *cli_inert_doc(const char *text)
{
    return inert(text, 1);
}

const char *cli_inert_tmp(const char *text)
{
    static char bufs[4][8192];
    static unsigned next;
    char *b = bufs[next++ % 4];
    char *s = cli_inert(text ? text : "");
    snprintf(b, sizeof bufs[0], "%s", s ? s : "");
    free(s);
    return b;
}

static char last_error[8192];

const char *cli_last_error(void)
{
    return last_error;
}

void cli_verror(const cfg *config, const char *fmt, va_list ap)
{
    /* whole text first, scrubbed, and only then bounded: a secret is never cut before masking */
    strbuf sb = STRBUF_INIT;
    sb_vaddf(&sb, fmt, ap);
    char *clean = cfg_redact_bounded(config, sb_str(&sb), sizeof last_error - 1);
    sb_free(&sb);
    snprintf(last_error, sizeof last_error, "%s", clean);
    char *shown = cli_inert(clean);
    fprintf(stderr, "retirectl: %s\n", shown ? shown : clean);
    free(shown);
    free(clean);
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
    cli_config_warnings(ctx->config);
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

/* Parses up to max digits at *p into *out; returns the digit count. */
static int ymd_digits(const char **p, int max, int *out)
{
    int n = 0, v = 0;
    while (n < max && (*p)[0] >= '0' && (*p)[0] <= '9') {
        v = v * 10 + ((*p)[0] - '0');
        (*p)++;
        n++;
    }
    *out = v;
    return n;
}

int cli_parse_ymd(const char *text, long *days)
{
    const char *p = text;
    int y, m, d;
    if (ymd_digits(&p, 4, &y) != 4 || *p++ != '-') return -1;
    if (ymd_digits(&p, 2, &m) < 1 || *p++ != '-') return -1;
    if (ymd_digits(&p, 2, &d) < 1 || *p != '\0') return -1;
    if (m < 1 || m > 12 || d < 1 || y < 1) return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap)) return -1;
    /* days from civil (proleptic Gregorian) */
    long yy = y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return 0;
}

void cli_format_ymd(long days, char out[11])
{
    time_t t = (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u);
}

char *cli_scope_text(const cfg *c, const char *driver)
{
    const cJSON *list = cfg_driver_scope(c, driver);
    strbuf sb = STRBUF_INIT;
    if (!list) {
        sb_add(&sb, "the whole config (not in driver_config_scope)");
        return sb_take(&sb);
    }
    sb_add(&sb, "only ");
    const cJSON *k;
    int n = 0;
    cJSON_ArrayForEach(k, list) sb_addf(&sb, "%s%s", n++ ? ", " : "", k->valuestring);
    if (!n) sb_add(&sb, "nothing");
    sb_add(&sb, " (driver_config_scope)");
    return sb_take(&sb);
}

void cli_config_warnings(const cfg *config)
{
    if (config && config->file_warning) fprintf(stderr, "retirectl: warning: %s\n", config->file_warning);
}

void cli_print_scrubbed(const cfg *config, const char *text)
{
    char *clean = cfg_redact(config, text); /* also without a config: the learned token */
    char *shown = cli_inert_doc(clean ? clean : text);
    fputs(shown ? shown : (clean ? clean : text), stdout);
    free(shown);
    free(clean);
}

/* ---- job event printing ---- */

#include <signal.h>

#include "engine/ev.h"
#include "engine/job.h"

void cli_print_event(void *user, struct job *j, const struct ev_event *ev, const char *line)
{
    (void)j;
    cli_event_printer *p = user;
    if (ev->kind == EV_JOB && ev->current_state) {
        free(p->current_state);
        p->current_state = xstrdup(ev->current_state);
    }
    if (ev->kind == EV_RESULT && ev->final_state) {
        free(p->final_state);
        p->final_state = xstrdup(ev->final_state);
    }
    audit_steps_note(&p->steps, ev, 1);
    if (p->events) {
        fputs(line, stdout);
        fflush(stdout);
        return;
    }
    char name[256];
    switch (ev->kind) {
    case EV_STEP:
        if (!ev->status) break;
        snprintf(name, sizeof name, "%s.%s", ev->driver ? ev->driver : "", ev->method ? ev->method : "");
        if (!strcmp(ev->status, "running") || !strcmp(ev->status, "retrying")) {
            /* on a terminal, show the step in flight until its final line replaces it */
            if (isatty(STDOUT_FILENO)) {
                snprintf(p->running, sizeof p->running, "  %-22s %-42s %s", ev->start_state ? ev->start_state : "",
                         name, !strcmp(ev->status, "running") ? "running" : "retrying");
                printf("\r\033[K%s", p->running);
                fflush(stdout);
            }
            break;
        }
        if (p->running[0]) printf("\r\033[K");
        p->running[0] = '\0';
        if (ev->elapsed_ms >= 0)
            printf("  %-22s %-42s %-8s %6.2f s\n", ev->start_state ? ev->start_state : "", name, ev->status,
                   (double)ev->elapsed_ms / 1000.0);
        else
            printf("  %-22s %-42s %-8s\n", ev->start_state ? ev->start_state : "", name, ev->status);
        fflush(stdout);
        break;
    case EV_PREVIEW: {
        snprintf(name, sizeof name, "%s.%s", ev->driver ? ev->driver : "", ev->method ? ev->method : "");
        printf("  %-22s %-42s %s\n", ev->index < 0 ? "(before the steps)" : (ev->start_state ? ev->start_state : ""),
               name, ev->plan ? ev->plan : "");
        const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(ev->json, "requests");
        const cJSON *r;
        cJSON_ArrayForEach(r, reqs)
        {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "method");
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(r, "url");
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "body");
            printf("      %-6s %s%s%s\n", cJSON_IsString(m) ? m->valuestring : "", cJSON_IsString(u) ? u->valuestring : "",
                   cJSON_IsString(b) ? " " : "", cJSON_IsString(b) ? b->valuestring : "");
        }
        if (ev->message && *ev->message) printf("      note: %s\n", cli_inert_tmp(ev->message));
        fflush(stdout);
        break;
    }
    case EV_LOG:
        if (!p->show_debug && ev->level && !strcmp(ev->level, "debug")) break;
        if (p->running[0]) {
            printf("\r\033[K");
            fflush(stdout);
        }
        {
            char *shown = cli_inert(ev->text ? ev->text : "");
            fprintf(stderr, "%s%s\n", p->log_prefix ? p->log_prefix : "", shown ? shown : "");
            free(shown);
        }
        if (p->running[0]) {
            fputs(p->running, stdout);
            fflush(stdout);
        }
        break;
    case EV_RESULT:
        if (p->running[0]) printf("\r\033[K");
        p->running[0] = '\0';
        printf("  result: %s (exit %d)%s%s\n", ev->outcome ? ev->outcome : "?", ev->exit_status,
               ev->final_state ? ", learner in " : "", ev->final_state ? ev->final_state : "");
        /* a plan's summary, or why a plan stopped (a retirement's reason is already on stderr) */
        if (ev->outcome && ev->message && *ev->message &&
            (strcmp(ev->outcome, "planned") == 0 || (p->dry_run && strcmp(ev->outcome, "complete") != 0))) {
            char *shown = cli_inert(ev->message);
            printf("  %s\n", shown ? shown : "");
            free(shown);
        }
        fflush(stdout);
        break;
    default:
        break;
    }
}

void cli_event_printer_free(cli_event_printer *p)
{
    audit_steps_free(&p->steps);
    free(p->current_state);
    free(p->final_state);
    p->current_state = p->final_state = NULL;
}

static volatile sig_atomic_t *g_cancel_counter;

static void on_cancel_signal(int sig)
{
    (void)sig;
    if (g_cancel_counter) (*g_cancel_counter)++;
}

void cli_install_cancel_handlers(volatile sig_atomic_t *counter)
{
    g_cancel_counter = counter;
    sig_catch_cancel(on_cancel_signal, NULL, NULL); /* also: a closed stdout (`| head`) is not fatal */
}

/* ---- pipeline driver check (check-config, retire --all --dry-run) ---- */

/* What the checking child needs. */
typedef struct pipeline_check {
    const cfg *c;
    const cli_globals *g;
} pipeline_check;

/* Runs in a child (iso_run): loads the pipeline's drivers and checks their methods. */
static int pipeline_check_child(void *arg, strbuf *out)
{
    const pipeline_check *pc = arg;
    char text[8192] = "";
    reg *r = reg_new(pc->c, pc->g ? pc->g->driver_paths : NULL);
    int n = reg_check_pipeline(r, pc->c, text, sizeof text);
    sb_add(out, text);
    reg_free(r);
    return n > 100 ? 100 : n;
}

int cli_check_pipeline_drivers(const cfg *c, const cli_globals *g, char *err, size_t err_len)
{
    pipeline_check pc = {c, g};
    strbuf text = STRBUF_INIT;
    iso_result res;
    int n;
    if (iso_run(pipeline_check_child, &pc, 0, &text, &res) != 0) {
        snprintf(err, err_len, "%s", res.why);
        n = 1;
    } else if (!res.exited) {
        snprintf(err, err_len,
                 "loading the pipeline's drivers %s: a plugin is broken; `retirectl drivers` shows which, fix or "
                 "remove it",
                 res.why);
        n = 1;
    } else {
        snprintf(err, err_len, "%s", sb_str(&text));
        n = res.status;
    }
    sb_free(&text);
    return n;
}
