/* Fuzz target: console theme files. */
#include "fuzz.h"

#include "ui/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = fuzz_text(data, size);
    ui_theme t;
    memset(&t, 0, sizeof t);
    char err[1024];
    ui_theme_parse(&t, text, "fuzz.theme", err, sizeof err);
    free(text);
    return 0;
}
