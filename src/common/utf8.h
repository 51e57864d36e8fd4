/* utf8 (prefix utf8_): the one UTF-8 decoder. Well-formed means Unicode's table 3-7: no
 * overlong forms, no surrogates, nothing past U+10FFFF. The console (strict: an ill-formed byte
 * is shown escaped), the CLI's inert text and the Python-compat emitters (errors='replace')
 * all read UTF-8 through it. */
#ifndef RETIRECTL_COMMON_UTF8_H
#define RETIRECTL_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the well-formed sequence at s (n bytes readable) into *cp and returns its length
 * (1..4); returns 0 when s does not start one (or n is 0), with *bad (when not NULL) set to the
 * length of the maximal ill-formed subpart there (1..3): the bytes one U+FFFD stands for in
 * Python's and Unicode's replacement. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *bad);

/* Decodes one code point at *s (before end) as Python's errors='replace' does, advancing *s:
 * an ill-formed subpart reads as U+FFFD. */
uint32_t utf8_next_replacing(const unsigned char **s, const unsigned char *end);

#endif
