/* history, the PostgreSQL back end (libpq): one shared store for every host, Jenkins agent and
 * console. '?' placeholders of history.c become $1, $2, ...; a lost connection is re-opened
 * once per statement. */
#include "engine/history_internal.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

/* Replaces the password (if any) in a copy of text by ********. */
static void scrub_secret(const history *h, char *text)
{
    if (!h->secret || !*h->secret) return;
    size_t sl = strlen(h->secret);
    char *p;
    while ((p = strstr(text, h->secret))) {
        memmove(p + 8, p + sl, strlen(p + sl) + 1);
        memcpy(p, "********", 8);
    }
}

/* Formats a libpq message (one line, no trailing newline) into err. */
static void pg_error(const history *h, const char *msg, char *err, size_t err_len)
{
    snprintf(err, err_len, "history %s: %s", h->where, msg && *msg ? msg : "unknown PostgreSQL error");
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' ')) err[--n] = '\0';
    for (char *c = err; *c; c++)
        if (*c == '\n') *c = ' ';
    scrub_secret(h, err);
}

/* sql with each '?' outside quotes replaced by $n. malloc'd. Written directly: a batch's
 * INSERT has thousands of placeholders. */
static char *number_params(const char *sql)
{
    size_t marks = 0, len = strlen(sql);
    for (const char *p = sql; *p; p++) marks += *p == '?';
    char *out = xmalloc(len + marks * 11 + 1);
    char *o = out;
    int n = 0, quoted = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'') quoted = !quoted;
        if (*p != '?' || quoted) {
            *o++ = *p;
            continue;
        }
        /* $n, digits written backwards then reversed */
        char digits[12];
        int k = 0;
        for (unsigned v = (unsigned)++n; v; v /= 10) digits[k++] = (char)('0' + v % 10);
        *o++ = '$';
        while (k) *o++ = digits[--k];
    }
    *o = '\0';
    return out;
}

static int pg_exec(history *h, const char *sql, const char *const *params, size_t n_params, hist_rows *rows,
                   char *err, size_t err_len)
{
    PGconn *c = h->db;
    if (rows) memset(rows, 0, sizeof *rows);
    if (PQstatus(c) != CONNECTION_OK) PQreset(c);
    if (PQstatus(c) != CONNECTION_OK) {
        pg_error(h, PQerrorMessage(c), err, err_len);
        return -1;
    }
    PGresult *r;
    if (n_params == 0 && !rows) {
        r = PQexec(c, sql);
    } else {
        char *q = number_params(sql);
        r = PQexecParams(c, q, (int)n_params, NULL, params, NULL, NULL, 0);
        free(q);
    }
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        pg_error(h, PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(c), err, err_len);
        PQclear(r);
        return -1;
    }
    if (rows && s == PGRES_TUPLES_OK) {
        size_t nr = (size_t)PQntuples(r), nc = (size_t)PQnfields(r);
        rows->n_rows = nr;
        rows->n_cols = nc;
        rows->cells = xcalloc(nr * nc + 1, sizeof *rows->cells);
        for (size_t i = 0; i < nr; i++)
            for (size_t k = 0; k < nc; k++)
                if (!PQgetisnull(r, (int)i, (int)k)) rows->cells[i * nc + k] = xstrdup(PQgetvalue(r, (int)i, (int)k));
    }
    PQclear(r);
    return 0;
}

static void pg_close(history *h)
{
    if (h->db) PQfinish(h->db);
    h->db = NULL;
}

/* A session-wide advisory lock number for schema migrations ("rtctl" in ASCII). */
static const hist_backend pg_backend = {"postgresql", pg_exec, 200,
                                        "BEGIN; SELECT pg_advisory_xact_lock(521359287404)", pg_close};

/* The password of a postgresql:// URL (user:PASSWORD@host), malloc'd, or NULL. */
static char *url_password(const char *url)
{
    const char *s = strstr(url, "://");
    if (!s) return NULL;
    s += 3;
    const char *at = strchr(s, '@');
    const char *slash = strchr(s, '/');
    if (!at || (slash && slash < at)) return NULL;
    const char *colon = memchr(s, ':', (size_t)(at - s));
    if (!colon || colon + 1 == at) return NULL;
    return xstrndup(colon + 1, (size_t)(at - colon - 1));
}

/* The URL with its password replaced by ********, and any password=... query value too. */
static char *url_masked(const char *url, const char *password)
{
    char *m = xstrdup(url);
    history tmp = {0};
    tmp.secret = (char *)password;
    scrub_secret(&tmp, m);
    char *q = strstr(m, "password=");
    if (q) {
        q += strlen("password=");
        char *end = strchr(q, '&');
        strbuf sb = STRBUF_INIT;
        sb_addn(&sb, m, (size_t)(q - m));
        sb_add(&sb, "********");
        if (end) sb_add(&sb, end);
        free(m);
        m = sb_take(&sb);
    }
    return m;
}

/* Drops a server notice. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int hist_pg_open(history *h, const char *url, char *err, size_t err_len)
{
    h->be = &pg_backend;
    h->secret = url_password(url);
    h->where = url_masked(url, h->secret);
    /* keywords in order: the URL (expanded) overrides our defaults. A server that stops answering
     * must not hold a retirement's supervisor: connecting gives up after 3 s, a statement after
     * 10 s, a connection whose packets go unacknowledged after 10 s. */
    const char *keys[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle", "tcp_user_timeout",
                          "options", "dbname", NULL};
    const char *vals[] = {"3", "retirectl", "1", "5", "10000", "-c statement_timeout=10000", url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    h->db = c;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char msg[1024];
        pg_error(h, c ? PQerrorMessage(c) : "out of memory", msg, sizeof msg);
        snprintf(err, err_len, "%s; check that the server is up and history.url in the config", msg);
        return -1;
    }
    /* notices (e.g. "relation already exists, skipping") are not for the operator */
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    return 0;
}
