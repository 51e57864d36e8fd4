/* config, secrets side: which keys are secret, every form of their values, and scrubbing them
 * from text and from the config tree; see config.h. */
#include "engine/config_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/strbuf.h"

int cfg_key_is_secret(const char *key)
{
    if (!key) return 0;
    size_t n = strlen(key);
    char *low = malloc(n + 1);
    if (!low) abort();
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)key[i]);
    int secret = strstr(low, "secret") || strstr(low, "password") || strstr(low, "token") ||
                 (n >= 4 && strcmp(low + n - 4, "_key") == 0);
    free(low);
    return secret;
}

static void add_secret(cfg *c, const char *value)
{
    if (!value || !*value) return;
    for (size_t i = 0; i < c->n_secrets; i++)
        if (!strcmp(c->secrets[i], value)) return;
    c->secrets = realloc(c->secrets, (c->n_secrets + 1) * sizeof *c->secrets);
    if (!c->secrets) abort();
    c->secrets[c->n_secrets++] = cfg_xstrdup(value);
}

/* Adds a secret and the forms it takes in a URL-encoded form body and in JSON text. */
void cfg_add_secret_forms(cfg *c, const char *value)
{
    if (!value || !*value) return;
    add_secret(c, value);
    strbuf enc = STRBUF_INIT;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            sb_addc(&enc, (char)*p);
        else
            sb_addf(&enc, "%%%02X", *p);
    }
    add_secret(c, sb_str(&enc));
    cJSON *s = cJSON_CreateString(value);
    char *printed = cJSON_PrintUnformatted(s);
    if (printed && strlen(printed) >= 2) {
        printed[strlen(printed) - 1] = '\0';
        add_secret(c, printed + 1);
    }
    free(printed);
    cJSON_Delete(s);
    sb_free(&enc);
}

/* A password in a URL's userinfo ("https://user:pass@host/") is a secret whatever the key. */
static void url_password_secret(cfg *c, const char *s)
{
    const char *sep = strstr(s, "://");
    if (!sep) return;
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@') at = p;
    if (!at) return;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon || colon + 1 >= at) return;
    char *pw = strndup(colon + 1, (size_t)(at - colon - 1));
    if (!pw) abort();
    cfg_add_secret_forms(c, pw);
    free(pw);
}

/* Walks the tree once more to collect secret string leaves under secret-looking keys (covers
 * values that arrived through aliases or merges). */
void cfg_collect_secrets(cfg *c, const cJSON *node, int secret)
{
    for (const cJSON *ch = node->child; ch; ch = ch->next) {
        int s = secret || (ch->string && cfg_key_is_secret(ch->string));
        if (cJSON_IsString(ch) && s) cfg_add_secret_forms(c, ch->valuestring);
        if (cJSON_IsString(ch)) url_password_secret(c, ch->valuestring);
        if (cJSON_IsArray(ch) || cJSON_IsObject(ch)) cfg_collect_secrets(c, ch, s);
    }
}

/* ------------------------------------------------------------------ redaction */

static int by_length_desc(const void *a, const void *b)
{
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
    return la < lb ? 1 : la > lb ? -1 : 0;
}

char *cfg_redact(const cfg *c, const char *text)
{
    if (!text) return NULL;
    if (!c || !c->n_secrets) return cfg_xstrdup(text);
    const char **order = malloc(c->n_secrets * sizeof *order);
    if (!order) abort();
    for (size_t i = 0; i < c->n_secrets; i++) order[i] = c->secrets[i];
    qsort(order, c->n_secrets, sizeof *order, by_length_desc);
    char *cur = cfg_xstrdup(text);
    for (size_t i = 0; i < c->n_secrets; i++) {
        const char *sec = order[i];
        size_t sl = strlen(sec);
        if (!sl || !strstr(cur, sec)) continue;
        strbuf out = STRBUF_INIT;
        const char *p = cur, *hit;
        while ((hit = strstr(p, sec))) {
            sb_addn(&out, p, (size_t)(hit - p));
            sb_add(&out, CFG_MASK);
            p = hit + sl;
        }
        sb_add(&out, p);
        free(cur);
        cur = sb_take(&out);
    }
    free(order);
    return cur;
}

char *cfg_redact_inplace(const cfg *c, char *buf, size_t buf_size)
{
    if (!buf || !buf_size) return buf;
    char *r = cfg_redact(c, buf);
    snprintf(buf, buf_size, "%s", r);
    free(r);
    return buf;
}

static void redact_tree(const cfg *c, cJSON *node)
{
    cJSON *next;
    for (cJSON *ch = node->child; ch; ch = next) {
        next = ch->next;
        if (ch->string && cfg_key_is_secret(ch->string) && !cJSON_IsNull(ch) && !cJSON_IsBool(ch)) {
            cJSON_ReplaceItemInObjectCaseSensitive(node, ch->string, cJSON_CreateString(CFG_MASK));
            continue;
        }
        if (cJSON_IsString(ch)) {
            char *r = cfg_redact(c, ch->valuestring);
            if (strcmp(r, ch->valuestring)) cJSON_SetValuestring(ch, r);
            free(r);
        } else if (cJSON_IsArray(ch) || cJSON_IsObject(ch)) {
            redact_tree(c, ch);
        }
    }
}

cJSON *cfg_redacted_json(const cfg *c)
{
    if (!c || !c->root) return NULL;
    cJSON *copy = cJSON_Duplicate(c->root, 1);
    redact_tree(c, copy);
    return copy;
}
