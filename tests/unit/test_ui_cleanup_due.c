/* Unit tests of the console's "due for cleanup" rule (src/ui/cleanup_due.c): COMPLETE learners
 * requested on or before the UTC day of now minus the cool-off days, the same window
 * `retirectl cleanup` asks the LMS for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/cleanup_due.h"

static void test_window_edges(void **state)
{
    (void)state;
    ui_store s;
    ui_store_init(&s);
    const time_t now = 1796299200;        /* 2026-12-03 12:00:00 UTC */
    const int64_t last_day = 1793059200;  /* 2026-10-27 00:00:00 UTC = the day of now - 37 days */
    ui_store_add(&s, "last_second", "COMPLETE", "LMS_COMPLETE", 1, 1, last_day + 86399, 0);
    ui_store_add(&s, "next_day", "COMPLETE", "LMS_COMPLETE", 2, 2, last_day + 86400, 0);
    ui_store_add(&s, "old", "COMPLETE", "LMS_COMPLETE", 3, 3, last_day - 40 * 86400, 0);
    ui_store_add(&s, "aborted", "ABORTED", "PENDING", 4, 4, last_day - 40 * 86400, 0);
    ui_store_add(&s, "no_date", "COMPLETE", "LMS_COMPLETE", 5, 5, 0, 0);
    const int want[] = {1, 0, 1, 0, 0};
    for (size_t i = 0; i < 5; i++) assert_int_equal(ui_cleanup_due(&s, &s.v[i], UI_CLEANUP_COOL_OFF_DAYS, now), want[i]);
    assert_int_equal(ui_cleanup_due_count(&s, UI_CLEANUP_COOL_OFF_DAYS, now), 2);
    assert_int_equal(ui_cleanup_due_count(&s, 36, now), 3); /* one day shorter: next_day too */
    assert_int_equal(ui_cleanup_due_count(&s, 3650, now), 0);
    ui_store_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_window_edges)};
    return cmocka_run_group_tests_name("ui_cleanup_due", tests, NULL, NULL);
}
