/* roff: text made safe for a man page (see roff.h). */
#include "common/roff.h"

void roff_add(strbuf *sb, const char *text, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if ((i == 0 || text[i - 1] == '\n') && (c == '.' || c == '\'')) sb_add(sb, "\\&");
        if (c == '-') sb_add(sb, "\\-");
        else if (c == '\\') sb_add(sb, "\\e");
        else sb_addc(sb, c);
    }
}
