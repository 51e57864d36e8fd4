/* The built-in drivers (LMS, ECOMMERCE, CREDENTIALS, DEMOGRAPHICS, LICENSE_MANAGER, generic
 * extra services), written against the plugin ABI: every request, body and 404 rule as the
 * upstream LmsApi / EcommerceApi / ... classes (docs/lms-api.md §5, §6, §12.5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/builtin.h"
#include "drivers/drv_common.h"
#include "common/xalloc.h"

/* ---- instances ---- */

static void *lms_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return drv_instance_new(host, "base_urls.lms", "LMS", err, err_len);
}

static void *ecommerce_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return drv_instance_new(host, "base_urls.ecommerce", "ECOMMERCE", err, err_len);
}

static void *credentials_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return drv_instance_new(host, "base_urls.credentials", "CREDENTIALS", err, err_len);
}

static void *demographics_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return drv_instance_new(host, "base_urls.demographics", "DEMOGRAPHICS", err, err_len);
}

static void *license_manager_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    return drv_instance_new(host, "base_urls.license_manager", "LICENSE_MANAGER", err, err_len);
}

/* Generic driver: finds its extra_services entry by the name it was loaded under. */
static void *generic_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    const char *name = host->driver_name ? host->driver_name : "";
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(config, "extra_services");
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (!cJSON_IsString(n) || strcmp(n->valuestring, name) != 0) continue;
        const cJSON *base = cJSON_GetObjectItemCaseSensitive(it, "base_url");
        if (!cJSON_IsString(base)) base = cJSON_GetObjectItemCaseSensitive(it, "service_base_url");
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(it, "retirement_url_path");
        if (!cJSON_IsString(base) || !*base->valuestring) {
            snprintf(err, err_len,
                     "extra_services entry '%s' has no base_url; Service URL is not configured, add base_url to it",
                     name);
            return NULL;
        }
        if (!cJSON_IsString(path)) {
            snprintf(err, err_len, "extra_services entry '%s' has no retirement_url_path; add it", name);
            return NULL;
        }
        drv_instance *in = xcalloc(1, sizeof *in);
        if (!in) return NULL;
        in->host = host;
        in->base_url = xstrdup(base->valuestring);
        in->path = xstrdup(path->valuestring);
        return in;
    }
    snprintf(err, err_len, "no extra_services entry named '%s' in the config; add {name: %s, base_url: ..., "
                           "retirement_url_path: ...} under extra_services",
             name, name);
    return NULL;
}

/* ---- bodies ---- */

/* {"username": "<original_username>"} */
static char *username_body(const cJSON *learner, rd_call *call)
{
    const char *u = drv_original_username(learner, call);
    if (!u) return NULL;
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, "{\"username\": ");
    drv_json_str(&sb, u);
    sb_add(&sb, "}");
    return sb_take(&sb);
}

/* A POST/PUT with {"username": original_username} to path; run or preview. */
static rd_status username_step(void *instance, const cJSON *learner, rd_call *call, const char *method,
                               const char *path, drv_404 on_404, const char *log_404, int preview, const char *note)
{
    char *body = username_body(learner, call);
    if (!body) return RD_FAILED;
    rd_status st = preview ? drv_preview(call, instance, method, path, body, note)
                           : drv_call(call, instance, method, path, body, on_404, log_404, NULL);
    free(body);
    return st;
}

/* A body-less POST to path/<user id> (proctoring). */
static rd_status user_id_step(void *instance, const cJSON *learner, rd_call *call, const char *prefix, int preview)
{
    long long id;
    if (drv_lms_user_id(learner, call, &id) != 0) return RD_FAILED;
    char path[256];
    snprintf(path, sizeof path, "%s/%lld", prefix, id);
    return preview ? drv_preview(call, instance, "POST", path, NULL, "no body")
                   : drv_call(call, instance, "POST", path, NULL, DRV_404_FAILS, NULL, NULL);
}

#define NOTE_404_FAILS "a 404 or any other error sets ERRORED"

/* ---- LMS ---- */

#define LMS_USERNAME_METHOD(fn, verb, path, on404, log404, note)                                   \
    static rd_status fn##_run(void *in, const cJSON *l, rd_call *c)                                \
    {                                                                                              \
        return username_step(in, l, c, verb, path, on404, log404, 0, NULL);                       \
    }                                                                                              \
    static rd_status fn##_preview(void *in, const cJSON *l, rd_call *c)                            \
    {                                                                                              \
        return username_step(in, l, c, verb, path, on404, log404, 1, note);                       \
    }

LMS_USERNAME_METHOD(lms_deactivate_logout, "POST", "api/user/v1/accounts/deactivate_logout", DRV_404_FAILS, NULL,
                    "legacy learner-facing endpoint; " NOTE_404_FAILS)
LMS_USERNAME_METHOD(lms_retire_forum, "POST", "api/discussion/v1/accounts/retire_forum", DRV_404_SUCCEEDS,
                    "No information about learner retirement", "404 from the forum service counts as success")
LMS_USERNAME_METHOD(lms_retire_mailings, "POST", "api/user/v1/accounts/retire_mailings", DRV_404_FAILS, NULL,
                    "removed from current LMS releases (DEPR-8): a 404 sets ERRORED")
LMS_USERNAME_METHOD(lms_unenroll, "POST", "api/enrollment/v1/unenroll", DRV_404_FAILS, NULL, NOTE_404_FAILS)
LMS_USERNAME_METHOD(lms_retire_notes, "POST", "api/edxnotes/v1/retire_user", DRV_404_FAILS, NULL, NOTE_404_FAILS)
LMS_USERNAME_METHOD(lms_retire_misc, "POST", "api/user/v1/accounts/retire_misc", DRV_404_FAILS, NULL,
                    NOTE_404_FAILS)
LMS_USERNAME_METHOD(lms_retire, "POST", "api/user/v1/accounts/retire", DRV_404_FAILS, NULL, NOTE_404_FAILS)
LMS_USERNAME_METHOD(lms_partner_queue, "PUT", "api/user/v1/accounts/retirement_partner_report", DRV_404_FAILS, NULL,
                    NOTE_404_FAILS)

static rd_status lms_proctoring_run(void *in, const cJSON *l, rd_call *c)
{
    return user_id_step(in, l, c, "api/edx_proctoring/v1/retire_user", 0);
}
static rd_status lms_proctoring_preview(void *in, const cJSON *l, rd_call *c)
{
    return user_id_step(in, l, c, "api/edx_proctoring/v1/retire_user", 1);
}
static rd_status lms_proctoring_backend_run(void *in, const cJSON *l, rd_call *c)
{
    return user_id_step(in, l, c, "api/edx_proctoring/v1/retire_backend_user", 0);
}
static rd_status lms_proctoring_backend_preview(void *in, const cJSON *l, rd_call *c)
{
    return user_id_step(in, l, c, "api/edx_proctoring/v1/retire_backend_user", 1);
}

static const rd_method lms_methods[] = {
    RD_METHOD("retirement_deactivate_logout", lms_deactivate_logout_run, lms_deactivate_logout_preview),
    RD_METHOD("retirement_retire_forum", lms_retire_forum_run, lms_retire_forum_preview),
    RD_METHOD("retirement_retire_mailings", lms_retire_mailings_run, lms_retire_mailings_preview),
    RD_METHOD("retirement_unenroll", lms_unenroll_run, lms_unenroll_preview),
    RD_METHOD("retirement_retire_notes", lms_retire_notes_run, lms_retire_notes_preview),
    RD_METHOD("retirement_lms_retire_misc", lms_retire_misc_run, lms_retire_misc_preview),
    RD_METHOD("retirement_lms_retire", lms_retire_run, lms_retire_preview),
    RD_METHOD("retirement_partner_queue", lms_partner_queue_run, lms_partner_queue_preview),
    RD_METHOD("retirement_retire_proctoring_data", lms_proctoring_run, lms_proctoring_preview),
    RD_METHOD("retirement_retire_proctoring_backend_data", lms_proctoring_backend_run, lms_proctoring_backend_preview),
    RD_METHODS_END,
};

const rd_driver rd_builtin_lms = RD_DRIVER_INIT("LMS", RETIRECTL_VERSION,
                                                "Open edX LMS retirement endpoints (user_api, discussion, "
                                                "enrollment, edxnotes, proctoring)",
                                                lms_get_instance, drv_instance_free, lms_methods);

/* ---- ECOMMERCE ---- */

LMS_USERNAME_METHOD(ecom_retire, "POST", "api/v2/user/retire", DRV_404_FAILS, NULL, NOTE_404_FAILS)

/* GET the tracking id; the message is the JSON encoding of ecommerce_tracking_id (the job
 * worker stores it as learner.ecommerce_segment_id). 404 -> RD_NOT_FOUND. */
static rd_status ecom_tracking(void *instance, const cJSON *learner, rd_call *call, int preview)
{
    const char *u = drv_original_username(learner, call);
    if (!u) return RD_FAILED;
    const rd_host *h = ((drv_instance *)instance)->host;
    char *seg = h->url_escape(h, u);
    strbuf path = STRBUF_INIT;
    sb_addf(&path, "api/v2/retirement/tracking_id/%s", seg ? seg : u);
    if (seg) h->free(h, seg);
    rd_status st;
    if (preview) {
        st = drv_preview(call, instance, "GET", sb_str(&path), NULL, "404 sets the tracking id to None");
    } else {
        cJSON *json = NULL;
        st = drv_call(call, instance, "GET", sb_str(&path), NULL, DRV_404_FAILS, NULL, &json);
        if (st == RD_OK) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "ecommerce_tracking_id");
            if (!v) {
                rd_call_message(call, "'ecommerce_tracking_id'");
                st = RD_FAILED;
            } else {
                char *text = cJSON_PrintUnformatted(v);
                rd_call_message(call, "%s", text ? text : "null");
                free(text);
            }
        } else if (strncmp(call->message, "404 ", 4) == 0) {
            st = RD_NOT_FOUND;
        }
        cJSON_Delete(json);
    }
    sb_free(&path);
    return st;
}
static rd_status ecom_tracking_run(void *in, const cJSON *l, rd_call *c)
{
    return ecom_tracking(in, l, c, 0);
}
static rd_status ecom_tracking_preview(void *in, const cJSON *l, rd_call *c)
{
    return ecom_tracking(in, l, c, 1);
}

static const rd_method ecommerce_methods[] = {
    RD_METHOD("retire_learner", ecom_retire_run, ecom_retire_preview),
    RD_METHOD("get_tracking_key", ecom_tracking_run, ecom_tracking_preview),
    RD_METHODS_END,
};

const rd_driver rd_builtin_ecommerce = RD_DRIVER_INIT("ECOMMERCE", RETIRECTL_VERSION,
                                                      "Open edX ecommerce: retire the learner, tracking id",
                                                      ecommerce_get_instance, drv_instance_free, ecommerce_methods);

/* ---- CREDENTIALS ---- */

LMS_USERNAME_METHOD(cred_retire, "POST", "user/retire", DRV_404_FAILS, NULL, NOTE_404_FAILS)

static const rd_method credentials_methods[] = {
    RD_METHOD("retire_learner", cred_retire_run, cred_retire_preview),
    RD_METHODS_END,
};

const rd_driver rd_builtin_credentials = RD_DRIVER_INIT("CREDENTIALS", RETIRECTL_VERSION,
                                                        "Open edX credentials: retire the learner",
                                                        credentials_get_instance, drv_instance_free,
                                                        credentials_methods);

/* ---- DEMOGRAPHICS ---- */

static rd_status demographics(void *instance, const cJSON *learner, rd_call *call, int preview)
{
    long long id;
    if (drv_lms_user_id(learner, call, &id) != 0) return RD_FAILED;
    char body[96];
    snprintf(body, sizeof body, "{\"lms_user_id\": %lld}", id);
    const char *path = "demographics/api/v1/retire_demographics";
    return preview ? drv_preview(call, instance, "POST", path, body, "404 counts as success")
                   : drv_call(call, instance, "POST", path, body, DRV_404_SUCCEEDS,
                              "No demographics data found for user", NULL);
}
static rd_status demographics_run(void *in, const cJSON *l, rd_call *c)
{
    return demographics(in, l, c, 0);
}
static rd_status demographics_preview(void *in, const cJSON *l, rd_call *c)
{
    return demographics(in, l, c, 1);
}

static const rd_method demographics_methods[] = {
    RD_METHOD("retire_learner", demographics_run, demographics_preview),
    RD_METHODS_END,
};

const rd_driver rd_builtin_demographics = RD_DRIVER_INIT("DEMOGRAPHICS", RETIRECTL_VERSION,
                                                         "2U demographics service (tubular): retire the learner",
                                                         demographics_get_instance, drv_instance_free,
                                                         demographics_methods);

/* ---- LICENSE_MANAGER ---- */

static rd_status license_manager(void *instance, const cJSON *learner, rd_call *call, int preview)
{
    long long id;
    if (drv_lms_user_id(learner, call, &id) != 0) return RD_FAILED;
    const char *u = drv_original_username(learner, call);
    if (!u) return RD_FAILED;
    strbuf body = STRBUF_INIT;
    sb_addf(&body, "{\"lms_user_id\": %lld, \"original_username\": ", id);
    drv_json_str(&body, u);
    sb_add(&body, "}");
    const char *path = "api/v1/retire_user";
    rd_status st = preview ? drv_preview(call, instance, "POST", path, sb_str(&body), "404 counts as success")
                           : drv_call(call, instance, "POST", path, sb_str(&body), DRV_404_SUCCEEDS,
                                      "No license manager data found for user", NULL);
    sb_free(&body);
    return st;
}
static rd_status license_manager_run(void *in, const cJSON *l, rd_call *c)
{
    return license_manager(in, l, c, 0);
}
static rd_status license_manager_preview(void *in, const cJSON *l, rd_call *c)
{
    return license_manager(in, l, c, 1);
}

static const rd_method license_manager_methods[] = {
    RD_METHOD("retire_learner", license_manager_run, license_manager_preview),
    RD_METHODS_END,
};

const rd_driver rd_builtin_license_manager = RD_DRIVER_INIT("LICENSE_MANAGER", RETIRECTL_VERSION,
                                                            "Open edX license manager: retire the learner",
                                                            license_manager_get_instance, drv_instance_free,
                                                            license_manager_methods);

/* ---- generic (extra_services) ---- */

static rd_status generic(void *instance, const cJSON *learner, rd_call *call, int preview)
{
    drv_instance *in = instance;
    long long id;
    if (drv_lms_user_id(learner, call, &id) != 0) return RD_FAILED;
    char body[96];
    snprintf(body, sizeof body, "{\"edx_lms_user_id\": %lld}", id);
    return preview ? drv_preview(call, in, "POST", in->path, body, NOTE_404_FAILS)
                   : drv_call(call, in, "POST", in->path, body, DRV_404_FAILS, NULL, NULL);
}
static rd_status generic_run(void *in, const cJSON *l, rd_call *c)
{
    return generic(in, l, c, 0);
}
static rd_status generic_preview(void *in, const cJSON *l, rd_call *c)
{
    return generic(in, l, c, 1);
}

static const rd_method generic_methods[] = {
    RD_METHOD("retire_learner", generic_run, generic_preview),
    RD_METHODS_END,
};

const rd_driver rd_builtin_generic = RD_DRIVER_INIT("GENERIC", RETIRECTL_VERSION,
                                                    "extra_services entry: POST {\"edx_lms_user_id\": id} to "
                                                    "base_url/retirement_url_path",
                                                    generic_get_instance, drv_instance_free, generic_methods);

const rd_driver *const *drivers_builtin_list(void)
{
    static const rd_driver *const list[] = {&rd_builtin_lms,          &rd_builtin_ecommerce,
                                            &rd_builtin_credentials,  &rd_builtin_demographics,
                                            &rd_builtin_license_manager, NULL};
    return list;
}
