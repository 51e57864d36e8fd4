/* The WEBHOOK example driver (plugins/example) found through the build tree's
 * plugins/retirement_driver.cfg and run by the real retirectl against retirectl-sim: its POST
 * is seen in the sim's request log with the bearer token and only the LMS user id and retired
 * username; the answers map to OK / NOT_FOUND / RETRYABLE / FAILED as documented; the dry-run
 * shows the request with the token masked and sends nothing; bad templates are refused. */
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

#include "simproc.h"

#define TOKEN "whk-Secret-7f3a9"
#define PIPELINE                                                                         \
    "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"     \
    "  - ['RETIRING_WEBHOOK', 'WEBHOOK_COMPLETE', 'WEBHOOK', 'notify']\n"                \
    "  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n"

static sim_proc SIM;

static int group_setup(void **state)
{
    (void)state;
    setenv("LC_ALL", "C.UTF-8", 1);
    char *pipe_file = write_temp_file("pipeline.yml", "retirement_pipeline:\n" PIPELINE);
    const char *args[] = {"--pipeline-config", pipe_file, NULL};
    int rc = sim_start(&SIM, args);
    free(pipe_file);
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    sim_stop(&SIM);
    return 0;
}

/* Writes a config whose webhook section is `webhook_yaml` (indented under webhook:). */
static char *config_with(const char *webhook_yaml)
{
    char extra[4096];
    snprintf(extra, sizeof extra,
             "http:\n"
             "  max_retry_seconds: 1\n"
             "webhook:\n%s",
             webhook_yaml);
    char *path = sim_write_config(&SIM, PIPELINE, extra);
    assert_non_null(path);
    assert_int_equal(chmod(path, 0600), 0);
    return path;
}

static void add_learner(const char *username)
{
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"days_ago\":10}", username,
             username);
    long st = sim_http(&SIM, "POST", "/__sim/learners", NULL, body, NULL);
    assert_true(st >= 200 && st < 300);
}

/* The sim's dump of a learner (caller frees). */
static cJSON *learner(const char *username)
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/__sim/learners?username=%s", username);
    assert_int_equal(sim_http(&SIM, "GET", path, NULL, NULL, &body), 200);
    cJSON *j = cJSON_Parse(body);
    free(body);
    assert_non_null(j);
    return j;
}

static const char *state_of(const cJSON *l)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "current_state"), "state_name")
        ->valuestring;
}

static const char *responses_of(const cJSON *l)
{
    return cJSON_GetObjectItemCaseSensitive(l, "responses")->valuestring;
}

/* The requests the sim logged whose path contains `filter` (caller frees). */
static cJSON *requests(const char *filter)
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/__sim/requests?path=%s", filter);
    assert_int_equal(sim_http(&SIM, "GET", path, NULL, NULL, &body), 200);
    cJSON *j = cJSON_Parse(body);
    free(body);
    assert_true(cJSON_IsArray(j));
    return j;
}

/* A string member or "" (so a missing one fails the comparison instead of crashing). */
static const char *str_or(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void run(cmd_result *r, const char *config, const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "--config", config, a1, a2, a3, a4, NULL};
    const char *envv[] = {"LC_ALL=C.UTF-8", "RETIRECTL_DRIVER_PATH=", NULL};
    assert_int_equal(run_command(r, argv, envv, NULL, 120), 0);
}

static void test_post_seen_by_sim_with_only_ids(void **state)
{
    (void)state;
    add_learner("wh_alice");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "  url: %s/vendor/webhook/retired/alice-case\n"
             "  bearer_token: " TOKEN "\n"
             "  template: '{\"user_id\": {{lms_user_id}}, \"username\": \"{{retired_username}}\", \"src\": \"lms\"}'\n",
             SIM.base_url);
    char *config = config_with(yaml);
    cmd_result r;
    run(&r, config, "retire", "wh_alice", NULL, NULL);
    if (r.status != 0) fail_msg("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    assert_null(strstr(r.out, TOKEN));
    assert_null(strstr(r.err, TOKEN));

    cJSON *l = learner("wh_alice");
    assert_string_equal(state_of(l), "COMPLETE");
    const char *retired = cJSON_GetObjectItemCaseSensitive(l, "retired_username")->valuestring;
    double uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "user"), "id")->valuedouble;
    char msg[512];
    snprintf(msg, sizeof msg, "Ending: WEBHOOK_COMPLETE with response:\nWEBHOOK: POST %s/vendor/webhook/retired/alice-case answered 200",
             SIM.base_url);
    assert_non_null(strstr(responses_of(l), msg));
    assert_null(strstr(responses_of(l), TOKEN));

    cJSON *reqs = requests("/vendor/webhook/retired/alice-case");
    assert_int_equal(cJSON_GetArraySize(reqs), 1);
    const cJSON *q = cJSON_GetArrayItem(reqs, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(q, "method")->valuestring, "POST");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(q, "authorization")->valuestring, "Bearer " TOKEN);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(q, "content_type")->valuestring, "application/json");
    cJSON *sent = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(q, "body")->valuestring);
    assert_non_null(sent);
    assert_int_equal(cJSON_GetArraySize(sent), 3);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sent, "user_id")));
    assert_true(cJSON_GetObjectItemCaseSensitive(sent, "user_id")->valuedouble == uid);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sent, "username")->valuestring, retired);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sent, "src")->valuestring, "lms");
    const char *raw = cJSON_GetObjectItemCaseSensitive(q, "body")->valuestring;
    assert_null(strstr(raw, "wh_alice")); /* neither the original username ... */
    assert_null(strstr(raw, "example.com")); /* ... nor the email leave */
    cJSON_Delete(sent);
    cJSON_Delete(reqs);
    cJSON_Delete(l);
    cmd_result_free(&r);
    free(config);
}

static void test_mapping_template_and_default_template(void **state)
{
    (void)state;
    add_learner("wh_map");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "  url: %s/vendor/webhook/map-case\n"
             "  template:\n"
             "    id: '{{lms_user_id}}'\n"
             "    who: 'retired as {{retired_username}}'\n",
             SIM.base_url);
    char *config = config_with(yaml);
    cmd_result r;
    run(&r, config, "retire", "wh_map", NULL, NULL);
    if (r.status != 0) fail_msg("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cJSON *reqs = requests("/vendor/webhook/map-case");
    assert_int_equal(cJSON_GetArraySize(reqs), 1);
    const cJSON *q = cJSON_GetArrayItem(reqs, 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(q, "authorization"))); /* no token configured */
    cJSON *sent = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(q, "body")->valuestring);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sent, "id")));
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(sent, "who")->valuestring, "retired as retired__user_"));
    cJSON_Delete(sent);
    cJSON_Delete(reqs);
    cmd_result_free(&r);
    free(config);

    add_learner("wh_default");
    snprintf(yaml, sizeof yaml, "  url: %s/vendor/webhook/default-case\n", SIM.base_url);
    config = config_with(yaml);
    run(&r, config, "retire", "wh_default", NULL, NULL);
    assert_int_equal(r.status, 0);
    reqs = requests("/vendor/webhook/default-case");
    assert_int_equal(cJSON_GetArraySize(reqs), 1);
    sent = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(reqs, 0), "body")->valuestring);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sent, "lms_user_id")));
    cJSON *l = learner("wh_default");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sent, "retired_username")->valuestring,
                        cJSON_GetObjectItemCaseSensitive(l, "retired_username")->valuestring);
    cJSON_Delete(l);
    cJSON_Delete(sent);
    cJSON_Delete(reqs);
    cmd_result_free(&r);
    free(config);
}

/* Retires `user` against /vendor/webhook/status/<status> and checks the final state and message. */
static void status_case(const char *user, int status, const char *retry, int want_exit, const char *want_state,
                        const char *want_msg, int want_posts)
{
    add_learner(user);
    char yaml[1024], path[128];
    snprintf(path, sizeof path, "/vendor/webhook/status/%d/%s", status, user);
    snprintf(yaml, sizeof yaml, "  url: %s%s\n  bearer_token: " TOKEN "\n  retry: %s\n", SIM.base_url, path, retry);
    char *config = config_with(yaml);
    cmd_result r;
    run(&r, config, "retire", user, NULL, NULL);
    if (r.status != want_exit) fail_msg("exit %d, expected %d\nstdout:\n%s\nstderr:\n%s", r.status, want_exit, r.out, r.err);
    cJSON *l = learner(user);
    assert_string_equal(state_of(l), want_state);
    char msg[1024];
    snprintf(msg, sizeof msg, "WEBHOOK: POST %s%s %s", SIM.base_url, path, want_msg);
    if (!strstr(responses_of(l), msg)) fail_msg("'%s' not in the learner's responses:\n%s", msg, responses_of(l));
    assert_null(strstr(responses_of(l), TOKEN));
    assert_null(strstr(r.out, TOKEN));
    assert_null(strstr(r.err, TOKEN));
    cJSON *reqs = requests(path);
    if (want_posts > 0)
        assert_int_equal(cJSON_GetArraySize(reqs), want_posts);
    else
        assert_true(cJSON_GetArraySize(reqs) >= 2);
    cJSON_Delete(reqs);
    cJSON_Delete(l);
    cmd_result_free(&r);
    free(config);
}

static void test_status_mapping(void **state)
{
    (void)state;
    status_case("wh_201", 201, "false", 0, "COMPLETE", "answered 201", 1);
    status_case("wh_404", 404, "false", 0, "COMPLETE",
                "answered 404: the receiver knows nothing of this learner (counts as success)", 1);
    status_case("wh_503", 503, "false", 252, "ERRORED", "answered 503 after 1 attempt; the receiver failed, safe to rerun",
                1);
    status_case("wh_401", 401, "false", 252, "ERRORED", "answered 401: {\"status\":401}; check webhook.url", 1);
    /* with the host's retry policy a 5xx is retried (http.max_retry_seconds: 1) before giving up */
    status_case("wh_502r", 502, "true", 252, "ERRORED", "answered 502 after", -1);
}

static void test_dry_run_masks_token_and_sends_nothing(void **state)
{
    (void)state;
    add_learner("wh_plan");
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "  url: %s/vendor/webhook/plan-case\n  bearer_token: " TOKEN "\n", SIM.base_url);
    char *config = config_with(yaml);
    cmd_result r;
    run(&r, config, "retire", "wh_plan", "--dry-run", "--events");
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, TOKEN));
    assert_null(strstr(r.err, TOKEN));
    /* find the WEBHOOK preview event */
    int found = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *ev = cJSON_Parse(line);
        if (!ev) continue;
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(ev, "event");
        const cJSON *drv = cJSON_GetObjectItemCaseSensitive(ev, "driver");
        if (cJSON_IsString(kind) && strcmp(kind->valuestring, "preview") == 0 && cJSON_IsString(drv) &&
            strcmp(drv->valuestring, "WEBHOOK") == 0) {
            const cJSON *q;
            cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(ev, "requests")) {
                const cJSON *url = cJSON_GetObjectItemCaseSensitive(q, "url");
                if (!cJSON_IsString(url) || !strstr(url->valuestring, "/vendor/webhook/plan-case")) continue;
                found = 1;
                assert_string_equal(cJSON_GetObjectItemCaseSensitive(q, "method")->valuestring, "POST");
                char *h = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(q, "headers"));
                assert_non_null(strstr(h, "Authorization: Bearer ********"));
                free(h);
                assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(q, "body")->valuestring, "retired__user_"));
            }
        }
        cJSON_Delete(ev);
    }
    assert_true(found);
    cJSON *reqs = requests("/vendor/webhook/plan-case");
    assert_int_equal(cJSON_GetArraySize(reqs), 0);
    cJSON_Delete(reqs);
    cJSON *l = learner("wh_plan");
    assert_string_equal(state_of(l), "PENDING");
    cJSON_Delete(l);
    cmd_result_free(&r);
    free(config);
}

static void test_bad_settings_refused_before_any_change(void **state)
{
    (void)state;
    add_learner("wh_bad");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "  url: %s/vendor/webhook/bad-case\n"
             "  template: '{\"email\": \"{{original_email}}\"}'\n",
             SIM.base_url);
    char *config = config_with(yaml);
    cmd_result r;
    run(&r, config, "retire", "wh_bad", NULL, NULL);
    assert_int_equal(r.status, 255);
    if (!strstr(r.err, "webhook.template uses the placeholder {{original_email}}"))
        fail_msg("stderr:\n%s", r.err);
    cJSON *l = learner("wh_bad");
    assert_string_equal(state_of(l), "PENDING");
    cJSON_Delete(l);
    cmd_result_free(&r);
    free(config);

    config = config_with("  url: ftp://example.org/x\n");
    run(&r, config, "retire", "wh_bad", NULL, NULL);
    assert_int_equal(r.status, 255);
    assert_non_null(strstr(r.err, "webhook.url must be an http:// or https:// URL"));
    cmd_result_free(&r);
    free(config);

    config = config_with("  url: http://hooks.example.org/retired\n");
    run(&r, config, "retire", "wh_bad", NULL, NULL);
    assert_int_equal(r.status, 255);
    assert_non_null(strstr(r.err, "webhook.url is plain http:// to a host that is not this machine"));
    cmd_result_free(&r);
    free(config);

    snprintf(yaml, sizeof yaml, "  url: %s/vendor/webhook/bad-case\n  template: '{\"id\": {{lms_user_id}'\n",
             SIM.base_url);
    config = config_with(yaml);
    run(&r, config, "retire", "wh_bad", NULL, NULL);
    assert_int_equal(r.status, 255);
    assert_non_null(strstr(r.err, "webhook.template"));
    cmd_result_free(&r);
    free(config);
    cJSON *reqs = requests("/vendor/webhook/bad-case");
    assert_int_equal(cJSON_GetArraySize(reqs), 0);
    cJSON_Delete(reqs);
}

/* One .so under two names: WEBHOOK_CRM (from a --driver-path entry-point file) reads webhook_crm:,
 * WEBHOOK reads webhook:, in the same pipeline. */
static void test_same_plugin_under_a_second_name(void **state)
{
    (void)state;
    const char *pipeline = PIPELINE "  - ['RETIRING_CRM', 'CRM_COMPLETE', 'WEBHOOK_CRM', 'notify']\n";
    char doc[2048];
    snprintf(doc, sizeof doc, "retirement_pipeline:\n%s", pipeline);
    char *pipe_file = write_temp_file("pipeline.yml", doc);
    const char *args[] = {"--pipeline-config", pipe_file, NULL};
    sim_proc sim2;
    assert_int_equal(sim_start(&sim2, args), 0);
    free(pipe_file);
    char ep_text[2048];
    snprintf(ep_text, sizeof ep_text,
             "[retirement_driver]\nWEBHOOK_CRM = %s/plugins/example/example.so:retirectl_driver_webhook\n",
             RETIRECTL_BUILD_DIR);
    char *ep = write_temp_file("crm.cfg", ep_text);
    chmod(ep, 0644);
    char extra[2048];
    snprintf(extra, sizeof extra,
             "webhook:\n  url: %s/vendor/webhook/first\n"
             "webhook_crm:\n  url: %s/vendor/webhook/second\n  bearer_token: crm-Tok-55\n",
             sim2.base_url, sim2.base_url);
    char *config = sim_write_config(&sim2, pipeline, extra);
    long st = sim_http(&sim2, "POST", "/__sim/learners", NULL, "{\"username\":\"twice\",\"days_ago\":10}", NULL);
    int ok = st >= 200 && st < 300;
    const char *bin = getenv("RETIRECTL_BIN");
    const char *argv[] = {bin && *bin ? bin : RETIRECTL_BIN, "--config", config, "--driver-path", ep, "retire", "twice",
                          NULL};
    const char *envv[] = {"LC_ALL=C.UTF-8", "RETIRECTL_DRIVER_PATH=", NULL};
    cmd_result r;
    int ran = run_command(&r, argv, envv, NULL, 120) == 0;
    char *log = NULL;
    sim_http(&sim2, "GET", "/__sim/requests?path=/vendor/webhook/", NULL, NULL, &log);
    sim_stop(&sim2);
    assert_true(ok);
    assert_true(ran);
    if (r.status != 0) fail_msg("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cJSON *reqs = cJSON_Parse(log);
    assert_int_equal(cJSON_GetArraySize(reqs), 2);
    assert_non_null(strstr(str_or(cJSON_GetArrayItem(reqs, 0), "path"), "/vendor/webhook/first"));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(reqs, 0), "authorization")));
    assert_non_null(strstr(str_or(cJSON_GetArrayItem(reqs, 1), "path"), "/vendor/webhook/second"));
    assert_string_equal(str_or(cJSON_GetArrayItem(reqs, 1), "authorization"), "Bearer crm-Tok-55");
    cJSON_Delete(reqs);
    free(log);
    cmd_result_free(&r);
    free(config);
    free(ep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_seen_by_sim_with_only_ids),
        cmocka_unit_test(test_mapping_template_and_default_template),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_dry_run_masks_token_and_sends_nothing),
        cmocka_unit_test(test_bad_settings_refused_before_any_change),
        cmocka_unit_test(test_same_plugin_under_a_second_name),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
