/* `retirectl plan` / `retire --dry-run` against retirectl-sim: what would run, skip or fail with
 * the requests each step would send, and nothing written to any service. */
#include "retire_support.h"

/* Number of logged requests that change something (PATCH/POST/PUT/DELETE), token POSTs excluded. */
static int writes(rt_env *env)
{
    return rt_count(env, "PATCH", NULL) + rt_count(env, "PUT", NULL) + rt_count(env, "DELETE", NULL) +
           rt_count(env, "POST", "/api/") + rt_count(env, "POST", "/ecommerce/") +
           rt_count(env, "POST", "/credentials/") + rt_count(env, "POST", "/demographics/") +
           rt_count(env, "POST", "/license-manager/");
}

static void test_plan_sends_nothing(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, "[{\"username\": \"bob\", \"state\": \"FORUMS_COMPLETE\", \"days_ago\": 10}]", NULL, NULL,
             "fetch_ecommerce_segment_id: true\n");
    cmd_result r;
    rt_retirectl(&env, &r, "plan", "bob", NULL);
    rt_assert_status(&r, 0);
    rt_assert_no_secret(&r);
    assert_int_equal(writes(&env), 0);
    assert_int_equal(rt_count(&env, "GET", "tracking_id"), 0); /* a driver call: only previewed */
    rt_assert_state(&env, "bob", "FORUMS_COMPLETE");
    /* per step run/skip with the requests */
    assert_non_null(strstr(r.out, "LMS.retirement_retire_forum"));
    assert_non_null(strstr(r.out, "skip"));
    assert_non_null(strstr(r.out, "POST   "));
    assert_non_null(strstr(r.out, "/api/user/v1/accounts/retire_mailings/ {\"username\": \"bob\"}"));
    assert_non_null(strstr(r.out, "\"new_state\": \"RETIRING_EMAIL_LISTS\""));
    cmd_result_free(&r);
    /* retire --dry-run is the same, as events */
    rt_retirectl(&env, &r, "retire", "bob", "--dry-run", "--events", NULL);
    rt_assert_status(&r, 0);
    assert_int_equal(writes(&env), 0);
    assert_non_null(strstr(r.out, "\"event\":\"preview\""));
    assert_non_null(strstr(r.out, "\"plan\":\"skip\""));
    assert_non_null(strstr(r.out, "\"plan\":\"run\""));
    assert_non_null(strstr(r.out, "\"outcome\":\"planned\""));
    assert_non_null(strstr(r.out, "Authorization: JWT ********"));
    rt_assert_no_secret(&r);
    cmd_result_free(&r);
    rt_stop(&env);
}

/* A refused learner: plan exits with what retire would. */
static void test_plan_refusals(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env,
             "[{\"username\": \"done\", \"state\": \"COMPLETE\", \"days_ago\": 10},"
             " {\"username\": \"busy\", \"state\": \"RETIRING_LMS\", \"days_ago\": 10}]",
             NULL, NULL, NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "plan", "done", NULL);
    rt_assert_status(&r, 254);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "plan", "busy", NULL);
    rt_assert_status(&r, 253);
    cmd_result_free(&r);
    rt_retirectl(&env, &r, "plan", "ghost", NULL);
    rt_assert_status(&r, 251);
    cmd_result_free(&r);
    assert_int_equal(writes(&env), 0);
    rt_stop(&env);
}

/* A step whose driver cannot load: plan says `fail` for it and exits 255, still sending nothing. */
static void test_plan_unknown_driver(void **state)
{
    (void)state;
    rt_env env;
    rt_start(&env, "[{\"username\": \"jane\", \"state\": \"PENDING\", \"days_ago\": 10}]", NULL,
             "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
             "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'no_such_method']\n",
             NULL);
    cmd_result r;
    rt_retirectl(&env, &r, "plan", "jane", "--events", NULL);
    rt_assert_status(&r, 255);
    assert_non_null(strstr(r.out, "\"plan\":\"fail\""));
    assert_non_null(strstr(r.out, "no_such_method"));
    assert_int_equal(writes(&env), 0);
    cmd_result_free(&r);
    /* retire refuses before changing anything */
    rt_retirectl(&env, &r, "retire", "jane", NULL);
    rt_assert_status(&r, 255);
    assert_int_equal(writes(&env), 0);
    rt_assert_state(&env, "jane", "PENDING");
    cmd_result_free(&r);
    rt_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_plan_sends_nothing, rt_teardown),
        cmocka_unit_test_teardown(test_plan_refusals, rt_teardown),
        cmocka_unit_test_teardown(test_plan_unknown_driver, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
