/* plan: the pure run/skip/refuse decision of retire_one_learner.py (docs/lms-api.md §3.4, §9.1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "engine/plan.h"

static cfg_step STEPS[] = {
    {"RETIRING_FORUMS", "FORUMS_COMPLETE", "LMS", "retirement_retire_forum", 0},
    {"RETIRING_EMAIL_LISTS", "EMAIL_LISTS_COMPLETE", "LMS", "retirement_retire_mailings", 0},
    {"RETIRING_ENROLLMENTS", "ENROLLMENTS_COMPLETE", "LMS", "retirement_unenroll", 0},
    {"RETIRING_LMS", "LMS_COMPLETE", "LMS", "retirement_lms_retire", 0},
};
#define N_STEPS (sizeof STEPS / sizeof STEPS[0])

static void expect_actions(const char *state, const char *expected)
{
    plan p;
    assert_int_equal(plan_make(state, STEPS, N_STEPS, &p), 0);
    assert_int_equal(p.refusal, PLAN_OK);
    char got[16] = "";
    for (size_t i = 0; i < N_STEPS; i++) got[i] = p.actions[i] == PLAN_RUN ? 'r' : 's';
    got[N_STEPS] = '\0';
    assert_string_equal(got, expected);
    plan_free(&p);
}

static void test_all_states_order(void **state)
{
    (void)state;
    const char *want[] = {"PENDING", "RETIRING_FORUMS", "FORUMS_COMPLETE", "RETIRING_EMAIL_LISTS",
                          "EMAIL_LISTS_COMPLETE", "RETIRING_ENROLLMENTS", "ENROLLMENTS_COMPLETE", "RETIRING_LMS",
                          "LMS_COMPLETE", "ERRORED", "ABORTED", "COMPLETE"};
    assert_int_equal(plan_all_states_count(N_STEPS), 12);
    for (size_t i = 0; i < 12; i++) assert_string_equal(plan_all_states_at(i, STEPS, N_STEPS), want[i]);
    assert_null(plan_all_states_at(12, STEPS, N_STEPS));
    assert_int_equal(plan_state_index("EMAIL_LISTS_COMPLETE", STEPS, N_STEPS), 4);
    assert_int_equal(plan_state_index("BOGUS", STEPS, N_STEPS), -1);
}

static void test_run_and_skip(void **state)
{
    (void)state;
    expect_actions("PENDING", "rrrr");
    expect_actions("FORUMS_COMPLETE", "srrr");
    expect_actions("EMAIL_LISTS_COMPLETE", "ssrr");
    expect_actions("ENROLLMENTS_COMPLETE", "sssr");
    expect_actions("LMS_COMPLETE", "ssss");
    plan p;
    plan_make("EMAIL_LISTS_COMPLETE", STEPS, N_STEPS, &p);
    assert_int_equal(p.n_run, 2);
    assert_int_equal(p.n_skip, 2);
    assert_int_equal(p.current_index, 4);
    plan_free(&p);
}

static void test_refusals_in_upstream_order(void **state)
{
    (void)state;
    plan p;
    plan_make("ERRORED", STEPS, N_STEPS, &p);
    assert_int_equal(p.refusal, PLAN_END_STATE);
    assert_int_equal(p.refusal, 254);
    assert_string_equal(p.message, "User already in end state: ERRORED");
    assert_null(p.actions);
    plan_free(&p);
    plan_make("ABORTED", STEPS, N_STEPS, &p);
    assert_int_equal(p.refusal, 254);
    plan_free(&p);
    plan_make("COMPLETE", STEPS, N_STEPS, &p);
    assert_int_equal(p.refusal, 254);
    plan_free(&p);
    plan_make("RETIRING_ENROLLMENTS", STEPS, N_STEPS, &p);
    assert_int_equal(p.refusal, PLAN_WORKING_STATE);
    assert_int_equal(p.refusal, 253);
    assert_string_equal(p.message, "User is already in a working state! RETIRING_ENROLLMENTS");
    plan_free(&p);
    plan_make("BOGUS_STATE", STEPS, N_STEPS, &p);
    assert_int_equal(p.refusal, PLAN_UNKNOWN_STATE);
    assert_int_equal(p.refusal, 250);
    plan_free(&p);
    plan_make(NULL, STEPS, N_STEPS, &p);
    assert_int_equal(p.refusal, 250);
    plan_free(&p);
}

/* The unknown-state check comes first: a state in the LMS table but not in this pipeline
 * (e.g. a working state of a removed step) is unknown (250), not "working" (253). */
static void test_unknown_before_working(void **state)
{
    (void)state;
    plan p;
    plan_make("RETIRING_CREDENTIALS", STEPS, N_STEPS, &p);
    assert_int_equal(p.refusal, 250);
    plan_free(&p);
}

/* Empty pipeline: PENDING runs nothing (only the COMPLETE update). */
static void test_empty_pipeline(void **state)
{
    (void)state;
    plan p;
    assert_int_equal(plan_make("PENDING", NULL, 0, &p), 0);
    assert_int_equal(p.refusal, PLAN_OK);
    assert_int_equal(p.n_run, 0);
    plan_free(&p);
    assert_true(plan_is_end_state("COMPLETE"));
    assert_false(plan_is_end_state("PENDING"));
    assert_int_equal(plan_step_of_working_state("RETIRING_LMS", STEPS, N_STEPS), 3);
    assert_int_equal(plan_step_of_working_state("LMS_COMPLETE", STEPS, N_STEPS), -1);
}

/* Upstream adds 1 to the learner's state index after each step it runs and compares every later
 * start state's FIRST index in all_states against that running value. With a state name reused
 * by a later row, that row is skipped after earlier rows ran (docs/lms-api.md §9.1 step 4). */
static void test_reused_state_running_index(void **state)
{
    (void)state;
    static cfg_step DUP[] = {
        {"RETIRING_A", "A_COMPLETE", "LMS", "retirement_retire_forum", 0},
        {"RETIRING_B", "B_COMPLETE", "LMS", "retirement_unenroll", 0},
        {"RETIRING_A", "A_COMPLETE", "LMS", "retirement_lms_retire", 0},
    };
    plan p;
    /* PENDING (index 0): row 1 runs (1 < 0 no; index -> 1), row 2 runs (3 < 1 no; -> 2),
     * row 3: first index of RETIRING_A is 1 < 2 -> skipped */
    assert_int_equal(plan_make("PENDING", DUP, 3, &p), 0);
    assert_int_equal(p.refusal, PLAN_OK);
    assert_int_equal(p.actions[0], PLAN_RUN);
    assert_int_equal(p.actions[1], PLAN_RUN);
    assert_int_equal(p.actions[2], PLAN_SKIP);
    assert_int_equal(p.n_run, 2);
    assert_int_equal(p.n_skip, 1);
    plan_free(&p);
    /* A_COMPLETE (index 2): rows 1 and 3 skipped (1 < 2), row 2 runs */
    assert_int_equal(plan_make("A_COMPLETE", DUP, 3, &p), 0);
    assert_int_equal(p.actions[0], PLAN_SKIP);
    assert_int_equal(p.actions[1], PLAN_RUN);
    assert_int_equal(p.actions[2], PLAN_SKIP);
    plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_states_order),
        cmocka_unit_test(test_run_and_skip),
        cmocka_unit_test(test_refusals_in_upstream_order),
        cmocka_unit_test(test_unknown_before_working),
        cmocka_unit_test(test_empty_pipeline),
        cmocka_unit_test(test_reused_state_running_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
