/* ui fetch (prefix ui_fetch_): the console never talks HTTP itself. Each fetch runs in a
 * forked child that uses the engine (lms/http/reg) and writes a compact line protocol to a
 * pipe the UI loop poll()s; the UI only parses lines. The child's stdin/stderr are /dev/null,
 * its signal handlers default, and it ends with _exit. Line protocol (fields tab-separated,
 * backslash-escaped with ui_proto_escape):
 *   L id user_id created modified state last_state username   one learner (epoch seconds)
 *   F path value                                               one record field (status)
 *   V name source line version builtin methods error           one driver
 *   P text                                                     a registry problem
 *   H user_id kind since text                                  a history note (history_notes.h)
 *   E text                                                     an error sentence
 *   T token seconds_left                                       the LMS token a child fetched
 *                                                              (for the console's shared client;
 *                                                              never drawn or logged)
 *   D count                                                    done */
#ifndef RETIRECTL_UI_FETCH_H
#define RETIRECTL_UI_FETCH_H

#include <stddef.h>
#include <sys/types.h>

#include "engine/config.h"

/* Sets up the console's one HTTP client (no network). Children forked afterwards use it and its
 * token; a token a child fetches comes back as a T line for ui_fetch_take_token, so the console
 * and all its fetch children share one token for its lifetime. Without it each child makes its
 * own client. 0, or -1 with err. */
int ui_fetch_init(const cfg *c, char *err, size_t err_len);
void ui_fetch_done(void);
/* A pipe holding the shared client's token for a job (RETIRECTL_TOKEN_FD, see engine/http.h):
 * the read end (close-on-exec: the job's child clears it), or -1 when no valid token is held. */
int ui_fetch_token_pipe(void);
/* Adopts the token of a "T\t..." line into the shared client (and wipes the line); returns 1
 * when line was a T line, 0 otherwise. */
int ui_fetch_take_token(char *line);

/* One request of a refresh: the learners in states (one retirement_queue request,
 * cool_off_days=0); with since ("YYYY-MM-DD") those whose request was created since then, one
 * retirements_by_status_and_date request per state (COMPLETE and ABORTED for history_days). */
typedef struct ui_fetch_req {
    const char *const *states;
    size_t n_states;
    const char *since;
    long limit;              /* > 0: at most that many learners (retirement_queue's limit) */
} ui_fetch_req;

/* Runs the n requests in parallel in a child; returns its pid and the read end in *fd, or -1
 * with err. reqs must stay valid until the call returns (the child has a copy). */
pid_t ui_fetch_requests(const cfg *c, const ui_fetch_req *reqs, size_t n, int *fd, char *err, size_t err_len);
/* ui_fetch_requests with one request for states. */
pid_t ui_fetch_queue(const cfg *c, const char *const *states, size_t n_states, int *fd, char *err, size_t err_len);
/* One learner's retirement_status record, flattened to F lines. */
pid_t ui_fetch_status(const cfg *c, const char *username, int *fd, char *err, size_t err_len);
/* The driver registry (every driver loaded, in the child). extra_files NULL-terminated or NULL. */
pid_t ui_fetch_drivers(const cfg *c, const char *const *extra_files, int *fd, char *err, size_t err_len);

/* Streams the learners of a retirement_queue JSON array body (len bytes) as L lines to out,
 * one element parsed at a time so memory stays flat. Returns the count, or -1 with err. */
long ui_fetch_emit_queue(const char *body, size_t len, void *out_file, char *err, size_t err_len);

#endif
