/* http_reason: the HTTP reason phrases, one table for the engine, the drivers and the
 * simulator. The table is Python's http.client.responses, because the texts recorded at the
 * LMS must read as the upstream Python scripts write them (docs/lms-api.md §7.2). */
#ifndef RETIRECTL_HTTP_REASON_H
#define RETIRECTL_HTTP_REASON_H

#include <stddef.h>

/* The standard phrase of status ("Not Found"), "" when the code has none. */
const char *http_reason_phrase(long status);
/* The phrase the server sent on the final status line of the raw response headers (after
 * redirects or "100 Continue"), else the standard phrase; into out (len bytes, cut to fit). */
void http_reason_from_headers(const char *headers, long status, char *out, size_t len);

#endif
