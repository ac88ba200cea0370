/* test_assign.c - the coordinator's assignment step (cs/assign.h): fixed scenarios, then
 * properties over random worker churn with a seeded PRNG. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/assign.h"
#include "cs/buf.h"
#include "cs/mem.h"
#include "cs/rset.h"
#include "cs/util.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static void set_from(struct rset *s, const char *text)
{
    struct cs_error err;
    int rc = rset_parse(s, text, &err);
    if (rc)
        print_message("rset_parse('%s'): %s\n", text, err.msg);
    assert_int_equal(rc, CS_OK);
}

static void assert_set(const struct rset *s, const char *want)
{
    struct buf b = BUF_INIT;
    rset_format(s, &b);
    if (strcmp(buf_cstr(&b), want) != 0)
        print_message("  got '%s', want '%s'\n", buf_cstr(&b), want);
    assert_string_equal(buf_cstr(&b), want);
    buf_free(&b);
}

static void free_workers(struct assign_worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rset_free(&w[i].cur);
        rset_free(&w[i].held);
        rset_free(&w[i].next);
    }
}

/* The targets the header promises: proportional to capacity, summing to min(size, capacity),
 * rounded by largest remainder, ties to the lower name, never above a worker's capacity. */
static void expected_targets(const struct assign_worker *w, size_t n, uint32_t size,
                             uint64_t *target)
{
    uint64_t capsum = 0, given = 0;
    for (size_t i = 0; i < n; i++)
        capsum += w[i].capacity;
    uint64_t total = size < capsum ? size : capsum;
    uint64_t rem[16];
    bool bumped[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        target[i] = capsum ? total * w[i].capacity / capsum : 0;
        rem[i] = capsum ? total * w[i].capacity % capsum : 0;
        bumped[i] = false;
        given += target[i];
    }
    while (given < total) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (bumped[i] || target[i] >= w[i].capacity)
                continue;
            if (best == n || rem[i] > rem[best] ||
                (rem[i] == rem[best] && strcmp(w[i].name, w[best].name) < 0))
                best = i;
        }
        assert_true(best < n);
        target[best]++;
        bumped[best] = true;
        given++;
    }
}

/* ---- fixed scenarios ----------------------------------------------------------------------- */

#define MAXW 4

static const struct {
    const char *what;
    uint32_t size;
    struct {
        const char *name; /* NULL ends the list; "+b": worker b, just joined (fresh) */
        uint64_t cap;
        const char *cur, *held, *next;
    } w[MAXW];
    uint64_t assigned, unassigned, surplus, moved;
} scen[] = {
    {"one fresh worker", 5, {{"+a", 10, "", "", "1-5"}}, 5, 0, 0, 0},
    {"empty fleet", 0, {{"a", 10, "1-3", "1-3", ""}}, 0, 0, 0, 0},
    {"two fresh workers split evenly",
     10,
     {{"+a", 10, "", "", "1-5"}, {"+b", 10, "", "", "6-10"}},
     10,
     0,
     0,
     0},
    {"a joining worker waits until the old owner lets go",
     10,
     {{"a", 10, "1-10", "1-10", "1-5"}, {"+b", 10, "", "", ""}},
     5,
     5,
     0,
     5},
    {"... and gets them once it has",
     10,
     {{"a", 10, "1-5", "1-5", "1-5"}, {"b", 10, "", "", "6-10"}},
     10,
     0,
     0,
     0},
    {"indexes a worker still runs are not granted to another",
     10,
     {{"a", 10, "1-5", "1-7", "1-5"}, {"b", 10, "", "", "8-10"}},
     8,
     2,
     0,
     0},
    {"the survivor takes over a leaving worker's share",
     10,
     {{"b", 10, "6-10", "6-10", "1-10"}},
     10,
     0,
     0,
     0},
    {"capacity limits: surplus", 10, {{"a", 3, "", "", "1-3"}, {"b", 1, "", "", "4"}}, 4, 6, 6, 0},
    {"proportional to capacity",
     100,
     {{"a", 100, "", "", "1-25"}, {"b", 300, "", "", "26-100"}},
     100,
     0,
     0,
     0},
    {"largest remainder, ties by name",
     10,
     {{"+c", 10, "", "", "8-10"}, {"+a", 10, "", "", "1-4"}, {"+b", 10, "", "", "5-7"}},
     10,
     0,
     0,
     0},
    {"zero capacity gets nothing and gives back",
     6,
     {{"a", 0, "1-3", "1-3", ""}, {"b", 6, "4-6", "4-6", "4-6"}},
     3,
     3,
     0,
     0},
    {"fleet shrink drops what is beyond it", 6, {{"a", 10, "1-10", "1-10", "1-6"}}, 6, 0, 0, 0},
    {"fleet growth adds the lowest free indexes",
     12,
     {{"a", 10, "1-4", "1-4", "1-4,9-10"}, {"b", 10, "5-8", "5-8", "5-8,11-12"}},
     12,
     0,
     0,
     0},
    {"a lowered capacity keeps the lowest indexes",
     10,
     {{"a", 4, "1-10", "1-10", "1-4"}},
     4,
     6,
     6,
     0},
    {"over target gives up its highest indexes",
     9,
     {{"a", 10, "1-9", "1-9", "1-3"}, {"+b", 10, "", "", ""}, {"+c", 10, "", "", ""}},
     3,
     6,
     0,
     6},
    {"a kept grant is not reshuffled",
     10,
     {{"a", 10, "2,4,6,8,10", "2,4,6,8,10", "2,4,6,8,10"}, {"b", 10, "", "", "1,3,5,7,9"}},
     10,
     0,
     0,
     0},
    {"pending release elsewhere is skipped, lower free ones taken",
     6,
     {{"a", 3, "", "", "3-5"}, {"b", 3, "", "1-2", "1-2,6"}},
     6,
     0,
     0,
     0},
    /* a shrink moves nobody who keeps a place (1,000 -> 600 moved 200 that were staying) */
    {"a shrink moves nobody who keeps a place",
     600,
     {{"a", 500, "1-500", "1-500", "1-500"}, {"b", 500, "501-1000", "501-1000", "501-600"}},
     600,
     0,
     0,
     0},
    {"... nor a step after it",
     600,
     {{"a", 500, "1-500", "1-500", "1-500"}, {"b", 500, "501-600", "501-600", "501-600"}},
     600,
     0,
     0,
     0},
    {"a shrink below one worker's share leaves the other idle",
     400,
     {{"a", 500, "1-500", "1-500", "1-400"}, {"b", 500, "", "", ""}},
     400,
     0,
     0,
     0},
    {"growth after a shrink fills the light worker first",
     1000,
     {{"a", 500, "1-500", "1-500", "1-500"}, {"b", 500, "501-600", "501-600", "501-1000"}},
     1000,
     0,
     0,
     0},
    {"a leaving worker's indexes go to the others, nothing else moves",
     9,
     {{"a", 10, "1-6", "1-6", "1-6"}, {"b", 10, "7", "7", "7-9"}},
     9,
     0,
     0,
     0},
    {"a raised capacity alone moves nothing",
     600,
     {{"a", 1000, "1-500", "1-500", "1-500"}, {"b", 500, "501-600", "501-600", "501-600"}},
     600,
     0,
     0,
     0},
    {"a joining worker after a shrink: balanced again",
     600,
     {{"a", 500, "1-500", "1-500", "1-200"},
      {"b", 500, "501-600", "501-600", "501-600"},
      {"+c", 500, "", "", ""}},
     300,
     300,
     0,
     300},
    {"a fresh worker without capacity moves nothing",
     600,
     {{"a", 500, "1-500", "1-500", "1-500"},
      {"b", 500, "501-600", "501-600", "501-600"},
      {"+c", 0, "", "", ""}},
     600,
     0,
     0,
     0},
};

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_SIZE(scen); k++) {
        struct assign_worker w[MAXW];
        size_t n = 0;
        memset(w, 0, sizeof(w));
        print_message("  %s\n", scen[k].what);
        for (; n < MAXW && scen[k].w[n].name; n++) {
            w[n].fresh = scen[k].w[n].name[0] == '+';
            w[n].name = scen[k].w[n].name + w[n].fresh;
            w[n].capacity = scen[k].w[n].cap;
            set_from(&w[n].cur, scen[k].w[n].cur);
            set_from(&w[n].held, scen[k].w[n].held);
            rset_add(&w[n].next, 999, 999); /* overwritten */
        }
        struct assign_result res;
        assign_compute(w, n, scen[k].size, &res);
        for (size_t i = 0; i < n; i++) {
            print_message("    %s\n", w[i].name);
            assert_set(&w[i].next, scen[k].w[i].next);
            /* cur and held are left as they were */
            assert_set(&w[i].cur, scen[k].w[i].cur);
            assert_set(&w[i].held, scen[k].w[i].held);
        }
        assert_int_equal(res.assigned, scen[k].assigned);
        assert_int_equal(res.unassigned, scen[k].unassigned);
        assert_int_equal(res.surplus, scen[k].surplus);
        assert_int_equal(res.moved, scen[k].moved);
        free_workers(w, n);
    }
}

static void test_no_workers(void **state)
{
    (void)state;
    struct assign_result res;
    assign_compute(NULL, 0, 42, &res);
    assert_int_equal(res.assigned, 0);
    assert_int_equal(res.unassigned, 42);
    assert_int_equal(res.surplus, 42);
    assert_int_equal(res.moved, 0);
}

/* ---- properties over random churn ---------------------------------------------------------- */

#define SIM_WORKERS 8
#define SIM_NAMES 12
#define SIM_FLEET_MAX 200
#define SIM_STEPS 400

struct sim_worker {
    bool live;
    char name[24];
    uint64_t cap;
    struct rset cur;  /* granted */
    struct rset held; /* runs: the grant plus what it has not let go of yet */
    bool fresh;       /* joined, no grant recorded yet (the coordinator records one per step) */
};

struct sim {
    struct cs_rng rng;
    struct sim_worker w[SIM_NAMES];
    uint32_t size;
    uint64_t settled_checks;
};

static uint64_t random_capacity(struct cs_rng *rng)
{
    static const uint64_t caps[] = {0, 1, 2, 3, 5, 10, 17, 25, 40, 50, 100, 1000};
    return caps[cs_rng_below(rng, ARRAY_SIZE(caps))];
}

static size_t live_count(const struct sim *s)
{
    size_t n = 0;
    for (size_t i = 0; i < SIM_NAMES; i++)
        n += s->w[i].live;
    return n;
}

static void random_event(struct sim *s)
{
    struct cs_rng *rng = &s->rng;
    size_t k = (size_t)cs_rng_below(rng, SIM_NAMES);
    struct sim_worker *x = &s->w[k];
    switch (cs_rng_below(rng, 10)) {
    case 0:
    case 1: /* a worker joins */
        if (!x->live && live_count(s) < SIM_WORKERS) {
            x->live = true;
            x->fresh = true;
            x->cap = random_capacity(rng);
            rset_clear(&x->cur);
            rset_clear(&x->held);
        }
        break;
    case 2: /* a worker leaves (its lease expires): what it ran is gone with it */
        if (x->live) {
            x->live = false;
            rset_clear(&x->cur);
            rset_clear(&x->held);
        }
        break;
    case 3: /* capacity change */
        if (x->live)
            x->cap = random_capacity(rng);
        break;
    case 4: /* fleet size change */
        s->size = (uint32_t)cs_rng_below(rng, SIM_FLEET_MAX + 1);
        break;
    default: /* nothing: let it converge */
        break;
    }
}

/* Live workers in a random order (the result must not depend on it). */
static size_t gather(struct sim *s, struct assign_worker *aw, size_t *who, bool synced)
{
    size_t n = 0;
    for (size_t i = 0; i < SIM_NAMES; i++) {
        if (!s->w[i].live)
            continue;
        who[n++] = i;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)cs_rng_below(&s->rng, i);
        size_t t = who[i - 1];
        who[i - 1] = who[j];
        who[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        struct sim_worker *x = &s->w[who[i]];
        memset(&aw[i], 0, sizeof(aw[i]));
        aw[i].name = x->name;
        aw[i].capacity = x->cap;
        aw[i].fresh = x->fresh;
        rset_copy(&aw[i].cur, &x->cur);
        rset_copy(&aw[i].held, synced ? &x->cur : &x->held);
    }
    return n;
}

static uint64_t count_in(const struct rset *s, uint32_t size)
{
    struct rset fleet = RSET_INIT, t = RSET_INIT;
    if (size)
        rset_add(&fleet, 1, size);
    rset_intersect(&t, s, &fleet);
    uint64_t c = rset_count(&t);
    rset_free(&fleet);
    rset_free(&t);
    return c;
}

/* Every property of one assign_compute call. Returns true when the input was settled (every
 * worker runs exactly its grant, none over capacity and, when a fresh worker is being given
 * its share, none over target). */
static bool check_step(const struct assign_worker *w, size_t n, uint32_t size,
                       const struct assign_result *res)
{
    uint64_t target[SIM_WORKERS], capsum = 0, sum_next = 0, moved = 0;
    struct rset fleet = RSET_INIT, all = RSET_INIT, t = RSET_INIT, t2 = RSET_INIT;
    bool settled = true, rebalance = false;

    /* balancing moves happen only for a worker that just joined (with capacity) */
    for (size_t i = 0; i < n; i++)
        rebalance |= w[i].fresh && w[i].capacity > 0;
    assert_int_equal(res->rebalanced, rebalance);

    expected_targets(w, n, size, target);
    if (size)
        rset_add(&fleet, 1, size);
    for (size_t i = 0; i < n; i++)
        capsum += w[i].capacity;
    uint64_t total = size < capsum ? size : capsum, tsum = 0;

    for (size_t i = 0; i < n; i++) {
        const struct assign_worker *x = &w[i];
        uint64_t c = rset_count(&x->next);
        uint64_t had = count_in(&x->cur, size);
        tsum += target[i];
        sum_next += c;

        /* balanced: the target is the proportional share rounded down or up */
        unsigned __int128 share = (unsigned __int128)total * x->capacity;
        if (capsum) {
            assert_true((unsigned __int128)target[i] * capsum <= share + capsum - 1);
            assert_true((unsigned __int128)target[i] * capsum + capsum > share);
        }
        /* within the fleet and capacity */
        rset_subtract(&t, &x->next, &fleet);
        assert_true(rset_empty(&t));
        assert_true(c <= x->capacity);

        /* disjoint grants */
        rset_intersect(&t, &all, &x->next);
        assert_true(rset_empty(&t));
        rset_union(&t, &all, &x->next);
        rset_copy(&all, &t);

        /* never granted what another live worker still runs */
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            rset_intersect(&t, &x->next, &w[j].held);
            assert_true(rset_empty(&t));
        }

        /* minimal movement */
        uint64_t kept = had < x->capacity ? had : x->capacity;
        uint64_t limit = rebalance ? target[i] : kept > target[i] ? kept : target[i];
        assert_true(c <= limit);
        if (had <= limit) {
            /* within its limit: the whole previous grant (inside the fleet) is kept */
            rset_intersect(&t, &x->cur, &fleet);
            rset_subtract(&t2, &t, &x->next);
            assert_true(rset_empty(&t2));
        } else {
            /* over it (target when balancing, else capacity): only gives up, takes nothing
             * new, ends exactly on it */
            rset_subtract(&t, &x->next, &x->cur);
            assert_true(rset_empty(&t));
            assert_int_equal(c, limit);
        }
        if (rebalance && kept > target[i])
            moved += kept - target[i];

        if (!rset_equal(&x->held, &x->cur) || had > x->capacity || (rebalance && had > target[i]))
            settled = false;
    }
    assert_int_equal(tsum, total);

    /* work-conserving: a worker left under target could not have had any free index, because
     * every index nobody was granted is still run by some other worker */
    rset_subtract(&t, &fleet, &all);
    for (size_t i = 0; i < n; i++) {
        if (rset_count(&w[i].next) >= target[i])
            continue;
        struct rset busy = RSET_INIT;
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            rset_union(&t2, &busy, &w[j].held);
            rset_copy(&busy, &t2);
        }
        rset_subtract(&t2, &t, &busy);
        assert_true(rset_empty(&t2));
        rset_free(&busy);
    }

    assert_int_equal(res->assigned, sum_next);
    assert_int_equal(res->unassigned, size - sum_next);
    assert_int_equal(res->surplus, size > capsum ? size - capsum : 0);
    assert_int_equal(res->moved, moved);

    if (settled) {
        /* nothing pending: everything that can be assigned is, and when balancing for a fresh
         * worker, every worker is on target */
        assert_int_equal(res->assigned, total);
        for (size_t i = 0; i < n && rebalance; i++)
            assert_int_equal(rset_count(&w[i].next), target[i]);
    }
    rset_free(&fleet);
    rset_free(&all);
    rset_free(&t);
    rset_free(&t2);
    return settled;
}

/* One call on the simulated state; the inputs must come out untouched. */
static bool run_step(struct sim *s, struct assign_worker *aw, size_t *who, size_t *pn, bool synced)
{
    size_t n = gather(s, aw, who, synced);
    struct rset cur[SIM_WORKERS], held[SIM_WORKERS];
    for (size_t i = 0; i < n; i++) {
        rset_init(&cur[i]);
        rset_init(&held[i]);
        rset_copy(&cur[i], &aw[i].cur);
        rset_copy(&held[i], &aw[i].held);
    }
    struct assign_result res;
    assign_compute(aw, n, s->size, &res);
    for (size_t i = 0; i < n; i++) {
        assert_true(rset_equal(&cur[i], &aw[i].cur));
        assert_true(rset_equal(&held[i], &aw[i].held));
        rset_free(&cur[i]);
        rset_free(&held[i]);
    }
    *pn = n;
    return check_step(aw, n, s->size, &res);
}

static void test_random_churn(void **state)
{
    (void)state;
    struct sim s;
    memset(&s, 0, sizeof(s));
    cs_rng_seed(&s.rng, 0xC0FFEE);
    for (size_t i = 0; i < SIM_NAMES; i++)
        snprintf(s.w[i].name, sizeof(s.w[i].name), "w%02zu", (SIM_NAMES - i) * 7 % 100);
    s.size = 50;

    uint64_t settled_inputs = 0, pending_steps = 0;
    for (int step = 0; step < SIM_STEPS; step++) {
        int events = (int)cs_rng_below(&s.rng, 3);
        for (int e = 0; e < events; e++)
            random_event(&s);

        struct assign_worker aw[SIM_WORKERS];
        size_t who[SIM_WORKERS], n;
        settled_inputs += run_step(&s, aw, who, &n, false);

        /* apply: grants become cur; each worker lets go of what it lost, or not yet */
        for (size_t i = 0; i < n; i++) {
            struct sim_worker *x = &s.w[who[i]];
            x->fresh = false; /* its grant is recorded now */
            rset_copy(&x->cur, &aw[i].next);
            if (cs_rng_below(&s.rng, 2) == 0) {
                rset_copy(&x->held, &aw[i].next);
            } else {
                struct rset u = RSET_INIT;
                rset_union(&u, &x->held, &aw[i].next);
                rset_copy(&x->held, &u);
                rset_free(&u);
                pending_steps++;
            }
        }
        free_workers(aw, n);

        /* side check: once everyone has let go, one more step reaches the full assignment */
        bool settled = run_step(&s, aw, who, &n, true);
        assert_true(settled);
        free_workers(aw, n);
    }
    print_message("  %d steps, %llu settled inputs, %llu pending releases\n", SIM_STEPS,
                  (unsigned long long)settled_inputs, (unsigned long long)pending_steps);
    /* the walk went through both kinds of state */
    assert_true(settled_inputs > 10);
    assert_true(pending_steps > 10);
    for (size_t i = 0; i < SIM_NAMES; i++) {
        rset_free(&s.w[i].cur);
        rset_free(&s.w[i].held);
    }
}

/* Repeated steps with everyone releasing at once converge to a fixed point in two steps and
 * then nothing moves. */
static void test_convergence(void **state)
{
    (void)state;
    struct cs_rng rng;
    cs_rng_seed(&rng, 7);
    for (int iter = 0; iter < 200; iter++) {
        struct assign_worker w[5];
        size_t n = 1 + (size_t)cs_rng_below(&rng, 5);
        uint32_t size = (uint32_t)cs_rng_below(&rng, 300);
        char names[5][24];
        memset(w, 0, sizeof(w));
        for (size_t i = 0; i < n; i++) {
            snprintf(names[i], sizeof(names[i]), "n%zu", i);
            w[i].name = names[i];
            w[i].capacity = random_capacity(&rng);
        }
        /* a random, disjoint starting grant (some indexes owned by no one) */
        for (uint32_t x = 1; x <= size; x++) {
            size_t owner = (size_t)cs_rng_below(&rng, n + 1);
            if (owner < n)
                rset_add(&w[owner].cur, x, x);
        }
        for (size_t i = 0; i < n; i++) {
            rset_copy(&w[i].held, &w[i].cur);
            w[i].fresh = rset_empty(&w[i].cur) && cs_rng_below(&rng, 2); /* some just joined */
        }
        struct assign_result res;
        for (int round = 0; round < 4; round++) {
            assign_compute(w, n, size, &res);
            check_step(w, n, size, &res);
            bool same = true;
            for (size_t i = 0; i < n; i++) {
                w[i].fresh = false;
                same &= rset_equal(&w[i].cur, &w[i].next);
                rset_copy(&w[i].cur, &w[i].next);
                rset_copy(&w[i].held, &w[i].next);
            }
            if (round >= 2) {
                assert_true(same);
                assert_int_equal(res.moved, 0);
            }
        }
        free_workers(w, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_no_workers),
        cmocka_unit_test(test_random_churn),
        cmocka_unit_test(test_convergence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
