/* The list view: tabs of learners by state, with the selection. */
#include "ui/console_internal.h"
#include "ui/cleanup_due.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/text.h"

/* The selected learner of the list, or NULL. */
const ui_learner *ui_selected_learner(void)
{
    if (!ui_con.have_store) return NULL;
    size_t n = ui_con.store.n_rows[ui_con.tab];
    if (!n) return NULL;
    if (ui_con.sel[ui_con.tab] >= n) ui_con.sel[ui_con.tab] = n - 1;
    return &ui_con.store.v[ui_con.store.rows[ui_con.tab][ui_con.sel[ui_con.tab]]];
}

/* Tab label of tab t in one of four forms, widest first: " 1 Ready (7) ", " 1 Ready 7 ",
 * " 1 Pend. 7 " (whole words or abbreviations with a period, never a word cut short), " 1:7 ". */
static void tab_label(int t, int form, char *label, size_t size)
{
    static const char *const shortname[UI_TAB_COUNT] = {"Ready", "Pend.", "Fail.", "Stuck", "Compl."};
    size_t count = ui_con.have_store ? ui_con.store.n_rows[t] : 0, total = ui_con.have_store ? ui_con.store.total[t] : 0;
    int filtered = ui_con.filter[0] && count != total;
    const char *title = form >= 2 ? shortname[t] : ui_tab_title(t);
    if (!ui_con.have_store || ui_con.store_partial) { /* still loading: a count would mislead */
        if (form == 0) snprintf(label, size, " %d %s (…) ", t + 1, title);
        else if (form < 3) snprintf(label, size, " %d %s … ", t + 1, title);
        else snprintf(label, size, " %d:… ", t + 1);
        return;
    }
    if (form == 0 && filtered) snprintf(label, size, " %d %s %zu/%zu ", t + 1, title, count, total);
    else if (form == 0) snprintf(label, size, " %d %s (%zu) ", t + 1, title, total);
    else if (form < 3) snprintf(label, size, " %d %s %zu ", t + 1, title, filtered ? count : total);
    else snprintf(label, size, " %d:%zu ", t + 1, filtered ? count : total);
}

void ui_draw_tabs(const ui_screen_layout *L)
{
    ui_fill_row(L->tabs_row, UR_TAB);
    char label[64];
    int form = 0;
    for (; form < 3; form++) {
        int need = 0;
        for (int t = 0; t < UI_TAB_COUNT; t++) {
            tab_label(t, form, label, sizeof label);
            need += ui_text_width(label) + (t ? 1 : 0);
        }
        if (need <= COLS) break;
    }
    int x = 0;
    for (int t = 0; t < UI_TAB_COUNT && x < COLS; t++) {
        size_t total = ui_con.have_store ? ui_con.store.total[t] : 0;
        tab_label(t, form, label, sizeof label);
        int w = ui_text_width(label);
        ui_put(L->tabs_row, x, w, t == (int)ui_con.tab ? UR_TAB_ACTIVE : (t == UI_TAB_FAILED && total ? UR_FAILED : UR_TAB),
            label, 0);
        x += w + 1;
    }
}

/* Width of the state column: the longest state the console lists (the pipeline's, console.states
 * and the dead ends), at least 5; from the configuration, so it does not jump when a refresh
 * brings a state no learner was in before. */
static int max_state_width(void)
{
    int w = 5;
    for (size_t i = 0; i < ui_con.n_queue_states; i++) {
        int sw = ui_text_width(ui_con.queue_states[i]);
        if (sw > w) w = sw;
    }
    return w;
}

/* Display width of the widest (sanitized) username in the rows about to be drawn. */
static int widest_shown_name(const ui_screen_layout *L)
{
    if (!ui_con.have_store) return 0;
    size_t n = ui_con.store.n_rows[ui_con.tab], top = ui_con.top[ui_con.tab], sel = ui_con.sel[ui_con.tab];
    size_t rows = (size_t)L->list_rows;
    if (sel < top) top = sel;
    if (sel >= top + rows) top = sel - rows + 1;
    if (top + rows > n) top = n > rows ? n - rows : 0;
    int w = 0;
    for (size_t r = 0; r < rows && top + r < n; r++) {
        const ui_learner *l = &ui_con.store.v[ui_con.store.rows[ui_con.tab][top + r]];
        char *clean = ui_text_sanitize(ui_store_name(&ui_con.store, l), (size_t)-1);
        int cw = ui_text_width(clean);
        free(clean);
        if (cw > w) w = cw;
    }
    return w;
}

/* Colour role of a learner's state in the list, by its tab. */
static ui_role state_role(const char *state, ui_tab tab)
{
    if (tab == UI_TAB_FAILED) return UR_FAILED;
    if (tab == UI_TAB_STUCK) return UR_RETRYING;
    if (tab == UI_TAB_COMPLETE) return strcmp(state, "ABORTED") == 0 ? UR_MUTED : UR_DONE;
    if (tab == UI_TAB_PENDING) return UR_PENDING;
    return UR_QUEUED;
}

void ui_draw_list(const ui_screen_layout *L)
{
    ui_column cols[UI_COL_COUNT];
    int nc = ui_layout_columns_fit(COLS, max_state_width(), widest_shown_name(L), cols);
    ui_fill_row(L->header_row, UR_HEADER);
    const char *sorted = ui_sort_column(ui_con.sort);
    for (int c = 0; c < nc; c++) {
        char t[64];
        snprintf(t, sizeof t, "%s%s", cols[c].title,
                 sorted && !strcmp(sorted, cols[c].title) ? (ui_con.sort_desc ? " v" : " ^") : "");
        ui_put(L->header_row, cols[c].x, cols[c].width, UR_HEADER, t, 1);
    }
    size_t n = ui_con.have_store ? ui_con.store.n_rows[ui_con.tab] : 0;
    if (!ui_con.have_store || n == 0) {
        const char *t = !ui_con.have_store || ui_con.store_partial
                            ? (ui_con.fetch_error[0] ? ui_con.fetch_error : "loading learners...")
                        : ui_con.filter[0] ? "no learner matches the filter" : "no learners in this tab";
        ui_put(L->list_top + 1, 2, COLS - 4, ui_con.fetch_error[0] && !ui_con.have_store ? UR_FAILED : UR_MUTED, t, 0);
        return;
    }
    size_t *sel = &ui_con.sel[ui_con.tab], *top = &ui_con.top[ui_con.tab];
    if (*sel >= n) *sel = n - 1;
    size_t rows = (size_t)L->list_rows;
    if (*sel < *top) *top = *sel;
    if (*sel >= *top + rows) *top = *sel - rows + 1;
    if (*top + rows > n) *top = n > rows ? n - rows : 0;
    time_t now = time(NULL);
    for (size_t r = 0; r < rows && *top + r < n; r++) {
        const ui_learner *l = &ui_con.store.v[ui_con.store.rows[ui_con.tab][*top + r]];
        int y = L->list_top + (int)r;
        int is_sel = *top + r == *sel;
        const char *name = ui_store_name(&ui_con.store, l), *state = ui_store_state(&ui_con.store, l->state);
        ui_job *j = ui_learner_job(name, 1);
        int away = !j && ((l->tab == UI_TAB_STUCK &&
                           ui_elsewhere_fresh(ui_pipe_step_of_start(&ui_con.pipe, state) >= 0, l->modified,
                                              ui_con.step_timeout_s, now)) ||
                          ui_learner_leased(name)); /* visible rows only: a flock try each */
        int queued = 0; /* "+": waiting for a worker (the jobs view, J, shows its position) */
        for (size_t q = 0; !j && q < ui_con.n_queue && !queued; q++) queued = !strcmp(ui_con.queue[q].learner, name);
        if (is_sel) ui_fill_row(y, UR_SELECTION);
        for (int c = 0; c < nc; c++) {
            char buf[64];
            const char *text = buf;
            ui_role role = is_sel ? UR_SELECTION : UR_NORMAL;
            switch (cols[c].id) {
            case UI_COL_MARK: {
                /* "~": running elsewhere (its lease held by another process, or a working state
                 * changed within step_timeout_seconds);
                 * "c": due for `retirectl cleanup` (Complete tab; the status bar has the count) */
                int due = !l->marked && !j && !queued && !away && ui_con.tab == UI_TAB_COMPLETE &&
                          ui_cleanup_due(&ui_con.store, l, ui_con.cleanup_cool_off_days, now);
                text = l->marked ? "* " : j ? "> " : queued ? "+ " : away ? "~ " : due ? "c " : "  ";
                if (!is_sel && l->marked) role = UR_MARKED;
                else if (!is_sel && (j || away)) role = UR_RUNNING;
                else if (!is_sel && queued) role = UR_QUEUED;
                else if (!is_sel && due) role = UR_MUTED;
                break;
            }
            case UI_COL_USERNAME:
                text = name;
                break;
            case UI_COL_STATE:
                text = state;
                if (!is_sel) role = state_role(state, (ui_tab)l->tab);
                break;
            case UI_COL_STEP: {
                int a, b;
                ui_pipe_position(&ui_con.pipe, state, ui_store_state(&ui_con.store, l->last_state), &a, &b);
                snprintf(buf, sizeof buf, "%d/%d", a, b);
                break;
            }
            case UI_COL_AGE:
                if (l->created) ui_format_age(now - l->created, buf, sizeof buf);
                else snprintf(buf, sizeof buf, "-");
                break;
            case UI_COL_CHANGED: {
                char a[16];
                if (l->modified) ui_format_age(now - l->modified, a, sizeof a), snprintf(buf, sizeof buf, "%s ago", a);
                else snprintf(buf, sizeof buf, "-");
                break;
            }
            default:
                buf[0] = '\0';
            }
            ui_put(y, cols[c].x, cols[c].width, role, text, 1);
        }
    }
    ui_draw_history_column(L, cols, nc, *top, rows);
}

void ui_list_next_match(int dir)
{
    if (!ui_con.have_store) return;
    if (!ui_con.filter[0]) {
        ui_msg(UR_WARNING, "no filter: / then the text to match, then n and N move between matches");
        return;
    }
    int t = ui_con.tab;
    long s = (long)ui_con.sel[t] + dir;
    for (int k = 0; k <= UI_TAB_COUNT; k++) {
        if (s >= 0 && s < (long)ui_con.store.n_rows[t]) {
            ui_con.tab = (ui_tab)t;
            ui_con.sel[t] = (size_t)s;
            size_t before = 0, all = 0;
            for (int u = 0; u < UI_TAB_COUNT; u++) {
                if (u < t) before += ui_con.store.n_rows[u];
                all += ui_con.store.n_rows[u];
            }
            ui_msg(UR_MUTED, "match %zu of %zu for \"%s\" (tab %s)", before + (size_t)s + 1, all, ui_con.filter,
                   ui_tab_title((ui_tab)t));
            return;
        }
        t = (t + (dir > 0 ? 1 : UI_TAB_COUNT - 1)) % UI_TAB_COUNT; /* on to the next tab with matches */
        s = dir > 0 ? 0 : (long)ui_con.store.n_rows[t] - 1;
    }
    ui_msg(UR_WARNING, "no learner matches \"%s\"", ui_con.filter);
}

void ui_list_sort(int reverse)
{
    if (reverse) ui_con.sort_desc = !ui_con.sort_desc;
    else ui_con.sort = (ui_sort)((ui_con.sort + 1) % UI_SORT_COUNT), ui_con.sort_desc = 0;
    if (ui_con.have_store) ui_store_sort(&ui_con.store, ui_con.sort, ui_con.sort_desc, ui_con.filter);
    const char *col = ui_sort_column(ui_con.sort);
    ui_msg(UR_MUTED, "sorted by %s%s (o: next column, O: reverse)", col ? col : "retirement id",
           ui_con.sort_desc ? ", reversed" : "");
}
