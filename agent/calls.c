/* calls.c - the CALL queue of a charger, its answers and timeouts. [loop] throughout. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "calls.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "ctx.h"
#include "link.h"

/* How long the first BootNotification after a connect waits for an answer before a charger
 * that has never been answered concludes nobody answers (and sends the rest at once). */
#define PROBE_US 2000000
#define SHARED_SLACK_US 2000 /* a CALL timer may fire this much late to share its queue */
#define CALLQ_MIN 256        /* CALLs a charger keeps queued at least ... */
#define CALLQ_MARGIN 32      /* ... or offline_queue plus this */

static const struct charger_cfg *cfg_of(const struct callq *q)
{
    return q->env->cfg(q);
}

static struct worker_stats *st_of(const struct callq *q)
{
    return q->env->x->st;
}

static void call_free(struct call *c)
{
    if (!c)
        return;
    cs_free(c->payload);
    if (c->answer)
        cJSON_Delete(c->answer);
    cs_free(c);
}

unsigned calls_queued(const struct callq *q)
{
    return q->len;
}

/* ---- ended CALLs: their continuations run on the next loop turn -------------------------- */

static void on_done(void *privdata)
{
    struct callq *q = privdata;
    struct call *list = q->done;
    q->done = q->done_tail = NULL;
    while (list) {
        struct call *c = list;
        list = c->next;
        c->next = NULL;
        q->env->on_end(q, c);
        call_free(c);
    }
}

/* Queues c's continuation. A CALL that stays pending (assumed delivered, it still waits to be
 * counted when it times out) is represented by a copy. */
static void finish(struct callq *q, struct call *c, enum call_end end, cJSON *answer,
                   const char *code, bool stays)
{
    struct call *d = c;
    if (stays) {
        d = cs_malloc(sizeof(*d));
        *d = *c;
        d->payload = NULL;
    } else {
        cs_free(c->payload);
        c->payload = NULL;
    }
    d->next = NULL;
    d->end = end;
    d->answer = answer;
    cs_strlcpy(d->err_code, code ? code : "", sizeof(d->err_code));
    if (q->done_tail)
        q->done_tail->next = d;
    else
        q->done = d;
    q->done_tail = d;
    defer_add(q->env->x->defer, &q->done_defer, on_done, q);
}

/* ---- the queue ------------------------------------------------------------------------------ */

unsigned calls_queued_tx(const struct callq *q)
{
    unsigned n = 0;
    for (const struct call *c = q->head; c; c = c->next)
        n += (c->flags & CALL_TX) != 0;
    return n;
}

static void unlink_head(struct callq *q)
{
    struct call *c = q->head;
    q->head = c->next;
    if (!q->head)
        q->tail = NULL;
    c->next = NULL;
    q->len--;
}

/* Removes the first queued CALL that `pick` accepts; returns it, or NULL. */
static struct call *
unlink_first(struct callq *q, bool (*pick)(const struct call *c, const void *arg), const void *arg)
{
    struct call **pp = &q->head, *prev = NULL;
    while (*pp && !pick(*pp, arg)) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    struct call *c = *pp;
    if (!c)
        return NULL;
    *pp = c->next;
    if (q->tail == c)
        q->tail = prev;
    c->next = NULL;
    q->len--;
    return c;
}

static bool is_tx(const struct call *c, const void *arg)
{
    (void)arg;
    return (c->flags & CALL_TX) != 0;
}

static bool unsent_report(const struct call *c, const void *arg)
{
    (void)arg;
    return !c->sent_us && !(c->flags & CALL_TX);
}

/* Online, a platform that answers slowly (one CALL outstanding at a time) would let reports
 * pile up without end: the queue holds the offline queue's worth plus a margin. */
static unsigned queue_cap(const struct callq *q)
{
    unsigned oq = (unsigned)cfg_of(q)->offline_queue;
    return oq + CALLQ_MARGIN > CALLQ_MIN ? oq + CALLQ_MARGIN : CALLQ_MIN;
}

/* Queues c and sends what may go. The outcome for c itself: CS_OK when it is sent or waits its
 * turn; an error (err filled) when it was dropped: offline and not a transaction message, no
 * room in the queue, or refused by the link (its send queue is full). */
static int enqueue(struct callq *q, struct call *c, struct cs_error *err)
{
    struct worker_stats *st = st_of(q);
    bool online = q->link->state == LINK_UP;
    if (!online && !(c->flags & CALL_TX)) {
        st->msgs_dropped++;
        call_free(c);
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", q->id,
                            link_state_name(q->link->state));
    }
    if (!online && calls_queued_tx(q) >= (unsigned)cfg_of(q)->offline_queue) {
        /* Offline queue full: the oldest transaction message goes. */
        struct call *old = unlink_first(q, is_tx, NULL);
        if (old) {
            call_free(old);
            st->offline_dropped++;
        }
        if (cfg_of(q)->offline_queue == 0) {
            st->offline_dropped++;
            call_free(c);
            return cs_error_set(err, CS_ERR_STATE, "%s: offline, and offline_queue is 0", q->id);
        }
    }
    if (!online)
        st->offline_queued++;
    if (q->len >= queue_cap(q)) {
        /* Full: a transaction message makes room by dropping the oldest unsent report; a report
         * finds no room and is refused (its sender hears of it). */
        struct call *old = (c->flags & CALL_TX) ? unlink_first(q, unsent_report, NULL) : NULL;
        st->calls_dropped++;
        if (!old) {
            call_free(c);
            return cs_error_set(err, CS_ERR_TOO_BIG, "%s: CALL queue full (%u waiting)", q->id,
                                q->len);
        }
        call_free(old);
    }
    if (c->flags & CALL_FRONT) {
        c->next = q->head;
        q->head = c;
        if (!q->tail)
            q->tail = c;
    } else {
        if (q->tail)
            q->tail->next = c;
        else
            q->head = c;
        q->tail = c;
    }
    q->len++;
    q->fresh = c;
    q->fresh_rc = CS_OK;
    calls_pump(q);
    q->fresh = NULL;
    if (q->fresh_rc != CS_OK)
        return cs_error_set(err, q->fresh_rc, "%s", q->fresh_err);
    return CS_OK;
}

int calls_send(struct callq *q, const struct msg_def *m, const struct msg_ctx *ctx, unsigned flags,
               enum call_cont cont, struct cs_error *err)
{
    struct buf payload = BUF_INIT;
    struct msg_marks marks = {0, 0};
    int rc = catalog_build_payload_marked(m, ctx, &payload, &marks, err);
    if (rc) {
        buf_free(&payload);
        return rc;
    }
    struct call *c = cs_calloc(1, sizeof(*c));
    c->msg = m->id;
    cs_strlcpy(c->action, m->name, sizeof(c->action));
    c->len = payload.len;
    c->payload = buf_detach(&payload);
    c->marks = marks;
    c->ts_ms = ctx->now_ms;
    c->flags = flags;
    c->cont = cont;
    c->connector = ctx->connector;
    c->tx_id = ctx->tx_id;
    if (cont == K_AUTHORIZE && ctx->id_tag)
        cs_strlcpy(c->id_tag, ctx->id_tag, sizeof(c->id_tag));
    c->version = q->version;
    return enqueue(q, c, err);
}

int calls_send_raw(struct callq *q, const char *action, const char *payload, size_t len,
                   unsigned flags, struct cs_error *err)
{
    struct call *c = cs_calloc(1, sizeof(*c));
    c->msg = MSG_CUSTOM;
    cs_strlcpy(c->action, action, sizeof(c->action));
    c->payload = cs_strndup(payload, len);
    c->len = len;
    c->ts_ms = cs_now_ms();
    c->flags = flags;
    c->version = q->version;
    return enqueue(q, c, err);
}

static bool other_version(const struct call *c, const void *arg)
{
    return c->version != *(const uint8_t *)arg;
}

void calls_set_version(struct callq *q, uint8_t version)
{
    struct call *c;
    q->version = version;
    while ((c = unlink_first(q, other_version, &version))) {
        st_of(q)->msgs_dropped++;
        call_free(c);
    }
}

/* The transactionId at c's mark becomes `to`. */
static void patch_tx(struct call *c, int32_t to)
{
    if (!c->marks.tx_len || !c->payload || c->marks.tx_at + c->marks.tx_len > c->len)
        return;
    char rep[16];
    int rl = snprintf(rep, sizeof(rep), "%d", (int)to);
    struct buf b = BUF_INIT;
    buf_append(&b, c->payload, c->marks.tx_at);
    buf_append(&b, rep, (size_t)rl);
    buf_append(&b, c->payload + c->marks.tx_at + c->marks.tx_len,
               c->len - c->marks.tx_at - c->marks.tx_len);
    cs_free(c->payload);
    c->len = b.len;
    c->marks.tx_len = (size_t)rl;
    c->payload = buf_detach(&b);
}

void calls_tx_confirmed(struct callq *q, int32_t local, int32_t confirmed)
{
    for (struct call *c = q->head; c; c = c->next) {
        if (c->tx_id == local) {
            patch_tx(c, confirmed);
            c->tx_id = confirmed;
        }
    }
}

struct conn_msg {
    int connector;
    enum msg_id msg;
};

static bool unsent_of(const struct call *c, const void *arg)
{
    const struct conn_msg *cm = arg;
    return c->connector == cm->connector && c->msg == cm->msg && !c->sent_us;
}

void calls_drop_connector(struct callq *q, int connector, enum msg_id msg)
{
    struct conn_msg cm = {connector, msg};
    struct call *c;
    while ((c = unlink_first(q, unsent_of, &cm)))
        call_free(c);
}

/* ---- sending and answers -------------------------------------------------------------------- */

static void arm_timeout(struct callq *q)
{
    if (q->npending == 0 && !q->probe_until_us) {
        evtimer_del(q->timer);
        return;
    }
    int64_t due = q->probe_until_us;
    for (int i = 0; i < q->npending; i++) {
        int64_t d = q->pending[i]->sent_us + (int64_t)cfg_of(q)->call_timeout_s * 1000000;
        if (!due || d < due)
            due = d;
    }
    int64_t left = due - cs_mono_us(), whole = (int64_t)cfg_of(q)->call_timeout_s * 1000000;
    if (left < 0)
        left = 0;
    if (left > whole - SHARED_SLACK_US && left <= whole) {
        /* The usual case, one CALL just sent: the duration every charger's timer has (at
         * most SHARED_SLACK_US late, never early; on_timer counts from each CALL's own
         * sending time). A boot probe further away than a timeout keeps its own delay. */
        ctx_arm_shared(q->timer, whole / 1000);
        return;
    }
    struct timeval tv = {left / 1000000, left % 1000000};
    evtimer_add(q->timer, &tv);
}

static void remove_pending(struct callq *q, int i)
{
    q->pending[i] = q->pending[--q->npending];
}

/* Frames and sends one CALL; it then waits in `pending` for its answer. */
static bool send_one(struct callq *q, struct call *c)
{
    struct agent_ctx *x = q->env->x;
    struct buf frame = BUF_INIT;
    struct cs_error err;
    cs_uuid4(&x->rng, c->uid);
    ocpp_encode_call(ocpp_profile_of(cfg_of(q)->profile), c->uid, c->action, c->ts_ms, c->payload,
                     c->len, &frame);
    int rc = link_send(q->link, TR_CALL, c->action, frame.s, frame.len, &err);
    if (rc == CS_OK && q->dup_next) {
        /* Chaos: this message goes out twice, byte for byte (same message id). */
        q->dup_next = false;
        if (link_send(q->link, TR_CALL, c->action, frame.s, frame.len, &err) == CS_OK)
            x->st->duplicated++;
    }
    if (rc == CS_OK) {
        astats_up_sent(&x->st->act, c->action, frame.len);
        if (c->msg == MSG_CUSTOM)
            x->st->out_custom++;
        else
            x->st->out_by_type[c->msg]++;
    } else {
        log_debug("%s: %s not sent: %s", q->id, c->action, err.msg);
        if (c == q->fresh) {
            q->fresh_rc = rc;
            cs_strlcpy(q->fresh_err, err.msg, sizeof(q->fresh_err));
        }
    }
    buf_free(&frame);
    q->seq++;
    return rc == CS_OK;
}

/* CALLs sent since the platform answers, still waiting for their answer. (Those sent before
 * it ever answered were taken as delivered and only wait to be counted as timeouts.) */
static int outstanding(const struct callq *q)
{
    int n = 0;
    for (int i = 0; i < q->npending; i++)
        n += !q->pending[i]->assumed;
    return n;
}

void calls_pump(struct callq *q)
{
    while (q->head && q->link->state == LINK_UP) {
        struct call *c = q->head;
        bool strict = q->platform_answers;
        if (strict && outstanding(q) > 0)
            return; /* one outstanding CALL at a time */
        if (strict && !q->accepted && c->msg != MSG_BOOT_NOTIFICATION)
            return; /* nothing but BootNotification before it is Accepted */
        if (q->probe_until_us)
            return; /* waiting to learn whether this platform answers */
        unlink_head(q);
        if (!send_one(q, c)) {
            call_free(c);
            continue;
        }
        c->sent_us = cs_mono_us();
        if (q->npending == PENDING_MAX) {
            /* Bare broker: the oldest unanswered CALL is given up for this one. */
            int oldest = 0;
            for (int i = 1; i < q->npending; i++)
                if (q->pending[i]->sent_us < q->pending[oldest]->sent_us)
                    oldest = i;
            st_of(q)->call_timeouts++;
            astats_up_timeout(&st_of(q)->act, q->pending[oldest]->action);
            call_free(q->pending[oldest]);
            remove_pending(q, oldest);
        }
        q->pending[q->npending++] = c;
        if (!strict && c->msg == MSG_BOOT_NOTIFICATION && (c->flags & CALL_FRONT)) {
            /* Boot after a connect: the rest waits for its answer (or the probe's end), so a
             * platform that answers sees OCPP-J order from the first message on. */
            int64_t probe = (int64_t)cfg_of(q)->call_timeout_s * 1000000;
            q->probe_until_us = c->sent_us + (probe < PROBE_US ? probe : PROBE_US);
            arm_timeout(q);
            return;
        }
        if (!strict) {
            /* Nobody has answered this charger yet: go on as if accepted. */
            c->assumed = true;
            finish(q, c, CE_ASSUMED, NULL, NULL, true);
        }
        arm_timeout(q);
    }
}

void calls_on_answer(struct callq *q, int type, const char *uid, cJSON *payload,
                     const char *err_code)
{
    struct worker_stats *st = st_of(q);
    int i;
    for (i = 0; i < q->npending; i++)
        if (strcmp(q->pending[i]->uid, uid) == 0)
            break;
    if (i == q->npending) {
        st->answers_unmatched++;
        log_debug("%s: answer to unknown or expired CALL %s", q->id, uid);
        if (payload)
            cJSON_Delete(payload);
        return;
    }
    struct call *c = q->pending[i];
    remove_pending(q, i);
    q->probe_until_us = 0;
    st->answers++;
    q->answers++;
    q->conf_last_us = (uint32_t)(cs_mono_us() - c->sent_us);
    hist_add(&st->conf_us, (uint64_t)q->conf_last_us);
    astats_up_answer(&st->act, c->action, q->conf_last_us, type == OCPP_ERROR ? err_code : NULL);
    if (!q->platform_answers) {
        q->platform_answers = true;
        log_debug("%s: the platform answers: one CALL at a time from now on", q->id);
    }
    if (type == OCPP_ERROR) {
        st->callerrors_in++;
        log_debug("%s: %s answered with CALLERROR %s", q->id, c->action, err_code);
    }
    if (!c->assumed)
        finish(q, c, type == OCPP_RESULT ? CE_RESULT : CE_ERROR,
               type == OCPP_RESULT ? payload : NULL, type == OCPP_ERROR ? err_code : NULL, false);
    else
        finish(q, c, CE_LATE, type == OCPP_RESULT ? payload : NULL, NULL, false);
    if (type != OCPP_RESULT && payload)
        cJSON_Delete(payload);
    arm_timeout(q);
    calls_pump(q);
}

static void on_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct callq *q = privdata;
    int64_t now = cs_mono_us(), limit = (int64_t)cfg_of(q)->call_timeout_s * 1000000;
    if (q->probe_until_us && now >= q->probe_until_us) {
        /* Nobody answered the boot: go on without answers (it still times out, counted). */
        q->probe_until_us = 0;
        for (int i = 0; i < q->npending; i++) {
            struct call *c = q->pending[i];
            if (!c->assumed && !q->platform_answers) {
                c->assumed = true;
                finish(q, c, CE_ASSUMED, NULL, NULL, true);
            }
        }
    }
    for (int i = 0; i < q->npending;) {
        struct call *c = q->pending[i];
        if (now - c->sent_us < limit) {
            i++;
            continue;
        }
        remove_pending(q, i);
        st_of(q)->call_timeouts++;
        astats_up_timeout(&st_of(q)->act, c->action);
        q->timeouts++;
        if (!c->assumed)
            finish(q, c, CE_TIMEOUT, NULL, NULL, false);
        else
            call_free(c);
    }
    arm_timeout(q);
    calls_pump(q);
}

void calls_set_accepted(struct callq *q, bool accepted)
{
    q->accepted = accepted;
    if (accepted)
        calls_pump(q);
}

void calls_link_down(struct callq *q)
{
    /* Unanswered transaction CALLs of a platform that answers go back to the head, in order;
     * against a bare broker a sent CALL counts as delivered. */
    struct call *back = NULL, **tail = &back;
    for (int i = 0; i < q->npending; i++) {
        struct call *c = q->pending[i];
        if (q->platform_answers && (c->flags & CALL_TX) && !c->assumed) {
            c->sent_us = 0;
            *tail = c;
            tail = &c->next;
        } else {
            call_free(c);
        }
    }
    q->npending = 0;
    q->probe_until_us = 0;
    evtimer_del(q->timer);
    if (back) {
        struct call *last = back;
        unsigned n = 1;
        while (last->next)
            last = last->next, n++;
        last->next = q->head;
        q->head = back;
        if (!q->tail)
            q->tail = last;
        q->len += n;
    }
    /* Keep transaction messages; the rest is stale by the time the link is back. */
    struct call *c;
    while ((c = unlink_first(q, unsent_report, NULL))) {
        st_of(q)->msgs_dropped++;
        call_free(c);
    }
    q->accepted = false;
}

void calls_init(struct callq *q, const struct calls_env *env, struct link *link, const char *id)
{
    memset(q, 0, sizeof(*q));
    q->env = env;
    q->link = link;
    q->id = id;
    q->timer = evtimer_new(env->x->base, on_timer, q);
}

void calls_fini(struct callq *q)
{
    defer_cancel(q->env->x->defer, &q->done_defer);
    while (q->done) {
        struct call *c = q->done;
        q->done = c->next;
        call_free(c);
    }
    q->done_tail = NULL;
    while (q->head) {
        struct call *c = q->head;
        unlink_head(q);
        call_free(c);
    }
    for (int i = 0; i < q->npending; i++)
        call_free(q->pending[i]);
    q->npending = 0;
    if (q->timer)
        event_free(q->timer);
    q->timer = NULL;
}
