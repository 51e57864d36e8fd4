/* End-to-end tests of the five vendor plugins (BRAZE, AMPLITUDE, HUBSPOT, SALESFORCE, SEGMENT):
 * `retirectl retire` runs a pipeline of vendor steps against retirectl-sim's vendor emulation
 * (sim/vendor/) over loopback with the real libcurl and the real .so plugins found through the
 * build tree's plugins/retirement_driver.cfg. Each test checks what the vendor received (the
 * sim's request log and /__sim/vendor state), the learner's state and the message recorded at
 * the LMS, and that no secret appears in retirectl's output. Cases follow the upstream tests
 * listed per vendor in docs/vendors.md plus outages, retries and the modern-API modes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simproc.h"

#define STATES                                                                                                   \
    "PENDING,RETIRING_BRAZE,BRAZE_COMPLETE,RETIRING_AMPLITUDE,AMPLITUDE_COMPLETE,RETIRING_HUBSPOT,HUBSPOT_COMPLETE," \
    "RETIRING_SALESFORCE,SALESFORCE_COMPLETE,RETIRING_SEGMENT,SEGMENT_COMPLETE,ERRORED,ABORTED,COMPLETE"

#define ALL_FIVE                                                                          \
    "  - ['RETIRING_BRAZE', 'BRAZE_COMPLETE', 'BRAZE', 'delete_user']\n"                  \
    "  - ['RETIRING_AMPLITUDE', 'AMPLITUDE_COMPLETE', 'AMPLITUDE', 'delete_user']\n"      \
    "  - ['RETIRING_HUBSPOT', 'HUBSPOT_COMPLETE', 'HUBSPOT', 'delete_user']\n"            \
    "  - ['RETIRING_SALESFORCE', 'SALESFORCE_COMPLETE', 'SALESFORCE', 'retire_learner']\n" \
    "  - ['RETIRING_SEGMENT', 'SEGMENT_COMPLETE', 'SEGMENT', 'delete_and_suppress_learner']\n"

#define SEED                                                                                                    \
    "[{\"username\":\"vera_vendor\",\"email\":\"vera@example.com\",\"name\":\"Vera Vendor\",\"state\":\"PENDING\"," \
    "\"days_ago\":30},"                                                                                         \
    "{\"username\":\"nora_nolead\",\"email\":\"nora@example.com\",\"name\":\"Nora N\",\"state\":\"PENDING\","     \
    "\"days_ago\":30},"                                                                                         \
    "{\"username\":\"max_multi\",\"email\":\"max@example.com\",\"name\":\"Max M\",\"state\":\"PENDING\","         \
    "\"days_ago\":30},"                                                                                         \
    "{\"username\":\"otto_quote\",\"email\":\"o'brien@example.com\",\"name\":\"Otto O\",\"state\":\"PENDING\","   \
    "\"days_ago\":30},"                                                                                         \
    "{\"username\":\"wes_second\",\"email\":\"wes@example.com\",\"name\":\"Wes W\",\"state\":\"PENDING\","        \
    "\"days_ago\":30},"                                                                                         \
    "{\"username\":\"eve_noecom\",\"email\":\"eve@example.com\",\"name\":\"Eve E\",\"state\":\"PENDING\","         \
    "\"days_ago\":30,\"ecommerce\":false},"                                                                       \
    "{\"username\":\"nel_noemail\",\"email\":\"\",\"name\":\"Nel\",\"state\":\"PENDING\",\"days_ago\":30},"          \
    "{\"username\":\"ned_noemail\",\"email\":\"\",\"name\":\"Ned\",\"state\":\"PENDING\",\"days_ago\":30}]"

/* Secrets the sim accepts; none may appear in retirectl's output. */
static const char *const SECRETS[] = {"sim-braze-key",       "sim-amplitude-secret", "sim-hubspot-token",
                                      "sim-sf-password",     "SIMTOKEN",             "sim-segment-token",
                                      "sim-aws-secret",      "sim-sf-client-secret", "00DSIM0000000001!AQ8AQSimSessionId",
                                      SIM_CLIENT_SECRET,     NULL};

typedef struct vfix {
    sim_proc sim;
    char *cfg;
} vfix;

/* The running sim, stopped by vteardown when a test fails midway. A copy, never a pointer to the
 * test's stack fixture: after a failed assertion cmocka longjmps out of the test, so such a pointer
 * is dangling in the teardown (an earlier version freed f->cfg through it: "free(): invalid
 * pointer", SIGABRT, and the sims of the run left holding ctest's pipe). */
static sim_proc live_sim;

/* Starts a sim with the vendor state table, the seed learners and `sets` ("name=value" each,
 * NULL-terminated, may be NULL). */
static void vstart(vfix *f, const char *const *sets)
{
    memset(f, 0, sizeof *f);
    char *seed = write_temp_file("seed.json", SEED);
    const char *args[40];
    int n = 0;
    args[n++] = "--states";
    args[n++] = STATES;
    args[n++] = "--seed";
    args[n++] = seed;
    for (int i = 0; sets && sets[i] && n < 36; i++) {
        args[n++] = "--set";
        args[n++] = sets[i];
    }
    args[n] = NULL;
    assert_int_equal(sim_start(&f->sim, args), 0);
    live_sim = f->sim;
    free(seed);
}


static void vstop(vfix *f)
{
    live_sim.pid = 0;
    sim_stop(&f->sim);
    free(f->cfg);
    f->cfg = NULL;
}

/* cmocka teardown: stops the sim of a test that failed before its vstop. */
static int vteardown(void **state)
{
    (void)state;
    if (live_sim.pid > 0) sim_stop(&live_sim);
    return 0;
}

/* Writes the config: vendor keys pointing at the sim, the given pipeline (NULL: all five) and
 * extra YAML (NULL: none). Keys in `extra` must not repeat a default key, so tests that need a
 * different value for one pass `no_defaults` and spell out every vendor key themselves. */
static void vconfig(vfix *f, const char *pipeline, const char *extra, int no_defaults)
{
    const char *u = f->sim.base_url;
    char *text = NULL;
    int rc = asprintf(&text,
                      "client_id: %s\n"
                      "client_secret: %s\n"
                      "base_urls:\n"
                      "  lms: %s/\n"
                      "  segment: %s/vendor/segment/\n"
                      "  ecommerce: %s/ecommerce/\n"
                      "vendor_retry_base_seconds: 0.01\n"
                      "%s"
                      "retirement_pipeline:\n%s",
                      SIM_CLIENT_ID, SIM_CLIENT_SECRET, u, u, u, extra ? extra : "", pipeline ? pipeline : ALL_FIVE);
    assert_true(rc > 0);
    if (!no_defaults) {
        char *defaults = NULL;
        rc = asprintf(&defaults,
                      "braze_api_key: sim-braze-key\n"
                      "braze_rest_url: %s/vendor/braze\n"
                      "amplitude_api_key: sim-amplitude-key\n"
                      "amplitude_secret_key: sim-amplitude-secret\n"
                      "amplitude_api_url: %s/vendor/amplitude\n"
                      "hubspot_api_key: sim-hubspot-token\n"
                      "hubspot_api_url: %s/vendor/hubspot\n"
                      "hubspot_aws_region: eu-west-1\n"
                      "hubspot_from_address: retirement@example.com\n"
                      "hubspot_alert_email: marketing@example.com\n"
                      "hubspot_ses_url: %s/vendor/ses/\n"
                      "salesforce_user: sf-user@example.com\n"
                      "salesforce_password: sim-sf-password\n"
                      "salesforce_token: SIMTOKEN\n"
                      "salesforce_assignee: retirement-admin@example.com\n"
                      "salesforce_login_url: %s/vendor/salesforce\n"
                      "salesforce_instance_url: %s/vendor/salesforce\n"
                      "segment_auth_token: sim-segment-token\n"
                      "segment_workspace_slug: sim-workspace\n",
                      u, u, u, u, u, u);
        assert_true(rc > 0);
        char *all = NULL;
        rc = asprintf(&all, "%s%s", defaults, text);
        assert_true(rc > 0);
        free(defaults);
        free(text);
        text = all;
    }
    free(f->cfg);
    f->cfg = write_temp_file("config.yml", text);
    free(text);
}

/* Runs `retirectl --config CFG <args...>` with extra environment entries; returns the result. */
static void vrun4(vfix *f, cmd_result *r, const char *const *env, const char *a1, const char *a2, const char *a3,
                  const char *a4)
{
    const char *bin = getenv("RETIRECTL_BIN");
    if (!bin || !*bin) bin = RETIRECTL_BIN;
    const char *argv[] = {bin, "--config", f->cfg, a1, a2, a3, a4, NULL};
    const char *envs[24];
    int n = 0;
    envs[n++] = "LC_ALL=C.UTF-8";
    envs[n++] = "AWS_ACCESS_KEY_ID=AKIDSIMEXAMPLE";
    envs[n++] = "AWS_SECRET_ACCESS_KEY=sim-aws-secret";
    for (int i = 0; env && env[i] && n < 22; i++) envs[n++] = env[i];
    envs[n] = NULL;
    assert_int_equal(run_command(r, argv, envs, NULL, 120), 0);
    for (int i = 0; SECRETS[i]; i++) {
        if (strstr(r->out, SECRETS[i]) || strstr(r->err, SECRETS[i])) {
            fprintf(stderr, "secret %s printed:\n%s\n%s\n", SECRETS[i], r->out, r->err);
            fail();
        }
    }
}

static void vrun(vfix *f, cmd_result *r, const char *const *env, const char *a1, const char *a2, const char *a3)
{
    vrun4(f, r, env, a1, a2, a3, NULL);
}

/* Runs `retirectl --config CFG a1 [a2]`, asserts the exit status (unless want < 0) and that
 * `needle` is in its stdout or stderr. */
static void vrun_has(vfix *f, int want, const char *needle, const char *a1, const char *a2)
{
    cmd_result r;
    vrun(f, &r, NULL, a1, a2, NULL);
    int ok = (want < 0 || r.status == want) && (strstr(r.out, needle) || strstr(r.err, needle));
    if (!ok) fprintf(stderr, "expected status %d and \"%s\"; got %d:\n%s\n%s\n", want, needle, r.status, r.out, r.err);
    cmd_result_free(&r);
    assert_true(ok);
}

/* GET a sim control path and parse it. */
static cJSON *vget(vfix *f, const char *path)
{
    char *body = NULL;
    long st = sim_http(&f->sim, "GET", path, NULL, NULL, &body);
    assert_int_equal(st, 200);
    cJSON *j = cJSON_Parse(body);
    free(body);
    assert_non_null(j);
    return j;
}

/* Vendor requests whose method matches and path contains `part` (a new array of the entries). */
static cJSON *vrequests(vfix *f, const char *method, const char *part)
{
    cJSON *all = vget(f, "/__sim/requests");
    cJSON *list = cJSON_IsArray(all) ? all : cJSON_GetObjectItemCaseSensitive(all, "requests");
    cJSON *out = cJSON_CreateArray();
    const cJSON *r;
    cJSON_ArrayForEach(r, list) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "method");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "path");
        if (cJSON_IsString(m) && cJSON_IsString(p) && !strcmp(m->valuestring, method) && strstr(p->valuestring, part))
            cJSON_AddItemToArray(out, cJSON_Duplicate(r, 1));
    }
    cJSON_Delete(all);
    return out;
}

static int vcount(vfix *f, const char *method, const char *part)
{
    cJSON *a = vrequests(f, method, part);
    int n = cJSON_GetArraySize(a);
    cJSON_Delete(a);
    return n;
}

/* Vendor requests whose method matches, path contains `part` and answer was `status`. */
static int vcount_status(vfix *f, const char *method, const char *part, int status)
{
    cJSON *q = vrequests(f, method, part);
    int n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, q) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
        if (cJSON_IsNumber(st) && (int)st->valuedouble == status) n++;
    }
    cJSON_Delete(q);
    return n;
}

/* The longest wait a run's log announces as `prefix` followed by seconds ("Trying again in " for
 * Segment, "Backing off delete_user(...) for " for Braze and HubSpot), or -1 when there is none. */
static double vmax_wait(const char *log, const char *prefix)
{
    double most = -1;
    for (const char *p = log; (p = strstr(p, prefix)); p++) {
        double w = strtod(p + strlen(prefix), NULL);
        if (w > most) most = w;
    }
    return most;
}

#define BACKOFF "Backing off delete_user(...) for "

/* String field `key` of request number i (0-based) of a vrequests list. */
static const char *req_field(const cJSON *list, int i, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i), key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The learner's dump object from /__sim/learners (new), by original username. */
static cJSON *vlearner(vfix *f, const char *user)
{
    cJSON *all = vget(f, "/__sim/learners");
    cJSON *list = cJSON_IsArray(all) ? all : cJSON_GetObjectItemCaseSensitive(all, "learners");
    cJSON *found = NULL;
    const cJSON *l;
    cJSON_ArrayForEach(l, list) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(l, "original_username");
        if (cJSON_IsString(u) && !strcmp(u->valuestring, user)) found = cJSON_Duplicate(l, 1);
    }
    cJSON_Delete(all);
    assert_non_null(found);
    return found;
}

/* Asserts the learner's state and returns its responses log (malloc'd). */
static char *vassert_state(vfix *f, const char *user, const char *state)
{
    cJSON *l = vlearner(f, user);
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "current_state"), "state_name");
    assert_true(cJSON_IsString(cs));
    if (strcmp(cs->valuestring, state) != 0) {
        fprintf(stderr, "learner %s is in %s, expected %s\n", user, cs->valuestring, state);
        fail();
    }
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(l, "responses");
    char *out = strdup(cJSON_IsString(resp) ? resp->valuestring : "");
    cJSON_Delete(l);
    return out;
}

/* `retirectl retire USER` exits 0 with `needle` in its log and leaves the learner COMPLETE. */
static void vretire_complete(vfix *f, const char *const *env, const char *user, const char *needle)
{
    cmd_result r;
    vrun(f, &r, env, "retire", user, NULL);
    if (r.status != 0 || !strstr(r.err, needle)) fprintf(stderr, "expected \"%s\":\n%s\n%s\n", needle, r.out, r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, needle));
    cmd_result_free(&r);
    free(vassert_state(f, user, "COMPLETE"));
}

/* `retirectl retire USER` exits 252 and leaves the learner ERRORED with `needle` in its record. */
static void vretire_errored(vfix *f, const char *const *env, const char *user, const char *needle)
{
    cmd_result r;
    vrun(f, &r, env, "retire", user, NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    char *log = vassert_state(f, user, "ERRORED");
    if (!strstr(log, needle)) fprintf(stderr, "record of %s lacks \"%s\":\n%s\n", user, needle, log);
    assert_non_null(strstr(log, needle));
    free(log);
}

/* The LMS user id of a learner, as text. */
static void vuid(vfix *f, const char *user, char *buf, size_t len)
{
    cJSON *l = vlearner(f, user);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "user"), "id");
    assert_true(cJSON_IsNumber(id));
    snprintf(buf, len, "%ld", (long)id->valuedouble);
    cJSON_Delete(l);
}

/* Installs a fault rule. */
static void vfault(vfix *f, const char *rule_json)
{
    char *body = NULL;
    long st = sim_http(&f->sim, "POST", "/__sim/faults", NULL, rule_json, &body);
    if (st < 200 || st >= 300) fprintf(stderr, "fault rule refused (%ld): %s\n", st, body ? body : "");
    free(body);
    assert_true(st >= 200 && st < 300);
}

/* /__sim/vendor state of one vendor (new). */
static cJSON *vstate(vfix *f, const char *vendor)
{
    cJSON *all = vget(f, "/__sim/vendor");
    cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(all, vendor);
    cJSON_Delete(all);
    assert_non_null(v);
    return v;
}

/* ---- tests ---------------------------------------------------------------------------- */

/* Every vendor step runs for one learner: exact requests, vendor effects, LMS record. */
static void test_full_pipeline_all_five(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, NULL, NULL, 0);
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "Braze user deletion succeeded"));
    assert_non_null(strstr(r.err, "Amplitude user deletion succeeded"));
    assert_non_null(strstr(r.err, "User successfully deleted from Hubspot"));
    assert_non_null(strstr(r.err, "Successfully salesforce task created task 00TSIM"));
    assert_non_null(strstr(r.err, "Bulk user regulation queued. Id: reg_sim_0001"));
    cmd_result_free(&r);

    char *log = vassert_state(&f, "vera_vendor", "COMPLETE");
    assert_non_null(strstr(log, "Ending: BRAZE_COMPLETE with response:\nNone"));
    assert_non_null(strstr(log, "Ending: SEGMENT_COMPLETE with response:\nNone"));
    free(log);

    char uid[32], want[512];
    vuid(&f, "vera_vendor", uid, sizeof uid);
    /* Braze: one POST, id as a JSON number, Python json.dumps spacing, bearer key */
    cJSON *q = vrequests(&f, "POST", "/vendor/braze/users/delete");
    assert_int_equal(cJSON_GetArraySize(q), 1);
    snprintf(want, sizeof want, "{\"external_ids\": [%s]}", uid);
    assert_string_equal(req_field(q, 0, "body"), want);
    assert_string_equal(req_field(q, 0, "authorization"), "Bearer sim-braze-key");
    assert_string_equal(req_field(q, 0, "content_type"), "application/json");
    cJSON_Delete(q);
    /* Amplitude: Basic auth, the upstream body */
    q = vrequests(&f, "POST", "/vendor/amplitude/api/2/deletions/users");
    assert_int_equal(cJSON_GetArraySize(q), 1);
    snprintf(want, sizeof want,
             "{\"user_ids\": [%s], \"ignore_invalid_id\": \"true\", \"requester\": \"user-retirement-pipeline\"}", uid);
    assert_string_equal(req_field(q, 0, "body"), want);
    assert_string_equal(req_field(q, 0, "authorization"), "Basic c2ltLWFtcGxpdHVkZS1rZXk6c2ltLWFtcGxpdHVkZS1zZWNyZXQ=");
    cJSON_Delete(q);
    /* HubSpot: lookup by e-mail, delete by vid, SES alert signed and delivered */
    assert_int_equal(vcount(&f, "GET", "/vendor/hubspot/contacts/v1/contact/email/vera@example.com/profile"), 1);
    assert_int_equal(vcount(&f, "DELETE", "/vendor/hubspot/contacts/v1/contact/vid/"), 1);
    cJSON *hs = vstate(&f, "hubspot");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(hs, "deleted_vids")), 1);
    long vid = (long)cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(hs, "deleted_vids"), 0)->valuedouble;
    cJSON_Delete(hs);
    cJSON *ses = vstate(&f, "ses");
    cJSON *sent = cJSON_GetObjectItemCaseSensitive(ses, "sent");
    assert_int_equal(cJSON_GetArraySize(sent), 1);
    cJSON *mail = cJSON_GetArrayItem(sent, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(mail, "subject")->valuestring, "Alert: Hubspot Deletion");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(mail, "to")->valuestring, "marketing@example.com");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(mail, "source")->valuestring, "retirement@example.com");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(mail, "region")->valuestring, "eu-west-1");
    snprintf(want, sizeof want, "Learner with the VID \"%ld\" has been deleted from Hubspot.", vid);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(mail, "body")->valuestring, want);
    cJSON_Delete(ses);
    /* Salesforce: login, assignee + lead queries, one Task */
    cJSON *sf = vstate(&f, "salesforce");
    cJSON *tasks = cJSON_GetObjectItemCaseSensitive(sf, "tasks");
    assert_int_equal(cJSON_GetArraySize(tasks), 1);
    cJSON *t = cJSON_GetArrayItem(tasks, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "Subject")->valuestring, "GDPR Request: vera@example.com");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "OwnerId")->valuestring, "005SIM0000000000001");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "Description")->valuestring,
                        "A user data retirement request has been made for vera@example.com who has been identified "
                        "as a lead in Salesforce. Please manually retire the user data for this lead.");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(sf, "logins")->valuedouble, 1);
    cJSON_Delete(sf);
    q = vrequests(&f, "POST", "/sobjects/Task/");
    assert_int_equal(cJSON_GetArraySize(q), 1);
    assert_non_null(strstr(req_field(q, 0, "body"), "{\"Description\": \"A user data retirement request"));
    /* simple-salesforce 1.12.5's defaults, as upstream pins: API 57.0, SOAP client name */
    assert_non_null(strstr(req_field(q, 0, "path"), "/services/data/v57.0/sobjects/Task/"));
    cJSON_Delete(q);
    q = vrequests(&f, "POST", "/vendor/salesforce/services/Soap/u/57.0");
    assert_int_equal(cJSON_GetArraySize(q), 1);
    assert_non_null(strstr(req_field(q, 0, "body"), "<urn:client>simple-salesforce</urn:client>"));
    cJSON_Delete(q);
    /* Segment: Config API body */
    q = vrequests(&f, "POST", "/vendor/segment/v1beta/workspaces/sim-workspace/regulations");
    assert_int_equal(cJSON_GetArraySize(q), 1);
    snprintf(want, sizeof want,
             "{\"regulation_type\": \"Suppress_With_Delete\", \"attributes\": {\"name\": \"userId\", \"values\": "
             "[\"%s\", \"vera_vendor\"]}}",
             uid);
    assert_string_equal(req_field(q, 0, "body"), want);
    assert_string_equal(req_field(q, 0, "authorization"), "Bearer sim-segment-token");
    cJSON_Delete(q);
    vstop(&f);
}

/* Nothing to delete at HubSpot and Salesforce: success without DELETE, alert or Task. */
static void test_not_found_is_success(void **state)
{
    (void)state;
    vfix f;
    const char *sets[] = {"hubspot_absent=nora@example.com", "salesforce_no_lead=nora@example.com", NULL};
    vstart(&f, sets);
    vconfig(&f, NULL, NULL, 0);
    vretire_complete(&f, NULL, "nora_nolead", "No action taken because no lead was found in Salesforce.");
    assert_int_equal(vcount(&f, "GET", "/vendor/hubspot/contacts/v1/contact/email/nora@example.com/profile"), 1);
    assert_int_equal(vcount(&f, "DELETE", "/vendor/hubspot/"), 0);
    assert_int_equal(vcount(&f, "POST", "/vendor/ses/"), 0);
    assert_int_equal(vcount(&f, "POST", "/sobjects/Task/"), 0);
    vstop(&f);
}

/* A Braze outage: 500 every time -> RETRY_BRAZE_MAX_ATTEMPTS attempts (default 5, env 2), then
 * the learner is ERRORED with Braze's message and later steps never run. */
static void test_braze_outage_retries_then_errors(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, NULL, NULL, 0);
    vfault(&f, "{\"endpoint\":\"braze_delete\",\"status\":500,\"body\":\"{\\\"message\\\":\\\"Braze is down\\\"}\"}");
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/braze/users/delete"), 5);
    assert_int_equal(vcount(&f, "POST", "/vendor/amplitude/"), 0);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    assert_non_null(strstr(log, "Braze user deletion failed due to Braze is down"));
    free(log);

    /* 429 is recoverable too; RETRY_BRAZE_MAX_ATTEMPTS=2 as in Tubular's test */
    sim_http(&f.sim, "DELETE", "/__sim/faults", NULL, NULL, NULL);
    vfault(&f, "{\"endpoint\":\"braze_delete\",\"status\":429}");
    const char *env[] = {"RETRY_BRAZE_MAX_ATTEMPTS=2", NULL};
    vrun(&f, &r, env, "retire", "wes_second", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/braze/users/delete"), 5 + 2);
    log = vassert_state(&f, "wes_second", "ERRORED");
    assert_non_null(strstr(log, "Braze user deletion failed due to "));
    free(log);
    vstop(&f);
}

/* Braze's rate limit of 1 request per 5 s: the second learner's delete gets a 429 whose
 * X-RateLimit-Reset (UTC epoch seconds) says when the window ends; the plugin waits for it instead
 * of its 0.01 s test backoff (5 attempts inside the window left the learner ERRORED). */
static void test_braze_429_waits_for_window(void **state)
{
    (void)state;
    vfix f;
    const char *sets[] = {"braze_rate_limit=1", "braze_rate_window_seconds=5", NULL};
    vstart(&f, sets);
    vconfig(&f, "  - ['RETIRING_BRAZE', 'BRAZE_COMPLETE', 'BRAZE', 'delete_user']\n", "step_timeout_seconds: 20\n", 0);
    vretire_complete(&f, NULL, "vera_vendor", "Braze user deletion succeeded");
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "wes_second", NULL);
    if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    double wait = vmax_wait(r.err, BACKOFF);
    assert_true(wait >= 1.0 && wait <= 7.0);
    cmd_result_free(&r);
    free(vassert_state(&f, "wes_second", "COMPLETE"));
    assert_int_equal(vcount_status(&f, "POST", "/vendor/braze/users/delete", 429), 1);
    cJSON *bz = vstate(&f, "braze");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(bz, "delete_calls")->valuedouble, 2);
    cJSON_Delete(bz);
    vstop(&f);
}

/* Braze 404 is fatal at once, with the body's message (upstream test_delete_fatal_error). */
static void test_braze_fatal_error(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, NULL, NULL, 0);
    vfault(&f, "{\"endpoint\":\"braze_delete\",\"status\":404,\"body\":\"{\\\"message\\\":\\\"Test Error Message\\\"}\"}");
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/braze/users/delete"), 1);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    assert_non_null(strstr(log, "Braze user deletion failed due to Test Error Message"));
    free(log);
    vstop(&f);
}

/* Amplitude: 429 is retried RETRY_MAX_ATTEMPTS times; a 404 is fatal with the reason phrase. */
static void test_amplitude_retry_and_fatal(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, "  - ['RETIRING_AMPLITUDE', 'AMPLITUDE_COMPLETE', 'AMPLITUDE', 'delete_user']\n", NULL, 0);
    vfault(&f, "{\"endpoint\":\"amplitude_delete\",\"status\":429,\"times\":3}");
    const char *env[] = {"RETRY_MAX_ATTEMPTS=3", NULL};
    cmd_result r;
    vrun(&f, &r, env, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/amplitude/api/2/deletions/users"), 3);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    assert_non_null(strstr(log, "Amplitude user deletion failed due to Too Many Requests"));
    free(log);

    vfault(&f, "{\"endpoint\":\"amplitude_delete\",\"status\":404,\"times\":1}");
    vrun(&f, &r, NULL, "retire", "wes_second", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/amplitude/api/2/deletions/users"), 4);
    log = vassert_state(&f, "wes_second", "ERRORED");
    assert_non_null(strstr(log, "Amplitude user deletion failed due to Not Found"));
    free(log);
    vstop(&f);
}

/* HubSpot: every failure of lookup+delete is retried as a whole; the upstream messages. */
static void test_hubspot_failures(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, "  - ['RETIRING_HUBSPOT', 'HUBSPOT_COMPLETE', 'HUBSPOT', 'delete_user']\n", NULL, 0);
    const char *env[] = {"RETRY_HUBSPOT_MAX_ATTEMPTS=3", NULL};
    /* DELETE answers 401 every time: 3 lookups and 3 deletes */
    vfault(&f, "{\"endpoint\":\"hubspot_delete\",\"status\":401}");
    cmd_result r;
    vrun(&f, &r, env, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "GET", "/vendor/hubspot/contacts/v1/contact/email/"), 3);
    assert_int_equal(vcount(&f, "DELETE", "/vendor/hubspot/contacts/v1/contact/vid/"), 3);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    assert_non_null(strstr(log, "Hubspot user deletion failed due to authorized API call"));
    free(log);
    assert_int_equal(vcount(&f, "POST", "/vendor/ses/"), 0);
    sim_http(&f.sim, "DELETE", "/__sim/faults", NULL, NULL, NULL);

    /* lookup answers 500 once, then works: the retry deletes the contact */
    vfault(&f, "{\"endpoint\":\"hubspot_lookup\",\"status\":500,\"times\":1,\"body\":\"hubspot exploded\"}");
    vrun(&f, &r, env, "retire", "wes_second", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "Error attempted to get user_vid from Hubspot. Error: hubspot exploded"));
    cmd_result_free(&r);
    free(vassert_state(&f, "wes_second", "COMPLETE"));
    assert_int_equal(vcount(&f, "DELETE", "/vendor/hubspot/contacts/v1/contact/vid/"), 3 + 1);
    vstop(&f);
}

/* HubSpot's SES alert fails (wrong AWS secret: SignatureDoesNotMatch): MAX_EMAIL_TRIES attempts,
 * the upstream BackendError text; the contact is already gone, so a rerun does not delete twice. */
static void test_hubspot_alert_failure(void **state)
{
    (void)state;
    vfix f;
    const char *sets[] = {"aws_secret_access_key=the-real-secret", NULL};
    vstart(&f, sets);
    vconfig(&f, "  - ['RETIRING_HUBSPOT', 'HUBSPOT_COMPLETE', 'HUBSPOT', 'delete_user']\n", NULL, 0);
    const char *env[] = {"MAX_EMAIL_TRIES=2", NULL};
    cmd_result r;
    vrun(&f, &r, env, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.err, "SignatureDoesNotMatch"));
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/ses/"), 2);
    assert_int_equal(vcount(&f, "DELETE", "/vendor/hubspot/contacts/v1/contact/vid/"), 1);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    assert_non_null(strstr(log, "Timed out after 2 attempts to send email with subject \"Alert: Hubspot Deletion\"."));
    free(log);
    /* the right secret now: the retired contact is not found, nothing deleted twice */
    const char *env2[] = {"AWS_SECRET_ACCESS_KEY=the-real-secret", NULL};
    vrun4(&f, &r, env2, "rerun", "vera_vendor", "HUBSPOT.delete_user", "--yes");
    if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "DELETE", "/vendor/hubspot/contacts/v1/contact/vid/"), 1);
    assert_int_equal(vcount(&f, "GET", "/vendor/hubspot/contacts/v1/contact/email/vera@example.com/profile"), 2);
    vstop(&f);
}

/* HubSpot v3 GDPR delete (hubspot_gdpr_delete: true): one POST, no lookup, no alert. */
static void test_hubspot_gdpr_v3(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, "  - ['RETIRING_HUBSPOT', 'HUBSPOT_COMPLETE', 'HUBSPOT', 'delete_user']\n", "hubspot_gdpr_delete: true\n",
            0);
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    free(vassert_state(&f, "vera_vendor", "COMPLETE"));
    cJSON *q = vrequests(&f, "POST", "/vendor/hubspot/crm/v3/objects/contacts/gdpr-delete");
    assert_int_equal(cJSON_GetArraySize(q), 1);
    assert_string_equal(req_field(q, 0, "body"), "{\"objectId\": \"vera@example.com\", \"idProperty\": \"email\"}");
    cJSON_Delete(q);
    assert_int_equal(vcount(&f, "GET", "/vendor/hubspot/"), 0);
    assert_int_equal(vcount(&f, "POST", "/vendor/ses/"), 0);
    cJSON *hs = vstate(&f, "hubspot");
    cJSON *g = cJSON_GetObjectItemCaseSensitive(hs, "gdpr_deleted");
    assert_int_equal(cJSON_GetArraySize(g), 1);
    assert_string_equal(cJSON_GetArrayItem(g, 0)->valuestring, "vera@example.com");
    cJSON_Delete(hs);
    vstop(&f);
}

#define HS_ONLY "  - ['RETIRING_HUBSPOT', 'HUBSPOT_COMPLETE', 'HUBSPOT', 'delete_user']\n"

/* The SES alert's SigV4 signature covers the path of hubspot_ses_url (here a relay path with a
 * character AWS encodes), as AWS checks it; signing "/" was rejected with SignatureDoesNotMatch. */
static void test_hubspot_alert_signs_path(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    char *text = NULL;
    assert_true(asprintf(&text,
                         "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n"
                         "hubspot_api_key: sim-hubspot-token\nhubspot_api_url: %s/vendor/hubspot\n"
                         "hubspot_aws_region: eu-west-1\nhubspot_from_address: retirement@example.com\n"
                         "hubspot_alert_email: marketing@example.com\nhubspot_ses_url: %s/vendor/ses/relay/eu=1\n"
                         "retirement_pipeline:\n" HS_ONLY,
                         SIM_CLIENT_ID, SIM_CLIENT_SECRET, f.sim.base_url, f.sim.base_url, f.sim.base_url) > 0);
    f.cfg = write_temp_file("config.yml", text);
    free(text);
    const char *env[] = {"MAX_EMAIL_TRIES=2", NULL};
    cmd_result r;
    vrun(&f, &r, env, "retire", "vera_vendor", NULL);
    if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    assert_int_equal(vcount_status(&f, "POST", "/vendor/ses/relay/eu=1/", 200), 1);
    cJSON *ses = vstate(&f, "ses");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ses, "sent")), 1);
    cJSON_Delete(ses);
    vstop(&f);
}

/* HubSpot v3 GDPR delete answering 404 is not retried: with HubSpot's OBJECT_NOT_FOUND body there
 * is no such contact (the step succeeds), any other 404 (a wrong URL) fails at once. Before, both
 * were retried RETRY_HUBSPOT_MAX_ATTEMPTS times. */
static void test_hubspot_gdpr_404_not_retried(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, HS_ONLY, "hubspot_gdpr_delete: true\n", 0);
    const char *env[] = {"RETRY_HUBSPOT_MAX_ATTEMPTS=3", NULL};
    vfault(&f, "{\"endpoint\":\"hubspot_gdpr_delete\",\"status\":404,\"times\":1,\"body\":{\"status\":\"error\","
               "\"message\":\"Object not found.\",\"correlationId\":\"c-1\",\"category\":\"OBJECT_NOT_FOUND\"}}");
    vretire_complete(&f, env, "vera_vendor", "No action taken because no user was found in Hubspot.");
    assert_int_equal(vcount(&f, "POST", "/crm/v3/objects/contacts/gdpr-delete"), 1);
    vfault(&f, "{\"endpoint\":\"hubspot_gdpr_delete\",\"status\":404,\"body\":\"<html>Not Found</html>\"}");
    vretire_errored(&f, env, "wes_second", "Hubspot GDPR deletion failed with HTTP 404: <html>Not Found</html>");
    assert_int_equal(vcount(&f, "POST", "/crm/v3/objects/contacts/gdpr-delete"), 2);
    vstop(&f);
}

/* HubSpot's burst limit (1 request per 5 s in v3 mode; 2 in v1, where a learner is a lookup and a
 * delete): the second learner gets a 429 with Retry-After and waits that long instead of the
 * 0.01 s test backoff, which spent its 5 attempts inside the window and left it ERRORED. */
static void test_hubspot_429_retry_after(void **state)
{
    (void)state;
    for (int v3 = 0; v3 < 2; v3++) {
        vfix f;
        const char *sets[] = {v3 ? "hubspot_rate_limit=1" : "hubspot_rate_limit=2", "hubspot_rate_window_seconds=5",
                              NULL};
        vstart(&f, sets);
        vconfig(&f, HS_ONLY, v3 ? "hubspot_gdpr_delete: true\nstep_timeout_seconds: 20\n" : "step_timeout_seconds: 20\n", 0);
        cmd_result r;
        vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
        assert_int_equal(r.status, 0);
        cmd_result_free(&r);
        vrun(&f, &r, NULL, "retire", "wes_second", NULL);
        if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
        assert_int_equal(r.status, 0);
        double wait = vmax_wait(r.err, BACKOFF);
        if (wait < 1.0 || wait > 5.0) fprintf(stderr, "waited %.2f s:\n%s\n", wait, r.err);
        assert_true(wait >= 1.0 && wait <= 5.0);
        cmd_result_free(&r);
        free(vassert_state(&f, "wes_second", "COMPLETE"));
        assert_int_equal(vcount_status(&f, v3 ? "POST" : "GET", "/vendor/hubspot/", 429), 1);
        vstop(&f);
    }
}

#define SF_ONLY "  - ['RETIRING_SALESFORCE', 'SALESFORCE_COMPLETE', 'SALESFORCE', 'retire_learner']\n"

/* Salesforce: SOQL escaping, multiple leads, the upstream error texts, login failure. */
static void test_salesforce_cases(void **state)
{
    (void)state;
    vfix f;
    const char *sets[] = {"salesforce_multi_lead=max@example.com", NULL};
    vstart(&f, sets);
    vconfig(&f, SF_ONLY, NULL, 0);
    cmd_result r;
    /* escaping (upstream test_escape_email) */
    vrun(&f, &r, NULL, "retire", "otto_quote", NULL);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    cJSON *sf = vstate(&f, "salesforce");
    cJSON *qs = cJSON_GetObjectItemCaseSensitive(sf, "queries");
    assert_string_equal(cJSON_GetArrayItem(qs, 1)->valuestring, "SELECT Id FROM Lead WHERE Email = 'o\\'brien@example.com'");
    cJSON_Delete(sf);
    /* two leads: warning and the notice listing both */
    vrun(&f, &r, NULL, "retire", "max_multi", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "Multiple Ids returned for Lead with email max@example.com"));
    cmd_result_free(&r);
    sf = vstate(&f, "salesforce");
    cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sf, "tasks"), 1);
    const char *desc = cJSON_GetObjectItemCaseSensitive(t, "Description")->valuestring;
    const char *notice = strstr(desc, "\nNotice: Multiple leads were identified with the same email. Please retire all "
                                      "following leads:\n00QSIM");
    assert_non_null(notice);
    assert_non_null(strstr(notice + 10, "\n00QSIM"));
    assert_non_null(strstr(desc, cJSON_GetObjectItemCaseSensitive(t, "WhoId")->valuestring));
    cJSON_Delete(sf);
    /* Task creation refused with an HTTP error: simple-salesforce's text */
    vfault(&f, "{\"endpoint\":\"salesforce_task\",\"status\":400,\"times\":1,"
               "\"body\":\"[{\\\"message\\\":\\\"bad field\\\",\\\"errorCode\\\":\\\"INVALID_FIELD\\\"}]\"}");
    vrun(&f, &r, NULL, "retire", "wes_second", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    char *log = vassert_state(&f, "wes_second", "ERRORED");
    assert_non_null(strstr(log, "Malformed request "));
    assert_non_null(strstr(log, "/sobjects/Task/. Response content: [{'message': 'bad field', 'errorCode': "
                                "'INVALID_FIELD'}]"));
    free(log);
    vstop(&f);

    /* unknown assignee (upstream test_no_assignee_email) and a bad password */
    vstart(&f, NULL);
    char *text = NULL;
    const char *u = f.sim.base_url;
    assert_true(asprintf(&text,
                         "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n"
                         "vendor_retry_base_seconds: 0.01\n"
                         "salesforce_user: sf-user@example.com\nsalesforce_password: sim-sf-password\n"
                         "salesforce_token: SIMTOKEN\nsalesforce_assignee: nobody@example.com\n"
                         "salesforce_login_url: %s/vendor/salesforce\nsalesforce_instance_url: %s/vendor/salesforce\n"
                         "retirement_pipeline:\n" SF_ONLY,
                         SIM_CLIENT_ID, SIM_CLIENT_SECRET, u, u, u) > 0);
    free(f.cfg);
    f.cfg = write_temp_file("config.yml", text);
    free(text);
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    log = vassert_state(&f, "vera_vendor", "ERRORED");
    assert_non_null(strstr(log, "Could not find Salesforce user with username nobody@example.com"));
    free(log);
    assert_int_equal(vcount(&f, "POST", "/sobjects/Task/"), 0);

    assert_true(asprintf(&text,
                         "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n"
                         "vendor_retry_base_seconds: 0.01\n"
                         "salesforce_user: sf-user@example.com\nsalesforce_password: wrong-password\n"
                         "salesforce_token: SIMTOKEN\nsalesforce_assignee: retirement-admin@example.com\n"
                         "salesforce_login_url: %s/vendor/salesforce\nsalesforce_instance_url: %s/vendor/salesforce\n"
                         "retirement_pipeline:\n" SF_ONLY,
                         SIM_CLIENT_ID, SIM_CLIENT_SECRET, u, u, u) > 0);
    free(f.cfg);
    f.cfg = write_temp_file("config.yml", text);
    free(text);
    vrun(&f, &r, NULL, "retire", "wes_second", NULL);
    assert_int_equal(r.status, 252);
    assert_null(strstr(r.out, "wrong-password"));
    assert_null(strstr(r.err, "wrong-password"));
    cmd_result_free(&r);
    log = vassert_state(&f, "wes_second", "ERRORED");
    assert_non_null(strstr(log, "INVALID_LOGIN: Invalid username, password, security token; or user locked out."));
    assert_null(strstr(log, "wrong-password"));
    free(log);
    vstop(&f);
}

/* Writes a client-credentials Salesforce config whose token host is given by `host_yaml`. */
static void vsf_oauth_config(vfix *f, const char *host_yaml)
{
    char *text = NULL;
    assert_true(asprintf(&text,
                         "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n"
                         "salesforce_auth: client_credentials\nsalesforce_client_id: sim-sf-client\n"
                         "salesforce_client_secret: sim-sf-client-secret\n"
                         "salesforce_assignee: retirement-admin@example.com\n%s"
                         "retirement_pipeline:\n" SF_ONLY,
                         SIM_CLIENT_ID, SIM_CLIENT_SECRET, f->sim.base_url, host_yaml) > 0);
    free(f->cfg);
    f->cfg = write_temp_file("config.yml", text);
    free(text);
}

/* Client credentials are refused on login.salesforce.com (Salesforce needs the org's My Domain):
 * without salesforce_domain: <name>.my or salesforce_login_url, check-config fails naming both
 * and a run is refused before anything is sent; a My Domain passes. */
static void test_salesforce_oauth_needs_my_domain(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    static const char *const bad[] = {"", "salesforce_domain: login\n", "salesforce_domain: test\n"};
    static const char *const says[] = {"FAIL  settings and pipeline", "salesforce_auth is client_credentials",
                                       "salesforce_domain: <name>.my", "salesforce_login_url"};
    for (int i = 0; i < 3; i++) {
        vsf_oauth_config(&f, bad[i]);
        for (int k = 0; k < 4; k++) vrun_has(&f, 249, says[k], "check-config", NULL);
    }
    vrun_has(&f, 255, "My Domain", "retire", "vera_vendor");
    assert_int_equal(vcount(&f, "POST", "/services/oauth2/token"), 0);
    free(vassert_state(&f, "vera_vendor", "PENDING"));
    vsf_oauth_config(&f, "salesforce_domain: acme.my\n");
    vrun_has(&f, -1, "ok    settings and pipeline", "check-config", NULL);
    /* the token request goes to the My Domain host (previewed: that host is not reachable here) */
    vrun_has(&f, 0, "https://acme.my.salesforce.com/services/oauth2/token", "plan", "vera_vendor");
    vstop(&f);
}

/* Salesforce OAuth 2.0 client credentials (salesforce_auth: client_credentials). */
static void test_salesforce_oauth(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    char host[512];
    snprintf(host, sizeof host, "salesforce_login_url: %s/vendor/salesforce\n", f.sim.base_url);
    vsf_oauth_config(&f, host);
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    free(vassert_state(&f, "vera_vendor", "COMPLETE"));
    cJSON *q = vrequests(&f, "POST", "/vendor/salesforce/services/oauth2/token");
    assert_int_equal(cJSON_GetArraySize(q), 1);
    assert_string_equal(req_field(q, 0, "body"),
                        "grant_type=client_credentials&client_id=sim-sf-client&client_secret=sim-sf-client-secret");
    cJSON_Delete(q);
    assert_int_equal(vcount(&f, "POST", "/services/Soap/"), 0);
    assert_int_equal(vcount(&f, "POST", "/sobjects/Task/"), 1);
    vstop(&f);
}

/* Task creation answers success:false (upstream test_retire_task_error): the upstream message. */
static void test_salesforce_task_unsuccessful(void **state)
{
    (void)state;
    vfix f;
    const char *sets[] = {"salesforce_task_fail=1", NULL};
    vstart(&f, sets);
    vconfig(&f, SF_ONLY, "salesforce_api_version: \"59.0\"\n", 0); /* a newer version is an option */
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.err, "Errors while creating task:"));
    assert_non_null(strstr(r.err, "This is an error!"));
    cmd_result_free(&r);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    assert_non_null(strstr(log, "Unable to create retirement task for email vera@example.com"));
    free(log);
    assert_int_equal(vcount(&f, "POST", "/services/data/v59.0/sobjects/Task/"), 1);
    assert_int_equal(vcount(&f, "POST", "/services/Soap/u/59.0"), 1);
    vstop(&f);
}

/* HubSpot alert without AWS credentials: the contact is deleted, the step fails at once with a
 * sentence naming the missing variables in the log, no SES request is made. */
static void test_hubspot_alert_without_credentials(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, "  - ['RETIRING_HUBSPOT', 'HUBSPOT_COMPLETE', 'HUBSPOT', 'delete_user']\n", NULL, 0);
    const char *env[] = {"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", NULL};
    cmd_result r;
    vrun(&f, &r, env, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.err, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/ses/"), 0);
    assert_int_equal(vcount(&f, "DELETE", "/vendor/hubspot/contacts/v1/contact/vid/"), 1);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    assert_non_null(strstr(log, "Unable to locate credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); the "
                                "HubSpot contact was deleted but the alert e-mail \"Alert: Hubspot Deletion\" was not "
                                "sent"));
    free(log);
    vstop(&f);
}

/* A learner without original_email: HubSpot and Salesforce fail at once with upstream's
 * TypeError text and send nothing (upstream test_delete_no_email / test_retire_no_email). */
static void test_missing_email(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, "  - ['RETIRING_HUBSPOT', 'HUBSPOT_COMPLETE', 'HUBSPOT', 'delete_user']\n", NULL, 0);
    vretire_errored(&f, NULL, "nel_noemail", "Expected an email address for user to delete, but received None.");
    assert_int_equal(vcount(&f, "GET", "/vendor/hubspot/"), 0);
    vconfig(&f, SF_ONLY, NULL, 0);
    vretire_errored(&f, NULL, "ned_noemail", "Expected an email address for user to delete, but received None.");
    assert_int_equal(vcount(&f, "GET", "/vendor/salesforce/"), 0);
    vstop(&f);
}

/* The assignee username is SOQL-escaped too (test_escape_username); a failing Lead query
 * propagates simple-salesforce's error (test_retire_get_id_error) and is not retried. */
static void test_salesforce_username_escape_and_query_error(void **state)
{
    (void)state;
    vfix f;
    const char *sets[] = {"salesforce_users=o'neil@example.com", NULL};
    vstart(&f, sets);
    const char *u = f.sim.base_url;
    char *text = NULL;
    assert_true(asprintf(&text,
                         "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n"
                         "vendor_retry_base_seconds: 0.01\n"
                         "salesforce_user: sf-user@example.com\nsalesforce_password: sim-sf-password\n"
                         "salesforce_token: SIMTOKEN\nsalesforce_assignee: \"o'neil@example.com\"\n"
                         "salesforce_login_url: %s/vendor/salesforce\nsalesforce_instance_url: %s/vendor/salesforce\n"
                         "retirement_pipeline:\n" SF_ONLY,
                         SIM_CLIENT_ID, SIM_CLIENT_SECRET, u, u, u) > 0);
    f.cfg = write_temp_file("config.yml", text);
    free(text);
    vfault(&f, "{\"endpoint\":\"salesforce_query\",\"status\":500,\"times\":1,\"method\":\"GET\","
               "\"path\":\"/query/\",\"body\":\"[{\\\"message\\\":\\\"boom\\\",\\\"errorCode\\\":\\\"UNKNOWN_EXCEPTION\\\"}]\"}");
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    cmd_result_free(&r);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    /* str(exc) + "\n" + str(exc.content), as upstream records a simple-salesforce error */
    assert_non_null(strstr(log, "Error Code 500. Response content: [{'message': 'boom', 'errorCode': 'UNKNOWN_EXCEPTION'}]"
                                "\n[{'message': 'boom', 'errorCode': 'UNKNOWN_EXCEPTION'}]"));
    free(log);
    assert_int_equal(vcount(&f, "GET", "/query/"), 1);
    /* next learner: the fault is used up; the assignee query carries the escaped quote */
    vrun(&f, &r, NULL, "retire", "wes_second", NULL);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    cJSON *sf = vstate(&f, "salesforce");
    cJSON *qs = cJSON_GetObjectItemCaseSensitive(sf, "queries");
    int found = 0;
    const cJSON *q;
    cJSON_ArrayForEach(q, qs) if (!strcmp(q->valuestring, "SELECT Id FROM User WHERE Username = 'o\\'neil@example.com'"))
        found = 1;
    assert_true(found);
    cJSON_Delete(sf);
    vstop(&f);
}

#define SEG_ONLY "  - ['RETIRING_SEGMENT', 'SEGMENT_COMPLETE', 'SEGMENT', 'delete_and_suppress_learner']\n"

/* Segment: 500 every time -> 4 POSTs and the upstream bytes-repr message (test_bulk_delete_error). */
static void test_segment_error(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, SEG_ONLY, NULL, 0);
    vfault(&f, "{\"endpoint\":\"segment_regulate\",\"status\":500,\"body\":\"Test error message\"}");
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 252);
    assert_non_null(strstr(r.err, "Test error message"));
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/segment/v1beta/workspaces/sim-workspace/regulations"), 4);
    char uid[32], want[512];
    vuid(&f, "vera_vendor", uid, sizeof uid);
    snprintf(want, sizeof want,
             "b\"Error was encountered for params: {'regulation_type': 'Suppress_With_Delete', 'attributes': {'name': "
             "'userId', 'values': ['%s', 'vera_vendor']}} \\n\\n Response: \"",
             uid);
    char *log = vassert_state(&f, "vera_vendor", "ERRORED");
    if (!strstr(log, want)) fprintf(stderr, "want %s\nin %s\n", want, log);
    assert_non_null(strstr(log, want));
    free(log);
    vstop(&f);
}

/* fetch_ecommerce_segment_id: the ecommerce tracking id is a third value; a learner unknown to
 * ecommerce (404 -> null) sends the literal "None", as upstream. */
static void test_segment_ecommerce_id(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    vconfig(&f, SEG_ONLY, "fetch_ecommerce_segment_id: true\n", 0);
    cmd_result r;
    vrun(&f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    vrun(&f, &r, NULL, "retire", "eve_noecom", NULL);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    cJSON *seg = vstate(&f, "segment");
    cJSON *regs = cJSON_GetObjectItemCaseSensitive(seg, "regulations");
    assert_int_equal(cJSON_GetArraySize(regs), 2);
    cJSON *v1 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(regs, 0), "values");
    cJSON *v2 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(regs, 1), "values");
    assert_int_equal(cJSON_GetArraySize(v1), 3);
    assert_string_equal(cJSON_GetArrayItem(v1, 1)->valuestring, "vera_vendor");
    assert_int_equal(strncmp(cJSON_GetArrayItem(v1, 2)->valuestring, "ecommerce-", 10), 0);
    assert_int_equal(cJSON_GetArraySize(v2), 3);
    assert_string_equal(cJSON_GetArrayItem(v2, 2)->valuestring, "None");
    cJSON_Delete(seg);
    /* undoing a suppression (upstream test_bulk_unsuppress_success): only the username is sent */
    vrun4(&f, &r, NULL, "rerun", "vera_vendor", "SEGMENT.unsuppress_learner", "--yes");
    if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    cJSON *q = vrequests(&f, "POST", "/vendor/segment/v1beta/workspaces/sim-workspace/regulations");
    assert_int_equal(cJSON_GetArraySize(q), 3);
    assert_string_equal(req_field(q, 2, "body"),
                        "{\"regulation_type\": \"Unsuppress\", \"attributes\": {\"name\": \"userId\", \"values\": "
                        "[\"vera_vendor\"]}}");
    cJSON_Delete(q);
    vstop(&f);
}


/* Starts a sim with `sets`, runs the Segment Public API step (20 s step timeout) for vera_vendor
 * and then wes_second, and checks the second one was rate limited at least once, waited more
 * than min_wait and at most max_wait seconds as logged, and succeeded. The sim keeps running. */
static void vsegment_public_pair(vfix *f, const char *const *sets, double min_wait, double max_wait)
{
    vstart(f, sets);
    char extra[512];
    snprintf(extra, sizeof extra,
             "segment_api: public_api\nsegment_public_api_url: %s/vendor/segment-public\nstep_timeout_seconds: 20\n",
             f->sim.base_url);
    vconfig(f, SEG_ONLY, extra, 0);
    cmd_result r;
    vrun(f, &r, NULL, "retire", "vera_vendor", NULL);
    assert_int_equal(r.status, 0);
    cmd_result_free(&r);
    vrun(f, &r, NULL, "retire", "wes_second", NULL);
    if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    double wait = vmax_wait(r.err, "Trying again in ");
    if (wait <= min_wait || wait > max_wait) fprintf(stderr, "waited %.2f s, expected (%.1f, %.1f]\n", wait, min_wait, max_wait);
    assert_true(wait > min_wait && wait <= max_wait);
    cmd_result_free(&r);
    free(vassert_state(f, "wes_second", "COMPLETE"));
    int limited = vcount_status(f, "POST", "/vendor/segment-public/regulations", 429);
    assert_true(limited >= 1);
    assert_int_equal(vcount(f, "POST", "/vendor/segment-public/regulations"), 2 + limited);
}

/* Segment Public API with a regulation quota of 1 per 5 s window: the second learner gets a 429
 * whose only hint is X-Regulation-RateLimit-Quota-Reset, an ISO 8601 time up to 5 s away (as Segment
 * sends it, no Retry-After); the plugin waits until then and succeeds. Reading the header as a
 * number ("2026") made it wait the whole 300 s cap: the 20 s step timeout catches that. */
static void test_segment_public_api_rate_limit(void **state)
{
    (void)state;
    vfix f;
    const char *sets[] = {"segment_public_quota=1", "segment_public_window_seconds=5", NULL};
    vsegment_public_pair(&f, sets, 0, 5.2);
    cJSON *q = vrequests(&f, "POST", "/vendor/segment-public/regulations");
    char uid[32], want[256];
    vuid(&f, "vera_vendor", uid, sizeof uid);
    snprintf(want, sizeof want,
             "{\"regulationType\": \"SUPPRESS_WITH_DELETE\", \"subjectType\": \"USER_ID\", \"subjectIds\": [\"%s\", "
             "\"vera_vendor\"]}",
             uid);
    assert_string_equal(req_field(q, 0, "body"), want);
    cJSON_Delete(q);
    cJSON *seg = vstate(&f, "segment");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(seg, "regulations")), 2);
    cJSON_Delete(seg);
    vstop(&f);
}

/* Segment Public API rate limit of 1 request per 5 s: the second learner's POST gets Segment's
 * documented 429, once with errors[0].data.msBeforeNext in the body and once with a plain body
 * where only the X-RateLimit-Reset date (RFC 5322) says when the window ends. The plugin waits
 * that long (not its 0.01 s test backoff, which spent the 4 attempts inside the window and left
 * the learner ERRORED) and succeeds. */
static void test_segment_public_api_429(void **state)
{
    (void)state;
    static const char *const bodies[] = {"segment_public_rate_body=full", "segment_public_rate_body=plain"};
    for (int b = 0; b < 2; b++) {
        vfix f;
        const char *sets[] = {"segment_public_rate_limit=1", "segment_public_rate_window_seconds=5", bodies[b], NULL};
        vsegment_public_pair(&f, sets, 0.09, b == 0 ? 5.2 : 7.0);
        vstop(&f);
    }
}

/* Dry run: every vendor step describes its request with secrets masked; EU hosts for Braze and
 * Amplitude; nothing is sent to any vendor. */
static void test_dry_run_previews(void **state)
{
    (void)state;
    vfix f;
    vstart(&f, NULL);
    const char *u = f.sim.base_url;
    char *text = NULL;
    assert_true(asprintf(&text,
                         "client_id: %s\nclient_secret: %s\nbase_urls:\n  lms: %s/\n  segment: https://platform.segmentapis.com/\n"
                         "braze_api_key: sim-braze-key\nbraze_rest_url: https://rest.fra-01.braze.eu\n"
                         "amplitude_api_key: sim-amplitude-key\namplitude_secret_key: sim-amplitude-secret\n"
                         "amplitude_eu: true\n"
                         "hubspot_api_key: sim-hubspot-token\nhubspot_aws_region: eu-west-1\n"
                         "hubspot_from_address: retirement@example.com\nhubspot_alert_email: marketing@example.com\n"
                         "salesforce_user: sf-user@example.com\nsalesforce_password: sim-sf-password\n"
                         "salesforce_token: SIMTOKEN\nsalesforce_assignee: retirement-admin@example.com\n"
                         "segment_auth_token: sim-segment-token\nsegment_workspace_slug: sim-workspace\n"
                         "retirement_pipeline:\n" ALL_FIVE,
                         SIM_CLIENT_ID, SIM_CLIENT_SECRET, u) > 0);
    f.cfg = write_temp_file("config.yml", text);
    free(text);
    cmd_result r;
    vrun(&f, &r, NULL, "--json", "plan", "vera_vendor");
    if (r.status != 0) fprintf(stderr, "%s\n%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "https://rest.fra-01.braze.eu/users/delete"));
    assert_non_null(strstr(r.out, "https://analytics.eu.amplitude.com/api/2/deletions/users"));
    assert_non_null(strstr(r.out, "https://api.hubapi.com/contacts/v1/contact/email/vera@example.com/profile"));
    assert_non_null(strstr(r.out, "https://email.eu-west-1.amazonaws.com/"));
    assert_non_null(strstr(r.out, "https://login.salesforce.com/services/Soap/u/57.0"));
    assert_non_null(strstr(r.out, "https://platform.segmentapis.com/v1beta/workspaces/sim-workspace/regulations"));
    assert_non_null(strstr(r.out, "Bearer ********"));
    cmd_result_free(&r);
    assert_int_equal(vcount(&f, "POST", "/vendor/"), 0);
    free(vassert_state(&f, "vera_vendor", "PENDING"));
    vstop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_pipeline_all_five, vteardown),
        cmocka_unit_test_teardown(test_not_found_is_success, vteardown),
        cmocka_unit_test_teardown(test_braze_outage_retries_then_errors, vteardown),
        cmocka_unit_test_teardown(test_braze_fatal_error, vteardown),
        cmocka_unit_test_teardown(test_braze_429_waits_for_window, vteardown),
        cmocka_unit_test_teardown(test_amplitude_retry_and_fatal, vteardown),
        cmocka_unit_test_teardown(test_hubspot_failures, vteardown),
        cmocka_unit_test_teardown(test_hubspot_alert_failure, vteardown),
        cmocka_unit_test_teardown(test_hubspot_gdpr_v3, vteardown),
        cmocka_unit_test_teardown(test_hubspot_gdpr_404_not_retried, vteardown),
        cmocka_unit_test_teardown(test_hubspot_alert_signs_path, vteardown),
        cmocka_unit_test_teardown(test_hubspot_429_retry_after, vteardown),
        cmocka_unit_test_teardown(test_salesforce_cases, vteardown),
        cmocka_unit_test_teardown(test_salesforce_oauth, vteardown),
        cmocka_unit_test_teardown(test_salesforce_oauth_needs_my_domain, vteardown),
        cmocka_unit_test_teardown(test_missing_email, vteardown),
        cmocka_unit_test_teardown(test_salesforce_username_escape_and_query_error, vteardown),
        cmocka_unit_test_teardown(test_salesforce_task_unsuccessful, vteardown),
        cmocka_unit_test_teardown(test_hubspot_alert_without_credentials, vteardown),
        cmocka_unit_test_teardown(test_segment_error, vteardown),
        cmocka_unit_test_teardown(test_segment_ecommerce_id, vteardown),
        cmocka_unit_test_teardown(test_segment_public_api_rate_limit, vteardown),
        cmocka_unit_test_teardown(test_segment_public_api_429, vteardown),
        cmocka_unit_test_teardown(test_dry_run_previews, vteardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
