/* Integration tests of `retirectl cleanup` (retirement_archive_and_cleanup.py parity,
 * docs/lms-api.md §9.4, §12.6) against retirectl-sim and a real S3 API: s3rver from build-tools/node_modules
 * (installed by scripts/deps.sh), behind tests/support/s3proxy.js, which records each request's
 * headers (s3rver keeps no server-side-encryption header), checks its SigV4 signature with node's
 * crypto and injects S3 errors on demand. */
#include "test_ops_support.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <curl/curl.h>
#include <zlib.h>

#include "common/strbuf.h"

typedef struct node_proc {
    pid_t pid;
    int port;
} node_proc;

static node_proc S3RVER, PROXY;
static char *S3DIR;       /* s3rver's data folder */
static char PROXY_LOG[1200];

/* Starts `node script args...` with its output in out_file and waits (up to 30 s) for its
 * "... listening on ...:PORT" line. */
static int node_start(node_proc *p, const char *const *argv, const char *out_file)
{
    p->pid = fork();
    if (p->pid == 0) {
        FILE *o = freopen(out_file, "w", stdout);
        (void)o;
        execvp("node", (char *const *)argv);
        _exit(127);
    }
    p->port = 0;
    for (int i = 0; i < 600 && !p->port; i++) {
        FILE *f = fopen(out_file, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            char *colon = strrchr(line, ':');
            if (strstr(line, "listening") && colon && strchr(line, '\n')) p->port = atoi(colon + 1);
        }
        if (f) fclose(f);
        if (!p->port) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (!p->port) fprintf(stderr, "%s did not start (see %s)\n", argv[1], out_file);
    return p->port > 0 ? 0 : -1;
}

static void node_stop(node_proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
    }
    p->pid = 0;
}

static int setup(void **state)
{
    if (ops_setup(state) != 0) return -1;
    char s3rver[1200], proxy[1200], target[64];
    snprintf(s3rver, sizeof s3rver, "%s/build-tools/node_modules/s3rver/bin/s3rver.js", RETIRECTL_SOURCE_DIR);
    if (access(s3rver, R_OK) != 0) {
        fprintf(stderr, "%s is missing: run scripts/deps.sh (it installs the test tools with npm ci)\n", s3rver);
        return -1;
    }
    S3DIR = make_temp_dir();
    const char *a1[] = {"node", s3rver, "-d", S3DIR, "-a", "127.0.0.1", "-p", "0", "--silent",
                        "--configure-bucket", "archive", NULL};
    char out1[1200], out2[1200];
    snprintf(out1, sizeof out1, "%s/s3rver.out", OPS.dir);
    snprintf(out2, sizeof out2, "%s/s3proxy.out", OPS.dir);
    if (node_start(&S3RVER, a1, out1) != 0) return -1;
    snprintf(proxy, sizeof proxy, "%s/tests/support/s3proxy.js", RETIRECTL_SOURCE_DIR);
    snprintf(target, sizeof target, "http://127.0.0.1:%d", S3RVER.port);
    snprintf(PROXY_LOG, sizeof PROXY_LOG, "%s/proxy.jsonl", OPS.dir);
    const char *a2[] = {"node", proxy, "--target", target, "--log", PROXY_LOG, "--secret", "S3RVER", NULL};
    return node_start(&PROXY, a2, out2);
}

static int teardown(void **state)
{
    node_stop(&PROXY);
    node_stop(&S3RVER);
    free(S3DIR);
    return ops_teardown(state);
}

/* Writes the config: the sim, the audit log and an s3_archive block for bucket with these
 * extra (indented) lines. */
/* More lines of the config's http section (e.g. "  proxy: \"\"\n"), or "". */
static const char *http_lines = "";

static void use_bucket_config(const char *bucket, const char *s3_lines)
{
    char extra[4096];
    snprintf(extra, sizeof extra,
             "audit_log: %s\n"
             "http:\n"
             "  max_retry_seconds: 1\n"
             "  gateway_timeout_wait_seconds: 0\n"
             "%s"
             "s3_archive:\n"
             "  bucket_name: %s\n"
             "  region: eu-west-1\n"
             "  endpoint_url: http://127.0.0.1:%d\n"
             "  max_retry_seconds: 20\n"
             "%s",
             OPS.audit, http_lines, bucket, PROXY.port, s3_lines ? s3_lines : "");
    free(OPS.config);
    OPS.config = sim_write_config(&OPS.sim, OPS_PIPELINE, extra);
}

static void use_config(const char *s3_lines)
{
    use_bucket_config("archive", s3_lines);
}

#define KEYS "  access_key_id: S3RVER\n  secret_access_key: S3RVER\n"

/* Resets the sim, the proxy's log and injected failures. */
static void reset_all(void)
{
    ops_reset();
    FILE *f = fopen(PROXY_LOG, "w");
    if (f) fclose(f);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/__proxy/fail", PROXY.port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    curl_easy_perform(c);
    curl_easy_cleanup(c);
}

/* Makes the proxy answer the next `count` requests of method with status / S3 error code. */
static void proxy_fail(const char *method, int status, const char *code, int count)
{
    char url[128], body[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/__proxy/fail", PROXY.port);
    snprintf(body, sizeof body, "{\"method\":\"%s\",\"status\":%d,\"code\":\"%s\",\"count\":%d}", method, status, code,
             count);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
}

/* The proxy's log as a JSON array (caller frees). */
static cJSON *proxy_log(void)
{
    cJSON *a = cJSON_CreateArray();
    FILE *f = fopen(PROXY_LOG, "r");
    if (!f) return a;
    static char line[1 << 16];
    while (fgets(line, sizeof line, f)) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        cJSON_AddItemToArray(a, j);
    }
    fclose(f);
    return a;
}

static int count_method(const cJSON *log, const char *method)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, log) n += !strcmp(ops_str(e, "method"), method);
    return n;
}

static const char *header(const cJSON *entry, const char *name)
{
    return ops_str(cJSON_GetObjectItem(entry, "headers"), name);
}

/* Old COMPLETE learners done1..done3 (inside the window), one recent COMPLETE and one old PENDING. */
static void add_learners(void)
{
    ops_add("[{\"username\": \"done1\", \"state\": \"COMPLETE\", \"days_ago\": 60, \"name\": \"Zo\\u00eb One\"},"
            " {\"username\": \"done2\", \"state\": \"COMPLETE\", \"days_ago\": 50},"
            " {\"username\": \"done3\", \"state\": \"COMPLETE\", \"days_ago\": 40},"
            " {\"username\": \"recent\", \"state\": \"COMPLETE\", \"days_ago\": 5},"
            " {\"username\": \"pending_old\", \"state\": \"PENDING\", \"days_ago\": 60}]");
}

static int has_row(const char *username)
{
    cJSON *j = ops_learner(username);
    int r = cJSON_IsTrue(cJSON_GetObjectItem(j, "has_retirement"));
    cJSON_Delete(j);
    return r;
}

static size_t on_data(char *p, size_t s, size_t n, void *user)
{
    strbuf *sb = user;
    sb_addn(sb, p, s * n);
    return s * n;
}

/* GETs an object straight from s3rver (signed by libcurl) and gunzips it (malloc'd text). */
static char *get_object(const char *path)
{
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", S3RVER.port, path);
    strbuf gz = STRBUF_INIT;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:eu-west-1:s3");
    curl_easy_setopt(c, CURLOPT_USERPWD, "S3RVER:S3RVER");
    struct curl_slist *h = curl_slist_append(NULL, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &gz);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (st != 200) fail_msg("GET %s -> %ld %s", url, st, sb_str(&gz));
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = 1 << 20;
    char *out = calloc(cap, 1);
    z.next_in = (Bytef *)gz.data;
    z.avail_in = (uInt)gz.len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap - 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    inflateEnd(&z);
    sb_free(&gz);
    return out;
}

/* The n-th (0-based) successful PUT in the proxy log. */
static const cJSON *nth_put(const cJSON *log, int n)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, log)
    {
        if (strcmp(ops_str(e, "method"), "PUT") || cJSON_GetObjectItem(e, "status")->valueint != 200) continue;
        if (n-- == 0) return e;
    }
    return NULL;
}

static void test_archives_then_deletes_in_batches(void **state)
{
    (void)state;
    reset_all();
    use_config(KEYS "  sse: aws:kms\n  sse_kms_key_id: alias/retirement-archive\n");
    add_learners();
    time_t before = time(NULL);
    cmd_result r = ops_run("cleanup", "--batch-size", "2", "--batch-delay", "0", "--reason", "monthly cleanup");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Archive and cleanup complete for batch #1"));
    assert_non_null(strstr(r.out, "Archive and cleanup complete for batch #2"));

    /* two objects, signed (checked by the proxy), with the encryption headers, key as upstream */
    cJSON *log = proxy_log();
    assert_int_equal(count_method(log, "PUT"), 2);
    for (int i = 0; i < 2; i++) {
        const cJSON *put = nth_put(log, i);
        assert_non_null(put);
        if (!cJSON_IsTrue(cJSON_GetObjectItem(put, "sig_ok"))) fail_msg("%s", ops_str(put, "sig_error"));
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(put, "unsigned")), 0);
        assert_string_equal(ops_str(put, "region"), "eu-west-1");
        assert_string_equal(ops_str(put, "service"), "s3");
        assert_string_equal(header(put, "x-amz-server-side-encryption"), "aws:kms");
        assert_string_equal(header(put, "x-amz-server-side-encryption-aws-kms-key-id"), "alias/retirement-archive");
        assert_non_null(strstr(header(put, "authorization"), "Credential=S3RVER/"));
        /* /archive/raw/YYYY/MM/retirement_archive_%Y_%d_%m_%H_%M_%S.json.gz of the upload time (UTC) */
        const char *path = ops_str(put, "path");
        int found = 0;
        for (time_t t = before; t <= time(NULL) + 1 && !found; t++) {
            struct tm tm;
            gmtime_r(&t, &tm);
            char want[128];
            strftime(want, sizeof want, "/archive/raw/%Y/%m/retirement_archive_%Y_%d_%m_%H_%M_%S.json.gz", &tm);
            found = !strcmp(path, want);
        }
        if (!found) fail_msg("unexpected object path %s", path);
    }
    assert_int_equal(count_method(log, "HEAD"), 2); /* each upload confirmed */

    /* content: gzip'd JSON lines with upstream's fields, in the LMS's order */
    char *first = get_object(ops_str(nth_put(log, 0), "path"));
    char *second = get_object(ops_str(nth_put(log, 1), "path"));
    assert_non_null(strstr(first, "\"original_username\": \"done1\""));
    assert_non_null(strstr(first, "\"original_username\": \"done2\""));
    assert_non_null(strstr(second, "\"original_username\": \"done3\""));
    assert_non_null(strstr(first, "\"original_name\": \"Zo\\u00eb One\""));
    char *nl = strchr(first, '\n');
    assert_non_null(nl);
    *nl = '\0';
    cJSON *rec = cJSON_Parse(first);
    assert_non_null(rec);
    const char *keys[] = {"user_id", "original_username", "original_email", "original_name", "retired_username",
                          "retired_email", "retirement_request_date", "last_modified_date"};
    const cJSON *it = rec->child;
    for (int k = 0; k < 8; k++, it = it->next) {
        assert_non_null(it);
        assert_string_equal(it->string, keys[k]);
    }
    assert_null(it);
    const char *date = ops_str(rec, "retirement_request_date");
    assert_int_equal(strlen(date), 26); /* "YYYY-MM-DD HH:MM:SS.ffffff": T made a space, no Z */
    assert_int_equal(date[10], ' ');
    cJSON *d1 = ops_learner("done1");
    assert_int_equal(cJSON_GetObjectItem(rec, "user_id")->valueint,
                     cJSON_GetObjectItem(cJSON_GetObjectItem(d1, "user"), "id")->valueint);
    cJSON_Delete(d1);
    cJSON_Delete(rec);
    free(first);
    free(second);
    cJSON_Delete(log);

    /* the LMS: one cleanup per batch, the old COMPLETE rows gone, the others kept */
    cJSON *reqs = ops_requests();
    assert_int_equal(ops_count(reqs, "POST", "retirement_cleanup", NULL), 2);
    assert_int_equal(ops_count(reqs, "POST", "retirement_cleanup", "{\"usernames\": [\"done1\", \"done2\"]}"), 1);
    assert_int_equal(ops_count(reqs, "POST", "retirement_cleanup", "{\"usernames\": [\"done3\"]}"), 1);
    assert_int_equal(ops_count(reqs, "GET", "retirements_by_status_and_date", NULL), 1);
    cJSON_Delete(reqs);
    assert_false(has_row("done1"));
    assert_false(has_row("done2"));
    assert_false(has_row("done3"));
    assert_true(has_row("recent"));
    assert_true(has_row("pending_old"));

    /* audit: start, one line per batch with counts and the object, end; never a name or email */
    char *raw = NULL;
    cJSON *audit = ops_audit_lines(&raw);
    assert_int_equal(cJSON_GetArraySize(audit), 4);
    for (int i = 1; i <= 2; i++) {
        cJSON *item = cJSON_GetArrayItem(audit, i);
        assert_string_equal(ops_str(item, "phase"), "item");
        assert_string_equal(ops_str(item, "outcome"), "deleted");
        assert_non_null(strstr(ops_str(item, "detail"), "s3://archive/raw/"));
        assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(item, "counts"), "deleted")->valueint, i == 1 ? 2 : 1);
    }
    cJSON *end = cJSON_GetArrayItem(audit, 3);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(end, "counts"), "deleted")->valueint, 3);
    assert_null(strstr(raw, "done1"));
    assert_null(strstr(raw, "example.invalid"));
    assert_null(strstr(raw, "Zo"));
    free(raw);
    cJSON_Delete(audit);
    cmd_result_free(&r);
}

static void test_refused_upload_deletes_nothing(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    /* a bucket that does not exist: s3rver answers 404 NoSuchBucket */
    use_bucket_config("nothere", KEYS);
    cmd_result r = ops_run("cleanup", "--batch-delay", "0");
    if (r.status != 252) ops_show(&r);
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.err, "Unexpected error occurred archiving retirements!"));
    assert_non_null(strstr(r.err, "NoSuchBucket"));
    assert_non_null(strstr(r.err, "s3://nothere/raw/"));
    cmd_result_free(&r);

    /* credentials the store refuses (403, not retried) */
    use_config("  access_key_id: NOT-A-KEY\n  secret_access_key: S3RVER\n");
    r = ops_run("cleanup", "--batch-delay", "0");
    if (r.status != 252) ops_show(&r);
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.err, "InvalidAccessKeyId"));
    cJSON *log = proxy_log();
    assert_int_equal(count_method(log, "PUT"), 2); /* one per run: a 4xx is final */
    cJSON_Delete(log);
    cmd_result_free(&r);

    /* the store keeps failing with 503 until the retry budget is spent */
    use_config(KEYS "  max_retry_seconds: 1\n");
    proxy_fail("PUT", 503, "SlowDown", 1000);
    r = ops_run("cleanup", "--batch-delay", "0");
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.out, "Backing off"));
    cmd_result_free(&r);

    /* nothing was deleted: no cleanup call, every row still there */
    cJSON *reqs = ops_requests();
    assert_int_equal(ops_count(reqs, "POST", "retirement_cleanup", NULL), 0);
    cJSON_Delete(reqs);
    const char *all[] = {"done1", "done2", "done3", "recent", "pending_old"};
    for (int i = 0; i < 5; i++) assert_true(has_row(all[i]));
    char *raw = NULL;
    cJSON *audit = ops_audit_lines(&raw);
    assert_non_null(strstr(raw, "\"outcome\":\"upload failed\""));
    cJSON_Delete(audit);
    free(raw);
}

static void test_retries_throttling_then_succeeds(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    use_config(KEYS "  sse: AES256\n");
    proxy_fail("PUT", 503, "SlowDown", 1);
    proxy_fail("PUT", 500, "InternalError", 1);
    cmd_result r = ops_run("cleanup", "--batch-delay", "0");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Backing off"));
    assert_non_null(strstr(r.out, "SlowDown"));
    cJSON *log = proxy_log();
    assert_int_equal(count_method(log, "PUT"), 3);
    const cJSON *put = nth_put(log, 0);
    assert_string_equal(header(put, "x-amz-server-side-encryption"), "AES256");
    assert_string_equal(header(put, "x-amz-server-side-encryption-aws-kms-key-id"), "");
    cJSON_Delete(log);
    assert_false(has_row("done3"));
    cmd_result_free(&r);
}

static void test_dry_run_sends_nothing(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    use_config(NULL); /* no credentials needed for a dry run */
    cmd_result r = ops_run("cleanup", "--dry_run", "True");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Dry run. Skipping the step to upload data to raw/"));
    assert_non_null(strstr(r.out, "This is a dry-run. Exiting before any retirements are cleaned up"));
    assert_non_null(strstr(r.out, "\"original_username\": \"done2\""));
    cJSON *log = proxy_log();
    assert_int_equal(cJSON_GetArraySize(log), 0);
    cJSON_Delete(log);
    cJSON *reqs = ops_requests();
    assert_int_equal(ops_count(reqs, "POST", "retirement_cleanup", NULL), 0);
    cJSON_Delete(reqs);
    assert_true(has_row("done1"));
    cmd_result_free(&r);
}

static void test_field_modes(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    use_config(KEYS "  fields: hashed\n  hash_secret: correct-horse-battery-staple\n");
    cmd_result h = ops_run("cleanup", "--hash", "done1@example.invalid");
    assert_int_equal(h.status, 0);
    h.out[strcspn(h.out, "\n")] = '\0';
    assert_int_equal(strlen(h.out), 64);
    cmd_result r = ops_run("cleanup", "--batch-delay", "0");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    cJSON *log = proxy_log();
    assert_int_equal(count_method(log, "PUT"), 1);
    char *text = get_object(ops_str(nth_put(log, 0), "path"));
    assert_null(strstr(text, "example.invalid"));
    assert_null(strstr(text, "\"done1\""));
    assert_non_null(strstr(text, h.out)); /* the known address can still be confirmed */
    assert_non_null(strstr(text, "\"retired_username\": \"retired__user_"));
    free(text);
    cJSON_Delete(log);
    cmd_result_free(&r);
    cmd_result_free(&h);

    reset_all();
    add_learners();
    use_config(KEYS "  fields: ids\n");
    r = ops_run("cleanup", "--batch-delay", "0");
    assert_int_equal(r.status, 0);
    log = proxy_log();
    text = get_object(ops_str(nth_put(log, 0), "path"));
    char *nl = strchr(text, '\n');
    *nl = '\0';
    cJSON *rec = cJSON_Parse(text);
    assert_int_equal(cJSON_GetArraySize(rec), 3);
    assert_non_null(cJSON_GetObjectItem(rec, "user_id"));
    assert_non_null(cJSON_GetObjectItem(rec, "retirement_request_date"));
    assert_non_null(cJSON_GetObjectItem(rec, "last_modified_date"));
    cJSON_Delete(rec);
    free(text);
    cJSON_Delete(log);
    cmd_result_free(&r);
}

static void test_rerun_after_failed_cleanup(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    use_config(KEYS);
    ops_fault("{\"endpoint\": \"retirement_cleanup\", \"status\": 500}");
    cmd_result r = ops_run("cleanup", "--batch-delay", "0");
    assert_int_equal(r.status, 251);
    assert_non_null(strstr(r.err, "Unexpected error occurred deleting retirements!"));
    assert_non_null(strstr(r.err, "is archived in s3://archive/raw/"));
    cmd_result_free(&r);
    assert_true(has_row("done1")); /* archived, not deleted */
    sim_http(&OPS.sim, "DELETE", "/__sim/faults", NULL, NULL, NULL);
    r = ops_run("cleanup", "--batch-delay", "0");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    assert_false(has_row("done1"));
    assert_false(has_row("done3"));
    assert_true(has_row("recent"));
    cJSON *log = proxy_log();
    assert_int_equal(count_method(log, "PUT"), 2); /* archived again by the rerun: nothing lost */
    cJSON_Delete(log);
}

/* Another run (or an answer lost after the LMS deleted) removes rows of a batch before its
 * cleanup call: only the rows still there are deleted, and the run succeeds. */
static void test_rows_deleted_meanwhile_are_not_deleted_twice(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    use_config(KEYS);
    pid_t helper = fork();
    if (helper == 0) {
        /* wait for batch 1's cleanup, then delete done3 (batch 2) behind the command's back */
        for (int i = 0; i < 200; i++) {
            char *body = NULL;
            sim_http(&OPS.sim, "GET", "/__sim/requests", NULL, NULL, &body);
            int seen = body && strstr(body, "retirement_cleanup");
            free(body);
            if (seen) {
                char *tok = sim_token(&OPS.sim);
                sim_http(&OPS.sim, "POST", "/api/user/v1/accounts/retirement_cleanup/", tok,
                         "{\"usernames\": [\"done3\"]}", NULL);
                free(tok);
                _exit(0);
            }
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        _exit(1);
    }
    cmd_result r = ops_run("cleanup", "--batch-size", "2", "--batch-delay", "3");
    int hs = 0;
    waitpid(helper, &hs, 0);
    assert_int_equal(WEXITSTATUS(hs), 0);
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "1 of the 1 learners of this batch were already deleted"));
    cJSON *reqs = ops_requests();
    /* batch 1, the helper's, batch 2's refused attempt; no call for an empty remainder */
    assert_int_equal(ops_count(reqs, "POST", "retirement_cleanup", NULL), 3);
    cJSON_Delete(reqs);
    char *raw = NULL;
    cJSON *audit = ops_audit_lines(&raw);
    cJSON *item2 = cJSON_GetArrayItem(audit, 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(item2, "counts"), "deleted")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(item2, "counts"), "archived")->valueint, 1);
    cJSON_Delete(audit);
    free(raw);
    cmd_result_free(&r);
}

/* The LMS deletes a batch but its answer is lost (the connection drops): the retried call is
 * refused ("Not all usernames ..."), and cleanup finds the rows gone instead of failing or
 * deleting anything else. */
static void test_lost_cleanup_answer(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    use_config(KEYS);
    ops_fault("{\"endpoint\": \"retirement_cleanup\", \"after\": true, \"drop\": true, \"times\": 1}");
    cmd_result r = ops_run("cleanup", "--batch-delay", "0");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "3 of the 3 learners of this batch were already deleted"));
    cJSON *reqs = ops_requests();
    assert_int_equal(ops_count(reqs, "POST", "retirement_cleanup", NULL), 2); /* the lost one, the refused retry */
    assert_int_equal(ops_count(reqs, "GET", "retirements_by_status_and_date", NULL), 2);
    cJSON_Delete(reqs);
    assert_false(has_row("done1"));
    assert_true(has_row("recent"));
    assert_true(has_row("pending_old"));
    cmd_result_free(&r);
}

static void test_dates_and_config_errors(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    use_config(KEYS);
    char recent[16];
    time_t t = time(NULL) - 10 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(recent, sizeof recent, "%Y-%m-%d", &tm);
    cmd_result r = ops_run("cleanup", "--end-date", recent);
    assert_int_equal(r.status, 250);
    assert_non_null(strstr(r.err, "End date cannot occur within the cool_off_days period"));
    cmd_result_free(&r);
    r = ops_run("cleanup", "--cool-off-days", "5", "--end-date", recent, "--start-date", recent);
    assert_int_equal(r.status, 250);
    assert_non_null(strstr(r.err, "Conflicting start and end dates passed on CLI"));
    cmd_result_free(&r);
    r = ops_run("cleanup", "--start-date", "2018-14-01");
    assert_int_equal(r.status, 2);
    cmd_result_free(&r);
    cJSON *reqs = ops_requests();
    assert_int_equal(cJSON_GetArraySize(reqs), 0); /* refused before any request */
    cJSON_Delete(reqs);

    /* the window the LMS is asked for: 2018-01-01 .. today minus the cool-off */
    r = ops_run("cleanup", "--cool-off-days", "55", "--batch-delay", "0");
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    assert_false(has_row("done1"));
    assert_true(has_row("done2")); /* 50 days old: inside the 55-day cool-off */
    reqs = ops_requests();
    t = time(NULL) - 55 * 86400;
    gmtime_r(&t, &tm);
    char q[96];
    strftime(q, sizeof q, "start_date=2018-01-01&end_date=%Y-%m-%d&state=COMPLETE", &tm);
    assert_int_equal(ops_count(reqs, "GET", "retirements_by_status_and_date", NULL), 1);
    const cJSON *e;
    cJSON_ArrayForEach(e, reqs)
    {
        if (strstr(ops_str(e, "path"), "retirements_by_status_and_date"))
            assert_non_null(strstr(ops_str(e, "query"), q));
    }
    cJSON_Delete(reqs);

    /* s3_archive problems are bad config (254), named with file and line */
    use_config("  fields: hashed\n");
    r = ops_run("cleanup");
    assert_int_equal(r.status, 254);
    assert_non_null(strstr(r.err, "s3_archive.hash_secret"));
    cmd_result_free(&r);
    use_config("  sse: rot13\n");
    r = ops_run("cleanup");
    assert_int_equal(r.status, 254);
    assert_non_null(strstr(r.err, "s3_archive.sse"));
    assert_non_null(strstr(r.err, OPS.config));
    cmd_result_free(&r);
    r = ops_run("check-config"); /* check-config says the same before any run */
    assert_int_equal(r.status, 249);
    assert_non_null(strstr(r.out, "FAIL  archive (s3_archive, for cleanup)"));
    assert_non_null(strstr(r.out, "s3_archive.sse is \"rot13\""));
    cmd_result_free(&r);
    use_config(KEYS "  sse: aws:kms\n");
    r = ops_run("check-config");
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "ok    archive (s3_archive, for cleanup)"));
    assert_non_null(strstr(r.out, "/archive/raw/, fields full, encryption aws:kms"));
    assert_null(strstr(r.out, "S3RVER")); /* the secret (here also the key id) is never printed */
    cmd_result_free(&r);
    /* no credentials anywhere */
    const char *env[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", NULL};
    use_config(NULL);
    r = ops_run_env(env, NULL, "cleanup", (const char *)NULL);
    assert_int_equal(r.status, 254);
    assert_non_null(strstr(r.err, "AWS_ACCESS_KEY_ID"));
    cmd_result_free(&r);
}

static void test_credentials_from_environment(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    use_config(NULL);
    const char *env[] = {"AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER",
                         "AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLEtoken", NULL};
    cmd_result r = ops_run_env(env, NULL, "cleanup", "--batch-delay", "0", (const char *)NULL);
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, "FwoGZXIvYXdzEXAMPLEtoken"));
    cJSON *log = proxy_log();
    const cJSON *put = nth_put(log, 0);
    assert_non_null(put);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(put, "sig_ok")));
    assert_string_equal(header(put, "x-amz-security-token"), "FwoGZXIvYXdzEXAMPLEtoken");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(put, "unsigned")), 0);
    cJSON_Delete(log);
    cmd_result_free(&r);
}

/* The archive upload follows http.proxy as every other request does: `proxy: ""` means no proxy
 * whatever the environment says (docs/configuration.md). Before, the S3 client left the choice to
 * libcurl, which took http_proxy from the environment and the upload failed on the dead proxy. */
static void test_upload_follows_http_proxy_setting(void **state)
{
    (void)state;
    reset_all();
    add_learners();
    http_lines = "  proxy: \"\"\n";
    use_config(KEYS);
    http_lines = "";
    const char *env[] = {"http_proxy=http://127.0.0.1:9", "all_proxy=http://127.0.0.1:9", NULL};
    cmd_result r = ops_run_env(env, NULL, "cleanup", "--batch-delay", "0", (const char *)NULL);
    if (r.status != 0) ops_show(&r);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    cJSON *log = proxy_log();
    assert_non_null(nth_put(log, 0)); /* the archive reached the S3 endpoint directly */
    cJSON_Delete(log);
    assert_false(has_row("done1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_archives_then_deletes_in_batches),
        cmocka_unit_test(test_refused_upload_deletes_nothing),
        cmocka_unit_test(test_retries_throttling_then_succeeds),
        cmocka_unit_test(test_dry_run_sends_nothing),
        cmocka_unit_test(test_field_modes),
        cmocka_unit_test(test_rerun_after_failed_cleanup),
        cmocka_unit_test(test_rows_deleted_meanwhile_are_not_deleted_twice),
        cmocka_unit_test(test_lost_cleanup_answer),
        cmocka_unit_test(test_dates_and_config_errors),
        cmocka_unit_test(test_credentials_from_environment),
        cmocka_unit_test(test_upload_follows_http_proxy_setting),
    };
    return cmocka_run_group_tests_name("cleanup", tests, setup, teardown);
}
