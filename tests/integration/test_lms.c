/* Integration tests of src/engine/lms.c against the real retirectl-sim: every endpoint, the
 * exact bodies and query strings upstream sends, errors naming URL/status/server message,
 * usernames that must stay one path segment, and retries through the http layer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/config.h"
#include "engine/http.h"
#include "engine/lms.h"
#include "simproc.h"

static sim_proc sim;
static cfg *config;
static char *config_path;
static http_client *http;
static lms_client *lms;

static void sim_ok(const char *method, const char *path, const char *body)
{
    char *out = NULL;
    long st = sim_http(&sim, method, path, NULL, body, &out);
    if (st < 200 || st >= 300) fail_msg("sim %s %s -> %ld: %s", method, path, st, out ? out : "");
    free(out);
}

/* Requests logged by the sim whose path contains filter (caller frees). */
static cJSON *sim_requests(const char *filter)
{
    char path[512];
    snprintf(path, sizeof path, "/__sim/requests?path=%s", filter);
    char *out = NULL;
    assert_int_equal(sim_http(&sim, "GET", path, NULL, NULL, &out), 200);
    cJSON *j = cJSON_Parse(out);
    free(out);
    assert_true(cJSON_IsArray(j));
    return j;
}

static cJSON *last_request(const char *filter)
{
    cJSON *all = sim_requests(filter);
    int n = cJSON_GetArraySize(all);
    assert_true(n > 0);
    cJSON *e = cJSON_DetachItemFromArray(all, n - 1);
    cJSON_Delete(all);
    return e;
}

static const char *sget(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *state_of(const cJSON *learner)
{
    return sget(cJSON_GetObjectItemCaseSensitive(learner, "current_state"), "state_name");
}

static int group_setup(void **state)
{
    (void)state;
    setenv("LC_ALL", "C.UTF-8", 1);
    setenv("RETIRECTL_TEST_BACKOFF_SCALE", "0.01", 1);
    if (sim_start(&sim, NULL)) return -1;
    sim_ok("POST", "/__sim/learners",
           "[{\"username\": \"lms_user\", \"state\": \"PENDING\", \"days_ago\": 10},"
           " {\"username\": \"lms_upd\", \"state\": \"PENDING\", \"days_ago\": 10},"
           " {\"username\": \"lms_q1\", \"state\": \"FORUMS_COMPLETE\", \"days_ago\": 30},"
           " {\"username\": \"lms_q2\", \"state\": \"FORUMS_COMPLETE\", \"days_ago\": 31},"
           " {\"username\": \"lms_recent\", \"state\": \"FORUMS_COMPLETE\", \"days_ago\": 1},"
           " {\"username\": \"lms_done\", \"state\": \"COMPLETE\", \"days_ago\": 0},"
           " {\"username\": \"lms_pending2\", \"state\": \"PENDING\", \"days_ago\": 0},"
           " {\"username\": \"lms_cancel\", \"state\": \"PENDING\", \"days_ago\": 2},"
           " {\"username\": \"a b+c@d\", \"state\": \"PENDING\"},"
           " {\"username\": \"x/y?z#w\", \"state\": \"PENDING\"},"
           " {\"username\": \"jos\\u00e9\", \"state\": \"PENDING\"},"
           " {\"username\": \"..\", \"state\": \"PENDING\"}]");
    config_path = sim_write_config(&sim, NULL, NULL);
    char err[1024];
    if (cfg_load(config_path, &config, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    http = http_client_new(config, err, sizeof err);
    lms = lms_new(http, cfg_string(config, "base_urls.lms"));
    return lms ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    lms_free(lms);
    http_client_free(http);
    cfg_free(config);
    unlink(config_path);
    free(config_path);
    sim_stop(&sim);
    return 0;
}

static int setup_each(void **state)
{
    (void)state;
    sim_ok("DELETE", "/__sim/faults", NULL);
    sim_ok("DELETE", "/__sim/requests", NULL);
    return 0;
}

static void test_get_status(void **state)
{
    (void)state;
    cJSON *l = NULL;
    lms_error e;
    assert_int_equal(lms_get_status(lms, "lms_user", &l, &e), 0);
    assert_null(e.body);
    assert_string_equal(sget(l, "original_username"), "lms_user");
    assert_string_equal(state_of(l), "PENDING");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "user"), "id"));
    cJSON_Delete(l);
    cJSON *r = last_request("retirement_status");
    assert_string_equal(sget(r, "method"), "GET");
    assert_string_equal(sget(r, "raw_path"), "/api/user/v1/accounts/lms_user/retirement_status/");
    cJSON_Delete(r);
}

static void test_get_status_unknown_is_404_with_url(void **state)
{
    (void)state;
    cJSON *l = NULL;
    lms_error e;
    assert_int_equal(lms_get_status(lms, "nobody_here", &l, &e), -1);
    assert_null(l);
    assert_int_equal(e.status, 404);
    assert_non_null(strstr(e.message, "GET "));
    assert_non_null(strstr(e.message, "/api/user/v1/accounts/nobody_here/retirement_status/"));
    assert_non_null(strstr(e.message, "answered 404"));
    assert_int_equal(lms_last_attempts(lms), 1); /* 4xx never retried */
    lms_error_clear(&e);
    assert_null(e.body);
}

static void test_usernames_stay_one_segment(void **state)
{
    (void)state;
    const char *names[] = {"a b+c@d", "x/y?z#w", "jos\xc3\xa9", ".."};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cJSON *l = NULL;
        lms_error e;
        if (lms_get_status(lms, names[i], &l, &e) == 0) {
            /* the learner asked for, never another one */
            assert_string_equal(sget(l, "original_username"), names[i]);
            cJSON_Delete(l);
        } else if (strchr(names[i], '/') && e.status == 404) {
            /* a server that decodes %2F before routing (as Django does with PATH_INFO) cannot route
             * it; what matters is that no other path was reached (checked below) */
            lms_error_clear(&e);
        } else {
            fail_msg("%s: %s", names[i], e.message);
        }
        cJSON *r = last_request("retirement_status");
        const char *raw = sget(r, "raw_path");
        /* /api/user/v1/accounts/<one segment>/retirement_status/ */
        const char *prefix = "/api/user/v1/accounts/";
        assert_int_equal(strncmp(raw, prefix, strlen(prefix)), 0);
        const char *seg = raw + strlen(prefix);
        const char *slash = strchr(seg, '/');
        assert_non_null(slash);
        assert_string_equal(slash, "/retirement_status/");
        assert_string_equal(sget(r, "query"), "");
        cJSON_Delete(r);
    }
    /* on the wire exactly as requests sends it: '+' and '@' raw, space and non-ASCII encoded */
    static const struct {
        const char *name, *raw;
    } wire[] = {
        {"a b+c@d", "/api/user/v1/accounts/a%20b+c@d/retirement_status/"},
        {"jos\xc3\xa9", "/api/user/v1/accounts/jos%C3%A9/retirement_status/"},
        {"x/y?z#w", "/api/user/v1/accounts/x%2Fy%3Fz%23w/retirement_status/"},
        {"..", "/api/user/v1/accounts/%2E%2E/retirement_status/"},
    };
    for (size_t i = 0; i < sizeof wire / sizeof wire[0]; i++) {
        cJSON *l = NULL;
        lms_error e;
        if (lms_get_status(lms, wire[i].name, &l, &e)) lms_error_clear(&e);
        cJSON_Delete(l);
        cJSON *r = last_request("retirement_status");
        assert_string_equal(sget(r, "raw_path"), wire[i].raw);
        cJSON_Delete(r);
    }
}

static void test_update_state_body_and_rules(void **state)
{
    (void)state;
    lms_error e;
    assert_int_equal(lms_update_state(lms, "lms_upd", "LOCKING_ACCOUNT", "Starting: LOCKING_ACCOUNT", 0, &e), 0);
    cJSON *r = last_request("update_retirement_status");
    assert_string_equal(sget(r, "method"), "PATCH");
    assert_string_equal(sget(r, "body"),
                        "{\"username\": \"lms_upd\", \"new_state\": \"LOCKING_ACCOUNT\", \"response\": "
                        "\"Starting: LOCKING_ACCOUNT\"}");
    assert_string_equal(sget(r, "content_type"), "application/json");
    cJSON_Delete(r);
    cJSON *l = NULL;
    assert_int_equal(lms_get_status(lms, "lms_upd", &l, &e), 0);
    assert_string_equal(state_of(l), "LOCKING_ACCOUNT");
    cJSON_Delete(l);

    /* backwards without force: 400 with the LMS's message, not retried */
    assert_int_equal(lms_update_state(lms, "lms_upd", "PENDING", "back", 0, &e), -1);
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message, "PATCH "));
    assert_non_null(strstr(e.message, "update_retirement_status/"));
    assert_non_null(strstr(e.message, "PENDING does not exist or is an eariler state than current state"));
    assert_non_null(e.body);
    assert_int_equal(lms_last_attempts(lms), 1);
    lms_error_clear(&e);

    /* forced: accepted; the body carries "force": true */
    assert_int_equal(lms_update_state(lms, "lms_upd", "PENDING", "Force updated via retirectl", 1, &e), 0);
    r = last_request("update_retirement_status");
    assert_string_equal(sget(r, "body"),
                        "{\"username\": \"lms_upd\", \"new_state\": \"PENDING\", \"response\": \"Force updated via "
                        "retirectl\", \"force\": true}");
    cJSON_Delete(r);
    assert_int_equal(lms_get_status(lms, "lms_upd", &l, &e), 0);
    assert_string_equal(state_of(l), "PENDING");
    cJSON_Delete(l);
}

static void test_update_non_ascii_message_like_python(void **state)
{
    (void)state;
    lms_error e;
    assert_int_equal(lms_update_state(lms, "lms_upd", "LOCKING_ACCOUNT", "Ending: caf\xc3\xa9\n\"ok\"", 0, &e), 0);
    cJSON *r = last_request("update_retirement_status");
    assert_string_equal(sget(r, "body"),
                        "{\"username\": \"lms_upd\", \"new_state\": \"LOCKING_ACCOUNT\", \"response\": "
                        "\"Ending: caf\\u00e9\\n\\\"ok\\\"\"}");
    cJSON_Delete(r);
    assert_int_equal(lms_update_state(lms, "lms_upd", "PENDING", "reset", 1, &e), 0);
}

static void test_update_retried_on_500(void **state)
{
    (void)state;
    sim_ok("POST", "/__sim/faults", "{\"path\": \"update_retirement_status\", \"actions\": [500, \"pass\"]}");
    lms_error e;
    assert_int_equal(lms_update_state(lms, "lms_upd", "LOCKING_ACCOUNT", "x", 0, &e), 0);
    assert_int_equal(lms_last_attempts(lms), 2);
    assert_int_equal(lms_update_state(lms, "lms_upd", "PENDING", "reset", 1, &e), 0);
}

static void test_server_message_in_error(void **state)
{
    (void)state;
    sim_ok("POST", "/__sim/faults",
           "{\"path\": \"update_retirement_status\", \"status\": 400, \"body\": \"\\\"Unknown retirement state.\\\"\"}");
    lms_error e;
    assert_int_equal(lms_update_state(lms, "lms_upd", "LOCKING_ACCOUNT", "x", 0, &e), -1);
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message, "answered 400 Bad Request: Unknown retirement state."));
    lms_error_clear(&e);
}

static void test_queue_query_and_result(void **state)
{
    (void)state;
    const char *states[] = {"PENDING", "FORUMS_COMPLETE"};
    cJSON *a = NULL;
    lms_error e;
    assert_int_equal(lms_queue(lms, states, 2, 5, 100, &a, &e), 0);
    cJSON *r = last_request("retirement_queue");
    assert_string_equal(sget(r, "method"), "GET");
    assert_string_equal(sget(r, "path"), "/api/user/v1/accounts/retirement_queue/");
    assert_string_equal(sget(r, "query"), "cool_off_days=5&states=PENDING&states=FORUMS_COMPLETE&limit=100");
    cJSON_Delete(r);
    int q1 = 0, q2 = 0, recent = 0, pending2 = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, a) {
        const char *u = sget(it, "original_username");
        q1 += !strcmp(u, "lms_q1");
        q2 += !strcmp(u, "lms_q2");
        recent += !strcmp(u, "lms_recent");
        pending2 += !strcmp(u, "lms_pending2");
    }
    assert_int_equal(q1, 1);
    assert_int_equal(q2, 1);
    assert_int_equal(recent, 0);   /* inside the cool-off window */
    assert_int_equal(pending2, 0); /* inside the cool-off window */
    cJSON_Delete(a);

    /* limit 0: no limit parameter at all; limit 1: one row */
    assert_int_equal(lms_queue(lms, states + 1, 1, 0, 0, &a, &e), 0);
    r = last_request("retirement_queue");
    assert_string_equal(sget(r, "query"), "cool_off_days=0&states=FORUMS_COMPLETE");
    cJSON_Delete(r);
    assert_true(cJSON_GetArraySize(a) >= 3);
    cJSON_Delete(a);
    assert_int_equal(lms_queue(lms, states + 1, 1, 0, 1, &a, &e), 0);
    assert_int_equal(cJSON_GetArraySize(a), 1);
    cJSON_Delete(a);

    const char *bad[] = {"TUNA"};
    assert_int_equal(lms_queue(lms, bad, 1, 0, 0, &a, &e), -1);
    assert_null(a);
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message, "Unknown state"));
    lms_error_clear(&e);
}

static void test_by_status_and_date(void **state)
{
    (void)state;
    char today[16];
    time_t now = time(NULL);
    strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
    cJSON *a = NULL;
    lms_error e;
    assert_int_equal(lms_by_status_and_date(lms, "COMPLETE", today, today, &a, &e), 0);
    cJSON *r = last_request("retirements_by_status_and_date");
    char q[128];
    snprintf(q, sizeof q, "start_date=%s&end_date=%s&state=COMPLETE", today, today);
    assert_string_equal(sget(r, "query"), q);
    cJSON_Delete(r);
    int found = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, a) found += !strcmp(sget(it, "original_username"), "lms_done");
    assert_int_equal(found, 1);
    cJSON_Delete(a);
    assert_int_equal(lms_by_status_and_date(lms, "COMPLETE", "toast", today, &a, &e), -1);
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message, "Invalid start or end date"));
    lms_error_clear(&e);
}

static void test_cleanup(void **state)
{
    (void)state;
    lms_error e;
    const char *pending[] = {"lms_pending2"};
    assert_int_equal(lms_cleanup(lms, pending, 1, &e), -1);
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message, "Not all usernames exist in the COMPLETE state."));
    lms_error_clear(&e);

    const char *done[] = {"lms_done"};
    assert_int_equal(lms_cleanup(lms, done, 1, &e), 0);
    cJSON *r = last_request("retirement_cleanup");
    assert_string_equal(sget(r, "method"), "POST");
    assert_string_equal(sget(r, "body"), "{\"usernames\": [\"lms_done\"]}");
    cJSON_Delete(r);
    cJSON *l = NULL;
    assert_int_equal(lms_get_status(lms, "lms_done", &l, &e), -1);
    assert_int_equal(e.status, 404);
    lms_error_clear(&e);
}

static void test_cancel_and_call(void **state)
{
    (void)state;
    cJSON *l = NULL;
    lms_error e;
    assert_int_equal(lms_get_status(lms, "lms_cancel", &l, &e), 0);
    long id = (long)cJSON_GetObjectItemCaseSensitive(l, "id")->valuedouble;
    cJSON_Delete(l);
    assert_int_equal(lms_cancel_retirement(lms, id, &e), 0);
    cJSON *r = last_request("cancel_retirement");
    char body[64];
    snprintf(body, sizeof body, "{\"retirement_id\": %ld}", id);
    assert_string_equal(sget(r, "body"), body);
    cJSON_Delete(r);
    /* lms_call: a body-less POST still says Content-type: application/json */
    cJSON *out = NULL;
    assert_int_equal(lms_call(lms, "POST", "api/user/v1/accounts/retirement_partner_report", NULL, NULL, &out, &e), 0);
    assert_true(cJSON_IsArray(out));
    cJSON_Delete(out);
    r = last_request("retirement_partner_report");
    assert_string_equal(sget(r, "content_type"), "application/json");
    assert_string_equal(sget(r, "body"), "");
    cJSON_Delete(r);
}

static void test_no_answer_error(void **state)
{
    (void)state;
    /* a short retry budget: connection failures are retried until it is spent */
    char *path = sim_write_config(&sim, NULL, "http:\n  max_retry_seconds: 0.5\n");
    cfg *c = NULL;
    char err[512];
    assert_int_equal(cfg_load(path, &c, err, sizeof err), 0);
    http_client *h = http_client_new(c, err, sizeof err);
    lms_client *dead = lms_new(h, "http://127.0.0.1:1/");
    cJSON *l = NULL;
    lms_error e;
    assert_int_equal(lms_get_status(dead, "lms_user", &l, &e), -1);
    assert_int_equal(e.status, 0);
    assert_non_null(strstr(e.message, "no answer from the LMS"));
    assert_non_null(strstr(e.message, "http://127.0.0.1:1/api/user/v1/accounts/lms_user/retirement_status/"));
    assert_null(strstr(e.message, SIM_CLIENT_SECRET));
    assert_true(lms_last_attempts(dead) >= 2);
    lms_error_clear(&e);
    lms_free(dead);
    http_client_free(h);
    cfg_free(c);
    unlink(path);
    free(path);
}

static void test_json_dumps_like_python(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"a\": [1, 2.5, null, true, false], \"b\": {\"c\": \"\\ud83d\\ude00\\u007f\\t\"}}");
    char *s = lms_json_dumps(o);
    assert_string_equal(s, "{\"a\": [1, 2.5, null, true, false], \"b\": {\"c\": \"\\ud83d\\ude00\\u007f\\t\"}}");
    free(s);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_get_status, setup_each),
        cmocka_unit_test_setup(test_get_status_unknown_is_404_with_url, setup_each),
        cmocka_unit_test_setup(test_usernames_stay_one_segment, setup_each),
        cmocka_unit_test_setup(test_update_state_body_and_rules, setup_each),
        cmocka_unit_test_setup(test_update_non_ascii_message_like_python, setup_each),
        cmocka_unit_test_setup(test_update_retried_on_500, setup_each),
        cmocka_unit_test_setup(test_server_message_in_error, setup_each),
        cmocka_unit_test_setup(test_queue_query_and_result, setup_each),
        cmocka_unit_test_setup(test_by_status_and_date, setup_each),
        cmocka_unit_test_setup(test_cleanup, setup_each),
        cmocka_unit_test_setup(test_cancel_and_call, setup_each),
        cmocka_unit_test_setup(test_no_answer_error, setup_each),
        cmocka_unit_test_setup(test_json_dumps_like_python, setup_each),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
