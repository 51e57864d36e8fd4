/*
 * HUBSPOT driver: deletes the learner's HubSpot contact and e-mails an alert through AWS SES
 * (docs/vendors.md, "HUBSPOT").
 *
 * Pipeline method: delete_user (learner field original_email).
 * Default (upstream, legacy v1 contacts API):
 *   GET {api}/contacts/v1/contact/email/{email}/profile  -> 200 {"vid": N} | 404 = nothing to do
 *   DELETE {api}/contacts/v1/contact/vid/{vid}            -> 200, then the SES alert
 *   headers `content-type: application/json`, `authorization: Bearer <hubspot_api_key>`.
 *   Every non-success of the lookup or delete is retried: the whole lookup+delete is redone
 *   with full-jitter exponential backoff up to RETRY_HUBSPOT_MAX_ATTEMPTS (default 5) attempts;
 *   after a 429 the wait is its Retry-After (capped by hubspot_max_rate_limit_wait_seconds, 60).
 * hubspot_gdpr_delete: true (not upstream): POST {api}/crm/v3/objects/contacts/gdpr-delete
 *   {"objectId": "<email>", "idProperty": "email"}; any 2xx is success (HubSpot then also
 *   blocklists an unknown address); a 404 OBJECT_NOT_FOUND is "no such contact" (success),
 *   other 4xx but 429 fail at once, 429 and 5xx are retried as above; no alert (no vid).
 * SES alert (v1 mode, after a 200 delete): POST {ses}/ Action=SendEmail (SES v1 Query API)
 *   signed with AWS Signature V4 (by the host: host->aws_sigv4), From hubspot_from_address,
 *   To hubspot_alert_email, Subject "Alert: Hubspot Deletion", body
 *   'Learner with the VID "<vid>" has been deleted from Hubspot.'; retried on any failure up to
 *   MAX_EMAIL_TRIES (default 10) attempts. Credentials: AWS_ACCESS_KEY_ID,
 *   AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional) from the environment (instance
 *   profiles are not supported). The alert is sent only when hubspot_from_address and
 *   hubspot_alert_email are both set (upstream would fail the step instead: a documented choice).
 *   A failed alert fails the step with the upstream BackendError text; the contact is already
 *   gone, so a rerun finds 404 and succeeds without deleting anything twice.
 *
 * Config: hubspot_api_key (required, a private-app token), hubspot_aws_region,
 * hubspot_from_address, hubspot_alert_email; not upstream: hubspot_api_url (default
 * https://api.hubapi.com), hubspot_gdpr_delete (bool), hubspot_ses_url (default
 * https://email.<region>.amazonaws.com).
 */
#include "../vendorkit/vendorkit.h"

#define HUBSPOT_API "https://api.hubapi.com"
#define HUBSPOT_ALERT_SUBJECT "Alert: Hubspot Deletion"

typedef struct hubspot {
    const rd_host *host;
    char *api_key; /* secret */
    char *api;     /* base without trailing '/' */
    char *region;
    char *from;
    char *alert;
    char *ses_url; /* full POST URL ending in '/' */
    int gdpr_v3;
    int max_attempts;
    int max_email_tries;
    double retry_base;
    double max_wait; /* cap on a 429's Retry-After */
} hubspot;

static void hubspot_destroy(void *inst)
{
    hubspot *h = inst;
    if (!h) return;
    free(h->api_key);
    free(h->api);
    free(h->region);
    free(h->from);
    free(h->alert);
    free(h->ses_url);
    free(h);
}

/* Reads the settings into h (hubspot_api_key required); no network. */
static int hubspot_configure(void *inst, const rd_host *host, char *err, size_t err_len)
{
    hubspot *h = inst;
    h->host = host;
    h->api_key = vk_config_required(host, "HUBSPOT", "hubspot_api_key",
                                    "set it to a HubSpot private-app access token with the "
                                    "crm.objects.contacts.write scope",
                                    err, err_len);
    if (!h->api_key) return -1;
    h->api = vk_config_url(host, "hubspot_api_url", HUBSPOT_API);
    h->region = vk_config_dup(host, "hubspot_aws_region");
    h->from = vk_config_dup(host, "hubspot_from_address");
    h->alert = vk_config_dup(host, "hubspot_alert_email");
    char *ses = vk_config_url(host, "hubspot_ses_url", NULL);
    h->ses_url = ses ? vk_url_join(ses, "/")
                     : vk_strf("https://email.%s.amazonaws.com/", h->region ? h->region : "us-east-1");
    if (!h->api || !h->ses_url) return vk_error(err, err_len, "HUBSPOT: out of memory");
    h->gdpr_v3 = host->config_bool(host, "hubspot_gdpr_delete", 0);
    h->max_attempts = vk_env_attempts("RETRY_HUBSPOT_MAX_ATTEMPTS", 5);
    h->max_email_tries = vk_env_attempts("MAX_EMAIL_TRIES", 10);
    h->retry_base = vk_retry_base(host);
    h->max_wait = host->config_number(host, "hubspot_max_rate_limit_wait_seconds", 60);
    return 0;
}

/* Builds an instance (hubspot_configure reads the settings). */
static void *hubspot_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return vk_get_instance(host, sizeof(hubspot), "HUBSPOT", hubspot_configure, hubspot_destroy, err, err_len);
}

/* The learner's original_email, or NULL with the upstream TypeError text in call. */
static const char *hubspot_email(const cJSON *learner, rd_call *call)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(learner, "original_email");
    if (!cJSON_IsString(e) || !e->valuestring[0]) {
        rd_call_message(call, "Expected an email address for user to delete, but received None.");
        return NULL;
    }
    return e->valuestring;
}

/* URL of the v1 lookup for an email (malloc'd). */
static char *hubspot_lookup_url(const hubspot *h, const char *email)
{
    vk_buf b = {0};
    vk_buf_addf(&b, "%s/contacts/v1/contact/email/", h->api);
    vk_requote(&b, email);
    vk_buf_add(&b, "/profile");
    return b.s;
}

/* Whether the SES alert is configured. */
static int hubspot_alert_configured(const hubspot *h) { return vk_truthy(h->from) && vk_truthy(h->alert); }

/* The SES SendEmail form body for a vid (malloc'd in out). */
static void hubspot_ses_body(const hubspot *h, const char *vid, vk_buf *out)
{
    char text[256];
    snprintf(text, sizeof text, "Learner with the VID \"%s\" has been deleted from Hubspot.", vid);
    vk_buf_add(out, "Action=SendEmail&Version=2010-12-01&Source=");
    vk_quote_aws(out, h->from);
    vk_buf_add(out, "&Destination.ToAddresses.member.1=");
    vk_quote_aws(out, h->alert);
    vk_buf_add(out, "&Message.Subject.Data=");
    vk_quote_aws(out, HUBSPOT_ALERT_SUBJECT);
    vk_buf_add(out, "&Message.Subject.Charset=UTF-8&Message.Body.Text.Data=");
    vk_quote_aws(out, text);
    vk_buf_add(out, "&Message.Body.Text.Charset=UTF-8");
}

/* Sends the alert once; 0 on a 2xx, else -1 with a reason in why. */
static int hubspot_ses_send_once(const hubspot *h, const char *vid, char *why, size_t why_len)
{
    const rd_host *host = h->host;
    const char *akid = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *session = getenv("AWS_SESSION_TOKEN");
    if (!vk_truthy(akid) || !vk_truthy(secret)) {
        snprintf(why, why_len, "Unable to locate credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
        return -1;
    }
    const char *region = vk_truthy(h->region) ? h->region : "us-east-1";
    vk_buf body = {0};
    hubspot_ses_body(h, vid, &body);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char amzdate[32];
    strftime(amzdate, sizeof amzdate, "%Y%m%dT%H%M%SZ", &tm);
    const char *ctype = "application/x-www-form-urlencoded; charset=utf-8";
    int has_session = vk_truthy(session);
    char hdate[64], hct[128], htok[4096];
    snprintf(hdate, sizeof hdate, "X-Amz-Date: %s", amzdate);
    snprintf(hct, sizeof hct, "Content-Type: %s", ctype);
    snprintf(htok, sizeof htok, "X-Amz-Security-Token: %s", has_session ? session : "");
    const char *signed_headers[] = {hct, hdate, has_session ? htok : NULL, NULL};
    /* the host signs (AWS Signature V4 over libcrypto): host, path and every header above */
    rd_aws_sigv4 sreq;
    memset(&sreq, 0, sizeof sreq);
    sreq.struct_size = RD_SIZEOF(rd_aws_sigv4);
    sreq.method = "POST";
    sreq.url = h->ses_url;
    sreq.headers = signed_headers;
    sreq.body = vk_buf_str(&body);
    sreq.body_len = body.len;
    sreq.access_key_id = akid;
    sreq.secret_access_key = secret;
    sreq.session_token = has_session ? session : NULL;
    sreq.region = region;
    sreq.service = "ses";
    sreq.amz_date = amzdate;
    char *signature = host->aws_sigv4(host, &sreq, why, why_len);
    if (!signature) {
        vk_buf_free(&body);
        return -1;
    }
    char auth[1024];
    snprintf(auth, sizeof auth, "Authorization: %s", signature);
    host->free(host, signature);
    const char *headers[] = {hct, hdate, auth, has_session ? htok : NULL, NULL};
    const char *secrets[] = {secret, has_session ? session : NULL, NULL};
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request),
                           .method = "POST", .url = h->ses_url, .headers = headers, .body = vk_buf_str(&body),
                           .body_len = body.len, .auth = RD_AUTH_NONE, .retry = RD_RETRY_NONE,
                           .secret_values = secrets};
    rd_http_response resp = rd_http_response_new();
    int rc = -1;
    if (host->http(host, &req, &resp) != 0) {
        snprintf(why, why_len, "no response from %s: %s", h->ses_url, resp.error);
    } else if (resp.status >= 200 && resp.status < 300) {
        rc = 0;
    } else {
        /* SES errors: <ErrorResponse><Error><Code>..</Code><Message>..</Message> */
        const char *b = vk_body(&resp);
        const char *c = strstr(b, "<Code>"), *m = strstr(b, "<Message>");
        int cl = c ? (int)strcspn(c + 6, "<") : 0, ml = m ? (int)strcspn(m + 9, "<") : 0;
        snprintf(why, why_len, "SES answered HTTP %ld%s%.*s%s%.*s", resp.status, c ? " " : "", cl, c ? c + 6 : "",
                 m ? ": " : "", ml, m ? m + 9 : "");
    }
    host->http_free(host, &resp);
    vk_buf_free(&body);
    return rc;
}

/* The alert with its own retry (MAX_EMAIL_TRIES); 0 or -1 with the upstream message in call. */
static int hubspot_send_alert(const hubspot *h, const char *vid, rd_call *call)
{
    const rd_host *host = h->host;
    if (!hubspot_alert_configured(h)) {
        host->log(host, RD_LOG_WARN,
                  "HubSpot deletion alert not sent: set hubspot_from_address and hubspot_alert_email to enable it");
        return 0;
    }
    char why[1024] = "";
    for (int attempt = 1; attempt <= h->max_email_tries; attempt++) {
        if (hubspot_ses_send_once(h, vid, why, sizeof why) == 0) {
            host->log(host, RD_LOG_INFO, "Sent e-mail \"%s\" to the HubSpot alert address", HUBSPOT_ALERT_SUBJECT);
            return 0;
        }
        host->log(host, RD_LOG_ERROR, "Sending the HubSpot deletion alert failed (attempt %d of %d): %s", attempt,
                  h->max_email_tries, why);
        if (strncmp(why, "Unable to locate credentials", 28) == 0) { /* no point retrying */
            rd_call_message(call, "%s; the HubSpot contact was deleted but the alert e-mail \"%s\" was not sent", why,
                            HUBSPOT_ALERT_SUBJECT);
            return -1;
        }
        if (attempt < h->max_email_tries && vk_sleep(host, vk_expo_wait(h->retry_base, attempt)) != 0) break;
    }
    rd_call_message(call, "Timed out after %d attempts to send email with subject \"%s\".", h->max_email_tries,
                    HUBSPOT_ALERT_SUBJECT);
    host->log(host, RD_LOG_ERROR, "HubSpot contact %s was deleted, but the alert e-mail failed: %s", vid, why);
    return -1;
}

/* Result of one pass of the v1 or v3 flow: HS_FAIL stops at once (no retry helps). */
typedef enum { HS_DONE, HS_NOT_FOUND, HS_RETRY, HS_FAIL, HS_TRANSPORT } hs_pass;

/* What a failed pass tells the retry loop. */
typedef struct hs_failure {
    int perm;           /* the status was a 4xx other than 429 */
    double server_wait; /* a 429's Retry-After in seconds, or -1 */
} hs_failure;

/* Records a failed response's status class and Retry-After in f. */
static void hubspot_note_failure(const rd_http_response *resp, hs_failure *f)
{
    f->perm = resp->status >= 400 && resp->status < 500 && resp->status != 429;
    f->server_wait = resp->status == 429 ? resp->retry_after_seconds : -1;
}

/* One lookup + delete pass (v1). On HS_DONE *vid_out holds the deleted vid ("" when the profile
 * had none). On HS_RETRY / HS_TRANSPORT the message is in call and fail says what failed. */
static hs_pass hubspot_v1_pass(const hubspot *h, const char *email, char *vid_out, size_t vid_len, rd_call *call,
                               hs_failure *fail)
{
    const rd_host *host = h->host;
    char auth[2048];
    snprintf(auth, sizeof auth, "authorization: Bearer %s", h->api_key);
    const char *headers[] = {"content-type: application/json", auth, NULL};
    const char *secrets[] = {h->api_key, NULL};
    char *url = hubspot_lookup_url(h, email);
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request),
                           .method = "GET", .url = url, .headers = headers, .auth = RD_AUTH_NONE,
                           .retry = RD_RETRY_NONE, .secret_values = secrets};
    rd_http_response resp = rd_http_response_new();
    vid_out[0] = '\0';
    if (host->http(host, &req, &resp) != 0) {
        rd_call_message(call, "Hubspot request failed: no response from %s: %s", h->api, resp.error);
        host->http_free(host, &resp);
        free(url);
        return HS_TRANSPORT;
    }
    free(url);
    if (resp.status == 404) {
        host->log(host, RD_LOG_INFO, "No action taken because no user was found in Hubspot.");
        host->http_free(host, &resp);
        return HS_NOT_FOUND;
    }
    if (resp.status != 200) {
        rd_call_message(call, "Error attempted to get user_vid from Hubspot. Error: %s", vk_body(&resp));
        host->log(host, RD_LOG_ERROR, "%s", call->message);
        hubspot_note_failure(&resp, fail);
        host->http_free(host, &resp);
        return HS_RETRY;
    }
    cJSON *j = cJSON_ParseWithLength(vk_body(&resp), resp.body_len);
    host->http_free(host, &resp);
    const cJSON *vid = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "vid") : NULL;
    /* upstream: `if user_vid:` (absent, null, 0, "" mean nothing to delete) */
    int truthy = vid && !cJSON_IsNull(vid) && !cJSON_IsFalse(vid) &&
                 !(cJSON_IsNumber(vid) && vid->valuedouble == 0) && !(cJSON_IsString(vid) && !vid->valuestring[0]);
    if (!truthy) {
        cJSON_Delete(j);
        return HS_DONE;
    }
    vk_buf v = {0};
    vk_pystr(&v, vid);
    snprintf(vid_out, vid_len, "%s", vk_buf_str(&v));
    vk_buf_free(&v);
    cJSON_Delete(j);

    vk_buf durl = {0};
    vk_buf_addf(&durl, "%s/contacts/v1/contact/vid/", h->api);
    vk_requote(&durl, vid_out);
    rd_http_request dreq = {.struct_size = RD_SIZEOF(rd_http_request),
                            .method = "DELETE", .url = vk_buf_str(&durl), .headers = headers, .auth = RD_AUTH_NONE,
                            .retry = RD_RETRY_NONE, .secret_values = secrets};
    resp = rd_http_response_new();
    if (host->http(host, &dreq, &resp) != 0) {
        rd_call_message(call, "Hubspot request failed: no response from %s: %s", h->api, resp.error);
        host->http_free(host, &resp);
        vk_buf_free(&durl);
        return HS_TRANSPORT;
    }
    vk_buf_free(&durl);
    long code = resp.status;
    hubspot_note_failure(&resp, fail);
    host->http_free(host, &resp);
    if (code == 200) {
        host->log(host, RD_LOG_INFO, "User successfully deleted from Hubspot");
        return HS_DONE;
    }
    const char *msg = code == 401   ? "Hubspot user deletion failed due to authorized API call"
                      : code == 404 ? "Hubspot user deletion failed because vid doesn't match user"
                      : code == 500 ? "Hubspot user deletion failed due to server-side (Hubspot) issues"
                                    : "Hubspot user deletion failed due to unknown reasons";
    rd_call_message(call, "%s", msg);
    host->log(host, RD_LOG_ERROR, "%s", msg);
    return HS_RETRY;
}

/* The v3 GDPR delete body (Python json.dumps). */
static void hubspot_v3_body(const char *email, vk_buf *out)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "objectId", email);
    cJSON_AddStringToObject(b, "idProperty", "email");
    vk_dumps(out, b);
    cJSON_Delete(b);
}

/* One v3 GDPR-delete pass. Not upstream, so no upstream retry rule to keep: a 4xx other than
 * 429 is not retried (HS_FAIL), and a 404 with HubSpot's OBJECT_NOT_FOUND category means there is
 * no such contact (HS_NOT_FOUND; another 404, e.g. a wrong hubspot_api_url, fails). */
static hs_pass hubspot_v3_pass(const hubspot *h, const char *email, rd_call *call, hs_failure *fail)
{
    const rd_host *host = h->host;
    char auth[2048];
    snprintf(auth, sizeof auth, "authorization: Bearer %s", h->api_key);
    const char *headers[] = {"content-type: application/json", auth, NULL};
    const char *secrets[] = {h->api_key, NULL};
    char url[1024];
    snprintf(url, sizeof url, "%s/crm/v3/objects/contacts/gdpr-delete", h->api);
    vk_buf body = {0};
    hubspot_v3_body(email, &body);
    rd_http_request req = {.struct_size = RD_SIZEOF(rd_http_request),
                           .method = "POST", .url = url, .headers = headers, .body = vk_buf_str(&body),
                           .body_len = body.len, .auth = RD_AUTH_NONE, .retry = RD_RETRY_NONE,
                           .secret_values = secrets};
    rd_http_response resp = rd_http_response_new();
    hs_pass r;
    if (host->http(host, &req, &resp) != 0) {
        rd_call_message(call, "Hubspot request failed: no response from %s: %s", url, resp.error);
        r = HS_TRANSPORT;
    } else if (resp.status >= 200 && resp.status < 300) {
        host->log(host, RD_LOG_INFO, "User successfully GDPR-deleted from Hubspot");
        r = HS_DONE;
    } else {
        cJSON *j = cJSON_ParseWithLength(vk_body(&resp), resp.body_len);
        const cJSON *m = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "message") : NULL;
        const cJSON *cat = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "category") : NULL;
        hubspot_note_failure(&resp, fail);
        if (resp.status == 404 && cJSON_IsString(cat) && strcmp(cat->valuestring, "OBJECT_NOT_FOUND") == 0) {
            host->log(host, RD_LOG_INFO, "No action taken because no user was found in Hubspot.");
            r = HS_NOT_FOUND;
        } else {
            rd_call_message(call, "Hubspot GDPR deletion failed with HTTP %ld: %s", resp.status,
                            cJSON_IsString(m) ? m->valuestring : vk_body(&resp));
            host->log(host, RD_LOG_ERROR, "%s", call->message);
            r = fail->perm ? HS_FAIL : HS_RETRY;
        }
        cJSON_Delete(j);
    }
    host->http_free(host, &resp);
    vk_buf_free(&body);
    return r;
}

/* delete_user: the whole lookup+delete retried on any HubSpot error, then the alert. */
static rd_status hubspot_delete_user(void *inst, const cJSON *learner, rd_call *call)
{
    hubspot *h = inst;
    const rd_host *host = h->host;
    const char *email = hubspot_email(learner, call);
    if (!email) return RD_FAILED;
    for (int attempt = 1;; attempt++) {
        char vid[128] = "";
        hs_failure fail = {0, -1};
        hs_pass r = h->gdpr_v3 ? hubspot_v3_pass(h, email, call, &fail)
                               : hubspot_v1_pass(h, email, vid, sizeof vid, call, &fail);
        if (r == HS_NOT_FOUND) {
            rd_call_message(call, "None");
            return RD_NOT_FOUND;
        }
        if (r == HS_DONE) {
            if (!h->gdpr_v3 && vid[0] && hubspot_send_alert(h, vid, call) != 0) return RD_FAILED;
            rd_call_message(call, "None");
            return RD_OK;
        }
        if (r == HS_TRANSPORT) { /* upstream: a requests exception is not a HubspotException */
            host->log(host, RD_LOG_ERROR, "%s", call->message);
            return RD_RETRYABLE;
        }
        if (r == HS_FAIL) return RD_FAILED;
        if (attempt >= h->max_attempts) return fail.perm ? RD_FAILED : RD_RETRYABLE;
        /* a 429's Retry-After (HubSpot's burst window) instead of the backoff, capped */
        double wait = fail.server_wait >= 0 ? (fail.server_wait > h->max_wait ? h->max_wait : fail.server_wait)
                                            : vk_expo_wait(h->retry_base, attempt);
        host->log(host, RD_LOG_INFO, "Backing off delete_user(...) for %.1fs (HubspotException: %s)", wait,
                  call->message);
        if (vk_sleep(host, wait) != 0) return RD_RETRYABLE;
    }
}

/* delete_user preview: the requests it would send, token masked. */
static rd_status hubspot_preview_delete_user(void *inst, const cJSON *learner, rd_call *call)
{
    hubspot *h = inst;
    const char *email = hubspot_email(learner, call);
    if (!email) return RD_FAILED;
    const char *headers[] = {"content-type: application/json", "authorization: Bearer ********", NULL};
    if (h->gdpr_v3) {
        char url[1024];
        snprintf(url, sizeof url, "%s/crm/v3/objects/contacts/gdpr-delete", h->api);
        vk_buf body = {0};
        hubspot_v3_body(email, &body);
        rd_call_describe(call, "POST", url, headers, vk_buf_str(&body));
        vk_buf_free(&body);
        rd_call_message(call, "GDPR-deletes the HubSpot contact (an unknown address is blocklisted); retries up to %d "
                              "attempts",
                        h->max_attempts);
        return RD_OK;
    }
    char *url = hubspot_lookup_url(h, email);
    rd_call_describe(call, "GET", url, headers, NULL);
    free(url);
    char durl[1024];
    snprintf(durl, sizeof durl, "%s/contacts/v1/contact/vid/{vid}", h->api);
    rd_call_describe(call, "DELETE", durl, headers, NULL);
    if (hubspot_alert_configured(h)) {
        const char *sh[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                            "Authorization: AWS4-HMAC-SHA256 Credential=********", NULL};
        vk_buf body = {0};
        hubspot_ses_body(h, "{vid}", &body);
        rd_call_describe(call, "POST", h->ses_url, sh, vk_buf_str(&body));
        vk_buf_free(&body);
    }
    rd_call_message(call, "looks up the contact by e-mail (404 = nothing to delete), deletes it by vid%s; retries up to "
                          "%d attempts",
                    hubspot_alert_configured(h) ? ", then e-mails the alert through SES" : "", h->max_attempts);
    return RD_OK;
}

static const rd_method hubspot_methods[] = {
    RD_METHOD("delete_user", hubspot_delete_user, hubspot_preview_delete_user),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_hubspot =
    RD_DRIVER_INIT("HUBSPOT", "1.0.0", "HubSpot: delete the contact with the learner's e-mail (+ SES alert)",
                   hubspot_get_instance, hubspot_destroy, hubspot_methods);
