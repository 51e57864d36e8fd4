/* Console layout at odd sizes: nothing overlaps or runs off the screen. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ui/layout.h"

static void check_columns(int width, int state_w)
{
    ui_column c[UI_COL_COUNT];
    int n = ui_layout_columns(width, state_w, c);
    assert_true(n >= 1);
    int end = 0, has_user = 0;
    for (int i = 0; i < n; i++) {
        assert_true(c[i].x >= end);          /* in order, no overlap */
        assert_true(c[i].width > 0);
        end = c[i].x + c[i].width;
        assert_true(end <= width);           /* never past the edge */
        if (c[i].id == UI_COL_USERNAME) {
            has_user = 1;
            if (width >= 20) assert_true(c[i].width >= 8);
        }
    }
    assert_true(has_user);
}

static void test_columns_every_width(void **state)
{
    (void)state;
    for (int w = 10; w <= 400; w++) {
        check_columns(w, 20);
        check_columns(w, 5);
        check_columns(w, 40);
    }
}

static void test_columns_drop_order(void **state)
{
    (void)state;
    ui_column c[UI_COL_COUNT];
    /* wide: all six */
    assert_int_equal(ui_layout_columns(200, 20, c), 6);
    assert_int_equal(c[UI_COL_USERNAME].width, UI_USER_MAX);
    assert_int_equal(c[UI_COL_STATE].x, 2 + UI_USER_MAX + 1); /* state next to the name, not across the screen */
    /* 60 columns: age is the first to go, then last change */
    int n = ui_layout_columns(45, 20, c);
    for (int i = 0; i < n; i++) assert_int_not_equal(c[i].id, UI_COL_AGE);
    n = ui_layout_columns(38, 20, c);
    for (int i = 0; i < n; i++) assert_true(c[i].id != UI_COL_AGE && c[i].id != UI_COL_CHANGED);
}

/* 120 columns: the username does not take most of the row; a 30-cell custom state is shown whole
 * when there is room and narrows before any column is dropped. */
static void test_columns_balance(void **state)
{
    (void)state;
    ui_column c[UI_COL_COUNT];
    assert_int_equal(ui_layout_columns(120, 20, c), 6);
    assert_true(c[UI_COL_USERNAME].width <= UI_USER_MAX);
    assert_int_equal(c[UI_COL_STATE].width, 20);
    assert_int_equal(ui_layout_columns(120, 30, c), 6);
    assert_int_equal(c[UI_COL_STATE].width, 30);
    assert_int_equal(ui_layout_columns(200, 60, c), 6);
    assert_int_equal(c[UI_COL_STATE].width, UI_STATE_MAX);
    /* 60 columns and a 30-cell state: state narrows to 22 before age is dropped */
    int n = ui_layout_columns(62, 30, c);
    assert_int_equal(n, 6);
    assert_int_equal(c[UI_COL_STATE].width, 62 - 2 - 8 - (1 + 6 + 5 + 8) - 1 > 22 ? 62 - 2 - 8 - 21 - 1 : 22);
    assert_true(c[UI_COL_USERNAME].width >= 8);
    /* a 44-cell name on screen at 200 columns is shown whole; a 160-cell one stops at
     * UI_USER_CAP so the state stays near; at 80 columns it takes what is left */
    assert_int_equal(ui_layout_columns_fit(200, 20, 44, c), 6);
    assert_int_equal(c[UI_COL_USERNAME].width, 44);
    assert_int_equal(ui_layout_columns_fit(200, 20, 160, c), 6);
    assert_int_equal(c[UI_COL_USERNAME].width, UI_USER_CAP);
    assert_true(c[UI_COL_STATE].x <= 2 + 48 + 1);
    assert_int_equal(ui_layout_columns_fit(80, 20, 60, c), 6);
    assert_int_equal(c[UI_COL_USERNAME].width, 80 - (2 + 21 + 6 + 5 + 8));
    assert_int_equal(ui_layout_columns_fit(200, 20, 3, c), 6);
    assert_int_equal(c[UI_COL_USERNAME].width, UI_USER_MAX);
}

static void test_screen_sizes(void **state)
{
    (void)state;
    for (int r = 1; r <= 80; r++) {
        for (int w = 1; w <= 220; w += 7) {
            ui_screen_layout l = ui_layout_screen(r, w);
            if (r < UI_MIN_ROWS || w < UI_MIN_COLS) {
                assert_true(l.too_small);
                continue;
            }
            assert_false(l.too_small);
            assert_true(l.list_rows >= 1);
            assert_true(l.tabs_row < l.header_row && l.header_row < l.list_top);
            assert_int_equal(l.list_top + l.list_rows, l.message_row);
            assert_int_equal(l.message_row + 1, l.status_row);
            assert_int_equal(l.status_row, r - 1);
        }
    }
    ui_screen_layout l = ui_layout_screen(15, 60);
    assert_int_equal(l.list_rows, 11);
}

static void test_detail_fits(void **state)
{
    (void)state;
    for (int rows = 2; rows <= 70; rows++) {
        for (int cols = 20; cols <= 240; cols += 11) {
            for (int steps = 0; steps <= 25; steps += 5) {
                ui_detail_layout d = ui_layout_detail(rows, cols, steps, 12);
                assert_true(d.pipe_rows >= 1);
                assert_true(d.log_rows >= 0);
                assert_true(d.pipe_top + d.pipe_rows <= rows || rows < 3);
                if (d.fields_width) {
                    assert_true(d.fields_x + d.fields_width <= cols);
                    assert_true(d.fields_x > 0);
                } else {
                    assert_true(d.fields_top + d.fields_rows <= d.log_top);
                }
                assert_true(d.log_top + d.log_rows <= rows || rows < 3);
            }
        }
    }
}

/* 200 columns: the record column is wide enough for a retired email (about 70 cells) */
static void test_detail_wide_fields(void **state)
{
    (void)state;
    ui_detail_layout d = ui_layout_detail(56, 200, 4, 20);
    assert_true(d.fields_width >= 75);
    assert_true(d.fields_x >= 110);
    d = ui_layout_detail(26, 120, 4, 20);
    assert_int_equal(d.fields_width, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_every_width), cmocka_unit_test(test_columns_drop_order), cmocka_unit_test(test_columns_balance),
        cmocka_unit_test(test_screen_sizes), cmocka_unit_test(test_detail_fits), cmocka_unit_test(test_detail_wide_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
