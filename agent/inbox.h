/* inbox.h - the only path from paho's threads to the loop thread (STYLE §6).
 * Producers (paho callbacks) append a copied item under a mutex and wake the loop through an
 * eventfd; the loop takes the whole list at once and handles it with nothing locked. */
#ifndef CS_INBOX_H
#define CS_INBOX_H

#include <stddef.h>

struct event_base;
struct inbox;

struct inbox_item {
    struct inbox_item *next;
    size_t size; /* bytes of data[] */
    char data[]; /* producer-defined contents */
};

/* [loop] Called with each batch, oldest first; the handler frees items with inbox_item_free. */
typedef void inbox_fn(struct inbox_item *first, void *privdata);

/* [loop] Caller frees with inbox_free. */
struct inbox *inbox_new(struct event_base *base, inbox_fn *fn, void *privdata);
/* [loop] Drops undelivered items. */
void inbox_free(struct inbox *ib);
/* [any thread] Allocates an item with `size` bytes of data (aborts on OOM). */
struct inbox_item *inbox_item_new(size_t size);
void inbox_item_free(struct inbox_item *it);
/* [any thread] Appends and wakes the loop; takes ownership of it. */
void inbox_push(struct inbox *ib, struct inbox_item *it);
/* [loop] Items pushed and not yet handled (stats). */
size_t inbox_depth(struct inbox *ib);

#endif
