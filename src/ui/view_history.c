/* The history's column of the list view: REASON on the Failed tab (the current failure from the
 * retirement history, e.g. "403 forum: permission denied") and JOB on the Stuck tab ("running on
 * HOST, pid N, for 2m" apart from "stuck: the job of HOST, pid N is gone"). See history_notes.h.
 * On the Stuck tab a learner whose lease (src/engine/lease.h) is held on this host is running,
 * named by the lease's holder; otherwise the history's open job row and its pid check decide. */
#include "ui/console_internal.h"

#include <stdio.h>
#include <time.h>

/* Where the column goes: right of the last column, or over AGE/CHANGED when too narrow. */
static int column_x(const ui_column *cols, int nc)
{
    int x = cols[nc - 1].x + cols[nc - 1].width + 1;
    if (COLS - x >= 16) return x;
    for (int c = 0; c < nc; c++)
        if (cols[c].id == UI_COL_AGE || cols[c].id == UI_COL_CHANGED) return cols[c].x;
    return x;
}

void ui_draw_history_column(const ui_screen_layout *L, const ui_column *cols, int nc, size_t top, size_t rows)
{
    ui_tab tab = ui_con.tab;
    if ((tab != UI_TAB_FAILED && tab != UI_TAB_STUCK) || !ui_con.have_store || nc < 1) return;
    int x = column_x(cols, nc), w = COLS - x;
    if (w < 6) return;
    ui_put(L->header_row, x, w, UR_HEADER, tab == UI_TAB_FAILED ? "REASON" : "JOB", 1);
    const char *kinds = tab == UI_TAB_FAILED ? "F" : "RS";
    size_t n = ui_con.store.n_rows[tab];
    time_t now = time(NULL);
    for (size_t r = 0; r < rows && top + r < n; r++) {
        const ui_learner *l = &ui_con.store.v[ui_con.store.rows[tab][top + r]];
        const ui_hist_note *note = ui_hist_note_of(&ui_con.store.notes, l->user_id, kinds);
        ui_elsewhere held;
        char where[400];
        ui_hist_note lease_note;
        if (tab == UI_TAB_STUCK && ui_learner_lease_holder(ui_store_name(&ui_con.store, l), &held)) {
            snprintf(where, sizeof where, "%s, pid %ld%s", held.host, held.pid,
                     held.ended ? " (ended; its worker finishes the step)" : "");
            lease_note = (ui_hist_note){l->user_id, 'R', held.since, where};
            note = &lease_note;
        }
        char buf[700];
        const char *text = note ? ui_hist_note_text(note, now, buf, sizeof buf) : "";
        int is_sel = top + r == ui_con.list[tab].sel;
        ui_role role = is_sel ? UR_SELECTION : !note ? UR_NORMAL : note->kind == 'R' ? UR_RUNNING : UR_FAILED;
        ui_put(L->list_top + (int)r, x, w, role, text, 1);
    }
}

const char *ui_history_failure_note(const char *name)
{
    static char buf[700];
    const ui_learner *l = name && ui_con.have_store ? ui_store_find(&ui_con.store, name) : NULL;
    const ui_hist_note *n = l ? ui_hist_note_of(&ui_con.store.notes, l->user_id, "F") : NULL;
    if (!n) return NULL;
    snprintf(buf, sizeof buf, "%s (history; resume with u)", n->text);
    return buf;
}
