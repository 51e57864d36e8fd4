/* Unit tests of src/engine/config.c: YAML 1.1 types, line numbers in errors, ${NAME},
 * secrets and redaction, pipeline validation messages, extra_services, http block. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/config.h"
#include "common/strbuf.h"

#define BASE "client_id: cid\nclient_secret: top-secret-value\nbase_urls:\n  lms: https://lms.example.com/\n"

static cfg *load_ok(const char *text)
{
    cfg *c = NULL;
    char err[1024] = "";
    int rc = cfg_load_string(text, "t.yml", &c, err, sizeof err);
    if (rc) fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(c);
    return c;
}

static void load_fails(const char *text, char *err, size_t n)
{
    cfg *c = NULL;
    err[0] = '\0';
    assert_int_equal(cfg_load_string(text, "t.yml", &c, err, n), -1);
    assert_null(c);
    assert_true(strlen(err) > 0);
}

static void test_yaml11_types(void **state)
{
    (void)state;
    cfg *c = load_ok("a_yes: yes\n"
                     "a_off: Off\n"
                     "a_true_q: 'true'\n"
                     "i_dec: 1_000\n"
                     "i_oct: 0755\n"
                     "i_hex: 0x1F\n"
                     "i_bin: 0b101\n"
                     "i_sexa: 1:30\n"
                     "i_neg: -42\n"
                     "f_plain: 1.5\n"
                     "f_exp_nosign: 1.5e3\n"
                     "f_exp_sign: 1.5e+3\n"
                     "f_inf: -.inf\n"
                     "n_tilde: ~\n"
                     "n_empty:\n"
                     "s_09: 09\n"
                     "s_dot_us: ._5\n"
                     "f_dot: .5\n"
                     "s_quoted_int: \"12\"\n"
                     "s_block: |\n  line1\n  line2\n"
                     "s_tagged: !!str 123\n"
                     "date: 2018-01-01\n"
                     "list: [a, 1, no]\n");
    assert_true(cJSON_IsTrue(cfg_get(c, "a_yes")));
    assert_true(cJSON_IsFalse(cfg_get(c, "a_off")));
    assert_string_equal(cfg_string(c, "a_true_q"), "true");
    assert_true(cfg_number(c, "i_dec", -1) == 1000);
    assert_true(cfg_number(c, "i_oct", -1) == 493);
    assert_true(cfg_number(c, "i_hex", -1) == 31);
    assert_true(cfg_number(c, "i_bin", -1) == 5);
    assert_true(cfg_number(c, "i_sexa", -1) == 90);
    assert_true(cfg_number(c, "i_neg", 0) == -42);
    assert_true(cfg_number(c, "f_plain", 0) == 1.5);
    /* PyYAML's float regex needs a signed exponent */
    assert_string_equal(cfg_string(c, "f_exp_nosign"), "1.5e3");
    assert_true(cfg_number(c, "f_exp_sign", 0) == 1500);
    assert_true(isinf(cfg_get(c, "f_inf")->valuedouble) && cfg_get(c, "f_inf")->valuedouble < 0);
    assert_true(cJSON_IsNull(cfg_get(c, "n_tilde")));
    assert_true(cJSON_IsNull(cfg_get(c, "n_empty")));
    assert_string_equal(cfg_string(c, "s_09"), "09");
    assert_string_equal(cfg_string(c, "s_dot_us"), "._5");
    assert_true(cfg_number(c, "f_dot", 0) == 0.5);
    assert_string_equal(cfg_string(c, "s_quoted_int"), "12");
    assert_string_equal(cfg_string(c, "s_block"), "line1\nline2\n");
    assert_string_equal(cfg_string(c, "s_tagged"), "123");
    assert_string_equal(cfg_string(c, "date"), "2018-01-01");
    assert_string_equal(cfg_string(c, "list.0"), "a");
    assert_true(cfg_number(c, "list[1]", 0) == 1);
    assert_true(cJSON_IsFalse(cfg_get(c, "list.2")));
    cfg_free(c);
}

static void test_anchors_and_merge(void **state)
{
    (void)state;
    cfg *c = load_ok("defaults: &d\n  a: 1\n  b: 2\n"
                     "x:\n  <<: *d\n  b: 3\n"
                     "y: *d\n"
                     "dup: 1\ndup: 2\n");
    assert_true(cfg_number(c, "x.a", 0) == 1);
    assert_true(cfg_number(c, "x.b", 0) == 3); /* explicit key wins over the merge */
    assert_true(cfg_number(c, "y.b", 0) == 2);
    assert_null(cfg_get(c, "x.<<"));
    assert_true(cfg_number(c, "dup", 0) == 2); /* last wins, as PyYAML */
    cfg_free(c);
}

static void test_upstream_keys_and_pipeline(void **state)
{
    (void)state;
    cfg *c = load_ok(BASE "  ecommerce: https://ecom.example.com/\n"
                          "retirement_pipeline:\n"
                          "  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']\n"
                          "  - [RETIRING_ECOM, ECOM_COMPLETE, ECOMMERCE, retire_learner]\n"
                          "fetch_ecommerce_segment_id: true\n"
                          "org_partner_mapping:\n  org1: ['TestX']\n"
                          "s3_archive:\n  bucket_name: b\n  region: r\n"
                          "some_unknown_key: whatever\n");
    assert_int_equal(c->n_steps, 2);
    assert_string_equal(c->steps[1].start_state, "RETIRING_ECOM");
    assert_string_equal(c->steps[1].driver, "ECOMMERCE");
    assert_string_equal(c->steps[1].method, "retire_learner");
    assert_int_equal(c->steps[0].line, 7);
    assert_int_equal(c->steps[1].line, 8);
    assert_true(cfg_bool(c, "fetch_ecommerce_segment_id", 0));
    assert_string_equal(cfg_string(c, "some_unknown_key"), "whatever");
    assert_string_equal(cfg_string(c, "org_partner_mapping.org1.0"), "TestX");
    char err[1024];
    assert_int_equal(cfg_validate(c, err, sizeof err), 0);
    /* defaults of the additions */
    assert_true(c->http.connect_timeout_seconds == 10);
    assert_true(c->http.timeout_seconds == 60);
    assert_true(c->http.max_retry_seconds == 600);
    assert_true(c->http.gateway_timeout_wait_seconds == 60);
    assert_int_equal(c->http.allow_insecure_http, 0);
    assert_null(c->http.ca_bundle);
    assert_true(c->step_timeout_seconds == 900);
    assert_null(c->environment);
    char *repr = cfg_step_repr(&c->steps[1]);
    assert_string_equal(repr, "['RETIRING_ECOM', 'ECOM_COMPLETE', 'ECOMMERCE', 'retire_learner']");
    free(repr);
    int col = 0;
    assert_int_equal(cfg_line(c, "base_urls.ecommerce", &col), 5);
    assert_int_equal(col, 3);
    cfg_free(c);
}

static void test_additions(void **state)
{
    (void)state;
    char dir[] = "/tmp/cfgtestXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/config.yml", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(BASE "environment: production\n"
               "http:\n  connect_timeout_seconds: 2.5\n  timeout_seconds: 30\n  max_retry_seconds: 5\n"
               "  gateway_timeout_wait_seconds: 1\n  ca_bundle: certs/ca.pem\n  allow_insecure_http: yes\n"
               "driver_entry_points:\n  - plugins/retirement_driver.cfg\n  - /abs/x.cfg\n"
               "extra_services:\n  - name: WEBHOOK_SVC\n    base_url: https://svc.example.com\n"
               "    retirement_url_path: /api/retire/\n"
               "step_timeout_seconds: 120\n"
               "console:\n  theme: dark\n  refresh_seconds: 5\n"
               "audit_log: audit.jsonl\nhistory_days: 30\n",
          fp);
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
    cfg *c = NULL;
    char err[1024] = "";
    assert_int_equal(cfg_load(path, &c, err, sizeof err), 0);
    assert_string_equal(c->environment, "production");
    assert_true(c->http.connect_timeout_seconds == 2.5);
    assert_true(c->http.timeout_seconds == 30);
    assert_true(c->http.max_retry_seconds == 5);
    assert_true(c->http.gateway_timeout_wait_seconds == 1);
    assert_int_equal(c->http.allow_insecure_http, 1);
    char expect[600];
    snprintf(expect, sizeof expect, "%s/certs/ca.pem", dir);
    assert_string_equal(c->http.ca_bundle, expect);
    assert_int_equal(c->n_driver_entry_points, 2);
    snprintf(expect, sizeof expect, "%s/plugins/retirement_driver.cfg", dir);
    assert_string_equal(c->driver_entry_points[0], expect);
    assert_string_equal(c->driver_entry_points[1], "/abs/x.cfg");
    assert_int_equal(c->n_extra_services, 1);
    assert_string_equal(c->extra_services[0].name, "WEBHOOK_SVC");
    assert_string_equal(c->extra_services[0].base_url, "https://svc.example.com");
    assert_string_equal(c->extra_services[0].retirement_url_path, "/api/retire/");
    assert_true(c->step_timeout_seconds == 120);
    assert_string_equal(c->console_theme, "dark");
    assert_true(c->console_refresh_seconds == 5);
    assert_true(c->history_days == 30);
    snprintf(expect, sizeof expect, "%s/audit.jsonl", dir);
    assert_string_equal(c->audit_log, expect);
    cfg_free(c);
    unlink(path);
    rmdir(dir);
}

static void test_extra_services_errors(void **state)
{
    (void)state;
    char err[1024];
    load_fails(BASE "extra_services:\n  - name: A\n    base_url: https://a\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:6:"));
    assert_non_null(strstr(err, "retirement_url_path"));
    load_fails(BASE "extra_services: nope\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:5:"));
    assert_non_null(strstr(err, "extra_services"));
}

static void test_env_expansion_values(void **state)
{
    (void)state;
    setenv("RCTL_TEST_SECRET", "from-env-secret-42", 1);
    setenv("RCTL_TEST_HOST", "lms.internal", 1);
    setenv("RCTL_TEST_NUM", "7", 1);
    cfg *c = load_ok("client_id: cid\nclient_secret: ${RCTL_TEST_SECRET}\nbase_urls:\n"
                     "  lms: https://${RCTL_TEST_HOST}:8000/\nliteral: \"$${NOT_EXPANDED}\"\n"
                     "http:\n  max_retry_seconds: ${RCTL_TEST_NUM}\n");
    assert_string_equal(cfg_string(c, "client_secret"), "from-env-secret-42");
    assert_string_equal(cfg_string(c, "base_urls.lms"), "https://lms.internal:8000/");
    assert_string_equal(cfg_string(c, "literal"), "${NOT_EXPANDED}");
    assert_true(c->http.max_retry_seconds == 7);
    char *r = cfg_redact(c, "secret=from-env-secret-42!");
    assert_string_equal(r, "secret=********!");
    free(r);
    cfg_free(c);

    char err[1024];
    load_fails("client_id: cid\n\nclient_secret: ${RCTL_TEST_UNSET}\n", err, sizeof err);
    assert_non_null(strstr(err, "RCTL_TEST_UNSET"));
    assert_non_null(strstr(err, "t.yml:3:"));
    assert_non_null(strstr(err, "client_secret"));
    load_fails("a: ${bad-name}\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:1:"));
}

static void test_errors_name_position(void **state)
{
    (void)state;
    char err[1024];
    load_fails("a: 1\nb: [1, 2\nc: 3\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:"));
    assert_non_null(strstr(err, "YAML syntax error"));
    load_fails("a: 1\n  b: 2\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:2:"));
    load_fails(BASE "http:\n  timeout_seconds: soon\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:6:3"));
    assert_non_null(strstr(err, "http.timeout_seconds"));
    load_fails(BASE "http:\n  allow_insecure_http: maybe\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:6:3"));
    load_fails("a: 1\nb: caf\xe9\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:2:"));
    assert_non_null(strstr(err, "UTF-8"));
    load_fails("- a\n- b\n", err, sizeof err);
    assert_non_null(strstr(err, "mapping"));
    load_fails("a: 1\n---\nb: 2\n", err, sizeof err);
    assert_non_null(strstr(err, "more than one"));
    load_fails("a: !!python/object:os.system x\n", err, sizeof err);
    assert_non_null(strstr(err, "tag"));

    cfg *c = NULL;
    assert_int_equal(cfg_load("/nonexistent/dir/config.yml", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read config file /nonexistent/dir/config.yml: No such file"));
}

static void test_secrets(void **state)
{
    (void)state;
    cfg *c = load_ok(BASE "braze_api_key: braze-k3y\n"
                          "segment_auth_token: seg-tok\n"
                          "salesforce_password: 'p@ss w/rd'\n"
                          "Hubspot_API_KEY: hub-key-value\n"
                          "plain_value: visible\n"
                          "nested:\n  db_password: [one-pw, two-pw]\n"
                          "numeric_secret_key: 987654\n"
                          "keyboard: qwerty\n");
    assert_true(cfg_key_is_secret("client_secret"));
    assert_true(cfg_key_is_secret("SALESFORCE_PASSWORD"));
    assert_true(cfg_key_is_secret("segment_auth_token"));
    assert_true(cfg_key_is_secret("braze_api_key"));
    assert_false(cfg_key_is_secret("keyboard"));
    assert_false(cfg_key_is_secret("braze_instance"));
    assert_false(cfg_key_is_secret("key"));
    const char *text = "a top-secret-value b braze-k3y c seg-tok d p@ss w/rd e p%40ss%20w%2Frd f hub-key-value "
                       "g one-pw two-pw h 987654 visible qwerty";
    char *r = cfg_redact(c, text);
    assert_null(strstr(r, "top-secret-value"));
    assert_null(strstr(r, "braze-k3y"));
    assert_null(strstr(r, "seg-tok"));
    assert_null(strstr(r, "p@ss"));
    assert_null(strstr(r, "p%40ss"));
    assert_null(strstr(r, "hub-key-value"));
    assert_null(strstr(r, "one-pw"));
    assert_null(strstr(r, "987654"));
    assert_non_null(strstr(r, "visible"));
    assert_non_null(strstr(r, "qwerty"));
    free(r);

    char buf[64];
    snprintf(buf, sizeof buf, "x=top-secret-value");
    cfg_redact_inplace(c, buf, sizeof buf);
    assert_string_equal(buf, "x=********");

    cJSON *j = cfg_redacted_json(c);
    char *printed = cJSON_PrintUnformatted(j);
    assert_null(strstr(printed, "top-secret-value"));
    assert_null(strstr(printed, "braze-k3y"));
    assert_null(strstr(printed, "one-pw"));
    assert_null(strstr(printed, "987654"));
    assert_non_null(strstr(printed, "\"client_secret\":\"********\""));
    assert_non_null(strstr(printed, "\"client_id\":\"cid\""));
    assert_non_null(strstr(printed, "visible"));
    free(printed);
    cJSON_Delete(j);
    /* the config itself is untouched */
    assert_string_equal(cfg_string(c, "client_secret"), "top-secret-value");
    cfg_free(c);
}

static void test_url_password_is_secret(void **state)
{
    (void)state;
    cfg *c = load_ok("client_id: x\nclient_secret: abcdefgh\nbase_urls:\n  lms: https://svc:pw-in-url-77@lms.example.com/\n");
    char *r = cfg_redact(c, "GET https://svc:pw-in-url-77@lms.example.com/api/");
    assert_string_equal(r, "GET https://svc:********@lms.example.com/api/");
    free(r);
    cfg_free(c);
}

static void test_longest_secret_first(void **state)
{
    (void)state;
    cfg *c = load_ok("client_id: x\nclient_secret: abcd\nother_token: abcdefgh\n");
    char *r = cfg_redact(c, "abcdefgh abcd");
    assert_string_equal(r, "******** ********");
    free(r);
    cfg_free(c);
}

/* A 1-character secret is not masked (it would turn "tracking" into "trac********ing"); keys with
 * such values are listed for check-config's warning. */
static void test_short_secret_not_masked(void **state)
{
    (void)state;
    cfg *c = load_ok("client_id: x\nclient_secret: long-enough-secret\nsome_token: t\nabc_key: xyz\n");
    char *r = cfg_redact(c, "tracking xyz long-enough-secret");
    assert_string_equal(r, "tracking xyz ********");
    free(r);
    char *keys = cfg_short_secrets(c);
    assert_non_null(keys);
    assert_non_null(strstr(keys, "some_token (t.yml:3"));
    assert_non_null(strstr(keys, "abc_key (t.yml:4"));
    assert_null(strstr(keys, "client_secret"));
    free(keys);
    cfg_free(c);
    c = load_ok("client_id: x\nclient_secret: abcd\n");
    assert_null(cfg_short_secrets(c));
    cfg_free(c);
}

/* D4: a repeated key whose first value carried an anchor; the alias must not read freed memory. */
static void test_anchor_on_replaced_key(void **state)
{
    (void)state;
    cfg *c = load_ok("x: &d\nx:\nt: *d\n");
    assert_true(cJSON_IsNull(cfg_get(c, "t")));
    cfg_free(c);
    c = load_ok("client_id: &d \"abc-value\"\nclient_id: x\nclient_secret: *d\n");
    assert_string_equal(cfg_string(c, "client_secret"), "abc-value");
    assert_string_equal(cfg_string(c, "client_id"), "x");
    cfg_free(c);
    c = load_ok("a: &m {k: 1}\nb:\n  <<: &n {k: 2}\nc: *n\n");
    assert_true(cfg_number(c, "c.k", 0) == 2);
    cfg_free(c);
}

/* D21: nested aliases are bounded with a file:line error instead of gigabytes of memory. */
static void test_alias_bomb_refused(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, "l0: &l0 [x, x, x, x]\n");
    for (int i = 1; i <= 10; i++) sb_addf(&sb, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d]\n", i, i, i - 1, i - 1, i - 1, i - 1);
    char err[1024];
    load_fails(sb_str(&sb), err, sizeof err);
    assert_non_null(strstr(err, "t.yml:"));
    assert_non_null(strstr(err, "alias bomb"));
    sb_free(&sb);
    /* modest reuse still works */
    cfg *c = load_ok("d: &d {a: 1, b: 2}\ne: [*d, *d, *d]\n");
    assert_int_equal(cJSON_GetArraySize(cfg_get(c, "e")), 3);
    cfg_free(c);
}

/* D23: CR, LF or NUL in a value that goes into a URL or header is refused at load time. */
static void test_line_breaks_in_wire_values(void **state)
{
    (void)state;
    char err[1024];
    load_fails("client_id: x\nbraze_api_key: \"BRZ\\r\\nX-Injected-Braze: yes\"\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:2:"));
    assert_non_null(strstr(err, "braze_api_key"));
    assert_non_null(strstr(err, "line break"));
    load_fails("base_urls:\n  lms: \"https://lms.example.com/\\r\\nX: y\"\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:2:"));
    assert_non_null(strstr(err, "base_urls.lms"));
    load_fails("segment_token: \"ab\\0cd-long\"\n", err, sizeof err);
    assert_non_null(strstr(err, "NUL"));
    setenv("RCTL_TEST_NL_SECRET", "from-a-file\n", 1);
    load_fails("client_secret: ${RCTL_TEST_NL_SECRET}\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:1:"));
    load_fails("k: &k \"a\\nb\"\nbraze_instance: *k\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:2:"));
    /* other values may hold line breaks */
    cfg *c = load_ok("note: \"two\\nlines\"\n");
    assert_string_equal(cfg_string(c, "note"), "two\nlines");
    cfg_free(c);
}

/* driver_config_scope: shape errors name file:line; lookups honour the scope. */
static void test_driver_config_scope_config(void **state)
{
    (void)state;
    char err[1024];
    load_fails("driver_config_scope: [BRAZE]\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:1:"));
    load_fails("driver_config_scope:\n  BRAZE: braze_api_key\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:2:"));
    assert_non_null(strstr(err, "driver_config_scope.BRAZE"));
    cfg *c = load_ok("client_secret: top-secret\nbraze_api_key: bk-123456\nbase_urls: {lms: https://x/}\n"
                     "driver_config_scope:\n  BRAZE: [braze_api_key, base_urls]\n");
    assert_null(cfg_driver_scope(c, "OTHER"));
    assert_true(cfg_scope_allows(c, "OTHER", "client_secret"));
    assert_false(cfg_scope_allows(c, "BRAZE", "client_secret"));
    assert_true(cfg_scope_allows(c, "BRAZE", "base_urls.lms"));
    cJSON *r = cfg_scoped_root(c, "BRAZE");
    assert_int_equal(cJSON_GetArraySize(r), 2);
    assert_null(cJSON_GetObjectItemCaseSensitive(r, "client_secret"));
    cJSON_Delete(r);
    assert_null(cfg_scoped_root(c, "OTHER"));
    cfg_free(c);
}

static void validate_err(const char *text, char *err, size_t n)
{
    cfg *c = load_ok(text);
    err[0] = '\0';
    assert_int_equal(cfg_validate(c, err, n), -1);
    cfg_free(c);
}

static void test_validate(void **state)
{
    (void)state;
    char err[1024];
    validate_err("client_secret: s\nbase_urls:\n  lms: https://l/\n", err, sizeof err);
    assert_non_null(strstr(err, "client_id"));
    validate_err("client_id: c\nbase_urls:\n  lms: https://l/\n", err, sizeof err);
    assert_non_null(strstr(err, "client_secret"));
    validate_err("client_id: c\nclient_secret: s\n", err, sizeof err);
    assert_non_null(strstr(err, "base_urls.lms"));
    validate_err("client_id: c\nclient_secret: [1, 2]\nbase_urls:\n  lms: https://l/\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:2:"));
    assert_non_null(strstr(err, "quotes"));
    validate_err("client_id: c\nclient_secret: s\nbase_urls:\n  lms: 5\n", err, sizeof err);
    assert_non_null(strstr(err, "base_urls.lms"));
    {
        /* an integer client id is what PyYAML gives for `client_id: 12345`: accepted */
        cfg *n = load_ok("client_id: 12345\nclient_secret: 987654321\nbase_urls:\n  lms: https://l/\n"
                         "retirement_pipeline: []\n");
        assert_int_equal(cfg_validate(n, err, sizeof err), 0);
        char *r = cfg_redact(n, "secret 987654321");
        assert_string_equal(r, "secret ********");
        free(r);
        cfg_free(n);
    }
    validate_err(BASE "retirement_pipeline:\n  - [A, B, LMS, m]\n  - [A, B, LMS]\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:7:"));
    assert_non_null(strstr(err, "row 2"));
    assert_non_null(strstr(err, "3 items"));
    validate_err(BASE "retirement_pipeline:\n  - [A, B, LMS, m]\n  - [A, ON, LMS, m]\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:7:"));
    assert_non_null(strstr(err, "quotes"));
    /* no pipeline at all: refused (a run would mark the learner COMPLETE with nothing deleted) */
    validate_err("client_id: c\nclient_secret: s\nbase_urls:\n  lms: https://l/\n", err, sizeof err);
    assert_non_null(strstr(err, "retirement_pipeline is missing"));
    validate_err(BASE "retirement_pipeline: 5\n", err, sizeof err);
    assert_non_null(strstr(err, "retirement_pipeline"));

    validate_err(BASE "retirement_pipeline:\n  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'f']\n"
                      "  - ['RETIRING_ECOM', 'ECOM_COMPLETE', 'ECOMMERCE', 'retire_learner']\n",
                 err, sizeof err);
    assert_non_null(strstr(err, "Service URL is not configured, but required for state "
                                "['RETIRING_ECOM', 'ECOM_COMPLETE', 'ECOMMERCE', 'retire_learner']"));
    assert_non_null(strstr(err, "t.yml:7"));
    assert_non_null(strstr(err, "base_urls.ecommerce"));

    validate_err(BASE "retirement_pipeline:\n  - [RETIRING_LM, LM_COMPLETE, LICENSE_MANAGER, retire_learner]\n",
                 err, sizeof err);
    assert_non_null(strstr(err, "Service URL is not configured"));
    assert_non_null(strstr(err, "base_urls.license_manager"));

    validate_err(BASE "braze_api_key: k\nretirement_pipeline:\n  - [RETIRING_BRAZE, BRAZE_COMPLETE, BRAZE, delete_user]\n",
                 err, sizeof err);
    assert_non_null(strstr(err, "braze_instance"));
    validate_err(BASE "amplitude_api_key: k\nretirement_pipeline:\n  - [R_A, A_COMPLETE, AMPLITUDE, delete_user]\n",
                 err, sizeof err);
    assert_non_null(strstr(err, "amplitude_secret_key"));
    validate_err(BASE "  segment: https://seg/\nsegment_auth_token: t\nretirement_pipeline:\n"
                      "  - [R_S, S_COMPLETE, SEGMENT, delete_and_suppress_learner]\n",
                 err, sizeof err);
    assert_non_null(strstr(err, "segment_workspace_slug"));
    validate_err(BASE "salesforce_user: u\nsalesforce_password: p\nretirement_pipeline:\n"
                      "  - [R_S, S_COMPLETE, SALESFORCE, retire_learner]\n",
                 err, sizeof err);
    assert_non_null(strstr(err, "salesforce_token"));
    validate_err(BASE "  credentials: ''\nretirement_pipeline:\n  - [R_C, C_COMPLETE, CREDENTIALS, retire_learner]\n",
                 err, sizeof err);
    assert_non_null(strstr(err, "base_urls.credentials"));
    validate_err(BASE "retirement_pipeline:\n  - [R_D, D_COMPLETE, DEMOGRAPHICS, retire_learner]\n", err, sizeof err);
    assert_non_null(strstr(err, "base_urls.demographics"));

    validate_err(BASE "  ecommerce: ecommerce.example.com\nretirement_pipeline:\n"
                      "  - [RETIRING_ECOM, ECOM_COMPLETE, ECOMMERCE, retire_learner]\n",
                 err, sizeof err);
    assert_non_null(strstr(err, "t.yml:5:"));
    assert_non_null(strstr(err, "base_urls.ecommerce must be an http:// or https:// URL"));
    validate_err(BASE "extra_services:\n  - {name: X, base_url: 'svc:80', retirement_url_path: r}\n"
                      "retirement_pipeline: []\n", err, sizeof err);
    assert_non_null(strstr(err, "t.yml:6:"));
    assert_non_null(strstr(err, "extra_services[0] (X)"));

    cfg *c = load_ok(BASE "braze_api_key: k\nbraze_instance: iad-01\n"
                          "retirement_pipeline:\n  - [RETIRING_BRAZE, BRAZE_COMPLETE, BRAZE, delete_user]\n"
                          "  - [R_X, X_COMPLETE, MY_PLUGIN, anything]\n");
    assert_int_equal(cfg_validate(c, err, sizeof err), 0);
    cfg_free(c);
}

static void test_repr_quotes(void **state)
{
    (void)state;
    cfg_step s = {"it's", "a\\b", "C", "d\"e'f", 0};
    char *r = cfg_step_repr(&s);
    assert_string_equal(r, "[\"it's\", 'a\\\\b', 'C', 'd\"e\\'f']");
    free(r);
}

static void test_default_path(void **state)
{
    (void)state;
    setenv("RETIREMENT_CONFIG_FILE", "/x/y.yml", 1);
    char *p = cfg_default_path();
    assert_string_equal(p, "/x/y.yml");
    free(p);
    unsetenv("RETIREMENT_CONFIG_FILE");
    setenv("XDG_CONFIG_HOME", "/cfg", 1);
    p = cfg_default_path();
    assert_string_equal(p, "/cfg/retirectl/config.yml");
    free(p);
}

int main(void)
{
    setenv("LC_ALL", "C.UTF-8", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml11_types),
        cmocka_unit_test(test_anchors_and_merge),
        cmocka_unit_test(test_upstream_keys_and_pipeline),
        cmocka_unit_test(test_additions),
        cmocka_unit_test(test_extra_services_errors),
        cmocka_unit_test(test_env_expansion_values),
        cmocka_unit_test(test_errors_name_position),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_short_secret_not_masked),
        cmocka_unit_test(test_anchor_on_replaced_key),
        cmocka_unit_test(test_alias_bomb_refused),
        cmocka_unit_test(test_line_breaks_in_wire_values),
        cmocka_unit_test(test_driver_config_scope_config),
        cmocka_unit_test(test_longest_secret_first),
        cmocka_unit_test(test_url_password_is_secret),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_repr_quotes),
        cmocka_unit_test(test_default_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
