/* test_ids.c - id_format parsing, formatting, its exact reverse, and ID validity (cs/ids.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cs/ids.h"
#include "cs/mem.h"

#define P31 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 31 characters */

static const struct {
    const char *fmt;
    const char *prefix, *suffix;
    int width;
    bool zero;
    uint32_t index;
    const char *id; /* format(index) */
} good[] = {
    {"CP-%06u", "CP-", "", 6, true, 42, "CP-000042"},
    {"CP-%06u", "CP-", "", 6, true, 1234567, "CP-1234567"},
    {"CP-%u", "CP-", "", 0, false, 42, "CP-42"},
    {"%u", "", "", 0, false, 7, "7"},
    {"EV%05u.x", "EV", ".x", 5, true, 98, "EV00098.x"},
    {"CP-%d", "CP-", "", 0, false, 9, "CP-9"},
    {"CP-%i", "CP-", "", 0, false, 10, "CP-10"},
    {"%012u", "", "", 12, true, 1, "000000000001"},
    {"%0u", "", "", 0, true, 5, "5"},
    {"a_b-c.%03u_Z", "a_b-c.", "_Z", 3, true, 100000000, "a_b-c.100000000_Z"},
    {P31 "%u", P31, "", 0, false, 3, P31 "3"},
    /* the longest fixed text whose IDs still fit in 64 characters */
    {P31 "%u"
         "bbbbbbbbbbbbbbbbbbbbb",
     P31, "bbbbbbbbbbbbbbbbbbbbb", 0, false, 1,
     P31 "1"
         "bbbbbbbbbbbbbbbbbbbbb"},
};

static void test_parse_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        struct idfmt f;
        struct cs_error err;
        print_message("  '%s'\n", good[i].fmt);
        memset(&f, 0x55, sizeof(f));
        int rc = idfmt_parse(&f, good[i].fmt, &err);
        if (rc)
            print_message("  -> %s\n", err.msg);
        assert_int_equal(rc, CS_OK);
        assert_string_equal(f.prefix, good[i].prefix);
        assert_string_equal(f.suffix, good[i].suffix);
        assert_int_equal(f.width, good[i].width);
        assert_int_equal(f.zero, good[i].zero);

        char id[CS_ID_MAX + 1];
        idfmt_format(&f, good[i].index, id, sizeof(id));
        assert_string_equal(id, good[i].id);
        assert_true(cs_id_valid(id));
        uint32_t back = 0;
        assert_true(idfmt_index(&f, id, &back));
        assert_int_equal(back, good[i].index);
    }
}

static const struct {
    const char *fmt;
    int code;
    const char *msg;
} bad[] = {
    {"CP-", CS_ERR_PARSE, "id_format 'CP-': needs one %u conversion"},
    {"", CS_ERR_PARSE, "needs one %u"},
    {"CP-%s", CS_ERR_PARSE, "expected %u, %0Nu or %Nu"},
    {"CP-%lu", CS_ERR_PARSE, "expected %u"},
    {"CP-%x", CS_ERR_PARSE, "expected %u"},
    {"CP-%-6u", CS_ERR_PARSE, "expected %u"},
    {"CP-%", CS_ERR_PARSE, "expected %u"},
    {"CP-%%u", CS_ERR_PARSE, "expected %u"},
    {"CP-%6u", CS_ERR_PARSE, "space padding would put ' ' in IDs; use %06u"},
    {"CP-%u%u", CS_ERR_PARSE, "only one conversion allowed"},
    {"CP-%u-%%", CS_ERR_PARSE, "only one conversion allowed"},
    {"CP-%013u", CS_ERR_RANGE, "width above 12"},
    {"CP-%0999999999999u", CS_ERR_RANGE, "width above 12"},
    {"CP %u", CS_ERR_PARSE, "' ' is not allowed in IDs"},
    {"CP-%u/x", CS_ERR_PARSE, "'/' is not allowed in IDs"},
    {"CP:%u", CS_ERR_PARSE, "':' is not allowed"},
    {"CP-%u+", CS_ERR_PARSE, "'+' is not allowed"},
    {"a" P31 "%u", CS_ERR_RANGE, "fixed text longer than 31"},
    {"%u"
     "b" P31,
     CS_ERR_RANGE, "fixed text longer than 31"},
    {P31 "%u"
         "bbbbbbbbbbbbbbbbbbbbbb",
     CS_ERR_RANGE, "IDs could exceed 64 chars"},
    {P31 "%012u"
         "bbbbbbbbbbbbbbbbbbbbbb",
     CS_ERR_RANGE, "could exceed"},
};

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct idfmt f;
        struct cs_error err;
        memset(&err, 0, sizeof(err));
        int rc = idfmt_parse(&f, bad[i].fmt, &err);
        print_message("  '%s' -> %s\n", bad[i].fmt, rc ? err.msg : "(ok)");
        assert_int_equal(rc, bad[i].code);
        assert_int_equal(err.code, bad[i].code);
        assert_non_null(strstr(err.msg, bad[i].msg));
        assert_int_equal(idfmt_parse(&f, bad[i].fmt, NULL), bad[i].code);
    }
}

/* format -> index is the identity over the whole fleet range, for several formats. */
static void test_round_trip(void **state)
{
    (void)state;
    static const char *const fmts[] = {"CP-%06u", "CP-%u", "%u", "EV%05u.x", "x%012u"};
    static const uint32_t idx[] = {1,      2,       9,        10,       42,       99999,
                                   999999, 1000000, 12345678, 99999999, 100000000};
    for (size_t k = 0; k < ARRAY_SIZE(fmts); k++) {
        struct idfmt f;
        assert_int_equal(idfmt_parse(&f, fmts[k], NULL), CS_OK);
        for (size_t i = 0; i < ARRAY_SIZE(idx); i++) {
            char id[CS_ID_MAX + 1];
            uint32_t back = 0;
            idfmt_format(&f, idx[i], id, sizeof(id));
            assert_true(idfmt_index(&f, id, &back));
            assert_int_equal(back, idx[i]);
        }
    }
}

/* IDs that do not come out of format(index) for any fleet index. */
static void test_index_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *fmt;
        const char *id;
        uint32_t index; /* 0 = rejected */
    } cases[] = {
        {"CP-%06u", "CP-000042", 42},
        {"CP-%06u", "CP-42", 0}, /* not padded as the format pads */
        {"CP-%06u", "CP-0000042", 0},
        {"CP-%06u", "CP-000000", 0},    /* index 0 is not in the fleet */
        {"CP-%06u", "CP-100000001", 0}, /* beyond CS_FLEET_MAX */
        {"CP-%06u", "CP-12345678901", 0},
        {"CP-%06u", "CP-99999999999999999999", 0},
        {"CP-%06u", "CP-00004a", 0},
        {"CP-%06u", "CP--00042", 0},
        {"CP-%06u", "CP-+00042", 0},
        {"CP-%06u", "CP- 00042", 0},
        {"CP-%06u", "cp-000042", 0},
        {"CP-%06u", "CP-000042x", 0},
        {"CP-%06u", "XCP-000042", 0},
        {"CP-%06u", "CP-", 0},
        {"CP-%06u", "", 0},
        {"CP-%u", "CP-42", 42},
        {"CP-%u", "CP-042", 0},
        {"CP-%u", "CP-0", 0},
        {"%u", "42", 42},
        {"%u", "042", 0},
        {"EV%05u.x", "EV00098.x", 98},
        {"EV%05u.x", "EV00098", 0},
        {"EV%05u.x", "EV00098.x.x", 0},
        {"EV%05u.x", "EV.x", 0},
        {"A%uA", "A5A", 5},
        {"A%uA", "AA", 0},
        {"A%uA", "A", 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct idfmt f;
        uint32_t got = 777;
        assert_int_equal(idfmt_parse(&f, cases[i].fmt, NULL), CS_OK);
        print_message("  '%s' with '%s'\n", cases[i].id, cases[i].fmt);
        bool ok = idfmt_index(&f, cases[i].id, &got);
        assert_int_equal(ok, cases[i].index != 0);
        assert_int_equal(got, ok ? cases[i].index : 777); /* untouched on failure */
    }
}

static void test_id_valid(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        bool ok;
    } cases[] = {
        {"CP-000042", true},
        {"a", true},
        {"A_b.c-9", true},
        {"...", true},
        {"", false},
        {"a b", false},
        {"a/b", false},
        {"a+b", false},
        {"a#b", false},
        {"a:b", false},
        {"a*b", false},
        {"\xc3\xa9", false},
        {"1234567890123456789012345678901234567890123456789012345678901234", true},
        {"12345678901234567890123456789012345678901234567890123456789012345", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        print_message("  '%s'\n", cases[i].id);
        assert_int_equal(cs_id_valid(cases[i].id), cases[i].ok);
    }
    for (int c = 1; c < 256; c++) {
        bool want = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    c == '_' || c == '.' || c == '-';
        assert_int_equal(cs_id_char((char)c), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good), cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_index_rejects),
        cmocka_unit_test(test_id_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
