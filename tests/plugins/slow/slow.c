/* Test plugin "slow": retire sleeps `testplugin_sleep_seconds` (default 3) for the victims, then
 * succeeds; it ignores the host's cancellation flag, as a driver in a long blocking call would.
 * Used by the fault matrix to hold a step in flight while the supervisor or the worker is killed. */
#include <time.h>

#include "../testplugin.h"

static rd_status slow_retire(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    if (tp_is_victim(t, learner)) {
        double secs = t->host && t->host->config_number ? t->host->config_number(t->host, "testplugin_sleep_seconds", 3) : 3;
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        while (nanosleep(&ts, &ts) != 0) {
        }
    }
    return tp_ok(t, learner, call, "retire");
}

static const rd_method slow_methods[] = {
    RD_METHOD("retire", slow_retire, NULL),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_slow =
    RD_DRIVER_INIT("SLOW", "0.0.1", "sleeps in retire", tp_get_instance, tp_destroy, slow_methods);
