/* Test plugin "good": a well-behaved driver. retire (with preview) logs, reports progress and
 * returns OK; notfound returns RD_NOT_FOUND; fail returns RD_FAILED; config_echo returns the
 * config string at testplugin_echo (to test config lookups through the host). */
#include "../testplugin.h"

static rd_status good_retire(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    t->host->log(t->host, RD_LOG_INFO, "good: retiring %s", tp_username(learner));
    t->host->progress(t->host, "working on %s", tp_username(learner));
    return tp_ok(t, learner, call, "retire");
}

static rd_status good_preview(void *inst, const cJSON *learner, rd_call *call)
{
    (void)inst;
    const char *headers[] = {"Content-Type: application/json", NULL};
    rd_call_describe(call, "POST", "https://good.invalid/retire/", headers, "{}");
    rd_call_message(call, "would retire %s at good.invalid", tp_username(learner));
    return RD_OK;
}

static rd_status good_notfound(void *inst, const cJSON *learner, rd_call *call)
{
    (void)inst;
    rd_call_message(call, "nothing to delete for %s", tp_username(learner));
    return RD_NOT_FOUND;
}

static rd_status good_fail(void *inst, const cJSON *learner, rd_call *call)
{
    (void)inst;
    rd_call_message(call, "good.fail refused %s on purpose", tp_username(learner));
    return RD_FAILED;
}

static rd_status good_config_echo(void *inst, const cJSON *learner, rd_call *call)
{
    tp_instance *t = inst;
    (void)learner;
    const char *v = t->host->config_string(t->host, "testplugin_echo");
    rd_call_message(call, "echo=%s", v ? v : "(none)");
    return RD_OK;
}

static const rd_method good_methods[] = {
    RD_METHOD("retire", good_retire, good_preview),
    RD_METHOD("notfound", good_notfound, NULL),
    RD_METHOD("fail", good_fail, NULL),
    RD_METHOD("config_echo", good_config_echo, NULL),
    RD_METHODS_END,
};

RD_EXPORT const rd_driver retirectl_driver_good =
    RD_DRIVER_INIT("GOOD", "1.2.3", "well-behaved test driver", tp_get_instance, tp_destroy, good_methods);
