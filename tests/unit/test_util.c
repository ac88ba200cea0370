/* test_util.c - strict number parsing, durations and string helpers (cs/util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cs/mem.h"
#include "cs/util.h"

/* Every parser takes decimal text only: what strtod/strtoll would also read (hex, inf, nan,
 * blanks) is refused, so a config value or argument means what it looks like. */
static const struct {
    const char *text;
    bool ok;
    double want;
} double_cases[] = {
    {"0", true, 0},       {"16", true, 16},       {"-22", true, -22}, {"+5", true, 5},
    {"7.4", true, 7.4},   {".5", true, 0.5},      {"5.", true, 5},    {"1e3", true, 1000},
    {"1E-2", true, 0.01}, {"2.5e+1", true, 25},   {"0x10", false, 0}, {"0X10", false, 0},
    {"0x1p4", false, 0},  {"inf", false, 0},      {"-inf", false, 0}, {"infinity", false, 0},
    {"nan", false, 0},    {"NAN(123)", false, 0}, {"", false, 0},     {" 5", false, 0},
    {"5 ", false, 0},     {"5kW", false, 0},      {"1e", false, 0},   {"1e+", false, 0},
    {"e5", false, 0},     {".", false, 0},        {"-", false, 0},    {"1..2", false, 0},
    {"1e999", false, 0},  {"--1", false, 0},
};

static void test_parse_double(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(double_cases); i++) {
        double v = -1;
        bool ok = cs_parse_double(double_cases[i].text, -1e9, 1e9, &v);
        print_message("  '%s' -> %s\n", double_cases[i].text, ok ? "ok" : "refused");
        assert_int_equal(ok, double_cases[i].ok);
        if (ok)
            assert_true(v == double_cases[i].want);
        else
            assert_true(v == -1); /* *out untouched */
    }
    double v;
    assert_false(cs_parse_double("5", 6, 7, &v));
    assert_false(cs_parse_double(NULL, 0, 1, &v));
}

static const struct {
    const char *text;
    bool ok;
    int64_t want;
} i64_cases[] = {
    {"0", true, 0},
    {"42", true, 42},
    {"-7", true, -7},
    {"+7", true, 7},
    {"0x10", false, 0},
    {"010", true, 10},
    {"1e3", false, 0},
    {"1.0", false, 0},
    {"", false, 0},
    {" 1", false, 0},
    {"1 ", false, 0},
    {"inf", false, 0},
    {"99999999999999999999", false, 0},
};

static void test_parse_i64(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(i64_cases); i++) {
        int64_t v = -1;
        bool ok = cs_parse_i64(i64_cases[i].text, INT64_MIN, INT64_MAX, &v);
        print_message("  '%s' -> %s\n", i64_cases[i].text, ok ? "ok" : "refused");
        assert_int_equal(ok, i64_cases[i].ok);
        if (ok)
            assert_int_equal(v, i64_cases[i].want);
    }
}

static const struct {
    const char *text;
    bool ok;
    int64_t ms;
} duration_cases[] = {
    {"250ms", true, 250}, {"30s", true, 30000}, {"5m", true, 300000}, {"2h", true, 7200000},
    {"1.5s", true, 1500}, {"10", true, 10000},  {"0x10s", false, 0},  {"infs", false, 0},
    {"nanms", false, 0},  {"-1s", false, 0},    {"s", false, 0},      {"", false, 0},
    {"5 s", false, 0},    {"5d", false, 0},
};

static void test_parse_duration(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(duration_cases); i++) {
        int64_t v = -1;
        bool ok = cs_parse_duration_ms(duration_cases[i].text, &v);
        print_message("  '%s' -> %s\n", duration_cases[i].text, ok ? "ok" : "refused");
        assert_int_equal(ok, duration_cases[i].ok);
        if (ok)
            assert_int_equal(v, duration_cases[i].ms);
    }
}

static void test_strlcpy(void **state)
{
    (void)state;
    char out[6];
    assert_true(cs_strlcpy(out, "abcde", sizeof(out)));
    assert_string_equal(out, "abcde");
    assert_false(cs_strlcpy(out, "abcdef", sizeof(out)));
    assert_string_equal(out, "abcde");
    /* "abcd" + é (2 bytes) does not fit in 5: the é goes whole */
    assert_false(cs_strlcpy(out, "abcd\xc3\xa9", sizeof(out)));
    assert_string_equal(out, "abcd");
    assert_false(cs_strlcpy(out, "a\xe2\x82\xac\xe2\x82\xac", sizeof(out)));
    assert_string_equal(out, "a\xe2\x82\xac");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_strlcpy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
