/* test_astats.c - per-action statistics (cs/astats.h): recording, bounded names and codes,
 * rendering and merging back exactly, differences, windows and what they cost. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/astats.h"
#include "cs/buf.h"
#include "cs/mem.h"

static struct astats *fresh(void)
{
    return cs_calloc(1, sizeof(struct astats));
}

static void drop(struct astats *a)
{
    astats_release(a);
    cs_free(a);
}

/* A script of uplink events: action, what happened, latency (µs) or bytes, code. */
enum ev { SENT, RESULT, ERROR, TIMEOUT };
struct up_ev {
    const char *action;
    enum ev what;
    uint64_t v;
    const char *code;
};

static void play(struct astats *a, const struct up_ev *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (e[i].what) {
        case SENT:
            astats_up_sent(a, e[i].action, (size_t)e[i].v);
            break;
        case RESULT:
            astats_up_answer(a, e[i].action, e[i].v, NULL);
            break;
        case ERROR:
            astats_up_answer(a, e[i].action, e[i].v, e[i].code);
            break;
        case TIMEOUT:
            astats_up_timeout(a, e[i].action);
            break;
        }
    }
}

static const struct up_ev script[] = {
    {"BootNotification", SENT, 200, NULL}, {"BootNotification", RESULT, 1500, NULL},
    {"Heartbeat", SENT, 40, NULL},         {"Heartbeat", SENT, 40, NULL},
    {"Heartbeat", RESULT, 900, NULL},      {"Heartbeat", TIMEOUT, 0, NULL},
    {"Authorize", SENT, 80, NULL},         {"Authorize", ERROR, 200000, "InternalError"},
    {"Authorize", SENT, 80, NULL},         {"Authorize", ERROR, 210000, "FormatViolation"},
    {"Authorize", SENT, 80, NULL},         {"Authorize", ERROR, 190000, "SomethingNew"},
    {"MyCustom_1", SENT, 10, NULL},        {"MyCustom_1", RESULT, 5, NULL},
};

static void test_record(void **state)
{
    (void)state;
    struct astats *a = fresh();
    play(a, script, ARRAY_SIZE(script));
    const struct astats_row *b = astats_find(a, ASTATS_UP, "BootNotification");
    assert_non_null(b);
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->answered, 1);
    assert_int_equal(b->bytes, 200);
    assert_int_equal(b->lat.count, 1);
    assert_int_equal(b->lat.max, 1500);
    const struct astats_row *h = astats_find(a, ASTATS_UP, "Heartbeat");
    assert_true(h->calls == 2 && h->answered == 1 && h->timeouts == 1 && h->errors == 0);
    const struct astats_row *au = astats_find(a, ASTATS_UP, "Authorize");
    assert_int_equal(au->errors, 3);
    assert_int_equal(au->code[AC_INTERNAL], 1);
    assert_int_equal(au->code[AC_FORMATION], 1); /* the later spelling counts under 1.6's */
    assert_int_equal(au->code[AC_OTHER], 1);
    assert_int_equal(au->lat.sum, 600000);
    assert_non_null(astats_find(a, ASTATS_UP, "MyCustom_1"));
    assert_null(astats_find(a, ASTATS_DOWN, "BootNotification"));
    drop(a);
}

/* Codes by name, both ways. */
static void test_codes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int code;
    } cases[] = {
        {"NotImplemented", AC_NOT_IMPLEMENTED},
        {"NotSupported", AC_NOT_SUPPORTED},
        {"InternalError", AC_INTERNAL},
        {"ProtocolError", AC_PROTOCOL},
        {"SecurityError", AC_SECURITY},
        {"FormationViolation", AC_FORMATION},
        {"FormatViolation", AC_FORMATION},
        {"PropertyConstraintViolation", AC_PROPERTY},
        {"OccurenceConstraintViolation", AC_OCCURRENCE},
        {"OccurrenceConstraintViolation", AC_OCCURRENCE},
        {"TypeConstraintViolation", AC_TYPE},
        {"GenericError", AC_GENERIC},
        {"MessageTypeNotSupported", AC_MSG_TYPE},
        {"RpcFrameworkError", AC_RPC},
        {"other", AC_OTHER},
        {"", AC_OTHER},
        {"internalerror", AC_OTHER},
        {NULL, AC_OTHER},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        assert_int_equal(astats_code_of(cases[i].name), cases[i].code);
    for (int c = 0; c < ASTATS_CODES; c++)
        assert_int_equal(astats_code_of(astats_code_name(c)), c);
    assert_string_equal(astats_code_name(-1), "other");
    assert_string_equal(astats_code_name(ASTATS_CODES), "other");
}

/* Names that are not fit for a field, a label or a CSV cell count as "other", and so does every
 * name past the cap: rows, fields and labels stay bounded whatever the platform sends. */
static void test_bounded_names(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "has space",
        "dot.ted",
        "quote\"",
        "new\nline",
        "slash/",
        "x{y}",
        "ünïcode",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" /* 55 characters */,
        ASTATS_OTHER,
    };
    struct astats *a = fresh();
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        astats_down_begin(a, bad[i], 0), astats_down_end(a, NULL, 1, 10);
    astats_down_begin(a, NULL, 0);
    astats_down_end(a, NULL, 1, 10);
    const struct astats_row *o = astats_find(a, ASTATS_DOWN, ASTATS_OTHER);
    assert_non_null(o);
    assert_int_equal(o->calls, ARRAY_SIZE(bad) + 1);
    assert_null(astats_row_at(a, ASTATS_DOWN, 0)); /* nothing else took a row */

    for (int i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Action%d", i);
        astats_up_sent(a, name, 1);
    }
    size_t named = 0;
    for (size_t i = 0; i < astats_rows(ASTATS_UP); i++)
        named += astats_row_at(a, ASTATS_UP, i) != NULL;
    assert_int_equal(named, ASTATS_UP_ROWS);
    assert_int_equal(astats_find(a, ASTATS_UP, ASTATS_OTHER)->calls, 100 - (ASTATS_UP_ROWS - 1));
    assert_non_null(astats_find(a, ASTATS_UP, "Action0"));
    assert_null(astats_find(a, ASTATS_UP, "Action99"));
    struct kvlist kv = KVLIST_INIT;
    astats_render(a, ASTATS_R_ALL, &kv);
    assert_true(kv.n < 2000);
    for (size_t i = 0; i < kv.n; i++)
        assert_true(astats_is_field(kv.v[i].key));
    kv_free(&kv);
    drop(a);
}

/* A platform CALL: received, answered with a result or an error; our time to answer. An end
 * without a begin (a frame that did not parse) is not counted. */
static void test_downlink(void **state)
{
    (void)state;
    struct astats *a = fresh();
    astats_down_end(a, "FormationViolation", 50, 1000);
    astats_down_begin(a, "RemoteStartTransaction", 1000);
    astats_down_end(a, NULL, 60, 1250);
    astats_down_begin(a, "Reset", 2000);
    astats_down_end(a, NULL, 40, 2100);
    astats_down_begin(a, "GetDiagnostics", 3000);
    astats_down_end(a, "NotSupported", 90, 3040);
    astats_down_end(a, NULL, 10, 4000); /* no second answer */
    const struct astats_row *r = astats_find(a, ASTATS_DOWN, "RemoteStartTransaction");
    assert_true(r->calls == 1 && r->answered == 1 && r->errors == 0 && r->bytes == 60);
    assert_int_equal(r->lat.max, 250);
    r = astats_find(a, ASTATS_DOWN, "GetDiagnostics");
    assert_true(r->calls == 1 && r->errors == 1 && r->code[AC_NOT_SUPPORTED] == 1);
    assert_int_equal(r->lat.count, 1);
    size_t rows = 0;
    for (size_t i = 0; i < astats_rows(ASTATS_DOWN); i++)
        rows += astats_row_at(a, ASTATS_DOWN, i) != NULL;
    assert_int_equal(rows, 3);
    drop(a);
}

static void assert_rows_equal(const struct astats_row *x, const struct astats_row *y)
{
    assert_string_equal(x->name, y->name);
    assert_int_equal(x->calls, y->calls);
    assert_int_equal(x->answered, y->answered);
    assert_int_equal(x->errors, y->errors);
    assert_int_equal(x->timeouts, y->timeouts);
    assert_int_equal(x->bytes, y->bytes);
    assert_memory_equal(x->code, y->code, sizeof(x->code));
    assert_int_equal(x->lat.count, y->lat.count);
    assert_int_equal(x->lat.sum, y->lat.sum);
    assert_int_equal(x->lat.max, y->lat.max);
    if (x->lat.count)
        assert_int_equal(x->min_us, y->min_us);
    assert_memory_equal(x->lat.b, y->lat.b, sizeof(x->lat.b));
}

/* Two workers rendered into their hashes and added up equal one worker that saw everything:
 * the fleet's figures are exact merges (sums, exact maxima, histograms). */
static void test_render_merge_exact(void **state)
{
    (void)state;
    struct astats *w1 = fresh(), *w2 = fresh(), *all = fresh(), *sum = fresh();
    size_t half = ARRAY_SIZE(script) / 2;
    play(w1, script, half);
    play(w2, script + half, ARRAY_SIZE(script) - half);
    play(all, script, ARRAY_SIZE(script));
    astats_down_begin(w2, "Reset", 0);
    astats_down_end(w2, "InternalError", 33, 777);
    astats_down_begin(all, "Reset", 0);
    astats_down_end(all, "InternalError", 33, 777);
    struct kvlist k1 = KVLIST_INIT, k2 = KVLIST_INIT;
    astats_render(w1, ASTATS_R_ALL, &k1);
    astats_render(w2, ASTATS_R_ALL, &k2);
    kv_set(&k2, "msgs_out", "12"); /* other fields are not ours */
    assert_true(astats_add(sum, &k1, ASTATS_R_ALL) > 0);
    assert_true(astats_add(sum, &k2, ASTATS_R_ALL) > 0);
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *r = astats_row_at(all, (enum astats_dir)d, i);
            if (!r)
                continue;
            const struct astats_row *s = astats_find(sum, (enum astats_dir)d, r->name);
            assert_non_null(s);
            assert_rows_equal(r, s);
        }
    }
    assert_string_equal(kv_get(&k2, "down.Reset.err.InternalError"), "1");
    assert_string_equal(kv_get(&k1, "conf.BootNotification.max_ms"), "1.500");
    assert_null(kv_get(&k1, "down.Reset.timeouts")); /* no timeouts for the platform's CALLs */
    /* CUM only: no percentiles, no windows (what history entries and bases keep) */
    struct kvlist c = KVLIST_INIT;
    astats_render(all, ASTATS_R_CUM, &c);
    assert_non_null(kv_get(&c, "conf.Authorize.hist"));
    assert_null(kv_get(&c, "conf.Authorize.p50_ms"));
    assert_null(kv_get(&c, "conf.Authorize.win_hist"));
    kv_free(&c);
    kv_free(&k1);
    kv_free(&k2);
    drop(w1);
    drop(w2);
    drop(all);
    drop(sum);
}

/* Text from Redis that is not what a worker writes: taken where it parses, skipped where not,
 * never more than the caps. */
static void test_parse_garbage(void **state)
{
    (void)state;
    static const struct {
        const char *k, *v;
        bool taken;
    } cases[] = {
        {"conf.Heartbeat.calls", "5", true},
        {"conf.Heartbeat.calls", "-5", false},
        {"conf.Heartbeat.answered", "5x", false},
        {"conf.Heartbeat.answered", "", false},
        {"conf.Heartbeat.errors", "99999999999999999999999", false},
        {"conf.Heartbeat.hist", "3:1,200:5", false},
        {"conf.Heartbeat.hist", "3:1,40:5", true},
        {"conf.Heartbeat.max_ms", "nan", false},
        {"conf.Heartbeat.max_ms", "0.040", true},
        {"conf.Heartbeat.err.InternalError", "2", true},
        {"conf.Heartbeat.err.", "2", true}, /* an unknown code: other */
        {"conf.Heartbeat.p50_ms", "1.0", false},
        {"conf.Heartbeat.nosuch", "1", false},
        {"conf.Heartbeat.", "1", false},
        {"conf.Heartbeat", "1", false},
        {"conf..calls", "1", true}, /* an unfit name: other */
        {"conf.a b.calls", "1", true},
        {"down.Reset.win_hist", "1:1", true},
        {"down.Reset.win_max_ms", "0.001", true},
        {"conf", "1", false},
        {"confx.A.calls", "1", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct astats *a = fresh();
        struct kvlist kv = KVLIST_INIT;
        kv_set(&kv, cases[i].k, cases[i].v);
        size_t n = astats_add(a, &kv, ASTATS_R_ALL);
        if (n != (cases[i].taken ? 1u : 0u))
            fail_msg("%s=%s: taken %zu", cases[i].k, cases[i].v, n);
        kv_free(&kv);
        drop(a);
    }
    /* the exact maximum wins within its bucket, never beyond it */
    struct astats *a = fresh();
    struct kvlist kv = KVLIST_INIT;
    kv_set(&kv, "conf.X.hist", "40:1");
    kv_set(&kv, "conf.X.max_ms", "999");
    astats_add(a, &kv, ASTATS_R_ALL);
    assert_true(astats_find(a, ASTATS_UP, "X")->lat.max < 999000);
    kv_free(&kv);
    /* a part left out is not taken */
    kv_set(&kv, "conf.X.win_calls", "3");
    assert_int_equal(astats_add(a, &kv, ASTATS_R_CUM), 0);
    kv_free(&kv);
    drop(a);
}

/* A run's figures: the end minus the start, histograms included. */
static void test_sub(void **state)
{
    (void)state;
    struct astats *start = fresh(), *end = fresh(), *d = fresh();
    play(start, script, 6);
    play(end, script, ARRAY_SIZE(script));
    astats_sub(d, end, start);
    const struct astats_row *h = astats_find(d, ASTATS_UP, "Heartbeat");
    assert_true(h->calls == 0 && h->answered == 0 && h->timeouts == 0 && h->lat.count == 0);
    const struct astats_row *au = astats_find(d, ASTATS_UP, "Authorize");
    assert_true(au->calls == 3 && au->errors == 3 && au->lat.count == 3);
    assert_int_equal(au->lat.sum, 600000);
    /* the minimum of a difference: a lower bound, here exact (the fastest is in the range) */
    assert_int_equal(au->min_us, 190000);
    assert_int_equal(astats_find(end, ASTATS_UP, "BootNotification")->min_us, 1500);
    const struct astats_row *b = astats_find(d, ASTATS_UP, "BootNotification");
    assert_int_equal(b->lat.count, 0);
    drop(start);
    drop(end);
    drop(d);
}

/* The window follows a change the since-start figures hide, empties when the platform goes
 * quiet, and costs a few KiB, not a histogram per snapshot and action. */
static void test_window(void **state)
{
    (void)state;
    struct astats *a = fresh();
    int64_t t = 5000000;
    for (int s = 0; s < 30; s++, t += 1000) {
        for (int i = 0; i < 10; i++) {
            astats_up_sent(a, "MeterValues", 100);
            astats_up_answer(a, "MeterValues", 2000, NULL);
        }
        astats_window_step(a, t, 10000);
    }
    const struct astats_row *m = astats_find(a, ASTATS_UP, "MeterValues");
    assert_int_equal(m->win_calls, 100);
    assert_int_equal(m->win.count, 100);
    for (int s = 0; s < 5; s++, t += 1000) {
        for (int i = 0; i < 10; i++) {
            astats_up_sent(a, "MeterValues", 100);
            astats_up_answer(a, "MeterValues", 300000, "InternalError");
        }
        astats_window_step(a, t, 10000);
    }
    assert_int_equal(m->win_errors, 50);
    assert_true(hist_quantile(&m->win, 0.60) >= 300000);
    assert_true(hist_quantile(&m->lat, 0.60) <= 2500); /* since the start: still fast */
    struct kvlist kv = KVLIST_INIT;
    astats_render(a, ASTATS_R_ALL, &kv);
    assert_string_equal(kv_get(&kv, "conf.MeterValues.win_errors"), "50");
    kv_free(&kv);
    for (int s = 0; s < 12; s++, t += 1000)
        astats_window_step(a, t, 10000);
    assert_int_equal(m->win_calls, 0);
    assert_int_equal(m->win.count, 0);
    /* a new action after the others: all of it is in its window */
    astats_up_sent(a, "Heartbeat", 10);
    astats_up_answer(a, "Heartbeat", 1000, NULL);
    astats_window_step(a, t, 10000);
    assert_int_equal(astats_find(a, ASTATS_UP, "Heartbeat")->win.count, 1);
    size_t bytes = astats_window_bytes(a);
    assert_true(bytes > 0 && bytes < 16 * 1024);
    drop(a);
}

/* The views every reader shows: the busiest over the window first, requests and failures as
 * Locust counts them, NaN (null in JSON) for a latency with nothing measured. */
static void test_view(void **state)
{
    (void)state;
    struct astats *a = fresh();
    play(a, script, sizeof(script) / sizeof(script[0]));
    astats_down_begin(a, "RemoteStartTransaction", 1000);
    astats_down_end(a, NULL, 50, 1400);
    astats_window_step(a, 1000, 10000);
    struct astats_view v[8];
    assert_int_equal(astats_view(a, 10, v, 2), 2); /* at most max */
    size_t n = astats_view(a, 10, v, 8);
    assert_int_equal(n, 5);
    /* Authorize: 3 CALLs answered in the window, all CALLERRORs */
    assert_string_equal(v[0].type, "CALL");
    assert_string_equal(v[0].row->name, "Authorize");
    assert_int_equal(v[0].requests, 3);
    assert_int_equal(v[0].failures, 3);
    assert_true(fabs(v[0].win_rps - 0.3) < 1e-9 && fabs(v[0].win_fps - 0.3) < 1e-9);
    /* Heartbeat: one answer and one timeout, both requests */
    assert_string_equal(v[1].row->name, "Heartbeat");
    assert_int_equal(v[1].requests, 2);
    assert_int_equal(v[1].failures, 1);
    assert_int_equal(v[1].timeouts, 1);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].type, "DOWN") == 0)
            assert_int_equal(v[i].requests, 1);
    struct buf b = BUF_INIT;
    struct jw j;
    jw_init(&j, &b);
    astats_view_json(&j, v, 2);
    assert_non_null(strstr(buf_cstr(&b), "{\"type\":\"CALL\",\"name\":\"Authorize\","
                                         "\"requests\":3,\"failures\":3,\"timeouts\":0,"
                                         "\"errors_by_code\":{"));
    buf_free(&b);
    /* nothing answered in the window: no latency, not 0 ms */
    for (int s = 0; s < 12; s++)
        astats_window_step(a, 2000 + s * 1000, 10000);
    n = astats_view(a, 10, v, 8);
    assert_true(isnan(v[0].win_p50) && !isnan(v[0].p95));
    jw_init(&j, &b);
    astats_view_json(&j, v, 1);
    assert_non_null(strstr(buf_cstr(&b), "\"win_p50_ms\":null"));
    buf_free(&b);
    drop(a);
}

/* A typical worker: the ten built-in messages and four platform CALLs, latencies spread over a
 * few dozen buckets, the default window of 10 s stepped every second. */
static void test_window_typical(void **state)
{
    (void)state;
    static const char *const up[] = {"BootNotification",
                                     "Heartbeat",
                                     "StatusNotification",
                                     "MeterValues",
                                     "Authorize",
                                     "StartTransaction",
                                     "StopTransaction",
                                     "DataTransfer",
                                     "FirmwareStatusNotification",
                                     "DiagnosticsStatusNotification"};
    static const char *const down[] = {"RemoteStartTransaction", "RemoteStopTransaction", "Reset",
                                       "TriggerMessage"};
    struct astats *a = fresh();
    int64_t t = 1000;
    uint64_t x = 12345;
    for (int s = 0; s < 120; s++, t += 1000) {
        for (int i = 0; i < 200; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const char *name = up[(x >> 33) % ARRAY_SIZE(up)];
            astats_up_sent(a, name, 100);
            astats_up_answer(a, name, 2000 + (x >> 40) % 400000, NULL); /* 2..400 ms */
            if (i % 20 == 0) {
                astats_down_begin(a, down[(x >> 20) % ARRAY_SIZE(down)], 0);
                astats_down_end(a, NULL, 50, (int64_t)(20 + (x >> 50) % 300));
            }
        }
        astats_window_step(a, t, 10000);
    }
    print_message("window snapshots, 10 + 4 actions: %zu bytes\n", astats_window_bytes(a));
    assert_true(astats_window_bytes(a) < 64 * 1024);
    drop(a);
}

/* The cost with every row in use and wide latency spreads: bounded by the caps. */
static void test_window_worst_case(void **state)
{
    (void)state;
    struct astats *a = fresh();
    int64_t t = 1000;
    for (int s = 0; s < 60; s++, t += 1000) {
        for (int i = 0; i < 64; i++) {
            char name[16];
            snprintf(name, sizeof(name), "A%d", i % 40);
            astats_up_sent(a, name, 10);
            astats_up_answer(a, name, (uint64_t)1 << (i % 30), NULL);
            astats_down_begin(a, name, 0);
            astats_down_end(a, NULL, 10, (int64_t)1 << (i % 25));
        }
        astats_window_step(a, t, 10000);
    }
    size_t bytes = astats_window_bytes(a);
    print_message("window snapshots, every row in use: %zu bytes; struct astats %zu bytes\n", bytes,
                  sizeof(struct astats));
    assert_true(bytes < 512 * 1024);
    drop(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_bounded_names),
        cmocka_unit_test(test_downlink),
        cmocka_unit_test(test_render_merge_exact),
        cmocka_unit_test(test_parse_garbage),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_window_typical),
        cmocka_unit_test(test_window_worst_case),
        cmocka_unit_test(test_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
