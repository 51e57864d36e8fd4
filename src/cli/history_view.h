/* history_view (prefix cli_hist_): how the CLI shows the retirement history (docs/history.md):
 * opening the store the config names, a job as JSON, the full failure record as text, and
 * finding a learner's LMS user id from a username. Used by `history` and `status`. */
#ifndef RETIRECTL_CLI_HISTORY_VIEW_H
#define RETIRECTL_CLI_HISTORY_VIEW_H

#include <cjson/cJSON.h>

#include "engine/config.h"
#include "engine/history.h"
#include "common/strbuf.h"

/* Opens the config's history store (c may be NULL: the default file): 0, or -1 after saying why
 * on stderr. */
int cli_hist_open(const cfg *c, history **h);
/* Every field of a job, its steps included. Caller owns it. */
cJSON *cli_hist_job_json(const hist_job *j);
/* The full failure record of a job, one "  label  value" line each (when, who, where, the
 * request, HTTP status, server text, transport error, attempts, reason/ticket). */
void cli_hist_failure_text(strbuf *sb, const hist_job *j);
/* The learner's latest failed job that is still its latest finished job (0 and *out), 1 when
 * there is none, -1 on a store error (said on stderr). */
int cli_hist_last_failure(history *h, long long lms_user_id, hist_job *out);

/* Records one learner of `reset` (a forced state change, not a job) in the history: from/to
 * states, outcome complete, or errored with the PATCH's failure (le: status, body, message).
 * r may be NULL (history off). */
struct job_recorder;
struct lms_error;
void cli_hist_reset_item(struct job_recorder *r, const cfg *c, const cJSON *learner, const char *from, const char *to,
                         const struct lms_error *le, const char *reason);

#endif
