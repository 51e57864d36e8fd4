/* Shared by the test plugins of tests/plugins/<name>/ (each built into <build>/tests/plugins/<name>.so).
 * A misbehaving test plugin misbehaves only for the learners named in the config list
 * `testplugin_victims` (matched against original_username); without that key, for every
 * learner. Others get RD_OK with the message "<DRIVER>.<method> ok for <username>". */
#ifndef RETIRECTL_TESTPLUGIN_H
#define RETIRECTL_TESTPLUGIN_H

#include <stdlib.h>
#include <string.h>

#include "retirectl/driver.h"

typedef struct tp_instance {
    const rd_host *host;
    cJSON *victims; /* copy of testplugin_victims, or NULL */
} tp_instance;

/* Builds the instance from the whole config. */
static inline void *tp_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)err;
    (void)err_len;
    tp_instance *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->host = host;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, "testplugin_victims");
    if (v) t->victims = cJSON_Duplicate(v, 1);
    return t;
}

static inline void tp_destroy(void *inst)
{
    tp_instance *t = inst;
    if (!t) return;
    cJSON_Delete(t->victims);
    free(t);
}

/* The learner's original_username, or "". */
static inline const char *tp_username(const cJSON *learner)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(learner, "original_username");
    return cJSON_IsString(u) ? u->valuestring : "";
}

/* Non-zero when this plugin should misbehave for learner. */
static inline int tp_is_victim(const tp_instance *t, const cJSON *learner)
{
    if (!t->victims) return 1;
    const char *name = tp_username(learner);
    const cJSON *it;
    cJSON_ArrayForEach(it, t->victims) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0) return 1;
    }
    return 0;
}

/* The well-behaved outcome. */
static inline rd_status tp_ok(const tp_instance *t, const cJSON *learner, rd_call *call, const char *method)
{
    rd_call_message(call, "%s.%s ok for %s", t->host && t->host->driver_name ? t->host->driver_name : "?", method,
                    tp_username(learner));
    return RD_OK;
}

#endif
