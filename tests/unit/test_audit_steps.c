/* Unit tests for audit_steps (engine/audit.h), the one collector of the steps an action ran,
 * fed with job event lines as the worker writes them: only final statuses count, "skipped" only
 * when asked, a step the supervisor marks failed after its "done" is one entry, and there is no
 * cap (the CLI's three former collectors stopped at 64 or 128 steps). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/audit.h"
#include "engine/ev.h"

/* Parses a step event line and feeds it; returns audit_steps_note's answer. */
static int feed(audit_steps *s, int index, const char *driver, const char *method, const char *status,
                int with_skipped)
{
    char line[256];
    snprintf(line, sizeof line,
             "{\"event\":\"step\",\"time\":\"t\",\"learner\":\"jane\",\"index\":%d,\"driver\":\"%s\","
             "\"method\":\"%s\",\"status\":\"%s\"}\n",
             index, driver, method, status);
    ev_event ev;
    assert_int_equal(ev_parse(line, &ev), 0);
    int r = audit_steps_note(s, &ev, with_skipped);
    ev_event_free(&ev);
    return r;
}

static void test_final_statuses_only(void **state)
{
    (void)state;
    audit_steps s = {0};
    assert_int_equal(feed(&s, 0, "LMS", "retirement_retire_forum", "running", 1), 0);
    assert_int_equal(feed(&s, 0, "LMS", "retirement_retire_forum", "retrying", 1), 0);
    assert_int_equal(feed(&s, 0, "LMS", "retirement_retire_forum", "done", 1), 1);
    assert_int_equal(feed(&s, 1, "ECOMMERCE", "retire_learner", "skipped", 0), 0);
    assert_int_equal(feed(&s, 1, "ECOMMERCE", "retire_learner", "skipped", 1), 1);
    assert_int_equal(feed(&s, 2, "CREDENTIALS", "retire_learner", "failed", 0), 1);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.v[0].driver, "LMS");
    assert_string_equal(s.v[0].method, "retirement_retire_forum");
    assert_string_equal(s.v[0].status, "done");
    assert_string_equal(s.v[1].status, "skipped");
    assert_string_equal(s.v[2].driver, "CREDENTIALS");
    assert_string_equal(s.v[2].status, "failed");
    /* a non-step event is not a step */
    ev_event ev;
    assert_int_equal(ev_parse("{\"event\":\"result\",\"outcome\":\"errored\",\"exit_status\":252}", &ev), 0);
    assert_int_equal(audit_steps_note(&s, &ev, 1), 0);
    ev_event_free(&ev);
    assert_int_equal(s.n, 3);
    audit_steps_free(&s);
    assert_null(s.v);
    assert_int_equal(s.n, 0);
}

static void test_failed_after_done_is_one_step(void **state)
{
    (void)state;
    audit_steps s = {0};
    feed(&s, 0, "LMS", "retirement_retire_forum", "done", 1);
    /* the worker died after reporting the step: the supervisor reports the same step failed */
    feed(&s, 0, "LMS", "retirement_retire_forum", "failed", 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].status, "failed");
    /* the same driver.method at another pipeline row is another step */
    feed(&s, 3, "LMS", "retirement_retire_forum", "done", 1);
    assert_int_equal(s.n, 2);
    audit_steps_free(&s);
}

static void test_no_cap(void **state)
{
    (void)state;
    audit_steps s = {0};
    for (int i = 0; i < 300; i++) {
        char method[32];
        snprintf(method, sizeof method, "m%d", i);
        feed(&s, i, "GENERIC", method, "done", 1);
    }
    assert_int_equal(s.n, 300);
    assert_string_equal(s.v[299].method, "m299");
    audit_steps_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_final_statuses_only),
        cmocka_unit_test(test_failed_after_done_is_one_step),
        cmocka_unit_test(test_no_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
