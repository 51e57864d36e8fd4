/* Private to the config module (src/engine/config*.c); the interface is config.h.
 * config.c: loading, typed sections, freeing, lookups; config_yaml.c: libyaml -> cJSON with
 * the line side table; config_validate.c: cfg_validate and cfg_step_repr; config_secrets.c:
 * secret detection and redaction. */
#ifndef RETIRECTL_CONFIG_INTERNAL_H
#define RETIRECTL_CONFIG_INTERNAL_H

#include <stddef.h>

#include "engine/config.h"
#include "common/xalloc.h"

/* What a secret value is replaced with. */
#define CFG_MASK "********"

/* One entry of the line side table. */
typedef struct cfg_mark {
    const cJSON *node;
    int line, col; /* 1-based; for mapping values the key's position */
} cfg_mark;

/* The line side table of a cfg (owned by it, freed by cfg_free). */
struct cfg_priv {
    cfg_mark *marks;
    size_t n_marks, cap_marks;
};

/* config.c */

/* snprintf into err (nothing when err is NULL or err_len 0). */
void cfg_set_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* config_yaml.c */

/* Parses YAML text into c->root, recording line/column marks and secrets as it goes. Returns 0,
 * or -1 with a sentence naming c->path, line and column in err (c->root may be partial). */
int cfg_parse_yaml(cfg *c, const unsigned char *text, size_t len, char *err, size_t err_len);
/* Records where node sits in the file. */
void cfg_add_mark(cfg *c, const cJSON *node, int line, int col);
/* Writes "file:line:col" (or "file:line", or "file") for a node into buf; returns buf. */
const char *cfg_where(const cfg *c, const cJSON *node, char *buf, size_t n);
/* 1 when s spells a YAML 1.1 boolean (yes/No/ON/false...), its value in *value; else 0. */
int cfg_yaml_bool(const char *s, int *value);

/* config_secrets.c */

/* Remembers a secret value and the forms it takes in a URL-encoded form body and in JSON text. */
void cfg_add_secret_forms(cfg *c, const char *value);
/* Walks the tree to collect secret string leaves under secret-looking keys (covers values that
 * arrived through aliases or merges) and passwords in URLs. */
void cfg_collect_secrets(cfg *c, const cJSON *node, int secret);

#endif
