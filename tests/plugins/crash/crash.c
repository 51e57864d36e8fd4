/* Test plugin "crash": retire dereferences a NULL pointer (SIGSEGV) for the victims. The default
 * SIGSEGV action is restored first so a sanitizer's handler cannot turn the crash into an exit. */
#include <signal.h>

#include "../testplugin.h"

/* no sanitizer may turn the crash into an orderly exit: this must die by SIGSEGV */
__attribute__((no_sanitize("address", "undefined"))) static rd_status crash_retire(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    if (!tp_is_victim(t, learner)) return tp_ok(t, learner, call, "retire");
    signal(SIGSEGV, SIG_DFL);
    volatile int *volatile p = NULL;
    *p = 42;
    return RD_OK;
}

static const rd_method crash_methods[] = {{"retire", crash_retire, NULL}, {NULL, NULL, NULL}};

RD_EXPORT const rd_driver retirectl_driver_crash =
    RD_DRIVER_INIT("CRASH", "0.0.1", "segfaults in retire", tp_get_instance, tp_destroy, crash_methods);
