/* The outbound scrubber (docs/configuration.md, "Secrets"): every text recorded at the LMS and
 * printed is scrubbed of config secrets, the live LMS token and plugins' secret_values, whole,
 * before any cut (D1, D13, D18, D20 of the reliability review). Real retirectl, real sim, the real
 * test plugin tests/plugins/leaky and a hostile loopback server (tests/support/hostile.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hostile.h"
#include "simproc.h"

#define BRAZE_KEY "BRAZEKEY-abcdef-123456"

static sim_proc SIM;
static int SIM_UP;

static const char *bin(void)
{
    const char *b = getenv("RETIRECTL_BIN");
    return b && *b ? b : RETIRECTL_BIN;
}

/* Starts a sim whose pipeline is forum, LEAKY.<method>, lms_retire; writes its config. */
static char *start_leaky(const char *method, const char *learner_json)
{
    char pipeline[1024];
    snprintf(pipeline, sizeof pipeline,
             "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
             "  - ['RETIRING_LEAKY', 'LEAKY_COMPLETE', 'LEAKY', '%s']\n"
             "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n",
             method);
    char doc[1200];
    snprintf(doc, sizeof doc, "retirement_pipeline:\n%s", pipeline);
    char *pf = write_temp_file("pipeline.yml", doc);
    const char *args[] = {"--pipeline-config", pf, NULL};
    assert_int_equal(sim_start(&SIM, args), 0);
    SIM_UP = 1;
    free(pf);
    char ep[1024];
    snprintf(ep, sizeof ep, "[retirement_driver]\nLEAKY = %s/leaky.so:retirectl_driver_leaky\n",
             RETIRECTL_TEST_PLUGIN_DIR);
    char *epf = write_temp_file("drivers.cfg", ep);
    assert_int_equal(chmod(epf, 0644), 0);
    char extra[2048];
    snprintf(extra, sizeof extra,
             "driver_entry_points: ['%s']\nbraze_api_key: " BRAZE_KEY "\nhttp:\n  max_retry_seconds: 1\n", epf);
    free(epf);
    char *config = sim_write_config(&SIM, pipeline, extra);
    assert_int_equal(chmod(config, 0600), 0);
    assert_true(sim_http(&SIM, "POST", "/__sim/learners", NULL, learner_json, NULL) < 300);
    return config;
}

static int teardown(void **state)
{
    (void)state;
    if (SIM_UP) sim_stop(&SIM);
    SIM_UP = 0;
    return 0;
}

/* The learner's `responses` text at the sim (malloc'd). */
static char *responses(const char *username)
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/__sim/learners?username=%s", username);
    assert_int_equal(sim_http(&SIM, "GET", path, NULL, NULL, &body), 200);
    cJSON *j = cJSON_Parse(body);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "responses");
    assert_true(cJSON_IsString(r));
    char *out = strdup(r->valuestring);
    cJSON_Delete(j);
    free(body);
    return out;
}

static void retire(const char *config, cmd_result *r, const char *user)
{
    const char *argv[] = {bin(), "--config", config, "retire", user, NULL};
    const char *envv[] = {"RETIRECTL_DRIVER_PATH=", "RETIRECTL_TEST_BACKOFF_SCALE=0.01", NULL};
    assert_int_equal(run_command(r, argv, envv, NULL, 120), 0);
}

/* None of the needles in any of the texts; at least one mask in `masked_in`. */
static void assert_absent(const char *what, const char *text, const char *needle)
{
    if (strstr(text, needle)) fail_msg("%s holds the secret '%s':\n%s", what, needle, text);
}

/* D1: config secrets a plugin puts in its failure reason are masked at the LMS, not only locally. */
static void test_config_secrets_not_sent(void **state)
{
    (void)state;
    char *config = start_leaky("leak", "{\"username\":\"victim\",\"days_ago\":11}");
    cmd_result r;
    retire(config, &r, "victim");
    assert_int_equal(r.status, 252);
    char *resp = responses("victim");
    assert_absent("the LMS record", resp, SIM_CLIENT_SECRET);
    assert_absent("the LMS record", resp, BRAZE_KEY);
    assert_non_null(strstr(resp, "client_secret=******** braze_api_key=********"));
    assert_absent("stdout", r.out, BRAZE_KEY);
    assert_absent("stderr", r.err, BRAZE_KEY);
    free(resp);
    cmd_result_free(&r);
    free(config);
}

/* D1: a plugin's per-request secret_values are masked in what is later recorded at the LMS. */
static void test_plugin_secret_values_not_sent(void **state)
{
    (void)state;
    char *config = start_leaky("values", "{\"username\":\"victim\",\"days_ago\":11}");
    cmd_result r;
    retire(config, &r, "victim");
    assert_int_equal(r.status, 252);
    char *resp = responses("victim");
    assert_absent("the LMS record", resp, "PLUGIN-ONLY-SECRET-77aa");
    assert_non_null(strstr(resp, "vendor said: bad key ********"));
    assert_absent("stderr", r.err, "PLUGIN-ONLY-SECRET-77aa");
    free(resp);
    cmd_result_free(&r);
    free(config);
}

/* D1/D13: the live LMS token echoed back by a server is masked before it is recorded. */
static void test_live_token_not_sent(void **state)
{
    (void)state;
    char *config = start_leaky("echotoken", "{\"username\":\"victim\",\"days_ago\":11}");
    cmd_result r;
    retire(config, &r, "victim");
    assert_int_equal(r.status, 252);
    char *resp = responses("victim");
    /* the tokens the sim saw */
    char *log = NULL;
    assert_int_equal(sim_http(&SIM, "GET", "/__sim/requests?path=retirement_status", NULL, NULL, &log), 200);
    cJSON *arr = cJSON_Parse(log);
    int tokens = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "token");
        if (cJSON_IsString(t) && strlen(t->valuestring) >= 8) {
            tokens++;
            assert_absent("the LMS record", resp, t->valuestring);
            assert_absent("stderr", r.err, t->valuestring);
            assert_absent("stdout", r.out, t->valuestring);
        }
    }
    assert_true(tokens > 0);
    if (!strstr(resp, "********")) fail_msg("no mask in the LMS record:\n%.2000s", resp);
    cJSON_Delete(arr);
    free(log);
    free(resp);
    cmd_result_free(&r);
    free(config);
}

/* D18 + D20: a secret cut by the 4 KiB message buffer or the 8 KiB log line leaves no prefix, and
 * a cut text says so. */
static void test_secret_cut_at_a_boundary(void **state)
{
    (void)state;
    char *config = start_leaky("straddle", "{\"username\":\"victim\",\"days_ago\":11}");
    cmd_result r;
    const char *argv[] = {bin(), "--config", config, "retire", "--events", "victim", NULL};
    const char *envv[] = {"RETIRECTL_DRIVER_PATH=", NULL};
    assert_int_equal(run_command(&r, argv, envv, NULL, 120), 0);
    assert_int_equal(r.status, 0);
    char *resp = responses("victim");
    const char *prefix = "BRAZEKEY-abc"; /* the 12 characters that fit in the buffer */
    assert_absent("the LMS record", resp, prefix);
    assert_absent("the events", r.out, prefix);
    assert_absent("stderr", r.err, prefix);
    if (!strstr(resp, "********")) fail_msg("the key is not masked in the LMS record:\n%.5000s", resp);
    if (!strstr(r.out, "bytes cut]")) fail_msg("no cut marker in the events:\n%.3000s", r.out); /* the 8 KiB log line */
    free(resp);
    cmd_result_free(&r);
    free(config);
}

/* D20: a long 2xx answer recorded at the LMS is cut with "… [N bytes cut]", not silently. */
static void test_long_response_says_cut(void **state)
{
    (void)state;
    char *config = start_leaky("leak", "{\"username\":\"longbody\",\"days_ago\":11}");
    /* the forum step answers 200 with a 70 KB JSON body: past the 64 KiB recorded at the LMS
     * (a driver's message has no limit of its own since driver ABI 2) */
    static char fault[74000];
    int n = snprintf(fault, sizeof fault,
                     "{\"endpoint\": \"retire_forum\", \"actions\": [{\"status\": 200, \"body\": {\"data\": \"");
    memset(fault + n, 'x', 70000);
    snprintf(fault + n + 70000, sizeof fault - (size_t)n - 70000, "\"}}]}");
    long st = sim_http(&SIM, "POST", "/__sim/faults", NULL, fault, NULL);
    assert_true(st >= 200 && st < 300);
    cmd_result r;
    retire(config, &r, "longbody");
    char *resp = responses("longbody");
    const char *m = strstr(resp, "\xe2\x80\xa6 [");
    if (!m || !strstr(m, " bytes cut]")) fail_msg("no cut marker in the LMS record:\n%.300s", resp);
    free(resp);
    cmd_result_free(&r);
    free(config);
}

/* D13: `status` against an LMS that echoes the Authorization header does not print the token. */
static void test_status_masks_echoed_token(void **state)
{
    (void)state;
    hostile h;
    assert_int_equal(hostile_start(&h, "echoauth", NULL), 0);
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "client_id: cid\nclient_secret: not-the-token-secret\nbase_urls:\n  lms: %s/\n"
             "retirement_pipeline: []\n", h.base_url);
    char *config = write_temp_file("config.yml", yaml);
    chmod(config, 0600);
    cmd_result r;
    const char *argv[] = {bin(), "--config", config, "status", "victim_user", NULL};
    assert_int_equal(run_command(&r, argv, NULL, NULL, 60), 0);
    hostile_stop(&h);
    assert_int_not_equal(r.status, 0);
    assert_absent("stderr", r.err, HOSTILE_TOKEN);
    assert_absent("stdout", r.out, HOSTILE_TOKEN);
    if (!strstr(r.err, "bad header: JWT ********")) fail_msg("expected the masked echo on stderr:\n%s", r.err);
    cmd_result_free(&r);
    free(config);
}

/* D5: an endless chunked answer stops at http.max_response_bytes with a clear error naming the URL
 * and the limit, for the engine's own requests (status) and for a plugin's rd_host.http. */
static void test_endless_answer_is_capped(void **state)
{
    (void)state;
    hostile h;
    assert_int_equal(hostile_start(&h, "endless", NULL), 0);
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "client_id: cid\nclient_secret: not-the-token-secret\nbase_urls:\n  lms: %s/\n"
             "retirement_pipeline: []\nhttp:\n  max_response_bytes: 1048576\n", h.base_url);
    char *config = write_temp_file("config.yml", yaml);
    chmod(config, 0600);
    cmd_result r;
    const char *argv[] = {bin(), "--config", config, "status", "victim_user", NULL};
    assert_int_equal(run_command(&r, argv, NULL, NULL, 60), 0);
    assert_int_not_equal(r.status, 0);
    if (!strstr(r.err, "larger than http.max_response_bytes (1048576 bytes)") || !strstr(r.err, "/retirement_status/"))
        fail_msg("expected the cap error naming URL and limit:\n%s", r.err);
    cmd_result_free(&r);
    free(config);

    /* the same through a plugin's rd_host.http (default cap: 16 MiB) */
    char extra[256];
    snprintf(extra, sizeof extra, "{\"username\":\"victim\",\"days_ago\":11}");
    config = start_leaky("fetch", extra);
    FILE *f = fopen(config, "a");
    fprintf(f, "leaky_url: %s/vendor/endless\n", h.base_url);
    fclose(f);
    retire(config, &r, "victim");
    hostile_stop(&h);
    assert_int_equal(r.status, 252);
    char *resp = responses("victim");
    if (!strstr(resp, "fetch failed: GET http://127.0.0.1:") || !strstr(resp, "(16777216 bytes)"))
        fail_msg("expected the cap error at the LMS:\n%s", resp);
    free(resp);
    cmd_result_free(&r);
    free(config);
}

/* D16: a plain-http proxy off loopback is refused before anything is sent (the token POST with the
 * client secret went to it in clear); one on loopback is used (positive control). */
static void test_proxy_rule(void **state)
{
    (void)state;
    char *config = start_leaky("leak", "{\"username\":\"victim\",\"days_ago\":11}");
    cmd_result r;
    const char *argv[] = {bin(), "--config", config, "status", "victim", NULL};
    const char *env_far[] = {"http_proxy=http://10.255.255.1:9", NULL};
    assert_int_equal(run_command(&r, argv, env_far, NULL, 60), 0);
    assert_int_equal(r.status, 255);
    if (!strstr(r.err, "through the proxy 10.255.255.1 (from http_proxy)")) fail_msg("status said:\n%s", r.err);
    assert_absent("stderr", r.err, SIM_CLIENT_SECRET);
    cmd_result_free(&r);

    /* the same from http.proxy, with a host name (no DNS lookup needed to refuse) */
    FILE *f = fopen(config, "a");
    fputs("  proxy: proxy.example.com:3128\n", f); /* under the http: block written last */
    fclose(f);
    assert_int_equal(run_command(&r, argv, NULL, NULL, 60), 0);
    assert_int_equal(r.status, 255);
    if (!strstr(r.err, "through the proxy proxy.example.com (from http.proxy)")) fail_msg("status said:\n%s", r.err);
    cmd_result_free(&r);
    free(config);
    sim_stop(&SIM);
    SIM_UP = 0;

    /* a proxy on loopback is allowed, and really used */
    char *dir = make_temp_dir();
    char caught[512];
    snprintf(caught, sizeof caught, "%s/caught.txt", dir);
    hostile h;
    assert_int_equal(hostile_start(&h, "catch", caught), 0);
    config = start_leaky("leak", "{\"username\":\"victim\",\"days_ago\":11}");
    char env_near[128];
    snprintf(env_near, sizeof env_near, "http_proxy=%s", h.base_url);
    const char *envv[] = {env_near, NULL};
    const char *argv2[] = {bin(), "--config", config, "status", "victim", NULL};
    assert_int_equal(run_command(&r, argv2, envv, NULL, 60), 0);
    hostile_stop(&h);
    FILE *c = fopen(caught, "r");
    if (!c) fail_msg("nothing reached the loopback proxy; status said:\n%s", r.err);
    char line[512] = "";
    assert_non_null(fgets(line, sizeof line, c));
    fclose(c);
    if (!strstr(line, "POST http://127.0.0.1:") || !strstr(line, "/oauth2/access_token"))
        fail_msg("the loopback proxy did not get the token request: %s", line);
    cmd_result_free(&r);
    free(config);
    free(dir);
}

/* D15: no core dumps in the supervisor and the workers unless --allow-core-dumps. */
static void test_no_core_dumps(void **state)
{
    (void)state;
    char *config = start_leaky("selfcheck", "[{\"username\":\"u1\",\"days_ago\":11},{\"username\":\"u2\",\"days_ago\":11}]");
    cmd_result r;
    retire(config, &r, "u1");
    assert_int_equal(r.status, 0);
    char *resp = responses("u1");
    if (!strstr(resp, "core=0 dumpable=0")) fail_msg("the worker may dump core:\n%s", resp);
    free(resp);
    cmd_result_free(&r);
    const char *argv[] = {bin(), "--allow-core-dumps", "--config", config, "retire", "u2", NULL};
    const char *envv[] = {"RETIRECTL_DRIVER_PATH=", NULL};
    assert_int_equal(run_command(&r, argv, envv, NULL, 120), 0);
    assert_int_equal(r.status, 0);
    resp = responses("u2");
    if (!strstr(resp, "dumpable=1")) fail_msg("--allow-core-dumps did not allow them:\n%s", resp);
    free(resp);
    cmd_result_free(&r);
    free(config);
}

/* D22: line breaks, C1 controls and invalid UTF-8 in a username or a server's record print
 * escaped: a username cannot forge a "Retirement complete" line. */
static void test_inert_output(void **state)
{
    (void)state;
    char *config = start_leaky("selfcheck",
                               "{\"username\":\"u1\",\"days_ago\":11,"
                               "\"name\":\"Eve\\nLearner Retirement: Retirement complete for learner jane\\u009b2J\\r\"}");
    cmd_result r;
    const char *forged = "nobody\nLearner Retirement: Retirement complete for learner jane";
    retire(config, &r, forged);
    assert_int_equal(r.status, 251);
    if (strstr(r.out, "\nLearner Retirement: Retirement complete") || strstr(r.err, "\nLearner Retirement: Retirement complete"))
        fail_msg("a forged line was printed:\n%s\n%s", r.out, r.err);
    if (!strstr(r.out, "nobody\\nLearner Retirement") && !strstr(r.err, "nobody\\nLearner Retirement"))
        fail_msg("the username was not shown escaped:\n%s\n%s", r.out, r.err);
    cmd_result_free(&r);
    const char *argv[] = {bin(), "--config", config, "status", "u1", NULL};
    assert_int_equal(run_command(&r, argv, NULL, NULL, 60), 0);
    assert_int_equal(r.status, 0);
    if (!strstr(r.out, "original name     Eve\\nLearner Retirement: Retirement complete for learner jane\\u009b2J\\r\n"))
        fail_msg("status did not escape the record's name:\n%s", r.out);
    cmd_result_free(&r);
    free(config);
}

/* driver_config_scope: a scoped plugin driver sees only its listed keys, in get_instance and
 * through config_string; an unscoped one sees everything; drivers and check-config show it. */
static void test_driver_config_scope(void **state)
{
    (void)state;
    char *config = start_leaky("scope", "[{\"username\":\"u1\",\"days_ago\":11},{\"username\":\"u2\",\"days_ago\":11}]");
    cmd_result r;
    retire(config, &r, "u1");
    assert_int_equal(r.status, 0);
    char *resp = responses("u1");
    if (!strstr(resp, "client_secret=******** braze_api_key=********") || !strstr(resp, "init_keys=client_id,client_secret"))
        fail_msg("an unscoped driver should see everything:\n%s", resp);
    free(resp);
    cmd_result_free(&r);
    FILE *f = fopen(config, "a");
    fputs("driver_config_scope:\n  LEAKY: [braze_api_key, base_urls]\n", f);
    fclose(f);
    retire(config, &r, "u2");
    assert_int_equal(r.status, 0);
    resp = responses("u2");
    if (!strstr(resp, "init_keys=base_urls,braze_api_key client_secret=(hidden) braze_api_key=********"))
        fail_msg("the scoped driver saw more than its keys:\n%s", resp);
    free(resp);
    cmd_result_free(&r);
    const char *argv[] = {bin(), "--config", config, "drivers", NULL};
    const char *envv[] = {"RETIRECTL_DRIVER_PATH=", NULL};
    assert_int_equal(run_command(&r, argv, envv, NULL, 60), 0);
    if (!strstr(r.out, "config:  only braze_api_key, base_urls (driver_config_scope)") ||
        !strstr(r.out, "config:  the whole config"))
        fail_msg("drivers does not show the scopes:\n%s", r.out);
    cmd_result_free(&r);
    const char *argv2[] = {bin(), "--config", config, "check-config", NULL};
    assert_int_equal(run_command(&r, argv2, envv, NULL, 60), 0);
    if (!strstr(r.out, "driver config scope: LEAKY sees only braze_api_key, base_urls"))
        fail_msg("check-config does not show the scope:\n%s", r.out);
    cmd_result_free(&r);
    free(config);
}

int main(void)
{
    setenv("LC_ALL", "C.UTF-8", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_config_secrets_not_sent, teardown),
        cmocka_unit_test_teardown(test_plugin_secret_values_not_sent, teardown),
        cmocka_unit_test_teardown(test_live_token_not_sent, teardown),
        cmocka_unit_test_teardown(test_secret_cut_at_a_boundary, teardown),
        cmocka_unit_test_teardown(test_long_response_says_cut, teardown),
        cmocka_unit_test_teardown(test_status_masks_echoed_token, teardown),
        cmocka_unit_test_teardown(test_endless_answer_is_capped, teardown),
        cmocka_unit_test_teardown(test_proxy_rule, teardown),
        cmocka_unit_test_teardown(test_no_core_dumps, teardown),
        cmocka_unit_test_teardown(test_inert_output, teardown),
        cmocka_unit_test_teardown(test_driver_config_scope, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
