/* test_agent_link.c - a charger's link state machine (agent/link.c) over a fake transport. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent_fake.h"
#include "link.h"
#include "ramp.h"

struct env {
    struct fake_worker w;
    struct fake_tr tr;
    struct ramp *ramp;
    struct link_env le;
    struct charger_cfg cfg;
    struct link l;
    bool gate;
    enum link_ev evs[32];
    int nev;
};

static struct env *E; /* the link's callbacks find their test here */

static void on_event(struct link *l, enum link_ev ev, const char *data, size_t len)
{
    (void)l;
    (void)data;
    (void)len;
    E->evs[E->nev++] = ev;
}

static const struct charger_cfg *cfg_of(const struct link *l)
{
    (void)l;
    return &E->cfg;
}

static bool gate(void *privdata)
{
    return ((struct env *)privdata)->gate;
}

static int setup(void **state)
{
    struct env *e = cs_calloc(1, sizeof(*e));
    E = e;
    fake_worker_init(&e->w);
    fake_tr_init(&e->tr);
    e->gate = true;
    e->ramp = ramp_new(e->w.x.base, link_on_token, gate, e);
    ramp_set_rate(e->ramp, 1000);
    e->cfg = e->w.x.base_cfg;
    snprintf(e->cfg.broker, sizeof(e->cfg.broker), "tcp://127.0.0.1:1");
    e->cfg.reconnect_min_ms = 100;
    e->cfg.reconnect_max_ms = 1000;
    e->le = (struct link_env){&e->w.x, e->ramp, {&e->tr.t, &e->tr.t, &e->tr.t}, on_event, cfg_of};
    link_init(&e->l, &e->le, "CP-000001", 1);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    link_fini(&e->l);
    ramp_free(e->ramp);
    fake_tr_free(&e->tr);
    fake_worker_free(&e->w);
    cs_free(e);
    return 0;
}

/* Loading -> queued -> connecting (the ramp grants at once) -> up, and nothing is reported
 * up before the transport says so. */
static void test_connects(void **state)
{
    struct env *e = *state;
    assert_int_equal(e->l.state, LINK_LOADING);
    link_start(&e->l);
    assert_int_equal(e->l.state, LINK_CONNECTING);
    assert_int_equal(e->tr.nconns, 1);
    assert_string_equal(fake_last(&e->tr)->client_id, "CP-000001");
    assert_int_equal(e->nev, 0);
    fake_queue(fake_last(&e->tr), TR_EV_UP, 0, NULL);
    fake_deliver(&e->tr);
    assert_int_equal(e->l.state, LINK_UP);
    assert_int_equal(e->nev, 1);
    assert_int_equal(e->evs[0], LINK_EV_UP);
    assert_int_equal(e->w.st.connects, 1);
}

/* The gate closed (no lease): queued, no connect; opened: the next kick connects. */
static void test_gate(void **state)
{
    struct env *e = *state;
    e->gate = false;
    link_start(&e->l);
    assert_int_equal(e->l.state, LINK_QUEUED);
    assert_int_equal(e->tr.nconns, 0);
    e->gate = true;
    ramp_kick(e->ramp);
    assert_int_equal(e->l.state, LINK_CONNECTING);
}

/* A lost connection backs off (the old one freed) and reconnects when the timer fires. */
static void test_lost_backs_off(void **state)
{
    struct env *e = *state;
    link_start(&e->l);
    struct tr_conn *c = fake_last(&e->tr);
    fake_queue(c, TR_EV_UP, 0, NULL);
    fake_deliver(&e->tr);
    fake_queue(c, TR_EV_DOWN, TR_DOWN_LOST, NULL);
    fake_deliver(&e->tr);
    assert_int_equal(e->l.state, LINK_BACKOFF);
    assert_true(c->freed);
    assert_int_equal(e->evs[e->nev - 1], LINK_EV_LOST);
    assert_int_equal(e->w.st.conn_lost, 1);
    assert_int_equal(e->l.attempt, 1);
    /* full jitter within reconnect_min_ms */
    struct timeval tv = {0, 150 * 1000};
    event_base_loopexit(e->w.x.base, &tv);
    event_base_dispatch(e->w.x.base);
    assert_int_equal(e->l.state, LINK_CONNECTING);
    assert_int_equal(e->tr.nconns, 2);
}

/* A failed connect backs off with a growing cap. */
static void test_failed_connect(void **state)
{
    struct env *e = *state;
    link_start(&e->l);
    fake_queue(fake_last(&e->tr), TR_EV_DOWN, TR_DOWN_FAILED, NULL);
    fake_deliver(&e->tr);
    assert_int_equal(e->l.state, LINK_BACKOFF);
    assert_int_equal(e->w.st.connect_failures, 1);
    assert_int_equal(e->nev, 0); /* never up: nothing for the charger */
}

/* A graceful close returns "was up"; CLOSED follows from the transport; the link queues again. */
static void test_close_reconnects(void **state)
{
    struct env *e = *state;
    link_start(&e->l);
    fake_queue(fake_last(&e->tr), TR_EV_UP, 0, NULL);
    fake_deliver(&e->tr);
    assert_true(link_close(&e->l, 1000));
    assert_int_equal(e->l.state, LINK_CLOSING);
    fake_deliver(&e->tr);
    assert_int_equal(e->evs[e->nev - 1], LINK_EV_CLOSED);
    assert_int_equal(e->l.state, LINK_CONNECTING); /* back through the ramp */
    assert_int_equal(e->tr.nconns, 2);
}

/* Released: the close finishes with CLOSED and the link stays down. */
static void test_release(void **state)
{
    struct env *e = *state;
    link_start(&e->l);
    fake_queue(fake_last(&e->tr), TR_EV_UP, 0, NULL);
    fake_deliver(&e->tr);
    assert_true(link_release(&e->l, 1000));
    fake_deliver(&e->tr);
    assert_int_equal(e->evs[e->nev - 1], LINK_EV_CLOSED);
    assert_int_equal(e->l.state, LINK_IDLE);
    assert_int_equal(e->tr.nconns, 1);
    /* not connected: nothing to wait for */
    assert_false(link_release(&e->l, 1000));
}

/* Parked with the lease: dropped, no reconnect until unparked. */
static void test_park(void **state)
{
    struct env *e = *state;
    link_start(&e->l);
    fake_queue(fake_last(&e->tr), TR_EV_UP, 0, NULL);
    fake_deliver(&e->tr);
    assert_true(link_park(&e->l));
    assert_true(e->l.parked);
    assert_int_equal(e->l.state, LINK_IDLE);
    assert_true(fake_last(&e->tr)->freed);
    link_unpark(&e->l);
    assert_false(e->l.parked);
    assert_int_equal(e->l.state, LINK_CONNECTING);
}

/* Disabled: the link stays down; enabled again: it connects. */
static void test_disabled(void **state)
{
    struct env *e = *state;
    e->cfg.enabled = false;
    link_start(&e->l);
    assert_int_equal(e->l.state, LINK_DISABLED);
    e->cfg.enabled = true;
    link_want(&e->l);
    assert_int_equal(e->l.state, LINK_CONNECTING);
}

/* Offline until online; sending while down fails and is counted as dropped. */
static void test_offline(void **state)
{
    struct env *e = *state;
    struct cs_error err;
    link_start(&e->l);
    fake_queue(fake_last(&e->tr), TR_EV_UP, 0, NULL);
    fake_deliver(&e->tr);
    assert_int_equal(link_send(&e->l, TR_CALL, "Heartbeat", "[]", 2, &err), CS_OK);
    assert_true(link_offline(&e->l));
    assert_int_equal(e->l.state, LINK_OFFLINE);
    assert_int_equal(link_send(&e->l, TR_CALL, "Heartbeat", "[]", 2, &err), CS_ERR_STATE);
    assert_int_equal(e->w.st.msgs_dropped, 1);
    link_online(&e->l);
    assert_int_equal(e->l.state, LINK_CONNECTING);
}

/* Events of a connection the link already let go never reach it. */
static void test_stale_events(void **state)
{
    struct env *e = *state;
    link_start(&e->l);
    struct tr_conn *c = fake_last(&e->tr);
    fake_queue(c, TR_EV_UP, 0, NULL);
    link_drop(&e->l, false);
    fake_deliver(&e->tr);
    assert_int_equal(e->nev, 0);
    assert_int_equal(e->l.state, LINK_IDLE);
}

/* A connect given up before it resolved is closed, not dropped (its CONNECT may wait in the
 * broker's queue), and the next connect opens only once it is over: one session per client
 * ID. A release waits for it too. */
static void test_given_up_connect(void **state)
{
    struct env *e = *state;
    link_start(&e->l);
    struct tr_conn *c = fake_last(&e->tr);
    assert_false(link_offline(&e->l));
    assert_true(c->closed);
    assert_false(c->freed);
    link_online(&e->l);
    assert_int_equal(e->l.state, LINK_CONNECTING);
    assert_int_equal(e->tr.nconns, 1); /* waits for the old one */
    fake_deliver(&e->tr);              /* its DOWN */
    assert_true(c->freed);
    assert_int_equal(e->tr.nconns, 2);
    assert_int_equal(e->l.state, LINK_CONNECTING);
    assert_int_equal(e->nev, 0);

    /* parked while connecting, then released: CLOSED once the given-up connect is over */
    struct tr_conn *c2 = fake_last(&e->tr);
    assert_false(link_park(&e->l));
    assert_true(c2->closed);
    assert_true(link_release(&e->l, 1000));
    assert_int_equal(e->l.state, LINK_CLOSING);
    fake_deliver(&e->tr);
    assert_true(c2->freed);
    assert_int_equal(e->l.state, LINK_IDLE);
    assert_int_equal(e->evs[e->nev - 1], LINK_EV_CLOSED);
    assert_int_equal(e->tr.nconns, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_backs_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_given_up_connect, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
