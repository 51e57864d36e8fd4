/* utf8: the one UTF-8 decoder (see utf8.h). */
#include "common/utf8.h"

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *bad)
{
    if (bad) *bad = 1;
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) len = 2, v = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, v = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, v = c & 0x07;
    else return 0;
    if (c == 0xE0) lo = 0xA0;      /* overlong */
    else if (c == 0xED) hi = 0x9F; /* surrogates */
    else if (c == 0xF0) lo = 0x90; /* overlong */
    else if (c == 0xF4) hi = 0x8F; /* past U+10FFFF */
    for (size_t i = 1; i < len; i++) {
        unsigned b = i < n ? s[i] : 0;
        if (i >= n || b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) {
            if (bad) *bad = i;
            return 0;
        }
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return len;
}

uint32_t utf8_next_replacing(const unsigned char **s, const unsigned char *end)
{
    uint32_t cp;
    size_t bad, len = utf8_decode(*s, (size_t)(end - *s), &cp, &bad);
    *s += len ? len : bad;
    return len ? cp : 0xFFFD;
}
