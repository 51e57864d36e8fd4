/* roff (prefix roff_): text made safe for a man page, for the parts of docs/retirectl.1 that are
 * generated (the console's KEYS, the command table's GLOBAL OPTIONS and COMMANDS). */
#ifndef RETIRECTL_COMMON_ROFF_H
#define RETIRECTL_COMMON_ROFF_H

#include <stddef.h>

#include "common/strbuf.h"

/* Appends the n bytes of text to sb for roff: `-` as `\-` (a real hyphen-minus), `\` as `\e`,
 * and a line starting with `.` or `'` (a request otherwise) guarded with `\&`. */
void roff_add(strbuf *sb, const char *text, size_t n);

#endif
