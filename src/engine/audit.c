/* audit: append-only JSON-lines operator audit log (see audit.h). */
#include "engine/audit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/ev.h"
#include "engine/pii.h"
#include "common/strbuf.h"
#include "common/clock.h"
#include "common/xalloc.h"

struct audit_log {
    int fd;
    char *path;
    char *operator_name;
    char host[256];
    char **secrets; /* copies of the config's secret values, scrubbed from every string */
    size_t n_secrets;
    int dirty;          /* lines written since the last fsync */
    double last_sync;   /* monotonic seconds of the last fsync */
};

/* Every log this process has open (audit_close_inherited walks it in a forked worker). */
static audit_log **g_open;
static size_t g_n_open;

/* fsync with the error sentence; clears the dirty flag. */
static int do_sync(audit_log *a, char *err, size_t err_len)
{
    if (fsync(a->fd) != 0 && errno != EINVAL && errno != EROFS) {
        snprintf(err, err_len, "cannot flush the audit log %s to disk: %s; free space or fix the file, then retry",
                 a->path, strerror(errno));
        return -1;
    }
    a->dirty = 0;
    a->last_sync = clk_mono_s();
    return 0;
}

void audit_entry_init(audit_entry *e, const char *action)
{
    memset(e, 0, sizeof *e);
    e->action = action;
    e->user_id = -1;
    e->retirement_id = -1;
}

/* Returns "~/x" expanded against $HOME (malloc'd), or a copy of p. */
static char *expand_home(const char *p)
{
    if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
        const char *home = getenv("HOME");
        if (home && *home) {
            strbuf sb = STRBUF_INIT;
            sb_add(&sb, home);
            sb_add(&sb, p + 1);
            return sb_take(&sb);
        }
    }
    return xstrdup(p);
}

char *audit_default_path(const cfg *c, char *err, size_t err_len)
{
    if (c && c->audit_log && c->audit_log[0]) return expand_home(c->audit_log);
    if (c && c->root) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, "audit_log");
        if (cJSON_IsString(v) && v->valuestring[0]) return expand_home(v->valuestring);
    }
    strbuf sb = STRBUF_INIT;
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (state && state[0] == '/') {
        sb_addf(&sb, "%s/retirectl/audit.jsonl", state);
    } else if (home && *home) {
        sb_addf(&sb, "%s/.local/state/retirectl/audit.jsonl", home);
    } else {
        snprintf(err, err_len,
                 "cannot place the audit log: neither XDG_STATE_HOME nor HOME is set; set `audit_log:` "
                 "in the config to a file path");
        return NULL;
    }
    return sb_take(&sb);
}

int audit_make_parent_dirs(const char *path, char *failed, size_t failed_len)
{
    char *copy = xstrdup(path);
    if (!copy) return -1;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        struct stat st;
        if (stat(copy, &st) != 0) {
            if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
                snprintf(failed, failed_len, "%s", copy);
                free(copy);
                return -1;
            }
        } else if (!S_ISDIR(st.st_mode)) {
            snprintf(failed, failed_len, "%s", copy);
            free(copy);
            errno = ENOTDIR;
            return -1;
        }
        *p = '/';
    }
    free(copy);
    return 0;
}

/* A log whose last line was cut (a crash or a full disk mid-write) would glue the next record to
 * it: truncate the file back to just after its last newline. 0, or -1 with err. Called with the
 * file locked (repair_tail). */
static int repair_tail_locked(int fd, const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0) return 0;
    off_t end = st.st_size;
    char buf[4096];
    while (end > 0) {
        size_t n = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
        off_t at = end - (off_t)n;
        if (pread(fd, buf, n, at) != (ssize_t)n) break;
        size_t i = n;
        while (i > 0 && buf[i - 1] != '\n') i--;
        if (i > 0) {
            end = at + (off_t)i;
            break;
        }
        end = at;
    }
    if (end == st.st_size) return 0;
    if (ftruncate(fd, end) != 0) {
        snprintf(err, err_len,
                 "the audit log %s ends in a partial line and cannot be repaired: %s; fix the file. Nothing was done.",
                 path, strerror(errno));
        return -1;
    }
    return 0;
}

/* repair_tail_locked under the file's lock (writers take it for each line). */
static int repair_tail(int fd, const char *path, char *err, size_t err_len)
{
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    int rc = repair_tail_locked(fd, path, err, err_len);
    flock(fd, LOCK_UN);
    return rc;
}

int audit_open_path(const char *path, const char *operator_name, audit_log **out, char *err,
                    size_t err_len)
{
    *out = NULL;
    if (!path || !*path) {
        snprintf(err, err_len, "the audit log path is empty; set `audit_log:` in the config to a file path");
        return -1;
    }
    char failed[1024];
    if (audit_make_parent_dirs(path, failed, sizeof failed) != 0) {
        snprintf(err, err_len,
                 "cannot create the audit log directory %s: %s; create it (mode 0700) or set `audit_log:` "
                 "in the config to a writable path. Nothing was done.",
                 failed, strerror(errno));
        return -1;
    }
    struct stat st;
    int existed = lstat(path, &st) == 0;
    if (existed) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, err_len,
                     "the audit log %s is not a regular file; point `audit_log:` at a file. Nothing was done.",
                     path);
            return -1;
        }
        if (st.st_mode & 077) {
            snprintf(err, err_len,
                     "the audit log %s is readable or writable by other users (mode %03o); run `chmod 600 %s`. "
                     "Nothing was done.",
                     path, (unsigned)(st.st_mode & 0777), path);
            return -1;
        }
    }
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, err_len,
                 "cannot open the audit log %s for appending: %s; fix its permissions or set `audit_log:` "
                 "in the config. Nothing was done.",
                 path, strerror(errno));
        return -1;
    }
    if (!existed && fchmod(fd, 0600) != 0) {
        snprintf(err, err_len, "cannot set mode 0600 on the audit log %s: %s. Nothing was done.", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    if (existed && repair_tail(fd, path, err, err_len) != 0) {
        close(fd);
        return -1;
    }
    audit_log *a = xcalloc(1, sizeof *a);
    if (!a) {
        close(fd);
        snprintf(err, err_len, "out of memory opening the audit log %s", path);
        return -1;
    }
    a->fd = fd;
    audit_log **reg = xrealloc(g_open, (g_n_open + 1) * sizeof *reg);
    if (reg) {
        g_open = reg;
        g_open[g_n_open++] = a;
    }
    a->path = xstrdup(path);
    a->operator_name = operator_name && *operator_name ? xstrdup(operator_name) : pii_login_name();
    if (gethostname(a->host, sizeof a->host - 1) != 0) a->host[0] = '\0';
    *out = a;
    return 0;
}

int audit_open(const cfg *c, const char *operator_name, audit_log **out, char *err, size_t err_len)
{
    char *path = audit_default_path(c, err, err_len);
    if (!path) return -1;
    int rc = audit_open_path(path, operator_name, out, err, err_len);
    free(path);
    if (rc == 0 && c && c->n_secrets) {
        (*out)->secrets = xcalloc(c->n_secrets, sizeof(char *));
        for (size_t i = 0; (*out)->secrets && i < c->n_secrets; i++) {
            if (c->secrets[i] && c->secrets[i][0]) (*out)->secrets[(*out)->n_secrets++] = xstrdup(c->secrets[i]);
        }
    }
    return rc;
}

/* A malloc'd copy of text with PII, email-shaped text and secrets replaced. */
static char *scrub(const audit_log *a, const audit_entry *e, const char *text)
{
    char *s = xstrdup(text ? text : "");
    if (!s) return NULL;
    for (size_t i = 0; i < a->n_secrets; i++) pii_replace_all(&s, a->secrets[i], "********");
    if (e->pii) {
        /* longest first would be ideal; PII lists are short, so two passes handle overlaps */
        for (int pass = 0; pass < 2; pass++)
            for (const char *const *p = e->pii; *p; p++)
                if (**p) pii_replace_all(&s, *p, "[redacted]");
    }
    pii_scrub_emails(&s);
    return s;
}

/* Adds key: scrubbed string when value is non-NULL and non-empty. */
static void add_str(cJSON *o, const audit_log *a, const audit_entry *e, const char *key, const char *value)
{
    if (!value || !*value) return;
    char *s = scrub(a, e, value);
    if (s) cJSON_AddStringToObject(o, key, s);
    free(s);
}

/* Builds and writes one line with fsync. */
static int write_line(audit_log *a, const audit_entry *e, const char *phase, char *err, size_t err_len)
{
    if (!a || a->fd < 0) {
        snprintf(err, err_len, "the audit log is not open; nothing was done");
        return -1;
    }
    if (!e || !e->action || !*e->action) {
        snprintf(err, err_len, "internal error: audit entry without an action (log %s)", a->path);
        return -1;
    }
    cJSON *o = cJSON_CreateObject();
    char ts[48];
    clk_iso_now(ts, sizeof ts);
    cJSON_AddStringToObject(o, "time", ts);
    cJSON_AddStringToObject(o, "phase", phase);
    add_str(o, a, e, "operator", a->operator_name);
    add_str(o, a, e, "host", a->host);
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    add_str(o, a, e, "action", e->action);
    add_str(o, a, e, "reason", e->reason);
    if (e->user_id >= 0) cJSON_AddNumberToObject(o, "user_id", (double)e->user_id);
    if (e->retirement_id >= 0) cJSON_AddNumberToObject(o, "retirement_id", (double)e->retirement_id);
    add_str(o, a, e, "from_state", e->from_state);
    add_str(o, a, e, "to_state", e->to_state);
    add_str(o, a, e, "driver", e->driver);
    add_str(o, a, e, "method", e->method);
    add_str(o, a, e, "shard", e->shard);
    if (e->steps && e->n_steps) {
        cJSON *arr = cJSON_AddArrayToObject(o, "steps");
        for (size_t i = 0; i < e->n_steps; i++) {
            cJSON *s = cJSON_CreateObject();
            add_str(s, a, e, "driver", e->steps[i].driver);
            add_str(s, a, e, "method", e->steps[i].method);
            add_str(s, a, e, "status", e->steps[i].status);
            cJSON_AddItemToArray(arr, s);
        }
    }
    add_str(o, a, e, "outcome", e->outcome);
    if (strcmp(phase, "start") != 0) cJSON_AddNumberToObject(o, "exit_status", e->exit_status);
    if (e->counts && e->n_counts) {
        cJSON *c = cJSON_AddObjectToObject(o, "counts");
        for (size_t i = 0; i < e->n_counts; i++)
            if (e->counts[i].name) cJSON_AddNumberToObject(c, e->counts[i].name, (double)e->counts[i].value);
    }
    add_str(o, a, e, "detail", e->detail);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) {
        snprintf(err, err_len, "out of memory writing the audit log %s", a->path);
        return -1;
    }
    size_t len = strlen(text);
    strbuf line = STRBUF_INIT;
    sb_addn(&line, text, len);
    sb_addc(&line, '\n');
    free(text);
    const char *p = sb_str(&line);
    size_t left = line.len;
    /* other retirectl processes append to the same log: the lock makes "the line I began" and
     * "the size before it" exact, and keeps a repair (repair_tail) from cutting a line mid-write */
    while (flock(a->fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    struct stat before;
    int sized = fstat(a->fd, &before) == 0;
    while (left) {
        ssize_t w = write(a->fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int werr = errno;
            /* a line is whole or absent: cut a partial write back off */
            if (sized && left < line.len && ftruncate(a->fd, before.st_size) != 0) werr = errno;
            flock(a->fd, LOCK_UN);
            snprintf(err, err_len, "cannot write the audit log %s: %s; free space or fix the file, then retry",
                     a->path, strerror(werr));
            sb_free(&line);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    flock(a->fd, LOCK_UN);
    sb_free(&line);
    a->dirty = 1;
    if (strcmp(phase, "item") == 0 && clk_mono_s() - a->last_sync < AUDIT_ITEM_SYNC_MS / 1000.0) return 0;
    return do_sync(a, err, err_len);
}

int audit_begin(audit_log *a, const audit_entry *e, char *err, size_t err_len)
{
    int rc = write_line(a, e, "start", err, err_len);
    if (rc != 0 && err_len) {
        size_t l = strlen(err);
        snprintf(err + l, err_len - l, "%s", " The action was not started.");
    }
    return rc;
}

int audit_end(audit_log *a, const audit_entry *e, char *err, size_t err_len)
{
    return write_line(a, e, "end", err, err_len);
}

int audit_item(audit_log *a, const audit_entry *e, char *err, size_t err_len)
{
    return write_line(a, e, "item", err, err_len);
}

int audit_sync(audit_log *a, char *err, size_t err_len)
{
    if (!a || a->fd < 0 || !a->dirty) return 0;
    return do_sync(a, err, err_len);
}

const char *audit_path(const audit_log *a) { return a ? a->path : NULL; }
const char *audit_operator(const audit_log *a) { return a ? a->operator_name : NULL; }

void audit_close_inherited(void)
{
    for (size_t i = 0; i < g_n_open; i++) {
        if (g_open[i]->fd >= 0) close(g_open[i]->fd);
        g_open[i]->fd = -1;
    }
}

void audit_close(audit_log *a)
{
    if (!a) return;
    for (size_t i = 0; i < g_n_open; i++) {
        if (g_open[i] != a) continue;
        g_open[i] = g_open[--g_n_open];
        break;
    }
    if (a->fd >= 0) {
        if (a->dirty) fsync(a->fd);
        close(a->fd);
    }
    for (size_t i = 0; i < a->n_secrets; i++) free(a->secrets[i]);
    free(a->secrets);
    free(a->path);
    free(a->operator_name);
    free(a);
}

/* ------------------------------------------------------------------------------------------ */
/* the steps of an action, from its job events */

/* Equal strings, NULL equal only to NULL. */
static int same_text(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

int audit_steps_note(audit_steps *s, const ev_event *ev, int with_skipped)
{
    ev_step_status st = ev->step_status;
    int final = st == EV_STATUS_DONE || st == EV_STATUS_FAILED || (with_skipped && st == EV_STATUS_SKIPPED);
    if (ev->kind != EV_STEP || !final) return 0;
    audit_step *last = s->n ? &s->v[s->n - 1] : NULL;
    if (last && ev->index >= 0 && s->last_index == ev->index && same_text(last->driver, ev->driver) &&
        same_text(last->method, ev->method)) {
        free((char *)last->status);
        last->status = xstrdup(ev->status);
        return 1;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n].driver = ev->driver ? xstrdup(ev->driver) : NULL;
    s->v[s->n].method = ev->method ? xstrdup(ev->method) : NULL;
    s->v[s->n].status = xstrdup(ev->status);
    s->n++;
    s->last_index = ev->index;
    return 1;
}

void audit_steps_free(audit_steps *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((char *)s->v[i].driver);
        free((char *)s->v[i].method);
        free((char *)s->v[i].status);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}
