/* pyrepr: Python str()/repr() of JSON values and requests' HTTPError text. See pyrepr.h. */
#include "drivers/pyrepr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/drv_common.h" /* drv_json_str: a str as json.dumps writes it */
#include "common/pycompat.h"
#include "common/utf8.h"
#include "common/strbuf.h"
#include "common/http_reason.h"
#include "common/xalloc.h"

typedef struct parser {
    const char *p, *end;
    int depth;
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

/* Python repr of a sequence of code points (common/pycompat.c). */
static void repr_codepoints(strbuf *sb, const uint32_t *cp, size_t n)
{
    char *r = py_repr_codepoints(cp, n);
    if (r) sb_add(sb, r);
    free(r);
}

char *pyrepr_str(const char *s) { return py_repr_str(s); }

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses a JSON string at ps->p (on the quote) into code points. */
static int parse_string_cp(parser *ps, uint32_t **out, size_t *n_out)
{
    if (ps->p >= ps->end || *ps->p != '"') return -1;
    ps->p++;
    size_t cap = 16, n = 0;
    uint32_t *cp = xmalloc(cap * sizeof *cp);
    if (!cp) return -1;
    while (ps->p < ps->end && *ps->p != '"') {
        uint32_t c;
        if ((unsigned char)*ps->p < 0x20) goto fail;
        if (*ps->p == '\\') {
            ps->p++;
            if (ps->p >= ps->end) goto fail;
            char e = *ps->p++;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = 8; break;
            case 'f': c = 12; break;
            case 'n': c = 10; break;
            case 'r': c = 13; break;
            case 't': c = 9; break;
            case 'u': {
                if (ps->end - ps->p < 4) goto fail;
                c = 0;
                for (int k = 0; k < 4; k++) {
                    int h = hexval(ps->p[k]);
                    if (h < 0) goto fail;
                    c = c * 16 + (uint32_t)h;
                }
                ps->p += 4;
                /* surrogate pair -> one code point, as Python's json does */
                if (c >= 0xd800 && c <= 0xdbff && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                    uint32_t lo = 0;
                    int ok = 1;
                    for (int k = 0; k < 4; k++) {
                        int h = hexval(ps->p[2 + k]);
                        if (h < 0) ok = 0;
                        lo = lo * 16 + (uint32_t)(h < 0 ? 0 : h);
                    }
                    if (ok && lo >= 0xdc00 && lo <= 0xdfff) {
                        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                        ps->p += 6;
                    }
                }
                break;
            }
            default: goto fail;
            }
        } else {
            const unsigned char *u = (const unsigned char *)ps->p;
            c = utf8_next_replacing(&u, (const unsigned char *)ps->end);
            ps->p = (const char *)u;
        }
        if (n + 1 >= cap) {
            cap *= 2;
            uint32_t *np = xrealloc(cp, cap * sizeof *cp);
            if (!np) goto fail;
            cp = np;
        }
        cp[n++] = c;
    }
    if (ps->p >= ps->end) goto fail;
    ps->p++;
    *out = cp;
    *n_out = n;
    return 0;
fail:
    free(cp);
    return -1;
}

/* Appends Python's repr of a float (common/pycompat.c). */
static void repr_float(strbuf *sb, double v)
{
    char buf[PY_FLOAT_REPR_MAX];
    sb_add(sb, py_float_repr(v, buf));
}

static int parse_value(parser *ps, strbuf *sb);

/* Parses a JSON number and appends Python's repr (int kept verbatim, normalised). */
static int parse_number(parser *ps, strbuf *sb)
{
    const char *start = ps->p;
    int is_float = 0;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end || !isdigit((unsigned char)*ps->p)) return -1;
    if (*ps->p == '0') {
        ps->p++;
    } else {
        while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        is_float = 1;
        ps->p++;
        if (ps->p >= ps->end || !isdigit((unsigned char)*ps->p)) return -1;
        while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        is_float = 1;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || !isdigit((unsigned char)*ps->p)) return -1;
        while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) ps->p++;
    }
    size_t n = (size_t)(ps->p - start);
    if (!is_float) {
        if (n == 2 && start[0] == '-' && start[1] == '0')
            sb_addc(sb, '0'); /* int('-0') == 0 */
        else
            sb_addn(sb, start, n);
        return 0;
    }
    char *tmp = xstrndup(start, n);
    if (!tmp) return -1;
    double v = strtod(tmp, NULL);
    free(tmp);
    repr_float(sb, v);
    return 0;
}

typedef struct member {
    char *key_repr;
    char *value_repr;
    uint32_t *key;
    size_t key_len;
} member;

static int parse_object(parser *ps, strbuf *sb)
{
    ps->p++; /* { */
    member *m = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        sb_add(sb, "{}");
        return 0;
    }
    for (;;) {
        skip_ws(ps);
        uint32_t *key;
        size_t key_len;
        if (parse_string_cp(ps, &key, &key_len) != 0) goto out;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            free(key);
            goto out;
        }
        ps->p++;
        skip_ws(ps);
        strbuf v = STRBUF_INIT;
        if (parse_value(ps, &v) != 0) {
            free(key);
            sb_free(&v);
            goto out;
        }
        /* duplicate key: Python keeps the first position and the last value */
        size_t k;
        for (k = 0; k < n; k++)
            if (m[k].key_len == key_len && memcmp(m[k].key, key, key_len * sizeof *key) == 0) break;
        if (k < n) {
            free(m[k].value_repr);
            m[k].value_repr = sb_take(&v);
            free(key);
        } else {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                member *nm = xrealloc(m, cap * sizeof *m);
                if (!nm) {
                    free(key);
                    sb_free(&v);
                    goto out;
                }
                m = nm;
            }
            strbuf kr = STRBUF_INIT;
            repr_codepoints(&kr, key, key_len);
            m[n].key_repr = sb_take(&kr);
            m[n].value_repr = sb_take(&v);
            m[n].key = key;
            m[n].key_len = key_len;
            n++;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        goto out;
    }
    sb_addc(sb, '{');
    for (size_t k = 0; k < n; k++) {
        if (k) sb_add(sb, ", ");
        sb_add(sb, m[k].key_repr);
        sb_add(sb, ": ");
        sb_add(sb, m[k].value_repr);
    }
    sb_addc(sb, '}');
    rc = 0;
out:
    for (size_t k = 0; k < n; k++) {
        free(m[k].key_repr);
        free(m[k].value_repr);
        free(m[k].key);
    }
    free(m);
    return rc;
}

static int parse_array(parser *ps, strbuf *sb)
{
    ps->p++; /* [ */
    skip_ws(ps);
    sb_addc(sb, '[');
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        sb_addc(sb, ']');
        return 0;
    }
    for (int first = 1;; first = 0) {
        skip_ws(ps);
        if (!first) sb_add(sb, ", ");
        if (parse_value(ps, sb) != 0) return -1;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            sb_addc(sb, ']');
            return 0;
        }
        return -1;
    }
}

static int parse_literal(parser *ps, const char *lit, const char *repr, strbuf *sb)
{
    size_t n = strlen(lit);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0) return -1;
    ps->p += n;
    sb_add(sb, repr);
    return 0;
}

static int parse_value(parser *ps, strbuf *sb)
{
    if (++ps->depth > 512) return -1;
    skip_ws(ps);
    int rc = -1;
    if (ps->p >= ps->end) {
        rc = -1;
    } else if (*ps->p == '{') {
        rc = parse_object(ps, sb);
    } else if (*ps->p == '[') {
        rc = parse_array(ps, sb);
    } else if (*ps->p == '"') {
        uint32_t *cp;
        size_t n;
        rc = parse_string_cp(ps, &cp, &n);
        if (rc == 0) {
            repr_codepoints(sb, cp, n);
            free(cp);
        }
    } else if (*ps->p == 't') {
        rc = parse_literal(ps, "true", "True", sb);
    } else if (*ps->p == 'f') {
        rc = parse_literal(ps, "false", "False", sb);
    } else if (*ps->p == 'n') {
        rc = parse_literal(ps, "null", "None", sb);
    } else if (*ps->p == 'N') {
        rc = parse_literal(ps, "NaN", "nan", sb);
    } else if (*ps->p == 'I') {
        rc = parse_literal(ps, "Infinity", "inf", sb);
    } else if (ps->end - ps->p >= 9 && memcmp(ps->p, "-Infinity", 9) == 0) {
        rc = parse_literal(ps, "-Infinity", "-inf", sb);
    } else {
        rc = parse_number(ps, sb);
    }
    ps->depth--;
    return rc;
}

char *pyrepr_json(const char *json, size_t len)
{
    if (!json) return NULL;
    if (!len) len = strlen(json);
    parser ps = {json, json + len, 0};
    strbuf sb = STRBUF_INIT;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '"') {
        /* str() of a str is the text itself */
        uint32_t *cp;
        size_t n;
        if (parse_string_cp(&ps, &cp, &n) != 0) return NULL;
        skip_ws(&ps);
        if (ps.p != ps.end) {
            free(cp);
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            char u[4];
            sb_addn(&sb, u, py_utf8_put(cp[i], u));
        }
        free(cp);
        if (!sb.data) sb_add(&sb, "");
        return sb_take(&sb);
    }
    if (parse_value(&ps, &sb) != 0) {
        sb_free(&sb);
        return NULL;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        sb_free(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

/* ------------------------------------------------------------------ json.loads errors */

/* A scanner that follows CPython's json decoder (strict mode) far enough to raise the same
 * JSONDecodeError message at the same position. Positions are in code points. */
typedef struct jerr {
    const unsigned char *s, *end;
    const char *msg; /* set on the first error */
    const unsigned char *at;
} jerr;

static int jerr_set(jerr *j, const char *msg, const unsigned char *at)
{
    if (!j->msg) {
        j->msg = msg;
        j->at = at;
    }
    return -1;
}

static const unsigned char *jws(const jerr *j, const unsigned char *p)
{
    while (p < j->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int jlit(const jerr *j, const unsigned char *p, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(j->end - p) >= n && memcmp(p, lit, n) == 0;
}

static int jvalue(jerr *j, const unsigned char **pp, int depth);

static int jstring(jerr *j, const unsigned char **pp)
{
    const unsigned char *start = *pp, *p = *pp + 1; /* after the opening quote */
    for (;;) {
        if (p >= j->end) return jerr_set(j, "Unterminated string starting at", start);
        unsigned char c = *p;
        if (c == '"') break;
        if (c < 0x20) return jerr_set(j, "Invalid control character at", p);
        if (c == '\\') {
            if (p + 1 >= j->end) return jerr_set(j, "Unterminated string starting at", start);
            unsigned char e = p[1];
            if (e == 'u') {
                int ok = j->end - p >= 6;
                for (int k = 2; ok && k < 6; k++) ok = isxdigit(p[k]) != 0;
                if (!ok) return jerr_set(j, "Invalid \\uXXXX escape", p + 1);
                p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || !e) return jerr_set(j, "Invalid \\escape", p);
            p += 2;
            continue;
        }
        p++;
    }
    *pp = p + 1;
    return 0;
}

static int jnumber(const jerr *j, const unsigned char **pp)
{
    const unsigned char *p = *pp;
    if (p < j->end && *p == '-') p++;
    if (p >= j->end || !isdigit(*p)) return -1;
    if (*p == '0') p++;
    else
        while (p < j->end && isdigit(*p)) p++;
    if (p + 1 < j->end && *p == '.' && isdigit(p[1])) {
        p++;
        while (p < j->end && isdigit(*p)) p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        const unsigned char *q = p + 1;
        if (q < j->end && (*q == '+' || *q == '-')) q++;
        if (q < j->end && isdigit(*q)) {
            while (q < j->end && isdigit(*q)) q++;
            p = q;
        }
    }
    *pp = p;
    return 0;
}

static int jcontainer(jerr *j, const unsigned char **pp, int depth, int is_obj)
{
    const unsigned char *p = jws(j, *pp + 1);
    const unsigned char close = is_obj ? '}' : ']';
    if (p < j->end && *p == close) {
        *pp = p + 1;
        return 0;
    }
    for (;;) {
        if (is_obj) {
            if (p >= j->end || *p != '"')
                return jerr_set(j, "Expecting property name enclosed in double quotes", p);
            if (jstring(j, &p)) return -1;
            p = jws(j, p);
            if (p >= j->end || *p != ':') return jerr_set(j, "Expecting ':' delimiter", p);
            p = jws(j, p + 1);
        }
        if (jvalue(j, &p, depth + 1)) return -1;
        p = jws(j, p);
        if (p < j->end && *p == close) {
            *pp = p + 1;
            return 0;
        }
        if (p >= j->end || *p != ',') return jerr_set(j, "Expecting ',' delimiter", p);
        p = jws(j, p + 1);
        if (p < j->end && *p == close)
            return jerr_set(j, is_obj ? "Expecting property name enclosed in double quotes" : "Expecting value", p);
    }
}

static int jvalue(jerr *j, const unsigned char **pp, int depth)
{
    const unsigned char *p = *pp;
    if (depth > 900) return jerr_set(j, "Expecting value", p); /* Python: RecursionError */
    if (p >= j->end) return jerr_set(j, "Expecting value", p);
    switch (*p) {
    case '"': return jstring(j, pp);
    case '{': return jcontainer(j, pp, depth, 1);
    case '[': return jcontainer(j, pp, depth, 0);
    default: break;
    }
    static const char *const lits[] = {"null", "true", "false", "NaN", "Infinity", "-Infinity", NULL};
    for (int i = 0; lits[i]; i++)
        if (jlit(j, p, lits[i])) {
            *pp = p + strlen(lits[i]);
            return 0;
        }
    if (jnumber(j, pp) == 0) return 0;
    return jerr_set(j, "Expecting value", p);
}

char *pyrepr_json_error(const char *json, size_t len)
{
    if (!json) json = "";
    jerr j = {(const unsigned char *)json, (const unsigned char *)json + len, NULL, NULL};
    const unsigned char *p = jws(&j, j.s);
    if (jvalue(&j, &p, 0) == 0) {
        p = jws(&j, p);
        if (p == j.end) return NULL;
        jerr_set(&j, "Extra data", p);
    }
    /* line, column and char offset in code points, as Python counts them */
    long pos = 0, line = 1, col_start = 0;
    for (const unsigned char *q = j.s; q < j.at; q++) {
        if ((*q & 0xC0) == 0x80) continue; /* continuation byte */
        if (*q == '\n') {
            line++;
            col_start = pos + 1;
        }
        pos++;
    }
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s: line %ld column %ld (char %ld)", j.msg, line, pos - col_start + 1, pos);
    return sb_take(&sb);
}

char *pyrepr_http_error(long status, const char *url)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%ld %s Error: %s for url: %s", status, status >= 500 ? "Server" : "Client", http_reason_phrase(status),
            url ? url : "");
    return sb_take(&sb);
}

/* ---- json.dumps / repr of cJSON values (the host services of driver.h) ---- */

/* Appends a number as Python prints the value json.loads gives: an int when integral (cJSON
 * keeps no int/float distinction), else the float's repr; json: inf/nan as json.dumps spells them. */
static void value_number(strbuf *sb, double d, int json)
{
    if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0) {
        sb_addf(sb, "%.0f", d);
    } else if (json && (isinf(d) || isnan(d))) {
        sb_add(sb, isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    } else {
        repr_float(sb, d);
    }
}

/* Appends Python's repr of a str. */
static void repr_string(strbuf *sb, const char *s)
{
    char *r = pyrepr_str(s);
    sb_add(sb, r ? r : "''");
    free(r);
}

/* Orders object members by key, as sort_keys=True does. */
static int cmp_members(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

/* Appends v as json.dumps (json) or repr (otherwise) writes the value json.loads gives. */
static void render_value(strbuf *sb, const cJSON *v, int json, int sort_keys, int depth)
{
    if (!v || cJSON_IsNull(v) || depth > 200) {
        sb_add(sb, json ? "null" : "None");
    } else if (cJSON_IsTrue(v)) {
        sb_add(sb, json ? "true" : "True");
    } else if (cJSON_IsFalse(v)) {
        sb_add(sb, json ? "false" : "False");
    } else if (cJSON_IsNumber(v)) {
        value_number(sb, v->valuedouble, json);
    } else if (cJSON_IsString(v)) {
        if (json)
            drv_json_str(sb, v->valuestring);
        else
            repr_string(sb, v->valuestring);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        int obj = cJSON_IsObject(v);
        size_t n = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, v) n++;
        const cJSON **items = xmalloc((n ? n : 1) * sizeof *items);
        if (!items) return;
        n = 0;
        cJSON_ArrayForEach(c, v) items[n++] = c;
        if (obj && sort_keys) qsort(items, n, sizeof *items, cmp_members);
        sb_addc(sb, obj ? '{' : '[');
        for (size_t i = 0; i < n; i++) {
            if (i) sb_add(sb, ", ");
            if (obj) {
                if (json)
                    drv_json_str(sb, items[i]->string ? items[i]->string : "");
                else
                    repr_string(sb, items[i]->string ? items[i]->string : "");
                sb_add(sb, ": ");
            }
            render_value(sb, items[i], json, sort_keys, depth + 1);
        }
        sb_addc(sb, obj ? '}' : ']');
        free(items);
    } else {
        sb_add(sb, json ? "null" : "None");
    }
}

char *pyrepr_dumps(const cJSON *v, int sort_keys)
{
    strbuf sb = STRBUF_INIT;
    render_value(&sb, v, 1, sort_keys, 0);
    return sb_take(&sb);
}

char *pyrepr_value(const cJSON *v)
{
    strbuf sb = STRBUF_INIT;
    render_value(&sb, v, 0, 0, 0);
    return sb_take(&sb);
}
