/* Test and benchmark support: see simproc.h. */
#include "simproc.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RETIRECTL_SIM_BIN
#define RETIRECTL_SIM_BIN "retirectl-sim"
#endif

/* Returns the sim binary: $RETIRECTL_SIM_BIN or the compiled-in path. */
static const char *sim_binary(void)
{
    const char *env = getenv("RETIRECTL_SIM_BIN");
    return (env && *env) ? env : RETIRECTL_SIM_BIN;
}

/* ---- cleanup of everything this process started ----------------------------------------
 * A test that fails an assertion, aborts (SIGABRT from a heap check), crashes or is killed by
 * ctest's timeout must not leave a sim running: the sim inherits the test's stderr, so ctest
 * would wait for it until the timeout. Three layers, each enough on its own for its case:
 *   - the sim (and the helper draining its stdout, and every run_command child) asks the
 *     kernel for SIGKILL when the test process dies (PR_SET_PDEATHSIG), whatever the cause;
 *   - atexit: sims still registered at a normal exit get SIGTERM, then SIGKILL, and are reaped;
 *   - fatal / termination signals with no handler of their own (SIGABRT, SIGTERM, ...): the
 *     handler SIGKILLs the registered sims and the running command's process group (only
 *     kill(2), async-signal-safe), then re-raises the signal with its default action. */

#define SIMPROC_MAX 64

typedef struct simproc_slot {
    volatile pid_t sim;   /* 0 = free */
    volatile pid_t drain; /* the child draining the sim's stdout, or 0 */
} simproc_slot;

static simproc_slot simproc_slots[SIMPROC_MAX];
static volatile pid_t simproc_owner;   /* the process that registered the slots */
static volatile pid_t simproc_running; /* run_command's child (its own process group), or 0 */

/* SIGKILLs every registered sim and the running command (async-signal-safe). */
static void simproc_kill_all_now(void)
{
    if (simproc_owner != getpid()) return;
    for (int i = 0; i < SIMPROC_MAX; i++) {
        if (simproc_slots[i].sim > 0) kill(simproc_slots[i].sim, SIGKILL);
        if (simproc_slots[i].drain > 0) kill(simproc_slots[i].drain, SIGKILL);
    }
    pid_t run = simproc_running;
    if (run > 0) {
        kill(-run, SIGKILL);
        kill(run, SIGKILL);
    }
}

static const int simproc_signals[] = {SIGABRT, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};

/* Fatal-signal handler: kills what we started, then dies of the same signal. */
static void simproc_on_signal(int sig)
{
    simproc_kill_all_now();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Temp directories made by make_temp_dir in this process: removed at exit (see simproc.h). */
static char **simproc_dirs;
static size_t simproc_n_dirs;
static pid_t simproc_dirs_owner; /* a forked child never removes its parent's directories */

/* nftw callback: removes one entry of a temp tree (children first: FTW_DEPTH). */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

/* Removes the temp directories unless RETIRECTL_KEEP_TEST_DIRS asks to keep them for a look. */
static void simproc_remove_dirs(void)
{
    const char *keep = getenv("RETIRECTL_KEEP_TEST_DIRS");
    if (simproc_dirs_owner != getpid()) return;
    for (size_t i = 0; i < simproc_n_dirs; i++) {
        if (!(keep && *keep)) nftw(simproc_dirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(simproc_dirs[i]);
    }
    free(simproc_dirs);
    simproc_dirs = NULL;
    simproc_n_dirs = 0;
}

/* atexit: stops the sims a test left running (SIGTERM, then SIGKILL after 2 s) and reaps them,
 * then removes the temp directories. */
static void simproc_at_exit(void)
{
    if (simproc_owner != getpid()) return;
    for (int i = 0; i < SIMPROC_MAX; i++)
        if (simproc_slots[i].sim > 0) kill(simproc_slots[i].sim, SIGTERM);
    for (int i = 0; i < SIMPROC_MAX; i++) {
        pid_t p = simproc_slots[i].sim;
        if (p <= 0) continue;
        int reaped = 0;
        for (int t = 0; t < 40 && !reaped; t++) {
            if (waitpid(p, NULL, WNOHANG) == p) reaped = 1;
            else usleep(50000);
        }
        if (!reaped) {
            kill(p, SIGKILL);
            waitpid(p, NULL, 0);
        }
        simproc_slots[i].sim = 0;
    }
    for (int i = 0; i < SIMPROC_MAX; i++) {
        pid_t d = simproc_slots[i].drain;
        if (d <= 0) continue;
        kill(d, SIGKILL);
        waitpid(d, NULL, 0);
        simproc_slots[i].drain = 0;
    }
    simproc_remove_dirs();
}

/* Installs the atexit hook and the signal handlers once per process; a signal that already
 * has a handler (cmocka's, a sanitizer's) keeps it. */
static void simproc_install_cleanup(void)
{
    if (simproc_owner == getpid()) return;
    simproc_owner = getpid();
    atexit(simproc_at_exit);
    for (size_t i = 0; i < sizeof simproc_signals / sizeof simproc_signals[0]; i++) {
        struct sigaction old;
        if (sigaction(simproc_signals[i], NULL, &old) != 0) continue;
        if (old.sa_flags & SA_SIGINFO) continue;
        if (old.sa_handler != SIG_DFL) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = simproc_on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(simproc_signals[i], &sa, NULL);
    }
}

/* In a freshly forked child: die with the parent (parent_pid) and forget the parent's
 * cleanup duties (the child must never kill the parent's sims). */
static void simproc_child_setup(pid_t parent_pid)
{
    simproc_owner = 0;
    for (size_t i = 0; i < sizeof simproc_signals / sizeof simproc_signals[0]; i++) signal(simproc_signals[i], SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent_pid) _exit(127); /* the parent died before prctl took effect */
}

/* Registers a started sim (and its drain helper) for the cleanup. */
static void simproc_register(pid_t sim, pid_t drain)
{
    for (int i = 0; i < SIMPROC_MAX; i++) {
        if (simproc_slots[i].sim == 0) {
            simproc_slots[i].drain = drain;
            simproc_slots[i].sim = sim;
            return;
        }
    }
    /* more than SIMPROC_MAX live sims: PR_SET_PDEATHSIG still covers it */
}

/* Forgets a stopped sim and reaps its drain helper (which exits at the sim's EOF). */
static void simproc_unregister(pid_t sim)
{
    for (int i = 0; i < SIMPROC_MAX; i++) {
        if (simproc_slots[i].sim != sim) continue;
        pid_t d = simproc_slots[i].drain;
        simproc_slots[i].sim = 0;
        simproc_slots[i].drain = 0;
        if (d > 0) {
            int reaped = 0;
            for (int t = 0; t < 40 && !reaped; t++) {
                if (waitpid(d, NULL, WNOHANG) == d) reaped = 1;
                else usleep(25000);
            }
            if (!reaped) {
                kill(d, SIGKILL);
                waitpid(d, NULL, 0);
            }
        }
        return;
    }
}

int sim_start(sim_proc *sim, const char *const *extra_args)
{
    memset(sim, 0, sizeof *sim);
    simproc_install_cleanup();
    int pipefd[2];
    if (pipe(pipefd) != 0) return -1;
    const char *argv[64];
    int n = 0;
    argv[n++] = sim_binary();
    argv[n++] = "--port";
    argv[n++] = "0";
    for (int i = 0; extra_args && extra_args[i] && n < 62; i++) argv[n++] = extra_args[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        simproc_child_setup(parent);
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "simproc: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    simproc_register(pid, 0);
    char buf[4096];
    size_t len = 0;
    time_t deadline = time(NULL) + 15;
    while (time(NULL) < deadline && len < sizeof buf - 1) {
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        if (poll(&p, 1, 200) <= 0) continue;
        ssize_t r = read(pipefd[0], buf + len, sizeof buf - 1 - len);
        if (r <= 0) break;
        len += (size_t)r;
        buf[len] = '\0';
        char *at = strstr(buf, "listening on http://127.0.0.1:");
        if (at && strchr(at, '\n')) {
            sim->pid = pid;
            sim->port = atoi(at + strlen("listening on http://127.0.0.1:"));
            snprintf(sim->base_url, sizeof sim->base_url, "http://127.0.0.1:%d", sim->port);
            /* Keep draining the sim's stdout so it never blocks on a full pipe. The helper holds
             * no copy of the test's stdout/stderr (ctest waits for those to close) and dies
             * with the test process. */
            pid_t drain = fork();
            if (drain == 0) {
                simproc_child_setup(parent);
                int devnull = open("/dev/null", O_RDWR);
                if (devnull >= 0) {
                    dup2(devnull, STDIN_FILENO);
                    dup2(devnull, STDOUT_FILENO);
                    dup2(devnull, STDERR_FILENO);
                    if (devnull > STDERR_FILENO) close(devnull);
                }
                char sink[4096];
                while (read(pipefd[0], sink, sizeof sink) > 0) {
                }
                _exit(0);
            }
            close(pipefd[0]);
            simproc_unregister(pid);
            simproc_register(pid, drain > 0 ? drain : 0);
            return 0;
        }
    }
    fprintf(stderr, "simproc: %s did not print 'listening on' within 15 s; it printed: %s\n", argv[0], buf);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    simproc_unregister(pid);
    close(pipefd[0]);
    return -1;
}

int sim_stop(sim_proc *sim)
{
    if (sim->pid <= 0) return -1;
    pid_t pid = sim->pid;
    int st = 0, rc = -1, reaped = 0;
    pid_t early = waitpid(pid, &st, WNOHANG);
    if (early != 0) { /* already exited (reaped now), or not our child any more: signal nothing */
        simproc_unregister(pid);
        sim->pid = 0;
        return early == pid ? (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)) : -1;
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            reaped = 1;
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (r < 0 && errno == ECHILD) break; /* not ours (already reaped through a copy of sim) */
        usleep(50000);
    }
    if (!reaped && kill(pid, 0) == 0 && waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    simproc_unregister(pid);
    sim->pid = 0;
    return rc;
}

typedef struct growbuf {
    char *data;
    size_t len;
} growbuf;

/* libcurl write callback appending to a growbuf. */
static size_t grow_write(char *ptr, size_t size, size_t nmemb, void *user)
{
    growbuf *b = user;
    size_t n = size * nmemb;
    char *p = realloc(b->data, b->len + n + 1);
    if (!p) return 0;
    b->data = p;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

long sim_http(const sim_proc *sim, const char *method, const char *path, const char *token, const char *body,
              char **body_out)
{
    CURL *c = curl_easy_init();
    if (!c) return 0;
    char url[2048];
    snprintf(url, sizeof url, "%s%s", sim->base_url, path);
    growbuf b = {0};
    struct curl_slist *h = NULL;
    char auth[1024];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: JWT %s", token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grow_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (body_out)
        *body_out = b.data ? b.data : strdup("");
    else
        free(b.data);
    return status;
}

char *sim_token(const sim_proc *sim)
{
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    char url[256];
    snprintf(url, sizeof url, "%s/oauth2/access_token", sim->base_url);
    growbuf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                     "grant_type=client_credentials&client_id=" SIM_CLIENT_ID "&client_secret=" SIM_CLIENT_SECRET
                     "&token_type=jwt");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grow_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (!b.data) return NULL;
    char *tok = NULL;
    char *at = strstr(b.data, "\"access_token\"");
    if (at) {
        at = strchr(at + 14, '"');
        if (at) {
            char *end = strchr(at + 1, '"');
            if (end) tok = strndup(at + 1, (size_t)(end - at - 1));
        }
    }
    free(b.data);
    return tok;
}

/* Reads everything from fd into a malloc'd string (used for a child's output files). */
static char *slurp_fd(int fd)
{
    growbuf b = {0};
    char buf[8192];
    lseek(fd, 0, SEEK_SET);
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) grow_write(buf, 1, (size_t)r, &b);
    return b.data ? b.data : strdup("");
}

int run_command(cmd_result *r, const char *const *argv, const char *const *env, const char *stdin_text,
                int timeout_s)
{
    memset(r, 0, sizeof *r);
    char out_tmpl[] = "/tmp/retirectl-out-XXXXXX", err_tmpl[] = "/tmp/retirectl-err-XXXXXX",
         in_tmpl[] = "/tmp/retirectl-in-XXXXXX";
    int out_fd = mkstemp(out_tmpl), err_fd = mkstemp(err_tmpl), in_fd = mkstemp(in_tmpl);
    if (out_fd < 0 || err_fd < 0 || in_fd < 0) return -1;
    unlink(out_tmpl);
    unlink(err_tmpl);
    unlink(in_tmpl);
    if (stdin_text && write(in_fd, stdin_text, strlen(stdin_text)) < 0) return -1;
    lseek(in_fd, 0, SEEK_SET);
    simproc_install_cleanup();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        simproc_child_setup(parent);
        setpgid(0, 0);
        dup2(stdin_text ? in_fd : open("/dev/null", O_RDONLY), STDIN_FILENO);
        dup2(out_fd, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        for (int i = 0; env && env[i]; i++) putenv((char *)env[i]);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "run_command: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also from here, so the group exists before anyone kills it */
    simproc_running = pid;
    int st = 0;
    time_t deadline = time(NULL) + (timeout_s > 0 ? timeout_s : 120);
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) break;
        if (time(NULL) > deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        usleep(10000);
    }
    simproc_running = 0;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = slurp_fd(out_fd);
    r->err = slurp_fd(err_fd);
    close(out_fd);
    close(err_fd);
    close(in_fd);
    return 0;
}

void cmd_result_free(cmd_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

char *make_temp_dir(void)
{
    char tmpl[] = "/tmp/retirectl-test-XXXXXX";
    if (!mkdtemp(tmpl)) return NULL;
    simproc_install_cleanup();
    if (simproc_dirs_owner != getpid()) { /* a forked child keeps its own list */
        simproc_dirs = NULL, simproc_n_dirs = 0;
        simproc_dirs_owner = getpid();
    }
    char **grown = realloc(simproc_dirs, (simproc_n_dirs + 1) * sizeof *grown);
    char *kept = strdup(tmpl);
    if (grown && kept) simproc_dirs = grown, simproc_dirs[simproc_n_dirs++] = kept;
    else {
        if (grown) simproc_dirs = grown;
        free(kept);
    }
    return strdup(tmpl);
}

char *write_temp_file(const char *name, const char *content)
{
    char *dir = make_temp_dir();
    if (!dir) return NULL;
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    free(dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(path);
        return NULL;
    }
    fchmod(fileno(f), 0600); /* configs hold secrets: retirectl warns about files others can read */
    fputs(content, f);
    fclose(f);
    return path;
}

char *sim_write_config(const sim_proc *sim, const char *pipeline_yaml, const char *extra_yaml)
{
    const char *default_pipeline =
        "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
        "  - ['RETIRING_EMAIL_LISTS', 'EMAIL_LISTS_COMPLETE', 'LMS', 'retirement_retire_mailings']\n"
        "  - ['RETIRING_ENROLLMENTS', 'ENROLLMENTS_COMPLETE', 'LMS', 'retirement_unenroll']\n"
        "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n";
    size_t cap = 8192 + (pipeline_yaml ? strlen(pipeline_yaml) : 0) + (extra_yaml ? strlen(extra_yaml) : 0);
    char *text = malloc(cap);
    snprintf(text, cap,
             "client_id: %s\n"
             "client_secret: %s\n"
             "base_urls:\n"
             "  lms: %s/\n"
             "  ecommerce: %s/ecommerce/\n"
             "  credentials: %s/credentials/\n"
             "  demographics: %s/demographics/\n"
             "  license_manager: %s/license-manager/\n"
             "retirement_pipeline:\n%s"
             "%s",
             SIM_CLIENT_ID, SIM_CLIENT_SECRET, sim->base_url, sim->base_url, sim->base_url, sim->base_url,
             sim->base_url, pipeline_yaml ? pipeline_yaml : default_pipeline, extra_yaml ? extra_yaml : "");
    char *path = write_temp_file("config.yml", text);
    free(text);
    return path;
}
