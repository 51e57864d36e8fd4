/*
 * retirectl/drivertest.h: a mock host for a retirement driver's unit tests (no sockets, no LMS,
 * no retirectl process). Link with `pkg-config --cflags --libs retirectl-drivertest`.
 *
 * It gives the driver a real rd_host (the same json_dumps, py_repr, url_join, url_append,
 * sha256, hmac_sha256, aws_sigv4, base64 and config lookups as retirectl) whose `http` answers
 * from canned responses and records every request. Test framework agnostic: the RDT_EXPECT_*
 * macros print "file:line: ..." and count failures; rdt_finish() returns the exit status.
 *
 *     rdt_host *t = rdt_host_new("ACME_CRM", "{\"acme_crm\": {\"base_url\": \"https://crm.test\", "
 *                                            "\"api_key\": \"k-1\"}}");
 *     extern const rd_driver retirectl_driver_acme_crm;          // the plugin's descriptor
 *     void *inst = rdt_instance(t, &retirectl_driver_acme_crm);   // get_instance(config, host)
 *     rdt_respond(t, "DELETE", "/contacts/10001", 204, "");
 *     cJSON *learner = rdt_learner(10001, "jane");
 *     RDT_EXPECT_STATUS(t, rdt_run(t, inst, "delete_contact", learner), RD_OK);
 *     RDT_EXPECT_REQUEST(t, 0, "DELETE", "https://crm.test/contacts/10001");
 *     RDT_EXPECT_HEADER(t, 0, "Authorization", "Bearer k-1");
 *     RDT_EXPECT_MESSAGE_CONTAINS(t, "deleted");
 *     ...
 *     return rdt_finish(t);   // frees everything; 0 when every expectation held
 *
 * Ownership: everything rdt_* returns (learners from rdt_learner included: do not
 * cJSON_Delete them) belongs to the rdt_host and lives until rdt_finish / rdt_host_free.
 */
#ifndef RETIRECTL_DRIVERTEST_H
#define RETIRECTL_DRIVERTEST_H

#include <stddef.h>

#include "retirectl/driver.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rdt_host rdt_host;

/* One request the driver sent (headers include the Authorization the host would add for
 * RD_AUTH_LMS_JWT: "Authorization: JWT drivertest-token"). */
typedef struct rdt_request {
    const char *method;
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value" */
    const char *body;           /* "" when none */
    size_t body_len;
    int auth;                   /* rd_auth */
    int retry;                  /* rd_retry */
    long timeout_seconds;
} rdt_request;

/* A mock host for the driver called driver_name, with the whole config given as JSON or YAML
 * text (NULL: empty). Aborts with a message on stderr when the config does not parse. */
rdt_host *rdt_host_new(const char *driver_name, const char *config_text);
/* The host and the whole config, as get_instance receives them. */
const rd_host *rdt_rd_host(const rdt_host *t);
const cJSON *rdt_config(const rdt_host *t);
/* Calls d->get_instance(config, host); NULL with the driver's reason in rdt_message(). */
void *rdt_instance(rdt_host *t, const rd_driver *d);

/* Canned answers, used in the order given: the first unused one whose method equals the
 * request's and whose url_contains is a substring of its URL. times 0 = for every match. */
void rdt_respond(rdt_host *t, const char *method, const char *url_contains, long status, const char *body);
void rdt_respond_full(rdt_host *t, const char *method, const char *url_contains, long status, const char *body,
                      const char *const *headers, int times);
/* The next matching request gets no answer (as a refused connection): host->http returns -1. */
void rdt_respond_no_answer(rdt_host *t, const char *method, const char *url_contains, const char *error);

/* Calls the method's run (rdt_run) or preview (rdt_preview) with a fresh rd_call; the result's
 * message is then rdt_message(). A request with no canned answer gets status 0 and an error
 * naming it, and is counted as a failure by rdt_finish. */
rd_status rdt_run(rdt_host *t, void *instance, const char *method, const cJSON *learner);
rd_status rdt_preview(rdt_host *t, void *instance, const char *method, const cJSON *learner);
/* The message of the last call (or get_instance's reason), "" when none. */
const char *rdt_message(const rdt_host *t);

size_t rdt_request_count(const rdt_host *t);
const rdt_request *rdt_request_at(const rdt_host *t, size_t i);
/* The value of header name (case-insensitive) of a captured request, or NULL. */
const char *rdt_request_header(const rdt_request *r, const char *name);
/* What the last preview described, as a JSON array of {"method","url","headers","body"}. */
const cJSON *rdt_described(const rdt_host *t);
/* Log lines the driver wrote (host->log and host->progress), each "level: text". */
size_t rdt_log_count(const rdt_host *t);
const char *rdt_log_at(const rdt_host *t, size_t i);
/* Makes host->cancelled() return on. */
void rdt_set_cancelled(rdt_host *t, int on);

/* A learner object as the pipeline passes it (docs/writing-a-driver.md, "The learner
 * object"): user {id, username, email, profile}, original_username/_email/_name,
 * retired_username/_email, current_state / last_state PENDING, created, modified. */
cJSON *rdt_learner(rdt_host *t, long user_id, const char *username);

/* Expectations: each returns 1 when it holds, else prints "file:line: ..." to stderr,
 * counts a failure and returns 0. */
int rdt_expect_status(rdt_host *t, rd_status got, rd_status want, const char *file, int line);
int rdt_expect_message_contains(rdt_host *t, const char *text, const char *file, int line);
int rdt_expect_request(rdt_host *t, size_t i, const char *method, const char *url, const char *file, int line);
int rdt_expect_header(rdt_host *t, size_t i, const char *name, const char *value, const char *file, int line);
int rdt_expect_body(rdt_host *t, size_t i, const char *body, const char *file, int line);
#define RDT_EXPECT_STATUS(t, got, want) rdt_expect_status((t), (got), (want), __FILE__, __LINE__)
#define RDT_EXPECT_MESSAGE_CONTAINS(t, text) rdt_expect_message_contains((t), (text), __FILE__, __LINE__)
#define RDT_EXPECT_REQUEST(t, i, method, url) rdt_expect_request((t), (i), (method), (url), __FILE__, __LINE__)
#define RDT_EXPECT_HEADER(t, i, name, value) rdt_expect_header((t), (i), (name), (value), __FILE__, __LINE__)
#define RDT_EXPECT_BODY(t, i, body) rdt_expect_body((t), (i), (body), __FILE__, __LINE__)

/* Clears captured requests, log lines, message and unused canned answers (between cases). */
void rdt_reset(rdt_host *t);
/* Frees t (destroying instances made by rdt_instance) and returns 0 when no expectation
 * failed and no request went unanswered, else 1 (a main()'s exit status). */
int rdt_finish(rdt_host *t);
/* Frees t without the verdict. */
void rdt_host_free(rdt_host *t);

#ifdef __cplusplus
}
#endif
#endif /* RETIRECTL_DRIVERTEST_H */
