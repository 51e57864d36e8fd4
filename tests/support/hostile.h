/* A hostile HTTP server for tests: a forked child on a free loopback port that answers every
 * request the same misbehaving way (real sockets, so retirectl's real libcurl client talks to it).
 * Modes:
 *   "echoauth"  token POST -> 200 {"access_token": HOSTILE_TOKEN}; anything else -> 400
 *               {"detail": "bad header: <the request's Authorization value>"}
 *   "endless"   token POST as above; anything else -> 200 with a chunked body that never ends
 *   "catch"     appends every request (head and body) to the file given, answers 502 */
#ifndef RETIRECTL_TEST_HOSTILE_H
#define RETIRECTL_TEST_HOSTILE_H

#include <sys/types.h>

#define HOSTILE_TOKEN "TOKEN-hostile-5d1e7c42aa"

typedef struct hostile {
    pid_t pid;
    int port;
    char base_url[64]; /* "http://127.0.0.1:PORT" */
} hostile;

/* Starts the server; catch_file is used by "catch" (may be NULL otherwise). 0 or -1. */
int hostile_start(hostile *h, const char *mode, const char *catch_file);
/* Kills and reaps it. */
void hostile_stop(hostile *h);

#endif
