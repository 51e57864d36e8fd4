/* ui panel (prefix ui_panel_): the one scrolling list widget of the console, as htop's Panel.
 * A panel is a selection and a first shown row over n rows that the view owns: keys move the
 * selection (up, down, page, first, last), drawing keeps it on screen and paints each shown row
 * through the view's callback, and a filter hook finds the next row that matches. It holds no
 * rows and knows no curses or console state, so it is unit-tested (tests/unit/test_ui_panel.c).
 * Every scrolling list of the console is one: the learner list (one per tab), the pipeline steps
 * of the detail view, the jobs and messages views, the drivers view and the reset picker. */
#ifndef RETIRECTL_UI_PANEL_H
#define RETIRECTL_UI_PANEL_H

#include <stddef.h>

#include "ui/keys.h"

typedef struct ui_panel {
    size_t sel;              /* the selected row */
    size_t top;              /* the first row shown */
    int fill;                /* 1: no blank rows at the bottom while rows above are hidden */
} ui_panel;

/* Paints row r (of all n) at screen row y with `left` screen rows free from y on; sel: r is the
 * selection. Returns the screen rows it used (1, or more for a row with an expansion). */
typedef int (*ui_panel_row_fn)(void *ctx, size_t r, int y, int left, int sel);
/* The filter hook: whether row r matches. */
typedef int (*ui_panel_match_fn)(void *ctx, size_t r);

/* Back to the first row. */
void ui_panel_reset(ui_panel *p);
/* Moves the selection by delta rows, clamped to the n rows (no-op when n is 0). */
void ui_panel_move(ui_panel *p, size_t n, long delta);
/* The moving keys of the key table (UA_UP, UA_DOWN, UA_PAGE_UP, UA_PAGE_DOWN, UA_HOME, UA_END),
 * page rows at a time. Returns 1 when a was one of them (and moved), 0 otherwise. */
int ui_panel_key(ui_panel *p, size_t n, ui_action a, long page);
/* Clamps the selection to the n rows and scrolls so that it, and `below` rows under it (an
 * expanded row), are within the `rows` shown. */
void ui_panel_scroll(ui_panel *p, size_t n, size_t rows, size_t below);
/* Scrolls (ui_panel_scroll, nothing below) and paints the shown rows from screen row y through
 * fn, at most `rows` screen rows. Returns the number of list rows painted. */
size_t ui_panel_draw(ui_panel *p, size_t n, int y, int rows, ui_panel_row_fn fn, void *ctx);
/* The filter hook: the first row after `from` (before it when dir < 0) that match accepts,
 * going round past the end; from may be -1 or n. Returns the row, or -1 when none matches. */
long ui_panel_find(size_t n, long from, int dir, ui_panel_match_fn match, void *ctx);

#endif
