/* The mock host library (retirectl/drivertest.h, libretirectl-drivertest) used as a driver's
 * own unit test would use it, with nothing else of retirectl linked: the shipped WEBHOOK and
 * ARCHIVE_CPP example drivers get canned answers, their requests are captured and the
 * expectations hold; a deliberately wrong expectation is reported and makes rdt_finish fail;
 * a request without a canned answer fails too. No sockets are opened. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retirectl/drivertest.h"

static int checks_failed;

/* Records a failure of this test program itself (not of the driver under test). */
#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            checks_failed++;                                                           \
        }                                                                              \
    } while (0)

static const rd_driver *load(const char *so, const char *symbol)
{
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "cannot load %s: %s\n", so, dlerror());
        exit(2);
    }
    return dlsym(h, symbol);
}

/* WEBHOOK: 200 -> OK, 404 -> NOT_FOUND, 503 -> RETRYABLE, no answer -> RETRYABLE; the request. */
static void test_webhook(const rd_driver *d)
{
    rdt_host *t = rdt_host_new("WEBHOOK", "webhook:\n  url: https://hooks.test/retired\n  bearer_token: whk-T0ken\n"
                                          "  retry: false\n");
    void *inst = rdt_instance(t, d);
    CHECK(inst != NULL);
    const cJSON *learner = rdt_learner(t, 10001, "jane");
    rdt_respond(t, "POST", "hooks.test/retired", 200, "{}");
    RDT_EXPECT_STATUS(t, rdt_run(t, inst, "notify", learner), RD_OK);
    RDT_EXPECT_REQUEST(t, 0, "POST", "https://hooks.test/retired");
    RDT_EXPECT_HEADER(t, 0, "Authorization", "Bearer whk-T0ken");
    RDT_EXPECT_BODY(t, 0, "{\"lms_user_id\": 10001, \"retired_username\": \"retired__user_10001\"}");
    rdt_respond(t, "POST", "hooks.test", 404, "");
    RDT_EXPECT_STATUS(t, rdt_run(t, inst, "notify", learner), RD_NOT_FOUND);
    rdt_respond(t, "POST", "hooks.test", 503, "busy");
    RDT_EXPECT_STATUS(t, rdt_run(t, inst, "notify", learner), RD_RETRYABLE);
    rdt_respond_no_answer(t, "POST", "hooks.test", "connection refused");
    RDT_EXPECT_STATUS(t, rdt_run(t, inst, "notify", learner), RD_RETRYABLE);
    RDT_EXPECT_MESSAGE_CONTAINS(t, "connection refused");
    CHECK(rdt_request_count(t) == 4);
    /* the preview describes without sending */
    RDT_EXPECT_STATUS(t, rdt_preview(t, inst, "notify", learner), RD_OK);
    CHECK(rdt_request_count(t) == 4);
    CHECK(cJSON_GetArraySize(rdt_described(t)) == 1);
    /* get_instance refuses a config without url, with its reason */
    rdt_host *t2 = rdt_host_new("WEBHOOK", "{}");
    CHECK(rdt_instance(t2, d) == NULL);
    CHECK(strstr(rdt_message(t2), "needs a 'webhook:' section") != NULL);
    CHECK(rdt_finish(t2) == 0);
    CHECK(rdt_finish(t) == 0);
}

/* ARCHIVE_CPP (C++): URL built with url_append, JSON body by json_dumps. */
static void test_archive_cpp(const rd_driver *d)
{
    rdt_host *t = rdt_host_new("ARCHIVE_CPP", "{\"archive_cpp\": {\"base_url\": \"https://archive.test/api/\", "
                                              "\"bearer_token\": \"arc-T0k\"}}");
    void *inst = rdt_instance(t, d);
    CHECK(inst != NULL);
    const cJSON *learner = rdt_learner(t, 7, "bob");
    rdt_respond(t, "POST", "/learners/7/forget", 204, "");
    RDT_EXPECT_STATUS(t, rdt_run(t, inst, "forget_learner", learner), RD_OK);
    RDT_EXPECT_REQUEST(t, 0, "POST", "https://archive.test/api/learners/7/forget");
    RDT_EXPECT_BODY(t, 0, "{\"retired_username\": \"retired__user_7\"}");
    CHECK(rdt_finish(t) == 0);
}

/* The library reports what goes wrong: a wrong expectation and an unanswered request. */
static void test_failures_are_reported(const rd_driver *d)
{
    rdt_host *t = rdt_host_new("ARCHIVE_CPP", "{\"archive_cpp\": {\"base_url\": \"https://a.test\", "
                                              "\"bearer_token\": \"x\"}}");
    void *inst = rdt_instance(t, d);
    const cJSON *learner = rdt_learner(t, 8, "eve");
    rd_status st = rdt_run(t, inst, "forget_learner", learner); /* no canned answer */
    CHECK(st == RD_RETRYABLE);
    CHECK(strstr(rdt_message(t), "drivertest: no canned response for POST https://a.test/learners/8/forget") != NULL);
    CHECK(RDT_EXPECT_STATUS(t, st, RD_OK) == 0);
    fprintf(stderr, "(the two drivertest lines above are expected)\n");
    CHECK(rdt_finish(t) == 1);
}

int main(void)
{
    const char *build = getenv("RETIRECTL_BUILD_DIR");
    char so[4096];
    snprintf(so, sizeof so, "%s/plugins/example/example.so", build ? build : ".");
    const rd_driver *webhook = load(so, "retirectl_driver_webhook");
    snprintf(so, sizeof so, "%s/plugins/example_cpp/example_cpp.so", build ? build : ".");
    const rd_driver *archive = load(so, "retirectl_driver_archive_cpp");
    test_webhook(webhook);
    test_archive_cpp(archive);
    test_failures_are_reported(archive);
    if (checks_failed) fprintf(stderr, "%d check(s) failed\n", checks_failed);
    return checks_failed ? 1 : 0;
}
