/* Unit tests for the history's row frames (engine/history_row.c): what the supervisor sends its
 * history writer. The steps column is the very JSON cJSON prints for hist_steps_json (the readers
 * parse it back), whatever the strings hold; a frame decodes only once it is all there, a
 * damaged one is refused, and two frames in a row come apart. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/history_internal.h"

/* A finished job with awkward strings in its steps and a failure. */
static hist_job *awkward_job(void)
{
    hist_job *j = calloc(1, sizeof *j);
    hist_job_init(j);
    j->lms_user_id = 42;
    hist_set(&j->action, "retire");
    hist_set(&j->command, "retirectl retire --all");
    j->pid = 7;
    j->started_ms = 1764756000000LL;
    j->ended_ms = 1764756001500LL;
    hist_set(&j->outcome, "errored");
    j->exit_status = 252;
    hist_set(&j->message, "quote \" backslash \\ newline \n tab \t bell \x07 utf-8 \xc3\xa9");
    j->fail_step = 1;
    const char *texts[] = {"RETIRING_FORUMS", "a \"quoted\" state", "back\\slash", "line\nbreak\r\n",
                           "ctl \x01\x1f\b\f", "caf\xc3\xa9 \xe2\x9c\x93"};
    for (int i = 0; i < 6; i++) {
        hist_step *s = hist_job_step(j, i);
        hist_set(&s->start_state, texts[i]);
        hist_set(&s->end_state, texts[(i + 1) % 6]);
        if (i != 2) hist_set(&s->driver, "LMS");
        hist_set(&s->method, texts[(i + 3) % 6]);
        hist_set(&s->status, i == 1 ? "failed" : "done");
        s->duration_ms = i == 4 ? -1 : (long long)i * 1000000007LL;
        s->attempts = i == 1 ? 3 : 0;
    }
    return j;
}

static void free_job(hist_job *j)
{
    hist_job_clear(j);
    free(j);
}

static void test_steps_text_is_cjson_text(void **state)
{
    (void)state;
    hist_job *j = awkward_job();
    hist_row *r = hist_row_of(j);
    assert_non_null(r);
    cJSON *a = hist_steps_json(j);
    char *want = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    assert_string_equal(r->v[24], want);
    free(want);
    hist_row_free(r);
    free_job(j);
}

static void test_values_and_nulls(void **state)
{
    (void)state;
    hist_job *j = awkward_job();
    j->stored = 1;
    hist_row *r = hist_row_of(j);
    assert_true(r->id == j->id);
    assert_int_equal(r->stored, 1);
    assert_string_equal(r->v[1], "42");
    assert_null(r->v[2]); /* retirement id unknown */
    assert_string_equal(r->v[3], "retire");
    assert_null(r->v[5]); /* no reason */
    assert_string_equal(r->v[9], "1764756000000");
    assert_string_equal(r->v[10], "1764756001500");
    assert_string_equal(r->v[12], "252");
    assert_string_equal(r->v[15], j->message);
    assert_string_equal(r->v[16], "1");
    assert_null(r->v[20]); /* no HTTP status */
    hist_row_free(r);
    /* a running job: no end, no exit status, no steps */
    hist_job *run = calloc(1, sizeof *run);
    hist_job_init(run);
    run->started_ms = 5;
    r = hist_row_of(run);
    assert_int_equal(r->stored, 0);
    assert_string_equal(r->v[3], "?");
    assert_null(r->v[10]);
    assert_null(r->v[12]);
    assert_null(r->v[24]);
    hist_row_free(r);
    free_job(run);
    free_job(j);
}

static void test_partial_damaged_and_consecutive_frames(void **state)
{
    (void)state;
    hist_job *j = awkward_job();
    strbuf sb = STRBUF_INIT;
    hist_row_encode(j, &sb);
    size_t one = sb.len;
    j->lms_user_id = 43;
    hist_row_encode(j, &sb);
    hist_row *r = NULL;
    for (size_t cut = 0; cut < one; cut++) { /* not all there yet */
        assert_int_equal(hist_row_decode(sb.data, cut, &r), 0);
        assert_null(r);
    }
    assert_int_equal(hist_row_decode(sb.data, sb.len, &r), (long)one);
    assert_string_equal(r->v[1], "42");
    hist_row_free(r);
    assert_int_equal(hist_row_decode(sb.data + one, sb.len - one, &r), (long)(sb.len - one));
    assert_string_equal(r->v[1], "43");
    hist_row_free(r);
    /* a field whose length runs past its frame */
    char *bad = malloc(one);
    memcpy(bad, sb.data, one);
    uint32_t huge = 1u << 30;
    memcpy(bad + 4 + 1, &huge, sizeof huge);
    assert_int_equal(hist_row_decode(bad, one, &r), -1);
    assert_null(r);
    /* a frame shorter than its fields */
    memcpy(bad, sb.data, one);
    uint32_t short_len = 12;
    memcpy(bad, &short_len, sizeof short_len);
    assert_int_equal(hist_row_decode(bad, one, &r), -1);
    /* an empty frame */
    uint32_t zero = 0;
    memcpy(bad, &zero, sizeof zero);
    assert_int_equal(hist_row_decode(bad, one, &r), -1);
    assert_null(r);
    free(bad);
    sb_free(&sb);
    free_job(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_text_is_cjson_text),
        cmocka_unit_test(test_values_and_nulls),
        cmocka_unit_test(test_partial_damaged_and_consecutive_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
