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
 *   D count                                                    done */
#ifndef RETIRECTL_UI_FETCH_H
#define RETIRECTL_UI_FETCH_H

#include <stddef.h>
#include <sys/types.h>

#include "engine/config.h"

/* Lists learners in each of states (one retirement_queue request per state, cool_off_days=0).
 * Returns the child's pid and the read end in *fd, or -1 with err. */
pid_t ui_fetch_queue(const cfg *c, const char *const *states, size_t n_states, int *fd, char *err, size_t err_len);
/* One learner's retirement_status record, flattened to F lines. */
pid_t ui_fetch_status(const cfg *c, const char *username, int *fd, char *err, size_t err_len);
/* The driver registry (every driver loaded, in the child). extra_files NULL-terminated or NULL. */
pid_t ui_fetch_drivers(const cfg *c, const char *const *extra_files, int *fd, char *err, size_t err_len);

/* Streams the learners of a retirement_queue JSON array body (len bytes) as L lines to out,
 * one element parsed at a time so memory stays flat. Returns the count, or -1 with err. */
long ui_fetch_emit_queue(const char *body, size_t len, void *out_file, char *err, size_t err_len);

#endif
