/* Unit tests for reason (engine/reason.h): the server's explanation found in a response body,
 * the learner's personal data and secrets scrubbed before the text is bounded, the request
 * line without host or query, and the ERRORED text with and without lms.errored_text: upstream. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/history.h"
#include "engine/reason.h"

static char *text_of(const char *body)
{
    return reason_server_text(body, strlen(body));
}

static void test_server_text_shapes(void **state)
{
    (void)state;
    struct {
        const char *body, *want;
    } cases[] = {
        {"{\"detail\": \"forum: permission denied\"}", "forum: permission denied"},
        {"{\"developer_message\": \"bad id\", \"user_message\": \"oops\"}", "bad id"},
        {"{\"error\": \"invalid_client\"}", "invalid_client"},
        {"{\"errors\": [{\"code\": 7}]}", "[{\"code\":7}]"},
        {"{\"other\": 1}", "{\"other\":1}"},
        {"\"Injected fault: HTTP 403\"", "Injected fault: HTTP 403"},
        {"  plain\n\n text\tbody ", "plain text body"},
        {"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>",
         "502 Bad Gateway 502"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = text_of(cases[i].body);
        assert_non_null(t);
        assert_string_equal(t, cases[i].want);
        free(t);
    }
    assert_null(reason_server_text("", 0));
    assert_null(reason_server_text(NULL, 5));
}

/* A learner record as GET retirement_status returns it. */
static cJSON *learner(void)
{
    return cJSON_Parse("{\"id\": 6, \"user\": {\"id\": 17, \"username\": \"Kim.Fail\", \"email\": \"kim@example.org\","
                       " \"profile\": {\"name\": \"Kim Ffail\"}}, \"original_username\": \"kim.fail\","
                       " \"original_email\": \"kim@example.org\", \"original_name\": \"Kim Ffail\"}");
}

static void test_scrub_personal_data(void **state)
{
    (void)state;
    cJSON *l = learner();
    char *s = reason_scrub(NULL, l, "kim.fail",
                           "user KIM.FAIL (Kim Ffail, kim@example.org, other@x.example.com) at /u/kim.fail%40x/", 0);
    assert_null(strstr(s, "kim"));
    assert_null(strstr(s, "KIM"));
    assert_null(strstr(s, "Ffail"));
    assert_null(strstr(s, "@x.example.com"));
    assert_non_null(strstr(s, "[redacted]"));
    free(s);
    /* percent-encoded username in a path */
    s = reason_scrub(NULL, NULL, "a b@c", "GET /api/a%20b%40c/status", 0);
    assert_string_equal(s, "GET /api/[redacted]/status");
    free(s);
    cJSON_Delete(l);
}

static void test_scrub_secrets_and_bound(void **state)
{
    (void)state;
    cfg *c = NULL;
    char err[512];
    assert_int_equal(cfg_load_string("client_id: x\nclient_secret: Sup3rSecretVal\n", "t.yml", &c, err, sizeof err), 0);
    char *s = reason_scrub(c, NULL, NULL, "token Sup3rSecretVal leaked", 0);
    assert_string_equal(s, "token ******** leaked");
    free(s);
    /* bounded after scrubbing, at a character boundary: "é" is 2 bytes */
    char big[HIST_SERVER_TEXT_MAX * 2];
    size_t n = 0;
    big[n++] = 'x';
    while (n + 2 < sizeof big) {
        big[n++] = (char)0xC3;
        big[n++] = (char)0xA9;
    }
    big[n] = '\0';
    s = reason_scrub(c, NULL, NULL, big, HIST_SERVER_TEXT_MAX);
    size_t len = strlen(s);
    assert_true(len <= HIST_SERVER_TEXT_MAX);
    assert_true(len >= HIST_SERVER_TEXT_MAX - 1);
    assert_int_equal((unsigned char)s[len - 1], 0xA9); /* never half a character */
    free(s);
    /* a secret straddling the bound is scrubbed first, never cut into a visible prefix */
    char *pad = malloc(HIST_SERVER_TEXT_MAX + 64);
    memset(pad, 'a', HIST_SERVER_TEXT_MAX - 5);
    strcpy(pad + HIST_SERVER_TEXT_MAX - 5, "Sup3rSecretVal");
    s = reason_scrub(c, NULL, NULL, pad, HIST_SERVER_TEXT_MAX);
    assert_null(strstr(s, "Sup3r"));
    free(s);
    free(pad);
    cfg_free(c);
}

static void test_request_and_failure_object(void **state)
{
    (void)state;
    cJSON *l = learner();
    char *r = reason_request(NULL, l, "kim.fail", "GET",
                             "https://lms.example.com:8443/api/user/v1/accounts/kim.fail/retirement_status/?x=kim.fail");
    assert_string_equal(r, "GET /api/user/v1/accounts/[redacted]/retirement_status/");
    free(r);
    const char *body = "{\"detail\": \"forum: permission denied for kim.fail\"}";
    cJSON *f = reason_failure(NULL, l, "kim.fail", "POST", "http://h/api/discussion/v1/accounts/retire_forum/", 403,
                              body, strlen(body), NULL, 3);
    char *js = cJSON_PrintUnformatted(f);
    assert_string_equal(js, "{\"request\":\"POST /api/discussion/v1/accounts/retire_forum/\",\"http_status\":403,"
                            "\"server_text\":\"forum: permission denied for [redacted]\",\"attempts\":3}");
    free(js);
    cJSON_Delete(f);
    f = reason_failure(NULL, l, "kim.fail", "POST", "http://h/x/", 0, NULL, 0, "Connection refused", 6);
    js = cJSON_PrintUnformatted(f);
    assert_string_equal(js, "{\"request\":\"POST /x/\",\"transport_error\":\"Connection refused\",\"attempts\":6}");
    free(js);
    cJSON_Delete(f);
    cJSON_Delete(l);
}

static void test_errored_text_modes(void **state)
{
    (void)state;
    cJSON *f = cJSON_Parse("{\"server_text\": \"forum: permission denied\"}");
    const char *up = "403 Client Error: Forbidden for url: http://h/api/discussion/v1/accounts/retire_forum/";
    char *t = reason_errored_text(NULL, up, f);
    assert_string_equal(t, "403 Client Error: Forbidden for url: http://h/api/discussion/v1/accounts/retire_forum/; "
                           "server said: forum: permission denied");
    free(t);
    cfg *c = NULL;
    char err[512];
    assert_int_equal(cfg_load_string("lms:\n  errored_text: upstream\n", "t.yml", &c, err, sizeof err), 0);
    t = reason_errored_text(c, up, f);
    assert_string_equal(t, up);
    free(t);
    cfg_free(c);
    /* nothing said: upstream's text alone */
    t = reason_errored_text(NULL, up, NULL);
    assert_string_equal(t, up);
    free(t);
    cJSON_Delete(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_text_shapes),
        cmocka_unit_test(test_scrub_personal_data),
        cmocka_unit_test(test_scrub_secrets_and_bound),
        cmocka_unit_test(test_request_and_failure_object),
        cmocka_unit_test(test_errored_text_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
