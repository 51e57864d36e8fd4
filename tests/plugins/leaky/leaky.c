/* Test plugin "leaky": a driver that puts secrets in everything it hands back, to test the
 * outbound scrubber (what is recorded at the LMS and printed is scrubbed whole, before any cut).
 *   leak        fails with a message holding client_secret and braze_api_key (config secrets)
 *   straddle    succeeds with a message whose braze_api_key starts 12 bytes before 4 KiB (ABI 1's cut),
 *               and logs a line of 8 KiB + braze_api_key
 *   values      sends a request with secret_values {"PLUGIN-ONLY-SECRET-77aa"} and fails with a
 *               message holding that value
 *   echotoken   GETs {lms}/__sim/requests with the LMS token (the sim's log echoes tokens) and
 *               fails with the last 3000 bytes of the answer
 *   selfcheck   succeeds with "core=<RLIMIT_CORE soft limit> dumpable=<PR_GET_DUMPABLE>" of the worker
 *   scope       succeeds with what the driver can see: "init_keys=<top-level keys given to
 *               get_instance> client_secret=<config_string or (hidden)> braze_api_key=<...>"
 *   fetch       GETs the config's leaky_url through rd_host.http and fails with the error (or the
 *               size of the body) */
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "../testplugin.h"

/* Length of base_urls.lms without its trailing slashes. */
static int lms_len(const char *lms)
{
    size_t n = lms ? strlen(lms) : 0;
    while (n && lms[n - 1] == '/') n--;
    return (int)n;
}

static rd_status leaky_leak(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    (void)learner;
    const char *cs = t->host->config_string(t->host, "client_secret");
    const char *bk = t->host->config_string(t->host, "braze_api_key");
    t->host->log(t->host, RD_LOG_INFO, "leaky: secret %s key %s", cs ? cs : "", bk ? bk : "");
    rd_call_message(call, "leaky: client_secret=%s braze_api_key=%s", cs ? cs : "", bk ? bk : "");
    return RD_FAILED;
}

static rd_status leaky_straddle(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    (void)learner;
    const char *bk = t->host->config_string(t->host, "braze_api_key");
    size_t cut = 4096 - 1 - 12; /* ABI 1's 4 KiB message buffer would have kept 12 characters of the key */
    static char pad[16384];
    memset(pad, 'p', sizeof pad - 1);
    t->host->log(t->host, RD_LOG_INFO, "%.*s%s", 8192 - 4, pad, bk ? bk : "");
    rd_call_message(call, "%.*s%s", (int)cut, pad, bk ? bk : "");
    return RD_OK;
}

static rd_status leaky_values(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    (void)learner;
    const char *lms = t->host->config_string(t->host, "base_urls.lms");
    char url[512];
    snprintf(url, sizeof url, "%.*s/__sim/config", lms_len(lms), lms ? lms : "");
    const char *secrets[] = {"PLUGIN-ONLY-SECRET-77aa", NULL};
    const char *headers[] = {"X-Api-Key: PLUGIN-ONLY-SECRET-77aa", NULL};
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request), .method = "GET", .url = url, .headers = headers, .auth = RD_AUTH_NONE,
                           .retry = RD_RETRY_NONE, .secret_values = secrets};
    rd_http_response resp = rd_http_response_new();
    t->host->http(t->host, &req, &resp);
    t->host->http_free(t->host, &resp);
    rd_call_message(call, "vendor said: bad key PLUGIN-ONLY-SECRET-77aa");
    return RD_FAILED;
}

static rd_status leaky_echotoken(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    (void)learner;
    const char *lms = t->host->config_string(t->host, "base_urls.lms");
    char url[512];
    snprintf(url, sizeof url, "%.*s/__sim/requests?path=retirement_status", lms_len(lms), lms ? lms : "");
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request), .method = "GET", .url = url, .auth = RD_AUTH_LMS_JWT, .retry = RD_RETRY_NONE};
    rd_http_response resp = rd_http_response_new();
    t->host->http(t->host, &req, &resp);
    const char *b = resp.body ? resp.body : "";
    size_t n = strlen(b);
    rd_call_message(call, "%s", n > 3000 ? b + n - 3000 : b);
    t->host->http_free(t->host, &resp);
    return RD_FAILED;
}

static rd_status leaky_fetch(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    (void)learner;
    const char *url = t->host->config_string(t->host, "leaky_url");
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request), .method = "GET", .url = url, .auth = RD_AUTH_NONE, .retry = RD_RETRY_NONE};
    rd_http_response resp = rd_http_response_new();
    int rc = t->host->http(t->host, &req, &resp);
    if (rc != 0 || resp.status == 0)
        rd_call_message(call, "fetch failed: %s", resp.error);
    else
        rd_call_message(call, "fetch got %ld with %zu bytes", resp.status, resp.body_len);
    t->host->http_free(t->host, &resp);
    return RD_FAILED;
}

static rd_status leaky_selfcheck(void *inst, const cJSON *learner, rd_call *call)
{
    (void)inst;
    (void)learner;
    struct rlimit rl;
    getrlimit(RLIMIT_CORE, &rl);
    rd_call_message(call, "core=%llu dumpable=%d", (unsigned long long)rl.rlim_cur, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    return RD_OK;
}

static char init_keys[1024]; /* top-level keys of the config get_instance received */

static void *leaky_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    init_keys[0] = '\0';
    for (const cJSON *kv = config ? config->child : NULL; kv; kv = kv->next) {
        size_t n = strlen(init_keys);
        snprintf(init_keys + n, sizeof init_keys - n, "%s%s", n ? "," : "", kv->string ? kv->string : "?");
    }
    return tp_get_instance(config, host, err, err_len);
}

static rd_status leaky_scope(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    (void)learner;
    const char *cs = t->host->config_string(t->host, "client_secret");
    const char *bk = t->host->config_string(t->host, "braze_api_key");
    rd_call_message(call, "init_keys=%s client_secret=%s braze_api_key=%s", init_keys, cs ? cs : "(hidden)",
                    bk ? bk : "(hidden)");
    return RD_OK;
}

static const rd_method leaky_methods[] = {
    RD_METHOD("scope", leaky_scope, NULL),
    RD_METHOD("selfcheck", leaky_selfcheck, NULL),
    RD_METHOD("fetch", leaky_fetch, NULL),
    RD_METHOD("leak", leaky_leak, NULL),
    RD_METHOD("straddle", leaky_straddle, NULL),
    RD_METHOD("values", leaky_values, NULL),
    RD_METHOD("echotoken", leaky_echotoken, NULL),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_leaky =
    RD_DRIVER_INIT("LEAKY", "1.0.0", "leaks secrets on purpose (tests)", leaky_get_instance, tp_destroy,
                   leaky_methods);
