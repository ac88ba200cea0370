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
#include "cs/perm.h"
#include "cs/selector.h"
#include "cs/util.h"

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
    subj->cfg = NULL;
    subj->cfg_privdata = NULL;
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

/* where: reads config through the subject: a fixed little table stands in for chargers. */
static bool fake_cfg(void *privdata, const char *key, struct buf *out)
{
    const struct sel_subject *s = privdata;
    if (strcmp(key, "model") == 0) {
        buf_puts(out, s->index % 2 ? "DC150" : "AC22");
        return true;
    }
    if (strcmp(key, "firmware") == 0) {
        buf_puts(out, s->index < 10 ? "1.0.0" : "2.1.3");
        return true;
    }
    return false;
}

static void test_where(void **state)
{
    (void)state;
    static const struct {
        const char *sel;
        uint32_t index;
        bool want;
    } cases[] = {
        {"where:model=DC150", 1, true},   {"where:model=DC150", 2, false},
        {"where:model=AC*", 2, true},     {"where:firmware=2.*", 12, true},
        {"where:firmware=2.*", 3, false}, {"where:model=DC150,CP-000002", 2, true},
        {"where:vendor=x", 3, false}, /* a key fake_cfg does not know */
    };
    struct idfmt f;
    idfmt_parse(&f, FMT6, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cs_error err;
        struct sel *s = sel_parse(cases[i].sel, &f, &err);
        assert_non_null(s);
        char id[32];
        idfmt_format(&f, cases[i].index, id, sizeof(id));
        struct sel_subject subj = {.id = id, .index = cases[i].index, .cfg = fake_cfg};
        subj.cfg_privdata = &subj;
        print_message("  %s on %s: %d\n", cases[i].sel, id, cases[i].want);
        assert_int_equal(sel_match(s, &subj), cases[i].want);
        /* Without a config lookup, where: never matches. */
        subj.cfg = NULL;
        if (!strchr(cases[i].sel, ','))
            assert_false(sel_match(s, &subj));
        assert_true(sel_uses_config(s));
        sel_free(s);
    }
}

static void test_random(void **state)
{
    (void)state;
    struct idfmt f;
    idfmt_parse(&f, FMT6, NULL);
    static const struct {
        const char *sel;
        uint32_t fleet;
        uint32_t want_min, want_max; /* how many of the fleet are picked */
    } cases[] = {
        {"random:100", 1000, 100, 100},   {"random:1", 50, 1, 1},
        {"random:0", 50, 0, 0},           {"random:500", 100, 100, 100},
        {"random:10%", 10000, 900, 1100}, {"random:0%", 100, 0, 0},
        {"random:100%", 100, 100, 100},   {"random:100:seed=9", 1000, 100, 100},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cs_error err;
        struct sel *s = sel_parse(cases[i].sel, &f, &err),
                   *again = sel_parse(cases[i].sel, &f, &err);
        assert_non_null(s);
        sel_prepare(s, cases[i].fleet, 42);
        sel_prepare(again, cases[i].fleet, 42);
        uint32_t n = 0;
        for (uint32_t k = 1; k <= cases[i].fleet; k++) {
            char id[32];
            idfmt_format(&f, k, id, sizeof(id));
            struct sel_subject subj = {.id = id, .index = k};
            bool m = sel_match(s, &subj);
            /* Deterministic: the same selector picks the same chargers. */
            assert_int_equal(m, sel_match(again, &subj));
            n += m;
        }
        print_message("  %s of %u: %u picked\n", cases[i].sel, cases[i].fleet, n);
        assert_true(n >= cases[i].want_min && n <= cases[i].want_max);
        sel_free(s);
        sel_free(again);
    }
    /* Another seed picks other chargers. */
    struct cs_error err;
    struct sel *a = sel_parse("random:100:seed=1", &f, &err),
               *b = sel_parse("random:100:seed=2", &f, &err);
    sel_prepare(a, 1000, 0);
    sel_prepare(b, 1000, 0);
    uint32_t same = 0;
    for (uint32_t k = 1; k <= 1000; k++) {
        struct sel_subject subj = {.id = "x", .index = k};
        same += sel_match(a, &subj) && sel_match(b, &subj);
    }
    assert_true(same < 50);
    sel_free(a);
    sel_free(b);
}

/* random: costs O(1) per charger and nothing per fleet: at the largest fleet (10^8) preparing
 * takes no time and no memory (it used to allocate 8 bytes per charger and sort them, per
 * command: 800 MB and seconds on a worker's loop). */
static void test_random_large(void **state)
{
    (void)state;
    struct idfmt f;
    struct cs_error err;
    idfmt_parse(&f, FMT6, NULL);
    const uint32_t fleet = CS_FLEET_MAX;
    int64_t t0 = cs_mono_ms();
    for (int rep = 0; rep < 100; rep++) {
        struct sel *s = sel_parse("random:1,random:2,random:3,random:1000000", &f, &err);
        assert_non_null(s);
        sel_prepare(s, fleet, (uint64_t)rep);
        sel_free(s);
    }
    int64_t prepare_ms = cs_mono_ms() - t0;
    print_message("  100 prepares over a fleet of %u: %lld ms\n", fleet, (long long)prepare_ms);
    assert_true(prepare_ms < 500);

    /* exactly N: count the sample through the inverse (the first N positions) */
    struct sel *s = sel_parse("random:1000", &f, &err);
    sel_prepare(s, fleet, 77);
    struct perm p;
    perm_init(&p, fleet, 77);
    t0 = cs_mono_ms();
    for (uint64_t pos = 0; pos < 1000; pos++) {
        uint32_t index = (uint32_t)perm_inv(&p, pos) + 1;
        struct sel_subject subj = {.id = "x", .index = index};
        assert_true(sel_match(s, &subj));
    }
    uint32_t hits = 0;
    for (uint32_t k = 1; k <= 1000000; k++) { /* a worker's share: 1/100 of the fleet */
        struct sel_subject subj = {.id = "x", .index = k};
        hits += sel_match(s, &subj);
    }
    print_message("  random:1000 of 10^8: %u in the first 10^6 (about 10), %lld ms\n", hits,
                  (long long)(cs_mono_ms() - t0));
    assert_true(hits < 40);
    struct sel_subject beyond = {.id = "x", .index = fleet + 1};
    assert_false(sel_match(s, &beyond));
    sel_free(s);
}

/* Which sample: the same seed and size give the same one; another seed another; random:P%
 * keeps each index's membership when the fleet size changes. */
static void test_random_seeds(void **state)
{
    (void)state;
    struct idfmt f;
    struct cs_error err;
    idfmt_parse(&f, FMT6, NULL);
    struct sel *a = sel_parse("random:50", &f, &err), *b = sel_parse("random:50", &f, &err);
    sel_prepare(a, 1000, 11);
    sel_prepare(b, 1000, 12); /* e.g. two commands' cmd_seed */
    uint32_t both = 0, na = 0;
    for (uint32_t k = 1; k <= 1000; k++) {
        struct sel_subject subj = {.id = "x", .index = k};
        na += sel_match(a, &subj);
        both += sel_match(a, &subj) && sel_match(b, &subj);
    }
    assert_int_equal(na, 50);
    assert_true(both < 15);
    /* an explicit seed wins over the default */
    sel_free(a);
    sel_free(b);
    a = sel_parse("random:50:seed=3", &f, &err);
    b = sel_parse("random:50:seed=3", &f, &err);
    sel_prepare(a, 1000, 11);
    sel_prepare(b, 1000, 12);
    for (uint32_t k = 1; k <= 1000; k++) {
        struct sel_subject subj = {.id = "x", .index = k};
        assert_int_equal(sel_match(a, &subj), sel_match(b, &subj));
    }
    sel_free(a);
    sel_free(b);
    /* P%: growing the fleet keeps who was in */
    a = sel_parse("random:20%", &f, &err);
    b = sel_parse("random:20%", &f, &err);
    sel_prepare(a, 1000, sel_layer_seed("canary"));
    sel_prepare(b, 5000, sel_layer_seed("canary"));
    for (uint32_t k = 1; k <= 1000; k++) {
        struct sel_subject subj = {.id = "x", .index = k};
        assert_int_equal(sel_match(a, &subj), sel_match(b, &subj));
    }
    sel_free(a);
    sel_free(b);
    /* layer seeds: fixed per name, different between names */
    assert_true(sel_layer_seed("canary") == sel_layer_seed("canary"));
    assert_true(sel_layer_seed("canary") != sel_layer_seed("beta"));
}

static void test_index_set(void **state)
{
    (void)state;
    static const struct {
        const char *sel;
        bool ok;
        const char *ranges;
    } cases[] = {
        {"CP-000001", true, "1"},   {"CP-000001..CP-000010,CP-000020", true, "1-10,20"},
        {"CP-00001?", false, ""},   {"*", false, ""},
        {"worker:a.w0", false, ""}, {"random:5", false, ""},
    };
    struct idfmt f;
    idfmt_parse(&f, FMT6, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cs_error err;
        struct sel *s = sel_parse(cases[i].sel, &f, &err);
        struct rset r = RSET_INIT;
        assert_non_null(s);
        assert_int_equal(sel_index_set(s, &r), cases[i].ok);
        if (cases[i].ok) {
            struct buf b = BUF_INIT;
            rset_format(&r, &b);
            assert_string_equal(buf_cstr(&b), cases[i].ranges);
            buf_free(&b);
        }
        rset_free(&r);
        sel_free(s);
    }
}

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
    {"CP-000001..CP-000010", FMT6, "CP-000001 CP-000005 CP-000010", "CP-000000 CP-000011 CP-100000",
     false},
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
    {"where:status=Charging", FMT6, CS_ERR_UNKNOWN, "'status' is not a charger config key"},
    {"random:10x", FMT6, CS_ERR_PARSE, "random: wants N"},
    {"CP-1,where:x", FMT6, CS_ERR_PARSE, "where: needs KEY=VALUE"},
    {"where:", FMT6, CS_ERR_PARSE, "needs an argument"},
    {"random:101%", FMT6, CS_ERR_PARSE, "random: wants N"},
    {"random:5:seed=x", FMT6, CS_ERR_PARSE, "bad seed"},
    {"worker:", FMT6, CS_ERR_PARSE, "'worker:' needs an argument (offset 0)"},
    {"CP-1,worker:", FMT6, CS_ERR_PARSE, "needs an argument (offset 5)"},
    {"worker:a b", FMT6, CS_ERR_PARSE, "' ' not allowed (offset 8)"},
    {"..CP-1", FMT6, CS_ERR_PARSE, "range needs two IDs"},
    {"CP-1..", FMT6, CS_ERR_PARSE, "range needs two IDs"},
    {"..", NULL, CS_ERR_PARSE, "range needs two IDs"},
    {"CP-1..CP-2*", FMT6, CS_ERR_PARSE, "'*' not allowed (offset 10)"},
    {"CP-?..CP-2", FMT6, CS_ERR_PARSE, "'?' not allowed (offset 3)"},
    {"CP-000010..CP-000001", FMT6, CS_ERR_RANGE, "range end comes before its start"},
    {"CP-1,CP-9..CP-10", NULL, CS_ERR_RANGE, "before its start (offset 5)"},
    {"B..A", NULL, CS_ERR_RANGE, "before its start"},
    {"CP-000001..CP-000005..CP-000009", FMT6, CS_ERR_PARSE,
     "a range is A..B with one '..' (offset 20)"},
    {"CP-000001..CP-000005..CP-000009", NULL, CS_ERR_PARSE, "with one '..'"},
    {"A..B..", NULL, CS_ERR_PARSE, "with one '..'"},
    {"CP-000001...CP-000009", FMT6, CS_ERR_PARSE, "with one '..' (offset 11)"},
    {"CP-1,A..B..C", NULL, CS_ERR_PARSE, "with one '..' (offset 9)"},
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
    struct sel_subject subj = {.id = "CP-000256", .index = 256};
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
        struct sel_subject subj = {.id = id, .index = i, .worker = "w"};
        bool want = (i >= 98 && i <= 102) || i == 200;
        assert_int_equal(sel_match(s, &subj), want);
    }
    sel_free(s);
    /* the ends of "EV00098..EV00102" follow no format here: text ("EV00098.x" > "EV00098") */
    s = sel_parse("EV00098..EV00102", NULL, NULL);
    assert_non_null(s);
    struct sel_subject subj = {.id = "EV00100.x", .index = 100};
    assert_true(sel_match(s, &subj));
    subj.id = "EV00102.x";
    assert_false(sel_match(s, &subj));
    sel_free(s);
    sel_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_where),        cmocka_unit_test(test_random),
        cmocka_unit_test(test_random_large), cmocka_unit_test(test_random_seeds),
        cmocka_unit_test(test_index_set),    cmocka_unit_test(test_match),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_limits),
        cmocka_unit_test(test_by_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
