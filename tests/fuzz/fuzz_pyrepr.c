/* Fuzz target: the Python repr / json.dumps emitters (the texts recorded at the LMS must be
 * byte-identical to upstream's): the engine's pyrepr_str / lms_json_dumps and the vendor
 * plugins' vendorkit walker. Checks that json.dumps output is JSON that parses back. */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "drivers/pyrepr.h"
#include "engine/lms.h"
#include "../../plugins/vendorkit/vendorkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = fuzz_text(data, size);
    free(pyrepr_str(text));
    free(pyrepr_http_error((long)(size % 600), text));
    cJSON *s = cJSON_CreateString(text);
    char *dumped = lms_json_dumps(s);
    if (dumped) {
        cJSON *back = cJSON_Parse(dumped);
        if (!back) abort(); /* json.dumps of a string must be JSON */
        cJSON_Delete(back);
        free(dumped);
    }
    cJSON_Delete(s);
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (j) {
        vk_buf b;
        memset(&b, 0, sizeof b);
        vk_dumps(&b, j);
        vk_pyrepr(&b, j);
        vk_pybytes_repr(&b, text);
        free(b.s);
        cJSON_Delete(j);
    }
    free(text);
    return 0;
}
