/* history, the SQLite back end (the default store): one file, mode 0600 in a 0700 folder,
 * write-ahead log, a busy timeout so several retirectl processes on one machine share it. */
#include "engine/history_internal.h"

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
    char *copy = strdup(path);
    if (!copy) return -1;
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

static int sq_exec(history *h, const char *sql, const char *const *params, size_t n_params, hist_rows *rows,
                   char *err, size_t err_len)
{
    sqlite3 *db = h->db;
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
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "history %s: %s", h->where, sqlite3_errmsg(db));
        return -1;
    }
    for (size_t i = 0; i < n_params; i++) {
        int rc = params[i] ? sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC)
                           : sqlite3_bind_null(st, (int)i + 1);
        if (rc != SQLITE_OK) {
            snprintf(err, err_len, "history %s: %s", h->where, sqlite3_errmsg(db));
            sqlite3_finalize(st);
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
            char **n = realloc(rows->cells, cap * sizeof *n);
            if (!n) abort();
            rows->cells = n;
        }
        for (size_t c = 0; c < nc; c++) {
            const unsigned char *t = sqlite3_column_text(st, (int)c);
            rows->cells[rows->n_rows * nc + c] = t ? strdup((const char *)t) : NULL;
        }
        rows->n_rows++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, err_len, "history %s: %s", h->where, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        if (rows) hist_rows_free(rows);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static void sq_close(history *h)
{
    if (h->db) sqlite3_close(h->db);
    h->db = NULL;
}

static const hist_backend sqlite_backend = {"sqlite", sq_exec, "BEGIN IMMEDIATE", sq_close};

int hist_sqlite_open(history *h, const char *path, char *err, size_t err_len)
{
    h->be = &sqlite_backend;
    h->where = strdup(path);
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
    h->db = db;
    sqlite3_busy_timeout(db, 10000);
    /* WAL: readers (consoles) never block the writer; NORMAL sync is durable across a crash of
     * the process (the OS keeps the log) */
    return sq_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, 0, NULL, err, err_len);
}
