/* retirectl demo: starts retirectl-sim with demo learners on a free loopback port, writes a
 * demo config into a private temp dir and opens the console on it; stops the sim and cleans
 * up when the console exits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "engine/paths.h"

static const cli_opt demo_options[] = {
    {"--keep", NULL, "keep the temp folder (config and sim log) and print its path", 0, NULL},
    CLI_OPT_END,
};

static int demo_exec(const cli_args *a, const cli_globals *g);

const cli_cmd_entry cmd_demo_entry = {
    .name = "demo",
    .summary = "start retirectl-sim with demo learners and open the console on it",
    .about = "Starts retirectl-sim on a free loopback port with demo learners (pending, past cool-off,\n"
             "ERRORED, stuck, complete), writes a demo config (environment: demo) into a private temp\n"
             "folder and opens the console on it. The sim stops when the console exits.\n",
    .opts = demo_options,
    .epilogue = "The sim binary: $RETIRECTL_SIM_BIN, else the build tree's when run from it, else retirectl-sim\n"
                "beside this program, else the first on $PATH.\n",
    .exec = demo_exec,
};

/* Starts the sim with stdout to a pipe (read for the listening line) and stderr to log_path.
 * Returns pid and the port in *port, or -1 with a message on stderr. */
/* --legacy-mailings: the demo pipeline keeps the EMAIL_LISTS step (a demo learner is stuck in it),
 * which today's LMS answers with 404; the 2018 behaviour lets a demo retirement complete. */
static pid_t start_sim(const char *sim, const char *log_path, int *port)
{
    int p[2];
    if (pipe(p) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(p[1], STDOUT_FILENO);
        if (logfd >= 0) dup2(logfd, STDERR_FILENO);
        close(p[0]);
        close(p[1]);
        execl(sim, sim, "--port", "0", "--demo", "--legacy-mailings", (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", sim, strerror(errno));
        _exit(127);
    }
    close(p[1]);
    /* read lines until "listening on http://127.0.0.1:PORT" (10 s at most) */
    char buf[4096];
    size_t have = 0;
    time_t deadline = time(NULL) + 10;
    *port = 0;
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    while (!*port && time(NULL) < deadline) {
        ssize_t n = read(p[0], buf + have, sizeof buf - 1 - have);
        if (n > 0) {
            have += (size_t)n;
            buf[have] = '\0';
            char *l = strstr(buf, "listening on http://127.0.0.1:");
            if (l && strchr(l, '\n')) *port = atoi(l + strlen("listening on http://127.0.0.1:"));
            if (have >= sizeof buf - 1) have = 0;
            continue;
        }
        if (n == 0) break;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            pid = -pid; /* already gone */
            break;
        }
        usleep(20000);
    }
    /* keep the pipe's read end open until the sim stops, so its later stdout writes never fail;
       it is closed with the process (the fd is inherited by nothing: O_CLOEXEC not needed, the
       console's children are exec'd with their own stdout) */
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    if (!*port) {
        if (pid > 0) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
        }
        close(p[0]);
        fprintf(stderr, "retirectl demo: %s did not print its 'listening on http://127.0.0.1:PORT' line within 10 s "
                        "(its messages: %s)\n", sim, log_path);
        return -1;
    }
    return pid;
}

/* Stops the sim: SIGTERM, then SIGKILL after 5 s. */
static void stop_sim(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 250; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void remove_dir(const char *dir) /* dir shorter than PATH_MAX */
{
    static const char *const files[] = {"config.yml", "sim.log", "audit.log"};
    char path[PATH_MAX + 64];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int demo_exec(const cli_args *a, const cli_globals *g)
{
    int keep = cli_args_has(a, "--keep") > 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "retirectl demo: the console needs a terminal on stdin and stdout\n");
        return 2;
    }
    char sim[PATH_MAX];
    char *sim_path = paths_sim_bin();
    if (!sim_path) {
        fprintf(stderr, "retirectl demo: retirectl-sim not found (install the retirectl-sim package, set "
                        "RETIRECTL_SIM_BIN, or build it: cmake --build build --target retirectl-sim)\n");
        return 255;
    }
    snprintf(sim, sizeof sim, "%s", sim_path);
    free(sim_path);
    const char *tmp = getenv("TMPDIR");
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/retirectl-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "retirectl demo: cannot create a temp folder in %s: %s\n", tmp && *tmp ? tmp : "/tmp",
                strerror(errno));
        return 255;
    }
    char log_path[PATH_MAX], cfg_path[PATH_MAX];
    snprintf(log_path, sizeof log_path, "%s/sim.log", dir);
    snprintf(cfg_path, sizeof cfg_path, "%s/config.yml", dir);
    int port = 0;
    pid_t pid = start_sim(sim, log_path, &port);
    if (pid < 0) {
        if (!keep) remove_dir(dir);
        return 255;
    }
    FILE *f = fopen(cfg_path, "w");
    if (!f) {
        fprintf(stderr, "retirectl demo: cannot write %s: %s\n", cfg_path, strerror(errno));
        stop_sim(pid);
        if (!keep) remove_dir(dir);
        return 255;
    }
    fchmod(fileno(f), 0600); /* it holds the (demo) client secret */
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    fprintf(f,
            "# retirectl demo config, written by `retirectl demo` for retirectl-sim on %s\n"
            "environment: demo\n"
            "client_id: retirectl-test-client\n"
            "client_secret: s3cret-test-value-9f2c\n"
            "base_urls:\n"
            "  lms: %s/\n"
            "  ecommerce: %s/ecommerce/\n"
            "  credentials: %s/credentials/\n"
            "  demographics: %s/demographics/\n"
            "  license_manager: %s/license-manager/\n"
            "retirement_pipeline:\n"
            "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
            "  - ['RETIRING_EMAIL_LISTS', 'EMAIL_LISTS_COMPLETE', 'LMS', 'retirement_retire_mailings']\n"
            "  - ['RETIRING_ENROLLMENTS', 'ENROLLMENTS_COMPLETE', 'LMS', 'retirement_unenroll']\n"
            "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n"
            "audit_log: %s/audit.log\n"
            "console:\n"
            "  refresh_seconds: 5\n"
            "  cool_off_days: 7\n"
            "  workers: 4\n",
            base, base, base, base, base, base, dir);
    if (fclose(f) != 0) {
        fprintf(stderr, "retirectl demo: cannot write %s\n", cfg_path);
        stop_sim(pid);
        if (!keep) remove_dir(dir);
        return 255;
    }
    cli_globals g2 = *g;
    g2.config_path = cfg_path;
    static char tui_name[] = "tui";
    char *tui_args[] = {tui_name, NULL};
    int rc = cli_entry_run(&cmd_tui_entry, 1, tui_args, &g2);
    stop_sim(pid);
    if (keep) fprintf(stderr, "retirectl demo: config and sim log kept in %s\n", dir);
    else remove_dir(dir);
    return rc;
}

