/* Unit tests for the console's job model fed with the event lines of a `retirectl ... --events`
 * child (src/ui/job.c, which reads them with the engine's one event reader, ev_parse): the job
 * event's plan, step statuses with their numbers, preview requests, the result, log lines,
 * and what is not an event (plain text, JSON without `event`, unknown events, absurd indexes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ui/job.h"

/* The last log line. */
static const char *last_log(const ui_job *j) { return ui_job_log_line(j, j->n_log - 1); }

static void test_job_step_preview_result(void **state)
{
    (void)state;
    ui_job *j = ui_job_new("jane", "retire", "retire jane");
    const char *job = "{\"event\":\"job\",\"time\":\"t\",\"learner\":\"jane\",\"action\":\"retire\","
                      "\"current_state\":\"PENDING\",\"steps\":[{\"index\":0,\"start_state\":\"LOCKING_ACCOUNT\","
                      "\"end_state\":\"LOCKED\",\"driver\":\"LMS\",\"method\":\"retirement_deactivate\",\"plan\":\"run\"},"
                      "{\"index\":1,\"driver\":\"ECOMMERCE\",\"method\":\"retire_learner\",\"plan\":\"skip\","
                      "\"message\":\"not configured\"}]}\n";
    ui_job_feed(j, 0, job, strlen(job), 1000);
    assert_string_equal(j->current_state, "PENDING");
    assert_int_equal(j->dry_run, 0);
    assert_int_equal(j->n_steps, 2);
    assert_string_equal(j->steps[0].driver, "LMS");
    assert_string_equal(j->steps[0].plan, "run");
    assert_int_equal(j->steps[1].status, UI_STEP_SKIPPED);
    assert_string_equal(j->steps[1].message, "not configured");

    ui_job_line(j, 0, "{\"event\":\"step\",\"index\":0,\"status\":\"running\",\"progress\":\"1/3\"}", 2000);
    assert_int_equal(j->steps[0].status, UI_STEP_RUNNING);
    assert_string_equal(j->steps[0].progress, "1/3");
    assert_true(j->steps[0].since_ms == 2000);
    ui_job_line(j, 0,
                "{\"event\":\"step\",\"index\":0,\"status\":\"retrying\",\"attempt\":2,\"retry_in_ms\":1500,"
                "\"message\":\"503\"}",
                3000);
    assert_int_equal(j->steps[0].status, UI_STEP_RETRYING);
    assert_int_equal(j->steps[0].attempt, 2);
    assert_int_equal(j->steps[0].retry_in_ms, 1500);
    assert_true(j->steps[0].retry_first_ms == 3000);
    assert_null(j->steps[0].progress);
    assert_string_equal(last_log(j), "[warn] step LOCKING_ACCOUNT LMS.retirement_deactivate: retrying (attempt 2, next in "
                                     "1.5 s): 503");
    ui_job_line(j, 0, "{\"event\":\"step\",\"index\":0,\"status\":\"done\",\"elapsed_ms\":2500}", 4000);
    assert_int_equal(j->steps[0].status, UI_STEP_DONE);
    assert_int_equal(j->steps[0].elapsed_ms, 2500);
    assert_int_equal(j->steps[0].attempt, 0); /* absent: 0 */
    assert_string_equal(last_log(j), "step LOCKING_ACCOUNT LMS.retirement_deactivate: done in 2.5 s");
    /* a step the job event did not list grows the list */
    ui_job_line(j, 0, "{\"event\":\"step\",\"index\":3,\"driver\":\"X\",\"method\":\"m\",\"status\":\"failed\"}", 5000);
    assert_int_equal(j->n_steps, 4);
    assert_int_equal(j->steps[3].status, UI_STEP_FAILED);
    /* an index out of range is not a step */
    ui_job_line(j, 0, "{\"event\":\"step\",\"index\":1e300,\"status\":\"failed\"}", 5000);
    ui_job_line(j, 0, "{\"event\":\"step\",\"index\":-2,\"status\":\"failed\"}", 5000);
    assert_int_equal(j->n_steps, 4);

    ui_job_line(j, 0,
                "{\"event\":\"preview\",\"index\":1,\"plan\":\"run\",\"requests\":[{\"method\":\"POST\","
                "\"url\":\"https://e/x\",\"body\":\"{}\"}]}",
                6000);
    assert_int_equal(j->steps[1].n_requests, 1);
    assert_string_equal(j->steps[1].requests[0], "POST https://e/x {}");

    ui_job_line(j, 0, "{\"event\":\"log\",\"level\":\"warn\",\"text\":\"slow LMS\"}", 6000);
    assert_string_equal(last_log(j), "[warn] slow LMS");
    size_t n = j->n_log;
    ui_job_line(j, 0, "{\"event\":\"future_kind\",\"x\":1}", 6000); /* ignored */
    assert_int_equal(j->n_log, n);
    ui_job_line(j, 0, "{\"no_event\":1}", 6000); /* not an event: shown as text */
    assert_string_equal(last_log(j), "{\"no_event\":1}");
    ui_job_line(j, 0, "Reset jane to PENDING.", 6000);
    assert_string_equal(last_log(j), "Reset jane to PENDING.");

    ui_job_line(j, 0,
                "{\"event\":\"result\",\"outcome\":\"errored\",\"exit_status\":252,\"message\":\"boom\","
                "\"final_state\":\"ERRORED\"}",
                7000);
    assert_int_equal(j->finished, 1);
    assert_string_equal(j->outcome, "errored");
    assert_int_equal(j->exit_status, 252);
    assert_string_equal(j->final_state, "ERRORED");
    assert_true(j->ended_ms == 7000);
    assert_string_equal(last_log(j), "[error] result: errored (exit status 252): boom");
    ui_job_free(j);
}

static void test_plan_is_dry_run(void **state)
{
    (void)state;
    ui_job *j = ui_job_new("jane", "plan", "plan jane");
    ui_job_line(j, 0, "{\"event\":\"job\",\"action\":\"plan\",\"current_state\":\"PENDING\"}", 1);
    assert_int_equal(j->dry_run, 1);
    ui_job_line(j, 0, "{\"event\":\"result\",\"outcome\":\"planned\"}", 2);
    assert_int_equal(j->exit_status, -1); /* absent */
    ui_job_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_step_preview_result),
        cmocka_unit_test(test_plan_is_dry_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
