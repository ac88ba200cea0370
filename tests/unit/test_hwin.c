/* test_hwin.c - the sliding window over a cumulative histogram (cs/hwin.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cs/hist.h"
#include "cs/hwin.h"
#include "cs/mem.h"

/* A run of "seconds": each adds `per_s` samples of one value to the running histogram, then
 * steps the window as a worker does at every stats interval. */
struct run {
    struct hist cum, win;
    struct hwin *w;
    int64_t t_ms;
};

static void second(struct run *r, uint64_t value, int per_s, int64_t window_s)
{
    r->t_ms += 1000;
    for (int i = 0; i < per_s; i++)
        hist_add(&r->cum, value);
    hwin_step(r->w, &r->cum, r->t_ms, window_s * 1000, &r->win);
}

static struct run *run_new(void)
{
    struct run *r = cs_calloc(1, sizeof(*r));
    r->w = cs_calloc(1, sizeof(*r->w));
    r->t_ms = 5000000; /* monotonic clocks do not start at 0 */
    return r;
}

static void run_free(struct run *r)
{
    cs_free(r->w);
    cs_free(r);
}

/* Shorter than the window since the start: everything counts. */
static void test_young(void **state)
{
    (void)state;
    struct run *r = run_new();
    for (int s = 0; s < 5; s++)
        second(r, 1000, 10, 10);
    assert_int_equal(r->win.count, 50);
    assert_memory_equal(r->win.b, r->cum.b, sizeof(r->cum.b));
    run_free(r);
}

/* The window follows a change the since-start percentiles hide. */
static void test_follows_change(void **state)
{
    (void)state;
    struct run *r = run_new();
    for (int s = 0; s < 20; s++)
        second(r, 1000, 10, 10);
    for (int s = 0; s < 6; s++)
        second(r, 100000, 10, 10);
    /* the last 10 s: 4 s at 1 ms, 6 s at 100 ms */
    assert_int_equal(r->win.count, 100);
    assert_true(hist_quantile(&r->win, 0.30) <= 1250);
    assert_true(hist_quantile(&r->win, 0.50) >= 100000);
    assert_true(hist_quantile(&r->cum, 0.50) <= 1250); /* since the start: still 1 ms */
    for (int s = 0; s < 10; s++)
        second(r, 100000, 10, 10);
    assert_int_equal(r->win.count, 100);
    assert_true(hist_quantile(&r->win, 0.01) >= 100000);
    /* and back to quiet: an empty window reads 0 */
    for (int s = 0; s < 10; s++)
        second(r, 0, 0, 10);
    assert_int_equal(r->win.count, 0);
    assert_int_equal(hist_quantile(&r->win, 0.99), 0);
    assert_int_equal(r->win.max, 0);
    run_free(r);
}

/* A live change of the window: longer than the ring covers at first, then exact again. */
static void test_window_changes(void **state)
{
    (void)state;
    struct run *r = run_new();
    for (int s = 0; s < 60; s++)
        second(r, 2000, 10, 10);
    assert_int_equal(r->win.count, 100);
    /* grown to 100 s: the ring (34 snapshots a second apart) reaches back 34 s */
    second(r, 2000, 10, 100);
    assert_int_equal(r->win.count, 340);
    for (int s = 0; s < 200; s++)
        second(r, 2000, 10, 100);
    /* snapshots now ~4 s apart: the window opens at most one spacing early */
    assert_true(r->win.count >= 1000);
    assert_true(r->win.count <= 1040);
    /* shrunk to 5 s: the newest snapshot may be a spacing old at first... */
    second(r, 2000, 10, 5);
    assert_true(r->win.count >= 50);
    assert_true(r->win.count <= 90);
    /* ...and the window is exact again once it has its own snapshots */
    for (int s = 0; s < 10; s++)
        second(r, 2000, 10, 5);
    assert_int_equal(r->win.count, 50);
    run_free(r);
}

/* Steps longer than window/32: one snapshot per step, the window exact to a step. */
static void test_long_steps(void **state)
{
    (void)state;
    struct run *r = run_new();
    for (int s = 0; s < 100; s++)
        second(r, 500, 1, 3);
    assert_int_equal(r->win.count, 3);
    assert_int_equal(r->cum.count, 100);
    run_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_young),
        cmocka_unit_test(test_follows_change),
        cmocka_unit_test(test_window_changes),
        cmocka_unit_test(test_long_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
