/* outq.h - a small ring of frames waiting for the network library: a connection keeps a few
 * (OUTQ_CAP) and refuses more, so a stuck connection costs bounded memory and whoever sent the
 * frame that did not fit hears of it. The queue owns its frames. Its slots grow on demand
 * (OUTQ_MIN, doubling to OUTQ_CAP): most connections never hold more than one or two frames,
 * and 32 slots in every connection were 768 bytes per charger. Zeroed is empty. [loop] */
#ifndef CS_AGENT_OUTQ_H
#define CS_AGENT_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

#define OUTQ_CAP 32
#define OUTQ_MIN 4

struct outmsg {
    char *dst;  /* where it goes (an MQTT topic); may be NULL */
    char *data; /* the frame */
    size_t len;
};

struct outq {
    struct outmsg *q; /* cap slots */
    unsigned cap, head, n;
};

/* Appends, taking ownership of dst and data; false (and both freed) when full. */
bool outq_push(struct outq *q, char *dst, char *data, size_t len);
/* The oldest, or NULL. Borrowed until outq_pop. */
struct outmsg *outq_peek(struct outq *q);
/* Frees the oldest. */
void outq_pop(struct outq *q);
/* Frees every frame (the slots stay for the next ones); returns how many were dropped. */
unsigned outq_clear(struct outq *q);
/* outq_clear, and the slots too. */
unsigned outq_free(struct outq *q);

#endif
