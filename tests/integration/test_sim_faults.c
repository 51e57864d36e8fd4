/* retirectl-sim fault injection (docs/sim.md): sequences, counted and permanent rules, latency, dropped
 * connections, malformed JSON, 504s, method/username/path matching, the faults file and reset. */
#include "test_sim_common.h"

#include <time.h>

static const char *SEED = "{\"learners\": ["
                          "{\"username\": \"w1\", \"state\": \"RETIRING_LMS\", \"orgs\": [\"edX\"]},"
                          "{\"username\": \"w2\", \"state\": \"RETIRING_LMS\", \"orgs\": [\"edX\"]},"
                          "{\"username\": \"lic\", \"state\": \"RETIRING_LMS\", \"license_manager\": true, \"user_id\": 777}"
                          "]}";

#define UPD "/api/user/v1/accounts/update_retirement_status/"

static void add_faults(const char *json)
{
    http_res r = ctl("POST", "/__sim/faults", json);
    if (r.status != 201) print_error("POST /__sim/faults %s -> %ld %s\n", json, r.status, r.body);
    assert_int_equal(r.status, 201);
    http_res_free(&r);
}

static int clear_faults_and_reset(void **st)
{
    http_res r = ctl("DELETE", "/__sim/faults", NULL);
    long s = r.status;
    http_res_free(&r);
    return s == 204 ? reset_sim(st) : -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_sequence_then_normal(void **st)
{
    (void)st;
    add_faults("{\"endpoint\": \"update_retirement_status\", \"username\": \"w1\", \"actions\": [500, 500]}");
    const char *b1 = "{\"username\": \"w1\", \"new_state\": \"LMS_COMPLETE\", \"response\": \"x\"}";
    const char *b2 = "{\"username\": \"w2\", \"new_state\": \"LMS_COMPLETE\", \"response\": \"x\"}";
    assert_int_equal(api_status("PATCH", UPD, b2), 204); /* other learner unaffected */
    assert_int_equal(api_status("PATCH", UPD, b1), 500);
    assert_string_equal(learner_state("w1"), "RETIRING_LMS"); /* the fault answered instead of the LMS */
    assert_int_equal(api_status("PATCH", UPD, b1), 500);
    assert_int_equal(api_status("PATCH", UPD, b1), 204);
    assert_string_equal(learner_state("w1"), "LMS_COMPLETE");
    http_res r = ctl("GET", "/__sim/faults", NULL);
    cJSON *f = cJSON_GetArrayItem(r.json, 0);
    assert_int_equal((int)cJSON_GetObjectItem(f, "hits")->valuedouble, 2);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(f, "active")));
    http_res_free(&r);
}

static void test_times_and_forever(void **st)
{
    (void)st;
    add_faults("[{\"endpoint\": \"retire_forum\", \"status\": 503, \"times\": 2},"
               " {\"path\": \"/retire_misc\", \"status\": 500}]");
    const char *b = "{\"username\": \"w1\"}";
    force_state("w1", "RETIRING_FORUMS");
    assert_int_equal(api_status("POST", "/api/discussion/v1/accounts/retire_forum/", b), 503);
    assert_int_equal(api_status("POST", "/api/discussion/v1/accounts/retire_forum/", b), 503);
    assert_int_equal(api_status("POST", "/api/discussion/v1/accounts/retire_forum/", b), 204);
    for (int i = 0; i < 5; i++) assert_int_equal(api_status("POST", "/api/user/v1/accounts/retire_misc/", b), 500);
    http_res r = ctl("DELETE", "/__sim/faults", NULL);
    http_res_free(&r);
    assert_int_equal(api_status("POST", "/api/user/v1/accounts/retire_misc/", b), 204);
}

static void test_latency(void **st)
{
    (void)st;
    add_faults("{\"endpoint\": \"retirement_status\", \"latency_ms\": 300, \"times\": 1}");
    double t0 = now_s();
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/w1/retirement_status/", NULL), 200);
    double t1 = now_s();
    assert_true(t1 - t0 >= 0.29);
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/w1/retirement_status/", NULL), 200);
    assert_true(now_s() - t1 < 0.29);
}

static void test_drop_malformed_504_and_body(void **st)
{
    (void)st;
    add_faults("[{\"endpoint\": \"retire\", \"drop\": true, \"times\": 1},"
               " {\"endpoint\": \"retirement_queue\", \"malformed\": true, \"times\": 1},"
               " {\"endpoint\": \"unenroll\", \"actions\": [504, {\"status\": 500, \"body\": {\"error\": \"x\"}}]}]");
    http_res r = api("POST", "/api/user/v1/accounts/retire/", "{\"username\": \"w1\"}");
    assert_int_equal(r.status, 0);
    assert_int_equal(r.transport_error, CURLE_GOT_NOTHING);
    http_res_free(&r);
    assert_int_equal(api_status("POST", "/api/user/v1/accounts/retire/", "{\"username\": \"w1\"}"), 204);

    r = api("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=0&states=PENDING", NULL);
    assert_int_equal(r.status, 200);
    assert_null(r.json);
    assert_non_null(strstr(r.headers, "application/json"));
    http_res_free(&r);
    r = api("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=0&states=PENDING", NULL);
    assert_non_null(r.json);
    http_res_free(&r);

    force_state("w2", "RETIRING_ENROLLMENTS");
    r = api("POST", "/api/enrollment/v1/unenroll/", "{\"username\": \"w2\"}");
    assert_int_equal(r.status, 504);
    assert_non_null(strstr(r.body, "Gateway Time-out"));
    http_res_free(&r);
    assert_api("POST", "/api/enrollment/v1/unenroll/", "{\"username\": \"w2\"}", 500, "{\"error\":\"x\"}");
    assert_api("POST", "/api/enrollment/v1/unenroll/", "{\"username\": \"w2\"}", 200, "[\"edX\"]");
}

/* "after": the LMS does the work, then the fault replaces its answer (a lost answer). */
static void test_after_replaces_the_lms_answer(void **st)
{
    (void)st;
    add_faults("{\"endpoint\": \"update_retirement_status\", \"username\": \"w1\", \"status\": 502, "
               "\"after\": true, \"times\": 1}");
    const char *b1 = "{\"username\": \"w1\", \"new_state\": \"LMS_COMPLETE\", \"response\": \"x\"}";
    assert_int_equal(api_status("PATCH", UPD, b1), 502);
    assert_string_equal(learner_state("w1"), "LMS_COMPLETE"); /* the change was made */
    /* a dropped answer after the work */
    add_faults("{\"endpoint\": \"update_retirement_status\", \"username\": \"w2\", \"drop\": true, "
               "\"after\": true, \"times\": 1}");
    const char *b2 = "{\"username\": \"w2\", \"new_state\": \"LMS_COMPLETE\", \"response\": \"x\"}";
    assert_int_equal(api_status("PATCH", UPD, b2), 0);
    assert_string_equal(learner_state("w2"), "LMS_COMPLETE");
    /* the rule was used up: normal answers again, and other requests never saw it */
    assert_int_equal(api_status("PATCH", UPD, b2), 400); /* LMS_COMPLETE -> LMS_COMPLETE is not a move */
    http_res r = ctl("POST", "/__sim/faults", "{\"endpoint\": \"retire\", \"after\": true}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "after"));
    assert_non_null(strstr(r.body, "needs"));
    http_res_free(&r);
}

static void test_method_and_user_id_matching(void **st)
{
    (void)st;
    add_faults("[{\"endpoint\": \"partner_report\", \"method\": \"PUT\", \"status\": 500},"
               " {\"endpoint\": \"license_manager_retire\", \"username\": \"lic\", \"status\": 502, \"times\": 1}]");
    assert_int_equal(api_status("PUT", "/api/user/v1/accounts/retirement_partner_report/", "{\"username\": \"w1\"}"), 500);
    assert_int_equal(api_status("POST", "/api/user/v1/accounts/retirement_partner_report/", NULL), 200);
    /* the username of an lms_user_id body is resolved for matching */
    assert_int_equal(api_status("POST", "/license-manager/api/v1/retire_user/",
                                "{\"lms_user_id\": 777, \"original_username\": \"lic\"}"), 502);
    assert_int_equal(api_status("POST", "/license-manager/api/v1/retire_user/",
                                "{\"lms_user_id\": 777, \"original_username\": \"lic\"}"), 204);
}

static void test_token_fault_and_bad_rules(void **st)
{
    (void)st;
    add_faults("{\"endpoint\": \"token\", \"status\": 500, \"times\": 1}");
    char *t = sim_token(&g_sim);
    assert_null(t);
    t = sim_token(&g_sim);
    assert_non_null(t);
    free(t);
    http_res r = ctl("POST", "/__sim/faults", "{\"endpoint\": \"retire\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "no action"));
    http_res_free(&r);
    r = ctl("POST", "/__sim/faults", "{\"endpoint\": \"retire\", \"actions\": [\"explode\"]}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "explode"));
    http_res_free(&r);
    r = ctl("POST", "/__sim/faults", "not json");
    assert_int_equal(r.status, 400);
    http_res_free(&r);
}

static void check_faults_file(void *arg)
{
    (void)arg;
    const char *b = "{\"username\": \"w1\"}";
    assert_int_equal(api_status("POST", "/api/user/v1/accounts/retire_misc/", b), 500);
    assert_int_equal(api_status("POST", "/api/user/v1/accounts/retire_misc/", b), 204);
    /* reset restores the file's rules */
    http_res r = ctl("POST", "/__sim/reset", NULL);
    http_res_free(&r);
    assert_int_equal(api_status("POST", "/api/user/v1/accounts/retire_misc/", b), 500);
}

static void test_faults_file(void **st)
{
    (void)st;
    char *seed = write_temp_file("seed.json", SEED);
    char *faults = write_temp_file("faults.json", "{\"rules\": [{\"endpoint\": \"retire_misc\", \"actions\": [500]}]}");
    const char *args[] = {"--seed", seed, "--faults", faults, NULL};
    with_other_sim(args, check_faults_file, NULL);
    free(seed);
    free(faults);
}

int main(void)
{
    char *seed = write_temp_file("seed.json", SEED);
    const char *args[] = {"--seed", seed, NULL};
    start_sim_or_die(args);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_sequence_then_normal, clear_faults_and_reset),
        cmocka_unit_test_setup(test_times_and_forever, clear_faults_and_reset),
        cmocka_unit_test_setup(test_latency, clear_faults_and_reset),
        cmocka_unit_test_setup(test_drop_malformed_504_and_body, clear_faults_and_reset),
        cmocka_unit_test_setup(test_after_replaces_the_lms_answer, clear_faults_and_reset),
        cmocka_unit_test_setup(test_method_and_user_id_matching, clear_faults_and_reset),
        cmocka_unit_test_setup(test_token_fault_and_bad_rules, clear_faults_and_reset),
        cmocka_unit_test(test_faults_file),
    };
    int rc = cmocka_run_group_tests_name("sim_faults", tests, NULL, stop_sim);
    free(seed);
    return rc;
}
