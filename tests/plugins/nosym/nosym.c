/* Test plugin "nosym": exports retirectl_driver_other only, so an entry naming
 * retirectl_driver_nosym cannot be resolved. */
#include "../testplugin.h"

static rd_status nosym_retire(void *inst, const cJSON *learner, rd_call *call)
{
    return tp_ok(inst, learner, call, "retire");
}

static const rd_method nosym_methods[] = {RD_METHOD("retire", nosym_retire, NULL), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_other =
    RD_DRIVER_INIT("OTHER", "0.0.1", "exported under another name", tp_get_instance, tp_destroy, nosym_methods);
