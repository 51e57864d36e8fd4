/* The console's list widget (see panel.h). */
#include "ui/panel.h"

void ui_panel_reset(ui_panel *p)
{
    p->sel = p->top = 0;
}

void ui_panel_move(ui_panel *p, size_t n, long delta)
{
    if (!n) return;
    long s = (long)p->sel + delta;
    if (s < 0) s = 0;
    if (s >= (long)n) s = (long)n - 1;
    p->sel = (size_t)s;
}

int ui_panel_key(ui_panel *p, size_t n, ui_action a, long page)
{
    const long far = 1L << 40;
    switch (a) {
    case UA_UP: ui_panel_move(p, n, -1); return 1;
    case UA_DOWN: ui_panel_move(p, n, 1); return 1;
    case UA_PAGE_UP: ui_panel_move(p, n, -page); return 1;
    case UA_PAGE_DOWN: ui_panel_move(p, n, page); return 1;
    case UA_HOME: ui_panel_move(p, n, -far); return 1;
    case UA_END: ui_panel_move(p, n, far); return 1;
    default: return 0;
    }
}

void ui_panel_scroll(ui_panel *p, size_t n, size_t rows, size_t below)
{
    if (p->sel >= n && n) p->sel = n - 1;
    if (!rows) return;
    if (p->sel < p->top) p->top = p->sel;
    if (p->sel + below >= p->top + rows) p->top = p->sel + below - rows + 1;
    if (p->fill && p->top + rows > n) p->top = n > rows ? n - rows : 0;
}

size_t ui_panel_draw(ui_panel *p, size_t n, int y, int rows, ui_panel_row_fn fn, void *ctx)
{
    if (rows <= 0) return 0;
    ui_panel_scroll(p, n, (size_t)rows, 0);
    size_t drawn = 0;
    for (size_t r = p->top; r < n && rows > 0; r++, drawn++) {
        int used = fn(ctx, r, y, rows, r == p->sel);
        if (used < 1) used = 1;
        y += used, rows -= used;
    }
    return drawn;
}

long ui_panel_find(size_t n, long from, int dir, ui_panel_match_fn match, void *ctx)
{
    long len = (long)n, step = dir < 0 ? -1 : 1;
    for (long k = 1; k <= len; k++) {
        long r = ((from + step * k) % len + len) % len;
        if (match(ctx, (size_t)r)) return r;
    }
    return -1;
}
