/* Fuzz target: what retirectl does with LMS and vendor answers and with its own event lines:
 * Python repr of a JSON body and the JSONDecodeError text (what is recorded at the LMS), the
 * console's queue reader, job event parsing and job specs, and a cJSON round trip. */
#include "fuzz.h"

#include <stdio.h>

#include <cjson/cJSON.h>

#include "drivers/pyrepr.h"
#include "engine/ev.h"
#include "engine/job_internal.h"
#include "engine/lms.h"
#include "ui/fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    /* pyrepr_json's len 0 means "NUL-terminated" (response bodies always are): pass the copy */
    char *text = fuzz_text(data, size);
    const char *body = text;
    free(pyrepr_json(body, size));
    free(pyrepr_json_error(body, size));
    ev_event e;
    if (ev_parse(text, &e) == 0) ev_event_free(&e);
    job_spec spec;
    void *holder = NULL;
    if (job_spec_decode(text, &spec, &holder) == 0) cJSON_Delete(holder);
    cJSON *j = cJSON_ParseWithLength(body, size);
    if (j) {
        free(lms_json_dumps(j));
        cJSON_Delete(j);
    }
    FILE *out = fopen("/dev/null", "w");
    if (out) {
        char err[512];
        ui_fetch_emit_queue(body, size, out, err, sizeof err);
        fclose(out);
    }
    free(text);
    return 0;
}
