/* reason (prefix reason_): why a step failed, as the server said it. Turns a failed request
 * (method, URL, status, response body, transport error, attempts) into the `failure` object of
 * a `failed` step event (docs/events.md) and the text appended to the ERRORED message at the
 * LMS ("...; server said: <text>", docs/history.md). Every text is scrubbed of the config's
 * secrets and of the learner's own username, email and name BEFORE it is bounded. */
#ifndef RETIRECTL_REASON_H
#define RETIRECTL_REASON_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "engine/config.h"

/* The server's explanation in a response body: a JSON object's "detail" / "developer_message" /
 * "error_description" / "message" / "error" / "user_message" / "errors" (a string, or compact
 * JSON of a structure), a JSON string, the compact JSON of any other JSON, or the body text with
 * its whitespace collapsed. NULL for an empty body. malloc'd. */
char *reason_server_text(const char *body, size_t len);

/* A malloc'd copy of text with the config's secrets, the learner's personal data (username given
 * by the operator, and from the status record learner (may be NULL): original_username,
 * original_email, original_name, user.username, user.email, user.profile.name, retired_username,
 * retired_email; also their percent-encoded forms) and email-shaped text replaced, then cut to
 * at most max bytes (0: no limit) at a UTF-8 character boundary. */
char *reason_scrub(const cfg *c, const cJSON *learner, const char *username, const char *text, size_t max);

/* "METHOD /path/" of a URL: scheme, host and query dropped, learner data scrubbed. malloc'd. */
char *reason_request(const cfg *c, const cJSON *learner, const char *username, const char *method,
                     const char *url);

/* The `failure` object: {"request", "http_status" (when > 0), "server_text" (when the body said
 * anything), "transport_error" (when status is 0), "attempts" (when > 0)}. Caller owns it. */
cJSON *reason_failure(const cfg *c, const cJSON *learner, const char *username, const char *method, const char *url,
                      long status, const char *body, size_t body_len, const char *transport_error, int attempts);

/* The ERRORED message: upstream's text, plus "; server said: <server_text>" when there is one and
 * the config's lms.errored_text is not "upstream". malloc'd. */
char *reason_errored_text(const cfg *c, const char *upstream, const cJSON *failure);

#endif
