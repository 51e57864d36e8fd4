/* isolate: run a function in a child process (see isolate.h). */
#include "engine/isolate.h"
#include "common/clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Writes all of buf to fd (the child's end of the pipe). */
static void write_all(int fd, const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += (size_t)w;
    }
}

int iso_run(iso_fn fn, void *arg, int timeout_ms, strbuf *out, iso_result *res)
{
    memset(res, 0, sizeof *res);
    int p[2];
    if (pipe(p) != 0) {
        snprintf(res->why, sizeof res->why, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(res->why, sizeof res->why, "cannot fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        /* the plugin's own stdout must not mix into the text handed back */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        strbuf text = STRBUF_INIT;
        int st = fn(arg, &text);
        write_all(p[1], sb_str(&text), text.len);
        close(p[1]);
        fflush(stderr);
        _exit(st < 0 ? 125 : st > 125 ? 125 : st);
    }
    close(p[1]);
    long long deadline = timeout_ms > 0 ? (long long)clk_mono_ms() + timeout_ms : 0;
    char buf[8192];
    for (;;) {
        int wait_ms = -1;
        if (deadline) {
            long long left = deadline - (long long)clk_mono_ms();
            if (left <= 0) {
                kill(pid, SIGKILL);
                res->timed_out = 1;
                break;
            }
            wait_ms = (int)left;
        }
        struct pollfd pfd = {p[0], POLLIN, 0};
        int pr = poll(&pfd, 1, wait_ms);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) continue;
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (out) sb_addn(out, buf, (size_t)n);
    }
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (res->timed_out) {
        snprintf(res->why, sizeof res->why, "did not finish within %d s", timeout_ms / 1000);
    } else if (WIFSIGNALED(st)) {
        res->signal = WTERMSIG(st);
        const char *abbrev = sigabbrev_np(res->signal);
        snprintf(res->why, sizeof res->why, "crashed (SIG%s)", abbrev ? abbrev : "?");
    } else {
        res->exited = 1;
        res->status = WEXITSTATUS(st);
        if (res->status) snprintf(res->why, sizeof res->why, "exited with status %d", res->status);
    }
    return 0;
}
