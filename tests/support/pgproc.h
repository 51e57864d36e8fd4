/* Test and benchmark support: a private PostgreSQL server (Debian's postgresql package) in a
 * temporary folder on a free loopback port, run as an unprivileged user (`nobody` when we are
 * root: the server refuses to run as root), stopped and removed by pg_stop. */
#ifndef RETIRECTL_TEST_PGPROC_H
#define RETIRECTL_TEST_PGPROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct pg_proc {
    pid_t pid;
    int port;
    char dir[256];  /* temp folder (data directory and socket) */
    char url[160];  /* "postgresql://retirectl@127.0.0.1:PORT/postgres" */
} pg_proc;

/* Finds initdb/postgres ($RETIRECTL_PG_BIN, else /usr/lib/postgresql/<newest>/bin) and starts
 * a server. Returns 0 when it is accepting connections, 1 when the binaries are absent (why in
 * why: the caller skips), -1 on any other failure (why says what). */
int pg_start(pg_proc *pg, char *why, size_t why_len);
/* Stops the server (fast shutdown, then SIGKILL after 10 s) and removes its folder. */
void pg_stop(pg_proc *pg);

#endif
