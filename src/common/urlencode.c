/* urlencode: percent-encoding; see urlencode.h. */
#include "common/urlencode.h"

#include <string.h>

/* RFC 3986 unreserved, in ASCII only (isalnum would follow the locale). */
static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

void url_encode_add(strbuf *sb, const char *s, size_t n, const char *keep, int flags)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (c && keep && strchr(keep, c))) {
            sb_addc(sb, (char)c);
        } else if (c == ' ' && (flags & URL_SPACE_PLUS)) {
            sb_addc(sb, '+');
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_addn(sb, esc, 3);
        }
    }
}

void url_form_add(strbuf *sb, const char *key, const char *value)
{
    if (sb->len) sb_addc(sb, '&');
    url_encode_add(sb, key, strlen(key), "", URL_SPACE_PLUS);
    sb_addc(sb, '=');
    url_encode_add(sb, value, strlen(value), "", URL_SPACE_PLUS);
}
