/* Fuzz target: the entry-point file parser (setup.cfg / entry_points.txt styles), twice per input
 * into one list (duplicate names across files). */
#include "fuzz.h"

#include "engine/ep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = fuzz_text(data, size);
    ep_list list;
    memset(&list, 0, sizeof list);
    ep_parse_text(&list, "/fuzz/a/retirement_driver.cfg", text);
    ep_parse_text(&list, "/fuzz/b/entry_points.txt", text);
    ep_list_free(&list);
    free(text);
    return 0;
}
