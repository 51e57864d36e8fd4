/* Unit tests for src/common's string buffer and checked allocations (common/strbuf.h,
 * common/xalloc.h): growth across many doublings, printf appends longer than any fixed
 * temporary, empty buffers handed over as "", NULL copied as "", and the one out-of-memory
 * behaviour (one line naming the size on stderr, then SIGABRT) checked in a child process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

static void test_strbuf_grows_and_formats(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    assert_string_equal(sb_str(&sb), "");
    for (int i = 0; i < 1000; i++) sb_addf(&sb, "%d,", i);
    assert_int_equal(sb.len, strlen(sb.data));
    assert_non_null(strstr(sb.data, ",999,"));
    assert_int_equal(strncmp(sb.data, "0,1,2,", 6), 0);
    /* one printf longer than 4 KiB in a single call */
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sb_reset(&sb);
    assert_int_equal(sb.len, 0);
    sb_addf(&sb, "<%s>", big);
    assert_int_equal(sb.len, sizeof big + 1);
    assert_int_equal(sb.data[0], '<');
    assert_int_equal(sb.data[sb.len - 1], '>');
    sb_addn(&sb, "abc", 0); /* nothing, and no read of the source */
    sb_addn(&sb, NULL, 0);
    sb_addc(&sb, '!');
    assert_int_equal(sb.len, sizeof big + 2);
    char *taken = sb_take(&sb);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    assert_int_equal(taken[strlen(taken) - 1], '!');
    free(taken);
    sb_free(&sb);
}

static void test_strbuf_take_empty_and_fmt(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    char *s = sb_take(&sb);
    assert_string_equal(s, "");
    free(s);
    s = sb_fmt("%s=%03d", "k", 7);
    assert_string_equal(s, "k=007");
    free(s);
}

static void test_xalloc_copies(void **state)
{
    (void)state;
    char *s = xstrdup(NULL);
    assert_string_equal(s, "");
    free(s);
    s = xstrdup("learner");
    assert_string_equal(s, "learner");
    free(s);
    assert_null(xstrdup_or_null(NULL)); /* absent stays absent, not "" */
    s = xstrdup_or_null("");
    assert_string_equal(s, "");
    free(s);
    s = xstrndup("learner", 4);
    assert_string_equal(s, "lear");
    free(s);
    s = xstrndup("ab", 10);
    assert_string_equal(s, "ab");
    free(s);
    int *z = xcalloc(16, sizeof *z);
    for (int i = 0; i < 16; i++) assert_int_equal(z[i], 0);
    z = xrealloc(z, 1024 * sizeof *z);
    z[1023] = 5;
    free(z);
    free(xmalloc(0)); /* a zero-size request still gives a pointer that can be freed */
    char *owned = NULL;
    xstr_set(&owned, "first");
    assert_string_equal(owned, "first");
    xstr_set(&owned, owned + 2); /* a part of itself */
    assert_string_equal(owned, "rst");
    xstr_set(&owned, NULL);
    assert_null(owned);
}

/* Runs fn in a child with stderr captured; returns the wait status and fills out. */
static int run_child(void (*fn)(void), char *out, size_t n)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(fd[0], out + got, n - 1 - got)) > 0) got += (size_t)r;
    out[got] = '\0';
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

static void alloc_too_much(void) { (void)xmalloc(SIZE_MAX / 2); }
static void test_out_of_memory_is_one_message_and_abort(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan reports an impossible size itself instead of returning NULL */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    skip();
#endif
#endif
    char out[512];
    int st = run_child(alloc_too_much, out, sizeof out);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    char want[128];
    snprintf(want, sizeof want, "retirectl: out of memory (allocating %zu bytes); free memory and run the command again\n",
             (size_t)(SIZE_MAX / 2));
    assert_string_equal(out, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strbuf_grows_and_formats),
        cmocka_unit_test(test_strbuf_take_empty_and_fmt),
        cmocka_unit_test(test_xalloc_copies),
        cmocka_unit_test(test_out_of_memory_is_one_message_and_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
