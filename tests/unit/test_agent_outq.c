/* test_agent_outq.c - the ring of frames a connection keeps for its network library
 * (agent/outq.c): order kept across wraps and growth, the cap, clear and free. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "outq.h"

static bool push_n(struct outq *q, int n)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "f%d", n);
    return outq_push(q, cs_strdup("topic"), cs_strdup(buf), strlen(buf));
}

static int pop_n(struct outq *q)
{
    struct outmsg *m = outq_peek(q);
    assert_non_null(m);
    int n = -1;
    assert_int_equal(sscanf(m->data, "f%d", &n), 1);
    assert_string_equal(m->dst, "topic");
    outq_pop(q);
    return n;
}

static void test_empty(void **state)
{
    (void)state;
    struct outq q = {0};
    assert_null(outq_peek(&q));
    outq_pop(&q); /* nothing to pop: no effect */
    assert_int_equal(outq_clear(&q), 0);
    assert_int_equal(outq_free(&q), 0);
    assert_null(q.q);
}

/* The slots start small and grow while the oldest frame sits mid-ring: order is kept. */
static void test_order_across_growth(void **state)
{
    (void)state;
    struct outq q = {0};
    int next_in = 0, next_out = 0;
    for (int i = 0; i < 3; i++)
        assert_true(push_n(&q, next_in++));
    assert_int_equal(q.cap, OUTQ_MIN);
    assert_int_equal(pop_n(&q), next_out++);
    assert_int_equal(pop_n(&q), next_out++);
    /* head is 2 of 4: the next pushes wrap, then grow through 8 and 16 to 32 */
    while (q.n < OUTQ_CAP)
        assert_true(push_n(&q, next_in++));
    assert_int_equal(q.cap, OUTQ_CAP);
    /* full: refused, and the refused frame is freed by the queue (ASan/valgrind check it) */
    assert_false(push_n(&q, 999));
    while (q.n)
        assert_int_equal(pop_n(&q), next_out++);
    assert_int_equal(next_out, next_in);
    /* the slots stay for the next frames */
    assert_true(push_n(&q, next_in++));
    assert_int_equal(q.cap, OUTQ_CAP);
    assert_int_equal(outq_free(&q), 1);
    assert_null(q.q);
    assert_int_equal(q.cap, 0);
}

static void test_clear_counts(void **state)
{
    (void)state;
    struct outq q = {0};
    for (int i = 0; i < 5; i++)
        assert_true(push_n(&q, i));
    assert_int_equal(outq_clear(&q), 5);
    assert_null(outq_peek(&q));
    assert_true(push_n(&q, 7));
    assert_int_equal(pop_n(&q), 7);
    outq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_order_across_growth),
        cmocka_unit_test(test_clear_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
