/* Shared helpers for the retirectl-sim integration tests (tests/integration/test_sim_*.c): one sim per
 * test program, real libcurl over loopback, cJSON to read answers. Header-only (static functions). */
#ifndef TEST_SIM_COMMON_H
#define TEST_SIM_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simproc.h"

static sim_proc g_sim;
static char *g_tok;

typedef struct http_res {
    long status;
    char *body;    /* NUL-terminated */
    char *headers; /* raw response headers */
    cJSON *json;   /* parsed body or NULL */
    int transport_error;
} http_res;

typedef struct tbuf {
    char *d;
    size_t n;
} tbuf;

static __attribute__((unused)) size_t tbuf_write(char *p, size_t s, size_t n, void *u)
{
    tbuf *b = u;
    size_t k = s * n;
    char *d = realloc(b->d, b->n + k + 1);
    if (!d) return 0;
    b->d = d;
    memcpy(b->d + b->n, p, k);
    b->n += k;
    b->d[b->n] = '\0';
    return k;
}

static __attribute__((unused)) void http_res_free(http_res *r)
{
    free(r->body);
    free(r->headers);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

/* One request. auth: full Authorization header value or NULL; ctype: Content-Type or NULL. */
static __attribute__((unused)) http_res http_full(const char *method, const char *path, const char *auth, const char *ctype, const char *body)
{
    http_res r;
    memset(&r, 0, sizeof r);
    CURL *c = curl_easy_init();
    char url[4096], h1[1024], h2[256];
    snprintf(url, sizeof url, "%s%s", g_sim.base_url, path);
    tbuf b = {0}, hb = {0};
    struct curl_slist *h = NULL;
    if (auth) {
        snprintf(h1, sizeof h1, "Authorization: %s", auth);
        h = curl_slist_append(h, h1);
    }
    if (ctype) {
        snprintf(h2, sizeof h2, "Content-Type: %s", ctype);
        h = curl_slist_append(h, h2);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (h) curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tbuf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, tbuf_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    else r.transport_error = (int)rc;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r.body = b.d ? b.d : strdup("");
    r.headers = hb.d ? hb.d : strdup("");
    r.json = cJSON_Parse(r.body);
    return r;
}

/* An authenticated JSON request with the shared token, like the retirement client sends. */
static __attribute__((unused)) http_res api(const char *method, const char *path, const char *body)
{
    char auth[256];
    snprintf(auth, sizeof auth, "JWT %s", g_tok);
    return http_full(method, path, auth, "application/json", body);
}

/* Control-endpoint request (no auth). */
static __attribute__((unused)) http_res ctl(const char *method, const char *path, const char *body)
{
    return http_full(method, path, NULL, "application/json", body);
}

/* Status code of an authenticated request (body discarded). */
static __attribute__((unused)) long api_status(const char *method, const char *path, const char *body)
{
    http_res r = api(method, path, body);
    long s = r.status;
    http_res_free(&r);
    return s;
}

/* Asserts status and (when want_body is non-NULL) the exact body of an authenticated request. */
#define assert_api(m, p, b, st, wb) assert_api_at(__FILE__, __LINE__, m, p, b, st, wb)
static __attribute__((unused)) void assert_api_at(const char *file, int line, const char *method, const char *path, const char *body,
                          long want_status, const char *want_body)
{
    http_res r = api(method, path, body);
    int ok = r.status == want_status && (!want_body || !strcmp(r.body, want_body));
    if (!ok)
        print_error("%s:%d: %s %s %s -> %ld %s (wanted %ld %s)\n", file, line, method, path, body ? body : "",
                    r.status, r.body, want_status, want_body ? want_body : "(any body)");
    http_res_free(&r);
    _assert_true(ok, "response as wanted", file, line);
}

/* The control dump of one learner (caller frees), or NULL. */
static __attribute__((unused)) cJSON *learner_dump(const char *username)
{
    char *esc = curl_easy_escape(NULL, username, 0);
    char path[512];
    snprintf(path, sizeof path, "/__sim/learners?username=%s", esc);
    curl_free(esc);
    http_res r = ctl("GET", path, NULL);
    cJSON *j = r.status == 200 ? r.json : NULL;
    if (j) r.json = NULL;
    http_res_free(&r);
    return j;
}

/* A learner's current state name (static buffer), "" when unknown. */
static __attribute__((unused)) const char *learner_state(const char *username)
{
    static char st[64];
    st[0] = '\0';
    cJSON *j = learner_dump(username);
    cJSON *cs = cJSON_GetObjectItem(j, "current_state");
    cJSON *n = cJSON_GetObjectItem(cs, "state_name");
    if (cJSON_IsString(n)) snprintf(st, sizeof st, "%s", n->valuestring);
    cJSON_Delete(j);
    return st;
}

/* Integer field of a learner dump at a dotted path of two keys (e.g. "retired_in", "forum"). */
static __attribute__((unused)) long learner_num(const char *username, const char *k1, const char *k2)
{
    cJSON *j = learner_dump(username);
    cJSON *v = cJSON_GetObjectItem(j, k1);
    if (k2) v = cJSON_GetObjectItem(v, k2);
    long n = cJSON_IsNumber(v) ? (long)v->valuedouble : cJSON_IsBool(v) ? cJSON_IsTrue(v) : -999;
    cJSON_Delete(j);
    return n;
}

/* Puts the learner into state (forced update). */
static __attribute__((unused)) void force_state(const char *username, const char *state)
{
    char body[512];
    snprintf(body, sizeof body, "{\"username\": \"%s\", \"new_state\": \"%s\", \"response\": \"test setup\", \"force\": true}",
             username, state);
    assert_int_equal(api_status("PATCH", "/api/user/v1/accounts/update_retirement_status/", body), 204);
}

/* Starts the sim with args (NULL-terminated) and fetches a token; aborts the program when it cannot. */
static __attribute__((unused)) void start_sim_or_die(const char *const *args)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (sim_start(&g_sim, args) != 0) {
        fprintf(stderr, "cannot start retirectl-sim\n");
        exit(1);
    }
    g_tok = sim_token(&g_sim);
    if (!g_tok) {
        fprintf(stderr, "cannot get a token from retirectl-sim\n");
        sim_stop(&g_sim);
        exit(1);
    }
}

/* A second sim some tests start (with_other_sim); kept here so that a failed assertion inside the
 * test (cmocka longjmps out) cannot leave it running or leave g_sim pointing at it. */
static sim_proc g_main_sim;
static char *g_main_tok;
static int g_swapped;

/* Stops the second sim, if any, and makes the shared sim current again. */
static __attribute__((unused)) void restore_main_sim(void)
{
    if (!g_swapped) return;
    sim_stop(&g_sim);
    free(g_tok);
    g_sim = g_main_sim;
    g_tok = g_main_tok;
    g_swapped = 0;
}

/* Runs fn(arg) against a second sim started with args; the shared sim is current again afterwards. */
static __attribute__((unused)) void with_other_sim(const char *const *args, void (*fn)(void *), void *arg)
{
    restore_main_sim();
    g_main_sim = g_sim;
    g_main_tok = g_tok;
    g_swapped = 1;
    g_tok = NULL;
    assert_int_equal(sim_start(&g_sim, args), 0);
    g_tok = sim_token(&g_sim);
    assert_non_null(g_tok);
    fn(arg);
    sim_proc other = g_sim;
    g_sim = g_main_sim;
    free(g_tok);
    g_tok = g_main_tok;
    g_swapped = 0;
    assert_int_equal(sim_stop(&other), 0);
}

static __attribute__((unused)) int reset_sim(void **state)
{
    (void)state;
    restore_main_sim();
    http_res r = ctl("POST", "/__sim/reset", NULL);
    long s = r.status;
    http_res_free(&r);
    return s == 204 ? 0 : -1;
}

static __attribute__((unused)) int stop_sim(void **state)
{
    (void)state;
    restore_main_sim();
    int rc = sim_stop(&g_sim);
    free(g_tok);
    g_tok = NULL;
    curl_global_cleanup();
    return rc == 0 ? 0 : -1;
}

#endif
