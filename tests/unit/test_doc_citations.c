/* The repository's documentation stands alone: no source file or doc cites a document that is
 * not in the repository (the upstream spec by section, a design file or a record of decisions kept
 * elsewhere), and every "docs/lms-api.md §N" or "docs/architecture.md §N" cited names a section
 * (heading, table row or bold list item numbered N) that exists. */
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Texts that point outside the repository. Split so this file does not match itself. */
static const char *const FORBIDDEN[] = {
    "spec " "\xc2\xa7",          /* the upstream API spec, cited by section number */
    "DESIGN" ".md",             /* the design file of the development setup */
    "decision" " record",       /* a record of decisions kept upstream */
    "thirdparty-" "drivers.md", /* the vendor spec */
    "lms-retirement-" "api.md",
    "../" "shared/",
    "/work/" "shared",
};

static char problems[8192];
static size_t n_problems;

/* Adds one line to the report (kept short enough to print). */
static void problem(const char *fmt, ...)
{
    size_t used = strlen(problems);
    if (used + 200 < sizeof problems) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(problems + used, sizeof problems - used, fmt, ap);
        va_end(ap);
        strcat(problems, "\n");
    }
    n_problems++;
}

/* Reads a whole file (NUL-terminated), NULL if it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

/* Non-zero when docs/<doc> has a heading "## N." / "### N " for section number sec. */
static int has_section(const char *doc, const char *sec)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/%s", RETIRECTL_SOURCE_DIR, doc);
    char *text = slurp(path);
    if (!text) return 0;
    int found = 0;
    size_t sl = strlen(sec);
    for (char *line = text; line && *line && !found; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        /* a heading "### 3.2 Title", a table row "| 5.4 | ...", or a list item "* **6.1 Title**" */
        char *p = line;
        if (*p == '#') {
            while (*p == '#') p++;
        } else if (*p == '|') {
            p++;
        } else if (strncmp(p, "* **", 4) == 0) {
            p += 4;
        } else {
            continue;
        }
        while (*p == ' ') p++;
        if (strncmp(p, sec, sl) == 0 && (p[sl] == ' ' || (p[sl] == '.' && p[sl + 1] == ' '))) found = 1;
    }
    free(text);
    return found;
}

/* Line number of offset off in text. */
static int line_of(const char *text, const char *at)
{
    int line = 1;
    for (const char *p = text; p < at; p++)
        if (*p == '\n') line++;
    return line;
}

/* Checks each "docs/NAME.md" (and a following "§N[.M]") cited in text. */
static void check_citations(const char *rel, const char *text)
{
    for (const char *p = strstr(text, "docs/"); p; p = strstr(p + 5, "docs/")) {
        if (p > text && (p[-1] == '/' || p[-1] == '.' || p[-1] == '_' || p[-1] == '-')) continue;
        size_t n = strspn(p + 5, "abcdefghijklmnopqrstuvwxyz0123456789-_.");
        if (n < 4 || strncmp(p + 5 + n - 3, ".md", 3) != 0) continue;
        char doc[128];
        snprintf(doc, sizeof doc, "%.*s", (int)n, p + 5);
        /* the two documents that replaced the outside ones must exist and have the sections cited
         * (other docs/ files are checked by their own owners' tests) */
        if (strcmp(doc, "lms-api.md") != 0 && strcmp(doc, "architecture.md") != 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/docs/%s", RETIRECTL_SOURCE_DIR, doc);
        FILE *f = fopen(path, "r");
        if (!f) {
            problem("%s:%d: cites docs/%s, which does not exist", rel, line_of(text, p), doc);
            continue;
        }
        fclose(f);
        /* the section numbers that follow, e.g. "docs/lms-api.md §5.5-§5.17" or "§3.4, §9.1" */
        const char *q = p + 5 + n;
        for (int k = 0; k < 6; k++) {
            const char *s = strstr(q, "\xc2\xa7");
            if (!s || s - q > 4 || memchr(q, '\n', (size_t)(s - q))) break;
            s += 2;
            size_t sl = strspn(s, "0123456789.");
            while (sl > 0 && s[sl - 1] == '.') sl--;
            if (sl == 0) break;
            char sec[32];
            snprintf(sec, sizeof sec, "%.*s", (int)sl, s);
            if (!has_section(doc, sec))
                problem("%s:%d: cites docs/%s \xc2\xa7%s, which has no such section", rel, line_of(text, p), doc,
                        sec);
            q = s + sl;
        }
    }
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type != FTW_F) return 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    int ok = strcmp(base, "CMakeLists.txt") == 0 ||
             (dot && (!strcmp(dot, ".c") || !strcmp(dot, ".h") || !strcmp(dot, ".sh") || !strcmp(dot, ".md") ||
                      !strcmp(dot, ".cmake") || !strcmp(dot, ".py") || !strcmp(dot, ".in")));
    if (!ok || strstr(path, "/node_modules/")) return 0;
    char *text = slurp(path);
    if (!text) return 0;
    const char *rel = path + strlen(RETIRECTL_SOURCE_DIR) + 1;
    for (size_t i = 0; i < sizeof FORBIDDEN / sizeof *FORBIDDEN; i++) {
        const char *hit = strstr(text, FORBIDDEN[i]);
        if (hit)
            problem("%s:%d: cites \"%s\", which is not in the repository; cite a section of docs/ instead "
                    "(docs/lms-api.md, docs/architecture.md, docs/vendors.md)",
                    rel, line_of(text, hit), FORBIDDEN[i]);
    }
    check_citations(rel, text);
    free(text);
    return 0;
}

/* Every source, script, build file and doc of the tree. */
static void test_no_outside_citations(void **state)
{
    (void)state;
    static const char *const dirs[] = {"src", "sim", "plugins", "include", "tests", "bench", "scripts", "docs"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", RETIRECTL_SOURCE_DIR, dirs[i]);
        assert_int_equal(nftw(path, visit, 16, FTW_PHYS), 0);
    }
    if (n_problems) fprintf(stderr, "%s", problems);
    assert_int_equal(n_problems, 0);
}

/* The checker itself finds what it must (so a passing run means something). */
static void test_checker_finds_problems(void **state)
{
    (void)state;
    n_problems = 0;
    problems[0] = '\0';
    check_citations("x.c", "/* see docs/lms-api.md \xc2\xa7" "99.1 and docs/architecture.md \xc2\xa7" "3.9 */");
    assert_int_equal(n_problems, 2);
    n_problems = 0;
    check_citations("x.c", "/* docs/lms-api.md \xc2\xa7" "5.5-\xc2\xa7" "5.17, docs/architecture.md \xc2\xa7" "3 */");
    assert_int_equal(n_problems, 0);
    problems[0] = '\0';
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_finds_problems),
        cmocka_unit_test(test_no_outside_citations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
