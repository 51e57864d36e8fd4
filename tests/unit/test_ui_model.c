/* Console model: compact learner store, tabs, filter, protocol escaping, and job records
 * rebuilt from JSON-lines events (docs/events.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "ui/fetch.h"
#include "ui/job.h"
#include "ui/model.h"

static const char *starts[] = {"RETIRING_FORUMS", "RETIRING_LMS"};
static const char *ends[] = {"FORUMS_COMPLETE", "LMS_COMPLETE"};
static const char *drivers[] = {"LMS", "LMS"};
static const char *methods[] = {"retirement_retire_forum", "retirement_lms_retire"};
static const ui_pipeline test_pipe = {starts, ends, drivers, methods, 2};

static void feed(ui_store *s, const char *line)
{
    char *copy = strdup(line);
    assert_int_equal(ui_store_feed_line(s, copy), 0);
    free(copy);
}

static void test_tabs_and_order(void **state)
{
    (void)state;
    ui_store s;
    ui_store_init(&s);
    time_t now = 1800000000;
    char line[256];
    /* id uid created modified state last name */
    snprintf(line, sizeof line, "L\t5\t50\t%ld\t%ld\tPENDING\tPENDING\tready_b", (long)(now - 10 * 86400), (long)now - 5);
    feed(&s, line);
    snprintf(line, sizeof line, "L\t3\t30\t%ld\t%ld\tFORUMS_COMPLETE\tRETIRING_FORUMS\tready_a", (long)(now - 9 * 86400), (long)now - 50);
    feed(&s, line);
    snprintf(line, sizeof line, "L\t7\t70\t%ld\t%ld\tPENDING\tPENDING\tcooling", (long)(now - 2 * 86400), (long)now);
    feed(&s, line);
    snprintf(line, sizeof line, "L\t8\t80\t%ld\t%ld\tERRORED\tRETIRING_LMS\tbroken", (long)(now - 20 * 86400), (long)now);
    feed(&s, line);
    snprintf(line, sizeof line, "L\t9\t90\t%ld\t%ld\tRETIRING_FORUMS\tPENDING\tstuck_one", (long)(now - 20 * 86400), (long)now);
    feed(&s, line);
    snprintf(line, sizeof line, "L\t1\t10\t%ld\t%ld\tCOMPLETE\tLMS_COMPLETE\told_done", (long)(now - 40 * 86400), (long)now - 5 * 86400);
    feed(&s, line);
    snprintf(line, sizeof line, "L\t2\t20\t%ld\t%ld\tCOMPLETE\tLMS_COMPLETE\tnew_done", (long)(now - 40 * 86400), (long)now - 10);
    feed(&s, line);
    feed(&s, "D\t7");
    assert_true(s.complete);
    assert_int_equal(s.n, 7);
    ui_store_classify(&s, &test_pipe, 7, 0, now);
    assert_int_equal(s.total[UI_TAB_READY], 2);
    assert_int_equal(s.total[UI_TAB_PENDING], 1);
    assert_int_equal(s.total[UI_TAB_FAILED], 1);
    assert_int_equal(s.total[UI_TAB_STUCK], 1);
    assert_int_equal(s.total[UI_TAB_COMPLETE], 2);
    /* ready in queue (id) order; complete newest first */
    assert_string_equal(ui_store_name(&s, &s.v[s.rows[UI_TAB_READY][0]]), "ready_a");
    assert_string_equal(ui_store_name(&s, &s.v[s.rows[UI_TAB_READY][1]]), "ready_b");
    assert_string_equal(ui_store_name(&s, &s.v[s.rows[UI_TAB_COMPLETE][0]]), "new_done");
    /* history_days: old completions leave the Complete tab */
    ui_store_classify(&s, &test_pipe, 7, 1, now);
    assert_int_equal(s.total[UI_TAB_COMPLETE], 1);
    assert_string_equal(ui_store_name(&s, &s.v[s.rows[UI_TAB_COMPLETE][0]]), "new_done");
    assert_int_equal(s.total[UI_TAB_READY], 2);
    ui_store_classify(&s, &test_pipe, 7, 0, now);
    /* states are interned: 7 learners, few distinct names */
    assert_true(s.n_states <= 8);
    /* filter is case-insensitive and per tab */
    ui_store_filter(&s, "READY_B");
    assert_int_equal(s.n_rows[UI_TAB_READY], 1);
    assert_int_equal(s.n_rows[UI_TAB_COMPLETE], 0);
    assert_int_equal(s.total[UI_TAB_COMPLETE], 2);
    ui_store_filter(&s, "");
    assert_int_equal(s.n_rows[UI_TAB_COMPLETE], 2);
    /* marks survive a refresh by username */
    ui_store_find(&s, "broken")->marked = 1;
    ui_store s2;
    ui_store_init(&s2);
    ui_store_add(&s2, "broken", "ERRORED", "RETIRING_LMS", 8, 80, 1, 2);
    ui_store_add(&s2, "other", "PENDING", "PENDING", 11, 110, 1, 2);
    ui_store_copy_marks(&s2, &s);
    assert_int_equal(ui_store_marked(&s2), 1);
    assert_true(ui_store_find(&s2, "broken")->marked);
    ui_store_free(&s2);
    ui_store_free(&s);
}

static void test_position(void **state)
{
    (void)state;
    int n, m;
    assert_string_equal(ui_pipe_position(&test_pipe, "PENDING", "PENDING", &n, &m), "pending");
    assert_int_equal(n, 0);
    assert_int_equal(m, 2);
    assert_string_equal(ui_pipe_position(&test_pipe, "FORUMS_COMPLETE", "", &n, &m), "done");
    assert_int_equal(n, 1);
    assert_string_equal(ui_pipe_position(&test_pipe, "RETIRING_LMS", "", &n, &m), "working");
    assert_int_equal(n, 2);
    assert_string_equal(ui_pipe_position(&test_pipe, "ERRORED", "RETIRING_LMS", &n, &m), "failed");
    assert_int_equal(n, 2);
    assert_string_equal(ui_pipe_position(&test_pipe, "COMPLETE", "LMS_COMPLETE", &n, &m), "complete");
    assert_int_equal(n, 2);
    assert_string_equal(ui_pipe_position(&test_pipe, "LOCKING_ACCOUNT", "", &n, &m), "unknown");
}

static void test_protocol_escaping_roundtrip(void **state)
{
    (void)state;
    const char *hostile = "a\tb\nc\\d\x1b[2J";
    char *e = ui_proto_escape(hostile);
    assert_null(strchr(e, '\t'));
    assert_null(strchr(e, '\n'));
    ui_proto_unescape(e);
    assert_string_equal(e, hostile);
    free(e);
    /* a username with a tab and newline survives the L line */
    ui_store s;
    ui_store_init(&s);
    char *name = ui_proto_escape("evil\tname\n\x1b]0;x\x07");
    char line[256];
    snprintf(line, sizeof line, "L\t1\t2\t0\t0\tPENDING\tPENDING\t%s", name);
    free(name);
    feed(&s, line);
    assert_int_equal(s.n, 1);
    assert_string_equal(ui_store_name(&s, &s.v[0]), "evil\tname\n\x1b]0;x\x07");
    char bad[] = "L\tnot enough fields";
    assert_int_equal(ui_store_feed_line(&s, bad), -1);
    ui_store_free(&s);
}

static void test_emit_queue_streams(void **state)
{
    (void)state;
    const char *body =
        "[{\"id\": 46, \"user\": {\"id\": 5213599, \"username\": \"jane\", \"email\": \"x\", \"profile\": {\"id\": 1, \"name\": \"J\"}},"
        " \"current_state\": {\"id\": 41, \"state_name\": \"ERRORED\", \"state_execution_order\": 91},"
        " \"last_state\": {\"id\": 1, \"state_name\": \"RETIRING_LMS\", \"state_execution_order\": 1},"
        " \"created\": \"2018-10-18T20:35:52.349757Z\", \"modified\": \"2018-10-19T00:00:00Z\","
        " \"original_username\": \"jane\\u001b[31m\", \"original_email\": \"o\", \"original_name\": \"n\"},"
        " {\"id\": 47, \"user\": {\"id\": 2, \"username\": \"k\"}, \"current_state\": {\"state_name\": \"PENDING\"},"
        "  \"last_state\": {\"state_name\": \"PENDING\"}, \"created\": \"2018-10-18T00:00:00+00:00\", \"modified\": \"\","
        "  \"original_username\": \"kim\"}]";
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    char err[256];
    assert_int_equal(ui_fetch_emit_queue(body, strlen(body), out, err, sizeof err), 2);
    fclose(out);
    ui_store s;
    ui_store_init(&s);
    char *save = NULL;
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) assert_int_equal(ui_store_feed_line(&s, l), 0);
    assert_int_equal(s.n, 2);
    ui_learner *j = ui_store_find(&s, "jane\x1b[31m");
    assert_non_null(j);
    assert_int_equal(j->retirement_id, 46);
    assert_int_equal(j->user_id, 5213599);
    assert_string_equal(ui_store_state(&s, j->state), "ERRORED");
    assert_string_equal(ui_store_state(&s, j->last_state), "RETIRING_LMS");
    assert_int_equal(j->created, 1539894952);
    assert_non_null(ui_store_find(&s, "kim"));
    ui_store_free(&s);
    free(buf);
    /* truncated body: an error, not a crash */
    out = open_memstream(&buf, &len);
    assert_int_equal(ui_fetch_emit_queue(body, 100, out, err, sizeof err), -1);
    fclose(out);
    free(buf);
    assert_true(strlen(err) > 10);
}

static void test_time_and_age(void **state)
{
    (void)state;
    assert_int_equal(ui_parse_time("1970-01-02T00:00:00Z"), 86400);
    assert_int_equal(ui_parse_time("1970-01-02T01:00:00+01:00"), 86400);
    assert_int_equal(ui_parse_time("garbage"), 0);
    char b[16];
    ui_format_age(59, b, sizeof b);
    assert_string_equal(b, "59s");
    ui_format_age(3 * 86400 + 5, b, sizeof b);
    assert_string_equal(b, "3d");
    ui_format_age(-5, b, sizeof b);
    assert_string_equal(b, "0s");
}

static void test_job_events(void **state)
{
    (void)state;
    ui_job *j = ui_job_new("jane", "retire", "retire");
    const char *stream =
        "{\"event\":\"job\",\"time\":\"t\",\"learner\":\"jane\",\"action\":\"retire\",\"dry_run\":false,"
        "\"current_state\":\"PENDING\",\"steps\":[{\"index\":0,\"start_state\":\"RETIRING_FORUMS\",\"end_state\":"
        "\"FORUMS_COMPLETE\",\"driver\":\"LMS\",\"method\":\"retirement_retire_forum\",\"plan\":\"run\"},"
        "{\"index\":1,\"start_state\":\"RETIRING_LMS\",\"end_state\":\"LMS_COMPLETE\",\"driver\":\"LMS\","
        "\"method\":\"retirement_lms_retire\",\"plan\":\"run\"}]}\n"
        "{\"event\":\"step\",\"learner\":\"jane\",\"index\":0,\"status\":\"running\",\"elapsed_ms\":0}\n"
        "{\"event\":\"step\",\"learner\":\"jane\",\"index\":0,\"status\":\"done\",\"elapsed_ms\":420,\"message\":\"ok\"}\n"
        "{\"event\":\"step\",\"learner\":\"jane\",\"index\":1,\"status\":\"retrying\",\"attempt\":2,\"retry_in_ms\":1500,"
        "\"message\":\"500 from \\u001b[2Jthe LMS\"}\n"
        "{\"event\":\"future_event\",\"x\":1}\n"
        "not json at all\n"
        "{\"event\":\"step\",\"learner\":\"jane\",\"index\":1,\"status\":\"fai";
    /* fed in odd-sized chunks, as a pipe delivers */
    size_t len = strlen(stream);
    for (size_t i = 0; i < len; i += 37) ui_job_feed(j, 0, stream + i, len - i < 37 ? len - i : 37, 1000.0 + i);
    assert_int_equal(j->n_steps, 2);
    assert_int_equal(j->steps[0].status, UI_STEP_DONE);
    assert_int_equal(j->steps[0].elapsed_ms, 420);
    assert_int_equal(j->steps[1].status, UI_STEP_RETRYING);
    assert_int_equal(j->steps[1].attempt, 2);
    assert_int_equal(j->steps[1].retry_in_ms, 1500);
    assert_false(j->finished);
    const char *rest = "led\",\"message\":\"LMS answered 500\"}\n"
                       "{\"event\":\"result\",\"learner\":\"jane\",\"outcome\":\"errored\",\"exit_status\":252,"
                       "\"message\":\"Error in retirement state RETIRING_LMS\",\"final_state\":\"ERRORED\"}\n";
    ui_job_feed(j, 0, rest, strlen(rest), 5000);
    ui_job_feed(j, 1, "warning: on stderr\n", 19, 5001);
    assert_int_equal(j->steps[1].status, UI_STEP_FAILED);
    assert_string_equal(j->steps[1].message, "LMS answered 500");
    assert_true(j->finished);
    assert_string_equal(j->outcome, "errored");
    assert_int_equal(j->exit_status, 252);
    /* the log holds sanitized text only, including the plain line and stderr */
    int saw_plain = 0, saw_stderr = 0;
    for (size_t i = 0; i < j->n_log; i++) {
        const char *l = ui_job_log_line(j, i);
        assert_null(strchr(l, 0x1b));
        saw_plain |= strstr(l, "not json at all") != NULL;
        saw_stderr |= strstr(l, "[stderr] warning: on stderr") != NULL;
    }
    assert_true(saw_plain && saw_stderr);
    ui_job_free(j);
}

/* A NUL byte in a job's output cuts only its own line: the lines after it in the same chunk are
 * still read (before, everything after the NUL up to the end of the chunk was dropped). */
static void test_job_feed_nul_byte(void **state)
{
    (void)state;
    ui_job *j = ui_job_new("kim", "retire", "retire");
    static const char chunk[] = "before\0hidden\nafter one\nafter two\n";
    ui_job_feed(j, 1, chunk, sizeof chunk - 1, 1);
    int saw_before = 0, saw_one = 0, saw_two = 0;
    for (size_t i = 0; i < j->n_log; i++) {
        const char *l = ui_job_log_line(j, i);
        saw_before |= strstr(l, "before") != NULL;
        saw_one |= strstr(l, "after one") != NULL;
        saw_two |= strstr(l, "after two") != NULL;
    }
    assert_true(saw_before);
    assert_true(saw_one);
    assert_true(saw_two);
    ui_job_free(j);
}

static void test_job_preview_and_exit_without_result(void **state)
{
    (void)state;
    ui_job *j = ui_job_new("kim", "plan", "dry-run");
    const char *ev = "{\"event\":\"preview\",\"learner\":\"kim\",\"index\":0,\"driver\":\"LMS\",\"method\":\"m\","
                     "\"plan\":\"run\",\"requests\":[{\"method\":\"POST\",\"url\":\"http://h/retire_forum/\","
                     "\"body\":\"{\\\"username\\\":\\\"kim\\\"}\"}]}\n";
    ui_job_feed(j, 0, ev, strlen(ev), 1);
    assert_int_equal(j->n_steps, 1);
    assert_string_equal(j->steps[0].plan, "run");
    assert_int_equal(j->steps[0].n_requests, 1);
    assert_string_equal(j->steps[0].requests[0], "POST http://h/retire_forum/ {\"username\":\"kim\"}");
    /* killed by a signal before a result: the job still ends, with a reason */
    ui_job_exited(j, 9 /* WTERMSIG 9 */, 2);
    assert_true(j->finished);
    assert_string_equal(j->outcome, "errored");
    assert_non_null(strstr(j->result_message, "signal 9"));
    ui_job_free(j);
    /* the log ring keeps the newest lines */
    j = ui_job_new("x", "retire", NULL);
    for (int i = 0; i < UI_JOB_LOG_MAX + 50; i++) {
        char t[32];
        snprintf(t, sizeof t, "line %d", i);
        ui_job_log(j, "info", t);
    }
    assert_int_equal(j->n_log, UI_JOB_LOG_MAX);
    char newest[32];
    snprintf(newest, sizeof newest, "line %d", UI_JOB_LOG_MAX + 49);
    assert_string_equal(ui_job_log_line(j, j->n_log - 1), newest);
    assert_string_equal(ui_job_log_line(j, 0), "line 50");
    ui_job_free(j);
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tabs_and_order),  cmocka_unit_test(test_position),
        cmocka_unit_test(test_protocol_escaping_roundtrip), cmocka_unit_test(test_emit_queue_streams),
        cmocka_unit_test(test_time_and_age),    cmocka_unit_test(test_job_events),
        cmocka_unit_test(test_job_preview_and_exit_without_result),
        cmocka_unit_test(test_job_feed_nul_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
