/* test_totals.c - monotonic fleet totals (cs/totals.h): worker restarts, workers that leave
 * and come back, a coordinator that restarts from what it saved, a fold whose copy did not
 * follow. Each step checks that no fleet counter went down and that nothing counts twice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/totals.h"

/* A worker's hash: started_ms (0 = absent), msgs_out, Heartbeat CALLs with one latency each. */
static void hash(struct kvlist *kv, uint64_t started, uint64_t out, uint64_t beats)
{
    struct worker_stats *s = cs_calloc(1, sizeof(*s));
    s->started_ms = started;
    s->msgs_out = out;
    s->connected = 3; /* a gauge: never part of the totals */
    for (uint64_t i = 0; i < beats; i++) {
        astats_up_sent(&s->act, "Heartbeat", 10);
        astats_up_answer(&s->act, "Heartbeat", 1000 + i, NULL);
        hist_add(&s->conf_us, 1000 + i);
    }
    kv_clear(kv);
    stats_render(s, kv);
    if (!started)
        kv_del(kv, "started_ms");
    cs_free(s);
}

struct fleet {
    uint64_t out, beats, conf;
};

static struct fleet sum(const struct totals *t)
{
    struct worker_stats *s = cs_calloc(1, sizeof(*s));
    totals_sum(t, s);
    const struct astats_row *r = astats_find(&s->act, ASTATS_UP, "Heartbeat");
    struct fleet f = {s->msgs_out, r ? r->calls : 0, s->conf_us.count};
    assert_int_equal(s->connected, 0);
    cs_free(s);
    return f;
}

/* One step of a scenario: what the coordinator reads or does. */
enum op {
    OBSERVE, /* worker's hash read (the copy made): totals_observe */
    FOLD,    /* a new run read: its previous run (old figures) folded first */
    RELOAD,  /* the coordinator restarts: base and every last reloaded from "Redis" */
};
struct step {
    enum op op;
    const char *worker;
    uint64_t started, out, beats; /* OBSERVE: the hash; FOLD: the old run's figures */
    uint64_t want_out;            /* fleet msgs_out afterwards */
};

/* "Redis": the persisted base and lasts, as the coordinator writes them. */
struct store {
    struct kvlist base;
    struct kvlist last[4];
    const char *names[4];
    size_t n;
};

static struct kvlist *store_last(struct store *st, const char *w)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->names[i], w) == 0)
            return &st->last[i];
    st->names[st->n] = w;
    return &st->last[st->n++];
}

static void run(const struct step *s, size_t n)
{
    struct totals *t = totals_new();
    struct store st;
    memset(&st, 0, sizeof(st));
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        struct kvlist kv = KVLIST_INIT;
        switch (s[i].op) {
        case OBSERVE:
            hash(&kv, s[i].started, s[i].out, s[i].beats);
            if (totals_observe(t, s[i].worker, &kv)) {
                kv_clear(&st.base);
                totals_render_base(t, &st.base);
            }
            kv_copy(store_last(&st, s[i].worker), &kv);
            break;
        case FOLD:
            hash(&kv, s[i].started, s[i].out, s[i].beats);
            if (totals_fold(t, s[i].worker, &kv)) {
                kv_clear(&st.base);
                totals_render_base(t, &st.base);
            }
            break;
        case RELOAD:
            totals_clear(t);
            totals_load_base(t, &st.base);
            for (size_t k = 0; k < st.n; k++)
                totals_load_last(t, st.names[k], &st.last[k]);
            break;
        }
        kv_free(&kv);
        struct fleet f = sum(t);
        if (f.out != s[i].want_out)
            fail_msg("step %zu: fleet msgs_out %llu, want %llu", i, (unsigned long long)f.out,
                     (unsigned long long)s[i].want_out);
        if (f.out < prev)
            fail_msg("step %zu: went down from %llu to %llu", i, (unsigned long long)prev,
                     (unsigned long long)f.out);
        assert_int_equal(f.beats, f.conf); /* histograms fold with their counters */
        prev = f.out;
    }
    for (size_t k = 0; k < st.n; k++)
        kv_free(&st.last[k]);
    kv_free(&st.base);
    totals_free(t);
}

/* kill -9 of a worker: its next run counts from 0; the fleet keeps what the first run did. */
static void test_restart(void **state)
{
    (void)state;
    const struct step s[] = {
        {OBSERVE, "a.w0", 100, 50, 5, 50},
        {OBSERVE, "a.w1", 100, 40, 4, 90},
        {OBSERVE, "a.w0", 100, 70, 7, 110},
        {FOLD, "a.w0", 100, 70, 7, 110}, /* a.w0 shows run 200: run 100's last figures fold */
        {OBSERVE, "a.w0", 200, 3, 1, 113},
        {OBSERVE, "a.w0", 200, 10, 2, 120},
        {OBSERVE, "a.w1", 100, 41, 4, 121},
    };
    run(s, ARRAY_SIZE(s));
}

/* A worker that leaves (lease gone) keeps counting with its last figures; when the same run
 * comes back (a partition), nothing counts twice. */
static void test_leave_return(void **state)
{
    (void)state;
    const struct step s[] = {
        {OBSERVE, "a.w0", 100, 50, 5, 50},
        {OBSERVE, "b.w0", 300, 20, 2, 70},
        /* b.w0 is gone: nothing read, still 70 */
        {OBSERVE, "a.w0", 100, 60, 6, 80},
        {OBSERVE, "b.w0", 300, 25, 2, 85}, /* back, same run */
    };
    run(s, ARRAY_SIZE(s));
}

/* The coordinator restarts (or another one leads): it goes on from what it saved, a worker
 * that restarted meanwhile included. A fold whose copy did not follow (a crash in between)
 * is not folded twice. */
static void test_reload(void **state)
{
    (void)state;
    const struct step s[] = {
        {OBSERVE, "a.w0", 100, 50, 5, 50}, {OBSERVE, "a.w1", 100, 40, 4, 90},
        {RELOAD, NULL, 0, 0, 0, 90},       {OBSERVE, "a.w1", 100, 45, 4, 95},
        {FOLD, "a.w0", 100, 50, 5, 95}, /* a.w0 restarted: run 100 folded ... */
        {RELOAD, NULL, 0, 0, 0, 95},    /* ... and the coordinator died before copying run 200 */
        {FOLD, "a.w0", 100, 50, 5, 95}, /* the same old run offered again: already in the base */
        {OBSERVE, "a.w0", 200, 4, 0, 99},  {RELOAD, NULL, 0, 0, 0, 99},
        {OBSERVE, "a.w0", 200, 6, 0, 101},
    };
    run(s, ARRAY_SIZE(s));
}

/* Workers that do not say which run they are (no started_ms): a counter going down is a new
 * run. */
static void test_without_started(void **state)
{
    (void)state;
    const struct step s[] = {
        {OBSERVE, "old.w0", 0, 50, 5, 50}, {OBSERVE, "old.w0", 0, 60, 5, 60},
        {OBSERVE, "old.w0", 0, 2, 0, 62},  {RELOAD, NULL, 0, 0, 0, 62},
        {OBSERVE, "old.w0", 0, 9, 1, 69},
    };
    run(s, ARRAY_SIZE(s));
}

/* The base as saved: figures and markers, and nothing else. */
static void test_render_base(void **state)
{
    (void)state;
    struct totals *t = totals_new();
    struct kvlist kv = KVLIST_INIT, base = KVLIST_INIT;
    hash(&kv, 100, 50, 2);
    totals_observe(t, "a.w0", &kv);
    assert_true(totals_fold(t, "a.w0", &kv));
    assert_false(totals_fold(t, "a.w0", &kv));
    totals_render_base(t, &base);
    assert_string_equal(kv_get(&base, "_folded.a.w0"), "100");
    assert_string_equal(kv_get(&base, "msgs_out"), "50");
    assert_string_equal(kv_get(&base, "conf.Heartbeat.calls"), "2");
    assert_null(kv_get(&base, "connected"));
    assert_null(kv_get(&base, "started_ms"));
    assert_true(totals_known(t, "a.w0"));
    assert_false(totals_empty(t));
    /* what {ns}:totals:last:{worker} held, rendered back from memory (a Redis that lost it) */
    struct kvlist last = KVLIST_INIT;
    hash(&kv, 200, 7, 1);
    totals_observe(t, "a.w0", &kv);
    assert_string_equal(totals_worker_at(t, 0), "a.w0");
    assert_null(totals_worker_at(t, 1));
    totals_render_last(t, 0, &last);
    assert_string_equal(kv_get(&last, "started_ms"), "200");
    assert_string_equal(kv_get(&last, "msgs_out"), "7");
    struct totals *back = totals_new();
    assert_true(totals_empty(back));
    totals_load_base(back, &base);
    totals_load_last(back, "a.w0", &last);
    struct fleet a = sum(t), b = sum(back);
    assert_true(a.out == b.out && a.beats == b.beats && a.out == 57);
    totals_free(back);
    kv_free(&last);
    assert_false(totals_known(t, "b.w0"));
    assert_int_equal(totals_workers(t), 1);
    kv_free(&kv);
    kv_free(&base);
    totals_free(t);
    totals_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart),     cmocka_unit_test(test_leave_return),
        cmocka_unit_test(test_reload),      cmocka_unit_test(test_without_started),
        cmocka_unit_test(test_render_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
