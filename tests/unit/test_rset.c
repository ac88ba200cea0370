/* test_rset.c - index range sets (cs/rset.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/ids.h"
#include "cs/mem.h"
#include "cs/rset.h"
#include "cs/util.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static void parse_ok(struct rset *s, const char *text)
{
    struct cs_error err;
    int rc = rset_parse(s, text, &err);
    if (rc)
        print_message("rset_parse('%s'): %s\n", text, err.msg);
    assert_int_equal(rc, CS_OK);
}

static void assert_format(const struct rset *s, const char *want)
{
    struct buf b = BUF_INIT;
    rset_format(s, &b);
    assert_string_equal(buf_cstr(&b), want);
    buf_free(&b);
}

/* The representation invariant: sorted, disjoint, non-adjacent, lo <= hi. */
static void assert_normal(const struct rset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        assert_true(s->r[i].lo <= s->r[i].hi);
        if (i)
            assert_true((uint64_t)s->r[i - 1].hi + 1 < s->r[i].lo);
    }
}

/* Applies "+lo-hi", "+i", "-lo-hi", "-i" operations separated by blanks. */
static void apply_ops(struct rset *s, const char *ops)
{
    const char *p = ops;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char op = *p++;
        char *end;
        unsigned long long lo = strtoull(p, &end, 10), hi = lo;
        p = end;
        if (*p == '-') {
            hi = strtoull(p + 1, &end, 10);
            p = end;
        }
        if (op == '+')
            rset_add(s, (uint32_t)lo, (uint32_t)hi);
        else
            rset_remove(s, (uint32_t)lo, (uint32_t)hi);
        assert_normal(s);
    }
}

/* ---- add / remove -------------------------------------------------------------------------- */

static const struct {
    const char *ops;
    const char *want;
    uint64_t count;
} op_cases[] = {
    {"", "", 0},
    {"+5", "5", 1},
    {"+5-10", "5-10", 6},
    {"+5-10 +11-12", "5-12", 8}, /* adjacent above */
    {"+5-10 +1-4", "1-10", 10},  /* adjacent below */
    {"+1-3 +5-7", "1-3,5-7", 6}, /* a gap of one stays */
    {"+1-3 +5-7 +4", "1-7", 7},  /* filling the gap joins both */
    {"+1-3 +7-9 +5", "1-3,5,7-9", 7},
    {"+1-3 +7-9 +2-8", "1-9", 9},    /* overlapping both */
    {"+1-100 +20-30", "1-100", 100}, /* inside */
    {"+20-30 +1-100", "1-100", 100}, /* covering */
    {"+30 +10 +20 +40", "10,20,30,40", 4},
    {"+10-1", "", 0}, /* lo > hi: nothing */
    {"+1-10 +10-1", "1-10", 10},
    {"+1-10 +12 -5", "1-4,6-10,12", 10},
    {"+1-10 -1", "2-10", 9},
    {"+1-10 -10", "1-9", 9},
    {"+1-10 -1-10", "", 0},
    {"+1-10 -0-20", "", 0},
    {"+1-10 -11-20", "1-10", 10},
    {"+1-10 +20-30 -5-25", "1-4,26-30", 9},
    {"+1-10 +20-30 -10-20", "1-9,21-30", 19},
    {"+1-10 -7-3", "1-10", 10}, /* lo > hi: nothing */
    {"+1 +3 +5 -1-5", "", 0},
    {"+4294967294-4294967295 +4294967293", "4294967293-4294967295", 3},
    {"+0-4294967295", "0-4294967295", 4294967296ull},
    {"+0-4294967295 -4294967295", "0-4294967294", 4294967295ull},
    {"+0-4294967295 -0", "1-4294967295", 4294967295ull},
};

static void test_add_remove(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(op_cases); i++) {
        struct rset s = RSET_INIT;
        print_message("  ops '%s'\n", op_cases[i].ops);
        apply_ops(&s, op_cases[i].ops);
        assert_format(&s, op_cases[i].want);
        assert_int_equal(rset_count(&s), op_cases[i].count);
        assert_int_equal(rset_empty(&s), op_cases[i].count == 0);
        rset_free(&s);
    }
}

static void test_contains(void **state)
{
    (void)state;
    struct rset s = RSET_INIT;
    assert_false(rset_contains(&s, 1));
    parse_ok(&s, "2-4,8,10-12,20-30,40");
    static const uint32_t yes[] = {2, 3, 4, 8, 10, 11, 12, 20, 25, 30, 40};
    static const uint32_t no[] = {0, 1, 5, 7, 9, 13, 19, 31, 39, 41, UINT32_MAX};
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
        assert_true(rset_contains(&s, yes[i]));
    for (size_t i = 0; i < ARRAY_SIZE(no); i++)
        assert_false(rset_contains(&s, no[i]));
    assert_int_equal(rset_count(&s), 3 + 1 + 3 + 11 + 1);

    /* copy, equal, clear */
    struct rset t = RSET_INIT;
    rset_add(&t, 99, 99);
    rset_copy(&t, &s);
    assert_true(rset_equal(&s, &t));
    rset_remove(&t, 40, 40);
    assert_false(rset_equal(&s, &t));
    rset_clear(&t);
    assert_true(rset_empty(&t));
    struct rset e = RSET_INIT;
    assert_true(rset_equal(&t, &e));
    rset_free(&s);
    rset_free(&t);
    rset_free(&s); /* freeing twice is harmless: the set is re-initialised */
}

/* ---- set algebra --------------------------------------------------------------------------- */

static const struct {
    const char *a, *b;
    const char *uni, *sub, *inter;
} alg_cases[] = {
    {"", "", "", "", ""},
    {"1-10", "", "1-10", "1-10", ""},
    {"", "1-10", "1-10", "", ""},
    {"1-10", "1-10", "1-10", "", "1-10"},
    {"1-10", "11-20", "1-20", "1-10", ""},
    {"1-10", "12-20", "1-10,12-20", "1-10", ""},
    {"1-10", "5-15", "1-15", "1-4", "5-10"},
    {"5-15", "1-10", "1-15", "11-15", "5-10"},
    {"1-20", "5-6,10,15-16", "1-20", "1-4,7-9,11-14,17-20", "5-6,10,15-16"},
    {"5-6,10,15-16", "1-20", "1-20", "", "5-6,10,15-16"},
    {"1-3,7-9", "4-6", "1-9", "1-3,7-9", ""},
    {"1-3,7-9,20", "2-8,19-21", "1-9,19-21", "1,9", "2-3,7-8,20"},
    {"1,3,5,7", "2,4,6", "1-7", "1,3,5,7", ""},
    {"1-100", "1,100", "1-100", "2-99", "1,100"},
    {"1-5,10-15,20-25", "3-12,14-22", "1-25", "1-2,13,23-25", "3-5,10-12,14-15,20-22"},
};

static void test_algebra(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(alg_cases); i++) {
        struct rset a = RSET_INIT, b = RSET_INIT, out = RSET_INIT;
        struct cs_error err;
        print_message("  a '%s' b '%s'\n", alg_cases[i].a, alg_cases[i].b);
        assert_int_equal(rset_parse(&a, alg_cases[i].a, &err), CS_OK);
        assert_int_equal(rset_parse(&b, alg_cases[i].b, &err), CS_OK);
        rset_add(&out, 7777, 7777); /* out is overwritten, not appended to */
        rset_union(&out, &a, &b);
        assert_normal(&out);
        assert_format(&out, alg_cases[i].uni);
        rset_subtract(&out, &a, &b);
        assert_normal(&out);
        assert_format(&out, alg_cases[i].sub);
        rset_intersect(&out, &a, &b);
        assert_normal(&out);
        assert_format(&out, alg_cases[i].inter);
        /* union and intersection commute */
        rset_union(&out, &b, &a);
        assert_format(&out, alg_cases[i].uni);
        rset_intersect(&out, &b, &a);
        assert_format(&out, alg_cases[i].inter);
        rset_free(&a);
        rset_free(&b);
        rset_free(&out);
    }

    /* at the top of the 32-bit range (beyond the fleet cap of rset_parse): no wrap-around */
    struct rset a = RSET_INIT, b = RSET_INIT, out = RSET_INIT;
    rset_add(&a, 4294967290u, UINT32_MAX);
    rset_add(&a, 0, 1);
    rset_add(&b, UINT32_MAX, UINT32_MAX);
    rset_union(&out, &a, &b);
    assert_format(&out, "0-1,4294967290-4294967295");
    rset_subtract(&out, &a, &b);
    assert_format(&out, "0-1,4294967290-4294967294");
    rset_subtract(&out, &b, &a);
    assert_format(&out, "");
    rset_intersect(&out, &a, &b);
    assert_format(&out, "4294967295");
    rset_free(&a);
    rset_free(&b);
    rset_free(&out);
}

/* ---- take ---------------------------------------------------------------------------------- */

static const struct {
    const char *s;
    uint64_t n;
    bool high;
    const char *out_before;
    const char *left;
    const char *out_after;
} take_cases[] = {
    {"1-10", 3, false, "", "4-10", "1-3"},
    {"1-10", 3, true, "", "1-7", "8-10"},
    {"1-10", 10, false, "", "", "1-10"},
    {"1-10", 11, true, "", "", "1-10"},
    {"1-10", 0, false, "", "1-10", ""},
    {"", 5, false, "", "", ""},
    {"1-2,5-6,9-10", 3, false, "", "6,9-10", "1-2,5"},
    {"1-2,5-6,9-10", 3, true, "", "1-2,5", "6,9-10"},
    {"1-2,5-6,9-10", 4, false, "", "9-10", "1-2,5-6"},
    {"1-2,5-6,9-10", 4, true, "", "1-2", "5-6,9-10"},
    /* appended to what out already holds, merging when adjacent */
    {"5-10", 2, false, "1-4", "7-10", "1-6"},
    {"5-10", 2, true, "20", "5-8", "9-10,20"},
    {"5-10", 2, true, "11-12", "5-8", "9-12"},
};

static void test_take(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(take_cases); i++) {
        struct rset s = RSET_INIT, out = RSET_INIT;
        print_message("  take %s %llu of '%s'\n", take_cases[i].high ? "high" : "low",
                      (unsigned long long)take_cases[i].n, take_cases[i].s);
        parse_ok(&s, take_cases[i].s);
        parse_ok(&out, take_cases[i].out_before);
        uint64_t before = rset_count(&s) + rset_count(&out);
        if (take_cases[i].high)
            rset_take_high(&s, take_cases[i].n, &out);
        else
            rset_take_low(&s, take_cases[i].n, &out);
        assert_normal(&s);
        assert_normal(&out);
        assert_format(&s, take_cases[i].left);
        assert_format(&out, take_cases[i].out_after);
        assert_int_equal(rset_count(&s) + rset_count(&out), before);
        rset_free(&s);
        rset_free(&out);
    }
}

/* ---- text form ----------------------------------------------------------------------------- */

static const struct {
    const char *text;
    const char *canon;
} parse_cases[] = {
    {"", ""},
    {"1", "1"},
    {"1-10,12,20-30", "1-10,12,20-30"},
    {"3,1,2", "1-3"},
    {"1-5,3-8", "1-8"},
    {"10-20,1-9", "1-20"},
    {"7-7", "7"},
    {"1,1,1", "1"},
    {"100000000", "100000000"},
    {"1-100000000", "1-100000000"},
    {"0001-0010", "1-10"},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
        struct rset s = RSET_INIT, back = RSET_INIT;
        print_message("  '%s'\n", parse_cases[i].text);
        rset_add(&s, 555, 555); /* parse replaces what the set held */
        parse_ok(&s, parse_cases[i].text);
        assert_normal(&s);
        assert_format(&s, parse_cases[i].canon);
        /* the canonical text parses back to the same set */
        parse_ok(&back, parse_cases[i].canon);
        assert_true(rset_equal(&s, &back));
        rset_free(&s);
        rset_free(&back);
    }
}

static const struct {
    const char *text;
    const char *msg;
} parse_errors[] = {
    {"0", "ranges: bad index at offset 0 of '0'"},
    {"0-5", "bad index at offset 0"},
    {"100000001", "bad index at offset 0"},
    {"1-100000001", "bad range at offset 0"},
    {"5-3", "ranges: bad range at offset 0 of '5-3'"},
    {"1,5-3", "bad range at offset 2"},
    {"1-", "bad range at offset 0"},
    {"1-0", "bad range"},
    {"-5", "bad index at offset 0"},
    {"1,,2", "bad index at offset 2"},
    {",1", "bad index at offset 0"},
    {"1;2", "ranges: unexpected ';' at offset 1"},
    {" 1", "bad index at offset 0"},
    {"1 ", "unexpected ' ' at offset 1"},
    {"1, 2", "bad index at offset 2"},
    {"a", "bad index at offset 0"},
    {"1-2-3", "unexpected '-' at offset 3"},
    {"1-x", "bad range"},
    {"+1", "bad index"},
    {"99999999999999999999", "bad index"},
};

static void test_parse_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(parse_errors); i++) {
        struct rset s = RSET_INIT;
        struct cs_error err;
        memset(&err, 0, sizeof(err));
        int rc = rset_parse(&s, parse_errors[i].text, &err);
        print_message("  '%s' -> %s\n", parse_errors[i].text, rc ? err.msg : "(ok)");
        assert_int_equal(rc, CS_ERR_PARSE);
        assert_int_equal(err.code, CS_ERR_PARSE);
        assert_non_null(strstr(err.msg, parse_errors[i].msg));
        assert_int_equal(rset_parse(&s, parse_errors[i].text, NULL), CS_ERR_PARSE);
        rset_free(&s);
    }
}

/* ---- against a bitmap ---------------------------------------------------------------------- */

#define UNIVERSE 160

static void to_bits(const struct rset *s, bool *bits)
{
    memset(bits, 0, UNIVERSE * sizeof(bool));
    for (size_t i = 0; i < s->n; i++)
        for (uint64_t x = s->r[i].lo; x <= s->r[i].hi; x++) {
            assert_true(x < UNIVERSE);
            bits[x] = true;
        }
}

static void assert_bits(const struct rset *s, const bool *want)
{
    bool got[UNIVERSE];
    assert_normal(s);
    to_bits(s, got);
    uint64_t n = 0;
    for (uint32_t i = 0; i < UNIVERSE; i++) {
        assert_int_equal(got[i], want[i]);
        assert_int_equal(rset_contains(s, i), want[i]);
        n += want[i];
    }
    assert_int_equal(rset_count(s), n);
}

static void random_set(struct cs_rng *rng, struct rset *s)
{
    rset_clear(s);
    int k = (int)cs_rng_below(rng, 6);
    for (int i = 0; i < k; i++) {
        uint32_t lo = (uint32_t)cs_rng_below(rng, UNIVERSE);
        uint32_t hi = lo + (uint32_t)cs_rng_below(rng, 20);
        if (hi >= UNIVERSE)
            hi = UNIVERSE - 1;
        rset_add(s, lo, hi);
    }
}

static void test_random_vs_bitmap(void **state)
{
    (void)state;
    struct cs_rng rng;
    cs_rng_seed(&rng, 20260101);
    struct rset a = RSET_INIT, b = RSET_INIT, out = RSET_INIT, s = RSET_INIT;
    bool ba[UNIVERSE], bb[UNIVERSE], want[UNIVERSE];

    /* random adds and removes on one set */
    memset(want, 0, sizeof(want));
    for (int step = 0; step < 2000; step++) {
        uint32_t lo = (uint32_t)cs_rng_below(&rng, UNIVERSE);
        uint32_t hi = lo + (uint32_t)cs_rng_below(&rng, 12);
        if (hi >= UNIVERSE)
            hi = UNIVERSE - 1;
        bool add = cs_rng_below(&rng, 2) == 0;
        if (add)
            rset_add(&s, lo, hi);
        else
            rset_remove(&s, lo, hi);
        for (uint32_t x = lo; x <= hi; x++)
            want[x] = add;
        assert_bits(&s, want);
    }

    for (int iter = 0; iter < 500; iter++) {
        random_set(&rng, &a);
        random_set(&rng, &b);
        to_bits(&a, ba);
        to_bits(&b, bb);
        rset_union(&out, &a, &b);
        for (int i = 0; i < UNIVERSE; i++)
            want[i] = ba[i] || bb[i];
        assert_bits(&out, want);
        rset_subtract(&out, &a, &b);
        for (int i = 0; i < UNIVERSE; i++)
            want[i] = ba[i] && !bb[i];
        assert_bits(&out, want);
        rset_intersect(&out, &a, &b);
        for (int i = 0; i < UNIVERSE; i++)
            want[i] = ba[i] && bb[i];
        assert_bits(&out, want);

        /* take: the n lowest (highest) members move, in order */
        uint64_t n = cs_rng_below(&rng, 40);
        bool high = cs_rng_below(&rng, 2) == 0;
        rset_copy(&s, &a);
        rset_clear(&out);
        if (high)
            rset_take_high(&s, n, &out);
        else
            rset_take_low(&s, n, &out);
        bool left[UNIVERSE], taken[UNIVERSE];
        memcpy(left, ba, sizeof(left));
        memset(taken, 0, sizeof(taken));
        uint64_t moved = 0;
        for (int k = 0; k < UNIVERSE && moved < n; k++) {
            int i = high ? UNIVERSE - 1 - k : k;
            if (left[i]) {
                left[i] = false;
                taken[i] = true;
                moved++;
            }
        }
        assert_bits(&s, left);
        assert_bits(&out, taken);

        /* format/parse round trip (index 0 is outside the fleet range: drop it) */
        rset_remove(&a, 0, 0);
        struct buf t = BUF_INIT;
        rset_format(&a, &t);
        assert_int_equal(rset_parse(&s, buf_cstr(&t), NULL), CS_OK);
        assert_true(rset_equal(&a, &s));
        buf_free(&t);
    }
    rset_free(&a);
    rset_free(&b);
    rset_free(&out);
    rset_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_remove),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_algebra),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_random_vs_bitmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
