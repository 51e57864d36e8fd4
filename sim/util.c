/* retirectl-sim utilities: SHA-1, time formatting, Python-compatible parsing/repr. */
#include "internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/isotime.h"
#include "common/pycompat.h"

/* ---- SHA-1 (FIPS 180-4) ---- */

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

/* Processes one 64-byte block into h. */
static void sha1_block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = ROL(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = ROL(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void sim_sha1(const void *data, size_t len, unsigned char out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const unsigned char *p = data;
    size_t left = len;
    while (left >= 64) {
        sha1_block(h, p);
        p += 64;
        left -= 64;
    }
    unsigned char tail[128] = {0};
    memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tl = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
    sha1_block(h, tail);
    if (tl == 128) sha1_block(h, tail + 64);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

void sim_sha1_hex(const void *data, size_t len, char out[41])
{
    unsigned char d[20];
    sim_sha1(data, len, d);
    for (int i = 0; i < 20; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- time ---- */

/* Splits microseconds since the epoch into a UTC tm and the microsecond part. */
static void split_us(int64_t us, struct tm *tm, long *frac)
{
    int64_t sec = us / 1000000;
    long f = (long)(us % 1000000);
    if (f < 0) {
        f += 1000000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    gmtime_r(&t, tm);
    *frac = f;
}

/* Copies a formatted timestamp into a caller buffer of size n. */
static void copy_out(char *out, size_t n, const char *tmp)
{
    size_t l = strlen(tmp);
    if (l >= n) l = n - 1;
    memcpy(out, tmp, l);
    out[l] = '\0';
}

void sim_fmt_iso(int64_t us, char out[40])
{
    struct tm tm;
    long f;
    char tmp[160];
    split_us(us, &tm, &f);
    if (f)
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, f);
    else
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
    copy_out(out, 40, tmp);
}

void sim_fmt_py(int64_t us, char out[48])
{
    struct tm tm;
    long f;
    char tmp[160];
    split_us(us, &tm, &f);
    if (f)
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, f);
    else
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02d %02d:%02d:%02d+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    copy_out(out, 48, tmp);
}

int sim_py_int(const char *s, long long *out)
{
    const char *p = s;
    while (isspace((unsigned char)*p)) p++;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (!isdigit((unsigned char)*p)) return -1;
    long long v = 0;
    int prev_us = 0;
    for (; *p && !isspace((unsigned char)*p); p++) {
        if (*p == '_') {
            if (prev_us || !isdigit((unsigned char)p[1])) return -1;
            prev_us = 1;
            continue;
        }
        if (!isdigit((unsigned char)*p)) return -1;
        prev_us = 0;
        if (v > (long long)9e17) return -1;
        v = v * 10 + (*p - '0');
    }
    while (isspace((unsigned char)*p)) p++;
    if (*p) return -1;
    *out = neg ? -v : v;
    return 0;
}

/* Matches one regex alternative list (each a fixed pattern of 'D' digit, '1'.. literal class) at s.
 * Returns the number of characters matched by alternative alt, or -1. Patterns follow CPython's
 * _strptime: %m = 1[0-2]|0[1-9]|[1-9], %d = 3[01]|[12]\d|0[1-9]|[1-9]| [1-9]. */
static int alt_match(const char *s, const char *const *alts, int alt)
{
    const char *pat = alts[alt];
    int n = 0;
    for (const char *q = pat; *q; q++, n++) {
        char c = s[n];
        switch (*q) {
        case 'D': if (!isdigit((unsigned char)c)) return -1; break;
        case 'a': if (c != '0' && c != '1' && c != '2') return -1; break;  /* [0-2] */
        case 'n': if (c < '1' || c > '9') return -1; break;                /* [1-9] */
        case 'o': if (c != '0' && c != '1') return -1; break;              /* [01] */
        case 't': if (c != '1' && c != '2') return -1; break;              /* [12] */
        default: if (c != *q) return -1;
        }
    }
    return n;
}

int sim_py_strptime_ymd(const char *s, int64_t *us, char *err, size_t errlen)
{
    static const char *const m_alts[] = {"1a", "0n", "n"};
    static const char *const d_alts[] = {"3o", "tD", "0n", "n", " n"};
    /* re.match semantics: the first alternative combination (in backtracking order) that matches. */
    int y = -1, mo = -1, d = -1, used = -1;
    if (strlen(s) >= 4 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
        isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-') {
        for (int a = 0; a < 3 && used < 0; a++) {
            int ml = alt_match(s + 5, m_alts, a);
            if (ml < 0 || s[5 + ml] != '-') continue;
            for (int b = 0; b < 5; b++) {
                int dl = alt_match(s + 6 + ml, d_alts, b);
                if (dl < 0) continue;
                y = atoi(s) /* first 4 digits, s[4] is '-' */;
                mo = atoi(s + 5);
                d = atoi(s + 6 + ml + (s[6 + ml] == ' '));
                used = 6 + ml + dl;
                break;
            }
        }
    }
    if (used < 0) {
        strbuf b = {0};
        sb_add(&b, "time data ");
        sim_py_repr_str(&b, s);
        sb_add(&b, " does not match format '%Y-%m-%d'");
        snprintf(err, errlen, "%s", b.data);
        free(b.data);
        return -1;
    }
    if (s[used]) {
        snprintf(err, errlen, "unconverted data remains: %s", s + used);
        return -1;
    }
    if (y < 1) {
        snprintf(err, errlen, "year %d is out of range", y);
        return -1;
    }
    if (d > iso_days_in_month(y, mo)) {
        snprintf(err, errlen, "day is out of range for month");
        return -1;
    }
    *us = iso_civil_us(y, mo, d, 0, 0, 0, 0);
    return 0;
}

/* Appends a Python text made by common/pycompat.c (malloc'd) and frees it. */
static void add_py(strbuf *b, char *text)
{
    sb_add(b, text);
    free(text);
}

void sim_py_repr_str(strbuf *b, const char *s) { add_py(b, py_repr_str(s)); }

void sim_py_str_json(strbuf *b, const cJSON *v)
{
    if (cJSON_IsString(v)) sb_add(b, v->valuestring);
    else add_py(b, py_repr_json(v));
}

int sim_py_truthy(const cJSON *v)
{
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v)) return 0;
    if (cJSON_IsTrue(v)) return 1;
    if (cJSON_IsNumber(v)) return v->valuedouble != 0;
    if (cJSON_IsString(v)) return v->valuestring[0] != '\0';
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child != NULL;
    return 1;
}
