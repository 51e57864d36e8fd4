/* Unit tests for shard: parsing I/N and the stable, exact partition of usernames. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "engine/shard.h"

static void test_parse_valid(void **state)
{
    (void)state;
    shard_spec s;
    char err[256];
    assert_int_equal(shard_parse("0/1", &s, err, sizeof err), 0);
    assert_int_equal(s.index, 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(shard_parse("3/4", &s, err, sizeof err), 0);
    assert_int_equal(s.index, 3);
    assert_int_equal(s.count, 4);
    assert_int_equal(shard_parse("1023/1024", &s, err, sizeof err), 0);
    char buf[32];
    assert_string_equal(shard_format(&s, buf, sizeof buf), "1023/1024");
}

static void test_parse_invalid(void **state)
{
    (void)state;
    shard_spec s = {7, 9};
    char err[256];
    const char *bad[] = {"", "4/4", "5/4", "1", "/4", "1/", "-1/4", "1/-4", "1/0", "0/0",
                         " 1/4", "1/4 ", "1/4/2", "a/b", "1.0/4", "0/1025", "99999999999/2", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        assert_int_equal(shard_parse(bad[i], &s, err, sizeof err), -1);
        assert_non_null(strstr(err, "--shard"));
        assert_int_equal(s.index, 7); /* untouched on failure */
    }
    assert_int_equal(shard_parse("4/4", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "0..3"));
    assert_int_equal(shard_parse(NULL, &s, err, sizeof err), -1);
}

static void test_hash_known_values(void **state)
{
    (void)state;
    /* FNV-1a 64 reference values */
    assert_true(shard_hash("") == 0xcbf29ce484222325ULL);
    assert_true(shard_hash("a") == 0xaf63dc4c8601ec8cULL);
    assert_true(shard_hash("foobar") == 0x85944171f73967e8ULL);
    /* case and bytes matter: the original username as given */
    assert_true(shard_hash("Foo_username") != shard_hash("foo_username"));
}

static void test_partition_exact(void **state)
{
    (void)state;
    enum { USERS = 5000 };
    int counts_by_n[9][9];
    memset(counts_by_n, 0, sizeof counts_by_n);
    for (int n = 1; n <= 8; n++) {
        for (int u = 0; u < USERS; u++) {
            char name[64];
            snprintf(name, sizeof name, "learner_%04d%s", u, (u % 7 == 0) ? "+x@é" : "");
            int owners = 0, owner = -1;
            for (int i = 0; i < n; i++) {
                shard_spec s = {i, n};
                if (shard_contains(&s, name)) {
                    owners++;
                    owner = i;
                }
            }
            assert_int_equal(owners, 1); /* no overlap, no gap */
            assert_int_equal(owner, shard_of(name, n));
            counts_by_n[n][owner]++;
        }
        /* a reasonable spread: every shard gets at least half its fair share */
        for (int i = 0; i < n; i++) assert_true(counts_by_n[n][i] > USERS / n / 2);
    }
}

static void test_stable(void **state)
{
    (void)state;
    /* the same name lands in the same shard across calls and processes (pure function) */
    int first = shard_of("jane.doe", 16);
    for (int i = 0; i < 100; i++) assert_int_equal(shard_of("jane.doe", 16), first);
    assert_int_equal((int)(shard_hash("jane.doe") % 16), first);
    assert_int_equal(shard_of("anything", 1), 0);
    assert_int_equal(shard_of("anything", 0), 0);
    assert_true(shard_contains(NULL, "x"));
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),       cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_hash_known_values), cmocka_unit_test(test_partition_exact),
        cmocka_unit_test(test_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
