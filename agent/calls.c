/* calls.c - the CALL queue of a charger, its answers and timeouts. [loop] throughout. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "calls.h"
#include "charger_rt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "session.h"
#include "worker.h"

/* How long the first BootNotification after a connect waits for an answer before a charger
 * that has never been answered concludes nobody answers (and sends the rest at once). */
#define PROBE_US 2000000
#define CALLQ_MIN 256   /* CALLs a charger keeps queued at least ... */
#define CALLQ_MARGIN 32 /* ... or offline_queue plus this */

static void call_free(struct call *c)
{
    if (!c)
        return;
    cs_free(c->payload);
    cs_free(c);
}

unsigned calls_queued(const struct charger_rt *ch)
{
    return ch->cq_len;
}

static unsigned queued_tx(const struct charger_rt *ch)
{
    unsigned n = 0;
    for (const struct call *c = ch->cq_head; c; c = c->next)
        n += (c->flags & CALL_TX) != 0;
    return n;
}

static void unlink_head(struct charger_rt *ch)
{
    struct call *c = ch->cq_head;
    ch->cq_head = c->next;
    if (!ch->cq_head)
        ch->cq_tail = NULL;
    c->next = NULL;
    ch->cq_len--;
}

/* Online, a platform that answers slowly (one CALL outstanding at a time) would let reports
 * pile up without end: the queue holds the offline queue's worth plus a margin. */
static unsigned queue_cap(const struct charger_rt *ch)
{
    unsigned oq = (unsigned)crt_cfg(ch)->offline_queue;
    return oq + CALLQ_MARGIN > CALLQ_MIN ? oq + CALLQ_MARGIN : CALLQ_MIN;
}

/* Drops the oldest CALL not yet sent, a report before a transaction message. */
static void drop_oldest_unsent(struct charger_rt *ch)
{
    for (int pass = 0; pass < 2; pass++) {
        struct call **pp = &ch->cq_head, *prev = NULL;
        while (*pp && ((*pp)->sent_us || (pass == 0 && ((*pp)->flags & CALL_TX)))) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (!*pp)
            continue;
        struct call *old = *pp;
        *pp = old->next;
        if (ch->cq_tail == old)
            ch->cq_tail = prev;
        ch->cq_len--;
        call_free(old);
        ch->w->st.calls_dropped++;
        return;
    }
}

static void enqueue(struct charger_rt *ch, struct call *c)
{
    struct worker *w = ch->w;
    bool online = ch->link == LINK_UP;
    if (!online && !(c->flags & CALL_TX)) {
        w->st.msgs_dropped++;
        call_free(c);
        return;
    }
    if (!online && queued_tx(ch) >= (unsigned)crt_cfg(ch)->offline_queue) {
        /* Offline queue full: the oldest transaction message goes. */
        struct call **pp = &ch->cq_head, *prev = NULL;
        while (*pp && !((*pp)->flags & CALL_TX)) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            struct call *old = *pp;
            *pp = old->next;
            if (ch->cq_tail == old)
                ch->cq_tail = prev;
            ch->cq_len--;
            call_free(old);
            w->st.offline_dropped++;
        }
        if (crt_cfg(ch)->offline_queue == 0) {
            w->st.offline_dropped++;
            call_free(c);
            return;
        }
    }
    if (!online)
        w->st.offline_queued++;
    if (ch->cq_len >= queue_cap(ch))
        drop_oldest_unsent(ch);
    if (c->flags & CALL_FRONT) {
        c->next = ch->cq_head;
        ch->cq_head = c;
        if (!ch->cq_tail)
            ch->cq_tail = c;
    } else {
        if (ch->cq_tail)
            ch->cq_tail->next = c;
        else
            ch->cq_head = c;
        ch->cq_tail = c;
    }
    ch->cq_len++;
    calls_pump(ch);
}

int calls_send(struct charger_rt *ch, const struct msg_def *m, const struct msg_ctx *ctx,
               unsigned flags, enum call_cont cont, struct cs_error *err)
{
    struct buf payload = BUF_INIT;
    int rc = catalog_build_payload(m, ctx, &payload, err);
    if (rc) {
        buf_free(&payload);
        return rc;
    }
    struct call *c = cs_calloc(1, sizeof(*c));
    c->msg = m->id;
    cs_strlcpy(c->action, m->name, sizeof(c->action));
    c->len = payload.len;
    c->payload = buf_detach(&payload);
    c->ts_ms = ctx->now_ms;
    c->flags = flags;
    c->cont = cont;
    c->connector = ctx->connector;
    c->tx_id = ctx->tx_id;
    enqueue(ch, c);
    return CS_OK;
}

int calls_send_raw(struct charger_rt *ch, const char *action, const char *payload, size_t len,
                   unsigned flags, struct cs_error *err)
{
    (void)err;
    struct call *c = cs_calloc(1, sizeof(*c));
    c->msg = MSG_CUSTOM;
    cs_strlcpy(c->action, action, sizeof(c->action));
    c->payload = cs_strndup(payload, len);
    c->len = len;
    c->ts_ms = cs_now_ms();
    c->flags = flags;
    enqueue(ch, c);
    return CS_OK;
}

/* Replaces "transactionId":<from> by <to> in a serialised payload. */
static void patch_tx(struct call *c, int32_t from, int32_t to)
{
    char pat[48], rep[48];
    int pl = snprintf(pat, sizeof(pat), "\"transactionId\":%d", (int)from);
    int rl = snprintf(rep, sizeof(rep), "\"transactionId\":%d", (int)to);
    char *at = c->payload ? strstr(c->payload, pat) : NULL;
    if (!at || (at[pl] != ',' && at[pl] != '}'))
        return;
    struct buf b = BUF_INIT;
    buf_append(&b, c->payload, (size_t)(at - c->payload));
    buf_append(&b, rep, (size_t)rl);
    buf_puts(&b, at + pl);
    cs_free(c->payload);
    c->len = b.len;
    c->payload = buf_detach(&b);
}

void calls_tx_confirmed(struct charger_rt *ch, int32_t local, int32_t confirmed)
{
    for (struct call *c = ch->cq_head; c; c = c->next) {
        if (c->tx_id == local) {
            patch_tx(c, local, confirmed);
            c->tx_id = confirmed;
        }
    }
}

void calls_drop_connector(struct charger_rt *ch, int connector, enum msg_id msg)
{
    struct call **pp = &ch->cq_head, *prev = NULL;
    while (*pp) {
        struct call *c = *pp;
        if (c->connector == connector && c->msg == msg && !c->sent_us) {
            *pp = c->next;
            if (ch->cq_tail == c)
                ch->cq_tail = prev;
            ch->cq_len--;
            call_free(c);
            continue;
        }
        prev = c;
        pp = &c->next;
    }
}

static void arm_timeout(struct charger_rt *ch)
{
    if (ch->npending == 0 && !ch->probe_until_us) {
        evtimer_del(ch->call_ev);
        return;
    }
    int64_t due = ch->probe_until_us;
    for (int i = 0; i < ch->npending; i++) {
        int64_t d = ch->pending[i]->sent_us + (int64_t)crt_cfg(ch)->call_timeout_s * 1000000;
        if (!due || d < due)
            due = d;
    }
    int64_t left = due - cs_mono_us();
    if (left < 0)
        left = 0;
    struct timeval tv = {left / 1000000, left % 1000000};
    evtimer_add(ch->call_ev, &tv);
}

static void remove_pending(struct charger_rt *ch, int i)
{
    ch->pending[i] = ch->pending[--ch->npending];
}

/* Frames and publishes one CALL; it then waits in `pending` for its answer. */
static bool send_one(struct charger_rt *ch, struct call *c)
{
    struct worker *w = ch->w;
    struct buf frame = BUF_INIT, topic = BUF_INIT;
    struct cs_error err;
    cs_uuid4(&w->rng, c->uid);
    ocpp_encode_call(crt_profile(ch), c->uid, c->action, c->ts_ms, c->payload, c->len, &frame);
    int type = c->msg == MSG_CUSTOM ? MSG__COUNT : (int)c->msg;
    bool ok = crt_topic(ch, crt_cfg(ch)->topic_up, c->action, &topic, &err) == CS_OK;
    if (ok) {
        size_t len = frame.len;
        ok = crt_publish(ch, buf_cstr(&topic), buf_detach(&frame), len, type, &err) == CS_OK;
        if (ok)
            astats_up_sent(&w->st.act, c->action, len);
    }
    if (!ok)
        log_debug("%s: %s not sent: %s", ch->m.id, c->action, err.msg);
    buf_free(&frame);
    buf_free(&topic);
    ch->seq++;
    return ok;
}

/* CALLs sent since the platform answers, still waiting for their answer. (Those sent before
 * it ever answered were taken as delivered and only wait to be counted as timeouts.) */
static int outstanding(const struct charger_rt *ch)
{
    int n = 0;
    for (int i = 0; i < ch->npending; i++)
        n += !ch->pending[i]->cont_done;
    return n;
}

void calls_pump(struct charger_rt *ch)
{
    while (ch->cq_head && ch->link == LINK_UP) {
        struct call *c = ch->cq_head;
        bool strict = ch->platform_answers;
        if (strict && outstanding(ch) > 0)
            return; /* one outstanding CALL at a time */
        if (strict && !ch->boot_accepted && c->msg != MSG_BOOT_NOTIFICATION)
            return; /* nothing but BootNotification before it is Accepted */
        if (ch->probe_until_us)
            return; /* waiting to learn whether this platform answers */
        unlink_head(ch);
        if (!send_one(ch, c)) {
            call_free(c);
            continue;
        }
        c->sent_us = cs_mono_us();
        if (ch->npending == PENDING_MAX) {
            /* Bare broker: the oldest unanswered CALL is given up for this one. */
            int oldest = 0;
            for (int i = 1; i < ch->npending; i++)
                if (ch->pending[i]->sent_us < ch->pending[oldest]->sent_us)
                    oldest = i;
            ch->w->st.call_timeouts++;
            astats_up_timeout(&ch->w->st.act, ch->pending[oldest]->action);
            call_free(ch->pending[oldest]);
            remove_pending(ch, oldest);
        }
        ch->pending[ch->npending++] = c;
        if (!strict && c->msg == MSG_BOOT_NOTIFICATION && (c->flags & CALL_FRONT)) {
            /* Boot after a connect: the rest waits for its answer (or the probe's end), so a
             * platform that answers sees OCPP-J order from the first message on. */
            int64_t probe = (int64_t)crt_cfg(ch)->call_timeout_s * 1000000;
            ch->probe_until_us = c->sent_us + (probe < PROBE_US ? probe : PROBE_US);
            arm_timeout(ch);
            return;
        }
        if (!strict) {
            /* Nobody has answered this charger yet: go on as if accepted. */
            c->cont_done = true;
            session_on_answer(ch, c, NULL, NULL, false);
        }
        arm_timeout(ch);
    }
}

void calls_on_answer(struct charger_rt *ch, int type, const char *uid, const cJSON *payload,
                     const char *err_code)
{
    struct worker *w = ch->w;
    int i;
    for (i = 0; i < ch->npending; i++)
        if (strcmp(ch->pending[i]->uid, uid) == 0)
            break;
    if (i == ch->npending) {
        w->st.answers_unmatched++;
        log_debug("%s: answer to unknown or expired CALL %s", ch->m.id, uid);
        return;
    }
    struct call *c = ch->pending[i];
    remove_pending(ch, i);
    ch->probe_until_us = 0;
    w->st.answers++;
    ch->cs.answers++;
    ch->cs.conf_last_us = (uint32_t)(cs_mono_us() - c->sent_us);
    hist_add(&w->st.conf_us, (uint64_t)ch->cs.conf_last_us);
    astats_up_answer(&w->st.act, c->action, ch->cs.conf_last_us,
                     type == OCPP_ERROR ? err_code : NULL);
    if (!ch->platform_answers) {
        ch->platform_answers = true;
        log_debug("%s: the platform answers: one CALL at a time from now on", ch->m.id);
    }
    if (type == OCPP_ERROR) {
        w->st.callerrors_in++;
        log_debug("%s: %s answered with CALLERROR %s", ch->m.id, c->action, err_code);
    }
    if (!c->cont_done)
        session_on_answer(ch, c, type == OCPP_RESULT ? payload : NULL,
                          type == OCPP_ERROR ? err_code : NULL, true);
    else
        session_on_late_answer(ch, c, type == OCPP_RESULT ? payload : NULL);
    call_free(c);
    arm_timeout(ch);
    calls_pump(ch);
}

void calls_on_timeout(struct charger_rt *ch)
{
    int64_t now = cs_mono_us(), limit = (int64_t)crt_cfg(ch)->call_timeout_s * 1000000;
    if (ch->probe_until_us && now >= ch->probe_until_us) {
        /* Nobody answered the boot: go on without answers (it still times out, counted). */
        ch->probe_until_us = 0;
        for (int i = 0; i < ch->npending; i++) {
            struct call *c = ch->pending[i];
            if (!c->cont_done && !ch->platform_answers) {
                c->cont_done = true;
                session_on_answer(ch, c, NULL, NULL, false);
            }
        }
    }
    for (int i = 0; i < ch->npending;) {
        struct call *c = ch->pending[i];
        if (now - c->sent_us < limit) {
            i++;
            continue;
        }
        remove_pending(ch, i);
        ch->w->st.call_timeouts++;
        astats_up_timeout(&ch->w->st.act, c->action);
        ch->cs.call_timeouts++;
        if (!c->cont_done)
            session_on_answer(ch, c, NULL, NULL, true);
        call_free(c);
    }
    arm_timeout(ch);
    calls_pump(ch);
}

void calls_link_down(struct charger_rt *ch)
{
    /* Unanswered transaction CALLs of a platform that answers go back to the head, in order;
     * against a bare broker a sent CALL counts as delivered. */
    struct call *back = NULL, **tail = &back;
    for (int i = 0; i < ch->npending; i++) {
        struct call *c = ch->pending[i];
        if (ch->platform_answers && (c->flags & CALL_TX) && !c->cont_done) {
            c->sent_us = 0;
            *tail = c;
            tail = &c->next;
        } else {
            call_free(c);
        }
    }
    ch->npending = 0;
    ch->probe_until_us = 0;
    evtimer_del(ch->call_ev);
    if (back) {
        struct call *last = back;
        unsigned n = 1;
        while (last->next)
            last = last->next, n++;
        last->next = ch->cq_head;
        ch->cq_head = back;
        if (!ch->cq_tail)
            ch->cq_tail = last;
        ch->cq_len += n;
    }
    /* Keep transaction messages; the rest is stale by the time the link is back. */
    struct call **pp = &ch->cq_head, *prev = NULL;
    while (*pp) {
        struct call *c = *pp;
        if (!(c->flags & CALL_TX)) {
            *pp = c->next;
            if (ch->cq_tail == c)
                ch->cq_tail = prev;
            ch->cq_len--;
            ch->w->st.msgs_dropped++;
            call_free(c);
            continue;
        }
        prev = c;
        pp = &c->next;
    }
    ch->boot_accepted = false;
}

void calls_free(struct charger_rt *ch)
{
    while (ch->cq_head) {
        struct call *c = ch->cq_head;
        unlink_head(ch);
        call_free(c);
    }
    for (int i = 0; i < ch->npending; i++)
        call_free(ch->pending[i]);
    ch->npending = 0;
}
