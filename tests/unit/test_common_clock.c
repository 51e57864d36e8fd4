/* Unit tests for common/clock.h: the monotonic readings agree in their units and never go
 * back, the wall-clock readings agree with time(2), and the ISO timestamp has the shape the
 * event stream and the audit log use ("2026-11-28T10:00:00.000Z"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"

static void test_monotonic_units_and_order(void **state)
{
    (void)state;
    double s0 = clk_mono_s(), ms0 = clk_mono_ms();
    /* the same clock in two units: within one second of each other */
    assert_true(ms0 / 1000.0 - s0 > -1.0 && ms0 / 1000.0 - s0 < 1.0);
    double prev = clk_mono_ms();
    for (int i = 0; i < 10000; i++) {
        double now = clk_mono_ms();
        assert_true(now >= prev);
        prev = now;
    }
}

static void test_wall_clock_matches_time(void **state)
{
    (void)state;
    long long before = (long long)time(NULL);
    long long ms = clk_wall_ms(), us = clk_wall_us();
    long long after = (long long)time(NULL);
    assert_true(ms / 1000 >= before && ms / 1000 <= after);
    assert_true(us / 1000000 >= before && us / 1000000 <= after);
    assert_true(us / 1000 >= ms); /* read later, never earlier */
}

static void test_iso_shape(void **state)
{
    (void)state;
    char buf[40];
    char *r = clk_iso_now(buf, sizeof buf);
    assert_ptr_equal(r, buf);
    assert_int_equal(strlen(buf), 24);
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < 24; i++) {
        if (shape[i] == 'd') assert_true(isdigit((unsigned char)buf[i]));
        else assert_int_equal(buf[i], shape[i]);
    }
    /* the year is this year's */
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char year[16];
    snprintf(year, sizeof year, "%04d", tm.tm_year + 1900);
    assert_memory_equal(buf, year, 4);
    char small[8];
    clk_iso_now(small, sizeof small); /* cut, still terminated */
    assert_int_equal(strlen(small), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic_units_and_order),
        cmocka_unit_test(test_wall_clock_matches_time),
        cmocka_unit_test(test_iso_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
