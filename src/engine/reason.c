/* reason: the server's explanation of a failed request, scrubbed and bounded. See reason.h. */
#include "engine/reason.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/history.h"
#include "engine/http.h"
#include "engine/pii.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

/* Body keys that carry an explanation, most specific first (DRF, OAuth, edX APIs). */
static const char *const reason_keys[] = {"detail", "developer_message", "error_description", "message",
                                          "error", "user_message", "errors", NULL};

/* Collapses runs of whitespace (including newlines) to one space and trims. malloc'd. */
static char *collapse_space(const char *s, size_t len)
{
    strbuf sb = STRBUF_INIT;
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\0') c = ' ';
        if (isspace(c)) {
            space = 1;
            continue;
        }
        if (space && sb.len) sb_addc(&sb, ' ');
        space = 0;
        sb_addc(&sb, (char)c);
    }
    return sb_take(&sb);
}

/* The text of an HTML page (an error page of a proxy or web server): tags dropped, whitespace
 * collapsed. malloc'd. */
static char *html_text(const char *s, size_t len)
{
    strbuf sb = STRBUF_INIT;
    int in_tag = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '<') {
            in_tag = 1;
            sb_addc(&sb, ' ');
        } else if (s[i] == '>' && in_tag) {
            in_tag = 0;
        } else if (!in_tag) {
            sb_addc(&sb, s[i]);
        }
    }
    char *t = collapse_space(sb_str(&sb), sb.len);
    sb_free(&sb);
    return t;
}

/* Non-zero when body looks like an HTML page. */
static int looks_html(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)s[i])) i++;
    return i < len && s[i] == '<';
}

/* A JSON value as text: a string's own text, anything else compact JSON. malloc'd. */
static char *value_text(const cJSON *v)
{
    if (cJSON_IsString(v)) return xstrdup(v->valuestring);
    return cJSON_PrintUnformatted(v);
}

char *reason_server_text(const char *body, size_t len)
{
    if (!body || !len) return NULL;
    cJSON *j = cJSON_ParseWithLength(body, len);
    char *out = NULL;
    if (cJSON_IsObject(j)) {
        for (size_t i = 0; reason_keys[i] && !out; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, reason_keys[i]);
            if (v && !cJSON_IsNull(v)) out = value_text(v);
        }
        if (!out) out = cJSON_PrintUnformatted(j);
    } else if (j) {
        out = value_text(j);
    }
    cJSON_Delete(j);
    if (!out) return looks_html(body, len) ? html_text(body, len) : collapse_space(body, len);
    char *c = collapse_space(out, strlen(out));
    free(out);
    if (!*c) {
        free(c);
        return NULL;
    }
    return c;
}

/* Adds one personal string and its percent-encoded forms to the list. */
static void add_pii(const char **list, char **owned, size_t *n, size_t *n_owned, const char *s)
{
    if (!s || !*s || *n + 3 > 48) return;
    list[(*n)++] = s;
    char *e1 = http_url_escape(s), *e2 = http_url_escape_pchar(s);
    if (e1 && strcmp(e1, s) != 0) list[(*n)++] = owned[(*n_owned)++] = e1;
    else free(e1);
    if (e2 && strcmp(e2, s) != 0) list[(*n)++] = owned[(*n_owned)++] = e2;
    else free(e2);
}
char *reason_scrub(const cfg *c, const cJSON *learner, const char *username, const char *text, size_t max)
{
    char *s = c ? cfg_redact(c, text ? text : "") : xstrdup(text);
    const char *list[48];
    char *owned[48];
    size_t n = 0, n_owned = 0;
    add_pii(list, owned, &n, &n_owned, username);
    if (learner) {
        static const char *const paths[][3] = {
            {"original_username", NULL, NULL}, {"original_email", NULL, NULL}, {"original_name", NULL, NULL},
            {"user", "username", NULL},        {"user", "email", NULL},        {"user", "profile", "name"},
            {"retired_username", NULL, NULL},  {"retired_email", NULL, NULL},
        };
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
            add_pii(list, owned, &n, &n_owned, json_str_at(learner, paths[i][0], paths[i][1], paths[i][2]));
    }
    /* longer strings first, so a name inside an email is not replaced before the email */
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            if (strlen(list[k]) > strlen(list[i])) {
                const char *t = list[i];
                list[i] = list[k];
                list[k] = t;
            }
    for (size_t i = 0; i < n; i++) pii_replace_all(&s, list[i], "[redacted]");
    for (size_t i = 0; i < n_owned; i++) free(owned[i]);
    pii_scrub_emails(&s);
    size_t len = strlen(s);
    if (max && len > max) {
        size_t cut = max;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
        s[cut] = '\0';
    }
    return s;
}

char *reason_request(const cfg *c, const cJSON *learner, const char *username, const char *method,
                     const char *url)
{
    const char *p = url ? url : "";
    const char *scheme = strstr(p, "://");
    if (scheme) {
        const char *slash = strchr(scheme + 3, '/');
        p = slash ? slash : "/";
    }
    size_t plen = strcspn(p, "?#");
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s ", method ? method : "?");
    sb_addn(&sb, p, plen);
    char *s = reason_scrub(c, learner, username, sb_str(&sb), 1024);
    sb_free(&sb);
    return s;
}

cJSON *reason_failure(const cfg *c, const cJSON *learner, const char *username, const char *method, const char *url,
                      long status, const char *body, size_t body_len, const char *transport_error, int attempts)
{
    cJSON *o = cJSON_CreateObject();
    char *req = reason_request(c, learner, username, method, url);
    cJSON_AddStringToObject(o, "request", req);
    free(req);
    if (status > 0) cJSON_AddNumberToObject(o, "http_status", (double)status);
    char *raw = status > 0 ? reason_server_text(body, body_len) : NULL;
    if (raw) {
        char *t = reason_scrub(c, learner, username, raw, HIST_SERVER_TEXT_MAX);
        if (*t) cJSON_AddStringToObject(o, "server_text", t);
        free(t);
        free(raw);
    }
    if (status <= 0 && transport_error && *transport_error) {
        char *t = reason_scrub(c, learner, username, transport_error, 1024);
        cJSON_AddStringToObject(o, "transport_error", t);
        free(t);
    }
    if (attempts > 0) cJSON_AddNumberToObject(o, "attempts", attempts);
    return o;
}

char *reason_errored_text(const cfg *c, const char *upstream, const cJSON *failure)
{
    const char *mode = c ? cfg_string(c, "lms.errored_text") : NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(failure, "server_text");
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, upstream ? upstream : "");
    if (cJSON_IsString(t) && *t->valuestring && !(mode && strcmp(mode, "upstream") == 0))
        sb_addf(&sb, "; server said: %s", t->valuestring);
    return sb_take(&sb);
}
