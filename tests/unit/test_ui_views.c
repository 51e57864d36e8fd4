/* The console's view table (src/ui/console_internal.h, ui_view_ops): one entry per view, each
 * with its own key-table bit (so `?` help and dispatch agree), a way to draw and, except the
 * learner list, a way back; the status bar's hints name only keys the view has. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "ui/console_internal.h"
#include "ui/keys.h"

static void test_one_entry_per_view(void **state)
{
    (void)state;
    unsigned seen = 0;
    for (int v = 0; v < V_COUNT; v++) {
        const ui_view_ops *o = ui_view_of((view_t)v);
        assert_non_null(o);
        assert_non_null(o->draw);
        assert_int_equal(o->key_bit & (o->key_bit - 1), 0); /* one bit */
        assert_int_equal(seen & o->key_bit, 0);             /* its own */
        seen |= o->key_bit;
        assert_non_null(o->hint);
        assert_non_null(o->hint_read_only);
        if (v == V_LIST) {
            assert_null(o->close);                          /* the list is where Esc ends */
            assert_null(o->title);                          /* it draws the tabs row */
        } else {
            assert_non_null(o->close);
            assert_non_null(o->title);
        }
    }
    assert_int_equal(seen, UI_VIEW_ALL);                    /* every view of the key table */
}

/* Every "KEY word" of a hint is bound in the key table for that view (and, read-only, is not a
 * key that changes state). */
static void check_hint(const char *hint, unsigned bit, int read_only)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", hint);
    assert_int_equal(strncmp(copy, "? help", 6), 0);
    for (char *p = copy; *p;) {
        char *end = strstr(p, "  ");
        if (end) *end = '\0';
        char key[32];
        size_t kl = strcspn(p, " ");
        if (kl >= sizeof key) kl = sizeof key - 1;
        memcpy(key, p, kl);
        key[kl] = '\0';
        int code = !strcmp(key, "Enter") ? '\n' : !strcmp(key, "Esc") ? 27 : !strcmp(key, "Space") ? ' ' : key[0];
        if (ui_key_lookup(code, bit, read_only) == UA_NONE) fail_msg("hint \"%s\" names a key the view lacks", p);
        if (!end) break;
        p = end + 2;
    }
}

static void test_hints_name_bound_keys(void **state)
{
    (void)state;
    for (int v = 0; v < V_COUNT; v++) {
        const ui_view_ops *o = ui_view_of((view_t)v);
        check_hint(o->hint, o->key_bit, 0);
        check_hint(o->hint_read_only, o->key_bit, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_entry_per_view),
        cmocka_unit_test(test_hints_name_bound_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
