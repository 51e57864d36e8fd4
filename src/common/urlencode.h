/* urlencode (prefix url_): percent-encoding, one encoder for the engine, the drivers and the
 * simulator. Unreserved characters (RFC 3986: ASCII letters and digits, '-', '.', '_', '~')
 * always stay, bytes of any other character are written as %XX with upper-case hex, as
 * Python's urllib.parse.quote does. */
#ifndef RETIRECTL_URLENCODE_H
#define RETIRECTL_URLENCODE_H

#include <stddef.h>

#include "common/strbuf.h"

/* Appends n bytes of s percent-encoded; the characters in keep also stay (e.g. "/" for a path,
 * "" for one segment); with URL_SPACE_PLUS a space becomes '+' (form encoding, quote_plus). */
enum { URL_SPACE_PLUS = 1 };
void url_encode_add(strbuf *sb, const char *s, size_t n, const char *keep, int flags);
/* Appends key=value (both quote_plus-encoded) to a query string or form body, with '&'
 * before it when sb is not empty, as Python's urlencode writes it. */
void url_form_add(strbuf *sb, const char *key, const char *value);

#endif
