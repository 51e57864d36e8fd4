/* Test plugin "exit": retire calls exit(0) (a worker that vanishes with success status) and
 * retire7 calls exit(7), for the victims. */
#include "../testplugin.h"

static rd_status exit_retire(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    if (!tp_is_victim(t, learner)) return tp_ok(t, learner, call, "retire");
    exit(0);
}

static rd_status exit_retire7(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    if (!tp_is_victim(t, learner)) return tp_ok(t, learner, call, "retire7");
    exit(7);
}

static const rd_method exit_methods[] = {
    RD_METHOD("retire", exit_retire, NULL),
    RD_METHOD("retire7", exit_retire7, NULL),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_exit =
    RD_DRIVER_INIT("EXIT", "0.0.1", "calls exit() in retire", tp_get_instance, tp_destroy, exit_methods);
