/* history internals: the interface every back end (history_sqlite.c, history_pg.c) implements
 * for history.c, which holds the schema, the migrations and every query in one SQL dialect
 * both understand ('?' placeholders: the PostgreSQL back end numbers them). Not a public
 * interface: include engine/history.h elsewhere. */
#ifndef RETIRECTL_HISTORY_INTERNAL_H
#define RETIRECTL_HISTORY_INTERNAL_H

#include "engine/history.h"
#include "common/strbuf.h"

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
    /* Rows per multi-row INSERT: SQLite reuses one prepared single-row statement (1), PostgreSQL
     * sends many rows in one round trip. */
    size_t rows_per_statement;
    /* Starts a transaction that serialises schema migrations between processes. */
    const char *begin_exclusive;
    void (*close)(history *h);
} hist_backend;

struct history {
    const hist_backend *be;
    void *db;
    char *where;  /* for messages (no password) */
    char *secret; /* a password to scrub from the back end's messages, or NULL */
    char *insert_sql, *delete_sql; /* hist_save_rows's full-batch statements, built on first use */
};

/* The columns of retirectl_jobs, in the order of a hist_row's values. */
#define HIST_JOB_COLS                                                                                             \
    "id, lms_user_id, retirement_id, action, command, reason, operator, host, pid, started_ms, ended_ms, outcome, " \
    "exit_status, from_state, final_state, message, fail_step, fail_driver, fail_method, fail_request, "          \
    "fail_http_status, fail_server_text, fail_transport, fail_attempts, steps"
#define HIST_N_COLS 25

/* A job as the text values of its row (history_row.c): v[c] NULL for SQL NULL, else pointing
 * into frame. */
typedef struct hist_row {
    long long id;
    int stored;      /* a row with this id is in the store: replace it */
    long long order; /* the writer's arrival number */
    char *frame;
    const char *v[HIST_N_COLS];
} hist_row;

/* Appends j's row as one frame (a 32-bit length, then the values) to out. */
void hist_row_encode(const hist_job *j, strbuf *out);
/* Takes the first frame of data: its length in bytes with *out set, 0 when the frame is not all
 * there yet, -1 when it is malformed. */
long hist_row_decode(const char *data, size_t len, hist_row **out);
/* j's row (owned: hist_row_free). */
hist_row *hist_row_of(const hist_job *j);
void hist_row_free(hist_row *r);
/* Writes rows in one transaction: a row already stored (stored=1) replaces the stored one,
 * others are inserted. */
int hist_save_rows(history *h, hist_row *const *rows, size_t n, char *err, size_t err_len);

/* Back-end openers: fill h->be, h->db, h->where. 0 or -1 with err. */
int hist_sqlite_open(history *h, const char *path, char *err, size_t err_len);
int hist_pg_open(history *h, const char *url, char *err, size_t err_len);

#endif
