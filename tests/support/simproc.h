/* Test and benchmark support: start retirectl-sim on a free loopback port, talk to it,
 * run retirectl as a subprocess and capture what it prints. */
#ifndef RETIRECTL_TEST_SIMPROC_H
#define RETIRECTL_TEST_SIMPROC_H

#include <stddef.h>
#include <sys/types.h>

/* The sim's default OAuth client (the sim accepts these unless given other flags). */
#define SIM_CLIENT_ID "retirectl-test-client"
#define SIM_CLIENT_SECRET "s3cret-test-value-9f2c"

typedef struct sim_proc {
    pid_t pid;
    int port;
    char base_url[64]; /* "http://127.0.0.1:PORT" */
} sim_proc;

/* Starts RETIRECTL_SIM_BIN with `--port 0` plus extra_args (NULL-terminated, may be NULL) and
 * waits for its "listening on http://127.0.0.1:PORT" line. Returns 0, or -1 with a message on stderr. */
int sim_start(sim_proc *sim, const char *const *extra_args);
/* Sends SIGTERM, waits for exit; returns the sim's exit status (or -1). */
int sim_stop(sim_proc *sim);

/* One HTTP request to the sim (path starts with "/"). Adds `Authorization: JWT <token>` when
 * token is non-NULL. Returns the HTTP status (0 on transport error); *body_out (malloc'd,
 * NUL-terminated) receives the body when non-NULL. */
long sim_http(const sim_proc *sim, const char *method, const char *path, const char *token,
              const char *body, char **body_out);
/* Fetches a token with the default client; returns a malloc'd string or NULL. */
char *sim_token(const sim_proc *sim);

typedef struct cmd_result {
    int status;   /* exit status 0..255, or 128+signal */
    char *out;    /* captured stdout, NUL-terminated */
    char *err;    /* captured stderr, NUL-terminated */
} cmd_result;

/* Runs argv (argv[0] a path) with extra environment entries "NAME=VALUE" (NULL-terminated, may be
 * NULL), stdin from stdin_text (NULL: /dev/null). Waits up to timeout_s seconds (then SIGKILL).
 * Returns 0 when the command ran (see r->status), -1 when it could not be started. */
int run_command(cmd_result *r, const char *const *argv, const char *const *env, const char *stdin_text,
                int timeout_s);
void cmd_result_free(cmd_result *r);

/* Writes content to a new file in a fresh temp directory and returns its malloc'd path. */
char *write_temp_file(const char *name, const char *content);
/* A fresh temp directory (malloc'd path). It and everything in it are removed when the test
 * process exits normally (a failed cmocka test included); set RETIRECTL_KEEP_TEST_DIRS=1 to keep
 * them for a look. */
char *make_temp_dir(void);

/* Writes a retirectl config for this sim into a temp file; pipeline_yaml is the YAML text of the
 * `retirement_pipeline:` list items (each line "  - [A, B, C, D]") or NULL for the 4-step
 * LMS test pipeline; extra_yaml (or NULL) is appended verbatim. Returns the malloc'd path. */
char *sim_write_config(const sim_proc *sim, const char *pipeline_yaml, const char *extra_yaml);

#endif
