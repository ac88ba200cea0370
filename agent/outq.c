/* outq.c - ring of owned frames. [loop] */
#include <string.h>

#include "cs/mem.h"
#include "outq.h"

/* Doubles the slots, the oldest frame first in the new ones. */
static void grow(struct outq *q)
{
    unsigned cap = q->cap ? q->cap * 2 : OUTQ_MIN;
    struct outmsg *v = cs_calloc(cap, sizeof(*v));
    for (unsigned i = 0; i < q->n; i++)
        v[i] = q->q[(q->head + i) % q->cap];
    cs_free(q->q);
    q->q = v;
    q->cap = cap;
    q->head = 0;
}

bool outq_push(struct outq *q, char *dst, char *data, size_t len)
{
    if (q->n == OUTQ_CAP) {
        cs_free(dst);
        cs_free(data);
        return false;
    }
    if (q->n == q->cap)
        grow(q);
    struct outmsg *m = &q->q[(q->head + q->n) % q->cap];
    m->dst = dst;
    m->data = data;
    m->len = len;
    q->n++;
    return true;
}

struct outmsg *outq_peek(struct outq *q)
{
    return q->n ? &q->q[q->head] : NULL;
}

void outq_pop(struct outq *q)
{
    if (!q->n)
        return;
    struct outmsg *m = &q->q[q->head];
    cs_free(m->dst);
    cs_free(m->data);
    memset(m, 0, sizeof(*m));
    q->head = (q->head + 1) % q->cap;
    q->n--;
}

unsigned outq_clear(struct outq *q)
{
    unsigned n = q->n;
    while (q->n)
        outq_pop(q);
    q->head = 0;
    return n;
}

unsigned outq_free(struct outq *q)
{
    unsigned n = outq_clear(q);
    cs_free(q->q);
    q->q = NULL;
    q->cap = 0;
    return n;
}
