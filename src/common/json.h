/* json (prefix json_): typed reads of cJSON members, one getter for every module that reads
 * event lines, status records, specs or config objects. */
#ifndef RETIRECTL_COMMON_JSON_H
#define RETIRECTL_COMMON_JSON_H

#include <cjson/cJSON.h>

/* The string member key of o, or NULL (o NULL or not an object, member absent or not a string). */
const char *json_str(const cJSON *o, const char *key);
/* The number member key of o, or fallback. */
double json_num(const cJSON *o, const char *key, double fallback);
/* o[a][b][c] (b and c may be NULL: fewer steps), or NULL when a step is missing. */
const cJSON *json_at(const cJSON *o, const char *a, const char *b, const char *c);
/* The string at o[a][b][c] (b and c may be NULL), or NULL. */
const char *json_str_at(const cJSON *o, const char *a, const char *b, const char *c);
/* The number at o[a][b][c] (b and c may be NULL), or fallback. */
double json_num_at(const cJSON *o, const char *a, const char *b, const char *c, double fallback);

#endif
