/* test_thresh.c - threshold expressions (cs/thresh.h): what parses and into what, what is
 * refused and why, evaluation against figures, the printed lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/thresh.h"

static void test_parse_ok(void **state)
{
    (void)state;
    static const struct {
        const char *text, *metric;
        enum thresh_kind kind;
        enum thresh_op op;
        double limit;
        bool wildcard;
    } cases[] = {
        {"conf.BootNotification.p95<500ms", "conf.BootNotification.p95", TK_TIME, TO_LT, 500,
         false},
        {"  conf.BootNotification.p95 < 500  ", "conf.BootNotification.p95", TK_TIME, TO_LT, 500,
         false},
        {"conf.Heartbeat.p99.9<=2s", "conf.Heartbeat.p99.9", TK_TIME, TO_LE, 2000, false},
        {"down.Reset.max<1500us", "down.Reset.max", TK_TIME, TO_LT, 1.5, false},
        {"errors.rate<1%", "errors.rate", TK_RATIO, TO_LT, 0.01, false},
        {"errors.rate<0.01", "errors.rate", TK_RATIO, TO_LT, 0.01, false},
        {"call_timeouts<10", "call_timeouts", TK_COUNT, TO_LT, 10, false},
        {"connected>=950", "connected", TK_COUNT, TO_GE, 950, false},
        {"conf.*.p95<800ms", "conf.*.p95", TK_TIME, TO_LT, 800, true},
        {"conf.p99<1s", "conf.p99", TK_TIME, TO_LT, 1000, false},
        {"conf.all.error_rate<=5%", "conf.all.error_rate", TK_RATIO, TO_LE, 0.05, false},
        {"conf.Authorize.err.InternalError==0", "conf.Authorize.err.InternalError", TK_COUNT, TO_EQ,
         0, false},
        {"conf.Authorize.err.FormatViolation!=3", "conf.Authorize.err.FormatViolation", TK_COUNT,
         TO_NE, 3, false},
        {"conf.MeterValues.rps>10/s", "conf.MeterValues.rps", TK_RATE, TO_GT, 10, false},
        {"rps>100", "rps", TK_RATE, TO_GT, 100, false},
        {"ack.p99<50ms", "ack.p99", TK_TIME, TO_LT, 50, false},
        {"cmd.median<20", "cmd.median", TK_TIME, TO_LT, 20, false},
        {"out.Heartbeat>1", "out.Heartbeat", TK_COUNT, TO_GT, 1, false},
        {"in.other==0", "in.other", TK_COUNT, TO_EQ, 0, false},
        {"requests>=1000", "requests", TK_COUNT, TO_GE, 1000, false},
        {"errors<5", "errors", TK_COUNT, TO_LT, 5, false},
        {"down.*.failures<1", "down.*.failures", TK_COUNT, TO_LT, 1, true},
        {"conf.My_Custom1.p97.5<100", "conf.My_Custom1.p97.5", TK_TIME, TO_LT, 100, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct thresh t;
        struct cs_error err = {0};
        if (thresh_parse(cases[i].text, &t, &err) != CS_OK)
            fail_msg("'%s': %s", cases[i].text, err.msg);
        assert_string_equal(t.metric, cases[i].metric);
        assert_int_equal(t.kind, cases[i].kind);
        assert_int_equal(t.op, cases[i].op);
        if (fabs(t.limit - cases[i].limit) > 1e-9)
            fail_msg("'%s': limit %g, want %g", cases[i].text, t.limit, cases[i].limit);
        assert_int_equal(t.wildcard, cases[i].wildcard);
    }
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *says;
    } cases[] = {
        {"", "empty"},
        {"   ", "empty"},
        {"<5", "no metric"},
        {"conf.Boot.p95", "expected an operator"},
        {"conf.Boot.p95 =< 5", "expected an operator"},
        {"conf.Boot.p95<", "expected a number"},
        {"conf.Boot.p95<abc", "expected a number"},
        {"conf.Boot.p95<-5", "expected a number"},
        {"conf.Boot.p95<5..5", "not a number"},
        {"conf.Boot.p95<5%", "is a time"},
        {"conf.Boot.p95<5 ms", "after the value"},
        {"conf.Boot.p95<5kg", "unit 'kg'"},
        {"errors.rate<5", "a ratio"},
        {"errors.rate<5ms", "is a ratio"},
        {"call_timeouts<10ms", "is a count"},
        {"nosuchfield<1", "unknown metric"},
        {"conf.Boot<1", "give a stat"},
        {"conf.Bo ot.p95<1", "expected an operator"},
        {"conf.Bo-ot.p95<1", "not an action name"},
        {"conf.Boot.p0<1", "unknown stat"},
        {"conf.Boot.p101<1", "unknown stat"},
        {"conf.Boot.p1e1<1", "unknown stat"},
        {"conf.Boot.err.Nope<1", "unknown stat"},
        {"ack.errors<1", "unknown stat of the ack"},
        {"foo.bar<1", "unknown metric"},
        {"conf.*.p95==5", "wildcard"},
        {"out.NoSuchMessage>1", "unknown metric"},
        {"conf.Boot.p95<5\n", "unexpected character"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct thresh t;
        struct cs_error err = {0};
        if (thresh_parse(cases[i].text, &t, &err) == CS_OK)
            fail_msg("'%s' parsed", cases[i].text);
        if (!strstr(err.msg, cases[i].says))
            fail_msg("'%s': '%s' does not say '%s'", cases[i].text, err.msg, cases[i].says);
    }
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct thresh t;
    assert_int_equal(thresh_parse(big, &t, NULL), CS_ERR_PARSE);
    assert_int_equal(thresh_parse(NULL, &t, NULL), CS_ERR_PARSE);
}

/* A lookup over fixed figures: two actions for wildcards. */
static bool lookup(void *ctx, const char *metric, bool worst_high, double *value, char *what,
                   size_t whatlen)
{
    (void)ctx;
    if (strcmp(metric, "conf.BootNotification.p95") == 0) {
        *value = 412.3;
        return true;
    }
    if (strcmp(metric, "errors.rate") == 0) {
        *value = 0.024;
        return true;
    }
    if (strcmp(metric, "conf.*.p95") == 0) {
        *value = worst_high ? 900 : 12;
        snprintf(what, whatlen, "%s", worst_high ? "StartTransaction" : "Heartbeat");
        return true;
    }
    if (strcmp(metric, "call_timeouts") == 0) {
        *value = 10;
        return true;
    }
    return false;
}

static void test_eval(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool have, passed;
        const char *line;
    } cases[] = {
        {"conf.BootNotification.p95<500ms", true, true,
         "passed  conf.BootNotification.p95<500ms  (412.3 ms)"},
        {"conf.BootNotification.p95<0.4s", true, false,
         "FAILED  conf.BootNotification.p95<0.4s  (412.3 ms)"},
        {"errors.rate<1%", true, false, "FAILED  errors.rate<1%  (2.40%)"},
        {"errors.rate<=2.4%", true, true, NULL},
        {"conf.*.p95<1s", true, true, "passed  conf.*.p95<1s  (StartTransaction: 900.0 ms)"},
        {"conf.*.p95>10", true, true, "passed  conf.*.p95>10  (Heartbeat: 12.0 ms)"},
        {"conf.*.p95>20", true, false, NULL},
        {"call_timeouts<10", true, false, "FAILED  call_timeouts<10  (10)"},
        {"call_timeouts<=10", true, true, NULL},
        {"call_timeouts==10", true, true, NULL},
        {"call_timeouts!=10", true, false, NULL},
        {"call_timeouts>9", true, true, NULL},
        {"call_timeouts>=11", true, false, NULL},
        {"conf.Nope.p95<5", false, false, "FAILED  conf.Nope.p95<5  (no samples)"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct thresh t;
        struct thresh_result r;
        assert_int_equal(thresh_parse(cases[i].text, &t, NULL), CS_OK);
        thresh_eval(&t, lookup, NULL, &r);
        if (r.have != cases[i].have || r.passed != cases[i].passed)
            fail_msg("'%s': have %d passed %d", cases[i].text, r.have, r.passed);
        if (cases[i].line) {
            struct buf b = BUF_INIT;
            thresh_line(&r, &b);
            assert_string_equal(buf_cstr(&b), cases[i].line);
            buf_free(&b);
        }
    }
}

static void test_quantile_format(void **state)
{
    (void)state;
    double q;
    assert_true(thresh_quantile("p95", &q) && q == 0.95);
    assert_true(thresh_quantile("p99.99", &q) && fabs(q - 0.9999) < 1e-12);
    assert_true(thresh_quantile("median", &q) && q == 0.5);
    assert_true(thresh_quantile("p100", &q) && q == 1);
    assert_false(thresh_quantile("p", &q));
    assert_false(thresh_quantile("max", &q));
    char out[32];
    thresh_format(TK_TIME, 12345, out, sizeof(out));
    assert_string_equal(out, "12.35 s");
    thresh_format(TK_RATE, 3.5, out, sizeof(out));
    assert_string_equal(out, "3.50/s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_quantile_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
