/* The one ISO 8601 time reader: see isotime.h. */
#include "common/isotime.h"

#include <stddef.h>
#include <time.h>

/* Reads exactly n decimal digits at *p into *v and advances *p. 0, or -1. */
static int read_digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

int iso_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int iso_days_in_month(int y, int mo)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12) return 0;
    return mo == 2 && iso_is_leap(y) ? 29 : days[mo - 1];
}

int64_t iso_civil_us(int y, int mo, int d, int h, int mi, int sec, long micro)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm) * 1000000 + micro;
}

/* Reads HH:MM[:SS[.fraction]] at *p. 0, or -1. */
static int read_clock(const char **p, int *h, int *mi, int *sec, long *micro)
{
    if (read_digits(p, 2, h) || *(*p)++ != ':' || read_digits(p, 2, mi)) return -1;
    if (**p == ':') {
        (*p)++;
        if (read_digits(p, 2, sec)) return -1;
        if (**p == '.') {
            (*p)++;
            int n = 0;
            for (; **p >= '0' && **p <= '9'; (*p)++, n++)
                if (n < 6) *micro = *micro * 10 + (**p - '0');
            if (!n) return -1;
            for (; n < 6; n++) *micro *= 10;
        }
    }
    return *h > 23 || *mi > 59 || *sec > 59 ? -1 : 0;
}

/* Reads an optional Z or ±HH:MM / ±HHMM at *p into seconds east of UTC. 0, or -1. */
static int read_offset(const char **p, long *east)
{
    *east = 0;
    if (**p == 'Z') {
        (*p)++;
        return 0;
    }
    if (**p != '+' && **p != '-') return 0;
    int sign = *(*p)++ == '-' ? -1 : 1, oh, om;
    if (read_digits(p, 2, &oh)) return -1;
    if (**p == ':') (*p)++;
    if (read_digits(p, 2, &om) || oh > 23 || om > 59) return -1;
    *east = sign * (oh * 3600L + om * 60L);
    return 0;
}

int iso_parse_us(const char *s, int64_t *us)
{
    if (!s) return -1;
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    long micro = 0, east = 0;
    if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' || read_digits(&p, 2, &d))
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > iso_days_in_month(y, mo)) return -1;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (read_clock(&p, &h, &mi, &sec, &micro) || read_offset(&p, &east)) return -1;
    } else if (*p == 'Z') {
        p++;
    }
    if (*p) return -1;
    *us = iso_civil_us(y, mo, d, h, mi, sec, micro) - (int64_t)east * 1000000;
    return 0;
}
