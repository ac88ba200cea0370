/* inbox.c - mutex-protected list + eventfd wakeup. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "inbox.h"

struct inbox {
    pthread_mutex_t lock;
    struct inbox_item *head, *tail; /* guarded by lock */
    size_t depth;                   /* guarded by lock */
    int efd;
    struct event *ev;
    inbox_fn *fn;
    void *privdata;
};

/* [loop] The eventfd is readable: take everything queued so far. */
static void on_inbox_wake(evutil_socket_t fd, short what, void *privdata)
{
    (void)what;
    struct inbox *ib = privdata;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        log_warn("inbox: eventfd read failed");
    pthread_mutex_lock(&ib->lock);
    struct inbox_item *first = ib->head;
    ib->head = ib->tail = NULL;
    ib->depth = 0;
    pthread_mutex_unlock(&ib->lock);
    if (first)
        ib->fn(first, ib->privdata);
}

struct inbox *inbox_new(struct event_base *base, inbox_fn *fn, void *privdata)
{
    struct inbox *ib = cs_calloc(1, sizeof(*ib));
    pthread_mutex_init(&ib->lock, NULL);
    ib->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ib->efd < 0) {
        log_error("inbox: eventfd failed");
        pthread_mutex_destroy(&ib->lock);
        cs_free(ib);
        return NULL;
    }
    ib->fn = fn;
    ib->privdata = privdata;
    ib->ev = event_new(base, ib->efd, EV_READ | EV_PERSIST, on_inbox_wake, ib);
    event_add(ib->ev, NULL);
    return ib;
}

void inbox_free(struct inbox *ib)
{
    if (!ib)
        return;
    event_free(ib->ev);
    close(ib->efd);
    struct inbox_item *it = ib->head;
    while (it) {
        struct inbox_item *next = it->next;
        inbox_item_free(it);
        it = next;
    }
    pthread_mutex_destroy(&ib->lock);
    cs_free(ib);
}

struct inbox_item *inbox_item_new(size_t size)
{
    struct inbox_item *it = cs_malloc(sizeof(*it) + size);
    it->next = NULL;
    it->size = size;
    return it;
}

void inbox_item_free(struct inbox_item *it)
{
    cs_free(it);
}

void inbox_push(struct inbox *ib, struct inbox_item *it)
{
    it->next = NULL;
    pthread_mutex_lock(&ib->lock);
    bool was_empty = ib->head == NULL;
    if (ib->tail)
        ib->tail->next = it;
    else
        ib->head = it;
    ib->tail = it;
    ib->depth++;
    pthread_mutex_unlock(&ib->lock);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(ib->efd, &one, sizeof(one));
        (void)w; /* EAGAIN only when the counter is saturated: the loop is awake anyway */
    }
}

size_t inbox_depth(struct inbox *ib)
{
    pthread_mutex_lock(&ib->lock);
    size_t d = ib->depth;
    pthread_mutex_unlock(&ib->lock);
    return d;
}
