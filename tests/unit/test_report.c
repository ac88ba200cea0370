/* test_report.c - reports (cs/report.h) from cumulative snapshots and history entries: the
 * figures, the metrics thresholds read, Locust's CSV columns, JSON that parses, a page that
 * needs nothing from the network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/mem.h"
#include "cs/report.h"

/* The fleet's figures at some moment: `k` seconds of steady traffic from the start. */
static void snapshot(struct kvlist *out, int k)
{
    struct worker_stats *s = cs_calloc(1, sizeof(*s));
    s->connected = 10 + (uint64_t)k;
    s->assigned = 20;
    s->msgs_out = 100 * (uint64_t)k;
    s->call_timeouts = (uint64_t)k / 4;
    for (int i = 0; i < 10 * k; i++) {
        astats_up_sent(&s->act, "BootNotification", 200);
        astats_up_answer(&s->act, "BootNotification", 80000 + (uint64_t)(i % 10) * 1000, NULL);
    }
    for (int i = 0; i < 2 * k; i++) {
        astats_up_sent(&s->act, "Authorize", 50);
        astats_up_answer(&s->act, "Authorize", 100000, i % 2 ? NULL : "InternalError");
    }
    for (int i = 0; i < k; i++) {
        astats_up_sent(&s->act, "Heartbeat", 30);
        astats_up_timeout(&s->act, "Heartbeat");
    }
    astats_down_begin(&s->act, "Reset", 0);
    astats_down_end(&s->act, k > 2 ? "NotSupported" : NULL, 40, 200);
    hist_add(&s->ack_us, 3000);
    kv_clear(out);
    stats_render(s, out);
    cs_free(s);
}

static struct report *make(int from, int to, bool history)
{
    struct kvlist a = KVLIST_INIT, b = KVLIST_INIT, run = KVLIST_INIT;
    kv_set(&run, "id", "20260101-000000-ab12");
    kv_set(&run, "name", "smoke <test>\x1b[2J");
    kv_set(&run, "started_ms", "1700000000000");
    kv_set(&run, "scenario", "{\"name\": \"x\"}");
    if (from > 0)
        snapshot(&a, from);
    snapshot(&b, to);
    struct report *r =
        report_new(&run, 1700000000000 + from * 1000LL, &a, 1700000000000 + to * 1000LL, &b, false);
    for (int k = from + 1; history && k <= to; k++) {
        struct kvlist h = KVLIST_INIT;
        snapshot(&h, k);
        report_add_history(r, 1700000000000 + k * 1000LL, &h);
        kv_free(&h);
    }
    kv_free(&a);
    kv_free(&b);
    kv_free(&run);
    return r;
}

static const struct report_row *row(const struct report *r, enum astats_dir d, const char *n)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].dir == d && strcmp(r->rows[i].name, n) == 0)
            return &r->rows[i];
    return NULL;
}

static void test_figures(void **state)
{
    (void)state;
    struct report *r = make(2, 10, true);
    assert_true(fabs(r->duration_s - 8) < 1e-9);
    /* rows by type then name */
    assert_int_equal(r->nrows, 4);
    assert_string_equal(r->rows[0].name, "Authorize");
    assert_string_equal(r->rows[1].name, "BootNotification");
    assert_string_equal(r->rows[2].name, "Heartbeat");
    assert_int_equal(r->rows[3].dir, ASTATS_DOWN);
    const struct report_row *boot = row(r, ASTATS_UP, "BootNotification");
    assert_int_equal(report_requests(boot), 80);
    assert_int_equal(report_failures(boot), 0);
    double med = report_ms(&boot->lat, 0.5);
    assert_true(med >= 84 && med <= 84 * 1.2);
    const struct report_row *au = row(r, ASTATS_UP, "Authorize");
    assert_int_equal(report_requests(au), 16);
    assert_int_equal(au->code[AC_INTERNAL], 8);
    const struct report_row *hb = row(r, ASTATS_UP, "Heartbeat");
    assert_int_equal(report_failures(hb), 8);
    assert_int_equal(report_requests(&r->agg_up), 80 + 16 + 8);
    assert_int_equal(report_failures(&r->agg_up), 8 + 8);
    assert_int_equal(r->delta->msgs_out, 800);
    assert_int_equal(r->end->connected, 20);
    /* history: one point per entry after the start, rates per second */
    assert_int_equal(r->npts, 8);
    assert_true(fabs(r->pts[0].rps[1] - 10.0) < 1e-9); /* BootNotification */
    assert_true(fabs(r->pts[0].agg_rps - 13.0) < 1e-9);
    assert_true(fabs(r->pts[0].agg_fps - 2.0) < 1e-9);
    assert_int_equal(r->pts[7].tot_req, 104);
    assert_int_equal(r->pts[7].connected, 20);
    report_free(r);
}

static void test_lookup(void **state)
{
    (void)state;
    struct report *r = make(0, 10, false);
    static const struct {
        const char *metric;
        bool have;
        double lo, hi;
        const char *what;
    } cases[] = {
        {"conf.BootNotification.count", true, 100, 100, ""},
        {"conf.BootNotification.p95", true, 89, 89 * 1.2, ""},
        {"conf.BootNotification.median", true, 84, 84 * 1.2, ""},
        {"conf.BootNotification.avg", true, 84.5, 84.5, ""},
        {"conf.BootNotification.bytes", true, 20000, 20000, ""},
        {"conf.Authorize.err.InternalError", true, 10, 10, ""},
        {"conf.Authorize.error_rate", true, 0.5, 0.5, ""},
        {"conf.Heartbeat.timeouts", true, 10, 10, ""},
        {"conf.Heartbeat.p95", false, 0, 0, ""}, /* no answer: nothing to measure */
        {"conf.Nope.count", false, 0, 0, ""},
        {"conf.*.p95", true, 100, 120, "Authorize"},
        {"conf.all.count", true, 130, 130, ""},
        {"conf.count", true, 130, 130, ""},
        {"conf.p99.9", true, 100, 120, ""},
        {"conf.rps", true, 13, 13, ""},
        {"errors.rate", true, 20.0 / 130, 20.0 / 130, ""},
        {"errors", true, 20, 20, ""},
        {"requests", true, 130, 130, ""},
        {"call_timeouts", true, 2, 2, ""},
        {"connected", true, 20, 20, ""},
        {"msgs_out", true, 1000, 1000, ""},
        {"down.Reset.err.NotSupported", true, 1, 1, ""},
        {"down.Reset.count", true, 1, 1, ""},
        {"ack.count", true, 1, 1, ""},
        {"ack.p99", true, 3, 3.6, ""},
        {"cmd.p99", false, 0, 0, ""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        double v = -1;
        char what[64];
        bool high = true;
        bool have = report_lookup(r, cases[i].metric, high, &v, what, sizeof(what));
        if (have != cases[i].have)
            fail_msg("%s: have %d", cases[i].metric, have);
        if (have && (v < cases[i].lo - 1e-9 || v > cases[i].hi + 1e-9))
            fail_msg("%s = %g, want [%g, %g]", cases[i].metric, v, cases[i].lo, cases[i].hi);
        if (have)
            assert_string_equal(what, cases[i].what);
    }
    double v;
    char what[64];
    assert_true(report_lookup(r, "conf.*.p50", false, &v, what, sizeof(what)));
    assert_string_equal(what, "BootNotification"); /* the lowest, for > and >= */
    struct thresh t[3];
    assert_int_equal(thresh_parse("conf.BootNotification.p95<500ms", &t[0], NULL), CS_OK);
    assert_int_equal(thresh_parse("errors.rate<1%", &t[1], NULL), CS_OK);
    assert_int_equal(thresh_parse("call_timeouts<10", &t[2], NULL), CS_OK);
    assert_int_equal(report_check(r, t, 3), 1);
    assert_true(r->checks[0].passed && !r->checks[1].passed && r->checks[2].passed);
    report_free(r);
}

/* Count the cells of a CSV line (quotes respected). */
static size_t cells(const char *line, size_t n)
{
    size_t c = 1;
    bool q = false;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '"')
            q = !q;
        else if (line[i] == ',' && !q)
            c++;
    }
    return c;
}

static void test_csv(void **state)
{
    (void)state;
    struct report *r = make(0, 6, true);
    struct buf b = BUF_INIT;
    report_csv_stats(r, &b);
    const char *want = "Type,Name,Request Count,Failure Count,Median Response Time,Average "
                       "Response Time,Min Response Time,Max Response Time,Average Content Size,"
                       "Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,"
                       "100%\r\n";
    assert_memory_equal(b.s, want, strlen(want));
    assert_non_null(strstr(b.s, "\r\nCALL,BootNotification,60,0,"));
    assert_non_null(strstr(b.s, "\r\nDOWN,Reset,1,"));
    assert_non_null(strstr(b.s, "\r\n,Aggregated,78,12,"));
    assert_non_null(strstr(b.s, "CALL,Heartbeat,6,6,0,0,0,0,30.000000,1.000000,1.000000,N/A"));
    for (const char *l = b.s; *l;) {
        const char *e = strstr(l, "\r\n");
        assert_non_null(e);
        assert_int_equal(cells(l, (size_t)(e - l)), 22);
        l = e + 2;
    }
    buf_reset(&b);
    report_csv_history(r, &b);
    assert_non_null(strstr(b.s, "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,"
                                "75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,"
                                "Total Failure Count,Total Median Response Time,Total Average "
                                "Response Time,Total Min Response Time,Total Max Response Time,"
                                "Total Average Content Size\r\n"));
    assert_non_null(strstr(b.s, "\r\n1700000001,11,,Aggregated,13.000000,2.000000,"));
    buf_reset(&b);
    report_csv_failures(r, &b);
    assert_non_null(strstr(b.s, "Method,Name,Error,Occurrences\r\n"));
    assert_non_null(strstr(b.s, "CALL,Authorize,CALLERROR InternalError,6\r\n"));
    assert_non_null(strstr(b.s, "CALL,Heartbeat,timeout,6\r\n"));
    assert_non_null(strstr(b.s, "DOWN,Reset,CALLERROR NotSupported,1\r\n"));
    buf_free(&b);
    report_free(r);
}

static void test_json_html_table(void **state)
{
    (void)state;
    struct report *r = make(1, 8, true);
    struct thresh t;
    assert_int_equal(thresh_parse("conf.*.p95<50ms", &t, NULL), CS_OK);
    report_check(r, &t, 1);
    struct buf b = BUF_INIT;
    report_json(r, &b);
    cJSON *j = cJSON_Parse(buf_cstr(&b));
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "actions")), 4);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "run"), "name")->valuestring,
                        "smoke <test>\x1b[2J");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "passed")));
    cJSON *h = cJSON_GetObjectItem(j, "history");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(h, "t")), 7);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "actions"), "CALL Authorize"));
    cJSON *th = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "thresholds"), 0);
    assert_string_equal(cJSON_GetObjectItem(th, "action")->valuestring, "Authorize");
    cJSON_Delete(j);

    buf_reset(&b);
    report_html(r, &b);
    const char *p = buf_cstr(&b);
    assert_non_null(strstr(p, "<!DOCTYPE html>"));
    assert_non_null(strstr(p, "smoke &lt;test&gt;?[2J"));
    assert_null(strstr(p, "smoke <test>"));
    assert_null(strstr(p, "<script"));
    assert_null(strstr(p, "http://"));
    assert_null(strstr(p, "https://"));
    assert_null(strstr(p, " src="));
    assert_non_null(strstr(p, "id=\"chart-connected\""));
    assert_non_null(strstr(p, "id=\"chart-rps\""));
    assert_non_null(strstr(p, "id=\"chart-latency\""));
    assert_non_null(strstr(p, "id=\"chart-errors\""));
    assert_non_null(strstr(p, "<polyline"));
    assert_non_null(strstr(p, "class=\"fail\""));

    buf_reset(&b);
    report_table(r, &b);
    assert_non_null(strstr(b.s, "CALL  BootNotification"));
    assert_non_null(strstr(b.s, "(smoke <test>?[2J)")); /* no escape sequence reaches a terminal */
    assert_non_null(strstr(b.s, "Aggregated"));
    assert_non_null(strstr(b.s, "CALLERROR InternalError"));
    assert_non_null(strstr(b.s, "FAILED  conf.*.p95<50ms  (Authorize: "));
    buf_free(&b);
    report_free(r);
}

/* Nothing happened: no rows, no samples, pages still render. */
static void test_empty(void **state)
{
    (void)state;
    struct kvlist none = KVLIST_INIT;
    struct report *r = report_new(&none, 1000, &none, 1000, &none, true);
    struct buf b = BUF_INIT;
    report_table(r, &b);
    report_csv_stats(r, &b);
    report_csv_history(r, &b);
    report_json(r, &b);
    report_html(r, &b);
    assert_non_null(strstr(b.s, "no history entries"));
    double v;
    char w[8];
    assert_false(report_lookup(r, "errors.rate", true, &v, w, sizeof(w)));
    assert_true(report_lookup(r, "errors", true, &v, w, sizeof(w)) && v == 0);
    buf_free(&b);
    report_free(r);
    report_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures), cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_csv),     cmocka_unit_test(test_json_html_table),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
