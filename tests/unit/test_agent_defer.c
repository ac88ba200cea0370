/* test_agent_defer.c - work for the next loop turn (agent/defer.c) and the connect ramp
 * (agent/ramp.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent_fake.h"
#include "ramp.h"

struct rec {
    struct defer *d;
    int order[16];
    int n;
};

struct job {
    struct rec *r;
    int id;
    struct defer_item it;
};

static void on_job(void *privdata)
{
    struct job *j = privdata;
    j->r->order[j->r->n++] = j->id;
    /* job 1 queues job 3 while the queue runs: it waits for the next turn */
    if (j->id == 1)
        defer_add(j->r->d, &j[2].it, on_job, &j[2]);
}

static void test_defer_order(void **state)
{
    (void)state;
    struct fake_worker w;
    fake_worker_init(&w);
    struct rec r = {.d = w.x.defer};
    struct job jobs[4] = {{&r, 0, {0}}, {&r, 1, {0}}, {&r, 2, {0}}, {&r, 3, {0}}};
    defer_add(w.x.defer, &jobs[0].it, on_job, &jobs[0]);
    defer_add(w.x.defer, &jobs[1].it, on_job, &jobs[1]);
    defer_add(w.x.defer, &jobs[1].it, on_job, &jobs[1]); /* once until it ran */
    defer_add(w.x.defer, &jobs[2].it, on_job, &jobs[2]);
    defer_cancel(w.x.defer, &jobs[2].it);
    assert_int_equal(defer_pending(w.x.defer), 2);
    assert_int_equal(r.n, 0); /* nothing runs inside the call that queued it */
    fake_turn(&w);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.order[0], 0);
    assert_int_equal(r.order[1], 1);
    assert_int_equal(defer_pending(w.x.defer), 1); /* job 3, queued by job 1 */
    fake_turn(&w);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.order[2], 3);
    fake_worker_free(&w);
}

/* ---- the ramp ------------------------------------------------------------------------------ */

struct ramp_env {
    struct ramp_node nodes[40];
    int granted;
    bool open;
};

static void grant(struct ramp_node *n, void *privdata)
{
    (void)n;
    ((struct ramp_env *)privdata)->granted++;
}

static bool gate(void *privdata)
{
    return ((struct ramp_env *)privdata)->open;
}

static void test_ramp(void **state)
{
    (void)state;
    struct fake_worker w;
    fake_worker_init(&w);
    struct ramp_env e = {.open = false};
    struct ramp *r = ramp_new(w.x.base, grant, gate, &e);
    ramp_set_rate(r, 100); /* bursts of 5 */
    for (int i = 0; i < 40; i++)
        ramp_enqueue(r, &e.nodes[i]);
    assert_int_equal(e.granted, 0); /* gate closed */
    assert_int_equal(ramp_queued(r), 40);
    ramp_remove(r, &e.nodes[39]);
    ramp_remove(r, &e.nodes[39]);
    assert_int_equal(ramp_queued(r), 39);
    e.open = true;
    ramp_kick(r);
    assert_int_equal(e.granted, 5);
    /* 200 ms later about 20 more: never more than the rate allows */
    struct timeval tv = {0, 200 * 1000};
    event_base_loopexit(w.x.base, &tv);
    event_base_dispatch(w.x.base);
    assert_in_range(e.granted, 15, 27);
    ramp_free(r);
    fake_worker_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defer_order),
        cmocka_unit_test(test_ramp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
