/* lease: one job per learner, a per-learner flock plus the cross-host freshness rule (see lease.h). */
#include "engine/lease.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/audit.h"
#include "engine/plan.h"
#include "common/isotime.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/clock.h"
#include "common/xalloc.h"

#define LEASE_RECORD 512 /* bytes of the holder record (JSON padded with spaces, then "\n") */

struct lease {
    int fd;
    uint64_t key; /* lease_hash of the learner */
};

/* FNV-1a-64 of the LMS root URL (trailing slashes ignored), a 0x1f separator and the username:
 * a learner is one username at one LMS, so two LMSes (or two simulators) never share a lease. */
static uint64_t lease_hash(const char *lms, const char *username)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t n = lms ? strlen(lms) : 0;
    while (n > 0 && lms[n - 1] == '/') n--;
    for (size_t i = 0; i <= n; i++) {
        h ^= i < n ? (unsigned char)lms[i] : 0x1fu;
        h *= 0x100000001b3ULL;
    }
    for (const unsigned char *p = (const unsigned char *)username; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Every lease this process holds (lease_close_inherited walks it in a forked child). */
static lease **g_held;
static size_t g_n_held;

char *lease_state_dir(char *err, size_t err_len)
{
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    strbuf sb = STRBUF_INIT;
    if (state && state[0] == '/')
        sb_addf(&sb, "%s/retirectl", state);
    else if (home && *home)
        sb_addf(&sb, "%s/.local/state/retirectl", home);
    else {
        snprintf(err, err_len, "cannot place the learner leases: neither XDG_STATE_HOME nor HOME is set; set one");
        return NULL;
    }
    return sb_take(&sb);
}

/* "<dir>/leases/<hex>.lock" for the learner (malloc'd), or NULL with err. */
static char *lease_path(const char *state_dir, const char *lms, const char *username, char *err, size_t err_len)
{
    char *own = NULL;
    if (!state_dir) {
        own = lease_state_dir(err, err_len);
        if (!own) return NULL;
        state_dir = own;
    }
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/leases/%016llx.lock", state_dir, (unsigned long long)lease_hash(lms, username));
    free(own);
    return sb_take(&sb);
}

/* Reads the holder line of an open lease file. */
static void read_holder(int fd, lease_holder *h)
{
    memset(h, 0, sizeof *h);
    char buf[1024];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return;
    buf[n] = '\0';
    cJSON *o = cJSON_Parse(buf);
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "pid")) && cJSON_IsNumber(v)) h->pid = (long)v->valuedouble;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "command")) && cJSON_IsString(v))
        snprintf(h->command, sizeof h->command, "%s", v->valuestring);
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "host")) && cJSON_IsString(v))
        snprintf(h->host, sizeof h->host, "%s", v->valuestring);
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "since")) && cJSON_IsString(v))
        snprintf(h->since, sizeof h->since, "%s", v->valuestring);
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "since_epoch")) && cJSON_IsNumber(v))
        h->since_epoch = (long)v->valuedouble;
    cJSON_Delete(o);
    h->alive = h->pid > 0 && (kill((pid_t)h->pid, 0) == 0 || errno == EPERM);
}

/* Opens (creating it and its directories) the lease file. fd or -1 with err. */
static int open_lease_file(const char *path, char *err, size_t err_len)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT) {
        /* first lease under this state directory: make the folders, then try again */
        char failed[1024];
        if (audit_make_parent_dirs(path, failed, sizeof failed) != 0) {
            snprintf(err, err_len,
                     "cannot create the lease directory %s: %s; create it (mode 0700) or set XDG_STATE_HOME", failed,
                     strerror(errno));
            return -1;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0)
        snprintf(err, err_len, "cannot open the lease file %s: %s; fix its permissions or set XDG_STATE_HOME", path,
                 strerror(errno));
    return fd;
}

/* Writes this process's holder line into the (locked) file. */
static void write_holder(int fd, const char *command)
{
    static char host[256];
    if (!host[0] && gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char since[40];
    strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    cJSON_AddStringToObject(o, "command", command ? command : "retirectl");
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddStringToObject(o, "since", since);
    cJSON_AddNumberToObject(o, "since_epoch", (double)now);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return;
    /* one fixed-size record, padded with spaces: rewriting it never changes the file's size
     * (no truncation, no metadata update per learner) */
    char rec[LEASE_RECORD];
    size_t len = strlen(text);
    if (len > sizeof rec - 1) len = sizeof rec - 1;
    memset(rec, ' ', sizeof rec);
    memcpy(rec, text, len);
    rec[sizeof rec - 1] = '\n';
    ssize_t w = pwrite(fd, rec, sizeof rec, 0);
    (void)w; /* the holder text is informative only; the lock is what counts */
    free(text);
}

int lease_acquire(const char *state_dir, const char *lms, const char *username, const char *command, lease **out,
                  lease_holder *holder, char *err, size_t err_len)
{
    *out = NULL;
    if (holder) memset(holder, 0, sizeof *holder);
    char *path = lease_path(state_dir, lms, username, err, err_len);
    if (!path) return -1;
    int fd = open_lease_file(path, err, err_len);
    free(path);
    if (fd < 0) return -1;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) {
            if (holder) read_holder(fd, holder);
            close(fd);
            return 1;
        }
        snprintf(err, err_len, "cannot lock the lease of %s: %s", username, strerror(errno));
        close(fd);
        return -1;
    }
    lease *l = xcalloc(1, sizeof *l);
    lease **n = l ? xrealloc(g_held, (g_n_held + 1) * sizeof *n) : NULL;
    if (!n) {
        free(l);
        close(fd);
        snprintf(err, err_len, "out of memory taking the lease of %s", username);
        return -1;
    }
    g_held = n;
    l->fd = fd;
    l->key = lease_hash(lms, username);
    g_held[g_n_held++] = l;
    write_holder(fd, command);
    *out = l;
    return 0;
}

void lease_release(lease *l)
{
    if (!l) return;
    for (size_t i = 0; i < g_n_held; i++) {
        if (g_held[i] != l) continue;
        g_held[i] = g_held[--g_n_held];
        break;
    }
    /* the holder text stays behind: only a held lock's text is ever read (lease_peek) */
    if (l->fd >= 0) close(l->fd);
    free(l);
}

int lease_peek(const char *state_dir, const char *lms, const char *username, lease_holder *holder, char *err,
               size_t err_len)
{
    memset(holder, 0, sizeof *holder);
    char *path = lease_path(state_dir, lms, username, err, err_len);
    if (!path) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            free(path);
            return 0;
        }
        snprintf(err, err_len, "cannot read the lease file %s: %s", path, strerror(e));
        free(path);
        return -1;
    }
    free(path);
    int held = 0;
    while (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        held = errno == EWOULDBLOCK;
        break;
    }
    if (held) read_holder(fd, holder);
    close(fd); /* also drops the shared lock if we got it */
    return held;
}

void lease_describe(const lease_holder *h, char *buf, size_t len)
{
    snprintf(buf, len, "pid %ld (%s%s) on host %s since %s", h->pid, h->command[0] ? h->command : "unknown command",
             h->pid > 0 && !h->alive ? "; that process has ended, its worker is finishing the step in flight" : "",
             h->host[0] ? h->host : "?", h->since[0] ? h->since : "an unknown time");
}

void lease_close_inherited(const char *lms, const char *keep_username)
{
    uint64_t keep = keep_username ? lease_hash(lms, keep_username) : 0;
    for (size_t i = 0; i < g_n_held; i++) {
        if (keep_username && g_held[i]->key == keep) continue;
        if (g_held[i]->fd >= 0) close(g_held[i]->fd);
        g_held[i]->fd = -1;
    }
}

/* Parses the LMS's "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (common/isotime.h) into seconds since 1970. 0 or -1. */
static int parse_utc(const char *s, double *out)
{
    int64_t us;
    if (iso_parse_us(s, &us) != 0) return -1;
    *out = (double)us / 1e6;
    return 0;
}

int lease_fresh_working_state(const cJSON *learner, const cfg *c, double *age_seconds)
{
    const char *state = json_str_at(learner, "current_state", "state_name", NULL);
    const cJSON *mod = cJSON_GetObjectItemCaseSensitive(learner, "modified");
    if (!state || !cJSON_IsString(mod) || !c) return 0;
    if (!plan_is_working_state(state, c->steps, c->n_steps)) return 0;
    double modified;
    if (parse_utc(mod->valuestring, &modified) != 0) return 0;
    double age = (double)clk_wall_us() / 1e6 - modified;
    if (age_seconds) *age_seconds = age;
    double window = c->step_timeout_seconds > 0 ? c->step_timeout_seconds : 900;
    return age < window;
}
