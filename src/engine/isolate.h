/* isolate (prefix iso_): runs a function in a child process and hands its text back, so that
 * plugin code (ELF constructors, get_instance, a preview) never runs in the CLI or console
 * process: a crash, exit or hang there becomes a sentence instead of ending the caller. */
#ifndef RETIRECTL_ISOLATE_H
#define RETIRECTL_ISOLATE_H

#include "common/strbuf.h"

/* The child's work: appends its text to out and returns its exit status (0..125). */
typedef int (*iso_fn)(void *arg, strbuf *out);

typedef struct iso_result {
    int exited;      /* 1 when fn returned (status holds its value) */
    int status;      /* fn's return value when exited */
    int signal;      /* the signal that ended the child, or 0 */
    int timed_out;   /* 1 when the child was killed after timeout_ms */
    char why[128];   /* "crashed (SIGSEGV)", "exited with status 3", "did not finish within 10 s", or "" */
} iso_result;

/* Forks, runs fn(arg, buffer) in the child and appends what it wrote to out (may be NULL).
 * timeout_ms <= 0: wait forever. Returns 0 when the child could be run (see res), -1 with res->why
 * set when fork or pipe failed. */
int iso_run(iso_fn fn, void *arg, int timeout_ms, strbuf *out, iso_result *res);

#endif
