/* Unit tests for common/isotime.h, the one ISO 8601 reader: the forms the LMS, the history, the
 * lease and the simulator use are read to the microsecond (values checked with Python's
 * datetime.fromisoformat(...).timestamp()), offsets are applied, and what is not a time is
 * refused rather than read in part. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/isotime.h"

static int64_t parsed(const char *s)
{
    int64_t us = -42;
    assert_int_equal(iso_parse_us(s, &us), 0);
    return us;
}

static void test_forms_that_are_read(void **state)
{
    (void)state;
    /* datetime(2018,10,18,20,35,52,349757,tzinfo=utc).timestamp() == 1539894952.349757 */
    assert_int_equal(parsed("2018-10-18T20:35:52.349757Z"), INT64_C(1539894952349757));
    assert_int_equal(parsed("2018-10-18 20:35:52.349757+00:00"), INT64_C(1539894952349757));
    assert_int_equal(parsed("2018-10-18T20:35:52.3Z"), INT64_C(1539894952300000));
    assert_int_equal(parsed("2018-10-18T20:35:52.1234567Z"), INT64_C(1539894952123456)); /* beyond µs: cut */
    assert_int_equal(parsed("2018-10-18T20:35:52"), INT64_C(1539894952000000));
    assert_int_equal(parsed("2018-10-18T20:35"), INT64_C(1539894900000000));
    assert_int_equal(parsed("2018-10-18"), INT64_C(1539820800000000));
    assert_int_equal(parsed("2018-10-18Z"), INT64_C(1539820800000000));
    assert_int_equal(parsed("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parsed("2024-02-29T12:00:00Z"), INT64_C(1709208000000000)); /* a leap day */
}

static void test_offsets_are_applied(void **state)
{
    (void)state;
    int64_t utc = parsed("2018-10-18T20:35:52Z");
    assert_int_equal(parsed("2018-10-18T22:35:52+02:00"), utc);
    assert_int_equal(parsed("2018-10-18T15:05:52-0530"), utc);
    assert_int_equal(parsed("2018-10-19T02:05:52+05:30"), utc);
}

static void test_what_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "2018", "2018-10", "18-10-18", "2018-1-18", "2018-13-01", "2018-00-10", "2018-02-29", "2023-02-29",
        "2018-04-31", "2018-10-18T", "2018-10-18T24:00", "2018-10-18T20:60", "2018-10-18T20:35:60",
        "2018-10-18T20:35:52.", "2018-10-18T20:35:52Zjunk", "2018-10-18 trailing", "2018-10-18T20:35:52+2",
        "2018-10-18T20:35:52+24:00", "0000-01-01", "２０１８-10-18", "2018-10-18T20:35:52 Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 7;
        if (iso_parse_us(bad[i], &us) == 0) fail_msg("read \"%s\" as a time", bad[i]);
        assert_int_equal(us, 7); /* untouched on a refusal */
    }
    int64_t us = 7;
    assert_int_equal(iso_parse_us(NULL, &us), -1);
}

static void test_calendar(void **state)
{
    (void)state;
    assert_true(iso_is_leap(2000) && iso_is_leap(2024) && !iso_is_leap(1900) && !iso_is_leap(2023));
    assert_int_equal(iso_days_in_month(2024, 2), 29);
    assert_int_equal(iso_days_in_month(2023, 2), 28);
    assert_int_equal(iso_days_in_month(2023, 4), 30);
    assert_int_equal(iso_days_in_month(2023, 13), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_that_are_read),
        cmocka_unit_test(test_offsets_are_applied),
        cmocka_unit_test(test_what_is_refused),
        cmocka_unit_test(test_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
