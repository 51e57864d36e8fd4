/* ui elsewhere (prefix ui_elsewhere_): is a learner's retirement being worked on by a process
 * other than this console's own jobs (another console, `retire --all`, Jenkins)? The console
 * asks before every action and refuses with where and since when (docs/console.md).
 *
 * Evidence used, strongest first:
 *   1. the learner's lease (src/engine/lease.h) held by a process that is not one of this
 *      console's jobs: the holder's host, pid, command and since, as the CLI refusals name them;
 *   2. a live `retirectl` process on this host whose arguments name the learner and that uses the
 *      same config file (pid, command, start time), not one of this console's jobs (a command
 *      from a build without the lease);
 *   3. the LMS record: a working state changed less than step_timeout_seconds ago (a job on
 *      another host; its pid is unknown). */
#ifndef RETIRECTL_UI_ELSEWHERE_H
#define RETIRECTL_UI_ELSEWHERE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

typedef struct ui_elsewhere {
    int found;
    long pid;                 /* 0: unknown (another host) */
    char host[128];           /* host name, or "" when unknown */
    char command[256];        /* raw command line (sanitize before drawing), or "" */
    int64_t since;            /* epoch seconds the job (or the state) started; 0 unknown */
    int ended;                /* the lease holder's pid has ended: its orphaned worker holds the learner */
} ui_elsewhere;

/* What the caller knows about the learner and about its own jobs. */
typedef struct ui_elsewhere_query {
    const char *username;     /* raw */
    int working;              /* the learner is in a step's working state */
    int64_t modified;         /* last change at the LMS, epoch seconds (0 unknown) */
    double step_timeout_s;    /* config step_timeout_seconds */
    const pid_t *own;         /* process groups of this console's jobs (their pids) */
    size_t n_own;
    const char *proc_root;    /* "/proc" (tests may point elsewhere) */
    const char *config_path;  /* this console's config (absolute): a process with another config
                                 file works on another LMS, or another's queue, and is not counted */
    const char *lms;          /* base_urls.lms (the lease key, as the CLI passes it); NULL: no lease check */
    const char *state_dir;    /* the leases' state dir; NULL: lease_state_dir() */
} ui_elsewhere_query;

/* Fills *out and returns 1 when the learner looks worked on elsewhere, else 0. now: epoch s. */
int ui_elsewhere_find(const ui_elsewhere_query *q, time_t now, ui_elsewhere *out);
/* Only source 1, the lease: a cheap non-blocking flock try on a local file (for the list's
 * visible rows; never per row of the whole store). Fills *out and returns 1 when held. */
int ui_elsewhere_lease(const ui_elsewhere_query *q, ui_elsewhere *out);
/* Quick check without the process scan (for every list row): working and fresh at the LMS. */
int ui_elsewhere_fresh(int working, int64_t modified, double step_timeout_s, time_t now);
/* "running elsewhere: host H, pid P, since HH:MM:SS (Ns ago): COMMAND" in out. */
void ui_elsewhere_describe(const ui_elsewhere *w, time_t now, char *out, size_t out_size);

#endif
