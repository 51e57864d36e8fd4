/* Test plugin "getinstcrash": get_instance segfaults (the worker dies before its first step). */
#include <signal.h>

#include "../testplugin.h"

/* no sanitizer may turn the crash into an orderly exit: this must die by SIGSEGV */
__attribute__((no_sanitize("address", "undefined"))) static void *gic_get_instance(const cJSON *config,
                                                                                   const rd_host *host, char *err,
                                                                                   size_t err_len)
{
    (void)config;
    (void)host;
    (void)err;
    (void)err_len;
    signal(SIGSEGV, SIG_DFL);
    volatile int *volatile p = NULL;
    *p = 1;
    return NULL;
}

static rd_status gic_retire(void *inst, const cJSON *learner, rd_call *call)
{
    return tp_ok(inst, learner, call, "retire");
}

static const rd_method gic_methods[] = {RD_METHOD("retire", gic_retire, NULL), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_getinstcrash =
    RD_DRIVER_INIT("GETINSTCRASH", "0.0.1", "get_instance segfaults", gic_get_instance, tp_destroy, gic_methods);
