/* Test plugin "crash": retire dereferences a NULL pointer (SIGSEGV) for the victims; the PREVCRASH
 * descriptor also segfaults in its preview. The default SIGSEGV action is restored first so a
 * sanitizer's handler cannot turn the crash into an exit. */
#include <signal.h>

#include "../testplugin.h"

/* Dies by SIGSEGV: no sanitizer may turn the crash into an orderly exit. */
__attribute__((no_sanitize("address", "undefined"))) static void crash_now(void)
{
    signal(SIGSEGV, SIG_DFL);
    volatile int *volatile p = NULL;
    *p = 42;
}

static rd_status crash_retire(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    if (!tp_is_victim(t, learner)) return tp_ok(t, learner, call, "retire");
    crash_now();
    return RD_OK;
}

static const rd_method crash_methods[] = {RD_METHOD("retire", crash_retire, NULL), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_crash =
    RD_DRIVER_INIT("CRASH", "0.0.1", "segfaults in retire", tp_get_instance, tp_destroy, crash_methods);

/* The preview segfaults (for `plan`). */
static rd_status crash_preview(void *inst, const cJSON *learner, rd_call *call)
{
    (void)inst;
    (void)learner;
    (void)call;
    crash_now();
    return RD_OK;
}

static const rd_method prevcrash_methods[] = {RD_METHOD("retire", crash_retire, crash_preview), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_prevcrash =
    RD_DRIVER_INIT("PREVCRASH", "0.0.1", "segfaults in its preview", tp_get_instance, tp_destroy, prevcrash_methods);
