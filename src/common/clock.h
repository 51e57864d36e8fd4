/* clock (prefix clk_): the one place that reads the clocks. Monotonic time for timeouts,
 * backoff and elapsed times (never jumps when the wall clock is set); wall-clock time for
 * timestamps that are stored or shown. */
#ifndef RETIRECTL_CLOCK_H
#define RETIRECTL_CLOCK_H

#include <stddef.h>

/* Seconds of the monotonic clock (CLOCK_MONOTONIC). */
double clk_mono_s(void);
/* Milliseconds of the monotonic clock. */
double clk_mono_ms(void);
/* Wall-clock milliseconds since the Unix epoch (CLOCK_REALTIME). */
long long clk_wall_ms(void);
/* Wall-clock microseconds since the Unix epoch. */
long long clk_wall_us(void);
/* The current UTC time as "2026-11-28T10:00:00.000Z" into buf (>= 25 bytes); returns buf. */
char *clk_iso_now(char *buf, size_t len);

#endif
