/* Test plugin "hang": retire never returns for the victims (sleeps forever); retire_stubborn
 * also ignores SIGTERM and SIGINT, so only SIGKILL ends it. A second descriptor,
 * retirectl_driver_hang_setup, hangs in get_instance. */
#include <signal.h>
#include <unistd.h>

#include "../testplugin.h"

static rd_status hang_retire(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    if (!tp_is_victim(t, learner)) return tp_ok(t, learner, call, "retire");
    for (;;) pause();
}

static rd_status hang_retire_stubborn(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    if (!tp_is_victim(t, learner)) return tp_ok(t, learner, call, "retire_stubborn");
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    for (;;) sleep(1);
}

static const rd_method hang_methods[] = {
    RD_METHOD("retire", hang_retire, NULL),
    RD_METHOD("retire_stubborn", hang_retire_stubborn, NULL),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_hang =
    RD_DRIVER_INIT("HANG", "0.0.1", "never returns from retire", tp_get_instance, tp_destroy, hang_methods);

/* retirectl_driver_hang_setup: get_instance never returns (the worker hangs before its first step). */
static void *hang_get_instance_forever(const cJSON *config, const rd_host *host, char *err, size_t err_len)
{
    (void)config;
    (void)host;
    (void)err;
    (void)err_len;
    for (;;) pause();
    return NULL;
}

RD_EXPORT const rd_driver retirectl_driver_hang_setup =
    RD_DRIVER_INIT("HANG_SETUP", "0.0.1", "never returns from get_instance", hang_get_instance_forever, tp_destroy,
                   hang_methods);
