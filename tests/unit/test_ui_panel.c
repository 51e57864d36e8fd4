/* The console's list widget (src/ui/panel.h): moving keys, scrolling, drawing through the row
 * callback, and the filter hook. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "ui/panel.h"

static void test_move_clamps(void **state)
{
    (void)state;
    ui_panel p = {0};
    ui_panel_move(&p, 5, -1);
    assert_int_equal(p.sel, 0);
    ui_panel_move(&p, 5, 3);
    assert_int_equal(p.sel, 3);
    ui_panel_move(&p, 5, 3);
    assert_int_equal(p.sel, 4);             /* the last row, not past it */
    ui_panel_move(&p, 0, 1);
    assert_int_equal(p.sel, 4);             /* no rows: nothing moves */
    ui_panel_reset(&p);
    assert_int_equal(p.sel, 0);
    assert_int_equal(p.top, 0);
}

static void test_keys(void **state)
{
    (void)state;
    ui_panel p = {0};
    assert_int_equal(ui_panel_key(&p, 100, UA_DOWN, 10), 1);
    assert_int_equal(p.sel, 1);
    assert_int_equal(ui_panel_key(&p, 100, UA_PAGE_DOWN, 10), 1);
    assert_int_equal(p.sel, 11);
    assert_int_equal(ui_panel_key(&p, 100, UA_PAGE_UP, 10), 1);
    assert_int_equal(p.sel, 1);
    assert_int_equal(ui_panel_key(&p, 100, UA_END, 10), 1);
    assert_int_equal(p.sel, 99);
    assert_int_equal(ui_panel_key(&p, 100, UA_UP, 10), 1);
    assert_int_equal(p.sel, 98);
    assert_int_equal(ui_panel_key(&p, 100, UA_HOME, 10), 1);
    assert_int_equal(p.sel, 0);
    assert_int_equal(ui_panel_key(&p, 100, UA_OPEN, 10), 0); /* not a moving key: left to the view */
    assert_int_equal(p.sel, 0);
}

static void test_scroll_keeps_selection_shown(void **state)
{
    (void)state;
    ui_panel p = {0};
    p.sel = 25;
    ui_panel_scroll(&p, 30, 10, 0);
    assert_int_equal(p.top, 16);            /* the selection on the last row shown */
    p.sel = 20;
    ui_panel_scroll(&p, 30, 10, 0);
    assert_int_equal(p.top, 16);            /* still shown: no scroll */
    p.sel = 3;
    ui_panel_scroll(&p, 30, 10, 0);
    assert_int_equal(p.top, 3);             /* the selection on the first row shown */
    p.sel = 40;
    ui_panel_scroll(&p, 30, 10, 0);
    assert_int_equal(p.sel, 29);            /* the rows went: clamped to the last */
    assert_int_equal(p.top, 20);
}

static void test_scroll_fill_and_below(void **state)
{
    (void)state;
    ui_panel p = {.sel = 28, .top = 25, .fill = 0};
    ui_panel_scroll(&p, 30, 10, 0);
    assert_int_equal(p.top, 25);            /* blank rows at the bottom are allowed */
    p.fill = 1;
    ui_panel_scroll(&p, 30, 10, 0);
    assert_int_equal(p.top, 20);            /* filled: the last screenful */
    ui_panel q = {.sel = 5, .top = 0};
    ui_panel_scroll(&q, 30, 10, 6);         /* the selected row has 6 rows under it (an expansion) */
    assert_int_equal(q.top, 2);
    ui_panel_scroll(&q, 30, 0, 0);          /* no room: left alone */
    assert_int_equal(q.top, 2);
}

typedef struct painted {
    size_t rows[64];
    int ys[64], sel[64], n;
    int height;                             /* screen rows each row uses */
} painted;

static int paint(void *ctx, size_t r, int y, int left, int sel)
{
    painted *p = ctx;
    p->rows[p->n] = r, p->ys[p->n] = y, p->sel[p->n] = sel, p->n++;
    return p->height < left ? p->height : left;
}

static void test_draw_rows_through_callback(void **state)
{
    (void)state;
    ui_panel p = {.sel = 12};
    painted out = {.height = 1};
    size_t drawn = ui_panel_draw(&p, 20, 3, 5, paint, &out);
    assert_int_equal(drawn, 5);
    assert_int_equal(out.n, 5);
    assert_int_equal(out.rows[0], 8);       /* scrolled so row 12 is the last shown */
    assert_int_equal(out.ys[0], 3);
    assert_int_equal(out.ys[4], 7);
    for (int i = 0; i < 5; i++) assert_int_equal(out.sel[i], out.rows[i] == 12);
    painted few = {.height = 1};
    ui_panel q = {0};
    assert_int_equal(ui_panel_draw(&q, 2, 0, 5, paint, &few), 2); /* fewer rows than room */
    painted none = {.height = 1};
    assert_int_equal(ui_panel_draw(&q, 0, 0, 5, paint, &none), 0);
    assert_int_equal(none.n, 0);
    painted tall = {.height = 3};
    ui_panel t = {0};
    assert_int_equal(ui_panel_draw(&t, 10, 0, 7, paint, &tall), 3); /* 3 + 3 + the first of 3 */
    assert_int_equal(tall.ys[2], 6);
}

static const char *const words[] = {"alpha", "beta", "gamma", "beta2", "delta"};

static int has_beta(void *ctx, size_t r)
{
    (void)ctx;
    return strstr(words[r], "beta") != NULL;
}

static int never(void *ctx, size_t r)
{
    (void)ctx, (void)r;
    return 0;
}

static void test_find_wraps(void **state)
{
    (void)state;
    assert_int_equal(ui_panel_find(5, -1, 1, has_beta, NULL), 1);
    assert_int_equal(ui_panel_find(5, 1, 1, has_beta, NULL), 3);
    assert_int_equal(ui_panel_find(5, 3, 1, has_beta, NULL), 1);   /* round past the end */
    assert_int_equal(ui_panel_find(5, 1, -1, has_beta, NULL), 3);  /* backwards, round past the start */
    assert_int_equal(ui_panel_find(5, 5, -1, has_beta, NULL), 3);
    assert_int_equal(ui_panel_find(5, 0, 1, never, NULL), -1);
    assert_int_equal(ui_panel_find(0, 0, 1, has_beta, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_move_clamps),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_scroll_keeps_selection_shown),
        cmocka_unit_test(test_scroll_fill_and_below),
        cmocka_unit_test(test_draw_rows_through_callback),
        cmocka_unit_test(test_find_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
