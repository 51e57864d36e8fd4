/* config, secrets side: which keys are secret, every form of their values, and scrubbing them
 * from text and from the config tree; see config.h. */
#include "engine/config_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/urlencode.h"

int cfg_key_is_secret(const char *key)
{
    if (!key) return 0;
    size_t n = strlen(key);
    char *low = xmalloc(n + 1);
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)key[i]);
    int secret = strstr(low, "secret") || strstr(low, "password") || strstr(low, "token") ||
                 (n >= 4 && strcmp(low + n - 4, "_key") == 0);
    free(low);
    return secret;
}

/* Appends value to a list of strings unless it is already there. */
static void list_add(char ***list, size_t *n, const char *value)
{
    if (!value || !*value) return;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i], value)) return;
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = xstrdup(value);
}

/* Adds value and the forms it takes in a URL-encoded form body and in JSON text to a list.
 * Values shorter than CFG_MIN_SECRET_LEN are not secrets (check-config warns about them). */
static void list_add_forms(char ***list, size_t *n, const char *value)
{
    if (!value || strlen(value) < CFG_MIN_SECRET_LEN) return;
    list_add(list, n, value);
    strbuf enc = STRBUF_INIT;
    url_encode_add(&enc, value, strlen(value), "", 0);
    list_add(list, n, sb_str(&enc));
    cJSON *s = cJSON_CreateString(value);
    char *printed = cJSON_PrintUnformatted(s);
    if (printed && strlen(printed) >= 2) {
        printed[strlen(printed) - 1] = '\0';
        list_add(list, n, printed + 1);
    }
    free(printed);
    cJSON_Delete(s);
    sb_free(&enc);
}

void cfg_add_secret_forms(cfg *c, const char *value)
{
    list_add_forms(&c->secrets, &c->n_secrets, value);
}

/* Secrets this process learned at run time (the live LMS token, plugins' secret_values): one
 * list per process (a forked worker inherits and extends its own copy), bounded by dropping the
 * oldest entries. */
#define LEARNED_MAX 4096
static char **learned;
static size_t n_learned;
static pthread_mutex_t learned_lock = PTHREAD_MUTEX_INITIALIZER;

void cfg_secret_learn(const char *value)
{
    if (!value || strlen(value) < CFG_MIN_SECRET_LEN) return;
    pthread_mutex_lock(&learned_lock);
    for (size_t i = 0; i < n_learned; i++)
        if (!strcmp(learned[i], value)) {
            pthread_mutex_unlock(&learned_lock);
            return;
        }
    if (n_learned + 3 > LEARNED_MAX) { /* room for one value's three forms */
        for (size_t i = 0; i < 3; i++) {
            explicit_bzero(learned[i], strlen(learned[i]));
            free(learned[i]);
        }
        memmove(learned, learned + 3, (n_learned - 3) * sizeof *learned);
        n_learned -= 3;
    }
    list_add_forms(&learned, &n_learned, value);
    pthread_mutex_unlock(&learned_lock);
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
    char *pw = xstrndup(colon + 1, (size_t)(at - colon - 1));
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

/* Every value to mask (config secrets and learned ones), longest first so that a value that
 * contains another is masked whole. Call with learned_lock held; free the array only. */
static const char **mask_order(const cfg *c, size_t *n)
{
    size_t nc = c ? c->n_secrets : 0;
    *n = nc + n_learned;
    const char **order = xmalloc((*n + 1) * sizeof *order);
    for (size_t i = 0; i < nc; i++) order[i] = c->secrets[i];
    for (size_t i = 0; i < n_learned; i++) order[nc + i] = learned[i];
    qsort(order, *n, sizeof *order, by_length_desc);
    return order;
}

char *cfg_redact(const cfg *c, const char *text)
{
    if (!text) return NULL;
    pthread_mutex_lock(&learned_lock);
    size_t n;
    const char **order = mask_order(c, &n);
    char *cur = xstrdup(text);
    for (size_t i = 0; i < n; i++) {
        const char *sec = order[i];
        size_t sl = strlen(sec);
        if (sl < CFG_MIN_SECRET_LEN || !strstr(cur, sec)) continue;
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
    pthread_mutex_unlock(&learned_lock);
    return cur;
}

/* Length of the longest tail of text[0..len) that is the beginning (>= CFG_MIN_SECRET_LEN
 * characters, shorter than the whole) of a secret: what is left of a secret cut at len. */
static size_t cut_secret_tail(const cfg *c, const char *text, size_t len)
{
    pthread_mutex_lock(&learned_lock);
    size_t n, best = 0;
    const char **order = mask_order(c, &n);
    for (size_t i = 0; i < n; i++) {
        size_t sl = strlen(order[i]);
        if (sl <= CFG_MIN_SECRET_LEN) continue; /* no shorter beginning of it is masked */
        for (size_t k = sl - 1; k >= CFG_MIN_SECRET_LEN && k > best; k--)
            if (k <= len && !memcmp(text + len - k, order[i], k)) {
                best = k;
                break;
            }
    }
    free(order);
    pthread_mutex_unlock(&learned_lock);
    return best;
}

/* Start of a trailing "… [N bytes cut]" marker in text, or NULL. */
static const char *cut_marker(const char *text)
{
    const char *m = strstr(text, CFG_CUT_PREFIX);
    const char *last = NULL;
    while (m) {
        last = m;
        m = strstr(m + 1, CFG_CUT_PREFIX);
    }
    if (!last) return NULL;
    const char *p = last + strlen(CFG_CUT_PREFIX);
    if (!isdigit((unsigned char)*p)) return NULL;
    while (isdigit((unsigned char)*p) || *p == ',') p++;
    return strcmp(p, " bytes cut]") == 0 ? last : NULL;
}

char *cfg_redact_cut(const cfg *c, const char *text, int was_cut)
{
    if (!text) return NULL;
    char *r = cfg_redact(c, text);
    const char *marker = cut_marker(r);
    if (!marker && !was_cut) return r;
    size_t end = marker ? (size_t)(marker - r) : strlen(r);
    size_t tail = cut_secret_tail(c, r, end);
    if (!tail) return r;
    strbuf out = STRBUF_INIT;
    sb_addn(&out, r, end - tail);
    sb_add(&out, CFG_MASK);
    sb_add(&out, r + end);
    free(r);
    return sb_take(&out);
}

char *cfg_redact_bounded(const cfg *c, const char *text, size_t max)
{
    if (!text) return NULL;
    char *r = cfg_redact(c, text);
    size_t len = strlen(r);
    if (len <= max) return r;
    char marker[64];
    size_t keep = max > 64 ? max - 64 : 0;
    while (keep > 0 && ((unsigned char)r[keep] & 0xC0) == 0x80) keep--; /* whole UTF-8 characters */
    snprintf(marker, sizeof marker, CFG_CUT_PREFIX "%zu bytes cut]", len - keep);
    strbuf out = STRBUF_INIT;
    sb_addn(&out, r, keep);
    sb_add(&out, marker);
    free(r);
    return sb_take(&out);
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

/* Adds "key (file:line)" for every secret string leaf shorter than CFG_MIN_SECRET_LEN. */
static void short_walk(const cfg *c, const cJSON *node, int secret, strbuf *out)
{
    for (const cJSON *ch = node->child; ch; ch = ch->next) {
        int s = secret || (ch->string && cfg_key_is_secret(ch->string));
        if (s && cJSON_IsString(ch) && *ch->valuestring && strlen(ch->valuestring) < CFG_MIN_SECRET_LEN) {
            char where[512];
            if (out->len) sb_add(out, ", ");
            sb_addf(out, "%s (%s)", ch->string ? ch->string : "list item", cfg_where(c, ch, where, sizeof where));
        }
        if (cJSON_IsArray(ch) || cJSON_IsObject(ch)) short_walk(c, ch, s, out);
    }
}

char *cfg_short_secrets(const cfg *c)
{
    if (!c || !c->root) return NULL;
    strbuf out = STRBUF_INIT;
    short_walk(c, c->root, 0, &out);
    if (!out.len) {
        sb_free(&out);
        return NULL;
    }
    return sb_take(&out);
}
