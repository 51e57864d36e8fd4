/* retirectl-sim basics: command line and exit statuses, OAuth2 token endpoint, JWT auth and token
 * expiry, percent-decoding, control endpoints (request log, learners, reset, states, config),
 * state tables from --states / --pipeline-config, generated and demo learners. */
#include "test_sim_common.h"

#include <time.h>

static const char *SEED = "{\"learners\": ["
                          "{\"username\": \"alpha\", \"state\": \"RETIRING_FORUMS\"},"
                          "{\"username\": \"a+b@x.y\", \"state\": \"PENDING\", \"name\": \"Plus At\"},"
                          "{\"username\": \"r\\u00e9my l\\u00e9on\", \"state\": \"PENDING\"}"
                          "]}";

static const char *sim_bin(void)
{
    const char *e = getenv("RETIRECTL_SIM_BIN");
    return e && *e ? e : RETIRECTL_SIM_BIN;
}

/* Runs the sim binary with args and expects it to exit with `status` printing `needle` (stdout+stderr). */
static void expect_exit(const char *a1, const char *a2, const char *a3, int status, const char *needle)
{
    const char *argv[] = {sim_bin(), a1, a2, a3, NULL};
    cmd_result r;
    assert_int_equal(run_command(&r, argv, NULL, NULL, 20), 0);
    if (r.status != status || (!strstr(r.err, needle) && !strstr(r.out, needle)))
        print_error("retirectl-sim %s %s %s -> %d\nstdout: %s\nstderr: %s\n", a1 ? a1 : "", a2 ? a2 : "", a3 ? a3 : "",
                    r.status, r.out, r.err);
    assert_int_equal(r.status, status);
    assert_true(strstr(r.err, needle) || strstr(r.out, needle));
    cmd_result_free(&r);
}

static void test_command_line_errors(void **st)
{
    (void)st;
    expect_exit("--help", NULL, NULL, 0, "Usage: retirectl-sim");
    expect_exit("--bogus", NULL, NULL, 2, "--bogus");
    expect_exit("--port", "abc", NULL, 2, "--port abc");
    expect_exit("--port", NULL, NULL, 2, "--port needs a value");
    expect_exit("extra", NULL, NULL, 2, "unexpected argument extra");
    expect_exit("--seed", "/nonexistent/seed.json", NULL, 2, "/nonexistent/seed.json");
    expect_exit("--states", "PENDING,FOO,ERRORED,ABORTED", NULL, 2, "COMPLETE is missing");
    expect_exit("--states", "FOO,PENDING,ERRORED,ABORTED,COMPLETE", NULL, 2, "PENDING must be the first state");
    expect_exit("--states", "PENDING,ERRORED,ABORTED,COMPLETE,FOO", NULL, 2, "last three states");
    expect_exit("--learners", "-3", NULL, 2, "--learners -3");
    char *bad_json = write_temp_file("bad.json", "{\"learners\": [ {\"username\": \"x\", }");
    expect_exit("--seed", bad_json, NULL, 2, bad_json);
    char *bad_state = write_temp_file("bad_state.json", "[{\"username\": \"x\", \"state\": \"NOPE\"}]");
    expect_exit("--seed", bad_state, NULL, 2, "state NOPE is not in the state table");
    char *bad_yaml = write_temp_file("bad.yml", "retirement_pipeline:\n  - [A, B\n");
    expect_exit("--pipeline-config", bad_yaml, NULL, 2, bad_yaml);
    char *bad_pipe = write_temp_file("pipe.yml", "retirement_pipeline:\n  - [RETIRING_X, X_COMPLETE]\n");
    expect_exit("--pipeline-config", bad_pipe, NULL, 2, "retirement_pipeline item 1");
    char *bad_faults = write_temp_file("faults.json", "[{\"endpoint\": \"retire\", \"status\": 42}]");
    expect_exit("--faults", bad_faults, NULL, 2, "status 42");
    char port[16];
    snprintf(port, sizeof port, "%d", g_sim.port); /* busy: the shared sim listens there */
    expect_exit("--port", port, NULL, 2, "cannot listen on 127.0.0.1:");
    free(bad_json);
    free(bad_state);
    free(bad_yaml);
    free(bad_pipe);
    free(bad_faults);
}

static void test_token_endpoint(void **st)
{
    (void)st;
    const char *form = "application/x-www-form-urlencoded";
    http_res r = http_full("POST", "/oauth2/access_token", NULL, form,
                           "grant_type=client_credentials&client_id=" SIM_CLIENT_ID "&client_secret=" SIM_CLIENT_SECRET
                           "&token_type=jwt");
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "token_type")->valuestring, "JWT");
    assert_int_equal((int)cJSON_GetObjectItem(r.json, "expires_in")->valuedouble, 3600);
    assert_string_equal(cJSON_GetObjectItem(r.json, "scope")->valuestring, "read write email profile");
    assert_true(strlen(cJSON_GetObjectItem(r.json, "access_token")->valuestring) > 20);
    http_res_free(&r);
    r = http_full("POST", "/oauth2/access_token", NULL, form,
                  "grant_type=client_credentials&client_id=" SIM_CLIENT_ID "&client_secret=wrong&token_type=jwt");
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "{\"error\":\"invalid_client\"}");
    http_res_free(&r);
    r = http_full("POST", "/oauth2/access_token", NULL, form, "grant_type=password&client_id=" SIM_CLIENT_ID);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.body, "{\"error\":\"unsupported_grant_type\"}");
    http_res_free(&r);
    /* without token_type=jwt: an opaque Bearer token the retirement API does not accept */
    r = http_full("POST", "/oauth2/access_token", NULL, form,
                  "grant_type=client_credentials&client_id=" SIM_CLIENT_ID "&client_secret=" SIM_CLIENT_SECRET);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "token_type")->valuestring, "Bearer");
    char auth[128];
    snprintf(auth, sizeof auth, "JWT %s", cJSON_GetObjectItem(r.json, "access_token")->valuestring);
    http_res_free(&r);
    r = http_full("GET", "/api/user/v1/accounts/alpha/retirement_status/", auth, "application/json", NULL);
    assert_int_equal(r.status, 401);
    http_res_free(&r);
    r = http_full("GET", "/oauth2/access_token", NULL, NULL, NULL);
    assert_int_equal(r.status, 405);
    http_res_free(&r);
}

static void test_auth_required(void **st)
{
    (void)st;
    const char *p = "/api/user/v1/accounts/alpha/retirement_status/";
    http_res r = http_full("GET", p, NULL, "application/json", NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "{\"detail\":\"Authentication credentials were not provided.\"}");
    assert_non_null(strstr(r.headers, "WWW-Authenticate: JWT realm=\"api\""));
    http_res_free(&r);
    r = http_full("GET", p, "Bearer something", "application/json", NULL);
    assert_int_equal(r.status, 401);
    http_res_free(&r);
    r = http_full("GET", p, "JWT not-a-token", "application/json", NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "{\"detail\":\"Error decoding signature.\"}");
    http_res_free(&r);
    /* a tampered token */
    char bad[128];
    snprintf(bad, sizeof bad, "JWT %s", g_tok);
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    r = http_full("GET", p, bad, "application/json", NULL);
    assert_int_equal(r.status, 401);
    http_res_free(&r);
    r = http_full("GET", p, "JWT", "application/json", NULL);
    assert_int_equal(r.status, 401);
    http_res_free(&r);
    assert_int_equal(api_status("GET", p, NULL), 200);
}

static void test_token_expiry(void **st)
{
    (void)st;
    http_res r = ctl("POST", "/__sim/config", "{\"token_lifetime\": 1}");
    assert_int_equal(r.status, 200);
    http_res_free(&r);
    char *short_tok = sim_token(&g_sim);
    assert_non_null(short_tok);
    char auth[160];
    snprintf(auth, sizeof auth, "JWT %s", short_tok);
    const char *p = "/api/user/v1/accounts/alpha/retirement_status/";
    r = http_full("GET", p, auth, "application/json", NULL);
    assert_int_equal(r.status, 200);
    http_res_free(&r);
    usleep(1300 * 1000);
    r = http_full("GET", p, auth, "application/json", NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "{\"detail\":\"Signature has expired.\"}");
    http_res_free(&r);
    free(short_tok);
    /* the long-lived token still works; revoking all tokens stops it */
    assert_int_equal(api_status("GET", p, NULL), 200);
    r = ctl("POST", "/__sim/tokens/expire", NULL);
    assert_int_equal(r.status, 204);
    http_res_free(&r);
    assert_int_equal(api_status("GET", p, NULL), 401);
    free(g_tok);
    usleep(5000);
    g_tok = sim_token(&g_sim);
    assert_int_equal(api_status("GET", p, NULL), 200);
}

static void test_percent_decoding(void **st)
{
    (void)st;
    http_res r = api("GET", "/api/user/v1/accounts/a%2Bb%40x.y/retirement_status/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "original_username")->valuestring, "a+b@x.y");
    http_res_free(&r);
    /* a literal '+' in a path is not a space */
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/a+b@x.y/retirement_status/", NULL), 200);
    r = api("GET", "/api/user/v1/accounts/r%C3%A9my%20l%C3%A9on/retirement_status", NULL);
    assert_int_equal(r.status, 200);
    http_res_free(&r);
    /* an encoded slash is not a username character: no route */
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/a%2Fb/retirement_status/", NULL), 404);
    /* percent-encoded query values */
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=0&states=PEN%44ING", NULL), 200);
}

static void test_request_log(void **st)
{
    (void)st;
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=0&states=PENDING", NULL), 200);
    assert_int_equal(api_status("POST", "/api/discussion/v1/accounts/retire_forum/", "{\"username\": \"alpha\"}"), 204);
    http_res r = http_full("POST", "/api/discussion/v1/accounts/retire_forum/", NULL, NULL, "{\"username\": \"alpha\"}");
    http_res_free(&r);
    r = ctl("GET", "/__sim/requests", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetArraySize(r.json), 3); /* control requests are not logged; reset cleared the log */
    cJSON *a = cJSON_GetArrayItem(r.json, 0), *b = cJSON_GetArrayItem(r.json, 1), *c = cJSON_GetArrayItem(r.json, 2);
    assert_string_equal(cJSON_GetObjectItem(a, "method")->valuestring, "GET");
    assert_string_equal(cJSON_GetObjectItem(a, "path")->valuestring, "/api/user/v1/accounts/retirement_queue/");
    assert_string_equal(cJSON_GetObjectItem(a, "query")->valuestring, "cool_off_days=0&states=PENDING");
    assert_string_equal(cJSON_GetObjectItem(b, "body")->valuestring, "{\"username\": \"alpha\"}");
    assert_string_equal(cJSON_GetObjectItem(b, "token")->valuestring, g_tok);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "auth")));
    assert_string_equal(cJSON_GetObjectItem(b, "content_type")->valuestring, "application/json");
    assert_int_equal((int)cJSON_GetObjectItem(b, "status")->valuedouble, 204);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(c, "auth")));
    assert_int_equal((int)cJSON_GetObjectItem(c, "status")->valuedouble, 401);
    int seq_b = (int)cJSON_GetObjectItem(b, "seq")->valuedouble;
    http_res_free(&r);
    char p[64];
    snprintf(p, sizeof p, "/__sim/requests?since=%d", seq_b);
    r = ctl("GET", p, NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 1);
    http_res_free(&r);
    r = ctl("GET", "/__sim/requests?path=retire_forum", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 2);
    http_res_free(&r);
    r = ctl("DELETE", "/__sim/requests", NULL);
    assert_int_equal(r.status, 204);
    http_res_free(&r);
    r = ctl("GET", "/__sim/requests", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 0);
    http_res_free(&r);
}

static void test_control_learners_and_reset(void **st)
{
    (void)st;
    http_res r = ctl("POST", "/__sim/learners",
                     "{\"username\": \"added\", \"email\": \"added@example.invalid\", \"state\": \"PENDING\", "
                     "\"created\": \"2020-01-02T03:04:05Z\", \"orgs\": [\"edX\"]}");
    assert_int_equal(r.status, 201);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "created")->valuestring, "2020-01-02T03:04:05Z");
    http_res_free(&r);
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/added/retirement_status/", NULL), 200);
    r = ctl("POST", "/__sim/learners", "{\"username\": \"added\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "already exists"));
    http_res_free(&r);
    r = ctl("POST", "/__sim/learners", "{\"username\": \"other\", \"state\": \"TACO\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "TACO"));
    http_res_free(&r);
    r = ctl("GET", "/__sim/learners", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 4);
    http_res_free(&r);
    r = ctl("GET", "/__sim/health", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(r.json, "status")->valuestring, "ok");
    http_res_free(&r);
    /* change a learner in place */
    r = ctl("PATCH", "/__sim/learners?username=alpha", "{\"state\": \"ERRORED\", \"forum\": false, \"orgs\": [\"MITx\"]}");
    assert_int_equal(r.status, 200);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "current_state"), "state_name")->valuestring, "ERRORED");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "last_state"), "state_name")->valuestring, "RETIRING_FORUMS");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "services"), "forum_known")));
    http_res_free(&r);
    r = ctl("PATCH", "/__sim/learners?username=alpha", "{\"state\": \"NOPE\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "NOPE"));
    http_res_free(&r);
    r = ctl("PATCH", "/__sim/learners?username=alpha", "{\"username\": \"x\"}");
    assert_int_equal(r.status, 400);
    http_res_free(&r);
    r = ctl("PATCH", "/__sim/learners?username=nobody", "{}");
    assert_int_equal(r.status, 404);
    http_res_free(&r);
    /* state changes and additions are undone by reset */
    force_state("alpha", "COMPLETE");
    assert_int_equal(reset_sim(NULL), 0);
    assert_string_equal(learner_state("alpha"), "RETIRING_FORUMS");
    assert_int_equal(api_status("GET", "/api/user/v1/accounts/added/retirement_status/", NULL), 404);
    r = ctl("POST", "/__sim/config", "{\"bogus\": 1}");
    assert_int_equal(r.status, 400);
    http_res_free(&r);
}

static void test_default_state_table(void **st)
{
    (void)st;
    http_res r = ctl("GET", "/__sim/states", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 22);
    cJSON *first = cJSON_GetArrayItem(r.json, 0), *last = cJSON_GetArrayItem(r.json, 21);
    assert_string_equal(cJSON_GetObjectItem(first, "state_name")->valuestring, "PENDING");
    assert_int_equal((int)cJSON_GetObjectItem(first, "state_execution_order")->valuedouble, 1);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(first, "required")));
    assert_string_equal(cJSON_GetObjectItem(last, "state_name")->valuestring, "COMPLETE");
    assert_int_equal((int)cJSON_GetObjectItem(last, "state_execution_order")->valuedouble, 220);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(last, "is_dead_end_state")));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 17), "state_name")->valuestring,
                        "ADDING_TO_PARTNER_QUEUE");
    http_res_free(&r);
}

static void check_pipeline_states(void *arg)
{
    (void)arg;
    http_res r = ctl("GET", "/__sim/states", NULL);
    const char *want[] = {"PENDING", "RETIRING_FORUMS", "FORUMS_COMPLETE", "RETIRING_LMS", "LMS_COMPLETE", "ERRORED", "ABORTED", "COMPLETE"};
    assert_int_equal(cJSON_GetArraySize(r.json), 8);
    for (int i = 0; i < 8; i++) {
        cJSON *s = cJSON_GetArrayItem(r.json, i);
        assert_string_equal(cJSON_GetObjectItem(s, "state_name")->valuestring, want[i]);
        assert_int_equal((int)cJSON_GetObjectItem(s, "state_execution_order")->valuedouble, 1 + 10 * i);
    }
    http_res_free(&r);
    /* learners of generated sets only use these states */
    r = ctl("GET", "/__sim/learners", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 50);
    http_res_free(&r);
    assert_api("PATCH", "/api/user/v1/accounts/update_retirement_status/",
               "{\"username\": \"learner000001\", \"new_state\": \"RETIRING_ENROLLMENTS\", \"response\": \"x\", \"force\": true}",
               500, "\"RetirementState matching query does not exist.\"");
}

static void test_pipeline_config_states(void **st)
{
    (void)st;
    char *cfg = write_temp_file("config.yml",
                                "client_id: x\nclient_secret: y\nbase_urls:\n  lms: http://localhost/\n"
                                "retirement_pipeline:\n"
                                "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
                                "  - [RETIRING_LMS, LMS_COMPLETE, LMS, retirement_lms_retire]\n");
    const char *args[] = {"--pipeline-config", cfg, "--learners", "50", NULL};
    with_other_sim(args, check_pipeline_states, NULL);
    free(cfg);
}

static void check_custom_states(void *arg)
{
    (void)arg;
    http_res r = ctl("GET", "/__sim/states", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 6);
    http_res_free(&r);
}

static void test_states_flag(void **st)
{
    (void)st;
    const char *args[] = {"--states", "PENDING,RETIRING_X,X_COMPLETE,ERRORED,ABORTED,COMPLETE", NULL};
    with_other_sim(args, check_custom_states, NULL);
}

/* Collects "username:state" of all learners into the caller's buffer. */
static void collect_learners(void *arg)
{
    char *out = arg;
    out[0] = '\0';
    http_res r = ctl("GET", "/__sim/learners", NULL);
    cJSON *it;
    cJSON_ArrayForEach(it, r.json) {
        char one[200];
        snprintf(one, sizeof one, "%s:%s;", cJSON_GetObjectItem(it, "original_username")->valuestring,
                 cJSON_GetObjectItem(cJSON_GetObjectItem(it, "current_state"), "state_name")->valuestring);
        strcat(out, one);
    }
    http_res_free(&r);
}

static void check_generated_spread(void *arg)
{
    (void)arg;
    http_res r = ctl("GET", "/__sim/learners", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 200);
    int distinct = 0;
    char seen[64][32];
    cJSON *it;
    cJSON_ArrayForEach(it, r.json) {
        const char *s = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "current_state"), "state_name")->valuestring;
        int found = 0;
        for (int i = 0; i < distinct; i++) found |= !strcmp(seen[i], s);
        if (!found && distinct < 64) snprintf(seen[distinct++], 32, "%s", s);
    }
    assert_true(distinct >= 8);
    http_res_free(&r);
    /* created dates spread over days: cool-off changes the queue */
    r = api("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=0&states=PENDING", NULL);
    int all = cJSON_GetArraySize(r.json);
    http_res_free(&r);
    r = api("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=7&states=PENDING", NULL);
    int ready = cJSON_GetArraySize(r.json);
    http_res_free(&r);
    r = api("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=40&states=PENDING", NULL);
    int none = cJSON_GetArraySize(r.json);
    http_res_free(&r);
    assert_true(all > 40);
    assert_true(ready > 0 && ready < all);
    assert_int_equal(none, 0);
}

static void test_generated_learners(void **st)
{
    (void)st;
    static char a[65536], b[65536], c[65536];
    const char *args1[] = {"--learners", "200", "--random-seed", "7", NULL};
    const char *args2[] = {"--learners", "200", "--random-seed", "8", NULL};
    with_other_sim(args1, collect_learners, a);
    with_other_sim(args1, collect_learners, b);
    with_other_sim(args2, collect_learners, c);
    assert_true(strlen(a) > 1000);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    with_other_sim(args1, check_generated_spread, NULL);
}

static void check_demo(void *arg)
{
    (void)arg;
    http_res r = ctl("GET", "/__sim/learners", NULL);
    int n = cJSON_GetArraySize(r.json), space = 0, non_ascii = 0, errored_log = 0, working = 0, complete = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, r.json) {
        const char *u = cJSON_GetObjectItem(it, "original_username")->valuestring;
        cJSON *nm = cJSON_GetObjectItem(it, "original_name");
        space |= strchr(u, ' ') != NULL;
        if (cJSON_IsString(nm))
            for (const unsigned char *p = (const unsigned char *)nm->valuestring; *p; p++) non_ascii |= *p >= 0x80;
        cJSON *cs = cJSON_GetObjectItem(it, "current_state");
        if (!cs) continue;
        const char *s = cJSON_GetObjectItem(cs, "state_name")->valuestring;
        if (!strcmp(s, "ERRORED") && strstr(cJSON_GetObjectItem(it, "responses")->valuestring, "Error")) errored_log++;
        if (!strncmp(s, "RETIRING_", 9)) working++;
        if (!strcmp(s, "COMPLETE")) complete++;
    }
    http_res_free(&r);
    assert_true(n >= 10);
    assert_true(space);
    assert_true(non_ascii);
    assert_true(errored_log >= 1);
    assert_true(working >= 1);
    assert_true(complete >= 1);
    /* some pending in cool-off, some ready */
    r = api("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=7&states=PENDING", NULL);
    int ready = cJSON_GetArraySize(r.json);
    http_res_free(&r);
    r = api("GET", "/api/user/v1/accounts/retirement_queue/?cool_off_days=0&states=PENDING", NULL);
    int all = cJSON_GetArraySize(r.json);
    http_res_free(&r);
    assert_true(ready >= 1 && ready < all);
    /* --legacy-mailings: retire_mailings answers for a learner in a working state */
    assert_api("POST", "/api/user/v1/accounts/retire_mailings/", "{\"username\": \"judy_stuck\"}", 204, "");
}

static void test_demo_and_legacy_mailings(void **st)
{
    (void)st;
    const char *args[] = {"--demo", "--legacy-mailings", NULL};
    with_other_sim(args, check_demo, NULL);
}

static void check_bounded_log(void *arg)
{
    (void)arg;
    for (int i = 0; i < 8; i++) assert_int_equal(api_status("GET", "/api/user/v1/accounts/x/retirement_status/", NULL), 404);
    http_res r = ctl("GET", "/__sim/requests", NULL);
    assert_int_equal(cJSON_GetArraySize(r.json), 5);
    /* 9 were logged (the token request, then 8): the oldest fell off, 5..9 remain */
    assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "seq")->valuedouble, 5);
    assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 4), "seq")->valuedouble, 9);
    http_res_free(&r);
}

static void test_request_log_is_bounded(void **st)
{
    (void)st;
    const char *args[] = {"--request-log", "5", NULL};
    with_other_sim(args, check_bounded_log, NULL);
}

static void test_sigterm_exit_status(void **st)
{
    (void)st;
    sim_proc other;
    assert_int_equal(sim_start(&other, NULL), 0);
    int port_ok = other.port > 0 && other.port != g_sim.port;
    assert_int_equal(sim_stop(&other), 0); /* SIGTERM: exit status 0 */
    assert_true(port_ok);
}

int main(void)
{
    char *seed = write_temp_file("seed.json", SEED);
    const char *args[] = {"--seed", seed, NULL};
    start_sim_or_die(args);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_line_errors),
        cmocka_unit_test_setup(test_token_endpoint, reset_sim),
        cmocka_unit_test_setup(test_auth_required, reset_sim),
        cmocka_unit_test_setup(test_token_expiry, reset_sim),
        cmocka_unit_test_setup(test_percent_decoding, reset_sim),
        cmocka_unit_test_setup(test_request_log, reset_sim),
        cmocka_unit_test_setup(test_control_learners_and_reset, reset_sim),
        cmocka_unit_test_setup(test_default_state_table, reset_sim),
        cmocka_unit_test(test_pipeline_config_states),
        cmocka_unit_test(test_states_flag),
        cmocka_unit_test(test_generated_learners),
        cmocka_unit_test(test_demo_and_legacy_mailings),
        cmocka_unit_test(test_request_log_is_bounded),
        cmocka_unit_test(test_sigterm_exit_status),
    };
    int rc = cmocka_run_group_tests_name("sim_basics", tests, NULL, stop_sim);
    free(seed);
    return rc;
}
