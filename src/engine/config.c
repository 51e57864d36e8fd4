/* config: the operator's YAML configuration as a cJSON tree; see config.h.
 *
 * Parsing follows PyYAML's safe_load as closely as a JSON tree allows: plain scalars that
 * YAML 1.1 resolves to booleans, integers (decimal, 0octal, 0x, 0b, sexagesimal, with '_'),
 * floats (PyYAML's regex: "1.5e3" stays a string, "1.5e+3" is a float) or null become those
 * JSON types; quoted and block scalars stay strings; timestamps stay strings (JSON has no
 * date); anchors, aliases and "<<" merge keys work; duplicate keys: the last one wins.
 * Every node's line and column is kept in a side table so that messages can name them.
 *
 * ${NAME} in a string scalar is replaced by the environment variable NAME (an unset variable
 * is an error naming it, the file and the line); "$${" writes a literal "${". A value that
 * came from ${NAME} stays a string; cfg_number / cfg_bool accept such strings. */
#include "engine/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "engine/strbuf.h"

#define MASK "********"

/* One entry of the line side table. */
typedef struct cfg_mark {
    const cJSON *node;
    int line, col; /* 1-based; for mapping values the key's position */
} cfg_mark;

struct cfg_priv {
    cfg_mark *marks;
    size_t n_marks, cap_marks;
};

/* ------------------------------------------------------------------ small helpers */

static void set_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p) abort();
    return p;
}

static void add_mark(cfg *c, const cJSON *node, int line, int col)
{
    struct cfg_priv *p = c->priv;
    if (p->n_marks == p->cap_marks) {
        p->cap_marks = p->cap_marks ? p->cap_marks * 2 : 64;
        p->marks = realloc(p->marks, p->cap_marks * sizeof *p->marks);
        if (!p->marks) abort();
    }
    p->marks[p->n_marks++] = (cfg_mark){node, line, col};
}

int cfg_node_line(const cfg *c, const cJSON *node, int *col)
{
    if (col) *col = 0;
    if (!c || !c->priv || !node) return 0;
    for (size_t i = 0; i < c->priv->n_marks; i++)
        if (c->priv->marks[i].node == node) {
            if (col) *col = c->priv->marks[i].col;
            return c->priv->marks[i].line;
        }
    return 0;
}

int cfg_line(const cfg *c, const char *path, int *col) { return cfg_node_line(c, cfg_get(c, path), col); }

/* Records every node of a duplicated (aliased or merged) subtree at the alias' position. */
static void mark_tree(cfg *c, const cJSON *node, int line, int col)
{
    add_mark(c, node, line, col);
    for (const cJSON *ch = node->child; ch; ch = ch->next) mark_tree(c, ch, line, col);
}

/* Writes "file:line:col" (or "file:line", or "file") for a node into buf. */
static const char *where(const cfg *c, const cJSON *node, char *buf, size_t n)
{
    int col = 0;
    int line = cfg_node_line(c, node, &col);
    if (line > 0 && col > 0)
        snprintf(buf, n, "%s:%d:%d", c->path, line, col);
    else if (line > 0)
        snprintf(buf, n, "%s:%d", c->path, line);
    else
        snprintf(buf, n, "%s", c->path);
    return buf;
}

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

/* ------------------------------------------------------------------ YAML 1.1 scalars */

static regex_t re_bool, re_null, re_int, re_float;
static pthread_once_t re_once = PTHREAD_ONCE_INIT;

static void compile_res_once(void)
{
    /* The implicit resolvers of PyYAML's (safe) Resolver, YAML 1.1. */
    regcomp(&re_bool, "^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            REG_EXTENDED | REG_NOSUB);
    regcomp(&re_null, "^(~|null|Null|NULL|)$", REG_EXTENDED | REG_NOSUB);
    regcomp(&re_int,
            "^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|"
            "[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
            REG_EXTENDED | REG_NOSUB);
    regcomp(&re_float,
            "^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9][0-9_]*([eE][-+][0-9]+)?|"
            "[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
            REG_EXTENDED | REG_NOSUB);
}

/* Compiles the resolver regexes once (thread-safe). */
static void compile_res(void) { pthread_once(&re_once, compile_res_once); }

/* Copies s without '_' characters. */
static char *strip_underscores(const char *s)
{
    char *o = xstrdup(s), *w = o;
    for (const char *r = s; *r; r++)
        if (*r != '_') *w++ = *r;
    *w = '\0';
    return o;
}

/* Value of a sexagesimal number "1:30:15.5" (sign handled by caller). */
static double sexagesimal(const char *s)
{
    double v = 0;
    char *copy = xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) v = v * 60 + strtod(tok, NULL);
    free(copy);
    return v;
}

static int is_bool_true(const char *s)
{
    return !strcmp(s, "yes") || !strcmp(s, "Yes") || !strcmp(s, "YES") || !strcmp(s, "true") || !strcmp(s, "True") ||
           !strcmp(s, "TRUE") || !strcmp(s, "on") || !strcmp(s, "On") || !strcmp(s, "ON");
}

static double parse_yaml_int(const char *text)
{
    char *s = strip_underscores(text);
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+') neg = (*p++ == '-');
    double v;
    if (!strncmp(p, "0b", 2))
        v = (double)strtoull(p + 2, NULL, 2);
    else if (!strncmp(p, "0x", 2))
        v = (double)strtoull(p + 2, NULL, 16);
    else if (strchr(p, ':'))
        v = sexagesimal(p);
    else if (p[0] == '0' && p[1])
        v = (double)strtoull(p + 1, NULL, 8);
    else
        v = strtod(p, NULL);
    free(s);
    return neg ? -v : v;
}

static double parse_yaml_float(const char *text)
{
    char *s = strip_underscores(text);
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+') neg = (*p++ == '-');
    double v;
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF"))
        v = INFINITY;
    else if (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN"))
        v = NAN;
    else if (strchr(p, ':'))
        v = sexagesimal(p);
    else
        v = strtod(p, NULL);
    free(s);
    return neg ? -v : v;
}

/* Type of a plain scalar under YAML 1.1 implicit resolution. */
typedef enum { SC_STR, SC_NULL, SC_BOOL, SC_INT, SC_FLOAT } scalar_kind;

static scalar_kind resolve_plain(const char *s)
{
    compile_res();
    if (!regexec(&re_null, s, 0, NULL, 0)) return SC_NULL;
    if (!regexec(&re_bool, s, 0, NULL, 0)) return SC_BOOL;
    if (!regexec(&re_int, s, 0, NULL, 0)) return SC_INT;
    if (!regexec(&re_float, s, 0, NULL, 0)) return SC_FLOAT;
    return SC_STR;
}

static cJSON *make_scalar(scalar_kind k, const char *s)
{
    switch (k) {
    case SC_NULL: return cJSON_CreateNull();
    case SC_BOOL: return cJSON_CreateBool(is_bool_true(s));
    case SC_INT: return cJSON_CreateNumber(parse_yaml_int(s));
    case SC_FLOAT: return cJSON_CreateNumber(parse_yaml_float(s));
    default: return cJSON_CreateString(s);
    }
}

/* ------------------------------------------------------------------ loader */

typedef struct frame {
    cJSON *node;
    int is_map;
    char *key;          /* pending mapping key (NULL when the next scalar is a key) */
    int key_line, key_col;
    int secret;         /* inside a value whose key looks secret */
    char *anchor;       /* anchor of this collection, registered when it ends */
    cJSON **merges;     /* "<<" sources to merge when the mapping ends */
    size_t n_merges;
    int merge_line, merge_col;
    int start_line, start_col; /* where the collection starts */
    char *path;         /* dotted path for messages */
} frame;

typedef struct anchor_entry {
    char *name;
    cJSON *node;
} anchor_entry;

typedef struct loader {
    cfg *c;
    frame stack[64];
    int depth;
    anchor_entry *anchors;
    size_t n_anchors;
    char *err;
    size_t err_len;
    int failed;
} loader;

static void add_secret(cfg *c, const char *value)
{
    if (!value || !*value) return;
    for (size_t i = 0; i < c->n_secrets; i++)
        if (!strcmp(c->secrets[i], value)) return;
    c->secrets = realloc(c->secrets, (c->n_secrets + 1) * sizeof *c->secrets);
    if (!c->secrets) abort();
    c->secrets[c->n_secrets++] = xstrdup(value);
}

/* Adds a secret and the forms it takes in a URL-encoded form body and in JSON text. */
static void add_secret_forms(cfg *c, const char *value)
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

/* Expands ${NAME}; returns a malloc'd string or NULL with err set. */
static char *expand_env(loader *L, const char *s, int line, int col, const char *path)
{
    if (!strchr(s, '$')) return xstrdup(s);
    strbuf out = STRBUF_INIT;
    for (const char *p = s; *p;) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            sb_add(&out, "${");
            p += 3;
            continue;
        }
        if (p[0] == '$' && p[1] == '{') {
            const char *q = p + 2;
            const char *name = q;
            if (isalpha((unsigned char)*q) || *q == '_') {
                while (isalnum((unsigned char)*q) || *q == '_') q++;
            }
            if (q == name || *q != '}') {
                set_err(L->err, L->err_len,
                        "%s:%d:%d: key %s: \"${\" must be followed by an environment variable name and \"}\" "
                        "(like ${LMS_CLIENT_SECRET}); write \"$${\" for a literal \"${\".",
                        L->c->path, line, col, path);
                sb_free(&out);
                return NULL;
            }
            char *var = strndup(name, (size_t)(q - name));
            const char *val = getenv(var);
            if (!val) {
                set_err(L->err, L->err_len,
                        "%s:%d:%d: key %s: environment variable %s is not set; export %s before running "
                        "retirectl, or write the value in the file.",
                        L->c->path, line, col, path, var, var);
                free(var);
                sb_free(&out);
                return NULL;
            }
            free(var);
            sb_add(&out, val);
            p = q + 1;
            continue;
        }
        sb_addc(&out, *p++);
    }
    return sb_take(&out);
}

static char *child_path(const frame *f, const char *key, size_t index)
{
    strbuf sb = STRBUF_INIT;
    if (f->is_map) {
        if (f->path && *f->path) sb_addf(&sb, "%s.%s", f->path, key);
        else sb_add(&sb, key);
    } else {
        sb_addf(&sb, "%s[%zu]", f->path ? f->path : "", index);
    }
    return sb_take(&sb);
}

static void yaml_fail(loader *L, const yaml_parser_t *p, const unsigned char *text, size_t len)
{
    L->failed = 1;
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (p->error == YAML_READER_ERROR) { /* bad encoding: only a byte offset is known */
        size_t line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else if ((text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        set_err(L->err, L->err_len,
                "%s:%zu:%zu: the file is not valid UTF-8 text (%s at byte %zu); save it as UTF-8.", L->c->path, line,
                col, problem, p->problem_offset);
        return;
    }
    if (p->context)
        set_err(L->err, L->err_len,
                "%s:%zu:%zu: YAML syntax error: %s (%s started at line %zu, column %zu); fix the YAML at that "
                "position.",
                L->c->path, p->problem_mark.line + 1, p->problem_mark.column + 1, problem, p->context,
                p->context_mark.line + 1, p->context_mark.column + 1);
    else
        set_err(L->err, L->err_len, "%s:%zu:%zu: YAML syntax error: %s; fix the YAML at that position.", L->c->path,
                p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
}

static cJSON *find_anchor(loader *L, const char *name)
{
    for (size_t i = L->n_anchors; i-- > 0;)
        if (!strcmp(L->anchors[i].name, name)) return L->anchors[i].node;
    return NULL;
}

static void register_anchor(loader *L, const char *name, cJSON *node)
{
    L->anchors = realloc(L->anchors, (L->n_anchors + 1) * sizeof *L->anchors);
    if (!L->anchors) abort();
    L->anchors[L->n_anchors].name = xstrdup(name);
    L->anchors[L->n_anchors].node = node;
    L->n_anchors++;
}

/* Attaches a finished value to the collection on top of the stack (or makes it the root). */
static int attach(loader *L, cJSON *value, int line, int col, int is_merge_src)
{
    cfg *c = L->c;
    if (L->depth == 0) {
        c->root = value;
        add_mark(c, value, line, col);
        return 0;
    }
    frame *f = &L->stack[L->depth - 1];
    if (f->is_map) {
        if (!strcmp(f->key, "<<") && is_merge_src >= 0) {
            /* merge key: value must be a mapping or a list of mappings */
            int ok = cJSON_IsObject(value);
            if (cJSON_IsArray(value)) {
                ok = 1;
                for (cJSON *it = value->child; it; it = it->next)
                    if (!cJSON_IsObject(it)) ok = 0;
            }
            if (!ok) {
                set_err(L->err, L->err_len,
                        "%s:%d:%d: key %s: a \"<<\" merge key needs a mapping or a list of mappings (an alias "
                        "like *defaults); fix the value.",
                        c->path, f->key_line, f->key_col, f->path && *f->path ? f->path : "<<");
                cJSON_Delete(value);
                return -1;
            }
            f->merges = realloc(f->merges, (f->n_merges + 1) * sizeof *f->merges);
            if (!f->merges) abort();
            f->merges[f->n_merges++] = value;
            f->merge_line = f->key_line;
            f->merge_col = f->key_col;
            free(f->key);
            f->key = NULL;
            return 0;
        }
        if (cJSON_GetObjectItemCaseSensitive(f->node, f->key)) cJSON_DeleteItemFromObjectCaseSensitive(f->node, f->key);
        cJSON_AddItemToObject(f->node, f->key, value);
        add_mark(c, value, f->key_line, f->key_col);
        free(f->key);
        f->key = NULL;
    } else {
        cJSON_AddItemToArray(f->node, value);
        add_mark(c, value, line, col);
    }
    return 0;
}

/* Applies "<<" merges at the end of a mapping: explicit keys win, earlier sources win. */
static void apply_merges(loader *L, frame *f)
{
    for (size_t i = 0; i < f->n_merges; i++) {
        cJSON *src = f->merges[i];
        cJSON *list = cJSON_IsArray(src) ? src : NULL;
        for (cJSON *m = list ? list->child : src; m; m = list ? m->next : NULL) {
            for (cJSON *kv = m->child; kv; kv = kv->next) {
                if (cJSON_GetObjectItemCaseSensitive(f->node, kv->string)) continue;
                cJSON *dup = cJSON_Duplicate(kv, 1);
                cJSON_AddItemToObject(f->node, kv->string, dup);
                mark_tree(L->c, dup, f->merge_line, f->merge_col);
            }
            if (!list) break;
        }
        cJSON_Delete(src);
    }
    free(f->merges);
    f->merges = NULL;
    f->n_merges = 0;
}

/* The key of a scalar in mapping-key position, or an error for complex keys. */
static int is_collection_key(loader *L, int line, int col)
{
    frame *f = &L->stack[L->depth - 1];
    if (f->is_map && !f->key) {
        set_err(L->err, L->err_len,
                "%s:%d:%d: a mapping key must be a plain name, not a list or mapping; fix the key under %s.",
                L->c->path, line, col, f->path && *f->path ? f->path : "the top level");
        return 1;
    }
    return 0;
}

static int tag_known_collection(const char *tag)
{
    return !tag || !strcmp(tag, "tag:yaml.org,2002:map") || !strcmp(tag, "tag:yaml.org,2002:seq") ||
           !strcmp(tag, "tag:yaml.org,2002:omap") || !strcmp(tag, "!");
}

static int handle_scalar(loader *L, const yaml_event_t *ev)
{
    cfg *c = L->c;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const char *text = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    frame *f = L->depth ? &L->stack[L->depth - 1] : NULL;

    if (f && f->is_map && !f->key) { /* a key */
        if (strlen(text) != ev->data.scalar.length) {
            set_err(L->err, L->err_len, "%s:%d:%d: a key contains a NUL character; remove it.", c->path, line, col);
            return -1;
        }
        f->key = xstrdup(text);
        f->key_line = line;
        f->key_col = col;
        return 0;
    }
    char *path = f ? child_path(f, f->is_map ? f->key : "", f->is_map ? 0 : (size_t)cJSON_GetArraySize(f->node))
                   : xstrdup("");
    int secret = f && (f->secret || (f->is_map && cfg_key_is_secret(f->key)));
    cJSON *value = NULL;
    scalar_kind kind = SC_STR;
    int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag && strcmp(tag, "!")) {
        if (!strcmp(tag, "tag:yaml.org,2002:str")) kind = SC_STR;
        else if (!strcmp(tag, "tag:yaml.org,2002:null")) kind = SC_NULL;
        else if (!strcmp(tag, "tag:yaml.org,2002:bool") || !strcmp(tag, "tag:yaml.org,2002:int") ||
                 !strcmp(tag, "tag:yaml.org,2002:float")) {
            kind = resolve_plain(text);
            scalar_kind want = !strcmp(tag, "tag:yaml.org,2002:bool") ? SC_BOOL
                               : !strcmp(tag, "tag:yaml.org,2002:int") ? SC_INT : SC_FLOAT;
            if (want == SC_FLOAT && kind == SC_INT) kind = SC_FLOAT;
            if (kind != want) {
                set_err(L->err, L->err_len, "%s:%d:%d: key %s: value \"%s\" does not fit its tag %s; fix the value.",
                        c->path, line, col, path, secret ? MASK : text, tag);
                free(path);
                return -1;
            }
        } else if (!strcmp(tag, "tag:yaml.org,2002:timestamp") || !strcmp(tag, "tag:yaml.org,2002:binary")) {
            kind = SC_STR;
        } else {
            set_err(L->err, L->err_len,
                    "%s:%d:%d: key %s: unknown YAML tag %s (safe_load refuses it too); remove the tag.", c->path,
                    line, col, path, tag);
            free(path);
            return -1;
        }
    } else if (plain && !tag) {
        kind = resolve_plain(text);
    }
    if (kind == SC_STR) {
        char *expanded = expand_env(L, text, line, col, path);
        if (!expanded) {
            free(path);
            return -1;
        }
        value = cJSON_CreateString(expanded);
        if (secret) add_secret_forms(c, expanded);
        free(expanded);
    } else {
        value = make_scalar(kind, text);
        if (secret && (kind == SC_INT || kind == SC_FLOAT) && strlen(text) >= 4) add_secret_forms(c, text);
    }
    free(path);
    if (ev->data.scalar.anchor) register_anchor(L, (const char *)ev->data.scalar.anchor, value);
    return attach(L, value, line, col, 0);
}

static int push_collection(loader *L, const yaml_event_t *ev, int is_map)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const char *tag = is_map ? (const char *)ev->data.mapping_start.tag : (const char *)ev->data.sequence_start.tag;
    const char *anchor =
        is_map ? (const char *)ev->data.mapping_start.anchor : (const char *)ev->data.sequence_start.anchor;
    if (L->depth && is_collection_key(L, line, col)) return -1;
    if (!tag_known_collection(tag)) {
        set_err(L->err, L->err_len, "%s:%d:%d: unknown YAML tag %s (safe_load refuses it too); remove the tag.",
                L->c->path, line, col, tag);
        return -1;
    }
    if (L->depth >= (int)(sizeof L->stack / sizeof L->stack[0])) {
        set_err(L->err, L->err_len, "%s:%d:%d: the configuration nests deeper than 64 levels; flatten it.",
                L->c->path, line, col);
        return -1;
    }
    frame *parent = L->depth ? &L->stack[L->depth - 1] : NULL;
    frame *f = &L->stack[L->depth++];
    memset(f, 0, sizeof *f);
    f->node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    f->is_map = is_map;
    f->key_line = line;
    f->key_col = col;
    if (parent) {
        f->path = child_path(parent, parent->is_map ? parent->key : "",
                             parent->is_map ? 0 : (size_t)cJSON_GetArraySize(parent->node));
        f->secret = parent->secret || (parent->is_map && cfg_key_is_secret(parent->key));
    } else {
        f->path = xstrdup("");
    }
    f->anchor = anchor ? xstrdup(anchor) : NULL;
    f->start_line = line;
    f->start_col = col;
    return 0;
}

static int pop_collection(loader *L)
{
    frame *f = &L->stack[L->depth - 1];
    int line = f->start_line, col = f->start_col;
    if (f->is_map && f->n_merges) apply_merges(L, f);
    cJSON *node = f->node;
    if (f->anchor) register_anchor(L, f->anchor, node);
    free(f->anchor);
    free(f->key);
    free(f->path);
    L->depth--;
    return attach(L, node, line, col, 0);
}

static int handle_alias(loader *L, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const char *name = (const char *)ev->data.alias.anchor;
    cJSON *target = find_anchor(L, name);
    if (!target) {
        set_err(L->err, L->err_len, "%s:%d:%d: alias *%s names no anchor defined before it; define &%s first.",
                L->c->path, line, col, name, name);
        return -1;
    }
    for (int i = 0; i < L->depth; i++)
        if (L->stack[i].node == target) {
            set_err(L->err, L->err_len, "%s:%d:%d: alias *%s refers to a mapping or list that contains it; "
                    "remove the recursion.", L->c->path, line, col, name);
            return -1;
        }
    frame *f = L->depth ? &L->stack[L->depth - 1] : NULL;
    if (f && f->is_map && !f->key) {
        if (!cJSON_IsString(target)) {
            set_err(L->err, L->err_len, "%s:%d:%d: alias *%s used as a key must name a text value.", L->c->path,
                    line, col, name);
            return -1;
        }
        f->key = xstrdup(target->valuestring);
        f->key_line = line;
        f->key_col = col;
        return 0;
    }
    cJSON *dup = cJSON_Duplicate(target, 1);
    mark_tree(L->c, dup, line, col);
    /* secrets reached through an alias */
    if (f && (f->secret || (f->is_map && cfg_key_is_secret(f->key))) && cJSON_IsString(dup))
        add_secret_forms(L->c, dup->valuestring);
    return attach(L, dup, line, col, 0);
}

/* Walks the tree once more to collect secret string leaves under secret-looking keys (covers
 * values that arrived through aliases or merges). */
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
    add_secret_forms(c, pw);
    free(pw);
}

static void collect_secrets(cfg *c, const cJSON *node, int secret)
{
    for (const cJSON *ch = node->child; ch; ch = ch->next) {
        int s = secret || (ch->string && cfg_key_is_secret(ch->string));
        if (cJSON_IsString(ch) && s) add_secret_forms(c, ch->valuestring);
        if (cJSON_IsString(ch)) url_password_secret(c, ch->valuestring);
        if (cJSON_IsArray(ch) || cJSON_IsObject(ch)) collect_secrets(c, ch, s);
    }
}

static int parse_yaml(cfg *c, const unsigned char *text, size_t len, char *err, size_t err_len)
{
    loader L;
    memset(&L, 0, sizeof L);
    L.c = c;
    L.err = err;
    L.err_len = err_len;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        set_err(err, err_len, "%s: cannot initialise the YAML parser (out of memory?).", c->path);
        return -1;
    }
    yaml_parser_set_input_string(&parser, text, len);
    int rc = 0, docs = 0, done = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            yaml_fail(&L, &parser, text, len);
            rc = -1;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                set_err(err, err_len,
                        "%s:%zu:%zu: the file holds more than one YAML document (\"---\"); a config must be a single "
                        "document.",
                        c->path, ev.start_mark.line + 1, ev.start_mark.column + 1);
                rc = -1;
            }
            break;
        case YAML_SCALAR_EVENT: rc = handle_scalar(&L, &ev); break;
        case YAML_SEQUENCE_START_EVENT: rc = push_collection(&L, &ev, 0); break;
        case YAML_MAPPING_START_EVENT: rc = push_collection(&L, &ev, 1); break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: rc = pop_collection(&L); break;
        case YAML_ALIAS_EVENT: rc = handle_alias(&L, &ev); break;
        default: break;
        }
        yaml_event_delete(&ev);
        if (rc) break;
    }
    yaml_parser_delete(&parser);
    while (L.depth > 0) { /* unwind on error */
        frame *f = &L.stack[--L.depth];
        for (size_t i = 0; i < f->n_merges; i++) cJSON_Delete(f->merges[i]);
        free(f->merges);
        cJSON_Delete(f->node);
        free(f->anchor);
        free(f->key);
        free(f->path);
    }
    for (size_t i = 0; i < L.n_anchors; i++) free(L.anchors[i].name);
    free(L.anchors);
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------------ typed sections */

static int want_number(cfg *c, const char *path, double fallback, double min, double *out, char *err, size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    *out = fallback;
    if (!n || cJSON_IsNull(n)) return 0;
    double v;
    if (cJSON_IsNumber(n)) {
        v = n->valuedouble;
    } else if (cJSON_IsString(n)) {
        char *end = NULL;
        errno = 0;
        v = strtod(n->valuestring, &end);
        if (errno || end == n->valuestring || *end) goto bad;
    } else {
        goto bad;
    }
    if (!(v >= min) || isinf(v)) goto bad;
    *out = v;
    return 0;
bad:;
    char w[512];
    set_err(err, err_len, "%s: key %s must be a number of at least %g; write a plain number such as %g.",
            where(c, n, w, sizeof w), path, min, fallback);
    return -1;
}

static int want_string(cfg *c, const char *path, char **out, int resolve, char *err, size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    *out = NULL;
    if (!n || cJSON_IsNull(n)) return 0;
    if (!cJSON_IsString(n)) {
        char w[512];
        set_err(err, err_len, "%s: key %s must be text; put the value in quotes.", where(c, n, w, sizeof w), path);
        return -1;
    }
    *out = resolve ? cfg_resolve_path(c, n->valuestring) : xstrdup(n->valuestring);
    return 0;
}

static int want_bool(cfg *c, const char *path, int *out, char *err, size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    *out = 0;
    if (!n || cJSON_IsNull(n)) return 0;
    if (cJSON_IsBool(n)) {
        *out = cJSON_IsTrue(n);
        return 0;
    }
    if (cJSON_IsString(n)) {
        compile_res();
        if (!regexec(&re_bool, n->valuestring, 0, NULL, 0)) {
            *out = is_bool_true(n->valuestring);
            return 0;
        }
    }
    char w[512];
    set_err(err, err_len, "%s: key %s must be true or false.", where(c, n, w, sizeof w), path);
    return -1;
}

static int want_mapping(cfg *c, const char *path, char *err, size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    if (!n || cJSON_IsNull(n) || cJSON_IsObject(n)) return 0;
    char w[512];
    set_err(err, err_len, "%s: key %s must be a mapping of keys (indented lines \"name: value\" under it).",
            where(c, n, w, sizeof w), path);
    return -1;
}

static int load_sections(cfg *c, char *err, size_t err_len)
{
    char w[512];
    if (want_mapping(c, "base_urls", err, err_len) || want_mapping(c, "http", err, err_len) ||
        want_mapping(c, "console", err, err_len))
        return -1;
    /* http */
    if (want_number(c, "http.connect_timeout_seconds", 10, 0.001, &c->http.connect_timeout_seconds, err, err_len) ||
        want_number(c, "http.timeout_seconds", 60, 0.001, &c->http.timeout_seconds, err, err_len) ||
        want_number(c, "http.max_retry_seconds", 600, 0, &c->http.max_retry_seconds, err, err_len) ||
        want_number(c, "http.gateway_timeout_wait_seconds", 60, 0, &c->http.gateway_timeout_wait_seconds, err,
                    err_len) ||
        want_string(c, "http.ca_bundle", &c->http.ca_bundle, 1, err, err_len) ||
        want_bool(c, "http.allow_insecure_http", &c->http.allow_insecure_http, err, err_len))
        return -1;
    if (want_string(c, "environment", &c->environment, 0, err, err_len) ||
        want_number(c, "step_timeout_seconds", 900, 1, &c->step_timeout_seconds, err, err_len) ||
        want_string(c, "audit_log", &c->audit_log, 1, err, err_len) ||
        want_number(c, "history_days", 0, 0, &c->history_days, err, err_len) ||
        want_string(c, "console.theme", &c->console_theme, 0, err, err_len) ||
        want_number(c, "console.refresh_seconds", 10, 0.1, &c->console_refresh_seconds, err, err_len))
        return -1;

    /* driver_entry_points: a list of files (a single string is accepted as a list of one) */
    const cJSON *ep = cfg_get(c, "driver_entry_points");
    if (ep && !cJSON_IsNull(ep)) {
        if (cJSON_IsString(ep)) {
            c->driver_entry_points = calloc(1, sizeof(char *));
            if (!c->driver_entry_points) abort();
            c->driver_entry_points[0] = cfg_resolve_path(c, ep->valuestring);
            c->n_driver_entry_points = 1;
        } else if (cJSON_IsArray(ep)) {
            size_t n = (size_t)cJSON_GetArraySize(ep);
            c->driver_entry_points = calloc(n ? n : 1, sizeof(char *));
            if (!c->driver_entry_points) abort();
            for (const cJSON *it = ep->child; it; it = it->next) {
                if (!cJSON_IsString(it) || !*it->valuestring) {
                    set_err(err, err_len,
                            "%s: key driver_entry_points: each item must be the path of an entry-point file "
                            "(text), relative to the config file's folder.",
                            where(c, it, w, sizeof w));
                    return -1;
                }
                c->driver_entry_points[c->n_driver_entry_points++] = cfg_resolve_path(c, it->valuestring);
            }
        } else {
            set_err(err, err_len,
                    "%s: key driver_entry_points must be a list of entry-point file paths (\"- plugins.cfg\" lines).",
                    where(c, ep, w, sizeof w));
            return -1;
        }
    }

    /* extra_services: list of {name, base_url, retirement_url_path} */
    const cJSON *ex = cfg_get(c, "extra_services");
    if (ex && !cJSON_IsNull(ex)) {
        if (!cJSON_IsArray(ex)) {
            set_err(err, err_len,
                    "%s: key extra_services must be a list of mappings with name, base_url and "
                    "retirement_url_path.",
                    where(c, ex, w, sizeof w));
            return -1;
        }
        size_t n = (size_t)cJSON_GetArraySize(ex);
        c->extra_services = calloc(n ? n : 1, sizeof *c->extra_services);
        if (!c->extra_services) abort();
        size_t idx = 0;
        for (const cJSON *it = ex->child; it; it = it->next, idx++) {
            if (!cJSON_IsObject(it)) {
                set_err(err, err_len,
                        "%s: extra_services[%zu] must be a mapping with name, base_url and retirement_url_path.",
                        where(c, it, w, sizeof w), idx);
                return -1;
            }
            static const char *const fields[] = {"name", "base_url", "retirement_url_path"};
            char *vals[3] = {NULL, NULL, NULL};
            for (int k = 0; k < 3; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, fields[k]);
                if (!v && k == 1) v = cJSON_GetObjectItemCaseSensitive(it, "service_base_url");
                if (!cJSON_IsString(v) || !*v->valuestring) {
                    set_err(err, err_len, "%s: extra_services[%zu] needs %s (text)%s; add it.",
                            where(c, v ? v : it, w, sizeof w), idx, fields[k],
                            k == 0 ? ", the name the pipeline uses as DRIVER" : "");
                    for (int j = 0; j < k; j++) free(vals[j]);
                    return -1;
                }
                vals[k] = xstrdup(v->valuestring);
            }
            for (size_t j = 0; j < c->n_extra_services; j++)
                if (!strcmp(c->extra_services[j].name, vals[0])) {
                    set_err(err, err_len, "%s: extra_services[%zu]: the name %s is used twice; rename one.",
                            where(c, it, w, sizeof w), idx, vals[0]);
                    for (int k = 0; k < 3; k++) free(vals[k]);
                    return -1;
                }
            c->extra_services[c->n_extra_services++] = (cfg_extra_service){vals[0], vals[1], vals[2]};
        }
    }

    /* retirement_pipeline rows (checked by cfg_validate; here every row is recorded, with "" for
     * elements that are not text so that indices stay aligned with the file) */
    const cJSON *pl = cfg_get(c, "retirement_pipeline");
    if (cJSON_IsArray(pl)) {
        size_t n = (size_t)cJSON_GetArraySize(pl);
        c->steps = calloc(n ? n : 1, sizeof *c->steps);
        if (!c->steps) abort();
        for (const cJSON *row = pl->child; row; row = row->next) {
            cfg_step *s = &c->steps[c->n_steps++];
            char **fields[4] = {&s->start_state, &s->end_state, &s->driver, &s->method};
            const cJSON *e = cJSON_IsArray(row) ? row->child : NULL;
            for (int k = 0; k < 4; k++) {
                *fields[k] = xstrdup(cJSON_IsString(e) ? e->valuestring : "");
                if (e) e = e->next;
            }
            s->line = cfg_node_line(c, row, NULL);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ public API */

char *cfg_default_path(void)
{
    const char *env = getenv("RETIREMENT_CONFIG_FILE");
    if (env && *env) return xstrdup(env);
    strbuf sb = STRBUF_INIT;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        sb_addf(&sb, "%s/retirectl/config.yml", xdg);
    else if (home && *home)
        sb_addf(&sb, "%s/.config/retirectl/config.yml", home);
    else
        return NULL;
    return sb_take(&sb);
}

char *cfg_resolve_path(const cfg *c, const char *path)
{
    if (!path) return NULL;
    if (path[0] == '/' || !c || !c->dir || !strcmp(c->dir, ".")) return xstrdup(path);
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/%s", c->dir, path);
    return sb_take(&sb);
}

static cfg *cfg_alloc(const char *name)
{
    cfg *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->priv = calloc(1, sizeof *c->priv);
    if (!c->priv) abort();
    c->path = xstrdup(name);
    const char *slash = strrchr(name, '/');
    c->dir = slash ? strndup(name, (size_t)(slash - name) ? (size_t)(slash - name) : 1) : xstrdup(".");
    if (!c->dir) abort();
    return c;
}

static int load_text(cfg *c, const char *text, size_t len, cfg **out, char *err, size_t err_len)
{
    if (parse_yaml(c, (const unsigned char *)text, len, err, err_len)) {
        cfg_free(c);
        return -1;
    }
    if (!c->root || cJSON_IsNull(c->root)) { /* empty document: no keys */
        cJSON_Delete(c->root);
        c->root = cJSON_CreateObject();
        add_mark(c, c->root, 1, 1);
    }
    if (!cJSON_IsObject(c->root)) {
        char w[512];
        set_err(err, err_len,
                "%s: the configuration must be a mapping of keys (client_id: ..., base_urls: ...), not a %s.",
                where(c, c->root, w, sizeof w), cJSON_IsArray(c->root) ? "list" : "single value");
        cfg_free(c);
        return -1;
    }
    collect_secrets(c, c->root, 0);
    if (load_sections(c, err, err_len)) {
        cfg_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int cfg_load_string(const char *text, const char *name, cfg **out, char *err, size_t err_len)
{
    *out = NULL;
    cfg *c = cfg_alloc(name ? name : "<string>");
    free(c->dir);
    c->dir = xstrdup(".");
    return load_text(c, text ? text : "", text ? strlen(text) : 0, out, err, err_len);
}

int cfg_load(const char *path, cfg **out, char *err, size_t err_len)
{
    *out = NULL;
    if (!path || !*path) {
        set_err(err, err_len, "no config file given; pass --config FILE or set RETIREMENT_CONFIG_FILE.");
        return -1;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        set_err(err, err_len, "cannot read config file %s: %s; check the path given with --config.", path,
                strerror(errno));
        return -1;
    }
    strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) sb_addn(&sb, buf, n);
    int rerr = ferror(fp);
    int saved = errno;
    fclose(fp);
    if (rerr) {
        set_err(err, err_len, "cannot read config file %s: %s.", path, strerror(saved));
        sb_free(&sb);
        return -1;
    }
    cfg *c = cfg_alloc(path);
    int rc = load_text(c, sb_str(&sb), sb.len, out, err, err_len);
    sb_free(&sb);
    return rc;
}

void cfg_free(cfg *c)
{
    if (!c) return;
    free(c->path);
    cJSON_Delete(c->root);
    for (size_t i = 0; i < c->n_steps; i++) {
        free(c->steps[i].start_state);
        free(c->steps[i].end_state);
        free(c->steps[i].driver);
        free(c->steps[i].method);
    }
    free(c->steps);
    free(c->http.ca_bundle);
    for (size_t i = 0; i < c->n_extra_services; i++) {
        free(c->extra_services[i].name);
        free(c->extra_services[i].base_url);
        free(c->extra_services[i].retirement_url_path);
    }
    free(c->extra_services);
    free(c->environment);
    for (size_t i = 0; i < c->n_secrets; i++) free(c->secrets[i]);
    free(c->secrets);
    free(c->dir);
    for (size_t i = 0; i < c->n_driver_entry_points; i++) free(c->driver_entry_points[i]);
    free(c->driver_entry_points);
    free(c->audit_log);
    free(c->console_theme);
    if (c->priv) free(c->priv->marks);
    free(c->priv);
    free(c);
}

const cJSON *cfg_get(const cfg *c, const char *path)
{
    if (!c || !c->root || !path) return NULL;
    const cJSON *node = c->root;
    const char *p = path;
    while (*p && node) {
        size_t n = strcspn(p, ".[");
        if (n == 0 && *p == '[') { /* [index] */
            char *end = NULL;
            long idx = strtol(p + 1, &end, 10);
            if (!end || *end != ']' || !cJSON_IsArray(node)) return NULL;
            node = cJSON_GetArrayItem(node, (int)idx);
            p = end + 1;
        } else {
            char *part = strndup(p, n);
            if (!part) abort();
            if (cJSON_IsArray(node)) {
                char *end = NULL;
                long idx = strtol(part, &end, 10);
                node = (*part && end && !*end) ? cJSON_GetArrayItem(node, (int)idx) : NULL;
            } else if (cJSON_IsObject(node)) {
                node = cJSON_GetObjectItemCaseSensitive(node, part);
            } else {
                node = NULL;
            }
            free(part);
            p += n;
        }
        if (*p == '.') p++;
    }
    return node;
}

const char *cfg_string(const cfg *c, const char *path)
{
    const cJSON *n = cfg_get(c, path);
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

int cfg_bool(const cfg *c, const char *path, int fallback)
{
    const cJSON *n = cfg_get(c, path);
    if (cJSON_IsBool(n)) return cJSON_IsTrue(n);
    if (cJSON_IsNumber(n)) return n->valuedouble != 0;
    if (cJSON_IsString(n)) {
        compile_res();
        if (!regexec(&re_bool, n->valuestring, 0, NULL, 0)) return is_bool_true(n->valuestring);
    }
    return fallback;
}

double cfg_number(const cfg *c, const char *path, double fallback)
{
    const cJSON *n = cfg_get(c, path);
    if (cJSON_IsNumber(n)) return n->valuedouble;
    if (cJSON_IsString(n) && *n->valuestring) {
        char *end = NULL;
        double v = strtod(n->valuestring, &end);
        if (end && !*end) return v;
    }
    return fallback;
}

/* Appends Python's repr() of a str. */
static void py_repr_str(strbuf *sb, const char *s)
{
    char q = (strchr(s, '\'') && !strchr(s, '"')) ? '"' : '\'';
    sb_addc(sb, q);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\') sb_add(sb, "\\\\");
        else if (*p == (unsigned char)q) { sb_addc(sb, '\\'); sb_addc(sb, (char)q); }
        else if (*p == '\n') sb_add(sb, "\\n");
        else if (*p == '\r') sb_add(sb, "\\r");
        else if (*p == '\t') sb_add(sb, "\\t");
        else if (*p < 0x20 || *p == 0x7f) sb_addf(sb, "\\x%02x", *p);
        else sb_addc(sb, (char)*p);
    }
    sb_addc(sb, q);
}

/* Appends Python's repr() of a JSON value as PyYAML would have loaded it. */
static void py_repr_json(strbuf *sb, const cJSON *v)
{
    if (cJSON_IsString(v)) py_repr_str(sb, v->valuestring);
    else if (cJSON_IsNull(v)) sb_add(sb, "None");
    else if (cJSON_IsBool(v)) sb_add(sb, cJSON_IsTrue(v) ? "True" : "False");
    else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) sb_addf(sb, "%.0f", d);
        else sb_addf(sb, "%.17g", d);
    } else if (cJSON_IsArray(v)) {
        sb_addc(sb, '[');
        for (const cJSON *e = v->child; e; e = e->next) {
            py_repr_json(sb, e);
            if (e->next) sb_add(sb, ", ");
        }
        sb_addc(sb, ']');
    } else if (cJSON_IsObject(v)) {
        sb_addc(sb, '{');
        for (const cJSON *e = v->child; e; e = e->next) {
            py_repr_str(sb, e->string);
            sb_add(sb, ": ");
            py_repr_json(sb, e);
            if (e->next) sb_add(sb, ", ");
        }
        sb_addc(sb, '}');
    }
}

char *cfg_step_repr(const cfg_step *s)
{
    strbuf sb = STRBUF_INIT;
    sb_addc(&sb, '[');
    const char *f[4] = {s->start_state, s->end_state, s->driver, s->method};
    for (int k = 0; k < 4; k++) {
        py_repr_str(&sb, f[k] ? f[k] : "");
        if (k < 3) sb_add(&sb, ", ");
    }
    sb_addc(&sb, ']');
    return sb_take(&sb);
}

/* A required value is missing when absent, null or an empty string. */
static int value_missing(const cfg *c, const char *path)
{
    const cJSON *n = cfg_get(c, path);
    if (!n || cJSON_IsNull(n)) return 1;
    if (cJSON_IsString(n) && !*n->valuestring) return 1;
    return 0;
}

/* Config keys each built-in/vendor driver needs (spec §8 table; LICENSE_MANAGER deliberately
 * added: upstream only fails at run time). */
static const struct {
    const char *driver;
    const char *keys[5];
} required_keys[] = {
    {"ECOMMERCE", {"base_urls.ecommerce"}},
    {"CREDENTIALS", {"base_urls.credentials"}},
    {"DEMOGRAPHICS", {"base_urls.demographics"}},
    {"LICENSE_MANAGER", {"base_urls.license_manager"}},
    {"BRAZE", {"braze_api_key", "braze_instance"}},
    {"AMPLITUDE", {"amplitude_api_key", "amplitude_secret_key"}},
    {"SEGMENT", {"base_urls.segment", "segment_auth_token", "segment_workspace_slug"}},
    {"HUBSPOT", {"hubspot_api_key", "hubspot_aws_region", "hubspot_from_address", "hubspot_alert_email"}},
    {"SALESFORCE", {"salesforce_user", "salesforce_password", "salesforce_token"}},
};

/* Non-upstream keys that stand in for a required upstream key when a plugin's modern-API mode
 * is used (docs/vendors.md): Braze EU REST URL, Salesforce OAuth client credentials, Segment
 * Public API (no workspace slug). Added by "vendors". */
static const struct {
    const char *key, *alt;
} key_alternatives[] = {
    {"braze_instance", "braze_rest_url"},
    {"salesforce_user", "salesforce_client_id"},
    {"salesforce_password", "salesforce_client_secret"},
    {"salesforce_token", "salesforce_client_secret"},
    {"segment_workspace_slug", "segment_api"},
};

/* The alternative of a required key, or NULL. */
static const char *key_alternative(const char *key)
{
    for (size_t i = 0; i < sizeof key_alternatives / sizeof key_alternatives[0]; i++)
        if (!strcmp(key_alternatives[i].key, key)) return key_alternatives[i].alt;
    return NULL;
}

/* A required text value; with allow_int an integer is accepted too (PyYAML gives an int for
 * `client_id: 12345` and upstream sends str() of it; http does the same). */
static int validate_text_key(const cfg *c, const char *path, int allow_int, const char *hint, char *err,
                             size_t err_len)
{
    const cJSON *n = cfg_get(c, path);
    char w[512];
    if (!n || cJSON_IsNull(n) || (cJSON_IsString(n) && !*n->valuestring)) {
        set_err(err, err_len, "%s: key %s is missing or empty; %s", n ? where(c, n, w, sizeof w) : c->path, path,
                hint);
        return -1;
    }
    if (allow_int && cJSON_IsNumber(n) && n->valuedouble == floor(n->valuedouble) && fabs(n->valuedouble) < 1e15)
        return 0;
    if (!cJSON_IsString(n)) {
        set_err(err, err_len, "%s: key %s must be text; put the value in quotes.", where(c, n, w, sizeof w), path);
        return -1;
    }
    return 0;
}

int cfg_validate(const cfg *c, char *err, size_t err_len)
{
    char w[512];
    if (!c) {
        set_err(err, err_len, "no configuration loaded.");
        return -1;
    }
    if (validate_text_key(c, "client_id", 1, "add the OAuth client id of the retirement service user (client_id: ...).",
                          err, err_len) ||
        validate_text_key(c, "client_secret", 1,
                          "add the OAuth client secret of the retirement service user (client_secret: ${NAME} "
                          "reads it from the environment).",
                          err, err_len) ||
        validate_text_key(c, "base_urls.lms", 0, "add the LMS root URL under base_urls (lms: https://lms.example.com/).",
                          err, err_len))
        return -1;
    const char *lms = cfg_string(c, "base_urls.lms");
    if (strncmp(lms, "http://", 7) && strncmp(lms, "https://", 8)) {
        set_err(err, err_len, "%s: key base_urls.lms must be an http:// or https:// URL (got \"%s\").",
                where(c, cfg_get(c, "base_urls.lms"), w, sizeof w), lms);
        return -1;
    }
    const cJSON *pl = cfg_get(c, "retirement_pipeline");
    if (pl && !cJSON_IsArray(pl)) {
        set_err(err, err_len,
                "%s: key retirement_pipeline must be a list of rows [start_state, end_state, DRIVER, method].",
                where(c, pl, w, sizeof w));
        return -1;
    }
    size_t idx = 0;
    for (const cJSON *row = pl ? pl->child : NULL; row; row = row->next, idx++) {
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 4) {
            char found[64];
            if (cJSON_IsArray(row)) snprintf(found, sizeof found, "a list of %d items", cJSON_GetArraySize(row));
            else snprintf(found, sizeof found, "a single value");
            set_err(err, err_len,
                    "%s: retirement_pipeline row %zu must be a list of 4 items [start_state, end_state, DRIVER, "
                    "method]; found %s.",
                    where(c, row, w, sizeof w), idx + 1, found);
            return -1;
        }
        int k = 0;
        for (const cJSON *e = row->child; e; e = e->next, k++) {
            if (!cJSON_IsString(e) || !*e->valuestring) {
                strbuf got = STRBUF_INIT;
                py_repr_json(&got, e);
                set_err(err, err_len,
                        "%s: retirement_pipeline row %zu item %d must be a non-empty name; got %s%s.",
                        where(c, e, w, sizeof w), idx + 1, k + 1, sb_str(&got),
                        cJSON_IsString(e) ? "" : " (YAML read it as a boolean, number or null: put it in quotes)");
                sb_free(&got);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < c->n_steps; i++) {
        const cfg_step *s = &c->steps[i];
        const char *missing = NULL;
        for (size_t d = 0; d < sizeof required_keys / sizeof required_keys[0] && !missing; d++) {
            if (strcmp(required_keys[d].driver, s->driver)) continue;
            for (int k = 0; k < 5 && required_keys[d].keys[k] && !missing; k++)
                if (value_missing(c, required_keys[d].keys[k]) &&
                    (!key_alternative(required_keys[d].keys[k]) ||
                     value_missing(c, key_alternative(required_keys[d].keys[k]))))
                    missing = required_keys[d].keys[k];
        }
        char *repr = cfg_step_repr(s);
        if (missing) {
            set_err(err, err_len,
                    "Service URL is not configured, but required for state %s (%s:%d: driver %s needs %s%s%s%s; add it "
                    "to the config%s).",
                    repr, c->path, s->line, s->driver, missing, key_alternative(missing) ? " (or " : "",
                    key_alternative(missing) ? key_alternative(missing) : "", key_alternative(missing) ? ")" : "",
                    !strcmp(s->driver, "LICENSE_MANAGER")
                        ? "; retirectl checks this before starting, upstream would fail at run time"
                        : "");
            free(repr);
            return -1;
        }
        free(repr);
        /* a base URL the step will use must be an http(s) URL (upstream fails at run time with
         * "Invalid URL ... No scheme supplied", after the learner was moved into the step) */
        for (size_t d = 0; d < sizeof required_keys / sizeof required_keys[0]; d++) {
            if (strcmp(required_keys[d].driver, s->driver)) continue;
            for (int k = 0; k < 5 && required_keys[d].keys[k]; k++) {
                const char *key = required_keys[d].keys[k];
                if (strncmp(key, "base_urls.", 10)) continue;
                const cJSON *u = cfg_get(c, key);
                if (!cJSON_IsString(u) || !strncmp(u->valuestring, "http://", 7) ||
                    !strncmp(u->valuestring, "https://", 8))
                    continue;
                set_err(err, err_len,
                        "%s: key %s must be an http:// or https:// URL (got \"%s\"); driver %s of the pipeline row at "
                        "line %d uses it.",
                        where(c, u, w, sizeof w), key, u->valuestring, s->driver, s->line);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < c->n_extra_services; i++) {
        const char *u = c->extra_services[i].base_url;
        if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
            char path[64];
            snprintf(path, sizeof path, "extra_services.%zu.base_url", i);
            const cJSON *n = cfg_get(c, path);
            if (!n) {
                snprintf(path, sizeof path, "extra_services.%zu.service_base_url", i);
                n = cfg_get(c, path);
            }
            set_err(err, err_len, "%s: extra_services[%zu] (%s): base_url must be an http:// or https:// URL (got \"%s\").",
                    where(c, n, w, sizeof w), i, c->extra_services[i].name, u);
            return -1;
        }
    }
    return 0;
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
    if (!c || !c->n_secrets) return xstrdup(text);
    const char **order = malloc(c->n_secrets * sizeof *order);
    if (!order) abort();
    for (size_t i = 0; i < c->n_secrets; i++) order[i] = c->secrets[i];
    qsort(order, c->n_secrets, sizeof *order, by_length_desc);
    char *cur = xstrdup(text);
    for (size_t i = 0; i < c->n_secrets; i++) {
        const char *sec = order[i];
        size_t sl = strlen(sec);
        if (!sl || !strstr(cur, sec)) continue;
        strbuf out = STRBUF_INIT;
        const char *p = cur, *hit;
        while ((hit = strstr(p, sec))) {
            sb_addn(&out, p, (size_t)(hit - p));
            sb_add(&out, MASK);
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
            cJSON_ReplaceItemInObjectCaseSensitive(node, ch->string, cJSON_CreateString(MASK));
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
