/* Test plugin "abort": retire calls abort() (SIGABRT) for the victims. */
#include <signal.h>

#include "../testplugin.h"

static rd_status abort_retire(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    if (!tp_is_victim(t, learner)) return tp_ok(t, learner, call, "retire");
    signal(SIGABRT, SIG_DFL);
    abort();
}

static const rd_method abort_methods[] = {RD_METHOD("retire", abort_retire, NULL), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_abort =
    RD_DRIVER_INIT("ABORT", "0.0.1", "aborts in retire", tp_get_instance, tp_destroy, abort_methods);
