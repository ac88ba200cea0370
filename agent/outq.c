/* outq.c - ring of owned frames. [loop] */
#include <string.h>

#include "cs/mem.h"
#include "outq.h"

bool outq_push(struct outq *q, char *dst, char *data, size_t len)
{
    if (q->n == OUTQ_CAP) {
        cs_free(dst);
        cs_free(data);
        return false;
    }
    struct outmsg *m = &q->q[(q->head + q->n) % OUTQ_CAP];
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
    q->head = (q->head + 1) % OUTQ_CAP;
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
