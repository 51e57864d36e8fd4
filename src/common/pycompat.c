/* pycompat: CPython-exact repr(), str.isprintable() and json.dumps(); see pycompat.h. */
#include "common/pycompat.h"
#include "common/utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

/* ------------------------------------------------------------------ floats */

/* Reads digits d (nd of them, d[0] != '0') times 10^(exp10 - nd + 1) back as a double. */
static double digits_value(const char *d, size_t nd, int exp10)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%c.%se%d", d[0], nd > 1 ? d + 1 : "0", exp10);
    return strtod(buf, NULL);
}

/* Adds k (+1 or -1) to the last of nd digits (no carry out of the first digit is needed for
 * the callers: a carry returns 0). Returns 1 when the result is a valid digit string. */
static int bump_last_digit(char *d, size_t nd, int k)
{
    for (size_t i = nd; i-- > 0;) {
        int v = d[i] - '0' + k;
        if (v >= 0 && v <= 9) {
            d[i] = (char)('0' + v);
            return d[0] != '0';
        }
        d[i] = k > 0 ? '0' : '9';
    }
    return 0;
}

/* The shortest digit string that reads back as v (v finite, > 0), like David Gay's mode 0 that
 * CPython uses: the correctly rounded p-digit string for the smallest p that round-trips, or,
 * where the rounding interval is lopsided (powers of two), a neighbouring p-digit string that
 * does. Writes digits (no trailing zeros) and the decimal exponent of the first digit. */
static void shortest_digits(double v, char digits[20], int *exp10)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        char d[20];
        size_t nd = 0;
        const char *s = buf;
        for (; *s && *s != 'e'; s++)
            if (*s >= '0' && *s <= '9') d[nd++] = *s;
        d[nd] = '\0';
        int e = atoi(s + 1);
        int found = strtod(buf, NULL) == v;
        if (!found && p > 1) {
            /* the nearest p-digit neighbour on the other side of v may still read back as v */
            char up[20], down[20];
            memcpy(up, d, nd + 1);
            memcpy(down, d, nd + 1);
            int up_ok = bump_last_digit(up, nd, +1) && digits_value(up, nd, e) == v;
            int down_ok = bump_last_digit(down, nd, -1) && digits_value(down, nd, e) == v;
            if (up_ok || down_ok) {
                found = 1;
                memcpy(d, up_ok ? up : down, nd + 1);
            }
        }
        if (found || p == 17) {
            while (nd > 1 && d[nd - 1] == '0') d[--nd] = '\0';
            memcpy(digits, d, nd + 1);
            *exp10 = e;
            return;
        }
    }
}

char *py_float_repr(double v, char out[PY_FLOAT_REPR_MAX])
{
    if (isnan(v)) return strcpy(out, "nan");
    if (isinf(v)) return strcpy(out, v > 0 ? "inf" : "-inf");
    if (v == 0) return strcpy(out, signbit(v) ? "-0.0" : "0.0");
    char d[20];
    int e;
    shortest_digits(fabs(v), d, &e);
    size_t nd = strlen(d);
    char *o = out;
    if (v < 0) *o++ = '-';
    if (e >= -4 && e < 16) {
        if (e < 0) {
            o += sprintf(o, "0.");
            for (int k = 0; k < -e - 1; k++) *o++ = '0';
            o += sprintf(o, "%s", d);
        } else if ((size_t)e + 1 >= nd) {
            o += sprintf(o, "%s", d);
            for (size_t k = nd; k < (size_t)e + 1; k++) *o++ = '0';
            o += sprintf(o, ".0");
        } else {
            o += sprintf(o, "%.*s.%s", e + 1, d, d + e + 1);
        }
    } else {
        *o++ = d[0];
        if (nd > 1) o += sprintf(o, ".%s", d + 1);
        o += sprintf(o, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    *o = '\0';
    return out;
}

/* A JSON number the way Python prints the value json.loads made of it (see pycompat.h). */
static void add_number(strbuf *b, double d, int json)
{
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        sb_addf(b, "%.0f", d == 0 ? 0.0 : d);
    } else if (json && (isnan(d) || isinf(d))) {
        sb_add(b, isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    } else {
        char f[PY_FLOAT_REPR_MAX];
        sb_add(b, py_float_repr(d, f));
    }
}

/* ------------------------------------------------------------------ strings */

size_t py_utf8_put(uint32_t c, char out[4])
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Python repr() of code points, appended. */
static void add_repr(strbuf *b, const uint32_t *cp, size_t n)
{
    int single = 0, dbl = 0;
    for (size_t i = 0; i < n; i++) {
        if (cp[i] == '\'') single = 1;
        if (cp[i] == '"') dbl = 1;
    }
    char q = (single && !dbl) ? '"' : '\'';
    sb_addn(b, &q, 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        if (c == (uint32_t)q || c == '\\') sb_addf(b, "\\%c", (char)c);
        else if (c == '\t') sb_add(b, "\\t");
        else if (c == '\n') sb_add(b, "\\n");
        else if (c == '\r') sb_add(b, "\\r");
        else if (!py_isprintable(c)) {
            if (c < 0x100) sb_addf(b, "\\x%02x", (unsigned)c);
            else if (c < 0x10000) sb_addf(b, "\\u%04x", (unsigned)c);
            else sb_addf(b, "\\U%08x", (unsigned)c);
        } else {
            char u[4];
            sb_addn(b, u, py_utf8_put(c, u));
        }
    }
    sb_addn(b, &q, 1);
}

/* Appends the repr of a UTF-8 string. */
static void add_repr_utf8(strbuf *b, const char *s)
{
    size_t len = strlen(s);
    uint32_t *cp = xmalloc((len + 1) * sizeof *cp);
    size_t n = 0;
    const unsigned char *end = (const unsigned char *)s + len;
    for (const unsigned char *p = (const unsigned char *)s; p < end;) cp[n++] = utf8_next_replacing(&p, end);
    add_repr(b, cp, n);
    free(cp);
}

char *py_repr_codepoints(const uint32_t *cp, size_t n)
{
    strbuf b = STRBUF_INIT;
    add_repr(&b, cp, n);
    return sb_take(&b);
}

char *py_repr_str(const char *utf8)
{
    strbuf b = STRBUF_INIT;
    add_repr_utf8(&b, utf8 ? utf8 : "");
    return sb_take(&b);
}

/* Appends json.dumps of a string (ensure_ascii). */
static void add_json_str(strbuf *b, const char *s)
{
    sb_add(b, "\"");
    const unsigned char *end = (const unsigned char *)s + strlen(s);
    for (const unsigned char *p = (const unsigned char *)s; p < end;) {
        uint32_t c = utf8_next_replacing(&p, end);
        switch (c) {
        case '"': sb_add(b, "\\\""); break;
        case '\\': sb_add(b, "\\\\"); break;
        case '\n': sb_add(b, "\\n"); break;
        case '\r': sb_add(b, "\\r"); break;
        case '\t': sb_add(b, "\\t"); break;
        case '\b': sb_add(b, "\\b"); break;
        case '\f': sb_add(b, "\\f"); break;
        default:
            if (c >= 0x20 && c <= 0x7e) {
                char ch = (char)c;
                sb_addn(b, &ch, 1);
            } else if (c < 0x10000) {
                sb_addf(b, "\\u%04x", (unsigned)c);
            } else {
                uint32_t v = c - 0x10000;
                sb_addf(b, "\\u%04x\\u%04x", (unsigned)(0xd800 | (v >> 10)), (unsigned)(0xdc00 | (v & 0x3ff)));
            }
        }
    }
    sb_add(b, "\"");
}

char *py_json_quote(const char *utf8)
{
    strbuf b = STRBUF_INIT;
    add_json_str(&b, utf8 ? utf8 : "");
    return sb_take(&b);
}

/* ------------------------------------------------------------------ JSON values */

/* Appends json.dumps(v) (json != 0) or Python repr of the loaded value (json == 0). */
static void add_value(strbuf *b, const cJSON *v, int json)
{
    if (!v || cJSON_IsNull(v)) {
        sb_add(b, json ? "null" : "None");
    } else if (cJSON_IsBool(v)) {
        sb_add(b, cJSON_IsTrue(v) ? (json ? "true" : "True") : (json ? "false" : "False"));
    } else if (cJSON_IsNumber(v)) {
        add_number(b, v->valuedouble, json);
    } else if (cJSON_IsString(v)) {
        if (json) add_json_str(b, v->valuestring);
        else add_repr_utf8(b, v->valuestring);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        int obj = cJSON_IsObject(v);
        sb_add(b, obj ? "{" : "[");
        for (const cJSON *e = v->child; e; e = e->next) {
            if (obj) {
                if (json) add_json_str(b, e->string ? e->string : "");
                else add_repr_utf8(b, e->string ? e->string : "");
                sb_add(b, ": ");
            }
            add_value(b, e, json);
            if (e->next) sb_add(b, ", ");
        }
        sb_add(b, obj ? "}" : "]");
    } else if (cJSON_IsRaw(v) && v->valuestring) {
        sb_add(b, v->valuestring);
    }
}

char *py_json_dumps(const cJSON *value)
{
    strbuf b = STRBUF_INIT;
    add_value(&b, value, 1);
    return sb_take(&b);
}

char *py_repr_json(const cJSON *value)
{
    strbuf b = STRBUF_INIT;
    add_value(&b, value, 0);
    return sb_take(&b);
}
