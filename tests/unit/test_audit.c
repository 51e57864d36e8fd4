/* Unit tests for audit: file placement and modes, line contents, PII and secret scrubbing,
 * and refusal before an action when the log cannot be written. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/audit.h"
#include "simproc.h"

/* Reads a whole file (malloc'd) or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            buf = realloc(buf, cap);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!buf) buf = calloc(1, 1);
    buf[len] = '\0';
    return buf;
}

/* Parses line number idx (0-based) of a JSON-lines file. */
static cJSON *line_at(const char *text, int idx)
{
    const char *p = text;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p || !*p) return NULL;
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char *copy = strndup(p, len);
    cJSON *j = cJSON_Parse(copy);
    free(copy);
    return j;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        if (*p == '\n') n++;
    return n;
}

static void test_default_path_xdg(void **state)
{
    (void)state;
    char err[512];
    setenv("XDG_STATE_HOME", "/tmp/xdg-state-x", 1);
    char *p = audit_default_path(NULL, err, sizeof err);
    assert_string_equal(p, "/tmp/xdg-state-x/retirectl/audit.jsonl");
    free(p);
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/tmp/home-y", 1);
    p = audit_default_path(NULL, err, sizeof err);
    assert_string_equal(p, "/tmp/home-y/.local/state/retirectl/audit.jsonl");
    free(p);
    /* config key wins, with ~ expanded */
    cfg c;
    memset(&c, 0, sizeof c);
    c.root = cJSON_Parse("{\"audit_log\": \"~/logs/a.jsonl\"}");
    p = audit_default_path(&c, err, sizeof err);
    assert_string_equal(p, "/tmp/home-y/logs/a.jsonl");
    free(p);
    cJSON_Delete(c.root);
    unsetenv("HOME");
    p = audit_default_path(NULL, err, sizeof err);
    assert_null(p);
    assert_non_null(strstr(err, "audit_log"));
}

static void test_creates_private_file_and_writes_lines(void **state)
{
    (void)state;
    char *dir = make_temp_dir();
    char path[1024];
    snprintf(path, sizeof path, "%s/deep/er/audit.jsonl", dir);
    cfg c;
    memset(&c, 0, sizeof c);
    char rootjson[1200];
    snprintf(rootjson, sizeof rootjson, "{\"audit_log\": \"%s\"}", path);
    c.root = cJSON_Parse(rootjson);
    char *secrets[] = {"s3cret-test-value-9f2c"};
    c.secrets = secrets;
    c.n_secrets = 1;

    audit_log *a = NULL;
    char err[512];
    assert_int_equal(audit_open(&c, "alice-ops", &a, err, sizeof err), 0);
    assert_string_equal(audit_path(a), path);
    assert_string_equal(audit_operator(a), "alice-ops");

    struct stat st;
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/deep", dir);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(sub, sizeof sub, "%s/deep/er", dir);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    const char *pii[] = {"Jane_Doe+x", "jane@example.org", "Jane Q. Doe", NULL};
    audit_step steps[] = {{"LMS", "retirement_retire_forum", "done"}, {"BRAZE", "delete_user", "failed"}};
    audit_count counts[] = {{"done", 3}, {"failed", 1}};
    audit_entry e;
    audit_entry_init(&e, "resume");
    e.reason = "ticket 42 for jane_doe+X, mail jane@example.org";
    e.user_id = 5213599;
    e.retirement_id = 46;
    e.from_state = "ERRORED";
    e.to_state = "FORUMS_COMPLETE";
    e.pii = pii;
    assert_int_equal(audit_begin(a, &e, err, sizeof err), 0);
    e.steps = steps;
    e.n_steps = 2;
    e.outcome = "errored";
    e.exit_status = 252;
    e.counts = counts;
    e.n_counts = 2;
    e.detail = "Error in RETIRING_BRAZE for Jane_Doe+x (other@mail.example.com) key s3cret-test-value-9f2c";
    assert_int_equal(audit_end(a, &e, err, sizeof err), 0);
    audit_close(a);

    char *text = slurp(path);
    assert_non_null(text);
    assert_int_equal(count_lines(text), 2);
    /* nothing personal or secret in the file */
    assert_null(strcasestr(text, "jane_doe"));
    assert_null(strstr(text, "jane@example.org"));
    assert_null(strstr(text, "Jane Q. Doe"));
    assert_null(strstr(text, "other@mail.example.com"));
    assert_null(strstr(text, "s3cret-test-value-9f2c"));

    cJSON *l0 = line_at(text, 0);
    cJSON *l1 = line_at(text, 1);
    assert_non_null(l0);
    assert_non_null(l1);
    assert_string_equal(cJSON_GetObjectItem(l0, "phase")->valuestring, "start");
    assert_string_equal(cJSON_GetObjectItem(l0, "action")->valuestring, "resume");
    assert_string_equal(cJSON_GetObjectItem(l0, "operator")->valuestring, "alice-ops");
    assert_int_equal((int)cJSON_GetObjectItem(l0, "user_id")->valuedouble, 5213599);
    assert_int_equal((int)cJSON_GetObjectItem(l0, "retirement_id")->valuedouble, 46);
    assert_string_equal(cJSON_GetObjectItem(l0, "from_state")->valuestring, "ERRORED");
    assert_string_equal(cJSON_GetObjectItem(l0, "to_state")->valuestring, "FORUMS_COMPLETE");
    assert_null(cJSON_GetObjectItem(l0, "exit_status"));
    assert_string_equal(cJSON_GetObjectItem(l0, "reason")->valuestring,
                        "ticket 42 for [redacted], mail [redacted]");
    const char *t = cJSON_GetObjectItem(l0, "time")->valuestring;
    assert_int_equal(strlen(t), 24);
    assert_int_equal(t[23], 'Z');

    assert_string_equal(cJSON_GetObjectItem(l1, "phase")->valuestring, "end");
    assert_string_equal(cJSON_GetObjectItem(l1, "outcome")->valuestring, "errored");
    assert_int_equal(cJSON_GetObjectItem(l1, "exit_status")->valueint, 252);
    cJSON *st_arr = cJSON_GetObjectItem(l1, "steps");
    assert_int_equal(cJSON_GetArraySize(st_arr), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(st_arr, 1), "status")->valuestring, "failed");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(l1, "counts"), "done")->valueint, 3);
    assert_string_equal(cJSON_GetObjectItem(l1, "detail")->valuestring,
                        "Error in RETIRING_BRAZE for [redacted] ([redacted]) key ********");
    cJSON_Delete(l0);
    cJSON_Delete(l1);
    free(text);

    /* append-only: reopening adds, never truncates */
    assert_int_equal(audit_open_path(path, NULL, &a, err, sizeof err), 0);
    assert_non_null(audit_operator(a));
    assert_true(strlen(audit_operator(a)) > 0);
    audit_entry_init(&e, "reset");
    assert_int_equal(audit_begin(a, &e, err, sizeof err), 0);
    e.user_id = 7;
    e.outcome = "updated";
    assert_int_equal(audit_item(a, &e, err, sizeof err), 0);
    audit_close(a);
    text = slurp(path);
    assert_int_equal(count_lines(text), 4);
    cJSON *l3 = line_at(text, 3);
    assert_string_equal(cJSON_GetObjectItem(l3, "phase")->valuestring, "item");
    assert_int_equal(cJSON_GetObjectItem(l3, "user_id")->valueint, 7);
    assert_int_equal(cJSON_GetObjectItem(l3, "exit_status")->valueint, 0);
    cJSON_Delete(l3);
    free(text);
    cJSON_Delete(c.root);
    free(dir);
}

static void test_refuses_shared_file(void **state)
{
    (void)state;
    char *path = write_temp_file("audit.jsonl", "");
    chmod(path, 0644);
    audit_log *a = NULL;
    char err[512];
    assert_int_equal(audit_open_path(path, "op", &a, err, sizeof err), -1);
    assert_null(a);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "chmod 600"));
    free(path);
}

static void test_refuses_unusable_path(void **state)
{
    (void)state;
    /* the parent "directory" is a regular file: cannot be created, even as root */
    char *file = write_temp_file("plainfile", "x");
    char path[1024];
    snprintf(path, sizeof path, "%s/sub/audit.jsonl", file);
    audit_log *a = NULL;
    char err[512];
    assert_int_equal(audit_open_path(path, "op", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, file));
    assert_non_null(strstr(err, "Nothing was done"));
    /* a directory where the file should be */
    char *dir = make_temp_dir();
    assert_int_equal(audit_open_path(dir, "op", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    free(dir);
    free(file);
}

static void test_write_failure_stops_action(void **state)
{
    (void)state;
    char *dir = make_temp_dir();
    char path[1024];
    snprintf(path, sizeof path, "%s/audit.jsonl", dir);
    audit_log *a = NULL;
    char err[512];
    assert_int_equal(audit_open_path(path, "op", &a, err, sizeof err), 0);
    /* make the next write fail: file size limit below the current size + a line */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 0;
    setrlimit(RLIMIT_FSIZE, &lim);
    audit_entry e;
    audit_entry_init(&e, "retire");
    err[0] = '\0';
    int rc = audit_begin(a, &e, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "not started"));
    /* an entry without an action is refused too */
    audit_entry_init(&e, NULL);
    assert_int_equal(audit_begin(a, &e, err, sizeof err), -1);
    audit_close(a);
    free(dir);
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_path_xdg),
        cmocka_unit_test(test_creates_private_file_and_writes_lines),
        cmocka_unit_test(test_refuses_shared_file),
        cmocka_unit_test(test_refuses_unusable_path),
        cmocka_unit_test(test_write_failure_stops_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
