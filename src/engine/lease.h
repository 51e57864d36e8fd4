/* lease (prefix lease_): one job per learner (docs/operators.md, "One job per learner").
 *
 * Host-local part: before anything changes a learner (retire, resume, rerun, reset, each
 * learner of `retire --all`, the console's actions, which run those commands) the process
 * takes an exclusive flock(2) on a per-learner file:
 *
 *     <state dir>/leases/<16 hex digits>.lock
 *
 * where <state dir> is $XDG_STATE_HOME/retirectl (an absolute XDG_STATE_HOME), else
 * ~/.local/state/retirectl (lease_state_dir), and the hex digits are FNV-1a-64 of the LMS root
 * URL (base_urls.lms, trailing slashes ignored) and the username as given: a learner is one
 * username at one LMS (the file name carries no personal data). Directories are created 0700,
 * files 0600. The file holds one JSON line describing the holder (padded with spaces to 512 bytes):
 *
 *     {"pid":1234,"command":"retirectl retire","host":"ops-1","since":"2026-12-03T08:50:01Z","since_epoch":1796288...}
 *
 * The lock, not the text, is the truth: the kernel drops it when the holder's last descriptor
 * closes (also on SIGKILL), so a crashed holder never leaves a stale lease. The descriptor is
 * O_CLOEXEC; a worker forked for the learner inherits it (so a worker that outlives its
 * supervisor keeps the learner until it exits) and closes every other lease it inherited
 * (lease_close_inherited), because a lease held through a stray descriptor would outlive
 * lease_release.
 *
 * Cross-host part (lease_fresh_working_state): a learner in a working state whose record was
 * modified less than step_timeout_seconds ago may be running on another host; resume, rerun
 * and reset refuse it (exit 253) unless --force.
 *
 * Not thread-safe: call from the supervisor's one thread. */
#ifndef RETIRECTL_LEASE_H
#define RETIRECTL_LEASE_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "engine/config.h"

typedef struct lease lease;

/* Who holds a lease. Strings are "" when unknown (the holder may not have written them yet). */
typedef struct lease_holder {
    long pid;          /* the holding command's process id (0 when unknown) */
    int alive;         /* pid is a live process on this host */
    char command[128]; /* e.g. "retirectl retire", "retirectl retire --all", "retirectl resume" */
    char host[256];
    char since[40];    /* UTC ISO 8601 */
    long since_epoch;  /* seconds since 1970, 0 when unknown */
} lease_holder;

/* The state directory: $XDG_STATE_HOME/retirectl or ~/.local/state/retirectl. malloc'd;
 * NULL with err when neither XDG_STATE_HOME nor HOME is set. */
char *lease_state_dir(char *err, size_t err_len);

/* Takes the lease of username at the LMS lms (base_urls.lms; state_dir NULL: lease_state_dir()).
 * command names the holder in refusals. Returns 0 with *out (release with lease_release); 1 when another process holds
 * it (*holder filled, when holder is non-NULL); -1 with err (the directory or file cannot be
 * made: the caller must not go on). Never blocks. */
int lease_acquire(const char *state_dir, const char *lms, const char *username, const char *command, lease **out,
                  lease_holder *holder, char *err, size_t err_len);

/* Releases and frees (NULL is fine). */
void lease_release(lease *l);

/* Who holds the lease of username at lms (for the console: "running elsewhere"): 1 held
 * (*holder filled), 0 free, -1 error (err filled). Never blocks, never takes it. */
int lease_peek(const char *state_dir, const char *lms, const char *username, lease_holder *holder, char *err,
               size_t err_len);

/* One sentence naming the holder for a refusal, e.g. "pid 1234 (retirectl retire) on host ops-1
 * since 2026-12-03T08:50:01Z". */
void lease_describe(const lease_holder *h, char *buf, size_t len);

/* In a forked child: closes every lease descriptor this process inherited except the one for
 * keep_username at lms (NULL: closes them all). The child must not call lease_release on them. */
void lease_close_inherited(const char *lms, const char *keep_username);

/* The cross-host rule: 1 when the learner record's current state is a working state of c's
 * pipeline and its `modified` (ISO 8601, UTC) is less than c's step_timeout_seconds (default
 * 900) before now (*age_seconds set when non-NULL); 0 otherwise (also when `modified` is
 * missing or unreadable: the host-local lock still applies). */
int lease_fresh_working_state(const cJSON *learner, const cfg *c, double *age_seconds);

#endif
