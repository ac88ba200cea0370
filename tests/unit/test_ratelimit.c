/* test_ratelimit.c - token buckets by name (coordinator/ratelimit.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

/* Each kind: its burst at once, then one token per 1/per_s seconds. */
static void test_buckets(void **state)
{
    (void)state;
    for (int k = 0; k < RL__COUNT; k++) {
        struct ratelimit *r = rl_new();
        const struct rl_def *d = rl_def((enum rl_kind)k);
        int64_t step_ms = (int64_t)(1000.0 / d->per_s);
        int retry = -1;
        print_message("  %s: %.0f at once, %.1f/s\n", d->name, d->burst, d->per_s);
        for (int i = 0; i < (int)d->burst; i++)
            assert_true(rl_take(r, "10.0.0.1", (enum rl_kind)k, 1000, NULL));
        assert_false(rl_allows(r, "10.0.0.1", (enum rl_kind)k, 1000, &retry));
        assert_false(rl_take(r, "10.0.0.1", (enum rl_kind)k, 1000, &retry));
        assert_int_equal(retry, (int)((step_ms + 999) / 1000));
        /* another client, another kind: their own buckets */
        assert_true(rl_take(r, "10.0.0.2", (enum rl_kind)k, 1000, NULL));
        assert_true(rl_allows(r, "10.0.0.1", (enum rl_kind)((k + 1) % RL__COUNT), 1000, NULL));
        /* refilled at per_s: one more after step_ms, not before */
        assert_false(rl_take(r, "10.0.0.1", (enum rl_kind)k, 1000 + step_ms - 1, NULL));
        assert_true(rl_take(r, "10.0.0.1", (enum rl_kind)k, 1000 + step_ms, NULL));
        assert_false(rl_take(r, "10.0.0.1", (enum rl_kind)k, 1000 + step_ms, NULL));
        /* never above the burst after a long pause */
        int n = 0;
        while (rl_take(r, "10.0.0.1", (enum rl_kind)k, 1000000000, NULL) && n < 100000)
            n++;
        assert_int_equal(n, (int)d->burst);
        rl_free(r);
    }
}

/* allows() looks without taking. */
static void test_allows_takes_nothing(void **state)
{
    (void)state;
    struct ratelimit *r = rl_new();
    for (int i = 0; i < 100; i++)
        assert_true(rl_allows(r, "c", RL_AUTH_FAIL, 0, NULL));
    for (int i = 0; i < (int)rl_def(RL_AUTH_FAIL)->burst; i++)
        assert_true(rl_take(r, "c", RL_AUTH_FAIL, 0, NULL));
    assert_false(rl_allows(r, "c", RL_AUTH_FAIL, 0, NULL));
    rl_free(r);
}

/* The table is bounded: the client seen longest ago makes room (and starts full again). */
static void test_bounded(void **state)
{
    (void)state;
    struct ratelimit *r = rl_new();
    char key[32];
    for (int i = 0; i < (int)rl_def(RL_COMMAND)->burst; i++)
        assert_true(rl_take(r, "first", RL_COMMAND, 0, NULL));
    assert_false(rl_take(r, "first", RL_COMMAND, 0, NULL));
    for (int i = 0; i < RL_CLIENTS_MAX; i++) {
        snprintf(key, sizeof(key), "client-%d", i);
        assert_true(rl_take(r, key, RL_COMMAND, 1 + i / 1000, NULL));
    }
    assert_true(rl_take(r, "first", RL_COMMAND, 2, NULL)); /* forgotten: a fresh bucket */
    /* a long key is cut, not overflowed */
    char longkey[200];
    memset(longkey, 'x', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_true(rl_take(r, longkey, RL_COMMAND, 3, NULL));
    rl_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_allows_takes_nothing),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
