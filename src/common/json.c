/* json: typed cJSON member reads; see json.h. */
#include "common/json.h"

const cJSON *json_at(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c) v = cJSON_GetObjectItemCaseSensitive(v, c);
    return v;
}

const char *json_str_at(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = json_at(o, a, b, c);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double json_num_at(const cJSON *o, const char *a, const char *b, const char *c, double fallback)
{
    const cJSON *v = json_at(o, a, b, c);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

const char *json_str(const cJSON *o, const char *key)
{
    return json_str_at(o, key, NULL, NULL);
}

double json_num(const cJSON *o, const char *key, double fallback)
{
    return json_num_at(o, key, NULL, NULL, fallback);
}
