/* ui history notes: the retirement history in the console's fetch protocol and list. See
 * history_notes.h. */
#include "ui/history_notes.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/history.h"
#include "ui/model.h"
#include "common/xalloc.h"

/* Opens the config's store; NULL (with err) when off or unreadable. */
static history *open_store(const cfg *c, char *err, size_t err_len)
{
    hist_settings s;
    hist_settings_of(c, &s);
    if (!s.enabled) {
        snprintf(err, err_len, "the history is turned off (history.enabled: false)");
        return NULL;
    }
    history *h = NULL;
    return hist_open(c, &h, err, err_len) == 0 ? h : NULL;
}

/* Writes one H line. */
static void put_note(FILE *out, ui_hist_put_fn put, long long uid, char kind, long long started_ms, const char *text)
{
    char u[24], k[2] = {kind, '\0'}, since[24];
    snprintf(u, sizeof u, "%lld", uid);
    snprintf(since, sizeof since, "%lld", started_ms / 1000);
    const char *f[4] = {u, k, since, text};
    put(out, 'H', f, 4);
}

/* Non-zero when the job's process is known to be gone (same host, no such pid). */
static int process_gone(const hist_job *j)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (!j->host || strcmp(j->host, host) != 0 || j->pid <= 0) return 0;
    return kill((pid_t)j->pid, 0) != 0 && errno == ESRCH;
}

void ui_hist_emit_notes(const cfg *c, FILE *out, ui_hist_put_fn put)
{
    char err[1024];
    history *h = open_store(c, err, sizeof err);
    if (!h) return;
    hist_query q;
    hist_query_init(&q);
    q.current_failures = 1;
    q.no_steps = 1;
    hist_job *jobs = NULL;
    size_t n = 0;
    if (hist_list(h, &q, &jobs, &n, err, sizeof err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char why[600];
            if (jobs[i].lms_user_id < 0) continue;
            hist_reason_short(&jobs[i], why, sizeof why);
            put_note(out, put, jobs[i].lms_user_id, 'F', jobs[i].started_ms, why);
        }
    }
    hist_jobs_free(jobs, n);
    hist_query_init(&q);
    q.open_only = 1;
    q.no_steps = 1;
    if (hist_list(h, &q, &jobs, &n, err, sizeof err) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (jobs[i].lms_user_id < 0) continue;
            char where[400];
            snprintf(where, sizeof where, "%s, pid %lld", jobs[i].host ? jobs[i].host : "?", jobs[i].pid);
            put_note(out, put, jobs[i].lms_user_id, process_gone(&jobs[i]) ? 'S' : 'R', jobs[i].started_ms, where);
        }
    }
    hist_jobs_free(jobs, n);
    hist_close(h);
}

/* Writes F history.<key> value. */
static void put_field(FILE *out, ui_hist_put_fn put, const char *key, const char *value)
{
    if (!value || !*value) return;
    char path[128];
    snprintf(path, sizeof path, "history.%s", key);
    const char *f[2] = {path, value};
    put(out, 'F', f, 2);
}

void ui_hist_emit_fields(const cfg *c, const cJSON *learner, FILE *out, ui_hist_put_fn put)
{
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(learner, "user"), "id");
    if (!cJSON_IsNumber(uid)) return;
    char err[1024];
    history *h = open_store(c, err, sizeof err);
    if (!h) {
        put_field(out, put, "error", err);
        return;
    }
    hist_query q;
    hist_query_init(&q);
    q.lms_user_id = (long long)uid->valuedouble;
    q.limit = 12;
    q.no_steps = 1;
    hist_job *jobs = NULL;
    size_t n = 0;
    if (hist_list(h, &q, &jobs, &n, err, sizeof err) != 0) {
        put_field(out, put, "error", err);
        hist_close(h);
        return;
    }
    char buf[1024], t1[40], t2[40];
    /* the last failure in full */
    for (size_t i = 0; i < n; i++) {
        const hist_job *j = &jobs[i];
        if (!j->outcome || strcmp(j->outcome, "errored") != 0) continue;
        snprintf(buf, sizeof buf, "%s to %s", hist_format_time(j->started_ms, t1, sizeof t1),
                 j->ended_ms ? hist_format_time(j->ended_ms, t2, sizeof t2) : "?");
        put_field(out, put, "failure.when", buf);
        snprintf(buf, sizeof buf, "%s on %s (pid %lld)", j->operator_name ? j->operator_name : "?",
                 j->host ? j->host : "?", j->pid);
        put_field(out, put, "failure.who", buf);
        snprintf(buf, sizeof buf, "%s: %s", j->action ? j->action : "?", j->command ? j->command : "");
        put_field(out, put, "failure.job", buf);
        put_field(out, put, "failure.reason", j->reason);
        if (j->fail_driver) {
            snprintf(buf, sizeof buf, "%d. %s.%s", j->fail_step + 1, j->fail_driver,
                     j->fail_method ? j->fail_method : "?");
            put_field(out, put, "failure.step", buf);
        }
        put_field(out, put, "failure.request", j->fail_request);
        if (j->fail_http_status > 0) {
            snprintf(buf, sizeof buf, "%ld", j->fail_http_status);
            put_field(out, put, "failure.status", buf);
        }
        put_field(out, put, "failure.server", j->fail_server_text);
        put_field(out, put, "failure.no_answer", j->fail_transport);
        if (j->fail_attempts > 0) {
            snprintf(buf, sizeof buf, "%d", j->fail_attempts);
            put_field(out, put, "failure.attempts", buf);
        }
        put_field(out, put, "failure.recorded", j->message);
        break;
    }
    /* every job, newest first */
    for (size_t i = 0; i < n; i++) {
        const hist_job *j = &jobs[i];
        char why[600], key[32];
        hist_reason_short(j, why, sizeof why);
        snprintf(buf, sizeof buf, "%s %s %s by %s@%s%s%s", hist_format_time(j->started_ms, t1, sizeof t1),
                 j->action ? j->action : "?", j->outcome ? j->outcome : "running", j->operator_name ? j->operator_name : "?",
                 j->host ? j->host : "?", why[0] ? ": " : "", why);
        snprintf(key, sizeof key, "jobs[%zu]", i);
        put_field(out, put, key, buf);
    }
    if (!n) put_field(out, put, "jobs", "none recorded for this learner");
    hist_jobs_free(jobs, n);
    hist_close(h);
}

int ui_hist_notes_feed(ui_hist_notes *ns, char *line)
{
    char *f[4];
    if (line[0] != 'H' || line[1] != '\t' || ui_proto_split(line + 2, f, 4) != 4 || !f[1][0]) return -1;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 256;
        ui_hist_note *v = xrealloc(ns->v, ns->cap * sizeof *v);
        ns->v = v;
    }
    ui_hist_note *n = &ns->v[ns->n];
    n->user_id = (uint32_t)strtoul(f[0], NULL, 10);
    n->kind = f[1][0];
    n->since = strtoll(f[2], NULL, 10);
    n->text = xstrdup(f[3]);
    ns->n++;
    return 0;
}

static int cmp_note(const void *a, const void *b)
{
    const ui_hist_note *x = a, *y = b;
    return x->user_id < y->user_id ? -1 : x->user_id > y->user_id;
}

void ui_hist_notes_done(ui_hist_notes *ns)
{
    if (ns->n) qsort(ns->v, ns->n, sizeof *ns->v, cmp_note);
}

void ui_hist_notes_free(ui_hist_notes *ns)
{
    for (size_t i = 0; i < ns->n; i++) free(ns->v[i].text);
    free(ns->v);
    memset(ns, 0, sizeof *ns);
}

const ui_hist_note *ui_hist_note_of(const ui_hist_notes *ns, uint32_t user_id, const char *kinds)
{
    size_t lo = 0, hi = ns->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ns->v[mid].user_id < user_id) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < ns->n && ns->v[i].user_id == user_id; i++)
        if (strchr(kinds, ns->v[i].kind)) return &ns->v[i];
    return NULL;
}

char *ui_hist_note_text(const ui_hist_note *n, time_t now, char *buf, size_t len)
{
    char age[16];
    ui_format_age((int64_t)now - n->since, age, sizeof age);
    if (n->kind == 'R')
        snprintf(buf, len, "running on %s, for %s", n->text, age);
    else if (n->kind == 'S')
        snprintf(buf, len, "stuck: the job of %s is gone (started %s ago)", n->text, age);
    else
        snprintf(buf, len, "%s", n->text);
    return buf;
}
