/* retirectl-sim: a generic webhook receiver at /vendor/webhook/... for the WEBHOOK example
 * driver (plugins/example). The core logs every request it gets in GET /__sim/requests (method,
 * path, body, Authorization), which is what tests check; this route only answers:
 *   POST /vendor/webhook/status/NNN   -> status NNN (200..599) with {"status": NNN}
 *   POST /vendor/webhook[/anything]   -> 200 {"received": true}
 * Fault rules (endpoint "webhook" or a path substring) apply first. Other methods get 405. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

int vsim_webhook_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);

int vsim_webhook_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp)
{
    if (sim_fault_check(s, "webhook", req, NULL, resp)) return 1;
    if (strcmp(req->method, "POST") != 0) {
        sim_respond_json_string(resp, 405, "The webhook sink accepts POST only.");
        return 1;
    }
    if (strncmp(sub, "/status/", 8) == 0) {
        char *end = NULL;
        long status = strtol(sub + 8, &end, 10);
        if (end && (*end == '\0' || *end == '/') && status >= 200 && status <= 599) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "status", (double)status);
            sim_respond_json(resp, (int)status, o);
            return 1;
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "received", 1);
    sim_respond_json(resp, 200, o);
    return 1;
}
