/* retirectl-sim: AWS SES v1 Query API emulation (POST /vendor/ses/, Action=SendEmail) with AWS
 * Signature V4 verification. Credentials: options aws_access_key_id (default AKIDSIMEXAMPLE) and
 * aws_secret_access_key (default sim-aws-secret); region from the credential scope, service "ses".
 * Errors as SES: 403 <ErrorResponse> with Code MissingAuthenticationToken / InvalidClientTokenId /
 * SignatureDoesNotMatch, 400 InvalidParameterValue. Success: 200 <SendEmailResponse> with a
 * MessageId. The signature covers the request's real path (POST /vendor/ses/ or any path below
 * it), as AWS computes it. Fault endpoint: ses_send. */
#include "vendor.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/urlencode.h"

static pthread_mutex_t ses_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *ses_sent; /* array of {region, source, to, subject, body} */

void vsim_ses_reset(void)
{
    pthread_mutex_lock(&ses_mu);
    cJSON_Delete(ses_sent);
    ses_sent = cJSON_CreateArray();
    pthread_mutex_unlock(&ses_mu);
}

cJSON *vsim_ses_dump(void)
{
    pthread_mutex_lock(&ses_mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "sent", ses_sent ? cJSON_Duplicate(ses_sent, 1) : cJSON_CreateArray());
    pthread_mutex_unlock(&ses_mu);
    return o;
}

/* SES's XML error. */
static int ses_error(sim_response *resp, int status, const char *type, const char *code, const char *msg)
{
    char xml[2048];
    snprintf(xml, sizeof xml,
             "<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">\n  <Error>\n    <Type>%s</Type>\n"
             "    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>\n"
             "  <RequestId>00000000-0000-4000-8000-000000000000</RequestId>\n</ErrorResponse>\n",
             type, code, msg);
    sim_respond_text(resp, status, "text/xml", xml);
    return 1;
}

/* Copies the value of `key=` from the comma-separated SigV4 Authorization header into buf. */
static int ses_auth_part(const char *auth, const char *key, char *buf, size_t len)
{
    const char *p = strstr(auth, key);
    if (!p) return -1;
    p += strlen(key);
    size_t n = strcspn(p, ", ");
    if (n >= len) return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

/* Lower-case hex of SHA-256 (libcrypto) of n bytes into out[65]. */
static void ses_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char d[32];
    SHA256(p, n, d);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The signature AWS computes: HMAC chain over date, region, service, "aws4_request", then sts.
 * Written here independently of the drivers' signer, so the emulator checks it. */
static void ses_signature(const char *secret, const char *date, const char *region, const char *sts, char out[65])
{
    char kinit[256];
    snprintf(kinit, sizeof kinit, "AWS4%s", secret);
    unsigned char k[32], sig[32];
    unsigned int n = 32;
    HMAC(EVP_sha256(), kinit, (int)strlen(kinit), (const unsigned char *)date, strlen(date), k, &n);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)region, strlen(region), k, &n);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)"ses", 3, k, &n);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)"aws4_request", 12, k, &n);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)sts, strlen(sts), sig, &n);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", sig[i]);
}

int vsim_ses_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp)
{
    (void)sub; /* any path under /vendor/ses: SES answers on its endpoint's root, a proxy may add a path */
    if (sim_fault_check(s, "ses_send", req, NULL, resp)) return 1;
    if (strcmp(req->method, "POST") != 0) return ses_error(resp, 405, "Sender", "MethodNotAllowed", "POST only");
    const char *auth = req->authorization;
    if (!auth || strncmp(auth, "AWS4-HMAC-SHA256 ", 17) != 0)
        return ses_error(resp, 403, "Sender", "MissingAuthenticationToken", "Request is missing Authentication Token");
    char cred[512], signed_headers[256], sig[128];
    if (ses_auth_part(auth, "Credential=", cred, sizeof cred) || ses_auth_part(auth, "SignedHeaders=", signed_headers,
                                                                               sizeof signed_headers) ||
        ses_auth_part(auth, "Signature=", sig, sizeof sig))
        return ses_error(resp, 400, "Sender", "IncompleteSignature", "Authorization header is incomplete");
    /* Credential=AKID/DATE/REGION/ses/aws4_request */
    char akid[128], date[16], region[64], service[32], term[32];
    if (sscanf(cred, "%127[^/]/%15[^/]/%63[^/]/%31[^/]/%31s", akid, date, region, service, term) != 5 ||
        strcmp(service, "ses") != 0 || strcmp(term, "aws4_request") != 0)
        return ses_error(resp, 400, "Sender", "IncompleteSignature", "Credential scope is malformed");
    if (strcmp(akid, vsim_opt(s, "aws_access_key_id", "AKIDSIMEXAMPLE")) != 0)
        return ses_error(resp, 403, "Sender", "InvalidClientTokenId",
                         "The security token included in the request is invalid.");
    const char *amzdate = sim_request_header(req, "X-Amz-Date");
    const char *host = sim_request_header(req, "Host");
    if (!amzdate || !host || strncmp(amzdate, date, 8) != 0)
        return ses_error(resp, 400, "Sender", "IncompleteSignature", "X-Amz-Date and Host must be signed");
    /* canonical request over the headers named in SignedHeaders */
    char creq[16384];
    size_t off = 0;
    off += (size_t)snprintf(creq + off, sizeof creq - off, "POST\n");
    /* canonical URI: the path as received, URI-encoded once more except '/' (non-S3 SigV4) */
    strbuf uri = STRBUF_INIT;
    url_encode_add(&uri, req->raw_path, strlen(req->raw_path), "/", 0);
    off += (size_t)snprintf(creq + off, sizeof creq - off, "%s", sb_str(&uri));
    sb_free(&uri);
    if (off >= sizeof creq) return ses_error(resp, 400, "Sender", "InvalidParameterValue", "path too long");
    off += (size_t)snprintf(creq + off, sizeof creq - off, "\n\n");
    char names[256];
    snprintf(names, sizeof names, "%s", signed_headers);
    for (char *save = NULL, *h = strtok_r(names, ";", &save); h; h = strtok_r(NULL, ";", &save)) {
        const char *v = sim_request_header(req, h);
        if (!v) return ses_error(resp, 400, "Sender", "IncompleteSignature", "a signed header is missing");
        off += (size_t)snprintf(creq + off, sizeof creq - off, "%s:%s\n", h, v);
        if (off >= sizeof creq) return ses_error(resp, 400, "Sender", "InvalidParameterValue", "headers too long");
    }
    char payload_hash[65], creq_hash[65], want[65];
    ses_sha256_hex(req->body, req->body_len, payload_hash);
    off += (size_t)snprintf(creq + off, sizeof creq - off, "\n%s\n%s", signed_headers, payload_hash);
    if (off >= sizeof creq) return ses_error(resp, 400, "Sender", "InvalidParameterValue", "headers too long");
    ses_sha256_hex(creq, strlen(creq), creq_hash);
    char sts[1024];
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/ses/aws4_request\n%s", amzdate, date, region, creq_hash);
    ses_signature(vsim_opt(s, "aws_secret_access_key", "sim-aws-secret"), date, region, sts, want);
    if (strcmp(want, sig) != 0)
        return ses_error(resp, 403, "Sender", "SignatureDoesNotMatch",
                         "The request signature we calculated does not match the signature you provided. Check your "
                         "AWS Secret Access Key and signing method.");
    char *action = sim_form_value(req->body, req->body_len, "Action");
    char *source = sim_form_value(req->body, req->body_len, "Source");
    char *to = sim_form_value(req->body, req->body_len, "Destination.ToAddresses.member.1");
    char *subject = sim_form_value(req->body, req->body_len, "Message.Subject.Data");
    char *text = sim_form_value(req->body, req->body_len, "Message.Body.Text.Data");
    int rc;
    if (!action || strcmp(action, "SendEmail") != 0) {
        rc = ses_error(resp, 400, "Sender", "InvalidAction", "Only Action=SendEmail is emulated");
    } else if (!source || !to || !subject || !text) {
        rc = ses_error(resp, 400, "Sender", "InvalidParameterValue",
                       "Source, Destination.ToAddresses.member.1, Message.Subject.Data and Message.Body.Text.Data are "
                       "required");
    } else {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "region", region);
        cJSON_AddStringToObject(m, "source", source);
        cJSON_AddStringToObject(m, "to", to);
        cJSON_AddStringToObject(m, "subject", subject);
        cJSON_AddStringToObject(m, "body", text);
        pthread_mutex_lock(&ses_mu);
        if (!ses_sent) ses_sent = cJSON_CreateArray();
        int n = cJSON_GetArraySize(ses_sent);
        cJSON_AddItemToArray(ses_sent, m);
        pthread_mutex_unlock(&ses_mu);
        char xml[1024];
        snprintf(xml, sizeof xml,
                 "<SendEmailResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">\n  <SendEmailResult>\n"
                 "    <MessageId>0100sim-%06d-000000</MessageId>\n  </SendEmailResult>\n  <ResponseMetadata>\n"
                 "    <RequestId>00000000-0000-4000-8000-%012d</RequestId>\n  </ResponseMetadata>\n"
                 "</SendEmailResponse>\n",
                 n + 1, n + 1);
        sim_respond_text(resp, 200, "text/xml", xml);
        rc = 1;
    }
    free(action);
    free(source);
    free(to);
    free(subject);
    free(text);
    return rc;
}
