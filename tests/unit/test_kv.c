/* test_kv.c - the ordered string key/value list (cs/kv.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/kv.h"
#include "cs/mem.h"

/* l holds exactly these pairs, in this order */
static void assert_pairs(const struct kvlist *l, const char *const *pairs)
{
    size_t n = 0;
    for (size_t i = 0; pairs[i]; i += 2, n++) {
        assert_true(n < l->n);
        assert_string_equal(l->v[n].key, pairs[i]);
        assert_string_equal(l->v[n].val, pairs[i + 1]);
    }
    assert_int_equal(l->n, n);
}

static void test_set_get(void **state)
{
    (void)state;
    struct kvlist l = KVLIST_INIT;
    assert_null(kv_get(&l, "a"));
    kv_set(&l, "a", "1");
    kv_set(&l, "b", "2");
    kv_set(&l, "c", "3");
    assert_pairs(&l, (const char *const[]){"a", "1", "b", "2", "c", "3", NULL});
    /* replacing keeps the position */
    kv_set(&l, "b", "two");
    assert_pairs(&l, (const char *const[]){"a", "1", "b", "two", "c", "3", NULL});
    assert_string_equal(kv_get(&l, "b"), "two");
    /* keys match whole, case-sensitive */
    assert_null(kv_get(&l, "B"));
    assert_null(kv_get(&l, "bb"));
    assert_null(kv_get(&l, ""));
    kv_set(&l, "", "");
    assert_string_equal(kv_get(&l, ""), "");
    kv_set(&l, "ab", "x");
    assert_string_equal(kv_get(&l, "a"), "1");
    assert_string_equal(kv_get(&l, "ab"), "x");
    kv_free(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.v);
    kv_free(&l);
}

static void test_setn(void **state)
{
    (void)state;
    struct kvlist l = KVLIST_INIT;
    const char *line = "key=value;other";
    kv_setn(&l, line, 3, line + 4, 5);
    assert_string_equal(kv_get(&l, "key"), "value");
    kv_setn(&l, "keyX", 3, "v2", 2); /* same key from a longer buffer */
    assert_int_equal(l.n, 1);
    assert_string_equal(kv_get(&l, "key"), "v2");
    kv_setn(&l, "k", 1, "", 0);
    assert_string_equal(kv_get(&l, "k"), "");
    assert_null(kv_get(&l, "ke"));
    /* A key looked up that is longer than a stored one with the same start: the stored key is
     * read no further than its end (heap overflow under ASan before). */
    struct kvlist s = KVLIST_INIT;
    kv_set(&s, "conf.Boot.ca", "1");
    assert_null(kv_get(&s, "conf.Boot.calls.more"));
    kv_setn(&s, "conf.Boot.callsX", 15, "2", 1);
    assert_int_equal(s.n, 2);
    kv_free(&s);
    kv_free(&l);
}

static void test_del_clear_growth(void **state)
{
    (void)state;
    struct kvlist l = KVLIST_INIT;
    char k[16], v[16];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        kv_set(&l, k, v);
    }
    assert_int_equal(l.n, 100);
    assert_true(l.cap >= 100);
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        assert_string_equal(kv_get(&l, k), v);
    }
    /* deleting keeps the order of the rest */
    assert_true(kv_del(&l, "k0"));
    assert_true(kv_del(&l, "k50"));
    assert_true(kv_del(&l, "k99"));
    assert_false(kv_del(&l, "k50"));
    assert_false(kv_del(&l, "nope"));
    assert_int_equal(l.n, 97);
    assert_string_equal(l.v[0].key, "k1");
    assert_string_equal(l.v[48].key, "k49");
    assert_string_equal(l.v[49].key, "k51");
    assert_string_equal(l.v[96].key, "k98");
    assert_null(kv_get(&l, "k50"));

    /* clear keeps the memory, the list is usable again */
    size_t cap = l.cap;
    kv_clear(&l);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.cap, cap);
    assert_null(kv_get(&l, "k1"));
    kv_set(&l, "x", "y");
    assert_pairs(&l, (const char *const[]){"x", "y", NULL});
    kv_free(&l);
}

static void test_copy_equal(void **state)
{
    (void)state;
    struct kvlist a = KVLIST_INIT, b = KVLIST_INIT, e = KVLIST_INIT;
    kv_set(&a, "x", "1");
    kv_set(&a, "y", "2");
    kv_set(&b, "old", "gone");
    kv_copy(&b, &a);
    assert_pairs(&b, (const char *const[]){"x", "1", "y", "2", NULL});
    assert_true(kv_equal(&a, &b));
    /* the copy owns its strings */
    kv_set(&a, "x", "changed");
    assert_string_equal(kv_get(&b, "x"), "1");
    assert_false(kv_equal(&a, &b));

    /* order does not matter, values and sizes do */
    struct kvlist c = KVLIST_INIT;
    kv_set(&c, "y", "2");
    kv_set(&c, "x", "1");
    assert_true(kv_equal(&b, &c));
    assert_true(kv_equal(&c, &b));
    kv_set(&c, "z", "3");
    assert_false(kv_equal(&b, &c));
    assert_false(kv_equal(&c, &b));
    kv_del(&c, "z");
    kv_set(&c, "y", "20");
    assert_false(kv_equal(&b, &c));
    assert_true(kv_equal(&e, &e));
    assert_false(kv_equal(&e, &b));
    kv_copy(&c, &e);
    assert_true(kv_equal(&c, &e));
    kv_free(&a);
    kv_free(&b);
    kv_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get),
        cmocka_unit_test(test_setn),
        cmocka_unit_test(test_del_clear_growth),
        cmocka_unit_test(test_copy_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
