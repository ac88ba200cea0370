/* test_stats.c - the stats renderer, the fleet merge and rates between samples (cs/stats.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cs/stats.h"

static void test_rates(void **state)
{
    (void)state;
    double o, i;
    struct stats_point a = {1000, 100, 50}, b = {3000, 300, 150};
    assert_true(stats_rates(&a, &b, &o, &i));
    assert_true(o == 100.0 && i == 50.0);
    /* the same sample, an older one, a restart (a counter went down): no rate, and 0/s */
    assert_false(stats_rates(&a, &a, &o, &i));
    assert_false(stats_rates(&b, &a, &o, &i));
    assert_true(o == 0 && i == 0);
    struct stats_point restarted = {4000, 10, 200};
    assert_false(stats_rates(&b, &restarted, &o, &i));
    assert_true(o == 0 && i == 0);
}

/* Rendered by workers, added up by the coordinator: counters sum, the since-start and the window
 * histograms merge; the point of a rendered hash reads its counters back. */
static void test_render_add(void **state)
{
    (void)state;
    struct worker_stats w1, w2, sum;
    memset(&w1, 0, sizeof(w1));
    memset(&w2, 0, sizeof(w2));
    memset(&sum, 0, sizeof(sum));
    w1.msgs_out = 10;
    w2.msgs_out = 5;
    w2.msgs_in = 7;
    hist_add(&w1.ack_us, 1000);
    hist_add(&w2.ack_us, 3000);
    hist_add(&w2.win[LAT_ACK], 3000);
    struct kvlist k1 = KVLIST_INIT, k2 = KVLIST_INIT;
    stats_render(&w1, &k1);
    stats_render(&w2, &k2);
    assert_string_equal(kv_get(&k2, "ack_win_count"), "1");
    assert_string_equal(kv_get(&k1, "ack_win_count"), "0");
    stats_add(&sum, &k1);
    stats_add(&sum, &k2);
    assert_int_equal(sum.msgs_out, 15);
    assert_int_equal(sum.ack_us.count, 2);
    assert_int_equal(sum.win[LAT_ACK].count, 1);
    assert_int_equal(sum.win[LAT_CMD].count, 0);
    kv_set(&k2, "updated_ms", "1234");
    struct stats_point p;
    stats_point_of(&k2, &p);
    assert_true(p.ms == 1234 && p.out == 5 && p.in == 7);
    kv_free(&k1);
    kv_free(&k2);
}

/* The parts of a hash: the cumulative ones (what the fleet's totals keep), the live ones (what
 * only a running worker has) and the derived ones (never parsed back); which fields go into
 * the {ns}:ts streams. */
static void test_parts(void **state)
{
    (void)state;
    static struct worker_stats w, cum, live;
    memset(&w, 0, sizeof(w));
    w.msgs_out = 9;
    w.connected = 4;
    w.started_ms = 1700000000000;
    hist_add(&w.conf_us, 2000);
    hist_add(&w.win[LAT_CONF], 2000);
    astats_up_sent(&w.act, "Heartbeat", 40);
    astats_up_answer(&w.act, "Heartbeat", 2000, NULL);
    astats_window_step(&w.act, 1000, 10000);
    struct kvlist k = KVLIST_INIT;
    stats_render_parts(&w, STATS_P_CUM, &k);
    assert_non_null(kv_get(&k, "msgs_out"));
    assert_null(kv_get(&k, "connected"));
    assert_non_null(kv_get(&k, "conf_hist"));
    assert_null(kv_get(&k, "conf_win_hist"));
    assert_null(kv_get(&k, "conf_p50_ms"));
    assert_non_null(kv_get(&k, "conf.Heartbeat.hist"));
    assert_null(kv_get(&k, "conf.Heartbeat.win_hist"));
    assert_string_equal(kv_get(&k, "started_ms"), "1700000000000");
    assert_int_equal(stats_started_of(&k), 1700000000000);
    kv_free(&k);
    stats_render(&w, &k);
    stats_add_parts(&cum, &k, STATS_P_CUM);
    stats_add_parts(&live, &k, STATS_P_LIVE);
    assert_true(cum.msgs_out == 9 && cum.connected == 0 && cum.conf_us.count == 1);
    assert_true(cum.win[LAT_CONF].count == 0 && cum.started_ms == 0);
    assert_int_equal(astats_find(&cum.act, ASTATS_UP, "Heartbeat")->calls, 1);
    assert_int_equal(astats_find(&cum.act, ASTATS_UP, "Heartbeat")->win_calls, 0);
    assert_true(live.msgs_out == 0 && live.connected == 4 && live.win[LAT_CONF].count == 1);
    assert_int_equal(astats_find(&live.act, ASTATS_UP, "Heartbeat")->win_calls, 1);
    assert_int_equal(astats_find(&live.act, ASTATS_UP, "Heartbeat")->calls, 0);
    kv_free(&k);
    static const struct {
        const char *f;
        bool in;
    } series[] = {{"msgs_out", true},
                  {"ack_p99_ms", true},
                  {"ack_hist", false},
                  {"ack_win_hist", false},
                  {"conf.Heartbeat.calls", false},
                  {"down.Reset.p50_ms", false},
                  {"started_ms", false},
                  {"out.Heartbeat", true},
                  {"in.other", true}};
    for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
        assert_int_equal(stats_in_series(series[i].f), series[i].in);
    astats_release(&w.act);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_render_add),
        cmocka_unit_test(test_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
