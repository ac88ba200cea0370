/* test_hist.c - the log-linear latency histogram (cs/hist.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/err.h"
#include "cs/hist.h"
#include "cs/stats.h"
#include "cs/mem.h"
#include "cs/util.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact value at the rank hist_quantile uses. */
static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
    uint64_t rank = (uint64_t)(q * (double)n);
    if (rank >= n)
        rank = n - 1;
    return sorted[rank];
}

/* The reported bound is the upper end of the exact value's bucket: never below it, and at most
 * 25% above it (4 sub-buckets per power of two; values below 16 are exact). */
static void assert_within_resolution(uint64_t got, uint64_t exact, uint64_t max)
{
    assert_true(got >= exact);
    assert_true(got <= max);
    if (exact < 16)
        assert_int_equal(got, exact);
    else
        assert_true(got <= exact + exact / 4);
}

static void test_empty(void **state)
{
    (void)state;
    struct hist h;
    memset(&h, 0, sizeof(h));
    assert_int_equal(hist_quantile(&h, 0.5), 0);
    assert_int_equal(hist_quantile(&h, 1.0), 0);
    struct buf b = BUF_INIT;
    hist_format(&h, &b);
    assert_string_equal(buf_cstr(&b), "");
    struct hist back;
    assert_int_equal(hist_parse(&back, ""), CS_OK);
    assert_memory_equal(&back, &h, sizeof(h));
    buf_free(&b);
}

static void test_small_values_exact(void **state)
{
    (void)state;
    struct hist h;
    memset(&h, 0, sizeof(h));
    for (uint64_t v = 0; v < 16; v++)
        hist_add(&h, v);
    assert_int_equal(h.count, 16);
    assert_int_equal(h.sum, 120);
    assert_int_equal(h.max, 15);
    for (uint64_t v = 0; v < 16; v++)
        assert_int_equal(hist_quantile(&h, (double)v / 16.0), v);
    assert_int_equal(hist_quantile(&h, 1.0), 15);
    assert_int_equal(hist_quantile(&h, 0.0), 0);
}

/* Quantiles over random values of very different magnitudes. */
static void test_quantiles(void **state)
{
    (void)state;
    static const double qs[] = {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0};
    struct cs_rng rng;
    cs_rng_seed(&rng, 42);
    for (int iter = 0; iter < 200; iter++) {
        size_t n = 1 + (size_t)cs_rng_below(&rng, 500);
        uint64_t *v = cs_malloc(n * sizeof(*v));
        struct hist h;
        memset(&h, 0, sizeof(h));
        uint64_t sum = 0, max = 0;
        unsigned bits = 1 + (unsigned)cs_rng_below(&rng, 36);
        for (size_t i = 0; i < n; i++) {
            v[i] = cs_rng_below(&rng, (uint64_t)1 << bits);
            hist_add(&h, v[i]);
            sum += v[i];
            max = v[i] > max ? v[i] : max;
        }
        assert_int_equal(h.count, n);
        assert_int_equal(h.sum, sum);
        assert_int_equal(h.max, max);
        qsort(v, n, sizeof(*v), cmp_u64);
        for (size_t k = 0; k < ARRAY_SIZE(qs); k++)
            assert_within_resolution(hist_quantile(&h, qs[k]), exact_quantile(v, n, qs[k]), max);
        assert_int_equal(hist_quantile(&h, 1.0), max);
        cs_free(v);
    }
}

/* Values of every magnitude land in a bucket whose bound is within resolution. */
static void test_bucket_bounds(void **state)
{
    (void)state;
    for (unsigned e = 0; e < 38; e++) {
        uint64_t base = (uint64_t)1 << e;
        uint64_t probes[] = {base, base + base / 4, base + base / 2, base * 2 - 1};
        for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
            struct hist h;
            memset(&h, 0, sizeof(h));
            hist_add(&h, probes[i]);
            hist_add(&h, (uint64_t)1 << 39); /* a larger max so the bucket bound shows */
            uint64_t got = hist_quantile(&h, 0.0);
            assert_true(got >= probes[i]);
            if (probes[i] >= 16)
                assert_true(got <= probes[i] + probes[i] / 4);
            else
                assert_int_equal(got, probes[i]);
        }
    }
    /* beyond the last bucket: clamped, reported as at most the max */
    struct hist h;
    memset(&h, 0, sizeof(h));
    hist_add(&h, UINT64_MAX / 2);
    assert_int_equal(h.b[HIST_BUCKETS - 1], 1);
    assert_true(hist_quantile(&h, 0.5) <= UINT64_MAX / 2);
}

static void test_merge(void **state)
{
    (void)state;
    struct cs_rng rng;
    cs_rng_seed(&rng, 99);
    for (int iter = 0; iter < 50; iter++) {
        struct hist a, b, all;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        memset(&all, 0, sizeof(all));
        int na = (int)cs_rng_below(&rng, 300), nb = (int)cs_rng_below(&rng, 300);
        for (int i = 0; i < na + nb; i++) {
            uint64_t v = cs_rng_below(&rng, 1000000);
            hist_add(i < na ? &a : &b, v);
            hist_add(&all, v);
        }
        hist_merge(&a, &b);
        assert_memory_equal(&a, &all, sizeof(all));
    }
    /* merging an empty histogram changes nothing */
    struct hist h, empty, before;
    memset(&h, 0, sizeof(h));
    memset(&empty, 0, sizeof(empty));
    hist_add(&h, 5);
    hist_add(&h, 5000);
    before = h;
    hist_merge(&h, &empty);
    assert_memory_equal(&h, &before, sizeof(h));
    hist_merge(&empty, &h);
    assert_memory_equal(&empty, &h, sizeof(h));
}

/* a - (an earlier a) = what was added in between, with the max from the buckets left */
static void test_sub(void **state)
{
    (void)state;
    struct cs_rng rng;
    cs_rng_seed(&rng, 99);
    for (int iter = 0; iter < 100; iter++) {
        struct hist early, late, added, d;
        memset(&early, 0, sizeof(early));
        memset(&added, 0, sizeof(added));
        int n = (int)cs_rng_below(&rng, 300);
        for (int i = 0; i < n; i++)
            hist_add(&early, cs_rng_below(&rng, (uint64_t)1 << (1 + cs_rng_below(&rng, 30))));
        late = early;
        n = (int)cs_rng_below(&rng, 300);
        for (int i = 0; i < n; i++) {
            uint64_t v = cs_rng_below(&rng, (uint64_t)1 << (1 + cs_rng_below(&rng, 20)));
            hist_add(&late, v);
            hist_add(&added, v);
        }
        hist_sub(&d, &late, &early);
        assert_memory_equal(d.b, added.b, sizeof(d.b));
        assert_int_equal(d.count, added.count);
        assert_int_equal(d.sum, added.sum);
        assert_true(d.max >= added.max);
        assert_true(d.max <= late.max);
        assert_true(added.max < 16 ? d.max == added.max : d.max <= added.max + added.max / 4);
        static const double qs[] = {0.5, 0.9, 0.99};
        for (size_t k = 0; k < ARRAY_SIZE(qs); k++) {
            uint64_t x = hist_quantile(&added, qs[k]), y = hist_quantile(&d, qs[k]);
            assert_true(x < 16 ? y == x : y >= x && y <= x + x / 4);
        }
    }
    /* nothing added: empty; a "later" state that lost counts (a restarted process) never
     * wraps below zero */
    struct hist a, b, d;
    memset(&a, 0, sizeof(a));
    hist_add(&a, 100);
    hist_sub(&d, &a, &a);
    assert_int_equal(d.count, 0);
    assert_int_equal(d.max, 0);
    assert_int_equal(hist_quantile(&d, 0.99), 0);
    memset(&b, 0, sizeof(b));
    hist_add(&b, 100);
    hist_add(&b, 100);
    hist_add(&b, 7);
    hist_sub(&d, &a, &b);
    assert_int_equal(d.count, 0);
    assert_int_equal(d.sum, 0);
}

static void test_format_parse(void **state)
{
    (void)state;
    struct hist h, back;
    struct buf b = BUF_INIT, b2 = BUF_INIT;
    memset(&h, 0, sizeof(h));
    hist_add(&h, 1);
    hist_add(&h, 1);
    hist_add(&h, 5);
    hist_format(&h, &b);
    assert_string_equal(buf_cstr(&b), "1:2,5:1");
    buf_reset(&b);

    struct cs_rng rng;
    cs_rng_seed(&rng, 1234);
    for (int iter = 0; iter < 100; iter++) {
        memset(&h, 0, sizeof(h));
        int n = 1 + (int)cs_rng_below(&rng, 400);
        for (int i = 0; i < n; i++)
            hist_add(&h, cs_rng_below(&rng, (uint64_t)1 << (1 + cs_rng_below(&rng, 30))));
        hist_format(&h, &b);
        memset(&back, 0x55, sizeof(back));
        assert_int_equal(hist_parse(&back, buf_cstr(&b)), CS_OK);
        /* counts survive exactly; the max becomes its bucket's bound */
        assert_memory_equal(back.b, h.b, sizeof(h.b));
        assert_int_equal(back.count, h.count);
        assert_true(back.max >= h.max);
        assert_true(h.max < 16 ? back.max == h.max : back.max <= h.max + h.max / 4);
        /* and the text is stable */
        hist_format(&back, &b2);
        assert_string_equal(buf_cstr(&b2), buf_cstr(&b));
        /* quantiles of the parsed copy agree, except that the top one may read the bound */
        static const double qs[] = {0.1, 0.5, 0.9, 0.99};
        for (size_t k = 0; k < ARRAY_SIZE(qs); k++) {
            uint64_t x = hist_quantile(&h, qs[k]), y = hist_quantile(&back, qs[k]);
            assert_true(y >= x);
            assert_true(x < 16 ? y == x : y <= x + x / 4);
        }
        buf_reset(&b);
        buf_reset(&b2);
    }
    /* a parsed histogram merges like any other */
    assert_int_equal(hist_parse(&h, "1:2,20:3"), CS_OK);
    assert_int_equal(hist_parse(&back, "20:1,151:1"), CS_OK);
    hist_merge(&h, &back);
    hist_format(&h, &b);
    assert_string_equal(buf_cstr(&b), "1:2,20:4,151:1");
    assert_int_equal(h.count, 7);
    buf_free(&b);
    buf_free(&b2);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "x",    "1",    "1:",    ":1",    "152:1", "1000:1", "1:2;3:4", "1:99999999999",
        "-1:1", "1:-1", "1:2:3", "1:2,x", "1,2",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct hist h;
        print_message("  '%s'\n", bad[i]);
        assert_int_equal(hist_parse(&h, bad[i]), CS_ERR_PARSE);
    }
    struct hist h;
    assert_int_equal(hist_parse(&h, "151:4294967295"), CS_OK);
    assert_int_equal(h.b[151], UINT32_MAX);
}

/* Latencies that cluster near Nagle's 40 ms are told from spread or fast ones. */
static void test_nagle(void **state)
{
    (void)state;
    static const struct {
        uint64_t lo_us, hi_us; /* samples spread evenly over [lo, hi] */
        uint64_t n;
        bool want;
    } cases[] = {
        {40000, 48000, 200, true},                             /* delayed ACK: 40..48 ms */
        {38000, 52000, 200, true},  {40000, 48000, 30, false}, /* too few samples to tell */
        {2000, 5000, 200, false},                              /* TCP_NODELAY: a few ms */
        {1000, 200000, 200, false},                            /* spread out */
        {70000, 90000, 200, false},                            /* slow, but not at 40 ms */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hist h;
        memset(&h, 0, sizeof(h));
        for (uint64_t k = 0; k < cases[i].n; k++)
            hist_add(&h, cases[i].lo_us + (cases[i].hi_us - cases[i].lo_us) * k / cases[i].n);
        print_message("  %llu..%llu us x %llu\n", (unsigned long long)cases[i].lo_us,
                      (unsigned long long)cases[i].hi_us, (unsigned long long)cases[i].n);
        assert_int_equal(stats_latency_nagle(&h), cases[i].want);
    }
    /* a mix: 70 % at 44 ms, the rest fast */
    struct hist h;
    memset(&h, 0, sizeof(h));
    for (int k = 0; k < 70; k++)
        hist_add(&h, 44000);
    for (int k = 0; k < 30; k++)
        hist_add(&h, 3000);
    assert_true(stats_latency_nagle(&h));
    assert_true(hist_clusters_in(&h, 0, 4000, 10, 0.3));
    assert_false(hist_clusters_in(&h, 0, 4000, 10, 0.31));
}

/* Text from Redis: an empty bucket ("i:0") does not raise the maximum, and merging parsed
 * histograms saturates instead of wrapping (the count stays the sum of the buckets). */
static void test_parse_merge_bounds(void **state)
{
    (void)state;
    struct hist a, b;
    assert_int_equal(hist_parse(&a, "20:3,40:0"), CS_OK);
    assert_int_equal(a.count, 3);
    assert_true(a.max < 1000);
    assert_int_equal(hist_parse(&b, "20:4294967295"), CS_OK);
    hist_merge(&a, &b);
    hist_merge(&a, &b);
    assert_int_equal(a.b[20], UINT32_MAX);
    assert_int_equal(a.count, UINT32_MAX);
    a.sum = INT64_MAX - 1;
    b.sum = 10;
    hist_merge(&a, &b);
    assert_int_equal(a.sum, INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_nagle),
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_bucket_bounds),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_merge_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
