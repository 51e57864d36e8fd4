/* config, YAML side: libyaml events -> a cJSON tree, with the line side table; see config.h.
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
#include "engine/config_internal.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

/* ------------------------------------------------------------------ line side table */

void cfg_add_mark(cfg *c, const cJSON *node, int line, int col)
{
    struct cfg_priv *p = c->priv;
    if (p->n_marks == p->cap_marks) {
        p->cap_marks = p->cap_marks ? p->cap_marks * 2 : 64;
        p->marks = xrealloc(p->marks, p->cap_marks * sizeof *p->marks);
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
    cfg_add_mark(c, node, line, col);
    for (const cJSON *ch = node->child; ch; ch = ch->next) mark_tree(c, ch, line, col);
}

/* Writes "file:line:col" (or "file:line", or "file") for a node into buf. */
const char *cfg_where(const cfg *c, const cJSON *node, char *buf, size_t n)
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
int cfg_yaml_bool(const char *s, int *value)
{
    compile_res();
    if (regexec(&re_bool, s, 0, NULL, 0)) return 0;
    *value = is_bool_true(s);
    return 1;
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
    cJSON *node;  /* the loader's own copy: the tree's node may be freed later (a repeated key) */
    size_t nodes; /* values in it, for the alias expansion bound */
} anchor_entry;

/* At most this many values may be created by aliases in one file (a few hundred bytes of nested
 * aliases can otherwise expand to gigabytes: the "billion laughs"). */
#define CFG_ALIAS_NODES_MAX 100000

typedef struct loader {
    cfg *c;
    frame stack[64];
    int depth;
    anchor_entry *anchors;
    size_t n_anchors;
    size_t alias_nodes; /* values created by aliases so far */
    char *err;
    size_t err_len;
    int failed;
} loader;

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
                cfg_set_err(L->err, L->err_len,
                        "%s:%d:%d: key %s: \"${\" must be followed by an environment variable name and \"}\" "
                        "(like ${LMS_CLIENT_SECRET}); write \"$${\" for a literal \"${\".",
                        L->c->path, line, col, path);
                sb_free(&out);
                return NULL;
            }
            char *var = xstrndup(name, (size_t)(q - name));
            const char *val = getenv(var);
            if (!val) {
                cfg_set_err(L->err, L->err_len,
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
        cfg_set_err(L->err, L->err_len,
                "%s:%zu:%zu: the file is not valid UTF-8 text (%s at byte %zu); save it as UTF-8.", L->c->path, line,
                col, problem, p->problem_offset);
        return;
    }
    if (p->context)
        cfg_set_err(L->err, L->err_len,
                "%s:%zu:%zu: YAML syntax error: %s (%s started at line %zu, column %zu); fix the YAML at that "
                "position.",
                L->c->path, p->problem_mark.line + 1, p->problem_mark.column + 1, problem, p->context,
                p->context_mark.line + 1, p->context_mark.column + 1);
    else
        cfg_set_err(L->err, L->err_len, "%s:%zu:%zu: YAML syntax error: %s; fix the YAML at that position.", L->c->path,
                p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
}

static const anchor_entry *find_anchor(loader *L, const char *name)
{
    for (size_t i = L->n_anchors; i-- > 0;)
        if (!strcmp(L->anchors[i].name, name)) return &L->anchors[i];
    return NULL;
}

/* Number of values in a tree. */
static size_t count_nodes(const cJSON *node)
{
    size_t n = 1;
    for (const cJSON *ch = node->child; ch; ch = ch->next) n += count_nodes(ch);
    return n;
}

/* Keeps a copy of an anchored value: aliases duplicate the copy, so a later repeated key that
 * frees the tree's node cannot leave an alias reading freed memory. */
static void register_anchor(loader *L, const char *name, const cJSON *node)
{
    L->anchors = xrealloc(L->anchors, (L->n_anchors + 1) * sizeof *L->anchors);
    L->anchors[L->n_anchors].name = xstrdup(name);
    L->anchors[L->n_anchors].node = cJSON_Duplicate(node, 1);
    if (!L->anchors[L->n_anchors].node) xalloc_die(sizeof(cJSON));
    L->anchors[L->n_anchors].nodes = count_nodes(node);
    L->n_anchors++;
}

/* Attaches a finished value to the collection on top of the stack (or makes it the root). */
static int attach(loader *L, cJSON *value, int line, int col, int is_merge_src)
{
    cfg *c = L->c;
    if (L->depth == 0) {
        c->root = value;
        cfg_add_mark(c, value, line, col);
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
                cfg_set_err(L->err, L->err_len,
                        "%s:%d:%d: key %s: a \"<<\" merge key needs a mapping or a list of mappings (an alias "
                        "like *defaults); fix the value.",
                        c->path, f->key_line, f->key_col, f->path && *f->path ? f->path : "<<");
                cJSON_Delete(value);
                return -1;
            }
            f->merges = xrealloc(f->merges, (f->n_merges + 1) * sizeof *f->merges);
            f->merges[f->n_merges++] = value;
            f->merge_line = f->key_line;
            f->merge_col = f->key_col;
            free(f->key);
            f->key = NULL;
            return 0;
        }
        if (cJSON_GetObjectItemCaseSensitive(f->node, f->key)) cJSON_DeleteItemFromObjectCaseSensitive(f->node, f->key);
        cJSON_AddItemToObject(f->node, f->key, value);
        cfg_add_mark(c, value, f->key_line, f->key_col);
        free(f->key);
        f->key = NULL;
    } else {
        cJSON_AddItemToArray(f->node, value);
        cfg_add_mark(c, value, line, col);
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
        cfg_set_err(L->err, L->err_len,
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

/* Non-zero when a string value ends up in a URL or a request header: secret-looking keys (API
 * keys and tokens go into headers), base_urls.*, anything spelled like a URL, and keys naming a
 * URL, host, instance, domain, endpoint or region. */
static int goes_on_the_wire(const char *path, const char *key, int secret, const char *value)
{
    if (secret || !strncmp(path, "base_urls.", 10)) return 1;
    if (!strncasecmp(value, "http://", 7) || !strncasecmp(value, "https://", 8)) return 1;
    static const char *const tails[] = {"url", "uri", "host", "instance", "domain", "endpoint", "region", "client_id",
                                        NULL};
    size_t kl = key ? strlen(key) : 0;
    for (size_t i = 0; tails[i]; i++) {
        size_t tl = strlen(tails[i]);
        if (kl >= tl && !strcasecmp(key + kl - tl, tails[i])) return 1;
    }
    return 0;
}

/* Refuses CR, LF and NUL in a value that goes on the wire (a header or URL could be split). 0 or -1. */
static int check_wire_value(loader *L, const char *path, const char *key, int secret, const char *value,
                            size_t len, int line, int col)
{
    if (!goes_on_the_wire(path, key, secret, value)) return 0;
    int nul = strlen(value) != len;
    if (!nul && !strpbrk(value, "\r\n")) return 0;
    cfg_set_err(L->err, L->err_len,
            "%s:%d:%d: key %s: the value contains %s; it is sent in a URL or request header, where that would "
            "split the request; remove it (a value from ${NAME} or a secret file must not end in a newline).",
            L->c->path, line, col, path, nul ? "a NUL character" : "a line break (CR or LF)");
    return -1;
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
            cfg_set_err(L->err, L->err_len, "%s:%d:%d: a key contains a NUL character; remove it.", c->path, line, col);
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
                cfg_set_err(L->err, L->err_len, "%s:%d:%d: key %s: value \"%s\" does not fit its tag %s; fix the value.",
                        c->path, line, col, path, secret ? CFG_MASK : text, tag);
                free(path);
                return -1;
            }
        } else if (!strcmp(tag, "tag:yaml.org,2002:timestamp") || !strcmp(tag, "tag:yaml.org,2002:binary")) {
            kind = SC_STR;
        } else {
            cfg_set_err(L->err, L->err_len,
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
        size_t elen = strlen(text) == ev->data.scalar.length ? strlen(expanded) : strlen(expanded) + 1;
        if (check_wire_value(L, path, f && f->is_map ? f->key : NULL, secret, expanded, elen, line, col)) {
            free(expanded);
            free(path);
            return -1;
        }
        value = cJSON_CreateString(expanded);
        if (secret) cfg_add_secret_forms(c, expanded);
        free(expanded);
    } else {
        value = make_scalar(kind, text);
        if (secret && (kind == SC_INT || kind == SC_FLOAT) && strlen(text) >= 4) cfg_add_secret_forms(c, text);
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
        cfg_set_err(L->err, L->err_len, "%s:%d:%d: unknown YAML tag %s (safe_load refuses it too); remove the tag.",
                L->c->path, line, col, tag);
        return -1;
    }
    if (L->depth >= (int)(sizeof L->stack / sizeof L->stack[0])) {
        cfg_set_err(L->err, L->err_len, "%s:%d:%d: the configuration nests deeper than 64 levels; flatten it.",
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
    const anchor_entry *a = find_anchor(L, name);
    if (!a) {
        cfg_set_err(L->err, L->err_len, "%s:%d:%d: alias *%s names no anchor defined before it; define &%s first.",
                L->c->path, line, col, name, name);
        return -1;
    }
    const cJSON *target = a->node;
    L->alias_nodes += a->nodes;
    if (L->alias_nodes > CFG_ALIAS_NODES_MAX) {
        cfg_set_err(L->err, L->err_len,
                "%s:%d:%d: alias *%s: aliases in this file expand to more than %d values; a config this large "
                "through aliases is almost certainly an alias bomb; write the values out or use fewer nested aliases.",
                L->c->path, line, col, name, CFG_ALIAS_NODES_MAX);
        return -1;
    }
    frame *f = L->depth ? &L->stack[L->depth - 1] : NULL;
    if (f && f->is_map && !f->key) {
        if (!cJSON_IsString(target)) {
            cfg_set_err(L->err, L->err_len, "%s:%d:%d: alias *%s used as a key must name a text value.", L->c->path,
                    line, col, name);
            return -1;
        }
        f->key = xstrdup(target->valuestring);
        f->key_line = line;
        f->key_col = col;
        return 0;
    }
    if (f && cJSON_IsString(target)) {
        char *path = child_path(f, f->is_map ? f->key : "", f->is_map ? 0 : (size_t)cJSON_GetArraySize(f->node));
        int secret = f->secret || (f->is_map && cfg_key_is_secret(f->key));
        int bad = check_wire_value(L, path, f->is_map ? f->key : NULL, secret, target->valuestring,
                                   strlen(target->valuestring), line, col);
        free(path);
        if (bad) return -1;
    }
    cJSON *dup = cJSON_Duplicate(target, 1);
    mark_tree(L->c, dup, line, col);
    /* secrets reached through an alias */
    if (f && (f->secret || (f->is_map && cfg_key_is_secret(f->key))) && cJSON_IsString(dup))
        cfg_add_secret_forms(L->c, dup->valuestring);
    return attach(L, dup, line, col, 0);
}

int cfg_parse_yaml(cfg *c, const unsigned char *text, size_t len, char *err, size_t err_len)
{
    loader L;
    memset(&L, 0, sizeof L);
    L.c = c;
    L.err = err;
    L.err_len = err_len;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        cfg_set_err(err, err_len, "%s: cannot initialise the YAML parser (out of memory?).", c->path);
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
                cfg_set_err(err, err_len,
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
    for (size_t i = 0; i < L.n_anchors; i++) {
        free(L.anchors[i].name);
        cJSON_Delete(L.anchors[i].node);
    }
    free(L.anchors);
    return rc ? -1 : 0;
}
