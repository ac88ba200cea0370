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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_render_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
