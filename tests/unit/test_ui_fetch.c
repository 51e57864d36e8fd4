/* Console fetch children against the real retirectl-sim (loopback, real libcurl): the learner
 * list, one record, the drivers, and an unreachable LMS reported as an error line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/config.h"
#include "common/strbuf.h"
#include "hostile.h"
#include "simproc.h"
#include "ui/fetch.h"
#include "ui/model.h"

static sim_proc sim;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--demo", NULL};
    return sim_start(&sim, args);
}

static int teardown(void **state)
{
    (void)state;
    sim_stop(&sim);
    return 0;
}

/* Reads everything the child writes (fd is non-blocking), then reaps it. */
static char *read_all(pid_t pid, int fd)
{
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, "");
    char buf[65536];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 30000) <= 0) break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) sb_addn(&sb, buf, (size_t)n);
        else if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        else break;
    }
    close(fd);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return sb_take(&sb);
}

static cfg *load(const char *path)
{
    cfg *c = NULL;
    char err[512];
    if (cfg_load(path, &c, err, sizeof err) != 0) fail_msg("%s", err);
    return c;
}

static void test_queue_lists_every_state(void **state)
{
    (void)state;
    char *path = sim_write_config(&sim, NULL, NULL);
    cfg *c = load(path);
    const char *states[] = {"PENDING", "RETIRING_FORUMS", "FORUMS_COMPLETE", "RETIRING_EMAIL_LISTS",
                            "EMAIL_LISTS_COMPLETE", "RETIRING_ENROLLMENTS", "ENROLLMENTS_COMPLETE",
                            "RETIRING_LMS", "LMS_COMPLETE", "ERRORED", "ABORTED", "COMPLETE"};
    int fd;
    char err[256];
    pid_t pid = ui_fetch_queue(c, states, sizeof states / sizeof states[0], &fd, err, sizeof err);
    assert_true(pid > 0);
    char *out = read_all(pid, fd);
    ui_store s;
    ui_store_init(&s);
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) assert_int_equal(ui_store_feed_line(&s, l), 0);
    assert_true(s.complete);
    assert_string_equal(s.error, "");
    /* exactly the learners one all-states request returns */
    char *token = sim_token(&sim);
    strbuf q = STRBUF_INIT;
    sb_add(&q, "/api/user/v1/accounts/retirement_queue/?cool_off_days=0");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) sb_addf(&q, "&states=%s", states[i]);
    char *body = NULL;
    assert_int_equal(sim_http(&sim, "GET", sb_str(&q), token, NULL, &body), 200);
    size_t expected = 0;
    for (const char *p = body; (p = strstr(p, "\"original_username\"")); p++) expected++;
    assert_true(expected >= 10);
    assert_int_equal(s.n, expected);
    free(body);
    free(token);
    sb_free(&q);
    ui_learner *g = ui_store_find(&s, "grace_errored");
    assert_non_null(g);
    assert_string_equal(ui_store_state(&s, g->state), "ERRORED");
    assert_string_equal(ui_store_state(&s, g->last_state), "RETIRING_FORUMS");
    assert_true(g->created > 0 && g->modified >= g->created);
    ui_learner *z = ui_store_find(&s, "zhang_wei");
    assert_non_null(z);
    assert_string_equal(ui_store_state(&s, z->state), "PENDING");
    ui_store_free(&s);
    free(out);
    cfg_free(c);
    free(path);
}

static void test_status_and_drivers(void **state)
{
    (void)state;
    char *path = sim_write_config(&sim, NULL, NULL);
    cfg *c = load(path);
    int fd;
    char err[256];
    pid_t pid = ui_fetch_status(c, "grace_errored", &fd, err, sizeof err);
    assert_true(pid > 0);
    char *out = read_all(pid, fd);
    assert_non_null(strstr(out, "F\tcurrent_state.state_name\tERRORED\n"));
    assert_non_null(strstr(out, "F\toriginal_username\tgrace_errored\n"));
    assert_non_null(strstr(out, "\nD\t"));
    free(out);
    pid = ui_fetch_status(c, "nobody_here", &fd, err, sizeof err);
    out = read_all(pid, fd);
    assert_non_null(strstr(out, "E\t"));
    assert_non_null(strstr(out, "404"));
    free(out);
    pid = ui_fetch_drivers(c, NULL, &fd, err, sizeof err);
    assert_true(pid > 0);
    out = read_all(pid, fd);
    assert_non_null(strstr(out, "V\tLMS\t"));
    assert_non_null(strstr(out, "retirement_retire_forum"));
    free(out);
    cfg_free(c);
    free(path);
}

static void test_unreachable_lms(void **state)
{
    (void)state;
    sim_proc dead = sim;
    snprintf(dead.base_url, sizeof dead.base_url, "http://127.0.0.1:9");
    char *path = sim_write_config(&dead, NULL, NULL);
    cfg *c = load(path);
    const char *states[] = {"PENDING", "COMPLETE"};
    int fd;
    char err[256];
    pid_t pid = ui_fetch_queue(c, states, 2, &fd, err, sizeof err);
    char *out = read_all(pid, fd);
    ui_store s;
    ui_store_init(&s);
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) ui_store_feed_line(&s, l);
    assert_true(s.complete);
    assert_int_equal(s.n, 0);
    /* the token comes first (one for every request of the refresh): the error names the LMS */
    assert_non_null(strstr(s.error, "LMS not reachable: check that it is up and base_urls.lms"));
    assert_non_null(strstr(s.error, "127.0.0.1:9"));
    ui_store_free(&s);
    free(out);
    cfg_free(c);
    free(path);
}

/* D13: an LMS that echoes the Authorization header in its error body: the console's error line
 * shows the body with the live token masked. */
static void test_echoed_token_masked(void **state)
{
    (void)state;
    hostile h;
    assert_int_equal(hostile_start(&h, "echoauth", NULL), 0);
    sim_proc fake = sim;
    snprintf(fake.base_url, sizeof fake.base_url, "%s", h.base_url);
    char *path = sim_write_config(&fake, NULL, NULL);
    cfg *c = load(path);
    const char *states[] = {"PENDING"};
    int fd;
    char err[256];
    pid_t pid = ui_fetch_queue(c, states, 1, &fd, err, sizeof err);
    char *out = read_all(pid, fd);
    hostile_stop(&h);
    if (strstr(out, HOSTILE_TOKEN)) fail_msg("the console got the token:\n%s", out);
    if (!strstr(out, "bad header: JWT ********")) fail_msg("no masked echo in:\n%s", out);
    free(out);
    cfg_free(c);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_lists_every_state), cmocka_unit_test(test_status_and_drivers),
        cmocka_unit_test(test_unreachable_lms), cmocka_unit_test(test_echoed_token_masked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
