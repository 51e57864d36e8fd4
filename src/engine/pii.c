/* pii: personal data and secrets kept out of the audit log and the history. See pii.h. */
#include "engine/pii.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

/* Replaces every case-insensitive occurrence of needle in *s by repl (s is malloc'd). */
void pii_replace_all(char **s, const char *needle, const char *repl)
{
    size_t nl = strlen(needle);
    if (!nl || !*s) return;
    if (!strcasestr(*s, needle)) return;
    strbuf sb = STRBUF_INIT;
    const char *p = *s;
    const char *hit;
    while ((hit = strcasestr(p, needle))) {
        sb_addn(&sb, p, (size_t)(hit - p));
        sb_add(&sb, repl);
        p = hit + nl;
    }
    sb_add(&sb, p);
    free(*s);
    *s = sb_take(&sb);
}

static int email_local_char(int c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\'';
}

static int email_domain_char(int c) { return isalnum(c) || c == '.' || c == '-' || c >= 0x80; }

/* Replaces anything shaped like local@domain.tld in *s (malloc'd) by "[redacted]". */
void pii_scrub_emails(char **s)
{
    if (!*s || !strchr(*s, '@')) return;
    strbuf sb = STRBUF_INIT;
    const unsigned char *str = (const unsigned char *)*s;
    size_t n = strlen(*s), copied = 0;
    for (size_t i = 0; i < n; i++) {
        if (str[i] != '@') continue;
        size_t l = i;
        while (l > copied && (email_local_char(str[l - 1]) || str[l - 1] >= 0x80)) l--;
        size_t r = i + 1;
        int dot = 0;
        while (r < n && email_domain_char(str[r])) {
            if (str[r] == '.' && r + 1 < n && email_domain_char(str[r + 1])) dot = 1;
            r++;
        }
        if (l == i || !dot) continue;
        sb_addn(&sb, *s + copied, l - copied);
        sb_add(&sb, "[redacted]");
        copied = r;
        i = r - 1;
    }
    sb_add(&sb, *s + copied);
    free(*s);
    *s = sb_take(&sb);
}

/* The login name: getlogin, $USER/$LOGNAME, the uid's passwd entry, else "uid N". malloc'd. */
char *pii_login_name(void)
{
    char buf[256];
    if (getlogin_r(buf, sizeof buf) == 0 && buf[0]) return xstrdup(buf);
    const char *u = getenv("USER");
    if (!u || !*u) u = getenv("LOGNAME");
    if (u && *u) return xstrdup(u);
    struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name) return xstrdup(pw->pw_name);
    snprintf(buf, sizeof buf, "uid %u", (unsigned)getuid());
    return xstrdup(buf);
}
