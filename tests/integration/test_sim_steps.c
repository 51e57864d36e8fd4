/* retirectl-sim per-step endpoints (docs/lms-api.md §3.3, §5.5-§5.19) and IDA endpoints (§6): each endpoint's own
 * status for a non-working state, partner report locking, retirement cleanup rules, cancel. */
#include "test_sim_common.h"

static const char *SEED =
    "{\"learners\": ["
    "{\"username\": \"w_forum\", \"name\": \"W Forum\", \"state\": \"RETIRING_FORUMS\", \"orgs\": [\"edX\", \"MITx\"]},"
    "{\"username\": \"w_noorgs\", \"state\": \"RETIRING_ENROLLMENTS\"},"
    "{\"username\": \"p_pending\", \"state\": \"PENDING\"},"
    "{\"username\": \"c_forums_done\", \"state\": \"FORUMS_COMPLETE\"},"
    "{\"username\": \"e_errored\", \"state\": \"ERRORED\"},"
    "{\"username\": \"done1\", \"state\": \"COMPLETE\"},"
    "{\"username\": \"done2\", \"state\": \"COMPLETE\"},"
    "{\"username\": \"forum_unknown\", \"state\": \"RETIRING_FORUMS\", \"forum\": false},"
    "{\"username\": \"notes_down\", \"state\": \"RETIRING_NOTES\", \"notes\": false},"
    "{\"username\": \"ecom_known\", \"state\": \"RETIRING_ECOM\", \"ecommerce_id\": 90, \"orgs\": [\"HarvardX\"]},"
    "{\"username\": \"ecom_unknown\", \"state\": \"RETIRING_ECOM\", \"ecommerce\": false},"
    "{\"username\": \"lic\", \"state\": \"RETIRING_LMS\", \"license_manager\": true, \"user_id\": 555},"
    "{\"username\": \"demo_user\", \"state\": \"RETIRING_LMS\", \"demographics\": true, \"user_id\": 556},"
    "{\"username\": \"proc\", \"state\": \"RETIRING_LMS\", \"user_id\": 557, \"proctoring_backends\": {\"software_secure\": true, \"proctortrack\": false}},"
    "{\"username\": \"proc_ok\", \"state\": \"RETIRING_LMS\", \"user_id\": 558, \"proctoring_backends\": {\"software_secure\": true}},"
    "{\"username\": \"fresh\", \"state\": null, \"email\": \"fresh@example.invalid\"}"
    "]}";

#define ACC "/api/user/v1/accounts/"
#define FORUM "/api/discussion/v1/accounts/retire_forum/"

/* Whether a response is Django's HTML 500 page. */
static void assert_html_500(const char *method, const char *path, const char *body)
{
    http_res r = api(method, path, body);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(r.headers, "text/html"));
    assert_non_null(strstr(r.body, "Server Error (500)"));
    http_res_free(&r);
}

/* A RetirementStateError answer: the status and the JSON string naming the state. */
static void assert_state_error(const char *path, const char *user, long status, const char *state)
{
    char body[128], want[160];
    snprintf(body, sizeof body, "{\"username\": \"%s\"}", user);
    http_res r = api("POST", path, body);
    if (r.status != status) print_error("%s %s -> %ld %s\n", path, user, r.status, r.body);
    assert_int_equal(r.status, status);
    assert_true(cJSON_IsString(r.json));
    assert_int_equal(strncmp(r.json->valuestring, "User: ", 6), 0);
    snprintf(want, sizeof want, " is in %s, not a valid state to perform retirement actions on.", state);
    assert_non_null(strstr(r.json->valuestring, want));
    assert_non_null(strstr(r.json->valuestring, " Last Updated: "));
    http_res_free(&r);
}

static void test_retire_forum(void **st)
{
    (void)st;
    assert_api("POST", FORUM, "{\"username\": \"w_forum\"}", 204, "");
    assert_int_equal(learner_num("w_forum", "retired_in", "forum"), 1);
    assert_api("POST", "/api/discussion/v1/accounts/retire_forum", "{\"username\": \"w_forum\"}", 204, "");
    assert_state_error(FORUM, "p_pending", 500, "PENDING");
    assert_state_error(FORUM, "c_forums_done", 500, "FORUMS_COMPLETE");
    assert_state_error(FORUM, "e_errored", 500, "ERRORED");
    assert_api("POST", FORUM, "{\"username\": \"nobody\"}", 404, "");
    assert_api("POST", FORUM, "{\"username\": \"forum_unknown\"}", 404, "");
    assert_html_500("POST", FORUM, "{}");
}

static void test_retire_mailings_current_and_legacy(void **st)
{
    (void)st;
    http_res r = api("POST", ACC "retire_mailings/", "{\"username\": \"w_forum\"}");
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.headers, "text/html"));
    http_res_free(&r);
    r = ctl("POST", "/__sim/config", "{\"legacy_mailings\": true}");
    assert_int_equal(r.status, 200);
    http_res_free(&r);
    assert_api("POST", ACC "retire_mailings/", "{\"username\": \"w_forum\"}", 204, "");
    assert_state_error(ACC "retire_mailings/", "p_pending", 500, "PENDING");
    assert_api("POST", ACC "retire_mailings/", "{\"username\": \"nobody\"}", 404, "");
    assert_html_500("POST", ACC "retire_mailings/", "{}");
    /* reset goes back to the startup setting (current LMS) */
    reset_sim(NULL);
    assert_int_equal(api_status("POST", ACC "retire_mailings/", "{\"username\": \"w_forum\"}"), 404);
}

static void test_unenroll(void **st)
{
    (void)st;
    assert_api("POST", "/api/enrollment/v1/unenroll/", "{\"username\": \"w_forum\"}", 200, "[\"edX\",\"MITx\"]");
    assert_api("POST", "/api/enrollment/v1/unenroll/", "{\"username\": \"w_forum\"}", 204, "");
    assert_api("POST", "/api/enrollment/v1/unenroll", "{\"username\": \"w_noorgs\"}", 204, "");
    assert_api("POST", "/api/enrollment/v1/unenroll/", "{}", 404, "\"Username not specified.\"");
    assert_api("POST", "/api/enrollment/v1/unenroll/", "{\"username\": \"nobody\"}", 404,
               "\"No retirement request status for username.\"");
    assert_state_error("/api/enrollment/v1/unenroll/", "p_pending", 500, "PENDING");
}

static void test_retire_notes(void **st)
{
    (void)st;
    assert_api("POST", "/api/edxnotes/v1/retire_user/", "{\"username\": \"w_forum\"}", 204, "");
    assert_state_error("/api/edxnotes/v1/retire_user/", "p_pending", 405, "PENDING");
    assert_api("POST", "/api/edxnotes/v1/retire_user/", "{\"username\": \"nobody\"}", 404, "");
    http_res r = api("POST", "/api/edxnotes/v1/retire_user/", "{\"username\": \"notes_down\"}");
    assert_int_equal(r.status, 500);
    assert_true(cJSON_IsString(r.json));
    http_res_free(&r);
    assert_html_500("POST", "/api/edxnotes/v1/retire_user/", "{}");
}

static void test_retire_misc_and_retire(void **st)
{
    (void)st;
    assert_api("POST", ACC "retire_misc/", "{\"username\": \"w_forum\"}", 204, "");
    assert_api("POST", ACC "retire_misc/", "{\"username\": \"w_forum\"}", 204, "");
    assert_state_error(ACC "retire_misc/", "p_pending", 400, "PENDING");
    assert_api("POST", ACC "retire_misc/", "{}", 404, "{\"message\":\"The user was not specified.\"}");
    assert_api("POST", ACC "retire_misc/", "{\"username\": \"nobody\"}", 404, "");

    assert_api("POST", ACC "retire/", "{\"username\": \"w_forum\"}", 204, "");
    http_res r = api("GET", ACC "w_forum/retirement_status/", NULL);
    cJSON *u = cJSON_GetObjectItem(r.json, "user");
    assert_string_equal(cJSON_GetObjectItem(u, "username")->valuestring,
                        cJSON_GetObjectItem(r.json, "retired_username")->valuestring);
    assert_string_equal(cJSON_GetObjectItem(u, "email")->valuestring, cJSON_GetObjectItem(r.json, "retired_email")->valuestring);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(u, "profile"), "name")->valuestring, "");
    assert_string_equal(cJSON_GetObjectItem(r.json, "original_username")->valuestring, "w_forum");
    http_res_free(&r);
    assert_int_equal(learner_num("w_forum", "is_active", NULL), 0);
    assert_api("POST", ACC "retire", "{\"username\": \"w_forum\"}", 204, ""); /* idempotent while working */
    assert_state_error(ACC "retire/", "done1", 400, "COMPLETE");
    assert_api("POST", ACC "retire/", "{\"username\": null}", 404, "{\"message\":\"The user was not specified.\"}");
}

static void test_partner_report_locking(void **st)
{
    (void)st;
    assert_api("PUT", ACC "retirement_partner_report/", "{\"username\": \"w_forum\"}", 204, "");
    assert_api("PUT", ACC "retirement_partner_report/", "{\"username\": \"w_forum\"}", 204, ""); /* idempotent */
    assert_api("PUT", ACC "retirement_partner_report/", "{\"username\": \"w_noorgs\"}", 204, "");
    assert_api("PUT", ACC "retirement_partner_report/", "{\"username\": \"nobody\"}", 404, "");
    assert_api("PUT", ACC "retirement_partner_report/", "{}", 404, "{\"message\":\"The user was not specified.\"}");
    assert_html_500("PUT", ACC "retirement_partner_report/", "{\"username\": \"p_pending\"}");
    cJSON *d = learner_dump("w_noorgs");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "partner_report")));
    cJSON_Delete(d);

    http_res r = api("POST", ACC "retirement_partner_report/", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetArraySize(r.json), 1);
    cJSON *it = cJSON_GetArrayItem(r.json, 0);
    const char *keys[] = {"user_id", "original_username", "original_email", "original_name", "orgs", "created"};
    cJSON *k = it->child;
    for (int i = 0; i < 6; i++, k = k->next) assert_string_equal(k->string, keys[i]);
    assert_null(k);
    assert_string_equal(cJSON_GetObjectItem(it, "original_username")->valuestring, "w_forum");
    assert_string_equal(cJSON_GetObjectItem(it, "original_name")->valuestring, "W Forum");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(it, "orgs")), 2);
    http_res_free(&r);
    /* the rows are now being processed: a second fetch returns nothing */
    assert_api("POST", ACC "retirement_partner_report/", NULL, 200, "[]");

    /* a row not being processed cannot be cleaned up */
    assert_api("PUT", ACC "retirement_partner_report/", "{\"username\": \"ecom_known\"}", 204, "");
    r = api("POST", ACC "retirement_partner_report_cleanup/", "[{\"original_username\": \"ecom_known\"}]");
    assert_int_equal(r.status, 400);
    assert_string_equal(r.json->valuestring,
                        "1 original_usernames given, 0 found!\nGiven usernames:\n['ecom_known']\n"
                        "Found UserRetirementReportingStatuses:\n");
    http_res_free(&r);
    r = api("POST", ACC "retirement_partner_report_cleanup/",
            "[{\"original_username\": \"w_forum\"}, {\"original_username\": \"nobody\"}]");
    assert_int_equal(r.status, 400);
    assert_int_equal(strncmp(r.json->valuestring, "2 original_usernames given, 1 found!\n", 37), 0);
    assert_non_null(strstr(r.json->valuestring, "['w_forum', 'nobody']\nFound UserRetirementReportingStatuses:\nw_forum"));
    http_res_free(&r);
    assert_api("POST", ACC "retirement_partner_report_cleanup/", "[]", 400, "\"No original_usernames given.\"");
    assert_html_500("POST", ACC "retirement_partner_report_cleanup/", "{\"original_username\": \"w_forum\"}");
    /* fetch locks ecom_known too; cleaning one of two deletes only that one */
    r = api("POST", ACC "retirement_partner_report/", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 1);
    http_res_free(&r);
    assert_api("POST", ACC "retirement_partner_report_cleanup", "[{\"original_username\": \"w_forum\"}]", 204, "");
    d = learner_dump("w_forum");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "partner_report")));
    cJSON_Delete(d);
    d = learner_dump("ecom_known");
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(d, "partner_report")));
    cJSON_Delete(d);
}

static void test_retirement_cleanup(void **st)
{
    (void)st;
    assert_api("POST", ACC "retirement_cleanup/", "{}", 500, "\"'usernames'\"");
    assert_api("POST", ACC "retirement_cleanup/", "[\"done1\"]", 400, "\"list indices must be integers or slices, not str\"");
    assert_api("POST", ACC "retirement_cleanup/", "{\"usernames\": \"foo\"}", 400, "\"Usernames should be an array.\"");
    assert_api("POST", ACC "retirement_cleanup/", "{\"usernames\": []}", 204, "");
    assert_api("POST", ACC "retirement_cleanup/", "{\"usernames\": [\"done1\", \"nobody\"]}", 400,
               "\"Not all usernames exist in the COMPLETE state.\"");
    assert_api("POST", ACC "retirement_cleanup/", "{\"usernames\": [\"done1\", \"p_pending\"]}", 400,
               "\"Not all usernames exist in the COMPLETE state.\"");
    /* a name listed twice: one row for two names, so the counts differ (the LMS compares len() with count()) */
    assert_api("POST", ACC "retirement_cleanup/", "{\"usernames\": [\"done1\", \"done1\"]}", 400,
               "\"Not all usernames exist in the COMPLETE state.\"");
    assert_int_equal(api_status("GET", ACC "done1/retirement_status/", NULL), 200); /* nothing deleted */
    assert_api("POST", ACC "retirement_cleanup/", "{\"usernames\": [\"done1\"]}", 204, "");
    assert_int_equal(api_status("GET", ACC "done1/retirement_status/", NULL), 404);
    assert_api("POST", ACC "retirement_cleanup",
               "{\"usernames\": [\"done2\"], \"redacted_username\": \"r\", \"redacted_email\": \"r@x\", \"redacted_name\": \"r\"}",
               204, "");
    assert_int_equal(api_status("GET", ACC "done2/retirement_status/", NULL), 404);
    assert_int_equal(api_status("GET", ACC "p_pending/retirement_status/", NULL), 200); /* others left behind */
}

static void test_cancel_retirement(void **st)
{
    (void)st;
    assert_api("POST", ACC "cancel_retirement/", "{}", 400, "{\"message\":\"retirement_id must be specified.\"}");
    assert_api("POST", ACC "cancel_retirement/", "{\"retirement_id\": 99999}", 400, "{\"message\":\"Retirement does not exist!\"}");
    cJSON *d = learner_dump("e_errored");
    char body[64];
    snprintf(body, sizeof body, "{\"retirement_id\": %d}", (int)cJSON_GetObjectItem(d, "id")->valuedouble);
    cJSON_Delete(d);
    assert_api("POST", ACC "cancel_retirement/", body, 400,
               "{\"message\":\"Retirement requests can only be cancelled for users in the PENDING state. Current "
               "request state for 'e_errored': ERRORED\"}");
    d = learner_dump("p_pending");
    snprintf(body, sizeof body, "{\"retirement_id\": %d}", (int)cJSON_GetObjectItem(d, "id")->valuedouble);
    cJSON_Delete(d);
    assert_api("POST", ACC "cancel_retirement/", body, 200, "{\"success\":true}");
    assert_int_equal(api_status("GET", ACC "p_pending/retirement_status/", NULL), 404);
}

static void test_proctoring(void **st)
{
    (void)st;
    assert_api("POST", "/api/edx_proctoring/v1/retire_user/557/", NULL, 204, "");
    assert_int_equal(learner_num("proc", "retired_in", "proctoring"), 1);
    assert_api("POST", "/api/edx_proctoring/v1/retire_backend_user/557/", NULL, 500,
               "{\"software_secure\":true,\"proctortrack\":false}");
    assert_api("POST", "/api/edx_proctoring/v1/retire_backend_user/558", NULL, 200, "{\"software_secure\":true}");
    assert_api("POST", "/api/edx_proctoring/v1/retire_backend_user/1/", NULL, 200, "{}");
    assert_int_equal(api_status("POST", "/api/edx_proctoring/v1/retire_user/abc/", NULL), 404);
}

static void test_ida_endpoints(void **st)
{
    (void)st;
    assert_api("POST", "/ecommerce/api/v2/user/retire/", "{\"username\": \"ecom_known\"}", 200,
               "{\"id\":90,\"ecommerce_tracking_id\":\"ecommerce-90\"}");
    assert_api("POST", "/ecommerce/api/v2/user/retire", "{\"username\": \"ecom_known\"}", 404,
               "{\"message\":\"User does not exist on ecommerce service.\"}");
    assert_api("GET", "/ecommerce/api/v2/retirement/tracking_id/ecom_unknown/", NULL, 404, "{\"message\":\"Invalid user.\"}");
    http_res r = api("GET", "/ecommerce/api/v2/retirement/tracking_id/w_forum/", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(cJSON_GetObjectItem(r.json, "ecommerce_tracking_id")->valuestring, "ecommerce-"));
    http_res_free(&r);
    assert_api("POST", "/credentials/user/retire/", "{\"username\": \"w_forum\"}", 204, "");
    assert_api("POST", "/credentials/user/retire/", "{}", 400, "{\"username\":[\"This field is required.\"]}");
    assert_api("POST", "/demographics/demographics/api/v1/retire_demographics/", "{\"lms_user_id\": 556}", 204, "");
    assert_api("POST", "/demographics/demographics/api/v1/retire_demographics/", "{\"lms_user_id\": 9999}", 404, "");
    assert_api("POST", "/license-manager/api/v1/retire_user/", "{\"lms_user_id\": 555, \"original_username\": \"lic\"}", 204, "");
    assert_api("POST", "/license-manager/api/v1/retire_user/", "{\"lms_user_id\": 555, \"original_username\": \"lic\"}", 404, "");
    assert_api("POST", "/license-manager/api/v1/retire_user/", "{\"lms_user_id\": 555}", 400,
               "{\"detail\":\"Required field \\\"original_username\\\" missing or missing value in retirement request\\\"\"}");
    /* IDA endpoints take the LMS JWT too */
    r = http_full("POST", "/credentials/user/retire/", NULL, "application/json", "{\"username\": \"w_forum\"}");
    assert_int_equal(r.status, 401);
    http_res_free(&r);
}

static void test_deactivate_logout(void **st)
{
    (void)st;
    assert_api("POST", ACC "deactivate_logout/", "{\"username\": \"fresh\"}", 403,
               "{\"detail\":\"You do not have permission to perform this action.\"}");
    http_res r = ctl("POST", "/__sim/config", "{\"deactivate_logout_hook\": true}");
    assert_int_equal(r.status, 200);
    http_res_free(&r);
    assert_int_equal(api_status("GET", ACC "fresh/retirement_status/", NULL), 404);
    assert_api("POST", ACC "deactivate_logout/", "{\"username\": \"fresh\"}", 204, "");
    r = api("GET", ACC "fresh/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "current_state"), "state_name")->valuestring, "PENDING");
    assert_string_equal(cJSON_GetObjectItem(r.json, "original_email")->valuestring, "fresh@example.invalid");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "user"), "email")->valuestring,
                        cJSON_GetObjectItem(r.json, "retired_email")->valuestring);
    http_res_free(&r);
    /* already has a row */
    assert_int_equal(api_status("POST", ACC "deactivate_logout/", "{\"username\": \"fresh\"}"), 403);
}

static void test_replace_usernames(void **st)
{
    (void)st;
    assert_api("POST", ACC "replace_usernames/", "{\"username_mappings\": {\"p_pending\": \"x\"}}", 400,
               "[\"Request data does not match schema\"]");
    assert_api("POST", ACC "replace_usernames/", "{\"username_mappings\": [{\"a\": \"b\", \"c\": \"d\"}]}", 400,
               "[\"Request data does not match schema\"]");
    assert_api("POST", ACC "replace_usernames/",
               "{\"username_mappings\": [{\"p_pending\": \"p_renamed\"}, {\"nobody\": \"still_nobody\"}]}", 200,
               "{\"successful_replacements\":[{\"p_pending\":\"p_renamed\"},{\"nobody\":\"still_nobody\"}],"
               "\"failed_replacements\":[]}");
    http_res r = api("GET", ACC "p_renamed/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "original_username")->valuestring, "p_renamed");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "user"), "username")->valuestring, "p_renamed");
    http_res_free(&r);
    assert_int_equal(api_status("GET", ACC "p_pending/retirement_status/", NULL), 404);
    /* a taken desired name gets a 4-character suffix */
    r = api("POST", ACC "replace_usernames/", "{\"username_mappings\": [{\"w_noorgs\": \"w_forum\"}]}");
    assert_int_equal(r.status, 200);
    const char *nu = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "successful_replacements"), 0)->child->valuestring;
    assert_int_equal(strlen(nu), strlen("w_forum") + 4);
    assert_int_equal(strncmp(nu, "w_forum", 7), 0);
    http_res_free(&r);
}

static void test_method_not_allowed_and_unknown_path(void **st)
{
    (void)st;
    assert_api("GET", ACC "update_retirement_status/", NULL, 405, "{\"detail\":\"Method \\\"GET\\\" not allowed.\"}");
    assert_api("POST", ACC "retirement_queue/", NULL, 405, "{\"detail\":\"Method \\\"POST\\\" not allowed.\"}");
    http_res r = api("GET", "/api/user/v1/nothing/here/", NULL);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.headers, "text/html"));
    http_res_free(&r);
}

int main(void)
{
    char *seed = write_temp_file("seed.json", SEED);
    const char *args[] = {"--seed", seed, NULL};
    start_sim_or_die(args);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_retire_forum, reset_sim),
        cmocka_unit_test_setup(test_retire_mailings_current_and_legacy, reset_sim),
        cmocka_unit_test_setup(test_unenroll, reset_sim),
        cmocka_unit_test_setup(test_retire_notes, reset_sim),
        cmocka_unit_test_setup(test_retire_misc_and_retire, reset_sim),
        cmocka_unit_test_setup(test_partner_report_locking, reset_sim),
        cmocka_unit_test_setup(test_retirement_cleanup, reset_sim),
        cmocka_unit_test_setup(test_cancel_retirement, reset_sim),
        cmocka_unit_test_setup(test_proctoring, reset_sim),
        cmocka_unit_test_setup(test_ida_endpoints, reset_sim),
        cmocka_unit_test_setup(test_deactivate_logout, reset_sim),
        cmocka_unit_test_setup(test_replace_usernames, reset_sim),
        cmocka_unit_test_setup(test_method_not_allowed_and_unknown_path, reset_sim),
    };
    int rc = cmocka_run_group_tests_name("sim_steps", tests, NULL, stop_sim);
    free(seed);
    return rc;
}
