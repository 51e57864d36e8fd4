/* Unit tests for common/signals.h: SIGINT and SIGTERM reach the cancel handler, SIGPIPE does not
 * kill the process, a blocking read is interrupted (no SA_RESTART) and the previous actions are
 * handed back so they can be restored. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/signals.h"

static volatile sig_atomic_t g_count;

static void on_cancel(int sig)
{
    (void)sig;
    g_count++;
}

static void test_cancel_signals(void **state)
{
    (void)state;
    struct sigaction before, old_int, old_term, now;
    sigaction(SIGINT, NULL, &before);
    sig_catch_cancel(on_cancel, &old_int, &old_term);
    assert_true(old_int.sa_handler == before.sa_handler);
    raise(SIGINT);
    raise(SIGTERM);
    assert_int_equal(g_count, 2);
    raise(SIGPIPE); /* ignored: still running */
    sigaction(SIGPIPE, NULL, &now);
    assert_true(now.sa_handler == SIG_IGN);
    sigaction(SIGINT, NULL, &now);
    assert_int_equal(now.sa_flags & SA_RESTART, 0);

    /* a read that blocks returns EINTR when the signal comes */
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    sig_catch_cancel(on_cancel, NULL, NULL);
    pid_t self = getpid();
    pid_t child = fork();
    if (child == 0) {
        for (;;) { /* until the parent's read has been interrupted (it may start late) */
            usleep(50000);
            kill(self, SIGTERM);
        }
    }
    char c;
    errno = 0;
    ssize_t r = read(fd[0], &c, 1);
    assert_int_equal(r, -1);
    assert_int_equal(errno, EINTR);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_true(g_count >= 3);
    close(fd[0]);
    close(fd[1]);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, NULL, &now);
    assert_true(now.sa_handler == before.sa_handler);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
