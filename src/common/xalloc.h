/* xalloc: the one allocation policy of retirectl and retirectl-sim. Every allocation that
 * cannot be refused goes through these: on out-of-memory they print one line naming the size
 * ("retirectl: out of memory (allocating 4096 bytes); free memory and run the command again")
 * to stderr and abort(), so a worker's supervisor records the crash (docs/architecture.md §3)
 * instead of the program continuing with a NULL it did not check. */
#ifndef RETIRECTL_XALLOC_H
#define RETIRECTL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
/* n elements of size bytes, zeroed (also refuses a product that overflows). */
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* A copy of s; NULL is copied as "" (callers keep optional strings as owned ""). */
char *xstrdup(const char *s);
/* A copy of s, or NULL when s is NULL (optional strings that keep "absent" apart from ""). */
char *xstrdup_or_null(const char *s);
/* Replaces the owned string *dst by a copy of s (NULL when s is NULL), freeing the old one. */
void xstr_set(char **dst, const char *s);
/* A copy of at most n bytes of s, NUL-terminated. */
char *xstrndup(const char *s, size_t n);
/* Reports an allocation of n bytes that failed elsewhere (e.g. inside a library) and aborts. */
void xalloc_die(size_t n) __attribute__((noreturn));

#endif
