/* ui text (prefix ui_text_): making untrusted text safe and measuring it for the terminal.
 * Everything a server, a plugin or a job sends (usernames, messages, URLs) goes through
 * ui_text_sanitize before it is drawn: control characters, escape sequences, bidi
 * overrides and invalid UTF-8 come out as visible, inert escapes such as "\x1b". */
#ifndef RETIRECTL_UI_TEXT_H
#define RETIRECTL_UI_TEXT_H

#include <stddef.h>

/* Returns a malloc'd (caller frees) valid UTF-8 copy of the first len bytes of s (len
 * (size_t)-1: up to the NUL) in which every byte or code point that could act on a terminal
 * is replaced by a printable escape: C0/DEL as \xHH, invalid UTF-8 bytes as \xHH, C1 controls,
 * bidi controls and unprintable code points as \u{HHHH}. Never NULL (aborts on OOM). */
char *ui_text_sanitize(const char *s, size_t len);

/* Replaces line breaks (CR, LF, CRLF) in s with one space, in place: for messages shown on one
 * row (never for usernames, whose control characters must stay visible as escapes). */
void ui_text_flatten(char *s);

/* Display width in terminal cells of sanitized UTF-8 text (wcwidth per code point; needs a
 * UTF-8 LC_CTYPE). Unprintable code points count as 1 (they never reach here sanitized). */
int ui_text_width(const char *s);

/* Writes into out (size out_size) the sanitized text s cut to at most width cells, with "…"
 * as the last cell when it was cut, then padded with spaces to exactly width cells when pad
 * is non-zero. Never splits a code point; a wide char that does not fit is replaced by spaces.
 * Returns the number of cells written. */
int ui_text_fit(const char *s, int width, int pad, char *out, size_t out_size);


#endif
