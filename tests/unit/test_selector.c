/* test_selector.c - selector compilation and matching (cs/selector.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cs/buf.h"
#include "cs/ids.h"
#include "cs/mem.h"
#include "cs/selector.h"

/* Subjects are written "ID" or "ID@worker"; the index comes from the case's id format (or
 * CP-%06u when the selector is compiled without one), 0 when the ID does not follow it. */
static void subject_of(const char *spec, const char *fmt, char *id, size_t idlen, char *worker,
                       size_t wlen, struct sel_subject *subj)
{
    const char *at = strchr(spec, '@');
    size_t n = at ? (size_t)(at - spec) : strlen(spec);
    assert_true(n < idlen);
    memcpy(id, spec, n);
    id[n] = '\0';
    worker[0] = '\0';
    if (at) {
        assert_true(strlen(at + 1) < wlen);
        strcpy(worker, at + 1);
    }
    struct idfmt f;
    assert_int_equal(idfmt_parse(&f, fmt ? fmt : "CP-%06u", NULL), CS_OK);
    subj->id = id;
    subj->index = 0;
    if (!idfmt_index(&f, id, &subj->index))
        subj->index = 0;
    subj->worker = at ? worker : NULL;
}

/* Every space-separated subject of list matches (or not) the compiled selector. */
static void check_subjects(const struct sel *s, const char *fmt, const char *list, bool want)
{
    char copy[512], id[128], worker[128];
    assert_true(strlen(list) < sizeof(copy));
    strcpy(copy, list);
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
        struct sel_subject subj;
        subject_of(tok, fmt, id, sizeof(id), worker, sizeof(worker), &subj);
        print_message("  %s %s '%s'\n", tok, want ? "matches" : "does not match", sel_text(s));
        assert_int_equal(sel_match(s, &subj), want);
    }
}

#define FMT6 "CP-%06u"

static const struct {
    const char *sel;
    const char *fmt; /* id_format the selector is compiled with, NULL = none */
    const char *yes;
    const char *no;
    bool all;
} match_cases[] = {
    {"*", FMT6, "CP-000001 CP-999999 anything x@w", "", true},
    {"*", NULL, "CP-000001 x", "", true},
    {"CP-000042", FMT6, "CP-000042", "CP-000043 CP-0000042 cp-000042 CP-00004", false},
    {"CP-000042", NULL, "CP-000042", "CP-000043 CP-0000042 cp-000042", false},
    /* exact IDs that do not follow the format compare as text */
    {"CP-42", FMT6, "CP-42", "CP-000042 CP-420", false},
    /* ranges by index */
    {"CP-000001..CP-000010", FMT6, "CP-000001 CP-000005 CP-000010",
     "CP-000000 CP-000011 CP-100000", false},
    {"CP-9..CP-10", "CP-%u", "CP-9 CP-10", "CP-8 CP-11 CP-100 CP-1", false},
    {"CP-000007..CP-000007", FMT6, "CP-000007", "CP-000006 CP-000008", false},
    /* ranges by text (no format, or ends that do not follow it) */
    {"A..C", NULL, "A B Bzz C", "C0 D a 0", false},
    {"CP-000001..CP-000010", NULL, "CP-000001 CP-000005 CP-000010 CP-0000011",
     "CP-000011 CP-000000", false},
    {"CP-1..CP-3", FMT6, "CP-1 CP-2 CP-25 CP-3", "CP-4 CP-000002", false},
    {"CP-10..CP-9", NULL, "CP-10 CP-5 CP-9", "CP-1 CP-95", false},
    /* globs */
    {"CP-00004?", FMT6, "CP-000040 CP-000049 CP-00004x", "CP-00004 CP-0000400 CP-000050", false},
    {"CP-01*", FMT6, "CP-01 CP-012345 CP-01.x", "CP-02 CP-1 xCP-01", false},
    {"CP-0000[1-3]?", FMT6, "CP-000010 CP-000039", "CP-000040 CP-000001 CP-00001", false},
    {"CP-0000[!1-3]?", FMT6, "CP-000040 CP-000001", "CP-000010 CP-000035", false},
    {"*-000042", FMT6, "CP-000042 XX-000042", "CP-000043", false},
    /* workers */
    {"worker:host-a.*", FMT6, "CP-000001@host-a.w0 x@host-a.w1 x@host-a.", "x@host-b.w0 x@host-a x",
     false},
    {"worker:host-a.w0", FMT6, "x@host-a.w0", "x@host-a.w01 x@host-a.w1 host-a.w0", false},
    {"worker:w[0-1]", NULL, "x@w0 x@w1", "x@w2 x@w", false},
    /* unions */
    {"CP-000001,CP-000005..CP-000006,worker:w9,CP-01*", FMT6,
     "CP-000001 CP-000005 CP-000006 x@w9 CP-010000", "CP-000002 CP-000007 x@w8 CP-000004", false},
    {"*,CP-000001", FMT6, "CP-000001 CP-000002 x", "", false},
    {"CP-000003,CP-000001", FMT6, "CP-000001 CP-000003", "CP-000002", false},
};

static void test_match(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(match_cases); i++) {
        struct idfmt f;
        struct cs_error err;
        const char *fmt = match_cases[i].fmt;
        if (fmt)
            assert_int_equal(idfmt_parse(&f, fmt, NULL), CS_OK);
        print_message("selector '%s' fmt %s\n", match_cases[i].sel, fmt ? fmt : "(none)");
        struct sel *s = sel_parse(match_cases[i].sel, fmt ? &f : NULL, &err);
        if (!s)
            print_message("  error: %s\n", err.msg);
        assert_non_null(s);
        assert_string_equal(sel_text(s), match_cases[i].sel);
        assert_int_equal(sel_is_all(s), match_cases[i].all);
        check_subjects(s, fmt, match_cases[i].yes, true);
        check_subjects(s, fmt, match_cases[i].no, false);
        sel_free(s);
    }
}

static const struct {
    const char *sel;
    const char *fmt;
    int code;
    const char *msg;
} bad_cases[] = {
    {"", FMT6, CS_ERR_PARSE, "selector: empty"},
    {"CP-1,,CP-2", FMT6, CS_ERR_PARSE, "empty element at offset 5"},
    {",CP-1", FMT6, CS_ERR_PARSE, "empty element at offset 0"},
    {"CP-1,", FMT6, CS_ERR_PARSE, "empty element at offset 5"},
    {",", NULL, CS_ERR_PARSE, "empty element at offset 0"},
    {"CP 1", FMT6, CS_ERR_PARSE, "' ' not allowed (offset 2)"},
    {"CP-$1", FMT6, CS_ERR_PARSE, "'$' not allowed (offset 3)"},
    {"CP/1", FMT6, CS_ERR_PARSE, "'/' not allowed"},
    {"CP-1,CP:2", FMT6, CS_ERR_PARSE, "':' not allowed (offset 7)"},
    {"CP-1\"", FMT6, CS_ERR_PARSE, "'\"' not allowed"},
    {"where:status=Charging", FMT6, CS_ERR_UNKNOWN, "'where:' selectors are not supported"},
    {"random:10", FMT6, CS_ERR_UNKNOWN, "'random:' selectors are not supported"},
    {"CP-1,where:x", FMT6, CS_ERR_UNKNOWN, "'where:'"},
    {"where:", FMT6, CS_ERR_UNKNOWN, "not supported"},
    {"worker:", FMT6, CS_ERR_PARSE, "'worker:' needs a name (offset 0)"},
    {"CP-1,worker:", FMT6, CS_ERR_PARSE, "needs a name (offset 5)"},
    {"worker:a b", FMT6, CS_ERR_PARSE, "' ' not allowed (offset 8)"},
    {"..CP-1", FMT6, CS_ERR_PARSE, "range needs two IDs"},
    {"CP-1..", FMT6, CS_ERR_PARSE, "range needs two IDs"},
    {"..", NULL, CS_ERR_PARSE, "range needs two IDs"},
    {"CP-1..CP-2*", FMT6, CS_ERR_PARSE, "'*' not allowed (offset 10)"},
    {"CP-?..CP-2", FMT6, CS_ERR_PARSE, "'?' not allowed (offset 3)"},
    {"CP-000010..CP-000001", FMT6, CS_ERR_RANGE, "range end comes before its start"},
    {"CP-1,CP-9..CP-10", NULL, CS_ERR_RANGE, "before its start (offset 5)"},
    {"B..A", NULL, CS_ERR_RANGE, "before its start"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        struct idfmt f;
        struct cs_error err;
        const char *fmt = bad_cases[i].fmt;
        if (fmt)
            assert_int_equal(idfmt_parse(&f, fmt, NULL), CS_OK);
        memset(&err, 0, sizeof(err));
        struct sel *s = sel_parse(bad_cases[i].sel, fmt ? &f : NULL, &err);
        print_message("  '%s' -> %s\n", bad_cases[i].sel, s ? "(ok)" : err.msg);
        assert_null(s);
        assert_int_equal(err.code, bad_cases[i].code);
        assert_non_null(strstr(err.msg, bad_cases[i].msg));
    }
}

/* Length and element-count caps, just at and just over the limit. */
static void test_limits(void **state)
{
    (void)state;
    struct idfmt f;
    struct cs_error err;
    struct buf b = BUF_INIT;
    assert_int_equal(idfmt_parse(&f, FMT6, NULL), CS_OK);

    /* an exact ID: 64 characters, then 65 */
    for (int i = 0; i < CS_ID_MAX; i++)
        buf_putc(&b, 'a');
    struct sel *s = sel_parse(buf_cstr(&b), &f, &err);
    assert_non_null(s);
    sel_free(s);
    buf_putc(&b, 'a');
    assert_null(sel_parse(buf_cstr(&b), &f, &err));
    assert_int_equal(err.code, CS_ERR_RANGE);
    assert_non_null(strstr(err.msg, "element too long"));

    /* a range end of 65 characters */
    buf_puts(&b, "..b");
    assert_null(sel_parse(buf_cstr(&b), NULL, &err));
    assert_int_equal(err.code, CS_ERR_RANGE);
    assert_non_null(strstr(err.msg, "ID longer than 64"));
    buf_reset(&b);

    /* a glob may be longer than an ID, up to 256 */
    buf_putc(&b, '*');
    for (int i = 1; i < 256; i++)
        buf_putc(&b, 'a');
    s = sel_parse(buf_cstr(&b), &f, &err);
    assert_non_null(s);
    sel_free(s);
    buf_putc(&b, 'a');
    assert_null(sel_parse(buf_cstr(&b), &f, &err));
    assert_int_equal(err.code, CS_ERR_RANGE);
    buf_reset(&b);

    /* SEL_MAX_ELEMS elements, then one more */
    for (int i = 1; i <= SEL_MAX_ELEMS; i++)
        buf_printf(&b, "%sCP-%06d", i > 1 ? "," : "", i);
    assert_true(b.len <= SEL_MAX_LEN);
    s = sel_parse(buf_cstr(&b), &f, &err);
    assert_non_null(s);
    struct sel_subject subj = {"CP-000256", 256, NULL};
    assert_true(sel_match(s, &subj));
    subj.id = "CP-000257";
    subj.index = 257;
    assert_false(sel_match(s, &subj));
    sel_free(s);
    buf_puts(&b, ",x");
    assert_null(sel_parse(buf_cstr(&b), &f, &err));
    assert_int_equal(err.code, CS_ERR_TOO_BIG);
    assert_non_null(strstr(err.msg, "more than 256 elements"));
    buf_reset(&b);

    /* SEL_MAX_LEN characters, then one more */
    buf_puts(&b, "worker:");
    while (b.len < SEL_MAX_LEN)
        buf_putc(&b, 'w');
    s = sel_parse(buf_cstr(&b), &f, &err);
    assert_non_null(s);
    sel_free(s);
    buf_putc(&b, 'w');
    assert_null(sel_parse(buf_cstr(&b), &f, &err));
    assert_int_equal(err.code, CS_ERR_TOO_BIG);
    assert_non_null(strstr(err.msg, "longer than 4096"));
    buf_free(&b);
}

/* Ranges and exact IDs compiled by index match a subject by its index. */
static void test_by_index(void **state)
{
    (void)state;
    struct idfmt f;
    assert_int_equal(idfmt_parse(&f, "EV%05u.x", NULL), CS_OK);
    struct sel *s = sel_parse("EV00098.x..EV00102.x,EV00200.x", &f, NULL);
    assert_non_null(s);
    for (uint32_t i = 90; i < 210; i++) {
        char id[CS_ID_MAX + 1];
        idfmt_format(&f, i, id, sizeof(id));
        struct sel_subject subj = {id, i, "w"};
        bool want = (i >= 98 && i <= 102) || i == 200;
        assert_int_equal(sel_match(s, &subj), want);
    }
    sel_free(s);
    /* the ends of "EV00098..EV00102" follow no format here: text ("EV00098.x" > "EV00098") */
    s = sel_parse("EV00098..EV00102", NULL, NULL);
    assert_non_null(s);
    struct sel_subject subj = {"EV00100.x", 100, NULL};
    assert_true(sel_match(s, &subj));
    subj.id = "EV00102.x";
    assert_false(sel_match(s, &subj));
    sel_free(s);
    sel_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_by_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
