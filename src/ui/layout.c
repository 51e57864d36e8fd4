/* Screen arithmetic for the console (see layout.h). */
#include "ui/layout.h"

ui_screen_layout ui_layout_screen(int rows, int cols)
{
    ui_screen_layout l = {0, 0, 1, 2, 1, 0, 0};
    if (rows < UI_MIN_ROWS || cols < UI_MIN_COLS) {
        l.too_small = 1;
        l.status_row = rows > 0 ? rows - 1 : 0;
        l.message_row = l.status_row;
        return l;
    }
    l.status_row = rows - 1;
    l.message_row = rows - 2;
    l.list_top = 2;
    l.list_rows = rows - 4;
    return l;
}

int ui_layout_columns(int width, int state_width, ui_column *cols)
{
    return ui_layout_columns_fit(width, state_width, UI_USER_MAX, cols);
}

int ui_layout_columns_fit(int width, int state_width, int user_width, ui_column *cols)
{
    /* the floor keeps columns still across refreshes; a narrow terminal gets a lower one (a
     * quarter of the width) so columns right of the name, such as REASON, keep their room */
    int floor_width = width / 4 < UI_USER_MAX ? width / 4 : UI_USER_MAX;
    if (user_width < floor_width) user_width = floor_width;
    if (user_width > UI_USER_CAP) user_width = UI_USER_CAP;
    static const char *const titles[UI_COL_COUNT] = {"", "USERNAME", "STATE", "STEP", "AGE", "CHANGED"};
    if (state_width < 5) state_width = 5;
    if (state_width > UI_STATE_MAX) state_width = UI_STATE_MAX;
    int w[UI_COL_COUNT] = {2, 0, state_width, 5, 4, 7};
    int on[UI_COL_COUNT] = {1, 1, 1, 1, 1, 1};
    const int min_user = 8;
    /* total = mark + user + sum(other + 1 separator) */
    for (;;) {
        int used = w[UI_COL_MARK];
        for (int c = UI_COL_STATE; c < UI_COL_COUNT; c++)
            if (on[c]) used += w[c] + 1;
        if (width - used >= min_user) break;
        if (w[UI_COL_STATE] > 22) w[UI_COL_STATE]--;   /* a long custom state gives way first */
        else if (on[UI_COL_AGE]) on[UI_COL_AGE] = 0;
        else if (on[UI_COL_CHANGED]) on[UI_COL_CHANGED] = 0;
        else if (on[UI_COL_STEP]) on[UI_COL_STEP] = 0;
        else if (w[UI_COL_STATE] > 6) w[UI_COL_STATE]--;
        else if (on[UI_COL_STATE]) on[UI_COL_STATE] = 0;
        else break;
    }
    int used = w[UI_COL_MARK];
    for (int c = UI_COL_STATE; c < UI_COL_COUNT; c++)
        if (on[c]) used += w[c] + 1;
    w[UI_COL_USERNAME] = width - used;
    if (w[UI_COL_USERNAME] < 1) w[UI_COL_USERNAME] = width - w[UI_COL_MARK] > 0 ? width - w[UI_COL_MARK] : 0;
    /* a wide terminal: the username stops at user_width cells so state, step and age sit next to
     * it instead of across the screen; the rest of the row stays empty */
    if (w[UI_COL_USERNAME] > user_width) w[UI_COL_USERNAME] = user_width;
    int n = 0, x = 0;
    for (int c = 0; c < UI_COL_COUNT; c++) {
        if (!on[c]) continue;
        if (x + w[c] > width) w[c] = width - x;
        if (w[c] <= 0) break;
        cols[n].id = (ui_col_id)c;
        cols[n].x = x;
        cols[n].width = w[c];
        cols[n].title = titles[c];
        n++;
        x += w[c] + (c == UI_COL_MARK ? 0 : 1);
    }
    return n;
}

ui_detail_layout ui_layout_detail(int rows, int cols, int n_steps, int n_fields)
{
    /* the screen layout's list area is the canvas: rows/cols are that area */
    ui_detail_layout d = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    d.header_rows = rows >= 8 ? 2 : 1;
    int avail = rows - d.header_rows;
    if (avail < 1) avail = 1;
    int want_pipe = n_steps + 1; /* title + steps */
    int beside = cols >= 100 && n_fields > 0;
    d.pipe_top = d.header_rows;
    if (beside) {
        /* wide terminals: retired usernames/emails are long; the pipeline needs about 100 cells */
        d.fields_width = cols >= 160 ? cols * 2 / 5 : cols / 3 < 48 ? cols / 3 : 48;
        if (d.fields_width > 80) d.fields_width = 80;
        d.fields_x = cols - d.fields_width;
        d.pipe_rows = want_pipe < avail * 2 / 3 ? want_pipe : avail * 2 / 3;
        if (d.pipe_rows < 1) d.pipe_rows = 1;
        d.fields_top = d.header_rows;
        d.fields_rows = avail;
        d.log_top = d.pipe_top + d.pipe_rows;
        d.log_rows = avail - d.pipe_rows;
    } else {
        d.pipe_rows = want_pipe < (avail + 1) / 2 ? want_pipe : (avail + 1) / 2;
        if (d.pipe_rows < 1) d.pipe_rows = 1;
        int rest = avail - d.pipe_rows;
        d.fields_top = d.pipe_top + d.pipe_rows;
        d.fields_rows = n_fields > 0 ? (rest / 3 < n_fields + 1 ? rest / 3 : n_fields + 1) : 0;
        d.log_top = d.fields_top + d.fields_rows;
        d.log_rows = rest - d.fields_rows;
    }
    if (d.log_rows < 0) d.log_rows = 0;
    return d;
}
