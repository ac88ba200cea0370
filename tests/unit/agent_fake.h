/* agent_fake.h - a worker context and a transport for unit tests of the agent's layers: the
 * fake transport records what is sent and delivers the events a test queues only when the
 * test lets the loop run (as a real transport does: never inside a tr_* call). */
#ifndef CS_TEST_AGENT_FAKE_H
#define CS_TEST_AGENT_FAKE_H

#include <stdbool.h>
#include <string.h>

#include <event2/event.h>

#include "cs/cfg.h"
#include "cs/mem.h"
#include "cs/stats.h"
#include "ctx.h"
#include "defer.h"
#include "transport.h"

#define FAKE_MAX 64

struct fake_frame {
    enum tr_kind kind;
    char action[64];
    char data[1024];
};

struct tr_conn {
    struct fake_tr *t;
    tr_event_fn *fn;
    void *owner;
    char uri[128], client_id[96];
    bool up, closed, freed;
};

struct fake_ev {
    struct tr_conn *c;
    struct tr_event ev;
    char data[1024];
};

struct fake_tr {
    struct transport t;
    struct tr_conn *conns[FAKE_MAX];
    int nconns;
    struct fake_frame sent[FAKE_MAX];
    int nsent;
    struct fake_ev q[FAKE_MAX];
    int nq;
    bool refuse_open;
    int limit; /* > 0: frames accepted before the send queue is "full" */
};

static struct tr_conn *fake_open(struct transport *t, const struct tr_opts *o, tr_event_fn *fn,
                                 void *owner, struct cs_error *err)
{
    struct fake_tr *f = (struct fake_tr *)t;
    if (f->refuse_open || f->nconns == FAKE_MAX) {
        cs_error_set(err, CS_ERR_IO, "refused");
        return NULL;
    }
    struct tr_conn *c = cs_calloc(1, sizeof(*c));
    c->t = f;
    c->fn = fn;
    c->owner = owner;
    snprintf(c->uri, sizeof(c->uri), "%s", o->uri);
    snprintf(c->client_id, sizeof(c->client_id), "%s", o->client_id);
    f->conns[f->nconns++] = c;
    return c;
}

static int fake_send(struct tr_conn *c, enum tr_kind kind, const char *action, const char *frame,
                     size_t len, struct cs_error *err)
{
    struct fake_tr *f = c->t;
    if (!c->up || f->nsent == FAKE_MAX)
        return cs_error_set(err, CS_ERR_STATE, "not up");
    if (f->limit && f->nsent >= f->limit)
        return cs_error_set(err, CS_ERR_TOO_BIG, "send queue full");
    struct fake_frame *s = &f->sent[f->nsent++];
    s->kind = kind;
    snprintf(s->action, sizeof(s->action), "%s", action);
    snprintf(s->data, sizeof(s->data), "%.*s", (int)len, frame);
    return CS_OK;
}

static inline void fake_queue(struct tr_conn *c, enum tr_ev_type type, enum tr_down why,
                              const char *data)
{
    struct fake_tr *f = c->t;
    struct fake_ev *e = &f->q[f->nq++];
    memset(e, 0, sizeof(*e));
    e->c = c;
    e->ev.type = type;
    e->ev.why = why;
    e->ev.msg = "";
    if (data) {
        snprintf(e->data, sizeof(e->data), "%s", data);
        e->ev.len = strlen(e->data);
    }
}

static void fake_close(struct tr_conn *c, int timeout_ms)
{
    (void)timeout_ms;
    c->closed = true;
    fake_queue(c, TR_EV_DOWN, TR_DOWN_CLOSED, NULL);
}

static void fake_free(struct tr_conn *c)
{
    if (c)
        c->freed = true; /* kept until fake_tr_free: its queued events are dropped */
}

static void fake_destroy(struct transport *t)
{
    (void)t;
}

static inline void fake_tr_init(struct fake_tr *f)
{
    memset(f, 0, sizeof(*f));
    f->t = (struct transport){"fake", fake_open, fake_send, fake_close, fake_free, fake_destroy};
}

static inline void fake_tr_free(struct fake_tr *f)
{
    for (int i = 0; i < f->nconns; i++)
        cs_free(f->conns[i]);
    f->nconns = 0;
}

/* Delivers the queued events of connections not freed, in order (as the loop would). */
static inline void fake_deliver(struct fake_tr *f)
{
    for (int i = 0; i < f->nq; i++) {
        struct fake_ev *e = &f->q[i];
        if (e->c->freed)
            continue;
        if (e->ev.type == TR_EV_UP)
            e->c->up = true;
        if (e->ev.type == TR_EV_DOWN)
            e->c->up = false;
        e->ev.data = e->data;
        e->c->fn(e->c->owner, &e->ev);
    }
    f->nq = 0;
}

/* The newest connection opened. */
static inline struct tr_conn *fake_last(struct fake_tr *f)
{
    return f->nconns ? f->conns[f->nconns - 1] : NULL;
}

/* ---- a worker context ------------------------------------------------------------------ */

struct fake_worker {
    struct agent_ctx x;
    struct worker_stats st;
};

static inline void fake_worker_init(struct fake_worker *w)
{
    memset(w, 0, sizeof(*w));
    w->x.base = event_base_new();
    w->x.ns = "t";
    snprintf(w->x.name, sizeof(w->x.name), "test.w0");
    w->x.st = &w->st;
    w->x.defer = defer_new(w->x.base);
    cs_rng_seed(&w->x.rng, 42);
    cfg_defaults(&cfg_fleet_schema, &w->x.fleet);
    cfg_defaults(&cfg_charger_schema, &w->x.base_cfg);
    idfmt_parse(&w->x.idf, w->x.fleet.id_format, NULL);
}

static inline void fake_worker_free(struct fake_worker *w)
{
    defer_free(w->x.defer);
    event_base_free(w->x.base);
}

/* One loop turn without waiting: due timers (and deferred work) run. */
static inline void fake_turn(struct fake_worker *w)
{
    event_base_loop(w->x.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

#endif
