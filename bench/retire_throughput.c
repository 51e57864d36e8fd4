/* retire_throughput: learners per second for `retirectl retire USER` run once per learner
 * against retirectl-sim with an 8-step pipeline (the way a Jenkins loop calls it), and wall
 * time and peak memory (RSS of retirectl and its worker) of `retirectl plan` for one learner.
 * Prints figures; asserts nothing about time.
 *
 * usage: retire_throughput [LEARNERS]   (default 200) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simproc.h"

#define PIPELINE                                                                                        \
    "  - ['RETIRING_CREDENTIALS', 'CREDENTIALS_COMPLETE', 'CREDENTIALS', 'retire_learner']\n"           \
    "  - ['RETIRING_ECOM', 'ECOM_COMPLETE', 'ECOMMERCE', 'retire_learner']\n"                           \
    "  - ['RETIRING_LICENSE_MANAGER', 'LICENSE_MANAGER_COMPLETE', 'LICENSE_MANAGER', 'retire_learner']\n" \
    "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"                    \
    "  - ['RETIRING_ENROLLMENTS', 'ENROLLMENTS_COMPLETE', 'LMS', 'retirement_unenroll']\n"              \
    "  - ['RETIRING_NOTES', 'NOTES_COMPLETE', 'LMS', 'retirement_retire_notes']\n"                      \
    "  - ['RETIRING_LMS_MISC', 'LMS_MISC_COMPLETE', 'LMS', 'retirement_lms_retire_misc']\n"             \
    "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n"

#define STATES                                                                                          \
    "PENDING,RETIRING_CREDENTIALS,CREDENTIALS_COMPLETE,RETIRING_ECOM,ECOM_COMPLETE,"                     \
    "RETIRING_LICENSE_MANAGER,LICENSE_MANAGER_COMPLETE,RETIRING_FORUMS,FORUMS_COMPLETE,"                 \
    "RETIRING_ENROLLMENTS,ENROLLMENTS_COMPLETE,RETIRING_NOTES,NOTES_COMPLETE,RETIRING_LMS_MISC,"         \
    "LMS_MISC_COMPLETE,RETIRING_LMS,LMS_COMPLETE,ERRORED,ABORTED,COMPLETE"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *bin(void)
{
    const char *e = getenv("RETIRECTL_BIN");
    return e && *e ? e : RETIRECTL_BIN;
}

/* Runs retirectl with args, output discarded; returns the exit status and the child's rusage. */
static int run(const char *const *args, struct rusage *ru)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    int st = 0;
    struct rusage r;
    wait4(pid, &st, 0, &r);
    if (ru) *ru = r;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1) n = 1;
    setenv("LC_ALL", "C.UTF-8", 1);
    /* n PENDING learners past cool-off, known to every IDA */
    size_t cap = (size_t)n * 128 + 64;
    char *seed = malloc(cap);
    size_t len = (size_t)snprintf(seed, cap, "{\"learners\": [");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(seed + len, cap - len,
                                "%s{\"username\": \"bench%05d\", \"state\": \"PENDING\", \"days_ago\": 30, "
                                "\"license_manager\": true, \"orgs\": [\"edX\"]}",
                                i ? ", " : "", i);
    snprintf(seed + len, cap - len, "]}");
    char *seed_path = write_temp_file("seed.json", seed);
    free(seed);
    const char *sim_args[] = {"--seed", seed_path, "--states", STATES, NULL};
    sim_proc sim;
    if (sim_start(&sim, sim_args) != 0) {
        fprintf(stderr, "retire_throughput: cannot start retirectl-sim\n");
        return 1;
    }
    char *dir = make_temp_dir();
    char extra[1024];
    snprintf(extra, sizeof extra, "audit_log: %s/audit.jsonl\n", dir);
    char *config = sim_write_config(&sim, PIPELINE, extra);

    /* plan for one learner: wall time and peak RSS */
    const char *plan_args[] = {bin(), "--config", config, "plan", "bench00000", NULL};
    struct rusage ru;
    double t0 = now();
    int st = run(plan_args, &ru);
    double plan_wall = now() - t0;
    printf("plan (1 learner, 8 steps): exit %d, wall %.1f ms, peak RSS %.1f MiB\n", st, plan_wall * 1e3,
           (double)ru.ru_maxrss / 1024.0);

    /* retire each learner with its own retirectl process, one after the other */
    int failures = 0;
    t0 = now();
    for (int i = 0; i < n; i++) {
        char user[32];
        snprintf(user, sizeof user, "bench%05d", i);
        const char *args[] = {bin(), "--config", config, "retire", user, NULL};
        if (run(args, NULL) != 0) failures++;
    }
    double wall = now() - t0;
    printf("retire, one process per learner, sequential: %d learners (8 steps, 17 LMS updates each) in %.2f s "
           "= %.1f learners/s, %.2f ms per learner, %d failed\n",
           n, wall, n / wall, wall * 1e3 / n, failures);
    char *body = NULL;
    sim_http(&sim, "GET", "/__sim/health", NULL, NULL, &body);
    free(body);
    sim_stop(&sim);
    free(config);
    free(seed_path);
    free(dir);
    return failures ? 1 : 0;
}
