/* Sanitizing and measuring untrusted text for the terminal (see text.h). */
#include "ui/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/strbuf.h"
#include "common/utf8.h"

/* Non-zero for code points that must never reach the terminal as themselves. */
static int dangerous(unsigned cp)
{
    if (cp < 0x20 || cp == 0x7F) return 1;
    if (cp >= 0x80 && cp <= 0x9F) return 1;                    /* C1 controls (CSI = U+009B) */
    if (cp == 0x061C || cp == 0x200E || cp == 0x200F) return 1; /* bidi marks */
    if (cp >= 0x202A && cp <= 0x202E) return 1;                 /* bidi embeddings/overrides */
    if (cp >= 0x2066 && cp <= 0x2069) return 1;                 /* bidi isolates */
    if (cp == 0x2028 || cp == 0x2029) return 1;                 /* line/paragraph separators */
    if (cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB)) return 1;
    if (cp >= 0xE0000 && cp <= 0xE007F) return 1;               /* tag characters */
    if (wcwidth((wchar_t)cp) < 0) return 1;                     /* unassigned / unprintable */
    return 0;
}

char *ui_text_sanitize(const char *s, size_t len)
{
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, "");
    if (!s) return sb_take(&sb);
    if (len == (size_t)-1) len = strlen(s);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        int n = (int)utf8_decode(p + i, len - i, &cp, NULL);
        if (n == 0) {
            sb_addf(&sb, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if (dangerous(cp)) {
            if (cp < 0x80) sb_addf(&sb, "\\x%02x", cp);
            else sb_addf(&sb, "\\u{%04X}", cp);
        } else {
            sb_addn(&sb, (const char *)p + i, (size_t)n);
        }
        i += (size_t)n;
    }
    return sb_take(&sb);
}

/* Width of one code point already known to be printable. */
static int cp_width(unsigned cp)
{
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}

int ui_text_width(const char *s)
{
    int w = 0;
    if (!s) return 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    while (i < len) {
        uint32_t cp;
        int n = (int)utf8_decode(p + i, len - i, &cp, NULL);
        if (n == 0) {
            w += 4; /* would be shown as \xHH */
            i++;
            continue;
        }
        w += cp_width(cp);
        i += (size_t)n;
    }
    return w;
}

int ui_text_fit(const char *s, int width, int pad, char *out, size_t out_size)
{
    if (!out || out_size == 0) return 0;
    out[0] = '\0';
    if (width <= 0) return 0;
    if (!s) s = "";
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, o = 0;
    int total = ui_text_width(s);
    int limit = total > width ? width - 1 : width; /* keep a cell for the ellipsis when cutting */
    int w = 0;
    while (i < len) {
        uint32_t cp;
        int n = (int)utf8_decode(p + i, len - i, &cp, NULL);
        if (n == 0 || dangerous(cp)) { /* caller forgot to sanitize: show a middle dot instead */
            n = n ? n : 1;
            if (w + 1 > limit || o + 3 >= out_size) break;
            memcpy(out + o, "\xC2\xB7", 2), o += 2, w += 1;
            i += (size_t)n;
            continue;
        }
        int cw = cp_width(cp);
        if (w + cw > limit) break;
        if (o + (size_t)n + 1 >= out_size) break;
        memcpy(out + o, p + i, (size_t)n);
        o += (size_t)n;
        w += cw;
        i += (size_t)n;
    }
    if (total > width && w < width && o + 4 < out_size) {
        /* pad the gap a cut wide char left, then the ellipsis in the last cell */
        while (w < width - 1 && o + 5 < out_size) out[o++] = ' ', w++;
        memcpy(out + o, "\xE2\x80\xA6", 3), o += 3, w += 1;
    }
    if (pad)
        while (w < width && o + 1 < out_size) out[o++] = ' ', w++;
    out[o] = '\0';
    return w;
}

void ui_text_flatten(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            if (*p == '\r' && p[1] == '\n') p++;
            if (o == s || o[-1] != ' ') *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}
