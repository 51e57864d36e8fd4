/* audit (prefix audit_): the operator audit log, one JSON object per line, append-only.
 *
 * Every action that changes a learner's state or calls a driver writes two lines: a "start"
 * line before anything is done (audit_begin) and an "end" line with the outcome
 * (audit_end). audit_begin failing means the log cannot be written: the caller must NOT
 * start the action, and must print the error (it names the file and the system error).
 *
 * File: config key `audit_log` if set, else $XDG_STATE_HOME/retirectl/audit.jsonl, else
 * ~/.local/state/retirectl/audit.jsonl. Missing directories are created mode 0700; the file
 * is created mode 0600, opened O_RDWR|O_APPEND, every line is one write(2) (under an flock(2)
 * of the file, as other retirectl processes append too) followed by fsync(2). A line is whole or
 * absent: a short write (full disk) is truncated back off, and a file whose last line was cut is
 * truncated back to its last newline when opened. An existing file that is group/world-accessible is refused (names the path and
 * says `chmod 600`).
 *
 * Line fields (absent when unknown/empty):
 *   time (UTC ISO 8601 with ms), phase ("start"|"item"|"end"), operator (--operator, else the login
 *   name), host, pid, action, reason, user_id (LMS user id), retirement_id, from_state,
 *   to_state, driver, method, shard, steps [{driver, method, status}], outcome, exit_status,
 *   counts {name: n}, detail.
 * The log must not keep the personal data the retirement deletes: it never records an email,
 * full name or original username. Strings listed in audit_entry.pii (pass the learner's
 * original username, email, full name) are replaced by "[redacted]" in every string field
 * before writing, and strings that look like an email address are replaced too. */
#ifndef RETIRECTL_AUDIT_H
#define RETIRECTL_AUDIT_H

#include <stddef.h>

#include "engine/config.h"

typedef struct audit_log audit_log;

/* One step run by an action (strings borrowed). status: "done", "skipped", "failed", ... */
typedef struct audit_step {
    const char *driver;
    const char *method;
    const char *status;
} audit_step;

/* The steps an action ran, collected from its job events (audit_steps_note): owned copies,
 * no limit; pass v and n as audit_entry.steps / n_steps. Zero-initialise; audit_steps_free. */
typedef struct audit_steps {
    audit_step *v;
    size_t n, cap;
    int last_index; /* the index of v[n - 1]'s event */
} audit_steps;

struct ev_event;
/* Records ev when it ends a step: status "done" or "failed", and "skipped" when with_skipped.
 * A second final status of the same step (same index, driver and method: a worker that died
 * after its step) replaces the first. Returns 1 when ev ended a step, else 0. */
int audit_steps_note(audit_steps *s, const struct ev_event *ev, int with_skipped);
void audit_steps_free(audit_steps *s);

/* A named count for bulk actions ("done", "failed", "updated", ...). */
typedef struct audit_count {
    const char *name;
    long long value;
} audit_count;

/* What an action is about. All pointers are borrowed; NULL / negative = absent. */
typedef struct audit_entry {
    const char *action;          /* "retire", "retire-all", "resume", "rerun", "reset", ... (required) */
    const char *reason;          /* --reason TEXT */
    long long user_id;           /* LMS user id, < 0 if unknown */
    long long retirement_id;     /* retirement record id, < 0 if unknown */
    const char *from_state;      /* state before the action */
    const char *to_state;        /* state after (or forced to) */
    const char *driver;          /* rerun: driver */
    const char *method;          /* rerun: method */
    const char *shard;           /* retire --all --shard I/N */
    const audit_step *steps;     /* steps run, in order */
    size_t n_steps;
    const char *outcome;         /* "complete", "errored", "refused", "ok", "failed", "dry-run", ... */
    int exit_status;             /* process exit status; written only on "end" lines */
    const audit_count *counts;
    size_t n_counts;
    const char *detail;          /* short free text (an error message); scrubbed like the rest */
    const char *const *pii;      /* strings never to write (username, email, name); NULL-terminated */
} audit_entry;

/* Fills an entry with "absent" values (ids -1, everything else NULL/0). */
void audit_entry_init(audit_entry *e, const char *action);

/* Returns the path the log would use for this config (c may be NULL): malloc'd, caller frees;
 * NULL with err filled when neither XDG_STATE_HOME nor HOME is set. */
char *audit_default_path(const cfg *c, char *err, size_t err_len);

/* Creates every missing directory above path with mode 0700 (the lease files use it too).
 * Returns 0, or -1 with errno set and the directory that failed in failed. */
int audit_make_parent_dirs(const char *path, char *failed, size_t failed_len);

/* Opens (creating directory 0700 and file 0600 as needed) the log for this config. operator_name
 * NULL means the login name (getlogin, then $USER, then the uid's passwd name, else "uid N").
 * Returns 0 and *out (caller closes with audit_close), or -1 with err naming the path and the
 * system error and saying what to do. */
int audit_open(const cfg *c, const char *operator_name, audit_log **out, char *err, size_t err_len);
/* Same with an explicit path. */
int audit_open_path(const char *path, const char *operator_name, audit_log **out, char *err,
                    size_t err_len);

/* Writes the "start" line and fsyncs. -1 (err filled) means: do not start the action. */
int audit_begin(audit_log *a, const audit_entry *e, char *err, size_t err_len);
/* Writes the "end" line (with outcome and exit_status) and fsyncs. -1 with err on failure. */
int audit_end(audit_log *a, const audit_entry *e, char *err, size_t err_len);
/* Writes an "item" line: one learner inside a bulk action (reset, retire --all), between the
 * bulk action's start and end lines, with outcome and exit_status (the learner's own, e.g.
 * 252 for a retire that ended ERRORED). Item lines are written at once (one write(2) each) but
 * fsync'd in groups: when AUDIT_ITEM_SYNC_MS have passed since the last fsync, and always by
 * audit_sync, audit_end and audit_close (so a bulk run of thousands of learners is not bound
 * by the disk). -1 with err on failure. */
#define AUDIT_ITEM_SYNC_MS 50
int audit_item(audit_log *a, const audit_entry *e, char *err, size_t err_len);
/* Flushes written lines to disk now (fsync) if any is pending. -1 with err on failure. */
int audit_sync(audit_log *a, char *err, size_t err_len);

/* The file path and operator name in use (owned by the log). */
const char *audit_path(const audit_log *a);
const char *audit_operator(const audit_log *a);

void audit_close(audit_log *a);
/* In a forked worker: closes every audit log descriptor inherited from the supervisor (without
 * writing or syncing), so neither the worker nor plugin code holds the log open. */
void audit_close_inherited(void);

#endif
