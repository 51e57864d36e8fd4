/* Integration tests of src/engine/http.c against the real retirectl-sim over loopback with the
 * real libcurl: token fetch and its form body, token sharing, 401 refresh, token expiry,
 * the docs/lms-api.md §7.3 retry policy (500/500/OK, 504 once, 504 twice, 400, connection refused),
 * timeouts, cancel, plain-http refusal, and that no secret reaches a log line or error.
 * Waits are shrunk with RETIRECTL_TEST_BACKOFF_SCALE=0.01. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/config.h"
#include "engine/http.h"
#include "simproc.h"

static sim_proc sim;

/* ---- a log collector ---- */
typedef struct logbuf {
    char *text;
    size_t len;
    int retries; /* "Trying again in" lines */
} logbuf;

static void collect(void *user, rd_log_level level, const char *line)
{
    (void)level;
    logbuf *b = user;
    size_t n = strlen(line);
    b->text = realloc(b->text, b->len + n + 2);
    memcpy(b->text + b->len, line, n);
    b->len += n;
    b->text[b->len++] = '\n';
    b->text[b->len] = '\0';
    if (strstr(line, "Trying again in")) b->retries++;
}

typedef struct fixture {
    cfg *c;
    http_client *h;
    logbuf log;
    char *path;
} fixture;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fixture_open(fixture *f, const char *extra_yaml)
{
    memset(f, 0, sizeof *f);
    f->path = sim_write_config(&sim, NULL, extra_yaml);
    char err[1024];
    if (cfg_load(f->path, &f->c, err, sizeof err)) fail_msg("config: %s", err);
    f->h = http_client_new(f->c, err, sizeof err);
    assert_non_null(f->h);
    http_set_log(f->h, collect, &f->log);
}

static void fixture_close(fixture *f)
{
    /* no secret in anything logged */
    if (f->log.text) {
        if (strstr(f->log.text, SIM_CLIENT_SECRET)) fail_msg("client secret in log:\n%s", f->log.text);
    }
    http_client_free(f->h);
    cfg_free(f->c);
    unlink(f->path);
    free(f->path);
    free(f->log.text);
}

static char *url_of(const char *path)
{
    char *u = malloc(strlen(sim.base_url) + strlen(path) + 1);
    sprintf(u, "%s%s", sim.base_url, path);
    return u;
}

static void sim_ok(const char *method, const char *path, const char *body)
{
    char *out = NULL;
    long st = sim_http(&sim, method, path, NULL, body, &out);
    if (st < 200 || st >= 300) fail_msg("sim %s %s -> %ld: %s", method, path, st, out ? out : "");
    free(out);
}

/* Requests the sim logged whose path contains filter. Caller frees. */
static cJSON *sim_requests(const char *filter)
{
    char path[512];
    snprintf(path, sizeof path, "/__sim/requests?path=%s", filter);
    char *out = NULL;
    long st = sim_http(&sim, "GET", path, NULL, NULL, &out);
    assert_int_equal(st, 200);
    cJSON *j = cJSON_Parse(out);
    free(out);
    assert_true(cJSON_IsArray(j));
    return j;
}

static int setup_each(void **state)
{
    (void)state;
    sim_ok("DELETE", "/__sim/faults", NULL);
    sim_ok("DELETE", "/__sim/requests", NULL);
    sim_ok("POST", "/__sim/config", "{\"token_lifetime\": 3600}");
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    setenv("LC_ALL", "C.UTF-8", 1);
    setenv("RETIRECTL_TEST_BACKOFF_SCALE", "0.01", 1);
    /* HubSpot's emulated burst limit answers the second request with a 429 and Retry-After */
    const char *args[] = {"--set", "hubspot_rate_limit=1", "--set", "hubspot_rate_window_seconds=30", NULL};
    if (sim_start(&sim, args)) return -1;
    sim_ok("POST", "/__sim/learners",
           "[{\"username\": \"http_user\", \"state\": \"PENDING\", \"days_ago\": 10}]");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sim_stop(&sim);
    return 0;
}

static rd_http_request get_status_req(const char *url)
{
    rd_http_request r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.url = url;
    r.auth = RD_AUTH_LMS_JWT;
    r.retry = RD_RETRY_UPSTREAM;
    return r;
}

#define STATUS_PATH "/api/user/v1/accounts/http_user/retirement_status/"

static void test_token_fetch_form_body(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char err[512];
    assert_int_equal(http_ensure_token(f.h, err, sizeof err), 0);
    assert_int_equal(http_token_fetches(f.h), 1);
    /* a second ensure does not fetch again */
    assert_int_equal(http_ensure_token(f.h, err, sizeof err), 0);
    assert_int_equal(http_token_fetches(f.h), 1);
    cJSON *log = sim_requests("/oauth2/access_token");
    assert_int_equal(cJSON_GetArraySize(log), 1);
    cJSON *e = cJSON_GetArrayItem(log, 0);
    assert_string_equal(cJSON_GetObjectItem(e, "method")->valuestring, "POST");
    assert_string_equal(cJSON_GetObjectItem(e, "path")->valuestring, "/oauth2/access_token");
    assert_string_equal(cJSON_GetObjectItem(e, "body")->valuestring,
                        "grant_type=client_credentials&client_id=" SIM_CLIENT_ID "&client_secret=" SIM_CLIENT_SECRET
                        "&token_type=jwt");
    assert_non_null(strstr(cJSON_GetObjectItem(e, "content_type")->valuestring, "application/x-www-form-urlencoded"));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "authorization")));
    cJSON_Delete(log);
    fixture_close(&f);
}

static void test_token_url_drops_subpath(void **state)
{
    (void)state;
    /* base_urls.lms with a sub-path: the token still goes to /oauth2/access_token */
    char *p = sim_write_config(&sim, NULL, NULL);
    char err[1024];
    cfg *c = NULL;
    assert_int_equal(cfg_load(p, &c, err, sizeof err), 0);
    cJSON *lms = cJSON_GetObjectItem(cJSON_GetObjectItem(c->root, "base_urls"), "lms");
    char sub[128];
    snprintf(sub, sizeof sub, "%s/some/sub/", sim.base_url);
    cJSON_SetValuestring(lms, sub);
    http_client *h = http_client_new(c, err, sizeof err);
    assert_int_equal(http_ensure_token(h, err, sizeof err), 0);
    cJSON *log = sim_requests("/oauth2/access_token");
    assert_int_equal(cJSON_GetArraySize(log), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "path")->valuestring, "/oauth2/access_token");
    cJSON_Delete(log);
    http_client_free(h);
    cfg_free(c);
    unlink(p);
    free(p);
}

static void test_one_token_shared_and_headers(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char *url = url_of(STATUS_PATH);
    for (int i = 0; i < 3; i++) {
        rd_http_request r = get_status_req(url);
        rd_http_response resp;
        assert_int_equal(http_send(f.h, &r, &resp), 0);
        assert_int_equal(resp.status, 200);
        assert_int_equal(resp.attempts, 1);
        assert_non_null(strstr(resp.body, "http_user"));
        http_response_free(&resp);
    }
    assert_int_equal(http_token_fetches(f.h), 1);
    /* token fetch and the three requests rode one keep-alive connection */
    assert_int_equal(http_connections_opened(f.h), 1);
    cJSON *log = sim_requests("retirement_status");
    assert_int_equal(cJSON_GetArraySize(log), 3);
    /* the access token is a credential too: never in a log line */
    const char *tok = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "token")->valuestring;
    assert_true(strlen(tok) > 8);
    assert_non_null(f.log.text);
    assert_null(strstr(f.log.text, tok));
    cJSON *e;
    cJSON_ArrayForEach(e, log) {
        /* Content-type: application/json even on a GET, JWT auth */
        assert_string_equal(cJSON_GetObjectItem(e, "content_type")->valuestring, "application/json");
        assert_non_null(cJSON_GetObjectItem(e, "authorization")->valuestring);
        assert_int_equal(strncmp(cJSON_GetObjectItem(e, "authorization")->valuestring, "JWT ", 4), 0);
    }
    cJSON_Delete(log);
    free(url);
    fixture_close(&f);
}

static void test_401_refreshes_once(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char *url = url_of(STATUS_PATH);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"status\": 401, \"times\": 1}");
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(http_token_fetches(f.h), 2);
    http_response_free(&resp);

    /* a 401 that persists: refreshed once, repeated once, then the 401 stands */
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"status\": 401}");
    r = get_status_req(url);
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 401);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(http_token_fetches(f.h), 3);
    http_response_free(&resp);
    free(url);
    fixture_close(&f);
}

static void test_token_expiry_mid_run(void **state)
{
    (void)state;
    sim_ok("POST", "/__sim/config", "{\"token_lifetime\": 1}");
    fixture f;
    fixture_open(&f, NULL);
    char *url = url_of(STATUS_PATH);
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 200);
    http_response_free(&resp);
    usleep(1300 * 1000);
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 1); /* refreshed before sending: no 401 round trip */
    http_response_free(&resp);
    assert_int_equal(http_token_fetches(f.h), 2);
    cJSON *log = sim_requests("retirement_status");
    cJSON *e;
    cJSON_ArrayForEach(e, log) assert_int_equal((int)cJSON_GetObjectItem(e, "status")->valuedouble, 200);
    cJSON_Delete(log);
    free(url);
    fixture_close(&f);
}

static void test_500_500_then_ok(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char *url = url_of(STATUS_PATH);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"actions\": [500, 500, \"pass\"]}");
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 3);
    assert_int_equal(f.log.retries, 2);
    assert_non_null(strstr(f.log.text, "after 1 tries calling GET"));
    assert_non_null(strstr(f.log.text, "after 2 tries calling GET"));
    http_response_free(&resp);
    cJSON *log = sim_requests("retirement_status");
    assert_int_equal(cJSON_GetArraySize(log), 3);
    cJSON_Delete(log);
    free(url);
    fixture_close(&f);
}

static void test_retry_none_does_not_retry(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char *url = url_of(STATUS_PATH);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"status\": 500, \"times\": 1}");
    rd_http_request r = get_status_req(url);
    r.retry = RD_RETRY_NONE;
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 500);
    assert_int_equal(resp.attempts, 1);
    http_response_free(&resp);
    free(url);
    fixture_close(&f);
}

static void test_504_once_then_ok_and_twice_error(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, "http:\n  gateway_timeout_wait_seconds: 2\n");
    char *url = url_of(STATUS_PATH);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"actions\": [504, \"pass\"]}");
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    http_response_free(&resp);

    sim_ok("DELETE", "/__sim/faults", NULL);
    sim_ok("DELETE", "/__sim/requests", NULL);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"actions\": [504, 504, \"pass\"]}");
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 504);
    assert_int_equal(resp.attempts, 2);
    http_response_free(&resp);
    cJSON *log = sim_requests("retirement_status");
    assert_int_equal(cJSON_GetArraySize(log), 2);
    cJSON_Delete(log);
    free(url);
    fixture_close(&f);
}

static void test_400_not_retried(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char *url = url_of(STATUS_PATH);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"status\": 400}");
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 400);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(f.log.retries, 0);
    http_response_free(&resp);
    free(url);
    fixture_close(&f);
}

static void test_budget_caps_5xx_retries(void **state)
{
    (void)state;
    /* with the backoff scale 0.01 and a 0.3 s budget, a server that always answers 503 is retried
     * until the budget is spent, then the 503 is returned */
    fixture f;
    fixture_open(&f, "http:\n  max_retry_seconds: 0.3\n");
    char *url = url_of(STATUS_PATH);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"status\": 503}");
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    double t0 = now_s();
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    double took = now_s() - t0;
    assert_int_equal(resp.status, 503);
    assert_true(resp.attempts >= 2);
    assert_true(took >= 0.25 && took < 3.0);
    http_response_free(&resp);
    free(url);
    fixture_close(&f);
}

/* A loopback port with nothing listening. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_connection_refused_retried_then_error(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, "http:\n  max_retry_seconds: 2\n");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/x/", closed_port());
    rd_http_request r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.url = url;
    r.body = "{\"username\": \"x\"}";
    r.retry = RD_RETRY_UPSTREAM;
    rd_http_response resp;
    double t0 = now_s();
    assert_int_equal(http_send(f.h, &r, &resp), -1);
    double took = now_s() - t0;
    assert_int_equal(resp.status, 0);
    assert_true(resp.attempts >= 2);
    assert_non_null(strstr(resp.error, url));
    assert_non_null(strstr(resp.error, "connection failed"));
    assert_true(f.log.retries >= 1);
    assert_true(took < 10);
    http_response_free(&resp);
    fixture_close(&f);
}

static void test_timeout_not_retried(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, "http:\n  timeout_seconds: 0.5\n");
    char *url = url_of(STATUS_PATH);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"latency_ms\": 2000, \"times\": 1}");
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    double t0 = now_s();
    int rc = http_send(f.h, &r, &resp);
    double took = now_s() - t0;
    if (rc != -1) fail_msg("expected a timeout, got %ld after %.2f s: %s", resp.status, took, f.log.text);
    assert_int_equal(resp.status, 0);
    assert_int_equal(resp.attempts, 1);
    assert_non_null(strstr(resp.error, "time limit"));
    assert_true(took < 1.8);
    http_response_free(&resp);

    /* a per-request timeout overrides the config's */
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"latency_ms\": 700, \"times\": 1}");
    r.timeout_seconds = 3;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 200);
    http_response_free(&resp);
    free(url);
    fixture_close(&f);
}

static void test_cancel_stops_waits(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    volatile sig_atomic_t cancel = 1;
    http_set_cancel_flag(f.h, &cancel);
    char *url = url_of(STATUS_PATH);
    sim_ok("POST", "/__sim/faults", "{\"path\": \"retirement_status\", \"status\": 500}");
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    double t0 = now_s();
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 500);
    assert_int_equal(resp.attempts, 1);
    assert_true(now_s() - t0 < 1.0);
    http_response_free(&resp);
    free(url);
    fixture_close(&f);
}

static void test_plain_http_refused_for_non_loopback(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    rd_http_request r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.url = "http://lms.example.com/api/user/v1/accounts/x/retirement_status/";
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), -1);
    assert_int_equal(resp.status, 0);
    assert_int_equal(resp.attempts, 0);
    assert_non_null(strstr(resp.error, "refusing plain http://"));
    assert_non_null(strstr(resp.error, "lms.example.com"));
    assert_non_null(strstr(resp.error, "allow_insecure_http"));
    http_response_free(&resp);
    /* loopback spellings are allowed */
    char url[128];
    snprintf(url, sizeof url, "http://localhost:%d" STATUS_PATH, sim.port);
    r.url = url;
    r.auth = RD_AUTH_LMS_JWT;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 200);
    http_response_free(&resp);
    /* spellings libcurl reads as loopback are allowed and reach the sim (the rule parses the URL as
     * the connection does) */
    const char *spellings[] = {"127.1", "%31%32%37.0.0.1", "0x7f.0.0.1"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        snprintf(url, sizeof url, "http://%s:%d" STATUS_PATH, spellings[i], sim.port);
        if (http_send(f.h, &r, &resp) != 0 || resp.status != 200)
            fail_msg("%s: %d %s", url, resp.status, resp.error);
        http_response_free(&resp);
    }
    /* other schemes refused */
    r.url = "file:///etc/passwd";
    r.auth = RD_AUTH_NONE;
    assert_int_equal(http_send(f.h, &r, &resp), -1);
    assert_non_null(strstr(resp.error, "only http:// and https://"));
    http_response_free(&resp);
    fixture_close(&f);

    /* the LMS itself on a non-loopback plain http URL: the token fetch is refused */
    char *p = sim_write_config(&sim, NULL, NULL);
    cfg *c = NULL;
    char err[1024];
    assert_int_equal(cfg_load(p, &c, err, sizeof err), 0);
    cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetObjectItem(c->root, "base_urls"), "lms"), "http://10.1.2.3/");
    http_client *h = http_client_new(c, err, sizeof err);
    assert_int_equal(http_ensure_token(h, err, sizeof err), -1);
    assert_non_null(strstr(err, "refusing plain http://"));
    assert_int_equal(http_token_fetches(h), 0);
    http_client_free(h);
    cfg_free(c);
    unlink(p);
    free(p);
}

static void test_bad_secret_error_names_client_not_secret(void **state)
{
    (void)state;
    char *p = sim_write_config(&sim, NULL, NULL);
    cfg *c = NULL;
    char err[1024];
    assert_int_equal(cfg_load(p, &c, err, sizeof err), 0);
    /* replace the secret: the new value is not a known config secret, the client must still hide it */
    cJSON_SetValuestring(cJSON_GetObjectItem(c->root, "client_secret"), "wrong-secret-value-123");
    http_client *h = http_client_new(c, err, sizeof err);
    logbuf lb = {0};
    http_set_log(h, collect, &lb);
    assert_int_equal(http_ensure_token(h, err, sizeof err), -1);
    assert_non_null(strstr(err, "API Error"));
    assert_non_null(strstr(err, "fetching access token: " SIM_CLIENT_ID));
    assert_non_null(strstr(err, "/oauth2/access_token"));
    assert_null(strstr(err, "wrong-secret-value-123"));
    if (lb.text) assert_null(strstr(lb.text, "wrong-secret-value-123"));
    /* a request needing the token fails with that sentence */
    char *url = url_of(STATUS_PATH);
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    assert_int_equal(http_send(h, &r, &resp), -1);
    assert_non_null(strstr(resp.error, "fetching access token"));
    assert_null(strstr(resp.error, "wrong-secret-value-123"));
    http_response_free(&resp);
    free(url);
    free(lb.text);
    http_client_free(h);
    cfg_free(c);
    unlink(p);
    free(p);
}

static void test_secret_values_scrubbed_from_logs(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    /* a vendor-style request carrying its own bearer token in the URL: scrubbed via secret_values */
    char url[256];
    snprintf(url, sizeof url, "%s/vendor/nowhere/?api_key=vendor-bearer-xyz", sim.base_url);
    const char *secrets[] = {"vendor-bearer-xyz", NULL};
    const char *headers[] = {"Authorization: Bearer vendor-bearer-xyz", NULL};
    rd_http_request r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.url = url;
    r.headers = headers;
    r.secret_values = secrets;
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_non_null(f.log.text);
    assert_null(strstr(f.log.text, "vendor-bearer-xyz"));
    assert_non_null(strstr(f.log.text, "********"));
    http_response_free(&resp);
    fixture_close(&f);
}

static void test_retry_after_parsed_and_4xx_not_retried(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char url[256];
    snprintf(url, sizeof url, "%s/vendor/hubspot/crm/v3/objects/contacts/gdpr-delete", sim.base_url);
    const char *headers[] = {"Authorization: Bearer sim-hubspot-token", "Content-Type: application/json", NULL};
    const char *secrets[] = {"sim-hubspot-token", NULL};
    rd_http_request r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.url = url;
    r.headers = headers;
    r.secret_values = secrets;
    r.retry = RD_RETRY_UPSTREAM;
    r.body = "{\"objectId\": \"http_user@example.com\", \"idProperty\": \"email\"}";
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 204);
    assert_true(resp.retry_after_seconds < 0);
    http_response_free(&resp);
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 429);
    assert_int_equal(resp.attempts, 1);
    assert_true(resp.retry_after_seconds >= 1 && resp.retry_after_seconds <= 30);
    assert_non_null(strstr(resp.headers, "Retry-After"));
    http_response_free(&resp);
    if (f.log.text) assert_null(strstr(f.log.text, "sim-hubspot-token"));
    fixture_close(&f);
}

/* A forked child (how job workers run) uses the client without sharing the parent's
 * keep-alive connection; both keep working. */
static void test_fork_child_gets_own_connection(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char *url = url_of(STATUS_PATH);
    rd_http_request r = get_status_req(url);
    rd_http_response resp;
    assert_int_equal(http_send(f.h, &r, &resp), 0);
    assert_int_equal(resp.status, 200);
    http_response_free(&resp);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = 1;
        for (int i = 0; i < 5; i++) {
            rd_http_response cr;
            if (http_send(f.h, &r, &cr) != 0 || cr.status != 200) ok = 0;
            http_response_free(&cr);
        }
        _exit(ok ? 0 : 1);
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(http_send(f.h, &r, &resp), 0);
        assert_int_equal(resp.status, 200);
        http_response_free(&resp);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    free(url);
    fixture_close(&f);
}

/* TLS: certificates are verified; http.ca_bundle makes a private CA trusted; a verification
 * failure is reported (naming TLS) and not retried. The server is `openssl s_server` with a
 * throw-away self-signed certificate (the sim speaks plain http only). */
static void test_tls_verification_and_ca_bundle(void **state)
{
    (void)state;
    if (access("/usr/bin/openssl", X_OK) != 0) skip();
    char *dir = make_temp_dir();
    char key[512], cert[512];
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    const char *gen[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                         "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext",
                         "subjectAltName=DNS:localhost,IP:127.0.0.1", NULL};
    cmd_result r;
    assert_int_equal(run_command(&r, gen, NULL, NULL, 60), 0);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    int port = closed_port();
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    pid_t srv = fork();
    if (srv == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl("/usr/bin/openssl", "openssl", "s_server", "-accept", portstr, "-cert", cert, "-key", key, "-www",
              "-quiet", (char *)NULL);
        _exit(127);
    }
    /* wait until it accepts connections */
    int up = 0;
    for (int i = 0; i < 100 && !up; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        up = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (!up) usleep(50 * 1000);
    }
    assert_true(up);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", port);
    rd_http_request req;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = url;
    req.retry = RD_RETRY_UPSTREAM;
    rd_http_response resp;

    /* system CAs only: the self-signed certificate is refused, once, naming TLS */
    fixture f;
    fixture_open(&f, "http:\n  max_retry_seconds: 5\n");
    assert_int_equal(http_send(f.h, &req, &resp), -1);
    assert_int_equal(resp.status, 0);
    assert_int_equal(resp.attempts, 1);
    assert_non_null(strstr(resp.error, "TLS"));
    http_response_free(&resp);
    fixture_close(&f);

    /* a CA bundle that cannot be read is refused when the client is made */
    {
        char *cp = sim_write_config(&sim, NULL, "http:\n  ca_bundle: /nonexistent/ca.pem\n");
        cfg *c = NULL;
        char err[1024];
        assert_int_equal(cfg_load(cp, &c, err, sizeof err), 0);
        assert_null(http_client_new(c, err, sizeof err));
        assert_non_null(strstr(err, "http.ca_bundle /nonexistent/ca.pem cannot be read"));
        cfg_free(c);
        unlink(cp);
        free(cp);
    }

    /* with the certificate as http.ca_bundle: verified and answered */
    char extra[700];
    snprintf(extra, sizeof extra, "http:\n  ca_bundle: %s\n", cert);
    fixture_open(&f, extra);
    assert_int_equal(http_send(f.h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    http_response_free(&resp);
    fixture_close(&f);

    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
    unlink(key);
    unlink(cert);
    rmdir(dir);
    free(dir);
}

/* retire_one_learner parity: one more token POST per configured IDA base URL (ecommerce,
 * credentials, demographics, license_manager: all four in sim_write_config's config), after
 * the LMS client's; a failing one is an error. */
static void test_service_tokens_one_per_ida(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, NULL);
    char err[512];
    assert_int_equal(http_ensure_token(f.h, err, sizeof err), 0);
    assert_int_equal(http_fetch_service_tokens(f.h, err, sizeof err), 0);
    assert_int_equal(http_token_fetches(f.h), 5);
    cJSON *log = sim_requests("/oauth2/access_token");
    assert_int_equal(cJSON_GetArraySize(log), 5);
    cJSON_Delete(log);
    fixture_close(&f);

    /* without IDA base URLs: nothing more */
    sim_ok("DELETE", "/__sim/requests", NULL);
    char *text = NULL;
    {
        size_t n = strlen(sim.base_url) + 400;
        text = malloc(n);
        snprintf(text, n,
                 "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n  ecommerce: ''\n"
                 "retirement_pipeline:\n  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']\n",
                 SIM_CLIENT_ID, SIM_CLIENT_SECRET, sim.base_url);
    }
    char *path = write_temp_file("lmsonly.yml", text);
    free(text);
    cfg *c = NULL;
    char cerr[1024];
    if (cfg_load(path, &c, cerr, sizeof cerr)) fail_msg("config: %s", cerr);
    http_client *h = http_client_new(c, cerr, sizeof cerr);
    assert_non_null(h);
    assert_int_equal(http_ensure_token(h, err, sizeof err), 0);
    assert_int_equal(http_fetch_service_tokens(h, err, sizeof err), 0);
    assert_int_equal(http_token_fetches(h), 1);
    http_client_free(h);
    cfg_free(c);
    unlink(path);
    free(path);

    /* the third token POST (credentials' client) fails: an error naming the token fetch */
    sim_ok("POST", "/__sim/faults", "{\"endpoint\": \"token\", \"actions\": [0, 0, 401]}");
    fixture_open(&f, NULL);
    assert_int_equal(http_ensure_token(f.h, err, sizeof err), 0);
    assert_int_equal(http_fetch_service_tokens(f.h, err, sizeof err), -1);
    assert_non_null(strstr(err, "fetching access token"));
    assert_int_equal(http_token_fetches(f.h), 3);
    fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_token_fetch_form_body, setup_each),
        cmocka_unit_test_setup(test_service_tokens_one_per_ida, setup_each),
        cmocka_unit_test_setup(test_token_url_drops_subpath, setup_each),
        cmocka_unit_test_setup(test_one_token_shared_and_headers, setup_each),
        cmocka_unit_test_setup(test_401_refreshes_once, setup_each),
        cmocka_unit_test_setup(test_token_expiry_mid_run, setup_each),
        cmocka_unit_test_setup(test_500_500_then_ok, setup_each),
        cmocka_unit_test_setup(test_retry_none_does_not_retry, setup_each),
        cmocka_unit_test_setup(test_504_once_then_ok_and_twice_error, setup_each),
        cmocka_unit_test_setup(test_400_not_retried, setup_each),
        cmocka_unit_test_setup(test_budget_caps_5xx_retries, setup_each),
        cmocka_unit_test_setup(test_connection_refused_retried_then_error, setup_each),
        cmocka_unit_test_setup(test_timeout_not_retried, setup_each),
        cmocka_unit_test_setup(test_cancel_stops_waits, setup_each),
        cmocka_unit_test_setup(test_plain_http_refused_for_non_loopback, setup_each),
        cmocka_unit_test_setup(test_bad_secret_error_names_client_not_secret, setup_each),
        cmocka_unit_test_setup(test_secret_values_scrubbed_from_logs, setup_each),
        cmocka_unit_test_setup(test_retry_after_parsed_and_4xx_not_retried, setup_each),
        cmocka_unit_test_setup(test_fork_child_gets_own_connection, setup_each),
        cmocka_unit_test_setup(test_tls_verification_and_ca_bundle, setup_each),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
