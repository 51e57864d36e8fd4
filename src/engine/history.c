/* history: the part every back end shares: settings, the schema and its migrations, saving,
 * pruning and the queries. See history.h and docs/history.md. */
#include "engine/history_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/isotime.h"
#include "common/strbuf.h"
#include "common/clock.h"
#include "common/xalloc.h"

/* ------------------------------------------------------------------------------------------ */
/* jobs in memory */

void hist_set(char **dst, const char *s)
{
    xstr_set(dst, s);
}

void hist_job_init(hist_job *j)
{
    memset(j, 0, sizeof *j);
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = (unsigned long long)ts.tv_nsec * 6364136223846793005ULL ^ (unsigned long long)ts.tv_sec;
    }
    j->id = (long long)(r & 0x7fffffffffffffffULL);
    if (j->id == 0) j->id = 1;
    j->lms_user_id = j->retirement_id = -1;
    j->fail_step = -1;
}

static void step_clear(hist_step *s)
{
    free(s->start_state);
    free(s->end_state);
    free(s->driver);
    free(s->method);
    free(s->status);
}

void hist_job_clear(hist_job *j)
{
    char **strs[] = {&j->action,      &j->command,     &j->reason,     &j->operator_name,    &j->host,
                     &j->outcome,     &j->from_state,  &j->final_state, &j->message,         &j->fail_driver,
                     &j->fail_method, &j->fail_request, &j->fail_server_text, &j->fail_transport};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
    for (size_t i = 0; i < j->n_steps; i++) step_clear(&j->steps[i]);
    free(j->steps);
    memset(j, 0, sizeof *j);
    j->lms_user_id = j->retirement_id = -1;
    j->fail_step = -1;
}

hist_step *hist_job_step(hist_job *j, int index)
{
    size_t at = j->n_steps;
    for (size_t i = 0; i < j->n_steps; i++) {
        if (j->steps[i].index == index) return &j->steps[i];
        if (j->steps[i].index > index && at == j->n_steps) at = i;
    }
    hist_step *n = xrealloc(j->steps, (j->n_steps + 1) * sizeof *n);
    j->steps = n;
    memmove(&j->steps[at + 1], &j->steps[at], (j->n_steps - at) * sizeof *n);
    j->n_steps++;
    hist_step *s = &j->steps[at];
    memset(s, 0, sizeof *s);
    s->index = index;
    s->duration_ms = -1;
    return s;
}

void hist_rows_free(hist_rows *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_rows * r->n_cols; i++) free(r->cells[i]);
    free(r->cells);
    memset(r, 0, sizeof *r);
}

char *hist_reason_short(const hist_job *j, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!j->outcome || strcmp(j->outcome, "complete") == 0) return buf;
    const char *msg = j->message ? j->message : "";
    if (j->fail_http_status > 0 && j->fail_server_text)
        snprintf(buf, len, "%ld %s", j->fail_http_status, j->fail_server_text);
    else if (j->fail_http_status > 0)
        snprintf(buf, len, "%ld %s", j->fail_http_status, msg);
    else if (j->fail_transport)
        snprintf(buf, len, "no answer: %s", j->fail_transport);
    else
        snprintf(buf, len, "%s", msg);
    for (char *c = buf; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* the steps column as JSON */

/* Adds key: s when set. */
static void j_str(cJSON *o, const char *key, const char *s)
{
    if (s) cJSON_AddStringToObject(o, key, s);
}

/* o[key] as a number, or fallback. */
static long long j_get_num(const cJSON *o, const char *key, long long fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : fallback;
}

cJSON *hist_steps_json(const hist_job *j)
{
    cJSON *steps = cJSON_CreateArray();
    for (size_t i = 0; i < j->n_steps; i++) {
        const hist_step *s = &j->steps[i];
        cJSON *so = cJSON_CreateObject();
        cJSON_AddNumberToObject(so, "index", s->index);
        j_str(so, "start_state", s->start_state);
        j_str(so, "end_state", s->end_state);
        j_str(so, "driver", s->driver);
        j_str(so, "method", s->method);
        j_str(so, "status", s->status);
        if (s->duration_ms >= 0) cJSON_AddNumberToObject(so, "duration_ms", (double)s->duration_ms);
        if (s->attempts > 0) cJSON_AddNumberToObject(so, "attempts", s->attempts);
        cJSON_AddItemToArray(steps, so);
    }
    return steps;
}

/* Adds the steps of a JSON array made by hist_steps_json to j. */
static void steps_from_json(const cJSON *a, hist_job *j)
{
    const cJSON *st;
    cJSON_ArrayForEach(st, a)
    {
        hist_step *s = hist_job_step(j, (int)j_get_num(st, "index", 0));
        hist_set(&s->start_state, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "start_state")));
        hist_set(&s->end_state, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "end_state")));
        hist_set(&s->driver, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "driver")));
        hist_set(&s->method, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "method")));
        hist_set(&s->status, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "status")));
        s->duration_ms = j_get_num(st, "duration_ms", -1);
        s->attempts = (int)j_get_num(st, "attempts", 0);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* time */

long long hist_now_ms(void)
{
    return clk_wall_ms();
}

int hist_parse_date(const char *text, long long *ms)
{
    int64_t us;
    if (iso_parse_us(text, &us) != 0) return -1;
    *ms = (long long)(us / 1000);
    return 0;
}

char *hist_format_time(long long ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* settings and opening */

void hist_settings_of(const cfg *c, hist_settings *out)
{
    out->enabled = 1;
    out->url = NULL;
    out->days = HIST_DEFAULT_DAYS;
    if (!c) return;
    const cJSON *hs = cfg_get(c, "history");
    if (cJSON_IsBool(hs)) out->enabled = cJSON_IsTrue(hs);
    out->enabled = cfg_bool(c, "history.enabled", out->enabled);
    const char *url = cfg_string(c, "history.url");
    if (url && *url) out->url = url;
    out->days = cfg_number(c, "history.days", out->days);
    if (cfg_get(c, "history_days")) out->days = cfg_number(c, "history_days", out->days);
}

/* "FILE:LINE: " of a config key, into buf. */
static const char *key_where(const cfg *c, const char *path, char *buf, size_t len)
{
    int line = cfg_line(c, path, NULL);
    const char *file = c->path ? c->path : "config";
    if (line > 0)
        snprintf(buf, len, "%s:%d", file, line);
    else
        snprintf(buf, len, "%s", file);
    return buf;
}

int hist_check_settings(const cfg *c, char *err, size_t err_len)
{
    if (!c) return 0;
    char w[600];
    const cJSON *hs = cfg_get(c, "history");
    if (hs && !cJSON_IsObject(hs) && !cJSON_IsBool(hs) && !cJSON_IsNull(hs)) {
        snprintf(err, err_len, "%s: key history must be a mapping (url:, enabled:, days:) or true/false",
                 key_where(c, "history", w, sizeof w));
        return -1;
    }
    const cJSON *url = cfg_get(c, "history.url");
    if (url && !cJSON_IsNull(url) && !cJSON_IsString(url)) {
        snprintf(err, err_len, "%s: key history.url must be a postgresql:// URL or a file path (a string)",
                 key_where(c, "history.url", w, sizeof w));
        return -1;
    }
    const cJSON *en = cfg_get(c, "history.enabled");
    if (en && !cJSON_IsBool(en) && cfg_bool(c, "history.enabled", -1) == -1) {
        snprintf(err, err_len, "%s: key history.enabled must be true or false", key_where(c, "history.enabled", w, sizeof w));
        return -1;
    }
    const char *days[] = {"history_days", "history.days"};
    for (size_t i = 0; i < 2; i++) {
        if (!cfg_get(c, days[i])) continue;
        if (cfg_number(c, days[i], -1) < 0) {
            snprintf(err, err_len, "%s: key %s must be a number of days (0 keeps everything)",
                     key_where(c, days[i], w, sizeof w), days[i]);
            return -1;
        }
    }
    const cJSON *et = cfg_get(c, "lms.errored_text");
    if (et && !(cJSON_IsString(et) && (strcmp(et->valuestring, "upstream") == 0 || strcmp(et->valuestring, "append") == 0))) {
        snprintf(err, err_len, "%s: key lms.errored_text must be upstream (upstream's exact text) or append (add what "
                 "the server said, the default)", key_where(c, "lms.errored_text", w, sizeof w));
        return -1;
    }
    return 0;
}

/* $XDG_STATE_HOME/retirectl/history.db, else ~/.local/state/retirectl/history.db. malloc'd or NULL. */
static char *default_path(void)
{
    const char *x = getenv("XDG_STATE_HOME");
    strbuf sb = STRBUF_INIT;
    if (x && *x) {
        sb_addf(&sb, "%s/retirectl/history.db", x);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) return NULL;
        sb_addf(&sb, "%s/.local/state/retirectl/history.db", home);
    }
    return sb_take(&sb);
}

/* The schema, one entry per version: migrations[v - 1] takes a store from v - 1 to v. The same
 * SQL runs on SQLite and PostgreSQL. Never edit a released entry; add the next one. */
static const char *const migrations[HIST_SCHEMA_VERSION] = {
    /* 1: jobs, their steps as a JSON array (one row per job: a bulk run writes thousands) */
    "CREATE TABLE retirectl_jobs ("
    " id BIGINT PRIMARY KEY, lms_user_id BIGINT, retirement_id BIGINT, action TEXT NOT NULL,"
    " command TEXT, reason TEXT, operator TEXT, host TEXT, pid BIGINT,"
    " started_ms BIGINT NOT NULL, ended_ms BIGINT, outcome TEXT, exit_status INTEGER,"
    " from_state TEXT, final_state TEXT, message TEXT, fail_step INTEGER, fail_driver TEXT,"
    " fail_method TEXT, fail_request TEXT, fail_http_status INTEGER, fail_server_text TEXT,"
    " fail_transport TEXT, fail_attempts INTEGER, steps TEXT);"
    "CREATE INDEX retirectl_jobs_user ON retirectl_jobs (lms_user_id, started_ms);"
    "CREATE INDEX retirectl_jobs_retirement ON retirectl_jobs (retirement_id, started_ms);"
    "CREATE INDEX retirectl_jobs_started ON retirectl_jobs (started_ms);",
};

/* The version recorded in the store (0 for an empty one). */
static int read_version(history *h, int *version, char *err, size_t err_len)
{
    hist_rows r;
    if (h->be->exec(h, "SELECT MAX(version) FROM retirectl_schema", NULL, 0, &r, err, err_len) != 0) return -1;
    *version = r.n_rows && r.cells[0] ? atoi(r.cells[0]) : 0;
    hist_rows_free(&r);
    return 0;
}

int hist_schema_version(history *h, int *version, char *err, size_t err_len)
{
    return read_version(h, version, err, err_len);
}

/* Brings the schema up to HIST_SCHEMA_VERSION inside one exclusive transaction (several
 * processes may open a new store at once). */
static int migrate(history *h, char *err, size_t err_len)
{
    int v = 0;
    char ignored[256];
    if (read_version(h, &v, ignored, sizeof ignored) == 0 && v == HIST_SCHEMA_VERSION) return 0;
    if (h->be->exec(h, h->be->begin_exclusive, NULL, 0, NULL, err, err_len) != 0) return -1;
    if (h->be->exec(h, "CREATE TABLE IF NOT EXISTS retirectl_schema (version INTEGER NOT NULL)", NULL, 0, NULL, err,
                    err_len) != 0 ||
        read_version(h, &v, err, err_len) != 0)
        goto fail;
    if (v > HIST_SCHEMA_VERSION) {
        snprintf(err, err_len,
                 "history %s has schema version %d, newer than this retirectl knows (%d): upgrade retirectl on "
                 "this machine, or point history.url elsewhere",
                 h->where, v, HIST_SCHEMA_VERSION);
        goto fail;
    }
    for (int next = v + 1; next <= HIST_SCHEMA_VERSION; next++) {
        char num[16];
        snprintf(num, sizeof num, "%d", next);
        const char *p[] = {num};
        if (h->be->exec(h, migrations[next - 1], NULL, 0, NULL, err, err_len) != 0 ||
            h->be->exec(h, "INSERT INTO retirectl_schema (version) VALUES (?)", p, 1, NULL, err, err_len) != 0)
            goto fail;
    }
    if (h->be->exec(h, "COMMIT", NULL, 0, NULL, err, err_len) != 0) goto fail;
    return 0;
fail:;
    char e2[256];
    h->be->exec(h, "ROLLBACK", NULL, 0, NULL, e2, sizeof e2);
    return -1;
}

/* Non-zero when url names a PostgreSQL server. */
static int is_pg_url(const char *url)
{
    return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

int hist_open_url(const char *url, history **out, char *err, size_t err_len)
{
    *out = NULL;
    history *h = xcalloc(1, sizeof *h);
    int rc;
    if (url && is_pg_url(url)) {
        rc = hist_pg_open(h, url, err, err_len);
    } else {
        char *path = url ? xstrdup(url) : default_path();
        if (!path) {
            snprintf(err, err_len,
                     "history: neither XDG_STATE_HOME nor HOME is set, so there is no default history file; set "
                     "one, or history.url in the config");
            free(h);
            return -1;
        }
        rc = hist_sqlite_open(h, path, err, err_len);
        free(path);
    }
    if (rc == 0) rc = migrate(h, err, err_len);
    if (rc != 0) {
        hist_close(h);
        return -1;
    }
    *out = h;
    return 0;
}

int hist_open(const cfg *c, history **out, char *err, size_t err_len)
{
    *out = NULL;
    if (hist_check_settings(c, err, err_len) != 0) return -1;
    hist_settings s;
    hist_settings_of(c, &s);
    char *url = NULL;
    if (s.url) url = is_pg_url(s.url) || !c ? xstrdup(s.url) : cfg_resolve_path(c, s.url);
    int rc = hist_open_url(url, out, err, err_len);
    free(url);
    if (rc != 0) return -1;
    if (s.days > 0) {
        long long before = hist_now_ms() - (long long)(s.days * 86400000.0);
        if (hist_prune(*out, before, NULL, err, err_len) != 0) {
            hist_close(*out);
            *out = NULL;
            return -1;
        }
    }
    return 0;
}

void hist_close(history *h)
{
    if (!h) return;
    if (h->be && h->be->close) h->be->close(h);
    free(h->insert_sql);
    free(h->delete_sql);
    free(h->where);
    free(h->secret);
    free(h);
}

const char *hist_where(const history *h) { return h->where; }
const char *hist_backend_name(const history *h) { return h->be->name; }

/* ------------------------------------------------------------------------------------------ */
/* statements with many rows */

/* A number parameter: values are bound as text, and SQLite compares an untyped expression
 * (COALESCE, LIMIT) with text as text, so every compared number is cast. */
#define NUM "CAST(? AS BIGINT)"

/* Text parameters of one statement; strings owned. */
typedef struct params {
    char **v;
    size_t n, cap;
} params;

static void p_add(params *p, const char *s)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        char **n = xrealloc(p->v, p->cap * sizeof *n);
        p->v = n;
    }
    p->v[p->n++] = xstrdup_or_null(s);
}

static void p_num(params *p, long long v, int present)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    p_add(p, present ? b : NULL);
}

static void p_free(params *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* prefix, then n groups "(?,?,...)" of n_cols placeholders each (one_list: a single group of n
 * NUM placeholders, for "IN (...)"). */
static char *batch_sql(const char *prefix, size_t n, size_t n_cols, int one_list)
{
    strbuf group = STRBUF_INIT, sql = STRBUF_INIT;
    if (one_list) {
        sb_add(&group, "," NUM);
    } else {
        sb_add(&group, ",(?");
        for (size_t c = 1; c < n_cols; c++) sb_addn(&group, ",?", 2);
        sb_addc(&group, ')');
    }
    sb_add(&sql, prefix);
    sb_add(&sql, one_list ? " (" : " ");
    for (size_t r = 0; r < n; r++) sb_addn(&sql, group.data + (r ? 0 : 1), group.len - (r ? 0 : 1));
    if (one_list) sb_addc(&sql, ')');
    sb_free(&group);
    return sb_take(&sql);
}

/* Runs a statement over n groups of values (n_cols each; see batch_sql). The text for a full
 * group of per is built once per store and kept in *full (SQLite then finds it prepared). */
static int exec_batch(history *h, const char *prefix, char **full, size_t per, size_t n, size_t n_cols,
                      int one_list, const char **values, char *err, size_t err_len)
{
    if (!n) return 0;
    if (n == per && !*full) *full = batch_sql(prefix, per, n_cols, one_list);
    char *part = n == per ? NULL : batch_sql(prefix, n, n_cols, one_list);
    int rc = h->be->exec(h, part ? part : *full, values, n * n_cols, NULL, err, err_len);
    free(part);
    return rc;
}

int hist_save_rows(history *h, hist_row *const *rows, size_t n, char *err, size_t err_len)
{
    if (!n) return 0;
    size_t per = h->be->rows_per_statement ? h->be->rows_per_statement : 1;
    if (h->be->exec(h, "BEGIN", NULL, 0, NULL, err, err_len) != 0) return -1;
    const char **vals = xmalloc(per * HIST_N_COLS * sizeof *vals);
    /* replace rows written before (a job's "running" row) */
    const char *del = "DELETE FROM retirectl_jobs WHERE id IN";
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!rows[i]->stored) continue;
        vals[k++] = rows[i]->v[0];
        if (k == per) rc = exec_batch(h, del, &h->delete_sql, per, k, 1, 1, vals, err, err_len), k = 0;
    }
    if (rc == 0) rc = exec_batch(h, del, &h->delete_sql, per, k, 1, 1, vals, err, err_len);
    const char *ins = "INSERT INTO retirectl_jobs (" HIST_JOB_COLS ") VALUES";
    k = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        memcpy(vals + k * HIST_N_COLS, rows[i]->v, sizeof rows[i]->v);
        if (++k == per) rc = exec_batch(h, ins, &h->insert_sql, per, k, HIST_N_COLS, 0, vals, err, err_len), k = 0;
    }
    if (rc == 0) rc = exec_batch(h, ins, &h->insert_sql, per, k, HIST_N_COLS, 0, vals, err, err_len);
    free(vals);
    if (rc == 0 && h->be->exec(h, "COMMIT", NULL, 0, NULL, err, err_len) == 0) return 0;
    char e2[256];
    h->be->exec(h, "ROLLBACK", NULL, 0, NULL, e2, sizeof e2);
    return -1;
}

int hist_save(history *h, hist_job *const *jobs, size_t n, char *err, size_t err_len)
{
    hist_row **rows = xcalloc(n ? n : 1, sizeof *rows);
    for (size_t i = 0; i < n; i++) rows[i] = hist_row_of(jobs[i]);
    int rc = hist_save_rows(h, rows, n, err, err_len);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) jobs[i]->stored = 1;
        hist_row_free(rows[i]);
    }
    free(rows);
    return rc;
}

int hist_prune(history *h, long long before_ms, long long *removed, char *err, size_t err_len)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", before_ms);
    const char *p[] = {b};
    /* by start (indexed): a job ends within hours of its start */
    hist_rows r;
    int rc = h->be->exec(h, "SELECT COUNT(*) FROM retirectl_jobs WHERE started_ms < " NUM, p, 1, &r, err, err_len);
    long long n = rc == 0 && r.n_rows && r.cells[0] ? atoll(r.cells[0]) : 0;
    if (rc == 0) hist_rows_free(&r);
    if (rc == 0 && n > 0)
        rc = h->be->exec(h, "DELETE FROM retirectl_jobs WHERE started_ms < " NUM, p, 1, NULL, err, err_len);
    if (removed) *removed = rc == 0 ? n : 0;
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* queries */

void hist_query_init(hist_query *q)
{
    memset(q, 0, sizeof *q);
    q->lms_user_id = q->retirement_id = -1;
}

/* Outcomes that end a learner's failure (a refused job changed nothing). */
#define FINISHING "('complete','errored','cancelled')"

/* WHERE clause of q (aliased j) with its parameters. */
static void where_of(const hist_query *q, strbuf *sql, params *p)
{
    sb_add(sql, " WHERE 1=1");
    if (q->lms_user_id >= 0) {
        sb_add(sql, " AND j.lms_user_id = " NUM);
        p_num(p, q->lms_user_id, 1);
    }
    if (q->retirement_id >= 0) {
        sb_add(sql, " AND j.retirement_id = " NUM);
        p_num(p, q->retirement_id, 1);
    }
    if (q->since_ms > 0) {
        sb_add(sql, " AND j.started_ms >= " NUM);
        p_num(p, q->since_ms, 1);
    }
    if (q->failed_only || q->current_failures) sb_add(sql, " AND j.outcome = 'errored'");
    if (q->open_only) sb_add(sql, " AND j.outcome IS NULL");
    if (q->current_failures)
        sb_add(sql, " AND j.lms_user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM retirectl_jobs k"
                    " WHERE k.lms_user_id = j.lms_user_id AND k.outcome IN " FINISHING
                    " AND (k.started_ms > j.started_ms OR (k.started_ms = j.started_ms AND k.id > j.id)))");
}

static long long num_or(const char *s, long long fallback)
{
    return s ? atoll(s) : fallback;
}

/* Fills j from one row of HIST_JOB_COLS. */
static void job_of_row(hist_job *j, char *const *c, int with_steps)
{
    memset(j, 0, sizeof *j);
    j->id = atoll(c[0]);
    j->lms_user_id = num_or(c[1], -1);
    j->retirement_id = num_or(c[2], -1);
    j->action = xstrdup_or_null(c[3]);
    j->command = xstrdup_or_null(c[4]);
    j->reason = xstrdup_or_null(c[5]);
    j->operator_name = xstrdup_or_null(c[6]);
    j->host = xstrdup_or_null(c[7]);
    j->pid = num_or(c[8], 0);
    j->started_ms = num_or(c[9], 0);
    j->ended_ms = num_or(c[10], 0);
    j->outcome = xstrdup_or_null(c[11]);
    j->exit_status = (int)num_or(c[12], -1);
    j->from_state = xstrdup_or_null(c[13]);
    j->final_state = xstrdup_or_null(c[14]);
    j->message = xstrdup_or_null(c[15]);
    j->fail_step = (int)num_or(c[16], -1);
    j->fail_driver = xstrdup_or_null(c[17]);
    j->fail_method = xstrdup_or_null(c[18]);
    j->fail_request = xstrdup_or_null(c[19]);
    j->fail_http_status = (long)num_or(c[20], 0);
    j->fail_server_text = xstrdup_or_null(c[21]);
    j->fail_transport = xstrdup_or_null(c[22]);
    j->fail_attempts = (int)num_or(c[23], 0);
    if (with_steps && c[24]) {
        cJSON *a = cJSON_Parse(c[24]);
        steps_from_json(a, j);
        cJSON_Delete(a);
    }
    j->stored = 1;
}

int hist_list(history *h, const hist_query *q, hist_job **jobs_out, size_t *n_out, char *err, size_t err_len)
{
    *jobs_out = NULL;
    *n_out = 0;
    strbuf sql = STRBUF_INIT;
    params p = {0};
    sb_add(&sql, "SELECT " HIST_JOB_COLS " FROM retirectl_jobs j");
    where_of(q, &sql, &p);
    sb_add(&sql, " ORDER BY j.started_ms DESC, j.id DESC");
    if (q->limit) {
        sb_add(&sql, " LIMIT " NUM);
        p_num(&p, (long long)q->limit, 1);
    }
    hist_rows r;
    int rc = h->be->exec(h, sb_str(&sql), (const char *const *)p.v, p.n, &r, err, err_len);
    sb_free(&sql);
    p_free(&p);
    if (rc != 0) return -1;
    hist_job *jobs = xcalloc(r.n_rows + 1, sizeof *jobs);
    for (size_t i = 0; i < r.n_rows; i++) job_of_row(&jobs[i], &r.cells[i * r.n_cols], !q->no_steps);
    size_t n = r.n_rows;
    hist_rows_free(&r);
    *jobs_out = jobs;
    *n_out = n;
    return 0;
}

void hist_jobs_free(hist_job *jobs, size_t n)
{
    if (!jobs) return;
    for (size_t i = 0; i < n; i++) hist_job_clear(&jobs[i]);
    free(jobs);
}

int hist_failure_groups(history *h, long long since_ms, hist_group **groups, size_t *n_out, char *err,
                        size_t err_len)
{
    *groups = NULL;
    *n_out = 0;
    hist_query q;
    hist_query_init(&q);
    q.current_failures = 1;
    q.since_ms = since_ms;
    strbuf sql = STRBUF_INIT;
    params p = {0};
    sb_add(&sql, "SELECT j.fail_driver, j.fail_method, j.fail_http_status, COUNT(*) FROM retirectl_jobs j");
    where_of(&q, &sql, &p);
    sb_add(&sql, " GROUP BY j.fail_driver, j.fail_method, j.fail_http_status"
                 " ORDER BY COUNT(*) DESC, j.fail_driver, j.fail_method");
    hist_rows r;
    int rc = h->be->exec(h, sb_str(&sql), (const char *const *)p.v, p.n, &r, err, err_len);
    sb_free(&sql);
    p_free(&p);
    if (rc != 0) return -1;
    hist_group *g = xcalloc(r.n_rows + 1, sizeof *g);
    for (size_t i = 0; i < r.n_rows; i++) {
        char **c = &r.cells[i * r.n_cols];
        g[i].driver = xstrdup_or_null(c[0]);
        g[i].method = xstrdup_or_null(c[1]);
        g[i].http_status = (long)num_or(c[2], 0);
        g[i].count = num_or(c[3], 0);
    }
    *groups = g;
    *n_out = r.n_rows;
    hist_rows_free(&r);
    return 0;
}

void hist_groups_free(hist_group *g, size_t n)
{
    if (!g) return;
    for (size_t i = 0; i < n; i++) {
        free(g[i].driver);
        free(g[i].method);
    }
    free(g);
}
