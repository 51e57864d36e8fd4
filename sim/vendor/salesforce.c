/* retirectl-sim: Salesforce emulation under /vendor/salesforce.
 *   POST /services/Soap/u/{ver}          SOAP partner login (username, password+security token)
 *   POST /services/oauth2/token          OAuth 2.0 client credentials
 *   GET  /services/data/v{ver}/query/?q= SOQL: SELECT Id FROM User WHERE Username = '...' and
 *                                        SELECT Id FROM Lead WHERE Email = '...' (quoted literals)
 *   POST /services/data/v{ver}/sobjects/Task/
 * Options (defaults): salesforce_user (sf-user@example.com), salesforce_password (sim-sf-password),
 * salesforce_token (SIMTOKEN), salesforce_client_id (sim-sf-client), salesforce_client_secret
 * (sim-sf-client-secret), salesforce_users (retirement-admin@example.com; comma-separated User
 * usernames), salesforce_no_lead (e-mails without a Lead), salesforce_multi_lead (e-mails with two
 * Leads), salesforce_task_fail=1 (Task create answers success:false). Errors use Salesforce's
 * shapes (SOAP fault; JSON array of {message, errorCode}). Fault endpoints: salesforce_login,
 * salesforce_oauth, salesforce_query, salesforce_task. */
#include "vendor.h"
#include "common/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SF_SESSION "00DSIM0000000001!AQ8AQSimSessionId"

static pthread_mutex_t sf_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *sf_tasks;   /* array of created Task bodies (+ "Id") */
static cJSON *sf_queries; /* array of SOQL statements received (decoded) */
static long sf_logins;

void vsim_salesforce_reset(void)
{
    pthread_mutex_lock(&sf_mu);
    cJSON_Delete(sf_tasks);
    cJSON_Delete(sf_queries);
    sf_tasks = cJSON_CreateArray();
    sf_queries = cJSON_CreateArray();
    sf_logins = 0;
    pthread_mutex_unlock(&sf_mu);
}

cJSON *vsim_salesforce_dump(void)
{
    pthread_mutex_lock(&sf_mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "tasks", sf_tasks ? cJSON_Duplicate(sf_tasks, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(o, "queries", sf_queries ? cJSON_Duplicate(sf_queries, 1) : cJSON_CreateArray());
    cJSON_AddNumberToObject(o, "logins", (double)sf_logins);
    pthread_mutex_unlock(&sf_mu);
    return o;
}

/* Salesforce REST error: [{"message": m, "errorCode": c}]. */
static int sf_rest_error(sim_response *resp, int status, const char *code, const char *msg)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "errorCode", code);
    cJSON_AddItemToArray(arr, e);
    sim_respond_json(resp, status, arr);
    return 1;
}

/* malloc'd text between <tag ...> and </tag>, NULL when absent (no entity decoding but &amp; etc.). */
static char *sf_xml_text(const char *xml, const char *tag)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(xml, open);
    if (!a) return NULL;
    a = strchr(a, '>');
    if (!a) return NULL;
    a++;
    const char *z = strstr(a, close);
    if (!z) return NULL;
    char *out = xmalloc((size_t)(z - a) + 1);
    size_t o = 0;
    for (const char *p = a; p < z; p++) {
        static const struct {
            const char *e;
            char c;
        } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        int hit = 0;
        for (size_t i = 0; i < 5; i++) {
            size_t n = strlen(ents[i].e);
            if (strncmp(p, ents[i].e, n) == 0) {
                out[o++] = ents[i].c;
                p += n - 1;
                hit = 1;
                break;
            }
        }
        if (!hit) out[o++] = *p;
    }
    out[o] = '\0';
    return out;
}

/* The SOAP login at /services/Soap/u/{ver}: serverUrl carries the version asked for. */
static int sf_soap_login(sim_server *s, const sim_request *req, const char *ver, sim_response *resp)
{
    char *user = sf_xml_text(req->body, "n1:username");
    char *pass = sf_xml_text(req->body, "n1:password");
    if (!user) user = sf_xml_text(req->body, "username");
    if (!pass) pass = sf_xml_text(req->body, "password");
    char want[512];
    snprintf(want, sizeof want, "%s%s", vsim_opt(s, "salesforce_password", "sim-sf-password"),
             vsim_opt(s, "salesforce_token", "SIMTOKEN"));
    const char *soap_action = sim_request_header(req, "SOAPAction");
    int ok = user && pass && strcmp(user, vsim_opt(s, "salesforce_user", "sf-user@example.com")) == 0 &&
             strcmp(pass, want) == 0;
    free(user);
    free(pass);
    char xml[4096];
    if (!soap_action || !strstr(soap_action, "login") || !ok) {
        snprintf(xml, sizeof xml,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope "
                 "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                 "xmlns:sf=\"urn:fault.partner.soap.sforce.com\"><soapenv:Body><soapenv:Fault><faultcode>"
                 "INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; "
                 "or user locked out.</faultstring><detail><sf:LoginFault><sf:exceptionCode>INVALID_LOGIN"
                 "</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, security token; or user "
                 "locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body>"
                 "</soapenv:Envelope>");
        sim_respond_text(resp, 500, "text/xml", xml);
        return 1;
    }
    pthread_mutex_lock(&sf_mu);
    sf_logins++;
    pthread_mutex_unlock(&sf_mu);
    snprintf(xml, sizeof xml,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope "
             "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns=\"urn:partner.soap.sforce.com\">"
             "<soapenv:Body><loginResponse><result><metadataServerUrl>%s/vendor/salesforce/services/Soap/m/%.16s/"
             "00DSIM0000000001</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
             "<serverUrl>%s/vendor/salesforce/services/Soap/u/%.16s/00DSIM0000000001</serverUrl><sessionId>%s"
             "</sessionId><userId>005SIM0000000000001</userId></result></loginResponse></soapenv:Body>"
             "</soapenv:Envelope>",
             sim_base_url(s), ver, sim_base_url(s), ver, SF_SESSION);
    sim_respond_text(resp, 200, "text/xml", xml);
    return 1;
}

/* The OAuth client-credentials token endpoint. */
static int sf_oauth(sim_server *s, const sim_request *req, sim_response *resp)
{
    char *grant = sim_form_value(req->body, req->body_len, "grant_type");
    char *id = sim_form_value(req->body, req->body_len, "client_id");
    char *secret = sim_form_value(req->body, req->body_len, "client_secret");
    cJSON *o = cJSON_CreateObject();
    int status = 200;
    if (!grant || strcmp(grant, "client_credentials") != 0) {
        status = 400;
        cJSON_AddStringToObject(o, "error", "unsupported_grant_type");
        cJSON_AddStringToObject(o, "error_description", "grant type not supported");
    } else if (!id || !secret || strcmp(id, vsim_opt(s, "salesforce_client_id", "sim-sf-client")) != 0 ||
               strcmp(secret, vsim_opt(s, "salesforce_client_secret", "sim-sf-client-secret")) != 0) {
        status = 400;
        cJSON_AddStringToObject(o, "error", "invalid_client");
        cJSON_AddStringToObject(o, "error_description", "invalid client credentials");
    } else {
        char inst[256];
        snprintf(inst, sizeof inst, "%s/vendor/salesforce", sim_base_url(s));
        cJSON_AddStringToObject(o, "access_token", SF_SESSION);
        cJSON_AddStringToObject(o, "instance_url", inst);
        cJSON_AddStringToObject(o, "id", "https://login.salesforce.com/id/00DSIM0000000001/005SIM0000000000001");
        cJSON_AddStringToObject(o, "token_type", "Bearer");
        cJSON_AddStringToObject(o, "issued_at", "1764300000000");
        pthread_mutex_lock(&sf_mu);
        sf_logins++;
        pthread_mutex_unlock(&sf_mu);
    }
    free(grant);
    free(id);
    free(secret);
    sim_respond_json(resp, status, o);
    return 1;
}

/* Parses the quoted SOQL literal at p (after "= "), undoing format_soql escapes. malloc'd or NULL. */
static char *sf_soql_literal(const char *p)
{
    if (*p != '\'') return NULL;
    p++;
    char *out = xmalloc(strlen(p) + 1);
    size_t o = 0;
    for (; *p && *p != '\''; p++) {
        if (*p == '\\') {
            p++;
            switch (*p) {
            case 'n': out[o++] = '\n'; break;
            case 'r': out[o++] = '\r'; break;
            case 't': out[o++] = '\t'; break;
            case 'b': out[o++] = '\b'; break;
            case 'f': out[o++] = '\f'; break;
            case '\\': case '\'': case '"': out[o++] = *p; break;
            default: free(out); return NULL;
            }
        } else {
            out[o++] = *p;
        }
    }
    if (*p != '\'' || p[1] != '\0') {
        free(out);
        return NULL;
    }
    out[o] = '\0';
    return out;
}

/* A query record {"attributes": {...}, "Id": id}. */
static cJSON *sf_record(const char *type, const char *id)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *a = cJSON_AddObjectToObject(r, "attributes");
    cJSON_AddStringToObject(a, "type", type);
    char url[128];
    snprintf(url, sizeof url, "/services/data/v57.0/sobjects/%s/%s", type, id);
    cJSON_AddStringToObject(a, "url", url);
    cJSON_AddStringToObject(r, "Id", id);
    return r;
}

/* The Lead ids for an e-mail (0, 1 or 2 ids into ids[]). */
static int sf_leads(sim_server *s, const char *email, char ids[2][32])
{
    if (vsim_opt_has(s, "salesforce_no_lead", email)) return 0;
    unsigned long h = vsim_hash(email);
    snprintf(ids[0], 32, "00QSIM%012lu", h % 1000000000000UL);
    if (!vsim_opt_has(s, "salesforce_multi_lead", email)) return 1;
    snprintf(ids[1], 32, "00QSIM%012lu", (h + 1) % 1000000000000UL);
    return 2;
}

/* GET query/. */
static int sf_query(sim_server *s, const sim_request *req, sim_response *resp)
{
    char *q = sim_request_query(req, "q");
    if (!q) return sf_rest_error(resp, 400, "MALFORMED_QUERY", "The q parameter is required");
    pthread_mutex_lock(&sf_mu);
    cJSON_AddItemToArray(sf_queries, cJSON_CreateString(q));
    pthread_mutex_unlock(&sf_mu);
    static const char user_q[] = "SELECT Id FROM User WHERE Username = ";
    static const char lead_q[] = "SELECT Id FROM Lead WHERE Email = ";
    int is_user = strncmp(q, user_q, sizeof user_q - 1) == 0;
    int is_lead = strncmp(q, lead_q, sizeof lead_q - 1) == 0;
    char *lit = is_user ? sf_soql_literal(q + sizeof user_q - 1) : is_lead ? sf_soql_literal(q + sizeof lead_q - 1) : NULL;
    free(q);
    if (!lit)
        return sf_rest_error(resp, 400, "MALFORMED_QUERY",
                             "unexpected token: the emulator knows SELECT Id FROM User WHERE Username = '<x>' and "
                             "SELECT Id FROM Lead WHERE Email = '<x>' with a correctly escaped literal");
    cJSON *o = cJSON_CreateObject();
    cJSON *recs = cJSON_CreateArray();
    int n = 0;
    if (is_user) {
        const char *users = vsim_opt(s, "salesforce_users", "retirement-admin@example.com");
        char *copy = xstrdup(users);
        int i = 0;
        for (char *save = NULL, *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save), i++) {
            if (strcmp(u, lit) == 0) {
                char id[32];
                snprintf(id, sizeof id, "005SIM%013d", i + 1);
                cJSON_AddItemToArray(recs, sf_record("User", id));
                n = 1;
            }
        }
        free(copy);
    } else {
        char ids[2][32];
        n = sf_leads(s, lit, ids);
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(recs, sf_record("Lead", ids[i]));
    }
    free(lit);
    cJSON_AddNumberToObject(o, "totalSize", n);
    cJSON_AddBoolToObject(o, "done", 1);
    cJSON_AddItemToObject(o, "records", recs);
    sim_respond_json(resp, 200, o);
    return 1;
}

/* POST sobjects/Task/. */
static int sf_task(sim_server *s, const sim_request *req, sim_response *resp)
{
    cJSON *b = sim_request_json(req);
    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        return sf_rest_error(resp, 400, "JSON_PARSER_ERROR", "The request body is not a JSON object");
    }
    const cJSON *who = cJSON_GetObjectItemCaseSensitive(b, "WhoId");
    const cJSON *owner = cJSON_GetObjectItemCaseSensitive(b, "OwnerId");
    const cJSON *subj = cJSON_GetObjectItemCaseSensitive(b, "Subject");
    if (!cJSON_IsString(who) || !cJSON_IsString(owner) || !cJSON_IsString(subj)) {
        cJSON_Delete(b);
        return sf_rest_error(resp, 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Subject, WhoId, OwnerId]");
    }
    if (strncmp(who->valuestring, "00Q", 3) != 0 || strncmp(owner->valuestring, "005", 3) != 0) {
        cJSON_Delete(b);
        return sf_rest_error(resp, 400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id");
    }
    if (strcmp(vsim_opt(s, "salesforce_task_fail", "0"), "1") == 0) {
        cJSON_Delete(b);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNullToObject(o, "id");
        cJSON_AddBoolToObject(o, "success", 0);
        cJSON *errs = cJSON_AddArrayToObject(o, "errors");
        cJSON_AddItemToArray(errs, cJSON_CreateString("This is an error!"));
        sim_respond_json(resp, 201, o);
        return 1;
    }
    pthread_mutex_lock(&sf_mu);
    char id[32];
    snprintf(id, sizeof id, "00TSIM%013d", cJSON_GetArraySize(sf_tasks) + 1);
    cJSON_AddStringToObject(b, "Id", id);
    cJSON_AddItemToArray(sf_tasks, b);
    pthread_mutex_unlock(&sf_mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddBoolToObject(o, "success", 1);
    cJSON_AddArrayToObject(o, "errors");
    sim_respond_json(resp, 201, o);
    return 1;
}

int vsim_salesforce_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp)
{
    if (strncmp(sub, "/services/Soap/u/", 17) == 0) {
        if (sim_fault_check(s, "salesforce_login", req, NULL, resp)) return 1;
        return sf_soap_login(s, req, sub + 17, resp);
    }
    if (strcmp(sub, "/services/oauth2/token") == 0) {
        if (sim_fault_check(s, "salesforce_oauth", req, NULL, resp)) return 1;
        return sf_oauth(s, req, resp);
    }
    if (strncmp(sub, "/services/data/v", 16) != 0) return 0;
    const char *rest = strchr(sub + 16, '/');
    if (!rest) return 0;
    int is_query = strcmp(rest, "/query/") == 0 || strcmp(rest, "/query") == 0;
    int is_task = strcmp(rest, "/sobjects/Task/") == 0 || strcmp(rest, "/sobjects/Task") == 0;
    if (!is_query && !is_task) return 0;
    if (sim_fault_check(s, is_query ? "salesforce_query" : "salesforce_task", req, NULL, resp)) return 1;
    if (!vsim_auth_is(req, "Bearer", SF_SESSION) && !vsim_auth_is(req, "OAuth", SF_SESSION))
        return sf_rest_error(resp, 401, "INVALID_SESSION_ID", "Session expired or invalid");
    if (is_query) {
        if (strcmp(req->method, "GET") != 0) return sf_rest_error(resp, 405, "METHOD_NOT_ALLOWED", "GET only");
        return sf_query(s, req, resp);
    }
    if (strcmp(req->method, "POST") != 0) return sf_rest_error(resp, 405, "METHOD_NOT_ALLOWED", "POST only");
    return sf_task(s, req, resp);
}
