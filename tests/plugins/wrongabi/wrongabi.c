/* Test plugin "wrongabi": retirectl_driver_wrongabi claims ABI 99; retirectl_driver_small has
 * the right ABI but a struct_size smaller than rd_driver; retirectl_driver_abi1 looks like an
 * ABI-1 build; retirectl_driver_newer needs a newer minor revision of the ABI. */
#include "../testplugin.h"

static rd_status wrongabi_retire(void *inst, const cJSON *learner, rd_call *call)
{
    return tp_ok(inst, learner, call, "retire");
}

static const rd_method wrongabi_methods[] = {RD_METHOD("retire", wrongabi_retire, NULL), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_wrongabi = {
    99u, (uint32_t)sizeof(rd_driver), "WRONGABI", "0.0.1", "built for another ABI",
    tp_get_instance, tp_destroy, wrongabi_methods, 0u};

RD_EXPORT const rd_driver retirectl_driver_small = {
    RD_ABI_VERSION, 16u, "SMALL", "0.0.1", "descriptor too small", tp_get_instance, tp_destroy, wrongabi_methods,
    0u};

/* What an ABI-1 build looks like to the host: abi_version 1 first, as every ABI keeps it. */
RD_EXPORT const rd_driver retirectl_driver_abi1 = {
    1u, (uint32_t)sizeof(rd_driver), "ABI1", "0.0.1", "built against ABI 1", tp_get_instance, tp_destroy,
    wrongabi_methods, 0u};

/* Needs a host feature level this retirectl does not have. */
RD_EXPORT const rd_driver retirectl_driver_newer = {
    RD_ABI_VERSION, (uint32_t)sizeof(rd_driver), "NEWER", "0.0.1", "needs ABI 2.99", tp_get_instance, tp_destroy,
    wrongabi_methods, 99u};
