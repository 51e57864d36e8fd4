/* history internals: the interface every back end (history_sqlite.c, history_pg.c) implements
 * for history.c, which holds the schema, the migrations and every query in one SQL dialect
 * both understand ('?' placeholders: the PostgreSQL back end numbers them). Not a public
 * interface: include engine/history.h elsewhere. */
#ifndef RETIRECTL_HISTORY_INTERNAL_H
#define RETIRECTL_HISTORY_INTERNAL_H

#include "engine/history.h"

/* Result rows as text: cells[r * n_cols + c], NULL for SQL NULL. Owned; hist_rows_free. */
typedef struct hist_rows {
    size_t n_rows, n_cols;
    char **cells;
} hist_rows;
void hist_rows_free(hist_rows *r);

typedef struct hist_backend {
    const char *name; /* "sqlite" | "postgresql" */
    /* Runs one statement with text parameters (NULL = SQL NULL); rows (may be NULL) receives
     * what it returns. With n_params == 0 and rows NULL, sql may hold several statements. */
    int (*exec)(history *h, const char *sql, const char *const *params, size_t n_params, hist_rows *rows,
                char *err, size_t err_len);
    /* Starts a transaction that serialises schema migrations between processes. */
    const char *begin_exclusive;
    void (*close)(history *h);
} hist_backend;

struct history {
    const hist_backend *be;
    void *db;
    char *where;  /* for messages (no password) */
    char *secret; /* a password to scrub from the back end's messages, or NULL */
};

/* Back-end openers: fill h->be, h->db, h->where. 0 or -1 with err. */
int hist_sqlite_open(history *h, const char *path, char *err, size_t err_len);
int hist_pg_open(history *h, const char *url, char *err, size_t err_len);

#endif
