/* Test plugin "wrongabi": retirectl_driver_wrongabi claims ABI 99; retirectl_driver_small has
 * the right ABI but a struct_size smaller than rd_driver. */
#include "../testplugin.h"

static rd_status wrongabi_retire(void *inst, const cJSON *learner, rd_call *call)
{
    return tp_ok(inst, learner, call, "retire");
}

static const rd_method wrongabi_methods[] = {{"retire", wrongabi_retire, NULL}, {NULL, NULL, NULL}};

RD_EXPORT const rd_driver retirectl_driver_wrongabi = {
    99u, (uint32_t)sizeof(rd_driver), "WRONGABI", "0.0.1", "built for another ABI",
    tp_get_instance, tp_destroy, wrongabi_methods};

RD_EXPORT const rd_driver retirectl_driver_small = {
    RD_ABI_VERSION, 16u, "SMALL", "0.0.1", "descriptor too small", tp_get_instance, tp_destroy, wrongabi_methods};
