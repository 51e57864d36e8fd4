/* Test plugin "getinstfail": get_instance fails unless the config has getinstfail_setting. */
#include <stdio.h>

#include "../testplugin.h"

static void *gif_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    if (!cJSON_GetObjectItemCaseSensitive(config, "getinstfail_setting")) {
        snprintf(err, err_len, "getinstfail_setting is not configured; add getinstfail_setting: VALUE to the config");
        return NULL;
    }
    return tp_get_instance(config, host, err, err_len);
}

static rd_status gif_retire(void *inst, const cJSON *learner, rd_call *call)
{
    return tp_ok(inst, learner, call, "retire");
}

static const rd_method gif_methods[] = {RD_METHOD("retire", gif_retire, NULL), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_getinstfail =
    RD_DRIVER_INIT("GETINSTFAIL", "0.0.1", "get_instance fails", gif_get_instance, tp_destroy, gif_methods);
