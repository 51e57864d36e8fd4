/* ev: event lines (header fields first, secrets scrubbed) and parsing them back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/ev.h"

static void test_format_and_parse(void **state)
{
    (void)state;
    cJSON *o = ev_step_object(2, "RETIRING_LMS", "LMS_COMPLETE", "LMS", "retirement_lms_retire");
    cJSON_AddStringToObject(o, "status", "done");
    cJSON_AddNumberToObject(o, "elapsed_ms", 40);
    cJSON_AddStringToObject(o, "message", "Ending: LMS_COMPLETE with response:\n<Response [204]>");
    char *line = ev_format(NULL, "step", "jane doe", o);
    assert_non_null(line);
    assert_int_equal(line[strlen(line) - 1], '\n');
    assert_memory_equal(line, "{\"event\":\"step\",\"time\":\"", 24);
    ev_event e;
    assert_int_equal(ev_parse(line, &e), 0);
    assert_int_equal(e.kind, EV_STEP);
    assert_string_equal(e.learner, "jane doe");
    assert_int_equal(e.index, 2);
    assert_string_equal(e.status, "done");
    assert_int_equal(e.elapsed_ms, 40);
    assert_string_equal(e.driver, "LMS");
    assert_non_null(strstr(e.message, "<Response [204]>"));
    assert_int_equal(e.exit_status, -1);
    assert_int_equal(strlen(e.time), 24);
    ev_event_free(&e);
    free(line);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    ev_event e;
    assert_int_equal(ev_parse("not json", &e), -1);
    assert_int_equal(ev_parse("[1]", &e), -1);
    assert_int_equal(ev_parse("{\"x\": 1}", &e), -1);
    assert_int_equal(ev_parse("{\"event\": \"future_kind\", \"new\": 1}", &e), 0);
    assert_int_equal(e.kind, EV_UNKNOWN);
    ev_event_free(&e);
}

static void test_secrets_scrubbed(void **state)
{
    (void)state;
    cfg *c = NULL;
    char err[512];
    int rc = cfg_load_string("client_id: a\nclient_secret: hunter2-very-secret\nbase_urls:\n  lms: http://x/\n"
                             "retirement_pipeline: []\n",
                             "t.yml", &c, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    int p[2];
    assert_int_equal(pipe(p), 0);
    ev_writer w;
    ev_writer_init(&w, p[1], c, "jane");
    ev_emit_log(&w, "error", "token request with hunter2-very-secret failed");
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "requests");
    cJSON_AddItemToArray(arr, cJSON_CreateString("body=hunter2-very-secret"));
    ev_emit(&w, "preview", o);
    ev_emit_result(&w, "errored", 252, "hunter2-very-secret", "ERRORED");
    ev_writer_done(&w);
    close(p[1]);
    char buf[8192];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_null(strstr(buf, "hunter2-very-secret"));
    assert_non_null(strstr(buf, "\"event\":\"log\""));
    assert_non_null(strstr(buf, "\"event\":\"result\""));
    assert_non_null(strstr(buf, "\"exit_status\":252"));
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_parse),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_secrets_scrubbed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
