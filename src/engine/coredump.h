/* coredump (prefix coredump_): keeps secrets out of core dumps. The config's secrets, the LMS
 * token and plugins' keys live in the memory of the supervisor and of every worker; a core file
 * of a crashing plugin would hold them all. */
#ifndef RETIRECTL_COREDUMP_H
#define RETIRECTL_COREDUMP_H

/* Sets RLIMIT_CORE to 0 and PR_SET_DUMPABLE to 0 for this process; forked workers inherit both.
 * Returns 0, or -1 with errno when a setting failed. `--allow-core-dumps` skips the call. */
int coredump_disable(void);

#endif
