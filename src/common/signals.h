/* signals (prefix sig_): how a process that can be cancelled catches the signals that ask it to
 * stop, the same for the CLI's supervisors and the job workers. */
#ifndef RETIRECTL_SIGNALS_H
#define RETIRECTL_SIGNALS_H

#include <signal.h>

/* Calls handler on SIGINT and SIGTERM (without SA_RESTART, so a blocking call returns EINTR
 * and the caller sees the cancel at once) and ignores SIGPIPE (a closed stdout or event pipe
 * must not kill the process mid-step). The previous SIGINT and SIGTERM actions go into old_int
 * and old_term when they are not NULL (to put them back with sigaction). */
void sig_catch_cancel(void (*handler)(int), struct sigaction *old_int, struct sigaction *old_term);

#endif
