/* Fetch children for the console (see fetch.h). */
#include "ui/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/http.h"
#include "engine/lms.h"
#include "engine/reg.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "ui/history_notes.h"
#include "ui/model.h"
#include "common/xalloc.h"

/* The console's one HTTP client (ui_fetch_init): fetch children inherit it, and with it the
 * token, so the LMS sees one token fetch per token lifetime, not one per refresh. */
static http_client *shared;

int ui_fetch_init(const cfg *c, char *err, size_t err_len)
{
    if (shared) return 0;
    shared = http_client_new(c, err, err_len);
    return shared ? 0 : -1;
}

void ui_fetch_done(void)
{
    http_client_free(shared);
    shared = NULL;
}

/* The client a child uses: the shared one, else a new one (NULL with err). *own says to free it. */
static http_client *child_client(const cfg *c, int *own, char *err, size_t err_len)
{
    *own = !shared;
    return shared ? shared : http_client_new(c, err, err_len);
}

/* Writes tab-separated escaped fields and a newline. */
static void put_fields(FILE *out, char tag, const char *const *f, size_t n)
{
    fputc(tag, out);
    for (size_t i = 0; i < n; i++) {
        char *e = ui_proto_escape(f[i] ? f[i] : "");
        fputc('\t', out);
        fputs(e, out);
        free(e);
    }
    fputc('\n', out);
}

static void put_error(FILE *out, const char *text)
{
    const char *f[1] = {text};
    put_fields(out, 'E', f, 1);
}

/* When this child fetched a token (none was inherited, or it expired), hands it to the console
 * on the private pipe (a T line, never shown or logged) so later children reuse it. */
static void put_token(FILE *out, http_client *h, int fetches_before)
{
    if (!h || h != shared || http_token_fetches(h) == fetches_before) return;
    char tok[4096], left[32];
    double secs;
    if (http_token_get(h, tok, sizeof tok, &secs) != 0) return;
    snprintf(left, sizeof left, "%.0f", secs);
    const char *f[2] = {tok, left};
    put_fields(out, 'T', f, 2);
    explicit_bzero(tok, sizeof tok);
}

int ui_fetch_token_pipe(void)
{
    char tok[4096], line[4200];
    double secs;
    if (!shared || http_token_get(shared, tok, sizeof tok, &secs) != 0) return -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    int n = snprintf(line, sizeof line, "%s\t%.0f\n", tok, secs);
    explicit_bzero(tok, sizeof tok);
    ssize_t w = n > 0 && (size_t)n < sizeof line ? write(p[1], line, (size_t)n) : -1;
    explicit_bzero(line, sizeof line);
    close(p[1]);
    if (w != n) {
        close(p[0]);
        return -1;
    }
    return p[0];
}

int ui_fetch_take_token(char *line)
{
    if (line[0] != 'T' || line[1] != '\t') return 0;
    char *f[2];
    if (shared && ui_proto_split(line + 2, f, 2) == 2) http_token_set(shared, f[0], strtod(f[1], NULL));
    explicit_bzero(line, strlen(line));
    return 1;
}

/* Forks a child running fn(arg, out) with stdout of the pipe; returns pid, *fd the read end. */
static pid_t spawn(void (*fn)(const void *arg, FILE *out), const void *arg, int *fd, char *err, size_t err_len)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(err, err_len, "cannot create a pipe for a background fetch: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "cannot fork a background fetch: %s", strerror(errno));
        close(p[0]), close(p[1]);
        return -1;
    }
    if (pid == 0) {
        const int sigs[] = {SIGINT, SIGTERM, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGWINCH, SIGHUP, SIGQUIT, SIGPIPE};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        signal(SIGINT, SIG_IGN); /* Ctrl-C in the console is the console's business */
        /* parsing big lists must not take the CPU from the console's key handling */
        if (nice(10) == -1 && errno) errno = 0;
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDERR_FILENO); /* engine diagnostics must not scribble on the screen */
            dup2(devnull, STDOUT_FILENO);
        }
        close(p[0]);
        FILE *out = fdopen(p[1], "w");
        if (!out) _exit(1);
        fn(arg, out);
        fflush(out);
        _exit(0);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK); /* the UI loop reads what is there and goes back to poll */
    *fd = p[0];
    return pid;
}

long ui_fetch_emit_queue(const char *body, size_t len, void *out_file, char *err, size_t err_len)
{
    FILE *out = out_file;
    const char *p = body, *end = body + len;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    if (p >= end || *p != '[') {
        snprintf(err, err_len, "expected a JSON array of retirement status objects, got '%.40s'", p < end ? p : "");
        return -1;
    }
    p++;
    long count = 0;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ',')) p++;
        if (p >= end) {
            snprintf(err, err_len, "the JSON array ends early after %ld learners", count);
            return -1;
        }
        if (*p == ']') break;
        const char *next = NULL;
        cJSON *o = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &next, 0);
        if (!o || !next || next <= p) {
            cJSON_Delete(o);
            snprintf(err, err_len, "invalid JSON in the learner list after %ld learners", count);
            return -1;
        }
        p = next;
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            continue;
        }
        const cJSON *user = cJSON_GetObjectItemCaseSensitive(o, "user");
        const char *name = json_str_at(o, "original_username", NULL, NULL);
        if (!name) name = json_str_at(user, "username", NULL, NULL);
        const char *state = json_str_at(o, "current_state", "state_name", NULL);
        const char *last = json_str_at(o, "last_state", "state_name", NULL);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive(user, "id");
        char ids[4][32];
        snprintf(ids[0], sizeof ids[0], "%.0f", cJSON_IsNumber(id) ? id->valuedouble : 0.0);
        snprintf(ids[1], sizeof ids[1], "%.0f", cJSON_IsNumber(uid) ? uid->valuedouble : 0.0);
        snprintf(ids[2], sizeof ids[2], "%lld", (long long)ui_parse_time(
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "created"))));
        snprintf(ids[3], sizeof ids[3], "%lld", (long long)ui_parse_time(
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "modified"))));
        if (name && state) {
            const char *f[7] = {ids[0], ids[1], ids[2], ids[3], state, last ? last : "", name};
            put_fields(out, 'L', f, 7);
            count++;
        }
        cJSON_Delete(o);
    }
    return count;
}

/* A stdio stream over a pipe that writes only whole lines, at most PIPE_BUF bytes per write(),
 * so several processes can share the pipe without interleaving lines. */
typedef struct line_sink {
    int fd;
    char *pend;
    size_t len, cap;
} line_sink;

static void sink_flush(line_sink *k, int all)
{
    while (k->len) {
        size_t lim = k->len < PIPE_BUF ? k->len : PIPE_BUF;
        size_t cut = 0;
        for (size_t i = lim; i-- > 0;)
            if (k->pend[i] == '\n') {
                cut = i + 1;
                break;
            }
        if (!cut) {
            if (k->len < PIPE_BUF && !all) return; /* wait for the end of the line */
            char *nl = memchr(k->pend, '\n', k->len);
            cut = nl ? (size_t)(nl - k->pend) + 1 : k->len; /* an over-long line: written as is */
        }
        size_t off = 0;
        while (off < cut) {
            ssize_t w = write(k->fd, k->pend + off, cut - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                k->len = 0;
                return;
            }
            off += (size_t)w;
        }
        memmove(k->pend, k->pend + cut, k->len - cut);
        k->len -= cut;
        if (!all && k->len < PIPE_BUF && !memchr(k->pend, '\n', k->len)) return;
    }
}

static ssize_t sink_write(void *cookie, const char *data, size_t n)
{
    line_sink *k = cookie;
    if (k->len + n > k->cap) {
        while (k->len + n > k->cap) k->cap = k->cap ? k->cap * 2 : 8192;
        char *p = xrealloc(k->pend, k->cap);
        if (!p) return -1;
        k->pend = p;
    }
    memcpy(k->pend + k->len, data, n);
    k->len += n;
    sink_flush(k, 0);
    return (ssize_t)n;
}

static int sink_close(void *cookie)
{
    line_sink *k = cookie;
    sink_flush(k, 1);
    free(k->pend);
    return 0;
}


/* GETs url (a learner list) and writes its L lines (or an E line) to out; returns the count. */
static long fetch_list(http_client *h, const char *url, FILE *out)
{
    char err[1024];
    rd_http_request req;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = url;
    req.auth = RD_AUTH_LMS_JWT;
    req.retry = RD_RETRY_NONE; /* the console refreshes again soon; never hang on retries */
    rd_http_response resp;
    memset(&resp, 0, sizeof resp);
    long n = 0;
    int rc = http_send(h, &req, &resp);
    if (rc != 0 || resp.status != 200) {
        char msg[1200];
        /* a server may echo the Authorization header: scrub the whole body before cutting it */
        char *body = cfg_redact(http_config(h), resp.body ? resp.body : "");
        /* cause and what to do first: the message line is one row and cuts the end (the URL) */
        if (resp.status == 0 && strstr(resp.error, "access token") && strstr(resp.error, "client_id and client_secret"))
            snprintf(msg, sizeof msg, "LMS refused the credentials: check client_id and client_secret (the "
                     "retirement service user's OAuth application); retrying. %s", resp.error);
        else if (resp.status == 0)
            snprintf(msg, sizeof msg, "LMS not reachable: check that it is up and base_urls.lms; retrying. %s (GET %s)",
                     resp.error[0] ? resp.error : "no answer", req.url);
        else if (resp.status == 401 || resp.status == 403)
            snprintf(msg, sizeof msg, "LMS refused the learner list (%ld): check client_id/client_secret and the "
                     "client's retirement permission. GET %s: %.200s", resp.status, req.url, body);
        else
            snprintf(msg, sizeof msg, "LMS answered %ld to the learner list: retrying; if it persists check the LMS logs. "
                     "GET %s: %.200s", resp.status, req.url, body);
        free(body);
        put_error(out, msg);
    } else {
        n = ui_fetch_emit_queue(resp.body ? resp.body : "", resp.body_len, out, err, sizeof err);
        if (n < 0) {
            char msg[1200];
            snprintf(msg, sizeof msg, "GET %s: %s", req.url, err);
            put_error(out, msg);
            n = 0;
        }
    }
    http_response_free(&resp);
    return n;
}

/* Fetches one request of a refresh (see ui_fetch_req) and writes its L lines (or E lines) to out. */
static long fetch_req(http_client *h, const cfg *c, const ui_fetch_req *r, FILE *out)
{
    const char *lms = cfg_string(c, "base_urls.lms");
    long n = 0;
    if (!r->since) {
        char *base = http_url_join(lms ? lms : "", "api/user/v1/accounts/retirement_queue");
        strbuf url = STRBUF_INIT;
        sb_addf(&url, "%s?cool_off_days=0", base);
        if (r->limit > 0) sb_addf(&url, "&limit=%ld", r->limit);
        for (size_t i = 0; i < r->n_states; i++) {
            char *st = http_url_escape(r->states[i]);
            sb_addf(&url, "&states=%s", st);
            free(st);
        }
        free(base);
        n = fetch_list(h, sb_str(&url), out);
        sb_free(&url);
        return n;
    }
    /* requests created since r->since (YYYY-MM-DD), one state at a time (the endpoint takes one) */
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    char *base = http_url_join(lms ? lms : "", "api/user/v1/accounts/retirements_by_status_and_date");
    for (size_t i = 0; i < r->n_states; i++) {
        strbuf url = STRBUF_INIT;
        char *st = http_url_escape(r->states[i]);
        sb_addf(&url, "%s?start_date=%s&end_date=%s&state=%s", base, r->since, today, st);
        free(st);
        n += fetch_list(h, sb_str(&url), out);
        sb_free(&url);
    }
    free(base);
    return n;
}

typedef struct queue_args {
    const cfg *c;
    const ui_fetch_req *reqs;
    size_t n;
} queue_args;

/* The requests of a refresh in parallel processes, so a big list arrives in about the time of its
 * largest part. The token is made sure of first, here, so every request process inherits it
 * (one token for all, and none when the console already holds a valid one). Each process writes
 * whole lines to the shared pipe; the D line comes after all of them ended. */
static void queue_child(const void *arg, FILE *out)
{
    const queue_args *a = arg;
    char err[1024];
    int own = 0;
    http_client *h = child_client(a->c, &own, err, sizeof err);
    if (!h) {
        put_error(out, err);
        fputs("D\t1\n", out);
        return;
    }
    int before = http_token_fetches(h);
    if (http_ensure_token(h, err, sizeof err) != 0) {
        char msg[1400];
        if (strstr(err, "client_id and client_secret"))
            snprintf(msg, sizeof msg, "LMS refused the credentials: check client_id and client_secret (the retirement "
                     "service user's OAuth application); retrying. %s", err);
        else
            snprintf(msg, sizeof msg, "LMS not reachable: check that it is up and base_urls.lms; retrying. %s", err);
        put_error(out, msg);
        fputs("D\t1\n", out);
        if (own) http_client_free(h);
        return;
    }
    put_token(out, h, before);
    fflush(out);
    int fd = fileno(out);
    pid_t pids[16];
    int failed = 0;
    size_t n = a->n < 16 ? a->n : 16;
    for (size_t g = 0; g < n; g++) {
        pid_t pid = fork();
        if (pid == 0) {
            line_sink *k = xcalloc(1, sizeof *k);
            if (!k) _exit(1);
            k->fd = fd;
            cookie_io_functions_t io = {NULL, sink_write, NULL, sink_close};
            FILE *f = fopencookie(k, "w", io);
            if (!f) _exit(1);
            setvbuf(f, NULL, _IOFBF, 1 << 16);
            fetch_req(h, a->c, &a->reqs[g], f);
            fclose(f);
            _exit(0);
        }
        if (pid < 0) {
            put_error(out, "cannot fork to fetch the learner list");
            fflush(out);
            failed = 1;
        }
        pids[g] = pid;
    }
    for (size_t g = 0; g < n; g++)
        if (pids[g] > 0) waitpid(pids[g], NULL, 0);
    ui_hist_emit_notes(a->c, out, put_fields); /* the history's reasons and running jobs */
    fprintf(out, "D\t%d\n", failed);
    if (own) http_client_free(h);
}

pid_t ui_fetch_requests(const cfg *c, const ui_fetch_req *reqs, size_t n, int *fd, char *err, size_t err_len)
{
    queue_args a = {c, reqs, n};
    return spawn(queue_child, &a, fd, err, err_len);
}

pid_t ui_fetch_queue(const cfg *c, const char *const *states, size_t n_states, int *fd, char *err, size_t err_len)
{
    ui_fetch_req r = {states, n_states, NULL, 0};
    return ui_fetch_requests(c, &r, 1, fd, err, err_len);
}

typedef struct status_args {
    const cfg *c;
    const char *username;
} status_args;

/* Writes F lines for every scalar under j, named by dotted path. */
static void flatten(FILE *out, const cJSON *j, const char *prefix)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        char path[256];
        if (cJSON_IsArray(j)) snprintf(path, sizeof path, "%s[%d]", prefix, 0);
        else snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", it->string ? it->string : "?");
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            flatten(out, it, path);
            continue;
        }
        char num[64];
        const char *v = NULL;
        if (cJSON_IsString(it)) v = it->valuestring;
        else if (cJSON_IsNumber(it)) snprintf(num, sizeof num, "%.15g", it->valuedouble), v = num;
        else if (cJSON_IsBool(it)) v = cJSON_IsTrue(it) ? "true" : "false";
        else v = "null";
        const char *f[2] = {path, v};
        put_fields(out, 'F', f, 2);
    }
}

static void status_child(const void *arg, FILE *out)
{
    const status_args *a = arg;
    char err[1024];
    int own = 0;
    http_client *h = child_client(a->c, &own, err, sizeof err);
    if (!h) {
        put_error(out, err);
        fputs("D\t0\n", out);
        return;
    }
    int before = http_token_fetches(h);
    lms_client *l = lms_new(h, cfg_string(a->c, "base_urls.lms"));
    cJSON *learner = NULL;
    lms_error e;
    memset(&e, 0, sizeof e);
    if (l && lms_get_status(l, a->username, &learner, &e) == 0) {
        ui_hist_emit_fields(a->c, learner, out, put_fields); /* last failure and earlier jobs, first */
        flatten(out, learner, "");
        cJSON_Delete(learner);
    } else {
        put_error(out, e.message[0] ? e.message : "could not read the learner's retirement status");
    }
    lms_error_clear(&e);
    if (l) lms_free(l);
    put_token(out, h, before);
    if (own) http_client_free(h);
    fputs("D\t1\n", out);
}

pid_t ui_fetch_status(const cfg *c, const char *username, int *fd, char *err, size_t err_len)
{
    status_args a = {c, username};
    return spawn(status_child, &a, fd, err, err_len);
}

typedef struct drivers_args {
    const cfg *c;
    const char *const *extra;
} drivers_args;

static void drivers_child(const void *arg, FILE *out)
{
    const drivers_args *a = arg;
    reg *r = reg_new(a->c, a->extra);
    if (!r) {
        put_error(out, "could not create the driver registry");
        fputs("D\t0\n", out);
        return;
    }
    reg_load_all(r);
    size_t n = reg_count(r);
    for (size_t i = 0; i < n; i++) {
        const reg_driver_info *d = reg_info(r, i);
        strbuf methods = STRBUF_INIT;
        const rd_method *m;
        for (size_t k = 0; (m = reg_method_at(d->driver, k)) != NULL; k++)
            sb_addf(&methods, "%s%s", methods.len ? "," : "", m->name);
        char line[16];
        snprintf(line, sizeof line, "%d", d->line);
        const char *f[7] = {d->name, d->source ? d->source : (d->builtin ? "built-in" : ""), line,
                            d->driver && d->driver->version ? d->driver->version : "",
                            d->builtin ? "1" : "0", sb_str(&methods), d->load_error ? d->load_error : ""};
        put_fields(out, 'V', f, 7);
        sb_free(&methods);
    }
    for (size_t i = 0; i < reg_problem_count(r); i++) {
        const char *f[1] = {reg_problem(r, i)};
        put_fields(out, 'P', f, 1);
    }
    fprintf(out, "D\t%zu\n", n);
    fflush(out);
    reg_free(r);
}

pid_t ui_fetch_drivers(const cfg *c, const char *const *extra_files, int *fd, char *err, size_t err_len)
{
    drivers_args a = {c, extra_files};
    return spawn(drivers_child, &a, fd, err, err_len);
}
