/* Test plugin "ctorcrash": its ELF constructor segfaults, so merely dlopen()ing it kills the
 * process. The registry must find that out in a child process (reg_load_all,
 * reg_check_pipeline) and report it as a load error. */
#include <signal.h>

#include "../testplugin.h"

/* no sanitizer may turn the crash into an orderly exit: this must die by SIGSEGV */
__attribute__((no_sanitize("address", "undefined"))) __attribute__((constructor)) static void ctorcrash_init(void)
{
    signal(SIGSEGV, SIG_DFL);
    volatile int *volatile p = NULL;
    *p = 1;
}

static rd_status ctorcrash_retire(void *inst, const cJSON *learner, rd_call *call)
{
    return tp_ok(inst, learner, call, "retire");
}

static const rd_method ctorcrash_methods[] = {RD_METHOD("retire", ctorcrash_retire, NULL), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_ctorcrash =
    RD_DRIVER_INIT("CTORCRASH", "0.0.1", "crashes when loaded", tp_get_instance, tp_destroy, ctorcrash_methods);
