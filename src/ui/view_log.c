/* Job logs: the log panel of the detail view and the full-screen log view (L), which follows a
 * running job, searches (/, n, N) and saves the log to a file (s). Both scroll by screen rows:
 * every kept log line is wrapped to the width first, so the first line is always reachable.
 * The full-screen view's entry of the view table is ui_log_view. */
#include "ui/console_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ui/text.h"
#include "common/xalloc.h"

/* Colour of a log line by its level prefix. */
static ui_role line_role(const char *line)
{
    return strncmp(line, "[error]", 7) == 0 ? UR_FAILED
           : strncmp(line, "[warn]", 6) == 0 ? UR_RETRYING
           : strncmp(line, "[stderr]", 8) == 0 || strncmp(line, "[debug]", 7) == 0 ? UR_MUTED
                                                                               : UR_NORMAL;
}

void ui_log_rows_free(ui_log_rows *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->text[i]);
    free(r->text), free(r->role), free(r->line);
    memset(r, 0, sizeof *r);
}

void ui_log_rows_build(const ui_job *j, int width, ui_log_rows *r)
{
    memset(r, 0, sizeof *r);
    size_t cap = 0;
    for (size_t i = 0; j && i < j->n_log; i++) {
        const char *line = ui_job_log_line(j, i);
        char **pieces;
        size_t np = ui_wrap_text(line, width, &pieces);
        if (r->n + np > cap) {
            while (r->n + np > cap) cap = cap ? cap * 2 : 256;
            r->text = xrealloc(r->text, cap * sizeof *r->text);
            r->role = xrealloc(r->role, cap * sizeof *r->role);
            r->line = xrealloc(r->line, cap * sizeof *r->line);
        }
        for (size_t k = 0; k < np; k++) {
            r->text[r->n] = pieces[k];
            r->role[r->n] = line_role(line);
            r->line[r->n] = i;
            r->n++;
        }
        free(pieces);
    }
}

int ui_draw_log_panel(int y, int h, int w, const ui_job *j, int *from_bottom)
{
    ui_log_rows r;
    ui_log_rows_build(j, w, &r);
    int max = (int)r.n > h ? (int)r.n - h : 0;
    if (*from_bottom > max) *from_bottom = max;
    if (*from_bottom < 0) *from_bottom = 0;
    int first = (int)r.n - h - *from_bottom;
    if (first < 0) first = 0;
    for (int k = 0; k < h && first + k < (int)r.n; k++) ui_put(y + k, 0, w, r.role[first + k], r.text[first + k], 1);
    ui_log_rows_free(&r);
    return first;
}

/* ---------- the full-screen log view ---------- */

void ui_open_log(void)
{
    const char *name = ui_selected_name();
    const ui_job *j = name ? ui_learner_job(name, 0) : NULL;
    if (!j) {
        ui_msg(UR_WARNING, "no job log for %s in this session: p (dry-run) or an action makes one",
               name ? name : "the selection");
        return;
    }
    char *copy = xstrdup(name);
    free(ui_con.log_for);
    ui_con.log_for = copy;
    ui_view_enter(V_LOG);
}

/* The open hook: at the end, following; Esc goes back to `from`. */
static void open_log(view_t from)
{
    ui_con.log_back = from;
    ui_con.log_top = 0;
    ui_con.log_follow = 1;
    ui_con.log_match = -1;
}

/* The job the log view shows. */
static const ui_job *log_job(void)
{
    return ui_con.log_for ? ui_learner_job(ui_con.log_for, 0) : NULL;
}

/* The full-screen log: a title with the rows shown, then the rows (matches marked). */
static void draw_log(const ui_screen_layout *L)
{
    const ui_job *j = log_job();
    int top = L->header_row, h = L->list_rows;
    ui_log_rows r;
    ui_log_rows_build(j, COLS, &r);
    int max = (int)r.n > h ? (int)r.n - h : 0;
    if (ui_con.log_follow || ui_con.log_top > max) ui_con.log_top = ui_con.log_follow ? max : max;
    if (ui_con.log_top < 0) ui_con.log_top = 0;
    ui_con.log_page = h;
    ui_con.log_max_top = max;
    char title[600];
    int last = ui_con.log_top + h < (int)r.n ? ui_con.log_top + h : (int)r.n;
    snprintf(title, sizeof title, "Job log: %s %s (%s)  rows %d-%d of %zu%s%s%s", j ? j->what : "?", ui_con.log_for,
             j ? (j->finished ? j->outcome : "running") : "?", r.n ? ui_con.log_top + 1 : 0, last, r.n,
             ui_con.log_follow ? "  [following: new lines scroll in]" : "  [f follows]",
             ui_con.log_search[0] ? "  /" : "", ui_con.log_search);
    ui_fill_row(top, UR_HEADER);
    ui_put(top, 0, COLS, UR_HEADER, title, 0);
    for (int k = 0; k < h && ui_con.log_top + k < (int)r.n; k++) {
        int i = ui_con.log_top + k;
        int hit = ui_con.log_search[0] && strcasestr(r.text[i], ui_con.log_search);
        ui_role role = i == ui_con.log_match ? UR_SELECTION : hit ? UR_MARKED : r.role[i];
        ui_put(top + 1 + k, 0, COLS, role, r.text[i], 1);
    }
    ui_log_rows_free(&r);
}

/* The search's filter hook (panel.h): whether wrapped log row r holds the search text. */
static int row_matches(void *rows, size_t r)
{
    return strcasestr(((ui_log_rows *)rows)->text[r], ui_con.log_search) != NULL;
}

/* Moves to the next (dir 1) or previous (-1) row matching the search; says so when none. */
static void log_find(int dir)
{
    if (!ui_con.log_search[0]) {
        ui_msg(UR_WARNING, "no search yet: / then the text to find");
        return;
    }
    ui_log_rows r;
    ui_log_rows_build(log_job(), COLS, &r);
    int n = (int)r.n, start = ui_con.log_match >= 0 ? ui_con.log_match : dir > 0 ? ui_con.log_top - 1 : ui_con.log_top + ui_con.log_page;
    int found = (int)ui_panel_find(r.n, start, dir, row_matches, &r), total = 0, index = 0;
    for (int i = 0; i < n; i++)
        if (row_matches(&r, (size_t)i)) total++, index += found >= 0 && i <= found;
    ui_log_rows_free(&r);
    if (found < 0) {
        ui_msg(UR_WARNING, "not found in the log: %s", ui_con.log_search);
        ui_con.log_match = -1;
        return;
    }
    ui_con.log_match = found;
    ui_con.log_follow = 0;
    if (found < ui_con.log_top || found >= ui_con.log_top + ui_con.log_page)
        ui_con.log_top = found > ui_con.log_page / 2 ? found - ui_con.log_page / 2 : 0;
    ui_msg(UR_MUTED, "match %d of %d for \"%s\" (n next, N previous)", index, total, ui_con.log_search);
}

/* A key while the log search is typed: Enter finds, Esc drops it. */
void ui_log_search_key(int ch)
{
    if (ch == 27) {
        ui_con.log_search[0] = '\0';
        ui_con.log_search_editing = 0;
        ui_con.log_match = -1;
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        ui_con.log_search_editing = 0;
        ui_con.log_match = -1;
        log_find(1);
    } else {
        ui_edit_field(ui_con.log_search, sizeof ui_con.log_search, ch);
    }
    ui_con.dirty = 1;
}

/* Where saved logs go: $XDG_STATE_HOME/retirectl/logs (else ~/.local/state/retirectl/logs). */
static int log_dir(char *out, size_t size)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) snprintf(out, size, "%s/retirectl", xdg);
    else if (home && *home) snprintf(out, size, "%s/.local/state/retirectl", home);
    else return -1;
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", out);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) *slash = '\0', mkdir(parent, 0700);
    mkdir(out, 0700);
    size_t l = strlen(out);
    snprintf(out + l, size - l, "/logs");
    if (mkdir(out, 0700) != 0 && errno != EEXIST) return -1;
    return 0;
}

/* s: writes the log to $XDG_STATE_HOME/retirectl/logs/ACTION-LEARNER-TIME.log (0600). */
static void log_save(void)
{
    const ui_job *j = log_job();
    if (!j) return;
    char dir[1024], path[1400], safe[64], stamp[32];
    if (log_dir(dir, sizeof dir) != 0) {
        ui_msg(UR_FAILED, "cannot save the log: no XDG_STATE_HOME or HOME to put retirectl/logs in");
        return;
    }
    size_t k = 0;
    for (const char *p = j->learner; *p && k + 1 < sizeof safe; p++)
        safe[k++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                     *p == '-') ? *p : '_';
    safe[k] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(path, sizeof path, "%s/%s-%s-%s.log", dir, j->action, safe, stamp);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        ui_msg(UR_FAILED, "cannot save the log to %s: %s", path, strerror(errno));
        return;
    }
    for (size_t i = 0; i < j->n_log; i++) fprintf(f, "%s\n", ui_job_log_line(j, i));
    int bad = fclose(f) != 0;
    if (bad) ui_msg(UR_FAILED, "writing %s failed: %s", path, strerror(errno));
    else ui_msg(UR_DONE, "log saved (%zu lines) to %s", j->n_log, path);
}

/* Scrolls the log by delta rows; at the end going down, it follows again. */
static void log_move(long delta)
{
    long s = (long)ui_con.log_top + delta;
    if (s < 0) s = 0;
    if (s > ui_con.log_max_top) s = ui_con.log_max_top;
    ui_con.log_top = (int)s;
    ui_con.log_follow = s >= ui_con.log_max_top && delta > 0;
}

/* The log view's own keys: scrolling by rows, search, follow and save. */
static int log_key(ui_action a, long page)
{
    (void)page;
    long log_page = ui_con.log_page > 1 ? ui_con.log_page - 1 : 1, far = 1L << 40;
    switch (a) {
    case UA_UP: log_move(-1); return 1;
    case UA_DOWN: log_move(1); return 1;
    case UA_PAGE_UP: log_move(-log_page); return 1;
    case UA_PAGE_DOWN: log_move(log_page); return 1;
    case UA_HOME: log_move(-far); return 1;
    case UA_END: log_move(far), ui_con.log_follow = 1; return 1;
    case UA_SEARCH: ui_con.log_search_editing = 1, ui_con.log_search[0] = '\0'; return 1;
    case UA_NEXT_MATCH:
    case UA_PREV_MATCH: log_find(a == UA_NEXT_MATCH ? 1 : -1); return 1;
    case UA_FOLLOW:
        ui_con.log_follow = !ui_con.log_follow;
        ui_msg(UR_MUTED, ui_con.log_follow ? "following the log: new lines scroll in" : "not following the log");
        return 1;
    case UA_SAVE: log_save(); return 1;
    default: return 0;
    }
}

/* Esc, q: back to the view the log was opened from. */
static void close_log(void)
{
    ui_con.view = ui_con.log_back;
}

const ui_view_ops ui_log_view = {
    .title = "job log",
    .key_bit = UI_VIEW_LOG,
    .hint = "? help  q back  / search  n next  N previous  f follow  s save  g top  G end",
    .hint_read_only = "? help  q back  / search  n next  N previous  f follow  s save  g top  G end",
    .draw = draw_log,
    .key = log_key,
    .open = open_log,
    .close = close_log,
};
