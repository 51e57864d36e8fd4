/* clock: monotonic and wall-clock readings; see clock.h. */
#include "common/clock.h"

#include <stdio.h>
#include <time.h>

/* Reads clock id. */
static struct timespec now_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts;
}

double clk_mono_s(void)
{
    struct timespec ts = now_of(CLOCK_MONOTONIC);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double clk_mono_ms(void)
{
    struct timespec ts = now_of(CLOCK_MONOTONIC);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

long long clk_wall_ms(void)
{
    struct timespec ts = now_of(CLOCK_REALTIME);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clk_wall_us(void)
{
    struct timespec ts = now_of(CLOCK_REALTIME);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *clk_iso_now(char *buf, size_t len)
{
    struct timespec ts = now_of(CLOCK_REALTIME);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%.20s.%03dZ", base, (int)(ts.tv_nsec / 1000000));
    return buf;
}
