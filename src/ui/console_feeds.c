/* The console's fetch children (fetch.h): the learner list, the open learner's LMS record and
 * the drivers list, read line by line from their pipes without blocking the loop. */
#include "ui/console_internal.h"
#include "ui/cleanup_due.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ui/fetch.h"
#include "ui/text.h"
#include "common/xalloc.h"

int ui_fetch_group_of(const char *state)
{
    if (!strcmp(state, "PENDING")) return FG_PENDING;
    if (!strcmp(state, "ERRORED")) return FG_ERRORED;
    if (!strcmp(state, "COMPLETE") || !strcmp(state, "ABORTED")) return FG_DONE;
    return FG_PIPE;
}

/* Whether group g holds learners tab t shows. */
static int group_feeds(int g, ui_tab t)
{
    switch (t) {
    case UI_TAB_READY: return g == FG_PENDING || g == FG_PIPE;
    case UI_TAB_PENDING: return g == FG_PENDING || g == FG_PIPE;
    case UI_TAB_FAILED: return g == FG_ERRORED;
    case UI_TAB_STUCK: return g == FG_PIPE;
    default: return g == FG_DONE;
    }
}

/* Starts a fetch of the groups in mask; limit > 0: only that many learners per request (the
 * first screenful). */
static void start_groups(unsigned mask, long limit)
{
    if (ui_con.fetch_pid > 0 || !mask) return;
    ui_fetch_req reqs[FG_COUNT];
    size_t n = 0;
    for (int g = 0; g < FG_COUNT; g++) {
        if (!(mask & (1u << g)) || !ui_con.n_group_states[g]) continue;
        reqs[n] = (ui_fetch_req){ui_con.group_states[g], ui_con.n_group_states[g],
                                 g == FG_DONE && ui_con.since[0] ? ui_con.since : NULL, limit};
        n++;
    }
    char err[512];
    int fd;
    pid_t pid = ui_fetch_requests(ui_con.o->config, reqs, n, &fd, err, sizeof err);
    if (pid < 0) {
        snprintf(ui_con.fetch_error, sizeof ui_con.fetch_error, "%s", err);
        ui_con.next_refresh_ms = ui_now_ms() + ui_con.refresh_s * 1000;
        return;
    }
    ui_con.fetch_pid = pid;
    ui_con.fetch_fd = fd;
    ui_con.fetch_started_ms = ui_now_ms();
    ui_con.fetch_groups = mask;
    ui_con.fetch_quick = limit > 0;
    sb_reset(&ui_con.fetch_buf);
    ui_store_free(&ui_con.next);
    ui_store_init(&ui_con.next);
    ui_tlog("fetch start groups %u limit %ld\n", mask, limit);
    ui_con.dirty = 1;
}

void ui_start_fetch(void)
{
    /* before the first list: the visible tab's first screenful first, so it shows at once */
    if (!ui_con.have_store && !ui_con.fetch_error[0]) {
        unsigned mask = 0;
        for (int g = 0; g < FG_COUNT; g++)
            if (group_feeds(g, ui_con.tab)) mask |= 1u << g;
        start_groups(mask, 200);
        return;
    }
    start_groups(FG_ALL, 0);
}

void ui_fetch_due(void)
{
    if (ui_con.fetch_pid > 0) return;
    double t = ui_now_ms();
    if (t >= ui_con.next_refresh_ms) { /* asked for (F5, a job ended, a retry after an error) */
        ui_start_fetch();
        return;
    }
    if (ui_con.fetch_error[0]) return; /* the LMS failed: the next try is the one counted down */
    int active = t - ui_con.last_key_ms < ui_con.idle_s * 1000;
    unsigned mask = 0;
    for (int g = 0; g < FG_COUNT; g++) {
        double every = active && group_feeds(g, ui_con.tab) ? ui_con.refresh_s : ui_con.background_s;
        if (t - ui_con.group_at[g] >= every * 1000) mask |= 1u << g;
    }
    start_groups(mask, 0);
}

/* When the next group falls due (monotonic ms), for the loop's poll timeout. */
double ui_fetch_next_due(void)
{
    double t = ui_now_ms(), next = ui_con.next_refresh_ms;
    int active = t - ui_con.last_key_ms < ui_con.idle_s * 1000;
    for (int g = 0; g < FG_COUNT; g++) {
        double every = active && group_feeds(g, ui_con.tab) ? ui_con.refresh_s : ui_con.background_s;
        if (ui_con.group_at[g] + every * 1000 < next) next = ui_con.group_at[g] + every * 1000;
    }
    return next;
}

void ui_start_status(const char *name)
{
    if (ui_con.status_pid > 0) {
        if (ui_con.status_for && strcmp(ui_con.status_for, name) == 0) return; /* already on its way */
        /* another learner's record is loading: drop it, this one is wanted now */
        kill(ui_con.status_pid, SIGTERM);
        close(ui_con.status_fd);
        ui_con.status_fd = -1;
        ui_reap_child(&ui_con.status_pid, "status");
    }
    char err[512];
    int fd;
    pid_t pid = ui_fetch_status(ui_con.o->config, name, &fd, err, sizeof err);
    if (pid < 0) {
        snprintf(ui_con.status_error, sizeof ui_con.status_error, "%s", err);
        return;
    }
    ui_con.status_pid = pid;
    ui_con.status_fd = fd;
    free(ui_con.status_for);
    ui_con.status_for = xstrdup(name);
    sb_reset(&ui_con.status_buf);
    for (size_t i = 0; i < ui_con.n_fields_next; i++) free(ui_con.fields_next[i].key), free(ui_con.fields_next[i].value);
    ui_con.n_fields_next = 0;
    ui_con.status_error[0] = '\0';
}

void ui_start_drivers(void)
{
    if (ui_con.drivers_pid > 0) return;
    char err[512];
    int fd;
    pid_t pid = ui_fetch_drivers(ui_con.o->config, ui_con.o->driver_paths, &fd, err, sizeof err);
    if (pid < 0) {
        ui_msg(UR_FAILED, "%s", err);
        return;
    }
    ui_con.drivers_pid = pid;
    ui_con.drivers_fd = fd;
    sb_reset(&ui_con.drivers_buf);
    for (size_t i = 0; i < ui_con.n_drivers; i++) {
        driver_row *d = &ui_con.drivers[i];
        free(d->name), free(d->source), free(d->version), free(d->error), free(d->method);
    }
    ui_con.n_drivers = 0;
    for (size_t i = 0; i < ui_con.n_problems; i++) free(ui_con.problems[i]);
    ui_con.n_problems = 0;
}

/* Takes the fetched list (a failed refresh keeps the last good one), keeping each tab's
 * selection on the same learner. */
static void on_queue_done_impl(void)
{
    /* keep the selection on the same learner across refreshes */
    char *keep[UI_TAB_COUNT] = {0};
    if (ui_con.have_store)
        for (int t = 0; t < UI_TAB_COUNT; t++)
            if (ui_con.store.n_rows[t] && ui_con.list[t].sel < ui_con.store.n_rows[t])
                keep[t] = xstrdup(ui_store_name(&ui_con.store, &ui_con.store.v[ui_con.store.rows[t][ui_con.list[t].sel]]));
    if (ui_con.next.error[0] && ui_con.next.n == 0 && ui_con.have_store) {
        /* a failed refresh keeps the last good list */
        snprintf(ui_con.fetch_error, sizeof ui_con.fetch_error, "%s", ui_con.next.error);
        ui_store_free(&ui_con.next);
    } else {
        snprintf(ui_con.fetch_error, sizeof ui_con.fetch_error, "%s", ui_con.next.error);
        /* the groups not fetched this time keep their learners from the shown list */
        if (ui_con.have_store && (ui_con.fetch_groups != FG_ALL || ui_con.fetch_quick)) {
            for (size_t i = 0; i < ui_con.store.n; i++) {
                const ui_learner *o = &ui_con.store.v[i];
                const char *st = ui_store_state(&ui_con.store, o->state);
                if (ui_con.fetch_groups & (1u << ui_fetch_group_of(st))) continue;
                ui_store_add(&ui_con.next, ui_store_name(&ui_con.store, o), st, ui_store_state(&ui_con.store, o->last_state),
                             o->retirement_id, o->user_id, o->created, o->modified);
            }
        }
        if (!ui_con.next.error[0])
            for (int g = 0; g < FG_COUNT; g++)
                if (ui_con.fetch_groups & (1u << g)) ui_con.group_at[g] = ui_con.fetch_quick ? 0 : ui_con.fetch_started_ms;
        ui_con.store_partial = ui_con.fetch_quick;
        ui_store_classify(&ui_con.next, &ui_con.pipe, ui_con.cool_off_days, ui_con.history_days, time(NULL));
        ui_con.cleanup_due = ui_cleanup_due_count(&ui_con.next, ui_con.cleanup_cool_off_days, time(NULL));
        if (ui_con.have_store) ui_store_copy_marks(&ui_con.next, &ui_con.store);
        ui_store_free(&ui_con.store);
        ui_con.store = ui_con.next;
        ui_store_init(&ui_con.next);
        ui_con.have_store = 1;
        ui_con.store_from_ms = ui_con.fetch_started_ms;
        if (ui_con.sort != UI_SORT_DEFAULT || ui_con.sort_desc)
            ui_store_sort(&ui_con.store, ui_con.sort, ui_con.sort_desc, ui_con.filter);
        else
            ui_store_filter(&ui_con.store, ui_con.filter);
        for (int t = 0; t < UI_TAB_COUNT; t++) {
            if (!keep[t]) continue;
            for (size_t i = 0; i < ui_con.store.n_rows[t]; i++)
                if (strcmp(ui_store_name(&ui_con.store, &ui_con.store.v[ui_con.store.rows[t][i]]), keep[t]) == 0) {
                    ui_con.list[t].sel = i;
                    break;
                }
        }
        ui_con.last_refresh_wall = time(NULL);
    }
    for (int t = 0; t < UI_TAB_COUNT; t++) free(keep[t]);
    /* a forced refresh comes next after a job ended mid-fetch, the first screenful or an error */
    ui_con.next_refresh_ms = ui_con.refetch || ui_con.fetch_quick ? ui_now_ms()
                             : ui_con.fetch_error[0]              ? ui_now_ms() + ui_con.refresh_s * 1000
                                                                  : 1e300;
    ui_con.refetch = 0;
    ui_con.fetch_quick = 0;
    ui_con.dirty = 1;
    ui_redescribe_dialog();
}

/* Swaps in the new list (timed for bench/console_scale). */
static void on_queue_done(void)
{
    double t0 = ui_now_ms();
    ui_tlog("fetched %.3f rows %zu groups %u\n", t0, ui_con.next.n, ui_con.fetch_groups);
    on_queue_done_impl();
    ui_tlog("swap %.3f ms %zu learners\n", ui_now_ms() - t0, ui_con.store.n);
}

/* Processes complete lines in buf with fn; leaves the partial tail. */
static void drain_lines(strbuf *buf, void (*fn)(char *line))
{
    if (!buf->len) return;
    char *start = buf->data, *nl;
    size_t consumed = 0;
    while ((nl = memchr(start, '\n', buf->len - consumed))) {
        *nl = '\0';
        fn(start);
        consumed += (size_t)(nl - start) + 1;
        start = nl + 1;
    }
    if (consumed) {
        memmove(buf->data, buf->data + consumed, buf->len - consumed + 1);
        buf->len -= consumed;
    }
}

/* One line of each protocol (fetch.h): learner list, LMS record, drivers. */
static void queue_line(char *line)
{
    if (ui_fetch_take_token(line)) ui_tlog("token adopted from the list fetch\n");
    else ui_store_feed_line(&ui_con.next, line);
}

static void status_line(char *line)
{
    if (ui_fetch_take_token(line)) {
        ui_tlog("token adopted from the record fetch\n");
        return;
    }
    if (line[0] == 'F' && line[1] == '\t') {
        char *f[2];
        if (ui_proto_split(line + 2, f, 2) != 2) return;
        field *nf = xrealloc(ui_con.fields_next, (ui_con.n_fields_next + 1) * sizeof *nf);
        ui_con.fields_next = nf;
        ui_con.fields_next[ui_con.n_fields_next].key = ui_text_sanitize(f[0], (size_t)-1);
        ui_con.fields_next[ui_con.n_fields_next].value = ui_text_sanitize(f[1], (size_t)-1);
        ui_con.n_fields_next++;
    } else if (line[0] == 'E' && line[1] == '\t') {
        ui_proto_unescape(line + 2);
        snprintf(ui_con.status_error, sizeof ui_con.status_error, "%s", line + 2);
    }
}

static void drivers_line(char *line)
{
    char *f[7];
    if (line[0] == 'V' && line[1] == '\t') {
        if (ui_proto_split(line + 2, f, 7) != 7) return;
        size_t nm = 0;
        for (char *p = f[5]; *p; p++) nm += *p == ',';
        nm += *f[5] ? 1 : 0;
        driver_row *nd = xrealloc(ui_con.drivers, (ui_con.n_drivers + 1 + nm) * sizeof *nd);
        ui_con.drivers = nd;
        driver_row *d = &ui_con.drivers[ui_con.n_drivers++];
        d->name = xstrdup(f[0]);
        d->source = xstrdup(f[1]);
        d->line = atoi(f[2]);
        d->version = xstrdup(f[3]);
        d->builtin = atoi(f[4]);
        d->error = *f[6] ? xstrdup(f[6]) : NULL;
        d->method = NULL;
        char *save = NULL;
        for (char *m = strtok_r(f[5], ",", &save); m; m = strtok_r(NULL, ",", &save)) {
            driver_row *r = &ui_con.drivers[ui_con.n_drivers++];
            memset(r, 0, sizeof *r);
            r->name = xstrdup(f[0]);
            r->method = xstrdup(m);
        }
    } else if ((line[0] == 'P' || line[0] == 'E') && line[1] == '\t') {
        ui_proto_unescape(line + 2);
        char **np = xrealloc(ui_con.problems, (ui_con.n_problems + 1) * sizeof *np);
        ui_con.problems = np;
        ui_con.problems[ui_con.n_problems++] = xstrdup(line + 2);
    }
}

/* Reads what is available on a fetch pipe; returns 1 at end of file. */
static int read_pipe(int fd, strbuf *buf)
{
    char chunk[65536];
    /* at most 256 KB per loop turn, so keys are never kept waiting behind a big list */
    for (int rounds = 0; rounds < 4; rounds++) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            sb_addn(buf, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        return 1;
    }
    return 0;
}

/* Reaps a fetch child; traces its peak memory. */
void ui_reap_child(pid_t *pid, const char *what)
{
    if (*pid <= 0) return;
    int st;
    struct rusage ru;
    if (wait4(*pid, &st, 0, &ru) > 0) ui_tlog("child %s maxrss_kb %ld\n", what, ru.ru_maxrss);
    *pid = 0;
}

void ui_on_fetch_readable(void)
{
    int eof = read_pipe(ui_con.fetch_fd, &ui_con.fetch_buf);
    drain_lines(&ui_con.fetch_buf, queue_line);
    if (eof) {
        close(ui_con.fetch_fd);
        ui_con.fetch_fd = -1;
        ui_reap_child(&ui_con.fetch_pid, "queue");
        if (!ui_con.next.complete && !ui_con.next.error[0])
            snprintf(ui_con.next.error, sizeof ui_con.next.error, "the learner list fetch ended early (see retirectl queue)");
        on_queue_done();
    }
}

void ui_on_status_readable(void)
{
    int eof = read_pipe(ui_con.status_fd, &ui_con.status_buf);
    drain_lines(&ui_con.status_buf, status_line);
    if (eof) {
        close(ui_con.status_fd);
        ui_con.status_fd = -1;
        ui_reap_child(&ui_con.status_pid, "status");
        if (ui_con.detail && ui_con.status_for && strcmp(ui_con.detail, ui_con.status_for) == 0) {
            for (size_t i = 0; i < ui_con.n_fields; i++) free(ui_con.fields[i].key), free(ui_con.fields[i].value);
            free(ui_con.fields);
            ui_con.fields = ui_con.fields_next;
            ui_con.n_fields = ui_con.n_fields_next;
            ui_con.fields_next = NULL;
            ui_con.n_fields_next = 0;
        }
        ui_con.dirty = 1;
    }
}

void ui_on_drivers_readable(void)
{
    int eof = read_pipe(ui_con.drivers_fd, &ui_con.drivers_buf);
    drain_lines(&ui_con.drivers_buf, drivers_line);
    if (eof) {
        close(ui_con.drivers_fd);
        ui_con.drivers_fd = -1;
        ui_reap_child(&ui_con.drivers_pid, "drivers");
        ui_con.drivers_loaded = 1;
        ui_con.dirty = 1;
    }
}
