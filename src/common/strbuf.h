/* strbuf: a growable NUL-terminated string (prefix sb_), the one string buffer of the engine,
 * console, CLI and simulator. The strbuf owns its data; sb_free releases it, sb_take hands it to
 * the caller. Out of memory follows common/xalloc.h (one message, abort). */
#ifndef RETIRECTL_STRBUF_H
#define RETIRECTL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *data; /* always NUL-terminated once anything was added; NULL when empty and untouched */
    size_t len;
    size_t cap;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0}

void sb_add(strbuf *sb, const char *s);
void sb_addn(strbuf *sb, const char *s, size_t n);
void sb_addc(strbuf *sb, char c);
void sb_addf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* A malloc'd printf-style string (caller frees). */
char *sb_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Returns the contents ("" when empty); valid until the next change. */
const char *sb_str(const strbuf *sb);
/* Hands the malloc'd string to the caller (never NULL) and resets sb. */
char *sb_take(strbuf *sb);
void sb_reset(strbuf *sb);
void sb_free(strbuf *sb);

#endif
