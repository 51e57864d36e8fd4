/* Fuzz target: the YAML config loader (libyaml -> cJSON, anchors, aliases, merges, ${NAME}),
 * validation, the redacted copy and the scrubber on the input text. */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "engine/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = fuzz_text(data, size);
    cfg *c = NULL;
    char err[2048];
    if (cfg_load_string(text, "fuzz.yml", &c, err, sizeof err) == 0) {
        cfg_validate(c, err, sizeof err);
        cJSON *j = cfg_redacted_json(c);
        cJSON_Delete(j);
        free(cfg_redact(c, text));
        free(cfg_redact_cut(c, text, 1));
        free(cfg_redact_bounded(c, text, 100));
        free(cfg_short_secrets(c));
        for (size_t i = 0; i < c->n_steps; i++) free(cfg_step_repr(&c->steps[i]));
        cfg_free(c);
    }
    free(text);
    return 0;
}
