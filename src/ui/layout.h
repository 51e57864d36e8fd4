/* ui layout (prefix ui_layout_): where things go for a given terminal size. Pure arithmetic,
 * unit-tested at odd sizes; the console re-runs it on every resize. */
#ifndef RETIRECTL_UI_LAYOUT_H
#define RETIRECTL_UI_LAYOUT_H

typedef enum ui_col_id { UI_COL_MARK = 0, UI_COL_USERNAME, UI_COL_STATE, UI_COL_STEP, UI_COL_AGE, UI_COL_CHANGED, UI_COL_COUNT } ui_col_id;

typedef struct ui_column {
    ui_col_id id;
    int x, width;      /* cells */
    const char *title;
} ui_column;

/* The minimum terminal the console draws in; below it shows "terminal too small". */
#define UI_MIN_COLS 20
#define UI_MIN_ROWS 6

typedef struct ui_screen_layout {
    int too_small;     /* 1: only a notice fits */
    int tabs_row;      /* tab bar */
    int header_row;    /* column titles */
    int list_top;      /* first list row */
    int list_rows;     /* list height (>= 1) */
    int message_row;   /* filter prompt / messages / key hints */
    int status_row;    /* status bar (last row) */
} ui_screen_layout;

ui_screen_layout ui_layout_screen(int rows, int cols);

/* Widest the username column gets (Open edX usernames are at most 30 characters), and the widest
 * state column (longer custom state names are cut with an ellipsis). */
#define UI_USER_MAX 36
/* Widest the username column ever gets, however wide a name on screen is: a very long name is
 * cut with an ellipsis rather than pushing the state across the screen. */
#define UI_USER_CAP 48
#define UI_STATE_MAX 40

/* Lays out list columns in width cells; state_width is the widest state name in the list.
 * A state wider than 22 cells narrows first, then columns are dropped in the order age, last
 * change, step when they do not fit; the username keeps at least 8 cells and takes what is left
 * up to UI_USER_MAX (on a wide terminal the row ends short of the edge). Returns the number of columns (in order, with
 * one space between them), never wider than width. */
int ui_layout_columns(int width, int state_width, ui_column *cols);

/* ui_layout_columns with the username column allowed up to user_width cells (at least
 * UI_USER_MAX): the console passes the widest name on screen so a long one is not cut while the
 * terminal has room. */
int ui_layout_columns_fit(int width, int state_width, int user_width, ui_column *cols);

/* Detail view split: rows for the pipeline (at most n_steps + 1), the record fields column
 * (0 when it goes below), and the log. */
typedef struct ui_detail_layout {
    int header_rows;   /* learner header */
    int pipe_top, pipe_rows;
    int fields_x, fields_width;  /* side column for record fields; width 0 = not shown beside */
    int fields_top, fields_rows; /* when not beside: rows below the pipeline */
    int log_top, log_rows;
} ui_detail_layout;

ui_detail_layout ui_layout_detail(int rows, int cols, int n_steps, int n_fields);

#endif
