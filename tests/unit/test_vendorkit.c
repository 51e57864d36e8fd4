/* plugins/vendorkit's config and instance helpers (vk_config_*, vk_get_instance, vk_error,
 * vk_strf, vk_url_join, vk_escape), through a real host over a real config; then each shipped vendor
 * plugin (the .so files of the build, loaded with dlopen) building instances from several
 * configs: the get_instance errors and the URLs, headers and bodies its preview describes are
 * pinned byte for byte (recorded from the plugins before they used these helpers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/host.h"
#include "../../plugins/vendorkit/vendorkit.h"

/* ASan reports an impossible allocation itself instead of returning NULL. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* A host named name over the config parsed from yaml (both freed by host_env_free). */
typedef struct host_env {
    cfg *config;
    rd_host *host;
} host_env;

static void host_env_init(host_env *e, const char *name, const char *yaml)
{
    char err[512];
    if (cfg_load_string(yaml, "t.yml", &e->config, err, sizeof err) != 0) fail_msg("config: %s", err);
    e->host = host_new(e->config, NULL, name, NULL, NULL, NULL, NULL);
    assert_non_null(e->host);
}

static void host_env_free(host_env *e)
{
    host_free(e->host);
    cfg_free(e->config);
}

static void test_config_helpers(void **state)
{
    (void)state;
    host_env e;
    host_env_init(&e, "ACME", "acme_empty: \"\"\nacme_url: \"https://a.test/x//\"\nacme_num: 01\nacme_key: k-1\n");
    const rd_host *h = e.host;
    char *v = vk_config_either(h, "acme_empty", "acme_key");
    assert_string_equal(v, "k-1"); /* an empty first setting falls through */
    free(v);
    assert_null(vk_config_either(h, "acme_empty", NULL));
    assert_null(vk_config_either(h, "acme_missing", "acme_empty"));
    v = vk_config_or(h, "acme_num", "d");
    assert_string_equal(v, "1"); /* a number as text */
    free(v);
    v = vk_config_or(h, "acme_empty", "d");
    assert_string_equal(v, "d");
    free(v);
    assert_null(vk_config_or(h, "acme_missing", NULL));
    v = vk_config_url(h, "acme_url", "https://default.test/");
    assert_string_equal(v, "https://a.test/x");
    free(v);
    v = vk_config_url(h, "acme_missing", "https://default.test/");
    assert_string_equal(v, "https://default.test");
    free(v);
    assert_null(vk_config_url(h, "acme_empty", NULL));

    char err[256] = "";
    v = vk_config_required(h, "ACME", "acme_key", "set it to the key", err, sizeof err);
    assert_string_equal(v, "k-1");
    assert_string_equal(err, "");
    free(v);
    assert_null(vk_config_required(h, "ACME", "acme_empty", "set it to the API key", err, sizeof err));
    assert_string_equal(err, "ACME: acme_empty is not set in the config; set it to the API key");
    host_env_free(&e);
}

/* What the fake plugin's configure and destroy saw (vk_get_instance must destroy on failure). */
static int configured, destroyed;
static const rd_host *configured_host;

/* A configure that reads acme_mode: "ok" succeeds, anything else fails naming it. */
static int acme_configure(void *inst, const rd_host *host, char *err, size_t err_len)
{
    int *v = inst;
    configured++;
    configured_host = host;
    if (*v != 0) return vk_error(err, err_len, "ACME: the instance was not zeroed");
    *v = 1;
    const char *mode = host->config_string(host, "acme_mode");
    if (mode && strcmp(mode, "ok") != 0) return vk_error(err, err_len, "ACME: acme_mode is '%s'; use ok", mode);
    return 0;
}

static void acme_destroy(void *inst)
{
    free(inst);
    destroyed++;
}

static void test_get_instance(void **state)
{
    (void)state;
    host_env e;
    host_env_init(&e, "ACME", "acme_mode: ok\n");
    char err[128] = "";
    configured = destroyed = 0;
    int *inst = vk_get_instance(e.host, sizeof *inst, "ACME", acme_configure, acme_destroy, err, sizeof err);
    assert_non_null(inst);
    assert_int_equal(*inst, 1);
    assert_ptr_equal(configured_host, e.host);
    assert_ptr_equal(vk_host_, e.host); /* vk_dumps / vk_pyrepr use this host */
    assert_int_equal(destroyed, 0);
    assert_string_equal(err, "");
    acme_destroy(inst);
    host_env_free(&e);

    /* a failing configure: its error, and the half-built instance destroyed */
    host_env_init(&e, "ACME", "acme_mode: fast\n");
    destroyed = 0;
    assert_null(vk_get_instance(e.host, sizeof(int), "ACME", acme_configure, acme_destroy, err, sizeof err));
    assert_string_equal(err, "ACME: acme_mode is 'fast'; use ok");
    assert_int_equal(destroyed, 1);
    /* an allocation that cannot succeed: the error names the driver; configure never runs */
    if (!UNDER_ASAN) {
        configured = 0;
        assert_null(vk_get_instance(e.host, (size_t)-1 / 2, "ACME", acme_configure, acme_destroy, err, sizeof err));
        assert_string_equal(err, "ACME: out of memory");
        assert_int_equal(configured, 0);
    }
    host_env_free(&e);
}

static void test_text_helpers(void **state)
{
    (void)state;
    char *s = vk_strf("%s/%d", "a", 7);
    assert_string_equal(s, "a/7");
    s = vk_url_join(s, "/users/delete");
    assert_string_equal(s, "a/7/users/delete");
    free(s);
    assert_null(vk_url_join(NULL, "/x"));
    static const vk_subst t[] = {{'<', "&lt;"}, {'\'', "\\'"}, {0, NULL}};
    vk_buf b = {0};
    vk_escape(&b, "a<b'c\xc3\xa9", t);
    vk_escape(&b, NULL, t);
    vk_escape(&b, "", t);
    assert_string_equal(vk_buf_str(&b), "a&lt;b\\'c\xc3\xa9");
    vk_buf_free(&b);
}

/* ---- the shipped vendor plugins ----------------------------------------------------------- */

/* The descriptor retirectl_driver_<plugin> of <build>/plugins/<plugin>/<plugin>.so. The library
 * stays loaded (the test process ends soon). */
static const rd_driver *load_plugin(const char *plugin)
{
    const char *dir = getenv("RETIRECTL_BUILD_DIR");
    char path[1024], sym[128];
    snprintf(path, sizeof path, "%s/plugins/%s/%s.so", dir && *dir ? dir : RETIRECTL_BUILD_DIR, plugin, plugin);
    snprintf(sym, sizeof sym, "retirectl_driver_%s", plugin);
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!so) fail_msg("dlopen %s: %s", path, dlerror());
    const rd_driver *d = dlsym(so, sym);
    if (!d) fail_msg("%s has no %s", path, sym);
    return d;
}

#define LEARNER                                                                                                  \
    "{\"user\": {\"id\": 9009, \"username\": \"jane\"}, \"original_username\": \"jane\", \"original_email\": " \
    "\"j.o'ne+<x>@example.com\", \"ecommerce_segment_id\": \"ecom-1\", \"retired_username\": \"retired__x\"}"

/* One row: the config yaml for driver NAME (plugin's .so) and what get_instance, then the preview
 * of `method` for the learner (NULL: LEARNER) produce: "error: ..." or "status N\n" + each
 * described request + "message: ...". */
typedef struct plugin_case {
    const char *plugin, *name, *method, *learner, *yaml, *want;
} plugin_case;

/* What get_instance and the preview of c->method produce (malloc'd). */
static char *plugin_outcome(const plugin_case *c)
{
    const rd_driver *d = load_plugin(c->plugin);
    host_env e;
    host_env_init(&e, c->name, c->yaml);
    vk_buf out = {0};
    char err[1024] = "";
    void *inst = d->get_instance(host_config_root(e.host), e.host, err, sizeof err);
    if (!inst) {
        vk_buf_addf(&out, "error: %s", err);
    } else {
        const rd_method *m = d->methods;
        while (m->name && strcmp(m->name, c->method) != 0) m++;
        assert_non_null(m->name);
        cJSON *learner = cJSON_Parse(c->learner ? c->learner : LEARNER);
        host_call hc;
        host_call_init(&hc, e.host, 1);
        rd_status st = m->preview(inst, learner, &hc.call);
        vk_buf_addf(&out, "status %d\n", (int)st);
        const cJSON *r;
        cJSON_ArrayForEach(r, hc.requests) {
            vk_buf_addf(&out, "%s %s\n", cJSON_GetObjectItem(r, "method")->valuestring,
                        cJSON_GetObjectItem(r, "url")->valuestring);
            const cJSON *hd;
            cJSON_ArrayForEach(hd, cJSON_GetObjectItem(r, "headers")) vk_buf_addf(&out, "  %s\n", hd->valuestring);
            const cJSON *body = cJSON_GetObjectItem(r, "body");
            if (cJSON_IsString(body)) vk_buf_addf(&out, "  body %s\n", body->valuestring);
        }
        vk_buf_addf(&out, "message: %s", hc.call.message ? hc.call.message : "");
        host_call_done(&hc);
        cJSON_Delete(learner);
        d->destroy(inst);
    }
    host_env_free(&e);
    return out.s;
}

/* Fragments shared by several expected outcomes. */
#define SF_REST "  Content-Type: application/json\n" \
    "  Authorization: Bearer ********\n" \
    "  X-PrettyPrint: 1\n"
#define SF_LEAD_QUERY "query/?q=SELECT+Id+FROM+Lead+WHERE+Email+%3D+%27j.o%5C%27ne%2B%3Cx%3E%40example.com%27\n"
#define SF_TASK_BODY "  body {\"Description\": \"A user data retirement request has been made for j.o'ne+<x>@example.com who has been identified as a lead in Salesforce. Please manually retire the user data for this lead.\", \"Subject\": \"GDPR Request: j.o'ne+<x>@example.com\", \"WhoId\": \"{lead id}\", \"OwnerId\": \"{assignee id}\"}\n" \
    "message: opens a Salesforce Task for a person to retire the learner's Leads (only when a Lead has this e-mail); nothing is deleted automatically"
#define SF_SOAP "  content-type: text/xml\n" \
    "  charset: UTF-8\n" \
    "  SOAPAction: login\n"
#define HS_HEADERS "  content-type: application/json\n" \
    "  authorization: Bearer ********\n"
#define HS_SES "  Content-Type: application/x-www-form-urlencoded; charset=utf-8\n" \
    "  Authorization: AWS4-HMAC-SHA256 Credential=********\n" \
    "  body Action=SendEmail&Version=2010-12-01&Source=a%40example.com&Destination.ToAddresses.member.1=b%40example.com&Message.Subject.Data=Alert%3A%20Hubspot%20Deletion&Message.Subject.Charset=UTF-8&Message.Body.Text.Data=Learner%20with%20the%20VID%20%22%7Bvid%7D%22%20has%20been%20deleted%20from%20Hubspot.&Message.Body.Text.Charset=UTF-8\n" \
    "message: looks up the contact by e-mail (404 = nothing to delete), deletes it by vid, then e-mails the alert through SES; retries up to 5 attempts"
#define AMP_REQUEST "  Authorization: Basic ********\n" \
    "  Content-Type: application/json\n" \
    "  body {\"user_ids\": [9009], \"ignore_invalid_id\": \"true\", \"requester\": \"user-retirement-pipeline\"}\n" \
    "message: queues an Amplitude deletion job; only 200 counts as success; retries 429/5xx up to 5 attempts"
#define BRAZE_REQUEST "  Authorization: Bearer ********\n" \
    "  Content-Type: application/json\n" \
    "  body {\"external_ids\": [9009]}\n" \
    "message: deletes Braze user {\"external_ids\": [9009]} (not undoable); retries 429/5xx up to 5 attempts"
#define SEGMENT_HEADERS "  Authorization: Bearer ********\n" \
    "  Content-Type: application/json\n"
#define SEGMENT_CONFIG_API "  body {\"regulation_type\": \"Suppress_With_Delete\", \"attributes\": {\"name\": \"userId\", \"values\": [\"9009\", \"jane\", \"ecom-1\"]}}\n" \
    "message: queues a Segment Suppress_With_Delete (Config API) regulation (asynchronous); retries 429/5xx up to 4 attempts"

static const plugin_case cases[] = {
    {"amplitude", "AMPLITUDE", "delete_user", "{\"original_username\": \"jane\"}",
     "amplitude_api_key: k-1\n"
     "amplitude_secret_key: s-1\n",
     "status 3\n"
     "message: 'user'"},
    {"braze", "BRAZE", "delete_user", "{\"user\": {\"username\": \"jane\"}}",
     "braze_api_key: b-1\n",
     "status 3\n"
     "message: 'id'"},
    {"segment", "SEGMENT", "delete_and_suppress_learner", "{\"original_username\": \"jane\"}",
     "segment_api: public_api\n",
     "status 3\n"
     "message: 'user'"},
    {"segment", "SEGMENT", "delete_and_suppress_learner", "{\"user\": {\"username\": \"jane\"}, \"original_username\": \"jane\"}",
     "segment_api: public_api\n",
     "status 3\n"
     "message: 'id'"},
    {"segment", "SEGMENT", "delete_and_suppress_learner", "{\"user\": {\"id\": 9009}}",
     "segment_api: public_api\n",
     "status 3\n"
     "message: 'original_username'"},
    {"segment", "SEGMENT", "unsuppress_learner", "{\"user\": {\"id\": 9009}}",
     "segment_api: public_api\n",
     "status 3\n"
     "message: 'original_username'"},
    {"amplitude", "AMPLITUDE", "delete_user", NULL,
     "",
     "error: AMPLITUDE: amplitude_api_key is not set in the config; set amplitude_api_key and amplitude_secret_key to the project's API and secret keys"},
    {"amplitude", "AMPLITUDE", "delete_user", NULL,
     "amplitude_api_key: \"\"\n"
     "amplitude_secret_key: s-1\n",
     "status 4\n"
     "message: 'AMPLITUDE'"},
    {"amplitude", "AMPLITUDE", "delete_user", NULL,
     "amplitude_api_key: k-1\n"
     "amplitude_secret_key: s-1\n",
     "status 0\n"
     "POST https://amplitude.com/api/2/deletions/users\n"
     AMP_REQUEST},
    {"amplitude", "AMPLITUDE", "delete_user", NULL,
     "amplitude_api_key: k-1\n"
     "amplitude_secret_key: s-1\n"
     "amplitude_eu: true\n",
     "status 0\n"
     "POST https://analytics.eu.amplitude.com/api/2/deletions/users\n"
     AMP_REQUEST},
    {"amplitude", "AMPLITUDE", "delete_user", NULL,
     "amplitude_api_key: k-1\n"
     "amplitude_secret_key: s-1\n"
     "amplitude_eu: true\n"
     "amplitude_api_url: \"\"\n"
     "amplitude_base_url: \"http://127.0.0.1:9/amp//\"\n",
     "status 0\n"
     "POST http://127.0.0.1:9/amp/api/2/deletions/users\n"
     AMP_REQUEST},
    {"amplitude", "AMPLITUDE", "delete_user", NULL,
     "amplitude_api_key: k-1\n"
     "amplitude_secret_key: s-1\n"
     "amplitude_api_url: \"http://127.0.0.1:8/a/\"\n"
     "amplitude_base_url: \"http://127.0.0.1:9/b\"\n",
     "status 0\n"
     "POST http://127.0.0.1:8/a/api/2/deletions/users\n"
     AMP_REQUEST},
    {"braze", "BRAZE", "delete_user", NULL,
     "",
     "error: BRAZE: braze_api_key is not set in the config; set it to a Braze REST API key with the users.delete permission"},
    {"braze", "BRAZE", "delete_user", NULL,
     "braze_api_key: \"\"\n"
     "braze_instance: iad-01\n",
     "error: BRAZE: braze_api_key is not set in the config; set it to a Braze REST API key with the users.delete permission"},
    {"braze", "BRAZE", "delete_user", NULL,
     "braze_api_key: b-1\n",
     "status 0\n"
     "POST https://rest.None.braze.com/users/delete\n"
     BRAZE_REQUEST},
    {"braze", "BRAZE", "delete_user", NULL,
     "braze_api_key: b-1\n"
     "braze_instance: iad-01\n",
     "status 0\n"
     "POST https://rest.iad-01.braze.com/users/delete\n"
     BRAZE_REQUEST},
    {"braze", "BRAZE", "delete_user", NULL,
     "braze_api_key: b-1\n"
     "braze_instance: \"\"\n"
     "braze_rest_url: \"\"\n",
     "status 0\n"
     "POST https://rest..braze.com/users/delete\n"
     BRAZE_REQUEST},
    {"braze", "BRAZE", "delete_user", NULL,
     "braze_api_key: b-1\n"
     "braze_instance: iad-01\n"
     "braze_rest_url: \"https://rest.fra-01.braze.eu///\"\n"
     "braze_external_ids_as_strings: true\n",
     "status 0\n"
     "POST https://rest.fra-01.braze.eu/users/delete\n"
     SEGMENT_HEADERS
     "  body {\"external_ids\": [\"9009\"]}\n"
     "message: deletes Braze user {\"external_ids\": [\"9009\"]} (not undoable); retries 429/5xx up to 5 attempts"},
    {"hubspot", "HUBSPOT", "delete_user", NULL,
     "",
     "error: HUBSPOT: hubspot_api_key is not set in the config; set it to a HubSpot private-app access token with the crm.objects.contacts.write scope"},
    {"hubspot", "HUBSPOT", "delete_user", NULL,
     "hubspot_api_key: \"\"\n",
     "error: HUBSPOT: hubspot_api_key is not set in the config; set it to a HubSpot private-app access token with the crm.objects.contacts.write scope"},
    {"hubspot", "HUBSPOT", "delete_user", NULL,
     "hubspot_api_key: h-1\n"
     "hubspot_from_address: a@example.com\n"
     "hubspot_alert_email: b@example.com\n",
     "status 0\n"
     "GET https://api.hubapi.com/contacts/v1/contact/email/j.o'ne+%3Cx%3E@example.com/profile\n"
     HS_HEADERS
     "DELETE https://api.hubapi.com/contacts/v1/contact/vid/{vid}\n"
     HS_HEADERS
     "POST https://email.us-east-1.amazonaws.com/\n"
     HS_SES},
    {"hubspot", "HUBSPOT", "delete_user", NULL,
     "hubspot_api_key: h-1\n"
     "hubspot_aws_region: eu-west-1\n"
     "hubspot_from_address: a@example.com\n"
     "hubspot_alert_email: b@example.com\n",
     "status 0\n"
     "GET https://api.hubapi.com/contacts/v1/contact/email/j.o'ne+%3Cx%3E@example.com/profile\n"
     HS_HEADERS
     "DELETE https://api.hubapi.com/contacts/v1/contact/vid/{vid}\n"
     HS_HEADERS
     "POST https://email.eu-west-1.amazonaws.com/\n"
     HS_SES},
    {"hubspot", "HUBSPOT", "delete_user", NULL,
     "hubspot_api_key: h-1\n"
     "hubspot_api_url: \"http://127.0.0.1:7/hs/\"\n"
     "hubspot_ses_url: \"http://127.0.0.1:6/ses//\"\n"
     "hubspot_aws_region: eu-west-1\n"
     "hubspot_from_address: a@example.com\n"
     "hubspot_alert_email: b@example.com\n",
     "status 0\n"
     "GET http://127.0.0.1:7/hs/contacts/v1/contact/email/j.o'ne+%3Cx%3E@example.com/profile\n"
     HS_HEADERS
     "DELETE http://127.0.0.1:7/hs/contacts/v1/contact/vid/{vid}\n"
     HS_HEADERS
     "POST http://127.0.0.1:6/ses/\n"
     HS_SES},
    {"hubspot", "HUBSPOT", "delete_user", NULL,
     "hubspot_api_key: h-1\n"
     "hubspot_api_url: \"\"\n"
     "hubspot_gdpr_delete: true\n",
     "status 0\n"
     "POST https://api.hubapi.com/crm/v3/objects/contacts/gdpr-delete\n"
     HS_HEADERS
     "  body {\"objectId\": \"j.o'ne+<x>@example.com\", \"idProperty\": \"email\"}\n"
     "message: GDPR-deletes the HubSpot contact (an unknown address is blocklisted); retries up to 5 attempts"},
    {"segment", "SEGMENT", "delete_and_suppress_learner", NULL,
     "",
     "error: SEGMENT: base_urls.segment is not set in the config; set it to the Segment Config API base ending in '/', e.g. https://platform.segmentapis.com/"},
    {"segment", "SEGMENT", "delete_and_suppress_learner", NULL,
     "segment_api: graphql\n"
     "base_urls:\n"
     "  segment: \"https://platform.segmentapis.com/\"\n",
     "error: SEGMENT: segment_api is 'graphql'; use config_api (the upstream v1beta Config API) or public_api (the Segment Public API)"},
    {"segment", "SEGMENT", "delete_and_suppress_learner", NULL,
     "segment_auth_token: t-1\n"
     "segment_workspace_slug: acme\n"
     "base_urls:\n"
     "  segment: \"https://platform.segmentapis.com/\"\n",
     "status 0\n"
     "POST https://platform.segmentapis.com/v1beta/workspaces/acme/regulations\n"
     SEGMENT_HEADERS
     SEGMENT_CONFIG_API},
    {"segment", "SEGMENT", "delete_and_suppress_learner", NULL,
     "segment_api: config_api\n"
     "segment_auth_token: t-1\n"
     "base_urls:\n"
     "  segment: \"\"\n"
     "segment_base_url: \"http://127.0.0.1:5/\"\n",
     "status 0\n"
     "POST http://127.0.0.1:5/v1beta/workspaces/None/regulations\n"
     SEGMENT_HEADERS
     SEGMENT_CONFIG_API},
    {"segment", "SEGMENT", "unsuppress_learner", NULL,
     "segment_api: public_api\n"
     "segment_auth_token: t-1\n",
     "status 0\n"
     "POST https://api.segmentapis.com/regulations\n"
     SEGMENT_HEADERS
     "  body {\"regulationType\": \"UNSUPPRESS\", \"subjectType\": \"USER_ID\", \"subjectIds\": [\"jane\"]}\n"
     "message: queues a Segment Unsuppress regulation for the learner's original username"},
    {"segment", "SEGMENT", "delete_and_suppress_learner", NULL,
     "segment_api: public_api\n"
     "segment_auth_token: t-1\n"
     "segment_public_api_url: \"http://127.0.0.1:4/pub//\"\n",
     "status 0\n"
     "POST http://127.0.0.1:4/pub/regulations\n"
     SEGMENT_HEADERS
     "  body {\"regulationType\": \"SUPPRESS_WITH_DELETE\", \"subjectType\": \"USER_ID\", \"subjectIds\": [\"9009\", \"jane\", \"ecom-1\"]}\n"
     "message: queues a Segment SUPPRESS_WITH_DELETE (Public API) regulation (asynchronous); retries 429/5xx up to 4 attempts"},
    {"salesforce", "SALESFORCE", "retire_learner", NULL,
     "salesforce_auth: jwt\n",
     "error: SALESFORCE: salesforce_auth is 'jwt'; use soap (username, password and security token, the upstream login) or client_credentials (OAuth 2.0)"},
    {"salesforce", "SALESFORCE", "retire_learner", NULL,
     "",
     "status 4\n"
     "message: 'SALESFORCE'"},
    {"salesforce", "SALESFORCE", "retire_learner", NULL,
     "salesforce_user: \"u<&>'\\\"@example.com\"\n"
     "salesforce_password: p-1\n"
     "salesforce_token: t-1\n"
     "salesforce_assignee: \"a'b\\\"c\\\\d\\n\\r\\t\\b\\f\"\n",
     "status 0\n"
     "POST https://login.salesforce.com/services/Soap/u/57.0\n"
     SF_SOAP
     "  body <login> username=u&lt;&amp;&gt;&apos;&quot;@example.com password=******** </login>\n"
     "GET {instance}/services/data/v57.0/query/?q=SELECT+Id+FROM+User+WHERE+Username+%3D+%27a%5C%27b%5C%22c%5C%5Cd%5Cn%5Cr%5Ct%5Cb%5Cf%27\n"
     SF_REST
     "GET {instance}/services/data/v57.0/"
     SF_LEAD_QUERY
     SF_REST
     "POST {instance}/services/data/v57.0/sobjects/Task/\n"
     SF_REST
     SF_TASK_BODY},
    {"salesforce", "SALESFORCE", "retire_learner", NULL,
     "salesforce_auth: soap\n"
     "salesforce_user: u\n"
     "salesforce_password: p-1\n"
     "salesforce_token: t-1\n"
     "salesforce_domain: test\n"
     "salesforce_api_version: \"59.0\"\n"
     "salesforce_instance_url: \"https://acme.my.salesforce.com/\"\n",
     "status 0\n"
     "POST https://test.salesforce.com/services/Soap/u/59.0\n"
     SF_SOAP
     "  body <login> username=u password=******** </login>\n"
     "GET https://acme.my.salesforce.com/services/data/v59.0/query/?q=SELECT+Id+FROM+User+WHERE+Username+%3D+%27None%27\n"
     SF_REST
     "GET https://acme.my.salesforce.com/services/data/v59.0/"
     SF_LEAD_QUERY
     SF_REST
     "POST https://acme.my.salesforce.com/services/data/v59.0/sobjects/Task/\n"
     SF_REST
     SF_TASK_BODY},
    {"salesforce", "SALESFORCE", "retire_learner", NULL,
     "salesforce_auth: client_credentials\n"
     "salesforce_client_id: c-1\n"
     "salesforce_client_secret: cs-1\n"
     "salesforce_login_url: \"https://acme.my.salesforce.com//\"\n"
     "salesforce_domain: test\n"
     "salesforce_api_version: \"\"\n",
     "status 0\n"
     "POST https://acme.my.salesforce.com/services/oauth2/token\n"
     "  Content-Type: application/x-www-form-urlencoded\n"
     "  body grant_type=client_credentials&client_id=c-1&client_secret=********\n"
     "GET {instance}/services/data/v57.0/query/?q=SELECT+Id+FROM+User+WHERE+Username+%3D+%27None%27\n"
     SF_REST
     "GET {instance}/services/data/v57.0/"
     SF_LEAD_QUERY
     SF_REST
     "POST {instance}/services/data/v57.0/sobjects/Task/\n"
     SF_REST
     SF_TASK_BODY},
};

static void test_plugins_build_instances_as_before(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = plugin_outcome(&cases[i]);
        if (strcmp(got, cases[i].want) != 0) {
            bad++;
            fprintf(stderr, "case %zu (%s):\n--- want\n%s\n--- got\n%s\n", i, cases[i].plugin, cases[i].want, got);
        }
        free(got);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_helpers),
        cmocka_unit_test(test_get_instance),
        cmocka_unit_test(test_text_helpers),
        cmocka_unit_test(test_plugins_build_instances_as_before),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
