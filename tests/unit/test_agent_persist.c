/* test_agent_persist.c - a charger's saved state (agent/persist.c): one write per loop turn,
 * what is written reads back, the fields of an ended transaction go, nothing is written while
 * the charger is still loading. Redis is faked at link time (--wrap=rds_cmdv). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent_fake.h"
#include "cs/rds.h"
#include "crt.h"
#include "persist.h"

int __wrap_rds_cmdv(struct rds *r, rds_reply_fn *fn, void *privdata, int argc, const char **argv,
                    const size_t *argvlen);

static struct kvlist written, deleted;
static int hsets;

int __wrap_rds_cmdv(struct rds *r, rds_reply_fn *fn, void *privdata, int argc, const char **argv,
                    const size_t *argvlen)
{
    (void)r;
    (void)fn;
    (void)privdata;
    (void)argvlen;
    if (strcmp(argv[0], "HSET") == 0) {
        hsets++;
        for (int i = 2; i + 1 < argc; i += 2)
            kv_set(&written, argv[i], argv[i + 1]);
    } else if (strcmp(argv[0], "HDEL") == 0) {
        for (int i = 2; i < argc; i++)
            kv_set(&deleted, argv[i], "");
    }
    return CS_OK;
}

struct env {
    struct fake_worker w;
    struct crt_env ce;
    struct charger_rt ch;
};

static void init_charger(struct env *e, struct charger_rt *ch)
{
    memset(ch, 0, sizeof(*ch));
    ch->env = &e->ce;
    charger_init(&ch->m, 7, "CP-000007", 2, 1000);
}

static int setup(void **state)
{
    struct env *e = cs_calloc(1, sizeof(*e));
    fake_worker_init(&e->w);
    e->ce.x = &e->w.x;
    init_charger(e, &e->ch);
    kv_init(&written);
    kv_init(&deleted);
    hsets = 0;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    persist_forget(&e->ch);
    kv_free(&written);
    kv_free(&deleted);
    fake_worker_free(&e->w);
    cs_free(e);
    return 0;
}

static void test_round_trip(void **state)
{
    struct env *e = *state;
    struct charger_rt *ch = &e->ch;
    ch->link.state = LINK_UP;
    charger_tx_begin(&ch->m, 1, "TAG-1", 11, 0, 0, 40, 1000);
    ch->m.conn[1].status = ST_CHARGING;
    ch->m.conn[1].plugged = true;
    ch->m.conn[1].meter_wh = 1234.5;
    ch->m.conn[2].meter_wh = 99;
    ch->m.last_local_tx = -3;
    persist_mark(ch);
    persist_mark(ch);
    assert_int_equal(hsets, 0); /* written on the next turn, once */
    fake_turn(&e->w);
    assert_int_equal(hsets, 1);
    assert_string_equal(kv_get(&written, "connected"), "1");
    assert_string_equal(kv_get(&written, "owner"), "test.w0");
    assert_string_equal(kv_get(&written, "c1.status"), "Charging");
    assert_string_equal(kv_get(&written, "c1.tx_tag"), "TAG-1");
    assert_null(kv_get(&written, "c2.tx_id"));
    assert_non_null(kv_get(&deleted, "c2.tx_id")); /* connector 2 has no transaction */
    assert_null(kv_get(&deleted, "c1.tx_id"));

    /* another worker takes it over */
    struct charger_rt *next = cs_calloc(1, sizeof(*next));
    init_charger(e, next);
    persist_restore(next, &written);
    assert_true(next->s.crashed); /* the owner field says its worker held it */
    assert_true(next->m.conn[1].tx_active);
    assert_int_equal(next->m.conn[1].tx.id, ch->m.conn[1].tx.id);
    assert_string_equal(next->m.conn[1].tx.id_tag, "TAG-1");
    assert_int_equal(next->m.conn[1].status, ST_CHARGING);
    assert_true(next->m.conn[1].plugged);
    assert_true(next->m.conn[2].meter_wh == 99);
    assert_int_equal(next->m.last_local_tx, -3);
    cs_free(next);
}

/* Released on purpose: owner empty, a planned move, not a crash. */
static void test_release(void **state)
{
    struct env *e = *state;
    e->ch.link.state = LINK_UP;
    e->ch.releasing = true;
    persist_mark(&e->ch);
    persist_flush(&e->ch); /* a charger about to be freed writes now */
    assert_int_equal(hsets, 1);
    assert_string_equal(kv_get(&written, "owner"), "");
    assert_string_equal(kv_get(&written, "connected"), "0");
    struct charger_rt next;
    init_charger(e, &next);
    persist_restore(&next, &written);
    assert_false(next.s.crashed);
}

/* Nothing known yet: the saved state is never overwritten with defaults. */
static void test_loading(void **state)
{
    struct env *e = *state;
    e->ch.link.state = LINK_LOADING;
    persist_mark(&e->ch);
    fake_turn(&e->w);
    assert_int_equal(hsets, 0);
}

/* Garbage in a saved state reads as nothing. */
static void test_garbage(void **state)
{
    struct env *e = *state;
    struct kvlist st = KVLIST_INIT;
    kv_set(&st, "c1.status", "Exploding");
    kv_set(&st, "c1.meter_wh", "-5");
    kv_set(&st, "c1.tx_id", "1e99");
    kv_set(&st, "last_local_tx", "12");
    kv_set(&st, "c9.meter_wh", "10");
    persist_restore(&e->ch, &st);
    assert_int_equal(e->ch.m.conn[1].status, ST_AVAILABLE);
    assert_true(e->ch.m.conn[1].meter_wh == 0);
    assert_false(e->ch.m.conn[1].tx_active);
    assert_int_equal(e->ch.m.last_local_tx, 0);
    kv_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
