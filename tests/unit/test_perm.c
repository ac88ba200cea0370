/* test_perm.c - the keyed Feistel permutation (cs/perm.h): a bijection for every size, the
 * inverse, determinism per seed, spread, and O(1) cost at the largest fleet sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cs/mem.h"
#include "cs/perm.h"
#include "cs/util.h"

/* Every n from 1 to 600, a few seeds: each x lands on a distinct position inside [0, n), and
 * the inverse brings it back. */
static void test_bijection(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {0, 1, 42, 0xdeadbeefULL};
    bool *seen = cs_calloc(600, sizeof(*seen));
    for (size_t s = 0; s < ARRAY_SIZE(seeds); s++) {
        for (uint64_t n = 1; n <= 600; n++) {
            struct perm p;
            perm_init(&p, n, seeds[s]);
            memset(seen, 0, 600 * sizeof(*seen));
            for (uint64_t x = 0; x < n; x++) {
                uint64_t y = perm_fwd(&p, x);
                assert_true(y < n);
                assert_false(seen[y]);
                seen[y] = true;
                assert_int_equal(perm_inv(&p, y), x);
            }
        }
    }
    cs_free(seen);
}

/* Large sizes: samples round-trip, the same seed agrees, another seed differs. */
static void test_large(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {100000000, 99999989, (uint64_t)1 << 32, PERM_MAX};
    struct cs_rng rng;
    cs_rng_seed(&rng, 7);
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        struct perm a, b, c;
        perm_init(&a, sizes[i], 5);
        perm_init(&b, sizes[i], 5);
        perm_init(&c, sizes[i], 6);
        unsigned differ = 0;
        for (int k = 0; k < 20000; k++) {
            uint64_t x = cs_rng_below(&rng, sizes[i]);
            uint64_t y = perm_fwd(&a, x);
            assert_true(y < sizes[i]);
            assert_int_equal(perm_inv(&a, y), x);
            assert_int_equal(perm_fwd(&b, x), y);
            differ += perm_fwd(&c, x) != y;
        }
        assert_true(differ > 19900);
    }
}

/* The first k positions are spread over the whole range, not clustered at the start. */
static void test_spread(void **state)
{
    (void)state;
    const uint64_t n = 100000, k = 1000;
    struct perm p;
    perm_init(&p, n, 3);
    unsigned buckets[10] = {0};
    for (uint64_t y = 0; y < k; y++)
        buckets[perm_inv(&p, y) * 10 / n]++;
    for (int b = 0; b < 10; b++) {
        print_message("  decile %d: %u\n", b, buckets[b]);
        assert_true(buckets[b] > 60 && buckets[b] < 140);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bijection),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
