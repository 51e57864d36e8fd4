/* The one reader of ISO 8601 times (the LMS's `created`/`modified`, the history's dates, the
 * lease's stamps, the simulator's query dates): docs/architecture.md §1. */
#ifndef RETIRECTL_COMMON_ISOTIME_H
#define RETIRECTL_COMMON_ISOTIME_H

#include <stdint.h>

/* Parses YYYY-MM-DD, optionally followed by `T` or a space and HH:MM[:SS[.fraction]], then
 * optionally `Z` or an offset ±HH:MM / ±HHMM, into microseconds since 1970 (UTC). The whole text
 * must be read. 0, or -1 when s is not such a time (NULL, a month 13, a 30 February, ...). */
int iso_parse_us(const char *s, int64_t *us);

/* 1 when year y is a leap year of the Gregorian calendar. */
int iso_is_leap(int y);

/* The days of month mo (1-12) in year y. */
int iso_days_in_month(int y, int mo);

/* Microseconds since 1970 of a UTC civil time (fields already checked). */
int64_t iso_civil_us(int y, int mo, int d, int h, int mi, int sec, long micro);

#endif
