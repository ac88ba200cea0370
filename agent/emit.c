/* emit.c - a charger's messages: the context a payload builder reads, and the CALL. [loop] */
#include <stdio.h>
#include <string.h>

#include "calls.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/tmpl.h"
#include "emit.h"
#include "persist.h"

void emit_ctx(struct charger_rt *ch, int conn, struct msg_ctx *x)
{
    int64_t now = cs_now_ms();
    memset(x, 0, sizeof(*x));
    charger_integrate(&ch->m, now);
    x->ch = &ch->m;
    x->cfg = crt_cfg(ch);
    x->now_ms = now;
    x->connector = conn;
    if (conn > 0 && ch->m.conn[conn].tx_active) {
        x->tx_id = ch->m.conn[conn].tx.id;
        x->id_tag = ch->m.conn[conn].tx.id_tag;
    }
    x->meter_wh = conn > 0 ? ch->m.conn[conn].meter_wh : charger_energy_wh(&ch->m);
}

void emit_tx_key(const struct charger_rt *ch, int conn, char out[EMIT_TX_KEY_MAX])
{
    /* unique across runs and takeovers: the start time is part of it (the local counter
     * starts again with a fresh state) */
    const struct tx *t = &ch->m.conn[conn].tx;
    snprintf(out, EMIT_TX_KEY_MAX, "%u-%llx-%ld", ch->m.index, (unsigned long long)t->start_ms,
             t->id < 0 ? -(long)t->id : (long)t->id);
}

int emit_tx_find(const struct charger_rt *ch, const char *key)
{
    char k[EMIT_TX_KEY_MAX];
    for (int i = 1; key && i <= ch->m.nconn; i++) {
        if (!ch->m.conn[i].tx_active)
            continue;
        emit_tx_key(ch, i, k);
        if (strcmp(k, key) == 0)
            return i;
    }
    return -1;
}

void emit_tx_event(struct charger_rt *ch, struct msg_ctx *x, const char *event,
                   char key[EMIT_TX_KEY_MAX])
{
    struct connector *k = x->connector > 0 ? &ch->m.conn[x->connector] : NULL;
    emit_tx_key(ch, x->connector > 0 ? x->connector : 1, key);
    x->tx_key = key;
    x->event_type = event;
    x->seq_no = k ? k->tx.seq++ : 0;
    x->offline = ch->link.state != LINK_UP;
    persist_mark(ch); /* the seqNo moved */
}

/* OCPP 2.0.1: what the 1.6-shaped session means, sent as 2.0.1 says it. A transaction's
 * start, readings and end are one TransactionEvent stream (Started, Updated, Ended) with its
 * own seqNo; the charge point itself (connector 0) has no StatusNotification; the readings of
 * Transaction.Begin travel in the Started event. */
static const struct msg_def *as_201(struct charger_rt *ch, enum msg_id id, struct msg_ctx *x,
                                    char key[EMIT_TX_KEY_MAX])
{
    struct connector *k = x->connector > 0 ? &ch->m.conn[x->connector] : NULL;
    const char *event = NULL;
    if (id == MSG_STATUS_NOTIFICATION && x->connector == 0)
        return NULL;
    if (id == MSG_START_TRANSACTION)
        event = "Started";
    else if (id == MSG_STOP_TRANSACTION)
        event = "Ended";
    else if (id == MSG_METER_VALUES && x->tx_id && k)
        event = x->context && strcmp(x->context, "Transaction.Begin") == 0 ? NULL : "Updated";
    if (id == MSG_METER_VALUES && x->tx_id && !event)
        return NULL; /* Transaction.Begin: in the Started event already */
    x->offline = ch->link.state != LINK_UP;
    if (!event)
        return catalog_v(OCPP_V201, id);
    emit_tx_event(ch, x, event, key);
    return strcmp(event, "Updated") == 0 ? catalog201_tx_event() : catalog_v(OCPP_V201, id);
}

int emit_msg(struct charger_rt *ch, enum msg_id id, const struct msg_ctx *x, unsigned flags,
             enum call_cont cont)
{
    struct cs_error err;
    const struct msg_def *m = catalog_get(id);
    struct msg_ctx x201;
    char key[EMIT_TX_KEY_MAX];
    if (crt_version(ch) == OCPP_V201) {
        x201 = *x;
        x = &x201;
        if (!(m = as_201(ch, id, &x201, key)))
            return CS_OK; /* nothing of the kind in 2.0.1 */
    }
    int rc = calls_send(&ch->calls, m, x, flags, cont, &err);
    if (rc)
        log_debug("%s: %s", ch->m.id, err.msg);
    return rc;
}

void emit_status(struct charger_rt *ch, int conn, const char *info)
{
    struct msg_ctx x;
    struct kvlist over = KVLIST_INIT;
    emit_ctx(ch, conn, &x);
    if (info && *info) {
        kv_set(&over, "info", info);
        x.over = &over;
    }
    emit_msg(ch, MSG_STATUS_NOTIFICATION, &x, 0, K_NONE);
    kv_free(&over);
}

void emit_id_tag(struct charger_rt *ch, const char *given, char out[21])
{
    if (given && *given) {
        cs_strlcpy(out, given, 21);
        return;
    }
    char idx[16];
    struct buf b = BUF_INIT;
    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {{"id", ch->m.id}, {"index", idx}};
    if (tmpl_render(crt_cfg(ch)->id_tag, vars, ARRAY_SIZE(vars), &b, NULL) != CS_OK)
        buf_puts(&b, "UNKNOWN");
    cs_strlcpy(out, buf_cstr(&b), 21);
    buf_free(&b);
}
