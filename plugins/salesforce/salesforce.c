/*
 * SALESFORCE driver: opens a manual-work Task for a human to retire the learner's Leads
 * (docs/vendors.md, "SALESFORCE"). Nothing is deleted automatically.
 *
 * Pipeline method: retire_learner (learner field original_email).
 * Login (lazily, on the first call, not at setup: a bad login fails only the Salesforce step
 * of the learner being retired instead of every run; see docs/vendors.md, "SALESFORCE"):
 *   salesforce_auth: soap (default, upstream): SOAP partner login()
 *     POST {login}/services/Soap/u/{ver} with salesforce_user and
 *     salesforce_password + salesforce_token; the REST host is serverUrl's host minus "-api".
 *   salesforce_auth: client_credentials (not upstream; SOAP login is being retired):
 *     POST {login}/services/oauth2/token grant_type=client_credentials with
 *     salesforce_client_id / salesforce_client_secret -> access_token + instance_url.
 *   then the assignee: SELECT Id FROM User WHERE Username = '<salesforce_assignee>'.
 * Per learner: GET {instance}/services/data/v{ver}/query/?q=SELECT Id FROM Lead WHERE Email = '<e>'
 *   totalSize 0 -> nothing to do (NOT_FOUND); else POST .../sobjects/Task/ with Description,
 *   Subject "GDPR Request: <e>", WhoId (first lead), OwnerId (assignee).
 * Retries: connection errors only, up to RETRY_SALESFORCE_MAX_ATTEMPTS (default 5) attempts per
 * call; HTTP errors are never retried and fail with simple-salesforce's error texts.
 *
 * Config: salesforce_user, salesforce_password, salesforce_token, salesforce_domain (default
 * login; "test" for sandboxes), salesforce_assignee; not upstream: salesforce_auth,
 * salesforce_client_id, salesforce_client_secret, salesforce_api_version (default 57.0, as the
 * simple-salesforce 1.12.5 upstream pins; set "59.0" or newer to move on),
 * salesforce_login_url (default https://{domain}.salesforce.com), salesforce_instance_url
 * (overrides the REST base the login returns).
 */
#include "../vendorkit/vendorkit.h"

/* simple-salesforce 1.12.5 (what upstream pins): API 57.0 and SOAP client name
 * "simple-salesforce"; 59.0 is only the default from 1.12.6 (salesforce_api_version: "59.0"). */
#define SF_DEFAULT_VERSION "57.0"
#define SF_CLIENT_NAME "simple-salesforce"
#define SF_TASK_DESCRIPTION                                                                                    \
    "A user data retirement request has been made for %s who has been identified as a lead in Salesforce. " \
    "Please manually retire the user data for this lead."

typedef struct salesforce {
    const rd_host *host;
    char *user;
    char *password;      /* secret */
    char *token;         /* secret */
    char *client_id;
    char *client_secret; /* secret */
    char *assignee;
    char *login_url;     /* scheme://host, no trailing '/' */
    char *instance_override;
    char *version;
    int oauth;
    int configured;
    int max_attempts;
    double retry_base;
    /* filled by the lazy login */
    char *session;       /* secret */
    char *rest_base;     /* {instance}/services/data/v{ver}/ */
    char *assignee_id;
} salesforce;

static void salesforce_destroy(void *inst)
{
    salesforce *s = inst;
    if (!s) return;
    free(s->user);
    free(s->password);
    free(s->token);
    free(s->client_id);
    free(s->client_secret);
    free(s->assignee);
    free(s->login_url);
    free(s->instance_override);
    free(s->version);
    free(s->session);
    free(s->rest_base);
    free(s->assignee_id);
    free(s);
}

/* Reads the settings into s; no network (login happens on the first call). */
static int salesforce_configure(void *inst, const rd_host *host, char *err, size_t err_len)
{
    salesforce *s = inst;
    s->host = host;
    s->user = vk_config_dup(host, "salesforce_user");
    s->password = vk_config_dup(host, "salesforce_password");
    s->token = vk_config_dup(host, "salesforce_token");
    s->client_id = vk_config_dup(host, "salesforce_client_id");
    s->client_secret = vk_config_dup(host, "salesforce_client_secret");
    s->assignee = vk_config_dup(host, "salesforce_assignee");
    s->instance_override = vk_config_dup(host, "salesforce_instance_url");
    s->version = vk_config_or(host, "salesforce_api_version", SF_DEFAULT_VERSION);
    const char *auth = host->config_string(host, "salesforce_auth");
    if (auth && strcmp(auth, "client_credentials") == 0) {
        s->oauth = 1;
    } else if (auth && strcmp(auth, "soap") != 0) {
        return vk_error(err, err_len,
                        "SALESFORCE: salesforce_auth is '%s'; use soap (username, password and security token, the "
                        "upstream login) or client_credentials (OAuth 2.0)",
                        auth);
    }
    s->configured = s->oauth ? vk_truthy(s->client_id) && vk_truthy(s->client_secret)
                             : vk_truthy(s->user) && vk_truthy(s->password) && vk_truthy(s->token);
    s->login_url = vk_config_url(host, "salesforce_login_url", NULL);
    if (!s->login_url) {
        char *domain = vk_config_or(host, "salesforce_domain", "login");
        s->login_url = domain ? vk_strf("https://%s.salesforce.com", domain) : NULL;
        free(domain);
    }
    if (!s->login_url || !s->version) return vk_error(err, err_len, "SALESFORCE: out of memory");
    s->max_attempts = vk_env_attempts("RETRY_SALESFORCE_MAX_ATTEMPTS", 5);
    s->retry_base = vk_retry_base(host);
    return 0;
}

/* Builds an instance (salesforce_configure reads the settings). */
static void *salesforce_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return vk_get_instance(host, sizeof(salesforce), "SALESFORCE", salesforce_configure, salesforce_destroy, err,
                           err_len);
}

/* XML's five predefined entities. */
static const vk_subst sf_xml_entities[] = {
    {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&apos;"}, {0, NULL},
};

/* Appends s XML-escaped (&, <, >, ", '). */
static void sf_xml_escape(vk_buf *b, const char *s) { vk_escape(b, s, sf_xml_entities); }

/* malloc'd text between <tag> and </tag> (tag may carry a prefix such as "sf:"), XML-unescaped. */
static char *sf_xml_value(const char *xml, const char *tag)
{
    char open[128], close[128];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(xml, open);
    if (!a) return NULL;
    a += strlen(open);
    const char *z = strstr(a, close);
    if (!z) return NULL;
    vk_buf b = {0};
    for (const char *p = a; p < z; p++) {
        const vk_subst *e = sf_xml_entities;
        while (e->with && !(*p == '&' && strncmp(p, e->with, strlen(e->with)) == 0)) e++;
        if (e->with) {
            vk_buf_addn(&b, &e->c, 1);
            p += strlen(e->with) - 1;
        } else {
            vk_buf_addn(&b, p, 1);
        }
    }
    return b.s ? b.s : strdup("");
}

/* Appends a SOQL string literal (simple-salesforce format_soql quoting). */
static void sf_soql_quote(vk_buf *b, const char *s)
{
    static const vk_subst soql[] = {
        {'\\', "\\\\"}, {'\'', "\\'"}, {'"', "\\\""}, {'\n', "\\n"}, {'\r', "\\r"},
        {'\t', "\\t"}, {'\b', "\\b"}, {'\f', "\\f"}, {0, NULL},
    };
    vk_buf_add(b, "'");
    vk_escape(b, s, soql);
    vk_buf_add(b, "'");
}

/* Sends req, retrying only when no response arrived (requests.ConnectionError), up to
 * max_attempts. Returns 0 with resp filled, or -1 with the transport error in call. */
static int sf_send(const salesforce *s, const rd_http_request *req, rd_http_response *resp, const char *what,
                   rd_call *call)
{
    const rd_host *host = s->host;
    for (int attempt = 1;; attempt++) {
        *resp = rd_http_response_new();
        if (host->http(host, req, resp) == 0) return 0;
        rd_call_message(call, "Salesforce %s failed: no response from %s: %s", what, req->url, resp->error);
        host->http_free(host, resp);
        if (attempt >= s->max_attempts) break;
        double wait = vk_expo_wait(s->retry_base, attempt);
        host->log(host, RD_LOG_INFO, "Backing off %s for %.1fs (ConnectionError)", what, wait);
        if (vk_sleep(host, wait) != 0) break;
    }
    host->log(host, RD_LOG_ERROR, "%s", call->message);
    return -1;
}

/* Fills call with simple-salesforce's exception text for an HTTP status >= 300, followed by
 * "\n" and the response content, as upstream records it. */
static void sf_http_error(rd_call *call, const rd_http_response *resp, const char *url, const char *name)
{
    vk_buf content = {0};
    cJSON *j = cJSON_ParseWithLength(vk_body(resp), resp->body_len);
    if (j) {
        vk_pyrepr(&content, j);
    } else {
        vk_buf_add(&content, vk_body(resp));
    }
    cJSON_Delete(j);
    const char *c = vk_buf_str(&content);
    /* str(exc), then "\n" + str(exc.content) as upstream's ERRORED text adds for an exception
     * with a .content (simple-salesforce's HTTP errors have one) */
    switch (resp->status) {
    case 300: rd_call_message(call, "More than one record for %s. Response content: %s\n%s", url, c, c); break;
    case 400: rd_call_message(call, "Malformed request %s. Response content: %s\n%s", url, c, c); break;
    case 401: rd_call_message(call, "Expired session for %s. Response content: %s\n%s", url, c, c); break;
    case 403: rd_call_message(call, "Request refused for %s. Response content: %s\n%s", url, c, c); break;
    case 404: rd_call_message(call, "Resource %s Not Found. Response content: %s\n%s", name, c, c); break;
    default: rd_call_message(call, "Error Code %ld. Response content: %s\n%s", resp->status, c, c); break;
    }
    vk_buf_free(&content);
}

/* REST headers with the session token (auth buffer must hold the Authorization line). */
static void sf_rest_headers(const salesforce *s, char *auth, size_t len, const char *headers[4])
{
    snprintf(auth, len, "Authorization: Bearer %s", s->session ? s->session : "");
    headers[0] = "Content-Type: application/json";
    headers[1] = auth;
    headers[2] = "X-PrettyPrint: 1";
    headers[3] = NULL;
}

/* The query URL for a SOQL statement (malloc'd). */
static char *sf_query_url(const char *rest_base, const char *soql)
{
    vk_buf b = {0};
    vk_buf_addf(&b, "%squery/?q=", rest_base);
    vk_quote_plus(&b, soql);
    return b.s;
}

/* Runs a SOQL query; returns the parsed JSON (caller frees) or NULL with the error in call. */
static cJSON *sf_query(const salesforce *s, const char *soql, rd_call *call)
{
    const rd_host *host = s->host;
    char auth[4096];
    const char *headers[4];
    sf_rest_headers(s, auth, sizeof auth, headers);
    char *url = sf_query_url(s->rest_base, soql);
    const char *secrets[] = {s->session, NULL};
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request),
                           .method = "GET", .url = url, .headers = headers, .auth = RD_AUTH_NONE,
                           .retry = RD_RETRY_NONE, .secret_values = secrets};
    rd_http_response resp = rd_http_response_new();
    if (sf_send(s, &req, &resp, "query", call) != 0) {
        free(url);
        return NULL;
    }
    cJSON *j = NULL;
    if (resp.status >= 300) {
        sf_http_error(call, &resp, url, "query");
        host->log(host, RD_LOG_ERROR, "%s", call->message);
    } else {
        j = cJSON_ParseWithLength(vk_body(&resp), resp.body_len);
        if (!cJSON_IsObject(j) || !cJSON_GetObjectItemCaseSensitive(j, "totalSize")) {
            rd_call_message(call, "Salesforce query answered HTTP %ld with a body that is not a query result: %.200s",
                            resp.status, vk_body(&resp));
            cJSON_Delete(j);
            j = NULL;
        }
    }
    host->http_free(host, &resp);
    free(url);
    return j;
}

/* totalSize of a query result as an int. */
static int sf_total(const cJSON *q)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(q, "totalSize");
    if (cJSON_IsNumber(t)) return t->valueint;
    if (cJSON_IsString(t)) return atoi(t->valuestring);
    return 0;
}

/* SOAP partner login. 0, or -1 with the message in call. */
static int sf_login_soap(salesforce *s, rd_call *call)
{
    const rd_host *host = s->host;
    vk_buf env = {0};
    vk_buf_add(&env, "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
                     "<env:Envelope\n"
                     "        xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"\n"
                     "        xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
                     "        xmlns:env=\"http://schemas.xmlsoap.org/soap/envelope/\"\n"
                     "        xmlns:urn=\"urn:partner.soap.sforce.com\">\n"
                     "    <env:Header>\n"
                     "        <urn:CallOptions>\n"
                     "            <urn:client>" SF_CLIENT_NAME "</urn:client>\n"
                     "            <urn:defaultNamespace>sf</urn:defaultNamespace>\n"
                     "        </urn:CallOptions>\n"
                     "    </env:Header>\n"
                     "    <env:Body>\n"
                     "        <n1:login xmlns:n1=\"urn:partner.soap.sforce.com\">\n"
                     "            <n1:username>");
    sf_xml_escape(&env, s->user);
    vk_buf_add(&env, "</n1:username>\n            <n1:password>");
    sf_xml_escape(&env, s->password);
    sf_xml_escape(&env, s->token);
    vk_buf_add(&env, "</n1:password>\n        </n1:login>\n    </env:Body>\n</env:Envelope>");
    char url[1024];
    snprintf(url, sizeof url, "%s/services/Soap/u/%s", s->login_url, s->version);
    const char *headers[] = {"content-type: text/xml", "charset: UTF-8", "SOAPAction: login", NULL};
    const char *secrets[] = {s->password, s->token, NULL};
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request),
                           .method = "POST", .url = url, .headers = headers, .body = vk_buf_str(&env),
                           .body_len = env.len, .auth = RD_AUTH_NONE, .retry = RD_RETRY_NONE,
                           .secret_values = secrets};
    rd_http_response resp = rd_http_response_new();
    int rc = sf_send(s, &req, &resp, "login", call);
    vk_buf_free(&env);
    if (rc != 0) return -1;
    const char *body = vk_body(&resp);
    if (resp.status != 200) {
        char *code = sf_xml_value(body, "sf:exceptionCode");
        char *msg = sf_xml_value(body, "sf:exceptionMessage");
        if (!code) code = sf_xml_value(body, "faultcode");
        if (!msg) msg = sf_xml_value(body, "faultstring");
        rd_call_message(call, "%s: %s", code ? code : "UNKNOWN_EXCEPTION",
                        msg ? msg : "Salesforce login failed; check salesforce_user, salesforce_password and "
                                    "salesforce_token");
        free(code);
        free(msg);
        host->http_free(host, &resp);
        host->log(host, RD_LOG_ERROR, "Salesforce login at %s failed: %s", url, call->message);
        return -1;
    }
    char *session = sf_xml_value(body, "sessionId");
    char *server = sf_xml_value(body, "serverUrl");
    host->http_free(host, &resp);
    if (!session || !server) {
        rd_call_message(call, "Salesforce login at %s answered 200 without sessionId/serverUrl", url);
        free(session);
        free(server);
        return -1;
    }
    s->session = session;
    if (vk_truthy(s->instance_override)) {
        char *b = vk_strip_slash(s->instance_override);
        if (asprintf(&s->rest_base, "%s/services/data/v%s/", b, s->version) < 0) s->rest_base = NULL;
        free(b);
    } else {
        /* simple-salesforce: serverUrl's host with "-api" removed, always https */
        const char *p = strstr(server, "://");
        p = p ? p + 3 : server;
        size_t n = strcspn(p, "/");
        vk_buf inst = {0};
        vk_buf_addn(&inst, p, n);
        char *dash = strstr(inst.s ? inst.s : "", "-api");
        if (dash) memmove(dash, dash + 4, strlen(dash + 4) + 1);
        if (asprintf(&s->rest_base, "https://%s/services/data/v%s/", vk_buf_str(&inst), s->version) < 0)
            s->rest_base = NULL;
        vk_buf_free(&inst);
    }
    free(server);
    return s->rest_base ? 0 : -1;
}

/* OAuth 2.0 client-credentials login. 0, or -1 with the message in call. */
static int sf_login_oauth(salesforce *s, rd_call *call)
{
    const rd_host *host = s->host;
    vk_buf form = {0};
    vk_buf_add(&form, "grant_type=client_credentials&client_id=");
    vk_quote_plus(&form, s->client_id);
    vk_buf_add(&form, "&client_secret=");
    vk_quote_plus(&form, s->client_secret);
    char url[1024];
    snprintf(url, sizeof url, "%s/services/oauth2/token", s->login_url);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *secrets[] = {s->client_secret, NULL};
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request),
                           .method = "POST", .url = url, .headers = headers, .body = vk_buf_str(&form),
                           .body_len = form.len, .auth = RD_AUTH_NONE, .retry = RD_RETRY_NONE,
                           .secret_values = secrets};
    rd_http_response resp = rd_http_response_new();
    int rc = sf_send(s, &req, &resp, "OAuth token request", call);
    vk_buf_free(&form);
    if (rc != 0) return -1;
    cJSON *j = cJSON_ParseWithLength(vk_body(&resp), resp.body_len);
    const cJSON *tok = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "access_token") : NULL;
    const cJSON *inst = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "instance_url") : NULL;
    if (resp.status != 200 || !cJSON_IsString(tok) || !cJSON_IsString(inst)) {
        const cJSON *e = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
        const cJSON *d = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "error_description") : NULL;
        rd_call_message(call, "Salesforce OAuth token request to %s failed with HTTP %ld: %s: %s; check "
                              "salesforce_client_id and salesforce_client_secret",
                        url, resp.status, cJSON_IsString(e) ? e->valuestring : "unknown_error",
                        cJSON_IsString(d) ? d->valuestring : "no description");
        host->log(host, RD_LOG_ERROR, "%s", call->message);
        cJSON_Delete(j);
        host->http_free(host, &resp);
        return -1;
    }
    s->session = strdup(tok->valuestring);
    char *b = vk_strip_slash(vk_truthy(s->instance_override) ? s->instance_override : inst->valuestring);
    if (asprintf(&s->rest_base, "%s/services/data/v%s/", b, s->version) < 0) s->rest_base = NULL;
    free(b);
    cJSON_Delete(j);
    host->http_free(host, &resp);
    return s->session && s->rest_base ? 0 : -1;
}

/* The upstream constructor, done lazily: login then the assignee lookup. */
static rd_status sf_connect(salesforce *s, rd_call *call)
{
    if (s->assignee_id) return RD_OK;
    const rd_host *host = s->host;
    free(s->session);
    free(s->rest_base);
    s->session = s->rest_base = NULL;
    if ((s->oauth ? sf_login_oauth(s, call) : sf_login_soap(s, call)) != 0) return RD_FAILED;
    vk_buf soql = {0};
    vk_buf_add(&soql, "SELECT Id FROM User WHERE Username = ");
    sf_soql_quote(&soql, s->assignee ? s->assignee : "None");
    cJSON *q = sf_query(s, vk_buf_str(&soql), call);
    vk_buf_free(&soql);
    if (!q) return RD_FAILED;
    const cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(q, "records"), 0);
    const cJSON *id = rec ? cJSON_GetObjectItemCaseSensitive(rec, "Id") : NULL;
    if (sf_total(q) == 0 || !cJSON_IsString(id)) {
        rd_call_message(call, "Could not find Salesforce user with username %s", s->assignee ? s->assignee : "None");
        host->log(host, RD_LOG_ERROR, "%s (check salesforce_assignee)", call->message);
        cJSON_Delete(q);
        return RD_CONFIG;
    }
    s->assignee_id = strdup(id->valuestring);
    cJSON_Delete(q);
    return RD_OK;
}

/* The learner's original_email, or NULL with the upstream TypeError text in call. */
static const char *sf_email(const cJSON *learner, rd_call *call)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(learner, "original_email");
    if (!cJSON_IsString(e) || !e->valuestring[0]) {
        rd_call_message(call, "Expected an email address for user to delete, but received None.");
        return NULL;
    }
    return e->valuestring;
}

/* Fails like upstream when the object was never created (credentials incomplete). */
static int sf_unconfigured(const salesforce *s, rd_call *call)
{
    if (s->configured) return 0;
    s->host->log(s->host, RD_LOG_ERROR,
                 s->oauth ? "SALESFORCE is in the pipeline but salesforce_client_id and salesforce_client_secret are "
                            "not both set; set them and resume the learner"
                          : "SALESFORCE is in the pipeline but salesforce_user, salesforce_password and "
                            "salesforce_token are not all set (upstream then fails the step with KeyError "
                            "'SALESFORCE'); set them and resume the learner");
    rd_call_message(call, "'SALESFORCE'");
    return 1;
}

/* The Task body (Python json.dumps of upstream's dict, same key order). */
static void sf_task_body(const char *email, const cJSON *records, const char *assignee_id, vk_buf *out)
{
    vk_buf desc = {0};
    vk_buf_addf(&desc, SF_TASK_DESCRIPTION, email);
    int n = cJSON_GetArraySize(records);
    if (n > 1) {
        vk_buf_add(&desc, "\nNotice: Multiple leads were identified with the same email. Please retire all following "
                          "leads:");
        const cJSON *r;
        cJSON_ArrayForEach(r, records) {
            vk_buf_add(&desc, "\n");
            vk_pystr(&desc, cJSON_GetObjectItemCaseSensitive(r, "Id"));
        }
    }
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "Description", vk_buf_str(&desc));
    vk_buf subj = {0};
    vk_buf_addf(&subj, "GDPR Request: %s", email);
    cJSON_AddStringToObject(t, "Subject", vk_buf_str(&subj));
    const cJSON *who = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(records, 0), "Id");
    cJSON_AddItemToObject(t, "WhoId", who ? cJSON_Duplicate(who, 1) : cJSON_CreateNull());
    cJSON_AddStringToObject(t, "OwnerId", assignee_id);
    vk_dumps(out, t);
    cJSON_Delete(t);
    vk_buf_free(&desc);
    vk_buf_free(&subj);
}

/* retire_learner: find Leads by e-mail, open one Task for them. */
static rd_status salesforce_retire_learner(void *inst, const cJSON *learner, rd_call *call)
{
    salesforce *s = inst;
    const rd_host *host = s->host;
    if (sf_unconfigured(s, call)) return RD_CONFIG;
    const char *email = sf_email(learner, call);
    if (!email) return RD_FAILED;
    rd_status st = sf_connect(s, call);
    if (st != RD_OK) return st;

    vk_buf soql = {0};
    vk_buf_add(&soql, "SELECT Id FROM Lead WHERE Email = ");
    sf_soql_quote(&soql, email);
    cJSON *q = sf_query(s, vk_buf_str(&soql), call);
    vk_buf_free(&soql);
    if (!q) return RD_FAILED;
    if (sf_total(q) == 0) {
        host->log(host, RD_LOG_INFO, "No action taken because no lead was found in Salesforce.");
        cJSON_Delete(q);
        rd_call_message(call, "None");
        return RD_NOT_FOUND;
    }
    const cJSON *records = cJSON_GetObjectItemCaseSensitive(q, "records");
    if (cJSON_GetArraySize(records) > 1) host->log(host, RD_LOG_WARN, "Multiple Ids returned for Lead with email %s", email);

    vk_buf body = {0};
    sf_task_body(email, records, s->assignee_id, &body);
    cJSON_Delete(q);
    char auth[4096];
    const char *headers[4];
    sf_rest_headers(s, auth, sizeof auth, headers);
    char *url = NULL;
    if (asprintf(&url, "%ssobjects/Task/", s->rest_base) < 0) url = NULL;
    const char *secrets[] = {s->session, NULL};
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request),
                           .method = "POST", .url = url, .headers = headers, .body = vk_buf_str(&body),
                           .body_len = body.len, .auth = RD_AUTH_NONE, .retry = RD_RETRY_NONE,
                           .secret_values = secrets};
    rd_http_response resp = rd_http_response_new();
    if (!url || sf_send(s, &req, &resp, "Task creation", call) != 0) {
        free(url);
        vk_buf_free(&body);
        return RD_RETRYABLE;
    }
    vk_buf_free(&body);
    if (resp.status >= 300) {
        sf_http_error(call, &resp, url, "Task");
        host->log(host, RD_LOG_ERROR, "%s", call->message);
        st = resp.status >= 500 ? RD_RETRYABLE : RD_FAILED;
    } else {
        cJSON *j = cJSON_ParseWithLength(vk_body(&resp), resp.body_len);
        const cJSON *ok = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "success") : NULL;
        if (cJSON_IsTrue(ok)) {
            vk_buf id = {0};
            vk_pystr(&id, cJSON_GetObjectItemCaseSensitive(j, "id"));
            host->log(host, RD_LOG_INFO, "Successfully salesforce task created task %s", vk_buf_str(&id));
            vk_buf_free(&id);
            rd_call_message(call, "None");
            st = RD_OK;
        } else {
            host->log(host, RD_LOG_ERROR, "Errors while creating task:");
            const cJSON *errs = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "errors") : NULL;
            const cJSON *e;
            cJSON_ArrayForEach(e, errs) {
                vk_buf t = {0};
                vk_pystr(&t, e);
                host->log(host, RD_LOG_ERROR, "%s", vk_buf_str(&t));
                vk_buf_free(&t);
            }
            rd_call_message(call, "Unable to create retirement task for email %s", email);
            st = RD_FAILED;
        }
        cJSON_Delete(j);
    }
    host->http_free(host, &resp);
    free(url);
    return st;
}

/* retire_learner preview: the requests it would send (no login: nothing is sent). */
static rd_status salesforce_preview_retire_learner(void *inst, const cJSON *learner, rd_call *call)
{
    salesforce *s = inst;
    if (sf_unconfigured(s, call)) return RD_CONFIG;
    const char *email = sf_email(learner, call);
    if (!email) return RD_FAILED;
    char url[1024];
    if (s->oauth) {
        snprintf(url, sizeof url, "%s/services/oauth2/token", s->login_url);
        const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
        vk_buf form = {0};
        vk_buf_add(&form, "grant_type=client_credentials&client_id=");
        vk_quote_plus(&form, s->client_id);
        vk_buf_add(&form, "&client_secret=********");
        rd_call_describe(call, "POST", url, h, vk_buf_str(&form));
        vk_buf_free(&form);
    } else {
        snprintf(url, sizeof url, "%s/services/Soap/u/%s", s->login_url, s->version);
        const char *h[] = {"content-type: text/xml", "charset: UTF-8", "SOAPAction: login", NULL};
        vk_buf b = {0};
        vk_buf_add(&b, "<login> username=");
        sf_xml_escape(&b, s->user);
        vk_buf_add(&b, " password=******** </login>");
        rd_call_describe(call, "POST", url, h, vk_buf_str(&b));
        vk_buf_free(&b);
    }
    char *base = vk_strip_slash(vk_truthy(s->instance_override) ? s->instance_override : "{instance}");
    char rest[1024];
    snprintf(rest, sizeof rest, "%s/services/data/v%s/", base ? base : "", s->version);
    free(base);
    const char *h[] = {"Content-Type: application/json", "Authorization: Bearer ********", "X-PrettyPrint: 1", NULL};
    vk_buf soql = {0};
    vk_buf_add(&soql, "SELECT Id FROM User WHERE Username = ");
    sf_soql_quote(&soql, s->assignee ? s->assignee : "None");
    char *qu = sf_query_url(rest, vk_buf_str(&soql));
    rd_call_describe(call, "GET", qu, h, NULL);
    free(qu);
    vk_buf_free(&soql);
    vk_buf_add(&soql, "SELECT Id FROM Lead WHERE Email = ");
    sf_soql_quote(&soql, email);
    qu = sf_query_url(rest, vk_buf_str(&soql));
    rd_call_describe(call, "GET", qu, h, NULL);
    free(qu);
    vk_buf_free(&soql);
    char turl[1100];
    snprintf(turl, sizeof turl, "%ssobjects/Task/", rest);
    cJSON *recs = cJSON_Parse("[{\"Id\":\"{lead id}\"}]");
    vk_buf body = {0};
    sf_task_body(email, recs, "{assignee id}", &body);
    rd_call_describe(call, "POST", turl, h, vk_buf_str(&body));
    vk_buf_free(&body);
    cJSON_Delete(recs);
    rd_call_message(call, "opens a Salesforce Task for a person to retire the learner's Leads (only when a Lead has "
                          "this e-mail); nothing is deleted automatically");
    return RD_OK;
}

static const rd_method salesforce_methods[] = {
    RD_METHOD("retire_learner", salesforce_retire_learner, salesforce_preview_retire_learner),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_salesforce =
    RD_DRIVER_INIT("SALESFORCE", "1.0.0", "Salesforce: open a Task to retire the Leads with the learner's e-mail",
                   salesforce_get_instance, salesforce_destroy, salesforce_methods);
