/* The console's key table: no conflicts, read-only hides every state change, and the man
 * page's KEYS section (docs/retirectl.1) is exactly what the table generates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/keys.h"

static void test_no_key_bound_twice_in_a_view(void **state)
{
    (void)state;
    size_t n;
    const ui_key *k = ui_keys(&n);
    assert_true(n > 20);
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++) {
            if (!(k[a].views & k[b].views)) continue;
            for (int i = 0; i < UI_KEY_MAX_CODES && k[a].codes[i]; i++)
                for (int j = 0; j < UI_KEY_MAX_CODES && k[b].codes[j]; j++)
                    if (k[a].codes[i] == k[b].codes[j]) fail_msg("key %d bound to '%s' and '%s'", k[a].codes[i], k[a].help, k[b].help);
        }
}

static void test_every_entry_documented(void **state)
{
    (void)state;
    size_t n;
    const ui_key *k = ui_keys(&n);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(k[i].names);
        assert_true(strlen(k[i].help) > 5);
        assert_true(k[i].codes[0] != 0);
        assert_true(k[i].views != 0);
    }
}

static void test_lookup_and_vi_keys(void **state)
{
    (void)state;
    assert_int_equal(ui_key_lookup('j', UI_VIEW_LIST, 0), UA_DOWN);
    assert_int_equal(ui_key_lookup(KEY_DOWN, UI_VIEW_LIST, 0), UA_DOWN);
    assert_int_equal(ui_key_lookup('k', UI_VIEW_DETAIL, 0), UA_UP);
    assert_int_equal(ui_key_lookup(27, UI_VIEW_DETAIL, 0), UA_BACK);
    assert_int_equal(ui_key_lookup('\t', UI_VIEW_LIST, 0), UA_NEXT_TAB);
    assert_int_equal(ui_key_lookup('\t', UI_VIEW_DETAIL, 0), UA_NONE); /* tabs only in the list */
    assert_int_equal(ui_key_lookup('r', UI_VIEW_LIST, 0), UA_RETIRE);
    assert_int_equal(ui_key_lookup('x', UI_VIEW_DETAIL, 0), UA_RERUN);
    assert_int_equal(ui_key_lookup('Z', UI_VIEW_LIST, 0), UA_NONE);
}

static void test_read_only_hides_state_changes(void **state)
{
    (void)state;
    size_t n;
    const ui_key *k = ui_keys(&n);
    int changing = 0;
    for (size_t i = 0; i < n; i++) {
        if (!k[i].changes_state) continue;
        changing++;
        for (unsigned v = 1; v & UI_VIEW_ALL; v <<= 1)
            if (k[i].views & v) assert_int_equal(ui_key_lookup(k[i].codes[0], v, 1), UA_NONE);
    }
    assert_true(changing >= 5); /* retire, resume, rerun, cancel, reset */
    assert_int_equal(ui_key_lookup('p', UI_VIEW_LIST, 1), UA_PLAN); /* dry-run changes nothing */
    assert_int_equal(ui_key_lookup('r', UI_VIEW_LIST, 1), UA_NONE);
    assert_int_equal(ui_key_lookup('S', UI_VIEW_DETAIL, 1), UA_NONE);
}

static void test_man_page_matches_table(void **state)
{
    (void)state;
    const char *src = getenv("RETIRECTL_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/retirectl.1", src ? src : RETIRECTL_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s", path);
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char *section = ui_keys_man_section();
    if (!strstr(text, section))
        fail_msg("the KEYS section of %s differs from the key table; regenerate it with "
                 "`retirectl tui --print-keys-man` and paste it between the KEYS markers", path);
    size_t n;
    const ui_key *k = ui_keys(&n);
    size_t entries = 0, tps = 0;
    for (size_t i = 0; i < n; i++)
        for (unsigned v = 1; v & UI_VIEW_ALL; v <<= 1) entries += (k[i].views & v) != 0;
    for (const char *p = section; (p = strstr(p, ".TP\n")); p++) tps++;
    assert_int_equal(tps, entries); /* one man page entry per key per view */
    free(section);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_key_bound_twice_in_a_view), cmocka_unit_test(test_every_entry_documented),
        cmocka_unit_test(test_lookup_and_vi_keys), cmocka_unit_test(test_read_only_hides_state_changes),
        cmocka_unit_test(test_man_page_matches_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
