/* retirectl-sim against the LMS's own state-machine, queue, by-status-and-date and retrieve tests
 * (docs/lms-api.md §3.2, §5.1-§5.4, §12.7), over loopback with libcurl. */
#include "test_sim_common.h"

#include <time.h>

static const char *SEED =
    "{\"learners\": ["
    "{\"username\": \"u_pending\", \"name\": \"U Pending\", \"state\": \"PENDING\", \"days_ago\": 8, \"orgs\": [\"edX\"]},"
    "{\"username\": \"u_locking\", \"state\": \"LOCKING_ACCOUNT\", \"days_ago\": 8},"
    "{\"username\": \"u_complete\", \"state\": \"COMPLETE\", \"days_ago\": 8},"
    "{\"username\": \"u_forums_done\", \"state\": \"FORUMS_COMPLETE\", \"days_ago\": 8},"
    "{\"username\": \"u_recent\", \"state\": \"PENDING\", \"days_ago\": 0.5},"
    "{\"username\": \"u_errored\", \"state\": \"ERRORED\", \"days_ago\": 8},"
    "{\"username\": \"Space User\", \"state\": \"PENDING\", \"days_ago\": 3},"
    "{\"username\": \"j\\u00fcrgen\", \"name\": \"J\\u00fcrgen Gro\\u00df\", \"state\": \"PENDING\", \"days_ago\": 2},"
    "{\"username\": \"no_row\", \"state\": null},"
    "{\"username\": \"HashMe\", \"email\": \"Hash.Me@Example.COM\", \"state\": \"ABORTED\", \"days_ago\": 1},"
    "{\"username\": \"J\u00fcrgen Gro\u00df\", \"state\": \"ABORTED\", \"days_ago\": 1}"
    "]}";

#define UPD "/api/user/v1/accounts/update_retirement_status/"
#define Q "/api/user/v1/accounts/retirement_queue/"
#define BSD "/api/user/v1/accounts/retirements_by_status_and_date/"

static void update(const char *user, const char *state, int force, long want)
{
    char body[512];
    snprintf(body, sizeof body, "{\"username\": \"%s\", \"new_state\": \"%s\", \"response\": \"moved to %s\"%s}", user,
             state, state, force ? ", \"force\": true" : "");
    long got = api_status("PATCH", UPD, body);
    if (got != want) print_error("update %s -> %s force=%d: %ld, wanted %ld\n", user, state, force, got, want);
    assert_int_equal(got, want);
}

static void test_update_single_records_response_and_last_state(void **st)
{
    (void)st;
    update("u_pending", "LOCKING_ACCOUNT", 0, 204);
    cJSON *j = learner_dump("u_pending");
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "current_state"), "state_name")->valuestring,
                        "LOCKING_ACCOUNT");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "last_state"), "state_name")->valuestring, "PENDING");
    const char *resp = cJSON_GetObjectItem(j, "responses")->valuestring;
    assert_non_null(strstr(resp, "Created in state PENDING (step 1) by create_retirement"));
    assert_non_null(strstr(resp, "\n Moved from PENDING (step 1) to LOCKING_ACCOUNT (step 20):\nmoved to LOCKING_ACCOUNT\n"));
    cJSON_Delete(j);
    /* responses is never returned by the API */
    http_res r = api("GET", "/api/user/v1/accounts/u_pending/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    assert_null(cJSON_GetObjectItem(r.json, "responses"));
    http_res_free(&r);
}

static void test_update_full_walk_keeps_all_responses(void **st)
{
    (void)st;
    const char *walk[] = {"LOCKING_ACCOUNT", "LOCKING_COMPLETE", "RETIRING_CREDENTIALS", "CREDENTIALS_COMPLETE", "COMPLETE"};
    for (int i = 0; i < 5; i++) update("u_pending", walk[i], 0, 204);
    cJSON *j = learner_dump("u_pending");
    const char *resp = cJSON_GetObjectItem(j, "responses")->valuestring;
    for (int i = 0; i < 5; i++) {
        char want[128];
        snprintf(want, sizeof want, "moved to %s\n", walk[i]);
        assert_non_null(strstr(resp, want));
    }
    assert_non_null(strstr(resp, "Moved from CREDENTIALS_COMPLETE (step 50) to COMPLETE (step 220)"));
    cJSON_Delete(j);
    assert_string_equal(learner_state("u_pending"), "COMPLETE");
}

static void test_update_bad_vars(void **st)
{
    (void)st;
    assert_api("PATCH", UPD, "{\"username\": \"u_pending\", \"response\": \"x\"}", 400,
               "\"RetirementStatus: Required key new_state missing from update\"");
    assert_api("PATCH", UPD, "{\"username\": \"u_pending\", \"new_state\": \"LOCKING_ACCOUNT\"}", 400,
               "\"RetirementStatus: Required key response missing from update\"");
    assert_api("PATCH", UPD, "{\"username\": \"u_pending\", \"new_state\": \"BOGUS\", \"response\": \"x\"}", 400,
               "\"BOGUS does not exist or is an eariler state than current state PENDING (step 1)\"");
    assert_api("PATCH", UPD,
               "{\"username\": \"u_pending\", \"new_state\": \"LOCKING_ACCOUNT\", \"response\": \"x\", "
               "\"should_not_exist\": 1}",
               400, "\"RetirementStatus: Unknown key should_not_exist in update\"");
    assert_api("PATCH", UPD, "{\"username\": \"u_pending\"}", 400,
               "\"RetirementStatus: Required key new_state missing from update\"");
    /* no username: @request_requires_username */
    assert_api("PATCH", UPD, "{}", 404, "{\"message\":\"The user was not specified.\"}");
    assert_api("PATCH", UPD, NULL, 404, "{\"message\":\"The user was not specified.\"}");
    assert_api("PATCH", UPD, "{\"username\": \"\", \"new_state\": \"COMPLETE\", \"response\": \"x\"}", 404,
               "{\"message\":\"The user was not specified.\"}");
    /* unparsable JSON */
    assert_int_equal(api_status("PATCH", UPD, "{not json"), 400);
    /* DRF parses the body by Content-Type: none -> empty data; an unknown type -> 415 */
    char auth[256];
    snprintf(auth, sizeof auth, "JWT %s", g_tok);
    const char *good = "{\"username\": \"u_pending\", \"new_state\": \"BOGUS\", \"response\": \"x\"}";
    http_res r = http_full("PATCH", UPD, auth, NULL, good);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{\"message\":\"The user was not specified.\"}");
    http_res_free(&r);
    r = http_full("PATCH", UPD, auth, "text/plain", good);
    assert_int_equal(r.status, 415);
    assert_string_equal(r.body, "{\"detail\":\"Unsupported media type \\\"text/plain\\\" in request.\"}");
    http_res_free(&r);
    r = http_full("PATCH", UPD, auth, "application/json; charset=utf-8", good);
    assert_int_equal(r.status, 400);
    http_res_free(&r);
    assert_string_equal(learner_state("u_pending"), "PENDING");
}

static void test_update_unknown_user_or_no_row_404(void **st)
{
    (void)st;
    assert_api("PATCH", UPD, "{\"username\": \"nobody\", \"new_state\": \"COMPLETE\", \"response\": \"x\"}", 404, "");
    assert_api("PATCH", UPD, "{\"username\": \"no_row\", \"new_state\": \"COMPLETE\", \"response\": \"x\"}", 404, "");
    /* exact-case match on original_username */
    assert_api("PATCH", UPD, "{\"username\": \"U_PENDING\", \"new_state\": \"COMPLETE\", \"response\": \"x\"}", 404, "");
}

static void test_moves(void **st)
{
    (void)st;
    static const struct {
        const char *from, *to;
        int force;
        long want;
    } cases[] = {
        {"LOCKING_ACCOUNT", "PENDING", 0, 400},         {"LOCKING_ACCOUNT", "PENDING", 1, 204},
        {"COMPLETE", "PENDING", 0, 400},                {"COMPLETE", "PENDING", 1, 204},
        {"LOCKING_ACCOUNT", "LOCKING_ACCOUNT", 0, 400}, {"LOCKING_ACCOUNT", "LOCKING_ACCOUNT", 1, 204},
        /* the dead-end guard never fires in the LMS: forward moves out of ERRORED succeed */
        {"ERRORED", "ABORTED", 0, 204},                 {"ERRORED", "COMPLETE", 0, 204},
        {"ABORTED", "ERRORED", 0, 400},                 {"PENDING", "COMPLETE", 0, 204},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        force_state("u_locking", cases[i].from);
        update("u_locking", cases[i].to, cases[i].force, cases[i].want);
        assert_string_equal(learner_state("u_locking"), cases[i].want == 204 ? cases[i].to : cases[i].from);
    }
    force_state("u_locking", "LOCKING_ACCOUNT");
    assert_api("PATCH", UPD, "{\"username\": \"u_locking\", \"new_state\": \"PENDING\", \"response\": \"x\"}", 400,
               "\"PENDING does not exist or is an eariler state than current state LOCKING_ACCOUNT (step 20)\"");
    /* force is Python-truthy: 0 and "" are not forced, "yes" is */
    assert_int_equal(api_status("PATCH", UPD, "{\"username\": \"u_locking\", \"new_state\": \"PENDING\", \"response\": \"x\", \"force\": 0}"), 400);
    assert_int_equal(api_status("PATCH", UPD, "{\"username\": \"u_locking\", \"new_state\": \"PENDING\", \"response\": \"x\", \"force\": \"\"}"), 400);
    assert_int_equal(api_status("PATCH", UPD, "{\"username\": \"u_locking\", \"new_state\": \"PENDING\", \"response\": \"x\", \"force\": \"yes\"}"), 204);
    /* forced move to a state that does not exist: the view's generic handler */
    assert_api("PATCH", UPD, "{\"username\": \"u_locking\", \"new_state\": \"NOPE\", \"response\": \"x\", \"force\": true}",
               500, "\"RetirementState matching query does not exist.\"");
    assert_string_equal(learner_state("u_locking"), "PENDING");
}

static void test_update_last_state_and_modified(void **st)
{
    (void)st;
    http_res a = api("GET", "/api/user/v1/accounts/u_forums_done/retirement_status/", NULL);
    const char *mod_before = cJSON_GetObjectItem(a.json, "modified")->valuestring;
    char before[64];
    snprintf(before, sizeof before, "%s", mod_before);
    http_res_free(&a);
    update("u_forums_done", "RETIRING_EMAIL_LISTS", 0, 204);
    http_res b = api("GET", "/api/user/v1/accounts/u_forums_done/retirement_status/", NULL);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(b.json, "last_state"), "state_name")->valuestring,
                        "FORUMS_COMPLETE");
    assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetObjectItem(b.json, "current_state"), "state_execution_order")->valuedouble, 100);
    assert_string_not_equal(cJSON_GetObjectItem(b.json, "modified")->valuestring, before);
    http_res_free(&b);
}

static void test_retrieve(void **st)
{
    (void)st;
    http_res r = api("GET", "/api/user/v1/accounts/u_pending/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    const char *keys[] = {"id", "user", "current_state", "last_state", "created", "modified", "original_username",
                          "original_email", "original_name", "retired_username", "retired_email"};
    cJSON *k = r.json->child;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++, k = k->next) {
        assert_non_null(k);
        assert_string_equal(k->string, keys[i]);
    }
    assert_null(k);
    cJSON *u = cJSON_GetObjectItem(r.json, "user");
    assert_string_equal(cJSON_GetObjectItem(u, "username")->valuestring, "u_pending");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(u, "profile"), "name")->valuestring, "U Pending");
    /* at request time the auth email is already the retired email */
    assert_string_equal(cJSON_GetObjectItem(u, "email")->valuestring, cJSON_GetObjectItem(r.json, "retired_email")->valuestring);
    const char *ru = cJSON_GetObjectItem(r.json, "retired_username")->valuestring;
    assert_int_equal(strncmp(ru, "retired__user_", 14), 0);
    assert_int_equal(strlen(ru), 14 + 40);
    const char *re = cJSON_GetObjectItem(r.json, "retired_email")->valuestring;
    assert_non_null(strstr(re, "@retired.invalid"));
    const char *created = cJSON_GetObjectItem(r.json, "created")->valuestring;
    assert_int_equal(created[strlen(created) - 1], 'Z');
    http_res_free(&r);

    /* without trailing slash, percent-encoded space, UTF-8 */
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/u_pending/retirement_status", NULL), 200);
    r = api("GET", "/api/user/v1/accounts/Space%20User/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "original_username")->valuestring, "Space User");
    http_res_free(&r);
    r = api("GET", "/api/user/v1/accounts/j%C3%BCrgen/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "original_name")->valuestring, "J\xc3\xbcrgen Gro\xc3\x9f");
    http_res_free(&r);

    /* no row / unknown: 404 with an empty body */
    assert_api("GET", "/api/user/v1/accounts/no_row/retirement_status/", NULL, 404, "");
    assert_api("GET", "/api/user/v1/accounts/nobody/retirement_status/", NULL, 404, "");
    /* every state retrievable */
    const char *users[] = {"u_locking", "u_complete", "u_forums_done", "u_errored", "u_recent"};
    for (int i = 0; i < 5; i++) {
        char p[256];
        snprintf(p, sizeof p, "/api/user/v1/accounts/%s/retirement_status/", users[i]);
        assert_int_equal(api_status("GET", p, NULL), 200);
    }
}

/* Known answers computed independently (Python: sha1(salt + value.lower())) for the default salt. */
static void test_retired_hashes(void **st)
{
    (void)st;
    http_res r = api("GET", "/api/user/v1/accounts/HashMe/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "retired_username")->valuestring,
                        "retired__user_71da656085ff28f1b7eb32d0b9fe1c33d90aa43f");
    assert_string_equal(cJSON_GetObjectItem(r.json, "retired_email")->valuestring,
                        "retired__user_574ec1afccf43a4999dbae9a2f16d4d014bf24ad@retired.invalid");
    http_res_free(&r);
    r = api("GET", "/api/user/v1/accounts/J%C3%BCrgen%20Gro%C3%9F/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "retired_username")->valuestring,
                        "retired__user_f529453dc0eebd889c790fb5e7d772ae3f316673");
    http_res_free(&r);
}

static void test_retrieve_after_username_hashed(void **st)
{
    (void)st;
    force_state("u_pending", "RETIRING_LMS");
    assert_api("POST", "/api/user/v1/accounts/retire/", "{\"username\": \"u_pending\"}", 204, "");
    http_res r = api("GET", "/api/user/v1/accounts/u_pending/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    cJSON *u = cJSON_GetObjectItem(r.json, "user");
    const char *ru = cJSON_GetObjectItem(r.json, "retired_username")->valuestring;
    assert_string_equal(cJSON_GetObjectItem(u, "username")->valuestring, ru);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(u, "profile"), "name")->valuestring, "");
    assert_string_equal(cJSON_GetObjectItem(r.json, "original_name")->valuestring, "U Pending");
    char path[256];
    snprintf(path, sizeof path, "/api/user/v1/accounts/%s/retirement_status/", ru);
    http_res_free(&r);
    assert_int_equal(api_status("GET", path, NULL), 200);
    /* case-insensitive lookup through the hash of the lowercased name */
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/U_Pending/retirement_status/", NULL), 200);
}

/* Number of items in the queue answer, -1 when not 200. */
static int queue_count(const char *query)
{
    char p[512];
    snprintf(p, sizeof p, "%s?%s", Q, query);
    http_res r = api("GET", p, NULL);
    int n = r.status == 200 && cJSON_IsArray(r.json) ? cJSON_GetArraySize(r.json) : -1;
    http_res_free(&r);
    return n;
}

static void test_queue_validation(void **st)
{
    (void)st;
    assert_api("GET", Q, NULL, 400, "\"Missing required parameter: 'cool_off_days'\"");
    assert_api("GET", Q "?cool_off_days=7", NULL, 400, "\"Param \\\"states\\\" required with at least one state.\"");
    assert_api("GET", Q "?states=PENDING", NULL, 400, "\"Missing required parameter: 'cool_off_days'\"");
    assert_api("GET", Q "?cool_off_days=-1&states=PENDING", NULL, 400,
               "\"Invalid argument for cool_off_days, must be greater than 0.\"");
    assert_api("GET", Q "?cool_off_days=ABCDERTP&states=PENDING", NULL, 400, "\"Invalid cool_off_days, should be integer.\"");
    assert_api("GET", Q "?cool_off_days=7&states=TUNA&states=TACO", NULL, 400,
               "\"Unknown state. Requested: ['TUNA', 'TACO'] Found: []\"");
    assert_api("GET", Q "?cool_off_days=7&states=TACO&states=PENDING", NULL, 400,
               "\"Unknown state. Requested: ['TACO', 'PENDING'] Found: ['PENDING']\"");
    assert_api("GET", Q "?cool_off_days=7&states=PENDING&states=PENDING", NULL, 400,
               "\"Unknown state. Requested: ['PENDING', 'PENDING'] Found: ['PENDING']\"");
    assert_api("GET", Q "?cool_off_days=7&states=PENDING&limit=abc", NULL, 400,
               "\"Limit could not be parsed: abc, please ensure this is an integer\"");
    assert_api("GET", Q "?cool_off_days=7&states=PENDING&limit=-1", NULL, 400, "\"Invalid cool_off_days, should be integer.\"");
    assert_api("GET", Q "/?cool_off_days=7&states=PENDING", NULL, 404, NULL);
}

static void test_queue_results(void **st)
{
    (void)st;
    /* cool-off 7: only u_pending among the PENDING (u_recent 0.5 d, Space User 3 d, jürgen 2 d are too new) */
    http_res r = api("GET", Q "?cool_off_days=7&states=PENDING", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetArraySize(r.json), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "original_username")->valuestring, "u_pending");
    http_res_free(&r);
    /* multiple states, cool_off_days=0; ordered by id */
    r = api("GET", Q "?cool_off_days=0&states=PENDING&states=FORUMS_COMPLETE", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 5);
    double prev = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, r.json) {
        double id = cJSON_GetObjectItem(it, "id")->valuedouble;
        assert_true(id > prev);
        prev = id;
    }
    http_res_free(&r);
    /* without trailing slash too */
    assert_int_equal(queue_count("cool_off_days=0&states=FORUMS_COMPLETE"), 1);
    char p[256];
    snprintf(p, sizeof p, "/api/user/v1/accounts/retirement_queue?cool_off_days=0&states=FORUMS_COMPLETE");
    assert_int_equal(api_status("GET", p, NULL), 200);
    /* dead-end learners are not returned for non-dead-end states */
    assert_int_equal(queue_count("cool_off_days=0&states=PENDING&states=LOCKING_COMPLETE"), 4);
    assert_int_equal(queue_count("cool_off_days=0&states=COMPLETE&states=ERRORED"), 2);
    /* limit */
    assert_int_equal(queue_count("cool_off_days=0&states=PENDING&limit=2"), 2);
    assert_int_equal(queue_count("cool_off_days=0&states=PENDING&limit=0"), 0);
    assert_int_equal(queue_count("cool_off_days=0&states=PENDING&limit="), 4);
    /* empty result */
    assert_int_equal(queue_count("cool_off_days=0&states=RETIRING_NOTES"), 0);
}

static void test_queue_cool_off_dates(void **st)
{
    (void)st;
    char body[2048] = "[";
    for (int k = 1; k <= 5; k++) {
        char one[200];
        snprintf(one, sizeof one, "%s{\"username\": \"cool_%d\", \"state\": \"NOTES_COMPLETE\", \"days_ago\": %d.5}",
                 k > 1 ? "," : "", k, k);
        strcat(body, one);
    }
    strcat(body, "]");
    http_res r = ctl("POST", "/__sim/learners", body);
    assert_int_equal(r.status, 201);
    http_res_free(&r);
    /* one fewer row per extra cool-off day */
    for (int d = 0; d <= 6; d++) {
        char q[128];
        snprintf(q, sizeof q, "cool_off_days=%d&states=NOTES_COMPLETE", d);
        assert_int_equal(queue_count(q), d <= 1 ? 5 : 6 - d); /* days_ago k+0.5 > d */
    }
}

/* YYYY-MM-DD of now - days. */
static void ymd(int days, char out[16])
{
    time_t t = time(NULL) - (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static void test_by_status_and_date(void **st)
{
    (void)st;
    char body[4096] = "[";
    for (int k = 1; k <= 10; k++) {
        char one[200];
        snprintf(one, sizeof one, "%s{\"username\": \"done_%d\", \"state\": \"LMS_COMPLETE\", \"days_ago\": %d}",
                 k > 1 ? "," : "", k, k);
        strcat(body, one);
    }
    strcat(body, "]");
    http_res a = ctl("POST", "/__sim/learners", body);
    assert_int_equal(a.status, 201);
    http_res_free(&a);
    char today[16];
    ymd(0, today);
    for (int k = 1; k <= 10; k++) {
        char start[16], p[256];
        ymd(k, start);
        snprintf(p, sizeof p, BSD "?start_date=%s&end_date=%s&state=LMS_COMPLETE", start, today);
        http_res r = api("GET", p, NULL);
        assert_int_equal(r.status, 200);
        assert_int_equal(cJSON_GetArraySize(r.json), k);
        http_res_free(&r);
    }
    /* the end day is inclusive: start=end=that day */
    char d3[16], p[256];
    ymd(3, d3);
    snprintf(p, sizeof p, BSD "?start_date=%s&end_date=%s&state=LMS_COMPLETE", d3, d3);
    http_res r = api("GET", p, NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "original_username")->valuestring, "done_3");
    http_res_free(&r);
    /* PENDING rows are not returned for a COMPLETE query */
    char d30[16];
    ymd(30, d30);
    snprintf(p, sizeof p, BSD "?start_date=%s&end_date=%s&state=COMPLETE", d30, today);
    r = api("GET", p, NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "original_username")->valuestring, "u_complete");
    http_res_free(&r);
    snprintf(p, sizeof p, BSD "?start_date=%s&end_date=%s&state=TACO", d30, today);
    assert_api("GET", p, NULL, 400, "\"Unknown retirement state.\"");
}

static void test_by_status_and_date_validation(void **st)
{
    (void)st;
    char today[16], p[512];
    ymd(0, today);
    assert_api("GET", BSD, NULL, 400, "\"Missing required parameter: 'start_date'\"");
    snprintf(p, sizeof p, BSD "?start_date=%s", today);
    assert_api("GET", p, NULL, 400, "\"Missing required parameter: 'end_date'\"");
    snprintf(p, sizeof p, BSD "?end_date=%s&state=COMPLETE", today);
    assert_api("GET", p, NULL, 400, "\"Missing required parameter: 'start_date'\"");
    snprintf(p, sizeof p, BSD "?start_date=%s&end_date=%s", today, today);
    assert_api("GET", p, NULL, 400, "\"Missing required parameter: 'state'\"");
    static const struct {
        const char *bad, *msg;
    } bad[] = {
        {"10/21/2001", "\"Invalid start or end date: time data '10/21/2001' does not match format '%Y-%m-%d'\""},
        {"2018-14-25", "\"Invalid start or end date: time data '2018-14-25' does not match format '%Y-%m-%d'\""},
        {"toast", "\"Invalid start or end date: time data 'toast' does not match format '%Y-%m-%d'\""},
        {"5", "\"Invalid start or end date: time data '5' does not match format '%Y-%m-%d'\""},
        {"2018-02-30", "\"Invalid start or end date: day is out of range for month\""},
        {"2018-01-011", "\"Invalid start or end date: unconverted data remains: 1\""},
        {"2118-01-01", "\"Dates must be today or earlier, and start must be earlier than end.\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(p, sizeof p, BSD "?start_date=%s&end_date=%s&state=COMPLETE", bad[i].bad, today);
        assert_api("GET", p, NULL, 400, bad[i].msg);
        snprintf(p, sizeof p, BSD "?start_date=2018-01-01&end_date=%s&state=COMPLETE", bad[i].bad);
        assert_api("GET", p, NULL, 400, bad[i].msg);
    }
    snprintf(p, sizeof p, BSD "?start_date=%s&end_date=2018-01-01&state=COMPLETE", today);
    assert_api("GET", p, NULL, 400, "\"Dates must be today or earlier, and start must be earlier than end.\"");
    /* single-digit month/day are accepted by strptime */
    assert_api("GET", BSD "?start_date=2018-1-5&end_date=2018-01-15&state=COMPLETE", NULL, 200, "[]");
}

int main(void)
{
    char *seed = write_temp_file("seed.json", SEED);
    const char *args[] = {"--seed", seed, NULL};
    start_sim_or_die(args);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_update_single_records_response_and_last_state, reset_sim),
        cmocka_unit_test_setup(test_update_full_walk_keeps_all_responses, reset_sim),
        cmocka_unit_test_setup(test_update_bad_vars, reset_sim),
        cmocka_unit_test_setup(test_update_unknown_user_or_no_row_404, reset_sim),
        cmocka_unit_test_setup(test_moves, reset_sim),
        cmocka_unit_test_setup(test_update_last_state_and_modified, reset_sim),
        cmocka_unit_test_setup(test_retrieve, reset_sim),
        cmocka_unit_test_setup(test_retired_hashes, reset_sim),
        cmocka_unit_test_setup(test_retrieve_after_username_hashed, reset_sim),
        cmocka_unit_test_setup(test_queue_validation, reset_sim),
        cmocka_unit_test_setup(test_queue_results, reset_sim),
        cmocka_unit_test_setup(test_queue_cool_off_dates, reset_sim),
        cmocka_unit_test_setup(test_by_status_and_date, reset_sim),
        cmocka_unit_test_setup(test_by_status_and_date_validation, reset_sim),
    };
    int rc = cmocka_run_group_tests_name("sim_state", tests, NULL, stop_sim);
    free(seed);
    return rc;
}
