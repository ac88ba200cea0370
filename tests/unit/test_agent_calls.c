/* test_agent_calls.c - a charger's CALL queue (agent/calls.c) over a real link and a fake
 * transport: ordering against a platform that answers and against a bare broker, the gate of
 * BootNotification, offline queueing, the confirmed transactionId, continuations on a later
 * loop turn. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "agent_fake.h"
#include "calls.h"
#include "cs/catalog.h"
#include "cs/charger.h"
#include "cs/ocpp.h"
#include "link.h"
#include "ramp.h"

struct env {
    struct fake_worker w;
    struct fake_tr tr;
    struct ramp *ramp;
    struct link_env le;
    struct calls_env ce;
    struct charger_cfg cfg;
    struct charger m;
    struct link l;
    struct callq q;
    struct call ended[16];
    cJSON *answers[16];
    int nended;
    bool in_answer; /* inside calls_on_answer: a continuation now would re-enter */
};

static struct env *E;

static void on_link(struct link *l, enum link_ev ev, const char *data, size_t len)
{
    (void)l;
    (void)data;
    (void)len;
    if (ev == LINK_EV_LOST || ev == LINK_EV_CLOSED)
        calls_link_down(&E->q);
    if (ev == LINK_EV_UP)
        calls_pump(&E->q);
}

static const struct charger_cfg *link_cfg(const struct link *l)
{
    (void)l;
    return &E->cfg;
}

static const struct charger_cfg *calls_cfg(const struct callq *q)
{
    (void)q;
    return &E->cfg;
}

static void on_end(struct callq *q, const struct call *c)
{
    (void)q;
    assert_false(E->in_answer);
    E->answers[E->nended] = c->answer ? cJSON_Duplicate(c->answer, 1) : NULL;
    E->ended[E->nended++] = *c;
}

static bool open_gate(void *privdata)
{
    (void)privdata;
    return true;
}

static int setup(void **state)
{
    struct env *e = cs_calloc(1, sizeof(*e));
    E = e;
    fake_worker_init(&e->w);
    fake_tr_init(&e->tr);
    e->ramp = ramp_new(e->w.x.base, link_on_token, open_gate, e);
    ramp_set_rate(e->ramp, 1000);
    e->cfg = e->w.x.base_cfg;
    snprintf(e->cfg.broker, sizeof(e->cfg.broker), "tcp://127.0.0.1:1");
    e->cfg.offline_queue = 3;
    e->le = (struct link_env){&e->w.x, e->ramp, {&e->tr.t, &e->tr.t, &e->tr.t}, on_link, link_cfg};
    e->ce = (struct calls_env){&e->w.x, on_end, calls_cfg};
    charger_init(&e->m, 1, "CP-000001", 2, 0);
    link_init(&e->l, &e->le, e->m.id, 1);
    calls_init(&e->q, &e->ce, &e->l, e->m.id);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    calls_fini(&e->q);
    link_fini(&e->l);
    ramp_free(e->ramp);
    fake_tr_free(&e->tr);
    fake_worker_free(&e->w);
    for (int i = 0; i < e->nended; i++)
        cJSON_Delete(e->answers[i]);
    cs_free(e);
    return 0;
}

static void up(struct env *e)
{
    link_start(&e->l);
    fake_queue(fake_last(&e->tr), TR_EV_UP, 0, NULL);
    fake_deliver(&e->tr);
    assert_int_equal(e->l.state, LINK_UP);
}

static int try_send(struct env *e, enum msg_id id, int32_t tx, unsigned flags, enum call_cont k)
{
    struct msg_ctx x = {
        .ch = &e->m, .cfg = &e->cfg, .now_ms = 1, .connector = 1, .tx_id = tx, .meter_wh = 10};
    struct cs_error err;
    return calls_send(&e->q, catalog_get(id), &x, flags, k, &err);
}

static void send_msg(struct env *e, enum msg_id id, int32_t tx, unsigned flags, enum call_cont k)
{
    assert_int_equal(try_send(e, id, tx, flags, k), CS_OK);
}

/* The uid of the i-th frame sent. */
static void uid_of(struct env *e, int i, char *out)
{
    cJSON *f = cJSON_Parse(e->tr.sent[i].data);
    assert_non_null(f);
    snprintf(out, 64, "%s", cJSON_GetArrayItem(f, 1)->valuestring);
    cJSON_Delete(f);
}

static void answer(struct env *e, int i, const char *payload)
{
    char uid[64];
    uid_of(e, i, uid);
    e->in_answer = true;
    calls_on_answer(&e->q, OCPP_RESULT, uid, cJSON_Parse(payload), NULL);
    e->in_answer = false;
}

/* After a connect the BootNotification goes first and the rest waits for its answer; once the
 * platform has answered, one CALL is outstanding at a time and nothing but the boot passes
 * the gate until it is accepted. */
static void test_platform_order(void **state)
{
    struct env *e = *state;
    up(e);
    send_msg(e, MSG_BOOT_NOTIFICATION, 0, CALL_FRONT, K_BOOT);
    send_msg(e, MSG_HEARTBEAT, 0, 0, K_NONE);
    send_msg(e, MSG_HEARTBEAT, 0, 0, K_NONE);
    assert_int_equal(e->tr.nsent, 1);
    assert_string_equal(e->tr.sent[0].action, "BootNotification");
    answer(e, 0, "{\"status\":\"Accepted\",\"interval\":60}");
    assert_true(e->q.platform_answers);
    assert_int_equal(e->tr.nsent, 1); /* the gate is still closed */
    assert_int_equal(e->nended, 0);   /* the continuation waits for the next turn */
    fake_turn(&e->w);
    assert_int_equal(e->nended, 1);
    assert_int_equal(e->ended[0].end, CE_RESULT);
    assert_int_equal(e->ended[0].cont, K_BOOT);
    calls_set_accepted(&e->q, true);
    assert_int_equal(e->tr.nsent, 2); /* one outstanding at a time */
    answer(e, 1, "{\"currentTime\":\"2026-01-01T00:00:00Z\"}");
    assert_int_equal(e->tr.nsent, 3);
    assert_int_equal(e->w.st.answers, 2);
    assert_int_equal(e->w.st.out_by_type[MSG_HEARTBEAT], 2);
}

/* Nobody has ever answered: CALLs go out at once and each goes on as if accepted. */
static void test_bare_broker(void **state)
{
    struct env *e = *state;
    up(e);
    send_msg(e, MSG_HEARTBEAT, 0, 0, K_NONE);
    send_msg(e, MSG_AUTHORIZE, 0, 0, K_AUTHORIZE);
    assert_int_equal(e->tr.nsent, 2);
    assert_int_equal(e->nended, 0);
    fake_turn(&e->w);
    assert_int_equal(e->nended, 2);
    assert_int_equal(e->ended[1].end, CE_ASSUMED);
    assert_int_equal(e->ended[1].cont, K_AUTHORIZE);
    /* a late answer still counts, as a late one */
    answer(e, 1, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
    fake_turn(&e->w);
    assert_int_equal(e->nended, 3);
    assert_int_equal(e->ended[2].end, CE_LATE);
}

/* Offline, transaction messages queue (at most offline_queue, the oldest goes) and the rest is
 * dropped; back online they go out in order, the confirmed transactionId in them. */
static void test_offline_queue(void **state)
{
    struct env *e = *state;
    assert_int_equal(try_send(e, MSG_HEARTBEAT, 0, 0, K_NONE), CS_ERR_STATE);
    assert_int_equal(calls_queued(&e->q), 0);
    assert_int_equal(e->w.st.msgs_dropped, 1);
    for (int i = 0; i < 4; i++)
        send_msg(e, MSG_METER_VALUES, -1, CALL_TX, K_NONE);
    send_msg(e, MSG_STOP_TRANSACTION, -1, CALL_TX, K_STOP_TX);
    assert_int_equal(calls_queued(&e->q), 3);
    assert_int_equal(e->w.st.offline_dropped, 2);
    calls_tx_confirmed(&e->q, -1, 4711);
    up(e);
    /* bare broker: all at once, in order */
    assert_int_equal(e->tr.nsent, 3);
    assert_string_equal(e->tr.sent[2].action, "StopTransaction");
    for (int i = 0; i < 3; i++) {
        assert_non_null(strstr(e->tr.sent[i].data, "\"transactionId\":4711"));
        assert_null(strstr(e->tr.sent[i].data, "-1"));
    }
}

/* The link drops with an unanswered transaction CALL of a platform that answers: it goes back
 * to the head and is sent again on the next connect; reports are dropped. */
static void test_link_down_keeps_tx(void **state)
{
    struct env *e = *state;
    up(e);
    send_msg(e, MSG_BOOT_NOTIFICATION, 0, CALL_FRONT, K_BOOT);
    answer(e, 0, "{\"status\":\"Accepted\",\"interval\":60}");
    calls_set_accepted(&e->q, true);
    send_msg(e, MSG_STOP_TRANSACTION, 7, CALL_TX, K_STOP_TX);
    send_msg(e, MSG_HEARTBEAT, 0, 0, K_NONE);
    assert_int_equal(e->tr.nsent, 2);
    link_drop(&e->l, true);
    calls_link_down(&e->q);
    assert_int_equal(calls_queued(&e->q), 1);
    fake_queue(fake_last(&e->tr), TR_EV_UP, 0, NULL);
    fake_deliver(&e->tr);
    calls_set_accepted(&e->q, true);
    assert_int_equal(e->tr.nsent, 3);
    assert_string_equal(e->tr.sent[2].action, "StopTransaction");
}

/* An answer nobody asked for is counted, nothing else. */
static void test_unmatched_answer(void **state)
{
    struct env *e = *state;
    up(e);
    calls_on_answer(&e->q, OCPP_RESULT, "nope", cJSON_Parse("{}"), NULL);
    assert_int_equal(e->w.st.answers_unmatched, 1);
    fake_turn(&e->w);
    assert_int_equal(e->nended, 0);
}

/* dup: the next CALL goes out twice, byte for byte. */
static void test_dup(void **state)
{
    struct env *e = *state;
    up(e);
    e->q.dup_next = true;
    send_msg(e, MSG_HEARTBEAT, 0, 0, K_NONE);
    assert_int_equal(e->tr.nsent, 2);
    assert_string_equal(e->tr.sent[0].data, e->tr.sent[1].data);
    assert_int_equal(e->w.st.duplicated, 1);
}

/* The link refuses a frame (its send queue is full): the CALL being sent fails, and the
 * sender hears of it instead of a silent drop. */
static void test_send_queue_full(void **state)
{
    struct env *e = *state;
    up(e);
    e->tr.limit = 3;
    int ok = 0, full = 0;
    for (int i = 0; i < 10; i++) {
        int rc = try_send(e, MSG_HEARTBEAT, 0, 0, K_NONE);
        ok += rc == CS_OK;
        full += rc == CS_ERR_TOO_BIG;
    }
    assert_int_equal(ok, 3);
    assert_int_equal(full, 7);
    assert_int_equal(e->w.st.out_by_type[MSG_HEARTBEAT], 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_platform_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down_keeps_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmatched_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_queue_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
