/* The list view: tabs of learners by state, each tab a panel (panel.h) with its selection; the
 * / filter, n and N between matches, o and O sorting, marking. Its entry of the view table is
 * ui_list_view. */
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
    ui_panel *p = &ui_con.list[ui_con.tab];
    if (p->sel >= n) p->sel = n - 1;
    return &ui_con.store.v[ui_con.store.rows[ui_con.tab][p->sel]];
}

const char *ui_list_selected_name(void)
{
    const ui_learner *l = ui_selected_learner();
    return l ? ui_store_name(&ui_con.store, l) : NULL;
}

/* The rows of the shown tab. */
static size_t tab_rows(void)
{
    return ui_con.have_store ? ui_con.store.n_rows[ui_con.tab] : 0;
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

/* The tabs row: each tab's label in the widest form that fits. */
static void draw_tabs(const ui_screen_layout *L)
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
    size_t n = ui_con.store.n_rows[ui_con.tab], rows = (size_t)L->list_rows;
    ui_panel shown = ui_con.list[ui_con.tab]; /* where the draw will scroll to */
    ui_panel_scroll(&shown, n, rows, 0);
    size_t top = shown.top;
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

/* What every row of one drawing of the list shares. */
typedef struct list_row_ctx {
    const ui_column *cols;
    int nc;
    time_t now;
} list_row_ctx;

/* The mark column of learner l: "*" marked, ">" its job runs here, "+" queued here, "~" running
 * elsewhere, "c" due for cleanup; and its colour (when not selected). */
static const char *mark_of(const ui_learner *l, int job, int queued, int away, time_t now, ui_role *role)
{
    /* "~": running elsewhere (its lease held by another process, or a working state changed
     * within step_timeout_seconds); "c": due for `retirectl cleanup` (Complete tab; the status bar
     * has the count) */
    int due = !l->marked && !job && !queued && !away && ui_con.tab == UI_TAB_COMPLETE &&
              ui_cleanup_due(&ui_con.store, l, ui_con.cleanup_cool_off_days, now);
    if (l->marked) *role = UR_MARKED;
    else if (job || away) *role = UR_RUNNING;
    else if (queued) *role = UR_QUEUED;
    else if (due) *role = UR_MUTED;
    return l->marked ? "* " : job ? "> " : queued ? "+ " : away ? "~ " : due ? "c " : "  ";
}

/* Paints list row r (of the shown tab) at y (a panel row callback; ctx: list_row_ctx). */
static int learner_row(void *vctx, size_t r, int y, int left, int is_sel)
{
    const list_row_ctx *ctx = vctx;
    const ui_column *cols = ctx->cols;
    time_t now = ctx->now;
    (void)left;
    const ui_learner *l = &ui_con.store.v[ui_con.store.rows[ui_con.tab][r]];
    const char *name = ui_store_name(&ui_con.store, l), *state = ui_store_state(&ui_con.store, l->state);
    ui_job *j = ui_learner_job(name, 1);
    int away = !j && ((l->tab == UI_TAB_STUCK &&
                       ui_elsewhere_fresh(ui_pipe_step_of_start(&ui_con.pipe, state) >= 0, l->modified,
                                          ui_con.step_timeout_s, now)) ||
                      ui_learner_leased(name)); /* visible rows only: a flock try each */
    int queued = 0; /* "+": waiting for a worker (the jobs view, J, shows its position) */
    for (size_t q = 0; !j && q < ui_con.n_queue && !queued; q++) queued = !strcmp(ui_con.queue[q].learner, name);
    if (is_sel) ui_fill_row(y, UR_SELECTION);
    for (int c = 0; c < ctx->nc; c++) {
        char buf[64];
        const char *text = buf;
        ui_role role = UR_NORMAL, own = UR_NORMAL;
        switch (cols[c].id) {
        case UI_COL_MARK:
            text = mark_of(l, j != NULL, queued, away, now, &own);
            break;
        case UI_COL_USERNAME:
            text = name;
            break;
        case UI_COL_STATE:
            text = state;
            own = state_role(state, (ui_tab)l->tab);
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
        role = is_sel ? UR_SELECTION : own;
        ui_put(y, cols[c].x, cols[c].width, role, text, 1);
    }
    return 1;
}

/* The list view's columns under their headings, or why there are no rows. */
static void draw_list(const ui_screen_layout *L)
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
    list_row_ctx ctx = {cols, nc, time(NULL)};
    ui_panel *p = &ui_con.list[ui_con.tab];
    size_t shown = ui_panel_draw(p, n, L->list_top, L->list_rows, learner_row, &ctx);
    ui_draw_history_column(L, cols, nc, p->top, shown);
}

/* n / N: the next (dir 1) or previous (-1) learner matching the filter, across tabs. */
static void next_match(int dir)
{
    if (!ui_con.have_store) return;
    if (!ui_con.filter[0]) {
        ui_msg(UR_WARNING, "no filter: / then the text to match, then n and N move between matches");
        return;
    }
    int t = ui_con.tab;
    long s = (long)ui_con.list[t].sel + dir;
    for (int k = 0; k <= UI_TAB_COUNT; k++) {
        if (s >= 0 && s < (long)ui_con.store.n_rows[t]) {
            ui_con.tab = (ui_tab)t;
            ui_con.list[t].sel = (size_t)s;
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

/* o / O: the next sort column, or the other direction. */
static void sort_list(int reverse)
{
    if (reverse) ui_con.sort_desc = !ui_con.sort_desc;
    else ui_con.sort = (ui_sort)((ui_con.sort + 1) % UI_SORT_COUNT), ui_con.sort_desc = 0;
    if (ui_con.have_store) ui_store_sort(&ui_con.store, ui_con.sort, ui_con.sort_desc, ui_con.filter);
    const char *col = ui_sort_column(ui_con.sort);
    ui_msg(UR_MUTED, "sorted by %s%s (o: next column, O: reverse)", col ? col : "retirement id",
           ui_con.sort_desc ? ", reversed" : "");
}

/* Applies ui_con.filter to the list; every tab's selection goes back to the top. */
static void apply_filter(void)
{
    if (!ui_con.have_store) return;
    ui_store_filter(&ui_con.store, ui_con.filter);
    for (int t = 0; t < UI_TAB_COUNT; t++) ui_panel_reset(&ui_con.list[t]);
}

void ui_list_filter_key(int ch)
{
    if (ch == 27) {
        ui_con.filter[0] = '\0';
        ui_con.filter_editing = 0;
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        ui_con.filter_editing = 0;
        return;
    } else if (ch == KEY_UP || ch == KEY_DOWN) {
        ui_panel_move(&ui_con.list[ui_con.tab], tab_rows(), ch == KEY_UP ? -1 : 1);
        return;
    } else if (!ui_edit_field(ui_con.filter, sizeof ui_con.filter, ch)) {
        return;
    }
    apply_filter();
}

/* Space: marks or unmarks the selected learner and moves down. */
static void mark_selected(void)
{
    const ui_learner *l = ui_selected_learner();
    if (!l) return;
    ui_learner *m = &ui_con.store.v[l - ui_con.store.v];
    m->marked = !m->marked;
    ui_panel_move(&ui_con.list[ui_con.tab], tab_rows(), 1);
}

/* *: marks every learner of the tab, or unmarks all when some are marked. */
static void mark_all(void)
{
    if (!ui_con.have_store) return;
    if (ui_store_marked(&ui_con.store)) {
        for (size_t i = 0; i < ui_con.store.n; i++) ui_con.store.v[i].marked = 0;
    } else {
        for (size_t i = 0; i < ui_con.store.n_rows[ui_con.tab]; i++) ui_con.store.v[ui_con.store.rows[ui_con.tab][i]].marked = 1;
    }
    ui_msg(UR_MARKED, "%zu learners marked", ui_store_marked(&ui_con.store));
}

/* The list's own keys: tabs, filter, matches, sort, marks, Enter, and Esc clearing the filter. */
static int list_key(ui_action a, long page)
{
    (void)page;
    switch (a) {
    case UA_BACK:
        if (ui_con.filter[0]) ui_con.filter[0] = '\0', apply_filter();
        return 1;
    case UA_NEXT_MATCH:
    case UA_PREV_MATCH: next_match(a == UA_NEXT_MATCH ? 1 : -1); return 1;
    case UA_SORT: sort_list(ui_con.last_key == 'O'); return 1;
    case UA_NEXT_TAB: ui_con.tab = (ui_tab)((ui_con.tab + 1) % UI_TAB_COUNT); return 1;
    case UA_PREV_TAB: ui_con.tab = (ui_tab)((ui_con.tab + UI_TAB_COUNT - 1) % UI_TAB_COUNT); return 1;
    case UA_TAB1: case UA_TAB2: case UA_TAB3: case UA_TAB4: case UA_TAB5:
        ui_con.tab = (ui_tab)(a - UA_TAB1);
        return 1;
    case UA_FILTER: ui_con.filter_editing = 1; return 1;
    case UA_OPEN: {
        const char *n = ui_list_selected_name();
        if (n) ui_open_detail(n);
        return 1;
    }
    case UA_MARK: mark_selected(); return 1;
    case UA_MARK_ALL: mark_all(); return 1;
    default: return 0;
    }
}

/* The shown tab's panel. */
static ui_panel *list_panel(size_t *n)
{
    *n = tab_rows();
    return &ui_con.list[ui_con.tab];
}

/* The tabs row, then the shown tab's learners. */
static void draw_list_view(const ui_screen_layout *L)
{
    draw_tabs(L);
    draw_list(L);
}

size_t ui_marked_bulk(void)
{
    return ui_view()->acts_on_marks && ui_con.have_store ? ui_store_marked(&ui_con.store) : 0;
}

const ui_view_ops ui_list_view = {
    .title = NULL,
    .key_bit = UI_VIEW_LIST,
    .hint = "? help  Enter open  r retire  u resume  p dry-run  Space mark  S reset  / filter  : command  J jobs  q quit",
    .hint_read_only = "? help  Enter open  / filter  p dry-run  d drivers  q quit",
    .draw = draw_list_view,
    .key = list_key,
    .panel = list_panel,
    .selected = ui_list_selected_name,
    .acts_on_marks = 1,
    .pipeline_banner = 1,
};
