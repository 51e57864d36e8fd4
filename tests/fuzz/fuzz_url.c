/* Fuzz target: username -> LMS URL. The invariant: whatever the username, it stays one path
 * segment under accounts/ (no '/', '?', '#', control or non-ASCII byte left unencoded, no
 * dot-segment), for three base URL shapes. A violation aborts. Empty usernames are refused
 * before any URL is built (CLI and queue), so they are skipped. */
#include "fuzz.h"

#include <stdio.h>

#include "engine/http.h"
#include "common/strbuf.h"

static void check(const char *base, const char *user)
{
    char *seg = http_url_escape_pchar(user);
    char *seg2 = http_url_escape(user);
    for (const unsigned char *p = (const unsigned char *)seg; *p; p++)
        if (*p == '/' || *p == '?' || *p == '#' || *p <= 0x20 || *p >= 0x7f) abort();
    for (const unsigned char *p = (const unsigned char *)seg2; *p; p++)
        if (*p == '/' || *p == '?' || *p == '#' || *p <= 0x20 || *p >= 0x7f) abort();
    if (!strcmp(seg, ".") || !strcmp(seg, "..")) abort();
    strbuf path = STRBUF_INIT;
    sb_addf(&path, "api/user/v1/accounts/%s/retirement_status", seg);
    char *url = http_url_join(base, sb_str(&path));
    strbuf want = STRBUF_INIT;
    sb_add(&want, base);
    if (want.len && sb_str(&want)[want.len - 1] != '/') sb_addc(&want, '/');
    sb_addf(&want, "api/user/v1/accounts/%s/retirement_status/", seg);
    if (strcmp(url, sb_str(&want)) != 0) {
        fprintf(stderr, "username %s: %s != %s\n", user, url, sb_str(&want));
        abort();
    }
    sb_free(&want);
    free(url);
    sb_free(&path);
    free(seg);
    free(seg2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096) return 0;
    char *user = fuzz_text(data, size);
    if (*user) {
        check("https://lms.example.com", user);
        check("https://lms.example.com/", user);
        check("http://127.0.0.1:8000/sub/path/", user);
    }
    free(user);
    return 0;
}
