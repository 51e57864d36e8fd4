/* Unit tests of the entry-point parser (src/engine/ep.c): both file styles, comments,
 * continuation lines, relative paths, line numbers, malformed files, duplicates and unsafe files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/ep.h"
#include "simproc.h"

/* Writes content to a fresh file with mode 0644 and returns its path (malloc'd). */
static char *write_file(const char *name, const char *content)
{
    char *path = write_temp_file(name, content);
    assert_non_null(path);
    assert_int_equal(chmod(path, 0644), 0);
    return path;
}

/* The entry called name, or NULL. */
static const ep_entry *entry(const ep_list *l, const char *name)
{
    for (size_t i = 0; i < l->n_entries; i++)
        if (strcmp(l->entries[i].name, name) == 0) return &l->entries[i];
    return NULL;
}

/* Returns the folder of path + "/" + rel (malloc'd), to compare resolved paths. */
static char *beside(const char *path, const char *rel)
{
    const char *slash = strrchr(path, '/');
    size_t n = (size_t)(slash - path) + strlen(rel) + 2;
    char *out = malloc(n);
    snprintf(out, n, "%.*s/%s", (int)(slash - path), path, rel);
    return out;
}

/* Non-zero when some problem's message contains all the given fragments (NULL-terminated). */
static int has_problem(const ep_list *l, const char *a, const char *b, const char *c)
{
    for (size_t i = 0; i < l->n_problems; i++) {
        const char *m = l->problems[i].message;
        if (strstr(m, a) && (!b || strstr(m, b)) && (!c || strstr(m, c))) return 1;
    }
    return 0;
}

static void test_setup_cfg_style(void **state)
{
    (void)state;
    const char *text = "# setup.cfg of a plugin package\n"                        /* 1 */
                       "[metadata]\n"                                            /* 2 */
                       "name = acme-retirement\n"                                /* 3 */
                       "\n"                                                      /* 4 */
                       "[options.entry_points]\n"                                /* 5 */
                       "console_scripts =\n"                                     /* 6 */
                       "    acme = acme.cli:main\n"                              /* 7 */
                       "; the group we read\n"                                   /* 8 */
                       "retirement_driver =\n"                                   /* 9 */
                       "    # comment inside the block\n"                        /* 10 */
                       "    WEBHOOK = example/example.so:retirectl_driver_webhook\n" /* 11 */
                       "\n"                                                      /* 12 */
                       "    ACME_CRM = /opt/acme/crm.so:acme_crm   # inline comment\n" /* 13 */
                       "other_group =\n"                                         /* 14 */
                       "    NOT_A_DRIVER = x.so:y\n"                             /* 15 */
                       "[options]\n"                                             /* 16 */
                       "ALSO_NOT = z.so:w\n";                                    /* 17 */
    char *path = write_file("setup.cfg", text);
    ep_list l = {0};
    assert_int_equal(ep_parse_file(&l, path), 0);
    assert_int_equal(l.n_entries, 2);
    const ep_entry *w = entry(&l, "WEBHOOK");
    assert_non_null(w);
    char *expect = beside(path, "example/example.so");
    assert_string_equal(w->file, expect);
    free(expect);
    assert_string_equal(w->symbol, "retirectl_driver_webhook");
    assert_string_equal(w->source, path);
    assert_int_equal(w->line, 11);
    const ep_entry *a = entry(&l, "ACME_CRM");
    assert_non_null(a);
    assert_string_equal(a->file, "/opt/acme/crm.so");
    assert_string_equal(a->symbol, "acme_crm");
    assert_int_equal(a->line, 13);
    assert_null(entry(&l, "NOT_A_DRIVER"));
    assert_null(entry(&l, "ALSO_NOT"));
    ep_list_free(&l);
    free(path);
}

static void test_entry_points_txt_style_with_continuation_and_crlf(void **state)
{
    (void)state;
    const char *text = "[console_scripts]\r\n"                /* 1 */
                       "tool = pkg:main\r\n"                  /* 2 */
                       "\r\n"                                 /* 3 */
                       "[retirement_driver]\r\n"              /* 4 */
                       "BRAZE = braze/braze.so:retirectl_driver_braze\r\n" /* 5 */
                       "SPLIT =\r\n"                          /* 6 */
                       "    split/split.so:split_sym\r\n"     /* 7 */
                       "  ; a comment\r\n"                    /* 8 */
                       "LAST=last.so:last\r\n";               /* 9 */
    char *path = write_file("entry_points.txt", text);
    ep_list l = {0};
    assert_int_equal(ep_parse_file(&l, path), 0);
    assert_int_equal(l.n_entries, 3);
    const ep_entry *s = entry(&l, "SPLIT");
    assert_non_null(s);
    assert_int_equal(s->line, 6);
    char *expect = beside(path, "split/split.so");
    assert_string_equal(s->file, expect);
    free(expect);
    assert_string_equal(s->symbol, "split_sym");
    assert_int_equal(entry(&l, "BRAZE")->line, 5);
    assert_int_equal(entry(&l, "LAST")->line, 9);
    assert_string_equal(entry(&l, "LAST")->symbol, "last");
    assert_null(entry(&l, "tool"));
    ep_list_free(&l);
    free(path);
}

static void test_value_on_group_line_and_setup_continuation(void **state)
{
    (void)state;
    const char *text = "[options.entry_points]\n"
                       "retirement_driver = FIRST = first.so:first_sym\n"
                       "    SECOND =\n"
                       "        second.so:second_sym\n";
    ep_list l = {0};
    assert_int_equal(ep_parse_text(&l, "/etc/retirectl/drivers.cfg", text), 0);
    assert_int_equal(l.n_entries, 2);
    assert_string_equal(entry(&l, "FIRST")->file, "/etc/retirectl/first.so");
    assert_int_equal(entry(&l, "FIRST")->line, 2);
    assert_string_equal(entry(&l, "SECOND")->file, "/etc/retirectl/second.so");
    assert_int_equal(entry(&l, "SECOND")->line, 3);
    ep_list_free(&l);
}

static void test_malformed_lines_name_file_and_line(void **state)
{
    (void)state;
    const char *text = "[retirement_driver]\n"               /* 1 */
                       "NOCOLON = plugin.so\n"               /* 2 */
                       "BAD NAME = x.so:sym\n"               /* 3 */
                       "BADSYM = x.so:not-a-symbol\n"        /* 4 */
                       "no equals sign here\n"               /* 5 */
                       "   indented = orphan.so:x\n"         /* 6 */
                       "NOFILE = :sym\n"                     /* 7 */
                       "GOOD = good.so:good\n"               /* 8 */
                       "[unclosed\n"                         /* 9 */
                       "[retirement_driver]\n"               /* 10 */
                       "EMPTY =\n";                          /* 11: value never comes */
    ep_list l = {0};
    int n = ep_parse_text(&l, "/x/bad.cfg", text);
    assert_int_equal(n, (int)l.n_problems);
    assert_int_equal(l.n_problems, 8);
    assert_int_equal(l.n_entries, 1);
    assert_non_null(entry(&l, "GOOD"));
    assert_true(has_problem(&l, "/x/bad.cfg:2:", "NOCOLON", ":symbol"));
    assert_true(has_problem(&l, "/x/bad.cfg:3:", "'BAD NAME' is not a valid driver name", NULL));
    assert_true(has_problem(&l, "/x/bad.cfg:4:", "not-a-symbol", "is not a C symbol"));
    assert_true(has_problem(&l, "/x/bad.cfg:5:", "no equals sign here", NULL));
    assert_true(has_problem(&l, "/x/bad.cfg:6:", "continues nothing", NULL));
    assert_true(has_problem(&l, "/x/bad.cfg:7:", "NOFILE", "names no shared object"));
    assert_true(has_problem(&l, "/x/bad.cfg:9:", "no closing ']'", NULL));
    assert_true(has_problem(&l, "/x/bad.cfg:11:", "EMPTY has no value", NULL));
    /* problems about one driver carry its name so the registry can attach them */
    int named = 0;
    for (size_t i = 0; i < l.n_problems; i++) {
        if (l.problems[i].name && strcmp(l.problems[i].name, "NOCOLON") == 0) {
            named = 1;
            assert_int_equal(l.problems[i].line, 2);
            assert_string_equal(l.problems[i].source, "/x/bad.cfg");
        }
    }
    assert_true(named);
    ep_list_free(&l);
}

static void test_text_before_section_and_empty_file(void **state)
{
    (void)state;
    ep_list l = {0};
    assert_int_equal(ep_parse_text(&l, "/x/headless.cfg", "WEBHOOK = a.so:b\n"), 1);
    assert_true(has_problem(&l, "/x/headless.cfg:1:", "before any section", "[options.entry_points]"));
    assert_int_equal(l.n_entries, 0);
    ep_list_free(&l);

    assert_int_equal(ep_parse_text(&l, "/x/empty.cfg", "# nothing\n\n"), 1);
    assert_true(has_problem(&l, "/x/empty.cfg", "no retirement_driver group", NULL));
    ep_list_free(&l);
}

static void test_duplicates_name_both_places(void **state)
{
    (void)state;
    ep_list l = {0};
    assert_int_equal(ep_parse_text(&l, "/a/first.cfg", "[retirement_driver]\nX = x1.so:x\nY = y.so:y\n"), 0);
    assert_int_equal(ep_parse_text(&l, "/b/second.cfg", "[options.entry_points]\nretirement_driver =\n"
                                                         "    Z = z.so:z\n    X = x2.so:x\n"),
                     1);
    assert_true(has_problem(&l, "driver X is defined twice", "/a/first.cfg:2", "/b/second.cfg:4"));
    assert_int_equal(l.n_entries, 3);
    assert_string_equal(entry(&l, "X")->file, "/a/x1.so"); /* the first definition is kept */
    assert_string_equal(l.problems[0].name, "X");
    /* a duplicate inside one file too */
    assert_int_equal(ep_parse_text(&l, "/c/third.cfg", "[retirement_driver]\nW = w.so:w\nW = w2.so:w\n"), 1);
    assert_true(has_problem(&l, "driver W is defined twice", "/c/third.cfg:2", "/c/third.cfg:3"));
    ep_list_free(&l);
}

static void test_missing_and_unsafe_files(void **state)
{
    (void)state;
    ep_list l = {0};
    assert_int_equal(ep_parse_file(&l, "/nonexistent/retirectl/drivers.cfg"), 1);
    assert_true(has_problem(&l, "/nonexistent/retirectl/drivers.cfg", "cannot be read", NULL));
    ep_list_free(&l);

    char *path = write_file("drivers.cfg", "[retirement_driver]\nEVIL = evil.so:evil\n");
    assert_int_equal(chmod(path, 0666), 0);
    int n = ep_parse_file(&l, path);
    assert_int_equal(n, 2); /* one for the file, one attached to the driver it names */
    assert_int_equal(l.n_entries, 0);
    assert_true(has_problem(&l, path, "writable by everyone", "chmod go-w"));
    int attached = 0;
    for (size_t i = 0; i < l.n_problems; i++)
        if (l.problems[i].name && strcmp(l.problems[i].name, "EVIL") == 0 && l.problems[i].line == 2) attached = 1;
    assert_true(attached);
    ep_list_free(&l);

    assert_int_equal(chmod(path, 0664), 0);
    assert_int_equal(ep_parse_file(&l, path), 2);
    assert_true(has_problem(&l, path, "writable by its group", NULL));
    ep_list_free(&l);

    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(ep_parse_file(&l, path), 0);
    assert_int_equal(l.n_entries, 1);
    ep_list_free(&l);

    char err[1024];
    assert_int_equal(ep_check_file_safe("/tmp", "plugin", err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));

    if (geteuid() == 0) {
        /* owned by another user (not root, not us) */
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(ep_parse_file(&l, path), 2);
        assert_true(has_problem(&l, path, "owned by another user", "uid 65534"));
        ep_list_free(&l);
    }
    unlink(path);
    free(path);
}

/* Mutated and random inputs: never a crash (run under ASan in CI), every entry well-formed and
 * every problem naming the file. Deterministic (fixed seed). */
static void test_mutated_inputs(void **state)
{
    (void)state;
    const char *seeds[] = {
        "[options.entry_points]\nretirement_driver =\n    A = a/a.so:sym_a\n    B =\n        b.so:b\n",
        "[retirement_driver]\nA = a.so:a\n; c\n# c\nB=b.so:b\n[x]\ny = z\n",
    };
    const char alphabet[] = "[]=:#; \t\nAB_.-/\\\"\r\x01\xff";
    unsigned long rng = 12345;
    char buf[512];
    for (int round = 0; round < 20000; round++) {
        const char *seed = seeds[round % 2];
        size_t n = strlen(seed);
        memcpy(buf, seed, n + 1);
        int edits = 1 + round % 8;
        for (int k = 0; k < edits; k++) {
            rng = rng * 6364136223846793005UL + 1442695040888963407UL;
            size_t pos = (size_t)(rng >> 33) % (n + 1);
            char c = alphabet[(rng >> 17) % (sizeof alphabet - 1)];
            switch ((rng >> 9) % 3) {
            case 0: /* replace */
                if (pos < n) buf[pos] = c;
                break;
            case 1: /* insert */
                if (n + 1 < sizeof buf) {
                    memmove(buf + pos + 1, buf + pos, n - pos + 1);
                    buf[pos] = c;
                    n++;
                }
                break;
            default: /* delete */
                if (pos < n) {
                    memmove(buf + pos, buf + pos + 1, n - pos);
                    n--;
                }
            }
        }
        ep_list l = {0};
        ep_parse_text(&l, "/fz/drivers.cfg", buf);
        for (size_t i = 0; i < l.n_entries; i++) {
            assert_true(l.entries[i].name[0] != '\0');
            assert_true(l.entries[i].symbol[0] != '\0');
            assert_true(l.entries[i].file[0] != '\0');
            assert_true(l.entries[i].line >= 1);
        }
        for (size_t i = 0; i < l.n_problems; i++) assert_non_null(strstr(l.problems[i].message, "/fz/drivers.cfg"));
        ep_list_free(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_cfg_style),
        cmocka_unit_test(test_entry_points_txt_style_with_continuation_and_crlf),
        cmocka_unit_test(test_value_on_group_line_and_setup_continuation),
        cmocka_unit_test(test_malformed_lines_name_file_and_line),
        cmocka_unit_test(test_text_before_section_and_empty_file),
        cmocka_unit_test(test_duplicates_name_both_places),
        cmocka_unit_test(test_missing_and_unsafe_files),
        cmocka_unit_test(test_mutated_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
