/* Test plugin "leak": every retire call allocates `testplugin_leak_mib` MiB (default 50), touches
 * every page and never frees it, then succeeds: a leaking driver, for worker recycling. */
#include <string.h>

#include "../testplugin.h"

/* Every block ever leaked stays reachable from here, so the compiler cannot drop the allocation. */
static char *volatile leaked_last;

static rd_status leak_retire(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    double mib = t->host && t->host->config_number ? t->host->config_number(t->host, "testplugin_leak_mib", 50) : 50;
    size_t n = (size_t)(mib * 1024 * 1024);
    char *p = malloc(n);
    if (p) memset(p, 0x5a, n); /* resident, and never freed */
    leaked_last = p;
    return tp_ok(t, learner, call, "retire");
}

static const rd_method leak_methods[] = {
    RD_METHOD("retire", leak_retire, NULL),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_leak =
    RD_DRIVER_INIT("LEAK", "0.0.1", "leaks memory in retire", tp_get_instance, tp_destroy, leak_methods);
