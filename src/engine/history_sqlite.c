/* history, the SQLite back end (the default store): one file, mode 0600 in a 0700 folder,
 * write-ahead log, a busy timeout so several retirectl processes on one machine share it. */
#include "engine/history_internal.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates every missing parent folder of path with mode 0700. 0, or -1 with errno. */
static int make_parents(const char *path)
{
    char *copy = xstrdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            free(copy);
            errno = e;
            return -1;
        }
        *p = '/';
    }
    free(copy);
    return 0;
}

/* Write statements kept prepared: a bulk run's writer runs the same INSERT thousands of times,
 * and compiling it costs more than running it. */
#define SQ_CACHE 4
typedef struct sq_store {
    sqlite3 *db;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[SQ_CACHE];
    size_t next; /* the entry replaced next */
} sq_store;

/* sql prepared: from the cache when keep (then *kept = 1), else fresh (the caller finalizes). */
static sqlite3_stmt *sq_prepare(sq_store *s, const char *sql, int keep, int *kept)
{
    *kept = 0;
    sqlite3_stmt *st = NULL;
    if (keep)
        for (size_t i = 0; i < SQ_CACHE; i++)
            if (s->cache[i].sql && strcmp(s->cache[i].sql, sql) == 0) {
                *kept = 1;
                return s->cache[i].st;
            }
    if (sqlite3_prepare_v3(s->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    char *copy = keep ? xstrdup(sql) : NULL;
    if (!copy) return st;
    size_t at = s->next++ % SQ_CACHE;
    sqlite3_finalize(s->cache[at].st);
    free(s->cache[at].sql);
    s->cache[at].sql = copy;
    s->cache[at].st = st;
    *kept = 1;
    return st;
}

/* Done with st: a kept statement is reset for its next use, another finalized. */
static void sq_release(sqlite3_stmt *st, int kept)
{
    if (!kept) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int sq_exec(history *h, const char *sql, const char *const *params, size_t n_params, hist_rows *rows,
                   char *err, size_t err_len)
{
    sq_store *s = h->db;
    sqlite3 *db = s->db;
    if (rows) memset(rows, 0, sizeof *rows);
    if (n_params == 0 && !rows) {
        char *msg = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, err_len, "history %s: %s", h->where, msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            return -1;
        }
        return 0;
    }
    int kept;
    sqlite3_stmt *st = sq_prepare(s, sql, rows == NULL, &kept);
    if (!st) {
        snprintf(err, err_len, "history %s: %s", h->where, sqlite3_errmsg(db));
        return -1;
    }
    for (size_t i = 0; i < n_params; i++) {
        int rc = params[i] ? sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC)
                           : sqlite3_bind_null(st, (int)i + 1);
        if (rc != SQLITE_OK) {
            snprintf(err, err_len, "history %s: %s", h->where, sqlite3_errmsg(db));
            sq_release(st, kept);
            return -1;
        }
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows) continue;
        size_t nc = (size_t)sqlite3_column_count(st);
        rows->n_cols = nc;
        if ((rows->n_rows + 1) * nc > cap) {
            cap = cap ? cap * 2 : 64 * (nc ? nc : 1);
            while (cap < (rows->n_rows + 1) * nc) cap *= 2;
            char **n = xrealloc(rows->cells, cap * sizeof *n);
            rows->cells = n;
        }
        for (size_t c = 0; c < nc; c++) {
            const unsigned char *t = sqlite3_column_text(st, (int)c);
            rows->cells[rows->n_rows * nc + c] = xstrdup_or_null((const char *)t);
        }
        rows->n_rows++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, err_len, "history %s: %s", h->where, sqlite3_errmsg(db));
        sq_release(st, kept);
        if (rows) hist_rows_free(rows);
        return -1;
    }
    sq_release(st, kept);
    return 0;
}

static void sq_close(history *h)
{
    sq_store *s = h->db;
    if (!s) return;
    for (size_t i = 0; i < SQ_CACHE; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    if (s->db) sqlite3_close(s->db);
    free(s);
    h->db = NULL;
}

static const hist_backend sqlite_backend = {"sqlite", sq_exec, 1, "BEGIN IMMEDIATE", sq_close};

int hist_sqlite_open(history *h, const char *path, char *err, size_t err_len)
{
    h->be = &sqlite_backend;
    h->where = xstrdup(path);
    if (make_parents(path) != 0) {
        snprintf(err, err_len, "history %s: cannot create its folder: %s; create it or set history.url", path,
                 strerror(errno));
        return -1;
    }
    /* create the file 0600 ourselves: SQLite would use the umask */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "history %s: cannot open: %s; check the folder's permissions or set history.url",
                 path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
        close(fd);
        snprintf(err, err_len,
                 "history %s is readable by other users (mode %03o); run `chmod 600 %s` (it records who retired "
                 "which learner id)",
                 path, (unsigned)(st.st_mode & 0777), path);
        return -1;
    }
    close(fd);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "history %s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        if (db) sqlite3_close(db);
        return -1;
    }
    sq_store *s = xcalloc(1, sizeof *s);
    s->db = db;
    h->db = s;
    sqlite3_busy_timeout(db, 10000);
    /* WAL: readers (consoles) never block the writer; NORMAL sync is durable across a crash of
     * the process (the OS keeps the log) */
    return sq_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, 0, NULL, err, err_len);
}
