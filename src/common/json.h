/* json (prefix json_): typed reads of cJSON members, one getter for every module that reads
 * event lines, status records, specs or config objects. */
#ifndef RETIRECTL_COMMON_JSON_H
#define RETIRECTL_COMMON_JSON_H

#include <cjson/cJSON.h>

/* The string member key of o, or NULL (o NULL or not an object, member absent or not a string). */
const char *json_str(const cJSON *o, const char *key);
/* The number member key of o, or fallback. */
double json_num(const cJSON *o, const char *key, double fallback);

#endif
